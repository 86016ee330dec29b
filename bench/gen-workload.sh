#!/bin/sh
# Generates the benchmark workload, deterministically: the same bytes on
# every machine and every run.
#   DIR/tree/      5,000 files, ~100 MB, in a nested tree (50 x 10 dirs):
#                  half compressible text, half random bytes, both from
#                  python3's random.Random with a fixed seed
#   DIR/image.yaml a spec that copies tree/ to /data/
#   DIR/big/big.bin (with --big) one 1 GiB file: 512 MiB of pseudo-random
#                  bytes (openssl AES-256-CTR with a fixed key over
#                  /dev/zero), then 512 MiB of repeated text
#   DIR/big.yaml   a spec that copies it
# usage: bench/gen-workload.sh [--big] [DIR]     (DIR: bench/work/workload)
# FILES and TOTAL_MB change the size of tree/ (defaults 5000 and 100).
set -eu
big=false
if [ "${1:-}" = --big ]; then big=true; shift; fi
dir=${1:-$(dirname "$0")/work/workload}
files=${FILES:-5000}
total_mb=${TOTAL_MB:-100}
mkdir -p "$dir"

if [ ! -f "$dir/tree.done" ] || [ "$(cat "$dir/tree.done")" != "$files $total_mb" ]; then
	rm -rf "$dir/tree" "$dir/tree.done"
	python3 - "$dir/tree" "$files" "$total_mb" <<'PY'
import os, random, sys
root, nfiles, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) * 1000 * 1000
rng = random.Random(20260101)
words = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 10)))
         for _ in range(4000)]
# A pool of text to slice files from: 4 MB of words and newlines.
pool = bytearray()
while len(pool) < 4 * 1000 * 1000:
    line = b" ".join(rng.choice(words) for _ in range(rng.randint(4, 14)))
    pool += line + b"\n"
pool = bytes(pool)
avg = total // nfiles
for i in range(nfiles):
    d = os.path.join(root, "d%02d" % (i % 50), "e%d" % ((i // 50) % 10))
    os.makedirs(d, exist_ok=True)
    size = rng.randint(avg // 2, avg * 3 // 2)
    if i % 2 == 0:
        off = rng.randrange(0, len(pool) - size)
        data, name = pool[off:off + size], "f%05d.txt" % i
    else:
        data, name = rng.randbytes(size), "f%05d.bin" % i
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
PY
	# Fixed modes and mtimes, so the baseline tar is stable too.
	find "$dir/tree" -type d -exec chmod 0755 {} + -o -type f -exec chmod 0644 {} +
	find "$dir/tree" -exec touch -h -d @1700000000 {} +
	echo "$files $total_mb" >"$dir/tree.done"
fi
cat >"$dir/image.yaml" <<'YAML'
base: scratch
target: oci:out:bench
created: "2026-01-01T00:00:00Z"
files:
  - src: ./tree
    dest: /data/
YAML

if $big && [ ! -f "$dir/big.done" ]; then
	mkdir -p "$dir/big"
	# The input is cut to length, never the output: nothing here stops
	# reading early (tests/lint/early_exit.py). Same bytes as the earlier
	# `openssl </dev/zero | head -c` and `yes | head -c`.
	{
		head -c 536870912 /dev/zero |
			openssl enc -aes-256-ctr -nosalt -pbkdf2 -pass pass:imagespec-bench 2>/dev/null
		python3 -c 'import sys
n, line = 536870912, b"imagespec benchmark: the second half of the big file is repetitive text\n"
block, out = line * 8192, sys.stdout.buffer
while n > 0:
    out.write(block[:n])
    n -= len(block)'
	} >"$dir/big/big.bin"
	touch -d @1700000000 "$dir/big/big.bin"
	touch "$dir/big.done"
fi
cat >"$dir/big.yaml" <<'YAML'
base: scratch
target: oci:out:big
created: "2026-01-01T00:00:00Z"
files:
  - src: ./big/big.bin
    dest: /big.bin
YAML

echo "workload in $dir: $(find "$dir/tree" -type f | wc -l) files, $(du -sm --apparent-size "$dir/tree" | cut -f1) MB" \
	"(tree digest $(cd "$dir/tree" && find . -type f | sort | xargs sha256sum | sha256sum | cut -c1-16))"
if [ -f "$dir/big/big.bin" ]; then
	echo "big file: $(du -m --apparent-size "$dir/big/big.bin" | cut -f1) MB"
fi
