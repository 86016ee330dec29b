#!/usr/bin/env bash
# Reproducibility: the same spec and inputs give the same bytes whatever the
# checkout's path, file mtimes, umask, owner, -j (also the number of
# compressing threads), working directory and SOURCE_DATE_EPOCH (when the
# spec sets created). And `created` defaults to SOURCE_DATE_EPOCH, else 0.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root
need cc skopeo umoci jq python3 diff gzip zstd sha256sum

cc -static -O2 -o "$TMP/hello.bin" "$SRCDIR/examples/hello/hello.c" || bail "cannot compile hello.c"
BB=$(busybox_path)

# copy DIR UMASK MTIME: a copy of examples/ with the binaries in place.
copy() {
	local d=$1
	mkdir -p "$d"
	(
		umask "$2"
		cp -r "$SRCDIR/examples" "$d/examples"
		rm -rf "$d/examples/hello/app" "$d/examples/busybox/rootfs"
		mkdir -p "$d/examples/hello/app" "$d/examples/busybox/rootfs/bin"
		cp "$TMP/hello.bin" "$d/examples/hello/app/hello"
		cp "$BB" "$d/examples/busybox/rootfs/bin/busybox"
	)
	find "$d/examples" -exec touch -h -d "$3" {} +
}

A=$TMP/a
B=$TMP/some/much/deeper/path/b
copy "$A" 022 "2001-02-03 04:05:06"
copy "$B" 077 "2030-06-15 12:00:00"
chown -R 65534:65534 "$B"
check_eq "the two copies differ in mode (umask 022 vs 077)" "644 600" \
	"$(stat -c %a "$A/examples/app/site/config/app.conf" "$B/examples/app/site/config/app.conf" | tr '\n' ' ' | sed 's/ $//')"

mkdir -p "$TMP/cwd1" "$TMP/cwd2"
for e in hello busybox app tarball; do
	DESC="copy A: build $e (umask 022, -j 1, no SOURCE_DATE_EPOCH)" \
		run_expect 0 '' bash -c 'cd "$1" && umask 022 && exec "$2" build "$3" -j 1 --progress quiet' \
		_ "$TMP/cwd1" "$IMAGESPEC" "$A/examples/$e/image.yaml"
	da=$(digest_of_output "$RUN_OUT")
	DESC="copy B: build $e (umask 077, -j 4, SOURCE_DATE_EPOCH=999999999)" \
		run_expect 0 '' bash -c 'cd "$1" && umask 077 && SOURCE_DATE_EPOCH=999999999 exec "$2" build "$3" -j 4 --progress quiet' \
		_ "$TMP/cwd2" "$IMAGESPEC" "$B/examples/$e/image.yaml"
	db=$(digest_of_output "$RUN_OUT")
	if [ -n "$da" ]; then
		check_eq "$e: same manifest digest from both copies" "$da" "$db"
	else
		not_ok "$e: same manifest digest from both copies" "no digest printed"
	fi
done
check "the two out/ layouts are byte-identical (diff -r)" diff -r "$A/out" "$B/out"
check_eq "skopeo agrees on the app's digest" "$(raw_digest "oci:$A/out/app:1.0")" "$(raw_digest "oci:$B/out/app:1.0")"

# --- created: SOURCE_DATE_EPOCH, else 0 ------------------------------------
S=$TMP/sde
mkdir -p "$S/one" "$S/two"
for d in one two; do
	cat >"$S/$d/image.yaml" <<'EOF'
base: scratch
target: oci:out:x
files:
  - dest: /hello.txt
    content: "hi\n"
  - src: ./data.txt
    dest: /data.txt
EOF
	echo "data" >"$S/$d/data.txt"
done
touch -d "2011-11-11" "$S/two/data.txt"

# build_sde DIR SDE|-: builds DIR/image.yaml into DIR/L:x, prints the digest.
build_sde() {
	rm -rf "$1/L"
	if [ "$2" = - ]; then
		(unset SOURCE_DATE_EPOCH; ims build "$1/image.yaml" --output "oci:$1/L:x" --progress quiet)
	else
		SOURCE_DATE_EPOCH=$2 ims build "$1/image.yaml" --output "oci:$1/L:x" --progress quiet
	fi | grep -Eo 'sha256:[0-9a-f]{64}$'
}
d1=$(build_sde "$S/one" 1700000000)
check_eq "created = SOURCE_DATE_EPOCH when the spec has none" "2023-11-14T22:13:20Z" \
	"$(skopeo inspect --config "oci:$S/one/L:x" | jq -r .created)"
LB=$S/one/L/blobs/sha256/$(skopeo inspect --raw "oci:$S/one/L:x" | jq -r '.layers[0].digest | ltrimstr("sha256:")')
check "entries' mtime = SOURCE_DATE_EPOCH" python3 - "$LB" <<'EOF'
import sys, tarfile
with tarfile.open(sys.argv[1], "r:gz") as t:
    ms = t.getmembers()
    assert ms, "empty layer"
    for m in ms:
        assert m.mtime == 1700000000, (m.name, m.mtime)
EOF
d2=$(build_sde "$S/two" 1700000000)
check_eq "same SOURCE_DATE_EPOCH, other dir and source mtime: same digest" "$d1" "$d2"
d3=$(build_sde "$S/one" -)
check_eq "no created, no SOURCE_DATE_EPOCH: created is the epoch" "1970-01-01T00:00:00Z" \
	"$(skopeo inspect --config "oci:$S/one/L:x" | jq -r .created)"
check "another SOURCE_DATE_EPOCH gives another digest" test -n "$d3" -a "$d3" != "$d1"
sed -i '1a created: 1700000000' "$S/two/image.yaml"
d4=$(build_sde "$S/two" 5)
check_eq "created: epoch seconds in the spec wins over SOURCE_DATE_EPOCH" "$d1" "$d4"
sed -i 's/^created: .*/created: "2023-11-14T22:13:20Z"/' "$S/two/image.yaml"
d5=$(build_sde "$S/two" -)
check_eq "created: RFC 3339 = the same instant in epoch seconds" "$d1" "$d5"

# --- threads: -j 1, -j 2 and -j 8 give the same bytes ------------------------
# A layer of many 128 KiB gzip blocks and several 1 MiB zstd jobs, half text
# and half random bytes (stored), like the benchmark's. -j is also the number
# of compressing threads; it must never show in the digests. The gzip layer
# is then read by other tools: gzip, python3's gzip module, and skopeo and
# umoci (Go).
J=$TMP/threads
mkdir -p "$J"
(umask 022 && $PY - "$J/tree") <<'EOF'
import os, random, sys
rng = random.Random(8)
words = [bytes(rng.choice(b"abcdefghij") for _ in range(rng.randint(2, 8))) for _ in range(500)]
for i in range(60):
    d = os.path.join(sys.argv[1], "d%d" % (i % 4))
    os.makedirs(d, exist_ok=True)
    n = rng.randint(20000, 120000)
    if i % 2:
        data = rng.randbytes(n)
    else:
        data = b" ".join(rng.choice(words) for _ in range(n // 5))[:n]
    with open(os.path.join(d, "f%02d" % i), "wb") as f:
        f.write(data)
EOF
for alg in gzip zstd; do
	cat >"$J/$alg.yaml" <<EOF
base: scratch
target: oci:out:x
created: 0
compression: {algorithm: $alg}
files:
  - {src: ./tree, dest: /t/}
EOF
	digests=()
	for j in 1 2 8; do
		rm -rf "$J/$alg-$j"
		DESC="threads: $alg: build with -j $j" run_expect 0 '' \
			ims build "$J/$alg.yaml" --output "oci:$J/$alg-$j:x" -j "$j" --progress quiet
		digests+=("$(digest_of_output "$RUN_OUT")")
	done
	check "threads: $alg: the same manifest digest for -j 1, 2 and 8 (${digests[0]})" \
		test -n "${digests[0]}" -a "${digests[0]}" = "${digests[1]}" -a "${digests[0]}" = "${digests[2]}"
	printf -v "threads_$alg" %s "${digests[0]}"
	check "threads: $alg: the layouts of -j 1 and -j 8 are byte-identical" diff -r "$J/$alg-1" "$J/$alg-8"
done
# layer_of LAYOUT: the path of the image's first layer blob.
layer_of() {
	echo "$1/blobs/sha256/$(skopeo inspect --raw "oci:$1:x" | jq -r '.layers[0].digest | ltrimstr("sha256:")')"
}
# diff_id_of LAYOUT: the hex of the image's first diff_id.
diff_id_of() {
	skopeo inspect --config "oci:$1:x" | jq -r '.rootfs.diff_ids[0] | ltrimstr("sha256:")'
}
LG=$(layer_of "$J/gzip-8")
DIFF=$(diff_id_of "$J/gzip-8")
check "threads: the tar is many gzip blocks long (> 2 MiB)" test "$(gzip -dc "$LG" | wc -c)" -gt 2097152
check "threads: gzip -t accepts the parallel gzip layer" gzip -t "$LG"
check_eq "threads: gzip -dc gives the diff_id's tar" "$DIFF" "$(gzip -dc "$LG" | sha256sum | cut -d' ' -f1)"
check_eq "threads: python3's gzip module gives the diff_id's tar" "$DIFF" \
	"$($PY -c 'import gzip, hashlib, sys; print(hashlib.sha256(gzip.open(sys.argv[1]).read()).hexdigest())' "$LG")"
# One gzip member, as the issue asks and pigz writes: python's zlib reads
# one member (wbits 31) and must end exactly at the file's end, with the
# member's ISIZE equal to the tar's size (gzip -l trusts the last one).
check_eq "threads: the gzip layer is one gzip member, ending at the end of the file" "one member" \
	"$($PY -c '
import sys, zlib, struct
b = open(sys.argv[1], "rb").read()
d = zlib.decompressobj(31)
n = len(d.decompress(b)) + len(d.flush())
ok = d.eof and not d.unused_data and struct.unpack("<I", b[-4:])[0] == n % 2**32
print("one member" if ok else "eof=%s unused=%d" % (d.eof, len(d.unused_data)))' "$LG")"
check_eq "threads: zstd -dc gives the zstd layer's diff_id" "$(diff_id_of "$J/zstd-8")" \
	"$(zstd -dc "$(layer_of "$J/zstd-8")" | sha256sum | cut -d' ' -f1)"
check "threads: skopeo copies the gzip image (verifying every digest)" \
	skopeo copy -q "oci:$J/gzip-8:x" "oci:$J/copy:x"
check "threads: umoci unpacks the copy" unpack "$J/copy:x" "$J/bundle"
check "threads: the unpacked files are the tree's" diff -r "$J/tree" "$J/bundle/rootfs/t"

# --- golden digests ---------------------------------------------------------
# Specs with only inline content (or a tree made here from a fixed seed),
# so the digest depends on imagespec alone (and zlib, libzstd). A change
# here changes every user's digests: update the golden file on purpose,
# with IMAGESPEC_UPDATE_GOLDEN=1.
GOLDEN=$E2E_DIR/golden.txt
G=$TMP/golden
mkdir -p "$G"
cat >"$G/image.yaml" <<'EOF'
base: scratch
target: oci:out:golden
created: "2026-01-01T00:00:00Z"
files:
  - {dest: /etc, type: dir}
  - {dest: /etc/motd, content: "golden\n"}
  - {dest: /etc/secret, content: "s\n", mode: "0600", uid: 1000, gid: 1000}
  - {dest: /bin, type: dir}
  - {dest: /bin/sh, symlink: /bin/busybox}
cmd: ["/bin/sh"]
env: {A: "1"}
labels: {golden: "yes"}
EOF
gd=$(SOURCE_DATE_EPOCH=1 ims build "$G/image.yaml" --output "oci:$G/L:x" --platform linux/amd64 --progress quiet |
	grep -Eo 'sha256:[0-9a-f]{64}$')

# golden NAME DESC DIGEST: compares DIGEST with NAME's line in golden.txt,
# or records it there when IMAGESPEC_UPDATE_GOLDEN is set.
golden() {
	local want
	if [ -n "${IMAGESPEC_UPDATE_GOLDEN:-}" ]; then
		{ [ -f "$GOLDEN" ] && awk -v n="$1" '$1 != n' "$GOLDEN"; echo "$1 $3"; } | sort >"$GOLDEN.new" &&
			mv "$GOLDEN.new" "$GOLDEN"
		skip "golden digest ($2)" "golden.txt updated to $3"
		return 0
	fi
	want=$([ -f "$GOLDEN" ] && awk -v n="$1" '$1 == n {print $2}' "$GOLDEN")
	if [ -z "$want" ]; then
		skip "golden digest ($2)" "no $1 in tests/e2e/golden.txt (got $3)"
	else
		check_eq "golden digest ($2)" "$want" "$3" ||
			diag "the output's bytes changed; if that is intended (and worth every user's digests changing)," \
				"bump IMS_LAYER_FORMAT_VERSION in src/layer/layer.h and record the new digests:" \
				"  IMAGESPEC_UPDATE_GOLDEN=1 IMAGESPEC=build/src/cli/imagespec bash tests/e2e/repro.sh"
	fi
}
golden inline-linux-amd64 "inline spec, linux/amd64" "$gd"
# Layers of many gzip blocks and zstd jobs (the threads section above):
# these pin the block size, the stored-chunk rule and zstd's job size too.
# The zstd one also depends on the libzstd build.
golden threads-gzip "many gzip blocks, half stored" "${threads_gzip:-}"
golden threads-zstd "several zstd jobs" "${threads_zstd:-}"

done_testing
