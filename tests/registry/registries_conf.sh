#!/usr/bin/env bash
# registries.conf (containers-registries.conf(5)): two loopback registries,
# the base seeded only in the "mirror"; a build whose base names the
# primary pulls through the mirror and pushes to the primary only; a copy
# source goes through the mirror too; a mirror without the image falls back
# to the primary; blocked references are refused before any request;
# insecure = true accepts an untrusted TLS certificate as
# --insecure-registry does; a malformed file is exit 2 at FILE:LINE:COL;
# the default files ($HOME/.config/containers/registries.conf and its .d)
# and $CONTAINERS_REGISTRIES_CONF are read.
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/fixture.sh"
need_root
need skopeo umoci jq curl openssl sha256sum
[ -x /usr/bin/docker-registry ] || need /usr/bin/docker-registry

registry_start PRIM || bail "cannot start the primary registry"
registry_start MIR --host 127.0.0.2 || bail "cannot start the mirror registry"
seed_base "$MIR_ADDR" base/busybox:1 || bail "cannot seed the base in the mirror"
seed_base "$PRIM_ADDR" base/other:1 || bail "cannot seed base/other in the primary"
BASE_DIGEST=$(skopeo_raw_digest "$MIR_ADDR/base/busybox:1") || bail "skopeo cannot read the seeded base"
check "the primary does not have base/busybox:1 (skopeo)" \
	bash -c "! skopeo inspect --raw --tls-verify=false docker://$PRIM_ADDR/base/busybox:1 >/dev/null 2>&1"
diag "primary $PRIM_ADDR, mirror $MIR_ADDR, base $BASE_DIGEST"

W=$TMP/w
mkdir -p "$W"
# spec NAME BASE TARGET: a one-file build on BASE, pushed to TARGET.
spec() {
	printf '%s\n' "base: $2" "target: $3" 'created: "2026-01-01T00:00:00Z"' \
		'files: [{dest: /hello.txt, content: "hello through a mirror\n"}]' 'cmd: [/bin/cat, /hello.txt]' >"$W/$1.yaml"
	echo "$W/$1.yaml"
}
CONF=$W/registries.conf
cat >"$CONF" <<EOF
# the primary, with the mirror in front of it for pulls
[[registry]]
location = "$PRIM_ADDR"

[[registry.mirror]]
location = "$MIR_ADDR"
EOF

# --- without the configuration, the base is not found -------------------------
M=$(registry_log_mark PRIM)
DESC="no registries.conf: the base is not in the primary (exit 1)" \
	run_expect 1 'base/busybox' ims build "$(spec plain "$PRIM_ADDR/base/busybox:1" "$PRIM_ADDR/team/app:0")" --progress quiet
check_eq "... nothing was pushed to the primary" 0 "$(registry_requests PRIM "$M" '"(PUT|POST|PATCH) ')"

# --- the base comes through the mirror ------------------------------------------
MP=$(registry_log_mark PRIM)
MM=$(registry_log_mark MIR)
DESC="IMAGESPEC_REGISTRIES_CONF with a mirror: the base is pulled through it" \
	run_expect 0 "pulling \`$PRIM_ADDR/base/busybox:1\` from mirror \`$MIR_ADDR/base/busybox:1\`" \
	env IMAGESPEC_REGISTRIES_CONF="$CONF" "$IMAGESPEC" build "$(spec mirrored "$PRIM_ADDR/base/busybox:1" "$PRIM_ADDR/team/app:1")" \
	--json --progress plain
D=$(jq -r .digest "$RUN_OUT" 2>/dev/null)
check_digest "the printed digest is what skopeo reads from the primary" "$D" "$(skopeo_raw_digest "$PRIM_ADDR/team/app:1")"
check_eq "the image runs: skopeo copy, umoci unpack, chroot" "hello through a mirror" \
	"$(pull_and_run "$PRIM_ADDR/team/app:1")"
MANIFEST=$(skopeo inspect --raw --tls-verify=false "docker://$PRIM_ADDR/team/app:1")
check_eq "the output's first layers are the mirror's base layers" \
	"$(skopeo inspect --raw --tls-verify=false "docker://$MIR_ADDR/base/busybox:1" | jq -r '.layers[].digest')" \
	"$(jq -r '.layers[:-1][].digest' <<<"$MANIFEST")"
check_eq "mirror log: imagespec read the base manifest there" 1 \
	"$(registry_requests MIR "$MM" '"GET /v2/base/busybox/manifests/1 [^"]*" 200 .*"imagespec/')"
check_eq "mirror log: nothing was pushed to the mirror" 0 "$(registry_requests MIR "$MM" '"(PUT|POST|PATCH|DELETE) ')"
check_eq "primary log: the base was never asked for there" 0 "$(registry_requests PRIM "$MP" '/v2/base/')"
check "primary log: the layers and the manifest were pushed there" \
	test "$(registry_requests PRIM "$MP" '"PUT /v2/team/app/manifests/')" -ge 1

# --- copy: the source goes through the mirror ---------------------------------
DESC="copy from the primary's name through the mirror into an oci layout" \
	run_expect 0 '' env IMAGESPEC_REGISTRIES_CONF="$CONF" "$IMAGESPEC" copy "$PRIM_ADDR/base/busybox:1" "oci:$TMP/copied:x"
check_digest "copy: the layout's manifest is the mirror's base" "$BASE_DIGEST" \
	"sha256:$(skopeo inspect --raw "oci:$TMP/copied:x" | sha256sum | cut -d' ' -f1)"
check "copy: umoci unpacks the copied image (busybox inside)" \
	bash -c "umoci unpack --image '$TMP/copied:x' '$TMP/copied-bundle' >/dev/null 2>&1 && test -x '$TMP/copied-bundle/rootfs/bin/busybox'"

# --- a mirror that lacks the image: the primary is tried next ------------------
MP=$(registry_log_mark PRIM)
DESC="the mirror lacks base/other:1: a warning, then the primary" \
	run_expect 0 "mirror \`$MIR_ADDR/base/other:1\` of \`$PRIM_ADDR/base/other:1\`: .*trying the next source" \
	env IMAGESPEC_REGISTRIES_CONF="$CONF" "$IMAGESPEC" build "$(spec fallback "$PRIM_ADDR/base/other:1" "$PRIM_ADDR/team/app:2")" --progress quiet
check_digest "fallback: skopeo reads the printed digest" "$(digest_of_output "$RUN_OUT")" "$(skopeo_raw_digest "$PRIM_ADDR/team/app:2")"
check_eq "fallback: the image runs" "hello through a mirror" "$(pull_and_run "$PRIM_ADDR/team/app:2")"
check_eq "fallback: the primary served imagespec the base manifest" 1 \
	"$(registry_requests PRIM "$MP" '"GET /v2/base/other/manifests/1 [^"]*" 200 .*"imagespec/')"

# --- a digest-only mirror is not used for a tag --------------------------------
sed 's/^location = "'"$MIR_ADDR"'"$/&\npull-from-mirror = "digest-only"/' "$CONF" >"$W/digest-only.conf"
DESC="pull-from-mirror = digest-only: a tag pull goes to the primary (which lacks it: exit 1)" \
	run_expect 1 'base/busybox' env IMAGESPEC_REGISTRIES_CONF="$W/digest-only.conf" "$IMAGESPEC" \
	build "$(spec dionly "$PRIM_ADDR/base/busybox:1" "$PRIM_ADDR/team/app:3")" --progress quiet
DESC="pull-from-mirror = digest-only: a digest pull uses the mirror" \
	run_expect 0 '' env IMAGESPEC_REGISTRIES_CONF="$W/digest-only.conf" "$IMAGESPEC" \
	build "$(spec didigest "$PRIM_ADDR/base/busybox@$BASE_DIGEST" "$PRIM_ADDR/team/app:4")" --progress quiet
check_eq "digest-only: the image runs" "hello through a mirror" "$(pull_and_run "$PRIM_ADDR/team/app:4")"

# --- blocked ---------------------------------------------------------------------
cat >"$W/blocked.conf" <<EOF
[[registry]]
prefix = "$PRIM_ADDR/team"
location = "$PRIM_ADDR/team"
blocked = true
EOF
MP=$(registry_log_mark PRIM)
MM=$(registry_log_mark MIR)
DESC="a blocked target: exit 1 naming the entry, before any request" \
	run_expect 1 "push \`$PRIM_ADDR/team/app:5\`: registries configuration blocks \`$PRIM_ADDR/team\` \\($W/blocked.conf:1:1\\)" \
	env IMAGESPEC_REGISTRIES_CONF="$W/blocked.conf" "$IMAGESPEC" build "$(spec blocked "$MIR_ADDR/base/busybox:1" "$PRIM_ADDR/team/app:5")" --progress quiet
check_match "... with a hint" 'remove `blocked = true` there' "$RUN_STDERR"
check_eq "... no request reached the primary" 0 "$(registry_requests PRIM "$MP" .)"
check_eq "... nor the base's registry" 0 "$(registry_requests MIR "$MM" .)"
check "... nothing was pushed (skopeo finds no team/app:5)" \
	bash -c "! skopeo inspect --raw --tls-verify=false docker://$PRIM_ADDR/team/app:5 >/dev/null 2>&1"
DESC="a blocked copy source: exit 1" \
	run_expect 1 "pull \`$PRIM_ADDR/team/app:1\`: registries configuration blocks" \
	env IMAGESPEC_REGISTRIES_CONF="$W/blocked.conf" "$IMAGESPEC" copy "$PRIM_ADDR/team/app:1" "oci:$TMP/blocked:x"
check "... and no layout was written" test ! -e "$TMP/blocked"
DESC="inspect of a blocked reference: exit 1" \
	run_expect 1 'registries configuration blocks' \
	env IMAGESPEC_REGISTRIES_CONF="$W/blocked.conf" "$IMAGESPEC" inspect "$PRIM_ADDR/team/app:1"

# --- short names keep docker.io --------------------------------------------------
# (docker.io is blocked here, so that nothing leaves the machine)
printf 'unqualified-search-registries = ["%s"]\n[[registry]]\nprefix = "docker.io"\nblocked = true\n' "$MIR_ADDR" >"$W/short.conf"
MM=$(registry_log_mark MIR)
DESC="a short-name base: a warning says it stays docker.io and names the search list" \
	run_expect 1 "\`busybox\` is a short name: it means \`docker.io/library/busybox:1\`.*\\($W/short.conf:1:33, first \`$MIR_ADDR\`\\)" \
	env IMAGESPEC_REGISTRIES_CONF="$W/short.conf" "$IMAGESPEC" build "$(spec short busybox:1 "$PRIM_ADDR/team/app:10")" --progress quiet
check_match "... and docker.io's block applies to it" \
	"pull \`docker.io/library/busybox:1\`: registries configuration blocks \`docker.io\`" "$RUN_STDERR"
check_eq "... the search registry was not asked" 0 "$(registry_requests MIR "$MM" .)"

# --- the default files: ~/.config/containers and its drop-ins -------------------
H=$TMP/home
mkdir -p "$H/.config/containers/registries.conf.d"
cp "$CONF" "$H/.config/containers/registries.conf"
cp "$W/blocked.conf" "$H/.config/containers/registries.conf.d/50-block.conf"
DESC="\$HOME/.config/containers/registries.conf.d/*.conf is read (its block applies)" \
	run_expect 1 "registries.conf.d/50-block.conf:1:1" \
	env -u IMAGESPEC_REGISTRIES_CONF HOME="$H" "$IMAGESPEC" build "$(spec home "$PRIM_ADDR/base/busybox:1" "$PRIM_ADDR/team/app:6")" --progress quiet
rm "$H/.config/containers/registries.conf.d/50-block.conf"
DESC="\$HOME/.config/containers/registries.conf is read (its mirror serves the base)" \
	run_expect 0 "from mirror" \
	env -u IMAGESPEC_REGISTRIES_CONF HOME="$H" "$IMAGESPEC" build "$(spec home2 "$PRIM_ADDR/base/busybox:1" "$PRIM_ADDR/team/app:7")" --progress plain
check_eq "home config: the image runs" "hello through a mirror" "$(pull_and_run "$PRIM_ADDR/team/app:7")"
DESC="\$CONTAINERS_REGISTRIES_CONF replaces the main file" \
	run_expect 1 "blocked.conf:1:1" \
	env -u IMAGESPEC_REGISTRIES_CONF HOME="$H" CONTAINERS_REGISTRIES_CONF="$W/blocked.conf" "$IMAGESPEC" \
	build "$(spec cenv "$MIR_ADDR/base/busybox:1" "$PRIM_ADDR/team/app:8")" --progress quiet

# --- malformed files ---------------------------------------------------------------
printf '[[registry]]\nlocation = "%s"\ninsecure = yes\n' "$PRIM_ADDR" >"$W/bad.conf"
MP=$(registry_log_mark PRIM)
DESC="a malformed registries.conf: exit 2 at FILE:LINE:COL" \
	run_expect 2 "$W/bad.conf:3:12: expected a value" \
	env IMAGESPEC_REGISTRIES_CONF="$W/bad.conf" "$IMAGESPEC" build "$(spec bad "$MIR_ADDR/base/busybox:1" "$PRIM_ADDR/team/app:9")" --progress quiet
check_eq "... no request reached the registry" 0 "$(registry_requests PRIM "$MP" .)"
printf '[[registry]]\nlocation = "https://%s"\n' "$PRIM_ADDR" >"$W/scheme.conf"
DESC="a location with a scheme: exit 2 at FILE:LINE:COL, with a hint" \
	run_expect 2 "$W/scheme.conf:2:12: \`location\` has a scheme" \
	env IMAGESPEC_REGISTRIES_CONF="$W/scheme.conf" "$IMAGESPEC" inspect "$PRIM_ADDR/team/app:1"
check_match "... the hint says what to write" 'write host\[:port\]' "$RUN_STDERR"
DESC="a missing IMAGESPEC_REGISTRIES_CONF: exit 2 naming it" \
	run_expect 2 "$W/missing.conf" \
	env IMAGESPEC_REGISTRIES_CONF="$W/missing.conf" "$IMAGESPEC" inspect "$PRIM_ADDR/team/app:1"
printf '[registries.block]\nregistries = ["%s"]\n' "$PRIM_ADDR" >"$W/v1.conf"
DESC="version 1 format: [registries.block] is read" \
	run_expect 1 "registries configuration blocks \`$PRIM_ADDR\`" \
	env IMAGESPEC_REGISTRIES_CONF="$W/v1.conf" "$IMAGESPEC" inspect "$PRIM_ADDR/team/app:1"

# --- insecure = true: an untrusted TLS certificate, as --insecure-registry --------
ca_make || bail "cannot make the test CA"
registry_start TLS --tls || bail "cannot start docker-registry with TLS"
CERTDIR=$(fixture_cert_dir)
seed_base "$TLS_ADDR" base/busybox:1 --dest-tls-verify=true --dest-cert-dir "$CERTDIR" ||
	bail "cannot seed the base over TLS"
TLS_ERR='[Cc]ertificate|[Vv]erif|TLS|SSL|[Ii]ssuer'
DESC="TLS registry without insecure: the untrusted certificate fails (exit 1)" \
	run_expect 1 "$TLS_ERR" ims build "$(spec tls0 "$TLS_ADDR/base/busybox:1" "$TLS_ADDR/team/app:1")" --progress quiet
printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' "$TLS_ADDR" >"$W/insecure.conf"
DESC="insecure = true accepts it, without --insecure-registry" \
	run_expect 0 '' env IMAGESPEC_REGISTRIES_CONF="$W/insecure.conf" "$IMAGESPEC" \
	build "$(spec tls1 "$TLS_ADDR/base/busybox:1" "$TLS_ADDR/team/app:1")" --progress quiet
check_digest "insecure: skopeo (verifying with the test CA) reads the printed digest" "$(digest_of_output "$RUN_OUT")" \
	"$(skopeo_raw_digest "$TLS_ADDR/team/app:1" --tls-verify=true --cert-dir "$CERTDIR")"
check_eq "insecure: the image runs" "hello through a mirror" \
	"$(pull_and_run "$TLS_ADDR/team/app:1" --src-tls-verify=true --src-cert-dir "$CERTDIR")"
printf '[[registry]]\nlocation = "127.0.0.1:1"\ninsecure = true\n' >"$W/insecure-other.conf"
DESC="insecure = true for another host changes nothing" \
	run_expect 1 "$TLS_ERR" env IMAGESPEC_REGISTRIES_CONF="$W/insecure-other.conf" "$IMAGESPEC" \
	build "$(spec tls2 "$TLS_ADDR/base/busybox:1" "$TLS_ADDR/team/app:2")" --progress quiet

done_testing
