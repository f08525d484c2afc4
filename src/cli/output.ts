/**
 * The one output channel of the CLI. stdout carries only what scripts parse (listings, JSON, the
 * bare UUID); warnings, progress and errors go to stderr. Colour is decided here, once.
 */
import { Style, plainStyle } from '../lib/format';

export interface Output {
  /** Print a command's result the way upstream does: the text, then one newline. */
  result(text: string): void;
  /** Print a line on stdout (the generated UUID). */
  line(text: string): void;
  /** Print TEXT on stdout exactly as it is (a dry run's plan). */
  raw(text: string): void;
  /** Styling for human-readable output: colour only for a terminal without NO_COLOR. */
  style(): Style;
}

export function wantColour(stream: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
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
    process.stdout.write(`${text}\n`);
  },
  line(text) {
    process.stdout.write(`${text}\n`);
  },
  raw(text) {
    process.stdout.write(text);
  },
  style() {
    if (!wantColour()) return plainStyle;
    colourStyle ??= makeColourStyle();
    return colourStyle;
  },
};
