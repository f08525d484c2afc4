/**
 * The store of vGPU definitions: etc/mdevctl-vgpu.d/VF.json, one file per VF, written through
 * the config store's file seam (atomic writes; a dry run records them) under the same store lock
 * as the mdev definitions. The directory is outside etc/mdevctl.d, which upstream mdevctl walks
 * (every directory there is taken for a parent, every file in it must be named by a UUID) and
 * libvirt watches: neither ever sees these files.
 */
import fs = require('node:fs');
import path = require('node:path');
import { Root } from '../util/root';
import { Log } from '../util/log';
import { ConfigStore, StoreFiles } from '../store/store';
import { removeStaleTemps } from '../store/atomic-file';
import { MdevctlError, describeSystemError, errnoCode, escapeControls } from '../util/errors';
import { byteOrder } from '../model/order';
import { checkBdf } from './sysfs';

/** One stored definition, exactly as in its file. */
export interface VgpuDefinition {
  vf: string;
  /** The PF when defined (used for ordering while the VF is absent). */
  pf: string;
  type_id: number;
  /** The type's name when defined: start refuses when the id now names another type. */
  type_name: string;
  start: 'auto' | 'manual';
}

const FILE_NAME = /^([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7])\.json$/;

/** Parse a definition file's text; throws a one-line message on anything else. */
export function parseDefinition(text: string, vf: string): VgpuDefinition {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`invalid JSON: ${escapeControls((e as Error).message)}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('expected an object');
  const o = v as Record<string, unknown>;
  if (o.vf !== vf) throw new Error(`"vf" must be ${vf} (the file's name)`);
  if (typeof o.pf !== 'string') throw new Error('"pf" must be a string');
  if (typeof o.type_id !== 'number' || !Number.isInteger(o.type_id) || o.type_id <= 0) throw new Error('"type_id" must be a positive integer');
  if (typeof o.type_name !== 'string') throw new Error('"type_name" must be a string');
  if (o.start !== 'auto' && o.start !== 'manual') throw new Error('"start" must be "auto" or "manual"');
  return { vf, pf: o.pf, type_id: o.type_id, type_name: o.type_name, start: o.start };
}

/** The file's bytes: pretty JSON, keys in a fixed order, no trailing newline (as mdev definitions). */
export function definitionText(d: VgpuDefinition): string {
  const ordered: VgpuDefinition = { vf: d.vf, pf: d.pf, type_id: d.type_id, type_name: d.type_name, start: d.start };
  return JSON.stringify(ordered, null, 2);
}

export class VgpuStore {
  constructor(
    readonly root: Root,
    readonly log: Log,
    readonly files: StoreFiles,
  ) {}

  /** Every definition, in byte order of the VF; damaged files are skipped with a warning. */
  all(): VgpuDefinition[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.root.vgpuConfigBase);
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'ENOENT' || code === 'ENOTDIR') return [];
      throw new MdevctlError(`Unable to read ${this.root.vgpuConfigBase}: ${describeSystemError(e)}`);
    }
    const out: VgpuDefinition[] = [];
    for (const n of names.sort(byteOrder)) {
      const m = FILE_NAME.exec(n);
      if (!m) continue;
      const file = path.join(this.root.vgpuConfigBase, n);
      try {
        out.push(parseDefinition(fs.readFileSync(file, 'utf8'), m[1]));
      } catch (e) {
        this.log.warn(`Skipping vGPU definition ${file}: ${errnoCode(e) ? describeSystemError(e) : (e as Error).message}`);
      }
    }
    return out;
  }

  /** The definition of VF, null when there is none; throws when it is damaged. */
  read(vf: string): VgpuDefinition | null {
    checkBdf(vf, 'VF');
    const file = this.root.vgpuDefinitionPath(vf);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      throw new MdevctlError(`Unable to read vGPU definition ${file}: ${describeSystemError(e)}`);
    }
    try {
      return parseDefinition(text, vf);
    } catch (e) {
      throw new MdevctlError(`Malformed vGPU definition ${file}: ${(e as Error).message}`);
    }
  }

  /**
   * Run FN under the config store lock (the same lock as the mdev definitions; none in a dry
   * run). Temp files left in the vGPU directory by a killed writer are removed first.
   */
  locked<T>(store: ConfigStore, fn: () => T): T {
    return store.locked(() => {
      if (!this.files.dryRun) removeStaleTemps(this.root.vgpuConfigBase);
      return fn();
    });
  }

  write(d: VgpuDefinition): void {
    this.files.writeFile(this.root.vgpuDefinitionPath(checkBdf(d.vf, 'VF')), definitionText(d), `Failed to write vGPU definition for VF ${d.vf}`);
  }

  remove(vf: string): void {
    this.files.removeFile(this.root.vgpuDefinitionPath(checkBdf(vf, 'VF')));
  }
}
