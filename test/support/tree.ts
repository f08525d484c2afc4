/**
 * Builds fake sysfs + config trees in temporary directories, laid out as the kernel does:
 * parents are links from sys/class/mdev_bus into sys/devices, active devices are links from
 * sys/bus/mdev/devices to a UUID directory under the parent with an mdev_type link.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';

export interface TypeSpec {
  available?: number | string;
  deviceApi?: string;
  name?: string;
  description?: string;
}

export class FakeTree {
  readonly root: string;

  constructor(root?: string) {
    this.root = root ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mdevctl-test-'));
  }

  p(...parts: string[]): string {
    return path.join(this.root, ...parts);
  }

  /** Create the directories a real installation has (config dir, script dirs, run/lock). */
  withStandardDirs(): this {
    for (const d of [
      'etc/mdevctl.d',
      'run/lock',
      'usr/lib/mdevctl/scripts.d/callouts',
      'usr/lib/mdevctl/scripts.d/notifiers',
      'sys/class/mdev_bus',
      'sys/bus/mdev/devices',
    ]) {
      fs.mkdirSync(this.p(d), { recursive: true });
    }
    return this;
  }

  /** Directory of a parent device under sys/devices (default: a PCI function). */
  parentDevDir(parent: string, devPath = `pci0000:00/${parent}`): string {
    return this.p('sys/devices', devPath);
  }

  /** Register PARENT with the given types: class link + mdev_supported_types/TYPE files. */
  addParent(parent: string, types: Record<string, TypeSpec>, devPath?: string): this {
    const dir = this.parentDevDir(parent, devPath);
    fs.mkdirSync(dir, { recursive: true });
    for (const [t, spec] of Object.entries(types)) {
      const td = path.join(dir, 'mdev_supported_types', t);
      fs.mkdirSync(path.join(td, 'devices'), { recursive: true });
      fs.writeFileSync(path.join(td, 'available_instances'), `${spec.available ?? 1}\n`);
      fs.writeFileSync(path.join(td, 'device_api'), `${spec.deviceApi ?? 'vfio-pci'}\n`);
      fs.writeFileSync(path.join(td, 'create'), '');
      if (spec.name !== undefined) fs.writeFileSync(path.join(td, 'name'), `${spec.name}\n`);
      if (spec.description !== undefined) fs.writeFileSync(path.join(td, 'description'), `${spec.description}\n`);
    }
    fs.mkdirSync(this.p('sys/class/mdev_bus'), { recursive: true });
    const link = this.p('sys/class/mdev_bus', parent);
    fs.symlinkSync(path.relative(path.dirname(link), dir), link);
    return this;
  }

  /** Make UUID an active device of TYPE on PARENT (the parent must exist under sys/devices). */
  addActive(uuid: string, parent: string, type: string, attrs: string[] = [], devPath?: string): this {
    const pdir = this.parentDevDir(parent, devPath);
    const ddir = path.join(pdir, uuid);
    fs.mkdirSync(ddir, { recursive: true });
    const tdir = path.join(pdir, 'mdev_supported_types', type);
    fs.mkdirSync(path.join(tdir, 'devices'), { recursive: true });
    fs.symlinkSync(path.relative(ddir, tdir), path.join(ddir, 'mdev_type'));
    fs.writeFileSync(path.join(ddir, 'remove'), '');
    for (const a of attrs) fs.writeFileSync(path.join(ddir, a), '');
    const devLink = path.join(tdir, 'devices', uuid);
    if (!fs.existsSync(devLink)) fs.symlinkSync(path.relative(path.dirname(devLink), ddir), devLink);
    fs.mkdirSync(this.p('sys/bus/mdev/devices'), { recursive: true });
    const link = this.p('sys/bus/mdev/devices', uuid);
    fs.symlinkSync(path.relative(path.dirname(link), ddir), link);
    return this;
  }

  /** Store a definition file; CONTENT is an object (written as upstream does) or raw text. */
  addDefinition(parent: string, uuid: string, content: object | string): this {
    const dir = this.p('etc/mdevctl.d', parent);
    fs.mkdirSync(dir, { recursive: true });
    const text = typeof content === 'string' ? content : JSON.stringify(content, null, 2);
    fs.writeFileSync(path.join(dir, uuid), text);
    return this;
  }

  /** Install an executable script in a callout or notifier directory. */
  addScript(dir: 'callouts' | 'notifiers' | 'old-callouts' | 'old-notifiers', name: string, body: string): string {
    const base = dir === 'callouts' || dir === 'notifiers' ? this.p('usr/lib/mdevctl/scripts.d', dir) : this.p('etc/mdevctl.d/scripts.d', dir.slice(4));
    fs.mkdirSync(base, { recursive: true });
    const file = path.join(base, name);
    fs.writeFileSync(file, body, { mode: 0o755 });
    return file;
  }

  /** A file's text, whatever its mode (a write-only attribute: readOwn). */
  read(rel: string): string {
    return readOwn(this.p(rel));
  }

  exists(rel: string): boolean {
    try {
      fs.lstatSync(this.p(rel));
      return true;
    } catch {
      return false;
    }
  }

  write(rel: string, content: string): void {
    fs.mkdirSync(path.dirname(this.p(rel)), { recursive: true });
    fs.writeFileSync(this.p(rel), content);
  }

  /**
   * Every file and link under the root (or under REL): path -> content or "-> target". With
   * `identity`, for the claim "nothing was written": each entry also carries its mode and owner,
   * and each file and link its inode and modification time, so that a file rewritten with the same
   * bytes (in place, or a new file renamed over it) and a chmod show too. (A directory's own times
   * are left out: a lock taken and released in one changes them, and writes nothing in it.)
   */
  snapshot(rel = '', how: 'content' | 'identity' = 'content'): Record<string, string> {
    const out: Record<string, string> = {};
    const id = (full: string, dir = false): string => {
      if (how !== 'identity') return '';
      const st = fs.lstatSync(full, { bigint: true });
      const owner = ` mode ${(st.mode & 0o7777n).toString(8)} owner ${st.uid}:${st.gid}`;
      return dir ? owner : `${owner} inode ${st.ino} mtime ${st.mtimeNs}`;
    };
    const walk = (dir: string) => {
      let ents: fs.Dirent[];
      try {
        ents = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of ents) {
        const full = path.join(dir, e.name);
        const key = path.relative(this.root, full);
        if (e.isSymbolicLink()) out[key] = `-> ${fs.readlinkSync(full)}${id(full)}`;
        else if (e.isDirectory()) {
          out[`${key}/`] = `dir${id(full, true)}`;
          walk(full);
        } else if (e.isFile())
          out[key] = `${readOwn(full)}${id(full) ? `\0${id(full)}` : ''}`; // create, remove: 0200
        else out[key] = `<special file>${id(full)}`; // a FIFO or socket: never opened (it could block)
      }
    };
    walk(this.p(rel));
    return out;
  }

  /**
   * A hash of the whole tree: names, link targets, contents and modes; with `identity` also what
   * snapshot(…, 'identity') adds (a same-content rewrite changes it).
   */
  hash(how: 'content' | 'identity' = 'content'): string {
    const h = createHash('sha256');
    const snap = this.snapshot('', how);
    const modes = how === 'content' ? this.modes() : {};
    for (const k of Object.keys(snap).sort()) h.update(`${k}\0${snap[k]}\0${modes[k] ?? ''}\0`);
    return h.digest('hex');
  }

  /** Every entry's mode (permission bits), by the snapshot's keys. */
  modes(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const k of Object.keys(this.snapshot())) out[k] = (fs.lstatSync(this.p(k)).mode & 0o7777).toString(8);
    return out;
  }

  cleanup(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

/** Path of a file in the upstream test data (copied into test/data/upstream from upstream's testdata). */
export const UPSTREAM_TESTDATA = path.resolve(__dirname, '..', 'data', 'upstream');

/**
 * The text of FILE whatever its mode: a fixture's `create` is 0200, as on a real kernel; root
 * reads it anyway, its owner (npm test as another user) after adding read permission, which is
 * taken away again.
 */
export function readOwn(file: string): string {
  const mode = fs.statSync(file).mode & 0o7777;
  if (mode & 0o400 || process.getuid?.() === 0) return fs.readFileSync(file, 'utf8');
  fs.chmodSync(file, mode | 0o400);
  try {
    return fs.readFileSync(file, 'utf8');
  } finally {
    fs.chmodSync(file, mode);
  }
}
