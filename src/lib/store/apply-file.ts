/**
 * The input of `mdevctl apply`: a file in exactly the form `list --defined --dumpjson` prints,
 * `[{"PARENT": [{"UUID": {"mdev_type": T, "start": "auto"|"manual", "attrs": [{NAME: VALUE}]}}]}]`
 * (or `[]`). Everything is checked here, before the store is looked at: names that become paths,
 * UUIDs (every form `define` accepts, kept in canonical lower case), a UUID listed twice, keys
 * repeated in one object (JSON.parse would keep the last silently), attribute values.
 */
import { MDev, parseConfigValue } from '../model/device';
import { MdevctlError, escapeControls } from '../util/errors';
import { readJsonFile } from './jsonfile';
import { duplicateKey } from '../model/json';
import { parseUuid, uuidProblem } from '../model/uuid';
import { checkAttributeNames, checkParentName, checkTypeName, shown } from '../model/validate';

/** What the file asks for. */
export interface DesiredState {
  /** The parents the file names (its keys), in file order; a parent may list no devices. */
  parents: string[];
  /** Every device of the file, parent and canonical UUID set. */
  devices: MDev[];
}

/** Largest file accepted: room for tens of thousands of definitions. */
export const MAX_APPLY_FILE_BYTES = 64 * 1024 * 1024;

const FORM = `[{"PARENT": [{"UUID": {"mdev_type": "TYPE", "start": "auto|manual", "attrs": [...]}}]}]`;

export function readApplyFile(file: string): DesiredState {
  return parseApplyText(readJsonFile(file, MAX_APPLY_FILE_BYTES), file);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Run FN; an MdevctlError it throws gets WHERE in front. */
function at<T>(where: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof MdevctlError) throw new MdevctlError(`${where}: ${e.message}`);
    throw e;
  }
}

export function parseApplyText(text: string, source: string): DesiredState {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new MdevctlError(`invalid JSON in ${source}: ${escapeControls((e as Error).message)}`);
  }
  const dup = duplicateKey(text);
  if (dup !== null) throw new MdevctlError(`${source}: the key "${shown(dup)}" appears twice in one object`);
  if (isObject(value) && 'mdev_type' in value) {
    throw new MdevctlError(
      `${source} holds the configuration of one device (the form of 'define --jsonfile'); apply takes the form 'list --defined --dumpjson' prints: ${FORM}`,
    );
  }
  if (!Array.isArray(value) || value.length > 1 || (value.length === 1 && !isObject(value[0]))) {
    throw new MdevctlError(`${source} is not in the form 'list --defined --dumpjson' prints: ${FORM}`);
  }
  const desired: DesiredState = { parents: [], devices: [] };
  if (value.length === 0) return desired;
  const seen = new Map<string, string>(); // uuid -> parent
  for (const [parent, list] of Object.entries(value[0] as Record<string, unknown>)) {
    at(source, () => checkParentName(parent));
    desired.parents.push(parent);
    if (!Array.isArray(list)) throw new MdevctlError(`${source}: the devices of parent ${shown(parent)} must be a list`);
    for (const entry of list) {
      const keys = isObject(entry) ? Object.keys(entry) : [];
      if (keys.length !== 1) {
        throw new MdevctlError(`${source}: each device of parent ${shown(parent)} must be an object with one key, its UUID`);
      }
      const uuid = parseUuid(keys[0]);
      if (uuid === null) {
        throw new MdevctlError(`${source}: invalid UUID '${shown(keys[0])}' under parent ${shown(parent)}: ${uuidProblem(keys[0])}`);
      }
      const other = seen.get(uuid);
      if (other !== undefined) {
        throw new MdevctlError(
          `${source}: device ${uuid} is listed more than once (${other === parent ? `twice under parent ${shown(parent)}` : `under parents ${shown(other)} and ${shown(parent)}`})`,
        );
      }
      seen.set(uuid, parent);
      const where = `${source}: device ${uuid}`;
      const raw = (entry as Record<string, unknown>)[keys[0]];
      const cfg = at(where, () => parseConfigValue(raw));
      const start = (raw as Record<string, unknown>).start;
      if (start !== 'auto' && start !== 'manual') throw new MdevctlError(`${where}: "start" must be "auto" or "manual"`);
      at(where, () => checkTypeName(cfg.type));
      at(where, () => checkAttributeNames(cfg.attrs));
      const dev = new MDev(uuid, parent);
      dev.applyConfig(cfg);
      desired.devices.push(dev);
    }
  }
  return desired;
}
