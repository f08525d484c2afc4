/** The command line itself: version, help, no verb, unknown verbs and options, exit statuses. */
import { FakeTree } from './support/tree';
import { run } from './support/cli';

const VERBS = ['define', 'undefine', 'modify', 'start', 'stop', 'list', 'types'];
let t: FakeTree;
beforeAll(() => {
  t = new FakeTree().withStandardDirs();
});
afterAll(() => t.cleanup());

test('--version and -V', () => {
  expect(run(['--version'], { root: t.root })).toEqual({ status: 0, stdout: 'mdevctl 1.4.0\n', stderr: '' });
  expect(run(['-V'], { root: t.root })).toEqual({ status: 0, stdout: 'mdevctl 1.4.0\n', stderr: '' });
  expect(run(['--version'], { root: t.root, bin: 'lsmdev' })).toEqual({ status: 0, stdout: 'lsmdev 1.4.0\n', stderr: '' });
  for (const v of VERBS) expect(run([v, '--version'], { root: t.root })).toEqual({ status: 0, stdout: 'mdevctl 1.4.0\n', stderr: '' });
});

test.each(VERBS)('%s --help and -h print the verb help on stdout, exit 0', (verb) => {
  for (const flag of ['--help', '-h']) {
    const r = run([verb, flag], { root: t.root });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(new RegExp(`^Usage: mdevctl ${verb} \\[options\\]\\n`));
    expect(r.stdout).toContain('-h, --help');
    expect(r.stdout).not.toContain('--version'); // as upstream's verb help: only the program's lists it
  }
  expect(run(['help', verb], { root: t.root }).stdout).toMatch(new RegExp(`^Usage: mdevctl ${verb} `));
});

test('top-level help lists the verbs, hides start-parent-mdevs', () => {
  const r = run(['--help'], { root: t.root });
  expect(r.status).toBe(0);
  for (const v of VERBS) expect(r.stdout).toMatch(new RegExp(`^  ${v} `, 'm'));
  expect(r.stdout).not.toContain('start-parent-mdevs');
  expect(run(['--help'], { bin: 'lsmdev', root: t.root }).stdout).toMatch(/^Usage: lsmdev \[options\]/);
});

test('no verb: help on stderr, exit 2', () => {
  const r = run([], { root: t.root });
  expect(r.status).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^Usage: mdevctl \[options\] \[command\]/);
});

test('unknown verb, unknown option, missing value, stray argument: exit 2 with usage', () => {
  const cases: Array<[string[], string]> = [
    [['frobnicate'], "error: unrecognized subcommand 'frobnicate'\n\nUsage: mdevctl <COMMAND>\n"],
    [['list', '--bogus'], "error: unexpected argument '--bogus' found\n\nUsage: mdevctl list [OPTIONS]\n"],
    [['list', '-u'], "error: a value is required for '--uuid <UUID>' but none was supplied\n"],
    [['types', 'extra'], "error: unexpected argument 'extra' found\n\nUsage: mdevctl types [OPTIONS]\n"],
    [['start-parent-mdevs'], 'error: the following required arguments were not provided:\n  <PARENT>\n\nUsage: mdevctl start-parent-mdevs <PARENT>\n'],
  ];
  for (const [args, message] of cases) {
    const r = run(args, { root: t.root });
    expect({ args, status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
      args,
      status: 2,
      stdout: '',
      stderr: `${message}\nFor more information, try '--help'.\n`,
    });
  }
});

test('options may be combined and given as --opt=value', () => {
  t.addDefinition('0000:00:02.0', '11111111-0000-4000-8000-000000000001', { mdev_type: 'x', start: 'auto', attrs: [{ a: 'b' }] });
  const expected = '11111111-0000-4000-8000-000000000001 0000:00:02.0 x auto\n  Attrs:\n    @{0}: {"a":"b"}\n';
  expect(run(['list', '-dv'], { root: t.root }).stdout).toBe(expected);
  expect(run(['list', '--defined', '--verbose', '--parent=0000:00:02.0'], { root: t.root }).stdout).toBe(expected);
  expect(run(['list', '-dvp', '0000:00:02.0'], { root: t.root }).stdout).toBe(expected);
});

// The program registers only the verb a command line names (none for --version): what any line
// prints must not depend on it (src/cli/main.ts, verbsFor).
test('global options before the verb, the version, and lines that name no verb answer as with every verb registered', () => {
  const usage = (line: string) => `\n\nUsage: ${line}\n\nFor more information, try '--help'.\n`;
  t.addDefinition('0000:00:02.0', '11111111-0000-4000-8000-000000000002', { mdev_type: 'y', start: 'manual', attrs: [] });
  const listed = run(['list', '-d'], { root: t.root }).stdout;
  expect(listed).toContain('11111111-0000-4000-8000-000000000002 0000:00:02.0 y manual\n');
  expect(run(['--root', t.root, 'list', '-d'], {})).toEqual({ status: 0, stdout: listed, stderr: '' });
  expect(run([`--root=${t.root}`, '--dry-run', 'list', '-d'], {})).toEqual({ status: 0, stdout: listed, stderr: '' });
  expect(run(['--bogus', 'list'], { root: t.root })).toEqual({
    status: 2,
    stdout: '',
    stderr: `error: unexpected argument '--bogus' found${usage('mdevctl <COMMAND>')}`,
  });
  expect(run(['-p', 'x', 'list'], { root: t.root })).toEqual({
    status: 2,
    stdout: '',
    stderr: `error: unexpected argument '-p' found${usage('mdevctl <COMMAND>')}`,
  });
  expect(run(['--dry-run=1', 'list'], { root: t.root })).toEqual({
    status: 2,
    stdout: '',
    stderr: `error: unexpected value '1' for '--dry-run' found; no more were expected${usage('mdevctl --dry-run <COMMAND>')}`,
  });
  // as clap reads a line: what comes before the version flag is read first
  expect(run(['--bogus', '--version'], { root: t.root })).toEqual({
    status: 2,
    stdout: '',
    stderr: `error: unexpected argument '--bogus' found${usage('mdevctl <COMMAND>')}`,
  });
  for (const args of [
    ['--version', '--bogus'],
    ['-V', 'frob'],
    ['--root', t.root, '-V'],
    ['--version', 'list'],
  ]) {
    expect(run(args, { root: t.root })).toEqual({ status: 0, stdout: 'mdevctl 1.4.0\n', stderr: '' });
  }
  // a near miss is matched against every verb
  expect(run(['lst'], { root: t.root })).toEqual({
    status: 2,
    stdout: '',
    stderr: `error: unrecognized subcommand 'lst'\n\n  tip: some similar subcommands exist: 'stop', 'list'${usage('mdevctl <COMMAND>')}`,
  });
  // --root takes `list` as its value: no verb, so the help lists them all (on stderr, exit 2)
  const noVerb = run(['--root', 'list'], { root: t.root });
  expect(noVerb).toMatchObject({ status: 2, stdout: '' });
  for (const v of [...VERBS, 'apply', 'monitor', 'completion', 'vgpu', 'fixture']) expect(noVerb.stderr).toMatch(new RegExp(`^  ${v} `, 'm'));
});
