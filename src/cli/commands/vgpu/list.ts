import { Command } from 'commander';
import { Env, opt } from '../../program';
import { listVgpus } from '../../../lib/api';
import { definedText, runningText, vgpuJson } from '../../../lib/vgpu/format';

export function register(vgpu: Command, env: Env): void {
  vgpu
    .command('list')
    .summary('List running vGPUs, or the defined ones')
    .description(
      `List the running vGPUs (VFs whose nvidia/current_vgpu_type is not 0), one a line: VF, PF, type id, type name. With --defined, the stored definitions: VF, PF, type id, start policy, state (active, inactive, other-type, absent, unbound), type name as when defined.`,
    )
    .option('-d, --defined', 'List the stored definitions and their state')
    .addOption(opt.dumpjson('Print the list as JSON'))
    .action((flags: { defined?: boolean; dumpjson?: boolean }) => {
      const ctx = env.context();
      if (flags.defined) {
        const l = listVgpus({ context: ctx, defined: true });
        env.output.raw(flags.dumpjson ? vgpuJson(l) : definedText(l));
      } else {
        const l = listVgpus({ context: ctx });
        env.output.raw(flags.dumpjson ? vgpuJson(l) : runningText(l));
      }
    });
}
