import { Command } from 'commander';
import { Env } from '../program';
import { startParentMdevs } from '../../lib/ops/start-parent-mdevs';

/** Hidden verb run by the udev rule when a parent device registers. */
export function register(program: Command, env: Env): void {
  program
    .command('start-parent-mdevs <PARENT>', { hidden: true })
    .description('Start the auto-start devices defined for PARENT (run by udev)')
    .action((parent: string) => {
      startParentMdevs(env.context(), parent);
    });
}
