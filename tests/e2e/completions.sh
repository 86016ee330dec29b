#!/bin/bash
# Shell completions (completions/): bash, fish and zsh are asked for
# candidates as a user's shell would ask them (zsh in a pseudo-terminal, by
# zsh_complete.zsh), and their files pass a syntax check. Every verb of
# `imagespec --help` and every option of each `imagespec VERB --help` must be
# offered by all three, so a new flag without its completion fails here.
. "$(dirname "$0")/lib.sh"
need bash fish zsh

COMP=$SRCDIR/completions

# bash_complete 'imagespec|build|--': the candidates bash's completion
# function gives for those words (the last one is the word being completed),
# sorted, one per line. Runs in $TMP/w.
bash_complete() {
	(cd "$TMP/w" && bash --norc --noprofile -c '
		source "$1" || exit 1
		IFS="|" read -ra COMP_WORDS <<<"$2"
		[[ $2 == *"|" ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="${COMP_WORDS[*]}"
		_imagespec imagespec "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}" || exit 1
		printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$COMP/imagespec.bash" "$1")
}

# fish_complete 'imagespec build --': fish's candidates, without descriptions.
fish_complete() {
	(cd "$TMP/w" && fish --no-config -c 'source $argv[1]; or exit 1; complete -C$argv[2]' \
		"$COMP/imagespec.fish" "$1") | cut -f1 | sort
}

# zsh_complete 'imagespec build --': zsh's candidates.
zsh_complete() {
	(cd "$TMP/w" && zsh -f "$E2E_DIR/zsh_complete.zsh" "$COMP" "$1")
}

lines() {
	printf '%s\n' "$@" | sort
}

mkdir -p "$TMP/w/sub"
cat >"$TMP/w/image.yaml" <<'YAML'
base: scratch
target: oci:out/x:1
params:
  version: "1.0"
  flavour: slim
labels:
  rev: "${rev:-0}"
  home: "${host:HOME}"
  v: "v${version}"
env:
  PATH: "/bin:${base:PATH}"
YAML
: >"$TMP/w/other.yml"
: >"$TMP/w/notes.txt"

# --- bash: fixed cases
check_eq "bash: verbs after 'imagespec '" \
	"$(lines --help --version auth build cache copy help index inspect plan report schema tags validate version)" \
	"$(bash_complete 'imagespec|')"
check_eq "bash: a verb's prefix" "build" "$(bash_complete 'imagespec|bu')"
check_eq "bash: --progress values" "$(lines auto plain quiet)" \
	"$(bash_complete 'imagespec|build|--progress|')"
check_eq "bash: --progress=q" "quiet" "$(bash_complete 'imagespec|plan|--progress|=|q')"
check_eq "bash: -p offers the spec's parameters (params keys and \${NAME}s, not host: or base:)" \
	"$(lines flavour= rev= version=)" "$(bash_complete 'imagespec|build|-p|')"
check_eq "bash: --param v" "version=" "$(bash_complete 'imagespec|build|image.yaml|--param|v')"
check_eq "bash: specs are yaml, yml and json files, directories and -" \
	"$(lines - image.yaml other.yml sub/)" "$(bash_complete 'imagespec|build|')"
check_eq "bash: auth subcommands" "$(lines get login logout)" "$(bash_complete 'imagespec|auth|')"
check_eq "bash: cache subcommands" "$(lines du prune)" "$(bash_complete 'imagespec|cache|')"
check_eq "bash: index subcommands" "$(lines append create)" "$(bash_complete 'imagespec|index|')"
check_eq "bash: an option's value is not taken for the spec" "" \
	"$(bash_complete 'imagespec|build|--target|')"

# --- fish: the same cases
check_eq "fish: verbs after 'imagespec '" \
	"$(lines auth build cache copy help index inspect plan report schema tags validate version)" \
	"$(fish_complete 'imagespec ')"
check_eq "fish: --progress values" "$(lines auto plain quiet)" \
	"$(fish_complete 'imagespec build --progress ')"
check_eq "fish: -p offers the spec's parameters" "$(lines flavour= rev= version=)" \
	"$(fish_complete 'imagespec build -p ')"
check_eq "fish: cache subcommands" "$(lines du prune)" "$(fish_complete 'imagespec cache ')"

# --- zsh: the same cases
check_eq "zsh: verbs after 'imagespec '" \
	"$(lines auth build cache copy help index inspect plan report schema tags validate version)" \
	"$(zsh_complete 'imagespec ')"
check_eq "zsh: --progress values" "$(lines auto plain quiet)" \
	"$(zsh_complete 'imagespec build --progress ')"
check_eq "zsh: -p offers the spec's parameters" "$(lines flavour= rev= version=)" \
	"$(zsh_complete 'imagespec build -p ')"
# (a directory comes bare: compadd -f makes zsh show and insert it with /)
check_eq "zsh: specs are yaml, yml and json files, directories and -" \
	"$(lines - image.yaml other.yml sub)" "$(zsh_complete 'imagespec validate ')"
check_eq "zsh: cache subcommands" "$(lines du prune)" "$(zsh_complete 'imagespec cache ')"

# --- syntax
check "zsh -n _imagespec" zsh -n "$COMP/_imagespec"
check "fish --no-execute imagespec.fish" fish --no-execute "$COMP/imagespec.fish"
check "bash -n imagespec.bash" bash -n "$COMP/imagespec.bash"

# --- every verb and option of the --help texts is offered
verbs=$(ims --help | sed -n '/^commands:/,/^$/s/^  \([a-z]\{1,\}\) .*/\1/p')
check_match "imagespec --help lists the verbs" '^build$' "$verbs"
missing=
for v in $verbs; do
	grep -qx -- "$v" <<<"$(bash_complete 'imagespec|')" || missing+=" bash:$v"
	grep -qx -- "$v" <<<"$(fish_complete 'imagespec ')" || missing+=" fish:$v"
	grep -qx -- "$v" <<<"$(zsh_complete 'imagespec ')" || missing+=" zsh:$v"
done
check_eq "every verb of imagespec --help is completed by bash, fish and zsh" "" "$missing"

missing=
for v in $verbs; do
	case $v in
	auth) words='auth login' ;;
	help | version | schema) continue ;;
	*) words=$v ;;
	esac
	help=$(ims $v --help 2>&1)
	opts=$(grep -oE -- '(^|[][ |,])--[a-z][a-z-]*' <<<"$help" | sed 's/^[^-]*//' | sort -u)
	b=$(bash_complete "imagespec|${words// /|}|--")
	f=$(fish_complete "imagespec $words --")
	z=$(zsh_complete "imagespec $words --")
	for o in $opts --help; do
		grep -qx -- "$o" <<<"$b" || missing+=" bash:$v:$o"
		grep -qx -- "$o" <<<"$f" || missing+=" fish:$v:$o"
		grep -qx -- "$o" <<<"$z" || missing+=" zsh:$v:$o"
	done
done
check_eq "every option of every VERB --help is completed by bash, fish and zsh" "" "$missing"

done_testing
