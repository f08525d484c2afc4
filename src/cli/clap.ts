/**
 * Usage errors in the words of clap 4 (the parser of upstream mdevctl 1.4.0), byte for byte: the
 * first line, the tips, the `Usage:` line clap builds for that kind of mistake, and
 * `For more information, try '--help'.`. A command line is checked here before commander runs it
 * (src/cli/commander-program.ts); a line clap would take goes on to commander unchanged.
 *
 * Each upstream verb is declared as upstream's src/cli.rs declares it (its arguments in field
 * order, required / required_unless_present / conflicts_with / requires, the `modify` argument
 * group, and the group clap's derive makes of every field of a verb); our own options on those
 * verbs (--dumpjson of a dry run) and the program's global options (--root, --dry-run,
 * --simulate, taken anywhere as commander takes them) are known but hidden, as clap leaves hidden
 * arguments out of usage lines. Our own verbs are declared from their commander definitions.
 * The rules follow clap_builder 4.5's parser, validator and usage modules.
 */

import { escapeControls } from '../lib/util/errors';

/** A user's word in a message: control characters escaped (\n, \u001b), as all our messages do. */
const esc = (s: string): string => escapeControls(s);

export interface ClapArg {
  id: string;
  long?: string;
  short?: string;
  /** The value's name for an option that takes one (`<UUID>`), or a positional's name. */
  value?: string;
  positional?: boolean;
  /** How the value is checked: a message (clap's value parser's) for a bad value, else null. */
  parse?: (v: string) => string | null;
  required?: boolean;
  requiredUnless?: string[];
  conflicts?: string[];
  requires?: string[];
  /** Not shown in usage lines, not in the verb's derive group (our own options). */
  hidden?: boolean;
}

export interface ClapGroup {
  id: string;
  args: string[];
  required: boolean;
  /** clap's ArgGroup::multiple: false makes the members conflict with one another. */
  multiple: boolean;
}

export interface ClapCommand {
  /** `mdevctl stop`, `lsmdev`. */
  name: string;
  args: ClapArg[];
  groups: ClapGroup[];
}

/** A usage error: the whole text clap prints on stderr (ending in a newline). */
export class ClapError extends Error {}

const MORE = "For more information, try '--help'.";

/** strsim's jaro similarity, as clap uses it for suggestions. */
export function jaro(a: string, b: string): number {
  const s1 = [...a];
  const s2 = [...b];
  if (s1.length === 0 && s2.length === 0) return 1;
  if (s1.length === 0 || s2.length === 0) return 0;
  if (s1.length === 1 && s2.length === 1) return s1[0] === s2[0] ? 1 : 0;
  const range = Math.max(0, Math.floor(Math.max(s1.length, s2.length) / 2) - 1);
  const flags2 = new Array<boolean>(s2.length).fill(false);
  const flags1 = new Array<boolean>(s1.length).fill(false);
  let matches = 0;
  for (let i = 0; i < s1.length; i++) {
    const lo = i > range ? i - range : 0;
    const hi = Math.min(i + range + 1, s2.length);
    for (let j = lo; j < hi; j++) {
      if (!flags2[j] && s1[i] === s2[j]) {
        flags1[i] = flags2[j] = true;
        matches++;
        break;
      }
    }
  }
  if (matches === 0) return 0;
  let t = 0;
  let k = 0;
  for (let i = 0; i < s1.length; i++) {
    if (!flags1[i]) continue;
    while (!flags2[k]) k++;
    if (s1[i] !== s2[k]) t++;
    k++;
  }
  const m = matches;
  return (m / s1.length + m / s2.length + (m - t / 2) / m) / 3;
}

/** clap's did_you_mean: candidates above 0.7, least similar first (the best is last). */
export function didYouMean(v: string, candidates: string[]): string[] {
  return candidates
    .map((c) => [jaro(v, c), c] as const)
    .filter(([s]) => s > 0.7)
    .sort((x, y) => x[0] - y[0])
    .map(([, c]) => c);
}

// ---- value parsers, with the messages of the crates upstream builds with ----

/** The uuid crate's (1.x) parse error, or null for a UUID it takes (hyphenated, simple, braced, URN). */
export function uuidError(input: string): string | null {
  const bytes = Buffer.from(input, 'utf8');
  const hex = (s: string) => /^[0-9a-fA-F]*$/.test(s);
  const hyph = (s: string) => s.length === 36 && [8, 13, 18, 23].every((i) => s[i] === '-') && hex(s.replace(/-/g, '')) && s.replace(/-/g, '').length === 32;
  const len = bytes.length;
  if (len === 32 && hex(input)) return null;
  if (len === 36 && hyph(input)) return null;
  if (len === 38 && input.startsWith('{') && input.endsWith('}') && hyph(input.slice(1, -1))) return null;
  if (len === 45 && input.startsWith('urn:uuid:') && hyph(input.slice(9))) return null;
  let body = input;
  let offset = 0;
  let simple = true;
  if (input.length >= 2 && input.startsWith('{') && input.endsWith('}')) [body, offset, simple] = [input.slice(1, -1), 1, false];
  else if (input.startsWith('urn:uuid:')) [body, offset, simple] = [input.slice(9), 9, false];
  let hyphens = 0;
  const bounds = [0, 0, 0, 0];
  let index = 0; // byte index in body
  for (const ch of body) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (size > 1 || (ch !== '-' && !/[0-9a-fA-F]/.test(ch))) {
      return `invalid character: expected an optional prefix of \`urn:uuid:\` followed by [0-9a-fA-F-], found \`${ch}\` at ${index + offset + 1}`;
    }
    if (ch === '-') {
      if (hyphens < 4) bounds[hyphens] = index;
      hyphens++;
    }
    index += size;
  }
  if (hyphens === 0 && simple) return `invalid length: expected length 32 for simple format, found ${len}`;
  if (hyphens !== 4) return `invalid group count: expected 5, found ${hyphens + 1}`;
  const starts = [0, 9, 14, 19, 24];
  const expected = [8, 4, 4, 4, 12];
  for (let i = 0; i < 4; i++) {
    if (bounds[i] !== starts[i + 1] - 1) return `invalid group length in group ${i}: expected ${expected[i]}, found ${bounds[i] - starts[i]}`;
  }
  return `invalid group length in group 4: expected 12, found ${len - starts[4]}`;
}

/** clap's value_parser!(u32): Rust's i64 parse, then the range. */
export function u32Error(v: string): string | null {
  if (v === '') return 'cannot parse integer from empty string';
  if (!/^[+-]?\d+$/.test(v)) return 'invalid digit found in string';
  const n = BigInt(v);
  if (n > 9223372036854775807n) return 'number too large to fit in target type';
  if (n < -9223372036854775808n) return 'number too small to fit in target type';
  if (n < 0n || n > 4294967295n) return `${v} is not in 0..=4294967295`;
  return null;
}

// ---- the verbs as upstream's src/cli.rs declares them ----

const uuidOpt = (extra: Partial<ClapArg> = {}): ClapArg => ({ id: 'uuid', long: 'uuid', short: 'u', value: 'UUID', parse: uuidError, ...extra });
const parentOpt = (extra: Partial<ClapArg> = {}): ClapArg => ({ id: 'parent', long: 'parent', short: 'p', value: 'PARENT', ...extra });
const typeOpt = (): ClapArg => ({ id: 'type', long: 'type', short: 't', value: 'type' });
/** PathBuf's value parser refuses an empty value. */
const jsonfileOpt = (extra: Partial<ClapArg> = {}): ClapArg => ({
  id: 'jsonfile',
  long: 'jsonfile',
  value: 'JSONFILE',
  parse: (v) => (v === '' ? '' : null),
  ...extra,
});
const force = (): ClapArg => ({ id: 'force', long: 'force', short: 'f' });
const flagArg = (id: string, short?: string, extra: Partial<ClapArg> = {}): ClapArg => ({ id, long: id, ...(short ? { short } : {}), ...extra });

/** Upstream's verbs: their arguments in declaration order (the derive group holds every one). */
export const UPSTREAM: Record<string, { args: ClapArg[]; groups?: ClapGroup[] }> = {
  define: {
    args: [
      uuidOpt({ requiredUnless: ['parent'] }),
      flagArg('auto', 'a'),
      parentOpt({ requiredUnless: ['uuid'] }),
      typeOpt(),
      jsonfileOpt({ conflicts: ['type', 'auto'] }),
      force(),
    ],
  },
  undefine: { args: [uuidOpt({ required: true }), parentOpt(), force()] },
  modify: {
    args: [
      uuidOpt({ required: true }),
      parentOpt(),
      typeOpt(),
      { id: 'addattr', long: 'addattr', value: 'attr_name', requires: ['value'] },
      flagArg('delattr'),
      { id: 'index', long: 'index', short: 'i', value: 'INDEX', parse: u32Error },
      { id: 'value', long: 'value', value: 'attr_value', conflicts: ['delattr'], requires: ['addattr'] },
      flagArg('auto', 'a', { conflicts: ['index', 'value'] }),
      flagArg('manual', 'm', { conflicts: ['index', 'value'] }),
      flagArg('live', 'l', { conflicts: ['type', 'index', 'value'], requires: ['jsonfile'] }),
      flagArg('defined', 'd'),
      jsonfileOpt({ conflicts: ['type', 'index', 'value'] }),
      force(),
    ],
    groups: [{ id: 'modify', args: ['auto', 'manual', 'addattr', 'delattr', 'jsonfile'], required: true, multiple: false }],
  },
  start: {
    args: [uuidOpt({ requiredUnless: ['parent'] }), parentOpt({ requiredUnless: ['uuid'] }), typeOpt(), jsonfileOpt({ conflicts: ['type'] }), force()],
  },
  stop: { args: [uuidOpt({ required: true }), force()] },
  list: { args: [flagArg('defined', 'd'), flagArg('dumpjson'), flagArg('verbose', 'v'), uuidOpt(), parentOpt()] },
  types: { args: [parentOpt(), flagArg('dumpjson')] },
  'start-parent-mdevs': { args: [{ id: 'parent', value: 'PARENT', positional: true, required: true }] },
};

/** The program's global options, taken anywhere on the line (as commander takes them). */
export const GLOBAL_ARGS: ClapArg[] = [
  { id: '$root', long: 'root', value: 'DIR', hidden: true },
  { id: '$dry-run', long: 'dry-run', hidden: true },
  { id: '$simulate', long: 'simulate', hidden: true },
];

/** The group clap's derive makes of a verb's fields (named after the variant). */
const DERIVE = '$derive';

/** A verb's clap command: upstream's declaration, with EXTRA (our own options) hidden. */
export function clapCommand(name: string, verb: string | undefined, extra: ClapArg[], upstream = verb !== undefined ? UPSTREAM[verb] : undefined): ClapCommand {
  const own = upstream?.args ?? [];
  const known = new Set(own.map((a) => a.long ?? a.id));
  const args = [
    ...own,
    ...extra.filter((a) => !known.has(a.long ?? a.id) && !(upstream && a.positional)).map((a) => ({ ...a, hidden: a.hidden ?? upstream !== undefined })),
  ];
  const visible = args.filter((a) => !a.hidden).map((a) => a.id);
  const groups = [...(upstream?.groups ?? [])];
  if (visible.length) groups.unshift({ id: DERIVE, args: visible, required: false, multiple: true });
  return { name, args, groups };
}

// ---- parsing, as clap's parser walks a command line ----

class Matcher {
  /** Present ids in the order clap's ArgMatcher holds them (args, then the groups they are in). */
  ids: string[] = [];
  has(id: string): boolean {
    return this.ids.includes(id);
  }
  add(id: string): void {
    if (!this.ids.includes(id)) this.ids.push(id);
  }
}

export class Clap {
  constructor(private readonly cmd: ClapCommand) {}

  private find(id: string): ClapArg | undefined {
    return this.cmd.args.find((a) => a.id === id);
  }
  private group(id: string): ClapGroup | undefined {
    return this.cmd.groups.find((g) => g.id === id);
  }
  private groupsFor(id: string): ClapGroup[] {
    return this.cmd.groups.filter((g) => g.args.includes(id));
  }

  /** clap's Display of an argument: `--long <VALUE>`, `--long`, `-s`, `<NAME>`. */
  display(a: ClapArg): string {
    if (a.positional) return `<${a.value}>`;
    const flag = a.long !== undefined ? `--${a.long}` : `-${a.short}`;
    return a.value !== undefined ? `${flag} <${a.value}>` : flag;
  }

  private formatGroup(g: ClapGroup): string {
    return `<${g.args
      .map((id) => this.find(id)!)
      .map((a) => (a.positional ? a.value! : this.display(a)))
      .join('|')}>`;
  }

  private requiredGraph(): string[] {
    const ids = this.cmd.args.filter((a) => a.required).map((a) => a.id);
    for (const g of this.cmd.groups) if (g.required) ids.push(g.id);
    return ids;
  }

  /** The args an arg requires, transitively (clap's unroll_arg_requires). */
  private unrollRequires(id: string): string[] {
    const out: string[] = [];
    const stack = [id];
    while (stack.length) {
      const a = this.find(stack.pop()!);
      for (const r of a?.requires ?? []) {
        if (!out.includes(r)) {
          out.push(r);
          stack.push(r);
        }
      }
    }
    return out;
  }

  /** clap's Usage::get_required_usage_from. */
  private requiredUsage(required: string[], incls: string[], matcher?: Matcher): string[] {
    const unrolled: string[] = [];
    for (const a of required) {
      unrolled.push(...this.unrollRequires(a));
      unrolled.push(a);
    }
    const all = [...unrolled, ...incls];
    const groupMembers = new Set<string>();
    const groups: string[] = [];
    for (const id of all) {
      const g = this.group(id);
      if (!g) continue;
      const present = matcher !== undefined && g.args.some((m) => matcher.has(m));
      if (!present) {
        const s = this.formatGroup(g);
        if (!groups.includes(s)) groups.push(s);
        g.args.forEach((m) => groupMembers.add(m));
      }
    }
    const opts: string[] = [];
    const positionals: string[] = [];
    for (const id of all) {
      const a = this.find(id);
      if (!a || groupMembers.has(id) || matcher?.has(id)) continue;
      const s = this.display(a);
      if (a.positional) {
        if (!positionals.includes(s)) positionals.push(s);
      } else if (!opts.includes(s)) opts.push(s);
    }
    return [...opts, ...groups, ...positionals];
  }

  /** `Usage: NAME ...` for the ids USED (clap's create_usage_with_title). */
  usage(used: string[], required = this.requiredGraph()): string {
    if (used.length === 0) {
      const parts = [this.cmd.name];
      if (this.needsOptionsTag()) parts.push('[OPTIONS]');
      parts.push(...this.requiredUsage(this.requiredGraph(), []));
      for (const a of this.cmd.args) if (a.positional && !a.hidden && !a.required) parts.push(`[${a.value}]`);
      return `Usage: ${parts.join(' ')}`;
    }
    return `Usage: ${[this.cmd.name, ...this.requiredUsage(required, used)].join(' ')}`;
  }

  private needsOptionsTag(): boolean {
    return this.cmd.args.some((a) => !a.positional && !a.hidden && !a.required && !this.groupsFor(a.id).some((g) => g.required));
  }

  private fail(lines: string[], usage?: string): never {
    const text = [`error: ${lines.join('\n')}`, ...(usage !== undefined ? [usage] : []), MORE].join('\n\n');
    throw new ClapError(`${text}\n`);
  }

  /** Present args (not groups), not hidden: the `used` of clap's validator. */
  private usedArgs(m: Matcher): string[] {
    return m.ids.filter((id) => {
      const a = this.find(id);
      return a !== undefined && !a.hidden;
    });
  }
  /** Present ids with groups, hidden args left out: the `used` of clap's parser errors. */
  private usedWithGroups(m: Matcher): string[] {
    return m.ids.filter((id) => !this.find(id)?.hidden);
  }

  private start(m: Matcher, a: ClapArg): void {
    m.add(a.id);
    for (const g of this.groupsFor(a.id)) m.add(g.id);
  }

  /**
   * Check ARGV (the words after the verb) as clap would; throws a ClapError with clap's text for
   * the first mistake clap would report.
   */
  check(argv: string[]): void {
    const m = new Matcher();
    let pending: { arg: ClapArg; values: string[] } | undefined;
    let trailing = false;
    let posIndex = 0;
    const positionals = this.cmd.args.filter((a) => a.positional);
    // clap's react(): the value count, then a second occurrence, then the start, then the value
    let version = false;
    const react = (a: ClapArg, values?: string[]): void => {
      // the version flag answers at once, as clap's Version action does (ours, on a verb)
      if (a.long === 'version') version = true;
      if (values?.length === 0) this.fail([`a value is required for '${this.display(a)}' but none was supplied`]);
      if (m.has(a.id)) this.fail([`the argument '${this.display(a)}' cannot be used multiple times`], this.usage([]));
      this.start(m, a);
      if (values) this.value(a, values[0]);
    };
    const resolve = (): void => {
      if (!pending) return;
      const p = pending;
      pending = undefined;
      react(p.arg, p.values);
    };
    for (let i = 0; i < argv.length; i++) {
      if (version) return;
      const word = argv[i];
      if (!trailing && pending && pending.values.length === 0 && !(word.startsWith('-') && word.length > 1)) {
        // the value is checked when the next argument starts, or at the end (clap's pending value)
        pending.values.push(word);
        continue;
      }
      if (!trailing && word === '--') {
        trailing = true;
        continue;
      }
      if (!trailing && word.startsWith('--')) {
        const eq = word.indexOf('=');
        const name = eq < 0 ? word.slice(2) : word.slice(2, eq);
        const a = this.cmd.args.find((x) => x.long === name && !x.positional);
        if (!a) {
          try {
            resolve();
          } catch {
            /* clap ignores the pending option's error here */
          }
          this.unknownLong(name, m);
        }
        if (a.value === undefined && eq >= 0) {
          // clap's UnneededAttachedValue: reported before a pending option is looked at, with
          // the usage of what is present, required arguments left out, and this flag
          const required = this.requiredGraph();
          const used = this.usedWithGroups(m).filter((id) => !required.includes(id));
          this.fail([`unexpected value '${esc(word.slice(eq + 1))}' for '${this.display(a)}' found; no more were expected`], this.usage([...used, a.id]));
        }
        resolve();
        if (a.value !== undefined) {
          if (eq >= 0) react(a, [word.slice(eq + 1)]);
          else pending = { arg: a, values: [] };
        } else react(a);
        continue;
      }
      if (!trailing && word.startsWith('-') && word.length > 1) {
        const chars = [...word.slice(1)];
        for (let k = 0; k < chars.length; k++) {
          const a = this.cmd.args.find((x) => x.short === chars[k] && !x.positional);
          if (!a) {
            try {
              resolve();
            } catch {
              /* ignored, as clap does */
            }
            this.unknownShort(chars[k], trailing);
          }
          resolve();
          if (a.value !== undefined) {
            let rest = chars.slice(k + 1).join('');
            if (rest.startsWith('=')) rest = rest.slice(1);
            if (k + 1 < chars.length) react(a, [rest]);
            else pending = { arg: a, values: [] };
            break;
          }
          react(a);
        }
        continue;
      }
      // a positional value
      const pos = positionals[posIndex];
      if (!pos) {
        try {
          resolve();
        } catch {
          /* ignored, as clap does */
        }
        this.unknownPositional(word);
      }
      posIndex++;
      resolve();
      react(pos, [word]);
    }
    resolve();
    if (!version) this.validate(m);
  }

  private value(a: ClapArg, v: string): void {
    const why = a.parse?.(v) ?? null;
    if (why === null) return;
    if (why === '') this.fail([`a value is required for '${this.display(a)}' but none was supplied`]);
    this.fail([`invalid value '${esc(v)}' for '${this.display(a)}': ${esc(why)}`]);
  }

  private hasPositionals(): boolean {
    return this.cmd.args.some((a) => a.positional);
  }

  private unknownLong(name: string, m: Matcher): never {
    // our own (hidden) options are not suggested: upstream does not know them
    const longs = this.cmd.args.filter((a) => a.long !== undefined && !a.positional && !a.hidden).map((a) => a.long!);
    const best = didYouMean(name, [...longs, 'help']).pop();
    const lines = [`unexpected argument '--${esc(name)}' found`];
    if (best !== undefined) {
      lines.push('', `  tip: a similar argument exists: '--${best}'`);
      const a = this.cmd.args.find((x) => x.long === best);
      if (a) this.start(m, a);
    }
    if (this.hasPositionals()) lines.push('', `  tip: to pass '--${esc(name)}' as a value, use '-- --${esc(name)}'`);
    this.fail(lines, this.usage(this.usedWithGroups(m)));
  }

  private unknownShort(c: string, trailing: boolean): never {
    const lines = [`unexpected argument '-${esc(c)}' found`];
    if (!trailing && this.hasPositionals()) lines.push('', `  tip: to pass '-${esc(c)}' as a value, use '-- -${esc(c)}'`);
    this.fail(lines, this.usage([]));
  }

  private unknownPositional(word: string): never {
    this.fail([`unexpected argument '${esc(word)}' found`], this.usage([]));
  }

  /** clap's Validator: conflicts, then required arguments. */
  private validate(m: Matcher): void {
    const present = [...m.ids];
    const direct = (id: string): string[] => {
      const a = this.find(id);
      if (!a) return [];
      const conf = [...(a.conflicts ?? [])];
      for (const g of this.groupsFor(id)) if (!g.multiple) conf.push(...g.args.filter((x) => x !== id));
      return conf;
    };
    const gather = (id: string): string[] => {
      const mine = direct(id);
      const out: string[] = [];
      for (const other of present) {
        if (other === id) continue;
        if (mine.includes(other)) out.push(other);
        if (direct(other).includes(id)) out.push(other);
      }
      return out;
    };
    for (const id of present) {
      const conflicts = gather(id);
      if (conflicts.length === 0) continue;
      const seen: string[] = [];
      for (const c of conflicts) if (!seen.includes(c)) seen.push(c);
      const former = this.display(this.find(id)!);
      const others = seen.map((c) => this.display(this.find(c)!));
      const line =
        others.length === 1
          ? `the argument '${former}' cannot be used with '${others[0]}'`
          : `the argument '${former}' cannot be used with:\n${others.map((o) => `  ${o}`).join('\n')}`;
      const usedFiltered = this.usedArgs(m).filter((u) => !conflicts.includes(u));
      const req = usedFiltered.flatMap((u) => this.find(u)?.requires ?? []).filter((r) => !usedFiltered.includes(r) && !conflicts.includes(r));
      this.fail([line], this.usage([...req, ...usedFiltered]));
    }
    // required: the graph, and what present arguments require
    const required = this.requiredGraph();
    for (const id of present) {
      for (const r of this.unrollRequires(id)) if (!required.includes(r)) required.push(r);
    }
    const missing: string[] = [];
    for (const id of required) {
      if (m.has(id)) continue;
      const g = this.group(id);
      if (g) {
        if (!g.args.some((x) => m.has(x))) missing.push(id);
      } else if (gather(id).length === 0) missing.push(id);
    }
    for (const a of this.cmd.args) {
      if (m.has(a.id) || !a.requiredUnless?.length) continue;
      if (!a.requiredUnless.some((x) => m.has(x))) missing.push(a.id);
    }
    if (missing.length === 0) return;
    const lines = this.requiredUsage(required, missing, m);
    this.fail(
      [`the following required arguments were not provided:\n${lines.map((l) => `  ${l}`).join('\n')}`],
      this.usage([...this.usedArgs(m), ...missing], required),
    );
  }
}

/** The program's verbs clap knows, for suggestions (upstream's, `help`, and ours). */
export function unknownVerb(program: string, word: string, verbs: string[]): never {
  const similar = didYouMean(word, verbs);
  const lines = [`unrecognized subcommand '${esc(word)}'`];
  if (similar.length === 1) lines.push('', `  tip: a similar subcommand exists: '${similar[0]}'`);
  else if (similar.length > 1) lines.push('', `  tip: some similar subcommands exist: ${similar.map((s) => `'${s}'`).join(', ')}`);
  throw new ClapError(`${[`error: ${lines.join('\n')}`, `Usage: ${program} <COMMAND>`, MORE].join('\n\n')}\n`);
}

/** An unknown word where the program wants a verb or one of its own options. */
export function unknownProgramArgument(program: string, word: string, tip?: string, used?: string): never {
  const lines = [`unexpected argument '${esc(word)}' found`];
  if (tip !== undefined) lines.push('', `  tip: ${tip}`);
  const usage = `Usage: ${program}${used !== undefined ? ` ${used}` : ''} <COMMAND>`;
  throw new ClapError(`${[`error: ${lines.join('\n')}`, usage, MORE].join('\n\n')}\n`);
}

/** A usage error found by a verb itself (our own checks), with clap's usage line of that verb. */
export function usageErrorText(message: string, cmd: ClapCommand | undefined, program: string): string {
  const usage = cmd ? new Clap(cmd).usage([]) : `Usage: ${program} <COMMAND>`;
  return `${[`error: ${message}`, usage, MORE].join('\n\n')}\n`;
}
