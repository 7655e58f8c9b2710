"""An event-loop thread never waits on the store: with etcd hung (SIGSTOP) and the
server on one event-loop thread, requests that must ask etcd — a status GET (read
from the store, also with resourceVersion=0), a watch from a revision older than
the cache's event ring (replayed from etcd) — are parked on the pool, and the loop
goes on answering what it can answer from memory (/healthz, a GET with
resourceVersion=0). Before the resource layer the status GET ran on the loop and
stalled every connection behind it."""

import json
import threading
import time

import requests

from e2e_helpers import assert_ok, is_path, new_ns
from etcd_replicas import replicas  # noqa: F401 (fixture)
from etcd_replicas import require_etcd_binary, rv

require_etcd_binary()


def _fire(url, results, key):
    try:
        results[key] = requests.get(url, timeout=20).status_code
    except requests.RequestException as e:
        results[key] = repr(e)


def test_hung_etcd_does_not_stall_the_loop(replicas):  # noqa: F811
    cluster = replicas(1, "--threads", "1", "--etcd-timeout", "3")
    srv = cluster.servers[0]
    ns = new_ns()
    first = assert_ok(srv.http.post(is_path(ns), {"metadata": {"name": "seed"}}), 201)
    for i in range(3):
        assert_ok(srv.http.post(is_path(ns), {"metadata": {"name": f"more-{i}"}}), 201)
    # after a restart the event ring starts at the current revision: a watch from
    # `first` must replay the revision log from etcd
    srv.stop()
    srv.start()
    base = f"http://127.0.0.1:{srv.port}"
    cluster.etcd.pause()
    try:
        results = {}
        stuck = [
            # resourceVersion=0 skips the read barrier: the status read itself asks etcd
            threading.Thread(target=_fire, args=(base + is_path(ns, "seed") + "/status?resourceVersion=0", results,
                                                 f"status{i}"))
            for i in range(4)
        ] + [
            threading.Thread(target=_fire, args=(
                base + is_path(ns) + f"?watch=1&resourceVersion={rv(first)}&timeoutSeconds=2", results, f"watch{i}"))
            for i in range(2)
        ]
        for t in stuck:
            t.start()
        time.sleep(0.5)  # they are all waiting for etcd now
        t0 = time.monotonic()
        assert requests.get(base + "/healthz", timeout=5).status_code == 200
        got = requests.get(base + is_path(ns, "seed") + "?resourceVersion=0", timeout=5)
        elapsed = time.monotonic() - t0
        assert got.status_code == 200, got.text
        assert got.json()["metadata"]["name"] == "seed"
        # answered while etcd is still hung and the others still wait (well inside --etcd-timeout)
        assert elapsed < 1.5, elapsed
        assert any(t.is_alive() for t in stuck), "the store requests did not wait for etcd"
    finally:
        cluster.etcd.resume()
    for t in stuck:
        t.join(30)
    # once etcd answers again (or timed out) each got a response, not a hang
    assert len(results) == 6, results
    for key, code in results.items():
        assert code in (200, 503, 504), (key, code)


def test_watch_replay_on_hung_etcd_reports_503(replicas):  # noqa: F811
    """A watch whose history must be replayed from a hung etcd ends with an ERROR event
    carrying the store's Status (503 ServiceUnavailable), not a 410 "too old"."""
    cluster = replicas(1, "--etcd-timeout", "2")
    srv = cluster.servers[0]
    ns = new_ns()
    first = assert_ok(srv.http.post(is_path(ns), {"metadata": {"name": "seed"}}), 201)
    assert_ok(srv.http.post(is_path(ns), {"metadata": {"name": "next"}}), 201)
    srv.stop()
    srv.start()   # the event ring starts after `first` now
    cluster.etcd.pause()
    try:
        r = requests.get(f"http://127.0.0.1:{srv.port}" + is_path(ns) +
                         f"?watch=1&resourceVersion={rv(first)}&timeoutSeconds=20", stream=True, timeout=20)
        assert r.status_code == 200
        lines = [ln for ln in r.iter_lines() if ln]
    finally:
        cluster.etcd.resume()
    assert lines, "the watch ended without an event"

    last = json.loads(lines[-1])
    assert last["type"] == "ERROR", last
    assert last["object"]["kind"] == "Status" and last["object"]["code"] == 503, last
    assert last["object"]["reason"] == "ServiceUnavailable", last
