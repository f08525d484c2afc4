/**
 * Runs the real, built CLI (bin/mdevctl, bin/lsmdev) as a separate process on a root directory,
 * capturing stdout, stderr and the exit status. Tests assert on exactly what a user sees.
 *
 * The CLI under test: the Node build (bin/mdevctl under the Node running the tests, or under
 * MDEVCTL_TEST_NODE=/path/to/node), or, with MDEVCTL_TEST_CLI=/path/to/executable, that executable
 * (the one-file build, `npm run build:exe`: dist/mdevctl), run directly, and as lsmdev through a
 * link of that name; with both set, the executable (it needs no Node). Every test that runs the
 * CLI starts it through cliCommand (or cliShellCommand, in scripts), so one variable moves them all.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { jsonSyntaxMessage } from '../../src/lib/util/errors';

export const REPO = path.resolve(__dirname, '..', '..');
export const MDEVCTL = path.join(REPO, 'bin', 'mdevctl');
export const LSMDEV = path.join(REPO, 'bin', 'lsmdev');

/**
 * The Node that runs the CLI (and the library's child processes) in the tests: MDEVCTL_TEST_NODE,
 * the path of a node binary, when set; else the Node running jest. `scripts/test-node.sh N`
 * (run by .ci/run for Node 18 and 24) sets it, with the package built by that Node. Not used to
 * run the CLI when MDEVCTL_TEST_CLI is set too: the executable wins (see TEST_CLI).
 */
export const NODE = process.env.MDEVCTL_TEST_NODE || process.execPath;

/**
 * MDEVCTL_TEST_CLI, absolute; undefined when the Node build is under test. When it is set, the
 * tests run that executable (`npm run build:exe`: dist/mdevctl) as the CLI, whether
 * MDEVCTL_TEST_NODE is set or not: the executable carries its own runtime, so no Node runs it.
 */
export const TEST_CLI = process.env.MDEVCTL_TEST_CLI ? path.resolve(process.env.MDEVCTL_TEST_CLI) : undefined;

let version: string | undefined;

/** NODE's `process.version` (what the CLI's code caches are named after). */
export function testNodeVersion(): string {
  if (version !== undefined) return version;
  if (NODE === process.execPath) return (version = process.version);
  const r = spawnSync(NODE, ['-p', 'process.version'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`MDEVCTL_TEST_NODE=${NODE} does not run: ${r.error?.message ?? r.stderr}`);
  return (version = r.stdout.trim());
}

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

let exeLinks: string | undefined;

/** A directory with bin/mdevctl and bin/lsmdev, links to the executable under test (made once). */
function exeLinkDir(exe: string): string {
  if (exeLinks !== undefined && fs.existsSync(exeLinks)) return exeLinks;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mdevctl-exe-'));
  fs.mkdirSync(path.join(dir, 'bin'));
  for (const name of ['mdevctl', 'lsmdev']) fs.symlinkSync(fs.realpathSync(exe), path.join(dir, 'bin', name));
  exeLinks = dir;
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * How the tests start the CLI: the file to spawn and its arguments, for the launcher BIN (default
 * bin/mdevctl; a copy's elsewhere) run with ARGS, NODE_ARGS (e.g. `--require PRELOAD`) going to
 * Node before it. Every test that starts the CLI goes through here (or cliShellCommand).
 *
 * The CLI under test: with MDEVCTL_TEST_CLI, that executable, run directly (this checkout's
 * bin/mdevctl and bin/lsmdev stand for links of those names to it; a copy made by cliCopyFor is
 * the executable itself), and it wins over MDEVCTL_TEST_NODE; else the Node build's launcher
 * under NODE (MDEVCTL_TEST_NODE or jest's own Node). NODE_ARGS have no meaning for the executable:
 * a test that needs them is about the Node build (nodeBuildOnly, or jest.config.js's list).
 */
export function cliCommand(args: readonly string[], opts: { bin?: string; nodeArgs?: readonly string[] } = {}): [string, string[]] {
  const bin = opts.bin ?? MDEVCTL;
  if (TEST_CLI !== undefined) {
    if (opts.nodeArgs?.length)
      throw new Error(`cliCommand: Node arguments (${opts.nodeArgs.join(' ')}) for the executable under test (MDEVCTL_TEST_CLI=${TEST_CLI})`);
    const own = bin === MDEVCTL || bin === LSMDEV;
    return [own ? path.join(exeLinkDir(TEST_CLI), 'bin', path.basename(bin)) : bin, [...args]];
  }
  return [NODE, [...(opts.nodeArgs ?? []), bin, ...args]];
}

/** The CLI as a shell command's start (quoted for sh), for wrappers and callout scripts: `'NODE' 'BIN'` (or the executable's link). */
export function cliShellCommand(bin: string = MDEVCTL): string {
  const [file, argv] = cliCommand([], { bin });
  return [file, ...argv].map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
}

/**
 * What JSON.parse says of TEXT in the CLI under test, with its newlines shown as `\n` as the CLI
 * shows them: the CLI passes the engine's own words on after `invalid JSON`, and V8 words them
 * differently from one Node line to the next (Node 18: "Unexpected token m in JSON at position 0"),
 * JavaScriptCore otherwise again. Asked of NODE, or of the executable under test acting as its
 * runtime (Bun's BUN_BE_BUN=1), with the one rewording the executable makes (jsonSyntaxMessage:
 * input that ends too soon in V8's words; test/exe.test.ts).
 */
export function jsonParseError(text: string): string {
  const code = 'try { JSON.parse(require("fs").readFileSync(0, "utf8")) } catch (e) { process.stdout.write(e.message) }';
  const r =
    TEST_CLI !== undefined
      ? spawnSync(TEST_CLI, ['-e', code], { input: text, encoding: 'utf8', cwd: os.tmpdir(), env: { ...process.env, BUN_BE_BUN: '1' } })
      : spawnSync(NODE, ['-e', code], { input: text, encoding: 'utf8' });
  if (r.status !== 0 || !r.stdout) throw new Error(`JSON.parse did not fail on ${JSON.stringify(text)}: ${r.stderr}`);
  return jsonSyntaxMessage({ message: r.stdout }).replace(/\n/g, '\\n');
}

/** PATH with NODE's directory first: for what runs the launchers by their `#!/usr/bin/env node`. */
export function pathWithNode(PATH: string | undefined = process.env.PATH): string {
  return PATH ? `${path.dirname(NODE)}:${PATH}` : path.dirname(NODE);
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

/**
 * The variables of the test run's own (the harness, the build and the scripts read them: never
 * the CLI), kept in the environment of a spawned CLI; every other MDEVCTL_* variable is the CLI's.
 */
export const HARNESS_VARS = /^MDEVCTL_(TEST_|REF_|DEB_|KERNEL_|BUILD_|MESSAGES_)/;

/**
 * The environment a spawned CLI starts from: the test's, without any MDEVCTL_* variable the
 * developer's shell may have exported (the README's own example exports MDEVCTL_SIMULATE; a
 * leaked MDEVCTL_ENV_ROOT, MDEVCTL_NATIVE or MDEVCTL_LOCK_TIMEOUT would change what a test
 * sees), then EXTRA on top. Variables set to undefined in EXTRA are left out.
 */
export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('MDEVCTL_') || HARNESS_VARS.test(k)) env[k] = v;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export function run(args: string[], opts: RunOptions = {}): RunResult {
  const env: NodeJS.ProcessEnv = cliEnv(opts.env);
  delete env.MDEVCTL_ENV_ROOT;
  delete env.NO_COLOR;
  if (opts.env?.NO_COLOR !== undefined) env.NO_COLOR = opts.env.NO_COLOR;
  let argv = args;
  if (opts.root !== undefined) {
    if (opts.rootFlag) argv = ['--root', opts.root, ...args];
    else env.MDEVCTL_ENV_ROOT = opts.root;
  }
  const name = opts.bin === 'lsmdev' ? 'lsmdev' : 'mdevctl';
  const bin = opts.uid !== undefined ? path.join(cliCopyFor(), 'bin', name) : name === 'lsmdev' ? LSMDEV : MDEVCTL;
  const [file, cliArgs] = cliCommand(argv, { bin });
  const r = spawnSync(file, cliArgs, {
    env,
    input: opts.input ?? '',
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 30000,
    maxBuffer: 256 * 1024 * 1024, // big listings (test/native-reader.test.ts)
    ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
    ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid ?? opts.uid } : {}),
  });
  // EPIPE: the CLI ended without reading all of its input (types, list...), which it may do; the
  // run itself is whole (its status and output are there)
  const error: NodeJS.ErrnoException | undefined = r.error;
  const epipe = error?.code === 'EPIPE' && (r.status !== null || r.signal !== null);
  if (r.error && !epipe) throw r.error;
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
export const CLI_FILES = [
  'bin/mdevctl',
  'bin/lsmdev',
  'bin/load-cli.cjs',
  'dist/cli.cjs',
  'dist/cli.cjs.cache',
  'dist/cli-on-demand.cjs',
  'dist/cli-on-demand.cjs.cache',
  'dist/fastio.node',
];
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
