/**
 * The undo journal of `apply`: what makes a run of many definition writes all or nothing, even
 * when the process is killed (or the machine loses power) half way.
 *
 * Before its first change, `apply` (holding the store lock) writes ROOT/var/lib/mdevctl/
 * apply.journal atomically (temp file, fsync, rename, fsync of the directory). It holds the old
 * bytes of every definition file the run will touch (or "absent") and the parent directories the
 * run will create. Then the definitions are written one by one (each atomically, as always), and
 * removing the journal (unlink, fsync of the directory) is the commit: from then on the new state
 * stands. A failure before the commit restores the old files from the journal in-process; a
 * killed run leaves the journal behind, and the next command that takes the store lock restores
 * the old files from it before doing anything else (`recoverJournal`, from ConfigStore.locked).
 * Restoring is idempotent (each file is compared and rewritten atomically only when it differs),
 * so a kill during a rollback is recovered the same way.
 *
 * The journal is not in etc/mdevctl.d: libvirt watches that tree and must see definitions only;
 * the tree itself is never renamed or swapped. Not in run/ either: that is a tmpfs, and a journal
 * lost in a power cut would leave the half-applied state for good.
 *
 * Readers take no lock. While a journal is present (an apply in progress, or one killed and not
 * yet recovered) the store's listing shows the state before the apply: the files the journal names
 * are taken from it (`journalOverlay`, read by ConfigStore.definedDevices). So `list -d` shows the
 * old state until the commit and the new state after it, never a mix.
 */
import fs = require('node:fs');
import path = require('node:path');
import { Root } from '../util/root';
import { Log } from '../util/log';
import { MdevctlError, describeSystemError, errnoCode } from '../util/errors';
import { parseUuid } from '../model/uuid';
import { checkParentName } from '../model/validate';
import { currentOwner, ownerAlive, ownerOfOtherBoot } from './lock';
import { fsyncDir, removeStaleTemps, writeFileAtomic } from './atomic-file';
import { isDirectory } from '../util/fastfs';

/** One definition file a run touches, with its content before the run (null: it did not exist). */
export interface JournalEntry {
  parent: string;
  uuid: string;
  old: Buffer | null;
}

interface JournalData {
  pid: number;
  start: string;
  /** The writer's boot (see Owner.boot in src/lib/store/lock.ts); absent in journals of older versions. */
  boot?: string;
  entries: JournalEntry[];
  /** Parent directories under etc/mdevctl.d that the run creates (removed again on rollback). */
  dirs: string[];
}

const FORMAT = 'mdevctl-apply-journal-1';

function serialize(d: JournalData): string {
  return JSON.stringify({
    format: FORMAT,
    pid: d.pid,
    start: d.start,
    ...(d.boot ? { boot: d.boot } : {}),
    dirs: d.dirs,
    entries: d.entries.map((e) => ({ parent: e.parent, uuid: e.uuid, old: e.old === null ? null : e.old.toString('base64') })),
  });
}

function parse(text: string, file: string): JournalData {
  const bad = (why: string): never => {
    throw new MdevctlError(`Unusable apply journal ${file} (${why}); check the definitions under etc/mdevctl.d, then remove it`);
  };
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return bad('not JSON');
  }
  if (v === null || typeof v !== 'object' || v.format !== FORMAT) bad('unknown format');
  if (!Array.isArray(v.entries) || !Array.isArray(v.dirs) || typeof v.pid !== 'number') bad('wrong shape');
  const entries: JournalEntry[] = [];
  for (const e of v.entries as Array<Record<string, unknown>>) {
    if (e === null || typeof e !== 'object' || typeof e.parent !== 'string' || typeof e.uuid !== 'string') bad('wrong entry');
    const uuid = parseUuid(e.uuid as string);
    if (uuid === null || uuid !== e.uuid) bad(`bad UUID in an entry`);
    checkParentName(e.parent as string);
    if (e.old !== null && typeof e.old !== 'string') bad('wrong entry');
    entries.push({ parent: e.parent as string, uuid: uuid!, old: e.old === null ? null : Buffer.from(e.old as string, 'base64') });
  }
  const dirs = (v.dirs as unknown[]).map((d) => (typeof d === 'string' ? checkParentName(d) : bad('wrong directory')));
  const boot = typeof v.boot === 'string' && /^[0-9a-f]{32}$/.test(v.boot) ? v.boot : undefined;
  return { pid: v.pid as number, start: String(v.start), ...(boot ? { boot } : {}), entries, dirs };
}

function readOld(file: string): Buffer | null {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new MdevctlError(`Unable to read definition ${file}: ${describeSystemError(e)}`);
  }
}

/** The journal of one run in progress (this process). */
export class Journal {
  private constructor(
    private readonly root: Root,
    private readonly data: JournalData,
  ) {}

  /**
   * Record the current content of every target (reading it now, under the lock) and write the
   * journal durably. Nothing has been changed when this returns or throws.
   */
  static begin(root: Root, targets: Array<{ parent: string; uuid: string }>): Journal {
    const owner = currentOwner();
    const entries = targets.map((t) => ({ parent: t.parent, uuid: t.uuid, old: readOld(root.definitionPath(t.parent, t.uuid)) }));
    const dirs = [...new Set(targets.map((t) => t.parent))].filter((p) => !isDirectory(root.parentConfigDir(p)));
    const data: JournalData = { pid: owner.pid, start: owner.start, ...(owner.boot ? { boot: owner.boot } : {}), entries, dirs };
    const dir = path.dirname(root.journalPath);
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new MdevctlError(`Unable to create directory ${dir}: ${describeSystemError(e)}`);
    }
    writeFileAtomic(root.journalPath, serialize(data), 'Unable to write the apply journal');
    return new Journal(root, data);
  }

  /** The commit point: the new state stands once the journal is gone. */
  commit(): void {
    removeJournal(this.root);
  }

  /** Put every touched file back as it was, then remove the journal. */
  rollback(): void {
    restore(this.root, this.data);
  }
}

function removeJournal(root: Root): void {
  try {
    fs.unlinkSync(root.journalPath);
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') {
      throw new MdevctlError(`Unable to remove the apply journal ${root.journalPath}: ${describeSystemError(e)}`);
    }
  }
  fsyncDir(path.dirname(root.journalPath));
}

/** Restore the files named in the journal (each only when it differs), then drop the journal. */
function restore(root: Root, data: JournalData): void {
  for (const e of [...data.entries].reverse()) {
    const file = root.definitionPath(e.parent, e.uuid);
    const now = readOld(file);
    if (e.old === null) {
      if (now === null) continue;
      try {
        fs.unlinkSync(file);
      } catch (err) {
        throw new MdevctlError(`Unable to remove ${file} while rolling back: ${describeSystemError(err)}`);
      }
      fsyncDir(path.dirname(file));
    } else if (now === null || !now.equals(e.old)) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      writeFileAtomic(file, e.old, `Unable to restore the definition of ${e.uuid} on ${e.parent}`);
    }
  }
  for (const parent of new Set(data.entries.map((e) => e.parent))) removeStaleTemps(root.parentConfigDir(parent));
  for (const parent of data.dirs) {
    try {
      fs.rmdirSync(root.parentConfigDir(parent));
    } catch {
      /* not empty (something else was put there meanwhile) or already gone: leave it */
    }
  }
  fsyncDir(root.configBase);
  removeJournal(root);
}

function readJournal(root: Root): JournalData | null {
  let text: string;
  try {
    text = fs.readFileSync(root.journalPath, 'utf8');
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new MdevctlError(`Unable to read the apply journal ${root.journalPath}: ${describeSystemError(e)}`);
  }
  return parse(text, root.journalPath);
}

/**
 * Roll back the apply a killed process left half done (called holding the store lock). A journal
 * whose writer is this process or a live ancestor (a callout script's mdevctl) is left alone.
 * Returns true when something was rolled back.
 */
export function recoverJournal(root: Root, log: Log): boolean {
  let data: JournalData | null;
  try {
    data = readJournal(root);
  } finally {
    removeStaleTemps(path.dirname(root.journalPath));
  }
  if (data === null) return false;
  const me = currentOwner();
  const writer = { pid: data.pid, start: data.start, ...(data.boot ? { boot: data.boot } : {}) };
  // a journal of an earlier boot is never this process's, whatever its PID and start time
  const mine = !ownerOfOtherBoot(writer) && data.pid === me.pid && data.start === me.start;
  if (mine || (data.pid !== me.pid && ownerAlive(writer))) return false;
  restore(root, data);
  log.warn(`Rolled back an interrupted 'mdevctl apply' (process ${data.pid}): ${data.entries.length} definition(s) restored from ${root.journalPath}`);
  return true;
}

/**
 * For readers: the definitions as they were before the apply that is in progress or was killed
 * (parent -> uuid -> old text, null when the file did not exist), or null when there is no
 * journal. An unreadable journal counts as none (the next locked command reports it).
 */
export function journalOverlay(root: Root): Map<string, Map<string, string | null>> | null {
  let data: JournalData | null;
  try {
    data = readJournal(root);
  } catch {
    return null;
  }
  if (data === null) return null;
  const out = new Map<string, Map<string, string | null>>();
  for (const e of data.entries) {
    let m = out.get(e.parent);
    if (!m) out.set(e.parent, (m = new Map<string, string | null>()));
    m.set(e.uuid, e.old === null ? null : e.old.toString('utf8'));
  }
  return out;
}
