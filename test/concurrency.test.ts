/**
 * Concurrent writers: many mdevctl processes started at once on one root (as udev, libvirt and an
 * admin do at boot) must all land, none lost, none half-written. And the lock's own rules: a
 * live holder makes others wait up to the timeout and then fail in one line; a dead holder's
 * lock is taken over at once; leftovers of killed waiters are cleaned.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FakeTree } from './support/tree';
import { runAsync } from './support/spawn';
import { cliShellCommand, mdevctl, run } from './support/cli';

const P = '0000:00:02.0';
const TYPE = 'i915-GVTg_V5_4';
const U = '976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9';
const UUID_LINE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\n$/;

let trees: FakeTree[] = [];
function tree(): FakeTree {
  const t = new FakeTree().withStandardDirs();
  trees.push(t);
  return t;
}
afterEach(() => {
  for (const t of trees) t.cleanup();
  trees = [];
});

const lockDir = (t: FakeTree) => t.p('run/lock/mdevctl.lock');
/** Correctness, not latency, is checked with many processes at once on a busy 2-core machine. */
const PATIENT = { env: { MDEVCTL_LOCK_TIMEOUT: '60' } };

/** Start time of a process as the lock records it (field 22 of /proc/PID/stat). */
function startTime(pid: number): string {
  const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ')[19];
}

/** A PID that belonged to a process that has exited (and been reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

/** Plant a lock as if held by PID (start time START). */
function plantLock(t: FakeTree, pid: number, start: string): void {
  fs.mkdirSync(lockDir(t), { recursive: true });
  fs.writeFileSync(path.join(lockDir(t), `owner-${pid}-${start}-0badcafe`), '');
}

describe('50 simultaneous `define -p P -t T`', () => {
  test('50 distinct printed UUIDs, exactly 50 valid definitions, no lock left behind', async () => {
    const t = tree();
    const results = await Promise.all(Array.from({ length: 50 }, () => runAsync(t.root, ['define', '-p', P, '-t', TYPE], PATIENT)));
    for (const r of results) {
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      expect(r.stdout).toMatch(UUID_LINE);
    }
    const printed = results.map((r) => r.stdout.trim());
    expect(new Set(printed).size).toBe(50);
    const files = fs.readdirSync(t.p('etc/mdevctl.d', P)).sort();
    expect(files).toEqual([...printed].sort());
    for (const f of files) {
      expect(t.read(`etc/mdevctl.d/${P}/${f}`)).toBe(`{\n  "mdev_type": "${TYPE}",\n  "start": "manual",\n  "attrs": []\n}`);
    }
    const listed = mdevctl(t.root, 'list', '-d');
    expect(listed.status).toBe(0);
    expect(listed.stdout.split('\n').filter(Boolean)).toHaveLength(50);
    expect(fs.readdirSync(t.p('run/lock'))).toEqual([]);
  });

  test('the same UUID defined by 30 processes at once: exactly one wins, the others are refused', async () => {
    const t = tree();
    const results = await Promise.all(Array.from({ length: 30 }, () => runAsync(t.root, ['define', '-u', U, '-p', P, '-t', TYPE], PATIENT)));
    const won = results.filter((r) => r.status === 0);
    expect(won).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 0)) {
      expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
        status: 1,
        stdout: '',
        stderr: `Error: Device ${U} on ${P} already defined\n`,
      });
    }
    expect(fs.readdirSync(t.p('etc/mdevctl.d', P))).toEqual([U]);
  });
});

describe('20 simultaneous `modify --addattr` on one device', () => {
  test('all 20 attributes are present, once each', async () => {
    const t = tree();
    t.addDefinition(P, U, { mdev_type: TYPE, start: 'manual', attrs: [] });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => runAsync(t.root, ['modify', '-u', U, '--addattr', `attr${i}`, '--value', `v${i}`], PATIENT)),
    );
    for (const r of results) expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: '', stderr: '' });
    const cfg = JSON.parse(t.read(`etc/mdevctl.d/${P}/${U}`));
    const attrs = (cfg.attrs as Array<Record<string, string>>).map((a) => Object.entries(a)[0]);
    expect(attrs).toHaveLength(20);
    expect(Object.fromEntries(attrs)).toEqual(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`attr${i}`, `v${i}`])));
    expect(fs.readdirSync(t.p('etc/mdevctl.d', P))).toEqual([U]);
  });

  test('--auto, --manual, --addattr and --delattr interleaved with undefine of another device: every change lands', async () => {
    const t = tree();
    const other = '11111111-2222-4333-8444-555555555555';
    // two attributes to delete at index 1: whatever the order, each --delattr -i 1 meets one of
    // them there (keep stays at 0, the added ones go after them)
    t.addDefinition(P, U, { mdev_type: TYPE, start: 'manual', attrs: [{ keep: '1' }, { gone1: 'x' }, { gone2: 'y' }] });
    t.addDefinition(P, other, { mdev_type: TYPE, start: 'manual', attrs: [] });
    // --manual on a third device, under another parent, so that the last word on U's start is --auto's
    const third = '22222222-3333-4444-8555-666666666666';
    const P3 = '0000:00:03.0';
    t.addDefinition(P3, third, { mdev_type: TYPE, start: 'auto', attrs: [{ t: '3' }] });
    const jobs = [
      ...Array.from({ length: 8 }, (_, i) => ['modify', '-u', U, '--addattr', `a${i}`, '--value', `${i}`]),
      ['modify', '-u', U, '--auto'],
      ['modify', '-u', third, '--manual'],
      ...Array.from({ length: 2 }, () => ['modify', '-u', U, '--delattr', '-i', '1']),
      ...Array.from({ length: 4 }, () => ['undefine', '-u', other]),
    ];
    const results = await Promise.all(jobs.map((args) => runAsync(t.root, args, PATIENT)));
    const undefs = results.slice(12);
    expect(undefs).toHaveLength(4);
    expect(undefs.filter((r) => r.status === 0)).toHaveLength(1);
    for (const r of undefs.filter((x) => x.status !== 0)) expect(r.stderr).toBe('Error: No devices match the specified uuid\n');
    for (const r of results.slice(0, 12)) expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(t.exists(`etc/mdevctl.d/${P}/${other}`)).toBe(false);
    expect(JSON.parse(t.read(`etc/mdevctl.d/${P3}/${third}`))).toEqual({ mdev_type: TYPE, start: 'manual', attrs: [{ t: '3' }] });
    const cfg = JSON.parse(t.read(`etc/mdevctl.d/${P}/${U}`));
    expect(cfg.start).toBe('auto');
    expect(cfg.attrs[0]).toEqual({ keep: '1' });
    expect(cfg.attrs.map((a: Record<string, string>) => Object.keys(a)[0]).sort()).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'keep']);
    expect(
      cfg.attrs
        .slice(1)
        .map((a: Record<string, string>) => Object.entries(a)[0])
        .sort(),
    ).toEqual(Array.from({ length: 8 }, (_, i) => [`a${i}`, `${i}`]));
    expect(fs.readdirSync(t.p('etc/mdevctl.d', P))).toEqual([U]);
  });
});

describe('the lock', () => {
  test('held by a live process: waits MDEVCTL_LOCK_TIMEOUT, then one line naming the lock and the holder, nothing written', async () => {
    const t = tree();
    const holder = spawn('sleep', ['30']);
    try {
      plantLock(t, holder.pid!, startTime(holder.pid!));
      const before = t.snapshot('', 'identity');
      const t0 = Date.now();
      const r = await runAsync(t.root, ['define', '-u', U, '-p', P, '-t', TYPE], { env: { MDEVCTL_LOCK_TIMEOUT: '0.5' } });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(500);
      expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
        status: 1,
        stdout: '',
        stderr:
          `Error: Timed out after 0.5 s waiting for the lock ${lockDir(t)} (held by process ${holder.pid}); ` +
          'another mdevctl command is still changing the configuration\n',
      });
      expect(t.snapshot('', 'identity')).toEqual(before);
      // the holder ends (without releasing): its lock is stale and taken over at once
      holder.kill('SIGKILL');
      await new Promise((res) => holder.once('close', res));
      const ok = await runAsync(t.root, ['define', '-u', U, '-p', P, '-t', TYPE], { env: { MDEVCTL_LOCK_TIMEOUT: '0.5' } });
      expect({ status: ok.status, stderr: ok.stderr }).toEqual({ status: 0, stderr: '' });
      expect(t.exists(`etc/mdevctl.d/${P}/${U}`)).toBe(true);
      expect(fs.readdirSync(t.p('run/lock'))).toEqual([]);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  test('a lock whose holder is gone, or whose PID now belongs to a later process, is taken over without waiting', () => {
    const t = tree();
    t.addDefinition(P, U, { mdev_type: TYPE, start: 'manual', attrs: [] });
    plantLock(t, deadPid(), '12345');
    let r = run(['modify', '-u', U, '--auto'], { root: t.root, env: { MDEVCTL_LOCK_TIMEOUT: '0' } });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    // this test process is alive, but its start time is not the one recorded: the PID was reused
    plantLock(t, process.pid, String(Number(startTime(process.pid)) + 1));
    r = run(['modify', '-u', U, '--manual'], { root: t.root, env: { MDEVCTL_LOCK_TIMEOUT: '0' } });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(JSON.parse(t.read(`etc/mdevctl.d/${P}/${U}`)).start).toBe('manual');
    expect(fs.readdirSync(t.p('run/lock'))).toEqual([]);
  });

  test('a waiter killed before it got the lock leaves a private directory; the next holder removes it', () => {
    const t = tree();
    const left = t.p(`run/lock/mdevctl.lock.${deadPid()}-0badcafe`);
    fs.mkdirSync(left);
    fs.writeFileSync(path.join(left, 'owner-1-1-0badcafe'), '');
    const live = t.p(`run/lock/mdevctl.lock.${process.pid}-0badcafe`);
    fs.mkdirSync(live);
    const r = mdevctl(t.root, 'define', '-u', U, '-p', P, '-t', TYPE);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    // the dead waiter's directory is gone; a live process's is left alone
    expect(fs.readdirSync(t.p('run/lock'))).toEqual([path.basename(live)]);
  });

  test('something that is not a lock marker in the lock directory is never removed: it times out', () => {
    const t = tree();
    fs.mkdirSync(lockDir(t));
    fs.writeFileSync(path.join(lockDir(t), 'README'), 'placed by hand');
    const before = t.snapshot('', 'identity');
    const r = run(['undefine', '-u', U], { root: t.root, env: { MDEVCTL_LOCK_TIMEOUT: '0.2' } });
    expect({ status: r.status, stderr: r.stderr }).toEqual({
      status: 1,
      stderr: `Error: Timed out after 0.2 s waiting for the lock ${lockDir(t)} (held by another process); another mdevctl command is still changing the configuration\n`,
    });
    expect(t.snapshot('', 'identity')).toEqual(before);
  });

  test('an invalid MDEVCTL_LOCK_TIMEOUT is refused in one line before anything changes', () => {
    const t = tree();
    const before = t.snapshot('', 'identity');
    const r = run(['define', '-u', U, '-p', P, '-t', TYPE], { root: t.root, env: { MDEVCTL_LOCK_TIMEOUT: 'soon' } });
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
      status: 1,
      stdout: '',
      stderr: "Error: Invalid MDEVCTL_LOCK_TIMEOUT 'soon': expected a number of seconds\n",
    });
    expect(t.snapshot('', 'identity')).toEqual(before);
  });

  test('a root without run/lock (a fixture tree): the directory is created, the lock released', () => {
    const t = new FakeTree();
    trees.push(t);
    const r = mdevctl(t.root, 'define', '-u', U, '-p', P, '-t', TYPE);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(fs.readdirSync(t.p('run/lock'))).toEqual([]);
  });

  test('a callout script that runs mdevctl while its caller holds the lock works under that lock', () => {
    const t = tree();
    const other = '11111111-2222-4333-8444-555555555555';
    t.addDefinition(P, other, { mdev_type: TYPE, start: 'manual', attrs: [] });
    t.addScript('callouts', 'nested', `#!/bin/sh\ncase " $* " in *"-e pre -a define"*) exec ${cliShellCommand()} modify -u ${other} --auto ;; esac\nexit 0\n`);
    const r = run(['define', '-u', U, '-p', P, '-t', TYPE], { root: t.root, env: { MDEVCTL_LOCK_TIMEOUT: '2' } });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(JSON.parse(t.read(`etc/mdevctl.d/${P}/${other}`)).start).toBe('auto');
    expect(t.exists(`etc/mdevctl.d/${P}/${U}`)).toBe(true);
    expect(fs.readdirSync(t.p('run/lock'))).toEqual([]);
  });

  test('MDEVCTL_LOCK_HELD naming a lock held by a process that is not an ancestor is no way in', async () => {
    const t = tree();
    const holder = spawn('sleep', ['30']);
    try {
      plantLock(t, holder.pid!, startTime(holder.pid!));
      const marker = fs.readdirSync(lockDir(t))[0];
      const r = await runAsync(t.root, ['define', '-u', U, '-p', P, '-t', TYPE], {
        env: { MDEVCTL_LOCK_TIMEOUT: '0.2', MDEVCTL_LOCK_HELD: path.join(lockDir(t), marker) },
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^Error: Timed out after 0\.2 s waiting for the lock /);
      expect(t.exists(`etc/mdevctl.d/${P}/${U}`)).toBe(false);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  test('a dry run takes no lock and creates no lock directory', () => {
    const t = new FakeTree().withStandardDirs();
    trees.push(t);
    fs.rmSync(t.p('run'), { recursive: true });
    t.addDefinition(P, U, { mdev_type: TYPE, start: 'manual', attrs: [] });
    const before = t.snapshot('', 'identity');
    const r = run(['--dry-run', 'modify', '-u', U, '--auto'], { root: t.root, env: { MDEVCTL_LOCK_TIMEOUT: '0' } });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(t.snapshot('', 'identity')).toEqual(before);
  });

  test('read-only verbs take no lock: list and types work while the lock is held', () => {
    const t = tree();
    t.addDefinition(P, U, { mdev_type: TYPE, start: 'manual', attrs: [] });
    plantLock(t, process.pid, startTime(process.pid));
    const r = run(['list', '-d'], { root: t.root, env: { MDEVCTL_LOCK_TIMEOUT: '0' } });
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: `${U} ${P} ${TYPE} manual\n`, stderr: '' });
  });
});
