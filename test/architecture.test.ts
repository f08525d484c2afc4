/**
 * The layout of src/ as a rule (issue 23, src/lib/README.md): every source file belongs to a
 * layer, an import goes to the same folder or to a lower layer, never up nor sideways between
 * peers, and the import graph has no circle. Type-only imports and lazy require()/import() count
 * like any other: a circle through types is still a circle for a reader.
 *
 * The layers, top to bottom (a file may import its own folder and anything below its layer):
 *
 *   cli        src/cli/**                   the command line: parsing, output, ending a run
 *   api        src/index.ts, src/lib/api.ts the library's public face
 *   vgpu       src/lib/vgpu/**              NVIDIA vendor-VFIO vGPUs: their sysfs, store and verbs
 *   ops        src/lib/ops/**               the mdev verbs with their context, plan and monitor
 *   kernel | store | callouts               peers, none imports another:
 *              src/lib/kernel/**            sysfs (real and simulated), fixtures, vendor detection
 *              src/lib/store/**             definitions on disk: store, journal, lock, atomic files,
 *                                           the JSON files a user hands in
 *              src/lib/callouts/**          callout and notifier scripts
 *   model      src/lib/model/**             MDev, the device map, formatting, validation, UUIDs,
 *                                           ordering, JSON text
 *   util       src/lib/util/**              generic: errors, log, root, terminal, the file reader
 *                                           and its native addon
 */
import fs = require('node:fs');
import path = require('node:path');
import { addonPath } from '../src/lib/util/native';

const SRC = path.join(__dirname, '..', 'src');

/** Layer of a file (path relative to src/, with '/'), or null when it has none. */
const LAYERS: { name: string; rank: number; owns: (rel: string) => boolean }[] = [
  { name: 'cli', rank: 6, owns: (f) => f.startsWith('cli/') },
  { name: 'api', rank: 5, owns: (f) => f === 'index.ts' || f === 'lib/api.ts' },
  { name: 'vgpu', rank: 4, owns: (f) => f.startsWith('lib/vgpu/') },
  { name: 'ops', rank: 3, owns: (f) => f.startsWith('lib/ops/') },
  { name: 'kernel', rank: 2, owns: (f) => f.startsWith('lib/kernel/') },
  { name: 'store', rank: 2, owns: (f) => f.startsWith('lib/store/') },
  { name: 'callouts', rank: 2, owns: (f) => f.startsWith('lib/callouts/') },
  { name: 'model', rank: 1, owns: (f) => f.startsWith('lib/model/') },
  { name: 'util', rank: 0, owns: (f) => f.startsWith('lib/util/') },
];

function layerOf(file: string): { name: string; rank: number } | null {
  return LAYERS.find((l) => l.owns(file)) ?? null;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, ent.name);
    if (ent.isDirectory()) out.push(...sourceFiles(p));
    else if (ent.name.endsWith('.ts')) out.push(p);
  }
  return out.sort();
}

const rel = (abs: string): string => path.relative(SRC, abs).split(path.sep).join('/');

/**
 * The relative modules FILE's text imports: `import … from`, `export … from`, `import '…'`,
 * `import x = require('…')`, `require('…')` and `import('…')` (also inside `typeof import(…)`).
 * Comments are left out first so a path in prose is not an import.
 */
export function importsOf(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const specs: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*|\brequire\s*\(\s*|\bimport\s*\(\s*)(['"])(\.{1,2}\/[^'"]*|\.{1,2})\1/g;
  for (let m = re.exec(code); m !== null; m = re.exec(code)) specs.push(m[2]);
  return specs;
}

function resolve(from: string, spec: string): string {
  const base = path.resolve(path.dirname(from), spec);
  for (const c of [`${base}.ts`, path.join(base, 'index.ts')]) if (fs.existsSync(c)) return c;
  throw new Error(`${rel(from)}: cannot resolve '${spec}'`);
}

type Graph = Map<string, string[]>;

function importGraph(): Graph {
  const g: Graph = new Map();
  for (const file of sourceFiles(SRC)) {
    const targets = importsOf(fs.readFileSync(file, 'utf8')).map((s) => rel(resolve(file, s)));
    g.set(rel(file), [...new Set(targets)].sort());
  }
  return g;
}

/** Each circle as its files in order (strongly connected components of more than one file, or a self-import). */
export function circles(g: Graph): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of g.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) {
        low.set(v, Math.min(low.get(v)!, idx.get(w)!));
      }
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (g.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of [...g.keys()].sort()) if (!idx.has(v)) visit(v);
  return out;
}

/** Every import that goes up a layer or sideways to a peer folder, as "from -> to (why)". */
export function badArrows(g: Graph): string[] {
  const out: string[] = [];
  for (const [from, tos] of g) {
    const lf = layerOf(from);
    for (const to of tos) {
      const lt = layerOf(to);
      if (!lf || !lt) continue; // reported by the "every file has a layer" test
      if (lt.rank > lf.rank) out.push(`${from} -> ${to} (${lf.name} imports ${lt.name}, a higher layer)`);
      else if (lt.rank === lf.rank && lt.name !== lf.name) out.push(`${from} -> ${to} (${lf.name} imports its peer ${lt.name})`);
    }
  }
  return out.sort();
}

describe('the import graph of src/', () => {
  const g = importGraph();

  test('is read: the files and imports the layout is about are there', () => {
    // a guard against a parser that finds nothing (and so nothing wrong)
    expect(g.get('lib/store/store.ts')).toEqual(expect.arrayContaining(['lib/store/journal.ts', 'lib/store/atomic-file.ts', 'lib/model/device-map.ts']));
    expect(g.get('lib/store/journal.ts')).toEqual(expect.arrayContaining(['lib/store/atomic-file.ts']));
    expect(g.get('lib/callouts/runner.ts')).toEqual(expect.arrayContaining(['lib/callouts/callouts.ts']));
    expect(g.get('lib/ops/context.ts')).toEqual(expect.arrayContaining(['lib/ops/plan.ts', 'lib/kernel/simulated-kernel.ts']));
    expect(g.get('cli/main.ts')).toEqual(expect.arrayContaining(['cli/commander-program.ts']));
    expect(g.size).toBeGreaterThan(80);
  });

  test('every source file belongs to a layer', () => {
    expect([...g.keys()].filter((f) => layerOf(f) === null)).toEqual([]);
  });

  test('has no circle', () => {
    expect(circles(g)).toEqual([]);
  });

  test('has no upward or sideways import', () => {
    expect(badArrows(g)).toEqual([]);
  });

  test('every folder of src/lib says what it owns and what it may import', () => {
    for (const dir of ['util', 'model', 'kernel', 'store', 'callouts', 'ops', 'vgpu']) {
      const readme = path.join(SRC, 'lib', dir, 'README.md');
      const front = fs.existsSync(readme) ? fs.readFileSync(readme, 'utf8') : fs.readFileSync(path.join(SRC, 'lib', dir, 'index.ts'), 'utf8');
      expect({ dir, owns: /Owns:/.test(front), mayImport: /May import:/.test(front) }).toEqual({ dir, owns: true, mayImport: true });
    }
  });
});

test("run from the sources, the native addon is still looked for in the build's dist/ (a path that counts folders)", () => {
  expect(addonPath()).toBe(path.join(SRC, '..', 'dist', 'fastio.node'));
});

describe('the checks themselves', () => {
  test('find imports of every form and skip comments', () => {
    const text = [
      "import { a } from './a';",
      "import type { B } from '../b';",
      "export { c } from './c';",
      "import './d';",
      "import e = require('./e');",
      "const f = require('./f') as typeof import('./g');",
      "import x from 'node:fs';",
      "// import { no } from './comment';",
      "/* require('./block') */",
      "import { h } from '.';",
    ].join('\n');
    expect(importsOf(text)).toEqual(['./a', '../b', './c', './d', './e', './f', './g', '.']);
  });

  test('find a circle and an upward or sideways import', () => {
    const g: Graph = new Map([
      ['lib/store/store.ts', ['lib/store/journal.ts']],
      ['lib/store/journal.ts', ['lib/store/store.ts', 'lib/kernel/sysfs.ts']],
      ['lib/kernel/sysfs.ts', []],
      ['lib/model/device.ts', ['lib/ops/context.ts']],
      ['lib/ops/context.ts', ['lib/model/device.ts']],
    ]);
    expect(circles(g)).toEqual([
      ['lib/model/device.ts', 'lib/ops/context.ts'],
      ['lib/store/journal.ts', 'lib/store/store.ts'],
    ]);
    expect(badArrows(g)).toEqual([
      'lib/model/device.ts -> lib/ops/context.ts (model imports ops, a higher layer)',
      'lib/store/journal.ts -> lib/kernel/sysfs.ts (store imports its peer kernel)',
    ]);
  });
});
