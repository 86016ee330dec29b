#!/usr/bin/env bash
# copy, inspect and tags take the transport options build takes (issue 10,
# items 2, 5 and 9): --ca-cert against a TLS registry with a CA made here,
# --insecure-registry (one warning per host used, catalogue item 76), --json
# (parsed by jq), copy --all-tags (checked with skopeo list-tags and skopeo
# inspect on the destination), copy -j1/-j4 (the same digests), the digest
# copy prints for a docker-archive: (the one inspect reports), and
# --all-tags with a source that has no registry tags list (exit 2, nothing
# pushed).
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/fixture.sh"
need_root
need skopeo umoci jq openssl sha256sum
[ -x /usr/bin/docker-registry ] || need /usr/bin/docker-registry

ca_make || bail "cannot make the test CA"
registry_start TLS --tls || bail "cannot start docker-registry with TLS"
registry_start PLAIN || bail "cannot start docker-registry with plain HTTP"
CERTDIR=$(fixture_cert_dir)
SKOPEO_TLS=(--tls-verify=true --cert-dir "$CERTDIR")
for t in 1 2; do
	seed_base "$TLS_ADDR" "src/app:$t" --dest-tls-verify=true --dest-cert-dir "$CERTDIR" ||
		bail "cannot seed src/app:$t over TLS"
done
W=$TMP/w
mkdir -p "$W"
cat >"$W/image.yaml" <<EOF
base: $TLS_ADDR/src/app:1
target: $TLS_ADDR/src/app:3
created: "2026-01-01T00:00:00Z"
files:
  - dest: /hello.txt
    content: "hello from tag 3\n"
cmd: ["/bin/cat", "/hello.txt"]
EOF
DESC="seed: build src/app:3 over TLS with --ca-cert" \
	run_expect 0 '' ims build "$W/image.yaml" --ca-cert "$CA_CERT" --progress quiet
D3=$(skopeo_raw_digest "$TLS_ADDR/src/app:3" "${SKOPEO_TLS[@]}")
D1=$(skopeo_raw_digest "$TLS_ADDR/src/app:1" "${SKOPEO_TLS[@]}")
TLS_ERR='[Cc]ertificate|[Vv]erif|TLS|SSL|[Ii]ssuer'

# --- --ca-cert on tags, inspect and copy --------------------------------------------
for v in "tags $TLS_ADDR/src/app" "inspect $TLS_ADDR/src/app:3" "copy $TLS_ADDR/src/app:3 oci:$W/none:3"; do
	read -ra args <<<"$v"
	DESC="${args[0]} without --ca-cert: exit 1, a TLS verification error" \
		run_expect 1 "$TLS_ERR" ims "${args[@]}"
	check_match "... and the hint names --ca-cert" 'hint:.*--ca-cert' "$RUN_STDERR"
done
check "... the refused copy wrote no layout" test ! -e "$W/none"

DESC="tags --ca-cert" run_expect 0 '' ims tags --ca-cert "$CA_CERT" "$TLS_ADDR/src/app"
check_eq "... the tags skopeo list-tags (verifying TLS) reports" \
	"$(skopeo list-tags "${SKOPEO_TLS[@]}" "docker://$TLS_ADDR/src/app" | jq -r '.Tags[]' | sort)" \
	"$(sort <<<"$RUN_STDOUT")"
check_eq "... which are 1, 2 and 3" "1 2 3" "$(sort <<<"$RUN_STDOUT" | tr '\n' ' ' | sed 's/ $//')"
DESC="tags --json --ca-cert" run_expect 0 '' ims tags --json --ca-cert "$CA_CERT" "$TLS_ADDR/src/app"
check_jq "... jq: {repository, tags} with the three tags" \
	".repository == \"$TLS_ADDR/src/app\" and (.tags | sort) == [\"1\", \"2\", \"3\"]" "$RUN_OUT"

DESC="inspect --ca-cert" run_expect 0 '' ims inspect --ca-cert "$CA_CERT" "$TLS_ADDR/src/app:3"
check_digest "... the digest skopeo reads" "$D3" "$(jq -r .digest "$RUN_OUT")"
DESC="inspect --json --ca-cert --platform linux/amd64" \
	run_expect 0 '' ims inspect --json --ca-cert "$CA_CERT" --platform linux/amd64 "$TLS_ADDR/src/app:3"
check_jq "... jq: an object with that digest" ".digest == \"$D3\"" "$RUN_OUT"
DESC="inspect --raw --ca-cert" run_expect 0 '' ims inspect --raw --ca-cert "$CA_CERT" "$TLS_ADDR/src/app:3"
check_digest "... the bytes skopeo reads" "$D3" "sha256:$(sha256sum <"$RUN_OUT" | cut -d' ' -f1)"

DESC="copy --ca-cert to oci:" run_expect 0 '' ims copy --ca-cert "$CA_CERT" "$TLS_ADDR/src/app:3" "oci:$W/l:3"
check_eq "... prints DST@DIGEST with skopeo's digest" "oci:$W/l:3@$D3" "$RUN_STDOUT"
check_eq "... umoci unpacks it and it runs" "hello from tag 3" "$(layout_run "$W/l:3")"
DESC="copy --json --ca-cert to a registry" \
	run_expect 0 '' ims copy --json --ca-cert "$CA_CERT" "$TLS_ADDR/src/app:3" "$PLAIN_ADDR/copied/app:3"
check_jq "... jq: {source, destination, digest}" \
	".source == \"$TLS_ADDR/src/app:3\" and .destination == \"$PLAIN_ADDR/copied/app:3\" and .digest == \"$D3\"" \
	"$RUN_OUT"
check_digest "... skopeo reads that digest at the destination" "$D3" \
	"$(skopeo_raw_digest "$PLAIN_ADDR/copied/app:3")"
check_eq "... and the image runs" "hello from tag 3" "$(pull_and_run "$PLAIN_ADDR/copied/app:3")"

# --- --insecure-registry: works without the CA, one warning per host used ---------------
DESC="tags --insecure-registry TLS (no CA): exit 0" \
	run_expect 0 '' ims tags --insecure-registry "$TLS_ADDR" "$TLS_ADDR/src/app"
check_eq "... the same tags" "1 2 3" "$(sort <<<"$RUN_STDOUT" | tr '\n' ' ' | sed 's/ $//')"
check_eq "... one warning line, naming the host" \
	"imagespec: warning: \`$TLS_ADDR\` is named insecure: its TLS certificate is not verified and plain HTTP is allowed" \
	"$RUN_STDERR"
DESC="inspect --insecure-registry TLS (no CA): exit 0" \
	run_expect 0 '' ims inspect --insecure-registry "$TLS_ADDR" "$TLS_ADDR/src/app:3"
check_eq "... the digest skopeo reads" "$D3" "$(jq -r .digest "$RUN_OUT")"
check_eq "... one warning line" 1 "$(grep -c 'warning: .* is named insecure' "$RUN_ERR")"
M=$(registry_log_mark PLAIN)
DESC="copy from TLS to plain HTTP, both named insecure" \
	run_expect 0 '' ims copy --insecure-registry "$TLS_ADDR" --insecure-registry "$PLAIN_ADDR" \
	"$TLS_ADDR/src/app:1" "$PLAIN_ADDR/insecure/app:1"
check_digest "... skopeo reads the source's digest at the destination" "$D1" \
	"$(skopeo_raw_digest "$PLAIN_ADDR/insecure/app:1")"
check_eq "... one warning per host, each naming it" \
	"$(printf '%s\n' "$PLAIN_ADDR" "$TLS_ADDR" | sort)" \
	"$(sed -n 's/^imagespec: warning: `\([^`]*\)` is named insecure.*/\1/p' "$RUN_ERR" | sort)"
check_eq "... and nothing else on stderr" 2 "$(wc -l <"$RUN_ERR")"
check "... blobs went to the plain registry" test "$(registry_requests PLAIN "$M" 'PUT /v2/insecure/app/')" -gt 0
DESC="a host named insecure but not used: no warning" \
	run_expect 0 '' ims tags --insecure-registry 127.0.0.1:1 --ca-cert "$CA_CERT" "$TLS_ADDR/src/app"
check_eq "... stderr is empty" "" "$RUN_STDERR"
DESC="a loopback plain-HTTP registry not named insecure: no warning" \
	run_expect 0 '' ims tags "$PLAIN_ADDR/insecure/app"
check_eq "... stderr is empty" "" "$RUN_STDERR"

# --- -v ---------------------------------------------------------------------------
DESC="tags -v: the requests are traced on stderr" \
	run_expect 0 'GET https?://[^ ]*/v2/src/app/tags/list' ims tags -v --ca-cert "$CA_CERT" "$TLS_ADDR/src/app"
check_eq "... stdout is still the tags" "1 2 3" "$(sort <<<"$RUN_STDOUT" | tr '\n' ' ' | sed 's/ $//')"

# --- copy --all-tags, and -j1 against -j4 --------------------------------------------
M=$(registry_log_mark PLAIN)
DESC="copy --all-tags --ca-cert TLS/src/app PLAIN/all/app" \
	run_expect 0 '' ims copy --all-tags --ca-cert "$CA_CERT" "$TLS_ADDR/src/app" "$PLAIN_ADDR/all/app"
check_eq "... prints DST:TAG@DIGEST per tag" \
	"$(printf '%s\n' "$PLAIN_ADDR/all/app:1@$D1" "$PLAIN_ADDR/all/app:2@$D1" "$PLAIN_ADDR/all/app:3@$D3")" \
	"$(sort <<<"$RUN_STDOUT")"
check_eq "... skopeo list-tags on the destination: the source's tags" \
	"$(skopeo list-tags "${SKOPEO_TLS[@]}" "docker://$TLS_ADDR/src/app" | jq -c '.Tags | sort')" \
	"$(skopeo list-tags --tls-verify=false "docker://$PLAIN_ADDR/all/app" | jq -c '.Tags | sort')"
for t in 1 2 3; do
	check_digest "... skopeo inspect: all/app:$t has src/app:$t's digest" \
		"$(skopeo_raw_digest "$TLS_ADDR/src/app:$t" "${SKOPEO_TLS[@]}")" \
		"$(skopeo inspect --tls-verify=false "docker://$PLAIN_ADDR/all/app:$t" | jq -r .Digest)"
done
check_eq "... all/app:3 runs" "hello from tag 3" "$(pull_and_run "$PLAIN_ADDR/all/app:3")"
# blobs before manifests: docker-registry refuses (400, MANIFEST_BLOB_UNKNOWN)
# a manifest whose blobs it lacks, so three accepted PUTs prove the order
check_eq "... three manifest PUTs, each answered 201" "3 3" \
	"$(registry_requests PLAIN "$M" '"PUT /v2/all/app/manifests/') $(registry_requests PLAIN "$M" '"PUT /v2/all/app/manifests/[^"]*" 201 ')"

for j in 1 4; do
	DESC="copy --all-tags --json -j$j" \
		run_expect 0 '' ims copy --all-tags --json "-j$j" --ca-cert "$CA_CERT" "$TLS_ADDR/src/app" "$PLAIN_ADDR/j$j/app"
	cp "$RUN_OUT" "$W/j$j.json"
	check_jq "... jq: three tags, each with a digest" \
		'(.tags | length) == 3 and all(.tags[]; .digest | test("^sha256:[0-9a-f]{64}$"))' "$W/j$j.json"
done
check_eq "-j1 and -j4 copied the same tags with the same digests" \
	"$(jq -c '[.tags[] | [.tag, .digest]] | sort' "$W/j1.json")" "$(jq -c '[.tags[] | [.tag, .digest]] | sort' "$W/j4.json")"
check_eq "... and skopeo reads the same digests at both destinations" \
	"$(for t in 1 2 3; do skopeo inspect --tls-verify=false "docker://$PLAIN_ADDR/j1/app:$t" | jq -r .Digest; done)" \
	"$(for t in 1 2 3; do skopeo inspect --tls-verify=false "docker://$PLAIN_ADDR/j4/app:$t" | jq -r .Digest; done)"
DESC="copy --all-tags with both hosts named insecure (no CA)" \
	run_expect 0 '' ims copy --all-tags --insecure-registry "$TLS_ADDR" --insecure-registry "$PLAIN_ADDR" \
	"$TLS_ADDR/src/app" "$PLAIN_ADDR/allinsecure/app"
check_eq "... three tags copied" 3 "$(grep -c "^$PLAIN_ADDR/allinsecure/app:[123]@sha256:" "$RUN_OUT")"
check_eq "... still one warning per host, not one per tag" \
	"$(printf '%s\n' "$PLAIN_ADDR" "$TLS_ADDR" | sort)" \
	"$(sed -n 's/^imagespec: warning: `\([^`]*\)` is named insecure.*/\1/p' "$RUN_ERR" | sort)"
DESC="copy -j 0: exit 2" run_expect 2 '-j wants a number from 1 to 64' \
	ims copy -j 0 "$TLS_ADDR/src/app:1" "oci:$W/j0:1"

# --- hostile: --all-tags without a registry tags list -------------------------------
DESC="copy to docker-archive:" \
	run_expect 0 '' ims copy --ca-cert "$CA_CERT" "$TLS_ADDR/src/app:3" "docker-archive:$W/app.tar:src/app:3"
DA=${RUN_STDOUT##*@}
DESC="inspect the docker-archive:" run_expect 0 '' ims inspect "docker-archive:$W/app.tar"
check_digest "... copy printed the digest inspect reports" "$DA" "$(jq -r .digest "$RUN_OUT")"
check_digest "... which is the sha256 of the manifest inspect --raw shows" "$DA" \
	"sha256:$(ims inspect --raw "docker-archive:$W/app.tar" | sha256sum | cut -d' ' -f1)"
check "... skopeo copies the archive to a layout" \
	skopeo copy -q "docker-archive:$W/app.tar" "oci:$W/from-da:x"
check_eq "... and it runs" "hello from tag 3" "$(layout_run "$W/from-da:x")"

ims copy "oci:$W/l:3" "oci:$W/l2:3" >/dev/null
M=$(registry_log_mark PLAIN)
for src in "docker-archive:$W/app.tar" "oci:$W/l2" "oci-archive:$W/none.tar"; do
	DESC="copy --all-tags ${src%%:*}: source: exit 2, names the source" \
		run_expect 2 "the source \`$src\` is not a registry repository" \
		ims copy --all-tags "$src" "$PLAIN_ADDR/hostile/app"
	check_match "... with a hint" '^hint: name both repositories as HOST/REPO' "$RUN_STDERR"
done
DESC="copy --all-tags to an oci: destination: exit 2" \
	run_expect 2 "the destination \`oci:$W/hostile\` is not a registry repository" \
	ims copy --all-tags --ca-cert "$CA_CERT" "$TLS_ADDR/src/app" "oci:$W/hostile"
check "... no layout was written" test ! -e "$W/hostile"
DESC="copy --all-tags with a tagged source: exit 2" \
	run_expect 2 'names a tag or digest' ims copy --all-tags --ca-cert "$CA_CERT" "$TLS_ADDR/src/app:1" "$PLAIN_ADDR/hostile/app"
DESC="copy --all-tags with a digest destination: exit 2" \
	run_expect 2 'names a tag or digest' ims copy --all-tags --ca-cert "$CA_CERT" "$TLS_ADDR/src/app" "$PLAIN_ADDR/hostile/app@$D1"
check_eq "... no request reached the destination registry" 0 "$(registry_requests PLAIN "$M" .)"
check "... skopeo finds no hostile/app" \
	bash -c "! skopeo list-tags --tls-verify=false docker://$PLAIN_ADDR/hostile/app >/dev/null 2>&1"

done_testing
