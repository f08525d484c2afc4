/**
 * Text and JSON of the vGPU listings. Text: exactly its lines (each ending in a newline, nothing
 * at all when empty). JSON: pretty, two spaces, ending in `]` or `}` without a newline.
 */
import { VgpuType } from './sysfs';
import { PfTypes, VfTypes } from './ops/types';
import { DefinedVgpu, RunningVgpu } from './ops/list';

const CREATABLE_NOTE = 'creatable now (shrinks as VFs take framebuffer; not the supported list):';

function typeLines(types: VgpuType[]): string {
  if (types.length === 0) return '  creatable now: none\n';
  return `  ${CREATABLE_NOTE}\n` + types.map((t) => `    ${String(t.id).padEnd(5)} ${t.name}\n`).join('');
}

function count(n: number, what: string): string {
  return `${n} ${what}`;
}

export function vgpuTypesText(t: PfTypes[] | VfTypes): string {
  if (!Array.isArray(t)) {
    const state = t.current_type === 0 ? 'no vGPU type' : `vGPU type ${t.current_type}`;
    return `VF ${t.vf} (PF ${t.pf ?? 'unknown'}): ${state}\n` + typeLines(t.creatable_now);
  }
  return t
    .map(
      (p) =>
        `PF ${p.pf}: ${count(p.free_vfs.length, 'free VFs')}, ${count(p.used_vfs.length, 'with a vGPU')}, ` +
        `${count(p.unbound_vfs.length, 'not bound to nvidia')}\n` +
        typeLines(p.creatable_now),
    )
    .join('');
}

function words(...parts: string[]): string {
  return parts.filter((p) => p !== '').join(' ');
}

export function runningText(list: RunningVgpu[]): string {
  return list.map((r) => `${words(r.vf, r.pf ?? '-', String(r.type_id), r.type_name)}\n`).join('');
}

export function definedText(list: DefinedVgpu[]): string {
  return list.map((d) => `${words(d.vf, d.pf || '-', String(d.type_id), d.start, d.state, d.type_name)}\n`).join('');
}

export function vgpuJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
