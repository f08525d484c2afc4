/** Finding devices by UUID (and parent) among definitions and running devices, as upstream does. */
import { Context } from './context';
import { MDev } from '../model/device';
import { MdevctlError } from '../util/errors';
import { DeviceMap, sortDeviceMap } from '../model/device-map';
import { CalloutTimeoutError } from '../callouts';

/**
 * Mark DEV active when a running device with its UUID exists (A: that device, when already
 * resolved) and agrees with whatever parent and type DEV already has; fill in parent and type from
 * sysfs when they were unknown.
 */
export function loadFromSysfs(ctx: Context, dev: MDev, a = ctx.sysfs.activeDevice(dev.uuid)): MDev {
  if (!a) return dev;
  if (dev.parent !== undefined && dev.parent !== a.parent) return dev;
  if (dev.type !== undefined && dev.type !== a.type) return dev;
  dev.parent = a.parent;
  dev.type = a.type;
  dev.active = true;
  return dev;
}

/** Definitions matching the filter, each marked active when it is running as defined. */
export function definedDevices(ctx: Context, filter: { uuid?: string; parent?: string } = {}): DeviceMap {
  const map = ctx.store.definedDevices(filter);
  if (map.size === 0) return map;
  const running = new Set(ctx.sysfs.activeUuids().map((e) => e.uuid));
  if (running.size === 0) return map;
  // the running ones resolved together (see Sysfs.activeDevicesOf)
  const defined = [...map.values()].flat().filter((d) => running.has(d.uuid));
  const active = ctx.sysfs.activeDevicesOf(defined.map((d) => d.uuid));
  for (let i = 0; i < defined.length; i++) loadFromSysfs(ctx, defined[i], active[i]);
  return map;
}

/** Running devices matching the filter, with autostart from their definitions. */
export function activeDevices(ctx: Context, filter: { uuid?: string; parent?: string } = {}, opts: { attributes?: boolean } = {}): DeviceMap {
  const map: DeviceMap = new Map();
  const active = ctx.sysfs.activeDevices(filter.uuid).filter((a) => filter.parent === undefined || filter.parent === a.parent);
  // all definitions first, read together (see Store.readAll)
  const defs = ctx.store.readAll(active);
  const devs = active.map((a, i) => {
    const dev = new MDev(a.uuid, a.parent, a.type);
    dev.active = true;
    const def = defs[i];
    // a malformed definition still counts as defined; its start mode is unknown (manual)
    if (def !== null) dev.defined = true;
    if (def instanceof MDev) dev.autostart = def.autostart;
    return dev;
  });
  for (let i = 0; i < devs.length; i++) {
    const dev = devs[i];
    if (opts.attributes !== false) {
      try {
        dev.attrs.push(...ctx.callouts.getAttributes(dev));
      } catch (e) {
        // for a listing, a failing get/attributes script is ignored; a hung one is reported
        if (e instanceof CalloutTimeoutError) ctx.log.warn(e.message);
      }
    }
    let list = map.get(active[i].parent);
    if (!list) map.set(active[i].parent, (list = []));
    list.push(dev);
  }
  return sortDeviceMap(map);
}

export function getDefinedDevice(ctx: Context, uuid: string, parent?: string): MDev {
  const map = ctx.store.definedDevices({ uuid, parent });
  const where = parent !== undefined ? `${parent}/${uuid}` : uuid;
  if (map.size === 0) throw new MdevctlError(`Mediated device ${where} is not defined`);
  if (map.size > 1) {
    throw new MdevctlError(parent === undefined ? `Multiple definitions found for ${uuid}, specify a parent` : `Multiple definitions found for ${where}`);
  }
  const [p, devs] = [...map.entries()][0];
  if (devs.length > 1) throw new MdevctlError(`Multiple definitions found for ${p}/${uuid}`);
  return loadFromSysfs(ctx, devs[0]);
}

export function getActiveDevice(ctx: Context, uuid: string, parent?: string): MDev {
  const a = ctx.sysfs.activeDevice(uuid);
  if (!a || (parent !== undefined && a.parent !== parent)) {
    throw new MdevctlError(`Mediated device ${parent !== undefined ? `${parent}/` : ''}${uuid} is not active`);
  }
  const dev = new MDev(a.uuid, a.parent, a.type);
  dev.active = true;
  return dev;
}
