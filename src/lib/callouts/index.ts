/**
 * The front of callouts/: createCallouts and what the other layers use, re-exported.
 *
 * Owns: everything about callout and notifier scripts (REFERENCE §8). May import: model/, util/
 * (never the store, the kernel side or the operations). Inside: index.ts -> runner.ts ->
 * callouts.ts, protocol.ts, spawn.ts; scripts.ts; never back.
 */
import { Root } from '../util/root';
import { Log } from '../util/log';
import { LIVE_UNSUPPORTED } from '../util/errors';
import { Callouts, CalloutOptions, calloutTimeoutMs } from './callouts';
import { CalloutError, CalloutRunner } from './runner';
import { scanScriptDirs } from './scripts';

export type { Action, Event, State, Capabilities } from './protocol';
export { CalloutError, CalloutTimeoutError } from './runner';
export type { Callouts, CalloutItem, CalloutPlan, CalloutOptions } from './callouts';

/**
 * The callout runner for ROOT. The script directories are read once, here; when they hold no
 * runnable script the result runs commands as they are and never spawns a process.
 */
export function createCallouts(root: Root, log: Log, opts: CalloutOptions = {}): Callouts {
  const callouts = scanScriptDirs(root.calloutDirs, log);
  const notifiers = scanScriptDirs(root.notifierDirs, log).flat();
  if (callouts.every((d) => d.length === 0) && notifiers.length === 0) return noScripts;
  const timeoutMs = opts.timeoutMs ?? calloutTimeoutMs(opts.env ?? process.env, log);
  return new CalloutRunner({ callouts, notifiers }, log, timeoutMs);
}

/** No script installed: commands run as they are, no attributes come from scripts. */
const noScripts: Callouts = {
  invoke: (_dev, _action, _force, fn) => fn(),
  invokeAll: (_items, _force, fn) => fn(),
  getAttributes: () => [],
  modifyLive: () => {
    throw new CalloutError(LIVE_UNSUPPORTED);
  },
  plan: () => ({ versioned: null, callouts: [], notifiers: [] }),
};
