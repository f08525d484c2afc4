/**
 * The developer's shell does not change what the tests see: an MDEVCTL_* variable the CLI reads
 * (the README's example exports MDEVCTL_SIMULATE) is kept from every CLI the tests spawn, by the
 * helpers (test/support/cli.ts's cliEnv, used by run() and startCli()) and by jest.config.js,
 * which removes them before any test runs; the test run's own variables stay.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FakeTree } from './support/tree';
import { cliEnv, HARNESS_VARS, REPO, run } from './support/cli';
import { runAsync } from './support/spawn';

const P = '0000:00:02.0';
const TYPE = 'i915-GVTg_V5_4';
const U = '976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9';

/** What a shell of a developer who followed the README might have exported. */
const LEAKED: Record<string, string> = {
  MDEVCTL_SIMULATE: '1',
  MDEVCTL_DEBUG: '1',
  MDEVCTL_NATIVE: 'require',
  MDEVCTL_NATIVE_THREADS: '3',
  MDEVCTL_LOCK_TIMEOUT: '0',
  MDEVCTL_CALLOUT_TIMEOUT: '0.1',
};

let saved: NodeJS.ProcessEnv;
beforeEach(() => {
  saved = { ...process.env };
  Object.assign(process.env, LEAKED);
});
afterEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
});

function tree(): FakeTree {
  const t = new FakeTree().withStandardDirs();
  t.addParent(P, { [TYPE]: { available: 2 } });
  return t;
}
const createFile = (t: FakeTree) => t.read(`sys/devices/pci0000:00/${P}/mdev_supported_types/${TYPE}/create`);

test("cliEnv drops the CLI's variables of the test's environment, keeps the run's own, adds and removes what it is given", () => {
  // the run's own variables this run happens to have (MDEVCTL_MESSAGES_RUNS in .ci/run's Node passes) are not this test's
  for (const k of Object.keys(process.env)) if (HARNESS_VARS.test(k)) delete process.env[k];
  process.env.MDEVCTL_TEST_ALL = '1';
  process.env.MDEVCTL_REF_VERSION = '1.4.0';
  process.env.MDEVCTL_TEST_CLI = '/opt/mdevctl';
  process.env.MDEVCTL_TEST_NODE = '/opt/node18/bin/node';
  const e = cliEnv({ MDEVCTL_NATIVE: 'off', PATH: undefined });
  expect(
    Object.keys(e)
      .filter((k) => k.startsWith('MDEVCTL_'))
      .sort(),
  ).toEqual(['MDEVCTL_NATIVE', 'MDEVCTL_REF_VERSION', 'MDEVCTL_TEST_ALL', 'MDEVCTL_TEST_CLI', 'MDEVCTL_TEST_NODE']);
  expect([e.MDEVCTL_TEST_CLI, e.MDEVCTL_TEST_NODE]).toEqual(['/opt/mdevctl', '/opt/node18/bin/node']);
  expect(e.MDEVCTL_NATIVE).toBe('off');
  expect('PATH' in e).toBe(false);
  expect(e.HOME).toBe(process.env.HOME);
});

test('a leaked MDEVCTL_SIMULATE does not make start simulate: run() writes the UUID into create, as the kernel is asked', () => {
  const t = tree();
  try {
    // with the variable honoured, the simulated kernel would make the device and leave create empty
    const simulated = run(['start', '-u', U, '-p', P, '-t', TYPE], { root: t.root, env: { MDEVCTL_SIMULATE: '1' } });
    expect(simulated).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(createFile(t)).toBe('');
    expect(t.exists(`sys/bus/mdev/devices/${U}`)).toBe(true);

    const t2 = tree();
    try {
      expect(run(['start', '-u', U, '-p', P, '-t', TYPE], { root: t2.root })).toEqual({ status: 0, stdout: '', stderr: '' });
      expect(createFile(t2)).toBe(U);
      expect(t2.exists(`sys/bus/mdev/devices/${U}`)).toBe(false);
    } finally {
      t2.cleanup();
    }
  } finally {
    t.cleanup();
  }
});

test('the same through startCli/runAsync (the helper for concurrent runs)', async () => {
  const t = tree();
  try {
    expect(await runAsync(t.root, ['start', '-u', U, '-p', P, '-t', TYPE])).toEqual({ status: 0, signal: null, stdout: '', stderr: '' });
    expect(createFile(t)).toBe(U);
    expect(t.exists(`sys/bus/mdev/devices/${U}`)).toBe(false);
  } finally {
    t.cleanup();
  }
});

test('a leaked MDEVCTL_DEBUG adds no stack trace to an error', () => {
  const t = tree();
  try {
    expect(run(['modify', '-u', U, '--auto'], { root: t.root })).toEqual({ status: 1, stdout: '', stderr: `Error: Mediated device ${U} is not defined\n` });
  } finally {
    t.cleanup();
  }
});

test("jest.config.js removes the CLI's variables before any test starts, and keeps the run's own", () => {
  const r = spawnSync(
    process.execPath,
    [
      '-e',
      `require(${JSON.stringify(path.join(REPO, 'jest.config.js'))}); console.log(Object.keys(process.env).filter((k) => k.startsWith('MDEVCTL_')).sort().join(' '))`,
    ],
    {
      env: {
        PATH: process.env.PATH,
        ...LEAKED,
        MDEVCTL_ENV_ROOT: '/x',
        MDEVCTL_TEST_ALL: '1',
        MDEVCTL_TEST_SEED: '7',
        MDEVCTL_KERNEL_ONLY: 'a',
        MDEVCTL_BUILD_NATIVE: 'off',
      },
      encoding: 'utf8',
    },
  );
  expect(r).toMatchObject({ status: 0, stderr: '', stdout: 'MDEVCTL_BUILD_NATIVE MDEVCTL_KERNEL_ONLY MDEVCTL_TEST_ALL MDEVCTL_TEST_SEED\n' });
  // and so this very run has none of them, whatever the shell that started it exported
  expect(Object.keys(saved).filter((k) => k.startsWith('MDEVCTL_') && !/^MDEVCTL_(TEST_|REF_|DEB_|KERNEL_|BUILD_|MESSAGES_)/.test(k))).toEqual([]);
});

test('the CLI under test: MDEVCTL_TEST_CLI (an executable, run directly) wins over MDEVCTL_TEST_NODE; without it, that Node runs the launchers', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mdevctl-env-'));
  try {
    const exe = path.join(dir, 'exe');
    fs.writeFileSync(exe, '#!/bin/sh\n', { mode: 0o755 });
    process.env.MDEVCTL_TEST_NODE = '/opt/node18/bin/node';
    process.env.MDEVCTL_TEST_CLI = exe;
    await jest.isolateModulesAsync(async () => {
      const m = await import('./support/cli');
      const [file, args] = m.cliCommand(['list', '-d']);
      expect([path.basename(file), fs.realpathSync(file), args]).toEqual(['mdevctl', exe, ['list', '-d']]);
      const [lsmdev, none] = m.cliCommand([], { bin: m.LSMDEV });
      expect([path.basename(lsmdev), fs.realpathSync(lsmdev), none]).toEqual(['lsmdev', exe, []]);
      // a copy elsewhere (cliCopyFor's, under the executable: the executable itself) is run as it is
      expect(m.cliCommand(['types'], { bin: '/copy/bin/mdevctl' })).toEqual(['/copy/bin/mdevctl', ['types']]);
      expect(m.cliShellCommand()).toBe(`'${file}'`);
      expect(() => m.cliCommand([], { nodeArgs: ['--require', 'x.js'] })).toThrow(/Node arguments \(--require x\.js\) for the executable under test/);
    });
    delete process.env.MDEVCTL_TEST_CLI;
    await jest.isolateModulesAsync(async () => {
      const m = await import('./support/cli');
      expect(m.cliCommand(['list'], { nodeArgs: ['--require', 'x.js'] })).toEqual(['/opt/node18/bin/node', ['--require', 'x.js', m.MDEVCTL, 'list']]);
      expect(m.cliShellCommand(m.LSMDEV)).toBe(`'/opt/node18/bin/node' '${m.LSMDEV}'`);
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
