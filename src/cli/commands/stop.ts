import { Command } from 'commander';
import { Env, opt, requireOne, uuidArg } from '../program';
import { stopDevice } from '../../lib/ops/stop';

export function register(program: Command, env: Env): void {
  program
    .command('stop')
    .summary('Stop a mediated device')
    .description('Stop (remove) a running mediated device. Its definition, if any, is kept.')
    .addOption(opt.uuid('UUID of the device to stop'))
    .addOption(opt.force())
    .action((flags: { uuid?: string; force?: boolean }) => {
      requireOne(flags as Record<string, unknown>, ['uuid']);
      stopDevice(env.context(), { uuid: uuidArg(flags.uuid)!, force: flags.force });
    });
}
