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
import { renameSync, rmSync } from 'node:fs';
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

/**
 * dist/fastio.node: the native batch reader (native/fastio.c; src/lib/native.ts loads it), built
 * with the C compiler $CC (default cc) against Node-API's headers (the node-api-headers package),
 * hardened and stripped, with the same bytes for the same inputs (the .deb is reproducible).
 * Node-API is ABI-stable: one build serves Node 20 and every later Node. Without a compiler the
 * build warns and the CLI reads with JavaScript alone (same output, slower on big hosts);
 * MDEVCTL_BUILD_NATIVE=require makes that an error, MDEVCTL_BUILD_NATIVE=off skips the addon.
 */
function nativeAddon() {
  const out = 'dist/fastio.node';
  rmSync(out, { force: true });
  const mode = process.env.MDEVCTL_BUILD_NATIVE;
  if (mode === 'off') return;
  const cc = process.env.CC || 'cc';
  const include = require('node-api-headers').include_dir;
  const tmp = `${out}.${process.pid}.tmp`;
  const args = [
    '-std=gnu11', '-O2', '-g0', '-Wall', '-Wextra', '-Werror', '-fPIC', '-shared', '-fvisibility=hidden',
    '-D_FORTIFY_SOURCE=2', '-fstack-protector-strong', '-Wl,-z,relro', '-Wl,-z,now', '-Wl,-z,noexecstack', '-s',
    '-I', include, '-o', tmp, 'native/fastio.c',
  ];
  const r = spawnSync(cc, args, { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
  if (r.status === 0) {
    renameSync(tmp, out);
    return;
  }
  rmSync(tmp, { force: true });
  const why = r.error ? r.error.message : `${cc} failed with status ${r.status}: ${(r.stderr || '').trim()}`;
  if (mode === 'require') throw new Error(`build: native reader not built (${why})`);
  process.stderr.write(`build: warning: no native reader, the CLI reads with JavaScript alone (${why})\n`);
}

nativeAddon();
codeCache();
