import { Command } from 'commander';
import { Env, opt, planOptions, requireOne, uuidArg } from '../program';
import { stopDevice } from '../../lib/api';

export function register(program: Command, env: Env): void {
  program
    .command('stop')
    .summary('Stop a mediated device')
    .description('Stop (remove) a running mediated device. Its definition, if any, is kept.')
    .addOption(opt.uuid('UUID of the device to stop'))
    .addOption(opt.force())
    .addOption(opt.planJson())
    .action((flags: { uuid?: string; force?: boolean; dumpjson?: boolean }) => {
      planOptions(env, flags);
      requireOne(flags, ['uuid']);
      stopDevice({ context: env.changeContext(), uuid: uuidArg(flags.uuid)!, force: flags.force });
      env.changed({ dumpjson: flags.dumpjson });
    });
}
