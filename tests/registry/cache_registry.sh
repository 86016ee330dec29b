#!/usr/bin/env bash
# A layer cache shared through the registry: --cache-to writes an artifact
# that maps recipes to layers; a fresh machine (an empty local cache, a
# fresh checkout with other inodes and times) with --cache-from builds no
# layer and uploads none, and gets the same digest. A missing, malformed or
# lying artifact is a warning and the build goes on as if there were none.
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/fixture.sh"
need skopeo jq curl sha256sum
[ -x /usr/bin/docker-registry ] || need /usr/bin/docker-registry

registry_start REG || bail "cannot start docker-registry"
seed_base "$REG_ADDR" base/busybox:1 || bail "cannot seed the base"
CACHE_REF=$REG_ADDR/cache/app:cache
W=$TMP/w
mkdir -p "$W/deps" "$W/src"
for i in $(seq 1 30); do seq 1 2000 | sed "s/^/$i: /" >"$W/deps/d$i.txt"; done
echo 'echo from the cache' >"$W/src/run.sh"
find "$W" -exec touch -h -d @1600000000 {} +
cat >"$W/image.yaml" <<EOF
base: $REG_ADDR/base/busybox:1
target: $REG_ADDR/team/app:1
created: "2026-01-01T00:00:00Z"
layers:
  - files: [{src: ./deps/, dest: /deps/}]
  - files: [{src: ./src/, dest: /src/}]
cmd: ["/bin/sh", "/src/run.sh"]
EOF
built() { # how many layers the last run built
	grep -c 'building layer' "$RUN_ERR"
}
new_layers() { # the digests of the new layers of the last --json run, one a line
	jq -r '.manifests[0].layers[1:][].digest' "$RUN_OUT"
}

# --- the first machine writes the cache -------------------------------------------------------
DESC="a build with --cache-to" run_expect 0 '' "$IMAGESPEC" build "$W/image.yaml" --cache-dir "$TMP/c1" \
	--cache-to "$CACHE_REF" --json
FIRST=$(jq -r .digest "$RUN_OUT")
LAYERS=$(new_layers)
check_match "... says it wrote the cache" "layer cache $CACHE_REF: wrote 2 layers" "$RUN_STDERR"
RAW=$(skopeo inspect --raw --tls-verify=false "docker://$CACHE_REF")
check_eq "the cache artifact: an OCI manifest of imagespec's artifactType" \
	"application/vnd.imagespec.cache.v1 application/vnd.imagespec.cache.config.v1+json" \
	"$(jq -r '"\(.artifactType) \(.config.mediaType)"' <<<"$RAW")"
check_eq "... whose layers are the image's new layers" "$LAYERS" "$(jq -r '.layers[].digest' <<<"$RAW")"
CFG_DIGEST=$(jq -r .config.digest <<<"$RAW")
CFG=$(curl -s "http://$REG_ADDR/v2/cache/app/blobs/$CFG_DIGEST")
check_eq "... and whose config maps two recipes to them" "$LAYERS" "$(jq -r '.layers[].digest' <<<"$CFG")"

# --- a fresh machine: a fresh checkout, an empty cache ---------------------------------------------
cp -r "$W" "$TMP/w2" # new inodes, new ctimes: the stat cache would know nothing anyway
find "$TMP/w2" -exec touch -h -d @1600000000 {} +
sed -i "s#team/app:1#team/fresh:2#" "$TMP/w2/image.yaml"
M=$(registry_log_mark REG)
DESC="a fresh machine with --cache-from" run_expect 0 '' "$IMAGESPEC" build "$TMP/w2/image.yaml" \
	--cache-dir "$TMP/c2" --cache-from "$CACHE_REF" --json -v
check_eq "... builds no layer" 0 "$(built)"
check_match "... asks the target ahead for the layers the cache names, while it hashes" \
	'asking ahead for the 2 layers the layer caches name' "$RUN_STDERR"
check_eq "... and asks for each once (the layer step took the answers)" "1 1" \
	"$(for l in $LAYERS; do registry_requests REG "$M" "\"HEAD /v2/team/fresh/blobs/$l "; done | paste -sd' ')"
check_eq "... uploads no layer (the config is the only blob PUT)" 0 \
	"$(registry_requests REG "$M" "\"PUT /v2/team/fresh/blobs/uploads/[^ ]*digest=($(tr '\n' '|' <<<"$LAYERS" | sed 's/|$//'))")"
check_eq "... the layers were mounted from the cache repository" "mounted mounted" \
	"$(jq -r '[.manifests[0].layers[1:][].action] | join(" ")' "$RUN_OUT")"
check_digest "... the same digest as the first machine's" "$FIRST" "$(jq -r .digest "$RUN_OUT")"
check_digest "... which skopeo reads" "$FIRST" "$(skopeo_raw_digest "$REG_ADDR/team/fresh:2")"
check_eq "... and the image runs" "from the cache" "$(pull_and_run "$REG_ADDR/team/fresh:2")"
# The same machine again: the tag now names the manifest this cache
# directory pushed, and --cache-from names the same layers. The target
# transport asks one list ahead and declines the other, and -v says so
# once, whichever list came first.
DESC="the fresh machine again, --cache-from and its own pushed manifest" run_expect 0 '' "$IMAGESPEC" build \
	"$TMP/w2/image.yaml" --cache-dir "$TMP/c2" --cache-from "$CACHE_REF" --json -v
check_digest "... same digest" "$FIRST" "$(jq -r .digest "$RUN_OUT")"
check_eq "... -v says once that it asks ahead (a second list is not asked)" 1 \
	"$(grep -c 'asking ahead for the' <<<"$RUN_STDERR")"
DESC="the same with --no-cache too (no local cache at all)" run_expect 0 '' "$IMAGESPEC" build \
	"$TMP/w2/image.yaml" --no-cache --cache-from "$CACHE_REF" --json
check_eq "... builds no layer" 0 "$(built)"
check_digest "... same digest" "$FIRST" "$(jq -r .digest "$RUN_OUT")"

# --- into an oci: layout: the layers are copied from the cache repository ----------------------------
DESC="--cache-from into an oci: layout" run_expect 0 '' "$IMAGESPEC" build "$TMP/w2/image.yaml" \
	--no-cache --cache-from "$CACHE_REF" --output "oci:$TMP/layout:1" --json
check_eq "... builds no layer" 0 "$(built)"
check_eq "... the layout has the layers (downloaded, verified)" "$LAYERS" \
	"$(skopeo inspect --raw "oci:$TMP/layout:1" | jq -r '.layers[1:][].digest')"
check_eq "... and runs" "from the cache" "$(layout_run "$TMP/layout:1")"

# --- an edit: only the changed layer is built ------------------------------------------------------------
echo 'echo edited' >"$TMP/w2/src/run.sh"
touch -d @1600000100 "$TMP/w2/src/run.sh"
DESC="one file edited, --cache-from" run_expect 0 '' "$IMAGESPEC" build "$TMP/w2/image.yaml" \
	--no-cache --cache-from "$CACHE_REF" --json
check_eq "... builds one layer" 1 "$(built)"
check_match "... the src layer" 'building layer 2/2' "$RUN_STDERR"

# --- caches that are missing, malformed or lying: warnings, then a normal build ----------------------------
DESC="--cache-from a reference that does not exist" run_expect 0 'warning: the layer cache .* is not used' \
	"$IMAGESPEC" build "$W/image.yaml" --no-cache --cache-from "$REG_ADDR/cache/none:cache" --json
check_eq "... builds every layer" 2 "$(built)"
DESC="--cache-from an ordinary image" run_expect 0 'not an imagespec layer cache' \
	"$IMAGESPEC" build "$W/image.yaml" --no-cache --cache-from "$REG_ADDR/team/app:1" --json
check_eq "... builds every layer" 2 "$(built)"
# push_artifact TAG CONFIG: the cache artifact with another config document.
push_artifact() {
	local cfg=$2 d loc
	d=sha256:$(printf '%s' "$cfg" | sha256sum | cut -d' ' -f1)
	loc=$(curl -s -o /dev/null -D - -X POST "http://$REG_ADDR/v2/cache/app/blobs/uploads/" |
		tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
	case $loc in http*) ;; *) loc=http://$REG_ADDR$loc ;; esac
	curl -s -o /dev/null -X PUT --data-binary "$cfg" -H 'Content-Type: application/octet-stream' \
		"$loc&digest=$d" || return 1
	jq -c --arg d "$d" --argjson n "${#cfg}" '.config.digest = $d | .config.size = $n' <<<"$RAW" >"$TMP/man.json"
	curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary "@$TMP/man.json" \
		-H 'Content-Type: application/vnd.oci.image.manifest.v1+json' "http://$REG_ADDR/v2/cache/app/manifests/$1"
}
check_eq "fixture: a cache artifact with a malformed config is pushed" 201 \
	"$(push_artifact malformed '{"version": 1, "layers": [{"recipe": "nope"}]}')"
DESC="--cache-from a malformed cache" run_expect 0 'layers\[0\]\.recipe is not a digest' \
	"$IMAGESPEC" build "$W/image.yaml" --no-cache --cache-from "$REG_ADDR/cache/app:malformed" --json
check_eq "... builds every layer" 2 "$(built)"
check_digest "... and gives the same image" "$FIRST" "$(jq -r .digest "$RUN_OUT")"
# Entries that name a blob the artifact does not hold are not believed.
LIE=$(jq -c '.layers |= map(.digest = "sha256:" + ("0" * 64))' <<<"$CFG")
check_eq "fixture: a cache artifact whose entries name blobs it does not hold" 201 "$(push_artifact lying "$LIE")"
DESC="--cache-from that cache" run_expect 0 '' \
	"$IMAGESPEC" build "$W/image.yaml" --no-cache --cache-from "$REG_ADDR/cache/app:lying" --json
check_eq "... builds every layer" 2 "$(built)"
check_digest "... and gives the same image" "$FIRST" "$(jq -r .digest "$RUN_OUT")"
DESC="--cache-from a registry that is not there" run_expect 0 'warning: the layer cache' \
	"$IMAGESPEC" build "$W/image.yaml" --no-cache --cache-from "127.0.0.1:$(free_port)/cache/app:cache" --json
check_eq "... builds every layer" 2 "$(built)"
DESC="--cache-from scratch is a usage error" run_expect 2 'registry reference' \
	"$IMAGESPEC" build "$W/image.yaml" --cache-from "oci:$TMP/x"

# --- the spec's cache key does the same ------------------------------------------------------------------------
cat >>"$TMP/w2/image.yaml" <<EOF
cache:
  from: ["$CACHE_REF"]
EOF
echo 'echo from the cache' >"$TMP/w2/src/run.sh"
touch -d @1600000000 "$TMP/w2/src/run.sh"
DESC="cache.from in the spec" run_expect 0 '' "$IMAGESPEC" build "$TMP/w2/image.yaml" --no-cache --json
check_eq "... builds no layer" 0 "$(built)"
check_digest "... same digest" "$FIRST" "$(jq -r .digest "$RUN_OUT")"

done_testing
