/**
 * Runs the real, built CLI (bin/mdevctl, bin/lsmdev) as a separate process on a root directory,
 * capturing stdout, stderr and the exit status. Tests assert on exactly what a user sees.
 *
 * The CLI under test: the Node build (bin/mdevctl under the Node running the tests), or, with
 * MDEVCTL_TEST_CLI=/path/to/executable, that executable (the one-file build, `npm run build:exe`:
 * dist/mdevctl), run directly, and as lsmdev through a link of that name. Every test that runs the
 * CLI starts it through cliCommand (or cliShell, in scripts), so one variable moves them all.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const REPO = path.resolve(__dirname, '..', '..');
export const MDEVCTL = path.join(REPO, 'bin', 'mdevctl');
export const LSMDEV = path.join(REPO, 'bin', 'lsmdev');

/** MDEVCTL_TEST_CLI, absolute; undefined when the Node build is under test. */
export const TEST_CLI = process.env.MDEVCTL_TEST_CLI ? path.resolve(process.env.MDEVCTL_TEST_CLI) : undefined;

/**
 * For tests about the Node build itself (its code cache, bin/load-cli.cjs, its bundle and npm
 * package, the addon as Node loads it, Node's ending): true, after one SKIPPED line naming WHAT,
 * when another CLI is under test (MDEVCTL_TEST_CLI). Not a missing prerequisite: a skip under
 * MDEVCTL_TEST_ALL too.
 */
export function nodeBuildOnly(what: string): boolean {
  if (TEST_CLI === undefined) return false;
  process.stderr.write(`SKIPPED ${what}: about the Node build, not the CLI under test (MDEVCTL_TEST_CLI=${TEST_CLI})\n`);
  return true;
}

/**
 * What the CLI under test says where its JavaScript engine has the words: V8's (the Node build)
 * or JavaScriptCore's (the executable, Bun): JSON.parse's syntax errors but input that ends too
 * soon (src/lib/errors.ts, jsonSyntaxMessage; test/exe.test.ts shows both engines).
 */
export function engineWords<T>(v8: T, javascriptCore: T): T {
  return TEST_CLI === undefined ? v8 : javascriptCore;
}

let exeLinks: string | undefined;

/** A directory with bin/mdevctl and bin/lsmdev, links to the executable under test (made once). */
function exeLinkDir(): string {
  if (exeLinks !== undefined && fs.existsSync(exeLinks)) return exeLinks;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mdevctl-exe-'));
  fs.mkdirSync(path.join(dir, 'bin'));
  for (const name of ['mdevctl', 'lsmdev']) fs.symlinkSync(fs.realpathSync(TEST_CLI!), path.join(dir, 'bin', name));
  exeLinks = dir;
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * How to start the CLI under test as NAME with ARGS: the file to execute and its arguments. DIR: a
 * copy of the CLI made by cliCopyFor (default: the build itself).
 */
export function cliCommand(args: string[], name: 'mdevctl' | 'lsmdev' = 'mdevctl', dir?: string): [string, string[]] {
  if (TEST_CLI !== undefined) return [path.join(dir ?? exeLinkDir(), 'bin', name), args];
  return [process.execPath, [path.join(dir ?? REPO, 'bin', name), ...args]];
}

/** The same as a shell command line (for scripts the tests write), ARGS not included. */
export function cliShell(name: 'mdevctl' | 'lsmdev' = 'mdevctl'): string {
  const [file, argv] = cliCommand([], name);
  return [file, ...argv].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
}

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
  /**
   * Run as this user and group (65534: nobody), to meet the permission checks root skips. The
   * CLI run is then a copy of the built one in a world-readable temporary directory
   * (cliCopyFor), since that user may not be able to enter the checkout (a clone in a 0700
   * directory such as `mktemp -d` or /root).
   */
  uid?: number;
  gid?: number;
  /** The working directory of the run (default: the test's). */
  cwd?: string;
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
  const name = opts.bin === 'lsmdev' ? 'lsmdev' : 'mdevctl';
  const [file, fileArgs] = cliCommand(argv, name, opts.uid !== undefined ? cliCopyFor() : undefined);
  const r = spawnSync(file, fileArgs, {
    env,
    input: opts.input ?? '',
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 30000,
    maxBuffer: 256 * 1024 * 1024, // big listings (test/native-reader.test.ts)
    ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
    ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid ?? opts.uid } : {}),
  });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Shorthand: run with MDEVCTL_ENV_ROOT=root. */
export function mdevctl(root: string, ...args: string[]): RunResult {
  return run(args, { root });
}

/**
 * The files the built CLI runs from: its launchers and its two bundles (with their code caches and
 * the native reader, dist/fastio.node, when the build made them).
 */
export const CLI_FILES = ['bin/mdevctl', 'bin/lsmdev', 'bin/load-cli.cjs', 'dist/cli.cjs', 'dist/cli.cjs.cache',
  'dist/cli-on-demand.cjs', 'dist/cli-on-demand.cjs.cache', 'dist/fastio.node'];
const OPTIONAL = new Set(['dist/cli.cjs.cache', 'dist/cli-on-demand.cjs.cache', 'dist/fastio.node']);

let cliCopy: string | undefined;

/**
 * A copy of the built CLI (bin/ and the bundle, the same bytes, so the same code runs) in a new
 * temporary directory that every user may read and enter, made once per test file and removed
 * when the process exits. The bundle needs nothing else at run time.
 */
export function cliCopyFor(): string {
  if (cliCopy !== undefined && fs.existsSync(cliCopy)) return cliCopy;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mdevctl-cli-'));
  fs.chmodSync(dir, 0o755);
  // the executable: DIR/bin/mdevctl with its fastio.node when it has one, DIR/bin/lsmdev a link
  const files = TEST_CLI === undefined ? CLI_FILES : [];
  if (TEST_CLI !== undefined) {
    fs.mkdirSync(path.join(dir, 'bin'), { mode: 0o755 });
    fs.chmodSync(path.join(dir, 'bin'), 0o755);
    const real = fs.realpathSync(TEST_CLI);
    fs.copyFileSync(real, path.join(dir, 'bin', 'mdevctl'));
    fs.chmodSync(path.join(dir, 'bin', 'mdevctl'), 0o755);
    const addon = path.join(path.dirname(real), 'fastio.node');
    if (fs.existsSync(addon)) fs.copyFileSync(addon, path.join(dir, 'bin', 'fastio.node'));
    fs.symlinkSync('mdevctl', path.join(dir, 'bin', 'lsmdev'));
  }
  for (const rel of files) {
    const from = path.join(REPO, rel);
    if (!fs.existsSync(from)) {
      if (OPTIONAL.has(rel)) continue; // the build may not have made it
      throw new Error(`${from} is missing: run npm run build first`);
    }
    const to = path.join(dir, rel);
    fs.mkdirSync(path.dirname(to), { recursive: true, mode: 0o755 });
    fs.chmodSync(path.dirname(to), 0o755);
    fs.copyFileSync(from, to);
    fs.chmodSync(to, rel.startsWith('bin/') || rel.endsWith('.node') ? 0o755 : 0o644);
  }
  cliCopy = dir;
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A copy of the built CLI under PKG with ADDON as its dist/fastio.node (none when null): how the
 * tests make a package whose native reader is broken or missing. Returns its bin/mdevctl.
 */
export function copyCliWithAddon(pkg: string, addon: Buffer | string | null): string {
  for (const rel of CLI_FILES.filter((f) => f !== 'dist/fastio.node')) {
    if (!fs.existsSync(path.join(REPO, rel))) continue;
    fs.mkdirSync(path.dirname(path.join(pkg, rel)), { recursive: true });
    fs.copyFileSync(path.join(REPO, rel), path.join(pkg, rel));
  }
  if (addon !== null) fs.writeFileSync(path.join(pkg, 'dist', 'fastio.node'), addon);
  return path.join(pkg, 'bin', 'mdevctl');
}
