/**
 * The command lines libvirt, lsmdev users and scripts run most, read without the full parser:
 * `list` and `types` with their options, and `--version`. Every other line, and every error and
 * help request, is the full parser's (src/cli/commander-program.ts, with commander, loaded on
 * demand); skipping it is most of what start-up costs beyond Node's own (docs/performance.md).
 *
 * So a line is taken here only when commander would read it the same way without a doubt: global
 * options first, then the verb, then its options, each word exactly one this grammar knows (no
 * `-dv` clusters, no `-uVALUE`, no `--`, no help), no option twice, a value after each option
 * that takes one (whatever it looks like, as commander takes it), and a valid UUID for --uuid.
 * After the verb no word may be one of the program's own options, not even as a value: commander
 * takes those wherever they are (`list -p --root X` sets the root and leaves -p without a value).
 * Anything else returns undefined and goes to commander. test/fast-path.test.ts checks that every
 * line taken here gets the flags commander gives it.
 */
import { GlobalOptions } from './program';
import { ListFlags } from './commands/list';
import { TypesFlags } from './commands/types';
import { parseUuid } from '../lib/model/uuid';

export type FastLine =
  { verb: 'version' } | { verb: 'list'; globals: GlobalOptions; flags: ListFlags } | { verb: 'types'; globals: GlobalOptions; flags: TypesFlags };

/** An option: the flag it sets, and whether it takes the next word (or `=VALUE`) as its value. */
type Grammar = Record<string, { key: string; value: boolean }>;

const flag = (key: string) => ({ key, value: false });
const valued = (key: string) => ({ key, value: true });

/** The program's global options (the full parser skips them the same way: afterGlobals). */
const GLOBAL: Grammar = { '--root': valued('root'), '--dry-run': flag('dryRun'), '--simulate': flag('simulate') };
const LIST: Grammar = {
  '-d': flag('defined'),
  '--defined': flag('defined'),
  '--dumpjson': flag('dumpjson'),
  '-v': flag('verbose'),
  '--verbose': flag('verbose'),
  '-u': valued('uuid'),
  '--uuid': valued('uuid'),
  '-p': valued('parent'),
  '--parent': valued('parent'),
};
/** `types` takes the listing's --dumpjson and --parent. */
const TYPES: Grammar = Object.fromEntries(['--dumpjson', '-p', '--parent'].map((w) => [w, LIST[w]]));
const LSMDEV: Grammar = { ...LIST, '--root': GLOBAL['--root'] };
export const VERSION_FLAGS = ['-V', '--version'];

/**
 * The index of the first word of ARGV after the global options that lead it (and their values),
 * repeated or not: where a verb, or the version flag, would be.
 */
export function afterGlobals(argv: string[]): number {
  let i = 0;
  while (i < argv.length) {
    const o = GLOBAL[argv[i]];
    if (o !== undefined) i += o.value ? 2 : 1;
    else if (argv[i].startsWith('--root=')) i += 1;
    else break;
  }
  return i;
}

/** Is WORD one of the program's own options (mdevctl's: the global ones and the version)? */
const programOption = (word: string): boolean => word in GLOBAL || VERSION_FLAGS.includes(word) || word.startsWith('--root=');

/**
 * Read ARGV[FROM...] as options of GRAMMAR into OUT, up to the first word that is not one of
 * them; that word's index, or -1 when the line is not one to take (an option twice, a value
 * missing, `--opt=VALUE` for an option without a value).
 */
function options(argv: string[], from: number, grammar: Grammar, out: Record<string, string | boolean>): number {
  let i = from;
  while (i < argv.length) {
    const word = argv[i];
    const eq = word.startsWith('--') ? word.indexOf('=') : -1;
    const o = grammar[eq < 0 ? word : word.slice(0, eq)];
    if (o === undefined) return i;
    if (o.key in out) return -1;
    if (!o.value) {
      if (eq >= 0) return -1;
      out[o.key] = true;
      i += 1;
    } else if (eq >= 0) {
      out[o.key] = word.slice(eq + 1);
      i += 1;
    } else {
      // clap takes no value that looks like an option: such a line is the full parser's
      if (i + 1 >= argv.length || (argv[i + 1].startsWith('-') && argv[i + 1].length > 1)) return -1;
      out[o.key] = argv[i + 1];
      i += 2;
    }
  }
  return i;
}

/** The line ARGV of the program NAME (mdevctl or lsmdev), when the fast path can take it. */
export function fastLine(argv: string[], name: string): FastLine | undefined {
  if (name === 'lsmdev') {
    if (argv.length === 1 && VERSION_FLAGS.includes(argv[0])) return { verb: 'version' };
    const flags: Record<string, string | boolean> = {};
    if (options(argv, 0, LSMDEV, flags) !== argv.length) return undefined;
    const { root, ...list } = flags;
    return listLine({ root: root as string | undefined }, list);
  }
  const globals: Record<string, string | boolean> = {};
  const i = options(argv, 0, GLOBAL, globals);
  if (i < 0 || i >= argv.length) return undefined;
  const word = argv[i];
  if (VERSION_FLAGS.includes(word)) return i === argv.length - 1 ? { verb: 'version' } : undefined;
  if (argv.slice(i + 1).some(programOption)) return undefined;
  const flags: Record<string, string | boolean> = {};
  if (word === 'list') {
    return options(argv, i + 1, LIST, flags) === argv.length ? listLine(globals, flags) : undefined;
  }
  if (word === 'types') {
    return options(argv, i + 1, TYPES, flags) === argv.length ? { verb: 'types', globals, flags } : undefined;
  }
  return undefined;
}

function listLine(globals: GlobalOptions, flags: ListFlags): FastLine | undefined {
  // an invalid UUID is a usage error, with the verb's usage line: the full parser's
  if (flags.uuid !== undefined && parseUuid(flags.uuid) === null) return undefined;
  return { verb: 'list', globals, flags };
}
