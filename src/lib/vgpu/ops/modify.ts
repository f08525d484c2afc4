/** `vgpu modify`: change a definition's type or start policy (a running vGPU is not touched). */
import { MdevctlError } from '../../util/errors';
import { VgpuDefinition } from '../store';
import { VgpuContext, calloutDevice, checkBdf, resolveType, usableVf } from './common';

export interface VgpuModifyOptions {
  vf: string;
  /** A new type (id, `nvidia-ID` or name), as listed for the VF's PF now. */
  type?: string;
  auto?: boolean;
  manual?: boolean;
  /** Go on when a callout script refuses. */
  force?: boolean;
}

export function modifyVgpu(v: VgpuContext, o: VgpuModifyOptions): VgpuDefinition {
  const vf = checkBdf(o.vf, 'VF');
  if (o.auto && o.manual) throw new MdevctlError('--auto and --manual cannot be used together');
  if (o.type === undefined && !o.auto && !o.manual) throw new MdevctlError('Nothing to modify: give --type, --auto or --manual');
  return v.store.locked(v.ctx.store, () => {
    const old = v.store.read(vf);
    if (!old) throw new MdevctlError(`No vGPU definition for VF ${vf} (mdevctl vgpu define makes one)`);
    const def: VgpuDefinition = { ...old };
    if (o.type !== undefined) {
      const info = usableVf(v, vf);
      const type = resolveType(v, info, o.type, false);
      def.type_id = type.id;
      def.type_name = type.name;
      def.pf = info.pf ?? def.pf;
    }
    if (o.auto) def.start = 'auto';
    if (o.manual) def.start = 'manual';
    v.ctx.callouts.invoke(calloutDevice(vf, def.pf || null, def.type_id, def.start), 'modify', o.force ?? false, () => v.store.write(def));
    return def;
  });
}
