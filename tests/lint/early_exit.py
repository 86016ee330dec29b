#!/usr/bin/env python3
"""Finds shell pipelines that feed a reader which may stop reading early.

Under `set -o pipefail`, `producer | grep -q PATTERN` fails at random: grep
exits at the first match, the producer's next write gets SIGPIPE, and the
pipeline's status becomes the producer's 141 although the text matched. In a
negative check (`! producer | grep -q SECRET`) it is worse: a leak makes the
check pass. Feed such readers from a file or a here-string instead.

Flagged, after a `|` (not `||`), anywhere in a pipeline:
  grep/egrep/fgrep/zgrep with -q, -m, -l, -L or their long forms
  head, read, cmp

Usage:
  early_exit.py PATH...      lints files and directories (shell scripts:
                             *.sh, and files whose first line names sh/bash);
                             prints FILE:LINE: ... per finding; exits 1 on any
  early_exit.py --self-test  TAP: plants each flagged form and each safe form
                             in a scratch file and checks the verdicts
"""
import os
import re
import sys
import tempfile

GREPS = {"grep", "egrep", "fgrep", "zgrep"}
ALWAYS = {"head", "read", "cmp"}
SHORT_EARLY = set("qmlL")
LONG_EARLY = ("--quiet", "--silent", "--max-count", "--files-with-matches", "--files-without-match")

# A `|` that is not part of `||` or `|&`... (`|&` pipes stderr too: still a pipe).
PIPE = re.compile(r"(?<![|\\])\|(?!\|)&?")


def is_shell(path):
    if path.endswith(".sh"):
        return True
    try:
        with open(path, "rb") as f:
            first = f.readline(200)
    except OSError:
        return False
    return first.startswith(b"#!") and re.search(rb"\b(ba)?sh\b", first) is not None


def strip_comment(line):
    """Drops a trailing comment: a `#` at the start or after blank space,
    outside quotes (a rough shell lexer: enough for test scripts)."""
    quote = None
    prev = " "
    for i, c in enumerate(line):
        if quote:
            if c == quote and (quote == "'" or prev != "\\"):
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "#" and prev in " \t;(":
            return line[:i]
        prev = c
    return line


def logical_lines(text):
    """Joins continued lines (a trailing backslash, `|`, `&&` or `||`), and
    yields (first line number, joined text)."""
    buf, start = "", None
    for n, raw in enumerate(text.splitlines(), 1):
        line = strip_comment(raw).rstrip()
        if start is None:
            start = n
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        if re.search(r"(\||&&)\s*$", buf):
            buf += " "
            continue
        yield start, buf
        buf, start = "", None
    if buf:
        yield start, buf


def words(segment):
    """The first words of a pipeline stage, up to a separator."""
    seg = re.split(r"[|;&)]|\$\(|`", segment, maxsplit=1)[0]
    return seg.split()


def early_reader(stage):
    w = words(stage)
    # `! grep`, `command grep`, `env grep`, `exec grep`: the reader is the next word.
    while w and w[0] in ("!", "command", "env", "exec", "builtin", "time"):
        w = w[1:]
    if not w:
        return None
    name = os.path.basename(w[0])
    if name in ALWAYS:
        return name
    if name not in GREPS:
        return None
    args = iter(w[1:])
    for a in args:
        if a == "--":
            break
        if a.startswith("--"):
            if a.split("=")[0] in LONG_EARLY:
                return f"{name} {a}"
        elif a.startswith("-") and len(a) > 1:
            # A short cluster: letters up to the first that takes a value
            # (e, f, A, B, C, d, D); that value is the rest of the cluster,
            # or else the next word.
            for i, c in enumerate(a[1:], 1):
                if c in SHORT_EARLY:
                    return f"{name} -{c}"
                if c in "efABCdD":
                    if i == len(a) - 1:
                        next(args, None)
                    break
                if not c.isalpha():
                    break
    return None


def findings(text):
    out = []
    for n, line in logical_lines(text):
        for m in PIPE.finditer(line):
            r = early_reader(line[m.end():])
            if r:
                out.append((n, r, line.strip()))
    return out


def lint(paths):
    files = []
    for p in paths:
        if os.path.isdir(p):
            for d, dirs, names in os.walk(p):
                dirs[:] = sorted(x for x in dirs if x not in ("corpus", "__pycache__"))
                files += [os.path.join(d, x) for x in sorted(names)]
        else:
            files.append(p)
    bad = 0
    for f in files:
        if not is_shell(f):
            continue
        with open(f, encoding="utf-8", errors="replace") as fh:
            for n, r, line in findings(fh.read()):
                bad += 1
                print(f"{f}:{n}: a pipeline feeds `{r}`, which may stop reading early (SIGPIPE under pipefail): "
                      f"feed it from a file or a here-string: {line[:160]}")
    return bad


FLAGGED = [
    'printf "%s\\n" "$T" | grep -Eq -- "$P"',
    '! cat "$A" "$B" | grep -aqE "eyJ"',
    'gzip -dc "$b" | grep -qaF "${SECRETS[@]}"',
    'tar -tzf x | grep -q "bin$"',
    'x | grep --quiet y',
    'x | grep --silent y',
    'x | grep -m1 y',
    'x | grep --max-count=1 y',
    'x | grep -l y',
    'if  find . | head -n 1; then :; fi',
    'seq 10 | read -r first',
    'a | grep -c x | grep -q 1',
    'cat f |\n\tgrep -q pattern',
    'cat f \\\n\t| grep -q pattern',
    'x |& grep -q y',
    'y=$(x | egrep -q z)',
    'x | command grep -q y',
]
SAFE = [
    'grep -Eq -- "$P" <<<"$T"',
    'grep -q x "$FILE"',
    'x | grep -c y',
    'x | grep -E "a|b"',
    'x | grep -e -q',
    'a || grep -q x f',
    'x | sort | uniq -d',
    '# x | grep -q y (a comment)',
    'x | grep -A2 q',
]


def self_test():
    n = fails = 0

    def tap(ok, desc, detail=""):
        nonlocal n, fails
        n += 1
        if not ok:
            fails += 1
        print(("ok" if ok else "not ok") + f" {n} - {desc}")
        if not ok and detail:
            print("# " + detail)

    with tempfile.TemporaryDirectory() as d:
        for i, src in enumerate(FLAGGED):
            p = os.path.join(d, f"planted{i}.sh")
            with open(p, "w") as f:
                f.write("set -o pipefail\n" + src + "\n")
            f_ = findings(open(p).read())
            tap(len(f_) == 1, f"flagged: {src!r}", f"findings: {f_}")
        for src in SAFE:
            f_ = findings(src + "\n")
            tap(not f_, f"not flagged: {src!r}", f"findings: {f_}")
        # The command-line verdict: exit 1 with FILE:LINE on a planted file.
        p = os.path.join(d, "tree", "check.sh")
        os.makedirs(os.path.dirname(p))
        with open(p, "w") as f:
            f.write("#!/bin/bash\nset -o pipefail\ntrue\nprintf '%s\\n' \"$x\" | grep -q y && echo hit\n")
        import subprocess
        r = subprocess.run([sys.executable, __file__, os.path.dirname(p)], capture_output=True, text=True)
        tap(r.returncode == 1 and f"{p}:4:" in r.stdout, "a planted tree fails the lint, naming FILE:LINE",
            f"exit {r.returncode}: {r.stdout!r}")
        # A script without a .sh name, found by its #! line.
        q = os.path.join(d, "tree", "run")
        with open(q, "w") as f:
            f.write("#!/usr/bin/env bash\nx | head -n 1\n")
        r = subprocess.run([sys.executable, __file__, q], capture_output=True, text=True)
        tap(r.returncode == 1 and f"{q}:2:" in r.stdout, "a #!/usr/bin/env bash script is linted too",
            f"exit {r.returncode}: {r.stdout!r}")
    print(f"1..{n}")
    return 1 if fails else 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    bad = lint(argv[1:])
    if bad:
        print(f"{bad} pipeline(s) feed an early-exit reader", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
