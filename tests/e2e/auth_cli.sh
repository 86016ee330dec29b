#!/usr/bin/env bash
# imagespec auth login|logout|get against a private DOCKER_CONFIG: the file
# is checked with jq, and the secret never appears in login's or logout's
# output, nor in any error.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need jq base64 stat

export DOCKER_CONFIG=$TMP/docker
unset REGISTRY_AUTH_FILE
CFG=$DOCKER_CONFIG/config.json
SECRET='CANARY-e2e-s3cr3t'

# no_secret DESC: neither stdout nor stderr of the last run shows $SECRET.
no_secret() {
	check_nomatch "$1" "$SECRET" "$RUN_STDOUT$RUN_STDERR"
}

# --- help ---------------------------------------------------------------------
run_expect 0 '' ims auth --help
check_match "auth --help says login does not contact the registry" 'does NOT' "$RUN_STDOUT"

# --- login ----------------------------------------------------------------------
printf '%s\n' "$SECRET" >"$TMP/pw"
RUN_STDIN=$TMP/pw DESC="login -u alice --password-stdin: exit 0" \
	run_expect 0 '' ims auth login registry.example.com -u alice --password-stdin
check_eq "login prints Login Succeeded" "Login Succeeded" "$RUN_STDOUT"
no_secret "login prints no secret"
check_eq "config.json is 0600" 600 "$(stat -c %a "$CFG")"
check_eq "its directory is 0700" 700 "$(stat -c %a "$DOCKER_CONFIG")"
check_eq "auths[host].auth is base64(user:password), one newline trimmed" \
	"alice:$SECRET" "$(jq -r '.auths["registry.example.com"].auth' "$CFG" | base64 -d)"
check_nomatch "the file holds no plain-text secret" "$SECRET" "$(cat "$CFG")"

DESC="-p on the command line is refused (exit 2)" \
	run_expect 2 'ps' ims auth login registry.example.com -u alice -p "$SECRET"
no_secret "and the refusal does not echo it"
DESC="--password=... is refused (exit 2)" \
	run_expect 2 'ps' ims auth login registry.example.com -u alice "--password=$SECRET"
no_secret "nor does this one"
DESC="login without --password-stdin is a usage error" \
	run_expect 2 'password-stdin' ims auth login registry.example.com -u alice
DESC="login without -u is a usage error" \
	run_expect 2 'username' ims auth login registry.example.com --password-stdin
printf '' >"$TMP/empty"
RUN_STDIN=$TMP/empty DESC="an empty password is refused" \
	run_expect 2 'empty' ims auth login registry.example.com -u alice --password-stdin

# Existing keys survive; Docker Hub is keyed as docker keys it.
tmpcfg=$(jq '. + {"psFormat": "table {{.ID}}", "auths": (.auths + {"other.example.com": {"auth": "b3RoZXI6cHc="}})}' "$CFG")
printf '%s\n' "$tmpcfg" >"$CFG"
RUN_STDIN=$TMP/pw DESC="login to docker.io" run_expect 0 '' ims auth login docker.io -u hubuser --password-stdin
no_secret "login to docker.io prints no secret"
check_eq "Docker Hub's key is https://index.docker.io/v1/" "hubuser:$SECRET" \
	"$(jq -r '.auths["https://index.docker.io/v1/"].auth' "$CFG" | base64 -d)"
check_eq "psFormat is kept" "table {{.ID}}" "$(jq -r .psFormat "$CFG")"
check_eq "other registries are kept" "b3RoZXI6cHc=" "$(jq -r '.auths["other.example.com"].auth' "$CFG")"
check_eq "still 0600 after the rewrite" 600 "$(stat -c %a "$CFG")"

# --- get (the credential-helper protocol) ---------------------------------------
echo registry.example.com >"$TMP/url"
RUN_STDIN=$TMP/url DESC="get registry.example.com" run_expect 0 '' ims auth get
check_eq "get: ServerURL" registry.example.com "$(jq -r .ServerURL "$RUN_OUT")"
check_eq "get: Username" alice "$(jq -r .Username "$RUN_OUT")"
check_eq "get: Secret" "$SECRET" "$(jq -r .Secret "$RUN_OUT")"
check_nomatch "get prints the secret on stdout only" "$SECRET" "$RUN_STDERR"

printf 'https://index.docker.io/v1/' >"$TMP/url"
RUN_STDIN=$TMP/url DESC="get https://index.docker.io/v1/" run_expect 0 '' ims auth get
check_eq "get: the Docker Hub user" hubuser "$(jq -r .Username "$RUN_OUT")"

echo nothing.example.com >"$TMP/url"
RUN_STDIN=$TMP/url DESC="get for a registry without credentials: exit 1" run_expect 1 '' ims auth get
check_eq "and the helper protocol's not-found text" "credentials not found in native keychain" "$RUN_STDOUT"

echo registry.example.com.evil.net >"$TMP/url"
RUN_STDIN=$TMP/url DESC="a suffixed host gets nothing" run_expect 1 '' ims auth get
no_secret "and sees no secret"

# identitytoken comes back as the user <token>.
jq '.auths["tok.example.com"] = {"auth": "Ym9iOg==", "identitytoken": "CANARY-refresh"}' "$CFG" >"$TMP/c" &&
	cat "$TMP/c" >"$CFG"
echo tok.example.com >"$TMP/url"
RUN_STDIN=$TMP/url DESC="get for an identity token" run_expect 0 '' ims auth get
check_eq "Username <token>" "<token>" "$(jq -r .Username "$RUN_OUT")"
check_eq "Secret = the identity token" "CANARY-refresh" "$(jq -r .Secret "$RUN_OUT")"

# --- broken files name the file and the key, never the value --------------------
cp "$CFG" "$TMP/good.json"
jq '.auths["bad.example.com"] = {"auth": "CANARY-e2e-s3cr3t!!"}' "$TMP/good.json" >"$CFG"
echo bad.example.com >"$TMP/url"
RUN_STDIN=$TMP/url DESC="bad base64: an error naming the file and the key" \
	run_expect nonzero 'config\.json.*bad\.example\.com.*base64' ims auth get
no_secret "and not the value"

jq '. + {"credsStore": "imagespec-e2e-missing"}' "$TMP/good.json" >"$CFG"
echo registry.example.com >"$TMP/url"
RUN_STDIN=$TMP/url DESC="a missing credsStore helper: warning, then not found" \
	run_expect 1 'docker-credential-imagespec-e2e-missing` is not installed' ims auth get
jq '. + {"credsStore": "../evil"}' "$TMP/good.json" >"$CFG"
RUN_STDIN=$TMP/url DESC="credsStore ../evil is refused" run_expect 2 'not allowed' ims auth get
cp "$TMP/good.json" "$CFG"

# --- logout ---------------------------------------------------------------------
DESC="logout registry.example.com" run_expect 0 '' ims auth logout registry.example.com
no_secret "logout prints no secret"
check_eq "the entry is gone" null "$(jq -c '.auths["registry.example.com"]' "$CFG")"
check_eq "other entries stay" "b3RoZXI6cHc=" "$(jq -r '.auths["other.example.com"].auth' "$CFG")"
echo registry.example.com >"$TMP/url"
RUN_STDIN=$TMP/url DESC="get after logout: exit 1" run_expect 1 '' ims auth get
DESC="logout again is fine" run_expect 0 '' ims auth logout registry.example.com
DESC="logout without a registry is a usage error" run_expect 2 '' ims auth logout

done_testing
