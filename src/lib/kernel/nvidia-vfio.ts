/**
 * NVIDIA vGPU 17+ on recent GPUs uses NVIDIA's vendor-specific VFIO, not mdev: each virtual
 * function has nvidia/creatable_vgpu_types and nvidia/current_vgpu_type, and there is no mdev
 * parent at all. `types` then tells the user why it shows nothing and where to look instead:
 * `mdevctl vgpu` (src/lib/vgpu/), on stderr only.
 */
import fs = require('node:fs');
import path = require('node:path');
import { Root } from '../util/root';

/** PCI functions (names under sys/bus/pci/devices) that offer NVIDIA vendor-specific vGPU types. */
export function nvidiaVfioFunctions(root: Root): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(root.pciDevicesBase);
  } catch {
    return [];
  }
  return names.filter((n) => fs.existsSync(path.join(root.pciDevicesBase, n, 'nvidia', 'creatable_vgpu_types'))).sort();
}

/** The one-line note for `types`, or null when there are no such functions. */
export function nvidiaVfioNote(root: Root): string | null {
  const vfs = nvidiaVfioFunctions(root);
  if (vfs.length === 0) return null;
  const which = vfs.length === 1 ? `function ${vfs[0]} uses` : `functions (${vfs[0]} ... ${vfs[vfs.length - 1]}) use`;
  const are = vfs.length === 1 ? 'is' : 'are';
  return (
    `Note: no mdev parent device, but ${vfs.length} NVIDIA vGPU ${which} NVIDIA's vendor-specific VFIO and ` +
    `${are} not managed through mdev: see mdevctl vgpu types (their types) and mdevctl vgpu define/start`
  );
}
