/**
 * What the vGPU operations share: their view of the context, the checks a VF must pass before
 * its type is written, type lookup by id or name, and the device the callout scripts see.
 */
import { Context } from '../../ops/context';
import { MDev } from '../../model/device';
import { MdevctlError } from '../../util/errors';
import { shown } from '../../model/validate';
import { VgpuStore } from '../store';
import { VgpuSysfs, VgpuType, VirtualFunction, checkBdf } from '../sysfs';

export interface VgpuContext {
  ctx: Context;
  sysfs: VgpuSysfs;
  store: VgpuStore;
}

export function vgpuContext(ctx: Context): VgpuContext {
  return { ctx, sysfs: new VgpuSysfs(ctx.root, ctx.sysfs.writer), store: new VgpuStore(ctx.root, ctx.log, ctx.store.files) };
}

export { checkBdf };

/** The VF, which must exist, be bound to nvidia and have the vGPU type file. */
export function usableVf(v: VgpuContext, vf: string): VirtualFunction & { current: number } {
  const info = v.sysfs.read(vf);
  if (!info) {
    throw new MdevctlError(`VF ${vf} not found (no ${v.sysfs.dir(vf)}): are the GPU's virtual functions enabled (/usr/lib/nvidia/sriov-manage -e)?`);
  }
  if (info.driver !== 'nvidia') {
    throw new MdevctlError(
      `VF ${vf} is ${info.driver === null ? 'not bound to any driver' : `bound to ${info.driver}`}, not to nvidia: ` +
        `NVIDIA vGPU types are set only on VFs bound to nvidia (never bind them to vfio-pci)`,
    );
  }
  if (info.current === null) {
    throw new MdevctlError(`VF ${vf} has no ${v.sysfs.typeFile(vf)}: not an NVIDIA vendor-specific VFIO vGPU (vGPU 17 or later)`);
  }
  return info as VirtualFunction & { current: number };
}

/** The vGPU VFs sharing the VF's PF (the VF included), bound to nvidia. */
export function pfFunctions(v: VgpuContext, pf: string | null): VirtualFunction[] {
  if (pf === null) return [];
  return v.sysfs.all().filter((f) => f.pf === pf && f.current !== null);
}

/** The types known on a PF now: what its VFs can create, and the types they run. */
export function knownTypes(fns: VirtualFunction[]): VgpuType[] {
  const byId = new Map<number, VgpuType>();
  for (const f of fns) for (const t of f.creatable) if (!byId.has(t.id)) byId.set(t.id, t);
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

/** A type option: an id (`1148`), the alias `nvidia-1148`, or a name (`NVIDIA L40S-2Q`, any case). */
export function parseTypeSpec(spec: string): { id: number } | { name: string } {
  const m = /^(?:nvidia-)?(\d+)$/.exec(spec.trim());
  if (m) {
    const id = Number(m[1]);
    if (!Number.isSafeInteger(id) || id <= 0) throw new MdevctlError(`Invalid vGPU type '${shown(spec)}': a type id is a positive number`);
    return { id };
  }
  if (spec.trim() === '') throw new MdevctlError("Invalid vGPU type '': give a type id or name");
  return { name: spec.trim() };
}

/**
 * The type SPEC means on the VF's PF. An id not listed there now is kept, nameless, when
 * ALLOW_UNLISTED (the driver then decides); a name must be listed.
 */
export function resolveType(v: VgpuContext, vf: VirtualFunction, spec: string, allowUnlisted: boolean): VgpuType {
  const s = parseTypeSpec(spec);
  const known = knownTypes(pfFunctions(v, vf.pf));
  const found = 'id' in s ? known.find((t) => t.id === s.id) : known.find((t) => t.name.toLowerCase() === s.name.toLowerCase());
  if (found) return found;
  if ('id' in s && allowUnlisted) return { id: s.id, name: '' };
  throw new MdevctlError(
    `vGPU type '${shown(spec)}' is not creatable now on PF ${vf.pf ?? '(unknown)'}: ` +
      `see mdevctl vgpu types --pf ${vf.pf ?? vf.vf} (the list shrinks as VFs take framebuffer)`,
  );
}

/** The name the VF's list gives the id now (undefined: the id is not listed). */
export function listedName(vf: VirtualFunction, id: number): string | undefined {
  return vf.creatable.find((t) => t.id === id)?.name;
}

/**
 * The device the callout and notifier scripts see: the same protocol as for mdevs, with the VF
 * as the device (`-u VF`), the PF as the parent (`-p PF`), `nvidia-ID` as the type, and a config
 * on stdin shaped like an mdev definition ({"mdev_type":"nvidia-ID","start":...,"attrs":[]}).
 */
export function calloutDevice(vf: string, pf: string | null, typeId: number, start: 'auto' | 'manual' = 'manual'): MDev {
  const dev = new MDev(vf, pf ?? undefined, `nvidia-${typeId}`);
  dev.autostart = start === 'auto';
  return dev;
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Seconds from an environment variable (fractions allowed), else the default. */
export function secondsFromEnv(env: NodeJS.ProcessEnv, name: string, dflt: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return dflt;
  const s = Number(raw.trim());
  if (!Number.isFinite(s) || s < 0) throw new MdevctlError(`Invalid ${name} '${shown(raw)}': expected a number of seconds`);
  return s;
}

/** Call FN until it returns true or SECONDS have passed, every INTERVAL_MS; returns its last result. */
export function retryFor(seconds: number, intervalMs: number, fn: () => boolean): boolean {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    if (fn()) return true;
    const left = end - Date.now();
    if (left <= 0) return false;
    sleep(Math.min(intervalMs, left));
  }
}
