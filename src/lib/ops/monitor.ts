/**
 * Change notifications: compare snapshots of the definitions, the running devices and the
 * parents under a root, and report each difference as an event.
 *
 * The kernel does not send inotify events for sysfs changes, so sysfs is polled (default every
 * second). The config directory and, on fixture roots, the sysfs directories are also watched
 * with fs.watch, which makes a rescan happen at once instead of at the next poll.
 */
import fs = require('node:fs');
import { Context } from './context';
import { DeviceConfig, parseConfigText } from '../model/device';
import { Log } from '../util/log';
import { parseUuid } from '../model/uuid';
import { byteOrder } from '../model/order';

export type MonitorEvent =
  | { event: 'parent-added' | 'parent-removed'; parent: string }
  | { event: 'started' | 'stopped'; uuid: string; parent: string; mdev_type: string }
  | { event: 'defined' | 'modified'; uuid: string; parent: string; config: DeviceConfig | null; error?: string }
  | { event: 'undefined'; uuid: string; parent: string };

export interface MonitorState {
  parents: Set<string>;
  /** uuid -> "parent\0type" */
  active: Map<string, string>;
  /** "parent/uuid" -> file text */
  definitions: Map<string, string>;
}

/** A log that says each distinct message once: a broken link would otherwise warn every poll. */
export function onceLog(inner: Log): Log {
  const seen = new Set<string>();
  const once = (f: (m: string) => void) => (m: string) => {
    if (seen.has(m)) return;
    seen.add(m);
    f(m);
  };
  return { warn: once((m) => inner.warn(m)), info: once((m) => inner.info(m)) };
}

function readDirNames(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** The state of the root now: registered parents, running devices and definition file texts. */
export function snapshot(ctx: Context): MonitorState {
  const parents = new Set(ctx.sysfs.parents().map((p) => p.name));
  const active = new Map<string, string>();
  for (const a of ctx.sysfs.activeDevices()) active.set(a.uuid, `${a.parent}\0${a.type}`);
  const definitions = new Map<string, string>();
  for (const parent of ctx.store.parentDirs()) {
    const dir = ctx.root.parentConfigDir(parent);
    for (const name of readDirNames(dir)) {
      const uuid = parseUuid(name);
      if (uuid === null || uuid !== name) continue;
      try {
        definitions.set(`${parent}/${uuid}`, fs.readFileSync(ctx.root.definitionPath(parent, uuid), 'utf8'));
      } catch {
        // a directory, a dangling link, or removed since the readdir: not a definition
      }
    }
  }
  return { parents, active, definitions };
}

function definitionEvent(event: 'defined' | 'modified', key: string, text: string): MonitorEvent {
  const slash = key.lastIndexOf('/');
  const parent = key.slice(0, slash);
  const uuid = key.slice(slash + 1);
  try {
    const cfg = parseConfigText(text);
    const config: DeviceConfig = {
      mdev_type: cfg.type,
      start: cfg.autostart ? 'auto' : 'manual',
      attrs: cfg.attrs.map(([k, v]) => ({ [k]: v })),
    };
    return { event, uuid, parent, config };
  } catch (e) {
    return { event, uuid, parent, config: null, error: (e as Error).message };
  }
}

/**
 * What changed from A to B, in a stable order: parents that appeared, devices stopped, devices
 * started, definitions removed, added and changed, parents that went away.
 */
export function diff(a: MonitorState, b: MonitorState): MonitorEvent[] {
  const out: MonitorEvent[] = [];
  for (const p of [...b.parents].sort(byteOrder)) if (!a.parents.has(p)) out.push({ event: 'parent-added', parent: p });
  const activeEvent = (event: 'started' | 'stopped', uuid: string, v: string): MonitorEvent => {
    const [parent, mdev_type] = v.split('\0');
    return { event, uuid, parent, mdev_type };
  };
  for (const [uuid, v] of [...a.active].sort((x, y) => byteOrder(x[0], y[0]))) {
    if (b.active.get(uuid) !== v) out.push(activeEvent('stopped', uuid, v));
  }
  for (const [uuid, v] of [...b.active].sort((x, y) => byteOrder(x[0], y[0]))) {
    if (a.active.get(uuid) !== v) out.push(activeEvent('started', uuid, v));
  }
  for (const key of [...a.definitions.keys()].sort(byteOrder)) {
    if (!b.definitions.has(key)) {
      const slash = key.lastIndexOf('/');
      out.push({ event: 'undefined', uuid: key.slice(slash + 1), parent: key.slice(0, slash) });
    }
  }
  for (const [key, text] of [...b.definitions].sort((x, y) => byteOrder(x[0], y[0]))) {
    const old = a.definitions.get(key);
    if (old === undefined) out.push(definitionEvent('defined', key, text));
    else if (old !== text) out.push(definitionEvent('modified', key, text));
  }
  for (const p of [...a.parents].sort(byteOrder)) if (!b.parents.has(p)) out.push({ event: 'parent-removed', parent: p });
  return out;
}

export interface MonitorOptions {
  /** Milliseconds between two scans of sysfs and the config directory (default 1000). */
  interval?: number;
  onEvent(event: MonitorEvent): void;
  /** A scan failed (it is tried again at the next interval). Default: a warning on the context's log. */
  onError?: (err: Error) => void;
}

export interface Monitor {
  /** Stop watching; no event is reported after this. */
  close(): void;
}

/** Report every change under the context's root until closed. The first scan is the baseline. */
export function startMonitor(ctx: Context, opts: MonitorOptions): Monitor {
  const interval = opts.interval ?? 1000;
  const onError = opts.onError ?? ((e: Error) => ctx.log.warn(`Unable to scan ${ctx.root.dir}: ${e.message}`));
  let state = snapshot(ctx);
  let closed = false;
  let pending: NodeJS.Timeout | undefined;
  const watchers = new Map<string, fs.FSWatcher>();

  const scan = () => {
    if (closed) return;
    try {
      const next = snapshot(ctx);
      const events = diff(state, next);
      state = next;
      for (const e of events) opts.onEvent(e);
    } catch (e) {
      onError(e as Error);
    }
    if (!closed) rewatch();
  };

  /** A watcher fired: rescan soon, once for a burst of events (an atomic write makes several). */
  const soon = () => {
    if (closed || pending) return;
    pending = setTimeout(() => {
      pending = undefined;
      scan();
    }, 25);
  };

  /** Watch the config dir, each parent's config dir, and the sysfs dirs (they fire on fixtures). */
  const rewatch = () => {
    const dirs = new Set([ctx.root.configBase, ctx.root.mdevBase, ctx.root.parentBase]);
    for (const key of state.definitions.keys()) dirs.add(ctx.root.parentConfigDir(key.slice(0, key.lastIndexOf('/'))));
    for (const p of ctx.store.parentDirs()) dirs.add(ctx.root.parentConfigDir(p));
    for (const [dir, w] of watchers) {
      if (!dirs.has(dir)) {
        w.close();
        watchers.delete(dir);
      }
    }
    for (const dir of dirs) {
      if (watchers.has(dir)) continue;
      try {
        const w = fs.watch(dir, { persistent: false }, soon);
        w.on('error', () => {
          w.close();
          watchers.delete(dir);
        });
        watchers.set(dir, w);
      } catch {
        // not there (yet): the poll covers it, and the next scan tries again
      }
    }
  };

  rewatch();
  const timer = setInterval(scan, interval);
  return {
    close() {
      closed = true;
      clearInterval(timer);
      if (pending) clearTimeout(pending);
      for (const w of watchers.values()) w.close();
      watchers.clear();
    },
  };
}

/** One event as a line of text: `started UUID PARENT TYPE`, `defined UUID PARENT TYPE auto`, ... */
export function eventText(e: MonitorEvent): string {
  switch (e.event) {
    case 'parent-added':
    case 'parent-removed':
      return `${e.event} ${e.parent}`;
    case 'started':
    case 'stopped':
      return `${e.event} ${e.uuid} ${e.parent} ${e.mdev_type}`;
    case 'undefined':
      return `${e.event} ${e.uuid} ${e.parent}`;
    case 'defined':
    case 'modified':
      return e.config
        ? `${e.event} ${e.uuid} ${e.parent} ${e.config.mdev_type} ${e.config.start}`
        : `${e.event} ${e.uuid} ${e.parent} (malformed: ${(e.error ?? '').replace(/\n/g, ' ')})`;
  }
}
