/**
 * Shell completion scripts, generated from the commander program so that verbs and options
 * never drift from the CLI. Values that depend on the system (UUIDs, parents, types) come from
 * the hidden `mdevctl __complete KIND` verb at completion time, under the root given on the
 * command line being completed (or MDEVCTL_ENV_ROOT).
 */
import { Command, Option } from 'commander';
import { CompletionKind as CompleteKind } from '../lib/ops/complete';
import { templateNames } from '../lib/kernel/fixtures';

export type { CompleteKind };

/** What a value is completed from: a `__complete` kind, files, directories, fixed words, nothing. */
export type ValueKind = { from: 'live'; kind: CompleteKind } | { from: 'file' } | { from: 'dir' } | { from: 'words'; words: string[] } | { from: 'none' };

export const COMPLETE_KINDS: CompleteKind[] = ['active', 'defined', 'uuids', 'parents', 'types'];

/** Which UUIDs make sense for --uuid of each verb. */
const UUID_KIND: Record<string, CompleteKind> = {
  define: 'active',
  start: 'defined',
  stop: 'active',
  undefine: 'defined',
  modify: 'uuids',
  list: 'uuids',
};

export interface OptionSpec {
  short?: string;
  long?: string;
  description: string;
  value: ValueKind | null;
}

export interface VerbSpec {
  name: string;
  summary: string;
  hidden: boolean;
  options: OptionSpec[];
  /** Completion of each positional argument, in order (empty: the verb takes none). */
  positional: ValueKind[];
}

export interface CliSpec {
  name: string;
  version: string;
  globals: OptionSpec[];
  verbs: VerbSpec[];
  /** Options of `list` (what lsmdev takes). */
  listOptions: OptionSpec[];
}

function valueFor(verb: string, o: Option): ValueKind | null {
  if (!o.required && !o.optional) return null;
  switch (o.long) {
    case '--uuid':
      return { from: 'live', kind: UUID_KIND[verb] ?? 'uuids' };
    case '--parent':
      return { from: 'live', kind: 'parents' };
    case '--type':
      return { from: 'live', kind: 'types' };
    case '--jsonfile':
      return { from: 'file' };
    case '--root':
      return { from: 'dir' };
    default:
      return { from: 'none' };
  }
}

function optionSpecs(verb: string, cmd: Command): OptionSpec[] {
  return cmd
    .createHelp()
    .visibleOptions(cmd)
    .filter((o) => verb === '' || o.long !== '--version')
    .map((o) => ({ short: o.short, long: o.long, description: o.description, value: valueFor(verb, o) }));
}

function isHidden(cmd: Command): boolean {
  return (cmd as unknown as { _hidden?: boolean })._hidden === true;
}

/** The completion model of a program built by buildProgram(). */
export function cliSpec(program: Command, version: string): CliSpec {
  const verbs: VerbSpec[] = program.commands
    .filter((c) => !c.name().startsWith('__'))
    .map((c) => ({
      name: c.name(),
      summary: c.summary() || c.description().split('\n')[0],
      hidden: isHidden(c),
      options: optionSpecs(c.name(), c),
      positional: [] as ValueKind[],
    }));
  const names = verbs.filter((v) => !v.hidden).map((v) => v.name);
  for (const v of verbs) {
    if (v.name === 'completion') v.positional = [{ from: 'words', words: ['bash', 'zsh'] }];
    if (v.name === 'start-parent-mdevs') v.positional = [{ from: 'live', kind: 'parents' }];
    if (v.name === 'vgpu') {
      const vgpu = program.commands.find((c) => c.name() === 'vgpu')!;
      v.positional = [{ from: 'words', words: vgpu.commands.map((c) => c.name()).filter((n) => n !== 'help') }];
    }
    if (v.name === 'fixture') v.positional = [{ from: 'words', words: [...templateNames] }, { from: 'dir' }];
  }
  verbs.push({ name: 'help', summary: 'Print help for a command', hidden: false, options: [], positional: [{ from: 'words', words: names }] });
  const list = program.commands.find((c) => c.name() === 'list');
  return {
    name: program.name(),
    version,
    globals: optionSpecs('', program),
    verbs,
    listOptions: list ? optionSpecs('list', list) : [],
  };
}

function flagsOf(o: OptionSpec): string[] {
  return [o.short, o.long].filter((f): f is string => f !== undefined);
}

/** A bash `case` label matching every flag that takes a value in OPTS. */
function kindWord(v: ValueKind): string {
  switch (v.from) {
    case 'live':
      return `live:${v.kind}`;
    case 'words':
      return `words:${v.words.join(' ')}`;
    default:
      return v.from;
  }
}

function bashOptArgCases(verb: string, opts: OptionSpec[]): string[] {
  const out: string[] = [];
  for (const o of opts) {
    if (!o.value) continue;
    // a global option (verb '') may also follow the verb
    const labels = flagsOf(o).map((f) => (verb === '' ? `*' ${f}'` : `'${verb} ${f}'`));
    out.push(`    ${labels.join('|')}) echo '${kindWord(o.value)}' ;;`);
  }
  return out;
}

export function bashScript(spec: CliSpec): string {
  const visible = spec.verbs.filter((v) => !v.hidden).map((v) => v.name);
  const allOpts = (opts: OptionSpec[]) => opts.flatMap(flagsOf).join(' ');
  const optCases = [
    `    '') echo '${allOpts(spec.globals)}' ;;`,
    ...spec.verbs.map((v) => `    ${v.name}) echo '${allOpts(v.options)}' ;;`),
    `    lsmdev) echo '${allOpts(spec.listOptions)} --root' ;;`,
  ];
  const argCases = [...bashOptArgCases('', spec.globals), ...spec.verbs.flatMap((v) => bashOptArgCases(v.name, v.options))];
  const posCases = spec.verbs.flatMap((v) => v.positional.map((k, i) => `    '${v.name} ${i}') echo '${kindWord(k)}' ;;`));
  return `# bash completion for mdevctl and lsmdev (mdevctl-ts ${spec.version}).
# Generated by \`mdevctl completion bash\`. Install it with
#   mdevctl completion bash > /etc/bash_completion.d/mdevctl
# or add  source <(mdevctl completion bash)  to ~/.bashrc.
# UUIDs, parents and types are read from the running system (or the --root given on the line).

_mdevctl_verbs='${visible.join(' ')}'

# The options of a verb ('' = before the verb).
_mdevctl_opts() {
  case $1 in
${optCases.join('\n')}
  esac
}

# What the value of option $2 of verb $1 is completed from; nothing for a flag without a value.
_mdevctl_optarg() {
  case "$1 $2" in
${argCases.join('\n')}
  esac
}

# What positional argument $2 (from 0) of verb $1 is completed from.
_mdevctl_positional() {
  case "$1 $2" in
${posCases.join('\n')}
  esac
}

# Candidates for a value: $1 kind, $2 the word typed so far.
_mdevctl_values() {
  local -a args=()
  [[ -n $_mdevctl_root ]] && args=(--root "$_mdevctl_root")
  case $1 in
    file) compopt -o filenames 2>/dev/null; compgen -f -- "$2" ;;
    dir) compopt -o filenames 2>/dev/null; compgen -d -- "$2" ;;
    words:*) compgen -W "\${1#words:}" -- "$2" ;;
    live:*)
      local IFS=$'\\n'
      compgen -W "$("$_mdevctl_cmd" "\${args[@]}" __complete "\${1#live:}" $_mdevctl_parent 2>/dev/null)" -- "$2" ;;
  esac
}

_mdevctl() {
  local line=\${COMP_LINE:0:COMP_POINT}
  local -a w
  read -ra w <<< "$line"
  if [[ \${#w[@]} -eq 0 || $line =~ [[:space:]]$ ]]; then w+=(''); fi
  local n=$((\${#w[@]} - 1))
  local cur=\${w[n]} prog=\${w[0]##*/}
  local _mdevctl_cmd=\${w[0]} _mdevctl_root=\${MDEVCTL_ENV_ROOT:-} _mdevctl_parent=
  [[ $prog == lsmdev ]] && _mdevctl_cmd=\${w[0]%lsmdev}mdevctl
  local verb= i a kind= npos=0
  [[ $prog == lsmdev ]] && verb=list
  for (( i = 1; i < n; i++ )); do
    a=\${w[i]}
    case $a in
      --root) _mdevctl_root=\${w[i+1]} ;;
      --root=*) _mdevctl_root=\${a#--root=} ;;
      -p|--parent) _mdevctl_parent=\${w[i+1]} ;;
      --parent=*) _mdevctl_parent=\${a#--parent=} ;;
    esac
    if [[ $a == -* ]]; then
      [[ $a != *=* && -n $(_mdevctl_optarg "$verb" "$a") ]] && (( i++ ))
    elif [[ -z $verb ]]; then
      verb=$a
    else
      (( npos++ ))
    fi
  done
  local optverb=$verb
  [[ $prog == lsmdev ]] && optverb=lsmdev
  [[ $_mdevctl_root == '~'* ]] && _mdevctl_root=$HOME\${_mdevctl_root:1}
  local -a cands=()
  local prev=
  (( n > 1 )) && prev=\${w[n-1]}
  if [[ $prev == -* && $prev != *=* ]] && kind=$(_mdevctl_optarg "$verb" "$prev") && [[ -n $kind ]]; then
    mapfile -t cands < <(_mdevctl_values "$kind" "$cur")
  elif [[ $cur == --*=* ]] && kind=$(_mdevctl_optarg "$verb" "\${cur%%=*}") && [[ -n $kind ]]; then
    mapfile -t cands < <(_mdevctl_values "$kind" "\${cur#*=}")
    cands=("\${cands[@]/#/\${cur%%=*}=}")
  elif [[ $cur == -* ]]; then
    mapfile -t cands < <(compgen -W "$(_mdevctl_opts "$optverb")" -- "$cur")
  elif [[ -z $verb ]]; then
    mapfile -t cands < <(compgen -W "$_mdevctl_verbs" -- "$cur")
  elif kind=$(_mdevctl_positional "$verb" "$npos") && [[ -n $kind ]]; then
    mapfile -t cands < <(_mdevctl_values "$kind" "$cur")
  else
    mapfile -t cands < <(compgen -W "$(_mdevctl_opts "$optverb")" -- "$cur")
  fi
  # bash splits words at ':' and '=': drop the part of the word before the last such character
  local pre= j
  for (( j = \${#cur} - 1; j >= 0; j-- )); do
    if [[ $COMP_WORDBREAKS == *"\${cur:j:1}"* ]]; then pre=\${cur:0:j+1}; break; fi
  done
  COMPREPLY=()
  local c
  for c in "\${cands[@]}"; do [[ -n $c ]] && COMPREPLY+=("\${c#"$pre"}"); done
  return 0
}

complete -F _mdevctl mdevctl lsmdev
`;
}

/** Text safe inside a single-quoted zsh word and an _arguments [description]. */
function zq(s: string): string {
  // the description's own [ ] : \ first, then the quote (whose escape holds a backslash)
  return s
    .replace(/\n.*/s, '')
    .replace(/([[\]:\\])/g, '\\$1')
    .replace(/'/g, `'\\''`);
}

function zshAction(v: ValueKind, label: string): string {
  switch (v.from) {
    case 'live':
      return `:${label}:{_mdevctl_values ${v.kind}}`;
    case 'file':
      return `:${label}:_files`;
    case 'dir':
      return `:${label}:_files -/`;
    case 'words':
      return `:${label}:(${v.words.join(' ')})`;
    case 'none':
      return `:${label}: `;
  }
}

function zshOptionSpecs(opts: OptionSpec[]): string[] {
  return opts.map((o) => {
    const flags = flagsOf(o);
    const excl = flags.length > 1 ? `'(${flags.join(' ')})'` : '';
    const exit = o.long === '--help' || o.long === '--version' ? `'(- *)'` : excl;
    const label = (o.long ?? o.short ?? '').replace(/^-+/, '');
    const action = o.value ? zshAction(o.value, label) : '';
    const suffixed = flags.map((f) => (o.value ? (f.startsWith('--') ? `${f}=` : `${f}+`) : f));
    const names = suffixed.length > 1 ? `{${suffixed.join(',')}}` : suffixed[0];
    return `${exit}${names}'[${zq(o.description)}]${action.replace(/'/g, `'\\''`)}'`;
  });
}

export function zshScript(spec: CliSpec): string {
  const verbs = spec.verbs
    .filter((v) => !v.hidden)
    .map((v) => `      '${v.name}:${zq(v.summary)}'`)
    .join('\n');
  const verbCases = spec.verbs
    .map((v) => {
      const specs = zshOptionSpecs(v.options);
      v.positional.forEach((k, i) => specs.push(`'${i + 1}${zshAction(k, i === 0 ? 'argument' : `argument ${i + 1}`)}'`));
      return `        ${v.name})\n          _arguments -s -S : \\\n            ${specs.join(' \\\n            ')} && ret=0 ;;`;
    })
    .join('\n');
  const lsmdev = zshOptionSpecs([...spec.listOptions, ...spec.globals.filter((o) => o.long === '--root')]);
  const globals = zshOptionSpecs(spec.globals);
  return `#compdef mdevctl lsmdev
# zsh completion for mdevctl and lsmdev (mdevctl-ts ${spec.version}).
# Generated by \`mdevctl completion zsh\`. Install it with
#   mdevctl completion zsh > "\${fpath[1]}/_mdevctl"     (then start a new shell)
# or add  source <(mdevctl completion zsh)  to ~/.zshrc after compinit.
# UUIDs, parents and types are read from the running system (or the --root given on the line).

# Values from the system: $1 is active, defined, uuids, parents or types.
_mdevctl_values() {
  local -a args vals expl
  [[ -n $_mdevctl_root ]] && args=(--root "$_mdevctl_root")
  vals=(\${(f)"$(_call_program $1 \${(q)_mdevctl_cmd} \${(q)args} __complete $1 \${(q)_mdevctl_parent} 2>/dev/null)"})
  _wanted $1 expl $1 compadd -a - vals
}

_mdevctl() {
  local curcontext=$curcontext state state_descr line ret=1
  local -A opt_args
  local _mdevctl_cmd=$words[1] _mdevctl_root=\${MDEVCTL_ENV_ROOT:-} _mdevctl_parent= i
  [[ \${words[1]:t} == lsmdev ]] && _mdevctl_cmd=\${words[1]%lsmdev}mdevctl
  for (( i = 2; i < CURRENT; i++ )); do
    case $words[i] in
      --root) _mdevctl_root=$words[i+1] ;;
      --root=*) _mdevctl_root=\${words[i]#--root=} ;;
      -p|--parent) _mdevctl_parent=$words[i+1] ;;
      --parent=*) _mdevctl_parent=\${words[i]#--parent=} ;;
    esac
  done
  _mdevctl_root=\${~_mdevctl_root}
  if [[ \${words[1]:t} == lsmdev ]]; then
    _arguments -s -S : \\
      ${lsmdev.join(' \\\n      ')} && ret=0
    return ret
  fi
  _arguments -C : \\
    ${globals.join(' \\\n    ')} \\
    '1: :->verb' '*:: :->args' && ret=0
  case $state in
    verb)
      local -a verbs=(
${verbs}
      )
      _describe -t commands 'mdevctl command' verbs && ret=0 ;;
    args)
      curcontext=\${curcontext%:*:*}:mdevctl-$words[1]:
      case $words[1] in
${verbCases}
      esac ;;
  esac
  return ret
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _mdevctl "$@"
else
  compdef _mdevctl mdevctl lsmdev
fi
`;
}
