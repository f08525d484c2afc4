/**
 * What the two starters of `auto` definitions share: the udev rule's `start-parent-mdevs` (one
 * parent, at once, when it appears) and `start-all` (every parent, at boot, waiting). Both start a
 * device through startUnlessRunning: under the store lock, the device is looked up in sysfs again
 * and started only when it is not running as defined, so that the two (and two udev events for
 * one parent) never start one device twice, nor run its callout scripts twice.
 */
import { Context } from './context';
import { MDev } from '../model/device';
import { KernelError } from '../util/errors';
import { isDirectory } from '../util/fastfs';
import { Sysfs } from '../kernel/sysfs';
import { createDevice } from './start';

/** What became of one start: started now, or found running as defined (by another starter). */
export type StartOutcome = 'started' | 'running';

/**
 * Start DEV (a definition) unless it runs as defined; under the store lock (no lock in a dry
 * run). Throws what the start threw; a device with the UUID running on another parent or with
 * another type is an error (createDevice's).
 */
export function startUnlessRunning(ctx: Context, dev: MDev): StartOutcome {
  return ctx.store.locked(() => {
    const a = ctx.sysfs.activeDevice(dev.uuid);
    if (a && a.parent === dev.parent && a.type === dev.type) {
      dev.active = true;
      return 'running';
    }
    ctx.callouts.invoke(dev, 'start', false, () => createDevice(ctx, dev));
    return 'started';
  });
}

/** Why a definition cannot be started yet: what it waits for, in words. */
export interface NotReady {
  waiting: 'parent' | 'type' | 'instances';
  reason: string;
}

/**
 * Is the definition's parent registered, its type offered and an instance left? null when it
 * is (a start may go ahead), else what is missing. SYSFS must be a fresh one (it caches a scan).
 */
export function notReady(sysfs: Sysfs, dev: MDev): NotReady | null {
  const parent = dev.requireParent();
  const type = dev.requireType();
  let parentDir: string;
  try {
    parentDir = sysfs.findParentDir(parent);
  } catch {
    return { waiting: 'parent', reason: `parent ${parent} is not present` };
  }
  const typesDir = `${parentDir}/mdev_supported_types`;
  if (!isDirectory(typesDir)) return { waiting: 'parent', reason: `parent ${parent} is not registered for mdev` };
  const typeDir = `${typesDir}/${type}`;
  if (!isDirectory(typeDir)) return { waiting: 'type', reason: `type ${type} is not offered by ${parent}` };
  let n: number;
  try {
    n = sysfs.availableInstances(typeDir);
  } catch (e) {
    return { waiting: 'instances', reason: (e as Error).message };
  }
  if (n <= 0) return { waiting: 'instances', reason: `no instances of ${type} are left on ${parent}` };
  return null;
}

/**
 * Errors of the kernel's `create` that can pass, so a start refused with one is tried again
 * while the wait lasts: the parent or its driver is busy (EBUSY, EAGAIN, EINTR), resources are
 * taken that may be freed (ENOSPC, EUSERS: no instances left), the type or parent went away
 * for a moment while its driver registers again (ENODEV, ENOENT). Every other refusal is final
 * (EINVAL, EEXIST, EACCES, EPERM, EIO, ...), as are failed attribute writes and callout scripts.
 */
export const PASSING_ERRNOS: readonly string[] = ['EBUSY', 'EAGAIN', 'EINTR', 'ENOSPC', 'EUSERS', 'ENODEV', 'ENOENT'];

/** Is E (a failed start) worth trying again? */
export function passingError(e: unknown): boolean {
  return e instanceof KernelError && e.code !== undefined && PASSING_ERRNOS.includes(e.code);
}
