/**
 * Callout and notifier scripts (REFERENCE §8): the hook vendors use to validate, prepare and
 * observe device events. The verbs only see the Callouts interface; discovery, spawning and
 * result policy live here.
 */
import * as fs from 'node:fs';
import { Root } from './root';
import { Log } from './log';
import { Attr, MDev } from './device';

export type Action = 'start' | 'stop' | 'define' | 'undefine' | 'modify' | 'attributes' | 'capabilities';
export type Event = 'pre' | 'post' | 'notify' | 'get' | 'live';

export interface Callouts {
  /**
   * Run `fn` (the command itself) wrapped in the pre callout, post callout and notifiers.
   * A failing pre callout aborts unless `force`; post and notifier results are ignored.
   */
  invoke<T>(dev: MDev, action: Action, force: boolean, fn: () => T): T;
  /** Attributes of a running device from a versioned script's get/attributes; [] when none. */
  getAttributes(dev: MDev): Attr[];
  /** Send a new config to a running device (live/modify through the versioned script). */
  modifyLive(dev: MDev): void;
}

/** The list of regular files in the script directories, in the order they are consulted. */
export function listScripts(dirs: string[]): string[] {
  const out: string[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const n of names) out.push(`${dir}/${n}`);
  }
  return out;
}

export function createCallouts(root: Root, log: Log): Callouts {
  void log;
  const callouts = listScripts(root.calloutDirs);
  const notifiers = listScripts(root.notifierDirs);
  if (callouts.length === 0 && notifiers.length === 0) return noScripts;
  throw new Error('callout scripts are not supported yet');
}

/** No script installed: commands run as they are, no attributes come from scripts. */
const noScripts: Callouts = {
  invoke: (_dev, _action, _force, fn) => fn(),
  getAttributes: () => [],
  modifyLive: (dev) => {
    throw new Error(`No callout script supports live modification of ${dev.uuid}`);
  },
};
