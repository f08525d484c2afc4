/**
 * What a suite needs from the machine (root, tools on PATH, files), and what happens when it is
 * missing: on a newcomer's machine (`npm test` with only Node and npm) the suite is skipped with
 * one line on stderr saying which suite, what is missing and how to get it; under `.ci/run`, which
 * installs everything and sets MDEVCTL_TEST_ALL=1, a missing prerequisite fails the suite instead.
 *
 *   const skip = prerequisites('deb.test.ts', { root: true, tools: ['lintian'] }, 'apt-get install lintian');
 *   (skip ? describe.skip : describe)('...', () => { ... });
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Set by .ci/run: every suite must run; a missing prerequisite is a failure, not a skip. */
export const STRICT_VAR = 'MDEVCTL_TEST_ALL';

export interface Requirements {
  /** The suite needs uid 0 (chroot, mounts, apt). */
  root?: boolean;
  /** Commands that must be on PATH. */
  tools?: string[];
  /** Files that must exist. */
  files?: string[];
  /** Further checks: each returns null when satisfied, else what is missing. */
  checks?: Array<() => string | null>;
}

export function strict(): boolean {
  const v = process.env[STRICT_VAR];
  return v !== undefined && v !== '' && v !== '0';
}

export function onPath(tool: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

/** What of `req` this machine lacks, in words; [] when nothing. */
export function lacking(req: Requirements): string[] {
  const out: string[] = [];
  if (req.root && process.getuid?.() !== 0) out.push('root');
  const tools = (req.tools ?? []).filter((t) => !onPath(t));
  if (tools.length) out.push(`${tools.join(', ')} on PATH`);
  for (const f of req.files ?? []) if (!existsSync(f)) out.push(f);
  for (const check of req.checks ?? []) {
    const why = check();
    if (why) out.push(why);
  }
  return out;
}

/**
 * Returns true when the suite must be skipped (after printing one line saying so); throws when
 * something is missing under MDEVCTL_TEST_ALL; false when everything is there.
 */
export function prerequisites(suite: string, req: Requirements, how: string): boolean {
  const missing = lacking(req);
  if (!missing.length) return false;
  const line = `${suite}: needs ${missing.join('; ')} (${how})`;
  if (strict()) throw new Error(`${line}; ${STRICT_VAR} is set, so this is a failure, not a skip`);
  process.stderr.write(`SKIPPED ${line}\n`);
  return true;
}

/** The same for a condition found at run time (inside a test): skip or fail with one line. */
export function skipOrFail(suite: string, why: string): void {
  const line = `${suite}: ${why}`;
  if (strict()) throw new Error(`${line}; ${STRICT_VAR} is set, so this is a failure, not a skip`);
  process.stderr.write(`SKIPPED ${line}\n`);
}
