/**
 * The native batch reader (native/fastio.c, built to dist/fastio.node by scripts/build.mjs):
 * reads many files, links or directories, under many directories, in one call, across threads
 * when the batch is big; and it ends the CLI's process (exitNow, for src/cli/exit.ts). Loaded on
 * first use. Used by src/lib/util/fastfs.ts for reading; when it cannot be loaded
 * (not built: no C compiler at build time; another CPU architecture; a Node without Node-API 8)
 * the JavaScript readers there do the same work, a little slower.
 *
 * MDEVCTL_NATIVE=off reads without it (the tests run both ways); MDEVCTL_NATIVE=require makes a
 * failure to load it an error instead of a silent fallback (the tests use it to prove the build
 * ships a working addon). MDEVCTL_NATIVE_THREADS: see nativeThreads. Neither changes how a run
 * ends (addonForExit).
 */
import path = require('node:path');
import { MdevctlError } from './errors';

/** The addon's exports: name i is under dirs[dirOf[i]]; THREADS 0: as many as pay (see fastio.c). */
export interface FastIo {
  /** Text of each file, or its positive errno (-1: not a regular file, with REGULAR_ONLY). */
  readFilesAt(dirs: string[], dirOf: Uint32Array, names: string[], threads: number, regularOnly: boolean): Array<string | number>;
  /** Target of each link, or its positive errno. */
  readLinksAt(dirs: string[], dirOf: Uint32Array, names: string[], threads: number): Array<string | number>;
  /** 0 for each name that exists (links followed), else its positive errno. */
  accessAt(dirs: string[], dirOf: Uint32Array, names: string[], threads: number): number[];
  /** The entries of each directory (but . and ..) with their d_type, or its positive errno. */
  listDirs(dirs: string[], threads: number): Array<{ names: string[]; types: Uint8Array } | number>;
  /** End the process at once with STATUS, as _exit(2) does (src/cli/exit.ts). */
  exitNow(status: number): never;
}

/**
 * Threads the addon uses per batch: MDEVCTL_NATIVE_THREADS=N (N whatever the batch's size, up to
 * 8; 1: one thread; for measuring), else 0 (the addon's choice: one per CPU the process may run
 * on, up to 8, each with at least 256 names: small batches stay on one thread).
 */
export function nativeThreads(): number {
  const n = Number(process.env.MDEVCTL_NATIVE_THREADS);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

let addonDir: string | undefined;

/**
 * The one-file executable (src/cli/exe.ts) has no bundle directory: its addon is DIR/fastio.node,
 * DIR the directory of the executable itself (symbolic links resolved).
 */
export function setAddonDir(dir: string): void {
  addonDir = dir;
}

/**
 * Where the addon is: the executable's directory (setAddonDir), else beside the bundle (dist/,
 * also in the installed package); run from the sources (src/lib/util, the tests), the build's
 * dist/. One place only, so that nothing outside the package can be loaded in its stead.
 */
export function addonPath(): string {
  if (addonDir !== undefined) return path.join(addonDir, 'fastio.node');
  return path.basename(__dirname) === 'dist' ? path.join(__dirname, 'fastio.node') : path.join(__dirname, '..', '..', '..', 'dist', 'fastio.node');
}

let loaded: { io: FastIo; failure?: undefined } | { io: null; failure: string } | undefined;

/** Load the addon, once: it, or why it cannot be loaded. */
function load(): NonNullable<typeof loaded> {
  if (loaded !== undefined) return loaded;
  const file = addonPath();
  const mod = { exports: {} as FastIo };
  try {
    process.dlopen(mod, file);
    const io = mod.exports;
    if (['readFilesAt', 'readLinksAt', 'accessAt', 'listDirs', 'exitNow'].every((f) => typeof io[f as keyof FastIo] === 'function')) return (loaded = { io });
    return (loaded = { io: null, failure: `${file}: not the fastio addon` });
  } catch (e) {
    // dlopen's message names the file itself ("FILE: cannot open shared object file: ...")
    const why = (e as Error).message.split('\n')[0];
    return (loaded = { io: null, failure: why.startsWith(`${file}: `) ? why : `${file}: ${why}` });
  }
}

/** The addon for reading, or null when it is turned off (MDEVCTL_NATIVE=off) or cannot be loaded. */
export function fastIo(): FastIo | null {
  const mode = process.env.MDEVCTL_NATIVE;
  if (mode === 'off') return null;
  const { io, failure } = load();
  if (failure !== undefined && mode === 'require') throw new MdevctlError(`MDEVCTL_NATIVE=require: unable to load the native reader (${failure})`);
  return io;
}

/**
 * The addon for ending the process (src/cli/exit.ts), or null when it cannot be loaded; whatever
 * MDEVCTL_NATIVE says, which chooses the readers (the tests compare them, and a run that reads
 * with JavaScript can hang at Node's exit as well). Never throws.
 */
export function addonForExit(): FastIo | null {
  return load().io;
}
