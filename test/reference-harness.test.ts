/** Smoke test of the differential harness (test/support/reference.ts) against mdevctl 1.2.0. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeReferenceRoot, referenceSkipped, referenceStdoutAs14, runReference, treeSnapshot } from './support/reference';
import { NODE } from './support/cli';

const REPO = path.resolve(__dirname, '..');

/** A fresh copy of a fixture made by the generator (git cannot hold the empty dirs). */
function freshFixture(name: string): { dir: string; root: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mdevctl-fixture-'));
  const r = spawnSync(NODE, [path.join(REPO, 'scripts', 'make-fixtures.mjs'), dir, name], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`make-fixtures failed: ${r.stderr}`);
  return { dir, root: path.join(dir, name) };
}

const SKIP = referenceSkipped('reference-harness.test.ts');

(SKIP ? test.skip : test)('mdevctl 1.2.0 lists nothing on the empty fixture', () => {
  const { dir, root: src } = freshFixture('empty');
  const root = makeReferenceRoot(src);
  try {
    const before = treeSnapshot(root);
    const r = runReference(root, ['list']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('\n'); // 1.2.0 ends list output with one extra newline
    expect(referenceStdoutAs14(['list'], r.status, r.stdout)).toBe(''); // 1.4 prints nothing
    expect(treeSnapshot(root)).toEqual(before);
    expect(Object.keys(before).some((k) => k.startsWith('usr/bin/') || k.startsWith('lib'))).toBe(false);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
