/**
 * The Debian packages (`npm run deb`, scripts/build-deb.mjs), installed for real: built from the
 * dist/ that `npm test` has just made, checked by lintian, then installed with apt and dpkg into a
 * throwaway Debian root (scripts/deb-test-root.sh: debootstrap, cached once per machine and suite,
 * copied per run) that already has Debian's own mdevctl (bookworm: 1.2.0, trixie: 1.4.0) with
 * definitions it made. Every command runs inside that root through chroot, with dpkg's own
 * database and a clean environment (env -i).
 *
 * Three runs: the executable's package (dist/mdevctl, `npm run build:exe`; Depends libc6 and udev)
 * into bookworm and into trixie roots with no nodejs at all; and the Node variant
 * (`npm run deb -- --runtime node`) into bookworm. The executable's runs need dist/mdevctl (the
 * prerequisites rule: skipped on a newcomer's machine without it, a failure under
 * MDEVCTL_TEST_ALL).
 *
 * Node (the Node variant): the package depends on nodejs (>= 20), which bookworm's archive cannot
 * give (18; no nodejs in bookworm-backports). The root gets a "nodejs" package built by
 * deb-test-root.sh that carries the real node binary running this test, installed with dpkg, so the
 * dependency is checked by dpkg as on a host with Debian's or NodeSource's Node 20+. That also
 * makes the code cache the build made (for this Node) the right one for the root's Node, which is
 * checked.
 *
 * Needs root, chroot, unshare, debootstrap (or the cached root), dpkg-deb and lintian (which
 * brings dpkg-dev: dpkg-shlibdeps, for the package with the native reader); .ci/run installs
 * them; where they are missing the file is skipped with one line saying what is missing
 * (test/support/prerequisites.ts), a failure under MDEVCTL_TEST_ALL=1 (.ci/run).
 * With dist/fastio.node (the build had a C compiler) the package is the architecture's and carries
 * it; without, it is `all`: the steps check whichever the build made. The steps share one root and
 * run in order.
 *
 * Time (this 2-core machine, shared, load 7-10): cold, the first run on a machine makes the base
 * root with debootstrap, 50 s to 2.5 min (about 60 MB from the mirror); warm, each run copies it
 * and installs Node into the copy (5-12 s), and the whole file takes about a minute, lintian
 * 10-20 s of it.
 */
import { spawnSync, SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NODE, REPO, run } from './support/cli';
import { prerequisites, skipOrFail } from './support/prerequisites';

const SUITE = 'deb.test.ts';
const HOW = 'run as root after apt-get install lintian debootstrap dpkg-dev, with /usr/sbin on PATH; .ci/run installs them';
// dpkg-shlibdeps (dpkg-dev) for a package that carries the native reader (the build made one)
// and for the executable's (an ELF file too)
const TOOLS = [
  'chroot',
  'unshare',
  'dpkg-deb',
  'lintian',
  ...(['dist/fastio.node', 'dist/mdevctl'].some((f) => fs.existsSync(path.join(REPO, f))) ? ['dpkg-shlibdeps'] : []),
];
const SKIP = prerequisites(SUITE, { root: true, tools: TOOLS }, HOW);
const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
const DEB_VERSION = /^mdevctl-ts \(([^)]+)\)/.exec(fs.readFileSync(path.join(REPO, 'packaging/debian/changelog'), 'utf8'))![1];
const PATH_IN_ROOT = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const U_AUTO = '11111111-2222-4333-8444-555555555555';
const U_MANUAL = '66666666-7777-4888-9999-aaaaaaaaaaaa';
const PARENT = '0000:00:02.0';

/** The native reader the build made, if it made one: the package then carries it. */
const ADDON = path.join(REPO, 'dist/fastio.node');
const NATIVE = fs.existsSync(ADDON);

/** A package variant and the suite of the root it is installed into. */
interface Variant {
  runtime: 'exe' | 'node';
  suite: 'bookworm' | 'trixie';
  /** Debian's own mdevctl in that suite. */
  debian: string;
}
const VARIANTS: Variant[] = [
  { runtime: 'exe', suite: 'bookworm', debian: '1.2.0' },
  { runtime: 'exe', suite: 'trixie', debian: '1.4.0' },
  { runtime: 'node', suite: 'bookworm', debian: '1.2.0' },
];
const EXE = path.join(REPO, 'dist/mdevctl');

interface Ready {
  tmp: string;
  deb: string;
  /** What build-deb.mjs said on stderr. */
  said: string;
  root: string;
}

/** Builds the .deb and a fresh root, or says why it cannot. Runs while the file is collected. */
function prepare(v: Variant): { ready?: Ready; reason?: string } {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mdevctl-deb-'));
  const fail = (reason: string) => {
    fs.rmSync(tmp, { recursive: true, force: true });
    return { reason };
  };
  const b = spawnSync(process.execPath, [path.join(REPO, 'scripts/build-deb.mjs'), '--no-build', '--runtime', v.runtime, '--out', tmp], { encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`build-deb failed (${b.status}): ${b.stderr}`); // a bug, never a skip
  const root = path.join(tmp, 'root');
  const r = spawnSync(path.join(REPO, 'scripts/deb-test-root.sh'), [v.runtime === 'node' ? '--new' : '--new-bare', root, v.suite], {
    encoding: 'utf8',
    timeout: 20 * 60000,
    env: { ...process.env, MDEVCTL_DEB_NODE: NODE },
  });
  if (r.status === 125) return fail(r.stderr.trim().split('\n').pop()!);
  if (r.status !== 0) throw new Error(`deb-test-root.sh --new failed (${r.status ?? r.signal}): ${r.stderr}`);
  return { ready: { tmp, deb: b.stdout.trim(), said: b.stderr, root } };
}

describe.each(VARIANTS)('the $runtime package in $suite', (v) => {
  const exe = v.runtime === 'exe';
  const noExe = !SKIP && exe && prerequisites(`${SUITE} (the executable's package, ${v.suite})`, { files: [EXE] }, 'npm run build:exe');
  const prepared: { ready?: Ready; reason?: string } = SKIP || noExe ? {} : prepare(v);
  // the throwaway root could not be made (no debootstrap, no mirror): a skip, or a failure in CI
  if (!SKIP && !noExe && !prepared.ready) skipOrFail(`${SUITE} (${v.runtime}, ${v.suite})`, `${prepared.reason} (${HOW})`);

  // where the root could not be made, the SKIPPED line above says why: this variant then holds one
  // skipped test (jest wants one), the same conditional form as the other suites' skips
  (prepared.ready ? describe : describe.skip)(`the ${v.runtime} package: built, checked by lintian, installed into a Debian ${v.suite} root`, () => {
    test('a root was made for it', () => expect(prepared.ready?.root).toBeTruthy());
  });
  if (prepared.ready) {
    const { tmp, deb, said, root } = prepared.ready;
    jest.setTimeout(300000); // lintian and dpkg runs on a shared, loaded machine
    const debInRoot = `/tmp/${path.basename(deb)}`;
    afterAll(() => {
      // the /proc mounts lived in the commands' own namespaces; never remove a tree with one in it
      if (fs.readFileSync('/proc/mounts', 'utf8').includes(` ${root}/`)) throw new Error(`${root} has a mount; not removed`);
      fs.rmSync(tmp, { recursive: true, force: true });
    });

    /**
     * Runs CMD inside the root with a clean environment, with /proc mounted there as on a real
     * system (bash's process substitution needs /dev/fd) in a mount namespace of its own, so the
     * mount ends with the command and never shows outside.
     */
    function inRoot(cmd: string[], env: Record<string, string> = {}, input = ''): SpawnSyncReturns<string> {
      const e = Object.entries({ PATH: PATH_IN_ROOT, HOME: '/root', LC_ALL: 'C.UTF-8', ...env }).map(([k, v]) => `${k}=${v}`);
      const enter = 'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"';
      return spawnSync('unshare', ['--mount', '--propagation', 'private', '--fork', '--', 'sh', '-c', enter, root, 'env', '-i', ...e, ...cmd], {
        encoding: 'utf8',
        input,
        timeout: 120000,
      });
    }
    const sh = (script: string, env: Record<string, string> = {}) => inRoot(['sh', '-c', script], env);
    const ok = (r: SpawnSyncReturns<string>) => {
      if (r.status !== 0) throw new Error(`status ${r.status}:\n${r.stdout}\n${r.stderr}`);
      return r.stdout;
    };
    /** "ii VERSION", "rc VERSION", or '' when dpkg has it as not installed or not at all. */
    const status = (p: string) => inRoot(['dpkg-query', '-W', '-f', '${db:Status-Abbrev}${Version}', p]).stdout.trim().replace(/^un$/, '');
    const R = (p: string) => path.join(root, p);
    /** The definitions under /etc/mdevctl.d, relative name -> content. */
    const definitions = () => {
      const out: Record<string, string> = {};
      for (const d of fs.readdirSync(R('etc/mdevctl.d'), { withFileTypes: true })) {
        if (!d.isDirectory() || d.name === 'scripts.d') continue;
        for (const f of fs.readdirSync(R(`etc/mdevctl.d/${d.name}`))) out[`${d.name}/${f}`] = fs.readFileSync(R(`etc/mdevctl.d/${d.name}/${f}`), 'utf8');
      }
      return out;
    };
    /** A stand-in udevadm that records its arguments, found first on the PATH dpkg gives scripts. */
    const udevLog = R('var/log/udevadm-calls');
    beforeAll(() => {
      fs.mkdirSync(R('usr/local/sbin'), { recursive: true });
      fs.writeFileSync(R('usr/local/sbin/udevadm'), '#!/bin/sh\necho "$*" >> /var/log/udevadm-calls\n', { mode: 0o755 });
      fs.copyFileSync(deb, path.join(root, debInRoot));
    });
    const udevCalls = () => (fs.existsSync(udevLog) ? fs.readFileSync(udevLog, 'utf8') : '');

    test('lintian: no error, and no warning that is not overridden with a reason', () => {
      const r = spawnSync('lintian', ['--fail-on', 'error,warning', '--pedantic', deb], { encoding: 'utf8', timeout: 300000 });
      expect(r.stdout.split('\n').filter((l) => /^[EW]: /.test(l))).toEqual([]);
      expect(r.status).toBe(0);
      // every override has its reason written above it
      const overrides = fs.readFileSync(path.join(REPO, 'packaging/debian/lintian-overrides'), 'utf8').split('\n');
      overrides.forEach((l, i) => {
        if (l && !l.startsWith('#')) expect(overrides[i - 1]).toMatch(/^# |^[a-z]/);
      });
      expect(overrides.filter((l) => l && !l.startsWith('#')).length).toBeGreaterThan(0);
    });

    test('control: name, version, Depends (libc6, udev; nodejs for the Node variant), Provides/Conflicts/Replaces mdevctl, admin; the architecture', () => {
      const f = (field: string) => spawnSync('dpkg-deb', ['-f', deb, field], { encoding: 'utf8' }).stdout.trim();
      // with the native reader: this host's architecture, and the libc6 its symbols need; without: all
      const arch = NATIVE || exe ? ok(spawnSync('dpkg', ['--print-architecture'], { encoding: 'utf8' })).trim() : 'all';
      expect(path.basename(deb)).toBe(`mdevctl-ts_${DEB_VERSION}_${arch}.deb`);
      expect(DEB_VERSION.startsWith(`${pkg.version}-`)).toBe(true);
      expect([f('Package'), f('Version'), f('Architecture'), f('Section'), f('Multi-Arch')]).toEqual(['mdevctl-ts', DEB_VERSION, arch, 'admin', 'foreign']);
      if (NATIVE || exe) {
        // the newest GLIBC_x.y version among the symbols the addon and the executable take from libc (objdump -T)
        const elf = [...(NATIVE ? [ADDON] : []), ...(exe ? [EXE] : [])];
        const versions = elf.flatMap((f) =>
          [...ok(spawnSync('objdump', ['-T', f], { encoding: 'utf8', maxBuffer: 64 << 20 })).matchAll(/\bGLIBC_(\d+(?:\.\d+)+)\b/g)].map((m) => m[1]),
        );
        expect(versions.length).toBeGreaterThan(0);
        const num = (v: string) => v.split('.').map(Number);
        const newest = versions.reduce((a, b) => (num(b)[0] > num(a)[0] || (num(b)[0] === num(a)[0] && num(b)[1] > num(a)[1]) ? b : a));
        expect(f('Depends')).toBe(`libc6 (>= ${newest}), ${exe ? '' : 'nodejs (>= 20), '}udev`);
      } else {
        expect(f('Depends')).toBe('nodejs (>= 20), udev');
      }
      expect(f('Provides')).toBe(`mdevctl (= ${pkg.version})`);
      expect(f('Conflicts')).toBe('mdevctl');
      expect(f('Replaces')).toBe('mdevctl');
      // a package without the addon is built on purpose only: the build says so
      expect(said).toBe(
        NATIVE || exe
          ? ''
          : 'build-deb: note: no dist/fastio.node (the build had no C compiler, or MDEVCTL_BUILD_NATIVE=off): ' +
              'building the architecture-independent package; the installed CLI reads with JavaScript alone\n',
      );
    });

    // the Node variant has no executable: the test is the executable's package's only
    if (exe)
      test("the executable's files: the executable as the build made it (0755) and the native reader beside it (0644, stripped)", () => {
        const listing = ok(spawnSync('dpkg-deb', ['-c', deb], { encoding: 'utf8' }));
        const lib = listing
          .split('\n')
          .filter((l) => l.includes(' ./usr/lib/mdevctl-ts/') || l.includes(' ./usr/bin/'))
          .map((l) => `${l.split(/\s+/)[0]} ${l.split(' ./')[1]}`);
        expect(lib.sort()).toEqual(
          [
            'drwxr-xr-x usr/bin/',
            'drwxr-xr-x usr/lib/mdevctl-ts/',
            ...(NATIVE ? ['-rw-r--r-- usr/lib/mdevctl-ts/fastio.node'] : []),
            '-rwxr-xr-x usr/lib/mdevctl-ts/mdevctl',
            'lrwxrwxrwx usr/bin/lsmdev -> ../lib/mdevctl-ts/mdevctl',
            'lrwxrwxrwx usr/bin/mdevctl -> ../lib/mdevctl-ts/mdevctl',
          ].sort(),
        );
        const unpacked = path.join(tmp, 'unpacked');
        ok(spawnSync('dpkg-deb', ['-x', deb, unpacked], { encoding: 'utf8' }));
        expect(fs.readFileSync(path.join(unpacked, 'usr/lib/mdevctl-ts/mdevctl')).equals(fs.readFileSync(EXE))).toBe(true);
      });

    test("copyright: the executable's package names Bun's runtime and what it links (copyright.exe), the Node variant does not", () => {
      const text = ok(spawnSync('sh', ['-c', `dpkg-deb --fsys-tarfile "$0" | tar -xO ./usr/share/doc/mdevctl-ts/copyright`, deb], { encoding: 'utf8' }));
      const paras = text.trimEnd().split('\n\n');
      const heads = paras.map((p) => p.split('\n')[0]);
      const bun = heads.indexOf('Files: usr/lib/mdevctl-ts/mdevctl');
      if (exe) {
        // the header paragraph, the other Files paragraphs, this one, then the standalone licences
        expect(heads[0]).toMatch(/^Format: /);
        expect(bun).toBe(heads.filter((h) => h.startsWith('Files: ')).length);
        expect(heads.slice(bun + 1).every((h) => h.startsWith('License: '))).toBe(true);
        expect(heads).toContain('License: LGPL-2+');
        expect(paras[bun]).toMatch(/^License: Expat and LGPL-2\+$/m);
      } else {
        expect(bun).toBe(-1);
        expect(text).toBe(fs.readFileSync(path.join(REPO, 'packaging/debian/copyright'), 'utf8'));
      }
    });

    // the executable's package has no bundle: the test is the Node variant's only
    if (!exe)
      test("the bundle's files: the CLI's two files, their code caches, and the native reader when the build made one (0644, stripped)", () => {
        const listing = ok(spawnSync('dpkg-deb', ['-c', deb], { encoding: 'utf8' }));
        const inDist = listing
          .split('\n')
          .filter((l) => l.includes(' ./usr/lib/mdevctl-ts/dist/'))
          .map((l) => `${l.split(/\s+/)[0]} ${l.split(' ./')[1]}`);
        expect(inDist.sort()).toEqual(
          [
            'drwxr-xr-x usr/lib/mdevctl-ts/dist/',
            ...['cli.cjs', 'cli-on-demand.cjs'].flatMap((f) => [
              `-rw-r--r-- usr/lib/mdevctl-ts/dist/${f}`,
              ...(fs.existsSync(path.join(REPO, `dist/${f}.cache`)) ? [`-rw-r--r-- usr/lib/mdevctl-ts/dist/${f}.cache`] : []),
            ]),
            ...(NATIVE ? ['-rw-r--r-- usr/lib/mdevctl-ts/dist/fastio.node'] : []),
          ].sort(),
        );
        if (!NATIVE) return;
        // the build's addon, less the sections dh_strip would remove (the compiler's .comment)
        const unpacked = path.join(tmp, 'unpacked');
        ok(spawnSync('dpkg-deb', ['-x', deb, unpacked], { encoding: 'utf8' }));
        const shipped = path.join(unpacked, 'usr/lib/mdevctl-ts/dist/fastio.node');
        const stripped = path.join(tmp, 'fastio.stripped');
        ok(spawnSync('strip', ['--remove-section=.comment', '--remove-section=.note', '-o', stripped, ADDON], { encoding: 'utf8' }));
        expect(fs.readFileSync(shipped).equals(fs.readFileSync(stripped))).toBe(true);
        expect(ok(spawnSync('readelf', ['-S', '-W', shipped], { encoding: 'utf8' }))).not.toMatch(/\.comment|\.symtab/);
      });

    test('the build is reproducible: the same dist/ gives the same .deb, byte for byte', () => {
      const again = path.join(tmp, 'again');
      const b = spawnSync(process.execPath, [path.join(REPO, 'scripts/build-deb.mjs'), '--no-build', '--runtime', v.runtime, '--out', again], {
        encoding: 'utf8',
      });
      expect(b.status).toBe(0);
      expect(fs.readFileSync(path.join(again, path.basename(deb))).equals(fs.readFileSync(deb))).toBe(true);
    });

    test("the root starts with Debian's mdevctl, which stores two definitions; no Node unless the package needs one", () => {
      expect(status('mdevctl')).toMatch(new RegExp(`^ii ${v.debian.replace(/\./g, '\\.')}`));
      expect(sh('command -v node nodejs').stdout).toBe(exe ? '' : '/usr/bin/node\n');
      expect(status('nodejs')).toMatch(exe ? /^$/ : /^ii /);
      expect(status('mdevctl-ts')).toBe('');
      ok(inRoot(['mdevctl', 'define', '-u', U_AUTO, '-p', PARENT, '-t', 'i915-GVTg_V5_4', '--auto']));
      ok(inRoot(['mdevctl', 'define', '-u', U_MANUAL, '-p', PARENT, '-t', 'i915-GVTg_V5_8']));
      expect(Object.keys(definitions()).sort()).toEqual([`${PARENT}/${U_AUTO}`, `${PARENT}/${U_MANUAL}`]);
    });

    let before: Record<string, string> = {};
    test("apt install ./mdevctl-ts_*.deb replaces Debian's mdevctl; its definitions are untouched", () => {
      before = definitions();
      const r = inRoot(['apt-get', 'install', '-y', '--no-install-recommends', debInRoot], { DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' });
      expect(r.stdout).toMatch(/The following packages will be REMOVED:\s+mdevctl\n/);
      expect(r.stdout).toMatch(/The following NEW packages will be installed:\s+mdevctl-ts\n/);
      expect(r.status).toBe(0);
      expect(status('mdevctl-ts')).toBe(`ii ${DEB_VERSION}`);
      expect(status('mdevctl')).toBe(''); // gone, not even config files left (it had none)
      for (const f of ['/usr/bin/mdevctl', '/usr/bin/lsmdev', '/usr/lib/udev/rules.d/60-mdevctl.rules', '/usr/share/bash-completion/completions/mdevctl']) {
        expect(ok(inRoot(['dpkg', '-S', f]))).toBe(`mdevctl-ts: ${f}\n`);
      }
      expect(fs.existsSync(R('lib/udev/rules.d/60-mdevctl.rules')) && fs.realpathSync(R('lib/udev/rules.d/60-mdevctl.rules'))).not.toBe(
        R('lib/udev/rules.d/60-mdevctl.rules'), // 1.2.0's own rule (in /lib) is gone, not shadowing ours
      );
      expect(ok(inRoot(['dpkg', '--audit']))).toBe('');
      expect(definitions()).toEqual(before);
      // no udev in a chroot: the maintainer scripts did not call udevadm
      expect(udevCalls()).toBe('');
      // udev stays needed: apt does not offer to remove it
      const auto = inRoot(['apt-get', '--dry-run', 'autoremove'], { LC_ALL: 'C' });
      expect(auto.status).toBe(0);
      expect(auto.stdout).not.toMatch(/^Remv udev /m);
      expect(status('udev')).toMatch(/^ii /);
    });

    test('mdevctl --version, lsmdev, and list -d of the definitions 1.2.0 made', () => {
      expect(inRoot(['mdevctl', '--version'])).toMatchObject({ status: 0, stdout: `mdevctl ${pkg.version}\n`, stderr: '' });
      if (exe) {
        expect([fs.readlinkSync(R('usr/bin/mdevctl')), fs.readlinkSync(R('usr/bin/lsmdev'))]).toEqual([
          '../lib/mdevctl-ts/mdevctl',
          '../lib/mdevctl-ts/mdevctl',
        ]);
        expect(inRoot(['lsmdev', '--version'])).toMatchObject({ status: 0, stdout: `lsmdev ${pkg.version}\n`, stderr: '' });
      } else {
        expect(fs.readlinkSync(R('usr/bin/mdevctl'))).toBe('../lib/mdevctl-ts/bin/mdevctl');
        expect(fs.readFileSync(R('usr/lib/mdevctl-ts/bin/mdevctl'), 'utf8').split('\n')[0]).toBe('#!/usr/bin/node');
      }
      // no sysfs in the chroot: nothing runs, so lsmdev prints what an empty root gives
      const empty = fs.mkdtempSync(path.join(tmp, 'empty-'));
      expect(inRoot(['lsmdev'])).toMatchObject({ status: 0, stdout: run(['list'], { root: empty }).stdout, stderr: '' });
      const copy = path.join(tmp, 'defs');
      fs.cpSync(R('etc/mdevctl.d'), path.join(copy, 'etc/mdevctl.d'), { recursive: true });
      const expected = run(['list', '-d'], { root: copy }).stdout;
      expect(expected).toContain(`${U_AUTO} ${PARENT} i915-GVTg_V5_4 auto\n`);
      expect(inRoot(['mdevctl', 'list', '-d'])).toMatchObject({ status: 0, stdout: expected, stderr: '' });
      expect(inRoot(['lsmdev', '-d'])).toMatchObject({ status: 0, stdout: expected, stderr: '' });
    });

    test('mdevctl --root on a fixture made in the root prints what the repository build prints', () => {
      ok(inRoot(['mdevctl', 'fixture', 'vfio_ccw', '/usr/share/mdevctl-test/ccw']));
      const host = path.join(tmp, 'ccw');
      expect(run(['fixture', 'vfio_ccw', host]).status).toBe(0);
      for (const args of [['list', '-d'], ['list'], ['types', '--dumpjson'], ['list', '-d', '--dumpjson']]) {
        const mine = run(['--root', host, ...args]);
        expect(mine.stdout).not.toBe('');
        expect(inRoot(['mdevctl', '--root', '/usr/share/mdevctl-test/ccw', ...args])).toMatchObject({ status: 0, stdout: mine.stdout, stderr: '' });
      }
    });

    test('the installed CLI reads with the native reader when the package has it: same output as without', () => {
      const ccw = '/usr/share/mdevctl-test/ccw'; // made by the test above
      const need = { MDEVCTL_NATIVE: 'require' };
      const off = { MDEVCTL_NATIVE: 'off' };
      const cases = [['list'], ['list', '-d'], ['list', '--verbose'], ['types'], ['types', '--dumpjson'], ['list', '-d', '--dumpjson']];
      const addonIn = exe ? 'usr/lib/mdevctl-ts/fastio.node' : 'usr/lib/mdevctl-ts/dist/fastio.node';
      if (NATIVE) {
        expect(fs.statSync(R(addonIn)).mode & 0o7777).toBe(0o644);
        for (const args of cases) {
          const js = inRoot(['mdevctl', '--root', ccw, ...args], off);
          expect(js).toMatchObject({ status: 0, stderr: '' });
          expect(js.stdout).not.toBe('');
          expect(inRoot(['mdevctl', '--root', ccw, ...args], need)).toMatchObject({ status: 0, stdout: js.stdout, stderr: '' });
        }
      }
      // without the addon (the `all` package; or, here, moved aside) `require` is an error: the
      // successes above were the addon's
      const aside = R(`${addonIn}.aside`);
      if (NATIVE) fs.renameSync(R(addonIn), aside);
      try {
        const r = inRoot(['mdevctl', '--root', ccw, 'types'], need);
        expect(r.stdout).toBe('');
        expect(r.stderr).toMatch(new RegExp(`^Error: MDEVCTL_NATIVE=require: unable to load the native reader \\(/${addonIn.replace(/\./g, '\\.')}: .*\\)\n$`));
        expect(r.status).not.toBe(0);
        expect(inRoot(['mdevctl', '--root', ccw, 'types'], off)).toMatchObject({ status: 0, stderr: '' });
      } finally {
        if (NATIVE) fs.renameSync(aside, R(addonIn));
      }
    });

    // the Node variant's only: the executable carries its own compiled code
    if (!exe)
      test.each(['cli.cjs', 'cli-on-demand.cjs'])("the code cache of %s shipped is the build's, accepted by the root's Node", (name) => {
        expect(fs.readFileSync(R(`usr/lib/mdevctl-ts/dist/${name}.cache`))).toEqual(fs.readFileSync(path.join(REPO, `dist/${name}.cache`)));
        const probe = `const l = require('/usr/lib/mdevctl-ts/bin/load-cli.cjs'), fs = require('fs'), js = l.DIST + '/${name}';
      const c = fs.readFileSync(js + '.cache'), nl = c.indexOf(10), src = fs.readFileSync(js, 'utf8');
      console.log(js, c.toString('latin1', 0, nl) === l.cacheHeader(src), l.compile(src, c.subarray(nl + 1), js).cachedDataRejected)`;
        expect(inRoot(['node', '-e', probe])).toMatchObject({ status: 0, stdout: `/usr/lib/mdevctl-ts/dist/${name} true false\n`, stderr: '' });
      });

    test("the udev rule's command is /usr/bin/mdevctl, and run as udev would it starts a parent's auto devices", () => {
      const rule = fs.readFileSync(R('usr/lib/udev/rules.d/60-mdevctl.rules'), 'utf8');
      const runs = [...rule.matchAll(/RUN\+="\/bin\/sh -c '(.*)'"/g)].map((m) => m[1]);
      expect(runs).toHaveLength(2);
      for (const c of runs) expect(c).toMatch(/; \/usr\/bin\/mdevctl start-parent-mdevs %k 2>&1 \| logger -t mdevctl$/);
      expect(ok(inRoot(['readlink', '-e', '/usr/bin/mdevctl']))).toBe(exe ? '/usr/lib/mdevctl-ts/mdevctl\n' : '/usr/lib/mdevctl-ts/bin/mdevctl\n');
      expect(inRoot(['test', '-x', '/usr/bin/mdevctl']).status).toBe(0);
      // on a fixture: an auto device defined on parent 0.0.26ab, then the rule's command for it
      const fx = '/var/tmp/ccw-udev';
      ok(inRoot(['mdevctl', 'fixture', 'vfio_ccw', fx]));
      const uuid = ok(inRoot(['mdevctl', '--root', fx, 'define', '-p', '0.0.26ab', '-t', 'vfio_ccw-io', '--auto'])).trim();
      expect(ok(inRoot(['mdevctl', '--root', fx, 'list']))).not.toContain(uuid);
      const r = inRoot(['/bin/sh', '-c', runs[0].replace('%k', '0.0.26ab')], { MDEVCTL_ENV_ROOT: fx, MDEVCTL_SIMULATE: '1' });
      expect(r).toMatchObject({ status: 0, stdout: '', stderr: '' }); // its output goes to logger
      expect(ok(inRoot(['mdevctl', '--root', fx, 'list']))).toContain(`${uuid} 0.0.26ab vfio_ccw-io auto`);
    });

    test('man -w finds both pages (man-db), gzipped in man8', () => {
      expect(inRoot(['man', '-w', 'mdevctl'])).toMatchObject({ status: 0, stdout: '/usr/share/man/man8/mdevctl.8.gz\n' });
      expect(inRoot(['man', '-w', 'lsmdev'])).toMatchObject({ status: 0, stdout: '/usr/share/man/man8/lsmdev.8.gz\n' });
      expect(ok(sh('zcat /usr/share/man/man8/mdevctl.8.gz'))).toBe(fs.readFileSync(path.join(REPO, 'man/mdevctl.8'), 'utf8'));
    });

    test("bash completion is loaded on demand by bash-completion, for mdevctl and lsmdev, and completes from the system's mdevctl", () => {
      const complete = (line: string) => `
      source /usr/share/bash-completion/bash_completion
      COMP_LINE='${line}'; COMP_POINT=\${#COMP_LINE}
      read -ra COMP_WORDS <<< "$COMP_LINE"; [[ $COMP_LINE == *' ' ]] && COMP_WORDS+=('')
      COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 ))
      complete -p "\${COMP_WORDS[0]}" >/dev/null 2>&1 && { echo 'registered before loading'; exit 3; }
      _completion_loader "\${COMP_WORDS[0]}"
      spec=$(complete -p "\${COMP_WORDS[0]}") || exit 4
      echo "$spec"
      fn=\${spec##*-F }; fn=\${fn%% *}
      "$fn" "\${COMP_WORDS[0]}" "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD-1]}"
      printf '%s\\n' "\${COMPREPLY[@]}"`;
      expect(inRoot(['bash', '--norc', '--noprofile', '-c', complete('mdevctl st')])).toMatchObject({
        status: 0,
        stdout: 'complete -F _mdevctl mdevctl\nstart\nstop\nstart-all\nstatus\n',
        stderr: '',
      });
      // UUIDs come from running the installed mdevctl on the --root of the line
      expect(inRoot(['bash', '--norc', '--noprofile', '-c', complete('lsmdev --root /usr/share/mdevctl-test/ccw -u 3')])).toMatchObject({
        status: 0,
        stdout: 'complete -F _mdevctl lsmdev\n318ee8dd-c4ae-456b-8831-66fa1227c3df\n3a0f4deb-fc2c-4607-88dc-62ffddc3588c\n',
        stderr: '',
      });
      expect(fs.readFileSync(R('usr/share/zsh/vendor-completions/_mdevctl'), 'utf8')).toBe(run(['completion', 'zsh']).stdout);
    });

    test('the script directories and /etc/mdevctl.d are there; systemd units of systemd/ are installed', () => {
      for (const d of ['usr/lib/mdevctl/scripts.d/callouts', 'usr/lib/mdevctl/scripts.d/notifiers', 'etc/mdevctl.d']) {
        expect(fs.statSync(R(d)).isDirectory()).toBe(true);
      }
      expect(fs.readdirSync(R('usr/lib/mdevctl/scripts.d/callouts'))).toEqual([]);
      const units = fs.existsSync(path.join(REPO, 'systemd')) ? fs.readdirSync(path.join(REPO, 'systemd')).filter((f) => f.endsWith('.service')) : [];
      for (const u of units) {
        expect(ok(inRoot(['dpkg', '-S', `/usr/lib/systemd/system/${u}`]))).toBe(`mdevctl-ts: /usr/lib/systemd/system/${u}\n`);
      }
      expect(fs.readFileSync(R('usr/share/doc/mdevctl-ts/copyright'), 'utf8')).toMatch(
        /^Format: https:\/\/www\.debian\.org\/doc\/packaging-manuals\/copyright-format\/1\.0\/\n/,
      );
      expect(ok(sh('zcat /usr/share/doc/mdevctl-ts/changelog.Debian.gz'))).toBe(fs.readFileSync(path.join(REPO, 'packaging/debian/changelog'), 'utf8'));
    });

    test('with udev running, installing and removing make it reload its rules', () => {
      fs.mkdirSync(R('run/udev'), { recursive: true });
      fs.writeFileSync(R('run/udev/control'), ''); // stands in for udevd's socket
      try {
        ok(inRoot(['dpkg', '-i', debInRoot], { LC_ALL: 'C' })); // reinstall
        expect(udevCalls()).toBe('control --reload-rules\n');
        ok(inRoot(['dpkg', '-r', 'mdevctl-ts'], { LC_ALL: 'C' }));
        expect(udevCalls()).toBe('control --reload-rules\ncontrol --reload-rules\n');
      } finally {
        fs.rmSync(R('run/udev'), { recursive: true, force: true });
        fs.rmSync(udevLog, { force: true });
      }
    });

    test('removed: the commands are gone, the definitions stay', () => {
      expect(status('mdevctl-ts')).toMatch(/^rc |^$/);
      for (const f of ['usr/bin/mdevctl', 'usr/bin/lsmdev', 'usr/lib/mdevctl-ts', 'usr/lib/udev/rules.d/60-mdevctl.rules'])
        expect(fs.existsSync(R(f))).toBe(false);
      expect(definitions()).toEqual(before);
    });

    test('purged: the definitions and /etc/mdevctl.d still stay; nothing of the package is left', () => {
      // what the CLI may have made at run time: a code cache for another Node, an empty journal dir
      fs.mkdirSync(R('var/cache/mdevctl-ts'), { recursive: true });
      fs.writeFileSync(R('var/cache/mdevctl-ts/cli.cjs.cache'), 'x');
      fs.mkdirSync(R('var/lib/mdevctl'), { recursive: true });
      const r = inRoot(['dpkg', '--purge', 'mdevctl-ts'], { LC_ALL: 'C' });
      expect(r.status).toBe(0);
      expect(status('mdevctl-ts')).toBe('');
      expect(definitions()).toEqual(before);
      expect(fs.existsSync(R('var/cache/mdevctl-ts'))).toBe(false);
      expect(fs.existsSync(R('var/lib/mdevctl'))).toBe(false);
      expect(fs.existsSync(R('usr/share/doc/mdevctl-ts'))).toBe(false);
      expect(ok(inRoot(['dpkg', '--audit']))).toBe('');
    });

    test('a fresh dpkg -i into the root (no mdevctl at all) works, and reads the kept definitions', () => {
      expect(status('mdevctl')).toBe('');
      ok(inRoot(['dpkg', '-i', debInRoot], { LC_ALL: 'C' }));
      expect(status('mdevctl-ts')).toBe(`ii ${DEB_VERSION}`);
      expect(ok(inRoot(['mdevctl', 'list', '-d']))).toContain(`${U_MANUAL} ${PARENT} i915-GVTg_V5_8 manual\n`);
      // an interrupted apply's undo journal is state the next mdevctl needs: purge leaves it
      fs.mkdirSync(R('var/lib/mdevctl'), { recursive: true });
      fs.writeFileSync(R('var/lib/mdevctl/apply.journal'), 'kept');
      ok(inRoot(['dpkg', '--purge', 'mdevctl-ts'], { LC_ALL: 'C' }));
      expect(definitions()).toEqual(before);
      expect(fs.readFileSync(R('var/lib/mdevctl/apply.journal'), 'utf8')).toBe('kept');
      fs.rmSync(R('var/lib/mdevctl'), { recursive: true });
    });

    test("Debian's mdevctl installs again and lists the kept definitions; dpkg -i over it keeps our udev rule (its /lib name is the same file on merged /usr)", () => {
      ok(sh('dpkg -i /root/debian-mdevctl/mdevctl_*.deb'));
      expect(status('mdevctl')).toMatch(new RegExp(`^ii ${v.debian.replace(/\./g, '\\.')}`));
      const theirs = ok(inRoot(['mdevctl', 'list', '-d']));
      expect(theirs).toContain(`${U_MANUAL} ${PARENT} i915-GVTg_V5_8 manual\n`);
      expect(theirs).toContain(`${U_AUTO} ${PARENT} i915-GVTg_V5_4 auto\n`);
      const r = inRoot(['dpkg', '-i', debInRoot], { LC_ALL: 'C' });
      expect(r.stdout).toContain('Removing mdevctl (');
      expect(r.status).toBe(0);
      expect([status('mdevctl'), status('mdevctl-ts')]).toEqual(['', `ii ${DEB_VERSION}`]);
      const rule = fs.readFileSync(R('usr/lib/udev/rules.d/60-mdevctl.rules'), 'utf8');
      expect(rule).toContain('/usr/bin/mdevctl start-parent-mdevs %k');
      expect(ok(inRoot(['dpkg-divert', '--list']))).not.toContain('60-mdevctl.rules'); // the protective diversion is gone
      expect(ok(inRoot(['dpkg', '--verify', 'mdevctl-ts']))).toBe('');
      expect(ok(inRoot(['dpkg', '--audit']))).toBe('');
      expect(definitions()).toEqual(before);
    });
  }
});
