import { Context } from '../context';
import { MdevType } from '../sysfs';

/** The types each parent supports, as `mdevctl types` shows them. */
export function listTypes(ctx: Context, opts: { parent?: string } = {}): Map<string, MdevType[]> {
  return ctx.sysfs.types(opts.parent);
}
