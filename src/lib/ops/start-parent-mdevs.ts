import { Context } from './context';
import { checkParentName } from '../model/validate';
import { definedDevices } from './lookup';
import { createDevice } from './start';

export interface StartParentResult {
  started: string[];
  skipped: string[];
  failed: Array<{ uuid: string; reason: string }>;
}

/** Is UUID running on PARENT as its definition says (same parent and type)? */
function runningAsDefined(ctx: Context, parent: string, uuid: string): boolean {
  return (definedDevices(ctx, { parent }).get(parent) ?? []).some((d) => d.uuid === uuid && d.active);
}

/**
 * Start every auto-start definition of PARENT (run by the udev rule when a parent appears).
 * Idempotent: a device already running as defined is skipped silently, since udev fires this
 * more than once per parent, also when another run started it while this one was at it. Each
 * failure is logged on one line and the next device is tried.
 */

export function startParentMdevs(ctx: Context, parent: string): StartParentResult {
  checkParentName(parent);
  const result: StartParentResult = { started: [], skipped: [], failed: [] };
  const devs = definedDevices(ctx, { parent }).get(parent) ?? [];
  for (const dev of devs) {
    if (!dev.autostart) continue;
    if (dev.active) {
      result.skipped.push(dev.uuid);
      continue;
    }
    try {
      ctx.callouts.invoke(dev, 'start', false, () => createDevice(ctx, dev));
      result.started.push(dev.uuid);
    } catch (e) {
      // udev runs this for the parent's "add" and its "change" (MDEV_STATE=registered) events at
      // once: the other run may have started the device between our check and our write (seen on
      // Linux 6.1 and 6.12, kernel-tests). Running as defined is what was asked: not a failure.
      if (runningAsDefined(ctx, parent, dev.uuid)) {
        result.skipped.push(dev.uuid);
        continue;
      }
      const reason = (e as Error).message.replace(/\n/g, ' ');
      result.failed.push({ uuid: dev.uuid, reason });
      ctx.log.warn(`Failed to start ${dev.uuid} on ${parent}: ${reason}`);
    }
  }
  return result;
}
