import { Context } from './context';
import { DeviceMap } from '../model/device-map';
import { activeDevices, definedDevices } from './lookup';

export interface ListOptions {
  /** List definitions instead of running devices. */
  defined?: boolean;
  uuid?: string;
  parent?: string;
}

/** The devices `mdevctl list` shows, by parent, in upstream's order. */
export function listDevices(ctx: Context, opts: ListOptions = {}): DeviceMap {
  const filter = { uuid: opts.uuid, parent: opts.parent };
  return opts.defined ? definedDevices(ctx, filter) : activeDevices(ctx, filter);
}
