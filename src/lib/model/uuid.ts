/**
 * UUIDs as mdevctl sees them. Parsing is lenient in the way of the Rust uuid crate upstream uses:
 * hyphenated, 32 hex digits, {braced} and urn:uuid: forms, any case. The canonical form, used for
 * display, file names and sysfs writes, is lowercase hyphenated.
 */
const HEX32 = /^[0-9a-fA-F]{32}$/;
const HYPHENATED = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** The canonical form of a UUID string, or null when it is not one. */
export function parseUuid(text: string): string | null {
  let s = text;
  if (s.length === 45 && s.startsWith('urn:uuid:')) s = s.slice(9);
  else if (s.length === 38 && s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1);
  if (s.length === 36) {
    if (!HYPHENATED.test(s)) return null;
    return s.toLowerCase();
  }
  if (s.length === 32 && HEX32.test(s)) {
    const l = s.toLowerCase();
    return `${l.slice(0, 8)}-${l.slice(8, 12)}-${l.slice(12, 16)}-${l.slice(16, 20)}-${l.slice(20)}`;
  }
  return null;
}

/** Why a string is not a UUID, worded for a usage error (one line, control characters escaped). */
export function uuidProblem(text: string): string {
  if (text.length === 0) return 'empty string';
  const braced = text.startsWith('{') && text.endsWith('}') && text.length > 1;
  const skip = text.startsWith('urn:uuid:') ? 9 : braced ? 1 : 0;
  const inner = braced ? text.slice(1, -1) : text.slice(skip);
  const chars = [...inner];
  const bad = chars.findIndex((c) => !/[0-9a-fA-F-]/.test(c));
  if (bad >= 0) {
    const c = /[\x00-\x1f\x7f]/.test(chars[bad]) ? JSON.stringify(chars[bad]).slice(1, -1) : chars[bad];
    return `invalid character '${c}' at position ${bad + 1 + skip}`;
  }
  if (inner.includes('-')) {
    return `invalid group lengths ${inner
      .split('-')
      .map((g) => g.length)
      .join('-')}: expected 8-4-4-4-12`;
  }
  return `invalid length ${text.length}: expected 32 hex digits, optionally hyphenated as 8-4-4-4-12`;
}

/**
 * A new random (version 4) UUID, from the uuid package. It is required here, on first use, not at
 * start-up: the package reads node:crypto when it loads, and most runs never generate a UUID.
 */
export function generateUuid(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { v4 } = require('uuid') as typeof import('uuid');
  return v4();
}
