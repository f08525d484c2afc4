/**
 * The entry of the one-file executable (`npm run build:exe` → dist/mdevctl, scripts/build-exe.mjs):
 * the whole CLI compiled with its runtime (Bun). As upstream's binary does, it is `lsmdev` when
 * the name it was run by (argv[0]) is `lsmdev` (a link named so), else `mdevctl`.
 *
 * Two things differ from the Node build (bin/mdevctl): the native reader is the fastio.node beside
 * the executable (its real path; none there: the JavaScript readers), and the run ends through
 * process.exit (Node's exit deadlock, src/cli/exit.ts, is Node's; under Bun the addon's _exit
 * measured no faster).
 */
import path = require('node:path');
import { setAddonDir } from '../lib/native';
import { exitPlainly } from './exit';
import { run } from './main';

setAddonDir(path.dirname(process.execPath));
exitPlainly();
const invoked = process.argv0.slice(process.argv0.lastIndexOf('/') + 1);
run(process.argv.slice(2), invoked === 'lsmdev' ? 'lsmdev' : 'mdevctl');
