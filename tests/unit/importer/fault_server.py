#!/usr/bin/env python3
"""A small fault-injecting HTTP server for the registry client's engine tests
(tests/unit/importer/test_reg_http.c). Listens on 127.0.0.1, prints its port on stdout,
serves until stdin closes. /hits/<path> tells how many requests <path> received."""
import collections
import http.server
import socket
import sys
import threading
import time

hits = collections.Counter()
lock = threading.Lock()


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

    def handle_one(self, head):
        p = self.path
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
print(srv.server_address[1], flush=True)
sys.stdin.read()
