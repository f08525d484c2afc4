import { Context } from './context';
import { MDev } from '../model/device';
import { MdevctlError } from '../util/errors';
import { checkReadable, readConfigFile } from '../store/jsonfile';
import { generateUuid } from '../model/uuid';
import { checkAttributeNames, checkParentName, checkTypeName } from '../model/validate';
import { loadFromSysfs } from './lookup';

export interface DefineOptions {
  /** Generated (and reported as `generated`) when left out. */
  uuid?: string;
  parent?: string;
  type?: string;
  /** Start automatically when the parent appears. */
  auto?: boolean;
  /** Read type, start mode and attributes from this file (`/dev/stdin` works). */
  jsonfile?: string;
  /** Go on when a callout script's pre event fails. */
  force?: boolean;
}

export interface DefineResult {
  uuid: string;
  generated: boolean;
  device: MDev;
}

/** Work out the definition `define` would store (REFERENCE §6), before anything is changed. */
export function resolveDefine(ctx: Context, o: DefineOptions): MDev {
  if (o.parent !== undefined) checkParentName(o.parent);
  const uuid = o.uuid ?? generateUuid();
  if (o.jsonfile !== undefined) {
    checkReadable(o.jsonfile);
    if (o.type !== undefined) {
      throw new MdevctlError(`Device type cannot be specified separately from "${o.jsonfile}"`);
    }
    if (o.parent === undefined) {
      throw new MdevctlError(`Parent device required to define device via "${o.jsonfile}"`);
    }
    refuseExisting(ctx, o, o.parent, uuid);
    const dev = new MDev(uuid, o.parent);
    dev.applyConfig(readConfigFile(o.jsonfile, 'jsonfile'));
    checkTypeName(dev.requireType());
    checkAttributeNames(dev.attrs);
    return dev;
  }
  const dev = new MDev(uuid);
  if (o.uuid !== undefined) {
    loadFromSysfs(ctx, dev);
    if (o.parent === undefined && (!dev.active || o.type !== undefined)) {
      throw new MdevctlError('No parent specified');
    }
  }
  dev.autostart = o.auto ?? false;
  if (o.parent !== undefined) dev.parent = o.parent;
  if (o.type !== undefined) dev.type = o.type;
  if (dev.parent === undefined) throw new MdevctlError('No parent specified');
  if (dev.type === undefined) throw new MdevctlError('No type specified');
  if (o.type !== undefined) checkTypeName(o.type);
  refuseExisting(ctx, o, dev.parent, dev.uuid);
  return dev;
}

function refuseExisting(ctx: Context, o: DefineOptions, parent: string, uuid: string): void {
  if (!ctx.store.exists(parent, uuid)) return;
  if (o.jsonfile !== undefined) throw new MdevctlError(`Cowardly refusing to overwrite existing config for ${parent}/${uuid}`);
  throw new MdevctlError(`Device ${uuid} on ${parent} already defined`);
}

/**
 * Every check runs first, unlocked (a --jsonfile on a slow pipe is read before the lock); then,
 * holding the store lock, the existence check again (another process may have defined the same
 * device meanwhile) and the write.
 */
export function defineDevice(ctx: Context, o: DefineOptions): DefineResult {
  const dev = resolveDefine(ctx, o);
  ctx.store.locked(() => {
    refuseExisting(ctx, o, dev.requireParent(), dev.uuid);
    ctx.callouts.invoke(dev, 'define', o.force ?? false, () => {
      if (dev.active) dev.attrs.push(...ctx.callouts.getAttributes(dev));
      ctx.store.write(dev);
      dev.defined = true;
    });
  });
  return { uuid: dev.uuid, generated: o.uuid === undefined, device: dev };
}
