#!/usr/bin/env python3
"""A Google OAuth2 token endpoint for the service-account tests (RFC 7523,
the jwt-bearer grant), python3 stdlib plus python3-cryptography.

It listens on 127.0.0.1 (port 0 unless --port), writes the port to
--port-file once it accepts connections, and appends one JSON line per
request to --log. POST /token with
grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=JWT is
checked the way Google checks it:

  - the JWT has three base64url parts without padding;
  - the header is {"alg": "RS256", "typ": "JWT"} (plus "kid", logged);
  - the RS256 signature verifies with --public-key (PEM);
  - iss == --client-email (when given), aud == the URL this request came
    to, scope == cloud-platform, exp - iat == 3600, iat within a minute of
    now and exp in the future.

It answers {"access_token": "ya29.test-N", "expires_in": --expires-in,
"token_type": "Bearer"}, N counting the tokens issued, or 400
{"error": "invalid_grant", "error_description": WHY}. --status forces
that status (with an OAuth2 error body) for every request.

The log holds what was checked and why a request was refused, never the
assertion, its signature or a token.
"""
import argparse
import base64
import json
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
ARGS = None
PUBLIC_KEY = None
LOCK = threading.Lock()
COUNTER = [0]


def log(entry):
    if not ARGS.log:
        return
    with LOCK, open(ARGS.log, "a") as f:
        f.write(json.dumps(entry) + "\n")


def b64url_decode(s):
    if "=" in s or not s:
        raise ValueError("base64url part is empty or padded")
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class Refused(Exception):
    pass


def check_assertion(jwt, audience, entry):
    """Fills entry with what was seen; raises Refused with the reason."""
    parts = jwt.split(".")
    if len(parts) != 3:
        raise Refused("not three parts")
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
        sig = b64url_decode(parts[2])
    except (ValueError, UnicodeDecodeError) as e:
        raise Refused("malformed part: %s" % type(e).__name__)
    entry.update({
        "alg": header.get("alg"),
        "typ": header.get("typ"),
        "kid": header.get("kid"),
        "header_keys": sorted(header),
        "iss": claims.get("iss"),
        "aud": claims.get("aud"),
        "scope": claims.get("scope"),
        "lifetime": (claims.get("exp") or 0) - (claims.get("iat") or 0),
    })
    if header.get("alg") != "RS256" or header.get("typ") != "JWT":
        raise Refused("bad header")
    try:
        PUBLIC_KEY.verify(sig, (parts[0] + "." + parts[1]).encode(), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise Refused("Invalid JWT Signature.")
    entry["verified"] = True
    if ARGS.client_email and claims.get("iss") != ARGS.client_email:
        raise Refused("wrong iss")
    if claims.get("aud") != audience:
        raise Refused("wrong aud (expected %s)" % audience)
    if claims.get("scope") != SCOPE:
        raise Refused("wrong scope")
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, int) or not isinstance(exp, int):
        raise Refused("iat/exp are not integers")
    now = int(time.time())
    if exp - iat != 3600 or abs(iat - now) > 60 or exp <= now:
        raise Refused("Invalid JWT: Token must be a short-lived token (60 minutes)")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the log file is the record
        pass

    def send_json(self, status, doc):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self):
        log({"method": "GET", "path": self.path})
        self.send_json(405, {"error": "invalid_request"})

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n).decode("ascii", "replace")
        form = urllib.parse.parse_qs(raw, keep_blank_values=True)
        entry = {
            "method": "POST",
            "path": url.path,
            "content_type": self.headers.get("Content-Type"),
            "authorization": self.headers.get("Authorization") is not None,
            "grant_type": form.get("grant_type", [None])[0],
            "form_keys": sorted(form),
            "verified": False,
        }
        audience = "http://%s%s" % (self.headers.get("Host"), url.path)
        status, doc = 200, None
        try:
            if entry["grant_type"] != GRANT:
                raise Refused("wrong grant_type")
            if len(form.get("assertion", [])) != 1:
                raise Refused("no assertion")
            check_assertion(form["assertion"][0], audience, entry)
        except Refused as e:
            status, doc = 400, {"error": "invalid_grant", "error_description": str(e)}
            entry["reason"] = str(e)
        if status == 200 and ARGS.status:
            status, doc = ARGS.status, {"error": "forced", "error_description": "forced by --status"}
        if status == 200:
            with LOCK:
                COUNTER[0] += 1
                token = "ya29.test-%d" % COUNTER[0]
            doc = {"access_token": token, "expires_in": ARGS.expires_in, "token_type": "Bearer"}
            entry["token_number"] = COUNTER[0]
        entry["status"] = status
        log(entry)
        if ARGS.delay:
            time.sleep(ARGS.delay)
        self.send_json(status, doc)


def main():
    global ARGS, PUBLIC_KEY
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file", required=True)
    p.add_argument("--log")
    p.add_argument("--public-key", required=True)
    p.add_argument("--client-email")
    p.add_argument("--expires-in", type=int, default=3600)
    p.add_argument("--status", type=int, default=0)
    p.add_argument("--delay", type=float, default=0, help="seconds before each answer")
    ARGS = p.parse_args()
    with open(ARGS.public_key, "rb") as f:
        PUBLIC_KEY = serialization.load_pem_public_key(f.read())

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
