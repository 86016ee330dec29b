#!/usr/bin/env bash
# Pushing to a registry: the bench workload (gen-workload.sh: 5,000 files,
# ~100 MB, half random) onto the busybox base, in a loopback docker-registry
# started by tests/registry/fixture.sh, timed with /usr/bin/time:
#   1. the offline build (--output oci:) of the same spec: the floor;
#   2. the same, then `skopeo copy` of the layout to the registry: the
#      two-step way;
#   3. a cold push (a fresh repository);
#   4. the same build again, nothing changed: no blob may be uploaded;
#   5. an 80 MB, three-layer base copied into another repository of the same
#      registry (imagespec copy, skopeo copy) and built upon: mounts, not
#      uploads;
#   6. container-image-builder 3.2.0 (npm) pushing the same workload onto the
#      same base, cold and again (bench/cib/push.js), when npm can install it.
# Blob uploads and mounts are counted from the registry's access log.
# usage: bench/registry.sh [--no-cib]
#   IMAGESPEC  the binary (default: build/src/cli/imagespec)
#   WORK       scratch dir (default: bench/work; ~1 GB free needed)
#   FILES, TOTAL_MB   passed to gen-workload.sh
#   KEEP_TMP=1 keeps the registry's temp dir
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
export SRCDIR=$root
export IMAGESPEC=${IMAGESPEC:-$root/build/src/cli/imagespec}
WORK=${WORK:-$here/work}
cib=true
[ "${1:-}" = --no-cib ] && cib=false
[ -x "$IMAGESPEC" ] || { echo "bench: no imagespec at $IMAGESPEC (ninja -C build?)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench: needs GNU time (apt-get install time)" >&2; exit 2; }
for t in skopeo jq curl openssl /usr/bin/docker-registry; do
	command -v "$t" >/dev/null || { echo "bench: needs $t (scripts/install-deps.sh)" >&2; exit 2; }
done
# lib.sh: busybox_path, host_arch; fixture.sh: the registry, by PID, cleaned up at exit.
. "$root/tests/e2e/lib.sh"
. "$root/tests/registry/fixture.sh"

wl=$WORK/workload
"$here/gen-workload.sh" "$wl" || exit 1
R=$WORK/registry
rm -rf "$R"
mkdir -p "$R"
export SOURCE_DATE_EPOCH=0

registry_start REG || { echo "bench: cannot start docker-registry" >&2; exit 1; }
seed_base "$REG_ADDR" base/busybox:1 || { echo "bench: cannot seed the base" >&2; exit 1; }

cat >"$wl/registry.yaml" <<EOF
base: $REG_ADDR/base/busybox:1
target: $REG_ADDR/bench/app:1
created: "2026-01-01T00:00:00Z"
files:
  - src: ./tree
    dest: /data/
EOF

rows=()
notes=()
# measure NAME REPO CMD...: runs CMD under /usr/bin/time; counts the blob
# uploads (PUT .../blobs/uploads/ 201) and mounts (POST ?mount= 201) the
# registry logged for REPO meanwhile.
measure() {
	local name=$1 repo=$2 mark log=$R/time.log wall rss ups mounts
	shift 2
	mark=$(registry_log_mark REG)
	sync
	if ! /usr/bin/time -f '%e %M' -o "$log" "$@" >"$R/out.log" 2>"$R/err.log"; then
		echo "bench: $name failed:" >&2
		tail -n 20 "$R/err.log" "$R/out.log" >&2
		rows+=("$(printf '%-48s %8s %8s %8s %8s' "$name" FAILED - - -)")
		return 1
	fi
	read -r wall rss <"$log"
	ups=$(registry_blob_puts REG "$mark" "$repo")
	mounts=$(registry_requests REG "$mark" "\"POST /v2/$repo/blobs/uploads/\\?[^ ]*mount=[^ ]* HTTP/[0-9.]+\" 201 ")
	rows+=("$(printf '%-48s %8.2f %8.1f %8s %8s' "$name" "$wall" "$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')" "$ups" "$mounts")")
	return 0
}

# --- the workload -----------------------------------------------------------------
measure "offline build --output oci:" none \
	"$IMAGESPEC" build "$wl/registry.yaml" --no-cache --output "oci:$R/offline:1" --progress quiet
OFFLINE=$(grep -Eo 'sha256:[0-9a-f]{64}$' "$R/out.log" | tail -n 1)
measure "  + skopeo copy oci: -> registry" bench/skopeo \
	skopeo copy -q --dest-tls-verify=false "oci:$R/offline:1" "docker://$REG_ADDR/bench/skopeo:1"
measure "imagespec build, cold push" bench/app \
	"$IMAGESPEC" build "$wl/registry.yaml" --no-cache --progress quiet
PUSHED=$(grep -Eo 'sha256:[0-9a-f]{64}$' "$R/out.log" | tail -n 1)
[ "$PUSHED" = "$OFFLINE" ] || notes+=("cold push digest $PUSHED differs from the offline build's $OFFLINE")
measure "imagespec build, push again (nothing changed)" bench/app \
	"$IMAGESPEC" build "$wl/registry.yaml" --no-cache --progress quiet --json
jq -e '[.manifests[].layers[].action] | all(. == "skipped")' "$R/out.log" >/dev/null 2>&1 ||
	notes+=("push again: --json actions are not all skipped: $(jq -c '[.manifests[].layers[].action]' "$R/out.log" 2>/dev/null)")
measure "imagespec build -j 1, cold push" bench/app-j1 \
	"$IMAGESPEC" build "$wl/registry.yaml" --no-cache -j 1 --target "$REG_ADDR/bench/app-j1:1" --progress quiet

# --- an 80 MB three-layer base, copied within the registry ---------------------------
mkdir -p "$R/bigbase/l1" "$R/bigbase/l2" "$R/bigbase/l3"
for i in 1 2 3; do
	# The zeros are cut to length, not openssl's output: no reader stops early.
	head -c $((80 * 1000 * 1000 / 3)) /dev/zero |
		openssl enc -aes-256-ctr -nosalt -pbkdf2 -pass "pass:imagespec-bigbase-$i" 2>/dev/null >"$R/bigbase/l$i/blob$i.bin"
done
cat >"$R/bigbase/image.yaml" <<EOF
base: $REG_ADDR/base/busybox:1
target: oci:out:1
created: "2026-01-01T00:00:00Z"
layers:
  - files: [{src: ./l1/blob1.bin, dest: /big/1.bin}]
  - files: [{src: ./l2/blob2.bin, dest: /big/2.bin}]
  - files: [{src: ./l3/blob3.bin, dest: /big/3.bin}]
EOF
if "$IMAGESPEC" build "$R/bigbase/image.yaml" --output "oci:$R/bigbase/oci:1" --progress quiet >/dev/null 2>"$R/err.log" &&
	skopeo copy -q --dest-tls-verify=false "oci:$R/bigbase/oci:1" "docker://$REG_ADDR/big/base:1" 2>>"$R/err.log"; then
	measure "imagespec copy 80 MB base to another repo" big/copy \
		"$IMAGESPEC" copy "docker://$REG_ADDR/big/base:1" "docker://$REG_ADDR/big/copy:1"
	measure "skopeo copy 80 MB base to another repo" big/skopeo \
		skopeo copy -q --src-tls-verify=false --dest-tls-verify=false \
		"docker://$REG_ADDR/big/base:1" "docker://$REG_ADDR/big/skopeo:1"
	cat >"$R/bigbase/app.yaml" <<EOF
base: $REG_ADDR/big/base:1
target: $REG_ADDR/big/app:1
created: "2026-01-01T00:00:00Z"
files: [{dest: /hello.txt, content: "hello\n"}]
EOF
	if measure "imagespec build on the 80 MB base, other repo" big/app \
		"$IMAGESPEC" build "$R/bigbase/app.yaml" --json --progress quiet; then
		notes+=("build on the 80 MB base: --json actions $(jq -r '[.manifests[].layers[].action] | group_by(.) | map("\(.[0]) \(length)") | join(", ")' "$R/out.log" 2>/dev/null)")
	fi
else
	notes+=("could not make the 80 MB base: $(head -c 300 "$R/err.log")")
fi

# --- container-image-builder 3.2.0 ----------------------------------------------------
if $cib; then
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		notes+=("container-image-builder: node/npm not installed")
	elif ! (cd "$here/cib" && npm install --no-audit --no-fund --loglevel=error >"$R/npm.log" 2>&1); then
		notes+=("container-image-builder: npm install failed: $(tail -n 3 "$R/npm.log" | tr '\n' ' ')")
	else
		# 3.2.0 reads Docker schema 2 manifests only (its Accept header has no
		# OCI types; the registry answers 404): give it the same busybox base
		# in Docker format.
		seed_base "$REG_ADDR" base/busybox-docker:1 --format v2s2 ||
			notes+=("container-image-builder: cannot seed a Docker-format base")
		# First the library as it ships.
		if node "$here/cib/push.js" "$REG_ADDR/base/busybox-docker:1" "$REG_ADDR/cib/stock:1" "$wl/tree" \
			>"$R/cib-stock.out" 2>"$R/cib-stock.err"; then
			notes+=("container-image-builder 3.2.0 as shipped pushed fine")
		else
			notes+=("container-image-builder 3.2.0 as shipped fails: \"$(grep -m1 -o 'Error: .*' "$R/cib-stock.err" | cut -c1-90)...\" (it wants 204 for its PATCH upload; distribution answers 202 as the spec says); the rows below use push.js --buffer-uploads (the layer read into memory, then its own monolithic POST+PUT)")
		fi
		measure "container-image-builder 3.2.0*, cold push" cib/app \
			node "$here/cib/push.js" --buffer-uploads "$REG_ADDR/base/busybox-docker:1" "$REG_ADDR/cib/app:1" "$wl/tree" ||
			notes+=("container-image-builder cold push failed: $(tail -n 3 "$R/err.log" | tr '\n' ' ')")
		measure "container-image-builder 3.2.0*, push again" cib/app \
			node "$here/cib/push.js" --buffer-uploads "$REG_ADDR/base/busybox-docker:1" "$REG_ADDR/cib/app:1" "$wl/tree" ||
			notes+=("container-image-builder second push failed: $(tail -n 3 "$R/err.log" | tr '\n' ' ')")
		if skopeo inspect --raw --tls-verify=false "docker://$REG_ADDR/cib/app:1" >/dev/null 2>&1; then
			notes+=("container-image-builder's image: $(skopeo inspect --raw --tls-verify=false "docker://$REG_ADDR/cib/app:1" |
				jq -r '"\(.layers | length) layers, \([.layers[].size] | add) bytes"') (imagespec's: $(skopeo inspect --raw --tls-verify=false "docker://$REG_ADDR/bench/app:1" 2>/dev/null |
				jq -r '"\(.layers | length) layers, \([.layers[].size] | add) bytes"'))")
		fi
	fi
fi

echo
version=$("$IMAGESPEC" version 2>/dev/null)
echo "${version%%$'\n'*}, $(nproc) cores, $(uname -m); registry: $("$REGISTRY_BIN" --version 2>/dev/null | awk '{ print $NF }') on 127.0.0.1"
echo "workload: $(find "$wl/tree" -type f | wc -l) files, $(du -sm --apparent-size "$wl/tree" | cut -f1) MB, onto busybox ($REG_ADDR/base/busybox:1)"
printf '%-48s %8s %8s %8s %8s\n' case "wall s" "RSS MiB" uploads mounts
printf '%s\n' "${rows[@]}"
for n in "${notes[@]}"; do echo "note: $n"; done
