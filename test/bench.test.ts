/**
 * The benchmark script (npm run bench) in its quickest mode: tiny trees, one run. Checks that it
 * completes and prints its table, and (when mdevctl 1.2.0 can be had) that both tools printed the
 * same; never any timing.
 */
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { NODE, REPO, testNodeVersion } from './support/cli';
import { prerequisites } from './support/prerequisites';

const LABELS = [
  'list',
  'list -d',
  'list -d --dumpjson',
  'list --dumpjson',
  'types',
  'types --dumpjson',
  'define + undefine',
  'node -e 0',
  '--version',
  'list (empty root)',
];

test.each([[['--quick']], [['--quick', '--reference', 'no']]])('bench %p completes and prints a table', (args) => {
  const r = spawnSync(NODE, [path.join(REPO, 'scripts', 'bench.mjs'), ...args], {
    encoding: 'utf8',
    timeout: 600_000,
  });
  expect(r.stderr).toMatch(/^bench: x1 trees generated in /);
  expect(r.status).toBe(0);
  const lines = r.stdout.split('\n');
  expect(lines[0]).toMatch(
    /^mdevctl-ts bench: ours on node v\d+\.\d+\.\d+ \(.+\), \d+ cores, load [\d. ]+ before, [\d. ]+ after; median of 1 run\(s\) \(start-up rows: 1, in rounds\) after 0 warm-up/,
  );
  expect(lines).toContainEqual(
    expect.stringMatching(/^x1: tree A: 2 parents x 2 types, 6 defined, 2 running; tree B: 2 parents x 3 types, nothing defined \(load after: [\d. ]+\)$/),
  );
  const header = lines.findIndex((l) => l.startsWith('| command '));
  expect(header).toBeGreaterThan(1);
  expect(
    lines[header]
      .split('|')
      .map((c) => c.trim())
      .filter(Boolean),
  ).toEqual(['command', 'tree', 'ours ms', '1.2.0 ms', 'ours/1.2.0', 'ours/node', 'ours MiB', '1.2.0 MiB']);
  const rows = lines.slice(header + 2, header + 2 + LABELS.length).map((l) => l.split('|').map((c) => c.trim()));
  expect(rows.map((c) => c[1])).toEqual(LABELS);
  for (const c of rows) expect(c[3]).toMatch(/^\d+\.\d$/); // our time, a number
  const withReference = lines.some((l) => l.startsWith('reference: mdevctl 1.2.0'));
  if (args.includes('no')) {
    expect(withReference).toBe(false);
    expect(lines).toContain('reference: none (not asked for (--reference no))');
    for (const c of rows) expect([c[4], c[5]]).toEqual(['-', '-']);
  }
  if (withReference) {
    expect(r.stdout).toContain('\noutputs: identical to 1.2.0 for every command\n');
    for (const c of rows.filter((x) => x[1] !== 'node -e 0')) expect(c[5]).toMatch(/^\d+\.\d\d$/); // a ratio
  } else {
    expect(lines).toContainEqual(expect.stringMatching(/^reference: none \(.+\)$/));
  }
});

test('bench --startup-runs N: the start-up rows N times each, the others --runs times; the ratio to node -e 0', () => {
  const r = spawnSync(NODE, [path.join(REPO, 'scripts', 'bench.mjs'), '--quick', '--reference', 'no', '--startup-runs', '3', '--only', '^(--version|types)$'], {
    encoding: 'utf8',
    timeout: 600_000,
  });
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/; median of 1 run\(s\) \(start-up rows: 3, in rounds\) after 0 warm-up, ms per process\n/);
  const rows = r.stdout
    .split('\n')
    .filter((l) => /^\| (types|node -e 0|--version) /.test(l))
    .map((l) => l.split('|').map((c) => c.trim()));
  expect(rows.map((c) => c[1])).toEqual(['types', 'node -e 0', '--version']);
  expect(rows.map((c) => c[6])).toEqual(['-', '1.00', expect.stringMatching(/^\d+\.\d\d$/)]);
  const bad = spawnSync(NODE, [path.join(REPO, 'scripts', 'bench.mjs'), '--startup-runs', '0'], { encoding: 'utf8' });
  expect(bad.status).toBe(2);
  expect(bad.stderr).toMatch(/^bench: --runs and --startup-runs must be at least 1\n/);
});

test('bench refuses unknown arguments with usage, exit 2', () => {
  const r = spawnSync(NODE, [path.join(REPO, 'scripts', 'bench.mjs'), '--frobnicate'], { encoding: 'utf8' });
  expect(r.status).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^bench: unknown argument --frobnicate\n/);
  expect(r.stderr).toContain('npm run bench');
});

test('bench --scale 1,2 --node NODE: a table per size, the ratio at each size and per item', () => {
  const r = spawnSync(NODE, [path.join(REPO, 'scripts', 'bench.mjs'), '--quick', '--scale', '2,1', '--node', NODE, '--only', '^types$'], {
    encoding: 'utf8',
    timeout: 600_000,
  });
  expect(r.status).toBe(0);
  expect(r.stderr).toMatch(/^bench: x1 trees generated in .*\nbench: x2 trees generated in /);
  expect(r.stdout).toContain(`ours on node ${testNodeVersion()} (${NODE})`);
  const lines = r.stdout.split('\n');
  expect(lines).toContainEqual(expect.stringMatching(/^x1: tree A: 2 parents x 2 types, 6 defined, 2 running; tree B: 2 parents x 3 types,/));
  expect(lines).toContainEqual(expect.stringMatching(/^x2: tree A: 4 parents x 2 types, 12 defined, 4 running; tree B: 4 parents x 3 types,/));
  // start-up rows once (they do not depend on the size), the command at each size
  expect(lines.filter((l) => /^\| node -e 0 /.test(l))).toHaveLength(1);
  expect(lines.filter((l) => /^\| types +\| B /.test(l))).toHaveLength(2);
  if (lines.some((l) => l.startsWith('reference: mdevctl 1.2.0'))) {
    const h = lines.findIndex((l) => l.startsWith('| command ') && l.includes('per item'));
    expect(
      lines[h]
        .split('|')
        .map((c) => c.trim())
        .filter(Boolean),
    ).toEqual(['command', 'x1', 'x2', 'per item x1-x2']);
    expect(lines[h + 2]).toMatch(/^\| types +\| +\d+\.\d\d \| +\d+\.\d\d \| +(-?\d+\.\d\d|-) \|$/);
  }
});

test('bench --node refuses a Node it cannot run, exit 2', () => {
  const r = spawnSync(NODE, [path.join(REPO, 'scripts', 'bench.mjs'), '--node', '/nonexistent/node'], { encoding: 'utf8' });
  expect(r.status).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^bench: --node \/nonexistent\/node: cannot run it \(/);
});

// the native reader exists only where the build had a C compiler
const noAddon = prerequisites(
  'bench.test.ts (its native-reader rows)',
  { files: [path.join(REPO, 'dist', 'fastio.node')] },
  'a C compiler for the build to make it: apt-get install gcc libc6-dev, then npm run build',
);
const withAddon = noAddon ? test.skip : test;

withAddon('bench names the native reader it runs with, and --env sets our environment', () => {
  const bench = (...args: string[]) =>
    spawnSync(NODE, [path.join(REPO, 'scripts', 'bench.mjs'), '--quick', '--reference', 'no', '--only', '^types$', ...args], {
      encoding: 'utf8',
      timeout: 600_000,
    });
  const on = bench();
  expect(on.status).toBe(0);
  expect(on.stdout.split('\n')).toContain(`native reader: dist/fastio.node, threads auto (${os.availableParallelism()} CPUs)`);
  const off = bench('--env', 'MDEVCTL_NATIVE=off');
  expect(off.status).toBe(0);
  expect(off.stdout.split('\n')).toContain('native reader: off (MDEVCTL_NATIVE=off); our environment: MDEVCTL_NATIVE=off');
  const one = bench('--env', 'MDEVCTL_NATIVE_THREADS=1');
  expect(one.stdout.split('\n')).toContain('native reader: dist/fastio.node, threads MDEVCTL_NATIVE_THREADS=1; our environment: MDEVCTL_NATIVE_THREADS=1');
  const bad = bench('--env', 'no-equals');
  expect(bad.status).toBe(2);
  expect(bad.stderr).toMatch(/^bench: --env: NAME=VALUE, not no-equals\n/);
});

withAddon('bench --threads-threshold: the native reader per batch size, one thread against more', () => {
  const r = spawnSync(NODE, [path.join(REPO, 'scripts', 'bench.mjs'), '--threads-threshold', '--quick'], {
    encoding: 'utf8',
    timeout: 600_000,
  });
  expect(r.status).toBe(0);
  const lines = r.stdout.split('\n');
  expect(lines[0]).toMatch(
    /^mdevctl-ts bench --threads-threshold: node v\d+\.\d+\.\d+, \d+ cores, load [\d. ]+; one readFilesAt call per sample, median of 5 rounds$/,
  );
  const header = lines.findIndex((l) => l.startsWith('| files '));
  expect(
    lines[header]
      .split('|')
      .map((c) => c.trim())
      .filter(Boolean)
      .slice(0, 2),
  ).toEqual(['files', '1 thread us']);
  const sizes = lines
    .slice(header + 2)
    .filter((l) => l.startsWith('|'))
    .map((l) => Number(l.split('|')[1]));
  expect(sizes).toEqual([64, 128, 256, 512, 1024]);
  for (const l of lines.slice(header + 2).filter((x) => x.startsWith('|'))) {
    expect(
      l
        .split('|')
        .slice(2, -1)
        .every((c) => /^\s*\d+(\.\d\d)?\s*$/.test(c)),
    ).toBe(true);
  }
});

// --side-by-side (issue 21's comparison): the Node build, the executable and upstream's 1.4.0 and
// 1.2.0 on the small host and trees A and B; the full form needs the executable and root (the
// references run under chroot or trixie's loader), the other runs the Node build alone anywhere
const SMALL = ['list', 'list -d', 'list --dumpjson', 'list -d --dumpjson', 'list -d -v', 'types', 'types --dumpjson'];
const SIDE_ROWS = [
  ...SMALL.map((l) => [l, 'small']),
  ...['list', 'list -d', 'list --dumpjson', 'list -d --dumpjson'].map((l) => [l, 'A']),
  ['types', 'B'],
  ['types --dumpjson', 'B'],
];
const noSideBySide = prerequisites(
  'bench.test.ts (--side-by-side with the executable and 1.4.0)',
  { root: true, files: [path.join(REPO, 'dist', 'mdevctl')] },
  'npm run build:exe, then npm test as root (1.4.0 and 1.2.0 are set up by scripts/reference-mdevctl.sh)',
);

function sideBySide(extra: string[]) {
  const r = spawnSync(NODE, [path.join(REPO, 'scripts', 'bench.mjs'), '--side-by-side', '--quick', '--scale', '1', ...extra], {
    encoding: 'utf8',
    timeout: 900_000,
  });
  expect(r.status).toBe(0);
  const lines = r.stdout.split('\n');
  expect(lines[0]).toMatch(
    /^mdevctl-ts bench --side-by-side: node v\d+\.\d+\.\d+ \(.+\), exe .+, \d+ cores, load [\d. ]+ before, [\d. ]+ after; median of 1 run\(s\) after 0 warm-up/,
  );
  expect(lines[1]).toBe(
    'trees: small: 4 parents x 4 types, 8 defined, 2 running; A (x1): 2 parents x 2 types, 6 defined, 2 running; B (x1): 2 parents x 3 types',
  );
  const header = lines.findIndex((l) => l.startsWith('| command '));
  const cols = lines[header]
    .split('|')
    .map((c) => c.trim())
    .filter(Boolean);
  const rows = lines.slice(header + 2, header + 2 + SIDE_ROWS.length).map((l) =>
    l
      .split('|')
      .map((c) => c.trim())
      .slice(1, -1),
  );
  expect(rows.map((c) => [c[0], c[1]])).toEqual(SIDE_ROWS);
  expect(lines[header + 2 + SIDE_ROWS.length]).toBe('');
  return { lines, cols, rows, stdout: r.stdout };
}

test('bench --side-by-side --reference no: the Node build (and the executable when built) on the three trees, outputs compared', () => {
  const { cols, rows, stdout, lines } = sideBySide(['--reference', 'no']);
  const exe = cols.includes('exe ms');
  expect(cols).toEqual(['command', 'tree', 'node ms', ...(exe ? ['exe ms'] : []), 'exe/1.4.0', 'node/1.4.0', 'exe/node', 'target']);
  for (const c of rows) expect(c[2]).toMatch(/^\d+\.\d$/);
  expect(lines).toContain('1.4.0: none (not asked for (--reference no))');
  expect(stdout).not.toContain('\ntargets: ');
  expect(stdout).toContain(`\noutputs: identical for every command (node${exe ? ', exe' : ''})\n`);
});

(noSideBySide ? test.skip : test)(
  'bench --side-by-side: the executable against 1.4.0 and 1.2.0, every output the same, each target met or MISSED (never a timing here)',
  () => {
    const { cols, rows, stdout } = sideBySide([]);
    expect(cols).toEqual(['command', 'tree', 'node ms', 'exe ms', '1.4.0 ms', '1.2.0 ms', 'exe/1.4.0', 'node/1.4.0', 'exe/node', 'target']);
    for (const c of rows) {
      expect(c.slice(2, 6)).toEqual(Array(4).fill(expect.stringMatching(/^\d+\.\d$/)));
      expect(c.slice(6, 9)).toEqual(Array(3).fill(expect.stringMatching(/^\d+\.\d\d$/)));
      expect(c[9]).toMatch(c[1] === 'small' ? /^exe <= 4x 1\.4\.0: (met|MISSED)$/ : /^exe <= 0\.5x 1\.4\.0, <= node: (met|MISSED)$/);
    }
    expect(stdout).toMatch(/\ntargets: \d+ of 13 met\n/);
    expect(stdout).toContain('\noutputs: identical for every command (node, exe, 1.4.0, 1.2.0)\n');
  },
);
