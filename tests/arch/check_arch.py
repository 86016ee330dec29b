#!/usr/bin/env python3
"""Checks that the rooms of src/ include each other only along allowed arrows.

Each directory under src/ is a room. A room owns its types: the others reach
them through the room's header ("room/x.h"), and only if the room is one they
may depend on. Calls go down, never up: the arrows between rooms form no
cycle, so each room can be read, tested and replaced with only the rooms
below it in mind. A third-party library belongs to exactly one room (libcurl
to http/, OpenSSL to digest/, ...), so swapping the library touches one room.

The allowed arrows live in docs/architecture.md, in the markdown table after
the line holding <!-- arch-table -->:

  | room | owns | may include | third-party headers |
  | `exec/` | ... | `plan/`, `transport/`, `layer/` | |
  | `http/` | ... | `util/` | `curl/*` |

"may include" lists rooms in backticks (`name/`); prose around them is
ignored, and `imagespec/` names the public headers, which every room may
include anyway, as it may "ims_config.h". "third-party headers" lists the
headers (exact names or globs) that only that room may include with <...>.

What counts as an include: a line that starts, outside a comment or a string,
with optional blanks, `#`, optional blanks and `include`. `#include "X/..."`
is an arrow to room X; `#include "x.h"` without a directory is the room's own.

Usage:
  check_arch.py [--root DIR] [--doc FILE]     checks; prints FILE:LINE: ... per
                                              error and exits 1 on any
  check_arch.py --report [--json] [--root DIR]
                                              per room: rooms and third-party
                                              headers included, files, lines,
                                              longest file and function (never
                                              fails; needs no table)
  check_arch.py --self-test                   TAP: plants each error in a
                                              synthetic tree and checks the verdict
"""
import argparse
import fnmatch
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

MARKER = "<!-- arch-table -->"
PUBLIC = "imagespec"          # "imagespec/x.h": the public headers, plain C types
CONFIG_HEADER = "ims_config.h"  # generated; any room may include it
SOURCE_SUFFIXES = (".c", ".h")

# Headers in <...> that come with the C library, POSIX or Linux: never a
# third-party library. Used by --report (which needs no table) and for the
# note about a library header that no room owns.
SYSTEM_HEADERS = {
    # C11
    "assert.h", "complex.h", "ctype.h", "errno.h", "fenv.h", "float.h", "inttypes.h",
    "iso646.h", "limits.h", "locale.h", "math.h", "setjmp.h", "signal.h", "stdalign.h",
    "stdarg.h", "stdatomic.h", "stdbool.h", "stddef.h", "stdint.h", "stdio.h", "stdlib.h",
    "stdnoreturn.h", "string.h", "tgmath.h", "threads.h", "time.h", "uchar.h", "wchar.h",
    "wctype.h",
    # POSIX
    "aio.h", "cpio.h", "dirent.h", "dlfcn.h", "fcntl.h", "fmtmsg.h", "fnmatch.h", "ftw.h",
    "glob.h", "grp.h", "iconv.h", "langinfo.h", "libgen.h", "monetary.h", "mqueue.h",
    "ndbm.h", "netdb.h", "nl_types.h", "poll.h", "pthread.h", "pwd.h", "regex.h",
    "sched.h", "search.h", "semaphore.h", "spawn.h", "strings.h", "syslog.h", "tar.h",
    "termios.h", "trace.h", "ulimit.h", "unistd.h", "utime.h", "utmpx.h", "wordexp.h",
    # glibc
    "alloca.h", "byteswap.h", "endian.h", "err.h", "error.h", "execinfo.h", "features.h",
    "getopt.h", "ifaddrs.h", "link.h", "malloc.h", "mntent.h", "paths.h", "sysexits.h",
}
SYSTEM_DIRS = ("sys/", "arpa/", "net/", "netinet/", "linux/", "asm/", "bits/", "gnu/", "scsi/")

INCLUDE = re.compile(r'\s*#\s*include\s*([<"])([^>"]+)[>"]')
IDENTIFIER_AT_END = re.compile(r"([A-Za-z_]\w*)\s*$")


class DocError(Exception):
    """The table cannot be read at all (no marker, no usable columns)."""


# ---------------------------------------------------------------- the table

@dataclass
class Row:
    room: str
    line: int
    may_include: set = field(default_factory=set)
    third_party: list = field(default_factory=list)


@dataclass
class Table:
    doc_name: str
    rows: dict  # room -> Row
    problems: list  # inconsistencies of the table itself, as error lines

    def allowed(self, room, target):
        return target in self.rows[room].may_include

    def owner_of(self, header):
        for row in self.rows.values():
            if any(fnmatch.fnmatchcase(header, p) for p in row.third_party):
                return row.room
        return None

    def allowed_list(self, room):
        rooms = sorted(self.rows[room].may_include - {PUBLIC})
        return ", ".join(rooms) if rooms else f"only {PUBLIC}/"


def table_lines(text, doc_name):
    """The (line number, line) pairs of the table after the marker."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if MARKER in line), None)
    if start is None:
        raise DocError(f"{doc_name} has no {MARKER} table")
    i = start + 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    rows = []
    while i < len(lines) and lines[i].startswith("|"):
        rows.append((i + 1, lines[i]))
        i += 1
    if len(rows) < 2:
        raise DocError(f"{doc_name} has no {MARKER} table")
    return rows


def cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def backticked(cell):
    return re.findall(r"`([^`]+)`", cell)


def room_names(cell):
    """Rooms named in a cell: backticked `name/`; other text is prose."""
    return [t[:-1] for t in backticked(cell) if re.fullmatch(r"[A-Za-z_][\w-]*/", t)]


def column_indexes(header, line, doc_name):
    names = [c.lower() for c in cells(header)]
    wanted = ("room", "may include", "third-party headers")
    if not all(w in names for w in wanted):
        raise DocError(f"{doc_name}:{line}: the {MARKER} table needs the columns "
                       "| room | owns | may include | third-party headers |")
    return [names.index(w) for w in wanted]


def parse_row(line_no, line, columns, doc_name):
    """A Row, or an error line when the first column names no room."""
    row_cells = cells(line)
    if len(row_cells) <= max(columns):
        return f"{doc_name}:{line_no}: the row has {len(row_cells)} columns, the table more"
    room_col, include_col, third_col = (row_cells[c] for c in columns)
    rooms = room_names(room_col)
    if len(rooms) != 1:
        return f"{doc_name}:{line_no}: the first column must be one room in backticks, e.g. `exec/`"
    return Row(rooms[0], line_no, set(room_names(include_col)), backticked(third_col))


def table_problems(rows, doc_name):
    """Arrows to rooms the table lacks, headers owned by two rooms."""
    problems = []
    owners = {}
    for row in rows.values():
        for target in sorted(row.may_include - set(rows) - {PUBLIC}):
            problems.append(f"{doc_name}:{row.line}: {row.room} may include `{target}/`, "
                            "which is not a room of the table")
        for pattern in row.third_party:
            if pattern in owners:
                problems.append(f"{doc_name}:{row.line}: `{pattern}` is owned by both "
                                f"{owners[pattern]} and {row.room}: a library belongs to one room")
            owners.setdefault(pattern, row.room)
    return problems


def parse_table(text, doc_name):
    lines = table_lines(text, doc_name)
    columns = column_indexes(lines[0][1], lines[0][0], doc_name)
    body = lines[1:]
    if body and re.fullmatch(r"\|[\s:|-]*", body[0][1].strip()):
        body = body[1:]
    rows, problems = {}, []
    for line_no, line in body:
        row = parse_row(line_no, line, columns, doc_name)
        if isinstance(row, str):
            problems.append(row)
        elif row.room in rows:
            problems.append(f"{doc_name}:{line_no}: room {row.room} has a row already "
                            f"(line {rows[row.room].line})")
        else:
            rows[row.room] = row
    return Table(doc_name, rows, problems + table_problems(rows, doc_name))


def load_table(doc, doc_name):
    try:
        text = doc.read_text(encoding="utf-8")
    except OSError as e:
        raise DocError(f"{doc_name}: cannot read it ({e.strerror})")
    return parse_table(text, doc_name)


# ---------------------------------------------------------------- C sources

def code_lines(text):
    """The lines of a C file with comments blanked (line numbers kept), each
    with whether it starts in code (not inside a string continued from the
    line before). A rough lexer: comments, strings, characters, escapes."""
    out, starts = [], [True]
    state = "code"  # code, block, line, string, char
    i, n = 0, len(text)
    while i < n:
        c, two = text[i], text[i:i + 2]
        if state == "code":
            if two in ("/*", "//"):
                state = "block" if two == "/*" else "line"
                out.append("  ")
                i += 2
                continue
            if c in "\"'":
                state = "string" if c == '"' else "char"
            out.append(c)
        elif state == "block":
            if two == "*/":
                state = "code"
                out.append("  ")
                i += 2
                continue
            out.append("\n" if c == "\n" else " ")
        elif state == "line":
            if two == "\\\n":
                out.append(" \n")
                starts.append(True)
                i += 2
                continue
            if c == "\n":
                state = "code"
            out.append("\n" if c == "\n" else " ")
        else:  # string or char literal
            if c == "\\" and i + 1 < n:
                out.append(two)
                if two[1] == "\n":
                    starts.append(False)
                i += 2
                continue
            if c == ("\"" if state == "string" else "'") or c == "\n":
                state = "code"
            out.append(c)
        if c == "\n":
            starts.append(state == "code")
        i += 1
    lines = "".join(out).split("\n")
    return list(zip(lines, starts))


def includes_in(lines):
    """(line number, is <...>, header name) for each #include directive."""
    for number, (line, in_code) in enumerate(lines, 1):
        m = INCLUDE.match(line) if in_code else None
        if m:
            yield number, m.group(1) == "<", m.group(2).strip()


@dataclass
class Function:
    name: str
    line: int
    lines: int


def signature_start(lines, brace):
    """Index of the first line of the signature above a `{` line, or None."""
    i = brace
    while i > 0:
        prev = lines[i - 1].strip()
        if not prev or prev.startswith("#") or prev[-1] in ";{}":
            break
        i -= 1
    return i if i < brace else None


def function_name(signature):
    """The identifier before the first `(`; None for a non-function `{`."""
    if "(" not in signature or signature.rstrip().endswith("="):
        return None
    m = IDENTIFIER_AT_END.search(signature[:signature.index("(")])
    return m.group(1) if m else None


def closing_brace(lines, brace):
    return next((i for i in range(brace + 1, len(lines)) if lines[i].rstrip() == "}"), None)


def functions_in(lines):
    """Function definitions, libgit2 style: `{` and `}` alone at column 0."""
    found = []
    for i, line in enumerate(lines):
        if line.rstrip() != "{":
            continue
        start = signature_start(lines, i)
        name = function_name(" ".join(lines[start:i])) if start is not None else None
        end = closing_brace(lines, i) if name else None
        if end is not None:
            found.append(Function(name, start + 1, end - start + 1))
    return found


@dataclass
class Include:
    path: str
    line: int
    system: bool
    name: str

    def __str__(self):
        return f"#include <{self.name}>" if self.system else f'#include "{self.name}"'

    def where(self):
        return f"{self.path}:{self.line}"

    def quoted_room(self):
        """The first directory of a quoted include, or None (own header, config)."""
        if self.system or "/" not in self.name:
            return None
        return self.name.split("/", 1)[0]


@dataclass
class SourceFile:
    path: str  # relative to the root
    room: str
    lines: int
    includes: list
    functions: list


def line_count(text):
    return text.count("\n") + (1 if text and not text.endswith("\n") else 0)


def read_source(root, path, room):
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = code_lines(text)
    rel = path.relative_to(root).as_posix()
    includes = [Include(rel, n, system, name) for n, system, name in includes_in(lines)]
    return SourceFile(rel, room, line_count(text), includes, functions_in([l for l, _ in lines]))


def is_source(path):
    return path.is_file() and path.suffix in SOURCE_SUFFIXES


def room_dirs(src):
    return sorted(p.name for p in src.iterdir() if p.is_dir() and not p.name.startswith("."))


def read_rooms(root, rooms):
    """room -> its SourceFiles, every .c and .h under src/ROOM/, sorted."""
    src = root / "src"
    return {room: [read_source(root, p, room) for p in sorted((src / room).rglob("*")) if is_source(p)]
            for room in rooms}


def stray_sources(root):
    """Sources directly in src/, outside any room."""
    return [p.relative_to(root).as_posix() for p in sorted((root / "src").iterdir()) if is_source(p)]


def is_system_header(name):
    return name in SYSTEM_HEADERS or name.startswith(SYSTEM_DIRS)


# ---------------------------------------------------------------- the check

@dataclass
class Verdict:
    errors: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    arrows: dict = field(default_factory=dict)  # (room, target) -> first Include


def check_room_dirs(table, rooms_on_disk):
    return [f"src/{room}/: room {room} is not in the {MARKER} table of {table.doc_name}: "
            "add a row for it" for room in rooms_on_disk if room not in table.rows]


def check_quoted(table, room, inc, verdict):
    target = inc.quoted_room()
    if target is None or target in (room, PUBLIC) or inc.name == CONFIG_HEADER:
        return
    if target not in table.rows:
        verdict.errors.append(f"{inc.where()}: {inc}: unknown room {target}: "
                              f"add it to {table.doc_name} first")
        return
    verdict.arrows.setdefault((room, target), inc)
    if not table.allowed(room, target):
        verdict.errors.append(f"{inc.where()}: {inc}: {room} may not include {target} "
                              f"({table.doc_name} allows: {table.allowed_list(room)})")


def check_system(table, room, inc, verdict):
    owner = table.owner_of(inc.name)
    if owner is not None and owner != room:
        verdict.errors.append(f"{inc.where()}: {inc}: {inc.name} belongs to room {owner} "
                              f"({table.doc_name}); {room} may not include it")
    elif owner is None and not is_system_header(inc.name):
        verdict.notes.append(f"{inc.where()}: note: {inc}: not libc/POSIX/Linux and no room owns it "
                             f"in {table.doc_name}")


def check_includes(table, files_by_room, verdict):
    for room, files in files_by_room.items():
        for f in files:
            for inc in f.includes:
                (check_system if inc.system else check_quoted)(table, room, inc, verdict)


def strongly_connected(graph):
    """Tarjan: the strongly connected components of {node: set(nodes)}."""
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            components.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return components


def shortest_cycle(graph, start, component):
    """The shortest path start -> ... -> start inside the component."""
    parents, queue = {}, deque([start])
    while queue:
        v = queue.popleft()
        for w in sorted(graph.get(v, ())):
            if w not in component:
                continue
            if w == start:
                path = [v]
                while path[-1] != start:
                    path.append(parents[path[-1]])
                return list(reversed(path)) + [start]
            if w not in parents:
                parents[w] = v
                queue.append(w)
    return None


def cycles(arrows):
    """One cycle per tangle of rooms, each as [a, b, ..., a]."""
    graph = {}
    for room, target in arrows:
        graph.setdefault(room, set()).add(target)
    found = []
    for component in strongly_connected(graph):
        if len(component) > 1:
            found.append((shortest_cycle(graph, min(component), component), component))
    return sorted(found, key=lambda c: c[0])


def describe_cycle(cycle, component, arrows):
    text = ["cycle: " + " -> ".join(cycle)]
    for room, target in zip(cycle, cycle[1:]):
        inc = arrows[(room, target)]
        text.append(f"  {inc.where()}: {inc} ({room} -> {target})")
    if len(component) > len(cycle) - 1:
        text.append("  (rooms tangled with it: " + ", ".join(sorted(component)) + ")")
    return "\n".join(text)


def run_check(root, doc, doc_name):
    src = root / "src"
    if not src.is_dir():
        print(f"{root}: no src/ directory", file=sys.stderr)
        return 1
    try:
        table = load_table(doc, doc_name)
    except DocError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    on_disk = room_dirs(src)
    files_by_room = read_rooms(root, [r for r in on_disk if r in table.rows])
    verdict = Verdict(errors=table.problems + check_room_dirs(table, on_disk))
    verdict.errors += [f"{p}: not inside a room (src/ROOM/)" for p in stray_sources(root)]
    check_includes(table, files_by_room, verdict)
    verdict.errors += [describe_cycle(c, comp, verdict.arrows) for c, comp in cycles(verdict.arrows)]
    for line in verdict.notes + verdict.errors:
        print(line)
    nfiles = sum(len(f) for f in files_by_room.values())
    if verdict.errors:
        print(f"{len(verdict.errors)} error(s) in {nfiles} files, {len(verdict.arrows)} arrows",
              file=sys.stderr)
        return 1
    print(f"{nfiles} files, {len(verdict.arrows)} arrows, all allowed")
    return 0


# ---------------------------------------------------------------- the report

def longest_file(files):
    f = max(files, key=lambda f: f.lines, default=None)
    return {"path": f.path, "lines": f.lines} if f else None


def longest_function(files):
    best = None
    for f in files:
        for fn in f.functions:
            if best is None or fn.lines > best["lines"]:
                best = {"name": fn.name, "file": f.path, "line": fn.line, "lines": fn.lines}
    return best


def room_report(files, rooms):
    includes, third_party = set(), set()
    for f in files:
        for inc in f.includes:
            target = inc.quoted_room()
            if target in rooms and target != f.room:
                includes.add(target)
            elif inc.system and not is_system_header(inc.name):
                third_party.add(inc.name)
    return {
        "includes": sorted(includes),
        "third_party": sorted(third_party),
        "files": len(files),
        "lines": sum(f.lines for f in files),
        "longest_file": longest_file(files),
        "longest_function": longest_function(files),
    }


def build_report(root):
    rooms = room_dirs(root / "src")
    files_by_room = read_rooms(root, rooms)
    every = [f for files in files_by_room.values() for f in files]
    return {
        "rooms": {room: room_report(files, set(rooms)) for room, files in files_by_room.items()},
        "total": {
            "files": len(every),
            "lines": sum(f.lines for f in every),
            "longest_file": longest_file(every),
            "longest_function": longest_function(every),
        },
    }


def file_text(f):
    return f"{f['path']} ({f['lines']} lines)" if f else "-"


def function_text(fn):
    return f"{fn['name']} ({fn['file']}:{fn['line']}, {fn['lines']} lines)" if fn else "-"


def print_report(report):
    for room, r in report["rooms"].items():
        print(f"{room}: {r['files']} files, {r['lines']} lines")
        print(f"  includes: {', '.join(r['includes']) or '-'}")
        print(f"  third-party: {', '.join(r['third_party']) or '-'}")
        print(f"  longest file: {file_text(r['longest_file'])}")
        print(f"  longest function: {function_text(r['longest_function'])}")
    t = report["total"]
    print(f"total: {t['files']} files, {t['lines']} lines; longest file: {file_text(t['longest_file'])}; "
          f"longest function: {function_text(t['longest_function'])}")


def run_report(root, as_json):
    if not (root / "src").is_dir():
        print(f"{root}: no src/ directory", file=sys.stderr)
        return 1
    report = build_report(root)
    if as_json:
        print(json.dumps(report, indent=2, sort_keys=True))
    else:
        print_report(report)
    return 0


# ---------------------------------------------------------------- self-test

DOC = """# Architecture

Some prose, and a table that is not the one: | x | y |

{marker}
| room | owns | may include | third-party headers |
| --- | --- | --- | --- |
| `a/` | the top | `b/`, `c/` and the public `imagespec/` | |
| `b/` | the middle | `c/` only | |
| `c/` | the bottom | nothing | |
| `d/` | compression | `c/` | `zlib.h`, `zs/*` |

After the table.
"""
PERMISSIVE_C = "| `c/` | the bottom | `a/` (a cycle) | |"

TREE = {
    "src/a/a.h": '#ifndef A_H\n#define A_H\n#include "b/b.h"\nint a_run(int x);\n#endif\n',
    "src/a/a.c": ('#include <stdlib.h>\n#include "ims_config.h"\n#include "imagespec/common.h"\n'
                  '#include "a.h"\n#include "a/a.h"\n#include "c/c.h"\n\n'
                  "int a_run(int x)\n{\n\treturn b_run(x) + c_run(x);\n}\n"),
    "src/b/b.h": "int b_run(int x);\n",
    "src/b/b.c": ('#include "b/b.h"\n#include "c/c.h"\n\n'
                  "/* a comment with a { and a\n#include \"a/a.h\" */\n"
                  "static int\nb_long(int x,\n       int y)\n{\n\tint r = 0;\n"
                  "\tfor (int i = 0; i < x; i++) {\n\t\tr += y;\n\t}\n"
                  "\treturn r;\n}\n\n"
                  "static const int table[] =\n{\n\t1, 2,\n};\n\n"
                  "int b_run(int x)\n{\n\treturn b_long(x, 2) + table[0];\n}\n"),
    "src/c/c.h": "int c_run(int x);\n",
    "src/c/c.c": '#include <string.h>\n#include "c.h"\n\nint c_run(int x)\n{\n\treturn x;\n}\n',
    "src/d/d.c": "#include <zlib.h>\n#include <zs/zs.h>\n#include <stdio.h>\n",
    "src/meson.build": "# not a source\n",
}
# b_long: signature on lines 6-8, closing brace on line 15.
B_LONG = {"name": "b_long", "file": "src/b/b.c", "line": 6, "lines": 10}

TRAPS = ("/* #include \"a/a.h\"\n#include \"a/a.h\"\n */\n"
         "// #include \"a/a.h\"\n"
         "static const char *s = \"#include \\\"a/a.h\\\"\";\n"
         "static const char *t = \"\\\n#include \\\"a/a.h\\\"\";\n"
         "static const char *u = \"http://x/*\";\n")


def write_tree(base, files, doc):
    for rel, text in files.items():
        p = base / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    (base / "docs").mkdir(exist_ok=True)
    (base / "docs" / "architecture.md").write_text(doc)


def plant(files, rel, text):
    """A copy of files with text appended to rel, and its first line number."""
    files = dict(files)
    old = files.get(rel, "")
    files[rel] = old + text
    return files, old.count("\n") + 1


class SelfTest:
    def __init__(self, tmp):
        self.tmp, self.n, self.failed, self.trees = Path(tmp), 0, 0, 0

    def run(self, files, doc=DOC.format(marker=MARKER), *args):
        self.trees += 1
        base = self.tmp / f"tree{self.trees}"
        write_tree(base, files, doc)
        r = subprocess.run([sys.executable, __file__, "--root", str(base), *args],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return r.returncode, r.stdout

    def tap(self, ok, desc, output=""):
        self.n += 1
        self.failed += not ok
        print(f"{'ok' if ok else 'not ok'} {self.n} - {desc}")
        if not ok:
            for line in output.splitlines():
                print(f"#   {line}")

    def fails_with(self, desc, files, needles, doc=DOC.format(marker=MARKER)):
        code, out = self.run(files, doc)
        self.tap(code == 1 and all(s in out for s in needles), desc, f"exit {code}\n{out}")
        return out


def self_test():
    with tempfile.TemporaryDirectory() as tmp:
        t = SelfTest(tmp)
        permissive = DOC.format(marker=MARKER).replace("| `c/` | the bottom | nothing | |", PERMISSIVE_C)

        code, out = t.run(TREE)
        t.tap(code == 0 and out.strip() == "7 files, 3 arrows, all allowed",
              "the clean tree passes: 7 files, 3 arrows", f"exit {code}\n{out}")

        files, line = plant(TREE, "src/c/c.c", '#include "a/a.h"\n')
        t.fails_with("a forbidden arrow fails, naming FILE:LINE and the allowed rooms", files,
                     [f"src/c/c.c:{line}: #include \"a/a.h\": c may not include a",
                      "(docs/architecture.md allows: only imagespec/)"])

        files, line = plant(TREE, "src/c/c.c", '  #  include   "a/a.h"\n')
        t.fails_with("`  #  include` (blanks around #) counts", files,
                     [f"src/c/c.c:{line}:", "c may not include a"])

        files, line = plant(TREE, "src/c/c.c", '#include "a/a.h"\n')
        out = t.fails_with("allowed arrows that form a cycle fail, naming the cycle and FILE:LINE",
                           files, ["cycle: a -> c -> a", "src/a/a.c:6: #include \"c/c.h\" (a -> c)",
                                   f"src/c/c.c:{line}: #include \"a/a.h\" (c -> a)"], doc=permissive)
        t.tap("may not include" not in out, "... and only the cycle", out)

        files, line = plant(TREE, "src/a/a.c", "#include <zlib.h>\n")
        t.fails_with("a third-party header outside its room fails, naming it and its owner", files,
                     [f"src/a/a.c:{line}: #include <zlib.h>: zlib.h belongs to room d"])

        files, line = plant(TREE, "src/b/b.c", "#include <zs/deep/zs.h>\n")
        t.fails_with("a header matched by an owner's glob (`zs/*`) fails outside it", files,
                     [f"src/b/b.c:{line}:", "belongs to room d"])

        files, line = plant(TREE, "src/b/b.c", '#include "zz/q.h"\n')
        t.fails_with("an include of an unknown room fails", files,
                     [f"src/b/b.c:{line}: #include \"zz/q.h\": unknown room zz: "
                      "add it to docs/architecture.md first"])

        files = dict(TREE, **{"src/e/e.c": '#include "c/c.h"\n'})
        t.fails_with("a room directory missing from the table fails", files,
                     ["src/e/: room e is not in the"])

        files, _ = plant(TREE, "src/c/c.c", TRAPS)
        code, out = t.run(files)
        t.tap(code == 0, "includes in comments and strings do not count", f"exit {code}\n{out}")

        code, out = t.run(files, DOC.format(marker=MARKER), "--report", "--json")
        try:
            report = json.loads(out)
        except ValueError:
            report = None
        t.tap(code == 0 and report is not None, "--report --json prints one JSON object", out)
        report = report or {"rooms": {}, "total": {}}
        rooms = report["rooms"]
        t.tap(report["total"].get("longest_function") == B_LONG and
              rooms.get("b", {}).get("longest_function") == B_LONG,
              "the longest function is b_long, src/b/b.c:6, 10 lines", out)
        t.tap(rooms.get("a", {}).get("includes") == ["b", "c"] and
              rooms.get("c", {}).get("includes") == [] and
              rooms.get("d", {}).get("third_party") == ["zlib.h", "zs/zs.h"],
              "the report lists the rooms and third-party headers each room includes", out)
        t.tap(rooms.get("a", {}).get("files") == 2 and rooms.get("a", {}).get("lines") == 16 and
              rooms.get("a", {}).get("longest_file") == {"path": "src/a/a.c", "lines": 11},
              "the report counts files and lines", out)

        no_table = "# Architecture\n\nNo table yet.\n"
        t.fails_with("a doc without the marker fails clearly", TREE,
                     ["docs/architecture.md has no <!-- arch-table --> table"], doc=no_table)
        code, out = t.run(TREE, no_table, "--report")
        t.tap(code == 0 and "total: 7 files" in out, "--report needs no table", f"exit {code}\n{out}")

        print(f"1..{t.n}")
        print(f"# {t.n - t.failed} of {t.n} passed")
        return 1 if t.failed else 0


# ---------------------------------------------------------------- main

def parse_args(argv):
    p = argparse.ArgumentParser(description="Checks the include arrows between the rooms of src/.")
    p.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2],
                   help="the project root (default: two levels up from this script)")
    p.add_argument("--doc", type=Path, help="the table (default: ROOT/docs/architecture.md)")
    p.add_argument("--report", action="store_true", help="per-room facts; never fails")
    p.add_argument("--json", action="store_true", help="with --report: as one JSON object")
    p.add_argument("--self-test", action="store_true", help="TAP self-test on synthetic trees")
    args = p.parse_args(argv)
    if args.json and not args.report:
        p.error("--json goes with --report")
    return args


def doc_display_name(root, doc):
    """docs/architecture.md when the doc is under the root, else as given."""
    rel = os.path.relpath(os.path.abspath(doc), os.path.abspath(root))
    return str(doc) if rel.startswith("..") else Path(rel).as_posix()


def main(argv):
    args = parse_args(argv)
    if args.self_test:
        return self_test()
    root = args.root
    if args.report:
        return run_report(root, args.json)
    doc = args.doc or root / "docs" / "architecture.md"
    return run_check(root, doc, doc_display_name(root, doc))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
