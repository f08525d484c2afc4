// `npm run build:exe`: the whole CLI as one executable, dist/mdevctl, compiled by Bun, with
// dist/lsmdev a link to it. esbuild bundles src/cli/exe.ts first, as the Node build bundles (the
// same options and lazy built-ins: scripts/lib/esbuild-common.mjs); then `bun build --compile
// --bytecode --minify` of that one CommonJS file. Bun's own bundler would require every built-in
// our modules import at start-up: util and os cost about 1.5 ms of a 10 ms run (docs/executable.md).
// (the executable acts as lsmdev when run by that name, as upstream's does). The native reader
// dist/fastio.node (made by `npm run build`) is loaded from beside the executable when there
// (src/lib/native.ts, setAddonDir); without it the executable reads with JavaScript alone.
//
// Bun: the npm registry's @oven/bun-linux-x64-baseline, pinned in package-lock.json as an optional
// dependency of the workspace packaging/exe (not of the package: its users would get Bun too;
// npm skips it on other systems, and `npm run build:exe` then says so), or MDEVCTL_BUN=PATH.
// The baseline build (x86-64 without AVX2) is what the executable embeds: it runs on every amd64
// host Debian supports (a modern-only build stops with "Illegal instruction" on CPUs and virtual
// CPU models without AVX2), and measured as fast here (README, Performance).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { common } from './lib/esbuild-common.mjs';

const require = createRequire(import.meta.url);
export const BUN_PACKAGE = '@oven/bun-linux-x64-baseline';

function bun() {
  if (process.env.MDEVCTL_BUN) return process.env.MDEVCTL_BUN;
  try {
    return require.resolve(`${BUN_PACKAGE}/bin/bun`);
  } catch {
    process.stderr.write(
      `build-exe: no Bun: ${BUN_PACKAGE} is not installed (npm installs it, as packaging/exe's optional dependency, only on Linux x86-64; ` +
        'or set MDEVCTL_BUN=/path/to/bun)\n',
    );
    process.exit(1);
  }
}

const out = 'dist/mdevctl';
const tmp = `${out}.${process.pid}.tmp`;
const bundle = `dist/exe.${process.pid}.cjs`;
const bunPath = bun();
await build({ ...common, entryPoints: ['src/cli/exe.ts'], outfile: bundle });
const r = spawnSync(bunPath, ['build', '--compile', '--bytecode', '--minify', bundle, '--outfile', tmp], { stdio: ['ignore', 'ignore', 'inherit'] });
rmSync(bundle, { force: true });
if (r.status !== 0) {
  rmSync(tmp, { force: true });
  process.stderr.write(`build-exe: bun build failed (${r.error ? r.error.message : `status ${r.status}`})\n`);
  process.exit(1);
}
renameSync(tmp, out);
rmSync('dist/lsmdev', { force: true });
symlinkSync('mdevctl', 'dist/lsmdev');
if (!existsSync('dist/fastio.node')) process.stderr.write('build-exe: no dist/fastio.node: the executable reads with JavaScript alone\n');
