/**
 * `vgpu start-all` (what boot runs): start every `auto` definition, in PF order, then VF order.
 * Idempotent (a VF that already has its type is left alone). VFs that have not appeared yet
 * (sriov-manage may return before they exist) are waited for, up to MDEVCTL_VGPU_WAIT seconds
 * (default 60). A definition whose type id now names another type is not started. Every
 * definition is tried; the run fails when one could not be started.
 */
import { MdevctlError } from '../../util/errors';
import { byteOrder } from '../../model/order';
import { VgpuContext, retryFor, secondsFromEnv } from './common';
import { VgpuStartResult, startVgpu } from './start';

export interface VgpuStartAllOptions {
  /** Read for MDEVCTL_VGPU_WAIT; default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface VgpuStartAllResult {
  started: VgpuStartResult[];
  /** VF and message of each definition that could not be started. */
  failed: Array<{ vf: string; error: string }>;
}

export const DEFAULT_WAIT_S = 60;

export function startAllVgpus(v: VgpuContext, o: VgpuStartAllOptions = {}): VgpuStartAllResult {
  const defs = v.store
    .all()
    .filter((d) => d.start === 'auto')
    .sort((a, b) => byteOrder(a.pf, b.pf) || byteOrder(a.vf, b.vf));
  const wait = secondsFromEnv(o.env ?? process.env, 'MDEVCTL_VGPU_WAIT', DEFAULT_WAIT_S);
  const missing = () => defs.filter((d) => !v.sysfs.exists(d.vf)).map((d) => d.vf);
  const absent = missing();
  if (absent.length > 0 && wait > 0 && !v.ctx.plan) {
    v.ctx.log.info(`Waiting up to ${wait} s for VF${absent.length > 1 ? 's' : ''} ${absent.join(', ')} to appear`);
    retryFor(wait, 1000, () => missing().length === 0);
  }
  const res: VgpuStartAllResult = { started: [], failed: [] };
  for (const d of defs) {
    try {
      const r = startVgpu(v, { vf: d.vf });
      res.started.push(r);
      if (r.changed && !v.ctx.plan) v.ctx.log.info(`VF ${d.vf}: vGPU type ${r.type_id} (${r.type_name}) started`);
    } catch (e) {
      if (!(e instanceof MdevctlError)) throw e;
      res.failed.push({ vf: d.vf, error: e.message });
      v.ctx.log.warn(e.message);
    }
  }
  return res;
}
