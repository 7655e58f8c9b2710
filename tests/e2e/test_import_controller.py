"""The import controller (src/controller/): DockerImage spec tags are imported on their own
(virtual-resources-and-import.md §6.1), `kubectl wait` sees it, a failing tag gets an
ImportSuccess=False condition naming the next attempt, and is retried with backoff."""

import time

from e2e_helpers import assert_ok, is_path, uniq
from etcd_replicas import replicas  # noqa: F401 (fixture)
from registry_images import OciLayout

GROUP = "image.openshift.io"
INSECURE = {"insecure": True}


def make_stream(http, ns, name, ref):
    body = {"kind": "ImageStream", "apiVersion": f"{GROUP}/v1", "metadata": {"name": name},
            "spec": {"tags": [{"name": "t", "from": {"kind": "DockerImage", "name": ref}, "importPolicy": INSECURE}]}}
    return assert_ok(http.post(is_path(ns), body), 201)


def push_unique(registry, tmp_path, tags=("v1", "v2")):
    """Images of this test only (Images are cluster-wide: other tests check that theirs
    are absent). Returns (repository, {tag: digest})."""
    repo = f"ctl/{uniq('r')}"
    layout = OciLayout(tmp_path / "layout")
    for t in tags:
        layout.add_image(t, seed=f"{repo}-{t}")
    layout.write()
    return repo, {t: registry.push_http(layout, t, repo) for t in tags}


def wait_tag(http, ns, name, pred, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        st = assert_ok(http.get(is_path(ns, name)), 200)
        tags = [t for t in (st.get("status") or {}).get("tags") or [] if t["tag"] == "t"]
        if tags and pred(tags[0]):
            return st, tags[0]
        assert time.monotonic() < deadline, st
        time.sleep(0.1)


def test_spec_tag_imported_and_kubectl_wait(kubectl, http, ns, registry, tmp_path):
    repo, digests = push_unique(registry, tmp_path)
    d = digests["v1"]
    name = uniq("ctl")
    make_stream(http, ns, name, f"{registry.host}/{repo}:v1")
    rc, out, err = kubectl("wait", f"is/{name}", "-n", ns, f"--for=jsonpath={{.status.tags[0].items[0].image}}={d}",
                           "--timeout=30s")
    assert rc == 0, err
    st = assert_ok(http.get(is_path(ns, name)), 200)
    assert st["metadata"]["annotations"]["openshift.io/image.dockerRepositoryCheck"]
    assert_ok(http.get(f"/apis/{GROUP}/v1/images/{d}"), 200)
    rc, out, err = kubectl("get", "istag", f"{name}:t", "-n", ns, "-o", "jsonpath={.image.metadata.name}")
    assert rc == 0 and out.strip() == d, (out, err)
    # a changed spec tag is imported again
    st["spec"]["tags"][0]["from"]["name"] = f"{registry.host}/{repo}:v2"
    assert_ok(http.put(is_path(ns, name), st), 200)
    d2 = digests["v2"]
    wait_tag(http, ns, name, lambda t: t["items"][0]["image"] == d2)


def test_failure_names_next_attempt_and_is_retried(http, ns, registry, fault_proxy, tmp_path):
    repo, digests = push_unique(registry, tmp_path, tags=("v1",))
    host = f"127.0.0.1:{fault_proxy.port}"
    fault_proxy.add("status", r"/manifests/", times=1, code=500)
    name = uniq("fail")
    make_stream(http, ns, name, f"{host}/{repo}:v1")
    _, tag = wait_tag(http, ns, name, lambda t: t.get("conditions"))
    cond = tag["conditions"][0]
    assert cond["type"] == "ImportSuccess" and cond["status"] == "False", cond
    assert "next attempt at 20" in cond["message"], cond
    # the retry (10 s later) succeeds: the fault was for one request only
    _, tag = wait_tag(http, ns, name, lambda t: t.get("items"), timeout=40)
    assert tag["items"][0]["image"] == digests["v1"]
    assert not tag.get("conditions")


def test_scheduled_tag_follows_upstream(server_factory, registry, tmp_path):
    """importPolicy.scheduled: a tag moved upstream is picked up by the scheduled re-check
    (--scheduled-image-import-interval 2s: 2 buckets, an advance a second, a round ~3 s)."""
    srv = server_factory("--scheduled-image-import-interval", "2s")
    http = srv.http
    ns = uniq("sched")
    repo = f"ctl/{uniq('s')}"
    first = OciLayout(tmp_path / "a")
    first.add_image("v1", seed=f"{repo}-first")
    first.write()
    d1 = registry.push_http(first, "v1", repo)
    name = uniq("sch")
    body = {"kind": "ImageStream", "apiVersion": f"{GROUP}/v1", "metadata": {"name": name},
            "spec": {"tags": [{"name": "t", "from": {"kind": "DockerImage", "name": f"{registry.host}/{repo}:v1"},
                               "importPolicy": {"insecure": True, "scheduled": True}}]}}
    assert_ok(http.post(is_path(ns), body), 201)
    wait_tag(http, ns, name, lambda t: t.get("items") and t["items"][0]["image"] == d1)
    second = OciLayout(tmp_path / "b")
    second.add_image("v1", seed=f"{repo}-second")
    second.write()
    d2 = registry.push_http(second, "v1", repo)
    assert d2 != d1
    _, tag = wait_tag(http, ns, name, lambda t: t["items"][0]["image"] == d2, timeout=30)
    assert [i["image"] for i in tag["items"]][:2] == [d2, d1]


def test_unscheduled_tag_stays(server_factory, registry, tmp_path):
    """Without importPolicy.scheduled the controller never looks at the registry again."""
    srv = server_factory("--scheduled-image-import-interval", "1s")
    http = srv.http
    ns = uniq("sched")
    repo, digests = push_unique(registry, tmp_path, tags=("v1",))
    name = uniq("uns")
    make_stream(http, ns, name, f"{registry.host}/{repo}:v1")
    wait_tag(http, ns, name, lambda t: t.get("items"))
    again = OciLayout(tmp_path / "c")
    again.add_image("v1", seed=f"{repo}-moved")
    again.write()
    registry.push_http(again, "v1", repo)
    time.sleep(4)
    _, tag = wait_tag(http, ns, name, lambda t: t.get("items"))
    assert [i["image"] for i in tag["items"]] == [digests["v1"]]


def test_scheduled_imports_on_the_leader_only(replicas, registry, tmp_path):
    """Two replicas on one etcd: only the elected leader runs scheduled re-checks (and the
    first import); when it leaves, the other replica takes them over."""
    from etcd_replicas import require_etcd_binary
    require_etcd_binary()
    cl = replicas(2, "--scheduled-image-import-interval", "1s", "--log-level", "debug",
                  "--leader-lease-duration", "2")
    leader = cl.wait_leader(timeout=10)
    follower = next(s for s in cl.servers if s is not leader)
    ns, name = uniq("lead"), uniq("sch")
    repo = f"ctl/{uniq('l')}"
    a = OciLayout(tmp_path / "a")
    a.add_image("v1", seed=f"{repo}-a")
    a.write()
    d1 = registry.push_http(a, "v1", repo)
    body = {"kind": "ImageStream", "apiVersion": f"{GROUP}/v1", "metadata": {"name": name},
            "spec": {"tags": [{"name": "t", "from": {"kind": "DockerImage", "name": f"{registry.host}/{repo}:v1"},
                               "importPolicy": {"insecure": True, "scheduled": True}}]}}
    assert_ok(follower.http.post(is_path(ns), body), 201)
    wait_tag(follower.http, ns, name, lambda t: t.get("items") and t["items"][0]["image"] == d1)
    line = f"importing {ns}/{name} (scheduled)"
    deadline = time.monotonic() + 15
    while line not in leader.log_text(leader.runs[-1]):
        assert time.monotonic() < deadline, "the leader never re-checked the scheduled tag"
        time.sleep(0.2)
    assert f"importing {ns}/{name}" not in follower.log_text(follower.runs[-1]), "the follower imported"
    # the leader leaves: the follower leads and follows the upstream tag
    assert leader.stop() == 0
    cl.wait_leader(timeout=6, exclude=())
    b = OciLayout(tmp_path / "b")
    b.add_image("v1", seed=f"{repo}-b")
    b.write()
    d2 = registry.push_http(b, "v1", repo)
    wait_tag(follower.http, ns, name, lambda t: t["items"][0]["image"] == d2, timeout=30)
    assert line in follower.log_text(follower.runs[-1])
