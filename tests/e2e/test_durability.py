"""Durability: a clean restart keeps everything exactly; a kill -9 in the
middle of concurrent writes loses no acknowledged write."""

import threading
import time

import requests

from e2e_helpers import (assert_ok, img_path, is_path, make_image, make_is)

NS = "durable"


def snapshot(http):
    """{(ns, name): (uid, resourceVersion)} for every ImageStream + Image."""
    out = {}
    for path in ("/apis/image.openshift.io/v1/imagestreams", img_path()):
        body = assert_ok(http.get(path), 200)
        for it in body["items"]:
            md = it["metadata"]
            out[(md.get("namespace", ""), md["name"])] = (md["uid"], md["resourceVersion"])
    return out


def test_restart_keeps_objects_and_resource_versions(server_factory):
    srv = server_factory()
    h = srv.http
    rvs = []
    for i in range(50):
        if i % 10 == 9:
            obj = assert_ok(h.post(img_path(), make_image(f"img-{i}")), 201)
        else:
            obj = h.create_is(NS, f"is-{i:02d}", labels={"i": str(i)})
        rvs.append(int(obj["metadata"]["resourceVersion"]))
    assert rvs == sorted(rvs) and len(set(rvs)) == 50
    # some updates and a delete, so history is not just creates
    assert_ok(h.patch(is_path(NS, "is-00"), {"metadata": {"labels": {"changed": "yes"}}}))
    assert h.delete(is_path(NS, "is-01")).status_code == 200
    before = snapshot(h)
    list_rv = assert_ok(h.get(is_path(NS)))["metadata"]["resourceVersion"]
    full_before = assert_ok(h.get(is_path(NS, "is-00")))

    rc = srv.stop()
    assert rc == 0, srv.log_tail()
    srv.start()
    after = snapshot(srv.http)
    assert {k: v for k, v in after.items() if k in before} == before
    assert len(before) == 49
    assert assert_ok(srv.http.get(is_path(NS, "is-00"))) == full_before
    assert srv.http.get(is_path(NS, "is-01")).status_code == 404
    assert int(assert_ok(srv.http.get(is_path(NS)))["metadata"]["resourceVersion"]) >= \
        int(list_rv)
    new = srv.http.create_is(NS, "after-restart")
    assert int(new["metadata"]["resourceVersion"]) > max(int(v[1]) for v in before.values())
    assert int(new["metadata"]["resourceVersion"]) > int(list_rv)


class Writer(threading.Thread):
    """Creates a stream, then keeps patching a counter label; records every
    acknowledged write as (name, counter, resourceVersion)."""

    def __init__(self, base, idx, stop):
        super().__init__(daemon=True)
        self.base, self.idx, self.stop = base, idx, stop
        self.acked = {}  # name -> (counter, rv)
        self.error = None

    def run(self):
        s = requests.Session()
        k = 0
        try:
            while not self.stop.is_set():
                name = f"w{self.idx:02d}-{k:03d}"
                r = s.post(self.base + is_path(NS), json=make_is(name, labels={"n": "0"}),
                           timeout=10)
                if r.status_code != 201:
                    self.error = f"create {name}: {r.status_code} {r.text[:200]}"
                    return
                self.acked[name] = (0, int(r.json()["metadata"]["resourceVersion"]))
                for n in range(1, 4):
                    r = s.patch(self.base + is_path(NS, name),
                                data='{"metadata":{"labels":{"n":"%d"}}}' % n,
                                headers={"Content-Type": "application/merge-patch+json"},
                                timeout=10)
                    if r.status_code != 200:
                        self.error = f"patch {name}: {r.status_code} {r.text[:200]}"
                        return
                    self.acked[name] = (n, int(r.json()["metadata"]["resourceVersion"]))
                k += 1
        except requests.RequestException:
            return  # the server was killed under us: expected


def test_crash_loses_no_acknowledged_write(server_factory):
    srv = server_factory()
    base = f"http://127.0.0.1:{srv.port}"
    stop = threading.Event()
    writers = [Writer(base, i, stop) for i in range(16)]
    for w in writers:
        w.start()
    # let them run until a fair number of writes is acknowledged
    deadline = time.time() + 20
    while time.time() < deadline and sum(len(w.acked) for w in writers) < 300:
        time.sleep(0.05)
    time.sleep(0.3)
    srv.kill9()
    stop.set()
    for w in writers:
        w.join(timeout=15)
    errors = [w.error for w in writers if w.error]
    assert not errors, errors
    acked = {}
    for w in writers:
        acked.update(w.acked)
    assert len(acked) >= 16, "too few writes before the crash"

    srv.start()
    h = srv.http
    listing = assert_ok(h.get(is_path(NS)), 200)
    live = {it["metadata"]["name"]: it for it in listing["items"]}
    lost = []
    for name, (counter, rv) in acked.items():
        obj = live.get(name)
        if obj is None:
            lost.append(f"{name}: missing (acked rv {rv})")
            continue
        got_rv = int(obj["metadata"]["resourceVersion"])
        got_n = int(obj["metadata"]["labels"]["n"])
        if got_rv < rv or got_n < counter:
            lost.append(f"{name}: rv {got_rv} n {got_n} < acked rv {rv} n {counter}")
    assert not lost, lost[:20]
    # no corruption: every stored object reads back individually and is well formed
    for name, item in live.items():
        one = assert_ok(h.get(is_path(NS, name)), 200)
        assert one["metadata"]["uid"] == item["metadata"]["uid"]
        assert one["kind"] == "ImageStream"
    # the server serves writes with a larger resourceVersion than anything acked
    new = h.create_is(NS, "after-crash")
    assert int(new["metadata"]["resourceVersion"]) > max(rv for _, rv in acked.values())
    assert int(new["metadata"]["resourceVersion"]) > int(listing["metadata"]["resourceVersion"])
