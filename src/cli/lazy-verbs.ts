/**
 * The verbs bundled apart from the program (dist/cli-verbs.cjs): everything but `list` and
 * `types`. main.ts loads this module only for a command line that runs one of them or needs the
 * whole program (help, completion), so the listings libvirt runs and `--version` start without
 * compiling them (README, Performance). The build makes it an entry point of its own; from the
 * sources it is an ordinary module.
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
