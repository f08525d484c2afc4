/**
 * `mdevctl vgpu VERB`: NVIDIA vGPUs on SR-IOV virtual functions without mdev (vGPU 17+,
 * vendor-specific VFIO). One file per verb in ./vgpu/; the library side is src/lib/vgpu/.
 * Nothing of it appears in `list` or `types`, which libvirt parses.
 */
import { Command } from 'commander';
import { Env } from '../program';
import * as types from './vgpu/types';
import * as list from './vgpu/list';
import * as define from './vgpu/define';
import * as undefine from './vgpu/undefine';
import * as modify from './vgpu/modify';
import * as start from './vgpu/start';
import * as stop from './vgpu/stop';
import * as startAll from './vgpu/start-all';

const VERBS = [types, list, define, undefine, modify, start, stop, startAll];

export function register(program: Command, env: Env): void {
  const vgpu = program
    .command('vgpu')
    .summary('NVIDIA vGPUs on SR-IOV VFs without mdev (vGPU 17+): types, definitions, start/stop')
    .description(
      `NVIDIA vGPUs on SR-IOV virtual functions without mdev (vGPU software 17 and later, vendor-specific VFIO): each VF bound to the nvidia driver takes one vGPU type in nvidia/current_vgpu_type. These verbs list the types, store definitions (in /etc/mdevctl-vgpu.d, never in list or types), and start them, at boot too (vgpu start-all, run by mdevctl-vgpu.service).`,
    )
    .usage('VERB [options]');
  for (const verb of VERBS) verb.register(vgpu, env);
}
