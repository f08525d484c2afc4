import { Command } from 'commander';
import { Env, opt, planOptions } from '../program';
import { startAllDevices } from '../../lib/api';
import { MdevctlError, UsageError } from '../../lib/util/errors';
import { shown } from '../../lib/model/validate';

/** Default of --wait (and MDEVCTL_AUTOSTART_WAIT), seconds: as `vgpu start-all`'s MDEVCTL_VGPU_WAIT. */
export const DEFAULT_WAIT_S = 60;

/** --wait, else MDEVCTL_AUTOSTART_WAIT, else the default: seconds, fractions allowed. */
export function waitArg(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): number {
  const [raw, what] = flag !== undefined ? [flag, "'--wait <SECONDS>'"] : [env.MDEVCTL_AUTOSTART_WAIT, 'MDEVCTL_AUTOSTART_WAIT'];
  if (raw === undefined || (flag === undefined && raw.trim() === '')) return DEFAULT_WAIT_S;
  const s = /^\s*\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(s) || s > 86400) {
    throw new UsageError(`invalid value '${shown(raw)}' for ${what}: a number of seconds from 0 to 86400`);
  }
  return s;
}

export function register(program: Command, env: Env): void {
  program
    .command('start-all')
    .summary('Start every auto-start device not running, waiting for parents and types (boot)')
    .description(
      `Start every definition with start policy auto that is not running, of every parent, as boot does (mdevctl-autostart.service). Each waits up to --wait seconds (default ${DEFAULT_WAIT_S}, or MDEVCTL_AUTOSTART_WAIT) for its parent to register, its type to be offered with an instance left, and the definitions named in its "after" key to run; a start the kernel refused for a passing reason (EBUSY, EAGAIN, ENOSPC, ...) is tried again while the wait lasts. One line per definition on stderr; the outcome of each is kept in /run/mdevctl/autostart.json (see status). Fails, naming each definition that did not start and why, when any did not. With --dry-run: the plan, without waiting.`,
    )
    .option('--wait <SECONDS>', `Seconds to wait for parents, types and dependencies (default ${DEFAULT_WAIT_S}, or MDEVCTL_AUTOSTART_WAIT)`)
    .addOption(opt.planJson())
    .action((flags: { wait?: string; dumpjson?: boolean }) => {
      planOptions(env, flags);
      const wait = waitArg(flags.wait);
      const r = startAllDevices({ context: env.changeContext(), wait });
      env.changed({ dumpjson: flags.dumpjson });
      if (r.failed.length > 0) {
        const n = r.definitions.length;
        throw new MdevctlError(`${r.failed.length} of ${n} auto-start definition${n === 1 ? '' : 's'} did not start`);
      }
    });
}
