#!/usr/bin/env bash
# Builds on a base in a plain-HTTP loopback registry (Debian's
# docker-registry) and pushes to it: the printed digest, what skopeo and
# umoci read back, a chroot run, the --json actions (uploaded, mounted,
# skipped) against the registry's own access log, a rebuild that uploads
# nothing, sync.ignoreExists, -t, a second registry, inspect/copy/tags on
# docker:// refs, a base pinned by digest, platforms: [all] on an index
# base (the index pushed after its manifests), and format: inherit from a
# Docker-typed base into an oci: layout and into the registry.
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/fixture.sh"
need_root
need skopeo umoci jq curl openssl htpasswd sha256sum docker-registry
[ -x /usr/bin/docker-registry ] || need /usr/bin/docker-registry

registry_start REG || bail "cannot start docker-registry"
seed_base "$REG_ADDR" base/busybox:1 || bail "cannot seed the busybox base"
BASE_DIGEST=$(skopeo_raw_digest "$REG_ADDR/base/busybox:1") || bail "skopeo cannot read the seeded base"
BASE_LAYERS=$(skopeo inspect --raw --tls-verify=false "docker://$REG_ADDR/base/busybox:1" | jq -r '.layers[].digest')
NBASE=$(printf '%s\n' "$BASE_LAYERS" | grep -c .)
diag "registry on $REG_ADDR (pid $REG_PID), base $BASE_DIGEST with $NBASE layer(s)"

W=$TMP/w
mkdir -p "$W/app"
printf 'hello from the registry test\n' >"$W/app/greeting.txt"
cat >"$W/image.yaml" <<EOF
base: $REG_ADDR/base/busybox:1
target: $REG_ADDR/team/app:1
created: "2026-01-01T00:00:00Z"
files:
  - src: ./app/
    dest: /app/
  - dest: /etc/motd
    content: "pushed by imagespec\n"
workingDir: /app
cmd: ["/bin/cat", "/app/greeting.txt", "/etc/motd"]
labels: {org.opencontainers.image.title: registry-http}
EOF
EXPECTED_RUN=$'hello from the registry test\npushed by imagespec'

# --- first push: --json ------------------------------------------------------
M0=$(registry_log_mark REG)
DESC="build --json: base and target on one plain-HTTP loopback registry" \
	run_expect 0 '' ims build "$W/image.yaml" --json --progress quiet
cp "$RUN_OUT" "$TMP/first.json"
J=$TMP/first.json
D=$(jq -r .digest "$J" 2>/dev/null)
check_match "--json: digest is a sha256" '^sha256:[0-9a-f]{64}$' "$D"
check_eq "--json: references = the target" "$REG_ADDR/team/app:1" "$(jq -r '.references | join(" ")' "$J" 2>/dev/null)"
check_digest "--json digest = sha256 of the manifest skopeo reads" "$D" "$(skopeo_raw_digest "$REG_ADDR/team/app:1")"
check_eq "--json: size = the manifest's bytes" \
	"$(skopeo inspect --raw --tls-verify=false "docker://$REG_ADDR/team/app:1" | wc -c)" "$(jq -r .size "$J" 2>/dev/null)"
MANIFEST=$(skopeo inspect --raw --tls-verify=false "docker://$REG_ADDR/team/app:1")
check_eq "manifest: the base's layers, then one new layer" "$((NBASE + 1))" "$(jq '.layers | length' <<<"$MANIFEST")"
check_eq "manifest: starts with the base's layers" "$BASE_LAYERS" \
	"$(jq -r ".layers[:$NBASE][].digest" <<<"$MANIFEST")"
NEW_LAYER=$(jq -r '.layers[-1].digest' <<<"$MANIFEST")
check_eq "--json: layers as in the manifest" "$(jq -r '.layers[].digest' <<<"$MANIFEST")" \
	"$(jq -r '.manifests[0].layers[].digest' "$J" 2>/dev/null)"
check_eq "--json: the new layer was uploaded" uploaded \
	"$(jq -r --arg d "$NEW_LAYER" '.manifests[0].layers[] | select(.digest == $d) | .action' "$J" 2>/dev/null)"
check_jq "--json: the base's layers were mounted or skipped (never uploaded)" \
	'[.manifests[0].layers[:$n][] | .action] | length == $n and all(IN("mounted", "skipped"))' "$J" --argjson n "$NBASE"
NUP=$(jq '[.manifests[].layers[] | select(.action == "uploaded")] | length' "$J" 2>/dev/null)
NMOUNT=$(jq '[.manifests[].layers[] | select(.action == "mounted")] | length' "$J" 2>/dev/null)
LOG1=$(registry_log_since REG "$M0")
check_eq "registry log: blob uploads = uploaded layers + the config" "$((NUP + 1))" \
	"$(registry_blob_puts REG "$M0" team/app)"
check_eq "registry log: cross-repository mounts from base/busybox (201) = mounted layers" "$NMOUNT" \
	"$(grep -Ec '"POST /v2/team/app/blobs/uploads/\?[^ ]*mount=sha256[^ ]* HTTP/[0-9.]+" 201 ' <<<"$LOG1")"
check_eq "registry log: nothing written to the base's repository" 0 \
	"$(grep -Ec '"(PUT|PATCH|POST|DELETE) /v2/base/' <<<"$LOG1")"
check_eq "registry log: one manifest PUT to the tag (a PUT by digest may come first)" "1 0" \
	"$(grep -Ec '"PUT /v2/team/app/manifests/1 ' <<<"$LOG1") $(grep -E '"PUT /v2/team/app/manifests/' <<<"$LOG1" | grep -Evc "manifests/(1|$D) ")"
check "registry log: the manifest PUT comes after every blob PUT and mount" "$PY" - "$REG_LOG" "$M0" <<'EOF'
import re, sys
lines = open(sys.argv[1]).read().splitlines()[int(sys.argv[2]):]
m = [i for i, l in enumerate(lines) if re.search(r'"PUT /v2/team/app/manifests/', l)]
b = [i for i, l in enumerate(lines) if re.search(r'"(PUT|POST|PATCH) /v2/team/app/blobs/uploads/', l)]
assert m and b, (m, b)
assert min(m) > max(b), (m, b)
EOF
check_eq "the image runs: skopeo copy, umoci unpack, chroot" "$EXPECTED_RUN" "$(pull_and_run "$REG_ADDR/team/app:1")"
CONFIG=$(skopeo inspect --config --tls-verify=false "docker://$REG_ADDR/team/app:1")
check_eq "config: Cmd" '["/bin/cat","/app/greeting.txt","/etc/motd"]' "$(jq -c .config.Cmd <<<"$CONFIG")"
check_eq "config: WorkingDir" /app "$(jq -r .config.WorkingDir <<<"$CONFIG")"
check_eq "config: the base's label kept and ours added" "imagespec examples|registry-http" \
	"$(jq -r '.config.Labels | "\(.["org.opencontainers.image.vendor"])|\(.["org.opencontainers.image.title"])"' <<<"$CONFIG")"
check_eq "config: the base's PATH kept" /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	"$(jq -r '.config.Env[] | select(startswith("PATH=")) | sub("^PATH="; "")' <<<"$CONFIG")"

# --- the same build, plain output, nothing changed ----------------------------
M1=$(registry_log_mark REG)
DESC="rebuild with nothing changed (plain output, --metadata-out)" \
	run_expect 0 '' ims build "$W/image.yaml" --metadata-out "$TMP/second.json" --progress quiet
check_eq "build prints REF@sha256:DIGEST (the target and the same digest)" "$REG_ADDR/team/app:1@$D" \
	"$(tail -n 1 "$RUN_OUT")"
check_jq "rebuild: every layer skipped" '[.manifests[].layers[].action] | length > 0 and all(. == "skipped")' \
	"$TMP/second.json"
check_eq "rebuild: the registry saw no blob upload" 0 "$(registry_blob_puts REG "$M1")"
check_eq "rebuild: no upload session opened either" 0 "$(registry_requests REG "$M1" '"(POST|PATCH) /v2/[^ ]*/blobs/uploads/')"
check_digest "rebuild: the tag still names the same manifest" "$D" "$(skopeo_raw_digest "$REG_ADDR/team/app:1")"

# --- sync.ignoreExists: true uploads what is there ---------------------------------
{ cat "$W/image.yaml"; echo "sync: {ignoreExists: true}"; } >"$W/ignore.yaml"
M1b=$(registry_log_mark REG)
DESC="sync: {ignoreExists: true}, nothing changed" \
	run_expect 0 '' ims build "$W/ignore.yaml" --json --progress quiet
check_digest "ignoreExists: same digest" "$D" "$(jq -r .digest "$RUN_OUT" 2>/dev/null)"
check_jq "ignoreExists: no layer skipped" '[.manifests[].layers[].action] | length > 0 and all(. != "skipped")' "$RUN_OUT"
check_eq "ignoreExists: the new layer uploaded again" uploaded \
	"$(jq -r --arg d "$NEW_LAYER" '.manifests[0].layers[] | select(.digest == $d) | .action' "$RUN_OUT" 2>/dev/null)"
N=$(registry_blob_puts REG "$M1b" team/app)
check "ignoreExists: every blob went up again, the base's too ($N blob PUTs: $NBASE base layer(s), the new layer, the config)" test "$N" -ge $((NBASE + 2))

# --- docker:// prefix, -t --------------------------------------------------------
DESC="--target docker://REF and -t extra -t extra2" \
	run_expect 0 '' ims build "$W/image.yaml" --target "docker://$REG_ADDR/team/app:2" -t extra -t extra2 \
	--json --progress quiet
check_eq "--json references: the target and its tags" \
	"$REG_ADDR/team/app:2 $REG_ADDR/team/app:extra $REG_ADDR/team/app:extra2" \
	"$(jq -r '.references | join(" ")' "$RUN_OUT" 2>/dev/null)"
check_eq "skopeo list-tags: 1 2 extra extra2" "1 2 extra extra2" \
	"$(skopeo list-tags --tls-verify=false "docker://$REG_ADDR/team/app" | jq -r '.Tags | sort | join(" ")')"
for t in 2 extra extra2; do
	check_digest "tag $t names the same manifest" "$D" "$(skopeo_raw_digest "$REG_ADDR/team/app:$t")"
done

# --- a second registry: the base's blobs are copied across ---------------------
registry_start REG2 || bail "cannot start a second registry"
M2=$(registry_log_mark REG2)
DESC="build onto a second registry (--target)" \
	run_expect 0 '' ims build "$W/image.yaml" --target "$REG2_ADDR/team/app:1" --json --progress quiet
cp "$RUN_OUT" "$TMP/cross.json"
check_digest "second registry: same digest as on the first" "$D" "$(jq -r .digest "$TMP/cross.json" 2>/dev/null)"
check_digest "second registry: skopeo reads that digest" "$D" "$(skopeo_raw_digest "$REG2_ADDR/team/app:1")"
check_jq "second registry: every layer uploaded (the base's too)" \
	'[.manifests[].layers[].action] | length > 0 and all(. == "uploaded")' "$TMP/cross.json"
check_eq "second registry's log: one blob upload per layer + the config" "$((NBASE + 2))" \
	"$(registry_blob_puts REG2 "$M2" team/app)"
check_eq "second registry: the image runs" "$EXPECTED_RUN" "$(pull_and_run "$REG2_ADDR/team/app:1")"

# --- inspect ---------------------------------------------------------------------
DESC="imagespec inspect docker://REF" run_expect 0 '' ims inspect "docker://$REG_ADDR/team/app:1"
check_digest "inspect: digest" "$D" "$(jq -r .digest "$RUN_OUT" 2>/dev/null)"
DESC="imagespec inspect REF (no prefix) --raw" run_expect 0 '' ims inspect "$REG_ADDR/team/app:1" --raw
check_digest "inspect --raw: the manifest byte for byte" "$D" "sha256:$(sha256sum <"$RUN_OUT" | cut -d' ' -f1)"
DESC="imagespec inspect --config" run_expect 0 '' ims inspect "docker://$REG_ADDR/team/app:1" --config
check_eq "inspect --config: Cmd as skopeo reads it" "$(jq -c .config.Cmd <<<"$CONFIG")" \
	"$(jq -c .config.Cmd "$RUN_OUT" 2>/dev/null)"
DESC="imagespec inspect of a missing tag fails" run_expect 1 'nope' ims inspect "docker://$REG_ADDR/team/app:nope"

# --- copy --------------------------------------------------------------------------
M3=$(registry_log_mark REG)
DESC="imagespec copy registry -> registry (same registry, another repository)" \
	run_expect 0 '' ims copy "docker://$REG_ADDR/team/app:1" "docker://$REG_ADDR/other/copy:1"
check_digest "copy: skopeo reads the same digest" "$D" "$(skopeo_raw_digest "$REG_ADDR/other/copy:1")"
N=$(registry_blob_puts REG "$M3" other/copy)
check "copy on one registry: no layer uploaded (at most the config: $N)" test "$N" -le 1
check_eq "copy on one registry: every layer mounted (201)" "$((NBASE + 1))" \
	"$(registry_requests REG "$M3" '"POST /v2/other/copy/blobs/uploads/\?[^ ]*mount=sha256[^ ]* HTTP/[0-9.]+" 201 ' |
		awk -v n="$((NBASE + 1))" '{ print ($1 >= n) ? n : $1 }')"
DESC="imagespec copy registry -> registry (across registries)" \
	run_expect 0 '' ims copy "docker://$REG_ADDR/team/app:1" "docker://$REG2_ADDR/other/copy:1"
check_digest "cross copy: skopeo reads the same digest" "$D" "$(skopeo_raw_digest "$REG2_ADDR/other/copy:1")"
check_eq "cross copy: the image runs" "$EXPECTED_RUN" "$(pull_and_run "$REG2_ADDR/other/copy:1")"
DESC="imagespec copy registry -> oci: layout" \
	run_expect 0 '' ims copy "docker://$REG_ADDR/team/app:1" "oci:$TMP/copied:x"
check_digest "copied layout: skopeo reads the same digest" "$D" "$(raw_digest "oci:$TMP/copied:x")"
check_eq "copied layout: umoci unpack + chroot run" "$EXPECTED_RUN" "$(layout_run "$TMP/copied:x")"
DESC="imagespec copy oci: layout -> registry" \
	run_expect 0 '' ims copy "oci:$TMP/copied:x" "docker://$REG2_ADDR/from/oci:1"
check_digest "oci -> registry: skopeo reads the same digest" "$D" "$(skopeo_raw_digest "$REG2_ADDR/from/oci:1")"
check_eq "oci -> registry: the image runs" "$EXPECTED_RUN" "$(pull_and_run "$REG2_ADDR/from/oci:1")"

# --- tags --------------------------------------------------------------------------
MT=$(registry_log_mark REG)
DESC="imagespec tags HOST:PORT/team/app" run_expect 0 '' ims tags "$REG_ADDR/team/app"
check_eq "tags: the four tags, one per line" "1 2 extra extra2" "$(sort "$RUN_OUT" | tr '\n' ' ' | sed 's/ $//')"
# The list is the first request: it decides http or https itself.
check_eq "tags: one GET of the list" 1 "$(registry_requests REG "$MT" '"GET /v2/team/app/tags/list')"
check_eq "tags: no GET /v2/ before it" 0 "$(registry_requests REG "$MT" '"GET /v2/ HTTP')"
DESC="imagespec tags docker://HOST:PORT/team/app" run_expect 0 '' ims tags "docker://$REG_ADDR/team/app"
check_eq "tags (docker:// prefix): same list" "1 2 extra extra2" "$(sort "$RUN_OUT" | tr '\n' ' ' | sed 's/ $//')"

# --- pinned base -------------------------------------------------------------------
sed "s#^base: .*#base: $REG_ADDR/base/busybox:1@$BASE_DIGEST#" "$W/image.yaml" >"$W/pinned.yaml"
M4=$(registry_log_mark REG)
DESC="a base pinned by tag@digest" run_expect 0 '' ims build "$W/pinned.yaml" --json --progress quiet
check_digest "pinned base: same digest" "$D" "$(jq -r .digest "$RUN_OUT" 2>/dev/null)"
check_eq "pinned base: never fetched by tag" 0 "$(registry_requests REG "$M4" '"(GET|HEAD) /v2/base/busybox/manifests/1 ')"
check "pinned base: fetched by digest" test "$(registry_requests REG "$M4" "\"GET /v2/base/busybox/manifests/$BASE_DIGEST ")" -ge 1

# --- an offline build of the same spec gives the same digest ----------------------------
DESC="the same spec built into an oci: layout" \
	run_expect 0 '' ims build "$W/image.yaml" --output "oci:$TMP/offline:1" --json --progress quiet
check_digest "oci: output digest = the pushed digest" "$D" "$(jq -r .digest "$RUN_OUT" 2>/dev/null)"

# --- an index base: platforms: [all] pushes an index ---------------------------------
# Two one-layer bases (amd64, arm64/v8) built by imagespec, joined into an
# index by hand (jq, sha256sum) and pushed with skopeo copy --all.
MA=$TMP/multi
mkdir -p "$MA"
cat >"$MA/base.yaml" <<'EOF'
base: scratch
target: oci:out:base
created: "2026-01-01T00:00:00Z"
files:
  - {dest: /etc, type: dir}
  - {dest: /etc/arch, content: "${arch}\n"}
env: {PATH: /bin}
EOF
for a in amd64 arm64; do
	ims build "$MA/base.yaml" -p "arch=$a" --platform "linux/$a" --output "oci:$MA/base-$a:x" --progress quiet \
		>/dev/null 2>&1 || bail "cannot build the $a base"
done
L=$MA/layout
mkdir -p "$L/blobs/sha256"
cp -n "$MA"/base-amd64/blobs/sha256/* "$MA"/base-arm64/blobs/sha256/* "$L/blobs/sha256/"
echo '{"imageLayoutVersion":"1.0.0"}' >"$L/oci-layout"
desc() { jq -c --argjson p "$2" '.manifests[0] | {mediaType, digest, size, platform: $p}' "$1/index.json"; }
jq -cn --argjson a "$(desc "$MA/base-amd64" '{"architecture":"amd64","os":"linux"}')" \
	--argjson b "$(desc "$MA/base-arm64" '{"architecture":"arm64","os":"linux","variant":"v8"}')" \
	'{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [$a, $b]}' >"$MA/index.blob"
IDX=$(sha256sum "$MA/index.blob" | cut -d' ' -f1)
cp "$MA/index.blob" "$L/blobs/sha256/$IDX"
jq -cn --arg d "sha256:$IDX" --argjson s "$(stat -c %s "$MA/index.blob")" \
	'{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
	  manifests: [{mediaType: "application/vnd.oci.image.index.v1+json", digest: $d, size: $s,
	               annotations: {"org.opencontainers.image.ref.name": "multi"}}]}' >"$L/index.json"
skopeo copy -q --all --dest-tls-verify=false "oci:$L:multi" "docker://$REG_ADDR/base/multi:1" >/dev/null 2>&1 ||
	bail "cannot push the index base"
check_digest "the index base is in the registry (fixture sanity)" "sha256:$IDX" "$(skopeo_raw_digest "$REG_ADDR/base/multi:1")"
cat >"$MA/image.yaml" <<EOF
base: $REG_ADDR/base/multi:1
target: $REG_ADDR/team/multi:1
platforms: [all]
created: "2026-01-01T00:00:00Z"
files:
  - {dest: /added.txt, content: "the same on every platform\n"}
cmd: ["/bin/true"]
EOF
M5=$(registry_log_mark REG)
DESC="platforms: [all] on an index base in the registry" \
	run_expect 0 '' ims build "$MA/image.yaml" --json --progress quiet
cp "$RUN_OUT" "$TMP/multi.json"
MD=$(jq -r .digest "$TMP/multi.json" 2>/dev/null)
check_digest "multi: the printed digest is the index skopeo reads" "$MD" "$(skopeo_raw_digest "$REG_ADDR/team/multi:1")"
MRAW=$(skopeo inspect --raw --tls-verify=false "docker://$REG_ADDR/team/multi:1" 2>/dev/null)
check_eq "multi: an OCI index with amd64 and arm64/v8" "application/vnd.oci.image.index.v1+json amd64 arm64/v8" \
	"$(jq -r '"\(.mediaType) \([.manifests[].platform | .architecture + (if .variant then "/" + .variant else "" end)] | join(" "))"' <<<"$MRAW")"
for i in 0 1; do
	PD=$(jq -r ".manifests[$i].digest" <<<"$MRAW")
	check_digest "multi: platform manifest $i resolves by digest" "$PD" "$(skopeo_raw_digest "$REG_ADDR/team/multi@$PD")"
done
check_eq "multi: the arm64 image's config says arm64" arm64 \
	"$(skopeo inspect --config --tls-verify=false --override-arch arm64 --override-variant v8 "docker://$REG_ADDR/team/multi:1" 2>/dev/null | jq -r .architecture)"
check "multi: the index PUT comes after both platform manifests" "$PY" - "$REG_LOG" "$M5" <<'EOF'
import re, sys
lines = open(sys.argv[1]).read().splitlines()[int(sys.argv[2]):]
puts = [l for l in lines if re.search(r'"PUT /v2/team/multi/manifests/', l)]
assert len(puts) >= 3, puts
assert re.search(r'manifests/1 ', puts[-1]), puts[-1]
assert all(re.search(r'manifests/sha256:', p) for p in puts[:-1]), puts
EOF
DESC="the same spec into an oci: layout gives the same index digest" \
	run_expect 0 '' ims build "$MA/image.yaml" --output "oci:$TMP/multi-oci:1" --json --progress quiet
check_digest "multi: oci: digest = pushed digest" "$MD" "$(jq -r .digest "$RUN_OUT" 2>/dev/null)"
DESC="imagespec copy of an index, registry -> registry" \
	run_expect 0 '' ims copy "docker://$REG_ADDR/base/multi:1" "docker://$REG_ADDR/other/multi:1"
check_digest "index copy: the same index, byte for byte" "sha256:$IDX" "$(skopeo_raw_digest "$REG_ADDR/other/multi:1")"
DESC="imagespec copy of an index, oci: layout -> registry" \
	run_expect 0 '' ims copy "oci:$L:multi" "docker://$REG2_ADDR/other/multi:1"
check_digest "index copy from a layout: the same index" "sha256:$IDX" "$(skopeo_raw_digest "$REG2_ADDR/other/multi:1")"

# --- format: inherit from a Docker-typed registry base into oci: ----------------
# skopeo copy --format v2s2 seeds the base with Docker media types. Into a
# registry they are kept; into an OCI layout they become OCI types (skopeo
# 1.9 and umoci 0.4.7 cannot read Docker types from a layout), with the
# same layer blobs.
seed_base "$REG_ADDR" base/busybox-v2s2:1 --format v2s2 || bail "cannot seed the Docker-typed base"
check_eq "v2s2 base: skopeo says Docker schema 2" "application/vnd.docker.distribution.manifest.v2+json" \
	"$(skopeo inspect --raw --tls-verify=false "docker://$REG_ADDR/base/busybox-v2s2:1" | jq -r .mediaType)"
mkdir -p "$W/v2s2"
cat >"$W/v2s2/image.yaml" <<EOF
base: $REG_ADDR/base/busybox-v2s2:1
target: $REG_ADDR/team/v2s2:1
created: 0
files:
  - {dest: /etc/motd, content: "from a docker base\n"}
cmd: ["/bin/cat", "/etc/motd"]
EOF
DESC="v2s2 base, format inherit, --output oci:" \
	run_expect 0 '' ims build "$W/v2s2/image.yaml" --output "oci:$TMP/v2s2-oci:1" --progress plain
check_match "... says the types become OCI" 'the base has Docker media types; `format: inherit` writes OCI ones into an OCI layout' "$RUN_STDERR"
V2RAW=$(skopeo inspect --raw "oci:$TMP/v2s2-oci:1")
check_eq "... skopeo reads OCI manifest, config and layer types" \
	"application/vnd.oci.image.manifest.v1+json application/vnd.oci.image.config.v1+json application/vnd.oci.image.layer.v1.tar+gzip" \
	"$(jq -r '[.mediaType, .config.mediaType, (.layers | map(.mediaType) | unique | join(" "))] | join(" ")' <<<"$V2RAW")"
check_eq "... the base's layer blobs are the same" \
	"$(skopeo inspect --raw --tls-verify=false "docker://$REG_ADDR/base/busybox-v2s2:1" | jq -c '[.layers[].digest]')" \
	"$(jq -c '[.layers[:-1][].digest]' <<<"$V2RAW")"
check_eq "... umoci unpacks it and it runs" "from a docker base" "$(layout_run "$TMP/v2s2-oci:1")"
DESC="v2s2 base, format inherit, pushed" \
	run_expect 0 '' ims build "$W/v2s2/image.yaml" --progress plain
check_nomatch "... no conversion said" 'writes OCI ones' "$RUN_STDERR"
check_eq "... the registry gets Docker types, as the base has" "application/vnd.docker.distribution.manifest.v2+json" \
	"$(skopeo inspect --raw --tls-verify=false "docker://$REG_ADDR/team/v2s2:1" | jq -r .mediaType)"
check_eq "... and it runs" "from a docker base" "$(pull_and_run "$REG_ADDR/team/v2s2:1")"


check_eq "registry still running (no crash)" 0 "$(kill -0 "$REG_PID" 2>/dev/null; echo $?)"
done_testing
