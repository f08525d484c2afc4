// What every esbuild bundle of ours shares: the options, and the lazy binding of the built-in
// modules only some commands use. Used by scripts/build.mjs (the Node build: dist/cli.cjs,
// dist/cli-on-demand.cjs, dist/index.cjs) and scripts/build-exe.mjs (the one bundle Bun compiles
// into dist/mdevctl).
//
// Built-ins that only some commands use (child_process: commander's executable sub-commands and
// the callout scripts; crypto: UUID generation; tty and os: chalk, loaded only for colour; util:
// the rare errno names) are bound lazily: each import gets a stand-in whose properties load the
// real module on first use, so `list` and `--version` never pay for them. Under Node, tty alone
// loads net and streams (3-4 ms); under Bun's compiled executable the first require of util costs
// about 1.5 ms and of tty about 6 ms (docs/executable.md).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const LAZY_BUILTINS = ['child_process', 'crypto', 'tty', 'os', 'util'];

export const lazyBuiltins = {
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

export const common = {
  bundle: true,
  platform: 'node',
  target: 'node18',
  format: 'cjs',
  minify: process.env.MDEVCTL_BUILD_MINIFY !== '0', // MDEVCTL_BUILD_MINIFY=0: readable names for --cpu-prof
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [lazyBuiltins],
};
