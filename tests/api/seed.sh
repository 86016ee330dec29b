#!/usr/bin/env bash
# The C API example (examples/api/seed.c) builds on a busybox base made by
# imagespec; the result is checked with skopeo, umoci and chroot only.
set -u
SEED=$1 IMAGESPEC=$2
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
mkdir -p ctx/bin app
cp /bin/busybox ctx/bin/busybox
cat > ctx/image.yaml <<'YAML'
base: scratch
target: oci:../base:1
created: "2026-01-01T00:00:00Z"
files:
  - src: ./bin/busybox
    dest: /bin/busybox
  - {dest: /bin/sh, symlink: busybox}
  - {dest: /bin/cat, symlink: busybox}
  - {dest: /bin/ls, symlink: busybox}
env:
  PATH: /usr/bin:/bin
YAML
"$IMAGESPEC" build --progress quiet ctx/image.yaml >/dev/null
ok $? "busybox base built"
echo "hello from the seed" > app/index.js

out=$("$SEED" oci:base:1 ./app oci:seed:latest 2>seed.err)
ok $? "seed example ran"
case "$out" in oci:seed:latest@sha256:*) ok 0 "prints REF@digest" ;; *) ok 1 "prints REF@digest (got '$out')" ;; esac
grep -q '"WorkingDir":"/directory-root-for-files-in-container"' seed.err
ok $? "get_config shows the edits before save"

skopeo inspect --config oci:seed:latest > cfg.json
ok $? "skopeo inspect accepts the image"
[ "$(jq -r '.config.WorkingDir' cfg.json)" = /directory-root-for-files-in-container ]
ok $? "WorkingDir set"
[ "$(jq -r '.config.Env[0]' cfg.json)" = "PATH=/directory-root-for-files-in-container:/usr/bin:/bin" ]
ok $? "PATH prepended through \${base:PATH}"
[ "$(jq -r '.config.Cmd[0]' cfg.json)" = /bin/sh ]
ok $? "Cmd set"
[ "$(jq -r '.rootfs.diff_ids | length' cfg.json)" = 3 ]
ok $? "one base layer plus one layer per add call"

umoci unpack --image seed:latest bundle >/dev/null 2>&1
ok $? "umoci unpacks it"
[ "$(stat -c '%a %u %g' bundle/rootfs/etc/motd)" = "600 1000 1000" ]
ok $? "CustomFile keeps mode 0600 and owner 1000:1000"
run=$(chroot bundle/rootfs /bin/sh -c 'cat /etc/motd; ls /directory-root-for-files-in-container')
grep -q "built with libimagespec" <<<"$run" && grep -q index.js <<<"$run"
ok $? "the image's command runs under chroot"

echo "1..$n"
[ "$failed" = 0 ]
