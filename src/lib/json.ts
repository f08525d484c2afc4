/**
 * Pretty JSON with keys in a given order. JavaScript objects put integer-like keys first, which
 * would reorder a parent or type named like a number; upstream keeps byte order. Output matches
 * serde_json's to_string_pretty (and JSON.stringify(v, null, 2)) byte for byte.
 */
export class Ordered {
  constructor(readonly entries: Array<[string, JsonValue]>) {}
}

export type JsonValue = null | boolean | number | string | JsonValue[] | Ordered | { [k: string]: JsonValue };

export function pretty(value: JsonValue, indent = ''): string {
  if (value instanceof Ordered) {
    if (value.entries.length === 0) return '{}';
    const inner = indent + '  ';
    const parts = value.entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${pretty(v, inner)}`);
    return `{\n${parts.join(',\n')}\n${indent}}`;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const inner = indent + '  ';
    return `[\n${value.map((v) => inner + pretty(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    return pretty(new Ordered(Object.entries(value)), indent);
  }
  return JSON.stringify(value);
}

/** The same value as plain objects (for the library API). */
export function plain(value: JsonValue): unknown {
  if (value instanceof Ordered) {
    const o: Record<string, unknown> = {};
    for (const [k, v] of value.entries) o[k] = plain(v);
    return o;
  }
  if (Array.isArray(value)) return value.map(plain);
  return value;
}
