/**
 * The exact command lines libvirt's node_device driver runs (CONTRACTS.md §1.1), with its JSON on
 * stdin, and libvirt's way of reading the answers: stdout parsed as one outer array holding one
 * object of parents, each device a one-key object, attributes one-key objects with string values;
 * a generated UUID is the whole of stdout minus the trailing newline; errors come from stderr.
 */
import { readOwn } from './support/tree';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { run } from './support/cli';
import { freshFixture, removeFixture } from './support/fixture';
import { parseUuid } from '../src/lib/model/uuid';

interface Parsed {
  parent: string;
  uuid: string;
  mdev_type: string;
  autostart: boolean;
  attrs: Array<[string, string]>;
}

/** nodeDeviceParseMdevctlJSON, restated: throws "Unexpected format" where libvirt would. */
function libvirtParse(stdout: string): Parsed[] {
  if (stdout.trim() === '') return [];
  const json = JSON.parse(stdout);
  if (!Array.isArray(json)) throw new Error('Unexpected format for mdevctl response');
  if (json.length === 0) return [];
  if (json.length !== 1 || typeof json[0] !== 'object' || json[0] === null || Array.isArray(json[0])) {
    throw new Error('Unexpected format for mdevctl response');
  }
  const out: Parsed[] = [];
  for (const [parent, devs] of Object.entries(json[0] as Record<string, unknown>)) {
    if (!Array.isArray(devs)) throw new Error('Parent entry is not an array');
    for (const d of devs) {
      const keys = Object.keys(d);
      if (keys.length !== 1) throw new Error('Unexpected device entry');
      const cfg = d[keys[0]];
      if (typeof cfg.mdev_type !== 'string') throw new Error('missing mdev_type');
      const attrs: Array<[string, string]> = [];
      for (const a of cfg.attrs ?? []) {
        const ak = Object.keys(a);
        if (ak.length !== 1 || typeof a[ak[0]] !== 'string') throw new Error('Unexpected attribute format');
        attrs.push([ak[0], a[ak[0]]]);
      }
      out.push({ parent, uuid: keys[0], mdev_type: cfg.mdev_type, autostart: cfg.start === 'auto', attrs });
    }
  }
  return out;
}

/** nodeDeviceDefToMdevctlConfig: compact, start always present, attrs only when there are some. */
function libvirtConfig(type: string, start: 'auto' | 'manual', attrs: Array<[string, string]> = []): string {
  const o: Record<string, unknown> = { mdev_type: type, start };
  if (attrs.length > 0) o.attrs = attrs.map(([k, v]) => ({ [k]: v }));
  return JSON.stringify(o);
}

const AP_ATTRS: Array<[string, string]> = [
  ['assign_adapter', '5'],
  ['assign_adapter', '6'],
  ['assign_domain', '0xab'],
  ['assign_control_domain', '0xab'],
  ['assign_domain', '4'],
  ['assign_control_domain', '4'],
];

describe('libvirt invocations (CONTRACTS §1.1)', () => {
  let root: string;
  const mdevctl = (args: string[], input = '') => run(args, { root, input });
  beforeEach(() => {
    root = freshFixture('vfio_ap');
  });
  afterEach(() => removeFixture(root));

  test('sync: list --dumpjson --defined, then list --dumpjson, parse as libvirt does', () => {
    const defined = mdevctl(['list', '--dumpjson', '--defined']);
    expect(defined.status).toBe(0);
    expect(defined.stderr).toBe('');
    expect(libvirtParse(defined.stdout)).toEqual([
      { parent: 'matrix', uuid: 'a26b28cf-80e0-4b5e-af06-d5de5bb0552e', mdev_type: 'vfio_ap-passthrough', autostart: false, attrs: AP_ATTRS },
      {
        parent: 'matrix',
        uuid: 'd626b21c-ea4e-47c1-9e01-68fcfcb0a974',
        mdev_type: 'vfio_ap-passthrough',
        autostart: true,
        attrs: [
          ['assign_adapter', '5'],
          ['assign_domain', '0xab'],
          ['assign_control_domain', '0xab'],
        ],
      },
    ]);
    const active = mdevctl(['list', '--dumpjson']);
    expect(active.status).toBe(0);
    expect(libvirtParse(active.stdout).map((d) => [d.parent, d.uuid, d.autostart])).toEqual([
      ['matrix', '64af5243-67fc-4bbc-ab43-1cc7dd92c18e', false],
      ['matrix', 'd626b21c-ea4e-47c1-9e01-68fcfcb0a974', true],
    ]);
  });

  test('an empty listing is what libvirt reads as "no devices"', () => {
    const empty = freshFixture('mtty');
    try {
      const r = run(['list', '--dumpjson', '--defined'], { root: empty });
      expect(r).toEqual({ status: 0, stdout: '[]', stderr: '' });
      expect(libvirtParse(r.stdout)).toEqual([]);
    } finally {
      removeFixture(empty);
    }
  });

  test('define --parent=P --jsonfile=/dev/stdin: only the new UUID on stdout, file stored', () => {
    const cfg = libvirtConfig('vfio_ap-passthrough', 'manual', [
      ['assign_adapter', '7'],
      ['assign_domain', '0x1f'],
    ]);
    const r = mdevctl(['define', '--parent=matrix', '--jsonfile=/dev/stdin'], cfg);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
    const uuid = r.stdout.replace(/\n$/, ''); // what libvirt keeps
    expect(parseUuid(uuid)).toBe(uuid);
    const file = path.join(root, 'etc/mdevctl.d/matrix', uuid);
    expect(fs.readFileSync(file, 'utf8')).toBe(JSON.stringify(JSON.parse(cfg), null, 2));
    const listed = libvirtParse(mdevctl(['list', '--dumpjson', '--defined']).stdout).find((d) => d.uuid === uuid);
    expect(listed).toEqual({
      parent: 'matrix',
      uuid,
      mdev_type: 'vfio_ap-passthrough',
      autostart: false,
      attrs: [
        ['assign_adapter', '7'],
        ['assign_domain', '0x1f'],
      ],
    });
  });

  test('define --parent=P --jsonfile=/dev/stdin --uuid=U: nothing on stdout', () => {
    const uuid = '8d0a2e6c-3f77-4c55-9d1e-2b6b7c0e4a11';
    const r = mdevctl(['define', '--parent=matrix', '--jsonfile=/dev/stdin', `--uuid=${uuid}`], libvirtConfig('vfio_ap-passthrough', 'auto'));
    expect(r).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(JSON.parse(fs.readFileSync(path.join(root, 'etc/mdevctl.d/matrix', uuid), 'utf8'))).toEqual({
      mdev_type: 'vfio_ap-passthrough',
      start: 'auto',
      attrs: [],
    });
  });

  test('start --parent=P --jsonfile=/dev/stdin: the generated UUID is written to create and printed', () => {
    const create = path.join(root, 'sys/devices/vfio_ap/matrix/mdev_supported_types/vfio_ap-passthrough/create');
    const r = mdevctl(['start', '--parent=matrix', '--jsonfile=/dev/stdin'], libvirtConfig('vfio_ap-passthrough', 'manual'));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\n$/);
    // on a fixture there is no kernel: the write into `create` is all that happens
    expect(readOwn(create)).toBe(r.stdout.replace(/\n$/, ''));
  });

  test('start --parent=P --jsonfile=/dev/stdin --uuid=U writes U, prints nothing', () => {
    const uuid = '0b2f9a3e-5b0c-4a8f-9d2e-7c6b5a4f3e21';
    const create = path.join(root, 'sys/devices/vfio_ap/matrix/mdev_supported_types/vfio_ap-passthrough/create');
    const r = mdevctl(['start', '--parent=matrix', '--jsonfile=/dev/stdin', `--uuid=${uuid}`], libvirtConfig('vfio_ap-passthrough', 'manual'));
    expect(r).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(readOwn(create)).toBe(uuid);
  });

  test('start --uuid=U of a defined device writes U into its type', () => {
    const uuid = '5c1a7d0e-2b3f-4e6a-8c9d-0e1f2a3b4c5d';
    const create = path.join(root, 'sys/devices/vfio_ap/matrix/mdev_supported_types/vfio_ap-passthrough/create');
    const def = mdevctl(['define', '--parent=matrix', '--jsonfile=/dev/stdin', `--uuid=${uuid}`], libvirtConfig('vfio_ap-passthrough', 'manual'));
    expect(def).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(mdevctl(['start', `--uuid=${uuid}`])).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(readOwn(create)).toBe(uuid);
  });

  test('modify --parent=P --jsonfile=/dev/stdin --uuid=U --defined replaces the definition', () => {
    const uuid = 'd626b21c-ea4e-47c1-9e01-68fcfcb0a974';
    const cfg = libvirtConfig('vfio_ap-passthrough', 'manual', [['assign_adapter', '9']]);
    const r = mdevctl(['modify', '--parent=matrix', '--jsonfile=/dev/stdin', `--uuid=${uuid}`, '--defined'], cfg);
    expect(r).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(fs.readFileSync(path.join(root, 'etc/mdevctl.d/matrix', uuid), 'utf8')).toBe(JSON.stringify(JSON.parse(cfg), null, 2));
  });

  test('modify --uuid U --auto / --manual (separate words, no parent)', () => {
    const uuid = 'a26b28cf-80e0-4b5e-af06-d5de5bb0552e';
    const file = path.join(root, 'etc/mdevctl.d/matrix', uuid);
    expect(mdevctl(['modify', '--uuid', uuid, '--auto'])).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).start).toBe('auto');
    expect(mdevctl(['modify', '--uuid', uuid, '--manual'])).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({
      mdev_type: 'vfio_ap-passthrough',
      start: 'manual',
      attrs: AP_ATTRS.map(([k, v]) => ({ [k]: v })),
    });
  });

  test('stop --uuid=U writes 1 into the device remove file', () => {
    const uuid = '64af5243-67fc-4bbc-ab43-1cc7dd92c18e';
    const r = mdevctl(['stop', `--uuid=${uuid}`]);
    expect(r).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(readOwn(path.join(root, 'sys/bus/mdev/devices', uuid, 'remove'))).toBe('1');
  });

  test('undefine --uuid=U removes the definition', () => {
    const uuid = 'a26b28cf-80e0-4b5e-af06-d5de5bb0552e';
    expect(mdevctl(['undefine', `--uuid=${uuid}`])).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(fs.existsSync(path.join(root, 'etc/mdevctl.d/matrix', uuid))).toBe(false);
  });

  test('the modify feature probe exits 0 (help wins over everything)', () => {
    const r = mdevctl(['modify', '--defined', '--live', '--jsonfile', 'b', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--live');
    expect(r.stderr).toBe('');
  });

  test('a failure: one line on stderr (libvirt shows it), nothing on stdout', () => {
    const r = mdevctl(['start', '--parent=0000:99:00.0', '--jsonfile=/dev/stdin'], libvirtConfig('nvidia-1', 'manual'));
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe("Error: Unable to find parent device '0000:99:00.0'\n");
  });
});
