/**
 * The sysfs adapter: reads parents, their supported types and the active devices from a real or
 * fixture /sys under the root, and performs the kernel writes (create, remove, attributes)
 * through a pluggable KernelWriter (the real kernel, or the simulated one for fixture roots).
 */
import fs = require('node:fs');
import path = require('node:path');
import { Root } from '../util/root';
import { Log } from '../util/log';
import { KernelError, MdevctlError, describeSystemError, errnoCode } from '../util/errors';
import { parseUuid } from '../model/uuid';
import { Batch, DT, exists, isDirectory, listDirs, readFiles, readLinks, readText, ReadResult } from '../util/fastfs';
import { checkAttributeName, checkParentName, checkTypeName, shown } from '../model/validate';
import { byteOrder } from '../model/order';
import { MdevType } from '../model/mdev-type';

export interface ActiveDevice {
  uuid: string;
  parent: string;
  type: string;
  /** Device directory: sys/devices/.../PARENT/UUID, or the sys/bus/mdev/devices/UUID link to it. */
  dir: string;
}

export interface ParentEntry {
  name: string;
  /** Directory holding mdev_supported_types (through the class link, or the real device dir). */
  dir: string;
}

/** The side of sysfs that changes state. The real kernel reacts to these writes. */
export interface KernelWriter {
  /** Write the UUID into TYPE_DIR/create. */
  create(typeDir: string, uuid: string): void;
  /** Write `1` into DEVICE_DIR/remove. */
  remove(deviceDir: string, uuid: string): void;
  /** Write VALUE into DEVICE_DIR/NAME. */
  writeAttribute(deviceDir: string, name: string, value: string): void;
  /** Dry run: does the (planned) device have attribute NAME? undefined: look at the tree. */
  attributeExists?(deviceDir: string, name: string): boolean | undefined;
  /** Dry run: devices of the type at TYPE_DIR planned so far (not yet counted by sysfs). */
  pendingCreates?(typeDir: string): number;
  /**
   * Called by waits (start-all) before each look at the tree: the simulated kernel makes its
   * delayed entries appear then (src/lib/simulated-kernel.ts). The real kernel needs no call.
   */
  tick?(): void;
}

/** What a failed write into sysfs means, per errno, for the message shown to the user. */
const KERNEL_ERRNO_MEANING: Record<string, Record<string, string>> = {
  create: {
    EINVAL: 'the kernel rejected the UUID or the type cannot create more devices',
    EEXIST: 'a device with this UUID already exists',
    ENOSPC: 'no capacity left for this type on the parent',
    EBUSY: 'the parent device is busy',
    EPERM: 'permission denied: mdevctl must run as root',
    EACCES: 'permission denied: mdevctl must run as root',
    ENODEV: 'the parent device is gone',
    EUSERS: 'no instances of this type are left on the parent',
  },
  remove: {
    EBUSY: 'the device is in use (for example by a running VM)',
    EPERM: 'permission denied: mdevctl must run as root',
    EACCES: 'permission denied: mdevctl must run as root',
    ENOENT: 'the device is not running',
  },
  attribute: {
    EINVAL: 'the driver rejected the value',
    EBUSY: 'the device is busy',
    ENOSPC: 'no resources left for this value',
    EEXIST: 'the value is already assigned elsewhere',
    EPERM: 'permission denied: mdevctl must run as root',
    EACCES: 'permission denied: the attribute is not writable',
    EIO: 'the driver failed to apply the value',
  },
};

export function explainKernelError(kind: 'create' | 'remove' | 'attribute', err: unknown): string {
  const code = errnoCode(err);
  const meaning = code ? KERNEL_ERRNO_MEANING[kind][code] : undefined;
  return meaning ? `${describeSystemError(err)}: ${meaning}` : describeSystemError(err);
}

/** Writes straight into the files, as on a real /sys. */
export const directKernelWriter: KernelWriter = {
  create(typeDir, uuid) {
    fs.writeFileSync(path.join(typeDir, 'create'), uuid);
  },
  remove(deviceDir) {
    fs.writeFileSync(path.join(deviceDir, 'remove'), '1');
  },
  writeAttribute(deviceDir, name, value) {
    fs.writeFileSync(path.join(deviceDir, name), value);
  },
};

/**
 * Whitespace as Rust's `str::trim` (upstream) sees it: Unicode White_Space. Unlike JavaScript's
 * trim it includes U+0085 and leaves U+FEFF alone.
 */
const EDGE_SPACE =
  /^[\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;

export function trimLikeUpstream(text: string): string {
  return text.replace(EDGE_SPACE, '');
}

function readTrimmed(file: string): string {
  return trimLikeUpstream(readText(file));
}

/** How deep under sys/devices parents are looked for, without sys/class/mdev_bus. */
const SCAN_DEPTH = 8;
/** Directories that never hold a parent device. */
const SCAN_SKIP = new Set(['mdev_supported_types', 'power', 'msi_irqs', 'iommu_group', 'driver', 'subsystem']);

export class Sysfs {
  constructor(
    readonly root: Root,
    readonly log: Log,
    readonly writer: KernelWriter = directKernelWriter,
  ) {}

  /**
   * Registered parents, in byte order of their names. An empty mdev_bus: none. A missing one:
   * the parents found under sys/devices (see scanParents).
   */
  parents(): ParentEntry[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.root.parentBase);
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'ENOENT') return this.scanParents();
      if (code === 'ENOTDIR') return [];
      throw new MdevctlError(`Unable to read ${this.root.parentBase}: ${describeSystemError(e)}`);
    }
    names.sort(byteOrder);
    return names.map((name) => ({ name, dir: path.join(this.root.parentBase, name) }));
  }

  private scanned?: ParentEntry[];

  /**
   * Without sys/class/mdev_bus (older kernels, or a layout without the class links), parents are
   * the directories under sys/devices holding mdev_supported_types, named by their basename as
   * the class links would be. Bounded depth; links are not followed; the first of two with the
   * same name (in byte order of their paths) wins.
   */
  private scanParents(): ParentEntry[] {
    if (this.scanned) return this.scanned;
    const found = new Map<string, string>();
    const walk = (dir: string, depth: number) => {
      let ents: fs.Dirent[];
      try {
        ents = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      ents.sort((a, b) => byteOrder(a.name, b.name));
      if (ents.some((e) => e.name === 'mdev_supported_types' && e.isDirectory())) {
        const name = path.basename(dir);
        if (!found.has(name)) found.set(name, dir);
      }
      if (depth >= SCAN_DEPTH) return;
      for (const e of ents) {
        if (e.isDirectory() && !SCAN_SKIP.has(e.name) && parseUuid(e.name) === null) walk(path.join(dir, e.name), depth + 1);
      }
    };
    walk(this.root.devicesBase, 0);
    this.scanned = [...found.keys()].sort(byteOrder).map((name) => ({ name, dir: found.get(name)! }));
    return this.scanned;
  }

  /** The directory of a registered parent, or a helpful error (with a case-insensitive hint). */
  findParentDir(parent: string): string {
    checkParentName(parent);
    const dir = this.root.parentPath(parent);
    if (isDirectory(dir)) return dir;
    const scanned = isDirectory(this.root.parentBase) ? undefined : this.parents().find((p) => p.name === parent);
    if (scanned) return scanned.dir;
    if (fs.lstatSync(dir, { throwIfNoEntry: false })?.isSymbolicLink()) {
      throw new MdevctlError(`Unable to find parent device '${shown(parent)}': ${dir} points nowhere`);
    }
    const lower = parent.toLowerCase();
    const similar = this.parents().find((p) => p.name !== parent && p.name.toLowerCase() === lower);
    if (similar) {
      throw new MdevctlError(`Unable to find parent device '${parent}'. Did you mean '${similar.name}'?`);
    }
    throw new MdevctlError(`Unable to find parent device '${shown(parent)}'`);
  }

  /**
   * Types supported by each parent (optionally only PARENT), types in byte order. The four files
   * of every type of every parent are read in one batch (see fastfs.Batch); what each parent's
   * listing warns about or fails on is kept in order and told as the parents are gone through.
   */
  types(parentFilter?: string): Map<string, MdevType[]> {
    const steps: Array<{ warn: string } | { fail: MdevctlError } | { parent: string; typesDir: string; types: string[]; first: number }> = [];
    const batch = new Batch();
    const parents = this.parents().filter((p) => parentFilter === undefined || parentFilter === p.name);
    const live = parents.map((p) => isDirectory(p.dir));
    const typesDirs = parents.map((p) => path.join(p.dir, 'mdev_supported_types'));
    // every parent's type directories listed together (see fastfs.listDirs)
    const listed = listDirs(typesDirs.filter((_, i) => live[i]));
    let next = 0;
    for (let k = 0; k < parents.length; k++) {
      const p = parents[k];
      if (!live[k]) {
        steps.push({ warn: `Skipping parent ${shown(p.name)}: ${p.dir} points nowhere` });
        continue;
      }
      const typesDir = typesDirs[k];
      const entries = listed[next++];
      if (!('names' in entries)) {
        const code = errnoCode(entries);
        if (code === 'ENOENT' || code === 'ENOTDIR') {
          steps.push({ warn: `Parent ${p.name} has no readable ${typesDir} (${describeSystemError(entries)})` });
          steps.push({ parent: p.name, typesDir, types: [], first: 0 });
          continue;
        }
        steps.push({ fail: new MdevctlError(`Unable to read ${typesDir}: ${describeSystemError(entries)}`) });
        break;
      }
      const types: string[] = [];
      for (let i = 0; i < entries.names.length; i++) {
        const name = entries.names[i];
        const t = entries.types[i];
        if (t === DT.DIR || (t === DT.LNK && isDirectory(`${typesDir}/${name}`))) types.push(name);
      }
      steps.push({ parent: p.name, typesDir, types, first: batch.names.length });
      batch.dir(typesDir);
      for (const t of types) batch.add(`${t}/available_instances`).add(`${t}/device_api`).add(`${t}/name`).add(`${t}/description`);
    }
    const texts = readFiles(batch);
    const result = new Map<string, MdevType[]>();
    for (const step of steps) {
      if ('warn' in step) {
        this.log.warn(step.warn);
        continue;
      }
      if ('fail' in step) throw step.fail;
      const out = new Array<MdevType>(step.types.length);
      for (let i = 0; i < step.types.length; i++) {
        const at = step.first + 4 * i;
        // typesDir is normalized, names have no slash
        const dir = `${step.typesDir}/${step.types[i]}`;
        out[i] = this.typeFrom(step.parent, step.types[i], dir, texts[at], texts[at + 1], texts[at + 2], texts[at + 3]);
      }
      out.sort((x, y) => byteOrder(x.type, y.type));
      result.set(step.parent, out);
    }
    return result;
  }

  /** The type in DIR from what reading its four files gave (see types). */
  private typeFrom(parent: string, type: string, dir: string, avail: ReadResult, api: ReadResult, name: ReadResult, desc: ReadResult): MdevType {
    for (const r of [avail, api]) {
      if (typeof r !== 'string') {
        throw new MdevctlError(`Unable to read mdev type ${type} of ${parent}: ${describeSystemError(r)} (${dir})`);
      }
    }
    const availText = trimLikeUpstream(avail as string);
    const available = parseInstances(availText);
    if (available === null) {
      throw new MdevctlError(`Invalid available_instances '${shown(availText)}' in ${dir}/available_instances: not an integer`);
    }
    return {
      parent,
      type,
      availableInstances: available,
      deviceApi: trimLikeUpstream(api as string),
      name: this.optionalText(`${dir}/name`, name),
      description: this.optionalText(`${dir}/description`, desc).split('\n').join(', '),
    };
  }

  /**
   * A name or description FILE from what reading it gave: trimmed, '' when absent; bytes that are
   * not UTF-8 warned about.
   */
  private optionalText(file: string, read: ReadResult): string {
    if (typeof read !== 'string') {
      const code = errnoCode(read);
      if (code === 'ENOENT' || code === 'ENOTDIR') return '';
      throw new MdevctlError(`Unable to read ${file}: ${describeSystemError(read)}`);
    }
    // U+FFFD: maybe bytes that are not UTF-8 (rare), checked strictly only then
    if (!read.includes('\uFFFD')) return trimLikeUpstream(read);
    const bytes = fs.readFileSync(file);
    try {
      return trimLikeUpstream(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    } catch {
      this.log.warn(`${file} is not valid UTF-8; showing the bytes that are not as U+FFFD`);
      return trimLikeUpstream(bytes.toString('utf8'));
    }
  }

  /** UUIDs listed under sys/bus/mdev/devices (canonical form), non-UUID names skipped. */
  activeUuids(): Array<{ uuid: string; entry: string }> {
    let names: string[];
    try {
      names = fs.readdirSync(this.root.mdevBase);
    } catch {
      return [];
    }
    const out: Array<{ uuid: string; entry: string }> = [];
    for (const entry of names) {
      const uuid = parseUuid(entry);
      if (uuid !== null) out.push({ uuid, entry });
    }
    return out;
  }

  /** All active devices whose links resolve; dangling ones are skipped with a warning. */
  activeDevices(uuidFilter?: string): ActiveDevice[] {
    const found = this.activeUuids().filter((u) => uuidFilter === undefined || u.uuid === uuidFilter);
    const devs = this.resolveAll(found, true);
    return devs.filter((d): d is ActiveDevice => d !== null);
  }

  /** The running device with this UUID, or null. */
  activeDevice(uuid: string): ActiveDevice | null {
    return this.activeDevicesOf([uuid])[0];
  }

  /** activeDevice for each of UUIDS (canonical form), resolved together. */
  activeDevicesOf(uuids: string[]): Array<ActiveDevice | null> {
    return this.resolveAll(
      uuids.map((uuid) => ({ uuid, entry: path.basename(this.root.activePath(uuid)) })),
      false,
    );
  }

  /**
   * The devices at mdevBase/ENTRY, in one batch of readlinks (see fastfs.Batch) with whether each
   * (parent, type) directory exists asked once per pair in another; anything unusual resolved
   * the slow way. WARN: say why a device is skipped.
   */
  private resolveAll(found: Array<{ uuid: string; entry: string }>, warn: boolean): Array<ActiveDevice | null> {
    const base = this.root.mdevBase;
    const links = new Batch().dir(base);
    for (const { entry } of found) links.add(entry).add(`${entry}/mdev_type`);
    const both = readLinks(links);
    const named = new Array<LinkNames | undefined>(found.length);
    const pending = new Map<string, string>();
    for (let i = 0; i < found.length; i++) {
      const n = linkNames(both[2 * i], both[2 * i + 1]);
      named[i] = n;
      if (n !== undefined && !this.typeDirExists.has(n.key) && !pending.has(n.key)) pending.set(n.key, `${found[i].entry}/mdev_type`);
    }
    if (pending.size > 0) {
      const checks = new Batch().dir(base);
      for (const name of pending.values()) checks.add(name);
      const there = exists(checks);
      let i = 0;
      for (const key of pending.keys()) this.typeDirExists.set(key, there[i++]);
    }
    const out = new Array<ActiveDevice | null>(found.length);
    for (let i = 0; i < found.length; i++) {
      const link = `${base}/${found[i].entry}`;
      const dev = this.byLinks(found[i].uuid, link, both[2 * i], named[i]);
      out[i] = dev !== undefined ? dev : this.resolveByRealpath(found[i].uuid, link, warn);
    }
    return out;
  }

  /**
   * The usual case from two readlinks instead of two realpath walks (a readlink per path
   * component each): LINK -> .../PARENT/UUID names the parent, LINK/mdev_type -> .../TYPE names
   * the type (the kernel follows LINK), and TYPE must exist (checked once per parent and type, in
   * typeDirExists). TARGET: what reading LINK gave; NAMED: the names in both targets. null: LINK
   * does not exist (not running); undefined: anything unusual (not a link, a target not ending in
   * PARENT/UUID, a dangling mdev_type), where resolveByRealpath decides and words the warnings.
   */
  private byLinks(uuid: string, link: string, target: ReadResult, named: LinkNames | undefined): ActiveDevice | null | undefined {
    if (typeof target !== 'string') return errnoCode(target) === 'ENOENT' ? null : undefined;
    if (named === undefined || !this.typeDirExists.get(named.key)) return undefined;
    return { uuid, parent: named.parent, type: named.type, dir: link };
  }

  /** The device at LINK the slow way, resolving both links in full; warnings when WARN. */
  private resolveByRealpath(uuid: string, link: string, warn: boolean): ActiveDevice | null {
    let dir: string;
    try {
      dir = fs.realpathSync.native(link);
    } catch (e) {
      if (warn && errnoCode(e) !== 'ENOENT') this.log.warn(`Unable to resolve ${link}: ${describeSystemError(e)}`);
      else if (warn) this.log.warn(`Skipping ${link}: the link points nowhere`);
      return null;
    }
    let typeDir: string;
    try {
      typeDir = fs.realpathSync.native(path.join(dir, 'mdev_type'));
    } catch (e) {
      if (warn) this.log.warn(`Skipping active device ${uuid}: unable to resolve its mdev_type (${describeSystemError(e)})`);
      return null;
    }
    return { uuid, parent: path.basename(path.dirname(dir)), type: path.basename(typeDir), dir };
  }

  /** Does the type dir of a (device link target, mdev_type target) pair exist? By LinkNames.key. */
  private readonly typeDirExists = new Map<string, boolean>();

  /** Directory of TYPE under a registered PARENT, with upstream's checks and messages. */
  typeDir(parent: string, type: string): string {
    const parentDir = this.findParentDir(parent);
    const typesDir = path.join(parentDir, 'mdev_supported_types');
    if (!isDirectory(typesDir)) {
      throw new MdevctlError(`Parent ${parent} is not currently registered for mdev support`);
    }
    checkTypeName(type);
    const dir = path.join(typesDir, type);
    if (!isDirectory(dir)) {
      throw new MdevctlError(`Parent ${parent} does not support mdev type ${type}`);
    }
    return dir;
  }

  availableInstances(typeDir: string): number {
    const file = path.join(typeDir, 'available_instances');
    let text: string;
    try {
      text = readTrimmed(file);
    } catch (e) {
      throw new MdevctlError(`Unable to read ${file}: ${describeSystemError(e)}`);
    }
    const n = parseInstances(text);
    if (n === null) throw new MdevctlError(`Invalid available_instances '${shown(text)}' in ${file}: not an integer`);
    return n - (this.writer.pendingCreates?.(typeDir) ?? 0);
  }

  /** Write the UUID into the type's `create`. */
  create(parent: string, type: string, uuid: string, typeDir: string): void {
    try {
      this.writer.create(typeDir, uuid);
    } catch (e) {
      if (e instanceof MdevctlError) throw e;
      throw new KernelError(
        `Failed to create mdev ${uuid}, type ${type} on ${parent}: ${explainKernelError('create', e)} (${path.join(typeDir, 'create')})`,
        errnoCode(e),
      );
    }
  }

  /** Write one attribute of a running device. */
  writeAttribute(uuid: string, name: string, value: string): void {
    checkAttributeName(name);
    const dir = this.root.activePath(uuid);
    const file = path.join(dir, name);
    const planned = this.writer.attributeExists?.(dir, name);
    if (planned === false) throw new MdevctlError(`Invalid attribute '${shown(name)}'`);
    if (planned === undefined) {
      try {
        fs.lstatSync(file);
      } catch {
        throw new MdevctlError(`Invalid attribute '${shown(name)}'`);
      }
    }
    try {
      this.writer.writeAttribute(dir, name, value);
    } catch (e) {
      if (e instanceof MdevctlError) throw e;
      throw new MdevctlError(`Failed to write ${value} to attribute ${name}: ${explainKernelError('attribute', e)} (${file})`);
    }
  }

  /** Write `1` into the device's `remove`. */
  remove(uuid: string): void {
    const dir = this.root.activePath(uuid);
    try {
      this.writer.remove(dir, uuid);
    } catch (e) {
      if (e instanceof MdevctlError) throw e;
      throw new MdevctlError(`Error removing device ${uuid}: ${explainKernelError('remove', e)} (${path.join(dir, 'remove')})`);
    }
  }
}

/** What a running device's two link targets name: its parent, its type, and the pair's key. */
interface LinkNames {
  parent: string;
  type: string;
  /** The parent's directory (the device link's target without the UUID) and the mdev_type target. */
  key: string;
}

/**
 * The names in a running device's link target (.../PARENT/UUID) and mdev_type target (.../TYPE);
 * undefined when either could not be read or does not end in names.
 */
function linkNames(target: ReadResult, typeTarget: ReadResult): LinkNames | undefined {
  if (typeof target !== 'string' || typeof typeTarget !== 'string') return undefined;
  const parent = lastComponent(target, 1);
  const type = lastComponent(typeTarget, 0);
  if (parent === undefined || type === undefined || lastComponent(target, 0) === undefined) return undefined;
  return { parent, type, key: `${target.slice(0, target.lastIndexOf('/'))}\0${typeTarget}` };
}

/** The component of a link target NTH from the end (0: the last), undefined when it is not a name. */
function lastComponent(target: string, nth: number): string | undefined {
  let end = target.length;
  while (end > 0 && target[end - 1] === '/') end--;
  for (let i = 0; i < nth; i++) {
    const slash = target.lastIndexOf('/', end - 1);
    if (slash < 0) return undefined;
    end = slash;
  }
  const start = target.lastIndexOf('/', end - 1) + 1;
  const name = target.slice(start, end);
  return name === '' || name === '.' || name === '..' ? undefined : name;
}

/** available_instances as Rust's i32 parse reads it: optional sign, decimal digits. */
export function parseInstances(text: string): number | null {
  if (!/^[+-]?\d+$/.test(text)) return null;
  const n = Number(text);
  if (n > 2147483647 || n < -2147483648) return null;
  return n;
}
