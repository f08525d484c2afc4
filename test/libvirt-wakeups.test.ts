/**
 * One change, one wake-up: libvirt (node_device_udev.c, mdevctlEnableMonitor) watches
 * /etc/mdevctl.d and every directory below it with GLib file monitors (inotify) and re-reads every
 * definition (`list --dumpjson --defined`, then `list --dumpjson`) at each CHANGES_DONE_HINT, or
 * 100 ms after any other event (each new one re-arms the timer; a CHANGES_DONE_HINT cancels it).
 * It filters no names: a temp file beside a definition is seen like the definition itself.
 *
 * The inotify events each command raises in ROOT/etc/mdevctl.d are recorded with inotifywait (the
 * events GLib subscribes to), mapped as GLib's inotify backend maps them (CLOSE_WRITE and
 * MOVED_TO give a CHANGES_DONE_HINT), and the re-syncs libvirt would start are counted: one per
 * command, as with upstream 1.4.0's plain write; side by side with the real 1.4.0 where it can be
 * had (root, apt: scripts/reference-mdevctl.sh). The events are flushed by a sentinel file made
 * after the command (inotify queues events in order), not by waiting.
 */
import { ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freshFixture, removeFixture } from './support/fixture';
import { REPO, run } from './support/cli';
import { prerequisites } from './support/prerequisites';

const SUITE = 'libvirt-wakeups.test.ts';
const skip = prerequisites(SUITE, { tools: ['inotifywait'] }, 'apt-get install inotify-tools');

/** What GLib's inotify backend subscribes to (IP_INOTIFY_DIR_MASK / FILE_MASK, less the flags). */
const GLIB_EVENTS = 'modify,attrib,moved_from,moved_to,delete,create,close_write,delete_self,move_self';
const SENTINEL = '.wakeup-sentinel';

interface Watch {
  child: ChildProcessWithoutNullStreams;
  out: string;
}

function startWatch(root: string): Promise<Watch> {
  const dir = path.join(root, 'etc', 'mdevctl.d');
  const child = spawn('inotifywait', ['-m', '-r', '-e', GLIB_EVENTS, '--format', '%e %w%f', dir]);
  const w: Watch = { child, out: '' };
  child.stdout.on('data', (d: Buffer) => (w.out += d.toString()));
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('Watches established')) resolve(w);
    });
    child.on('exit', (code) => reject(new Error(`inotifywait exited (${code}): ${err}`)));
  });
}

/** The events since the watch began (paths relative to etc/mdevctl.d), once the sentinel shows. */
async function stopWatch(w: Watch, root: string): Promise<string[]> {
  const dir = path.join(root, 'etc', 'mdevctl.d');
  fs.writeFileSync(path.join(dir, SENTINEL), '');
  await new Promise<void>((resolve) => {
    const check = () => (w.out.includes(`CLOSE_WRITE,CLOSE ${dir}/${SENTINEL}`) ? resolve() : setTimeout(check, 10));
    check();
  });
  w.child.removeAllListeners('exit');
  w.child.kill();
  fs.rmSync(path.join(dir, SENTINEL));
  return w.out
    .split('\n')
    .filter((l) => l && !l.endsWith(`/${SENTINEL}`))
    .map((l) => l.replace(`${dir}/`, ''));
}

/**
 * The re-syncs libvirt starts for a burst of EVENTS: one at each CHANGES_DONE_HINT, and one more
 * when other events come after the last of them (its 100 ms timer fires).
 */
export function resyncs(events: string[]): number {
  let syncs = 0;
  let armed = false;
  for (const e of events) {
    const kinds = e.split(' ')[0].split(',');
    const done = kinds.includes('CLOSE_WRITE') || kinds.includes('MOVED_TO');
    if (done) {
      syncs++;
      armed = false;
    } else armed = true;
  }
  return syncs + (armed ? 1 : 0);
}

const P = '0000:00:02.0';
const U = '270dd1d1-08c0-45bf-8154-f5646e2cb0dd'; // defined in the gvt fixture
const N = 'aaaaaaaa-0000-4000-8000-000000000001';
const T = 'i915-GVTg_V5_4';

/** Commands that change /etc/mdevctl.d, each on a fresh gvt root. */
// A new parent's directory: whether inotifywait (like libvirt) adds its watch before the rename
// into it is a race, so only the first event is certain there.
const COMMANDS: Array<{ args: string[]; events: string[]; file?: string; newDir?: boolean }> = [
  { args: ['define', '-u', N, '-p', P, '-t', T], events: [`MOVED_TO ${P}/${N}`], file: `${P}/${N}` },
  {
    args: ['define', '-u', N, '-p', '0000:00:03.0', '-t', T],
    events: ['CREATE,ISDIR 0000:00:03.0', `MOVED_TO 0000:00:03.0/${N}`],
    file: `0000:00:03.0/${N}`,
    newDir: true,
  },
  { args: ['modify', '-u', U, '--auto'], events: [`MOVED_TO ${P}/${U}`], file: `${P}/${U}` },
  { args: ['modify', '-u', U, '--addattr', 'x', '--value', 'y'], events: [`MOVED_TO ${P}/${U}`], file: `${P}/${U}` },
  { args: ['undefine', '-u', U], events: [`DELETE ${P}/${U}`] },
];

const roots: string[] = [];
afterAll(() => roots.forEach(removeFixture));

function gvt(): string {
  const root = freshFixture('gvt');
  roots.push(root);
  return root;
}

(skip ? describe.skip : describe)('libvirt wakes once per command', () => {
  test.each(COMMANDS.map((c) => [c.args.join(' '), c] as const))('%s', async (_name, c) => {
    const root = gvt();
    const w = await startWatch(root);
    const r = run(c.args, { root });
    const events = await stopWatch(w, root);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    if (c.newDir) expect(c.events.slice(0, events.length)).toEqual(events);
    else expect(events).toEqual(c.events);
    expect(resyncs(events)).toBe(1);
    if (c.file) expect(fs.readFileSync(path.join(root, 'etc', 'mdevctl.d', c.file), 'utf8')).toMatch(/^\{\n/);
    // no temp file left where it was made (ROOT/etc) nor beside the definitions
    expect(fs.readdirSync(path.join(root, 'etc')).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  test('the model: the old temp-beside-the-file write woke libvirt twice, 1.4.0 once', () => {
    const tmp = `.${N}.123.abc.tmp`;
    expect(resyncs([`CREATE ${P}/${tmp}`, `MODIFY ${P}/${tmp}`, `CLOSE_WRITE,CLOSE ${P}/${tmp}`, `MOVED_FROM ${P}/${tmp}`, `MOVED_TO ${P}/${N}`])).toBe(2);
    expect(resyncs([`CREATE ${P}/${N}`, `MODIFY ${P}/${N}`, `CLOSE_WRITE,CLOSE ${P}/${N}`])).toBe(1);
    expect(resyncs([`DELETE ${P}/${N}`])).toBe(1);
    expect(resyncs([])).toBe(0);
  });

  test("a writer's temp file left in ROOT/etc is removed by the next locked command once its writer is gone; a live writer's stays", () => {
    const root = gvt();
    const dead = `.mdevctl.d-${N}.999999999.abc.tmp`;
    const live = `.mdevctl.d-${N}.${process.pid}.abc.tmp`;
    const other = '.someone-else.999999999.abc.tmp';
    for (const n of [dead, live, other]) fs.writeFileSync(path.join(root, 'etc', n), '{');
    expect(run(['modify', '-u', U, '--auto'], { root })).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(
      fs
        .readdirSync(path.join(root, 'etc'))
        .filter((n) => n.startsWith('.'))
        .sort(),
    ).toEqual([other, live].sort());
  });

  const asRoot = process.getuid?.() === 0;
  (asRoot ? test : test.skip)('etc/mdevctl.d on another file system: the temp file is made beside the definition after all', () => {
    const root = gvt();
    const dir = path.join(root, 'etc', 'mdevctl.d');
    const saved = `${dir}.saved`;
    fs.renameSync(dir, saved);
    fs.mkdirSync(dir);
    const m = spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', dir], { encoding: 'utf8' });
    if (m.status !== 0) throw new Error(`mount tmpfs: ${m.stderr}`);
    try {
      spawnSync('cp', ['-a', `${saved}/.`, `${dir}/`]);
      expect(run(['define', '-u', N, '-p', P, '-t', T], { root })).toEqual({ status: 0, stdout: '', stderr: '' });
      expect(JSON.parse(fs.readFileSync(path.join(dir, P, N), 'utf8'))).toEqual({ mdev_type: T, start: 'manual', attrs: [] });
      expect(fs.readdirSync(path.join(dir, P)).filter((n) => n.startsWith('.'))).toEqual([]);
      expect(fs.readdirSync(path.join(root, 'etc')).filter((n) => n.startsWith('.'))).toEqual([]);
    } finally {
      spawnSync('umount', [dir]);
    }
  });
});

/** The real 1.4.0, where it can be had: the same commands wake libvirt as often. */
const REF = path.join(REPO, 'scripts', 'reference-mdevctl.sh');
const refEnv = { ...process.env, MDEVCTL_REF_VERSION: '1.4.0' };
const refSkip = skip || prerequisites(`${SUITE} (1.4.0 side by side)`, { root: true, tools: ['chroot', 'apt-get', 'dpkg-deb'] }, 'run as root on Debian');

(refSkip ? describe.skip : describe)('as often as with upstream 1.4.0', () => {
  test.each(COMMANDS.map((c) => [c.args.join(' '), c] as const))('%s', async (_name, c) => {
    const root = gvt();
    const inst = spawnSync('bash', [REF, '--install', root], { env: refEnv, encoding: 'utf8' });
    expect({ status: inst.status, stderr: inst.stderr }).toEqual({ status: 0, stderr: '' });
    const w = await startWatch(root);
    const r = spawnSync('bash', [REF, root, ...c.args], { env: refEnv, encoding: 'utf8' });
    const events = await stopWatch(w, root);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(resyncs(events)).toBe(1);
  });
});
