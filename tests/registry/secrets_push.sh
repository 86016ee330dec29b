#!/usr/bin/env bash
# The worst finding of issue 9 (item 1), replayed against the real registry
# fixture: a spec with `src: ./` whose tree holds the DOCKER_CONFIG that
# authenticates the push. The push succeeds with those credentials, stderr
# warns about the file, and the pushed layer (pulled back by skopeo, every
# blob decompressed) holds neither the file nor the secret's bytes. Then a
# mapping that names the file packs it, as documented (docs/choices.md).
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/fixture.sh"
need skopeo jq htpasswd base64 gzip tar
[ -x /usr/bin/docker-registry ] || need /usr/bin/docker-registry

PASS="canary-S3cr3t-$RANDOM$RANDOM$RANDOM"
B64=$(printf 'alice:%s' "$PASS" | base64 -w0)
registry_start HT --htpasswd "alice:$PASS" || bail "cannot start the htpasswd registry"

S=$TMP/app
mkdir -p "$S/.docker" "$S/src"
printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$HT_ADDR" "$B64" >"$S/.docker/config.json"
echo 'print("hi")' >"$S/src/main.py"
cat >"$S/image.yaml" <<EOF
base: scratch
target: $HT_ADDR/team/app:1
created: 0
files:
  - src: ./
    dest: /app/
EOF

# pulled_bytes NAME: the image at team/app:NAME pulled into an oci layout,
# every layer's entry names ($TMP/NAME.list) and content ($TMP/NAME.bytes).
pulled_bytes() {
	local d=$TMP/pulled-$1 b
	rm -rf "$d"
	skopeo copy -q --src-tls-verify=false --src-creds "alice:$PASS" "docker://$HT_ADDR/team/app:$1" "oci:$d:x" \
		>"$TMP/.skopeo.err" 2>&1 || return 1
	: >"$TMP/$1.list"
	: >"$TMP/$1.bytes"
	for b in "$d"/blobs/sha256/*; do
		if gzip -t "$b" 2>/dev/null && gzip -dc "$b" | tar -t >/dev/null 2>&1; then
			gzip -dc "$b" | tar -t >>"$TMP/$1.list"
			gzip -dc "$b" | tar -xO >>"$TMP/$1.bytes"
		fi
		cat "$b" >>"$TMP/$1.bytes"
	done
}

DESC="push with DOCKER_CONFIG inside src: exit 0, warns naming the file and how to include it" \
	run_expect 0 '`\.docker/config\.json` holds registry credentials.*to pack it anyway.*`src: \.docker/config\.json`' \
	env DOCKER_CONFIG="$S/.docker" "$IMAGESPEC" build "$S/image.yaml" --progress quiet
check "push: the image can be pulled back" pulled_bytes 1
check_match "push: the pushed layer has the source" '^app/src/main\.py$' "$(cat "$TMP/1.list")"
check_nomatch "push: the pushed layer has no .docker/config.json" 'config\.json' "$(cat "$TMP/1.list")"
check "push: the secret (its Basic value) is in no pushed blob" test "$(grep -c -F -e "$B64" -e "$PASS" "$TMP/1.bytes")" -eq 0
check "push: the secret is not in stderr" test "$(grep -c -F -e "$B64" -e "$PASS" "$RUN_ERR")" -eq 0

cat >"$S/explicit.yaml" <<EOF
base: scratch
target: $HT_ADDR/team/app:2
created: 0
files:
  - src: ./src
    dest: /app/src/
  - src: ./.docker/config.json
    dest: /root/.docker/config.json
EOF
DESC="a mapping naming the credentials file packs it, with a warning" \
	run_expect 0 'explicit\.yaml:[0-9]+:[0-9]+: `\.docker/config\.json` holds registry credentials.*goes into the image' \
	env DOCKER_CONFIG="$S/.docker" "$IMAGESPEC" build "$S/explicit.yaml" --progress quiet
check "explicit: the image can be pulled back" pulled_bytes 2
check_match "explicit: the file is in the layer" '^root/\.docker/config\.json$' "$(cat "$TMP/2.list")"

done_testing
