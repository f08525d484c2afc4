import { Command } from 'commander';
import { Env, conflicts, opt, planOptions, requireOne } from '../../program';
import { defineVgpu } from '../../../lib/api';
import { requireVf, vgpuOpt } from './options';

export function register(vgpu: Command, env: Env): void {
  vgpu
    .command('define')
    .summary('Store a persistent vGPU definition for a VF')
    .description(
      `Store a definition for a VF: its type (an id, nvidia-ID, or a name as listed by vgpu types for its PF now), the type's name as seen now (start refuses when the id later names another type), and the start policy (--auto: started at boot by vgpu start-all). Nothing is started.`,
    )
    .addOption(vgpuOpt.vf('The virtual function (PCI address)'))
    .addOption(vgpuOpt.type('vGPU type id or name'))
    .addOption(vgpuOpt.auto())
    .addOption(vgpuOpt.manual())
    .addOption(opt.planJson())
    .action((flags: { vf?: string; type?: string; auto?: boolean; manual?: boolean; dumpjson?: boolean }) => {
      planOptions(env, flags);
      const vf = requireVf(flags);
      requireOne(flags, ['type']);
      conflicts(flags, [['auto', 'manual']]);
      defineVgpu({ context: env.changeContext(), vf, type: flags.type!, auto: flags.auto });
      env.changed({ dumpjson: flags.dumpjson });
    });
}
