/**
 * The CLI opens the files of a big listing relative to their directory (src/lib/util/fastfs.ts,
 * withDir: it changes its working directory for the loop). What must hold: the output is the one
 * the library API gives (which never changes its caller's working directory), messages name
 * whole paths, and the callout scripts a listing runs start in the caller's working directory.
 */
import { prerequisites } from './support/prerequisites';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cliCommand, cliEnv, NODE, REPO, run } from './support/cli';
import { freshFixture, removeFixture } from './support/fixture';

let root: string;
let cwd: string;

beforeAll(() => {
  root = freshFixture('demo');
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'mdevctl-cwd-'));
});

afterAll(() => {
  removeFixture(root);
  fs.rmSync(cwd, { recursive: true, force: true });
});

function cli(args: string[], dir = cwd) {
  const env = { ...cliEnv() };
  delete env.MDEVCTL_ENV_ROOT;
  return spawnSync(...cliCommand(args), { cwd: dir, env, encoding: 'utf8' });
}

/** What the library returns for the same listings, and how often it called process.chdir. */
function library(): { texts: string[]; chdirs: number; cwd: string } {
  const r = spawnSync(
    NODE,
    [
      '-e',
      `const m = require(${JSON.stringify(path.join(REPO, 'dist/index.cjs'))});
       let chdirs = 0;
       const real = process.chdir;
       process.chdir = (d) => { chdirs++; return real(d); };
       const root = ${JSON.stringify(root)};
       const texts = [m.listTypesJson({ root }), m.listDevicesJson({ root, defined: true }), m.listDevicesJson({ root })];
       console.log(JSON.stringify({ texts, chdirs, cwd: process.cwd() }));`,
    ],
    { cwd, encoding: 'utf8' },
  );
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout);
}

test('types, list -d and list print what the library returns; the library never changes directory', () => {
  const lib = library();
  expect(lib.chdirs).toBe(0);
  expect(lib.cwd).toBe(fs.realpathSync(cwd));
  const got = [
    ['types', '--dumpjson'],
    ['list', '-d', '--dumpjson'],
    ['list', '--dumpjson'],
  ].map((a) => cli(['--root', root, ...a]));
  for (const r of got) expect(r).toMatchObject({ status: 0, stderr: '' });
  // the library's text has no final newline; the CLI may print one
  expect(got.map((r) => r.stdout.replace(/\n$/, ''))).toEqual(lib.texts);
  expect(lib.texts[0]).toContain('available_instances');
  expect(lib.texts[1]).toContain('mdev_type');
  expect(lib.texts[2]).toContain('mdev_type');
});

test('a relative --root is taken from the working directory', () => {
  const rel = path.relative(cwd, root);
  expect(rel.startsWith('..')).toBe(true);
  for (const args of [['types'], ['list', '-d'], ['list']]) {
    const a = cli(['--root', rel, ...args]);
    expect(a).toMatchObject({ status: 0, stderr: '' });
    expect(a.stdout).toBe(cli(['--root', root, ...args]).stdout);
    expect(a.stdout).not.toBe('');
  }
});

test('a damaged type is reported with its whole path', () => {
  const t = freshFixture('demo');
  try {
    const types = fs.readdirSync(path.join(t, 'sys/class/mdev_bus'));
    const typesDir = path.join(t, 'sys/class/mdev_bus', types[0], 'mdev_supported_types');
    const type = fs.readdirSync(typesDir)[0];
    // 0444 in the fixture, as on a real kernel: root writes it anyway, its owner makes it writable
    fs.chmodSync(path.join(typesDir, type, 'available_instances'), 0o644);
    fs.writeFileSync(path.join(typesDir, type, 'available_instances'), 'many\n');
    const r = cli(['--root', t, 'types']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`Error: Invalid available_instances 'many' in ${typesDir}/${type}/available_instances: not an integer\n`);
  } finally {
    removeFixture(t);
  }
});

test("a callout script run by list starts in the caller's working directory", () => {
  const dir = path.join(root, 'usr/lib/mdevctl/scripts.d/callouts');
  fs.mkdirSync(dir, { recursive: true });
  const log = path.join(cwd, 'script-cwd.log');
  const script = path.join(dir, 'where');
  fs.writeFileSync(script, `#!/bin/sh\npwd -P >> ${JSON.stringify(log)}\nexit 2\n`, { mode: 0o755 });
  try {
    const r = cli(['--root', root, 'list']);
    expect(r).toMatchObject({ status: 0, stderr: '' });
    const lines = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    expect(new Set(lines)).toEqual(new Set([fs.realpathSync(cwd)]));
  } finally {
    fs.rmSync(script);
    fs.rmSync(log, { force: true });
  }
});

const notRoot = prerequisites('relative-reads.test.ts (the run as nobody)', { root: true }, 'run npm test as root: the CLI is started as nobody, uid 65534');

(notRoot ? test.skip : test)('a user who cannot enter their own working directory again (sudo -u nobody from /root) gets the same listings', () => {
  // the fixture readable by all; the working directory one nobody was started in but cannot enter
  fs.chmodSync(path.dirname(root), 0o755);
  const locked = fs.mkdtempSync(path.join(os.tmpdir(), 'mdevctl-locked-'));
  const inside = path.join(locked, 'here');
  fs.mkdirSync(inside, { mode: 0o755 });
  fs.chmodSync(locked, 0o700);
  try {
    for (const args of [['list', '-d'], ['list'], ['types'], ['types', '--dumpjson'], ['list', '-d', '-v']]) {
      const expected = cli(['--root', root, ...args]);
      expect(expected).toMatchObject({ status: 0, stderr: '' });
      expect(expected.stdout).not.toBe('');
      const r = run(['--root', root, ...args], { uid: 65534, cwd: inside });
      expect(r).toEqual({ status: 0, stdout: expected.stdout, stderr: '' });
    }
  } finally {
    fs.rmSync(locked, { recursive: true, force: true });
  }
});
