/**
 * Faults and hostile input, each on its own temporary tree, through the real CLI: the exit status,
 * the exact message (one line naming the path, never a stack trace), and every file under the
 * root byte-identical to before, or changed exactly as intended.
 *
 * Errors a root user cannot meet on plain files are met for real: the command runs as nobody
 * (uid 65534) for EACCES, `chattr +i` gives EPERM, /dev/full gives ENOSPC, a write of a UUID into
 * /proc/self/oom_score_adj gives EINVAL, a directory gives EISDIR.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FakeTree } from './support/tree';
import { prerequisites } from './support/prerequisites';
import { cliCommand, cliEnv, jsonParseError, mdevctl, NODE, nodeBuildOnly, run, RunOptions, RunResult, REPO } from './support/cli';

const P = '0000:00:02.0';
const P2 = '0000:00:03.0';
const TYPE = 'i915-GVTg_V5_4';
const U = '976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9';
const V = '11111111-2222-4333-8444-555555555555';
const NOBODY = 65534;
const DEF = { mdev_type: TYPE, start: 'manual', attrs: [{ a: '1' }] };
const DEF_TEXT = JSON.stringify(DEF, null, 2);

let trees: FakeTree[] = [];
let immutable: string[] = [];
/** A standard tree with one parent (TYPE, one instance free), readable by everyone. */
function tree(): FakeTree {
  const t = new FakeTree().withStandardDirs();
  trees.push(t);
  fs.chmodSync(t.root, 0o755);
  fs.chmodSync(t.p('run/lock'), 0o1777); // as on a real system: nobody may take the lock
  t.addParent(P, { [TYPE]: { available: 1 } });
  return t;
}
afterEach(() => {
  for (const f of immutable) spawnSync('chattr', ['-i', f]);
  immutable = [];
  for (const t of trees) t.cleanup();
  trees = [];
});

// the runs as nobody and chattr +i need root (and e2fsprogs' chattr): skipped with one line without
const notRoot = prerequisites(
  'robustness.test.ts (its runs as nobody, and chattr +i)',
  { root: true, tools: ['chattr'] },
  'run npm test as root, with chattr (e2fsprogs) on PATH',
);
const asRoot = notRoot ? test.skip : test;

function asNobody(t: FakeTree, args: string[], opts: RunOptions = {}): RunResult {
  return run(args, { ...opts, root: t.root, uid: NOBODY });
}

/** Exit 1, nothing on stdout, exactly `Error: MESSAGE` (after any warnings) on stderr. */
function fails(r: RunResult, message: string, warnings = ''): void {
  expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 1, stdout: '', stderr: `${warnings}Error: ${message}\n` });
}
/** Exit 2 with a usage message whose first line is exactly `error: MESSAGE`. */
function usage(r: RunResult, message: string): void {
  expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 2, stdout: '' });
  expect(r.stderr.split('\n')[0]).toBe(`error: ${message}`);
  expect(r.stderr).toMatch(/\n\nFor more information, try '--help'\.\n$/);
}
function noStack(r: RunResult): void {
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stderr).not.toMatch(/TypeError|RangeError|ReferenceError|node:internal/);
}
/** Run F and check that no file, link or directory under the root changed. */
function unchanged(t: FakeTree, f: () => void): void {
  const before = t.snapshot('', 'identity');
  f();
  expect(t.snapshot('', 'identity')).toEqual(before);
}
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const defPath = (t: FakeTree, parent = P, uuid = U) => t.p('etc/mdevctl.d', parent, uuid);

describe('the config directory', () => {
  test('missing: list -d is empty, modify/undefine find nothing, define creates it and only its file', () => {
    const t = tree();
    fs.rmSync(t.p('etc/mdevctl.d'), { recursive: true });
    unchanged(t, () => {
      expect(mdevctl(t.root, 'list', '-d')).toEqual({ status: 0, stdout: '', stderr: '' });
      fails(mdevctl(t.root, 'modify', '-u', U, '--auto'), `Mediated device ${U} is not defined`);
      fails(mdevctl(t.root, 'undefine', '-u', U), 'No devices match the specified uuid');
    });
    const before = t.snapshot();
    expect(mdevctl(t.root, 'define', '-u', U, '-p', P, '-t', TYPE)).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(t.snapshot()).toEqual({
      ...before,
      'etc/mdevctl.d/': 'dir',
      [`etc/mdevctl.d/${P}/`]: 'dir',
      [`etc/mdevctl.d/${P}/${U}`]: `{\n  "mdev_type": "${TYPE}",\n  "start": "manual",\n  "attrs": []\n}`,
    });
  });

  asRoot('read-only (not writable for the user): define, modify, undefine fail naming the path, the old files stay', () => {
    const t = tree();
    t.addDefinition(P, U, DEF);
    unchanged(t, () => {
      fails(asNobody(t, ['define', '-u', V, '-p', P, '-t', TYPE]), `Failed to write config for device ${V}: Permission denied (EACCES) (${defPath(t, P, V)})`);
      fails(asNobody(t, ['define', '-u', V, '-p', P2, '-t', TYPE]), `Unable to create directory ${t.p('etc/mdevctl.d', P2)}: Permission denied (EACCES)`);
      fails(
        asNobody(t, ['modify', '-u', U, '--addattr', 'b', '--value', '2']),
        `Failed to write config for device ${U}: Permission denied (EACCES) (${defPath(t)})`,
      );
      fails(
        asNobody(t, ['undefine', '-u', U]),
        `Undefine failed (parent ${P})`,
        `Warning: Undefine of ${U} on parent ${P} failed with error: Failed to remove file ${defPath(t)}: Permission denied (EACCES)\n`,
      );
    });
    expect(fs.readFileSync(defPath(t), 'utf8')).toBe(DEF_TEXT);
  });

  asRoot('undefine under several parents, one of which fails: the others go, the failed one is named', () => {
    const t = tree();
    t.addDefinition(P, U, DEF).addDefinition(P2, U, DEF);
    fs.chownSync(t.p('etc/mdevctl.d', P), NOBODY, NOBODY);
    const before = t.snapshot();
    fails(
      asNobody(t, ['undefine', '-u', U]),
      `Undefine failed (parent ${P2})`,
      `Warning: Undefine of ${U} on parent ${P2} failed with error: Failed to remove file ${defPath(t, P2)}: Permission denied (EACCES)\n`,
    );
    delete before[`etc/mdevctl.d/${P}/${U}`];
    expect(t.snapshot()).toEqual(before);
  });

  test('a file where the directory should be', () => {
    const t = tree();
    fs.rmSync(t.p('etc/mdevctl.d'), { recursive: true });
    t.write('etc/mdevctl.d', 'not a directory');
    unchanged(t, () => {
      expect(mdevctl(t.root, 'list', '-d')).toEqual({ status: 0, stdout: '', stderr: '' });
      fails(mdevctl(t.root, 'define', '-u', U, '-p', P, '-t', TYPE), `Unable to create directory ${t.p('etc/mdevctl.d', P)}: Not a directory (ENOTDIR)`);
    });
  });

  asRoot('the lock directory cannot be created: one line naming it, nothing written', () => {
    const t = tree();
    fs.rmSync(t.p('run'), { recursive: true });
    t.write('run', 'a file');
    unchanged(t, () =>
      fails(
        mdevctl(t.root, 'define', '-u', U, '-p', P, '-t', TYPE),
        `Unable to take the lock ${t.p('run/lock/mdevctl.lock')}: cannot create ${t.p('run/lock')}: Not a directory (ENOTDIR)`,
      ),
    );
  });
});

describe('damaged definitions: named in a warning, skipped, the others still listed', () => {
  const listLine = `${V} ${P} ${TYPE} manual\n`;
  function damaged(make: (t: FakeTree, file: string) => void) {
    const t = tree();
    t.addDefinition(P, V, { mdev_type: TYPE, start: 'manual', attrs: [] });
    fs.mkdirSync(t.p('etc/mdevctl.d', P), { recursive: true });
    make(t, defPath(t));
    return t;
  }
  // run as nobody: a file of root's mode 0600 is what nobody cannot read
  asRoot.each<[string, (t: FakeTree, file: string) => void, (file: string) => string | RegExp]>([
    ['unreadable', (t, f) => fs.writeFileSync(f, DEF_TEXT, { mode: 0o600 }), (f) => `Unable to read definition ${f}: Permission denied (EACCES)`],
    ['a directory', (t, f) => fs.mkdirSync(f), (f) => `Ignoring definition ${f}: not a regular file`],
    ['a dangling link', (t, f) => fs.symlinkSync('nowhere', f), (f) => `Ignoring definition ${f}: the link points nowhere`],
    ['a FIFO (never opened: it would block)', (t, f) => spawnSync('mkfifo', [f]), (f) => `Ignoring definition ${f}: not a regular file`],
    [
      'not JSON',
      (t, f) => fs.writeFileSync(f, '{"mdev_type": "x",\n'),
      (f) => `Skipping malformed definition ${f}: invalid JSON: ${jsonParseError('{"mdev_type": "x",\n')}`,
    ],
    [
      'of the wrong shape',
      (t, f) => fs.writeFileSync(f, '{"mdev_type":"x","start":"auto","attrs":[{"a":1}]}'),
      (f) => `Skipping malformed definition ${f}: invalid JSON format for attribute {"a", 1}: value must be of type str`,
    ],
    [
      'with bytes that are not text',
      (t, f) => fs.writeFileSync(f, Buffer.from([0x7b, 0xff, 0x00, 0x1b, 0x7d])),
      (f) => new RegExp(`^Skipping malformed definition ${esc(f)}: invalid JSON: [^\\n\\x00-\\x1f]*$`),
    ],
  ])('%s', (_name, make, warning) => {
    const t = damaged(make);
    unchanged(t, () => {
      const r = asNobody(t, ['list', '-d']);
      expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 0, stdout: listLine });
      const w = warning(defPath(t));
      expect(r.stderr.startsWith('Warning: ') && r.stderr.endsWith('\n')).toBe(true);
      const line = r.stderr.slice('Warning: '.length, -1);
      if (typeof w === 'string') expect(line).toBe(w);
      else expect(line).toMatch(w);
      // modify does not take it for a definition, undefine leaves it alone
      const m = asNobody(t, ['modify', '-u', U, '--auto']);
      expect(m.status).toBe(1);
      expect(m.stderr.endsWith(`Error: Mediated device ${U} is not defined\n`)).toBe(true);
    });
  });

  test('define refuses to write over a directory or a FIFO, naming it', () => {
    const t = tree();
    fs.mkdirSync(defPath(t), { recursive: true });
    spawnSync('mkfifo', [defPath(t, P, V)]);
    unchanged(t, () => {
      fails(mdevctl(t.root, 'define', '-u', U, '-p', P, '-t', TYPE), `Unable to use definition ${defPath(t)}: not a regular file`);
      fails(mdevctl(t.root, 'define', '-u', V, '-p', P, '-t', TYPE), `Unable to use definition ${defPath(t, P, V)}: not a regular file`);
    });
  });

  test('a running device whose definition path is a FIFO is still listed (the FIFO is not opened)', () => {
    const t = tree();
    t.addActive(U, P, TYPE);
    fs.mkdirSync(t.p('etc/mdevctl.d', P));
    spawnSync('mkfifo', [defPath(t)]);
    unchanged(t, () => {
      const r = run(['list'], { root: t.root, timeoutMs: 10000 });
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`${U} ${P} ${TYPE} manual (defined)\n`);
    });
  });
});

describe('sysfs that is not as the kernel makes it', () => {
  test('a parent link that points nowhere: types skips it with a warning, start cannot find it', () => {
    const t = tree();
    fs.symlinkSync('../../devices/gone', t.p('sys/class/mdev_bus', P2));
    unchanged(t, () => {
      const r = mdevctl(t.root, 'types');
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`${P}\n  ${TYPE}\n    Available instances: 1\n    Device API: vfio-pci\n`);
      expect(r.stderr).toBe(`Warning: Skipping parent ${P2}: ${t.p('sys/class/mdev_bus', P2)} points nowhere\n`);
      fails(mdevctl(t.root, 'start', '-u', U, '-p', P2, '-t', TYPE), `Unable to find parent device '${P2}': ${t.p('sys/class/mdev_bus', P2)} points nowhere`);
    });
  });

  test.each([['abc'], [''], ['1.5'], ['99999999999']])('available_instances %j: the file is named', (value) => {
    const t = tree();
    const file = t.p('sys/class/mdev_bus', P, 'mdev_supported_types', TYPE, 'available_instances');
    fs.writeFileSync(file, `${value}\n`);
    unchanged(t, () => {
      const msg = `Invalid available_instances '${value}' in ${file}: not an integer`;
      fails(mdevctl(t.root, 'types'), msg);
      fails(mdevctl(t.root, 'start', '-u', U, '-p', P, '-t', TYPE), msg);
    });
  });

  test('a type without device_api: the type directory is named', () => {
    const t = tree();
    const dir = t.p('sys/class/mdev_bus', P, 'mdev_supported_types', TYPE);
    fs.rmSync(path.join(dir, 'device_api'));
    unchanged(t, () => fails(mdevctl(t.root, 'types'), `Unable to read mdev type ${TYPE} of ${P}: No such file or directory (ENOENT) (${dir})`));
  });

  test('a description with bytes that are not UTF-8, NUL and escape sequences: shown safely, the file named', () => {
    const t = tree();
    const file = t.p('sys/class/mdev_bus', P, 'mdev_supported_types', TYPE, 'description');
    fs.writeFileSync(file, Buffer.concat([Buffer.from('ok '), Buffer.from([0xff, 0xfe, 0x00]), Buffer.from('\x1b[31mred\nline2\n')]));
    unchanged(t, () => {
      const r = mdevctl(t.root, 'types');
      expect({ status: r.status, stderr: r.stderr }).toEqual({
        status: 0,
        stderr: `Warning: ${file} is not valid UTF-8; showing the bytes that are not as U+FFFD\n`,
      });
      expect(r.stdout).toContain('    Description: ok \ufffd\ufffd\\u0000\\u001b[31mred, line2\n');
      expect(r.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f]/);
      const j = mdevctl(t.root, 'types', '--dumpjson');
      expect(j.status).toBe(0);
      expect(JSON.parse(j.stdout)[0][P][0][TYPE].description).toBe('ok \ufffd\ufffd\u0000\u001b[31mred, line2');
    });
  });

  test('an active device link that points nowhere: skipped with a warning naming it', () => {
    const t = tree();
    fs.symlinkSync('../../../devices/gone', t.p('sys/bus/mdev/devices', U));
    unchanged(t, () => {
      expect(mdevctl(t.root, 'list')).toEqual({
        status: 0,
        stdout: '',
        stderr: `Warning: Skipping ${t.p('sys/bus/mdev/devices', U)}: the link points nowhere\n`,
      });
    });
  });
});

describe('hostile names: refused before anything is written', () => {
  const longName = 'p'.repeat(300);
  test.each([
    ['a/b', "it contains '/'"],
    ['../../etc', "it contains '/'"],
    ['..', "'..' is not a name"],
    ['.', "'.' is not a name"],
    ['', 'it is empty'],
    ['a\nb', 'it contains a control character'],
    ['\x1b[31mred', 'it contains a control character'],
    [longName, 'it is longer than 255 bytes'],
  ])('parent %j', (parent, problem) => {
    const t = tree();
    t.addDefinition(P, U, DEF);
    const shown = JSON.stringify(parent.length > 80 ? `${parent.slice(0, 80)}...` : parent).slice(1, -1);
    const msg = `Invalid parent device name '${shown}': ${problem}`;
    unchanged(t, () => {
      fails(mdevctl(t.root, 'define', '-u', V, '-p', parent, '-t', TYPE), msg);
      fails(mdevctl(t.root, 'define', '-p', parent, '-t', TYPE), msg);
      fails(mdevctl(t.root, 'modify', '-u', U, '-p', parent, '--auto'), msg);
      fails(mdevctl(t.root, 'undefine', '-u', U, '-p', parent), msg);
      fails(mdevctl(t.root, 'start', '-u', V, '-p', parent, '-t', TYPE), msg);
      fails(mdevctl(t.root, 'start-parent-mdevs', parent), msg);
    });
  });

  test.each([
    ['../x', "its path component '..' is not a plain name"],
    ['/etc/passwd', 'it is an absolute path'],
    ['../../../../../../tmp/pwned', "its path component '..' is not a plain name"],
    ['nvidia/../../x', "its path component '..' is not a plain name"],
    ['a//b', 'it has an empty path component'],
    ['..', "'..' is not a name"],
    ['', 'it is empty'],
    ['a\u0000b', 'it contains a NUL byte'],
    ['x'.repeat(256), 'it is longer than 255 bytes'],
  ])('attribute name %j: modify --addattr, define/modify/start --jsonfile', (name, problem) => {
    const t = tree();
    t.addDefinition(P, U, DEF);
    const shown = JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}...` : name).slice(1, -1);
    const msg = `Invalid attribute name '${shown}': ${problem}`;
    const json = JSON.stringify({ mdev_type: TYPE, start: 'auto', attrs: [{ ok: '1' }, { [name]: '1' }] });
    unchanged(t, () => {
      if (!name.includes('\0')) fails(mdevctl(t.root, 'modify', '-u', U, '--addattr', name, '--value', '1'), msg);
      fails(run(['define', '-u', V, '-p', P, '--jsonfile', '/dev/stdin'], { root: t.root, input: json }), msg);
      fails(run(['modify', '-u', U, '-p', P, '--jsonfile', '/dev/stdin'], { root: t.root, input: json }), msg);
      fails(run(['start', '-u', V, '-p', P, '--jsonfile', '/dev/stdin'], { root: t.root, input: json }), msg);
    });
  });

  test('a stored definition with an escaping attribute is refused by start before the device is created', () => {
    const t = tree();
    t.addDefinition(P, U, { mdev_type: TYPE, start: 'auto', attrs: [{ '/etc/passwd': 'x' }] });
    unchanged(t, () => {
      fails(mdevctl(t.root, 'start', '-u', U), "Invalid attribute name '/etc/passwd': it is an absolute path");
      const r = mdevctl(t.root, 'start-parent-mdevs', P);
      expect({ status: r.status, stderr: r.stderr }).toEqual({
        status: 0,
        stderr: `Warning: Failed to start ${U} on ${P}: Invalid attribute name '/etc/passwd': it is an absolute path\n`,
      });
    });
  });

  test.each([['../t'], ['a/b'], ['']])('type %j: define and modify refuse it', (type) => {
    const t = tree();
    t.addDefinition(P, U, DEF);
    const problem = type === '' ? 'it is empty' : "it contains '/'";
    unchanged(t, () => {
      fails(mdevctl(t.root, 'define', '-u', V, '-p', P, '-t', type), `Invalid mdev type '${type}': ${problem}`);
      fails(mdevctl(t.root, 'modify', '-u', U, '-t', type, '--auto'), `Invalid mdev type '${type}': ${problem}`);
      fails(
        run(['define', '-u', V, '-p', P, '--jsonfile', '/dev/stdin'], { root: t.root, input: JSON.stringify({ mdev_type: type, start: 'auto' }) }),
        `Invalid mdev type '${type}': ${problem}`,
      );
    });
  });
});

describe('--jsonfile that is not a definition', () => {
  const cases: Array<[string, (t: FakeTree) => { file: string; input?: string }, (file: string) => string]> = [
    ['missing', (t) => ({ file: t.p('none.json') }), (f) => `Unable to read file "${f}": No such file or directory (ENOENT)`],
    ['a directory', (t) => ({ file: t.p('etc') }), (f) => `Unable to read jsonfile "${f}": Is a directory (EISDIR)`],
    ['empty', () => ({ file: '/dev/stdin', input: '' }), () => `invalid JSON in /dev/stdin: ${jsonParseError('')}`],
    [
      'not JSON, over several lines',
      () => ({ file: '/dev/stdin', input: 'mdev_type:\n x\n' }),
      () => `invalid JSON in /dev/stdin: ${jsonParseError('mdev_type:\n x\n')}`,
    ],
    [
      'huge (2 MiB)',
      (t) => {
        const f = t.p('huge.json');
        fs.writeFileSync(f, `{"mdev_type":"${'x'.repeat(2 * 1024 * 1024)}","start":"auto"}`);
        return { file: f };
      },
      (f) => `Unable to read jsonfile "${f}": larger than 1048576 bytes`,
    ],
    [
      'huge on stdin',
      () => ({ file: '/dev/stdin', input: ' '.repeat(1024 * 1024 + 1) }),
      () => 'Unable to read jsonfile "/dev/stdin": larger than 1048576 bytes',
    ],
    [
      'nested 100000 deep',
      () => ({ file: '/dev/stdin', input: '['.repeat(100000) + ']'.repeat(100000) }),
      () => 'invalid json (/dev/stdin): expected an object with "mdev_type" and "start"',
    ],
    ['an array', () => ({ file: '/dev/stdin', input: '[]' }), () => 'invalid json (/dev/stdin): expected an object with "mdev_type" and "start"'],
    ['a string', () => ({ file: '/dev/stdin', input: '"x"' }), () => 'invalid json (/dev/stdin): expected an object with "mdev_type" and "start"'],
    ['null', () => ({ file: '/dev/stdin', input: 'null' }), () => 'invalid json (/dev/stdin): expected an object with "mdev_type" and "start"'],
    ['no start', () => ({ file: '/dev/stdin', input: `{"mdev_type":"${TYPE}"}` }), () => 'invalid json (/dev/stdin): "mdev_type" and "start" are required'],
    [
      'a numeric type',
      () => ({ file: '/dev/stdin', input: '{"mdev_type":1,"start":"auto"}' }),
      () => 'invalid json (/dev/stdin): "mdev_type" must be a string',
    ],
    [
      'attrs an object',
      () => ({ file: '/dev/stdin', input: `{"mdev_type":"${TYPE}","start":"auto","attrs":{"a":"1"}}` }),
      () => 'attributes field is not an array (/dev/stdin)',
    ],
    [
      'an attr not an object',
      () => ({ file: '/dev/stdin', input: `{"mdev_type":"${TYPE}","start":"auto","attrs":["a"]}` }),
      () => 'invalid JSON format for attribute: not an object (/dev/stdin)',
    ],
    [
      'an attr with two keys',
      () => ({ file: '/dev/stdin', input: `{"mdev_type":"${TYPE}","start":"auto","attrs":[{"a":"1","b":"2"}]}` }),
      () => 'invalid JSON format for attribute: too many fields (/dev/stdin)',
    ],
    [
      'an attr value not a string',
      () => ({ file: '/dev/stdin', input: `{"mdev_type":"${TYPE}","start":"auto","attrs":[{"a":[1]}]}` }),
      () => 'invalid JSON format for attribute {"a", [1]}: value must be of type str (/dev/stdin)',
    ],
  ];
  test.each(cases)('%s: define, modify and start fail in one line, nothing written', (_name, make, message) => {
    const t = tree();
    t.addDefinition(P, U, DEF);
    const { file, input } = make(t);
    unchanged(t, () => {
      for (const args of [
        ['define', '-u', V, '-p', P, '--jsonfile', file],
        ['modify', '-u', U, '-p', P, '--jsonfile', file],
        ['start', '-u', V, '-p', P, '--jsonfile', file],
      ]) {
        const r = run(args, { root: t.root, input });
        // 1.4.0's start says `Unable to read jsonfile` where define and modify say `file`
        fails(r, args[0] === 'start' ? message(file).replace(/^Unable to read file /, 'Unable to read jsonfile ') : message(file));
        noStack(r);
      }
    });
  });
});

describe('UUIDs in every wrong form: a usage error (exit 2), nothing written', () => {
  // the uuid crate's words, as upstream 1.4.0 (clap's uuid value parser) prints them
  const C = 'invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found ';
  const forms: Array<[string, string]> = [
    ['', 'invalid length: expected length 32 for simple format, found 0'],
    ['x', `${C}\`x\` at 1`],
    ['1234', 'invalid length: expected length 32 for simple format, found 4'],
    [`${U}0`, 'invalid group length in group 4: expected 12, found 13'],
    [U.slice(1), 'invalid group length in group 0: expected 8, found 7'],
    ['976d8cc24bfc43b9b9f9f4af2de91ab', 'invalid length: expected length 32 for simple format, found 31'],
    ['976d8cc24-bfc-43b9-b9f9-f4af2de91ab9', 'invalid group length in group 0: expected 8, found 9'],
    ['976d8cc2-4bfc-43b9-b9f9-f4af2de91ab-', 'invalid group count: expected 5, found 6'],
    ['976d8cc2-4bfc-43b9-b9f9-f4af2de91abg', `${C}\`g\` at 36`],
    [` ${U}`, `${C}\` \` at 1`],
    [`${U}\n`, `${C}\`\\n\` at 37`],
    [`{${U}`, `${C}\`{\` at 1`],
    [`${U}}`, `${C}\`}\` at 37`],
    [`urn:uuid:${U.slice(2)}`, 'invalid group length in group 0: expected 8, found 6'],
    [`urn:uid:${U}`, `${C}\`u\` at 1`],
    ['٩٧٦d8cc2-4bfc-43b9-b9f9-f4af2de91ab9', `${C}\`٩\` at 1`],
    ['\x1b[2J', `${C}\`\\u001b\` at 1`],
  ];

  test.each(forms)('%j', (uuid, problem) => {
    const t = tree();
    t.addDefinition(P, U, DEF);
    const shown = JSON.stringify(uuid).slice(1, -1);
    unchanged(t, () => {
      for (const args of [
        ['define', '-u', uuid, '-p', P, '-t', TYPE],
        ['undefine', '-u', uuid],
        ['modify', '-u', uuid, '--auto'],
        ['start', '-u', uuid, '-p', P, '-t', TYPE],
        ['stop', '-u', uuid],
        ['list', '-u', uuid],
        ['list', '-d', `--uuid=${uuid}`],
      ]) {
        usage(mdevctl(t.root, ...args), `invalid value '${shown}' for '--uuid <UUID>': ${problem}`);
      }
    });
  });
});

describe('kernel write errors, met for real, explained with the path', () => {
  const createFile = (t: FakeTree) => t.p('sys/class/mdev_bus', P, 'mdev_supported_types', TYPE, 'create');
  const createFails = (t: FakeTree, explained: string) => `Failed to create mdev ${U}, type ${TYPE} on ${P}: ${explained} (${createFile(t)})`;

  test('create is a directory: EISDIR', () => {
    const t = tree();
    fs.rmSync(createFile(t));
    fs.mkdirSync(createFile(t));
    unchanged(t, () => fails(mdevctl(t.root, 'start', '-u', U, '-p', P, '-t', TYPE), createFails(t, 'Is a directory (EISDIR)')));
  });

  test('create has no room (/dev/full): ENOSPC', () => {
    const t = tree();
    fs.rmSync(createFile(t));
    fs.symlinkSync('/dev/full', createFile(t));
    unchanged(t, () =>
      fails(
        mdevctl(t.root, 'start', '-u', U, '-p', P, '-t', TYPE),
        createFails(t, 'No space left on device (ENOSPC): no capacity left for this type on the parent'),
      ),
    );
  });

  test('create rejects the value (a /proc file that takes numbers only): EINVAL', () => {
    const t = tree();
    fs.rmSync(createFile(t));
    fs.symlinkSync('/proc/self/oom_score_adj', createFile(t));
    unchanged(t, () =>
      fails(
        mdevctl(t.root, 'start', '-u', U, '-p', P, '-t', TYPE),
        createFails(t, 'Invalid argument (EINVAL): the kernel rejected the UUID or the type cannot create more devices'),
      ),
    );
  });

  asRoot('not root: EACCES', () => {
    const t = tree();
    unchanged(t, () =>
      fails(asNobody(t, ['start', '-u', U, '-p', P, '-t', TYPE]), createFails(t, 'Permission denied (EACCES): permission denied: mdevctl must run as root')),
    );
  });

  asRoot('an immutable create file (chattr +i): EPERM', () => {
    const t = tree();
    const r = spawnSync('chattr', ['+i', createFile(t)], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    immutable.push(createFile(t));
    unchanged(t, () =>
      fails(
        mdevctl(t.root, 'start', '-u', U, '-p', P, '-t', TYPE),
        createFails(t, 'Operation not permitted (EPERM): permission denied: mdevctl must run as root'),
      ),
    );
  });

  test('remove has no room (/dev/full) or is a directory: stop names the file', () => {
    const t = tree();
    t.addActive(U, P, TYPE);
    const removeFile = t.p('sys/bus/mdev/devices', U, 'remove');
    fs.rmSync(removeFile);
    fs.symlinkSync('/dev/full', removeFile);
    unchanged(t, () => fails(mdevctl(t.root, 'stop', '-u', U), `Error removing device ${U}: No space left on device (ENOSPC) (${removeFile})`));
    fs.rmSync(removeFile);
    fs.mkdirSync(removeFile);
    unchanged(t, () => fails(mdevctl(t.root, 'stop', '-u', U), `Error removing device ${U}: Is a directory (EISDIR) (${removeFile})`));
  });
});

describe('errors that are not ours never show a stack trace', () => {
  const outputTo = (t: FakeTree, file: string, env: NodeJS.ProcessEnv = {}) => {
    const out = fs.openSync(file, 'w');
    try {
      const r = spawnSync(...cliCommand(['list', '-d']), {
        env: { ...cliEnv(), MDEVCTL_ENV_ROOT: t.root, MDEVCTL_DEBUG: '', ...env },
        stdio: ['ignore', out, 'pipe'],
        encoding: 'utf8',
      });
      return { status: r.status, stderr: r.stderr };
    } finally {
      fs.closeSync(out);
    }
  };

  test('the output cannot be written (stdout is /dev/full): one Error line, exit 1', () => {
    const t = tree();
    t.addDefinition(P, U, DEF);
    expect(outputTo(t, '/dev/full')).toEqual({ status: 1, stderr: 'Error: ENOSPC: no space left on device, write\n' });
  });

  test('MDEVCTL_DEBUG=1 adds the stack', () => {
    const t = tree();
    t.addDefinition(P, U, DEF);
    const r = outputTo(t, '/dev/full', { MDEVCTL_DEBUG: '1' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^Error: ENOSPC: no space left on device, write\n(?:.*\n)*\s+at /);
    const ours = run(['define', '-p', 'a/b', '-t', TYPE], { root: t.root, env: { MDEVCTL_DEBUG: '1' } });
    expect(ours.stderr).toMatch(/^Error: Invalid parent device name 'a\/b': it contains '\/'\n(?:.*\n)*\s+at /);
    const plain = run(['define', '-p', 'a/b', '-t', TYPE], { root: t.root, env: { MDEVCTL_DEBUG: '' } });
    expect(plain.stderr).toBe("Error: Invalid parent device name 'a/b': it contains '/'\n");
  });

  (nodeBuildOnly("robustness.test.ts, errors thrown after main() (code injected into the Node build's bundle)") ? test.skip : test).each([
    ['an exception thrown later, outside the command', "setTimeout(() => { throw new TypeError('boom\\nsecond line'); }, 5)", 'Error: boom\n'],
    ['a rejected promise', "Promise.reject(new RangeError('rejected'))", 'Error: rejected\n'],
  ])('%s: one Error line, exit 1', (_name, code, stderr) => {
    const t = tree();
    const r = spawnSync(NODE, ['-e', `require(${JSON.stringify(path.join(REPO, 'dist/cli.cjs'))}).main(['types'], 'mdevctl'); ${code}`], {
      env: { ...cliEnv(), MDEVCTL_ENV_ROOT: t.root, MDEVCTL_DEBUG: '' },
      encoding: 'utf8',
    });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 1, stderr });
  });
});
