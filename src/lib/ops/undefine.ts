import { Context } from '../context';
import { MDev } from '../device';
import { MdevctlError } from '../errors';
import { checkParentName } from '../validate';
import { definedDevices } from './lookup';

export interface UndefineOptions {
  uuid: string;
  parent?: string;
  force?: boolean;
}

/** Remove the definitions of UUID (under every parent, or only PARENT). Running devices stay. */
export function undefineDevice(ctx: Context, o: UndefineOptions): MDev[] {
  if (o.parent !== undefined) checkParentName(o.parent);
  return ctx.store.locked(() => undefineLocked(ctx, o));
}

function undefineLocked(ctx: Context, o: UndefineOptions): MDev[] {
  const map = definedDevices(ctx, { uuid: o.uuid, parent: o.parent });
  if (map.size === 0) throw new MdevctlError('No devices match the specified uuid');
  const removed: MDev[] = [];
  const failed: string[] = [];
  for (const devs of map.values()) {
    for (const dev of devs) {
      try {
        ctx.callouts.invoke(dev, 'undefine', o.force ?? false, () => ctx.store.remove(dev.requireParent(), dev.uuid));
        dev.defined = false;
        removed.push(dev);
      } catch (e) {
        failed.push(dev.requireParent());
        ctx.log.warn(`Undefine of ${dev.uuid} on parent ${dev.parent} failed with error: ${(e as Error).message}`);
      }
    }
  }
  if (failed.length > 0) throw new MdevctlError(`Undefine failed (parent ${failed.join(', ')})`);
  return removed;
}
