#!/usr/bin/env bash
# The layer cache against a real registry: a push of an unchanged image
# builds nothing and uploads no blob (the registry's access log says so);
# an edited file uploads its layer alone; a cached layer that a new
# repository lacks is uploaded from the cache, not rebuilt; every pushed
# image is the one skopeo reads, with the digest of an uncached build.
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/fixture.sh"
need skopeo jq
[ -x /usr/bin/docker-registry ] || need /usr/bin/docker-registry

registry_start REG || bail "cannot start docker-registry"
seed_base "$REG_ADDR" base/busybox:1 || bail "cannot seed the base"
W=$TMP/w
C=$TMP/cache
mkdir -p "$W/deps" "$W/src"
for i in $(seq 1 30); do seq 1 2000 | sed "s/^/$i: /" >"$W/deps/d$i.txt"; done
echo 'echo v1' >"$W/src/run.sh"
find "$W" -exec touch -h -d @1600000000 {} +
spec() { # spec REPO:TAG
	cat >"$W/image.yaml" <<EOF2
base: $REG_ADDR/base/busybox:1
target: $REG_ADDR/$1
created: "2026-01-01T00:00:00Z"
layers:
  - files: [{src: ./deps/, dest: /deps/}]
  - files: [{src: ./src/, dest: /src/}]
cmd: ["/bin/sh", "/src/run.sh"]
EOF2
	echo "$W/image.yaml"
}
push() { # push DESC REPO:TAG [ARGS...]: sets DIGEST, MARK (the log before it)
	local desc=$1 ref=$2
	shift 2
	MARK=$(registry_log_mark REG)
	DESC=$desc run_expect 0 '' "$IMAGESPEC" build "$(spec "$ref")" --cache-dir "$C" --json "$@"
	DIGEST=$(jq -r .digest "$RUN_OUT")
}
actions() {
	jq -r '[.manifests[0].layers[].action] | join(" ")' "$RUN_OUT"
}

push "cold push" team/app:1
COLD=$DIGEST
check_eq "... the base layer mounted from base/busybox, the two new ones uploaded" "mounted uploaded uploaded" "$(actions)"
check_digest "... skopeo reads it" "$COLD" "$(skopeo_raw_digest "$REG_ADDR/team/app:1")"
# cached_layers DIR: the new layers of the last push, each in DIR's store
# with its own bytes (the registry writer's spool file, lent to the cache).
cached_layers() {
	local d n=0
	for d in $(jq -r '.manifests[0].layers[1:][].digest' "$RUN_OUT"); do
		[ "sha256:$(sha256sum <"$1/blobs/sha256/${d#sha256:}" | cut -d' ' -f1)" = "$d" ] && n=$((n + 1))
	done
	echo "$n"
}
check_eq "... both new layers are in the cache, each with its bytes" 2 "$(cached_layers "$C")"
# A cache on another filesystem than the spool ($TMPDIR): the spool file
# cannot be linked in, so it is copied; the layers are cached all the same.
if [ -d /dev/shm ] && [ -w /dev/shm ] && [ "$(stat -c %d /dev/shm)" != "$(stat -c %d "$TMP")" ]; then
	SHM=$(mktemp -d /dev/shm/imagespec-cache.XXXXXX)
	MARK=$(registry_log_mark REG)
	DESC="cold push, the cache on another filesystem" run_expect 0 '' "$IMAGESPEC" build \
		"$(spec team/shm:1)" --cache-dir "$SHM" --json
	check_digest "... the same digest" "$COLD" "$(jq -r .digest "$RUN_OUT")"
	check_eq "... both new layers are in that cache, each with its bytes" 2 "$(cached_layers "$SHM")"
	rm -rf "$SHM"
else
	for d in "cold push, the cache on another filesystem" "... the same digest" "... both new layers are in that cache"; do
		skip "$d" "/dev/shm is not another filesystem than $TMP here: the copy into the cache is not reached"
	done
fi

push "push again, nothing changed" team/app:1
check_eq "... the same digest" "$COLD" "$DIGEST"
check_eq "... both new layers from the cache" 2 "$(grep -c 'from the cache)' "$RUN_ERR")"
check_eq "... no layer built" "" "$(grep -o 'building layer.*' "$RUN_ERR")"
check_eq "... every layer skipped" "skipped skipped skipped" "$(actions)"
check_eq "... no blob uploaded (no PUT to blobs/uploads, no PATCH)" 0 \
	"$(registry_requests REG "$MARK" '"(PUT|PATCH|POST) /v2/team/app/blobs/')"
check_eq "... no manifest PUT: a HEAD of the tag says it names this manifest already" 0 \
	"$(registry_requests REG "$MARK" '"PUT /v2/team/app/manifests/')"
check "... the tag was asked (HEAD)" test "$(registry_requests REG "$MARK" '"HEAD /v2/team/app/manifests/1 ')" -ge 1
check_eq "... the base's config is read from the local cache, not fetched" 0 \
	"$(registry_requests REG "$MARK" '"GET /v2/base/busybox/blobs/')"
check_digest "... skopeo still reads the tag" "$COLD" "$(skopeo_raw_digest "$REG_ADDR/team/app:1")"
# A cached base config with other bytes is not used: it is removed and
# fetched again, and the image is the same.
CFG=$(skopeo inspect --raw --tls-verify=false "docker://$REG_ADDR/base/busybox:1" | jq -r '.config.digest')
CFG_BLOB=$C/blobs/sha256/${CFG#sha256:}
check "... the base config is in the local cache" test -f "$CFG_BLOB"
printf '{"poisoned": true}' >"$CFG_BLOB"
push "push again, the cached base config poisoned" team/app:1
check_eq "... the same digest" "$COLD" "$DIGEST"
check_eq "... the config is fetched from the registry again" 1 \
	"$(registry_requests REG "$MARK" '"GET /v2/base/busybox/blobs/'"$CFG"' ')"
check_eq "... and the cache holds its true bytes again" "$CFG" "sha256:$(sha256sum "$CFG_BLOB" | cut -d' ' -f1)"
# A tag that names another manifest is moved by a PUT.
push "push the same image under a new tag" team/app:other
check_eq "... a new tag gets its PUT" 1 "$(registry_requests REG "$MARK" '"PUT /v2/team/app/manifests/other ')"
# sync.ignoreExists puts the manifest as it uploads every blob.
cp "$(spec team/app:1)" "$W/always.yaml"
printf 'sync: {ignoreExists: true}\n' >>"$W/always.yaml"
M=$(registry_log_mark REG)
DESC="push again with sync.ignoreExists" run_expect 0 '' "$IMAGESPEC" build "$W/always.yaml" --cache-dir "$C" --json
check_eq "... the same digest" "$COLD" "$(jq -r .digest "$RUN_OUT")"
check_eq "... the manifest is PUT under its tag all the same" 1 \
	"$(registry_requests REG "$M" '"PUT /v2/team/app/manifests/1 ')"

# plan asks the target: nothing to do, every digest predicted, nothing written.
M=$(registry_log_mark REG)
DESC="plan, nothing changed" run_expect 0 '' "$IMAGESPEC" plan "$(spec team/app:1)" --cache-dir "$C" --json
check_eq "... predicts the pushed digest" "$COLD" "$(jq -r .digest "$RUN_OUT")"
check_eq "... every blob would be skipped" "skipped skipped skipped" "$(actions)"
check_eq "... and nothing was written to the registry" 0 "$(registry_requests REG "$M" '"(PUT|POST|PATCH|DELETE) ')"
DESC="plan into a new repository" run_expect 0 '' "$IMAGESPEC" plan "$(spec fresh/app:1)" --cache-dir "$C"
check_match "... the base layer would be mounted" 'would mount' "$RUN_STDOUT"
check_match "... the new layers would be uploaded" 'would upload' "$RUN_STDOUT"
M=$(registry_log_mark REG)
DESC="plan --offline" run_expect 0 '' "$IMAGESPEC" plan "$(spec fresh/app:1)" --cache-dir "$C" --offline
check_eq "... asks nothing of the target repository" 0 "$(registry_requests REG "$M" '/v2/fresh/app/')"
check_nomatch "... and says nothing of uploads" 'would (upload|mount|skip)' "$RUN_STDOUT"

echo 'echo v2' >"$W/src/run.sh"
touch -d @1600000100 "$W/src/run.sh"
push "one file edited" team/app:2
check_match "... the src layer was built" 'building layer 2/2' "$RUN_STDERR"
check_eq "... and the deps layer was not" "" "$(grep -o 'building layer 1/2.*' "$RUN_ERR")"
check_eq "... one blob upload for the layer and one for the config" 2 "$(registry_blob_puts REG "$MARK" team/app)"
EDITED=$DIGEST
DESC="the same without the cache" run_expect 0 '' "$IMAGESPEC" build "$(spec team/app:nocache)" --no-cache --json
check_digest "... gives the cached build's digest" "$EDITED" "$(jq -r .digest "$RUN_OUT")"

push "into a new repository: the layers come from the cache" other/app:1
check_eq "... no layer built" "" "$(grep -o 'building layer.*' "$RUN_ERR")"
check_eq "... the new layers uploaded from the cache store" "uploaded uploaded" \
	"$(jq -r '[.manifests[0].layers[1:][].action] | join(" ")' "$RUN_OUT")"
check_digest "... with the same digest" "$EDITED" "$DIGEST"
check_digest "... that skopeo reads" "$EDITED" "$(skopeo_raw_digest "$REG_ADDR/other/app:1")"
check_eq "... and the image runs" "v2" "$(pull_and_run "$REG_ADDR/other/app:1")"

done_testing
