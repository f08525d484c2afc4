import { Command } from 'commander';
import { Env, conflicts, indexArg, opt, planOptions, requireOne, requires, uuidArg } from '../program';
import { modifyDevice } from '../../lib/api';
import type { ModifyOptions } from '../../lib/ops/modify';

/** The parsed options: the operation's own, with UUID and index still text, and the plan format. */
type ModifyFlags = Omit<ModifyOptions, 'uuid' | 'index'> & { uuid?: string; index?: string; dumpjson?: boolean };

export function register(program: Command, env: Env): void {
  program
    .command('modify')
    .summary('Modify the definition of a mediated device')
    .description(
      `Modify the definition of a mediated device.\n\n--parent picks the definition when the UUID is defined under several parents; to move a device to another parent, undefine and define it again. Attributes are written to the device's sysfs files in list order when it starts: --addattr/--value inserts one, --delattr removes one, at --index or at the end. --auto/--manual set the start mode. --jsonfile replaces type, start mode and attributes. --live sends the new configuration (from --jsonfile) to the running device through its callout script; add --defined to store it as well. Without --live, running devices are not changed.`,
    )
    .addOption(opt.uuid('UUID of the device to modify'))
    .addOption(opt.parent('Parent device of the definition to modify'))
    .addOption(opt.type('New mediated device type'))
    .option('--addattr <attr_name>', 'Add an attribute (with --value)')
    .option('--delattr', 'Delete an attribute (the last, or the one at --index)')
    .option('-i, --index <INDEX>', 'Position of the attribute to add or delete')
    .option('--value <attr_value>', 'Value of the attribute added by --addattr')
    .option('-a, --auto', 'Start the device automatically when its parent appears')
    .option('-m, --manual', 'Start the device only by hand')
    .option('-l, --live', 'Change the running device (with --jsonfile); with --defined also the definition')
    .option('-d, --defined', 'Change the stored definition (the default without --live)')
    .addOption(opt.jsonfile('Read type, start mode and attributes from this JSON file'))
    .addOption(opt.force())
    .addOption(opt.planJson())
    .action((flags: ModifyFlags) => {
      planOptions(env, flags);
      const f = flags as Record<string, unknown>;
      requireOne(f, ['uuid']);
      requireOne(f, ['auto', 'manual', 'addattr', 'delattr', 'jsonfile']);
      requires(f, [
        ['addattr', 'value'],
        ['value', 'addattr'],
      ]);
      conflicts(f, [
        ['value', 'delattr'],
        ['auto', 'index'],
        ['auto', 'value'],
        ['manual', 'index'],
        ['manual', 'value'],
        ['live', 'type'],
        ['live', 'index'],
        ['live', 'value'],
        ['jsonfile', 'type'],
        ['jsonfile', 'index'],
        ['jsonfile', 'value'],
      ]);
      const { dumpjson, ...rest } = flags;
      modifyDevice({ context: env.changeContext(), ...rest, uuid: uuidArg(flags.uuid)!, index: indexArg(flags.index) });
      env.changed({ dumpjson });
    });
}
