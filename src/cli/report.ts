/**
 * How a failed command is told, whichever parser read its line: `Error: MESSAGE` on stderr and
 * exit 1, the stack only with MDEVCTL_DEBUG. (Usage errors, exit 2 with the verb's usage line,
 * are the full parser's: src/cli/commander-program.ts.)
 */
import { MdevctlError, escapeControls } from '../lib/util/errors';
import { exit } from './exit';

function debugStack(err: unknown): string {
  return process.env.MDEVCTL_DEBUG && err instanceof Error && err.stack ? `\n${err.stack}` : '';
}

/** An error not ours (a bug, or a system error nothing caught): its first line only, no stack. */
function reportUnexpected(err: unknown): void {
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`Error: ${escapeControls(msg.split('\n')[0])}\n${debugStack(err).trimStart()}`);
}

/** Print ERR as a failed command's one line; the exit status (1). */
export function reportFailure(err: unknown): number {
  if (err instanceof MdevctlError) {
    process.stderr.write(`Error: ${escapeControls(err.message, true)}\n${debugStack(err).trimStart()}`);
  } else {
    reportUnexpected(err);
  }
  return 1;
}

/**
 * Last resort for anything thrown outside the command (an event handler, a stream error): one
 * `Error:` line and exit 1, the stack only with MDEVCTL_DEBUG.
 */
export function installCrashHandler(): void {
  const crash = (err: unknown) => {
    reportUnexpected(err);
    exit(1);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
}
