#!/usr/bin/env node
// Benchmark (not a test): times the built CLI as whole processes on two generated trees and, when
// it can be had, Debian's mdevctl 1.2.0 on the same trees in the same run, alternating with ours.
//
//   npm run bench                      full sizes (the issue's trees A and B), 10 runs, 1 warm-up
//   npm run bench -- --scale 1,4       the same at ×1 and ×4, and the per-item ratio between them
//   npm run bench -- --node /opt/node24/bin/node   our CLI (and the floor) under another Node
//   node scripts/bench.mjs --quick     tiny trees, 1 run, no warm-up (what the test runs)
//
// Options (each takes a number unless noted):
//   --parents-a 64 --types-a 16 --defined 10000 --running 2000    tree A (list, define, memory)
//   --parents-b 256 --types-b 32                                   tree B (types; nothing defined)
//   --scale K[,K...]              sizes × K (parents and devices; types per parent stay), one
//                                 table per size, then per command the ratio at each size and the
//                                 per-item ratio between the smallest and largest size (default 1)
//   --node PATH                   run our CLI, and `node -e 0`, with this Node (default: the one
//                                 running the bench)
//   --runs 10 --warmup 1
//   --startup-runs 40             runs of the start-up rows (node -e 0, --version, list on an
//                                 empty root): measured in rounds, one run of each per round in
//                                 a rotating order, so a drift of the machine moves the floor and
//                                 ours alike (1 ms is 3 % of a 35 ms process: it takes many runs)
//   --reference auto|no|require   run mdevctl 1.2.0 too (auto: when it can be set up; it needs
//                                 root and the package, see scripts/reference-mdevctl.sh)
//   --only REGEX                  only the commands whose label matches (e.g. --only 'list -d')
//   --keep                        leave the generated trees (their path is printed)
//   --env NAME=VALUE              set this in our CLI's environment (repeatable), e.g.
//                                 MDEVCTL_NATIVE=off (JavaScript readers only) or
//                                 MDEVCTL_NATIVE_THREADS=1 (the native reader on one thread)
//   --side-by-side                instead of the above: every CLI side by side in one run, each
//                                 command's runs interleaved (a rotating order per round): our
//                                 Node build, the executable (--exe, default dist/mdevctl from
//                                 `npm run build:exe`), upstream 1.4.0 and 1.2.0 (when they can be
//                                 set up); on a small-host tree (4 parents x 4 types, 8 defined,
//                                 2 running) and trees A and B at the largest --scale (default 4
//                                 here), with the issue-21 targets checked: exe <= 4x 1.4.0 on the
//                                 small host, exe <= 0.5x 1.4.0 and <= the Node build on A and B.
//                                 1.4.0 runs with trixie's loader and libc from the reference cache
//                                 (scripts/reference-mdevctl.sh) on MDEVCTL_ENV_ROOT, no chroot
//                                 (1.2.0's chroot cannot hold both); 1.2.0 as above
//   --exe PATH                    the executable for --side-by-side
//   --threads-threshold           instead of the above: time the native reader (dist/fastio.node)
//                                 in-process on batches of 64 to 16384 files of a tree B, with 1
//                                 thread and with 2..CPUs, to see from which batch size threads
//                                 pay (the addon's default: 256 files per thread); no reference;
//                                 with --quick up to 1024 files
//
// Every command runs as its own process with stdout and stderr piped back, the way libvirt runs
// it. Reported times are medians of wall-clock milliseconds per process. "ours/1.2.0" < 1 means
// ours is faster. Peak memory is the child's maximum resident set size, from /usr/bin/time when
// present (else, for ours only, from a preload that reads process.resourceUsage() at exit).
//
// Output equality: for every command both stdouts must be byte-identical, and exit statuses equal;
// the bench exits 1 when they are not (a time for a different answer means nothing). 1.2.0 ends
// `list`/`types` output with one extra newline that 1.4 (and we) do not print; that newline is
// dropped from 1.2.0's stdout before comparing (as test/support/reference.ts does).
//
// Per item: (ours at the largest size - ours at the smallest) / (the same for 1.2.0), i.e. the
// cost of each further parent, type or device with start-up and fixed costs taken out.
// mdevctl 1.2.0 differs from 1.4 in the active listing (`list` without -d): it takes a running
// device's type and attributes from its definition, 1.4 from sysfs (type) and callouts (attrs).
// Tree A is built so that the two rules agree: each running device has a definition with the same
// parent and type as in sysfs and no attributes (the definitions of stopped devices do have
// attributes, so `list -d --dumpjson` carries them).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(REPO, 'bin', 'mdevctl');
const REF_SCRIPT = path.join(REPO, 'scripts', 'reference-mdevctl.sh');
const MAX_BUFFER = 1 << 30;

// ---------------------------------------------------------------------------------------------
// Options

const DEFAULTS = {
  'parents-a': 64,
  'types-a': 16,
  defined: 10000,
  running: 2000,
  'parents-b': 256,
  'types-b': 32,
  runs: 10,
  'startup-runs': 40,
  warmup: 1,
  reference: 'auto',
  keep: false,
  only: null,
  scale: [1],
  node: process.execPath,
  env: [],
  'threads-threshold': false,
  'side-by-side': false,
  exe: path.join(REPO, 'dist', 'mdevctl'),
};
const QUICK = { 'parents-a': 2, 'types-a': 2, defined: 6, running: 2, 'parents-b': 2, 'types-b': 3, runs: 1, 'startup-runs': 1, warmup: 0 };

function usage(msg) {
  if (msg) process.stderr.write(`bench: ${msg}\n`);
  process.stderr.write(
    fs
      .readFileSync(fileURLToPath(import.meta.url), 'utf8')
      .split('\nimport ')[0]
      .split('\n')
      .filter((l) => l.startsWith('//'))
      .map((l) => l.replace(/^\/\/ ?/, ''))
      .join('\n') + '\n',
  );
  process.exit(msg ? 2 : 0);
}

function parseArgs(argv) {
  const o = { ...DEFAULTS };
  if (argv.includes('--quick')) Object.assign(o, QUICK, { quick: true });
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') continue;
    if (a === '-h' || a === '--help') usage();
    if (a === '--keep') {
      o.keep = true;
      continue;
    }
    if (a === '--threads-threshold') {
      o['threads-threshold'] = true;
      continue;
    }
    if (a === '--side-by-side') {
      o['side-by-side'] = true;
      continue;
    }
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m || !(m[1] in DEFAULTS)) usage(`unknown argument ${a}`);
    const v = m[2] ?? argv[++i];
    if (v === undefined) usage(`${a} needs a value`);
    if (m[1] === 'only') {
      o.only = new RegExp(v);
    } else if (m[1] === 'scale') {
      if (!/^\d+(,\d+)*$/.test(v)) usage(`--scale: sizes as numbers, comma-separated (1,4), not ${v}`);
      o.scale = [...new Set(v.split(',').map(Number))].sort((x, y) => x - y);
      if (o.scale[0] < 1) usage('--scale: each size at least 1');
    } else if (m[1] === 'node') {
      o.node = path.resolve(v);
      const r = spawnSync(o.node, ['-p', 'process.version'], { encoding: 'utf8' });
      if (r.status !== 0) usage(`--node ${v}: cannot run it (${r.error?.message ?? r.stderr.trim()})`);
      o.nodeVersion = r.stdout.trim();
    } else if (m[1] === 'exe') {
      o.exe = path.resolve(v);
    } else if (m[1] === 'env') {
      if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(v)) usage(`--env: NAME=VALUE, not ${v}`);
      o.env = [...o.env, v];
    } else if (m[1] === 'reference') {
      if (!['auto', 'no', 'require'].includes(v)) usage(`--reference: auto, no or require, not ${v}`);
      o.reference = v;
    } else {
      if (!/^\d+$/.test(v)) usage(`${a}: not a number: ${v}`);
      o[m[1]] = Number(v);
    }
  }
  if (o.running > o.defined) usage('--running cannot exceed --defined (running devices are defined ones)');
  if (o.runs < 1 || o['startup-runs'] < 1) usage('--runs and --startup-runs must be at least 1');
  if (o['parents-a'] < 1 || o['types-a'] < 1) usage('tree A needs at least one parent and one type');
  o.nodeVersion ??= process.version;
  return o;
}

// ---------------------------------------------------------------------------------------------
// Trees

/** Deterministic pseudo-random UUIDs (xorshift), lowercase hyphenated. */
function uuidMaker(seed) {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  return () => {
    let h = '';
    for (let i = 0; i < 4; i++) h += next().toString(16).padStart(8, '0');
    h = `${h.slice(0, 12)}4${h.slice(13, 16)}${'89ab'[next() & 3]}${h.slice(17)}`;
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
  };
}

/** SR-IOV style VF addresses: 8 functions per bus, buses from 0x10 up. */
function parentName(i) {
  return `0000:${(0x10 + (i >> 3)).toString(16).padStart(2, '0')}:00.${i & 7}`;
}

function typeName(j) {
  return `nvidia-${555 + j}`;
}

function mkdirs(dir) {
  fs.mkdirSync(dir, { recursive: true });
}

/** A root with parents × types (NVIDIA SR-IOV style), the standard dirs, and no devices yet. */
function makeParents(root, nParents, nTypes) {
  for (const d of ['etc/mdevctl.d', 'usr/lib/mdevctl/scripts.d/callouts', 'usr/lib/mdevctl/scripts.d/notifiers', 'sys/class/mdev_bus', 'sys/bus/mdev/devices'])
    mkdirs(path.join(root, d));
  const parents = [];
  for (let i = 0; i < nParents; i++) {
    const name = parentName(i);
    const dir = path.join(root, 'sys/devices/pci0000:00', name);
    const types = [];
    for (let j = 0; j < nTypes; j++) {
      const type = typeName(j);
      const td = path.join(dir, 'mdev_supported_types', type);
      mkdirs(path.join(td, 'devices'));
      const fb = 1024 << (j % 6);
      fs.writeFileSync(path.join(td, 'available_instances'), `${(i + j) % 5 === 0 ? 0 : 1 + (j % 3)}\n`);
      fs.writeFileSync(path.join(td, 'device_api'), 'vfio-pci\n');
      fs.writeFileSync(path.join(td, 'create'), '');
      fs.writeFileSync(path.join(td, 'name'), `NVIDIA A40-${fb >> 10}${'BQAC'[j % 4]}\n`);
      if (j % 8 !== 7) {
        fs.writeFileSync(
          path.join(td, 'description'),
          `num_heads=4, frl_config=60, framebuffer=${fb}M, max_resolution=5120x2880, max_instance=${49152 / fb}\n`,
        );
      }
      types.push({ type, dir: td });
    }
    fs.symlinkSync(`../../devices/pci0000:00/${name}`, path.join(root, 'sys/class/mdev_bus', name));
    parents.push({ name, dir, types });
  }
  return parents;
}

/** Tree A: parents × types, DEFINED definitions spread over the parents, RUNNING of them running. */
function makeTreeA(root, o) {
  const parents = makeParents(root, o['parents-a'], o['types-a']);
  const uuid = uuidMaker(0x5eed);
  const step = o.running > 0 ? o.defined / o.running : Infinity;
  let nextRunning = 0;
  for (let k = 0; k < o.defined; k++) {
    const p = parents[k % parents.length];
    const t = p.types[Math.floor(k / parents.length) % p.types.length];
    const u = uuid();
    const running = nextRunning < o.running && k >= Math.floor(nextRunning * step);
    const attrs = running || k % 3 === 0 ? [] : [{ 'nvidia/vgpu_params': `frame_rate_limiter=${k % 2}` }];
    if (k % 7 === 1 && !running) attrs.push({ 'nvidia/vgpu_params2': 'enable_uvm=1' });
    const cfg = { mdev_type: t.type, start: k % 2 === 0 ? 'auto' : 'manual', attrs };
    const cdir = path.join(root, 'etc/mdevctl.d', p.name);
    if (k < parents.length) mkdirs(cdir);
    fs.writeFileSync(path.join(cdir, u), JSON.stringify(cfg, null, 2));
    if (running) {
      nextRunning++;
      const dd = path.join(p.dir, u);
      mkdirs(dd);
      fs.symlinkSync(`../mdev_supported_types/${t.type}`, path.join(dd, 'mdev_type'));
      fs.writeFileSync(path.join(dd, 'remove'), '');
      fs.symlinkSync(`../../../${u}`, path.join(t.dir, 'devices', u));
      fs.symlinkSync(`../../../devices/pci0000:00/${p.name}/${u}`, path.join(root, 'sys/bus/mdev/devices', u));
    }
  }
  return { parent: parents[0].name, type: parents[0].types[0].type, freeUuid: uuid() };
}

// ---------------------------------------------------------------------------------------------
// Running things

function ms(ns) {
  return Number(ns) / 1e6;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function exec(cmd, args, env) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: MAX_BUFFER, encoding: 'latin1' });
  const t1 = process.hrtime.bigint();
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  return { ms: ms(t1 - t0), status: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

const OUR_ENV = (() => {
  const env = { ...process.env };
  delete env.MDEVCTL_ENV_ROOT;
  delete env.NODE_OPTIONS;
  // on Node 18 and 20 it makes every start parse a CA bundle (~40 ms), floor and ours alike
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
})();
const REF_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' };

/** A runner: how to run ARGS on ROOT as a process (root null: no root given). */
const ours = {
  name: 'ours',
  node: process.execPath, // --node
  argv: (root, args) => [ours.node, [BIN, ...(root ? ['--root', root] : []), ...args]],
  env: OUR_ENV,
};
const theirs = {
  name: '1.2.0',
  argv: (root, args) => ['chroot', [root, '/usr/bin/mdevctl', ...args]],
  env: REF_ENV,
};
const nodeFloor = { name: 'node', argv: () => [ours.node, ['-e', '0']], env: OUR_ENV };

/** 1.2.0's stdout as 1.4 prints it: without the newline 1.2.0 adds after list/types output. */
function stdoutAs14(args, status, stdout) {
  const listing = args[0] === 'list' || args[0] === 'types';
  return listing && status === 0 && stdout.endsWith('\n') ? stdout.slice(0, -1) : stdout;
}

function runOnce(runner, root, args) {
  const [cmd, argv] = runner.argv(root, args);
  return exec(cmd, argv, runner.env);
}

/** Peak RSS in KiB of one run, or null when it cannot be measured. */
function peakKiB(runner, root, args) {
  const [cmd, argv] = runner.argv(root, args);
  if (fs.existsSync('/usr/bin/time')) {
    const out = path.join(os.tmpdir(), `mdevctl-bench-rss-${process.pid}`);
    const r = spawnSync('/usr/bin/time', ['-f', '%M', '-o', out, cmd, ...argv], { env: runner.env, stdio: ['ignore', 'ignore', 'ignore'] });
    const text = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '';
    fs.rmSync(out, { force: true });
    const m = /(\d+)\s*$/.exec(text);
    return r.status === 0 && m ? Number(m[1]) : null;
  }
  if (runner !== ours) return null;
  const pre = path.join(os.tmpdir(), `mdevctl-bench-rss-${process.pid}.cjs`);
  fs.writeFileSync(pre, "process.on('exit',()=>process.stderr.write('\\nMAXRSS '+process.resourceUsage().maxRSS+'\\n'))");
  try {
    const r = spawnSync(cmd, ['--require', pre, ...argv], { env: runner.env, encoding: 'utf8', maxBuffer: MAX_BUFFER });
    const m = /MAXRSS (\d+)/.exec(r.stderr ?? '');
    return m ? Number(m[1]) : null;
  } finally {
    fs.rmSync(pre, { force: true });
  }
}

/** Set up 1.2.0 in ROOTS through scripts/reference-mdevctl.sh; null, or why it cannot be had. */
function setupReference(roots) {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'not root (chroot needs root)';
  for (const root of roots) {
    const r = spawnSync('bash', [REF_SCRIPT, '--install', root], { encoding: 'utf8', timeout: 600_000 });
    if (r.error) return `cannot run ${REF_SCRIPT}: ${r.error.message}`;
    if (r.status !== 0) return (r.stderr || `setup exited with ${r.status}`).trim().replace(/^reference-mdevctl: /gm, '');
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// The benchmark

/** Tree sizes at scale K: parents and devices × K, types per parent unchanged. */
function scaled(o, k) {
  return {
    ...o,
    'parents-a': o['parents-a'] * k,
    defined: o.defined * k,
    running: o.running * k,
    'parents-b': o['parents-b'] * k,
  };
}

/** The rows at one size; start-up rows only with START (they do not depend on the size). */
function rowsFor(o, roots, a, start) {
  const defArgs = ['define', '-u', a.freeUuid, '-p', a.parent, '-t', a.type];
  const undefArgs = ['undefine', '-u', a.freeUuid];
  /** Rows: label, tree, root, steps (each a list of args run in sequence and timed together). */
  const rows = [
    { label: 'list', tree: 'A', root: roots.a, steps: [['list']] },
    { label: 'list -d', tree: 'A', root: roots.a, steps: [['list', '-d']] },
    { label: 'list -d --dumpjson', tree: 'A', root: roots.a, steps: [['list', '-d', '--dumpjson']] },
    { label: 'list --dumpjson', tree: 'A', root: roots.a, steps: [['list', '--dumpjson']] },
    { label: 'types', tree: 'B', root: roots.b, steps: [['types']] },
    { label: 'types --dumpjson', tree: 'B', root: roots.b, steps: [['types', '--dumpjson']] },
    { label: 'define + undefine', tree: 'A', root: roots.a, steps: [defArgs, undefArgs] },
  ];
  if (start) {
    rows.push(
      { label: 'node -e 0', tree: '-', root: null, steps: [[]], floor: true },
      // the version strings differ by design (1.4.0 / 1.2.0): not compared
      { label: '--version', tree: '-', root: roots.empty, steps: [['--version']], startup: true, differs: true },
      { label: 'list (empty root)', tree: 'empty', root: roots.empty, steps: [['list']], startup: true },
    );
  }
  return o.only ? rows.filter((r) => r.floor || o.only.test(r.label)) : rows;
}

/**
 * Times every row (ours and 1.2.0 alternately); mismatches pushed onto MISMATCHES. The start-up
 * rows are timed together in rounds (--startup-runs), the others one row after another (--runs).
 */
function measure(o, rows, withRef, mismatches) {
  const sample = (row, runner) => {
    let total = 0;
    const outs = [];
    for (const args of row.steps) {
      const r = runOnce(row.floor ? nodeFloor : runner, row.root, args);
      total += r.ms;
      outs.push(r);
    }
    return { ms: total, outs };
  };
  /** Run I of ROW: ours (and 1.2.0, first one then the other); kept after the warm-up runs. */
  const once = (row, i) => {
    const both = withRef && !row.floor;
    const compare = both && !row.differs;
    // alternate who goes first, so neither always runs on a warmer cache
    const order = both ? (i % 2 ? [theirs, ours] : [ours, theirs]) : [ours];
    const got = {};
    for (const runner of order) got[runner.name] = sample(row, runner);
    for (const r of got.ours.outs) {
      if (r.status !== 0 && !row.floor) {
        mismatches.push(`${row.label}: ours exited ${r.status}: ${r.stderr.trim().split('\n')[0]}`);
      }
    }
    if (compare) {
      got['1.2.0'].outs.forEach((t, k) => {
        const u = got.ours.outs[k];
        if (u.stdout !== stdoutAs14(row.steps[k], t.status, t.stdout) || u.status !== t.status) {
          mismatches.push(
            `${row.label} [${row.steps[k].join(' ')}]: outputs differ ` +
              `(ours ${u.stdout.length} bytes, exit ${u.status}; 1.2.0 ${t.stdout.length} bytes, exit ${t.status})`,
          );
        }
      });
    }
    if (i < o.warmup) return;
    row.ours.push(got.ours.ms);
    if (both) row.theirs.push(got['1.2.0'].ms);
  };
  for (const row of rows) {
    row.ours = [];
    row.theirs = [];
  }
  const start = rows.filter((r) => r.floor || r.startup);
  for (let i = 0; i < o.warmup + o['startup-runs']; i++) {
    for (let j = 0; j < start.length; j++) once(start[(i + j) % start.length], i);
  }
  for (const row of rows.filter((r) => !start.includes(r))) {
    for (let i = 0; i < o.warmup + o.runs; i++) once(row, i);
    if (row.tree === 'A' && row.steps.length === 1) {
      row.oursKiB = peakKiB(ours, row.root, row.steps[0]);
      if (withRef) row.theirsKiB = peakKiB(theirs, row.root, row.steps[0]);
    }
  }
}

/** A markdown table: HEADER cells, ROWS of cells; the first LEFT columns left-aligned. */
function markdown(header, rows, left) {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((t) => t[c].length)));
  const line = (cells) => `| ${cells.map((c, k) => (k < left ? c.padEnd(widths[k]) : c.padStart(widths[k]))).join(' | ')} |`;
  return `${line(header)}\n|${widths.map((w, k) => (k < left ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|\n` + `${rows.map(line).join('\n')}\n`;
}

const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

function sizeTable(o, k, rows, floor) {
  const s = scaled(o, k);
  const fmtMs = (xs) => (xs.length ? median(xs).toFixed(1) : '-');
  const fmtMiB = (kib) => (kib == null ? '-' : (kib / 1024).toFixed(1));
  const header = ['command', 'tree', 'ours ms', '1.2.0 ms', 'ours/1.2.0', 'ours/node', 'ours MiB', '1.2.0 MiB'];
  const cells = rows.map((r) => [
    r.label,
    r.tree,
    fmtMs(r.ours),
    fmtMs(r.theirs),
    r.theirs.length ? (median(r.ours) / median(r.theirs)).toFixed(2) : '-',
    (r.startup || r.floor) && floor ? (median(r.ours) / floor).toFixed(2) : '-',
    fmtMiB(r.oursKiB),
    fmtMiB(r.theirsKiB),
  ]);
  return (
    `\nx${k}: tree A: ${s['parents-a']} parents x ${s['types-a']} types, ${s.defined} defined, ${s.running} running; ` +
    `tree B: ${s['parents-b']} parents x ${s['types-b']} types, nothing defined (load after: ${load()})\n\n` +
    markdown(header, cells, 2)
  );
}

/** Per command: ours/1.2.0 at each size, and per item between the smallest and largest size. */
function summary(o, bySize) {
  const ks = o.scale;
  const labels = bySize
    .get(ks[0])
    .filter((r) => !r.floor && !r.startup && r.theirs.length)
    .map((r) => r.label);
  if (labels.length === 0) return '';
  const first = ks[0];
  const last = ks[ks.length - 1];
  const header = ['command', ...ks.map((k) => `x${k}`), ...(ks.length > 1 ? [`per item x${first}-x${last}`] : [])];
  const cells = labels.map((label) => {
    const at = (k) => bySize.get(k).find((r) => r.label === label);
    const row = [label, ...ks.map((k) => (median(at(k).ours) / median(at(k).theirs)).toFixed(2))];
    if (ks.length > 1) {
      const dOurs = median(at(last).ours) - median(at(first).ours);
      const dTheirs = median(at(last).theirs) - median(at(first).theirs);
      row.push(dTheirs > 0 ? (dOurs / dTheirs).toFixed(2) : '-');
    }
    return row;
  });
  return `\nours/1.2.0 by size${ks.length > 1 ? ', and per item (the difference between sizes)' : ''}:\n\n${markdown(header, cells, 1)}`;
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(path.join(REPO, 'dist', 'cli.cjs'))) {
    process.stderr.write('bench: dist/cli.cjs missing: run `npm run bench` or `npm run build` first\n');
    process.exit(2);
  }
  ours.node = o.node;
  for (const kv of o.env) {
    const eq = kv.indexOf('=');
    OUR_ENV[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  if (o['threads-threshold']) {
    threadsThreshold(o);
    return;
  }
  if (o['side-by-side']) {
    sideBySide(
      o,
      process.argv.slice(2).some((a) => a.startsWith('--scale')),
    );
    return;
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mdevctl-bench-'));
  const mismatches = [];
  const bySize = new Map();
  let refWhy = o.reference === 'no' ? 'not asked for (--reference no)' : undefined;
  let out = '';
  let floor;
  const loadBefore = load();
  try {
    for (const k of o.scale) {
      const s = scaled(o, k);
      const roots = { a: path.join(work, `a${k}`), b: path.join(work, `b${k}`), empty: path.join(work, 'empty') };
      const t0 = Date.now();
      const a = makeTreeA(roots.a, s);
      makeParents(roots.b, s['parents-b'], s['types-b']);
      const start = k === o.scale[0];
      if (start) makeParents(roots.empty, 0, 0);
      process.stderr.write(`bench: x${k} trees generated in ${((Date.now() - t0) / 1000).toFixed(1)} s under ${work}\n`);
      // written back to disk now, not while the first rows are timed
      spawnSync('sync', [], { stdio: 'ignore' });
      if (refWhy == null) {
        refWhy = setupReference(start ? [roots.a, roots.b, roots.empty] : [roots.a, roots.b]);
      }
      if (refWhy && o.reference === 'require') {
        process.stderr.write(`bench: mdevctl 1.2.0 is required but not available: ${refWhy}\n`);
        process.exit(1);
      }
      const rows = rowsFor(o, roots, a, start);
      measure(o, rows, refWhy === null, mismatches);
      if (start) floor = rows.find((r) => r.floor) ? median(rows.find((r) => r.floor).ours) : undefined;
      bySize.set(k, rows);
      out += sizeTable(o, k, rows, floor);
      if (!o.keep) {
        fs.rmSync(roots.a, { recursive: true, force: true });
        fs.rmSync(roots.b, { recursive: true, force: true });
      }
    }
    const withRef = refWhy === null;
    let head =
      `mdevctl-ts bench: ours on node ${o.nodeVersion} (${o.node}), ${os.cpus().length} cores, load ${loadBefore} ` +
      `before, ${load()} after; median of ${o.runs} run(s) (start-up rows: ${o['startup-runs']}, in rounds) after ${o.warmup} ` +
      'warm-up, ms per process\n';
    head += `native reader: ${nativeStatus()}${o.env.length ? `; our environment: ${o.env.join(' ')}` : ''}\n`;
    head += withRef ? 'reference: mdevctl 1.2.0 (chroot), run alternately with ours on the same trees\n' : `reference: none (${refWhy})\n`;
    out = head + out + (withRef ? summary(o, bySize) : '');
    if (withRef) {
      const seen = new Set();
      const uniq = mismatches.filter((m) => !seen.has(m) && seen.add(m));
      out +=
        uniq.length === 0 ? '\noutputs: identical to 1.2.0 for every command\n' : `\noutputs DIFFER from 1.2.0:\n${uniq.map((m) => `  ${m}`).join('\n')}\n`;
    } else if (mismatches.length) {
      out += `\nfailures:\n${[...new Set(mismatches)].map((m) => `  ${m}`).join('\n')}\n`;
    }
    process.stdout.write(out);
  } finally {
    if (o.keep) process.stderr.write(`bench: trees kept under ${work}\n`);
    else fs.rmSync(work, { recursive: true, force: true });
  }
  process.exitCode = mismatches.length > 0 ? 1 : 0;
}

/** Whether our CLI, as the bench runs it, reads through the native reader (src/lib/util/native.ts). */
function nativeStatus() {
  if (OUR_ENV.MDEVCTL_NATIVE === 'off') return 'off (MDEVCTL_NATIVE=off)';
  const r = spawnSync(ours.node, [BIN, '--root', path.join(REPO, 'fixtures', 'demo'), 'list', '-d'], {
    env: { ...OUR_ENV, MDEVCTL_NATIVE: 'require' },
    encoding: 'utf8',
  });
  if (r.status !== 0) return `NOT LOADED, JavaScript readers only (${(r.stderr || '').trim().split('\n')[0]})`;
  const threads = OUR_ENV.MDEVCTL_NATIVE_THREADS;
  return `dist/fastio.node, threads ${threads ? `MDEVCTL_NATIVE_THREADS=${threads}` : `auto (${os.availableParallelism?.() ?? os.cpus().length} CPUs)`}`;
}

/** 1.4.0 as --side-by-side runs it: [loader, args before mdevctl's], or why it cannot be had. */
function reference140() {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return { why: 'not root (the reference set-up needs root)' };
  const r = spawnSync('bash', [REF_SCRIPT, '--setup'], { encoding: 'utf8', timeout: 600_000, env: { ...process.env, MDEVCTL_REF_VERSION: '1.4.0' } });
  if (r.status !== 0) return { why: (r.stderr || `set-up exited with ${r.status}`).trim().replace(/^reference-mdevctl: /gm, '') };
  const overlay = path.join(r.stdout.trim(), 'overlay');
  return {
    loader: path.join(overlay, 'lib64', 'ld-linux-x86-64.so.2'),
    pre: ['--library-path', path.join(overlay, 'usr/lib/x86_64-linux-gnu'), path.join(overlay, 'usr/bin/mdevctl')],
  };
}

/**
 * --side-by-side: every CLI on the same trees in one run, each command's runs interleaved, and the
 * targets of issue 21 checked against the medians.
 */
function sideBySide(o, scaleGiven) {
  const k = scaleGiven ? o.scale[o.scale.length - 1] : 4;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mdevctl-bench-'));
  const loadBefore = load();
  const runners = [{ name: 'node', argv: ours.argv, env: OUR_ENV }];
  const notes = [];
  if (fs.existsSync(o.exe)) runners.push({ name: 'exe', argv: (root, args) => [o.exe, [...(root ? ['--root', root] : []), ...args]], env: OUR_ENV });
  else notes.push(`exe: none (${o.exe} missing: npm run build:exe)`);
  try {
    const sizes = scaled(o, k);
    const roots = { s: path.join(work, 's'), a: path.join(work, 'a'), b: path.join(work, 'b') };
    makeTreeA(roots.s, { ...o, 'parents-a': 4, 'types-a': 4, defined: 8, running: 2 });
    makeTreeA(roots.a, sizes);
    makeParents(roots.b, sizes['parents-b'], sizes['types-b']);
    spawnSync('sync', [], { stdio: 'ignore' });
    const ref = o.reference === 'no' ? { why: 'not asked for (--reference no)' } : reference140();
    if (ref.loader) {
      runners.push({ name: '1.4.0', argv: (root, args) => [ref.loader, [...ref.pre, ...args]], env: (root) => ({ ...REF_ENV, MDEVCTL_ENV_ROOT: root }) });
    } else notes.push(`1.4.0: none (${ref.why})`);
    const why120 = o.reference === 'no' ? 'not asked for (--reference no)' : setupReference([roots.s, roots.a, roots.b]);
    if (why120 === null) runners.push(theirs);
    else notes.push(`1.2.0: none (${why120})`);
    if (o.reference === 'require' && notes.some((n) => /^1\./.test(n))) {
      process.stderr.write(`bench: references required but not available: ${notes.join('; ')}\n`);
      process.exit(1);
    }
    const rows = [];
    for (const [tree, root] of [
      ['small', roots.s],
      ['A', roots.a],
      ['B', roots.b],
    ]) {
      const forms =
        tree === 'B'
          ? [['types'], ['types', '--dumpjson']]
          : [
              ['list'],
              ['list', '-d'],
              ['list', '--dumpjson'],
              ['list', '-d', '--dumpjson'],
              ...(tree === 'small' ? [['list', '-d', '-v'], ['types'], ['types', '--dumpjson']] : []),
            ];
      for (const args of forms) rows.push({ label: args.join(' '), tree, root, args, t: new Map(runners.map((r) => [r.name, []])) });
    }
    if (o.only) rows.splice(0, rows.length, ...rows.filter((r) => o.only.test(r.label)));
    const mismatches = [];
    const runs = o.runs;
    for (const row of rows) {
      for (let i = 0; i < o.warmup + runs; i++) {
        const order = runners.map((_, j) => runners[(i + j) % runners.length]);
        const outs = new Map();
        for (const r of order) {
          const [cmd, argv] = r.argv(row.root, row.args);
          const x = exec(cmd, argv, typeof r.env === 'function' ? r.env(row.root) : r.env);
          outs.set(r.name, { ...x, stdout: r === theirs ? stdoutAs14(row.args, x.status, x.stdout) : x.stdout });
          if (i >= o.warmup) row.t.get(r.name).push(x.ms);
        }
        const first = outs.get('node');
        for (const [name, x] of outs) {
          if (x.status !== first.status || x.stdout !== first.stdout) {
            mismatches.push(
              `${row.tree} ${row.label}: ${name} differs from the Node build (${x.stdout.length} bytes, exit ${x.status}; node ${first.stdout.length} bytes, exit ${first.status})`,
            );
          }
        }
      }
    }
    const med = (row, name) => (row.t.has(name) ? median(row.t.get(name)) : undefined);
    const names = runners.map((r) => r.name);
    const ratio = (x, y) => (x === undefined || y === undefined ? '-' : (x / y).toFixed(2));
    const header = ['command', 'tree', ...names.map((n) => `${n} ms`), 'exe/1.4.0', 'node/1.4.0', 'exe/node', 'target'];
    const verdicts = [];
    const cells = rows.map((row) => {
      const exe = med(row, 'exe');
      const r140 = med(row, '1.4.0');
      const node = med(row, 'node');
      let target = '-';
      if (exe !== undefined && r140 !== undefined) {
        const ok = row.tree === 'small' ? exe <= 4 * r140 : exe <= 0.5 * r140 && exe <= node;
        target = `${row.tree === 'small' ? 'exe <= 4x 1.4.0' : 'exe <= 0.5x 1.4.0, <= node'}: ${ok ? 'met' : 'MISSED'}`;
        verdicts.push(ok);
      }
      return [row.label, row.tree, ...names.map((n) => med(row, n).toFixed(1)), ratio(exe, r140), ratio(node, r140), ratio(exe, node), target];
    });
    let out =
      `mdevctl-ts bench --side-by-side: node ${o.nodeVersion} (${o.node}), exe ${fs.existsSync(o.exe) ? o.exe : '-'}, ${os.cpus().length} cores, ` +
      `load ${loadBefore} before, ${load()} after; median of ${runs} run(s) after ${o.warmup} warm-up, each command's runs interleaved, ms per process\n`;
    out +=
      `trees: small: 4 parents x 4 types, 8 defined, 2 running; A (x${k}): ${sizes['parents-a']} parents x ${sizes['types-a']} types, ` +
      `${sizes.defined} defined, ${sizes.running} running; B (x${k}): ${sizes['parents-b']} parents x ${sizes['types-b']} types\n`;
    out += `native reader: ${nativeStatus()}${notes.length ? `\n${notes.join('\n')}` : ''}\n\n`;
    out += markdown(header, cells, 2);
    if (verdicts.length) out += `\ntargets: ${verdicts.filter(Boolean).length} of ${verdicts.length} met\n`;
    const seen = new Set();
    const uniq = mismatches.filter((m) => !seen.has(m) && seen.add(m));
    out +=
      uniq.length === 0 ? `\noutputs: identical for every command (${names.join(', ')})\n` : `\noutputs DIFFER:\n${uniq.map((m) => `  ${m}`).join('\n')}\n`;
    process.stdout.write(out);
    process.exitCode = uniq.length ? 1 : 0;
  } finally {
    if (o.keep) process.stderr.write(`bench: trees kept under ${work}\n`);
    else fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * --threads-threshold: the native reader timed in this process (the Node running the bench) on
 * the first N files of a tree B, N from 64 up, with 1 thread and with each count up to the CPUs
 * (MDEVCTL_NATIVE_THREADS semantics: exactly that many), interleaved, median of RUNS rounds.
 */
function threadsThreshold(o) {
  const addon = path.join(REPO, 'dist', 'fastio.node');
  const mod = { exports: {} };
  try {
    process.dlopen(mod, addon);
  } catch (e) {
    process.stderr.write(`bench: cannot load ${addon}: ${e.message}\n`);
    process.exit(1);
  }
  const io = mod.exports;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mdevctl-bench-'));
  try {
    const parents = makeParents(path.join(work, 'b'), o.quick ? 8 : 128, 32); // 1024 or 16384 files
    const dirs = [];
    const dirOf = [];
    const names = [];
    for (const p of parents) {
      dirs.push(path.join(p.dir, 'mdev_supported_types'));
      for (const t of p.types) {
        for (const f of ['available_instances', 'device_api', 'name', 'description']) {
          dirOf.push(dirs.length - 1);
          names.push(`${t.type}/${f}`);
        }
      }
    }
    const cpus = Math.min(os.availableParallelism?.() ?? os.cpus().length, 8);
    const counts = [1, ...Array.from({ length: cpus - 1 }, (_, i) => i + 2)];
    const rows = [];
    for (let n = 64; n <= names.length; n *= 2) {
      const d = Uint32Array.from(dirOf.slice(0, n));
      const ns = names.slice(0, n);
      const usedDirs = dirs.slice(0, dirOf[n - 1] + 1);
      const times = new Map(counts.map((c) => [c, []]));
      const reps = Math.max(1, Math.round((o.quick ? 1024 : 16384) / n)); // about the same work per sample
      for (let round = 0; round < o.warmup + Math.max(o.runs, 5); round++) {
        for (const c of round % 2 ? [...counts].reverse() : counts) {
          const t0 = process.hrtime.bigint();
          for (let r = 0; r < reps; r++) io.readFilesAt(usedDirs, d, ns, c, false);
          const us = Number(process.hrtime.bigint() - t0) / 1000 / reps;
          if (round >= o.warmup) times.get(c).push(us);
        }
      }
      const one = median(times.get(1));
      rows.push([
        String(n),
        one.toFixed(0),
        ...counts.slice(1).flatMap((c) => {
          const m = median(times.get(c));
          return [m.toFixed(0), (m / one).toFixed(2)];
        }),
      ]);
    }
    const header = ['files', '1 thread us', ...counts.slice(1).flatMap((c) => [`${c} threads us`, `${c}/1`])];
    process.stdout.write(
      `mdevctl-ts bench --threads-threshold: node ${process.version}, ${os.cpus().length} cores, ` +
        `load ${load()}; one readFilesAt call per sample, median of ${Math.max(o.runs, 5)} rounds\n\n${markdown(header, rows, 0)}`,
    );
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main();
