/**
 * list and types on damaged or unusual trees: non-UUID names, dangling links, malformed
 * definitions, missing or empty sys/class/mdev_bus. Nothing here is an error for the user:
 * the bad entry is skipped (with a warning naming it where it is a real problem).
 */
import * as fs from 'node:fs';
import { FakeTree } from './support/tree';
import { mdevctl } from './support/cli';

const P = '0000:00:02.0';
const T = 'i915-GVTg_V5_4';
const A = '11111111-0000-4000-8000-00000000000a';
const B = '11111111-0000-4000-8000-00000000000b';
const C = '11111111-0000-4000-8000-00000000000c';
const good = { mdev_type: T, start: 'auto', attrs: [] };

let t: FakeTree;
beforeEach(() => {
  t = new FakeTree().withStandardDirs();
});
afterEach(() => t.cleanup());

test('non-UUID names are skipped everywhere, silently', () => {
  t.addParent(P, { [T]: {} })
    .addActive(A, P, T)
    .addDefinition(P, B, good);
  t.write(`etc/mdevctl.d/${P}/README`, 'not a device');
  t.write(`etc/mdevctl.d/${P}/.${B}.123.tmp`, '{"mdev_t');
  fs.symlinkSync(`../../../devices/pci0000:00/${P}/${A}`, t.p('sys/bus/mdev/devices/not-a-uuid'));
  t.write('etc/mdevctl.d/scripts.d/callouts/README', 'x');
  expect(mdevctl(t.root, 'list')).toEqual({ status: 0, stdout: `${A} ${P} ${T} manual\n`, stderr: '' });
  expect(mdevctl(t.root, 'list', '-d')).toEqual({ status: 0, stdout: `${B} ${P} ${T} auto\n`, stderr: '' });
});

test('a malformed definition is skipped with a warning naming it; the rest is listed', () => {
  t.addDefinition(P, A, good);
  t.addDefinition(P, B, '{"mdev_type": "x", "start": ');
  t.addDefinition(P, C, '{"start": "auto"}');
  t.addDefinition('0000:00:03.0', A, { mdev_type: T, start: 'manual', attrs: [{ a: 1 }] });
  const r = mdevctl(t.root, 'list', '-d');
  expect(r.status).toBe(0);
  expect(r.stdout).toBe(`${A} ${P} ${T} auto\n`);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(3);
  expect(lines[0]).toMatch(new RegExp(`^Warning: Skipping malformed definition ${t.p('etc/mdevctl.d', P, B)}: invalid JSON: `));
  expect(lines[1]).toBe(`Warning: Skipping malformed definition ${t.p('etc/mdevctl.d', P, C)}: invalid json: "mdev_type" and "start" are required`);
  expect(lines[2]).toBe(
    `Warning: Skipping malformed definition ${t.p('etc/mdevctl.d/0000:00:03.0', A)}: invalid JSON format for attribute {"a", 1}: value must be of type str`,
  );
  const j = mdevctl(t.root, 'list', '-d', '--dumpjson');
  expect(j.status).toBe(0);
  expect(JSON.parse(j.stdout)).toEqual([{ [P]: [{ [A]: good }] }]);
});

test('a running device with a malformed definition is listed as defined, manual', () => {
  t.addParent(P, { [T]: {} })
    .addActive(A, P, T)
    .addDefinition(P, A, 'garbage');
  expect(mdevctl(t.root, 'list')).toEqual({ status: 0, stdout: `${A} ${P} ${T} manual (defined)\n`, stderr: '' });
});

test('dangling links: active device and definition', () => {
  t.addParent(P, { [T]: {} }).addActive(A, P, T);
  fs.symlinkSync('../../../devices/pci0000:00/gone/x', t.p('sys/bus/mdev/devices', B));
  fs.mkdirSync(t.p('etc/mdevctl.d', P), { recursive: true });
  fs.symlinkSync('/nonexistent/file', t.p('etc/mdevctl.d', P, C));
  const r = mdevctl(t.root, 'list');
  expect(r.status).toBe(0);
  expect(r.stdout).toBe(`${A} ${P} ${T} manual\n`);
  expect(r.stderr).toBe(`Warning: Skipping ${t.p('sys/bus/mdev/devices', B)}: the link points nowhere\n`);
  const d = mdevctl(t.root, 'list', '-d');
  expect(d).toEqual({ status: 0, stdout: '', stderr: `Warning: Ignoring definition ${t.p('etc/mdevctl.d', P, C)}: the link points nowhere\n` });
});

test('a definition that is a directory is not a definition (a warning names it)', () => {
  fs.mkdirSync(t.p('etc/mdevctl.d', P, A), { recursive: true });
  t.addDefinition(P, B, good);
  expect(mdevctl(t.root, 'list', '-d')).toEqual({
    status: 0,
    stdout: `${B} ${P} ${T} auto\n`,
    stderr: `Warning: Ignoring definition ${t.p('etc/mdevctl.d', P, A)}: not a regular file\n`,
  });
});

test('sys/class/mdev_bus missing or empty: no parents, not an error', () => {
  const bare = new FakeTree();
  try {
    expect(mdevctl(bare.root, 'types')).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(mdevctl(bare.root, 'types', '--dumpjson')).toEqual({ status: 0, stdout: '[]', stderr: '' });
    expect(mdevctl(bare.root, 'list')).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(mdevctl(bare.root, 'list', '-d', '--dumpjson')).toEqual({ status: 0, stdout: '[]', stderr: '' });
  } finally {
    bare.cleanup();
  }
  expect(mdevctl(t.root, 'types')).toEqual({ status: 0, stdout: '', stderr: '' });
});

test('types: optional name/description, multi-line description, odd values', () => {
  t.addParent(P, {
    a_type: { available: 3 },
    b_type: { available: '+7', name: '', description: 'line one\nline two' },
    c_type: { available: 0, name: 'Nice Name', description: 'caf\u00e9 \u2603' },
  });
  expect(mdevctl(t.root, 'types')).toEqual({
    status: 0,
    stdout:
      `${P}\n  a_type\n    Available instances: 3\n    Device API: vfio-pci\n` +
      `  b_type\n    Available instances: 7\n    Device API: vfio-pci\n    Description: line one, line two\n` +
      `  c_type\n    Available instances: 0\n    Device API: vfio-pci\n    Name: Nice Name\n    Description: caf\u00e9 \u2603\n`,
    stderr: '',
  });
  const j = JSON.parse(mdevctl(t.root, 'types', '--dumpjson').stdout);
  expect(j[0][P][1]).toEqual({ b_type: { available_instances: 7, device_api: 'vfio-pci', description: 'line one, line two' } });
});

test('types: available_instances that is not a number names the file', () => {
  t.addParent(P, { bad: { available: 'lots' } });
  const r = mdevctl(t.root, 'types');
  expect(r.status).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr).toBe(
    `Error: Invalid available_instances 'lots' in ${t.p('sys/class/mdev_bus', P, 'mdev_supported_types/bad/available_instances')}: not an integer\n`,
  );
});

test('numeric-looking parent and type names keep byte order in JSON', () => {
  t.addParent('10', { '2': { available: 1 }, '10': { available: 1 } }, 'virtual/10');
  t.addParent('9', { x: { available: 1 } }, 'virtual/9');
  const j = mdevctl(t.root, 'types', '--dumpjson').stdout;
  expect(j.indexOf('"10"')).toBeLessThan(j.indexOf('"9"'));
  expect(j.indexOf('"10": {')).toBeLessThan(j.indexOf('"2": {'));
});

test('undefine removes a definition too damaged to load, saying so, and leaves the others', () => {
  t.addDefinition(P, A, '{"mdev_type": ');
  t.addDefinition('0000:00:03.0', A, good);
  const r = mdevctl(t.root, 'undefine', '-u', A);
  expect(r.status).toBe(0);
  expect(r.stdout).toBe('');
  expect(r.stderr.split('\n')).toEqual([
    expect.stringMatching(new RegExp(`^Warning: Skipping malformed definition ${t.p('etc/mdevctl.d', P, A)}: invalid JSON`)),
    `Warning: Removed the unreadable definition of ${A} on parent ${P} without running callout scripts`,
    '',
  ]);
  expect(t.exists(`etc/mdevctl.d/${P}/${A}`)).toBe(false);
  expect(t.exists(`etc/mdevctl.d/0000:00:03.0/${A}`)).toBe(false);
  t.addDefinition(P, B, 'garbage');
  const only = mdevctl(t.root, 'undefine', '-u', B, '-p', '0000:00:03.0');
  expect(only.status).toBe(1);
  expect(only.stderr).toBe('Error: No devices match the specified uuid\n');
  expect(t.exists(`etc/mdevctl.d/${P}/${B}`)).toBe(true);
});
