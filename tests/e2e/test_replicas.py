"""Replicas on one etcd + prefix behave like one server: a write through any
replica is visible on every other one as soon as it returned (consistent reads),
watches on every replica deliver the same events in the same order, kubectl
sees the same objects, exactly one replica leads (and hands over on death or
SIGTERM), and only the leader compacts while every replica answers 410 for
what compaction removed."""

import json
import threading
import time

import requests

from e2e_helpers import (Watch, assert_ok, assert_status, is_path, make_is, new_ns,
                         wait_for)
from etcd_replicas import replicas  # noqa: F401 (fixture)
from etcd_replicas import list_ns, log_says_leading, require_etcd_binary, rv

require_etcd_binary()


# ---------------------------------------------------------------- consistency

def test_write_visible_on_every_replica_at_once(replicas):
    """No retry loop: each read is made once, right after the write returned."""
    rs = replicas(3).servers
    ns = new_ns()
    model = {}   # name -> (resourceVersion, labels)
    last = None  # name of the newest object
    for i in range(48):
        w = rs[i % 3]
        step = i % 4
        if step == 0:
            last = f"is-{i}"
            r = w.http.post(is_path(ns), {"metadata": {"name": last}})
            obj = assert_ok(r, 201)
            model[last] = (rv(obj), {})
        elif step == 1:  # update (PUT) the object read back from another replica
            cur = assert_ok(rs[(i + 1) % 3].http.get(is_path(ns, last)), 200)
            cur["metadata"]["labels"] = {"put": str(i)}
            obj = assert_ok(w.http.put(is_path(ns, last), cur), 200)
            model[last] = (rv(obj), {"put": str(i)})
        elif step == 2:
            obj = assert_ok(w.http.patch(is_path(ns, last),
                                         {"metadata": {"labels": {"patch": str(i)}}}), 200)
            model[last] = (rv(obj), {"put": str(i - 1), "patch": str(i)})
        else:  # every other round delete the newest object, else an older one
            victim = last if i % 8 == 3 else sorted(model)[0]
            before = model.pop(victim)[0]
            r = w.http.delete(is_path(ns, victim))
            assert r.status_code == 200, r.text
        write_rv = model[last][0] if step != 3 else before + 1  # a delete is a newer revision
        for s in rs:
            if step == 3:
                assert_status(s.http.get(is_path(ns, victim)), 404, "NotFound")
            else:
                got = assert_ok(s.http.get(is_path(ns, last)), 200)
                assert (rv(got), got["metadata"].get("labels", {})) == model[last], \
                    (f"round {i}: replica {s.port} after a write on {w.port}", got["metadata"])
            list_rv, items = list_ns(s, ns)
            assert list_rv >= write_rv, (i, s.port, list_rv, write_rv)
            assert items == {n: v[0] for n, v in model.items()}, (i, s.port, items, model)


def _writer(srv_cycle, ns, tag, n, acks, errors):
    """n writes on objects of its own (create, patch, patch, delete, ...),
    each through the next replica of srv_cycle; acks get (type, name, rv|None)."""
    sess = requests.Session()
    try:
        for k in range(n):
            srv = srv_cycle[k % len(srv_cycle)]
            base = f"http://127.0.0.1:{srv.port}"
            name = f"{tag}-{k // 4}"
            step = k % 4
            if step == 0:
                r = sess.post(base + is_path(ns), json=make_is(name), timeout=20)
                kind = "ADDED"
            elif step in (1, 2):
                r = sess.patch(base + is_path(ns, name), data=f'{{"metadata":{{"labels":{{"k":"{k}"}}}}}}',
                               headers={"Content-Type": "application/merge-patch+json"}, timeout=20)
                kind = "MODIFIED"
            else:
                r = sess.delete(base + is_path(ns, name), timeout=20)
                kind = "DELETED"
            if r.status_code not in (200, 201):
                errors.append((tag, k, r.status_code, r.text[:300]))
                return
            acks.append((kind, name, rv(r.json()) if kind != "DELETED" else None))
    except Exception as e:  # reported by the test
        errors.append((tag, repr(e)))


def _events(w, n):
    evs = w.take(n, timeout=15)
    return [(e["type"], e["object"]["metadata"]["name"], rv(e["object"])) for e in evs]


def test_watches_on_every_replica_agree(replicas):
    rs = replicas(3).servers
    ns = new_ns()
    rs[0].http.create_is(ns, "seed")
    start_rv, _ = list_ns(rs[1], ns)
    watches = [Watch(s, is_path(ns) + f"?watch=1&resourceVersion={start_rv}&timeoutSeconds=60")
               for s in rs]
    try:
        for w in watches:
            assert w.status == 200
        threads, acks, errors = [], [[] for _ in range(4)], []
        for j in range(4):
            cycle = rs[j % 3:] + rs[:j % 3]
            threads.append(threading.Thread(target=_writer, args=(cycle, ns, f"t{j}", 24,
                                                                  acks[j], errors)))
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        total = sum(len(a) for a in acks)
        assert total == 96
        seqs = [_events(w, total) for w in watches]
        for s, seq in zip(rs[1:], seqs[1:]):
            assert seq == seqs[0], f"replica {s.port} differs from replica {rs[0].port}"
        seq = seqs[0]
        revs = [e[2] for e in seq]
        assert revs == sorted(revs) and len(set(revs)) == total, revs
        assert all(r > start_rv for r in revs)
        # each writer's acknowledged writes appear, in its order, with its resourceVersions
        for a in acks:
            names = {n for _, n, _ in a}
            mine = [e for e in seq if e[1] in names]
            assert [(t, n) for t, n, _ in mine] == [(t, n) for t, n, _ in a]
            assert all(r is None or r == e[2] for (_, _, r), e in zip(a, mine)), (a, mine)
        for w in watches:
            w.quiet(0.3)  # nothing extra
    finally:
        for w in watches:
            w.close()


def test_watch_on_another_replica_from_a_fresh_write(replicas):
    """The RV of a write on A, used at once on B: B waits for (or has) it and
    starts exactly after it (and exactly at it, from RV-1)."""
    rs = replicas(3).servers
    ns = new_ns()
    for k in range(6):
        a, b = rs[k % 3], rs[(k + 1) % 3]
        name = f"w{k}"
        rv1 = rv(a.http.create_is(ns, name))
        w_after = Watch(b, is_path(ns) + f"?watch=1&resourceVersion={rv1}&timeoutSeconds=30")
        w_at = Watch(b, is_path(ns) + f"?watch=1&resourceVersion={rv1 - 1}&timeoutSeconds=30")
        try:
            assert w_after.status == 200 and w_at.status == 200
            rv2 = rv(assert_ok(a.http.patch(is_path(ns, name), {"metadata": {"labels": {"k": "1"}}})))
            assert _events(w_after, 1) == [("MODIFIED", name, rv2)], (a.port, b.port)
            assert _events(w_at, 2) == [("ADDED", name, rv1), ("MODIFIED", name, rv2)]
        finally:
            w_after.close()
            w_at.close()


def test_kubectl_sees_the_same_objects_on_two_replicas(replicas):
    a, b = replicas(2).servers
    ns = new_ns()
    manifest = "".join(
        f"---\napiVersion: image.openshift.io/v1\nkind: ImageStream\nmetadata:\n  name: k{i}\n"
        for i in range(3))
    a.kubectl("create", "-n", ns, "-f", "-", input=manifest)

    def items(srv):
        _, out, _ = srv.kubectl("get", "imagestreams", "-n", ns, "-o", "json")
        return {i["metadata"]["name"]: i["metadata"]["resourceVersion"]
                for i in json.loads(out)["items"]}
    seen_a, seen_b = items(a), items(b)
    assert sorted(seen_a) == ["k0", "k1", "k2"]
    assert seen_b == seen_a
    b.kubectl("delete", "imagestream", "k1", "-n", ns)
    rc, _, err = a.kubectl("get", "imagestream", "k1", "-n", ns, check=False)
    assert rc != 0 and "NotFound" in err, err
    assert sorted(items(a)) == ["k0", "k2"]


# ---------------------------------------------------------------- leader election

def test_one_leader_and_handover(replicas):
    cl = replicas(3, "--leader-lease-duration", "2")
    first = cl.wait_leader(timeout=10)
    # exactly one holder, and the servers agree (only the holder says it leads)
    wait_for(lambda: [log_says_leading(s) for s in cl.servers].count(True) == 1,
             timeout=5, what="one server logging 'leading'")
    assert log_says_leading(first)

    # kill -9: the key goes when the 2 s lease expires; a follower retries every 0.5 s
    t0 = time.monotonic()
    first.kill9()
    second = cl.wait_leader(timeout=6, exclude=(first,))
    took = time.monotonic() - t0
    assert took <= 2 + 1.5, f"new leader after {took:.2f}s (lease 2s)"

    # SIGTERM: the leader revokes its lease on the way out, so the key is gone at once
    t1 = time.monotonic()
    assert second.stop() == 0
    exited = time.monotonic()
    left = cl.holder_identity()
    assert cl.server_of(left) is not second, f"key still held by the stopped leader: {left}"
    third = cl.wait_leader(timeout=3, exclude=(first, second))
    handover = time.monotonic() - exited
    assert handover <= 1.0, f"handover {handover:.2f}s after the leader exited (SIGTERM)"
    assert third is not first and third.alive()
    print(f"kill -9 handover {took:.2f}s; SIGTERM: exit {exited - t1:.2f}s + handover "
          f"{handover:.2f}s")


# ---------------------------------------------------------------- compaction

COMPACT = ("--compact-interval", "1", "--compact-retain", "5")
COMPACTED_LOG = "compacted etcd to revision"


def _watch_first(srv, path):
    """The first event of a watch (None if the stream ended), or a 410 Status."""
    w = Watch(srv, path)
    try:
        if w.status != 200:
            return {"http": w.status, "body": w.resp.read()}
        return w.next(timeout=10)
    finally:
        w.close()


def _assert_watch_expired(srv, path):
    got = _watch_first(srv, path)
    assert got is not None, "the watch ended without an event"
    if "http" in got:  # acceptable too: a 410 Status instead of the stream
        assert got["http"] == 410, got
        return
    assert got["type"] == "ERROR", got
    st = got["object"]
    assert (st["kind"], st["code"], st["reason"], st["status"]) == \
        ("Status", 410, "Expired", "Failure"), st


def test_compaction_leader_only_and_410_on_every_replica(replicas):
    cl = replicas(2, *COMPACT)
    leader = cl.wait_leader(timeout=10)
    follower = next(s for s in cl.servers if s is not leader)
    ns = new_ns()
    for i in range(3):
        follower.http.create_is(ns, f"c{i}")
    page = assert_ok(follower.http.get(is_path(ns), params={"limit": 1}), 200)
    token = page["metadata"]["continue"]
    early = rv(page)
    patches = []
    for i in range(20):
        srv = cl.servers[i % 2]
        patches.append(rv(assert_ok(srv.http.patch(is_path(ns, "c0"),
                                                   {"metadata": {"labels": {"i": str(i)}}}))))
    exact = {"resourceVersion": str(early), "resourceVersionMatch": "Exact"}

    def compacted():  # (the leader logs after etcd answered: poll both)
        r = leader.http.get(is_path(ns), params=exact)
        return r.status_code == 410 and COMPACTED_LOG in leader.log_text(leader.runs[-1])
    wait_for(compacted, timeout=10, interval=0.2, what="the early revision compacted")
    assert COMPACTED_LOG not in follower.log_text(follower.runs[-1]), "a follower compacted"

    running = list(cl.servers)
    fresh = replicas(1, *COMPACT, cluster=cl).servers[-1]  # its cache starts after compaction
    for s in running + [fresh]:
        assert_status(s.http.get(is_path(ns), params=exact), 410, "Expired")
        assert_status(s.http.get(is_path(ns), params={"limit": 1, "continue": token}),
                      410, "Expired")
    # The fresh replica's cache starts after compaction: old history can only come
    # from etcd, which no longer has it.
    _assert_watch_expired(fresh, is_path(ns) + f"?watch=1&resourceVersion={early}"
                                              "&timeoutSeconds=5")
    # The running replicas may still serve those events from their watch cache
    # (as kube's watch cache does): then they must be exactly the 20 patches.
    for s in running:
        w = Watch(s, is_path(ns) + f"?watch=1&resourceVersion={early}&timeoutSeconds=10")
        try:
            assert w.status == 200
            first = w.next(timeout=10)
            if first["type"] == "ERROR":
                assert first["object"]["code"] == 410, first
                print(f"replica {s.port}: watch from a compacted RV: ERROR 410")
            else:
                print(f"replica {s.port}: watch from a compacted RV: served from its cache")
                evs = [first] + w.take(19)
                assert [(e["type"], rv(e["object"])) for e in evs] == \
                    [("MODIFIED", p) for p in patches], s.port
        finally:
            w.close()
    # history after the compacted revision still replays from etcd on the fresh replica
    w = Watch(fresh, is_path(ns) + f"?watch=1&resourceVersion={patches[-2]}&timeoutSeconds=10")
    try:
        assert w.status == 200
        assert [rv(e["object"]) for e in w.take(1)] == [patches[-1]]
    finally:
        w.close()
