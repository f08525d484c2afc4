/**
 * --dry-run: the checks of the real run, the plan on stdout (text or --dumpjson), the exit status
 * of the real run, and not one byte changed under the root.
 */
import * as fs from 'node:fs';
import { FakeTree } from './support/tree';
import { run } from './support/cli';
import { addLoggingScript, calls, logPath, print, supports } from './support/callout-script';

const P = '0000:00:02.0';
const P2 = '0000:00:03.0';
const U1 = '11111111-1111-4111-8111-111111111111';
const U2 = '22222222-2222-4222-8222-222222222222';
const U3 = '33333333-3333-4333-8333-333333333333';

function tree(): FakeTree {
  const t = new FakeTree().withStandardDirs();
  t.addParent(P, { 'test-a': { available: 1 }, 'test-b': { available: 0 } });
  t.addParent(P2, { 'test-a': { available: 4 } });
  t.addDefinition(P, U1, { mdev_type: 'test-a', start: 'auto', attrs: [{ knob: 'v1' }] });
  t.addDefinition(P2, U1, { mdev_type: 'test-a', start: 'manual', attrs: [] });
  t.addDefinition(P, U2, { mdev_type: 'test-a', start: 'auto', attrs: [] });
  return t;
}

let t: FakeTree;
let h0: string;
beforeEach(() => {
  t = tree();
  h0 = t.hash('identity');
});
afterEach(() => {
  expect(t.hash('identity')).toBe(h0);
  t.cleanup();
});

const dry = (...args: string[]) => run(['--dry-run', ...args], { root: t.root });

test('define: the file and its content; --dry-run after the verb works the same', () => {
  const expected = {
    status: 0,
    stdout: `make-dir /etc/mdevctl.d/${'0000:00:09.0'}\nwrite-file /etc/mdevctl.d/0000:00:09.0/${U3}\n    {\n      "mdev_type": "x",\n      "start": "auto",\n      "attrs": []\n    }\n`,
    stderr: '',
  };
  expect(dry('define', '-u', U3, '-p', '0000:00:09.0', '-t', 'x', '-a')).toEqual(expected);
  expect(run(['define', '-u', U3, '-p', '0000:00:09.0', '-t', 'x', '-a', '--dry-run'], { root: t.root })).toEqual(expected);
});

test('define without a UUID: the plan holds the generated UUID, printed nowhere else', () => {
  const r = dry('define', '-p', P, '-t', 'test-a');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^write-file \/etc\/mdevctl\.d\/0000:00:02\.0\/[0-9a-f-]{36}\n {4}\{\n/);
  expect(r.stdout.split('\n').filter((l) => /^[0-9a-f-]{36}$/.test(l))).toEqual([]);
});

test('define: the checks fail as in the real run, nothing on stdout', () => {
  expect(dry('define', '-u', U2, '-p', P, '-t', 'test-a')).toEqual({
    status: 1,
    stdout: '',
    stderr: `Error: Device ${U2} on ${P} already defined\n`,
  });
});

test('modify: the new content of the definition, as JSON too', () => {
  const r = dry('modify', '-u', U2, '--addattr', 'knob', '--value', 'a b', '--dumpjson');
  expect(r.status).toBe(0);
  expect(JSON.parse(r.stdout)).toEqual([
    {
      action: 'write-file',
      path: `/etc/mdevctl.d/${P}/${U2}`,
      content: JSON.stringify({ mdev_type: 'test-a', start: 'auto', attrs: [{ knob: 'a b' }] }, null, 2),
    },
  ]);
  expect(r.stdout).toBe(JSON.stringify(JSON.parse(r.stdout), null, 2));
  expect(dry('modify', '-u', U1, '--auto')).toEqual({
    status: 1,
    stdout: '',
    stderr: `Error: Multiple definitions found for ${U1}, specify a parent\n`,
  });
});

test('undefine: each file removed', () => {
  expect(dry('undefine', '-u', U1)).toEqual({
    status: 0,
    stdout: `remove-file /etc/mdevctl.d/${P}/${U1}\nremove-file /etc/mdevctl.d/${P2}/${U1}\n`,
    stderr: '',
  });
  expect(dry('undefine', '-u', U3)).toEqual({ status: 1, stdout: '', stderr: 'Error: No devices match the specified uuid\n' });
});

test('start: create and attributes; a type of an unknown driver plans attribute writes unchecked', () => {
  expect(dry('start', '-u', U1, '-p', P)).toEqual({
    status: 0,
    stdout: `sysfs-create /sys/class/mdev_bus/${P}/mdev_supported_types/test-a/create "${U1}"\n` + `sysfs-write /sys/bus/mdev/devices/${U1}/knob "v1"\n`,
    stderr: '',
  });
  expect(dry('start', '-u', U3, '-p', P, '-t', 'test-b')).toEqual({
    status: 1,
    stdout: '',
    stderr: `Error: No available instances of test-b on ${P}\n`,
  });
  expect(dry('start', '-u', U3, '-p', P, '-t', 'nope')).toEqual({
    status: 1,
    stdout: '',
    stderr: `Error: Parent ${P} does not support mdev type nope\n`,
  });
});

test('start of a transient device prints the plan, not the generated UUID', () => {
  const r = dry('start', '-p', P2, '-t', 'test-a');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(new RegExp(`^sysfs-create /sys/class/mdev_bus/${P2}/mdev_supported_types/test-a/create "[0-9a-f-]{36}"\\n$`));
});

test('attributes of a type with running devices are checked against them', () => {
  const U9 = '99999999-9999-4999-8999-999999999999';
  t.addActive(U9, P2, 'test-a', ['knob']);
  h0 = t.hash('identity');
  const json = (attr: string) => JSON.stringify({ mdev_type: 'test-a', start: 'manual', attrs: [{ [attr]: '1' }] });
  const ok = run(['--dry-run', 'start', '-u', U3, '-p', P2, '--jsonfile', '/dev/stdin'], { root: t.root, input: json('knob') });
  expect(ok).toEqual({
    status: 0,
    stdout: `sysfs-create /sys/class/mdev_bus/${P2}/mdev_supported_types/test-a/create "${U3}"\nsysfs-write /sys/bus/mdev/devices/${U3}/knob "1"\n`,
    stderr: '',
  });
  const bad = run(['--dry-run', 'start', '-u', U3, '-p', P2, '--jsonfile', '/dev/stdin'], { root: t.root, input: json('other') });
  expect(bad).toEqual({ status: 1, stdout: '', stderr: "Error: Invalid attribute 'other'\n" });
  // a running device: stop, and an attribute write check on a real file
  expect(dry('stop', '-u', U9)).toEqual({ status: 0, stdout: `sysfs-remove /sys/bus/mdev/devices/${U9}/remove "1"\n`, stderr: '' });
});

test('start-parent-mdevs: the devices that would start; one without capacity is logged, exit 0', () => {
  // P has one instance of test-a and two auto definitions of it: the second cannot start
  const r = dry('start-parent-mdevs', P);
  expect(r).toEqual({
    status: 0,
    stdout: `sysfs-create /sys/class/mdev_bus/${P}/mdev_supported_types/test-a/create "${U1}"\n` + `sysfs-write /sys/bus/mdev/devices/${U1}/knob "v1"\n`,
    stderr: `Warning: Failed to start ${U2} on ${P}: No available instances of test-a on ${P}\n`,
  });
  expect(dry('start-parent-mdevs', P2, '--dumpjson')).toEqual({ status: 0, stdout: '[]', stderr: '' });
});

describe('callout and notifier scripts', () => {
  const args = (e: string, a: string, s: string, u = U3) => `-t test-a -e ${e} -a ${a} -s ${s} -u ${u} -p ${P}`;
  const def = `write-file /etc/mdevctl.d/${P}/${U3}\n    {\n      "mdev_type": "test-a",\n      "start": "manual",\n      "attrs": []\n    }\n`;
  /** The scripts' log, then gone (it is the one file a dry run may cause: the probes write it). */
  const probes = () => {
    const lines = calls(t).map((l) => l.split(' <<')[0]);
    fs.rmSync(logPath(t));
    return lines;
  };

  test('unversioned: every callout script is listed in the order asked; only the capability probes run', () => {
    const a = addLoggingScript(t, 'callouts', 'a-callout');
    const b = addLoggingScript(t, 'callouts', 'b-callout');
    const old = addLoggingScript(t, 'old-callouts', 'old');
    const note = addLoggingScript(t, 'notifiers', 'note');
    h0 = t.hash('identity');
    const shown = (f: string) => f.slice(t.root.length);
    const r = dry('define', '-u', U3, '-p', P, '-t', 'test-a');
    expect(r).toEqual({
      status: 0,
      stdout:
        [a, b, old].map((c) => `run-script ${shown(c)} ${args('pre', 'define', 'none')}\n`).join('') +
        def +
        [a, b, old].map((c) => `run-script ${shown(c)} ${args('post', 'define', 'success')}\n`).join('') +
        `run-script ${shown(note)} ${args('notify', 'define', 'success')}\n`,
      stderr: '',
    });
    expect(probes()).toEqual(['a-callout get/capabilities none', 'b-callout get/capabilities none', 'old get/capabilities none']);
    const json = JSON.parse(dry('define', '-u', U3, '-p', P, '-t', 'test-a', '--dumpjson').stdout);
    expect(json[0]).toEqual({
      action: 'run-script',
      path: shown(a),
      args: args('pre', 'define', 'none').split(' '),
      stdin: '{"mdev_type":"test-a","start":"manual","attrs":[]}',
    });
    probes();
  });

  test('versioned: only that script; an action it does not support fails as the real run does', () => {
    const U9 = '99999999-9999-4999-8999-999999999999';
    t.addActive(U9, P, 'test-a');
    addLoggingScript(t, 'callouts', 'a-plain');
    const ver = addLoggingScript(t, 'callouts', 'b-ver', {
      on: { 'get/capabilities': print(supports(['define', 'attributes'], ['pre', 'post', 'get'])), 'get/attributes': print('[{"knob":"x"}]') },
    });
    h0 = t.hash('identity');
    const shown = ver.slice(t.root.length);
    // define of the running device: its attributes come from get/attributes (a query, it runs)
    expect(dry('define', '-u', U9, '-p', P)).toEqual({
      status: 0,
      stdout:
        `run-script ${shown} ${args('pre', 'define', 'none', U9)}\n` +
        `run-script ${shown} ${args('get', 'attributes', 'none', U9)}\n` +
        `write-file /etc/mdevctl.d/${P}/${U9}\n    {\n      "mdev_type": "test-a",\n      "start": "manual",\n      "attrs": [\n        {\n          "knob": "x"\n        }\n      ]\n    }\n` +
        `run-script ${shown} ${args('post', 'define', 'success', U9)}\n`,
      stderr: '',
    });
    expect(probes()).toEqual(['a-plain get/capabilities none', 'b-ver get/capabilities none', 'b-ver get/attributes none']);
    const refused = `Callout script '${ver}' does not support action 'stop'`;
    expect(dry('stop', '-u', U9)).toEqual({ status: 1, stdout: '', stderr: `Error: ${refused}\n` });
    probes();
    expect(dry('stop', '-u', U9, '--force')).toEqual({
      status: 0,
      stdout: `sysfs-remove /sys/bus/mdev/devices/${U9}/remove "1"\n`,
      stderr: `Warning: Forcing operation 'stop' despite callout failure. Error was: ${refused}\n`,
    });
    probes();
    // the real run says the same
    const real = run(['stop', '-u', U9], { root: t.root });
    expect(real).toEqual({ status: 1, stdout: '', stderr: `Error: ${refused}\n` });
    probes();
  });
});

test('usage: --dumpjson needs --dry-run; read-only verbs ignore --dry-run; fixture refuses it', () => {
  const r = run(['define', '-u', U3, '-p', P, '-t', 'x', '--dumpjson'], { root: t.root });
  expect(r.status).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^error: the following required arguments were not provided:\n {2}--dry-run\n/);
  expect(dry('list', '-d')).toEqual(run(['list', '-d'], { root: t.root }));
  expect(dry('types', '--dumpjson')).toEqual(run(['types', '--dumpjson'], { root: t.root }));
  const f = dry('fixture', 'gvt', t.p('new'));
  expect(f.status).toBe(2);
  expect(f.stderr).toMatch(/^error: the argument '--dry-run' cannot be used with 'fixture'/);
});

test('paths with spaces are quoted in the text form', () => {
  const r = dry('define', '-u', U3, '-p', 'odd parent', '-t', 'x');
  expect(r.stdout.split('\n').slice(0, 2)).toEqual(['make-dir "/etc/mdevctl.d/odd parent"', `write-file "/etc/mdevctl.d/odd parent/${U3}"`]);
});
