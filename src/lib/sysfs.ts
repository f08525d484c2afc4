/**
 * The sysfs adapter: reads parents, their supported types and the active devices from a real or
 * fixture /sys under the root, and performs the kernel writes (create, remove, attributes)
 * through a pluggable KernelWriter (the real kernel, or the simulated one for fixture roots).
 */
import fs = require('node:fs');
import path = require('node:path');
import { Root } from './root';
import { Log } from './log';
import { MdevctlError, describeSystemError, errnoCode } from './errors';
import { parseUuid } from './uuid';
import { readText, readTextIfExists, withDir } from './fastfs';
import { checkAttributeName, checkParentName, checkTypeName, shown } from './validate';
import { byteOrder } from './order';

export interface ActiveDevice {
  uuid: string;
  parent: string;
  type: string;
  /** Device directory: sys/devices/.../PARENT/UUID, or the sys/bus/mdev/devices/UUID link to it. */
  dir: string;
}

export interface MdevType {
  parent: string;
  type: string;
  availableInstances: number;
  deviceApi: string;
  name: string;
  description: string;
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
const EDGE_SPACE = /^[\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;

export function trimLikeUpstream(text: string): string {
  return text.replace(EDGE_SPACE, '');
}

function readTrimmed(file: string): string {
  return trimLikeUpstream(readText(file));
}

function isDirFollow(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
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
    if (isDirFollow(dir)) return dir;
    const scanned = isDirFollow(this.root.parentBase) ? undefined : this.parents().find((p) => p.name === parent);
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

  /** Types supported by each parent (optionally only PARENT), types in byte order. */
  types(parentFilter?: string): Map<string, MdevType[]> {
    const result = new Map<string, MdevType[]>();
    for (const p of this.parents()) {
      if (parentFilter !== undefined && parentFilter !== p.name) continue;
      if (!isDirFollow(p.dir)) {
        this.log.warn(`Skipping parent ${shown(p.name)}: ${p.dir} points nowhere`);
        continue;
      }
      result.set(p.name, this.parentTypes(p));
    }
    return result;
  }

  parentTypes(p: ParentEntry): MdevType[] {
    const typesDir = path.join(p.dir, 'mdev_supported_types');
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(typesDir, { withFileTypes: true });
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        this.log.warn(`Parent ${p.name} has no readable ${path.join(typesDir)} (${describeSystemError(e)})`);
        return [];
      }
      throw new MdevctlError(`Unable to read ${typesDir}: ${describeSystemError(e)}`);
    }
    const out: MdevType[] = [];
    // names relative to typesDir (see withDir); messages name the whole path
    withDir(typesDir, (base) => {
      for (const ent of entries) {
        const at = `${base}${ent.name}`;
        if (!ent.isDirectory() && !(ent.isSymbolicLink() && isDirFollow(at))) continue;
        out.push(this.readType(p.name, ent.name, `${typesDir}/${ent.name}`, at)); // typesDir is normalized, names have no slash
      }
    });
    out.sort((a, b) => byteOrder(a.type, b.type));
    return out;
  }

  /** The type in DIR, read through AT (DIR, or DIR relative to the working directory). */
  private readType(parent: string, type: string, dir: string, at: string): MdevType {
    let availText: string;
    let deviceApi: string;
    try {
      availText = readTrimmed(`${at}/available_instances`);
      deviceApi = readTrimmed(`${at}/device_api`);
    } catch (e) {
      throw new MdevctlError(`Unable to read mdev type ${type} of ${parent}: ${describeSystemError(e)} (${dir})`);
    }
    const available = parseInstances(availText);
    if (available === null) {
      throw new MdevctlError(`Invalid available_instances '${shown(availText)}' in ${dir}/available_instances: not an integer`);
    }
    return {
      parent,
      type,
      availableInstances: available,
      deviceApi,
      name: this.readOptionalText(`${dir}/name`, `${at}/name`),
      description: this.readOptionalText(`${dir}/description`, `${at}/description`).split('\n').join(', '),
    };
  }

  /**
   * A name or description FILE (read through AT, see readType): trimmed, '' when absent; bytes
   * that are not UTF-8 warned about.
   */
  private readOptionalText(file: string, at = file): string {
    let text: string | null;
    try {
      text = readTextIfExists(at);
    } catch (e) {
      throw new MdevctlError(`Unable to read ${file}: ${describeSystemError(e)}`);
    }
    if (text === null) return '';
    // U+FFFD: maybe bytes that are not UTF-8 (rare), checked strictly only then
    if (!text.includes('\uFFFD')) return trimLikeUpstream(text);
    const bytes = fs.readFileSync(at);
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
    const out: ActiveDevice[] = [];
    const uuids = this.activeUuids();
    // links relative to mdevBase (see withDir); devices and messages name the whole path
    withDir(this.root.mdevBase, (base) => {
      for (const { uuid, entry } of uuids) {
        if (uuidFilter !== undefined && uuid !== uuidFilter) continue;
        const dev = this.resolveActive(uuid, `${this.root.mdevBase}/${entry}`, true, `${base}${entry}`);
        if (dev) out.push(dev);
      }
    });
    return out;
  }

  /** The running device with this UUID, or null. */
  activeDevice(uuid: string): ActiveDevice | null {
    return this.resolveActive(uuid, this.root.activePath(uuid), false);
  }

  /** The device at LINK (read through AT: LINK, or LINK relative to the working directory). */
  private resolveActive(uuid: string, link: string, warn: boolean, at = link): ActiveDevice | null {
    const fast = this.resolveByLinks(uuid, link, at);
    if (fast !== undefined) return fast;
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

  /**
   * The usual case in two syscalls instead of two realpath walks (a readlink per path component
   * each): LINK -> .../PARENT/UUID names the parent, LINK/mdev_type -> .../TYPE names the type (the
   * kernel follows LINK), and TYPE must exist (checked once per parent and type). null: LINK does not exist (not running); undefined:
   * anything unusual (not a link, a target not ending in PARENT/UUID, a dangling mdev_type), where
   * the realpath code decides and words the warnings.
   */
  private resolveByLinks(uuid: string, link: string, at: string): ActiveDevice | null | undefined {
    let target: string;
    try {
      target = fs.readlinkSync(at);
    } catch (e) {
      return errnoCode(e) === 'ENOENT' ? null : undefined;
    }
    const parent = lastComponent(target, 1);
    if (parent === undefined || lastComponent(target, 0) === undefined) return undefined;
    const typeLink = `${at}/mdev_type`;
    let typeTarget: string;
    try {
      typeTarget = fs.readlinkSync(typeLink);
    } catch {
      return undefined;
    }
    const type = lastComponent(typeTarget, 0);
    if (type === undefined) return undefined;
    // Devices of one parent share their type dirs: check each one's existence once.
    const key = `${target.slice(0, target.lastIndexOf('/'))}\0${typeTarget}`;
    let exists = this.typeDirExists.get(key);
    if (exists === undefined) this.typeDirExists.set(key, (exists = fs.existsSync(typeLink)));
    return exists ? { uuid, parent, type, dir: link } : undefined;
  }

  /** resolveByLinks: does the type dir (parent dir of the device link's target + mdev_type target) exist? */
  private readonly typeDirExists = new Map<string, boolean>();

  /** Directory of TYPE under a registered PARENT, with upstream's checks and messages. */
  typeDir(parent: string, type: string): string {
    const parentDir = this.findParentDir(parent);
    const typesDir = path.join(parentDir, 'mdev_supported_types');
    if (!isDirFollow(typesDir)) {
      throw new MdevctlError(`Parent ${parent} is not currently registered for mdev support`);
    }
    checkTypeName(type);
    const dir = path.join(typesDir, type);
    if (!isDirFollow(dir)) {
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
      throw new MdevctlError(
        `Failed to create mdev ${uuid}, type ${type} on ${parent}: ${explainKernelError('create', e)} (${path.join(typeDir, 'create')})`,
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
