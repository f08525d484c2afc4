import { Context } from './context';
import { MdevType } from '../model/mdev-type';
import { nvidiaVfioNote } from '../kernel/nvidia-vfio';

/**
 * The types each parent supports, as `mdevctl types` shows them. With no mdev parent at all but
 * NVIDIA vendor-specific vGPU functions present, a note on the log says where those are managed.
 */
export function listTypes(ctx: Context, opts: { parent?: string } = {}): Map<string, MdevType[]> {
  const types = ctx.sysfs.types(opts.parent);
  if (types.size === 0 && (opts.parent === undefined || ctx.sysfs.parents().length === 0)) {
    const note = nvidiaVfioNote(ctx.root);
    if (note !== null) ctx.log.info(note);
  }
  return types;
}
