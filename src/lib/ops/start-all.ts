/**
 * `start-all` (what boot runs, from mdevctl-autostart.service): start every `auto` definition that
 * is not running, of every parent, waiting up to WAIT seconds for what each needs.
 *
 * Rounds, every INTERVAL until nothing is left to do or the wait is over:
 * - a definition whose `after` UUIDs (a key of ours in the definition, ignored by upstream) do not
 *   all run yet waits for them; those named among the auto definitions start first (in order:
 *   rounds go through the definitions in dependency order, then by parent and UUID). A definition
 *   that starts after one that failed, after itself (a cycle), after a UUID defined nowhere, or
 *   with an `after` that is not a list of UUIDs, fails without a try;
 * - a definition whose parent is not registered for mdev, whose type is not offered, or whose
 *   type has no instance left waits for them (polling sysfs: a vendor daemon such as
 *   nvidia-vgpud registers its types some time after its parent appears);
 * - a ready one is started under the store lock unless it runs as defined (the udev rule may have
 *   started it meanwhile: src/lib/ops/autostart.ts). A start the kernel refused for a passing
 *   reason (PASSING_ERRNOS: EBUSY, ENOSPC, ...) is tried again at the next round; any other
 *   failure is final.
 * What was still waiting when the wait ends has failed, with what it was waiting for.
 *
 * Every change of state is written to the status file (src/lib/ops/autostart-status.ts); each
 * definition's end gets one line on stderr (the journal, under systemd). A dry run does not wait
 * nor write the status: one round, the starts recorded in the plan, the waits reported.
 */
import { Context } from './context';
import { MDev } from '../model/device';
import { KernelError, MdevctlError } from '../util/errors';
import { byteOrder } from '../model/order';
import { Sysfs } from '../kernel/sysfs';
import { parseUuid } from '../model/uuid';
import { AutostartFile, AutostartRecord, AutostartState, writeAutostartStatus } from './autostart-status';
import { notReady, passingError, startUnlessRunning } from './autostart';

export interface StartAllOptions {
  /** Seconds to wait for parents, types, instances and dependencies; default 0 (one round). */
  wait?: number;
  /** Milliseconds between rounds; default 500. */
  intervalMs?: number;
}

export interface StartAllResult {
  /** Every auto definition with its final state (planned, in a dry run), in the order tried. */
  definitions: AutostartRecord[];
  /** Those that failed (in a dry run, those a real run would wait for stay `waiting`, not here). */
  failed: AutostartRecord[];
}

export const DEFAULT_INTERVAL_MS = 500;

interface Item {
  dev: MDev;
  rec: AutostartRecord;
  /** The UUIDs it starts after (canonical), or a message when its `after` is unusable. */
  after: string[] | string;
}

function sleep(ms: number): void {
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The `after` key: undefined/null -> none; else a list of UUIDs, or why it is not one. */
export function parseAfter(raw: unknown): string[] | string {
  if (raw === undefined || raw === null) return [];
  const bad = '"after" is not a list of UUIDs';
  if (!Array.isArray(raw)) return bad;
  const out: string[] = [];
  for (const v of raw) {
    const u = typeof v === 'string' ? parseUuid(v) : null;
    if (u === null) return bad;
    if (!out.includes(u)) out.push(u);
  }
  return out;
}

/**
 * Items in dependency order: each after those it names among ITEMS (by UUID, any parent), ties
 * by parent then UUID (BYUUID: the items of each UUID). Items on a cycle are failed here.
 */
function inOrder(items: Item[], byUuid: Map<string, Item[]>, fail: (it: Item, reason: string) => void): Item[] {
  const deps = (it: Item) => (typeof it.after === 'string' ? [] : it.after.flatMap((u) => byUuid.get(u) ?? []));
  const out: Item[] = [];
  const done = new Set<Item>();
  const onPath = new Set<Item>();
  const visit = (it: Item, trail: Item[]): void => {
    if (done.has(it)) return;
    if (onPath.has(it)) {
      const cycle = [...trail.slice(trail.indexOf(it)), it].map((c) => c.dev.uuid);
      for (const c of trail.slice(trail.indexOf(it))) if (c.rec.state !== 'failed') fail(c, `its "after" makes a cycle: ${cycle.join(' -> ')}`);
      return;
    }
    onPath.add(it);
    for (const d of deps(it)) visit(d, [...trail, it]);
    onPath.delete(it);
    done.add(it);
    out.push(it);
  };
  for (const it of items) visit(it, []);
  return out;
}

/** Start every auto definition that is not running (see the file's comment). */
export function startAll(ctx: Context, o: StartAllOptions = {}): StartAllResult {
  const wait = o.wait ?? 0;
  if (!Number.isFinite(wait) || wait < 0) throw new MdevctlError(`Invalid wait '${wait}': expected a number of seconds`);
  const interval = o.intervalMs ?? DEFAULT_INTERVAL_MS;
  const dry = ctx.plan !== undefined;
  const now = () => new Date().toISOString();
  const t0 = Date.now();
  const file: AutostartFile = { started: now(), updated: now(), finished: null, pid: process.pid, wait, definitions: [] };

  const all = ctx.store.definedDevices({});
  const definedUuids = new Set([...all.values()].flat().map((d) => d.uuid));
  const items: Item[] = [...all.values()]
    .flat()
    .filter((d) => d.autostart)
    .sort((a, b) => byteOrder(a.requireParent(), b.requireParent()) || byteOrder(a.uuid, b.uuid))
    .map((dev) => ({
      dev,
      after: parseAfter(dev.after),
      rec: { uuid: dev.uuid, parent: dev.requireParent(), mdev_type: dev.requireType(), state: 'waiting', reason: 'not tried yet', attempts: 0, since: now() },
    }));
  file.definitions = items.map((it) => it.rec);

  let changed = true;
  const set = (it: Item, state: AutostartState, reason?: string, errno?: string) => {
    if (it.rec.state === state && it.rec.reason === reason && it.rec.errno === errno) return;
    if (it.rec.state !== state) it.rec.since = now();
    it.rec.state = state;
    if (reason === undefined) delete it.rec.reason;
    else it.rec.reason = reason;
    if (errno === undefined) delete it.rec.errno;
    else it.rec.errno = errno;
    changed = true;
  };
  const name = (it: Item) => `${it.dev.uuid} on ${it.rec.parent} (${it.rec.mdev_type})`;
  const fail = (it: Item, reason: string, errno?: string) => {
    set(it, 'failed', reason, errno);
    ctx.log.warn(`not started ${name(it)}: ${reason}`);
  };

  for (const it of items) {
    if (typeof it.after === 'string') fail(it, it.after);
    else {
      const unknown = it.after.find((u) => !definedUuids.has(u));
      if (unknown !== undefined && !ctx.sysfs.activeDevice(unknown)) fail(it, `it starts after ${unknown}, which is neither defined nor running`);
    }
  }
  const byUuid = new Map<string, Item[]>();
  for (const it of items) byUuid.set(it.dev.uuid, [...(byUuid.get(it.dev.uuid) ?? []), it]);
  const order = inOrder(items, byUuid, fail);
  const upIn = (state: AutostartState) => state === 'started' || state === 'running' || state === 'planned';
  const pending = () => order.filter((it) => it.rec.state === 'waiting');

  const round = (sysfs: Sysfs, rctx: Context) => {
    for (const it of pending()) {
      // what it starts after: all running (or planned in this dry run)?
      const deps = it.after as string[];
      const failedDep = deps.find((u) => (byUuid.get(u) ?? []).some((d) => d.rec.state === 'failed'));
      if (failedDep !== undefined) {
        fail(it, `it starts after ${failedDep}, which did not start`);
        continue;
      }
      const notUp = deps.find((u) => !(byUuid.get(u) ?? []).some((d) => upIn(d.rec.state)) && !sysfs.activeDevice(u));
      if (notUp !== undefined) {
        set(it, 'waiting', `it starts after ${notUp}, which is not running yet`);
        continue;
      }
      // running already (as defined; udev's rule may have started it): nothing to try
      const a = sysfs.activeDevice(it.dev.uuid);
      if (a && a.parent === it.rec.parent && a.type === it.rec.mdev_type) {
        set(it, 'running', 'it was running already');
        ctx.log.info(`running ${name(it)}: it was running already`);
        continue;
      }
      const missing = notReady(sysfs, it.dev);
      if (missing) {
        set(it, 'waiting', missing.reason);
        continue;
      }
      it.rec.attempts++;
      changed = true;
      try {
        const r = startUnlessRunning(rctx, it.dev);
        if (dry && r === 'started') {
          set(it, 'planned');
          ctx.log.info(`would start ${name(it)}`);
        } else if (r === 'started') {
          set(it, 'started');
          ctx.log.info(`started ${name(it)}`);
        } else {
          set(it, 'running', 'it was running already');
          ctx.log.info(`running ${name(it)}: it was running already`);
        }
      } catch (e) {
        if (!(e instanceof MdevctlError)) throw e;
        const errno = e instanceof KernelError ? e.code : undefined;
        const message = e.message.replace(/\n/g, ' ');
        if (passingError(e)) set(it, 'waiting', `the kernel refused the start (${errno}), to be tried again: ${message}`, errno);
        else {
          // the tree changed under us (the type went away, its last instance was taken): wait again
          const gone = notReady(new Sysfs(ctx.root, ctx.log, ctx.sysfs.writer), it.dev);
          if (gone) set(it, 'waiting', gone.reason);
          else fail(it, message, errno);
        }
      }
    }
  };

  // a status file that cannot be written is said once (a warning), then no longer tried
  let canSave = !dry;
  const save = (final: boolean) => {
    if (!canSave || (!changed && !final)) return;
    file.updated = now();
    if (final) file.finished = file.updated;
    canSave = writeAutostartStatus(ctx, file);
    changed = false;
  };

  let announced = false;
  for (;;) {
    ctx.sysfs.writer.tick?.();
    // a fresh view of sysfs each round: the adapter caches a scan of sys/devices
    const sysfs = new Sysfs(ctx.root, ctx.log, ctx.sysfs.writer);
    const rctx: Context = {
      root: ctx.root,
      log: ctx.log,
      sysfs,
      store: ctx.store,
      plan: ctx.plan,
      get callouts() {
        return ctx.callouts;
      },
    };
    round(sysfs, rctx);
    const left = pending();
    if (left.length === 0 || dry) break;
    const remaining = t0 + wait * 1000 - Date.now();
    if (remaining <= 0) break;
    if (!announced) {
      announced = true;
      const what = left.map((it) => `${it.dev.uuid} (${it.rec.reason})`).join(', ');
      ctx.log.info(`waiting up to ${wait} s for ${left.length === 1 ? '1 definition' : `${left.length} definitions`}: ${what}`);
    }
    save(false);
    sleep(Math.min(interval, remaining));
  }
  for (const it of pending()) {
    if (dry) ctx.log.info(`would wait ${wait > 0 ? `up to ${wait} s ` : ''}for ${name(it)}: ${it.rec.reason}`);
    else fail(it, wait > 0 ? `${it.rec.reason} (gave up after ${wait} s)` : (it.rec.reason ?? 'not started'));
  }
  save(true);
  return { definitions: order.map((it) => it.rec), failed: order.filter((it) => it.rec.state === 'failed').map((it) => it.rec) };
}
