import { Command, Option } from 'commander';
import { Env, opt, planOptions } from '../../program';
import { startVgpu } from '../../../lib/api';
import { requireVf, vgpuOpt } from './options';

export function register(vgpu: Command, env: Env): void {
  vgpu
    .command('start')
    .summary('Give a VF its vGPU type')
    .description(
      `Write the VF's type (its definition's, or --type) into nvidia/current_vgpu_type and read it back. The VF must be bound to nvidia. A VF that already has the type is left alone; one with another type is refused unless --force (then 0 is written first).`,
    )
    .addOption(vgpuOpt.vf('The virtual function (PCI address)'))
    .addOption(vgpuOpt.type('vGPU type id or name (default: the definition)'))
    .addOption(new Option('-f, --force', 'Replace another type the VF has; go on when a callout script refuses'))
    .addOption(opt.planJson())
    .action((flags: { vf?: string; type?: string; force?: boolean; dumpjson?: boolean }) => {
      planOptions(env, flags);
      startVgpu({ context: env.changeContext(), vf: requireVf(flags), type: flags.type, force: flags.force });
      env.changed({ dumpjson: flags.dumpjson });
    });
}
