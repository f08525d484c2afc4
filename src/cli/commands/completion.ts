import { Command } from 'commander';
import { Env, VERSION } from '../program';
import { UsageError } from '../../lib/util/errors';
import { MemoryLog } from '../../lib/util/log';
import { createContext } from '../../lib/ops/context';
import { COMPLETE_KINDS, bashScript, cliSpec, zshScript } from '../completion';
import { CompletionKind, completionWords } from '../../lib/ops/complete';

export function register(program: Command, env: Env): void {
  program
    .command('completion')
    .argument('<SHELL>', 'bash or zsh')
    .summary('Print the shell completion script for bash or zsh')
    .description(
      `Print the completion script for SHELL (bash or zsh) on stdout. It completes verbs and options, and the UUIDs, parent devices and types found under the root when you press Tab.\n\n  bash: mdevctl completion bash > /etc/bash_completion.d/mdevctl\n  zsh:  mdevctl completion zsh > "\${fpath[1]}/_mdevctl"`,
    )
    .action((shell: string) => {
      const spec = cliSpec(program, VERSION);
      if (shell === 'bash') env.output.line(bashScript(spec).replace(/\n$/, ''));
      else if (shell === 'zsh') env.output.line(zshScript(spec).replace(/\n$/, ''));
      else throw new UsageError(`invalid value '${shell}' for '<SHELL>': expected bash or zsh`);
    });

  // Called by the completion scripts: one candidate per line, nothing (and exit 0) on any problem.
  program
    .command('__complete', { hidden: true })
    .argument('<KIND>')
    .argument('[PARENT]')
    .action((kind: string, parent?: string) => {
      if (!(COMPLETE_KINDS as string[]).includes(kind)) return;
      try {
        const base = env.context();
        const ctx = createContext({ root: base.root, log: new MemoryLog() });
        const words = completionWords(ctx, kind as CompletionKind, parent || undefined);
        if (words.length > 0) env.output.line(words.join('\n'));
      } catch {
        // completion must never print an error into the user's command line
      }
    });
}
