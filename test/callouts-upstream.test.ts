/**
 * Upstream's callout expectations (test/data/upstream/list/active-callout*, modify/*.expected),
 * each case set up as upstream's src/tests/{list,modify}.rs does, with our own small scripts
 * that answer the way upstream's test scripts answer for those cases.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FakeTree, UPSTREAM_TESTDATA } from './support/tree';
import { mdevctl } from './support/cli';
import { addLoggingScript, print, supports } from './support/callout-script';

const LIST = path.join(UPSTREAM_TESTDATA, 'list');
const MODIFY = path.join(UPSTREAM_TESTDATA, 'modify');
const data = (dir: string, name: string) => fs.readFileSync(path.join(dir, name), 'utf8');

const trees: FakeTree[] = [];
afterEach(() => {
  while (trees.length > 0) trees.pop()!.cleanup();
});

describe('list with get/attributes (upstream list/active-callout*)', () => {
  const P2 = '0000:00:02.0';
  const P3 = '0000:00:03.0';
  function listTree(): FakeTree {
    const t = new FakeTree().withStandardDirs();
    trees.push(t);
    t.addParent(P2, { arbitrary_type1: {} }).addParent(P3, { arbitrary_type2: {} });
    t.addActive('976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9', P2, 'arbitrary_type1');
    t.addActive('59e8b599-afdd-4766-a59e-415ef4f5a492', P3, 'arbitrary_type2');
    const dev1 = data(LIST, 'device1.json');
    t.addDefinition(P3, '9f579710-6ffc-4201-987a-4ffa0fb1f3a5', dev1).addDefinition(P2, '9f579710-6ffc-4201-987a-4ffa0fb1f3a5', dev1);
    t.addDefinition(P2, '4a0a190f-dcf3-4def-9342-c48768f0c940', data(LIST, 'device2.json'));
    return t;
  }

  test.each([
    ['active-callout', print('[{"attribute0": "VALUE"}]')],
    ['active-callout-bad-json', print('not json')],
  ])('%s', (name, answer) => {
    const t = listTree();
    // answers every question the same way, as a script that knows nothing of versions
    addLoggingScript(t, 'callouts', 'attrs.sh', { otherwise: answer });
    expect(mdevctl(t.root, 'list')).toEqual({ status: 0, stdout: data(LIST, `${name}.text`), stderr: '' });
    expect(mdevctl(t.root, 'list', '--dumpjson')).toEqual({ status: 0, stdout: data(LIST, `${name}.json`), stderr: '' });
  });
});

describe('modify with callouts (upstream modify/*.expected)', () => {
  const PARENT = '0000:00:03.0';
  const UUID = '976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9';
  const UUID_VER = '11111111-1111-0000-0000-000000000000';
  const UUID_LIVE = '11111111-1111-1111-0000-000000000000';
  const TYPE = 'vfio_ap-passthrough';
  const defPath = (uuid: string) => `etc/mdevctl.d/${PARENT}/${uuid}`;

  function modifyTree(uuid: string, active = false): FakeTree {
    const t = new FakeTree().withStandardDirs();
    trees.push(t);
    t.addDefinition(PARENT, uuid, data(MODIFY, 'defined.json'));
    if (active) t.addParent(PARENT, { [TYPE]: {} }).addActive(uuid, PARENT, TYPE);
    return t;
  }
  const modified = path.join(MODIFY, 'modified.json');

  const V2_NO_LIVE = print(supports(undefined, ['pre', 'post', 'notify', 'get']));
  /** Versioned (without live) for UUID_VER, otherwise not my device; pre and post answer EXIT. */
  const versioned = (exit: number) => ({
    on: { 'get/capabilities': `[ "$U" = ${UUID_VER} ] || exit 2; ${V2_NO_LIVE}`, 'pre/*': `exit ${exit}`, 'post/*': `exit ${exit}` },
  });

  test.each([
    ['callout-pass', { otherwise: 'exit 0' }, []],
    ['callout-fail-force', { otherwise: 'exit 1' }, ['--force']],
  ])('%s', (name, spec, extra) => {
    const t = modifyTree(UUID);
    const script = addLoggingScript(t, 'callouts', 'rc.sh', spec);
    const r = mdevctl(t.root, 'modify', '-u', UUID, '-p', PARENT, '--auto', ...extra);
    const warning = `Warning: Forcing operation 'modify' despite callout failure. Error was: Script '${script}' failed with status '1'\n`;
    expect(r).toEqual({ status: 0, stdout: '', stderr: extra.length > 0 ? warning : '' });
    expect(t.read(defPath(UUID))).toBe(data(MODIFY, `${name}.expected`));
  });

  test('callout-fail: the definition is left alone', () => {
    const t = modifyTree(UUID);
    const script = addLoggingScript(t, 'callouts', 'rc1.sh', { otherwise: 'exit 1' });
    expect(mdevctl(t.root, 'modify', '-u', UUID, '-p', PARENT, '--auto')).toEqual({
      status: 1,
      stdout: '',
      stderr: `Error: Script '${script}' failed with status '1'\n`,
    });
    expect(t.read(defPath(UUID))).toBe(data(MODIFY, 'defined.json'));
  });

  test.each([
    ['modify-jsonfile-with-version-callout-all-pass', []],
    ['modify-jsonfile-with-version-callout-multiple-with-version-pass', [['rc0.sh', 0]]],
    ['modify-jsonfile-with-version-callout-multiple-with-version-pass2', [['rc1.sh', 1]]],
  ] as Array<[string, Array<[string, number]>]>)('%s', (name, plain) => {
    const t = modifyTree(UUID_VER);
    for (const [file, exit] of plain) addLoggingScript(t, 'callouts', file, { otherwise: `exit ${exit}` });
    addLoggingScript(t, 'callouts', 'ver-rc0.sh', versioned(0));
    expect(mdevctl(t.root, 'modify', '-u', UUID_VER, '-p', PARENT, '--jsonfile', modified)).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(t.read(defPath(UUID_VER))).toBe(data(MODIFY, `${name}.expected`));
  });

  test.each([
    ['modify-jsonfile-with-version-callout-all-fail', []],
    ['modify-jsonfile-with-version-callout-multiple-with-version-fail', [['rc0.sh', 0]]],
  ] as Array<[string, Array<[string, number]>]>)('%s: the definition is left alone', (_name, plain) => {
    const t = modifyTree(UUID_VER);
    for (const [file, exit] of plain) addLoggingScript(t, 'callouts', file, { otherwise: `exit ${exit}` });
    const ver = addLoggingScript(t, 'callouts', 'ver-rc1.sh', versioned(1));
    expect(mdevctl(t.root, 'modify', '-u', UUID_VER, '-p', PARENT, '--jsonfile', modified)).toEqual({
      status: 1,
      stdout: '',
      stderr: `Error: Script '${ver}' failed with status '1'\n`,
    });
    expect(t.read(defPath(UUID_VER))).toBe(data(MODIFY, 'defined.json'));
  });

  /**
   * Like upstream's modify-active.sh: versioned with live for UUID_LIVE, without live for
   * UUID_VER, not versioned otherwise; live/modify keeps the attributes it is sent, and
   * get/attributes reports what it kept ([] before).
   */
  function liveScript(t: FakeTree, liveExit = 0): string {
    const state = t.p('live-attrs.json');
    return addLoggingScript(t, 'callouts', 'modify-active.sh', {
      on: {
        'get/capabilities': `case "$U" in ${UUID_LIVE}) ${print(supports())} ;; ${UUID_VER}) ${V2_NO_LIVE} ;; *) exit 2 ;; esac`,
        'get/attributes': `if [ -f '${state}' ]; then cat '${state}'; else echo '[]'; fi`,
        'live/modify': `[ ${liveExit} = 0 ] || exit ${liveExit}; printf '%s' "$IN" | sed 's/.*"attrs":\\(\\[.*\\]\\)}$/\\1/' > '${state}'`,
      },
      otherwise: 'exit 0',
    });
  }

  test('live-event-supported: the running device is changed, the definition is not', () => {
    const t = modifyTree(UUID_LIVE, true);
    liveScript(t);
    expect(mdevctl(t.root, 'modify', '-u', UUID_LIVE, '-p', PARENT, '--live', '--jsonfile', modified)).toEqual({
      status: 0,
      stdout: '',
      stderr: '',
    });
    expect(t.read(defPath(UUID_LIVE))).toBe(data(MODIFY, 'live-event-supported.expected'));
    expect(JSON.parse(t.read('live-attrs.json'))).toEqual(JSON.parse(data(MODIFY, 'modified.json')).attrs);
  });

  test('live-defined-supported: running device and definition both changed', () => {
    const t = modifyTree(UUID_LIVE, true);
    liveScript(t);
    expect(mdevctl(t.root, 'modify', '-u', UUID_LIVE, '-p', PARENT, '--live', '--defined', '--jsonfile', modified)).toEqual({
      status: 0,
      stdout: '',
      stderr: '',
    });
    expect(mdevctl(t.root, 'list', '--dumpjson', '-u', UUID_LIVE, '-p', PARENT)).toEqual({
      status: 0,
      stdout: data(MODIFY, 'live-defined-supported.active.expected'),
      stderr: '',
    });
    expect(t.read(defPath(UUID_LIVE))).toBe(data(MODIFY, 'live-defined-supported.defined.expected'));
  });

  test('defined-only: only the definition changes', () => {
    const t = modifyTree(UUID, true);
    liveScript(t);
    expect(mdevctl(t.root, 'modify', '-u', UUID, '-p', PARENT, '--addattr', 'added-attr', '--value', 'added-attr-value', '--defined')).toEqual({
      status: 0,
      stdout: '',
      stderr: '',
    });
    expect(mdevctl(t.root, 'list', '--dumpjson', '-u', UUID, '-p', PARENT)).toEqual({
      status: 0,
      stdout: data(MODIFY, 'defined-only.active.expected'),
      stderr: '',
    });
    expect(t.read(defPath(UUID))).toBe(data(MODIFY, 'defined-only.defined.expected'));
  });

  test.each([
    ['live-event-unsupported-by-callout', UUID_VER, [], 0, "does not support event 'live'"],
    ['live-defined-live-event-unsupported', UUID_VER, ['--defined'], 0, "does not support event 'live'"],
    ['live-supported-but-fails', UUID_LIVE, [], 1, "failed with status '1'"],
  ] as Array<[string, string, string[], number, string]>)('%s: fails, nothing changed', (_name, uuid, extra, liveExit, why) => {
    const t = modifyTree(uuid, true);
    const script = liveScript(t, liveExit);
    const r = mdevctl(t.root, 'modify', '-u', uuid, '-p', PARENT, '--live', ...extra, '--jsonfile', modified);
    const prefix = why.startsWith('does') ? 'Callout script' : 'Script';
    expect(r).toEqual({ status: 1, stdout: '', stderr: `Error: ${prefix} '${script}' ${why}\n` });
    expect(t.read(defPath(uuid))).toBe(data(MODIFY, 'defined.json'));
    expect(t.exists('live-attrs.json')).toBe(false);
  });
});
