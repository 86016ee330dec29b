#!/usr/bin/env bash
# The seed README's example and "Common actions" with the C API
# (examples/api/actions.c), against the real registry fixture: an htpasswd
# registry (credentials given in memory, as the seed's `{auth}`) and a
# second, anonymous registry on 127.0.0.2. Every image is checked with
# skopeo, umoci and chroot, never with imagespec alone.
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../registry/fixture.sh"
need_root
need skopeo umoci jq gzip tar sha256sum
[ -x /usr/bin/docker-registry ] || need /usr/bin/docker-registry
ACTIONS=${ACTIONS:?the actions example binary}

PASS="actions-pass-$RANDOM$RANDOM"
registry_start HT --htpasswd "alice:$PASS" || bail "cannot start the htpasswd registry"
registry_start TWO --host 127.0.0.2 || bail "cannot start the second registry"
seed_base "$HT_ADDR" base/busybox:1 --dest-creds "alice:$PASS" || bail "cannot seed the base"
PULL=(--src-tls-verify=false --src-creds "alice:$PASS") # skopeo copy
INSPECT=(--tls-verify=false --creds "alice:$PASS")     # skopeo inspect
export ACTIONS_REGISTRY=$HT_ADDR ACTIONS_USER=alice ACTIONS_PASSWORD=$PASS
# The TLS-less registries of the fixture are plain HTTP on loopback.
W=$TMP/w
mkdir -p "$W/app"
echo "console.log('hello from the actions example')" >"$W/app/index.js"
cd "$W" || bail "cd $W"

act() { # act DESC ARGS...: runs the example, REF@DIGEST in $OUT
	local desc=$1
	shift
	DESC=$desc run_expect 0 '' "$ACTIONS" "$@"
	cat "$RUN_OUT" "$RUN_ERR" >>"$TMP/all-output"
	OUT=$RUN_STDOUT
	DIGEST=${OUT##*@}
}

# --- the README example: new Image(base, target, {auth}); addFiles; save() --------------------
act "README example: busybox + ./app pushed with in-memory credentials" \
	build "$HT_ADDR/base/busybox:1" ./app "$HT_ADDR/team/app:1"
check_match "... prints REF@DIGEST" "^$HT_ADDR/team/app:1@sha256:[0-9a-f]{64}\$" "$OUT"
check_digest "skopeo reads the printed digest" "$DIGEST" "$(skopeo_raw_digest "$HT_ADDR/team/app:1" "${INSPECT[@]}")"
CFG=$(skopeo inspect --config "${INSPECT[@]}" "docker://$HT_ADDR/team/app:1")
check_eq "WorkingDir" /directory-root-for-files-in-container "$(jq -r .config.WorkingDir <<<"$CFG")"
check_eq "Env keeps the base's PATH and adds NODE_ENV" "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin NODE_ENV=production" \
	"$(jq -r '.config.Env | join(" ")' <<<"$CFG")"
check_eq "ExposedPorts and Volumes" '{"8080/tcp":{}} {"/data":{}}' \
	"$(jq -c .config.ExposedPorts <<<"$CFG") $(jq -c .config.Volumes <<<"$CFG")"
check_eq "the manifest's annotation" actions \
	"$(skopeo inspect --raw "${INSPECT[@]}" "docker://$HT_ADDR/team/app:1" |
		jq -r '.annotations["org.opencontainers.image.title"]')"
check_eq "the image runs its command under chroot" "console.log('hello from the actions example')" \
	"$(pull_and_run "$HT_ADDR/team/app:1" "${PULL[@]}")"

DESC="without the in-memory credentials the push is refused (exit 3)" \
	run_expect 3 '' env -u ACTIONS_PASSWORD "$ACTIONS" build "$HT_ADDR/base/busybox:1" ./app "$HT_ADDR/team/app:nocreds"

# --- update env vars or the exec path of an image, in place ---------------------------------------------
act "update: NODE_ENV=staging and a new command, saved under the same tag" \
	update "$HT_ADDR/team/app:1" NODE_ENV=staging /bin/sh -c 'echo updated: $NODE_ENV'
check_digest "skopeo reads the updated digest" "$DIGEST" "$(skopeo_raw_digest "$HT_ADDR/team/app:1" "${INSPECT[@]}")"
check_eq "the updated image runs the new command with the new env" "updated: staging" \
	"$(pull_and_run "$HT_ADDR/team/app:1" "${PULL[@]}")"

# --- add a layer: upload a blob with the RegistryClient, then addLayer ---------------------------------
mkdir -p layer/opt/extra
echo "added by addLayer" >layer/opt/extra/hello.txt
tar --sort=name --owner=0 --group=0 --mtime=@0 -C layer -cf extra.tar opt
gzip -n -9 -c extra.tar >extra.tar.gz
DIFF_ID=sha256:$(sha256sum <extra.tar | cut -d' ' -f1)
LAYER=sha256:$(sha256sum <extra.tar.gz | cut -d' ' -f1)
act "add-layer: upload extra.tar.gz, addLayer(digest, diffId, size), save()" \
	add-layer "$HT_ADDR/team/app:1" extra.tar.gz "$DIFF_ID" "$HT_ADDR/team/app:2"
check_match "... the upload's digest was computed while it streamed" "uploaded $LAYER" "$RUN_STDERR"
check_eq "the new manifest's last layer is the uploaded blob" "$LAYER" \
	"$(skopeo inspect --raw "${INSPECT[@]}" "docker://$HT_ADDR/team/app:2" | jq -r '.layers[-1].digest')"
pull_and_run "$HT_ADDR/team/app:2" "${PULL[@]}" >/dev/null
check_eq "umoci unpacks the added file" "added by addLayer" \
	"$(cat "$FIXTURE_DIR/pulled-last/bundle/rootfs/opt/extra/hello.txt" 2>&1)"

# --- copy an image to another registry -----------------------------------------------------------------
act "copy: new Image(src, dst).save() to the registry on 127.0.0.2" \
	copy "$HT_ADDR/team/app:2" "$TWO_ADDR/mirror/app:2"
check_digest "the copy has the source's digest" "$(skopeo_raw_digest "$HT_ADDR/team/app:2" "${INSPECT[@]}")" "$DIGEST"
check_digest "skopeo reads it on 127.0.0.2" "$DIGEST" "$(skopeo_raw_digest "$TWO_ADDR/mirror/app:2")"
check_eq "the copy runs" "updated: staging" "$(pull_and_run "$TWO_ADDR/mirror/app:2")"

# --- every RegistryClient verb ------------------------------------------------------------------------------
act "client: tags, manifest, blobExists, blob, upload, mount, manifestUpload" \
	client "$HT_ADDR" team/app 2 base/busybox
check_match "tags() lists 1 and 2" '^tag 1$' "$OUT"
check_match "... and 2" '^tag 2$' "$OUT"
check_match "manifest() gives the digest skopeo reads" "^manifest $(skopeo_raw_digest "$HT_ADDR/team/app:2" "${INSPECT[@]}") " "$OUT"
BASE_LAYER=$(skopeo inspect --raw "${INSPECT[@]}" "docker://$HT_ADDR/team/app:2" | jq -r '.layers[0].digest')
BASE_SIZE=$(skopeo inspect --raw "${INSPECT[@]}" "docker://$HT_ADDR/team/app:2" | jq -r '.layers[0].size')
check_match "blobExists() and blob() on the first layer: its size, read whole" \
	"^blob $BASE_LAYER exists=1 size=$BASE_SIZE read=$BASE_SIZE\$" "$OUT"
UP=sha256:$(printf 'uploaded by examples/api/actions.c\n' | sha256sum | cut -d' ' -f1)
check_match "upload() computes the digest of what it streamed" "^upload $UP\$" "$OUT"
check_eq "... and the registry serves those bytes" "uploaded by examples/api/actions.c" \
	"$(curl -s -u "alice:$PASS" "http://$HT_ADDR/v2/team/app/blobs/$UP")"
check_match "mount() from base/busybox mounts the base layer" "^mount $BASE_LAYER from base/busybox mounted=1\$" "$OUT"
check_match "manifestUpload() under a new tag keeps the digest" \
	"^manifestUpload copied $(skopeo_raw_digest "$HT_ADDR/team/app:2" "${INSPECT[@]}")\$" "$OUT"
check_digest "skopeo reads the copied tag" "$(skopeo_raw_digest "$HT_ADDR/team/app:2" "${INSPECT[@]}")" \
	"$(skopeo_raw_digest "$HT_ADDR/team/app:copied" "${INSPECT[@]}")"

SECRETS=(-e "$PASS")
check_no_secret "the password is in no output of the example" "$TMP/all-output"
done_testing
