// The scenario suite, run inside the guest (chrooted into the host's / under a tmpfs overlay) by
// run-in-guest.sh: `node scenarios.mjs KVER RESULTS_DIR`. It drives the built CLI (`mdevctl` on
// PATH) against the real /sys of a kernel with the mdev sample drivers (mtty, mdpy, mbochs) and
// checks every step against the kernel's own files (device directories, links,
// available_instances) as well as against our output; Debian's mdevctl 1.2.0, when its binary is
// named in RESULTS_DIR/reference-mdevctl, runs the same read-only commands side by side.
//
// Writes RESULTS_DIR/report.txt (one line per scenario), RESULTS_DIR/summary.txt ("PASSED FAILED")
// and RESULTS_DIR/layout-PARENT.json (the captured sysfs layout of each sample parent with one
// running device, compared with the fixtures by test/kernel-layout.test.ts).
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const { capture } = createRequire(import.meta.url)('../layout.cjs');

const [KVER, OUT] = process.argv.slice(2);
const REF = (() => {
  try {
    const p = fs.readFileSync(path.join(OUT, 'reference-mdevctl'), 'utf8').trim();
    return fs.existsSync(p) ? p : null;
  } catch {
    return null;
  }
})();
const SERIES = KVER.split('.').slice(0, 2).join('.');

const MDEV_BUS = '/sys/class/mdev_bus';
const BUS_DEVICES = '/sys/bus/mdev/devices';
const CONFIG = '/etc/mdevctl.d';
const UUIDS = {
  // the mtty fixture's device, so the captured layout lines up with fixtures/mtty
  fixture: '92d520f0-448a-4137-a327-380a8f353b4c',
  a: '11111111-2222-4333-8444-000000000001',
  b: '11111111-2222-4333-8444-000000000002',
  c: '11111111-2222-4333-8444-000000000003',
  d: '11111111-2222-4333-8444-000000000004',
  e: '11111111-2222-4333-8444-000000000005',
  f: '11111111-2222-4333-8444-000000000006',
  g: '11111111-2222-4333-8444-000000000007',
};
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// ---------------------------------------------------------------------------------------------
// Running things

const calls = { ours: 0, reference: 0 };
function run(cmd, args, input) {
  if (cmd === 'mdevctl' || cmd === 'lsmdev') calls.ours++;
  else if (cmd === REF) calls.reference++;
  const r = spawnSync(cmd, args, { input: input ?? '', encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}
const md = (...args) => run('mdevctl', args);
const mdIn = (input, ...args) => run('mdevctl', args, input);
const ref = (...args) => run(REF, args);
function sh(command) {
  const r = run('/bin/sh', ['-c', command]);
  if (r.status !== 0) throw new Error(`\`${command}\` failed (${r.status}): ${r.stderr.trim()}`);
  return r.stdout;
}
const modprobe = (...mods) => sh(`modprobe ${mods.join(' ')}`);
const rmmod = (...mods) => sh(`modprobe -r ${mods.join(' ')}`);
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

// ---------------------------------------------------------------------------------------------
// Assertions

class Failure extends Error {}
function eq(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Failure(`${what}: expected ${e}, got ${a}`);
}
function ok(cond, what) {
  if (!cond) throw new Failure(what);
}
/** A CLI call that must succeed with exactly this stdout (after norm()). */
function okRun(r, what, stdout) {
  if (r.status !== 0) throw new Failure(`${what}: exit ${r.status}, stderr ${JSON.stringify(r.stderr)}`);
  if (stdout !== undefined) eq(r.stdout, stdout, `${what}: stdout`);
  return r;
}
/** A CLI call that must fail with one `Error: ...` line matching RE and an empty stdout. */
function failRun(r, what, re) {
  if (r.status === 0) throw new Failure(`${what}: succeeded, expected a failure`);
  eq(r.stdout, '', `${what}: stdout`);
  const lines = r.stderr.split('\n').filter(Boolean);
  ok(lines.length >= 1 && /^Error: /.test(lines[0]), `${what}: stderr ${JSON.stringify(r.stderr)} is not an Error: line`);
  ok(re.test(r.stderr), `${what}: stderr ${JSON.stringify(r.stderr)} does not match ${re}`);
}

/**
 * mdevctl 1.2.0 ends every list/types output with one extra newline, 1.4 (and we) do not
 * (REFERENCE 9): drop that one newline from 1.2.0's output, so the comparison is about the rest.
 */
function norm(s) {
  if (s === '\n') return '';
  if (s.endsWith('\n\n') || s.endsWith(']\n') || s.endsWith('}\n')) return s.slice(0, -1);
  return s;
}

// ---------------------------------------------------------------------------------------------
// The kernel's view, read straight from /sys (and the definitions straight from /etc)

const byteOrder = (a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : Buffer.from(a) > Buffer.from(b) ? 1 : 0);
const exists = (p) => {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
};
const readTrim = (p) => fs.readFileSync(p, 'utf8').trim();
const ls = (p) => (exists(p) ? fs.readdirSync(p).sort(byteOrder) : []);

function kParents() {
  return ls(MDEV_BUS);
}
function kTypes(parent) {
  const dir = path.join(MDEV_BUS, parent, 'mdev_supported_types');
  return ls(dir).map((id) => {
    const t = { id, available_instances: Number(readTrim(path.join(dir, id, 'available_instances'))) };
    t.device_api = readTrim(path.join(dir, id, 'device_api'));
    if (exists(path.join(dir, id, 'name'))) {
      const n = readTrim(path.join(dir, id, 'name'));
      if (n) t.name = n;
    }
    if (exists(path.join(dir, id, 'description'))) {
      const d = readTrim(path.join(dir, id, 'description'))
        .split('\n')
        .join(', ');
      if (d) t.description = d;
    }
    return t;
  });
}
function kAvailable(parent, type) {
  return Number(readTrim(path.join(MDEV_BUS, parent, 'mdev_supported_types', type, 'available_instances')));
}
/** Running devices as the kernel shows them: [{uuid, parent, type}], by parent then UUID. */
function kActive() {
  return ls(BUS_DEVICES)
    .filter((u) => UUID_RE.test(u))
    .flatMap((uuid) => {
      try {
        const real = fs.realpathSync(path.join(BUS_DEVICES, uuid));
        const type = path.basename(fs.readlinkSync(path.join(real, 'mdev_type')));
        return [{ uuid, parent: path.basename(path.dirname(real)), type, dir: real }];
      } catch {
        return []; // going away, or not made yet
      }
    })
    .sort((x, y) => byteOrder(x.parent, y.parent) || byteOrder(x.uuid, y.uuid));
}
function kRunning(uuid) {
  return kActive().find((d) => d.uuid === uuid);
}
/** Everything the kernel shows for a running device: its dir, the links back to it. */
function checkRunning(uuid, parent, type) {
  const d = kRunning(uuid);
  ok(d, `${uuid} is not in ${BUS_DEVICES}`);
  eq([d.parent, d.type], [parent, type], `${uuid}: parent and type in sysfs`);
  const typeDir = path.join(MDEV_BUS, parent, 'mdev_supported_types', type);
  ok(exists(path.join(typeDir, 'devices', uuid)), `${type}/devices/${uuid} missing`);
  eq(fs.realpathSync(path.join(typeDir, 'devices', uuid)), d.dir, `${type}/devices/${uuid} target`);
  ok(exists(path.join(d.dir, 'remove')), `${uuid}/remove missing`);
}
function checkGone(uuid) {
  ok(!exists(path.join(BUS_DEVICES, uuid)), `${uuid} still in ${BUS_DEVICES}`);
  for (const p of kParents()) ok(!exists(path.join(MDEV_BUS, p, uuid)), `${p}/${uuid} still there`);
}
/** Definitions as stored: [{uuid, parent, cfg}], by parent then UUID. */
function defs() {
  const out = [];
  for (const parent of ls(CONFIG)) {
    if (parent === 'scripts.d') continue;
    for (const uuid of ls(path.join(CONFIG, parent))) {
      if (!UUID_RE.test(uuid)) continue;
      out.push({ uuid, parent, cfg: JSON.parse(fs.readFileSync(path.join(CONFIG, parent, uuid), 'utf8')) });
    }
  }
  return out;
}
function defFile(parent, uuid) {
  return path.join(CONFIG, parent, uuid);
}

// ---------------------------------------------------------------------------------------------
// What mdevctl 1.4 must print for the kernel's state (REFERENCE 4 and 5)

/** mdevctl's JSON shape: one object keyed by parent, each an array of one-key objects. */
function group(items, key, value) {
  const obj = {};
  for (const it of items) (obj[key(it)] ??= []).push(value(it));
  return Object.keys(obj).length ? [obj] : [];
}
function expectedTypesJson(only) {
  const obj = {};
  for (const p of kParents().filter((x) => !only || x === only)) obj[p] = kTypes(p).map(({ id, ...rest }) => ({ [id]: rest }));
  return Object.keys(obj).length ? [obj] : [];
}
function expectedTypesText(only) {
  let s = '';
  for (const p of kParents().filter((x) => !only || x === only)) {
    s += `${p}\n`;
    for (const t of kTypes(p)) {
      s += `  ${t.id}\n    Available instances: ${t.available_instances}\n    Device API: ${t.device_api}\n`;
      if (t.name) s += `    Name: ${t.name}\n`;
      if (t.description) s += `    Description: ${t.description}\n`;
    }
  }
  return s;
}
const startOf = (cfg) => (cfg.start === 'auto' ? 'auto' : 'manual');
function expectedActive() {
  const ds = defs();
  return kActive().map((a) => {
    const d = ds.find((x) => x.uuid === a.uuid && x.parent === a.parent);
    return { ...a, start: d ? startOf(d.cfg) : 'manual', defined: !!d };
  });
}
function attrLines(attrs) {
  if (!attrs || attrs.length === 0) return '';
  return '  Attrs:\n' + attrs.map((a, i) => `    @{${i}}: ${JSON.stringify(a)}\n`).join('');
}
function expectedList() {
  const act = expectedActive();
  return {
    text: act.map((a) => `${a.uuid} ${a.parent} ${a.type} ${a.start}${a.defined ? ' (defined)' : ''}\n`).join(''),
    json: group(
      act,
      (a) => a.parent,
      (a) => ({ [a.uuid]: { mdev_type: a.type, start: a.start, attrs: [] } }),
    ),
  };
}
function expectedListDefined() {
  const act = kActive();
  const ds = defs();
  const line = (d) => {
    const running = act.some((a) => a.uuid === d.uuid && a.parent === d.parent && a.type === d.cfg.mdev_type);
    return `${d.uuid} ${d.parent} ${d.cfg.mdev_type} ${startOf(d.cfg)}${running ? ' (active)' : ''}\n`;
  };
  return {
    text: ds.map(line).join(''),
    verbose: ds.map((d) => line(d) + attrLines(d.cfg.attrs)).join(''),
    json: group(
      ds,
      (d) => d.parent,
      (d) => ({
        [d.uuid]: { mdev_type: d.cfg.mdev_type, start: startOf(d.cfg), attrs: d.cfg.attrs ?? [] },
      }),
    ),
  };
}
const parseJson = (r, what) => {
  okRun(r, what);
  // 1.4's rule: JSON ends with its last bracket, no newline
  ok(/[\]}]$/.test(r.stdout), `${what}: stdout does not end with ] or }: ${JSON.stringify(r.stdout.slice(-3))}`);
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Failure(`${what}: not JSON: ${JSON.stringify(r.stdout)}`);
  }
};

/**
 * `list` in every form, against the kernel's state, the stored definitions and 1.2.0 (each of
 * our outputs is produced once and compared with both). FULL adds `lsmdev`, `-u` and `-p`.
 */
function checkLists(when, full = false) {
  const a = expectedList();
  const d = expectedListDefined();
  const ours = {};
  const get = (...args) => (ours[args.join(' ')] ??= md(...args));
  okRun(get('list'), `${when}: list`, a.text);
  eq(parseJson(get('list', '--dumpjson'), `${when}: list --dumpjson`), a.json, `${when}: list --dumpjson`);
  okRun(get('list', '-d'), `${when}: list -d`, d.text);
  okRun(get('list', '-d', '-v'), `${when}: list -d -v`, d.verbose);
  eq(parseJson(get('list', '-d', '--dumpjson'), `${when}: list -d --dumpjson`), d.json, `${when}: list -d --dumpjson`);
  if (full) {
    okRun(run('lsmdev', []), `${when}: lsmdev`, a.text);
    for (const x of expectedActive()) {
      okRun(md('list', '-u', x.uuid), `${when}: list -u`, `${x.uuid} ${x.parent} ${x.type} ${x.start}${x.defined ? ' (defined)' : ''}\n`);
      eq(
        parseJson(md('list', '-u', x.uuid, '--dumpjson'), `${when}: list -u --dumpjson`),
        { mdev_type: x.type, start: x.start, attrs: [] },
        `${when}: list -u ${x.uuid} --dumpjson`,
      );
    }
    for (const p of new Set(expectedActive().map((x) => x.parent))) {
      const lines = a.text.split('\n').filter((l) => l.split(' ')[1] === p);
      okRun(md('list', '-p', p), `${when}: list -p ${p}`, lines.map((l) => `${l}\n`).join(''));
    }
  }
  // Side by side with 1.2.0. Its active listing takes a defined device's type and attributes
  // from the definition, 1.4's from sysfs and callouts (REFERENCE 9): compared only where the two
  // rules give the same answer.
  const ds = defs();
  const rulesAgree = kActive().every((x) => {
    const def = ds.find((y) => y.uuid === x.uuid && y.parent === x.parent);
    return !def || (def.cfg.mdev_type === x.type && (def.cfg.attrs ?? []).length === 0);
  });
  const forms = [
    ['list', '-d'],
    ['list', '-d', '-v'],
    ['list', '-d', '--dumpjson'],
  ];
  if (rulesAgree) forms.push(['list'], ['list', '--dumpjson']);
  sideBySide(when, forms, get);
}

function sideBySide(when, commands, get = md) {
  if (!REF) throw new Failure('mdevctl 1.2.0 is not available for the side-by-side comparison');
  for (const args of commands) {
    const ours = get(...args);
    const theirs = ref(...args);
    eq([ours.status, ours.stdout], [theirs.status, norm(theirs.stdout)], `${when}: \`${args.join(' ')}\` ours vs 1.2.0`);
  }
}

/** `types` (text and JSON) against the kernel's files and 1.2.0; FULL adds `-p` for each parent. */
function checkTypes(when, full = false) {
  const ours = {};
  const get = (...args) => (ours[args.join(' ')] ??= md(...args));
  okRun(get('types'), `${when}: types`, expectedTypesText());
  eq(parseJson(get('types', '--dumpjson'), `${when}: types --dumpjson`), expectedTypesJson(), `${when}: types --dumpjson`);
  const forms = [['types'], ['types', '--dumpjson']];
  if (full) {
    for (const p of kParents()) {
      okRun(get('types', '-p', p), `${when}: types -p ${p}`, expectedTypesText(p));
      eq(parseJson(get('types', '-p', p, '--dumpjson'), `${when}: types -p --dumpjson`), expectedTypesJson(p), `${when}: types -p ${p} --dumpjson`);
      forms.push(['types', '-p', p]);
    }
  }
  sideBySide(when, forms, get);
}

/** Stop every running device and remove every definition (through the CLI, checked). */
function reset() {
  for (const a of kActive()) okRun(md('stop', '-u', a.uuid), `reset: stop ${a.uuid}`);
  for (const d of defs()) okRun(md('undefine', '-u', d.uuid, '-p', d.parent), `reset: undefine ${d.uuid}`);
  eq(kActive().length, 0, 'reset: devices left running');
  eq(defs().length, 0, 'reset: definitions left');
}

/** After a failed scenario: stop and forget everything behind the CLI's back, so the next starts clean. */
function cleanSlate() {
  for (const u of ls(BUS_DEVICES)) {
    try {
      fs.writeFileSync(path.join(BUS_DEVICES, u, 'remove'), '1');
    } catch {
      /* gone already */
    }
  }
  for (const p of ls(CONFIG)) if (p !== 'scripts.d') fs.rmSync(path.join(CONFIG, p), { recursive: true, force: true });
  run('udevadm', ['control', '--exit']);
  for (const m of ['mtty', 'mdpy', 'mbochs']) run('modprobe', [m]);
}

// ---------------------------------------------------------------------------------------------
// The suite

const results = [];
// MDEVCTL_KERNEL_SCENARIOS (run.sh writes it to OUT/scenarios): only the scenarios matching it
const ONLY = exists(path.join(OUT, 'scenarios')) ? new RegExp(readTrim(path.join(OUT, 'scenarios'))) : null;
async function scenario(name, fn) {
  if (ONLY && !ONLY.test(name)) return;
  const t0 = Date.now();
  let error = null;
  try {
    await fn();
  } catch (e) {
    error = e instanceof Failure ? e.message : (e && e.stack) || String(e);
    cleanSlate();
  }
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  results.push({ name, ok: !error, secs, error });
  const line = error ? `FAIL ${name} (${secs} s): ${error}` : `ok   ${name} (${secs} s)`;
  process.stdout.write(`${line}\n`);
}

const T = {}; // the sample types, learnt from the kernel

await scenario('module states: no mdev module -> no /sys/class/mdev_bus; list and types print nothing', () => {
  ok(!exists(MDEV_BUS), `${MDEV_BUS} exists before the mdev module is loaded`);
  okRun(md('types'), 'types', '');
  okRun(md('list'), 'list', '');
  okRun(md('list', '-d'), 'list -d', '');
  eq(parseJson(md('types', '--dumpjson'), 'types --dumpjson'), [], 'types --dumpjson');
});

await scenario('module states: mdev only -> an empty /sys/class/mdev_bus', () => {
  modprobe('mdev');
  ok(exists(MDEV_BUS), `${MDEV_BUS} missing with the mdev module loaded`);
  eq(ls(MDEV_BUS), [], `${MDEV_BUS} contents`);
  okRun(md('types'), 'types', '');
  eq(parseJson(md('types', '--dumpjson'), 'types --dumpjson'), [], 'types --dumpjson');
  sideBySide('mdev only', [['types'], ['types', '--dumpjson'], ['list']]);
});

await scenario('module states: mtty, mdpy and mbochs loaded -> three parents', () => {
  modprobe('mtty');
  modprobe('mdpy');
  modprobe('mbochs');
  eq(kParents(), ['mbochs', 'mdpy', 'mtty'], `${MDEV_BUS} contents`);
  for (const p of kParents()) {
    eq(fs.readlinkSync(path.join(MDEV_BUS, p)), `../../devices/virtual/${p}/${p}`, `${MDEV_BUS}/${p} link`);
    T[p] = kTypes(p).map((t) => t.id);
    ok(T[p].length > 0, `${p} has no types`);
  }
  eq(T.mtty, ['mtty-1', 'mtty-2'], 'mtty types');
});

await scenario('types (text, JSON, -p) for mtty, mdpy and mbochs, vs the kernel and 1.2.0', () => {
  checkTypes('idle', true);
});

await scenario('start -p -t -u, then stop: the device dir, links and available_instances', () => {
  const before = { one: kAvailable('mtty', 'mtty-1'), two: kAvailable('mtty', 'mtty-2') };
  okRun(md('start', '-p', 'mtty', '-t', 'mtty-2', '-u', UUIDS.fixture), 'start', '');
  checkRunning(UUIDS.fixture, 'mtty', 'mtty-2');
  eq(fs.realpathSync(path.join(BUS_DEVICES, UUIDS.fixture)), `/sys/devices/virtual/mtty/mtty/${UUIDS.fixture}`, 'device dir');
  // mtty shares its ports: a dual-port device takes two of the single-port type's too
  eq([kAvailable('mtty', 'mtty-1'), kAvailable('mtty', 'mtty-2')], [before.one - 2, before.two - 1], 'available_instances after start');
  checkLists('one transient mtty device', true);
  checkTypes('one transient mtty device');
  okRun(md('stop', '-u', UUIDS.fixture), 'stop', '');
  checkGone(UUIDS.fixture);
  eq([kAvailable('mtty', 'mtty-1'), kAvailable('mtty', 'mtty-2')], [before.one, before.two], 'available_instances after stop');
  okRun(md('list'), 'list after stop', '');
});

await scenario('start -p -t without -u prints the new UUID, which the kernel has', () => {
  const r = okRun(md('start', '-p', 'mdpy', '-t', T.mdpy[0]), 'start');
  ok(/^[0-9a-f-]{36}\n$/.test(r.stdout), `stdout ${JSON.stringify(r.stdout)} is not one UUID line`);
  const uuid = r.stdout.trim();
  checkRunning(uuid, 'mdpy', T.mdpy[0]);
  checkLists('a generated UUID');
  okRun(md('stop', '-u', uuid), 'stop', '');
  checkGone(uuid);
});

await scenario('capture: the real sysfs layout of each sample parent with one running device', () => {
  for (const p of ['mtty', 'mdpy', 'mbochs']) {
    const uuid = p === 'mtty' ? UUIDS.fixture : UUIDS.g;
    const type = p === 'mtty' ? 'mtty-2' : T[p][0];
    okRun(md('start', '-p', p, '-t', type, '-u', uuid), `start ${p}`);
    const layout = { kernel: KVER, parent: p, uuid, type, layout: capture('/sys', p, uuid) };
    fs.writeFileSync(path.join(OUT, `layout-${p}.json`), `${JSON.stringify(layout, null, 1)}\n`);
    okRun(md('stop', '-u', uuid), `stop ${p}`);
    checkGone(uuid);
  }
});

await scenario('define --auto / define (manual), then start -u: definition files and sysfs', () => {
  okRun(md('define', '-u', UUIDS.a, '-p', 'mdpy', '-t', T.mdpy[0], '--auto'), 'define --auto', '');
  eq(fs.readFileSync(defFile('mdpy', UUIDS.a), 'utf8'), JSON.stringify({ mdev_type: T.mdpy[0], start: 'auto', attrs: [] }, null, 2), 'definition file bytes');
  const r = okRun(md('define', '-p', 'mbochs', '-t', T.mbochs[0]), 'define (generated UUID)');
  ok(/^[0-9a-f-]{36}\n$/.test(r.stdout), `define stdout ${JSON.stringify(r.stdout)}`);
  const gen = r.stdout.trim();
  eq(
    defs()
      .map((d) => [d.parent, d.uuid, d.cfg.start])
      .sort(),
    [
      ['mbochs', gen, 'manual'],
      ['mdpy', UUIDS.a, 'auto'],
    ].sort(),
    'definitions',
  );
  eq(kActive().length, 0, 'define started something');
  okRun(md('start', '-u', UUIDS.a), 'start -u (auto)', '');
  checkRunning(UUIDS.a, 'mdpy', T.mdpy[0]);
  okRun(md('start', '-u', gen), 'start -u (manual)', '');
  checkRunning(gen, 'mbochs', T.mbochs[0]);
  checkLists('two defined devices running');
  reset();
});

await scenario('start-parent-mdevs starts the auto definitions of one parent only', () => {
  okRun(md('define', '-u', UUIDS.a, '-p', 'mtty', '-t', 'mtty-1', '--auto'), 'define a');
  okRun(md('define', '-u', UUIDS.b, '-p', 'mtty', '-t', 'mtty-2', '--auto'), 'define b');
  okRun(md('define', '-u', UUIDS.c, '-p', 'mtty', '-t', 'mtty-1'), 'define c (manual)');
  okRun(md('define', '-u', UUIDS.d, '-p', 'mdpy', '-t', T.mdpy[0], '--auto'), 'define d (other parent)');
  okRun(md('start-parent-mdevs', 'mtty'), 'start-parent-mdevs mtty');
  checkRunning(UUIDS.a, 'mtty', 'mtty-1');
  checkRunning(UUIDS.b, 'mtty', 'mtty-2');
  checkGone(UUIDS.c);
  checkGone(UUIDS.d);
  checkLists('after start-parent-mdevs');
  // again: the running ones are skipped, nothing fails
  okRun(md('start-parent-mdevs', 'mtty'), 'start-parent-mdevs mtty again');
  eq(
    kActive().map((a) => a.uuid),
    [UUIDS.a, UUIDS.b],
    'running after the second run',
  );
  reset();
});

await scenario("libvirt's transient start: start --parent=P --jsonfile=/dev/stdin [--uuid=U]", () => {
  const cfg = JSON.stringify({ mdev_type: T.mbochs[0], start: 'manual', attrs: [] });
  const r = okRun(mdIn(cfg, 'start', '--parent=mbochs', '--jsonfile=/dev/stdin'), 'start (generated UUID)');
  ok(/^[0-9a-f-]{36}\n$/.test(r.stdout), `stdout ${JSON.stringify(r.stdout)}`);
  checkRunning(r.stdout.trim(), 'mbochs', T.mbochs[0]);
  okRun(mdIn(cfg, 'start', '--parent=mbochs', '--jsonfile=/dev/stdin', `--uuid=${UUIDS.e}`), 'start --uuid', '');
  checkRunning(UUIDS.e, 'mbochs', T.mbochs[0]);
  eq(defs().length, 0, 'a transient start wrote a definition');
  // libvirt's sync
  checkLists('two transient mbochs devices');
  okRun(md(`stop`, `--uuid=${UUIDS.e}`), 'libvirt stop', '');
  checkGone(UUIDS.e);
  reset();
});

await scenario('a UUID already running: start refuses, the kernel keeps one device', () => {
  okRun(md('start', '-p', 'mtty', '-t', 'mtty-1', '-u', UUIDS.a), 'start');
  const avail = kAvailable('mtty', 'mtty-1');
  failRun(md('start', '-p', 'mtty', '-t', 'mtty-1', '-u', UUIDS.a), 'start again', /^Error: Device already exists\n$/);
  failRun(md('start', '-p', 'mdpy', '-t', T.mdpy[0], '-u', UUIDS.a), 'start on another parent', /^Error: Device exists under different parent\n$/);
  eq(
    kActive().map((a) => a.uuid),
    [UUIDS.a],
    'running',
  );
  eq(kAvailable('mtty', 'mtty-1'), avail, 'available_instances');
  // the kernel itself refuses the UUID too: what our check spares the user
  const w = run('/bin/sh', ['-c', `printf %s ${UUIDS.a} > ${MDEV_BUS}/mtty/mdev_supported_types/mtty-1/create`]);
  ok(w.status !== 0, 'the kernel accepted a UUID that runs');
  reset();
});

await scenario('a type filled to 0, then one more: refused, nothing half-made', () => {
  const type = T.mdpy[0];
  const n = kAvailable('mdpy', type);
  ok(n > 0 && n <= 16, `mdpy ${type} has ${n} instances`);
  const started = [];
  for (let i = 0; i < n; i++) {
    const r = okRun(md('start', '-p', 'mdpy', '-t', type), `start ${i + 1} of ${n}`);
    started.push(r.stdout.trim());
  }
  eq(kAvailable('mdpy', type), 0, 'available_instances when full');
  for (const t of T.mdpy) eq(kAvailable('mdpy', t), 0, `${t} available when full (shared count)`);
  failRun(md('start', '-p', 'mdpy', '-t', type, '-u', UUIDS.f), 'one more', /available instances|capacity|ENOSPC/i);
  checkGone(UUIDS.f);
  eq(kActive().length, n, 'running count');
  okRun(md('define', '-u', UUIDS.f, '-p', 'mdpy', '-t', type), 'define one more');
  failRun(md('start', '-u', UUIDS.f), 'start the defined one more', /available instances|capacity|ENOSPC/i);
  checkGone(UUIDS.f);
  checkLists('a full type');
  reset();
  eq(kAvailable('mdpy', type), n, 'available_instances after reset');
});

await scenario('modify: --auto/--manual, --addattr/--delattr, -t; running device untouched', () => {
  okRun(md('define', '-u', UUIDS.a, '-p', 'mtty', '-t', 'mtty-1'), 'define');
  okRun(md('start', '-u', UUIDS.a), 'start');
  const bytes = (cfg) => JSON.stringify(cfg, null, 2);
  okRun(md('modify', '-u', UUIDS.a, '--auto'), 'modify --auto', '');
  eq(fs.readFileSync(defFile('mtty', UUIDS.a), 'utf8'), bytes({ mdev_type: 'mtty-1', start: 'auto', attrs: [] }), 'after --auto');
  okRun(md('modify', '-u', UUIDS.a, '--addattr', 'example', '--value', 'one'), 'modify --addattr', '');
  okRun(md('modify', '-u', UUIDS.a, '--addattr', 'other', '--value', 'two', '--index', '0'), 'modify --addattr --index 0', '');
  eq(
    fs.readFileSync(defFile('mtty', UUIDS.a), 'utf8'),
    bytes({ mdev_type: 'mtty-1', start: 'auto', attrs: [{ other: 'two' }, { example: 'one' }] }),
    'after --addattr',
  );
  checkLists('modify --addattr (defined device with attributes, running)');
  okRun(md('modify', '-u', UUIDS.a, '--delattr', '--index', '1'), 'modify --delattr --index 1', '');
  okRun(md('modify', '-u', UUIDS.a, '--manual', '-t', 'mtty-2'), 'modify --manual -t', '');
  eq(
    fs.readFileSync(defFile('mtty', UUIDS.a), 'utf8'),
    bytes({ mdev_type: 'mtty-2', start: 'manual', attrs: [{ other: 'two' }] }),
    'after --delattr, --manual, -t',
  );
  checkRunning(UUIDS.a, 'mtty', 'mtty-1');
  okRun(md('modify', '-u', UUIDS.a, '--delattr'), 'modify --delattr', '');
  checkLists('modify -t (the definition no longer matches the running type)');
  failRun(md('modify', '-u', UUIDS.b, '--auto'), 'modify an undefined device', /not defined/);
  reset();
});

await scenario('undefine: the file goes, the running device stays', () => {
  okRun(md('define', '-u', UUIDS.a, '-p', 'mbochs', '-t', T.mbochs[0], '--auto'), 'define');
  okRun(md('start', '-u', UUIDS.a), 'start');
  okRun(md('undefine', '-u', UUIDS.a), 'undefine', '');
  ok(!exists(defFile('mbochs', UUIDS.a)), 'definition file still there');
  checkRunning(UUIDS.a, 'mbochs', T.mbochs[0]);
  checkLists('undefined while running');
  failRun(md('undefine', '-u', UUIDS.a), 'undefine again', /No devices match/);
  reset();
});

await scenario('unloading a parent driver while its device runs: the kernel removes the device', () => {
  okRun(md('define', '-u', UUIDS.a, '-p', 'mtty', '-t', 'mtty-2', '--auto'), 'define');
  okRun(md('start', '-u', UUIDS.a), 'start');
  okRun(md('start', '-p', 'mdpy', '-t', T.mdpy[0], '-u', UUIDS.b), 'start another parent');
  rmmod('mtty');
  ok(!exists(path.join(MDEV_BUS, 'mtty')), 'mdev_bus/mtty still there after rmmod');
  checkGone(UUIDS.a);
  checkRunning(UUIDS.b, 'mdpy', T.mdpy[0]);
  checkLists('parent unloaded');
  checkTypes('parent unloaded');
  failRun(md('start', '-u', UUIDS.a), 'start with the parent gone', /parent/i);
  modprobe('mtty');
  checkGone(UUIDS.a);
  okRun(md('start', '-u', UUIDS.a), 'start after reload');
  checkRunning(UUIDS.a, 'mtty', 'mtty-2');
  reset();
});

await scenario('monitor sees started, stopped, parent-removed, parent-added', async () => {
  const child = spawn('mdevctl', ['monitor', '--interval', '0.2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b) => (out += b));
  let err = '';
  child.stderr.on('data', (b) => (err += b));
  // each wait is bounded (30 s, polling every 0.1 s) and ends as soon as what it waits for is there
  const waitUntil = async (done, what) => {
    for (let i = 0; i < 300 && !done(); i++) await sleep(100);
    ok(done(), `monitor did not print ${what} (printed ${JSON.stringify(out)}, stderr ${JSON.stringify(err)})`);
  };
  const waitFor = (re, what) => waitUntil(() => re.test(out), what);
  try {
    // its first scan is its baseline (the state it starts from is not a change): it says on stderr
    // that it is watching once that scan is done, and only then is anything started
    await waitUntil(() => err.includes('press Ctrl-C to stop'), 'its start message on stderr');
    okRun(md('start', '-p', 'mtty', '-t', 'mtty-1', '-u', UUIDS.c), 'start');
    await waitFor(new RegExp(`^started ${UUIDS.c} mtty mtty-1$`, 'm'), 'started');
    okRun(md('stop', '-u', UUIDS.c), 'stop');
    await waitFor(new RegExp(`^stopped ${UUIDS.c} mtty mtty-1$`, 'm'), 'stopped');
    rmmod('mbochs');
    await waitFor(/^parent-removed mbochs$/m, 'parent-removed');
    modprobe('mbochs');
    await waitFor(/^parent-added mbochs$/m, 'parent-added');
  } finally {
    child.kill('SIGINT');
  }
  const code = await new Promise((res) => child.on('close', (c, sig) => res(c ?? sig)));
  eq(code, 0, 'monitor exit status on SIGINT');
  eq(
    out.split('\n').filter(Boolean),
    [`started ${UUIDS.c} mtty mtty-1`, `stopped ${UUIDS.c} mtty mtty-1`, 'parent-removed mbochs', 'parent-added mbochs'],
    'monitor lines',
  );
});

await scenario('udev: systemd-udevd runs 60-mdevctl.rules; loading mtty autostarts its auto definition', async () => {
  reset();
  rmmod('mtty');
  okRun(md('define', '-u', UUIDS.d, '-p', 'mtty', '-t', 'mtty-2', '--auto'), 'define auto');
  okRun(md('define', '-u', UUIDS.e, '-p', 'mtty', '-t', 'mtty-1'), 'define manual');
  // udev runs only here: earlier scenarios load drivers with definitions around and must not race it
  sh('/lib/systemd/systemd-udevd --daemon');
  sh('udevadm control --ping');
  modprobe('mtty');
  for (let i = 0; i < 300 && !kRunning(UUIDS.d); i++) await sleep(100);
  sh('udevadm settle --timeout=30');
  checkRunning(UUIDS.d, 'mtty', 'mtty-2');
  checkGone(UUIDS.e);
  checkLists('autostarted by udev');
  sh('udevadm control --exit');
  // udev runs the rule for the parent's "add" and "change" events at once; the run that loses
  // the race to start the device must not log a failure (it did before start-parent-mdevs
  // re-checked: "Failed to start ... File exists (EEXIST)")
  const log = exists('/results/syslog') ? fs.readFileSync('/results/syslog', 'utf8') : '';
  eq(
    log.split('\n').filter((l) => l.includes('mdevctl') && l.includes(UUIDS.d)),
    [],
    'mdevctl lines in the syslog about the device',
  );
  reset();
});

// ---------------------------------------------------------------------------------------------
// Autostart at boot (issue 25): systemd is not PID 1 in this guest (busybox init + a chroot), so
// mdevctl-autostart.service is run as systemd would run its ExecStart: the unit's argv and its
// Environment= lines (a drop-in's value where a scenario says so), stderr to the syslog through
// logger (the journal's stand-in), with the real systemd-udevd and our rule running beside it.
// mtty is loaded 10 s into the wait by a background job standing in for a late vendor daemon.

const UNIT = path.join(path.dirname(new URL(import.meta.url).pathname), '../../systemd/mdevctl-autostart.service');
const CALLOUT_LOG = '/run/callout.log';
const CALLOUT = '/etc/mdevctl.d/scripts.d/callouts/zz-log';

/** ExecStart's words and Environment= of the unit (the few forms it uses: no quoting). */
function readUnit() {
  const text = fs.readFileSync(UNIT, 'utf8');
  const env = {};
  let exec = null;
  for (const line of text.split('\n')) {
    const m = /^(ExecStart|Environment)=(.*)$/.exec(line.trim());
    if (!m) continue;
    if (m[1] === 'ExecStart') exec = m[2].split(/\s+/);
    else for (const kv of m[2].split(/\s+/)) env[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1);
  }
  ok(exec && exec[0] === '/usr/bin/env', `ExecStart of the unit: ${exec}`);
  return { exec, env };
}

/** Run the unit's ExecStart as systemd would (own environment, not ours), its stderr to the syslog. */
function runUnit(unit, dropIn) {
  const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', ...unit.env, ...dropIn };
  calls.ours++;
  const r = spawnSync(unit.exec[0], unit.exec.slice(1), { env, encoding: 'utf8', timeout: 120_000 });
  spawnSync('logger', ['-t', 'mdevctl-autostart'], { input: r.stderr ?? '' });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

/** A callout script that logs every call (and handles none: exit 2), to count the starts. */
function installCalloutLog() {
  fs.writeFileSync(CALLOUT, `#!/bin/sh\necho "$*" >> ${CALLOUT_LOG}\nexit 2\n`, { mode: 0o755 });
  fs.rmSync(CALLOUT_LOG, { force: true });
}
function preStarts(uuid) {
  const log = exists(CALLOUT_LOG) ? fs.readFileSync(CALLOUT_LOG, 'utf8') : '';
  return log.split('\n').filter((l) => / -e pre /.test(` ${l} `) && / -a start /.test(` ${l} `) && l.includes(uuid)).length;
}
function statusFile() {
  return JSON.parse(fs.readFileSync('/run/mdevctl/autostart.json', 'utf8'));
}
function lateModprobe(mod, secs) {
  return spawn('/bin/sh', ['-c', `sleep ${secs}; modprobe ${mod}`], { stdio: 'ignore' });
}
const exited = (child) => new Promise((res) => (child.exitCode !== null ? res() : child.on('exit', res)));
/** Stop systemd-udevd and wait until it is gone (it would start auto definitions reset() stops). */
async function stopUdev() {
  run('udevadm', ['control', '--exit']);
  for (let i = 0; i < 100 && run('pidof', ['systemd-udevd']).status === 0; i++) await sleep(100);
  const left = run('pidof', ['systemd-udevd']).stdout.trim();
  if (left !== '') run('kill', left.split(/\s+/));
}

await scenario("autostart: mdevctl-autostart.service's start-all waits for mtty loaded 10 s late, with the udev rule live; status", async () => {
  await stopUdev(); // the udev scenario's daemon may still be going away
  reset();
  rmmod('mtty');
  const unit = readUnit();
  installCalloutLog();
  okRun(md('define', '-u', UUIDS.d, '-p', 'mtty', '-t', 'mtty-2', '--auto'), 'define auto d');
  // e starts after d (the "after" key, ours; upstream ignores it)
  okRun(
    mdIn(
      JSON.stringify({ mdev_type: 'mtty-1', start: 'auto', attrs: [], after: [UUIDS.d] }),
      'define',
      '-u',
      UUIDS.e,
      '-p',
      'mtty',
      '--jsonfile',
      '/dev/stdin',
    ),
    'define auto e after d',
  );
  okRun(md('define', '-u', UUIDS.f, '-p', 'mtty', '-t', 'mtty-1'), 'define manual f');
  fs.rmSync('/run/mdevctl', { recursive: true, force: true });
  const before = md('status');
  eq(
    [before.status, before.stdout],
    [3, `${UUIDS.d} mtty mtty-2 not running: no start-all ran since boot\n${UUIDS.e} mtty mtty-1 not running: no start-all ran since boot\n`],
    'status before',
  );
  sh('/lib/systemd/systemd-udevd --daemon');
  sh('udevadm control --ping');
  const t0 = Date.now();
  const late = lateModprobe('mtty', 10);
  const r = runUnit(unit, {});
  const secs = (Date.now() - t0) / 1000;
  await exited(late);
  sh('udevadm settle --timeout=30');
  await stopUdev();
  okRun(r, `start-all (stderr ${JSON.stringify(r.stderr)})`, '');
  ok(secs >= 9, `start-all returned after ${secs} s, before mtty was loaded`);
  checkRunning(UUIDS.d, 'mtty', 'mtty-2');
  checkRunning(UUIDS.e, 'mtty', 'mtty-1');
  checkGone(UUIDS.f);
  checkLists('autostarted at boot');
  // one line per device in the journal's stand-in: started by start-all, or running (udev was first)
  const lines = r.stderr.split('\n').filter(Boolean);
  for (const u of [UUIDS.d, UUIDS.e]) {
    eq(lines.filter((l) => l.includes(u) && /^(started|running) /.test(l)).length, 1, `start-all's lines about ${u}: ${JSON.stringify(lines)}`);
  }
  ok(!lines.some((l) => l.includes(UUIDS.f)), `start-all spoke of the manual definition: ${JSON.stringify(lines)}`);
  ok(/^waiting up to 90 s for 2 definitions: /.test(lines[0]), `first line: ${JSON.stringify(lines[0])}`);
  const syslog = exists('/results/syslog') ? fs.readFileSync('/results/syslog', 'utf8') : '';
  for (const u of [UUIDS.d, UUIDS.e])
    ok(
      syslog.split('\n').some((l) => l.includes('mdevctl-autostart') && l.includes(u)),
      `no syslog line about ${u}`,
    );
  ok(!/Failed to start|Warning/.test(syslog), `warnings in the syslog: ${syslog}`);
  // never started twice: one pre-start callout per device, whoever (start-all or udev) started it
  eq([preStarts(UUIDS.d), preStarts(UUIDS.e)], [1, 1], 'pre-start callouts of d and e');
  // e after d: its start came later (the status file's times)
  const file = statusFile();
  ok(file.finished !== null, 'status file: finished');
  const rec = Object.fromEntries(file.definitions.map((x) => [x.uuid, x]));
  ok(
    ['started', 'running'].includes(rec[UUIDS.d].state) && ['started', 'running'].includes(rec[UUIDS.e].state),
    `status file states: ${JSON.stringify(file.definitions)}`,
  );
  ok(rec[UUIDS.d].since <= rec[UUIDS.e].since, 'e came up before d');
  okRun(md('status'), 'status', `${UUIDS.d} mtty mtty-2 running\n${UUIDS.e} mtty mtty-1 running\n`);
  const js = JSON.parse(okRun(md('status', '--dumpjson'), 'status --dumpjson').stdout);
  eq(
    js.definitions.map((x) => [x.uuid, x.running]),
    [
      [UUIDS.d, true],
      [UUIDS.e, true],
    ],
    'status --dumpjson',
  );
  fs.rmSync(CALLOUT, { force: true });
  reset();
});

await scenario("autostart: a type that never appears: start-all gives up after the drop-in's wait, says why; status exits 3", async () => {
  await stopUdev();
  reset();
  rmmod('mtty');
  const unit = readUnit();
  okRun(md('define', '-u', UUIDS.d, '-p', 'mtty', '-t', 'mtty-2', '--auto'), 'define auto d');
  okRun(md('define', '-u', UUIDS.g, '-p', 'mtty', '-t', 'mtty-9', '--auto'), 'define auto g (a type mtty never offers)');
  fs.rmSync('/run/mdevctl', { recursive: true, force: true });
  const late = lateModprobe('mtty', 10);
  const t0 = Date.now();
  const r = runUnit(unit, { MDEVCTL_AUTOSTART_WAIT: '20' });
  const secs = (Date.now() - t0) / 1000;
  await exited(late);
  run('/bin/sh', ['-c', 'ps -ef > /results/ps-never.txt']); // for the log: what runs (no udevd here)
  eq(r.status, 1, `start-all's exit status (stderr ${JSON.stringify(r.stderr)})`);
  eq(r.stdout, '', 'start-all stdout');
  ok(secs >= 19, `start-all gave up after ${secs} s, before its 20 s`);
  checkRunning(UUIDS.d, 'mtty', 'mtty-2');
  checkGone(UUIDS.g);
  const lines = r.stderr.split('\n').filter(Boolean);
  ok(
    lines.includes(`Warning: not started ${UUIDS.g} on mtty (mtty-9): type mtty-9 is not offered by mtty (gave up after 20 s)`),
    `start-all's stderr: ${JSON.stringify(lines)}`,
  );
  ok(lines.includes(`started ${UUIDS.d} on mtty (mtty-2)`), `start-all's stderr: ${JSON.stringify(lines)}`);
  eq(lines[lines.length - 1], 'Error: 1 of 2 auto-start definitions did not start', 'last line');
  const st = md('status');
  eq(st.status, 3, 'status exit status');
  eq(st.stdout, `${UUIDS.d} mtty mtty-2 running\n${UUIDS.g} mtty mtty-9 not running: type mtty-9 is not offered by mtty (gave up after 20 s)\n`, 'status');
  const rec = Object.fromEntries(statusFile().definitions.map((x) => [x.uuid, x]));
  eq([rec[UUIDS.d].state, rec[UUIDS.g].state], ['started', 'failed'], 'status file states');
  reset();
});

const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
const report = [
  `kernel ${KVER} (${SERIES}): ${passed} passed, ${failed} failed (${calls.ours} calls of our CLI, ${calls.reference} of 1.2.0)`,
  ...results.map((r) => (r.ok ? `  ok   ${r.name} (${r.secs} s)` : `  FAIL ${r.name} (${r.secs} s)\n       ${r.error.split('\n').join('\n       ')}`)),
];
fs.writeFileSync(path.join(OUT, 'report.txt'), `${report.join('\n')}\n`);
fs.writeFileSync(path.join(OUT, 'summary.txt'), `${passed} ${failed}\n`);
