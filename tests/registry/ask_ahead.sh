#!/usr/bin/env bash
# The first question a push asks its registry is what the target's tag names
# now (src/exec/target_tag.c). The local cache keeps the manifests this
# machine pushed; when the tag names one of them, the registry is asked for
# that manifest's layers on a thread of the transport's own while the files
# are walked (src/transport/registry_ahead.c).
#   - A first push: the tag names nothing, so nothing is asked ahead; the
#     pushed manifest is kept in the cache, under its digest.
#   - The same push again: -v says the layers were asked ahead; each layer
#     is asked once (the layer step and the base sync take the answers, they
#     do not ask again), the tag once, the empty blob not at all, nothing is
#     PUT, and the image runs.
#   - The answers are asked for, never assumed from the manifest: a layer
#     deleted from the registry since the last push is uploaded again, and
#     the image runs.
#   - After a change, the new layer is uploaded, the manifest PUT once, and
#     the changed image runs.
#   - A damaged manifest in the cache is not used (nothing is asked ahead),
#     the push works, and the manifest is kept again with the right bytes.
#   - With --no-cache nothing is kept or asked ahead, and the push works.
#   - A tag that names a manifest this machine did not push: nothing is
#     asked ahead, and the push works.
#   - A base on another registry: the tag is asked while the base's
#     manifest is still on its way. A proxy in front of the base holds that
#     GET until a proxy in front of the target has seen the tag's HEAD, so
#     the check does not depend on the machine's speed.
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/fixture.sh"
need skopeo umoci curl jq sha256sum
[ -x /usr/bin/docker-registry ] || need /usr/bin/docker-registry

registry_start R || bail "cannot start the registry"
seed_base "$R_ADDR" base/busybox:1 || bail "cannot seed the base image"

W=$TMP/w
CACHE=$TMP/cache
mkdir -p "$W/app/d1"
echo "hello from the first push" >"$W/app/d1/hello.txt"
cat >"$W/image.yaml" <<EOF
base: $R_ADDR/base/busybox:1
target: $R_ADDR/team/aa:1
created: "2026-01-01T00:00:00Z"
files:
  - src: ./app
    dest: /app/
cmd: ["/bin/cat", "/app/d1/hello.txt"]
EOF
ASKED='asking ahead for the 2 layers of the manifest `[^`]*/team/aa:1` names now'
EMPTY=sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

# pushed: the manifest digest of the last push (its stdout names it).
pushed() {
	sed -n 's/.*@\(sha256:[0-9a-f]\{64\}\)$/\1/p' "$RUN_OUT" | tail -n 1
}
# kept DIGEST: the file the cache keeps DIGEST's bytes in.
kept() {
	echo "$CACHE/blobs/sha256/${1#sha256:}"
}
# heads MARK WHAT: HEAD requests for WHAT (a blob digest or "manifests/1")
# in team/aa since MARK.
heads() {
	registry_requests R "$1" "\"HEAD /v2/team/aa/(blobs/)?$2 "
}

# --- a first push --------------------------------------------------------------
DESC="first push: exit 0, nothing asked ahead (the tag names nothing)" \
	run_expect 0 '' "$IMAGESPEC" build "$W/image.yaml" --cache-dir "$CACHE" -v
check_nomatch "... -v does not say it asked ahead" 'asking ahead' "$RUN_STDERR"
m1=$(pushed)
check_match "... the manifest's digest" '^sha256:[0-9a-f]{64}$' "$m1"
check_eq "... the cache keeps the manifest skopeo reads, byte for byte" "$(skopeo_raw_digest "$R_ADDR/team/aa:1")" \
	"sha256:$(sha256sum <"$(kept "$m1")" | cut -d' ' -f1)"
raw=$(skopeo inspect --raw --tls-verify=false "docker://$R_ADDR/team/aa:1")
base_layer=$(jq -r '.layers[0].digest' <<<"$raw")
app_layer=$(jq -r '.layers[1].digest' <<<"$raw")
config=$(jq -r '.config.digest' <<<"$raw")
check_match "... two layers" '^sha256:[0-9a-f]{64} sha256:[0-9a-f]{64}$' "$base_layer $app_layer"

# --- the same push again -------------------------------------------------------
m=$(registry_log_mark R)
DESC="the same push again: exit 0, -v says the layers were asked ahead" \
	run_expect 0 "$ASKED" "$IMAGESPEC" build "$W/image.yaml" --cache-dir "$CACHE" -v
check_eq "... the same manifest" "$m1" "$(pushed)"
check_eq "... the app layer is asked once" 1 "$(heads "$m" "$app_layer")"
check_eq "... the base layer is asked once (the base sync took the answer)" 1 "$(heads "$m" "$base_layer")"
check_eq "... the tag is asked once" 1 "$(heads "$m" manifests/1)"
check_eq "... the empty blob is not asked (the tag was the first question)" 0 "$(heads "$m" "$EMPTY")"
check_eq "... the config is not asked" 0 "$(registry_requests R "$m" "/v2/team/aa/blobs/$config ")"
check_eq "... nothing is PUT" 0 "$(registry_requests R "$m" '"PUT /v2/')"
check_eq "... no GET /v2/ (the first request decides http or https)" 0 "$(registry_requests R "$m" '"GET /v2/ ')"
check_eq "... four requests in all: the base's manifest, the tag, the two layers" 4 \
	"$(registry_requests R "$m" '.')"
check_eq "... the image runs (skopeo, umoci, chroot)" "hello from the first push" "$(pull_and_run "$R_ADDR/team/aa:1")"

# --- a layer lost since: asked, not assumed ----------------------------------
check_eq "the app layer deleted from the registry (DELETE: 202)" 202 \
	"$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "http://$R_ADDR/v2/team/aa/blobs/$app_layer")"
check_eq "... the registry says it is gone" 404 \
	"$(curl -s -o /dev/null -w '%{http_code}' -I "http://$R_ADDR/v2/team/aa/blobs/$app_layer")"
m=$(registry_log_mark R)
DESC="the same push once more: exit 0, the layers were asked ahead" \
	run_expect 0 "$ASKED" "$IMAGESPEC" build "$W/image.yaml" --cache-dir "$CACHE" -v
check_eq "... the lost layer is uploaded again" 1 "$(registry_blob_puts R "$m" team/aa)"
check_eq "... the registry has it" 200 \
	"$(curl -s -o /dev/null -w '%{http_code}' -I "http://$R_ADDR/v2/team/aa/blobs/$app_layer")"
check_eq "... the image runs again (skopeo, umoci, chroot)" "hello from the first push" \
	"$(pull_and_run "$R_ADDR/team/aa:1")"

# --- a change ------------------------------------------------------------------
echo "hello from a changed tree" >"$W/app/d1/hello.txt"
m=$(registry_log_mark R)
DESC="the push after a change: exit 0, the old manifest's layers were asked ahead" \
	run_expect 0 "$ASKED" "$IMAGESPEC" build "$W/image.yaml" --cache-dir "$CACHE" -v
m2=$(pushed)
check "... another manifest" test "$m2" != "$m1"
check_eq "... the new layer and the new config are uploaded" 2 "$(registry_blob_puts R "$m" team/aa)"
check_eq "... the manifest is PUT under the tag once" 1 "$(registry_requests R "$m" '"PUT /v2/team/aa/manifests/1 ')"
check "... and kept in the cache" test -f "$(kept "$m2")"
check_eq "... the changed image runs (skopeo, umoci, chroot)" "hello from a changed tree" \
	"$(pull_and_run "$R_ADDR/team/aa:1")"

# --- a damaged manifest in the cache ---------------------------------------------
chmod u+w "$(kept "$m2")"
printf '{"schemaVersion":2,"layers":[]}' >"$(kept "$m2")"
DESC="a push with the kept manifest damaged: exit 0" \
	run_expect 0 '' "$IMAGESPEC" build "$W/image.yaml" --cache-dir "$CACHE" -v
check_nomatch "... nothing is asked ahead" 'asking ahead' "$RUN_STDERR"
check_eq "... the same manifest" "$m2" "$(pushed)"
check_eq "... kept again, with its own bytes" "$m2" "sha256:$(sha256sum <"$(kept "$m2")" | cut -d' ' -f1)"
check_eq "... the image runs (skopeo, umoci, chroot)" "hello from a changed tree" "$(pull_and_run "$R_ADDR/team/aa:1")"

# --- --no-cache --------------------------------------------------------------------
echo "hello without a cache" >"$W/app/d1/hello.txt"
DESC="a push with --no-cache: exit 0, nothing asked ahead" \
	run_expect 0 '' "$IMAGESPEC" build "$W/image.yaml" --no-cache -v
check_nomatch "... -v does not say it asked ahead" 'asking ahead' "$RUN_STDERR"
m3=$(pushed)
check "... the manifest is not kept" test ! -e "$(kept "$m3")"
check_eq "... the image runs (skopeo, umoci, chroot)" "hello without a cache" "$(pull_and_run "$R_ADDR/team/aa:1")"

# --- a tag pushed by another tool --------------------------------------------------
check "skopeo pushes the base under team/aa:1" \
	skopeo copy -q --src-tls-verify=false --dest-tls-verify=false \
	"docker://$R_ADDR/base/busybox:1" "docker://$R_ADDR/team/aa:1"
DESC="a push over it: exit 0, nothing asked ahead (the cache does not know that manifest)" \
	run_expect 0 '' "$IMAGESPEC" build "$W/image.yaml" --cache-dir "$CACHE" -v
check_nomatch "... -v does not say it asked ahead" 'asking ahead' "$RUN_STDERR"
check_eq "... the image runs (skopeo, umoci, chroot)" "hello without a cache" "$(pull_and_run "$R_ADDR/team/aa:1")"

# --- a base on another registry: both asked at once --------------------------------
# Two proxies in front of R are two registries to imagespec. BP holds the
# base's manifest GET until TP has seen the tag's HEAD (at most 20 s: one
# after the other, the GET would wait that long, then say held: false).
fault_proxy_start BP "$R_ADDR" --hold '^GET /v2/base/busybox/manifests/' --until "$W/tag-asked" --hold-max 20 ||
	bail "fault_proxy.py did not start"
fault_proxy_start TP "$R_ADDR" --touch '^HEAD /v2/team/two/manifests/' "$W/tag-asked" ||
	bail "fault_proxy.py did not start"
sed "s|^base: .*|base: $BP_ADDR/base/busybox:1|; s|^target: .*|target: $TP_ADDR/team/two:1|" "$W/image.yaml" >"$W/two.yaml"
DESC="a push whose base is on another registry: exit 0" \
	run_expect 0 '' "$IMAGESPEC" build "$W/two.yaml" --cache-dir "$CACHE"
check_eq "... the tag was asked while the base's manifest was held" true \
	"$(jq -s -r '[.[] | select(.method == "GET" and (.path | test("/manifests/")))][0].held' "$BP_LOG")"
check_eq "... the image runs (skopeo, umoci, chroot)" "hello without a cache" "$(pull_and_run "$R_ADDR/team/two:1")"

done_testing
