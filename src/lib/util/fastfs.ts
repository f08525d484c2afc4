/**
 * Reading many small files (sysfs attributes, definitions) with as little work per file as Node
 * allows. A listing gathers what it needs into a Batch and reads it with readFiles, readLinks,
 * exists or listDirs: through the native reader (src/lib/util/native.ts) in one call for the lot, or,
 * without it, per file with open, one read into a shared buffer, close (fs.readFileSync costs a
 * second read to see EOF and more JavaScript per call). With tens of thousands of files (a host
 * with hundreds of parents × dozens of types) that is most of the run time. See the Performance
 * section of the README and scripts/bench.mjs.
 *
 * Files are opened non-blocking, so a FIFO planted where a file should be cannot hang the command,
 * and read up to MAX_BYTES (a character device such as /dev/zero never ends).
 */
import fs = require('node:fs');
import os = require('node:os');
import path = require('node:path');
import util = require('node:util');
import { fastIo, nativeThreads } from './native';

const FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK;
const MAX_BYTES = 16 * 1024 * 1024;
const FIRST_BYTES = 16 * 1024;
const KEEP_BYTES = 1024 * 1024;

let buf = Buffer.allocUnsafe(FIRST_BYTES);

/** The whole file as UTF-8 text. Throws the usual fs errors (err.code ENOENT, EACCES, ...). */
export function readText(file: string): string {
  return readAndClose(fs.openSync(file, FLAGS));
}

/**
 * Like readText, refusing anything but a regular file (one fstat more): a directory is an error
 * with code EISDIR, a FIFO, socket or device `not a regular file`. For a path that no directory
 * listing has vouched for.
 */
export function readRegularText(file: string): string {
  const fd = fs.openSync(file, FLAGS);
  let st: fs.Stats;
  try {
    st = fs.fstatSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  if (!st.isFile()) {
    fs.closeSync(fd);
    if (st.isDirectory()) throw Object.assign(new Error('Is a directory'), { code: 'EISDIR' });
    throw new Error('not a regular file');
  }
  return readAndClose(fd);
}

function readAndClose(fd: number): string {
  try {
    let n = fs.readSync(fd, buf, 0, buf.length, null);
    // A short read is the end of a regular or sysfs file; only a full buffer needs another look.
    if (n === buf.length && tooBig(fd)) throw fileTooLarge();
    while (n === buf.length) {
      if (buf.length >= MAX_BYTES) throw fileTooLarge();
      const bigger = Buffer.allocUnsafe(buf.length * 2);
      buf.copy(bigger, 0, 0, n);
      buf = bigger;
      n += fs.readSync(fd, buf, n, buf.length - n, null);
    }
    return buf.toString('utf8', 0, n);
  } finally {
    fs.closeSync(fd);
    // a big file read once does not keep its buffer for the small ones after it
    if (buf.length > KEEP_BYTES) buf = Buffer.allocUnsafe(FIRST_BYTES);
  }
}

/** A read refused at MAX_BYTES (by either reader): EFBIG, with strerror's message. */
function fileTooLarge(): NodeJS.ErrnoException {
  return Object.assign(new Error('File too large'), { code: 'EFBIG' });
}

/**
 * Is the open FD a regular file of MAX_BYTES or more? Its read would end in EFBIG, so it is not
 * read at all: reading 16 MiB to refuse them costs time, and memory that makes V8 collect
 * garbage (see src/cli/exit.ts for what that once led to). Anything else (a device, a sysfs file:
 * their sizes say nothing) is read as far as MAX_BYTES.
 */
function tooBig(fd: number): boolean {
  const st = fs.fstatSync(fd);
  return st.isFile() && st.size >= MAX_BYTES;
}

let relativeReads = false;
let returnable: boolean | undefined;

/**
 * Can this process chdir back into its working directory? Not always: `sudo -u nobody mdevctl`
 * run from /root, or any directory below one the user cannot search, is a working directory the
 * process was started in but cannot enter again. Asked once per process (withDir always restores
 * the same directory).
 */
function canReturn(): boolean {
  if (returnable === undefined) {
    try {
      fs.accessSync(process.cwd(), fs.constants.X_OK);
      returnable = true;
    } catch {
      returnable = false;
    }
  }
  return returnable;
}

/**
 * Let withDir change the working directory. The CLI does (src/cli/main.ts); the library API never
 * changes its caller's working directory, so there withDir always gives absolute paths.
 */
export function allowRelativeReads(on: boolean): void {
  relativeReads = on;
}

/**
 * Run FN on names under DIR: FN gets the prefix to put before a name (or a relative path) under
 * DIR. With relative reads allowed that is '' and the working directory is DIR while FN runs (the
 * kernel then walks a name or two per open instead of the whole path from the root: a quarter less
 * system time on a big sysfs listing), else `DIR/`. FN must be synchronous and start no process;
 * the working directory is restored before withDir returns or throws.
 */
export function withDir<T>(dir: string, fn: (base: string) => T): T {
  if (!relativeReads || !canReturn()) return fn(`${dir}/`);
  let saved: string;
  try {
    saved = process.cwd();
    process.chdir(dir);
  } catch {
    return fn(`${dir}/`);
  }
  try {
    return fn('');
  } finally {
    process.chdir(saved);
  }
}

/** What a batch read gives for one name: its text (or link target), or the error reading it. */
export type ReadResult = string | NodeJS.ErrnoException;

/**
 * Names under directories, to be read in one batch (readFiles, readLinks, exists): with the
 * native reader (src/lib/util/native.ts) one call for the lot, split across threads when it is big;
 * without it, one read per name through withDir. Results come in the order names were added.
 * An empty batch loads nothing (a listing of an empty root pays nothing for the addon).
 */
export class Batch {
  readonly dirs: string[] = [];
  readonly names: string[] = [];
  readonly dirOf: number[] = [];

  /** The names added next are relative to DIR. */
  dir(dir: string): this {
    this.dirs.push(dir);
    return this;
  }

  /** NAME (relative to the last dir given, may contain '/'). */
  add(name: string): this {
    this.names.push(name);
    this.dirOf.push(this.dirs.length - 1);
    return this;
  }

  /** The path of the Ith name, for messages. */
  path(i: number): string {
    return `${this.dirs[this.dirOf[i]]}/${this.names[i]}`;
  }
}

/** The text of each of NAMES under DIR, or the error reading it: see readFiles. */
export function readFilesAt(dir: string, names: string[], regularOnly = false): ReadResult[] {
  const batch = new Batch().dir(dir);
  for (const n of names) batch.add(n);
  return readFiles(batch, regularOnly);
}

/**
 * The text of each file of BATCH, or the error reading it gave (err.code as fs sets it).
 * REGULAR_ONLY: as readRegularText, else as readText.
 */
export function readFiles(batch: Batch, regularOnly = false): ReadResult[] {
  if (batch.names.length === 0) return [];
  const io = fastIo();
  if (io) return fromNative(io.readFilesAt(...nativeArgs(batch), regularOnly), batch, 'open');
  return eachName(batch, caught(regularOnly ? readRegularText : readText));
}

/** The target of each link of BATCH, or the error readlink gave: see readFiles. */
export function readLinks(batch: Batch): ReadResult[] {
  if (batch.names.length === 0) return [];
  const io = fastIo();
  if (io) return fromNative(io.readLinksAt(...nativeArgs(batch)), batch, 'readlink');
  return eachName(
    batch,
    caught((at) => fs.readlinkSync(at)),
  );
}

/** Does each name of BATCH exist, links followed? See readFiles. */
export function exists(batch: Batch): boolean[] {
  if (batch.names.length === 0) return [];
  const io = fastIo();
  if (io) return io.accessAt(...nativeArgs(batch)).map((errno) => errno === 0);
  return eachName(batch, (at) => fs.existsSync(at));
}

/** BATCH as the addon's batch exports take it: dirs, dirOf, names, threads. */
function nativeArgs(batch: Batch): [string[], Uint32Array, string[], number] {
  return [batch.dirs, Uint32Array.from(batch.dirOf), batch.names, nativeThreads()];
}

/** READ, giving the error it throws instead of throwing it. */
function caught(read: (at: string) => string): (at: string) => ReadResult {
  return (at) => {
    try {
      return read(at);
    } catch (e) {
      return e as NodeJS.ErrnoException;
    }
  };
}

/** A directory's entries (but . and ..), each with its kind as d_type gives it (see DT). */
export interface DirList {
  names: string[];
  types: Uint8Array;
}

/** d_type values (dirent.h). */
export const DT = { DIR: 4, REG: 8, LNK: 10, UNKNOWN: 0 } as const;

/**
 * The entries of each of DIRS, or the error reading it gave (as fs.readdirSync's). Native: one
 * call, threads taking a directory at a time; else fs.readdirSync per directory. Entries in byte
 * order of their names either way (Node's readdir sorts them, so does the addon).
 */
export function listDirs(dirs: string[]): Array<DirList | NodeJS.ErrnoException> {
  if (dirs.length === 0) return [];
  const io = fastIo();
  if (io) {
    const out = io.listDirs(dirs, nativeThreads());
    return quietly(() => out.map((r, i) => (typeof r === 'number' ? errnoError(r, 'scandir', dirs[i]) : r)));
  }
  return quietly(() =>
    dirs.map((dir) => {
      try {
        const ents = fs.readdirSync(dir, { withFileTypes: true });
        const types = new Uint8Array(ents.length);
        ents.forEach((e, k) => {
          types[k] = e.isDirectory() ? DT.DIR : e.isFile() ? DT.REG : e.isSymbolicLink() ? DT.LNK : DT_OTHER;
        });
        return { names: ents.map((e) => e.name), types };
      } catch (e) {
        return e as NodeJS.ErrnoException;
      }
    }),
  );
}

/** Any kind listDirs' callers do not tell apart (FIFO, socket, device). */
const DT_OTHER = 1;

/** FN on every name of BATCH, given as a path to open (relative inside withDir), in order. */
function eachName<T>(batch: Batch, fn: (at: string) => T): T[] {
  const out = new Array<T>(batch.names.length);
  quietly(() => {
    let i = 0;
    while (i < batch.names.length) {
      const d = batch.dirOf[i];
      withDir(batch.dirs[d], (base) => {
        for (; i < batch.names.length && batch.dirOf[i] === d; i++) out[i] = fn(`${base}${batch.names[i]}`);
      });
    }
  });
  return out;
}

/** FN with errors made without stack traces (a missing optional file is common, its trace waste). */
function quietly<T>(fn: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return fn();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** The native reader's answer as ReadResults: errno numbers become errors like fs's. */
function fromNative(out: Array<string | number>, batch: Batch, syscall: string): ReadResult[] {
  quietly(() => {
    for (let i = 0; i < out.length; i++) {
      const r = out[i];
      if (typeof r === 'number') out[i] = errnoError(r, syscall, batch.path(i)) as unknown as string;
    }
  });
  return out as ReadResult[];
}

/** The errnos a listing meets in the normal course (optional files, odd entries), by number. */
let common: Map<number, string> | undefined;

/**
 * ERRNO's name, as util.getSystemErrorName gives it. The common ones from os.constants (the same
 * names): on Node 18 the first require('node:util') costs about 2 ms (its lazy exports are all
 * loaded), and os, which a listing of any host with a missing optional file needs, is cheap.
 */
function errnoName(errno: number): string {
  common ??= new Map(
    ['ENOENT', 'ENOTDIR', 'EACCES', 'EISDIR', 'ELOOP', 'EPERM', 'EINVAL', 'EIO', 'ENXIO', 'ENAMETOOLONG', 'EFBIG'].map((n) => [
      os.constants.errno[n as keyof typeof os.constants.errno],
      n,
    ]),
  );
  return common.get(errno) ?? util.getSystemErrorName(-errno);
}

function errnoError(errno: number, syscall: string, file: string): NodeJS.ErrnoException {
  if (errno === -1) return new Error('not a regular file');
  const code = errnoName(errno);
  if (code === 'EFBIG') return fileTooLarge();
  return Object.assign(new Error(`${code}: ${syscall} '${file}'`), { code, errno: -errno, syscall, path: file });
}

/** Is P a directory (following links)? False when it is anything else or cannot be stat'ed. */
export function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The last component of the target of link P (a sysfs `driver`, `physfn`, ...), or null. */
export function linkName(p: string): string | null {
  try {
    return path.basename(fs.readlinkSync(p));
  } catch {
    return null;
  }
}
