/** Options shared by the vgpu verbs, worded once. */
import { Option } from 'commander';
import { UsageError } from '../../../lib/util/errors';

export const vgpuOpt = {
  vf: (help: string) => new Option('--vf <VF>', help),
  pf: (help: string) => new Option('--pf <PF>', help),
  type: (help: string) => new Option('-t, --type <TYPE>', help),
  auto: () => new Option('-a, --auto', 'Start it at boot (mdevctl vgpu start-all)'),
  manual: (help = 'Start it only on request (the default)') => new Option('-m, --manual', help),
};

/** --vf is required by every verb that changes one VF. */
export function requireVf(flags: { vf?: string }): string {
  if (flags.vf === undefined) throw new UsageError('the following required arguments were not provided:\n  --vf <VF>');
  return flags.vf;
}
