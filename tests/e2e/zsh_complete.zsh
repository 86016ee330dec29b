# zsh_complete.zsh COMPDIR LINE: the candidates zsh's completion system
# offers for LINE (a command line ending where TAB is pressed), one per line.
# It drives an interactive zsh in a pseudo-terminal (zsh/zpty), with compadd
# wrapped to print the matches it adds (they are added too, so that zsh
# tries its tags, such as _files' globbed-files then all-files, as for a user).
zmodload zsh/zpty || exit 1
compdir=$1 line=$2
zpty z zsh -f -i || exit 1
zpty -w z "PROMPT='' RPROMPT='' fpath=(${(q)compdir} \$fpath)"
zpty -w z 'autoload -U compinit && compinit -u -D'
zpty -w z "zstyle ':completion:*' list-grouped false"
zpty -w z "zstyle ':completion:*' insert-tab false"
zpty -w z 'compadd() {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then
    builtin compadd "$@"; return
  fi
  local -a __hits
  builtin compadd -A __hits "$@"
  builtin compadd "$@"
  local -A apre hpre hsuf asuf
  zparseopts -E P:=apre p:=hpre S:=asuf s:=hsuf
  local h
  for h in $__hits; do print -r -- "<CAND>$IPREFIX$apre[-P]$hpre[-p]$h$hsuf[-s]$asuf[-S]"; done
}'
# Each marker is typed split in two (<READ""Y>), so that only its output,
# not the echo of the typed line, matches the pattern read up to.
zpty -w z 'print -r -- "<READ""Y>"'
zpty -r z out '*<READY>*' || exit 1
zpty -w -n z "$line"$'\t'
zpty -w z $'\C-u print -r -- "<EN""D>"'
zpty -r z out '*<END>*' || exit 1
zpty -d z
print -r -- "$out" | tr -d '\r' | sed -n 's/^.*<CAND>//p' | sort -u
