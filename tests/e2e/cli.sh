#!/usr/bin/env bash
# The command line of SPEC-v1.md section 2: version, schema, validate, plan,
# inspect, copy, and build's -p, -t, --target, -, --json, --metadata-out.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need skopeo jq python3 sha256sum cmp cc

VERSION=$(sed -n "s/^[[:space:]]*version: '\([^']*\)'.*/\1/p;T;q" "$SRCDIR/meson.build")

# --- version, schema ---------------------------------------------------------
run_expect 0 '' ims version
check_match "version prints the project's version ($VERSION)" "(^|[^0-9.])${VERSION//./\\.}([^0-9.]|$)" "$RUN_STDOUT"

run_expect 0 '' ims schema
check "schema is JSON" python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$RUN_OUT"
check_eq "schema = schema/imagespec.schema.json" "$(jq -S . "$SRCDIR/schema/imagespec.schema.json")" "$(jq -S . "$RUN_OUT")"
cp "$RUN_OUT" "$TMP/schema.json"

# --- validate ----------------------------------------------------------------
# A copy of the examples without their binaries and without out/: validate
# is offline and checks the spec, not the sources or the base.
mkdir -p "$TMP/ex"
cp -r "$SRCDIR/examples" "$TMP/ex/examples"
rm -rf "$TMP/ex/examples/hello/app" "$TMP/ex/examples/busybox/rootfs"
DESC="validate examples/*/image.yaml: exit 0" \
	run_expect 0 '' ims validate "$TMP"/ex/examples/*/image.yaml
check "validate wrote nothing" test ! -e "$TMP/ex/out"

if "$PY" -c 'import jsonschema, yaml' 2>/dev/null; then
	check "the schema accepts every example (python3-jsonschema)" "$PY" - "$TMP/schema.json" "$TMP"/ex/examples/*/image.yaml <<'EOF'
import json, sys, yaml, jsonschema
schema = json.load(open(sys.argv[1]))
cls = jsonschema.validators.validator_for(schema)
for p in sys.argv[2:]:
    cls(schema).validate(yaml.safe_load(open(p)))
EOF
	check "the schema refuses an unknown key (Cmd)" "$PY" - "$TMP/schema.json" <<'EOF'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
cls = jsonschema.validators.validator_for(schema)
doc = {"base": "scratch", "target": "oci:out:x", "Cmd": ["/a"]}
assert not cls(schema).is_valid(doc), "accepted"
EOF
else
	skip "the schema accepts every example" "no python3 yaml/jsonschema"
fi

# --- a spec used below -------------------------------------------------------
S=$TMP/spec
mkdir -p "$S"
echo "data" >"$S/data.txt"
cat >"$S/image.yaml" <<'EOF'
base: scratch
target: oci:out:fromspec
created: "2026-01-01T00:00:00Z"
params: {version: dev}
files:
  - src: ./data.txt
    dest: /data.txt
  - dest: /version
    content: "${version}\n"
cmd: ["/bin/sh", "-c", "echo $HOME"]
labels:
  version: "${version}"
  literal: "$${version}"
  shell: "$HOME"
  fallback: "${nosuch:-fallback}"
  hostvar: "${host:E2E_HOST_VAR}"
EOF
export E2E_HOST_VAR=from-host

# --- plan --------------------------------------------------------------------
cd "$S" || bail "cd"
DESC="plan SPEC: exit 0" run_expect 0 '' ims plan "$S/image.yaml"
check_match "plan prints the layers" '[Ll]ayer' "$RUN_STDOUT"
DESC="plan --output: exit 0" run_expect 0 '' ims plan "$S/image.yaml" --output "oci:$TMP/plan-out:x"
check "plan wrote nothing (no spec target, no --output)" test ! -e "$S/out" -a ! -e "$TMP/plan-out"

# --- build: -p, substitution ---------------------------------------------------
L=$TMP/L
DESC="build with the params' defaults" \
	run_expect 0 '' ims build "$S/image.yaml" --output "oci:$L:latest" --progress quiet
D=$(digest_of_output "$RUN_OUT")
check_eq "--progress quiet: nothing on stderr" "" "$RUN_STDERR"
CFG=$(skopeo inspect --config "oci:$L:latest" 2>&1)
check_eq "params: default value in a label" dev "$(jq -r .config.Labels.version <<<"$CFG")"
check_eq '$$ is a literal $' '${version}' "$(jq -r .config.Labels.literal <<<"$CFG")"
check_eq 'a bare $NAME is left alone' '$HOME' "$(jq -r .config.Labels.shell <<<"$CFG")"
check_eq '${NAME:-default}' fallback "$(jq -r .config.Labels.fallback <<<"$CFG")"
check_eq '${host:NAME} reads the environment' from-host "$(jq -r .config.Labels.hostvar <<<"$CFG")"
check_eq 'cmd keeps its shell $HOME' '["/bin/sh","-c","echo $HOME"]' "$(jq -c .config.Cmd <<<"$CFG")"

DESC="build -p version=1.2.3" \
	run_expect 0 '' ims build "$S/image.yaml" -p version=1.2.3 --output "oci:$TMP/P:latest" --progress quiet
check_eq "-p NAME=VALUE wins over params:" 1.2.3 \
	"$(skopeo inspect --config "oci:$TMP/P:latest" | jq -r .config.Labels.version)"
L0=$(skopeo inspect --raw "oci:$TMP/P:latest" | jq -r '.layers[0].digest')
check_eq "-p substitutes in inline content too" 1.2.3 \
	"$(tar -xzOf "$TMP/P/blobs/sha256/${L0#sha256:}" version 2>&1)"

# --- inspect -----------------------------------------------------------------
DESC="inspect oci:DIR:TAG" run_expect 0 '' ims inspect "oci:$L:latest"
check "inspect prints something" test -s "$RUN_OUT"
DESC="inspect --config" run_expect 0 '' ims inspect "oci:$L:latest" --config
check_eq "inspect --config = skopeo's config" "$(skopeo inspect --config "oci:$L:latest" | jq -S .)" \
	"$(jq -S . "$RUN_OUT" 2>&1)"
DESC="inspect --manifest" run_expect 0 '' ims inspect "oci:$L:latest" --manifest
check_eq "inspect --manifest = skopeo's manifest" "$(skopeo inspect --raw "oci:$L:latest" | jq -S .)" \
	"$(jq -S . "$RUN_OUT" 2>&1)"
DESC="inspect --raw" run_expect 0 '' ims inspect "oci:$L:latest" --raw
check_eq "inspect --raw: the manifest's exact bytes (sha256 = digest)" "$D" "sha256:$(sha256sum <"$RUN_OUT" | cut -d' ' -f1)"
DESC="inspect of a missing layout: fails" \
	run_expect 1 '' ims inspect "oci:$TMP/no-such-layout:x"

# --- copy --------------------------------------------------------------------
DESC="copy oci:A:latest oci:B:y" run_expect 0 '' ims copy "oci:$L:latest" "oci:$TMP/B:y"
check_eq "skopeo reads the copy, same digest" "$D" "$(raw_digest "oci:$TMP/B:y")"
DESC="copy oci: -> oci-archive:" run_expect 0 '' ims copy "oci:$L:latest" "oci-archive:$TMP/B.tar:y"
check_eq "skopeo reads the oci-archive copy, same digest" "$D" "$(raw_digest "oci-archive:$TMP/B.tar:y")"
DESC="copy oci: -> docker-archive:" run_expect 0 '' ims copy "oci:$L:latest" "docker-archive:$TMP/B-docker.tar:b:y"
check_eq "skopeo reads the docker-archive copy (Labels kept)" dev \
	"$(skopeo inspect --config "docker-archive:$TMP/B-docker.tar" | jq -r .config.Labels.version)"

# --- -t, spec tags, --target ---------------------------------------------------
DESC="build -t extra -t another" \
	run_expect 0 '' ims build "$S/image.yaml" --output "oci:$TMP/T:main" -t extra -t another --progress quiet
check_eq "-t: every tag is a ref name in index.json" "another extra main" \
	"$(jq -r '[.manifests[].annotations["org.opencontainers.image.ref.name"]] | sort | join(" ")' "$TMP/T/index.json")"
check_eq "-t: all name the same manifest" "$D" "$(jq -r '[.manifests[].digest] | unique | join(" ")' "$TMP/T/index.json")"
check_eq "skopeo reads oci:T:extra" "$D" "$(raw_digest "oci:$TMP/T:extra")"

mkdir -p "$TMP/tags"
cp "$S/data.txt" "$TMP/tags/"
sed 's/^target: .*/target: oci:out:one\ntags: [two, "v${version}"]/' "$S/image.yaml" >"$TMP/tags/image.yaml"
DESC="build with tags: in the spec (no --output)" \
	run_expect 0 '' ims build "$TMP/tags/image.yaml" --progress quiet
check_eq "spec tags: ref names one, two, vdev in the target layout" "one two vdev" \
	"$(jq -r '[.manifests[].annotations["org.opencontainers.image.ref.name"]] | sort | join(" ")' "$TMP/tags/out/index.json" 2>&1)"

mkdir -p "$TMP/cwd"
cd "$TMP/cwd" || bail "cd"
DESC="--target oci:DIR:TAG replaces the spec's target" \
	run_expect 0 '' ims build "$S/image.yaml" --target "oci:$TMP/TT:one" --progress quiet
check_eq "--target: the layout has the tag" "$D" "$(raw_digest "oci:$TMP/TT:one")"
check "--target: the spec's target not written" test ! -e "$S/out"
DESC="--target with a relative path" \
	run_expect 0 '' ims build "$S/image.yaml" --target "oci:rel:two" --progress quiet
check "--target: relative to the working directory" test -f "$TMP/cwd/rel/index.json"
check "--target: not relative to the spec's directory" test ! -e "$S/rel"
DESC="--output with a relative path" \
	run_expect 0 '' ims build "$S/image.yaml" --output "oci:rel-out:x" --progress quiet
check "--output: relative to the working directory" test -f "$TMP/cwd/rel-out/index.json"

# --- SPEC defaults, -, JSON specs ---------------------------------------------
cd "$S" || bail "cd"
DESC="build with no SPEC reads ./image.yaml" \
	run_expect 0 '' ims build --output "oci:$TMP/default:x" --progress quiet
check_eq "no SPEC: same digest" "$D" "$(digest_of_output "$RUN_OUT")"
DESC="build - reads the spec from stdin" RUN_STDIN=$S/image.yaml \
	run_expect 0 '' ims build - --output "oci:$TMP/stdin:x" --progress quiet
check_eq "stdin spec: same digest" "$D" "$(digest_of_output "$RUN_OUT")"
check "stdin spec: nothing written in the cwd" test ! -e "$S/out"

if "$PY" -c 'import yaml' 2>/dev/null; then
	"$PY" -c 'import json,sys,yaml; json.dump(yaml.safe_load(open(sys.argv[1])), open(sys.argv[2], "w"), indent=1)' \
		"$S/image.yaml" "$S/image.json"
	DESC="a JSON spec with the same keys builds" \
		run_expect 0 '' ims build "$S/image.json" --output "oci:$TMP/json:x" --progress quiet
	check_eq "JSON spec: same digest as the YAML one" "$D" "$(digest_of_output "$RUN_OUT")"
else
	skip "a JSON spec with the same keys builds" "no python3 yaml"
fi

# --- --json and --metadata-out ----------------------------------------------------
DESC="build --json --metadata-out FILE" \
	run_expect 0 '' ims build "$S/image.yaml" --output "oci:$TMP/meta:x" --json --metadata-out "$TMP/meta.json" --progress quiet
check "--json prints one JSON object" jq -e 'type == "object"' "$RUN_OUT"
check_eq "--metadata-out FILE = the --json output" "$(jq -S . "$RUN_OUT" 2>&1)" "$(jq -S . "$TMP/meta.json" 2>&1)"
check_eq "--json digest" "$D" "$(jq -r .digest "$RUN_OUT")"
DESC="build --metadata-out without --json" \
	run_expect 0 '' ims build "$S/image.yaml" --output "oci:$TMP/meta2:x" --metadata-out "$TMP/meta2.json" --progress quiet
check_match "without --json, stdout is REF@sha256:" '@sha256:[0-9a-f]{64}$' "$RUN_STDOUT"
check_eq "--metadata-out alone: digest" "$D" "$(jq -r .digest "$TMP/meta2.json" 2>&1)"
# buildx's --metadata-file names, beside imagespec's own
DESC="build -t --metadata-out: buildx's keys" \
	run_expect 0 '' ims build "$S/image.yaml" --output "oci:$TMP/meta3:x" -t y --metadata-out "$TMP/meta3.json" --progress quiet
check_eq "containerimage.digest is the digest" "$D" "$(jq -r '.["containerimage.digest"]' "$TMP/meta3.json" 2>&1)"
check_eq "... skopeo reads it for the output" "$(raw_digest "oci:$TMP/meta3:x")" \
	"$(jq -r '.["containerimage.digest"]' "$TMP/meta3.json" 2>&1)"
check_eq "image.name: the names written, comma-joined as buildx joins them" "oci:$TMP/meta3:x,oci:$TMP/meta3:y" \
	"$(jq -r '.["image.name"]' "$TMP/meta3.json" 2>&1)"
check "containerimage.descriptor: mediaType, digest and size of the manifest" jq -e \
	--arg d "$D" '.["containerimage.descriptor"] | .digest == $d and .mediaType == "application/vnd.oci.image.manifest.v1+json" and .size > 0' \
	"$TMP/meta3.json"
check_eq "containerimage.descriptor.size is the manifest's size as skopeo reads it" \
	"$(skopeo inspect --raw "oci:$TMP/meta3:x" | wc -c)" "$(jq -r '.["containerimage.descriptor"].size' "$TMP/meta3.json" 2>&1)"
check_eq "containerimage.config.digest is configDigest" "$(jq -r .configDigest "$TMP/meta3.json")" \
	"$(jq -r '.["containerimage.config.digest"]' "$TMP/meta3.json" 2>&1)"
check_eq "... which is the config digest skopeo reads" "$(skopeo inspect --raw "oci:$TMP/meta3:x" | jq -r .config.digest)" \
	"$(jq -r '.["containerimage.config.digest"]' "$TMP/meta3.json" 2>&1)"

# --- help and did-you-mean (issue 10, SPEC v1.1) --------------------------------------
for v in build plan validate inspect copy tags schema cache; do
	run_expect 0 '' ims "$v" --help
	want=$RUN_STDOUT
	DESC="help $v: exit 0" run_expect 0 '' ims help "$v"
	check_eq "... the same text as \`$v --help\`" "$want" "$RUN_STDOUT"
done
# Every verb's help has an Examples section, and names every option its
# code parses: the options come from the verb's getopt table, read from the
# preprocessed source (so the shared CLI_TRANSPORT_LONGOPTS are expanded),
# and its short options from the getopt_long option string.
for v in build plan validate inspect copy tags schema cache auth version; do
	help=$(ims "$v" --help 2>&1)
	check_match "$v --help has an Examples section with a command" $'Examples:\n  (imagespec|printf|echo) ' "$help"
	src=$SRCDIR/src/cli/cmd_$v.c
	[ "$v" = plan ] && src=$SRCDIR/src/cli/cmd_build.c
	[ "$v" = auth ] && continue # auth login parses by hand; its flags are checked in auth_cli.sh
	cc -E -P -I "$SRCDIR/include" "$src" >"$TMP/opts.i" 2>"$TMP/opts.err" || bail "cannot preprocess $src: $(cat "$TMP/opts.err")"
	longs=$(grep -oE '\{ *"[a-z][a-z-]*", *[012],' "$TMP/opts.i" | sed -E 's/^\{ *"([^"]*)".*/--\1/')
	shorts=$(grep -oE 'getopt_long\(argc, argv, ("[^"]*" *)+' "$TMP/opts.i" | grep -oE '"[^"]*"' | tr -d '"\n:h' | fold -w1)
	missing=
	for o in $longs; do
		[ "$o" = --help ] && continue
		[[ $help == *"$o"[\ ,=\]$'\n']* ]] || missing+=" $o"
	done
	for o in $shorts; do
		[[ $help == *"-$o, --"* ]] || missing+=" -$o"
	done
	case $v in schema | version) ;; *) check_match "$v: the option table was found" '^--' "$longs" ;; esac
	check_eq "$v --help names every option its code parses" "" "$missing"
done

# --- a repeated single-value flag is a usage error (catalogue item 78) -------------
for args in "build --output oci:$TMP/r1:x --output oci:$TMP/r2:x $S/image.yaml|--output" \
	"build --target oci:$TMP/r1:x --target oci:$TMP/r2:x $S/image.yaml|--target" \
	"plan --progress quiet --progress plain $S/image.yaml|--progress" \
	"build --cache-dir $TMP/c1 --cache-dir $TMP/c2 --output oci:$TMP/r1:x $S/image.yaml|--cache-dir" \
	"build --ca-cert $TMP/a.pem --ca-cert $TMP/b.pem --output oci:$TMP/r1:x $S/image.yaml|--ca-cert" \
	"build -j 2 -j 3 --output oci:$TMP/r1:x $S/image.yaml|-j" \
	"build --metadata-out $TMP/m1.json --metadata-out $TMP/m2.json --output oci:$TMP/r1:x $S/image.yaml|--metadata-out" \
	"copy --platform linux/amd64 --platform linux/arm64 oci:$TMP/none:x oci:$TMP/r1:x|--platform" \
	"inspect --timeout 5s --timeout 10s oci:$TMP/none:x|--timeout" \
	"tags --ca-cert $TMP/a.pem --ca-cert $TMP/b.pem oci:$TMP/none|--ca-cert" \
	"cache --max-size 1G --max-size 2G prune|--max-size"; do
	flag=${args##*|}
	read -ra argv <<<"${args%|*}"
	DESC="${argv[0]}: $flag given twice: exit 2, names it" \
		run_expect 2 "^imagespec: ${argv[0]}: $flag given twice; it takes one value$" ims "${argv[@]}"
	check_match "... the hint says what to do" "^hint: keep the $flag you mean and drop the other" "$RUN_STDERR"
done
check "... nothing was written" test ! -e "$TMP/r1" -a ! -e "$TMP/r2" -a ! -e "$TMP/m1.json" -a ! -e "$TMP/m2.json" \
	-a ! -e "$TMP/c1" -a ! -e "$TMP/c2"
DESC="inspect --config --manifest: exit 2" \
	run_expect 2 '--manifest and --config exclude each other|--config and --manifest exclude each other' \
	ims inspect --config --manifest "oci:$TMP/none:x"
DESC="auth login -u twice: exit 2" run_expect 2 '-u/--username given twice' \
	ims auth login 127.0.0.1:1 -u a -u b --password-stdin
DESC="list flags still repeat: -t twice builds" \
	run_expect 0 '' ims build "$S/image.yaml" --output "oci:$TMP/rt:a" -t b -t c --progress quiet
check_eq "... skopeo reads tags b and c with the digest of a" "$(raw_digest "oci:$TMP/rt:a") $(raw_digest "oci:$TMP/rt:a")" \
	"$(raw_digest "oci:$TMP/rt:b") $(raw_digest "oci:$TMP/rt:c")"

check_match "schema --help shows the yaml-language-server modeline" 'yaml-language-server: \$schema=' \
	"$(ims schema --help 2>&1)"
DESC="a misspelt command: exit 2 with a did-you-mean" \
	run_expect 2 'unknown command `biuld`; did you mean `build`\?' ims biuld image.yaml
DESC="help for a misspelt command: exit 2 with a did-you-mean" \
	run_expect 2 'did you mean `inspect`\?' ims help inspekt
DESC="a misspelt option: exit 2 with a did-you-mean" \
	run_expect 2 'unknown option `--tga`; did you mean `--tag`\?' ims build --tga x "$TMP/none.yaml"
DESC="a misspelt option with a value: the name alone is matched" \
	run_expect 2 'did you mean `--platform`\?' ims copy --platfrom=linux/amd64 a b
printf 'base: scratch\ntarget: oci:out:1\ncreationTime: "2026-01-01T00:00:00Z"\n' >"$TMP/jib.yaml"
DESC="a jib key (creationTime): did you mean created" \
	run_expect 2 'unknown key `creationTime`.*did you mean `created`\?' ims validate "$TMP/jib.yaml"

# --- -p on validate, and unknown -p names ---------------------------------------------
printf 'base: scratch\ntarget: oci:out:${version}\nparams: {version: dev, channel: stable}\n' >"$TMP/params.yaml"
DESC="validate -p NAME=VALUE: a used parameter" run_expect 0 '' ims validate -p version=1.4.0 "$TMP/params.yaml"
DESC="validate -p: a declared but unused parameter is fine" \
	run_expect 0 '' ims validate -p channel=beta "$TMP/params.yaml"
DESC="validate -p: a name the spec neither declares nor uses: exit 2" \
	run_expect 2 'params\.yaml:1:1: `-p nope`: the spec has no parameter `nope`' ims validate -p nope=1 "$TMP/params.yaml"
DESC="... with a did-you-mean among the declared ones" \
	run_expect 2 '`-p verison`.*did you mean `version`\?' ims validate -p verison=2 "$TMP/params.yaml"
DESC="build refuses an unknown -p too (before anything is written)" \
	run_expect 2 '`-p nope`' ims build -p nope=1 "$TMP/params.yaml" --output "oci:$TMP/params-out:1"
check "... nothing written" test ! -e "$TMP/params-out"
DESC="validate -p without a value: exit 2" run_expect 2 'NAME=VALUE' ims validate -p version "$TMP/params.yaml"

done_testing
