/**
 * The fast path (src/cli/fast-path.ts) reads `list`, `types` and `--version` lines without
 * commander. Whatever line it takes, commander (the full parser, src/cli/commander-program.ts)
 * must read the same way: the same verb, global options and flags. Checked here on the lines
 * libvirt runs, on lines it must leave to commander, and on random lines (fast-check), with the
 * program built as the CLI builds it and its actions replaced by ones that record what they got.
 * What the two paths print is the same by construction (both call runList / runTypes with those
 * flags); the CLI's own tests check the bytes.
 */
import fc from 'fast-check';
import { Command } from 'commander';
import { fastLine, FastLine } from '../src/cli/fast-path';
import { buildProgram } from '../src/cli/commander-program';

const U = 'cfbe06ff-56e5-4910-8a44-689c0a5834b2';

/** Drop the keys whose value is undefined (commander may keep them, the fast path never sets them). */
function defined(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** What commander makes of ARGV: the verb and options its action got, 'version', or 'other'. */
function commanderReads(argv: string[], name: string): unknown {
  const program = buildProgram(name);
  let got: unknown = 'other';
  const silent = (c: Command) => {
    c.configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} });
    c.commands.forEach(silent);
  };
  silent(program);
  if (name === 'lsmdev') {
    program.action((flags: Record<string, unknown>) => {
      const { root, ...list } = flags;
      got = { verb: 'list', globals: defined({ root }), flags: defined(list) };
    });
  } else {
    for (const verb of ['list', 'types'] as const) {
      program.commands
        .find((c) => c.name() === verb)!
        .action((flags: Record<string, unknown>) => {
          got = { verb, globals: defined(program.opts()), flags: defined(flags) };
        });
    }
  }
  try {
    program.parse(argv, { from: 'user' });
  } catch (e) {
    return (e as { code?: string }).code === 'commander.version' ? 'version' : 'other';
  }
  return got;
}

function asRead(line: FastLine): unknown {
  return line.verb === 'version' ? 'version' : { verb: line.verb, globals: defined(line.globals), flags: defined(line.flags) };
}

describe.each(['mdevctl', 'lsmdev'])('%s', (name) => {
  const verb = (v: string) => (name === 'lsmdev' ? [] : [v]);

  test('the lines libvirt and scripts run are taken, and read as commander reads them', () => {
    const lines = [
      [...verb('list'), '--dumpjson'],
      [...verb('list'), '--defined', '--dumpjson'],
      [...verb('list'), '-d', '--dumpjson', '--uuid', U],
      [...verb('list'), '--dumpjson', `--uuid=${U.toUpperCase()}`],
      [...verb('list'), '-d', '-v', '-p', '0000:00:02.0'],
      [...verb('list'), '--parent=matrix', '--verbose'],
      [...verb('list')],
      ['--root', '/srv/fixture', ...verb('list'), '-d'],
      ['--root=/srv/fixture', ...verb('list')],
      ['--version'],
      ['-V'],
      ...(name === 'lsmdev'
        ? []
        : [
            ['types', '--dumpjson'],
            ['types'],
            ['types', '-p', 'mtty', '--dumpjson'],
            ['--dry-run', '--simulate', 'types', '--parent', 'mtty'],
            ['--root', '/r', '--version'],
          ]),
    ];
    for (const argv of lines) {
      const line = fastLine(argv, name);
      expect({ argv, taken: line !== undefined }).toEqual({ argv, taken: true });
      expect({ argv, read: asRead(line!) }).toEqual({ argv, read: commanderReads(argv, name) });
    }
  });

  test('lines with anything else are left to commander', () => {
    const lines = [
      [...verb('list'), '-dv'],
      [...verb('list'), '--'],
      [...verb('list'), '-h'],
      [...verb('list'), '--help'],
      [...verb('list'), '--uuid', 'not-a-uuid'],
      [...verb('list'), '--uuid='],
      [...verb('list'), '--dumpjson', '--dumpjson'],
      [...verb('list'), '-d', '--defined'],
      [...verb('list'), `-u${U}`],
      [...verb('list'), '--dumpjson=yes'],
      [...verb('list'), '-u'],
      [...verb('list'), 'extra'],
      [...verb('list'), '--bogus'],
      // clap takes no value that looks like an option (`-p -x` is `-x` unknown)
      [...verb('list'), '-u', U, '-p', '-x'],
      ['-V', '--bogus'],
      ...(name === 'lsmdev'
        ? [['--root', '/a', '--root', '/b']]
        : [
            [],
            ['--root'],
            ['--root', '/r'],
            ['list', '--root', '/r'],
            ['list', '--version'],
            // the program takes its own options wherever they are, values of the verb's options too
            ['list', '-p', '--root'],
            ['list', '-p', '--root', '/r'],
            ['list', '-u', '--dry-run'],
            ['types', '-p', '-V'],
            ['list', '--parent', '--root=/r'],
            ['--root', '/a', '--root', '/b', 'list'],
            ['-V', 'list'],
            ['types', '-d'],
            ['types', '-v'],
            ['types', '--uuid', U],
            ['define', '-u', U],
            ['help', 'list'],
            ['--bogus', 'list'],
            ['lst'],
          ]),
    ];
    for (const argv of lines) expect({ argv, line: fastLine(argv, name) }).toEqual({ argv, line: undefined });
  });

  test('any line the fast path takes, commander reads the same way (random lines)', () => {
    const words = fc.constantFrom(
      'list',
      'types',
      '-d',
      '--defined',
      '--dumpjson',
      '-v',
      '--verbose',
      '-u',
      '--uuid',
      '-p',
      '--parent',
      '--root',
      '--dry-run',
      '--simulate',
      '-V',
      '--version',
      '-dv',
      '--',
      '-h',
      'x',
      U,
      `--uuid=${U}`,
      '--parent=p',
      '--root=/r',
      '--root=',
      '--parent=',
      '--bogus',
      'define',
      '-t',
      '',
      '-',
      '--dumpjson=1',
      '-p=x',
    );
    let taken = 0;
    fc.assert(
      fc.property(fc.array(words, { maxLength: 7 }), (argv) => {
        const line = fastLine(argv, name);
        if (line === undefined) return;
        taken++;
        expect({ argv, read: asRead(line) }).toEqual({ argv, read: commanderReads(argv, name) });
      }),
      { numRuns: 20000 },
    );
    // the property saw lines that were taken, not only ones left to commander
    expect(taken).toBeGreaterThan(50);
  });
});
