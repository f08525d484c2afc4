import { Command } from 'commander';
import { Env, opt, planOptions } from '../../program';
import { undefineVgpu } from '../../../lib/api';
import { requireVf, vgpuOpt } from './options';

export function register(vgpu: Command, env: Env): void {
  vgpu
    .command('undefine')
    .summary("Remove a VF's vGPU definition")
    .description("Remove a VF's vGPU definition. A running vGPU keeps running (vgpu stop stops it).")
    .addOption(vgpuOpt.vf('The virtual function (PCI address)'))
    .addOption(opt.force())
    .addOption(opt.planJson())
    .action((flags: { vf?: string; force?: boolean; dumpjson?: boolean }) => {
      planOptions(env, flags);
      undefineVgpu({ context: env.changeContext(), vf: requireVf(flags), force: flags.force });
      env.changed({ dumpjson: flags.dumpjson });
    });
}
