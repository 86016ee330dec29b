# bash completion for imagespec(1). The options are those of
# `imagespec VERB --help`; tests/e2e/completions.sh keeps the two in step.

_imagespec_specs()
{
	# Specs: *.yaml, *.yml and *.json files, directories to descend into, and -.
	local f
	compopt -o filenames 2>/dev/null
	while IFS= read -r f; do
		case $f in
		*.yaml | *.yml | *.json) COMPREPLY+=("$f") ;;
		esac
	done < <(compgen -f -- "$1")
	while IFS= read -r f; do
		COMPREPLY+=("$f/")
	done < <(compgen -d -- "$1")
	[ -z "$1" ] && COMPREPLY+=(-)
	[ ${#COMPREPLY[@]} -gt 0 ] && compopt -o nospace 2>/dev/null
	return 0
}

# The parameter names a spec uses: its params: keys and its ${NAME}s.
_imagespec_params()
{
	local spec=$1 cur=$2 n
	[ -r "$spec" ] || return 0
	while IFS= read -r n; do
		COMPREPLY+=("$n=")
	done < <(
		{
			sed -n '/^params:/,/^[^[:space:]#]/s/^[[:space:]]\{1,\}\([A-Za-z_][A-Za-z0-9_]*\):.*/\1/p' "$spec"
			grep -oE '\$\{[A-Za-z_][A-Za-z0-9_]*(\}|:[-?])' "$spec" | sed -E 's/^\$\{//; s/(\}|:[-?])$//'
		} 2>/dev/null | sort -u | grep -- "^${cur%%=*}"
	)
	compopt -o nospace 2>/dev/null
	return 0
}

_imagespec()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local verbs='build plan validate inspect copy index report tags schema auth cache version help'
	local verb='' sub='' spec='' i w
	COMPREPLY=()

	# --opt=value: bash splits it into --opt, = and value.
	if [ "$cur" = = ]; then
		prev=${COMP_WORDS[COMP_CWORD - 1]}
		cur=
	elif [ "$prev" = = ] && [ "$COMP_CWORD" -ge 2 ]; then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	fi

	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		-p | --param | --target | -t | --tag | --platform | --output | --metadata-out | \
			--progress | -j | --jobs | --insecure-registry | --ca-cert | --cache-dir | \
			--cache-from | --cache-to | --max-size | -u | --username | --timeout | --low-speed-time)
			[ -n "$verb" ] && ((i++))
			;;
		-* | =) ;;
		*)
			if [ -z "$verb" ]; then
				verb=$w
			elif [ -z "$sub" ]; then
				sub=$w
			fi
			;;
		esac
	done

	if [ -z "$verb" ]; then
		mapfile -t COMPREPLY < <(compgen -W "$verbs --help --version" -- "$cur")
		return 0
	fi

	case $prev in
	--progress)
		mapfile -t COMPREPLY < <(compgen -W 'auto plain quiet' -- "$cur")
		return 0
		;;
	--platform)
		mapfile -t COMPREPLY < <(compgen -W 'all linux/amd64 linux/arm64 linux/arm/v7 linux/arm/v6 linux/386 linux/ppc64le linux/s390x linux/riscv64' -- "$cur")
		return 0
		;;
	--metadata-out | --ca-cert)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return 0
		;;
	--cache-dir)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		return 0
		;;
	-p | --param)
		spec=${sub:-image.yaml}
		[ "$spec" = - ] || _imagespec_params "$spec" "$cur"
		return 0
		;;
	--target | -t | --tag | --output | -j | --jobs | --insecure-registry | --cache-from | \
		--cache-to | --max-size | -u | --username | --timeout | --low-speed-time)
		return 0
		;;
	esac

	local opts=''
	case $verb in
	build | plan)
		opts='-p --param --target -t --tag --platform --output --json --metadata-out
			--progress -j --jobs --insecure-registry --ca-cert --cache-dir --no-cache
			--cache-from --cache-to --offline --report --timeout --low-speed-time -v --verbose -h --help'
		;;
	validate) opts='-p --param -h --help' ;;
	schema | version | help) opts='-h --help' ;;
	tags) opts='--json --ca-cert --insecure-registry -v --verbose --timeout --low-speed-time -h --help' ;;
	inspect)
		opts='--platform --config --manifest --raw --json --ca-cert --insecure-registry -v --verbose
			--timeout --low-speed-time -h --help'
		;;
	copy)
		opts='--platform --all-tags --json -j --jobs --ca-cert --insecure-registry -v --verbose
			--timeout --low-speed-time -h --help'
		;;
	report)
		opts='--html --json --against --platform --ca-cert --insecure-registry -v --verbose
			--timeout --low-speed-time -h --help'
		;;
	index) opts='--json --insecure-registry --ca-cert --timeout --low-speed-time -v --verbose -h --help' ;;
	auth)
		case $sub in
		login) opts='-u --username --password-stdin -h --help' ;;
		*) opts='-h --help' ;;
		esac
		;;
	cache) opts='--max-size --cache-dir --json -h --help' ;;
	esac

	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
		return 0
	fi
	case $verb in
	build | plan)
		[ -z "$sub" ] && _imagespec_specs "$cur"
		;;
	validate) _imagespec_specs "$cur" ;;
	help) [ -z "$sub" ] && mapfile -t COMPREPLY < <(compgen -W "$verbs" -- "$cur") ;;
	auth) [ -z "$sub" ] && mapfile -t COMPREPLY < <(compgen -W 'login logout get' -- "$cur") ;;
	cache) [ -z "$sub" ] && mapfile -t COMPREPLY < <(compgen -W 'du prune' -- "$cur") ;;
	index)
		if [ -z "$sub" ]; then
			mapfile -t COMPREPLY < <(compgen -W 'create append' -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W 'oci: oci-archive: docker://' -- "$cur")
			compopt -o nospace 2>/dev/null
		fi
		;;
	inspect | copy | tags | report)
		mapfile -t COMPREPLY < <(compgen -W 'oci: oci-archive: docker-archive: docker://' -- "$cur")
		compopt -o nospace 2>/dev/null
		;;
	esac
	return 0
}

complete -F _imagespec imagespec
