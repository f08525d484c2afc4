import { Command, Option } from 'commander';
import { Env, opt } from '../program';
import { applyDefinitions } from '../../lib/api';
import { ApplyOptions, applyChangedAnything, applyJsonValue, applyText } from '../../lib/ops/apply';
import { MdevctlError, UsageError } from '../../lib/util/errors';

type ApplyFlags = Omit<ApplyOptions, 'jsonfile' | 'dryRun'> & {
  jsonfile?: string;
  dumpjson?: boolean;
  detailedExitcode?: boolean;
};

/** Exit status of --detailed-exitcode when something was changed (or, in a dry run, would be). */
export const CHANGED_EXIT = 2;

export function register(program: Command, env: Env): void {
  program
    .command('apply')
    .summary('Make the stored definitions match a file')
    .description(
      `Make the stored definitions match FILE, in the form 'list --defined --dumpjson' prints (- or /dev/stdin: standard input). Definitions missing from the store are defined, those that differ (type, start mode, attributes or their order) are modified, unchanged ones are not touched; with --prune the definitions of the parents FILE names that FILE does not list are undefined (--prune-all: of every parent). All or nothing: if any step fails, the store is left as it was. Prints one line per change and a summary; with --dry-run (before the verb) only the plan. Running devices are never stopped or restarted; --start starts FILE's auto-start devices that are not running.`,
    )
    .addOption(opt.jsonfile('The definitions to apply (- or /dev/stdin: standard input)'))
    .option('--prune', 'Undefine the definitions of the parents named in the file that the file does not list')
    .option('--prune-all', 'Undefine every definition, of any parent, that the file does not list')
    .option('--start', "Start the file's auto-start devices that are not running")
    .addOption(new Option('--dumpjson', 'Print the plan and summary as JSON'))
    .option('--detailed-exitcode', 'Exit 0 when nothing changed, 2 when something changed (or would, with --dry-run), 1 on error')
    .addOption(opt.force())
    .action((flags: ApplyFlags) => {
      if (flags.jsonfile === undefined) {
        throw new UsageError('the following required arguments were not provided:\n  --jsonfile <JSONFILE>');
      }
      const withStart = flags.start ?? false;
      const r = applyDefinitions({
        context: env.context(),
        jsonfile: flags.jsonfile,
        prune: flags.prune,
        pruneAll: flags.pruneAll,
        start: withStart,
        force: flags.force,
        dryRun: env.dryRun(),
      });
      if (flags.dumpjson) env.output.raw(JSON.stringify(applyJsonValue(r), null, 2));
      else env.output.raw(applyText(r, withStart));
      if (r.startFailed.length > 0) {
        throw new MdevctlError(`${r.startFailed.length} device(s) failed to start; the definitions are applied`);
      }
      if (flags.detailedExitcode && applyChangedAnything(r)) process.exitCode = CHANGED_EXIT;
    });
}
