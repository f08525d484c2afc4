// Bundles the CLI and the library API into single CommonJS files under dist/, and writes the
// library's type declarations to dist/types (tsc, declarations only).
// One file per entry keeps start-up to one module load (see the performance issue), and the
// bundles carry their dependencies, so the installed package needs nothing else at run time.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { rmSync } from 'node:fs';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
};

function declarations() {
  rmSync('dist/types', { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`tsc (declarations) failed with status ${r.status}`);
}

await Promise.all([
  build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.cjs' }),
  build({ ...common, entryPoints: ['src/index.ts'], outfile: 'dist/index.cjs' }),
]);
declarations();
