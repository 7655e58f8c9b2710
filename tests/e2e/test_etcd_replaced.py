"""etcd replaced under a running server: restored from an older backup (its
revision goes back) or another cluster at the same address (another cluster id,
even with a higher revision). The server must not go on serving what it cached
from the old history: it reloads from the new etcd, ends open watches with 410
(clients re-list), and serves the new etcd's data."""

import pytest

from e2e_helpers import Etcd, Server, Watch, assert_ok, is_path, stop_and_check, wait_for
from etcd_replicas import require_etcd_binary

require_etcd_binary()

NS = "replaced"


def _names(srv):
    r = srv.http.get(is_path(NS))
    if r.status_code != 200:
        assert r.status_code in (503, 504), (r.status_code, r.text[:300])
        return None
    return sorted(o["metadata"]["name"] for o in r.json()["items"])


class OtherCluster(Etcd):
    """Another cluster: same address, another cluster token, so another cluster id."""

    def _args(self):
        return super()._args() + ["--initial-cluster-token", "another-cluster"]


def _replacement(tmp_path, old, other):
    """A new etcd with empty data on the old one's ports (same client URL)."""
    new = (OtherCluster if other else Etcd)(tmp_path / ("etcd-other" if other else "etcd-restored"))
    new.client_port, new.peer_port = old.client_port, old.peer_port
    return new


@pytest.mark.parametrize("how", ["restored-older", "other-cluster-newer"])
def test_etcd_replaced_under_a_server(tmp_path, how):
    old = Etcd(tmp_path / "etcd-old")
    old.start()
    etcds, servers = [old], []
    try:
        srv = Server(tmp_path / "s", extra_args=["--etcd-servers", old.url, "--etcd-prefix", "/r",
                                                 "--etcd-timeout", "2"])
        servers.append(srv)
        srv.start()
        for i in range(8):
            srv.http.create_is(NS, f"old-{i}")
        rv = assert_ok(srv.http.get(is_path(NS)))["metadata"]["resourceVersion"]
        w = Watch(srv, is_path(NS) + f"?watch=1&resourceVersion={rv}")
        old.stop()
        # same address, other data: an empty member of the same cluster (a restore from a
        # backup taken before the writes), or another cluster that has seen more writes
        new = _replacement(tmp_path, old, other=how == "other-cluster-newer")
        etcds.append(new)
        new.start()
        if how == "other-cluster-newer":
            for i in range(40):
                new.put(f"/elsewhere/{i}", "x")  # its revision passes the old one
        new.put("/r/image.openshift.io/imagestreams/replaced/new-0",
                '{"apiVersion":"image.openshift.io/v1","kind":"ImageStream","metadata":'
                '{"name":"new-0","namespace":"replaced","uid":"11111111-2222-3333-4444-555555555555",'
                '"creationTimestamp":"2026-11-23T00:00:00Z"},"spec":{}}')
        # the server notices, reloads, and serves the new etcd's content only
        wait_for(lambda: _names(srv) == ["new-0"], timeout=20, what="the list shows the new etcd's data")
        assert srv.http.get(is_path(NS, "old-0")).status_code == 404
        ev = w.until(lambda e: e["type"] == "ERROR", timeout=20)[-1]
        assert ev["object"]["code"] == 410, ev
        # and it works normally on it
        created = srv.http.create_is(NS, "after")
        got = assert_ok(srv.http.get(is_path(NS, "after")))
        assert got["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
        assert _names(srv) == ["after", "new-0"]
        w.close()
    finally:
        stop_and_check(servers)
        stop_and_check([e for e in etcds if e.runs])
