/**
 * `mdevctl fixture TEMPLATE DIR`: the same trees as scripts/make-fixtures.mjs and as the committed
 * fixtures/ (which lack only the empty directories git cannot hold).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FakeTree } from './support/tree';
import { NODE, REPO, run } from './support/cli';
import { templateNames } from '../src/lib/kernel/fixtures';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'mdevctl-fixture-verb-'));
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

/** Files and links only (git drops empty directories). */
function filesAndLinks(root: string): Record<string, string> {
  const snap = new FakeTree(root).snapshot();
  return Object.fromEntries(Object.entries(snap).filter(([k]) => !k.endsWith('/')));
}

test('--list prints the template names', () => {
  expect(run(['fixture', '--list'])).toEqual({ status: 0, stdout: templateNames.map((n) => `${n}\n`).join(''), stderr: '' });
  expect(templateNames).toEqual(['gvt', 'nvidia', 'vfio_ap', 'vfio_ccw', 'nvidia_sriov', 'mtty', 'demo', 'empty', 'nvidia_vfio']);
});

test.each([...templateNames])('%s: same tree as the committed fixture and as scripts/make-fixtures.mjs', (name) => {
  const dir = path.join(base, 'cli', name);
  expect(run(['fixture', name, dir])).toEqual({ status: 0, stdout: '', stderr: '' });
  expect(filesAndLinks(dir)).toEqual(filesAndLinks(path.join(REPO, 'fixtures', name)));
  const out = path.join(base, 'script');
  const r = spawnSync(NODE, [path.join(REPO, 'scripts', 'make-fixtures.mjs'), out, name], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  expect(new FakeTree(path.join(out, name)).snapshot()).toEqual(new FakeTree(dir).snapshot());
});

test('errors: unknown template, directory not empty (exit 1); missing arguments (exit 2)', () => {
  expect(run(['fixture', 'nope', path.join(base, 'x')])).toEqual({
    status: 1,
    stdout: '',
    stderr: `Error: Unknown fixture template 'nope' (known: ${templateNames.join(', ')})\n`,
  });
  expect(fs.existsSync(path.join(base, 'x'))).toBe(false);
  const full = path.join(base, 'full');
  fs.mkdirSync(full);
  fs.writeFileSync(path.join(full, 'keep'), 'mine');
  expect(run(['fixture', 'gvt', full])).toEqual({
    status: 1,
    stdout: '',
    stderr: `Error: Refusing to create a fixture in ${full}: the directory is not empty\n`,
  });
  expect(fs.readdirSync(full)).toEqual(['keep']);
  const r = run(['fixture', 'gvt']);
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/^error: the following required arguments were not provided:\n {2}<DIR>\n/);
});
