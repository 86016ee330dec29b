#!/usr/bin/env bash
# Per-platform sources and indexes, end to end:
#
#  1. ${platform.arch} in `src`: one spec (Debian's busybox on scratch, plus
#     arch/${platform.arch}/hello) built for linux/amd64 and linux/arm64 in
#     one build (an index) and one platform at a time (pushed as :amd64 and
#     :arm64). skopeo reads the index; `skopeo copy --override-arch` and
#     `umoci unpack` of each platform show that platform's file; the busybox
#     layer, the same on both, is one blob (same digest in both manifests).
#     `archive` and `url` with ${platform.arch} and one `sha256` per
#     platform (a tarball per platform, served on loopback by python's
#     http.server for `url`): each platform's image has its own file.
#  2. `imagespec index create` joins the two pushed images into an index
#     (checked as above, and equal byte for byte to the one-build index);
#     `index append` replaces a platform with a warning; into oci:DIR too.
#  3. Hostile: an unknown ${platform.x}, ${platform.*} outside src/archive/
#     url, a src escaping after substitution, a file missing for one
#     platform; duplicate platforms in `index create`; a missing SRC; an
#     unsupported DEST. Each: the message, the exit code, nothing written
#     (registry tag absent, an oci: layout byte for byte as it was).
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/fixture.sh"
need skopeo umoci jq sha256sum tar gzip curl
[ -x /usr/bin/docker-registry ] || need /usr/bin/docker-registry
need_root

W=$TMP/work
mkdir -p "$W/ctx/rootfs/bin" "$W/ctx/arch/amd64" "$W/ctx/arch/arm64"
cp "$(busybox_path)" "$W/ctx/rootfs/bin/busybox"
echo "hello from amd64" >"$W/ctx/arch/amd64/hello"
echo "hello from arm64" >"$W/ctx/arch/arm64/hello"
cat >"$W/ctx/image.yaml" <<'EOF'
base: scratch
target: oci:out:x
platforms: [linux/amd64, linux/arm64]
created: "2026-01-01T00:00:00Z"
layers:
  - name: busybox
    files:
      - {dest: /bin, type: dir}
      - {src: ./rootfs/bin/busybox, dest: /bin/busybox}
      - {dest: /bin/sh, symlink: /bin/busybox}
      - {dest: /bin/cat, symlink: /bin/busybox}
files:
  - {src: "arch/${platform.arch}/hello", dest: /hello}
cmd: ["/bin/cat", "/hello"]
EOF

registry_start REG || bail "cannot start the registry"
R=$REG_ADDR

# manifest_of REF ARCH: the manifest of that platform of index REF (registry).
manifest_of() {
	local d
	d=$(skopeo inspect --raw --tls-verify=false "docker://$1" |
		jq -r --arg a "$2" '.manifests[] | select(.platform.architecture == $a) | .digest') || return 1
	skopeo inspect --raw --tls-verify=false "docker://${1%:*}@$d"
}
# file_of REF ARCH: /hello of that platform, through skopeo copy and umoci.
file_of() {
	local d
	d=$(mktemp -d "$W/pull.XXXXXX") || return 1
	skopeo copy -q --src-tls-verify=false --override-arch "$2" "docker://$1" "oci:$d/l:x" >"$d/log" 2>&1 &&
		umoci unpack --image "$d/l:x" "$d/b" >>"$d/log" 2>&1 || {
		cat "$d/log"
		return 1
	}
	cat "$d/b/rootfs/hello"
}
# check_index DESC REF: both platforms, each with its own file, and the
# busybox layer one blob.
check_index() {
	local raw ma mb
	raw=$(skopeo inspect --raw --tls-verify=false "docker://$2")
	check_eq "$1: an OCI index of linux/amd64 and linux/arm64" \
		"application/vnd.oci.image.index.v1+json linux/amd64 linux/arm64" \
		"$(jq -r '[.mediaType] + ([.manifests[].platform | "\(.os)/\(.architecture)"] | sort) | join(" ")' <<<"$raw")"
	check_eq "$1: arm64 has the arm64 file (skopeo --override-arch, umoci)" "hello from arm64" "$(file_of "$2" arm64)"
	check_eq "$1: amd64 has the amd64 file" "hello from amd64" "$(file_of "$2" amd64)"
	ma=$(manifest_of "$2" amd64)
	mb=$(manifest_of "$2" arm64)
	check_digest "$1: the busybox layer is one blob on both platforms" "$(jq -r '.layers[0].digest' <<<"$ma")" \
		"$(jq -r '.layers[0].digest' <<<"$mb")"
	check_nomatch "$1: the per-platform layers differ" "^$(jq -r '.layers[1].digest' <<<"$ma")\$" \
		"$(jq -r '.layers[1].digest' <<<"$mb")"
}

# --- 1. one build, both platforms ------------------------------------------
DESC="build both platforms with \${platform.arch} in src" \
	run_expect 0 '' ims build "$W/ctx/image.yaml" --target "$R/app:multi" --progress quiet
MULTI=$(digest_of_output "$RUN_OUT")
check_index "one build" "$R/app:multi"
check_eq "the arm64 image's history names the arm64 file" "imagespec: files arch/arm64/hello → /hello" \
	"$(skopeo inspect --config --tls-verify=false --override-arch arm64 "docker://$R/app:multi" |
		jq -r '.history[-1].created_by')"
check_eq "the amd64 image runs and prints its file (chroot)" "hello from amd64" \
	"$(pull_and_run "$R/app:multi" --src-tls-verify=false --override-arch amd64)"
# The same build again: nothing changed, so no manifest is PUT (HEADs of
# the two platform manifests by digest and of the tag say they are there).
MARK=$(registry_log_mark REG)
DESC="build both platforms again, nothing changed" \
	run_expect 0 '' ims build "$W/ctx/image.yaml" --target "$R/app:multi" --progress quiet
check_eq "... the same index digest" "$MULTI" "$(digest_of_output "$RUN_OUT")"
check_eq "... no manifest PUT (platform manifests or the index)" 0 \
	"$(registry_requests REG "$MARK" '"PUT /v2/[^ ]*/manifests/')"
check "... the three manifests were asked with HEADs" \
	test "$(registry_requests REG "$MARK" '"HEAD /v2/[^ ]*/manifests/')" -ge 3

# --- 1b. archive and url, one sha256 per platform ---------------------------
SRV=$W/srv
mkdir -p "$SRV"
for a in amd64 arm64; do
	mkdir -p "$W/t-$a/tool"
	echo "tool for $a" >"$W/t-$a/tool/which"
	tar -C "$W/t-$a" --owner=0 --group=0 --mtime=@0 -cf - tool | gzip -n >"$SRV/tool-$a.tar.gz"
	cp "$SRV/tool-$a.tar.gz" "$W/ctx/tool-$a.tar.gz"
done
SHA_AMD=$(sha256sum "$SRV/tool-amd64.tar.gz" | cut -d' ' -f1)
SHA_ARM=$(sha256sum "$SRV/tool-arm64.tar.gz" | cut -d' ' -f1)
HTTP_PORT=$(fixture_free_port 127.0.0.1) || bail "no free port"
(cd "$SRV" && exec "$PY" -u -m http.server --bind 127.0.0.1 "$HTTP_PORT" >>"$W/http.log" 2>&1 </dev/null) &
HTTP_PID=$!
_FIXTURE_PIDS+=("$HTTP_PID")
fixture_wait_url "http://127.0.0.1:$HTTP_PORT/" 20 "$HTTP_PID" || bail "the http server did not start"
# tool_spec KEY VALUE: a spec whose one layer is KEY: VALUE, with a sha256
# per platform.
tool_spec() {
	cat >"$W/ctx/tool.yaml" <<YAML
base: scratch
target: oci:out:x
platforms: [linux/amd64, linux/arm64]
created: "2026-01-01T00:00:00Z"
layers:
  - $1: "$2"
    dest: /opt
    sha256:
      linux/amd64: $SHA_AMD
      linux/arm64/v8: "sha256:$SHA_ARM"
YAML
}
# tool_of LAYOUT:TAG ARCH: /opt/tool/which of that platform (skopeo, umoci).
tool_of() {
	local d
	d=$(mktemp -d "$W/tool.XXXXXX") || return 1
	skopeo copy -q --override-arch "$2" "oci:$1" "oci:$d/l:x" >"$d/log" 2>&1 &&
		umoci unpack --image "$d/l:x" "$d/b" >>"$d/log" 2>&1 || {
		cat "$d/log"
		return 1
	}
	cat "$d/b/rootfs/opt/tool/which"
}
for kind in archive url; do
	if [ $kind = archive ]; then
		src='tool-${platform.arch}.tar.gz'
	else
		src="http://127.0.0.1:$HTTP_PORT/tool-\${platform.arch}.tar.gz"
	fi
	tool_spec "$kind" "$src"
	DESC="$kind with \${platform.arch} and a sha256 per platform" \
		run_expect 0 '' ims build "$W/ctx/tool.yaml" --output "oci:$W/T-$kind:x" --progress quiet --no-cache
	check_eq "$kind: amd64 has the amd64 tool" "tool for amd64" "$(tool_of "$W/T-$kind:x" amd64)"
	check_eq "$kind: arm64 has the arm64 tool" "tool for arm64" "$(tool_of "$W/T-$kind:x" arm64)"
done
check_match "url: the arm64 file was downloaded" 'GET /tool-arm64\.tar\.gz' "$(cat "$W/http.log")"
sed -i '/linux\/arm64\/v8:/d' "$W/ctx/tool.yaml"
DESC="url: a platform without a sha256 is named, nothing written" \
	run_expect 2 'tool\.yaml:6:[0-9]+: `sha256` gives no digest for platform `linux/arm64`' \
	ims build "$W/ctx/tool.yaml" --output "oci:$W/T-none:x" --progress quiet --no-cache
check "url: no layout was made" test ! -e "$W/T-none"
printf 'base: scratch\ntarget: oci:o:x\nlayers:\n  - archive: tool-amd64.tar.gz\n    sha256: {linux/amd64: %s}\n' \
	"$SHA_AMD" >"$W/ctx/tool1.yaml"
DESC="a sha256 per platform without \${platform.*} in archive" \
	run_expect 2 'tool1\.yaml:5:13: a `sha256` per platform needs' ims validate "$W/ctx/tool1.yaml"


for a in amd64 arm64; do
	DESC="build linux/$a alone" \
		run_expect 0 '' ims build "$W/ctx/image.yaml" --platform "linux/$a" --target "$R/app:$a" --progress quiet
	check_eq "the $a image is a plain manifest" "application/vnd.oci.image.manifest.v1+json" \
		"$(skopeo inspect --raw --tls-verify=false "docker://$R/app:$a" | jq -r .mediaType)"
done

# --- 2. index create and append --------------------------------------------
DESC="index create joins the two images" \
	run_expect 0 '' ims index create "$R/app:joined" "$R/app:amd64" "$R/app:arm64"
check_index "index create" "$R/app:joined"
check_digest "the printed digest is the index's" "$(skopeo_raw_digest "$R/app:joined")" \
	"$(digest_of_output "$RUN_OUT")"
check_digest "the joined index is byte for byte the one-build index" "$MULTI" "$(skopeo_raw_digest "$R/app:joined")"
DESC="index create --json" \
	run_expect 0 '' ims index create --json "$R/app:json" "$R/app:amd64" "$R/app:arm64"
check_eq "--json: references, digest, and each entry's platform and source" \
	"$R/app:json $MULTI linux/amd64=$R/app:amd64 linux/arm64=$R/app:arm64" \
	"$(jq -r '[.references[0], .digest] + [.manifests[] | "\(.platform)=\(.source)"] | join(" ")' "$RUN_OUT")"
check_eq "--json: the manifests' digests are the index's" \
	"$(skopeo inspect --raw --tls-verify=false "docker://$R/app:json" | jq -r '[.manifests[].digest] | join(" ")')" \
	"$(jq -r '[.manifests[].digest] | join(" ")' "$RUN_OUT")"

DESC="index create into another repository copies the blobs" \
	run_expect 0 '' ims index create "$R/other/app:1" "$R/app:amd64" "$R/app:arm64"
check_index "another repository" "$R/other/app:1"

DESC="index create from an index flattens its entries" \
	run_expect 0 '' ims index create "$R/app:flat" "$R/app:multi"
check_digest "flattened: the same index" "$MULTI" "$(skopeo_raw_digest "$R/app:flat")"

# an amd64 image with another file replaces the index's amd64 entry
echo "new amd64" >"$W/ctx/arch/amd64/hello"
DESC="build a new amd64 image" \
	run_expect 0 '' ims build "$W/ctx/image.yaml" --platform linux/amd64 --target "$R/app:amd64-new" --progress quiet
DESC="index append replaces the same platform, with a warning" \
	run_expect 0 'warning: replacing the index.s image for linux/amd64' \
	ims index append "$R/app:joined" "$R/app:amd64-new"
check_eq "append: amd64 has the new file" "new amd64" "$(file_of "$R/app:joined" amd64)"
check_eq "append: arm64 kept" "hello from arm64" "$(file_of "$R/app:joined" arm64)"
check_eq "append: still two entries, amd64 first" "amd64 arm64" \
	"$(skopeo inspect --raw --tls-verify=false "docker://$R/app:joined" | jq -r '[.manifests[].platform.architecture] | join(" ")')"
echo "hello from amd64" >"$W/ctx/arch/amd64/hello"

# into an oci: layout, from registry and oci: sources
DESC="index create into oci:DIR" \
	run_expect 0 '' ims index create "oci:$W/L:multi" "$R/app:amd64" "$R/app:arm64"
check_digest "oci:DIR: the same index" "$MULTI" "$(raw_digest "oci:$W/L:multi")"
check_eq "oci:DIR: arm64 unpacks with its file (umoci)" "hello from arm64" \
	"$(skopeo copy -q --override-arch arm64 "oci:$W/L:multi" "oci:$W/L64:x" >/dev/null 2>&1 &&
		umoci unpack --image "$W/L64:x" "$W/B64" >/dev/null 2>&1 && cat "$W/B64/rootfs/hello")"

# Docker-typed sources give a Docker manifest list; a mix gives an OCI index.
sed 's/^created:/format: docker\ncreated:/' "$W/ctx/image.yaml" >"$W/ctx/docker.yaml"
for a in amd64 arm64; do
	DESC="build linux/$a with format: docker" \
		run_expect 0 '' ims build "$W/ctx/docker.yaml" --platform "linux/$a" --target "$R/dock:$a" --progress quiet
done
DESC="index create from Docker manifests" \
	run_expect 0 '' ims index create "$R/dock:list" "$R/dock:amd64" "$R/dock:arm64"
check_eq "Docker sources: a Docker manifest list (skopeo)" \
	"application/vnd.docker.distribution.manifest.list.v2+json linux/amd64 linux/arm64" \
	"$(skopeo inspect --raw --tls-verify=false "docker://$R/dock:list" |
		jq -r '[.mediaType] + [.manifests[].platform | "\(.os)/\(.architecture)"] | join(" ")')"
check_eq "Docker list: arm64 has the arm64 file" "hello from arm64" "$(file_of "$R/dock:list" arm64)"
DESC="index create from a Docker and an OCI manifest" \
	run_expect 0 '' ims index create "$R/dock:mixed" "$R/dock:amd64" "$R/app:arm64"
check_eq "mixed sources: an OCI index naming both media types" \
	"application/vnd.oci.image.index.v1+json application/vnd.docker.distribution.manifest.v2+json application/vnd.oci.image.manifest.v1+json" \
	"$(skopeo inspect --raw --tls-verify=false "docker://$R/dock:mixed" | jq -r '[.mediaType] + [.manifests[].mediaType] | join(" ")')"

# an oci-archive: source next to a registry one
DESC="build linux/arm64 into an oci-archive" \
	run_expect 0 '' ims build "$W/ctx/image.yaml" --platform linux/arm64 --output "oci-archive:$W/arm.tar:x" --progress quiet
DESC="index create from oci-archive: and registry sources" \
	run_expect 0 '' ims index create "oci:$W/LA:multi" "$R/app:amd64" "oci-archive:$W/arm.tar:x"
check_digest "oci-archive source: the same index" "$MULTI" "$(raw_digest "oci:$W/LA:multi")"

# --- 3. hostile -------------------------------------------------------------
# tags_of REPO: the repository's tags, sorted, one line ("" when none).
tags_of() {
	skopeo list-tags --tls-verify=false "docker://$R/$1" 2>/dev/null | jq -r '.Tags | sort | join(" ")'
}
# tree_sum DIR: every file's path and sha256, for "left exactly as it was".
tree_sum() {
	(cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
}
BEFORE_TAGS=$(tags_of app)

DESC="index create: two sources of one platform" \
	run_expect 2 "platform .linux/amd64. is given twice: by .$R/app:amd64. and by .$R/app:multi." \
	ims index create "$R/app:dup" "$R/app:amd64" "$R/app:multi"
DESC="index create: a missing source" \
	run_expect 1 "source .$R/app:nope." ims index create "$R/app:miss" "$R/app:amd64" "$R/app:nope"
check_eq "neither failure pushed a tag" "$BEFORE_TAGS" "$(tags_of app)"

DESC="index create: oci: sources that do not exist" \
	run_expect 1 "source .oci:$W/nope:x." ims index create "oci:$W/N:x" "oci:$W/nope:x"
check "no layout was made" test ! -e "$W/N"
SUM=$(tree_sum "$W/L")
DESC="index append to oci:DIR: a missing source" \
	run_expect 1 "source .$R/app:nope." ims index append "oci:$W/L:multi" "$R/app:nope"
DESC="index append to oci:DIR: duplicate platforms" \
	run_expect 2 "given twice" ims index append "oci:$W/L:multi" "$R/app:arm64" "$R/app:arm64"
check_eq "the oci: layout is byte for byte as it was" "$SUM" "$(tree_sum "$W/L")"
# a source whose new layer is damaged fails mid-copy: index.json (the names)
# is untouched; blobs copied before the failure may stay (content-addressed)
echo "another arm64" >"$W/ctx/arch/arm64/hello"
DESC="build an arm64 image the layout lacks, to damage" \
	run_expect 0 '' ims build "$W/ctx/image.yaml" --platform linux/arm64 --output "oci:$W/s-bad:x" --progress quiet
echo "hello from arm64" >"$W/ctx/arch/arm64/hello"
BAD_LAYER=$(skopeo inspect --raw "oci:$W/s-bad:x" | jq -r '.layers[-1].digest')
check "the damaged layer is one the layout lacks" test ! -e "$W/L/blobs/sha256/${BAD_LAYER#sha256:}"
printf 'x' >>"$W/s-bad/blobs/sha256/${BAD_LAYER#sha256:}"
IDX_BEFORE=$(sha256sum <"$W/L/index.json")
DESC="index append from a damaged source: a digest mismatch, exit 1" \
	run_expect 1 "$BAD_LAYER" ims index append "oci:$W/L:multi" "oci:$W/s-bad:x"
check_eq "index.json of the oci: layout is as it was" "$IDX_BEFORE" "$(sha256sum <"$W/L/index.json")"
check_digest "the layout's tag still names the old index" "$MULTI" "$(raw_digest "oci:$W/L:multi")"
check "the damaged layer did not go into the layout" test ! -e "$W/L/blobs/sha256/${BAD_LAYER#sha256:}"
DESC="index create: a docker-archive destination is not supported yet" \
	run_expect 2 "not supported yet" ims index create "docker-archive:$W/a.tar" "$R/app:amd64"
check "no archive was written" test ! -e "$W/a.tar"
DESC="index append to a repository without an index" \
	run_expect 1 "index create" ims index append "$R/fresh:x" "$R/app:amd64"
DESC="index append to a single image: refused with a hint" \
	run_expect 2 "is a single image, not an index" ims index append "$R/app:amd64" "$R/app:arm64"
DESC="index without sources" run_expect 2 "at least one source" ims index create "$R/app:none"
DESC="index create: a docker-archive source is refused" \
	run_expect 2 "index sources are registry, oci: and oci-archive: references" \
	ims index create "$R/app:da" "docker-archive:$W/x.tar"
DESC="index: neither create nor append" run_expect 2 "say .create. or .append." ims index make "$R/app:x" "$R/app:amd64"
check_eq "no usage error pushed a tag" "$BEFORE_TAGS" "$(tags_of app)"

# spec problems: FILE:LINE:COL, exit 2, nothing pushed
bad_spec() { # bad_spec DESC ERE FILES-LINE
	printf 'base: scratch\ntarget: %s\nplatforms: [linux/amd64, linux/arm64]\nfiles:\n  - %s\n' \
		"$R/bad:x" "$3" >"$W/ctx/bad.yaml"
	DESC=$1 run_expect 2 "$2" ims build "$W/ctx/bad.yaml" --progress quiet
}
bad_spec "an unknown \${platform.x}" 'bad\.yaml:5:11: unknown platform value `\$\{platform\.arc\}`; did you mean `\$\{platform\.arch\}`' \
	'{src: "arch/${platform.arc}/hello", dest: /hello}'
bad_spec "\${platform.*} in dest" 'bad\.yaml:5:[0-9]+: `\$\{platform\.os\}` is only allowed in `src`, `archive` and `url`' \
	'{src: arch, dest: "/${platform.os}"}'
bad_spec "a src that leaves the context around \${platform.arch}" "bad\.yaml:5:11: .src. .\.\./\\\$\{platform\.arch\}. leaves the spec.s directory" \
	'{src: "../${platform.arch}", dest: /x}'
bad_spec "\${platform.arch} with a default" 'takes no default' '{src: "${platform.arch:-amd64}", dest: /x}'
check_eq "no spec failure pushed anything" "" "$(tags_of bad)"

rm "$W/ctx/arch/arm64/hello"
DESC="a src missing for one platform names it" \
	run_expect 1 'image\.yaml:13:[0-9]+: `src` `arch/\$\{platform\.arch\}/hello` is `arch/arm64/hello` for platform `linux/arm64`, which does not exist' \
	ims build "$W/ctx/image.yaml" --target "$R/app:missing" --progress quiet
check_eq "nothing pushed for it" "$BEFORE_TAGS" "$(tags_of app)"
DESC="the same spec still builds linux/amd64 alone" \
	run_expect 0 '' ims build "$W/ctx/image.yaml" --platform linux/amd64 --output "oci:$W/A:x" --progress quiet

done_testing
