import type { Command } from 'commander';
import { Env, opt, uuidArg } from '../program';
import { listDevices } from '../../lib/ops/list';
import { devicesText, listJsonText } from '../../lib/model/format';

export const LIST_ABOUT = 'List mediated devices';
export const LIST_LONG = `List mediated devices.\n\nWithout options, the running devices are listed. --defined lists the stored definitions instead, whether or not they are running. --uuid and --parent narrow either listing. --dumpjson prints JSON; when --uuid matches exactly one device, only that device's configuration is printed, in the form of a definition file. --verbose adds attributes.`;

export interface ListFlags {
  defined?: boolean;
  dumpjson?: boolean;
  verbose?: boolean;
  uuid?: string;
  parent?: string;
}

/** The options of `list`, shared with `lsmdev`. */
export function addListOptions(cmd: Command): Command {
  return cmd
    .option('-d, --defined', 'List defined devices instead of running ones')
    .addOption(opt.dumpjson('Print the device list as JSON'))
    .option('-v, --verbose', 'Include the attributes of each device')
    .addOption(opt.uuid('Only devices with this UUID'))
    .addOption(opt.parent('Only devices of this parent device'));
}

export function runList(env: Env, flags: ListFlags): void {
  const uuid = uuidArg(flags.uuid);
  const query = { defined: flags.defined, uuid, parent: flags.parent };
  const map = listDevices(env.context(), query);
  env.output.result(
    flags.dumpjson ? listJsonText(map, uuid !== undefined) : devicesText(map, flags.defined ? 'defined' : 'active', flags.verbose ?? false, env.output.style()),
  );
}

export function register(program: Command, env: Env): void {
  addListOptions(program.command('list').summary(LIST_ABOUT).description(LIST_LONG)).action((flags: ListFlags) => runList(env, flags));
}
