/** Candidate words for shell completion: cheap directory listings, no definition is parsed. */
import fs = require('node:fs');
import { Context } from './context';
import { parseUuid } from '../model/uuid';
import { byteOrder } from '../model/order';

export type CompletionKind = 'active' | 'defined' | 'uuids' | 'parents' | 'types';

function sorted(words: Iterable<string>): string[] {
  return [...new Set(words)].sort(byteOrder);
}

function definedUuids(ctx: Context): string[] {
  const out: string[] = [];
  for (const parent of ctx.store.parentDirs()) {
    let names: string[];
    try {
      names = fs.readdirSync(ctx.root.parentConfigDir(parent));
    } catch {
      continue;
    }
    for (const n of names) {
      const u = parseUuid(n);
      if (u !== null) out.push(u);
    }
  }
  return out;
}

/**
 * Words for KIND: running UUIDs (active), defined UUIDs (defined), both (uuids), parents (registered
 * or with definitions), type names (of PARENT when it has any, else of every parent).
 */
export function completionWords(ctx: Context, kind: CompletionKind, parent?: string): string[] {
  switch (kind) {
    case 'active':
      return sorted(ctx.sysfs.activeUuids().map((e) => e.uuid));
    case 'defined':
      return sorted(definedUuids(ctx));
    case 'uuids':
      return sorted([...ctx.sysfs.activeUuids().map((e) => e.uuid), ...definedUuids(ctx)]);
    case 'parents':
      return sorted([...ctx.sysfs.parents().map((p) => p.name), ...ctx.store.parentDirs()]);
    case 'types': {
      const all = ctx.sysfs.types();
      const mine = parent !== undefined ? all.get(parent) : undefined;
      const lists = mine && mine.length > 0 ? [mine] : [...all.values()];
      return sorted(lists.flatMap((l) => l.map((t) => t.type)));
    }
  }
}
