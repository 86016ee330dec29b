#!/usr/bin/env bash
# imagespec side by side with what a user does without it: umoci builds the
# image in an OCI layout and skopeo moves it to and from the registry.
#
#   peer workflow (each command timed; the peer's time is their sum):
#     skopeo copy docker://REG/base/busybox:1 oci:L:base
#     umoci insert --image L:base --tag app TREE /app
#     umoci config --image L:app --config.cmd ...
#     skopeo copy oci:L:app docker://REG/team/REPO:1
#   imagespec: one `imagespec build` of a spec saying the same.
#
# Cases (the workload of gen-workload.sh, 5,000 files / ~100 MB, at /app on a
# busybox base, in a loopback docker-registry this script starts):
#   cold        a new, empty repository per repetition
#   again       the same image pushed again, nothing changed
#   edit        one small file changed, rebuilt and pushed
#   clone       the tree copied afresh (new inodes and times, same content),
#               as a CI job that keeps its cache dir and clones the repo
#   cache-from  a fresh runner (empty --cache-dir) with --cache-from, nothing
#               changed: only when this imagespec has --cache-from
#   edit-2l     the app as two layers, the workload as dependencies at
#               /app/deps and a small source tree at /app/src (as a user
#               lays an app out): one source file changed, rebuilt and
#               pushed (the peer inserts both trees, as it must)
#   big         (--big) one 1 GiB file, cold
#   big-again   (--big) the 1 GiB file pushed again, nothing changed
# After each cold and big repetition, imagespec's layer is uploaded again
# alone with curl (upload_alone): the least time this registry takes to
# receive it, reported beside the ratios as the floor any tool is under.
# Each cold push (cold, big) adds a small file unique to the run and the
# repetition, so that no tool can mount a layer it pushed before.
# Each case runs imagespec, peer, imagespec, peer, ... (REPS times each), so
# that a machine busy with other work slows both alike; the table reports
# medians and the ratio imagespec/peer, never a time alone. Last, each of
# issue 8's targets that the run's cases measure, with "met" or "NOT met"
# (peers.json keeps them under "targets").
#
# usage: bench/peers.sh [--big] [--reps N] [--only CASE[,CASE...]]
#   --only     run these cases alone (e.g. --only cold,big; big implies --big)
#   IMAGESPEC  the binary (default: build/src/cli/imagespec; ninja -C build first)
#   WORK       scratch dir (default: bench/work): workload/ is shared with
#              run.sh, peers/ is this script's and removed at exit,
#              peers.json is the result for scripts
#   FILES, TOTAL_MB   passed to gen-workload.sh
#   REPS       repetitions per case (default 3; --reps overrides)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
IMAGESPEC=${IMAGESPEC:-$root/build/src/cli/imagespec}
WORK=${WORK:-$here/work}
REPS=${REPS:-3}
big=false
only=
while [ $# -gt 0 ]; do
	case $1 in
	--big) big=true ;;
	--reps)
		REPS=${2:-}
		shift
		;;
	--only)
		only=${2:-}
		shift
		[[ ",$only," == *,big,* || ",$only," == *,big-again,* ]] && big=true
		;;
	-h | --help)
		sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "peers: unknown argument $1 (usage: bench/peers.sh [--big] [--reps N] [--only CASE,...])" >&2
		exit 2
		;;
	esac
	shift
done
case $REPS in '' | *[!0-9]* | 0)
	echo "peers: --reps wants a positive number" >&2
	exit 2
	;;
esac
[ -x "$IMAGESPEC" ] || { echo "peers: no imagespec at $IMAGESPEC (ninja -C build?)" >&2; exit 2; }
IMAGESPEC=$(realpath "$IMAGESPEC")

# --- the peers, from Debian ---------------------------------------------------------
# Installed only when missing, and only as root: a contributor's machine is
# not changed behind their back, and nothing is built from source.
missing=()
for pair in umoci:umoci skopeo:skopeo /usr/bin/docker-registry:docker-registry cc:gcc \
	jq:jq curl:curl python3:python3; do
	command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
done
# The busybox base is made from Debian's static busybox, as the tests do
# (tests/registry/fixture.sh): a dynamic one would not run in the image.
busybox_static() {
	local p
	for p in /bin/busybox /usr/bin/busybox; do
		# ldd fails on a static executable
		if [ -x "$p" ] && ! ldd "$p" >/dev/null 2>&1; then
			echo "$p"
			return 0
		fi
	done
	return 1
}
busybox_static >/dev/null || missing+=(busybox-static)
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "peers: missing ${missing[*]}; as root: apt-get install -y ${missing[*]}" >&2
		exit 2
	fi
	echo "peers: installing ${missing[*]} from Debian" >&2
	# An image with empty package lists needs an update first.
	DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >/dev/null ||
		{ apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >/dev/null; } ||
		{ echo "peers: apt-get install ${missing[*]} failed" >&2; exit 2; }
fi

# --- scratch space, and cleaning it on any exit ------------------------------------
P=$WORK/peers
JSON=$WORK/peers.json
REG_PID=
cleanup() {
	local rc=$? n=100
	if [ -n "$REG_PID" ]; then
		kill "$REG_PID" 2>/dev/null
		# Wait for it by PID (up to 10 s), then insist.
		while kill -0 "$REG_PID" 2>/dev/null && [ $((n -= 1)) -gt 0 ]; do sleep 0.1; done
		kill -9 "$REG_PID" 2>/dev/null
		wait "$REG_PID" 2>/dev/null
	fi
	rm -rf "$P"
	exit "$rc"
}
trap cleanup EXIT
# ^C, a kill or a closed terminal still run the EXIT trap.
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
# A JSON left by an earlier run must not pass for this run's if it fails.
rm -rf "$P" "$JSON"
mkdir -p "$P/log" "$P/cache"
# The timer (bench/timed.c): a small C program, so that what it costs of
# its own (a fork and an exec) is not Python's start of /usr/bin/time.
cc -O2 -o "$P/timed" "$here/timed.c" || { echo "peers: cannot compile bench/timed.c" >&2; exit 2; }

# Everything here is on loopback: an ambient proxy must never see it, and no
# ambient credentials may change what is sent.
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy REGISTRY_AUTH_FILE
mkdir -p "$P/docker-config"
export DOCKER_CONFIG=$P/docker-config
export SOURCE_DATE_EPOCH=0

# --- the workload --------------------------------------------------------------------
wl=$WORK/workload
if $big; then "$here/gen-workload.sh" --big "$wl"; else "$here/gen-workload.sh" "$wl"; fi || exit 1
# A private copy: the edit case changes a file, and the shared workload (and
# the digest gen-workload.sh prints for it) must stay as it is.
cp -a "$wl/tree" "$P/app"
EDITED=d00/e0/f00000.txt
# A cold push must upload its layer. skopeo remembers where it pushed a blob
# before (its blob-info cache, /var/lib/containers/cache as root) and mounts
# it from there into a new repository of the same registry, so repetition 2
# of the same layer would not be cold for it. So each cold push gets a layer
# never seen before: one small file naming the run and the repetition.
RUN_ID=$(date +%s)-$$
mark_run() {
	printf 'bench/peers.sh run %s: %s\n' "$RUN_ID" "$2" >"$1/bench-run.txt"
	touch -d @1700000000 "$1/bench-run.txt"
}
# edit-2l: the workload as the dependency layer (hard links), and a small
# source tree of its own.
rm -rf "$P/app2"
mkdir -p "$P/app2/src"
cp -al "$wl/tree" "$P/app2/deps"
for f in main config util; do seq 1 400 | sed "s/^/$f line /" >"$P/app2/src/$f.txt"; done
find "$P/app2" -exec touch -h -d @1700000000 {} +
if $big; then
	# The 1 GiB file with such a marker beside it: a hard link, not a copy.
	mkdir -p "$P/bigapp"
	ln "$wl/big/big.bin" "$P/bigapp/big.bin" 2>/dev/null || cp -a "$wl/big/big.bin" "$P/bigapp/big.bin"
fi
# Read everything once, so that neither tool is the first to pay for a cold
# page cache.
# (Not `tar -cf - >/dev/null`: GNU tar sees /dev/null and reads nothing.)
find "$wl/tree" -type f -exec cat {} + >/dev/null
if $big; then cat "$wl/big/big.bin" >/dev/null; fi

# --- the registry --------------------------------------------------------------------
# Port 0: the kernel gives it a free port while it binds, so there is no
# window between choosing a port and taking it; the registry logs the address
# ("listening on") at level info. The access log counts blob uploads.
mkdir -p "$P/registry/data"
cat >"$P/registry/config.yml" <<EOF
version: 0.1
log:
  level: info
  formatter: text
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $P/registry/data
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:0
  secret: imagespec-bench-peers
EOF
REG_LOG=$P/registry/registry.log
/usr/bin/docker-registry serve "$P/registry/config.yml" >"$REG_LOG" 2>&1 </dev/null &
REG_PID=$!
REG=
for ((n = 300; n > 0; n--)); do # 30 s at most; usually a few tenths
	kill -0 "$REG_PID" 2>/dev/null || break
	if [ -z "$REG" ]; then
		REG=$(sed -n 's/.*msg="listening on \(127\.0\.0\.1:[0-9]*\)".*/\1/p' "$REG_LOG")
	fi
	if [ -n "$REG" ] && curl -s -o /dev/null --max-time 2 "http://$REG/v2/"; then break; fi
	sleep 0.1
done
if [ -z "$REG" ] || ! curl -s -o /dev/null --max-time 2 "http://$REG/v2/"; then
	echo "peers: docker-registry did not start; its log:" >&2
	tail -n 20 "$REG_LOG" >&2
	exit 1
fi

# The busybox base, built once with imagespec from examples/busybox (as
# tests/registry/fixture.sh does) and seeded with skopeo, untimed.
mkdir -p "$P/busybox/rootfs/bin"
cp "$root/examples/busybox/image.yaml" "$P/busybox/image.yaml"
cp "$(busybox_static)" "$P/busybox/rootfs/bin/busybox"
if ! "$IMAGESPEC" build "$P/busybox/image.yaml" --output "oci:$P/busybox/oci:1" --progress quiet \
	>"$P/log/busybox.out" 2>&1 ||
	! skopeo copy -q --dest-tls-verify=false "oci:$P/busybox/oci:1" "docker://$REG/base/busybox:1" \
		>>"$P/log/busybox.out" 2>&1; then
	echo "peers: cannot seed the busybox base:" >&2
	tail -n 20 "$P/log/busybox.out" >&2
	exit 1
fi
BASE=$REG/base/busybox:1

# --- the specs -------------------------------------------------------------------------
# The same image both ways: the tree at /app, cmd set; the target is given on
# the command line each time.
CMD_JSON='["/bin/sh", "-c", "ls /app"]'
CMD_UMOCI=(--config.cmd /bin/sh --config.cmd -c --config.cmd "ls /app")
cat >"$P/app.yaml" <<EOF
base: $BASE
target: $REG/team/unused:1
created: "2026-01-01T00:00:00Z"
files:
  - src: ./app
    dest: /app/
cmd: $CMD_JSON
EOF
cat >"$P/app2.yaml" <<EOF
base: $BASE
target: $REG/team/unused:1
created: "2026-01-01T00:00:00Z"
layers:
  - files: [{src: ./app2/deps, dest: /app/deps/}]
  - files: [{src: ./app2/src, dest: /app/src/}]
cmd: $CMD_JSON
EOF
if $big; then
	cat >"$P/big.yaml" <<EOF
base: $BASE
target: $REG/team/unused:1
created: "2026-01-01T00:00:00Z"
files:
  - src: ./bigapp
    dest: /big/
cmd: $CMD_JSON
EOF
fi

# --- what this imagespec can do ----------------------------------------------------------
build_help=$("$IMAGESPEC" build --help 2>&1)
# --cache-dir may be listed but refuse to run ("not supported yet"): then
# it is left out rather than failing every build. A tiny offline build tells.
cache_dir=false
if [[ $build_help == *--cache-dir* ]]; then
	printf 'base: scratch\ntarget: oci:out:1\nfiles: [{dest: /probe, content: "x"}]\n' >"$P/probe.yaml"
	if "$IMAGESPEC" build "$P/probe.yaml" --cache-dir "$P/cache/probe" --output "oci:$P/probe-oci:1" \
		--progress quiet >"$P/log/probe.out" 2>&1; then
		cache_dir=true
	fi
fi
cache_from=false
[[ $build_help == *--cache-from* ]] && cache_from=true

# --- measuring -----------------------------------------------------------------------------
# Rows of $P/results.tsv: case, tool, repetition, wall s, peak RSS KiB, blob
# uploads the registry logged; $P/steps.tsv: the same per peer command;
# $P/layers.tsv: case, tool, repetition, bytes of the added layer, of all
# layers, layer count.
: >"$P/results.tsv"
: >"$P/steps.tsv"
: >"$P/layers.tsv"
: >"$P/tarcheck.tsv"
: >"$P/alone.tsv"
W='' R='' # the last timed command's wall time and peak RSS

# timed NAME CMD...: CMD under bench/timed.c (wall time to the millisecond,
# peak RSS from wait4); sets W and R. Its output goes to
# $P/log/NAME.{out,err}; on failure they are shown.
timed() {
	local name=$1
	shift
	if ! "$P/timed" -o "$P/time.out" "$@" >"$P/log/$name.out" 2>"$P/log/$name.err"; then
		echo "peers: $name failed: $*" >&2
		tail -n 15 "$P/log/$name.err" "$P/log/$name.out" >&2
		return 1
	fi
	read -r W R <"$P/time.out"
}

# uploads_since MARK: blob uploads completed (PUT .../blobs/uploads/... 201)
# in the registry's access log after line MARK.
uploads_since() {
	tail -n +"$(($1 + 1))" "$REG_LOG" | grep -Ec '"PUT /v2/[^ ]+/blobs/uploads/[^ ]* HTTP/[0-9.]+" 201 '
}
log_mark() { wc -l <"$REG_LOG"; }

# imagespec_run CASE REP SPEC REPO [FLAGS...]: one build and push, recorded.
imagespec_run() {
	local c=$1 rep=$2 spec=$3 repo=$4 mark
	shift 4
	mark=$(log_mark)
	if timed "$c-$rep-imagespec" "$IMAGESPEC" build "$spec" --target "$REG/$repo:1" --progress quiet "$@"; then
		printf '%s\timagespec\t%s\t%s\t%s\t%s\n' "$c" "$rep" "$W" "$R" "$(uploads_since "$mark")" >>"$P/results.tsv"
	else
		printf '%s\timagespec\t%s\tFAILED\t-\t-\n' "$c" "$rep" >>"$P/results.tsv"
	fi
}

# peer_run CASE REP SRC DEST REPO [SRC2 DEST2]: the peer's workflow from a
# fresh layout (as a CI job starts), each command timed; wall times summed,
# RSS the max. With SRC2, a second `umoci insert` makes a second layer.
peer_run() {
	local c=$1 rep=$2 src=$3 dest=$4 repo=$5 src2=${6:-} dest2=${7:-} L=$P/peer-oci mark wall=0 rss=0 step
	local -a cmd
	rm -rf "$L"
	mark=$(log_mark)
	local steps="pull insert config push"
	[ -n "$src2" ] && steps="pull insert insert2 config push"
	for step in $steps; do
		case $step in
		pull) cmd=(skopeo copy -q --src-tls-verify=false "docker://$BASE" "oci:$L:base") ;;
		insert) cmd=(umoci insert --image "$L:base" --tag app "$src" "$dest") ;;
		insert2) cmd=(umoci insert --image "$L:app" --tag app "$src2" "$dest2") ;;
		config) cmd=(umoci config --image "$L:app" "${CMD_UMOCI[@]}") ;;
		push) cmd=(skopeo copy -q --dest-tls-verify=false "oci:$L:app" "docker://$REG/$repo:1") ;;
		esac
		if ! timed "$c-$rep-peer-$step" "${cmd[@]}"; then
			printf '%s\tumoci+skopeo\t%s\tFAILED\t-\t-\n' "$c" "$rep" >>"$P/results.tsv"
			return 1
		fi
		printf '%s\t%s\t%s\t%s\t%s\n' "$c" "$step" "$rep" "$W" "$R" >>"$P/steps.tsv"
		wall=$(awk -v a="$wall" -v b="$W" 'BEGIN { printf "%.3f", a + b }')
		[ "$R" -gt "$rss" ] && rss=$R
	done
	printf '%s\tumoci+skopeo\t%s\t%s\t%s\t%s\n' "$c" "$rep" "$wall" "$rss" "$(uploads_since "$mark")" >>"$P/results.tsv"
}

# layers CASE TOOL REP REPO: the sizes of what was pushed, read back with
# skopeo (not with imagespec): the last layer is the one each tool added.
layers() {
	local raw
	raw=$(skopeo inspect --raw --tls-verify=false "docker://$REG/$4:1" 2>"$P/log/inspect.err") || return 0
	jq -r --arg c "$1" --arg t "$2" --arg r "$3" \
		'[$c, $t, $r, (.layers[-1].size), ([.layers[].size] | add), (.layers | length)] | @tsv' \
		<<<"$raw" >>"$P/layers.tsv"
}

# upload_alone CASE REP REPO: the floor this registry sets. imagespec's
# added layer, fetched from REPO (untimed) and read once so that it sits in
# the page cache as a spool file does, is uploaded again with curl to a new
# repository: POST, then one PUT ?digest= of the whole file, timed, with
# nothing else running. No tool can push that layer in less: rows of
# $P/alone.tsv (case, rep, wall s).
upload_alone() {
	local c=$1 rep=$2 raw digest loc sep
	raw=$(skopeo inspect --raw --tls-verify=false "docker://$REG/$3:1" 2>"$P/log/inspect.err") || return 0
	digest=$(jq -r '.layers[-1].digest' <<<"$raw")
	curl -sf -o "$P/alone.blob" "http://$REG/v2/$3/blobs/$digest" || return 0
	cat "$P/alone.blob" >/dev/null
	loc=$(curl -sf -D - -o /dev/null -X POST "http://$REG/v2/team/alone-$c-$rep/blobs/uploads/" |
		tr -d '\r' | awk 'tolower($1) == "location:" { print $2 }')
	case $loc in http*) ;; *) loc="http://$REG$loc" ;; esac
	sep='?'
	[[ $loc == *\?* ]] && sep='&'
	if timed "$c-$rep-alone" curl -sf -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' \
		-T "$P/alone.blob" "$loc${sep}digest=$digest"; then
		printf '%s\t%s\t%s\n' "$c" "$rep" "$W" >>"$P/alone.tsv"
	fi
	rm -f "$P/alone.blob"
}

# tar_check TOOL REPO: is the added layer one the tools agree on? Fetched
# from the registry, listed by GNU tar: its entry count, and whether tar
# read it to a proper end. Rows of $P/tarcheck.tsv.
tar_check() {
	local raw digest n status=complete
	raw=$(skopeo inspect --raw --tls-verify=false "docker://$REG/$2:1" 2>"$P/log/inspect.err") || return 0
	digest=$(jq -r '.layers[-1].digest' <<<"$raw")
	curl -sf -o "$P/layer.tgz" "http://$REG/v2/$2/blobs/$digest" || return 0
	# pipefail: the status is tar's when it fails, so a truncated layer shows.
	n=$(tar -tzf "$P/layer.tgz" 2>"$P/log/tar-$1.err" | wc -l) ||
		status="tar: $(sed -n '1s/^tar: //p' "$P/log/tar-$1.err")"
	printf '%s\t%s\t%s\n' "$1" "$n" "$status" >>"$P/tarcheck.tsv"
	rm -f "$P/layer.tgz"
}

# fresh_cache: a fresh --cache-dir per repetition (cold_flags), when it is supported.
cold_flags=()
fresh_cache() {
	cold_flags=()
	if $cache_dir; then
		rm -rf "$P/cache/cold"
		cold_flags=(--cache-dir "$P/cache/cold")
	fi
}
warm_flags=()
$cache_dir && warm_flags=(--cache-dir "$P/cache/warm")

echo "peers: registry $REG, $REPS repetitions per case; imagespec then umoci+skopeo, interleaved" >&2
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# want CASE: whether CASE runs (all of them, unless --only names some).
want() { [ -z "$only" ] || [[ ",$only," == *",$1,"* ]]; }

# cold: a new repository per repetition, for both.
want cold && for ((i = 1; i <= REPS; i++)); do
	fresh_cache
	mark_run "$P/app" "cold $i"
	imagespec_run cold "$i" "$P/app.yaml" "team/is-cold-$i" "${cold_flags[@]}"
	peer_run cold "$i" "$P/app" /app "team/peer-cold-$i"
	layers cold imagespec "$i" "team/is-cold-$i"
	layers cold umoci+skopeo "$i" "team/peer-cold-$i"
	upload_alone cold "$i" "team/is-cold-$i"
	if [ "$i" = 1 ]; then
		tar_check imagespec team/is-cold-1
		tar_check umoci+skopeo team/peer-cold-1
	fi
done

# again: one untimed push each into team/*-app, then the same push timed
# (edit, clone and cache-from use team/*-app too).
if want again || want edit || want clone || want cache-from; then
	imagespec_run prime 0 "$P/app.yaml" team/is-app "${warm_flags[@]}"
	peer_run prime 0 "$P/app" /app team/peer-app
fi
want again && for ((i = 1; i <= REPS; i++)); do
	imagespec_run again "$i" "$P/app.yaml" team/is-app "${warm_flags[@]}"
	peer_run again "$i" "$P/app" /app team/peer-app
done

# edit: each repetition writes new content into one ~20 KB file (the same
# tree for both tools), then both rebuild and push into their repository.
want edit && for ((i = 1; i <= REPS; i++)); do
	printf 'edited by bench/peers.sh, repetition %s\n' "$i" >"$P/app/$EDITED"
	touch -d @1700000000 "$P/app/$EDITED"
	imagespec_run edit "$i" "$P/app.yaml" team/is-app "${warm_flags[@]}"
	peer_run edit "$i" "$P/app" /app team/peer-app
done

# clone: a CI job that keeps its cache directory and clones the repository
# afresh: the same content with new inodes, ctimes and mtimes (now), so the
# stat cache knows no file; both tools push into their repository again.
want clone && for ((i = 1; i <= REPS; i++)); do
	mv "$P/app" "$P/app.old" && cp -r "$P/app.old" "$P/app" && rm -rf "$P/app.old"
	imagespec_run clone "$i" "$P/app.yaml" team/is-app "${warm_flags[@]}"
	peer_run clone "$i" "$P/app" /app team/peer-app
done

# edit-2l: one untimed push each of the two-layer app, then per repetition
# one source file changed, rebuilt and pushed.
want edit-2l && imagespec_run prime 0 "$P/app2.yaml" team/is-app2 "${warm_flags[@]}"
want edit-2l && peer_run prime 0 "$P/app2/deps" /app/deps team/peer-app2 "$P/app2/src" /app/src
want edit-2l && for ((i = 1; i <= REPS; i++)); do
	printf 'edited by bench/peers.sh, repetition %s\n' "$i" >"$P/app2/src/main.txt"
	touch -d @1700000000 "$P/app2/src/main.txt"
	imagespec_run edit-2l "$i" "$P/app2.yaml" team/is-app2 "${warm_flags[@]}"
	peer_run edit-2l "$i" "$P/app2/deps" /app/deps team/peer-app2 "$P/app2/src" /app/src
done

# cache-from: a fresh runner (empty cache dir) with the registry cache an
# earlier --cache-to build filled, nothing changed since that build; the
# peer has no cache and repeats its workflow.
if $cache_from && want cache-from; then
	fill_flags=()
	$cache_dir && fill_flags=(--cache-dir "$P/cache/fill")
	# (team/peer-app already holds the peer's build of this same tree.)
	imagespec_run prime 0 "$P/app.yaml" team/is-app "${fill_flags[@]}" --cache-to "$REG/cache/app:cache"
	for ((i = 1; i <= REPS; i++)); do
		fresh_cache
		imagespec_run cache-from "$i" "$P/app.yaml" team/is-app "${cold_flags[@]}" --cache-from "$REG/cache/app:cache"
		peer_run cache-from "$i" "$P/app" /app team/peer-app
	done
fi

# big: the 1 GiB file, a new repository per repetition.
if $big && want big; then
	for ((i = 1; i <= REPS; i++)); do
		fresh_cache
		mark_run "$P/bigapp" "big $i"
		imagespec_run big "$i" "$P/big.yaml" "team/is-big-$i" "${cold_flags[@]}"
		peer_run big "$i" "$P/bigapp" /big "team/peer-big-$i"
		layers big imagespec "$i" "team/is-big-$i"
		layers big umoci+skopeo "$i" "team/peer-big-$i"
		upload_alone big "$i" "team/is-big-$i"
	done
fi

# big-again: one untimed push each of the 1 GiB file into team/*-big-app,
# then the same push timed, nothing changed (the peer repeats its four
# commands from a fresh layout).
if $big && want big-again; then
	imagespec_run prime 0 "$P/big.yaml" team/is-big-app "${warm_flags[@]}"
	peer_run prime 0 "$P/bigapp" /big team/peer-big-app
	for ((i = 1; i <= REPS; i++)); do
		imagespec_run big-again "$i" "$P/big.yaml" team/is-big-app "${warm_flags[@]}"
		peer_run big-again "$i" "$P/bigapp" /big team/peer-big-app
	done
fi
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the report ----------------------------------------------------------------------------
# python3 reads the TSVs, takes medians, prints the table and writes the JSON.
export P JSON REPS REG big cache_dir cache_from load_start load_end only
M_NPROC=$(nproc)
M_CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | sort -u | tr '\n' ' ')
M_KERNEL=$(uname -srm)
V_IMAGESPEC=$("$IMAGESPEC" version 2>&1)
V_UMOCI=$(umoci --version 2>&1)
V_SKOPEO=$(skopeo --version 2>&1)
V_REGISTRY=$(/usr/bin/docker-registry --version 2>&1)
WL_FILES=$(find "$wl/tree" -type f | wc -l)
WL_MB=$(du -sm --apparent-size "$wl/tree" | cut -f1)
export M_NPROC M_CPU M_KERNEL V_IMAGESPEC V_UMOCI V_SKOPEO V_REGISTRY WL_FILES WL_MB
python3 - <<'PY'
import json, os, statistics

env = os.environ
P = env["P"]


def rows(name):
    with open(os.path.join(P, name)) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


results, steps, layer_rows = rows("results.tsv"), rows("steps.tsv"), rows("layers.tsv")
tarcheck = {r[0]: {"entries": int(r[1]), "tar": r[2]} for r in rows("tarcheck.tsv")}
alone = rows("alone.tsv")
TOOLS = ("imagespec", "umoci+skopeo")
cases = ["cold", "again", "edit", "clone", "edit-2l", "cache-from"] + (["big", "big-again"] if env["big"] == "true" else [])
if env["only"]:
    cases = [c for c in cases if c in env["only"].split(",")]
med = lambda xs: statistics.median(xs) if xs else None


def tool_stats(case, tool):
    runs = [r for r in results if r[0] == case and r[1] == tool]
    ok = [r for r in runs if r[3] != "FAILED"]
    out = {
        "wall_s": [float(r[3]) for r in ok],
        "rss_kib": [int(r[4]) for r in ok],
        "blob_uploads": [int(r[5]) for r in ok],
        "failed": len(runs) - len(ok),
    }
    out["median_wall_s"] = med(out["wall_s"])
    out["median_rss_mib"] = round(med(out["rss_kib"]) / 1024, 1) if ok else None
    out["median_blob_uploads"] = med(out["blob_uploads"])
    if tool == "umoci+skopeo":
        out["steps_median_wall_s"] = {
            s: med([float(r[3]) for r in steps if r[0] == case and r[1] == s])
            for s in ("pull", "insert", "config", "push")
        }
        if case == "edit-2l":
            out["steps_median_wall_s"]["insert"] = med(
                [float(a[3]) + float(b[3]) for a in steps if a[0] == case and a[1] == "insert"
                 for b in steps if b[0] == case and b[1] == "insert2" and b[2] == a[2]])
    return out


doc = {
    "machine": {
        "nproc": int(env["M_NPROC"]),
        "cpu": env["M_CPU"].strip(),
        "kernel": env["M_KERNEL"],
        "loadavg_start": env["load_start"],
        "loadavg_end": env["load_end"],
    },
    "versions": {
        "imagespec": env["V_IMAGESPEC"].splitlines()[0] if env["V_IMAGESPEC"] else "",
        "umoci": env["V_UMOCI"],
        "skopeo": env["V_SKOPEO"],
        "docker-registry": env["V_REGISTRY"],
    },
    "workload": {"files": int(env["WL_FILES"]), "mb": int(env["WL_MB"]), "dest": "/app", "base": "busybox"},
    "repetitions": int(env["REPS"]),
    "imagespec_cache_dir": env["cache_dir"] == "true",
    "cases": [],
}

lines = []
hdr = ("case", "imagespec s (RSS MiB)", "umoci+skopeo s (RSS MiB)", "ratio")
fmt = "{:<11} | {:>21} | {:>24} | {}"
lines.append(fmt.format(*hdr))
lines.append("-" * 11 + "-+-" + "-" * 21 + "-+-" + "-" * 24 + "-+-" + "-" * 6)
for case in cases:
    if case == "cache-from" and env["cache_from"] != "true":
        doc["cases"].append({"case": case, "status": "n/a", "reason": "no --cache-from in this imagespec"})
        lines.append("{:<11} | n/a (no --cache-from in this imagespec)".format(case))
        continue
    entry = {"case": case}
    cell = {}
    for tool in TOOLS:
        st = tool_stats(case, tool)
        entry[tool] = st
        cell[tool] = ("{:.3f} ({:.1f})".format(st["median_wall_s"], st["median_rss_mib"])
                      if st["median_wall_s"] is not None else "FAILED")
    a, b = entry["imagespec"]["median_wall_s"], entry["umoci+skopeo"]["median_wall_s"]
    entry["ratio_wall"] = round(a / b, 3) if a is not None and b else None
    ra, rb = entry["imagespec"]["median_rss_mib"], entry["umoci+skopeo"]["median_rss_mib"]
    entry["ratio_rss"] = round(ra / rb, 3) if ra is not None and rb else None
    lay = [r for r in layer_rows if r[0] == case]
    if lay:
        entry["layer_bytes"] = {
            t: {"added_layer": med([int(r[3]) for r in lay if r[1] == t]),
                "all_layers": med([int(r[4]) for r in lay if r[1] == t]),
                "layers": med([int(r[5]) for r in lay if r[1] == t])}
            for t in TOOLS if any(r[1] == t for r in lay)
        }
        lb = entry["layer_bytes"]
        if len(lb) == 2:
            entry["imagespec_layer_le_umoci"] = lb["imagespec"]["added_layer"] <= lb["umoci+skopeo"]["added_layer"]
    if case == "cold" and tarcheck:
        entry["added_layer_tar_listing"] = tarcheck
    al = med([float(r[2]) for r in alone if r[0] == case])
    if al is not None:
        entry["upload_alone_s"] = al
        if b:
            entry["upload_alone_over_peer"] = round(al / b, 3)
    doc["cases"].append(entry)
    ratio = "{:.3f}".format(entry["ratio_wall"]) if entry["ratio_wall"] is not None else "-"
    lines.append(fmt.format(case, cell["imagespec"], cell["umoci+skopeo"], ratio))

print()
m, v, w = doc["machine"], doc["versions"], doc["workload"]
print("machine: {} cores ({}), {}; load average {} at the start, {} at the end".format(
    m["nproc"], m["cpu"], m["kernel"], m["loadavg_start"], m["loadavg_end"]))
print("versions: {}; {}; {}; {}".format(v["imagespec"], v["umoci"], v["skopeo"], v["docker-registry"]))
print("workload: {} files, {} MB at /app on busybox; {} repetitions per case, interleaved; "
      "medians; ratio = imagespec / umoci+skopeo wall time".format(w["files"], w["mb"], doc["repetitions"]))
if not doc["imagespec_cache_dir"]:
    print("imagespec: --cache-dir left out (this build does not support it yet)")
print()
print("\n".join(lines))
print()
own = {c["case"]: c["imagespec"]["median_wall_s"] for c in doc["cases"] if "imagespec" in c}
if own.get("cold") and own.get("edit-2l") is not None:
    doc["edit_2l_over_own_cold"] = round(own["edit-2l"] / own["cold"], 3)
    print("imagespec edit-2l / imagespec cold: {:.2f} (only the source layer is built)".format(
        own["edit-2l"] / own["cold"]))
if own.get("cold") and own.get("cache-from") is not None:
    doc["cache_from_over_own_cold"] = round(own["cache-from"] / own["cold"], 3)
    print("imagespec cache-from / imagespec cold: {:.2f} (a fresh runner, nothing built)".format(
        own["cache-from"] / own["cold"]))
print("blob uploads per run (median), imagespec / umoci+skopeo: " + ", ".join(
    "{} {:g} / {:g}".format(c["case"], c["imagespec"]["median_blob_uploads"], c["umoci+skopeo"]["median_blob_uploads"])
    for c in doc["cases"] if "imagespec" in c and c["imagespec"]["median_blob_uploads"] is not None
    and c["umoci+skopeo"]["median_blob_uploads"] is not None))
for c in doc["cases"]:
    if "layer_bytes" in c and len(c["layer_bytes"]) == 2:
        a, b = c["layer_bytes"]["imagespec"], c["layer_bytes"]["umoci+skopeo"]
        print("layer bytes pushed, {}: imagespec {:,} (all {} layers {:,}), umoci {:,} (all {} layers {:,}); "
              "imagespec's layer {} umoci's ({:.3f}x)".format(
                  c["case"], int(a["added_layer"]), int(a["layers"]), int(a["all_layers"]),
                  int(b["added_layer"]), int(b["layers"]), int(b["all_layers"]),
                  "<=" if c["imagespec_layer_le_umoci"] else ">", a["added_layer"] / b["added_layer"]))
if tarcheck:
    print("added layer as GNU tar lists it, cold: " + "; ".join(
        "{} {} entries, {}".format(t, v["entries"], v["tar"]) for t, v in tarcheck.items()))
fl = [c for c in doc["cases"] if "upload_alone_over_peer" in c]
if fl:
    print("the registry's floor: imagespec's finished layer uploaded again alone (curl, POST + PUT), median: " +
          ", ".join("{} {:.2f} s = {:.2f} of umoci+skopeo".format(c["case"], c["upload_alone_s"],
                                                             c["upload_alone_over_peer"]) for c in fl))
st = [c for c in doc["cases"] if "umoci+skopeo" in c]
print("umoci+skopeo steps (median s, pull/insert/config/push): " + ", ".join(
    "{} {}".format(c["case"], "/".join("{:.2f}".format(x) if x is not None else "-"
                                       for x in c["umoci+skopeo"]["steps_median_wall_s"].values()))
    for c in st))

# Issue 8's targets, each as this run measured it: "met" or "NOT met". A
# case left out of the run (--only) leaves its targets out.
by = {c["case"]: c for c in doc["cases"] if "imagespec" in c}
targets = []


def target(name, value, ok):
    targets.append({"target": name, "value": value, "met": bool(ok)})


def uploads(case):
    return max(by[case]["imagespec"]["blob_uploads"], default=None)


def ratio_target(case, limit, label):
    if case not in by:
        return
    r = by[case].get("ratio_wall")
    name = "{} <= {}x umoci+skopeo".format(label, limit)
    if r is None:
        target(name, "no ratio (every run of a tool failed)", False)
    else:
        target(name, "{:.3f}".format(r), r <= limit)


ratio_target("cold", 0.5, "cold push")
if "cold" in by and by["cold"].get("imagespec_layer_le_umoci") is not None:
    lb = by["cold"]["layer_bytes"]
    target("cold layer bytes <= umoci's", "{:.3f}x".format(
        lb["imagespec"]["added_layer"] / lb["umoci+skopeo"]["added_layer"]), by["cold"]["imagespec_layer_le_umoci"])
ratio_target("big", 0.5, "1 GiB push")
ratio_target("again", 0.05, "unchanged push")
if "again" in by and uploads("again") is not None:
    target("unchanged push uploads no blob", str(uploads("again")), uploads("again") == 0)
for key, label in (("edit_2l_over_own_cold", "edit-2l"), ("cache_from_over_own_cold", "cache-from")):
    if key in doc:
        target("{} <= 0.2x imagespec's cold".format(label), "{:.3f}".format(doc[key]), doc[key] <= 0.2)
if "cache-from" in by and uploads("cache-from") is not None:
    target("cache-from uploads no blob", str(uploads("cache-from")), uploads("cache-from") == 0)
peak = max((k for c in by.values() for k in c["imagespec"]["rss_kib"]), default=None)
if peak is not None:
    target("peak RSS <= 24 MB in every case run", "{:.1f} MB".format(peak * 1024 / 1e6), peak * 1024 <= 24e6)
if by:
    fails = sum(c["imagespec"]["failed"] for c in by.values())
    target("every imagespec repetition succeeded", "{} failed".format(fails), fails == 0)
doc["targets"] = targets
if targets:
    print("targets (issue 8), as this run measured them:")
    for t in targets:
        print("  {}: {}, {}".format(t["target"], t["value"], "met" if t["met"] else "NOT met"))
with open(env["JSON"], "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
print("json: " + env["JSON"])
PY
