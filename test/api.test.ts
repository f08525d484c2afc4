/**
 * The library API, loaded from the built bundle (dist/index.cjs) as a user's `require` gets it,
 * on fixture roots: its JSON is the CLI's --dumpjson, its lifecycle calls write what the CLI
 * writes, its errors carry the CLI's messages.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { NODE, REPO, run } from './support/cli';
import { freshFixture, removeFixture } from './support/fixture';
import { FakeTree, readOwn } from './support/tree';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const api = require(path.join(REPO, 'dist', 'index.cjs')) as typeof import('../src');

const GVT = '0000:00:02.0';
const RUNNING = 'c27d00a2-be6c-4b8d-9178-e1cf1064a2f1';
const TRANSIENT = '0116002c-a9df-4bf9-8c59-7f190449e1a6';
const DEFINED_V5_2 = '6c446e93-4bc4-4e54-90ac-c443c90d9b65';

const cliOut = (root: string, ...args: string[]) => {
  const r = run(args, { root });
  expect(r.status).toBe(0);
  return r.stdout;
};

describe('list functions match --dumpjson', () => {
  const names = ['gvt', 'nvidia', 'vfio_ap', 'vfio_ccw', 'nvidia_sriov', 'mtty', 'demo'];
  const roots = new Map(names.map((n) => [n, freshFixture(n)]));
  afterAll(() => roots.forEach(removeFixture));

  test.each(names)('%s', (name) => {
    const root = roots.get(name)!;
    for (const defined of [false, true]) {
      const flags = defined ? ['list', '--dumpjson', '-d'] : ['list', '--dumpjson'];
      const text = cliOut(root, ...flags);
      expect(JSON.stringify(api.listDevices({ root, defined }), null, 2)).toBe(text);
      expect(api.listDevicesJson({ root, defined })).toBe(text);
    }
    const types = cliOut(root, 'types', '--dumpjson');
    expect(JSON.stringify(api.listTypes({ root }), null, 2)).toBe(types);
    expect(api.listTypesJson({ root })).toBe(types);
  });

  test('filters, and the single-device form of listDevicesJson', () => {
    const root = roots.get('gvt')!;
    expect(api.listDevicesJson({ root, uuid: RUNNING })).toBe(cliOut(root, 'list', '--dumpjson', '-u', RUNNING));
    expect(JSON.parse(api.listDevicesJson({ root, uuid: RUNNING }))).toEqual({ mdev_type: 'i915-GVTg_V5_4', start: 'auto', attrs: [] });
    // listDevices keeps the list shape, whatever the filter
    expect(api.listDevices({ root, uuid: RUNNING.toUpperCase() })).toEqual([
      { [GVT]: [{ [RUNNING]: { mdev_type: 'i915-GVTg_V5_4', start: 'auto', attrs: [] } }] },
    ]);
    expect(api.listDevices({ root, parent: 'nope' })).toEqual([]);
    expect(api.listTypes({ root, parent: GVT })[0][GVT].map((t) => Object.keys(t)[0])).toEqual([
      'i915-GVTg_V5_1',
      'i915-GVTg_V5_2',
      'i915-GVTg_V5_4',
      'i915-GVTg_V5_8',
    ]);
  });
});

test('integer-like names: the Json text keeps byte order, plain objects follow JavaScript', () => {
  const t = new FakeTree().withStandardDirs();
  try {
    t.addDefinition('b0', '11111111-1111-4111-8111-111111111111', { mdev_type: 'x', start: 'manual', attrs: [] });
    t.addDefinition('10', '22222222-2222-4222-8222-222222222222', { mdev_type: 'y', start: 'auto', attrs: [] });
    t.addDefinition('9', '33333333-3333-4333-8333-333333333333', { mdev_type: 'z', start: 'auto', attrs: [] });
    const text = cliOut(t.root, 'list', '--dumpjson', '-d');
    expect(Object.keys(JSON.parse(text)[0])).toEqual(['9', '10', 'b0']); // JSON.parse reorders too
    expect(text.indexOf('"10"')).toBeLessThan(text.indexOf('"9"')); // the text is in byte order
    expect(api.listDevicesJson({ root: t.root, defined: true })).toBe(text);
    expect(Object.keys(api.listDevices({ root: t.root, defined: true })[0])).toEqual(['9', '10', 'b0']);
  } finally {
    t.cleanup();
  }
});

describe('lifecycle functions', () => {
  let root: string;
  beforeEach(() => {
    root = freshFixture('gvt');
  });
  afterEach(() => removeFixture(root));

  test('defineDevice generates a UUID and stores exactly its config', () => {
    const r = api.defineDevice({ root, parent: GVT, type: 'i915-GVTg_V5_8', auto: true });
    expect(r.generated).toBe(true);
    expect(api.parseUuid(r.uuid)).toBe(r.uuid);
    expect(r).toEqual({
      uuid: r.uuid,
      parent: GVT,
      config: { mdev_type: 'i915-GVTg_V5_8', start: 'auto', attrs: [] },
      active: false,
      defined: true,
      generated: true,
    });
    expect(fs.readFileSync(path.join(root, 'etc/mdevctl.d', GVT, r.uuid), 'utf8')).toBe(JSON.stringify(r.config, null, 2));
    expect(cliOut(root, 'list', '-d', '-u', r.uuid)).toBe(`${r.uuid} ${GVT} i915-GVTg_V5_8 auto\n`);
  });

  test('modifyDevice, then undefineDevice', () => {
    const m = api.modifyDevice({ root, uuid: DEFINED_V5_2, addattr: 'x', value: '1' });
    expect(m.config).toEqual({ mdev_type: 'i915-GVTg_V5_2', start: 'manual', attrs: [{ x: '1' }] });
    const file = path.join(root, 'etc/mdevctl.d', GVT, DEFINED_V5_2);
    expect(fs.readFileSync(file, 'utf8')).toBe(JSON.stringify(m.config, null, 2));
    const u = api.undefineDevice({ root, uuid: DEFINED_V5_2 });
    expect(u.map((d) => [d.uuid, d.parent, d.defined])).toEqual([[DEFINED_V5_2, GVT, false]]);
    expect(fs.existsSync(file)).toBe(false);
  });

  test('startDevice writes create; stopDevice writes remove', () => {
    const uuid = '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d';
    const s = api.startDevice({ root, uuid, parent: GVT, type: 'i915-GVTg_V5_8' });
    expect(s.generated).toBe(false);
    expect(s.active).toBe(true);
    expect(readOwn(path.join(root, 'sys/devices/pci0000:00', GVT, 'mdev_supported_types/i915-GVTg_V5_8/create'))).toBe(uuid);
    expect(api.stopDevice({ root, uuid: TRANSIENT })).toEqual({ uuid: TRANSIENT, parent: GVT, mdev_type: 'i915-GVTg_V5_8' });
    expect(readOwn(path.join(root, 'sys/bus/mdev/devices', TRANSIENT, 'remove'))).toBe('1');
  });

  test('a custom kernel writer sees the writes instead of the files', () => {
    const writes: string[] = [];
    const kernel = {
      create: (dir: string, uuid: string) => writes.push(`create ${path.basename(dir)} ${uuid}`),
      remove: (_dir: string, uuid: string) => writes.push(`remove ${uuid}`),
      writeAttribute: (_dir: string, name: string, value: string) => writes.push(`attr ${name}=${value}`),
    };
    api.stopDevice({ root, uuid: RUNNING, kernel });
    expect(writes).toEqual([`remove ${RUNNING}`]);
    expect(readOwn(path.join(root, 'sys/bus/mdev/devices', RUNNING, 'remove'))).toBe('');
  });

  test('errors are MdevctlError with the CLI message; bad UUIDs are UsageError', () => {
    const cli = run(['stop', '-u', DEFINED_V5_2], { root });
    expect(cli.status).toBe(1);
    let err: unknown;
    try {
      api.stopDevice({ root, uuid: DEFINED_V5_2 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(api.MdevctlError);
    expect(`Error: ${(err as Error).message}\n`).toBe(cli.stderr);
    expect(() => api.startDevice({ root, uuid: 'not-a-uuid', parent: GVT, type: 'i915-GVTg_V5_8' })).toThrow(api.UsageError);
    expect(() => api.defineDevice({ root, parent: GVT })).toThrow(new api.MdevctlError('No type specified'));
  });

  test('warnings go to the log given', () => {
    fs.writeFileSync(path.join(root, 'etc/mdevctl.d', GVT, '00000000-0000-4000-8000-000000000000'), '{not json');
    const log = new api.MemoryLog();
    const list = api.listDevices({ root, defined: true, log });
    expect(Object.keys(list[0][GVT][0])[0]).toBe('270dd1d1-08c0-45bf-8154-f5646e2cb0dd');
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]).toContain('00000000-0000-4000-8000-000000000000');
  });
});

test('watchDevices reports a definition made through the API', async () => {
  const root = freshFixture('gvt');
  const events: unknown[] = [];
  const mon = api.watchDevices({ root, interval: 100, onEvent: (e) => events.push(e) });
  try {
    const d = api.defineDevice({ root, parent: GVT, type: 'i915-GVTg_V5_1' });
    const deadline = Date.now() + 5000;
    while (events.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(events).toEqual([{ event: 'defined', uuid: d.uuid, parent: GVT, config: { mdev_type: 'i915-GVTg_V5_1', start: 'manual', attrs: [] } }]);
  } finally {
    mon.close();
    removeFixture(root);
  }
});

test('the example of docs/api.md runs as written, on a fresh copy of fixtures/demo', () => {
  const doc = fs.readFileSync(path.join(REPO, 'docs', 'api.md'), 'utf8');
  const block = /```js\n([\s\S]*?)```/.exec(doc)![1];
  expect(block).toContain("require('mdevctl-ts')");
  const root = freshFixture('demo');
  try {
    const before = run(['list', '-d'], { root }).stdout;
    const code = block
      .replace("require('mdevctl-ts')", `require(${JSON.stringify(path.join(REPO, 'dist', 'index.cjs'))})`)
      .replace("'fixtures/demo'", JSON.stringify(root));
    const r = spawnSync(NODE, ['-e', code], { encoding: 'utf8', timeout: 20000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("'vfio_ap-passthrough': {");
    expect(r.stdout).toContain('available_instances: 65535');
    expect(r.stdout).toMatch(/^defined [0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/m);
    // the example undefines what it defined
    expect(run(['list', '-d'], { root }).stdout).toBe(before);
  } finally {
    removeFixture(root);
  }
});
