"""kubectl 1.32 and the Python dynamic clients on ImageStreamTag and ImageTag:
tables (-o wide, -A), describe, create -f and apply -f (twice and more), explain,
patch (merge, json, strategic), delete, and reading istags from Python."""

import json

import pytest

from e2e_helpers import GV, assert_ok
from tag_helpers import docker_tag, event, istag_path, make_stream, new_image, spec_tag, stream

ISTAG_YAML = """apiVersion: image.openshift.io/v1
kind: ImageStreamTag
metadata:
  name: app:v1
tag:
  from:
    kind: ImageStreamTag
    name: src:{src_tag}
"""

ITAG_YAML = """apiVersion: image.openshift.io/v1
kind: ImageTag
metadata:
  name: app:{tag}
spec:
  from:
    kind: DockerImage
    name: quay.io/x/app:{ref}
"""


@pytest.fixture
def pushed(http, ns):
    """A stream `src` whose tags v1 and v2 were pushed (images that exist)."""
    a, b = new_image(http, ref="quay.io/x/app"), new_image(http, ref="quay.io/x/app")
    make_stream(http, ns, "src", status={"v1": [event(a, ref=f"quay.io/x/app@{a}")],
                                         "v2": [event(b, ref=f"quay.io/x/app@{b}")]})
    return {"v1": a, "v2": b}


def rows(out):
    return [line.split() for line in out.strip().splitlines()]


def test_get_tables(kubectl, http, ns, pushed):
    make_stream(http, ns, "app", spec_tags=[docker_tag("quay.io/x/app:9") | {"name": "spec"}])
    _, out, _ = kubectl("get", "istag,itag", "-n", ns)
    lines = out.strip().splitlines()
    assert lines[0].split() == ["NAME", "IMAGE", "REFERENCE", "UPDATED"]
    assert f"imagestreamtag.image.openshift.io/src:v1   quay.io/x/app@{pushed['v1']}" in out
    itag_head = next(i for i, line in enumerate(lines) if line.startswith("NAME") and "SPEC" in line)
    assert lines[itag_head].split() == ["NAME", "SPEC", "STATUS", "HISTORY", "UPDATED"]
    # the Status column may already show the import controller's failed attempt (no network)
    assert ["imagetag.image.openshift.io/app:spec", "Tag", "quay.io/x/app:9"] == \
        lines[itag_head + 1].split()[:3]
    assert lines[itag_head + 2].split()[:4] == ["imagetag.image.openshift.io/src:v1", "Push",
                                                f"image/{pushed['v1']}", "1"]
    assert lines[itag_head + 2].endswith("years ago")
    _, out, _ = kubectl("get", "istag", "-n", ns, "-o", "wide")
    r = rows(out)
    assert r[0] == ["NAME", "IMAGE", "REFERENCE", "UPDATED", "IMAGE", "NAME"]
    assert r[1][0] == "src:v1" and r[1][-1] == pushed["v1"]
    _, out, _ = kubectl("get", "istag", "-A")
    assert any(line.split()[:2] == [ns, "src:v2"] for line in out.splitlines())
    _, out, _ = kubectl("get", "istag", "src:v2", "-n", ns, "-o", "jsonpath={.image.metadata.name}")
    assert out == pushed["v2"]


def test_describe_istag(kubectl, ns, pushed):
    _, out, _ = kubectl("describe", "istag", "src:v1", "-n", ns)
    assert "Name:" in out and "src:v1" in out
    assert f"quay.io/x/app@{pushed['v1']}" in out
    assert "Lookup Policy" in out


def test_create_f(kubectl, http, ns, pushed, tmp_path):
    f = tmp_path / "istag.yaml"
    f.write_text(ISTAG_YAML.format(src_tag="v1"))
    _, out, _ = kubectl("create", "-f", str(f), "-n", ns)
    assert "imagestreamtag.image.openshift.io/app:v1 created" in out
    got = assert_ok(http.get(istag_path(ns, "app:v1")), 200)
    assert got["image"]["metadata"]["name"] == pushed["v1"]
    rc, _, err = kubectl("create", "-f", str(f), "-n", ns, check=False)
    assert rc != 0 and "already exists" in err
    f = tmp_path / "itag.yaml"
    f.write_text(ITAG_YAML.format(tag="v5", ref="5"))
    _, out, _ = kubectl("create", "-f", str(f), "-n", ns)
    assert "imagetag.image.openshift.io/app:v5 created" in out
    assert spec_tag(stream(http, ns, "app"), "v5")["from"]["name"] == "quay.io/x/app:5"


def test_apply_istag_repeatedly(kubectl, http, ns, pushed, tmp_path):
    """create, then patches (kubectl GETs the tag: it must resolve to an image)."""
    f = tmp_path / "istag.yaml"
    f.write_text(ISTAG_YAML.format(src_tag="v1"))
    _, out, _ = kubectl("apply", "-f", str(f), "-n", ns)
    assert "created" in out
    _, out, _ = kubectl("apply", "-f", str(f), "-n", ns)
    assert "configured" in out or "unchanged" in out
    _, out, _ = kubectl("apply", "-f", str(f), "-n", ns)
    assert "unchanged" in out
    f.write_text(ISTAG_YAML.format(src_tag="v2"))
    _, out, _ = kubectl("apply", "-f", str(f), "-n", ns)
    assert "configured" in out
    got = assert_ok(http.get(istag_path(ns, "app:v1")), 200)
    assert got["tag"]["from"]["name"] == "src:v2"
    assert got["image"]["metadata"]["name"] == pushed["v2"]


def test_apply_itag_repeatedly(kubectl, http, ns, tmp_path):
    f = tmp_path / "itag.yaml"
    f.write_text(ITAG_YAML.format(tag="v2", ref="2"))
    _, out, _ = kubectl("apply", "-f", str(f), "-n", ns)
    assert "created" in out
    for _ in range(2):
        rc, out, err = kubectl("apply", "-f", str(f), "-n", ns)
        assert "configured" in out or "unchanged" in out
    f.write_text(ITAG_YAML.format(tag="v2", ref="3"))
    _, out, _ = kubectl("apply", "-f", str(f), "-n", ns)
    assert "configured" in out
    s = stream(http, ns, "app")
    assert spec_tag(s, "v2")["from"]["name"] == "quay.io/x/app:3"
    # the apply annotation is not written into the stream (an ImageTag's metadata is its)
    assert "kubectl.kubernetes.io/last-applied-configuration" not in (
        s["metadata"].get("annotations") or {})


def test_explain(kubectl):
    _, out, _ = kubectl("explain", "imagestreamtag.tag")
    assert "KIND:       ImageStreamTag" in out
    assert "FIELD: tag <TagReference>" in out
    assert "from\t<ObjectReference>" in out
    _, out, _ = kubectl("explain", "imagetag.spec.from")
    assert "ImageTag" in out


@pytest.mark.parametrize("ptype,patch", [
    ("merge", {"tag": {"from": {"name": "src:v2"}}}),
    ("strategic", {"tag": {"from": {"name": "src:v2"}}}),
    ("json", [{"op": "replace", "path": "/tag/from/name", "value": "src:v2"}]),
])
def test_patch(kubectl, http, ns, pushed, ptype, patch):
    assert_ok(http.post(istag_path(ns), {"apiVersion": GV, "kind": "ImageStreamTag",
                                         "metadata": {"name": "app:v1"},
                                         "tag": {"from": {"kind": "ImageStreamTag",
                                                          "name": "src:v1"}}}), 201)
    _, out, _ = kubectl("patch", "istag", "app:v1", "-n", ns, "--type", ptype, "-p", json.dumps(patch))
    assert "patched" in out
    got = assert_ok(http.get(istag_path(ns, "app:v1")), 200)
    assert got["tag"]["from"]["name"] == "src:v2"
    assert got["image"]["metadata"]["name"] == pushed["v2"]
    _, out, _ = kubectl("patch", "itag", "app:v1", "-n", ns, "--type", "merge", "-p",
                        '{"spec":{"annotations":{"k":"v"}}}')
    assert spec_tag(stream(http, ns, "app"), "v1")["annotations"] == {"k": "v"}


def test_delete(kubectl, http, ns, pushed):
    make_stream(http, ns, "app", spec_tags=[docker_tag("quay.io/x/app:1") | {"name": "v1"},
                                            docker_tag("quay.io/x/app:2") | {"name": "v2"}])
    _, out, _ = kubectl("delete", "istag", "app:v1", "-n", ns)
    assert 'imagestreamtag.image.openshift.io "app:v1" deleted' in out
    _, out, _ = kubectl("delete", "itag", "app:v2", "-n", ns)
    assert 'imagetag.image.openshift.io "app:v2" deleted' in out
    assert not stream(http, ns, "app")["spec"].get("tags")
    rc, _, err = kubectl("delete", "istag", "app:v1", "-n", ns, check=False)
    assert rc != 0 and "NotFound" in err


def test_bad_input(kubectl, http, ns, tmp_path):
    make_stream(http, ns, "app")
    rv = stream(http, ns, "app")["metadata"]["resourceVersion"]
    rc, _, err = kubectl("get", "istag", "app", "-n", ns, check=False)
    assert rc != 0 and "ImageStreamTags must be retrieved with <name>:<tag>" in err
    f = tmp_path / "bad.yaml"
    f.write_text("apiVersion: image.openshift.io/v1\nkind: ImageStreamTag\nmetadata: {name: 'app:x'}\n"
                 "tag: {from: {kind: Foo, name: bar}}\n")
    rc, _, err = kubectl("create", "-f", str(f), "-n", ns, check=False)
    assert rc != 0 and "tag.from.kind: Required value" in err
    f.write_text("apiVersion: image.openshift.io/v1\nkind: ImageTag\nmetadata: {name: 'app:x'}\n"
                 "spec: {from: {kind: ImageStreamTag, name: 'missing:latest'}}\n")
    rc, _, err = kubectl("create", "-f", str(f), "-n", ns, check=False)
    assert rc != 0 and 'spec.tags[x].from.name: Not found: "missing:latest"' in err
    assert stream(http, ns, "app")["metadata"]["resourceVersion"] == rv


# ---------------------------------------------------------------- Python clients

kubernetes = pytest.importorskip("kubernetes")


def _dyn(server, tmp_path):
    from kubernetes import client as k8s_client
    from kubernetes.dynamic import DynamicClient
    conf = k8s_client.Configuration()
    conf.host = f"http://127.0.0.1:{server.port}"
    return DynamicClient(k8s_client.ApiClient(configuration=conf),
                         cache_file=str(tmp_path / "dyn-cache.json"))


def test_python_dynamic_reads_istags(server, http, ns, pushed, tmp_path):
    dyn = _dyn(server, tmp_path)
    res = dyn.resources.get(api_version=GV, kind="ImageStreamTag")
    assert res.name == "imagestreamtags" and res.namespaced
    got = res.get(name="src:v1", namespace=ns)
    assert got.kind == "ImageStreamTag" and got.image.metadata.name == pushed["v1"]
    lst = res.get(namespace=ns)
    assert [i.metadata.name for i in lst.items] == ["src:v1", "src:v2"]
    from kubernetes.dynamic.exceptions import NotFoundError
    with pytest.raises(NotFoundError):
        res.get(name="src:nope", namespace=ns)
    itags = dyn.resources.get(api_version=GV, kind="ImageTag")
    it = itags.get(name="src:v2", namespace=ns)
    assert it.status.items[0].image == pushed["v2"]


def test_python_openshift_client(server, ns, pushed, tmp_path):
    osdyn = pytest.importorskip("openshift.dynamic")
    from kubernetes import client as k8s_client
    conf = k8s_client.Configuration()
    conf.host = f"http://127.0.0.1:{server.port}"
    c = osdyn.DynamicClient(k8s_client.ApiClient(configuration=conf),
                            cache_file=str(tmp_path / "os-cache.json"))
    res = c.resources.get(api_version=GV, kind="ImageStreamTag")
    created = res.create(body={"apiVersion": GV, "kind": "ImageStreamTag",
                               "metadata": {"name": "py:t"},
                               "tag": {"from": {"kind": "ImageStreamTag", "name": "src:v1"}}},
                         namespace=ns)
    assert created.metadata.name == "py:t"
    assert res.get(name="py:t", namespace=ns).image.metadata.name == pushed["v1"]
