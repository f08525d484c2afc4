/**
 * Shared plumbing for the verbs: option value parsing with upstream's rules, usage errors, and
 * the run wrapper that builds the context from the global options. Commander itself is loaded
 * on demand (the fast path, src/cli/fast-path.ts, runs without it): only its types here.
 */
import type { Option } from 'commander';
import { UsageError } from '../lib/util/errors';
import { parseUuid, uuidProblem } from '../lib/model/uuid';
import { shown } from '../lib/model/validate';
import { Context, createContext } from '../lib/ops/context';
import { Output, processOutput } from './output';

export const VERSION = '1.4.0';

export interface GlobalOptions {
  root?: string;
  dryRun?: boolean;
  simulate?: boolean;
}

export interface Env {
  output: Output;
  /** Context for a verb that only reads. */
  context(): Context;
  /** Context for a verb that changes state; in a dry run it records the changes instead. */
  changeContext(): Context;
  /** Is this a dry run (--dry-run)? */
  dryRun(): boolean;
  /**
   * A verb that changes state succeeded: print the UUID it generated (if any), or in a dry run
   * the plan (as JSON with dumpjson) instead.
   */
  changed(o?: { uuid?: string; dumpjson?: boolean }): void;
}

/** MDEVCTL_SIMULATE: on unless unset, empty, 0, false, no or off. */
export function simulateFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.MDEVCTL_SIMULATE;
  return v !== undefined && !['', '0', 'false', 'no', 'off'].includes(v.toLowerCase());
}

/** A UUID option value, canonical form; a usage error (exit 2) when it is not a UUID. */
export function uuidArg(value: string | undefined, flag = '--uuid <UUID>'): string | undefined {
  if (value === undefined) return undefined;
  const u = parseUuid(value);
  if (u === null) throw new UsageError(`invalid value '${shown(value)}' for '${flag}': ${uuidProblem(value)}`);
  return u;
}

export function indexArg(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\+?\d+$/.test(value) || Number(value) > 4294967295) {
    throw new UsageError(`invalid value '${value}' for '--index <INDEX>': not a non-negative integer`);
  }
  return Number(value);
}

/** Options that cannot be combined, as clap's conflicts_with. */
export function conflicts(opts: Record<string, unknown>, pairs: Array<[string, string]>): void {
  for (const [a, b] of pairs) {
    if (opts[key(a)] !== undefined && opts[key(a)] !== false && opts[key(b)] !== undefined && opts[key(b)] !== false) {
      throw new UsageError(`the argument '${flagName(a)}' cannot be used with '${flagName(b)}'`);
    }
  }
}

/** One of the options must be present (clap's required_unless / argument groups). */
export function requireOne(opts: Record<string, unknown>, names: string[]): void {
  if (!names.some((n) => opts[key(n)] !== undefined && opts[key(n)] !== false)) {
    throw new UsageError(
      `the following required arguments were not provided:\n  ${names.length === 1 ? flagName(names[0]) : `<${names.map(flagName).join('|')}>`}`,
    );
  }
}

/** One option needs another (clap's requires). */
export function requires(opts: Record<string, unknown>, pairs: Array<[string, string]>): void {
  for (const [a, b] of pairs) {
    const present = (n: string) => opts[key(n)] !== undefined && opts[key(n)] !== false;
    if (present(a) && !present(b)) {
      throw new UsageError(`the following required arguments were not provided:\n  ${flagName(b)}`);
    }
  }
}

function key(name: string): string {
  return name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

const VALUE_NAMES: Record<string, string> = {
  uuid: '--uuid <UUID>',
  parent: '--parent <PARENT>',
  type: '--type <TYPE>',
  jsonfile: '--jsonfile <JSONFILE>',
  addattr: '--addattr <attr_name>',
  value: '--value <attr_value>',
  index: '--index <INDEX>',
  vf: '--vf <VF>',
  pf: '--pf <PF>',
};

function flagName(name: string): string {
  return VALUE_NAMES[name] ?? `--${name}`;
}

/** A commander option (commander is loaded by then: options are made as the program is built). */
function option(flags: string, help: string): Option {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Option: CommanderOption } = require('commander') as typeof import('commander');
  return new CommanderOption(flags, help);
}

/** Standard options shared by several verbs, worded once. */
export const opt = {
  uuid: (help: string) => option('-u, --uuid <UUID>', help),
  parent: (help: string) => option('-p, --parent <PARENT>', help),
  type: (help: string) => option('-t, --type <TYPE>', help),
  jsonfile: (help: string) => option('--jsonfile <JSONFILE>', help),
  force: () => option('-f, --force', 'Go on even when a device-specific callout script fails (only if you know what you are doing)'),
  dumpjson: (help: string) => option('--dumpjson', help),
  /** --dumpjson of a verb that changes state: the dry run's plan as JSON. */
  planJson: () => option('--dumpjson', 'With --dry-run: print the plan as a JSON array of actions'),
};

/** Checks shared by the verbs that change state (before anything else is looked at). */
export function planOptions(env: Env, flags: { dumpjson?: boolean }): void {
  if (flags.dumpjson && !env.dryRun()) {
    throw new UsageError(`the following required arguments were not provided:\n  --dry-run`);
  }
}

/**
 * Context for a verb, built lazily from the global options (--root, --dry-run, --simulate) that
 * GLOBALS gives once the line is parsed.
 */
export function makeEnv(globals: () => GlobalOptions, output: Output = processOutput): Env {
  let ctx: Context | undefined;
  const build = (changes: boolean) => {
    const o = globals();
    ctx ??= createContext({
      root: o.root,
      simulate: (o.simulate ?? false) || simulateFromEnv(),
      dryRun: changes && (o.dryRun ?? false),
    });
    return ctx;
  };
  return {
    output,
    context: () => build(false),
    changeContext: () => build(true),
    dryRun: () => globals().dryRun ?? false,
    changed(o = {}) {
      const plan = ctx?.plan;
      if (plan) {
        if (o.dumpjson) output.result(plan.json());
        else output.raw(plan.text());
        return;
      }
      if (o.uuid !== undefined) output.line(o.uuid);
    },
  };
}
