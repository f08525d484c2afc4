// Builds the Debian package dist/mdevctl-ts_VERSION_ARCH.deb with Debian's own dpkg-deb, from the
// built CLI and the packaging files in packaging/debian/ (see the README there for what goes where
// and why). Two variants (--runtime):
//
//   exe (the default)  the one-file executable dist/mdevctl (`npm run build:exe`: the CLI compiled
//                      with Bun) as /usr/lib/mdevctl-ts/mdevctl, with the native reader beside it;
//                      depends on libc6 (as dpkg-shlibdeps computes it from both) and udev only:
//                      no Node on the host. For the build host's architecture (amd64: Bun's build).
//   node               the Node build (bin/, dist/*.cjs, their code caches) run by the host's
//                      /usr/bin/node; depends on nodejs (>= 20) and udev as well.
//
// Node variant's ARCH: when the build made the native reader dist/fastio.node (a C compiler was there), the
// package carries it beside the bundle and is for this host's architecture (`dpkg
// --print-architecture`), with the libc6 version it needs computed by dpkg-shlibdeps (Debian
// package dpkg-dev); without it, the package is `all` and the CLI reads with JavaScript alone.
//
//   node scripts/build-deb.mjs                  build dist/ first (npm run build, and build:exe for
//                                               the executable), then the .deb
//   node scripts/build-deb.mjs --runtime node   the Node variant
//   node scripts/build-deb.mjs --no-build       package the dist/ that is there (the tests do this)
//   node scripts/build-deb.mjs --node PATH      build dist/ with another Node (e.g. the one the
//                                               target hosts run), so the V8 code cache the build
//                                               makes (dist/cli.cjs.cache) is one that Node accepts
//   node scripts/build-deb.mjs --out DIR        write the .deb into DIR instead of dist/
//
// VERSION is the version at the top of packaging/debian/changelog, which must be package.json's
// version plus a Debian revision (1.4.0-1). Prints the path of the .deb on stdout.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, constants as zlib } from 'node:zlib';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PKG = path.join(REPO, 'packaging', 'debian');
const NAME = 'mdevctl-ts';
const LIB = `usr/lib/${NAME}`; // the bundle, laid out as in the npm package (bin/ beside dist/)
const ADDON = 'fastio.node'; // the native reader (native/fastio.c), when the build made it
/** Units from systemd/ that are installed (the product's own; none enabled by the package). */
const UNIT_SUFFIXES = ['.service', '.socket', '.timer', '.path', '.target'];

function die(msg) {
  process.stderr.write(`build-deb: ${msg}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const o = { build: true, node: process.execPath, out: path.join(REPO, 'dist'), runtime: 'exe' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--no-build') o.build = false;
    else if (a === '--node' && argv[i + 1]) o.node = path.resolve(argv[++i]);
    else if (a === '--out' && argv[i + 1]) o.out = path.resolve(argv[++i]);
    else if (a === '--runtime' && ['exe', 'node'].includes(argv[i + 1])) o.runtime = argv[++i];
    else if (a === '--runtime') die(`--runtime: exe or node, not '${argv[i + 1] ?? ''}'`);
    else if (a === '-h' || a === '--help') {
      process.stdout.write(
        fs
          .readFileSync(fileURLToPath(import.meta.url), 'utf8')
          .split('\nimport ')[0]
          .replace(/^\/\/ ?/gm, ''),
      );
      process.exit(0);
    } else die(`unknown argument '${a}' (see --help)`);
  }
  return o;
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.error) die(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) die(`${cmd} ${args.join(' ')} failed (status ${r.status}): ${(r.stderr || '').trim()}`);
  return r.stdout;
}

/** Version and date of the newest changelog entry; its upstream part must be package.json's. */
function changelogTop(upstream) {
  const text = fs.readFileSync(path.join(PKG, 'changelog'), 'utf8');
  const head = /^mdevctl-ts \(([^)\s]+)\) [a-z-]+; urgency=\w+$/m.exec(text.split('\n')[0]);
  if (!head) die('packaging/debian/changelog: the first line is not "mdevctl-ts (VERSION) DIST; urgency=U"');
  const version = head[1];
  if (!version.startsWith(`${upstream}-`)) {
    die(`packaging/debian/changelog: newest entry is ${version}, package.json says ${upstream} (add an entry ${upstream}-1)`);
  }
  const trailer = /^ -- .+ <.+> {2}(.+)$/m.exec(text);
  const when = trailer && Date.parse(trailer[1]);
  if (!when) die('packaging/debian/changelog: no " -- NAME <EMAIL>  DATE" line after the first entry');
  return { version, epoch: Math.floor(when / 1000), text };
}

/**
 * packaging/debian/copyright, and for the executable's package copyright.exe merged into it (Bun's
 * runtime and what it links): its Files paragraphs after the others, its License paragraphs last.
 */
function copyright(exe) {
  const text = fs.readFileSync(path.join(PKG, 'copyright'), 'utf8').trimEnd();
  if (!exe) return `${text}\n`;
  const paras = (t) => t.trim().split(/\n\n+/);
  const base = paras(text);
  const extra = paras(fs.readFileSync(path.join(PKG, 'copyright.exe'), 'utf8'));
  const isFiles = (p) => p.startsWith('Files: ');
  const lastFiles = base.findLastIndex(isFiles);
  const merged = [...base.slice(0, lastFiles + 1), ...extra.filter(isFiles), ...base.slice(lastFiles + 1), ...extra.filter((p) => !isFiles(p))];
  return `${merged.join('\n\n')}\n`;
}

/** npm packages the CLI bundle carries, each of which packaging/debian/copyright must name. */
async function checkCopyright() {
  const { build } = await import('esbuild');
  const r = await build({
    entryPoints: [path.join(REPO, 'src/cli/main.ts')],
    bundle: true,
    platform: 'node',
    write: false,
    metafile: true,
    logLevel: 'silent',
    outfile: 'cli.cjs',
  });
  const bundled = new Set();
  for (const f of Object.keys(r.metafile.inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f);
    if (m) bundled.add(m[1]);
  }
  const copyright = fs.readFileSync(path.join(PKG, 'copyright'), 'utf8');
  const missing = [...bundled].filter((p) => !copyright.includes(`\nFiles: node_modules/${p}/*\n`)).sort();
  if (missing.length) {
    die(
      `packaging/debian/copyright names no "Files: node_modules/NAME/*" stanza for ${missing.join(', ')}, bundled into the CLI (dist/cli.cjs, dist/cli-on-demand.cjs)`,
    );
  }
}

class Stage {
  constructor(dir) {
    this.dir = dir;
  }
  p(rel) {
    return path.join(this.dir, rel);
  }
  mkdir(rel) {
    fs.mkdirSync(this.p(rel), { recursive: true, mode: 0o755 });
  }
  write(rel, content, mode = 0o644) {
    this.mkdir(path.dirname(rel));
    fs.writeFileSync(this.p(rel), content);
    fs.chmodSync(this.p(rel), mode);
  }
  copy(from, rel, mode = 0o644) {
    this.write(rel, fs.readFileSync(from), mode);
  }
  link(target, rel) {
    this.mkdir(path.dirname(rel));
    fs.symlinkSync(target, this.p(rel));
  }
}

const gz = (buf) => {
  // gzip -9n: no name or time in the header, so the same input gives the same bytes
  const out = gzipSync(buf, { level: zlib.Z_BEST_COMPRESSION });
  out[4] = out[5] = out[6] = out[7] = 0;
  out[9] = 3; // OS = Unix, as gzip(1) writes it
  return out;
};

/** The shipped launchers run /usr/bin/node (Debian's nodejs), not whatever `env` finds first. */
function launcher(file) {
  const text = fs.readFileSync(file, 'utf8');
  if (!text.startsWith('#!/usr/bin/env node\n')) die(`${file}: expected a "#!/usr/bin/env node" first line`);
  return `#!/usr/bin/node\n${text.slice(text.indexOf('\n') + 1)}`;
}

/** The udev rule with its command pointing at /usr/bin/mdevctl. */
function udevRule() {
  const text = fs.readFileSync(path.join(REPO, 'udev/60-mdevctl.rules'), 'utf8');
  const re = /(?<=[; '])mdevctl start-parent-mdevs /g;
  const n = (text.match(re) || []).length;
  if (n === 0) die('udev/60-mdevctl.rules: no "mdevctl start-parent-mdevs" command to point at /usr/bin/mdevctl');
  return text.replace(re, '/usr/bin/mdevctl start-parent-mdevs ');
}

function maintainerScript(name, units) {
  let text = fs.readFileSync(path.join(PKG, name), 'utf8');
  const reload = units.length ? 'if [ -d /run/systemd/system ]; then\n      systemctl --system daemon-reload >/dev/null || true\n    fi' : '';
  text = text.replace(/^( *)#SYSTEMD#\n/m, (_m, indent) => (reload ? `${indent}${reload}\n` : ''));
  return text;
}

/**
 * What the staged binary FILE (under debian/NAME/ in TMP) needs of its shared libraries, as
 * dpkg-shlibdeps computes it from the symbols it uses and the host's symbols files:
 * "libc6 (>= 2.34)".
 */
function shlibsDepends(tmp, files) {
  fs.writeFileSync(path.join(tmp, 'debian/control'), `Source: ${NAME}\n\nPackage: ${NAME}\nArchitecture: any\n`);
  const out = run('dpkg-shlibdeps', ['-O', ...files.map((file) => `-edebian/${NAME}/${file}`)], { cwd: tmp });
  const m = /^shlibs:Depends=(.+)$/m.exec(out);
  if (!m) die(`dpkg-shlibdeps gave no shlibs:Depends for ${files.join(', ')}: ${out.trim()}`);
  return m[1];
}

function walk(dir, rel = '') {
  const out = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    out.push({ rel: r, kind: e.isSymbolicLink() ? 'link' : e.isDirectory() ? 'dir' : 'file' });
    if (e.isDirectory() && !e.isSymbolicLink()) out.push(...walk(dir, r));
  }
  return out;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const pkgJson = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
  const { version, epoch, text: changelog } = changelogTop(pkgJson.version);
  const has = (tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
  if (!has('dpkg-deb')) die('dpkg-deb not found (Debian package dpkg)');
  await checkCopyright();
  const exe = o.runtime === 'exe';
  if (o.build) run(o.node, [path.join(REPO, 'scripts/build.mjs')], { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'] });
  if (o.build && exe) run(o.node, [path.join(REPO, 'scripts/build-exe.mjs')], { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'] });
  const dist = path.join(REPO, 'dist');
  if (exe && !fs.existsSync(path.join(dist, 'mdevctl'))) die('dist/mdevctl missing: run `npm run build:exe` first (or drop --no-build), or --runtime node');
  for (const f of ['cli.cjs', 'cli-on-demand.cjs']) {
    if (!fs.existsSync(path.join(dist, f))) die(`dist/${f} missing: run \`npm run build\` first (or drop --no-build)`);
  }
  const addon = path.join(dist, ADDON);
  const native = fs.existsSync(addon);
  if (native && !(has('dpkg-shlibdeps') && has('strip'))) {
    die(
      `dpkg-shlibdeps or strip not found (Debian package dpkg-dev, which brings binutils): packaging dist/${ADDON} needs them ` +
        '(the libc6 version it depends on; the sections dh_strip removes); install dpkg-dev, or build without the native reader ' +
        '(MDEVCTL_BUILD_NATIVE=off npm run deb)',
    );
  }
  if (!native && !exe) {
    process.stderr.write(
      `build-deb: note: no dist/${ADDON} (the build had no C compiler, or MDEVCTL_BUILD_NATIVE=off): ` +
        'building the architecture-independent package; the installed CLI reads with JavaScript alone\n',
    );
  }
  if (exe && !has('dpkg-shlibdeps')) die("dpkg-shlibdeps not found (Debian package dpkg-dev): the executable's libc6 dependency needs it");
  const arch = native || exe ? run('dpkg', ['--print-architecture']).trim() : 'all';
  if (exe && arch !== 'amd64') die(`the executable is Bun's linux-x64 build, for amd64 hosts, not ${arch}: use --runtime node`);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mdevctl-deb-'));
  try {
    // laid out as debhelper does (debian/control, debian/PACKAGE/), where dpkg-shlibdeps looks
    const s = new Stage(path.join(tmp, 'debian', NAME));
    /** The files dpkg-shlibdeps reads for the libc6 version. */
    const elf = [];
    if (exe) {
      // the executable, and the native reader beside it (src/cli/exe.ts); never stripped: Bun's
      // executable carries the compiled CLI after its ELF sections
      s.copy(path.join(dist, 'mdevctl'), `${LIB}/mdevctl`, 0o755);
      elf.push(`${LIB}/mdevctl`);
      for (const b of ['mdevctl', 'lsmdev']) s.link(`../lib/${NAME}/mdevctl`, `usr/bin/${b}`);
    } else {
      // the bundle: the launchers, the loader, the CLI's two files and whatever the build left beside
      // them (their V8 code caches dist/cli.cjs.cache and dist/cli-on-demand.cjs.cache, when the
      // build made them)
      for (const b of ['mdevctl', 'lsmdev']) {
        s.write(`${LIB}/bin/${b}`, launcher(path.join(REPO, 'bin', b)), 0o755);
        s.link(`../lib/${NAME}/bin/${b}`, `usr/bin/${b}`);
      }
      s.copy(path.join(REPO, 'bin/load-cli.cjs'), `${LIB}/bin/load-cli.cjs`);
      for (const f of fs
        .readdirSync(dist)
        .filter((f) => /^cli(-on-demand)?\.cjs(\.cache)?$/.test(f))
        .sort()) {
        s.copy(path.join(dist, f), `${LIB}/dist/${f}`);
      }
    }
    // the native reader, where src/lib/util/native.ts looks: beside the executable, or beside the
    // bundle; a plugin loaded with dlopen, so not executable. The build strips its symbols; the
    // compiler's .comment and .note sections go here, as dh_strip does for Debian's shared libraries.
    if (native) {
      const at = exe ? `${LIB}/${ADDON}` : `${LIB}/dist/${ADDON}`;
      s.copy(addon, at);
      run('strip', ['--remove-section=.comment', '--remove-section=.note', s.p(at)]);
      elf.push(at);
    }
    s.write('usr/lib/udev/rules.d/60-mdevctl.rules', udevRule());
    for (const page of fs
      .readdirSync(path.join(REPO, 'man'))
      .filter((f) => /\.8$/.test(f))
      .sort()) {
      s.write(`usr/share/man/man8/${page}.gz`, gz(fs.readFileSync(path.join(REPO, 'man', page))));
    }
    const cli = (shell) =>
      exe
        ? run(path.join(dist, 'mdevctl'), ['completion', shell], { cwd: REPO })
        : run(o.node, [path.join(REPO, 'bin/mdevctl'), 'completion', shell], { cwd: REPO });
    s.write('usr/share/bash-completion/completions/mdevctl', cli('bash'));
    s.link('mdevctl', 'usr/share/bash-completion/completions/lsmdev'); // bash-completion looks by command name
    s.write('usr/share/zsh/vendor-completions/_mdevctl', cli('zsh'));
    for (const d of ['usr/lib/mdevctl/scripts.d/callouts', 'usr/lib/mdevctl/scripts.d/notifiers', 'etc/mdevctl.d']) s.mkdir(d);
    const unitDir = path.join(REPO, 'systemd');
    const units = fs.existsSync(unitDir)
      ? fs
          .readdirSync(unitDir)
          .filter((f) => UNIT_SUFFIXES.some((x) => f.endsWith(x)))
          .sort()
      : [];
    for (const u of units) s.copy(path.join(unitDir, u), `usr/lib/systemd/system/${u}`);
    s.write(`usr/share/doc/${NAME}/copyright`, copyright(exe));
    s.write(`usr/share/doc/${NAME}/changelog.Debian.gz`, gz(Buffer.from(changelog)));
    // the executable's own overrides (lintian-overrides.exe) after the common ones
    const overrides = [
      fs.readFileSync(path.join(PKG, 'lintian-overrides'), 'utf8'),
      ...(exe ? [fs.readFileSync(path.join(PKG, 'lintian-overrides.exe'), 'utf8')] : []),
    ];
    s.write(`usr/share/lintian/overrides/${NAME}`, overrides.join(''));

    // control area
    const entries = walk(s.dir);
    const installedSize = entries.reduce((n, e) => n + (e.kind === 'file' ? Math.ceil(fs.statSync(s.p(e.rel)).size / 1024) : 1), 0);
    const control = fs
      .readFileSync(path.join(PKG, 'control'), 'utf8')
      .replace('@VERSION@', version)
      .replace('@UPSTREAM_VERSION@', pkgJson.version)
      .replace('@INSTALLED_SIZE@', String(installedSize))
      .replace('@ARCHITECTURE@', arch)
      .replace('@DEPENDS@', [...(elf.length ? [shlibsDepends(tmp, elf)] : []), ...(exe ? [] : ['nodejs (>= 20)']), 'udev'].join(', '))
      .replace(/^@RUNTIME@\n/m, fs.readFileSync(path.join(PKG, exe ? 'description.exe' : 'description.node'), 'utf8'));
    const md5sums = entries
      .filter((e) => e.kind === 'file')
      .map(
        (e) =>
          `${createHash('md5')
            .update(fs.readFileSync(s.p(e.rel)))
            .digest('hex')}  ${e.rel}\n`,
      )
      .join('');
    s.write('DEBIAN/control', control);
    s.write('DEBIAN/md5sums', md5sums);
    for (const m of ['preinst', 'postinst', 'postrm']) s.write(`DEBIAN/${m}`, maintainerScript(m, units), 0o755);

    for (const e of walk(s.dir)) if (e.kind === 'dir') fs.chmodSync(s.p(e.rel), 0o755); // whatever the umask
    // every time stamp is the changelog's, so a rebuild of the same tree gives the same .deb
    for (const e of walk(s.dir).reverse()) fs.lutimesSync(s.p(e.rel), epoch, epoch);
    fs.lutimesSync(s.dir, epoch, epoch);

    fs.mkdirSync(o.out, { recursive: true });
    const deb = path.join(o.out, `${NAME}_${version}_${arch}.deb`);
    // xz at level 1 for the executable: 112 MB at the default level 6 takes minutes of CPU for a
    // few MB less (44 MB at level 1); the Node variant is small
    run('dpkg-deb', ['--root-owner-group', '-Zxz', ...(exe ? ['-z1'] : []), '--build', s.dir, deb], {
      env: { ...process.env, SOURCE_DATE_EPOCH: String(epoch) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    process.stdout.write(`${deb}\n`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
