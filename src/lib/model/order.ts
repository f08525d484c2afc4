/**
 * The orderings mdevctl uses (REFERENCE §3): byte order of names, as Rust compares strings,
 * never localeCompare.
 */

/**
 * Plain `<` on the strings: UTF-8 byte order for every name made of ASCII or BMP characters
 * below U+E000 (all sysfs and UUID names), and as fast as a comparison gets for hot sorts.
 */
export function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Exact UTF-8 byte order for any names (script file names, sorted once per run), or of raw names. */
export function utf8Order(a: string | Buffer, b: string | Buffer): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
