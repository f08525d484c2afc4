/**
 * The callout plan (for --dry-run): which scripts an action would involve, found without running
 * anything but the get/capabilities probes. Library API on a temporary tree.
 */
import { createContext } from '../src/lib/ops/context';
import { MDev } from '../src/lib/model/device';
import { MemoryLog } from '../src/lib/util/log';
import { FakeTree } from './support/tree';
import { addLoggingScript, calls, print, supports } from './support/callout-script';

const P = '0000:00:02.0';
const U = '11111111-2222-3333-4444-555555555555';

const trees: FakeTree[] = [];
afterEach(() => {
  while (trees.length > 0) trees.pop()!.cleanup();
});

function setup(versionedCaps?: string) {
  const t = new FakeTree().withStandardDirs();
  trees.push(t);
  const plain = addLoggingScript(t, 'callouts', '10-plain', { otherwise: 'exit 1' });
  const ver = addLoggingScript(t, 'callouts', '20-ver', { on: versionedCaps ? { 'get/capabilities': versionedCaps } : {} });
  const old = addLoggingScript(t, 'old-callouts', 'old');
  const note = addLoggingScript(t, 'notifiers', 'note');
  const ctx = createContext({ root: t.root, log: new MemoryLog(), env: {} });
  return { t, ctx, plain, ver, old, note, dev: new MDev(U, P, 't1') };
}

test('with a versioned script: that one, and the notifiers', () => {
  const { t, ctx, ver, note, dev } = setup(print(supports(['start'], ['pre', 'post'], 3)));
  expect(ctx.callouts.plan(dev, 'start')).toEqual({
    versioned: { path: ver, version: 3, actions: ['start'], events: ['pre', 'post'] },
    callouts: [ver],
    notifiers: [note],
    problem: undefined,
  });
  expect(ctx.callouts.plan(dev, 'stop').problem).toBe(`Callout script '${ver}' does not support action 'stop'`);
  // only the capability probes ran, once for the parent and type
  expect(calls(t).map((l) => l.split(' <<')[0])).toEqual(['10-plain get/capabilities none', '20-ver get/capabilities none']);
});

test('without one: every callout script in the order they would be asked', () => {
  const { t, ctx, plain, ver, old, note, dev } = setup();
  expect(ctx.callouts.plan(dev, 'define')).toEqual({ versioned: null, callouts: [plain, ver, old], notifiers: [note] });
  expect(calls(t).map((l) => l.split(' <<')[0])).toEqual(['10-plain get/capabilities none', '20-ver get/capabilities none', 'old get/capabilities none']);
});

test('no script installed: an empty plan, nothing run', () => {
  const t = new FakeTree().withStandardDirs();
  trees.push(t);
  const ctx = createContext({ root: t.root, log: new MemoryLog(), env: {} });
  expect(ctx.callouts.plan(new MDev(U, P, 't1'), 'start')).toEqual({ versioned: null, callouts: [], notifiers: [] });
});
