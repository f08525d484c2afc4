/**
 * The native batch reader (native/fastio.c, loaded by src/lib/util/native.ts, used through
 * src/lib/util/fastfs.ts) against the JavaScript readers it replaces: a user must not be able to tell
 * them apart. Every listing runs through the real, built CLI in three modes, MDEVCTL_NATIVE=off
 * (JavaScript), MDEVCTL_NATIVE=require with MDEVCTL_NATIVE_THREADS=1, and require with the
 * default threads (big batches also with 8 threads), and stdout, stderr and the exit status must
 * be byte-identical across them; the messages themselves are asserted too.
 *
 * Trees: every bundled fixture; damaged trees (missing, unreadable, empty, huge files; FIFOs and
 * directories where files belong; dangling links; bytes that are not UTF-8), run as nobody where
 * a permission matters; a tree big enough that every batch is split across threads, damaged at
 * each thread's first and last name; random small damaged trees (fast-check). The addon itself:
 * it loads from the build, a broken one falls back silently or fails in one line under
 * MDEVCTL_NATIVE=require, its exports answer as documented, and it runs clean under valgrind.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import fc from 'fast-check';
import { FakeTree } from './support/tree';
import { cliCommand, cliEnv, NODE, run, RunOptions, RunResult, REPO, copyCliWithAddon, nodeBuildOnly } from './support/cli';
import { prerequisites } from './support/prerequisites';
import { buildSync } from 'esbuild';

const NOBODY = 65534;
const ADDON = path.join(REPO, 'dist', 'fastio.node');

// The file needs the addon, which the build makes only with a C compiler, and root (listings run
// as nobody, so that permissions matter): without either it is skipped with one line (a failure
// under MDEVCTL_TEST_ALL, as in .ci/run), every test and describe below through these two.
const SKIP = prerequisites(
  'native-reader.test.ts',
  { root: true, files: [ADDON] },
  'run npm test as root, with a C compiler for the build to make dist/fastio.node: apt-get install gcc libc6-dev',
);
const test: jest.It = SKIP ? globalThis.test.skip : globalThis.test;
const describe: jest.Describe = SKIP ? globalThis.describe.skip : globalThis.describe;
const MiB = 1024 * 1024;

/** The modes a listing must give the same bytes in. */
const MODES: Array<[string, NodeJS.ProcessEnv]> = [
  ['JavaScript', { MDEVCTL_NATIVE: 'off', MDEVCTL_NATIVE_THREADS: '' }],
  ['native, 1 thread', { MDEVCTL_NATIVE: 'require', MDEVCTL_NATIVE_THREADS: '1' }],
  ['native, default threads', { MDEVCTL_NATIVE: 'require', MDEVCTL_NATIVE_THREADS: '' }],
];
const MODES_8 = [...MODES, ['native, 8 threads', { MDEVCTL_NATIVE: 'require', MDEVCTL_NATIVE_THREADS: '8' }] as [string, NodeJS.ProcessEnv]];

/** The listings the batch reader serves. */
const LISTINGS = [['types'], ['types', '--dumpjson'], ['list'], ['list', '--dumpjson'], ['list', '-d'], ['list', '-d', '--dumpjson']];

/** ARGS in every mode: asserts the results are identical and returns the one result. */
function same(args: string[], opts: RunOptions, modes = MODES): RunResult {
  const got: Record<string, RunResult> = {};
  for (const [name, env] of modes) got[name] = run(args, { timeoutMs: 20000, ...opts, env: { ...opts.env, ...env } });
  const first = got[modes[0][0]];
  const want: Record<string, RunResult> = {};
  for (const [name] of modes) want[name] = first;
  // labelled by mode, so a failure shows which mode differs and how
  expect({ args, ...got }).toEqual({ args, ...want });
  expect([0, 1]).toContain(first.status);
  expect(first.stderr).not.toMatch(/^\s+at |TypeError|RangeError|node:internal|fastio:/m);
  for (const line of first.stderr.split('\n').slice(0, -1)) expect(line).toMatch(/^(Warning|Error|Note): /);
  return first;
}

/** Every listing of ROOT in every mode: results by the command line ('list -d'). */
function listings(root: string, opts: RunOptions = {}, modes = MODES): Record<string, RunResult> {
  const out: Record<string, RunResult> = {};
  for (const args of LISTINGS) out[args.join(' ')] = same(args, { root, ...opts }, modes);
  return out;
}

const ok = (stdout: string, stderr = ''): RunResult => ({ status: 0, stdout, stderr });
const error = (message: string, warnings = ''): RunResult => ({ status: 1, stdout: '', stderr: `${warnings}Error: ${message}\n` });
const warn = (...lines: string[]) => lines.map((l) => `Warning: ${l}\n`).join('');

let cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.reverse()) c();
  cleanups = [];
});
function tempDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(d, 0o755);
  cleanups.push(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}
function fifo(file: string): void {
  fs.rmSync(file, { recursive: true, force: true });
  const r = spawnSync('mkfifo', [file], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(fs.lstatSync(file).isFIFO()).toBe(true);
}

test('the build ships the addon and MDEVCTL_NATIVE=require loads it for list, list -d, types', () => {
  expect(fs.statSync(ADDON).isFile()).toBe(true);
  const demo = path.join(REPO, 'fixtures', 'demo');
  for (const args of LISTINGS) {
    const r = run(['--root', demo, ...args], { env: { MDEVCTL_NATIVE: 'require' } });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(r.stdout).not.toBe('');
  }
});

(nodeBuildOnly("native-reader.test.ts, a broken addon (loaded by the Node build's bundle)") ? describe.skip : describe)('a broken addon', () => {
  /** A copy of the built CLI (bin/, dist/) under a new directory, its dist/fastio.node ADDON. */
  function copyWith(addon: Buffer | string | null): { bin: string; dir: string } {
    const pkg = path.join(tempDir('mdevctl-native-'), 'pkg');
    return { bin: copyCliWithAddon(pkg, addon), dir: path.join(pkg, 'dist') };
  }
  function cli(bin: string, args: string[], env: NodeJS.ProcessEnv) {
    const e = { ...cliEnv(), ...env };
    delete e.MDEVCTL_ENV_ROOT;
    const r = spawnSync(...cliCommand(['--root', path.join(REPO, 'fixtures', 'demo'), ...args], { bin }), { env: e, encoding: 'utf8', timeout: 20000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** A shared library of the C library's (libm): loadable, but not a Node addon. */
  const notAnAddon = () => {
    const arch = process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : process.arch;
    const lib = [`/lib/${arch}-linux-gnu/libm.so.6`, `/usr/lib/${arch}-linux-gnu/libm.so.6`, '/lib64/libm.so.6', '/usr/lib64/libm.so.6'].find((f) =>
      fs.existsSync(f),
    );
    expect(lib).toBeDefined();
    return fs.readFileSync(lib!);
  };
  test.each<[string, () => Buffer | string, RegExp]>([
    ['garbage bytes', () => 'this is not a shared object\n', /file too short|invalid ELF header/],
    ['a shared object that is not a Node addon', notAnAddon, /self-register|not the fastio addon/],
  ])('%s: silent fallback by default, one Error line under MDEVCTL_NATIVE=require', (_name, bytes, why) => {
    const { bin, dir } = copyWith(bytes());
    for (const args of LISTINGS) {
      const expected = cli(path.join(REPO, 'bin', 'mdevctl'), args, { MDEVCTL_NATIVE: 'off' });
      expect(expected.status).toBe(0);
      expect(cli(bin, args, { MDEVCTL_NATIVE: '' })).toEqual(expected);
      const r = cli(bin, args, { MDEVCTL_NATIVE: 'require' });
      expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 1, stdout: '' });
      expect(r.stderr).toMatch(/^Error: MDEVCTL_NATIVE=require: unable to load the native reader \([^\n]*\)\n$/);
      expect(r.stderr).toContain(`${path.join(dir, 'fastio.node')}: `);
      expect(r.stderr).toMatch(why);
    }
  });

  test('a listing with nothing to read never loads it, so does not fail under MDEVCTL_NATIVE=require', () => {
    const { bin } = copyWith('garbage');
    const e: NodeJS.ProcessEnv = { ...cliEnv(), MDEVCTL_NATIVE: 'require' };
    delete e.MDEVCTL_ENV_ROOT;
    for (const [args, stdout] of [
      [['types'], ''],
      [['list'], ''],
      [['list', '-d', '--dumpjson'], '[]'],
    ] as const) {
      const r = spawnSync(...cliCommand(['--root', path.join(REPO, 'fixtures', 'empty'), ...args], { bin }), { env: e, encoding: 'utf8', timeout: 20000 });
      expect({ args, status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ args, status: 0, stdout, stderr: '' });
    }
  });

  test('the bundle loads the addon beside it, never one from a directory outside its package', () => {
    // the package at TOP/pkg has no addon; TOP/dist/fastio.node is outside it (for a copy of the
    // CLI in /tmp/X, that is /tmp/dist, a directory anyone may create)
    const { bin, dir } = copyWith(null);
    const outside = path.join(path.dirname(path.dirname(dir)), 'dist', 'fastio.node');
    expect(outside.startsWith(`${os.tmpdir()}/mdevctl-native-`)).toBe(true);
    fs.mkdirSync(path.dirname(outside));
    fs.copyFileSync(ADDON, outside);
    const r = cli(bin, ['types'], { MDEVCTL_NATIVE: 'require' });
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 1, stdout: '' });
    expect(r.stderr).toMatch(/^Error: MDEVCTL_NATIVE=require: unable to load the native reader \([^\n]*\)\n$/);
    expect(r.stderr).not.toContain(outside);
  });

  test('MDEVCTL_NATIVE=off reads without it, even when it is broken (the broken one only fails to end the run, silently)', () => {
    const { bin } = copyWith('garbage');
    const expected = cli(path.join(REPO, 'bin', 'mdevctl'), ['types'], {});
    expect(cli(bin, ['types'], { MDEVCTL_NATIVE: 'off' })).toEqual(expected);
  });
});

describe('every bundled fixture: the same bytes in every mode', () => {
  const names = fs.readdirSync(path.join(REPO, 'fixtures')).filter((f) => fs.statSync(path.join(REPO, 'fixtures', f)).isDirectory());
  test('the fixtures are there', () => {
    expect(names.sort()).toEqual(['demo', 'empty', 'gvt', 'mtty', 'nvidia', 'nvidia_sriov', 'nvidia_vfio', 'vfio_ap', 'vfio_ccw']);
  });
  test.each(names)('%s', (name) => {
    const root = path.join(REPO, 'fixtures', name);
    const r = listings(root, { rootFlag: true });
    for (const [cmd, res] of Object.entries(r)) {
      // nvidia_vfio has no mdev parent: types says where its vGPUs are instead
      const note = name === 'nvidia_vfio' && cmd.startsWith('types');
      expect({ cmd, status: res.status, stderr: res.stderr }).toEqual({
        cmd,
        status: 0,
        stderr: note ? expect.stringMatching(/^Note: no mdev parent device, [^\n]*\n$/) : '',
      });
      if (!['empty', 'nvidia_vfio'].includes(name) && cmd.startsWith('types')) expect(res.stdout).toContain('vfio');
    }
    for (const args of [
      ['list', '-v'],
      ['list', '-d', '-v'],
      ['list', '-d', '-v', '--dumpjson'],
    ])
      same(args, { root: path.join(REPO, 'fixtures', name), rootFlag: true });
  });
});

// ------------------------------------------------------------------------------------------------
// Damaged trees

const P1 = '0000:00:02.0';
const P2 = '0000:00:03.0';
const T1 = 'i915-GVTg_V5_4';
const T2 = 'i915-GVTg_V5_8';
const T3 = 'nvidia-555';
/** Running on P1/T1, defined (auto). */
const A = 'aaaaaaaa-0000-4000-8000-00000000000a';
/** Running on P2/T3, not defined. */
const B = 'bbbbbbbb-0000-4000-8000-00000000000b';
/** Defined on P1/T2 (auto, one attribute), not running. */
const C = 'cccccccc-0000-4000-8000-00000000000c';
/** Defined on P2/T3 (manual), not running. */
const D = 'dddddddd-0000-4000-8000-00000000000d';

function baseTree(): FakeTree {
  const t = new FakeTree().withStandardDirs();
  fs.chmodSync(t.root, 0o755);
  cleanups.push(() => t.cleanup());
  t.addParent(P1, {
    [T1]: { available: 2, name: 'GVTg_V5_4', description: 'low_gm_size: 128MB' },
    [T2]: { available: 4, name: 'GVTg_V5_8', description: 'line one\nline two' },
  });
  t.addParent(P2, { [T3]: { available: 1, deviceApi: 'vfio-pci', name: 'GRID A40-1Q', description: 'num_heads=4' } });
  t.addActive(A, P1, T1).addActive(B, P2, T3);
  t.addDefinition(P1, A, { mdev_type: T1, start: 'auto', attrs: [] });
  t.addDefinition(P1, C, { mdev_type: T2, start: 'auto', attrs: [{ a: '1' }] });
  t.addDefinition(P2, D, { mdev_type: T3, start: 'manual', attrs: [] });
  return t;
}

const typeDir = (t: FakeTree, p: string, type: string) => t.p('sys/class/mdev_bus', p, 'mdev_supported_types', type);
const realTypeDir = (t: FakeTree, p: string, type: string) => t.p('sys/devices/pci0000:00', p, 'mdev_supported_types', type);
const def = (t: FakeTree, p: string, u: string) => t.p('etc/mdevctl.d', p, u);

const TYPES =
  `${P1}\n` +
  `  ${T1}\n    Available instances: 2\n    Device API: vfio-pci\n    Name: GVTg_V5_4\n    Description: low_gm_size: 128MB\n` +
  `  ${T2}\n    Available instances: 4\n    Device API: vfio-pci\n    Name: GVTg_V5_8\n    Description: line one, line two\n` +
  `${P2}\n` +
  `  ${T3}\n    Available instances: 1\n    Device API: vfio-pci\n    Name: GRID A40-1Q\n    Description: num_heads=4\n`;
const LIST = `${A} ${P1} ${T1} auto (defined)\n${B} ${P2} ${T3} manual\n`;
const LIST_D = `${A} ${P1} ${T1} auto (active)\n${C} ${P1} ${T2} auto\n${D} ${P2} ${T3} manual\n`;

test('the undamaged tree', () => {
  const r = listings(baseTree().root);
  expect(r.types).toEqual(ok(TYPES));
  expect(r.list).toEqual(ok(LIST));
  expect(r['list -d']).toEqual(ok(LIST_D));
  expect(JSON.parse(r['list -d --dumpjson'].stdout)).toEqual([
    {
      [P1]: [{ [A]: { mdev_type: T1, start: 'auto', attrs: [] } }, { [C]: { mdev_type: T2, start: 'auto', attrs: [{ a: '1' }] } }],
      [P2]: [{ [D]: { mdev_type: T3, start: 'manual', attrs: [] } }],
    },
  ]);
});

test('relative roots, and a working directory nobody cannot enter again: the same bytes', () => {
  const t = baseTree();
  fs.chmodSync(path.join(realTypeDir(t, P2, T3), 'description'), 0);
  const closed = tempDir('mdevctl-cwd-');
  fs.chmodSync(closed, 0o700);
  const want = {
    types: error(`Unable to read ${typeDir(t, P2, T3)}/description: Permission denied (EACCES)`),
    list: ok(LIST),
    'list -d': ok(LIST_D),
  };
  const got = (opts: RunOptions) => {
    const r = listings(t.root, { ...opts, rootFlag: true });
    return { types: r.types, list: r.list, 'list -d': r['list -d'] };
  };
  expect(got({ uid: NOBODY, cwd: closed })).toEqual(want);
  // relative: taken from the working directory, messages name whole paths
  const rel = path.relative(os.tmpdir(), t.root);
  const inTmp = (args: string[]) => same(['--root', rel, ...args], { uid: NOBODY, cwd: os.tmpdir() });
  expect({ types: inTmp(['types']), list: inTmp(['list']), 'list -d': inTmp(['list', '-d']) }).toEqual(want);
});

test('filtered listings (-p, -u) and lsmdev on a damaged tree: the same bytes', () => {
  const t = baseTree();
  fs.writeFileSync(def(t, P1, A), '');
  fifo(def(t, P1, C));
  fs.writeFileSync(path.join(realTypeDir(t, P2, T3), 'description'), Buffer.from([0x61, 0xff, 0x0a]));
  fs.symlinkSync('../../../devices/gone', t.p('sys/bus/mdev/devices', D));
  const badDesc = warn(`${typeDir(t, P2, T3)}/description is not valid UTF-8; showing the bytes that are not as U+FFFD`);
  const cases: Array<[string[], RunResult]> = [
    [
      ['types', '-p', P2],
      ok(`${P2}\n  ${T3}\n    Available instances: 1\n    Device API: vfio-pci\n    Name: GRID A40-1Q\n    Description: a\ufffd\n`, badDesc),
    ],
    [['types', '-p', P1], ok(TYPES.slice(0, TYPES.indexOf(`${P2}\n`)))],
    [['list', '-p', P1], ok(`${A} ${P1} ${T1} manual (defined)\n`, warn(`Skipping ${t.p('sys/bus/mdev/devices', D)}: the link points nowhere`))],
    [['list', '-u', A], ok(`${A} ${P1} ${T1} manual (defined)\n`)],
    [
      ['list', '-d', '-p', P1],
      ok(
        '',
        warn(
          `Skipping malformed definition ${def(t, P1, A)}: invalid JSON: Unexpected end of JSON input`,
          `Ignoring definition ${def(t, P1, C)}: not a regular file`,
        ),
      ),
    ],
    [['list', '-d', '-u', D], ok(`${D} ${P2} ${T3} manual\n`)],
    [['list', '-d', '-u', D, '--dumpjson'], ok(`{\n  "mdev_type": "${T3}",\n  "start": "manual",\n  "attrs": []\n}`)],
  ];
  for (const [args, want] of cases) expect({ args, ...same(args, { root: t.root }) }).toEqual({ args, ...want });
  for (const args of [[], ['-d'], ['--dumpjson'], ['-d', '-v']]) same(args, { root: t.root, bin: 'lsmdev' });
});

test('several damaged types of a parent: warnings, and the error, in byte order of the types as listed', () => {
  const t = baseTree();
  const names = ['z9', 'a1', 'm5', 'b2', 'y8', 'c3', 'x7', 'd4'];
  for (const n of names) {
    const dir = realTypeDir(t, P2, n);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'available_instances'), '1\n');
    fs.writeFileSync(path.join(dir, 'device_api'), 'vfio-pci\n');
    fs.writeFileSync(path.join(dir, 'description'), Buffer.from([0x61, 0xff, 0x0a]));
  }
  const sorted = [...names].sort();
  const r = same(['types', '-p', P2], { root: t.root });
  expect(r.status).toBe(0);
  expect(r.stdout.split('\n').filter((l) => /^ {2}\S/.test(l))).toEqual([...sorted, T3].sort().map((n) => `  ${n}`));
  expect(r.stderr).toBe(warn(...sorted.map((n) => `${typeDir(t, P2, n)}/description is not valid UTF-8; showing the bytes that are not as U+FFFD`)));
  for (const n of ['y8', 'b2', 'x7']) fs.writeFileSync(path.join(realTypeDir(t, P2, n), 'available_instances'), 'many\n');
  expect(same(['types'], { root: t.root })).toEqual(
    error(
      `Invalid available_instances 'many' in ${typeDir(t, P2, 'b2')}/available_instances: not an integer`,
      warn(`${typeDir(t, P2, 'a1')}/description is not valid UTF-8; showing the bytes that are not as U+FFFD`),
    ),
  );
});

interface Damage {
  name: string;
  make: (t: FakeTree) => void;
  /** Run as nobody (uid 65534), so that permissions matter. */
  nobody?: boolean;
  /** What the listings must give (by command line); the others must give what they give undamaged. */
  want: (t: FakeTree) => Partial<Record<'types' | 'list' | 'list -d', RunResult>>;
}

const without = (text: string, ...lines: string[]) => {
  let out = text;
  for (const l of lines) {
    expect(out).toContain(l);
    out = out.replace(l, '');
  }
  return out;
};

const DAMAGES: Damage[] = [
  {
    name: 'name and description files missing',
    make: (t) => {
      fs.rmSync(path.join(realTypeDir(t, P1, T1), 'name'));
      fs.rmSync(path.join(realTypeDir(t, P2, T3), 'description'));
    },
    want: () => ({ types: ok(without(TYPES, '    Name: GVTg_V5_4\n', '    Description: num_heads=4\n')) }),
  },
  {
    name: 'available_instances unreadable (mode 000, as nobody)',
    nobody: true,
    make: (t) => fs.chmodSync(path.join(realTypeDir(t, P1, T2), 'available_instances'), 0),
    want: (t) => ({ types: error(`Unable to read mdev type ${T2} of ${P1}: Permission denied (EACCES) (${typeDir(t, P1, T2)})`) }),
  },
  {
    name: 'description unreadable (mode 000, as nobody)',
    nobody: true,
    make: (t) => fs.chmodSync(path.join(realTypeDir(t, P2, T3), 'description'), 0),
    want: (t) => ({ types: error(`Unable to read ${typeDir(t, P2, T3)}/description: Permission denied (EACCES)`) }),
  },
  {
    name: 'definitions unreadable (mode 000, as nobody): a running one counts as defined, manual',
    nobody: true,
    make: (t) => {
      fs.chmodSync(def(t, P1, A), 0);
      fs.chmodSync(def(t, P2, D), 0);
    },
    want: (t) => ({
      list: ok(`${A} ${P1} ${T1} manual (defined)\n${B} ${P2} ${T3} manual\n`),
      'list -d': ok(
        `${C} ${P1} ${T2} auto\n`,
        warn(
          `Unable to read definition ${def(t, P1, A)}: Permission denied (EACCES)`,
          `Unable to read definition ${def(t, P2, D)}: Permission denied (EACCES)`,
        ),
      ),
    }),
  },
  {
    name: 'a config directory unreadable (mode 000, as nobody)',
    nobody: true,
    make: (t) => fs.chmodSync(t.p('etc/mdevctl.d', P1), 0),
    want: (t) => ({
      list: ok(`${A} ${P1} ${T1} manual (defined)\n${B} ${P2} ${T3} manual\n`),
      'list -d': ok(`${D} ${P2} ${T3} manual\n`, warn(`Unable to read directory ${t.p('etc/mdevctl.d', P1)}: Permission denied (EACCES)`)),
    }),
  },
  {
    name: 'a config directory readable but not searchable (mode 0644, as nobody)',
    nobody: true,
    make: (t) => fs.chmodSync(t.p('etc/mdevctl.d', P1), 0o644),
    want: (t) => ({
      list: ok(`${A} ${P1} ${T1} manual (defined)\n${B} ${P2} ${T3} manual\n`),
      'list -d': ok(
        `${D} ${P2} ${T3} manual\n`,
        warn(
          `Unable to read definition ${def(t, P1, A)}: Permission denied (EACCES)`,
          `Unable to read definition ${def(t, P1, C)}: Permission denied (EACCES)`,
        ),
      ),
    }),
  },
  {
    name: 'a parent device directory not searchable by nobody (mode 0644)',
    nobody: true,
    make: (t) => fs.chmodSync(t.p('sys/devices/pci0000:00', P1), 0o644),
    want: (t) => ({
      types: error(`Unable to read ${t.p('sys/class/mdev_bus', P1, 'mdev_supported_types')}: Permission denied (EACCES)`),
      list: ok(`${B} ${P2} ${T3} manual\n`, warn(`Unable to resolve ${t.p('sys/bus/mdev/devices', A)}: Permission denied (EACCES)`)),
      'list -d': ok(`${A} ${P1} ${T1} auto\n${C} ${P1} ${T2} auto\n${D} ${P2} ${T3} manual\n`),
    }),
  },
  {
    name: 'a type directory not searchable by nobody (mode 0644)',
    nobody: true,
    make: (t) => fs.chmodSync(realTypeDir(t, P2, T3), 0o644),
    want: (t) => ({ types: error(`Unable to read mdev type ${T3} of ${P2}: Permission denied (EACCES) (${typeDir(t, P2, T3)})`) }),
  },
  {
    name: 'available_instances is a directory',
    make: (t) => {
      fs.rmSync(path.join(realTypeDir(t, P2, T3), 'available_instances'));
      fs.mkdirSync(path.join(realTypeDir(t, P2, T3), 'available_instances'));
    },
    want: (t) => ({ types: error(`Unable to read mdev type ${T3} of ${P2}: Is a directory (EISDIR) (${typeDir(t, P2, T3)})`) }),
  },
  {
    name: 'name is a directory',
    make: (t) => {
      fs.rmSync(path.join(realTypeDir(t, P1, T1), 'name'));
      fs.mkdirSync(path.join(realTypeDir(t, P1, T1), 'name'));
    },
    want: (t) => ({ types: error(`Unable to read ${typeDir(t, P1, T1)}/name: Is a directory (EISDIR)`) }),
  },
  {
    name: 'name and description are FIFOs (read as empty, never waited on)',
    make: (t) => {
      fifo(path.join(realTypeDir(t, P1, T2), 'name'));
      fifo(path.join(realTypeDir(t, P2, T3), 'description'));
    },
    want: () => ({ types: ok(without(TYPES, '    Name: GVTg_V5_8\n', '    Description: num_heads=4\n')) }),
  },
  {
    name: 'available_instances is a FIFO (read as empty, never waited on)',
    make: (t) => fifo(path.join(realTypeDir(t, P1, T1), 'available_instances')),
    want: (t) => ({ types: error(`Invalid available_instances '' in ${typeDir(t, P1, T1)}/available_instances: not an integer`) }),
  },
  {
    name: 'definitions that are FIFOs (never opened by list -d, not waited on by list)',
    make: (t) => {
      fifo(def(t, P1, A));
      fifo(def(t, P1, C));
    },
    want: (t) => ({
      list: ok(`${A} ${P1} ${T1} manual (defined)\n${B} ${P2} ${T3} manual\n`),
      'list -d': ok(
        `${D} ${P2} ${T3} manual\n`,
        warn(`Ignoring definition ${def(t, P1, A)}: not a regular file`, `Ignoring definition ${def(t, P1, C)}: not a regular file`),
      ),
    }),
  },
  {
    name: 'definitions that are directories',
    make: (t) => {
      fs.rmSync(def(t, P1, A));
      fs.mkdirSync(def(t, P1, A));
      fs.mkdirSync(def(t, P1, B));
    },
    want: (t) => ({
      list: ok(`${A} ${P1} ${T1} manual (defined)\n${B} ${P2} ${T3} manual\n`),
      'list -d': ok(
        `${C} ${P1} ${T2} auto\n${D} ${P2} ${T3} manual\n`,
        warn(`Ignoring definition ${def(t, P1, A)}: not a regular file`, `Ignoring definition ${def(t, P1, B)}: not a regular file`),
      ),
    }),
  },
  {
    name: 'empty name, description and definitions',
    make: (t) => {
      fs.writeFileSync(path.join(realTypeDir(t, P1, T1), 'name'), '');
      fs.writeFileSync(path.join(realTypeDir(t, P1, T1), 'description'), '');
      fs.writeFileSync(def(t, P1, A), '');
      fs.writeFileSync(def(t, P2, D), '');
    },
    want: (t) => ({
      types: ok(without(TYPES, '    Name: GVTg_V5_4\n', '    Description: low_gm_size: 128MB\n')),
      list: ok(`${A} ${P1} ${T1} manual (defined)\n${B} ${P2} ${T3} manual\n`),
      'list -d': ok(
        `${C} ${P1} ${T2} auto\n`,
        warn(
          `Skipping malformed definition ${def(t, P1, A)}: invalid JSON: Unexpected end of JSON input`,
          `Skipping malformed definition ${def(t, P2, D)}: invalid JSON: Unexpected end of JSON input`,
        ),
      ),
    }),
  },
  {
    name: 'an empty available_instances',
    make: (t) => fs.writeFileSync(path.join(realTypeDir(t, P2, T3), 'available_instances'), ''),
    want: (t) => ({ types: error(`Invalid available_instances '' in ${typeDir(t, P2, T3)}/available_instances: not an integer`) }),
  },
  {
    name: 'files at the read buffer sizes (16 KiB - 1, 16 KiB, 16 KiB + 1, 32 KiB)',
    make: (t) => {
      fs.writeFileSync(path.join(realTypeDir(t, P1, T1), 'name'), `${'n'.repeat(16 * 1024 - 2)}\n`);
      fs.writeFileSync(path.join(realTypeDir(t, P1, T1), 'description'), `${'d'.repeat(16 * 1024 - 1)}\n`);
      fs.writeFileSync(path.join(realTypeDir(t, P1, T2), 'name'), `${'m'.repeat(16 * 1024)}\n`);
      fs.writeFileSync(path.join(realTypeDir(t, P1, T2), 'description'), `${'e'.repeat(32 * 1024 - 1)}\n`);
      const padded = (text: string, size: number) => text + ' '.repeat(size - Buffer.byteLength(text));
      fs.writeFileSync(def(t, P1, A), padded(JSON.stringify({ mdev_type: T1, start: 'auto', attrs: [] }), 16 * 1024));
      fs.writeFileSync(def(t, P1, C), padded(JSON.stringify({ mdev_type: T2, start: 'auto', attrs: [{ a: 'x'.repeat(20000) }] }), 32 * 1024));
    },
    want: () => ({
      types: ok(
        TYPES.replace('Name: GVTg_V5_4', `Name: ${'n'.repeat(16 * 1024 - 2)}`)
          .replace('Description: low_gm_size: 128MB', `Description: ${'d'.repeat(16 * 1024 - 1)}`)
          .replace('Name: GVTg_V5_8', `Name: ${'m'.repeat(16 * 1024)}`)
          .replace('Description: line one, line two', `Description: ${'e'.repeat(32 * 1024 - 1)}`),
      ),
      list: ok(LIST),
      'list -d': ok(LIST_D),
    }),
  },
  {
    name: 'files of 16 MiB - 1 byte: read whole',
    make: (t) => {
      const big = Buffer.alloc(16 * MiB - 1, ' ');
      big.write('Big name', 0);
      fs.writeFileSync(path.join(realTypeDir(t, P1, T1), 'name'), big);
      const json = Buffer.alloc(16 * MiB - 1, '\n');
      json.write(JSON.stringify({ mdev_type: T3, start: 'auto', attrs: [] }), 16 * MiB - 100);
      fs.writeFileSync(def(t, P2, D), json);
    },
    want: () => ({
      types: ok(TYPES.replace('Name: GVTg_V5_4', 'Name: Big name')),
      'list -d': ok(LIST_D.replace(`${D} ${P2} ${T3} manual`, `${D} ${P2} ${T3} auto`)),
    }),
  },
  {
    name: 'files of 16 MiB: too large (EFBIG), each named',
    make: (t) => {
      fs.writeFileSync(path.join(realTypeDir(t, P2, T3), 'description'), Buffer.alloc(16 * MiB, ' '));
      fs.writeFileSync(def(t, P1, A), Buffer.alloc(16 * MiB, ' '));
      fs.writeFileSync(def(t, P1, C), Buffer.alloc(20 * MiB, ' '));
    },
    want: (t) => ({
      types: error(`Unable to read ${typeDir(t, P2, T3)}/description: EFBIG`),
      list: ok(`${A} ${P1} ${T1} manual (defined)\n${B} ${P2} ${T3} manual\n`),
      'list -d': ok(
        `${D} ${P2} ${T3} manual\n`,
        warn(`Unable to read definition ${def(t, P1, A)}: EFBIG`, `Unable to read definition ${def(t, P1, C)}: EFBIG`),
      ),
    }),
  },
  {
    name: 'definitions that are a dangling symlink and a symlink to a file',
    make: (t) => {
      fs.rmSync(def(t, P1, A));
      fs.symlinkSync('../../nowhere', def(t, P1, A));
      t.write('elsewhere/d.json', JSON.stringify({ mdev_type: T3, start: 'auto', attrs: [] }));
      fs.rmSync(def(t, P2, D));
      fs.symlinkSync('../../../elsewhere/d.json', def(t, P2, D));
    },
    want: (t) => ({
      list: ok(`${A} ${P1} ${T1} manual\n${B} ${P2} ${T3} manual\n`),
      'list -d': ok(`${C} ${P1} ${T2} auto\n${D} ${P2} ${T3} auto\n`, warn(`Ignoring definition ${def(t, P1, A)}: the link points nowhere`)),
    }),
  },
  {
    name: 'names, descriptions, device_api and definitions with bytes that are not UTF-8',
    make: (t) => {
      const bad = Buffer.from([0xff, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0xf0, 0x80, 0x80, 0x41, 0xf4, 0x90, 0x80, 0x80, 0xe2, 0x82]);
      fs.writeFileSync(path.join(realTypeDir(t, P1, T1), 'name'), Buffer.concat([Buffer.from('GV'), bad, Buffer.from('\n')]));
      fs.writeFileSync(path.join(realTypeDir(t, P2, T3), 'description'), Buffer.concat([bad, Buffer.from(' tail\n')]));
      fs.writeFileSync(path.join(realTypeDir(t, P1, T2), 'device_api'), Buffer.concat([Buffer.from('vfio-'), bad, Buffer.from('\n')]));
      fs.writeFileSync(def(t, P1, C), Buffer.concat([Buffer.from(`{"mdev_type":"${T2}","start":"auto","attrs":[{"a":"`), bad, Buffer.from('"}]}')]));
    },
    want: (t) => {
      const shown = '\ufffd\ufffd(\ufffd\ufffd\ufffd\ufffd\ufffd\ufffdA\ufffd\ufffd\ufffd\ufffd\ufffd';
      return {
        types: ok(
          TYPES.replace('Name: GVTg_V5_4', `Name: GV${shown}`)
            .replace('Description: num_heads=4', `Description: ${shown} tail`)
            .replace(`${T2}\n    Available instances: 4\n    Device API: vfio-pci`, `${T2}\n    Available instances: 4\n    Device API: vfio-${shown}`),
          warn(
            `${typeDir(t, P1, T1)}/name is not valid UTF-8; showing the bytes that are not as U+FFFD`,
            `${typeDir(t, P2, T3)}/description is not valid UTF-8; showing the bytes that are not as U+FFFD`,
          ),
        ),
        'list -d': ok(LIST_D),
      };
    },
  },
  {
    name: 'character devices where files belong (/dev/null read as empty; /dev/zero too large)',
    make: (t) => {
      fs.rmSync(path.join(realTypeDir(t, P1, T1), 'name'));
      fs.symlinkSync('/dev/null', path.join(realTypeDir(t, P1, T1), 'name'));
      fs.rmSync(path.join(realTypeDir(t, P2, T3), 'available_instances'));
      fs.symlinkSync('/dev/zero', path.join(realTypeDir(t, P2, T3), 'available_instances'));
      fs.rmSync(def(t, P1, A));
      fs.symlinkSync('/dev/zero', def(t, P1, A));
    },
    want: (t) => ({
      types: error(`Unable to read mdev type ${T3} of ${P2}: EFBIG (${typeDir(t, P2, T3)})`),
      list: ok(`${A} ${P1} ${T1} manual (defined)\n${B} ${P2} ${T3} manual\n`),
      'list -d': ok(`${C} ${P1} ${T2} auto\n${D} ${P2} ${T3} manual\n`, warn(`Ignoring definition ${def(t, P1, A)}: not a regular file`)),
    }),
  },
  {
    name: 'a socket where a description belongs',
    make: (t) => {
      const file = path.join(realTypeDir(t, P1, T2), 'description');
      fs.rmSync(file);
      // bound by its name in its directory: the whole path is longer than a socket address holds
      // (108 bytes), which Node 20 works around and Node 18 does not
      const r = spawnSync(process.execPath, ['-e', "require('net').createServer().listen('description', () => process.exit(0))"], {
        encoding: 'utf8',
        cwd: path.dirname(file),
      });
      expect(r.stderr).toBe('');
      expect(fs.lstatSync(file).isSocket()).toBe(true);
    },
    want: (t) => ({ types: error(`Unable to read ${typeDir(t, P1, T2)}/description: No such device or address (ENXIO)`) }),
  },
  {
    name: 'symbolic link loops where a name and definitions belong',
    make: (t) => {
      const dir = realTypeDir(t, P1, T2);
      fs.symlinkSync('loop2', path.join(dir, 'loop1'));
      fs.symlinkSync('loop1', path.join(dir, 'loop2'));
      fs.rmSync(path.join(dir, 'name'));
      fs.symlinkSync('loop1', path.join(dir, 'name'));
      for (const u of [A, C]) {
        fs.rmSync(def(t, P1, u));
        fs.symlinkSync(u, def(t, P1, u));
      }
    },
    want: (t) => ({
      types: error(`Unable to read ${typeDir(t, P1, T2)}/name: Too many levels of symbolic links (ELOOP)`),
      list: ok(`${A} ${P1} ${T1} manual (defined)\n${B} ${P2} ${T3} manual\n`),
      'list -d': ok(
        `${D} ${P2} ${T3} manual\n`,
        warn(`Ignoring definition ${def(t, P1, A)}: the link points nowhere`, `Ignoring definition ${def(t, P1, C)}: the link points nowhere`),
      ),
    }),
  },
  {
    name: 'a dangling /sys/bus/mdev/devices link',
    make: (t) => fs.symlinkSync(`../../../devices/pci0000:00/gone/${C}`, t.p('sys/bus/mdev/devices', C)),
    want: (t) => ({ list: ok(LIST, warn(`Skipping ${t.p('sys/bus/mdev/devices', C)}: the link points nowhere`)), 'list -d': ok(LIST_D) }),
  },
  {
    name: 'an mdev_type link pointing nowhere',
    make: (t) => {
      const link = t.p('sys/devices/pci0000:00', P1, A, 'mdev_type');
      fs.rmSync(link);
      fs.symlinkSync('../mdev_supported_types/gone', link);
    },
    want: () => ({
      list: ok(`${B} ${P2} ${T3} manual\n`, warn(`Skipping active device ${A}: unable to resolve its mdev_type (No such file or directory (ENOENT))`)),
      'list -d': ok(LIST_D.replace(' (active)', '')),
    }),
  },
  {
    name: 'a device entry that is a directory, not a link',
    make: (t) => fs.mkdirSync(t.p('sys/bus/mdev/devices', D)),
    want: () => ({
      list: ok(LIST, warn(`Skipping active device ${D}: unable to resolve its mdev_type (No such file or directory (ENOENT))`)),
      'list -d': ok(LIST_D),
    }),
  },
  {
    name: 'a missing mdev_supported_types',
    make: (t) => fs.rmSync(t.p('sys/devices/pci0000:00', P2, 'mdev_supported_types'), { recursive: true }),
    want: (t) => ({
      types: ok(
        TYPES.slice(0, TYPES.indexOf(`${P2}\n`)) + `${P2}\n`,
        warn(`Parent ${P2} has no readable ${t.p('sys/class/mdev_bus', P2, 'mdev_supported_types')} (No such file or directory (ENOENT))`),
      ),
      list: ok(`${A} ${P1} ${T1} auto (defined)\n`, warn(`Skipping active device ${B}: unable to resolve its mdev_type (No such file or directory (ENOENT))`)),
    }),
  },
  {
    name: 'a parent link pointing nowhere',
    make: (t) => fs.symlinkSync('../../devices/pci0000:00/gone', t.p('sys/class/mdev_bus', '0000:00:01.0')),
    want: (t) => ({ types: ok(TYPES, warn(`Skipping parent 0000:00:01.0: ${t.p('sys/class/mdev_bus', '0000:00:01.0')} points nowhere`)), list: ok(LIST) }),
  },
  {
    name: 'a type directory whose name is not UTF-8',
    make: (t) => {
      const dir = Buffer.concat([Buffer.from(realTypeDir(t, P2, 'x')), Buffer.from([0xff])]);
      fs.mkdirSync(dir);
      fs.writeFileSync(Buffer.concat([dir, Buffer.from('/available_instances')]), '1\n');
      fs.writeFileSync(Buffer.concat([dir, Buffer.from('/device_api')]), 'vfio-pci\n');
    },
    want: (t) => ({ types: error(`Unable to read mdev type x\ufffd of ${P2}: No such file or directory (ENOENT) (${typeDir(t, P2, 'x\ufffd')})`) }),
  },
];

describe('damaged trees: the same bytes in every mode, and the expected messages', () => {
  test.each(DAMAGES.map((d) => [d.name, d] as const))('%s', (_name, d) => {
    const t = baseTree();
    const undamaged = { types: ok(TYPES), list: ok(LIST), 'list -d': ok(LIST_D) };
    d.make(t);
    const r = listings(t.root, d.nobody ? { uid: NOBODY } : {});
    const want = { ...undamaged, ...d.want(t) };
    expect({ types: r.types, list: r.list, 'list -d': r['list -d'] }).toEqual(want);
    // the JSON listings fail or warn as the text ones do
    for (const cmd of ['types', 'list', 'list -d'] as const) {
      const j = r[`${cmd} --dumpjson`];
      expect({ cmd, status: j.status, stderr: j.stderr }).toEqual({ cmd, status: want[cmd].status, stderr: want[cmd].stderr });
      if (j.status === 0) expect(() => JSON.parse(j.stdout)).not.toThrow();
    }
  });
});

// ------------------------------------------------------------------------------------------------
// Big batches

/**
 * A tree whose batches the addon shares among threads (by default one per CPU for batches of at
 * least 256 names each; MDEVCTL_NATIVE_THREADS=8 gives 8 whatever the size; the threads take
 * chunks of 64 names from one queue): 64 parents x 8 types (2048 files for `types`), 64
 * definitions per parent (4096 for `list -d`), every other one running (4096 links for `list`,
 * 2048 definitions read for the running ones). Every name, count and definition is distinct, so
 * a result put in another name's place shows; damage sits at the first and last names of the
 * batches and on both sides of chunk boundaries all through them. The expected listings come
 * from a model of the tree, not from a run.
 */
describe('big batches, shared among threads (damage at the start, middle and end)', () => {
  const NP = 64;
  const NT = 8;
  const ND = 64;
  const parentName = (i: number) => `0000:${(0x10 + (i >> 3)).toString(16)}:00.${i & 7}`;
  const typeName = (j: number) => `nvidia-${100 + j}`;
  const uuidOf = (i: number, k: number) => `${i.toString(16).padStart(8, '0')}-0000-4000-8000-${k.toString(16).padStart(12, '0')}`;
  const BAD = Buffer.from([0xff, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0xe2, 0x82]);
  const BAD_SHOWN = '\ufffd\ufffd(\ufffd\ufffd\ufffd\ufffd';

  type DefState = 'ok' | 'link' | 'eacces' | 'empty' | 'efbig' | 'fifo' | 'missing';
  type DevState = 'ok' | 'dangling' | 'typeNowhere';
  interface Def {
    i: number;
    k: number;
    parent: string;
    uuid: string;
    type: string;
    auto: boolean;
    running: boolean;
    state: DefState;
    dev: DevState;
  }

  let t: FakeTree;
  let defs: Def[];
  /** Names under sys/bus/mdev/devices in byte order (the order of the batch and of warnings). */
  let busOrder: string[];
  /** Parents (indices) and what was done to all their types. */
  const TYPE_DAMAGE: Record<number, string> = {
    0: 'no name',
    15: 'bad description',
    16: 'name fifo',
    31: 'empty description',
    32: 'long name',
    47: 'no name, no description',
    48: 'plus sign',
    63: 'bad description',
  };

  const typeBase = (i: number) => t.p('sys/devices/pci0000:00', parentName(i), 'mdev_supported_types');
  const classTypeDir = (i: number, type: string) => t.p('sys/class/mdev_bus', parentName(i), 'mdev_supported_types', type);
  const available = (i: number, j: number) => (i * NT + j) % 9;
  const longName = (i: number, j: number) => `${'N'.repeat(16 * 1024 + 1)}-${i}-${j}`;

  beforeAll(() => {
    t = new FakeTree().withStandardDirs();
    fs.chmodSync(t.root, 0o755);
    defs = [];
    for (let i = 0; i < NP; i++) {
      const p = parentName(i);
      const pdir = t.p('sys/devices/pci0000:00', p);
      for (let j = 0; j < NT; j++) {
        const td = path.join(pdir, 'mdev_supported_types', typeName(j));
        fs.mkdirSync(path.join(td, 'devices'), { recursive: true });
        const dmg = TYPE_DAMAGE[i] ?? '';
        fs.writeFileSync(path.join(td, 'available_instances'), `${dmg === 'plus sign' ? '+' : ''}${available(i, j)}\n`);
        fs.writeFileSync(path.join(td, 'device_api'), 'vfio-pci\n');
        fs.writeFileSync(path.join(td, 'create'), '');
        if (dmg === 'name fifo') fifo(path.join(td, 'name'));
        else if (dmg === 'long name') fs.writeFileSync(path.join(td, 'name'), `${longName(i, j)}\n`);
        else if (!dmg.startsWith('no name')) fs.writeFileSync(path.join(td, 'name'), `NVIDIA-${i}-${j}\n`);
        if (dmg === 'bad description') fs.writeFileSync(path.join(td, 'description'), Buffer.concat([Buffer.from(`fb=${i}.${j} `), BAD, Buffer.from('\n')]));
        else if (dmg === 'empty description') fs.writeFileSync(path.join(td, 'description'), '');
        else if (!dmg.endsWith('no description')) fs.writeFileSync(path.join(td, 'description'), `fb=${i}.${j}\nheads=${j}\n`);
      }
      fs.symlinkSync(`../../devices/pci0000:00/${p}`, t.p('sys/class/mdev_bus', p));
      fs.mkdirSync(t.p('etc/mdevctl.d', p));
      for (let k = 0; k < ND; k++) {
        const d: Def = { i, k, parent: p, uuid: uuidOf(i, k), type: typeName(k % NT), auto: (i + k) % 3 === 0, running: k % 2 === 0, state: 'ok', dev: 'ok' };
        defs.push(d);
        fs.writeFileSync(def(t, p, d.uuid), JSON.stringify({ mdev_type: d.type, start: d.auto ? 'auto' : 'manual', attrs: [{ n: `${i}-${k}` }] }, null, 2));
        if (!d.running) continue;
        const dd = path.join(pdir, d.uuid);
        fs.mkdirSync(dd);
        fs.symlinkSync(`../mdev_supported_types/${d.type}`, path.join(dd, 'mdev_type'));
        fs.writeFileSync(path.join(dd, 'remove'), '');
        fs.symlinkSync(`../../../devices/pci0000:00/${p}/${d.uuid}`, t.p('sys/bus/mdev/devices', d.uuid));
      }
    }
    // definitions: damage on both sides of every 8th chunk boundary of the 4096-name batch
    const defDamage: DefState[] = ['eacces', 'empty', 'link', 'fifo', 'missing', 'eacces', 'empty', 'link'];
    const at = new Set<number>([0, 1, defs.length - 2, defs.length - 1]);
    for (let b = 512; b < defs.length; b += 512) at.add(b - 1).add(b);
    let n = 0;
    for (const x of [...at].sort((a, b) => a - b)) {
      const d = defs[x];
      d.state = x === 2048 ? 'efbig' : defDamage[n++ % defDamage.length];
      const file = def(t, d.parent, d.uuid);
      if (d.state === 'eacces') fs.chmodSync(file, 0);
      else if (d.state === 'empty') fs.writeFileSync(file, '');
      else if (d.state === 'efbig') fs.writeFileSync(file, Buffer.alloc(16 * MiB, ' '));
      else if (d.state === 'fifo') fifo(file);
      else if (d.state === 'missing') fs.rmSync(file);
      else if (d.state === 'link') {
        t.write(`elsewhere/${d.uuid}`, fs.readFileSync(file, 'utf8'));
        fs.rmSync(file);
        fs.symlinkSync(`../../../elsewhere/${d.uuid}`, file);
      }
    }
    // running devices: damage on both sides of every 256-device (512-link) boundary of the link
    // batch, the same boundaries as chunks of the batch of their definitions
    busOrder = defs.filter((d) => d.running).map((d) => d.uuid);
    expect(busOrder).toHaveLength((NP * ND) / 2);
    const byUuid = new Map(defs.map((d) => [d.uuid, d]));
    const devDamage: Array<DevState | DefState> = ['typeNowhere', 'eacces', 'dangling', 'fifo', 'empty', 'missing', 'efbig'];
    const devAt = new Set<number>([0, 1, busOrder.length - 2, busOrder.length - 1]);
    for (let b = 256; b < busOrder.length; b += 256) devAt.add(b - 1).add(b);
    n = 0;
    for (const x of [...devAt].sort((a, b) => a - b)) {
      const d = byUuid.get(busOrder[x])!;
      const kind = devDamage[n++ % devDamage.length];
      const dd = t.p('sys/devices/pci0000:00', d.parent, d.uuid);
      if (kind === 'typeNowhere') {
        fs.rmSync(path.join(dd, 'mdev_type'));
        fs.symlinkSync('../mdev_supported_types/gone', path.join(dd, 'mdev_type'));
        d.dev = 'typeNowhere';
      } else if (kind === 'dangling') {
        fs.renameSync(dd, `${dd}.gone`);
        d.dev = 'dangling';
      } else if (d.state === 'ok') {
        const file = def(t, d.parent, d.uuid);
        d.state = kind;
        if (kind === 'eacces') fs.chmodSync(file, 0);
        else if (kind === 'empty') fs.writeFileSync(file, '');
        else if (kind === 'efbig') fs.writeFileSync(file, Buffer.alloc(16 * MiB + 1, ' '));
        else if (kind === 'fifo') fifo(file);
        else if (kind === 'missing') fs.rmSync(file);
      }
    }
    expect(fs.readdirSync(t.p('sys/bus/mdev/devices')).sort()).toEqual(busOrder);
  });
  afterAll(() => t.cleanup());

  function typesModel(): { stdout: string; warnings: string[] } {
    let stdout = '';
    const warnings: string[] = [];
    for (let i = 0; i < NP; i++) {
      stdout += `${parentName(i)}\n`;
      const dmg = TYPE_DAMAGE[i] ?? '';
      for (let j = 0; j < NT; j++) {
        stdout += `  ${typeName(j)}\n    Available instances: ${available(i, j)}\n    Device API: vfio-pci\n`;
        if (dmg === 'long name') stdout += `    Name: ${longName(i, j)}\n`;
        else if (dmg !== 'name fifo' && !dmg.startsWith('no name')) stdout += `    Name: NVIDIA-${i}-${j}\n`;
        if (dmg === 'bad description') stdout += `    Description: fb=${i}.${j} ${BAD_SHOWN}\n`;
        else if (dmg !== 'empty description' && !dmg.endsWith('no description')) stdout += `    Description: fb=${i}.${j}, heads=${j}\n`;
      }
      // warnings in the order of the listing: parents, then types, in byte order
      if (dmg === 'bad description') {
        for (let j = 0; j < NT; j++) warnings.push(`${classTypeDir(i, typeName(j))}/description is not valid UTF-8; showing the bytes that are not as U+FFFD`);
      }
    }
    return { stdout, warnings };
  }

  const defFile = (d: Def) => def(t, d.parent, d.uuid);
  const readable = (d: Def) => d.state === 'ok' || d.state === 'link';

  function listDefinedModel(): RunResult {
    let stdout = '';
    const warnings: string[] = [];
    for (const d of defs) {
      if (readable(d)) stdout += `${d.uuid} ${d.parent} ${d.type} ${d.auto ? 'auto' : 'manual'}${d.running && d.dev === 'ok' ? ' (active)' : ''}\n`;
      else if (d.state === 'eacces') warnings.push(`Unable to read definition ${defFile(d)}: Permission denied (EACCES)`);
      else if (d.state === 'efbig') warnings.push(`Unable to read definition ${defFile(d)}: EFBIG`);
      else if (d.state === 'empty') warnings.push(`Skipping malformed definition ${defFile(d)}: invalid JSON: Unexpected end of JSON input`);
      else if (d.state === 'fifo') warnings.push(`Ignoring definition ${defFile(d)}: not a regular file`);
    }
    return ok(stdout, warn(...warnings));
  }

  function listModel(): RunResult {
    let stdout = '';
    for (const d of defs) {
      if (!d.running || d.dev !== 'ok') continue;
      stdout += `${d.uuid} ${d.parent} ${d.type} ${readable(d) && d.auto ? 'auto' : 'manual'}${d.state === 'missing' ? '' : ' (defined)'}\n`;
    }
    const warnings: string[] = [];
    const byUuid = new Map(defs.map((d) => [d.uuid, d]));
    for (const u of busOrder) {
      const d = byUuid.get(u)!;
      if (d.dev === 'dangling') warnings.push(`Skipping ${t.p('sys/bus/mdev/devices', u)}: the link points nowhere`);
      if (d.dev === 'typeNowhere') warnings.push(`Skipping active device ${u}: unable to resolve its mdev_type (No such file or directory (ENOENT))`);
    }
    return ok(stdout, warn(...warnings));
  }

  test('the damage is where it should be', () => {
    const states = defs.map((d) => d.state);
    for (const s of ['eacces', 'empty', 'link', 'fifo', 'missing', 'efbig'] as const) expect(states).toContain(s);
    expect(defs.filter((d) => d.dev === 'dangling').length).toBeGreaterThan(1);
    expect(defs.filter((d) => d.dev === 'typeNowhere').length).toBeGreaterThan(1);
    // the first and last name of the batches are damaged
    expect(defs[0].state).not.toBe('ok');
    expect(defs[defs.length - 1].state).not.toBe('ok');
  });

  test('types: 2048 files', () => {
    const r = same(['types'], { root: t.root, uid: NOBODY }, MODES_8);
    const m = typesModel();
    expect(r).toEqual(ok(m.stdout, warn(...m.warnings)));
    const j = same(['types', '--dumpjson'], { root: t.root, uid: NOBODY }, MODES_8);
    expect(j.stderr).toBe(r.stderr);
    const parsed = JSON.parse(j.stdout) as Array<Record<string, Array<Record<string, { available_instances: number; name?: string }>>>>;
    expect(parsed).toHaveLength(1);
    expect(Object.keys(parsed[0])).toHaveLength(NP);
    expect(parsed[0][parentName(63)][7][typeName(7)].available_instances).toBe(available(63, 7));
    expect(parsed[0][parentName(62)][7][typeName(7)].name).toBe('NVIDIA-62-7');
  });

  test('types: an error at the end and at the start of the batch names its file (the first in byte order)', () => {
    const m = typesModel();
    const file = (i: number, j: number) => path.join(typeBase(i), typeName(j), 'available_instances');
    const damaged = [file(NP - 1, 0), file(NP - 1, NT - 1), file(NP - 1, 3), file(0, 0), file(0, 5)];
    const saved = damaged.map((f) => fs.readFileSync(f));
    try {
      for (const f of damaged.slice(0, 3)) fs.writeFileSync(f, 'x\n');
      expect(same(['types'], { root: t.root, uid: NOBODY }, MODES_8)).toEqual(
        error(
          `Invalid available_instances 'x' in ${classTypeDir(NP - 1, typeName(0))}/available_instances: not an integer`,
          warn(...m.warnings.filter((w) => !w.includes(parentName(NP - 1)))),
        ),
      );
      fs.rmSync(file(0, 5));
      fs.rmSync(file(0, 0));
      expect(same(['types', '--dumpjson'], { root: t.root, uid: NOBODY }, MODES_8)).toEqual(
        error(`Unable to read mdev type ${typeName(0)} of ${parentName(0)}: No such file or directory (ENOENT) (${classTypeDir(0, typeName(0))})`),
      );
    } finally {
      damaged.forEach((f, k) => fs.writeFileSync(f, saved[k]));
    }
  });

  test('list -d: 4096 definitions', () => {
    expect(same(['list', '-d'], { root: t.root, uid: NOBODY }, MODES_8)).toEqual(listDefinedModel());
    const j = same(['list', '-d', '--dumpjson'], { root: t.root, uid: NOBODY }, MODES_8);
    const parsed = JSON.parse(j.stdout) as Array<Record<string, Array<Record<string, { mdev_type: string; attrs: Array<Record<string, string>> }>>>>;
    const got: string[] = [];
    for (const [p, devs] of Object.entries(parsed[0]))
      for (const dev of devs) for (const [u, cfg] of Object.entries(dev)) got.push(`${p} ${u} ${cfg.mdev_type} ${cfg.attrs[0].n}`);
    expect(got).toEqual(defs.filter(readable).map((d) => `${d.parent} ${d.uuid} ${d.type} ${d.i}-${d.k}`));
  });

  test('list: 2048 running devices (4096 links, 2048 definitions)', () => {
    expect(same(['list'], { root: t.root, uid: NOBODY }, MODES_8)).toEqual(listModel());
    const j = same(['list', '--dumpjson'], { root: t.root, uid: NOBODY }, MODES_8);
    expect(j.stderr).toBe(listModel().stderr);
  });

  test('list -u and list -d -p: small batches of the same tree agree with the big ones', () => {
    const d = defs.find((x) => x.running && x.dev === 'ok' && readable(x))!;
    expect(same(['list', '-u', d.uuid], { root: t.root, uid: NOBODY })).toEqual(
      ok(`${d.uuid} ${d.parent} ${d.type} ${d.auto ? 'auto' : 'manual'} (defined)\n`),
    );
    const p = parentName(32);
    const model = listDefinedModel();
    const r = same(['list', '-d', '-p', p], { root: t.root, uid: NOBODY });
    expect(r.stdout).toBe(
      model.stdout
        .split('\n')
        .filter((l) => l.includes(` ${p} `))
        .map((l) => `${l}\n`)
        .join(''),
    );
    expect(r.stderr).toBe(
      model.stderr
        .split('\n')
        .filter((l) => l.includes(`/${p}/`))
        .map((l) => `${l}\n`)
        .join(''),
    );
  });

  test('MDEVCTL_NATIVE_THREADS that is not a positive number is the default', () => {
    const want = listDefinedModel();
    for (const n of ['0', '-3', 'two', '1.5', '1000']) {
      expect(run(['list', '-d'], { root: t.root, uid: NOBODY, env: { MDEVCTL_NATIVE: 'require', MDEVCTL_NATIVE_THREADS: n } })).toEqual(want);
    }
  });
});

// ------------------------------------------------------------------------------------------------
// The addon's exports, called directly (test/support/fastio-probe.cjs)

const PROBE = path.join(REPO, 'test', 'support', 'fastio-probe.cjs');

/** The directory the probe reads: files of every kind, and DIR/many for the threaded batches. */
function probeDir(): string {
  const dir = tempDir('mdevctl-fastio-');
  fs.writeFileSync(path.join(dir, 'text'), 'h\u00e9llo\n');
  fs.writeFileSync(path.join(dir, 'empty'), '');
  fs.mkdirSync(path.join(dir, 'sub'));
  fs.writeFileSync(path.join(dir, 'sub', 'inner'), 'in');
  fifo(path.join(dir, 'fifo'));
  fs.symlinkSync('text', path.join(dir, 'link'));
  fs.symlinkSync('nowhere', path.join(dir, 'dangling'));
  fs.writeFileSync(path.join(dir, 'big'), Buffer.alloc(16 * MiB - 1, 'b'));
  fs.writeFileSync(path.join(dir, 'exact16k'), Buffer.alloc(16 * 1024, 'k'));
  fs.writeFileSync(path.join(dir, 'huge'), Buffer.alloc(16 * MiB, 'h'));
  fs.writeFileSync(path.join(dir, 'unicode name \u00e9'), 'u\n');
  for (let d = 0; d < 3; d++) {
    fs.mkdirSync(path.join(dir, 'many', `${d}`), { recursive: true });
    for (let k = 0; k < 1700; k++) {
      if (k % 3 === 2) continue;
      fs.writeFileSync(path.join(dir, 'many', `${d}`, `${k}`), `${d}/${k}`);
      fs.symlinkSync(`${k}`, path.join(dir, 'many', `${d}`, `l${k}`));
    }
  }
  return dir;
}

function probeExpected(dir: string, rounds: number) {
  const { ENOENT, EISDIR, ENOTDIR, EINVAL, EFBIG } = os.constants.errno;
  const once = {
    //      text          empty sub     fifo missing link           dangling sub/inner text/x   big               exact16k         huge   unicode
    files: ['h\u00e9llo\n', '', EISDIR, '', ENOENT, 'h\u00e9llo\n', ENOENT, 'in', ENOTDIR, `length ${16 * MiB - 1}`, 'length 16384', EFBIG, 'u\n'],
    regular: ['h\u00e9llo\n', '', EISDIR, -1, ENOENT, 'h\u00e9llo\n', ENOENT, 'in', ENOTDIR, `length ${16 * MiB - 1}`, 'length 16384', EFBIG, 'u\n'],
    links: [EINVAL, EINVAL, EINVAL, EINVAL, ENOENT, 'text', 'nowhere', EINVAL, ENOTDIR, EINVAL, EINVAL, EINVAL, EINVAL],
    access: [0, 0, 0, 0, ENOENT, 0, ENOENT, 0, ENOTDIR, 0, 0, 0, 0],
    dirs: [ENOENT, ENOTDIR, 'h\u00e9llo\n', ENOENT, ''],
    none: [[], [], []],
  };
  const bad = [
    'TypeError: fastio: expected (dirs, dirOf, names, threads[, regularOnly])',
    'TypeError: fastio: expected (dirs, dirOf, names, threads[, regularOnly])',
    'TypeError: fastio: dirs must be an array of strings',
    'TypeError: fastio: dirOf must be a Uint32Array',
    'TypeError: fastio: dirOf must be a Uint32Array',
    'RangeError: fastio: dirOf names no directory',
    'RangeError: fastio: dirOf and names differ in length',
    'TypeError: fastio: names must be an array of strings',
    'TypeError: fastio: dirs must be an array of strings',
    'TypeError: fastio: threads must be a number',
    'TypeError: fastio: names must be an array of strings',
  ];
  // listDirs: d_type values DT_FIFO 1, DT_DIR 4, DT_REG 8, DT_LNK 10
  const top = ['big 8', 'dangling 10', 'empty 8', 'exact16k 8', 'fifo 1', 'huge 8', 'link 10', 'many 4', 'sub 4', 'text 8', 'unicode name \u00e9 8'];
  const manyDir = '2268 entries, 1134 links';
  return {
    rounds: Array.from({ length: rounds }, () => once),
    badCalls: [
      'TypeError: fastio: expected (dirs, threads)',
      'TypeError: fastio: expected (dirs, threads)',
      'TypeError: fastio: dirs must be an array of strings',
      'TypeError: fastio: dirs must be an array of strings',
      'TypeError: fastio: expected (dirs, threads)',
    ]
      .map((b) => `listDirs: ${b}`)
      .concat(['readFilesAt', 'readLinksAt', 'accessAt'].flatMap((fn) => bad.map((b) => `${fn}: ${b}`))),
    many: [0, 1, 2, 3, 8, 100].map(() => ({ names: 5100, wrong: 0 })),
    listDirs: [...[0, 1, 2, 8].map(() => [top, ENOENT, ENOTDIR, ['inner 8'], manyDir, manyDir, manyDir]), []],
  };
}

(nodeBuildOnly("native-reader.test.ts, the addon's exports (called from Node)") ? test.skip : test)(
  'the addon exports answer as native/fastio.c documents: texts, listings, errno numbers, threads, argument errors',
  () => {
    const dir = probeDir();
    const r = spawnSync(NODE, [PROBE, ADDON, dir, '2'], { encoding: 'utf8', timeout: 60000, maxBuffer: 64 * MiB });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(probeExpected(dir, 2));
  },
);

// ------------------------------------------------------------------------------------------------
// Random small damaged trees

const TYPE_HARM = ['rmName', 'rmDesc', 'emptyAvail', 'dirName', 'fifoName', 'fifoAvail', 'badName', 'badDesc', 'avail000', 'desc000', 'type644'] as const;
const DEF_HARM = ['defEmpty', 'defBad', 'def000', 'defFifo', 'defDir', 'defDangling', 'defLinkFile', 'defRm'] as const;
const DEV_HARM = ['devDangling', 'typeNowhere', 'devIsDir', 'typeIsFile'] as const;
const PARENT_HARM = ['rmTypes', 'parentNowhere', 'parent644', 'config644', 'config000'] as const;
type Harm = (typeof TYPE_HARM)[number] | (typeof DEF_HARM)[number] | (typeof DEV_HARM)[number] | (typeof PARENT_HARM)[number];

/** A small tree: PARENTS[i] types and definitions (the even ones running), then HARMS done to it. */
function randomTree(parents: Array<{ types: number; defs: number }>, harms: Array<[Harm, number]>): FakeTree {
  const t = new FakeTree().withStandardDirs();
  fs.chmodSync(t.root, 0o755);
  const typeDirs: string[] = [];
  const defFiles: string[] = [];
  const devices: Array<{ uuid: string; dir: string }> = [];
  const parentNames: string[] = [];
  parents.forEach((spec, i) => {
    const p = `0000:00:0${i + 1}.0`;
    parentNames.push(p);
    const types: Record<string, { available: number; name: string; description: string }> = {};
    for (let j = 0; j < spec.types; j++) types[`t${j}`] = { available: j + i, name: `Type ${i}.${j}`, description: `d=${j}\ne=${i}` };
    t.addParent(p, types);
    for (let j = 0; j < spec.types; j++) typeDirs.push(realTypeDir(t, p, `t${j}`));
    for (let k = 0; k < spec.defs; k++) {
      const uuid = `${i + 1}${k}000000-0000-4000-8000-000000000000`;
      const type = spec.types > 0 ? `t${k % spec.types}` : 'none';
      t.addDefinition(p, uuid, { mdev_type: type, start: k % 3 === 0 ? 'auto' : 'manual', attrs: [] });
      defFiles.push(def(t, p, uuid));
      if (k % 2 === 0 && spec.types > 0) {
        t.addActive(uuid, p, type);
        devices.push({ uuid, dir: t.p('sys/devices/pci0000:00', p, uuid) });
      }
    }
  });
  const attempt = (f: () => void) => {
    try {
      f();
    } catch {
      // harm to something an earlier harm removed: nothing to do
    }
  };
  for (const [harm, n] of harms) {
    const td = typeDirs[n % Math.max(typeDirs.length, 1)];
    const df = defFiles[n % Math.max(defFiles.length, 1)];
    const dev = devices[n % Math.max(devices.length, 1)];
    const p = parentNames[n % parentNames.length];
    const replace = (file: string, make: () => void) =>
      attempt(() => {
        fs.rmSync(file, { recursive: true, force: true });
        make();
      });
    if ((TYPE_HARM as readonly string[]).includes(harm) && td === undefined) continue;
    if ((DEF_HARM as readonly string[]).includes(harm) && df === undefined) continue;
    if ((DEV_HARM as readonly string[]).includes(harm) && dev === undefined) continue;
    switch (harm) {
      case 'rmName':
        attempt(() => fs.rmSync(path.join(td, 'name')));
        break;
      case 'rmDesc':
        attempt(() => fs.rmSync(path.join(td, 'description')));
        break;
      case 'emptyAvail':
        replace(path.join(td, 'available_instances'), () => fs.writeFileSync(path.join(td, 'available_instances'), ''));
        break;
      case 'dirName':
        replace(path.join(td, 'name'), () => fs.mkdirSync(path.join(td, 'name')));
        break;
      case 'fifoName':
        attempt(() => fifo(path.join(td, 'name')));
        break;
      case 'fifoAvail':
        attempt(() => fifo(path.join(td, 'available_instances')));
        break;
      case 'badName':
        replace(path.join(td, 'name'), () => fs.writeFileSync(path.join(td, 'name'), Buffer.from([0x41, 0xff, 0xfe, 0x0a])));
        break;
      case 'badDesc':
        replace(path.join(td, 'description'), () => fs.writeFileSync(path.join(td, 'description'), Buffer.from([0xc3, 0x0a, 0xe2, 0x82])));
        break;
      case 'avail000':
        attempt(() => fs.chmodSync(path.join(td, 'available_instances'), 0));
        break;
      case 'desc000':
        attempt(() => fs.chmodSync(path.join(td, 'description'), 0));
        break;
      case 'type644':
        attempt(() => fs.chmodSync(td, 0o644));
        break;
      case 'defEmpty':
        replace(df, () => fs.writeFileSync(df, ''));
        break;
      case 'defBad':
        replace(df, () => fs.writeFileSync(df, Buffer.from('{"mdev_type":"\xff","start":"auto"}', 'latin1')));
        break;
      case 'def000':
        attempt(() => fs.chmodSync(df, 0));
        break;
      case 'defFifo':
        attempt(() => fifo(df));
        break;
      case 'defDir':
        replace(df, () => fs.mkdirSync(df));
        break;
      case 'defDangling':
        replace(df, () => fs.symlinkSync('nowhere', df));
        break;
      case 'defLinkFile':
        attempt(() => {
          const to = t.p('elsewhere', path.basename(df));
          fs.mkdirSync(path.dirname(to), { recursive: true });
          fs.renameSync(df, to);
          fs.symlinkSync(to, df);
        });
        break;
      case 'defRm':
        attempt(() => fs.rmSync(df, { recursive: true }));
        break;
      case 'devDangling':
        attempt(() => fs.renameSync(dev.dir, `${dev.dir}.gone`));
        break;
      case 'typeNowhere':
        replace(path.join(dev.dir, 'mdev_type'), () => fs.symlinkSync('../mdev_supported_types/gone', path.join(dev.dir, 'mdev_type')));
        break;
      case 'devIsDir':
        attempt(() => fs.mkdirSync(t.p('sys/bus/mdev/devices', `${n % 10}0000000-0000-4000-8000-00000000000${n % 10}`)));
        break;
      case 'typeIsFile':
        replace(path.join(dev.dir, 'mdev_type'), () => fs.symlinkSync('remove', path.join(dev.dir, 'mdev_type')));
        break;
      case 'rmTypes':
        attempt(() => fs.rmSync(t.p('sys/devices/pci0000:00', p, 'mdev_supported_types'), { recursive: true }));
        break;
      case 'parentNowhere':
        attempt(() => fs.symlinkSync('../../devices/gone', t.p('sys/class/mdev_bus', `0000:0${n % 10}:00.0`)));
        break;
      case 'parent644':
        attempt(() => fs.chmodSync(t.p('sys/devices/pci0000:00', p), 0o644));
        break;
      case 'config644':
        attempt(() => fs.chmodSync(t.p('etc/mdevctl.d', p), 0o644));
        break;
      case 'config000':
        attempt(() => fs.chmodSync(t.p('etc/mdevctl.d', p), 0));
        break;
    }
  }
  return t;
}

test('random small damaged trees (fast-check): types, list and list -d agree in every mode', () => {
  const harm = fc.constantFrom<Harm>(...TYPE_HARM, ...DEF_HARM, ...DEV_HARM, ...PARENT_HARM);
  fc.assert(
    fc.property(
      fc.array(fc.record({ types: fc.integer({ min: 0, max: 3 }), defs: fc.integer({ min: 0, max: 4 }) }), { minLength: 1, maxLength: 3 }),
      fc.array(fc.tuple(harm, fc.nat(20)), { maxLength: 6 }),
      (parents, harms) => {
        const t = randomTree(parents, harms);
        try {
          for (const args of [['types'], ['list'], ['list', '-d', '--dumpjson']]) same(args, { root: t.root, uid: NOBODY });
        } finally {
          t.cleanup();
        }
      },
    ),
    { numRuns: 20 },
  );
}, 300000);

// ------------------------------------------------------------------------------------------------
// the JavaScript reader and big files, in this process

describe('the JavaScript reader (src/lib/util/fastfs.ts) and big files', () => {
  // imported here only: the rest of this file runs the built CLI
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fastfs = require('../src/lib/util/fastfs') as typeof import('../src/lib/util/fastfs');
  /**
   * Bytes of ArrayBuffers alive: full garbage collections first, so only what is kept counts, and
   * the lowest of five looks 20 ms apart (V8 may free the backing stores after gc() returns).
   */
  const grown = async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    let low = Infinity;
    for (let i = 0; i < 5; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 20));
      low = Math.min(low, process.memoryUsage().arrayBuffers);
    }
    return low;
  };

  test('a big file under 16 MiB is read whole, and its buffer is not kept for the files after it', () => {
    // measured in a Node of its own: in jest's worker, what earlier tests and jest itself hold
    // (its IPC, other files' buffers) moved the count by 8 MiB now and then
    const d = tempDir('mdevctl-big-');
    const bundle = path.join(d, 'fastfs.cjs');
    buildSync({ entryPoints: [path.join(REPO, 'src/lib/util/fastfs.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: bundle, logLevel: 'error' });
    // the count falls only once the backing stores are freed, which V8 may do after gc() returns:
    // each look collects, waits and takes the lowest of five
    const script = [
      'const fs = require("fs"), path = require("path"), fastfs = require(process.argv[1]), d = process.argv[2];',
      'const settle = async () => { let m = Infinity; for (let i = 0; i < 5; i++) { gc(); await new Promise((r) => setTimeout(r, 20)); m = Math.min(m, process.memoryUsage().arrayBuffers); } return m; };',
      '(async () => {',
      'const text = "x".repeat(3 * 1024 * 1024) + "\\n";',
      'fs.writeFileSync(path.join(d, "big"), text);',
      'const before = await settle();',
      'const ok = fastfs.readText(path.join(d, "big")) === text;',
      'fs.writeFileSync(path.join(d, "small"), "vfio-pci\\n");',
      'const small = fastfs.readText(path.join(d, "small"));',
      'console.log(JSON.stringify({ ok, small, grown: (await settle()) - before }));',
      '})();',
    ].join('\n');
    const r = spawnSync(NODE, ['--expose-gc', '-e', script, bundle, d], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { ok: boolean; small: string; grown: number };
    expect({ ok: out.ok, small: out.small }).toEqual({ ok: true, small: 'vfio-pci\n' });
    // what is left of the read: the 3 MiB string (V8's heap, not an ArrayBuffer), not 4 MiB of buffer
    expect(out.grown).toBeLessThan(MiB);
  });

  test('a regular file of 16 MiB or more is refused (EFBIG) without being read', async () => {
    const d = tempDir('mdevctl-big-');
    for (const size of [16 * MiB, 1024 * MiB]) {
      // sparse: a reader that read it would take 16 MiB of buffers to find out
      const f = path.join(d, `big-${size}`);
      fs.writeFileSync(f, '');
      fs.truncateSync(f, size);
      const before = await grown();
      expect(() => fastfs.readText(f)).toThrow(expect.objectContaining({ code: 'EFBIG', message: 'File too large' }));
      expect((await grown()) - before).toBeLessThan(MiB);
    }
  });

  test('a character device is read up to 16 MiB (its size says nothing), then refused', () => {
    expect(() => fastfs.readText('/dev/zero')).toThrow(expect.objectContaining({ code: 'EFBIG' }));
    expect(fastfs.readText('/dev/null')).toBe('');
  });
});

// ------------------------------------------------------------------------------------------------
// valgrind

const NO_VALGRIND = !SKIP && prerequisites('native-reader.test.ts (under valgrind)', { tools: ['valgrind'] }, 'apt-get install valgrind');
/** Memory errors and leaks the addon makes (a definite leak: Node itself has none at exit). */
// Node itself is not held to valgrind here: Node 24's own start-up leaks (OpenSSL's init) and its
// optimising compiler branches on memory memcheck takes for uninitialised. So every error valgrind
// reports is kept, and those that name the reader (fastio.node, native/fastio.c: where it happened
// or where the memory was allocated) fail the test; the rest of stderr is the program's own.
const VALGRIND_ARGS = ['-q', '--leak-check=full', '--show-leak-kinds=definite', '--errors-for-leak-kinds=definite', '--num-callers=40'];

/** valgrind's stderr split: its error records that name the reader, and the program's own lines. */
function valgrindReport(stderr: string): { ours: string[]; own: string } {
  const own: string[] = [];
  const records: string[][] = [[]];
  for (const line of stderr.split('\n')) {
    const m = /^==\d+== ?(.*)$/.exec(line);
    if (!m) {
      own.push(line);
      continue;
    }
    if (m[1] === '') records.push([]);
    else records[records.length - 1].push(m[1]);
  }
  return { ours: records.filter((r) => r.some((l) => /fastio/.test(l))).map((r) => r.join('\n')), own: own.join('\n') };
}

(NO_VALGRIND || nodeBuildOnly('native-reader.test.ts, under valgrind (the addon in Node)') ? describe.skip : describe)(
  'under valgrind: no memory error or leak in native/fastio.c',
  () => {
    test('the exports, on every kind of file and directory and on threaded batches', () => {
      const dir = probeDir();
      const r = spawnSync('valgrind', [...VALGRIND_ARGS, NODE, PROBE, ADDON, dir, '3'], { encoding: 'utf8', timeout: 170000, maxBuffer: 64 * MiB });
      expect(valgrindReport(r.stderr)).toEqual({ ours: [], own: '' });
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(probeExpected(dir, 3));
    }, 180000);

    test('the CLI: types, list, list -d on a damaged tree, with threads', () => {
      const t = baseTree();
      fifo(path.join(realTypeDir(t, P1, T2), 'name'));
      fs.writeFileSync(path.join(realTypeDir(t, P2, T3), 'description'), Buffer.from([0x61, 0xff, 0x0a]));
      fs.writeFileSync(def(t, P1, A), Buffer.alloc(16 * MiB, ' '));
      fs.symlinkSync('../../../devices/gone', t.p('sys/bus/mdev/devices', C));
      for (let k = 0; k < 1100; k++)
        t.addDefinition(P2, `eeeeeeee-0000-4000-8000-${k.toString(16).padStart(12, '0')}`, k % 100 === 0 ? '' : { mdev_type: T3, start: 'manual', attrs: [] });
      const env: NodeJS.ProcessEnv = { ...cliEnv(), MDEVCTL_NATIVE: 'require', MDEVCTL_NATIVE_THREADS: '8' };
      delete env.MDEVCTL_ENV_ROOT;
      for (const args of [['types'], ['list'], ['list', '-d']]) {
        const want = same(args, { root: t.root });
        const r = spawnSync('valgrind', [...VALGRIND_ARGS, ...cliCommand(['--root', t.root, ...args]).flat()], {
          env,
          encoding: 'utf8',
          timeout: 170000,
          maxBuffer: 64 * MiB,
        });
        const report = valgrindReport(r.stderr);
        expect(report.ours).toEqual([]);
        expect({ args, status: r.status, stdout: r.stdout, stderr: report.own }).toEqual({ args, ...want });
      }
    }, 300000);
  },
);
