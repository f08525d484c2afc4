#!/usr/bin/env node
// Regenerates the fixture roots under fixtures/ (fake sysfs + mdevctl config trees; see
// fixtures/README.md). The templates and the builder live in src/lib/kernel/fixtures.ts, so the CLI's
// `mdevctl fixture TEMPLATE DIR` makes the same trees; this wrapper uses the built library
// (dist/index.cjs: `npm run build`, which `npm ci` runs too).
//
//   node scripts/make-fixtures.mjs [OUTDIR] [NAME...]   (re)create OUTDIR/NAME for each template
//                                                        (default OUTDIR fixtures/, all templates)
//   node scripts/make-fixtures.mjs --list               print the template names, one a line
//
// As a module: `makeFixture(name, destDir)` creates one fixture root at destDir (which must be
// absent or empty) and `templateNames` lists the templates.
//
// Git cannot hold empty directories, so the committed copy under fixtures/ lacks the empty ones
// the generator makes (the callout/notifier dirs, `devices/` of types with no running device,
// `sys/class/mdev_bus/` of the `empty` fixture, ...). Tests should generate fresh copies.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, '..', 'dist', 'index.cjs');
if (!fs.existsSync(dist)) {
  process.stderr.write(`make-fixtures: ${dist} is missing: run \`npm run build\` first\n`);
  process.exit(1);
}
const lib = createRequire(import.meta.url)(dist);

export const templateNames = lib.templateNames;
export const makeFixture = lib.makeFixture;

function main(argv) {
  if (argv[0] === '--list') {
    process.stdout.write(templateNames.map((n) => `${n}\n`).join(''));
    return;
  }
  if (argv[0] === '-h' || argv[0] === '--help') {
    process.stdout.write('usage: node scripts/make-fixtures.mjs [OUTDIR] [NAME...] | --list\n');
    return;
  }
  const outDir = argv[0] ?? path.join(here, '..', 'fixtures');
  const names = argv.length > 1 ? argv.slice(1) : templateNames;
  for (const n of names) {
    if (!templateNames.includes(n)) throw new Error(`unknown fixture template '${n}' (known: ${templateNames.join(', ')})`);
  }
  fs.mkdirSync(outDir, { recursive: true });
  for (const n of names) {
    const dest = path.join(outDir, n);
    fs.rmSync(dest, { recursive: true, force: true });
    makeFixture(n, dest);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`make-fixtures: ${e.message}\n`);
    process.exit(1);
  }
}
