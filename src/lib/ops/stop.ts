import { Context } from './context';
import { MDev } from '../model/device';
import { MdevctlError } from '../util/errors';
import { loadFromSysfs } from './lookup';

export interface StopOptions {
  uuid: string;
  force?: boolean;
}

export function stopDevice(ctx: Context, o: StopOptions): MDev {
  const dev = loadFromSysfs(ctx, new MDev(o.uuid));
  if (!dev.active) throw new MdevctlError(`Device ${o.uuid} is not an active mdev`);
  ctx.callouts.invoke(dev, 'stop', o.force ?? false, () => {
    ctx.sysfs.remove(dev.uuid);
    dev.active = false;
  });
  return dev;
}
