/**
 * The config store lock: one writer at a time across processes (udev, libvirt and admins run
 * mdevctl at once at boot). Held around every read-check-write of definitions (define, undefine,
 * modify); readers need no lock because every write is an atomic rename.
 *
 * The lock is a directory, ROOT/run/lock/mdevctl.lock, holding one marker file named after its
 * owner (PID, process start time, random tag). It is taken by building a private directory with
 * the marker inside and renaming it onto the lock path: rename(2) replaces an absent or EMPTY
 * directory and fails on a non-empty one, so exactly one process wins, and a lock never exists
 * without its owner's name in it.
 *
 * A holder killed with SIGKILL leaves its marker behind. A waiter that finds a marker whose
 * process is gone (no such PID, a zombie, a PID reused by a process started later, or a process
 * of an earlier boot: the marker names the kernel's boot_id, for a lock dir that outlives a power
 * cut; markers without it, of older versions, are judged by PID and start time alone) deletes
 * that marker: the lock is then an empty directory, free for the next rename. Deleting a named
 * dead marker can never remove a live owner's marker, so breaking a stale lock needs no second
 * lock and has no race. A lock that stays held past the timeout (default 10 s,
 * MDEVCTL_LOCK_TIMEOUT in seconds) fails the command with a one-line message naming the holder.
 * The holder's callout scripts (run while it waits for them) inherit MDEVCTL_LOCK_HELD: an
 * mdevctl they start works under their ancestor's lock instead of deadlocking on it.
 *
 * Why here and not in etc/mdevctl.d: libvirt watches that tree recursively and re-lists on every
 * change, and it must hold definitions only; run/ is the runtime state directory (a tmpfs on a
 * real system, so leftovers vanish at boot).
 */
import fs = require('node:fs');
import path = require('node:path');
import { randomBytes } from 'node:crypto';
import { Root } from '../util/root';
import { MdevctlError, describeSystemError, errnoCode } from '../util/errors';

export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;

export interface LockOptions {
  /** How long to wait for another holder before failing; default MDEVCTL_LOCK_TIMEOUT or 10 s. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** The timeout from MDEVCTL_LOCK_TIMEOUT (seconds, may be fractional), else the default. */
export function lockTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.MDEVCTL_LOCK_TIMEOUT;
  if (v === undefined || v.trim() === '') return DEFAULT_LOCK_TIMEOUT_MS;
  const s = Number(v);
  if (!Number.isFinite(s) || s < 0) {
    throw new MdevctlError(`Invalid MDEVCTL_LOCK_TIMEOUT '${v}': expected a number of seconds`);
  }
  return Math.round(s * 1000);
}

export interface Owner {
  pid: number;
  start: string;
  /**
   * The boot the process ran in (the kernel's boot_id, hex without dashes), when known: PIDs and
   * start times begin again at every boot, so a lock or journal left by a power cut could
   * otherwise name a process of the next boot that merely has the same PID and start time.
   */
  boot?: string;
}

const MARKER_PREFIX = 'owner-';

function markerName(o: Owner, tag: string): string {
  return `${MARKER_PREFIX}${o.pid}-${o.start}-${tag}${o.boot ? `-${o.boot}` : ''}`;
}

function parseMarker(name: string): Owner | null {
  const m = /^owner-(\d+)-(\d+|x)-[0-9a-f]+(?:-([0-9a-f]{32}))?$/.exec(name);
  return m ? { pid: Number(m[1]), start: m[2], ...(m[3] ? { boot: m[3] } : {}) } : null;
}

let thisBoot: string | null | undefined;
/** This boot's id (/proc/sys/kernel/random/boot_id, dashes dropped), or null where there is none. */
export function bootId(): string | null {
  if (thisBoot === undefined) {
    try {
      const id = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().replace(/-/g, '');
      thisBoot = /^[0-9a-f]{32}$/.test(id) ? id : null;
    } catch {
      thisBoot = null;
    }
  }
  return thisBoot;
}

/** Start time (clock ticks since boot), state and parent of a process from /proc, or null. */
function procStat(pid: number | 'self'): { start: string; state: string; ppid: number } | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // "PID (COMM) STATE PPID ..." where COMM may hold spaces and parentheses: split after the last ')'
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); starttime is field 22
  return fields.length > 19 ? { state: fields[0], ppid: Number(fields[1]), start: fields[19] } : null;
}

let self: Owner | undefined;
/** This process, as named in lock markers (and in the apply journal). */
export function currentOwner(): Owner {
  if (!self) {
    const boot = bootId();
    self = { pid: process.pid, start: procStat('self')?.start ?? 'x', ...(boot ? { boot } : {}) };
  }
  return self;
}

/** Was O's process one of an earlier boot (its lock or journal left by a power cut or a reset)? */
export function ownerOfOtherBoot(o: Owner): boolean {
  const boot = bootId();
  return o.boot !== undefined && boot !== null && o.boot !== boot;
}

/** Is the process that wrote this marker still running? */
export function ownerAlive(o: Owner): boolean {
  // whoever has that PID in this boot is not it
  if (ownerOfOtherBoot(o)) return false;
  try {
    process.kill(o.pid, 0);
  } catch (e) {
    if (errnoCode(e) === 'ESRCH') return false;
    // EPERM: it exists, under another user
  }
  const st = procStat(o.pid);
  if (st === null) return true; // no /proc: the PID check has to do
  if (st.state === 'Z' || st.state === 'X') return false;
  return o.start === 'x' || st.start === o.start;
}

/** Is process PID running (not gone, not a zombie)? Start time unchecked. */
export function processAlive(pid: number): boolean {
  return pid === process.pid || ownerAlive({ pid, start: 'x' });
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function removeDir(dir: string, marker: string): void {
  try {
    fs.unlinkSync(path.join(dir, marker));
  } catch {
    /* already gone */
  }
  try {
    fs.rmdirSync(dir);
  } catch {
    /* gone, or replaced by the next holder's lock (not empty): leave it */
  }
}

export interface LockInfo {
  /** The lock was taken over from a holder that had died (it may have left work half done). */
  recovered: boolean;
}

/** Held locks of this process, by path: a nested withLock on the same root does not wait. */
const held = new Map<string, { marker: string; depth: number }>();

/**
 * Run FN holding the store lock of ROOT. Throws MdevctlError when the lock cannot be had within
 * the timeout or its directory cannot be created.
 */
export function withLock<T>(root: Root, fn: (lock: LockInfo) => T, opts: LockOptions = {}): T {
  const lockDir = root.lockPath;
  const mine = held.get(lockDir);
  if (mine) {
    mine.depth++;
    try {
      return fn({ recovered: false });
    } finally {
      mine.depth--;
    }
  }
  if (heldByAncestor(lockDir)) return fn({ recovered: false });
  const { marker, recovered } = acquire(lockDir, opts.timeoutMs ?? lockTimeoutMs(opts.env));
  held.set(lockDir, { marker, depth: 1 });
  const inherited = process.env[HELD_ENV];
  process.env[HELD_ENV] = path.join(lockDir, marker);
  try {
    return fn({ recovered });
  } finally {
    if (inherited === undefined) delete process.env[HELD_ENV];
    else process.env[HELD_ENV] = inherited;
    held.delete(lockDir);
    removeDir(lockDir, marker);
  }
}

/**
 * Set while a process holds the lock, and so inherited by the callout scripts it runs: an
 * mdevctl started by such a script (while the holder waits for it) works under its ancestor's
 * lock instead of waiting for it until the timeout.
 */
const HELD_ENV = 'MDEVCTL_LOCK_HELD';

/** Does an ancestor of this process hold the lock right now (per MDEVCTL_LOCK_HELD)? */
function heldByAncestor(lockDir: string): boolean {
  const file = process.env[HELD_ENV];
  if (file === undefined || path.dirname(file) !== lockDir) return false;
  const owner = parseMarker(path.basename(file));
  if (owner === null || !fs.existsSync(file) || !ownerAlive(owner)) return false;
  let pid = process.ppid;
  for (let depth = 0; depth < 64 && pid > 1; depth++) {
    if (pid === owner.pid) return true;
    pid = procStat(pid)?.ppid ?? 0;
  }
  return false;
}

function acquire(lockDir: string, timeoutMs: number): { marker: string; recovered: boolean } {
  const owner = currentOwner();
  const tag = randomBytes(4).toString('hex');
  const marker = markerName(owner, tag);
  // the private directory that becomes the lock: a sibling, so rename stays in one filesystem
  const mineDir = `${lockDir}.${owner.pid}-${tag}`;
  const fail = (what: string, e: unknown): never => {
    removeDir(mineDir, marker);
    throw new MdevctlError(`Unable to take the lock ${lockDir}: ${what}${describeSystemError(e)}`);
  };
  try {
    fs.mkdirSync(path.dirname(lockDir), { recursive: true });
  } catch (e) {
    fail(`cannot create ${path.dirname(lockDir)}: `, e);
  }
  try {
    fs.mkdirSync(mineDir, { mode: 0o755 });
    fs.closeSync(fs.openSync(path.join(mineDir, marker), 'wx', 0o644));
  } catch (e) {
    fail('', e);
  }
  const deadline = Date.now() + timeoutMs;
  let pause = 1;
  let holder: Owner | null = null;
  let spins = 0;
  let recovered = false;
  for (;;) {
    try {
      fs.renameSync(mineDir, lockDir);
      break;
    } catch (e) {
      const code = errnoCode(e);
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') fail('', e);
    }
    let entries: string[];
    try {
      entries = fs.readdirSync(lockDir);
    } catch {
      entries = []; // released meanwhile
    }
    let freed = entries.length === 0;
    holder = null;
    for (const m of entries) {
      const o = m.startsWith(MARKER_PREFIX) ? parseMarker(m) : null;
      if (o === null) continue; // not ours to judge: wait for the timeout
      if (ownerAlive(o)) {
        holder = o;
        continue;
      }
      // a dead owner's marker: removing exactly this name cannot touch a live lock
      try {
        fs.unlinkSync(path.join(lockDir, m));
      } catch {
        /* another waiter removed it first */
      }
      freed = true;
      recovered = true;
    }
    if (freed && spins++ < 100) continue; // free now: try again at once
    if (Date.now() >= deadline) {
      removeDir(mineDir, marker);
      const who = holder ? `held by process ${holder.pid}` : 'held by another process';
      throw new MdevctlError(
        `Timed out after ${timeoutMs / 1000} s waiting for the lock ${lockDir} (${who}); ` + `another mdevctl command is still changing the configuration`,
      );
    }
    sleep(Math.min(pause + Math.random() * pause, Math.max(1, deadline - Date.now())));
    pause = Math.min(pause * 2, 50);
  }
  try {
    removeLeftovers(lockDir);
  } catch {
    /* best effort */
  }
  return { marker, recovered };
}

/**
 * Remove the entries of DIR that a dead process left: PID_OF names the process that made an entry
 * (null: not such an entry). Files and directories alike; an entry that cannot be removed stays.
 * LISTED: the entries of DIR, when the caller has listed it already.
 */
export function removeOrphans(dir: string, pidOf: (name: string) => number | null, listed?: readonly string[]): void {
  let names = listed;
  if (names === undefined) {
    try {
      names = fs.readdirSync(dir);
    } catch {
      return;
    }
  }
  for (const n of names) {
    const pid = pidOf(n);
    if (pid === null || processAlive(pid)) continue;
    try {
      fs.rmSync(path.join(dir, n), { recursive: true, force: true });
    } catch {
      /* not ours to remove */
    }
  }
}

/**
 * Private directories of waiters that were killed before they got the lock (LOCK.PID-TAG beside
 * it), removed by the next holder when their process is gone.
 */
function removeLeftovers(lockDir: string): void {
  const prefix = `${path.basename(lockDir)}.`;
  removeOrphans(path.dirname(lockDir), (n) => {
    const m = n.startsWith(prefix) ? /^(\d+)-[0-9a-f]+$/.exec(n.slice(prefix.length)) : null;
    return m ? Number(m[1]) : null;
  });
}
