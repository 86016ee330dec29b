#!/usr/bin/env bash
# Hostile registries and networks (issue 9): each fault gives the exit code
# SPEC-v1 gives it (1 for a registry or network fault, 3 for refused
# credentials, never the 2 of bad usage), a message that names the cause,
# and nothing pushed or written.
#   - registry faults: a manifest whose media type lies, a malformed
#     WWW-Authenticate, a corrupt base gzip, a 1 MiB response header;
#   - a deterministic 500 is given up quickly, and an error body with
#     several errors shows the useful one first.
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/fixture.sh"
need_root
need skopeo umoci jq curl
[ -x /usr/bin/docker-registry ] || need /usr/bin/docker-registry

registry_start REG || bail "cannot start docker-registry"
W=$TMP/w
mkdir -p "$W"
# spec NAME BASE TARGET [EXTRA YAML]
spec() {
	cat >"$W/$1.yaml" <<EOS
base: $2
target: $3
created: "2026-01-01T00:00:00Z"
files:
  - dest: /hello.txt
    content: "hello from $1\n"
cmd: ["/bin/cat", "/hello.txt"]
${4:-}
EOS
	echo "$W/$1.yaml"
}
# absent DOCKER_REF: skopeo finds no such manifest.
absent() {
	! skopeo inspect --raw --tls-verify=false "docker://$1" >/dev/null 2>&1
}
# nothing_pushed REPO MARK: the registry saw no PUT into REPO since MARK.
nothing_pushed() {
	check_eq "... the registry saw no PUT or POST into $1" 0 \
		"$(registry_requests REG "$2" "\"(PUT|POST|PATCH) /v2/$1/")"
}

# --- registry faults exit 1, not 2 -------------------------------------------------------------
# fault MODE ERE [--decompressing]: a build from the bad registry's image
# to REG, a build with --output docker-archive: and a copy to one: each
# exits 1 with ERE, nothing pushed or written. --decompressing: the fault
# shows only where the base's layers are decompressed (a push passes them
# through verified by digest, as crane and skopeo do), so no push is tried.
fault() {
	local mode=$1 re=$2 name=${1//-/}
	bad_registry_start "$mode" || bail "cannot start bad_registry.py $mode"
	local M
	M=$(registry_log_mark REG)
	spec "$name" "$BAD_REF" "$REG_ADDR/team/$name:1" >/dev/null
	if [ "${3:-}" != --decompressing ]; then
		DESC="$mode: build exits 1 (a registry fault), saying why" \
			run_expect 1 "$re" ims build "$W/$name.yaml" --progress quiet
		check "... nothing pushed (skopeo finds no team/$name:1)" absent "$REG_ADDR/team/$name:1"
		nothing_pushed "team/$name" "$M"
	fi
	DESC="$mode: build --output docker-archive: exits 1" \
		run_expect 1 "$re" ims build "$W/$name.yaml" --output "docker-archive:$TMP/$name.tar" --progress quiet
	check "... and writes no archive" test ! -e "$TMP/$name.tar"
	DESC="$mode: copy to docker-archive: exits 1" \
		run_expect 1 "$re" ims copy "docker://$BAD_REF" "docker-archive:$TMP/$name-copy.tar"
	check "... and writes no archive" test ! -e "$TMP/$name-copy.tar"
	bad_registry_stop
}
fault mismatched-media-type 'mediaType .* disagrees with content type'
fault bad-media-type 'unsupported manifest media type'
fault bad-www-authenticate 'registry answered 401: invalid WWW-Authenticate header'
fault corrupt-gzip 'corrupt gzip stream' --decompressing
fault huge-header 'response headers are too large'
check_nomatch "... the 1 MiB header is not called a TLS failure or out of memory" '[Oo]ut of memory|TLS' "$RUN_STDERR"

bad_registry_start bad-www-authenticate || bail "cannot start bad_registry.py"
DESC="bad-www-authenticate: inspect exits 1" run_expect 1 'invalid WWW-Authenticate' ims inspect "docker://$BAD_REF"
DESC="bad-www-authenticate: tags exits 1" run_expect 1 'invalid WWW-Authenticate' ims tags "${BAD_REF%:1}"
bad_registry_stop
bad_registry_start huge-header || bail "cannot start bad_registry.py"
DESC="huge-header: inspect exits 1" run_expect 1 'response headers are too large' ims inspect "docker://$BAD_REF"
DESC="huge-header: tags exits 1" run_expect 1 'response headers are too large' ims tags "${BAD_REF%:1}"
bad_registry_stop

# --- a deterministic 500 ---------------------------------------------------------------------
bad_registry_start multi-error-500 || bail "cannot start bad_registry.py"
M=$(registry_log_mark REG)
DESC="a 500 with three errors: exit 1, the useful error (MANIFEST_BLOB_UNKNOWN) first" \
	run_expect 1 'registry answered 500 MANIFEST_BLOB_UNKNOWN: blob unknown to registry' \
	ims build "$(spec multi "$BAD_REF" "$REG_ADDR/team/multi:1")" --progress quiet
check_match "... the vague UNKNOWN is still shown, once" '500 MANIFEST_BLOB_UNKNOWN[^;]*; UNKNOWN: unknown error$' \
	"$RUN_STDERR"
check_nomatch "... and nothing is hidden behind 'more errors'" 'more errors' "$RUN_STDERR"
NM=$(grep -c '/manifests/' "$BAD_LOG")
check_eq "... the same non-transient answer is tried twice, not 5 times" 2 "$NM"
NREQ=$(grep -c . "$BAD_LOG")
check "... $NREQ requests in all (<= 6)" test "$NREQ" -le 6
check "... nothing pushed" absent "$REG_ADDR/team/multi:1"
nothing_pushed team/multi "$M"
bad_registry_stop

bad_registry_start 500-always || bail "cannot start bad_registry.py"
DESC="a 500 that always says the same UNKNOWN: exit 1" \
	run_expect 1 'registry answered 500 UNKNOWN: injected failure' \
	ims build "$(spec same500 "$BAD_REF" "$REG_ADDR/team/same500:1")" --progress quiet
NM=$(grep -c '/manifests/' "$BAD_LOG")
check_eq "... the same answer three times is given up (3 manifest GETs, not 5)" 3 "$NM"
check "... nothing pushed" absent "$REG_ADDR/team/same500:1"
bad_registry_stop

done_testing
