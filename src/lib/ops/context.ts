/**
 * Everything an operation needs, built from one root: the sysfs adapter, the config store, the
 * callout runner and the log. Tests, dry runs and the library API build their own. The dry run's
 * recorder and the simulated kernel are required only when asked for: the CLI's build loads
 * such modules on demand (README, Performance), so a listing never compiles them.
 */
import { Root } from '../util/root';
import { Log, stderrLog } from '../util/log';
import { Sysfs, KernelWriter, directKernelWriter } from '../kernel/sysfs';
import { ConfigStore } from '../store/store';
import { Callouts, createCallouts } from '../callouts';
import type { Plan } from './plan';

export interface Context {
  root: Root;
  log: Log;
  sysfs: Sysfs;
  store: ConfigStore;
  /** Created on first use: listing a tree without scripts never touches the script dirs twice. */
  readonly callouts: Callouts;
  /** In a dry run: the actions recorded instead of done (nothing is written, no script runs). */
  plan?: Plan;
}

export interface ContextOptions {
  /** Root directory; default: MDEVCTL_ENV_ROOT or "/". */
  root?: string | Root;
  log?: Log;
  kernel?: KernelWriter;
  env?: NodeJS.ProcessEnv;
  /** Record every change instead of making it (see src/lib/ops/plan.ts). */
  dryRun?: boolean;
  /** Use the simulated kernel (fixture roots only; refused on /). */
  simulate?: boolean;
}

export function createContext(opts: ContextOptions = {}): Context {
  const root = opts.root instanceof Root ? opts.root : Root.resolve(opts.root, opts.env ?? process.env);
  const log = opts.log ?? stderrLog;
  const kernel = opts.kernel ?? (opts.simulate ? simulatedKernel(root) : directKernelWriter);
  if (opts.dryRun) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Plan } = require('./plan') as typeof import('./plan');
    const plan = new Plan(root, () => createCallouts(root, log, { env: opts.env }), log);
    return {
      root,
      log,
      sysfs: new Sysfs(root, log, plan.kernel),
      store: new ConfigStore(root, log, plan.files),
      callouts: plan.callouts,
      plan,
    };
  }
  let callouts: Callouts | undefined;
  return {
    root,
    log,
    sysfs: new Sysfs(root, log, kernel),
    store: new ConfigStore(root, log),
    get callouts() {
      callouts ??= createCallouts(root, log, { env: opts.env });
      return callouts;
    },
  };
}

function simulatedKernel(root: Root): KernelWriter {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { SimulatedKernel } = require('../kernel/simulated-kernel') as typeof import('../kernel/simulated-kernel');
  return new SimulatedKernel(root);
}
