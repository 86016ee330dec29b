#!/usr/bin/env bash
# A push stopped by SIGINT or SIGTERM mid-upload: the build ends at once
# with 130/143, the old tag survives, nothing is left in TMPDIR, and a
# re-run gives the digest an uninterrupted build gives. The kill point is
# found by watching the registry's upload storage, not by sleeping; the
# build is frozen (SIGSTOP) there, signalled and thawed.
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/fixture.sh"
need_root
need skopeo umoci jq openssl sha256sum head
[ -x /usr/bin/docker-registry ] || need /usr/bin/docker-registry

registry_start REG || bail "cannot start docker-registry"
seed_base "$REG_ADDR" base/busybox:1 || bail "cannot seed the base"
W=$TMP/w
mkdir -p "$W/big"
export TMPDIR=$TMP/tmpdir
mkdir -p "$TMPDIR"
# 200 MB that gzip cannot shrink: the upload takes long enough to be caught.
head -c $((200 * 1000 * 1000)) >"$W/big/big.bin" \
	< <(openssl enc -aes-256-ctr -nosalt -pbkdf2 -pass pass:imagespec-signal </dev/zero 2>/dev/null)
cat >"$W/old.yaml" <<EOF
base: $REG_ADDR/base/busybox:1
target: $REG_ADDR/team/app:1
created: "2026-01-01T00:00:00Z"
files:
  - {dest: /hello.txt, content: "hello from old\n"}
cmd: ["/bin/cat", "/hello.txt"]
EOF
cat >"$W/big.yaml" <<EOF
base: $REG_ADDR/base/busybox:1
target: $REG_ADDR/team/app:1
created: "2026-01-01T00:00:00Z"
files:
  - {dest: /hello.txt, content: "hello from big\n"}
layers: [{files: [{src: ./big/big.bin, dest: /big.bin}]}]
cmd: ["/bin/cat", "/hello.txt"]
EOF
DESC="the previous version of team/app:1" run_expect 0 '' ims build "$W/old.yaml" --progress quiet --no-cache
OLD=$(digest_of_output "$RUN_OUT")

for sig in INT TERM; do
	want=130
	[ $sig = TERM ] && want=143
	# An interrupted upload may leave its session in the registry (the
	# DELETE is not sent once the build is interrupted): only a session
	# this build started counts.
	before=$(ls "$REG_DATA/docker/registry/v2/repositories/team/app/_uploads" 2>/dev/null | tr '\n' ' ')
	env --default-signal=INT "$IMAGESPEC" build "$W/big.yaml" --progress plain --no-cache \
		>"$TMP/int.out" 2>"$TMP/int.err" </dev/null &
	pid=$!
	caught=$(stop_mid_upload "$REG_DATA" team/app "$pid" "$before")
	kill -"$sig" "$pid" 2>/dev/null
	kill -CONT "$pid" 2>/dev/null
	check_match "SIG$sig: caught mid-upload (bytes received: $caught)" '^[0-9]+$' "$caught"
	wait "$pid"
	check_eq "SIG$sig: the build exits $want" "$want" "$?" || diag "stderr: $(tail -c 2000 "$TMP/int.err")"
	check_match "SIG$sig: it says it was interrupted" 'interrupted' "$(cat "$TMP/int.err")"
	check_digest "SIG$sig: team/app:1 is still the previous version" "$OLD" "$(skopeo_raw_digest "$REG_ADDR/team/app:1")"
	check_eq "SIG$sig: TMPDIR is empty" "" "$(ls -A "$TMPDIR")"
done

DESC="the re-run succeeds" run_expect 0 '' ims build "$W/big.yaml" --json --progress quiet --no-cache
NEW=$(jq -r .digest "$RUN_OUT" 2>/dev/null)
DESC="the same spec, uninterrupted, into an oci: layout" \
	run_expect 0 '' ims build "$W/big.yaml" --output "oci:$TMP/bigref:1" --json --progress quiet --no-cache
REF=$(jq -r .digest "$RUN_OUT" 2>/dev/null)
check_digest "re-run digest = uninterrupted build's digest" "$REF" "$NEW"
check_digest "skopeo reads the new digest under team/app:1" "$NEW" "$(skopeo_raw_digest "$REG_ADDR/team/app:1")"
check_eq "... and it runs" "hello from big" "$(pull_and_run "$REG_ADDR/team/app:1")"
check_eq "TMPDIR is empty at the end" "" "$(ls -A "$TMPDIR")"
rm -f "$W/big/big.bin"

done_testing
