import { Context } from './context';
import { MDev } from '../model/device';
import { MdevctlError } from '../util/errors';
import { readConfigFile } from '../store/jsonfile';
import { generateUuid } from '../model/uuid';
import { checkAttributeNames, checkParentName } from '../model/validate';
import { definedDevices } from './lookup';
import { countDevices } from '../model/device-map';

export interface StartOptions {
  uuid?: string;
  parent?: string;
  type?: string;
  jsonfile?: string;
  force?: boolean;
}

export interface StartResult {
  uuid: string;
  /** The UUID was generated here (and is printed by the CLI). */
  generated: boolean;
  device: MDev;
}

/** Work out which device `start` means (REFERENCE §6), before anything is changed. */
export function resolveStart(ctx: Context, o: StartOptions): MDev {
  if (o.parent !== undefined) checkParentName(o.parent);
  if (o.jsonfile !== undefined) {
    const cfg = readConfigFile(o.jsonfile, 'jsonfile');
    if (o.type !== undefined) throw new MdevctlError('Device type cannot be specified separately from json file');
    if (o.parent === undefined) throw new MdevctlError('Parent device required to start device via json file');
    const dev = new MDev(o.uuid ?? generateUuid(), o.parent);
    dev.applyConfig(cfg);
    return dev;
  }
  let dev: MDev | undefined;
  if (o.uuid !== undefined) {
    const map = definedDevices(ctx, { uuid: o.uuid, parent: o.parent });
    const n = countDevices(map);
    if (n > 1) {
      throw new MdevctlError(`Multiple definitions found for device ${o.uuid}. Please specify a parent.`);
    }
    if (n === 1) {
      const d = [...map.values()][0][0];
      if (o.type !== undefined && o.type !== d.type) {
        throw new MdevctlError(`Device ${d.uuid} already exists on parent ${d.parent} with type ${d.type}`);
      }
      dev = d;
    }
  }
  if (!dev) dev = new MDev(o.uuid ?? generateUuid(), o.parent, o.type);
  if (dev.type !== undefined && dev.parent === undefined) throw new MdevctlError("can't provide type without parent");
  if (dev.type === undefined || dev.parent === undefined) throw new MdevctlError('Device is insufficiently specified');
  return dev;
}

/**
 * Create the device in sysfs and write its attributes in order. A failed attribute write stops
 * the device again, so no half-configured device is left running.
 */
export function createDevice(ctx: Context, dev: MDev): void {
  const parent = dev.requireParent();
  const type = dev.requireType();
  checkAttributeNames(dev.attrs);
  const existing = ctx.sysfs.activeDevice(dev.uuid);
  if (existing) {
    if (existing.parent !== parent) throw new MdevctlError('Device exists under different parent');
    if (existing.type !== type) throw new MdevctlError('Device exists with different type');
    throw new MdevctlError('Device already exists');
  }
  const typeDir = ctx.sysfs.typeDir(parent, type);
  if (ctx.sysfs.availableInstances(typeDir) === 0) {
    throw new MdevctlError(`No available instances of ${type} on ${parent}`);
  }
  ctx.sysfs.create(parent, type, dev.uuid, typeDir);
  dev.active = true;
  for (const [name, value] of dev.attrs) {
    try {
      ctx.sysfs.writeAttribute(dev.uuid, name, value);
    } catch (e) {
      try {
        ctx.sysfs.remove(dev.uuid);
        dev.active = false;
      } catch (e2) {
        // 1.4.0 reports only the failed clean-up ("Error removing device U"); ours begins with
        // those words (libvirt quotes them) and names the cause after them.
        throw new MdevctlError(`${(e2 as Error).message}; it was being stopped again because setting an attribute failed: ${(e as Error).message}`);
      }
      throw e;
    }
  }
}

export function startDevice(ctx: Context, o: StartOptions): StartResult {
  const dev = resolveStart(ctx, o);
  ctx.callouts.invoke(dev, 'start', o.force ?? false, () => createDevice(ctx, dev));
  return { uuid: dev.uuid, generated: o.uuid === undefined, device: dev };
}
