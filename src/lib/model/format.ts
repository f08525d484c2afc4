/**
 * The two renderers: human text and JSON, byte for byte as upstream. Colour is applied through a
 * Style only by the CLI, only for a terminal; JSON never carries it.
 */
import { escapeForTerminal } from '../util/terminal';
import { MDev, formatAttrs } from './device';
import { MdevType } from './mdev-type';
import { DeviceMap, countDevices } from './device-map';
import { JsonValue, Ordered, pretty } from './json';

export interface Style {
  parent(s: string): string;
  type(s: string): string;
  state(s: string): string;
}

export const plainStyle: Style = { parent: (s) => s, type: (s) => s, state: (s) => s };

export type ListKind = 'active' | 'defined';

export function deviceLine(dev: MDev, kind: ListKind, verbose: boolean, style: Style = plainStyle): string {
  let line = `${dev.uuid} ${style.parent(dev.requireParent())} ${style.type(dev.requireType())} ${dev.autostart ? 'auto' : 'manual'}`;
  if (kind === 'defined' && dev.active) line += ` ${style.state('(active)')}`;
  if (kind === 'active' && dev.defined) line += ` ${style.state('(defined)')}`;
  line += '\n';
  if (verbose) line += formatAttrs(dev.attrs);
  return line;
}

/** `list` text: one line per device (plus attributes with verbose); empty when no devices. */
export function devicesText(map: DeviceMap, kind: ListKind, verbose: boolean, style: Style = plainStyle): string {
  let out = '';
  for (const devs of map.values()) for (const d of devs) out += deviceLine(d, kind, verbose, style);
  return out;
}

/** The --dumpjson value: [{PARENT: [{UUID: config}]}], or [] when there are no devices. */
export function devicesJsonValue(map: DeviceMap): JsonValue {
  if (map.size === 0) return [];
  const parents: Array<[string, JsonValue]> = [];
  for (const [parent, devs] of map) {
    parents.push([parent, devs.map((d) => new Ordered([[d.uuid, configJson(d)]]))]);
  }
  return [new Ordered(parents)];
}

export function configJson(d: MDev): JsonValue {
  return new Ordered([
    ['mdev_type', d.requireType()],
    ['start', d.autostart ? 'auto' : 'manual'],
    ['attrs', d.attrs.map(([k, v]) => new Ordered([[k, v]]))],
  ]);
}

/**
 * What `list --dumpjson` prints: with a UUID filter matching exactly one device, only its config
 * object (pipeable into a definition file); with a filter matching none, `[]`.
 */
export function listJsonValue(map: DeviceMap, uuidGiven: boolean): JsonValue {
  if (!uuidGiven || countDevices(map) > 1) return devicesJsonValue(map);
  const first = map.values().next();
  return first.done ? [] : configJson(first.value[0]);
}

/*
 * The two big JSON outputs written straight into one string: exactly pretty(listJsonValue(...))
 * and pretty(typesJsonValue(...)), byte for byte (test/json-text.test.ts), without building a
 * value tree first. A host with 10,000 definitions or 8,000 types spends most of a generic
 * pretty-print in allocation and garbage collection.
 */
const q = JSON.stringify;

/** What `list --dumpjson` prints (pretty(listJsonValue(map, uuidGiven))). */
export function listJsonText(map: DeviceMap, uuidGiven: boolean): string {
  if (uuidGiven && countDevices(map) <= 1) return pretty(listJsonValue(map, uuidGiven));
  if (map.size === 0) return '[]';
  let out = '[\n  {';
  let sep = '\n';
  for (const [parent, devs] of map) {
    out += `${sep}    ${q(parent)}: ${devs.length === 0 ? '[]' : '['}`;
    sep = ',\n';
    for (let i = 0; i < devs.length; i++) {
      const d = devs[i];
      let attrs = '[]';
      if (d.attrs.length > 0) {
        attrs = '[';
        for (let j = 0; j < d.attrs.length; j++) {
          attrs += `${j === 0 ? '' : ','}\n            {\n              ${q(d.attrs[j][0])}: ${q(d.attrs[j][1])}\n            }`;
        }
        attrs += '\n          ]';
      }
      out +=
        `${i === 0 ? '' : ','}\n      {\n        ${q(d.uuid)}: {\n          "mdev_type": ${q(d.requireType())},` +
        `\n          "start": "${d.autostart ? 'auto' : 'manual'}",\n          "attrs": ${attrs}\n        }\n      }`;
    }
    if (devs.length > 0) out += '\n    ]';
  }
  return `${out}\n  }\n]`;
}

/** What `types --dumpjson` prints (pretty(typesJsonValue(types))). */
export function typesJsonText(types: Map<string, MdevType[]>): string {
  if (types.size === 0) return '[]';
  let out = '[\n  {';
  let sep = '\n';
  for (const [parent, list] of types) {
    out += `${sep}    ${q(parent)}: ${list.length === 0 ? '[]' : '['}`;
    sep = ',\n';
    for (let i = 0; i < list.length; i++) {
      const t = list[i];
      out +=
        `${i === 0 ? '' : ','}\n      {\n        ${q(t.type)}: {\n          "available_instances": ${q(t.availableInstances)},` +
        `\n          "device_api": ${q(t.deviceApi)}`;
      if (t.name !== '') out += `,\n          "name": ${q(t.name)}`;
      if (t.description !== '') out += `,\n          "description": ${q(t.description)}`;
      out += '\n        }\n      }';
    }
    if (list.length > 0) out += '\n    ]';
  }
  return `${out}\n  }\n]`;
}

export function typeJson(t: MdevType): JsonValue {
  const e: Array<[string, JsonValue]> = [
    ['available_instances', t.availableInstances],
    ['device_api', t.deviceApi],
  ];
  if (t.name !== '') e.push(['name', t.name]);
  if (t.description !== '') e.push(['description', t.description]);
  return new Ordered(e);
}

export function typesJsonValue(types: Map<string, MdevType[]>): JsonValue {
  if (types.size === 0) return [];
  const parents: Array<[string, JsonValue]> = [];
  for (const [parent, list] of types) parents.push([parent, list.map((t) => new Ordered([[t.type, typeJson(t)]]))]);
  return [new Ordered(parents)];
}

export function typesText(types: Map<string, MdevType[]>, style: Style = plainStyle): string {
  let out = '';
  for (const [parent, list] of types) {
    out += `${style.parent(parent)}\n`;
    for (const t of list) {
      out += `  ${style.type(t.type)}\n`;
      out += `    Available instances: ${t.availableInstances}\n`;
      out += `    Device API: ${t.deviceApi}\n`;
      // driver-provided text as upstream prints it, but for what a terminal would act on
      if (t.name !== '') out += `    Name: ${escapeForTerminal(t.name)}\n`;
      if (t.description !== '') out += `    Description: ${escapeForTerminal(t.description)}\n`;
    }
  }
  return out;
}
