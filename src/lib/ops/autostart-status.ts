/**
 * The autostart status: what `start-all` did for each `auto` definition, kept in
 * ROOT/run/mdevctl/autostart.json (runtime state: /run is a tmpfs, empty at each boot), and
 * `status`, which reads it beside what runs now.
 *
 * The file is rewritten (atomically: temp file and rename) whenever a definition's state changes
 * while start-all runs, so it can be read during the boot wait too:
 *
 *   {"started": ISO time, "updated": ISO time, "finished": ISO time or null, "pid": N, "wait": S,
 *    "definitions": [{"uuid", "parent", "mdev_type", "state", "reason"?, "errno"?, "attempts", "since"}]}
 *
 * state: `started` (by this run), `running` (it was, or another starter such as the udev rule
 * started it meanwhile), `waiting` (for its parent, type, instances, a definition it starts after,
 * or a retry; reason says which), `failed` (reason says why), `planned` is never written (dry runs
 * write nothing).
 */
import fs = require('node:fs');
import path = require('node:path');
import { Context } from './context';
import { MdevctlError, describeSystemError, errnoCode } from '../util/errors';
import { byteOrder } from '../model/order';
import { writeFileAtomic } from '../store/atomic-file';
import { processAlive } from '../store/lock';
import { definedDevices } from './lookup';

export type AutostartState = 'started' | 'running' | 'waiting' | 'failed' | 'planned';

export interface AutostartRecord {
  uuid: string;
  parent: string;
  mdev_type: string;
  state: AutostartState;
  /** Why it is waiting or failed (or, for running, that it was running already). */
  reason?: string;
  /** The kernel's errno name, when the kernel refused the last start. */
  errno?: string;
  /** Starts tried (0: it never got as far as a try). */
  attempts: number;
  /** When it entered this state (ISO time). */
  since: string;
}

export interface AutostartFile {
  started: string;
  updated: string;
  finished: string | null;
  pid: number;
  wait: number;
  definitions: AutostartRecord[];
}

/** Write the status file (best effort: a failure is a warning, once, and start-all goes on). */
export function writeAutostartStatus(ctx: Context, data: AutostartFile): boolean {
  const file = ctx.root.autostartStatusPath;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
    writeFileAtomic(file, `${JSON.stringify(data, null, 2)}\n`, 'Unable to write the autostart status');
    return true;
  } catch (e) {
    ctx.log.warn(e instanceof MdevctlError ? e.message : `Unable to write the autostart status ${file}: ${describeSystemError(e)}`);
    return false;
  }
}

/** The status file, or null when there is none (no start-all ran since boot). */
export function readAutostartStatus(ctx: Context): AutostartFile | null {
  const file = ctx.root.autostartStatusPath;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return null;
    throw new MdevctlError(`Unable to read the autostart status ${file}: ${describeSystemError(e)}`);
  }
  try {
    const v = JSON.parse(text) as AutostartFile;
    if (v === null || typeof v !== 'object' || !Array.isArray(v.definitions)) throw new Error('not a status object');
    return v;
  } catch (e) {
    throw new MdevctlError(`Malformed autostart status ${file}: ${(e as Error).message}`);
  }
}

/** One auto definition as `status` reports it. */
export interface AutostartStatusEntry {
  uuid: string;
  parent: string;
  mdev_type: string;
  /** Running as defined now (sysfs). */
  running: boolean;
  /** start-all's last word on it; absent when no start-all recorded it since boot. */
  state?: AutostartState;
  reason?: string;
  errno?: string;
  since?: string;
}

export interface AutostartStatus {
  /** Every auto definition, by parent then UUID. */
  definitions: AutostartStatusEntry[];
  /** The last start-all: when it started and finished (null: still running, or killed), if any ran. */
  run: { started: string; finished: string | null; pid: number; alive: boolean } | null;
}

/** Every auto definition with whether it runs now and what the last start-all recorded. */
export function autostartStatus(ctx: Context): AutostartStatus {
  const file = readAutostartStatus(ctx);
  const recorded = new Map<string, AutostartRecord>();
  for (const r of file?.definitions ?? []) recorded.set(`${r.parent}/${r.uuid}`, r);
  const out: AutostartStatusEntry[] = [];
  for (const devs of definedDevices(ctx).values()) {
    for (const d of devs) {
      if (!d.autostart) continue;
      const e: AutostartStatusEntry = { uuid: d.uuid, parent: d.requireParent(), mdev_type: d.requireType(), running: d.active };
      const r = recorded.get(`${e.parent}/${e.uuid}`);
      if (r) {
        e.state = r.state;
        if (r.reason !== undefined) e.reason = r.reason;
        if (r.errno !== undefined) e.errno = r.errno;
        e.since = r.since;
      }
      out.push(e);
    }
  }
  out.sort((a, b) => byteOrder(a.parent, b.parent) || byteOrder(a.uuid, b.uuid));
  const run = file ? { started: file.started, finished: file.finished, pid: file.pid, alive: file.finished === null && processAlive(file.pid) } : null;
  return { definitions: out, run };
}

/** `status`'s text: one line per auto definition, `UUID PARENT TYPE STATE[: REASON]`. */
export function autostartStatusText(s: AutostartStatus): string {
  let out = '';
  for (const e of s.definitions) {
    let state: string;
    if (e.running) state = 'running';
    else if (e.state === 'waiting' && s.run?.alive) state = `waiting: ${e.reason ?? ''}`;
    else if (e.state === undefined) state = s.run ? 'not running: not seen by start-all' : 'not running: no start-all ran since boot';
    else if (e.state === 'failed' || e.state === 'waiting') state = `not running: ${e.reason ?? e.state}`;
    else state = 'not running: stopped since start-all started it';
    out += `${e.uuid} ${e.parent} ${e.mdev_type} ${state}\n`;
  }
  return out;
}
