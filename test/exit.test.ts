/**
 * How a run of the CLI ends (src/cli/exit.ts): as soon as its work is done and its output written,
 * through the addon's exitNow (_exit), never waiting on a thread of Node's. Node's own ending can
 * wait forever (nodejs/node#54918: a compile job waiting for a garbage collection that the main
 * thread, waiting for that job, never runs); that race cannot be set up on demand, so these tests
 * hold Node's ending with something certain instead: a preload whose fs.open of a FIFO blocks a
 * libuv thread until a writer comes. Node's own ending waits for it (the control below shows it
 * does); the CLI's must not. Output, exit status and the 'exit' listeners stay as they were.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cliCommand, cliEnv, copyCliWithAddon, REPO, MDEVCTL, LSMDEV } from './support/cli';
import { prerequisites } from './support/prerequisites';
import { freshFixture, removeFixture } from './support/fixture';

const DEMO = path.join(REPO, 'fixtures', 'demo');
let work: string;
let preload: string;
let fifo: string;

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mdevctl-exit-'));
  fifo = path.join(work, 'fifo');
  expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
  preload = path.join(work, 'hold.cjs');
  // a thread of libuv's pool blocks in open(2) until the FIFO has a writer: it never gets one
  fs.writeFileSync(preload, `require('fs').open(${JSON.stringify(fifo)}, 'r', () => {});\n`);
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

interface Ran {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** BIN ARGS as its own process, Node's ending held by the preload when HOLD. */
function runCli(bin: string, args: string[], opts: { hold: boolean; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Ran {
  const env: NodeJS.ProcessEnv = { ...cliEnv(), ...opts.env };
  delete env.MDEVCTL_ENV_ROOT;
  const r = spawnSync(...cliCommand(args, { bin, nodeArgs: opts.hold ? ['--require', preload] : [] }), {
    env,
    input: '',
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 20000,
    killSignal: 'SIGKILL',
  });
  const error: NodeJS.ErrnoException | undefined = r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, timedOut: error?.code === 'ETIMEDOUT' };
}

// the CLI ends through the addon, which the build makes only with a C compiler
const noAddon = prerequisites(
  "exit.test.ts (the runs Node's ending would hold)",
  { files: [path.join(REPO, 'dist', 'fastio.node')] },
  'a C compiler for the build to make dist/fastio.node: apt-get install gcc libc6-dev, then npm run build',
);

(noAddon ? describe.skip : describe)('a run ends when its work is done, whatever Node still waits for', () => {
  const lines: Array<[string, string, string[], number]> = [
    ['--version (the fast path, nothing read)', MDEVCTL, ['--version'], 0],
    ['list (the fast path, batches read)', MDEVCTL, ['--root', DEMO, 'list'], 0],
    ['list -d --dumpjson', MDEVCTL, ['--root', DEMO, 'list', '-d', '--dumpjson'], 0],
    ['types', MDEVCTL, ['--root', DEMO, 'types'], 0],
    ['lsmdev', LSMDEV, ['--root', DEMO], 0],
    ['a failed command (exit 1)', MDEVCTL, ['--root', DEMO, 'stop', '-u', '11111111-1111-4111-8111-111111111111'], 1],
    ['a usage error (the full parser, exit 2)', MDEVCTL, ['--root', DEMO, 'frobnicate'], 2],
    ['--help (the full parser)', MDEVCTL, ['--help'], 0],
    ['modify --help', MDEVCTL, ['modify', '--help'], 0],
  ];
  test.each(lines)('%s: the same output and status as a run Node is free to end', (_name, bin, args, status) => {
    const free = runCli(bin, args, { hold: false });
    expect(free).toMatchObject({ status, signal: null, timedOut: false });
    const held = runCli(bin, args, { hold: true });
    expect(held).toEqual(free);
  });

  test('define and undefine (a write under the lock) end too, and what they wrote is there', () => {
    const root = freshFixture('demo');
    try {
      const uuid = 'a1b2c3d4-0000-4000-8000-00000000e417';
      const def = runCli(MDEVCTL, ['--root', root, 'define', '-u', uuid, '-p', 'mtty', '-t', 'mtty-1'], { hold: true });
      expect(def).toEqual({ status: 0, signal: null, stdout: '', stderr: '', timedOut: false });
      const file = path.join(root, 'etc', 'mdevctl.d', 'mtty', uuid);
      expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ mdev_type: 'mtty-1', start: 'manual', attrs: [] });
      expect(fs.readdirSync(path.dirname(file)).filter((f) => f.startsWith('.'))).toEqual([]);
      const undef = runCli(MDEVCTL, ['--root', root, 'undefine', '-u', uuid], { hold: true });
      expect(undef).toEqual({ status: 0, signal: null, stdout: '', stderr: '', timedOut: false });
      expect(fs.existsSync(file)).toBe(false);
    } finally {
      removeFixture(root);
    }
  });

  test('control: where the addon cannot be loaded, Node ends the process and the preload holds it', () => {
    // a copy of the built CLI whose addon is garbage: it reads with JavaScript and Node ends it
    const bin = copyCliWithAddon(path.join(work, 'pkg'), 'not a shared object\n');
    const free = runCli(bin, ['--root', DEMO, 'list'], { hold: false });
    expect(free).toEqual(runCli(MDEVCTL, ['--root', DEMO, 'list'], { hold: false }));
    const held = runCli(bin, ['--root', DEMO, 'list'], { hold: true, timeoutMs: 3000 });
    expect(held).toMatchObject({ timedOut: true, signal: 'SIGKILL', stdout: free.stdout, stderr: free.stderr });
  });
});

// held by the preload too: it ends through the addon
(noAddon ? test.skip : test)('a reader that goes away (EPIPE) ends the run quietly with status 0, however much output is left', async () => {
  const root = freshFixture('demo');
  try {
    // enough definitions that the listing cannot fit in a pipe's buffer
    const dir = path.join(root, 'etc', 'mdevctl.d', 'mtty');
    for (let i = 0; i < 3000; i++) {
      const u = `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
      fs.writeFileSync(path.join(dir, u), JSON.stringify({ mdev_type: 'mtty-1', start: 'manual', attrs: [] }));
    }
    const child = spawn(...cliCommand(['--root', root, 'list', '-d', '--dumpjson'], { nodeArgs: ['--require', preload] }), {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // read one chunk, then go away, as `| head -c 100` does
    child.stdout.once('data', () => child.stdout.destroy());
    const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
    const [status, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
    clearTimeout(timer);
    expect({ status, signal, stderr }).toEqual({ status: 0, signal: null, stderr: '' });
  } finally {
    removeFixture(root);
  }
});
