/**
 * Dry runs (`--dry-run`): the effects port. Every change an operation makes goes through one of
 * three seams: the config store's files (StoreFiles), the kernel writes (KernelWriter) and the
 * script runner (Callouts). A dry run swaps in the recorders below: they run the checks the real
 * write would meet (the file or directory exists and is writable, the device has the attribute,
 * instances are left), record the action, and change nothing. Scripts run only for queries
 * (get/capabilities, get/attributes); the pre, post, notify and live runs are listed instead.
 *
 * The plan renders as stable text (one action a line, file contents indented below their
 * `write-file` line) or as a JSON array of actions. Paths are shown as seen from the root (as in
 * a chroot), so a plan does not depend on where a fixture tree lives.
 */
import fs = require('node:fs');
import path = require('node:path');
import { Root } from '../util/root';
import { KernelWriter } from '../kernel/sysfs';
import { StoreFiles } from '../store/store';
import { Action as CalloutAction, CalloutError, CalloutItem, CalloutPlan, Callouts, Event } from '../callouts';
import { Log } from '../util/log';
import { Attr, MDev } from '../model/device';
import { LIVE_UNSUPPORTED, MdevctlError, describeSystemError } from '../util/errors';
import { DeviceFile, declaredDeviceFiles } from '../kernel/simulated-kernel';
import { JsonValue, Ordered, pretty } from '../model/json';
import { isDirectory } from '../util/fastfs';

export type PlannedAction =
  | { action: 'make-dir'; path: string }
  | { action: 'write-file'; path: string; content: string }
  | { action: 'remove-file'; path: string }
  | { action: 'sysfs-create'; path: string; value: string }
  | { action: 'sysfs-write'; path: string; value: string }
  | { action: 'sysfs-remove'; path: string; value: string }
  | { action: 'run-script'; path: string; args: string[]; stdin: string };

function errno(code: string, p: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: ${p}`) as NodeJS.ErrnoException;
  e.code = code;
  e.path = p;
  return e;
}

/** The nearest existing ancestor of P (P itself when it exists). */
function nearestExisting(p: string): string {
  let d = p;
  for (;;) {
    try {
      fs.statSync(d);
      return d;
    } catch {
      const up = path.dirname(d);
      if (up === d) return d;
      d = up;
    }
  }
}

export class Plan {
  readonly actions: PlannedAction[] = [];
  readonly files: StoreFiles;
  readonly kernel: KernelWriter;
  readonly callouts: Callouts;

  /** REAL makes the real callout runner (asked which scripts an action involves). */
  constructor(
    readonly root: Root,
    real: () => Callouts,
    log: Log,
  ) {
    this.files = new PlanFiles(this);
    this.kernel = new PlanKernel(this);
    this.callouts = new PlanCallouts(this, real, log);
  }

  record(a: PlannedAction): void {
    this.actions.push(a);
  }

  /** A path as seen from the root: /etc/mdevctl.d/... for a fixture root too. */
  shown(abs: string): string {
    if (this.root.isSystemRoot) return abs;
    const rel = path.relative(this.root.dir, abs);
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return abs;
    return `/${rel}`;
  }

  /** The plan as text: one action a line; file contents below, indented by 4 spaces. */
  text(): string {
    let out = '';
    for (const a of this.actions) {
      switch (a.action) {
        case 'make-dir':
        case 'remove-file':
          out += `${a.action} ${word(a.path)}\n`;
          break;
        case 'write-file':
          out += `${a.action} ${word(a.path)}\n`;
          for (const line of contentLines(a.content)) out += line === '' ? '\n' : `    ${line}\n`;
          break;
        case 'sysfs-create':
        case 'sysfs-write':
        case 'sysfs-remove':
          out += `${a.action} ${word(a.path)} ${JSON.stringify(a.value)}\n`;
          break;
        case 'run-script':
          out += `${a.action} ${[a.path, ...a.args].map(word).join(' ')}\n`;
          break;
      }
    }
    return out;
  }

  /** The plan as JSON: an array of action objects, keys in a fixed order. */
  json(): string {
    const value: JsonValue = this.actions.map((a) => new Ordered(Object.entries(a) as Array<[string, JsonValue]>));
    return pretty(value);
  }
}

function contentLines(content: string): string[] {
  if (content === '') return [];
  const lines = content.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** A word of the text form: as is when plain, JSON-quoted when it has spaces or odd characters. */
function word(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./{}-]+$/.test(s) ? s : JSON.stringify(s);
}

/** The config store's writes, checked and recorded. */
class PlanFiles implements StoreFiles {
  readonly dryRun = true;
  private readonly dirs = new Set<string>();

  constructor(private readonly plan: Plan) {}

  writeFile(file: string, content: string, what: string): void {
    const dir = path.dirname(file);
    if (!this.dirs.has(dir) && !isDirectory(dir)) {
      const base = nearestExisting(dir);
      try {
        if (!isDirectory(base)) throw errno('ENOTDIR', base);
        fs.accessSync(base, fs.constants.W_OK);
      } catch (e) {
        throw new MdevctlError(`Unable to create directory ${dir}: ${describeSystemError(e)}`);
      }
      this.dirs.add(dir);
      this.plan.record({ action: 'make-dir', path: this.plan.shown(dir) });
    } else if (!this.dirs.has(dir)) {
      try {
        fs.accessSync(dir, fs.constants.W_OK);
        if (isDirectory(file)) throw errno('EISDIR', file);
      } catch (e) {
        throw new MdevctlError(`${what}: ${describeSystemError(e)} (${file})`);
      }
    }
    this.plan.record({ action: 'write-file', path: this.plan.shown(file), content });
  }

  removeFile(file: string): void {
    try {
      fs.lstatSync(file);
      fs.accessSync(path.dirname(file), fs.constants.W_OK);
    } catch (e) {
      throw new MdevctlError(`Failed to remove file ${file}: ${describeSystemError(e)}`);
    }
    this.plan.record({ action: 'remove-file', path: this.plan.shown(file) });
  }
}

/** Would writing FILE be allowed? Throws the errno the write would meet. */
function checkWritable(file: string): void {
  const st = fs.statSync(file);
  if (st.isDirectory()) throw errno('EISDIR', file);
  // sysfs refuses writes to an attribute without write permission bits, even for root
  if ((st.mode & 0o222) === 0) throw errno('EACCES', file);
  fs.accessSync(file, fs.constants.W_OK);
}

interface PlannedDevice {
  typeDir: string;
  /** The type's declared attribute files; null when unknown (writes are planned unchecked). */
  files: DeviceFile[] | null;
}

/** The kernel writes, checked and recorded; devices created by the plan are remembered. */
class PlanKernel implements KernelWriter {
  private readonly devices = new Map<string, PlannedDevice>();

  constructor(private readonly plan: Plan) {}

  create(typeDir: string, uuid: string): void {
    const file = path.join(typeDir, 'create');
    checkWritable(file);
    let realType = typeDir;
    try {
      realType = fs.realpathSync.native(typeDir);
    } catch {
      /* checked above */
    }
    this.devices.set(uuid, { typeDir, files: declaredDeviceFiles(realType, uuid) });
    this.plan.record({ action: 'sysfs-create', path: this.plan.shown(file), value: uuid });
  }

  remove(deviceDir: string, uuid: string): void {
    const file = path.join(deviceDir, 'remove');
    if (this.devices.has(uuid)) this.devices.delete(uuid);
    else checkWritable(file);
    this.plan.record({ action: 'sysfs-remove', path: this.plan.shown(file), value: '1' });
  }

  writeAttribute(deviceDir: string, name: string, value: string): void {
    const file = path.join(deviceDir, name);
    const planned = this.devices.get(path.basename(deviceDir));
    if (planned) {
      const f = planned.files?.find((d) => d.name === name);
      if (f && f.access === 'ro') throw errno('EACCES', file);
    } else {
      checkWritable(file);
    }
    this.plan.record({ action: 'sysfs-write', path: this.plan.shown(file), value });
  }

  attributeExists(deviceDir: string, name: string): boolean | undefined {
    const planned = this.devices.get(path.basename(deviceDir));
    if (!planned) return undefined;
    if (planned.files === null) return true;
    return planned.files.some((f) => f.name === name);
  }

  pendingCreates(typeDir: string): number {
    let n = 0;
    for (const d of this.devices.values()) if (d.typeDir === typeDir) n++;
    return n;
  }
}

/**
 * Callouts in a dry run. Which scripts an action involves comes from the callout runner's plan
 * (it asks the scripts get/capabilities, a query); the pre, post and notify runs are recorded,
 * not made. get/attributes is a query too: it runs, so that `define -u` of a running device plans
 * the definition it would really write. A versioned script that would refuse the action fails
 * the dry run as it would fail the real one.
 */
class PlanCallouts implements Callouts {
  private base?: Callouts;

  constructor(
    private readonly recorder: Plan,
    private readonly real: () => Callouts,
    private readonly log: Log,
  ) {}

  private runner(): Callouts {
    this.base ??= this.real();
    return this.base;
  }

  private record(scripts: string[], dev: MDev, event: Event, action: CalloutAction, state: string, stdin: string): void {
    for (const script of scripts) {
      const args = ['-t', dev.type ?? '', '-e', event, '-a', action, '-s', state, '-u', dev.uuid, '-p', dev.parent ?? ''];
      this.recorder.record({ action: 'run-script', path: this.recorder.shown(script), args, stdin });
    }
  }

  invoke<T>(dev: MDev, action: CalloutAction, force: boolean, fn: () => T): T {
    const p = this.runner().plan(dev, action);
    const config = p.callouts.length > 0 ? JSON.stringify(dev.toConfig()) : '';
    if (p.problem) {
      if (!force) throw new CalloutError(p.problem);
      this.log.warn(`Forcing operation '${action}' despite callout failure. Error was: ${p.problem}`);
    } else {
      this.record(p.callouts, dev, 'pre', action, 'none', config);
    }
    const result = fn();
    const post = p.versioned && !p.versioned.events.includes('post') ? [] : p.callouts;
    if (!p.problem) this.record(post, dev, 'post', action, 'success', config);
    this.record(p.notifiers, dev, 'notify', action, 'success', '');
    return result;
  }

  invokeAll<T>(items: CalloutItem[], force: boolean, fn: () => T): T {
    const plans = items.map((item) => {
      const p = this.runner().plan(item.dev, item.action);
      const config = p.callouts.length > 0 ? JSON.stringify(item.dev.toConfig()) : '';
      if (p.problem) {
        if (!force) throw new CalloutError(`${item.label}: ${p.problem}`);
        this.log.warn(`Forcing operation '${item.action}' despite callout failure. Error was: ${p.problem}`);
      } else {
        this.record(p.callouts, item.dev, 'pre', item.action, 'none', config);
      }
      return { item, p, config };
    });
    const result = fn();
    for (const { item, p, config } of plans) {
      const post = p.versioned && !p.versioned.events.includes('post') ? [] : p.callouts;
      if (!p.problem) this.record(post, item.dev, 'post', item.action, 'success', config);
      this.record(p.notifiers, item.dev, 'notify', item.action, 'success', '');
    }
    return result;
  }

  getAttributes(dev: MDev): Attr[] {
    const p = this.runner().plan(dev, 'attributes');
    this.record(p.callouts, dev, 'get', 'attributes', 'none', '');
    return this.runner().getAttributes(dev);
  }

  modifyLive(dev: MDev): void {
    const p = this.runner().plan(dev, 'modify');
    const v = p.versioned;
    if (!v) throw new CalloutError(LIVE_UNSUPPORTED);
    if (!v.actions.includes('modify')) throw new CalloutError(`Callout script '${v.path}' does not support action 'modify'`);
    if (!v.events.includes('live')) throw new CalloutError(`Callout script '${v.path}' does not support event 'live'`);
    this.record([v.path], dev, 'live', 'modify', 'none', JSON.stringify(dev.toConfig()));
    this.record(p.notifiers, dev, 'notify', 'modify', 'success', '');
  }

  plan(dev: MDev, action: CalloutAction): CalloutPlan {
    return this.runner().plan(dev, action);
  }
}
