"""etcd faults under replicas: while etcd is down (killed: connections refused;
SIGSTOPped: nothing answers) requests fail fast with a 503/504 Status and
/readyz is 503; when it is back the service resumes, open watches go on without
gap or duplicate (or end with 410), and no acknowledged write is lost. A
replica whose event feed fell behind a compaction reloads its cache and ends
its watches with 410."""

import threading
import time

import pytest
import requests

from e2e_helpers import Http, Watch, assert_ok, assert_status, is_path, new_ns, uniq, wait_for
from etcd_replicas import replicas  # noqa: F401 (fixture)
from etcd_replicas import (list_ns, pause_server, require_etcd_binary, resume_server, rv,
                           status_body, timed)

require_etcd_binary()


class Writer(threading.Thread):
    """Creates objects with fresh names through the replicas in turn until
    stopped. acked: {name: rv} of 201s; codes: every other status seen;
    broken: exceptions (no answer at all)."""

    def __init__(self, servers, ns):
        super().__init__(daemon=True)
        self.servers, self.ns = servers, ns
        self.acked, self.codes, self.broken, self.tried = {}, [], [], set()
        self.halt = threading.Event()
        self.sess = requests.Session()

    def run(self):
        i = 0
        while not self.halt.is_set():
            srv = self.servers[i % len(self.servers)]
            name = f"wr-{i}"
            self.tried.add(name)
            i += 1
            try:
                r = self.sess.post(f"http://127.0.0.1:{srv.port}{is_path(self.ns)}",
                                   json={"metadata": {"name": name}}, timeout=15)
            except requests.RequestException as e:
                self.broken.append((name, repr(e)))
                continue
            if r.status_code == 201:
                self.acked[name] = rv(r.json())
            else:
                self.codes.append((name, r.status_code, r.text[:200]))
                self.halt.wait(0.05)  # do not spin against a dead etcd

    def stop(self):
        self.halt.set()
        self.join(30)
        assert not self.is_alive(), "writer hung"


CALLS = {
    "get": lambda h, ns: h.get(is_path(ns, "seed"), timeout=15),
    "list": lambda h, ns: h.get(is_path(ns), timeout=15),
    "create": lambda h, ns: h.post(is_path(ns), {"metadata": {"name": uniq("down")}}, timeout=15),
    # without resourceVersion a watch starts with a consistent read too
    "watch": lambda h, ns: h.get(is_path(ns) + "?watch=1&timeoutSeconds=5", timeout=15,
                                 stream=True),
    "readyz": lambda h, ns: h.get("/readyz?verbose", timeout=15),
}


def _down_checks(servers, ns, limit):
    """Every kind of request, on every replica, all at once, fails fast with a
    503/504 Status, and /readyz is 503: a hung etcd costs each request one
    timeout, not one per request queued before it (consistent reads share one
    in-flight revision request; when it fails, its waiters fail with it).
    limit: (seconds for one etcd timeout, slack)."""
    results = {}

    def one(srv, what):
        h = Http(srv)  # its own session: a requests.Session is not for threads
        try:
            results[(srv.port, what)] = timed(CALLS[what], h, ns)
        except Exception as e:  # no answer at all
            results[(srv.port, what)] = (e, None)
    jobs = [threading.Thread(target=one, args=(srv, what)) for srv in servers for what in CALLS]
    for t in jobs:
        t.start()
    for t in jobs:
        t.join(30)
    assert len(results) == len(jobs)
    print("etcd down:", {f"{w}@{p}": round(v[1], 2) for (p, w), v in sorted(results.items())
                         if v[1] is not None})
    timeout, slack = limit
    for (port, what), (r, took) in sorted(results.items()):
        assert took is not None, f"{what} on {port}: {r!r}"
        try:
            if what == "readyz":
                assert r.status_code == 503, (r.status_code, r.text)
                assert "[-]etcd failed" in r.text and "readyz check failed" in r.text, r.text
            else:
                body = status_body(r, (503, 504))
                if r.status_code == 503:  # the wording and back-off docs/etcd.md promise
                    assert body["message"] == "storage is unavailable, please try again", body
                    assert r.headers.get("Retry-After") == "1", r.headers
        finally:
            r.close()
        bound = timeout + slack
        assert took < bound, f"{what} on {port} took {took:.2f}s with etcd down"


@pytest.mark.parametrize("fault", ["sigkill", "sigstop"])
def test_etcd_outage(replicas, fault):
    # refused connections must fail at once; a hung etcd after --etcd-timeout
    flags, limit = (("--etcd-timeout", "2"), (2, 1.5)) if fault == "sigstop" else ((), (0, 1.0))
    cl = replicas(2, *flags)
    a, b = cl.servers
    etcd = cl.etcd
    ns = new_ns()
    a.http.create_is(ns, "seed")
    start_rv, _ = list_ns(b, ns)
    w = Watch(b, is_path(ns) + f"?watch=1&resourceVersion={start_rv}&timeoutSeconds=120",
              timeout=60)
    writer = Writer(cl.servers, ns)
    try:
        assert w.status == 200
        writer.start()
        wait_for(lambda: len(writer.acked) >= 5, timeout=10, what="writes before the fault")
        if fault == "sigkill":
            etcd.kill9()
        else:
            etcd.pause()
        try:
            _down_checks((a, b), ns, limit)
        finally:
            if fault == "sigkill":
                etcd.start()
            else:
                etcd.resume()
        t0 = time.monotonic()
        wait_for(lambda: all(s.http.get("/readyz", timeout=5).status_code == 200 for s in (a, b)),
                 timeout=20, interval=0.05, what="/readyz 200 on both replicas after etcd is back")
        print(f"{fault}: ready again after {time.monotonic() - t0:.2f}s")
        after = a.http.create_is(ns, "after")
        assert rv(b.http.get_is(ns, "after")) == rv(after)
        n = len(writer.acked)
        wait_for(lambda: len(writer.acked) >= n + 5, timeout=10, what="writes after recovery")
    finally:
        writer.stop()
    try:
        assert not writer.broken, f"requests got no answer: {writer.broken[:5]}"
        bad = [c for c in writer.codes if c[1] not in (503, 504)]
        assert not bad, f"unexpected statuses during the outage: {bad[:5]}"

        # no acknowledged write lost, on either replica
        for s in (a, b):
            _, items = list_ns(s, ns)
            lost = {n: v for n, v in writer.acked.items() if items.get(n) != v}
            assert not lost, f"replica {s.port} lost acknowledged writes: {lost}"

        # the open watch: went on without gap or duplicate, or ended with 410
        marker = rv(b.http.create_is(ns, "marker"))
        evs = w.until(lambda ev: ev["type"] == "ERROR"
                      or ev["object"]["metadata"]["name"] == "marker", timeout=15)
    finally:
        w.close()
    if evs[-1]["type"] == "ERROR":
        st = evs[-1]["object"]
        assert (st["code"], st["reason"]) == (410, "Expired"), st
        print(f"{fault}: the watch ended with 410 after {len(evs) - 1} events")
        evs = evs[:-1]
    revs = [rv(e["object"]) for e in evs]
    assert revs == sorted(revs) and len(set(revs)) == len(revs), f"out of order or duplicate: {revs}"
    assert all(e["type"] == "ADDED" for e in evs), [e["type"] for e in evs]
    names = {e["object"]["metadata"]["name"]: rv(e["object"]) for e in evs}
    unknown = [n for n in names if n not in writer.tried and n not in ("after", "marker")
               and not n.startswith("down-")]
    assert not unknown, unknown
    if evs and names.get("marker") == marker:  # the watch went on: it missed nothing
        want = dict(writer.acked, after=rv(after))
        missing = {n: v for n, v in want.items() if v < marker and names.get(n) != v}
        assert not missing, f"watch on {b.port} missed acknowledged writes: {missing}"


COMPACT = ("--compact-interval", "1", "--compact-retain", "5")


def test_feed_behind_compaction_reloads_and_expires_watches(replicas):
    """B is stopped while etcd restarts (its feed connection is gone) and the
    leader A writes and compacts past what B's feed had seen. When B runs
    again its feed cannot resume: B reloads, its watch ends with 410, and it
    serves the current data."""
    cl = replicas(1, *COMPACT)
    a = cl.wait_leader(timeout=10)  # alone: A leads, so A compacts
    b = replicas(1, *COMPACT, cluster=cl).servers[-1]
    etcd = cl.etcd
    ns = new_ns()
    a.http.create_is(ns, "x")
    seen, _ = list_ns(b, ns)
    w = Watch(b, is_path(ns) + f"?watch=1&resourceVersion={seen}&timeoutSeconds=60", timeout=60)
    try:
        assert w.status == 200
        pause_server(b)
        try:
            etcd.kill9()
            etcd.start()
            wait_for(lambda: a.http.get("/readyz", timeout=5).status_code == 200, timeout=20,
                     interval=0.05, what="A ready after the etcd restart")
            last = 0
            for i in range(20):
                last = rv(assert_ok(a.http.patch(is_path(ns, "x"),
                                                 {"metadata": {"labels": {"i": str(i)}}})))
            exact = {"resourceVersion": str(seen + 1), "resourceVersionMatch": "Exact"}
            wait_for(lambda: a.http.get(is_path(ns), params=exact).status_code == 410,
                     timeout=10, interval=0.2, what="A compacting past B's feed")
        finally:
            resume_server(b)
        evs = w.until(lambda ev: ev["type"] == "ERROR", timeout=15)
        assert len(evs) == 1, f"events B never had in its cache were delivered: {evs[:-1]}"
        st = evs[0]["object"]
        assert (st["kind"], st["code"], st["reason"]) == ("Status", 410, "Expired"), st
        assert w.next(timeout=5) is None, "the watch went on after its ERROR event"
    finally:
        w.close()
    log = b.log_text(b.runs[-1])
    assert "were compacted before the cache saw them" in log, b.log_tail()
    # B serves the current state, and new watches on it work
    wait_for(lambda: b.http.get("/readyz", timeout=5).status_code == 200, timeout=10,
             what="B ready after the reload")
    b_rv, b_items = list_ns(b, ns)
    assert b_rv >= last
    assert b_items == list_ns(a, ns)[1] == {"x": last}
    w = Watch(b, is_path(ns) + f"?watch=1&resourceVersion={b_rv}&timeoutSeconds=10")
    try:
        assert w.status == 200
        nxt = rv(assert_ok(a.http.patch(is_path(ns, "x"), {"metadata": {"labels": {"n": "1"}}})))
        ev = w.next(timeout=10)
        assert (ev["type"], rv(ev["object"])) == ("MODIFIED", nxt), ev
    finally:
        w.close()
    # B, too, knows that the old revision is gone
    assert_status(b.http.get(is_path(ns), params={"resourceVersion": str(seen),
                                                  "resourceVersionMatch": "Exact"}),
                  410, "Expired")
