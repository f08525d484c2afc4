import { Command } from 'commander';
import { Env, conflicts, opt, planOptions } from '../../program';
import { modifyVgpu } from '../../../lib/api';
import { requireVf, vgpuOpt } from './options';

export function register(vgpu: Command, env: Env): void {
  vgpu
    .command('modify')
    .summary("Change a VF's vGPU definition")
    .description(
      "Change a VF's stored definition: its type (--type, as listed for its PF now) or start policy (--auto, --manual). A running vGPU is not changed: stop and start it.",
    )
    .addOption(vgpuOpt.vf('The virtual function (PCI address)'))
    .addOption(vgpuOpt.type('New vGPU type id or name'))
    .addOption(vgpuOpt.auto())
    .addOption(vgpuOpt.manual('Start it only on request'))
    .addOption(opt.force())
    .addOption(opt.planJson())
    .action((flags: { vf?: string; type?: string; auto?: boolean; manual?: boolean; force?: boolean; dumpjson?: boolean }) => {
      planOptions(env, flags);
      const vf = requireVf(flags);
      conflicts(flags, [['auto', 'manual']]);
      modifyVgpu({ context: env.changeContext(), vf, type: flags.type, auto: flags.auto, manual: flags.manual, force: flags.force });
      env.changed({ dumpjson: flags.dumpjson });
    });
}
