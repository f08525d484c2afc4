/**
 * Fixtures held to reality: kernel-tests/layouts/SERIES/PARENT.json are sysfs layouts captured on
 * real kernels (Debian's 6.1 and 6.12, by `npm run test:kernel`) of each mdev sample parent with
 * one device running. The generated mtty fixture, the committed fixtures/mtty and the simulated
 * kernel must give the same paths, link targets, contents and modes (normalised by
 * kernel-tests/layout.cjs: UUID and IOMMU group number abstracted; power/, uevent and vfio-dev/,
 * which mdevctl never reads, left out).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO, run } from './support/cli';
import { freshFixture, removeFixture } from './support/fixture';

type Entry = { kind: 'dir' | 'file' | 'link' | 'absent'; mode?: string; content?: unknown; target?: string };
type Layout = Record<string, Entry>;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { capture, normalise } = require('../kernel-tests/layout.cjs') as {
  capture: (sys: string, parent: string, uuid: string) => Layout;
  normalise: (layout: Layout, uuid: string) => Layout;
};

const LAYOUTS = path.join(REPO, 'kernel-tests', 'layouts');
const SERIES = fs.readdirSync(LAYOUTS).sort();
const SAMPLES = ['mtty', 'mdpy', 'mbochs'];

interface Captured {
  kernel: string;
  parent: string;
  uuid: string;
  type: string;
  layout: Layout;
}
const load = (series: string, parent: string): Captured => JSON.parse(fs.readFileSync(path.join(LAYOUTS, series, `${parent}.json`), 'utf8')) as Captured;

/** The entries that make up the device itself (normalised paths naming UUID). */
const deviceOnly = (l: Layout): Layout => Object.fromEntries(Object.entries(l).filter(([k]) => k.includes('UUID')));

/** A sys tree holding what REAL holds but the device, as the kernel has it before `create`. */
function parentTree(real: Captured): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `mdevctl-layout-${real.parent}-`));
  const sys = path.join(root, 'sys');
  const kept = normalise(real.layout, real.uuid);
  for (const [rel, e] of Object.entries(kept)) {
    if (rel.includes('UUID')) continue;
    const abs = path.join(sys, rel);
    fs.mkdirSync(e.kind === 'dir' ? abs : path.dirname(abs), { recursive: true });
    if (e.kind === 'link') fs.symlinkSync(e.target!, abs);
    else if (e.kind === 'file') {
      const text = typeof e.content === 'string' ? e.content : '';
      fs.writeFileSync(abs, rel.endsWith('/available_instances') ? '8\n' : text);
      fs.chmodSync(abs, parseInt(e.mode!, 8));
    }
  }
  fs.mkdirSync(path.join(sys, 'bus/mdev/devices'), { recursive: true });
  fs.mkdirSync(path.join(sys, 'kernel/iommu_groups'), { recursive: true });
  return root;
}

test('captures exist for both kernels and every sample, each with its device', () => {
  expect(SERIES).toEqual(['6.1', '6.12']);
  for (const s of SERIES) {
    for (const p of SAMPLES) {
      const c = load(s, p);
      expect(c.kernel.startsWith(`${s}.`)).toBe(true);
      expect(c.layout[`bus/mdev/devices/${c.uuid}`]).toEqual({ kind: 'link', target: `../../../devices/virtual/${p}/${p}/${c.uuid}` });
    }
  }
});

describe.each(SERIES)('Linux %s', (series) => {
  const real = load(series, 'mtty');
  const want = normalise(real.layout, real.uuid);

  test('the generated mtty fixture is the real mtty parent with the same device running', () => {
    const root = freshFixture('mtty');
    try {
      expect(normalise(capture(path.join(root, 'sys'), 'mtty', real.uuid), real.uuid)).toEqual(want);
    } finally {
      removeFixture(root);
    }
  });

  test('the committed fixtures/mtty too, but for what git cannot hold (file modes, empty dirs)', () => {
    const got = normalise(capture(path.join(REPO, 'fixtures', 'mtty', 'sys'), 'mtty', real.uuid), real.uuid);
    const withoutModes = (l: Layout) =>
      Object.fromEntries(
        Object.entries(l).map(([k, e]) => [k, e.kind === 'file' ? { kind: e.kind, content: e.content ?? '' } : { kind: e.kind, target: e.target }]),
      );
    const emptyDirs = Object.keys(want).filter((k) => want[k].kind === 'dir' && !Object.keys(want).some((o) => o.startsWith(`${k}/`)));
    expect(emptyDirs).toEqual(['devices/virtual/mtty/mtty/mdev_supported_types/mtty-1/devices']);
    // a clone lacks them; a working tree where the fixtures were just regenerated has them
    const expected = withoutModes(want);
    const received = withoutModes(got);
    for (const d of emptyDirs) {
      delete expected[d];
      delete received[d];
    }
    expect(received).toEqual(expected);
  });

  test.each(SAMPLES)('the simulated kernel makes the %s device the kernel makes, and removes it', (parent) => {
    const c = load(series, parent);
    const root = parentTree(c);
    try {
      const env = { MDEVCTL_SIMULATE: '1' };
      const started = run(['start', '-p', parent, '-t', c.type, '-u', c.uuid], { root, env });
      expect(started).toEqual({ status: 0, stdout: '', stderr: '' });
      const got = normalise(capture(path.join(root, 'sys'), parent, c.uuid), c.uuid);
      expect(deviceOnly(got)).toEqual(deviceOnly(normalise(c.layout, c.uuid)));
      expect(run(['stop', '-u', c.uuid], { root, env })).toEqual({ status: 0, stdout: '', stderr: '' });
      const after = normalise(capture(path.join(root, 'sys'), parent, c.uuid), c.uuid);
      expect(Object.entries(deviceOnly(after)).filter(([, e]) => e.kind !== 'absent')).toEqual([]);
      const typeDevices = path.join(root, 'sys', 'devices', 'virtual', parent, parent, 'mdev_supported_types', c.type, 'devices');
      expect(fs.readdirSync(typeDevices)).toEqual([]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
