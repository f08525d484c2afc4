/** Errors the tool reports. Anything else reaching the top level is a bug, reported in one line. */

/** A command failed: printed as `Error: MESSAGE`, exit status 1. */
export class MdevctlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MdevctlError';
  }
}

/** A write into sysfs failed: CODE is the errno name the kernel gave (EBUSY, ENOSPC, ...). */
export class KernelError extends MdevctlError {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'KernelError';
  }
}

/** The command line was wrong: printed with usage, exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Short text for a Node system error: "No such file or directory" style, with the errno name. */
export function describeSystemError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e === 'object' && typeof e.code === 'string') {
    const text = ERRNO_TEXT[e.code];
    if (text) return `${text} (${e.code})`;
    return e.code;
  }
  return err instanceof Error ? err.message : String(err);
}

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EEXIST: 'File exists',
  EINVAL: 'Invalid argument',
  ENOSPC: 'No space left on device',
  EBUSY: 'Device or resource busy',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  EROFS: 'Read-only file system',
  ENODEV: 'No such device',
  ENXIO: 'No such device or address',
  ELOOP: 'Too many levels of symbolic links',
  ENAMETOOLONG: 'File name too long',
  EIO: 'Input/output error',
  EUSERS: 'Too many users',
};

export function errnoCode(err: unknown): string | undefined {
  const e = err as NodeJS.ErrnoException;
  return e && typeof e === 'object' && typeof e.code === 'string' ? e.code : undefined;
}

/**
 * TEXT with control characters shown as escapes (`\n`, `\u001b`), so that a message quoting a
 * file or a user's input stays on its lines and cannot drive the terminal. KEEP_NEWLINES keeps
 * the line breaks a message means to have (an attribute list after "index is invalid").
 */
export function escapeControls(text: string, keepNewlines = false): string {
  // JSON.stringify escapes the C0 range but leaves DEL as it is
  return text.replace(/[\x00-\x1f\x7f]/g, (c) => (keepNewlines && c === '\n' ? c : c === '\x7f' ? '\\u007f' : JSON.stringify(c).slice(1, -1)));
}

/**
 * JSON.parse's message for a syntax error, as V8 (Node) words it where another engine words it
 * otherwise: JavaScriptCore (the one-file executable's Bun, src/cli/exe.ts) says "JSON Parse error:
 * Unexpected EOF" for input that ends too soon (an empty or truncated definition), V8 "Unexpected
 * end of JSON input". Other syntax errors keep the engine's own words (test/exe.test.ts).
 */
export function jsonSyntaxMessage(e: unknown): string {
  const message = (e as Error).message;
  return message === 'JSON Parse error: Unexpected EOF' ? 'Unexpected end of JSON input' : message;
}

/** 1.4.0's words when no callout script can modify a running device (`modify --live`). */
export const LIVE_UNSUPPORTED =
  'Live modification is not supported for this device type. Changing the device configuration requires stopping and restarting the device.';
