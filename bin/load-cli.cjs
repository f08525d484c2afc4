'use strict';
// Loads the bundled CLI (dist/cli.cjs) for bin/mdevctl and bin/lsmdev with a V8 code cache, so
// start-up skips compiling the bundle and the functions a listing runs:
//
// 1. dist/cli.cjs.cache, made when the package was built (scripts/code-cache.cjs), used when it
//    belongs to this build and this Node (its first line names both) and V8 accepts it.
// 2. Otherwise (the package built by another Node, or Node upgraded under an installed package):
//    a cache of our own for this Node, in the cache directory (see cacheDirs): read from the first
//    directory that has one; when none has (or V8 refuses it), made at exit and written
//    atomically into the first directory that can take it; when none can, nothing is written.
//    Any failure here only costs the compile time: the CLI runs the same.
// See README, Performance.
const fs = require('node:fs');
const path = require('node:path');

// plain string joins on the start-up path: __dirname is absolute and normalized
const FILE = `${path.dirname(__dirname)}/dist/cli.cjs`;
const CACHE_NAME = 'cli.cjs';

/** The last line of the bundle names the build (scripts/build.mjs). */
function buildLine(text) {
  const end = text.lastIndexOf('\n', text.length - 2);
  return text.slice(end + 1).trim();
}

/** The first line of a cache file: the build and the Node it was made for. */
function cacheHeader(source) {
  return `${buildLine(source)} node ${process.version} ${process.arch}`;
}

function compile(source, cachedData) {
  const vm = require('node:vm');
  return new vm.Script(require('node:module').wrap(source), { filename: FILE, cachedData });
}

function run(script) {
  const mod = { exports: {} };
  script.runInThisContext().call(mod.exports, mod.exports, require, mod, FILE, path.dirname(FILE));
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
    if (fs.readSync(fd, head, 0, head.length, 0) !== head.length || head[header.length] !== 10 ||
      head.toString('latin1', 0, header.length) !== header) return undefined;
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
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME
    : env.HOME && path.isAbsolute(env.HOME) ? path.join(env.HOME, '.cache') : undefined;
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

function loadCli() {
  const source = fs.readFileSync(FILE, 'utf8');
  const header = cacheHeader(source);
  const built = readCache(`${FILE}.cache`, header);
  if (built) {
    const script = compile(source, built);
    if (!script.cachedDataRejected) return run(script);
  }
  // a cache of our own, for this Node
  const name = `${CACHE_NAME}-${process.version}-${process.arch}.cache`;
  const dirs = cacheDirs();
  let data;
  for (const { dir } of dirs) {
    const file = `${dir}/${name}`;
    if ((data = readCache(file, header)) && trusted(dir)) break;
    data = undefined;
  }
  const script = compile(source, data);
  if (!data || script.cachedDataRejected) {
    // made at exit, so the functions this command ran are in it too
    process.once('exit', () => {
      let bytes;
      try {
        bytes = cacheBytes(script, header);
      } catch {
        return;
      }
      writeCache(dirs, name, bytes);
    });
  }
  return run(script);
}

module.exports = { loadCli, compile, run, buildLine, cacheHeader, cacheBytes, cacheDirs, writeCache, FILE };
