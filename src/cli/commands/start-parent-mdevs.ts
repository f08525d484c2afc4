import { Command } from 'commander';
import { Env, opt, planOptions } from '../program';
import { startParentMdevs } from '../../lib/ops/start-parent-mdevs';

/** Hidden verb run by the udev rule when a parent device registers. */
export function register(program: Command, env: Env): void {
  program
    .command('start-parent-mdevs <PARENT>', { hidden: true })
    .description('Start the auto-start devices defined for PARENT (run by udev)')
    .addOption(opt.planJson())
    .action((parent: string, flags: { dumpjson?: boolean }) => {
      planOptions(env, flags);
      startParentMdevs(env.changeContext(), parent);
      env.changed({ dumpjson: flags.dumpjson });
    });
}
