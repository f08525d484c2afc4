import { Command } from 'commander';
import { Env, opt, planOptions } from '../../program';
import { startAllVgpus } from '../../../lib/api';
import { MdevctlError } from '../../../lib/util/errors';

export function register(vgpu: Command, env: Env): void {
  vgpu
    .command('start-all')
    .summary('Start every auto vGPU definition (run at boot)')
    .description(
      `Start every definition with start policy auto, in PF order, as boot does (mdevctl-vgpu.service). VFs that already have their type are left alone. VFs that have not appeared yet are waited for, up to MDEVCTL_VGPU_WAIT seconds (default 60). A definition whose type id now names another type is not started. Fails when a definition could not be started (the others are still started).`,
    )
    .addOption(opt.planJson())
    .action((flags: { dumpjson?: boolean }) => {
      planOptions(env, flags);
      const r = startAllVgpus({ context: env.changeContext() });
      env.changed({ dumpjson: flags.dumpjson });
      if (r.failed.length > 0) {
        const n = r.failed.length + r.started.length;
        throw new MdevctlError(`${r.failed.length} of ${n} vGPU definitions could not be started`);
      }
    });
}
