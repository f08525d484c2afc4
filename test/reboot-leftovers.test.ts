/**
 * What a power cut leaves for the next boot: a lock marker and an apply journal naming a process
 * by PID and start time. Both begin again at every boot, so a process of the next boot can have
 * the same PID and start time as the dead writer (early boot is nearly deterministic). The lock
 * and the journal record the writer's boot (the kernel's boot_id): one of another boot is dead,
 * whatever process has its PID now. The kernel suite's power-cut scenario
 * (kernel-tests/powercut.sh) cuts real power; this test plants the worst case it can only meet
 * by chance: the PID and start time of a live process (this test's own).
 */
import * as fs from 'node:fs';
import { FakeTree } from './support/tree';
import { run } from './support/cli';

const P = '0000:00:02.0';
const TYPE = 'i915-GVTg_V5_4';
const U = '976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9';
const V = '11111111-2222-4333-8444-555555555555';
const OTHER_BOOT = '0123456789abcdef0123456789abcdef';
const THIS_BOOT = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().replace(/-/g, '');

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

/** Start time of a process as the lock records it (field 22 of /proc/PID/stat). */
function startTime(pid: number): string {
  const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ')[19];
}

const define = (t: FakeTree, uuid: string) => run(['define', '-u', uuid, '-p', P, '-t', TYPE], { root: t.root, env: { MDEVCTL_LOCK_TIMEOUT: '2' } });

describe('a lock marker left by a power cut', () => {
  const marker = (boot: string) => `owner-${process.pid}-${startTime(process.pid)}-0badcafe-${boot}`;

  test('of an earlier boot: taken over at once, though its PID and start time are a live process', () => {
    const t = tree();
    fs.mkdirSync(t.p('run/lock/mdevctl.lock'), { recursive: true });
    fs.writeFileSync(t.p('run/lock/mdevctl.lock', marker(OTHER_BOOT)), '');
    const r = define(t, U);
    expect(r).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(fs.readdirSync(t.p('etc/mdevctl.d', P))).toEqual([U]);
    expect(fs.readdirSync(t.p('run/lock'))).toEqual([]);
  });

  test('of this boot, by a live process: still waited for, then refused (the control)', () => {
    const t = tree();
    fs.mkdirSync(t.p('run/lock/mdevctl.lock'), { recursive: true });
    fs.writeFileSync(t.p('run/lock/mdevctl.lock', marker(THIS_BOOT)), '');
    const r = define(t, U);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `Error: Timed out after 2 s waiting for the lock ${t.p('run/lock/mdevctl.lock')} (held by process ${process.pid}); ` +
        'another mdevctl command is still changing the configuration\n',
    );
    expect(fs.existsSync(t.p('etc/mdevctl.d', P, U))).toBe(false);
  });
});

describe('an apply journal left by a power cut', () => {
  /** An apply that had defined U (absent before it) when the power went. */
  function plant(t: FakeTree, boot: string): void {
    t.addDefinition(P, U, { mdev_type: TYPE, start: 'manual', attrs: [] });
    fs.mkdirSync(t.p('var/lib/mdevctl'), { recursive: true });
    const journal = {
      format: 'mdevctl-apply-journal-1',
      pid: process.pid,
      start: startTime(process.pid),
      boot,
      dirs: [],
      entries: [{ parent: P, uuid: U, old: null }],
    };
    fs.writeFileSync(t.p('var/lib/mdevctl/apply.journal'), JSON.stringify(journal));
  }

  test('of an earlier boot: rolled back by the next command, though its PID and start time are a live process', () => {
    const t = tree();
    plant(t, OTHER_BOOT);
    const r = define(t, V);
    expect(r).toEqual({
      status: 0,
      stdout: '',
      stderr: `Warning: Rolled back an interrupted 'mdevctl apply' (process ${process.pid}): 1 definition(s) restored from ${t.p('var/lib/mdevctl/apply.journal')}\n`,
    });
    expect(fs.readdirSync(t.p('etc/mdevctl.d', P))).toEqual([V]);
    expect(fs.existsSync(t.p('var/lib/mdevctl/apply.journal'))).toBe(false);
  });

  test('of this boot, by a live process: left alone (the control)', () => {
    const t = tree();
    plant(t, THIS_BOOT);
    const r = define(t, V);
    expect(r).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(fs.readdirSync(t.p('etc/mdevctl.d', P)).sort()).toEqual([V, U].sort());
    expect(fs.existsSync(t.p('var/lib/mdevctl/apply.journal'))).toBe(true);
  });
});
