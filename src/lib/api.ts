/**
 * The public library API: one function per verb, taking an options object (with `root`) and
 * returning plain data. The CLI calls these same functions, passing the context it built.
 *
 * The list functions return what `--dumpjson` prints, as plain objects. JavaScript objects put
 * integer-like keys ("12") before the others, so a parent named like a number would move when the
 * object is stringified; the `...Json` text functions build the text from ordered data instead and
 * are byte-exact in every case.
 */
import { Context, createContext } from './ops/context';
import { Log } from './util/log';
import { KernelWriter } from './kernel/sysfs';
import { DeviceConfig, MDev } from './model/device';
import { UsageError } from './util/errors';
import { parseUuid } from './model/uuid';
import { listDevices as listDeviceMap } from './ops/list';
import { listTypes as listTypeMap } from './ops/types';
import { DefineOptions, defineDevice as defineOp } from './ops/define';
import { UndefineOptions, undefineDevice as undefineOp } from './ops/undefine';
import { ModifyOptions, modifyDevice as modifyOp } from './ops/modify';
import { StartOptions, startDevice as startOp } from './ops/start';
import { StopOptions, stopDevice as stopOp } from './ops/stop';
import { ApplyOptions, ApplyResult, applyDefinitions as applyOp } from './ops/apply';
import { devicesJsonValue, listJsonText, typesJsonText, typesJsonValue } from './model/format';
import { plain } from './model/json';
import { Monitor, MonitorOptions, onceLog, startMonitor } from './ops/monitor';
import { vgpuContext } from './vgpu/ops/common';
import { PfTypes, VfTypes, VgpuTypesOptions, vgpuTypes as vgpuTypesOp } from './vgpu/ops/types';
import { DefinedVgpu, RunningVgpu, definedVgpus, runningVgpus } from './vgpu/ops/list';
import { VgpuDefineOptions, defineVgpu as defineVgpuOp } from './vgpu/ops/define';
import { VgpuUndefineOptions, undefineVgpu as undefineVgpuOp } from './vgpu/ops/undefine';
import { VgpuModifyOptions, modifyVgpu as modifyVgpuOp } from './vgpu/ops/modify';
import { VgpuStartOptions, VgpuStartResult, startVgpu as startVgpuOp } from './vgpu/ops/start';
import { VgpuStopOptions, VgpuStopResult, stopVgpu as stopVgpuOp } from './vgpu/ops/stop';
import { VgpuStartAllOptions, VgpuStartAllResult, startAllVgpus as startAllVgpusOp } from './vgpu/ops/start-all';
import { VgpuDefinition } from './vgpu/store';
import { StartAllOptions, StartAllResult, startAll as startAllOp } from './ops/start-all';
import { AutostartStatus, AutostartStatusEntry, AutostartRecord, autostartStatus as autostartStatusOp } from './ops/autostart-status';

export type { StartAllOptions, StartAllResult, AutostartStatus, AutostartStatusEntry, AutostartRecord };

export type { PfTypes, VfTypes, VgpuTypesOptions, DefinedVgpu, RunningVgpu, VgpuDefineOptions, VgpuUndefineOptions };
export type { VgpuModifyOptions, VgpuStartOptions, VgpuStartResult, VgpuStopOptions, VgpuStopResult };
export type { VgpuStartAllOptions, VgpuStartAllResult, VgpuDefinition };

/** Where a library call works. */
export interface Where {
  /** Root directory; default: MDEVCTL_ENV_ROOT, else "/". */
  root?: string;
  /** An existing context (the CLI passes its own); `root`, `log` and `kernel` are then ignored. */
  context?: Context;
  /** Where warnings go; default: stderr, as `Warning: MESSAGE`. */
  log?: Log;
  /** The kernel write side (create/remove/attributes); default: plain file writes. */
  kernel?: KernelWriter;
}

/** `mdevctl list --dumpjson`: `[]`, or one object mapping each parent to its devices. */
export type DeviceListJson = Array<Record<string, Array<Record<string, DeviceConfig>>>>;

/** One type of one parent, as `mdevctl types --dumpjson` shows it. */
export interface TypeInfo {
  available_instances: number;
  device_api: string;
  name?: string;
  description?: string;
}

/** `mdevctl types --dumpjson`: `[]`, or one object mapping each parent to its types. */
export type TypeListJson = Array<Record<string, Array<Record<string, TypeInfo>>>>;

/** A device after a lifecycle call. `config` is exactly the definition file's content. */
export interface DeviceResult {
  uuid: string;
  parent: string;
  config: DeviceConfig;
  /** Running in sysfs after the call. */
  active: boolean;
  /** A definition is stored after the call. */
  defined: boolean;
}

export interface ListDevicesOptions extends Where {
  /** List the stored definitions instead of the running devices. */
  defined?: boolean;
  uuid?: string;
  parent?: string;
}

export interface ListTypesOptions extends Where {
  parent?: string;
}

/** Options of the lifecycle functions: the operation's own options, plus where it works. */
export type DefineDeviceOptions = DefineOptions & Where;
export type StartDeviceOptions = StartOptions & Where;
export type StopDeviceOptions = StopOptions & Where;
export type UndefineDeviceOptions = UndefineOptions & Where;
export type ModifyDeviceOptions = ModifyOptions & Where;
export type ApplyDefinitionsOptions = ApplyOptions & Where;

function contextOf(w: Where): Context {
  return w.context ?? createContext({ root: w.root, log: w.log, kernel: w.kernel });
}

/** The canonical form of a UUID option (any form upstream accepts), or a UsageError. */
function uuidOption(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const u = parseUuid(value);
  if (u === null) throw new UsageError(`invalid UUID '${value}'`);
  return u;
}

function requiredUuid(value: string | undefined): string {
  if (value === undefined) throw new UsageError('a uuid is required');
  return uuidOption(value)!;
}

function result(dev: MDev): DeviceResult {
  return { uuid: dev.uuid, parent: dev.requireParent(), config: dev.toConfig(), active: dev.active, defined: dev.defined };
}

function listMap(o: ListDevicesOptions) {
  return listDeviceMap(contextOf(o), { defined: o.defined, uuid: uuidOption(o.uuid), parent: o.parent });
}

/** The running devices (or with `defined`, the definitions), as `list --dumpjson` prints them. */
export function listDevices(o: ListDevicesOptions = {}): DeviceListJson {
  return plain(devicesJsonValue(listMap(o))) as DeviceListJson;
}

/**
 * The exact text `list --dumpjson` prints for the same options (ending in `]` or `}`). With
 * a `uuid` matching exactly one device this is that device's bare config object, as the CLI does.
 */
export function listDevicesJson(o: ListDevicesOptions = {}): string {
  return listJsonText(listMap(o), o.uuid !== undefined);
}

/** The types of each parent (or of `parent`), as `types --dumpjson` prints them. */
export function listTypes(o: ListTypesOptions = {}): TypeListJson {
  return plain(typesJsonValue(listTypeMap(contextOf(o), { parent: o.parent }))) as TypeListJson;
}

/** The exact text `types --dumpjson` prints (ending in `]`). */
export function listTypesJson(o: ListTypesOptions = {}): string {
  return typesJsonText(listTypeMap(contextOf(o), { parent: o.parent }));
}

/** Store a definition (`mdevctl define`). `generated` tells that the UUID was made up here. */
export function defineDevice(o: DefineDeviceOptions): DeviceResult & { generated: boolean } {
  const r = defineOp(contextOf(o), { ...o, uuid: uuidOption(o.uuid) });
  return { ...result(r.device), generated: r.generated };
}

/** Create a device in sysfs (`mdevctl start`), from its definition or from the options. */
export function startDevice(o: StartDeviceOptions): DeviceResult & { generated: boolean } {
  const r = startOp(contextOf(o), { ...o, uuid: uuidOption(o.uuid) });
  return { ...result(r.device), generated: r.generated };
}

/** Remove a running device (`mdevctl stop`). Its definition, if any, stays. */
export function stopDevice(o: StopDeviceOptions): { uuid: string; parent: string; mdev_type: string } {
  const dev = stopOp(contextOf(o), { uuid: requiredUuid(o.uuid), force: o.force });
  return { uuid: dev.uuid, parent: dev.requireParent(), mdev_type: dev.requireType() };
}

/** Remove the definitions of a UUID (`mdevctl undefine`); one result per parent it was under. */
export function undefineDevice(o: UndefineDeviceOptions): DeviceResult[] {
  return undefineOp(contextOf(o), { uuid: requiredUuid(o.uuid), parent: o.parent, force: o.force }).map(result);
}

/** Change a definition or a running device (`mdevctl modify`). */
export function modifyDevice(o: ModifyDeviceOptions): DeviceResult {
  return result(modifyOp(contextOf(o), { ...o, uuid: requiredUuid(o.uuid) }));
}

/**
 * Make the stored definitions match a file in the form `list --defined --dumpjson` prints
 * (`mdevctl apply`): all or nothing, unchanged definitions untouched. With `dryRun` only the plan
 * is worked out. Returns the changes made (or planned) and what was started.
 */
export function applyDefinitions(o: ApplyDefinitionsOptions): ApplyResult {
  return applyOp(contextOf(o), o);
}

export interface WatchOptions extends Where, MonitorOptions {}

/**
 * Call `onEvent` for each change under the root (what `mdevctl monitor` prints) until `close()`
 * is called. The timer keeps Node running until then.
 */
export function watchDevices(o: WatchOptions): Monitor {
  const ctx = contextOf(o);
  return startMonitor(createContext({ root: ctx.root, log: onceLog(ctx.log) }), o);
}

// ---------------------------------------------------------------------------------------------
// NVIDIA vGPUs on SR-IOV VFs without mdev (vendor-specific VFIO): `mdevctl vgpu ...`

/** `vgpu types`: per PF what its VFs can create now, or with `vf` that VF's own list. */
export function listVgpuTypes(o: VgpuTypesOptions & Where = {}): PfTypes[] | VfTypes {
  return vgpuTypesOp(vgpuContext(contextOf(o)), o);
}

/** `vgpu list`: the running vGPUs, or with `defined` the stored definitions and their state. */
export function listVgpus(o: Where & { defined: true }): DefinedVgpu[];
export function listVgpus(o?: Where & { defined?: false }): RunningVgpu[];
export function listVgpus(o: Where & { defined?: boolean } = {}): RunningVgpu[] | DefinedVgpu[] {
  const v = vgpuContext(contextOf(o));
  return o.defined ? definedVgpus(v) : runningVgpus(v);
}

/** `vgpu define`: store a VF's definition. */
export function defineVgpu(o: VgpuDefineOptions & Where): VgpuDefinition {
  return defineVgpuOp(vgpuContext(contextOf(o)), o);
}

/** `vgpu undefine`: remove a VF's definition (returns what it was). */
export function undefineVgpu(o: VgpuUndefineOptions & Where): VgpuDefinition {
  return undefineVgpuOp(vgpuContext(contextOf(o)), o);
}

/** `vgpu modify`: change a VF's definition (type, start policy). */
export function modifyVgpu(o: VgpuModifyOptions & Where): VgpuDefinition {
  return modifyVgpuOp(vgpuContext(contextOf(o)), o);
}

/** `vgpu start`: set the VF's vGPU type (from its definition, or `type`). */
export function startVgpu(o: VgpuStartOptions & Where): VgpuStartResult {
  return startVgpuOp(vgpuContext(contextOf(o)), o);
}

/** `vgpu stop`: clear the VF's vGPU type. */
export function stopVgpu(o: VgpuStopOptions & Where): VgpuStopResult {
  return stopVgpuOp(vgpuContext(contextOf(o)), o);
}

/** `vgpu start-all`: start every `auto` definition (boot). */
export function startAllVgpus(o: VgpuStartAllOptions & Where = {}): VgpuStartAllResult {
  return startAllVgpusOp(vgpuContext(contextOf(o)), o);
}

/**
 * Start every `auto` definition that is not running, waiting up to `wait` seconds for parents,
 * types, instances and `after` dependencies (`mdevctl start-all`); the outcome of each is also
 * written to ROOT/run/mdevctl/autostart.json. Failures are in `failed` (nothing is thrown for them).
 */
export function startAllDevices(o: StartAllOptions & Where = {}): StartAllResult {
  return startAllOp(contextOf(o), o);
}

/** Every `auto` definition, running or not, with what the last start-all recorded (`mdevctl status`). */
export function autostartStatus(o: Where = {}): AutostartStatus {
  return autostartStatusOp(contextOf(o));
}
