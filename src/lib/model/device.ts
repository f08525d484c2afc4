/**
 * The mediated device model: one device as known from its definition, from sysfs, or both, and
 * the conversions to and from the definition JSON format (REFERENCE §2).
 */
import { MdevctlError, escapeControls, jsonSyntaxMessage } from '../util/errors';

export type Attr = [name: string, value: string];

/** The config object of one device, exactly as stored and as printed by --dumpjson. */
export interface DeviceConfig {
  mdev_type: string;
  start: 'auto' | 'manual';
  attrs: Array<Record<string, string>>;
}

export class MDev {
  uuid: string;
  parent?: string;
  type?: string;
  autostart = false;
  attrs: Attr[] = [];
  /** Running in sysfs (with the same parent and type when those were known beforehand). */
  active = false;
  /** A definition file exists for (parent, uuid). */
  defined = false;
  /**
   * The definition's `after` key as stored (any JSON value; undefined when absent): the UUIDs
   * `start-all` starts first (src/lib/ops/start-all.ts). A key of ours that upstream ignores; it is
   * kept when the definition is rewritten, and never shown by list or given to scripts.
   */
  after?: unknown;

  constructor(uuid: string, parent?: string, type?: string) {
    this.uuid = uuid;
    this.parent = parent;
    this.type = type;
  }

  clone(): MDev {
    const d = new MDev(this.uuid, this.parent, this.type);
    d.autostart = this.autostart;
    d.attrs = this.attrs.map(([k, v]) => [k, v] as Attr);
    d.active = this.active;
    d.defined = this.defined;
    d.after = this.after;
    return d;
  }

  requireParent(): string {
    if (this.parent === undefined) throw new MdevctlError(`Device ${this.uuid} is missing a parent`);
    return this.parent;
  }

  requireType(): string {
    if (this.type === undefined) throw new MdevctlError(`Device ${this.uuid} is missing a mdev_type`);
    return this.type;
  }

  /** Apply a parsed definition (type, start, attrs) to this device. */
  applyConfig(cfg: ParsedConfig): void {
    this.type = cfg.type;
    this.autostart = cfg.autostart;
    this.attrs = cfg.attrs.map(([k, v]) => [k, v] as Attr);
    this.after = cfg.after;
  }

  toConfig(): DeviceConfig {
    return {
      mdev_type: this.requireType(),
      start: this.autostart ? 'auto' : 'manual',
      attrs: this.attrs.map(([k, v]) => ({ [k]: v })),
    };
  }

  /** The definition file's bytes: pretty JSON, 2 spaces, no trailing newline (as upstream). */
  toDefinitionText(): string {
    if (this.after === undefined) return JSON.stringify(this.toConfig(), null, 2);
    return JSON.stringify({ ...this.toConfig(), after: this.after }, null, 2);
  }

  addAttribute(name: string, value: string, index?: number): void {
    if (index === undefined) {
      this.attrs.push([name, value]);
      return;
    }
    if (index > this.attrs.length) {
      throw new MdevctlError(`Attribute index ${index} is invalid\n${this.attributeHint()}`);
    }
    this.attrs.splice(index, 0, [name, value]);
  }

  deleteAttribute(index?: number): void {
    if (index === undefined) {
      this.attrs.pop();
      return;
    }
    if (index >= this.attrs.length) {
      throw new MdevctlError(`Attribute index ${index} is invalid\n${this.attributeHint()}`);
    }
    this.attrs.splice(index, 1);
  }

  private attributeHint(): string {
    if (this.attrs.length === 0) return `Device ${this.uuid} has no attributes`;
    return formatAttrs(this.attrs).replace(/\n$/, '');
  }
}

/** `  Attrs:` block of the verbose listing. */
export function formatAttrs(attrs: Attr[]): string {
  if (attrs.length === 0) return '';
  let out = '  Attrs:\n';
  attrs.forEach(([k, v], i) => {
    out += `    @{${i}}: {"${k}":"${v}"}\n`;
  });
  return out;
}

export interface ParsedConfig {
  type: string;
  autostart: boolean;
  attrs: Attr[];
  /** The `after` key as given (not checked here: upstream ignores it, so must listing). */
  after?: unknown;
}

/**
 * Parse a definition (file contents, a --jsonfile, or stdin) into its parts, with upstream's
 * rules and error texts. Throws MdevctlError with a one-line message on any problem.
 */
export function parseConfigText(text: string, source?: string): ParsedConfig {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const where = source ? ` in ${source}` : '';
    throw new MdevctlError(`invalid JSON${where}: ${escapeControls(jsonSyntaxMessage(e))}`);
  }
  return parseConfigValue(value, source);
}

export function parseConfigValue(value: unknown, source?: string): ParsedConfig {
  const where = source ? ` (${source})` : '';
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new MdevctlError(`invalid json${where}: expected an object with "mdev_type" and "start"`);
  }
  const obj = value as Record<string, unknown>;
  const t = obj.mdev_type;
  const s = obj.start;
  if (t === undefined || t === null || s === undefined || s === null) {
    throw new MdevctlError(`invalid json${where}: "mdev_type" and "start" are required`);
  }
  if (typeof t !== 'string') {
    throw new MdevctlError(`invalid json${where}: "mdev_type" must be a string`);
  }
  const cfg: ParsedConfig = { type: t, autostart: s === 'auto', attrs: parseAttrs(obj.attrs, where) };
  if (obj.after !== undefined) cfg.after = obj.after;
  return cfg;
}

/** Validate an attribute list: an array (or null/absent) of one-key objects with string values. */
export function parseAttrs(value: unknown, where = ''): Attr[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new MdevctlError(`attributes field is not an array${where}`);
  const out: Attr[] = [];
  for (const a of value as unknown[]) {
    if (a === null || typeof a !== 'object' || Array.isArray(a)) {
      throw new MdevctlError(`invalid JSON format for attribute: not an object${where}`);
    }
    const keys = Object.keys(a);
    if (keys.length !== 1) {
      throw new MdevctlError(`invalid JSON format for attribute: too many fields${where}`);
    }
    const k = keys[0];
    const v = (a as Record<string, unknown>)[k];
    if (typeof v !== 'string') {
      throw new MdevctlError(`invalid JSON format for attribute {${JSON.stringify(k)}, ${JSON.stringify(v)}}: value must be of type str${where}`);
    }
    out.push([k, v]);
  }
  return out;
}
