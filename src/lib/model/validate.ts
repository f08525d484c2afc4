/**
 * Checks on names that become paths. A parent name or attribute name from the command line or a
 * JSON file is joined to a directory; these checks keep it inside that directory.
 */
import { MdevctlError } from '../util/errors';

const MAX_NAME = 255;

function pathComponentProblem(name: string): string | null {
  if (name.length === 0) return 'it is empty';
  if (name.includes('\0')) return 'it contains a NUL byte';
  if (/[\x01-\x1f\x7f]/.test(name)) return 'it contains a control character';
  if (name.includes('/')) return "it contains '/'";
  if (name === '.' || name === '..') return `'${name}' is not a name`;
  if (Buffer.byteLength(name) > MAX_NAME) return `it is longer than ${MAX_NAME} bytes`;
  return null;
}

/** Printable form of a name for an error message (control characters escaped, length capped). */
export function shown(name: string): string {
  const s = JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}...` : name);
  // JSON escapes the C0 controls; DEL and the C1 controls a terminal acts on too are escaped alike
  return s.slice(1, -1).replace(/[\x7f-\x9f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function checkParentName(parent: string): string {
  const problem = pathComponentProblem(parent);
  if (problem) throw new MdevctlError(`Invalid parent device name '${shown(parent)}': ${problem}`);
  return parent;
}

/**
 * An attribute is a file inside the device directory, possibly in a vendor subdirectory
 * (`nvidia/vgpu_params`): relative, each component a plain name (no '', '.', '..').
 */
export function checkAttributeName(name: string): string {
  let problem: string | null = null;
  if (name.startsWith('/')) problem = 'it is an absolute path';
  else if (Buffer.byteLength(name) > 4 * MAX_NAME) problem = `it is longer than ${4 * MAX_NAME} bytes`;
  else {
    const parts = name.split('/');
    for (const part of parts) {
      problem = pathComponentProblem(part);
      if (problem && parts.length > 1) {
        if (part === '') problem = 'it has an empty path component';
        else if (part === '.' || part === '..') problem = `its path component '${part}' is not a plain name`;
      }
      if (problem) break;
    }
  }
  if (problem) throw new MdevctlError(`Invalid attribute name '${shown(name)}': ${problem}`);
  return name;
}

/** Every attribute name of a device (they become file names in its sysfs directory). */
export function checkAttributeNames(attrs: ReadonlyArray<readonly [string, string]>): void {
  for (const [name] of attrs) checkAttributeName(name);
}

export function checkTypeName(type: string): string {
  const problem = pathComponentProblem(type);
  if (problem) throw new MdevctlError(`Invalid mdev type '${shown(type)}': ${problem}`);
  return type;
}

export function isSafeName(name: string): boolean {
  return pathComponentProblem(name) === null;
}
