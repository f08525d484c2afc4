/** `vgpu list`: the running vGPUs (VFs with a type), or with `defined` the stored definitions. */
import { VgpuDefinition } from '../store';
import { VgpuContext, listedName } from './common';

export interface RunningVgpu {
  vf: string;
  pf: string | null;
  type_id: number;
  /** From the VF's list (a VF with a type lists its own), else from its definition, else "". */
  type_name: string;
}

/** How a definition stands against sysfs now. */
export type DefinitionState = 'active' | 'inactive' | 'other-type' | 'absent' | 'unbound';

export interface DefinedVgpu extends VgpuDefinition {
  state: DefinitionState;
}

export function runningVgpus(v: VgpuContext): RunningVgpu[] {
  const defs = new Map(v.store.all().map((d) => [d.vf, d]));
  const out: RunningVgpu[] = [];
  for (const f of v.sysfs.all()) {
    if (f.current === null || f.current === 0) continue;
    const d = defs.get(f.vf);
    const name = listedName(f, f.current) ?? (d && d.type_id === f.current ? d.type_name : '');
    out.push({ vf: f.vf, pf: f.pf, type_id: f.current, type_name: name });
  }
  return out;
}

export function definedVgpus(v: VgpuContext): DefinedVgpu[] {
  return v.store.all().map((d) => {
    const f = v.sysfs.read(d.vf);
    let state: DefinitionState;
    if (!f) state = 'absent';
    else if (f.current === null) state = 'unbound';
    else if (f.current === 0) state = 'inactive';
    else state = f.current === d.type_id ? 'active' : 'other-type';
    return { ...d, state };
  });
}
