"""The Etcd helper itself (the fault tests rely on it): start, data through
the v3 JSON gateway, stop/start and kill -9/start on the same data dir and
ports, pause/resume. These need /usr/bin/etcd, not the server. The last test
checks conftest's backend wiring: a server's data follows its data dir."""

import time

import requests

from e2e_helpers import is_path, wait_for


def test_start_put_get(etcd_factory):
    e = etcd_factory()
    assert e.alive() and e.ready()
    assert e.version.startswith("3."), e.version
    assert e.client_port != e.peer_port
    rev = e.put("/t/a", "1")
    assert e.put("/t/b", b"\x00two") == rev + 1
    assert e.get("/t/a") == b"1"
    assert e.get("/t/b") == b"\x00two"
    assert e.get("/t/missing") is None
    assert e.keys("/t/") == ["/t/a", "/t/b"]
    assert e.revision() == rev + 1


def test_stop_start_keeps_data_and_ports(etcd_factory):
    e = etcd_factory()
    url, peer = e.url, e.peer_url
    rev = e.put("/t/k", "v")
    assert e.stop() in e.CLEAN_EXIT
    assert not e.alive() and not e.ready()
    e.start()
    assert (e.url, e.peer_url) == (url, peer)
    assert e.get("/t/k") == b"v"
    assert e.revision() == rev
    assert e.problems() == []
    assert e.log.read_text().count("=== run ") == 2  # one log, both runs


def test_kill9_start_keeps_acknowledged_writes(etcd_factory):
    e = etcd_factory()
    revs = [e.put(f"/t/{i}", str(i)) for i in range(20)]
    e.kill9()
    assert not e.alive()
    e.start()
    assert [e.get(f"/t/{i}") for i in range(20)] == [str(i).encode() for i in range(20)]
    assert e.revision() == revs[-1]
    assert e.problems() == []  # a kill9 is not a failure of etcd


def test_pause_resume(etcd_factory):
    e = etcd_factory()
    e.put("/t/p", "before")
    e.pause()
    try:
        assert e.alive()
        t0 = time.time()
        assert not e.ready(timeout=0.5)  # the request hangs, it is not refused
        assert time.time() - t0 >= 0.4
    finally:
        e.resume()
    wait_for(e.ready, timeout=10, what="etcd answering after SIGCONT")
    assert e.get("/t/p") == b"before"
    e.put("/t/p", "after")
    assert e.get("/t/p") == b"after"


def test_stop_while_paused_is_clean(etcd_factory):
    e = etcd_factory()
    e.pause()
    assert e.stop() in e.CLEAN_EXIT
    assert not e.paused and e.problems() == []


def test_died_on_its_own_is_reported(etcd_factory):
    e = etcd_factory()
    e.proc.kill()  # not through kill9(): as if it crashed
    e.proc.wait(timeout=10)
    assert "etcd died" in e.check_alive()
    assert any("died unexpectedly" in p for p in e.problems())
    e.runs[-1]["how"] = "kill"  # acknowledged, so teardown does not fail this test


def test_shared_etcd_serves_the_gateway(etcd):
    """The session etcd (the [etcd] backend's store) answers like a private one."""
    r = requests.post(etcd.url + "/v3/kv/range", json={"key": "AA=="}, timeout=5)
    assert r.status_code == 200, r.text
    assert int(r.json()["header"]["revision"]) >= 1


def test_data_follows_the_data_dir(server_factory, backend, ns):
    """On both backends: a server on the same data_dir= sees the data, one on
    another data dir does not; on etcd the objects are under the prefix."""
    a = server_factory()
    a.http.create_is(ns, "kept")
    assert a.backend == backend
    if backend == "etcd":
        assert "--etcd-servers" in a.runs[-1]["args"]
        assert [k for k in a.etcd.keys(a.etcd_prefix) if k.endswith(f"/{ns}/kept")]
    assert a.stop() == 0
    b = server_factory(data_dir=a.data_dir)
    assert b.etcd_prefix == a.etcd_prefix
    assert b.http.get_is(ns, "kept")["metadata"]["name"] == "kept"
    c = server_factory()
    assert c.http.get(is_path(ns, "kept")).status_code == 404
