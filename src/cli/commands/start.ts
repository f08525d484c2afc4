import { Command } from 'commander';
import { Env, conflicts, opt, planOptions, requireOne, uuidArg } from '../program';
import { startDevice } from '../../lib/api';
import type { StartOptions } from '../../lib/ops/start';

/** The parsed options: the operation's own, with a UUID still to be checked, and the plan format. */
type StartFlags = StartOptions & { dumpjson?: boolean };

export function register(program: Command, env: Env): void {
  program
    .command('start')
    .summary('Start a mediated device')
    .description(
      `Start a mediated device.\n\nA UUID defined once is enough to start its definition (--parent picks one when the UUID is defined under several parents). With --parent and --type (or --jsonfile) the device is started from those alone, as a transient device; without --uuid a UUID is generated and printed. Attributes are written to the new device in order.`,
    )
    .addOption(opt.uuid('UUID of the device to start'))
    .addOption(opt.parent('Parent device'))
    .addOption(opt.type('Mediated device type'))
    .addOption(opt.jsonfile('Read type and attributes from this JSON file'))
    .addOption(opt.force())
    .addOption(opt.planJson())
    .action((flags: StartFlags) => {
      planOptions(env, flags);
      requireOne(flags as Record<string, unknown>, ['uuid', 'parent']);
      conflicts(flags as Record<string, unknown>, [['jsonfile', 'type']]);
      const res = startDevice({ context: env.changeContext(), ...flags, uuid: uuidArg(flags.uuid) });
      env.changed({ uuid: res.generated ? res.uuid : undefined, dumpjson: flags.dumpjson });
    });
}
