#!/usr/bin/env python3
"""A token server for docker-registry's `auth: token:` (the Docker Registry v2
token protocol), for tests only: python3's standard library plus the openssl
command line (RS256 signatures), listening on 127.0.0.1 only.

GET /token?service=S&scope=repository:NAME:ACTIONS[&scope=...]
  - valid Basic credentials (--user USER:PASS): every scope asked is granted;
  - no Authorization: pull only, and only on repositories under `public/`;
  - wrong credentials: 401.
The answer is {"token", "access_token", "expires_in", "issued_at"}; the token
is a JWT signed with --key, whose certificate (--cert) travels in the `x5c`
header, so the registry's rootcertbundle (the same certificate) verifies it.

Every request is logged to --log as one JSON line: time, path (without its
query), service, the scopes asked, whether an Authorization header came, its
scheme, the outcome and the actions granted. Never the secret itself.

usage: token_server.py --port P --key KEY --cert CERT --issuer I --service S
                       --user USER:PASS --log FILE [--ttl SECONDS]
"""
import argparse
import base64
import binascii
import hmac
import http.server
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def cert_der_b64(path):
    with open(path) as f:
        pem = f.read()
    body = pem.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0]
    return "".join(body.split())  # standard base64 of the DER, as x5c wants


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def make_handler(opts):
    lock = threading.Lock()
    x5c = [cert_der_b64(opts.cert)]
    user, _, password = opts.user.partition(":")
    counter = [0]

    def log(rec):
        rec["time"] = round(time.time(), 3)
        with lock:
            with open(opts.log, "a") as f:
                f.write(json.dumps(rec, sort_keys=True) + "\n")

    def sign(payload):
        header = {"typ": "JWT", "alg": "RS256", "x5c": x5c}
        signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                         b64url(json.dumps(payload, separators=(",", ":")).encode()))
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", opts.key],
                             input=signing_input.encode(), stdout=subprocess.PIPE, check=True).stdout
        return signing_input + "." + b64url(sig)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # quiet: we keep our own log
            pass

        def reply(self, status, obj, extra=None):
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_POST(self):
            # OAuth2 form posts (refresh tokens) are not supported: say so the
            # way distribution's token servers do, so clients fall back to GET.
            n = int(self.headers.get("Content-Length") or 0)
            if n:
                self.rfile.read(min(n, 1 << 20))
            log({"method": "POST", "path": self.path.split("?")[0], "outcome": "unsupported"})
            self.reply(404, {"errors": [{"code": "UNSUPPORTED", "message": "use GET"}]})

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            q = urllib.parse.parse_qs(url.query, keep_blank_values=True)
            scopes = []
            for s in q.get("scope", []):
                scopes.extend(s.split(" "))  # some clients join scopes with spaces
            service = (q.get("service") or [""])[0]
            authz = self.headers.get("Authorization")
            rec = {"method": "GET", "path": url.path, "service": service, "scopes": scopes,
                   "authorization": authz is not None,
                   "scheme": authz.split(" ", 1)[0] if authz else None,
                   "account": (q.get("account") or [None])[0]}
            if url.path != "/token":
                rec["outcome"] = "not found"
                log(rec)
                return self.reply(404, {"errors": [{"code": "NOT_FOUND"}]})
            if service != opts.service:
                rec["outcome"] = "wrong service"
                log(rec)
                return self.reply(400, {"errors": [{"code": "INVALID_REQUEST", "message": "unknown service"}]})
            valid = False
            if authz is not None:
                ok = False
                if authz.lower().startswith("basic "):
                    try:
                        u, _, p = base64.b64decode(authz[6:].strip(), validate=True).decode().partition(":")
                        ok = hmac.compare_digest(u, user) and hmac.compare_digest(p, password)
                    except (binascii.Error, UnicodeDecodeError, ValueError):
                        ok = False
                if not ok:
                    rec["outcome"] = "credentials refused"
                    log(rec)
                    return self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]},
                                      {"WWW-Authenticate": 'Basic realm="imagespec-test-token"'})
                valid = True
            access = []
            for s in scopes:
                parts = s.split(":")
                if len(parts) < 3:
                    continue
                typ, name, actions = parts[0], ":".join(parts[1:-1]), parts[-1].split(",")
                if not valid:
                    actions = [a for a in actions if a == "pull"] if name.startswith("public/") else []
                if actions:
                    access.append({"type": typ, "name": name, "actions": actions})
            now = int(time.time())
            with lock:
                counter[0] += 1
                jti = "%d-%d-%d" % (os.getpid(), now, counter[0])
            payload = {"iss": opts.issuer, "sub": user if valid else "", "aud": opts.service,
                       "exp": now + opts.ttl, "nbf": now - 10, "iat": now, "jti": jti, "access": access}
            token = sign(payload)
            rec["outcome"] = "granted" if valid else "anonymous"
            rec["granted"] = ["%s:%s:%s" % (a["type"], a["name"], ",".join(a["actions"])) for a in access]
            rec["ttl"] = opts.ttl
            log(rec)
            issued = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
            self.reply(200, {"token": token, "access_token": token, "expires_in": opts.ttl, "issued_at": issued})

    return Handler


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--issuer", required=True)
    ap.add_argument("--service", required=True)
    ap.add_argument("--user", required=True, help="USER:PASS")
    ap.add_argument("--log", required=True)
    ap.add_argument("--ttl", type=int, default=300)
    ap.add_argument("--max-runtime", type=int, default=3600)
    opts = ap.parse_args()
    srv = Server(("127.0.0.1", opts.port), make_handler(opts))
    # A safety net: never outlive a forgotten test by long.
    threading.Timer(opts.max_runtime, lambda: os._exit(0)).start()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
