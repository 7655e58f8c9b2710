"""A three-member etcd cluster under two replicas given all three endpoints:
the member a server talks to dies, and the server fails over to another one
(requests and its event feed) with nothing lost — etcd is scaled as etcd is
scaled, the servers just list its endpoints."""

import threading
import time

import pytest

from e2e_helpers import Etcd, Server, Watch, assert_ok, free_port, is_path, stop_and_check, wait_for
from etcd_replicas import require_etcd_binary

require_etcd_binary()


class Member(Etcd):
    """One member of a static cluster; ports are chosen by the cluster."""

    def __init__(self, workdir, name, client_port, peer_port, initial_cluster):
        super().__init__(workdir, name=name)
        self.client_port, self.peer_port = client_port, peer_port
        self.initial_cluster = initial_cluster

    def _args(self):
        args = super()._args()
        i = args.index("--initial-cluster")
        args[i + 1] = self.initial_cluster
        return args


@pytest.fixture
def etcd_cluster(tmp_path):
    ports = [(free_port(), free_port()) for _ in range(3)]
    initial = ",".join(f"m{i}=http://127.0.0.1:{p}" for i, (_, p) in enumerate(ports))
    members = [Member(tmp_path / f"m{i}", f"m{i}", c, p, initial) for i, (c, p) in enumerate(ports)]
    errors = []

    def start(m):
        try:
            m.start(ready_timeout=40)  # ready once a quorum has formed: start them together
        except Exception as ex:  # noqa: BLE001 - reported below
            errors.append(f"{m.name}: {ex}")

    threads = [threading.Thread(target=start, args=(m,)) for m in members]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        if errors:
            pytest.fail("etcd cluster did not start:\n" + "\n".join(errors), pytrace=False)
        yield members
    finally:
        stop_and_check(members)


def test_member_failure_under_two_replicas(tmp_path, etcd_cluster):
    m0, m1, m2 = etcd_cluster
    endpoints = ",".join(m.url for m in (m0, m1, m2))  # m0 first: the servers start on it
    flags = ["--etcd-servers", endpoints, "--etcd-prefix", "/cluster-test", "--etcd-timeout", "2"]
    a = Server(tmp_path / "a", extra_args=flags)
    b = Server(tmp_path / "b", extra_args=flags)
    servers = [a, b]
    try:
        for s in servers:
            s.start()
        ns = "cluster"
        before = [a.http.create_is(ns, f"before-{i}") for i in range(5)]
        start_rv = before[-1]["metadata"]["resourceVersion"]
        w = Watch(b, is_path(ns) + f"?watch=1&resourceVersion={start_rv}")
        try:
            m0.kill9()  # the member both servers (and their event feeds) use
            # quorum stays (2 of 3): writes through either replica go on, on the next endpoint
            after = []
            for i in range(10):
                srv = servers[i % 2]
                after.append(wait_for(lambda: _create(srv, ns, f"after-{i}"), timeout=15,
                                      what=f"create after-{i} with one etcd member down"))
            # ... and are at once visible on both replicas
            for obj in after:
                name = obj["metadata"]["name"]
                for s in servers:
                    got = assert_ok(s.http.get(is_path(ns, name)))
                    assert got["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"]
            # B's watch continued on another member: every new object, in order, nothing twice
            events = w.take(10, timeout=20)
            assert [e["object"]["metadata"]["name"] for e in events] == [f"after-{i}" for i in range(10)]
            assert [e["object"]["metadata"]["resourceVersion"] for e in events] == \
                [o["metadata"]["resourceVersion"] for o in after]
            for s in servers:
                assert s.http.get("/readyz").status_code == 200
        finally:
            w.close()
        # the member comes back and catches up; the servers do not care
        m0.start()
        m1.kill9()
        for i in range(3):
            wait_for(lambda: _create(a, ns, f"again-{i}"), timeout=15, what="create with m1 down")
        names = {o["metadata"]["name"] for o in assert_ok(b.http.get(is_path(ns)))["items"]}
        assert {f"again-{i}" for i in range(3)} <= names and len(names) == 18
        m1.start()
    finally:
        stop_and_check(servers)


def _create(srv, ns, name):
    r = srv.http.post(is_path(ns), {"metadata": {"name": name}})
    if r.status_code == 201:
        return r.json()
    assert r.status_code in (503, 504), (r.status_code, r.text[:500])  # failing over: retry
    return None


def test_hung_member_under_a_replica(tmp_path, etcd_cluster):
    """The member a server uses hangs (SIGSTOP: connections stay open, nothing answers).
    Requests time out on it and move to the next member; the event feed, silent on its
    open stream, must notice it is behind what etcd answers elsewhere and move too —
    else every consistent read would wait for a cache that never catches up."""
    m0, m1, m2 = etcd_cluster
    endpoints = ",".join(m.url for m in (m0, m1, m2))
    srv = Server(tmp_path / "s", extra_args=["--etcd-servers", endpoints, "--etcd-prefix", "/hung",
                                             "--etcd-timeout", "1"])
    try:
        srv.start()
        ns = "hung"
        srv.http.create_is(ns, "before")
        m0.pause()
        try:
            t0 = time.monotonic()
            created = wait_for(lambda: _create(srv, ns, "during"), timeout=20, what="create with m0 hung")
            # read-your-write: the cache must follow through another member
            got = wait_for(lambda: _get_ok(srv, is_path(ns, "during")), timeout=20,
                           what="consistent get with m0 hung")
            assert got["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
            assert time.monotonic() - t0 < 20
            names = {o["metadata"]["name"] for o in assert_ok(srv.http.get(is_path(ns)))["items"]}
            assert names == {"before", "during"}
        finally:
            m0.resume()
    finally:
        stop_and_check([srv])


def _get_ok(srv, path):
    r = srv.http.get(path)
    if r.status_code == 200:
        return r.json()
    assert r.status_code in (503, 504), (r.status_code, r.text[:500])
    return None
