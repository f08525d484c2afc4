import { Command } from 'commander';
import { Env, opt, planOptions, requireOne, uuidArg } from '../program';
import { undefineDevice } from '../../lib/api';

interface UndefineFlags {
  uuid?: string;
  parent?: string;
  force?: boolean;
  dumpjson?: boolean;
}

export function register(program: Command, env: Env): void {
  program
    .command('undefine')
    .summary('Undefine a persistent mediated device')
    .description(
      `Remove the definition of a mediated device. A UUID defined under several parents is removed from all of them unless --parent names one. Running devices are not changed.`,
    )
    .addOption(opt.uuid('UUID of the device to undefine'))
    .addOption(opt.parent('Only the definition under this parent device'))
    .addOption(opt.force())
    .addOption(opt.planJson())
    .action((flags: UndefineFlags) => {
      planOptions(env, flags);
      requireOne(flags as Record<string, unknown>, ['uuid']);
      undefineDevice({ context: env.changeContext(), uuid: uuidArg(flags.uuid)!, parent: flags.parent, force: flags.force });
      env.changed({ dumpjson: flags.dumpjson });
    });
}
