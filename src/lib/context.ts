/**
 * Everything an operation needs, built from one root: the sysfs adapter, the config store, the
 * callout runner and the log. Tests, dry runs and the library API build their own.
 */
import { Root } from './root';
import { Log, stderrLog } from './log';
import { Sysfs, KernelWriter, directKernelWriter } from './sysfs';
import { ConfigStore } from './store';
import { Callouts, createCallouts } from './callouts';

export interface Context {
  root: Root;
  log: Log;
  sysfs: Sysfs;
  store: ConfigStore;
  /** Created on first use: listing a tree without scripts never touches the script dirs twice. */
  readonly callouts: Callouts;
}

export interface ContextOptions {
  /** Root directory; default: MDEVCTL_ENV_ROOT or "/". */
  root?: string | Root;
  log?: Log;
  kernel?: KernelWriter;
  env?: NodeJS.ProcessEnv;
}

export function createContext(opts: ContextOptions = {}): Context {
  const root = opts.root instanceof Root ? opts.root : Root.resolve(opts.root, opts.env ?? process.env);
  const log = opts.log ?? stderrLog;
  let callouts: Callouts | undefined;
  return {
    root,
    log,
    sysfs: new Sysfs(root, log, opts.kernel ?? directKernelWriter),
    store: new ConfigStore(root, log),
    get callouts() {
      callouts ??= createCallouts(root, log, { env: opts.env });
      return callouts;
    },
  };
}
