#!/usr/bin/env bash
# A TLS registry with a CA made here: trusted through --ca-cert, through the
# spec's `registries: {HOST: {caFile}}`, and through certs.d; refused (exit 1,
# a TLS verification error, no plain-HTTP fallback) without any of them and
# when the certificate does not name the address; accepted unverified only
# for a host named insecure; SSL_CERT_FILE; mutual TLS (a registry with
# clientcas) with the spec's clientCert/clientKey and with certs.d.
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/fixture.sh"
need_root
need skopeo umoci jq curl openssl sha256sum
[ -x /usr/bin/docker-registry ] || need /usr/bin/docker-registry

ca_make || bail "cannot make the test CA"
registry_start TLS --tls || bail "cannot start docker-registry with TLS"
CERTDIR=$(fixture_cert_dir)
seed_base "$TLS_ADDR" base/busybox:1 --dest-tls-verify=true --dest-cert-dir "$CERTDIR" ||
	bail "cannot seed the base over TLS"
check_eq "the fixture's registry speaks TLS that curl verifies with the test CA" 200 \
	"$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CA_CERT" "https://$TLS_ADDR/v2/")"
check_eq "... and curl without the CA refuses it (60: peer certificate cannot be verified)" 60 \
	"$(curl -s -o /dev/null "https://$TLS_ADDR/v2/"; echo $?)"

W=$TMP/w
mkdir -p "$W"
cp "$CA_CERT" "$W/ca.pem"
# spec NAME TAG [EXTRA YAML]: a spec on the TLS registry, target team/app:TAG.
spec() {
	cat >"$W/$1.yaml" <<EOF
base: $TLS_ADDR/base/busybox:1
target: $TLS_ADDR/team/app:$2
created: "2026-01-01T00:00:00Z"
files:
  - dest: /hello.txt
    content: "hello over TLS\n"
cmd: ["/bin/cat", "/hello.txt"]
${3:-}
EOF
	echo "$W/$1.yaml"
}
SKOPEO_TLS=(--tls-verify=true --cert-dir "$CERTDIR")
TLS_ERR='[Cc]ertificate|[Vv]erif|TLS|SSL|[Ii]ssuer'

# --- no trust: refused, and no fallback to http ------------------------------------
M=$(registry_log_mark TLS)
START=$(date +%s)
DESC="an untrusted certificate: exit 1 with a TLS verification error" \
	run_expect 1 '[Cc]ertificate|[Vv]erif|TLS|SSL|[Ii]ssuer' ims build "$(spec plain 0)" --progress quiet
check "... quickly (no retries of a verification failure: $(elapsed_since "$START") s)" test "$(elapsed_since "$START")" -lt 30
check_match "... and the message names the registry" "$TLS_ADDR" "$RUN_STDERR"
check_eq "... no request reached the registry's API" 0 "$(registry_requests TLS "$M" .)"
check "... nothing was pushed (skopeo finds no team/app:0)" \
	bash -c "! skopeo inspect --raw ${SKOPEO_TLS[*]} docker://$TLS_ADDR/team/app:0 >/dev/null 2>&1"
# docker-registry (Go) answers a plain-HTTP request on its TLS port without
# logging it, so the fallback is watched on bad_registry.py --tls, which logs
# every plain-HTTP attempt and every failed handshake.
bad_registry_start none --tls || bail "cannot start bad_registry.py --tls"
spec sniff 0 >/dev/null
sed -i "s#^base: .*#base: $BAD_REF#" "$W/sniff.yaml"
DESC="an untrusted certificate (sniffing TLS peer, base bad/img:1): exit 1" \
	run_expect 1 '[Cc]ertificate|[Vv]erif|TLS|SSL|[Ii]ssuer' ims build "$W/sniff.yaml" --output "oci:$TMP/sniff:1" \
	--progress quiet
check_jsonl "... the peer saw a TLS handshake fail (the client refused the certificate)" \
	'any(.[]; .tls_error != null)' "$BAD_LOG"
check_jsonl "... and never a plain-HTTP request: no fallback after a verification failure" \
	'all(.[]; .plain_http != true)' "$BAD_LOG"
check_jsonl "... and no HTTP request over the unverified TLS" 'all(.[]; .method == null)' "$BAD_LOG"
DESC="the same peer trusted with --ca-cert: the build works" \
	run_expect 0 '' ims build "$W/sniff.yaml" --output "oci:$TMP/sniff:1" --ca-cert "$CA_CERT" --progress quiet
check "... umoci unpacks it" unpack "$TMP/sniff:1" "$TMP/sniff-bundle"
check_eq "... with our file and the base's" "hello over TLS|served by bad_registry.py" \
	"$(cat "$TMP/sniff-bundle/rootfs/hello.txt" 2>&1)|$(head -n 1 "$TMP/sniff-bundle/rootfs/bad/hello.txt" 2>&1)"
bad_registry_stop

# --- --ca-cert ---------------------------------------------------------------------
DESC="--ca-cert CA" run_expect 0 '' ims build "$(spec cacert 1)" --ca-cert "$CA_CERT" --progress quiet
D1=$(digest_of_output "$RUN_OUT")
check_digest "--ca-cert: skopeo (verifying TLS) reads the printed digest" "$D1" \
	"$(skopeo_raw_digest "$TLS_ADDR/team/app:1" "${SKOPEO_TLS[@]}")"
check_eq "--ca-cert: the image runs" "hello over TLS" \
	"$(pull_and_run "$TLS_ADDR/team/app:1" --src-tls-verify=true --src-cert-dir "$CERTDIR")"
# Relative to the working directory.
DESC="--ca-cert relative to the working directory" \
	run_expect 0 '' bash -c "cd '$W' && '$IMAGESPEC' build '$(spec cacert_rel 1r)' --ca-cert ./ca.pem --progress quiet"

# --- registries: {HOST: {caFile}} ---------------------------------------------------
DESC="registries: {HOST: {caFile: ./ca.pem}} in the spec (relative to the spec)" \
	run_expect 0 '' bash -c "cd / && '$IMAGESPEC' build '$(spec cafile 2 "registries: {\"$TLS_ADDR\": {caFile: ./ca.pem}}")' --progress quiet"
D2=$(digest_of_output "$RUN_OUT")
check_digest "caFile: same image as with --ca-cert" "$D1" "$D2"
check_digest "caFile: skopeo reads it under team/app:2" "$D1" "$(skopeo_raw_digest "$TLS_ADDR/team/app:2" "${SKOPEO_TLS[@]}")"
DESC="caFile for another host does not trust this one" \
	run_expect 1 "$TLS_ERR" ims build "$(spec cafile_other 2x "registries: {\"127.0.0.1:1\": {caFile: ./ca.pem}}")" --progress quiet

# --- certs.d -------------------------------------------------------------------------
# The product reads /etc/docker/certs.d/HOST:PORT/ca.crt (and
# /etc/containers/certs.d); docs/cli.md names no option to point elsewhere,
# so the CA is installed there for this port only and removed at exit.
CERTSD=/etc/docker/certs.d/$TLS_ADDR
if [ -e "$CERTSD" ]; then
	skip "certs.d: $CERTSD/ca.crt" "$CERTSD already exists; not touching it"
else
	made=/etc/docker/certs.d
	[ -d /etc/docker/certs.d ] && made=$CERTSD
	[ -d /etc/docker ] || made=/etc/docker
	fixture_on_exit "rm -rf '$made'"
	mkdir -p "$CERTSD" && cp "$CA_CERT" "$CERTSD/ca.crt"
	DESC="certs.d: /etc/docker/certs.d/$TLS_ADDR/ca.crt" run_expect 0 '' ims build "$(spec certsd 3)" --progress quiet
	check_digest "certs.d: skopeo reads the printed digest" "$(digest_of_output "$RUN_OUT")" \
		"$(skopeo_raw_digest "$TLS_ADDR/team/app:3" "${SKOPEO_TLS[@]}")"
	DESC="certs.d: imagespec inspect trusts it too" run_expect 0 '' ims inspect "docker://$TLS_ADDR/team/app:3"
	DESC="certs.d: imagespec copy from the TLS registry" \
		run_expect 0 '' ims copy "docker://$TLS_ADDR/team/app:1" "oci:$TMP/fromtls:x"
	check_digest "copy over TLS: skopeo reads the same digest in the layout" "$D1" "$(raw_digest "oci:$TMP/fromtls:x")"
	rm -rf "$made"
	DESC="certs.d entry removed: refused again" run_expect 1 "$TLS_ERR" ims build "$(spec certsd_gone 3x)" --progress quiet
fi

# --- the certificate does not name the address ---------------------------------------
registry_start WRONGNAME --tls --host 127.0.0.3 || bail "cannot start a TLS registry on 127.0.0.3"
seed_base "$WRONGNAME_ADDR" base/busybox:1 || bail "cannot seed the base on 127.0.0.3"
sed "s#$TLS_ADDR#$WRONGNAME_ADDR#g" "$(spec wrongname_src 4)" >"$W/wrongname.yaml"
M=$(registry_log_mark WRONGNAME)
DESC="a trusted CA but a certificate without the address (127.0.0.3): exit 1" \
	run_expect 1 '' ims build "$W/wrongname.yaml" --ca-cert "$CA_CERT" --progress quiet
check_match "... the error is about the certificate's name" '[Nn]ame|[Hh]ost|match|SAN|subject|[Cc]ertificate' "$RUN_STDERR"
# libcurl's words as it wrote them: "SSL: no alternative certificate subject
# name matches ...", never with its first letter lowered ("sSL: ...").
check_match "... in libcurl's words, as libcurl wrote them" 'SSL: no alternative certificate subject name' "$RUN_STDERR"
check_nomatch "... with no letter lowered" 'sSL' "$RUN_STDERR"

# --- insecure hosts: TLS not verified ---------------------------------------------------
DESC="--insecure-registry HOST:PORT accepts the untrusted certificate" \
	run_expect 0 '' ims build "$(spec insecure 5)" --insecure-registry "$TLS_ADDR" --progress quiet
check_digest "--insecure-registry: skopeo reads the printed digest" "$(digest_of_output "$RUN_OUT")" \
	"$(skopeo_raw_digest "$TLS_ADDR/team/app:5" "${SKOPEO_TLS[@]}")"
check_eq "... and, with --progress quiet, one warning line naming the host (item 76)" \
	"imagespec: warning: \`$TLS_ADDR\` is named insecure: its TLS certificate is not verified and plain HTTP is allowed" \
	"$(grep -F 'warning:' "$RUN_ERR")"
DESC="registries: {HOST: {insecure: true}} accepts it too" \
	run_expect 0 '' ims build "$(spec insecure_spec 6 "registries: {\"$TLS_ADDR\": {insecure: true}}")" --progress quiet
check_eq "... with the same one warning line" 1 "$(grep -c "warning: \`$TLS_ADDR\` is named insecure" "$RUN_ERR")"
DESC="--insecure-registry for another host changes nothing" \
	run_expect 1 "$TLS_ERR" ims build "$(spec insecure_other 7)" --insecure-registry 127.0.0.1:1 --progress quiet

# --- a plain-HTTP loopback registry is still reachable (https first, then http) -----------
registry_start PLAIN || bail "cannot start a plain registry"
seed_base "$PLAIN_ADDR" base/busybox:1 || bail "cannot seed the plain registry"
sed "s#$TLS_ADDR#$PLAIN_ADDR#g" "$(spec plainhttp_src 8)" >"$W/plainhttp.yaml"
DESC="a plain-HTTP loopback registry (no TLS spoken): http is used" \
	run_expect 0 '' ims build "$W/plainhttp.yaml" --ca-cert "$CA_CERT" --progress quiet
check_digest "plain registry: skopeo reads the printed digest" "$(digest_of_output "$RUN_OUT")" \
	"$(skopeo_raw_digest "$PLAIN_ADDR/team/app:8")"

# --- SSL_CERT_FILE ---------------------------------------------------------------------
DESC="SSL_CERT_FILE=CA is honoured" \
	run_expect 0 '' env SSL_CERT_FILE="$CA_CERT" "$IMAGESPEC" build "$(spec sslcertfile 9)" --progress quiet
check_digest "SSL_CERT_FILE: skopeo reads the printed digest" "$(digest_of_output "$RUN_OUT")" \
	"$(skopeo_raw_digest "$TLS_ADDR/team/app:9" "${SKOPEO_TLS[@]}")"
DESC="SSL_CERT_FILE naming a missing file is an error" \
	run_expect nonzero 'SSL_CERT_FILE|nosuch' env SSL_CERT_FILE=/nosuch/ca.pem "$IMAGESPEC" build "$(spec sslcertfile_missing 9x)" \
	--ca-cert "$CA_CERT" --progress quiet

# --- the system store: its hashed directory alone --------------------------------------
# With SSL_CERT_FILE and SSL_CERT_DIR unset, or naming libcurl's own bundle
# and directory, imagespec verifies against the HASH.N links of
# /etc/ssl/certs and never parses the bundle (src/http/tls.c says why).
# Seen in a mount namespace where /etc/ssl/certs is this test's directory:
# the CA as its hash link, and a "bundle" that is not PEM, which would fail
# any handshake that read it.
if [ "$(id -u)" != 0 ] || ! unshare --mount --propagation private true 2>/dev/null; then
	skip "the system store: hashed directory only" "needs root for unshare --mount"
else
	SYS=$W/syscerts
	mkdir -p "$SYS"
	cp "$CA_CERT" "$SYS/test-ca.pem"
	ln -s test-ca.pem "$SYS/$(openssl x509 -hash -noout -in "$CA_CERT").0"
	echo "not a certificate bundle" >"$SYS/ca-certificates.crt"
	# in_store CMD...: CMD with $SYS mounted on /etc/ssl/certs, SSL_CERT_* unset.
	in_store() {
		unshare --mount --propagation private sh -c 'mount --bind "$1" /etc/ssl/certs && shift && exec "$@"' \
			sh "$SYS" env -u SSL_CERT_FILE -u SSL_CERT_DIR "$@"
	}
	DESC="the system store trusts the CA through its hash link; the bundle (not PEM) is never read" \
		run_expect 0 '' in_store "$IMAGESPEC" build "$(spec sysstore 10)" --progress quiet
	check_digest "system store: skopeo reads the printed digest" "$(digest_of_output "$RUN_OUT")" \
		"$(skopeo_raw_digest "$TLS_ADDR/team/app:10" "${SKOPEO_TLS[@]}")"
	DESC="... the same with SSL_CERT_FILE and SSL_CERT_DIR naming the defaults" \
		run_expect 0 '' in_store env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt SSL_CERT_DIR=/etc/ssl/certs \
		"$IMAGESPEC" build "$(spec sysstore_env 10e)" --progress quiet
	DESC="SSL_CERT_FILE naming another file is read as given (here: not PEM, refused)" \
		run_expect 1 "$TLS_ERR" in_store env SSL_CERT_FILE="$SYS/ca-certificates.crt" \
		"$IMAGESPEC" build "$(spec sysstore_file 10f)" --progress quiet
	# Another CA in its place: verification fails, as it must.
	rm -f "$SYS"/*.0
	openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=another-ca -days 1 \
		-keyout "$W/other.key" -out "$SYS/other.pem" >/dev/null 2>&1 || bail "openssl req"
	ln -s other.pem "$SYS/$(openssl x509 -hash -noout -in "$SYS/other.pem").0"
	DESC="a system store without the CA: refused (exit 1)" \
		run_expect 1 "$TLS_ERR" in_store "$IMAGESPEC" build "$(spec sysstore_none 10x)" --progress quiet
	check "... nothing pushed" bash -c "! skopeo inspect --raw ${SKOPEO_TLS[*]} docker://$TLS_ADDR/team/app:10x >/dev/null 2>&1"
fi

# --- SSL_CERT_DIR --------------------------------------------------------------------------
# A hashed directory of the user's: its CA is trusted (libcurl's bundle
# still counts); a missing one is an error naming the variable.
USERDIR=$W/usercerts
mkdir -p "$USERDIR"
cp "$CA_CERT" "$USERDIR/ca.pem"
ln -s ca.pem "$USERDIR/$(openssl x509 -hash -noout -in "$CA_CERT").0"
DESC="SSL_CERT_DIR holding the CA (hashed) is honoured" \
	run_expect 0 '' env -u SSL_CERT_FILE SSL_CERT_DIR="$USERDIR" "$IMAGESPEC" build "$(spec sslcertdir 11)" --progress quiet
check_digest "SSL_CERT_DIR: skopeo reads the printed digest" "$(digest_of_output "$RUN_OUT")" \
	"$(skopeo_raw_digest "$TLS_ADDR/team/app:11" "${SKOPEO_TLS[@]}")"
DESC="SSL_CERT_DIR naming a missing directory is an error (exit 2, naming it)" \
	run_expect 2 'SSL_CERT_DIR `/nosuch/certs`' env SSL_CERT_DIR=/nosuch/certs "$IMAGESPEC" build "$(spec sslcertdir_missing 11x)" \
	--ca-cert "$CA_CERT" --progress quiet

# --- mutual TLS: a client certificate -------------------------------------------------------
registry_start MTLS --mtls || bail "cannot start docker-registry with clientcas"
CLIENTDIR=$(fixture_cert_dir --client)
seed_base "$MTLS_ADDR" base/busybox:1 --dest-tls-verify=true --dest-cert-dir "$CLIENTDIR" ||
	bail "cannot seed the mTLS registry"
check_eq "the mTLS registry refuses curl without a client certificate (fixture sanity)" fail \
	"$(curl -s -o /dev/null --cacert "$CA_CERT" "https://$MTLS_ADDR/v2/" && echo ok || echo fail)"
mspec() {
	sed "s#$TLS_ADDR#$MTLS_ADDR#g" "$(spec "$1_src" "$2" "${3:-}")" >"$W/$1.yaml"
	echo "$W/$1.yaml"
}
cp "$CLIENT_CERT" "$W/client.pem"
cp "$CLIENT_KEY" "$W/client.key"
DESC="mTLS: the CA but no client certificate: exit 1" \
	run_expect 1 '' ims build "$(mspec mtls_none 1)" --ca-cert "$CA_CERT" --progress quiet
check "... nothing pushed" bash -c "! skopeo inspect --raw --tls-verify=true --cert-dir $CLIENTDIR docker://$MTLS_ADDR/team/app:1 >/dev/null 2>&1"
DESC="mTLS: registries: {HOST: {caFile, clientCert, clientKey}}" \
	run_expect 0 '' ims build "$(mspec mtls_spec 2 "registries: {\"$MTLS_ADDR\": {caFile: ./ca.pem, clientCert: ./client.pem, clientKey: ./client.key}}")" --progress quiet
check_digest "mTLS: skopeo (with the client certificate) reads the printed digest" "$(digest_of_output "$RUN_OUT")" \
	"$(skopeo_raw_digest "$MTLS_ADDR/team/app:2" --tls-verify=true --cert-dir "$CLIENTDIR")"
check_eq "mTLS: the image runs" "hello over TLS" \
	"$(pull_and_run "$MTLS_ADDR/team/app:2" --src-tls-verify=true --src-cert-dir "$CLIENTDIR")"
DESC="mTLS: clientCert without clientKey is refused" \
	run_expect nonzero 'clientKey|client' ims build "$(mspec mtls_lone 3 "registries: {\"$MTLS_ADDR\": {caFile: ./ca.pem, clientCert: ./client.pem}}")" --progress quiet
MCERTSD=/etc/docker/certs.d/$MTLS_ADDR
if [ -e "$MCERTSD" ]; then
	skip "mTLS certs.d: $MCERTSD" "$MCERTSD already exists; not touching it"
else
	made=/etc/docker/certs.d
	[ -d /etc/docker/certs.d ] && made=$MCERTSD
	[ -d /etc/docker ] || made=/etc/docker
	fixture_on_exit "rm -rf '$made'"
	mkdir -p "$MCERTSD" && cp "$CLIENTDIR"/* "$MCERTSD/"
	DESC="mTLS: certs.d with ca.crt, client.cert and client.key" \
		run_expect 0 '' ims build "$(mspec mtls_certsd 4)" --progress quiet
	check_digest "mTLS certs.d: skopeo reads the printed digest" "$(digest_of_output "$RUN_OUT")" \
		"$(skopeo_raw_digest "$MTLS_ADDR/team/app:4" --tls-verify=true --cert-dir "$CLIENTDIR")"
	rm -f "$MCERTSD/client.key"
	DESC="mTLS: certs.d with a lone client.cert is refused" \
		run_expect nonzero 'client\.(cert|key)|key' ims build "$(mspec mtls_certsd_lone 5)" --progress quiet
	rm -rf "$made"
fi

done_testing
