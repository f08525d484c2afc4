/**
 * The root of everything mdevctl touches. Every path the tool reads or writes is derived here
 * (as upstream's `Environment`), so a test, a dry run or a CI script can point the whole tool at
 * a fixture tree by choosing a different root.
 */
import path = require('node:path');

export class Root {
  /** Absolute path of the root directory ("/" on a real system). */
  readonly dir: string;
  /** sys/bus/mdev/devices: one link per active mediated device. */
  readonly mdevBase: string;
  /** sys/class/mdev_bus: one link per registered parent device. */
  readonly parentBase: string;
  /** sys/devices: where parent devices really live (fallback discovery scans here). */
  readonly devicesBase: string;
  /** sys/bus/pci/devices: PCI functions (NVIDIA vendor-specific vGPU detection). */
  readonly pciDevicesBase: string;
  /** etc/mdevctl.d: one directory per parent holding one definition file per UUID. */
  readonly configBase: string;
  /** etc/mdevctl.d/scripts.d: the deprecated script location (never a parent). */
  readonly configScriptsBase: string;
  /** usr/lib/mdevctl/scripts.d */
  readonly scriptsBase: string;
  /**
   * run/lock/mdevctl.lock: the config store lock (src/lib/store/lock.ts). Runtime state, so not under
   * etc/mdevctl.d, which libvirt watches and which holds definitions only.
   */
  readonly lockPath: string;
  /**
   * var/lib/mdevctl/apply.journal: the undo journal of a running `apply` (src/lib/store/journal.ts).
   * Outside etc/mdevctl.d (libvirt watches that tree) and not under run/ (a tmpfs: the journal
   * must outlive a power cut to roll back a half-done apply after the reboot).
   */
  readonly journalPath: string;
  /**
   * etc/mdevctl-vgpu.d: NVIDIA vGPU (vendor-specific VFIO) definitions, one file per VF. Outside
   * etc/mdevctl.d on purpose: upstream mdevctl takes every directory there for a parent, and
   * libvirt watches that tree.
   */
  readonly vgpuConfigBase: string;
  /** proc: process fds, to see who holds a VF's VFIO device open. */
  readonly procBase: string;
  /**
   * run/mdevctl/autostart.json: what the last `start-all` did for each auto definition (runtime
   * state, read by `status`; a tmpfs on a real system, so it starts empty at every boot).
   */
  readonly autostartStatusPath: string;

  /** Every base is joined once here: listings use them once per device. */
  constructor(dir: string) {
    this.dir = path.resolve(dir);
    this.mdevBase = this.under('sys/bus/mdev/devices');
    this.parentBase = this.under('sys/class/mdev_bus');
    this.devicesBase = this.under('sys/devices');
    this.pciDevicesBase = this.under('sys/bus/pci/devices');
    this.configBase = this.under('etc/mdevctl.d');
    this.configScriptsBase = `${this.configBase}/scripts.d`;
    this.scriptsBase = this.under('usr/lib/mdevctl/scripts.d');
    this.lockPath = this.under('run/lock/mdevctl.lock');
    this.journalPath = this.under('var/lib/mdevctl/apply.journal');
    this.vgpuConfigBase = this.under('etc/mdevctl-vgpu.d');
    this.procBase = this.under('proc');
    this.autostartStatusPath = this.under('run/mdevctl/autostart.json');
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

  /**
   * DIR/REL for a clean relative REL (no `.`, `..` or doubled slashes), as path.join would give
   * it: the bases are made at every start, where path.join costs more than the concatenation.
   */
  private under(rel: string): string {
    return this.dir === '/' ? `/${rel}` : `${this.dir}/${rel}`;
  }

  join(...parts: string[]): string {
    return path.join(this.dir, ...parts);
  }

  /** Callout script directories, in the order they are consulted. */
  get calloutDirs(): string[] {
    return [path.join(this.scriptsBase, 'callouts'), path.join(this.configScriptsBase, 'callouts')];
  }

  /** Notifier script directories, in the order they are run. */
  get notifierDirs(): string[] {
    return [path.join(this.scriptsBase, 'notifiers'), path.join(this.configScriptsBase, 'notifiers')];
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

  /** sys/bus/pci/devices/BDF: a PCI function (an SR-IOV VF or PF). */
  pciDevicePath(bdf: string): string {
    return path.join(this.pciDevicesBase, bdf);
  }

  /** etc/mdevctl-vgpu.d/VF.json: the vGPU definition of one VF. */
  vgpuDefinitionPath(vf: string): string {
    return path.join(this.vgpuConfigBase, `${vf}.json`);
  }

  /** etc/mdevctl.d/PARENT/UUID */
  definitionPath(parent: string, uuid: string): string {
    return path.join(this.configBase, parent, uuid);
  }
}
