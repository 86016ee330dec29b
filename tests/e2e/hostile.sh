#!/usr/bin/env bash
# Hostile and broken inputs: each must fail with the contract's exit code
# (2: the spec itself; 1: the source tree or an archive) and a message that
# says where (FILE:LINE:COL for spec problems) or what (the entry's name),
# and must write nothing: a new output dir is not created, and an existing
# layout's index.json stays byte-identical.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need python3 jq cmp mkfifo

# An existing, valid layout that every failing build also targets.
EXIST=$TMP/existing
mkdir -p "$TMP/good"
cat >"$TMP/good/image.yaml" <<'EOF'
base: scratch
target: oci:out:x
created: 0
files:
  - {dest: /ok, content: "ok\n"}
EOF
ims build "$TMP/good/image.yaml" --output "oci:$EXIST:keep" --progress quiet >/dev/null 2>&1 ||
	bail "cannot build the reference layout"
cp "$EXIST/index.json" "$TMP/index.json.orig"
BLOBS_BEFORE=$(ls "$EXIST/blobs/sha256" | sort)

n=0
# case NAME EXIT ERE: writes nothing itself; builds $C/image.yaml (made by
# the caller in the dir $C) twice: into a new dir, then into the existing
# layout, asserting EXIT and ERE both times and that nothing was written.
hostile() {
	local name=$1 want=$2 re=$3
	DESC="$name: exit $want, message /$re/" \
		run_expect "$want" "$re" ims build "$C/image.yaml" --output "oci:$C/new-out:x" --progress quiet
	check "$name: no output dir created" test ! -e "$C/new-out"
	local before after
	DESC="$name: (into an existing layout) exit $want" \
		run_expect "$want" '' ims build "$C/image.yaml" --output "oci:$EXIST:x" --progress quiet
	check "$name: the existing layout's index.json is byte-identical" cmp "$TMP/index.json.orig" "$EXIST/index.json"
	after=$(ls "$EXIST/blobs/sha256" | sort)
	if [ "$after" != "$BLOBS_BEFORE" ]; then
		diag "note: $name left blobs in the existing layout: $(comm -13 <(echo "$BLOBS_BEFORE") <(echo "$after") | tr '\n' ' ')"
	fi
}

# newcase: a fresh directory in $C.
newcase() {
	n=$((n + 1))
	C=$TMP/case$n
	mkdir -p "$C"
}

# --- spec problems: exit 2, FILE:LINE:COL -----------------------------------
newcase
printf 'base: scratch\ntarget: oci:out:x\nfiles: [\n  {dest: /a, content: "a"\n' >"$C/image.yaml"
hostile "bad YAML" 2 'image\.yaml:[0-9]+:[0-9]+: '

newcase
printf 'base: scratch\ntarget: oci:out:x\nfiles:\n  - {dest: /a, content: "a"}\nCmd: [/a]\n' >"$C/image.yaml"
hostile "unknown key Cmd" 2 'image\.yaml:5:1: .*did you mean .*cmd'

newcase
printf 'base: scratch\ntarget: oci:out:x\nworkingDirectory: /app\nfiles:\n  - {dest: /a, content: "a"}\n' >"$C/image.yaml"
hostile "unknown key workingDirectory" 2 'image\.yaml:3:1: .*did you mean .*workingDir'

newcase
printf 'base: scratch\ntarget: oci:out:x\nfiles:\n  - {dest: /a, content: "a", modes: "0644"}\n' >"$C/image.yaml"
hostile "unknown key in a file mapping" 2 'image\.yaml:4:[0-9]+: .*modes'

newcase
printf 'base: scratch\ntarget: oci:out:x\nlabels: &l {a: b}\nannotations: *l\nfiles:\n  - {dest: /a, content: "a"}\n' >"$C/image.yaml"
hostile "YAML anchor/alias" 2 'image\.yaml:[34]:[0-9]+: .*(anchor|alias)'

newcase
printf 'base: scratch\ntarget: oci:out:x\nfiles:\n  - src: ./a.txt\n    dest: app/a.txt\n' >"$C/image.yaml"
echo a >"$C/a.txt"
hostile "relative dest" 2 'image\.yaml:5:[0-9]+: .*(absolute|dest)'

newcase
mkdir -p "$C/spec"
echo secret >"$C/outside.txt"
printf 'base: scratch\ntarget: oci:out:x\nfiles:\n  - src: ../outside.txt\n    dest: /a.txt\n' >"$C/spec/image.yaml"
DESC="src ../ escaping the spec dir: exit 2 with FILE:LINE:COL" \
	run_expect 2 'image\.yaml:4:[0-9]+: ' ims build "$C/spec/image.yaml" --output "oci:$C/new-out:x" --progress quiet
check "src ../: no output dir created" test ! -e "$C/new-out"

newcase
printf 'base: scratch\ntarget: oci:out:x\nremoveLayers: ["sha256:xyz"]\nfiles:\n  - {dest: /a, content: "a"}\n' >"$C/image.yaml"
hostile "bad digest in removeLayers" 2 'image\.yaml:3:[0-9]+: '

newcase
cat >"$C/image.yaml" <<'EOF'
base: scratch
target: oci:out:x
layers:
  - blob:
      digest: sha256:1234
      diffId: sha256:0000000000000000000000000000000000000000000000000000000000000000
      size: 10
EOF
hostile "bad digest in a blob layer" 2 'image\.yaml:5:[0-9]+: '

newcase
printf 'base: scratch\ntarget: oci:out:x\nlabels:\n  v: "${version}"\nfiles:\n  - {dest: /a, content: "a"}\n' >"$C/image.yaml"
hostile "undefined \${version}" 2 'image\.yaml:4:[0-9]+: .*version'

newcase
printf 'base: scratch\ntarget: oci:out:x\nlabels:\n  v: "${host:IMAGESPEC_SURELY_UNSET}"\nfiles:\n  - {dest: /a, content: "a"}\n' >"$C/image.yaml"
hostile "unset \${host:NAME}" 2 'image\.yaml:4:[0-9]+: .*IMAGESPEC_SURELY_UNSET'

newcase
printf 'base: scratch\ntarget: oci:out:x\nlabels:\n  v: "${version:?set it with -p}"\nfiles:\n  - {dest: /a, content: "a"}\n' >"$C/image.yaml"
hostile "\${NAME:?message}" 2 'image\.yaml:4:[0-9]+: .*set it with -p'

newcase
printf 'base: scratch\ntarget: oci:out:x\nfiles:\n  - dest: /a\n    content: "a"\n    mode: 644\n' >"$C/image.yaml"
hostile "mode as a bare integer" 2 'image\.yaml:6:[0-9]+: .*mode'

newcase
printf 'base: scratch\ntarget: oci:out:x\nfiles:\n  - dest: /a\n    content: "a"\n    mode: 0644\n' >"$C/image.yaml"
hostile "mode as an unquoted 0644" 2 'image\.yaml:6:[0-9]+: .*mode'

newcase
printf 'apiVersion: imagespec/v2\nbase: scratch\ntarget: oci:out:x\nfiles:\n  - {dest: /a, content: "a"}\n' >"$C/image.yaml"
hostile "apiVersion imagespec/v2" 2 'image\.yaml:1:[0-9]+: '

newcase
printf 'base: scratch\ntarget: oci:out:x\nfiles:\n  - {dest: /a, content: "a"}\ncmd: [x]\ncmd: [y]\n' >"$C/image.yaml"
hostile "duplicate key" 2 'image\.yaml:6:1: .*cmd'

newcase
printf 'base: scratch\ntarget: oci:out:x\nworkingDirectory: /app\nfiles:\n  - src: ./a\n    dest: relative\n' >"$C/image.yaml"
DESC="validate reports several errors at once (exit 2)" \
	run_expect 2 '' ims validate "$C/image.yaml"
check_match "validate: the unknown key, at 3:1" 'image\.yaml:3:1: ' "$RUN_STDERR"
check_match "validate: the relative dest, at line 6" 'image\.yaml:6:[0-9]+: ' "$RUN_STDERR"
check "validate: at least two FILE:LINE:COL lines" \
	test "$(grep -Ec 'image\.yaml:[0-9]+:[0-9]+: ' "$RUN_ERR")" -ge 2

newcase
python3 -c "print('base: scratch\ntarget: oci:out:x\nlabels: {a: ' + '[' * 100000 + ']' * 100000 + '}')" >"$C/image.yaml"
hostile "nesting 100,000 levels deep" 2 'image\.yaml:3:[0-9]+: .*(nest|deep|depth)'

newcase
python3 -c "print('base: scratch\ntarget: oci:out:x\nlabels: {a: \"' + 'x' * (8 * 1024 * 1024) + '\"}')" >"$C/image.yaml"
hostile "an 8 MiB spec" 2 'image\.yaml'

newcase
: >"$C/image.yaml"
hostile "an empty spec" 2 'image\.yaml'

newcase
printf '{"base": "scratch", "target": \n' >"$C/image.yaml"
hostile "truncated JSON" 2 'image\.yaml:[0-9]+:[0-9]+: '

newcase
mkdir -p "$C/dir.yaml"
DESC="a directory as the spec: exit 2" run_expect 2 'dir\.yaml' ims validate "$C/dir.yaml"

# --- source-tree problems: exit 1, naming the file ---------------------------
newcase
mkdir -p "$C/src/sub"
echo x >"$C/src/sub/fine.txt"
ln -s /etc/hostname "$C/src/sub/evil-link"
printf 'base: scratch\ntarget: oci:out:x\nfiles:\n  - src: ./src\n    dest: /app/\n    symlinks: follow\n' >"$C/image.yaml"
hostile "symlink leaving src with symlinks: follow" 1 'evil-link'

newcase
mkdir -p "$C/src"
echo x >"$C/src/outside.txt"
mkdir -p "$C/src/tree"
ln -s ../outside.txt "$C/src/tree/up-link"
printf 'base: scratch\ntarget: oci:out:x\nfiles:\n  - src: ./src/tree\n    dest: /app/\n    symlinks: follow\n' >"$C/image.yaml"
hostile "relative symlink leaving src with follow" 1 'up-link'

newcase
mkdir -p "$C/src"
ln -s loop-link "$C/src/loop-link"
printf 'base: scratch\ntarget: oci:out:x\nfiles:\n  - src: ./src\n    dest: /app/\n    symlinks: follow\n' >"$C/image.yaml"
hostile "a symlink loop with follow" 1 'loop-link'

# A base whose index names another index (catalogue item 35): an OCI
# layout made by hand, its ref pointing at an index of an index of an image.
newcase
printf 'base: scratch\ntarget: oci:nest:x\nfiles: [{dest: /a, content: "a"}]\n' >"$C/inner.yaml"
DESC="nested index: the image at its bottom" run_expect 0 '' ims build "$C/inner.yaml" --progress quiet
# add_blob FILE: the file as a blob of the layout; prints "DIGEST SIZE".
add_blob() {
	local d
	d=sha256:$(sha256sum <"$1" | cut -d' ' -f1)
	cp "$1" "$C/nest/blobs/sha256/${d#sha256:}"
	echo "$d $(stat -c %s "$1")"
}
jq -c '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
	manifests: [.manifests[0] | del(.annotations) | .platform = {os: "linux", architecture: "amd64"}]}' \
	"$C/nest/index.json" >"$C/inner.json"
read -r D S < <(add_blob "$C/inner.json")
jq -cn --arg d "$D" --argjson s "$S" '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
	manifests: [{mediaType: "application/vnd.oci.image.index.v1+json", digest: $d, size: $s,
		platform: {os: "linux", architecture: "amd64"}}]}' >"$C/outer.json"
read -r D S < <(add_blob "$C/outer.json")
jq --arg d "$D" --argjson s "$S" '.manifests = [{mediaType: "application/vnd.oci.image.index.v1+json",
	digest: $d, size: $s, annotations: {"org.opencontainers.image.ref.name": "nested"}}]' \
	"$C/nest/index.json" >"$C/index.json" && mv "$C/index.json" "$C/nest/index.json"
printf 'base: oci:nest:nested\ntarget: oci:out:x\nplatforms: [linux/amd64]\nfiles: [{dest: /b, content: "b"}]\n' >"$C/image.yaml"
hostile "a base index that names an index" 1 'nested index is not supported as a base'

newcase
mkdir -p "$C/src"
echo x >"$C/src/a.txt"
mkfifo "$C/src/my-fifo"
printf 'base: scratch\ntarget: oci:out:x\nfiles:\n  - src: ./src\n    dest: /app/\n' >"$C/image.yaml"
hostile "a FIFO in the source tree" 1 'my-fifo'
printf '    exclude: [my-fifo]\n' >>"$C/image.yaml"
DESC="the FIFO excluded: the build goes on" \
	run_expect 0 '' ims build "$C/image.yaml" --output "oci:$C/ok-out:x" --progress quiet

newcase
mkdir -p "$C/src"
echo x >"$C/src/.wh.foo"
printf 'base: scratch\ntarget: oci:out:x\nfiles:\n  - src: ./src\n    dest: /app/\n' >"$C/image.yaml"
hostile "a .wh.foo source file" 1 '\.wh\.foo'

# --- archive layers: exit 1, naming the entry -------------------------------
# mktar FILE KIND: a tar.gz with one hostile entry, made with python3's tarfile.
mktar() {
	python3 - "$1" "$2" <<'EOF'
import io, sys, tarfile
path, kind = sys.argv[1], sys.argv[2]
with tarfile.open(path, "w:gz", format=tarfile.GNU_FORMAT) as t:
    def add(name, data=b"x\n", **kw):
        ti = tarfile.TarInfo(name)
        for k, v in kw.items():
            setattr(ti, k, v)
        if ti.type == tarfile.REGTYPE:
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
        else:
            t.addfile(ti)
    add("good.txt")
    if kind == "dotdot":
        add("../evil")
    elif kind == "dotdot-deep":
        add("a/../../evil-deep")
    elif kind == "absolute":
        add("/etc/evil-abs")
    elif kind == "symlink-out":
        add("escape-link", type=tarfile.SYMTYPE, linkname="../../../../etc/shadow")
    elif kind == "hardlink-out":
        add("escape-hard", type=tarfile.LNKTYPE, linkname="../outside")
    elif kind == "device":
        add("evil-dev", type=tarfile.CHRTYPE, devmajor=1, devminor=3)
EOF
}

for kind in dotdot:'\.\./evil' dotdot-deep:'evil-deep' absolute:'/?etc/evil-abs' \
	symlink-out:'escape-link' hardlink-out:'escape-hard' device:'evil-dev'; do
	k=${kind%%:*}
	re=${kind#*:}
	newcase
	mktar "$C/bad.tar.gz" "$k"
	printf 'base: scratch\ntarget: oci:out:x\nlayers:\n  - archive: ./bad.tar.gz\n    dest: /opt\n' >"$C/image.yaml"
	hostile "archive entry ($k)" 1 "$re"
done

newcase
cp "$SRCDIR/examples/tarball/tool.tar.gz" "$C/tool.tar.gz"
cat >"$C/image.yaml" <<'EOF'
base: scratch
target: oci:out:x
layers:
  - archive: ./tool.tar.gz
    sha256: 0000000000000000000000000000000000000000000000000000000000000000
    dest: /opt
EOF
hostile "archive sha256 mismatch" 1 '(sha256|digest|checksum|mismatch)'

# --- catalogue item 36: more than 127 layers ----------------------------------
newcase
{
	printf 'base: scratch\ntarget: oci:out:x\ncreated: 0\nlayers:\n'
	for i in $(seq 1 128); do printf '  - files: [{dest: /f%d, content: "%d"}]\n' "$i" "$i"; done
} >"$C/image.yaml"
hostile "128 layers" 2 'the image would have 128 layers; runtimes refuse more than 127 \(use removeLayers or fewer layers\)'

# --- catalogue item 28: a file the build may not read (EACCES) -----------------
# Root reads everything, so the build runs as nobody (setpriv) over a tree
# where one file is mode 0000; everything else is world-readable.
if command -v setpriv >/dev/null; then
	U=$(mktemp -d /tmp/ims-eacces.XXXXXX) || bail "mktemp"
	chmod 0755 "$U"
	mkdir -p "$U/src/sub"
	echo ok >"$U/src/a.txt"
	echo secret >"$U/src/sub/locked.txt"
	chmod 0000 "$U/src/sub/locked.txt"
	printf 'base: scratch\ntarget: oci:out:x\nfiles:\n  - src: ./src\n    dest: /app/\n' >"$U/image.yaml"
	chmod -R a+rX "$U/image.yaml" "$U/src/a.txt" "$U/src/sub"
	chmod 0000 "$U/src/sub/locked.txt"
	mkdir -m 0777 "$U/outs"
	DESC="an unreadable file in the source tree (EACCES, as nobody): exit 1, naming it and the error" \
		run_expect 1 'sub/locked\.txt.*[Pp]ermission denied' \
		setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/nonexistent TMPDIR="$U/outs" \
		"${_IMS_REAL:-$IMAGESPEC}" build "$U/image.yaml" --output "oci:$U/outs/new-out:x" --no-cache --progress quiet
	check "... no output dir created" test ! -e "$U/outs/new-out"
	check_eq "... and no temp file left" "" "$(ls -A "$U/outs")"
	chmod 0600 "$U/src/sub/locked.txt"
	rm -rf "$U"
else
	skip "an unreadable file in the source tree" "setpriv is missing: the EACCES case needs a user other than root"
fi

# --- catalogue items 16 and 17: secret warnings ----------------------------------
newcase
cat >"$C/image.yaml" <<'EOS'
base: scratch
target: oci:out:x
created: 0
files:
  - {dest: /ok, content: "ok\n"}
env:
  API_TOKEN: tok-canary-123
  GPG_KEY_ID: 0xABCD   # imagespec: not-secret
auth:
  127.0.0.1:1: {username: u, password: pw-canary-456}
EOS
chmod 0644 "$C/image.yaml"
DESC="a secret-looking env name and a literal auth secret in a 0644 spec: exit 0, with warnings" \
	run_expect 0 'image\.yaml:7:3: env `API_TOKEN` looks like a secret, and its value is stored in the image config' \
	ims build "$C/image.yaml" --output "oci:$C/out:x" --progress quiet
check_match "... the 0644 spec holding a literal secret is named, with the fix" \
	'image\.yaml: holds a literal secret and may be read or written by others \(mode 0644\); `chmod go-rwx ' "$RUN_STDERR"
check_nomatch "... GPG_KEY_ID, marked not-secret, draws nothing" 'GPG_KEY_ID' "$RUN_STDERR"
check_nomatch "... no secret value is quoted" 'canary' "$RUN_STDERR"
check "... umoci unpacks the image" unpack "$C/out:x" "$C/bundle"
check_match "... the value is indeed in the config (what the warning is about)" 'API_TOKEN=tok-canary-123' \
	"$(cat "$C/bundle/config.json")"
chmod 0600 "$C/image.yaml"
DESC="the same spec, mode 0600: no warning about the file's mode" \
	run_expect 0 'env `API_TOKEN` looks like a secret' ims build "$C/image.yaml" --output "oci:$C/out2:x" --progress quiet
check_nomatch "... only the env and literal-secret warnings" 'read or written by others' "$RUN_STDERR"

# --- registries: only loopback, never the internet --------------------------
# A registry nobody listens on: a claimed port (free_port) that no server binds.
DEAD_PORT=$(free_port) || bail "no free port"
newcase
printf 'base: 127.0.0.1:%s/base/busybox:1\ntarget: oci:out:x\nfiles:\n  - {dest: /a, content: "a"}\n' "$DEAD_PORT" >"$C/image.yaml"
DESC="registry base that is down: exit 1, says it cannot connect" \
	run_expect 1 'connect' ims build "$C/image.yaml" --output "oci:$C/new-out:x" --progress quiet
check "registry base that is down: no output dir created" test ! -e "$C/new-out"

# --- the command line: exit 2 ------------------------------------------------
DESC="unknown CLI flag: exit 2, names it" \
	run_expect 2 'bogus' ims build --bogus "$TMP/good/image.yaml"
DESC="unknown command: exit 2" \
	run_expect 2 'frobnicate' ims frobnicate
DESC="missing spec file: exit 2, names it" \
	run_expect 2 'no/such/image\.yaml' ims build "$TMP/no/such/image.yaml" --output "oci:$TMP/nope:x"
check "missing spec file: no output dir created" test ! -e "$TMP/nope"
DESC="-p without =: exit 2" \
	run_expect 2 '' ims build "$TMP/good/image.yaml" -p novalue --output "oci:$TMP/nope:x"
DESC="--output with an unknown transport: exit 2" \
	run_expect 2 'ftp' ims build "$TMP/good/image.yaml" --output "ftp://example.com/x"
DESC="--platform nonsense: exit 2" \
	run_expect 2 '' ims build "$TMP/good/image.yaml" --platform "not a platform" --output "oci:$TMP/nope:x"
check "bad flags: no output dir created" test ! -e "$TMP/nope"

check "the existing layout's blobs are all still there" test "$(ls "$EXIST/blobs/sha256" | sort | comm -23 <(echo "$BLOBS_BEFORE") - | wc -l)" -eq 0

done_testing
