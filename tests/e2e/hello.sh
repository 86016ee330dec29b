#!/usr/bin/env bash
# The hello example, built into each kind of output (oci:, docker-archive:,
# oci-archive:) and checked with skopeo, umoci, tar, python3, chroot and,
# when installed, podman. docker load is not tested: CI has no docker daemon.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root
need cc skopeo umoci jq python3 chroot sha256sum tar

W=$TMP/w
prepare_examples "$W" || bail "cannot compile examples/hello/hello.c statically (libc6-dev? build-essential?)"
SPEC=$W/examples/hello/image.yaml
ARCH=$(host_arch)
L=$TMP/layout

# --- oci: layout ------------------------------------------------------------
DESC="build hello into an oci: layout" \
	run_expect 0 '' ims build "$SPEC" --output "oci:$L:latest" --progress quiet
D=$(digest_of_output "$RUN_OUT")
check_match "build prints REF@sha256:DIGEST" '@sha256:[0-9a-f]{64}$' "$(tail -n 1 "$RUN_OUT")"
check "--output does not write the spec's own target" test ! -e "$W/out/hello"
check "the layout has oci-layout and index.json" test -f "$L/oci-layout" -a -f "$L/index.json"
check_eq "oci-layout version" '1.0.0' "$(jq -r .imageLayoutVersion "$L/oci-layout")"
check_eq "index.json names the manifest 'latest'" "$D" \
	"$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "latest") | .digest' "$L/index.json")"
check_eq "printed digest = sha256 of the manifest skopeo reads" "$D" "$(raw_digest "oci:$L:latest")"

INSPECT=$(skopeo inspect "oci:$L:latest" 2>&1)
CONFIG=$(skopeo inspect --config "oci:$L:latest" 2>&1)
MANIFEST=$(skopeo inspect --raw "oci:$L:latest" 2>&1)
check_eq "skopeo: Architecture is the host's" "$ARCH" "$(jq -r .Architecture <<<"$INSPECT")"
check_eq "skopeo: Os linux" linux "$(jq -r .Os <<<"$INSPECT")"
check_eq "skopeo: Labels" "hello" "$(jq -r '.Labels["org.opencontainers.image.title"]' <<<"$INSPECT")"
check_eq "skopeo: Created is the spec's" "2026-01-01T00:00:00Z" "$(jq -r .Created <<<"$INSPECT")"
check_eq "config: Cmd" '["/app/hello"]' "$(jq -c .config.Cmd <<<"$CONFIG")"
check_eq "config: WorkingDir" /app "$(jq -r .config.WorkingDir <<<"$CONFIG")"
check_eq "config: no Entrypoint" null "$(jq -c .config.Entrypoint <<<"$CONFIG")"
check_eq "config: created" "2026-01-01T00:00:00Z" "$(jq -r .created <<<"$CONFIG")"
check_eq "config: one diff_id per layer" "$(jq '.layers | length' <<<"$MANIFEST")" \
	"$(jq '.rootfs.diff_ids | length' <<<"$CONFIG")"
check_eq "config: one non-empty history entry per layer" "$(jq '.layers | length' <<<"$MANIFEST")" \
	"$(jq '[.history[]? | select(.empty_layer != true)] | length' <<<"$CONFIG")"
check_eq "manifest: OCI media type (scratch + inherit)" "application/vnd.oci.image.manifest.v1+json" \
	"$(jq -r .mediaType <<<"$MANIFEST")"
check_eq "manifest: no Docker media types mixed in" "0" \
	"$(jq '[.. | .mediaType? // empty | select(test("docker"))] | length' <<<"$MANIFEST")"

# The layer itself, read with tar and python3's tarfile/gzip.
LAYER=$(jq -r '.layers[0].digest' <<<"$MANIFEST")
LBLOB=$L/blobs/sha256/${LAYER#sha256:}
check_eq "layer blob digest matches its name" "$LAYER" "sha256:$(sha256sum "$LBLOB" | cut -d' ' -f1)"
check_eq "layer blob size matches the manifest" "$(jq '.layers[0].size' <<<"$MANIFEST")" "$(stat -c %s "$LBLOB")"
check_eq "diff_id = sha256 of the uncompressed layer" "$(jq -r '.rootfs.diff_ids[0]' <<<"$CONFIG")" \
	"sha256:$(gzip -dc "$LBLOB" | sha256sum | cut -d' ' -f1)"
check_eq "tar lists the layer (sorted, no parents of /etc/motd beyond /etc)" \
	"app app/hello etc etc/motd" "$(tar -tzf "$LBLOB" | sed 's#^\./##; s#^/##; s#/$##' | tr '\n' ' ' | sed 's/ $//')"
check "layer entries: uid/gid 0, empty user/group names, mtime = created, modes normalised" \
	python3 - "$LBLOB" <<'EOF'
import sys, tarfile
want = {"app": 0o755, "app/hello": 0o755, "etc": 0o755, "etc/motd": 0o644}
with tarfile.open(sys.argv[1], "r:gz") as t:
    for m in t.getmembers():
        name = m.name.lstrip("./").rstrip("/")
        assert m.uid == 0 and m.gid == 0, (name, m.uid, m.gid)
        assert m.uname == "" and m.gname == "", (name, m.uname, m.gname)
        assert m.mtime == 1767225600, (name, m.mtime)
        assert want.get(name) == m.mode, (name, oct(m.mode))
EOF
check "gzip header carries no mtime and no file name" python3 - "$LBLOB" <<'EOF'
import sys
h = open(sys.argv[1], "rb").read(10)
assert h[:3] == b"\x1f\x8b\x08", h
assert h[3] & 0x08 == 0, "FNAME set"
assert h[4:8] == b"\0\0\0\0", "MTIME set"
EOF

# Run it: umoci unpack, then chroot.
B=$TMP/bundle
check "umoci unpack" unpack "$L:latest" "$B"
check_eq "chroot rootfs /app/hello prints the greeting" "hello from imagespec" \
	"$(chroot "$B/rootfs" /app/hello 2>&1)"
check_eq "the bundle's process (umoci's reading of the config) runs in /app" "hello from imagespec" \
	"$(runbundle "$B" 2>&1)"
check_eq "umoci: process.cwd" /app "$(jq -r .process.cwd "$B/config.json")"
check_eq "/etc/motd content" "This image was built by imagespec." "$(cat "$B/rootfs/etc/motd" 2>&1)"
check_eq "/app/hello mode and owner" "755 0:0" "$(stat -c '%a %u:%g' "$B/rootfs/app/hello" 2>&1)"

check "skopeo copy oci: -> docker-archive:" \
	skopeo copy -q "oci:$L:latest" "docker-archive:$TMP/T.tar:hello:latest"

# --- docker-archive: --------------------------------------------------------
DESC="build --output docker-archive:FILE:REF" \
	run_expect 0 '' ims build "$SPEC" --output "docker-archive:$TMP/T2.tar:hello:latest" --progress quiet
check_match "docker-archive build prints REF@sha256:" '@sha256:[0-9a-f]{64}$' "$(tail -n 1 "$RUN_OUT")"
check "skopeo inspect docker-archive:" skopeo inspect "docker-archive:$TMP/T2.tar"
check_match "manifest.json RepoTags has hello:latest" 'hello:latest"' \
	"$(tar -xOf "$TMP/T2.tar" manifest.json 2>&1)"
check "skopeo copy docker-archive: -> oci:" skopeo copy -q "docker-archive:$TMP/T2.tar" "oci:$TMP/D3:x"
check "umoci unpack the copy" unpack "$TMP/D3:x" "$TMP/bundle3"
check_eq "chroot run from the docker-archive" "hello from imagespec" \
	"$(chroot "$TMP/bundle3/rootfs" /app/hello 2>&1)"
check_eq "docker-archive keeps Cmd" '["/app/hello"]' \
	"$(skopeo inspect --config "docker-archive:$TMP/T2.tar" | jq -c .config.Cmd)"

if command -v podman >/dev/null 2>&1; then
	PODMAN=(podman --root "$TMP/podman/root" --runroot "$TMP/podman/run" --storage-driver vfs
		--events-backend none --cgroup-manager cgroupfs)
	DESC="podman load -i docker-archive (vfs storage)" \
		run_expect 0 '' "${PODMAN[@]}" load -i "$TMP/T2.tar"
	check_match "podman names the loaded image" 'hello:latest' "$RUN_STDOUT"
	CFGD=$(skopeo inspect --raw "docker-archive:$TMP/T2.tar" | jq -r .config.digest)
	check_match "podman lists hello:latest with the config digest as its id" "/hello:latest ${CFGD#sha256:}\$" \
		"$("${PODMAN[@]}" images --no-trunc --format '{{.Repository}}:{{.Tag}} {{.ID}}' 2>&1 | sed 's/ sha256:/ /')"
else
	skip "podman load -i docker-archive" "podman not installed"
fi

# --- oci-archive: -----------------------------------------------------------
DESC="build --output oci-archive:FILE:TAG" \
	run_expect 0 '' ims build "$SPEC" --output "oci-archive:$TMP/T3.tar:latest" --progress quiet
D3=$(digest_of_output "$RUN_OUT")
check_eq "oci-archive holds the same manifest as the oci: layout" "$D" "$D3"
check_eq "skopeo reads the oci-archive's manifest digest" "$D" "$(raw_digest "oci-archive:$TMP/T3.tar:latest")"
check "skopeo copy oci-archive: -> oci:" skopeo copy -q "oci-archive:$TMP/T3.tar:latest" "oci:$TMP/D4:x"
check "umoci unpack the oci-archive copy" unpack "$TMP/D4:x" "$TMP/bundle4"
check_eq "chroot run from the oci-archive" "hello from imagespec" \
	"$(chroot "$TMP/bundle4/rootfs" /app/hello 2>&1)"

# --- --json -----------------------------------------------------------------
DESC="build --json" \
	run_expect 0 '' ims build "$SPEC" --output "oci:$TMP/J:latest" --json --progress quiet
J=$RUN_OUT
check "--json output is one JSON object" jq -e 'type == "object"' "$J"
check "--json: references is a non-empty list of strings" \
	jq -e '(.references | type == "array" and length > 0) and all(.references[]; type == "string")' "$J"
check_eq "--json: digest = the manifest's digest (and the oci: build's)" "$D" "$(jq -r .digest "$J")"
check_eq "--json: mediaType" "application/vnd.oci.image.manifest.v1+json" "$(jq -r .mediaType "$J")"
check_eq "--json: size = manifest bytes" "$(skopeo inspect --raw "oci:$TMP/J:latest" | wc -c)" "$(jq -r .size "$J")"
check_eq "--json: one manifest, for the host's platform" "1 linux/$ARCH" \
	"$(jq -r '"\(.manifests | length) \(.manifests[0].platform)"' "$J")"
check_eq "--json: manifests[0].digest" "$D" "$(jq -r '.manifests[0].digest' "$J")"
check "--json: layers have digest, diffId, size, mediaType, action" jq -e \
	'.manifests[0].layers | length > 0 and all(.[]; (.digest | test("^sha256:[0-9a-f]{64}$")) and (.diffId | test("^sha256:[0-9a-f]{64}$")) and (.size | type == "number") and (.mediaType | type == "string") and (.action | IN("uploaded", "mounted", "skipped", "written")))' "$J"
check_eq "--json: layer digest as in the manifest" "$LAYER" "$(jq -r '.manifests[0].layers[-1].digest' "$J")"

done_testing
