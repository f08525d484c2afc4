import type { Command } from 'commander';
import { Env, opt } from '../program';
import { listTypes } from '../../lib/ops/types';
import { typesJsonText, typesText } from '../../lib/model/format';

export interface TypesFlags {
  parent?: string;
  dumpjson?: boolean;
}

export function runTypes(env: Env, flags: TypesFlags): void {
  const types = listTypes(env.context(), { parent: flags.parent });
  env.output.result(flags.dumpjson ? typesJsonText(types) : typesText(types, env.output.style()));
}

export function register(program: Command, env: Env): void {
  program
    .command('types')
    .summary('List available mediated device types')
    .description(
      `List the mediated device types each parent device supports, with the number of instances that can still be created. --parent limits the list to one parent; --dumpjson prints JSON.`,
    )
    .addOption(opt.parent('Only the types of this parent device'))
    .addOption(opt.dumpjson('Print the type list as JSON'))
    .action((flags: TypesFlags) => runTypes(env, flags));
}
