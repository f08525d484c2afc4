/**
 * `list` and `types` against upstream's expected outputs (test/data/upstream), byte for byte.
 * mdevctl 1.4 writes the rendered text or JSON to stdout as it is, and the data files hold
 * exactly that: text is its lines (nothing when empty), JSON ends in `]` or `}`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FakeTree, UPSTREAM_TESTDATA } from './support/tree';
import { mdevctl, run } from './support/cli';

const LIST = path.join(UPSTREAM_TESTDATA, 'list');
const TYPES = path.join(UPSTREAM_TESTDATA, 'types');
const expected = (dir: string, name: string) => fs.readFileSync(path.join(dir, name), 'utf8');

const ACTIVE1 = '976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9';
const ACTIVE2 = '59e8b599-afdd-4766-a59e-415ef4f5a492';
const DEFINED1 = '9f579710-6ffc-4201-987a-4ffa0fb1f3a5';
const DEFINED2 = '4a0a190f-dcf3-4def-9342-c48768f0c940';
const P2 = '0000:00:02.0';
const P3 = '0000:00:03.0';

function listTree(): FakeTree {
  const t = new FakeTree().withStandardDirs();
  t.addParent(P2, { arbitrary_type1: {} }).addParent(P3, { arbitrary_type2: {} });
  t.addActive(ACTIVE1, P2, 'arbitrary_type1').addActive(ACTIVE2, P3, 'arbitrary_type2');
  const dev1 = fs.readFileSync(path.join(LIST, 'device1.json'), 'utf8');
  const dev2 = fs.readFileSync(path.join(LIST, 'device2.json'), 'utf8');
  t.addDefinition(P2, DEFINED1, dev1).addDefinition(P3, DEFINED1, dev1).addDefinition(P2, DEFINED2, dev2);
  return t;
}

describe('list, as upstream testdata/list', () => {
  const tree = listTree();
  const empty = new FakeTree().withStandardDirs();
  afterAll(() => {
    tree.cleanup();
    empty.cleanup();
  });

  const cases: Array<[string, string[], FakeTree?]> = [
    ['active', []],
    ['active-verbose', ['-v']],
    ['active-uuid', ['-u', ACTIVE1]],
    ['active-uuid-verbose', ['-u', ACTIVE1, '-v']],
    ['active-parent', ['-p', P2]],
    ['active-parent-verbose', ['-p', P2, '-v']],
    ['active-uuid-parent', ['-u', ACTIVE1, '-p', P2]],
    ['active-uuid-parent-verbose', ['-u', ACTIVE1, '-p', P2, '-v']],
    ['defined', ['-d']],
    ['defined-verbose', ['-d', '-v']],
    ['defined-uuid', ['-d', '-u', DEFINED1]],
    ['defined-uuid-verbose', ['-d', '-u', DEFINED1, '-v']],
    ['defined-parent', ['-d', '-p', P2]],
    ['defined-parent-verbose', ['-d', '-p', P2, '-v']],
    ['defined-uuid-parent', ['-d', '-u', DEFINED1, '-p', P2]],
    ['defined-uuid-parent-verbose', ['-d', '-u', DEFINED1, '-p', P2, '-v']],
    ['no-match-uuid', ['-d', '-u', '00000000-0000-0000-0000-000000000000']],
    ['no-match-parent', ['-d', '-p', '0000:00:99.0']],
  ];

  test.each(cases)('%s (text and json)', (name, args) => {
    const text = mdevctl(tree.root, 'list', ...args);
    expect(text).toEqual({ status: 0, stdout: expected(LIST, `${name}.text`), stderr: '' });
    const json = mdevctl(tree.root, 'list', '--dumpjson', ...args);
    expect(json).toEqual({ status: 0, stdout: expected(LIST, `${name}.json`), stderr: '' });
  });

  test.each([
    ['active-none', []],
    ['defined-none', ['-d']],
  ])('%s: nothing defined or running', (name, args) => {
    expect(mdevctl(empty.root, 'list', ...args)).toEqual({ status: 0, stdout: expected(LIST, `${name}.text`), stderr: '' });
    expect(mdevctl(empty.root, 'list', '--dumpjson', ...args)).toEqual({
      status: 0,
      stdout: expected(LIST, `${name}.json`),
      stderr: '',
    });
  });

  test('active listing without -u across parents also matches with the no-match filters', () => {
    expect(mdevctl(tree.root, 'list', '-u', '00000000-0000-0000-0000-000000000000').stdout).toBe('');
    expect(mdevctl(tree.root, 'list', '--dumpjson', '-p', 'nope').stdout).toBe('[]');
  });

  test('lsmdev is list', () => {
    for (const args of [[], ['-d'], ['-d', '-v', '--dumpjson'], ['-d', '-u', DEFINED1, '-p', P2, '--dumpjson']]) {
      const a = run(['list', ...args], { root: tree.root });
      const b = run(args, { root: tree.root, bin: 'lsmdev' });
      expect(b).toEqual(a);
    }
  });

  test('--opt=value forms and --root are accepted', () => {
    const a = run(['list', '-d', `--uuid=${DEFINED1}`, `--parent=${P2}`, '--dumpjson'], { root: tree.root, rootFlag: true });
    expect(a.stdout).toBe(expected(LIST, 'defined-uuid-parent.json'));
    const b = run([`--root=${tree.root}`, 'list', '-dv']);
    expect(b.stdout).toBe(expected(LIST, 'defined-verbose.text'));
  });

  test('--root wins over MDEVCTL_ENV_ROOT', () => {
    const r = run(['--root', tree.root, 'list', '-d'], { env: { MDEVCTL_ENV_ROOT: empty.root } });
    expect(r.stdout).toBe(expected(LIST, 'defined.text'));
  });

  test('UUIDs are accepted in upper case, braced, urn and simple form, shown canonical', () => {
    for (const form of [DEFINED1.toUpperCase(), `{${DEFINED1}}`, `urn:uuid:${DEFINED1}`, DEFINED1.replace(/-/g, '')]) {
      const r = mdevctl(tree.root, 'list', '-d', '-p', P2, '-u', form);
      expect(r).toEqual({ status: 0, stdout: expected(LIST, 'defined-uuid-parent.text'), stderr: '' });
    }
  });
});

describe('types, as upstream testdata/types', () => {
  const tree = new FakeTree().withStandardDirs();
  tree.addParent('0.0.26ab', { 'vfio_ccw-io': { available: 4, deviceApi: 'vfio_mdev', name: 'name', description: 'description' } }, 'css0/0.0.26ab');
  tree.addParent(P2, {
    mdev_type1: { available: 5, name: 'name1', description: 'description 1' },
    mdev_type2: { available: 16, name: 'name2' },
    mdev_type3: { available: 1, name: 'name3', description: 'description 3' },
  });
  tree.addParent(P3, {
    'nvidia-36': { available: 16, name: 'GRID M10-0Q' },
    'nvidia-155': { available: 4, name: 'GRID M10-2B' },
  });
  const empty = new FakeTree().withStandardDirs();
  afterAll(() => {
    tree.cleanup();
    empty.cleanup();
  });

  test.each([
    ['full', []],
    ['parent-match-1', ['-p', P2]],
    ['parent-match-2', ['-p', P3]],
    ['parent-match-3', ['-p', '0.0.26ab']],
    ['parent-no-match', ['-p', '0000:00:04.0']],
  ])('%s', (name, args) => {
    expect(mdevctl(tree.root, 'types', ...args)).toEqual({ status: 0, stdout: expected(TYPES, `${name}.text`), stderr: '' });
    expect(mdevctl(tree.root, 'types', '--dumpjson', ...args)).toEqual({
      status: 0,
      stdout: expected(TYPES, `${name}.json`),
      stderr: '',
    });
  });

  test('empty', () => {
    expect(mdevctl(empty.root, 'types')).toEqual({ status: 0, stdout: expected(TYPES, 'empty.text'), stderr: '' });
    expect(mdevctl(empty.root, 'types', '--dumpjson')).toEqual({ status: 0, stdout: expected(TYPES, 'empty.json'), stderr: '' });
  });
});

describe('types: driver text as upstream prints it', () => {
  const tree = new FakeTree().withStandardDirs();
  tree.addParent(P2, { t1: { available: 2, name: 'x', description: 'x' } });
  const typeDir = tree.p('sys/class/mdev_bus', P2, 'mdev_supported_types', 't1');
  // trimmed as Rust's str::trim does (U+0085 is white space there, U+FEFF is not); TAB and LF
  // inside stay; ESC, the other C0 controls, DEL and C1 would reach the terminal
  fs.writeFileSync(path.join(typeDir, 'name'), '  GRID\tA\nline2 \x1b[2J\x7f\x9b1m\rX\u0085\n');
  fs.writeFileSync(path.join(typeDir, 'description'), '\ufeffone\ttwo\nthree\n\nfour\x07\n');
  afterAll(() => tree.cleanup());

  test('text: name as it is, description with each newline as ", "; only what a terminal acts on escaped', () => {
    expect(mdevctl(tree.root, 'types')).toEqual({
      status: 0,
      stdout:
        `${P2}\n  t1\n    Available instances: 2\n    Device API: vfio-pci\n` +
        '    Name: GRID\tA\nline2 \\u001b[2J\\u007f\\u009b1m\\rX\n' +
        '    Description: \ufeffone\ttwo, three, , four\\u0007\n',
      stderr: '',
    });
  });

  test('JSON: the same text, escaped as JSON only (DEL and C1 are not JSON escapes)', () => {
    const r = mdevctl(tree.root, 'types', '--dumpjson');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      {
        [P2]: [
          {
            t1: {
              available_instances: 2,
              device_api: 'vfio-pci',
              name: 'GRID\tA\nline2 \x1b[2J\x7f\x9b1m\rX',
              description: '\ufeffone\ttwo, three, , four\x07',
            },
          },
        ],
      },
    ]);
    expect(r.stdout).toContain('"name": "GRID\\tA\\nline2 \\u001b[2J\x7f\x9b1m\\rX"');
    expect(r.stdout).toContain('"description": "\ufeffone\\ttwo, three, , four\\u0007"');
  });
});
