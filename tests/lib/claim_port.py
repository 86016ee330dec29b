#!/usr/bin/env python3
"""Prints a TCP port that a test server may bind on ADDR, and claims it.

    claim_port.py [ADDR] [OWNER_PID]

A port taken from the kernel (bind to port 0, close, hand the number on) is
a race: until the server binds it, any client connection on the machine may
get the same number as its ephemeral source port, and two tests may be
handed the same number. So the port comes from outside the kernel's
ephemeral range (ip_local_port_range), which clients never get, and it is
claimed by an atomic mkdir under $IMS_TEST_PORTS_DIR (default
/tmp/imagespec-test-ports/PORT, holding a file `owner` with OWNER_PID), so no
other test of this suite is handed it while the claim stands. The claim is
also kept across a restart of the server on the same port. The owner removes
its claims when it ends (tests/e2e/lib.sh, tests/unit/testport.h).
"""
import os
import random
import socket
import sys


def main():
    addr = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    owner = sys.argv[2] if len(sys.argv) > 2 else str(os.getppid())
    top = os.environ.get("IMS_TEST_PORTS_DIR", "/tmp/imagespec-test-ports")
    os.makedirs(top, exist_ok=True)
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
    except (OSError, ValueError):
        lo, hi = 32768, 60999
    ranges = [(r0, r1) for r0, r1 in ((10000, lo - 1), (hi + 1, 65535)) if r1 - r0 >= 100]
    if not ranges:
        print("claim_port: no port range outside the ephemeral one", file=sys.stderr)
        return 1
    rng = random.SystemRandom()
    for _ in range(500):
        r0, r1 = rng.choice(ranges)
        port = rng.randint(r0, r1)
        claim = os.path.join(top, str(port))
        try:
            os.mkdir(claim)
        except FileExistsError:
            continue
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((addr, port))
        except OSError:
            os.rmdir(claim)
            continue
        finally:
            s.close()
        with open(os.path.join(claim, "owner"), "w") as f:
            f.write(owner + "\n")
        print(port)
        return 0
    print("claim_port: no free port after 500 tries", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
