# bash completion for polyarch                              -*- shell-script -*-
# Installed as $PREFIX/share/bash-completion/completions/polyarch, or:
#   source <(polyarch completion bash)
# polyarch itself lists the candidates (urfave/cli's --generate-bash-completion).

_polyarch() {
  local cur="${COMP_WORDS[COMP_CWORD]}" request opts
  request=("${COMP_WORDS[@]:0:COMP_CWORD}")
  if [[ "$cur" == -* ]]; then
    request+=("$cur")
  fi
  opts=$("${request[@]}" --generate-bash-completion 2>/dev/null)
  COMPREPLY=($(compgen -W "${opts}" -- "${cur}"))
  return 0
}

complete -o bashdefault -o default -F _polyarch polyarch
