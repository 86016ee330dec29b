#!/usr/bin/env bash
# Progress, as a user sees it: in a pipe, a line per step, a line every 5 s
# for a long upload and a summary line, and never an escape sequence; on a
# terminal (tmux, which answers the terminal queries a real one does), a bar
# per upload with bytes, percent, rate and ETA that fits the width, follows
# a resize (SIGWINCH), is coloured unless NO_COLOR is set, and is gone when
# the result or an error is printed.
#
# The uploads go through fault_proxy.py --rate, so that they last at least
# the seconds the checks need however fast or loaded the machine is; the
# terminal is read with `tmux capture-pane` until what is looked for shows
# or the command has ended (then the check fails).
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/fixture.sh"
need skopeo umoci jq tmux openssl head
[ -x /usr/bin/docker-registry ] || need /usr/bin/docker-registry

registry_start REG || bail "cannot start docker-registry"
# 1.5 MB/s: the 12 MB layer takes 8 s or more to upload.
fault_proxy_start SLOW "$REG_ADDR" --rate 1500000 || bail "cannot start fault_proxy.py"
seed_base "$REG_ADDR" base/busybox:1 || bail "cannot seed the base"
W=$TMP/w
mkdir -p "$W/app"
# 12 MB that gzip cannot shrink.
head -c $((12 * 1000 * 1000)) >"$W/app/blob.bin" \
	< <(openssl enc -aes-256-ctr -nosalt -pbkdf2 -pass pass:imagespec-progress </dev/zero 2>/dev/null)
spec() { # spec NAME: a spec pushing to team/NAME:1 through the slow proxy
	cat >"$W/$1.yaml" <<EOF
base: $SLOW_ADDR/base/busybox:1
target: $SLOW_ADDR/team/$1:1
created: "2026-01-01T00:00:00Z"
files:
  - src: ./app/blob.bin
    dest: /blob.bin
    # $1: a layer of its own per spec, so that none is mounted from another
  - dest: /name.txt
    content: "$1\n"
cmd: ["/bin/busybox", "sha256sum", "/blob.bin"]
EOF
	echo "$W/$1.yaml"
}
SUM=$(sha256sum <"$W/app/blob.bin" | cut -d' ' -f1)

# --- a pipe ---------------------------------------------------------------------------
DESC="a pipe (auto: plain lines): the push succeeds" \
	run_expect 0 '' env -u NO_COLOR "$IMAGESPEC" build "$(spec piped)" --no-cache
check_match "a line per step" '^building layer 1/1' "$RUN_STDERR"
check_match "a periodic line for the upload still running after 5 s" \
	'^uploading (sha256:[0-9a-f]{12}|new layer [0-9]+): +[0-9.]+ [kM]B / 12\.[0-9] MB +[0-9]+%' "$RUN_STDERR"
check_match "the summary: layers by origin, blobs by action, elapsed time" \
	'^2 layers: 1 built, 1 from the base; 1 uploaded \(12\.[0-9] MB\), 1 mounted; [0-9.]+ s$' "$RUN_STDERR"
check_nomatch "no escape sequence in a pipe" $'\033' "$RUN_STDERR"
check_eq "skopeo, umoci and chroot see the file" "$SUM  /blob.bin" "$(pull_and_run "$SLOW_ADDR/team/piped:1")"

DESC="--progress quiet: nothing on stderr" run_expect 0 '' "$IMAGESPEC" build "$(spec quiet)" --no-cache \
	--progress quiet
check_eq "... not even the summary" "" "$RUN_STDERR"

# --- retries are shown with their reason and wait --------------------------------------------
bad_registry_start 500-always || bail "cannot start bad_registry.py"
cat >"$W/e500.yaml" <<EOF
base: $BAD_REF
target: oci:$TMP/e500:1
EOF
DESC="a base registry answering 500: the build fails (exit 1)" \
	run_expect 1 '500' "$IMAGESPEC" build "$W/e500.yaml" --progress plain
check_match "each retry is shown with its reason, its wait and the try it leads to" \
	"^GET http://$BAD_ADDR/v2/.*: answered 500; retrying in [0-9.]+ s \\(try 2 of [0-9]+\\)\$" "$RUN_STDERR"
bad_registry_stop

# --- a terminal -------------------------------------------------------------------------
SOCK=$TMP/tmux.sock
tm() { tmux -S "$SOCK" "$@"; }
fixture_on_exit "tmux -S '$SOCK' kill-server 2>/dev/null"
# tty_start NAME WIDTH [ENV...]: runs the build of spec NAME in a new tmux
# window WIDTH columns wide; the pane stays after the command ends.
tty_start() {
	local name=$1 width=$2
	shift 2
	tm kill-server 2>/dev/null
	rm -f "$TMP/tty.rc"
	tm -f /dev/null new-session -d -s t -x "$width" -y 40 \
		"env -u CI $* TERM=xterm-256color '$IMAGESPEC' build '$(spec "$name")' --no-cache; echo \$? >'$TMP/tty.rc'" ||
		return 1
	tm set-option -t t remain-on-exit on >/dev/null
}
pane_dead() { [ "$(tm display-message -p -t t '#{pane_dead}' 2>/dev/null)" = 1 ]; }
# tty_wait ERE [-e]: polls the pane until a line matches ERE; fails when the
# command ended without it. Sets SCREEN to the capture that matched.
tty_wait() {
	local re=$1 flag=${2:-} dead
	while :; do
		pane_dead && dead=1 || dead=0
		SCREEN=$(tm capture-pane -p $flag -t t)
		grep -Eq -- "$re" <<<"$SCREEN" && return 0
		[ "$dead" = 1 ] && return 1
		sleep 0.05
	done
}
tty_end() { # waits for the command; sets SCREEN (wrapped lines joined) and TTY_RC
	while ! pane_dead; do sleep 0.1; done
	SCREEN=$(tm capture-pane -p -J -t t)
	TTY_RC=$(cat "$TMP/tty.rc")
}

tty_start wide 100 || bail "tmux did not start"
tty_wait '^uploading (sha256:[0-9a-f]{12}|new layer [0-9]+) +\[[=>]* *\] +[0-9.]+ [kM]B / 12\.[0-9] MB +[0-9]+% +[0-9.]+ [kM]B/s +ETA [0-9]+s'
check "a terminal, 100 columns: a bar with bytes, percent, rate and ETA" test $? -eq 0
check_match "... and a total line" '^total, [0-9]+s ' "$SCREEN"
tty_wait $'\033\\[36m' -e
check "... coloured (SGR 36) when NO_COLOR is not set" test $? -eq 0
tm resize-window -t t -x 50 -y 40
tty_wait '^uploading [^[]* [0-9.]+ [kM]B / 12\.[0-9] MB +[0-9]+%'
check "after a resize to 50 columns (SIGWINCH), the bar gives way to bytes and percent" test $? -eq 0
# widest BAR_LINES...: the widest line, in characters
widest() {
	local l w=0
	while IFS= read -r l; do
		[ "${#l}" -gt "$w" ] && w=${#l}
	done <<<"$1"
	echo "$w"
}
bars=$(grep -E 'MB / 12\.[0-9] MB|^total, ' <<<"$SCREEN")
check "... and every progress line fits in 49 columns (widest: $(LC_ALL=C.UTF-8 widest "$bars"))" \
	test "$(LC_ALL=C.UTF-8 widest "$bars")" -le 49
tty_end
check_eq "the build succeeds" 0 "$TTY_RC"
check_match "the result is printed" "^$SLOW_ADDR/team/wide:1@sha256:[0-9a-f]{64}" "$SCREEN"
check_match "... with the summary" '^2 layers: 1 built, 1 from the base; 1 uploaded' "$SCREEN"
check_nomatch "... and no bar left on the screen" 'MB / 12\.[0-9] MB' "$SCREEN"
check_eq "skopeo, umoci and chroot see the file" "$SUM  /blob.bin" "$(pull_and_run "$SLOW_ADDR/team/wide:1")"

tty_start nocolor 100 NO_COLOR=1 || bail "tmux did not start"
tty_wait '^uploading (sha256:[0-9a-f]{12}|new layer [0-9]+) +\['
check "NO_COLOR=1: the bar shows" test $? -eq 0
check_nomatch "... without colour" $'\033\\[3[0-9]m' "$(tm capture-pane -p -e -t t)"
tty_end
check_eq "... and the build succeeds" 0 "$TTY_RC"

# An error while the bars are up: the proxy dies mid-upload.
tty_start broken 100 || bail "tmux did not start"
tty_wait '^uploading (sha256:[0-9a-f]{12}|new layer [0-9]+) +\['
check "a failing push: the bar shows first" test $? -eq 0
kill "$SLOW_PID"
tty_end
check_eq "the push fails with exit 1" 1 "$TTY_RC"
last=$(grep -v -e '^$' -e '^Pane is dead' <<<"$SCREEN" | tail -n 3)
check_match "the error is on screen, at the end" '^imagespec: .*push blob' "$last"
check_nomatch "... and no bar was drawn over or after it" 'MB / 12\.[0-9] MB' "$SCREEN"

done_testing
