/**
 * The full command-line parser: one commander program, one module per verb. It parses every line
 * the fast path (src/cli/fast-path.ts) does not take, so it is required on demand (the build puts
 * it, commander and the verbs it loads into dist/cli-on-demand.cjs). A usage message and exit 2
 * for bad usage; `Error: MESSAGE` and exit 1 for a failed command (src/cli/report.ts).
 */
import { Command, CommanderError } from 'commander';
import { UsageError, escapeControls } from '../lib/util/errors';
import { Env, GlobalOptions, VERSION, makeEnv } from './program';
import { writeStdout } from './output';
import { reportFailure } from './report';
import { VERSION_FLAGS, afterGlobals } from './fast-path';
import {
  ClapArg,
  ClapCommand,
  ClapError,
  Clap,
  GLOBAL_ARGS,
  UPSTREAM,
  clapCommand,
  didYouMean,
  unknownProgramArgument,
  unknownVerb,
  usageErrorText,
} from './clap';
import { addListOptions, runList, LIST_LONG, ListFlags } from './commands/list';
import * as list from './commands/list';
import * as types from './commands/types';
import * as define from './commands/define';
import * as undefine from './commands/undefine';
import * as modify from './commands/modify';
import * as start from './commands/start';
import * as stop from './commands/stop';
import * as apply from './commands/apply';
import * as monitor from './commands/monitor';
import * as completion from './commands/completion';
import * as vgpu from './commands/vgpu';
import * as startParentMdevs from './commands/start-parent-mdevs';
import * as startAll from './commands/start-all';
import * as status from './commands/status';
import * as fixture from './commands/fixture';

/** A verb module: it adds its command(s) to the program. */
interface Verb {
  register(program: Command, env: Env): void;
}

/**
 * Every verb module in help order, each with the command names it registers (a hidden one too:
 * the completion scripts run `__complete` at every Tab) and whether it needs the whole program
 * (`completion` describes every verb).
 */
const VERBS: Array<{ names: string[]; verb: Verb; whole?: boolean }> = [
  { names: ['define'], verb: define },
  { names: ['undefine'], verb: undefine },
  { names: ['modify'], verb: modify },
  { names: ['start'], verb: start },
  { names: ['stop'], verb: stop },
  { names: ['apply'], verb: apply },
  { names: ['list'], verb: list },
  { names: ['types'], verb: types },
  { names: ['monitor'], verb: monitor },
  { names: ['start-all'], verb: startAll },
  { names: ['status'], verb: status },
  { names: ['completion', '__complete'], verb: completion, whole: true },
  { names: ['vgpu'], verb: vgpu },
  { names: ['start-parent-mdevs'], verb: startParentMdevs },
  { names: ['fixture'], verb: fixture },
];

/**
 * The verbs a command line needs registered (building a verb's options costs start-up time).
 * When global options alone come before the first other word, and that word is a verb, that verb
 * alone (or every verb, for one that describes the whole program); when it is -V or --version,
 * none (commander answers it before any verb is looked at). Anything else (help, no verb, an
 * unknown verb or option) gets every verb, so help, suggestions and usage lines list them all.
 * Commander parses the line the same either way: it only ever dispatches to the verb named first.
 */
function verbsFor(argv: string[]): typeof VERBS {
  const word = argv[afterGlobals(argv)];
  if (VERSION_FLAGS.includes(word)) return [];
  const verb = VERBS.find((v) => v.names.includes(word));
  return verb && !verb.whole && !helpRequested(argv) ? [verb] : VERBS;
}

/** Options that take a value, so that a value like `-h` is not mistaken for a help request. */
const VALUE_OPTIONS = new Set([
  '-u',
  '--uuid',
  '-p',
  '--parent',
  '-t',
  '--type',
  '--jsonfile',
  '--addattr',
  '--value',
  '-i',
  '--index',
  '--root',
  '--interval',
  '--vf',
  '--pf',
  '--wait',
]);

/** Does the command line ask for help? Help wins over every other check (libvirt probes this way). */
function helpRequested(argv: string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
    if (VALUE_OPTIONS.has(a)) i++;
  }
  return false;
}

/**
 * Settings every command shares. A verb still answers `-V`/`--version`, but its help does not
 * list it, as upstream's verb help does not (only the program's and lsmdev's help do).
 */
function configure(cmd: Command, name: string, isVerb = false): Command {
  cmd
    .exitOverride()
    .version(`${name} ${VERSION}`, '-V, --version', 'Print version')
    .helpOption('-h, --help', 'Print help')
    .configureOutput({ writeOut: writeStdout, writeErr: (s) => process.stderr.write(s), outputError: () => {} })
    .allowExcessArguments(false);
  if (isVerb) cmd.options.find((o) => o.long === '--version')?.hideHelp();
  return cmd;
}

/** The program NAME, with the commands of VERBS (default: all of them). */
export function buildProgram(name = 'mdevctl', verbs = VERBS): Command {
  const program = new Command(name);
  const env = makeEnv(() => program.opts<GlobalOptions>());
  if (name === 'lsmdev') {
    configure(program, name);
    program.description(LIST_LONG).option('--root <DIR>', 'Use DIR as the root instead of / (or MDEVCTL_ENV_ROOT)');
    addListOptions(program).action((flags: ListFlags) => runList(env, flags));
    return program;
  }
  configure(program, name);
  program
    .description(
      'Define, start, stop, list and watch VFIO mediated devices (vGPUs, s390 AP/CCW pass-through, ...).\n\nRun `mdevctl VERB --help` for a verb; mdevctl(8) describes the files, the JSON formats and the callout scripts.',
    )
    .option('--root <DIR>', 'Use DIR as the root instead of / (or MDEVCTL_ENV_ROOT)')
    .option('--dry-run', 'Check and print what a command would change (files, sysfs writes, scripts), changing nothing')
    .option('--simulate', 'On a fixture root, act as the kernel would on sysfs writes (or MDEVCTL_SIMULATE=1; refused on /)')
    .helpCommand('help [command]', 'Print help for a command');
  for (const { verb } of verbs) verb.register(program, env);
  for (const cmd of allCommands(program)) configure(cmd, name, true);
  return program;
}

/** Every command below CMD (the verbs, and the verbs of a namespace like `vgpu`). */
function allCommands(cmd: Command): Command[] {
  return cmd.commands.flatMap((c) => [c, ...allCommands(c)]);
}

/**
 * The command the words of a command line name: the verb, or the verb inside a namespace
 * (`vgpu start`). The first word naming a verb decides, so `vgpu start` is not `start`.
 */
function commandFor(program: Command, words: string[]): Command | undefined {
  const i = words.findIndex((w) => program.commands.some((c) => c.name() === w));
  if (i < 0) return undefined;
  const sub = program.commands.find((c) => c.name() === words[i])!;
  if (sub.commands.length === 0) return sub;
  const inner = words.slice(i + 1).find((w) => sub.commands.some((c) => c.name() === w));
  return inner === undefined ? sub : sub.commands.find((c) => c.name() === inner);
}

function usageFor(program: Command, argv: string[]): string {
  const cmd = commandFor(program, argv) ?? program;
  return `\n\nUsage: ${commandPath(cmd)} ${cmd.usage()}\n\nFor more information, try '--help'.`;
}

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Parse ARGV with the full program and run it; sets process.exitCode (never throws). Help wins
 * over every other check (libvirt probes this way).
 */
export function runProgram(argv: string[], name = 'mdevctl'): void {
  const program = buildProgram(name, name === 'mdevctl' ? verbsFor(argv) : undefined);
  try {
    if (helpRequested(argv)) {
      const words = argv.filter((a) => !a.startsWith('-'));
      const sub = name === 'mdevctl' ? commandFor(program, words) : undefined;
      writeStdout((sub ?? program).helpInformation());
      process.exitCode = 0;
      return;
    }
    clapCheck(program, argv, name);
    program.parse(argv.map(shortEquals), { from: 'user' });
  } catch (err) {
    const code = report(err, program, argv);
    // with --detailed-exitcode (apply), 2 means "changed": a usage error exits 1 instead
    process.exitCode = code === 2 && argv.includes('--detailed-exitcode') ? 1 : code;
  }
}

function report(err: unknown, program: Command, argv: string[]): number {
  if (err instanceof ClapError) {
    process.stderr.write(escapeControls(err.message, true));
    return 2;
  }
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
    // no verb: commander printed help on stderr; upstream exits 2
    if (err.code === 'commander.help') return err.exitCode === 0 ? 0 : 2;
    const msg = escapeControls(err.message.replace(/^error: /, ''), true);
    process.stderr.write(`error: ${msg}${usageFor(program, argv)}\n`);
    return 2;
  }
  if (err instanceof UsageError) {
    const cmd = program.name() === 'mdevctl' ? commandFor(program, argv.slice(afterGlobals(argv))) : program;
    const spec = cmd && (cmd !== program || program.name() === 'lsmdev') ? clapSpec(program, cmd) : undefined;
    process.stderr.write(escapeControls(usageErrorText(err.message, spec, program.name()), true));
    return 2;
  }
  return reportFailure(err);
}

/** Verb names clap would suggest from (upstream's, in its order, then ours, then `help`). */
const SUGGESTED_VERBS = [
  'define',
  'undefine',
  'modify',
  'start',
  'stop',
  'list',
  'types',
  'start-parent-mdevs',
  'apply',
  'monitor',
  'completion',
  'vgpu',
  'fixture',
  'help',
];

/** The clap declaration of CMD (a verb of PROGRAM, or lsmdev itself): upstream's, and our options hidden. */
function clapSpec(program: Command, cmd: Command): ClapCommand {
  // upstream's declaration for its own verbs (lsmdev is its list), none for ours (vgpu's verbs)
  const verb = cmd === program ? 'list' : cmd.parent === program ? cmd.name() : '';
  const extra: ClapArg[] = [];
  for (const o of cmd.options) {
    if (o.long === '--version' && cmd !== program) {
      // a verb still answers -V (upstream's verbs do not): ours, hidden
      extra.push({ id: '$version', long: 'version', short: 'V', hidden: true });
      continue;
    }
    const value = /[<[]([^>\]]+)[>\]]/.exec(o.flags)?.[1];
    extra.push({
      id: o.attributeName(),
      long: o.long?.replace(/^--/, ''),
      ...(o.short ? { short: o.short.replace(/^-/, '') } : {}),
      ...(value !== undefined ? { value } : {}),
      ...(o.long === '--version' ? { hidden: true } : {}),
    });
  }
  for (const a of cmd.registeredArguments) {
    extra.push({ id: a.name(), value: a.name(), positional: true, required: a.required });
  }
  return clapCommand(commandPath(cmd), verb, [...extra, ...GLOBAL_ARGS], UPSTREAM[verb]);
}

/**
 * Check ARGV as upstream's clap parser would (src/cli/clap.ts): throws a ClapError with clap's
 * text for a usage error; a line clap takes is left to commander.
 */
function clapCheck(program: Command, argv: string[], name: string): void {
  if (name === 'lsmdev') {
    new Clap(clapSpec(program, program)).check(argv);
    return;
  }
  const i = afterGlobals(argv);
  const word = argv[i];
  if (word === undefined || VERSION_FLAGS.includes(word) || word === 'help') return;
  if (word === '--') {
    const next = argv[i + 1];
    if (next === undefined) return;
    const verb = program.commands.some((c) => c.name() === next);
    unknownProgramArgument(name, next, verb ? `subcommand '${next}' exists; to use it, remove the '--' before it` : undefined);
  }
  if (word.startsWith('--')) {
    const flag = word.slice(2).split('=')[0];
    if (flag === 'dry-run' || flag === 'simulate' || flag === 'version' || flag === 'help') {
      throw new ClapError(
        `error: unexpected value '${word.slice(word.indexOf('=') + 1)}' for '--${flag}' found; no more were expected\n\nUsage: ${name} --${flag} <COMMAND>\n\nFor more information, try '--help'.\n`,
      );
    }
    const best = didYouMeanFlag(flag);
    const value = best === 'root' ? ' <DIR>' : '';
    if (best === undefined) unknownProgramArgument(name, `--${flag}`);
    unknownProgramArgument(name, `--${flag}`, `a similar argument exists: '--${best}'`, `--${best}${value}`);
  }
  if (word.startsWith('-') && word.length > 1) unknownProgramArgument(name, `-${[...word.slice(1)][0]}`);
  const cmd = program.commands.find((c) => c.name() === word);
  if (!cmd) unknownVerb(name, word, SUGGESTED_VERBS);
  if (cmd.commands.length > 0) {
    // a namespace (vgpu): its verb, when the next word names one; commander reads the rest
    const sub = cmd.commands.find((c) => c.name() === argv[i + 1]);
    if (sub) new Clap(clapSpec(program, sub)).check(argv.slice(i + 2));
    return;
  }
  new Clap(clapSpec(program, cmd)).check(argv.slice(i + 1));
}

function didYouMeanFlag(flag: string): string | undefined {
  return didYouMean(flag, ['help', 'version', 'root', 'dry-run', 'simulate']).pop();
}

/**
 * `-uVALUE` for clap's `-u=VALUE` (clap drops the `=` after a short option that takes a value;
 * commander would keep it). Only lines clap took get here, so a `=` after a short is a value's.
 */
function shortEquals(word: string): string {
  const m = /^(-[A-Za-z]*[upti])=/.exec(word);
  return m && !word.startsWith('--') ? m[1] + word.slice(m[0].length) : word;
}
