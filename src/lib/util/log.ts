/** Where warnings and progress go: always stderr, never stdout (stdout is for parseable output). */
export interface Log {
  warn(message: string): void;
  info(message: string): void;
}

export const stderrLog: Log = {
  warn(message) {
    process.stderr.write(`Warning: ${message}\n`);
  },
  info(message) {
    process.stderr.write(`${message}\n`);
  },
};

/** A log that keeps messages, for the library API and tests. */
export class MemoryLog implements Log {
  readonly warnings: string[] = [];
  readonly infos: string[] = [];
  warn(message: string): void {
    this.warnings.push(message);
  }
  info(message: string): void {
    this.infos.push(message);
  }
}
