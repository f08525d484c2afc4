/**
 * `vgpu types`: per PF, what its VFs can create now. Not the supported list: the driver only
 * shows what fits beside the vGPUs already running, and a VF with a type lists only its own.
 */
import { MdevctlError } from '../../util/errors';
import { VgpuType, VirtualFunction } from '../sysfs';
import { VgpuContext, checkBdf, knownTypes } from './common';

export interface VgpuTypesOptions {
  /** Only this PF. */
  pf?: string;
  /** Only this VF (its own list). */
  vf?: string;
}

export interface PfTypes {
  pf: string;
  /** VFs of the PF bound to nvidia without a type (the ones that can take one). */
  free_vfs: string[];
  /** VFs of the PF bound to nvidia that run a vGPU. */
  used_vfs: string[];
  /** VFs of the PF not bound to nvidia (they cannot take a type). */
  unbound_vfs: string[];
  /** The union of the free VFs' lists, by id. */
  creatable_now: VgpuType[];
}

export interface VfTypes {
  vf: string;
  pf: string | null;
  current_type: number;
  creatable_now: VgpuType[];
}

export function vgpuTypes(v: VgpuContext, o: VgpuTypesOptions = {}): PfTypes[] | VfTypes {
  if (o.vf !== undefined) {
    const vf = checkBdf(o.vf, 'VF');
    const info = v.sysfs.read(vf);
    if (!info) throw new MdevctlError(`VF ${vf} not found (no ${v.sysfs.dir(vf)})`);
    if (info.current === null) {
      if (info.driver === 'nvidia') {
        throw new MdevctlError(`VF ${vf} has no ${v.sysfs.typeFile(vf)}: not an NVIDIA vendor-specific VFIO vGPU (vGPU 17 or later)`);
      }
      throw new MdevctlError(
        `VF ${vf} has no vGPU types: it is ${info.driver === null ? 'not bound to any driver' : `bound to ${info.driver}`}, not to nvidia`,
      );
    }
    return { vf, pf: info.pf, current_type: info.current, creatable_now: info.creatable };
  }
  const pf = o.pf === undefined ? undefined : checkBdf(o.pf, 'PF');
  const byPf = new Map<string, VirtualFunction[]>();
  for (const f of v.sysfs.all()) {
    const key = f.pf ?? f.vf;
    if (pf !== undefined && key !== pf) continue;
    if (!byPf.has(key)) byPf.set(key, []);
    byPf.get(key)!.push(f);
  }
  if (pf !== undefined && !byPf.has(pf)) throw new MdevctlError(`PF ${pf} has no NVIDIA vGPU VFs (is it an SR-IOV PF with VFs enabled?)`);
  return [...byPf.keys()].sort().map((key) => {
    const fns = byPf.get(key)!;
    const free = fns.filter((f) => f.current === 0);
    return {
      pf: key,
      free_vfs: free.map((f) => f.vf),
      used_vfs: fns.filter((f) => f.current !== null && f.current !== 0).map((f) => f.vf),
      unbound_vfs: fns.filter((f) => f.current === null).map((f) => f.vf),
      creatable_now: knownTypes(free),
    };
  });
}
