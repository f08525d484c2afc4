/**
 * The root of everything mdevctl touches. Every path the tool reads or writes is derived here
 * (as upstream's `Environment`), so a test, a dry run or a CI script can point the whole tool at
 * a fixture tree by choosing a different root.
 */
import * as path from 'node:path';

export class Root {
  /** Absolute path of the root directory ("/" on a real system). */
  readonly dir: string;

  constructor(dir: string) {
    this.dir = path.resolve(dir);
  }

  /** Root chosen by the usual rule: the --root flag wins, then MDEVCTL_ENV_ROOT, then "/". */
  static resolve(flag?: string, env: NodeJS.ProcessEnv = process.env): Root {
    if (flag !== undefined && flag !== '') return new Root(flag);
    const fromEnv = env.MDEVCTL_ENV_ROOT;
    return new Root(fromEnv !== undefined && fromEnv !== '' ? fromEnv : '/');
  }

  get isSystemRoot(): boolean {
    return this.dir === '/';
  }

  /** The bases below are read once per device by listings: join each only once. */
  private readonly joined = new Map<string, string>();

  join(...parts: string[]): string {
    const key = parts.join('\0');
    let p = this.joined.get(key);
    if (p === undefined) this.joined.set(key, (p = path.join(this.dir, ...parts)));
    return p;
  }

  /** sys/bus/mdev/devices: one link per active mediated device. */
  get mdevBase(): string {
    return this.join('sys/bus/mdev/devices');
  }

  /** sys/class/mdev_bus: one link per registered parent device. */
  get parentBase(): string {
    return this.join('sys/class/mdev_bus');
  }

  /** sys/devices: where parent devices really live (fallback discovery scans here). */
  get devicesBase(): string {
    return this.join('sys/devices');
  }

  /** sys/bus/pci/devices: PCI functions (NVIDIA vendor-specific vGPU detection). */
  get pciDevicesBase(): string {
    return this.join('sys/bus/pci/devices');
  }

  /** etc/mdevctl.d: one directory per parent holding one definition file per UUID. */
  get configBase(): string {
    return this.join('etc/mdevctl.d');
  }

  /** etc/mdevctl.d/scripts.d: the deprecated script location (never a parent). */
  get configScriptsBase(): string {
    return path.join(this.configBase, 'scripts.d');
  }

  /** usr/lib/mdevctl/scripts.d */
  get scriptsBase(): string {
    return this.join('usr/lib/mdevctl/scripts.d');
  }

  /** Callout script directories, in the order they are consulted. */
  get calloutDirs(): string[] {
    return [path.join(this.scriptsBase, 'callouts'), path.join(this.configScriptsBase, 'callouts')];
  }

  /** Notifier script directories, in the order they are run. */
  get notifierDirs(): string[] {
    return [path.join(this.scriptsBase, 'notifiers'), path.join(this.configScriptsBase, 'notifiers')];
  }

  /**
   * run/lock/mdevctl.lock: the config store lock (src/lib/lock.ts). Runtime state, so not under
   * etc/mdevctl.d, which libvirt watches and which holds definitions only.
   */
  get lockPath(): string {
    return this.join('run/lock/mdevctl.lock');
  }

  /** The link of an active device: sys/bus/mdev/devices/UUID. */
  activePath(uuid: string): string {
    return path.join(this.mdevBase, uuid);
  }

  /** The class link of a parent: sys/class/mdev_bus/PARENT. */
  parentPath(parent: string): string {
    return path.join(this.parentBase, parent);
  }

  /** etc/mdevctl.d/PARENT */
  parentConfigDir(parent: string): string {
    return path.join(this.configBase, parent);
  }

  /** etc/mdevctl.d/PARENT/UUID */
  definitionPath(parent: string, uuid: string): string {
    return path.join(this.configBase, parent, uuid);
  }
}
