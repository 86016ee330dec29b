#!/usr/bin/env bash
# Two features end to end, against the real registry fixture:
#
#  1. `url:` layers: a tarball made here (tool/bin/hello, a /bin/sh script,
#     plus extra/ that `include` leaves out) served by `python3 -m
#     http.server` on loopback; a spec on the seeded busybox base with
#     `layers: [{url, sha256, dest: /opt, include: ["tool/**"]}]` and a PATH
#     built from ${base:PATH}: pushed, copied by skopeo, unpacked by umoci
#     and run in a chroot (`hello` found through PATH). A wrong sha256 and a
#     404 URL exit 1 and push nothing; the same spec to `--output oci:DIR`
#     pushes nothing either.
#  2. Google service-account credentials: tests/auth/google_token_server.py
#     verifies the RS256 assertion with the public key and issues
#     ya29.test-N (N counting the tokens issued); an htpasswd registry takes
#     oauth2accesstoken:ya29.test-1. `auth: {HOST: {googleCredentialsFile:
#     ./sa.json}}` pushes; skopeo reads the image with the token. A key file
#     signed with another key is refused by the token server: exit 3, naming
#     the key file, with neither the private key nor a token in the output.
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/fixture.sh"
need skopeo umoci jq curl openssl htpasswd tar gzip sha256sum
[ -x /usr/bin/docker-registry ] || need /usr/bin/docker-registry
need_root

W=$TMP/work
mkdir -p "$W"

# start_bg LOG CMD...: a background peer, its PID recorded for the fixture's
# cleanup (stopped by PID, never by name). Sets BG_PID.
start_bg() {
	local log=$1
	shift
	"$@" >>"$log" 2>&1 </dev/null &
	BG_PID=$!
	_FIXTURE_PIDS+=("$BG_PID")
}
# stop_bg PID: SIGTERM, wait, SIGKILL after 10 s.
stop_bg() {
	kill "$1" 2>/dev/null
	_fixture_wait_pid "$1" 10 || {
		kill -9 "$1" 2>/dev/null
		wait "$1" 2>/dev/null
	}
	_fixture_forget_pid "$1"
}

# not_there DESC DOCKER_REF [skopeo flags]: skopeo inspect fails on REF.
not_there() {
	local desc=$1 ref=$2
	shift 2
	[ $# -gt 0 ] || set -- --tls-verify=false
	if skopeo inspect --raw "$@" "docker://$ref" >"$TMP/.ni.out" 2>&1; then
		not_ok "$desc" "skopeo inspect found $ref: $(head -c 500 "$TMP/.ni.out")"
	else
		ok "$desc"
	fi
}

# run_chroot BUNDLE: runbundle.py (umoci's process: args, env, cwd, user in
# a chroot) with `warnings` imported first: os.execvpe with a bare name
# (`hello`, found through the image's PATH) imports it lazily, after the
# chroot, where there is no Python.
run_chroot() {
	"$PY" -c 'import runpy, sys, warnings
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")' "$SRCDIR/tests/e2e/runbundle.py" "$@" 2>&1
}
# unpack_run OCI_DIR:TAG NAME: umoci unpack into $W/NAME, then run_chroot.
unpack_run() {
	umoci unpack --image "$1" "$W/$2" >"$W/$2.log" 2>&1 || {
		cat "$W/$2.log"
		return 1
	}
	run_chroot "$W/$2"
}

# === 1. url: layers ===========================================================
registry_start REG || bail "cannot start the plain registry"
seed_base "$REG_ADDR" base/busybox:1 || bail "cannot seed the plain registry"
BASE=$REG_ADDR/base/busybox:1
BASE_PATH=$(skopeo inspect --config --tls-verify=false "docker://$BASE" |
	jq -r '.config.Env[] | select(startswith("PATH=")) | sub("^PATH="; "")')
[ -n "$BASE_PATH" ] || bail "the seeded base has no PATH"

# The tarball, reproducible.
SRV=$W/www
mkdir -p "$W/tarsrc/tool/bin" "$W/tarsrc/extra" "$SRV"
printf '#!/bin/sh\necho "hello from a url layer"\n' >"$W/tarsrc/tool/bin/hello"
chmod 0755 "$W/tarsrc/tool/bin/hello"
echo "left out by include" >"$W/tarsrc/extra/README"
(cd "$W/tarsrc" && tar --sort=name --owner=0 --group=0 --mtime=@0 -czf "$SRV/tool.tar.gz" tool extra) ||
	bail "cannot make the tarball"
SHA=$(sha256sum "$SRV/tool.tar.gz" | cut -d' ' -f1)
WRONG_SHA=$(printf 'not the tarball' | sha256sum | cut -d' ' -f1)

HTTP_PORT=$(fixture_free_port) || bail "no free port"
HTTP_LOG=$W/http.log
: >"$HTTP_LOG"
cd "$SRV" || bail "cd $SRV"
start_bg "$HTTP_LOG" "$PY" -u -m http.server --bind 127.0.0.1 "$HTTP_PORT"
HTTP_PID=$BG_PID
cd "$W" || bail "cd $W"
fixture_wait_url "http://127.0.0.1:$HTTP_PORT/" 20 "$HTTP_PID" || bail "the http server did not start: $(cat "$HTTP_LOG")"
URL=http://127.0.0.1:$HTTP_PORT/tool.tar.gz
check_eq "the http server serves the tarball (fixture sanity)" "$SHA" \
	"$(curl -sf "$URL" | sha256sum | cut -d' ' -f1)"

# url_spec NAME URL SHA TARGET: writes $W/NAME/image.yaml, prints its path.
url_spec() {
	mkdir -p "$W/$1"
	cat >"$W/$1/image.yaml" <<EOF
base: $BASE
target: $4
created: "2026-01-01T00:00:00Z"
layers:
  - url: $2
    sha256: $3
    dest: /opt
    include: ["tool/**"]
env:
  PATH: "/opt/tool/bin:\${base:PATH}"
cmd: [hello]
EOF
	echo "$W/$1/image.yaml"
}

TGT=$REG_ADDR/team/tool
MARK=$(wc -l <"$HTTP_LOG")
DESC="url layer: build and push" \
	run_expect 0 '' "$IMAGESPEC" build "$(url_spec good "$URL" "$SHA" "$TGT:1")"
check_match "... the http server was asked for the tarball" "\"GET /tool.tar.gz HTTP/1\\.[01]\" 200" \
	"$(tail -n +"$((MARK + 1))" "$HTTP_LOG")"
PRINTED=$(digest_of_output "$RUN_OUT")
check_digest "... skopeo reads the printed digest" "$PRINTED" "$(skopeo_raw_digest "$TGT:1")"
CFG=$(skopeo inspect --config --tls-verify=false "docker://$TGT:1" 2>&1)
check_eq "... PATH is /opt/tool/bin before the base's PATH" "PATH=/opt/tool/bin:$BASE_PATH" \
	"$(printf '%s' "$CFG" | jq -r '.config.Env[] | select(startswith("PATH="))')"
check_eq "... cmd is [hello]" '["hello"]' "$(printf '%s' "$CFG" | jq -c '.config.Cmd')"
pull_and_run "$TGT:1" >/dev/null # skopeo copy into $PULLED_LAYOUT, umoci unpack into $PULLED_BUNDLE
check_eq "... skopeo copy + umoci unpack + chroot runs hello through PATH" "hello from a url layer" \
	"$(run_chroot "$PULLED_BUNDLE")"
check_eq "... /opt/tool/bin/hello is executable in the unpacked rootfs" 755 \
	"$(stat -c %a "$PULLED_BUNDLE/rootfs/opt/tool/bin/hello" 2>&1)"
check "... include left extra/ out" test ! -e "$PULLED_BUNDLE/rootfs/opt/extra"
check "... the busybox base is still there" test -x "$PULLED_BUNDLE/rootfs/bin/busybox"
# The url layer's tar, read with tar: exactly tool/bin/hello (and its directories) under opt/.
LAYER_LIST=""
for b in "$PULLED_LAYOUT"/blobs/sha256/*; do
	if grep -q 'opt/tool/bin/hello$' <<<"$(tar -tzf "$b" 2>/dev/null)"; then
		LAYER_LIST=$(tar -tzf "$b" | sed 's#^\./##; s#/$##' | sort | tr '\n' ' ')
	fi
done
# (Whether the layer also carries the parent `opt/` is not asserted: no
# layer kind emits implicit parents, and umoci creates them.)
check_eq "... the url layer holds tool/bin/hello re-rooted under opt/, nothing of extra/" \
	"opt/tool opt/tool/bin opt/tool/bin/hello " "$(printf '%s' "$LAYER_LIST" | sed 's#^opt ##')"

# A wrong sha256: exit 1, the digest named, nothing pushed.
DESC="url layer with a wrong sha256: exit 1 mentioning the sha256" \
	run_expect 1 'sha256|digest' "$IMAGESPEC" build "$(url_spec badsha "$URL" "$WRONG_SHA" "$TGT:badsha")"
check_match "... stderr names the expected digest" "$WRONG_SHA" "$RUN_STDERR"
check_match "... and the actual one" "$SHA" "$RUN_STDERR"
not_there "... the target tag does not exist afterwards" "$TGT:badsha"

# A 404: exit 1 naming the URL, nothing pushed.
URL404=http://127.0.0.1:$HTTP_PORT/missing.tar.gz
# --no-cache: with the cache, a url layer whose archive (by its sha256) was
# built before needs no download at all (see cache.sh).
DESC="url layer answered 404: exit 1 naming the URL" \
	run_expect 1 "$URL404" "$IMAGESPEC" build "$(url_spec notfound "$URL404" "$SHA" "$TGT:notfound")" --no-cache
check_match "... stderr says 404" '404' "$RUN_STDERR"
not_there "... the target tag does not exist afterwards" "$TGT:notfound"

# The same spec to an OCI layout: the registry only serves the base.
RMARK=$(registry_log_mark REG)
DESC="url layer to --output oci:DIR" \
	run_expect 0 '' "$IMAGESPEC" build "$W/good/image.yaml" --output "oci:$W/layout:1"
check_eq "... the registry saw no write (no PUT, POST, PATCH, DELETE)" 0 \
	"$(registry_requests REG "$RMARK" '"(PUT|POST|PATCH|DELETE) /v2/')"
check_eq "... the layout runs hello through PATH (umoci + chroot)" "hello from a url layer" \
	"$(unpack_run "$W/layout:1" layout-bundle)"
check_digest "... the layout's manifest is the pushed one (same spec, same bytes)" "$PRINTED" \
	"$(skopeo inspect --raw "oci:$W/layout:1" | sha256sum | sed 's/ .*//; s/^/sha256:/')"

stop_bg "$HTTP_PID"
check "the http server stopped (by PID)" bash -c "! kill -0 $HTTP_PID 2>/dev/null"

# === 2. Google service account ===============================================
G=$W/google
mkdir -p "$G"
{
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$G/key.pem" &&
		openssl pkey -in "$G/key.pem" -pubout -out "$G/pub.pem" &&
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$G/other.pem"
} >"$G/openssl.log" 2>&1 || bail "openssl: $(cat "$G/openssl.log")"

GLOG=$G/requests.jsonl
: >"$GLOG"
start_bg "$G/server.log" "$PY" "$SRCDIR/tests/auth/google_token_server.py" --port-file "$G/port" \
	--log "$GLOG" --public-key "$G/pub.pem" --client-email ci@test.iam.gserviceaccount.com
GPID=$BG_PID
for _ in $(seq 100); do [ -s "$G/port" ] && break; kill -0 "$GPID" 2>/dev/null || break; sleep 0.1; done
[ -s "$G/port" ] || bail "the Google token server did not start: $(cat "$G/server.log")"
GPORT=$(cat "$G/port")
TOKEN_URI=http://127.0.0.1:$GPORT/token
# The server issues ya29.test-N, N counting the tokens: the first is ya29.test-1.
GTOKEN=ya29.test-1

# sa_json KEYFILE OUT: a service-account key file.
sa_json() {
	jq -n --rawfile k "$1" --arg uri "$TOKEN_URI" \
		'{type: "service_account", project_id: "test", client_email: "ci@test.iam.gserviceaccount.com",
		  private_key: $k, private_key_id: "k1", token_uri: $uri}' >"$2"
}
mkdir -p "$G/spec" "$G/wrong"
sa_json "$G/key.pem" "$G/spec/sa.json"
sa_json "$G/other.pem" "$G/wrong/sa.json"

registry_start GREG --htpasswd "oauth2accesstoken:$GTOKEN" || bail "cannot start the htpasswd registry"
check_eq "the registry refuses anonymous requests (fixture sanity)" 401 \
	"$(curl -s -o /dev/null -w '%{http_code}' "http://$GREG_ADDR/v2/")"

# g_spec DIR TARGET: a spec in DIR with auth from DIR/sa.json.
g_spec() {
	cat >"$1/image.yaml" <<EOF
base: $BASE
target: $2
created: "2026-01-01T00:00:00Z"
files:
  - dest: /hello.txt
    content: "pushed with a service account\n"
cmd: ["/bin/cat", "/hello.txt"]
auth:
  "$GREG_ADDR": {googleCredentialsFile: ./sa.json}
EOF
	echo "$1/image.yaml"
}

# no_secrets DESC: neither key's PEM (nor a line of it) nor a token nor a JWT in the last run's output.
KEYLINES=()
for k in "$G/key.pem" "$G/other.pem"; do
	KEYLINES+=(-e "$(sed -n 2p "$k")" -e "$(sed -n 10p "$k")")
done
no_secrets() {
	local SECRETS=(-e "PRIVATE KEY" -e "ya29." "${KEYLINES[@]}")
	check_no_secret "$1: neither the private key nor a token in stdout/stderr" "$RUN_OUT" "$RUN_ERR"
}

GT=$GREG_ADDR/team/app
DESC="googleCredentialsFile: build and push" \
	run_expect 0 '' env HOME="$G" "$IMAGESPEC" build "$(g_spec "$G/spec" "$GT:sa")"
no_secrets "googleCredentialsFile push"
check_digest "... skopeo inspect --creds oauth2accesstoken:TOKEN reads the printed digest" \
	"$(digest_of_output "$RUN_OUT")" \
	"$(skopeo inspect --tls-verify=false --creds "oauth2accesstoken:$GTOKEN" "docker://$GT:sa" 2>&1 | jq -r '.Digest // empty')"
not_there "... skopeo without credentials is refused (the push really was authenticated)" "$GT:sa"
check_jsonl "... the token server verified an RS256 assertion from the key file (kid k1, iss, cloud-platform)" \
	'any(.[]; .method == "POST" and .path == "/token" and .verified == true and .status == 200
	     and .alg == "RS256" and .kid == "k1" and .iss == "ci@test.iam.gserviceaccount.com"
	     and .grant_type == "urn:ietf:params:oauth:grant-type:jwt-bearer"
	     and .content_type == "application/x-www-form-urlencoded")' "$GLOG"
check_jsonl "... exactly one token was issued (ya29.test-1, the registry's password)" \
	'[.[] | select(.status == 200)] | length == 1 and .[0].token_number == 1' "$GLOG"
OUT=$(pull_and_run "$GT:sa" --src-tls-verify=false --src-creds "oauth2accesstoken:$GTOKEN")
check_eq "... the pushed image runs (skopeo copy + umoci + chroot)" "pushed with a service account" "$OUT"

# A key file whose key the token server does not know: exit 3.
: >"$GLOG"
DESC="googleCredentialsFile signed with another key: exit 3" \
	run_expect 3 '' env HOME="$G" "$IMAGESPEC" build "$(g_spec "$G/wrong" "$GT:wrong")"
check_match "... the message names the key file" "$G/wrong/sa\\.json" "$RUN_STDERR"
check_match "... the message names the registry or the token endpoint" "$GREG_ADDR|127\\.0\\.0\\.1:$GPORT" "$RUN_STDERR"
no_secrets "refused key file"
check_jsonl "... the token server refused the signature" \
	'length > 0 and all(.[]; .status == 400 and .verified == false and .reason == "Invalid JWT Signature.")' "$GLOG"
not_there "... nothing was pushed" "$GT:wrong" --tls-verify=false --creds "oauth2accesstoken:$GTOKEN"

done_testing
