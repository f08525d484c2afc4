/**
 * The mdevctl-ts library API: the same operations the CLI runs, on any root, returning plain
 * data. JSON-producing functions return exactly what `--dumpjson` prints.
 */
export { Root } from './lib/root';
export { createContext } from './lib/context';
export type { Context, ContextOptions } from './lib/context';
export { MDev, parseConfigText } from './lib/device';
export type { DeviceConfig } from './lib/device';
export { MdevctlError, UsageError } from './lib/errors';
export { parseUuid } from './lib/uuid';
export { listDevices as listDeviceMap } from './lib/ops/list';
export { listTypes as listTypeMap } from './lib/ops/types';
export { defineDevice } from './lib/ops/define';
export { undefineDevice } from './lib/ops/undefine';
export { modifyDevice } from './lib/ops/modify';
export { startDevice } from './lib/ops/start';
export { stopDevice } from './lib/ops/stop';
export { startParentMdevs } from './lib/ops/start-parent-mdevs';
export { CalloutError, CalloutTimeoutError } from './lib/callouts';
export type { Callouts, CalloutPlan, Action as CalloutAction, Capabilities as CalloutCapabilities } from './lib/callouts';
export { makeFixture, templateNames } from './lib/fixtures';
export type { Plan, PlannedAction } from './lib/plan';
export { SimulatedKernel } from './lib/simulated-kernel';
