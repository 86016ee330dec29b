#!/usr/bin/env python3
"""A scripted HTTP(S) peer for the HTTP room's tests (python3 stdlib only).

It binds 127.0.0.1 (or --host) on a free port and prints that port on the
first line of stdout, so a test can start it, read the port and later stop
it by PID. With --tls CERT KEY it speaks HTTPS; with --client-ca CA it also
demands a client certificate signed by CA.

Behaviour comes from the path (extra path segments after the documented
ones are ignored, so a test can use a fresh counter with /flaky/2/mytest):

  /status/NNN              answer NNN (?retry-after=V adds that header)
  /retry-after/N           503 with "Retry-After: N" on the first hit, then 200
  /retry-after-date/N      the same with an HTTP date N seconds ahead
  /flaky/N                 500 for the first N hits, then 200
  /redirect?to=URL         302 (or ?code=NNN) with Location: URL
  /redirect-loop           302 to itself, forever
  /echo-headers            200 with the request as JSON (see echo())
  /chunked-upload          the same; says whether the body came chunked
  /slow?n=N&delay=S        Content-Length N, then one byte every S seconds
  /big?n=BYTES&status=NNN  a body of BYTES (default 1 GiB), bigger than any cap
  /hits/PATH               {"count": how many requests /PATH has had}

Successful answers of /retry-after, /flaky and the echo paths carry the echo
JSON, so the test also sees what the retried request looked like.

--rules FILE scripts paths with JSON: a list of
  {"path": "/x", "responses": [{"status": 200, "headers": {}, "body": ""}]}
where hit k of /x gets responses[k-1] (the last one once they run out).
Rules win over the built-in paths.
"""
import argparse
import email.utils
import hashlib
import json
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

hits = {}
hits_lock = threading.Lock()


def count(path):
    with hits_lock:
        hits[path] = hits.get(path, 0) + 1
        return hits[path]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "imstest/1"

    def setup(self):
        # The handshake runs here, in the connection's thread, so that a
        # client that never speaks TLS cannot stall accept().
        self.request.settimeout(30)
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()
        super().setup()

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    def read_body(self):
        te = self.headers.get("Transfer-Encoding", "").lower()
        if "chunked" in te:
            out = bytearray()
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out), True
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length", "0") or "0")
        return (self.rfile.read(n) if n else b""), False

    def send(self, status, body=b"", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if status >= 200 and status not in (204, 304):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def echo(self, status=200, headers=None):
        """The request as JSON: method, path, headers (lower-cased names),
        body length and sha256, whether the body came chunked, the client
        certificate's CN and the client's port (to see connection reuse)."""
        hdrs = {}
        for k, v in self.headers.items():
            k = k.lower()
            hdrs[k] = hdrs[k] + ", " + v if k in hdrs else v
        cert = None
        if isinstance(self.request, ssl.SSLSocket):
            peer = self.request.getpeercert()
            if peer:
                cert = dict(x[0] for x in peer.get("subject", ())).get("commonName")
        doc = {
            "method": self.command,
            "path": self.path,
            "headers": hdrs,
            "body_len": len(self.body),
            "sha256": hashlib.sha256(self.body).hexdigest(),
            "chunked": self.chunked,
            "client_cert": cert,
            "peer_port": self.client_address[1],
        }
        body = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        self.send(status, body, h)

    def stream(self, status, n, delay=0.0):
        self.send_response(status)
        self.send_header("Content-Length", str(n))
        self.end_headers()
        if self.command == "HEAD":
            return
        block = bytes(i % 251 for i in range(65536 if not delay else 1))
        try:
            sent = 0
            while sent < n:
                chunk = block[: min(len(block), n - sent)]
                self.wfile.write(chunk)
                self.wfile.flush()
                sent += len(chunk)
                if delay:
                    time.sleep(delay)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, socket.timeout):
            self.close_connection = True

    def rule(self, path):
        for r in self.server.rules:
            if r.get("path") == path:
                k = count(path)
                resps = r.get("responses") or [{}]
                resp = resps[min(k, len(resps)) - 1]
                self.send(resp.get("status", 200), resp.get("body", "").encode(), resp.get("headers"))
                return True
        return False

    def handle_any(self):
        self.body, self.chunked = self.read_body()
        u = urlsplit(self.path)
        q = {k: v[-1] for k, v in parse_qs(u.query).items()}
        path = u.path
        if self.rule(path):
            return
        seg = path.strip("/").split("/")
        name, arg = seg[0], seg[1] if len(seg) > 1 else None
        if name == "hits":
            key = "/" + "/".join(seg[1:])
            with hits_lock:
                n = hits.get(key, 0)
            self.send(200, json.dumps({"count": n}).encode(), {"Content-Type": "application/json"})
            return
        k = count(path)
        if name == "status":
            code = int(arg)
            h = {"Retry-After": q["retry-after"]} if "retry-after" in q else {}
            self.send(code, ("status %d\n" % code).encode(), h)
        elif name == "retry-after":
            if k == 1:
                self.send(503, b"slow down\n", {"Retry-After": arg})
            else:
                self.echo()
        elif name == "retry-after-date":
            if k == 1:
                when = email.utils.formatdate(time.time() + int(arg), usegmt=True)
                self.send(503, b"slow down\n", {"Retry-After": when})
            else:
                self.echo()
        elif name == "flaky":
            if k <= int(arg):
                self.send(500, b"flaky\n")
            else:
                self.echo()
        elif name == "redirect":
            self.send(int(q.get("code", "302")), b"", {"Location": q.get("to", "/")})
        elif name == "redirect-loop":
            self.send(302, b"", {"Location": path})
        elif name in ("echo-headers", "chunked-upload"):
            self.echo()
        elif name == "slow":
            self.stream(200, int(q.get("n", "10")), float(q.get("delay", "1")))
        elif name == "big":
            self.stream(int(q.get("status", "200")), int(q.get("n", str(1 << 30))))
        else:
            self.send(404, b"no such path\n")

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    tls = None
    rules = []
    verbose = False

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.tls:
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        # Clients that hang up or fail the handshake are what the tests do.
        if self.verbose:
            super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--client-ca", metavar="CA")
    ap.add_argument("--rules", metavar="FILE")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()

    srv = Server((a.host, a.port), Handler)
    srv.verbose = a.verbose
    if a.rules:
        with open(a.rules) as f:
            srv.rules = json.load(f)
    if a.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls[0], a.tls[1])
        if a.client_ca:
            ctx.load_verify_locations(a.client_ca)
            ctx.verify_mode = ssl.CERT_REQUIRED
        srv.tls = ctx
    print(srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
