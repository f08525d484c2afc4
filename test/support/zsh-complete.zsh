# Runs zsh's real completion system in a pseudo-terminal and prints the candidates offered for a
# command line, one per line.  Usage: zsh -f zsh-complete.zsh COMPLETION_SCRIPT 'command line'
# compadd is wrapped to echo every match it adds as <<match>>; the lines between the prompt
# markers are then scanned for those.
zmodload zsh/zpty || exit 3
zpty z zsh -f -i
zpty -w z 'PROMPT= RPROMPT=; autoload -U compinit; compinit -u -D'
zpty -w z "source ${(q)1}"
zpty -w z 'compadd() { local -a __h; builtin compadd -A __h "$@"; local r=$? x; for x in $__h; do print -rn -- "<<$x>>"; done; builtin compadd "$@"; return r; }'
zpty -w z 'bindkey "^I" complete-word'
# keys typed before the line editor is active would go to the terminal's own line editing, so
# wait for the prompt drawn after the marker
zpty -w z 'PROMPT="ZPRM> "; print -r -- READY""MARK'
local line out=
zpty -r z line '*READYMARK*ZPRM>*' || exit 4
zpty -w -n z "$2"$'\t'
zpty -w z $'\C-u''print -r -- DONE""MARK'
while zpty -r z line; do
  out+=$line
  [[ $line == *DONEMARK* ]] && break
done
zpty -d z
local -a found
found=(${(M)${(s:>>:)out}:#*<<*})
for x in $found; do print -r -- ${x##*<<}; done | sort -u
