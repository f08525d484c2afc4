/**
 * The sysfs side of NVIDIA vendor-specific VFIO vGPUs: virtual functions (VFs) under
 * sys/bus/pci/devices, their PF (`physfn`), driver, `nvidia/creatable_vgpu_types` and
 * `nvidia/current_vgpu_type`; the write of a type through the context's KernelWriter (real,
 * simulated or a dry run's recorder); and who holds a VF's VFIO device open (proc/PID/fd).
 */
import fs = require('node:fs');
import path = require('node:path');
import { Root } from '../util/root';
import { KernelWriter } from '../kernel/sysfs';
import { MdevctlError, describeSystemError, errnoCode } from '../util/errors';
import { shown } from '../model/validate';
import { byteOrder } from '../model/order';
import { linkName } from '../util/fastfs';

export const TYPE_FILE = 'nvidia/current_vgpu_type';
export const CREATABLE_FILE = 'nvidia/creatable_vgpu_types';

export interface VgpuType {
  id: number;
  name: string;
}

/** One virtual function as sysfs shows it now. */
export interface VirtualFunction {
  vf: string;
  /** The PF (target of `physfn`), null when the link is missing. */
  pf: string | null;
  /** The bound driver's name, null when none. */
  driver: string | null;
  /** Current type id (0: none); null when the VF has no nvidia/current_vgpu_type. */
  current: number | null;
  /** What the VF can create now (on a VF with a type: its own type, or nothing). */
  creatable: VgpuType[];
}

const BDF = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;

/**
 * A PCI address (domain:bus:device.function), lower case, domain 0000 when left out (`3d:00.4`);
 * else an error naming the option.
 */
export function checkBdf(value: string, what: string): string {
  let v = value.toLowerCase();
  if (/^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/.test(v)) v = `0000:${v}`;
  if (!BDF.test(v)) {
    throw new MdevctlError(`Invalid ${what} '${shown(value)}': expected a PCI address like 0000:3d:00.4`);
  }
  return v;
}

/**
 * Parse `creatable_vgpu_types`: the header line (`ID    : vGPU Name`) is skipped, each other line
 * is split at its first `:` (names hold spaces and may hold colons). Lines that are not
 * `NUMBER : NAME` are ignored.
 */
export function parseCreatable(text: string): VgpuType[] {
  const out: VgpuType[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s*:\s*(.*?)\s*$/.exec(line);
    if (m && m[2] !== '') out.push({ id: Number(m[1]), name: m[2] });
  }
  return out;
}

/** A process holding one of a VF's VFIO device nodes open. */
export interface Holder {
  pid: number;
  comm: string;
  /** The node as the process sees it: /dev/vfio/GROUP or /dev/vfio/devices/vfioN. */
  node: string;
}

export class VgpuSysfs {
  constructor(
    readonly root: Root,
    readonly writer: KernelWriter,
  ) {}

  dir(vf: string): string {
    return this.root.pciDevicePath(vf);
  }

  /** Does the VF exist (sys/bus/pci/devices/VF)? */
  exists(vf: string): boolean {
    try {
      fs.statSync(this.dir(vf));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The PCI functions that are NVIDIA vGPU VFs: those with nvidia/current_vgpu_type, and the
   * VFs of an NVIDIA PF that have none (not bound to nvidia) and are not mdev parents, byte order.
   */
  names(): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.root.pciDevicesBase);
    } catch {
      return [];
    }
    return names
      .filter((n) => {
        const dir = path.join(this.root.pciDevicesBase, n);
        if (fs.existsSync(path.join(dir, TYPE_FILE))) return true;
        // a VF that is an mdev parent (vGPU 16 and older on SR-IOV boards) belongs to mdev
        if (fs.existsSync(path.join(dir, 'mdev_supported_types'))) return false;
        try {
          return fs.readFileSync(path.join(dir, 'physfn', 'vendor'), 'utf8').trim() === '0x10de';
        } catch {
          return false;
        }
      })
      .sort(byteOrder);
  }

  /** The VF as sysfs shows it; null when it does not exist. */
  read(vf: string): VirtualFunction | null {
    const dir = this.dir(vf);
    if (!this.exists(vf)) return null;
    const pf = linkName(path.join(dir, 'physfn'));
    const driver = linkName(path.join(dir, 'driver'));
    let current: number | null = null;
    const typeFile = path.join(dir, TYPE_FILE);
    try {
      const text = fs.readFileSync(typeFile, 'utf8').trim();
      if (!/^\d+$/.test(text)) throw new MdevctlError(`Invalid vGPU type '${shown(text)}' in ${typeFile}: not a number`);
      current = Number(text);
    } catch (e) {
      if (e instanceof MdevctlError) throw e;
      if (errnoCode(e) !== 'ENOENT') throw new MdevctlError(`Unable to read ${typeFile}: ${describeSystemError(e)}`);
    }
    let creatable: VgpuType[] = [];
    try {
      creatable = parseCreatable(fs.readFileSync(path.join(dir, CREATABLE_FILE), 'utf8'));
    } catch {
      /* none */
    }
    return { vf, pf, driver, current, creatable };
  }

  /** Every vGPU VF, byte order. */
  all(): VirtualFunction[] {
    return this.names()
      .map((n) => this.read(n))
      .filter((v): v is VirtualFunction => v !== null);
  }

  /** Write VALUE into the VF's nvidia/current_vgpu_type (errors: the system error, unexplained). */
  writeType(vf: string, value: number): void {
    this.writer.writeAttribute(this.dir(vf), TYPE_FILE, String(value));
  }

  /** The type file's path, for messages. */
  typeFile(vf: string): string {
    return path.join(this.dir(vf), TYPE_FILE);
  }

  /** The VF's VFIO device nodes as processes see them: /dev/vfio/GROUP and /dev/vfio/devices/vfioN. */
  vfioNodes(vf: string): string[] {
    const dir = this.dir(vf);
    const nodes: string[] = [];
    const group = linkName(path.join(dir, 'iommu_group'));
    if (group !== null) nodes.push(`/dev/vfio/${group}`);
    try {
      for (const n of fs.readdirSync(path.join(dir, 'vfio-dev')).sort(byteOrder)) {
        if (/^vfio\d+$/.test(n)) nodes.push(`/dev/vfio/devices/${n}`);
      }
    } catch {
      /* no cdev */
    }
    return nodes;
  }

  /**
   * Processes that hold one of the VF's VFIO nodes open, found by reading every proc/PID/fd/N
   * link under the root (a link relative to its directory is taken inside the root, so that a
   * fixture can model it). Processes whose fds cannot be read are skipped.
   */
  holders(vf: string): Holder[] {
    const nodes = new Set(this.vfioNodes(vf));
    if (nodes.size === 0) return [];
    let pids: string[];
    try {
      pids = fs.readdirSync(this.root.procBase).filter((n) => /^\d+$/.test(n));
    } catch {
      return [];
    }
    const out: Holder[] = [];
    for (const pid of pids.sort((a, b) => Number(a) - Number(b))) {
      const fdDir = path.join(this.root.procBase, pid, 'fd');
      let fds: string[];
      try {
        fds = fs.readdirSync(fdDir);
      } catch {
        continue;
      }
      for (const fd of fds) {
        let target: string;
        try {
          target = fs.readlinkSync(path.join(fdDir, fd));
        } catch {
          continue;
        }
        if (!path.isAbsolute(target)) target = `/${path.relative(this.root.dir, path.resolve(fdDir, target))}`;
        if (!nodes.has(target)) continue;
        let comm = '?';
        try {
          comm = fs.readFileSync(path.join(this.root.procBase, pid, 'comm'), 'utf8').trim();
        } catch {
          /* gone meanwhile */
        }
        out.push({ pid: Number(pid), comm, node: target });
        break;
      }
    }
    return out;
  }
}

/** What a failed write of current_vgpu_type means, per errno (setting a type / clearing it). */
const MEANING: Record<'set' | 'clear', Record<string, string>> = {
  set: {
    EPERM: 'the VF already has a vGPU type (stop it first, or use --force)',
    EIO: 'the driver cannot create this vGPU now: no framebuffer left on the GPU, a framebuffer size other than its running vGPUs (heterogeneous mode off: nvidia-smi vgpu -shm 1), or a MIG GPU instance missing; see dmesg',
    EINVAL: 'not a vGPU type id of this GPU (see mdevctl vgpu types)',
    EBUSY: 'the VF is in use',
    ENODEV: 'the driver does not know this type id',
    ENOSPC: 'no more vGPUs of this type fit on the GPU',
    EACCES: 'permission denied: mdevctl must run as root',
  },
  clear: {
    EPERM: 'the driver refused to destroy the vGPU (none exists, or the VF is not ready yet after the VM closed it)',
    EBUSY: "the VF's VFIO device is in use (a VM still holds it)",
    EIO: 'the driver failed to destroy the vGPU; see dmesg',
    EACCES: 'permission denied: mdevctl must run as root',
  },
};

/** A failed write explained: `Failed to write V to FILE: TEXT (ERRNO): MEANING`. */
export function writeFailure(file: string, value: number, err: unknown): MdevctlError {
  if (err instanceof MdevctlError) return err;
  const code = errnoCode(err);
  const meaning = code ? MEANING[value === 0 ? 'clear' : 'set'][code] : undefined;
  return new MdevctlError(`Failed to write ${value} to ${file}: ${describeSystemError(err)}${meaning ? `: ${meaning}` : ''}`);
}
