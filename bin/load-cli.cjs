'use strict';
// Loads the bundled CLI (dist/cli.cjs) for bin/mdevctl and bin/lsmdev, with V8's code cache for
// it when `npm run build` left one (dist/cli.cjs.cache): start-up then skips compiling the bundle
// and the functions a listing runs (about 5 ms of every run; Node 20 has no
// module.enableCompileCache). The cache is used only with the build that made it (the build id
// the bundle ends with) and only if V8 accepts it (same Node version and flags); otherwise the
// bundle is compiled as usual. See README, Performance.
const fs = require('node:fs');
const path = require('node:path');

const FILE = path.join(__dirname, '..', 'dist', 'cli.cjs');

/** The first line of the cache file names the build; the bundle ends with the same line. */
function buildLine(text) {
  const end = text.lastIndexOf('\n', text.length - 2);
  return text.slice(end + 1).trim();
}

function compile(source, cachedData) {
  const vm = require('node:vm');
  const script = new vm.Script(require('node:module').wrap(source), { filename: FILE, cachedData });
  return script;
}

function run(script) {
  const mod = { exports: {} };
  script.runInThisContext().call(mod.exports, mod.exports, require, mod, FILE, path.dirname(FILE));
  return mod.exports;
}

function loadCli() {
  let cache;
  try {
    cache = fs.readFileSync(`${FILE}.cache`);
  } catch {
    return require(FILE);
  }
  const source = fs.readFileSync(FILE, 'utf8');
  const nl = cache.indexOf(10);
  if (nl < 0 || cache.toString('latin1', 0, nl) !== buildLine(source)) return require(FILE);
  return run(compile(source, cache.subarray(nl + 1)));
}

module.exports = { loadCli, compile, run, buildLine, FILE };
