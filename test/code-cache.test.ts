/**
 * bin/load-cli.cjs loads dist/cli.cjs with the V8 code cache the build writes beside it. The cache
 * must be accepted by the Node that built it, and a cache that is missing, of another build or
 * damaged must never change what the CLI does. Runs on a copy of bin/ and dist/ (other test
 * files use the real ones at the same time).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO } from './support/cli';

let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mdevctl-cache-test-'));
  for (const f of ['bin/mdevctl', 'bin/load-cli.cjs', 'dist/cli.cjs', 'dist/cli.cjs.cache']) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.copyFileSync(path.join(REPO, f), path.join(dir, f));
  }
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const cacheFile = () => path.join(dir, 'dist/cli.cjs.cache');

function version(): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [path.join(dir, 'bin/mdevctl'), '--version'], { encoding: 'utf8' });
}

test('the build leaves a cache that this Node accepts, for this build', () => {
  const r = spawnSync(
    process.execPath,
    [
      '-e',
      `const l = require(${JSON.stringify(path.join(dir, 'bin/load-cli.cjs'))});
       const fs = require('fs');
       const c = fs.readFileSync(l.FILE + '.cache');
       const nl = c.indexOf(10);
       const src = fs.readFileSync(l.FILE, 'utf8');
       console.log(c.toString('latin1', 0, nl) === l.buildLine(src), l.compile(src, c.subarray(nl + 1)).cachedDataRejected);`,
    ],
    { encoding: 'utf8' },
  );
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe('true false\n');
  expect(fs.readFileSync(path.join(dir, 'dist/cli.cjs'), 'utf8')).toMatch(/\n\/\/ mdevctl-ts build [0-9a-z]+\.[0-9a-f]{12}\n?$/);
});

test.each([
  ['with the cache', () => {}],
  ['with a cache of another build', () => fs.writeFileSync(cacheFile(), '// mdevctl-ts build other\nxxxx')],
  ['with a damaged cache of this build', () => {
    const c = fs.readFileSync(path.join(REPO, 'dist/cli.cjs.cache'));
    const nl = c.indexOf(10);
    fs.writeFileSync(cacheFile(), Buffer.concat([c.subarray(0, nl + 1), Buffer.alloc(5000, 0x5a)]));
  }],
  ['with an empty cache file', () => fs.writeFileSync(cacheFile(), '')],
  ['without a cache', () => fs.rmSync(cacheFile(), { force: true })],
])('the CLI works the same %s', (_name, prepare) => {
  prepare();
  expect(version()).toMatchObject({ status: 0, stdout: 'mdevctl 1.4.0\n', stderr: '' });
});
