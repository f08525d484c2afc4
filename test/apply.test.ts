/**
 * `mdevctl apply --jsonfile FILE`: the stored definitions made to match a file in the form
 * `list --defined --dumpjson` prints. Every test runs the built CLI on a fixture tree and asserts
 * stdout, stderr, the exit status and the files.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FakeTree } from './support/tree';
import { RunResult, run } from './support/cli';
import { runAsync } from './support/spawn';
import { addLoggingScript, calls, supports, print } from './support/callout-script';
import { applyDefinitions } from '../src/lib/api';
import { MemoryLog } from '../src/lib/util/log';

const P = '0000:00:02.0';
const Q = '0000:00:03.0';
const T4 = 'i915-GVTg_V5_4';
const T8 = 'i915-GVTg_V5_8';
const U1 = '11111111-1111-4111-8111-111111111111';
const U2 = '22222222-2222-4222-8222-222222222222';
const U3 = '33333333-3333-4333-8333-333333333333';
const U4 = '44444444-4444-4444-8444-444444444444';
const U5 = '55555555-5555-4555-8555-555555555555';

type Cfg = { mdev_type: string; start: 'auto' | 'manual'; attrs: Array<Record<string, string>> };
const cfg = (mdev_type: string, start: 'auto' | 'manual' = 'manual', attrs: Array<Record<string, string>> = []): Cfg => ({
  mdev_type,
  start,
  attrs,
});

/** P (two types, U1 auto, U2 manual with attributes) and Q (U3); Q's parent is present too. */
function store(): FakeTree {
  const t = new FakeTree().withStandardDirs();
  t.addParent(P, { [T4]: { available: 4 }, [T8]: { available: 8 } });
  t.addParent(Q, { [T4]: { available: 4 } });
  t.addDefinition(P, U1, cfg(T4, 'auto'));
  t.addDefinition(P, U2, cfg(T8, 'manual', [{ a: '1' }, { b: '2' }]));
  t.addDefinition(Q, U3, cfg(T4));
  return t;
}

/** Write FILE (outside the root's etc) and return its path. */
function file(t: FakeTree, content: unknown, name = 'want.json'): string {
  const f = t.p(name);
  fs.writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return f;
}

function apply(t: FakeTree, args: string[], input?: string): RunResult {
  return run(['apply', ...args], { root: t.root, input });
}

function dryApply(t: FakeTree, args: string[]): RunResult {
  return run(['--dry-run', 'apply', ...args], { root: t.root });
}

/** The definitions on disk: "PARENT/UUID" -> exact content. */
function defs(t: FakeTree): Record<string, string> {
  const out: Record<string, string> = {};
  const base = t.p('etc/mdevctl.d');
  for (const p of fs.readdirSync(base)) {
    if (p === 'scripts.d' || !fs.statSync(path.join(base, p)).isDirectory()) continue;
    for (const u of fs.readdirSync(path.join(base, p))) out[`${p}/${u}`] = fs.readFileSync(path.join(base, p, u), 'utf8');
  }
  return out;
}

/** Identity of every entry under etc/mdevctl.d: inode, size and times (ns). */
function stamps(t: FakeTree): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const n of fs.readdirSync(dir)) {
      const f = path.join(dir, n);
      const st = fs.lstatSync(f, { bigint: true });
      out[path.relative(t.root, f)] = `${st.ino} ${st.size} ${st.mtimeNs} ${st.ctimeNs}`;
      if (st.isDirectory()) walk(f);
    }
  };
  const base = t.p('etc/mdevctl.d');
  out['etc/mdevctl.d'] = String(fs.lstatSync(base, { bigint: true }).mtimeNs);
  walk(base);
  return out;
}

const text = (c: Cfg) => JSON.stringify(c, null, 2);
const listed = (t: FakeTree) => run(['list', '-d', '--dumpjson'], { root: t.root }).stdout;

/**
 * Run FN while watching etc/mdevctl.d and each parent's directory in it (inotify, one watch a
 * directory as libvirt's: Node 18 has no recursive watch on Linux); the events seen, after the
 * queue is drained.
 */
async function watchDuring(t: FakeTree, fn: () => Promise<unknown>): Promise<string[]> {
  const events: string[] = [];
  const top = t.p('etc/mdevctl.d');
  const dirs = ['', ...fs.readdirSync(top).filter((n) => fs.statSync(path.join(top, n)).isDirectory())];
  const ws = dirs.map((d) => fs.watch(path.join(top, d), (ev, name) => events.push(`${ev} ${d ? `${d}/` : ''}${String(name)}`)));
  try {
    await fn();
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    for (const w of ws) w.close();
  }
  return events;
}

describe('round trip', () => {
  test('list -d --dumpjson, then apply: 0 changes, nothing written, no file event', async () => {
    const t = store();
    try {
      const dump = listed(t);
      const f = file(t, dump);
      const before = stamps(t);
      const hash = t.hash('identity');
      let r: { status: number | null; stdout: string; stderr: string } | undefined;
      const events = await watchDuring(t, async () => {
        r = await runAsync(t.root, ['apply', '--jsonfile', f, '--detailed-exitcode']);
      });
      expect(r).toEqual({ status: 0, signal: null, stdout: '0 defined, 0 modified, 0 undefined, 3 unchanged\n', stderr: '' });
      expect(events).toEqual([]);
      expect(stamps(t)).toEqual(before);
      expect(t.hash('identity')).toBe(hash);
      expect(t.exists('var/lib/mdevctl')).toBe(false);

      // the same watcher does see a real change (the check above can fail)
      const changed = JSON.parse(dump);
      changed[0][P][0][U1].start = 'manual';
      const f2 = file(t, changed, 'changed.json');
      const events2 = await watchDuring(t, () => runAsync(t.root, ['apply', '--jsonfile', f2]));
      expect(events2.some((e) => e.includes(U1))).toBe(true);
    } finally {
      t.cleanup();
    }
  });

  test('standard input as - and as /dev/stdin', () => {
    const t = store();
    try {
      const dump = listed(t);
      for (const name of ['-', '/dev/stdin']) {
        expect(apply(t, ['--jsonfile', name], dump)).toEqual({
          status: 0,
          stdout: '0 defined, 0 modified, 0 undefined, 3 unchanged\n',
          stderr: '',
        });
      }
    } finally {
      t.cleanup();
    }
  });

  test('a definition stored with other whitespace but the same meaning is unchanged and not rewritten', () => {
    const t = store();
    try {
      t.addDefinition(P, U4, '{"mdev_type":"i915-GVTg_V5_4","start":"manual"}');
      const f = file(t, listed(t));
      const before = stamps(t);
      expect(apply(t, ['--jsonfile', f]).stdout).toBe('0 defined, 0 modified, 0 undefined, 4 unchanged\n');
      expect(stamps(t)).toEqual(before);
    } finally {
      t.cleanup();
    }
  });
});

describe('each change kind', () => {
  test('define (every UUID form, stored lower-case), modify start, type and attributes, undefine', () => {
    const t = store();
    try {
      const want = [
        {
          [P]: [
            { [U1.toUpperCase()]: cfg(T4, 'manual') }, // start auto -> manual
            { [`{${U2}}`]: cfg(T4, 'manual', [{ b: '2' }, { a: '1' }]) }, // type, attribute order
            { [U4.replace(/-/g, '')]: cfg(T8, 'auto', [{ x: 'y' }]) }, // new
            { [`urn:uuid:${U5}`]: cfg(T4) }, // new
          ],
          [Q]: [],
        },
      ];
      const f = file(t, want);
      const q3 = stamps(t)[`etc/mdevctl.d/${Q}/${U3}`];
      const r = apply(t, ['--jsonfile', f, '--prune']);
      expect(r).toEqual({
        status: 0,
        stdout:
          `modify ${U1}: start auto -> manual\n` +
          `modify ${U2}: type ${T8} -> ${T4}\n` +
          `modify ${U2}: attrs [{"a":"1"},{"b":"2"}] -> [{"b":"2"},{"a":"1"}]\n` +
          `define ${U4} ${P} ${T8}\n` +
          `define ${U5} ${P} ${T4}\n` +
          `undefine ${U3} ${Q}\n` +
          '2 defined, 2 modified, 1 undefined, 0 unchanged\n',
        stderr: '',
      });
      expect(defs(t)).toEqual({
        [`${P}/${U1}`]: text(cfg(T4, 'manual')),
        [`${P}/${U2}`]: text(cfg(T4, 'manual', [{ b: '2' }, { a: '1' }])),
        [`${P}/${U4}`]: text(cfg(T8, 'auto', [{ x: 'y' }])),
        [`${P}/${U5}`]: text(cfg(T4)),
      });
      expect(q3).toBeDefined();
      // applied twice: nothing more to do
      expect(apply(t, ['--jsonfile', f, '--prune']).stdout).toBe('0 defined, 0 modified, 0 undefined, 4 unchanged\n');
      // nothing is left beside the definitions: no journal, no temp file
      expect(fs.readdirSync(t.p('var/lib/mdevctl'))).toEqual([]);
      expect(fs.readdirSync(t.p('etc/mdevctl.d', P)).sort()).toEqual([U1, U2, U4, U5]);
    } finally {
      t.cleanup();
    }
  });

  test('a new parent gets its directory; unchanged definitions keep their files (inode and times)', () => {
    const t = store();
    try {
      const want = JSON.parse(listed(t));
      want[0]['0000:00:09.0'] = [{ [U4]: cfg(T4) }];
      const before = stamps(t);
      const r = apply(t, ['--jsonfile', file(t, want)]);
      expect(r).toEqual({
        status: 0,
        stdout: `define ${U4} 0000:00:09.0 ${T4}\n1 defined, 0 modified, 0 undefined, 3 unchanged\n`,
        stderr: 'Note: parent 0000:00:09.0 is not present; its definitions are stored and start when it appears\n',
      });
      const after = stamps(t);
      for (const k of Object.keys(before)) if (k.includes('-')) expect({ k, v: after[k] }).toEqual({ k, v: before[k] });
      expect(t.read(`etc/mdevctl.d/0000:00:09.0/${U4}`)).toBe(text(cfg(T4)));
    } finally {
      t.cleanup();
    }
  });

  test('a malformed stored definition the file lists is replaced (a modification)', () => {
    const t = store();
    try {
      t.addDefinition(P, U4, '{"mdev_type": ');
      const want = JSON.parse(listed(t));
      want[0][P].push({ [U4]: cfg(T4) });
      const r = apply(t, ['--jsonfile', file(t, want)]);
      expect(r.stdout).toBe(`modify ${U4}: malformed definition replaced\n0 defined, 1 modified, 0 undefined, 3 unchanged\n`);
      expect(r.stderr).toMatch(/^Warning: Skipping malformed definition .*44444444-4444-4444-8444-444444444444/);
      expect(t.read(`etc/mdevctl.d/${P}/${U4}`)).toBe(text(cfg(T4)));
    } finally {
      t.cleanup();
    }
  });
});

describe('--prune and --prune-all', () => {
  const only = [{ [P]: [{ [U1]: cfg(T4, 'auto') }] }];

  test('without either, nothing is undefined', () => {
    const t = store();
    try {
      const f = file(t, only);
      const before = t.hash();
      expect(apply(t, ['--jsonfile', f]).stdout).toBe('0 defined, 0 modified, 0 undefined, 1 unchanged\n');
      expect(t.hash()).toBe(before);
    } finally {
      t.cleanup();
    }
  });

  test('--prune: only the parents the file names', () => {
    const t = store();
    try {
      expect(apply(t, ['--jsonfile', file(t, only), '--prune']).stdout).toBe(`undefine ${U2} ${P}\n0 defined, 0 modified, 1 undefined, 1 unchanged\n`);
      expect(Object.keys(defs(t)).sort()).toEqual([`${P}/${U1}`, `${Q}/${U3}`]);
    } finally {
      t.cleanup();
    }
  });

  test('--prune-all: every parent', () => {
    const t = store();
    try {
      expect(apply(t, ['--jsonfile', file(t, only), '--prune-all']).stdout).toBe(
        `undefine ${U2} ${P}\nundefine ${U3} ${Q}\n0 defined, 0 modified, 2 undefined, 1 unchanged\n`,
      );
      expect(Object.keys(defs(t))).toEqual([`${P}/${U1}`]);
    } finally {
      t.cleanup();
    }
  });

  test('--prune-all with [] undefines everything; a running device keeps running', () => {
    const t = store();
    try {
      t.addActive(U1, P, T4);
      const sys = JSON.stringify(t.snapshot('sys'));
      expect(apply(t, ['--jsonfile', file(t, []), '--prune-all'])).toEqual({
        status: 0,
        stdout: `undefine ${U1} ${P}\nundefine ${U2} ${P}\nundefine ${U3} ${Q}\n0 defined, 0 modified, 3 undefined, 0 unchanged\n`,
        stderr: '',
      });
      expect(defs(t)).toEqual({});
      expect(JSON.stringify(t.snapshot('sys'))).toBe(sys);
      expect(run(['list'], { root: t.root }).stdout).toBe(`${U1} ${P} ${T4} manual\n`);
    } finally {
      t.cleanup();
    }
  });
});

describe('--dry-run, --dumpjson, --detailed-exitcode', () => {
  const want = [{ [P]: [{ [U1]: cfg(T4, 'manual') }, { [U4]: cfg(T8) }] }];
  const plan = `modify ${U1}: start auto -> manual\nundefine ${U2} ${P}\ndefine ${U4} ${P} ${T8}\n1 defined, 1 modified, 1 undefined, 0 unchanged\n`;

  test('--dry-run prints the plan the real run then carries out, and changes nothing', () => {
    const t = store();
    try {
      const f = file(t, want);
      const before = t.hash('identity');
      expect(dryApply(t, ['--jsonfile', f, '--prune'])).toEqual({ status: 0, stdout: plan, stderr: '' });
      expect(t.hash('identity')).toBe(before);
      expect(t.exists('var')).toBe(false);
      expect(fs.readdirSync(t.p('run/lock'))).toEqual([]);
      expect(apply(t, ['--jsonfile', f, '--prune'])).toEqual({ status: 0, stdout: plan, stderr: '' });
      expect(dryApply(t, ['--jsonfile', f, '--prune']).stdout).toBe('0 defined, 0 modified, 0 undefined, 2 unchanged\n');
    } finally {
      t.cleanup();
    }
  });

  test('--dumpjson: the same as JSON, no trailing newline; the library returns the same', () => {
    const t = store();
    try {
      const f = file(t, want);
      const r = dryApply(t, ['--jsonfile', f, '--prune', '--dumpjson']);
      expect(r.status).toBe(0);
      expect(r.stdout.endsWith('}')).toBe(true);
      const expected = {
        dry_run: true,
        changes: [
          { action: 'modify', uuid: U1, parent: P, config: cfg(T4, 'manual'), changes: [{ field: 'start', from: 'auto', to: 'manual' }] },
          { action: 'undefine', uuid: U2, parent: P, config: cfg(T8, 'manual', [{ a: '1' }, { b: '2' }]) },
          { action: 'define', uuid: U4, parent: P, config: cfg(T8) },
        ],
        started: [],
        start_failed: [],
        restart: [],
        absent_parents: [],
        summary: { defined: 1, modified: 1, undefined: 1, unchanged: 0, started: 0 },
      };
      expect(r.stdout).toBe(JSON.stringify(expected, null, 2));
      const log = new MemoryLog();
      const lib = applyDefinitions({ root: t.root, log, jsonfile: f, prune: true, dryRun: true });
      expect({ ...lib, dryRun: true }).toEqual({
        changes: expected.changes,
        unchanged: 0,
        started: [],
        startFailed: [],
        restart: [],
        absentParents: [],
        dryRun: true,
      });
      // the library's real run
      const done = applyDefinitions({ root: t.root, log, jsonfile: f, prune: true });
      expect(done.changes).toEqual(expected.changes);
      expect(Object.keys(defs(t)).sort()).toEqual([`${P}/${U1}`, `${P}/${U4}`, `${Q}/${U3}`]);
      expect(log.warnings).toEqual([]);
      // the CLI's real run, as JSON: nothing left to do
      const again = apply(t, ['--jsonfile', f, '--prune', '--dumpjson']);
      expect(again).toEqual({
        status: 0,
        stdout: JSON.stringify(
          { ...expected, dry_run: false, changes: [], summary: { defined: 0, modified: 0, undefined: 0, unchanged: 2, started: 0 } },
          null,
          2,
        ),
        stderr: '',
      });
    } finally {
      t.cleanup();
    }
  });

  test('--detailed-exitcode: 0 nothing to do, 2 changes planned or made, 1 on error (usage errors too)', () => {
    const t = store();
    try {
      const f = file(t, want);
      expect(dryApply(t, ['--jsonfile', f, '--detailed-exitcode']).status).toBe(2);
      expect(apply(t, ['--jsonfile', f, '--detailed-exitcode']).status).toBe(2);
      expect(apply(t, ['--jsonfile', f, '--detailed-exitcode']).status).toBe(0);
      expect(apply(t, ['--jsonfile', f]).status).toBe(0);
      const bad = apply(t, ['--jsonfile', file(t, '{', 'bad.json'), '--detailed-exitcode']);
      expect({ status: bad.status, stdout: bad.stdout }).toEqual({ status: 1, stdout: '' });
      const usage = apply(t, ['--detailed-exitcode']);
      expect(usage.status).toBe(1);
      expect(usage.stderr).toMatch(/^error: the following required arguments were not provided:\n {2}--jsonfile <JSONFILE>/);
      expect(apply(t, []).status).toBe(2); // without the flag, usage errors keep their status
    } finally {
      t.cleanup();
    }
  });
});

describe('refused inputs: one error line, nothing written', () => {
  const dev = (u: string, c: unknown = cfg(T4)) => ({ [u]: c });
  const cases: Array<[string, string, (f: string) => string]> = [
    ['not JSON', '[{', (f) => `Error: invalid JSON in ${f}: `],
    [
      'the single-device form',
      JSON.stringify(cfg(T4)),
      (f) => `Error: ${f} holds the configuration of one device (the form of 'define --jsonfile'); apply takes the form 'list --defined --dumpjson' prints: `,
    ],
    [
      'an object',
      JSON.stringify({ [P]: [] }),
      (f) =>
        `Error: ${f} is not in the form 'list --defined --dumpjson' prints: [{"PARENT": [{"UUID": {"mdev_type": "TYPE", "start": "auto|manual", "attrs": [...]}}]}]`,
    ],
    ['two objects', JSON.stringify([{}, {}]), (f) => `Error: ${f} is not in the form 'list --defined --dumpjson' prints: `],
    ['devices not a list', JSON.stringify([{ [P]: {} }]), (f) => `Error: ${f}: the devices of parent ${P} must be a list`],
    [
      'a device with two keys',
      JSON.stringify([{ [P]: [{ ...dev(U1), ...dev(U2) }] }]),
      (f) => `Error: ${f}: each device of parent ${P} must be an object with one key, its UUID`,
    ],
    ['a bad parent name', JSON.stringify([{ '..': [] }]), (f) => `Error: ${f}: Invalid parent device name '..': '..' is not a name`],
    ['a bad type name', JSON.stringify([{ [P]: [dev(U1, cfg('a/b'))] }]), (f) => `Error: ${f}: device ${U1}: Invalid mdev type 'a/b': it contains '/'`],
    [
      'a bad UUID',
      JSON.stringify([{ [P]: [dev('1234')] }]),
      (f) => `Error: ${f}: invalid UUID '1234' under parent ${P}: invalid length 4: expected 32 hex digits, optionally hyphenated as 8-4-4-4-12`,
    ],
    [
      'a UUID twice under one parent',
      JSON.stringify([{ [P]: [dev(U1), dev(U1.toUpperCase())] }]),
      (f) => `Error: ${f}: device ${U1} is listed more than once (twice under parent ${P})`,
    ],
    [
      'a UUID under two parents',
      JSON.stringify([{ [P]: [dev(U1)], [Q]: [dev(`{${U1}}`)] }]),
      (f) => `Error: ${f}: device ${U1} is listed more than once (under parents ${P} and ${Q})`,
    ],
    ['a parent twice', `[{"${P}": [], "${P}": []}]`, (f) => `Error: ${f}: the key "${P}" appears twice in one object`],
    [
      'an attribute value not a string',
      JSON.stringify([{ [P]: [dev(U1, { ...cfg(T4), attrs: [{ a: 1 }] })] }]),
      (f) => `Error: ${f}: device ${U1}: invalid JSON format for attribute {"a", 1}: value must be of type str`,
    ],
    [
      'an attribute with two keys',
      JSON.stringify([{ [P]: [dev(U1, { ...cfg(T4), attrs: [{ a: '1', b: '2' }] })] }]),
      (f) => `Error: ${f}: device ${U1}: invalid JSON format for attribute: too many fields`,
    ],
    [
      'an attribute name that leaves the device',
      JSON.stringify([{ [P]: [dev(U1, cfg(T4, 'manual', [{ '../x': '1' }]))] }]),
      (f) => `Error: ${f}: device ${U1}: Invalid attribute name '../x': its path component '..' is not a plain name`,
    ],
    [
      'no start',
      JSON.stringify([{ [P]: [dev(U1, { mdev_type: T4 })] }]),
      (f) => `Error: ${f}: device ${U1}: invalid json: "mdev_type" and "start" are required`,
    ],
    [
      'a start that is neither',
      JSON.stringify([{ [P]: [dev(U1, { ...cfg(T4), start: 'sometimes' })] }]),
      (f) => `Error: ${f}: device ${U1}: "start" must be "auto" or "manual"`,
    ],
  ];

  test.each(cases)('%s', (_name, content, message) => {
    const t = store();
    try {
      const f = file(t, content);
      const before = t.hash('identity');
      const r = apply(t, ['--jsonfile', f, '--prune-all']);
      expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 1, stdout: '' });
      expect(r.stderr.startsWith(message(f))).toBe(true);
      expect(r.stderr.split('\n')).toHaveLength(2);
      expect(t.hash('identity')).toBe(before);
      expect(t.exists('var')).toBe(false);
    } finally {
      t.cleanup();
    }
  });

  test('a missing file; no --jsonfile', () => {
    const t = store();
    try {
      expect(apply(t, ['--jsonfile', t.p('nope.json')])).toEqual({
        status: 1,
        stdout: '',
        stderr: `Error: Unable to read file "${t.p('nope.json')}": No such file or directory (ENOENT)\n`,
      });
      const r = apply(t, []);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^error: the following required arguments were not provided:\n {2}--jsonfile <JSONFILE>\n/);
    } finally {
      t.cleanup();
    }
  });
});

describe('all or nothing', () => {
  const want = [{ [P]: [{ [U1]: cfg(T4, 'manual') }, { [U4]: cfg(T8) }], [Q]: [{ [U5]: cfg(T4, 'auto') }] }];

  test('a callout script refusing one device: nothing changes, the error names the device', () => {
    const t = store();
    try {
      const script = addLoggingScript(t, 'callouts', 'vendor', { on: { [`pre/define`]: `[ "$U" = '${U5}' ] && exit 1; exit 0` } });
      addLoggingScript(t, 'notifiers', 'note');
      const before = defs(t);
      const r = apply(t, ['--jsonfile', file(t, want), '--prune']);
      expect(r).toEqual({
        status: 1,
        stdout: '',
        stderr: `Error: Refused to define ${U5} on ${Q}: Script '${script}' failed with status '1'\n`,
      });
      expect(defs(t)).toEqual(before);
      expect(t.exists('var/lib/mdevctl/apply.journal')).toBe(false);
      // every pre first (in plan order); the refusal stops before any write; those asked before
      // hear "failure" in their post, the refused one only its notifiers
      expect(calls(t).filter((l) => !l.includes('capabilities'))).toEqual([
        `vendor pre/modify none <<${JSON.stringify(cfg(T4, 'manual'))}`,
        `vendor pre/undefine none <<${JSON.stringify(cfg(T8, 'manual', [{ a: '1' }, { b: '2' }]))}`,
        `vendor pre/define none <<${JSON.stringify(cfg(T8))}`,
        `vendor pre/undefine none <<${JSON.stringify(cfg(T4))}`,
        `vendor pre/define none <<${JSON.stringify(cfg(T4, 'auto'))}`,
        'note notify/define none',
        `vendor post/modify failure <<${JSON.stringify(cfg(T4, 'manual'))}`,
        'note notify/modify failure',
        `vendor post/undefine failure <<${JSON.stringify(cfg(T8, 'manual', [{ a: '1' }, { b: '2' }]))}`,
        'note notify/undefine failure',
        `vendor post/define failure <<${JSON.stringify(cfg(T8))}`,
        'note notify/define failure',
        `vendor post/undefine failure <<${JSON.stringify(cfg(T4))}`,
        'note notify/undefine failure',
      ]);
    } finally {
      t.cleanup();
    }
  });

  test('callouts agreeing: every pre, the writes, then every post with success; --force overrides a refusal', () => {
    const t = store();
    try {
      addLoggingScript(t, 'callouts', 'vendor', { on: { 'get/capabilities': print(supports()) } });
      const r = apply(t, ['--jsonfile', file(t, [{ [P]: [{ [U1]: cfg(T4, 'manual') }, { [U4]: cfg(T8) }] }])]);
      expect(r.stdout).toBe(`modify ${U1}: start auto -> manual\ndefine ${U4} ${P} ${T8}\n1 defined, 1 modified, 0 undefined, 0 unchanged\n`);
      expect(calls(t).filter((l) => !l.includes('capabilities'))).toEqual([
        `vendor pre/modify none <<${JSON.stringify(cfg(T4, 'manual'))}`,
        `vendor pre/define none <<${JSON.stringify(cfg(T8))}`,
        `vendor post/modify success <<${JSON.stringify(cfg(T4, 'manual'))}`,
        `vendor post/define success <<${JSON.stringify(cfg(T8))}`,
      ]);

      const t2 = store();
      try {
        addLoggingScript(t2, 'callouts', 'no', { otherwise: 'exit 1' });
        const f = file(t2, [{ [P]: [{ [U4]: cfg(T8) }] }]);
        expect(apply(t2, ['--jsonfile', f]).status).toBe(1);
        expect(t2.exists(`etc/mdevctl.d/${P}/${U4}`)).toBe(false);
        const forced = apply(t2, ['--jsonfile', f, '--force']);
        expect(forced.status).toBe(0);
        expect(forced.stderr).toContain("Warning: Forcing operation 'define' despite callout failure.");
        expect(t2.read(`etc/mdevctl.d/${P}/${U4}`)).toBe(text(cfg(T8)));
      } finally {
        t2.cleanup();
      }
    } finally {
      t.cleanup();
    }
  });

  test('a write failing half way: the earlier writes are rolled back, the error names the device', () => {
    const t = store();
    try {
      // a file where the parent's directory would have to be: the last write fails
      t.write('etc/mdevctl.d/zz', 'not a directory');
      const f = file(t, [{ [P]: [{ [U1]: cfg(T4, 'manual') }, { [U4]: cfg(T8) }], zz: [{ [U5]: cfg(T4) }] }]);
      const before = stamps(t);
      const content = defs(t);
      const r = apply(t, ['--jsonfile', f]);
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        `Note: parent zz is not present; its definitions are stored and start when it appears\n` +
          `Error: Failed to define ${U5} on zz: Unable to create directory ${t.p('etc/mdevctl.d/zz')}: File exists (EEXIST); no definition was changed\n`,
      );
      expect(defs(t)).toEqual(content);
      expect(t.exists(`etc/mdevctl.d/${P}/${U4}`)).toBe(false);
      // U1 was rewritten and restored: its content is the old one, byte for byte
      expect(t.read(`etc/mdevctl.d/${P}/${U1}`)).toBe(text(cfg(T4, 'auto')));
      expect(Object.keys(stamps(t)).sort()).toEqual(Object.keys(before).sort());
      expect(fs.readdirSync(t.p('var/lib/mdevctl'))).toEqual([]);
    } finally {
      t.cleanup();
    }
  });
});

describe('an apply killed half way (journal left behind)', () => {
  /** The journal a killed apply of WANT would leave, its writer gone (PID 2^22 + 1 never exists here). */
  function leaveJournal(t: FakeTree, entries: Array<{ parent: string; uuid: string; old: string | null }>, dirs: string[] = []) {
    t.write(
      'var/lib/mdevctl/apply.journal',
      JSON.stringify({
        format: 'mdevctl-apply-journal-1',
        pid: 4194305,
        start: '1',
        dirs,
        entries: entries.map((e) => ({ ...e, old: e.old === null ? null : Buffer.from(e.old).toString('base64') })),
      }),
    );
  }

  test('readers see the state before it; the next command that takes the lock rolls it back', () => {
    const t = store();
    try {
      const old = listed(t);
      const oldFiles = defs(t);
      // the killed run had modified U1, defined U4 on a new parent, removed U3
      leaveJournal(
        t,
        [
          { parent: P, uuid: U1, old: oldFiles[`${P}/${U1}`] },
          { parent: 'new', uuid: U4, old: null },
          { parent: Q, uuid: U3, old: oldFiles[`${Q}/${U3}`] },
        ],
        ['new'],
      );
      t.addDefinition(P, U1, cfg(T8, 'manual'));
      t.addDefinition('new', U4, cfg(T4));
      fs.unlinkSync(t.p('etc/mdevctl.d', Q, U3));
      expect(listed(t)).toBe(old);
      expect(run(['list', '-d'], { root: t.root }).stdout).toBe(`${U1} ${P} ${T4} auto\n${U2} ${P} ${T8} manual\n${U3} ${Q} ${T4} manual\n`);
      // a dry run takes no lock: it plans against the state before, and rolls nothing back
      expect(dryApply(t, ['--jsonfile', file(t, old)]).stdout).toBe('0 defined, 0 modified, 0 undefined, 3 unchanged\n');
      const withU4 = JSON.parse(old);
      withU4[0].new = [{ [U4]: cfg(T4) }];
      expect(dryApply(t, ['--jsonfile', file(t, withU4, 'u4.json')]).stdout).toBe(`define ${U4} new ${T4}\n1 defined, 0 modified, 0 undefined, 3 unchanged\n`);
      expect(t.exists('var/lib/mdevctl/apply.journal')).toBe(true);

      const r = run(['define', '-u', U5, '-p', P, '-t', T4], { root: t.root });
      expect(r).toEqual({
        status: 0,
        stdout: '',
        stderr: `Warning: Rolled back an interrupted 'mdevctl apply' (process 4194305): 3 definition(s) restored from ${t.p('var/lib/mdevctl/apply.journal')}\n`,
      });
      expect(defs(t)).toEqual({ ...oldFiles, [`${P}/${U5}`]: text(cfg(T4)) });
      expect(t.exists('etc/mdevctl.d/new')).toBe(false);
      expect(t.exists('var/lib/mdevctl/apply.journal')).toBe(false);
    } finally {
      t.cleanup();
    }
  });

  test('a journal that cannot be read stops every writer with a message naming it', () => {
    const t = store();
    try {
      t.write('var/lib/mdevctl/apply.journal', '{"format": "something else"}');
      const before = defs(t);
      const r = apply(t, ['--jsonfile', file(t, [])]);
      expect(r).toEqual({
        status: 1,
        stdout: '',
        stderr: `Error: Unusable apply journal ${t.p('var/lib/mdevctl/apply.journal')} (unknown format); check the definitions under etc/mdevctl.d, then remove it\n`,
      });
      expect(defs(t)).toEqual(before);
      expect(run(['list', '-d'], { root: t.root }).status).toBe(0);
    } finally {
      t.cleanup();
    }
  });
});

describe('running devices and --start', () => {
  test('auto definitions of the file that are not running start; running ones that differ are listed', () => {
    const t = store();
    try {
      // U2 runs as T4 while its definition says T8; U1 (auto) is not running; U3 is manual
      t.addActive(U2, P, T4);
      const want = [{ [P]: [{ [U1]: cfg(T4, 'auto') }, { [U2]: cfg(T8, 'auto', [{ a: '1' }, { b: '2' }]) }], [Q]: [{ [U3]: cfg(T4) }] }];
      const f = file(t, want);
      const plan =
        `modify ${U2}: start manual -> auto\n` +
        `start ${U1} ${P} ${T4}\n` +
        `restart to apply ${U2} ${P}: running as type ${T4}, defined as ${T8}\n` +
        '0 defined, 1 modified, 0 undefined, 2 unchanged, 1 started\n';
      expect(dryApply(t, ['--jsonfile', f, '--start'])).toEqual({ status: 0, stdout: plan, stderr: '' });
      expect(run(['--simulate', 'apply', '--jsonfile', f, '--start', '--detailed-exitcode'], { root: t.root })).toEqual({
        status: 2,
        stdout: plan,
        stderr: '',
      });
      expect(run(['list'], { root: t.root }).stdout).toBe(`${U1} ${P} ${T4} auto (defined)\n${U2} ${P} ${T4} auto (defined)\n`);
      // nothing left to do; U2 is still running as it was (apply never restarts)
      expect(run(['--simulate', 'apply', '--jsonfile', f, '--start', '--detailed-exitcode'], { root: t.root })).toEqual({
        status: 0,
        stdout: `restart to apply ${U2} ${P}: running as type ${T4}, defined as ${T8}\n0 defined, 0 modified, 0 undefined, 3 unchanged, 0 started\n`,
        stderr: '',
      });
    } finally {
      t.cleanup();
    }
  });

  test('a device that fails to start: reported, exit 1, the definitions stay applied', () => {
    const t = new FakeTree().withStandardDirs();
    try {
      t.addParent(P, { [T4]: { available: 0 } });
      const f = file(t, [{ [P]: [{ [U1]: cfg(T4, 'auto') }] }]);
      const r = run(['--simulate', 'apply', '--jsonfile', f, '--start', '--detailed-exitcode'], { root: t.root });
      expect(r).toEqual({
        status: 1,
        stdout: `define ${U1} ${P} ${T4}\nstart failed ${U1} ${P}: No available instances of ${T4} on ${P}\n1 defined, 0 modified, 0 undefined, 0 unchanged, 0 started\n`,
        stderr:
          `Warning: Failed to start ${U1} on ${P}: No available instances of ${T4} on ${P}\n` +
          'Error: 1 device(s) failed to start; the definitions are applied\n',
      });
      expect(t.read(`etc/mdevctl.d/${P}/${U1}`)).toBe(text(cfg(T4, 'auto')));
    } finally {
      t.cleanup();
    }
  });

  test('changed attributes of a running device: restart to apply; without --start nothing starts', () => {
    const t = store();
    try {
      t.addActive(U2, P, T8);
      const f = file(t, [{ [P]: [{ [U2]: cfg(T8, 'manual', [{ a: '9' }]) }] }]);
      expect(apply(t, ['--jsonfile', f])).toEqual({
        status: 0,
        stdout: `modify ${U2}: attrs [{"a":"1"},{"b":"2"}] -> [{"a":"9"}]\nrestart to apply ${U2} ${P}: attributes changed\n0 defined, 1 modified, 0 undefined, 0 unchanged\n`,
        stderr: '',
      });
      expect(t.read(`sys/devices/pci0000:00/${P}/mdev_supported_types/${T4}/create`)).toBe('');
    } finally {
      t.cleanup();
    }
  });
});
