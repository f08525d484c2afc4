/**
 * The one output channel of the CLI. stdout carries only what scripts parse (listings, JSON, the
 * bare UUID); warnings, progress and errors go to stderr. Colour is decided here, once.
 */
import fs = require('node:fs');
import { Style, plainStyle } from '../lib/model/format';
import { exit } from './exit';

export interface Output {
  /**
   * Print a command's result (a listing, JSON) the way upstream 1.4 does: exactly TEXT, nothing
   * added. Text listings are their lines, each ending in a newline (nothing at all when empty);
   * JSON ends with its closing bracket.
   */
  result(text: string): void;
  /** Print a line on stdout (the generated UUID). */
  line(text: string): void;
  /** Print TEXT on stdout exactly as it is (a dry run's plan). */
  raw(text: string): void;
  /** Styling for human-readable output: colour only for a terminal without NO_COLOR. */
  style(): Style;
}

export function wantColour(stream?: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return stream ? stream.isTTY === true : stdoutIsTerminal();
}

/**
 * Is fd 1 a terminal? Asked without process.stdout, whose creation loads the stream and net
 * modules (a few ms of every run): only a character device can be a terminal.
 */
function stdoutIsTerminal(): boolean {
  try {
    const st = fs.fstatSync(1);
    // major 1: /dev/null, /dev/zero and the like (Linux), never a terminal
    if (!st.isCharacterDevice() || ((st.rdev >> 8) & 0xfff) === 1) return false;
  } catch {
    return false;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('node:tty') as typeof import('node:tty')).isatty(1);
}

/**
 * Write TEXT to stdout (fd 1) completely and synchronously, without creating process.stdout (see
 * above). A reader that went away (EPIPE) ends the run quietly with the status so far, as a
 * pipeline into `head` expects; a non-blocking pipe that is full is waited on.
 */
export function writeStdout(text: string): void {
  const data = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < data.length) {
    try {
      off += fs.writeSync(1, data, off, data.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') exit();
      if (code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

let colourStyle: Style | undefined;

function makeColourStyle(): Style {
  // chalk is loaded only when a terminal will see colour
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Chalk } = require('chalk') as typeof import('chalk');
  const c = new Chalk({ level: 1 });
  return { parent: (s) => c.cyan(s), type: (s) => c.yellow(s), state: (s) => c.green(s) };
}

export const processOutput: Output = {
  result(text) {
    if (text !== '') writeStdout(text);
  },
  line(text) {
    writeStdout(`${text}\n`);
  },
  raw(text) {
    writeStdout(text);
  },
  style() {
    if (!wantColour()) return plainStyle;
    colourStyle ??= makeColourStyle();
    return colourStyle;
  },
};
