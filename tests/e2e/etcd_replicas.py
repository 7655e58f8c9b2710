"""Several image-apiserver replicas on one private etcd and key prefix, for the
etcd-only tests (test_replicas.py, test_etcd_faults.py). Each test gets its own
etcd (from conftest's etcd_factory) because the fault tests break it.

Import `replicas` into a test module to use the fixture; call
`require_etcd_binary()` at module level to skip the module without etcd."""

import os
import re
import signal
import time
import uuid

import pytest

from e2e_helpers import ETCD_BIN, Server, assert_ok, is_path, stop_and_check, wait_for

LEASE_KEY = "leases/image-apiserver"


def require_etcd_binary():
    """Skip the calling module when etcd is missing; fail instead under CI=true."""
    if os.access(ETCD_BIN, os.X_OK):
        return
    msg = f"{ETCD_BIN} is not installed (Debian package etcd-server)"
    if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
        pytest.fail(msg + "; required when CI=true", pytrace=False)
    pytest.skip(msg, allow_module_level=True)


def rv(obj):
    return int(obj["metadata"]["resourceVersion"])


def list_ns(srv, ns, **params):
    """(list resourceVersion, {name: rv}) of the namespace's ImageStreams."""
    body = assert_ok(srv.http.get(is_path(ns), params=params or None), 200)
    return rv(body), {i["metadata"]["name"]: rv(i) for i in body["items"]}


def status_body(resp, codes):
    """resp must be a Kubernetes Status with one of these codes (and the same in the body)."""
    assert resp.status_code in codes, (resp.status_code, resp.text[:1000])
    assert resp.headers.get("Content-Type", "").startswith("application/json"), resp.headers
    body = resp.json()
    assert body.get("kind") == "Status" and body.get("status") == "Failure", body
    assert body.get("code") == resp.status_code, body
    return body


class Cluster:
    """The etcd and key prefix the replicas share, and the servers on them."""

    def __init__(self, etcd, prefix):
        self.etcd = etcd
        self.prefix = prefix
        self.servers = []

    @property
    def lease_key(self):
        return self.prefix + LEASE_KEY

    def holder_identity(self):
        """The leader's identity as stored in etcd, or None if nobody holds the key."""
        v = self.etcd.get(self.lease_key)
        return v.decode() if v is not None else None

    def server_of(self, identity):
        """The (single) server whose identity this is: "<host>_<addr>_<pid>"."""
        if identity is None:
            return None
        hits = [s for s in self.servers
                if identity.endswith(f"_127.0.0.1:{s.port}_{s.proc.pid}")]
        assert len(hits) <= 1, (identity, [s.port for s in hits])
        return hits[0] if hits else None

    def wait_leader(self, timeout=10, exclude=()):
        """The live server that holds the lease key (not one of `exclude`)."""
        def held():
            s = self.server_of(self.holder_identity())
            return s if s is not None and s.alive() and s not in exclude else None
        return wait_for(held, timeout=timeout, interval=0.02, what="a leader in etcd")


def log_says_leading(srv):
    """The server's own view from its log: its last election line says 'leading'."""
    lines = re.findall(r"election \S+: (leading|not leading)", srv.log_text(srv.runs[-1]))
    return bool(lines) and lines[-1] == "leading"


def pause_server(srv):
    os.kill(srv.proc.pid, signal.SIGSTOP)


def resume_server(srv):
    if srv.alive():
        os.kill(srv.proc.pid, signal.SIGCONT)


@pytest.fixture
def replicas(tmp_path, etcd_factory):
    """make(n, *flags, cluster=None) -> Cluster with n more started Servers on it.
    Without cluster: a new private etcd and a fresh prefix. Every server is
    stopped at teardown (before the etcd, which etcd_factory owns) and its
    problems() (crash, sanitizer report, unclean exit) fail the test."""
    started = []

    def make(n, *flags, cluster=None):
        if cluster is None:
            cluster = Cluster(etcd_factory(), f"/ias-replicas/{uuid.uuid4().hex[:8]}/")
        for _ in range(n):
            srv = Server(tmp_path / f"replica{len(started)}", extra_args=flags, etcd=cluster.etcd)
            srv.etcd_prefix = cluster.prefix  # shared: that is what makes them replicas
            started.append(srv)
            srv.start()
            cluster.servers.append(srv)
        return cluster

    yield make
    for srv in started:
        resume_server(srv)
    stop_and_check(started, label=lambda srv: f"replica on port {srv.port}")


def timed(fn, *a, **kw):
    t0 = time.monotonic()
    r = fn(*a, **kw)
    return r, time.monotonic() - t0
