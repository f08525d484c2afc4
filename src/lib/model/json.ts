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
  // One pass appending to a single string: listings print tens of thousands of values, and
  // building a string per level (map + join) made most of their run time garbage collection.
  const out = { s: '' };
  write(out, value, indent);
  return out.s;
}

function write(out: { s: string }, value: JsonValue, indent: string): void {
  if (value instanceof Ordered) {
    const entries = value.entries;
    if (entries.length === 0) {
      out.s += '{}';
      return;
    }
    const inner = indent + '  ';
    for (let i = 0; i < entries.length; i++) {
      out.s += `${i === 0 ? '{\n' : ',\n'}${inner}${JSON.stringify(entries[i][0])}: `;
      write(out, entries[i][1], inner);
    }
    out.s += `\n${indent}}`;
  } else if (Array.isArray(value)) {
    if (value.length === 0) {
      out.s += '[]';
      return;
    }
    const inner = indent + '  ';
    for (let i = 0; i < value.length; i++) {
      out.s += `${i === 0 ? '[\n' : ',\n'}${inner}`;
      write(out, value[i], inner);
    }
    out.s += `\n${indent}]`;
  } else if (value !== null && typeof value === 'object') {
    write(out, new Ordered(Object.entries(value)), indent);
  } else {
    out.s += JSON.stringify(value);
  }
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

/**
 * The first key that appears twice in one object of TEXT (valid JSON), or null. JSON.parse keeps
 * the last of two equal keys silently; where a repeated key would lose data (a parent listed
 * twice in an `apply` file), it is refused instead.
 */
export function duplicateKey(text: string): string | null {
  const stack: Array<Set<string> | null> = []; // a Set per open object, null per open array
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        const keys = stack[stack.length - 1]!;
        if (keys.has(key)) return key;
        keys.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (c === '[') {
      stack.push(null);
    } else if (c === '}' || c === ']') {
      stack.pop();
      expectKey = false;
    } else if (c === ',') {
      expectKey = stack[stack.length - 1] instanceof Set;
    }
  }
  return null;
}
