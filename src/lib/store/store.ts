/**
 * The config store: device definitions at etc/mdevctl.d/PARENT/UUID. Reads tolerate damage (a
 * malformed file is skipped with a warning naming it); writes are atomic (temp file in the same
 * directory, fsync, rename), so a reader or a crash never sees a partial definition.
 */
import fs = require('node:fs');
import path = require('node:path');
import { Root } from '../util/root';
import { Log } from '../util/log';
import { MDev, parseConfigText } from '../model/device';
import { MdevctlError, describeSystemError, errnoCode } from '../util/errors';
import { parseUuid } from '../model/uuid';
import { checkParentName } from '../model/validate';
import { withLock } from './lock';
import { OUTSIDE_TEMP_NAME, fsyncDir, removeStaleTemps, writeFileAtomic } from './atomic-file';
import { Batch, DT, listDirs, readFiles, readFilesAt, readRegularText, ReadResult } from '../util/fastfs';
import { byteOrder } from '../model/order';
import { journalOverlay, recoverJournal } from './journal';
import { DeviceMap, sortDeviceMap } from '../model/device-map';

export interface DefinedFilter {
  uuid?: string;
  parent?: string;
}

/**
 * The store's side that changes files. Real runs write atomically; a dry run swaps in a recorder
 * (src/lib/ops/plan.ts) that checks and records instead.
 */
export interface StoreFiles {
  /** True when nothing is really written (a dry run): take no lock, create nothing. */
  readonly dryRun: boolean;
  /** Write FILE atomically, creating its directory first; WHAT starts the error message. */
  /** With TMPDIR, the temp file is made there (on FILE's file system) rather than beside FILE. */
  writeFile(file: string, content: string, what: string, tmpDir?: string): void;
  /** Remove FILE. */
  removeFile(file: string): void;
}

export const realStoreFiles: StoreFiles = {
  dryRun: false,
  writeFile(file, content, what, tmpDir) {
    const dir = path.dirname(file);
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new MdevctlError(`Unable to create directory ${dir}: ${describeSystemError(e)}`);
    }
    writeFileAtomic(file, content, what, tmpDir);
  },
  removeFile(file) {
    try {
      fs.unlinkSync(file);
    } catch (e) {
      throw new MdevctlError(`Failed to remove file ${file}: ${describeSystemError(e)}`);
    }
    fsyncDir(path.dirname(file));
  },
};

export class ConfigStore {
  constructor(
    readonly root: Root,
    readonly log: Log,
    readonly files: StoreFiles = realStoreFiles,
  ) {}

  /** Parent directories under etc/mdevctl.d (never scripts.d), byte order. */
  parentDirs(): string[] {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(this.root.configBase, { withFileTypes: true });
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'ENOENT' || code === 'ENOTDIR') return [];
      throw new MdevctlError(`Unable to read ${this.root.configBase}: ${describeSystemError(e)}`);
    }
    const out: string[] = [];
    for (const ent of entries) {
      if (ent.name === 'scripts.d') continue;
      if (ent.isDirectory()) {
        out.push(ent.name);
      } else if (ent.isSymbolicLink()) {
        try {
          if (fs.statSync(path.join(this.root.configBase, ent.name)).isDirectory()) out.push(ent.name);
        } catch {
          this.log.warn(`Ignoring ${path.join(this.root.configBase, ent.name)}: the link points nowhere`);
        }
      }
    }
    return out.sort(byteOrder);
  }

  /**
   * Every definition matching the filter. Damaged files (unreadable, not JSON, wrong shape) are
   * skipped with a warning; the others are still returned.
   */
  definedDevices(filter: DefinedFilter = {}): DeviceMap {
    // An apply in progress (or killed and not yet rolled back) shows the state before it: the
    // journal is read before and after the walk, so one that appears meanwhile counts too.
    const before = journalOverlay(this.root);
    const map = this.scanDefinitions(filter);
    const journal = before ?? journalOverlay(this.root);
    if (journal === null) return map;
    for (const [parent, devs] of journal) {
      if (filter.parent !== undefined && filter.parent !== parent) continue;
      for (const [uuid, old] of devs) {
        if (filter.uuid !== undefined && filter.uuid !== uuid) continue;
        const list = (map.get(parent) ?? []).filter((d) => d.uuid !== uuid);
        if (old !== null) {
          const dev = this.parseDefinition(parent, uuid, old, this.root.definitionPath(parent, uuid));
          if (dev) list.push(dev);
        }
        if (list.length > 0) map.set(parent, list);
        else map.delete(parent);
      }
    }
    return sortDeviceMap(map);
  }

  /**
   * The definitions under every parent directory (filtered), read in one batch (see
   * fastfs.Batch). Warnings about what is skipped or cannot be read come in byte order of
   * parents, then of files, as the listing.
   */
  private scanDefinitions(filter: DefinedFilter): DeviceMap {
    const parents = filter.parent !== undefined ? this.parentDirs().filter((p) => p === filter.parent) : this.parentDirs();
    // what to do after the batch, in order: warn, or make the next file read a definition
    const steps: Array<string | { parent: string; uuid: string; file: string }> = [];
    const batch = new Batch();
    const dirs = parents.map((parent) => this.root.parentConfigDir(parent));
    // every parent's directory listed together (see fastfs.listDirs)
    const listed = listDirs(dirs);
    for (let k = 0; k < parents.length; k++) {
      const parent = parents[k];
      const dir = dirs[k];
      const entries = listed[k];
      if (!('names' in entries)) {
        steps.push(`Unable to read directory ${dir}: ${describeSystemError(entries)}`);
        continue;
      }
      // byte order, so that warnings come out in the same order as the listing
      // listDirs gives byte order, so warnings come out in the same order as the listing
      batch.dir(dir);
      for (let i = 0; i < entries.names.length; i++) {
        const name = entries.names[i];
        const kind = entries.types[i];
        const uuid = parseUuid(name);
        if (uuid === null) continue;
        if (filter.uuid !== undefined && filter.uuid !== uuid) continue;
        const file = `${dir}/${name}`; // dir is normalized, a name has no slash
        if (kind !== DT.REG) {
          let st: fs.Stats | undefined;
          try {
            st = kind === DT.LNK ? fs.statSync(file) : undefined;
          } catch {
            steps.push(`Ignoring definition ${file}: the link points nowhere`);
            continue;
          }
          if (!st?.isFile()) {
            steps.push(`Ignoring definition ${file}: not a regular file`);
            continue;
          }
        }
        steps.push({ parent, uuid, file });
        batch.add(name);
      }
    }
    // the listing vouched for regular files (or links to them): no fstat
    const texts = readFiles(batch);
    const result: DeviceMap = new Map();
    let next = 0;
    for (const step of steps) {
      if (typeof step === 'string') {
        this.log.warn(step);
        continue;
      }
      const text = texts[next++];
      if (typeof text !== 'string') {
        this.log.warn(`Unable to read definition ${step.file}: ${describeSystemError(text)}`);
        continue;
      }
      const dev = this.parseDefinition(step.parent, step.uuid, text, step.file);
      if (!dev) continue;
      const devs = result.get(step.parent);
      if (devs) devs.push(dev);
      else result.set(step.parent, [dev]);
    }
    return sortDeviceMap(result);
  }

  private parseDefinition(parent: string, uuid: string, text: string, file: string): MDev | null {
    try {
      const cfg = parseConfigText(text);
      const dev = new MDev(uuid, parent);
      dev.applyConfig(cfg);
      dev.defined = true;
      return dev;
    } catch (e) {
      this.log.warn(`Skipping malformed definition ${file}: ${(e as Error).message}`);
      return null;
    }
  }

  /** The definition of (parent, uuid), null when there is none; throws when it is malformed. */
  read(parent: string, uuid: string): MDev | null {
    checkParentName(parent);
    // root.definitionPath(parent, uuid) without path.join
    const file = `${this.root.configBase}/${parent}/${uuid}`;
    let text: ReadResult;
    try {
      text = readRegularText(file);
    } catch (e) {
      text = e as NodeJS.ErrnoException;
    }
    return this.definitionFrom(parent, uuid, file, text);
  }

  /**
   * read() for each of KEYS, in one batch (see fastfs.readFilesAt): as `list` does for every
   * running device. Each result is what read() would return, or the error it would throw.
   */
  readAll(keys: ReadonlyArray<{ parent: string; uuid: string }>): Array<MDev | null | MdevctlError> {
    const out = new Array<MDev | null | MdevctlError>(keys.length);
    const names: string[] = [];
    const index: number[] = [];
    for (let i = 0; i < keys.length; i++) {
      try {
        checkParentName(keys[i].parent);
      } catch (e) {
        out[i] = e as MdevctlError;
        continue;
      }
      names.push(`${keys[i].parent}/${keys[i].uuid}`);
      index.push(i);
    }
    const texts = readFilesAt(this.root.configBase, names, true);
    for (let j = 0; j < names.length; j++) {
      const { parent, uuid } = keys[index[j]];
      try {
        out[index[j]] = this.definitionFrom(parent, uuid, `${this.root.configBase}/${names[j]}`, texts[j]);
      } catch (e) {
        out[index[j]] = e as MdevctlError;
      }
    }
    return out;
  }

  /** The definition in FILE from what reading it gave: see read(). */
  private definitionFrom(parent: string, uuid: string, file: string, text: ReadResult): MDev | null {
    if (typeof text !== 'string') {
      const code = errnoCode(text);
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      throw new MdevctlError(`Unable to read definition ${file}: ${describeSystemError(text)}`);
    }
    const dev = new MDev(uuid, parent);
    try {
      dev.applyConfig(parseConfigText(text));
    } catch (e) {
      throw new MdevctlError(`Malformed definition ${file}: ${(e as Error).message}`);
    }
    dev.defined = true;
    return dev;
  }

  /**
   * Is there a definition file for (parent, uuid)? Something else in its place (a directory, a
   * FIFO) is an error naming the path, since a definition could never be written there.
   */
  exists(parent: string, uuid: string): boolean {
    checkParentName(parent);
    const file = this.root.definitionPath(parent, uuid);
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'ENOENT' || code === 'ENOTDIR') return false;
      throw new MdevctlError(`Unable to check definition ${file}: ${describeSystemError(e)}`);
    }
    if (!st.isFile()) throw new MdevctlError(`Unable to use definition ${file}: not a regular file`);
    return true;
  }

  /**
   * Run FN holding the store lock (src/lib/store/lock.ts): the ops wrap every read-check-write in it.
   * A dry run takes no lock.
   * A writer killed before its rename leaves its temp file in etc/mdevctl.d/PARENT/; whoever
   * holds the lock next removes those whose writer is gone (a live writer's stays), whether or
   * not the lock itself had to be taken over. They are never read as definitions anyway.
   */
  locked<T>(fn: () => T): T {
    if (this.files.dryRun) return fn(); // a dry run writes nothing: no lock, no run/lock created
    return withLock(this.root, () => {
      this.removeStaleTemps();
      // an apply killed half way (src/lib/store/journal.ts) is rolled back before anything else
      recoverJournal(this.root, this.log);
      return fn();
    });
  }

  /** Best effort: a directory that cannot be read or cleaned is left for the command to meet. */
  private removeStaleTemps(): void {
    let parents: string[];
    try {
      parents = this.parentDirs();
    } catch {
      return;
    }
    // every parent's directory listed together (see fastfs.listDirs): on a big host this is most
    // of the cost of define/undefine/modify, and almost never finds anything
    const dirs = parents.map((p) => this.root.parentConfigDir(p));
    const tmpDir = definitionTempDir(this.root);
    const listed = listDirs([...dirs, tmpDir]);
    for (let k = 0; k < dirs.length; k++) {
      const entries = listed[k];
      if ('names' in entries) removeStaleTemps(dirs[k], entries.names);
    }
    const outside = listed[dirs.length];
    if ('names' in outside) removeStaleTemps(tmpDir, outside.names, OUTSIDE_TEMP_NAME);
  }

  /** Store the device's definition atomically: temp file, fsync, rename, fsync the directory. */
  write(dev: MDev): void {
    const parent = checkParentName(dev.requireParent());
    const file = this.root.definitionPath(parent, dev.uuid);
    this.files.writeFile(file, dev.toDefinitionText(), `Failed to write config for device ${dev.uuid}`, definitionTempDir(this.root));
  }

  /** Remove the definition of (parent, uuid). */
  remove(parent: string, uuid: string): void {
    checkParentName(parent);
    this.files.removeFile(this.root.definitionPath(parent, uuid));
  }
}

/**
 * Where a definition's temp file is written: the directory holding etc/mdevctl.d (ROOT/etc), on
 * the same file system as a rule, so that rename(2) still replaces the definition atomically.
 * libvirt watches etc/mdevctl.d and every directory below it (GLib file monitors, inotify) and
 * re-reads every definition at each CHANGES_DONE_HINT: a temp file beside the definition raises
 * one for its close and another for the rename (2 re-syncs per change); renamed in from outside,
 * the definition raises one (a MOVED_TO: CREATED and CHANGES_DONE_HINT), as 1.4.0's plain write
 * (CREATE or MODIFY, then CLOSE_WRITE) does.
 */
export function definitionTempDir(root: Root): string {
  return path.dirname(root.configBase);
}
