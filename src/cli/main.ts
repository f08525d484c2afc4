/**
 * The command layer's entry: the lines the fast path knows (`list`, `types`, `--version`:
 * src/cli/fast-path.ts) run straight away; every other line goes to the full parser
 * (src/cli/commander-program.ts: commander, one module per verb), required on demand.
 */
import { UsageError } from '../lib/util/errors';
import { VERSION, makeEnv } from './program';
import { writeStdout } from './output';
import { allowRelativeReads } from '../lib/util/fastfs';
import { installCrashHandler, reportFailure } from './report';
import { end } from './exit';
import { FastLine, fastLine } from './fast-path';
import { runList } from './commands/list';
import { runTypes } from './commands/types';

/** The full parser, on demand. */
function fullParser(): typeof import('./commander-program') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./commander-program') as typeof import('./commander-program');
}

/**
 * The CLI as its own process (bin/mdevctl, bin/lsmdev): main, then the process ends at once
 * (src/cli/exit.ts), unless the run goes on (monitor).
 */
export function run(argv: string[], name = 'mdevctl'): void {
  main(argv, name);
  end();
}

/** Run the CLI; sets process.exitCode (never throws). */
export function main(argv: string[], name = 'mdevctl'): void {
  installCrashHandler();
  // the CLI owns its working directory: big listings open names relative to their directory
  allowRelativeReads(true);
  const line = fastLine(argv, name);
  if (line === undefined || !runFast(line, name)) fullParser().runProgram(argv, name);
}

/**
 * Run LINE; false when it turns out to need the full parser after all: a usage error, told with
 * the verb's usage line (listings change nothing, so the line can be run again).
 */
function runFast(line: FastLine, name: string): boolean {
  try {
    if (line.verb === 'version') {
      writeStdout(`${name} ${VERSION}\n`);
      process.exitCode = 0;
      return true;
    }
    const env = makeEnv(() => line.globals);
    if (line.verb === 'list') runList(env, line.flags);
    else runTypes(env, line.flags);
  } catch (err) {
    if (err instanceof UsageError) return false;
    process.exitCode = reportFailure(err);
  }
  return true;
}
