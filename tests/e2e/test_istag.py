"""ImageStreamTag (virtual-resources-and-import.md §1, cases 1-23) over HTTP, on
both backends: where each field comes from, the resolved image reference, the
create/update/delete rules and their exact Status errors, dry run, lists in a
namespace and across all, bad input that writes nothing, and 20 clients tagging
one stream at once."""

import concurrent.futures as cf

import pytest

from e2e_helpers import (G, GV, JSONPATCH, MERGE, SMP, assert_ok, assert_status, is_path,
                         new_ns)
from tag_helpers import (T0, digest, docker_tag, event, istag_body, istag_path, make_stream,
                         new_image, spec_tag, status_tag, stream, stream_rv)

NOT_ISTAG_NAME = "ImageStreamTags must be retrieved with <name>:<tag>"


# ---------------------------------------------------------------- GET (cases 1-7)

def test_get_fields(http, ns):
    """Case 1: metadata from the event and the spec tag, the image's reference
    replaced by the event's."""
    img = new_image(http, ref="foo/bar/baz")
    make_stream(http, ns, labels={"app": "x"}, annotations={"stream": "only"},
                spec_tags=[{"name": "latest", "annotations": {"color": "blue", "size": "large"}}],
                status={"latest": [event(img, ref="test", created=T0)]})
    s = stream(http, ns)
    ist = assert_ok(http.get(istag_path(ns, "test:latest")), 200)
    assert ist["kind"] == "ImageStreamTag" and ist["apiVersion"] == GV
    md = ist["metadata"]
    assert md["name"] == "test:latest" and md["namespace"] == ns
    assert md["creationTimestamp"] == T0
    assert md["annotations"] == {"color": "blue", "size": "large"}
    assert md["labels"] == {"app": "x"}
    assert md["uid"] == s["metadata"]["uid"]
    assert md["resourceVersion"] == s["metadata"]["resourceVersion"]
    assert "generation" not in md
    assert ist["image"]["metadata"]["name"] == img
    assert ist["image"]["metadata"]["annotations"] == {"color": "blue", "size": "large"}
    assert ist["image"]["dockerImageReference"] == "test"
    assert ist["tag"]["name"] == "latest"
    assert ist["generation"] == 1
    assert ist["lookupPolicy"] == {"local": False}
    assert "dockerImageManifest" not in ist["image"]


def test_get_not_found_forms(http, ns):
    """Cases 2-5: no image on the event, a missing image, a missing stream, a
    status tag of another name."""
    missing = digest()
    make_stream(http, ns, status={"latest": [event("", ref="foo/bar:1")],
                                  "gone": [event(missing)]})
    r = http.get(istag_path(ns, "test:latest"))
    body = assert_status(r, 404, "NotFound",
                         f'imagestreamtags.{G} "test:latest" not found')
    assert body["details"] == {"name": "test:latest", "group": G, "kind": "imagestreamtags"}
    body = assert_status(http.get(istag_path(ns, "test:gone")), 404, "NotFound",
                         f'images.{G} "{missing}" not found')
    assert body["details"]["kind"] == "images"
    body = assert_status(http.get(istag_path(ns, "nope:latest")), 404, "NotFound",
                         f'imagestreams.{G} "nope" not found')
    assert body["details"] == {"name": "nope", "group": G, "kind": "imagestreams"}
    assert_status(http.get(istag_path(ns, "test:other")), 404, "NotFound",
                  f'imagestreamtags.{G} "test:other" not found')


@pytest.mark.parametrize("name", ["test@sha256:abc", "test", "a:b:c", ":b", "a:"])
def test_get_bad_names(http, ns, name):
    """Case 6 (and the strict parse of §0.1)."""
    assert_status(http.get(istag_path(ns, name)), 400, "BadRequest", NOT_ISTAG_NAME)
    for method in ("PUT", "DELETE"):
        r = http.req(method, istag_path(ns, name), json=istag_body(name, docker_tag("a/b")))
        assert_status(r, 400, "BadRequest", NOT_ISTAG_NAME)


def test_get_local_reference_policy(server_factory):
    """Case 7: Local policy -> <status.dockerImageRepository>@<image>."""
    srv = server_factory("--registry-hostname", "registry.svc:5000")
    http, ns = srv.http, new_ns()
    img = new_image(http)
    make_stream(http, ns, spec_tags=[{"name": "latest", "referencePolicy": {"type": "Local"}}],
                status={"latest": [event(img, ref="upstream/x:1")]})
    ist = assert_ok(http.get(istag_path(ns, "test:latest")), 200)
    assert ist["image"]["dockerImageReference"] == f"registry.svc:5000/{ns}/test@{img}"
    lst = assert_ok(http.get(istag_path(ns)), 200)
    assert lst["items"][0]["image"]["dockerImageReference"] == f"registry.svc:5000/{ns}/test@{img}"


# ---------------------------------------------------------------- LIST

def test_list_namespace_and_all(http, ns):
    """§1.2: every status tag with an image, in stream then tag order, images
    not loaded; spec-only and image-less tags skipped; across all namespaces."""
    other = new_ns()
    a, b = new_image(http), new_image(http)
    make_stream(http, ns, "zeta", spec_tags=[{"name": "speconly", "from": {"kind": "DockerImage",
                                                                        "name": "x/y:1"}}],
                status={"b": [event(a)], "a": [event(b)], "noimg": [event("", ref="x/y:2")]})
    make_stream(http, ns, "alpha", status={"latest": [event(a)]})
    make_stream(http, other, "in-other", status={"v1": [event(b)]})
    lst = assert_ok(http.get(istag_path(ns)), 200)
    assert lst["kind"] == "ImageStreamTagList" and lst["apiVersion"] == GV
    assert [i["metadata"]["name"] for i in lst["items"]] == ["alpha:latest", "zeta:a", "zeta:b"]
    item = lst["items"][2]
    assert item["image"] == {"metadata": {"name": a}, "dockerImageReference": f"foo/bar@{a}"}
    assert item["metadata"]["namespace"] == ns
    everywhere = assert_ok(http.get(istag_path()), 200)
    got = {(i["metadata"]["namespace"], i["metadata"]["name"]) for i in everywhere["items"]}
    assert {(ns, "alpha:latest"), (ns, "zeta:a"), (other, "in-other:v1")} <= got
    # selectors apply to the items: the stream's labels, and the tag's own name
    sel = assert_ok(http.get(istag_path(ns), params={"fieldSelector": "metadata.name=zeta:a"}), 200)
    assert [i["metadata"]["name"] for i in sel["items"]] == ["zeta:a"]


# ---------------------------------------------------------------- DELETE (cases 8-10)

def test_delete_removes_spec_and_status(http, ns):
    """Case 8: spec and status tag gone, others untouched, generation + 1."""
    a, b = new_image(http), new_image(http)
    make_stream(http, ns, spec_tags=[
        {"name": "another", "from": {"kind": "ImageStreamTag", "name": "test:foo"}},
        {"name": "latest", "from": {"kind": "ImageStreamTag", "name": "test:bar"}}],
        status={"another": [event(a)], "foo": [event(a)], "latest": [event(b)],
                "bar": [event(b)]})
    before = stream(http, ns)
    r = http.delete(istag_path(ns, "test:latest"))
    assert r.status_code == 200, r.text
    assert r.json() == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
    after = stream(http, ns)
    assert after["metadata"]["generation"] == before["metadata"]["generation"] + 1
    assert [t["name"] for t in after["spec"]["tags"]] == ["another"]
    assert spec_tag(after, "another") == spec_tag(before, "another")
    assert [t["tag"] for t in after["status"]["tags"]] == ["another", "bar", "foo"]
    for t in ("another", "bar", "foo"):
        assert status_tag(after, t) == status_tag(before, t)
    # images are not deleted
    assert http.get(f"/apis/{GV}/images/{b}").status_code == 200


def test_delete_not_found(http, ns):
    """Case 9."""
    make_stream(http, ns, "empty")
    make_stream(http, ns, "specother", spec_tags=[docker_tag("a/b:1") | {"name": "other"}])
    for s in ("empty", "specother"):
        assert_status(http.delete(istag_path(ns, f"{s}:latest")), 404, "NotFound",
                      f'imagestreamtags.{G} "{s}:latest" not found')
    assert_status(http.delete(istag_path(ns, "missing:latest")), 404, "NotFound",
                  f'imagestreams.{G} "missing" not found')


def test_delete_uid_precondition(http, ns):
    """Case 10: a wrong uid is 409 and writes nothing; the right one deletes."""
    s = make_stream(http, ns, spec_tags=[docker_tag("a/b:1") | {"name": "latest"}])
    rv = stream_rv(http, ns)
    opts = {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": "not-the-uid"}}
    assert_status(http.delete(istag_path(ns, "test:latest"), opts), 409, "Conflict",
                  f'Operation cannot be fulfilled on imagestreamtags.{G} "test:latest": '
                  "the UID precondition was not met")
    assert stream_rv(http, ns) == rv
    opts["preconditions"]["uid"] = s["metadata"]["uid"]
    assert http.delete(istag_path(ns, "test:latest"), opts).status_code == 200
    assert spec_tag(stream(http, ns), "latest") is None


def test_delete_dry_run(http, ns):
    make_stream(http, ns, spec_tags=[docker_tag("a/b:1") | {"name": "latest"}])
    rv = stream_rv(http, ns)
    r = http.delete(istag_path(ns, "test:latest"), params={"dryRun": "All"})
    assert r.status_code == 200 and r.json()["status"] == "Success"
    assert stream_rv(http, ns) == rv


# ---------------------------------------------------------------- POST (cases 11-17)

def test_create_key_from_name(http, ns):
    """Case 11: the spec tag's key is the object name's tag, not tag.name."""
    make_stream(http, ns)
    body = istag_body("test:tag", {"name": "latest", "from": {"kind": "DockerImage",
                                                              "name": "foo/bar/baz"},
                                   "referencePolicy": {"type": "Source"}})
    r = http.post(istag_path(ns), body)
    ist = assert_ok(r, 201)
    assert ist["metadata"]["name"] == "test:tag"
    assert ist["tag"]["name"] == "tag" and ist["tag"]["from"]["name"] == "foo/bar/baz"
    assert ist["image"] == {"metadata": {"name": ""}, "dockerImageReference": ""}
    s = stream(http, ns)
    t = spec_tag(s, "tag")
    assert t["from"] == {"kind": "DockerImage", "name": "foo/bar/baz"}
    assert t["importPolicy"]["importMode"] == "Legacy"
    assert spec_tag(s, "latest") is None


def test_create_without_tag(http, ns):
    """Case 12: no tag: success, the stream untouched; a missing stream is made."""
    make_stream(http, ns)
    rv = stream_rv(http, ns)
    assert_ok(http.post(istag_path(ns), istag_body("test:tag")), 201)
    assert stream_rv(http, ns) == rv
    assert_ok(http.post(istag_path(ns), istag_body("fresh:tag")), 201)
    s = stream(http, ns, "fresh")
    assert s["metadata"]["generation"] == 1 and not s["spec"].get("tags")


def test_create_exists(http, ns):
    """Case 13 (a status-only tag does not block)."""
    img = new_image(http)
    make_stream(http, ns, spec_tags=[docker_tag("a/b:1") | {"name": "tag"}],
                status={"pushed": [event(img)]})
    assert_status(http.post(istag_path(ns), istag_body("test:tag", docker_tag("a/b:2"))), 409,
                  "AlreadyExists", f'imagestreamtag.{G} "test:tag" already exists')
    ist = assert_ok(http.post(istag_path(ns), istag_body("test:pushed", docker_tag("a/b:3"))), 201)
    assert ist["image"]["metadata"]["name"] == img   # loaded best effort


@pytest.mark.parametrize("tag,field,typ,msg", [
    ({"from": {"kind": "", "name": "foo/bar:biz"}}, "tag.from.kind", "FieldValueRequired",
     "tag.from.kind: Required value: valid values are 'DockerImage', 'ImageStreamImage', "
     "'ImageStreamTag'"),
    ({"from": {"kind": "DockerImage", "name": ""}}, "tag.from.name", "FieldValueRequired",
     "tag.from.name: Required value"),
    ({"from": {"kind": "ImageStreamTag", "name": "other:latest"},
      "importPolicy": {"scheduled": True}}, "tag.importPolicy.scheduled", "FieldValueInvalid",
     "tag.importPolicy.scheduled: Invalid value: true: only tags pointing to Docker "
     "repositories may be scheduled for background import"),
    ({"from": {"kind": "DockerImage", "name": "Foo/Bar"}}, "tag.from.name", "FieldValueInvalid",
     'tag.from.name: Invalid value: "Foo/Bar": repository name must be lowercase'),
    ({"from": {"kind": "Image", "name": "x"}}, "tag.from.kind", "FieldValueRequired", None),
    ({"referencePolicy": {"type": "Other"}}, "tag.referencePolicy.type", "FieldValueInvalid",
     'tag.referencePolicy.type: Invalid value: "Other": valid values are "Source", "Local"'),
    ({"importPolicy": {"importMode": "Bad"}}, "tag.importPolicy.importMode", "FieldValueInvalid",
     None),
])
def test_create_invalid_tag(http, ns, tag, field, typ, msg):
    """Cases 14, 15, 17 and the other TagReference rules: 422 naming the field,
    nothing written."""
    make_stream(http, ns)
    rv = stream_rv(http, ns)
    body = assert_status(http.post(istag_path(ns), istag_body("test:tag", tag)), 422, "Invalid")
    assert body["details"]["kind"] == "ImageStreamTag" and body["details"]["name"] == "test:tag"
    assert [(c["field"], c["reason"]) for c in body["details"]["causes"]] == [(field, typ)]
    if msg:
        assert body["message"] == f'ImageStreamTag.{G} "test:tag" is invalid: {msg}'
    assert stream_rv(http, ns) == rv


def test_create_annotations_must_match(http, ns):
    """Case 16; equal annotations are fine (and kept on the spec tag)."""
    make_stream(http, ns)
    body = istag_body("test:tag", docker_tag("a/b:1", annotations={"one": "three"}),
                      annotations={"one": "two"})
    b = assert_status(http.post(istag_path(ns), body), 422, "Invalid")
    assert [c["field"] for c in b["details"]["causes"]] == ["tag.annotations"]
    body["tag"]["annotations"] = {"one": "two"}
    ist = assert_ok(http.post(istag_path(ns), body), 201)
    assert ist["metadata"]["annotations"] == {"one": "two"}
    # metadata.annotations alone are not stored on create
    ist = assert_ok(http.post(istag_path(ns), istag_body("test:t2", docker_tag("a/b:1"),
                                                         annotations={"x": "y"})), 201)
    assert "annotations" not in ist["metadata"]


@pytest.mark.parametrize("name,code,reason,msg", [
    ("test", 500, "Unknown", '"test" must be of the form <stream_name>:<tag>'),
    ("a/b:c", 422, "Invalid", None),
    ("a%b:c", 422, "Invalid", None),
    ("..", 422, "Invalid", None),
])
def test_create_bad_names(http, ns, name, code, reason, msg):
    body = assert_status(http.post(istag_path(ns), istag_body(name, docker_tag("a/b:1"))), code,
                         reason, msg)
    if code == 422:
        assert body["details"]["causes"][0]["field"] == "metadata.name"
    assert http.get(is_path(ns)).json()["items"] == []


def test_create_missing_reference_writes_nothing(http, ns):
    """A tag from an ImageStreamTag of a stream that does not exist: the stream
    write's 422 names the field; a stream that did not exist is not created."""
    body = istag_body("test:tag", {"from": {"kind": "ImageStreamTag", "name": "nosuch:latest"}})
    b = assert_status(http.post(istag_path(ns), body), 422, "Invalid")
    assert b["details"]["kind"] == "ImageStream"
    assert 'spec.tags[tag].from.name: Not found: "nosuch:latest"' in b["message"]
    assert_status(http.get(is_path(ns, "test")), 404, "NotFound")
    make_stream(http, ns)
    rv = stream_rv(http, ns)
    assert_status(http.post(istag_path(ns), body), 422, "Invalid")
    assert stream_rv(http, ns) == rv


def test_create_unknown_image_id_writes_nothing(http, ns):
    """An ImageStreamImage reference to an id no tag of the source has: 422 from the
    stream write naming the field, nothing written."""
    make_stream(http, ns, "src")
    make_stream(http, ns)
    rv = stream_rv(http, ns)
    body = istag_body("test:tag", {"from": {"kind": "ImageStreamImage",
                                            "name": "src@sha256:" + "c" * 64}})
    b = assert_status(http.post(istag_path(ns), body), 422, "Invalid")
    assert "spec.tags[tag].from.name: Invalid value" in b["message"]
    assert "error generating tag event" in b["message"]
    assert stream_rv(http, ns) == rv


def test_create_tracks_pushed_tag(http, ns):
    """A tag from an ImageStreamTag of a pushed tag resolves at once (materialised
    by the stream write): GET works and shows the image."""
    img = new_image(http)
    make_stream(http, ns, "src", status={"v1": [event(img)]})
    ist = assert_ok(http.post(istag_path(ns), istag_body(
        "app:prod", {"from": {"kind": "ImageStreamTag", "name": "src:v1"}})), 201)
    assert ist["image"]["metadata"]["name"] == img
    assert ist["generation"] == 1
    got = assert_ok(http.get(istag_path(ns, "app:prod")), 200)
    assert got["image"]["dockerImageReference"] == f"foo/bar@{img}"


def test_create_dry_run(http, ns):
    make_stream(http, ns)
    rv = stream_rv(http, ns)
    ist = assert_ok(http.post(istag_path(ns), istag_body("test:dry", docker_tag("a/b:1")),
                              params={"dryRun": "All"}), 201)
    assert ist["tag"]["name"] == "dry"
    assert stream_rv(http, ns) == rv
    assert_ok(http.post(istag_path(ns), istag_body("nostream:dry", docker_tag("a/b:1")),
                        params={"dryRun": "All"}), 201)
    assert_status(http.get(is_path(ns, "nostream")), 404, "NotFound")


# ---------------------------------------------------------------- PUT (cases 18-23)

def test_put_creates_spec_tag(http, ns):
    """Case 18: PUT without resourceVersion on a stream without the tag: 201; the
    same PUT again: 200."""
    make_stream(http, ns)
    body = istag_body("test:tag", docker_tag("a/b:1"))
    ist = assert_ok(http.put(istag_path(ns, "test:tag"), body), 201)
    assert ist["metadata"]["name"] == "test:tag"
    assert ist["metadata"]["resourceVersion"] == stream_rv(http, ns)
    assert_ok(http.put(istag_path(ns, "test:tag"), body), 200)


def test_put_creates_stream(http, ns):
    """Case 19."""
    assert_ok(http.put(istag_path(ns, "test:tag"), istag_body("test:tag", docker_tag("a/b:1"))),
              201)
    s = stream(http, ns)
    assert s["metadata"]["generation"] == 1
    assert spec_tag(s, "tag")["generation"] == 1


def test_put_null_tag_not_a_spec_tag(http, ns):
    """Case 20."""
    make_stream(http, ns)
    assert_status(http.put(istag_path(ns, "test:tag"), istag_body("test:tag")), 400, "BadRequest",
                  f"imagestreamtag tag is not a spec tag in imagestream {ns}/test, cannot be updated")


def test_put_stale_resource_version(http, ns):
    """Case 21."""
    make_stream(http, ns, spec_tags=[docker_tag("a/b:1") | {"name": "tag"}])
    rv = stream_rv(http, ns)
    body = istag_body("test:tag", docker_tag("a/b:2"), resourceVersion="1")
    assert_status(http.put(istag_path(ns, "test:tag"), body), 409, "Conflict",
                  f'Operation cannot be fulfilled on imagestreamtags.{G} "test:tag": another '
                  f"caller has updated the resource version to {rv}")
    assert stream_rv(http, ns) == rv
    assert_status(http.put(istag_path(ns, "gone:tag"), istag_body("gone:tag", docker_tag("a/b:2"),
                                                                   resourceVersion="1")),
                  404, "NotFound", f'imagestreamtags.{G} "gone:tag" not found')
    # the current one is accepted
    body["metadata"]["resourceVersion"] = rv
    assert_ok(http.put(istag_path(ns, "test:tag"), body), 200)


def test_put_annotations_only(http, ns):
    """Case 22: tag null updates only the spec tag's annotations."""
    make_stream(http, ns, spec_tags=[{"name": "tag", "annotations": {"one": "two"},
                                      "from": {"kind": "DockerImage", "name": "some/other:system"}}])
    body = istag_body("test:tag", None, annotations={"one": "two", "three": "four"})
    ist = assert_ok(http.put(istag_path(ns, "test:tag"), body), 200)
    assert ist["metadata"]["annotations"] == {"one": "two", "three": "four"}
    t = spec_tag(stream(http, ns), "tag")
    assert t["from"]["name"] == "some/other:system"
    assert t["annotations"] == {"one": "two", "three": "four"}


def test_put_labels_invalid(http, ns):
    """Case 23: labels are the stream's."""
    make_stream(http, ns, labels={"app": "x"}, spec_tags=[docker_tag("a/b:1") | {"name": "tag"}])
    rv = stream_rv(http, ns)
    body = istag_body("test:tag", docker_tag("a/b:2"), labels={"app": "x", "new": "label"})
    b = assert_status(http.put(istag_path(ns, "test:tag"), body), 422, "Invalid",
                      f'ImageStreamTag.{G} "test:tag" is invalid: metadata: Invalid value: "": may '
                      "not update fields other than metadata.annotations")
    assert b["details"]["causes"][0]["field"] == "metadata"
    assert stream_rv(http, ns) == rv
    # no labels at all: the stream's are assumed (old clients)
    del body["metadata"]["labels"]
    assert_ok(http.put(istag_path(ns, "test:tag"), body), 200)


def test_put_body_names_the_url(http, ns):
    """The body's name and namespace, when given, must be the request's."""
    make_stream(http, ns, spec_tags=[docker_tag("a/b:1") | {"name": "tag"}])
    rv = stream_rv(http, ns)
    assert_status(http.put(istag_path(ns, "test:tag"), istag_body("test:other", docker_tag("a/b:2"))),
                  400, "BadRequest",
                  "the name of the object (test:other) does not match the name on the URL (test:tag)")
    assert_status(http.put(istag_path(ns, "test:tag"), istag_body("test:tag", docker_tag("a/b:2"),
                                                                   namespace="elsewhere")),
                  400, "BadRequest", "the namespace of the provided object does not match the "
                  "namespace sent on the request")
    assert_status(http.post(istag_path(ns), istag_body("test:new", docker_tag("a/b:2"),
                                                       namespace="elsewhere")), 400, "BadRequest")
    assert stream_rv(http, ns) == rv


def test_put_reimport_generation(http, ns):
    """Setting tag.generation 0 moves the spec tag to the new stream generation."""
    make_stream(http, ns, spec_tags=[docker_tag("a/b:1") | {"name": "tag"}])
    s = stream(http, ns)
    ist = assert_ok(http.put(istag_path(ns, "test:tag"),
                             istag_body("test:tag", docker_tag("a/b:1", generation=0))), 200)
    after = stream(http, ns)
    assert after["metadata"]["generation"] == s["metadata"]["generation"] + 1
    assert ist["tag"]["generation"] == after["metadata"]["generation"]


def test_put_dry_run(http, ns):
    make_stream(http, ns)
    rv = stream_rv(http, ns)
    assert_ok(http.put(istag_path(ns, "test:tag"), istag_body("test:tag", docker_tag("a/b:1")),
                       params={"dryRun": "All"}), 201)
    assert stream_rv(http, ns) == rv and spec_tag(stream(http, ns), "tag") is None


# ---------------------------------------------------------------- PATCH

@pytest.mark.parametrize("ctype,patch", [
    (MERGE, {"tag": {"from": {"name": "a/b:patched"}}}),
    (SMP, {"tag": {"from": {"name": "a/b:patched"}}}),
    (JSONPATCH, [{"op": "replace", "path": "/tag/from/name", "value": "a/b:patched"}]),
])
def test_patch(http, ns, ctype, patch):
    """Patches apply to the tag synthesised from the stream (spec-only tags too:
    no image needed)."""
    make_stream(http, ns, spec_tags=[docker_tag("a/b:1") | {"name": "tag"}])
    ist = assert_ok(http.patch(istag_path(ns, "test:tag"), patch, ctype=ctype), 200)
    assert ist["tag"]["from"]["name"] == "a/b:patched"
    assert spec_tag(stream(http, ns), "tag")["from"]["name"] == "a/b:patched"


def test_patch_rejected_writes_nothing(http, ns):
    make_stream(http, ns, labels={"a": "b"}, spec_tags=[docker_tag("a/b:1") | {"name": "tag"}])
    rv = stream_rv(http, ns)
    assert_status(http.patch(istag_path(ns, "test:tag"), {"metadata": {"labels": {"c": "d"}}}),
                  422, "Invalid")
    assert_status(http.patch(istag_path(ns, "test:tag"), {"tag": {"from": {"kind": "Nope"}}}),
                  422, "Invalid")
    assert stream_rv(http, ns) == rv


# ---------------------------------------------------------------- concurrency

def _parallel(fn, n):
    with cf.ThreadPoolExecutor(max_workers=n) as ex:
        return list(ex.map(fn, range(n)))


def test_twenty_clients_tag_one_stream(server, ns):
    """20 clients tagging one stream at once (PUT, then POST, then DELETE): every
    request succeeds (the server orders its own writes of the stream)."""
    make_stream(server.http, ns)

    def put(i):
        from e2e_helpers import Http
        h = Http(server)
        return h.put(istag_path(ns, f"test:t{i}"),
                     istag_body(f"test:t{i}", docker_tag(f"a/b:{i}"))).status_code

    def post(i):
        from e2e_helpers import Http
        h = Http(server)
        return h.post(istag_path(ns), istag_body(f"test:p{i}", docker_tag(f"a/b:{i}"))).status_code

    def delete(i):
        from e2e_helpers import Http
        h = Http(server)
        return h.delete(istag_path(ns, f"test:t{i}")).status_code

    assert _parallel(put, 20) == [201] * 20
    assert _parallel(post, 20) == [201] * 20
    s = stream(server.http, ns)
    assert sorted(t["name"] for t in s["spec"]["tags"]) == sorted(
        [f"t{i}" for i in range(20)] + [f"p{i}" for i in range(20)])
    assert _parallel(delete, 20) == [200] * 20
    s = stream(server.http, ns)
    assert sorted(t["name"] for t in s["spec"]["tags"]) == sorted(f"p{i}" for i in range(20))
