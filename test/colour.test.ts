/**
 * Colour rules: human output is coloured only when stdout is a terminal, NO_COLOR is unset (or
 * empty) and TERM is not "dumb"; JSON, piped output and stderr never carry escape codes. The
 * terminal is a real pseudo-terminal from util-linux `script`.
 */
import { spawnSync } from 'node:child_process';
import { cliEnv, cliShellCommand, MDEVCTL, LSMDEV, run } from './support/cli';
import { prerequisites } from './support/prerequisites';
import { freshFixture, removeFixture } from './support/fixture';

const ESC = '\x1b[';
const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Run the CLI with stdout on a pseudo-terminal; returns what the terminal showed ("\n" lines). */
function onTerminal(args: string[], env: NodeJS.ProcessEnv = {}, bin = MDEVCTL): { status: number; out: string } {
  const cmd = [cliShellCommand(bin), ...args.map(quote)].join(' ');
  const full: NodeJS.ProcessEnv = { ...cliEnv(), TERM: 'xterm', ...env };
  delete full.MDEVCTL_ENV_ROOT;
  if (env.NO_COLOR === undefined) delete full.NO_COLOR;
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { env: full, encoding: 'utf8', input: '' });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, out: r.stdout.replace(/\r\n/g, '\n') };
}

// the terminal is util-linux's script(1): .ci/run installs it; without it the file is skipped
const noScript = prerequisites('colour.test.ts', { tools: ['script'] }, 'apt-get install bsdutils (util-linux script(1), for a pseudo-terminal)');

(noScript ? describe.skip : describe)('colour', () => {
  const root = freshFixture('demo');
  afterAll(() => removeFixture(root));

  test('script(1) is there to provide a terminal', () => {
    const r = spawnSync('script', ['--version'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('util-linux');
  });

  test.each([
    ['list', ['list']],
    ['list -d -v', ['list', '-d', '-v']],
    ['types', ['types']],
  ])('%s: coloured on a terminal, the same text once the codes are removed', (_name, args) => {
    const plain = run(['--root', root, ...args]);
    expect(plain.status).toBe(0);
    expect(plain.stdout).not.toContain(ESC);
    const tty = onTerminal(['--root', root, ...args]);
    expect(tty.status).toBe(0);
    expect(tty.out).toContain(ESC);
    expect(strip(tty.out)).toBe(plain.stdout);
  });

  test('what is highlighted: parent, type and state', () => {
    const tty = onTerminal(['--root', root, 'list']);
    const line = tty.out.split('\n').find((l) => l.startsWith('cfbe06ff'))!;
    expect(line).toBe(`cfbe06ff-56e5-4910-8a44-689c0a5834b2 ${ESC}36m0000:00:02.0${ESC}39m ${ESC}33mi915-GVTg_V5_4${ESC}39m auto ${ESC}32m(defined)${ESC}39m`);
  });

  test('lsmdev follows the same rule', () => {
    expect(onTerminal(['--root', root], {}, LSMDEV).out).toContain(ESC);
    expect(onTerminal(['--root', root], { NO_COLOR: '1' }, LSMDEV).out).not.toContain(ESC);
  });

  test.each([
    ['NO_COLOR=1', ['list'], { NO_COLOR: '1' }],
    ['TERM=dumb', ['list'], { TERM: 'dumb' }],
    ['--dumpjson', ['list', '--dumpjson'], {}],
    ['types --dumpjson', ['types', '--dumpjson'], {}],
    ['--help', ['list', '--help'], {}],
  ])('never with %s', (_name, args, env: NodeJS.ProcessEnv) => {
    const tty = onTerminal(['--root', root, ...args], env);
    expect(tty.status).toBe(0);
    expect(tty.out.length).toBeGreaterThan(10);
    expect(tty.out).not.toContain(ESC);
    if (!args.includes('--help')) expect(tty.out).toBe(run(['--root', root, ...args]).stdout);
  });

  test('an empty NO_COLOR does not turn colour off (no-color.org)', () => {
    expect(onTerminal(['--root', root, 'list'], { NO_COLOR: '' }).out).toContain(ESC);
  });

  test('errors are never coloured', () => {
    const tty = onTerminal(['--root', root, 'stop', '-u', '6fd1b050-0000-4000-8000-000000000000']);
    expect(tty.status).toBe(1);
    expect(tty.out).toBe('Error: Device 6fd1b050-0000-4000-8000-000000000000 is not an active mdev\n');
  });
});
