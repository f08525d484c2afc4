/**
 * Callout and notifier scripts (REFERENCE §8): the hook vendors use to validate, prepare and
 * observe device events. The verbs only see the Callouts interface, here, with the time limit;
 * index.ts makes one (createCallouts). Behind it: scripts.ts (which files count), spawn.ts
 * (running one), protocol.ts (what goes over the wire), runner.ts (the policy).
 */
import { Log } from '../util/log';
import { Attr, MDev } from '../model/device';
import { Action, Capabilities } from './protocol';

export interface Callouts {
  /**
   * Run `fn` (the command itself) wrapped in the pre callout, post callout and notifiers.
   * A failing pre callout aborts unless `force`; post and notifier results are ignored.
   */
  invoke<T>(dev: MDev, action: Action, force: boolean, fn: () => T): T;
  /**
   * Several commands done as one (`apply`): the pre callout of every item, in order, then `fn`
   * once, then the post callout and the notifiers of every item. A refusing pre aborts (unless
   * `force`) before `fn`: the items already asked get their post (state failure), each asked
   * item its notifiers, and the error is the refusal prefixed with the item's `label`.
   */
  invokeAll<T>(items: CalloutItem[], force: boolean, fn: () => T): T;
  /** Attributes of a running device from a script's get/attributes; [] when none. Throws on a failure or bad output. */
  getAttributes(dev: MDev): Attr[];
  /** Send a new config to a running device (live/modify through the versioned script). */
  modifyLive(dev: MDev): void;
  /**
   * The scripts ACTION on DEV would involve, without running any of them except the
   * get/capabilities probes (for --dry-run).
   */
  plan(dev: MDev, action: Action): CalloutPlan;
}

/** One device and what is done to it, in a batch (Callouts.invokeAll). */
export interface CalloutItem {
  dev: MDev;
  action: Action;
  /** Starts the error message when this item's pre callout refuses ("Refused to define U on P"). */
  label: string;
}

export interface CalloutPlan {
  /** The versioned script answering for the device's parent and type, with what it announced. */
  versioned: ({ path: string } & Capabilities) | null;
  /**
   * Callout scripts that would be asked for the pre and post events, in order. With a versioned
   * script only that one; otherwise every script, the first that does not answer exit 2 decides.
   */
  callouts: string[];
  /** Notifier scripts, all of which run after the command. */
  notifiers: string[];
  /** Why the versioned script would refuse ACTION (it does not list the action or `pre`). */
  problem?: string;
}

export interface CalloutOptions {
  /** Environment read for MDEVCTL_CALLOUT_TIMEOUT (seconds; 0 = no limit). Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Time limit per script run in milliseconds; overrides the environment. */
  timeoutMs?: number;
}

export const DEFAULT_CALLOUT_TIMEOUT_MS = 30_000;

/** The time limit for one script run, from MDEVCTL_CALLOUT_TIMEOUT (seconds) or the default. */
export function calloutTimeoutMs(env: NodeJS.ProcessEnv, log: Log): number {
  const raw = env.MDEVCTL_CALLOUT_TIMEOUT;
  if (raw === undefined || raw.trim() === '') return DEFAULT_CALLOUT_TIMEOUT_MS;
  const s = Number(raw.trim());
  if (!Number.isFinite(s) || s < 0) {
    log.warn(`Ignoring MDEVCTL_CALLOUT_TIMEOUT='${raw}' (not a number of seconds); using ${DEFAULT_CALLOUT_TIMEOUT_MS / 1000}`);
    return DEFAULT_CALLOUT_TIMEOUT_MS;
  }
  return Math.round(s * 1000);
}
