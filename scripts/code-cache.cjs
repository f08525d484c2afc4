#!/usr/bin/env node
'use strict';
// Makes dist/NAME.cache for each file NAME of the CLI (cli.cjs, cli-on-demand.cjs): V8's code
// cache, for the Node that runs this script (the build runs it with its own Node). A package built
// with one Node but meant to run on another (a Debian package for the distribution's nodejs) gets
// its caches made by that one:
//
//   /usr/bin/node scripts/code-cache.cjs [PACKAGE_DIR]
//
// PACKAGE_DIR (default: this checkout) holds bin/load-cli.cjs and dist/, e.g. the staged package
// directory; each cache is written beside its file. The listing commands are run once on a tiny
// tree (so the functions they use are compiled too and land in the caches) and the program's help
// once (which loads every verb), then each file's cache is written with a first line naming the
// build and the Node (bin/load-cli.cjs uses it only for both). Exit status 0 when written, 1
// (reason on stderr) when not; the CLI works without them either way.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const pkg = path.resolve(process.argv[2] ?? path.join(__dirname, '..'));
const { createLoader, cacheBytes, DIST } = require(path.join(pkg, 'bin', 'load-cli.cjs'));
const U = '0b6a8f3e-7d2c-4f1a-9e5b-3c4d5e6f7a8b';

/** A tiny tree: one parent, one type, one running and defined device. */
function tinyTree(root) {
  const w = (f, t) => {
    fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), t);
  };
  const l = (f, t) => {
    fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    fs.symlinkSync(t, path.join(root, f));
  };
  for (const [f, t] of [
    ['available_instances', '1\n'],
    ['device_api', 'vfio-pci\n'],
    ['name', 'n\n'],
    ['description', 'd\n'],
  ]) {
    w(`sys/devices/p/mdev_supported_types/t/${f}`, t);
  }
  fs.mkdirSync(path.join(root, 'sys/devices/p/mdev_supported_types/t/devices'));
  l('sys/class/mdev_bus/p', '../../devices/p');
  l(`sys/devices/p/${U}/mdev_type`, '../mdev_supported_types/t');
  l(`sys/devices/p/mdev_supported_types/t/devices/${U}`, `../../../${U}`);
  l(`sys/bus/mdev/devices/${U}`, `../../../devices/p/${U}`);
  w(`etc/mdevctl.d/p/${U}`, JSON.stringify({ mdev_type: 't', start: 'auto', attrs: [{ a: 'b' }] }, null, 2));
}

function main() {
  for (const f of fs.readdirSync(DIST)) if (/^cli.*\.cjs\.cache$/.test(f)) fs.rmSync(path.join(DIST, f));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mdevctl-cache-'));
  try {
    tinyTree(root);
    const loader = createLoader({ caches: false });
    const cli = loader.load('cli.cjs');
    for (const args of [
      ['list'],
      ['list', '-d'],
      ['list', '-d', '--dumpjson'],
      ['list', '--dumpjson'],
      ['types'],
      ['types', '--dumpjson'],
      ['list', '-d', '-v'],
      ['--version'],
      ['--help'],
    ]) {
      cli.main(['--root', root, ...args], 'mdevctl');
      if (process.exitCode) throw new Error(`mdevctl ${args.join(' ')} failed while making the cache`);
    }
    for (const { file, header, script } of loader.loaded.values()) fs.writeFileSync(`${file}.cache`, cacheBytes(script, header));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

if (process.env.MDEVCTL_CODE_CACHE_RUN === '1') {
  try {
    main();
  } catch (e) {
    process.stderr.write(`code-cache: no cache made for node ${process.version}: ${e.message}\n`);
    process.exitCode = 1;
  }
} else {
  // the commands print (straight to fd 1): run them in a child whose stdout goes nowhere
  const { spawnSync } = require('node:child_process');
  const r = spawnSync(process.execPath, [__filename, pkg], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, MDEVCTL_CODE_CACHE_RUN: '1', NODE_OPTIONS: '' },
  });
  if (r.status === 0) process.stdout.write(`code-cache: ${DIST}/cli*.cjs.cache made for node ${process.version}\n`);
  process.exitCode = r.status ?? 1;
}
