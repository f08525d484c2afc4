/**
 * The CLI as a child process that runs alongside others (test/support/cli.ts runs one at a time):
 * for concurrency and crash tests. Same environment rules as cli.ts: the root goes in
 * MDEVCTL_ENV_ROOT, no MDEVCTL_* variable of the test's environment leaks in (cliEnv), ENV adds.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { cliCommand, cliEnv } from './cli';

export interface AsyncRun {
  child: ChildProcess;
  done: Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  input?: string;
  /** Run as this user and group (e.g. 65534, nobody), to meet the permission checks root skips. */
  uid?: number;
  gid?: number;
}

export function startCli(root: string, args: string[], opts: StartOptions = {}): AsyncRun {
  const env: NodeJS.ProcessEnv = { ...cliEnv(opts.env), MDEVCTL_ENV_ROOT: root };
  delete env.NO_COLOR;
  const [file, argv] = cliCommand(args);
  const child = spawn(file, argv, {
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid ?? opts.uid } : {}),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.on('error', () => {
    /* the CLI may exit without reading its input */
  });
  child.stdin.end(opts.input ?? '');
  const done = new Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
  return { child, done };
}

/** Run the CLI and wait for it. */
export function runAsync(root: string, args: string[], opts: StartOptions = {}) {
  return startCli(root, args, opts).done;
}
