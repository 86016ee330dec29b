#!/usr/bin/env bash
# Credentials end to end (issue 4's "Tests" and "Secrets hygiene"), against
# the real registry fixture: an htpasswd registry (HT), a token-auth registry
# (TOK) behind token_server.py issuing 2-second tokens, and an anonymous one
# (PLAIN). Every push is checked by its exit status, then by `skopeo inspect`
# with the right credentials (the digest it reads is the one printed).
#
#  1. every credential source: the spec's `auth:` (${host:REG_PASS}),
#     config.json `auths`, `credHelpers` and `credsStore` (the helper is
#     tests/registry/docker-credential-test, installed first on PATH),
#     $REGISTRY_AUTH_FILE, a spec `{helper: test}`, and the token registry
#     with config.json (Basic at the token endpoint, the push scope);
#     `imagespec inspect` with config.json; a password full of odd
#     characters through the spec, config.json, a helper and auth login;
#  2. the host/namespace prefix rule (longest match, `/` separator);
#  3. wrong credentials: exit 3 naming the registry and the credentials'
#     source; a missing credsStore helper: a warning, then anonymous; a
#     helper that prints garbage or fails: an error naming it, its output
#     not shown;
#  4. tokens that expire in the middle of a slowed push (3 x 30 MB of
#     random data, -j 1, through fault_proxy.py at 10 MB/s): 2-second tokens
#     (renewed by the client before they expire), then tokens refused after
#     three requests while the client believes them good for 300 s (a fault
#     proxy answers 401 mid-push; no finished upload is repeated);
#  5. a canary password used through every source, with -v, --json and
#     --metadata-out, failing and succeeding, then looked for everywhere:
#     outputs, metadata, registry and token server logs, the pushed images
#     (every blob, decompressed), $TMPDIR and $HOME of the runs, the fixture's
#     and the test's directories, and the config.json of `auth login`. It
#     may appear only in the files the user wrote ($U below).
#  6. `imagespec auth login ... --password-stdin`, a build, `auth logout`, a
#     build that exits 3; with and without a credential helper configured.
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/fixture.sh"
need skopeo jq curl openssl htpasswd base64 gzip tar head
[ -x /usr/bin/docker-registry ] || need /usr/bin/docker-registry

# --- the canaries and where the user keeps them ------------------------------------------
CANARY="canary-S3cr3t-$RANDOM$RANDOM$RANDOM"
WRONG="canary-Wr0ng-$RANDOM$RANDOM$RANDOM"
# The Basic value (base64 of user:password) is as secret as the password.
CANARY_B64=$(printf 'alice:%s' "$CANARY" | base64 -w0)
WRONG_B64=$(printf 'alice:%s' "$WRONG" | base64 -w0)
SECRETS=(-e "$CANARY" -e "$WRONG" -e "$CANARY_B64" -e "$WRONG_B64")

U=$TMP/user                       # everything the user wrote: specs, config files, helper stores
OUTS=$TMP/outputs                 # stdout and stderr of every imagespec run
META=$TMP/meta                    # --metadata-out files
IMS_TMPDIR=$TMP/ims-tmp           # $TMPDIR of every imagespec run
IMS_HOME=$TMP/ims-home            # $HOME of every imagespec run
EMPTY_DC=$TMP/empty-docker-config # $DOCKER_CONFIG unless a case says otherwise
mkdir -p "$U/specs" "$OUTS" "$META" "$IMS_TMPDIR" "$IMS_HOME" "$EMPTY_DC" "$TMP/bin"
touch "$TMP/.start"

# The credential helper, first on PATH.
install -m 0755 "$SRCDIR/tests/registry/docker-credential-test" "$TMP/bin/docker-credential-test" ||
	bail "cannot install docker-credential-test"
export PATH="$TMP/bin:$PATH"
export DOCKER_CREDENTIAL_TEST_STORE=$U/helper-store.json
export DOCKER_CREDENTIAL_TEST_LOG=$TMP/helper.log
: >"$DOCKER_CREDENTIAL_TEST_LOG"

# --- the peers ------------------------------------------------------------------------------
registry_start HT --htpasswd "alice:$CANARY" || bail "cannot start the htpasswd registry"
seed_base "$HT_ADDR" base/busybox:1 --dest-creds "alice:$CANARY" || bail "cannot seed the htpasswd registry"
check_eq "the htpasswd registry refuses anonymous requests (fixture sanity)" 401 \
	"$(curl -s -o /dev/null -w '%{http_code}' "http://$HT_ADDR/v2/")"
check "the htpasswd file holds a bcrypt hash, not the password (fixture sanity)" \
	bash -c "grep -q '^alice:\\\$2y\\\$' '$FIXTURE_DIR/HT/htpasswd' && ! grep -qF -- '$CANARY' '$FIXTURE_DIR/HT/htpasswd'"
registry_start PLAIN || bail "cannot start the anonymous registry"
seed_base "$PLAIN_ADDR" base/busybox:1 || bail "cannot seed the anonymous registry"
TTL=2
token_server_start --user "alice:$CANARY" --ttl "$TTL" || bail "cannot start the token server"
registry_start TOK --token || bail "cannot start the token-auth registry"
seed_base "$TOK_ADDR" base/busybox:1 --dest-creds "alice:$CANARY" || bail "cannot seed the token registry"
seed_base "$TOK_ADDR" public/busybox:1 --dest-creds "alice:$CANARY" || bail "cannot seed public/busybox"
BASE_LAYOUT=$(busybox_layout) || bail "cannot build the busybox layout"
# The token server is on another port than its registry: the specs name it.
TRUST=$(token_trust "$TOKEN_ADDR")

# --- helpers ----------------------------------------------------------------------------------
# spec NAME BASE TARGET [EXTRA YAML]: writes $U/specs/NAME.yaml, prints its path.
spec() {
	cat >"$U/specs/$1.yaml" <<EOF
base: $2
target: $3
created: "2026-01-01T00:00:00Z"
files:
  - dest: /hello.txt
    content: "hello from $1\n"
cmd: ["/bin/cat", "/hello.txt"]
${4:-}
${TRUST:-}
EOF
	echo "$U/specs/$1.yaml"
}
# spec_auth KEY PASSWORD_EXPR: an `auth:` block with one key.
spec_auth() {
	printf 'auth:\n  "%s": {username: alice, password: "%s"}\n' "$1" "$2"
}
# dockercfg DIR JSON: writes DIR/config.json, prints DIR.
dockercfg() {
	mkdir -p "$1"
	printf '%s\n' "$2" >"$1/config.json"
	echo "$1"
}
# auths_json HOST B64: a config.json/auth.json with one `auths` entry.
auths_json() {
	printf '{"auths": {"%s": {"auth": "%s"}}}' "$1" "$2"
}
# helper_store FILE HOST PASSWORD: a store for docker-credential-test.
helper_store() {
	jq -n --arg h "$2" --arg p "$3" '{($h): {Username: "alice", Secret: $p}}' >"$1"
}
helper_store "$U/helper-store.json" "$HT_ADDR" "$CANARY"
helper_store "$U/helper-store-wrong.json" "$HT_ADDR" "$WRONG"

# isb [VAR=VALUE...] ARG...: imagespec with the run's environment: a fresh
# $TMPDIR and $HOME, both passwords in the environment (for ${host:...}), an
# empty $DOCKER_CONFIG unless VAR=VALUE says otherwise.
isb() {
	local vars=()
	while [ $# -gt 0 ] && [[ $1 =~ ^[A-Z_]+= ]]; do
		vars+=("$1")
		shift
	done
	env -u REGISTRY_AUTH_FILE -u XDG_RUNTIME_DIR TMPDIR="$IMS_TMPDIR" HOME="$IMS_HOME" REG_PASS="$CANARY" BAD_PASS="$WRONG" \
		DOCKER_CONFIG="$EMPTY_DC" ${vars[@]+"${vars[@]}"} "$IMAGESPEC" "$@"
}

# run EXIT ERE CMD...: run_expect, keeping stdout and stderr for the final sweep.
NRUN=0
run() {
	local rc=0
	run_expect "$@" || rc=1
	NRUN=$((NRUN + 1))
	cp "$RUN_OUT" "$OUTS/$NRUN.out"
	cp "$RUN_ERR" "$OUTS/$NRUN.err"
	return $rc
}

# no_secret DESC: no password (nor its Basic value, nor a JWT) in the last
# run's stdout or stderr.
no_secret() {
	check_no_secret "$1: no secret in stdout or stderr" "$RUN_OUT" "$RUN_ERR"
}

# printed_digest: the digest the last build printed (REF@sha256:... or --json).
printed_digest() {
	local d
	d=$(digest_of_output "$RUN_OUT")
	[ -n "$d" ] || d=$(jq -r '.digest // empty' "$RUN_OUT" 2>/dev/null)
	echo "$d"
}

# pushed DESC DOCKER_REF [skopeo flags]: skopeo inspect (with the right
# credentials by default) reads the digest the last build printed.
pushed() {
	local desc=$1 ref=$2 want got
	shift 2
	[ $# -gt 0 ] || set -- --creds "alice:$CANARY"
	want=$(printed_digest)
	got=$(skopeo inspect --tls-verify=false "$@" "docker://$ref" 2>"$TMP/.skopeo.err" | jq -r '.Digest // empty')
	if [ -z "$got" ]; then
		not_ok "$desc: skopeo inspect reads $ref" "$(head -c 1000 "$TMP/.skopeo.err")"
		return 1
	fi
	check_digest "$desc: skopeo inspect reads $ref with the printed digest" "$want" "$got"
}

# pull NAME DOCKER_REF [skopeo flags]: copies the image into $TMP/pulled/NAME
# (an OCI layout) for the canary sweep.
PULLED=()
pull() {
	local name=$1 ref=$2
	shift 2
	[ $# -gt 0 ] || set -- --src-creds "alice:$CANARY"
	mkdir -p "$TMP/pulled"
	if skopeo copy -q --src-tls-verify=false "$@" "docker://$ref" "oci:$TMP/pulled/$name:x" >"$TMP/.skopeo.err" 2>&1; then
		PULLED+=("$TMP/pulled/$name")
	else
		not_ok "skopeo copy $ref for the canary sweep" "$(head -c 1000 "$TMP/.skopeo.err")"
	fi
}

HTR=$HT_ADDR/team/app # the htpasswd registry's target repository
HTB=$HT_ADDR/base/busybox:1

# === 1. credentials from each source ===========================================================

# 1a. the spec's auth, ${host:REG_PASS}; -v, --json and --metadata-out all at once.
DESC="source: the spec's auth (\${host:REG_PASS}), -v --json --metadata-out" \
	run 0 '' isb build "$(spec src-spec "$HTB" "$HTR:src-spec" "$(spec_auth "$HT_ADDR" '${host:REG_PASS}')")" \
	-v --json --metadata-out "$META/src-spec.json"
no_secret "spec auth"
pushed "spec auth" "$HTR:src-spec"
check_jq "... --metadata-out holds the pushed digest" ".digest == \"$(printed_digest)\"" "$META/src-spec.json"
check "... skopeo without credentials is refused (the push really was authenticated)" \
	bash -c "! skopeo inspect --raw --tls-verify=false docker://$HTR:src-spec >/dev/null 2>&1"
pull src-spec "$HTR:src-spec"

# 1b. config.json auths (base64 auth).
DC_AUTHS=$(dockercfg "$U/dc-auths" "$(auths_json "$HT_ADDR" "$CANARY_B64")")
DESC="source: \$DOCKER_CONFIG/config.json auths (base64 auth), -v" \
	run 0 '' isb DOCKER_CONFIG="$DC_AUTHS" build "$(spec src-auths "$HTB" "$HTR:src-auths")" -v
no_secret "config.json auths"
pushed "config.json auths" "$HTR:src-auths"
pull src-auths "$HTR:src-auths"

# 1c. config.json credHelpers -> docker-credential-test.
DC_CH=$(dockercfg "$U/dc-credhelpers" "{\"credHelpers\": {\"$HT_ADDR\": \"test\"}}")
: >"$DOCKER_CREDENTIAL_TEST_LOG"
DESC="source: config.json credHelpers -> docker-credential-test, -v" \
	run 0 '' isb DOCKER_CONFIG="$DC_CH" build "$(spec src-credhelpers "$HTB" "$HTR:src-credhelpers")" -v
no_secret "credHelpers"
pushed "credHelpers" "$HTR:src-credhelpers"
check_match "... docker-credential-test was asked \`get $HT_ADDR\`" "^get $HT_ADDR\$" "$(cat "$DOCKER_CREDENTIAL_TEST_LOG")"
pull src-credhelpers "$HTR:src-credhelpers"

# 1d. config.json credsStore: test.
DC_CS=$(dockercfg "$U/dc-credsstore" '{"credsStore": "test"}')
: >"$DOCKER_CREDENTIAL_TEST_LOG"
DESC="source: config.json credsStore: test, --json" \
	run 0 '' isb DOCKER_CONFIG="$DC_CS" build "$(spec src-credsstore "$HTB" "$HTR:src-credsstore")" --json
no_secret "credsStore"
pushed "credsStore" "$HTR:src-credsstore"
check_match "... docker-credential-test was asked \`get $HT_ADDR\`" "^get $HT_ADDR\$" "$(cat "$DOCKER_CREDENTIAL_TEST_LOG")"

# 1e. $REGISTRY_AUTH_FILE (podman's auth.json), with an empty config.json dir.
printf '%s\n' "$(auths_json "$HT_ADDR" "$CANARY_B64")" >"$U/auth.json"
DESC="source: \$REGISTRY_AUTH_FILE, -v" \
	run 0 '' isb REGISTRY_AUTH_FILE="$U/auth.json" build "$(spec src-authfile "$HTB" "$HTR:src-authfile")" -v
no_secret "REGISTRY_AUTH_FILE"
pushed "REGISTRY_AUTH_FILE" "$HTR:src-authfile"
# ... and config.json comes first: a wrong entry there wins over a right one in REGISTRY_AUTH_FILE.
DC_WRONG=$(dockercfg "$U/dc-wrong" "$(auths_json "$HT_ADDR" "$WRONG_B64")")
DESC="order: config.json before \$REGISTRY_AUTH_FILE (a wrong password in config.json exits 3)" \
	run 3 "$HT_ADDR" isb DOCKER_CONFIG="$DC_WRONG" REGISTRY_AUTH_FILE="$U/auth.json" \
	build "$(spec order-authfile "$BASE_LAYOUT" "$HTR:order-authfile")"
check_match "... naming config.json, not the auth file" "$DC_WRONG/config\\.json" "$RUN_STDERR"
no_secret "config.json before REGISTRY_AUTH_FILE"

# 1e'. podman's default, ${XDG_RUNTIME_DIR}/containers/auth.json (where
# `podman login` writes), after $REGISTRY_AUTH_FILE.
mkdir -p "$U/xdg-run/containers"
cp "$U/auth.json" "$U/xdg-run/containers/auth.json"
DESC="source: podman's \${XDG_RUNTIME_DIR}/containers/auth.json" \
	run 0 '' isb XDG_RUNTIME_DIR="$U/xdg-run" build "$(spec src-podman "$HTB" "$HTR:src-podman")" -v
no_secret "podman auth.json"
pushed "podman auth.json" "$HTR:src-podman"
printf '%s\n' "$(auths_json "$HT_ADDR" "$WRONG_B64")" >"$U/auth-wrong.json"
DESC="order: \$REGISTRY_AUTH_FILE before podman's default (a wrong password there exits 3)" \
	run 3 "$HT_ADDR" isb REGISTRY_AUTH_FILE="$U/auth-wrong.json" XDG_RUNTIME_DIR="$U/xdg-run" \
	build "$(spec order-podman "$BASE_LAYOUT" "$HTR:order-podman")"
check_match "... naming the auth file" "$U/auth-wrong\\.json" "$RUN_STDERR"
no_secret "REGISTRY_AUTH_FILE before podman's default"

# 1f. the spec's auth: {HOST: {helper: test}}.
: >"$DOCKER_CREDENTIAL_TEST_LOG"
DESC="source: the spec's auth {helper: test}" \
	run 0 '' isb build "$(spec src-spechelper "$HTB" "$HTR:src-spechelper" "auth: {\"$HT_ADDR\": {helper: test}}")" \
	--metadata-out "$META/src-spechelper.json"
no_secret "spec helper"
pushed "spec helper" "$HTR:src-spechelper"
check_match "... docker-credential-test was asked \`get $HT_ADDR\`" "^get $HT_ADDR\$" "$(cat "$DOCKER_CREDENTIAL_TEST_LOG")"
pull src-spechelper "$HTR:src-spechelper"

# 1g. the token registry, credentials in config.json.
DC_TOK=$(dockercfg "$U/dc-tok" "$(auths_json "$TOK_ADDR" "$CANARY_B64")")
: >"$TOKEN_LOG"
DESC="source: config.json auths for the token-auth registry, -v --json" \
	run 0 '' isb DOCKER_CONFIG="$DC_TOK" build "$(spec src-token "$TOK_ADDR/base/busybox:1" "$TOK_ADDR/team/app:src-token")" \
	-v --json --metadata-out "$META/src-token.json"
no_secret "token registry"
pushed "token registry" "$TOK_ADDR/team/app:src-token"
check_jsonl "... the token server was shown Basic credentials, and granted them" \
	'any(.[]; .authorization == true and .scheme == "Basic" and .outcome == "granted")' "$TOKEN_LOG"
check_jsonl "... with the scope repository:team/app:pull,push" \
	'any(.[]; .scheme == "Basic" and (.scopes | index("repository:team/app:pull,push") or index("repository:team/app:push,pull")))' "$TOKEN_LOG"
check_jsonl "... and no request was refused or anonymous" 'length > 0 and all(.[]; .outcome == "granted")' "$TOKEN_LOG"
pull src-token "$TOK_ADDR/team/app:src-token"

# 1h. `imagespec inspect` uses the same sources.
DESC="inspect with config.json auths" \
	run 0 '' isb DOCKER_CONFIG="$DC_AUTHS" inspect "$HTR:src-auths"
check_jq "... reads the pushed digest" ".digest == \"$(skopeo inspect --tls-verify=false --creds "alice:$CANARY" "docker://$HTR:src-auths" | jq -r .Digest)\"" "$RUN_OUT"
no_secret "inspect"
DESC="inspect without credentials: exit 3" \
	run 3 "$HT_ADDR" isb inspect "$HTR:src-auths"

# 1i. A password with the characters that break naive code (`:` `@` `%`
# space, quotes, a backslash, UTF-8) through the spec, config.json (auth and
# username/password), a helper and auth login, on a registry of its own.
NASTY='n@sty:pa%40ss w"o\rd-é€-'$RANDOM
registry_start NASTY --htpasswd "alice:$NASTY" || bail "cannot start the registry with the odd password"
NB64=$(printf 'alice:%s' "$NASTY" | base64 -w0)
SECRETS+=(-e "$NASTY" -e "$NB64")
DC_N1=$(dockercfg "$U/dc-nasty-auth" "$(jq -nc --arg h "$NASTY_ADDR" --arg a "$NB64" '{auths: {($h): {auth: $a}}}')")
DC_N2=$(dockercfg "$U/dc-nasty-userpass" "$(jq -nc --arg h "$NASTY_ADDR" --arg p "$NASTY" '{auths: {($h): {username: "alice", password: $p}}}')")
DC_N3=$(dockercfg "$U/dc-nasty-helper" "{\"credHelpers\": {\"$NASTY_ADDR\": \"test\"}}")
helper_store "$U/nasty-store.json" "$NASTY_ADDR" "$NASTY"
printf '%s\n' "$NASTY" >"$U/nasty-stdin"
DESC="odd password: auth login" \
	RUN_STDIN=$U/nasty-stdin run 0 '' isb DOCKER_CONFIG="$U/dc-nasty-login" auth login "$NASTY_ADDR" -u alice --password-stdin
for V in "spec:" "auth:DOCKER_CONFIG=$DC_N1" "userpass:DOCKER_CONFIG=$DC_N2" "helper:DOCKER_CONFIG=$DC_N3" \
	"login:DOCKER_CONFIG=$U/dc-nasty-login"; do
	N=${V%%:*}
	EXTRA=""
	[ "$N" = spec ] && EXTRA=$(spec_auth "$NASTY_ADDR" '${host:NASTY_PASS}')
	DESC="odd password through $N" \
		run 0 '' isb NASTY_PASS="$NASTY" DOCKER_CREDENTIAL_TEST_STORE="$U/nasty-store.json" ${V#*:} \
		build "$(spec nasty-$N "$BASE_LAYOUT" "$NASTY_ADDR/team/app:$N" "$EXTRA")"
	check_nomatch "... the password is not shown" "n@sty|pa%40ss" "$RUN_STDOUT
$RUN_STDERR"
	pushed "odd password through $N" "$NASTY_ADDR/team/app:$N" --creds "alice:$NASTY"
done

# === 2. host/namespace prefixes =============================================================
PREFIX_AUTH="auth:
  \"$HT_ADDR/team-a\": {username: alice, password: \"\${host:REG_PASS}\"}
  \"$HT_ADDR/team-b\": {username: alice, password: \"\${host:BAD_PASS}\"}
  \"$HT_ADDR\": {username: alice, password: \"\${host:BAD_PASS}\"}"
DESC="prefix: key HOST/team-a (right password) serves team-a/app over team-b and the bare host" \
	run 0 '' isb build "$(spec prefix-a "$BASE_LAYOUT" "$HT_ADDR/team-a/app:1" "$PREFIX_AUTH")" -v
no_secret "prefix team-a"
pushed "prefix team-a" "$HT_ADDR/team-a/app:1"
DESC="prefix: key HOST/team-b (wrong password) is used for team-b/app: exit 3" \
	run 3 "$HT_ADDR" isb build "$(spec prefix-b "$BASE_LAYOUT" "$HT_ADDR/team-b/app:1" "$PREFIX_AUTH")" -v
check_match "... naming the key HOST/team-b as the source" "$HT_ADDR/team-b" "$RUN_STDERR"
no_secret "prefix team-b"
check "... nothing pushed to team-b/app" \
	bash -c "! skopeo inspect --raw --tls-verify=false --creds 'alice:$CANARY' docker://$HT_ADDR/team-b/app:1 >/dev/null 2>&1"
SEP_AUTH="auth:
  \"$HT_ADDR/team\": {username: alice, password: \"\${host:REG_PASS}\"}
  \"$HT_ADDR\": {username: alice, password: \"\${host:BAD_PASS}\"}"
DESC="prefix: key HOST/team does NOT match team-a/app (the bare host's wrong password is used: exit 3)" \
	run 3 "$HT_ADDR" isb build "$(spec prefix-sep "$BASE_LAYOUT" "$HT_ADDR/team-a/app:sep" "$SEP_AUTH")"
check_match "... the source named is the bare host's key" "auth[^a-z0-9]{1,4}$HT_ADDR([^/]|\$)" "$RUN_STDERR"
check_nomatch "... not the key HOST/team" "auth[^a-z0-9]{1,4}$HT_ADDR/team" "$RUN_STDERR"
no_secret "prefix separator"
DESC="prefix: key HOST/team matches team/app" \
	run 0 '' isb build "$(spec prefix-team "$BASE_LAYOUT" "$HT_ADDR/team/app:prefix-team" "$SEP_AUTH")"
pushed "prefix team" "$HT_ADDR/team/app:prefix-team"
DESC="prefix: key HOST/team matches team/sub/app" \
	run 0 '' isb build "$(spec prefix-sub "$BASE_LAYOUT" "$HT_ADDR/team/sub/app:1" "$SEP_AUTH")"
pushed "prefix team/sub" "$HT_ADDR/team/sub/app:1"

# === 3. wrong credentials =====================================================================
# The base is a local layout, so the refusal comes at the push.
DESC="wrong: the spec's auth -> exit 3, -v --json --metadata-out" \
	run 3 "$HT_ADDR" isb build "$(spec wrong-spec "$BASE_LAYOUT" "$HTR:wrong-spec" "$(spec_auth "$HT_ADDR" '${host:BAD_PASS}')")" \
	-v --json --metadata-out "$META/wrong-spec.json"
check_match "... naming the spec's auth key as the source" "auth[^a-z0-9]{1,4}$HT_ADDR" "$RUN_STDERR"
no_secret "wrong spec auth"
DESC="wrong: config.json auths -> exit 3, -v" \
	run 3 "$HT_ADDR" isb DOCKER_CONFIG="$DC_WRONG" build "$(spec wrong-auths "$BASE_LAYOUT" "$HTR:wrong-auths")" -v
check_match "... naming the config file" "$DC_WRONG/config\\.json" "$RUN_STDERR"
no_secret "wrong config.json"
DESC="wrong: config.json credHelpers -> exit 3, -v" \
	run 3 "$HT_ADDR" isb DOCKER_CONFIG="$DC_CH" DOCKER_CREDENTIAL_TEST_STORE="$U/helper-store-wrong.json" \
	build "$(spec wrong-credhelpers "$BASE_LAYOUT" "$HTR:wrong-credhelpers")" -v
check_match "... naming the helper" "docker-credential-test|helper[^a-z]{1,4}test" "$RUN_STDERR"
no_secret "wrong credHelpers"
DESC="wrong: config.json credsStore -> exit 3, --json" \
	run 3 "$HT_ADDR" isb DOCKER_CONFIG="$DC_CS" DOCKER_CREDENTIAL_TEST_STORE="$U/helper-store-wrong.json" \
	build "$(spec wrong-credsstore "$BASE_LAYOUT" "$HTR:wrong-credsstore")" --json
check_match "... naming the helper" "docker-credential-test|helper[^a-z]{1,4}test" "$RUN_STDERR"
no_secret "wrong credsStore"
printf '%s\n' "$(auths_json "$HT_ADDR" "$WRONG_B64")" >"$U/auth-wrong.json"
DESC="wrong: \$REGISTRY_AUTH_FILE -> exit 3" \
	run 3 "$HT_ADDR" isb REGISTRY_AUTH_FILE="$U/auth-wrong.json" build "$(spec wrong-authfile "$BASE_LAYOUT" "$HTR:wrong-authfile")" -v
check_match "... naming the auth file" "$U/auth-wrong\\.json" "$RUN_STDERR"
no_secret "wrong REGISTRY_AUTH_FILE"
DESC="wrong: the spec's {helper: test} -> exit 3" \
	run 3 "$HT_ADDR" isb DOCKER_CREDENTIAL_TEST_STORE="$U/helper-store-wrong.json" \
	build "$(spec wrong-spechelper "$BASE_LAYOUT" "$HTR:wrong-spechelper" "auth: {\"$HT_ADDR\": {helper: test}}")" -v
check_match "... naming the helper" "docker-credential-test|helper[^a-z]{1,4}test" "$RUN_STDERR"
no_secret "wrong spec helper"
DC_TOK_WRONG=$(dockercfg "$U/dc-tok-wrong" "$(auths_json "$TOK_ADDR" "$WRONG_B64")")
: >"$TOKEN_LOG"
DESC="wrong: config.json for the token registry -> exit 3, -v" \
	run 3 "$TOK_ADDR" isb DOCKER_CONFIG="$DC_TOK_WRONG" build "$(spec wrong-token "$BASE_LAYOUT" "$TOK_ADDR/team/app:wrong")" -v
check_match "... naming the config file" "$DC_TOK_WRONG/config\\.json" "$RUN_STDERR"
no_secret "wrong token credentials"
check_jsonl "... the token server refused the credentials" 'any(.[]; .outcome == "credentials refused")' "$TOKEN_LOG"
DESC="no credentials at all on the htpasswd registry: exit 3" \
	run 3 "$HT_ADDR" isb build "$(spec wrong-none "$BASE_LAYOUT" "$HTR:wrong-none")"
no_secret "anonymous refused"

# A credsStore helper that is not installed: a warning, then anonymous.
DC_NOSUCH=$(dockercfg "$U/dc-nosuch" '{"credsStore": "nosuch"}')
DESC="credsStore: nosuch on an anonymous registry: the push succeeds" \
	run 0 '' isb DOCKER_CONFIG="$DC_NOSUCH" build "$(spec nosuch-plain "$PLAIN_ADDR/base/busybox:1" "$PLAIN_ADDR/team/app:nosuch" )" \
	--progress quiet
pushed "credsStore nosuch, anonymous" "$PLAIN_ADDR/team/app:nosuch" --no-creds
# The plain registry never asks for credentials, so the helper is never
# looked up there; a registry that challenges but lets anonymous users pull
# (the token registry's public/ repositories) shows the warning.
: >"$TOKEN_LOG"
DESC="credsStore: nosuch, an anonymous pull of the token registry's public/ base: succeeds" \
	run 0 '' isb DOCKER_CONFIG="$DC_NOSUCH" build "$(spec nosuch-public "$TOK_ADDR/public/busybox:1" "oci:unused")" \
	--output "oci:$TMP/nosuch-public:1"
check_match "... with a warning naming docker-credential-nosuch" "warning.*docker-credential-nosuch" "$RUN_STDERR"
check_jsonl "... and anonymous token requests" \
	'length > 0 and all(.[]; .authorization == false and .outcome == "anonymous")' "$TOKEN_LOG"
check "... the layout was written" test -f "$TMP/nosuch-public/index.json"
DESC="credsStore: nosuch on the htpasswd registry: anonymous, exit 3" \
	run 3 "$HT_ADDR" isb DOCKER_CONFIG="$DC_NOSUCH" build "$(spec nosuch-ht "$BASE_LAYOUT" "$HTR:nosuch")"
check_match "... with the warning" "warning.*nosuch" "$RUN_STDERR"
DC_CH_NOSUCH=$(dockercfg "$U/dc-credhelpers-nosuch" "{\"credHelpers\": {\"$HT_ADDR\": \"nosuch\"}}")
DESC="credHelpers: nosuch (not installed) is an error naming the helper" \
	run nonzero 'nosuch' isb DOCKER_CONFIG="$DC_CH_NOSUCH" build "$(spec nosuch-ch "$BASE_LAYOUT" "$HTR:nosuch-ch")"

# A helper that prints garbage (with the secret in it) or fails: an error
# naming the helper, and neither of its streams shown.
for MODE in garbage fail; do
	DESC="a helper that answers get with $MODE: an error naming the helper, -v" \
		run nonzero 'docker-credential-test|helper[^a-z]{1,4}test' isb DOCKER_CREDENTIAL_TEST_MODE="$MODE" \
		build "$(spec helper-$MODE "$BASE_LAYOUT" "$HTR:helper-$MODE" "auth: {\"$HT_ADDR\": {helper: test}}")" -v
	check_nomatch "... its stdout and stderr are not shown" 'oops|the secret is' "$RUN_STDERR"
	no_secret "helper $MODE"
	DESC="config.json credHelpers, a helper that answers get with $MODE: an error naming the helper" \
		run nonzero 'docker-credential-test|helper[^a-z]{1,4}test' isb DOCKER_CONFIG="$DC_CH" DOCKER_CREDENTIAL_TEST_MODE="$MODE" \
		build "$(spec helpercfg-$MODE "$BASE_LAYOUT" "$HTR:helpercfg-$MODE")" -v
	check_nomatch "... its stdout and stderr are not shown" 'oops|the secret is' "$RUN_STDERR"
	no_secret "credHelpers $MODE"
done

# === 4. a token that expires in the middle of a slowed push ====================================
# fault_proxy.py in front of TOK lets the client send at most 10 MB a
# second, so that the upload of 3 x 30 MB (-j 1) outlasts the 2-second
# tokens many times over.
fault_proxy_start SLOW "$TOK_ADDR" --rate $((10 * 1024 * 1024)) || bail "the throttling proxy did not start"
mkdir -p "$U/specs/rand/r1" "$U/specs/rand/r2" "$U/specs/rand/r3"
for i in 1 2 3; do
	head -c $((30 * 1024 * 1024)) /dev/urandom >"$U/specs/rand/r$i/data.bin" || bail "cannot write random data"
done
# slow_spec NAME ADDR: the spec of the slow push, to ADDR/big/app:1.
slow_spec() {
	cat >"$U/specs/$1.yaml" <<EOF
base: $2/base/busybox:1
target: $2/big/app:1
created: "2026-01-01T00:00:00Z"
compression: {algorithm: gzip, level: 1}
layers:
  - name: r1
    files: [{src: ./rand/r1/, dest: /r1/}]
  - name: r2
    files: [{src: ./rand/r2/, dest: /r2/}]
  - name: r3
    files: [{src: ./rand/r3/, dest: /r3/}]
cmd: ["/bin/ls", "/r1"]
$(spec_auth "$2" '${host:REG_PASS}')
${TRUST:-}
EOF
	echo "$U/specs/$1.yaml"
}
# The jq test for a token request with big/app's push scope.
PUSH_SCOPE='.scopes | index("repository:big/app:pull,push") or index("repository:big/app:push,pull")'
# blob_puts_repeated NAME MARK: the digests of the blobs uploaded (PUT
# ...&digest= answered 201) to big/app more than once after MARK: none, when
# finished uploads are not repeated.
blob_puts_repeated() {
	registry_log_since "$1" "$2" | grep -E '"PUT /v2/big/app/blobs/uploads/[^ ]* HTTP/[0-9.]+" 201 ' |
		grep -Eo 'digest=sha256(:|%3A)[0-9a-f]{64}' | sort | uniq -d
}
: >"$TOKEN_LOG"
START=$(date +%s)
M=$(registry_log_mark TOK)
DESC="expired tokens: a 90 MB push through a 10 MB/s proxy, 2-second tokens, -j 1" \
	run 0 '' isb build "$(slow_spec slow "$SLOW_ADDR")" -j 1 --json --progress plain
T=$(elapsed_since "$START")
no_secret "slow push"
check "... the push outlasted the tokens: $T s (> $((2 * TTL)) s)" test "$T" -gt $((2 * TTL))
NPUSH=$(jq -s "[.[] | select($PUSH_SCOPE)] | length" "$TOKEN_LOG")
check "... more than one token was asked for repository:big/app:pull,push ($NPUSH)" test "${NPUSH:-0}" -gt 1
check_jsonl "... the push-scope tokens were asked over more than one lifetime (renewed mid-push)" \
	"[.[] | select($PUSH_SCOPE) | .time] | (max - min) > $TTL" "$TOKEN_LOG"
check_eq "... no finished blob upload was repeated" "" "$(blob_puts_repeated TOK "$M")"
check_jsonl "... every token request carried Basic credentials and was granted" \
	'length > 0 and all(.[]; .scheme == "Basic" and .outcome == "granted")' "$TOKEN_LOG"
check_jq "... the three random layers were uploaded" '[.manifests[0].layers[] | select(.action == "uploaded")] | length >= 3' "$RUN_OUT"
pushed "slow push" "$TOK_ADDR/big/app:1"

# The same push against a registry that stops accepting a token before the
# client expected (a revoked token, a load balancer that forgot it) while
# the token server says it is good for 300 s: the registry answers 401 in
# the middle of the push, and the client must fetch a new token and go on,
# without repeating the uploads that finished. The refusals come from
# fault_proxy.py in front of the registry: each token carries 3 requests to
# big/app, then gets 401 with the registry's challenge. The point of the
# fault is fixed by that count, not by a clock, so a loaded machine sees the
# same conversation. A second token server (in a directory of its own: the
# fixture's token_server_start keeps one) issues the 300 s tokens.
LATE_DIR=$FIXTURE_DIR/token-late
mkdir -p "$LATE_DIR"
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj "/CN=imagespec test token issuer (late)" \
	-keyout "$LATE_DIR/signing.key" -out "$LATE_DIR/signing.crt" >"$LATE_DIR/openssl.log" 2>&1 ||
	bail "cannot make the second token server's key"
LATE_PORT=$(fixture_free_port) || bail "no free port"
LTOK_LOG=$LATE_DIR/requests.jsonl
: >"$LTOK_LOG"
"$PY" "$SRCDIR/tests/registry/token_server.py" --port "$LATE_PORT" --key "$LATE_DIR/signing.key" \
	--cert "$LATE_DIR/signing.crt" --issuer "$TOKEN_ISSUER" --service "$TOKEN_SERVICE" --user "alice:$CANARY" \
	--log "$LTOK_LOG" --ttl 300 >>"$LATE_DIR/server.log" 2>&1 </dev/null &
_FIXTURE_PIDS+=("$!")
fixture_wait_url "http://127.0.0.1:$LATE_PORT/ping" 20 "$!" || bail "the second token server did not start"
# registry_start reads TOKEN_URL and TOKEN_CERT when it writes the config.
TOKEN_URL=http://127.0.0.1:$LATE_PORT/token TOKEN_CERT=$LATE_DIR/signing.crt registry_start LATE --token ||
	bail "cannot start the second token-auth registry"
seed_base "$LATE_ADDR" base/busybox:1 --dest-creds "alice:$CANARY" || bail "cannot seed the second token registry"
TRUST=$(token_trust "$TOKEN_ADDR" "127.0.0.1:$LATE_PORT")
fault_proxy_start REVOKE "$LATE_ADDR" --revoke-bearer-after 3 \
	--realm "http://127.0.0.1:$LATE_PORT/token" --service "$TOKEN_SERVICE" || bail "the fault proxy did not start"
: >"$LTOK_LOG"
M=$(registry_log_mark LATE)
DESC="tokens refused mid-push (401 after 3 requests, the client believing 300 s): the 90 MB push succeeds, -j 1" \
	run 0 '' isb build "$(slow_spec late "$REVOKE_ADDR")" -j 1 --json -v
no_secret "tokens refused mid-push"
NPUSH=$(jq -s "[.[] | select($PUSH_SCOPE)] | length" "$LTOK_LOG")
MID401=$(jq -s '[.[] | select((.path // "") | startswith("/v2/big/app/"))] |
	(map(.status == 201 or .status == 202) | index(true)) as $begun |
	if $begun == null then 0 else [.[$begun:][] | select(.outcome == "revoked")] | length end' "$REVOKE_LOG")
diag "the proxy's answers: $(jq -s -c 'group_by(.outcome) | map({(.[0].outcome): length}) | add' "$REVOKE_LOG"); push-scope token requests: $NPUSH"
check "... the proxy answered 401 after the push had begun ($MID401 times)" test "${MID401:-0}" -ge 1
check "... more than one token was asked for repository:big/app:pull,push ($NPUSH): renewed after a 401" \
	test "${NPUSH:-0}" -gt 1
check_eq "... no finished blob upload was repeated" "" "$(blob_puts_repeated LATE "$M")"
check_jsonl "... every token request carried Basic credentials and was granted" \
	'length > 0 and all(.[]; .scheme == "Basic" and .outcome == "granted")' "$LTOK_LOG"
check_jsonl "... the proxy never logged a token's value" \
	'all(.[]; (.token // "") | test("^[0-9a-f]{12}$") or . == "")' "$REVOKE_LOG"
pushed "tokens refused mid-push" "$LATE_ADDR/big/app:1"

# === 5. the canary: a literal password, and the sweep ==============================================
DESC="a literal password in the spec's auth works" \
	run 0 '' isb build "$(spec literal "$HTB" "$HTR:literal" "$(spec_auth "$HT_ADDR" "$CANARY")")" -v \
	--metadata-out "$META/literal.json"
check_match "... with a warning that suggests \${host:...}" 'warning.*\$\{host:' "$RUN_STDERR"
no_secret "literal password"
pushed "literal password" "$HTR:literal"
pull literal "$HTR:literal"
DESC="a literal wrong password: exit 3" \
	run 3 "$HT_ADDR" isb build "$(spec literal-wrong "$BASE_LAYOUT" "$HTR:literal-wrong" "$(spec_auth "$HT_ADDR" "$WRONG")")" \
	-v --json --metadata-out "$META/literal-wrong.json"
check_match "... with the warning too" 'warning.*\$\{host:' "$RUN_STDERR"
no_secret "literal wrong password"
# validate and plan read the spec and its auth as well.
DESC="validate of a spec with a literal password" \
	run 0 '' isb validate "$U/specs/literal.yaml"
no_secret "validate"
DESC="plan with the spec's auth, -v" \
	run 0 '' isb plan "$U/specs/src-spec.yaml" -v
no_secret "plan"

# === 6. imagespec auth login / logout =======================================================
printf '%s\n' "$CANARY" >"$U/password-stdin"
LOGIN_DC=$U/login-plain # docker writes base64(user:password) here: the user's file
DESC="auth login HOST -u alice --password-stdin (no helper)" \
	RUN_STDIN=$U/password-stdin run 0 '' isb DOCKER_CONFIG="$LOGIN_DC" auth login "$HT_ADDR" -u alice --password-stdin
check_match "... Login Succeeded" 'Login Succeeded' "$RUN_STDOUT"
no_secret "auth login"
check_eq "... config.json has mode 0600" 600 "$(stat -c %a "$LOGIN_DC/config.json" 2>&1)"
DESC="a build after auth login, with no other credentials" \
	run 0 '' isb DOCKER_CONFIG="$LOGIN_DC" build "$(spec login "$HTB" "$HTR:login")" -v
no_secret "build after login"
pushed "build after login" "$HTR:login"
pull login "$HTR:login"
DESC="auth logout HOST" \
	run 0 '' isb DOCKER_CONFIG="$LOGIN_DC" auth logout "$HT_ADDR"
check "... config.json holds no credentials any more" bash -c "! grep -qF -e '$CANARY_B64' -e '$CANARY' '$LOGIN_DC/config.json'"
DESC="the same build after logout exits 3" \
	run 3 "$HT_ADDR" isb DOCKER_CONFIG="$LOGIN_DC" build "$U/specs/login.yaml"
no_secret "build after logout"

# With a helper configured (credsStore: test), the secret goes to the
# helper; config.json (outside $U: imagespec writes it) must not hold it.
LOGIN_HDC=$TMP/login-helper
mkdir -p "$LOGIN_HDC"
printf '{"credsStore": "test", "psFormat": "table {{.ID}}"}\n' >"$LOGIN_HDC/config.json"
export DOCKER_CREDENTIAL_TEST_STORE=$U/login-store.json
: >"$DOCKER_CREDENTIAL_TEST_LOG"
DESC="auth login with credsStore: test" \
	RUN_STDIN=$U/password-stdin run 0 '' isb DOCKER_CONFIG="$LOGIN_HDC" auth login "$HT_ADDR" -u alice --password-stdin
no_secret "auth login with a helper"
check_match "... docker-credential-test was asked to store" "^store $HT_ADDR\$" "$(cat "$DOCKER_CREDENTIAL_TEST_LOG")"
check_eq "... the helper holds the password" "alice $CANARY" \
	"$(jq -r --arg h "$HT_ADDR" '.[$h] | "\(.Username) \(.Secret)"' "$U/login-store.json" 2>&1)"
check "... config.json holds neither the password nor its base64" \
	bash -c "! grep -qF -e '$CANARY' -e '$CANARY_B64' '$LOGIN_HDC/config.json'"
check_jq "... config.json: docker's empty auths entry, other fields kept" \
	".auths[\"$HT_ADDR\"] == {} and .credsStore == \"test\" and .psFormat == \"table {{.ID}}\"" "$LOGIN_HDC/config.json"
DESC="a build after auth login with the helper" \
	run 0 '' isb DOCKER_CONFIG="$LOGIN_HDC" build "$(spec login-helper "$HTB" "$HTR:login-helper")" --json -v
no_secret "build after login with a helper"
pushed "build after login with a helper" "$HTR:login-helper"
DESC="auth logout with the helper" \
	run 0 '' isb DOCKER_CONFIG="$LOGIN_HDC" auth logout "$HT_ADDR"
check_eq "... the helper forgot the registry" false "$(jq --arg h "$HT_ADDR" 'has($h)' "$U/login-store.json" 2>&1)"
DESC="the same build after logout exits 3" \
	run 3 "$HT_ADDR" isb DOCKER_CONFIG="$LOGIN_HDC" build "$U/specs/login-helper.yaml"
export DOCKER_CREDENTIAL_TEST_STORE=$U/helper-store.json

# === 5 (continued). the sweep ==============================================================
# Every imagespec output, every metadata file, the logs of the peers, the
# runs' $TMPDIR and $HOME, the test's and the fixture's directories: the
# canary only in $U (what the user wrote).
check "the sweep's canary is really in the user's files (sanity)" grep -rqF -- "$CANARY" "$U"
check "metadata files were written" test -s "$META/src-spec.json"
HITS=$(grep -rlaF "${SECRETS[@]}" "$TMP" "$FIXTURE_DIR" 2>/dev/null | grep -v "^$U/" | sort)
check_eq "the canary appears in no file outside the user's (outputs, metadata, logs, images, TMPDIR, HOME)" "" "$HITS"
check_eq "... in particular not in the stdout/stderr of the $NRUN runs" "" "$(grep -rlaF "${SECRETS[@]}" "$OUTS")"
check_eq "... nor in a JWT or an Authorization value printed" "" \
	"$(grep -rlaE 'eyJ[A-Za-z0-9_-]{10,}\.eyJ|(Basic|Bearer) [A-Za-z0-9+/=._-]{12,}' "$OUTS" "$META")"
check_eq "... nor in the registries' and the token server's logs" "" \
	"$(grep -laF "${SECRETS[@]}" "$HT_LOG" "$TOK_LOG" "$PLAIN_LOG" "$LTOK_LOG" "$TOKEN_LOG" "$FIXTURE_DIR/token/server.log" \
		"$LATE_DIR/server.log" "$REVOKE_LOG" "$SLOW_LOG")"
check_eq "... nor in the runs' \$TMPDIR and \$HOME" "" "$(grep -rlaF "${SECRETS[@]}" "$IMS_TMPDIR" "$IMS_HOME")"
LEFT=$(find "$IMS_TMPDIR" -mindepth 1)
check_eq "the runs left no temporary files behind in \$TMPDIR" "" "${LEFT:0:2000}"
# Files written under /tmp or /var/tmp during the test, in case $TMPDIR is not honoured.
STRAY=$(find /tmp /var/tmp -xdev -maxdepth 3 -type f -newer "$TMP/.start" -size -64M \
	-not -path "$TMP/*" -not -path "$FIXTURE_DIR/*" -not -path '*/bash_jobs*' -not -path '*/meson-logs/*' 2>/dev/null |
	while IFS= read -r f; do grep -qaF "${SECRETS[@]}" "$f" 2>/dev/null && echo "$f"; done)
check_eq "... nor in any file written under /tmp or /var/tmp during the test" "" "$STRAY"
# The pushed images, decompressed: every blob of every pulled layout.
check "images were pulled for the sweep (${#PULLED[@]})" test "${#PULLED[@]}" -ge 6
NBLOBS=0
for L in "${PULLED[@]}"; do
	for b in "$L"/blobs/sha256/*; do NBLOBS=$((NBLOBS + 1)); done
done
IMGHITS=$(blob_secret_hits "${PULLED[@]}")
check "... $NBLOBS blobs looked at" test "$NBLOBS" -ge 18
check_eq "the canary is in no blob of the pushed images (manifests, configs, layers decompressed)" "" "$IMGHITS"

done_testing
