/**
 * The entry of the one-file executable (`npm run build:exe` → dist/mdevctl, scripts/build-exe.mjs):
 * the whole CLI compiled with its runtime (Bun). As upstream's binary does, it is `lsmdev` when
 * the name it was run by (argv[0]) is `lsmdev` (a link named so), else `mdevctl`.
 *
 * Three things differ from the Node build (bin/mdevctl): the native reader is the fastio.node
 * beside the executable (its real path; none there: the JavaScript readers); the run ends through
 * process.exit (Node's exit deadlock, src/cli/exit.ts, is Node's; under Bun the addon's _exit
 * measured no faster); and fs.readdirSync gives its names in byte order, as Node's does (libuv
 * sorts them, strcmp; Bun gives the kernel's order), which the listings and their warnings rely on
 * (test/exe.test.ts shows the difference).
 */
import fs = require('node:fs');
import path = require('node:path');
import { byteOrder, utf8Order } from '../lib/model/order';
import { setAddonDir } from '../lib/util/native';
import { exitPlainly } from './exit';
import { run } from './main';

type Entry = string | Buffer | { name: string | Buffer };
const nameOf = (e: Entry): string | Buffer => (typeof e === 'string' || Buffer.isBuffer(e) ? e : e.name);
const ascii = (n: string | Buffer) => typeof n === 'string' && /^[\x00-\x7f]*$/.test(n);
const readdirSync = fs.readdirSync;
(fs as { readdirSync: unknown }).readdirSync = function sortedReaddirSync(this: unknown, ...args: Parameters<typeof fs.readdirSync>) {
  const entries = readdirSync.apply(this, args) as unknown as Entry[];
  // strcmp's order: plain `<` when every name is ASCII (each looked at once, not per comparison),
  // else by UTF-8 bytes (UTF-16 order differs past U+D7FF; Buffer names, encoding 'buffer')
  return entries.every((e) => ascii(nameOf(e)))
    ? entries.sort((x, y) => byteOrder(nameOf(x) as string, nameOf(y) as string))
    : entries.sort((x, y) => utf8Order(nameOf(x), nameOf(y)));
};

setAddonDir(path.dirname(process.execPath));
exitPlainly();
const invoked = process.argv0.slice(process.argv0.lastIndexOf('/') + 1);
run(process.argv.slice(2), invoked === 'lsmdev' ? 'lsmdev' : 'mdevctl');
