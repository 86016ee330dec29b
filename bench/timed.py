#!/usr/bin/env python3
"""timed.py -o FILE CMD [ARGS...]: runs CMD and writes "WALL_S RSS_KIB" to FILE.

WALL_S is the wall time from just before CMD is started to its exit, to the
millisecond; RSS_KIB is CMD's peak resident set. /usr/bin/time -f '%e %M'
gave both before, but %e is rounded to 10 ms: a sixth of an unchanged
rebuild, too coarse for the ratios of the cases that take 60 ms. The peak
RSS still comes from /usr/bin/time, which forks CMD from its own small
image: a child forked from Python (or spawned, with CLONE_VM) would be
charged Python's 14 MB when it execs. Exits with /usr/bin/time's status,
which is CMD's.
"""
import os
import subprocess
import sys
import time

if len(sys.argv) < 4 or sys.argv[1] != "-o":
    sys.exit("usage: timed.py -o FILE CMD [ARGS...]")
out, cmd = sys.argv[2], sys.argv[3:]
rss_file = out + ".rss"
start = time.perf_counter()
code = subprocess.call(["/usr/bin/time", "-f", "%M", "-o", rss_file] + cmd)
wall = time.perf_counter() - start
with open(rss_file) as f:
    rss = f.read().split()[-1]
with open(out, "w") as f:
    f.write("%.3f %s\n" % (wall, rss))
sys.exit(code if code >= 0 else 128 - code)
