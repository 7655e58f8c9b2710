"""Tag tracking and history (issue 8 items 6, 7, 11): tags that follow other tags of the
same stream (transitively, through status pushes and spec updates), cycles refused with
nothing written, references to other namespaces and missing streams, --max-tag-history,
and history intact after kill -9."""

import subprocess

import pytest

from e2e_helpers import BINARY, assert_ok, assert_status, is_path, make_is

D = "sha256:" + "0" * 62  # + two hex digits


def digest(i):
    return D + "%02x" % i


def push(h, ns, name, tag, img, ref=None):
    """What a registry push does to the stream: a new latest event on tag, via /status."""
    cur = assert_ok(h.get(is_path(ns, name)))
    tags = cur["status"].setdefault("tags", [])
    st = next((t for t in tags if t["tag"] == tag), None)
    if st is None:
        st = {"tag": tag, "items": []}
        tags.append(st)
    st["items"] = [{"created": "2024-01-01T00:00:00Z", "image": img,
                    "dockerImageReference": ref or f"registry.example/{ns}/{name}@{img}",
                    "generation": 0}] + (st.get("items") or [])
    return assert_ok(h.put(is_path(ns, name, "status"), cur), 200)


def latest(obj, tag):
    for t in obj["status"].get("tags") or []:
        if t["tag"] == tag:
            return t["items"][0] if t.get("items") else None
    return None


def history(obj, tag):
    for t in obj["status"].get("tags") or []:
        if t["tag"] == tag:
            return [e["image"] for e in t.get("items") or []]
    return []


def istag_from(name, ref, ns=None):
    f = {"kind": "ImageStreamTag", "name": ref}
    if ns:
        f["namespace"] = ns
    return {"name": name, "from": f}


def test_alias_chain_follows_pushes(http, ns):
    # latest -> stable -> v1 (as `oc tag --alias` makes them)
    http.create_is(ns, "app", tags=[istag_from("latest", "stable"), istag_from("stable", "app:v1")])
    s = push(http, ns, "app", "v1", digest(1))
    assert latest(s, "stable")["image"] == digest(1)
    assert latest(s, "latest")["image"] == digest(1)
    s = push(http, ns, "app", "v1", digest(2))
    assert history(s, "latest") == [digest(2), digest(1)]
    assert history(s, "stable") == [digest(2), digest(1)]
    # a GET shows the same (the write was stored, not only answered)
    assert history(assert_ok(http.get(is_path(ns, "app"))), "latest") == [digest(2), digest(1)]


def test_retarget_spec_tag_moves_followers(http, ns):
    http.create_is(ns, "app", tags=[{"name": "v1", "reference": True,
                                     "from": {"kind": "DockerImage", "name": "quay.io/a/b:1"}},
                                    istag_from("latest", "v1")])
    cur = assert_ok(http.get(is_path(ns, "app")))
    assert latest(cur, "latest")["dockerImageReference"] == "quay.io/a/b:1"
    cur["spec"]["tags"][1]["from"]["name"] = "quay.io/a/b:2"   # tags sorted: v1 is second
    assert cur["spec"]["tags"][1]["name"] == "v1"
    s = assert_ok(http.put(is_path(ns, "app"), cur), 200)
    assert latest(s, "latest")["dockerImageReference"] == "quay.io/a/b:2"


@pytest.mark.parametrize("tags", [
    [istag_from("a", "b"), istag_from("b", "a")],
    [istag_from("a", "b"), istag_from("b", "c"), istag_from("c", "s:a")],
    [istag_from("self", "self")],
])
def test_cycles_are_refused_and_nothing_is_written(http, ns, tags):
    r = http.post(is_path(ns), make_is("s", tags=tags))
    body = assert_status(r, 422, "Invalid", contains="tags may not track each other in a cycle")
    assert body["details"]["causes"][0]["field"].startswith("spec.tags[")
    assert http.get(is_path(ns, "s")).status_code == 404
    # closing a cycle by an update is refused too, and the stream is unchanged
    base = http.create_is(ns, "s", tags=[istag_from("a", "b")])
    cur = assert_ok(http.get(is_path(ns, "s")))
    cur["spec"]["tags"].append(istag_from("b", "a"))
    assert_status(http.put(is_path(ns, "s"), cur), 422, "Invalid",
                  contains="spec.tags[b].from.name: Invalid value: \"a\": tags may not track each other "
                           "in a cycle: b -> a -> b")
    after = assert_ok(http.get(is_path(ns, "s")))
    assert after["metadata"]["resourceVersion"] == base["metadata"]["resourceVersion"]


def test_reference_to_other_namespace_and_missing_stream(http, ns):
    other = ns + "-src"
    http.create_is(other, "base")
    push(http, other, "base", "v1", digest(7))
    s = http.create_is(ns, "app", tags=[istag_from("v1", "base:v1", ns=other)])
    assert latest(s, "v1")["image"] == digest(7)
    # a missing source stream names the field, and nothing is written
    r = http.post(is_path(ns), make_is("bad", tags=[istag_from("v1", "nothere:v1", ns=other)]))
    assert_status(r, 422, "Invalid", contains='spec.tags[v1].from.name: Not found: "nothere:v1"')
    assert http.get(is_path(ns, "bad")).status_code == 404
    # an unknown kind in from names the field
    r = http.post(is_path(ns), make_is("bad", tags=[{"name": "x", "from": {"kind": "Pod", "name": "p"}}]))
    assert_status(r, 422, "Invalid", contains="spec.tags[x].from.kind: Required value: valid values are "
                                              "'DockerImage', 'ImageStreamImage', 'ImageStreamTag'")
    assert http.get(is_path(ns, "bad")).status_code == 404


def test_max_tag_history_keeps_pinned_events(server_factory, ns):
    srv = server_factory("--max-tag-history", "3")
    h = srv.http
    h.create_is(ns, "app")
    for i in range(1, 7):
        s = push(h, ns, "app", "v", digest(i))
    assert history(s, "v") == [digest(6), digest(5), digest(4)]
    # pin the oldest kept event by digest; it survives later pushes
    cur = assert_ok(h.get(is_path(ns, "app")))
    cur["spec"]["tags"] = [{"name": "pinned", "from": {"kind": "ImageStreamImage", "name": "app@" + digest(4)}}]
    assert_ok(h.put(is_path(ns, "app"), cur), 200)
    for i in range(7, 10):
        s = push(h, ns, "app", "v", digest(i))
    assert history(s, "v") == [digest(9), digest(8), digest(7), digest(4)]
    assert history(s, "pinned") == [digest(4)]


def test_max_tag_history_flag_is_checked():
    r = subprocess.run([BINARY, "--max-tag-history", "-1"], capture_output=True, text=True, timeout=20)
    assert r.returncode == 2
    assert "--max-tag-history" in r.stderr


def test_history_survives_kill9(server_factory, ns):
    srv = server_factory()
    h = srv.http
    h.create_is(ns, "app", tags=[istag_from("latest", "v1")])
    for t in ("v1", "v2", "v3"):
        for i in range(5):
            s = push(h, ns, "app", t, digest(16 * int(t[1]) + i))
    before = assert_ok(h.get(is_path(ns, "app")))
    assert len(history(before, "latest")) == 5
    srv.kill9()
    srv.restart()
    after = assert_ok(srv.http.get(is_path(ns, "app")))
    assert after["status"] == before["status"]
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
