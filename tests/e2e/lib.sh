# shellcheck shell=bash
# Shared helpers for the e2e scripts. Source it; it speaks TAP on stdout
# (plan at the end), keeps a private temp dir in $TMP (removed on exit) and
# finds the binary in $IMAGESPEC and the source tree in $SRCDIR (both set by
# tests/e2e/meson.build; both can be given by hand:
#   IMAGESPEC=/tmp/build-e2e/src/cli/imagespec SRCDIR=$PWD bash tests/e2e/hello.sh
#
# Results are checked with tools that are not imagespec (skopeo, umoci, tar,
# jq, python3, chroot), so a bug shared by imagespec's writer and reader
# cannot hide itself.

set -u
set -o pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRCDIR=${SRCDIR:-$(cd "$E2E_DIR/../.." && pwd)}
IMAGESPEC=${IMAGESPEC:-$SRCDIR/build/src/cli/imagespec}
_CI_GIVEN=${CI:-}
export CI=true               # plain progress lines, never bars
export LC_ALL=C
unset SOURCE_DATE_EPOCH
# Debian's python3 has yaml and jsonschema; a pyenv shim first in PATH may not.
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi

_t_n=0
_t_fail=0

TMP=$(mktemp -d "${TMPDIR:-/tmp}/imagespec-e2e.XXXXXX")
# `meson test --setup valgrind` sets IMS_VALGRIND: every imagespec run goes
# through valgrind, whose findings (memory errors, definite leaks) make the
# run exit 99, which the checks then report as a wrong exit status.
# --vgdb=no: valgrind's gdbserver FIFOs would stay in TMPDIR after a
# SIGKILL, and interrupt.sh counts what a killed build leaves there.
if [ -n "${IMS_VALGRIND:-}" ]; then
	_IMS_REAL=$IMAGESPEC
	IMAGESPEC=$TMP/.imagespec-valgrind
	printf '#!/bin/sh\nexec valgrind -q --vgdb=no --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --trace-children=no --log-file=%s/.valgrind.%%p "%s" "$@"\n' \
		"$TMP" "$_IMS_REAL" >"$IMAGESPEC"
	chmod +x "$IMAGESPEC"
	export IMAGESPEC
fi
# The layer cache is on by default: each script gets its own, so that no
# test sees another's (or the machine's) layers.
export XDG_CACHE_HOME=$TMP/xdg-cache
IMS_TEST_PORTS_DIR=${IMS_TEST_PORTS_DIR:-/tmp/imagespec-test-ports}
export IMS_TEST_PORTS_DIR

# free_port [ADDR]: a port for a test server on ADDR (default 127.0.0.1),
# outside the kernel's ephemeral range and claimed for this script until it
# ends (tests/lib/claim_port.py says why), so nothing else takes it between
# now and the server's bind, nor across a restart.
free_port() {
	"$PY" "$E2E_DIR/../lib/claim_port.py" "${1:-127.0.0.1}" "$$"
}

# Releases the ports this script claimed.
_release_ports() {
	local d
	for d in "$IMS_TEST_PORTS_DIR"/*/; do
		[ -f "$d/owner" ] && [ "$(cat "$d/owner" 2>/dev/null)" = "$$" ] && rm -rf "$d"
	done
	return 0
}

_cleanup() {
	_release_ports
	if [ -n "${KEEP_TMP:-}" ]; then
		echo "# kept $TMP" >&2
	else
		rm -rf "$TMP"
	fi
}
trap _cleanup EXIT

# Prints lines as TAP diagnostics.
diag() {
	printf '%s\n' "$@" | sed 's/^/# /'
}

ok() {
	_t_n=$((_t_n + 1))
	echo "ok $_t_n - $1"
}

# not_ok DESC [DIAG...]
not_ok() {
	_t_n=$((_t_n + 1))
	_t_fail=$((_t_fail + 1))
	echo "not ok $_t_n - $1"
	shift
	[ $# -gt 0 ] && diag "$@"
	return 0
}

skip() {
	_t_n=$((_t_n + 1))
	echo "ok $_t_n - $1 # SKIP $2"
}

# check DESC CMD...: passes when CMD exits 0; shows its output otherwise.
check() {
	local desc=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		ok "$desc"
	else
		not_ok "$desc" "command: $*" "exit: $rc" "${out:0:4000}"
	fi
	return $rc
}

# check_eq DESC EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1" "expected: $2" "actual:   $3"
		return 1
	fi
}

# check_match DESC ERE TEXT
check_match() {
	if grep -Eq -- "$2" <<<"$3"; then
		ok "$1"
	else
		not_ok "$1" "expected to match: $2" "text: ${3:0:2000}"
		return 1
	fi
}

# check_nomatch DESC ERE TEXT
check_nomatch() {
	if grep -Eq -- "$2" <<<"$3"; then
		not_ok "$1" "must not match: $2" "text: ${3:0:2000}"
		return 1
	else
		ok "$1"
	fi
}

# run_expect EXIT 'ERE' CMD...   (EXIT may be "nonzero")
# Runs CMD with stdout in $RUN_OUT and stderr in $RUN_ERR (also kept in the
# variables), then asserts the exit code AND that stderr matches ERE (an
# empty ERE checks the exit code only). The test's name is $DESC when set,
# else the command line. Standard input is $RUN_STDIN, else /dev/null.
RUN_OUT=$TMP/.run.out
RUN_ERR=$TMP/.run.err
RUN_RC=0
run_expect() {
	local want=$1 re=$2 desc
	shift 2
	desc=${DESC:-$*}
	DESC=
	"$@" >"$RUN_OUT" 2>"$RUN_ERR" <"${RUN_STDIN:-/dev/null}"
	RUN_RC=$?
	RUN_STDOUT=$(cat "$RUN_OUT")
	RUN_STDERR=$(cat "$RUN_ERR")
	local why=()
	if [ "$RUN_RC" -ge 128 ]; then
		why+=("killed by signal $((RUN_RC - 128)) (exit $RUN_RC), expected $want")
	elif [ "$want" = nonzero ]; then
		[ "$RUN_RC" -ne 0 ] || why+=("exit 0, expected a failure")
	else
		[ "$RUN_RC" -eq "$want" ] || why+=("exit $RUN_RC, expected $want")
	fi
	if [ -n "$re" ] && ! grep -Eq -- "$re" "$RUN_ERR"; then
		why+=("stderr does not match: $re")
	fi
	if [ ${#why[@]} -eq 0 ]; then
		ok "$desc"
		return 0
	fi
	not_ok "$desc" "command: $*" "${why[@]}" \
		"stderr: $(head -c 3000 "$RUN_ERR")" "stdout: $(head -c 1000 "$RUN_OUT")"
	return 1
}

# done_testing: prints the plan and exits 0 when nothing failed.
done_testing() {
	echo "1..$_t_n"
	[ "$_t_fail" -eq 0 ] && exit 0
	exit 1
}

# bail REASON: stops the script (TAP "Bail out!").
bail() {
	echo "Bail out! $*"
	exit 1
}

# need TOOL...: the tools a script cannot do without. Under CI they are
# installed by scripts/install-deps.sh, so their absence is a failure there;
# elsewhere the whole script is skipped.
need() {
	local t missing=()
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$_CI_GIVEN" = true ] || [ -n "${IMAGESPEC_E2E_STRICT:-}" ]; then
		bail "missing tools: ${missing[*]} (run scripts/install-deps.sh)"
	fi
	echo "1..0 # SKIP missing tools: ${missing[*]}"
	exit 0
}

need_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "1..0 # SKIP needs root (chroot, umoci unpack with owners)"
		exit 0
	fi
}

[ -x "$IMAGESPEC" ] || bail "no imagespec binary at $IMAGESPEC"

# The host's platform in OCI terms.
host_arch() {
	case "$(uname -m)" in
	x86_64) echo amd64 ;;
	aarch64 | arm64) echo arm64 ;;
	armv7l) echo arm ;;
	i?86) echo 386 ;;
	ppc64le) echo ppc64le ;;
	s390x) echo s390x ;;
	riscv64) echo riscv64 ;;
	*) uname -m ;;
	esac
}

ims() {
	"$IMAGESPEC" "$@"
}

# The last REF@sha256:... line of a build's stdout, and its digest.
digest_of_output() {
	grep -Eo 'sha256:[0-9a-f]{64}$' "$1" | tail -n 1
}

# Digest of the manifest or index that `skopeo inspect --raw REF` returns.
raw_digest() {
	local d
	d=$(skopeo inspect --raw "$1" | sha256sum | cut -d' ' -f1) || return 1
	echo "sha256:$d"
}

# unpack LAYOUT:TAG BUNDLE: umoci unpack, quietly.
unpack() {
	umoci unpack --image "$1" "$2" >"$TMP/.umoci.log" 2>&1 || {
		cat "$TMP/.umoci.log" >&2
		return 1
	}
}

# runbundle BUNDLE [ARG...]: runs the image's process in the unpacked bundle.
runbundle() {
	python3 "$E2E_DIR/runbundle.py" "$@"
}

# Prepares a copy of the examples in DIR/examples (so that their
# oci:../../out/... targets land in DIR/out): the hello binary compiled and
# Debian's busybox copied in.
prepare_examples() {
	local d=$1
	mkdir -p "$d"
	cp -r "$SRCDIR/examples" "$d/examples"
	rm -rf "$d/examples/hello/app" "$d/examples/busybox/rootfs"
	mkdir -p "$d/examples/hello/app" "$d/examples/busybox/rootfs/bin"
	cc -static -O2 -o "$d/examples/hello/app/hello" "$d/examples/hello/hello.c" || return 1
	cp "$(busybox_path)" "$d/examples/busybox/rootfs/bin/busybox"
}

busybox_path() {
	local p
	for p in /bin/busybox /usr/bin/busybox; do
		# ldd fails on a static executable
		if [ -x "$p" ] && ! ldd "$p" >/dev/null 2>&1; then
			echo "$p"
			return 0
		fi
	done
	command -v busybox
}
