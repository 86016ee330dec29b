#!/usr/bin/env python3
"""An HTTP/1.1 proxy on 127.0.0.1 in front of a registry of the fixture, which
injects faults the test controls, so that a fault happens at a known point
of the conversation rather than after a time that depends on the machine's
load.

One request per client connection (every answer says `Connection: close`);
the request is passed on with its Host header unchanged, so the registry's
Location URLs keep pointing at the proxy. Bodies are streamed both ways, and
`Expect: 100-continue` works.

Faults:
  --latency SECONDS         every request waits this long before it is passed
                            on (a distant registry: each round trip costs it;
                            bench/README.md measures with it)
  --rate BYTES_PER_SECOND   request bodies reach the registry at most this
                            fast (a slow uplink: uploads take long enough
                            for tokens to expire on the way)
  --rate-down BYTES_PER_SECOND  answers reach the client at most this fast,
                            in pieces of a quarter second's worth (a
                            trickling registry: a stalled download)
  --revoke-bearer-after N   each Bearer token carries at most N requests to a
                            repository (/v2/NAME/...); later requests with it
                            get 401 and the registry's token challenge
                            (--realm, --service, the path's scope), as when a
                            registry stops accepting a token before the client
                            expected. A new token gets N more.
  --refuse-chunked          a request with a chunked body gets 411 Length
                            Required, as from proxies that want a
                            Content-Length
  --refuse-patch-after N    every PATCH after the first N (counted from the
                            proxy's start) gets 416 Requested Range Not
                            Satisfiable with BLOB_UPLOAD_INVALID, its body
                            read and dropped: a registry that takes one
                            streamed PATCH per upload and no more. The log
                            says outcome "refused-patch".
  --chunk-min N             the answer to every POST that opens a blob upload
                            says OCI-Chunk-Min-Length: N (distribution-spec
                            1.1: the least bytes of a PATCH but the last).
                            The log says outcome "chunk-min".
  --unauthorized-at N       the Nth request to a repository (/v2/NAME/...,
                            counted from 1 in arrival order, whatever its
                            credentials) gets 401 with the challenge of
                            --challenge (default: Basic realm="fault-proxy"),
                            once: a load balancer reset, a session that
                            expired on the server side. Its body is read and
                            dropped.

  --reset-body-after BYTES  a blob GET (/v2/NAME/blobs/sha256:...) whose answer
                            body is longer is cut after BYTES bytes of it: the
                            connection to the client is reset (RST), as a
                            load balancer or a flaky link does. The first
                            --reset-times (default 1) such GETs are cut; the
                            log says outcome "reset" and how many body bytes
                            went through.
  --head-from REPO          a blob HEAD (/v2/NAME/blobs/sha256:...) in any other
                            repository is answered from REPO instead: a HEAD
                            that lies 200 for a blob the repository does not
                            hold, so that only the manifest PUT finds out
                            (MANIFEST_BLOB_UNKNOWN). The log says outcome
                            "head-from".
  --head-in REPO            with --head-from: only the blob HEADs in REPO lie
                            (the others, a base's included, are passed on)
  --strip-range             the Range header of requests is dropped: the
                            registry answers 200 with the whole blob, as a
                            server that does not do ranges.
  --hold REGEX --until FILE a request whose "METHOD PATH" matches REGEX is
                            held until FILE exists (looked for every 10 ms),
                            at most --hold-max seconds (default 60), then
                            passed on; the log says "held": true when FILE
                            came, false when the wait ran out. With another
                            proxy's --touch, a test sees that two requests
                            were under way at once, whatever the machine's
                            speed.
  --touch REGEX FILE        FILE is made when a request whose "METHOD PATH"
                            matches REGEX arrives, before it is passed on.

Log: one JSON line per request (--log): method, path, token (a short hash of
the Bearer value, never the value), outcome (forwarded | revoked |
unauthorized), status; for a forwarded request also start and end (seconds
since the epoch: when its head was read, when its answer was relayed).
The port is written to --port-file once listening (the proxy binds port 0
itself: no race for the port).
"""
import argparse
import hashlib
import json
import os
import re
import socket
import struct
import sys
import threading
import time

ARGS = None
LOCK = threading.Lock()
USES = {}  # token hash -> requests carried
RESETS = [0]  # blob GETs cut so far
REPO_REQUESTS = [0]  # requests to a repository so far
PATCHES = [0]  # PATCH requests so far (--refuse-patch-after)
HEAD_MAX = 64 * 1024


def log(**rec):
    if not ARGS.log:
        return
    with LOCK, open(ARGS.log, "a") as f:
        f.write(json.dumps(rec) + "\n")


def read_head(f):
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = f.readline(HEAD_MAX)
        if not line:
            return None
        head += line
        if len(head) > HEAD_MAX:
            return None
    return head


def parse_head(head):
    lines = head.decode("latin-1").split("\r\n")
    method, target, version = lines[0].split(" ", 2)
    headers = []
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
    return method, target, version, headers


def header(headers, name):
    for n, v in headers:
        if n.lower() == name:
            return v
    return None


def copy_body(f, out, headers):
    """Copies the request body from f to out (a socket, or None to drop it),
    at most --rate bytes a second."""
    def send(b):
        if out is not None and b:
            out.sendall(b)
            if ARGS.rate:
                time.sleep(len(b) / ARGS.rate)

    te = (header(headers, "transfer-encoding") or "").lower()
    if "chunked" in te:
        while True:
            size_line = f.readline(1024)
            if not size_line:
                return
            send(size_line)
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while True:  # trailers, then the empty line
                    t = f.readline(HEAD_MAX)
                    send(t)
                    if t in (b"\r\n", b""):
                        return
            left = size + 2
            while left:
                b = f.read(min(left, 65536))
                if not b:
                    return
                send(b)
                left -= len(b)
    n = int(header(headers, "content-length") or 0)
    while n:
        b = f.read(min(n, 65536))
        if not b:
            return
        send(b)
        n -= len(b)


BLOB_PATH = re.compile(r"^/v2/.+/blobs/sha256:[0-9a-f]{64}$")
REPO_PATH = re.compile(r"^/v2/(.+?)/(blobs|manifests|tags)/")


def unauthorized(target):
    """The 401 answer for the --unauthorized-at'th repository request, else None."""
    if ARGS.unauthorized_at is None or not REPO_PATH.match(target):
        return None
    with LOCK:
        REPO_REQUESTS[0] += 1
        n = REPO_REQUESTS[0]
    if n != ARGS.unauthorized_at:
        return None
    body = json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required",
                                   "detail": "401 injected by the fault proxy"}]}).encode()
    answer = ("HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n"
              "Docker-Distribution-Api-Version: registry/2.0\r\n"
              "WWW-Authenticate: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
              % (ARGS.challenge, len(body)))
    return answer.encode("latin-1") + body


def revoke(method, target, headers):
    """The 401 answer when this request's token has run out, else None."""
    if ARGS.revoke_bearer_after is None:
        return None, None
    auth = header(headers, "authorization") or ""
    m = REPO_PATH.match(target)
    if not auth.lower().startswith("bearer ") or not m:
        return None, None
    tok = hashlib.sha256(auth[7:].strip().encode()).hexdigest()[:12]
    with LOCK:
        USES[tok] = USES.get(tok, 0) + 1
        spent = USES[tok] > ARGS.revoke_bearer_after
    if not spent:
        return None, tok
    actions = "pull" if method in ("GET", "HEAD") else "pull,push"
    challenge = 'Bearer realm="%s",service="%s",scope="repository:%s:%s",error="invalid_token"' % (
        ARGS.realm, ARGS.service, m.group(1), actions)
    body = json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required",
                                   "detail": "token revoked by the fault proxy"}]}).encode()
    answer = ("HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n"
              "Docker-Distribution-Api-Version: registry/2.0\r\n"
              "WWW-Authenticate: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % (challenge, len(body)))
    return answer.encode("latin-1") + body, tok


def relay(src, dst, status, cut=None):
    """Copies the answer back; the first final status (not 100) goes to status.
    cut: a dict {"after": N}: once N bytes of the body of a 200/206 answer
    went through, dst is reset; cut["sent"] says how many did."""
    seen = b""
    body_at = None  # offset of the body in the stream, once the head is complete
    total = 0
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            if not status and len(seen) < 8192:
                seen += b
                codes = [c for c in re.findall(rb"(?:^|\r\n)HTTP/\d\.\d (\d{3})", seen) if c != b"100"]
                if codes:
                    status.append(int(codes[0]))
            if cut is not None and body_at is None and status and status[0] in (200, 206):
                head = seen if len(seen) < 8192 else seen[:8192]
                i = head.find(b"\r\n\r\n", head.find(b"HTTP/1.1 %d" % status[0]))
                if i >= 0:
                    body_at = i + 4
            if cut is not None and body_at is not None and total + len(b) > body_at + cut["after"]:
                with LOCK:
                    spent = RESETS[0] >= ARGS.reset_times
                    RESETS[0] += 0 if spent else 1
                if spent:
                    cut = None
                    dst.sendall(b)
                    total += len(b)
                    continue
                keep = body_at + cut["after"] - total
                if keep > 0:
                    dst.sendall(b[:keep])
                cut["sent"] = cut["after"]
                dst.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                dst.close()
                return
            if ARGS.rate_down:
                step = max(1, int(ARGS.rate_down / 4))
                for i in range(0, len(b), step):
                    dst.sendall(b[i:i + step])
                    time.sleep(len(b[i:i + step]) / ARGS.rate_down)
            else:
                dst.sendall(b)
            total += len(b)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def handle(client):
    try:
        f = client.makefile("rb")
        first = f.peek(1)[:1]
        if not first or not first.isalpha():
            return  # not HTTP (a TLS ClientHello, when the client tries https first): hang up
        head = read_head(f)
        if head is None:
            return
        method, target, version, headers = parse_head(head)
        line = "%s %s" % (method, target.split("?")[0])
        if ARGS.touch and re.search(ARGS.touch[0], line):
            open(ARGS.touch[1], "a").close()
        held = None
        if ARGS.hold and re.search(ARGS.hold, line):
            deadline = time.time() + ARGS.hold_max
            while not os.path.exists(ARGS.until) and time.time() < deadline:
                time.sleep(0.01)
            held = os.path.exists(ARGS.until)
        if ARGS.latency:
            time.sleep(ARGS.latency)
        start = time.time()
        answer, tok = revoke(method, target, headers)
        injected = unauthorized(target) if answer is None else None
        if injected is not None:
            if (header(headers, "expect") or "").lower() != "100-continue":
                copy_body(f, None, headers)
            client.sendall(injected)
            log(method=method, path=target.split("?")[0], token=tok, outcome="unauthorized", status=401)
            return
        if answer is not None:
            # Without Expect: 100-continue the client sends its body first.
            if (header(headers, "expect") or "").lower() != "100-continue":
                copy_body(f, None, headers)
            client.sendall(answer)
            log(method=method, path=target.split("?")[0], token=tok, outcome="revoked", status=401)
            return
        if method == "PATCH" and ARGS.refuse_patch_after is not None:
            with LOCK:
                PATCHES[0] += 1
                n = PATCHES[0]
            if n > ARGS.refuse_patch_after:
                if (header(headers, "expect") or "").lower() != "100-continue":
                    copy_body(f, None, headers)
                body = json.dumps({"errors": [{"code": "BLOB_UPLOAD_INVALID", "message": "blob upload invalid",
                                               "detail": "416 injected by the fault proxy"}]}).encode()
                client.sendall(b"HTTP/1.1 416 Requested Range Not Satisfiable\r\nContent-Type: application/json\r\n"
                               b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
                log(method=method, path=target.split("?")[0], token=tok, outcome="refused-patch", status=416)
                return
        if ARGS.refuse_chunked and "chunked" in (header(headers, "transfer-encoding") or "").lower():
            if (header(headers, "expect") or "").lower() != "100-continue":
                copy_body(f, None, headers)
            body = b"411 length required: chunked bodies are refused here"
            client.sendall(b"HTTP/1.1 411 Length Required\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                           b"Connection: close\r\n\r\n" % len(body) + body)
            log(method=method, path=target.split("?")[0], token=tok, outcome="refused-chunked", status=411)
            return
        outcome = "forwarded"
        m = REPO_PATH.match(target)
        if (ARGS.head_from and method == "HEAD" and BLOB_PATH.match(target) and m
                and m.group(1) != ARGS.head_from and ARGS.head_in in (None, m.group(1))):
            target = "/v2/%s/%s" % (ARGS.head_from, target[len(m.group(0)) - len(m.group(2)) - 1:])
            outcome = "head-from"
        up = socket.create_connection(("127.0.0.1", ARGS.upstream_port))
        drop = ("connection", "keep-alive", "proxy-connection", "proxy-authorization") + (
            ("range",) if ARGS.strip_range else ())
        keep = [(n, v) for n, v in headers if n.lower() not in drop]
        cut = None
        if ARGS.reset_body_after is not None and method == "GET" and BLOB_PATH.match(target):
            cut = {"after": ARGS.reset_body_after}
        keep.append(("Connection", "close"))
        out = "%s %s %s\r\n" % (method, target, version) + "".join("%s: %s\r\n" % nv for nv in keep) + "\r\n"
        up.sendall(out.encode("latin-1"))
        if ARGS.chunk_min is not None and method == "POST" and target.split("?")[0].endswith("/blobs/uploads/"):
            # The answer is small: read whole, the header added after its status line.
            copy_body(f, up, headers)
            answer = b""
            while True:
                b = up.recv(65536)
                if not b:
                    break
                answer += b
            up.close()
            i = answer.find(b"\r\n")
            answer = answer[:i + 2] + b"OCI-Chunk-Min-Length: %d\r\n" % ARGS.chunk_min + answer[i + 2:]
            client.sendall(answer)
            code = re.match(rb"HTTP/\d\.\d (\d{3})", answer)
            log(method=method, path=target.split("?")[0], token=tok, outcome="chunk-min",
                status=int(code.group(1)) if code else None)
            return
        status = []
        back = threading.Thread(target=relay, args=(up, client, status, cut), daemon=True)
        back.start()
        copy_body(f, up, headers)
        back.join()
        up.close()
        rng = header(headers, "range")
        if cut is not None and "sent" in cut:
            log(method=method, path=target.split("?")[0], token=tok, outcome="reset", status=status[0] if status else None,
                body_sent=cut["sent"], range=rng)
        else:
            log(method=method, path=target.split("?")[0], token=tok, outcome=outcome,
                asked=m.group(1) if outcome == "head-from" else None,
                status=status[0] if status else None, range=rng, start=start, end=time.time(), held=held)
    except (OSError, ValueError) as e:
        log(outcome="error", error=str(e))
    finally:
        try:
            client.close()
        except OSError:
            pass


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--upstream-port", type=int, required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--log")
    p.add_argument("--latency", type=float, default=0)
    p.add_argument("--rate", type=float, default=0)
    p.add_argument("--rate-down", type=float, default=0)
    p.add_argument("--revoke-bearer-after", type=int)
    p.add_argument("--realm", default="")
    p.add_argument("--service", default="")
    p.add_argument("--refuse-chunked", action="store_true")
    p.add_argument("--unauthorized-at", type=int)
    p.add_argument("--refuse-patch-after", type=int)
    p.add_argument("--chunk-min", type=int)
    p.add_argument("--reset-body-after", type=int)
    p.add_argument("--reset-times", type=int, default=1)
    p.add_argument("--strip-range", action="store_true")
    p.add_argument("--head-from")
    p.add_argument("--head-in")
    p.add_argument("--challenge", default='Basic realm="fault-proxy"')
    p.add_argument("--hold")
    p.add_argument("--until")
    p.add_argument("--hold-max", type=float, default=60)
    p.add_argument("--touch", nargs=2)
    ARGS = p.parse_args()
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    with open(ARGS.port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.getsockname()[1])
    os.rename(ARGS.port_file + ".tmp", ARGS.port_file)
    # Never outlive a forgotten test by long.
    threading.Timer(1800, lambda: os._exit(0)).start()
    while True:
        c, _ = srv.accept()
        threading.Thread(target=handle, args=(c,), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
