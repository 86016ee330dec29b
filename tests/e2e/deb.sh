#!/bin/bash
# debian/ builds installable packages: a copy of the source tree goes through
# `dpkg-buildpackage -us -uc -b`; the .debs hold the tool, the library, the
# headers, the man pages and the completions; apt would install them on this
# machine; and the extracted tool builds an image that skopeo reads.
. "$(dirname "$0")/lib.sh"
need dpkg-buildpackage dpkg-deb dh apt-get skopeo

# The source tree as a release would ship it: the files git knows (tracked
# and new, not ignored) when this is a git checkout, else everything but
# build directories.
SRC=$TMP/src/imagespec
mkdir -p "$SRC"
if git -C "$SRCDIR" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$SRCDIR" && git ls-files -z --cached --others --exclude-standard) >"$TMP/files"
	check "copy the checkout's files" \
		bash -c 'cd "$1" && xargs -0 cp -a --parents -t "$2" <"$3"' _ "$SRCDIR" "$SRC" "$TMP/files"
else
	check "copy the source tree" \
		bash -c 'cd "$1" && tar -c --exclude="./build*" --exclude=./out . | tar -x -C "$2"' _ "$SRCDIR" "$SRC"
fi
# The copy lost files deleted from the worktree but not from the index.
check "the copy has debian/rules" test -x "$SRC/debian/rules"

DESC="dpkg-buildpackage -us -uc -b" \
	run_expect 0 '' bash -c 'cd "$1" && dpkg-buildpackage -us -uc -b -j2 >"$2" 2>&1 || { tail -n 60 "$2" >&2; exit 1; }' \
	_ "$SRC" "$TMP/dpkg-buildpackage.log"
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
version=$(cd "$SRC" && dpkg-parsechangelog -SVersion)
DEB=$TMP/src/imagespec_${version}_$arch.deb
LIBDEB=$TMP/src/libimagespec0_${version}_$arch.deb
DEVDEB=$TMP/src/libimagespec-dev_${version}_$arch.deb
for d in "$DEB" "$LIBDEB" "$DEVDEB"; do
	check "built ${d##*/}" test -s "$d"
done

contents() {
	dpkg-deb -c "$1" | awk '{ print $NF }' | sed 's|^\./|/|' | sort
}
tool=$(contents "$DEB")
lib=$(contents "$LIBDEB")
dev=$(contents "$DEVDEB")
for f in /usr/bin/imagespec /usr/share/man/man1/imagespec.1.gz /usr/share/man/man5/image.yaml.5.gz \
	/usr/share/bash-completion/completions/imagespec /usr/share/zsh/vendor-completions/_imagespec \
	/usr/share/fish/vendor_completions.d/imagespec.fish; do
	check_match "imagespec.deb holds $f" "^${f//./\\.}\$" "$tool"
done
check_match "libimagespec0.deb holds the shared library" "^/usr/lib/$multiarch/libimagespec\.so\.0\.[0-9.]+\$" "$lib"
check_match "libimagespec-dev.deb holds the headers" '^/usr/include/imagespec/imagespec\.h$' "$dev"
check_match "libimagespec-dev.deb holds the pkg-config file" "^/usr/lib/$multiarch/pkgconfig/imagespec\.pc\$" "$dev"
check_match "imagespec.deb depends on the library (shlibs)" '(^|, )libimagespec0 \(>= ' \
	"$(dpkg-deb -f "$DEB" Depends)"
libdeps=$(dpkg-deb -f "$LIBDEB" Depends | tr ',' '\n' | sed 's/^ *//; s/ .*//')
for p in libyaml-0-2 libyajl2 libzstd1 zlib1g libssl3; do
	check_match "libimagespec0.deb depends on $p (shlibs)" "^$p\$" "$libdeps"
done
# loaded with dlopen when first needed: named in debian/control
for p in libcurl4 libarchive13; do
	check_match "libimagespec0.deb depends on $p (debian/control)" "^$p\$" "$libdeps"
done

# apt would install them here: every dependency is satisfiable (--reinstall:
# the same answer when they are installed already).
DESC="apt-get install --simulate of the three packages" \
	run_expect 0 '' apt-get install --simulate --reinstall --no-download -o Debug::NoLocking=1 "$DEB" "$LIBDEB" "$DEVDEB"
check_match "apt would set up imagespec" '^Conf imagespec ' "$RUN_STDOUT"

# Unpacked into a scratch root, the tool runs on the packaged library.
ROOT=$TMP/root
for d in "$DEB" "$LIBDEB" "$DEVDEB"; do
	check "dpkg-deb -x ${d##*/}" dpkg-deb -x "$d" "$ROOT"
done
export LD_LIBRARY_PATH=$ROOT/usr/lib/$multiarch
run_expect 0 '' "$ROOT/usr/bin/imagespec" version
check_eq "the packaged imagespec version" "imagespec ${version%%-*}" "$RUN_STDOUT"
check_match "it runs on the packaged library" "libimagespec\.so\.0 => $ROOT/usr/lib/$multiarch/" \
	"$(ldd "$ROOT/usr/bin/imagespec")"
check_match "the packaged man page renders" '^EXIT STATUS' \
	"$(MANWIDTH=100 man -l "$ROOT/usr/share/man/man1/imagespec.1.gz" 2>&1)"

# ... and builds an image that skopeo reads.
mkdir -p "$TMP/spec"
cat >"$TMP/spec/image.yaml" <<'YAML'
base: scratch
target: oci:out/deb:1
created: "2026-01-01T00:00:00Z"
files:
  - {dest: /etc/motd, content: "from the package\n"}
YAML
DESC="the packaged imagespec builds a spec" \
	run_expect 0 '' "$ROOT/usr/bin/imagespec" build --progress quiet "$TMP/spec/image.yaml"
check_match "it prints the reference and digest" "^oci:$TMP/spec/out/deb:1@sha256:[0-9a-f]{64}\$" "$RUN_STDOUT"
unset LD_LIBRARY_PATH
printed=$(digest_of_output "$RUN_OUT")
check_match "it printed a digest" '^sha256:[0-9a-f]{64}$' "$printed"
check_eq "skopeo reads the image, with the digest imagespec printed" \
	"$printed" "$(raw_digest "oci:$TMP/spec/out/deb:1")"
ims build --progress quiet --output "oci:$TMP/tree-out:1" "$TMP/spec/image.yaml" >"$TMP/tree.out"
check_eq "the same spec built by the tree's imagespec gives the same digest" \
	"$printed" "$(digest_of_output "$TMP/tree.out")"

done_testing
