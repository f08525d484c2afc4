import { Command, Option } from 'commander';
import { Env, opt, planOptions } from '../../program';
import { stopVgpu } from '../../../lib/api';
import { requireVf, vgpuOpt } from './options';

export function register(vgpu: Command, env: Env): void {
  vgpu
    .command('stop')
    .summary("Clear a VF's vGPU type")
    .description(
      `Write 0 into the VF's nvidia/current_vgpu_type (success when it already reads 0). Refused while a process (a VM) holds the VF's VFIO device open, unless --force. A driver that is not ready yet is retried for MDEVCTL_VGPU_STOP_TIMEOUT seconds (default 10).`,
    )
    .addOption(vgpuOpt.vf('The virtual function (PCI address)'))
    .addOption(new Option('-f, --force', 'Stop even while the VFIO device is open; go on when a callout script refuses'))
    .addOption(opt.planJson())
    .action((flags: { vf?: string; force?: boolean; dumpjson?: boolean }) => {
      planOptions(env, flags);
      stopVgpu({ context: env.changeContext(), vf: requireVf(flags), force: flags.force });
      env.changed({ dumpjson: flags.dumpjson });
    });
}
