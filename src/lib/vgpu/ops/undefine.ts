/** `vgpu undefine`: remove a VF's definition (a running vGPU keeps running). */
import { MdevctlError } from '../../util/errors';
import { VgpuDefinition } from '../store';
import { VgpuContext, calloutDevice, checkBdf } from './common';

export interface VgpuUndefineOptions {
  vf: string;
  /** Go on when a callout script refuses. */
  force?: boolean;
}

export function undefineVgpu(v: VgpuContext, o: VgpuUndefineOptions): VgpuDefinition {
  const vf = checkBdf(o.vf, 'VF');
  return v.store.locked(v.ctx.store, () => {
    const def = v.store.read(vf);
    if (!def) throw new MdevctlError(`No vGPU definition for VF ${vf}`);
    v.ctx.callouts.invoke(calloutDevice(vf, def.pf || null, def.type_id, def.start), 'undefine', o.force ?? false, () => v.store.remove(vf));
    return def;
  });
}
