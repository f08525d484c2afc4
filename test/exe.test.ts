/**
 * Where Bun, the one-file executable's runtime (`npm run build:exe`, src/cli/exe.ts), differs from
 * Node in what the CLI relies on, shown with both runtimes on the same input: what the executable
 * works around, and what it leaves in the engine's words. The Bun used is the one the build uses
 * (@oven/bun-linux-x64-baseline, packaging/exe's optional dependency, installed by npm on Linux x86-64).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { prerequisites } from './support/prerequisites';
import { REPO } from './support/cli';

const BUN = path.join(REPO, 'node_modules', '@oven', 'bun-linux-x64-baseline', 'bin', 'bun');
const skip = prerequisites('exe.test.ts', { files: [BUN] }, "npm install on Linux x86-64 installs it (packaging/exe's optional dependency)");

/** CODE run by Node and by Bun: what each printed. */
function both(code: string): { node: string; bun: string } {
  const out = (cmd: string) => {
    const r = spawnSync(cmd, ['-e', code], { encoding: 'utf8', timeout: 20000 });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    return r.stdout;
  };
  return { node: out(process.execPath), bun: out(BUN) };
}

(skip ? describe.skip : describe)('Bun against Node', () => {
  test("fs.readdirSync: Node gives names in byte order, Bun in the directory's order (the executable sorts them)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mdevctl-exe-'));
    try {
      const names = Array.from({ length: 64 }, (_, i) => `n${((i * 37) % 64).toString().padStart(2, '0')}`);
      for (const n of names) fs.writeFileSync(path.join(dir, n), '');
      const code = `console.log(JSON.stringify(require('fs').readdirSync(${JSON.stringify(dir)})))`;
      const { node, bun } = both(code);
      const sorted = [...names].sort();
      expect(JSON.parse(node)).toEqual(sorted);
      const got = JSON.parse(bun) as string[];
      expect([...got].sort()).toEqual(sorted);
      expect(got).not.toEqual(sorted); // 64 names in hash order are not sorted by chance
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("JSON.parse's syntax errors: each engine its own words (the executable gives V8's for input that ends too soon)", () => {
    const code = `for (const t of ['', 'mdev_type:\\n x\\n', '{"mdev_type": "x",\\n']) try { JSON.parse(t) } catch (e) { console.log(e.message.split('\\n').join('\\\\n')) }`;
    const { node, bun } = both(code);
    const lines = node.split('\n');
    // V8's words: the same for input that ends too soon on every Node line we run on (18, 20, 24);
    // the others changed with Node 20 (V8 10.9): Node 18 says "Unexpected token m in JSON at
    // position 0" and, for the open object, that the input ended; Node 24 adds the line and column
    expect(lines[0]).toBe('Unexpected end of JSON input');
    expect(lines[1]).toMatch(/^Unexpected token (m in JSON at position 0|'m', "mdev_type:\\n x\\n" is not valid JSON)$/);
    expect(lines[2]).toMatch(/^(Unexpected end of JSON input|Expected double-quoted property name in JSON at position 19( \(line 2 column 1\))?)$/);
    expect(bun).toBe(
      'JSON Parse error: Unexpected EOF\nJSON Parse error: Unexpected identifier "mdev_type"\nJSON Parse error: Property name must be a string literal\n',
    );
  });
});
