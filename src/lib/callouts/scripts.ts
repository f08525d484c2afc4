/**
 * Which files in the script directories are scripts we may run. Each directory is read once
 * per run; entries are taken in byte order of their names. Only regular executable files count;
 * a world-writable one is refused with a warning (anyone could have put code in it).
 */
import fs = require('node:fs');
import path = require('node:path');
import { Log } from '../util/log';
import { utf8Order } from '../model/order';

/** The runnable scripts of each directory, directories in the order given. */
export function scanScriptDirs(dirs: string[], log: Log): string[][] {
  return dirs.map((dir) => scanDir(dir, log));
}

function scanDir(dir: string, log: Log): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return []; // a missing directory is an empty one
  }
  names.sort(utf8Order);
  const out: string[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    if (isRunnable(file, log)) out.push(file);
  }
  return out;
}

function isRunnable(file: string, log: Log): boolean {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return false; // dangling link
  }
  if (!st.isFile()) return false;
  if (st.mode & 0o002) {
    log.warn(`Not running world-writable script ${file}`);
    return false;
  }
  try {
    fs.accessSync(file, fs.constants.X_OK);
  } catch {
    return false;
  }
  return true;
}
