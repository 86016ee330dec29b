#!/usr/bin/env bash
# libcurl and libarchive are loaded when first needed (src/util/lazylib.c).
# With either hidden (/dev/null bind-mounted over it, in a mount namespace
# of the test's own), what does not need it works, and what does fails with
# the library and the package to install, and leaves nothing behind.
#   - Without libcurl: `validate`, and a build to an oci: layout, work; a
#     push fails (exit 1) before any request, naming libcurl4.
#   - Without libarchive: a build whose layer comes from the cache works,
#     with the same digest; one whose layer must be written fails (exit 1),
#     naming libarchive13, and leaves no layout.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root
need unshare mount ldconfig skopeo

# The file the dynamic loader finds for a soname.
lib_of() {
	readlink -f "$(ldconfig -p | awk -v n="$1" '$1 == n { print $NF; exit }')"
}
CURL=$(lib_of libcurl.so.4)
ARCHIVE=$(lib_of libarchive.so.13)
check "libcurl.so.4 is found ($CURL)" test -s "$CURL"
check "libarchive.so.13 is found ($ARCHIVE)" test -s "$ARCHIVE"
if ! unshare -m true 2>/dev/null; then
	[ "$_CI_GIVEN" = true ] && bail "unshare -m does not work here (CAP_SYS_ADMIN?)"
	echo "1..0 # SKIP unshare -m does not work here"
	exit 0
fi

# hidden LIB CMD...: CMD where LIB is an empty file.
hidden() {
	local lib=$1
	shift
	unshare -m sh -c 'mount --bind /dev/null "$1" && shift && exec "$@"' _ "$lib" "$@"
}
check "hidden: the library is empty inside" hidden "$CURL" test ! -s "$CURL"
check "... and whole outside" test -s "$CURL"

W=$TMP/w
mkdir -p "$W/app"
echo "hello from a lazy library" >"$W/app/hello.txt"
cat >"$W/image.yaml" <<'EOF'
base: scratch
target: oci:out/lib:1
created: "2026-01-01T00:00:00Z"
files:
  - src: ./app
    dest: /app/
EOF
C=$TMP/cache

# --- without libcurl ----------------------------------------------------------------------------
DESC="no libcurl: validate" run_expect 0 '' hidden "$CURL" "$IMAGESPEC" validate "$W/image.yaml"
check_match "... says the spec is valid" ': valid$' "$RUN_STDOUT"
DESC="no libcurl: a build to an oci: layout" \
	run_expect 0 '' hidden "$CURL" "$IMAGESPEC" build "$W/image.yaml" --output "oci:$TMP/l1:1" --cache-dir "$C" \
	--progress quiet
FIRST=$(digest_of_output "$RUN_OUT")
check_eq "... skopeo reads it, with the digest printed" "$FIRST" "$(raw_digest "oci:$TMP/l1:1")"
port=$(free_port)
DESC="no libcurl: a push fails, naming the library and the package" \
	run_expect 1 'cannot load libcurl\.so\.4' hidden "$CURL" "$IMAGESPEC" build "$W/image.yaml" \
	--target "127.0.0.1:$port/team/lib:1" --cache-dir "$C" --progress quiet
check_match "... with the package to install" 'apt-get install libcurl4' "$RUN_STDERR"

# --- without libarchive ---------------------------------------------------------------------------
DESC="no libarchive: a build whose layer comes from the cache" \
	run_expect 0 '' hidden "$ARCHIVE" "$IMAGESPEC" build "$W/image.yaml" --output "oci:$TMP/l2:1" \
	--cache-dir "$C" --progress quiet
check_eq "... the same digest" "$FIRST" "$(digest_of_output "$RUN_OUT")"
check_eq "... skopeo reads it" "$FIRST" "$(raw_digest "oci:$TMP/l2:1")"
echo "changed" >"$W/app/hello.txt"
DESC="no libarchive: a build whose layer must be written fails, naming the library and the package" \
	run_expect 1 'cannot load libarchive\.so\.13' hidden "$ARCHIVE" "$IMAGESPEC" build "$W/image.yaml" \
	--output "oci:$TMP/l3:1" --cache-dir "$C" --progress quiet
check_match "... with the package to install" 'apt-get install libarchive13' "$RUN_STDERR"
check "... and leaves no layout" test ! -e "$TMP/l3/index.json"
DESC="with libarchive: the same build" \
	run_expect 0 '' "$IMAGESPEC" build "$W/image.yaml" --output "oci:$TMP/l3:1" --cache-dir "$C" --progress quiet
check_match "... gives another image" '^sha256:' "$(digest_of_output "$RUN_OUT")"

done_testing
