/**
 * Differential-testing harness: runs the real mdevctl 1.2.0 (Debian bookworm's package) against a
 * copy of a fixture root. 1.2.0 has no MDEVCTL_ENV_ROOT, so it runs in a chroot of that copy,
 * with the binary and the libraries ldd lists copied in.
 *
 * The package is fetched and checked once per machine by scripts/reference-mdevctl.sh (--setup)
 * into the cache `MDEVCTL_REF_CACHE` (default /tmp/mdevctl-ref-1.2.0):
 *   pkg/      the extracted package
 *   overlay/  usr/bin/mdevctl + libs + loader, copied into each root
 *   READY     stamp written last
 * Only node: built-ins are used. Everything is synchronous.
 *
 * Facts about 1.2.0 that matter when comparing (see also test/reference-outputs/README.md):
 * - it refuses to run at all (even --version) unless /etc/mdevctl.d and
 *   /etc/mdevctl.d/scripts.d/{callouts,notifiers} exist; makeReferenceRoot creates them;
 * - list/types print one extra "\n" after their output (JSON included; "\n" alone when empty);
 *   1.4 does not (see referenceStdoutAs14).
 */
import { prerequisites } from './prerequisites';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const REFERENCE_VERSION = '1.2.0';

const REPO = path.resolve(__dirname, '..', '..');
const SCRIPT = path.join(REPO, 'scripts', 'reference-mdevctl.sh');
const BIN_IN_ROOT = '/usr/bin/mdevctl';
const REQUIRED_DIRS = ['etc/mdevctl.d/scripts.d/callouts', 'etc/mdevctl.d/scripts.d/notifiers'];
const CHROOT_ENV_BASE: NodeJS.ProcessEnv = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' };

export function referenceCacheDir(): string {
  return process.env.MDEVCTL_REF_CACHE || path.join('/tmp', `mdevctl-ref-${REFERENCE_VERSION}`);
}

function overlayDir(): string {
  return path.join(referenceCacheDir(), 'overlay');
}

function isReady(): boolean {
  const cache = referenceCacheDir();
  return fs.existsSync(path.join(cache, 'READY')) && fs.existsSync(path.join(cache, 'overlay', 'usr', 'bin', 'mdevctl'));
}

export type ReferenceAvailability = { ok: true; dir: string } | { ok: false; reason: string };

let memo: ReferenceAvailability | undefined;

/**
 * Makes sure the extracted 1.2.0 package is in the cache (fetching it with apt-get the first time)
 * and returns its directory (the extracted package root: binary at DIR/usr/bin/mdevctl), or why it
 * cannot be had (not root, no apt-get, no chroot, download failed, wrong version offered, ...).
 */
export function referenceBinary(): ReferenceAvailability {
  if (memo && (!memo.ok || isReady())) return memo;
  memo = obtain();
  return memo;
}

function obtain(): ReferenceAvailability {
  const pkg = path.join(referenceCacheDir(), 'pkg');
  if (isReady()) return { ok: true, dir: pkg };
  if (process.platform !== 'linux') return { ok: false, reason: `not Linux (${process.platform})` };
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return { ok: false, reason: 'not root (chroot and apt-get need root)' };
  }
  if (!fs.existsSync(SCRIPT)) return { ok: false, reason: `missing ${SCRIPT}` };
  const r = spawnSync('bash', [SCRIPT, '--setup'], { encoding: 'utf8', timeout: 600_000 });
  if (r.error) return { ok: false, reason: `cannot run ${SCRIPT}: ${r.error.message}` };
  if (r.status !== 0 || !isReady()) {
    const why = (r.stderr || '').trim().replace(/^reference-mdevctl: /gm, '');
    return { ok: false, reason: why || `setup exited with status ${r.status}` };
  }
  return { ok: true, dir: pkg };
}

/** How a newcomer gets the reference, for the SKIPPED line. */
export const REFERENCE_HOW =
  "run as root with apt-get and chroot on PATH (scripts/reference-mdevctl.sh --setup fetches Debian's package), or set MDEVCTL_REF_DEB to its .deb";

/**
 * For a suite that compares with the real mdevctl: true (after one SKIPPED line naming SUITE and
 * why the binary cannot be had) when it must be skipped; throws under MDEVCTL_TEST_ALL (.ci/run).
 * Fetches the reference the first time (apt-get, once per machine), while the file is collected.
 */
export function referenceSkipped(suite: string): boolean {
  return prerequisites(
    suite,
    {
      checks: [
        () => {
          const a = referenceBinary();
          return a.ok ? null : `the real mdevctl ${REFERENCE_VERSION}, which cannot be had here: ${a.reason}`;
        },
      ],
    },
    REFERENCE_HOW,
  );
}

function requireReference(): void {
  const avail = referenceBinary();
  if (!avail.ok) throw new Error(`mdevctl ${REFERENCE_VERSION} is not available: ${avail.reason}`);
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
}

/** Installs the binary, its libs and the dirs 1.2.0 insists on into an existing root. */
export function installReference(root: string): void {
  requireReference();
  const bin = path.join(root, BIN_IN_ROOT);
  if (!fs.existsSync(bin)) run('cp', ['-a', `${overlayDir()}/.`, `${root}/`]);
  for (const d of REQUIRED_DIRS) fs.mkdirSync(path.join(root, d), { recursive: true });
}

/**
 * Copies a fixture root (symlinks kept as they are, `cp -a`) into a new temp dir, installs
 * mdevctl 1.2.0 into it and returns the new root. The caller removes it when done.
 */
export function makeReferenceRoot(srcRoot: string): string {
  requireReference();
  if (!fs.statSync(srcRoot).isDirectory()) throw new Error(`not a directory: ${srcRoot}`);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mdevctl-ref-root-'));
  run('cp', ['-a', `${path.resolve(srcRoot)}/.`, `${root}/`]);
  installReference(root);
  return root;
}

export interface ReferenceResult {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `mdevctl ARGS` (1.2.0) chrooted in root. When stdin is given it is fed to the process and
 * also stored as the plain file ROOT/dev/stdin for the run (the chroot has no /proc), so that
 * `--jsonfile /dev/stdin` works as libvirt uses it.
 */
export function runReference(root: string, args: string[], stdin?: string): ReferenceResult {
  installReference(root);
  const devDir = path.join(root, 'dev');
  const devStdin = path.join(devDir, 'stdin');
  const madeDev = !fs.existsSync(devDir);
  let fd: number | undefined;
  if (stdin !== undefined) {
    fs.mkdirSync(devDir, { recursive: true });
    fs.writeFileSync(devStdin, stdin);
    // The same file is the process's stdin: no pipe, so no EPIPE when mdevctl does not read it.
    fd = fs.openSync(devStdin, 'r');
  }
  try {
    const env: NodeJS.ProcessEnv = { ...CHROOT_ENV_BASE };
    if (process.env.RUST_LOG) env.RUST_LOG = process.env.RUST_LOG;
    const r = spawnSync('chroot', [root, BIN_IN_ROOT, ...args], {
      encoding: 'utf8',
      env,
      stdio: [fd ?? 'ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    if (r.error) throw r.error;
    const status = r.status ?? 128 + (r.signal ? (os.constants.signals[r.signal] ?? 0) : 0);
    return { status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    if (fd !== undefined) {
      fs.closeSync(fd);
      fs.rmSync(devStdin, { force: true });
      if (madeDev) fs.rmSync(devDir, { recursive: true, force: true });
    }
  }
}

/**
 * 1.2.0's stdout as 1.4 prints it. 1.2.0 ends the output of `list` and `types` with one extra
 * newline (`println!`: an empty listing is "\n", JSON ends "]\n"); 1.4 writes that output as it
 * is (upstream commits e9b8d56 and 56e7fff; its test data has no such newline), and so do we.
 * That one newline, on 1.2.0's side, is the only change made before comparing; every other
 * command's output (define's UUID line, errors) is left alone. ARGS is the command line given to
 * 1.2.0 (the verb first: 1.2.0 has no global options but -h and -V).
 */
export function referenceStdoutAs14(args: readonly string[], status: number, stdout: string): string {
  const listing = args[0] === 'list' || args[0] === 'types';
  const help = args.some((a) => a === '-h' || a === '--help' || a === '-V' || a === '--version');
  if (!listing || help || status !== 0 || !stdout.endsWith('\n')) return stdout;
  return stdout.slice(0, -1);
}

/** runReference, with stdout made what 1.4 prints for the same outcome (referenceStdoutAs14). */
export function runReferenceAs14(root: string, args: string[], stdin?: string): ReferenceResult {
  const r = runReference(root, args, stdin);
  return { ...r, stdout: referenceStdoutAs14(args, r.status, r.stdout) };
}

function overlayPaths(): Set<string> {
  const out = new Set<string>();
  const base = overlayDir();
  if (!fs.existsSync(base)) return out;
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(base, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else out.add(r);
    }
  };
  walk('');
  return out;
}

export interface SnapshotOptions {
  /** Also list empty directories, with the value `<empty dir>`. */
  emptyDirs?: boolean;
}

/**
 * A comparable picture of a tree: relative path (from root, `/`-separated, even when `under` is
 * given) -> file content, or `-> TARGET` for a symlink (not followed). Keys are sorted. Leaves out
 * what makeReferenceRoot installed (binary, libs, loader) and dev/stdin.
 */
export function treeSnapshot(root: string, under?: string, opts: SnapshotOptions = {}): Record<string, string> {
  const skip = overlayPaths();
  skip.add('dev/stdin');
  const found: Array<[string, string]> = [];
  const walk = (rel: string): void => {
    const abs = rel ? path.join(root, rel) : root;
    const entries = fs.readdirSync(abs, { withFileTypes: true });
    if (entries.length === 0 && rel && opts.emptyDirs) found.push([rel, '<empty dir>']);
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (skip.has(r)) continue;
      const p = path.join(root, r);
      if (e.isSymbolicLink()) found.push([r, `-> ${fs.readlinkSync(p)}`]);
      else if (e.isDirectory()) walk(r);
      else if (e.isFile()) found.push([r, fs.readFileSync(p, 'utf8')]);
      else found.push([r, '<special file>']);
    }
  };
  const start = under
    ? under
        .split(/[\\/]+/)
        .filter(Boolean)
        .join('/')
    : '';
  if (start) {
    const st = fs.lstatSync(path.join(root, start), { throwIfNoEntry: false });
    if (!st) return {};
    if (st.isSymbolicLink()) return { [start]: `-> ${fs.readlinkSync(path.join(root, start))}` };
    if (!st.isDirectory()) return { [start]: fs.readFileSync(path.join(root, start), 'utf8') };
  }
  walk(start);
  found.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return Object.fromEntries(found);
}

/**
 * Any reference version through scripts/reference-mdevctl.sh (MDEVCTL_REF_VERSION: 1.2.0, the
 * default, or 1.4.0, Debian trixie's upstream build): the cache is made once per machine by its
 * --setup. Returns why it cannot be had (not root, no apt-get or chroot, download failed, ...).
 */
const scriptMemo = new Map<string, ReferenceAvailability>();
export function referenceVersion(version: '1.2.0' | '1.4.0'): ReferenceAvailability {
  const known = scriptMemo.get(version);
  if (known) return known;
  let a: ReferenceAvailability;
  if (process.platform !== 'linux') a = { ok: false, reason: `not Linux (${process.platform})` };
  else if (process.getuid?.() !== 0) a = { ok: false, reason: 'not root (chroot and apt-get need root)' };
  else {
    const r = spawnSync('bash', [SCRIPT, '--setup'], { encoding: 'utf8', timeout: 600_000, env: { ...process.env, MDEVCTL_REF_VERSION: version } });
    const why = (r.stderr || '').trim().replace(/^reference-mdevctl: /gm, '');
    a = r.status === 0 ? { ok: true, dir: r.stdout.trim() } : { ok: false, reason: why || `setup exited with status ${r.status}` };
  }
  scriptMemo.set(version, a);
  return a;
}

/**
 * Runs `mdevctl ARGS` of reference VERSION chrooted in ROOT (installed into ROOT first: use a
 * copy). STDIN, when given, is what `--jsonfile /dev/stdin` reads.
 */
export function runReferenceVersion(version: '1.2.0' | '1.4.0', root: string, args: string[], stdin?: string): ReferenceResult {
  const r = spawnSync('bash', [SCRIPT, root, ...args], {
    encoding: 'utf8',
    env: { ...process.env, MDEVCTL_REF_VERSION: version },
    input: stdin ?? '',
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  return { status: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}
