/**
 * Fixture roots: fake sysfs + mdevctl config trees laid out the way the kernel and mdevctl lay
 * them out, built from named templates (see fixtures/README.md for what each one models). Used by
 * `mdevctl fixture TEMPLATE DIR`, by scripts/make-fixtures.mjs (which regenerates fixtures/) and
 * by the tests. Deterministic: fixed UUIDs, sorted creation order, no dependencies.
 */
import fs = require('node:fs');
import path = require('node:path');
import { MdevctlError, describeSystemError } from '../util/errors';
import { byteOrder } from '../model/order';
import { layOutVgpuHost } from './nvidia-vgpu-model';

const P = path.posix;

// ---------------------------------------------------------------------------------------------
// Driver catalogues

export interface FixtureType {
  id: string;
  name?: string;
  description?: string;
  deviceApi: string;
}

interface GvtType extends FixtureType {
  low: number;
  high: number;
  fence: number;
}

const GVT_TYPES: GvtType[] = (
  [
    // id suffix, low_gm MB, high_gm MB, fences, resolution, weight
    ['V5_1', 512, 2048, 4, '1920x1200', 16],
    ['V5_2', 256, 1024, 4, '1920x1200', 8],
    ['V5_4', 128, 512, 4, '1920x1200', 4],
    ['V5_8', 64, 384, 4, '1024x768', 2],
  ] as Array<[string, number, number, number, string, number]>
).map(([v, low, high, fence, res, weight]) => ({
  id: `i915-GVTg_${v}`,
  name: `GVTg_${v}`,
  description: `low_gm_size: ${low}MB\nhigh_gm_size: ${high}MB\nfence: ${fence}\nresolution: ${res}\nweight: ${weight}\n`,
  deviceApi: 'vfio-pci',
  low,
  high,
  fence,
}));

/** GVT-g shares the aperture (low GM), hidden GM and fence registers of the iGPU between vGPUs.
 * Totals chosen so that an idle host shows 1/2/5/7 instances, as reported on real hardware. */
function gvtAvailable(type: FixtureType, runningTypes: string[]): number {
  const t = type as GvtType;
  let low = 640;
  let high = 2816;
  let fence = 28;
  for (const r of runningTypes) {
    const used = GVT_TYPES.find((g) => g.id === r)!;
    low -= used.low;
    high -= used.high;
    fence -= used.fence;
  }
  return Math.max(0, Math.min(Math.floor(low / t.low), Math.floor(high / t.high), Math.floor(fence / t.fence)));
}

function nvDesc(heads: number, frl: number, fbMiB: number, res: string, max: number): string {
  return `num_heads=${heads}, frl_config=${frl}, framebuffer=${fbMiB}M, max_resolution=${res}, max_instance=${max}`;
}

interface NvType extends FixtureType {
  max: number;
}

type NvRow = [number, string, number, number, number, string, number];

function nvTypes(rows: NvRow[]): NvType[] {
  return rows.map(([n, name, heads, frl, fb, res, max]) => ({
    id: `nvidia-${n}`,
    name,
    description: nvDesc(heads, frl, fb, res, max),
    deviceApi: 'vfio-pci',
    max,
  }));
}

// Tesla T4 (16 GB), classic mdev vGPU (host driver <= 16).
const T4_TYPES = nvTypes([
  [222, 'GRID T4-1B', 4, 45, 1024, '5120x2880', 16],
  [223, 'GRID T4-2B', 4, 45, 2048, '5120x2880', 8],
  [224, 'GRID T4-2B4', 4, 45, 2048, '5120x2880', 8],
  [225, 'GRID T4-1A', 1, 60, 1024, '1280x1024', 16],
  [226, 'GRID T4-2A', 1, 60, 2048, '1280x1024', 8],
  [227, 'GRID T4-4A', 1, 60, 4096, '1280x1024', 4],
  [228, 'GRID T4-8A', 1, 60, 8192, '1280x1024', 2],
  [229, 'GRID T4-16A', 1, 60, 16384, '1280x1024', 1],
  [230, 'GRID T4-1Q', 4, 60, 1024, '5120x2880', 16],
  [231, 'GRID T4-2Q', 4, 60, 2048, '7680x4320', 8],
  [232, 'GRID T4-4Q', 4, 60, 4096, '7680x4320', 4],
  [233, 'GRID T4-8Q', 4, 60, 8192, '7680x4320', 2],
  [234, 'GRID T4-16Q', 4, 60, 16384, '7680x4320', 1],
  [252, 'GRID T4-1B4', 4, 45, 1024, '5120x2880', 16],
  [319, 'GRID T4-4C', 1, 60, 4096, '4096x2160', 4],
  [320, 'GRID T4-8C', 1, 60, 8192, '4096x2160', 2],
  [321, 'GRID T4-16C', 1, 60, 16384, '4096x2160', 1],
]);

/** Classic NVIDIA vGPU: one type per physical GPU at a time; it counts down to 0. */
function nvidiaClassicAvailable(type: FixtureType, runningTypes: string[]): number {
  const t = type as NvType;
  if (runningTypes.length === 0) return t.max;
  if (runningTypes.some((r) => r !== t.id)) return 0;
  return Math.max(0, t.max - runningTypes.length);
}

// A40 (48 GB), SR-IOV + mdev (vGPU 12..16): every VF lists every type.
const A40_TYPES = nvTypes([
  [555, 'NVIDIA A40-1B', 4, 45, 1024, '5120x2880', 32],
  [556, 'NVIDIA A40-2B', 4, 45, 2048, '5120x2880', 24],
  [557, 'NVIDIA A40-1Q', 4, 60, 1024, '5120x2880', 32],
  [558, 'NVIDIA A40-2Q', 4, 60, 2048, '7680x4320', 24],
  [559, 'NVIDIA A40-3Q', 4, 60, 3072, '7680x4320', 16],
  [560, 'NVIDIA A40-4Q', 4, 60, 4096, '7680x4320', 12],
  [561, 'NVIDIA A40-6Q', 4, 60, 6144, '7680x4320', 8],
  [562, 'NVIDIA A40-8Q', 4, 60, 8192, '7680x4320', 6],
  [563, 'NVIDIA A40-12Q', 4, 60, 12288, '7680x4320', 4],
  [564, 'NVIDIA A40-16Q', 4, 60, 16384, '7680x4320', 3],
  [565, 'NVIDIA A40-24Q', 4, 60, 24576, '7680x4320', 2],
  [566, 'NVIDIA A40-48Q', 4, 60, 49152, '7680x4320', 1],
]);

/** SR-IOV vGPU: a VF hosts at most one vGPU, so each type shows 1 on a free VF, 0 on a used one.
 * (The driver's further rule that all vGPUs of a GPU share one framebuffer size is not modelled.) */
function sriovAvailable(_type: FixtureType, runningTypes: string[]): number {
  return runningTypes.length === 0 ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Parent builders

interface FixtureParent {
  name: string;
  /** Path under sys/devices. */
  devPath: string;
  mdevDriver: string;
  types: FixtureType[];
  available(type: FixtureType, runningTypes: string[]): number;
  /** Extra files in the parent dir. */
  files: Record<string, string>;
  /** Extra links: path in root -> target in root. */
  links: Record<string, string>;
}

function pciFiles(vendor: string, device: string, cls: string): Record<string, string> {
  return { vendor: `${vendor}\n`, device: `${device}\n`, class: `${cls}\n` };
}

function gvtParent(): FixtureParent {
  const devPath = 'pci0000:00/0000:00:02.0';
  return {
    name: '0000:00:02.0',
    devPath,
    mdevDriver: 'intel_vgpu_mdev',
    types: GVT_TYPES,
    available: gvtAvailable,
    files: pciFiles('0x8086', '0x3e92', '0x030000'),
    links: { 'sys/bus/pci/devices/0000:00:02.0': `sys/devices/${devPath}` },
  };
}

function matrixParent(): FixtureParent {
  return {
    name: 'matrix',
    devPath: 'vfio_ap/matrix',
    mdevDriver: 'vfio_ap_mdev',
    types: [{ id: 'vfio_ap-passthrough', name: 'VFIO AP Passthrough Device', deviceApi: 'vfio-ap' }],
    available: (_t, running) => 65536 - running.length,
    files: {},
    links: { 'sys/bus/matrix/devices/matrix': 'sys/devices/vfio_ap/matrix' },
  };
}

function ccwParent(schid: string): FixtureParent {
  return {
    name: schid,
    devPath: `css0/${schid}`,
    mdevDriver: 'vfio_ccw_mdev',
    types: [{ id: 'vfio_ccw-io', name: 'I/O subchannel (Non-QDIO)', deviceApi: 'vfio-ccw' }],
    available: (_t, running) => (running.length ? 0 : 1),
    files: { type: '0\n', modalias: 'css:t0\n' },
    links: { [`sys/bus/css/devices/${schid}`]: `sys/devices/css0/${schid}` },
  };
}

interface MttyType extends FixtureType {
  ports: number;
}

function mttyParent(): FixtureParent {
  const types: MttyType[] = [
    { id: 'mtty-1', name: 'Single port serial', deviceApi: 'vfio-pci', ports: 1 },
    { id: 'mtty-2', name: 'Dual port serial', deviceApi: 'vfio-pci', ports: 2 },
  ];
  return {
    name: 'mtty',
    devPath: 'virtual/mtty/mtty',
    mdevDriver: 'mtty',
    types,
    // The sample driver shares 24 ports between all its devices.
    available: (type, running) => {
      const used = running.reduce((n, t) => n + (t === 'mtty-2' ? 2 : 1), 0);
      return Math.floor((24 - used) / (type as MttyType).ports);
    },
    files: {},
    links: {
      'sys/class/mtty/mtty': 'sys/devices/virtual/mtty/mtty',
      'sys/devices/virtual/mtty/mtty/subsystem': 'sys/class/mtty',
    },
  };
}

function t4Parent(bdf: string, bridgePath: string): FixtureParent {
  const devPath = `${bridgePath}/${bdf}`;
  return {
    name: bdf,
    devPath,
    mdevDriver: 'nvidia-vgpu-vfio',
    types: T4_TYPES,
    available: nvidiaClassicAvailable,
    files: pciFiles('0x10de', '0x1eb8', '0x030200'),
    links: { [`sys/bus/pci/devices/${bdf}`]: `sys/devices/${devPath}` },
  };
}

const A40_VFS = ['00.4', '00.5', '00.6', '00.7', '01.0', '01.1', '01.2', '01.3', '01.4', '01.5', '01.6', '01.7', '02.0', '02.1', '02.2', '02.3'].map(
  (f) => `0000:e8:${f}`,
);
const A40_BRIDGE = 'pci0000:e0/0000:e0:03.1';
const A40_PF = '0000:e8:00.0';

function a40VfParent(bdf: string): FixtureParent {
  const devPath = `${A40_BRIDGE}/${bdf}`;
  return {
    name: bdf,
    devPath,
    mdevDriver: 'nvidia-vgpu-vfio',
    types: A40_TYPES,
    available: sriovAvailable,
    files: pciFiles('0x10de', '0x2235', '0x030200'),
    links: {
      [`sys/bus/pci/devices/${bdf}`]: `sys/devices/${devPath}`,
      [`sys/devices/${devPath}/physfn`]: `sys/devices/${A40_BRIDGE}/${A40_PF}`,
    },
  };
}

/** Non-mdev PCI device (a PF, an iGPU without GVT-g, ...) with optional extra files/links. */
function plainPci(
  tree: Tree,
  bdf: string,
  bridgePath: string,
  ids: [string, string, string],
  files: Record<string, string> = {},
  links: Record<string, string> = {},
): void {
  const dir = `sys/devices/${bridgePath}/${bdf}`;
  tree.dir(dir);
  for (const [k, v] of Object.entries({ ...pciFiles(...ids), ...files })) tree.file(`${dir}/${k}`, v);
  tree.link(`sys/bus/pci/devices/${bdf}`, dir);
  for (const [k, v] of Object.entries(links)) tree.link(`${dir}/${k}`, v);
}

// ---------------------------------------------------------------------------------------------
// Templates

interface FixtureDevice {
  uuid: string;
  parent: string;
  type: string;
  /** files: the vendor driver's attributes in the device dir; readOnly: those of them mode 0444. */
  run?: { group: number; files?: Record<string, string>; readOnly?: string[] };
  def?: { start: 'auto' | 'manual'; attrs?: Array<Record<string, string>> };
}

interface Template {
  parents: FixtureParent[];
  devices: FixtureDevice[];
  /** No mdev at all: no sys/class/mdev_bus, no sys/bus/mdev. */
  noMdev?: boolean;
  extra?(tree: Tree): void;
}

function apFiles(matrix: string[], controlDomains: string[]): Record<string, string> {
  const files: Record<string, string> = {
    matrix: matrix.map((l) => `${l}\n`).join(''),
    control_domains: controlDomains.map((l) => `${l}\n`).join(''),
  };
  for (const a of ['adapter', 'domain', 'control_domain']) {
    files[`assign_${a}`] = '';
    files[`unassign_${a}`] = '';
  }
  return files;
}

function mttyFiles(uuid: string): Record<string, string> {
  return { 'vendor/sample_mdev_dev': `This is MDEV ${uuid}\n` };
}
const MTTY_READ_ONLY = ['vendor/sample_mdev_dev'];

const TEMPLATES: Record<string, Template> = {
  gvt: {
    parents: [gvtParent()],
    devices: [
      {
        uuid: 'c27d00a2-be6c-4b8d-9178-e1cf1064a2f1',
        parent: '0000:00:02.0',
        type: 'i915-GVTg_V5_4',
        run: { group: 16, files: { 'intel_vgpu/vgpu_id': '1\n' } },
        def: { start: 'auto' },
      },
      {
        uuid: '0116002c-a9df-4bf9-8c59-7f190449e1a6',
        parent: '0000:00:02.0',
        type: 'i915-GVTg_V5_8',
        run: { group: 17, files: { 'intel_vgpu/vgpu_id': '2\n' } },
      },
      { uuid: '6c446e93-4bc4-4e54-90ac-c443c90d9b65', parent: '0000:00:02.0', type: 'i915-GVTg_V5_2', def: { start: 'manual' } },
      { uuid: '270dd1d1-08c0-45bf-8154-f5646e2cb0dd', parent: '0000:00:02.0', type: 'i915-GVTg_V5_1', def: { start: 'auto' } },
    ],
  },

  nvidia: {
    parents: [t4Parent('0000:02:00.0', 'pci0000:00/0000:00:03.0'), t4Parent('0000:84:00.0', 'pci0000:80/0000:80:02.0')],
    devices: [
      {
        uuid: 'f69252eb-d9fb-4a81-9b36-249897e292c7',
        parent: '0000:02:00.0',
        type: 'nvidia-231',
        run: { group: 64, files: { 'nvidia/vgpu_params': '' } },
        def: { start: 'auto' },
      },
      { uuid: 'ab6b4340-e774-4c45-9828-c718df27e2dc', parent: '0000:02:00.0', type: 'nvidia-231', run: { group: 65, files: { 'nvidia/vgpu_params': '' } } },
      {
        uuid: '5dde1a10-cba4-4eea-9261-a188659b3a06',
        parent: '0000:84:00.0',
        type: 'nvidia-232',
        def: { start: 'manual', attrs: [{ 'nvidia/vgpu_params': 'frame_rate_limiter=0' }] },
      },
      { uuid: 'df147a27-2bea-4383-9217-79448b4bfa56', parent: '0000:02:00.0', type: 'nvidia-233', def: { start: 'manual' } },
    ],
  },

  vfio_ap: {
    parents: [matrixParent()],
    devices: [
      {
        uuid: 'd626b21c-ea4e-47c1-9e01-68fcfcb0a974',
        parent: 'matrix',
        type: 'vfio_ap-passthrough',
        run: { group: 3, files: apFiles(['05.00ab'], ['00ab']) },
        def: { start: 'auto', attrs: [{ assign_adapter: '5' }, { assign_domain: '0xab' }, { assign_control_domain: '0xab' }] },
      },
      {
        uuid: 'a26b28cf-80e0-4b5e-af06-d5de5bb0552e',
        parent: 'matrix',
        type: 'vfio_ap-passthrough',
        def: {
          start: 'manual',
          attrs: [
            { assign_adapter: '5' },
            { assign_adapter: '6' },
            { assign_domain: '0xab' },
            { assign_control_domain: '0xab' },
            { assign_domain: '4' },
            { assign_control_domain: '4' },
          ],
        },
      },
      { uuid: '64af5243-67fc-4bbc-ab43-1cc7dd92c18e', parent: 'matrix', type: 'vfio_ap-passthrough', run: { group: 4, files: apFiles([], []) } },
    ],
  },

  vfio_ccw: {
    parents: [ccwParent('0.0.0313'), ccwParent('0.0.26ab')],
    devices: [
      { uuid: '318ee8dd-c4ae-456b-8831-66fa1227c3df', parent: '0.0.0313', type: 'vfio_ccw-io', run: { group: 0 }, def: { start: 'auto' } },
      // The subchannel 0.0.0052 is not bound to vfio_ccw: a definition whose parent is absent.
      { uuid: '3a0f4deb-fc2c-4607-88dc-62ffddc3588c', parent: '0.0.0052', type: 'vfio_ccw-io', def: { start: 'manual' } },
    ],
  },

  nvidia_sriov: {
    parents: A40_VFS.map(a40VfParent),
    devices: [
      {
        uuid: '7a22cddb-a0ed-4d93-830a-6064ce8b29c6',
        parent: '0000:e8:00.4',
        type: 'nvidia-562',
        run: { group: 210, files: { 'nvidia/vgpu_params': '' } },
        def: { start: 'auto' },
      },
      { uuid: 'f562ab0a-0542-4764-bcb8-64c718ea0688', parent: '0000:e8:00.5', type: 'nvidia-562', run: { group: 211, files: { 'nvidia/vgpu_params': '' } } },
      { uuid: '13549dc8-daa2-4af9-9d73-41eacd82a474', parent: '0000:e8:01.0', type: 'nvidia-562', def: { start: 'manual' } },
    ],
    extra(tree) {
      const virtfn: Record<string, string> = {};
      A40_VFS.forEach((vf, i) => {
        virtfn[`virtfn${i}`] = `sys/devices/${A40_BRIDGE}/${vf}`;
      });
      plainPci(tree, A40_PF, A40_BRIDGE, ['0x10de', '0x2235', '0x030200'], { sriov_totalvfs: '32\n', sriov_numvfs: '16\n' }, virtfn);
    },
  },

  mtty: {
    parents: [mttyParent()],
    devices: [
      {
        uuid: '92d520f0-448a-4137-a327-380a8f353b4c',
        parent: 'mtty',
        type: 'mtty-2',
        run: { group: 0, files: mttyFiles('92d520f0-448a-4137-a327-380a8f353b4c'), readOnly: MTTY_READ_ONLY },
      },
    ],
  },

  demo: {
    parents: [gvtParent(), matrixParent(), mttyParent()],
    devices: [
      {
        uuid: 'cfbe06ff-56e5-4910-8a44-689c0a5834b2',
        parent: '0000:00:02.0',
        type: 'i915-GVTg_V5_4',
        run: { group: 16, files: { 'intel_vgpu/vgpu_id': '1\n' } },
        def: { start: 'auto' },
      },
      { uuid: '6fd1b050-8957-4750-82e2-cf9f3ff5068f', parent: '0000:00:02.0', type: 'i915-GVTg_V5_8', def: { start: 'manual' } },
      {
        uuid: 'a3c7d699-ed49-4d97-b34c-d02cea661386',
        parent: 'matrix',
        type: 'vfio_ap-passthrough',
        run: { group: 17, files: apFiles(['05.00ab', '06.00ab'], ['00ab']) },
        def: { start: 'manual', attrs: [{ assign_adapter: '5' }, { assign_adapter: '6' }, { assign_domain: '0xab' }, { assign_control_domain: '0xab' }] },
      },
      {
        uuid: '0f88138a-0fa9-49b4-bde9-3376dcb017a8',
        parent: 'mtty',
        type: 'mtty-1',
        run: { group: 18, files: mttyFiles('0f88138a-0fa9-49b4-bde9-3376dcb017a8'), readOnly: MTTY_READ_ONLY },
      },
      { uuid: '406deb96-c9c9-4f73-8f0a-0b97a42ecb0b', parent: 'mtty', type: 'mtty-2', def: { start: 'auto' } },
    ],
  },

  empty: {
    // Kernel >= 6.5 with the mdev module loaded but no parent registered. The iGPU is there,
    // without GVT-g. (The committed copy cannot hold the empty sys/class/mdev_bus/.)
    parents: [],
    devices: [],
    extra(tree) {
      plainPci(tree, '0000:00:02.0', 'pci0000:00', ['0x8086', '0x4680', '0x030000']);
    },
  },

  nvidia_vfio: {
    // vGPU 17+ vendor-specific VFIO: no mdev at all (the model: src/lib/kernel/nvidia-vgpu-model.ts).
    parents: [],
    devices: [],
    noMdev: true,
    extra: layOutVgpuHost,
  },
};

/** The template names, in their catalogue order. */
export const templateNames: readonly string[] = Object.keys(TEMPLATES);

// ---------------------------------------------------------------------------------------------
// Building

type Entry = { kind: 'dir' } | { kind: 'file'; content: string; mode?: number } | { kind: 'link'; target: string };

// Modes as a real kernel gives them (mdev core; captured from Linux 6.1 and 6.12 in
// kernel-tests/layouts/): a type's attributes read-only, `create` and `remove` write-only.
const READ_ONLY = 0o444;
const WRITE_ONLY = 0o200;

class Tree {
  readonly entries = new Map<string, Entry>();
  dir(p: string): void {
    this.add(p, { kind: 'dir' });
  }
  file(p: string, content: string, mode?: number): void {
    this.add(p, mode === undefined ? { kind: 'file', content } : { kind: 'file', content, mode });
  }
  /** Symlink at p pointing at target (both relative to the root); stored as a relative link. */
  link(p: string, target: string): void {
    this.add(p, { kind: 'link', target: P.relative(P.dirname(p), target) });
  }
  private add(p: string, e: Entry): void {
    const prev = this.entries.get(p);
    if (prev && JSON.stringify(prev) !== JSON.stringify(e)) throw new Error(`fixture conflict at ${p}`);
    this.entries.set(p, e);
  }
}

function unknownTemplate(name: string): MdevctlError {
  return new MdevctlError(`Unknown fixture template '${name}' (known: ${templateNames.join(', ')})`);
}

export function isTemplate(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(TEMPLATES, name);
}

function build(name: string): Tree {
  if (!isTemplate(name)) throw unknownTemplate(name);
  const t = TEMPLATES[name];
  const tree = new Tree();
  const parentByName = new Map(t.parents.map((p) => [p.name, p]));

  // mdevctl's own directories (empty; created by the package).
  tree.dir('etc/mdevctl.d/scripts.d/callouts');
  tree.dir('etc/mdevctl.d/scripts.d/notifiers');
  tree.dir('usr/lib/mdevctl/scripts.d/callouts');
  tree.dir('usr/lib/mdevctl/scripts.d/notifiers');

  if (!t.noMdev) {
    tree.dir('sys/class/mdev_bus');
    tree.dir('sys/bus/mdev/devices');
    tree.dir('sys/bus/mdev/drivers');
  }

  for (const p of t.parents) {
    const pdir = `sys/devices/${p.devPath}`;
    tree.link(`sys/class/mdev_bus/${p.name}`, pdir);
    for (const [k, v] of Object.entries(p.files)) tree.file(`${pdir}/${k}`, v);
    for (const [k, v] of Object.entries(p.links)) tree.link(k, v);
    const running = t.devices.filter((d) => d.run && d.parent === p.name).map((d) => d.type);
    for (const type of p.types) {
      const tdir = `${pdir}/mdev_supported_types/${type.id}`;
      tree.file(`${tdir}/available_instances`, `${p.available(type, running)}\n`, READ_ONLY);
      tree.file(`${tdir}/device_api`, `${type.deviceApi}\n`, READ_ONLY);
      if (type.name !== undefined) tree.file(`${tdir}/name`, `${type.name}\n`, READ_ONLY);
      if (type.description !== undefined) {
        const text = type.description.endsWith('\n') ? type.description : `${type.description}\n`;
        tree.file(`${tdir}/description`, text, READ_ONLY);
      }
      tree.file(`${tdir}/create`, '', WRITE_ONLY);
      tree.dir(`${tdir}/devices`);
    }
  }

  for (const d of t.devices) {
    if (d.run) {
      const p = parentByName.get(d.parent);
      if (!p) throw new Error(`${name}: running device ${d.uuid} on unknown parent ${d.parent}`);
      if (!p.types.some((ty) => ty.id === d.type)) throw new Error(`${name}: bad type ${d.type}`);
      const pdir = `sys/devices/${p.devPath}`;
      const ddir = `${pdir}/${d.uuid}`;
      const tdir = `${pdir}/mdev_supported_types/${d.type}`;
      tree.link(`${ddir}/mdev_type`, tdir);
      tree.link(`${tdir}/devices/${d.uuid}`, ddir);
      tree.file(`${ddir}/remove`, '', WRITE_ONLY);
      tree.link(`${ddir}/iommu_group`, `sys/kernel/iommu_groups/${d.run.group}`);
      tree.link(`sys/kernel/iommu_groups/${d.run.group}/devices/${d.uuid}`, ddir);
      tree.link(`${ddir}/subsystem`, 'sys/bus/mdev');
      tree.link(`${ddir}/driver`, `sys/bus/mdev/drivers/${p.mdevDriver}`);
      tree.link(`sys/bus/mdev/drivers/${p.mdevDriver}/${d.uuid}`, ddir);
      for (const [k, v] of Object.entries(d.run.files ?? {})) {
        tree.file(`${ddir}/${k}`, v, d.run.readOnly?.includes(k) ? READ_ONLY : undefined);
      }
      tree.link(`sys/bus/mdev/devices/${d.uuid}`, ddir);
    }
    if (d.def) {
      const cfg = { mdev_type: d.type, start: d.def.start, attrs: d.def.attrs ?? [] };
      tree.file(`etc/mdevctl.d/${d.parent}/${d.uuid}`, JSON.stringify(cfg, null, 2));
    }
  }

  if (t.extra) t.extra(tree);
  return tree;
}

/**
 * Create fixture NAME with its root at DEST (created if needed; it must be absent or empty).
 * Returns DEST. Throws MdevctlError for an unknown template or a non-empty or unwritable DEST.
 */
export function makeFixture(name: string, dest: string): string {
  const tree = build(name);
  // fs-extra's mkdirp-and-write helpers; loaded here, on use, so no other command pays for it
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fse = require('fs-extra') as typeof import('fs-extra');
  const fail = (what: string, e: unknown) => new MdevctlError(`Unable to ${what}: ${describeSystemError(e)}`);
  let existing: string[];
  try {
    fse.ensureDirSync(dest);
    existing = fse.readdirSync(dest);
  } catch (e) {
    throw fail(`create ${dest}`, e);
  }
  if (existing.length > 0) throw new MdevctlError(`Refusing to create a fixture in ${dest}: the directory is not empty`);
  // Byte order, as the generator always did (a dir before its contents; identical trees).
  const paths = [...tree.entries.keys()].sort(byteOrder);
  for (const p of paths) {
    const e = tree.entries.get(p)!;
    const abs = path.join(dest, ...p.split('/'));
    try {
      if (e.kind === 'dir') fse.ensureDirSync(abs);
      else if (e.kind === 'file') {
        fse.outputFileSync(abs, e.content);
        if (e.mode !== undefined) fs.chmodSync(abs, e.mode);
      } else {
        // links may point at what is made later, or nowhere (as in sysfs): no existence check
        fse.ensureDirSync(path.dirname(abs));
        fs.symlinkSync(e.target, abs);
      }
    } catch (err) {
      throw fail(`create ${abs}`, err);
    }
  }
  return dest;
}
