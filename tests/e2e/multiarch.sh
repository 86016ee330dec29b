#!/usr/bin/env bash
# Multi-platform: a base index with linux/amd64 and linux/arm64/v8 (built by
# imagespec per platform, then joined by hand with jq and sha256sum, as an
# independent writer), and images built on it with platforms: [all], with
# --platform, and with platforms: [linux/arm64].
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need skopeo jq sha256sum

W=$TMP/w
mkdir -p "$W"
cat >"$W/base.yaml" <<'EOF'
base: scratch
target: oci:out:base
created: "2026-01-01T00:00:00Z"
files:
  - {dest: /etc, type: dir}
  - {dest: /etc/arch, content: "${arch}\n"}   # so the two base layers differ
env: {PATH: /bin}
EOF
for a in amd64 arm64; do
	DESC="build the $a base with --platform linux/$a" \
		run_expect 0 '' ims build "$W/base.yaml" -p "arch=$a" --platform "linux/$a" --output "oci:$W/base-$a:x" --progress quiet
	check_eq "the $a base: config architecture" "$a" \
		"$(skopeo inspect --config "oci:$W/base-$a:x" | jq -r .architecture)"
	check_eq "the $a base: a plain manifest" "application/vnd.oci.image.manifest.v1+json" \
		"$(skopeo inspect --raw "oci:$W/base-$a:x" | jq -r .mediaType)"
done

# Join them into one layout whose index.json names an image index.
M=$W/multi
mkdir -p "$M/blobs/sha256"
cp -n "$W"/base-amd64/blobs/sha256/* "$W"/base-arm64/blobs/sha256/* "$M/blobs/sha256/"
echo '{"imageLayoutVersion":"1.0.0"}' >"$M/oci-layout"
desc() { # desc LAYOUT PLATFORM-JSON
	jq -c --argjson p "$2" '.manifests[0] | {mediaType, digest, size, platform: $p}' "$1/index.json"
}
jq -cn --argjson a "$(desc "$W/base-amd64" '{"architecture":"amd64","os":"linux"}')" \
	--argjson b "$(desc "$W/base-arm64" '{"architecture":"arm64","os":"linux","variant":"v8"}')" \
	'{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [$a, $b]}' >"$W/index.blob"
IDX=$(sha256sum "$W/index.blob" | cut -d' ' -f1)
cp "$W/index.blob" "$M/blobs/sha256/$IDX"
jq -cn --arg d "sha256:$IDX" --argjson s "$(stat -c %s "$W/index.blob")" \
	'{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
	  manifests: [{mediaType: "application/vnd.oci.image.index.v1+json", digest: $d, size: $s,
	               annotations: {"org.opencontainers.image.ref.name": "multi"}}]}' >"$M/index.json"
check_eq "skopeo reads the hand-made index (arm64 instance)" arm64 \
	"$(skopeo inspect --override-arch arm64 --override-variant v8 "oci:$M:multi" | jq -r .Architecture)"

# --- platforms: [all] --------------------------------------------------------
cat >"$W/image.yaml" <<'EOF'
base: oci:multi:multi
target: oci:out:all
platforms: [all]
created: "2026-01-01T00:00:00Z"
files:
  - {dest: /added.txt, content: "the same on every platform\n"}
env:
  PATH: "/opt/bin:${base:PATH}"
cmd: ["/bin/true"]
EOF
DESC="build platforms: [all] on the index" \
	run_expect 0 '' ims build "$W/image.yaml" --output "oci:$W/O:x" --progress quiet
DALL=$(digest_of_output "$RUN_OUT")
OIDX=$(skopeo inspect --raw "oci:$W/O:x" 2>&1)
check_eq "the output is an OCI image index" "application/vnd.oci.image.index.v1+json" "$(jq -r .mediaType <<<"$OIDX")"
check_eq "the printed digest is the index's" "$DALL" "$(raw_digest "oci:$W/O:x")"
# (The base index says linux/arm64/v8 while that image's config has no
# variant; imagespec currently writes the config's platform, linux/arm64.)
check_eq "the index has linux/amd64 and linux/arm64" "linux/amd64 linux/arm64" \
	"$(jq -r '[.manifests[].platform | "\(.os)/\(.architecture)"] | sort | join(" ")' <<<"$OIDX")"
child() { # child ARCH: the manifest of that platform, read by digest from the blobs
	local d
	d=$(jq -r --arg a "$1" '.manifests[] | select(.platform.architecture == $a) | .digest' <<<"$OIDX")
	cat "$W/O/blobs/sha256/${d#sha256:}"
}
MA=$(child amd64)
MB=$(child arm64)
check_eq "both platforms: the added layer is the same blob" "$(jq -r '.layers[-1].digest' <<<"$MA")" \
	"$(jq -r '.layers[-1].digest' <<<"$MB")"
check_eq "the base layers stay per platform" \
	"$(skopeo inspect --raw "oci:$W/base-amd64:x" | jq -r '.layers[0].digest') $(skopeo inspect --raw "oci:$W/base-arm64:x" | jq -r '.layers[0].digest')" \
	"$(jq -r '.layers[0].digest' <<<"$MA") $(jq -r '.layers[0].digest' <<<"$MB")"
for a in amd64 arm64; do
	check_eq "$a: config architecture" "$a" \
		"$(skopeo inspect --override-arch "$a" --config "oci:$W/O:x" | jq -r .architecture)"
	check_eq "$a: \${base:PATH} resolved per platform" "PATH=/opt/bin:/bin" \
		"$(skopeo inspect --override-arch "$a" --config "oci:$W/O:x" | jq -r '.config.Env[] | select(startswith("PATH="))')"
done

# --- one platform --------------------------------------------------------------
DESC="build --platform linux/arm64 alone" \
	run_expect 0 '' ims build "$W/image.yaml" --platform linux/arm64 --output "oci:$W/A:x" --progress quiet
DARM=$(digest_of_output "$RUN_OUT")
RAW=$(skopeo inspect --raw "oci:$W/A:x" 2>&1)
check_eq "one platform gives a plain manifest" "application/vnd.oci.image.manifest.v1+json" "$(jq -r .mediaType <<<"$RAW")"
check_eq "linux/arm64 matched the base's linux/arm64/v8: same manifest as in the index" \
	"$(jq -r '.manifests[] | select(.platform.architecture == "arm64") | .digest' <<<"$OIDX")" "$DARM"
check_eq "its config says arm64" arm64 "$(skopeo inspect --config "oci:$W/A:x" | jq -r .architecture)"

sed 's/^platforms: .*/platforms: [linux\/arm64]/' "$W/image.yaml" >"$W/arm.yaml"
DESC="build platforms: [linux/arm64] in the spec" \
	run_expect 0 '' ims build "$W/arm.yaml" --output "oci:$W/A2:x" --progress quiet
check_eq "platforms: [linux/arm64] = --platform linux/arm64" "$DARM" "$(digest_of_output "$RUN_OUT")"

DESC="build --platform linux/amd64 --platform linux/arm64" \
	run_expect 0 '' ims build "$W/image.yaml" --platform linux/amd64 --platform linux/arm64 --output "oci:$W/AB:x" --progress quiet
check_eq "two --platform flags = platforms: [all] here" "$DALL" "$(digest_of_output "$RUN_OUT")"

DESC="a platform the base lacks: fails" \
	run_expect 1 's390x' ims build "$W/image.yaml" --platform linux/s390x --output "oci:$W/none:x" --progress quiet
check "a platform the base lacks: nothing written" test ! -e "$W/none"

# --- inspect and copy on an index ---------------------------------------------
DESC="inspect --platform linux/arm64 --config on the index" \
	run_expect 0 '' ims inspect "oci:$W/O:x" --platform linux/arm64 --config
check_eq "inspect --platform picks arm64" arm64 "$(jq -r .architecture "$RUN_OUT" 2>&1)"
DESC="copy --platform all keeps the index" \
	run_expect 0 '' ims copy "oci:$W/O:x" "oci:$W/C:y" --platform all
check_eq "copy --platform all: same index digest" "$DALL" "$(raw_digest "oci:$W/C:y")"
DESC="copy --platform linux/amd64 picks one manifest" \
	run_expect 0 '' ims copy "oci:$W/O:x" "oci:$W/C1:y" --platform linux/amd64
check_eq "copy --platform linux/amd64: the amd64 manifest" \
	"$(jq -r '.manifests[] | select(.platform.architecture == "amd64") | .digest' <<<"$OIDX")" "$(raw_digest "oci:$W/C1:y")"

# --- ${platform.*} with platforms: [all]: the values come from the base index
mkdir -p "$W/files"
echo "file for amd64" >"$W/files/amd64-"
echo "file for arm64/v8" >"$W/files/arm64-v8"
cat >"$W/pv.yaml" <<'EOF'
base: oci:multi:multi
target: oci:out:pv
platforms: [all]
created: "2026-01-01T00:00:00Z"
layers:
  - files: [{src: "files/${platform.arch}-${platform.variant}", dest: /which}]
files:
  - {dest: /same.txt, content: "one layer for both\n"}
EOF
DESC="\${platform.arch}-\${platform.variant} with platforms: [all]" \
	run_expect 0 '' ims build "$W/pv.yaml" --output "oci:$W/PV:x" --progress quiet
for a in amd64 arm64; do
	skopeo copy -q --override-arch "$a" "oci:$W/PV:x" "oci:$W/PV-$a:x" >/dev/null 2>&1
	unpack "$W/PV-$a:x" "$W/PV-$a.bundle"
done
check_eq "amd64's variant is empty: files/amd64- (skopeo, umoci)" "file for amd64" "$(cat "$W/PV-amd64.bundle/rootfs/which")"
check_eq "arm64's variant is v8, from the base index: files/arm64-v8" "file for arm64/v8" \
	"$(cat "$W/PV-arm64.bundle/rootfs/which")"
check_eq "the layer without platform values is one blob" \
	"$(skopeo inspect --raw "oci:$W/PV-amd64:x" | jq -r '.layers[-1].digest')" \
	"$(skopeo inspect --raw "oci:$W/PV-arm64:x" | jq -r '.layers[-1].digest')"
check_nomatch "the per-platform layers differ" "^$(skopeo inspect --raw "oci:$W/PV-amd64:x" | jq -r '.layers[-2].digest')\$" \
	"$(skopeo inspect --raw "oci:$W/PV-arm64:x" | jq -r '.layers[-2].digest')"
rm "$W/files/arm64-v8"
DESC="a file missing for one platform of the base index names it" \
	run_expect 1 '`src` `files/\$\{platform.arch\}-\$\{platform.variant\}` is `files/arm64-v8` for platform `linux/arm64(/v8)?`, which does not exist' \
	ims build "$W/pv.yaml" --output "oci:$W/PV2:x" --progress quiet
check "nothing written for it" test ! -e "$W/PV2"

done_testing
