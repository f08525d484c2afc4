/**
 * Reading a --jsonfile: any readable path, including /dev/stdin (libvirt pipes the config in),
 * with a size bound so a wrong file cannot exhaust memory.
 */
import fs = require('node:fs');
import { MdevctlError, describeSystemError } from '../util/errors';
import { ParsedConfig, parseConfigText } from '../model/device';

/** Largest --jsonfile accepted: far above any real config (a few hundred bytes). */
export const MAX_JSONFILE_BYTES = 1024 * 1024;

function readFd(fd: number, file: string, maxBytes: number): string {
  const chunks: Buffer[] = [];
  let total = 0;
  const buf = Buffer.allocUnsafe(65536);
  for (;;) {
    let n: number;
    try {
      n = fs.readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        // non-blocking stdin with no data yet: wait briefly and retry
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
        continue;
      }
      if (code === 'EOF') break;
      throw new MdevctlError(`Unable to read jsonfile "${file}": ${describeSystemError(e)}`);
    }
    if (n === 0) break;
    total += n;
    if (total > maxBytes) {
      throw new MdevctlError(`Unable to read jsonfile "${file}": larger than ${maxBytes} bytes`);
    }
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The text of a --jsonfile. `/dev/stdin` and `-` read the standard input. */
export function readJsonFile(file: string, maxBytes = MAX_JSONFILE_BYTES, label = 'file'): string {
  if (file === '/dev/stdin' || file === '-') return readFd(0, file, maxBytes);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw new MdevctlError(`Unable to read ${label} "${file}": ${describeSystemError(e)}`);
  }
  try {
    return readFd(fd, file, maxBytes);
  } finally {
    fs.closeSync(fd);
  }
}

/** Open-check only (upstream checks the file can be opened before other checks). */
export function checkReadable(file: string): void {
  if (file === '/dev/stdin' || file === '-') return;
  try {
    fs.closeSync(fs.openSync(file, 'r'));
  } catch (e) {
    throw new MdevctlError(`Unable to read file "${file}": ${describeSystemError(e)}`);
  }
}

/** LABEL: upstream's word in its message (`Unable to read jsonfile` for start and define's read). */
export function readConfigFile(file: string, label = 'file'): ParsedConfig {
  return parseConfigText(readJsonFile(file, MAX_JSONFILE_BYTES, label), file);
}
