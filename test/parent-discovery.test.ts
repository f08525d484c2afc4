/**
 * Parents without sys/class/mdev_bus (found under sys/devices) give the same `types` and `list`
 * as with it; NVIDIA's vendor-specific vGPU functions get one note on stderr from `types`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FakeTree } from './support/tree';
import { run } from './support/cli';
import { makeFixture, templateNames } from '../src/lib/kernel/fixtures';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'mdevctl-scan-'));
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

/** The fixture twice: as generated, and without sys/class/mdev_bus. */
function pair(template: string, tag = ''): { withBus: string; without: string } {
  const withBus = makeFixture(template, path.join(base, `${template}${tag}-bus`));
  const without = makeFixture(template, path.join(base, `${template}${tag}-nobus`));
  fs.rmSync(path.join(without, 'sys/class/mdev_bus'), { recursive: true, force: true });
  return { withBus, without };
}

const READS: string[][] = [['types'], ['types', '--dumpjson'], ['list'], ['list', '-v'], ['list', '--dumpjson'], ['list', '-d'], ['list', '-d', '--dumpjson']];

describe.each(templateNames.filter((t) => t !== 'nvidia_vfio'))('%s without sys/class/mdev_bus', (template) => {
  const { withBus, without } = pair(template);

  test.each(READS.map((a) => [a.join(' '), a]))('%s: same output as with it', (_name, args) => {
    const a = run(args, { root: withBus });
    const b = run(args, { root: without });
    expect(a.status).toBe(0);
    expect(b).toEqual(a);
  });

  test('types -p PARENT, and an unknown parent, as with it', () => {
    const parents = fs.readdirSync(path.join(withBus, 'sys/class/mdev_bus')).sort();
    for (const p of [...parents.slice(0, 2), 'no-such-parent']) {
      const a = run(['types', '-p', p], { root: withBus });
      expect(run(['types', '-p', p], { root: without })).toEqual(a);
    }
  });
});

test('a device starts and stops on a tree without sys/class/mdev_bus (simulated kernel)', () => {
  const { without } = pair('mtty', '-sim');
  const tree = new FakeTree(without);
  const U = 'e0f1a2b3-c4d5-4e6f-8a9b-0c1d2e3f4a5b';
  const h0 = tree.hash();
  expect(run(['--simulate', 'start', '-u', U, '-p', 'mtty', '-t', 'mtty-2'], { root: without })).toEqual({ status: 0, stdout: '', stderr: '' });
  expect(run(['list', '-u', U], { root: without }).stdout).toBe(`${U} mtty mtty-2 manual\n`);
  expect(tree.read('sys/devices/virtual/mtty/mtty/mdev_supported_types/mtty-2/available_instances')).toBe('10\n');
  expect(run(['--dry-run', 'start', '-p', 'mtty', '-t', 'mtty-1', '-u', '00000000-0000-0000-0000-000000000001'], { root: without })).toEqual({
    status: 0,
    stdout: 'sysfs-create /sys/devices/virtual/mtty/mtty/mdev_supported_types/mtty-1/create "00000000-0000-0000-0000-000000000001"\n',
    stderr: '',
  });
  expect(run(['--simulate', 'stop', '-u', U], { root: without })).toEqual({ status: 0, stdout: '', stderr: '' });
  expect(tree.hash()).toBe(h0);
  expect(run(['start', '-u', U, '-p', 'MTTY', '-t', 'mtty-2'], { root: without })).toEqual({
    status: 1,
    stdout: '',
    stderr: "Error: Unable to find parent device 'MTTY'. Did you mean 'mtty'?\n",
  });
});

test('parents deeper than the scan bound, and links, are not followed', () => {
  const t = new FakeTree().withStandardDirs();
  try {
    fs.rmSync(t.p('sys/class/mdev_bus'), { recursive: true });
    const deep = 'a/b/c/d/e/f/g/h/i/0000:99:00.0';
    t.write(`sys/devices/${deep}/mdev_supported_types/deep-1/available_instances`, '1\n');
    t.write(`sys/devices/${deep}/mdev_supported_types/deep-1/device_api`, 'vfio-pci\n');
    t.write('sys/devices/pci0000:00/0000:00:05.0/mdev_supported_types/near-1/available_instances', '2\n');
    t.write('sys/devices/pci0000:00/0000:00:05.0/mdev_supported_types/near-1/device_api', 'vfio-pci\n');
    fs.symlinkSync('../../devices/pci0000:00', t.p('sys/devices/linked'));
    const r = run(['types'], { root: t.root });
    expect(r).toEqual({ status: 0, stdout: '0000:00:05.0\n  near-1\n    Available instances: 2\n    Device API: vfio-pci\n', stderr: '' });
  } finally {
    t.cleanup();
  }
});

describe('NVIDIA vendor-specific VFIO (nvidia_vfio)', () => {
  const root = makeFixture('nvidia_vfio', path.join(base, 'nvidia_vfio'));
  const note =
    "Note: no mdev parent device, but 7 NVIDIA vGPU functions (0000:3d:00.4 ... 0000:5e:00.6) use NVIDIA's vendor-specific VFIO " +
    'and are not managed through mdev: see mdevctl vgpu types (their types) and mdevctl vgpu define/start\n';

  test('types: stdout as on a host without parents, one note on stderr', () => {
    expect(run(['types'], { root })).toEqual({ status: 0, stdout: '', stderr: note });
    expect(run(['types', '--dumpjson'], { root })).toEqual({ status: 0, stdout: '[]', stderr: note });
    expect(run(['types', '-p', '0000:3d:00.4'], { root })).toEqual({ status: 0, stdout: '', stderr: note });
  });

  test('one function: singular wording', () => {
    const one = makeFixture('nvidia_vfio', path.join(base, 'nvidia_vfio_one'));
    for (const vf of ['0000:3d:00.5', '0000:3d:00.6', '0000:3d:00.7', '0000:5e:00.4', '0000:5e:00.5', '0000:5e:00.6'])
      fs.unlinkSync(path.join(one, 'sys/bus/pci/devices', vf));
    expect(run(['types'], { root: one }).stderr).toBe(
      "Note: no mdev parent device, but 1 NVIDIA vGPU function 0000:3d:00.4 uses NVIDIA's vendor-specific VFIO " +
        'and is not managed through mdev: see mdevctl vgpu types (their types) and mdevctl vgpu define/start\n',
    );
  });

  test('list says nothing; a tree with mdev parents says nothing either', () => {
    expect(run(['list'], { root })).toEqual({ status: 0, stdout: '', stderr: '' });
    const empty = makeFixture('empty', path.join(base, 'empty'));
    expect(run(['types'], { root: empty })).toEqual({ status: 0, stdout: '', stderr: '' });
  });
});
