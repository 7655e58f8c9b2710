"""ImageStreamMapping (stored-resources.md §4, cases M-1..M-8): validation, the internal
registry's default reference, a missing stream (404, nothing written), the Image created
or left as it is, the §3.9 tag-history merge written through the status subresource,
dryRun (honoured here; the reference ignores it), concurrent mappings, and a stream of
100 tags x 100 history entries against the store's value limit on both backends."""

import concurrent.futures as cf

import pytest

from e2e_helpers import (CONFIG, CONFIG_DIGEST, S2, S2_MT, assert_ok, assert_status,
                         img_path, is_path, make_image, uniq)
from mapping_helpers import (digest, event, history, ism_path, make_mapping, map_image,
                             put_status, stored_size)

SUCCESS = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}


def test_m1_missing_stream_writes_nothing(http, ns):
    d = digest(uniq())
    r = map_image(http, ns, "somerepo", "latest", d, f"localhost:5000/{ns}/somerepo@{d}")
    body = assert_status(r, 404, "NotFound",
                         message='imagestreams.image.openshift.io "somerepo" not found')
    assert body["details"] == {"name": "somerepo", "group": "image.openshift.io",
                               "kind": "imagestreams"}
    assert_status(http.get(img_path(d)), 404, "NotFound")
    assert_status(http.get(is_path(ns, "somerepo")), 404, "NotFound")


def test_m2_happy_path(http, ns):
    st = http.create_is(ns, "somerepo")
    d = digest(uniq())
    ref = f"localhost:5000/{ns}/somerepo@{d}"
    r = map_image(http, ns, "somerepo", "latest", d, ref,
                  metadata={"name": d, "labels": {"a": "b"}, "annotations": {"k": "v"}})
    assert r.status_code == 201, r.text
    assert r.json() == SUCCESS
    img = assert_ok(http.get(img_path(d)), 200)
    assert img["dockerImageReference"] == ref
    assert img["metadata"]["labels"] == {"a": "b"}
    assert img["metadata"]["annotations"] == {"k": "v"}
    after = http.get_is(ns, "somerepo")
    items = history(after, "latest")
    assert len(items) == 1
    assert items[0]["image"] == d and items[0]["dockerImageReference"] == ref
    assert items[0]["generation"] == st["metadata"]["generation"] == 1
    assert after["metadata"]["generation"] == 1
    # written as a status update: its managedFields entry says so
    assert any(m.get("subresource") == "status" for m in after["metadata"]["managedFields"])


def test_m2_manifest_metadata_derived(http, ns):
    """The Image create runs the Image strategy: metadata comes from the manifest."""
    http.create_is(ns, "app")
    d = digest(uniq())
    r = map_image(http, ns, "app", "v1", d, f"r.example/{ns}/app@{d}", dockerImageManifest=S2,
                  dockerImageConfig=CONFIG, dockerImageManifestMediaType=S2_MT)
    assert r.status_code == 201, r.text
    img = assert_ok(http.get(img_path(d)), 200)
    assert img["dockerImageMetadata"]["Id"] == CONFIG_DIGEST
    assert img["dockerImageMetadata"]["Size"] == 644
    assert len(img["dockerImageLayers"]) == 3
    assert history(http.get_is(ns, "app"), "v1")[0]["image"] == d


def test_m3_namespace_mismatch(http, ns):
    body = make_mapping("somerepo", "latest", digest(1), "a/b")
    body["metadata"]["namespace"] = "some-value"
    assert_status(http.post(ism_path(ns), body), 400, "BadRequest",
                  message="the namespace of the provided object does not match the namespace sent "
                          "on the request")


def test_m4_validation(http, ns):
    http.create_is(ns, "repo")
    d = digest(uniq())
    r = http.post(ism_path(ns), make_mapping("repo", None, d, "a/b"))
    assert_status(r, 422, "Invalid",
                  message=f'ImageStreamMapping.image.openshift.io "repo" is invalid: tag: Required value')
    r = http.post(ism_path(ns), make_mapping("repo", "latest", "", "a/b"))
    body = assert_status(r, 422, "Invalid")
    assert body["details"]["kind"] == "ImageStreamMapping"
    assert body["details"]["causes"] == [{"reason": "FieldValueRequired",
                                          "message": "Required value: name or generateName is required",
                                          "field": "image.metadata.name"}]
    r = http.post(ism_path(ns), make_mapping("", "latest", d, "a/b"))
    body = assert_status(r, 422, "Invalid")
    assert [c["field"] for c in body["details"]["causes"]] == [
        "metadata.name", "name", "dockerImageRepository"]
    assert body["message"] == ('ImageStreamMapping.image.openshift.io "" is invalid: [metadata.name: '
                               'Required value: name or generateName is required, name: Required '
                               'value, dockerImageRepository: Required value]')
    # nothing was written by any of them
    assert_status(http.get(img_path(d)), 404, "NotFound")
    assert history(http.get_is(ns, "repo"), "latest") == []


def test_invalid_image_422_writes_nothing(http, ns):
    st = http.create_is(ns, "repo")
    d = digest(uniq())
    body = make_mapping("repo", "latest", d, "abc@badid")
    body["image"]["metadata"]["namespace"] = "x"
    body["image"]["dockerImageManifests"] = [{"digest": "nope", "mediaType": "x", "manifestSize": -1,
                                              "architecture": "", "os": "linux"}]
    r = http.post(ism_path(ns), body)
    b = assert_status(r, 422, "Invalid")
    fields = [c["field"] for c in b["details"]["causes"]]
    assert fields == ["image.metadata.namespace", "image.dockerImageReference",
                      "image.dockerImageManifests[0].digest", "image.dockerImageManifests[0].mediaType",
                      "image.dockerImageManifests[0].architecture", "image.dockerImageManifests[0].size"]
    assert 'image.dockerImageReference: Invalid value: "abc@badid": invalid reference format' in b["message"]
    assert_status(http.get(img_path(d)), 404, "NotFound")
    assert http.get_is(ns, "repo")["metadata"]["resourceVersion"] == st["metadata"]["resourceVersion"]


def test_m5_default_reference(server_factory):
    srv = server_factory("--registry-hostname", "defaultregistry:5000")
    http, ns = srv.http, "ns"
    http.create_is(ns, "repo")
    d = digest(uniq())
    assert map_image(http, ns, "repo", "latest", d).status_code == 201
    assert assert_ok(http.get(img_path(d)), 200)["dockerImageReference"] == \
        f"defaultregistry:5000/{ns}/repo@{d}"
    # an image name that is not a digest is referenced by tag
    assert map_image(http, ns, "repo", "v2", "notadigest").status_code == 201
    assert history(http.get_is(ns, "repo"), "v2")[0]["dockerImageReference"] == \
        f"defaultregistry:5000/{ns}/repo:notadigest"


def test_m5_no_registry_reference_required(http, ns):
    http.create_is(ns, "repo")
    r = map_image(http, ns, "repo", "latest", digest(uniq()))
    assert_status(r, 422, "Invalid",
                  message='ImageStreamMapping.image.openshift.io "repo" is invalid: '
                          'image.dockerImageReference: Required value')


def test_m6_existing_image_untouched(server_factory):
    srv = server_factory("--registry-hostname", "defaultregistry:5000")
    http = srv.http
    d = digest(uniq())
    old_ref = f"localhost:5000/someproject/somerepo@{d}"
    created = assert_ok(http.post(img_path(), make_image(
        d, ref=old_ref, metadata={"name": d, "annotations": {"openshift.io/image.managed": "true"}})), 201)
    http.create_is("default", "newrepo")
    managed = {"name": d, "annotations": {"openshift.io/image.managed": "true"}, "labels": {"new": "x"}}
    r = map_image(http, "default", "newrepo", "latest", d, old_ref, metadata=managed)
    assert r.status_code == 201, r.text
    img = assert_ok(http.get(img_path(d)), 200)
    assert img["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    assert "labels" not in img["metadata"] and img["dockerImageReference"] == old_ref
    assert history(http.get_is("default", "newrepo"), "latest")[0]["dockerImageReference"] == \
        f"defaultregistry:5000/default/newrepo@{d}"
    # without the annotation in the request: the request's reference
    r = map_image(http, "default", "newrepo", "other", d, old_ref)
    assert r.status_code == 201, r.text
    assert history(http.get_is("default", "newrepo"), "other")[0]["dockerImageReference"] == old_ref


def test_existing_image_other_reference(http, ns):
    """An existing (unmanaged) image: the event takes the request's reference, the image
    keeps its own."""
    d = digest(uniq())
    assert_ok(http.post(img_path(), make_image(d, ref=f"first/ref@{d}")), 201)
    http.create_is(ns, "repo")
    assert map_image(http, ns, "repo", "latest", d, f"second/ref@{d}").status_code == 201
    assert assert_ok(http.get(img_path(d)), 200)["dockerImageReference"] == f"first/ref@{d}"
    assert history(http.get_is(ns, "repo"), "latest")[0]["dockerImageReference"] == f"second/ref@{d}"


def test_m7_tracking_tags_follow(http, ns):
    """The status write the mapping makes moves the tags that follow the mapped one
    (imagestream_tracking.c); a tag of another stream or an untracked one stays."""
    h1, h5, h9 = "sha256:" + "1" * 64, "sha256:" + "5" * 64, "sha256:" + "9" * 64
    http.create_is(ns, "stream", tags=[
        {"name": "tracking", "from": {"kind": "ImageStreamTag", "name": "2.0"}},
        {"name": "tracking2", "from": {"kind": "ImageStreamTag", "name": "stream:2.0"}}])
    put_status(http, ns, "stream", {"2.0": [event(h1, f"foo/bar@{h1}")],
                                    "tracking": [event(h1, f"foo/bar@{h1}")],
                                    "nontracking": [event(h9, f"bar/baz@{h9}")]})
    assert map_image(http, ns, "stream", "2.0", h5, f"foo/bar@{h5}").status_code == 201
    st = http.get_is(ns, "stream")
    assert history(st, "2.0")[0]["image"] == h5
    assert history(st, "nontracking")[0]["image"] == h9
    assert history(st, "tracking")[0]["image"] == h5
    assert history(st, "tracking2")[0]["image"] == h5


def test_m8_repeat_changes_nothing(http, ns):
    http.create_is(ns, "repo")
    d = digest(uniq())
    assert map_image(http, ns, "repo", "latest", d, f"a/b@{d}").status_code == 201
    rv = http.get_is(ns, "repo")["metadata"]["resourceVersion"]
    r = map_image(http, ns, "repo", "latest", d, f"a/b@{d}")
    assert r.status_code == 201 and r.json() == SUCCESS
    assert http.get_is(ns, "repo")["metadata"]["resourceVersion"] == rv


def test_is19_history_merge(http, ns):
    """IS-19 driven by mappings: in place for the same reference or image, else prepended."""
    http.create_is(ns, "repo")
    i1, i2, r1, r2 = digest("i1" + ns), digest("i2" + ns), "reg/a/b:1", "reg/a/b:2"
    put_status(http, ns, "repo", {"latest": [event(i1, r1, generation=1)]})
    before = http.get_is(ns, "repo")
    created = history(before, "latest")[0]["created"]

    def step(image, ref):
        assert map_image(http, ns, "repo", "latest", image, ref).status_code == 201
        return [(e["dockerImageReference"], e["image"]) for e in history(http.get_is(ns, "repo"), "latest")]

    assert step(i1, r1) == [(r1, i1)]
    assert http.get_is(ns, "repo")["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert step(i2, r1) == [(r1, i2)]
    assert history(http.get_is(ns, "repo"), "latest")[0]["created"] == created  # kept in place
    assert step(i1, r1) == [(r1, i1)]
    assert step(i1, r2) == [(r2, i1)]
    assert step(i2, r1) == [(r1, i2), (r2, i1)]
    assert step(i1, r2) == [(r2, i1), (r1, i2), (r2, i1)]


def test_mapping_clears_conditions(http, ns):
    http.create_is(ns, "repo")
    st = assert_ok(http.get(is_path(ns, "repo", "status")), 200)
    st["status"]["tags"] = [{"tag": "latest", "items": None, "conditions": [
        {"type": "ImportSuccess", "status": "False", "reason": "NotFound", "message": "x",
         "generation": 1}]}]
    assert_ok(http.put(is_path(ns, "repo", "status"), st), 200)
    d = digest(uniq())
    assert map_image(http, ns, "repo", "latest", d, f"a/b@{d}").status_code == 201
    tag = http.get_is(ns, "repo")["status"]["tags"][0]
    assert [e["image"] for e in tag["items"]] == [d] and "conditions" not in tag


def test_dry_run_writes_nothing(http, ns):
    st = http.create_is(ns, "repo")
    d = digest(uniq())
    r = map_image(http, ns, "repo", "latest", d, f"a/b@{d}", params={"dryRun": "All"})
    assert r.status_code == 201 and r.json() == SUCCESS
    assert_status(http.get(img_path(d)), 404, "NotFound")
    after = http.get_is(ns, "repo")
    assert after["metadata"]["resourceVersion"] == st["metadata"]["resourceVersion"]
    assert history(after, "latest") == []
    # it answers as the real one would: a missing stream and an invalid body still fail
    assert_status(map_image(http, ns, "nosuch", "latest", d, f"a/b@{d}", params={"dryRun": "All"}),
                  404, "NotFound")
    assert_status(map_image(http, ns, "repo", "", d, f"a/b@{d}", params={"dryRun": "All"}),
                  422, "Invalid")
    # an existing image is tolerated in a dry run too, and stays as it is
    img = assert_ok(http.post(img_path(), make_image(d, ref=f"a/b@{d}")), 201)
    r = map_image(http, ns, "repo", "latest", d, f"a/b@{d}", params={"dryRun": "All"})
    assert r.status_code == 201, r.text
    assert assert_ok(http.get(img_path(d)), 200)["metadata"]["resourceVersion"] == \
        img["metadata"]["resourceVersion"]
    assert history(http.get_is(ns, "repo"), "latest") == []
    # bad dryRun values are refused before anything runs
    assert_status(map_image(http, ns, "repo", "latest", d, f"a/b@{d}", params={"dryRun": "x"}),
                  400, "BadRequest")


def test_concurrent_mappings_all_succeed(http, ns):
    """16 clients mapping into 16 tags of one stream at once: the server retries its own
    conflicts (the tags they write did not move), every mapping is recorded."""
    http.create_is(ns, "busy")
    images = {f"t{i}": digest(f"{ns}-{i}") for i in range(16)}

    def one(tag):
        import requests
        s = requests.Session()
        d = images[tag]
        return s.post(http.base + ism_path(ns), json=make_mapping("busy", tag, d, f"a/b@{d}"),
                      timeout=60).status_code

    with cf.ThreadPoolExecutor(16) as ex:
        codes = list(ex.map(one, images))
    assert codes == [201] * 16
    st = http.get_is(ns, "busy")
    for tag, d in images.items():
        assert [e["image"] for e in history(st, tag)] == [d]


def test_conflicting_tag_is_not_overwritten(http, ns):
    """Same tag from many clients at once: each mapping either lands or gets the reference's
    409 (someone else moved the tag meanwhile); no event is lost silently."""
    http.create_is(ns, "race")
    images = [digest(f"{ns}-race-{i}") for i in range(8)]

    def one(d):
        import requests
        r = requests.post(http.base + ism_path(ns), json=make_mapping("race", "latest", d, f"a/b@{d}"),
                          timeout=60)
        return d, r.status_code, r.json()

    with cf.ThreadPoolExecutor(8) as ex:
        results = list(ex.map(one, images))
    landed = {d for d, code, _ in results if code == 201}
    for d, code, body in results:
        assert code in (201, 409), body
        if code == 409:
            assert body["reason"] == "Conflict"
            assert body["message"].startswith('Operation cannot be fulfilled on '
                                              'imagestreams.image.openshift.io "race": ')
    assert landed == {e["image"] for e in history(http.get_is(ns, "race"), "latest")}


def test_100_tags_by_100_history_entries(server, http, ns):
    """10,000 events in one stream stay well inside the store's 1.5 MiB value limit (the
    stored value is deflated: api/stored_value.c). The history is seeded with one status
    write and finished with mappings: 10,000 sequential mappings rewrite a growing stream
    each time (O(n^2); minutes at this size), which is not what this test is about."""
    http.create_is(ns, "big")
    tags = {}
    for t in range(100):
        tags[f"t{t:03d}"] = [event(digest(f"{ns}/{t}/{i}"),
                                   f"172.30.1.1:5000/{ns}/big@{digest(f'{ns}/{t}/{i}')}",
                                   created=f"2024-01-01T00:{i % 60:02d}:{t % 60:02d}Z")
                             for i in range(1, 100)]
    put_status(http, ns, "big", tags)
    # the newest event of ten tags through mappings (each a full rewrite of the stream)
    for t in range(0, 100, 10):
        d = digest(f"{ns}/{t}/0")
        r = map_image(http, ns, "big", f"t{t:03d}", d, f"172.30.1.1:5000/{ns}/big@{d}", timeout=120)
        assert r.status_code == 201, r.text
    # the rest of the 10,000 in one more status write, keeping what the mappings wrote
    st = http.get_is(ns, "big")
    for tag in st["status"]["tags"]:
        t = int(tag["tag"][1:])
        if len(tag["items"]) < 100:
            d = digest(f"{ns}/{t}/0")
            tag["items"].insert(0, event(d, f"172.30.1.1:5000/{ns}/big@{d}"))
    assert_ok(http.put(is_path(ns, "big", "status"), st), 200)
    st = http.get_is(ns, "big")
    assert sum(len(t["items"]) for t in st["status"]["tags"]) == 10000
    assert history(st, "t050")[0]["image"] == digest(f"{ns}/50/0")
    size = stored_size(server, ns, "big")
    json_size = len(http.get(is_path(ns, "big")).content)
    print(f"\n100 tags x 100 events ({server.backend}): stored {size} bytes "
          f"({size / 1572864:.0%} of the 1.5 MiB limit), {json_size} bytes of JSON on the wire")
    assert size < 1572864 / 2
    # and one more mapping on top of the full stream still works
    d = digest(f"{ns}/extra")
    assert map_image(http, ns, "big", "t099", d, f"a/b@{d}", timeout=120).status_code == 201
