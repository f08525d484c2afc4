/**
 * Small sh callout/notifier scripts for the tests. Each one appends a line per invocation to a
 * log file (`NAME EVENT/ACTION STATE` and, when it got any, ` <<STDIN`), then answers as told.
 */
import * as fs from 'node:fs';
import { FakeTree } from './tree';

export interface ScriptSpec {
  /** Answers by `EVENT/ACTION` (sh case patterns allowed, e.g. `pre/*`): sh commands. */
  on?: Record<string, string>;
  /** What to do when no answer matches (default `exit 0`). */
  otherwise?: string;
  /** Answer exit 2 ("not my device") for every type but this one. */
  onlyType?: string;
  /** Do not read stdin at all (the EPIPE case). */
  ignoreStdin?: boolean;
  /** Log the whole argument list instead of the short form. */
  logArgs?: boolean;
  /** Mode of the file (default 0o755). */
  mode?: number;
}

export type ScriptDir = 'callouts' | 'notifiers' | 'old-callouts' | 'old-notifiers';

export const logPath = (t: FakeTree) => t.p('calls.log');

export function scriptBody(t: FakeTree, name: string, spec: ScriptSpec = {}): string {
  const log = logPath(t);
  const arms = Object.entries(spec.on ?? {})
    .map(([pat, cmd]) => `  ${pat}) ${cmd} ;;`)
    .join('\n');
  return [
    '#!/bin/sh',
    'ARGS="$*"',
    'while getopts t:e:a:s:u:p: o; do',
    '  case $o in t) T=$OPTARG;; e) E=$OPTARG;; a) A=$OPTARG;; s) S=$OPTARG;; u) U=$OPTARG;; p) P=$OPTARG;; esac',
    'done',
    spec.ignoreStdin ? 'IN=' : 'IN=$(cat)',
    spec.logArgs ? `printf '%s %s\\n' '${name}' "$ARGS" >> '${log}'` : `printf '%s %s/%s %s%s\\n' '${name}' "$E" "$A" "$S" "\${IN:+ <<$IN}" >> '${log}'`,
    spec.onlyType !== undefined ? `[ "$T" = '${spec.onlyType}' ] || exit 2` : '',
    'case "$E/$A" in',
    arms,
    `  *) ${spec.otherwise ?? 'exit 0'} ;;`,
    'esac',
    '',
  ].join('\n');
}

/** Install a logging script; returns its path. */
export function addLoggingScript(t: FakeTree, dir: ScriptDir, name: string, spec: ScriptSpec = {}): string {
  const file = t.addScript(dir, name, scriptBody(t, name, spec));
  if (spec.mode !== undefined) fs.chmodSync(file, spec.mode);
  return file;
}

/** The log lines written so far. */
export function calls(t: FakeTree): string[] {
  if (!t.exists('calls.log')) return [];
  return t
    .read('calls.log')
    .split('\n')
    .filter((l) => l !== '');
}

/** get/capabilities output announcing ACTIONS and EVENTS (defaults: everything of version 2). */
export function supports(
  actions = ['start', 'stop', 'define', 'undefine', 'modify', 'attributes', 'capabilities'],
  events = ['pre', 'post', 'notify', 'get', 'live'],
  version = 2,
): string {
  return JSON.stringify({ supports: { version, actions, events } });
}

/** sh command printing TEXT exactly (no newline added). */
export function print(text: string): string {
  return `printf '%s' '${text.replace(/'/g, `'\\''`)}'`;
}
