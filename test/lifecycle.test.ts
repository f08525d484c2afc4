/**
 * define, undefine, modify, start, stop and start-parent-mdevs, run as a user runs them, against
 * upstream's expected definition files (test/data/upstream/{define,modify,start,undefine}) and
 * every error message of REFERENCE §6.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FakeTree, UPSTREAM_TESTDATA } from './support/tree';
import { cliShellCommand, mdevctl, run, RunResult } from './support/cli';
import { freshFixture, removeFixture } from './support/fixture';

const U = '976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9';
const P = '0000:00:03.0';
const P2 = '0000:00:02.0';
const T = 'i915-GVTg_V5_4';
const data = (f: string) => path.join(UPSTREAM_TESTDATA, f);
const readData = (f: string) => fs.readFileSync(data(f), 'utf8');
const UUID_LINE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\n$/;

let trees: FakeTree[] = [];
function tree(): FakeTree {
  const t = new FakeTree().withStandardDirs();
  trees.push(t);
  return t;
}
afterEach(() => {
  for (const t of trees) t.cleanup();
  trees = [];
});

function ok(r: RunResult, stdout = ''): void {
  expect({ status: r.status, stderr: r.stderr, stdout: r.stdout }).toEqual({ status: 0, stderr: '', stdout });
}
function fails(r: RunResult, message: string): void {
  expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 1, stdout: '', stderr: `Error: ${message}\n` });
}
function usage(r: RunResult, fragment: string): void {
  expect(r.status).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toContain(fragment);
  expect(r.stderr).toMatch(/^error: /);
  expect(r.stderr).toMatch(/\n\nFor more information, try '--help'\.\n$/);
}
/** Run and check that nothing under the root changed. */
function unchanged(t: FakeTree, f: () => void): void {
  const before = t.snapshot();
  f();
  expect(t.snapshot()).toEqual(before);
}

describe('define', () => {
  test('no-uuid: prints the generated v4 UUID and stores the definition', () => {
    const t = tree();
    const r = mdevctl(t.root, 'define', '-a', '-p', P, '-t', T);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(UUID_LINE);
    const uuid = r.stdout.trim();
    expect(t.read(`etc/mdevctl.d/${P}/${uuid}`)).toBe(readData('define/no-uuid.expected'));
    expect(fs.readdirSync(t.p('etc/mdevctl.d', P))).toEqual([uuid]);
  });

  test.each([
    ['uuid-auto', ['-u', U, '-a', '-p', P, '-t', T]],
    ['uuid-manual', ['-u', U, '-p', P, '-t', T]],
    ['jsonfile', ['-u', U, '-p', P, '--jsonfile', data('define/defined.json')]],
  ])('%s', (name, args) => {
    const t = tree();
    ok(mdevctl(t.root, 'define', ...args));
    expect(t.read(`etc/mdevctl.d/${P}/${U}`)).toBe(readData(`define/${name}.expected`));
  });

  test('uuid-running-no-type: parent given, type from the running device', () => {
    const t = tree();
    t.addParent(P, { [T]: {} }).addActive(U, P, T);
    ok(mdevctl(t.root, 'define', '-u', U, '-p', P));
    expect(t.read(`etc/mdevctl.d/${P}/${U}`)).toBe(readData('define/uuid-running-no-type.expected'));
  });

  test('uuid-running: parent and type both from the running device', () => {
    const t = tree();
    t.addParent(P, { [T]: {} }).addActive(U, P, T);
    ok(mdevctl(t.root, 'define', '-u', U));
    expect(t.read(`etc/mdevctl.d/${P}/${U}`)).toBe(readData('define/uuid-running-no-type.expected'));
  });

  test('uuid-running-diff-parent: allowed when given explicitly', () => {
    const t = tree();
    t.addParent(P2, { [T]: {} }).addActive(U, P2, T);
    ok(mdevctl(t.root, 'define', '-u', U, '-p', P, '-t', T));
    expect(t.read(`etc/mdevctl.d/${P}/${U}`)).toBe(readData('define/uuid-running-diff-parent.expected'));
  });

  test('uuid-running-diff-type: allowed when given explicitly', () => {
    const t = tree();
    t.addParent(P, { different_type: {} }).addActive(U, P, 'different_type');
    ok(mdevctl(t.root, 'define', '-u', U, '-p', P, '-t', T));
    expect(t.read(`etc/mdevctl.d/${P}/${U}`)).toBe(readData('define/uuid-running-diff-type.expected'));
  });

  test('errors, each leaving the tree as it was', () => {
    const t = tree();
    t.addParent(P, { [T]: {} }).addActive(U, P, T);
    const other = '11111111-2222-4333-8444-555555555555';
    t.addDefinition(P, other, readData('define/defined.json'));
    unchanged(t, () => {
      fails(mdevctl(t.root, 'define', '-a', '-p', P), 'No type specified');
      // running, but a type without a parent is refused (REFERENCE §10)
      fails(mdevctl(t.root, 'define', '-u', U, '-t', T), 'No parent specified');
      fails(mdevctl(t.root, 'define', '-u', other, '-t', T), 'No parent specified');
      fails(mdevctl(t.root, 'define', '-u', other), 'No parent specified');
      fails(mdevctl(t.root, 'define', '-u', other, '-p', P, '-t', T), `Device ${other} on ${P} already defined`);
      fails(
        mdevctl(t.root, 'define', '-u', other, '-p', P, '--jsonfile', data('define/defined.json')),
        `Cowardly refusing to overwrite existing config for ${P}/${other}`,
      );
      fails(
        mdevctl(t.root, 'define', '-u', U, '--jsonfile', data('define/defined.json')),
        `Parent device required to define device via "${data('define/defined.json')}"`,
      );
      const missing = t.p('no-such.json');
      fails(mdevctl(t.root, 'define', '-u', U, '-p', P, '--jsonfile', missing), `Unable to read file "${missing}": No such file or directory (ENOENT)`);
      usage(
        mdevctl(t.root, 'define', '-u', U, '-p', P, '-t', T, '--jsonfile', data('define/defined.json')),
        "error: the argument '--type <type>' cannot be used with '--jsonfile <JSONFILE>'\n\nUsage: mdevctl define --uuid <UUID> --parent <PARENT> --type <type>\n",
      );
      usage(mdevctl(t.root, 'define', '-a', '-t', T), 'required arguments were not provided');
      usage(mdevctl(t.root, 'define', '-u', 'not-a-uuid', '-p', P, '-t', T), "invalid value 'not-a-uuid' for '--uuid <UUID>'");
      usage(mdevctl(t.root, 'define', '-p'), "error: a value is required for '--parent <PARENT>' but none was supplied\n\nFor more");
    });
  });

  test('libvirt: define --parent=P --jsonfile=/dev/stdin [--uuid=U]', () => {
    const t = tree();
    const cfg = '{"mdev_type":"vfio_ap-passthrough","start":"auto","attrs":[{"assign_adapter":"5"},{"assign_domain":"0xab"}]}';
    const r = run(['define', `--parent=matrix`, '--jsonfile=/dev/stdin'], { root: t.root, input: cfg });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(UUID_LINE);
    const uuid = r.stdout.trim();
    expect(JSON.parse(t.read(`etc/mdevctl.d/matrix/${uuid}`))).toEqual(JSON.parse(cfg));
    expect(t.read(`etc/mdevctl.d/matrix/${uuid}`)).toBe(JSON.stringify(JSON.parse(cfg), null, 2));
    ok(
      run(['define', '--parent=matrix', '--jsonfile=/dev/stdin', `--uuid=${U}`], {
        root: t.root,
        input: '{"mdev_type":"vfio_ap-passthrough","start":"manual"}',
      }),
    );
    expect(t.read(`etc/mdevctl.d/matrix/${U}`)).toBe('{\n  "mdev_type": "vfio_ap-passthrough",\n  "start": "manual",\n  "attrs": []\n}');
  });

  test('the configuration directory is created on first write', () => {
    const t = new FakeTree();
    trees.push(t);
    ok(mdevctl(t.root, 'define', '-u', U, '-p', P, '-t', T));
    expect(t.read(`etc/mdevctl.d/${P}/${U}`)).toBe(readData('define/uuid-manual.expected'));
  });
});

describe('undefine', () => {
  const def = () => readData('undefine/defined.json');

  test('single', () => {
    const t = tree();
    t.addDefinition(P, U, def());
    ok(mdevctl(t.root, 'undefine', '-u', U, '-p', P));
    expect(t.exists(`etc/mdevctl.d/${P}/${U}`)).toBe(false);
  });

  test('multiple-parent: only the named parent', () => {
    const t = tree();
    t.addDefinition(P, U, def()).addDefinition(P2, U, def());
    ok(mdevctl(t.root, 'undefine', '-u', U, '-p', P));
    expect(t.exists(`etc/mdevctl.d/${P}/${U}`)).toBe(false);
    expect(t.read(`etc/mdevctl.d/${P2}/${U}`)).toBe(def());
  });

  test('multiple-noparent: all of them', () => {
    const t = tree();
    t.addDefinition(P, U, def()).addDefinition(P2, U, def());
    ok(run(['undefine', `--uuid=${U}`], { root: t.root }));
    expect(t.exists(`etc/mdevctl.d/${P}/${U}`)).toBe(false);
    expect(t.exists(`etc/mdevctl.d/${P2}/${U}`)).toBe(false);
  });

  test('running devices are untouched', () => {
    const t = tree();
    t.addParent(P, { vfio_ap_passthrough: {} }).addActive(U, P, 'vfio_ap-passthrough').addDefinition(P, U, def());
    ok(mdevctl(t.root, 'undefine', '-u', U));
    expect(t.read(`sys/bus/mdev/devices/${U}/remove`)).toBe('');
    expect(mdevctl(t.root, 'list').stdout).toBe(`${U} ${P} vfio_ap-passthrough manual\n`);
  });

  test('nonexistent and usage errors', () => {
    const t = tree();
    t.addDefinition(P2, U, def());
    unchanged(t, () => {
      fails(mdevctl(t.root, 'undefine', '-u', U, '-p', P), 'No devices match the specified uuid');
      fails(mdevctl(t.root, 'undefine', '-u', '11111111-2222-4333-8444-555555555555'), 'No devices match the specified uuid');
      usage(mdevctl(t.root, 'undefine', '-p', P), '--uuid <UUID>');
    });
  });
});

describe('modify', () => {
  const setup = (t: FakeTree) => t.addDefinition(P, U, readData('modify/defined.json'));
  const file = (t: FakeTree, parent = P) => t.read(`etc/mdevctl.d/${parent}/${U}`);

  test.each([
    ['auto', ['--auto']],
    ['manual', ['--manual']],
    ['delattr', ['--delattr', '--index', '2']],
    ['delattr-noindex', ['--delattr']],
    ['addattr', ['--addattr', 'added-attr', '--value', 'added-attr-value', '-i', '3']],
    ['addattr-noindex', ['--addattr=added-attr', '--value=added-attr-value']],
    ['mdev_type', ['-t', 'changed-mdev-type', '--manual']],
    ['jsonfile', ['--jsonfile', data('modify/modified.json')]],
  ])('%s', (name, args) => {
    const t = tree();
    setup(t);
    ok(mdevctl(t.root, 'modify', '-u', U, '-p', P, ...args));
    expect(file(t)).toBe(readData(`modify/${name}.expected`));
  });

  test('without a parent when the UUID is defined once (libvirt: modify --uuid U --auto)', () => {
    const t = tree();
    setup(t);
    ok(mdevctl(t.root, 'modify', '--uuid', U, '--auto'));
    expect(file(t)).toBe(readData('modify/auto.expected'));
  });

  test('multiple-parent', () => {
    const t = tree();
    setup(t);
    t.addDefinition(P2, U, readData('modify/defined.json'));
    ok(mdevctl(t.root, 'modify', '-u', U, '-p', P, '--auto'));
    expect(file(t)).toBe(readData('modify/multiple-parent.expected'));
    expect(file(t, P2)).toBe(readData('modify/defined.json'));
  });

  test('libvirt: modify --parent=P --jsonfile=/dev/stdin --uuid=U --defined', () => {
    const t = tree();
    setup(t);
    const r = run(['modify', `--parent=${P}`, '--jsonfile=/dev/stdin', `--uuid=${U}`, '--defined'], {
      root: t.root,
      input: fs.readFileSync(data('modify/modified.json')),
    } as never);
    ok(r);
    expect(file(t)).toBe(readData('modify/jsonfile.expected'));
  });

  test('errors, each leaving the definitions as they were', () => {
    const t = tree();
    setup(t);
    t.addDefinition(P2, U, readData('modify/defined.json'));
    const other = '11111111-2222-4333-8444-555555555555';
    t.addDefinition(P2, other, '{"mdev_type":"x","start":"manual"}');
    unchanged(t, () => {
      fails(
        mdevctl(t.root, 'modify', '-u', '22222222-2222-4333-8444-555555555555', '--auto'),
        'Mediated device 22222222-2222-4333-8444-555555555555 is not defined',
      );
      fails(mdevctl(t.root, 'modify', '-u', U, '-p', '0000:00:09.0', '--auto'), `Mediated device 0000:00:09.0/${U} is not defined`);
      fails(mdevctl(t.root, 'modify', '-u', U, '--auto'), `Multiple definitions found for ${U}, specify a parent`);
      usage(mdevctl(t.root, 'modify', '-u', U, '-p', P, '--auto', '--manual'), "error: the argument '--auto' cannot be used with '--manual'\n");
      fails(
        mdevctl(t.root, 'modify', '-u', U, '-p', P, '--addattr', 'x', '--value', 'y', '-i', '7'),
        'Attribute index 7 is invalid\n  Attrs:\n    @{0}: {"assign_adapter":"5"}\n    @{1}: {"assign_adapter":"6"}\n    @{2}: {"assign_domain":"0xab"}\n    @{3}: {"assign_control_domain":"0xab"}\n    @{4}: {"assign_domain":"4"}\n    @{5}: {"assign_control_domain":"4"}',
      );
      // 1.2.0 crashed here; 1.4.0 reports the index as invalid
      const del6 = mdevctl(t.root, 'modify', '-u', U, '-p', P, '--delattr', '-i', '6');
      expect(del6.status).toBe(1);
      expect(del6.stderr).toMatch(/^Error: Attribute index 6 is invalid\n {2}Attrs:\n/);
      fails(mdevctl(t.root, 'modify', '-u', other, '--delattr', '-i', '0'), `Attribute index 0 is invalid\nDevice ${other} has no attributes`);
      fails(mdevctl(t.root, 'modify', '-u', U, '--jsonfile', data('modify/modified.json')), 'Parent device required to modify device via json file');
      usage(mdevctl(t.root, 'modify', '-u', U, '-p', P, '-t', 'x'), 'required arguments were not provided');
      usage(mdevctl(t.root, 'modify', '-u', U, '-p', P, '--addattr', 'x'), '--value <attr_value>');
      usage(
        mdevctl(t.root, 'modify', '-u', U, '-p', P, '--addattr', 'a', '--value', 'x', '--delattr'),
        "error: the argument '--addattr <attr_name>' cannot be used with '--delattr'\n",
      );
      usage(mdevctl(t.root, 'modify', '-u', U, '-p', P, '--auto', '-i', '1'), "'--auto' cannot be used with '--index <INDEX>'");
      usage(mdevctl(t.root, 'modify', '-u', U, '-p', P, '--delattr', '-i', '-1'), "error: unexpected argument '-1' found\n");
      // clap takes it (--jsonfile, which --live requires, conflicts with --auto): upstream's own check
      fails(mdevctl(t.root, 'modify', '-u', U, '-p', P, '--live', '--auto'), "'auto' cannot be changed on active mdev");
      usage(mdevctl(t.root, 'modify', '-p', P, '--auto'), '--uuid <UUID>');
    });
  });

  test('help wins over every other check (libvirt feature probe)', () => {
    const t = tree();
    for (const args of [
      ['modify', '--defined', '--live', '--jsonfile', 'b', '--help'],
      ['modify', '--help', '--bogus-option'],
      ['start', '-u', 'not-a-uuid', '--help'],
      ['define', '-h'],
    ]) {
      const r = mdevctl(t.root, ...args);
      expect(r.status).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/^Usage: mdevctl (modify|start|define) \[options\]/);
    }
  });
});

describe('start', () => {
  const TYPE = 'arbitrary_type';
  const P3 = '0000:2b:00.0';
  const createFile = (parent: string, type = TYPE) => `sys/devices/pci0000:00/${parent}/mdev_supported_types/${type}/create`;
  const withParent = (t: FakeTree, parent = P, available = 1) => t.addParent(parent, { [TYPE]: { available, description: 'test device' } });

  test('uuid-type-parent: writes the UUID (no newline) into create, prints nothing', () => {
    const t = tree();
    withParent(t);
    ok(mdevctl(t.root, 'start', '-u', U, '-p', P, '-t', TYPE));
    expect(t.read(createFile(P))).toBe(U);
  });

  test('no-uuid: prints the generated UUID, the one written into create', () => {
    const t = tree();
    withParent(t);
    const r = mdevctl(t.root, 'start', '-p', P, '-t', TYPE);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(UUID_LINE);
    expect(t.read(createFile(P))).toBe(r.stdout.trim());
  });

  test('libvirt: start --parent=P --jsonfile=/dev/stdin', () => {
    const t = tree();
    withParent(t);
    const r = run(['start', `--parent=${P}`, '--jsonfile=/dev/stdin'], { root: t.root, input: `{"mdev_type":"${TYPE}","start":"manual"}` });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(UUID_LINE);
    expect(t.read(createFile(P))).toBe(r.stdout.trim());
  });

  test.each([
    ['no-type-defined', ['-u', U, '-p', P]],
    ['no-type-parent-defined', ['-u', U]],
    ['defined-with-type', ['-u', U, '-p', P, '-t', TYPE]],
    ['defined-multiple', ['-u', U, '-p', P]],
  ])('%s: starts the definition', (name, args) => {
    const t = tree();
    withParent(t);
    t.addDefinition(P, U, readData('start/defined.json'));
    if (name.startsWith('defined-')) {
      withParent(t, P2);
      t.addDefinition(P2, U, readData('start/defined.json'));
    }
    ok(mdevctl(t.root, 'start', ...args));
    expect(t.read(createFile(P))).toBe(U);
    if (name.startsWith('defined-')) expect(t.read(createFile(P2))).toBe('');
  });

  test('errors in upstream check order, nothing written', () => {
    const t = tree();
    withParent(t);
    withParent(t, P3);
    t.addParent('0000:00:05.0', { other_type: { available: 0 } });
    t.addDefinition(P, U, readData('start/defined.json'));
    t.addDefinition(P2, U, readData('start/defined.json'));
    const V = '11111111-2222-4333-8444-555555555555';
    const A = '22222222-2222-4333-8444-555555555555';
    t.addActive(A, P, TYPE);
    // a parent link without mdev_supported_types: not registered for mdev
    fs.mkdirSync(t.p('sys/devices/pci0000:00/0000:00:06.0'), { recursive: true });
    fs.symlinkSync('../../devices/pci0000:00/0000:00:06.0', t.p('sys/class/mdev_bus/0000:00:06.0'));
    unchanged(t, () => {
      usage(mdevctl(t.root, 'start', '-t', TYPE), 'required arguments were not provided');
      fails(mdevctl(t.root, 'start', '-p', P), 'Device is insufficiently specified');
      fails(mdevctl(t.root, 'start', '-u', V, '-t', TYPE), "can't provide type without parent");
      fails(mdevctl(t.root, 'start', '-u', V, '-p', P), 'Device is insufficiently specified');
      fails(mdevctl(t.root, 'start', '-u', U), `Multiple definitions found for device ${U}. Please specify a parent.`);
      fails(mdevctl(t.root, 'start', '-u', U, '-p', P, '-t', 'wrong-type'), `Device ${U} already exists on parent ${P} with type ${TYPE}`);
      fails(mdevctl(t.root, 'start', '-u', A, '-p', P, '-t', TYPE), 'Device already exists');
      fails(mdevctl(t.root, 'start', '-u', A, '-p', P3, '-t', TYPE), 'Device exists under different parent');
      fails(mdevctl(t.root, 'start', '-u', A, '-p', P, '-t', 'other'), 'Device exists with different type');
      fails(mdevctl(t.root, 'start', '-u', V, '-p', '0000:00:09.0', '-t', TYPE), "Unable to find parent device '0000:00:09.0'");
      fails(mdevctl(t.root, 'start', '-u', V, '-p', P3.toUpperCase(), '-t', TYPE), `Unable to find parent device '${P3.toUpperCase()}'. Did you mean '${P3}'?`);
      fails(mdevctl(t.root, 'start', '-u', V, '-p', '0000:00:06.0', '-t', TYPE), 'Parent 0000:00:06.0 is not currently registered for mdev support');
      fails(mdevctl(t.root, 'start', '-u', V, '-p', P, '-t', 'nope'), `Parent ${P} does not support mdev type nope`);
      fails(mdevctl(t.root, 'start', '-u', V, '-p', '0000:00:05.0', '-t', 'other_type'), 'No available instances of other_type on 0000:00:05.0');
      fails(mdevctl(t.root, 'start', '-u', V, '-p', '../../etc', '-t', TYPE), "Invalid parent device name '../../etc': it contains '/'");
      usage(
        mdevctl(t.root, 'start', '-u', V, '-p', P, '-t', TYPE, '--jsonfile', 'x'),
        "error: the argument '--type <type>' cannot be used with '--jsonfile <JSONFILE>'\n\nUsage: mdevctl start --uuid <UUID> --parent <PARENT> --type <type>\n",
      );
      fails(mdevctl(t.root, 'start', '-u', V, '--jsonfile', data('start/defined.json')), 'Parent device required to start device via json file');
    });
  });

  test('attributes are written after create; a failure stops the device again and fails', () => {
    const t = tree();
    withParent(t);
    t.addDefinition(P, U, '{"mdev_type":"arbitrary_type","start":"manual","attrs":[{"a1":"v1"}]}');
    // a fixture has no kernel: the device never appears, so the attribute cannot be written
    const r = mdevctl(t.root, 'start', '-u', U);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    // 1.4.0's words first (libvirt quotes them), then the cause
    expect(r.stderr).toMatch(
      new RegExp(`^Error: Error removing device ${U}: [^\\n]*; it was being stopped again because setting an attribute failed: Invalid attribute 'a1'\\n$`),
    );
    expect(t.read(createFile(P))).toBe(U);
  });

  test('attribute names that would escape the device directory are refused before any write', () => {
    const t = tree();
    withParent(t);
    t.addDefinition(P, U, '{"mdev_type":"arbitrary_type","start":"manual","attrs":[{"../../x":"v1"}]}');
    unchanged(t, () => fails(mdevctl(t.root, 'start', '-u', U), "Invalid attribute name '../../x': its path component '..' is not a plain name"));
  });
});

describe('stop', () => {
  test('writes 1 into remove', () => {
    const t = tree();
    t.addParent(P, { arbitrary_type: {} }).addActive(U, P, 'arbitrary_type');
    ok(run(['stop', `--uuid=${U}`], { root: t.root }));
    expect(t.read(`sys/bus/mdev/devices/${U}/remove`)).toBe('1');
  });

  test('a device that is not running', () => {
    const t = tree();
    t.addDefinition(P, U, readData('start/defined.json'));
    unchanged(t, () => fails(mdevctl(t.root, 'stop', '-u', U), `Device ${U} is not an active mdev`));
    usage(mdevctl(t.root, 'stop'), '--uuid <UUID>');
  });
});

describe('start-parent-mdevs', () => {
  const TYPE = 'arbitrary_type';
  const AUTO = '11111111-0000-4000-8000-000000000001';
  const MANUAL = '11111111-0000-4000-8000-000000000002';
  const RUNNING = '11111111-0000-4000-8000-000000000003';
  const BROKEN = '11111111-0000-4000-8000-000000000004';

  test('starts auto definitions, skips running ones silently, reports failures one line each, exit 0', () => {
    const t = tree();
    t.addParent(P, { [TYPE]: { available: 3 } });
    t.addActive(RUNNING, P, TYPE);
    t.addDefinition(P, AUTO, { mdev_type: TYPE, start: 'auto', attrs: [] });
    t.addDefinition(P, MANUAL, { mdev_type: TYPE, start: 'manual', attrs: [] });
    t.addDefinition(P, RUNNING, { mdev_type: TYPE, start: 'auto', attrs: [] });
    t.addDefinition(P, BROKEN, { mdev_type: 'missing_type', start: 'auto', attrs: [] });
    const r = mdevctl(t.root, 'start-parent-mdevs', P);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`Warning: Failed to start ${BROKEN} on ${P}: Parent ${P} does not support mdev type missing_type\n`);
    expect(t.read(`sys/devices/pci0000:00/${P}/mdev_supported_types/${TYPE}/create`)).toBe(AUTO);
  });

  test('a device another run started meanwhile (udev fires two at once) is skipped, not a failure', () => {
    // The other run is played by a pre-start callout script that starts the device itself (once),
    // between this run's "is it running?" and its write to create; the simulated kernel then
    // refuses the UUID (EEXIST), as a real kernel did under kernel-tests' udev scenario.
    const root = freshFixture('mtty');
    try {
      const uuid = '11111111-0000-4000-8000-0000000000aa';
      const env = { MDEVCTL_SIMULATE: '1' };
      ok(run(['define', '-u', uuid, '-p', 'mtty', '-t', 'mtty-1', '--auto'], { root, env }));
      const marker = path.join(root, 'other-run-done');
      const script = path.join(root, 'usr/lib/mdevctl/scripts.d/callouts/other-run');
      fs.writeFileSync(
        script,
        ['#!/bin/sh', 'cat >/dev/null', `[ -e '${marker}' ] && exit 0`, `: > '${marker}'`, `${cliShellCommand()} start -u ${uuid} >/dev/null`, ''].join('\n'),
        { mode: 0o755 },
      );
      ok(run(['start-parent-mdevs', 'mtty'], { root, env }));
      expect(fs.existsSync(marker)).toBe(true);
      const dev = path.join(root, 'sys/bus/mdev/devices', uuid);
      expect(path.basename(fs.readlinkSync(path.join(dev, 'mdev_type')))).toBe('mtty-1');
      expect(fs.readdirSync(path.join(root, 'sys/devices/virtual/mtty/mtty/mdev_supported_types/mtty-1/devices'))).toEqual([uuid]);
    } finally {
      removeFixture(root);
    }
  });

  test('a parent without definitions is nothing to do', () => {
    const t = tree();
    ok(mdevctl(t.root, 'start-parent-mdevs', P));
  });

  test('is hidden from the help', () => {
    const t = tree();
    expect(mdevctl(t.root, '--help').stdout).not.toContain('start-parent-mdevs');
  });
});

describe('round trip', () => {
  test('list -d -u U --dumpjson > f; undefine; define --jsonfile f reproduces the file', () => {
    const t = tree();
    // as written by define or modify: pretty JSON without a trailing newline
    const original = JSON.stringify(JSON.parse(readData('modify/defined.json')), null, 2);
    t.addDefinition(P, U, original);
    const dumped = mdevctl(t.root, 'list', '-d', '-u', U, '--dumpjson');
    expect(dumped.status).toBe(0);
    const f = t.p('dump.json');
    fs.writeFileSync(f, dumped.stdout);
    ok(mdevctl(t.root, 'undefine', '-u', U));
    ok(mdevctl(t.root, 'define', '-u', U, '-p', P, '--jsonfile', f));
    expect(t.read(`etc/mdevctl.d/${P}/${U}`)).toBe(original);
  });
});
