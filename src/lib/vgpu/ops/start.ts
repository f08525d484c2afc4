/**
 * `vgpu start`: give a VF its vGPU type. The VF must be bound to nvidia. Already that type:
 * success, nothing written. Another type: refused unless `force` (then `0` first). The id is
 * written once and read back; a VF that reads back something else is reset to `0`.
 */
import { MdevctlError, errnoCode } from '../../util/errors';
import { VgpuType, VirtualFunction, writeFailure } from '../sysfs';
import { VgpuDefinition } from '../store';
import { VgpuContext, calloutDevice, checkBdf, knownTypes, pfFunctions, resolveType, usableVf } from './common';
import { describeHolders } from './stop';

export interface VgpuStartOptions {
  vf: string;
  /** The type (id, `nvidia-ID` or name); default: the VF's definition. */
  type?: string;
  /** Replace another type the VF has; go on when a callout script refuses. */
  force?: boolean;
}

export interface VgpuStartResult {
  vf: string;
  pf: string | null;
  type_id: number;
  type_name: string;
  /** False when the VF already had the type (nothing was written). */
  changed: boolean;
}

/**
 * Refuse a definition whose type id names another type now (a driver upgrade renumbered the
 * types): the name on the PF's lists must be the one stored. An id no list shows is let through
 * (the driver decides).
 */
export function checkDefinedName(v: VgpuContext, info: VirtualFunction, def: VgpuDefinition): void {
  const now = knownTypes(pfFunctions(v, info.pf)).find((t) => t.id === def.type_id)?.name;
  if (now !== undefined && def.type_name !== '' && now !== def.type_name) {
    throw new MdevctlError(
      `VF ${def.vf}: type id ${def.type_id} now names '${now}', not '${def.type_name}' as when it was defined ` +
        `(a driver upgrade?): not started; check mdevctl vgpu types and mdevctl vgpu modify --vf ${def.vf} --type ...`,
    );
  }
}

function write(v: VgpuContext, vf: string, value: number): void {
  try {
    v.sysfs.writeType(vf, value);
  } catch (e) {
    throw writeFailure(v.sysfs.typeFile(vf), value, e);
  }
}

export function startVgpu(v: VgpuContext, o: VgpuStartOptions): VgpuStartResult {
  const vf = checkBdf(o.vf, 'VF');
  const def = v.store.read(vf);
  if (o.type === undefined && !def) throw new MdevctlError(`No vGPU definition for VF ${vf}: give --type`);
  const info = usableVf(v, vf);
  let type: VgpuType;
  if (o.type !== undefined) {
    type = resolveType(v, info, o.type, true);
  } else {
    checkDefinedName(v, info, def!);
    type = { id: def!.type_id, name: def!.type_name };
  }
  const result = { vf, pf: info.pf, type_id: type.id, type_name: type.name, changed: false };
  if (info.current === type.id) return result;
  const force = o.force ?? false;
  if (info.current !== 0) {
    const name = info.creatable.find((t) => t.id === info.current)?.name;
    if (!force) {
      throw new MdevctlError(`VF ${vf} already has vGPU type ${info.current}${name ? ` (${name})` : ''}: stop it first, or use --force to replace it`);
    }
    const holders = v.sysfs.holders(vf);
    if (holders.length > 0) v.ctx.log.warn(`Replacing the vGPU type of VF ${vf} although ${describeHolders(holders)}`);
  }
  const dev = calloutDevice(vf, info.pf, type.id, def?.start);
  v.ctx.callouts.invoke(dev, 'start', force, () => {
    if (info.current !== 0) write(v, vf, 0);
    write(v, vf, type.id);
    if (v.ctx.plan) return; // a dry run wrote nothing to read back
    const back = v.sysfs.read(vf)?.current;
    if (back !== type.id) {
      try {
        if (back) v.sysfs.writeType(vf, 0);
      } catch (e) {
        v.ctx.log.warn(`Resetting VF ${vf} to 0 failed: ${errnoCode(e) ?? (e as Error).message}`);
      }
      throw new MdevctlError(`VF ${vf} reads back vGPU type ${back ?? 'nothing'} after ${type.id} was written to ${v.sysfs.typeFile(vf)}`);
    }
  });
  result.changed = true;
  return result;
}
