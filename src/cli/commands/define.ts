import { Command } from 'commander';
import { Env, conflicts, opt, planOptions, requireOne, uuidArg } from '../program';
import { defineDevice } from '../../lib/api';
import type { DefineOptions } from '../../lib/ops/define';

/** The parsed options: the operation's own, with a UUID still to be checked, and the plan format. */
type DefineFlags = DefineOptions & { dumpjson?: boolean };

export function register(program: Command, env: Env): void {
  program
    .command('define')
    .summary('Define a persistent mediated device')
    .description(
      `Define a persistent mediated device.\n\nWhen the UUID names a running device, --parent and --type may be left out to take the running device's. --auto starts the device whenever its parent appears. With --jsonfile the type, start mode and attributes come from the file (use /dev/stdin to pipe it). A generated UUID is printed. Running devices are not changed.`,
    )
    .addOption(opt.uuid('UUID of the device (generated and printed when left out)'))
    .option('-a, --auto', 'Start the device automatically when its parent appears')
    .addOption(opt.parent('Parent device'))
    .addOption(opt.type('Mediated device type'))
    .addOption(opt.jsonfile('Read type, start mode and attributes from this JSON file'))
    .addOption(opt.force())
    .addOption(opt.planJson())
    .action((flags: DefineFlags) => {
      planOptions(env, flags);
      requireOne(flags as Record<string, unknown>, ['uuid', 'parent']);
      conflicts(flags as Record<string, unknown>, [
        ['jsonfile', 'type'],
        ['jsonfile', 'auto'],
      ]);
      const res = defineDevice({ context: env.changeContext(), ...flags, uuid: uuidArg(flags.uuid) });
      env.changed({ uuid: res.generated ? res.uuid : undefined, dumpjson: flags.dumpjson });
    });
}
