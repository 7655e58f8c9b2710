"""Watches of ImageStreamTags, a kind derived from ImageStreams (src/api/watch_derived.c):
`kubectl get istag -w`, a raw watch resumed from a resourceVersion it returned, and
timeoutSeconds. Beyond the reference (openshift-apiserver does not watch istags).

Skips itself while /apis/image.openshift.io/v1 does not serve imagestreamtags with the
watch verb (the kind is registered in src/image/image_kinds.c)."""

import hashlib
import threading
import time

import pytest

from e2e_helpers import (BASE, Watch, assert_ok, img_path, is_path, make_image, uniq, wait_for)


@pytest.fixture
def istag_watch(http):
    res = {r["name"]: r for r in assert_ok(http.get(BASE), 200)["resources"]}
    ist = res.get("imagestreamtags")
    if ist is None:
        pytest.skip("imagestreamtags is not served yet (GET /apis/image.openshift.io/v1 lacks it)")
    if "watch" not in ist["verbs"]:
        pytest.skip("imagestreamtags does not list the watch verb yet (src/image/image_kinds.c)")


def istag_path(ns, name=None):
    return f"{BASE}/namespaces/{ns}/imagestreamtags" + (f"/{name}" if name else "")


def new_image(http):
    """An Image with a fresh digest name; returns (digest, pull spec)."""
    digest = "sha256:" + hashlib.sha256(uniq("img").encode()).hexdigest()
    ref = f"registry.example.com/test/app@{digest}"
    assert_ok(http.post(img_path(), make_image(digest, ref=ref)), 201)
    return digest, ref


def push_tag(http, ns, stream, tag):
    """Points status tag `tag` of `stream` at a new Image through PUT .../status, as a
    registry push records it; returns the stream's new resourceVersion."""
    digest, ref = new_image(http)
    st = assert_ok(http.get(is_path(ns, stream, "status")), 200)
    tags = [t for t in (st.get("status") or {}).get("tags") or [] if t["tag"] != tag]
    tags.append({"tag": tag, "items": [{
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "dockerImageReference": ref, "image": digest,
        "generation": st["metadata"].get("generation", 1)}]})
    st.setdefault("status", {})["tags"] = tags
    got = assert_ok(http.put(is_path(ns, stream, "status"), st), 200)
    return got["metadata"]["resourceVersion"]


def _collect(proc, sink):
    for line in proc.stdout:
        sink.append(line.rstrip("\n"))


def _stop(proc, reader):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except Exception:
        proc.kill()
        proc.wait()
    reader.join(timeout=5)


def test_kubectl_get_istag_watch(istag_watch, server, http, ns):
    """The initial row, then a row for a tag pushed while kubectl watches; one header."""
    http.create_is(ns, "app")
    push_tag(http, ns, "app", "v1")
    proc = server.kubectl_bg("get", "istag", "-n", ns, "-w")
    lines = []
    reader = threading.Thread(target=_collect, args=(proc, lines), daemon=True)
    reader.start()
    try:
        wait_for(lambda: any(line.split()[:1] == ["app:v1"] for line in lines), timeout=15,
                 what="initial row")
        assert lines[0].split()[0] == "NAME"
        push_tag(http, ns, "app", "v2")
        wait_for(lambda: any(line.split()[:1] == ["app:v2"] for line in lines), timeout=10,
                 what="row for a pushed tag")
        assert proc.poll() is None, "kubectl get -w exited early: " + proc.stderr.read()
        assert sum(1 for line in lines if line.startswith("NAME")) == 1
        # a stream change that leaves app:v1 as it is prints no row for it
        assert [line.split()[0] for line in lines] == ["NAME", "app:v1", "app:v2"]
    finally:
        _stop(proc, reader)


def test_raw_watch_resumes(istag_watch, server, http, ns):
    """A watch from the list's resourceVersion sees each pushed tag once, at the stream's
    revision; resumed from the first event's resourceVersion it sees only what followed."""
    http.create_is(ns, "app")
    rv0 = assert_ok(http.get(istag_path(ns)), 200)["metadata"]["resourceVersion"]
    w = Watch(server, istag_path(ns) + f"?watch=1&resourceVersion={rv0}&timeoutSeconds=20")
    try:
        assert w.status == 200
        rv1 = push_tag(http, ns, "app", "v1")
        rv2 = push_tag(http, ns, "app", "v2")
        evs = w.take(2)
    finally:
        w.close()
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in evs] == [
        ("ADDED", "app:v1"), ("ADDED", "app:v2")]
    assert [e["object"]["metadata"]["resourceVersion"] for e in evs] == [rv1, rv2]
    assert evs[0]["object"]["kind"] == "ImageStreamTag"
    assert evs[0]["object"]["apiVersion"] == "image.openshift.io/v1"

    w = Watch(server, istag_path(ns) + f"?watch=1&resourceVersion={rv1}&timeoutSeconds=20")
    try:
        ev = w.next()
        assert (ev["type"], ev["object"]["metadata"]["name"]) == ("ADDED", "app:v2")
        assert ev["object"]["metadata"]["resourceVersion"] == rv2
        w.quiet(1.0)   # nothing twice
    finally:
        w.close()

    # one item's path watches that item alone
    w = Watch(server, istag_path(ns, "app:v1") + f"?watch=1&resourceVersion={rv0}&timeoutSeconds=20")
    try:
        ev = w.next()
        assert (ev["type"], ev["object"]["metadata"]["name"]) == ("ADDED", "app:v1")
        w.quiet(1.0)
    finally:
        w.close()


def test_watch_ends_at_timeout(istag_watch, server, http, ns):
    http.create_is(ns, "app")
    push_tag(http, ns, "app", "v1")
    start = time.time()
    w = Watch(server, istag_path(ns) + "?watch=1&timeoutSeconds=1")
    try:
        assert w.status == 200
        ev = w.next()
        assert (ev["type"], ev["object"]["metadata"]["name"]) == ("ADDED", "app:v1")
        assert w.next(timeout=10) is None, "stream went on past timeoutSeconds"
        assert time.time() - start < 8
    finally:
        w.close()
