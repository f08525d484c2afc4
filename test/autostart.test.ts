/**
 * Autostart at boot (issue 25): `start-all` (waits for parents, types, instances and the
 * definitions named in "after", retries passing kernel refusals, records every outcome under
 * run/) and `status`, on the mtty fixture with the simulated kernel, whose late entries
 * (NAME.after-N) stand for a vendor daemon registering its parent or types N seconds into the wait.
 * The real run, with the real kernel, systemd-udevd and the unit's ExecStart: kernel-tests/.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { cliCommand, cliEnv, run, RunResult } from './support/cli';
import { freshFixture, removeFixture } from './support/fixture';

const A = '11111111-0000-4000-8000-00000000000a';
const B = '11111111-0000-4000-8000-00000000000b';
const C = '11111111-0000-4000-8000-00000000000c';
const D = '11111111-0000-4000-8000-00000000000d';
const RUNNING = '92d520f0-448a-4137-a327-380a8f353b4c'; // the fixture's running mtty-2 device

let root: string;
beforeEach(() => {
  root = freshFixture('mtty');
});
afterEach(() => removeFixture(root));

const md = (...args: string[]): RunResult => run(['--simulate', ...args], { root, env: { MDEVCTL_AUTOSTART_WAIT: '' } });
const parentDir = () => fs.realpathSync(path.join(root, 'sys/class/mdev_bus/mtty'));
const typesDir = () => path.join(parentDir(), 'mdev_supported_types');
const running = (u: string) => fs.existsSync(path.join(root, 'sys/bus/mdev/devices', u));
const statusFile = () => JSON.parse(fs.readFileSync(path.join(root, 'run/mdevctl/autostart.json'), 'utf8'));

/** A definition file as an admin or config management writes it (with our "after" key). */
function define(uuid: string, type: string, start: 'auto' | 'manual', extra: Record<string, unknown> = {}): void {
  const dir = path.join(root, 'etc/mdevctl.d/mtty');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, uuid), JSON.stringify({ mdev_type: type, start, attrs: [], ...extra }, null, 2));
}

/** A type of mtty that the kernel offers only N seconds into the wait (or never: 99999). */
function lateType(name: string, seconds: number, instances = 4): void {
  const dir = path.join(typesDir(), `${name}.after-${seconds}`);
  fs.mkdirSync(path.join(dir, 'devices'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'available_instances'), `${instances}\n`);
  fs.writeFileSync(path.join(dir, 'device_api'), 'vfio-pci\n');
  fs.writeFileSync(path.join(dir, 'name'), 'Late port\n');
  fs.writeFileSync(path.join(dir, 'create'), '', { mode: 0o200 });
}

describe('start-all', () => {
  test('starts every auto definition not running, leaves manual ones; status before and after', () => {
    define(A, 'mtty-1', 'auto');
    define(B, 'mtty-2', 'manual');
    define(RUNNING, 'mtty-2', 'auto');
    expect(md('status')).toEqual({
      status: 3,
      stdout: `${A} mtty mtty-1 not running: no start-all ran since boot\n${RUNNING} mtty mtty-2 running\n`,
      stderr: '',
    });
    expect(md('start-all')).toEqual({
      status: 0,
      stdout: '',
      stderr: `started ${A} on mtty (mtty-1)\nrunning ${RUNNING} on mtty (mtty-2): it was running already\n`,
    });
    expect([running(A), running(B)]).toEqual([true, false]);
    expect(md('status')).toEqual({ status: 0, stdout: `${A} mtty mtty-1 running\n${RUNNING} mtty mtty-2 running\n`, stderr: '' });
    const file = statusFile();
    expect(file).toMatchObject({ wait: 60, pid: expect.any(Number), finished: expect.any(String) });
    expect(file.definitions.map((d: Record<string, unknown>) => [d.uuid, d.state, d.attempts, d.reason])).toEqual([
      [A, 'started', 1, undefined],
      [RUNNING, 'running', 0, 'it was running already'],
    ]);
    // again: nothing to do, every device already runs
    expect(md('start-all', '--wait', '0').stderr).toBe(
      `running ${A} on mtty (mtty-1): it was running already\nrunning ${RUNNING} on mtty (mtty-2): it was running already\n`,
    );
  });

  test('waits for a type that appears 1 s into the wait, and for a parent that registers late', () => {
    lateType('mtty-3', 1);
    define(A, 'mtty-3', 'auto');
    const r = md('start-all', '--wait', '30');
    expect(r).toEqual({
      status: 0,
      stdout: '',
      stderr: `waiting up to 30 s for 1 definition: ${A} (type mtty-3 is not offered by mtty)\nstarted ${A} on mtty (mtty-3)\n`,
    });
    expect(running(A)).toBe(true);
    expect(fs.readFileSync(path.join(typesDir(), 'mtty-3/available_instances'), 'utf8')).toBe('3\n');

    // the parent itself: its class link appears late
    md('stop', '-u', A);
    fs.renameSync(path.join(root, 'sys/class/mdev_bus/mtty'), path.join(root, 'sys/class/mdev_bus/mtty.after-1'));
    expect(md('start-all', '--wait', '30')).toEqual({
      status: 0,
      stdout: '',
      stderr: `waiting up to 30 s for 1 definition: ${A} (parent mtty is not present)\nstarted ${A} on mtty (mtty-3)\n`,
    });
  });

  test('a type that never appears: gives up after --wait, one line per definition that did not start, exit 1; status exit 3', () => {
    lateType('mtty-9', 99999);
    define(A, 'mtty-9', 'auto');
    define(B, 'mtty-1', 'auto');
    expect(md('start-all', '--wait', '0.6')).toEqual({
      status: 1,
      stdout: '',
      stderr:
        `started ${B} on mtty (mtty-1)\n` +
        `waiting up to 0.6 s for 1 definition: ${A} (type mtty-9 is not offered by mtty)\n` +
        `Warning: not started ${A} on mtty (mtty-9): type mtty-9 is not offered by mtty (gave up after 0.6 s)\n` +
        'Error: 1 of 2 auto-start definitions did not start\n',
    });
    const st = md('status');
    expect(st).toEqual({
      status: 3,
      stdout: `${A} mtty mtty-9 not running: type mtty-9 is not offered by mtty (gave up after 0.6 s)\n${B} mtty mtty-1 running\n`,
      stderr: '',
    });
    const js = JSON.parse(md('status', '--dumpjson').stdout);
    expect(js.run).toMatchObject({ finished: expect.any(String), alive: false });
    expect(js.definitions).toEqual([
      {
        uuid: A,
        parent: 'mtty',
        mdev_type: 'mtty-9',
        running: false,
        state: 'failed',
        reason: 'type mtty-9 is not offered by mtty (gave up after 0.6 s)',
        since: expect.any(String),
      },
      { uuid: B, parent: 'mtty', mdev_type: 'mtty-1', running: true, state: 'started', since: expect.any(String) },
    ]);
    expect(md('status', '--dumpjson').status).toBe(3);
    // no wait at all: one round
    expect(md('start-all', '--wait', '0').stderr).toContain(`Warning: not started ${A} on mtty (mtty-9): type mtty-9 is not offered by mtty\n`);
  });

  test('no instance left: waits, and fails with that reason', () => {
    lateType('mtty-4', 0, 0);
    fs.renameSync(path.join(typesDir(), 'mtty-4.after-0'), path.join(typesDir(), 'mtty-4'));
    define(A, 'mtty-4', 'auto');
    const r = md('start-all', '--wait', '0.3');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`Warning: not started ${A} on mtty (mtty-4): no instances of mtty-4 are left on mtty (gave up after 0.3 s)\n`);
  });

  test('"after": dependencies start first, whatever their names; cycles, unknown UUIDs, bad values and failed dependencies fail', () => {
    // A sorts first but starts after C; C after D (running once D starts)
    define(A, 'mtty-1', 'auto', { after: [C] });
    define(C, 'mtty-1', 'auto', { after: [D.toUpperCase()] });
    define(D, 'mtty-1', 'auto');
    expect(md('start-all', '--wait', '0')).toEqual({
      status: 0,
      stdout: '',
      stderr: `started ${D} on mtty (mtty-1)\nstarted ${C} on mtty (mtty-1)\nstarted ${A} on mtty (mtty-1)\n`,
    });
    for (const u of [A, C, D]) md('stop', '-u', u);

    define(A, 'mtty-1', 'auto', { after: [B] });
    define(B, 'mtty-1', 'auto', { after: [A] });
    define(C, 'mtty-1', 'auto', { after: ['22222222-0000-4000-8000-000000000000'] });
    define(D, 'mtty-1', 'auto', { after: 'nope' });
    const r = md('start-all', '--wait', '0');
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `Warning: not started ${C} on mtty (mtty-1): it starts after 22222222-0000-4000-8000-000000000000, which is neither defined nor running\n` +
        `Warning: not started ${D} on mtty (mtty-1): "after" is not a list of UUIDs\n` +
        `Warning: not started ${A} on mtty (mtty-1): its "after" makes a cycle: ${A} -> ${B} -> ${A}\n` +
        `Warning: not started ${B} on mtty (mtty-1): its "after" makes a cycle: ${A} -> ${B} -> ${A}\n` +
        'Error: 4 of 4 auto-start definitions did not start\n',
    );

    // a dependency that fails takes its dependents with it
    for (const u of [A, B, C, D]) fs.rmSync(path.join(root, 'etc/mdevctl.d/mtty', u));
    lateType('mtty-9', 99999);
    define(A, 'mtty-9', 'auto');
    define(B, 'mtty-1', 'auto', { after: [A] });
    expect(md('start-all', '--wait', '0.3').stderr).toBe(
      `waiting up to 0.3 s for 2 definitions: ${A} (type mtty-9 is not offered by mtty), ${B} (it starts after ${A}, which is not running yet)\n` +
        `Warning: not started ${A} on mtty (mtty-9): type mtty-9 is not offered by mtty (gave up after 0.3 s)\n` +
        `Warning: not started ${B} on mtty (mtty-1): it starts after ${A}, which is not running yet (gave up after 0.3 s)\n` +
        'Error: 2 of 2 auto-start definitions did not start\n',
    );
    expect(running(B)).toBe(false);
  });

  test('a start the kernel refuses for a passing reason is tried again; a final refusal is not', () => {
    // the type's create file appears only after 1 s: the write fails with ENOENT, then works
    define(A, 'mtty-1', 'auto');
    const create = path.join(typesDir(), 'mtty-1/create');
    fs.renameSync(create, `${create}.after-1`);
    const r = md('start-all', '--wait', '30');
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(
      new RegExp(
        `^waiting up to 30 s for 1 definition: ${A} \\(the kernel refused the start \\(ENOENT\\), to be tried again: Failed to create mdev ${A}, type mtty-1 on mtty: No such file or directory \\(ENOENT\\) .*\\)\\nstarted ${A} on mtty \\(mtty-1\\)\\n$`,
      ),
    );
    // tried every round (500 ms) until the file came: twice or three times, as the rounds fall
    expect(statusFile().definitions[0]).toMatchObject({ uuid: A, state: 'started' });
    expect(statusFile().definitions[0]).not.toHaveProperty('errno');
    expect(statusFile().definitions[0].attempts).toBeGreaterThanOrEqual(2);
    md('stop', '-u', A);

    // an attribute the device does not have: final, and the device is not left half-made
    define(A, 'mtty-1', 'auto', { attrs: [{ nosuch: '1' }] });
    const f = md('start-all', '--wait', '30');
    expect(f).toEqual({
      status: 1,
      stdout: '',
      stderr: `Warning: not started ${A} on mtty (mtty-1): Invalid attribute 'nosuch'\nError: 1 of 1 auto-start definition did not start\n`,
    });
    expect(running(A)).toBe(false);
    expect(statusFile().definitions[0]).toMatchObject({ uuid: A, state: 'failed', attempts: 1, reason: "Invalid attribute 'nosuch'" });
  });

  test('--dry-run prints the plan, waits for nothing and writes nothing', () => {
    lateType('mtty-9', 99999);
    define(A, 'mtty-1', 'auto');
    define(B, 'mtty-9', 'auto');
    const before = fs.readdirSync(path.join(root, 'sys/bus/mdev/devices'));
    expect(run(['--dry-run', 'start-all', '--wait', '30'], { root })).toEqual({
      status: 0,
      stdout: `sysfs-create /sys/class/mdev_bus/mtty/mdev_supported_types/mtty-1/create "${A}"\n`,
      stderr: `would start ${A} on mtty (mtty-1)\nwould wait up to 30 s for ${B} on mtty (mtty-9): type mtty-9 is not offered by mtty\n`,
    });
    expect(JSON.parse(run(['--dry-run', 'start-all', '--dumpjson'], { root }).stdout)).toEqual([
      { action: 'sysfs-create', path: '/sys/class/mdev_bus/mtty/mdev_supported_types/mtty-1/create', value: A },
    ]);
    expect(fs.readdirSync(path.join(root, 'sys/bus/mdev/devices'))).toEqual(before);
    expect(fs.existsSync(path.join(root, 'run'))).toBe(false);
  });

  test('usage: --wait and MDEVCTL_AUTOSTART_WAIT take seconds; --dumpjson needs --dry-run', () => {
    for (const [args, env, msg] of [
      [['start-all', '--wait', 'soon'], {}, "invalid value 'soon' for '--wait <SECONDS>': a number of seconds from 0 to 86400"],
      // clap reads a separate word that begins with '-' as an argument of its own, not a value
      [['start-all', '--wait', '-1'], {}, "error: unexpected argument '-1' found\n\nUsage: mdevctl start-all [OPTIONS]\n"],
      [['start-all', '--wait=-1'], {}, "invalid value '-1' for '--wait <SECONDS>': a number of seconds from 0 to 86400"],
      [['start-all'], { MDEVCTL_AUTOSTART_WAIT: 'x' }, "invalid value 'x' for MDEVCTL_AUTOSTART_WAIT"],
      [['start-all', '--dumpjson'], {}, 'the following required arguments were not provided:\n  --dry-run'],
    ] as Array<[string[], NodeJS.ProcessEnv, string]>) {
      const r = run(args, { root, env });
      expect({ args, status: r.status, stdout: r.stdout }).toEqual({ args, status: 2, stdout: '' });
      expect(r.stderr).toContain(msg);
    }
    // the variable is the unit's setting: used without --wait
    lateType('mtty-9', 99999);
    define(A, 'mtty-9', 'auto');
    expect(run(['--simulate', 'start-all'], { root, env: { MDEVCTL_AUTOSTART_WAIT: '0.2' } }).stderr).toContain('(gave up after 0.2 s)');
  });
});

describe('the status file', () => {
  test('one that cannot be written is one warning, and the devices still start; status then fails to read it', () => {
    fs.mkdirSync(path.join(root, 'run'), { recursive: true });
    fs.writeFileSync(path.join(root, 'run/mdevctl'), ''); // a file where the directory goes
    lateType('mtty-3', 1);
    define(A, 'mtty-3', 'auto');
    const file = path.join(root, 'run/mdevctl/autostart.json');
    expect(md('start-all', '--wait', '30')).toEqual({
      status: 0,
      stdout: '',
      stderr:
        `waiting up to 30 s for 1 definition: ${A} (type mtty-3 is not offered by mtty)\n` +
        `Warning: Unable to write the autostart status ${file}: File exists (EEXIST)\n` +
        `started ${A} on mtty (mtty-3)\n`,
    });
    expect(running(A)).toBe(true);
    expect(md('status')).toEqual({ status: 1, stdout: '', stderr: `Error: Unable to read the autostart status ${file}: Not a directory (ENOTDIR)\n` });
  });

  test('read while start-all waits: waiting; after start-all was killed: not running, with the reason', async () => {
    lateType('mtty-9', 99999);
    define(A, 'mtty-9', 'auto');
    define(B, 'mtty-1', 'auto');
    const child = spawn(...cliCommand(['--simulate', 'start-all', '--wait', '120']), {
      env: cliEnv({ MDEVCTL_ENV_ROOT: root }),
      stdio: 'ignore',
    });
    try {
      const file = path.join(root, 'run/mdevctl/autostart.json');
      // the file is written once the first round is done
      while (!fs.existsSync(file)) await new Promise((r) => setTimeout(r, 100));
      expect(md('status')).toEqual({
        status: 3,
        stdout: `${A} mtty mtty-9 waiting: type mtty-9 is not offered by mtty\n${B} mtty mtty-1 running\n`,
        stderr: '',
      });
      expect(JSON.parse(md('status', '--dumpjson').stdout).run).toMatchObject({ finished: null, pid: child.pid, alive: true });
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.on('exit', r));
    }
    expect(md('status').stdout).toBe(`${A} mtty mtty-9 not running: type mtty-9 is not offered by mtty\n${B} mtty mtty-1 running\n`);
    expect(JSON.parse(md('status', '--dumpjson').stdout).run).toMatchObject({ finished: null, alive: false });
  });

  test('a malformed one is an error of status; a definition stopped since is said so', () => {
    define(A, 'mtty-1', 'auto');
    expect(md('start-all').status).toBe(0);
    expect(md('stop', '-u', A).status).toBe(0);
    expect(md('status')).toEqual({ status: 3, stdout: `${A} mtty mtty-1 not running: stopped since start-all started it\n`, stderr: '' });
    const file = path.join(root, 'run/mdevctl/autostart.json');
    fs.writeFileSync(file, '{"definitions": 1}');
    expect(md('status')).toEqual({ status: 1, stdout: '', stderr: `Error: Malformed autostart status ${file}: not a status object\n` });
  });
});

describe('the "after" key and what libvirt reads', () => {
  test('list does not show it, modify keeps it, define --jsonfile stores it', () => {
    define(A, 'mtty-1', 'auto', { after: [B] });
    expect(md('list', '-d', '--dumpjson').stdout).toBe(
      `[\n  {\n    "mtty": [\n      {\n        "${A}": {\n          "mdev_type": "mtty-1",\n          "start": "auto",\n          "attrs": []\n        }\n      }\n    ]\n  }\n]`,
    );
    expect(md('list', '-d', '-u', A, '--dumpjson').stdout).toBe('{\n  "mdev_type": "mtty-1",\n  "start": "auto",\n  "attrs": []\n}');
    expect(md('modify', '-u', A, '--manual').status).toBe(0);
    expect(fs.readFileSync(path.join(root, 'etc/mdevctl.d/mtty', A), 'utf8')).toBe(
      `{\n  "mdev_type": "mtty-1",\n  "start": "manual",\n  "attrs": [],\n  "after": [\n    "${B}"\n  ]\n}`,
    );
    const r = run(['define', '-u', C, '-p', 'mtty', '--jsonfile', '/dev/stdin'], {
      root,
      input: JSON.stringify({ mdev_type: 'mtty-2', start: 'auto', after: [A] }),
    });
    expect(r).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(JSON.parse(fs.readFileSync(path.join(root, 'etc/mdevctl.d/mtty', C), 'utf8'))).toEqual({
      mdev_type: 'mtty-2',
      start: 'auto',
      attrs: [],
      after: [A],
    });
  });

  test('start-parent-mdevs (udev) starts in "after" order and leaves what waits for a device not running', () => {
    define(A, 'mtty-1', 'auto', { after: [C] });
    define(C, 'mtty-1', 'auto');
    define(B, 'mtty-1', 'auto', { after: ['22222222-0000-4000-8000-000000000000'] });
    const r = md('start-parent-mdevs', 'mtty');
    expect(r).toEqual({
      status: 0,
      stdout: '',
      stderr: `Warning: Not starting ${B} on mtty: it starts after 22222222-0000-4000-8000-000000000000, which is not running\n`,
    });
    expect([running(A), running(B), running(C)]).toEqual([true, false, true]);
  });
});

describe('udev and start-all at once', () => {
  /** Run the CLI without waiting for it. */
  function start(args: string[]): Promise<RunResult> {
    return new Promise((resolve) => {
      const p = spawn(...cliCommand(['--simulate', ...args]), { env: cliEnv({ MDEVCTL_ENV_ROOT: root }) });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.stderr.on('data', (d) => (stderr += d));
      p.on('close', (status) => resolve({ status: status ?? -1, stdout, stderr }));
    });
  }

  test('never start one device twice: one pre-start callout per device, however the runs interleave', async () => {
    const log = path.join(root, 'callouts.log');
    const dir = path.join(root, 'etc/mdevctl.d/scripts.d/callouts');
    fs.mkdirSync(dir, { recursive: true });
    // handles nothing (exit 2), slowly, so that the runs overlap
    fs.writeFileSync(path.join(dir, 'log'), `#!/bin/sh\necho "$*" >> ${log}\nsleep 0.1\nexit 2\n`, { mode: 0o755 });
    for (const u of [A, B, C, D]) define(u, 'mtty-1', 'auto');
    const rs = await Promise.all([start(['start-all', '--wait', '0']), start(['start-parent-mdevs', 'mtty']), start(['start-parent-mdevs', 'mtty'])]);
    for (const r of rs) expect(r).toMatchObject({ status: 0, stdout: '' });
    for (const r of rs) expect(r.stderr).not.toMatch(/Warning|Error/);
    const pre = fs
      .readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l.includes(' -e pre -a start '));
    expect(pre.map((l) => l.replace(/.* -u (\S+) .*/, '$1')).sort()).toEqual([A, B, C, D]);
    for (const u of [A, B, C, D]) expect(running(u)).toBe(true);
  });
});
