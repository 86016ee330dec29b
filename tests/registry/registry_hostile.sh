#!/usr/bin/env bash
# Hostile registries and networks (issue 9): each fault gives the exit code
# SPEC-v1 gives it (1 for a registry or network fault, 3 for refused
# credentials, never the 2 of bad usage), a message that names the cause,
# and nothing pushed or written.
#   - registry faults: a manifest whose media type lies, a malformed
#     WWW-Authenticate, a corrupt base gzip, a 1 MiB response header;
#   - a deterministic 500 is given up quickly, and an error body with
#     several errors shows the useful one first;
#   - foreign layers (urls): downloaded and verified into the output, or,
#     when no url serves them, a failure before anything is uploaded;
#   - a blob GET reset mid-body: resumed with Range (or from the start);
#   - stalls (--low-speed-time) and deadlines (--timeout);
#   - a token realm on another loopback port gets no credentials unless
#     the spec names it;
#   - a base whose history does not match its layers: fitted, with a warning;
#   - a 401 at any one request of a push: credentials presented again once.
# The faults come from bad_registry.py (a registry serving one hostile
# image) and fault_proxy.py (a proxy in front of docker-registry that
# counts requests and bytes, not time, to place its fault).
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/fixture.sh"
need_root
need skopeo umoci jq curl
[ -x /usr/bin/docker-registry ] || need /usr/bin/docker-registry

registry_start REG || bail "cannot start docker-registry"
seed_base "$REG_ADDR" base/busybox:1 || bail "cannot seed the base"
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
# fault MODE ERE [--decompressing|--uploading]: a build from the bad
# registry's image to REG, a build with --output docker-archive: and a copy
# to one: each exits 1 with ERE, nothing pushed or written. --decompressing:
# the fault shows only where the base's layers are decompressed (a push
# passes them through verified by digest, as crane and skopeo do), so no
# push is tried. --uploading: the fault comes while the new layers may be
# uploading already, so the check is that no manifest was pushed.
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
		if [ "${3:-}" = --uploading ]; then
			check_eq "... the registry saw no manifest PUT" 0 \
				"$(registry_requests REG "$M" "\"PUT /v2/team/$name/manifests/")"
		else
			nothing_pushed "team/$name" "$M"
		fi
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

# catalogue item 56: a resumed GET answered 206 from another offset is refused
# before a byte of it reaches the blob (not spliced, not restarted). The push
# fails while the new layer may already be uploading: no manifest is pushed.
fault bad-content-range 'get blob sha256:[0-9a-f]{64} from `127\.0\.0\.1:[0-9]+/bad/img`: asked for the bytes from [0-9]+ on, got a range from 0' --uploading
check_jsonl "... in each of the 3 runs the layer GET was cut, then resumed with Range and refused" \
	'[.[] | select(.range != null and (.range | startswith("bytes=")) and .status == 206)] | length == 3' "$BAD_LOG"

# --- Warning headers (catalogue item 60) -------------------------------------------------------
# Every answer warns that the registry is deprecated; manifest answers add a
# 5000-byte warning and one with ESC and BEL. The build is not changed by
# them: it succeeds, and each distinct warning is shown once, cleaned and cut.
bad_registry_start warning-headers || bail "cannot start bad_registry.py warning-headers"
spec warned "$BAD_REF" oci:out >/dev/null
DESC="Warning headers on every answer: the build still succeeds (exit 0)" \
	run_expect 0 "warning: \`$BAD_ADDR\` warns: this registry is deprecated" \
	ims build "$W/warned.yaml" --output "oci:$TMP/warned:1" --progress quiet
check_eq "... the deprecation warning is shown once, though every answer carried it" 1 \
	"$(grep -c 'warns: this registry is deprecated' "$RUN_ERR")"
check_match "... the 5000-byte warning is cut at 256 bytes" "warns: W{256}\.\.\.$" "$RUN_STDERR"
check_match "... the escapes and the bell are dropped" 'warns: red \[31mALERT\[0m bell$' "$RUN_STDERR"
check_nomatch "... no raw control character reaches the terminal" $'[\x01-\x08\x0b-\x1f\x7f]' "$RUN_STDERR"
check "... umoci unpacks the image" unpack "$TMP/warned:1" "$TMP/warned-bundle"
check_eq "... with the spec's file" "hello from warned" "$(cat "$TMP/warned-bundle/rootfs/hello.txt" 2>&1)"
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

# --- foreign layers (urls) ------------------------------------------------------------------
# The bad registry's image has a second, non-distributable layer whose blob
# the registry does not hold; its url (on 127.0.0.2) serves it, or 404s.
# With sync.copyRemoteLayers (the default) the output gets the blob,
# verified; when no url serves it the build fails before any upload.
bad_registry_start foreign-layer || bail "cannot start bad_registry.py foreign-layer"
FL=$(curl -s "http://$BAD_ADDR/v2/bad/img/manifests/1" | jq -c '.layers[1]')
check_match "the base's second layer is foreign (fixture sanity)" 'nondistributable.*"urls"' "$FL"
DESC="foreign layer, --output oci: exit 0" \
	run_expect 0 '' ims build "$(spec foreign "$BAD_REF" "$REG_ADDR/team/foreign:1")" \
	--output "oci:$TMP/foreign:1" --json --progress quiet
check_eq "... --json says the foreign layer was written, not skipped" written \
	"$(jq -r '.manifests[0].layers[1].action' "$RUN_OUT" 2>&1)"
check_eq "... and the output's descriptor is an ordinary layer now (no urls, distributable media type)" \
	"application/vnd.oci.image.layer.v1.tar+gzip null" \
	"$(jq -r '.manifests[0].layers[1] | "\(.mediaType) \(.urls)"' "$RUN_OUT" 2>&1)"
check "... umoci unpacks the layout (every blob is there)" unpack "$TMP/foreign:1" "$TMP/foreign-bundle"
check_eq "... with the foreign layer's file" "fetched from a foreign url" \
	"$(cat "$TMP/foreign-bundle/rootfs/foreign/hello.txt" 2>&1)"
check_jsonl "... downloaded from its url on 127.0.0.2" \
	'any(.[]; .listener == "offsite" and .method == "GET" and .status == 200)' "$BAD_LOG"
DESC="foreign layer, pushed to a registry: exit 0" \
	run_expect 0 '' ims build "$W/foreign.yaml" --progress quiet
check_eq "... skopeo (verifying digests) pulls it, foreign file included" "fetched from a foreign url" \
	"$(pull_and_run "$REG_ADDR/team/foreign:1" >/dev/null; cat "$PULLED_BUNDLE/rootfs/foreign/hello.txt" 2>&1)"
FDIG=$(jq -r .digest <<<"$FL")
check_eq "... the target holds the foreign blob itself (HEAD 200)" 200 \
	"$(curl -s -o /dev/null -w '%{http_code}' -I "http://$REG_ADDR/v2/team/foreign/blobs/$FDIG")"
# A `blob:` layer with urls, on scratch: the seed's addLayer(..., urls).
FURL=$(jq -r '.urls[0]' <<<"$FL")
FDIFF=$(curl -s "http://$BAD_ADDR/v2/bad/img/blobs/$(curl -s "http://$BAD_ADDR/v2/bad/img/manifests/1" | jq -r .config.digest)" |
	jq -r '.rootfs.diff_ids[1]')
cat >"$W/addlayer.yaml" <<EOS
base: scratch
target: oci:out
created: "2026-01-01T00:00:00Z"
layers:
  - blob: {digest: "$FDIG", diffId: "$FDIFF", size: $(jq -r .size <<<"$FL"), urls: ["$FURL"],
           mediaType: application/vnd.oci.image.layer.v1.tar+gzip}
  - files: [{dest: /hello.txt, content: "hi\n"}]
EOS
DESC="a blob: layer with urls (scratch base), --output oci: exit 0" \
	run_expect 0 '' ims build "$W/addlayer.yaml" --output "oci:$TMP/addlayer:1" --json --progress quiet
check_eq "... --json says written" written "$(jq -r '.manifests[0].layers[0].action' "$RUN_OUT" 2>&1)"
check "... umoci unpacks the layout" unpack "$TMP/addlayer:1" "$TMP/addlayer-bundle"
check_eq "... with the downloaded layer's file" "fetched from a foreign url" \
	"$(cat "$TMP/addlayer-bundle/rootfs/foreign/hello.txt" 2>&1)"
bad_registry_stop

bad_registry_start foreign-layer-missing || bail "cannot start bad_registry.py foreign-layer-missing"
M=$(registry_log_mark REG)
DESC="a foreign layer whose url answers 404, pushed: exit 1, naming the layer and the url" \
	run_expect 1 'foreign layer sha256:[0-9a-f]{64}: none of its 1 url\(s\) serves it \(asked before uploading anything\): HEAD `http://127\.0\.0\.2:[0-9]+/gone/[^`]*`: HTTP 404' \
	ims build "$(spec foreigngone "$BAD_REF" "$REG_ADDR/team/foreigngone:1")" --progress quiet
check_match "... naming the base" "base \`$BAD_REF\`" "$RUN_STDERR"
check "... nothing pushed (skopeo finds no team/foreigngone:1)" absent "$REG_ADDR/team/foreigngone:1"
nothing_pushed team/foreigngone "$M"
DESC="... the same with --output oci: exit 1" \
	run_expect 1 'none of its 1 url\(s\) serves it' ims build "$W/foreigngone.yaml" --output "oci:$TMP/foreigngone:1" --progress quiet
check "... and no layout left behind" test ! -e "$TMP/foreigngone"
DESC="... with sync.copyRemoteLayers: false the layer is left where its urls say (exit 0, skipped)" \
	run_expect 0 '' ims build "$(spec foreignleft "$BAD_REF" "$REG_ADDR/team/foreignleft:1" 'sync: {copyRemoteLayers: false}')" \
	--output "oci:$TMP/foreignleft:1" --json --progress quiet
check_eq "... --json says skipped" skipped "$(jq -r '.manifests[0].layers[1].action' "$RUN_OUT" 2>&1)"
DESC="... pushed so to a registry that refuses foreign urls: exit 1, the registry's reason first, with a hint" \
	run_expect 1 'MANIFEST_BLOB_UNKNOWN' ims build "$W/foreignleft.yaml" --progress quiet
check_match "... the hint names sync.copyRemoteLayers" 'hint: .*copyRemoteLayers: true' "$RUN_STDERR"
check "... no manifest pushed" absent "$REG_ADDR/team/foreignleft:1"
bad_registry_stop

# --- a blob GET cut mid-body ----------------------------------------------------------------
# fault_proxy.py resets the connection after 100000 bytes of the base
# layer's body: the GET is resumed with Range (206), or from the start when
# the server ignores Range; the layer is verified whole either way.
spec direct "$REG_ADDR/base/busybox:1" oci:out >/dev/null
DESC="the base pulled directly (the reference digest)" \
	run_expect 0 '' ims build "$W/direct.yaml" --output "oci:$TMP/direct:1" --no-cache --progress quiet
REFD=$(digest_of_output "$RUN_OUT")
# cut_proxy NAME PROXY_OPTIONS...: a build whose base comes through the proxy.
cut_proxy() {
	local n=$1 a log
	shift
	fault_proxy_start "$n" "$REG_ADDR" "$@" || bail "fault_proxy.py did not start"
	eval "a=\$${n}_ADDR log=\$${n}_LOG"
	spec "$n" "$a/base/busybox:1" oci:out >/dev/null
	sed -i 's/hello from [a-zA-Z0-9]*/hello from direct/' "$W/$n.yaml"
	CUT_LOG=$log
}
cut_proxy RESUME --reset-body-after 100000
DESC="a base layer GET reset after 100000 bytes: exit 0" \
	run_expect 0 '' ims build "$W/RESUME.yaml" --output "oci:$TMP/resume:1" --no-cache --progress quiet
check_digest "... the same image as without the fault" "$REFD" "$(digest_of_output "$RUN_OUT")"
check_jsonl "... the GET was cut once" '[.[] | select(.outcome == "reset")] | length == 1' "$CUT_LOG"
check_jsonl "... and resumed with Range: bytes=100000- (206)" \
	'any(.[]; .outcome == "forwarded" and .range == "bytes=100000-" and .status == 206)' "$CUT_LOG"
check "... umoci unpacks it (digests verified)" unpack "$TMP/resume:1" "$TMP/resume-bundle"
cut_proxy NORANGE --reset-body-after 100000 --strip-range
DESC="the same, the server ignoring Range: exit 0" \
	run_expect 0 '' ims build "$W/NORANGE.yaml" --output "oci:$TMP/norange:1" --no-cache --progress quiet
check_digest "... the same image as without the fault" "$REFD" "$(digest_of_output "$RUN_OUT")"
check_jsonl "... the resumed GET got the whole blob again (200) and dropped the first 100000 bytes" \
	'any(.[]; .outcome == "forwarded" and .range == "bytes=100000-" and .status == 200)' "$CUT_LOG"
cut_proxy ALWAYS --reset-body-after 100000 --reset-times 1000
DESC="every GET of the layer cut: exit 1, the connection loss named" \
	run_expect 1 'connection lost.*\(5 tries, each resumed where the last stopped\)' \
	ims build "$W/ALWAYS.yaml" --output "oci:$TMP/always:1" --no-cache --progress quiet
check_jsonl "... after 5 tries of that blob, each bringing bytes" '[.[] | select(.outcome == "reset")] | length == 5' \
	"$CUT_LOG"
check "... and no layout left behind" test ! -e "$TMP/always"

# --- a HEAD that lies, a manifest PUT that says MANIFEST_BLOB_UNKNOWN (catalogue item 58) --------
# fault_proxy.py --head-from answers every blob HEAD from another repository,
# so the target seems to hold blobs it lacks and only the manifest PUT finds
# out. A base layer it names is uploaded again, once, and the PUT retried once.
fault_proxy_start LIE "$REG_ADDR" --head-from base/busybox || bail "fault_proxy.py did not start"
M=$(registry_log_mark REG)
spec lie "$LIE_ADDR/base/busybox:1" "$LIE_ADDR/team/lie:1" >/dev/null
DESC="HEAD lies for the base layer, the manifest PUT says MANIFEST_BLOB_UNKNOWN: exit 0 after one re-upload" \
	run_expect 0 'MANIFEST_BLOB_UNKNOWN.*; uploading base layer sha256:[0-9a-f]{64} again and retrying once' \
	ims build "$W/lie.yaml" --no-cache --progress quiet
check_jsonl "... the proxy lied to the target's blob HEADs" 'any(.[]; .outcome == "head-from" and .asked == "team/lie" and .status == 200)' "$LIE_LOG"
check_eq "... two manifest PUTs: refused (400), then stored (201)" "400 201" \
	"$(jq -sr '[.[] | select(.method == "PUT" and (.path | test("/manifests/"))) | .status] | map(tostring) | join(" ")' "$LIE_LOG")"
check_digest "... skopeo finds team/lie:1 with the printed digest" "$(digest_of_output "$RUN_OUT")" \
	"$(skopeo_raw_digest "$REG_ADDR/team/lie:1")"
check_match "... and pulls and runs it" 'hello from lie' "$(pull_and_run "$REG_ADDR/team/lie:1")"

# The same image pushed to team/liesrc first, then to team/lie2 with every
# HEAD answered from team/liesrc: every blob seems there, and the PUT names
# the config and the new layer too, which no re-upload of a base layer
# brings: one repair, one retry, then exit 1 with the registry's message.
sed "s|$LIE_ADDR/team/lie:1|$REG_ADDR/team/liesrc:1|" "$W/lie.yaml" >"$W/liesrc.yaml"
DESC="(setup) push team/liesrc" run_expect 0 '' ims build "$W/liesrc.yaml" --no-cache --progress quiet
fault_proxy_start LIE2 "$REG_ADDR" --head-from team/liesrc --head-in team/lie2 || bail "fault_proxy.py did not start"
sed "s|$LIE_ADDR/team/lie:1|$LIE2_ADDR/team/lie2:1|; s|$LIE_ADDR/|$LIE2_ADDR/|" "$W/lie.yaml" >"$W/lie2.yaml"
DESC="every HEAD lies, the PUT names blobs that are no base layer: exit 1 with the registry's message" \
	run_expect 1 'push manifest `127\.0\.0\.1:[0-9]+/team/lie2:1`: registry answered 400 MANIFEST_BLOB_UNKNOWN' \
	ims build "$W/lie2.yaml" --no-cache --progress quiet
check_eq "... the base layer was uploaded again once, no more" 1 "$(grep -c 'again and retrying once' "$RUN_ERR")"
check "... no tag pushed (skopeo finds no team/lie2:1)" absent "$REG_ADDR/team/lie2:1"
check_eq "... two manifest PUTs, both refused" "400 400" \
	"$(jq -sr '[.[] | select(.method == "PUT" and (.path | test("/manifests/"))) | .status] | map(tostring) | join(" ")' "$LIE2_LOG")"

# --- stalls and deadlines ---------------------------------------------------------------------
# A registry that trickles (fault_proxy.py --rate-down, 200 bytes/s) stalls
# a pull: with --low-speed-time 2 it fails after about 2 s (exit 1) saying
# so. One that is slow but not stalled (4000 bytes/s) is bounded by
# --timeout. An upload trickling out (--rate 200) stalls too.
START=$(date +%s)
cut_proxy TRICKLE --rate-down 200
DESC="a trickling registry (200 bytes/s), --low-speed-time 2: exit 1, stalled" \
	run_expect 1 'stalled: less than 1024 bytes/s for 2 s' \
	ims build "$W/TRICKLE.yaml" --output "oci:$TMP/trickle:1" --no-cache --progress quiet --low-speed-time 2
T=$(elapsed_since "$START")
check "... in bounded time ($T s < 40: one stall, not retried)" test "$T" -lt 40
check_match "... with a hint naming the flags" 'hint: .*--low-speed-time.*--timeout' "$RUN_STDERR"
check "... and no layout left behind" test ! -e "$TMP/trickle"
START=$(date +%s)
cut_proxy SLOW --rate-down 4000
DESC="a slow registry (4000 bytes/s, no stall), --timeout 3s: exit 1, the deadline named" \
	run_expect 1 'deadline of 3 s \(--timeout\)' \
	ims build "$W/SLOW.yaml" --output "oci:$TMP/slow:1" --no-cache --progress quiet --timeout 3s
T=$(elapsed_since "$START")
check "... in bounded time ($T s < 40)" test "$T" -lt 40
check "... and no layout left behind" test ! -e "$TMP/slow"
DESC="--timeout on inspect: exit 1, the deadline named" \
	run_expect 1 'deadline of 1 s' ims inspect "docker://$TRICKLE_ADDR/base/busybox:1" --timeout 1 --low-speed-time 60
DESC="a bad --timeout is a usage error (exit 2)" run_expect 2 '--timeout wants a duration' \
	ims tags "$SLOW_ADDR/base/busybox" --timeout soon
fault_proxy_start UPSLOW "$REG_ADDR" --rate 200 || bail "fault_proxy.py did not start"
mkdir -p "$W/up"
head -c 300000 /dev/urandom >"$W/up/blob.bin"
spec upslow "$REG_ADDR/base/busybox:1" "$UPSLOW_ADDR/team/upslow:1" 'layers: [{files: [{src: ./up/blob.bin, dest: /blob.bin}]}]' >/dev/null
M=$(registry_log_mark REG)
START=$(date +%s)
DESC="an upload trickling out at 200 bytes/s, --low-speed-time 2: exit 1, stalled" \
	run_expect 1 'stalled: less than 1024 bytes/s for 2 s' \
	ims build "$W/upslow.yaml" --no-cache --progress quiet --low-speed-time 2
T=$(elapsed_since "$START")
check "... in bounded time ($T s < 40)" test "$T" -lt 40
check "... no manifest pushed" absent "$REG_ADDR/team/upslow:1"
check_eq "... the registry saw no manifest PUT" 0 "$(registry_requests REG "$M" '"PUT /v2/team/upslow/manifests/')"

# --- credentials and a realm on another loopback port -------------------------------------------
# A loopback registry whose Bearer realm is on another loopback port (any
# local user may listen there): the Basic credentials are not sent to it,
# unless the spec names that host:port (registries: {insecure: true}).
RPASS=canary-Realm-77a1c9
token_server_start --user "alice:$RPASS" || bail "cannot start the token server"
registry_start RTOK --token || bail "cannot start the token-auth registry"
seed_base "$RTOK_ADDR" base/busybox:1 --dest-creds "alice:$RPASS" || bail "cannot seed it"
RAUTH="auth: {\"$RTOK_ADDR\": {username: alice, password: \"\${host:R_PASS}\"}}"
: >"$TOKEN_LOG"
M=$(registry_log_mark RTOK)
DESC="a realm on another loopback port, not named: the credentials are refused it (exit 3)" \
	run_expect 3 "refusing to send the credentials .* to token server \`http://$TOKEN_ADDR\` over plain HTTP" \
	env R_PASS="$RPASS" "$IMAGESPEC" build "$(spec realm "$RTOK_ADDR/base/busybox:1" "$RTOK_ADDR/team/realm:1" "$RAUTH")" \
	--progress quiet
check_match "... the hint says how to name it" "hint: .*registries: \{\"$TOKEN_ADDR\": \{insecure: true\}\}" "$RUN_STDERR"
check_jsonl "... the token server never saw an Authorization header" 'all(.[]; .authorization | not)' "$TOKEN_LOG"
check_nomatch "... no password in stdout/stderr" "$RPASS" "$RUN_STDOUT
$RUN_STDERR"
check "... nothing pushed" absent "$RTOK_ADDR/team/realm:1"
spec realmok "$RTOK_ADDR/base/busybox:1" "$RTOK_ADDR/team/realm:1" "$RAUTH
$(token_trust "$TOKEN_ADDR")" >/dev/null
DESC="the same realm named in the spec's registries: the push succeeds" \
	run_expect 0 '' env R_PASS="$RPASS" "$IMAGESPEC" build "$W/realmok.yaml" --progress quiet
check_jsonl "... the token server got the credentials and granted them" \
	'any(.[]; .authorization and .outcome == "granted")' "$TOKEN_LOG"
DESC="... or named with --insecure-registry: the push succeeds" \
	run_expect 0 '' env R_PASS="$RPASS" "$IMAGESPEC" build "$W/realm.yaml" --progress quiet \
	--insecure-registry "$TOKEN_ADDR"

# --- a base whose history does not match its layers --------------------------------------------
# 3 history entries for 1 layer: the output's history is fitted to its
# layers (the last surplus entries marked empty_layer), with a warning
# naming the base, as crane and skopeo pass such a base through.
bad_registry_start bad-history || bail "cannot start bad_registry.py bad-history"
DESC="a base with 3 history entries for 1 layer: exit 0, with a warning naming the base" \
	run_expect 0 "warning: base \`$BAD_REF\`.*history has 3 entries for layers but the image has 1 layers" \
	ims build "$(spec badhist "$BAD_REF" "$REG_ADDR/team/badhist:1")" --output "oci:$TMP/badhist:1" --progress quiet
BH_CFG=$(jq -r '.manifests[0].digest' "$TMP/badhist/index.json" 2>/dev/null)
BH_CFG=$(jq -r .config.digest "$TMP/badhist/blobs/sha256/${BH_CFG#sha256:}" 2>/dev/null)
check_jq "... the output's history has one non-empty entry per layer (2)" \
	'([.history[] | select(.empty_layer != true)] | length) == 2 and (.rootfs.diff_ids | length) == 2' \
	"$TMP/badhist/blobs/sha256/${BH_CFG#sha256:}"
check "... umoci unpacks it" unpack "$TMP/badhist:1" "$TMP/badhist-bundle"
DESC="... pushed to a registry: exit 0" run_expect 0 'history has 3 entries' ims build "$W/badhist.yaml" --progress quiet
check_digest "... skopeo reads the printed digest" "$(digest_of_output "$RUN_OUT")" \
	"$(skopeo_raw_digest "$REG_ADDR/team/badhist:1")"
bad_registry_stop

# --- a 401 in the middle of a push -----------------------------------------------------------
# An htpasswd registry behind fault_proxy.py, which answers 401 (a Basic
# challenge) once, to the Nth request to a repository: every N of a push
# (pulls of the base, HEADs, upload sessions, PUTs, the manifest) in turn.
# The credentials are presented again once and the push goes on.
PASS=canary-Mid401-5e0c2a
registry_start HT --htpasswd "alice:$PASS" || bail "cannot start the htpasswd registry"
seed_base "$HT_ADDR" base/busybox:1 --dest-creds "alice:$PASS" || bail "cannot seed it"
mkdir -p "$W/mid"
head -c 200000 /dev/urandom >"$W/mid/blob.bin"
# mid401 N: a push to team/midN (a new repository each time, so every push
# makes the same requests) through a proxy that answers 401 to the Nth.
# One upload at a time (-j 1): two uploads that start together each ask
# without credentials for the push scope first (a 401 each, where one
# after the other makes one), so the number of requests would vary.
mid401() {
	fault_proxy_start "M$1" "$HT_ADDR" --unauthorized-at "$1" || bail "fault_proxy.py did not start"
	local a log
	eval "a=\$M$1_ADDR log=\$M$1_LOG"
	cat >"$W/mid401.yaml" <<EOS
base: $a/base/busybox:1
target: $a/team/mid$1:1
created: "2026-01-01T00:00:00Z"
files:
  - dest: /hello.txt
    content: "hello mid401\n"
  - src: ./mid/blob.bin
    dest: /blob.bin
cmd: ["/bin/cat", "/hello.txt"]
auth: {"$a": {username: alice, password: "\${host:MID_PASS}"}}
EOS
	DESC="401 once at repository request $1: the push succeeds" \
		run_expect 0 '' env MID_PASS="$PASS" "$IMAGESPEC" build "$W/mid401.yaml" --progress quiet --no-cache -j 1
	MID_LOG=$log
}
mid401 0
NREQ=$(jq -s '[.[] | select(.path | test("^/v2/.+/(blobs|manifests|tags)/"))] | length' "$MID_LOG")
check "the control push made its requests ($NREQ > 5)" test "$NREQ" -gt 5
MID_OK=0
for ((n = 1; n <= NREQ; n++)); do
	mid401 "$n"
	check_jsonl "... the proxy did answer 401 to request $n" 'any(.[]; .outcome == "unauthorized")' "$MID_LOG"
	check_digest "... skopeo finds team/mid$n:1 with the printed digest" "$(digest_of_output "$RUN_OUT")" \
		"$(skopeo_raw_digest "$HT_ADDR/team/mid$n:1" --tls-verify=false --creds "alice:$PASS")"
done
check_eq "the image pushed last runs" "hello mid401" \
	"$(pull_and_run "$HT_ADDR/team/mid$NREQ:1" --src-tls-verify=false --src-creds "alice:$PASS")"
# A wrong password is still refused: exit 3, after at most 4 answers of 401
# (the anonymous /v2/ probe, the anonymous request, the password twice).
M=$(registry_log_mark HT)
sed -i "s|target: .*|target: $HT_ADDR/team/wrong:1|; s|base: .*|base: $HT_ADDR/base/busybox:1|; s|auth: .*|auth: {\"$HT_ADDR\": {username: alice, password: \"\${host:MID_PASS}\"}}|" "$W/mid401.yaml"
DESC="a wrong password: exit 3" run_expect 3 'refused the credentials' \
	env MID_PASS=wrong-password "$IMAGESPEC" build "$W/mid401.yaml" --progress quiet
N401=$(registry_requests HT "$M" '" 401 ')
check "... presented at most twice ($N401 answers 401, <= 4)" test "$N401" -le 4
check "... nothing pushed" absent "$HT_ADDR/team/wrong:1"

done_testing
