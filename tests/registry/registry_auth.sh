#!/usr/bin/env bash
# Credentials: an htpasswd registry (Basic) with the spec's `auth:`
# (${host:...}, literal, host/namespace prefixes), config.json,
# $REGISTRY_AUTH_FILE, `imagespec auth login/get/logout` and credential
# helpers (stub docker-credential-* scripts); a wrong password (exit 3, the
# registry named, the secret nowhere); a token-auth registry behind
# tests/registry/token_server.py (the scopes asked for a push with a mount, a
# bearer token given as is), and an anonymous pull of a public/ base.
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/fixture.sh"
need_root
need skopeo umoci jq curl openssl htpasswd sha256sum base64
[ -x /usr/bin/docker-registry ] || need /usr/bin/docker-registry

PASS=canary-Pw-8c1f0e2d7b
WRONG=canary-Wrong-41d9aa07
registry_start HT --htpasswd "alice:$PASS" || bail "cannot start the htpasswd registry"
seed_base "$HT_ADDR" base/busybox:1 --dest-creds "alice:$PASS" || bail "cannot seed the htpasswd registry"
check_eq "the htpasswd registry refuses anonymous requests (fixture sanity)" 401 \
	"$(curl -s -o /dev/null -w '%{http_code}' "http://$HT_ADDR/v2/")"

W=$TMP/w
mkdir -p "$W"
# spec NAME ADDR TARGET_TAG [EXTRA YAML]
spec() {
	cat >"$W/$1.yaml" <<EOF
base: $2/base/busybox:1
target: $2/team/app:$3
created: "2026-01-01T00:00:00Z"
files:
  - dest: /hello.txt
    content: "hello with credentials\n"
cmd: ["/bin/cat", "/hello.txt"]
${4:-}
EOF
	echo "$W/$1.yaml"
}
AUTH_HOST="auth: {\"$HT_ADDR\": {username: alice, password: \"\${host:REG_PASS}\"}}"
# no_secret DESC: the canaries appear neither in stdout nor in stderr of the last run.
no_secret() {
	check_nomatch "$1: no password in stdout or stderr" "$PASS|$WRONG" "$RUN_STDOUT
$RUN_STDERR"
}

# --- the spec's auth, ${host:REG_PASS} -----------------------------------------------
M0=$(registry_log_mark HT)
DESC="htpasswd: auth from the spec (\${host:REG_PASS})" \
	run_expect 0 '' env REG_PASS="$PASS" "$IMAGESPEC" build "$(spec ok "$HT_ADDR" 1 "$AUTH_HOST")" -v
D=$(digest_of_output "$RUN_OUT")
# Basic credentials go with every request to a repository once it asked
# for them, whatever the scopes (the tag's HEAD, the mount, the upload):
# one 401 for the base's repository, one for the target's.
check_eq "... one 401 a repository (Basic credentials sent before a 401 after that)" 2 \
	"$(registry_requests HT "$M0" '" 401 ')"
no_secret "success with -v"
check_nomatch "no Authorization value in the -v trace" 'Basic [A-Za-z0-9+/=]{8,}|Bearer [A-Za-z0-9._-]{8,}' "$RUN_STDERR"
check_digest "skopeo --creds reads the printed digest" "$D" \
	"$(skopeo_raw_digest "$HT_ADDR/team/app:1" --tls-verify=false --creds "alice:$PASS")"
check "skopeo without credentials is refused (so the push really was authenticated)" \
	bash -c "! skopeo inspect --raw --tls-verify=false docker://$HT_ADDR/team/app:1 >/dev/null 2>&1"
check_eq "the image runs" "hello with credentials" \
	"$(pull_and_run "$HT_ADDR/team/app:1" --src-tls-verify=false --src-creds "alice:$PASS")"
check "the image was pulled for the sweep" test -d "$PULLED_LAYOUT/blobs/sha256"
SECRETS=(-e "$PASS")
check_eq "the password is nowhere in the image (config, layers decompressed, manifest)" "" \
	"$(blob_secret_hits "$PULLED_LAYOUT")"
check_eq "... nor in the layout's index.json" "" "$(secret_hits "$PULLED_LAYOUT/index.json")"

# --- wrong password: exit 3 ------------------------------------------------------------
M=$(registry_log_mark HT)
DESC="htpasswd: a wrong password exits 3" \
	run_expect 3 '' env REG_PASS="$WRONG" "$IMAGESPEC" build "$(spec wrong "$HT_ADDR" 2 "$AUTH_HOST")" -v
check_match "... the message names the registry" "$HT_ADDR" "$RUN_STDERR"
check_match "... and where the credentials came from (the spec's auth)" "auth|spec" "$RUN_STDERR"
no_secret "wrong password with -v"
check_eq "... nothing pushed (no manifest PUT)" 0 "$(registry_requests HT "$M" '"PUT /v2/team/app/manifests/')"
N401=$(registry_requests HT "$M" '" 401 ')
check "... a refused password is not retried over and over ($N401 answers 401)" test "$N401" -le 6

# The target is asked first: with a base that needs no registry, a wrong
# password still fails before a single layer is built.
cat >"$W/wrong-target.yaml" <<EOF
base: scratch
target: $HT_ADDR/team/app:wrong-target
created: "2026-01-01T00:00:00Z"
files:
  - dest: /hello.txt
    content: "hello\n"
$AUTH_HOST
EOF
DESC="htpasswd: a wrong password for the target, base scratch: exit 3" \
	run_expect 3 "$HT_ADDR" env REG_PASS="$WRONG" "$IMAGESPEC" build "$W/wrong-target.yaml" --progress plain
check_eq "... before any layer was built" "" "$(grep -o 'building layer.*' "$RUN_ERR")"
no_secret "wrong password for the target"

DESC="htpasswd: no credentials at all exits 3" \
	run_expect 3 '' ims build "$(spec anon "$HT_ADDR" 3)" --progress quiet
check_match "... naming the registry" "$HT_ADDR" "$RUN_STDERR"
DESC="htpasswd: an unset \${host:REG_PASS} is a spec error (exit 2)" \
	run_expect 2 'REG_PASS' env -u REG_PASS "$IMAGESPEC" build "$(spec unset "$HT_ADDR" 4 "$AUTH_HOST")" --progress quiet

# --- a literal secret in the spec: works, with a warning -------------------------------------
DESC="a literal password in auth: works" \
	run_expect 0 '' ims build "$(spec literal "$HT_ADDR" 5 "auth: {\"$HT_ADDR\": {username: alice, password: \"$PASS\"}}")"
check_match "... with a warning that suggests \${host:...}" 'host:' "$RUN_STDERR"
no_secret "literal password"

# --- host/namespace prefix: the longest match wins --------------------------------------------
DESC="auth by host/namespace prefix: the longest match wins" \
	run_expect 0 '' env REG_PASS="$PASS" "$IMAGESPEC" build "$(spec prefix "$HT_ADDR" 6 \
		"auth: {\"$HT_ADDR\": {username: alice, password: \"$WRONG\"}, \"$HT_ADDR/team\": {username: alice, password: \"\${host:REG_PASS}\"}, \"$HT_ADDR/base\": {username: alice, password: \"\${host:REG_PASS}\"}}")" \
	--progress quiet
no_secret "prefix match"

# --- $DOCKER_CONFIG/config.json and $REGISTRY_AUTH_FILE ------------------------------------
mkdir -p "$TMP/dc"
printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$HT_ADDR" "$(printf 'alice:%s' "$PASS" | base64 -w0)" >"$TMP/dc/config.json"
DESC="credentials from \$DOCKER_CONFIG/config.json (auths)" \
	run_expect 0 '' env DOCKER_CONFIG="$TMP/dc" "$IMAGESPEC" build "$(spec dockercfg "$HT_ADDR" 7)" --progress quiet
no_secret "config.json"
check_digest "config.json: skopeo reads the printed digest" "$(digest_of_output "$RUN_OUT")" \
	"$(skopeo_raw_digest "$HT_ADDR/team/app:7" --tls-verify=false --creds "alice:$PASS")"
DESC="credentials from \$REGISTRY_AUTH_FILE" \
	run_expect 0 '' env REGISTRY_AUTH_FILE="$TMP/dc/config.json" "$IMAGESPEC" build "$(spec authfile "$HT_ADDR" 8)" --progress quiet
printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$HT_ADDR" "$(printf 'alice:%s' "$WRONG" | base64 -w0)" >"$TMP/dc/config.json"
DESC="the spec's auth comes before config.json" \
	run_expect 0 '' env DOCKER_CONFIG="$TMP/dc" REG_PASS="$PASS" "$IMAGESPEC" build "$(spec precedence "$HT_ADDR" 9 "$AUTH_HOST")" --progress quiet
DESC="a wrong password in config.json exits 3" \
	run_expect 3 "$HT_ADDR" env DOCKER_CONFIG="$TMP/dc" "$IMAGESPEC" build "$(spec dockercfg_wrong "$HT_ADDR" 10)" --progress quiet
check_match "... naming config.json as the credentials' source" 'config\.json' "$RUN_STDERR"
no_secret "config.json, wrong password"

# --- imagespec auth login / get / logout (config.json shared with skopeo) ---------------------
LOGIN_DIR=$TMP/login
printf '%s\n' "$PASS" >"$TMP/pass-stdin"
DESC="imagespec auth login HOST -u alice --password-stdin" \
	RUN_STDIN=$TMP/pass-stdin run_expect 0 '' env DOCKER_CONFIG="$LOGIN_DIR" "$IMAGESPEC" auth login "$HT_ADDR" -u alice --password-stdin
check_match "... prints Login Succeeded" 'Login Succeeded' "$RUN_STDOUT"
no_secret "auth login"
check_eq "... config.json has mode 0600" 600 "$(stat -c %a "$LOGIN_DIR/config.json" 2>&1)"
check_eq "... and docker's auths[HOST].auth = base64(user:password)" "alice:$PASS" \
	"$(jq -r --arg h "$HT_ADDR" '.auths[$h].auth' "$LOGIN_DIR/config.json" 2>/dev/null | base64 -d 2>/dev/null)"
check_digest "... skopeo --authfile uses that login" "$D" \
	"$(skopeo_raw_digest "$HT_ADDR/team/app:1" --tls-verify=false --authfile "$LOGIN_DIR/config.json")"
DESC="a build after auth login (no auth in the spec)" \
	run_expect 0 '' env DOCKER_CONFIG="$LOGIN_DIR" "$IMAGESPEC" build "$(spec login "$HT_ADDR" 11)" --progress quiet
check_digest "... skopeo reads the printed digest" "$(digest_of_output "$RUN_OUT")" \
	"$(skopeo_raw_digest "$HT_ADDR/team/app:11" --tls-verify=false --creds "alice:$PASS")"
printf '%s' "$HT_ADDR" >"$TMP/server-url"
DESC="imagespec auth get (credential-helper protocol)" \
	RUN_STDIN=$TMP/server-url run_expect 0 '' env DOCKER_CONFIG="$LOGIN_DIR" "$IMAGESPEC" auth get
check_eq "... prints the user and secret a build would use" "alice $PASS" \
	"$(jq -r '"\(.Username) \(.Secret)"' "$RUN_OUT" 2>/dev/null)"
DESC="imagespec auth logout HOST" \
	run_expect 0 '' env DOCKER_CONFIG="$LOGIN_DIR" "$IMAGESPEC" auth logout "$HT_ADDR"
check_eq "... config.json keeps no credentials for HOST" null \
	"$(jq -c --arg h "$HT_ADDR" '.auths[$h].auth' "$LOGIN_DIR/config.json" 2>/dev/null)"
DESC="a build after logout exits 3" \
	run_expect 3 "$HT_ADDR" env DOCKER_CONFIG="$LOGIN_DIR" "$IMAGESPEC" build "$(spec logout "$HT_ADDR" 12)" --progress quiet
DESC="auth login refuses a password on the command line (exit 2)" \
	run_expect 2 '' env DOCKER_CONFIG="$LOGIN_DIR" "$IMAGESPEC" auth login "$HT_ADDR" -u alice -p "$PASS"
no_secret "auth login -p"

# --- credential helpers ---------------------------------------------------------------------
HBIN=$TMP/bin
mkdir -p "$HBIN" "$TMP/helpercfg"
# docker-credential-imstest answers `get` for HT_ADDR with alice's password
# and logs each call (action and server URL); docker-credential-imsbad prints
# a secret, then fails.
{
	echo '#!/bin/sh'
	echo 'read -r url'
	echo "echo \"\$1 \$url\" >>'$TMP/helper.log'"
	echo "if [ \"\$1\" = get ] && [ \"\$url\" = '$HT_ADDR' ]; then"
	echo "	printf '{\"ServerURL\": \"%s\", \"Username\": \"alice\", \"Secret\": \"%s\"}\\n' \"\$url\" '$PASS'"
	echo '	exit 0'
	echo 'fi'
	echo 'echo "credentials not found in native keychain"'
	echo 'exit 1'
} >"$HBIN/docker-credential-imstest"
{
	echo '#!/bin/sh'
	echo "printf '{\"Username\": \"alice\", \"Secret\": \"%s\"}\\n' '$WRONG'"
	echo 'exit 1'
} >"$HBIN/docker-credential-imsbad"
chmod +x "$HBIN/docker-credential-imstest" "$HBIN/docker-credential-imsbad"
check_eq "the stub helper answers get (fixture sanity)" "alice $PASS" \
	"$(printf '%s\n' "$HT_ADDR" | "$HBIN/docker-credential-imstest" get | jq -r '"\(.Username) \(.Secret)"')"
: >"$TMP/helper.log"
printf '{"credHelpers": {"%s": "imstest"}}\n' "$HT_ADDR" >"$TMP/helpercfg/config.json"
DESC="config.json credHelpers: docker-credential-imstest" \
	run_expect 0 '' env PATH="$HBIN:$PATH" DOCKER_CONFIG="$TMP/helpercfg" "$IMAGESPEC" build "$(spec helpercfg "$HT_ADDR" 13)" --progress quiet
no_secret "credHelpers"
check_match "... the helper was asked 'get' for the registry" "^get $HT_ADDR\$" "$(cat "$TMP/helper.log")"
DESC="spec auth: {helper: imstest}" \
	run_expect 0 '' env PATH="$HBIN:$PATH" "$IMAGESPEC" build "$(spec helperspec "$HT_ADDR" 14 "auth: {\"$HT_ADDR\": {helper: imstest}}")" --progress quiet
check_digest "... skopeo reads the printed digest" "$(digest_of_output "$RUN_OUT")" \
	"$(skopeo_raw_digest "$HT_ADDR/team/app:14" --tls-verify=false --creds "alice:$PASS")"
DESC="a helper that prints a secret and fails: the build fails" \
	run_expect nonzero 'imsbad|helper' env PATH="$HBIN:$PATH" "$IMAGESPEC" build "$(spec helperbad "$HT_ADDR" 15 "auth: {\"$HT_ADDR\": {helper: imsbad}}")" --progress quiet
no_secret "failing helper"

# --- token auth --------------------------------------------------------------------------
TPASS=canary-TokPw-5e0b77c3
token_server_start --user "alice:$TPASS" || bail "cannot start the token server"
registry_start TOK --token || bail "cannot start the token-auth registry"
seed_base "$TOK_ADDR" base/busybox:1 --dest-creds "alice:$TPASS" || bail "cannot seed the token registry"
seed_base "$TOK_ADDR" public/busybox:1 --dest-creds "alice:$TPASS" || bail "cannot seed public/busybox"
CH=$(curl -s -D - -o /dev/null "http://$TOK_ADDR/v2/" | tr -d '\r' | sed -n 's/^[Ww]ww-[Aa]uthenticate: //p')
check_match "the token registry challenges with Bearer realm=the token server (fixture sanity)" \
	"^Bearer realm=\"$TOKEN_URL\"" "$CH"

: >"$TOKEN_LOG"
TAUTH="auth: {\"$TOK_ADDR\": {username: alice, password: \"\${host:TOK_PASS}\"}}
$(token_trust "$TOKEN_ADDR")"
DESC="token auth: push with a mount from base/busybox" \
	run_expect 0 '' env TOK_PASS="$TPASS" "$IMAGESPEC" build "$(spec tok "$TOK_ADDR" 1 "$TAUTH")" --json -v
cp "$RUN_OUT" "$TMP/tok.json"
TD=$(jq -r .digest "$TMP/tok.json" 2>/dev/null)
check_nomatch "token auth: no password or token in stdout/stderr (-v)" "$TPASS|eyJ[A-Za-z0-9_-]{20,}" "$RUN_STDOUT
$RUN_STDERR"
check_digest "token auth: skopeo --creds reads the digest" "$TD" \
	"$(skopeo_raw_digest "$TOK_ADDR/team/app:1" --tls-verify=false --creds "alice:$TPASS")"
check_eq "token auth: the image runs" "hello with credentials" \
	"$(pull_and_run "$TOK_ADDR/team/app:1" --src-tls-verify=false --src-creds "alice:$TPASS")"
check_jsonl "token server log: scope repository:team/app:pull,push was asked" \
	'any(.[]; .scopes | index("repository:team/app:pull,push") or index("repository:team/app:push,pull"))' "$TOKEN_LOG"
check_jsonl "token server log: scope repository:base/busybox:pull was asked" \
	'any(.[]; .scopes | index("repository:base/busybox:pull"))' "$TOKEN_LOG"
check_jsonl "token server log: every request carried credentials, all accepted" \
	'length > 0 and all(.[]; .authorization and .outcome == "granted")' "$TOKEN_LOG"
check_jsonl "token server log: never a push scope on the base's repository" \
	'all(.[]; all(.scopes[]; test("^repository:base/busybox:.*push") | not))' "$TOKEN_LOG"
NTOK=$(jq -s length "$TOKEN_LOG")
check "token server: tokens are reused, not fetched per request ($NTOK requests, <= 10)" test "$NTOK" -le 10
check_jq "--json: the base's layers mounted or skipped" \
	'[.manifests[0].layers[:-1][] | .action] | length > 0 and all(IN("mounted", "skipped"))' "$TMP/tok.json"
# The same push again: the tag names the manifest the cache kept, so its
# layers are asked on the transport's own thread while the main one goes
# on (src/exec/target_tag.c), with the tokens the first requests fetched.
: >"$TOKEN_LOG"
DESC="token auth: the same push again asks for the layers ahead" \
	run_expect 0 'asking ahead for the [0-9]+ layers? of the manifest' \
	env TOK_PASS="$TPASS" "$IMAGESPEC" build "$(spec tok "$TOK_ADDR" 1 "$TAUTH")" -v
check_eq "... the same digest" "$TD" "$(digest_of_output "$RUN_OUT")"
NTOK2=$(jq -s length "$TOKEN_LOG")
check "... with no more token requests than the first push ($NTOK2, <= $NTOK)" test "$NTOK2" -le "$NTOK"
check_jsonl "... each one with credentials, granted" \
	'all(.[]; .authorization and .outcome == "granted")' "$TOKEN_LOG"

: >"$TOKEN_LOG"
DESC="token auth: a wrong password exits 3" \
	run_expect 3 "$TOK_ADDR" env TOK_PASS="$WRONG" "$IMAGESPEC" build "$(spec tokwrong "$TOK_ADDR" 2 "$TAUTH")" -v
check_nomatch "... no password in stdout/stderr" "$TPASS|$WRONG" "$RUN_STDOUT
$RUN_STDERR"
check_jsonl "... the token server refused the credentials" 'any(.[]; .outcome == "credentials refused")' "$TOKEN_LOG"

# --- a bearer token given as is (auth: {HOST: {token}}) ---------------------------------------
BEARER=$(curl -s -u "alice:$TPASS" "$TOKEN_URL?service=$TOKEN_SERVICE&scope=repository:team/app:pull,push&scope=repository:base/busybox:pull" | jq -r .token)
check_match "the token server hands out a token to curl (fixture sanity)" '^eyJ' "$BEARER"
DESC="auth: {HOST: {token: \${host:BEARER}}}: the token is sent as is" \
	run_expect 0 '' env BEARER="$BEARER" "$IMAGESPEC" build "$(spec bearer "$TOK_ADDR" 3 "auth: {\"$TOK_ADDR\": {token: \"\${host:BEARER}\"}}")" -v
check_nomatch "... the token appears nowhere in stdout/stderr (-v)" "${BEARER:0:40}|${BEARER: -20}" "$RUN_STDOUT
$RUN_STDERR"
check_digest "... skopeo reads the printed digest" "$(digest_of_output "$RUN_OUT")" \
	"$(skopeo_raw_digest "$TOK_ADDR/team/app:3" --tls-verify=false --creds "alice:$TPASS")"

# --- anonymous pull of a public/ base ------------------------------------------------------
: >"$TOKEN_LOG"
cat >"$W/public.yaml" <<EOF
base: $TOK_ADDR/public/busybox:1
target: oci:out:public
created: "2026-01-01T00:00:00Z"
files:
  - dest: /hello.txt
    content: "hello anonymous\n"
cmd: ["/bin/cat", "/hello.txt"]
EOF
DESC="token auth: anonymous pull of a public/ base (no credentials anywhere)" \
	run_expect 0 '' ims build "$W/public.yaml" --output "oci:$TMP/public:1" --progress quiet
check_eq "anonymous: the image runs (umoci + chroot)" "hello anonymous" "$(layout_run "$TMP/public:1")"
check_jsonl "token server log: an anonymous request for repository:public/busybox:pull" \
	'any(.[]; (.authorization | not) and (.scopes | index("repository:public/busybox:pull")))' "$TOKEN_LOG"
sed "s#public/busybox#base/busybox#" "$W/public.yaml" >"$W/private.yaml"
DESC="token auth: an anonymous pull of a private base exits 3" \
	run_expect 3 "$TOK_ADDR" ims build "$W/private.yaml" --output "oci:$TMP/private:1" --progress quiet
check "... and left no layout behind" test ! -e "$TMP/private"

# --- tokens the registry refuses (expired on arrival): one renewal, then exit 3 --------------------
# A second token server whose tokens expired 120 s ago (beyond the registry's
# 60 s leeway), and a registry that trusts it.
token_server_start --user "alice:$TPASS" --ttl -120 || bail "cannot start the second token server"
registry_start TOKX --token || bail "cannot start the second token registry"
START=$(date +%s)
DESC="every token refused by the registry: exit 3" \
	run_expect 3 "$TOKX_ADDR" env TOK_PASS="$TPASS" "$IMAGESPEC" build \
	"$(spec tokexpired "$TOKX_ADDR" 1 "auth: {\"$TOKX_ADDR\": {username: alice, password: \"\${host:TOK_PASS}\"}}
$(token_trust "$TOKEN_ADDR")")" --progress quiet
check "... quickly ($(elapsed_since "$START") s < 30)" test "$(elapsed_since "$START")" -lt 30
NTOK=$(jq -s length "$TOKEN_LOG")
check "... after at most one renewal ($NTOK token requests, 1..2)" test "$NTOK" -ge 1 -a "$NTOK" -le 2

done_testing
