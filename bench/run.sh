#!/usr/bin/env bash
# Times imagespec against a `tar | gzip -2 | sha256sum` baseline (the least
# work any builder must do: read every byte, compress it, hash it), with
# /usr/bin/time -v for wall time and peak RSS:
#   1. the workload of gen-workload.sh (5,000 files, ~100 MB, half random)
#   2. one 1 GiB file, half random: streaming must keep RSS flat
# usage: bench/run.sh [--no-big]
#   IMAGESPEC  the binary (default: build/src/cli/imagespec)
#   WORK       scratch dir (default: bench/work; needs ~3.5 GB free with --big)
#   FILES, TOTAL_MB   passed to gen-workload.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
IMAGESPEC=${IMAGESPEC:-$root/build/src/cli/imagespec}
WORK=${WORK:-$here/work}
big=true
[ "${1:-}" = --no-big ] && big=false
[ -x "$IMAGESPEC" ] || { echo "bench: no imagespec at $IMAGESPEC (ninja -C build?)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench: needs GNU time (apt-get install time)" >&2; exit 2; }

wl=$WORK/workload
if $big; then "$here/gen-workload.sh" --big "$wl"; else "$here/gen-workload.sh" "$wl"; fi
export SOURCE_DATE_EPOCH=0

rows=()
# measure NAME INPUT_BYTES CMD...: runs CMD under /usr/bin/time -v.
measure() {
	local name=$1 bytes=$2
	shift 2
	local log=$WORK/time.log
	sync
	if ! /usr/bin/time -v -o "$log" "$@" >"$WORK/out.log" 2>&1; then
		echo "bench: $name failed:" >&2
		tail -n 20 "$WORK/out.log" >&2
		rows+=("$(printf '%-28s %10s %10s %10s' "$name" FAILED - -)")
		return 0
	fi
	local wall rss secs
	wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$log")
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")
	secs=$(awk -v t="$wall" 'BEGIN { n = split(t, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }')
	rows+=("$(printf '%-28s %10.2f %10.1f %10.1f' "$name" "$secs" "$((rss / 1024)).$(((rss % 1024) * 10 / 1024))" \
		"$(awk -v b="$bytes" -v s="$secs" 'BEGIN { if (s > 0) printf "%.1f", b / 1048576 / s; else print "-" }')")")
}

tree_bytes=$(du -sb --apparent-size "$wl/tree" | cut -f1)
rm -rf "$wl/out"
measure "imagespec: 5k files" "$tree_bytes" \
	"$IMAGESPEC" build "$wl/image.yaml" --no-cache --output "oci:$wl/out:bench" --progress quiet
measure "tar|gzip -2|sha256: 5k files" "$tree_bytes" \
	sh -c "tar -C '$wl' --sort=name -cf - tree | gzip -2 -n | sha256sum"
rm -rf "$wl/out"
measure "imagespec: 5k files, -j 1" "$tree_bytes" \
	"$IMAGESPEC" build "$wl/image.yaml" --no-cache -j 1 --output "oci:$wl/out:bench" --progress quiet
rm -rf "$wl/out"

if $big; then
	big_bytes=$(stat -c %s "$wl/big/big.bin")
	measure "imagespec: 1 GiB file" "$big_bytes" \
		"$IMAGESPEC" build "$wl/big.yaml" --no-cache --output "oci:$wl/out:big" --progress quiet
	measure "tar|gzip -2|sha256: 1 GiB" "$big_bytes" \
		sh -c "tar -C '$wl/big' -cf - big.bin | gzip -2 -n | sha256sum"
	rm -rf "$wl/out"
fi

echo
version=$("$IMAGESPEC" version 2>/dev/null)
echo "${version%%$'\n'*}, $(nproc) cores, $(uname -m)"
printf '%-28s %10s %10s %10s\n' case "wall s" "RSS MiB" "MiB/s"
printf '%s\n' "${rows[@]}"
