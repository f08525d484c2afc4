// Bundles the CLI into two CommonJS files and the library API into one under dist/, and writes
// the library's type declarations to dist/types (tsc, declarations only).
// The CLI is split so start-up compiles only what the command line needs (buildCli below); the
// bundles are minified to cut parse time and carry their dependencies, so the installed package
// needs nothing else at run time. Built-in modules that only some commands use are bound lazily
// (scripts/lib/esbuild-common.mjs, shared with the executable's build), so `list` and `--version`
// never pay for them. An ES module's imports are hoisted into its bundle's
// first lines even when the module itself is initialised on demand, so the build refuses a CLI
// file that requires any other built-in there (eagerBuiltins). Profile with
// `node --cpu-prof bin/mdevctl ...`; measure with `npm run bench` (docs/performance.md).
import { build } from 'esbuild';
import { common, lazyBuiltins } from './lib/esbuild-common.mjs';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, relative, sep } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function declarations() {
  rmSync('dist/types', { recursive: true, force: true });
  const tsc = require.resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`tsc (declarations) failed with status ${r.status}`);
}

// The CLI bundle ends with a line naming this build; bin/load-cli.cjs uses the code cache only
// with the build that made it.
const buildId = `// mdevctl-ts build ${Date.now().toString(36)}.${randomBytes(6).toString('hex')}`;

/** A module's path as the build names it: relative to the checkout, with forward slashes. */
const keyOf = (file) => relative(process.cwd(), file).split(sep).join('/');
const underSrc = (file) => keyOf(file).startsWith('src/');

/**
 * The modules our sources load with require() instead of import: the ones only some command
 * lines need (the full parser with commander and the verbs, the dry run's recorder, the simulated
 * kernel, colour, UUID generation, the fixture writer). Found in a plain bundle of the CLI: every
 * require() whose importer is under src/ and whose target is bundled (not a built-in, nor its
 * stand-in).
 */
async function onDemandModules() {
  const r = await build({ ...common, entryPoints: ['src/cli/main.ts'], write: false, metafile: true, outfile: 'dist/cli.probe.cjs' });
  const found = new Set();
  for (const [file, input] of Object.entries(r.metafile.inputs)) {
    if (!file.startsWith('src/')) continue;
    for (const i of input.imports) {
      // a path with a namespace (lazy-builtin:tty) is a built-in's stand-in, not a module of ours
      if (i.kind === 'require-call' && !i.external && !/^[a-z-]+:/.test(i.path)) found.add(i.path);
    }
  }
  return [...found].sort();
}

/**
 * The CLI build answers each of our require()s of an on-demand module with a stand-in that asks
 * dist/cli-on-demand.cjs for it, so the module itself is bundled there; that file's entry is made
 * here: one function that gives any of them by name. Our own modules are imported by that entry,
 * so they run when the file loads; a package is required there, so it still runs on its first
 * use (chalk's first lines ask whether fd 1 is a terminal, which loads tty). A require() would
 * make esbuild initialise every module it reaches on demand, the start-up code's too: a call
 * layer for each of them at every start.
 */
function onDemandPlugin(modules) {
  return {
    name: 'on-demand',
    setup(b) {
      b.onResolve({ filter: /.*/ }, async (args) => {
        if (args.kind !== 'require-call' || args.pluginData?.onDemand || args.namespace !== 'file' || !underSrc(args.importer)) return undefined;
        const real = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: { onDemand: true } });
        if (real.errors.length || real.external || !modules.includes(keyOf(real.path))) return undefined;
        return { path: keyOf(real.path), namespace: 'on-demand' };
      });
      b.onLoad({ filter: /.*/, namespace: 'on-demand' }, (args) => ({
        loader: 'js',
        contents: `module.exports = require('./cli-on-demand.cjs').onDemand(${JSON.stringify(args.path)});\n`,
      }));
      b.onResolve({ filter: /^\.\/cli-on-demand\.cjs$/, namespace: 'on-demand' }, (args) => ({ path: args.path, external: true }));
      b.onResolve({ filter: /^on-demand-entry$/ }, () => ({ path: 'on-demand-entry', namespace: 'on-demand-entry' }));
      b.onLoad({ filter: /.*/, namespace: 'on-demand-entry' }, () => {
        const ours = modules.filter(underSrc);
        const imports = ours.map((m, i) => `import * as m${i} from ${JSON.stringify(`./${m}`)};\n`).join('');
        const cases = modules.map(
          (m) => `    case ${JSON.stringify(m)}: return ${underSrc(m) ? `m${ours.indexOf(m)}` : `require(${JSON.stringify(`./${m}`)})`};\n`,
        );
        return {
          loader: 'js',
          resolveDir: process.cwd(),
          contents:
            `${imports}export function onDemand(name) {\n  switch (name) {\n${cases.join('')}  }\n` +
            `  throw new Error(\`no module \${name} in dist/cli-on-demand.cjs\`);\n}\n`,
        };
      });
    },
  };
}

/**
 * The CLI in two CommonJS files, so a command line compiles only what it runs:
 *   dist/cli.cjs            the entry (src/cli/main.ts) with the fast path for `list`, `types` and
 *                           `--version` (what libvirt runs), and every module the other file uses
 *                           too (exported as `cliCommon`)
 *   dist/cli-on-demand.cjs  the on-demand modules (onDemandModules), loaded on the first require()
 *                           of one of them: the full parser and the other verbs, dry runs, colour...
 * A module is in one file only: an error class thrown in one is the one the other checks.
 * esbuild splits only ES modules, into the two entries and a chunk of what both use. So both
 * entries are bundled as ESM with code splitting first; then the start-up entry is bundled again
 * with the chunk into dist/cli.cjs (one file to read and compile at every start), and the
 * on-demand entry into dist/cli-on-demand.cjs with the chunk's imports taken from cli.cjs. Each
 * file ends with the build's line (bin/load-cli.cjs matches code caches to it). Plain Node can
 * require dist/cli.cjs too: the files are ordinary CommonJS. An on-demand module that start-up
 * code also imports would be loaded at every start: the build refuses that.
 */
async function buildCli() {
  const modules = await onDemandModules();
  const split = await build({
    ...common,
    format: 'esm',
    splitting: true,
    write: false,
    metafile: true,
    outdir: 'dist',
    entryPoints: { cli: 'src/cli/main.ts', 'cli-on-demand': 'on-demand-entry' },
    chunkNames: 'chunk-[hash]',
    outExtension: { '.js': '.mjs' },
    plugins: [lazyBuiltins, onDemandPlugin(modules)],
  });
  for (const [out, { inputs }] of Object.entries(split.metafile.outputs)) {
    if (out.endsWith('cli-on-demand.mjs')) continue;
    const eager = modules.filter((m) => m in inputs);
    if (eager.length) throw new Error(`build: ${eager.join(', ')} required on demand but imported by start-up code too`);
  }
  const files = new Map(split.outputFiles.map((f) => [basename(f.path), f.text]));
  const chunks = [...files.keys()].filter((f) => f.startsWith('chunk-'));
  if (chunks.length !== 1) throw new Error(`build: ${chunks.length} shared chunks, expected one`);
  const chunk = `./${chunks[0]}`;
  // the second pass: the split outputs, read from memory
  const rebundle = (entry, onChunk) =>
    build({
      ...common,
      entryPoints: [entry],
      write: false,
      outfile: 'dist/out.cjs',
      plugins: [
        {
          name: 'split-outputs',
          setup(b) {
            b.onResolve({ filter: /^\.\/(cli|chunk-).*\.mjs$|^entry$/ }, (args) =>
              args.path === chunk && onChunk ? { path: 'chunk', namespace: 'chunk-stub' } : { path: args.path, namespace: 'split' },
            );
            b.onLoad({ filter: /.*/, namespace: 'split' }, (args) => ({
              loader: 'js',
              contents: args.path === 'entry' ? `export * from './cli.mjs';\nexport * as cliCommon from '${chunk}';\n` : files.get(args.path.slice(2)),
            }));
            b.onLoad({ filter: /.*/, namespace: 'chunk-stub' }, () => ({ loader: 'js', contents: onChunk }));
            b.onResolve({ filter: /^\.\/cli\.cjs$/, namespace: 'chunk-stub' }, (args) => ({ path: args.path, external: true }));
          },
        },
      ],
    });
  const outputs = await Promise.all([rebundle('entry'), rebundle('./cli-on-demand.mjs', "module.exports = require('./cli.cjs').cliCommon;\n")]);
  for (const [name, r] of [
    ['cli.cjs', outputs[0]],
    ['cli-on-demand.cjs', outputs[1]],
  ]) {
    const code = r.outputFiles[0].text;
    const eager = eagerBuiltins(code);
    if (eager.length) {
      throw new Error(
        `build: dist/${name} requires ${eager.join(', ')} as it loads: bind a built-in with \`import x = require('node:x')\` ` +
          'in our sources; one a package imports goes in LAZY_BUILTINS',
      );
    }
    writeFileSync(`dist/${name}`, `${code}${buildId}\n`);
  }
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

for (const f of ['cli.cjs', 'cli-on-demand.cjs']) rmSync(`dist/${f}`, { force: true });
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
    for (const f of readdirSync('dist')) if (/^cli.*\.cjs\.cache$/.test(f)) rmSync(`dist/${f}`);
    const why = r.error ? r.error.message : (r.stderr || `status ${r.status}`).trim().split('\n')[0];
    process.stderr.write(`build: no code cache (${why})\n`);
  }
}

/**
 * dist/fastio.node: the native batch reader (native/fastio.c; src/lib/util/native.ts loads it), built
 * with the C compiler $CC (default cc) against Node-API's headers (the node-api-headers package),
 * hardened and stripped, with the same bytes for the same inputs (the .deb is reproducible).
 * Node-API is ABI-stable: one build (NAPI_VERSION 8) serves Node 18.19 and every later Node.
 * Without a compiler the build warns and the CLI reads with JavaScript alone (same output, slower
 * on big hosts);
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
    '-std=gnu11',
    '-O2',
    '-g0',
    '-Wall',
    '-Wextra',
    '-Werror',
    '-fPIC',
    '-shared',
    '-fvisibility=hidden',
    '-D_FORTIFY_SOURCE=2',
    '-fstack-protector-strong',
    '-Wl,-z,relro',
    '-Wl,-z,now',
    '-Wl,-z,noexecstack',
    '-s',
    '-I',
    include,
    '-o',
    tmp,
    'native/fastio.c',
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
