/**
 * The wire side of the callout protocol (REFERENCE §8): the names passed with -e/-a/-s, the
 * capabilities a script announces on get/capabilities, and the attributes it prints on
 * get/attributes. Pure functions, no processes.
 */
import { Attr, parseAttrs } from '../model/device';
import { MdevctlError } from '../util/errors';

export type Event = 'pre' | 'post' | 'notify' | 'get' | 'live';
export type Action = 'start' | 'stop' | 'define' | 'undefine' | 'modify' | 'attributes' | 'capabilities';
export type State = 'none' | 'success' | 'failure';

/** What a script answers on get/capabilities. Unknown names are kept (and never match). */
export interface Capabilities {
  version: number;
  actions: string[];
  events: string[];
}

/** What mdevctl 1.4 offers, sent on stdin with get/capabilities. */
export const PROVIDES: Capabilities = {
  version: 2,
  actions: ['start', 'stop', 'define', 'undefine', 'modify', 'attributes', 'capabilities'],
  events: ['pre', 'post', 'notify', 'get', 'live'],
};

export const PROVIDES_JSON = JSON.stringify({ provides: PROVIDES });

/**
 * A script found by the plain (unversioned) search: it may be asked everything of version 1,
 * which has neither `live` nor `capabilities`.
 */
export const UNVERSIONED: Capabilities = {
  version: 1,
  actions: ['start', 'stop', 'define', 'undefine', 'modify', 'attributes'],
  events: ['pre', 'post', 'notify', 'get'],
};

/** Strip the NUL bytes some scripts print after their output. */
function trimNul(text: string): string {
  return text.replace(/\0+$/, '');
}

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/**
 * Parse get/capabilities output: `{"supports":{"version":N,"actions":[...],"events":[...]}}`,
 * other top-level keys and fields ignored, a trailing NUL allowed. Anything else (no JSON, no
 * `supports`, wrong field types) means the script is not versioned: null.
 */
export function parseCapabilities(stdout: string): Capabilities | null {
  let value: unknown;
  try {
    value = JSON.parse(trimNul(stdout));
  } catch {
    return null;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const s = (value as Record<string, unknown>).supports;
  if (s === null || typeof s !== 'object' || Array.isArray(s)) return null;
  const { version, actions, events } = s as Record<string, unknown>;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0 || version > 0xffffffff) return null;
  if (!isStringArray(actions) || !isStringArray(events)) return null;
  return { version, actions, events };
}

/**
 * Parse get/attributes output into attributes. Empty output and `[{}]` mean none; a trailing
 * NUL is allowed; anything that is not a list of one-key objects with string values is an error.
 */
export function parseAttributesOutput(stdout: string, script: string): Attr[] {
  const text = trimNul(stdout).trim();
  if (text === '' || text === '[{}]') return [];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new MdevctlError(`Invalid JSON received from callout script '${script}': ${(e as Error).message}`);
  }
  return parseAttrs(value, ` (from callout script '${script}')`);
}
