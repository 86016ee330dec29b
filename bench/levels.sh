#!/usr/bin/env bash
# The gzip level table of docs/choices.md: for each level, the layer size
# of the benchmark workload (gen-workload.sh) and the time of a whole build
# at -j 1 and -j 2 (the best of RUNS runs: the least disturbed by whatever
# else the machine is doing), with the CPU time of that run. The layer
# cache is off (--no-cache): every run compresses.
# usage: bench/levels.sh [LEVEL...]      (default: 1 2 3 4 5 6)
#   IMAGESPEC, WORK as for run.sh; RUNS (default 3); JOBS (default "1 2")
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
IMAGESPEC=${IMAGESPEC:-$root/build/src/cli/imagespec}
WORK=${WORK:-$here/work}
RUNS=${RUNS:-3}
JOBS=${JOBS:-1 2}
levels=("$@")
[ ${#levels[@]} -gt 0 ] || levels=(1 2 3 4 5 6)
[ -x "$IMAGESPEC" ] || { echo "bench: no imagespec at $IMAGESPEC (ninja -C build?)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench: needs GNU time (apt-get install time)" >&2; exit 2; }

wl=$WORK/workload
"$here/gen-workload.sh" "$wl" >&2
export SOURCE_DATE_EPOCH=0

printf '%-6s %12s' level bytes
for j in $JOBS; do printf ' %10s %10s %8s' "wall-j$j" "cpu-j$j" "MiB-j$j"; done
printf '\n'
for level in "${levels[@]}"; do
	spec=$wl/level-$level.yaml
	sed "s/^files:/compression: {algorithm: gzip, level: $level}\nfiles:/" "$wl/image.yaml" >"$spec"
	size=
	printf '%-6s' "$level"
	row=
	for j in $JOBS; do
		best_wall= best_cpu= best_rss=
		for _ in $(seq "$RUNS"); do
			out=$WORK/levels-out
			rm -rf "$out"
			/usr/bin/time -f '%e %U %S %M' -o "$WORK/levels.time" \
				"$IMAGESPEC" build "$spec" --output "oci:$out:bench" --progress quiet --no-cache -j "$j" >/dev/null
			read -r wall user sys rss <"$WORK/levels.time"
			cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
			if [ -z "$best_wall" ] || awk -v a="$wall" -v b="$best_wall" 'BEGIN { exit !(a < b) }'; then
				best_wall=$wall best_cpu=$cpu best_rss=$rss
			fi
			s=$(find "$out/blobs/sha256" -type f -size +1M -printf '%s\n')
			if [ -n "$size" ] && [ "$s" != "$size" ]; then
				echo "bench: level $level: $s bytes at -j $j, $size before" >&2
				exit 1
			fi
			size=$s
		done
		row+=$(printf ' %10.2f %10.2f %8.1f' "$best_wall" "$best_cpu" "$(awk -v k="$best_rss" 'BEGIN { print k / 1024 }')")
	done
	printf ' %12s%s\n' "$size" "$row"
	rm -f "$spec"
done
