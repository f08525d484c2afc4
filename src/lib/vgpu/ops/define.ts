/** `vgpu define`: store a persistent definition (VF, type id and its name now, start policy). */
import { MdevctlError } from '../../util/errors';
import { VgpuDefinition } from '../store';
import { VgpuContext, calloutDevice, checkBdf, resolveType, usableVf } from './common';

export interface VgpuDefineOptions {
  vf: string;
  /** A type id, `nvidia-ID`, or a type name, as listed for the VF's PF now. */
  type: string;
  /** Start at boot (`vgpu start-all`); default manual. */
  auto?: boolean;
}

export function defineVgpu(v: VgpuContext, o: VgpuDefineOptions): VgpuDefinition {
  const vf = checkBdf(o.vf, 'VF');
  return v.store.locked(v.ctx.store, () => {
    if (v.store.read(vf)) throw new MdevctlError(`VF ${vf} already has a vGPU definition (mdevctl vgpu modify changes it)`);
    const info = usableVf(v, vf);
    const type = resolveType(v, info, o.type, false);
    const def: VgpuDefinition = { vf, pf: info.pf ?? '', type_id: type.id, type_name: type.name, start: o.auto ? 'auto' : 'manual' };
    v.ctx.callouts.invoke(calloutDevice(vf, info.pf, type.id, def.start), 'define', false, () => v.store.write(def));
    return def;
  });
}
