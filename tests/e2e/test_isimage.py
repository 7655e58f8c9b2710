"""ImageStreamImage (virtual-resources.md §2, §7, cases 24-28): `<stream>@<id>` over every
event of every tag's history and the children of manifest lists, by full digest or prefix;
an exact name wins over prefixes; an ambiguous prefix is a 409 that names the matching
digests, sorted (the reference answers an arbitrary one); table columns; kubectl."""

import json

import pytest

from e2e_helpers import BASE, TABLE_ACCEPT, assert_ok, assert_status, img_path, is_path, make_image, uniq
from mapping_helpers import (LIST_MT, S1, S1_HOSTNAME, S1_ID, digest, event, isimage_path, make_list,
                             map_image, put_status)

FULL = "sha256:ff46b78279f207db3b8e57e20dee7cecef3567d09489369d80591f150f9c8154"


@pytest.mark.parametrize("name", ["", "a", "a@b@c", "@id", "name@"])
def test_case24_bad_names(http, ns, name):
    if name == "":
        # the collection itself: imagestreamimages are not listed
        r = http.get(f"{BASE}/namespaces/{ns}/imagestreamimages")
        assert r.status_code in (404, 405), r.text
        return
    assert_status(http.get(isimage_path(ns, name)), 400, "BadRequest",
                  message="ImageStreamImages must be retrieved with <name>@<id>")


def test_case25_historic_schema1_image(http, ns):
    u = uniq()
    http.create_is(ns, "repo")
    for name in (f"id{u}", f"anotherid2{u}", f"anotherid{u}"):   # oldest first: id is historical
        body = {"dockerImageManifest": S1} if name == f"id{u}" else {}
        assert map_image(http, ns, "repo", "latest", name, f"reg/{ns}/repo:{name}", **body).status_code == 201
    r = http.get(isimage_path(ns, f"repo@id{u}"))
    body = assert_ok(r, 200)
    assert body["kind"] == "ImageStreamImage" and body["apiVersion"] == "image.openshift.io/v1"
    assert body["metadata"]["name"] == f"repo@id{u}"
    assert body["metadata"]["namespace"] == ns
    img = body["image"]
    assert img["metadata"]["name"] == f"id{u}"
    assert img["dockerImageMetadata"]["Id"] == S1_ID
    assert img["dockerImageMetadata"]["ContainerConfig"]["Hostname"] == S1_HOSTNAME
    assert "dockerImageManifest" not in img and "dockerImageConfig" not in img
    assert img["dockerImageReference"] == f"reg/{ns}/repo:id{u}"
    stored = assert_ok(http.get(img_path(f"id{u}")), 200)
    assert body["metadata"]["creationTimestamp"] == stored["metadata"]["creationTimestamp"]
    assert stored["dockerImageManifest"] == S1   # the Image itself still has it


def test_case26_stream_annotations(http, ns):
    d = digest(uniq())
    http.post(is_path(ns), {"metadata": {"name": "repo", "annotations": {"test": "123", "another-test": "abc"}},
                            "spec": {}})
    assert map_image(http, ns, "repo", "latest", d, f"a/b@{d}",
                     metadata={"name": d, "annotations": {"image": "own"}}).status_code == 201
    body = assert_ok(http.get(isimage_path(ns, f"repo@{d}")), 200)
    assert body["metadata"]["annotations"] == {"test": "123", "another-test": "abc"}
    assert body["image"]["metadata"]["annotations"] == {"image": "own"}
    assert "labels" not in body["metadata"] and "uid" not in body["metadata"]
    assert "resourceVersion" not in body["metadata"]


def test_case27_prefix(http, ns):
    http.create_is(ns, "repo")
    if http.get(img_path(FULL)).status_code == 404:
        assert_ok(http.post(img_path(), make_image(FULL, ref=f"x/y@{FULL}")), 201)
    other = digest(uniq())
    put_status(http, ns, "repo", {"latest": [event(other, f"a/b@{other}")],
                                  "old": [event(other, f"a/b@{other}"), event(FULL, f"a/b@{FULL}")]})
    for id_ in ("sha256:ff46b782", "ff46b782", FULL, FULL[7:]):
        body = assert_ok(http.get(isimage_path(ns, f"repo@{id_}")), 200)
        assert body["metadata"]["name"] == f"repo@{id_}"
        assert body["image"]["metadata"]["name"] == FULL


def test_case28_not_found(http, ns):
    http.create_is(ns, "repo")
    assert_status(http.get(isimage_path(ns, "repo@id")), 404, "NotFound",
                  message='imagestreamimage.image.openshift.io "repo@id" not found')
    d = digest(uniq())
    put_status(http, ns, "repo", {"latest": [event(d, f"a/b@{d}")]})
    body = assert_status(http.get(isimage_path(ns, "repo@sha256:0000")), 404, "NotFound",
                         message='imagestreamimage.image.openshift.io "repo@sha256:0000" not found')
    assert body["details"] == {"name": "repo@sha256:0000", "group": "image.openshift.io",
                               "kind": "imagestreamimage"}
    # the stream missing; an event naming a deleted image
    assert_status(http.get(isimage_path(ns, "nosuch@id")), 404, "NotFound",
                  message='imagestreams.image.openshift.io "nosuch" not found')
    assert_status(http.get(isimage_path(ns, f"repo@{d[:15]}")), 404, "NotFound",
                  message=f'images.image.openshift.io "{d}" not found')


def test_ambiguous_prefix_409(http, ns):
    http.create_is(ns, "repo")
    a = "sha256:abcd" + "1" * 60
    b = "sha256:abcd" + "2" * 60
    c = "sha256:abce" + "3" * 60
    put_status(http, ns, "repo", {"latest": [event(b, f"x/y@{b}")],
                                  "v1": [event(c, f"x/y@{c}"), event(a, f"x/y@{a}")]})
    for id_ in ("abcd", "sha256:abcd"):
        body = assert_status(http.get(isimage_path(ns, f"repo@{id_}")), 409, "Conflict")
        assert body["message"] == (f'Operation cannot be fulfilled on imagestreamimage.image.openshift.io '
                                   f'"repo@{id_}": multiple images match the prefix "{id_}": {a}, {b}')
        assert body["details"]["kind"] == "imagestreamimage"
    body = assert_status(http.get(isimage_path(ns, "repo@abc")), 409, "Conflict")
    assert body["message"].endswith(f'"abc": {a}, {b}, {c}')
    # one more character decides; the same image in two tags is one match
    put_status(http, ns, "repo", {"latest": [event(a, f"x/y@{a}")], "v1": [event(a, f"x/y@{a}")]})
    assert_status(http.get(isimage_path(ns, "repo@abcd")), 404, "NotFound",
                  message=f'images.image.openshift.io "{a}" not found')


def test_exact_name_wins(http, ns):
    u = uniq()
    http.create_is(ns, "repo")
    for name in (f"app{u}", f"app{u}-debug"):
        assert map_image(http, ns, "repo", name[-5:], name, f"a/b:{name}").status_code == 201
    body = assert_ok(http.get(isimage_path(ns, f"repo@app{u}")), 200)
    assert body["image"]["metadata"]["name"] == f"app{u}"
    assert_status(http.get(isimage_path(ns, f"repo@app{u[:3]}")), 409, "Conflict")


def test_manifest_list_children(http, ns):
    """A manifest list in the history makes its children candidates (PreserveOriginal)."""
    http.create_is(ns, "multi")
    lst, c1, c2 = digest(uniq()), digest(uniq()), digest(uniq())
    assert map_image(http, ns, "multi", "latest", lst, f"r/m@{lst}", dockerImageManifest=make_list(c1, c2),
                     dockerImageManifestMediaType=LIST_MT).status_code == 201
    for child in (c1, c2):
        assert_ok(http.post(img_path(), make_image(child, ref=f"r/m@{child}")), 201)
    # a child by prefix and in full, the list itself
    body = assert_ok(http.get(isimage_path(ns, f"multi@{c2[:14]}")), 200)
    assert body["image"]["metadata"]["name"] == c2
    body = assert_ok(http.get(isimage_path(ns, f"multi@{c1}")), 200)
    assert body["image"]["metadata"]["name"] == c1
    body = assert_ok(http.get(isimage_path(ns, f"multi@{lst[7:15]}")), 200)
    assert body["image"]["metadata"]["name"] == lst
    assert [m["digest"] for m in body["image"]["dockerImageManifests"]] == [c1, c2]
    # list and children together are candidates: "sha256:" names all three, sorted
    body = assert_status(http.get(isimage_path(ns, "multi@sha256:")), 409, "Conflict")
    assert body["message"].endswith(": " + ", ".join(sorted([lst, c1, c2])))
    # a child of a list that is not in this stream's history is not found here
    http.create_is(ns, "single")
    put_status(http, ns, "single", {"latest": [event(c1, f"r/m@{c1}")]})
    assert_status(http.get(isimage_path(ns, f"single@{c2}")), 404, "NotFound")
    # a list inside a list: its children are candidates too
    inner, leaf = digest(uniq()), digest(uniq())
    assert_ok(http.post(img_path(), make_image(inner, ref=f"r/m@{inner}", dockerImageManifest=make_list(leaf),
                                               dockerImageManifestMediaType=LIST_MT)), 201)
    assert_ok(http.post(img_path(), make_image(leaf, ref=f"r/m@{leaf}")), 201)
    outer = digest(uniq())
    assert map_image(http, ns, "multi", "nested", outer, f"r/m@{outer}", dockerImageManifest=make_list(inner),
                     dockerImageManifestMediaType=LIST_MT).status_code == 201
    body = assert_ok(http.get(isimage_path(ns, f"multi@{leaf[7:20]}")), 200)
    assert body["image"]["metadata"]["name"] == leaf


def test_children_follow_image_changes(http, ns):
    """The children are memoized per stream revision against changes of manifest-list
    images: a list created, changed or deleted after a lookup is seen by the next one."""
    lst, child = digest(uniq()), digest(uniq())
    http.create_is(ns, "later")
    put_status(http, ns, "later", {"latest": [event(lst, f"r/m@{lst}")]})
    assert_ok(http.post(img_path(), make_image(child, ref=f"r/m@{child}")), 201)
    prefix = f"later@{child[7:19]}"
    assert_status(http.get(isimage_path(ns, prefix)), 404, "NotFound")   # no list yet
    # unrelated image writes do not matter; the list appearing does
    assert_ok(http.post(img_path(), make_image(digest(uniq()), ref="a/b")), 201)
    assert_status(http.get(isimage_path(ns, prefix)), 404, "NotFound")
    created = assert_ok(http.post(img_path(), make_image(lst, ref=f"r/m@{lst}", dockerImageManifests=[
        {"digest": child, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
         "manifestSize": 1, "architecture": "amd64", "os": "linux"}])), 201)
    assert assert_ok(http.get(isimage_path(ns, prefix)), 200)["image"]["metadata"]["name"] == child
    # the list loses its children: so does the stream
    created.pop("dockerImageManifests")
    assert_ok(http.put(img_path(lst), created), 200)
    assert_status(http.get(isimage_path(ns, prefix)), 404, "NotFound")


def test_table(http, ns, kubectl):
    d = digest(uniq())
    http.create_is(ns, "repo")
    assert map_image(http, ns, "repo", "latest", d, f"reg.example/a/b@{d}").status_code == 201
    t = assert_ok(http.get(isimage_path(ns, f"repo@{d[:12]}"), headers={"Accept": TABLE_ACCEPT}), 200)
    assert t["kind"] == "Table"
    assert [(c["name"], c["priority"]) for c in t["columnDefinitions"]] == [
        ("Name", 0), ("Updated", 0), ("Image Reference", 1), ("Image Name", 1)]
    cells = t["rows"][0]["cells"]
    assert cells[0] == f"repo@{d[:12]}" and cells[1].endswith(" ago")
    assert cells[2:] == [f"reg.example/a/b@{d}", d]
    _, out, _ = kubectl("get", "isimage", f"repo@{d[:12]}", "-n", ns, "-o", "wide")
    head, row = out.splitlines()[:2]
    assert head.split() == ["NAME", "UPDATED", "IMAGE", "REFERENCE", "IMAGE", "NAME"]
    assert row.split()[0] == f"repo@{d[:12]}" and f"reg.example/a/b@{d}" in row
    _, out, _ = kubectl("get", "imagestreamimage", f"repo@{d}", "-n", ns, "-o", "json")
    assert json.loads(out)["image"]["metadata"]["name"] == d


def test_large_history_prefix(http, ns):
    """A prefix over 2,000 history entries in 20 tags finds the one image."""
    http.create_is(ns, "big")
    tags = {f"t{t:02d}": [event(digest(f"{ns}/{t}/{i}"), f"a/b@{digest(f'{ns}/{t}/{i}')}")
                          for i in range(100)] for t in range(20)}
    put_status(http, ns, "big", tags)
    want = digest(f"{ns}/7/42")
    assert_ok(http.post(img_path(), make_image(want, ref=f"a/b@{want}")), 201)
    body = assert_ok(http.get(isimage_path(ns, f"big@{want[7:19]}")), 200)
    assert body["image"]["metadata"]["name"] == want
