/**
 * Running one script and reporting what happened, nothing more: no policy here. Synchronous
 * like the rest of the tool. Each script runs in its own process group so that a script that
 * overruns the time limit is killed together with whatever it started.
 */
import { SpawnSyncOptionsWithBufferEncoding, spawnSync } from 'node:child_process';
import { describeSystemError } from '../util/errors';

export type RunOutcome =
  /** The script exited with CODE. */
  | { kind: 'exit'; code: number; stdout: string; stderr: string }
  /** The script was killed by a signal it did not get from us. */
  | { kind: 'signal'; signal: string; stdout: string; stderr: string }
  /** We killed it: it ran past the time limit or printed too much. REASON says which. */
  | { kind: 'killed'; reason: string; timedOut: boolean; stdout: string; stderr: string }
  /** It could not be started (not executable, bad interpreter line, ...). */
  | { kind: 'not-run'; reason: string };

export interface RunOptions {
  /** Written to the script's stdin; stdin is closed right after (empty when undefined). */
  input?: string;
  /** Kill the script after this many milliseconds; 0 = no limit. */
  timeoutMs: number;
}

/** More output than any callout legitimately prints. */
const MAX_OUTPUT = 16 * 1024 * 1024;

export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

export function runScript(path: string, args: string[], opts: RunOptions): RunOutcome {
  const options: SpawnSyncOptionsWithBufferEncoding & { detached: boolean } = {
    input: opts.input ?? '',
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: opts.timeoutMs > 0 ? opts.timeoutMs : undefined,
    killSignal: 'SIGKILL',
    maxBuffer: MAX_OUTPUT,
    // own process group (node passes this through to libuv for spawnSync too, though its
    // typings only list it for spawn), so that killGroup reaches the script's children
    detached: true,
  };
  const r = spawnSync(path, args, options);
  const stdout = r.stdout ? r.stdout.toString('utf8') : '';
  const stderr = r.stderr ? r.stderr.toString('utf8') : '';
  const error: NodeJS.ErrnoException | undefined = r.error;
  const code = error?.code;
  if (code === 'ETIMEDOUT' || code === 'ENOBUFS') {
    killGroup(r.pid);
    const timedOut = code === 'ETIMEDOUT';
    const reason = timedOut ? `did not finish within ${formatSeconds(opts.timeoutMs)}` : `printed more than ${MAX_OUTPUT} bytes`;
    return { kind: 'killed', reason, timedOut, stdout, stderr };
  }
  // EPIPE: the script exited (or closed stdin) without reading all of its input. That is its
  // right; its exit status still counts.
  if (r.error && code !== 'EPIPE') return { kind: 'not-run', reason: describeSystemError(r.error) };
  if (r.signal) return { kind: 'signal', signal: r.signal, stdout, stderr };
  if (r.status === null) return { kind: 'not-run', reason: 'no exit status' };
  return { kind: 'exit', code: r.status, stdout, stderr };
}

/** Kill what is left of a killed script's process group (children it started). */
function killGroup(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // the group is already gone
  }
}
