/**
 * The verbs but `list` and `types`. main.ts requires this module (on demand: the build bundles it
 * into dist/cli-on-demand.cjs) only for a command line that runs one of them or needs the whole
 * program (help, completion), so the listings libvirt runs and `--version` start without
 * compiling them (README, Performance).
 */
import * as define from './commands/define';
import * as undefine from './commands/undefine';
import * as modify from './commands/modify';
import * as start from './commands/start';
import * as stop from './commands/stop';
import * as apply from './commands/apply';
import * as monitor from './commands/monitor';
import * as completion from './commands/completion';
import * as vgpu from './commands/vgpu';
import * as startParentMdevs from './commands/start-parent-mdevs';
import * as fixture from './commands/fixture';

export const LAZY_VERBS = { define, undefine, modify, start, stop, apply, monitor, completion, vgpu, startParentMdevs, fixture };
