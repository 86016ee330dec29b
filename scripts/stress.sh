#!/usr/bin/env bash
# Runs the whole suite N times (default 10) while the machine is loaded
# with 2 x nproc busy processes, in the plain and the ASan+UBSan build, as
# issue 12 asks: a check that depends on an idle machine shows up here.
#   bash scripts/stress.sh [N]
# Builds into build-stress/ and build-stress-asan/; prints the counts of
# meson's test log for each; exits non-zero when any run failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
N=${1:-10}
export CI=true
LOAD=()
stop_load() {
	local p
	for p in "${LOAD[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${LOAD[@]}"; do wait "$p" 2>/dev/null; done
}
trap stop_load EXIT
for _ in $(seq $((2 * $(nproc)))); do
	sh -c 'while :; do :; done' &
	LOAD+=("$!")
done
echo "stress: ${#LOAD[@]} busy processes on $(nproc) cores; $N repetitions"
status=0
for cfg in "build-stress:-Dbuildtype=debugoptimized" "build-stress-asan:-Dbuildtype=debug -Db_sanitize=address,undefined"; do
	dir=${cfg%%:*}
	# shellcheck disable=SC2086
	[ -d "$dir/meson-private" ] || meson setup "$dir" -Dwerror=true ${cfg#*:} >/dev/null || exit 1
	ninja -C "$dir" >/dev/null || exit 1
	rm -f "$dir/meson-logs/testlog.json"
	start=$(date +%s)
	meson test -C "$dir" --repeat "$N" --num-processes 4 >"$dir/stress.log" 2>&1
	rc=$?
	[ "$rc" -eq 0 ] || status=1
	# meson's own summary: with --repeat, testlog.json does not always keep
	# every run (seen under ASan), the summary does
	echo "stress: $dir: $(grep -aE '^(Ok|Fail|Timeout):' "$dir/stress.log" | tr -s ' ' | tr '\n' ' ')" \
		"meson test exited $rc after $(($(date +%s) - start)) s"
	grep -aE '^ *[0-9]+/[0-9]+ .* (FAIL|ERROR|TIMEOUT) ' "$dir/stress.log" | sed 's/^/stress:   /'
done
exit $status
