import { Command } from 'commander';
import { Env, opt } from '../program';
import { autostartStatus } from '../../lib/api';
import { autostartStatusText } from '../../lib/ops/autostart-status';

/** Exit status of `status` while an auto-start definition is not running (as `systemctl is-active`). */
export const NOT_RUNNING_EXIT = 3;

export function register(program: Command, env: Env): void {
  program
    .command('status')
    .summary('Tell whether every auto-start device runs, and why one does not')
    .description(
      `Print one line per definition with start policy auto: UUID, parent, type, and running, waiting (start-all is still waiting for it) or not running with the reason start-all recorded (in /run/mdevctl/autostart.json; "no start-all ran since boot" without it). Exit status 0 when every auto-start definition runs, ${NOT_RUNNING_EXIT} when one does not, 1 on error: for monitoring. --dumpjson prints the same as JSON.`,
    )
    .addOption(opt.dumpjson('Print the status as JSON'))
    .action((flags: { dumpjson?: boolean }) => {
      const s = autostartStatus({ context: env.context() });
      if (flags.dumpjson) env.output.raw(`${JSON.stringify(s, null, 2)}\n`);
      else env.output.raw(autostartStatusText(s));
      if (s.definitions.some((d) => !d.running)) process.exitCode = NOT_RUNNING_EXIT;
    });
}
