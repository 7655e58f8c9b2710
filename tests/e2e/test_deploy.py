"""Deployments on etcd as docs/etcd.md describes them: etcd behind TLS with
client certificates, and two replicas behind nginx using the example
configuration docs/examples/nginx-replicas.conf as shipped (only its ports
are replaced)."""

import json
import os
import shutil
import signal
import subprocess
import threading
from pathlib import Path

import pytest
import requests

from e2e_helpers import (KUBECTL, Etcd, Server, ServerError, assert_ok, free_port, is_path,
                         stop_and_check, wait_for)

REPO = Path(__file__).resolve().parents[2]
NGINX_EXAMPLE = REPO / "docs" / "examples" / "nginx-replicas.conf"


@pytest.fixture
def servers():
    """Servers started by a test; stopped and checked at teardown."""
    started = []
    yield started
    stop_and_check(started)


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_pki(d):
    """A CA, a server certificate for 127.0.0.1 and a client certificate."""
    d.mkdir(parents=True, exist_ok=True)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=ias-test-ca",
             "-keyout", "ca.key", "-out", "ca.crt", cwd=d)
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n")
    for name in ("server", "client"):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN=ias-{name}",
                 "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=d)
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                 "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", f"{name}.crt", cwd=d)
    return d


class TlsEtcd(Etcd):
    """The private etcd, serving clients over TLS and requiring a client certificate."""

    def __init__(self, workdir, pki):
        super().__init__(workdir)
        self.pki = pki
        self._http.trust_env = False  # REQUESTS_CA_BUNDLE would override verify= below
        self._http.verify = str(pki / "ca.crt")
        self._http.cert = (str(pki / "client.crt"), str(pki / "client.key"))

    @property
    def url(self):
        return f"https://127.0.0.1:{self.client_port}"

    def _args(self):
        return super()._args() + [
            "--cert-file", str(self.pki / "server.crt"), "--key-file", str(self.pki / "server.key"),
            "--trusted-ca-file", str(self.pki / "ca.crt"), "--client-cert-auth"]


@pytest.fixture
def tls_etcd(tmp_path, etcd_factory):
    etcd_factory  # noqa: B018 - skips (or fails under CI) like the other etcd tests when etcd is absent
    if not shutil.which("openssl"):
        pytest.skip("openssl not installed")
    e = TlsEtcd(tmp_path / "etcd-tls", make_pki(tmp_path / "pki"))
    e.start()
    yield e
    stop_and_check([e])


def test_etcd_over_tls_with_client_certificate(tmp_path, tls_etcd, servers):
    pki = tls_etcd.pki
    tls = ["--etcd-servers", tls_etcd.url, "--etcd-prefix", "/tls",
           "--etcd-cafile", str(pki / "ca.crt")]
    good = Server(tmp_path / "good", extra_args=tls + ["--etcd-certfile", str(pki / "client.crt"),
                                                       "--etcd-keyfile", str(pki / "client.key")])
    servers.append(good)
    good.start()
    created = good.http.create_is("tls", "over-tls")
    got = assert_ok(good.http.get(is_path("tls", "over-tls")))
    assert got["metadata"]["uid"] == created["metadata"]["uid"]
    # the object is really in that etcd, under the prefix
    assert any(k.startswith("/tls/image.openshift.io/imagestreams/tls/over-tls")
               for k in tls_etcd.keys("/tls/"))

    # without the client certificate etcd refuses the TLS handshake: the server says so and exits
    bad = Server(tmp_path / "bad", extra_args=tls)
    servers.append(bad)
    with pytest.raises(ServerError) as ex:
        bad.start(ready_timeout=20)
    assert "cannot reach etcd" in str(ex.value)
    bad.runs[-1]["how"] = "expected-exit"  # not a crash: a refused start

    # a client flag without its partner is a usage error
    r = subprocess.run([str(good.runs[0]["args"][0]), "--etcd-servers", tls_etcd.url,
                        "--etcd-certfile", str(pki / "client.crt")], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 2 and "--etcd-keyfile" in r.stderr


def _start_nginx(workdir, listen_port, upstream_ports):
    conf = NGINX_EXAMPLE.read_text()
    conf = conf.replace("listen 127.0.0.1:8080;", f"listen 127.0.0.1:{listen_port};")
    conf = conf.replace("server 127.0.0.1:8081 ", f"server 127.0.0.1:{upstream_ports[0]} ")
    conf = conf.replace("server 127.0.0.1:8082 ", f"server 127.0.0.1:{upstream_ports[1]} ")
    assert conf.count(f"127.0.0.1:{upstream_ports[0]}") == 1  # the example still has that shape
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "nginx.conf"
    path.write_text(conf)
    log = open(workdir / "nginx.log", "wb")
    proc = subprocess.Popen([shutil.which("nginx") or "/usr/sbin/nginx", "-c", str(path), "-p", str(workdir)],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{listen_port}"
    wait_for(lambda: _up(url), timeout=10, what="nginx")
    return proc, url


def _up(url):
    try:
        return requests.get(url + "/readyz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def test_two_replicas_behind_the_nginx_example(tmp_path, etcd_factory, servers):
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if not nginx:
        pytest.skip("nginx not installed (Debian nginx-light)")
    e = etcd_factory()
    shared = tmp_path / "shared-data"  # same data dir -> same etcd prefix: replicas
    a = Server(tmp_path / "a", etcd=e, data_dir=shared)
    b = Server(tmp_path / "b", etcd=e, data_dir=shared)
    servers += [a, b]
    a.start()
    b.start()
    proc, url = _start_nginx(tmp_path / "nginx", free_port(), (a.port, b.port))
    try:
        kubeconfig = tmp_path / "lb.kubeconfig"
        kubeconfig.write_text(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: lb\n  cluster:\n"
            f"    server: {url}\ncontexts:\n- name: lb\n  context:\n    cluster: lb\n    user: lb\n"
            "current-context: lb\nusers:\n- name: lb\n  user: {}\n")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
               "KUBECONFIG": str(kubeconfig)}

        def kubectl(*args, **kw):
            r = subprocess.run([KUBECTL, *args], capture_output=True, text=True, timeout=60, env=env, **kw)
            assert r.returncode == 0, f"kubectl {args}: {r.stderr}"
            return r.stdout

        def create(name):
            manifest = {"apiVersion": "image.openshift.io/v1", "kind": "ImageStream",
                        "metadata": {"name": name, "namespace": "lb"}}
            kubectl("create", "-f", "-", input=json.dumps(manifest))

        if not KUBECTL or not os.path.exists(KUBECTL):
            pytest.skip("kubectl not available")
        # a watch through the balancer, on whichever replica nginx picked
        watch = subprocess.Popen([KUBECTL, "get", "imagestreams", "-n", "lb", "--watch", "-o",
                                  "jsonpath={.metadata.name}{\"\\n\"}"], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
        names = []
        reader = threading.Thread(target=lambda: names.extend(line.strip() for line in watch.stdout),
                                  daemon=True)
        reader.start()
        try:
            # writes through the balancer land on both replicas (round robin) ...
            for i in range(6):
                create(f"lb-{i}")
                # ... and each is at once visible through it and on both replicas directly
                out = json.loads(kubectl("get", "imagestream", f"lb-{i}", "-n", "lb", "-o", "json"))
                assert out["metadata"]["name"] == f"lb-{i}"
                for s in (a, b):
                    assert s.http.get(is_path("lb", f"lb-{i}")).status_code == 200
            listed = kubectl("get", "imagestreams", "-n", "lb", "-o", "name").split()
            assert listed == [f"imagestream.image.openshift.io/lb-{i}" for i in range(6)]
            wait_for(lambda: len(names) >= 6, timeout=15, what="6 watch events through nginx")
            assert names[:6] == [f"lb-{i}" for i in range(6)]

            # one replica goes away: the balancer keeps serving from the other
            b.stop()
            create("after-b")
            for _ in range(4):
                kubectl("get", "imagestream", "after-b", "-n", "lb")
        finally:
            os.killpg(watch.pid, signal.SIGTERM)
            watch.wait(timeout=10)
    finally:
        proc.send_signal(signal.SIGQUIT)  # graceful nginx stop
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
