# Prints, one per line after `match:`, what zsh's completion system offers for a command line.
# usage: zsh -f zsh-complete.zsh FPATH_DIR 'qovery-backups list --out'
#
# Completion functions run only inside ZLE, so the line is typed, followed by a tab, into an
# interactive zsh on a pseudo-terminal (zsh/zpty). Its compadd is wrapped to print each match
# it is given (after the prefix filtering that `compadd -O` does); once completion ends, a
# marker is printed and that shell exits.
zmodload zsh/zpty || exit 3
dir=$1 line=$2
zpty completing zsh -f -i
zpty -w completing "PROMPT='' RPROMPT=''"
zpty -w completing "fpath=(${(q)dir} \$fpath); autoload -Uz compinit && compinit -u -d ${(q)dir}/.zcompdump"
# Each match goes on a line of its own (the typed line is not ended), as `ma``tch:` joined at
# run time, so that the echo of this definition cannot be mistaken for a match.
zpty -w completing 'compadd() {
  if (( ${@[(I)-[OAD]]} )); then builtin compadd "$@"; return; fi
  local -a seen; builtin compadd -O seen "$@"
  local word; for word in $seen; do print -r -- $'\n'"${:-ma}tch:$word"; done
  builtin compadd "$@"
}'
zpty -w completing 'comppostfuncs=(completion-ended); completion-ended() { print -r -- "${:-end of}-matches"; exit }'
zpty -w -n completing "$line"$'\t'
zpty -r completing output '*end of-matches*' || exit 4
print -r -- ${output//$'\r'/}
