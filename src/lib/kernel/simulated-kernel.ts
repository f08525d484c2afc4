/**
 * The simulated kernel: a KernelWriter for fixture roots (`--simulate`, MDEVCTL_SIMULATE=1) that
 * changes the tree the way the kernel changes /sys, so that `start`, `list`, attribute writes and
 * `stop` work on a fixture as on a host.
 *
 * Writing a UUID into TYPE/create makes PARENT/UUID/ with `mdev_type`, `remove`, `subsystem`,
 * `iommu_group` (a new group) and `driver` links and the attribute files of the type's vendor
 * driver; links it from TYPE/devices/UUID and sys/bus/mdev/devices/UUID; and decrements
 * TYPE/available_instances. Writing `remove` undoes all of it and increments the count. It
 * refuses what the kernel refuses, with the kernel's errno: no instance left (EUSERS, as the mdev
 * core does), a UUID in use (EEXIST), a malformed UUID (EINVAL), a read-only attribute (EACCES).
 *
 * Which attribute files a new device gets is decided by its vendor driver, named by the type
 * directory's prefix (`DRIVER-NAME`, as the kernel names types): see DRIVERS. For a driver not
 * listed there, a running device of the same type serves as the model (its regular files, empty).
 * Writing an attribute stores the value written in its file, so a test can read back what was
 * written.
 *
 * Late arrivals (a vendor daemon that registers its parent or types some time after boot): an
 * entry under sys/ named `NAME.after-N` (N seconds, fractions allowed) is renamed to NAME once N
 * seconds have passed since the first tick() of this process (start-all ticks before each look
 * at the tree while it waits). So `mdev_supported_types.after-2` in a parent's directory makes the
 * parent register 2 s into the wait, `TYPE.after-2` a type, `sys/class/mdev_bus/PARENT.after-2`
 * the class link; a large N (`.after-99999`) stands for something that never comes.
 */
import fs = require('node:fs');
import path = require('node:path');
import { Root } from '../util/root';
import { KernelWriter } from './sysfs';
import { MdevctlError, errnoCode } from '../util/errors';
import { isVgpuTypeFile, writeVgpuType } from './nvidia-vgpu-model';

/** sysfs's statfs magic: a root whose sys/ is a real sysfs is never simulated. */
const SYSFS_MAGIC = 0x62656572;

type Access = 'rw' | 'ro' | 'wo';

export interface DeviceFile {
  /** Path inside the device directory (may contain one '/'). */
  name: string;
  access: Access;
  content: string;
}

interface DriverModel {
  /** Name of the mdev driver the device binds to (sys/bus/mdev/drivers/NAME). */
  mdevDriver: string;
  files(uuid: string, parentDir: string, type: string): DeviceFile[];
}

const file = (name: string, access: Access, content = ''): DeviceFile => ({ name, access, content });

/** The file modes the kernel gives attributes with a show method only, a store method only, both. */
const MODES: Record<Access, number> = { ro: 0o444, wo: 0o200, rw: 0o644 };

const MDPY_RESOLUTIONS: Record<string, string> = { 'mdpy-vga': '640x480', 'mdpy-xga': '1024x768', 'mdpy-hd': '1920x1080' };
const MBOCHS_MEMORY_MB: Record<string, number> = { 'mbochs-small': 4, 'mbochs-medium': 16, 'mbochs-large': 64 };

/** The smallest positive GVT-g vGPU id not used by another device of the parent. */
function nextVgpuId(parentDir: string): number {
  const used = new Set<number>();
  let names: string[] = [];
  try {
    names = fs.readdirSync(parentDir);
  } catch {
    /* no devices */
  }
  for (const n of names) {
    try {
      used.add(Number(fs.readFileSync(path.join(parentDir, n, 'intel_vgpu/vgpu_id'), 'utf8').trim()));
    } catch {
      /* not a vGPU */
    }
  }
  let id = 1;
  while (used.has(id)) id++;
  return id;
}

/**
 * What each vendor driver puts in a new device's directory, keyed by the type prefix. These are
 * the files scripts/make-fixtures (src/lib/kernel/fixtures.ts) gives the running devices it lays out.
 */
export const DRIVERS: Record<string, DriverModel> = {
  i915: {
    mdevDriver: 'intel_vgpu_mdev',
    files: (_uuid, parentDir) => [file('intel_vgpu/vgpu_id', 'ro', `${nextVgpuId(parentDir)}\n`)],
  },
  nvidia: { mdevDriver: 'nvidia-vgpu-vfio', files: () => [file('nvidia/vgpu_params', 'rw')] },
  vfio_ap: {
    mdevDriver: 'vfio_ap_mdev',
    files: () => [
      file('matrix', 'ro'),
      file('control_domains', 'ro'),
      ...['adapter', 'domain', 'control_domain'].flatMap((a) => [file(`assign_${a}`, 'wo'), file(`unassign_${a}`, 'wo')]),
    ],
  },
  vfio_ccw: { mdevDriver: 'vfio_ccw_mdev', files: () => [] },
  // The kernel's mdev samples (samples/vfio-mdev), as Linux 6.1 and 6.12 make them
  // (kernel-tests/layouts/): one read-only vendor attribute each.
  mtty: { mdevDriver: 'mtty', files: (uuid) => [file('vendor/sample_mdev_dev', 'ro', `This is MDEV ${uuid}\n`)] },
  mdpy: {
    mdevDriver: 'mdpy',
    files: (_uuid, _parentDir, type) => [file('vendor/resolution', 'ro', `${MDPY_RESOLUTIONS[type] ?? ''}\n`)],
  },
  mbochs: {
    mdevDriver: 'mbochs',
    files: (_uuid, _parentDir, type) => [file('vendor/memory', 'ro', `${MBOCHS_MEMORY_MB[type] ?? 0} MB\n`)],
  },
};

function kernelError(code: string, op: string, p: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: ${op} '${p}'`) as NodeJS.ErrnoException;
  e.code = code;
  e.syscall = op;
  e.path = p;
  return e;
}

function exists(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function relLink(target: string, link: string): void {
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.symlinkSync(path.relative(path.dirname(link), target), link);
}

function unlinkQuiet(p: string): void {
  try {
    fs.unlinkSync(p);
  } catch {
    /* already gone */
  }
}

const UUID_TEXT = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\n?$/;

/** Attribute files of a running device, to model a new one on (driver not in DRIVERS). */
function filesLike(deviceDir: string): DeviceFile[] {
  const out: DeviceFile[] = [];
  const walk = (dir: string, prefix: string, depth: number) => {
    let ents: fs.Dirent[];
    try {
      ents = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of ents) {
      const name = prefix + e.name;
      if (e.isFile() && name !== 'remove') {
        const mode = fs.statSync(path.join(dir, e.name)).mode;
        out.push(file(name, (mode & 0o222) === 0 ? 'ro' : (mode & 0o444) === 0 ? 'wo' : 'rw'));
      } else if (e.isDirectory() && depth < 2) walk(path.join(dir, e.name), `${name}/`, depth + 1);
    }
  };
  walk(deviceDir, '', 1);
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The driver model of a type directory, from its name's prefix (`vfio_ap-passthrough` -> vfio_ap). */
export function driverOf(typeName: string): DriverModel | undefined {
  const dash = typeName.indexOf('-');
  const prefix = dash > 0 ? typeName.slice(0, dash) : '';
  return Object.prototype.hasOwnProperty.call(DRIVERS, prefix) ? DRIVERS[prefix] : undefined;
}

/**
 * The attribute files a new device of the type at TYPE_DIR (canonical path) would get, or null
 * when unknown (no driver model and no running device of the type to learn from).
 */
export function declaredDeviceFiles(typeDir: string, uuid: string): DeviceFile[] | null {
  const parentDir = path.dirname(path.dirname(typeDir));
  const model = driverOf(path.basename(typeDir));
  if (model) return model.files(uuid, parentDir, path.basename(typeDir));
  let siblings: string[] = [];
  try {
    siblings = fs.readdirSync(path.join(typeDir, 'devices')).sort();
  } catch {
    /* none running */
  }
  for (const s of siblings) {
    const dir = path.join(parentDir, s);
    if (exists(dir)) return filesLike(dir);
  }
  return null;
}

function readCount(file: string): number {
  const text = fs.readFileSync(file, 'utf8').trim();
  if (!/^[+-]?\d+$/.test(text)) throw kernelError('EINVAL', 'read', file);
  return Number(text);
}

/** The smallest IOMMU group number not in use under sys/kernel/iommu_groups. */
function freeGroup(groupsDir: string): number {
  let names: string[] = [];
  try {
    names = fs.readdirSync(groupsDir);
  } catch {
    /* none yet */
  }
  const used = new Set(names.map(Number));
  let n = 0;
  while (used.has(n)) n++;
  return n;
}

/** Refuse to simulate on a real system: the root `/`, or a root whose sys/ is a mounted sysfs. */
export function checkSimulatable(root: Root): void {
  let real = root.dir;
  try {
    real = fs.realpathSync.native(root.dir);
  } catch {
    /* a missing root is caught by the commands */
  }
  if (root.isSystemRoot || real === '/') {
    throw new MdevctlError('--simulate (MDEVCTL_SIMULATE) is refused on the real root /: the simulated kernel only runs on fixture roots (give --root DIR)');
  }
  try {
    if (fs.statfsSync(path.join(real, 'sys')).type === SYSFS_MAGIC) {
      throw new MdevctlError(`--simulate (MDEVCTL_SIMULATE) is refused on ${root.dir}: its sys/ is a real sysfs`);
    }
  } catch (e) {
    if (e instanceof MdevctlError) throw e;
  }
}

/** Name of an entry that appears late (see the file's comment): NAME.after-SECONDS. */
const LATE = /^(.+)\.after-(\d+(?:\.\d+)?)$/;

interface LateEntry {
  from: string;
  to: string;
  dueMs: number;
}

/** Every late entry under DIR (symlinks are not followed), at most DEPTH levels down. */
function findLate(dir: string, depth: number, out: LateEntry[]): LateEntry[] {
  let ents: fs.Dirent[];
  try {
    ents = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of ents) {
    const p = path.join(dir, e.name);
    const m = LATE.exec(e.name);
    if (m) out.push({ from: p, to: path.join(dir, m[1]), dueMs: Number(m[2]) * 1000 });
    else if (e.isDirectory() && depth > 0) findLate(p, depth - 1, out);
  }
  return out;
}

/**
 * Writes one of the kernel's own read-only files (available_instances is 0444, as on a real
 * kernel): the kernel changes it whatever its mode, and so does the simulation, for root and for a
 * user who owns the fixture (made with `mdevctl fixture`) alike; its mode stays as it was.
 */
function updateOwnFile(file: string, text: string): void {
  const mode = fs.statSync(file).mode & 0o7777;
  if (mode & 0o200) return fs.writeFileSync(file, text);
  fs.chmodSync(file, mode | 0o200);
  try {
    fs.writeFileSync(file, text);
  } finally {
    fs.chmodSync(file, mode);
  }
}

export class SimulatedKernel implements KernelWriter {
  /** Late entries not yet renamed, and when the clock started (first tick). */
  private late?: { start: number; entries: LateEntry[] };

  constructor(readonly root: Root) {
    checkSimulatable(root);
  }

  /** Rename the late entries that are due (the first call starts the clock). */
  tick(): void {
    if (!this.late) this.late = { start: Date.now(), entries: findLate(this.root.join('sys'), 12, []) };
    const elapsed = Date.now() - this.late.start;
    this.late.entries = this.late.entries.filter((e) => {
      if (e.dueMs > elapsed) return true;
      fs.renameSync(e.from, e.to);
      return false;
    });
  }

  create(typeDir: string, uuid: string): void {
    const createFile = path.join(typeDir, 'create');
    fs.accessSync(createFile); // ENOENT when the type is gone, as a write would fail
    if (!UUID_TEXT.test(uuid)) throw kernelError('EINVAL', 'write', createFile);
    const id = uuid.trim().toLowerCase();
    const realType = fs.realpathSync.native(typeDir);
    const parentDir = path.dirname(path.dirname(realType));
    const devDir = path.join(parentDir, id);
    const busLink = this.root.activePath(id);
    if (exists(busLink) || exists(devDir)) throw kernelError('EEXIST', 'write', createFile);
    const availFile = path.join(realType, 'available_instances');
    const available = readCount(availFile);
    if (available <= 0) throw kernelError('EUSERS', 'write', createFile);

    const files = declaredDeviceFiles(realType, id) ?? [];
    const model = driverOf(path.basename(realType));
    try {
      fs.mkdirSync(devDir);
      relLink(realType, path.join(devDir, 'mdev_type'));
      fs.writeFileSync(path.join(devDir, 'remove'), '', { mode: MODES.wo });
      relLink(this.root.join('sys/bus/mdev'), path.join(devDir, 'subsystem'));
      const groupsDir = this.root.join('sys/kernel/iommu_groups');
      const group = path.join(groupsDir, String(freeGroup(groupsDir)));
      relLink(devDir, path.join(group, 'devices', id));
      relLink(group, path.join(devDir, 'iommu_group'));
      if (model) {
        const driverDir = this.root.join('sys/bus/mdev/drivers', model.mdevDriver);
        relLink(devDir, path.join(driverDir, id));
        relLink(driverDir, path.join(devDir, 'driver'));
      }
      for (const f of files) {
        const p = path.join(devDir, f.name);
        fs.mkdirSync(path.dirname(p), { recursive: true });
        fs.writeFileSync(p, f.content, { mode: MODES[f.access] });
      }
      relLink(devDir, path.join(realType, 'devices', id));
      relLink(devDir, busLink);
      updateOwnFile(availFile, `${available - 1}\n`);
    } catch (e) {
      this.undo(id, devDir, realType);
      throw e;
    }
  }

  remove(deviceDir: string, uuid: string): void {
    // the kernel's `remove` file: absent when the device is not there
    fs.lstatSync(path.join(deviceDir, 'remove'));
    const devDir = fs.realpathSync.native(deviceDir);
    const realType = fs.realpathSync.native(path.join(devDir, 'mdev_type'));
    const availFile = path.join(realType, 'available_instances');
    const available = readCount(availFile);
    this.undo(uuid, devDir, realType);
    updateOwnFile(availFile, `${available + 1}\n`);
  }

  writeAttribute(deviceDir: string, name: string, value: string): void {
    // NVIDIA vendor-specific VFIO: the VF's vGPU type (src/lib/kernel/nvidia-vgpu-model.ts)
    if (isVgpuTypeFile(name)) return writeVgpuType(deviceDir, value);
    const p = path.join(deviceDir, name);
    const st = fs.statSync(p);
    if (st.isDirectory()) throw kernelError('EISDIR', 'open', p);
    // kernfs refuses to open an attribute without a store method for writing, even for root
    if ((st.mode & 0o222) === 0) throw kernelError('EACCES', 'open', p);
    fs.writeFileSync(p, value);
  }

  /** Remove everything create() makes for UUID (whatever part of it exists). */
  private undo(uuid: string, devDir: string, realType: string): void {
    unlinkQuiet(this.root.activePath(uuid));
    unlinkQuiet(path.join(realType, 'devices', uuid));
    for (const [linkName, back] of [
      ['iommu_group', path.join('devices', uuid)],
      ['driver', uuid],
    ]) {
      let target: string;
      try {
        target = fs.realpathSync.native(path.join(devDir, linkName));
      } catch {
        continue;
      }
      unlinkQuiet(path.join(target, back));
      if (linkName === 'iommu_group') {
        // the group goes with its last device
        try {
          if (fs.readdirSync(path.join(target, 'devices')).length === 0) fs.rmSync(target, { recursive: true });
        } catch (e) {
          if (errnoCode(e) !== 'ENOENT') throw e;
        }
      }
    }
    fs.rmSync(devDir, { recursive: true, force: true });
  }
}
