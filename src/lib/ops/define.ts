import { Context } from '../context';
import { MDev } from '../device';
import { MdevctlError } from '../errors';
import { checkReadable, readConfigFile } from '../jsonfile';
import { generateUuid } from '../uuid';
import { checkParentName } from '../validate';
import { loadFromSysfs } from './lookup';

export interface DefineOptions {
  uuid?: string;
  parent?: string;
  type?: string;
  auto?: boolean;
  jsonfile?: string;
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
    if (ctx.store.exists(o.parent, uuid)) {
      throw new MdevctlError(`Cowardly refusing to overwrite existing config for ${o.parent}/${uuid}`);
    }
    const dev = new MDev(uuid, o.parent);
    dev.applyConfig(readConfigFile(o.jsonfile));
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
  if (ctx.store.exists(dev.parent, dev.uuid)) {
    throw new MdevctlError(`Device ${dev.uuid} on ${dev.parent} already defined`);
  }
  return dev;
}

export function defineDevice(ctx: Context, o: DefineOptions): DefineResult {
  const dev = resolveDefine(ctx, o);
  ctx.callouts.invoke(dev, 'define', o.force ?? false, () => {
    if (dev.active) dev.attrs.push(...ctx.callouts.getAttributes(dev));
    ctx.store.write(dev);
    dev.defined = true;
  });
  return { uuid: dev.uuid, generated: o.uuid === undefined, device: dev };
}
