import { Command } from 'commander';
import { Env, conflicts, opt } from '../../program';
import { listVgpuTypes } from '../../../lib/api';
import { vgpuJson, vgpuTypesText } from '../../../lib/vgpu/format';
import { vgpuOpt } from './options';

export function register(vgpu: Command, env: Env): void {
  vgpu
    .command('types')
    .summary('List the vGPU types each PF can create now')
    .description(
      `List, per physical GPU (PF), the vGPU types its virtual functions can create now, read from each VF's nvidia/creatable_vgpu_types. This is what is creatable now, not what is supported: the list shrinks as sibling VFs take framebuffer, and a VF with a type lists only its own. --vf shows one VF's own list.`,
    )
    .addOption(vgpuOpt.pf('Only this PF'))
    .addOption(vgpuOpt.vf('Only this VF'))
    .addOption(opt.dumpjson('Print the types as JSON'))
    .action((flags: { pf?: string; vf?: string; dumpjson?: boolean }) => {
      conflicts(flags, [['pf', 'vf']]);
      const t = listVgpuTypes({ context: env.context(), pf: flags.pf, vf: flags.vf });
      env.output.raw(flags.dumpjson ? vgpuJson(t) : vgpuTypesText(t));
    });
}
