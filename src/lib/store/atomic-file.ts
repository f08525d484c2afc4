/**
 * The atomic file primitives under both the config store and the journal (and the vGPU store):
 * write a file so that a reader or a crash sees the old content or the new, never a part of it
 * (temp file in the same directory, fsync, rename, fsync the directory), and the temp-name rule
 * by which files left by killed writers are found and removed.
 */
import fs = require('node:fs');
import path = require('node:path');
import { MdevctlError, describeSystemError } from '../util/errors';
import { removeOrphans } from './lock';

/** Temp files of writeFileAtomic: `.UUID.PID.STAMP.tmp` (not UUIDs, so never read as definitions). */
const TEMP_NAME = /^\.[^/]+\.(\d+)\.[0-9a-z]+\.tmp$/;
/** Temp files of writeFileAtomic made outside FILE's directory: `.mdevctl.d-UUID.PID.STAMP.tmp`. */
export const OUTSIDE_TEMP_NAME = /^\.mdevctl\.d-[^/]+\.(\d+)\.[0-9a-z]+\.tmp$/;

/**
 * Remove temp files left in DIR by writers that were killed before their rename (their process
 * is gone); a live writer's temp file is kept. NAMES: DIR's entries, when already listed.
 */
export function removeStaleTemps(dir: string, names?: readonly string[], pattern = TEMP_NAME): void {
  removeOrphans(
    dir,
    (n) => {
      const m = pattern.exec(n);
      return m ? Number(m[1]) : null;
    },
    names,
  );
}

/**
 * Write a file so that it is either the old or the new content, never partial. The temp file is
 * made beside FILE, or in TMPDIR when given (`.mdevctl.d-NAME...`; where TMPDIR is on another file
 * system, or cannot be written, beside FILE after all).
 */
export function writeFileAtomic(file: string, content: string | Buffer, what: string, tmpDir?: string): void {
  const dir = path.dirname(file);
  if (tmpDir !== undefined && tmpDir !== dir && writeViaOutsideTemp(file, content, tmpDir)) {
    fsyncDir(dir);
    return;
  }
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  try {
    writeThenRename(tmp, file, content);
  } catch (e) {
    throw new MdevctlError(`${what}: ${describeSystemError(e)} (${file})`);
  }
  fsyncDir(dir);
}

/**
 * writeFileAtomic through a temp file in TMPDIR: true once FILE holds CONTENT, false (nothing
 * left behind) when that cannot be done there (another file system, TMPDIR not writable, ...), for
 * the caller to write beside FILE instead.
 */
function writeViaOutsideTemp(file: string, content: string | Buffer, tmpDir: string): boolean {
  try {
    writeThenRename(path.join(tmpDir, `.mdevctl.d-${path.basename(file)}.${process.pid}.${Date.now().toString(36)}.tmp`), file, content);
    return true;
  } catch {
    return false;
  }
}

/** CONTENT into the new file TMP (made, written, fsynced, closed), then TMP renamed to FILE; on a failure TMP is gone and the error thrown. */
function writeThenRename(tmp: string, file: string, content: string | Buffer): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644);
    fs.writeFileSync(fd, content);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, file);
  } catch (e) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        /* already failing */
      }
    }
    try {
      fs.unlinkSync(tmp);
    } catch {
      /* may not exist */
    }
    throw e;
  }
}

export function fsyncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    /* best effort: some filesystems refuse fsync on directories */
  }
}
