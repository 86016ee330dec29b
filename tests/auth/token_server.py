#!/usr/bin/env python3
"""A token server for the auth room's tests (distribution's token.md and
oauth.md), python3 stdlib only.

It listens on 127.0.0.1 (port 0 unless --port), writes the port to
--port-file once it accepts connections, and appends one JSON line per
request to --log: method, path, service, the scopes (each `scope=`
parameter of a GET; the space-separated form field of a POST), whether an
Authorization header came and of which scheme, and whether the credentials
matched. Secrets are never logged; only whether they matched.

GET  checks Basic credentials against --user/--password (anonymous is
     allowed unless --deny-anonymous; wrong credentials get 401).
POST checks grant_type=refresh_token and refresh_token == --refresh-token
     (405 with --no-post).
The answer depends on --mode:
  token         {"token": T, "expires_in": N}
  access_token  {"access_token": T, "expires_in": N}
  garbage       a body that is not JSON
  huge          a 10 MiB JSON body
  missing       {"expires_in": N}: no token at all
  badtoken      a token with a space and a line break in it
  deny          401 to everything
  redirect      302 to --redirect-to
T is "tok-N", N counting the tokens issued. --expires-in omitted: no
expires_in member (the client's default applies).
"""
import argparse
import base64
import json
import os
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARGS = None
LOCK = threading.Lock()
COUNTER = [0]


def log(entry):
    if not ARGS.log:
        return
    with LOCK, open(ARGS.log, "a") as f:
        f.write(json.dumps(entry) + "\n")


def next_token():
    with LOCK:
        COUNTER[0] += 1
        return "tok-%d" % COUNTER[0]


def check_basic(header):
    """None: no Authorization; True/False: Basic credentials (mis)matched."""
    if header is None:
        return None
    scheme, _, rest = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user, _, password = base64.b64decode(rest, validate=True).decode().partition(":")
    except Exception:
        return False
    return user == ARGS.user and password == ARGS.password


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the log file is the record
        pass

    def send_body(self, status, body, ctype="application/json", extra=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def unauthorized(self):
        self.send_body(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}')

    def grant(self):
        mode = ARGS.mode
        if mode == "deny":
            return self.unauthorized()
        if mode == "redirect":
            return self.send_body(302, b"", extra={"Location": ARGS.redirect_to})
        if mode == "garbage":
            return self.send_body(200, b"<html>this is not json</html>", "text/html")
        if mode == "huge":
            body = b'{"token":"' + b"a" * (10 * 1024 * 1024) + b'"}'
            return self.send_body(200, body)
        doc = {}
        if ARGS.expires_in is not None:
            doc["expires_in"] = ARGS.expires_in
        if ARGS.issued_at:
            doc["issued_at"] = ARGS.issued_at
        if mode == "token":
            doc["token"] = next_token()
        elif mode == "access_token":
            doc["access_token"] = next_token()
        elif mode == "badtoken":
            doc["token"] = "bad token\r\nX-Injected: 1"
        self.send_body(200, json.dumps(doc).encode())

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        auth = self.headers.get("Authorization")
        ok = check_basic(auth)
        log({
            "method": "GET",
            "path": url.path,
            "service": q.get("service", [None])[0],
            "scopes": q.get("scope", []),
            "authorization": auth.split(" ")[0].lower() if auth else None,
            "credentials_ok": ok,
        })
        if ok is False or (ok is None and ARGS.deny_anonymous):
            return self.unauthorized()
        self.grant()

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(n).decode(), keep_blank_values=True)
        ok = (form.get("grant_type") == ["refresh_token"]
              and form.get("refresh_token") == [ARGS.refresh_token])
        log({
            "method": "POST",
            "path": url.path,
            "content_type": self.headers.get("Content-Type"),
            "service": form.get("service", [None])[0],
            "client_id": form.get("client_id", [None])[0],
            "grant_type": form.get("grant_type", [None])[0],
            "scopes": form.get("scope", [""])[0].split(),
            "authorization": self.headers.get("Authorization", "").split(" ")[0].lower() or None,
            "credentials_ok": ok,
        })
        if ARGS.no_post:
            return self.send_body(405, b'{"errors":[{"code":"UNSUPPORTED"}]}')
        if not ok:
            return self.unauthorized()
        self.grant()


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file", required=True)
    p.add_argument("--log")
    p.add_argument("--user", default="user")
    p.add_argument("--password", default="")
    p.add_argument("--refresh-token", default="")
    p.add_argument("--deny-anonymous", action="store_true")
    p.add_argument("--no-post", action="store_true")
    p.add_argument("--mode", default="token",
                   choices=["token", "access_token", "garbage", "huge", "missing", "badtoken", "deny",
                            "redirect"])
    p.add_argument("--expires-in", type=int)
    p.add_argument("--issued-at")
    p.add_argument("--redirect-to", default="")
    ARGS = p.parse_args()

    srv = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    srv.daemon_threads = True
    tmp = ARGS.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, ARGS.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
