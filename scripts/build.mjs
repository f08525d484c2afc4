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
 * dist/cli.cjs.cache: V8's code cache for the CLI bundle, made after running the listing commands
 * once on a tiny tree (so the functions they use are in it too), by the Node that builds. A Node
 * of another version rejects it and compiles as usual. Never fails the build.
 */
function codeCache() {
  const r = spawnSync(process.execPath, ['-e', CACHE_MAKER], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync('dist/cli.cjs.cache', { force: true });
    process.stderr.write(`build: no code cache (${(r.stderr || `status ${r.status}`).trim().split('\n')[0]})\n`);
  }
}

const CACHE_MAKER = `
const fs = require('node:fs'), os = require('node:os'), path = require('node:path');
const { compile, run, buildLine, FILE } = require(path.resolve('bin/load-cli.cjs'));
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mdevctl-cache-'));
try {
  const U = '0b6a8f3e-7d2c-4f1a-9e5b-3c4d5e6f7a8b';
  const w = (f, t) => { fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true }); fs.writeFileSync(path.join(root, f), t); };
  const l = (f, t) => { fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true }); fs.symlinkSync(t, path.join(root, f)); };
  for (const [f, t] of [['available_instances', '1\\n'], ['device_api', 'vfio-pci\\n'], ['name', 'n\\n'], ['description', 'd\\n']]) w('sys/devices/p/mdev_supported_types/t/' + f, t);
  l('sys/class/mdev_bus/p', '../../devices/p');
  l('sys/devices/p/' + U + '/mdev_type', '../mdev_supported_types/t');
  l('sys/bus/mdev/devices/' + U, '../../../devices/p/' + U);
  w('etc/mdevctl.d/p/' + U, JSON.stringify({ mdev_type: 't', start: 'auto', attrs: [{ a: 'b' }] }, null, 2));
  const source = fs.readFileSync(FILE, 'utf8');
  const script = compile(source);
  const cli = run(script);
  for (const args of [['list'], ['list', '-d'], ['list', '-d', '--dumpjson'], ['list', '--dumpjson'], ['types'], ['types', '--dumpjson'], ['list', '-d', '-v']]) {
    cli.main(['--root', root, ...args], 'mdevctl');
    if (process.exitCode) throw new Error('mdevctl ' + args.join(' ') + ' failed while making the cache');
  }
  cli.main(['--version'], 'mdevctl');
  process.exitCode = 0;
  fs.writeFileSync(FILE + '.cache', Buffer.concat([Buffer.from(buildLine(source) + '\\n', 'latin1'), script.createCachedData()]));
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
`;

codeCache();
