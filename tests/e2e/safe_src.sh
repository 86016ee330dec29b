#!/usr/bin/env bash
# What goes into a layer (issue 9, items 1, 4, 5, 6, 8 and 9 of the hostile
# tries; docs/security.md maps them here):
#   - registry credentials in a source tree are left out, with a warning
#     that names the file and how to include it; a mapping naming the file
#     packs it;
#   - the build's own output, cache and TMPDIR are never packed, so a second
#     build gives the same digest;
#   - whiteouts in archive layers are refused (exit 1);
#   - dest values with `.`, `..` or `//` are refused (exit 2, FILE:LINE:COL);
#   - two entries of one layer at one path are refused, naming both;
#   - control characters in config strings are refused, and what is echoed
#     is escaped.
# Layers are read with tar (python3's tarfile), not with imagespec.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need python3 jq tar cmp

ESC=$(printf '\033')

# blob_list LAYOUT: the entries of the last layer of the layout's only
# manifest, one name per line (directories end with /).
blob_list() {
	local idx man lay
	idx=$(jq -r '.manifests[-1].digest | ltrimstr("sha256:")' "$1/index.json") || return 1
	man=$1/blobs/sha256/$idx
	lay=$(jq -r '.layers[-1].digest | ltrimstr("sha256:")' "$man") || return 1
	tar -tzf "$1/blobs/sha256/$lay"
}

# blob_list_archive FILE: the same for a docker-archive tarball.
blob_list_archive() {
	local d=$TMP/.xa
	rm -rf "$d" && mkdir -p "$d" && tar -xf "$1" -C "$d" || return 1
	local lay
	lay=$(jq -r '.[0].Layers[-1]' "$d/manifest.json") || return 1
	tar -tf "$d/$lay" 2>/dev/null || tar -tzf "$d/$lay"
}

# --- item 1: credentials in the source tree ---------------------------------
C=$TMP/secrets
mkdir -p "$C/.docker" "$C/.config/containers" "$C/ci" "$C/app"
echo '{"auths":{"127.0.0.1:5000":{"auth":"dXNlcjpzM2NyM3Q="}}}' >"$C/.docker/config.json"
echo '{"auths":{}}' >"$C/.config/containers/auth.json"
echo '{"auths":{}}' >"$C/ci/registry-creds"
echo app >"$C/app/main"
cat >"$C/image.yaml" <<'EOF'
base: scratch
target: oci:out:x
created: 0
files:
  - src: ./
    dest: /srv/
    exclude: [out]
EOF
DESC="credentials: the build succeeds, warning about DOCKER_CONFIG's config.json" \
	run_expect 0 'image\.yaml:5:10: `\.docker/config\.json` holds registry credentials.*`src: \.docker/config\.json`' \
	env DOCKER_CONFIG="$C/.docker" REGISTRY_AUTH_FILE="$C/ci/registry-creds" \
	"$IMAGESPEC" build "$C/image.yaml" --output "oci:$TMP/secrets-out:x" --progress quiet
check_match "credentials: warns about podman's auth.json" '`\.config/containers/auth\.json` holds registry credentials' "$RUN_STDERR"
check_match "credentials: warns about \$REGISTRY_AUTH_FILE, whatever its name" '`ci/registry-creds` holds registry credentials \(\$REGISTRY_AUTH_FILE' "$RUN_STDERR"
L=$(blob_list "$TMP/secrets-out")
check_match "credentials: the layer has the ordinary files" '^srv/app/main$' "$L"
check_nomatch "credentials: the layer has no .docker/config.json" 'config\.json' "$L"
check_nomatch "credentials: the layer has no auth.json" 'auth\.json' "$L"
check_nomatch "credentials: the layer has no \$REGISTRY_AUTH_FILE" 'registry-creds' "$L"
# blob_bytes LAYOUT: the uncompressed content of every file of the last layer.
blob_bytes() {
	local idx lay
	idx=$(jq -r '.manifests[-1].digest | ltrimstr("sha256:")' "$1/index.json") || return 1
	lay=$(jq -r '.layers[-1].digest | ltrimstr("sha256:")' "$1/blobs/sha256/$idx") || return 1
	tar -xzOf "$1/blobs/sha256/$lay"
}
blob_bytes "$TMP/secrets-out" >"$TMP/secrets-bytes"
check "credentials: the secret's bytes are nowhere in the layer" test "$(grep -c 'dXNlcjpzM2NyM3Q=' "$TMP/secrets-bytes")" -eq 0

cat >"$C/explicit.yaml" <<'EOF'
base: scratch
target: oci:out:x
created: 0
files:
  - src: ./app
    dest: /srv/app/
  - src: ./.docker/config.json
    dest: /root/.docker/config.json
EOF
DESC="credentials: a mapping naming the file packs it, with a warning" \
	run_expect 0 'explicit\.yaml:7:10: `\.docker/config\.json` holds registry credentials.*goes into the image' \
	env DOCKER_CONFIG="$C/.docker" "$IMAGESPEC" build "$C/explicit.yaml" --output "oci:$TMP/explicit-out:x" --progress quiet
check_match "credentials: the explicit mapping is in the layer" '^root/\.docker/config\.json$' "$(blob_list "$TMP/explicit-out")"

# --- item 4: the build's own output, cache and TMPDIR -------------------------
C=$TMP/own
mkdir -p "$C/tmp" "$C/cache" "$C/src"
echo hi >"$C/src/hi"
cat >"$C/image.yaml" <<'EOF'
base: scratch
target: oci:out:x
created: 0
files:
  - src: ./
    dest: /w/
EOF
own_build() { # own_build OUTPUT
	env TMPDIR="$C/tmp" "$IMAGESPEC" build "$C/image.yaml" --output "$1" --cache-dir "$C/cache" --progress quiet
}
DESC="own output: first build (layout, TMPDIR and cache inside the tree)" run_expect 0 '' own_build "oci:$C/out:x"
D1=$(digest_of_output "$RUN_OUT")
# a leftover temp blob, as an interrupted run leaves, and one in TMPDIR
echo junk >"$C/out/blobs/sha256/.tmp-leftover"
echo junk >"$C/tmp/imagespec-stage"
DESC="own output: second build" run_expect 0 '' own_build "oci:$C/out:x"
D2=$(digest_of_output "$RUN_OUT")
check_eq "own output: the same digest both times" "$D1" "$D2"
L=$(blob_list "$C/out")
check_match "own output: the source is in the layer" '^w/src/hi$' "$L"
check_nomatch "own output: the layer holds no earlier layout" '^w/out' "$L"
check_nomatch "own output: the layer holds no temp blob or TMPDIR" '(\.tmp-|^w/tmp)' "$L"
check_nomatch "own output: the layer holds no cache" '^w/cache' "$L"

for i in 1 2; do
	DESC="own output: docker-archive inside the tree, build $i" run_expect 0 '' own_build "docker-archive:$C/img.tar:app:1"
	eval "A$i=\$(digest_of_output \"\$RUN_OUT\")"
	echo junk >"$C/img.tar.tmp-left$i"
done
check_eq "own output: docker-archive: the same digest both times" "$A1" "$A2"
L=$(blob_list_archive "$C/img.tar")
check_nomatch "own output: docker-archive: neither the archive nor its temp files packed" 'img\.tar' "$L"

# --- item 5: whiteouts in archive layers (exit 1) -------------------------------
C=$TMP/wh
mkdir -p "$C/t/etc" "$C/t2/var/lib/x"
echo ok >"$C/t/etc/ok"
: >"$C/t/etc/.wh.passwd"
: >"$C/t2/var/lib/x/.wh..wh..opq"
tar -cf "$C/wh.tar" -C "$C/t" etc
tar -czf "$C/opq.tar.gz" -C "$C/t2" var
printf 'base: scratch\ntarget: oci:out:x\nlayers:\n  - archive: ./wh.tar\n' >"$C/a.yaml"
printf 'base: scratch\ntarget: oci:out:x\nlayers:\n  - archive: ./opq.tar.gz\n    dest: /opt\n' >"$C/b.yaml"
DESC="archive whiteout .wh.NAME: exit 1, names the archive and the entry" \
	run_expect 1 'archive `\./wh\.tar`: entry `etc/\.wh\.passwd`: whiteouts' \
	ims build "$C/a.yaml" --output "oci:$C/out-a:x" --progress quiet
check_match "archive whiteout: the hint points to delete:/opaque:" 'hint: .*`delete:` or `opaque:`' "$RUN_STDERR"
check "archive whiteout: nothing written" test ! -e "$C/out-a"
DESC="archive opaque whiteout: exit 1, names the entry" \
	run_expect 1 'archive `\./opq\.tar\.gz`: entry `var/lib/x/\.wh\.\.wh\.\.opq`' \
	ims build "$C/b.yaml" --output "oci:$C/out-b:x" --progress quiet
check "archive opaque whiteout: nothing written" test ! -e "$C/out-b"
printf 'base: scratch\ntarget: oci:out:x\nlayers:\n  - archive: ./wh.tar\n    include: [etc/ok]\n' >"$C/c.yaml"
DESC="archive whiteout left out by include: builds" run_expect 0 '' ims build "$C/c.yaml" --output "oci:$C/out-c:x" --progress quiet

# --- item 6: dest values are refused, not normalised (exit 2) -------------------
C=$TMP/dest
mkdir -p "$C"
bad_dest() { # bad_dest NAME YAML-TAIL ERE
	printf 'base: scratch\ntarget: oci:out:x\n%b\n' "$2" >"$C/image.yaml"
	DESC="dest $1: exit 2, FILE:LINE:COL" run_expect 2 "$3" ims build "$C/image.yaml" --output "oci:$C/out:x" --progress quiet
	check "dest $1: nothing written" test ! -e "$C/out"
}
bad_dest '/etc/. (inline file)' 'files:\n  - dest: "/etc/."\n    content: "x"' 'image\.yaml:4:11: `dest` `/etc/\.` must be a clean path'
bad_dest '/a//b' 'files:\n  - {dest: /a//b, content: x}' 'image\.yaml:4:12: .*must be a clean path'
bad_dest 'symlink /bin/./sh' 'files:\n  - {dest: /bin/./sh, symlink: busybox}' 'image\.yaml:4:12: .*must be a clean path'
bad_dest 'dir /data/..' 'files:\n  - {dest: /data/.., type: dir}' 'image\.yaml:4:12: .*`\.\.`'
bad_dest 'delete /etc/./motd' 'delete: [/etc/./motd]' 'image\.yaml:3:10: `delete` path `/etc/\./motd` must be a clean path'
bad_dest 'opaque /var//cache' 'opaque: [/var//cache]' 'image\.yaml:3:10: .*must be a clean path'
bad_dest 'archive prefix /opt/.' 'layers:\n  - {archive: ./x.tar, dest: /opt/.}' 'image\.yaml:4:30: .*must be a clean path'

# --- item 8: conflicting mappings in one layer (exit 2, both positions) ---------
C=$TMP/conflict
mkdir -p "$C/app"
echo copied >"$C/app/config.json"
conflict() { # conflict NAME FILES-YAML ERE
	printf 'base: scratch\ntarget: oci:out:x\nfiles:\n%b\n' "$2" >"$C/image.yaml"
	DESC="conflict: $1: exit 2, names both" run_expect 2 "$3" ims build "$C/image.yaml" --output "oci:$C/out:x" --progress quiet
	check "conflict: $1: nothing written" test ! -e "$C/out"
}
conflict "two entries for one destination" '  - {dest: /etc/motd, content: a}\n  - {dest: /etc/motd, content: b}' \
	'image\.yaml:5:5: `/etc/motd` is a file from [^ ]*image\.yaml:4:5, but a file from [^ ]*image\.yaml:5:5 has the same path'
conflict "a copied file overridden by an inline one" '  - {src: ./app, dest: /app/}\n  - {dest: /app/config.json, content: "{}"}' \
	'image\.yaml:5:5: `/app/config\.json` is a file from `app/config\.json` \([^ ]*image\.yaml:4:5\), but a file from [^ ]*image\.yaml:5:5'
conflict "a symlink and a file at one path" '  - {dest: /bin/sh, symlink: busybox}\n  - {dest: /bin/sh, content: x}' \
	'a symlink from [^ ]*image\.yaml:4:5, but a file from [^ ]*image\.yaml:5:5'
printf 'base: scratch\ntarget: oci:out:x\nlayers:\n  - files: [{dest: /etc/motd, content: a}]\nfiles:\n  - {dest: /etc/motd, content: b}\n' >"$C/image.yaml"
DESC="conflict: across layers a later layer still overrides" run_expect 0 '' ims build "$C/image.yaml" --output "oci:$C/out2:x" --progress quiet

# --- item 9: control characters (exit 2, escaped when echoed) ------------------
C=$TMP/ctl
mkdir -p "$C"
printf 'base: scratch\ntarget: oci:out:x\nfiles:\n  - {dest: /a, content: a}\n' >"$C/image.yaml"
DESC="a raw ESC in -t: exit 2" run_expect 2 '-t `bad\\x1b\[31mtag` is not a valid tag' \
	ims build "$C/image.yaml" -t "bad${ESC}[31mtag" --output "oci:$C/out:x" --progress quiet
check_nomatch "a raw ESC in -t: no raw ESC on stderr" "$ESC" "$RUN_STDERR"
check "a raw ESC in -t: nothing written" test ! -e "$C/out"
DESC="a raw ESC in --target: exit 2" run_expect 2 'x1b' \
	ims build "$C/image.yaml" --target "127.0.0.1:5000/a:b${ESC}]0;x" --progress quiet
check_nomatch "a raw ESC in --target: no raw ESC on stderr" "$ESC" "$RUN_STDERR"
ctl() { # ctl NAME YAML-TAIL ERE
	printf 'base: scratch\ntarget: oci:out:x\nfiles:\n  - {dest: /a, content: a}\n%s\n' "$2" >"$C/image.yaml"
	DESC="control: $1: exit 2, FILE:LINE:COL" run_expect 2 "$3" ims build "$C/image.yaml" --output "oci:$C/out:x" --progress quiet
	check_nomatch "control: $1: no raw ESC on stderr" "$ESC" "$RUN_STDERR"
	check "control: $1: nothing written" test ! -e "$C/out"
}
ctl "ESC in a tag in the spec" 'tags: ["v1\e[2J"]' 'image\.yaml:5:8: tag `v1\\x1b\[2J` is not valid'
ctl "raw ESC in a label value (the YAML reader refuses it)" "labels: {a: \"x${ESC}[31my\"}" 'image\.yaml:5:[0-9]+: '
ctl "escaped ESC in a label value" 'labels: {a: "x\e[31my"}' 'image\.yaml:5:13: `labels` value has U\+001B'
ctl "C1 in a label key" 'labels: {"a\u009b": x}' 'image\.yaml:5:10: `labels` key has U\+009B'
ctl "C1 in an env value" 'env: {A: "b\u0085c"}' 'image\.yaml:5:10: `env` value has U\+0085'
ctl "a BOM mid-string in an env value" 'env: {A: "b\uFEFFc"}' 'image\.yaml:5:10: `env` value has U\+FEFF'
ctl "a BOM mid-string in an annotation" 'annotations: {a: "b\uFEFFc"}' '`annotations` value has U\+FEFF'
ctl "DEL in user" 'user: "a\x7f"' 'image\.yaml:5:7: `user` .*`a\\x7f`'
ctl "ESC in cmd" 'cmd: ["echo", "\e[31m"]' '`cmd` has U\+001B'
printf 'base: scratch\ntarget: oci:out:x\nfiles:\n  - {dest: /a, content: a}\nlabels: {a: "x\\ty"}\ncmd: [sh, -c, "set -e\\necho hi"]\n' >"$C/image.yaml"
DESC="control: a tab in a label and newlines in a cmd script are fine" run_expect 0 '' ims build "$C/image.yaml" --output "oci:$C/ok:x" --progress quiet

done_testing
