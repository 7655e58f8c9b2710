"""ImageTag (virtual-resources-and-import.md §3, cases 29-37) over HTTP on both
backends: the stream's metadata, spec/status/image, the union list, create,
update (metadata and status must come back unchanged), patch, delete."""

import concurrent.futures as cf

import pytest

from e2e_helpers import G, GV, JSONPATCH, MERGE, SMP, Http, assert_ok, assert_status, is_path
from tag_helpers import (digest, docker_tag, event, itag_path, make_stream, new_image, set_status,
                         spec_tag, status_tag, stream, stream_rv)

NOT_ITAG_NAME = "ImageTags must be retrieved with <name>:<tag>"


def itag_body(name, spec=None, status=None, **meta):
    md = {"name": name}
    md.update(meta)
    return {"apiVersion": GV, "kind": "ImageTag", "metadata": md, "spec": spec, "status": status}


def test_get_full_view(http, ns):
    """Case 29: the stream's metadata under the tag's name, the spec tag, the
    status tag, the image with the event's reference."""
    img = new_image(http, ref="foo/bar/baz")
    make_stream(http, ns, labels={"label": "to"}, annotations={"test": "other"},
                spec_tags=[{"name": "latest", "annotations": {"color": "blue", "size": "large"}}],
                status={"latest": [event(img, ref="test")]})
    s = stream(http, ns)
    it = assert_ok(http.get(itag_path(ns, "test:latest")), 200)
    assert it["kind"] == "ImageTag" and it["apiVersion"] == GV
    md = it["metadata"]
    assert md["name"] == "test:latest"
    assert md["annotations"] == {"test": "other"} and md["labels"] == {"label": "to"}
    for k in ("uid", "resourceVersion", "generation", "creationTimestamp", "namespace"):
        assert md[k] == s["metadata"][k], k
    assert it["spec"]["name"] == "latest"
    assert it["spec"]["referencePolicy"] == {"type": "Source"}
    assert it["spec"]["annotations"] == {"color": "blue", "size": "large"}
    assert it["status"]["tag"] == "latest"
    assert [e["image"] for e in it["status"]["items"]] == [img]
    assert it["image"]["metadata"]["name"] == img
    assert it["image"]["dockerImageMetadataVersion"] == "1.0"
    assert it["image"]["dockerImageReference"] == "test"


def test_get_partial_views(http, ns):
    """Cases 30, 31: a missing image is null; spec or status null when absent;
    neither -> 404; bad names -> 400."""
    img = new_image(http)
    make_stream(http, ns, spec_tags=[docker_tag("a/b:1") | {"name": "speconly"}],
                status={"gone": [event(digest())], "pushed": [event(img)]})
    it = assert_ok(http.get(itag_path(ns, "test:gone")), 200)
    assert it["image"] is None and it["spec"] is None
    it = assert_ok(http.get(itag_path(ns, "test:pushed")), 200)
    assert it["spec"] is None and it["image"]["metadata"]["name"] == img
    it = assert_ok(http.get(itag_path(ns, "test:speconly")), 200)
    assert it["status"] is None and it["image"] is None
    b = assert_status(http.get(itag_path(ns, "test:none")), 404, "NotFound",
                      f'imagetags.{G} "test:none" not found')
    assert b["details"]["kind"] == "imagetags"
    assert_status(http.get(itag_path(ns, "nope:latest")), 404, "NotFound",
                  f'imagestreams.{G} "nope" not found')
    for name in ("test", "a:b:c", "test@sha256:x"):
        assert_status(http.get(itag_path(ns, name)), 400, "BadRequest", NOT_ITAG_NAME)


def test_list_union(http, ns):
    """Case 32 and §3.3: the union of spec and status tags by name, image null,
    streams in order; across all namespaces too."""
    img = new_image(http)
    make_stream(http, ns, status={"latest": [event(img)], "other": [event(img)]})
    make_stream(http, ns, "mixed", spec_tags=[docker_tag("a/b:1") | {"name": "b"},
                                              docker_tag("a/b:1") | {"name": "d"}],
                status={"a": [event(img)], "b": [event(img)], "c": [event(img)]})
    lst = assert_ok(http.get(itag_path(ns)), 200)
    assert lst["kind"] == "ImageTagList"
    assert [i["metadata"]["name"] for i in lst["items"]] == [
        "mixed:a", "mixed:b", "mixed:c", "mixed:d", "test:latest", "test:other"]
    assert all(i["image"] is None for i in lst["items"])
    b = next(i for i in lst["items"] if i["metadata"]["name"] == "mixed:b")
    assert b["spec"]["name"] == "b" and b["status"]["tag"] == "b"
    everywhere = assert_ok(http.get(itag_path()), 200)
    assert {"mixed:d", "test:other"} <= {i["metadata"]["name"] for i in everywhere["items"]
                                         if i["metadata"]["namespace"] == ns}


def test_create(http, ns):
    """Case 33: 201; metadata is the stream's; generations follow the stream."""
    make_stream(http, ns, labels={"a": "b"}, annotations={"blue": "green"})
    it = assert_ok(http.post(itag_path(ns), itag_body(
        "test:tag", {"from": {"kind": "DockerImage", "name": "foo/bar/baz"},
                     "referencePolicy": {"type": "Source"}},
        annotations={"ignored": "yes"})), 201)
    s = stream(http, ns)
    assert it["metadata"]["labels"] == {"a": "b"}
    assert it["metadata"]["annotations"] == {"blue": "green"}
    assert it["metadata"]["generation"] == s["metadata"]["generation"]
    assert it["spec"]["name"] == "tag"
    assert it["spec"]["generation"] == s["metadata"]["generation"]
    assert it["spec"]["importPolicy"]["importMode"] == "Legacy"
    assert it["status"] is None and it["image"] is None
    assert_status(http.post(itag_path(ns), itag_body("test:tag", docker_tag("a/b:2"))), 409,
                  "AlreadyExists", f'imagetags.{G} "test:tag" already exists')
    # a missing stream is created
    it = assert_ok(http.post(itag_path(ns), itag_body("fresh:v1", docker_tag("a/b:1"))), 201)
    assert it["metadata"]["generation"] == 1 and it["spec"]["generation"] == 1


@pytest.mark.parametrize("spec,field,msg", [
    ({"name": "other", "from": {"kind": "DockerImage", "name": "a/b"}}, "spec.name",
     'spec.name: Invalid value: "other": must match image tag name'),
    (None, "spec", "spec: Required value: spec is a required field during creation"),
    ({"from": {"kind": "Bogus", "name": "a/b"}}, "spec.from.kind", None),
    ({"from": {"kind": "DockerImage", "name": ""}}, "spec.from.name", None),
])
def test_create_invalid(http, ns, spec, field, msg):
    """Case 34 and the TagReference rules under spec.: nothing written."""
    make_stream(http, ns)
    rv = stream_rv(http, ns)
    b = assert_status(http.post(itag_path(ns), itag_body("test:tag", spec)), 422, "Invalid")
    assert b["details"]["kind"] == "ImageTag"
    assert [c["field"] for c in b["details"]["causes"]] == [field]
    if msg:
        assert b["message"] == f'ImageTag.{G} "test:tag" is invalid: {msg}'
    assert stream_rv(http, ns) == rv


def test_update_must_keep_metadata_and_status(http, ns):
    """Case 35."""
    img = new_image(http)
    make_stream(http, ns, labels={"a": "b"}, annotations={"x": "y"},
                status={"tag": [event(img)]})
    rv = stream_rv(http, ns)
    body = itag_body("test:tag", docker_tag("a/b:1"))
    b = assert_status(http.put(itag_path(ns, "test:tag"), body), 422, "Invalid")
    fields = [c["field"] for c in b["details"]["causes"]]
    assert "metadata" in fields
    assert f'ImageTag.{G} "test:tag" is invalid' in b["message"]
    assert "may not update fields other than spec" in b["message"]
    cur = assert_ok(http.get(itag_path(ns, "test:tag")), 200)
    cur["spec"] = docker_tag("a/b:1")
    cur["status"]["items"][0]["generation"] = 7
    b = assert_status(http.put(itag_path(ns, "test:tag"), cur), 422, "Invalid",
                      f'ImageTag.{G} "test:tag" is invalid: status: Invalid value: "": may not '
                      "update fields other than spec")
    assert stream_rv(http, ns) == rv


def test_update_sets_and_removes_spec(http, ns):
    """Cases 36, 37: a new spec on a spec-less tag is 201 with the new
    generation; spec null removes the spec tag and keeps the status."""
    img = new_image(http)
    make_stream(http, ns, labels={"a": "b"}, annotations={"x": "y"}, status={"tag": [event(img)]})
    cur = assert_ok(http.get(itag_path(ns, "test:tag")), 200)
    cur["spec"] = docker_tag("a/b:1")
    r = http.put(itag_path(ns, "test:tag"), cur)
    it = assert_ok(r, 201)
    s = stream(http, ns)
    assert it["spec"]["generation"] == s["metadata"]["generation"]
    assert it["metadata"]["generation"] == s["metadata"]["generation"]
    assert it["metadata"]["resourceVersion"] == s["metadata"]["resourceVersion"]
    assert it["image"]["metadata"]["name"] == img
    # a stale resourceVersion: 409
    stale = dict(cur)
    assert_status(http.put(itag_path(ns, "test:tag"), stale), 409, "Conflict",
                  f'Operation cannot be fulfilled on imagetags.{G} "test:tag": another caller has '
                  f"updated the resource version to {s['metadata']['resourceVersion']}")
    it["spec"] = None
    it = assert_ok(http.put(itag_path(ns, "test:tag"), it), 200)
    assert it["spec"] is None and it["status"]["tag"] == "tag"
    s = stream(http, ns)
    assert spec_tag(s, "tag") is None and status_tag(s, "tag") is not None


def test_update_creates_stream(http, ns):
    assert_ok(http.put(itag_path(ns, "new:v1"), itag_body("new:v1", docker_tag("a/b:1"))), 201)
    assert spec_tag(stream(http, ns, "new"), "v1")["generation"] == 1
    assert_status(http.put(itag_path(ns, "gone:v1"), itag_body("gone:v1", docker_tag("a/b:1"),
                                                               resourceVersion="5")),
                  404, "NotFound", f'imagetags.{G} "gone:v1" not found')


@pytest.mark.parametrize("ctype,patch", [
    (MERGE, {"spec": {"from": {"name": "a/b:patched"}}}),
    (SMP, {"spec": {"from": {"name": "a/b:patched"}}}),
    (JSONPATCH, [{"op": "replace", "path": "/spec/from/name", "value": "a/b:patched"}]),
])
def test_patch(http, ns, ctype, patch):
    make_stream(http, ns, labels={"a": "b"}, spec_tags=[docker_tag("a/b:1") | {"name": "tag"}])
    it = assert_ok(http.patch(itag_path(ns, "test:tag"), patch, ctype=ctype), 200)
    assert it["spec"]["from"]["name"] == "a/b:patched"
    assert spec_tag(stream(http, ns), "tag")["from"]["name"] == "a/b:patched"
    rv = stream_rv(http, ns)
    assert_status(http.patch(itag_path(ns, "test:tag"), {"metadata": {"labels": {"c": "d"}}}),
                  422, "Invalid")
    assert stream_rv(http, ns) == rv


def test_delete(http, ns):
    img = new_image(http)
    make_stream(http, ns, spec_tags=[docker_tag("a/b:1") | {"name": "tag"}],
                status={"tag": [event(img)], "keep": [event(img)]})
    r = http.delete(itag_path(ns, "test:tag"))
    assert r.status_code == 200 and r.json()["status"] == "Success"
    s = stream(http, ns)
    assert spec_tag(s, "tag") is None and status_tag(s, "tag") is None
    assert status_tag(s, "keep") is not None
    assert_status(http.delete(itag_path(ns, "test:tag")), 404, "NotFound",
                  f'imagetags.{G} "test:tag" not found')


def test_conditions_only_tag(http, ns):
    """A status tag holding only a condition exists as an ImageTag."""
    make_stream(http, ns, spec_tags=[docker_tag("a/b:1") | {"name": "tag"}])
    set_status(http, ns, "test", {"tag": {"items": None, "conditions": [
        {"type": "ImportSuccess", "status": "False", "reason": "NotFound", "message": "no",
         "generation": 1, "lastTransitionTime": "2020-01-01T00:00:00Z"}]}})
    it = assert_ok(http.get(itag_path(ns, "test:tag")), 200)
    assert it["status"]["conditions"][0]["reason"] == "NotFound"
    assert it["status"]["items"] is None


def test_twenty_clients_create_itags(server, ns):
    make_stream(server.http, ns)

    def post(i):
        return Http(server).post(itag_path(ns), itag_body(f"test:i{i}", docker_tag(f"a/b:{i}"))
                                 ).status_code

    with cf.ThreadPoolExecutor(max_workers=20) as ex:
        codes = list(ex.map(post, range(20)))
    assert codes == [201] * 20
    assert len(stream(server.http, ns)["spec"]["tags"]) == 20
