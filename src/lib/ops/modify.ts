import { Context } from './context';
import { MDev } from '../model/device';
import { MdevctlError } from '../util/errors';
import { readConfigFile } from '../store/jsonfile';
import { checkAttributeName, checkAttributeNames, checkParentName, checkTypeName } from '../model/validate';
import { getActiveDevice, getDefinedDevice } from './lookup';

export interface ModifyOptions {
  uuid: string;
  /** Picks the definition when the UUID is defined under several parents. */
  parent?: string;
  type?: string;
  /** Insert an attribute NAME (with `value`) at `index`, or at the end. */
  addattr?: string;
  value?: string;
  /** Delete the attribute at `index`, or the last one. */
  delattr?: boolean;
  index?: number;
  auto?: boolean;
  manual?: boolean;
  /** Change the running device (needs `jsonfile`); with `defined` the definition as well. */
  live?: boolean;
  defined?: boolean;
  /** Replace type, start mode and attributes from this file (`/dev/stdin` works). */
  jsonfile?: string;
  /** Go on when a callout script's pre event fails. */
  force?: boolean;
}

function deviceFromJsonfile(uuid: string, parent: string, jsonfile: string): MDev {
  const dev = new MDev(uuid, parent);
  dev.applyConfig(readConfigFile(jsonfile));
  checkTypeName(dev.requireType());
  checkAttributeNames(dev.attrs);
  return dev;
}

/**
 * Change a definition, or (with live) the running device, as upstream's `modify` does. The read
 * of the definition, the change and the write happen under the store lock, so concurrent
 * modifications of one device all land; a --jsonfile is read before the lock is taken.
 */
export function modifyDevice(ctx: Context, o: ModifyOptions): MDev {
  if (o.parent !== undefined) checkParentName(o.parent);
  if (o.addattr !== undefined) checkAttributeName(o.addattr);
  if (o.type !== undefined && !o.live) checkTypeName(o.type);
  const force = o.force ?? false;
  if (o.live) {
    if (o.type !== undefined) throw new MdevctlError("'type' cannot be changed on active mdev");
    if (o.auto) throw new MdevctlError("'auto' cannot be changed on active mdev");
    if (o.manual) throw new MdevctlError("'manual' cannot be changed on active mdev");
    const active = getActiveDevice(ctx, o.uuid, o.parent);
    if (o.jsonfile === undefined) throw new MdevctlError("'live' option must be used with 'jsonfile' option");
    const dev = deviceFromJsonfile(o.uuid, active.requireParent(), o.jsonfile);
    if (dev.type !== active.type) throw new MdevctlError("'type' cannot be changed on active mdev");
    dev.active = true;
    if (o.defined) {
      return ctx.store.locked(() => {
        const def = getDefinedDevice(ctx, o.uuid, dev.parent);
        if (def.type !== dev.type) throw new MdevctlError("'type' of active and defined mdev does not match");
        ctx.callouts.modifyLive(dev);
        ctx.callouts.invoke(dev, 'modify', force, () => ctx.store.write(dev));
        dev.defined = true;
        return dev;
      });
    }
    ctx.callouts.modifyLive(dev);
    return dev;
  }

  let fromFile: MDev | undefined;
  if (o.jsonfile !== undefined) {
    if (o.parent === undefined) throw new MdevctlError('Parent device required to modify device via json file');
    fromFile = deviceFromJsonfile(o.uuid, o.parent, o.jsonfile);
  }
  return ctx.store.locked(() => {
    let dev: MDev;
    if (fromFile) {
      dev = fromFile;
    } else {
      dev = getDefinedDevice(ctx, o.uuid, o.parent);
      if (o.type !== undefined) dev.type = o.type;
      if (o.auto && o.manual) throw new MdevctlError("'auto' and 'manual' are mutually exclusive");
      if (o.auto) dev.autostart = true;
      else if (o.manual) dev.autostart = false;
    }
    if (o.addattr !== undefined) {
      if (o.value === undefined) throw new MdevctlError('No attribute value provided');
      dev.addAttribute(o.addattr, o.value, o.index);
    } else if (o.delattr) {
      dev.deleteAttribute(o.index);
    }
    ctx.callouts.invoke(dev, 'modify', force, () => ctx.store.write(dev));
    dev.defined = true;
    return dev;
  });
}
