#!/usr/bin/env bash
# The first layer's files are listed on a thread of their own while the
# build reaches its registries (src/exec/prewalk.c). It runs for a registry
# target; -v says when the layer step took the listing made ahead, so each
# case below checks that it did.
#   - The listing made ahead is used: the image runs (skopeo, umoci, chroot).
#   - Pushed again with nothing changed, the stat table read beside the walk
#     knows every file: none is opened (strace), the layer is the cache's,
#     and the tag, asked once, names the manifest already: its config is
#     not asked for and nothing is PUT. After a change, the tag is still
#     asked once, and the manifest PUT under it.
#   - A cache directory that does not exist yet is made before the walk, so
#     the walk is made ahead on a first build too, and a cache directory
#     inside the tree is left out of the layer as before.
#   - A walk that fails (a missing src; a FIFO deep in the tree) fails the
#     push with the message an `oci:` build gives, and nothing is pushed.
#   - A fresh clone of a pushed tree (new inodes and times, the same sizes
#     and modes), and a fresh runner (an empty cache directory) with
#     --cache-from: the files are hashed on the walk's thread while the
#     registries answer, and -v says how many. Each source file is opened
#     once (strace: not again by the layer step), the layer is the cache's,
#     nothing is uploaded, and the manifest's digest is the first push's.
#   - A refused password ends the build with the registry's answer while a
#     larger tree is being listed: the walk is stopped (the ASan build checks
#     that its thread is joined and freed), nothing of it is said, and no
#     blob is uploaded. The same with --cache-from and an empty cache
#     directory, where the walk goes on to hash the files.
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/fixture.sh"
need skopeo umoci htpasswd curl strace jq
[ -x /usr/bin/docker-registry ] || need /usr/bin/docker-registry

PASS="pw-$RANDOM$RANDOM"
WRONG="not-$PASS"
registry_start PW || bail "cannot start the registry"
registry_start HT --htpasswd "alice:$PASS" || bail "cannot start the htpasswd registry"
seed_base "$PW_ADDR" base/busybox:1 || bail "cannot seed the base image"

W=$TMP/w
CACHE=$TMP/cache
mkdir -p "$W" "$CACHE"
AHEAD='the files of the first layer were listed while the registries answered'

# spec NAME SRC TARGET [YAML]: a files layer from SRC on busybox, pushed to
# TARGET.
spec() {
	cat >"$W/$1.yaml" <<EOF
base: $PW_ADDR/base/busybox:1
target: $3
created: "2026-01-01T00:00:00Z"
files:
  - src: $2
    dest: /app/
cmd: ["/bin/cat", "/app/d1/hello.txt"]
${4:-}
EOF
	echo "$W/$1.yaml"
}

# manifest_code ADDR REPO [CURL ARGS]: the HTTP status of REPO:1's manifest.
manifest_code() {
	local addr=$1 repo=$2
	shift 2
	curl -s -o /dev/null -w '%{http_code}' "$@" "http://$addr/v2/$repo/manifests/1"
}

# --- the listing made ahead is used ------------------------------------------
mkdir -p "$W/app/d1/d2"
echo "hello from the walk made ahead" >"$W/app/d1/hello.txt"
echo two >"$W/app/d1/d2/two.txt"
DESC="push: exit 0, and -v says the listing made ahead was taken" \
	run_expect 0 "$AHEAD" "$IMAGESPEC" build "$(spec ok ./app "$PW_ADDR/team/ok:1")" --cache-dir "$CACHE" -v
check_eq "push: the image runs (skopeo, umoci, chroot)" "hello from the walk made ahead" \
	"$(pull_and_run "$PW_ADDR/team/ok:1")"
DESC="push to an oci: layout: no listing made ahead (an output could land in the tree)" \
	run_expect 0 '' "$IMAGESPEC" build "$(spec ok ./app "$PW_ADDR/team/ok:1")" --cache-dir "$CACHE" -v \
	--output "oci:$TMP/layout-ok"
check_nomatch "... and -v does not say it was" "$AHEAD" "$RUN_STDERR"

# --- nothing changed: the stat table read beside the walk knows every file -----
# Times set in the past, so that no file is racily clean (cache/stats.c).
mkdir -p "$W/same/d1"
echo "hello from an unchanged tree" >"$W/same/d1/hello.txt"
echo two >"$W/same/d1/two.txt"
touch -d 2020-01-01 "$W/same/d1/hello.txt" "$W/same/d1/two.txt"
DESC="first push of an unchanged tree: exit 0" \
	run_expect 0 "$AHEAD" "$IMAGESPEC" build "$(spec same ./same "$PW_ADDR/team/same:1")" --cache-dir "$CACHE" -v
# LeakSanitizer cannot work under ptrace (tests/e2e/cache.sh does the same).
NOLEAKS=("ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0")
config=$(skopeo inspect --raw --tls-verify=false "docker://$PW_ADDR/team/same:1" | jq -r .config.digest)
check_match "... its config's digest" '^sha256:[0-9a-f]{64}$' "$config"
m=$(registry_log_mark PW)
DESC="the same push again (strace: which files are opened): the listing made ahead was taken" \
	run_expect 0 "$AHEAD" env "${NOLEAKS[@]}" strace -f -qq -e trace=open,openat,openat2 -o "$TMP/strace-same.log" \
	"$IMAGESPEC" build "$(spec same ./same "$PW_ADDR/team/same:1")" --cache-dir "$CACHE" -v
check_match "... the layer comes from the cache" 'layer 1/1: sha256:[0-9a-f]{64} \([0-9]+ bytes, from the cache\)' \
	"$RUN_STDERR"
check_eq "... no source file was opened for reading (the stat table knew them)" 0 \
	"$(grep -Ec '"([^"]*/)?(hello|two)\.txt", (\{flags=)?O_RDONLY' "$TMP/strace-same.log")"
# The tag names the same manifest already, so its config is there: one
# HEAD of the tag, none of the config, no PUT (exec/platform.c).
check_eq "... the tag is asked once" 1 "$(registry_requests PW "$m" '"HEAD /v2/team/same/manifests/1 ')"
check_eq "... the config is not asked for" 0 "$(registry_requests PW "$m" "/v2/team/same/blobs/$config ")"
check_eq "... and nothing is PUT" 0 "$(registry_requests PW "$m" '"PUT /v2/')"
check_eq "... the image runs (skopeo, umoci, chroot)" "hello from an unchanged tree" \
	"$(pull_and_run "$PW_ADDR/team/same:1")"
# One file changed: the tag names another manifest, and it is asked once
# still, before the config's upload and the manifest's PUT.
echo "hello from a changed tree" >"$W/same/d1/hello.txt"
m=$(registry_log_mark PW)
DESC="the push after a change: exit 0" \
	run_expect 0 "$AHEAD" "$IMAGESPEC" build "$(spec same ./same "$PW_ADDR/team/same:1")" --cache-dir "$CACHE" -v
check_eq "... the tag is asked once" 1 "$(registry_requests PW "$m" '"HEAD /v2/team/same/manifests/1 ')"
check_eq "... the manifest is PUT under it once" 1 "$(registry_requests PW "$m" '"PUT /v2/team/same/manifests/1 ')"
check_eq "... the changed image runs (skopeo, umoci, chroot)" "hello from a changed tree" \
	"$(pull_and_run "$PW_ADDR/team/same:1")"

# --- a cache directory that does not exist yet ---------------------------------
DESC="push with a cache directory not made yet: exit 0, the listing made ahead was taken" \
	run_expect 0 "$AHEAD" "$IMAGESPEC" build "$(spec ok ./app "$PW_ADDR/team/fresh:1")" --cache-dir "$TMP/new/cache" -v
check "... the cache directory was made" test -f "$TMP/new/cache/version"
# Inside the tree: made before the walk, so the walk leaves it out.
mkdir -p "$W/incache/d1"
echo "hello from beside the cache" >"$W/incache/d1/hello.txt"
DESC="push with a cache directory not made yet inside the tree: exit 0, the listing made ahead was taken" \
	run_expect 0 "$AHEAD" "$IMAGESPEC" build "$(spec incache ./incache "$PW_ADDR/team/incache:1")" \
	--cache-dir "$W/incache/.cache/imagespec" -v
check "... the cache directory was made" test -f "$W/incache/.cache/imagespec/version"
check_eq "... the image runs (skopeo, umoci, chroot)" "hello from beside the cache" \
	"$(pull_and_run "$PW_ADDR/team/incache:1")"
check "... the cache directory is not in the layer" test ! -e "$PULLED_BUNDLE/rootfs/app/.cache/imagespec"
check "... the source file is" test -f "$PULLED_BUNDLE/rootfs/app/d1/hello.txt"

# --- files hashed while the registries answer ---------------------------------
# hashed N: what -v says when N files were hashed on the walk's thread.
hashed() {
	echo "the files of the first layer were listed, and $1 of them hashed, while the registries answered"
}
# opens LOG NAME: how many times strace saw NAME opened for reading.
opens() {
	grep -Ec "\"([^\"]*/)?$2\", (\{flags=)?O_RDONLY" "$1"
}
mkdir -p "$W/orig/d1/d2"
echo "hello from a fresh clone" >"$W/orig/d1/hello.txt"
echo two >"$W/orig/d1/d2/two.txt"
echo three >"$W/orig/three.txt"
touch -d 2020-01-01 "$W/orig/d1/hello.txt" "$W/orig/d1/d2/two.txt" "$W/orig/three.txt"
cp -a "$W/orig" "$W/clone"
DESC="first push of the tree to clone: exit 0" \
	run_expect 0 "$AHEAD" "$IMAGESPEC" build "$(spec clone ./clone "$PW_ADDR/team/clone:1")" --cache-dir "$CACHE" -v \
	--cache-to "$PW_ADDR/cache/clone:1"
first=$(skopeo_raw_digest "$PW_ADDR/team/clone:1")
check_match "... its manifest's digest" '^sha256:[0-9a-f]{64}$' "$first"
rm -rf "$W/clone"
cp -a "$W/orig" "$W/clone" # new inodes and ctimes, the same sizes, modes and mtimes
m=$(registry_log_mark PW)
DESC="the fresh clone pushed again (strace): the walk's thread hashed its 3 files" \
	run_expect 0 "$(hashed 3)" env "${NOLEAKS[@]}" strace -f -qq -e trace=open,openat,openat2 \
	-o "$TMP/strace-clone.log" "$IMAGESPEC" build "$(spec clone ./clone "$PW_ADDR/team/clone:1")" \
	--cache-dir "$CACHE" -v
check_match "... the layer comes from the cache" 'layer 1/1: sha256:[0-9a-f]{64} \([0-9]+ bytes, from the cache\)' \
	"$RUN_STDERR"
check_eq "... hello.txt is opened once" 1 "$(opens "$TMP/strace-clone.log" hello.txt)"
check_eq "... two.txt is opened once" 1 "$(opens "$TMP/strace-clone.log" two.txt)"
check_eq "... three.txt is opened once" 1 "$(opens "$TMP/strace-clone.log" three.txt)"
check_eq "... no blob uploaded" 0 "$(registry_blob_puts PW "$m")"
check_eq "... the manifest's digest is the first push's" "$first" \
	"$(skopeo_raw_digest "$PW_ADDR/team/clone:1")"
m=$(registry_log_mark PW)
DESC="a fresh runner (an empty cache directory) with --cache-from (strace): the walk's thread hashed the 3 files" \
	run_expect 0 "$(hashed 3)" env "${NOLEAKS[@]}" strace -f -qq -e trace=open,openat,openat2 \
	-o "$TMP/strace-runner.log" "$IMAGESPEC" build "$(spec clone ./clone "$PW_ADDR/team/clone:1")" \
	--cache-dir "$TMP/runner-cache" -v --cache-from "$PW_ADDR/cache/clone:1"
check_match "... the layer comes from the registry's cache" \
	'layer 1/1: sha256:[0-9a-f]{64} \([0-9]+ bytes, from the cache\)' "$RUN_STDERR"
check_eq "... hello.txt is opened once" 1 "$(opens "$TMP/strace-runner.log" hello.txt)"
check_eq "... two.txt is opened once" 1 "$(opens "$TMP/strace-runner.log" two.txt)"
check_eq "... no blob uploaded" 0 "$(registry_blob_puts PW "$m")"
check_eq "... the manifest's digest is the first push's" "$first" \
	"$(skopeo_raw_digest "$PW_ADDR/team/clone:1")"
check_eq "... the image runs (skopeo, umoci, chroot)" "hello from a fresh clone" \
	"$(pull_and_run "$PW_ADDR/team/clone:1")"

# same_error NAME SRC REPO WHAT: the push fails as the oci: build does, after
# taking the listing made ahead, and REPO:1 has no manifest and no blob.
same_error() {
	local yaml m oci_err
	yaml=$(spec "$1" "$2" "$PW_ADDR/team/$3:1")
	DESC="$4, oci: output: fails" run_expect nonzero "$5" \
		"$IMAGESPEC" build "$yaml" --cache-dir "$CACHE" --output "oci:$TMP/layout-$1"
	oci_err=$(grep -E "$5" "$RUN_ERR")
	m=$(registry_log_mark PW)
	DESC="$4, registry target: fails" run_expect nonzero "$5" \
		"$IMAGESPEC" build "$yaml" --cache-dir "$CACHE" -v
	check_match "$4: the step took the listing made ahead" "$AHEAD" "$RUN_STDERR"
	check_eq "$4: the same message as the oci: build" "$oci_err" "$(grep -E "$5" "$RUN_ERR")"
	check_eq "$4: no manifest pushed" 404 "$(manifest_code "$PW_ADDR" "team/$3")"
	check_eq "$4: no blob uploaded" 0 "$(registry_blob_puts PW "$m")"
}

same_error missing ./missing missing "a missing src" \
	'missing\.yaml:[0-9]+:[0-9]+: `src` `\./missing` does not exist'

mkdir -p "$W/fifo/d1/d2/d3"
echo x >"$W/fifo/d1/hello.txt"
mkfifo "$W/fifo/d1/d2/d3/pipe"
same_error fifo ./fifo fifo "a FIFO deep in the tree" \
	'fifo\.yaml:[0-9]+:[0-9]+: `fifo/d1/d2/d3/pipe` is a FIFO'

# --- a refused password stops the walk ----------------------------------------
# 60 directories of 50 files: a walk still running when the registry says no
# (it answers in a few ms), so the build frees a walk it has to stop.
mkdir -p "$W/big"
for d in $(seq -w 1 60); do
	mkdir -p "$W/big/d$d"
	for f in $(seq -w 1 50); do : >"$W/big/d$d/f$f"; done
done
mkdir -p "$W/big/d1"
echo hi >"$W/big/d1/hello.txt"
AUTH="auth: {\"$HT_ADDR\": {username: alice, password: \"\${host:REG_PASS}\"}}"
m=$(registry_log_mark HT)
DESC="a wrong password with a large tree: exit 3" \
	run_expect 3 'alice|password|credentials|401|unauthorized' \
	env REG_PASS="$WRONG" "$IMAGESPEC" build "$(spec wrong ./big "$HT_ADDR/team/wrong:1" "$AUTH")" --cache-dir "$CACHE" -v
check_nomatch "... the stopped walk says nothing (no 'stopped', no layer)" 'stopped|building layer|layer 1/1' \
	"$RUN_STDERR"
check_nomatch "... the password is not in the output" "$PASS" "$RUN_STDOUT
$RUN_STDERR"
check_eq "... no blob uploaded" 0 "$(registry_blob_puts HT "$m")"
check_eq "... no manifest pushed" 404 "$(manifest_code "$HT_ADDR" team/wrong -u "alice:$PASS")"
# With --cache-from and an empty cache directory, the walk goes on to read
# every file for its hash: stopped too, at its next read.
for d in "$W"/big/d*; do
	for f in "$d"/f*; do echo "${f#"$W"}" >"$f"; done
done
m=$(registry_log_mark HT)
DESC="a wrong password with a large tree hashed ahead (--cache-from, an empty cache directory): exit 3" \
	run_expect 3 'alice|password|credentials|401|unauthorized' \
	env REG_PASS="$WRONG" "$IMAGESPEC" build "$(spec wrong ./big "$HT_ADDR/team/wrong:1" "$AUTH")" \
	--cache-dir "$TMP/wrong-cache" --cache-from "$HT_ADDR/cache/wrong:1" -v
check_nomatch "... the stopped walk says nothing (no 'stopped', no 'hashed', no layer)" \
	'stopped|hashed|building layer|layer 1/1' "$RUN_STDERR"
check_eq "... no blob uploaded" 0 "$(registry_blob_puts HT "$m")"

done_testing
