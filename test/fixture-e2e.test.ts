/**
 * End to end on every fixture template, as a CI script would run it: `fixture` → `types` →
 * `define` → `start` (with attributes) → `list` → `stop` → `list` → `undefine`, each step with
 * --simulate, and each step first with --dry-run, which must print the plan and leave the whole
 * tree byte-identical.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FakeTree } from './support/tree';
import { run } from './support/cli';
import { templateNames } from '../src/lib/kernel/fixtures';

interface Case {
  parent: string;
  type: string;
  /** Attributes the definition carries (written in order when the device starts). */
  attrs: Array<[string, string]>;
  /** Where the parent really lives (under sys/devices). */
  devPath: string;
  /** A read-only attribute of the driver: starting with it fails and changes nothing. */
  readOnly?: string;
}

const CASES: Record<string, Case | null> = {
  gvt: { parent: '0000:00:02.0', type: 'i915-GVTg_V5_8', attrs: [], devPath: 'pci0000:00/0000:00:02.0', readOnly: 'intel_vgpu/vgpu_id' },
  nvidia: {
    parent: '0000:84:00.0',
    type: 'nvidia-232',
    attrs: [['nvidia/vgpu_params', 'frame_rate_limiter=0']],
    devPath: 'pci0000:80/0000:80:02.0/0000:84:00.0',
  },
  vfio_ap: {
    parent: 'matrix',
    type: 'vfio_ap-passthrough',
    attrs: [
      ['assign_adapter', '5'],
      ['assign_adapter', '6'],
      ['assign_domain', '0xab'],
      ['assign_control_domain', '0xab'],
    ],
    devPath: 'vfio_ap/matrix',
    readOnly: 'matrix',
  },
  vfio_ccw: { parent: '0.0.26ab', type: 'vfio_ccw-io', attrs: [], devPath: 'css0/0.0.26ab' },
  nvidia_sriov: {
    parent: '0000:e8:01.7',
    type: 'nvidia-566',
    attrs: [['nvidia/vgpu_params', 'frame_rate_limiter=0']],
    devPath: 'pci0000:e0/0000:e0:03.1/0000:e8:01.7',
  },
  mtty: { parent: 'mtty', type: 'mtty-1', attrs: [], devPath: 'virtual/mtty/mtty', readOnly: 'vendor/sample_mdev_dev' },
  demo: {
    parent: 'matrix',
    type: 'vfio_ap-passthrough',
    attrs: [
      ['assign_adapter', '7'],
      ['assign_domain', '4'],
    ],
    devPath: 'vfio_ap/matrix',
  },
  // no mdev parent at all: start is refused, nothing changes
  empty: null,
  nvidia_vfio: null,
};

const U = '5b1e2f4a-7c3d-4e8f-9a0b-1c2d3e4f5a6b';

function fixture(template: string): { tree: FakeTree; base: string } {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'mdevctl-e2e-'));
  const root = path.join(base, 'root');
  const r = run(['fixture', template, root]);
  expect(r).toEqual({ status: 0, stdout: '', stderr: '' });
  return { tree: new FakeTree(root), base };
}

function config(c: Case, start = 'manual'): string {
  return JSON.stringify({ mdev_type: c.type, start, attrs: c.attrs.map(([k, v]) => ({ [k]: v })) });
}

function definitionText(c: Case): string {
  return JSON.stringify({ mdev_type: c.type, start: 'manual', attrs: c.attrs.map(([k, v]) => ({ [k]: v })) }, null, 2);
}

function available(tree: FakeTree, c: Case): number {
  return Number(tree.read(`sys/devices/${c.devPath}/mdev_supported_types/${c.type}/available_instances`).trim());
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}\n`)
    .join('');
}

test('every template has an end-to-end case', () => {
  expect(Object.keys(CASES).sort()).toEqual([...templateNames].sort());
});

describe.each(Object.entries(CASES).filter(([, c]) => c !== null) as Array<[string, Case]>)('%s', (template, c) => {
  let tree: FakeTree;
  let base: string;
  beforeAll(() => ({ tree, base } = fixture(template)));
  afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

  const mdevctl = (...args: string[]) => run(['--root', tree.root, ...args]);
  const sim = (...args: string[]) => run(['--root', tree.root, '--simulate', ...args]);
  /** Run ARGS with --dry-run: the tree must not change; returns the result. */
  const dry = (...args: string[]) => {
    const before = tree.hash('identity');
    const r = run(['--root', tree.root, '--dry-run', ...args], { input: config(c) });
    expect(tree.hash('identity')).toBe(before);
    return r;
  };

  let n0: number;
  let afterDefine: string;

  test('types lists the type with its available instances', () => {
    const r = mdevctl('types', '-p', c.parent);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    n0 = available(tree, c);
    expect(n0).toBeGreaterThan(0);
    expect(r.stdout).toContain(`${c.parent}\n`);
    expect(r.stdout).toContain(`  ${c.type}\n    Available instances: ${n0}\n`);
  });

  test('define: dry run plans the file, then the real define writes exactly it', () => {
    const dirExists = tree.exists(`etc/mdevctl.d/${c.parent}`);
    const plan = dry('define', '-u', U, '-p', c.parent, '--jsonfile', '/dev/stdin');
    const expected = (dirExists ? '' : `make-dir /etc/mdevctl.d/${c.parent}\n`) + `write-file /etc/mdevctl.d/${c.parent}/${U}\n` + indent(definitionText(c));
    expect(plan).toEqual({ status: 0, stdout: expected, stderr: '' });
    const r = run(['--root', tree.root, '--simulate', 'define', '-u', U, '-p', c.parent, '--jsonfile', '/dev/stdin'], {
      input: config(c),
    });
    expect(r).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(tree.read(`etc/mdevctl.d/${c.parent}/${U}`)).toBe(definitionText(c));
    afterDefine = tree.hash();
  });

  test('start: dry run plans create and attribute writes; the simulated start makes the device', () => {
    const plan = dry('start', '-u', U);
    const expected =
      `sysfs-create /sys/class/mdev_bus/${c.parent}/mdev_supported_types/${c.type}/create "${U}"\n` +
      c.attrs.map(([k, v]) => `sysfs-write /sys/bus/mdev/devices/${U}/${k} ${JSON.stringify(v)}\n`).join('');
    expect(plan).toEqual({ status: 0, stdout: expected, stderr: '' });

    const json = dry('start', '-u', U, '--dumpjson');
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([
      { action: 'sysfs-create', path: `/sys/class/mdev_bus/${c.parent}/mdev_supported_types/${c.type}/create`, value: U },
      ...c.attrs.map(([k, v]) => ({ action: 'sysfs-write', path: `/sys/bus/mdev/devices/${U}/${k}`, value: v })),
    ]);

    expect(sim('start', '-u', U)).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(available(tree, c)).toBe(n0 - 1);
    const dev = `sys/devices/${c.devPath}/${U}`;
    expect(fs.realpathSync(tree.p(`sys/bus/mdev/devices/${U}`))).toBe(fs.realpathSync(tree.p(dev)));
    expect(fs.readlinkSync(tree.p(dev, 'mdev_type'))).toBe(`../mdev_supported_types/${c.type}`);
    expect(fs.readlinkSync(tree.p(`sys/devices/${c.devPath}/mdev_supported_types/${c.type}/devices/${U}`))).toBe(`../../../${U}`);
    expect(tree.exists(`${dev}/remove`)).toBe(true);
    // each attribute file holds the last value written to it
    const last = new Map(c.attrs);
    for (const [k, v] of last) expect(tree.read(`${dev}/${k}`)).toBe(v);
  });

  test('list shows it running and defined; list -v shows nothing more (attributes come from callouts)', () => {
    const r = mdevctl('list', '-u', U);
    expect(r).toEqual({ status: 0, stdout: `${U} ${c.parent} ${c.type} manual (defined)\n`, stderr: '' });
    const d = mdevctl('list', '-d', '-u', U);
    expect(d).toEqual({ status: 0, stdout: `${U} ${c.parent} ${c.type} manual (active)\n`, stderr: '' });
  });

  test('starting it again is refused as on a host', () => {
    const before = tree.hash();
    expect(sim('start', '-u', U)).toEqual({ status: 1, stdout: '', stderr: 'Error: Device already exists\n' });
    expect(dry('start', '-u', U)).toEqual({ status: 1, stdout: '', stderr: 'Error: Device already exists\n' });
    expect(tree.hash()).toBe(before);
  });

  test('stop: dry run plans the remove write; the simulated stop removes the device and everything it made', () => {
    expect(dry('stop', '-u', U)).toEqual({ status: 0, stdout: `sysfs-remove /sys/bus/mdev/devices/${U}/remove "1"\n`, stderr: '' });
    expect(sim('stop', '-u', U)).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(mdevctl('list', '-u', U)).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(mdevctl('list').stdout).not.toContain(U);
    expect(available(tree, c)).toBe(n0);
    // start + stop leaves sys/ exactly as it was
    expect(tree.hash()).toBe(afterDefine);
    expect(dry('stop', '-u', U)).toEqual({ status: 1, stdout: '', stderr: `Error: Device ${U} is not an active mdev\n` });
  });

  test('undefine: dry run plans the removal; the real undefine removes the file', () => {
    expect(dry('undefine', '-u', U)).toEqual({ status: 0, stdout: `remove-file /etc/mdevctl.d/${c.parent}/${U}\n`, stderr: '' });
    expect(sim('undefine', '-u', U)).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(tree.exists(`etc/mdevctl.d/${c.parent}/${U}`)).toBe(false);
    expect(mdevctl('list', '-d').stdout).not.toContain(U);
  });

  if (c.readOnly) {
    const ro = c.readOnly;
    test(`a read-only attribute (${ro}) is refused by the simulated kernel; nothing stays behind`, () => {
      const before = tree.hash();
      const json = JSON.stringify({ mdev_type: c.type, start: 'manual', attrs: [{ [ro]: '1' }] });
      const args = ['--root', tree.root, 'start', '-u', U, '-p', c.parent, '--jsonfile', '/dev/stdin'];
      const file = tree.p(`sys/bus/mdev/devices/${U}/${ro}`);
      const msg = `Error: Failed to write 1 to attribute ${ro}: Permission denied (EACCES): permission denied: the attribute is not writable (${file})\n`;
      expect(run(['--dry-run', ...args], { input: json })).toEqual({ status: 1, stdout: '', stderr: msg });
      expect(tree.hash()).toBe(before);
      expect(run(['--simulate', ...args], { input: json })).toEqual({ status: 1, stdout: '', stderr: msg });
      expect(tree.hash()).toBe(before);
    });
  }

  test('an attribute the driver does not have: Invalid attribute, in the dry run too, nothing changed', () => {
    const before = tree.hash();
    const json = JSON.stringify({ mdev_type: c.type, start: 'manual', attrs: [{ no_such_attr: '1' }] });
    const args = ['--root', tree.root, 'start', '-u', U, '-p', c.parent, '--jsonfile', '/dev/stdin'];
    const err = { status: 1, stdout: '', stderr: "Error: Invalid attribute 'no_such_attr'\n" };
    expect(run(['--dry-run', ...args], { input: json })).toEqual(err);
    expect(run(['--simulate', ...args], { input: json })).toEqual(err);
    expect(tree.hash()).toBe(before);
  });
});

describe.each(['empty', 'nvidia_vfio'])('%s (no mdev parent)', (template) => {
  test('define works, start is refused (also in a dry run), nothing else changes', () => {
    const { tree, base } = fixture(template);
    try {
      const P = '0000:00:02.0';
      const h0 = tree.hash();
      const plan = run(['--root', tree.root, '--dry-run', 'define', '-u', U, '-p', P, '-t', 'i915-GVTg_V5_4']);
      expect(plan.status).toBe(0);
      expect(plan.stdout).toContain(`write-file /etc/mdevctl.d/${P}/${U}\n`);
      expect(tree.hash()).toBe(h0);
      expect(run(['--root', tree.root, 'define', '-u', U, '-p', P, '-t', 'i915-GVTg_V5_4'])).toEqual({ status: 0, stdout: '', stderr: '' });
      const h1 = tree.hash();
      const err = { status: 1, stdout: '', stderr: `Error: Unable to find parent device '${P}'\n` };
      expect(run(['--root', tree.root, '--dry-run', 'start', '-u', U])).toEqual(err);
      expect(run(['--root', tree.root, '--simulate', 'start', '-u', U])).toEqual(err);
      expect(tree.hash()).toBe(h1);
      expect(run(['--root', tree.root, '--simulate', 'undefine', '-u', U])).toEqual({ status: 0, stdout: '', stderr: '' });
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });
});
