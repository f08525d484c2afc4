/**
 * `vgpu stop`: write `0` into the VF's current_vgpu_type. Success when it already reads `0`.
 * Refused while a process holds the VF's VFIO device open (named), unless `force`. Right after
 * a VM closed the device the driver is not always ready (EBUSY, EAGAIN, or EPERM while the type
 * still reads back): the write is retried for a bounded time (MDEVCTL_VGPU_STOP_TIMEOUT seconds,
 * default 10).
 */
import { MdevctlError, errnoCode } from '../../util/errors';
import { Holder, writeFailure } from '../sysfs';
import { VgpuContext, calloutDevice, checkBdf, retryFor, secondsFromEnv, usableVf } from './common';

export interface VgpuStopOptions {
  vf: string;
  /** Stop even while the VFIO device is open; go on when a callout script refuses. */
  force?: boolean;
  /** Read for MDEVCTL_VGPU_STOP_TIMEOUT; default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface VgpuStopResult {
  vf: string;
  pf: string | null;
  /** The type the VF had (0: none). */
  type_id: number;
  /** False when the VF had no type (nothing was written). */
  changed: boolean;
}

export const DEFAULT_STOP_TIMEOUT_S = 10;
const RETRY_INTERVAL_MS = 250;

export function describeHolders(holders: Holder[]): string {
  const h = holders[0];
  const more = holders.length > 1 ? ` and ${holders.length - 1} more process${holders.length > 2 ? 'es' : ''}` : '';
  return `its VFIO device ${h.node} is open by ${h.comm} (pid ${h.pid})${more}`;
}

export function stopVgpu(v: VgpuContext, o: VgpuStopOptions): VgpuStopResult {
  const vf = checkBdf(o.vf, 'VF');
  const info = usableVf(v, vf);
  const result = { vf, pf: info.pf, type_id: info.current, changed: false };
  if (info.current === 0) return result;
  const force = o.force ?? false;
  const holders = v.sysfs.holders(vf);
  if (holders.length > 0) {
    if (!force) throw new MdevctlError(`VF ${vf} is in use: ${describeHolders(holders)}; shut the VM down first, or use --force`);
    v.ctx.log.warn(`Stopping VF ${vf} although ${describeHolders(holders)}`);
  }
  const timeout = secondsFromEnv(o.env ?? process.env, 'MDEVCTL_VGPU_STOP_TIMEOUT', DEFAULT_STOP_TIMEOUT_S);
  v.ctx.callouts.invoke(calloutDevice(vf, info.pf, info.current, v.store.read(vf)?.start), 'stop', force, () => {
    if (v.ctx.plan) {
      v.sysfs.writeType(vf, 0);
      return;
    }
    let last: unknown;
    let told = false;
    const done = retryFor(timeout, RETRY_INTERVAL_MS, () => {
      try {
        v.sysfs.writeType(vf, 0);
        return true;
      } catch (e) {
        last = e;
        const code = errnoCode(e);
        if (code === 'EPERM' && v.sysfs.read(vf)?.current === 0) return true; // cleared meanwhile
        if (code !== 'EBUSY' && code !== 'EAGAIN' && code !== 'EPERM') throw writeFailure(v.sysfs.typeFile(vf), 0, e);
        if (!told) v.ctx.log.info(`VF ${vf} is not ready (${code}); retrying for up to ${timeout} s`);
        told = true;
        return false;
      }
    });
    if (!done) throw writeFailure(v.sysfs.typeFile(vf), 0, last);
  });
  result.changed = true;
  return result;
}
