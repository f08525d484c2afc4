/**
 * bin/load-cli.cjs loads the CLI's two files (dist/cli.cjs at every start, dist/cli-on-demand.cjs
 * when a command line needs it) each with a V8 code cache: the one the build writes beside it
 * (scripts/code-cache.cjs) when it belongs to this build and this Node, else one of its own for
 * this Node in the cache directory (NODE_COMPILE_CACHE, /var/cache/mdevctl-ts, the user's cache
 * directory). A cache that is missing, foreign or damaged, or a cache directory that cannot be
 * written, must never change what the CLI does, nor make it write anywhere else. Runs on a copy of
 * bin/, dist/ and scripts/code-cache.cjs (other test files use the real ones at the same time);
 * every run here points NODE_COMPILE_CACHE (or HOME, for the user's directory) at a temporary
 * directory, so the machine's /var/cache is never touched but where a test says so. Which
 * command lines load the second file is seen in the caches they leave.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as crypto from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { cliCommand, cliEnv, NODE, REPO, testNodeVersion } from './support/cli';

const FILES = ['cli.cjs', 'cli-on-demand.cjs'];
const DEMO = path.join(REPO, 'fixtures', 'demo');

let dir: string;
let tmp: string;
let n = 0;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mdevctl-cache-test-'));
  fs.chmodSync(dir, 0o755);
  for (const f of ['bin/mdevctl', 'bin/load-cli.cjs', ...FILES.flatMap((n) => [`dist/${n}`, `dist/${n}.cache`]), 'scripts/code-cache.cjs']) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.copyFileSync(path.join(REPO, f), path.join(dir, f));
  }
  // a build id of its own (same length, so V8 still takes the cache): caches that runs of the real
  // build left in the machine's cache directories are not this build's
  const id = crypto.randomBytes(6).toString('hex');
  const unique = (s: string) => s.replace(/(\/\/ mdevctl-ts build [0-9a-z]+\.)[0-9a-f]{12}/, `$1${id}`);
  for (const name of FILES) {
    const bundle = path.join(dir, 'dist', name);
    fs.writeFileSync(bundle, unique(fs.readFileSync(bundle, 'latin1')), 'latin1');
    const c = fs.readFileSync(cacheFile(name));
    const nl = c.indexOf(10);
    builtCaches.set(name, Buffer.concat([Buffer.from(`${unique(c.toString('latin1', 0, nl))}\n`, 'latin1'), c.subarray(nl + 1)]));
    fs.writeFileSync(cacheFile(name), built(name));
  }
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A fresh directory for one test's caches, and the build's caches in place. */
beforeEach(() => {
  tmp = path.join(dir, `t${++n}`);
  fs.mkdirSync(tmp, { mode: 0o755 });
  for (const name of FILES) fs.writeFileSync(cacheFile(name), built(name));
});

const cacheFile = (name = 'cli.cjs') => path.join(dir, 'dist', `${name}.cache`);
const builtCaches = new Map<string, Buffer>();
const built = (name = 'cli.cjs') => builtCaches.get(name)!;
/**
 * The entries of DIR but Node's own compile cache: Node 22.1 and later cache the CommonJS files
 * they load (our launchers) in NODE_COMPILE_CACHE themselves, in a directory named after the Node
 * (`v24.22.3-x64-964aae3f-0`); what is checked here is what the CLI writes.
 */
const ours = (dir: string) => fs.readdirSync(dir).filter((e) => !e.startsWith(`${testNodeVersion()}-${process.arch}-`));
const ownNameOf = (name: string) => `${name}-${testNodeVersion()}-${process.arch}.cache`;
const ownName = ownNameOf('cli.cjs');

function env(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...cliEnv(), ...extra };
  delete e.NODE_OPTIONS;
  for (const [k, v] of Object.entries(extra)) if (v === undefined) delete e[k];
  return e;
}

function cli(args: string[], extra: Record<string, string | undefined>, uid?: number) {
  return spawnSync(...cliCommand(args, { bin: path.join(dir, 'bin/mdevctl') }), {
    encoding: 'utf8',
    env: env(extra),
    ...(uid === undefined ? {} : { uid, gid: uid }),
  });
}

function version(extra: Record<string, string | undefined>, uid?: number) {
  return cli(['--version'], extra, uid);
}

/** Node code, with the copy's loader as `l`, printing what it logs. */
function probe(code: string, extra: Record<string, string | undefined> = {}): string {
  const r = spawnSync(NODE, ['-e', `const l = require(${JSON.stringify(path.join(dir, 'bin/load-cli.cjs'))});\n${code}`], {
    encoding: 'utf8',
    env: env(extra),
  });
  expect(r.stderr).toBe('');
  return r.stdout;
}

/**
 * Does V8 accept the cache data in FILE (after its header line) for the CLI file NAME? And is the
 * header the one for it?
 */
function accepted(file: string, name = 'cli.cjs'): string {
  return probe(`const fs = require('fs');
    const c = fs.readFileSync(${JSON.stringify(file)});
    const nl = c.indexOf(10);
    const js = l.DIST + '/' + ${JSON.stringify(name)};
    const src = fs.readFileSync(js, 'utf8');
    console.log(c.toString('latin1', 0, nl) === l.cacheHeader(src), l.compile(src, c.subarray(nl + 1), js).cachedDataRejected);`);
}

/** A cache file as another Node would have made it: same build, another version in the header. */
function foreignCache(name = 'cli.cjs'): Buffer {
  const c = built(name);
  const nl = c.indexOf(10);
  const header = c.toString('latin1', 0, nl).replace(/ node v[\d.]+ /, ' node v0.0.1 ');
  return Buffer.concat([Buffer.from(`${header}\n`, 'latin1'), Buffer.alloc(4000, 0x5a)]);
}

test('the build leaves a cache of each file that this Node accepts, naming this build and this Node', () => {
  const lines = new Set<string>();
  for (const name of FILES) {
    expect(accepted(cacheFile(name), name)).toBe('true false\n');
    const text = fs.readFileSync(path.join(dir, 'dist', name), 'utf8');
    expect(text).toMatch(/\n\/\/ mdevctl-ts build [0-9a-z]+\.[0-9a-f]{12}\n?$/);
    lines.add(text.trimEnd().split('\n').pop()!);
    const header = built(name).toString('latin1', 0, built(name).indexOf(10));
    expect(header).toMatch(new RegExp(`^// mdevctl-ts build [0-9a-z]+\\.[0-9a-f]{12} node ${testNodeVersion().replace(/\./g, '\\.')} ${process.arch}$`));
  }
  // one build: the same line ends both files
  expect(lines.size).toBe(1);
});

test('with its own caches the CLI writes no cache of its own', () => {
  expect(version({ NODE_COMPILE_CACHE: tmp })).toMatchObject({ status: 0, stdout: 'mdevctl 1.4.0\n', stderr: '' });
  const help = cli(['--help'], { NODE_COMPILE_CACHE: tmp });
  expect(help).toMatchObject({ status: 0, stderr: '' });
  expect(help.stdout).toMatch(/^Usage: mdevctl \[options\] \[command\]\n/);
  expect(ours(tmp)).toEqual([]);
});

describe('the fast path loads dist/cli.cjs alone; every other line (the full parser, the other verbs) cli-on-demand.cjs too', () => {
  // with both build caches of another Node, each file a command line loads gets a cache of its own
  const loaded = (args: string[]) => {
    for (const name of FILES) fs.writeFileSync(cacheFile(name), foreignCache(name));
    const r = cli(['--root', DEMO, ...args], { NODE_COMPILE_CACHE: tmp });
    const own = path.join(tmp, 'mdevctl-ts');
    const files = fs.existsSync(own) ? fs.readdirSync(own).sort() : [];
    fs.rmSync(own, { recursive: true, force: true });
    return { status: r.status, stderr: r.stderr, files };
  };
  const startUp = { status: 0, stderr: '', files: [ownNameOf('cli.cjs')] };
  const both = { status: 0, stderr: '', files: [ownNameOf('cli-on-demand.cjs'), ownNameOf('cli.cjs')] };

  test.each([
    [['--version']],
    [['-V']],
    [['list']],
    [['list', '--dumpjson']],
    [['list', '-d', '--dumpjson']],
    [['list', '-d', '-v']],
    [['types']],
    [['types', '--dumpjson']],
    [['list', '--uuid', 'cfbe06ff-56e5-4910-8a44-689c0a5834b2', '--dumpjson']],
    [['--dry-run', 'list']],
    [['types', '-p', 'mtty']],
  ])('mdevctl %j: dist/cli.cjs alone', (args) => {
    expect(loaded(args)).toEqual(startUp);
  });

  test.each([
    [['--help']],
    [['list', '--help']],
    [['define', '-p', 'mtty', '-t', 'mtty-1', '--dry-run']],
    [['--dry-run', 'stop', '-u', 'cfbe06ff-56e5-4910-8a44-689c0a5834b2']],
    [['completion', 'bash']],
    [['__complete', 'parents']],
    [['vgpu', 'types']],
    [['fixture', '--help']],
    [['list', '-dv']],
    [['list', '--version']],
  ])('mdevctl %j: both files', (args) => {
    expect(loaded(args)).toEqual(both);
  });

  test("a usage error of a fast-path verb is the full parser's, in clap's words as 1.4.0's", () => {
    for (const [args, usage] of [
      [['list', '--bogus'], 'Usage: mdevctl list [OPTIONS]\n\n'],
      // clap prints no usage line after a value its parser refused
      [['list', '--uuid', 'nope'], ''],
    ] as Array<[string[], string]>) {
      const r = cli(['--root', DEMO, ...args], { NODE_COMPILE_CACHE: tmp });
      expect(r).toMatchObject({ status: 2, stdout: '' });
      expect(r.stderr).toMatch(/^error: [^\n]*\n\n/);
      expect(r.stderr.replace(/^error: [^\n]*\n\n/, '')).toBe(`${usage}For more information, try '--help'.\n`);
    }
  });

  test('without cli-on-demand.cjs the start-up verbs still answer; any other verb cannot run', () => {
    const top = path.join(tmp, 'pkg');
    for (const f of ['bin/mdevctl', 'bin/load-cli.cjs', 'dist/cli.cjs']) {
      fs.mkdirSync(path.dirname(path.join(top, f)), { recursive: true });
      fs.copyFileSync(path.join(dir, f), path.join(top, f));
    }
    const run = (args: string[]) =>
      spawnSync(...cliCommand(['--root', DEMO, ...args], { bin: path.join(top, 'bin/mdevctl') }), {
        encoding: 'utf8',
        env: env({ NODE_COMPILE_CACHE: path.join(tmp, 'cache') }),
      });
    const full = (args: string[]) => cli(['--root', DEMO, ...args], { NODE_COMPILE_CACHE: path.join(tmp, 'cache') });
    for (const args of [['list'], ['list', '-d', '--dumpjson'], ['types', '--dumpjson'], ['--version']]) {
      const r = run(args);
      expect(r).toMatchObject({ status: 0, stderr: '' });
      expect(r.stdout).toBe(full(args).stdout);
    }
    expect(run(['define', '-p', 'mtty', '-t', 'mtty-1', '--dry-run']).status).not.toBe(0);
  });
});

test.each([
  ['of another Node', () => fs.writeFileSync(cacheFile(), foreignCache())],
  ['of another build', () => fs.writeFileSync(cacheFile(), '// mdevctl-ts build other node v0.0.1 x64\nxxxx')],
  [
    'damaged, of this build and Node',
    () => {
      const c = built();
      const nl = c.indexOf(10);
      fs.writeFileSync(cacheFile(), Buffer.concat([c.subarray(0, nl + 1), Buffer.alloc(5000, 0x5a)]));
    },
  ],
  ['empty', () => fs.writeFileSync(cacheFile(), '')],
  ['missing', () => fs.rmSync(cacheFile(), { force: true })],
])('with a build cache %s: the same output, and a cache of its own in NODE_COMPILE_CACHE, used next time', (_name, prepare) => {
  prepare();
  expect(version({ NODE_COMPILE_CACHE: tmp })).toMatchObject({ status: 0, stdout: 'mdevctl 1.4.0\n', stderr: '' });
  // only our file, in our subdirectory: no temp file left
  expect(ours(tmp)).toEqual(['mdevctl-ts']);
  expect(fs.readdirSync(path.join(tmp, 'mdevctl-ts'))).toEqual([ownName]);
  const own = path.join(tmp, 'mdevctl-ts', ownName);
  expect(accepted(own)).toBe('true false\n');
  // the next run reads it and, as V8 accepts it, leaves it as it is
  const before = fs.statSync(own);
  expect(version({ NODE_COMPILE_CACHE: tmp })).toMatchObject({ status: 0, stdout: 'mdevctl 1.4.0\n', stderr: '' });
  expect(fs.statSync(own).mtimeMs).toBe(before.mtimeMs);
  expect(fs.statSync(own).ino).toBe(before.ino);
});

test('with both build caches of another Node, a verb that needs both files gets a cache of each, used next time', () => {
  for (const name of FILES) fs.writeFileSync(cacheFile(name), foreignCache(name));
  const args = ['--root', DEMO, 'define', '-p', 'mtty', '-t', 'mtty-1', '-u', '0b6a8f3e-7d2c-4f1a-9e5b-3c4d5e6f7a8b', '--dry-run'];
  const first = cli(args, { NODE_COMPILE_CACHE: tmp });
  expect(first).toMatchObject({ status: 0, stderr: '' });
  expect(first.stdout).toMatch(/^write-file \/etc\/mdevctl\.d\/mtty\/0b6a8f3e-7d2c-4f1a-9e5b-3c4d5e6f7a8b\n/);
  const own = path.join(tmp, 'mdevctl-ts');
  expect(fs.readdirSync(own).sort()).toEqual([ownNameOf('cli-on-demand.cjs'), ownNameOf('cli.cjs')]);
  for (const name of FILES) expect(accepted(path.join(own, ownNameOf(name)), name)).toBe('true false\n');
  const before = FILES.map((name) => fs.statSync(path.join(own, ownNameOf(name))));
  expect(cli(args, { NODE_COMPILE_CACHE: tmp })).toMatchObject({ status: 0, stdout: first.stdout, stderr: '' });
  FILES.forEach((name, i) => expect(fs.statSync(path.join(own, ownNameOf(name))).ino).toBe(before[i].ino));
});

test('a damaged cache of its own is replaced by a good one', () => {
  fs.writeFileSync(cacheFile(), foreignCache());
  const own = path.join(tmp, 'mdevctl-ts', ownName);
  fs.mkdirSync(path.dirname(own), { mode: 0o755 });
  const header = probe(`console.log(l.cacheHeader(require('fs').readFileSync(l.FILE, 'utf8')))`).trim();
  fs.writeFileSync(own, `${header}\n${'z'.repeat(3000)}`);
  expect(version({ NODE_COMPILE_CACHE: tmp })).toMatchObject({ status: 0, stdout: 'mdevctl 1.4.0\n', stderr: '' });
  expect(accepted(own)).toBe('true false\n');
});

test('a cache directory that cannot be made: the same output, nothing written anywhere', () => {
  fs.writeFileSync(cacheFile(), foreignCache());
  const file = path.join(tmp, 'a-file');
  fs.writeFileSync(file, 'x');
  const r = version({ NODE_COMPILE_CACHE: path.join(file, 'cache') });
  expect(r).toMatchObject({ status: 0, stdout: 'mdevctl 1.4.0\n', stderr: '' });
  expect(fs.readdirSync(tmp)).toEqual(['a-file']);
  expect(fs.readFileSync(file, 'utf8')).toBe('x');
  // the CLI's own directories were not written either
  expect(fs.readdirSync(path.join(dir, 'dist')).sort()).toEqual(['cli-on-demand.cjs', 'cli-on-demand.cjs.cache', 'cli.cjs', 'cli.cjs.cache']);
  expect(fs.readdirSync(path.join(dir, 'bin')).sort()).toEqual(['load-cli.cjs', 'mdevctl']);
});

test('a cache directory others may write is neither read nor written', () => {
  fs.writeFileSync(cacheFile(), foreignCache());
  const own = path.join(tmp, 'mdevctl-ts');
  fs.mkdirSync(own);
  fs.chmodSync(own, 0o777);
  expect(version({ NODE_COMPILE_CACHE: tmp })).toMatchObject({ status: 0, stdout: 'mdevctl 1.4.0\n', stderr: '' });
  expect(fs.readdirSync(own)).toEqual([]);
});

test("without NODE_COMPILE_CACHE the directories are /var/cache/mdevctl-ts, then the user's cache directory", () => {
  const dirs = (e: Record<string, string | undefined>) =>
    JSON.parse(probe('console.log(JSON.stringify(l.cacheDirs().map((d) => d.dir)))', { NODE_COMPILE_CACHE: undefined, ...e }));
  expect(dirs({ XDG_CACHE_HOME: '/xdg', HOME: '/home/u' })).toEqual(['/var/cache/mdevctl-ts', '/xdg/mdevctl-ts']);
  expect(dirs({ XDG_CACHE_HOME: undefined, HOME: '/home/u' })).toEqual(['/var/cache/mdevctl-ts', '/home/u/.cache/mdevctl-ts']);
  expect(dirs({ XDG_CACHE_HOME: 'relative', HOME: 'relative' })).toEqual(['/var/cache/mdevctl-ts']);
  expect(dirs({ NODE_COMPILE_CACHE: '/ncc' })).toEqual(['/ncc/mdevctl-ts']);
});

// as root: run as nobody (root could write /var/cache, and the machine's /var/cache stays as it is)
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

test('a user who cannot write /var/cache/mdevctl-ts gets the cache in ~/.cache/mdevctl-ts', () => {
  fs.writeFileSync(cacheFile(), foreignCache());
  const home = path.join(tmp, 'home');
  fs.mkdirSync(path.join(home, '.cache'), { recursive: true });
  if (isRoot) {
    fs.chownSync(home, 65534, 65534);
    fs.chownSync(path.join(home, '.cache'), 65534, 65534);
  }
  const r = version({ NODE_COMPILE_CACHE: undefined, XDG_CACHE_HOME: undefined, HOME: home }, isRoot ? 65534 : undefined);
  expect(r).toMatchObject({ status: 0, stdout: 'mdevctl 1.4.0\n', stderr: '' });
  expect(fs.readdirSync(path.join(home, '.cache', 'mdevctl-ts'))).toEqual([ownName]);
  expect(accepted(path.join(home, '.cache', 'mdevctl-ts', ownName))).toBe('true false\n');
});

test('scripts/code-cache.cjs makes the caches for the Node that runs it, for a package directory given', () => {
  for (const name of FILES) fs.rmSync(cacheFile(name), { force: true });
  const r = spawnSync(NODE, [path.join(dir, 'scripts/code-cache.cjs'), dir], { encoding: 'utf8', env: env({}) });
  expect(r).toMatchObject({ status: 0, stderr: '' });
  expect(r.stdout).toBe(`code-cache: ${dir}/dist/cli*.cjs.cache made for node ${testNodeVersion()}\n`);
  for (const name of FILES) expect(accepted(cacheFile(name), name)).toBe('true false\n');
});
