#!/usr/bin/env bash
# SIGINT and SIGTERM stop a build promptly and leave nothing behind: no temp
# file, no staging directory in TMPDIR, no new oci: layout; an existing
# layout keeps its index.json and blob list byte for byte, an existing
# archive stays identical. A re-run after SIGKILL sweeps what the killed run
# left and gives the digest of an uninterrupted build (skopeo, umoci).
#
# Kill points are found by watching the build, never by sleeping: the
# process is frozen (SIGSTOP) as soon as /proc/PID/fd shows it writing where
# the stage under test writes, then signalled and thawed (SIGCONT).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need skopeo umoci jq flock cmp

W=$TMP/w
mkdir -p "$W/src" "$W/small"
# Random bytes do not compress: the layer takes long enough to be caught
# being written, at every stage.
head -c 300M /dev/urandom >"$W/src/big"
cat >"$W/image.yaml" <<'EOF'
base: scratch
target: oci:out:x
created: 0
files:
  - {src: ./src, dest: /data}
EOF
cat >"$W/small/image.yaml" <<'EOF'
base: scratch
target: oci:out:x
created: 0
files:
  - {dest: /ok, content: "ok\n"}
EOF

# Each build has a TMPDIR of its own, so that "nothing left in TMPDIR" can
# be checked by listing it.
export TMPDIR=$TMP/tmpdir
mkdir -p "$TMPDIR"
B=(--no-cache --progress quiet)

DESC="reference build (oci:)" run_expect 0 '' ims build "$W/image.yaml" "${B[@]}" --output "oci:$W/ref:x"
REF=$(raw_digest "oci:$W/ref:x") || bail "skopeo cannot read the reference layout"
DESC="reference build (docker-archive:)" \
	run_expect 0 '' ims build "$W/image.yaml" "${B[@]}" --output "docker-archive:$W/ref.tar:r/x:1"
DREF=$(skopeo inspect --config "docker-archive:$W/ref.tar" | jq -r '.rootfs.diff_ids[0]')

# An existing layout and archives that interrupted builds aim at.
ims build "$W/small/image.yaml" "${B[@]}" --output "oci:$W/exist:keep" >/dev/null 2>&1 || bail "cannot build a layout"
ims build "$W/small/image.yaml" "${B[@]}" --output "oci-archive:$W/exist-oci.tar:keep" >/dev/null 2>&1 ||
	bail "cannot build an oci-archive"
ims build "$W/small/image.yaml" "${B[@]}" --output "docker-archive:$W/exist-docker.tar:keep/x:1" >/dev/null 2>&1 ||
	bail "cannot build a docker-archive"
cp "$W/exist/index.json" "$W/exist.index.orig"
ls -a "$W/exist/blobs/sha256" >"$W/exist.blobs.orig"
cp "$W/exist-oci.tar" "$W/exist-oci.tar.orig"
cp "$W/exist-docker.tar" "$W/exist-docker.tar.orig"

# writing_into PID ERE: the process holds an open file whose path matches.
writing_into() {
	local f l
	for f in /proc/"$1"/fd/*; do
		l=$(readlink "$f" 2>/dev/null) || continue
		grep -Eq -- "$2" <<<"$l" && return 0
	done
	return 1
}

# interrupt SIG ERE CMD...: starts CMD (with the default disposition for
# SIGINT, which a non-interactive shell would ignore in a background job),
# freezes it as soon as it writes a file matching ERE, sends SIG and thaws
# it. Sets RC to its exit status, and HIT=1 when the kill point was reached
# (0 when the build ended first: the caller tries again).
interrupt() {
	local sig=$1 re=$2 pid
	shift 2
	env --default-signal=INT "$@" >"$TMP/.int.out" 2>"$TMP/.int.err" &
	pid=$!
	HIT=0
	while kill -0 "$pid" 2>/dev/null; do
		if writing_into "$pid" "$re"; then
			kill -STOP "$pid" 2>/dev/null
			# still there while frozen: this is the stage under test
			if writing_into "$pid" "$re"; then
				HIT=1
				kill -"$sig" "$pid"
			fi
			kill -CONT "$pid" 2>/dev/null
			break
		fi
	done
	wait "$pid" 2>/dev/null # no "Killed" notice from bash for SIGKILL
	RC=$?
	return 0
}

# tries N SIG ERE CMD...: interrupt, up to N times until the kill point is hit.
tries() {
	local n=$1 i
	shift
	for ((i = 0; i < n; i++)); do
		cleanup_outputs
		interrupt "$@"
		[ "$HIT" = 1 ] && return 0
	done
	return 1
}

cleanup_outputs() {
	rm -rf "$W/out" "$W/out.tar" "$W/out-docker.tar"
	cp "$W/exist-oci.tar.orig" "$W/exist-oci.tar"
	cp "$W/exist-docker.tar.orig" "$W/exist-docker.tar"
}

# no_leftovers WHAT: TMPDIR is empty, and nothing named *.tmp-* is in $W
# or in the existing layout.
no_leftovers() {
	check_eq "$1: TMPDIR is empty" "" "$(ls -A "$TMPDIR")"
	check_eq "$1: no *.tmp-* file next to the outputs" "" \
		"$(find "$W" -maxdepth 1 -name '*.tmp-*'; find "$W/exist" -name '*.tmp-*')"
}

# interrupted SIG WHAT: exit 128+N and the message.
interrupted() {
	local want
	case $1 in INT) want=130 ;; TERM) want=143 ;; esac
	check_eq "$2: exit $want" "$want" "$RC"
	check_match "$2: says it was interrupted" 'imagespec: .*interrupted' "$(cat "$TMP/.int.err")"
}

for sig in INT TERM; do
	# --- oci:, a new layout, while the layer is written
	w="SIG$sig, new oci: layout, writing the layer"
	if tries 3 "$sig" "$W/out/blobs/sha256/" "$IMAGESPEC" build "$W/image.yaml" "${B[@]}" --output "oci:$W/out:x"; then
		interrupted "$sig" "$w"
		check "$w: the new layout is removed" test ! -e "$W/out"
		no_leftovers "$w"
	else
		not_ok "$w: the kill point was never reached"
	fi

	# --- oci:, an existing layout
	w="SIG$sig, existing oci: layout, writing the layer"
	if tries 3 "$sig" "$W/exist/blobs/sha256/" "$IMAGESPEC" build "$W/image.yaml" "${B[@]}" --output "oci:$W/exist:x"; then
		interrupted "$sig" "$w"
		check "$w: index.json is byte-identical" cmp "$W/exist.index.orig" "$W/exist/index.json"
		check_eq "$w: no new file in blobs/sha256" "$(cat "$W/exist.blobs.orig")" "$(ls -a "$W/exist/blobs/sha256")"
		no_leftovers "$w"
	else
		not_ok "$w: the kill point was never reached"
	fi

	# --- oci-archive:, new and existing, while the layer is staged in TMPDIR
	w="SIG$sig, new oci-archive:, staging the layer"
	if tries 3 "$sig" "$TMPDIR/imagespec-oci-archive-" "$IMAGESPEC" build "$W/image.yaml" "${B[@]}" --output "oci-archive:$W/out.tar:x"; then
		interrupted "$sig" "$w"
		check "$w: no archive" test ! -e "$W/out.tar"
		no_leftovers "$w"
	else
		not_ok "$w: the kill point was never reached"
	fi
	w="SIG$sig, existing oci-archive:, staging the layer"
	if tries 3 "$sig" "$TMPDIR/imagespec-oci-archive-.*/blobs/sha256/" "$IMAGESPEC" build "$W/image.yaml" "${B[@]}" --output "oci-archive:$W/exist-oci.tar:x"; then
		interrupted "$sig" "$w"
		check "$w: the archive is byte-identical" cmp "$W/exist-oci.tar.orig" "$W/exist-oci.tar"
		no_leftovers "$w"
	else
		not_ok "$w: the kill point was never reached"
	fi

	# --- docker-archive:, while staging, and while the tar is written
	w="SIG$sig, new docker-archive:, staging the layer"
	if tries 3 "$sig" "$TMPDIR/imagespec-docker-archive-" "$IMAGESPEC" build "$W/image.yaml" "${B[@]}" --output "docker-archive:$W/out-docker.tar:r/x:1"; then
		interrupted "$sig" "$w"
		check "$w: no archive" test ! -e "$W/out-docker.tar"
		no_leftovers "$w"
	else
		not_ok "$w: the kill point was never reached"
	fi
	w="SIG$sig, existing docker-archive:, writing the tar"
	# the archive's temp file: an O_TMPFILE (`DIR/#INODE`) or FILE.tmp-*
	if tries 5 "$sig" "^$W/(#|exist-docker\.tar\.tmp-)" "$IMAGESPEC" build "$W/image.yaml" "${B[@]}" --output "docker-archive:$W/exist-docker.tar:r/x:1"; then
		interrupted "$sig" "$w"
		check "$w: the archive is byte-identical" cmp "$W/exist-docker.tar.orig" "$W/exist-docker.tar"
		no_leftovers "$w"
	else
		not_ok "$w: the kill point was never reached"
	fi
done

# --- SIGKILL: nothing runs, so the next build cleans up. What a killed
# writer of an older version (or one on a filesystem without O_TMPFILE)
# leaves is made by hand: named temp files nobody holds. One that a live
# process holds locked must stay.
w="SIGKILL, new oci: layout"
if tries 3 KILL "$W/out/blobs/sha256/" "$IMAGESPEC" build "$W/image.yaml" "${B[@]}" --output "oci:$W/out:x"; then
	check_eq "$w: killed" 137 "$RC"
	head -c 1000 /dev/urandom >"$W/out/blobs/sha256/.tmp-AbC123"
	echo '{' >"$W/out/index.json.tmp-XyZ789"
	mkdir -p "$TMPDIR/imagespec-docker-archive-Qq1234/blobs/sha256"
	head -c 1000 /dev/urandom >"$TMPDIR/imagespec-docker-archive-Qq1234/blobs/sha256/.tmp-Rr5678"
	echo held >"$W/out/blobs/sha256/.tmp-Held01"
	# a process that holds the lock: the subshell takes it, then becomes
	# sleep (so that killing $holder ends the holder; its output is not
	# the test's, so a leftover could not keep the harness waiting)
	(flock 9 && exec sleep 600) 9<"$W/out/blobs/sha256/.tmp-Held01" >/dev/null 2>&1 &
	holder=$!
	while ! grep -q sleep "/proc/$holder/cmdline" 2>/dev/null; do :; done
	DESC="$w: the re-run succeeds" run_expect 0 '' ims build "$W/image.yaml" "${B[@]}" --output "oci:$W/out:x"
	check_eq "$w: the re-run gives the uninterrupted digest (skopeo)" "$REF" "$(raw_digest "oci:$W/out:x")"
	check_match "$w: umoci lists the tag" '^x$' "$(umoci ls --layout "$W/out" 2>&1)"
	check_eq "$w: the stale temp files are gone, the held one stays" ".tmp-Held01" \
		"$(cd "$W/out/blobs/sha256" && ls -A | grep tmp)"
	check "$w: no index.json.tmp-* left" test ! -e "$W/out/index.json.tmp-XyZ789"
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
	rm -f "$W/out/blobs/sha256/.tmp-Held01"
	# the layout checks out with umoci
	check "$w: umoci unpacks it" umoci unpack --rootless --image "$W/out:x" "$TMP/bundle"
	rm -rf "$TMP/bundle"
else
	not_ok "$w: the kill point was never reached"
fi

w="SIGKILL, docker-archive: (staging dir in TMPDIR)"
rm -rf "${TMPDIR:?}"/*
if tries 3 KILL "$TMPDIR/imagespec-docker-archive-" "$IMAGESPEC" build "$W/image.yaml" "${B[@]}" --output "docker-archive:$W/out-docker.tar:r/x:1"; then
	check_eq "$w: killed" 137 "$RC"
	check_match "$w: the killed run left its staging dir" 'imagespec-docker-archive-' "$(ls -A "$TMPDIR")"
	echo junk >"$W/out-docker.tar.tmp-Zz9999"
	DESC="$w: the re-run succeeds" \
		run_expect 0 '' ims build "$W/image.yaml" "${B[@]}" --output "docker-archive:$W/out-docker.tar:r/x:1"
	check_eq "$w: same layer as the uninterrupted build" "$DREF" \
		"$(skopeo inspect --config "docker-archive:$W/out-docker.tar" | jq -r '.rootfs.diff_ids[0]')"
	check_eq "$w: the re-run removed the staging dir" "" "$(ls -A "$TMPDIR")"
	check "$w: the stale FILE.tmp-* is gone" test ! -e "$W/out-docker.tar.tmp-Zz9999"
else
	not_ok "$w: the kill point was never reached"
fi

# --- SIGINT that the parent ignores (nohup, a background job of a script)
# stays ignored: the build goes on.
w="SIGINT ignored by the parent"
env --ignore-signal=INT "$IMAGESPEC" build "$W/small/image.yaml" "${B[@]}" --output "oci:$W/ign:x" >/dev/null 2>&1 &
pid=$!
# once it runs imagespec (its handlers are set before the build starts,
# and it is stopped until the signal is sent)
while kill -0 "$pid" 2>/dev/null && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" != "$(readlink -f "$IMAGESPEC")" ]; do :; done
kill -STOP "$pid" 2>/dev/null
kill -INT "$pid" 2>/dev/null
kill -CONT "$pid" 2>/dev/null
wait "$pid"
check_eq "$w: the build goes on" 0 $?

done_testing
