#!/usr/bin/env bash
# `imagespec report`, checked with tools that are not imagespec:
#
#  - an image of three layers (a named layer, the files: layer with file
#    names that are HTML — `<script>alert(1)</script>`, `&amp;`, an <img>
#    whose onerror would add a <pwned> element — and a delete/opaque layer)
#    is built into an oci: layout; `report --html` is loaded in headless
#    Chromium (--dump-dom and --screenshot). From the DOM Chromium made
#    (report_dom.py, Python's html.parser): layer count, digests and sizes
#    equal skopeo's and `imagespec inspect`'s; each layer's entries equal
#    `tar -tzvf` of its blob (count, and the bytes of its regular files);
#    a file's data-digest is the sha256 of `tar -xO`; the config rows are
#    skopeo's config; whiteouts are shown as deletions; the HTML names no
#    http(s) URL and loads nothing; the hostile names are text (no <pwned>,
#    no <img>, one <script>, the one the page brings); the PNG is a drawn
#    page, not a blank one.
#  - `report --json` from oci:, oci-archive:, docker-archive: (both made by
#    skopeo copy) and the loopback registry fixture, against skopeo inspect
#    of the same reference (layers, sizes, config, diffIds) and the entry
#    counts of the oci: layers.
#  - `--against`: a second build changing one file, adding one and removing
#    one; the JSON and the DOM name exactly those, per layer.
#  - `build --report` into the registry: source and action per layer equal
#    build --json's; a second build is compared with the image the target
#    held before it.
#  - an index: --platform picks the image (skopeo --override-arch agrees);
#    --html - prints the page.
#  - a layout with names no builder makes (not UTF-8, a tab, an ANSI escape,
#    ../, a leading /): valid JSON, \xNN escapes, no ESC byte on the page.
#  - a 256 MiB file layer is reported in bounded memory (max RSS from
#    /usr/bin/time); a corrupt blob fails with exit 1, names the layer and
#    writes no page; usage errors exit 2.
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/fixture.sh"
need skopeo jq tar gzip sha256sum chromium /usr/bin/time
[ -x /usr/bin/docker-registry ] || need /usr/bin/docker-registry
need_root

DOMPY=$SRCDIR/tests/registry/report_dom.py
W=$TMP/w
L=$W/layout
mkdir -p "$W/src/dir" "$W/src/<script>alert(1)<"
printf 'hi\n' >"$W/src/<script>alert(1)</script>"
printf 'amp\n' >"$W/src/&amp;"
printf 'img\n' >"$W/src/<img src=x onerror=\"document.body.appendChild(document.createElement('pwned'))\">"
printf 'one\n' >"$W/src/dir/a.txt"
printf 'keep\n' >"$W/src/keep.txt"
cat >"$W/image.yaml" <<'EOF'
apiVersion: imagespec/v1
base: scratch
created: "2026-01-01T00:00:00Z"
layers:
  - name: deps
    files: [{src: ./src/dir, dest: /deps/}]
files:
  - src: ./src/
    dest: /app/
    exclude: ["dir/**", "dir"]
  - dest: /etc/motd
    content: "hello\n"
delete: [/etc/old]
opaque: [/var/cache]
cmd: ["/bin/true"]
workingDir: /app
user: "1000"
env: {A: "1"}
labels: {x: "<b>y</b>"}
EOF
DESC="build the report's image into oci:" \
	run_expect 0 '' ims build "$W/image.yaml" --output "oci:$L:v1" --progress quiet || bail "cannot build"

# chrome ARGS... URL: headless Chromium with its own profile; every host
# name resolves to nothing, so a page that fetched anything would fail to.
chrome() {
	HOME=$TMP/chrome-home timeout 180 chromium --headless --no-sandbox --disable-gpu \
		--user-data-dir="$TMP/chrome-profile" --host-resolver-rules='MAP * ~NOTFOUND' "$@" 2>>"$TMP/chrome.log"
}

SK=$TMP/skopeo.json
SKC=$TMP/skopeo-config.json
skopeo inspect "oci:$L:v1" >"$SK" || bail "skopeo inspect"
skopeo inspect --config "oci:$L:v1" >"$SKC" || bail "skopeo inspect --config"
skopeo inspect --raw "oci:$L:v1" >"$TMP/manifest.json" || bail "skopeo inspect --raw"
ims inspect "oci:$L:v1" >"$TMP/inspect.json" || bail "imagespec inspect"
NL=$(jq '.Layers | length' "$SK")
check_eq "the image has 3 layers (skopeo)" 3 "$NL"

# --- the HTML page, through Chromium -----------------------------------------
H=$W/report.html
DESC="report --html" run_expect 0 '' ims report "oci:$L:v1" --html "$H"
check "the page is written" test -s "$H"
HTML=$(cat "$H")
check_nomatch "the HTML names no http(s) URL" 'https?:' "$HTML"
check_nomatch "the HTML loads nothing (no link, img, iframe, @import, url())" \
	'<(link|img|iframe|object|embed|source)[ >]|@import|url\(|(src|href)="' "$HTML"
DESC="chromium --dump-dom loads the page" run_expect 0 '' chrome --dump-dom "file://$H"
cp "$RUN_OUT" "$TMP/dom.html"
"$PY" "$DOMPY" dom "$TMP/dom.html" >"$TMP/dom.json" || bail "report_dom.py cannot read the DOM"
D=$TMP/dom.json
check_eq "DOM: layer count = skopeo's" "$NL" "$(jq -r '.summary["data-layers"]' "$D")"
check_eq "DOM: layer sections = skopeo's layers" "$NL" "$(jq '.layers | length' "$D")"
check_eq "DOM: layer digests = skopeo's" "$(jq -c .Layers "$SK")" "$(jq -c '[.layers[]["data-digest"]]' "$D")"
check_eq "DOM: layer sizes = skopeo's manifest" "$(jq -c '[.layers[].size]' "$TMP/manifest.json")" \
	"$(jq -c '[.layers[]["data-size"] | tonumber]' "$D")"
check_eq "DOM: layer digests and sizes = imagespec inspect's" \
	"$(jq -c '[.layers[] | [.digest, .size]]' "$TMP/inspect.json")" \
	"$(jq -c '[.layers[] | [.["data-digest"], (.["data-size"] | tonumber)]]' "$D")"
check_eq "DOM: diffIds = the config's" "$(jq -c .rootfs.diff_ids "$SKC")" \
	"$(jq -c '[.layers[]["data-diff-id"]]' "$D")"
check_eq "DOM: image digest = sha256 of skopeo's raw manifest" "$(raw_digest "oci:$L:v1")" \
	"$(jq -r '.summary["data-digest"]' "$D")"
check_eq "DOM: total size = sum of skopeo's layer sizes" "$(jq '[.layers[].size] | add' "$TMP/manifest.json")" \
	"$(jq -r '.summary["data-size"]' "$D")"
for i in $(seq 0 $((NL - 1))); do
	dg=$(jq -r ".Layers[$i]" "$SK")
	blob=$L/blobs/sha256/${dg#sha256:}
	tar -tzvf "$blob" >"$TMP/tar.$i" || bail "tar cannot list layer $i"
	n=$(wc -l <"$TMP/tar.$i")
	bytes=$(awk '/^-/ { s += $3 } END { print s + 0 }' "$TMP/tar.$i")
	check_eq "DOM: layer $((i + 1)) data-entries = tar -tzvf lines" "$n" "$(jq -r ".layers[$i][\"data-entries\"]" "$D")"
	check_eq "DOM: layer $((i + 1)) shows one element per tar entry" "$n" "$(jq ".layers[$i].entries_shown | length" "$D")"
	check_eq "DOM: layer $((i + 1)) data-bytes = tar's regular file sizes" "$bytes" \
		"$(jq -r ".layers[$i][\"data-bytes\"]" "$D")"
	check_eq "DOM: layer $((i + 1)) source is the image" image "$(jq -r ".layers[$i][\"data-source\"]" "$D")"
done
FB=$L/blobs/sha256/$(jq -r '.Layers[1]' "$SK" | cut -d: -f2)
check_eq "DOM: etc/motd's data-digest = sha256 of tar -xO" \
	"sha256:$(tar -xzOf "$FB" etc/motd | sha256sum | cut -d' ' -f1)" \
	"$(jq -r '.layers[1].entries_shown[] | select(.["data-path"] == "etc/motd") | .["data-digest"]' "$D")"
check_eq "DOM: etc/motd's data-size = tar's" "$(awk '$NF == "etc/motd" { print $3 }' "$TMP/tar.1")" \
	"$(jq -r '.layers[1].entries_shown[] | select(.["data-path"] == "etc/motd") | .["data-size"]' "$D")"
check_eq "DOM: the delete layer shows etc/old as a whiteout, var/cache as opaque" \
	'[["etc/old","whiteout"],["var/cache","opaque"]]' \
	"$(jq -c '[.layers[2].entries_shown[] | [.["data-path"], .["data-type"]]] | sort' "$D")"
check_match "DOM: the whiteout is shown as deleted" 'old deleted' "$(jq -r .text "$D")"
check_eq "DOM: Cmd = skopeo's config" "$(jq -c .config.Cmd "$SKC")" "$(jq -r .config.Cmd "$D")"
check_eq "DOM: WorkingDir and User = skopeo's config" "$(jq -r '.config.WorkingDir + " " + .config.User' "$SKC")" \
	"$(jq -r '.config.WorkingDir + " " + .config.User' "$D")"
check_eq "DOM: Env = skopeo's config" "$(jq -r '.config.Env | join("")' "$SKC")" "$(jq -r .config.Env "$D")"
check_eq "DOM: the label is text" 'x = <b>y</b>' "$(jq -r .config.Labels "$D")"
check_eq "DOM: one history item per config history entry" "$(jq '.history | length' "$SKC")" \
	"$(jq .history "$D")"
# hostile names: text, never markup
check_eq "DOM: no <pwned> element (the onerror never ran)" null "$(jq .tags.pwned "$D")"
check_eq "DOM: no <img> element" null "$(jq .tags.img "$D")"
check_eq "DOM: one <script>, the page's own" 1 "$(jq .tags.script "$D")"
check_nomatch "DOM: the page's script holds no name from the image" 'alert|pwned|amp' "$(jq -r '.scripts[0]' "$D")"
check_eq "DOM: the file named <script>alert(1)</script> is there, as text" 'script>' \
	"$(jq -r '.layers[1].entries_shown[] | select(.["data-path"] == "app/<script>alert(1)</script>") | .text' "$D")"
check_eq "DOM: the file named &amp; shows &amp;" '&amp;' \
	"$(jq -r '.layers[1].entries_shown[] | select(.["data-path"] == "app/&amp;") | .text' "$D")"
check_match "DOM: the <img> file name is shown as text" "<img src=x onerror=\"document.body.appendChild" \
	"$(jq -r .text "$D")"
DESC="chromium --screenshot" run_expect 0 '' chrome --screenshot="$TMP/shot.png" --window-size=1200,1600 "file://$H"
check "the screenshot exists" test -s "$TMP/shot.png"
PNG=$("$PY" "$DOMPY" png "$TMP/shot.png")
check_match "the screenshot is a 1200x1600 PNG of a drawn page (many pixel values)" '^1200x1600 ([1-9][0-9]{2,})$' "$PNG"

# --- --json, from every kind of source, against skopeo ------------------------
registry_start REG || bail "cannot start docker-registry"
skopeo copy -q "oci:$L:v1" "oci-archive:$W/img.tar:v1" >"$TMP/copy.log" 2>&1 || bail "skopeo copy oci-archive"
skopeo copy -q "oci:$L:v1" "docker-archive:$W/docker.tar:app:v1" >>"$TMP/copy.log" 2>&1 || bail "skopeo copy docker-archive"
skopeo copy -q --dest-tls-verify=false "oci:$L:v1" "docker://$REG_ADDR/team/report:v1" >>"$TMP/copy.log" 2>&1 ||
	bail "skopeo copy to the registry"
ENTRIES=$(jq -c '[.layers[]["data-entries"] | tonumber]' "$D")
for src in "oci:$L:v1" "oci-archive:$W/img.tar:v1" "docker-archive:$W/docker.tar:app:v1" "$REG_ADDR/team/report:v1"; do
	case $src in
	oci* | docker-archive:*) sref=$src flags=() ;;
	*) sref=docker://$src flags=(--tls-verify=false) ;;
	esac
	J=$TMP/report.json
	DESC="report --json $src" run_expect 0 '' ims report "$src" --json || continue
	cp "$RUN_OUT" "$J"
	skopeo inspect "${flags[@]}" "$sref" >"$TMP/sk.json" || bail "skopeo inspect $sref"
	skopeo inspect "${flags[@]}" --config "$sref" >"$TMP/skc.json" || bail "skopeo inspect --config $sref"
	skopeo inspect "${flags[@]}" --raw "$sref" >"$TMP/skm.json" || bail "skopeo inspect --raw $sref"
	check_eq "$src: layer digests = skopeo's" "$(jq -c .Layers "$TMP/sk.json")" "$(jq -c '[.layers[].digest]' "$J")"
	check_eq "$src: layer sizes = skopeo's manifest" "$(jq -c '[.layers[].size]' "$TMP/skm.json")" \
		"$(jq -c '[.layers[].size]' "$J")"
	check_eq "$src: diffIds = skopeo's config" "$(jq -c .rootfs.diff_ids "$TMP/skc.json")" \
		"$(jq -c '[.layers[].diffId]' "$J")"
	check_eq "$src: config = skopeo's" "$(jq -cS .config "$TMP/skc.json")" "$(jq -cS .config "$J")"
	check_eq "$src: history = skopeo's" "$(jq -cS .history "$TMP/skc.json")" "$(jq -cS .history "$J")"
	check_eq "$src: entries per layer = the oci: layers' tar listings" "$ENTRIES" "$(jq -c '[.layers[].entries]' "$J")"
	check_eq "$src: entries listed = entries counted" "$(jq -c '[.layers[].entries]' "$J")" \
		"$(jq -c '[.layers[].files | length]' "$J")"
done
check_eq "registry: the report's digest = the registry's manifest digest" \
	"$(skopeo_raw_digest "$REG_ADDR/team/report:v1")" "$(jq -r .digest "$TMP/report.json")"

# --- --against: what changed since the first build ----------------------------
printf 'two\n' >"$W/src/dir/a.txt"
printf 'new\n' >"$W/src/new.txt"
rm "$W/src/&amp;"
DESC="build the second image" run_expect 0 '' ims build "$W/image.yaml" --output "oci:$L:v2" --progress quiet
DESC="report --json --against" run_expect 0 '' ims report "oci:$L:v2" --json --against "oci:$L:v1"
cp "$RUN_OUT" "$TMP/against.json"
A=$TMP/against.json
check_eq "against: names the first image by its digest" "$(raw_digest "oci:$L:v1")" "$(jq -r .against.digest "$A")"
check_eq "against: layer statuses" '["changed","changed","same"]' "$(jq -c '[.layers[].change.status]' "$A")"
check_eq "against: layer 1 changed deps/a.txt only" '[[],[],["deps/a.txt"]]' \
	"$(jq -c '.layers[0].change | [.added, .removed, .changed]' "$A")"
check_eq "against: layer 2 added app/new.txt, removed app/&amp;" '[["app/new.txt"],["app/&amp;"],[]]' \
	"$(jq -c '.layers[1].change | [.added, .removed, .changed]' "$A")"
check_eq "against: no layer removed" '[]' "$(jq -c .removedLayers "$A")"
DESC="report --html --against" run_expect 0 '' ims report "oci:$L:v2" --html "$W/against.html" --against "oci:$L:v1"
DESC="chromium loads the compared page" run_expect 0 '' chrome --dump-dom "file://$W/against.html"
cp "$RUN_OUT" "$TMP/dom2.html"
"$PY" "$DOMPY" dom "$TMP/dom2.html" >"$TMP/dom2.json" || bail "report_dom.py cannot read the second DOM"
check_eq "DOM against: data-change per layer" '["changed","changed","same"]' \
	"$(jq -c '[.layers[]["data-change"]]' "$TMP/dom2.json")"
check_eq "DOM against: the lists of layer 2" '[["app/new.txt"],["app/&amp;"],[]]' \
	"$(jq -c '.layers[1].changes | [.added, .removed, .changed]' "$TMP/dom2.json")"
check_eq "DOM against: the digest compared with" "$(raw_digest "oci:$L:v1")" \
	"$(jq -r '.against["data-digest"]' "$TMP/dom2.json")"

# --- build --report: each layer's source and action, against the previous image
# at the same target (a registry: the seeded base layer, then the new one)
seed_base "$REG_ADDR" base/busybox:1 || bail "cannot seed the busybox base"
mkdir -p "$W/b"
printf 'v1\n' >"$W/b/app.txt"
printf 'apiVersion: imagespec/v1\nbase: %s/base/busybox:1\ntarget: %s/team/built:1\nfiles:\n  - {src: ./app.txt, dest: /app/app.txt}\n' \
	"$REG_ADDR" "$REG_ADDR" >"$W/b/image.yaml"
DESC="build --report into a registry (no previous image)" \
	run_expect 0 '' ims build "$W/b/image.yaml" --report "$W/b/r1.html" --json --progress quiet
cp "$RUN_OUT" "$TMP/build1.json"
DESC="chromium loads the build report" run_expect 0 '' chrome --dump-dom "file://$W/b/r1.html"
"$PY" "$DOMPY" dom "$RUN_OUT" >"$TMP/b1.json" || bail "report_dom.py cannot read the build report"
check_eq "build report: source and action per layer = build --json's" \
	"$(jq -c '[.manifests[0].layers[] | [.digest, .source, .action]]' "$TMP/build1.json")" \
	"$(jq -c '[.layers[] | [.["data-digest"], .["data-source"], .["data-action"]]]' "$TMP/b1.json")"
check_eq "build report: layer digests = skopeo's of the pushed image" \
	"$(skopeo inspect --tls-verify=false "docker://$REG_ADDR/team/built:1" | jq -c .Layers)" \
	"$(jq -c '[.layers[]["data-digest"]]' "$TMP/b1.json")"
check_eq "build report: the base layer is marked base, the new one built" '["base","built"]' \
	"$(jq -c '[.layers[]["data-source"]]' "$TMP/b1.json")"
check_eq "build report: nothing to compare with the first time" null "$(jq -c .against "$TMP/b1.json")"
printf 'v2\n' >"$W/b/app.txt"
OLD=$(skopeo_raw_digest "$REG_ADDR/team/built:1")
DESC="build --report again: compared with the previous image at the target" \
	run_expect 0 '' ims build "$W/b/image.yaml" --report "$W/b/r2.html" --json --progress quiet
cp "$RUN_OUT" "$TMP/build2.json"
DESC="chromium loads the second build report" run_expect 0 '' chrome --dump-dom "file://$W/b/r2.html"
"$PY" "$DOMPY" dom "$RUN_OUT" >"$TMP/b2.json" || bail "report_dom.py cannot read the second build report"
check_eq "build report 2: against the previous digest" "$OLD" "$(jq -r '.against["data-digest"]' "$TMP/b2.json")"
check_eq "build report 2: the base layer is the same, the new one changed" '["same","changed"]' \
	"$(jq -c '[.layers[]["data-change"]]' "$TMP/b2.json")"
check_eq "build report 2: app/app.txt changed, nothing added or removed" '[[],[],["app/app.txt"]]' \
	"$(jq -c '.layers[1].changes | [.added, .removed, .changed]' "$TMP/b2.json")"
check_eq "build report 2: source and action per layer = build --json's" \
	"$(jq -c '[.manifests[0].layers[] | [.digest, .source, .action]]' "$TMP/build2.json")" \
	"$(jq -c '[.layers[] | [.["data-digest"], .["data-source"], .["data-action"]]]' "$TMP/b2.json")"
DESC="plan --report: exit 2" run_expect 2 'report is for .imagespec build' \
	ims plan "$W/b/image.yaml" --report "$W/b/plan.html"
check "plan --report writes no page" test ! -e "$W/b/plan.html"

# --- a big layer, in bounded memory -------------------------------------------
mkdir -p "$W/big"
truncate -s 256M "$W/big/zeros"
printf 'apiVersion: imagespec/v1\nbase: scratch\nfiles:\n  - {src: ./big/zeros, dest: /zeros}\n' >"$W/big.yaml"
DESC="build a 256 MiB file layer" run_expect 0 '' ims build "$W/big.yaml" --output "oci:$W/big-layout:x" --progress quiet
DESC="report --json of the big layer" run_expect 0 '' /usr/bin/time -f 'maxrss=%M' -o "$TMP/time.txt" \
	"$IMAGESPEC" report "oci:$W/big-layout:x" --json
check_eq "the big file's size is listed" 268435456 "$(jq '.layers[0].files[] | select(.path == "zeros") | .size' "$RUN_OUT")"
check_eq "the big file's digest = sha256sum of it" "sha256:$(sha256sum "$W/big/zeros" | cut -d' ' -f1)" \
	"$(jq -r '.layers[0].files[] | select(.path == "zeros") | .digest' "$RUN_OUT")"
RSS=$(sed -n 's/^maxrss=//p' "$TMP/time.txt")
if [ -n "${IMS_VALGRIND:-}" ]; then
	# the process measured is valgrind, whose own memory dwarfs imagespec's:
	# the bound holds in the plain and ASan runs
	diag "under valgrind: max RSS ${RSS} KiB, not checked"
else
	check "max RSS stays under 64 MiB for a 256 MiB layer (was ${RSS} KiB)" test "${RSS:-999999}" -lt 65536
fi

# --- an index: --platform picks the image; --html - writes to standard output
DESC="build an index for linux/amd64 and linux/arm64" run_expect 0 '' \
	ims build "$W/image.yaml" --output "oci:$W/multi:x" --platform linux/amd64 --platform linux/arm64 --progress quiet
DESC="report --platform linux/arm64 --json" run_expect 0 '' ims report "oci:$W/multi:x" --platform linux/arm64 --json
check_eq "index: the arm64 image is reported" linux/arm64 "$(jq -r .platform "$RUN_OUT")"
check_eq "index: its layers = skopeo's for arm64" \
	"$(skopeo inspect --override-arch arm64 "oci:$W/multi:x" | jq -c .Layers)" "$(jq -c '[.layers[].digest]' "$RUN_OUT")"
DESC="report --html - prints the page" run_expect 0 '' ims report "oci:$L:v1" --html -
check_match "the page is on standard output" '^<!DOCTYPE html>' "$(cat "$RUN_OUT")"
check "and no file named - is written" test ! -e ./-

# --- names no builder makes (a layout written by report_dom.py) -----------------
"$PY" "$DOMPY" layout "$W/hostile" || bail "report_dom.py cannot write the hostile layout"
DESC="report --json of names that are not UTF-8 or hold escapes" \
	run_expect 0 '' ims report "oci:$W/hostile:x" --json
check "the JSON is valid" jq -e . "$RUN_OUT"
check_eq "names: invalid UTF-8, tab and ESC as \\xNN; ../ kept; / dropped" \
	'["bad\\xff\\xfe.txt","tab\\x09here","esc\\x1b[31mred","../../etc/passwd","abs/path"]' \
	"$(jq -c '[.layers[0].files[].path]' "$RUN_OUT")"
check_eq "entries = tar -tzvf lines" "$(tar -tzvf "$W/hostile/blobs/sha256/$(jq -r '.layers[0].digest' "$RUN_OUT" | cut -d: -f2)" 2>/dev/null | wc -l)" \
	"$(jq '.layers[0].entries' "$RUN_OUT")"
DESC="report --html of the same" run_expect 0 '' ims report "oci:$W/hostile:x" --html "$W/hostile.html"
check_nomatch "the page holds no ESC byte" $'\x1b' "$(cat "$W/hostile.html")"

# --- failures ------------------------------------------------------------------
cp -a "$L" "$W/bad"
BL=$(jq -r '.Layers[1]' "$SK")
chmod u+w "$W/bad/blobs/sha256/${BL#sha256:}"
printf 'XXXX' | dd of="$W/bad/blobs/sha256/${BL#sha256:}" bs=1 seek=40 conv=notrunc 2>/dev/null
DESC="a corrupt layer blob: exit 1, naming the layer" \
	run_expect 1 "layer 2 \`$BL\`: the blob has [0-9]+ bytes with digest" \
	ims report "oci:$W/bad:v1" --html "$W/bad.html"
check "a failed report writes no page" test ! -e "$W/bad.html"
check_eq "and leaves no temporary file" "" "$(find "$W" -maxdepth 1 -name 'bad.html.*')"
DESC="report without a form: exit 2" run_expect 2 'name one form' ims report "oci:$L:v1"
DESC="report with both forms: exit 2" run_expect 2 'name one form' ims report "oci:$L:v1" --json --html x.html
DESC="--against given twice: exit 2" run_expect 2 'given twice' \
	ims report "oci:$L:v1" --json --against "oci:$L:v1" --against "oci:$L:v2"
DESC="report of a missing tag: exit 1" run_expect nonzero 'nope' ims report "oci:$L:nope" --json
DESC="--html into a missing directory: exit 1, naming the file" \
	run_expect 1 "cannot write \`$W/no/such/r.html\`" ims report "oci:$L:v1" --html "$W/no/such/r.html"

done_testing
