"""TLS and HTTP/2 (issue 10 item 1): HTTPS with ALPN h2 and http/1.1, minimum version,
kubectl over HTTP/2 (writes, lists in chunks, watches, large bodies), certificate reload,
and the HTTP/2 rapid-reset flood (CVE-2023-44487) closing the flooding connection while
other clients are still served."""
import json
import shutil
import subprocess
import threading
import time

import pytest
import requests

from e2e_helpers import wait_for
from tls_helpers import h2_reset_flood, make_ca, make_cert

IS = "/apis/image.openshift.io/v1/namespaces/default/imagestreams"


@pytest.fixture
def pki(tmp_path):
    ca = make_ca(tmp_path / "pki")
    srv = make_cert(tmp_path / "pki", ca, "server", "/CN=localhost", server=True)
    return {"dir": tmp_path / "pki", "ca": ca, "server": srv}


@pytest.fixture
def tls_server(server_factory, pki):
    return server_factory("--tls-cert-file", str(pki["server"][0]),
                          "--tls-private-key-file", str(pki["server"][1]), ca_file=pki["ca"][0])


def curl(*args):
    r = subprocess.run(["curl", "-sS", *args], capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout, r.stderr


def test_https_serves_h2_and_http1(tls_server, pki):
    url = f"https://127.0.0.1:{tls_server.port}{IS}"
    rc, out, err = curl("--cacert", str(pki["ca"][0]), "--http2", "-o", "/dev/null", "-w",
                        "%{http_version} %{http_code}", url)
    assert (rc, out) == (0, "2 200"), err
    rc, out, err = curl("--cacert", str(pki["ca"][0]), "--http1.1", "-o", "/dev/null", "-w",
                        "%{http_version} %{http_code}", url)
    assert (rc, out) == (0, "1.1 200"), err
    rc, _, _ = curl("--cacert", str(pki["ca"][0]), "--tls-max", "1.1", url)
    assert rc != 0, "TLS 1.1 must be refused"
    rc, _, _ = curl("--cacert", str(pki["ca"][0]), url.replace("https", "http"))
    assert rc != 0, "plain HTTP on the TLS port must not be served"


def test_tls_min_version_13(server_factory, pki):
    srv = server_factory("--tls-cert-file", str(pki["server"][0]), "--tls-private-key-file",
                         str(pki["server"][1]), "--tls-min-version", "VersionTLS13", ca_file=pki["ca"][0])
    url = f"https://127.0.0.1:{srv.port}/version"
    assert curl("--cacert", str(pki["ca"][0]), "--tls-max", "1.2", url)[0] != 0
    assert curl("--cacert", str(pki["ca"][0]), "--tlsv1.3", url)[0] == 0


def test_bad_tls_flags_fail_at_start(tmp_path, pki):
    from e2e_helpers import server_binary
    for args, want in [(["--tls-cert-file", str(pki["server"][0])], "go together"),
                       (["--tls-cert-file", str(pki["server"][0]), "--tls-private-key-file",
                         str(pki["ca"][1])], "--tls-private-key-file"),
                       (["--tls-min-version", "1.2"], "VersionTLS12")]:
        r = subprocess.run([server_binary(), "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "d"),
                            *args], capture_output=True, text=True, timeout=30)
        assert r.returncode != 0 and want in r.stdout + r.stderr, (args, r.stdout, r.stderr)


def test_kubectl_over_http2(tls_server):
    k = tls_server.kubectl
    docs = "".join(f"---\napiVersion: image.openshift.io/v1\nkind: ImageStream\nmetadata:\n  name: h2-{i}\n"
                   for i in range(30))
    k("apply", "-f", "-", input=docs)
    # a list in chunks of 7 (continue tokens over one HTTP/2 connection)
    _, out, _ = k("get", "is", "--chunk-size=7", "-o", "name")
    assert len(out.split()) == 30
    # a large body (200 kB of annotation, many DATA frames) over HTTP/2 DATA frames
    big = tls_server.dir / "big-patch.json"
    big.write_text(json.dumps({"metadata": {"annotations": {"big": "x" * 200000}}}))
    k("patch", "is", "h2-0", "--type", "merge", "--patch-file", str(big))
    _, out, _ = k("get", "is", "h2-0", "-o", "jsonpath={.metadata.annotations.big}")
    assert len(out) == 200000
    # a watch sees a change made while it runs
    w = tls_server.kubectl_bg("get", "is", "h2-1", "-w", "-o", "jsonpath={.metadata.labels.seen}{\"\\n\"}")
    try:
        time.sleep(1)
        k("label", "is", "h2-1", "seen=yes")
        deadline = time.time() + 20
        lines = []
        while time.time() < deadline and "yes" not in lines:
            lines.append(w.stdout.readline().strip())
        assert "yes" in lines, lines
    finally:
        w.kill()
        w.wait()
    # kubectl negotiated HTTP/2: the server saw h2 requests (curl -v shows ALPN)
    rc, _, err = curl("-v", "--cacert", str(tls_server.ca_file), "-o", "/dev/null",
                      f"https://127.0.0.1:{tls_server.port}/version")
    assert "ALPN: server accepted h2" in err or "ALPN, server accepted to use h2" in err, err


def test_reset_flood_closes_the_connection_others_served(tls_server):
    url = f"https://127.0.0.1:{tls_server.port}{IS}"
    ca = str(tls_server.ca_file)
    requests.post(url, json={"apiVersion": "image.openshift.io/v1", "kind": "ImageStream",
                             "metadata": {"name": "flood-target"}}, verify=ca, timeout=10)
    results = []
    stop = threading.Event()
    latencies = []

    def others():
        s = requests.Session()
        while not stop.is_set():
            t0 = time.time()
            r = s.get(url + "/flood-target", verify=ca, timeout=10)
            latencies.append((r.status_code, time.time() - t0))

    t = threading.Thread(target=others)
    t.start()
    try:
        for _ in range(3):
            results.append(h2_reset_flood(tls_server.port, IS, 20000, ca))
    finally:
        stop.set()
        t.join(timeout=30)
    for sent, closed in results:
        assert closed and sent < 20000, results  # the server ended each flood early
    assert latencies and all(code == 200 for code, _ in latencies), latencies[:5]
    wait_for(lambda: "cancelled" in tls_server.log_text(tls_server.runs[-1]), what="the flood warning")
    r = requests.get(url + "/flood-target", verify=ca, timeout=10)
    assert r.status_code == 200


def test_certificate_reload(tls_server, pki, tmp_path):
    ca2 = make_ca(tmp_path / "pki2", "ca2")
    new = make_cert(tmp_path / "pki2", ca2, "server2", "/CN=localhost", server=True)
    url = f"https://127.0.0.1:{tls_server.port}/version"
    assert curl("--cacert", str(pki["ca"][0]), url)[0] == 0
    # a key that does not match yet: the old certificate stays
    shutil.copy(new[0], pki["server"][0])
    time.sleep(2.5)
    assert curl("--cacert", str(pki["ca"][0]), url)[0] == 0
    shutil.copy(new[1], pki["server"][1])
    wait_for(lambda: curl("--cacert", str(ca2[0]), url)[0] == 0, timeout=15, what="the new certificate")
    assert curl("--cacert", str(pki["ca"][0]), url)[0] != 0
