#!/usr/bin/env bash
# The leak checks of the registry tests can fail: each is run on a planted
# secret (in a run's output, as a JWT, in a layer's tar headers, in a layer's
# file contents, raw in a config) and must report it; on clean input it must
# pass. A check that cannot fail would hide the leak it exists to find.
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../registry/fixture.sh"
need gzip zstd tar sha256sum od truncate

SECRET="canary-Planted-$RANDOM$RANDOM"
SECRETS=(-e "$SECRET" -e "another-secret-never-planted")
P=$TMP/planted
mkdir -p "$P"

# verdict CMD...: "pass" or "fail" from the TAP line CMD prints, in a
# subshell (its counters do not touch this script's).
verdict() {
	local out
	out=$( ("$@") 2>&1)
	case $out in
	"not ok"*) echo fail ;;
	"ok"*) echo pass ;;
	*) echo "unexpected: $out" ;;
	esac
}

printf 'pushed 127.0.0.1:5000/app:1\n' >"$P/clean.out"
printf 'warning: nothing\n' >"$P/clean.err"
printf 'GET /v2/ with %s in the trace\n' "$SECRET" >"$P/leak.err"
printf 'Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.sig\n' >"$P/jwt.err"
# A secret in the middle of a large output, after many lines: a reader that
# stops early must not make the check pass.
{ seq 1 200000; printf '%s\n' "$SECRET"; seq 1 1000; } >"$P/late.out"

check_eq "check_no_secret passes on clean output" pass "$(verdict check_no_secret clean "$P/clean.out" "$P/clean.err")"
check_eq "check_no_secret fails on a planted secret" fail "$(verdict check_no_secret leak "$P/clean.out" "$P/leak.err")"
check_eq "check_no_secret fails on a planted JWT" fail "$(verdict check_no_secret jwt "$P/jwt.err")"
check_eq "check_no_secret fails on a secret after 200,000 lines" fail "$(verdict check_no_secret late "$P/late.out")"

# Layouts with one blob each: a layer whose file name holds the secret (tar
# headers), a layer whose file holds it (contents), a config (raw), and a
# clean layer.
layout() { # layout NAME: a layout dir with blobs/sha256, printed
	mkdir -p "$P/$1/blobs/sha256" "$P/$1.src"
	echo "$P/$1"
}
add_blob() { # add_blob LAYOUT FILE
	local d
	d=$(sha256sum <"$2" | cut -d' ' -f1)
	mv "$2" "$1/blobs/sha256/$d"
}
L=$(layout clean)
echo "hello" >"$P/clean.src/hello.txt"
tar -C "$P/clean.src" -czf "$P/clean.tgz" hello.txt && add_blob "$L" "$P/clean.tgz"
check_eq "blob_secret_hits: nothing in a clean layer" "" "$(blob_secret_hits "$L")"

L=$(layout header)
echo "hello" >"$P/header.src/$SECRET.txt"
tar -C "$P/header.src" -czf "$P/header.tgz" "$SECRET.txt" && add_blob "$L" "$P/header.tgz"
check_match "blob_secret_hits: a secret in a gzip layer's tar headers" '\(decompressed\)' "$(blob_secret_hits "$L")"

L=$(layout contents)
printf 'password=%s\n' "$SECRET" >"$P/contents.src/env"
tar -C "$P/contents.src" -czf "$P/contents.tgz" env && add_blob "$L" "$P/contents.tgz"
check_match "blob_secret_hits: a secret in a gzip layer's file" '\(decompressed\)' "$(blob_secret_hits "$L")"

L=$(layout zstd)
tar -C "$P/contents.src" -cf "$P/contents.tar" env && zstd -q "$P/contents.tar" -o "$P/contents.tar.zst" &&
	add_blob "$L" "$P/contents.tar.zst"
check_match "blob_secret_hits: a secret in a zstd layer's file" '\(decompressed\)' "$(blob_secret_hits "$L")"

L=$(layout raw)
printf '{"config":{"Env":["PASS=%s"]}}' "$SECRET" >"$P/config.json" && add_blob "$L" "$P/config.json"
check_match "blob_secret_hits: a secret in a config" '\(raw\)' "$(blob_secret_hits "$L")"

L=$(layout broken)
gzip -c "$P/late.out" >"$P/broken.gz" && truncate -s 2000 "$P/broken.gz" && add_blob "$L" "$P/broken.gz"
check_match "blob_secret_hits: a truncated gzip layer is a finding, not clean" '\(does not decompress\)' \
	"$(blob_secret_hits "$L")"

done_testing
