/**
 * Kernel writes that fail, through the library (src/lib) on a fake tree with a stand-in kernel:
 * `create` makes the device directory as the kernel would, and the attribute and `remove` writes
 * go to real files, so each errno below comes from a real write (a directory: EISDIR, /dev/full:
 * ENOSPC, a /proc file that takes numbers only: EINVAL). A failed start leaves no device behind.
 * The errnos no plain file can give (EBUSY, EEXIST) are checked on the mapping itself.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FakeTree } from './support/tree';
import { createContext } from '../src/lib/ops/context';
import { MemoryLog } from '../src/lib/util/log';
import { KernelWriter, Sysfs, directKernelWriter, explainKernelError } from '../src/lib/kernel/sysfs';
import { Root } from '../src/lib/util/root';
import { startDevice } from '../src/lib/ops/start';
import { startParentMdevs } from '../src/lib/ops/start-parent-mdevs';
import { defineDevice } from '../src/lib/ops/define';
import { MdevctlError } from '../src/lib/util/errors';

const P = '0000:00:02.0';
const TYPE = 'i915-GVTg_V5_4';
const U = '976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9';
const U2 = '11111111-2222-4333-8444-555555555555';

type AttrFile = 'file' | 'dir' | 'full' | 'einval' | 'absent';

/** A kernel for a fake tree: create adds the device with these attribute files, remove deletes it. */
function standInKernel(t: FakeTree, attrs: Record<string, AttrFile>, opts: { removeFull?: boolean } = {}) {
  const calls: string[] = [];
  const kernel: KernelWriter = {
    create(_typeDir, uuid) {
      calls.push(`create ${uuid}`);
      t.addActive(uuid, P, TYPE);
      const dir = t.parentDevDir(P, undefined);
      const dev = path.join(dir, uuid);
      for (const [name, kind] of Object.entries(attrs)) {
        const f = path.join(dev, name);
        if (kind === 'file') fs.writeFileSync(f, '');
        else if (kind === 'dir') fs.mkdirSync(f);
        else if (kind === 'full') fs.symlinkSync('/dev/full', f);
        else if (kind === 'einval') fs.symlinkSync('/proc/self/oom_score_adj', f);
      }
      if (opts.removeFull) {
        fs.rmSync(path.join(dev, 'remove'));
        fs.symlinkSync('/dev/full', path.join(dev, 'remove'));
      }
    },
    remove(deviceDir, uuid) {
      calls.push(`remove ${uuid}`);
      directKernelWriter.remove(deviceDir, uuid); // a real write: fails as the file does
      const real = fs.realpathSync(deviceDir);
      fs.rmSync(path.join(path.dirname(real), 'mdev_supported_types', TYPE, 'devices', uuid));
      fs.rmSync(t.p('sys/bus/mdev/devices', uuid));
      fs.rmSync(real, { recursive: true });
    },
    writeAttribute(deviceDir, name, value) {
      calls.push(`attr ${name}=${value}`);
      directKernelWriter.writeAttribute(deviceDir, name, value);
    },
  };
  return { kernel, calls };
}

let trees: FakeTree[] = [];
function tree(): FakeTree {
  const t = new FakeTree().withStandardDirs();
  trees.push(t);
  t.addParent(P, { [TYPE]: { available: 2 } });
  return t;
}
afterEach(() => {
  for (const t of trees) t.cleanup();
  trees = [];
});

function thrown(f: () => unknown): MdevctlError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(MdevctlError);
    return e as MdevctlError;
  }
  throw new Error('expected an error');
}

describe('a failed attribute write stops the device again: nothing is left half-created', () => {
  const attrPath = (t: FakeTree, name: string) => path.join(t.p('sys/bus/mdev/devices', U), name);

  test.each<[string, AttrFile, (t: FakeTree) => string]>([
    [
      'no room (/dev/full): ENOSPC',
      'full',
      (t) => `Failed to write v2 to attribute bad: No space left on device (ENOSPC): no resources left for this value (${attrPath(t, 'bad')})`,
    ],
    ['a directory: EISDIR', 'dir', (t) => `Failed to write v2 to attribute bad: Is a directory (EISDIR) (${attrPath(t, 'bad')})`],
    [
      'a value the file refuses: EINVAL',
      'einval',
      (t) => `Failed to write v2 to attribute bad: Invalid argument (EINVAL): the driver rejected the value (${attrPath(t, 'bad')})`,
    ],
    ['no such attribute', 'absent', () => "Invalid attribute 'bad'"],
  ])('%s', (_name, kind, message) => {
    const t = tree();
    const { kernel, calls } = standInKernel(t, { good: 'file', bad: kind, never: 'file' });
    const ctx = createContext({ root: t.root, kernel, log: new MemoryLog() });
    t.addDefinition(P, U, { mdev_type: TYPE, start: 'manual', attrs: [{ good: 'v1' }, { bad: 'v2' }, { never: 'v3' }] });
    const before = t.snapshot();
    const err = thrown(() => startDevice(ctx, { uuid: U }));
    expect(err.message).toBe(message(t));
    expect(calls).toEqual([`create ${U}`, 'attr good=v1', ...(kind === 'absent' ? [] : ['attr bad=v2']), `remove ${U}`]);
    expect(t.snapshot()).toEqual(before);
  });

  test('when stopping it again fails too, both failures are reported', () => {
    const t = tree();
    t.addDefinition(P, U, { mdev_type: TYPE, start: 'manual', attrs: [{ bad: 'v' }] });
    const { kernel } = standInKernel(t, { bad: 'full' }, { removeFull: true });
    const ctx = createContext({ root: t.root, kernel, log: new MemoryLog() });
    const err = thrown(() => startDevice(ctx, { uuid: U }));
    const dev = t.p('sys/bus/mdev/devices', U);
    expect(err.message).toBe(
      `Error removing device ${U}: No space left on device (ENOSPC) (${dev}/remove); it was being stopped again because setting an attribute failed: ` +
        `Failed to write v to attribute bad: No space left on device (ENOSPC): no resources left for this value (${dev}/bad)`,
    );
  });

  test('start-parent-mdevs: the failing device is rolled back and reported, the next one starts', () => {
    const t = tree();
    t.addDefinition(P, U, { mdev_type: TYPE, start: 'auto', attrs: [{ bad: 'v' }] });
    t.addDefinition(P, U2, { mdev_type: TYPE, start: 'auto', attrs: [{ good: 'ok' }] });
    const { kernel, calls } = standInKernel(t, { good: 'file', bad: 'full' });
    const log = new MemoryLog();
    const ctx = createContext({ root: t.root, kernel, log });
    const res = startParentMdevs(ctx, P);
    expect(res.started).toEqual([U2]);
    expect(res.failed.map((f) => f.uuid)).toEqual([U]);
    expect(calls).toEqual([`create ${U2}`, 'attr good=ok', `create ${U}`, 'attr bad=v', `remove ${U}`]);
    expect(fs.readdirSync(t.p('sys/bus/mdev/devices'))).toEqual([U2]);
    expect(fs.readFileSync(t.p('sys/bus/mdev/devices', U2, 'good'), 'utf8')).toBe('ok');
    expect(log.warnings).toEqual([
      `Failed to start ${U} on ${P}: Failed to write v to attribute bad: No space left on device (ENOSPC): no resources left for this value (${t.p('sys/bus/mdev/devices', U, 'bad')})`,
    ]);
  });

  test('all attributes written in order when nothing fails', () => {
    const t = tree();
    t.addDefinition(P, U, { mdev_type: TYPE, start: 'manual', attrs: [{ a: '1' }, { b: '2' }, { a: '3' }] });
    const { kernel, calls } = standInKernel(t, { a: 'file', b: 'file' });
    startDevice(createContext({ root: t.root, kernel, log: new MemoryLog() }), { uuid: U });
    expect(calls).toEqual([`create ${U}`, 'attr a=1', 'attr b=2', 'attr a=3']);
    expect(fs.readFileSync(t.p('sys/bus/mdev/devices', U, 'a'), 'utf8')).toBe('3');
  });
});

describe('explainKernelError: what each errno means for each write', () => {
  const err = (code: string) => Object.assign(new Error(`${code}: x`), { code });
  test.each([
    ['create', 'EINVAL', 'Invalid argument (EINVAL): the kernel rejected the UUID or the type cannot create more devices'],
    ['create', 'EEXIST', 'File exists (EEXIST): a device with this UUID already exists'],
    ['create', 'ENOSPC', 'No space left on device (ENOSPC): no capacity left for this type on the parent'],
    ['create', 'EBUSY', 'Device or resource busy (EBUSY): the parent device is busy'],
    ['create', 'EPERM', 'Operation not permitted (EPERM): permission denied: mdevctl must run as root'],
    ['create', 'EACCES', 'Permission denied (EACCES): permission denied: mdevctl must run as root'],
    ['create', 'ENODEV', 'No such device (ENODEV): the parent device is gone'],
    ['remove', 'EBUSY', 'Device or resource busy (EBUSY): the device is in use (for example by a running VM)'],
    ['remove', 'EPERM', 'Operation not permitted (EPERM): permission denied: mdevctl must run as root'],
    ['remove', 'ENOENT', 'No such file or directory (ENOENT): the device is not running'],
    ['attribute', 'EINVAL', 'Invalid argument (EINVAL): the driver rejected the value'],
    ['attribute', 'EBUSY', 'Device or resource busy (EBUSY): the device is busy'],
    ['attribute', 'ENOSPC', 'No space left on device (ENOSPC): no resources left for this value'],
    ['attribute', 'EEXIST', 'File exists (EEXIST): the value is already assigned elsewhere'],
    ['attribute', 'EPERM', 'Operation not permitted (EPERM): permission denied: mdevctl must run as root'],
    ['attribute', 'EIO', 'Input/output error (EIO): the driver failed to apply the value'],
    ['create', 'EIO', 'Input/output error (EIO)'],
    ['create', 'EWHATEVER', 'EWHATEVER'],
  ] as Array<['create' | 'remove' | 'attribute', string, string]>)('%s %s', (kind, code, text) => {
    expect(explainKernelError(kind, err(code))).toBe(text);
  });

  test('an error without an errno keeps its message', () => {
    expect(explainKernelError('create', new Error('odd'))).toBe('odd');
  });

  test('Sysfs.create puts the explanation, the device and the file in one line', () => {
    const t = tree();
    const busy: KernelWriter = {
      ...directKernelWriter,
      create: () => {
        throw err('EEXIST');
      },
    };
    const sysfs = new Sysfs(new Root(t.root), new MemoryLog(), busy);
    const typeDir = sysfs.typeDir(P, TYPE);
    const e = thrown(() => sysfs.create(P, TYPE, U, typeDir));
    expect(e.message).toBe(
      `Failed to create mdev ${U}, type ${TYPE} on ${P}: File exists (EEXIST): a device with this UUID already exists (${typeDir}/create)`,
    );
  });
});

describe('names a command line cannot carry (NUL), through the library', () => {
  test('a parent with a NUL byte is refused before anything is written', () => {
    const t = tree();
    const before = t.snapshot();
    const ctx = createContext({ root: t.root, log: new MemoryLog() });
    expect(thrown(() => defineDevice(ctx, { parent: 'a\0/../../x', type: TYPE })).message).toBe(
      "Invalid parent device name 'a\\u0000/../../x': it contains a NUL byte",
    );
    expect(thrown(() => startDevice(ctx, { uuid: U, parent: `${P}\0`, type: TYPE })).message).toBe(
      `Invalid parent device name '${P}\\u0000': it contains a NUL byte`,
    );
    expect(t.snapshot()).toEqual(before);
  });
});

test('DEL and the C1 controls in a refused name are escaped in the message, as the C0 ones are', () => {
  const t = tree();
  const ctx = createContext({ root: t.root, log: new MemoryLog() });
  // found by the property test (seed 2124420774): JSON.stringify leaves DEL as it is
  expect(thrown(() => defineDevice(ctx, { parent: '/\x7f\x9b', type: TYPE })).message).toBe(
    "Invalid parent device name '/\\u007f\\u009b': it contains a control character",
  );
});
