/**
 * `mdevctl monitor` run as a process on a fixture root: changes made by the CLI and by hand (as
 * the kernel would) each come out as one line, in order; SIGINT and SIGTERM end it with status 0.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cliCommand, cliEnv, run } from './support/cli';
import { FakeTree } from './support/tree';

const P = '0000:00:02.0';
const Q = '0000:00:03.0';
const U1 = 'aaaaaaaa-1111-4111-8111-111111111111';
const U2 = 'bbbbbbbb-2222-4222-8222-222222222222';

class Monitor {
  readonly child: ChildProcess;
  private out = '';
  err = '';
  private waiters: Array<() => void> = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(root: string, args: string[]) {
    const env = { ...cliEnv() };
    delete env.NO_COLOR;
    delete env.MDEVCTL_ENV_ROOT;
    this.child = spawn(...cliCommand(['--root', root, 'monitor', '--interval', '0.2', ...args]), { env });
    this.child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      this.out += s;
      this.wake();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      this.err += s;
      this.wake();
    });
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((f) => f());
  }

  private async until(cond: () => boolean, what: string, ms = 8000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; stdout so far:\n${this.out}\nstderr:\n${this.err}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  ready(): Promise<void> {
    return this.until(() => this.err.includes('press Ctrl-C to stop'), 'the start message');
  }

  /** The next N complete lines of stdout (consumed). */
  async lines(n: number): Promise<string[]> {
    await this.until(() => this.out.split('\n').length - 1 >= n, `${n} line(s)`);
    const all = this.out.split('\n');
    const taken = all.slice(0, n);
    this.out = all.slice(n).join('\n');
    return taken;
  }

  pending(): string {
    return this.out;
  }
}

describe('monitor', () => {
  let tree: FakeTree;
  let mon: Monitor | undefined;
  beforeEach(() => {
    tree = new FakeTree().withStandardDirs();
    tree.addParent(P, { 'i915-GVTg_V5_4': { available: 3 }, 'i915-GVTg_V5_8': { available: 5 } });
  });
  afterEach(async () => {
    if (mon && mon.child.exitCode === null && mon.child.signalCode === null) {
      mon.child.kill('SIGKILL');
      await mon.exited;
    }
    mon = undefined;
    tree.cleanup();
  });

  test('one line per change, until SIGINT (exit 0)', async () => {
    mon = new Monitor(tree.root, []);
    await mon.ready();
    expect(mon.err).toBe(`Watching ${tree.root} for changes; press Ctrl-C to stop\n`);

    const def = run(['define', '-u', U1, '-p', P, '-t', 'i915-GVTg_V5_4'], { root: tree.root });
    expect(def.status).toBe(0);
    expect(await mon.lines(1)).toEqual([`defined ${U1} ${P} i915-GVTg_V5_4 manual`]);

    expect(run(['modify', '-u', U1, '--auto'], { root: tree.root }).status).toBe(0);
    expect(await mon.lines(1)).toEqual([`modified ${U1} ${P} i915-GVTg_V5_4 auto`]);

    // what the kernel does on `create`: the device appears under sys/bus/mdev/devices
    tree.addActive(U1, P, 'i915-GVTg_V5_4');
    expect(await mon.lines(1)).toEqual([`started ${U1} ${P} i915-GVTg_V5_4`]);

    tree.addParent(Q, { 'nvidia-35': {} });
    expect(await mon.lines(1)).toEqual([`parent-added ${Q}`]);

    fs.unlinkSync(tree.p('sys/bus/mdev/devices', U1));
    expect(await mon.lines(1)).toEqual([`stopped ${U1} ${P} i915-GVTg_V5_4`]);

    expect(run(['undefine', '-u', U1], { root: tree.root }).status).toBe(0);
    expect(await mon.lines(1)).toEqual([`undefined ${U1} ${P}`]);

    fs.unlinkSync(tree.p('sys/class/mdev_bus', Q));
    expect(await mon.lines(1)).toEqual([`parent-removed ${Q}`]);

    mon.child.kill('SIGINT');
    expect(await mon.exited).toEqual({ code: 0, signal: null });
    expect(mon.pending()).toBe('');
  });

  test('--dumpjson: one JSON object per line; SIGTERM ends it with 0', async () => {
    tree.addActive(U2, P, 'i915-GVTg_V5_8');
    mon = new Monitor(tree.root, ['--dumpjson']);
    await mon.ready();
    tree.addDefinition(P, U1, { mdev_type: 'i915-GVTg_V5_4', start: 'auto', attrs: [{ a: '1' }] });
    const [line] = await mon.lines(1);
    expect(JSON.parse(line)).toEqual({
      event: 'defined',
      uuid: U1,
      parent: P,
      config: { mdev_type: 'i915-GVTg_V5_4', start: 'auto', attrs: [{ a: '1' }] },
    });
    fs.unlinkSync(tree.p('sys/bus/mdev/devices', U2));
    expect((await mon.lines(1)).map((l) => JSON.parse(l))).toEqual([{ event: 'stopped', uuid: U2, parent: P, mdev_type: 'i915-GVTg_V5_8' }]);
    mon.child.kill('SIGTERM');
    expect(await mon.exited).toEqual({ code: 0, signal: null });
  });

  test('changes between two scans come out in a stable order', async () => {
    mon = new Monitor(tree.root, []);
    await mon.ready();
    // one burst: everything lands before the next scan
    tree.addParent(Q, { 'nvidia-35': {} });
    tree.addActive(U2, Q, 'nvidia-35');
    tree.addDefinition(Q, U2, { mdev_type: 'nvidia-35', start: 'manual', attrs: [] });
    const lines = await mon.lines(3);
    // a watcher may split the burst over two scans, but each change is reported once
    expect([...lines].sort()).toEqual([`defined ${U2} ${Q} nvidia-35 manual`, `parent-added ${Q}`, `started ${U2} ${Q} nvidia-35`].sort());
    expect(lines.indexOf(`parent-added ${Q}`)).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    expect(mon.pending()).toBe('');
  });

  test('a malformed definition is reported, not fatal; a bad --interval is a usage error', async () => {
    mon = new Monitor(tree.root, []);
    await mon.ready();
    tree.addDefinition(P, U1, '{"mdev_type": 1');
    const [line] = await mon.lines(1);
    expect(line).toMatch(new RegExp(`^defined ${U1} ${P} \\(malformed: invalid JSON: .+\\)$`));
    const bad = run(['monitor', '--interval', 'soon'], { root: tree.root });
    expect(bad.status).toBe(2);
    expect(bad.stderr.split('\n')[0]).toBe("error: invalid value 'soon' for '--interval <SECONDS>': a number of seconds from 0.05 to 3600");
  });
});

test('an empty root: a config directory made later is picked up by the poll', async () => {
  const t = new FakeTree();
  const m = new Monitor(t.root, []);
  try {
    await m.ready();
    fs.mkdirSync(path.join(t.root, 'etc/mdevctl.d', P), { recursive: true });
    t.addDefinition(P, U1, { mdev_type: 'x', start: 'manual', attrs: [] });
    expect(await m.lines(1)).toEqual([`defined ${U1} ${P} x manual`]);
    m.child.kill('SIGINT');
    expect(await m.exited).toEqual({ code: 0, signal: null });
  } finally {
    if (m.child.exitCode === null) m.child.kill('SIGKILL');
    t.cleanup();
  }
});
