/**
 * The npm package as a user gets it: `npm pack`, then `npm install -g --prefix TMP ./pkg.tgz`
 * (offline: the bundles carry every dependency), then the installed commands, man pages, library
 * and type declarations.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { cliCommand, NODE, pathWithNode, REPO, run } from './support/cli';
import { freshFixture, removeFixture } from './support/fixture';

const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mdevctl-pack-'));
const prefix = path.join(tmp, 'prefix');
const installed = path.join(prefix, 'lib', 'node_modules', 'mdevctl-ts');
let tarball = '';
let packedFiles: string[] = [];

function npm(args: string[], cwd: string) {
  const env = { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
  const r = spawnSync('npm', args, { cwd, env, encoding: 'utf8', timeout: 120000 });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Run an installed command with a clean environment: PATH from the prefix, no root set. */
function installedRun(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const e: NodeJS.ProcessEnv = { PATH: `${path.join(prefix, 'bin')}:${pathWithNode('/usr/bin:/bin')}`, HOME: tmp, ...env };
  const r = spawnSync(cmd, args, { env: e, encoding: 'utf8', cwd: tmp });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  // `npm test` has just built dist/; --ignore-scripts keeps `prepare` from rebuilding it under
  // the feet of the other test files running in parallel (the `prepare` test below checks it)
  const out = npm(['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], REPO);
  const info = JSON.parse(out)[0];
  tarball = path.join(tmp, info.filename);
  packedFiles = info.files.map((f: { path: string }) => f.path).sort();
  npm(['install', '-g', '--prefix', prefix, '--offline', '--ignore-scripts', tarball], tmp);
}, 180000);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('the tarball', () => {
  test('holds the bins, both bundles, the declarations and the man pages, and no sources or tests', () => {
    for (const f of [
      'bin/mdevctl',
      'bin/lsmdev',
      'dist/cli.cjs',
      'dist/cli-on-demand.cjs',
      'dist/index.cjs',
      'dist/types/index.d.ts',
      'man/mdevctl.8',
      'man/lsmdev.8',
      'udev/60-mdevctl.rules',
      'systemd/mdevctl-vgpu.service',
      'package.json',
      'README.md',
    ]) {
      expect(packedFiles).toContain(f);
    }
    expect(packedFiles.filter((f) => /^(src|test|scripts|fixtures)\//.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts')))).toEqual([]);
  });

  test("holds neither the one-file executable nor its link (npm run build:exe's, 107 MiB), nor Bun as a dependency", () => {
    // in CI dist/mdevctl is there when this runs (.ci/run builds it first): the pack leaves it out
    expect(pkg.files).toEqual(expect.arrayContaining(['!dist/mdevctl', '!dist/lsmdev']));
    expect(packedFiles.filter((f) => /^dist\/(mdevctl|lsmdev)$|^packaging\//.test(f))).toEqual([]);
    // Bun is the workspace packaging/exe's: npm would install a package's own optional dependencies for its users
    expect(pkg.optionalDependencies).toBeUndefined();
    expect(pkg.workspaces).toEqual(['packaging/exe']);
  });

  test('package.json: bin, man, engines, types, exports, licence; nothing needed at run time', () => {
    expect(pkg.bin).toEqual({ mdevctl: 'bin/mdevctl', lsmdev: 'bin/lsmdev' });
    expect(pkg.man).toEqual(['./man/mdevctl.8', './man/lsmdev.8']);
    expect(pkg.engines).toEqual({ node: '>=18.19' });
    expect(pkg.types).toBe('dist/types/index.d.ts');
    expect(pkg.exports['.'].types).toBe('./dist/types/index.d.ts');
    expect(pkg.license).toBe('MIT');
    expect(pkg.dependencies ?? {}).toEqual({});
    expect(pkg.scripts.prepare).toBe('node scripts/build.mjs');
    // every bare import left in the bundles is a Node built-in, or the CLI's other file
    for (const bundle of ['dist/cli.cjs', 'dist/cli-on-demand.cjs', 'dist/index.cjs']) {
      const text = fs.readFileSync(path.join(REPO, bundle), 'utf8');
      const required = [...text.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
      const other = bundle === 'dist/cli.cjs' ? './cli-on-demand.cjs' : bundle === 'dist/cli-on-demand.cjs' ? './cli.cjs' : null;
      expect(required.filter((m) => m !== other && !m.startsWith('node:') && !builtinModules.includes(m))).toEqual([]);
    }
  });
});

describe('installed with npm install -g --prefix', () => {
  test('mdevctl and lsmdev are on the PATH of the prefix', () => {
    for (const b of ['mdevctl', 'lsmdev']) {
      const link = path.join(prefix, 'bin', b);
      expect(fs.realpathSync(link)).toBe(path.join(installed, 'bin', b));
    }
    expect(fs.existsSync(path.join(installed, 'node_modules'))).toBe(false);
  });

  test('mdevctl --version', () => {
    expect(installedRun('mdevctl', ['--version'])).toEqual({ status: 0, stdout: `mdevctl ${pkg.version}\n`, stderr: '' });
  });

  test('lsmdev -d (on a fixture root, and on a machine without mdevctl config)', () => {
    const root = freshFixture('vfio_ccw');
    try {
      const r = installedRun('lsmdev', ['-d'], { MDEVCTL_ENV_ROOT: root });
      expect(r).toEqual({
        status: 0,
        stdout:
          '3a0f4deb-fc2c-4607-88dc-62ffddc3588c 0.0.0052 vfio_ccw-io manual\n' + '318ee8dd-c4ae-456b-8831-66fa1227c3df 0.0.0313 vfio_ccw-io auto (active)\n',
        stderr: '',
      });
      const empty = fs.mkdtempSync(path.join(tmp, 'emptyroot-'));
      expect(installedRun('lsmdev', ['-d'], { MDEVCTL_ENV_ROOT: empty })).toEqual({ status: 0, stdout: '', stderr: '' });
    } finally {
      removeFixture(root);
    }
  });

  test('mdevctl types --root FIXTURE is what the repository build prints', () => {
    const root = freshFixture('gvt');
    try {
      const r = installedRun('mdevctl', ['types', '--root', root]);
      expect(r.status).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain('0000:00:02.0\n  i915-GVTg_V5_1\n    Available instances: 0\n');
      expect(r.stdout).toBe(run(['types'], { root }).stdout);
    } finally {
      removeFixture(root);
    }
  });

  test('the man pages are installed under share/man/man8 and render', () => {
    for (const page of ['mdevctl.8', 'lsmdev.8']) {
      const file = path.join(prefix, 'share', 'man', 'man8', page);
      expect(fs.readFileSync(file, 'utf8')).toBe(fs.readFileSync(path.join(REPO, 'man', page), 'utf8'));
    }
  });

  test('the library: require() and import() both give the named functions', () => {
    const root = freshFixture('vfio_ap');
    try {
      const cjs = `const m = require('mdevctl-ts'); process.stdout.write(m.listDevicesJson({ root: ${JSON.stringify(root)}, defined: true }))`;
      const r1 = spawnSync(NODE, ['-e', cjs], { cwd: tmp, env: { ...process.env, NODE_PATH: path.dirname(installed) }, encoding: 'utf8' });
      expect(r1.stderr).toBe('');
      expect(r1.stdout).toBe(run(['list', '--dumpjson', '--defined'], { root }).stdout);
      // ESM: named imports from the CommonJS bundle (no NODE_PATH for ESM: import by path)
      const esm = `import { listTypes, startDevice } from ${JSON.stringify(path.join(installed, 'dist', 'index.cjs'))};
        console.log(typeof startDevice, Object.keys(listTypes({ root: ${JSON.stringify(root)} })[0]).join(','))`;
      const r2 = spawnSync(NODE, ['--input-type=module', '-e', esm], { cwd: tmp, encoding: 'utf8' });
      expect(r2.stderr).toBe('');
      expect(r2.stdout).toBe('function matrix\n');
    } finally {
      removeFixture(root);
    }
  });

  test('the declarations type-check a TypeScript user of the package', () => {
    const proj = path.join(tmp, 'consumer');
    fs.mkdirSync(path.join(proj, 'node_modules'), { recursive: true });
    fs.symlinkSync(installed, path.join(proj, 'node_modules', 'mdevctl-ts'));
    fs.writeFileSync(
      path.join(proj, 'use.ts'),
      `import { listDevices, startDevice, stopDevice, DeviceListJson, TypeListJson, listTypes, watchDevices } from 'mdevctl-ts';
const l: DeviceListJson = listDevices({ root: '/tmp/x', defined: true });
const t: TypeListJson = listTypes({ parent: 'matrix' });
const n: number = t[0]['matrix'][0]['vfio_ap-passthrough'].available_instances;
const r = startDevice({ parent: 'matrix', type: 'vfio_ap-passthrough' });
const u: string = r.uuid + r.config.mdev_type + l.length + n;
watchDevices({ onEvent: (e) => { if (e.event === 'started') console.log(e.mdev_type, u); } }).close();
// @ts-expect-error: stopDevice needs a uuid
void (() => stopDevice({}));
`,
    );
    const tsc = require.resolve('typescript/bin/tsc', { paths: [REPO] });
    const r = spawnSync(
      process.execPath,
      [
        tsc,
        '--noEmit',
        '--strict',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--target',
        'es2022',
        '--typeRoots',
        path.join(REPO, 'node_modules', '@types'),
        '--types',
        'node',
        path.join(proj, 'use.ts'),
      ],
      { cwd: proj, encoding: 'utf8' },
    );
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

test('npm pack on a clean checkout builds dist/ through `prepare`', () => {
  const work = path.join(tmp, 'checkout');
  fs.mkdirSync(work);
  for (const f of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md', 'src', 'scripts', 'bin', 'man']) {
    fs.cpSync(path.join(REPO, f), path.join(work, f), { recursive: true });
  }
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(work, 'node_modules'));
  expect(fs.existsSync(path.join(work, 'dist'))).toBe(false);
  const info = JSON.parse(npm(['pack', '--json', '--pack-destination', work], work).replace(/^[^[]*/, ''))[0];
  const files = info.files.map((f: { path: string }) => f.path);
  expect(files).toEqual(
    expect.arrayContaining(['dist/cli.cjs', 'dist/cli-on-demand.cjs', 'dist/index.cjs', 'dist/types/index.d.ts', 'dist/types/lib/api.d.ts']),
  );
  const r = spawnSync(...cliCommand(['--version'], { bin: path.join(work, 'bin', 'mdevctl') }), { encoding: 'utf8' });
  expect(r.stdout).toBe(`mdevctl ${pkg.version}\n`);
}, 120000);
