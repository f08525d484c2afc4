/**
 * A model of NVIDIA's vendor-specific VFIO vGPU driver (vGPU 17+, no mdev), for fixture roots and
 * the simulated kernel. What it models (from the open part of NVIDIA's vGPU-KVM driver, NVIDIA's
 * upstream RFC with the same ABI, and reports from real hosts by Proxmox, Harvester, hypeman and
 * others; the heterogeneous mode of `nvidia-smi vgpu -shm 1` and MIG-backed types are not modelled):
 *
 * - Each SR-IOV VF bound to `nvidia` has `nvidia/creatable_vgpu_types` (header `ID    : vGPU Name`,
 *   then `%-5d : %s` lines) and `nvidia/current_vgpu_type` (`0` = none). The PF has no `nvidia/`.
 * - The creatable list is "creatable now": it shrinks as sibling VFs take framebuffer. In the
 *   default homogeneous mode every vGPU on a GPU has the same framebuffer size. A VF with a type
 *   lists only its own type.
 * - Writing `current_vgpu_type`: a decimal id (kstrtol; a trailing newline is fine) or `0`.
 *   Not a number: EINVAL. `0` with no vGPU: EPERM. An id while a vGPU exists: EPERM. An id the GPU
 *   does not know: EINVAL. A known id that cannot be created now (capacity, mixed sizes): EIO.
 * - A fault seam for tests: `nvidia/.simulate-error` holding `ERRNO COUNT` (e.g. `EBUSY 2`) makes
 *   the next COUNT writes fail with that errno (the VF "not ready right after the VM closed it").
 *
 * The layout (PFs with `virtfn*` links, VFs with `physfn`, `driver`, `iommu_group` and `vfio-dev`)
 * is laid out by layOutVgpuHost for the `nvidia_vfio` fixture template.
 */
import fs = require('node:fs');
import path = require('node:path');
import { Root } from '../util/root';
import { linkName } from '../util/fastfs';

export interface CatalogueType {
  id: number;
  name: string;
  /** Framebuffer in MiB. */
  fb: number;
}

export interface GpuCatalogue {
  /** Board name, for messages. */
  board: string;
  /** Framebuffer of the GPU in MiB. */
  fb: number;
  types: CatalogueType[];
}

const L40S_FB = 49152;

// L40S (48 GB). Ids and names as in a real capture (harvester/pcidevices testdata: 1145 1B ...
// 1166 48A, 2164 3B); the framebuffer sizes follow the names.
const L40S: GpuCatalogue = {
  board: 'NVIDIA L40S',
  fb: L40S_FB,
  types: [
    ...(
      [
        [1145, '1B', 1],
        [1146, '2B', 2],
        [1147, '1Q', 1],
        [1148, '2Q', 2],
        [1149, '3Q', 3],
        [1150, '4Q', 4],
        [1151, '6Q', 6],
        [1152, '8Q', 8],
        [1153, '12Q', 12],
        [1154, '16Q', 16],
        [1155, '24Q', 24],
        [1156, '48Q', 48],
        [1157, '1A', 1],
        [1158, '2A', 2],
        [1159, '3A', 3],
        [1160, '4A', 4],
        [1161, '6A', 6],
        [1162, '8A', 8],
        [1163, '12A', 12],
        [1164, '16A', 16],
        [1165, '24A', 24],
        [1166, '48A', 48],
        [2164, '3B', 3],
      ] as Array<[number, string, number]>
    ).map(([id, suffix, gb]) => ({ id, name: `NVIDIA L40S-${suffix}`, fb: gb * 1024 })),
  ],
};

/** Catalogues by the PF's PCI device id (sysfs `device`). */
export const GPU_CATALOGUES: Record<string, GpuCatalogue> = { '0x26b9': L40S };

export const CREATABLE_HEADER = 'ID    : vGPU Name\n';

/** The file's text for these types, as the driver prints it. */
export function creatableText(types: Array<{ id: number; name: string }>): string {
  return CREATABLE_HEADER + types.map((t) => `${String(t.id).padEnd(5)} : ${t.name}\n`).join('');
}

/**
 * What a VF can create now. OWN: its current type (0: none); SIBLINGS: the current types of the
 * other VFs of its PF.
 */
export function creatableNow(cat: GpuCatalogue, own: number, siblings: number[]): CatalogueType[] {
  if (own !== 0) return cat.types.filter((t) => t.id === own);
  const used = siblings.filter((s) => s !== 0).map((s) => cat.types.find((t) => t.id === s));
  let left = cat.fb;
  for (const u of used) left -= u?.fb ?? 0;
  const size = used.find((u) => u !== undefined)?.fb;
  return cat.types.filter((t) => t.fb <= left && (size === undefined || t.fb === size));
}

// ---------------------------------------------------------------------------------------------
// Fixture layout

/** The builder side of a fixture tree (src/lib/kernel/fixtures.ts): paths relative to the root. */
export interface FixtureTree {
  dir(p: string): void;
  file(p: string, content: string): void;
  /** Symlink at P to TARGET (both relative to the root). */
  link(p: string, target: string): void;
}

interface HostVf {
  bdf: string;
  group: number;
  /** N of vfio-dev/vfioN (the VFIO cdev). */
  cdev: number;
  /** Current vGPU type id (0: none). */
  type?: number;
  /** The driver when not `nvidia` (no nvidia/ group then). */
  driver?: string;
  def?: { start: 'auto' | 'manual'; type: number };
}

interface HostPf {
  bdf: string;
  bridge: string;
  device: string;
  vfs: HostVf[];
}

/**
 * The host of the `nvidia_vfio` template: two L40S boards with four VFs each. 0000:3d:00.4 runs
 * an L40S-4Q held open by a QEMU process; 0000:5e:00.7 is bound to vfio-pci (the mistake the
 * NVIDIA docs warn about). Definitions: 3d:00.4 auto (running), 3d:00.5 manual, 5e:00.4 auto (not
 * running, as after a reboot).
 */
const HOST: HostPf[] = [
  {
    bdf: '0000:3d:00.0',
    bridge: 'pci0000:3a/0000:3a:00.0',
    device: '0x26b9',
    vfs: [
      { bdf: '0000:3d:00.4', group: 120, cdev: 0, type: 1150, def: { start: 'auto', type: 1150 } },
      { bdf: '0000:3d:00.5', group: 121, cdev: 1, def: { start: 'manual', type: 1150 } },
      { bdf: '0000:3d:00.6', group: 122, cdev: 2 },
      { bdf: '0000:3d:00.7', group: 123, cdev: 3 },
    ],
  },
  {
    bdf: '0000:5e:00.0',
    bridge: 'pci0000:5d/0000:5d:00.0',
    device: '0x26b9',
    vfs: [
      { bdf: '0000:5e:00.4', group: 140, cdev: 4, def: { start: 'auto', type: 1148 } },
      { bdf: '0000:5e:00.5', group: 141, cdev: 5 },
      { bdf: '0000:5e:00.6', group: 142, cdev: 6 },
      { bdf: '0000:5e:00.7', group: 143, cdev: 7, driver: 'vfio-pci' },
    ],
  },
];

/** The process that holds 0000:3d:00.4 open in the fixture. */
export const FIXTURE_QEMU = { pid: 4242, comm: 'qemu-system-x86' };

function pciFiles(tree: FixtureTree, dir: string, device: string): void {
  tree.file(`${dir}/vendor`, '0x10de\n');
  tree.file(`${dir}/device`, `${device}\n`);
  tree.file(`${dir}/class`, '0x030200\n');
}

/** Lay out the vendor-specific VFIO host (PFs, VFs, drivers, groups, a QEMU) and its definitions. */
export function layOutVgpuHost(tree: FixtureTree): void {
  const open = HOST[0].vfs[0];
  for (const pf of HOST) {
    const cat = GPU_CATALOGUES[pf.device];
    const pfDir = `sys/devices/${pf.bridge}/${pf.bdf}`;
    pciFiles(tree, pfDir, pf.device);
    tree.file(`${pfDir}/sriov_totalvfs`, '32\n');
    tree.file(`${pfDir}/sriov_numvfs`, `${pf.vfs.length}\n`);
    tree.link(`sys/bus/pci/devices/${pf.bdf}`, pfDir);
    tree.link(`${pfDir}/driver`, 'sys/bus/pci/drivers/nvidia');
    tree.link(`sys/bus/pci/drivers/nvidia/${pf.bdf}`, pfDir);
    const onNvidia = pf.vfs.filter((v) => v.driver === undefined);
    pf.vfs.forEach((vf, i) => {
      const dir = `sys/devices/${pf.bridge}/${vf.bdf}`;
      pciFiles(tree, dir, pf.device);
      tree.link(`${pfDir}/virtfn${i}`, dir);
      tree.link(`${dir}/physfn`, pfDir);
      tree.link(`sys/bus/pci/devices/${vf.bdf}`, dir);
      const driver = vf.driver ?? 'nvidia';
      tree.link(`${dir}/driver`, `sys/bus/pci/drivers/${driver}`);
      tree.link(`sys/bus/pci/drivers/${driver}/${vf.bdf}`, dir);
      tree.link(`${dir}/iommu_group`, `sys/kernel/iommu_groups/${vf.group}`);
      tree.link(`sys/kernel/iommu_groups/${vf.group}/devices/${vf.bdf}`, dir);
      tree.file(`dev/vfio/${vf.group}`, '');
      if (vf.driver === undefined) {
        const own = vf.type ?? 0;
        const siblings = onNvidia.filter((s) => s !== vf).map((s) => s.type ?? 0);
        tree.file(`${dir}/nvidia/creatable_vgpu_types`, creatableText(creatableNow(cat, own, siblings)));
        tree.file(`${dir}/nvidia/current_vgpu_type`, `${own}\n`);
        tree.file(`${dir}/vfio-dev/vfio${vf.cdev}/dev`, `511:${vf.cdev}\n`);
        tree.file(`dev/vfio/devices/vfio${vf.cdev}`, '');
      }
      if (vf.def) {
        const name = cat.types.find((t) => t.id === vf.def!.type)!.name;
        const cfg = { vf: vf.bdf, pf: pf.bdf, type_id: vf.def.type, type_name: name, start: vf.def.start };
        tree.file(`etc/mdevctl-vgpu.d/${vf.bdf}.json`, JSON.stringify(cfg, null, 2));
      }
    });
  }
  tree.file(`proc/${FIXTURE_QEMU.pid}/comm`, `${FIXTURE_QEMU.comm}\n`);
  tree.link(`proc/${FIXTURE_QEMU.pid}/fd/23`, `dev/vfio/${open.group}`);
  tree.link(`proc/${FIXTURE_QEMU.pid}/fd/24`, `dev/vfio/devices/vfio${open.cdev}`);
}

// ---------------------------------------------------------------------------------------------
// The driver, acting on a fixture root (used by the simulated kernel)

function errnoError(code: string, p: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: write '${p}'`) as NodeJS.ErrnoException;
  e.code = code;
  e.syscall = 'write';
  e.path = p;
  return e;
}

function currentOf(vfDir: string): number {
  try {
    const n = Number(fs.readFileSync(path.join(vfDir, 'nvidia/current_vgpu_type'), 'utf8').trim());
    return Number.isInteger(n) ? n : 0;
  } catch {
    return 0;
  }
}

/** The VF directories (canonical) of the PF at PF_DIR that are bound to nvidia, in virtfn order. */
function nvidiaVfsOf(pfDir: string): string[] {
  let names: string[] = [];
  try {
    names = fs.readdirSync(pfDir).filter((n) => /^virtfn\d+$/.test(n));
  } catch {
    /* no VFs */
  }
  names.sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)));
  const out: string[] = [];
  for (const n of names) {
    let dir: string;
    try {
      dir = fs.realpathSync.native(path.join(pfDir, n));
    } catch {
      continue;
    }
    if (linkName(path.join(dir, 'driver')) === 'nvidia' && fs.existsSync(path.join(dir, 'nvidia'))) out.push(dir);
  }
  return out;
}

function catalogueOf(pfDir: string): GpuCatalogue | undefined {
  try {
    return GPU_CATALOGUES[fs.readFileSync(path.join(pfDir, 'device'), 'utf8').trim()];
  } catch {
    return undefined;
  }
}

/** Rewrite the creatable list of every nvidia VF of the PF at PF_DIR from their current types. */
export function refreshCreatable(pfDir: string): void {
  const cat = catalogueOf(pfDir);
  if (!cat) return;
  const vfs = nvidiaVfsOf(pfDir);
  const current = vfs.map(currentOf);
  vfs.forEach((dir, i) => {
    const siblings = current.filter((_c, j) => j !== i);
    fs.writeFileSync(path.join(dir, 'nvidia/creatable_vgpu_types'), creatableText(creatableNow(cat, current[i], siblings)));
  });
}

/**
 * The fault seam: `ERRNO COUNT` in this file (inside the VF) makes the next COUNT writes of a type
 * fail with ERRNO, e.g. `EBUSY 2` for a VF not ready right after the VM closed it.
 */
export const SEAM = 'nvidia/.simulate-error';

/** Is NAME (inside a device directory) the vGPU type file this model handles? */
export function isVgpuTypeFile(name: string): boolean {
  return name === 'nvidia/current_vgpu_type';
}

/** The driver's reaction to writing VALUE into VF_DIR/nvidia/current_vgpu_type. */
export function writeVgpuType(vfDir: string, value: string): void {
  const file = path.join(vfDir, 'nvidia/current_vgpu_type');
  fs.accessSync(file, fs.constants.W_OK);
  const seam = path.join(vfDir, SEAM);
  if (fs.existsSync(seam)) {
    const [code, count] = fs.readFileSync(seam, 'utf8').trim().split(/\s+/);
    const left = Number(count) || 0;
    if (/^E[A-Z]+$/.test(code ?? '') && left > 0) {
      fs.writeFileSync(seam, `${code} ${left - 1}\n`);
      throw errnoError(code, file);
    }
  }
  if (!/^\s*[+-]?\d+\s*$/.test(value)) throw errnoError('EINVAL', file);
  const id = Number(value.trim());
  if (!Number.isSafeInteger(id) || id < 0) throw errnoError('EINVAL', file);
  const real = fs.realpathSync.native(vfDir);
  const pfDir = fs.realpathSync.native(path.join(real, 'physfn'));
  const cat = catalogueOf(pfDir);
  const current = currentOf(real);
  if (id === 0) {
    if (current === 0) throw errnoError('EPERM', file); // "No vGPU exists on current device"
  } else {
    if (current !== 0) throw errnoError('EPERM', file); // "vGPU device already created with type ID"
    if (!cat || !cat.types.some((t) => t.id === id)) throw errnoError('EINVAL', file);
    const siblings = nvidiaVfsOf(pfDir)
      .filter((d) => d !== real)
      .map(currentOf);
    if (!creatableNow(cat, 0, siblings).some((t) => t.id === id)) throw errnoError('EIO', file);
  }
  fs.writeFileSync(file, `${id}\n`);
  refreshCreatable(pfDir);
}

/**
 * A reboot of a fixture host: every VF loses its vGPU type (VFs, types and MIG instances do not
 * survive a reboot); the creatable lists are rebuilt. Returns the VFs that had a type.
 */
export function simulateVgpuReboot(root: Root): string[] {
  const cleared: string[] = [];
  const pfs = new Set<string>();
  let names: string[] = [];
  try {
    names = fs.readdirSync(root.pciDevicesBase).sort();
  } catch {
    return cleared;
  }
  for (const n of names) {
    const dir = path.join(root.pciDevicesBase, n);
    const file = path.join(dir, 'nvidia/current_vgpu_type');
    if (!fs.existsSync(file)) continue;
    if (currentOf(dir) !== 0) cleared.push(n);
    fs.writeFileSync(file, '0\n');
    try {
      pfs.add(fs.realpathSync.native(path.join(dir, 'physfn')));
    } catch {
      /* no PF */
    }
  }
  for (const pf of pfs) refreshCreatable(pf);
  return cleared;
}
