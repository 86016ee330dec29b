#!/usr/bin/env bash
# What a build writes locally: never through a symbolic link (--metadata-out,
# oci:DIR, oci-archive:FILE, docker-archive:FILE), concurrent builds into one
# new layout, and caps on repeated flags.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need skopeo umoci jq cmp

W=$TMP/w
mkdir -p "$W"
cat >"$W/image.yaml" <<'EOF'
base: scratch
target: oci:out:x
created: 0
files:
  - {dest: /ok, content: "ok\n"}
EOF
B=(--progress quiet)

# --- symlinks as the last component of an output path
echo 'do not touch' >"$W/victim"
cp "$W/victim" "$W/victim.orig"
mkdir -p "$W/victim-dir"

ln -s victim "$W/meta-link.json"
DESC="--metadata-out through a symlink: exit 2, refused before the build" \
	run_expect 2 'metadata-out `.*meta-link.json` is a symbolic link; refusing to write through it' \
	ims build "$W/image.yaml" "${B[@]}" --output "oci:$W/m1:x" --metadata-out "$W/meta-link.json"
check_match "--metadata-out symlink: a hint" '^hint: name the file it points to' "$RUN_STDERR"
check "--metadata-out symlink: the target is untouched" cmp "$W/victim.orig" "$W/victim"
check "--metadata-out symlink: nothing was built" test ! -e "$W/m1"
check "--metadata-out symlink: the link is still a link" test -L "$W/meta-link.json"

ln -s nowhere-yet "$W/dangling.json"
DESC="--metadata-out through a dangling symlink: exit 2" \
	run_expect 2 'is a symbolic link; refusing to write through it' \
	ims build "$W/image.yaml" "${B[@]}" --output "oci:$W/m2:x" --metadata-out "$W/dangling.json"
check "--metadata-out dangling symlink: its target is not created" test ! -e "$W/nowhere-yet"

DESC="--metadata-out to a directory: exit 2" run_expect 2 'is not a regular file' \
	ims build "$W/image.yaml" "${B[@]}" --output "oci:$W/m3:x" --metadata-out "$W/victim-dir"

echo old >"$W/meta.json"
DESC="--metadata-out to a regular file: exit 0" \
	run_expect 0 '' ims build "$W/image.yaml" "${B[@]}" --output "oci:$W/m4:x" --metadata-out "$W/meta.json"
check_eq "--metadata-out: the file is replaced with the result" "$(jq -r .digest <"$W/meta.json")" \
	"$(digest_of_output "$RUN_OUT")"
check_eq "--metadata-out: no temp file left" "" "$(find "$W" -maxdepth 1 -name 'meta.json.tmp-*')"

ln -s victim-dir "$W/layout-link"
DESC="--output oci:SYMLINK: exit 2" \
	run_expect 2 'oci layout `.*layout-link` is a symbolic link; refusing to write through it' \
	ims build "$W/image.yaml" "${B[@]}" --output "oci:$W/layout-link:x"
check_match "--output oci:SYMLINK: a hint" '^hint: name the directory it points to' "$RUN_STDERR"
check_eq "--output oci:SYMLINK: the directory it points to stays empty" "" "$(ls -A "$W/victim-dir")"
DESC="--output oci:SYMLINK/ (trailing slash): exit 2" run_expect 2 'is a symbolic link' \
	ims build "$W/image.yaml" "${B[@]}" --output "oci:$W/layout-link/:x"
check_eq "--output oci:SYMLINK/: the directory it points to stays empty" "" "$(ls -A "$W/victim-dir")"

# a layout whose blobs/ is a link elsewhere
ims build "$W/image.yaml" "${B[@]}" --output "oci:$W/L:x" >/dev/null 2>&1 || bail "cannot build a layout"
mv "$W/L/blobs" "$W/elsewhere-blobs"
ln -s ../elsewhere-blobs "$W/L/blobs"
cp "$W/L/index.json" "$W/L.index.orig"
DESC="--output oci:DIR whose blobs/ is a symlink: exit 2" run_expect 2 '`blobs` is a symbolic link' \
	ims build "$W/image.yaml" "${B[@]}" --output "oci:$W/L:y"
check "blobs/ symlink: index.json is byte-identical" cmp "$W/L.index.orig" "$W/L/index.json"

for kind in oci-archive docker-archive; do
	name=x
	[ $kind = docker-archive ] && name=r/x:1
	ln -sf victim "$W/$kind-link.tar"
	DESC="--output $kind:SYMLINK: exit 2" \
		run_expect 2 "$kind \`.*$kind-link.tar\` is a symbolic link; refusing to write through it" \
		ims build "$W/image.yaml" "${B[@]}" --output "$kind:$W/$kind-link.tar:$name"
	check_match "--output $kind:SYMLINK: a hint" '^hint: name the file it points to' "$RUN_STDERR"
	check "--output $kind:SYMLINK: the target is untouched" cmp "$W/victim.orig" "$W/victim"
	check "--output $kind:SYMLINK: the link is still a link" test -L "$W/$kind-link.tar"
	ln -sf nowhere-$kind "$W/$kind-dangling.tar"
	DESC="--output $kind:DANGLING: exit 2" run_expect 2 'is a symbolic link' \
		ims build "$W/image.yaml" "${B[@]}" --output "$kind:$W/$kind-dangling.tar:$name"
	check "--output $kind:DANGLING: its target is not created" test ! -e "$W/nowhere-$kind"
	DESC="--output $kind:DIRECTORY: exit 2" run_expect 2 'is not a regular file' \
		ims build "$W/image.yaml" "${B[@]}" --output "$kind:$W/victim-dir:$name"
done
check_eq "no temp file left next to the outputs" "" "$(find "$W" -maxdepth 1 -name '*.tmp-*')"

# --- concurrent builds into one new layout: every one succeeds, every tag
# is there. Several rounds, since a race shows up only sometimes.
N=6
for round in 1 2 3 4 5; do
	L=$W/conc-$round
	pids=()
	for i in $(seq $N); do
		ims build "$W/image.yaml" "${B[@]}" --output "oci:$L:t$i" >"$TMP/conc.$i.out" 2>"$TMP/conc.$i.err" &
		pids+=($!)
	done
	fails=()
	for i in $(seq $N); do
		wait "${pids[$((i - 1))]}" || fails+=("t$i: $(cat "$TMP/conc.$i.err")")
	done
	if [ ${#fails[@]} -eq 0 ]; then
		ok "round $round: $N concurrent builds into one new layout all succeed"
	else
		not_ok "round $round: $N concurrent builds into one new layout all succeed" "${fails[@]}"
	fi
	check_eq "round $round: umoci lists every tag" "$(seq -f 't%g' $N | sort)" \
		"$(umoci ls --layout "$L" 2>&1 | sort)"
	bad=()
	for i in $(seq $N); do
		skopeo inspect --raw "oci:$L:t$i" >/dev/null 2>&1 || bad+=("t$i")
	done
	check_eq "round $round: skopeo reads every tag" "" "${bad[*]}"
	check_eq "round $round: no temp file left" "" "$(find "$L" -name '*.tmp-*')"
done

# --- caps on repeated flags: a usage error at once, before anything runs
tags=()
for i in $(seq 1001); do tags+=(-t "t$i"); done
DESC="1001 -t: exit 2" run_expect 2 '-t given more than 1000 times' \
	ims build "$W/image.yaml" "${B[@]}" --output "oci:$W/caps:x" "${tags[@]}"
check "1001 -t: nothing written" test ! -e "$W/caps"
DESC="1000 -t: exit 0" run_expect 0 '' ims build "$W/image.yaml" "${B[@]}" --output "oci:$W/caps:x" "${tags[@]:0:2000}"
check_eq "1000 -t: every tag (and the target's name) is in the layout" 1001 "$(jq '.manifests | length' "$W/caps/index.json")"
tags=()
for i in $(seq 50000); do tags+=(-t "t$i"); done
DESC="50000 -t: exit 2 at once" run_expect 2 '-t given more than 1000 times' \
	ims build "$W/image.yaml" "${B[@]}" --output "oci:$W/caps2:x" "${tags[@]}"
ps=()
for i in $(seq 1001); do ps+=(-p "n$i=v"); done
DESC="1001 -p: exit 2" run_expect 2 '-p given more than 1000 times' \
	ims build "$W/image.yaml" "${B[@]}" --output "oci:$W/caps3:x" "${ps[@]}"
ps=()
for i in $(seq 65); do ps+=(--platform linux/amd64); done
DESC="65 --platform: exit 2" run_expect 2 '--platform given more than 64 times' \
	ims build "$W/image.yaml" "${B[@]}" --output "oci:$W/caps4:x" "${ps[@]}"
ps=()
for i in $(seq 257); do ps+=(--insecure-registry "h$i"); done
DESC="257 --insecure-registry: exit 2" run_expect 2 '--insecure-registry given more than 256 times' \
	ims build "$W/image.yaml" "${B[@]}" --output "oci:$W/caps5:x" "${ps[@]}"
ps=()
for i in $(seq 33); do ps+=(--cache-from "localhost:1/c$i"); done
DESC="33 --cache-from: exit 2" run_expect 2 '--cache-from given more than 32 times' \
	ims build "$W/image.yaml" "${B[@]}" --output "oci:$W/caps6:x" "${ps[@]}"
# the spec's own tags count too
{
	cat "$W/image.yaml"
	printf 'tags: ['
	for i in $(seq 600); do printf 's%d, ' "$i"; done
	printf 'last]\n'
} >"$W/many-tags.yaml"
tags=()
for i in $(seq 500); do tags+=(-t "t$i"); done
DESC="600 tags in the spec and 500 -t: exit 2" run_expect 2 '1101 tags is more than the limit of 1000' \
	ims build "$W/many-tags.yaml" "${B[@]}" --output "oci:$W/caps7:x" "${tags[@]}"

done_testing
