/**
 * Upstream's test scenarios that the other test files do not already run, through the real CLI,
 * set up as upstream's src/tests/*.rs sets them up: load-json, invalid-files, start (with and
 * without callout scripts, including the per-scenario start/NAME/defined.json files), stop, and
 * define and undefine with callout scripts (define.rs). Callout scripts are our own small sh
 * scripts answering as upstream's testdata/callouts/rc0.sh, rc1.sh, ver-rc0.sh, ver-rc1.sh,
 * good-json.sh and bad-json.sh answer (those scripts are not in test/data/upstream).
 *
 * The first test checks that every scenario directory of test/data/upstream (upstream's
 * testdata) is exercised by a named test file here, so a directory added there cannot go
 * unnoticed: list, types (test/list-types.test.ts, test/callouts-upstream.test.ts), define,
 * modify, undefine, start/defined.json (test/lifecycle.test.ts, test/callouts-upstream.test.ts),
 * and the rest (this file).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FakeTree, UPSTREAM_TESTDATA } from './support/tree';
import { mdevctl, run, RunResult } from './support/cli';
import { addLoggingScript, print, supports } from './support/callout-script';

const data = (rel: string) => path.join(UPSTREAM_TESTDATA, rel);
const readData = (rel: string) => fs.readFileSync(data(rel), 'utf8');

const trees: FakeTree[] = [];
function newTree(): FakeTree {
  const t = new FakeTree().withStandardDirs();
  trees.push(t);
  return t;
}
afterEach(() => {
  while (trees.length > 0) trees.pop()!.cleanup();
});

/** Every directory under test/data/upstream (relative, `/`-separated), and the files in all. */
function walk(): { dirs: string[]; files: string[] } {
  const dirs: string[] = [];
  const files: string[] = [];
  const go = (rel: string) => {
    for (const e of fs.readdirSync(path.join(UPSTREAM_TESTDATA, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        dirs.push(r);
        go(r);
      } else files.push(r);
    }
  };
  go('');
  return { dirs: dirs.sort(), files: files.sort() };
}

/** Which test file exercises each scenario directory (it must name the directory). */
const EXERCISED_BY: Record<string, string[]> = {
  define: ['lifecycle.test.ts'],
  'invalid-files': ['upstream-scenarios.test.ts'],
  list: ['list-types.test.ts', 'callouts-upstream.test.ts'],
  'load-json': ['upstream-scenarios.test.ts'],
  modify: ['lifecycle.test.ts', 'callouts-upstream.test.ts'],
  start: ['lifecycle.test.ts', 'upstream-scenarios.test.ts'],
  'start/defined-diff-type': ['upstream-scenarios.test.ts'],
  'start/defined-multiple': ['upstream-scenarios.test.ts'],
  'start/defined-multiple-underspecified': ['upstream-scenarios.test.ts'],
  'start/defined-multiple-underspecified/defined': ['upstream-scenarios.test.ts'],
  'start/defined-with-type': ['upstream-scenarios.test.ts'],
  'start/no-type-parent-defined': ['upstream-scenarios.test.ts'],
  types: ['list-types.test.ts'],
  undefine: ['lifecycle.test.ts', 'upstream-scenarios.test.ts'],
};

test('every scenario directory of upstream testdata is exercised by a test file that names it', () => {
  const { dirs, files } = walk();
  // 8 top-level scenario directories (14 with the 6 under start/), 102 files
  expect(dirs).toEqual(Object.keys(EXERCISED_BY).sort());
  expect(dirs.filter((d) => !d.includes('/'))).toHaveLength(8);
  expect(files).toHaveLength(102);
  for (const [dir, testFiles] of Object.entries(EXERCISED_BY)) {
    for (const f of testFiles) {
      const src = fs.readFileSync(path.join(__dirname, f), 'utf8');
      const named = [`'${dir}'`, `'${dir}/`, `\`${dir}/`, `(${JSON.stringify(dir)})`].some((s) => src.includes(s));
      expect({ dir, f, named }).toEqual({ dir, f, named: true });
    }
  }
});

describe('load-json (upstream mod.rs test_load_json)', () => {
  // UUID -> parent, as upstream's test gives them
  test.each([
    ['c07ab7b2-8aa2-427a-91c6-ffc949bb77f9', '0000:00:02.0'],
    ['783e6dbb-ea0e-411f-94e2-717eaad438bf', '0001:00:03.1'],
    ['5269fe7a-18d1-48ad-88e1-3fda4176f536', '0000:00:03.0'],
  ])('%s on %s: the stored definition and list --dumpjson are the .out bytes', (uuid, parent) => {
    const t = newTree();
    const out = readData(`load-json/${uuid}.out`);
    expect(mdevctl(t.root, 'define', '-u', uuid, '-p', parent, '--jsonfile', data(`load-json/${uuid}.in`))).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(t.read(`etc/mdevctl.d/${parent}/${uuid}`)).toBe(out);
    expect(mdevctl(t.root, 'list', '-d', '--dumpjson', '-u', uuid)).toEqual({ status: 0, stdout: out, stderr: '' });
  });

  // upstream's three failing cases name files that are not in its testdata: these are the
  // malformed attribute shapes its comments describe
  test.each([
    ['an array of one object with several fields', '[{"a":"1","b":"2"}]'],
    ['an array of strings', '["a","b"]'],
    ['no array', '{"a":"1"}'],
  ])('attrs as %s: one Error line, nothing stored', (_name, attrs) => {
    const t = newTree();
    const file = t.p('in.json');
    fs.writeFileSync(file, `{"mdev_type":"i915-GVTg_V5_8","start":"auto","attrs":${attrs}}`);
    const r = mdevctl(t.root, 'define', '-u', 'b6f7e33f-ea28-4f9d-8c42-797ff0ec2888', '-p', '0000:00:03.0', '--jsonfile', file);
    expect({ status: r.status, stdout: r.stdout, lines: r.stderr.split('\n').length }).toEqual({ status: 1, stdout: '', lines: 2 });
    expect(r.stderr).toMatch(/^Error: .*attribute/);
    expect(fs.existsSync(t.p('etc/mdevctl.d/0000:00:03.0'))).toBe(false);
  });
});

describe('invalid-files (upstream list.rs test_invalid_files)', () => {
  const PARENT = '0000:00:03.0';
  test('an active device whose name is not a UUID: list runs, shows nothing', () => {
    const t = newTree();
    t.addParent(PARENT, { arbitrary_type: {} });
    t.addActive('invalid-uuid-value', PARENT, 'arbitrary_type');
    expect(mdevctl(t.root, 'list')).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(mdevctl(t.root, 'list', '--dumpjson')).toEqual({ status: 0, stdout: '[]', stderr: '' });
  });

  test('a definition file whose name is not a UUID: list -d runs, shows nothing', () => {
    const t = newTree();
    t.addDefinition(PARENT, 'invalid-uuid-value', readData('invalid-files/device.json'));
    expect(mdevctl(t.root, 'list', '-d')).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(mdevctl(t.root, 'list', '-d', '--dumpjson')).toEqual({ status: 0, stdout: '[]', stderr: '' });
  });
});

const UUID = '976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9';
const UUID_VER = '11111111-1111-0000-0000-000000000000';
const PARENT = '0000:00:03.0';
const PARENT2 = '0000:00:02.0';
const PARENT3 = '0000:2b:00.0';
const TYPE = 'arbitrary_type';

/** Upstream's callout test scripts, by name: what each answers. */
const VERSIONED = `[ "$U" = ${UUID_VER} ] || exit 1; ${print(supports(undefined, ['pre', 'post', 'notify', 'get']))}`;
const SCRIPTS: Record<string, Parameters<typeof addLoggingScript>[3]> = {
  'rc0.sh': { otherwise: 'exit 0' },
  'rc1.sh': { otherwise: 'exit 1' },
  'ver-rc0.sh': {
    on: { 'get/capabilities': VERSIONED, 'get/attributes': print('[{"attribute0": "VALUE"}]'), 'pre/*': 'exit 0', 'post/*': 'exit 0' },
    otherwise: 'exit 1',
  },
  'ver-rc1.sh': { on: { 'get/capabilities': VERSIONED, 'get/attributes': print('[{"attribute0": "VALUE"}]') }, otherwise: 'exit 1' },
  'good-json.sh': { otherwise: print('[{"attribute0": "VALUE"}]') },
  'bad-json.sh': { otherwise: print('not json') },
};

interface Setup {
  parents?: Array<[string, number?]>;
  defined?: string[];
  /** where the definitions come from (default start/defined.json) */
  definedFile?: string;
  active?: boolean;
  scripts?: string[];
}

function startTree(uuid: string, s: Setup): FakeTree {
  const t = newTree();
  for (const [p, n] of s.parents ?? []) t.addParent(p, { [TYPE]: { available: n ?? 1, deviceApi: 'vfio-pci', name: 'test device' } });
  (s.defined ?? []).forEach((p, i) => {
    // a scenario's own files: NAME/defined.json for the first parent, NAME/defined/defined.json
    // (where upstream has one) for the second
    const own = s.definedFile && i > 0 && fs.existsSync(data(`${path.dirname(s.definedFile)}/defined/defined.json`));
    const file = own ? `${path.dirname(s.definedFile!)}/defined/defined.json` : (s.definedFile ?? 'start/defined.json');
    t.addDefinition(p, uuid, readData(file));
  });
  if (s.active) t.addActive(uuid, PARENT, TYPE);
  for (const name of s.scripts ?? []) addLoggingScript(t, 'callouts', name, SCRIPTS[name]);
  return t;
}

/** The `create` file of every parent's type, by parent. */
function creates(t: FakeTree): Record<string, string> {
  const out: Record<string, string> = {};
  const base = t.p('sys/class/mdev_bus');
  for (const p of fs.readdirSync(base)) out[p] = fs.readFileSync(path.join(base, p, 'mdev_supported_types', TYPE, 'create'), 'utf8');
  return out;
}

function expectFailed(r: RunResult, message?: string): void {
  expect({ stdout: r.stdout, ok: r.status === 1 || r.status === 2 }).toEqual({ stdout: '', ok: true });
  expect(r.stderr).toMatch(/^(Warning: .*\n)*(Error|error): /); // warnings (undefine: one per device) first
  if (message !== undefined) expect(r).toEqual({ status: 1, stdout: '', stderr: `Error: ${message}\n` });
}

describe('start (upstream startstop.rs test_start)', () => {
  type Case = [name: string, pass: boolean, args: string[], setup: Setup, message?: string];
  const one: Setup = { parents: [[PARENT]] };
  const definedOne: Setup = { parents: [[PARENT]], defined: [PARENT] };
  const definedTwo: Setup = { parents: [[PARENT], [PARENT2]], defined: [PARENT, PARENT2] };
  const withScripts = (s: Setup, ...scripts: string[]): Setup => ({ ...s, scripts });
  const cases: Case[] = [
    ['uuid-type-parent', true, ['-u', UUID, '-p', PARENT, '-t', TYPE], one],
    ['no-uuid', true, ['-p', PARENT, '-t', TYPE], one],
    ['no-uuid-no-parent', false, ['-t', TYPE], one],
    ['no-uuid-no-type', false, ['-p', PARENT], one],
    ['no-parent', false, ['-u', UUID, '-t', TYPE], {}],
    ['no-type', false, ['-u', UUID, '-p', PARENT], {}],
    ['no-type-defined', true, ['-u', UUID, '-p', PARENT], definedOne],
    ['no-type-parent-defined', true, ['-u', UUID], definedOne],
    ['defined-with-type', true, ['-u', UUID, '-p', PARENT, '-t', TYPE], definedTwo],
    ['defined-multiple-underspecified', false, ['-u', UUID], definedTwo],
    ['defined-multiple', true, ['-u', UUID, '-p', PARENT], definedTwo],
    ['defined-diff-type', false, ['-u', UUID, '-p', PARENT, '-t', 'wrong-type'], definedOne],
    ['already-running', false, ['-u', UUID, '-p', PARENT, '-t', TYPE], { parents: [[PARENT]], active: true }, 'Device already exists'],
    ['no-instances', false, ['-u', UUID, '-p', PARENT, '-t', TYPE], { parents: [[PARENT, 0]] }],
    ['defined-multiple-callout-success', true, ['-u', UUID, '-p', PARENT, '-t', TYPE], withScripts(definedTwo, 'rc0.sh')],
    ['defined-multiple-callout-fail', false, ['-u', UUID, '-p', PARENT, '-t', TYPE], withScripts(definedTwo, 'rc1.sh')],
    ['defined-multiple-callout-fail-force', true, ['-u', UUID, '-p', PARENT, '-t', TYPE, '--force'], withScripts(definedTwo, 'rc1.sh')],
    ['missing-parent', false, ['-u', UUID, '-p', PARENT, '-t', TYPE], {}, `Unable to find parent device '${PARENT}'`],
    [
      'parent-case',
      false,
      ['-u', UUID, '-p', PARENT3.toUpperCase(), '-t', TYPE],
      { parents: [[PARENT3]] },
      `Unable to find parent device '${PARENT3.toUpperCase()}'. Did you mean '${PARENT3}'?`,
    ],
    ['start-single-with-version-callout-pass', true, ['-u', UUID_VER, '-p', PARENT, '-t', TYPE], withScripts(definedOne, 'ver-rc0.sh')],
    ['start-single-with-version-callout-fail', false, ['-u', UUID_VER, '-p', PARENT, '-t', TYPE], withScripts(definedOne, 'ver-rc1.sh')],
    [
      'start-with-version-callout-multiple-with-version-pass',
      true,
      ['-u', UUID_VER, '-p', PARENT, '-t', TYPE],
      withScripts(definedOne, 'rc0.sh', 'ver-rc0.sh'),
    ],
    [
      'start-with-version-callout-multiple-with-version-pass2',
      true,
      ['-u', UUID_VER, '-p', PARENT, '-t', TYPE],
      withScripts(definedOne, 'rc1.sh', 'ver-rc0.sh'),
    ],
    [
      'start-with-version-callout-multiple-with-version-fail',
      false,
      ['-u', UUID_VER, '-p', PARENT, '-t', TYPE],
      withScripts(definedOne, 'rc0.sh', 'ver-rc1.sh'),
    ],
  ];

  // one argument per case: a case without a message must not end the list (jest would take the
  // missing last parameter for a `done` callback)
  test.each(cases.map((c) => [c[0], c] as const))('%s', (_n, [name, pass, args, setup, message]) => {
    const uuidGiven = args.includes('-u') ? args[args.indexOf('-u') + 1] : undefined;
    // the definitions of the scenarios that have their own start/NAME/defined.json come from it
    const own = `start/${name}/defined.json`;
    const definedFile = fs.existsSync(data(own)) ? own : undefined;
    const t = startTree(uuidGiven ?? UUID, { ...setup, definedFile });
    // the tree but the scripts' own log (test/support/callout-script.ts)
    const snapshot = () => Object.fromEntries(Object.entries(t.snapshot()).filter(([k]) => k !== 'calls.log'));
    const before = snapshot();
    const r = run(['start', ...args], { root: t.root });
    if (!pass) {
      expectFailed(r, message);
      expect(snapshot()).toEqual(before);
      return;
    }
    expect(r.status).toBe(0);
    const uuid = uuidGiven ?? r.stdout.replace(/\n$/, '');
    expect(r.stdout).toBe(uuidGiven ? '' : `${uuid}\n`);
    expect(r.stderr).toMatch(args.includes('--force') ? /^Warning: Forcing operation 'start' despite callout failure\. / : /^$/);
    // the UUID written into the chosen parent's create, no newline; the others untouched
    const parent = args.includes('-p') ? args[args.indexOf('-p') + 1] : PARENT;
    const expected = Object.fromEntries(Object.keys(creates(t)).map((p) => [p, p === parent ? uuid : '']));
    expect(creates(t)).toEqual(expected);
  });

  test('the per-scenario definition files are the ones started', () => {
    // each start/NAME/defined.json is what upstream's scenario NAME defines: same bytes as the
    // shared start/defined.json today; if one changes, the scenario above runs with it
    for (const d of [
      'defined-diff-type',
      'defined-multiple',
      'defined-multiple-underspecified',
      'defined-multiple-underspecified/defined',
      'defined-with-type',
      'no-type-parent-defined',
    ]) {
      expect(JSON.parse(readData(`start/${d}/defined.json`)).mdev_type).toBe(TYPE);
    }
  });
});

describe('stop (upstream startstop.rs test_stop)', () => {
  test.each([
    ['default', true, UUID, [], []],
    ['callout-success', true, UUID, ['rc0.sh'], []],
    ['callout-fail', false, UUID, ['rc1.sh'], []],
    ['callout-fail-force', true, UUID, ['rc1.sh'], ['--force']],
    ['stop-single-callout-with-version-all-pass', true, UUID_VER, ['ver-rc0.sh'], []],
    ['stop-single-callout-with-version-all-fail', false, UUID_VER, ['ver-rc1.sh'], []],
    ['stop-single-callouts-mix-all-pass', true, UUID_VER, ['rc1.sh', 'ver-rc0.sh'], []],
    ['stop-single-callouts-mix-all-fail', false, UUID_VER, ['rc0.sh', 'ver-rc1.sh'], []],
  ])('%s', (_name, pass, uuid, scripts, extra) => {
    const t = startTree(uuid, { parents: [[PARENT]], active: true, scripts });
    const remove = t.p('sys/bus/mdev/devices', uuid, 'remove');
    const r = run(['stop', '-u', uuid, ...extra], { root: t.root });
    if (!pass) {
      expectFailed(r);
      expect(fs.readFileSync(remove, 'utf8')).toBe('');
      return;
    }
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 0, stdout: '' });
    expect(r.stderr).toMatch(extra.includes('--force') ? /^Warning: Forcing operation 'stop' despite callout failure\. / : /^$/);
    expect(fs.readFileSync(remove, 'utf8')).toBe('1');
  });
});

describe('define with callouts (upstream define.rs test_define_command_callout)', () => {
  const T4 = 'i915-GVTg_V5_4';
  const def = (uuid: string) => `etc/mdevctl.d/${PARENT}/${uuid}`;
  test.each([
    ['define-with-callout-all-pass', true, UUID, ['rc0.sh'], false, false],
    ['define-with-callout-all-fail', false, UUID, ['rc1.sh'], false, false],
    ['define-with-callout-all-good-json', true, UUID, ['good-json.sh'], true, false],
    ['define-with-callout-all-bad-json', false, UUID, ['bad-json.sh'], true, false],
    ['define-with-callout-all-fail-force', true, UUID, ['rc1.sh'], false, true],
    ['define-with-version-callout-all-pass', true, UUID_VER, ['ver-rc0.sh'], false, false],
    ['define-with-version-callout-all-fail', false, UUID_VER, ['ver-rc1.sh'], false, false],
    ['define-with-version-callout-multiple-with-version-pass', true, UUID_VER, ['rc0.sh', 'ver-rc0.sh'], false, false],
    ['define-with-version-callout-multiple-with-version-pass2', true, UUID_VER, ['rc1.sh', 'ver-rc0.sh'], false, false],
    ['define-with-version-callout-multiple-with-version-fail', false, UUID_VER, ['rc0.sh', 'ver-rc1.sh'], false, false],
  ] as const)('%s', (_name, pass, uuid, scripts, active, force) => {
    const t = newTree();
    if (active) t.addParent(PARENT, { [T4]: {} }).addActive(uuid, PARENT, T4);
    for (const name of scripts) addLoggingScript(t, 'callouts', name, SCRIPTS[name]);
    const r = run(['define', '-u', uuid, '-p', PARENT, '-t', T4, ...(force ? ['--force'] : [])], { root: t.root });
    if (!pass) {
      expectFailed(r);
      expect(t.exists(def(uuid))).toBe(false);
      return;
    }
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 0, stdout: '' });
    expect(r.stderr).toMatch(force ? /^Warning: Forcing operation 'define' despite callout failure\. / : /^$/);
    // a running device's definition holds the attributes the script reports (good-json)
    const attrs = active ? [{ attribute0: 'VALUE' }] : [];
    expect(t.read(def(uuid))).toBe(JSON.stringify({ mdev_type: T4, start: 'manual', attrs }, null, 2));
  });
});

describe('undefine with callouts (upstream define.rs test_undefine)', () => {
  const def = (uuid: string) => `etc/mdevctl.d/${PARENT}/${uuid}`;
  test.each([
    ['single-callout-all-pass', true, UUID, ['rc0.sh'], false],
    ['single-callout-pre-fail', false, UUID, ['rc1.sh'], false],
    ['single-callout-pre-fail-force', true, UUID, ['rc1.sh'], true],
    ['undefine-single-with-version-callout-all-pass', true, UUID_VER, ['ver-rc0.sh'], false],
    ['undefine-single-with-version-callout-all-fail', false, UUID_VER, ['ver-rc1.sh'], false],
    ['define-with-version-callout-multiple-with-version-pass', true, UUID_VER, ['rc0.sh', 'ver-rc0.sh'], false],
    ['define-with-version-callout-multiple-with-version-pass2', true, UUID_VER, ['rc1.sh', 'ver-rc0.sh'], false],
    ['define-with-version-callout-multiple-with-version-fail', false, UUID_VER, ['rc0.sh', 'ver-rc1.sh'], false],
  ] as const)('%s', (_name, pass, uuid, scripts, force) => {
    const t = newTree();
    const content = readData('undefine/defined.json');
    t.addDefinition(PARENT, uuid, content);
    for (const name of scripts) addLoggingScript(t, 'callouts', name, SCRIPTS[name]);
    const r = run(['undefine', '-u', uuid, '-p', PARENT, ...(force ? ['--force'] : [])], { root: t.root });
    if (!pass) {
      expectFailed(r);
      expect(t.read(def(uuid))).toBe(content);
      return;
    }
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 0, stdout: '' });
    expect(r.stderr).toMatch(force ? /^Warning: Forcing operation 'undefine' despite callout failure\. / : /^$/);
    expect(t.exists(def(uuid))).toBe(false);
  });
});
