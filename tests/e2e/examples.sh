#!/usr/bin/env bash
# Builds the busybox, app and tarball examples in order, in a temp copy of
# examples/ (their targets oci:../../out/... land in that copy's out/), and
# checks the images with skopeo, umoci, stat and chroot.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root
need cc skopeo umoci jq python3 chroot

W=$TMP/w
prepare_examples "$W" || bail "cannot prepare the examples"
OUT=$W/out
BB_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# Build from an unrelated working directory: paths in a spec are relative to
# the spec's directory, never to the cwd.
mkdir -p "$TMP/cwd"
cd "$TMP/cwd" || bail "cd"

# --- busybox ----------------------------------------------------------------
DESC="build examples/busybox" \
	run_expect 0 '' ims build "$W/examples/busybox/image.yaml" --progress quiet
check_match "busybox: prints oci:...out/busybox...@sha256:" 'busybox.*@sha256:[0-9a-f]{64}$' "$RUN_STDOUT"
check "busybox: the target resolved against the spec's dir" test -f "$OUT/busybox/index.json"
check_eq "busybox: nothing written in the cwd" "" "$(ls -A "$TMP/cwd")"
BBCFG=$(skopeo inspect --config "oci:$OUT/busybox:1" 2>&1)
check_eq "busybox: PATH in the config" "PATH=$BB_PATH" \
	"$(jq -r '.config.Env[] | select(startswith("PATH="))' <<<"$BBCFG")"
check "busybox: umoci unpack" unpack "$OUT/busybox:1" "$TMP/bb"
check_eq "busybox: /bin/sh is a symlink to /bin/busybox" /bin/busybox "$(readlink "$TMP/bb/rootfs/bin/sh")"
for a in echo ls cat env; do
	check_eq "busybox: /bin/$a is a symlink" /bin/busybox "$(readlink "$TMP/bb/rootfs/bin/$a")"
done
check_eq "busybox: chroot /bin/sh -c echo" "hi there" \
	"$(chroot "$TMP/bb/rootfs" /bin/sh -c 'echo hi there' 2>&1)"
check_eq "busybox: /bin/ls /bin through PATH" "busybox cat echo env ls sh" \
	"$(env -i "PATH=$BB_PATH" chroot "$TMP/bb/rootfs" /bin/sh -c 'ls /bin' 2>&1 | tr -s ' \n' ' ' | sed 's/ $//')"

# --- app --------------------------------------------------------------------
DESC="build examples/app on the busybox layout" \
	run_expect 0 '' ims build "$W/examples/app/image.yaml" --progress quiet
APPCFG=$(skopeo inspect --config "oci:$OUT/app:1.0" 2>&1)
BBMAN=$(skopeo inspect --raw "oci:$OUT/busybox:1" 2>&1)
APPMAN=$(skopeo inspect --raw "oci:$OUT/app:1.0" 2>&1)
check_eq "app: the base's layers come first, unchanged, then one more" \
	"$(jq -c '[.layers[].digest]' <<<"$BBMAN")" "$(jq -c '[.layers[:-1][].digest]' <<<"$APPMAN")"
check_eq "app: User" "1000:1000" "$(jq -r .config.User <<<"$APPCFG")"
check_eq "app: Cmd" '["/bin/sh","/app/run.sh"]' "$(jq -c .config.Cmd <<<"$APPCFG")"
check_eq "app: WorkingDir" /app "$(jq -r .config.WorkingDir <<<"$APPCFG")"
check_eq "app: Env: the base's PATH kept, APP_MODE added" "PATH=$BB_PATH APP_MODE=production" \
	"$(jq -r '.config.Env | join(" ")' <<<"$APPCFG")"
check_eq "app: ExposedPorts" '["8080/tcp"]' "$(jq -c '.config.ExposedPorts | keys' <<<"$APPCFG")"
check_eq "app: Volumes" '["/data"]' "$(jq -c '.config.Volumes | keys' <<<"$APPCFG")"
check_eq "app: labels merged with the base's (title replaced, vendor kept)" "app/imagespec examples" \
	"$(jq -r '.config.Labels | "\(.["org.opencontainers.image.title"])/\(.["org.opencontainers.image.vendor"])"' <<<"$APPCFG")"
check_eq "app: history has one entry per layer" "$(jq '.layers | length' <<<"$APPMAN")" \
	"$(jq '[.history[]? | select(.empty_layer != true)] | length' <<<"$APPCFG")"

check "app: umoci unpack" unpack "$OUT/app:1.0" "$TMP/app"
R=$TMP/app/rootfs
check_eq "app: files in /app (ignore files, exclude, include applied)" \
	"assets assets/logo.txt config config/app.conf lib lib/README.md lib/greeting.txt run.sh" \
	"$(cd "$R/app" && find . -mindepth 1 | sed 's#^\./##' | sort | tr '\n' ' ' | sed 's/ $//')"
check_eq "app: /data is a directory owned by 1000:1000" "directory 1000:1000" \
	"$(stat -c '%F %u:%g' "$R/data" 2>&1)"
check_eq "app: /app owned by root, 0755" "0:0 755" "$(stat -c '%u:%g %a' "$R/app" 2>&1)"
check_eq "app: run.sh keeps its execute bit (0755), config is 0644" "755 644" \
	"$(stat -c '%a' "$R/app/run.sh" "$R/app/config/app.conf" 2>&1 | tr '\n' ' ' | sed 's/ $//')"
check_eq "app: the busybox base is there" /bin/busybox "$(readlink "$R/bin/sh")"
check_eq "app: umoci's process runs as 1000:1000" "1000 1000" \
	"$(jq -r '"\(.process.user.uid) \(.process.user.gid)"' "$TMP/app/config.json")"
check_eq "app: its cmd runs (as uid 1000, in /app)" "app ok: greeting=hello mode=production cwd=/app" \
	"$(runbundle "$TMP/app" 2>&1)"

# --- tarball ----------------------------------------------------------------
DESC="build examples/tarball (archive layer)" \
	run_expect 0 '' ims build "$W/examples/tarball/image.yaml" --progress quiet
TCFG=$(skopeo inspect --config "oci:$OUT/tarball:1" 2>&1)
check_eq "tarball: PATH = /opt/tool/bin: + the base's PATH" "PATH=/opt/tool/bin:$BB_PATH" \
	"$(jq -r '.config.Env[] | select(startswith("PATH="))' <<<"$TCFG")"
check_eq "tarball: WorkingDir" /opt/tool "$(jq -r .config.WorkingDir <<<"$TCFG")"
check_eq "tarball: Cmd" '["greet"]' "$(jq -c .config.Cmd <<<"$TCFG")"
TMAN=$(skopeo inspect --raw "oci:$OUT/tarball:1" 2>&1)
TLAYER=$OUT/tarball/blobs/sha256/$(jq -r '.layers[-1].digest | ltrimstr("sha256:")' <<<"$TMAN")
TLIST=$(tar -tzf "$TLAYER" 2>&1 | sed 's#^\./##; s#^/##; s#/$##')
check_match "tarball: the added layer has opt/tool/bin/greet" '^opt/tool/bin/greet$' "$TLIST"
check_eq "tarball: and nothing outside opt/tool (include, re-rooting)" "" "$(grep -Ev '^opt/tool(/|$)' <<<"$TLIST")"
check "tarball: archive entries' mtime becomes created" python3 - "$TLAYER" <<'EOF'
import sys, tarfile
with tarfile.open(sys.argv[1], "r:gz") as t:
    for m in t.getmembers():
        assert m.mtime == 1767225600, (m.name, m.mtime)
EOF
check "tarball: umoci unpack" unpack "$OUT/tarball:1" "$TMP/tb"
check_eq "tarball: greet is executable" 755 "$(stat -c %a "$TMP/tb/rootfs/opt/tool/bin/greet" 2>&1)"
check "tarball: other.txt left out by include" test ! -e "$TMP/tb/rootfs/opt/other.txt"
mapfile -t TENV < <(jq -r '.config.Env[]' <<<"$TCFG")
check_eq "tarball: chroot /bin/sh -c greet with the image's Env finds greet through PATH" \
	"hello from greet in /" "$(env -i "${TENV[@]}" chroot "$TMP/tb/rootfs" /bin/sh -c 'greet' 2>&1)"
check_eq "tarball: the image's cmd runs in its workingDir" "hello from greet in /opt/tool" \
	"$(runbundle "$TMP/tb" 2>&1)"

done_testing
