/**
 * `mdevctl apply`: make the stored definitions look like a file (the form `list -d --dumpjson`
 * prints). The plan (define, modify, undefine) is worked out against the store under the store
 * lock; unchanged definitions are not touched. Then, still under the lock, every callout script
 * is asked (all pre callouts first), an undo journal is written (src/lib/store/journal.ts) and the
 * definitions are written; any failure restores the files from the journal, so the store ends
 * either as before or as the file says. Running devices are never stopped or restarted; with
 * `start`, the file's auto-start devices that are not running are started afterwards.
 */
import { Context } from './context';
import { DeviceConfig, MDev } from '../model/device';
import { MdevctlError } from '../util/errors';
import { Journal, journalOverlay } from '../store/journal';
import { CalloutItem } from '../callouts';
import { byteOrder } from '../model/order';
import { DesiredState, readApplyFile } from '../store/apply-file';
import { createDevice } from './start';

export interface ApplyOptions {
  /** The file to apply (`-` or `/dev/stdin`: standard input). */
  jsonfile: string;
  /** Undefine the definitions of the parents the file names that the file does not list. */
  prune?: boolean;
  /** Undefine every definition (of any parent) that the file does not list. */
  pruneAll?: boolean;
  /** Work out and return the plan only: nothing is written, no script is run. */
  dryRun?: boolean;
  /** Afterwards start the file's auto-start devices that are not running. */
  start?: boolean;
  /** Go on when a callout script's pre event fails. */
  force?: boolean;
}

/** One changed field of a modified definition. */
export type FieldChange =
  | { field: 'mdev_type'; from: string; to: string }
  | { field: 'start'; from: 'auto' | 'manual'; to: 'auto' | 'manual' }
  | { field: 'attrs'; from: DeviceConfig['attrs']; to: DeviceConfig['attrs'] }
  /** The stored file could not be read as a definition; it is replaced. */
  | { field: 'definition'; from: 'malformed'; to: 'replaced' };

export type ApplyChange =
  | { action: 'define'; uuid: string; parent: string; config: DeviceConfig }
  | { action: 'modify'; uuid: string; parent: string; config: DeviceConfig; changes: FieldChange[] }
  | { action: 'undefine'; uuid: string; parent: string; config: DeviceConfig };

export interface ApplyResult {
  /** The changes, in order of parent and UUID (bytes); made, or in a dry run planned. */
  changes: ApplyChange[];
  /** Definitions of the file already stored exactly so (not rewritten). */
  unchanged: number;
  /** Devices started (in a dry run: that would be started) with `start`. */
  started: Array<{ uuid: string; parent: string; mdev_type: string }>;
  /** Devices `start` failed to start (the definitions stay applied). */
  startFailed: Array<{ uuid: string; parent: string; reason: string }>;
  /** Running devices that differ from their new definition: they change only when restarted. */
  restart: Array<{ uuid: string; parent: string; reason: string }>;
  /** Parents of the file that are not present in sysfs (their definitions are stored all the same). */
  absentParents: string[];
  dryRun: boolean;
}

function config(dev: MDev): DeviceConfig {
  return dev.toConfig();
}

function sameAttrs(a: MDev, b: MDev): boolean {
  return a.attrs.length === b.attrs.length && a.attrs.every(([k, v], i) => b.attrs[i][0] === k && b.attrs[i][1] === v);
}

/** What differs between the stored definition OLD and the wanted NEW (empty: unchanged). */
function diff(old: MDev, want: MDev): FieldChange[] {
  const out: FieldChange[] = [];
  if (old.type !== want.type) out.push({ field: 'mdev_type', from: old.requireType(), to: want.requireType() });
  if (old.autostart !== want.autostart) {
    out.push({ field: 'start', from: old.autostart ? 'auto' : 'manual', to: want.autostart ? 'auto' : 'manual' });
  }
  if (!sameAttrs(old, want)) out.push({ field: 'attrs', from: config(old).attrs, to: config(want).attrs });
  return out;
}

const key = (parent: string, uuid: string) => `${parent}\0${uuid}`;

interface Planned {
  change: ApplyChange;
  /** The device the callout scripts are asked about (the new config; the old one for undefine). */
  dev: MDev;
}

/** The changes that make the store match DESIRED (read from the store now). */
function planChanges(ctx: Context, desired: DesiredState, o: ApplyOptions): { planned: Planned[]; unchanged: number } {
  const stored = ctx.store.definedDevices();
  // without the lock (a dry run), a journal left by a killed apply may be there: the store is
  // then seen as it was before that apply (as definedDevices sees it), file existence included
  const pending = o.dryRun ? journalOverlay(ctx.root) : null;
  const existed = (parent: string, uuid: string): boolean => {
    const old = pending?.get(parent)?.get(uuid);
    return old !== undefined ? old !== null : ctx.store.exists(parent, uuid);
  };
  const storedByKey = new Map<string, MDev>();
  for (const devs of stored.values()) for (const d of devs) storedByKey.set(key(d.requireParent(), d.uuid), d);
  const wanted = new Set<string>();
  const planned: Planned[] = [];
  let unchanged = 0;
  for (const want of desired.devices) {
    const parent = want.requireParent();
    wanted.add(key(parent, want.uuid));
    const old = storedByKey.get(key(parent, want.uuid));
    if (old === undefined) {
      // not listed: absent, or present but unreadable (then it is replaced, as a modification)
      if (existed(parent, want.uuid)) {
        planned.push({
          change: { action: 'modify', uuid: want.uuid, parent, config: config(want), changes: [{ field: 'definition', from: 'malformed', to: 'replaced' }] },
          dev: want,
        });
      } else {
        planned.push({ change: { action: 'define', uuid: want.uuid, parent, config: config(want) }, dev: want });
      }
      continue;
    }
    const changes = diff(old, want);
    if (changes.length === 0) unchanged++;
    else planned.push({ change: { action: 'modify', uuid: want.uuid, parent, config: config(want), changes }, dev: want });
  }
  if (o.prune || o.pruneAll) {
    const named = new Set(desired.parents);
    for (const [parent, devs] of stored) {
      if (!o.pruneAll && !named.has(parent)) continue;
      for (const d of devs) {
        if (wanted.has(key(parent, d.uuid))) continue;
        planned.push({ change: { action: 'undefine', uuid: d.uuid, parent, config: config(d) }, dev: d });
      }
    }
  }
  planned.sort((a, b) => byteOrder(a.change.parent, b.change.parent) || byteOrder(a.change.uuid, b.change.uuid));
  return { planned, unchanged };
}

function label(c: ApplyChange): string {
  return `Refused to ${c.action} ${c.uuid} on ${c.parent}`;
}

/** Write the planned changes all or nothing (called under the lock, after the pre callouts). */
function writeAll(ctx: Context, planned: Planned[]): void {
  const journal = Journal.begin(
    ctx.root,
    planned.map((p) => ({ parent: p.change.parent, uuid: p.change.uuid })),
  );
  for (const p of planned) {
    const c = p.change;
    try {
      if (c.action === 'undefine') ctx.store.remove(c.parent, c.uuid);
      else ctx.store.write(p.dev);
    } catch (e) {
      let msg = `Failed to ${c.action} ${c.uuid} on ${c.parent}: ${(e as Error).message}`;
      try {
        journal.rollback();
        msg += '; no definition was changed';
      } catch (e2) {
        msg +=
          `; rolling back also failed: ${(e2 as Error).message} ` +
          `(the next mdevctl command that changes definitions rolls back from ${ctx.root.journalPath})`;
      }
      throw new MdevctlError(msg);
    }
  }
  journal.commit();
}

/** Running devices of the file that differ from their new definition. */
function restartNeeded(ctx: Context, desired: DesiredState, planned: Planned[]): ApplyResult['restart'] {
  const out: ApplyResult['restart'] = [];
  const running = new Set(ctx.sysfs.activeUuids().map((e) => e.uuid));
  if (running.size === 0) return out;
  const changed = new Map<string, ApplyChange>();
  for (const p of planned) changed.set(key(p.change.parent, p.change.uuid), p.change);
  for (const want of desired.devices) {
    if (!running.has(want.uuid)) continue;
    const a = ctx.sysfs.activeDevice(want.uuid);
    if (!a) continue;
    const parent = want.requireParent();
    let reason: string | undefined;
    if (a.parent !== parent) reason = `running on parent ${a.parent}`;
    else if (a.type !== want.type) reason = `running as type ${a.type}, defined as ${want.type}`;
    else {
      const c = changed.get(key(parent, want.uuid));
      if (c?.action === 'modify' && c.changes.some((f) => f.field === 'attrs' || f.field === 'definition')) {
        reason = 'attributes changed';
      }
    }
    if (reason !== undefined) out.push({ uuid: want.uuid, parent, reason });
  }
  return out;
}

/** The file's auto-start devices that are not running, on parents that are present. */
function toStart(ctx: Context, desired: DesiredState, present: Set<string>): MDev[] {
  const running = new Set(ctx.sysfs.activeUuids().map((e) => e.uuid));
  return desired.devices.filter((d) => d.autostart && !running.has(d.uuid) && present.has(d.requireParent()));
}

/** Apply the file's definitions to the store (see the module comment). */
export function applyDefinitions(ctx: Context, opts: ApplyOptions): ApplyResult {
  // a context made for a dry run (its store only records) makes this a dry run too
  const o = { ...opts, dryRun: (opts.dryRun ?? false) || ctx.store.files.dryRun };
  const desired = readApplyFile(o.jsonfile);
  const present = new Set(ctx.sysfs.parents().map((p) => p.name));
  const absentParents = desired.parents.filter((p) => !present.has(p));
  for (const p of absentParents) {
    ctx.log.info(`Note: parent ${p} is not present; its definitions are stored and start when it appears`);
  }
  const result: ApplyResult = {
    changes: [],
    unchanged: 0,
    started: [],
    startFailed: [],
    restart: [],
    absentParents,
    dryRun: o.dryRun,
  };
  const work = () => {
    const { planned, unchanged } = planChanges(ctx, desired, o);
    result.changes = planned.map((p) => p.change);
    result.unchanged = unchanged;
    result.restart = restartNeeded(ctx, desired, planned);
    if (o.dryRun || planned.length === 0) return;
    const items: CalloutItem[] = planned.map((p) => ({ dev: p.dev, action: p.change.action, label: label(p.change) }));
    ctx.callouts.invokeAll(items, o.force ?? false, () => writeAll(ctx, planned));
  };
  if (o.dryRun) work();
  else ctx.store.locked(work);

  if (!o.start) return result;
  for (const dev of toStart(ctx, desired, present)) {
    const entry = { uuid: dev.uuid, parent: dev.requireParent(), mdev_type: dev.requireType() };
    if (o.dryRun) {
      result.started.push(entry);
      continue;
    }
    try {
      ctx.callouts.invoke(dev, 'start', o.force ?? false, () => createDevice(ctx, dev));
      result.started.push(entry);
    } catch (e) {
      const reason = (e as Error).message.replace(/\n/g, ' ');
      result.startFailed.push({ uuid: dev.uuid, parent: entry.parent, reason });
      ctx.log.warn(`Failed to start ${dev.uuid} on ${entry.parent}: ${reason}`);
    }
  }
  return result;
}

/** Did the run change (or, in a dry run, plan to change) anything? */
export function applyChangedAnything(r: ApplyResult): boolean {
  return r.changes.length > 0 || r.started.length > 0;
}

function attrsText(attrs: DeviceConfig['attrs']): string {
  return JSON.stringify(attrs);
}

/** The plan as text: one line per change, then the summary line. */
export function applyText(r: ApplyResult, withStart: boolean): string {
  let out = '';
  for (const c of r.changes) {
    switch (c.action) {
      case 'define':
        out += `define ${c.uuid} ${c.parent} ${c.config.mdev_type}\n`;
        break;
      case 'undefine':
        out += `undefine ${c.uuid} ${c.parent}\n`;
        break;
      case 'modify':
        for (const f of c.changes) {
          if (f.field === 'mdev_type') out += `modify ${c.uuid}: type ${f.from} -> ${f.to}\n`;
          else if (f.field === 'start') out += `modify ${c.uuid}: start ${f.from} -> ${f.to}\n`;
          else if (f.field === 'attrs') out += `modify ${c.uuid}: attrs ${attrsText(f.from)} -> ${attrsText(f.to)}\n`;
          else out += `modify ${c.uuid}: malformed definition replaced\n`;
        }
        break;
    }
  }
  for (const s of r.started) out += `start ${s.uuid} ${s.parent} ${s.mdev_type}\n`;
  for (const s of r.startFailed) out += `start failed ${s.uuid} ${s.parent}: ${s.reason}\n`;
  for (const s of r.restart) out += `restart to apply ${s.uuid} ${s.parent}: ${s.reason}\n`;
  const n = (a: ApplyChange['action']) => r.changes.filter((c) => c.action === a).length;
  out += `${n('define')} defined, ${n('modify')} modified, ${n('undefine')} undefined, ${r.unchanged} unchanged`;
  if (withStart) out += `, ${r.started.length} started`;
  return `${out}\n`;
}

/** The same as JSON (keys in a fixed order; no trailing newline). */
export function applyJsonValue(r: ApplyResult): unknown {
  const n = (a: ApplyChange['action']) => r.changes.filter((c) => c.action === a).length;
  return {
    dry_run: r.dryRun,
    changes: r.changes,
    started: r.started,
    start_failed: r.startFailed,
    restart: r.restart,
    absent_parents: r.absentParents,
    summary: {
      defined: n('define'),
      modified: n('modify'),
      undefined: n('undefine'),
      unchanged: r.unchanged,
      started: r.started.length,
    },
  };
}
