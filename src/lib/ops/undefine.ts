import { Context } from './context';
import { MDev } from '../model/device';
import { MdevctlError } from '../util/errors';
import { checkParentName } from '../model/validate';
import { definedDevices } from './lookup';

export interface UndefineOptions {
  uuid: string;
  parent?: string;
  force?: boolean;
}

/**
 * Remove the definitions of UUID (under every parent, or only PARENT). Running devices stay.
 * Returns the devices whose definitions were removed (not the unreadable ones removed blind).
 */
export function undefineDevice(ctx: Context, o: UndefineOptions): MDev[] {
  if (o.parent !== undefined) checkParentName(o.parent);
  return ctx.store.locked(() => undefineLocked(ctx, o));
}

function undefineLocked(ctx: Context, o: UndefineOptions): MDev[] {
  const map = definedDevices(ctx, { uuid: o.uuid, parent: o.parent });
  const removed: MDev[] = [];
  const failed: string[] = [];
  let salvaged = 0;
  // A definition too damaged to load (it was skipped with a warning) can still be undefined:
  // its type is unknown, so no callout script can be asked about it.
  for (const parent of ctx.store.parentDirs()) {
    if ((o.parent !== undefined && parent !== o.parent) || map.get(parent)?.some((d) => d.uuid === o.uuid)) continue;
    let present: boolean;
    try {
      present = ctx.store.exists(parent, o.uuid);
    } catch {
      continue; // not a regular file: already named in a warning, not ours to remove
    }
    if (!present) continue;
    ctx.store.remove(parent, o.uuid);
    ctx.log.warn(`Removed the unreadable definition of ${o.uuid} on parent ${parent} without running callout scripts`);
    salvaged++;
  }
  if (map.size === 0 && salvaged === 0) throw new MdevctlError('No devices match the specified uuid');
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
