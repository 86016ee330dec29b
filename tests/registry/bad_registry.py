#!/usr/bin/env python3
"""A misbehaving registry for fault tests (python3 standard library only,
127.0.0.0/8 only). It serves the distribution API for one small image,
`bad/img:1` (an OCI manifest, its config and one gzip layer holding
/bad/hello.txt), with one chosen fault:

  bad-blob-digest      the layer's bytes do not match its digest (one byte
                       flipped, same length)
  bad-manifest-digest  the Docker-Content-Digest header of the manifest lies
  huge-manifest        the manifest is 5 MiB (valid JSON, padded annotation)
  500-always           every request answers 500
  redirect-offsite     /v2/ wants Basic credentials (any are accepted); blob
                       GETs answer 307 to http://127.0.0.2:PORT2/... where a
                       second listener serves the bytes and records whether
                       an Authorization header came along
  none                 no fault (a control)

With --tls-cert/--tls-key the main listener speaks TLS, and it sniffs the
first byte of every connection: a client that sends plain HTTP instead of a
TLS handshake is logged ({"plain_http": true}) and answered 400, as Go's
servers do; a failed handshake (e.g. the client does not trust the
certificate) is logged as {"tls_error": ...}.

Every request is logged to --log as one JSON line: listener ("main" or
"offsite"), method, path (query values dropped), status, and whether an
Authorization header came (never its value).

usage: bad_registry.py --mode MODE --port P --log FILE
                       [--offsite-host 127.0.0.2 --offsite-port P2]
"""
import argparse
import gzip
import hashlib
import http.server
import io
import json
import os
import socket
import ssl
import sys
import tarfile
import threading
import time
import urllib.parse

REPO = "bad/img"
TAG = "1"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def make_image(mode, arch):
    tbuf = io.BytesIO()
    with tarfile.open(fileobj=tbuf, mode="w", format=tarfile.PAX_FORMAT) as t:
        d = tarfile.TarInfo("bad")
        d.type, d.mode, d.mtime = tarfile.DIRTYPE, 0o755, 0
        t.addfile(d)
        content = b"served by bad_registry.py\n" * 64
        f = tarfile.TarInfo("bad/hello.txt")
        f.size, f.mode, f.mtime = len(content), 0o644, 0
        t.addfile(f, io.BytesIO(content))
    tar = tbuf.getvalue()
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0, filename="") as g:
        g.write(tar)
    layer = gz.getvalue()
    config = json.dumps({
        "architecture": arch, "os": "linux", "created": "2026-01-01T00:00:00Z",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                   "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": [sha(tar)]},
        "history": [{"created": "2026-01-01T00:00:00Z", "created_by": "bad_registry.py"}],
    }, sort_keys=True).encode()
    manifest = {
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": sha(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": sha(layer), "size": len(layer)}],
    }
    if mode == "huge-manifest":
        manifest["annotations"] = {"padding": "x" * (5 * 1024 * 1024)}
    mbytes = json.dumps(manifest, sort_keys=True).encode()
    blobs = {sha(config): config, sha(layer): layer}
    served = dict(blobs)
    if mode == "bad-blob-digest":
        bad = bytearray(layer)
        bad[len(bad) // 2] ^= 0x01
        served[sha(layer)] = bytes(bad)
    return mbytes, sha(mbytes), blobs, served, sha(layer)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class TLSServer(Server):
    """TLS on the listening socket, with plain-HTTP attempts detected."""

    def __init__(self, addr, handler, ctx, log):
        super().__init__(addr, handler)
        self.ctx, self.log = ctx, log

    def get_request(self):
        sock, addr = super().get_request()
        sock.settimeout(5)
        try:
            first = sock.recv(1, socket.MSG_PEEK)
        except OSError:
            first = b""
        if first and first[0] != 0x16:  # not a TLS handshake record
            self.log({"plain_http": True, "first_byte": first.decode("latin-1")})
            try:
                sock.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
            finally:
                sock.close()
            raise OSError("plain HTTP on the TLS port")
        try:
            return self.ctx.wrap_socket(sock, server_side=True), addr
        except (ssl.SSLError, OSError) as e:
            self.log({"tls_error": str(e)[:200]})
            sock.close()
            raise OSError("TLS handshake failed")


def make_handler(opts, listener, image, lock):
    manifest, mdigest, blobs, served, layer_digest = image

    def log(rec):
        rec.update(time=round(time.time(), 3), listener=listener)
        with lock:
            with open(opts.log, "a") as f:
                f.write(json.dumps(rec, sort_keys=True) + "\n")

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def send(self, status, body=b"", headers=None, ctype="application/json"):
            path = urllib.parse.urlsplit(self.path).path
            log({"method": self.command, "path": path, "status": status,
                 "authorization": self.headers.get("Authorization") is not None})
            self.send_response(status)
            if body or status >= 400 or status == 200:
                self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Docker-Distribution-Api-Version", "registry/2.0")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD" and body:
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        def error(self, status, code, message, headers=None):
            self.send(status, json.dumps({"errors": [{"code": code, "message": message}]}).encode(), headers)

        def drain(self):
            n = int(self.headers.get("Content-Length") or 0)
            while n > 0:
                chunk = self.rfile.read(min(n, 65536))
                if not chunk:
                    break
                n -= len(chunk)

        def do_HEAD(self):
            self.do_GET()

        def do_POST(self):
            self.drain()
            self.do_GET()

        def do_PUT(self):
            self.drain()
            self.do_GET()

        def do_PATCH(self):
            self.drain()
            self.do_GET()

        def do_DELETE(self):
            self.do_GET()

        def do_GET(self):
            path = urllib.parse.urlsplit(self.path).path
            if listener == "offsite":
                # The redirect target: serve the blob, whatever the path says.
                name = path.rsplit("/", 1)[-1]
                if name in blobs:
                    return self.send(200, blobs[name], ctype="application/octet-stream")
                return self.error(404, "BLOB_UNKNOWN", "unknown blob")
            if opts.mode == "500-always":
                return self.error(500, "UNKNOWN", "injected failure")
            if opts.mode == "redirect-offsite" and self.headers.get("Authorization") is None:
                return self.error(401, "UNAUTHORIZED", "authentication required",
                                  {"WWW-Authenticate": 'Basic realm="bad-registry"'})
            if path in ("/v2", "/v2/"):
                return self.send(200, b"{}")
            prefix = "/v2/%s/" % REPO
            if not path.startswith(prefix):
                return self.error(404, "NAME_UNKNOWN", "repository name not known to registry")
            rest = path[len(prefix):]
            if self.command not in ("GET", "HEAD"):
                return self.error(405, "UNSUPPORTED", "this registry is read-only")
            if rest.startswith("manifests/"):
                ref = rest[len("manifests/"):]
                if ref not in (TAG, mdigest):
                    return self.error(404, "MANIFEST_UNKNOWN", "manifest unknown")
                dcd = mdigest
                if opts.mode == "bad-manifest-digest":
                    dcd = sha(b"a lie")
                return self.send(200, manifest, {"Docker-Content-Digest": dcd}, ctype=OCI_MANIFEST)
            if rest.startswith("blobs/"):
                d = rest[len("blobs/"):]
                if d not in blobs:
                    return self.error(404, "BLOB_UNKNOWN", "blob unknown to registry")
                if opts.mode == "redirect-offsite" and self.command == "GET":
                    loc = "http://%s:%d/cdn/%s?X-Amz-Signature=secret-signature" % (
                        opts.offsite_host, opts.offsite_port, d)
                    return self.send(307, b"", {"Location": loc})
                return self.send(200, served[d], {"Docker-Content-Digest": d},
                                 ctype="application/octet-stream")
            if rest == "tags/list":
                return self.send(200, json.dumps({"name": REPO, "tags": [TAG]}).encode())
            return self.error(404, "NOT_FOUND", "not found")

    return Handler


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", required=True,
                    choices=["bad-blob-digest", "bad-manifest-digest", "huge-manifest", "500-always",
                             "redirect-offsite", "none"])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--offsite-host", default="127.0.0.2")
    ap.add_argument("--offsite-port", type=int, default=0)
    ap.add_argument("--arch", default="amd64")
    ap.add_argument("--log", required=True)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--max-runtime", type=int, default=3600)
    opts = ap.parse_args()
    for h in (opts.host, opts.offsite_host):
        if not h.startswith("127."):
            sys.exit("bad_registry.py: loopback addresses only")
    image = make_image(opts.mode, opts.arch)
    lock = threading.Lock()
    handler = make_handler(opts, "main", image, lock)
    if opts.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(opts.tls_cert, opts.tls_key)

        def log(rec):
            rec.update(time=round(time.time(), 3), listener="main")
            with lock:
                with open(opts.log, "a") as f:
                    f.write(json.dumps(rec, sort_keys=True) + "\n")

        servers = [TLSServer((opts.host, opts.port), handler, ctx, log)]
    else:
        servers = [Server((opts.host, opts.port), handler)]
    if opts.mode == "redirect-offsite":
        if not opts.offsite_port:
            sys.exit("bad_registry.py: redirect-offsite needs --offsite-port")
        servers.append(Server((opts.offsite_host, opts.offsite_port), make_handler(opts, "offsite", image, lock)))
    for s in servers[1:]:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    threading.Timer(opts.max_runtime, lambda: os._exit(0)).start()
    try:
        servers[0].serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
