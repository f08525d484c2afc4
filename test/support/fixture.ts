/** Fresh copies of the generated fixture roots (the committed ones lack empty directories). */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NODE, REPO } from './cli';

/** Generate fixture NAME into a new temporary directory; returns the root. */
export function freshFixture(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `mdevctl-${name}-`));
  const r = spawnSync(NODE, [path.join(REPO, 'scripts', 'make-fixtures.mjs'), dir, name], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make-fixtures failed: ${r.stderr}`);
  return path.join(dir, name);
}

export function removeFixture(root: string): void {
  fs.rmSync(path.dirname(root), { recursive: true, force: true });
}
