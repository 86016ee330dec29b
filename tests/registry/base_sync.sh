#!/usr/bin/env bash
# Base blobs cross over while the new layers are built (exec/prefetch.c):
# with the base on one registry and the target on another, the base's
# layer is copied on a thread of its own from the start, as the seed's
# image.sync() starts at once, and the manifest still waits for it.
# Checked against docker-registry's access logs and with skopeo, umoci and
# chroot:
#   - the target is asked for the base layer (HEAD) before the new layer's
#     upload begins: the copy did not wait for the build (the new layer is
#     ~2 s of deflate, so the order does not hang on the machine's load);
#   - the image is whole and runs, and --json says the base layer was
#     written (copied), the new one uploaded;
#   - a build whose layer fails stops the copy and pushes no manifest;
#   - a copy that fails (the base registry cuts every blob download) fails
#     the build, exit 1, naming the base layer, and pushes no manifest;
#   - `copy` between two registries copies -j blobs at once: behind a
#     slow proxy, downloads overlap with -j 4 and never with -j 1;
#   - SIGINT or SIGTERM while the base layer downloads and the new one
#     builds: exit 130/143, no manifest, nothing left in TMPDIR.
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/fixture.sh"
need skopeo umoci jq openssl base64 head sha256sum
[ -x /usr/bin/docker-registry ] || need /usr/bin/docker-registry

registry_start SRC || bail "cannot start the base's docker-registry"
registry_start TGT || bail "cannot start the target's docker-registry"
seed_base "$SRC_ADDR" base/busybox:1 || bail "cannot seed the base"
BASE_LAYER=$(skopeo inspect --raw --tls-verify=false "docker://$SRC_ADDR/base/busybox:1" | jq -r '.layers[0].digest')
check_match "the base has a layer" '^sha256:[0-9a-f]{64}$' "$BASE_LAYER"
W=$TMP/w
mkdir -p "$W/app"
# 48 MB of base64 text: deflate works on it (no chunk is stored) for a
# couple of seconds, while the base layer (~1 MB) crosses over.
head -c $((36 * 1000 * 1000)) < <(openssl enc -aes-256-ctr -nosalt -pbkdf2 -pass pass:imagespec-sync </dev/zero 2>/dev/null) |
	base64 -w 76 >"$W/app/data.txt"
SUM=$(sha256sum <"$W/app/data.txt" | cut -d' ' -f1)
echo small >"$W/small.txt"
tar -cf "$W/app/data.tar" -C "$W" small.txt
spec() { # spec NAME BASE TARGET [EXTRA LAYER YAML]
	cat >"$W/$1.yaml" <<EOT
base: $2
target: $3
created: "2026-01-01T00:00:00Z"
layers:
  - files: [{src: ./app/data.txt, dest: /data.txt}]
${4:-}
cmd: ["/bin/busybox", "sha256sum", "/data.txt"]
EOT
	echo "$W/$1.yaml"
}
# line_of MARK RE: the number of the first line of TGT's log after MARK
# that is a request matching RE (0: none).
line_of() {
	registry_log_since TGT "$1" | grep -E '"[A-Z]+ /v2/' | awk -v re="$2" '!n && $0 ~ re { n = NR } END { print n + 0 }'
}

# --- the copy runs while the layer builds ------------------------------------------------
MARK=$(registry_log_mark TGT)
DESC="base on one registry, target on another: pushed" \
	run_expect 0 '' "$IMAGESPEC" build "$(spec s1 "$SRC_ADDR/base/busybox:1" "$TGT_ADDR/team/app:1")" --no-cache --json
check_eq "... the base layer was copied (uploaded)" "uploaded" "$(jq -r '.manifests[0].layers[0].action' "$RUN_OUT")"
check_eq "... the new layer uploaded" "uploaded" "$(jq -r '.manifests[0].layers[1].action' "$RUN_OUT")"
HEAD_AT=$(line_of "$MARK" "\"HEAD /v2/team/app/blobs/$BASE_LAYER ")
NEW_DIGEST=$(jq -r '.manifests[0].layers[1].digest' "$RUN_OUT")
NEW_AT=$(line_of "$MARK" "\"PUT /v2/team/app/blobs/uploads/[^ ]*digest=$NEW_DIGEST")
UP_AT=$(line_of "$MARK" '"POST /v2/team/app/blobs/uploads/')
MAN_AT=$(line_of "$MARK" '"PUT /v2/team/app/manifests/')
check "... the target was asked for the base layer (line $HEAD_AT) before any upload began (line $UP_AT)" \
	test "$HEAD_AT" -gt 0 -a "$UP_AT" -gt "$HEAD_AT"
check "... the new layer arrived (line $NEW_AT) before the manifest (line $MAN_AT)" \
	test "$NEW_AT" -gt 0 -a "$MAN_AT" -gt "$NEW_AT"
check_eq "... the base layer went up once" 1 \
	"$(registry_requests TGT "$MARK" "\"PUT /v2/team/app/blobs/uploads/[^ ]*digest=$BASE_LAYER")"
BASE_PUT_AT=$(line_of "$MARK" "\"PUT /v2/team/app/blobs/uploads/[^ ]*digest=$BASE_LAYER")
check "... before the manifest" test "$BASE_PUT_AT" -gt 0 -a "$MAN_AT" -gt "$BASE_PUT_AT"
check_digest "... skopeo reads the printed digest" "$(jq -r '.digest' "$RUN_OUT")" \
	"$(skopeo_raw_digest "$TGT_ADDR/team/app:1")"
check_eq "... and the image runs: umoci unpacks it, chroot runs it" "$SUM  /data.txt" "$(pull_and_run "$TGT_ADDR/team/app:1")"

# --- a layer that fails: no manifest ----------------------------------------------------------
MARK=$(registry_log_mark TGT)
DESC="a layer that fails (an archive with a wrong sha256) while the base is copied: exit 1, no manifest" \
	run_expect 1 'sha256' "$IMAGESPEC" build "$(spec s2 "$SRC_ADDR/base/busybox:1" "$TGT_ADDR/team/fail:1" \
		"  - archive: ./app/data.tar
    sha256: \"$(printf '0%.0s' $(seq 64))\"")" --no-cache
check_eq "... the registry saw no manifest PUT" 0 "$(registry_requests TGT "$MARK" '"PUT /v2/team/fail/manifests/')"
check "... nothing tagged" bash -c "! skopeo inspect --raw --tls-verify=false docker://$TGT_ADDR/team/fail:1 >/dev/null 2>&1"

# --- copy between registries: blobs at once --------------------------------------------------
# Three layers of 400 KB each behind a proxy that answers at 200 KB/s: each
# blob download takes 2 s. With -j 4 the downloads overlap (the proxy logs
# when each began and ended); with -j 1 they never do. The same digest
# either way, read by skopeo.
mkdir -p "$W/three"
for i in 1 2 3; do
	head -c 400000 < <(openssl enc -aes-256-ctr -nosalt -pbkdf2 -pass "pass:imagespec-three-$i" </dev/zero 2>/dev/null) \
		>"$W/three/f$i.bin"
done
cat >"$W/three.yaml" <<EOT
base: scratch
target: $SRC_ADDR/team/three:1
created: "2026-01-01T00:00:00Z"
layers:
  - files: [{src: ./three/f1.bin, dest: /f1.bin}]
  - files: [{src: ./three/f2.bin, dest: /f2.bin}]
  - files: [{src: ./three/f3.bin, dest: /f3.bin}]
EOT
DESC="a three-layer image in the base's registry" run_expect 0 '' "$IMAGESPEC" build "$W/three.yaml" --no-cache --progress quiet
THREE=$(skopeo_raw_digest "$SRC_ADDR/team/three:1")
fault_proxy_start SLOW "$SRC_ADDR" --rate-down 200000 || bail "cannot start fault_proxy.py"
# overlaps: how many pairs of blob GETs in the proxy's log ran at the same time
overlaps() {
	jq -s '[.[] | select(.method == "GET" and (.path | test("/blobs/sha256:")))] as $g
		| [range(0; $g | length) as $i | range($i + 1; $g | length) as $k
		   | select($g[$i].start < $g[$k].end and $g[$k].start < $g[$i].end)] | length' "$SLOW_LOG"
}
: >"$SLOW_LOG"
DESC="copy -j 4 from a slow registry to another" \
	run_expect 0 '' "$IMAGESPEC" copy -j 4 "docker://$SLOW_ADDR/team/three:1" "docker://$TGT_ADDR/team/three:4"
check_digest "... skopeo reads the same digest" "$THREE" "$(skopeo_raw_digest "$TGT_ADDR/team/three:4")"
check_eq "... four blob downloads (the config, three layers)" 4 "$(jq -s '[.[] | select(.method == "GET" and (.path | test("/blobs/sha256:")))] | length' "$SLOW_LOG")"
check "... that ran at the same time ($(overlaps) overlapping pairs)" test "$(overlaps)" -ge 1
: >"$SLOW_LOG"
DESC="copy -j 1 from the slow registry" \
	run_expect 0 '' "$IMAGESPEC" copy -j 1 "docker://$SLOW_ADDR/team/three:1" "docker://$TGT_ADDR/team/three:1"
check_digest "... skopeo reads the same digest" "$THREE" "$(skopeo_raw_digest "$TGT_ADDR/team/three:1")"
check_eq "... its downloads one at a time" 0 "$(overlaps)"

# --- interrupted while the base crosses over --------------------------------------------------
# The base behind the slow proxy (its layer takes seconds to come), the new
# layer being compressed: SIGINT as soon as the build says it is building
# the layer. Both stop: exit 130, no manifest, nothing left in TMPDIR.
for sig in INT TERM; do
	want=130
	[ $sig = TERM ] && want=143
	mkdir -p "$TMP/sig-tmp"
	MARK=$(registry_log_mark TGT)
	ERRF=$TMP/sig-$sig.err
	rm -f "$ERRF"
	env --default-signal=INT TMPDIR="$TMP/sig-tmp" "$IMAGESPEC" build \
		"$(spec "sig$sig" "$SLOW_ADDR/base/busybox:1" "$TGT_ADDR/team/sig:1")" --no-cache --progress plain \
		>"$TMP/sig.out" 2>"$ERRF" </dev/null &
	pid=$!
	n=0
	until grep -q 'building layer' "$ERRF" 2>/dev/null || ! kill -0 "$pid" 2>/dev/null || [ $((n += 1)) -gt 1200 ]; do
		sleep 0.05
	done
	kill -"$sig" "$pid" 2>/dev/null
	wait "$pid"
	check_eq "SIG$sig while the base layer downloads and the new one builds: exit $want" "$want" "$?" ||
		diag "stderr: $(tail -c 2000 "$ERRF")"
	check_match "... it says it was interrupted" 'interrupted' "$(cat "$ERRF")"
	check_eq "... the registry saw no manifest PUT" 0 "$(registry_requests TGT "$MARK" '"PUT /v2/team/sig/manifests/')"
	check_eq "... TMPDIR is empty" "" "$(ls -A "$TMP/sig-tmp")"
done

# --- a copy that fails: the build fails, no manifest -----------------------------------------------
fault_proxy_start CUT "$SRC_ADDR" --reset-body-after 1000 --reset-times 1000 || bail "cannot start fault_proxy.py"
MARK=$(registry_log_mark TGT)
DESC="the base registry cuts every blob download: exit 1, naming the base layer" \
	run_expect 1 "$BASE_LAYER" "$IMAGESPEC" build "$(spec s3 "$CUT_ADDR/base/busybox:1" "$TGT_ADDR/team/cut:1")" --no-cache
check_eq "... the registry saw no manifest PUT" 0 "$(registry_requests TGT "$MARK" '"PUT /v2/team/cut/manifests/')"
check_jsonl "... the proxy did cut the base layer's download" \
	"any(.[]; .outcome == \"reset\" and (.path | endswith(\"$BASE_LAYER\")))" "$CUT_LOG"

done_testing
