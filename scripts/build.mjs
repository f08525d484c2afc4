// Bundles the CLI and the library API into single CommonJS files under dist/, and writes the
// library's type declarations to dist/types (tsc, declarations only).
// One file per entry keeps start-up to one module load (see the performance issue), minified to
// cut parse time, and the bundles carry their dependencies, so the installed package needs
// nothing else at run time. Built-in modules that only some commands use (child_process:
// commander's executable sub-commands and the callout scripts; crypto: UUID generation) are bound
// lazily: each import gets a stand-in whose properties load the real module on first use, so
// `list` and `--version` never pay for them. Profile with `node --cpu-prof bin/mdevctl ...`;
// measure with `npm run bench` (README, Performance).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const LAZY_BUILTINS = ['child_process', 'crypto'];

const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    const filter = new RegExp(`^(node:)?(${LAZY_BUILTINS.join('|')})$`);
    b.onResolve({ filter }, (args) => {
      const name = args.path.replace(/^node:/, '');
      // the stand-in's own require is the real module
      if (args.namespace === 'lazy-builtin') return { path: `node:${name}`, external: true };
      return { path: name, namespace: 'lazy-builtin' };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => {
      const keys = Object.keys(require(`node:${args.path}`));
      return {
        loader: 'js',
        contents:
          `let real;\nconst load = () => (real ??= require('node:${args.path}'));\n` +
          `for (const k of ${JSON.stringify(keys)}) Object.defineProperty(exports, k, { enumerable: true, get: () => load()[k] });\n`,
      };
    });
  },
};

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: process.env.MDEVCTL_BUILD_MINIFY !== '0', // MDEVCTL_BUILD_MINIFY=0: readable names for --cpu-prof
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [lazyBuiltins],
};

function declarations() {
  rmSync('dist/types', { recursive: true, force: true });
  const tsc = require.resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`tsc (declarations) failed with status ${r.status}`);
}

// The CLI bundle ends with a line naming this build; bin/load-cli.cjs uses the code cache only
// with the build that made it.
const buildId = `// mdevctl-ts build ${Date.now().toString(36)}.${randomBytes(6).toString('hex')}`;

await Promise.all([
  build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.cjs', footer: { js: buildId } }),
  build({ ...common, entryPoints: ['src/index.ts'], outfile: 'dist/index.cjs' }),
]);
declarations();

/**
 * dist/cli.cjs.cache: V8's code cache for the CLI bundle (scripts/code-cache.cjs), made by the Node
 * that builds, or by MDEVCTL_CACHE_NODE (a path) when set: the Node the package will run on. Any
 * other Node ignores it (bin/load-cli.cjs then keeps a cache of its own). Never fails the build.
 */
function codeCache() {
  const node = process.env.MDEVCTL_CACHE_NODE || process.execPath;
  const r = spawnSync(node, ['scripts/code-cache.cjs'], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync('dist/cli.cjs.cache', { force: true });
    const why = r.error ? r.error.message : (r.stderr || `status ${r.status}`).trim().split('\n')[0];
    process.stderr.write(`build: no code cache (${why})\n`);
  }
}

codeCache();
