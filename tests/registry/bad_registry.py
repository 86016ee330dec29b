#!/usr/bin/env python3
"""A misbehaving registry for fault tests (python3 standard library only,
127.0.0.0/8 only). It serves the distribution API for one small image,
`bad/img:1` (an OCI manifest, its config and one gzip layer holding
/bad/hello.txt), with one chosen fault:

  bad-blob-digest      the layer's bytes do not match its digest (one byte
                       flipped, same length)
  bad-config-digest    the config's bytes do not match its digest (one byte
                       flipped, same length)
  huge-config          the config is 5 MiB (valid JSON, a padded label), and
                       its descriptor says so
  bad-manifest-digest  the Docker-Content-Digest header of the manifest lies
  huge-manifest        the manifest is 5 MiB (valid JSON, padded annotation)
  500-always           every request answers 500
  redirect-offsite     /v2/ wants Basic credentials (any are accepted); blob
                       GETs answer 307 to http://127.0.0.2:PORT2/... where a
                       second listener serves the bytes and records whether
                       an Authorization header came along
  upload-offsite       /v2/ wants Basic credentials (any are accepted); any
                       repository other than bad/img takes pushes, but every
                       upload session (POST .../blobs/uploads/, mounts
                       included: they are refused with 202) has its Location
                       on http://127.0.0.2:PORT2/upload/UUID, where a second
                       listener takes the PATCH/PUT (verifying ?digest=) and
                       records whether an Authorization header came along
  bad-put-blob-digest  as upload-offsite, without credentials, but the answer
                       to a blob upload's final PUT names another
                       Docker-Content-Digest than the one stored
  bad-put-manifest-digest the same for the answer to a manifest PUT (the
                       blobs' answers are right)
  bad-media-type       the manifest's mediaType (and Content-Type) is
                       application/vnd.example.bogus.v1+json
  mismatched-media-type the manifest's Content-Type says a Docker manifest
                       list, its body an OCI manifest
  bad-www-authenticate every request answers 401 with a WWW-Authenticate
                       header that does not parse (an unterminated quote)
  corrupt-gzip         the layer is not valid gzip, but its digest and size
                       are those of the bytes served
  huge-header          every answer carries a 1 MiB header
  multi-error-500      every request answers 500 with the same body of three
                       errors, the useful one (MANIFEST_BLOB_UNKNOWN) last
  foreign-layer        the image has a second, foreign layer (OCI
                       non-distributable, with `urls`) holding
                       /foreign/hello.txt: the registry does not have its
                       blob (404), http://127.0.0.2:PORT2/foreign/DIGEST
                       serves it
  foreign-layer-missing the same, but the url answers 404
  bad-history          the config's history has 3 entries for layers, the
                       image 1 layer
  warning-headers      every answer carries `Warning: 299 - "this registry
                       is deprecated"`; manifest answers also a 5000-byte
                       warning text and one with ESC and BEL in it
  bad-content-range    the first GET of the layer sends half its body and
                       closes the connection; a GET with Range gets 206
                       with a Content-Range starting at 0, not where asked
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
import uuid

REPO = "bad/img"
TAG = "1"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
blobs_foreign = {}  # digest -> bytes, served by the offsite listener at /foreign/DIGEST only
BOGUS_MT = "application/vnd.example.bogus.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"


# Modes where repositories other than bad/img take pushes (push_target).
PUSHABLE = ("upload-offsite", "bad-put-blob-digest", "bad-put-manifest-digest")

def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def tar_gz(name, content):
    tbuf = io.BytesIO()
    with tarfile.open(fileobj=tbuf, mode="w", format=tarfile.PAX_FORMAT) as t:
        d = tarfile.TarInfo(name.split("/")[0])
        d.type, d.mode, d.mtime = tarfile.DIRTYPE, 0o755, 0
        t.addfile(d)
        f = tarfile.TarInfo(name)
        f.size, f.mode, f.mtime = len(content), 0o644, 0
        t.addfile(f, io.BytesIO(content))
    tar = tbuf.getvalue()
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0, filename="") as g:
        g.write(tar)
    return tar, gz.getvalue()


def make_image(mode, arch, offsite_origin=""):
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
        "history": [{"created": "2026-01-01T00:00:00Z", "created_by": "bad_registry.py"}] *
        (3 if mode == "bad-history" else 1),
    }, sort_keys=True).encode()
    if mode == "huge-config":
        cfg = json.loads(config)
        cfg["config"]["Labels"] = {"padding": "x" * (5 * 1024 * 1024)}
        config = json.dumps(cfg, sort_keys=True).encode()
    manifest = {
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": sha(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": sha(layer), "size": len(layer)}],
    }
    if mode == "huge-manifest":
        manifest["annotations"] = {"padding": "x" * (5 * 1024 * 1024)}
    if mode == "corrupt-gzip":
        bad = bytearray(layer)
        for i in range(20, min(len(bad) - 8, 60)):
            bad[i] ^= 0x5a  # the deflate stream, not the header
        layer = bytes(bad)
        manifest["layers"][0].update(digest=sha(layer), size=len(layer))
    if mode == "bad-media-type":
        manifest["mediaType"] = BOGUS_MT
    foreign = {}
    if mode.startswith("foreign-layer"):
        ftar, fgz = tar_gz("foreign/hello.txt", b"fetched from a foreign url\n")
        where = "foreign" if mode == "foreign-layer" else "gone"
        manifest["layers"].append({"mediaType": "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
                                   "digest": sha(fgz), "size": len(fgz),
                                   "urls": ["%s/%s/%s" % (offsite_origin, where, sha(fgz))]})
        cfg = json.loads(config)
        cfg["rootfs"]["diff_ids"].append(sha(ftar))
        cfg["history"].append({"created": "2026-01-01T00:00:00Z", "created_by": "bad_registry.py foreign"})
        config = json.dumps(cfg, sort_keys=True).encode()
        manifest["config"].update(digest=sha(config), size=len(config))
        foreign[sha(fgz)] = fgz
    mbytes = json.dumps(manifest, sort_keys=True).encode()
    blobs = {sha(config): config, sha(layer): layer}
    served = dict(blobs)
    blobs_foreign.update(foreign)
    if mode == "bad-blob-digest":
        bad = bytearray(layer)
        bad[len(bad) // 2] ^= 0x01
        served[sha(layer)] = bytes(bad)
    if mode == "bad-config-digest":
        bad = bytearray(config)
        bad[len(bad) // 2] ^= 0x01
        served[sha(config)] = bytes(bad)
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


def make_handler(opts, listener, image, lock, store):
    """store: state shared by both listeners (upload sessions, pushed blobs
    and manifests)."""
    manifest, mdigest, blobs, served, layer_digest = image
    main_origin = "http://%s:%d" % (opts.host, opts.port)
    offsite_origin = "http://%s:%d" % (opts.offsite_host, opts.offsite_port)

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
            if opts.mode == "huge-header" and path != "/ping":
                self.send_header("X-Padding", "p" * (1 << 20))
            if opts.mode == "warning-headers" and path != "/ping":
                self.send_header("Warning", '299 - "this registry is deprecated"')
                if "/manifests/" in path:
                    self.send_header("Warning", '299 - "%s"' % ("W" * 5000))
                    self.send_header("Warning", '299 - "red \x1b[31mALERT\x1b[0m\x07 bell"')
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

        def read_body(self):
            """The request body (Content-Length or chunked), capped at 256 MiB."""
            cap = 256 << 20
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                out = bytearray()
                while True:
                    line = self.rfile.readline(1024)
                    if not line:
                        break
                    n = int(line.split(b";")[0].strip() or b"0", 16)
                    if n == 0:
                        while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                            pass
                        break
                    out += self.rfile.read(n)
                    self.rfile.readline(1024)
                    if len(out) > cap:
                        break
                return bytes(out)
            n = int(self.headers.get("Content-Length") or 0)
            out = bytearray()
            while n > 0:
                chunk = self.rfile.read(min(n, 1 << 20))
                if not chunk:
                    break
                n -= len(chunk)
                if len(out) < cap:
                    out += chunk
            return bytes(out)

        def do_HEAD(self):
            self.body = b""
            self.route()

        def do_GET(self):
            self.body = b""
            self.route()

        def do_DELETE(self):
            self.body = b""
            self.route()

        def do_POST(self):
            self.body = self.read_body()
            self.route()

        def do_PUT(self):
            self.body = self.read_body()
            self.route()

        def do_PATCH(self):
            self.body = self.read_body()
            self.route()

        def bad_range(self, data):
            """bad-content-range: half a body, then a 206 from the wrong offset."""
            rng = self.headers.get("Range")
            log({"method": self.command, "path": urllib.parse.urlsplit(self.path).path,
                 "status": 206 if rng else 200, "range": rng,
                 "authorization": self.headers.get("Authorization") is not None})
            self.send_response(206 if rng else 200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            if rng:
                self.send_header("Content-Range", "bytes 0-%d/%d" % (len(data) - 1, len(data)))
            self.end_headers()
            self.wfile.write(data if rng else data[:len(data) // 2])
            self.wfile.flush()
            self.close_connection = True

        def offsite_upload(self, path):
            sid = path[len("/upload/"):]
            with lock:
                sess = store["sessions"].get(sid)
            if sess is None:
                return self.error(404, "BLOB_UPLOAD_UNKNOWN", "upload unknown")
            if self.command == "DELETE":
                with lock:
                    store["sessions"].pop(sid, None)
                return self.send(204)
            sess["data"] += self.body
            loc = "%s/upload/%s" % (offsite_origin, sid)
            if self.command == "PATCH":
                return self.send(202, b"", {"Location": loc, "Range": "0-%d" % (len(sess["data"]) - 1),
                                            "Docker-Upload-UUID": sid})
            if self.command == "PUT":
                q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                want = (q.get("digest") or [""])[0]
                if sha(bytes(sess["data"])) != want:
                    return self.error(400, "DIGEST_INVALID", "provided digest did not match uploaded content")
                with lock:
                    store["blobs"][want] = bytes(sess["data"])
                    store["sessions"].pop(sid, None)
                dcd = sha(b"a lie") if opts.mode == "bad-put-blob-digest" else want
                return self.send(201, b"", {"Location": "%s/v2/%s/blobs/%s" % (main_origin, sess["repo"], want),
                                            "Docker-Content-Digest": dcd})
            return self.error(405, "UNSUPPORTED", "method not allowed")

        def push_target(self, repo, rest):
            """upload-offsite: a repository that takes pushes."""
            if rest.startswith("blobs/uploads"):
                if self.command != "POST":
                    return self.error(405, "UNSUPPORTED", "uploads go to their Location")
                sid = str(uuid.uuid4())
                with lock:
                    store["sessions"][sid] = {"repo": repo, "data": bytearray()}
                return self.send(202, b"", {"Location": "%s/upload/%s" % (offsite_origin, sid),
                                            "Range": "0-0", "Docker-Upload-UUID": sid})
            if rest.startswith("blobs/"):
                d = rest[len("blobs/"):]
                with lock:
                    data = store["blobs"].get(d, blobs.get(d))
                if data is None:
                    return self.error(404, "BLOB_UNKNOWN", "blob unknown to registry")
                return self.send(200, data, {"Docker-Content-Digest": d}, ctype="application/octet-stream")
            if rest.startswith("manifests/"):
                ref = rest[len("manifests/"):]
                if self.command == "PUT":
                    d = sha(self.body)
                    try:
                        m = json.loads(self.body)
                        named = [m["config"]["digest"]] + [l["digest"] for l in m.get("layers", [])]
                    except (ValueError, KeyError, TypeError):
                        return self.error(400, "MANIFEST_INVALID", "manifest invalid")
                    with lock:
                        missing = [x for x in named if x not in store["blobs"] and x not in blobs]
                        if not missing:
                            store["manifests"][(repo, ref)] = (self.body, self.headers.get("Content-Type"))
                            store["manifests"][(repo, d)] = (self.body, self.headers.get("Content-Type"))
                    if missing:
                        return self.error(400, "MANIFEST_BLOB_UNKNOWN", "blob unknown to registry: " + missing[0])
                    dcd = sha(b"a lie") if opts.mode == "bad-put-manifest-digest" else d
                    return self.send(201, b"", {"Docker-Content-Digest": dcd,
                                                "Location": "%s/v2/%s/manifests/%s" % (main_origin, repo, d)})
                with lock:
                    got = store["manifests"].get((repo, ref))
                if got is None:
                    return self.error(404, "MANIFEST_UNKNOWN", "manifest unknown")
                return self.send(200, got[0], {"Docker-Content-Digest": sha(got[0])}, ctype=got[1] or OCI_MANIFEST)
            return self.error(404, "NOT_FOUND", "not found")

        def route(self):
            path = urllib.parse.urlsplit(self.path).path
            if listener == "offsite" and path.startswith("/upload/"):
                return self.offsite_upload(path)
            if listener == "offsite" and opts.mode.startswith("foreign-layer"):
                if path.startswith("/foreign/") and path[len("/foreign/"):] in blobs_foreign:
                    return self.send(200, blobs_foreign[path[len("/foreign/"):]], ctype="application/octet-stream")
                return self.error(404, "NOT_FOUND", "no such foreign blob")
            if listener == "offsite":
                # The redirect target: serve the blob, whatever the path says.
                name = path.rsplit("/", 1)[-1]
                if name in blobs:
                    return self.send(200, blobs[name], ctype="application/octet-stream")
                return self.error(404, "BLOB_UNKNOWN", "unknown blob")
            if opts.mode == "500-always":
                return self.error(500, "UNKNOWN", "injected failure")
            if opts.mode == "multi-error-500":
                return self.send(500, json.dumps({"errors": [
                    {"code": "UNKNOWN", "message": "unknown error"},
                    {"code": "UNKNOWN", "message": "unknown error"},
                    {"code": "MANIFEST_BLOB_UNKNOWN", "message": "blob unknown to registry",
                     "detail": "sha256:0123"}]}).encode())
            if opts.mode == "bad-www-authenticate":
                return self.error(401, "UNAUTHORIZED", "authentication required",
                                  {"WWW-Authenticate": 'Bearer realm="http://127.0.0.1:1/token,service="x'})
            if opts.mode in ("redirect-offsite", "upload-offsite") and self.headers.get("Authorization") is None:
                return self.error(401, "UNAUTHORIZED", "authentication required",
                                  {"WWW-Authenticate": 'Basic realm="bad-registry"'})
            if path in ("/v2", "/v2/"):
                return self.send(200, b"{}")
            prefix = "/v2/%s/" % REPO
            if opts.mode in PUSHABLE and path.startswith("/v2/") and not path.startswith(prefix):
                parts = path[len("/v2/"):].split("/")
                for i, p in enumerate(parts):
                    if p in ("blobs", "manifests") and i > 0:
                        return self.push_target("/".join(parts[:i]), "/".join(parts[i:]))
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
                return self.send(200, manifest, {"Docker-Content-Digest": dcd},
                                 ctype=BOGUS_MT if opts.mode == "bad-media-type"
                                 else DOCKER_LIST if opts.mode == "mismatched-media-type" else OCI_MANIFEST)
            if rest.startswith("blobs/"):
                d = rest[len("blobs/"):]
                if d not in blobs:
                    return self.error(404, "BLOB_UNKNOWN", "blob unknown to registry")
                if opts.mode == "bad-content-range" and self.command == "GET" and d == layer_digest:
                    return self.bad_range(served[d])
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
                    choices=["bad-blob-digest", "bad-config-digest", "huge-config", "bad-manifest-digest",
                             "huge-manifest", "500-always",
                             "bad-media-type", "mismatched-media-type", "bad-www-authenticate", "corrupt-gzip", "huge-header",
                             "multi-error-500", "bad-history", "foreign-layer", "foreign-layer-missing",
                             "redirect-offsite", "upload-offsite", "warning-headers", "bad-content-range", "bad-put-blob-digest",
                             "bad-put-manifest-digest", "none"])
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
    image = make_image(opts.mode, opts.arch, "http://%s:%d" % (opts.offsite_host, opts.offsite_port))
    lock = threading.Lock()
    store = {"sessions": {}, "blobs": {}, "manifests": {}}
    handler = make_handler(opts, "main", image, lock, store)
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
    if opts.mode in ("redirect-offsite", "foreign-layer", "foreign-layer-missing") + PUSHABLE:
        if not opts.offsite_port:
            sys.exit("bad_registry.py: %s needs --offsite-port" % opts.mode)
        servers.append(Server((opts.offsite_host, opts.offsite_port),
                              make_handler(opts, "offsite", image, lock, store)))
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
