// Bundles the CLI into three CommonJS files and the library API into one under dist/, and writes
// the library's type declarations to dist/types (tsc, declarations only).
// The CLI is split so start-up compiles only what the command line needs (buildCli below); the
// bundles are minified to cut parse time and carry their dependencies, so the installed package
// needs nothing else at run time. Built-in modules that only some commands use (child_process:
// commander's executable sub-commands and the callout scripts; crypto: UUID generation; tty and
// os: chalk, loaded only for colour) are bound lazily: each import gets a stand-in whose
// properties load the real module on first use, so `list` and `--version` never pay for them
// (tty alone loads net and streams: 3-4 ms). An ES module's imports are hoisted into its bundle's
// first lines even when the module itself is initialised on demand, so the build refuses a CLI
// file that requires any other built-in there (eagerBuiltins). Profile with `node --cpu-prof bin/mdevctl ...`;
// measure with `npm run bench` (README, Performance).
import { build, transform } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const LAZY_BUILTINS = ['child_process', 'crypto', 'tty', 'os'];

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

/** main.ts's require('./lazy-verbs') stays a require, of that entry's bundle. */
const lazyVerbsExternal = {
  name: 'lazy-verbs-external',
  setup(b) {
    b.onResolve({ filter: /^\.\/lazy-verbs$/ }, (args) =>
      args.kind === 'require-call' ? { path: './cli-verbs.cjs', external: true } : undefined);
  },
};

/**
 * The CLI in three CommonJS files, so a command line compiles only what it runs:
 *   dist/cli.cjs          the program, `list` and `types` (src/cli/main.ts): what libvirt runs
 *   dist/cli-verbs.cjs    every other verb (src/cli/lazy-verbs.ts), required by cli.cjs on demand
 *   dist/cli-common.cjs   the modules both use, once (an error class thrown in one is the one the
 *                         other checks)
 * esbuild splits only ES modules: both entries are bundled as ESM with code splitting, then each
 * output is converted to CommonJS on its own (no bundling again), and the one shared chunk gets
 * its fixed name. Each file ends with the build's line (bin/load-cli.cjs matches code caches to
 * it). Plain Node can require dist/cli.cjs too: the files are ordinary CommonJS.
 */
async function buildCli() {
  const r = await build({
    ...common,
    format: 'esm',
    splitting: true,
    write: false,
    outdir: 'dist',
    entryPoints: { cli: 'src/cli/main.ts', 'cli-verbs': 'src/cli/lazy-verbs.ts' },
    chunkNames: 'chunk-[hash]',
    outExtension: { '.js': '.mjs' },
    plugins: [lazyBuiltins, lazyVerbsExternal],
  });
  const chunks = r.outputFiles.filter((f) => basename(f.path).startsWith('chunk-'));
  if (chunks.length > 1) throw new Error(`build: ${chunks.length} shared chunks, expected at most one`);
  const rename = (text) => (chunks.length ? text.replaceAll(`./${basename(chunks[0].path)}`, './cli-common.cjs') : text);
  await Promise.all(r.outputFiles.map(async (f) => {
    const name = chunks.includes(f) ? 'cli-common.cjs' : basename(f.path).replace(/\.mjs$/, '.cjs');
    const out = await transform(rename(f.text), {
      format: 'cjs', platform: 'node', target: common.target, minify: common.minify, legalComments: 'none',
    });
    const eager = eagerBuiltins(out.code);
    if (eager.length) throw new Error(`build: dist/${name} loads ${eager.join(', ')} at start-up: add to LAZY_BUILTINS`);
    writeFileSync(`dist/${name}`, `${out.code}${buildId}\n`);
  }));
}

/**
 * The built-in modules a CLI file requires as it loads, but process (loaded before any script):
 * an ES module's imports become plain require("node:...") calls at the top of the converted file
 * (our own code binds built-ins with `import x = require()`, which the bundle calls through its
 * require helper instead, where the module's code runs).
 */
function eagerBuiltins(code) {
  return [...new Set([...code.matchAll(/\brequire\("(node:[a-z_/]+)"\)/g)].map((m) => m[1]))].filter((m) => m !== 'node:process');
}

rmSync('dist/cli-common.cjs', { force: true });
await Promise.all([buildCli(), build({ ...common, entryPoints: ['src/index.ts'], outfile: 'dist/index.cjs' })]);
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
