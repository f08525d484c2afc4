/**
 * The command layer: one commander program, one module per verb, one error handler.
 * `Error: MESSAGE` and exit 1 for a failed command; a usage message and exit 2 for bad usage.
 */
import { Command, CommanderError } from 'commander';
import { MdevctlError, UsageError, escapeControls } from '../lib/errors';
import { VERSION, makeEnv } from './program';
import { writeStdout } from './output';
import { allowRelativeReads } from '../lib/fastfs';
import { addListOptions, runList, LIST_LONG } from './commands/list';
import * as list from './commands/list';
import * as types from './commands/types';
import * as define from './commands/define';
import * as undefine from './commands/undefine';
import * as modify from './commands/modify';
import * as start from './commands/start';
import * as stop from './commands/stop';
import * as startParentMdevs from './commands/start-parent-mdevs';
import * as fixture from './commands/fixture';
import * as monitor from './commands/monitor';
import * as completion from './commands/completion';
import * as apply from './commands/apply';
import * as vgpu from './commands/vgpu';

const VERBS = [define, undefine, modify, start, stop, apply, list, types, monitor, completion, vgpu, startParentMdevs, fixture];

/** Options that take a value, so that a value like `-h` is not mistaken for a help request. */
const VALUE_OPTIONS = new Set(['-u', '--uuid', '-p', '--parent', '-t', '--type', '--jsonfile', '--addattr', '--value', '-i', '--index', '--root', '--interval', '--vf', '--pf']);

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

function configure(cmd: Command, name: string): Command {
  cmd
    .exitOverride()
    .version(`${name} ${VERSION}`, '-V, --version', 'Print version')
    .helpOption('-h, --help', 'Print help')
    .configureOutput({ writeOut: writeStdout, writeErr: (s) => process.stderr.write(s), outputError: () => {} })
    .allowExcessArguments(false);
  return cmd;
}

export function buildProgram(name = 'mdevctl'): Command {
  const program = new Command(name);
  const env = makeEnv(program);
  if (name === 'lsmdev') {
    configure(program, name);
    program.description(LIST_LONG).option('--root <DIR>', 'Use DIR as the root instead of / (or MDEVCTL_ENV_ROOT)');
    addListOptions(program).action((flags) => runList(env, flags));
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
  for (const verb of VERBS) verb.register(program, env);
  for (const cmd of allCommands(program)) configure(cmd, name);
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

function debugStack(err: unknown): string {
  return process.env.MDEVCTL_DEBUG && err instanceof Error && err.stack ? `\n${err.stack}` : '';
}

/**
 * Last resort for anything thrown outside the command (an event handler, a stream error): one
 * `Error:` line and exit 1, the stack only with MDEVCTL_DEBUG.
 */
function installCrashHandler(): void {
  const crash = (err: unknown) => {
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`Error: ${escapeControls(msg.split('\n')[0])}\n${debugStack(err).trimStart()}`);
    process.exit(1);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
}

/** Run the CLI; sets process.exitCode (never throws). */
export function main(argv: string[], name = 'mdevctl'): void {
  installCrashHandler();
  // the CLI owns its working directory: big listings open names relative to their directory
  allowRelativeReads(true);
  const program = buildProgram(name);
  try {
    if (helpRequested(argv)) {
      const words = argv.filter((a) => !a.startsWith('-'));
      const sub = name === 'mdevctl' ? commandFor(program, words) : undefined;
      writeStdout((sub ?? program).helpInformation());
      process.exitCode = 0;
      return;
    }
    program.parse(argv, { from: 'user' });
  } catch (err) {
    const code = report(err, program, argv);
    // with --detailed-exitcode (apply), 2 means "changed": a usage error exits 1 instead
    process.exitCode = code === 2 && argv.includes('--detailed-exitcode') ? 1 : code;
  }
}

function report(err: unknown, program: Command, argv: string[]): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
    // no verb: commander printed help on stderr; upstream exits 2
    if (err.code === 'commander.help') return err.exitCode === 0 ? 0 : 2;
    const msg = escapeControls(err.message.replace(/^error: /, ''), true);
    process.stderr.write(`error: ${msg}${usageFor(program, argv)}\n`);
    return 2;
  }
  if (err instanceof UsageError) {
    process.stderr.write(`error: ${escapeControls(err.message, true)}${usageFor(program, argv)}\n`);
    return 2;
  }
  if (err instanceof MdevctlError) {
    process.stderr.write(`Error: ${escapeControls(err.message, true)}\n${debugStack(err).trimStart()}`);
    return 1;
  }
  // not ours (a bug, or a system error nothing caught): its first line only, no stack
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`Error: ${escapeControls(msg.split('\n')[0])}\n${debugStack(err).trimStart()}`);
  return 1;
}
