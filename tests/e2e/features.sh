#!/usr/bin/env bash
# The rest of the image.yaml contract, one small spec each, checked with
# skopeo, umoci, tar, zstd and python3: copy semantics (dest/ vs dest),
# hard links, symlinks preserved, modes and defaults, delete/opaque
# whiteouts, removeLayers, config edits (null removes), annotations,
# format: docker, compression gzip/zstd/none.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root
need skopeo umoci jq python3 tar zstd chroot

W=$TMP/w
mkdir -p "$W"
cd "$W" || bail "cd"

# layer_list LAYOUT TAG [N]: the entries of layer N (default: the last), as
# "name type mode uid:gid [linkname]" lines, read with python3's tarfile
# (which detects gzip/none; zstd is piped through the zstd tool).
layer_list() {
	local man d mt blob
	man=$(skopeo inspect --raw "oci:$1:$2") || return 1
	d=$(jq -r ".layers[${3:--1}].digest | ltrimstr(\"sha256:\")" <<<"$man")
	mt=$(jq -r ".layers[${3:--1}].mediaType" <<<"$man")
	blob=$1/blobs/sha256/$d
	case "$mt" in
	*zstd*) zstd -dc "$blob" ;;
	*) cat "$blob" ;;
	esac | python3 -c '
import sys, tarfile
with tarfile.open(fileobj=sys.stdin.buffer, mode="r|*") as t:
    for m in t:
        kind = {tarfile.REGTYPE: "f", tarfile.DIRTYPE: "d", tarfile.SYMTYPE: "l", tarfile.LNKTYPE: "h"}.get(m.type, "?")
        link = (" -> " + m.linkname) if m.linkname else ""
        print("%s %s %o %d:%d%s" % (m.name.lstrip("./").rstrip("/"), kind, m.mode, m.uid, m.gid, link))
'
}

# --- copying: dest/ vs dest, directory src, hard links, symlinks ------------
mkdir -p copy/src/sub
echo one >copy/one.txt
echo tree >copy/src/sub/file.txt
ln copy/src/sub/file.txt copy/src/sub/hard.txt
ln -s file.txt copy/src/sub/rel-link
chmod 0700 copy/src/sub/file.txt
cat >copy/image.yaml <<'EOF'
base: scratch
target: oci:out:x
created: 0
files:
  - {src: ./one.txt, dest: /into/}         # a file into a directory
  - {src: ./one.txt, dest: /as/renamed}    # a file written as dest
  - {src: ./src, dest: /tree}              # a directory's contents into dest
EOF
DESC="copy semantics: build" run_expect 0 '' ims build copy/image.yaml --output "oci:$W/copy-out:x" --progress quiet
L=$(layer_list "$W/copy-out" x)
check_match "file src, dest ending in /: written into it" '^into/one\.txt f 644 0:0$' "$L"
check_match "file src, dest without /: written as dest" '^as/renamed f 644 0:0$' "$L"
check_match "directory src: dest gets its own entry (0755)" '^tree d 755 0:0$' "$L"
check_match "directory src: contents under dest" '^tree/sub/file\.txt f 755 0:0$' "$L"
check_match "hard links in one layer are tar hard links" '^tree/sub/(hard|file)\.txt h .* -> /?tree/sub/(file|hard)\.txt$' "$L"
check_match "symlinks are preserved as symlinks" '^tree/sub/rel-link l .* -> file\.txt$' "$L"
check_eq "parents of dest get no entry (into, as)" "" "$(grep -E '^(into|as) d' <<<"$L")"
check_eq "entries are sorted" "$(cut -d' ' -f1 <<<"$L" | LC_ALL=C sort)" "$(cut -d' ' -f1 <<<"$L")"

# --- modes, defaults, setuid only when explicit -----------------------------
mkdir -p modes/bin
printf '#!/bin/sh\n' >modes/bin/tool
chmod 4755 modes/bin/tool
cat >modes/image.yaml <<'EOF'
base: scratch
target: oci:out:x
created: 0
defaults: {uid: 7, gid: 8}
files:
  - {src: ./bin, dest: /bin/}
  - {dest: /etc/secret, content: "s\n", mode: "0600", uid: 1000, gid: 1000}
  - {dest: /usr/bin/su, content: "x\n", mode: "4755"}
  - {dest: /tmp, type: dir, mode: "1777", uid: 0, gid: 0}
EOF
DESC="modes: build" run_expect 0 '' ims build modes/image.yaml --output "oci:$W/modes-out:x" --progress quiet
L=$(layer_list "$W/modes-out" x)
check_match "a source's setuid bit is dropped (0755), defaults uid/gid apply" '^bin/tool f 755 7:8$' "$L"
check_match "explicit mode, uid, gid" '^etc/secret f 600 1000:1000$' "$L"
check_match "setuid from an explicit mode" '^usr/bin/su f 4755 7:8$' "$L"
check_match "sticky dir from an explicit mode" '^tmp d 1777 0:0$' "$L"

# --- base edits: delete, opaque, removeLayers, config nulls -------------------
mkdir -p edits
cat >edits/base.yaml <<'EOF'
base: scratch
target: oci:out:base
created: 0
layers:
  - name: first
    files:
      - {dest: /etc, type: dir}
      - {dest: /etc/motd, content: "motd\n"}
      - {dest: /var/cache/app, type: dir}
      - {dest: /var/cache/app/old, content: "old\n"}
  - name: dropme
    files:
      - {dest: /dropped, content: "dropped\n"}
entrypoint: [/bin/tini, --]
cmd: [serve]
env: {KEEP: "1", DEBUG: "1"}
labels: {keep: "1", drop: "1"}
stopSignal: SIGINT
EOF
DESC="edits: build the base" run_expect 0 '' ims build edits/base.yaml --output "oci:$W/edits/base:b" --progress quiet
DROP=$(skopeo inspect --raw "oci:$W/edits/base:b" | jq -r '.layers[1].digest')
cat >edits/image.yaml <<EOF
base: oci:base:b
target: oci:out:x
created: 0
removeLayers: [$DROP]
files:
  - {dest: /new, content: "new\n"}
delete: [/etc/motd]
opaque: [/var/cache/app]
entrypoint: null
cmd: [run]
env: {DEBUG: null, ADDED: "2"}
labels: {drop: null}
annotations: {org.opencontainers.image.revision: abc123}
stopSignal: SIGTERM
EOF
DESC="edits: build" run_expect 0 '' ims build edits/image.yaml --output "oci:$W/edits-out:x" --progress quiet
MAN=$(skopeo inspect --raw "oci:$W/edits-out:x")
CFG=$(skopeo inspect --config "oci:$W/edits-out:x")
check_eq "removeLayers dropped the base's layer; then files, then the whiteout layer" 3 "$(jq '.layers | length' <<<"$MAN")"
check_eq "the dropped layer is gone" "" "$(jq -r --arg d "$DROP" '.layers[] | select(.digest == $d) | .digest' <<<"$MAN")"
check_eq "config: diff_ids and history follow" "3 3" \
	"$(jq -r '"\(.rootfs.diff_ids | length) \([.history[] | select(.empty_layer != true)] | length)"' <<<"$CFG")"
L=$(layer_list "$W/edits-out" x)
check_match "delete: a .wh. whiteout in the last layer" '^etc/\.wh\.motd f' "$L"
check_match "opaque: a .wh..wh..opq in the last layer" '^var/cache/app/\.wh\.\.wh\.\.opq f' "$L"
check "edits: umoci unpack" unpack "$W/edits-out:x" "$TMP/edits-bundle"
R=$TMP/edits-bundle/rootfs
check "unpacked: /etc/motd deleted, /new and /etc there" test ! -e "$R/etc/motd" -a -f "$R/new" -a -d "$R/etc"
check "unpacked: /var/cache/app emptied" test -d "$R/var/cache/app" -a ! -e "$R/var/cache/app/old"
check "unpacked: the removed layer's file is absent" test ! -e "$R/dropped"
check_eq "entrypoint: null clears it" null "$(jq -c .config.Entrypoint <<<"$CFG")"
check_eq "cmd replaced" '["run"]' "$(jq -c .config.Cmd <<<"$CFG")"
check_eq "env: null removes, order kept, new appended" "KEEP=1 ADDED=2" "$(jq -r '.config.Env | join(" ")' <<<"$CFG")"
check_eq "labels: null removes, the rest merged" '{"keep":"1"}' "$(jq -c .config.Labels <<<"$CFG")"
check_eq "stopSignal" SIGTERM "$(jq -r .config.StopSignal <<<"$CFG")"
check_eq "annotations go on the manifest" abc123 \
	"$(jq -r '.annotations["org.opencontainers.image.revision"]' <<<"$MAN")"

# --- entrypoint and cmd: docker's rule ------------------------------------------
# A Dockerfile ENTRYPOINT resets the inherited CMD; a CMD alone keeps the
# base's ENTRYPOINT. The base here has both ([/bin/tini, --] and [serve]).
argv_of() { # SPEC-EXTRA NAME: edits/base plus SPEC-EXTRA, built; prints "[ENTRYPOINT, CMD]"
	printf 'base: oci:base:b\ntarget: oci:out:x\ncreated: 0\n%s\n' "$1" >"edits/$2.yaml"
	ims build "edits/$2.yaml" --output "oci:$W/argv-$2:x" --progress quiet >/dev/null || return 1
	skopeo inspect --config "oci:$W/argv-$2:x" | jq -c '[.config.Entrypoint, .config.Cmd]'
}
check_eq "neither set: the base's entrypoint and cmd" '[["/bin/tini","--"],["serve"]]' "$(argv_of 'labels: {a: b}' none)"
check_eq "entrypoint alone: the base's cmd is reset" '[["/bin/app"],null]' "$(argv_of 'entrypoint: [/bin/app]' ep)"
check_eq "cmd alone: the base's entrypoint is kept" '[["/bin/tini","--"],["run"]]' "$(argv_of 'cmd: [run]' cmd)"
check_eq "both: both replaced" '[["/bin/app"],["x"]]' "$(argv_of 'entrypoint: [/bin/app]
cmd: [x]' both)"

# --- healthcheck: docker's Healthcheck, durations in nanoseconds ---------------
# skopeo inspect --config re-encodes as OCI, which has no Healthcheck field:
# --raw shows the config as written.
check_eq "healthcheck: written as docker does" \
	'{"Test":["CMD","/bin/check","-q"],"Interval":90000000000,"Timeout":500000000,"StartPeriod":1500000000,"StartInterval":2000000000,"Retries":3}' \
	"$(argv_of 'healthcheck: {test: [CMD, /bin/check, -q], interval: 1m30s, timeout: 500ms, startPeriod: 1.5s, startInterval: 2s, retries: 3}' hc >/dev/null &&
		skopeo inspect --raw --config "oci:$W/argv-hc:x" | jq -c .config.Healthcheck)"
check_eq "healthcheck: a string is CMD-SHELL; unset keys are left out" '{"Test":["CMD-SHELL","wget -q -O- localhost || exit 1"]}' \
	"$(argv_of 'healthcheck: {test: "wget -q -O- localhost || exit 1"}' hcs >/dev/null &&
		skopeo inspect --raw --config "oci:$W/argv-hcs:x" | jq -c .config.Healthcheck)"
check_eq "healthcheck: none disables it ([NONE])" '{"Test":["NONE"]}' \
	"$(argv_of 'healthcheck: none' hcn >/dev/null && skopeo inspect --raw --config "oci:$W/argv-hcn:x" | jq -c .config.Healthcheck)"
cat >edits/hc-bad.yaml <<'EOF'
base: oci:base:b
target: oci:out:x
healthcheck:
  test: [curl, -f, localhost]
  interval: 30
  timeout: 10us
  retries: "3"
EOF
DESC="healthcheck: bad values are spec errors (exit 2)" \
	run_expect 2 'hc-bad\.yaml:4:10: `healthcheck\.test` must start with `CMD`' \
	ims build edits/hc-bad.yaml --output "oci:$W/hc-bad:x" --progress quiet
check_match "... interval without a unit, at its line and column" 'hc-bad\.yaml:5:13: `healthcheck\.interval` must be a duration like `30s`' "$RUN_STDERR"
check_match "... a timeout under 1ms" 'hc-bad\.yaml:6:12: `healthcheck\.timeout` must be 0 or at least 1ms' "$RUN_STDERR"
check_match "... retries quoted" 'hc-bad\.yaml:7:12: `healthcheck\.retries` must be an integer' "$RUN_STDERR"
check "... no layout written" test ! -e "$W/hc-bad"

# --- workingDir exists in the image ------------------------------------------
# As WORKDIR does: a layer of its own with the directory, 0755, owned by a
# numeric user (BuildKit's rule), unless a new layer already writes there.
mkdir -p wd/rootfs/bin
cp "$(busybox_path)" wd/rootfs/bin/busybox
cat >wd/base.yaml <<'EOF'
base: scratch
target: oci:out:x
created: 0
files: [{src: ./rootfs, dest: /}]
EOF
cat >wd/image.yaml <<'EOF'
base: oci:base:b
target: oci:out:x
created: 0
workingDir: /srv/app
user: "1000:1001"
entrypoint: [/bin/busybox, sh, -c, '/bin/busybox pwd; /bin/busybox stat -c "%a %u:%g" .; /bin/busybox touch ./w && echo writable']
EOF
DESC="workingDir: build the busybox base" run_expect 0 '' ims build wd/base.yaml --output "oci:$W/wd/base:b" --progress quiet
DESC="workingDir: build" run_expect 0 '' ims build wd/image.yaml --output "oci:$W/wd-out:x" --progress quiet
check_eq "workingDir: a layer of its own, named in history" "imagespec: workingDir /srv/app" \
	"$(skopeo inspect --config "oci:$W/wd-out:x" | jq -r '.history[-1].created_by')"
check_match "workingDir: the layer holds the directory, owned by user" '^srv/app d 755 1000:1001$' "$(layer_list "$W/wd-out" x)"
check "workingDir: umoci unpack" unpack "$W/wd-out:x" "$TMP/wd-bundle"
check "workingDir: the directory exists in the rootfs" test -d "$TMP/wd-bundle/rootfs/srv/app"
check_eq "workingDir: chroot runs the process in it, as the user, who can write there" \
	"/srv/app
755 1000:1001
writable" "$(runbundle "$TMP/wd-bundle" 2>&1)"
printf 'base: oci:base:b\ntarget: oci:out:x\ncreated: 0\nworkingDir: /srv/app\nfiles: [{dest: /srv/app/f, content: "f"}]\n' >wd/covered.yaml
DESC="workingDir: build, a file under it" run_expect 0 '' ims build wd/covered.yaml --output "oci:$W/wd-cov:x" --progress quiet
check_eq "workingDir: no extra layer when a new layer writes under it" 2 \
	"$(skopeo inspect --raw "oci:$W/wd-cov:x" | jq '.layers | length')"
check "workingDir: umoci unpack (file under it)" unpack "$W/wd-cov:x" "$TMP/wd-cov-bundle"
check "... the directory is there, as the file's parent" test -d "$TMP/wd-cov-bundle/rootfs/srv/app" -a -f "$TMP/wd-cov-bundle/rootfs/srv/app/f"
printf 'base: oci:base:b\ntarget: oci:out:x\ncreated: 0\nworkingDir: /w\nuser: app\n' >wd/named.yaml
DESC="workingDir: build with a named user" run_expect 0 '' ims build wd/named.yaml --output "oci:$W/wd-named:x" --progress quiet
check_match "workingDir: a named user needs the image's /etc/passwd: root owns it" '^w d 755 0:0$' \
	"$(layer_list "$W/wd-named" x)"

# --- the .dockerignore next to the spec ------------------------------------------
# docker applies the context's .dockerignore to every COPY; imagespec has no
# context: a mapping reads the ignore files it names, inside its src. A
# .dockerignore beside the spec that no copy reads draws a warning.
mkdir -p di/src
echo '*.log' >di/.dockerignore
echo a >di/src/a.log
echo b >di/src/b.txt
printf 'base: scratch\ntarget: oci:out:x\ncreated: 0\nfiles:\n  - {src: ./src, dest: /s/}\n' >di/sub.yaml
DESC=".dockerignore beside the spec, src: ./src: build" run_expect 0 '' ims build di/sub.yaml --output "oci:$W/di-sub:x" --progress quiet
check_match "... warns at the copy that it is not applied, and what to do" \
	'warning: .*sub\.yaml:5:5: the `\.dockerignore` next to the spec is not applied to `src: \./src`, unlike docker.s COPY; put its patterns in the entry.s `exclude`' "$RUN_STDERR"
check_match "... and copies a.log" '^s/a\.log f' "$(layer_list "$W/di-sub" x)"
printf 'base: scratch\ntarget: oci:out:x\ncreated: 0\nfiles:\n  - {src: ./, dest: /t/, ignoreFiles: [.dockerignore]}\n' >di/top.yaml
DESC=".dockerignore named in ignoreFiles, src: ./: build" run_expect 0 '' ims build di/top.yaml --output "oci:$W/di-top:x" --progress quiet
check_nomatch "... no warning" 'warning' "$RUN_STDERR"
L=$(layer_list "$W/di-top" x)
check_nomatch "... a.log left out (.gitignore rules: *.log at any depth)" 'a\.log' "$L"
check_match "... b.txt copied" '^t/src/b\.txt f' "$L"

# --- a directory entry over a symlink of the base ------------------------------
# imagespec never reads the base's layers: a directory entry at a path the
# base has as a symlink replaces the link when unpacked (docker's COPY would
# follow it). It warns for the usr-merge links (/bin, /lib, ...).
mkdir -p sl/bin sl/root/usr/bin
echo x >sl/bin/tool
echo y >sl/root/usr/bin/old
printf 'base: scratch\ntarget: oci:out:x\ncreated: 0\nfiles:\n  - {src: ./root/usr, dest: /usr}\n  - {dest: /bin, symlink: usr/bin}\n' >sl/base.yaml
printf 'base: oci:base:b\ntarget: oci:out:x\ncreated: 0\nfiles:\n  - {src: ./bin, dest: /bin/}\n  - {src: ./bin/tool, dest: /lib/}\n' >sl/image.yaml
DESC="symlink in the base: build the base (/bin -> usr/bin)" run_expect 0 '' ims build sl/base.yaml --output "oci:$W/sl/base:b" --progress quiet
DESC="symlink in the base: build a copy of a directory to /bin/" run_expect 0 '' ims build sl/image.yaml --output "oci:$W/sl-out:x" --progress quiet
check_match "... warns at the entry, with what to write instead" \
	'warning: .*image\.yaml:5:5: `dest: /bin/` writes a directory entry for `/bin`, which is a symlink to `/usr/bin` in usr-merged bases: unpacking replaces the link with a directory .*write `dest: /usr/bin/` instead' "$RUN_STDERR"
check_nomatch "... but not for a file copied into /lib/ (no entry for /lib)" 'for `/lib`' "$RUN_STDERR"
check "... umoci unpack" unpack "$W/sl-out:x" "$TMP/sl-bundle"
check "... the link is replaced by a directory, as the docs say" test -d "$TMP/sl-bundle/rootfs/bin" -a ! -L "$TMP/sl-bundle/rootfs/bin" -a ! -e "$TMP/sl-bundle/rootfs/bin/old"
printf 'base: oci:base:b\ntarget: oci:out:x\ncreated: 0\nfiles:\n  - {src: ./bin, dest: /usr/bin/}\n' >sl/fixed.yaml
DESC="symlink in the base: dest /usr/bin/ instead" run_expect 0 '' ims build sl/fixed.yaml --output "oci:$W/sl-fixed:x" --progress quiet
check_nomatch "... no warning" 'warning' "$RUN_STDERR"
check "... umoci unpack" unpack "$W/sl-fixed:x" "$TMP/sl-fixed-bundle"
check "... the link stays, and /bin shows old and new files" test -L "$TMP/sl-fixed-bundle/rootfs/bin" -a -f "$TMP/sl-fixed-bundle/rootfs/usr/bin/old" -a -f "$TMP/sl-fixed-bundle/rootfs/usr/bin/tool"

# --- format and compression -----------------------------------------------------
mkdir -p fmt
cat >fmt/image.yaml <<'EOF'
base: scratch
target: oci:out:x
created: 0
format: docker
files:
  - {dest: /f, content: "f\n"}
cmd: [/f]
EOF
DESC="format: docker: build" run_expect 0 '' ims build fmt/image.yaml --output "oci:$W/docker-out:x" --progress quiet
# skopeo 1.9 (Debian 12) reads only OCI media types from an oci: layout, so
# read this manifest from the layout by hand, and check a docker-archive
# build with skopeo.
MD=$(jq -r '.manifests[0].digest | ltrimstr("sha256:")' "$W/docker-out/index.json")
MAN=$(cat "$W/docker-out/blobs/sha256/$MD")
check_eq "format: docker: index.json's descriptor has the Docker type" "application/vnd.docker.distribution.manifest.v2+json" \
	"$(jq -r '.manifests[0].mediaType' "$W/docker-out/index.json")"
check_eq "format: docker: Docker schema 2 manifest" "application/vnd.docker.distribution.manifest.v2+json" "$(jq -r .mediaType <<<"$MAN")"
check_eq "format: docker: Docker config and layer types only" \
	"application/vnd.docker.container.image.v1+json application/vnd.docker.image.rootfs.diff.tar.gzip" \
	"$(jq -r '[.config.mediaType, .layers[].mediaType] | join(" ")' <<<"$MAN")"
DESC="format: docker: build to a docker-archive" \
	run_expect 0 '' ims build fmt/image.yaml --output "docker-archive:$TMP/fmt.tar:f:x" --progress quiet
check_eq "format: docker: skopeo reads the docker-archive's Cmd" '["/f"]' \
	"$(skopeo inspect --config "docker-archive:$TMP/fmt.tar" | jq -c .config.Cmd)"

# --- format: inherit from a Docker-typed base into OCI layouts ------------------
# skopeo 1.9 and umoci 0.4.7 cannot read Docker media types from an OCI
# layout, so inherit gives OCI types there (as buildah does); the layer
# blobs stay the same. fmt.tar (above) is a Docker-typed base.
cat >fmt/inherit.yaml <<EOF
base: docker-archive:$TMP/fmt.tar
target: oci:out:x
created: 0
files:
  - {dest: /g, content: "g\n"}
EOF
DESC="inherit from a Docker base into oci:: build" \
	run_expect 0 '' ims build fmt/inherit.yaml --output "oci:$W/inherit-out:x" --progress plain
check_match "... says that it writes OCI types" 'the base has Docker media types; `format: inherit` writes OCI ones into an OCI layout' "$RUN_STDERR"
check_eq "... skopeo reads OCI manifest, config and layer types" \
	"application/vnd.oci.image.config.v1+json application/vnd.oci.image.layer application/vnd.oci.image.manifest.v1+json" \
	"$(skopeo inspect --raw "oci:$W/inherit-out:x" | jq -r '[.mediaType, .config.mediaType, (.layers[].mediaType | sub("\\.v1\\.tar.*"; ""))] | unique | join(" ")')"
check_eq "... the base's layer blob is the same" \
	"$(skopeo inspect --raw "docker-archive:$TMP/fmt.tar" | jq -r '.layers[0].digest')" \
	"$(skopeo inspect --raw "oci:$W/inherit-out:x" | jq -r '.layers[0].digest')"
check "... umoci unpacks it" unpack "$W/inherit-out:x" "$TMP/inherit-bundle"
check "... with the base's file and the new one" test -f "$TMP/inherit-bundle/rootfs/f" -a -f "$TMP/inherit-bundle/rootfs/g"
DESC="inherit from a Docker base into oci-archive:: build" \
	run_expect 0 '' ims build fmt/inherit.yaml --output "oci-archive:$TMP/inherit.tar:x" --progress quiet
check_eq "... skopeo reads the oci-archive's OCI manifest" "application/vnd.oci.image.manifest.v1+json" \
	"$(skopeo inspect --raw "oci-archive:$TMP/inherit.tar:x" | jq -r .mediaType)"
check_eq "... and its Cmd, from the base" '["/f"]' "$(skopeo inspect --config "oci-archive:$TMP/inherit.tar:x" | jq -c .config.Cmd)"
DESC="inherit from a Docker base into docker-archive:: build" \
	run_expect 0 '' ims build fmt/inherit.yaml --output "docker-archive:$TMP/inherit-d.tar:i:x" --progress plain
check_nomatch "... no conversion said" 'writes OCI ones' "$RUN_STDERR"
check_eq "... Docker types kept" "application/vnd.docker.distribution.manifest.v2+json" \
	"$(skopeo inspect --raw "docker-archive:$TMP/inherit-d.tar" | jq -r .mediaType)"

for alg in zstd none; do
	sed "s/^format: docker/compression: {algorithm: $alg}/" fmt/image.yaml >"fmt/$alg.yaml"
	DESC="compression $alg: build" run_expect 0 '' ims build "fmt/$alg.yaml" --output "oci:$W/$alg-out:x" --progress quiet
	MT=$(skopeo inspect --raw "oci:$W/$alg-out:x" | jq -r '.layers[0].mediaType')
	if [ $alg = zstd ]; then
		check_eq "compression zstd: layer media type" "application/vnd.oci.image.layer.v1.tar+zstd" "$MT"
	else
		check_eq "compression none: layer media type" "application/vnd.oci.image.layer.v1.tar" "$MT"
	fi
	check_match "compression $alg: the layer reads back" '^f f 644 0:0$' "$(layer_list "$W/$alg-out" x)"
	check_eq "compression $alg: diff_id = sha256 of the tar" \
		"$(skopeo inspect --config "oci:$W/$alg-out:x" | jq -r '.rootfs.diff_ids[0]')" \
		"sha256:$(skopeo inspect --raw "oci:$W/$alg-out:x" | jq -r '.layers[0].digest | ltrimstr("sha256:")' |
			{ read -r d; if [ $alg = zstd ]; then zstd -dc "$W/$alg-out/blobs/sha256/$d"; else cat "$W/$alg-out/blobs/sha256/$d"; fi; } |
			sha256sum | cut -d' ' -f1)"
done
check "compression none: umoci unpacks it" unpack "$W/none-out:x" "$TMP/none-bundle"

done_testing
