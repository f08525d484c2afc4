/**
 * The simulated kernel (--simulate): what it makes and undoes, what it refuses (with the errno
 * and message of the real path), and that it never runs on a real root.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FakeTree, readOwn } from './support/tree';
import { run } from './support/cli';
import { Root } from '../src/lib/util/root';
import { Sysfs } from '../src/lib/kernel/sysfs';
import { MemoryLog } from '../src/lib/util/log';
import { SimulatedKernel, driverOf } from '../src/lib/kernel/simulated-kernel';
import { makeFixture, templateNames } from '../src/lib/kernel/fixtures';

const P = '0000:00:02.0';
const U = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';

function sysfsOn(root: string): Sysfs {
  const r = new Root(root);
  return new Sysfs(r, new MemoryLog(), new SimulatedKernel(r));
}

describe('refusals, with the messages of the real path', () => {
  let t: FakeTree;
  beforeEach(() => {
    t = new FakeTree().withStandardDirs();
    t.addParent(P, { 'test-a': { available: 1 } });
  });
  afterEach(() => t.cleanup());

  test('no instance left: EUSERS, as the mdev core answers', () => {
    t.write(`sys/devices/pci0000:00/${P}/mdev_supported_types/test-a/available_instances`, '0\n');
    const s = sysfsOn(t.root);
    const dir = s.typeDir(P, 'test-a');
    const h = t.hash();
    expect(() => s.create(P, 'test-a', U, dir)).toThrow(
      `Failed to create mdev ${U}, type test-a on ${P}: Too many users (EUSERS): no instances of this type are left on the parent (${dir}/create)`,
    );
    expect(t.hash()).toBe(h);
  });

  test('a UUID in use: EEXIST', () => {
    const s = sysfsOn(t.root);
    const dir = s.typeDir(P, 'test-a');
    t.write(`sys/devices/pci0000:00/${P}/mdev_supported_types/test-a/available_instances`, '5\n');
    s.create(P, 'test-a', U, dir);
    const h = t.hash();
    expect(() => s.create(P, 'test-a', U, dir)).toThrow(
      `Failed to create mdev ${U}, type test-a on ${P}: File exists (EEXIST): a device with this UUID already exists (${dir}/create)`,
    );
    expect(t.hash()).toBe(h);
  });

  test('not a UUID: EINVAL; removing a device that is not there: ENOENT', () => {
    const s = sysfsOn(t.root);
    const dir = s.typeDir(P, 'test-a');
    expect(() => s.create(P, 'test-a', 'not-a-uuid', dir)).toThrow(
      `Failed to create mdev not-a-uuid, type test-a on ${P}: Invalid argument (EINVAL): the kernel rejected the UUID or the type cannot create more devices (${dir}/create)`,
    );
    expect(() => s.remove(U)).toThrow(
      `Error removing device ${U}: No such file or directory (ENOENT): the device is not running (${t.p('sys/bus/mdev/devices', U, 'remove')})`,
    );
  });

  test('create then remove restores the tree; a driver without a model copies a running sibling', () => {
    t.write(`sys/devices/pci0000:00/${P}/mdev_supported_types/test-a/available_instances`, '3\n');
    t.addActive('12345678-1234-4234-8234-123456789abc', P, 'test-a', ['knob', 'other']);
    const h = t.hash();
    const s = sysfsOn(t.root);
    s.create(P, 'test-a', U, s.typeDir(P, 'test-a'));
    const dev = `sys/devices/pci0000:00/${P}/${U}`;
    expect(fs.readdirSync(t.p(dev)).sort()).toEqual(['iommu_group', 'knob', 'mdev_type', 'other', 'remove', 'subsystem']);
    expect(t.read(`sys/devices/pci0000:00/${P}/mdev_supported_types/test-a/available_instances`)).toBe('2\n');
    expect(fs.readlinkSync(t.p(dev, 'iommu_group'))).toBe('../../../../kernel/iommu_groups/0');
    expect(fs.readlinkSync(t.p('sys/kernel/iommu_groups/0/devices', U))).toBe(`../../../../devices/pci0000:00/${P}/${U}`);
    s.writeAttribute(U, 'knob', 'value 1');
    expect(t.read(`${dev}/knob`)).toBe('value 1');
    s.remove(U);
    expect(fs.readdirSync(t.p('sys/kernel/iommu_groups'))).toEqual([]);
    fs.rmSync(t.p('sys/kernel'), { recursive: true }); // made by the first device ever created here
    expect(t.hash()).toBe(h);
  });
});

describe('on fixture devices', () => {
  test('stopping a fixture device removes its IOMMU group and driver links; a new device gets the free group', () => {
    const root = makeFixture('gvt', fs.mkdtempSync('/tmp/mdevctl-sim-') + '/gvt');
    const t = new FakeTree(root);
    try {
      const old = '0116002c-a9df-4bf9-8c59-7f190449e1a6'; // V5_8, group 17, vgpu_id 2
      expect(run(['--simulate', 'stop', '-u', old], { root })).toEqual({ status: 0, stdout: '', stderr: '' });
      expect(t.exists('sys/kernel/iommu_groups/17')).toBe(false);
      expect(t.exists(`sys/bus/mdev/drivers/intel_vgpu_mdev/${old}`)).toBe(false);
      expect(t.exists('sys/kernel/iommu_groups/16')).toBe(true);
      // V5_8 again: vgpu_id 2 is free again, group 0 is the lowest free one
      expect(run(['--simulate', 'start', '-u', U, '-p', P, '-t', 'i915-GVTg_V5_8'], { root })).toEqual({ status: 0, stdout: '', stderr: '' });
      const dev = `sys/devices/pci0000:00/${P}/${U}`;
      expect(t.read(`${dev}/intel_vgpu/vgpu_id`)).toBe('2\n');
      expect(fs.readlinkSync(t.p(dev, 'iommu_group'))).toBe('../../../../kernel/iommu_groups/0');
      expect(fs.readlinkSync(t.p(dev, 'driver'))).toBe('../../../../bus/mdev/drivers/intel_vgpu_mdev');
      expect(fs.readlinkSync(t.p(`sys/bus/mdev/drivers/intel_vgpu_mdev/${U}`))).toBe(`../../../../devices/pci0000:00/${P}/${U}`);
      expect(run(['list'], { root }).stdout).toBe(`${U} ${P} i915-GVTg_V5_8 manual\nc27d00a2-be6c-4b8d-9178-e1cf1064a2f1 ${P} i915-GVTg_V5_4 auto (defined)\n`);
    } finally {
      fs.rmSync(path.dirname(root), { recursive: true, force: true });
    }
  });

  test('without --simulate, a start on a fixture only writes the create file (as upstream)', () => {
    const root = makeFixture('mtty', fs.mkdtempSync('/tmp/mdevctl-sim-') + '/mtty');
    try {
      expect(run(['start', '-u', U, '-p', 'mtty', '-t', 'mtty-1'], { root })).toEqual({ status: 0, stdout: '', stderr: '' });
      expect(readOwn(path.join(root, 'sys/devices/virtual/mtty/mtty/mdev_supported_types/mtty-1/create'))).toBe(U);
      expect(fs.existsSync(path.join(root, 'sys/devices/virtual/mtty/mtty', U))).toBe(false);
      // MDEVCTL_SIMULATE=1 does what --simulate does; =0 does not
      const U2 = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
      expect(run(['start', '-u', U2, '-p', 'mtty', '-t', 'mtty-1'], { root, env: { MDEVCTL_SIMULATE: '0' } }).status).toBe(0);
      expect(fs.existsSync(path.join(root, 'sys/devices/virtual/mtty/mtty', U2))).toBe(false);
      expect(run(['start', '-u', U2, '-p', 'mtty', '-t', 'mtty-1'], { root, env: { MDEVCTL_SIMULATE: '1' } }).status).toBe(0);
      expect(fs.existsSync(path.join(root, 'sys/devices/virtual/mtty/mtty', U2, 'vendor/sample_mdev_dev'))).toBe(true);
    } finally {
      fs.rmSync(path.dirname(root), { recursive: true, force: true });
    }
  });
});

describe('never on a real root', () => {
  const msg = 'Error: --simulate (MDEVCTL_SIMULATE) is refused on the real root /: the simulated kernel only runs on fixture roots (give --root DIR)\n';

  test.each([
    ['--simulate --root /', ['--simulate', '--root', '/', 'start', '-u', U, '-p', P, '-t', 'x'], {}],
    ['MDEVCTL_SIMULATE=1 with no root', ['stop', '-u', U], { MDEVCTL_SIMULATE: '1' }],
    ['--simulate with a root that resolves to /', ['--simulate', '--root', '/tmp/..', 'list'], {}],
  ])('%s: exit 1, nothing done', (_name, args, env) => {
    expect(run(args, { env })).toEqual({ status: 1, stdout: '', stderr: msg });
  });

  test('a root whose sys/ is a mounted sysfs is refused too', () => {
    const t = new FakeTree();
    try {
      fs.symlinkSync('/sys', t.p('sys'));
      expect(run(['--simulate', 'list'], { root: t.root })).toEqual({
        status: 1,
        stdout: '',
        stderr: `Error: --simulate (MDEVCTL_SIMULATE) is refused on ${t.root}: its sys/ is a real sysfs\n`,
      });
    } finally {
      t.cleanup();
    }
  });
});

describe('driver models match the running devices the fixtures lay out', () => {
  test.each([...templateNames])('%s', (name) => {
    const base = fs.mkdtempSync('/tmp/mdevctl-model-');
    try {
      const root = makeFixture(name, path.join(base, name));
      const bus = path.join(root, 'sys/bus/mdev/devices');
      const uuids = fs.existsSync(bus) ? fs.readdirSync(bus) : [];
      for (const uuid of uuids) {
        const dir = fs.realpathSync(path.join(bus, uuid));
        const type = path.basename(fs.realpathSync(path.join(dir, 'mdev_type')));
        const files: string[] = [];
        const walk = (d: string, prefix: string) => {
          for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            if (e.isFile() && e.name !== 'remove') files.push(prefix + e.name);
            else if (e.isDirectory()) walk(path.join(d, e.name), `${prefix}${e.name}/`);
          }
        };
        walk(dir, '');
        const model = driverOf(type);
        expect(model).toBeDefined();
        expect(
          model!
            .files(uuid, path.dirname(dir), type)
            .map((f) => f.name)
            .sort(),
        ).toEqual(files.sort());
        expect(fs.readlinkSync(path.join(dir, 'driver')).endsWith(`/drivers/${model!.mdevDriver}`)).toBe(true);
      }
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });
});
