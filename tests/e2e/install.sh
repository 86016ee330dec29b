#!/bin/bash
# `meson install` puts the binary, the library, the headers, the pkg-config
# file, the man pages and the completions where they belong; the man pages
# describe every verb, option and key the code has; a build without scdoc
# says what to do.
. "$(dirname "$0")/lib.sh"
need meson man pkg-config cc jq

BUILDDIR=${BUILDDIR:-$SRCDIR/build}
DEST=$TMP/dest
run_expect 0 '' meson install -C "$BUILDDIR" --no-rebuild --destdir "$DEST"
prefix=$(meson introspect --buildoptions "$BUILDDIR" | jq -r '.[] | select(.name == "prefix") | .value')
libdir=$(meson introspect --buildoptions "$BUILDDIR" | jq -r '.[] | select(.name == "libdir") | .value')
case $libdir in /*) ;; *) libdir=$prefix/$libdir ;; esac
ROOT=$DEST$prefix
LIB=$DEST$libdir

(cd "$ROOT" && find . -type f -o -type l | sed 's|^\./||' | sort) >"$TMP/installed"
diag "installed under $prefix:" "$(cat "$TMP/installed")"
rel=${libdir#"$prefix"/}
for f in bin/imagespec "$rel/libimagespec.so" "$rel/libimagespec.so.0" "$rel/pkgconfig/imagespec.pc" \
	include/imagespec/imagespec.h share/man/man1/imagespec.1 share/man/man5/image.yaml.5 \
	share/bash-completion/completions/imagespec share/zsh/site-functions/_imagespec \
	share/fish/vendor_completions.d/imagespec.fish; do
	check_match "installed: $f" "^${f//./\\.}\$" "$(cat "$TMP/installed")"
done
hdrs_src=$(cd "$SRCDIR/include" && find imagespec -name '*.h' | sort)
hdrs_inst=$(grep '^include/imagespec/.*\.h$' "$TMP/installed" | sed 's|^include/||')
check_eq "every public header is installed" "$hdrs_src" "$hdrs_inst"

# The installed binary runs on the installed library.
run_expect 0 '' env LD_LIBRARY_PATH="$LIB" "$ROOT/bin/imagespec" version
check_eq "installed imagespec version" "imagespec $(ims version | cut -d' ' -f2)" "$RUN_STDOUT"
check_match "the installed binary uses the installed library" "libimagespec\.so\.0 => $LIB/" \
	"$(LD_LIBRARY_PATH="$LIB" ldd "$ROOT/bin/imagespec")"

# A program builds against the installed headers and pkg-config file.
cat >"$TMP/prog.c" <<'C'
#include <imagespec/imagespec.h>
int main(void) { return ims_init() < 0; }
C
pc=$(PKG_CONFIG_PATH="$LIB/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$DEST" pkg-config --cflags --libs imagespec)
# (a sanitized library needs its runtime in the program too)
san=$(meson introspect --buildoptions "$BUILDDIR" | jq -r '.[] | select(.name == "b_sanitize") | .value')
sanflags=()
[ "$san" = none ] || sanflags=(-fsanitize="$san")
check "a program builds with pkg-config --cflags --libs imagespec" \
	cc "${sanflags[@]}" -o "$TMP/prog" "$TMP/prog.c" $pc
check "and runs" env LD_LIBRARY_PATH="$LIB" "$TMP/prog"

# The man pages render, and name every verb, option and key.
MAN1=$TMP/imagespec.1.txt
MAN5=$TMP/image.yaml.5.txt
MANWIDTH=100 man -l "$ROOT/share/man/man1/imagespec.1" >"$MAN1" 2>"$TMP/man.err"
check_eq "man imagespec.1 renders without warnings" "" "$(cat "$TMP/man.err")"
MANWIDTH=100 man -l "$ROOT/share/man/man5/image.yaml.5" >"$MAN5" 2>"$TMP/man.err"
check_eq "man image.yaml.5 renders without warnings" "" "$(cat "$TMP/man.err")"
check_match "imagespec(1) has its sections" '^EXIT STATUS' "$(cat "$MAN1")"
check_match "image.yaml(5) has its sections" '^TOP-LEVEL KEYS' "$(cat "$MAN5")"

missing=
for v in $(ims --help | sed -n '/^commands:/,/^$/s/^  \([a-z]\{1,\}\) .*/\1/p'); do
	grep -q -- "^       $v\b" "$MAN1" || missing+=" verb:$v"
	# the options of the verb, not those of other tools in its examples
	help=$(ims $v --help 2>&1 | sed '/^Examples:/,$d')
	for o in $(grep -oE -- '(^|[][ |,])--?[a-z][a-z-]*' <<<"$help" | sed 's/^[^-]*//' | sort -u); do
		grep -qE -- "(^|[ [|,])$o([ ,=|]|$)" "$MAN1" || missing+=" $v:$o"
	done
done
check_eq "imagespec(1) describes every verb and option of the --help texts" "" "$missing"

missing=
for k in $(ims schema | jq -r '[.. | objects | .properties? // empty | keys[]] | unique[]'); do
	grep -qw -- "$k" "$MAN5" || missing+=" $k"
done
check_eq "image.yaml(5) names every key of the schema" "" "$missing"

missing=
for e in DOCKER_CONFIG REGISTRY_AUTH_FILE NO_COLOR CI IMAGESPEC_STREAM_UPLOADS TMPDIR XDG_CACHE_HOME \
	SOURCE_DATE_EPOCH GOOGLE_APPLICATION_CREDENTIALS SSL_CERT_FILE; do
	grep -qE -- "^       $e\b|, $e$" "$MAN1" || missing+=" $e"
done
check_eq "imagespec(1) lists the environment variables the code reads" "" "$missing"

# Without scdoc, configuring says what to do (and -Dman=disabled builds):
# a PATH holding every program of /usr/bin but scdoc.
mkdir "$TMP/bin"
for p in /usr/bin/*; do
	[ "${p##*/}" = scdoc ] || ln -s "$p" "$TMP/bin/"
done
NOSCDOC_PATH=$TMP/bin:/usr/local/sbin:/usr/sbin
check "scdoc is out of the reduced PATH" env PATH="$NOSCDOC_PATH" bash -c '! command -v scdoc'
DESC="meson setup without scdoc fails" \
	run_expect nonzero '' env PATH="$NOSCDOC_PATH" meson setup "$TMP/b1" "$SRCDIR"
check_match "and says scdoc is needed, how to install it, and -Dman=disabled" \
	'scdoc not found.*apt-get install scdoc.*-Dman=disabled' "$RUN_STDOUT$RUN_STDERR"
DESC="meson setup without scdoc and -Dman=disabled succeeds" \
	run_expect 0 '' env PATH="$NOSCDOC_PATH" meson setup -Dman=disabled "$TMP/b2" "$SRCDIR"
check_nomatch "and plans no man page" 'imagespec\.1' \
	"$(meson introspect --targets "$TMP/b2" | jq -r '.[].name')"

done_testing
