/**
 * The mdevctl-ts library API: the functions the CLI itself runs, on any root, returning plain
 * data. `listDevices`/`listTypes` return what `--dumpjson` prints as objects; the `...Json`
 * variants return the exact text.
 *
 *   import { listDevices, startDevice } from 'mdevctl-ts';
 *   const { uuid } = startDevice({ root: '/tmp/fixture', parent: '0000:00:02.0', type: 'i915-GVTg_V5_4' });
 */
export {
  listDevices,
  listDevicesJson,
  listTypes,
  listTypesJson,
  defineDevice,
  startDevice,
  stopDevice,
  undefineDevice,
  modifyDevice,
  applyDefinitions,
  watchDevices,
  listVgpuTypes,
  listVgpus,
  defineVgpu,
  undefineVgpu,
  modifyVgpu,
  startVgpu,
  stopVgpu,
  startAllVgpus,
  startAllDevices,
  autostartStatus,
} from './lib/api';
export type {
  Where,
  DeviceListJson,
  TypeInfo,
  TypeListJson,
  DeviceResult,
  ListDevicesOptions,
  ListTypesOptions,
  DefineDeviceOptions,
  StartDeviceOptions,
  StopDeviceOptions,
  UndefineDeviceOptions,
  ModifyDeviceOptions,
  ApplyDefinitionsOptions,
  WatchOptions,
  PfTypes,
  VfTypes,
  VgpuTypesOptions,
  DefinedVgpu,
  RunningVgpu,
  VgpuDefineOptions,
  VgpuUndefineOptions,
  VgpuModifyOptions,
  VgpuStartOptions,
  VgpuStartResult,
  VgpuStopOptions,
  VgpuStopResult,
  VgpuStartAllOptions,
  VgpuStartAllResult,
  VgpuDefinition,
  StartAllOptions,
  StartAllResult,
  AutostartStatus,
  AutostartStatusEntry,
  AutostartRecord,
} from './lib/api';
export { simulateVgpuReboot } from './lib/kernel/nvidia-vgpu-model';
export type { MonitorEvent, Monitor } from './lib/ops/monitor';
export type { ApplyResult, ApplyChange, FieldChange } from './lib/ops/apply';
export type { DeviceConfig } from './lib/model/device';
export { MdevctlError, UsageError } from './lib/util/errors';
export { MemoryLog } from './lib/util/log';
export type { Log } from './lib/util/log';
export type { KernelWriter } from './lib/kernel/sysfs';
export { Root } from './lib/util/root';
export { createContext } from './lib/ops/context';
export type { Context, ContextOptions } from './lib/ops/context';
export { parseUuid } from './lib/model/uuid';
export { startParentMdevs } from './lib/ops/start-parent-mdevs';
export { CalloutError, CalloutTimeoutError } from './lib/callouts';
export type { Callouts, CalloutPlan, Action as CalloutAction, Capabilities as CalloutCapabilities } from './lib/callouts';
export { makeFixture, templateNames } from './lib/kernel/fixtures';
export type { Plan, PlannedAction } from './lib/ops/plan';
export { SimulatedKernel } from './lib/kernel/simulated-kernel';
