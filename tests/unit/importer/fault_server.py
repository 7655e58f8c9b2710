#!/usr/bin/env python3
"""A small fault-injecting HTTP server for the registry client's engine tests
(tests/unit/importer/test_reg_http.c). Listens on 127.0.0.1, prints its port on stdout,
serves until stdin closes. /hits/<path> tells how many requests <path> received,
/mhits/<METHOD>/<path> how many with that method.

Under /v2/ it is also a tiny registry: argv[1] "bearer" (default) answers the ping with a
Bearer challenge whose realm is /token here (user:pass -> T-user, anonymous -> T-anon,
bad credentials -> 401); "basic" with a Basic challenge. Repositories: pub/* readable
anonymously, private/* only with user:pass. pub/bad serves a body whose Docker-Content-Digest
is wrong. pub/s1 serves a signed schema 1 manifest
(its digest at /s1-digest), pub/s1-tampered the same with its body changed after signing."""
import base64
import collections
import hashlib
import json
import urllib.parse
import http.server
import socket
import sys
import threading
import time

hits = collections.Counter()
mhits = collections.Counter()
scopes = []
lock = threading.Lock()
MODE = sys.argv[1] if len(sys.argv) > 1 else "bearer"
D = "sha256:" + "1" * 64
S2 = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                 "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 2, "digest": D},
                 "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 3, "digest": D}]}).encode()
MANIFESTS = {"pub/app": S2, "private/app": S2, "pub/bad": S2}
S1_TYPE = "application/vnd.docker.distribution.manifest.v1+prettyjws"


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def signed_schema1(name):
    """A libtrust-style signed schema 1 manifest and its digest (of the JWS payload: the
    body without the signatures). The signature itself is not checked by the client."""
    payload = json.dumps({"schemaVersion": 1, "name": name, "tag": "v1", "architecture": "amd64",
                          "fsLayers": [{"blobSum": D}], "history": [{"v1Compatibility": "{}"}]},
                         indent=3).encode()
    flen = len(payload) - 2  # the payload ends in "\n}"
    prot = b64url(json.dumps({"formatLength": flen, "formatTail": b64url(payload[flen:])}).encode())
    sig = b',\n   "signatures": [{"header": {"alg": "ES256"}, "signature": "c2ln", "protected": "%s"}]' % prot.encode()
    return payload[:flen] + sig + payload[flen:], "sha256:" + hashlib.sha256(payload).hexdigest()


S1, S1_DIGEST = signed_schema1("pub/s1")
# pub/s1-tampered: a body changed after signing, served under the original payload's digest
S1_TAMPERED = S1.replace(b'"amd64"', b'"arm64"')


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, code, body=b"", headers=(), head=False):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def creds(self):
        a = self.headers.get("Authorization", "")
        if a.startswith("Basic "):
            return base64.b64decode(a[6:]).decode(errors="replace")
        return None

    def registry(self, head):
        p = urllib.parse.urlsplit(self.path)
        c = self.creds()
        if p.path == "/token":
            if c is not None and c != "user:pass":
                return self.send(401, b"bad credentials", head=head)
            q = urllib.parse.parse_qs(p.query)
            with lock:
                scopes.append(q.get("scope", [""])[0] + " " + q.get("service", [""])[0])
            tok = {"token": "T-user", "expires_in": 300} if c else {"access_token": "T-anon"}
            return self.send(200, json.dumps(tok).encode(), [("Content-Type", "application/json")], head)
        a = self.headers.get("Authorization", "")
        if MODE == "bearer":
            who = {"Bearer T-user": "user", "Bearer T-anon": "anon"}.get(a)
            challenge = 'Bearer realm="http://127.0.0.1:%d/token",service="test-registry"' % PORT
        else:
            who = "user" if c == "user:pass" else ("anon" if c is None else None)
            challenge = 'Basic realm="test"'
        if p.path == "/v2/":
            if (MODE == "bearer" and who is None) or (MODE == "basic" and c is None):
                return self.send(401, b"{}", [("WWW-Authenticate", challenge)], head)
            return self.send(200, b"{}", head=head)
        parts = p.path.split("/manifests/")
        if len(parts) != 2:
            return self.send(404, b"", head=head)
        repo, ref = parts[0][len("/v2/"):], parts[1]
        if who is None or (repo.startswith("private/") and who != "user"):
            return self.send(401, b"{}", [("WWW-Authenticate", challenge)], head)
        if repo in ("pub/s1", "pub/s1-tampered"):
            body = S1 if repo == "pub/s1" else S1_TAMPERED
            if ref not in ("v1", S1_DIGEST):
                return self.send(404, b"", head=head)
            return self.send(200, body, [("Content-Type", S1_TYPE), ("Docker-Content-Digest", S1_DIGEST)], head)
        body = MANIFESTS.get(repo)
        if body is None:
            return self.send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}', head=head)
        dg = "sha256:" + hashlib.sha256(body).hexdigest()
        if ref.startswith("sha256:") and ref != dg:
            return self.send(404, b"", head=head)
        if repo == "pub/bad":
            dg = "sha256:" + "0" * 64
        return self.send(200, body, [("Content-Type", "application/vnd.docker.distribution.manifest.v2+json"),
                                     ("Docker-Content-Digest", dg)], head)

    def handle_one(self, head):
        p = self.path
        with lock:
            mhits[self.command + " " + p.split("?")[0]] += 1
        if p.startswith("/mhits/"):
            m, _, rest = p[len("/mhits/"):].partition("/")
            with lock:
                n = mhits[m + " /" + rest]
            return self.send(200, str(n).encode())
        if p == "/s1-digest":
            return self.send(200, S1_DIGEST.encode())
        if p == "/scopes":
            with lock:
                return self.send(200, "\n".join(scopes).encode())
        if p.startswith("/v2/") or p.startswith("/token"):
            return self.registry(head)
        if p.startswith("/hits/"):
            with lock:
                n = hits["/" + p[len("/hits/"):]]
            return self.send(200, str(n).encode())
        with lock:
            hits[p] += 1
            n = hits[p]
        if p == "/ok":
            return self.send(200, b"hello", [("Content-Type", "application/json"),
                                             ("Docker-Content-Digest", "sha256:" + "a" * 64),
                                             ("X-Accept-Seen", self.headers.get("Accept", ""))], head)
        if p == "/echo-auth":
            return self.send(200, self.headers.get("Authorization", "").encode(), head=head)
        if p == "/slow":
            time.sleep(3)
            return self.send(200, b"late", head=head)
        if p == "/shared":
            time.sleep(0.5)
            return self.send(200, b"shared", head=head)
        if p == "/big":
            return self.send(200, b"x" * 100000, head=head)
        if p == "/flaky429":
            if n == 1:
                return self.send(429, b"slow down", [("Retry-After", "1")], head)
            return self.send(200, b"after429", head=head)
        if p == "/always503":
            return self.send(503, b"down", [("Retry-After", "0")], head)
        if p == "/500":
            return self.send(500, b"boom", head=head)
        if p == "/reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.close_connection = True
            self.connection.close()
            return
        if p == "/redirect":
            return self.send(302, b"", [("Location", "/ok")], head)
        if p == "/redirect-loop":
            return self.send(302, b"", [("Location", "/redirect-loop")], head)
        if p == "/auth":
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="r"')
            self.send_header("WWW-Authenticate", 'Bearer realm="https://t/token",service="s"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if p == "/link":
            return self.send(200, b"{}", [("Link", '</v2/x/tags/list?last=b&n=2>; rel="next"')], head)
        return self.send(404, b"not found", head=head)

    def do_GET(self):
        self.handle_one(False)

    def do_HEAD(self):
        self.handle_one(True)


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
srv.daemon_threads = True
threading.Thread(target=srv.serve_forever, daemon=True).start()
PORT = srv.server_address[1]
print(PORT, flush=True)
sys.stdin.read()
