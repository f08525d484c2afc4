// The power-cut scenario, guest side (see kernel-tests/README.md, "Power cuts"). One boot of the
// guest runs, in this order:
//   check  (every boot but the first): the disks as the last cut left them, after ext4 replayed its
//          journal, against the acknowledgements in the console log of the boot before
//          (RESULTS/prev-console.log); results in RESULTS/check.json
//   storm  (every boot but the last): concurrent writers on both stores, each command that exits 0
//          acknowledged on the serial console, until the host kills QEMU (the power cut)
// Two stores, one per disk, written side by side by the same storm: ours (/dev/vda, mounted at
// /mnt/ours and bound to /etc/mdevctl.d, /run/lock and /var/lib/mdevctl, the CLI with no root
// option) and upstream mdevctl 1.4.0's (/dev/vdb at /mnt/ref, MDEVCTL_ENV_ROOT=/mnt/ref).
//
//   node powercut.mjs guest RESULTS MODE SEED REF_OVERLAY   (MODE: storm | check | check+storm)
//   node powercut.mjs report BOOT_RESULTS_DIR...            (on the host: figures, exit status)
//
// Console protocol (one write per line, so lines from the writers never mix; a line counts only
// whole, up to its final " ."):
//   PC STORM .                          the storm begins (the host's clock for the cut starts)
//   PC I TOOL UUID STATE .              state of UUID in TOOL's store when the storm began
//   PC B TOOL SEQ WRITER CHANGES .      command SEQ begins; CHANGES {uuid: state|null} if it succeeds
//   PC A TOOL SEQ RC .                  command SEQ exited with RC (0: acknowledged)
// STATE is {"parent","type","start","attrs"} or null (no definition).
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';

const MTTY = 'mtty';
const MDPY = 'mdpy';
const TYPES = { [MTTY]: ['mtty-1', 'mtty-2'], [MDPY]: ['mdpy-vga', 'mdpy-xga'] };
const u = (n) => `c0ffee00-0000-4000-8000-${String(n).padStart(12, '0')}`;
// Each writer owns its UUIDs (so what it acknowledged is what must be there); two writers share
// mtty, two share mdpy. At most 3 auto definitions on mdpy (it has 4 instances in all), few
// enough ports on mtty, so start-parent-mdevs can start every auto definition at the next boot.
const MTTY_DMU = { name: 'mtty-dmu', kind: 'dmu', uuids: [u(1), u(2), u(3)].map((x) => [x, MTTY]) };
const MDPY_DMU = { name: 'mdpy-dmu', kind: 'dmu', uuids: [u(11), u(12)].map((x) => [x, MDPY]) };
const THIRD = [
  [u(21), MTTY],
  [u(22), MTTY],
  [u(23), MDPY],
];
const WRITERS = {
  ours: [MTTY_DMU, MDPY_DMU, { name: 'apply', kind: 'apply', uuids: THIRD }, { name: 'startstop', kind: 'startstop', uuids: [[u(31), MTTY]] }],
  // 1.4.0 has no apply; its third writer defines, modifies and undefines the same UUIDs instead;
  // start/stop is left to ours (the kernel's devices are shared)
  ref: [MTTY_DMU, MDPY_DMU, { name: 'mix-dmu', kind: 'dmu', uuids: THIRD }],
};
const STORES = { ours: '/', ref: '/mnt/ref' };
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// ---------------------------------------------------------------------------------------------
// Small things

/** mulberry32: the storm's choices from the seed, so a run can be replayed. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const sameState = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let refOverlay = '';
function command(tool, args) {
  if (tool === 'ours') return { cmd: 'mdevctl', args, env: { ...process.env, MDEVCTL_LOCK_TIMEOUT: '300' } };
  const ld = path.join(refOverlay, 'lib64/ld-linux-x86-64.so.2');
  return {
    cmd: ld,
    args: ['--library-path', path.join(refOverlay, 'usr/lib/x86_64-linux-gnu'), path.join(refOverlay, 'usr/bin/mdevctl'), ...args],
    env: { ...process.env, MDEVCTL_ENV_ROOT: STORES.ref },
  };
}
function runSync(tool, ...args) {
  const c = command(tool, args);
  const r = spawnSync(c.cmd, c.args, { env: c.env, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
function runAsync(tool, args) {
  const c = command(tool, args);
  return new Promise((resolve) => {
    const p = spawn(c.cmd, c.args, { env: c.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code, sig) => resolve({ status: code ?? (sig ? 128 : 1), stderr: err }));
  });
}

// ---------------------------------------------------------------------------------------------
// Reading a store as it is on disk

/** Every entry of STORE's etc/mdevctl.d: definitions by UUID, and what is wrong. */
function scan(store) {
  const base = path.join(store, 'etc/mdevctl.d');
  const out = { defs: {}, empty: [], torn: [], temps: [], junk: [] };
  let parents = [];
  try {
    parents = fs.readdirSync(base).filter((p) => p !== 'scripts.d');
  } catch {
    return out;
  }
  for (const parent of parents) {
    const dir = path.join(base, parent);
    if (!fs.statSync(dir).isDirectory()) continue;
    for (const name of fs.readdirSync(dir)) {
      const file = path.join(dir, name);
      if (!UUID_RE.test(name)) {
        (/^\..*\.tmp$/.test(name) ? out.temps : out.junk).push(`${parent}/${name}`);
        continue;
      }
      const text = fs.readFileSync(file, 'utf8');
      if (text.length === 0) {
        out.empty.push(name);
        continue;
      }
      let v;
      try {
        v = JSON.parse(text);
      } catch {
        v = null;
      }
      if (!v || typeof v.mdev_type !== 'string' || !['auto', 'manual'].includes(v.start) || !Array.isArray(v.attrs)) {
        out.torn.push(name);
        continue;
      }
      out.defs[name] = { parent, type: v.mdev_type, start: v.start, attrs: v.attrs };
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The storm

let consoleFd;
function say(line) {
  fs.writeSync(consoleFd, `${line} .\n`);
}

let seq = 0;
async function act(tool, writer, args, changes) {
  const n = ++seq;
  say(`PC B ${tool} ${n} ${writer} ${JSON.stringify(changes)}`);
  const r = await runAsync(tool, args);
  say(`PC A ${tool} ${n} ${r.status}`);
  if (r.status !== 0) log(`${tool} ${writer} #${n} \`${args.join(' ')}\` exit ${r.status}: ${r.stderr.trim()}`);
  return r.status === 0;
}

/** define / modify / undefine of the writer's UUIDs, one command at a time. */
async function dmuWriter(tool, w, state, rand, pause) {
  const pick = (a) => a[Math.floor(rand() * a.length)];
  for (;;) {
    const [uuid, parent] = pick(w.uuids);
    const cur = state[uuid];
    let args;
    let next;
    if (cur === null) {
      next = { parent, type: pick(TYPES[parent]), start: rand() < 0.5 ? 'auto' : 'manual', attrs: [] };
      args = ['define', '-u', uuid, '-p', parent, '-t', next.type, ...(next.start === 'auto' ? ['--auto'] : [])];
    } else {
      const r = rand();
      if (r < 0.45) {
        // attributes only on manual definitions: the samples' devices have no such attribute, and
        // the next boot's start-parent-mdevs must be able to start every auto definition
        const start = cur.attrs.length ? 'manual' : rand() < 0.5 ? 'auto' : 'manual';
        next = { ...cur, type: pick(TYPES[parent]), start };
        args = ['modify', '-u', uuid, '-t', next.type, start === 'auto' ? '--auto' : '--manual'];
      } else if (r < 0.7 && cur.start === 'manual' && cur.attrs.length < 3) {
        const value = String(Math.floor(rand() * 1000));
        next = { ...cur, attrs: [...cur.attrs, { [`k${cur.attrs.length}`]: value }] };
        args = ['modify', '-u', uuid, `--addattr=k${cur.attrs.length}`, `--value=${value}`];
      } else {
        next = null;
        args = ['undefine', '-u', uuid];
      }
    }
    if (await act(tool, w.name, args, { [uuid]: next })) state[uuid] = next;
    if (pause) await sleep(pause);
  }
}

/** apply of all the writer's UUIDs at once (each a new random type and start mode). */
async function applyWriter(tool, w, state, rand) {
  const pick = (a) => a[Math.floor(rand() * a.length)];
  for (let round = 0; ; round++) {
    const changes = {};
    const doc = {};
    for (const [uuid, parent] of w.uuids) {
      const next = { parent, type: pick(TYPES[parent]), start: rand() < 0.5 ? 'auto' : 'manual', attrs: [] };
      changes[uuid] = next;
      (doc[parent] ??= []).push({ [uuid]: { mdev_type: next.type, start: next.start, attrs: [] } });
    }
    const file = `/tmp/powercut-apply-${round}.json`;
    fs.writeFileSync(file, JSON.stringify([doc]));
    if (await act(tool, w.name, ['apply', '--jsonfile', file], changes)) Object.assign(state, changes);
  }
}

/** start and stop of one auto definition on mtty (defined first if absent). */
async function startStopWriter(tool, w, state) {
  const [uuid, parent] = w.uuids[0];
  if (state[uuid] === null) {
    const next = { parent, type: 'mtty-2', start: 'auto', attrs: [] };
    if (await act(tool, w.name, ['define', '-u', uuid, '-p', parent, '-t', next.type, '--auto'], { [uuid]: next })) state[uuid] = next;
  }
  for (;;) {
    await act(tool, w.name, ['start', '-u', uuid], {});
    await act(tool, w.name, ['stop', '-u', uuid], {});
  }
}

async function storm(seed) {
  const rand = rng(seed);
  const jobs = [];
  const states = {};
  for (const tool of ['ours', 'ref']) {
    const found = scan(STORES[tool]).defs;
    const state = (states[tool] = {});
    for (const w of WRITERS[tool]) {
      for (const [uuid] of w.uuids) {
        state[uuid] = found[uuid] ?? null;
        say(`PC I ${tool} ${uuid} ${JSON.stringify(state[uuid])}`);
      }
    }
  }
  say('PC STORM');
  for (const tool of ['ours', 'ref']) {
    for (const w of WRITERS[tool]) {
      const r = rng(Math.floor(rand() * 2 ** 32));
      const state = states[tool];
      // 1.4.0 takes a few milliseconds a command, ours (Node under emulation) a second or more:
      // a pause keeps its writers from starving ours of the two vCPUs
      if (w.kind === 'dmu') jobs.push(dmuWriter(tool, w, state, r, tool === 'ref' ? 150 : 0));
      else if (w.kind === 'apply') jobs.push(applyWriter(tool, w, state, r));
      else jobs.push(startStopWriter(tool, w, state));
    }
  }
  // the host cuts the power long before this; a guest left running is bounded by the host too
  await Promise.race([Promise.all(jobs), sleep(600_000)]);
}

// ---------------------------------------------------------------------------------------------
// The check after a cut

/** The acknowledgements of the boot before, by tool. */
function parseConsole(text) {
  const tools = {};
  const t = (name) => (tools[name] ??= { init: {}, begun: new Map(), acked: 0, failed: 0, ackedStartStop: 0, malformed: 0 });
  let sawStorm = false;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const at = line.indexOf('PC ');
    if (at < 0) continue;
    const body = line.slice(at);
    if (body === 'PC STORM .') {
      sawStorm = true;
      continue;
    }
    let m = /^PC I (\w+) (\S+) (.+) \.$/.exec(body);
    if (m) {
      t(m[1]).init[m[2]] = JSON.parse(m[3]);
      continue;
    }
    m = /^PC B (\w+) (\d+) (\S+) (.+) \.$/.exec(body);
    if (m) {
      t(m[1]).begun.set(Number(m[2]), { writer: m[3], changes: JSON.parse(m[4]), rc: null });
      continue;
    }
    m = /^PC A (\w+) (\d+) (\d+) \.$/.exec(body);
    if (m && t(m[1]).begun.has(Number(m[2]))) {
      t(m[1]).begun.get(Number(m[2])).rc = Number(m[3]);
      continue;
    }
    // a line the cut (or a kernel message) broke: not an acknowledgement
    if (/^PC [IBA] (ours|ref) /.test(body)) t(/^PC [IBA] (\w+)/.exec(body)[1]).malformed++;
  }
  return { tools, sawStorm };
}

/**
 * What each UUID may hold: its last acknowledged state, or the state of the command that was in
 * flight at the cut (begun, never acknowledged). Also the in-flight apply, if any.
 */
function expectations(acks) {
  const acked = { ...acks.init };
  const inflight = {};
  let inflightApply = null;
  let changes = 0;
  for (const [, op] of [...acks.begun.entries()].sort((a, b) => a[0] - b[0])) {
    const keys = Object.keys(op.changes);
    if (op.rc === 0) {
      if (keys.length) changes++;
      else acks.ackedStartStop++;
      Object.assign(acked, op.changes);
      for (const k of keys) delete inflight[k];
      if (op.writer === 'apply') inflightApply = null;
    } else if (op.rc === null) {
      Object.assign(inflight, op.changes);
      if (op.writer === 'apply') inflightApply = op.changes;
    } else {
      acks.failed++;
    }
  }
  return { acked, inflight, inflightApply, changes };
}

function log(msg) {
  process.stderr.write(`${msg}\n`);
}

function checkTool(tool, acks, results) {
  const r = { tool, problems: [], lost: [], empty: 0, torn: 0, temps: 0, listFailed: false };
  const fail = (msg) => r.problems.push(msg);
  const { acked, inflight, inflightApply, changes } = expectations(acks);
  r.acked = changes;
  r.ackedStartStop = acks.ackedStartStop;
  r.failedCommands = acks.failed;
  r.malformed = acks.malformed;
  r.inflight = Object.keys(inflight).length;
  r.inflightApply = inflightApply !== null;
  const store = STORES[tool];

  // 1. the disk as the cut left it (after ext4's journal replay), before any command touches it
  const before = scan(store);
  r.empty = before.empty.length;
  r.torn = before.torn.length;
  r.temps = before.temps.length;
  if (before.junk.length) fail(`unexpected entries: ${before.junk.join(', ')}`);
  const journal = path.join(store, 'var/lib/mdevctl/apply.journal');
  r.journalLeft = fs.existsSync(journal);

  // 2. readers work at once: list -d, before anything recovers
  const list = runSync(tool, 'list', '-d', '--dumpjson');
  if (list.status !== 0) {
    r.listFailed = true;
    r.listError = list.stderr.split('\n')[0];
  } else {
    try {
      JSON.parse(list.stdout || '[]');
    } catch {
      fail('list -d --dumpjson printed no JSON');
    }
  }

  if (tool === 'ours') {
    if (r.empty || r.torn) fail(`${r.empty} empty and ${r.torn} unparseable definition file(s): ${[...before.empty, ...before.torn].join(', ')}`);
    if (r.listFailed) fail(`list -d failed: ${r.listError}`);
    // 3. the next command (a define takes the lock: stale lock, temps, journal dealt with)
    const probe = runSync(tool, 'define', '-p', MTTY, '-t', 'mtty-1');
    if (probe.status !== 0) fail(`define after the cut: exit ${probe.status}: ${probe.stderr.trim()}`);
    r.probe = probe.stdout.trim();
    if (fs.existsSync(journal)) fail('the apply journal is still there after the next command');
    const lockDir = path.join(store, 'run/lock/mdevctl.lock');
    if (fs.existsSync(lockDir) && fs.readdirSync(lockDir).length) fail(`a lock is still held: ${fs.readdirSync(lockDir).join(' ')}`);
  }

  // 4. every acknowledged change there (or the in-flight command's), nothing torn
  const after = tool === 'ours' ? scan(store) : before;
  // the next locked command removes the temp files of writers that are gone (a temp names its
  // writer's PID: one that a process of this boot happens to have now stays, harmlessly, as no
  // reader takes it for a definition)
  const staleTemps = after.temps.filter((n) => {
    const pid = /\.(\d+)\.[0-9a-z]+\.tmp$/.exec(n)?.[1];
    return !pid || !fs.existsSync(`/proc/${pid}`);
  });
  if (tool === 'ours' && staleTemps.length) fail(`temp files of dead writers left after the next command: ${staleTemps.join(', ')}`);
  for (const uuid of Object.keys(acked)) {
    const have = after.defs[uuid] ?? null;
    const broken = after.empty.includes(uuid) || after.torn.includes(uuid);
    const ok = !broken && (sameState(have, acked[uuid]) || (uuid in inflight && sameState(have, inflight[uuid])));
    if (!ok) {
      r.lost.push(uuid);
      if (tool === 'ours') {
        fail(
          `${uuid}: ${broken ? 'empty or torn file' : JSON.stringify(have)}, acknowledged ${JSON.stringify(acked[uuid])}${uuid in inflight ? ` (in flight: ${JSON.stringify(inflight[uuid])})` : ''}`,
        );
      }
    }
  }
  // 5. an apply in flight: all of it or none of it, after the next command
  if (tool === 'ours' && inflightApply) {
    const uuids = Object.keys(inflightApply);
    const old = uuids.every((x) => sameState(after.defs[x] ?? null, acked[x]));
    const neu = uuids.every((x) => sameState(after.defs[x] ?? null, inflightApply[x]));
    r.applyOutcome = neu && !old ? 'committed' : old ? 'rolled back' : 'MIXED';
    if (!old && !neu) fail(`the apply in flight is half there: ${JSON.stringify(uuids.map((x) => after.defs[x] ?? null))}`);
  }

  if (tool === 'ours') {
    // 6. the boot path: the udev rule runs `mdevctl start-parent-mdevs PARENT` when the parent
    // registers; every auto definition (acknowledged ones were checked above) must start
    for (const parent of [MTTY, MDPY]) {
      const s = runSync(tool, 'start-parent-mdevs', parent);
      if (s.status !== 0) fail(`start-parent-mdevs ${parent}: exit ${s.status}: ${s.stderr.trim()}`);
    }
    let autos = 0;
    for (const [uuid, d] of Object.entries(after.defs)) {
      if (d.start !== 'auto') continue;
      autos++;
      let type = null;
      try {
        type = path.basename(fs.readlinkSync(`/sys/bus/mdev/devices/${uuid}/mdev_type`));
      } catch {
        /* not running */
      }
      if (type !== d.type) fail(`auto definition ${uuid} (${d.type}) not started at boot${type ? ` (runs ${type})` : ''}`);
    }
    r.autostarted = autos;
    if (r.probe) {
      const s = runSync(tool, 'start', '-u', r.probe);
      if (s.status !== 0) fail(`start -u ${r.probe} after the cut: exit ${s.status}: ${s.stderr.trim()}`);
    }
    // leave the kernel clean for the next storm (devices do not survive a power cut anyway)
    for (const dev of fs.existsSync('/sys/bus/mdev/devices') ? fs.readdirSync('/sys/bus/mdev/devices') : []) {
      fs.writeFileSync(`/sys/bus/mdev/devices/${dev}/remove`, '1');
    }
  } else {
    // an admin's repair, so that 1.4.0's next storm starts from a readable store: the broken files go
    for (const name of [...before.empty, ...before.torn]) {
      for (const parent of [MTTY, MDPY]) fs.rmSync(path.join(store, 'etc/mdevctl.d', parent, name), { force: true });
    }
  }
  results[tool] = r;
}

async function guest(out, mode, seed, overlay) {
  refOverlay = overlay;
  consoleFd = fs.openSync('/dev/ttyS0', 'w');
  spawnSync('modprobe', ['mtty']);
  spawnSync('modprobe', ['mdpy']);
  if (mode.startsWith('check')) {
    const results = { seed };
    const text = fs.readFileSync(path.join(out, 'prev-console.log'), 'latin1');
    const { tools, sawStorm } = parseConsole(text);
    results.sawStorm = sawStorm;
    results.ext4 = spawnSync('dmesg', [], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter((l) => /EXT4-fs.*(recover|orphan)/.test(l));
    for (const tool of ['ours', 'ref']) {
      try {
        checkTool(tool, tools[tool] ?? { init: {}, begun: new Map(), acked: 0, failed: 0, ackedStartStop: 0, malformed: 0 }, results);
      } catch (e) {
        results[tool] = { tool, problems: [`the check itself failed: ${e.stack}`], lost: [] };
      }
    }
    fs.writeFileSync(path.join(out, 'check.json'), JSON.stringify(results, null, 1));
    spawnSync('sync');
  }
  if (mode.endsWith('storm')) await storm(seed);
}

// ---------------------------------------------------------------------------------------------
// The host's report over all cuts of one kernel: exit 0 when ours lost nothing

function report(dirs) {
  const sum = {
    ours: { cuts: 0, acked: 0, startstop: 0, lost: 0, empty: 0, torn: 0, temps: 0, listFailed: 0, failed: 0, journal: 0, applies: {} },
    ref: { cuts: 0, acked: 0, lost: 0, empty: 0, torn: 0, listFailed: 0, cutsWithLoss: 0 },
  };
  const problems = [];
  let cut = 0;
  for (const dir of dirs) {
    const file = path.join(dir, 'check.json');
    cut++;
    if (!fs.existsSync(file)) {
      problems.push(`cut ${cut}: no check results (see ${dir})`);
      continue;
    }
    const res = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (!res.sawStorm) problems.push(`cut ${cut}: the storm never began before the cut`);
    const o = res.ours;
    const f = res.ref;
    for (const p of o.problems) problems.push(`cut ${cut} (seed ${res.seed}): ours: ${p}`);
    const so = sum.ours;
    so.cuts++;
    so.acked += o.acked ?? 0;
    so.startstop += o.ackedStartStop ?? 0;
    so.lost += o.lost.length;
    so.empty += o.empty ?? 0;
    so.torn += o.torn ?? 0;
    so.temps += o.temps ?? 0;
    so.listFailed += o.listFailed ? 1 : 0;
    so.failed += o.failedCommands ?? 0;
    so.journal += o.journalLeft ? 1 : 0;
    if (o.applyOutcome) so.applies[o.applyOutcome] = (so.applies[o.applyOutcome] ?? 0) + 1;
    if ((o.failedCommands ?? 0) > 0) problems.push(`cut ${cut}: ours: ${o.failedCommands} storm command(s) failed (guest.log of the boot before)`);
    if (f && !f.problems.length) {
      const sr = sum.ref;
      sr.cuts++;
      sr.acked += f.acked;
      sr.lost += f.lost.length;
      sr.empty += f.empty;
      sr.torn += f.torn;
      sr.listFailed += f.listFailed ? 1 : 0;
      sr.cutsWithLoss += f.lost.length || f.empty || f.torn ? 1 : 0;
    } else if (f) {
      problems.push(`cut ${cut}: 1.4.0's check failed: ${f.problems.join('; ')}`);
    }
    const replayed = (res.ext4 ?? []).filter((l) => /recovery complete/.test(l)).length;
    sum.replays = (sum.replays ?? 0) + replayed;
    console.log(
      `  cut ${cut} (seed ${res.seed}, ext4 journal replayed on ${replayed} of 2 disks): ours ${o.acked} changes acked (+${o.ackedStartStop} start/stop), ${o.lost.length} lost, ` +
        `${o.empty} empty, ${o.torn} torn, ${o.temps} temps, journal ${o.journalLeft ? `left (apply ${o.applyOutcome ?? 'none in flight'})` : 'none'}, ` +
        `${o.autostarted} autostarted | 1.4.0 ${f?.acked} acked, ${f?.lost.length} lost, ${f?.empty} empty, ${f?.torn} torn, list -d ${f?.listFailed ? 'FAILS' : 'ok'}`,
    );
  }
  const so = sum.ours;
  const sr = sum.ref;
  console.log(
    `  ours:  ${so.cuts} cuts, ${so.acked} acknowledged changes (+${so.startstop} start/stop), ${so.lost} lost, ${so.empty} empty, ${so.torn} torn, ` +
      `list -d failed after ${so.listFailed}; apply in flight: ${JSON.stringify(so.applies)}; temps left by the cut ${so.temps}, journals ${so.journal}`,
  );
  console.log(
    `  1.4.0: ${sr.cuts} cuts, ${sr.acked} acknowledged changes, ${sr.lost} lost, ${sr.empty} empty, ${sr.torn} torn, ` +
      `list -d failed after ${sr.listFailed} (cuts with a loss: ${sr.cutsWithLoss})`,
  );
  console.log(`  ext4 replayed its journal at ${sum.replays ?? 0} of ${2 * so.cuts} mounts after a cut`);
  for (const p of problems) console.log(`  FAIL ${p}`);
  if (so.cuts && so.acked === 0) console.log('  FAIL ours acknowledged no change in any storm: the cuts proved nothing');
  return problems.length === 0 && so.cuts === dirs.length && so.acked > 0;
}

const [verb, ...rest] = process.argv.slice(2);
if (verb === 'guest') {
  const [out, mode, seed, overlay] = rest;
  guest(out, mode, Number(seed), overlay).then(
    () => process.exit(0),
    (e) => {
      log(e.stack);
      process.exit(1);
    },
  );
} else if (verb === 'report') {
  process.exit(report(rest) ? 0 : 1);
} else {
  log('usage: powercut.mjs guest RESULTS MODE SEED REF_OVERLAY | report DIR...');
  process.exit(2);
}
