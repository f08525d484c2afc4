import { Command } from 'commander';
import { Env } from '../program';
import { UsageError } from '../../lib/util/errors';
import { makeFixture, templateNames } from '../../lib/kernel/fixtures';

/** `mdevctl fixture TEMPLATE DIR`: a fresh fixture root for tests and CI (see fixtures/README.md). */
export function register(program: Command, env: Env): void {
  program
    .command('fixture')
    .summary('Create a fixture root (fake sysfs and definitions) for tests and CI')
    .description(
      `Create a new fixture root in DIR (absent or empty) from TEMPLATE: a fake sys/ laid out as the kernel lays it out, with mdevctl's etc/mdevctl.d definitions, ready for --root DIR (add --simulate to start and stop devices on it, --dry-run to see what a command would do). --list prints the template names.\n\nTemplates: ${templateNames.join(', ')}.`,
    )
    .argument('[TEMPLATE]', 'Template name')
    .argument('[DIR]', 'Directory of the new fixture root')
    .option('--list', 'Print the template names, one a line')
    .action((template: string | undefined, dir: string | undefined, flags: { list?: boolean }) => {
      if (env.dryRun()) throw new UsageError(`the argument '--dry-run' cannot be used with 'fixture'`);
      if (flags.list) {
        if (template !== undefined) throw new UsageError(`the argument '--list' cannot be used with '[TEMPLATE]'`);
        env.output.raw(templateNames.map((n) => `${n}\n`).join(''));
        return;
      }
      if (template === undefined || dir === undefined) {
        throw new UsageError(`the following required arguments were not provided:\n  ${template === undefined ? '<TEMPLATE> ' : ''}<DIR>`);
      }
      makeFixture(template, dir);
    });
}
