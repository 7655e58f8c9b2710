"""Bodies over --max-body (default 3145728): the server answers 413 with the
Kubernetes Status `Request entity too large: limit is 3145728` and then reads and
discards the rest of the body before closing (lingering close), so clients that
write the whole body before reading (Python http.client/requests, kubectl's Go
client) get the Status, not "connection reset by peer". A drained connection is
cut off after 5 s even if the client keeps sending, and the server stays
responsive meanwhile. See docs/http-transport.md."""

import json
import socket
import threading
import time

import pytest

from e2e_helpers import is_path

LIMIT = 3 * 1024 * 1024
MESSAGE = f"Request entity too large: limit is {LIMIT}"
BIG = 5 * 1024 * 1024
LINGER_S = 5  # the transport's default linger deadline


def connect(server, timeout=20):
    s = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_response(s):
    """(status, headers, body) of one Content-Length response; reads up to EOF."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        assert chunk, f"EOF before the response head: {data!r}"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
    n = int(headers["content-length"])
    while len(rest) < n:
        chunk = s.recv(65536)
        assert chunk, "EOF inside the response body"
        rest += chunk
    return status, headers, rest[:n]


def assert_413(status, headers, body):
    assert status == 413, body[:300]
    assert headers.get("content-type") == "application/json"
    st = json.loads(body)
    assert st["kind"] == "Status" and st["apiVersion"] == "v1" and st["status"] == "Failure"
    assert st["code"] == 413 and st["reason"] == "RequestEntityTooLarge"
    assert st["message"] == MESSAGE


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_raw_client_writes_everything_first(server, http, ns, chunked):
    body = b'{"a":"' + b"x" * (BIG - 8) + b'"}'
    s = connect(server)
    try:
        head = f"POST {is_path(ns)} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        if chunked:
            s.sendall(head.encode() + b"Transfer-Encoding: chunked\r\n\r\n")
            step = 256 * 1024
            for i in range(0, len(body), step):
                piece = body[i:i + step]
                s.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            s.sendall(b"0\r\n\r\n")
        else:
            s.sendall(head.encode() + f"Content-Length: {len(body)}\r\n\r\n".encode())
            s.sendall(body)  # raised ConnectionResetError/BrokenPipeError before the fix
        assert_413(*read_response(s))
        assert s.recv(1) == b""  # then an orderly close (FIN)
    finally:
        s.close()
    assert http.get("/readyz").status_code == 200


def test_requests_client(http, ns):
    body = json.dumps({"apiVersion": "image.openshift.io/v1", "kind": "ImageStream",
                       "metadata": {"name": "big", "annotations": {"a": "x" * BIG}}})
    r = http.req("POST", is_path(ns), data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 413, r.text[:300]
    st = r.json()
    assert st["reason"] == "RequestEntityTooLarge" and st["message"] == MESSAGE
    assert http.get(is_path(ns, "big")).status_code == 404


def test_kubectl_create_big_imagestream(server, ns, tmp_path):
    f = tmp_path / "big.yaml"
    f.write_text("apiVersion: image.openshift.io/v1\nkind: ImageStream\nmetadata:\n"
                 f"  name: big\n  namespace: {ns}\n  annotations:\n"
                 f"    big: {'x' * (4 * 1024 * 1024 + 100)}\nspec: {{}}\n")
    rc, out, err = server.kubectl("create", "-f", str(f), check=False, timeout=120)
    assert rc != 0, out
    assert MESSAGE in err, err[-2000:]
    assert "RequestEntityTooLarge" in err, err[-2000:]
    assert "connection reset" not in err, err[-2000:]


@pytest.mark.embedded_only("transport timing: the store plays no part")
def test_slow_sender_cut_off_while_others_are_served(server, http, ns):
    """A client that keeps trickling the body after its 413 is closed at the
    linger deadline; other clients get answers meanwhile."""
    s = connect(server, timeout=30)
    s.sendall(f"POST {is_path(ns)} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              f"Content-Length: {100 * 1024 * 1024}\r\n\r\n".encode())
    assert_413(*read_response(s))
    t0 = time.monotonic()
    closed_at = []

    def trickle():
        try:
            for _ in range(int(LINGER_S * 4 / 0.1)):
                s.sendall(b"y" * 1024)
                time.sleep(0.1)
        except OSError:  # BrokenPipe / ConnectionReset once the server gave up
            closed_at.append(time.monotonic() - t0)

    t = threading.Thread(target=trickle, daemon=True)
    t.start()
    try:
        while t.is_alive() and time.monotonic() - t0 < LINGER_S - 1:
            start = time.monotonic()
            assert http.get("/readyz").status_code == 200
            assert http.get(is_path(ns)).status_code == 200
            assert time.monotonic() - start < 1.0
            time.sleep(0.2)
        t.join(LINGER_S * 4)
        assert closed_at, "the server never closed the trickling connection"
        assert LINGER_S - 1 <= closed_at[0] <= LINGER_S + 3, closed_at
    finally:
        s.close()
