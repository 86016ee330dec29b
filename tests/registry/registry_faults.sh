#!/usr/bin/env bash
# Faults: a missing base tag, a registry that is down, a base whose blob or
# manifest lies about its digest, a 5 MiB manifest, a registry that answers
# 500 forever, a blob redirected to another host and upload sessions placed
# on another host (which must not see the credentials), and a push
# interrupted by the registry's death: the old tag survives, and a re-run
# gives the digest an uninterrupted build gives.
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/fixture.sh"
need_root
need skopeo umoci jq curl openssl sha256sum head
[ -x /usr/bin/docker-registry ] || need /usr/bin/docker-registry

registry_start REG || bail "cannot start docker-registry"
seed_base "$REG_ADDR" base/busybox:1 || bail "cannot seed the base"
W=$TMP/w
mkdir -p "$W"
# spec NAME BASE TARGET [EXTRA YAML]
spec() {
	cat >"$W/$1.yaml" <<EOF
base: $2
target: $3
created: "2026-01-01T00:00:00Z"
files:
  - dest: /hello.txt
    content: "hello from $1\n"
cmd: ["/bin/cat", "/hello.txt"]
${4:-}
EOF
	echo "$W/$1.yaml"
}
# absent DOCKER_REF: skopeo finds no such manifest.
absent() {
	! skopeo inspect --raw --tls-verify=false "docker://$1" >/dev/null 2>&1
}

# --- a missing base tag ------------------------------------------------------------
DESC="a missing base tag: exit 1 naming the tag" \
	run_expect 1 'nosuchtag' ims build "$(spec missing "$REG_ADDR/base/busybox:nosuchtag" "$REG_ADDR/team/missing:1")" --progress quiet
check_match "... and the repository" 'base/busybox' "$RUN_STDERR"
check "... nothing pushed" absent "$REG_ADDR/team/missing:1"
DESC="a missing base repository: exit 1" \
	run_expect 1 'nosuchrepo' ims build "$(spec missingrepo "$REG_ADDR/nosuchrepo/x:1" "$REG_ADDR/team/missing:1")" --progress quiet

# --- a registry that is down ------------------------------------------------------------
registry_start DOWN || bail "cannot start the registry to stop"
DOWN_ADDR_SAVED=$DOWN_ADDR
registry_stop DOWN
START=$(date +%s)
DESC="a stopped registry's port: exit 1 with a network error" \
	run_expect 1 '[Cc]onnect|[Rr]efused|[Nn]etwork|reach' ims build "$(spec down "$DOWN_ADDR_SAVED/base/busybox:1" "$REG_ADDR/team/down:1")" --progress quiet
T=$(elapsed_since "$START")
check "... quickly: $T s (< 60)" test "$T" -lt 60
check_match "... naming the registry" "$DOWN_ADDR_SAVED" "$RUN_STDERR"
START=$(date +%s)
DESC="a target registry that is down: exit 1" \
	run_expect 1 '[Cc]onnect|[Rr]efused|[Nn]etwork|reach' ims build "$(spec downtarget "$REG_ADDR/base/busybox:1" "$DOWN_ADDR_SAVED/team/down:1")" --progress quiet
T=$(elapsed_since "$START")
check "... quickly: $T s (< 60)" test "$T" -lt 60

# --- a base blob whose bytes do not match its digest -------------------------------------------
bad_registry_start bad-blob-digest || bail "cannot start bad_registry.py"
M=$(registry_log_mark REG)
DESC="bad-blob-digest base: exit 1 mentioning the digest" \
	run_expect 1 '[Dd]igest' ims build "$(spec badblob "$BAD_REF" "$REG_ADDR/team/badblob:1")" --progress quiet
check "... no manifest pushed (skopeo finds no team/badblob:1)" absent "$REG_ADDR/team/badblob:1"
check_eq "... the registry saw no manifest PUT" 0 "$(registry_requests REG "$M" '"PUT /v2/team/badblob/manifests/')"
BADLAYER=$(curl -s "http://$BAD_ADDR/v2/bad/img/manifests/1" | jq -r '.layers[0].digest')
check_eq "... and the corrupt layer was not committed (no 201 PUT ?digest=$BADLAYER)" 0 \
	"$(registry_requests REG "$M" "\"PUT /v2/team/badblob/blobs/uploads/[^ ]*digest=sha256(%3A|:)${BADLAYER#sha256:}[^ ]* HTTP/[0-9.]+\" 201 ")"
check_eq "... the target has no such blob (HEAD 404)" 404 \
	"$(curl -s -o /dev/null -w '%{http_code}' -I "http://$REG_ADDR/v2/team/badblob/blobs/$BADLAYER")"
DESC="bad-blob-digest base, --output oci: exit 1" \
	run_expect 1 '[Dd]igest' ims build "$W/badblob.yaml" --output "oci:$TMP/badblob:1" --progress quiet
check "... and no layout left behind" test ! -e "$TMP/badblob"
DESC="bad-blob-digest: imagespec copy refuses too" \
	run_expect 1 '[Dd]igest' ims copy "docker://$BAD_REF" "oci:$TMP/badcopy:1"
bad_registry_stop

# --- a base config whose bytes do not match its digest, or too large -------------------------
# A config is read in one GET, with no HEAD first (transport/registry.c
# read_blob): the digest and the cap are checked on the bytes as they come.
bad_registry_start bad-config-digest || bail "cannot start bad_registry.py"
M=$(registry_log_mark REG)
DESC="bad-config-digest base: exit 1 naming the config's digest" \
	run_expect 1 'sha256:[0-9a-f]{64}.*([Dd]igest|content has)|[Dd]igest.*sha256:[0-9a-f]{64}' \
	ims build "$(spec badcfg "$BAD_REF" "$REG_ADDR/team/badcfg:1")" --progress quiet --no-cache
check "... nothing pushed (skopeo finds no team/badcfg:1)" absent "$REG_ADDR/team/badcfg:1"
check_eq "... the registry saw no PUT or POST" 0 "$(registry_requests REG "$M" '"(PUT|POST|PATCH) /v2/team/badcfg/')"
check_eq "... the config was asked with one GET and no HEAD" "GET" \
	"$(jq -rs --arg c "$(curl -s "http://$BAD_ADDR/v2/bad/img/manifests/1" | jq -r .config.digest)" \
		'[.[] | select(.path | endswith("/blobs/" + $c)) | .method] | join(" ")' "$BAD_LOG")"
DESC="... imagespec inspect refuses it too" run_expect 1 '[Dd]igest' ims inspect "docker://$BAD_REF"
bad_registry_stop
bad_registry_start huge-config || bail "cannot start bad_registry.py"
DESC="a 5 MiB config: refused (exit 1, the limit)" \
	run_expect 1 'limit of 4194304 bytes' ims build "$(spec hugecfg "$BAD_REF" "$REG_ADDR/team/hugecfg:1")" \
	--progress quiet --no-cache
check "... nothing pushed" absent "$REG_ADDR/team/hugecfg:1"
bad_registry_stop

# --- a Docker-Content-Digest that lies ---------------------------------------------------------
bad_registry_start bad-manifest-digest || bail "cannot start bad_registry.py"
DESC="a manifest whose Docker-Content-Digest lies: refused (exit 1, digest)" \
	run_expect 1 '[Dd]igest' ims build "$(spec baddcd "$BAD_REF" "$REG_ADDR/team/baddcd:1")" --progress quiet
check "... nothing pushed" absent "$REG_ADDR/team/baddcd:1"
DESC="... imagespec inspect refuses it too" run_expect 1 '[Dd]igest' ims inspect "docker://$BAD_REF"
bad_registry_stop
# ... in the answer to a PUT (catalogue item 57): the blob's, then the
# manifest's. Either is refused, exit 1, naming both digests. A lying blob
# answer stops the push before any manifest; the manifest goes up once,
# under its tag, so its answer can only make the build fail.
for what in blob manifest; do
	bad_registry_start "bad-put-$what-digest" || bail "cannot start bad_registry.py"
	DESC="the answer to a $what PUT names another Docker-Content-Digest: refused (exit 1)" \
		run_expect 1 'the registry says the digest is sha256:[0-9a-f]{64}, but the content has sha256:' \
		ims build "$(spec "putdcd$what" "$BAD_REF" "$BAD_ADDR/team/putdcd:1")" --progress quiet --no-cache
	if [ $what = blob ]; then
		check_eq "... no manifest was put" 0 \
			"$(jq -s '[.[] | select(.method == "PUT" and (.path | test("/manifests/")))] | length' "$BAD_LOG")"
	fi
	bad_registry_stop
done

# --- a 5 MiB manifest ----------------------------------------------------------------------------
bad_registry_start huge-manifest || bail "cannot start bad_registry.py"
DESC="a 5 MiB manifest: refused (exit 1)" \
	run_expect 1 '[Ll]arge|[Ll]imit|[Ss]ize|MiB|[Bb]ig|cap|exceed' ims build "$(spec huge "$BAD_REF" "$REG_ADDR/team/huge:1")" --progress quiet
check "... nothing pushed" absent "$REG_ADDR/team/huge:1"
bad_registry_stop

# --- 500 forever --------------------------------------------------------------------------------
bad_registry_start 500-always || bail "cannot start bad_registry.py"
START=$(date +%s)
DESC="a registry answering 500 forever: exit 1" \
	run_expect 1 '500' ims build "$(spec e500 "$BAD_REF" "$REG_ADDR/team/e500:1")" --progress quiet
T=$(elapsed_since "$START")
NREQ=$(grep -c . "$BAD_LOG")
check "... after a bounded number of tries ($NREQ requests, 2..12)" test "$NREQ" -ge 2 -a "$NREQ" -le 12
check "... in bounded time ($T s < 120)" test "$T" -lt 120
check "... nothing pushed" absent "$REG_ADDR/team/e500:1"
bad_registry_stop

# --- a blob redirected to another host --------------------------------------------------------------
OPASS=canary-Offsite-93be1f
bad_registry_start redirect-offsite || bail "cannot start bad_registry.py"
DESC="a blob GET redirected to 127.0.0.2 (credentials in the spec)" \
	run_expect 0 '' env OFF_PASS="$OPASS" "$IMAGESPEC" build \
	"$(spec offsite "$BAD_REF" oci:out "auth: {\"$BAD_ADDR\": {username: bob, password: \"\${host:OFF_PASS}\"}}")" \
	--output "oci:$TMP/offsite:1" -v
check_jsonl "the registry itself got credentials (so there were some to leak)" \
	'any(.[]; .listener == "main" and .authorization)' "$BAD_LOG"
check_jsonl "the 127.0.0.2 recorder was asked for the blob(s)" 'any(.[]; .listener == "offsite")' "$BAD_LOG"
check_jsonl "the 127.0.0.2 recorder never saw an Authorization header" \
	'all(.[]; .listener != "offsite" or (.authorization | not))' "$BAD_LOG"
check_nomatch "... no password or presigned signature in stdout/stderr (-v)" "$OPASS|secret-signature" "$RUN_STDOUT
$RUN_STDERR"
check "... umoci unpacks the layout" unpack "$TMP/offsite:1" "$TMP/offsite-bundle"
check_eq "... with the redirected layer's file and ours" "served by bad_registry.py|hello from offsite" \
	"$(head -n 1 "$TMP/offsite-bundle/rootfs/bad/hello.txt" 2>&1)|$(cat "$TMP/offsite-bundle/rootfs/hello.txt" 2>&1)"
bad_registry_stop

# --- upload sessions whose Location is on another host ------------------------------------------------
UPASS=canary-Upload-6d2a0c
bad_registry_start upload-offsite || bail "cannot start bad_registry.py"
DESC="a push whose upload Locations point at 127.0.0.2 (credentials in the spec)" \
	run_expect 0 '' env UP_PASS="$UPASS" "$IMAGESPEC" build \
	"$(spec uploadoff "$BAD_REF" "$BAD_ADDR/team/app:1" "auth: {\"$BAD_ADDR\": {username: bob, password: \"\${host:UP_PASS}\"}}")" -v
check_jsonl "the registry itself got credentials (so there were some to leak)" \
	'any(.[]; .listener == "main" and .authorization)' "$BAD_LOG"
check_jsonl "the 127.0.0.2 upload host received the blob uploads" \
	'any(.[]; .listener == "offsite" and .method == "PUT" and .status == 201)' "$BAD_LOG"
check_jsonl "the 127.0.0.2 upload host never saw an Authorization header" \
	'all(.[]; .listener != "offsite" or (.authorization | not))' "$BAD_LOG"
check_jsonl "the manifest was PUT last, after the uploads" \
	'([.[] | select(.method == "PUT")] | last | .listener == "main" and (.path | test("/manifests/")))' "$BAD_LOG"
check_nomatch "... no password in stdout/stderr (-v)" "$UPASS" "$RUN_STDOUT
$RUN_STDERR"
check_eq "skopeo (verifying digests) pulls the pushed image" "hello from uploadoff" \
	"$(skopeo copy -q --src-tls-verify=false --src-creds "bob:$UPASS" "docker://$BAD_ADDR/team/app:1" "oci:$TMP/uploadoff:1" >/dev/null 2>&1 &&
		unpack "$TMP/uploadoff:1" "$TMP/uploadoff-bundle" && cat "$TMP/uploadoff-bundle/rootfs/hello.txt")"
bad_registry_stop

# --- a registry whose link file for a blob is torn ------------------------------------------------
# A registry killed while it writes a repository's link file keeps an
# empty one, and answers 500 to every HEAD of that blob until it is
# pushed again. The push warns and pushes the blob again, which repairs it.
spec torn1 "$REG_ADDR/base/busybox:1" "$REG_ADDR/team/torn:1" >/dev/null
DESC="torn link: the first push" run_expect 0 '' ims build "$W/torn1.yaml" --progress quiet
BASE_LAYER=$(jq -r '.layers[0].digest' <<<"$(skopeo inspect --raw --tls-verify=false "docker://$REG_ADDR/base/busybox:1")")
TORN=$REG_DATA/docker/registry/v2/repositories/team/torn/_layers/${BASE_LAYER/://}/link
check "the base layer's link in team/torn holds its digest (fixture sanity)" test "$(cat "$TORN" 2>&1)" = "$BASE_LAYER"
: >"$TORN"
spec torn2 "$REG_ADDR/base/busybox:1" "$REG_ADDR/team/torn:2" >/dev/null
DESC="torn link: a push that needs that blob succeeds" run_expect 0 '' ims build "$W/torn2.yaml" --progress plain
check_match "... warning that the registry answered 500 and the blob is pushed again" \
	'answered 500.*pushing the blob again' "$RUN_STDERR"
check "... the link is repaired" test -s "$TORN"
check_eq "... and the image runs (skopeo copy, umoci, chroot)" "hello from torn2" "$(pull_and_run "$REG_ADDR/team/torn:2")"

# --- a push interrupted by the registry's death ------------------------------------------------------
registry_start INT || bail "cannot start the registry for the interrupted push"
seed_base "$INT_ADDR" base/busybox:1 || bail "cannot seed it"
mkdir -p "$W/big"
# 200 MB that gzip cannot shrink: the upload takes long enough to be caught.
head -c $((200 * 1000 * 1000)) >"$W/big/big.bin" \
	< <(openssl enc -aes-256-ctr -nosalt -pbkdf2 -pass pass:imagespec-interrupt </dev/zero 2>/dev/null)
spec old "$INT_ADDR/base/busybox:1" "$INT_ADDR/team/app:1" >/dev/null
DESC="interrupted push: the previous version of team/app:1" \
	run_expect 0 '' ims build "$W/old.yaml" --progress quiet
OLD=$(digest_of_output "$RUN_OUT")
check_digest "previous version: skopeo reads it" "$OLD" "$(skopeo_raw_digest "$INT_ADDR/team/app:1")"
spec big "$INT_ADDR/base/busybox:1" "$INT_ADDR/team/app:1" "layers: [{files: [{src: ./big/big.bin, dest: /big.bin}]}]" >/dev/null

"$IMAGESPEC" build "$W/big.yaml" --json --progress plain >"$TMP/int.out" 2>"$TMP/int.err" </dev/null &
IPID=$!
# Wait until the registry has received part of an upload, stop the build
# there (SIGSTOP: the upload cannot finish meanwhile, however loaded the
# machine), SIGKILL the registry, then let the build go on.
caught=$(stop_mid_upload "$INT_DATA" team/app "$IPID")
registry_kill INT
S0=$(date +%s)
kill -CONT "$IPID" 2>/dev/null
check_match "the registry was killed mid-upload (bytes received: $caught)" '^[0-9]+$' "$caught"
wait "$IPID"
IRC=$?
check_eq "the interrupted build exits 1" 1 "$IRC" || diag "stderr: $(tail -c 2000 "$TMP/int.err")"
check "... within its retry budget ($(elapsed_since "$S0") s after the kill)" test "$(elapsed_since "$S0")" -lt 120
check_match "... with an error naming the target registry" "$INT_ADDR" "$(cat "$TMP/int.err")"
registry_restart INT || bail "cannot restart the registry on its storage"
check_digest "after the restart, team/app:1 is still the previous version" "$OLD" "$(skopeo_raw_digest "$INT_ADDR/team/app:1")"
check_eq "... and still runs" "hello from old" "$(pull_and_run "$INT_ADDR/team/app:1")"
DESC="the re-run succeeds" run_expect 0 '' ims build "$W/big.yaml" --json --progress quiet
NEW=$(jq -r .digest "$RUN_OUT" 2>/dev/null)
DESC="the same spec, uninterrupted, into an oci: layout" \
	run_expect 0 '' ims build "$W/big.yaml" --output "oci:$TMP/bigref:1" --json --progress quiet
REF=$(jq -r .digest "$RUN_OUT" 2>/dev/null)
check_match "re-run digest is a sha256" '^sha256:[0-9a-f]{64}$' "$NEW"
check_digest "re-run digest = uninterrupted build's digest" "$REF" "$NEW"
check_digest "skopeo reads the new digest under team/app:1" "$NEW" "$(skopeo_raw_digest "$INT_ADDR/team/app:1")"
check_eq "the big file arrived whole (skopeo copy, umoci, sha256 in the chroot)" \
	"$(sha256sum <"$W/big/big.bin" | cut -d' ' -f1)" \
	"$(pull_and_run "$INT_ADDR/team/app:1" >/dev/null && chroot "$PULLED_BUNDLE/rootfs" /bin/busybox sha256sum /big.bin | cut -d' ' -f1)"
rm -f "$W/big/big.bin"

done_testing
