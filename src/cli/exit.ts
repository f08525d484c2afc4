/**
 * How a run of the CLI ends: as soon as its work is done and its output written, through the
 * native addon's exitNow (_exit(2)) when the addon loads, after the process's 'exit' listeners.
 *
 * Why not let Node end it: Node (20 to 26 at least; nodejs/node#54918, #64274) can deadlock
 * there. When the event loop runs dry its main thread waits, in NodePlatform::DrainTasks, for
 * every task on V8's worker threads; on process.exit it joins those threads. Neither wait lets V8
 * run a garbage collection, and a concurrent optimizing compile on a worker thread that needs one
 * (its heap reached its limit) waits for the main thread to run it: both wait forever. Seen here on
 * Node 20 in about 1 run in 18 of `list` on a tree with two 16 MiB definitions (before
 * src/lib/util/fastfs.ts stopped reading such files whole), and as a CI test hanging at exit with all
 * its output written. _exit waits for no thread.
 *
 * Output is already out by then: stdout is written with writeSync (src/cli/output.ts), and
 * process.stderr is synchronous on Linux for files, pipes, sockets and terminals. This is so under
 * MDEVCTL_NATIVE=off too (it chooses the readers only). Without the addon (a build without a C
 * compiler, or a broken one) Node ends the process itself.
 */
import { addonForExit } from '../lib/util/native';

let stays = false;

/** The run goes on after main returns (monitor): end() leaves the process to it. */
export function stayAfterMain(): void {
  stays = true;
}

/** After main: end the process now, with process.exitCode, unless the run goes on (monitor). */
export function end(): void {
  if (!stays) exit();
}

/** End the process with CODE (default: process.exitCode, else 0), 'exit' listeners first. */
export function exit(code?: number): never {
  if (code !== undefined) process.exitCode = code;
  const io = addonForExit();
  // registered now, so after every other listener (the CLI's own code cache is written in one)
  if (io) process.once('exit', (status) => io.exitNow(status));
  process.exit();
}
