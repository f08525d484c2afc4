/**
 * The callout policy (REFERENCE §8): which script answers for a device, what its exit status
 * means, and the pre → command → post → notify sequence around each command.
 */
import path = require('node:path');
import type { CalloutItem, Callouts, CalloutPlan } from './callouts';
import { Attr, MDev } from '../model/device';
import { LIVE_UNSUPPORTED, MdevctlError } from '../util/errors';
import { Log } from '../util/log';
import { Action, Capabilities, Event, PROVIDES_JSON, State, UNVERSIONED, parseAttributesOutput, parseCapabilities } from './protocol';
import { RunOutcome, runScript } from './spawn';

/** A callout script failed (or could not be asked); the command's pre step fails with it. */
export class CalloutError extends MdevctlError {
  constructor(message: string) {
    super(message);
    this.name = 'CalloutError';
  }
}

/** A script ran past the time limit and was killed. */
export class CalloutTimeoutError extends CalloutError {
  constructor(message: string) {
    super(message);
    this.name = 'CalloutTimeoutError';
  }
}

export interface ScriptSet {
  /** Runnable callout scripts per directory, the current directory before the deprecated one. */
  callouts: string[][];
  /** Runnable notifier scripts, all directories in order. */
  notifiers: string[];
}

/** The script answering for a device, and what it may be asked. */
interface Chosen {
  path: string;
  caps: Capabilities;
  /** Announced through get/capabilities (versioned) rather than found by the plain search. */
  versioned: boolean;
}

/** One device's conversation with the scripts during one command. */
interface Call {
  dev: MDev & { type: string; parent: string };
  state: State;
  script: Chosen | null;
}

function unsupported(script: Chosen, event: Event, action: Action): string | null {
  if (!script.caps.actions.includes(action)) return `Callout script '${script.path}' does not support action '${action}'`;
  if (!script.caps.events.includes(event)) return `Callout script '${script.path}' does not support event '${event}'`;
  return null;
}

function failure(script: string, out: RunOutcome): CalloutError {
  switch (out.kind) {
    case 'exit':
      return new CalloutError(`Script '${script}' failed with status '${out.code}'`);
    case 'signal':
      return new CalloutError(`Script '${script}' was terminated by signal ${out.signal}`);
    case 'killed':
      return out.timedOut
        ? new CalloutTimeoutError(`Script '${script}' ${out.reason} and was killed`)
        : new CalloutError(`Script '${script}' ${out.reason} and was killed`);
    case 'not-run':
      return new CalloutError(`Unable to run script '${script}': ${out.reason}`);
  }
}

function hasTypeAndParent(dev: MDev): dev is MDev & { type: string; parent: string } {
  return dev.type !== undefined && dev.parent !== undefined;
}

export class CalloutRunner implements Callouts {
  /** Versioned script per parent and type (null: none), for the whole run. */
  private readonly versionedCache = new Map<string, Chosen | null>();

  constructor(
    private readonly scripts: ScriptSet,
    private readonly log: Log,
    private readonly timeoutMs: number,
  ) {}

  invoke<T>(dev: MDev, action: Action, force: boolean, fn: () => T): T {
    if (!hasTypeAndParent(dev)) return fn(); // the command itself reports what is missing
    const call: Call = { dev, state: 'none', script: this.findVersioned(dev) };
    const config = JSON.stringify(dev.toConfig());
    try {
      this.callout(call, 'pre', action, config);
    } catch (e) {
      if (!force) {
        this.notify(call, action);
        throw e;
      }
      this.log.warn(`Forcing operation '${action}' despite callout failure. Error was: ${(e as Error).message}`);
    }
    let result: T;
    try {
      result = fn();
      call.state = 'success';
    } catch (e) {
      call.state = 'failure';
      this.post(call, action, config);
      this.notify(call, action);
      throw e;
    }
    this.post(call, action, config);
    this.notify(call, action);
    return result;
  }

  invokeAll<T>(items: CalloutItem[], force: boolean, fn: () => T): T {
    const asked: Array<{ call: Call; action: Action; config: string }> = [];
    const finish = (state: State) => {
      for (const a of asked) {
        a.call.state = state;
        this.post(a.call, a.action, a.config);
        this.notify(a.call, a.action);
      }
    };
    for (const item of items) {
      const dev = item.dev;
      if (!hasTypeAndParent(dev)) continue;
      const call: Call = { dev, state: 'none', script: this.findVersioned(dev) };
      const config = JSON.stringify(dev.toConfig());
      try {
        this.callout(call, 'pre', item.action, config);
      } catch (e) {
        if (!force) {
          this.notify(call, item.action);
          finish('failure');
          throw new CalloutError(`${item.label}: ${(e as Error).message}`);
        }
        this.log.warn(`Forcing operation '${item.action}' despite callout failure. Error was: ${(e as Error).message}`);
      }
      asked.push({ call, action: item.action, config });
    }
    let result: T;
    try {
      result = fn();
    } catch (e) {
      finish('failure');
      throw e;
    }
    finish('success');
    return result;
  }

  getAttributes(dev: MDev): Attr[] {
    if (!hasTypeAndParent(dev)) return [];
    const call: Call = { dev, state: 'none', script: this.findVersioned(dev) };
    const out = this.callout(call, 'get', 'attributes');
    if (!out || !call.script) return [];
    if (out.kind !== 'exit') throw failure(call.script.path, out);
    return parseAttributesOutput(out.stdout, call.script.path);
  }

  modifyLive(dev: MDev): void {
    const script = hasTypeAndParent(dev) ? this.findVersioned(dev) : null;
    if (!script || !hasTypeAndParent(dev)) {
      throw new CalloutError(LIVE_UNSUPPORTED);
    }
    const problem = unsupported(script, 'live', 'modify');
    if (problem) throw new CalloutError(problem);
    const call: Call = { dev, state: 'none', script };
    try {
      this.callout(call, 'live', 'modify', JSON.stringify(dev.toConfig()));
    } finally {
      this.notify(call, 'modify');
    }
  }

  plan(dev: MDev, action: Action): CalloutPlan {
    const notifiers = [...this.scripts.notifiers];
    if (!hasTypeAndParent(dev)) return { versioned: null, callouts: [], notifiers };
    const script = this.findVersioned(dev);
    if (script) {
      const problem = unsupported(script, 'pre', action) ?? undefined;
      return { versioned: { path: script.path, ...script.caps }, callouts: [script.path], notifiers, problem };
    }
    return { versioned: null, callouts: this.scripts.callouts.flat(), notifiers };
  }

  /**
   * The versioned script for the device's parent and type: the first callout script (current
   * directory first) that does not answer exit 2 to get/capabilities and prints a `supports`
   * object. Asked once per parent and type per run.
   */
  private findVersioned(dev: MDev & { type: string; parent: string }): Chosen | null {
    const key = `${dev.parent}\0${dev.type}`;
    const cached = this.versionedCache.get(key);
    if (cached !== undefined) return cached;
    let found: Chosen | null = null;
    const call: Call = { dev, state: 'none', script: null };
    search: for (const dir of this.scripts.callouts) {
      for (const script of dir) {
        const out = this.run(script, call, 'get', 'capabilities', PROVIDES_JSON);
        if (out.kind === 'not-run' || (out.kind === 'exit' && out.code === 2)) continue;
        if (out.kind === 'signal') {
          this.log.warn(`Callout script '${script}' was terminated by signal ${out.signal}`);
          continue;
        }
        if (out.kind === 'killed') {
          this.echo(script, out.stderr);
          this.log.warn(`${failure(script, out).message} (asked for its capabilities)`);
          continue;
        }
        const caps = parseCapabilities(out.stdout);
        if (!caps) continue; // not a versioned script
        this.echo(script, out.stderr);
        found = { path: script, caps, versioned: true };
        break search;
      }
    }
    this.versionedCache.set(key, found);
    return found;
  }

  /**
   * One event for the device. With a chosen script, ask it (it must support the event and
   * action). Otherwise search: the first script not answering exit 2 decides, and a script in
   * the deprecated directory is asked only when none in the current one did. Returns the
   * deciding outcome (undefined: no script cares); throws CalloutError when it failed.
   */
  private callout(call: Call, event: Event, action: Action, input?: string): RunOutcome | undefined {
    const chosen = call.script;
    if (chosen) {
      const problem = unsupported(chosen, event, action);
      if (problem) throw new CalloutError(problem);
      const out = this.run(chosen.path, call, event, action, input);
      if (out.kind !== 'not-run') this.echo(chosen.path, out.stderr);
      // killed by a signal it did not get from us: no answer, carry on (get/attributes, which
      // needs an answer, fails on it)
      if (out.kind === 'signal') return out;
      if (out.kind !== 'exit' || out.code !== 0) throw failure(chosen.path, out);
      return out;
    }
    for (const dir of this.scripts.callouts) {
      for (const script of dir) {
        const out = this.run(script, call, event, action, input);
        if (out.kind === 'not-run' || (out.kind === 'exit' && out.code === 2)) continue;
        if (out.kind === 'signal') {
          this.log.warn(`Callout script '${script}' was terminated by signal ${out.signal}`);
          continue;
        }
        this.echo(script, out.stderr);
        if (out.kind !== 'exit' || out.code !== 0) throw failure(script, out);
        call.script = { path: script, caps: UNVERSIONED, versioned: false };
        return out;
      }
    }
    return undefined;
  }

  /** The post callout: its result is ignored, except that a killed script is reported. */
  private post(call: Call, action: Action, config: string): void {
    try {
      this.callout(call, 'post', action, config);
    } catch (e) {
      if (e instanceof CalloutTimeoutError) this.log.warn(e.message);
    }
  }

  /** Every notifier script, in order; results are ignored, a killed one is reported. */
  private notify(call: Call, action: Action): void {
    for (const script of this.scripts.notifiers) {
      const out = this.run(script, call, 'notify', action);
      if (out.kind === 'not-run') continue;
      this.echo(script, out.stderr);
      if (out.kind === 'killed') this.log.warn(failure(script, out).message);
    }
  }

  private run(script: string, call: Call, event: Event, action: Action, input?: string): RunOutcome {
    const { dev } = call;
    const args = ['-t', dev.type, '-e', event, '-a', action, '-s', call.state, '-u', dev.uuid, '-p', dev.parent];
    return runScript(script, args, { input, timeoutMs: this.timeoutMs });
  }

  /** A script's stderr, each line as `NAME: TEXT`. */
  private echo(script: string, stderr: string): void {
    if (stderr === '') return;
    const name = path.basename(script);
    for (const line of stderr.replace(/\n$/, '').split('\n')) this.log.info(`${name}: ${line}`);
  }
}
