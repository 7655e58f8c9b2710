"""Debian's python3-kubernetes 22.6 and python3-openshift 0.13.1 dynamic
clients against the real server (kubectl-contract.md §11)."""

import pytest

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client as k8s_client  # noqa: E402
from kubernetes.dynamic import DynamicClient as K8sDynamicClient  # noqa: E402
from kubernetes.dynamic.exceptions import ConflictError, NotFoundError  # noqa: E402

openshift_dynamic = pytest.importorskip("openshift.dynamic")

GV = "image.openshift.io/v1"


def _api_client(server):
    conf = k8s_client.Configuration()
    conf.host = f"http://127.0.0.1:{server.port}"
    return k8s_client.ApiClient(configuration=conf)


@pytest.fixture
def dyn(server, tmp_path):
    """kubernetes.dynamic client with a private discovery cache file."""
    return K8sDynamicClient(_api_client(server), cache_file=str(tmp_path / "k8s-cache.json"))


@pytest.fixture
def osdyn(server, tmp_path):
    return openshift_dynamic.DynamicClient(_api_client(server),
                                           cache_file=str(tmp_path / "os-cache.json"))


def body(name, ns, labels=None, tags=None):
    md = {"name": name, "namespace": ns}
    if labels:
        md["labels"] = labels
    spec = {}
    if tags:
        spec["tags"] = [{"name": t, "from": {"kind": "DockerImage", "name": ref}}
                        for t, ref in tags.items()]
    return {"apiVersion": GV, "kind": "ImageStream", "metadata": md, "spec": spec}


def test_crud(dyn, ns):
    isr = dyn.resources.get(api_version=GV, kind="ImageStream")
    assert isr.namespaced and isr.name == "imagestreams"
    assert "status" in isr.subresources
    created = isr.create(body=body("foo", ns, {"app": "x"}, {"latest": "busybox"}), namespace=ns)
    assert created.kind == "ImageStream" and created.metadata.name == "foo"
    assert created.metadata.generation == 1
    isr.create(body=body("bar", ns, {"app": "y"}), namespace=ns)

    got = isr.get(name="foo", namespace=ns)
    assert got.spec.tags[0]["from"]["name"] == "busybox"

    lst = isr.get(namespace=ns, label_selector="app=x")
    assert [i.metadata.name for i in lst.items] == ["foo"]
    lst = isr.get(namespace=ns, field_selector="metadata.name=bar")
    assert [i.metadata.name for i in lst.items] == ["bar"]
    page = isr.get(namespace=ns, limit=1)
    assert len(page.items) == 1 and page.metadata["continue"]
    page2 = isr.get(namespace=ns, limit=1, _continue=page.metadata["continue"])
    assert len(page2.items) == 1

    d = got.to_dict()
    d["metadata"]["labels"]["replaced"] = "yes"
    rep = isr.replace(body=d, namespace=ns)
    assert rep.metadata.labels["replaced"] == "yes"
    with pytest.raises(ConflictError):
        isr.replace(body=d, namespace=ns)  # stale resourceVersion now

    # default patch = strategic merge (tags merged by name)
    p = isr.patch(name="foo", namespace=ns, body={"spec": {"tags": [
        {"name": "v2", "from": {"kind": "DockerImage", "name": "busybox:2"}}]}})
    assert sorted(t["name"] for t in p.spec.tags) == ["latest", "v2"]
    p = isr.patch(name="foo", namespace=ns, body={"metadata": {"labels": {"m": "1"}}},
                  content_type="application/merge-patch+json")
    assert p.metadata.labels["m"] == "1"
    p = isr.patch(name="foo", namespace=ns,
                  body=[{"op": "replace", "path": "/spec/lookupPolicy/local", "value": True}],
                  content_type="application/json-patch+json")
    assert p.spec.lookupPolicy.local is True

    isr.delete(name="foo", namespace=ns)
    with pytest.raises(NotFoundError) as ei:
        isr.get(name="foo", namespace=ns)
    assert ei.value.status == 404


def test_status_subresource(dyn, ns):
    isr = dyn.resources.get(api_version=GV, kind="ImageStream")
    isr.create(body=body("foo", ns), namespace=ns)
    st = isr.status.get(name="foo", namespace=ns)
    assert st.metadata.name == "foo"


def test_server_side_apply(dyn, ns):
    isr = dyn.resources.get(api_version=GV, kind="ImageStream")
    doc = (f"apiVersion: {GV}\nkind: ImageStream\nmetadata:\n  name: ssa\n  namespace: {ns}\n"
           "  labels:\n    owner: py\nspec:\n  lookupPolicy:\n    local: true\n")
    res = isr.server_side_apply(body=doc, name="ssa", namespace=ns, field_manager="py")
    assert res.metadata.labels["owner"] == "py" and res.spec.lookupPolicy.local is True
    managers = {(m["manager"], m["operation"]) for m in res.metadata.managedFields}
    assert ("py", "Apply") in managers
    res = isr.server_side_apply(body=doc, name="ssa", namespace=ns, field_manager="py")
    assert res.metadata.name == "ssa"


def test_watch_synthetic_added(dyn, http, ns):
    isr = dyn.resources.get(api_version=GV, kind="ImageStream")
    isr.create(body=body("w1", ns), namespace=ns)
    isr.create(body=body("w2", ns), namespace=ns)
    events = []
    for ev in isr.watch(namespace=ns, timeout=3):
        events.append((ev["type"], ev["object"].metadata.name))
        if len(events) == 2:
            isr.patch(name="w1", namespace=ns, body={"metadata": {"labels": {"a": "b"}}},
                      content_type="application/merge-patch+json")
        if len(events) == 3:
            break
    assert sorted(events[:2]) == [("ADDED", "w1"), ("ADDED", "w2")]
    assert events[2] == ("MODIFIED", "w1")


def test_watch_ends_at_timeout(dyn, ns):
    isr = dyn.resources.get(api_version=GV, kind="ImageStream")
    rv = isr.get(namespace=ns).metadata.resourceVersion
    events = list(isr.watch(namespace=ns, timeout=1, resource_version=rv))
    assert events == []


def test_resources_get_without_api_version(dyn):
    """Searches every group, including the core one (/api/v1 must answer)."""
    isr = dyn.resources.get(kind="ImageStream")
    assert isr.group_version == GV
    img = dyn.resources.get(kind="Image")
    assert img.namespaced is False


def test_images(dyn):
    images = dyn.resources.get(api_version=GV, kind="Image")
    import uuid
    name = f"pyimg-{uuid.uuid4().hex[:8]}"
    created = images.create(body={"apiVersion": GV, "kind": "Image", "metadata": {"name": name},
                                  "dockerImageReference": "quay.io/x/y:1"})
    assert created.metadata.name == name
    assert images.get(name=name).dockerImageReference == "quay.io/x/y:1"
    images.delete(name=name)
    with pytest.raises(NotFoundError):
        images.get(name=name)


def test_openshift_client_apply_twice(osdyn, ns):
    isr = osdyn.resources.get(api_version=GV, kind="ImageStream")
    b = body("app", ns, {"v": "1"}, {"latest": "busybox"})
    first = isr.apply(body=b, namespace=ns)
    assert first.metadata.labels["v"] == "1"
    ann = first.to_dict()["metadata"]["annotations"]
    assert "kubectl.kubernetes.io/last-applied-configuration" in ann
    b = body("app", ns, {"v": "2"}, {"v2": "busybox:2"})
    second = isr.apply(body=b, namespace=ns)
    assert second.metadata.labels["v"] == "2"
    assert [t["name"] for t in second.spec.tags] == ["v2"]
    assert second.metadata.uid == first.metadata.uid


def test_openshift_client_crud(osdyn, ns):
    isr = osdyn.resources.get(api_version=GV, kind="ImageStream")
    isr.create(body=body("o1", ns), namespace=ns)
    assert isr.get(name="o1", namespace=ns).metadata.name == "o1"
    isr.delete(name="o1", namespace=ns)
    with pytest.raises(NotFoundError):
        isr.get(name="o1", namespace=ns)
