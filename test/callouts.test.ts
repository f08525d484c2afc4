/**
 * Callout and notifier scripts (REFERENCE §8), through the real CLI on temporary trees. The
 * scripts are small sh programs written by test/support/callout-script.ts; each logs every
 * invocation, so the tests assert exactly which script was asked what, in which order.
 */
import * as fs from 'node:fs';
import { FakeTree } from './support/tree';
import { mdevctl, run } from './support/cli';
import { addLoggingScript, calls, print, supports } from './support/callout-script';

const P = '0000:00:02.0';
const U = '11111111-2222-3333-4444-555555555555';
const U2 = '22222222-2222-3333-4444-555555555555';
const CONF = '{"mdev_type":"t1","start":"manual","attrs":[]}';
const PROVIDES =
  '{"provides":{"version":2,"actions":["start","stop","define","undefine","modify","attributes","capabilities"],' +
  '"events":["pre","post","notify","get","live"]}}';
const CAPS = `get/capabilities none <<${PROVIDES}`;

const trees: FakeTree[] = [];
afterEach(() => {
  while (trees.length > 0) trees.pop()!.cleanup();
});

/** A tree with parent P offering t1 (1 instance left) and t2 (none left). */
function newTree(): FakeTree {
  const t = new FakeTree().withStandardDirs();
  t.addParent(P, { t1: { available: 1 }, t2: { available: 0 } });
  trees.push(t);
  return t;
}

const createFile = (t: FakeTree, type = 't1') => t.read(`sys/devices/pci0000:00/${P}/mdev_supported_types/${type}/create`);
const definitionPath = (parent: string, uuid: string) => `etc/mdevctl.d/${parent}/${uuid}`;
const stateOf = (t: FakeTree) => ({ ...t.snapshot('sys'), ...t.snapshot('etc') });
const defText = (type: string, start: 'auto' | 'manual', attrs: Array<Record<string, string>> = []) =>
  JSON.stringify({ mdev_type: type, start, attrs }, null, 2);

describe('no callout script', () => {
  test('commands run as they are; files that are not runnable scripts are never run', () => {
    const t = newTree();
    addLoggingScript(t, 'callouts', 'not-executable', { mode: 0o644, otherwise: 'exit 1' });
    fs.mkdirSync(t.p('usr/lib/mdevctl/scripts.d/callouts/a-directory'));
    fs.symlinkSync('missing-target', t.p('usr/lib/mdevctl/scripts.d/callouts/dangling'));
    addLoggingScript(t, 'notifiers', 'not-executable', { mode: 0o644 });
    expect(mdevctl(t.root, 'define', '-u', U, '-p', P, '-t', 't1')).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(t.read(definitionPath(P, U))).toBe(defText('t1', 'manual'));
    expect(mdevctl(t.root, 'start', '-u', U)).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(createFile(t)).toBe(U);
    expect(calls(t)).toEqual([]);
  });

  test('modify --live needs a versioned script', () => {
    const t = newTree();
    t.addActive(U, P, 't1').addDefinition(P, U, { mdev_type: 't1', start: 'manual', attrs: [] });
    t.write('new.json', defText('t1', 'auto'));
    expect(mdevctl(t.root, 'modify', '-u', U, '--live', '--jsonfile', t.p('new.json'))).toEqual({
      status: 1,
      stdout: '',
      stderr:
        'Error: Live modification is not supported for this device type. Changing the device configuration requires stopping and restarting the device.\n',
    });
  });
});

describe('invocation', () => {
  test('arguments are -t TYPE -e EVENT -a ACTION -s STATE -u UUID -p PARENT', () => {
    const t = newTree();
    addLoggingScript(t, 'callouts', 'args', { logArgs: true });
    expect(mdevctl(t.root, 'define', '-u', U, '-p', P, '-t', 't1')).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(calls(t)).toEqual([
      `args -t t1 -e get -a capabilities -s none -u ${U} -p ${P}`,
      `args -t t1 -e pre -a define -s none -u ${U} -p ${P}`,
      `args -t t1 -e post -a define -s success -u ${U} -p ${P}`,
    ]);
  });

  test('a script for another type (exit 2) is passed over; the next one decides', () => {
    const t = newTree();
    addLoggingScript(t, 'callouts', '10-other', { onlyType: 'other-type', otherwise: 'exit 1' });
    addLoggingScript(t, 'callouts', '20-mine', { onlyType: 't1' });
    expect(mdevctl(t.root, 'define', '-u', U, '-p', P, '-t', 't1')).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(calls(t)).toEqual([
      `10-other ${CAPS}`,
      `20-mine ${CAPS}`,
      `10-other pre/define none <<${CONF}`,
      `20-mine pre/define none <<${CONF}`,
      `20-mine post/define success <<${CONF}`,
    ]);
    expect(t.read(definitionPath(P, U))).toBe(defText('t1', 'manual'));
  });

  test('a script killed by a signal is passed over with a warning', () => {
    const t = newTree();
    const killed = addLoggingScript(t, 'callouts', '10-crash', { on: { 'pre/*': 'kill -KILL $$' } });
    addLoggingScript(t, 'callouts', '20-next', { on: { 'pre/*': 'exit 1' } });
    const next = t.p('usr/lib/mdevctl/scripts.d/callouts/20-next');
    expect(mdevctl(t.root, 'define', '-u', U, '-p', P, '-t', 't1')).toEqual({
      status: 1,
      stdout: '',
      stderr: `Warning: Callout script '${killed}' was terminated by signal SIGKILL\nError: Script '${next}' failed with status '1'\n`,
    });
    expect(t.exists(definitionPath(P, U))).toBe(false);
  });

  test("each line of a script's stderr is shown as NAME: TEXT", () => {
    const t = newTree();
    addLoggingScript(t, 'callouts', 'chatty', { on: { 'pre/define': "printf 'one\\ntwo\\n' >&2; printf 'three' >&2" } });
    expect(mdevctl(t.root, 'define', '-u', U, '-p', P, '-t', 't1')).toEqual({
      status: 0,
      stdout: '',
      stderr: 'chatty: one\nchatty: two\nchatty: three\n',
    });
  });

  test('a script that exits without reading its stdin (EPIPE) is fine', () => {
    const t = newTree();
    addLoggingScript(t, 'callouts', 'deaf', { ignoreStdin: true });
    // far more than a pipe holds, so the write meets a closed pipe
    const attrs = Array.from({ length: 5000 }, (_, i) => ({ [`attribute_${i}`]: 'x'.repeat(20) }));
    t.write('big.json', JSON.stringify({ mdev_type: 't1', start: 'manual', attrs }));
    const r = mdevctl(t.root, 'define', '-u', U, '-p', P, '--jsonfile', t.p('big.json'));
    expect(r).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(JSON.parse(t.read(definitionPath(P, U))).attrs).toHaveLength(5000);
    expect(calls(t)).toEqual(['deaf get/capabilities none', 'deaf pre/define none', 'deaf post/define success']);

    // and its exit status still counts
    const t2 = newTree();
    const refusing = addLoggingScript(t2, 'callouts', 'deaf', { ignoreStdin: true, on: { 'pre/*': 'exit 1' } });
    expect(mdevctl(t2.root, 'define', '-u', U, '-p', P, '--jsonfile', t.p('big.json'))).toEqual({
      status: 1,
      stdout: '',
      stderr: `Error: Script '${refusing}' failed with status '1'\n`,
    });
    expect(t2.exists(definitionPath(P, U))).toBe(false);
  });

  test('a world-writable script is not run, with a warning naming it', () => {
    const t = newTree();
    const file = addLoggingScript(t, 'callouts', 'open', { otherwise: 'exit 1' });
    fs.chmodSync(file, 0o777);
    expect(mdevctl(t.root, 'define', '-u', U, '-p', P, '-t', 't1')).toEqual({
      status: 0,
      stdout: '',
      stderr: `Warning: Not running world-writable script ${file}\n`,
    });
    expect(calls(t)).toEqual([]);
    expect(t.exists(definitionPath(P, U))).toBe(true);
  });
});

describe('pre, command, post, notify', () => {
  function refusingTree(): { t: FakeTree; script: string } {
    const t = newTree();
    const script = addLoggingScript(t, 'callouts', 'check', { on: { 'pre/*': 'echo "refusing $U" >&2; exit 1' } });
    addLoggingScript(t, 'notifiers', 'note');
    return { t, script };
  }

  test('a failing pre callout aborts start and changes nothing; notifiers hear state none', () => {
    const { t, script } = refusingTree();
    const before = stateOf(t);
    expect(mdevctl(t.root, 'start', '-u', U, '-p', P, '-t', 't1')).toEqual({
      status: 1,
      stdout: '',
      stderr: `check: refusing ${U}\nError: Script '${script}' failed with status '1'\n`,
    });
    expect(stateOf(t)).toEqual(before);
    expect(createFile(t)).toBe('');
    expect(calls(t)).toEqual([`check ${CAPS}`, `check pre/start none <<${CONF}`, 'note notify/start none']);
  });

  test('a failing pre callout aborts define: no definition is written', () => {
    const { t, script } = refusingTree();
    const before = stateOf(t);
    expect(mdevctl(t.root, 'define', '-u', U, '-p', P, '-t', 't1')).toEqual({
      status: 1,
      stdout: '',
      stderr: `check: refusing ${U}\nError: Script '${script}' failed with status '1'\n`,
    });
    expect(stateOf(t)).toEqual(before);
    expect(t.exists(definitionPath(P, U))).toBe(false);
  });

  test('--force turns a failing pre callout into a warning; post and notify hear success', () => {
    const { t, script } = refusingTree();
    expect(mdevctl(t.root, 'start', '-u', U, '-p', P, '-t', 't1', '--force')).toEqual({
      status: 0,
      stdout: '',
      stderr: `check: refusing ${U}\n` + `Warning: Forcing operation 'start' despite callout failure. Error was: Script '${script}' failed with status '1'\n`,
    });
    expect(createFile(t)).toBe(U);
    expect(calls(t)).toEqual([`check ${CAPS}`, `check pre/start none <<${CONF}`, `check post/start success <<${CONF}`, 'note notify/start success']);
  });

  test('post and notify hear failure when the command fails', () => {
    const t = newTree();
    addLoggingScript(t, 'callouts', 'check');
    addLoggingScript(t, 'notifiers', 'note');
    const conf = CONF.replace('t1', 't2');
    expect(mdevctl(t.root, 'start', '-u', U, '-p', P, '-t', 't2')).toEqual({
      status: 1,
      stdout: '',
      stderr: `Error: No available instances of t2 on ${P}\n`,
    });
    expect(calls(t)).toEqual([`check ${CAPS}`, `check pre/start none <<${conf}`, `check post/start failure <<${conf}`, 'note notify/start failure']);
  });

  test('a failing post callout or notifier does not change the result; every notifier runs', () => {
    const t = newTree();
    addLoggingScript(t, 'callouts', 'check', { on: { 'post/*': 'echo "post is unhappy" >&2; exit 1' } });
    addLoggingScript(t, 'notifiers', 'n1', { otherwise: 'exit 1' });
    addLoggingScript(t, 'notifiers', 'n2', { otherwise: 'exit 2' });
    addLoggingScript(t, 'old-notifiers', 'n3');
    expect(mdevctl(t.root, 'define', '-u', U, '-p', P, '-t', 't1')).toEqual({
      status: 0,
      stdout: '',
      stderr: 'check: post is unhappy\n',
    });
    expect(calls(t)).toEqual([
      `check ${CAPS}`,
      `check pre/define none <<${CONF}`,
      `check post/define success <<${CONF}`,
      'n1 notify/define success',
      'n2 notify/define success',
      'n3 notify/define success',
    ]);
  });

  test('define, modify, start, stop and undefine are each wrapped', () => {
    const t = newTree();
    addLoggingScript(t, 'callouts', 'check');
    addLoggingScript(t, 'notifiers', 'note');
    t.addActive(U2, P, 't1');
    const steps: Array<[string[], string[]]> = [
      [['define', '-u', U, '-p', P, '-t', 't1'], ['define']],
      [['modify', '-u', U, '--auto'], ['modify']],
      [['start', '-u', U], ['start']],
      [['stop', '-u', U2], ['stop']],
      [['undefine', '-u', U], ['undefine']],
    ];
    const conf: Record<string, string> = {
      define: CONF,
      modify: CONF.replace('manual', 'auto'),
      start: CONF.replace('manual', 'auto'),
      stop: CONF,
      undefine: CONF.replace('manual', 'auto'),
    };
    for (const [args, [action]] of steps) {
      fs.rmSync(t.p('calls.log'), { force: true });
      expect(mdevctl(t.root, ...args)).toEqual({ status: 0, stdout: '', stderr: '' });
      expect(calls(t)).toEqual([
        `check ${CAPS}`,
        `check pre/${action} none <<${conf[action]}`,
        `check post/${action} success <<${conf[action]}`,
        `note notify/${action} success`,
      ]);
    }
    expect(t.read(`sys/devices/pci0000:00/${P}/${U2}/remove`)).toBe('1');
    expect(t.exists(definitionPath(P, U))).toBe(false);
  });

  test('start-parent-mdevs wraps each device; a refused one is reported and the next started', () => {
    const t = newTree();
    addLoggingScript(t, 'callouts', 'check', { on: { [`pre/start`]: `[ "$U" = ${U} ] && exit 1; exit 0` } });
    t.addDefinition(P, U, { mdev_type: 't1', start: 'auto', attrs: [] });
    t.addDefinition(P, U2, { mdev_type: 't1', start: 'auto', attrs: [] });
    const script = t.p('usr/lib/mdevctl/scripts.d/callouts/check');
    expect(mdevctl(t.root, 'start-parent-mdevs', P)).toEqual({
      status: 0,
      stdout: '',
      stderr: `Warning: Failed to start ${U} on ${P}: Script '${script}' failed with status '1'\n`,
    });
    const auto = CONF.replace('manual', 'auto');
    expect(calls(t)).toEqual([
      `check ${CAPS}`, // asked once per parent and type
      `check pre/start none <<${auto}`,
      `check pre/start none <<${auto}`,
      `check post/start success <<${auto}`,
    ]);
    expect(createFile(t)).toBe(U2);
  });
});

describe('versioned scripts (get/capabilities)', () => {
  /** 10-plain is not versioned and refuses every pre; 20-ver answers capabilities with CAPS_CMD. */
  function versionTree(capsCmd: string): { t: FakeTree; plain: string; ver: string } {
    const t = newTree();
    const plain = addLoggingScript(t, 'callouts', '10-plain', { on: { 'pre/*': 'exit 1' } });
    const ver = addLoggingScript(t, 'callouts', '20-ver', { on: { 'get/capabilities': capsCmd } });
    return { t, plain, ver };
  }
  const chosen = [`10-plain ${CAPS}`, `20-ver ${CAPS}`, `20-ver pre/start none <<${CONF}`, `20-ver post/start success <<${CONF}`];
  const notChosen = [`10-plain ${CAPS}`, `20-ver ${CAPS}`, `10-plain pre/start none <<${CONF}`];

  test.each([
    ['valid JSON', `${print(supports())}; exit 0`],
    ['JSON followed by a NUL', `${print(supports())}; printf '\\0'; exit 0`],
    ['valid JSON with exit 1', `${print(supports())}; exit 1`],
    ['an unknown action and event', `${print(supports(['start', 'dummy'], ['pre', 'post', 'dummy'], 7))}`],
    ['extra top-level keys', print(`{"provides":{"version":2,"actions":[],"events":[]},"supports":${JSON.stringify(JSON.parse(supports()).supports)}}`)],
  ])('%s: the script is chosen for every event', (_name, capsCmd) => {
    const { t } = versionTree(capsCmd);
    expect(mdevctl(t.root, 'start', '-u', U, '-p', P, '-t', 't1')).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(calls(t)).toEqual(chosen);
    expect(createFile(t)).toBe(U);
  });

  test.each([
    ['output that is not JSON', "echo 'This output is bad'; exit 0"],
    ['valid JSON with exit 2', `${print(supports())}; exit 2`],
    ['JSON without "supports"', `${print('{"version":2}')}; exit 0`],
  ])('%s: not versioned, the plain search decides', (_name, capsCmd) => {
    const { t, plain } = versionTree(capsCmd);
    expect(mdevctl(t.root, 'start', '-u', U, '-p', P, '-t', 't1')).toEqual({
      status: 1,
      stdout: '',
      stderr: `Error: Script '${plain}' failed with status '1'\n`,
    });
    expect(calls(t)).toEqual(notChosen);
    expect(createFile(t)).toBe('');
  });

  test('a versioned script that does not list the action refuses it (pre fails, --force goes on)', () => {
    const { t, ver } = versionTree(print(supports(['stop', 'define', 'capabilities'])));
    expect(mdevctl(t.root, 'start', '-u', U, '-p', P, '-t', 't1')).toEqual({
      status: 1,
      stdout: '',
      stderr: `Error: Callout script '${ver}' does not support action 'start'\n`,
    });
    expect(calls(t)).toEqual([`10-plain ${CAPS}`, `20-ver ${CAPS}`]);
    expect(createFile(t)).toBe('');

    fs.rmSync(t.p('calls.log'));
    expect(mdevctl(t.root, 'start', '-u', U, '-p', P, '-t', 't1', '--force')).toEqual({
      status: 0,
      stdout: '',
      stderr: `Warning: Forcing operation 'start' despite callout failure. Error was: Callout script '${ver}' does not support action 'start'\n`,
    });
    expect(calls(t)).toEqual([`10-plain ${CAPS}`, `20-ver ${CAPS}`]);
    expect(createFile(t)).toBe(U);
  });

  test('a versioned script that does not list an event is not asked it', () => {
    const { t } = versionTree(print(supports(undefined, ['pre', 'get'])));
    expect(mdevctl(t.root, 'start', '-u', U, '-p', P, '-t', 't1')).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(calls(t)).toEqual([`10-plain ${CAPS}`, `20-ver ${CAPS}`, `20-ver pre/start none <<${CONF}`]);
  });

  test('a versioned script that fails pre aborts; its stderr is shown', () => {
    const t = newTree();
    const ver = addLoggingScript(t, 'callouts', 'ver', {
      on: { 'get/capabilities': print(supports()), 'pre/start': 'echo no >&2; exit 3' },
    });
    expect(mdevctl(t.root, 'start', '-u', U, '-p', P, '-t', 't1')).toEqual({
      status: 1,
      stdout: '',
      stderr: `ver: no\nError: Script '${ver}' failed with status '3'\n`,
    });
    expect(createFile(t)).toBe('');
  });
});

describe('get/attributes', () => {
  function activeTree(attrsCmd: string, spec: { versioned?: string } = {}): { t: FakeTree; script: string } {
    const t = newTree();
    t.addActive(U, P, 't1');
    const on: Record<string, string> = { 'get/attributes': attrsCmd };
    if (spec.versioned) on['get/capabilities'] = spec.versioned;
    const script = addLoggingScript(t, 'callouts', 'attrs', { on });
    return { t, script };
  }
  const line = `${U} ${P} t1 manual\n`;

  test('list shows the attributes a script reports for a running device', () => {
    const { t } = activeTree(print('[{"assign_adapter":"5"},{"assign_domain":"0xab"}]'));
    expect(mdevctl(t.root, 'list', '-v')).toEqual({
      status: 0,
      stdout: `${line}  Attrs:\n    @{0}: {"assign_adapter":"5"}\n    @{1}: {"assign_domain":"0xab"}\n`,
      stderr: '',
    });
    expect(calls(t)).toEqual([`attrs ${CAPS}`, 'attrs get/attributes none']);
    expect(mdevctl(t.root, 'list', '--dumpjson', '-u', U).stdout).toBe(
      `${JSON.stringify({ mdev_type: 't1', start: 'manual', attrs: [{ assign_adapter: '5' }, { assign_domain: '0xab' }] }, null, 2)}`,
    );
  });

  test('a versioned script is asked too; one not listing "attributes" gives none', () => {
    let { t } = activeTree(print('[{"a":"1"}]'), { versioned: print(supports()) });
    expect(mdevctl(t.root, 'list', '-v')).toEqual({ status: 0, stdout: `${line}  Attrs:\n    @{0}: {"a":"1"}\n`, stderr: '' });
    ({ t } = activeTree(print('[{"a":"1"}]'), { versioned: print(supports(['start'])) }));
    expect(mdevctl(t.root, 'list', '-v')).toEqual({ status: 0, stdout: line, stderr: '' });
    expect(calls(t)).toEqual([`attrs ${CAPS}`]);
  });

  test.each([
    ['bad JSON', print('not json')],
    ['empty output', 'exit 0'],
    ['[{}]', print('[{}]')],
    ['a NUL-terminated empty list', "printf '[]\\0'"],
    ['not a list', print('{"a":"1"}')],
  ])('list ignores %s', (_name, cmd) => {
    const { t } = activeTree(cmd);
    expect(mdevctl(t.root, 'list', '-v')).toEqual({ status: 0, stdout: line, stderr: '' });
    expect(mdevctl(t.root, 'list', '--dumpjson')).toEqual({
      status: 0,
      stdout: `${JSON.stringify([{ [P]: [{ [U]: { mdev_type: 't1', start: 'manual', attrs: [] } }] }], null, 2)}`,
      stderr: '',
    });
  });

  test('list ignores a failing script, showing its stderr', () => {
    const { t } = activeTree('echo broken >&2; exit 1');
    expect(mdevctl(t.root, 'list')).toEqual({ status: 0, stdout: line, stderr: 'attrs: broken\n' });
  });

  test('define -u of a running device stores the attributes', () => {
    const { t } = activeTree(print('[{"assign_adapter":"5"}]'));
    expect(mdevctl(t.root, 'define', '-u', U)).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(t.read(definitionPath(P, U))).toBe(defText('t1', 'manual', [{ assign_adapter: '5' }]));
    expect(calls(t)).toEqual([`attrs ${CAPS}`, `attrs pre/define none <<${CONF}`, 'attrs get/attributes none', `attrs post/define success <<${CONF}`]);
  });

  test('define -u of a running device fails on bad JSON and writes nothing', () => {
    const { t, script } = activeTree(print('not json'));
    const r = mdevctl(t.root, 'define', '-u', U);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.startsWith(`Error: Invalid JSON received from callout script '${script}': `)).toBe(true);
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(t.exists(definitionPath(P, U))).toBe(false);
    expect(calls(t)).toEqual([`attrs ${CAPS}`, `attrs pre/define none <<${CONF}`, 'attrs get/attributes none', `attrs post/define failure <<${CONF}`]);
  });

  test('define -u of a running device fails when the script fails', () => {
    const { t, script } = activeTree('exit 4');
    expect(mdevctl(t.root, 'define', '-u', U)).toEqual({
      status: 1,
      stdout: '',
      stderr: `Error: Script '${script}' failed with status '4'\n`,
    });
    expect(t.exists(definitionPath(P, U))).toBe(false);
  });
});

describe('modify --live', () => {
  const NEW = { mdev_type: 't1', start: 'auto', attrs: [{ assign_adapter: '6' }] };
  const NEW_CONF = JSON.stringify(NEW);
  function liveTree(capsCmd?: string): { t: FakeTree; script: string } {
    const t = newTree();
    t.addActive(U, P, 't1').addDefinition(P, U, { mdev_type: 't1', start: 'manual', attrs: [] });
    t.write('new.json', JSON.stringify(NEW, null, 2));
    const script = addLoggingScript(t, 'callouts', 'live', { on: capsCmd ? { 'get/capabilities': capsCmd } : {} });
    addLoggingScript(t, 'notifiers', 'note');
    return { t, script };
  }

  test('sends the new config to the versioned script; the definition is unchanged', () => {
    const { t } = liveTree(print(supports()));
    expect(mdevctl(t.root, 'modify', '-u', U, '--live', '--jsonfile', t.p('new.json'))).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(calls(t)).toEqual([`live ${CAPS}`, `live live/modify none <<${NEW_CONF}`, 'note notify/modify none']);
    expect(t.read(definitionPath(P, U))).toBe(defText('t1', 'manual'));
  });

  test('with --defined the definition is modified too (pre, post, notify around it)', () => {
    const { t } = liveTree(print(supports()));
    expect(mdevctl(t.root, 'modify', '-u', U, '--live', '--defined', '--jsonfile', t.p('new.json'))).toEqual({
      status: 0,
      stdout: '',
      stderr: '',
    });
    expect(calls(t)).toEqual([
      `live ${CAPS}`,
      `live live/modify none <<${NEW_CONF}`,
      'note notify/modify none',
      `live pre/modify none <<${NEW_CONF}`,
      `live post/modify success <<${NEW_CONF}`,
      'note notify/modify success',
    ]);
    expect(t.read(definitionPath(P, U))).toBe(JSON.stringify(NEW, null, 2));
  });

  test('a failing live callout fails the command and leaves the definition alone', () => {
    const t = newTree();
    t.addActive(U, P, 't1').addDefinition(P, U, { mdev_type: 't1', start: 'manual', attrs: [] });
    t.write('new.json', JSON.stringify(NEW));
    const script = addLoggingScript(t, 'callouts', 'live', {
      on: { 'get/capabilities': print(supports()), 'live/modify': 'echo "cannot do that" >&2; exit 1' },
    });
    expect(mdevctl(t.root, 'modify', '-u', U, '--live', '--defined', '--jsonfile', t.p('new.json'))).toEqual({
      status: 1,
      stdout: '',
      stderr: `live: cannot do that\nError: Script '${script}' failed with status '1'\n`,
    });
    expect(t.read(definitionPath(P, U))).toBe(defText('t1', 'manual'));
  });

  test('refused: the type may not change (no script is asked)', () => {
    const { t } = liveTree(print(supports()));
    t.write('other.json', JSON.stringify({ ...NEW, mdev_type: 't2' }));
    expect(mdevctl(t.root, 'modify', '-u', U, '--live', '--jsonfile', t.p('other.json'))).toEqual({
      status: 1,
      stdout: '',
      stderr: "Error: 'type' cannot be changed on active mdev\n",
    });
    expect(calls(t)).toEqual([]);
  });

  test('refused: no versioned script', () => {
    const { t } = liveTree();
    expect(mdevctl(t.root, 'modify', '-u', U, '--live', '--jsonfile', t.p('new.json'))).toEqual({
      status: 1,
      stdout: '',
      stderr:
        'Error: Live modification is not supported for this device type. Changing the device configuration requires stopping and restarting the device.\n',
    });
    expect(calls(t)).toEqual([`live ${CAPS}`]);
  });

  test('refused: the versioned script does not list the live event', () => {
    const { t, script } = liveTree(print(supports(undefined, ['pre', 'post', 'notify', 'get'])));
    expect(mdevctl(t.root, 'modify', '-u', U, '--live', '--defined', '--jsonfile', t.p('new.json'))).toEqual({
      status: 1,
      stdout: '',
      stderr: `Error: Callout script '${script}' does not support event 'live'\n`,
    });
    expect(calls(t)).toEqual([`live ${CAPS}`]);
    expect(t.read(definitionPath(P, U))).toBe(defText('t1', 'manual'));
  });
});

describe('the deprecated directory etc/mdevctl.d/scripts.d', () => {
  test('its scripts are still used', () => {
    const t = newTree();
    const old = addLoggingScript(t, 'old-callouts', 'old', { on: { 'pre/*': 'exit 1' } });
    addLoggingScript(t, 'old-notifiers', 'old-note');
    expect(mdevctl(t.root, 'start', '-u', U, '-p', P, '-t', 't1')).toEqual({
      status: 1,
      stdout: '',
      stderr: `Error: Script '${old}' failed with status '1'\n`,
    });
    expect(calls(t)).toEqual([`old ${CAPS}`, `old pre/start none <<${CONF}`, 'old-note notify/start none']);
  });

  test('it is asked when no script in the current directory claimed the device', () => {
    const t = newTree();
    addLoggingScript(t, 'callouts', 'new', { otherwise: 'exit 2' });
    const old = addLoggingScript(t, 'old-callouts', 'old', { on: { 'pre/*': 'exit 1' } });
    expect(mdevctl(t.root, 'start', '-u', U, '-p', P, '-t', 't1')).toEqual({
      status: 1,
      stdout: '',
      stderr: `Error: Script '${old}' failed with status '1'\n`,
    });
    expect(calls(t)).toEqual([`new ${CAPS}`, `old ${CAPS}`, `new pre/start none <<${CONF}`, `old pre/start none <<${CONF}`]);
  });

  test('it is not asked when a script in the current directory claimed the device', () => {
    const t = newTree();
    addLoggingScript(t, 'callouts', 'new');
    addLoggingScript(t, 'old-callouts', 'old', { on: { 'pre/*': 'exit 1' } });
    expect(mdevctl(t.root, 'start', '-u', U, '-p', P, '-t', 't1')).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(calls(t)).toEqual([`new ${CAPS}`, `old ${CAPS}`, `new pre/start none <<${CONF}`, `new post/start success <<${CONF}`]);
  });

  test('a versioned script there is found when the current directory has none', () => {
    const t = newTree();
    addLoggingScript(t, 'callouts', 'new', { on: { 'pre/*': 'exit 1' } });
    addLoggingScript(t, 'old-callouts', 'old', { on: { 'get/capabilities': print(supports()) } });
    expect(mdevctl(t.root, 'start', '-u', U, '-p', P, '-t', 't1')).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(calls(t)).toEqual([`new ${CAPS}`, `old ${CAPS}`, `old pre/start none <<${CONF}`, `old post/start success <<${CONF}`]);
  });
});

describe('time limit (MDEVCTL_CALLOUT_TIMEOUT)', () => {
  // long enough that a hanging script has surely reached its hang (started its sleep, written its
  // pid) on a loaded machine before it is killed, so that what it printed and started is the same
  // every run; the sleeps are far longer (600 s), so the command ending at all proves the kill
  const LIMIT = '5';
  const env = { MDEVCTL_CALLOUT_TIMEOUT: LIMIT };
  /** The pid of the background `sleep` a hanging script started, once it is written. */
  function alive(pid: number): boolean {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      return !/^\d+ \(.*\) Z/.test(stat); // a zombie is dead
    } catch {
      return false;
    }
  }

  test('a hanging pre callout is killed (with what it started) and fails the command', () => {
    const t = newTree();
    const pidFile = t.p('sleep.pid');
    const script = addLoggingScript(t, 'callouts', 'hang', {
      on: { 'pre/start': `echo starting >&2; sleep 600 & echo $! > '${pidFile}'; wait` },
    });
    const t0 = Date.now();
    const r = run(['start', '-u', U, '-p', P, '-t', 't1'], { root: t.root, env, timeoutMs: 300_000 });
    expect(Date.now() - t0).toBeLessThan(60_000); // not the sleep's 600 s: it was killed
    expect(r).toEqual({
      status: 1,
      stdout: '',
      stderr: `hang: starting\nError: Script '${script}' did not finish within ${LIMIT} s and was killed\n`,
    });
    expect(createFile(t)).toBe('');
    expect(alive(Number(fs.readFileSync(pidFile, 'utf8')))).toBe(false);
  });

  test('a hanging get/attributes is killed; list goes on and says so', () => {
    const t = newTree();
    t.addActive(U, P, 't1');
    const script = addLoggingScript(t, 'callouts', 'hang', { on: { 'get/attributes': 'exec sleep 600' } });
    const r = run(['list'], { root: t.root, env });
    expect(r).toEqual({
      status: 0,
      stdout: `${U} ${P} t1 manual\n`,
      stderr: `Warning: Script '${script}' did not finish within ${LIMIT} s and was killed\n`,
    });
  });

  test('a hanging notifier is killed and reported; the command succeeds', () => {
    const t = newTree();
    const script = addLoggingScript(t, 'notifiers', 'hang', { otherwise: 'exec sleep 600' });
    const r = run(['define', '-u', U, '-p', P, '-t', 't1'], { root: t.root, env });
    expect(r).toEqual({
      status: 0,
      stdout: '',
      stderr: `Warning: Script '${script}' did not finish within ${LIMIT} s and was killed\n`,
    });
    expect(t.exists(definitionPath(P, U))).toBe(true);
  });

  test('an invalid value is reported and the default used', () => {
    const t = newTree();
    addLoggingScript(t, 'callouts', 'ok');
    const r = run(['define', '-u', U, '-p', P, '-t', 't1'], { root: t.root, env: { MDEVCTL_CALLOUT_TIMEOUT: 'soon' } });
    expect(r).toEqual({
      status: 0,
      stdout: '',
      stderr: "Warning: Ignoring MDEVCTL_CALLOUT_TIMEOUT='soon' (not a number of seconds); using 30\n",
    });
  });
});
