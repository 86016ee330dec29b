#!/usr/bin/env bash
# The layer cache, offline: hits and misses, digests unchanged by the cache
# (a cached build gives the manifest digest of an uncached one, checked by
# skopeo), an unchanged tree not even read (strace), damaged and missing
# entries rebuilt, concurrent builds sharing one cache, a killed build
# leaving no torn entry, plan writing nothing, du and prune.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need skopeo umoci jq strace sha256sum tar gzip python3

ims() { "$IMAGESPEC" "$@"; }
W=$TMP/w
C=$TMP/cache
mkdir -p "$W/deps/lib" "$W/src" "$W/tarball/tool"
for i in $(seq 1 40); do
	printf 'dependency %d\n%s\n' "$i" "$(seq 1 500)" >"$W/deps/lib/mod$i.txt"
done
head -c 300000 /dev/urandom >"$W/deps/lib/blob.bin"
echo 'console.log("v1")' >"$W/src/index.js"
echo 'tool' >"$W/tarball/tool/README"
tar --sort=name --owner=0 --group=0 --mtime=@0 -C "$W/tarball" -czf "$W/tool.tar.gz" tool
# Sources with an mtime in the past: a file written within two seconds of
# being hashed is not remembered (git's "racily clean"), which is right for
# an editor but would make these checks depend on the clock.
find "$W" -exec touch -h -d @1600000000 {} +
cat >"$W/image.yaml" <<'EOF'
base: scratch
target: oci:out:1
created: "2026-01-01T00:00:00Z"
layers:
  - name: deps
    files: [{src: ./deps/, dest: /deps/}]
  - name: tool
    archive: ./tool.tar.gz
    dest: /opt
  - name: src
    files: [{src: ./src/, dest: /app/}]
cmd: ["/app/index.js"]
EOF

# build OUT [ARGS...]: a build into oci:OUT:1 with the cache C; sets DIGEST
# and ACTIONS (the layers' actions from --json).
build() {
	local out=$1
	shift
	DESC=${DESC:-"build into $out"} run_expect 0 '' ims build "$W/image.yaml" --output "oci:$TMP/$out:1" \
		--cache-dir "$C" --json "$@"
	DIGEST=$(jq -r .digest "$RUN_OUT" 2>/dev/null)
	ACTIONS=$(jq -r '[.manifests[0].layers[].action] | join(" ")' "$RUN_OUT" 2>/dev/null)
}
from_cache() { # how many layers the last run took from the cache
	grep -c 'from the cache)' "$RUN_ERR"
}
skopeo_digest() {
	skopeo inspect --raw "oci:$TMP/$1:1" | sha256sum | sed 's/^/sha256:/; s/ .*//'
}
# uncached OUT: the same spec without the cache; sets NOCACHE.
uncached() {
	DESC="--no-cache build into $1" run_expect 0 '' ims build "$W/image.yaml" --output "oci:$TMP/$1:1" --no-cache --json
	NOCACHE=$(jq -r .digest "$RUN_OUT")
}
# cache_consistent: every remembered layer names a stored blob that hashes
# to its name, and nothing else is in the store.
cache_consistent() {
	local bad="" f d
	for f in "$C"/blobs/sha256/*; do
		[ -e "$f" ] || continue
		d=$(sha256sum <"$f" | cut -d' ' -f1)
		[ "$d" = "$(basename "$f")" ] || bad+="blob $f hashes to $d; "
	done
	for f in "$C"/layers/*; do
		[ -e "$f" ] || continue
		d=$(head -n 1 "$f")
		[ -f "$C/blobs/sha256/${d#sha256:}" ] || bad+="entry $f names a missing blob $d; "
	done
	bad+=$(find "$C" -name '*.tmp-*' -printf 'temp file %p; ')
	echo "$bad"
}

# LeakSanitizer cannot work under ptrace: the strace runs do without it
# (the same builds run without strace, and with it, below).
NOLEAKS=("ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0")
# reads LOG: how many source files strace saw opened for reading (the
# layer writer opens them relative to their directory: by base name).
reads() {
	grep -Ec '"([^"]*/)?(mod[0-9]+\.txt|blob\.bin|index\.js)", (\{flags=)?O_RDONLY' "$1"
}

# --- a cold build, then the same without the cache -------------------------------------------------
DESC="cold build with an empty cache (strace: which files are opened)" \
	run_expect 0 '' env "${NOLEAKS[@]}" strace -f -qq -e trace=open,openat,openat2 -o "$TMP/strace-cold.log" \
	"$IMAGESPEC" build "$W/image.yaml" --output "oci:$TMP/cold:1" --cache-dir "$C" --json
COLD=$(jq -r .digest "$RUN_OUT")
check_eq "... every source file was read (42)" 42 "$(reads "$TMP/strace-cold.log")"
check_eq "... every layer was built" 0 "$(from_cache)"
check_eq "... skopeo reads the printed digest" "$COLD" "$(skopeo_digest cold)"
check_eq "... the cache holds the three layers (two file layers and the archive)" "3 3" \
	"$(ls "$C/blobs/sha256" | wc -l) $(ls "$C/layers" | wc -l)"
check_eq "... and is consistent" "" "$(cache_consistent)"
uncached nocache
check_eq "a build without the cache gives the same manifest digest" "$COLD" "$NOCACHE"

# --- nothing changed: every layer from the cache, no source read -------------------------------------
DESC="rebuild with nothing changed (strace: which files are opened)" \
	run_expect 0 '' env "${NOLEAKS[@]}" strace -f -qq -e trace=open,openat,openat2 -o "$TMP/strace.log" \
	"$IMAGESPEC" build "$W/image.yaml" --output "oci:$TMP/warm:1" --cache-dir "$C" --json
WARM=$(jq -r .digest "$RUN_OUT")
check_eq "... all three layers come from the cache" 3 "$(from_cache)"
check_eq "... the same digest" "$COLD" "$WARM"
check_eq "... skopeo reads it" "$COLD" "$(skopeo_digest warm)"
check_eq "... no source file was opened for reading (the stat cache knew them)" 0 "$(reads "$TMP/strace.log")"
check "... umoci unpacks the cached image" umoci unpack --image "$TMP/warm:1" "$TMP/warm-bundle"
check_eq "... with the files" "dependency 7 console.log(\"v1\") tool" \
	"$(head -n 1 "$TMP/warm-bundle/rootfs/deps/lib/mod7.txt") $(cat "$TMP/warm-bundle/rootfs/app/index.js") $(cat "$TMP/warm-bundle/rootfs/opt/tool/README")"

# --- a damaged stat table is not read: its sources are read again ----------------------------------------
# The table (cache/stats.c) is binary and ends with a sha256 of all of it.
# A damaged one is only a lost hint: every source is read again, the image
# has the same digest, and the table is written anew, so that the build
# after it reads no source. Bytes added, then one byte changed inside.
stats=$(grep -l 'mod7\.txt' "$C"/stats/* 2>/dev/null)
check "the stat table names mod7.txt" test -n "$stats"
check_eq "... in binary, version 2" "ims-stat" "$(head -c 8 "$stats")"
nsources=$(grep -Ec '"([^"]*/)?(mod[0-9]+\.txt|blob\.bin|index\.js)"' "$TMP/strace-cold.log")
damaged_table() { # NAME: a build over the damaged table, then one more
	DESC="rebuild with the stat table $1 (strace: which files are opened)" \
		run_expect 0 '' env "${NOLEAKS[@]}" strace -f -qq -e trace=open,openat,openat2 -o "$TMP/strace-$2.log" \
		"$IMAGESPEC" build "$W/image.yaml" --output "oci:$TMP/stats-$2:1" --cache-dir "$C" --json
	check_eq "... the same digest" "$COLD" "$(jq -r .digest "$RUN_OUT")"
	check "... every source was read again" test "$(reads "$TMP/strace-$2.log")" -ge "$nsources"
	DESC="the build after it (strace)" \
		run_expect 0 '' env "${NOLEAKS[@]}" strace -f -qq -e trace=open,openat,openat2 -o "$TMP/strace-$2-after.log" \
		"$IMAGESPEC" build "$W/image.yaml" --output "oci:$TMP/stats-$2-after:1" --cache-dir "$C" --json
	check_eq "... the same digest" "$COLD" "$(jq -r .digest "$RUN_OUT")"
	check_eq "... reads no source: the table was written anew" 0 "$(reads "$TMP/strace-$2-after.log")"
	check_eq "... and takes all three layers from the cache" 3 "$(from_cache)"
}
printf 'garbage\n' >>"$stats"
damaged_table "with bytes added" garbage
size=$(stat -c %s "$stats")
byte=$(od -An -tu1 -j $((size / 2)) -N 1 "$stats" | tr -d ' ')
printf "\\$(printf '%03o' $(((byte + 1) % 256)))" | dd of="$stats" bs=1 seek=$((size / 2)) conv=notrunc status=none
check_eq "... (a byte changed, the size kept)" "$size" "$(stat -c %s "$stats")"
damaged_table "with a byte changed" flipped

# --- touched, not changed: hashed again, not rebuilt ------------------------------------------------------
# New times (and ctime) on files the stat table has seen with the same size
# and mode, as a fresh clone or a checkout leaves them: they are read to
# hash them, and their layer still comes from the cache.
touch -d @1600000200 "$W/deps/lib/mod3.txt" "$W/deps/lib/mod4.txt"
DESC="rebuild with two files touched (strace: which files are opened)" \
	run_expect 0 '' env "${NOLEAKS[@]}" strace -f -qq -e trace=open,openat,openat2 -o "$TMP/strace-touched.log" \
	"$IMAGESPEC" build "$W/image.yaml" --output "oci:$TMP/touched:1" --cache-dir "$C" --json
check_eq "... the same digest" "$COLD" "$(jq -r .digest "$RUN_OUT")"
check_eq "... all three layers come from the cache" 3 "$(from_cache)"
check_eq "... only the two touched files were read (to hash them)" 2 "$(reads "$TMP/strace-touched.log")"
check_nomatch "... no layer was built" "building layer" "$RUN_STDERR"

# --- an archive's required sha256 holds on a cache hit too ----------------------------------------------
# The tool layer is in the cache; a spec that requires another sha256 of the
# same archive is refused (the check the layer writer makes, made before the
# cache is asked), and one that requires the right sha256 is a hit.
TOOL_SUM=$(sha256sum <"$W/tool.tar.gz" | cut -d' ' -f1)
sed "s|^    archive: ./tool.tar.gz\$|&\n    sha256: $(printf '%064d' 0)|" "$W/image.yaml" >"$W/wrong-sum.yaml"
check_match "the spec requires a wrong sha256" "sha256: 0{64}" "$(cat "$W/wrong-sum.yaml")"
DESC="a wrong sha256 for a cached archive layer" run_expect 1 "tool\.tar\.gz. has sha256 .$TOOL_SUM., expected .0{64}." \
	ims build "$W/wrong-sum.yaml" --output "oci:$TMP/wrong-sum:1" --cache-dir "$C"
check "... nothing was written" test ! -e "$TMP/wrong-sum"
sed "s|^    archive: ./tool.tar.gz\$|&\n    sha256: $TOOL_SUM|" "$W/image.yaml" >"$W/right-sum.yaml"
DESC="the right sha256 for a cached archive layer" run_expect 0 '' \
	ims build "$W/right-sum.yaml" --output "oci:$TMP/right-sum:1" --cache-dir "$C" --json
check_eq "... all three layers come from the cache" 3 "$(from_cache)"
check_eq "... the same digest" "$COLD" "$(jq -r .digest "$RUN_OUT")"

# --- one file edited: only its layer is built -------------------------------------------------------------
echo 'console.log("v2")' >"$W/src/index.js"
touch -d @1600000100 "$W/src/index.js"
DESC="one source file edited" build edited
EDITED=$DIGEST
check_eq "... the two unchanged layers come from the cache" 2 "$(from_cache)"
check_match "... the src layer was built" "building layer 3/3: imagespec: files ./src/" "$RUN_STDERR"
check_nomatch "... the deps and tool layers were not" "building layer [12]/3" "$RUN_STDERR"
uncached edited-nocache
check_eq "... the digest is the uncached build's" "$NOCACHE" "$EDITED"
# The same size and mtime, other content: ctime tells.
echo 'console.log("v3")' >"$W/src/index.js"
touch -d @1600000100 "$W/src/index.js"
DESC="same size and mtime, other content" build samestat
check_eq "... is rebuilt (the stat cache compares ctime too)" 2 "$(from_cache)"
uncached samestat-nocache
check_eq "... with the uncached digest" "$NOCACHE" "$DIGEST"

# --- damaged and missing entries are rebuilt, never trusted ------------------------------------------
DEPS=$(jq -r '.manifests[0].layers[0].digest' "$RUN_OUT")
BLOB=$C/blobs/sha256/${DEPS#sha256:}
python3 -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(100); b = f.read(1); f.seek(100); f.write(bytes([b[0] ^ 0xff]))' "$BLOB"
DESC="a cached blob with a flipped byte" build damaged
check_match "... is noticed" "damaged or gone; building it again" "$RUN_STDERR"
check_eq "... and rebuilt: the uncached digest" "$NOCACHE" "$DIGEST"
check_eq "... the cache is whole again" "" "$(cache_consistent)"
rm -f "$BLOB"
DESC="a cached blob that is gone" build gone
check_eq "... is rebuilt: the uncached digest" "$NOCACHE" "$DIGEST"
for f in "$C"/layers/*; do echo "garbage" >"$f"; done
DESC="recipe entries full of garbage" build garbage
check_eq "... every layer is rebuilt" 0 "$(from_cache)"
check_eq "... with the uncached digest" "$NOCACHE" "$DIGEST"
check_eq "... the three entries it used are whole again" 3 "$(grep -l '^sha256:' "$C"/layers/* | wc -l)"
DESC="cache prune with room to spare" run_expect 0 '' ims cache prune --max-size 1T --cache-dir "$C"
check_eq "... sweeps the entries no blob backs, and the cache is consistent" "" "$(cache_consistent)"

# --- plan writes nothing, and knows the digest when every layer is cached ------------------------------
BEFORE=$(find "$C" -printf '%p %s %T@\n' | sort)
DESC="plan with a warm cache" run_expect 0 '' ims plan "$W/image.yaml" --output "oci:$TMP/planned:1" --cache-dir "$C" --json
check_eq "... predicts the digest the build gives" "$NOCACHE" "$(jq -r .digest "$RUN_OUT")"
check_eq "... and wrote nothing into the cache" "$BEFORE" "$(find "$C" -printf '%p %s %T@\n' | sort)"
check "... nor an output" test ! -e "$TMP/planned"

# --- concurrent builds share one cache ----------------------------------------------------------------------------
C2=$TMP/cache-shared
PIDS=()
for i in 1 2 3 4; do
	"$IMAGESPEC" build "$W/image.yaml" --output "oci:$TMP/conc$i:1" --cache-dir "$C2" --json \
		>"$TMP/conc$i.out" 2>"$TMP/conc$i.err" &
	PIDS+=("$!")
done
RCS=""
for p in "${PIDS[@]}"; do
	wait "$p"
	RCS+="$? "
done
check_eq "four builds at once with one empty cache all succeed" "0 0 0 0 " "$RCS"
check_eq "... with the same digest" "$NOCACHE $NOCACHE $NOCACHE $NOCACHE" \
	"$(for i in 1 2 3 4; do jq -r .digest "$TMP/conc$i.out"; done | tr '\n' ' ' | sed 's/ $//')"
SAVEDC=$C
C=$C2
check_eq "... the shared cache is consistent" "" "$(cache_consistent)"
check_eq "... and holds each layer once" "3 3" "$(ls "$C/blobs/sha256" | wc -l) $(ls "$C/layers" | wc -l)"
C=$SAVEDC

# --- a build killed mid-layer leaves no torn entry ----------------------------------------------------------------------
mkdir -p "$W/big"
head -c $((60 * 1024 * 1024)) /dev/urandom >"$W/big/big.bin"
touch -d @1600000000 "$W/big" "$W/big/big.bin"
cat >"$W/big.yaml" <<'EOF'
base: scratch
target: oci:out:1
created: "2026-01-01T00:00:00Z"
layers:
  - files: [{src: ./big/, dest: /big/}]
compression: {algorithm: gzip, level: 9}
EOF
C3=$TMP/cache-killed
"$IMAGESPEC" build "$W/big.yaml" --output "oci:$TMP/killed:1" --cache-dir "$C3" --progress plain \
	>"$TMP/killed.out" 2>"$TMP/killed.err" &
KPID=$!
# Kill it once it is writing the layer (its first progress line).
for _ in $(seq 600); do
	grep -q 'building layer' "$TMP/killed.err" && break
	kill -0 "$KPID" 2>/dev/null || break
	sleep 0.05
done
kill -9 "$KPID" 2>/dev/null
wait "$KPID" 2>/dev/null
check_match "the build was killed while building its layer" 'building layer 1/1' "$(cat "$TMP/killed.err")"
C=$C3
check_eq "... the cache holds no torn entry and no temp file" "" "$(cache_consistent)"
C=$SAVEDC
DESC="... a re-run completes" run_expect 0 '' ims build "$W/big.yaml" --output "oci:$TMP/killed:1" \
	--cache-dir "$C3" --json
RERUN=$(jq -r .digest "$RUN_OUT")
DESC="... the same spec without the cache" run_expect 0 '' ims build "$W/big.yaml" --output "oci:$TMP/killed-ref:1" \
	--no-cache --json
check_eq "... with the digest of an uncached build" "$(jq -r .digest "$RUN_OUT")" "$RERUN"

# --- a fresh clone built at once, twice: the second comes from the cache -------------------------------
# Files written just before the build are racily clean: not trusted
# unchanged next time. They are still recorded as seen (size and mode), so
# the next fresh clone (new inodes and times) is hashed and found in the
# cache, not rebuilt. Times in the future make every file racy however slow
# the machine is.
F=$TMP/fresh
C4=$TMP/cache-fresh
mkdir -p "$F/src/lib"
for i in $(seq 1 20); do printf 'module %d\n' "$i" >"$F/src/lib/m$i.txt"; done
printf '%s\n' 'base: scratch' 'created: 0' 'files:' '  - src: ./src' '    dest: /app/' >"$F/image.yaml"
cp -r "$F/src" "$TMP/fresh-pristine"
future() { find "$F/src" -exec touch -h -d "@$(($(date +%s) + 3600))" {} +; }
future
DESC="a fresh clone built at once" run_expect 0 '' ims build "$F/image.yaml" --output "oci:$TMP/fresh1:1" \
	--cache-dir "$C4" --json
FRESH=$(jq -r .digest "$RUN_OUT")
check_eq "... its layer is built" 0 "$(from_cache)"
rm -rf "$F/src" && cp -r "$TMP/fresh-pristine" "$F/src" && future
DESC="the next fresh clone built at once" run_expect 0 '' ims build "$F/image.yaml" --output "oci:$TMP/fresh2:1" \
	--cache-dir "$C4" --json
check_eq "... its layer comes from the cache" 1 "$(from_cache)"
check_eq "... the same digest" "$FRESH" "$(jq -r .digest "$RUN_OUT")"
printf 'module 3, edited\n' >"$F/src/lib/m3.txt"
touch -d "@$(($(date +%s) + 3600))" "$F/src/lib/m3.txt"
DESC="an edit that keeps every time racy" run_expect 0 '' ims build "$F/image.yaml" --output "oci:$TMP/fresh3:1" \
	--cache-dir "$C4" --json
check_eq "... is built, never taken as unchanged" 0 "$(from_cache)"
check "... umoci unpacks it" umoci unpack --image "$TMP/fresh3:1" "$TMP/fresh3-bundle"
check_eq "... with the edit" "module 3, edited" "$(cat "$TMP/fresh3-bundle/rootfs/app/lib/m3.txt")"

# --- du and prune -----------------------------------------------------------------------------------------------
DESC="cache du" run_expect 0 '' ims cache du --cache-dir "$C" --json
check_eq "... counts the blobs on disk" "$(ls "$C/blobs/sha256" | wc -l)" "$(jq .blobs "$RUN_OUT")"
DESC="cache prune --max-size 0" run_expect 0 '' ims cache prune --max-size 0 --cache-dir "$C" --json
check_eq "... leaves nothing" "0 0 0" "$(jq -r '"\(.bytes) \(.blobs) \(.layers)"' "$RUN_OUT")"
DESC="cache prune --max-size 12X" run_expect 2 'max-size' ims cache prune --max-size 12X --cache-dir "$C"
DESC="after the prune, a build" build pruned
check_eq "... builds every layer again" 0 "$(from_cache)"
check_eq "... with the same digest" "$NOCACHE" "$DIGEST"

done_testing
