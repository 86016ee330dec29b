#!/usr/bin/env bash
# Streamed uploads: a layer of 8 MiB or more is sent while it is being
# compressed (POST, chunked PATCHes of up to 8 MiB that follow the spool
# file, PUT ?digest=). Checked against docker-registry's access log and
# with skopeo, umoci and chroot:
#   - the big layer goes up in two PATCHes and arrives whole;
#   - a rebuilt layer the registry already has is not kept: the streamed
#     session is cancelled (DELETE) and nothing is left in _uploads;
#   - behind a proxy that refuses chunked bodies (411), the layer is sent
#     again whole, and the push succeeds;
#   - a registry that takes the first PATCH of an upload and refuses the
#     next (416): the layer is sent again whole, and the push succeeds;
#   - a registry that names a least chunk (OCI-Chunk-Min-Length) of 16 MiB
#     gets the 12 MB layer in one PATCH;
#   - IMAGESPEC_STREAM_UPLOADS=0 sends every blob whole (no PATCH).
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/fixture.sh"
need skopeo umoci jq openssl head sha256sum
[ -x /usr/bin/docker-registry ] || need /usr/bin/docker-registry

registry_start REG || bail "cannot start docker-registry"
seed_base "$REG_ADDR" base/busybox:1 || bail "cannot seed the base"
fault_proxy_start NOCHUNK "$REG_ADDR" --refuse-chunked || bail "cannot start fault_proxy.py"
fault_proxy_start ONEPATCH "$REG_ADDR" --refuse-patch-after 1 || bail "cannot start fault_proxy.py"
fault_proxy_start MINCHUNK "$REG_ADDR" --chunk-min $((16 << 20)) || bail "cannot start fault_proxy.py"
W=$TMP/w
mkdir -p "$W/app"
# 12 MB that gzip cannot shrink: a layer over the 8 MiB streaming threshold.
head -c $((12 * 1000 * 1000)) >"$W/app/blob.bin" \
	< <(openssl enc -aes-256-ctr -nosalt -pbkdf2 -pass pass:imagespec-stream </dev/zero 2>/dev/null)
SUM=$(sha256sum <"$W/app/blob.bin" | cut -d' ' -f1)
spec() { # spec ADDR REPO: pushes the file to ADDR/team/REPO:1
	cat >"$W/$2.yaml" <<EOF
base: $REG_ADDR/base/busybox:1
target: $1/team/$2:1
created: "2026-01-01T00:00:00Z"
layers:
  - files: [{src: ./app/blob.bin, dest: /blob.bin}]
cmd: ["/bin/busybox", "sha256sum", "/blob.bin"]
EOF
	echo "$W/$2.yaml"
}
# uploads_left REPO: upload sessions whose bytes the registry still keeps
# (distribution 2.8's DELETE leaves an empty session's hash state behind,
# whoever cancels: only `data` files count).
uploads_left() {
	local d=$REG_DATA/docker/registry/v2/repositories/team/$1/_uploads
	if [ -d "$d" ]; then find "$d" -name data | wc -l; else echo 0; fi
}

# --- streamed -------------------------------------------------------------------------------------
MARK=$(registry_log_mark REG)
DESC="a 12 MB layer: pushed" run_expect 0 '' "$IMAGESPEC" build "$(spec "$REG_ADDR" s1)" --no-cache --json
check_eq "... uploaded" "uploaded" "$(jq -r '.manifests[0].layers[1].action' "$RUN_OUT")"
check_eq "... in two chunked PATCHes of up to 8 MiB (registry log)" 2 \
	"$(registry_requests REG "$MARK" 'PATCH /v2/team/s1/blobs/uploads/')"
check_eq "... and the image runs: skopeo, umoci, chroot see the whole file" "$SUM  /blob.bin" \
	"$(pull_and_run "$REG_ADDR/team/s1:1")"

# --- a streamed layer the registry turns out to have -------------------------------------------------
MARK=$(registry_log_mark REG)
DESC="the same layer rebuilt (--no-cache) into the same repository" \
	run_expect 0 '' "$IMAGESPEC" build "$(spec "$REG_ADDR" s1)" --no-cache --json
check_eq "... is skipped" "skipped" "$(jq -r '.manifests[0].layers[1].action' "$RUN_OUT")"
check "... its streamed session was cancelled (DELETE in the registry log)" \
	test "$(registry_requests REG "$MARK" 'DELETE /v2/team/s1/blobs/uploads/')" -ge 1
check_eq "... no blob upload was completed" 0 "$(registry_requests REG "$MARK" 'PUT /v2/team/s1/blobs/uploads/')"
check_eq "... and the registry keeps none of its bytes" 0 "$(uploads_left s1)"
check_eq "... the image still runs" "$SUM  /blob.bin" "$(pull_and_run "$REG_ADDR/team/s1:1")"

# --- a proxy that refuses chunked bodies -----------------------------------------------------------
DESC="behind a proxy answering 411 to chunked bodies: pushed" \
	run_expect 0 'uploading it whole' "$IMAGESPEC" build "$(spec "$NOCHUNK_ADDR" s2)" --no-cache --progress plain
check_jsonl "the proxy refused the chunked PATCH" \
	'any(.[]; .outcome == "refused-chunked" and .method == "PATCH")' "$NOCHUNK_LOG"
check_eq "... and the image runs" "$SUM  /blob.bin" "$(pull_and_run "$REG_ADDR/team/s2:1")"

# --- a registry that takes one PATCH per upload ------------------------------------------------------
DESC="behind a proxy refusing every PATCH after the first: pushed" \
	run_expect 0 'uploading it whole' "$IMAGESPEC" build "$(spec "$ONEPATCH_ADDR" s4)" --no-cache --progress plain
# (The proxy logs a request when it ends, and a refused one at once: the
# log's order is not the order of arrival.)
check_jsonl "one PATCH went through" \
	'[.[] | select(.method == "PATCH" and .outcome == "forwarded")] | length == 1 and .[0].status == 202' \
	"$ONEPATCH_LOG"
check_jsonl "the next was refused" 'any(.[]; .method == "PATCH" and .outcome == "refused-patch")' "$ONEPATCH_LOG"
check_eq "... and the image runs" "$SUM  /blob.bin" "$(pull_and_run "$REG_ADDR/team/s4:1")"

# --- a registry that names its least chunk -----------------------------------------------------------
DESC="behind a proxy saying OCI-Chunk-Min-Length: 16 MiB: pushed" \
	run_expect 0 '' "$IMAGESPEC" build "$(spec "$MINCHUNK_ADDR" s5)" --no-cache
check_jsonl "the upload's POST said so" 'any(.[]; .outcome == "chunk-min" and .status == 202)' "$MINCHUNK_LOG"
check_jsonl "... and the 12 MB layer went up in one PATCH" '[.[] | select(.method == "PATCH")] | length == 1' \
	"$MINCHUNK_LOG"
check_eq "... and the image runs" "$SUM  /blob.bin" "$(pull_and_run "$REG_ADDR/team/s5:1")"

# --- streaming off ---------------------------------------------------------------------------------
MARK=$(registry_log_mark REG)
DESC="IMAGESPEC_STREAM_UPLOADS=0: pushed" \
	run_expect 0 '' env IMAGESPEC_STREAM_UPLOADS=0 "$IMAGESPEC" build "$(spec "$REG_ADDR" s3)" --no-cache
check_eq "... without any PATCH" 0 "$(registry_requests REG "$MARK" 'PATCH /v2/')"
check_eq "... and the image runs" "$SUM  /blob.bin" "$(pull_and_run "$REG_ADDR/team/s3:1")"

done_testing
