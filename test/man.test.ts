/**
 * The man pages: they render without warnings (groff, and mandoc's lint), and
 * they document every verb and every option the CLI's --help lists, the files, the callout
 * protocol and the exit statuses.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO, run } from './support/cli';
import { prerequisites } from './support/prerequisites';

const MAN = path.join(REPO, 'man');
const source = (page: string) => fs.readFileSync(path.join(MAN, page), 'utf8');
// .ci/run installs both; without one, what needs it is skipped with one line each (the page
// source alone is not what a reader sees: its quotes and fonts hide words the tests look for)
const noGroff = prerequisites(
  'man.test.ts (groff: rendering, and the words searched for in the rendered pages)',
  { tools: ['groff'] },
  'apt-get install groff-base',
);
const noMandoc = prerequisites('man.test.ts (mandoc -T lint)', { tools: ['mandoc'] }, 'apt-get install mandoc');
const withGroff = noGroff ? test.skip : test;

/** The page as a reader sees it: groff's rendering. */
function rendered(page: string): string {
  const r = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-P', '-cbou', path.join(MAN, page)], {
    encoding: 'utf8',
    env: { ...process.env, MANWIDTH: '200' },
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  // undo hyphenation and justification so that words can be searched for
  return r.stdout
    .replace(/[‐-]\n\s+/g, '')
    .replace(/\u2010/g, '-')
    .replace(/\s+/g, ' ');
}

describe.each(['mdevctl.8', 'lsmdev.8'])('%s', (page) => {
  test('has the sections a man page needs', () => {
    const text = source(page);
    expect(text).toMatch(/^\.TH (MDEVCTL|LSMDEV) 8 "\d{4}-\d\d-\d\d" "mdevctl-ts \d+\.\d+\.\d+" /m);
    for (const s of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'EXIT STATUS', 'SEE ALSO']) expect(text).toContain(`\n.SH ${s}\n`);
    expect(text).toContain(`\n.SH NAME\n${page.replace('.8', '')} \\- `);
  });

  withGroff('groff renders it without a warning', () => {
    const r = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z', path.join(MAN, page)], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  (noMandoc ? test.skip : test)('mandoc -T lint finds nothing above style level', () => {
    const r = spawnSync('mandoc', ['-T', 'lint', '-W', 'warning', path.join(MAN, page)], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

(noGroff ? describe.skip : describe)('mdevctl.8 covers the CLI', () => {
  const text = noGroff ? '' : rendered('mdevctl.8');
  const help = run(['--help']).stdout;
  const verbs = [...help.matchAll(/^ {2}([a-z][a-z-]*) /gm)].map((m) => m[1]).filter((v) => v !== 'help');

  test('the verbs the help lists are the ones we expect', () => {
    expect(verbs).toEqual(expect.arrayContaining(['define', 'undefine', 'modify', 'start', 'stop', 'list', 'types', 'monitor', 'completion']));
  });

  test.each([...verbs, 'start-parent-mdevs'])('verb %s and each of its options', (verb) => {
    expect(text).toMatch(new RegExp(`\\b${verb}\\b`));
    const vhelp = run([verb, '--help']);
    expect(vhelp.status).toBe(0);
    const options = [...vhelp.stdout.matchAll(/(?<![\w-])(--[a-z][a-z-]*)/g)].map((m) => m[1]);
    for (const o of new Set(options)) expect({ verb, option: o, documented: text.includes(o) }).toEqual({ verb, option: o, documented: true });
  });

  test.each(['types', 'list', 'define', 'undefine', 'modify', 'start', 'stop', 'start-all'])('vgpu %s and each of its options', (verb) => {
    expect(text).toMatch(new RegExp(`vgpu ${verb}\\b`));
    const vhelp = run(['vgpu', verb, '--help']);
    expect(vhelp.status).toBe(0);
    expect(vhelp.stdout).toMatch(new RegExp(`^Usage: mdevctl vgpu ${verb} `));
    const options = [...vhelp.stdout.matchAll(/(?<![\w-])(--[a-z][a-z-]*)/g)].map((m) => m[1]);
    for (const o of new Set(options)) expect({ verb, option: o, documented: text.includes(o) }).toEqual({ verb, option: o, documented: true });
  });

  test.each([
    '--root',
    '--dry-run',
    '--simulate',
    'fixture',
    'MDEVCTL_ENV_ROOT',
    'NO_COLOR',
    '/etc/mdevctl.d/PARENT/UUID',
    '/sys/class/mdev_bus',
    '/sys/bus/mdev/devices',
    '/usr/lib/mdevctl/scripts.d/callouts',
    '/etc/mdevctl.d/scripts.d/notifiers',
    'SCRIPT -t TYPE -e EVENT -a ACTION -s STATE -u UUID -p PARENT',
    'capabilities',
    'notify',
    'Error: MESSAGE',
    '/etc/mdevctl-vgpu.d/VF.json',
    'mdevctl-vgpu.service',
    'MDEVCTL_VGPU_WAIT',
    'MDEVCTL_VGPU_STOP_TIMEOUT',
    'SCRIPT -t nvidia-ID -e EVENT -a ACTION -s STATE -u VF -p PF',
  ])('documents %s', (word) => {
    expect(text).toContain(word);
  });

  test('exit statuses 0, 1 and 2', () => {
    expect(text).toMatch(/EXIT STATUS 0 Success.* 1 The command failed.* 2 Bad usage/);
  });
});

withGroff('lsmdev.8 documents the options of lsmdev --help', () => {
  const text = rendered('lsmdev.8');
  const help = run(['--help'], { bin: 'lsmdev' }).stdout;
  for (const o of new Set([...help.matchAll(/(?<![\w-])(--[a-z][a-z-]*)/g)].map((m) => m[1]))) expect(text).toContain(o);
  expect(text).toContain('mdevctl(8)');
});
