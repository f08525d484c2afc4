/**
 * Runs the real, built CLI (bin/mdevctl, bin/lsmdev) as a separate process on a root directory,
 * capturing stdout, stderr and the exit status. Tests assert on exactly what a user sees.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

export const REPO = path.resolve(__dirname, '..', '..');
export const MDEVCTL = path.join(REPO, 'bin', 'mdevctl');
export const LSMDEV = path.join(REPO, 'bin', 'lsmdev');

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Root directory, passed as MDEVCTL_ENV_ROOT (unless rootFlag). */
  root?: string;
  /** Pass the root as --root DIR instead of the environment variable. */
  rootFlag?: boolean;
  input?: string;
  env?: NodeJS.ProcessEnv;
  bin?: 'mdevctl' | 'lsmdev';
  timeoutMs?: number;
  /** Run as this user and group (65534: nobody), to meet the permission checks root skips. */
  uid?: number;
  gid?: number;
}

export function run(args: string[], opts: RunOptions = {}): RunResult {
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
  delete env.MDEVCTL_ENV_ROOT;
  delete env.NO_COLOR;
  if (opts.env?.NO_COLOR !== undefined) env.NO_COLOR = opts.env.NO_COLOR;
  let argv = args;
  if (opts.root !== undefined) {
    if (opts.rootFlag) argv = ['--root', opts.root, ...args];
    else env.MDEVCTL_ENV_ROOT = opts.root;
  }
  const bin = opts.bin === 'lsmdev' ? LSMDEV : MDEVCTL;
  const r = spawnSync(process.execPath, [bin, ...argv], {
    env,
    input: opts.input ?? '',
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 30000,
    ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid ?? opts.uid } : {}),
  });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Shorthand: run with MDEVCTL_ENV_ROOT=root. */
export function mdevctl(root: string, ...args: string[]): RunResult {
  return run(args, { root });
}
