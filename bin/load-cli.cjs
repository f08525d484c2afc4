'use strict';
// Loads the bundled CLI for bin/mdevctl and bin/lsmdev, each file with a V8 code cache, so
// start-up skips compiling what it runs. The CLI is two CommonJS files in dist/
// (scripts/build.mjs): cli.cjs (the fast path for `list`, `types` and `--version`, and what every
// verb uses) and cli-on-demand.cjs (the full command-line parser, the other verbs, dry runs,
// colour...: required only by a command line that needs them). Each file is compiled with:
//
// 1. its cache beside it (dist/NAME.cache), made when the package was built
//    (scripts/code-cache.cjs), used when it belongs to this build and this Node (its first line
//    names both) and V8 accepts it.
// 2. Otherwise (the package built by another Node, or Node upgraded under an installed package):
//    a cache of our own for this Node, in the cache directory (see cacheDirs): read from the first
//    directory that has one; when none has (or V8 refuses it), made at exit and written
//    atomically into the first directory that can take it; when none can, nothing is written.
//    Any failure here only costs the compile time: the CLI runs the same.
// See docs/performance.md.
const fs = require('node:fs');
const path = require('node:path');

/** The oldest Node the CLI runs on (package.json's engines says the same): [major, minor]. */
const MIN_NODE = [18, 19];

/**
 * Is this Node too old? Then say in one line which Node the CLI needs and which it found, and
 * end with status 1, before anything of the CLI is loaded (an older Node would run part of it,
 * or fail on the way with a message that says nothing of the reason). This file keeps to syntax
 * any Node from 10 on parses, so that the line is reached.
 */
function checkNode(name) {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1])) return;
  process.stderr.write(`${name}: needs Node.js ${MIN_NODE.join('.')} or later; this is Node.js ${process.version} (${process.execPath})\n`);
  process.exit(1);
}

// plain string joins on the start-up path: __dirname is absolute and normalized
const DIST = `${path.dirname(__dirname)}/dist`;
const FILE = `${DIST}/cli.cjs`;

/** Is SPEC, as a CLI file requires it, another file of the CLI (`./cli-on-demand.cjs`)? */
const cliFile = (spec) => spec.startsWith('./cli') && spec.endsWith('.cjs') && !spec.includes('/', 2);

/** The last line of a CLI file names the build (scripts/build.mjs). */
function buildLine(text) {
  const end = text.lastIndexOf('\n', text.length - 2);
  return text.slice(end + 1).trim();
}

/** The first line of a cache file: the build and the Node it was made for. */
function cacheHeader(source) {
  return `${buildLine(source)} node ${process.version} ${process.arch}`;
}

/**
 * SOURCE as Node wraps a CommonJS module (require('node:module').wrap, whose text this is: the
 * same function, so the same code cache). Not that module itself: on Node 18 loading it (and the
 * source-map code it loads) costs about 2 ms at every start.
 */
const wrap = (source) => `(function (exports, require, module, __filename, __dirname) { ${source}\n});`;

function compile(source, cachedData, file = FILE) {
  const vm = require('node:vm');
  return new vm.Script(wrap(source), { filename: file, cachedData });
}

/** Run SCRIPT as the CommonJS module MOD of FILE, its requires of CLI files going to LOAD. */
function run(script, file, mod, load) {
  const req = (spec) => (cliFile(spec) ? load(spec.slice(2)) : require(spec));
  script.runInThisContext().call(mod.exports, mod.exports, req, mod, file, path.dirname(file));
  return mod.exports;
}

/**
 * The cache data of FILE if its first line is HEADER, else undefined. The header is checked on
 * the first block before the rest is read: under another Node the build's cache is not for us,
 * and reading it all would be a quarter megabyte for nothing at every start.
 */
function readCache(file, header) {
  let fd;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const head = Buffer.allocUnsafe(header.length + 1);
    if (fs.readSync(fd, head, 0, head.length, 0) !== head.length || head[header.length] !== 10 || head.toString('latin1', 0, header.length) !== header)
      return undefined;
    const size = fs.fstatSync(fd).size - head.length;
    const data = Buffer.allocUnsafe(Math.max(size, 0));
    let n = 0;
    while (n < data.length) {
      const r = fs.readSync(fd, data, n, data.length - n, head.length + n);
      if (r === 0) break;
      n += r;
    }
    return n === data.length ? data : undefined;
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/** HEADER and the cache data of SCRIPT, for a cache file. */
function cacheBytes(script, header) {
  return Buffer.concat([Buffer.from(`${header}\n`, 'latin1'), script.createCachedData()]);
}

/**
 * Where a cache for this Node is kept: NODE_COMPILE_CACHE when the user set it (Node's own
 * compile cache setting; nothing else then), else /var/cache/mdevctl-ts (a system tool's cache,
 * shared by every user once root has run it), then the user's cache directory
 * ($XDG_CACHE_HOME or ~/.cache, /mdevctl-ts). Each entry: the directory, and whether its parent
 * must already exist (we make only the last component, except for NODE_COMPILE_CACHE, which
 * Node would create whole too).
 */
function cacheDirs(env = process.env) {
  if (env.NODE_COMPILE_CACHE) return [{ dir: path.resolve(env.NODE_COMPILE_CACHE, 'mdevctl-ts'), parents: true }];
  const dirs = [{ dir: '/var/cache/mdevctl-ts', parents: false }];
  const base =
    env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME)
      ? env.XDG_CACHE_HOME
      : env.HOME && path.isAbsolute(env.HOME)
        ? path.join(env.HOME, '.cache')
        : undefined;
  if (base) dirs.push({ dir: path.join(base, 'mdevctl-ts'), parents: false });
  return dirs;
}

/** A directory we may load code from: owned by root or by us, writable by no one else. */
function trusted(dir) {
  try {
    const st = fs.statSync(dir);
    const uid = typeof process.geteuid === 'function' ? process.geteuid() : 0;
    return st.isDirectory() && (st.uid === 0 || st.uid === uid) && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/** Write DATA as NAME into the first of DIRS that takes it (temp file + rename); never throws. */
function writeCache(dirs, name, data) {
  for (const { dir, parents } of dirs) {
    const tmp = path.join(dir, `.${name}.${process.pid}.tmp`);
    try {
      try {
        fs.mkdirSync(dir, { recursive: parents, mode: 0o755 });
      } catch (e) {
        if (e.code !== 'EEXIST') continue;
      }
      if (!trusted(dir)) continue;
      fs.writeFileSync(tmp, data, { flag: 'wx', mode: 0o644 });
      fs.renameSync(tmp, path.join(dir, name));
      return path.join(dir, name);
    } catch {
      try {
        fs.unlinkSync(tmp);
      } catch {
        // not there
      }
    }
  }
  return undefined;
}

/** The name of this Node's own cache of the CLI file NAME, in a cache directory. */
const ownCacheName = (name) => `${name}-${process.version}-${process.arch}.cache`;

/**
 * A loader of the CLI's files: load(NAME) compiles and runs dist/NAME once (a CLI file it
 * requires is loaded the same way) and returns its exports; `loaded` maps each loaded NAME to
 * its path, cache header, script and module. With CACHES false it compiles without any cache and
 * writes none (scripts/code-cache.cjs makes the build's caches from the scripts).
 */
function createLoader({ caches = true } = {}) {
  const loaded = new Map();
  let dirs;
  const load = (name) => {
    const known = loaded.get(name);
    if (known) return known.mod.exports;
    const file = `${DIST}/${name}`;
    const source = fs.readFileSync(file, 'utf8');
    const header = cacheHeader(source);
    let script;
    let own = false;
    if (caches) {
      const built = readCache(`${file}.cache`, header);
      if (built) {
        script = compile(source, built, file);
        if (script.cachedDataRejected) script = undefined;
      }
      if (!script) {
        // a cache of our own, for this Node
        if (!dirs) {
          dirs = cacheDirs();
          // made at exit, so the functions this command ran are in it too
          process.once('exit', () => {
            for (const [n, f] of loaded) {
              if (!f.own) continue;
              let bytes;
              try {
                bytes = cacheBytes(f.script, f.header);
              } catch {
                continue;
              }
              writeCache(dirs, ownCacheName(n), bytes);
            }
          });
        }
        let data;
        for (const { dir } of dirs) {
          if ((data = readCache(`${dir}/${ownCacheName(name)}`, header)) && trusted(dir)) break;
          data = undefined;
        }
        script = compile(source, data, file);
        own = !data || script.cachedDataRejected;
      }
    } else {
      script = compile(source, undefined, file);
    }
    // registered before it runs, as Node does: a file that requires it back gets its exports so far
    const mod = { exports: {} };
    loaded.set(name, { file, header, script, mod, own });
    return run(script, file, mod, load);
  };
  return { load, loaded };
}

/** The CLI's main module, for the launcher NAME (bin/mdevctl, bin/lsmdev), on a Node it runs on. */
function loadCli(name = 'mdevctl') {
  checkNode(name);
  return createLoader().load('cli.cjs');
}

module.exports = { loadCli, createLoader, MIN_NODE, compile, buildLine, cacheHeader, cacheBytes, cacheDirs, writeCache, FILE, DIST };
