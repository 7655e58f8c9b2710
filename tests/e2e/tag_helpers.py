"""Helpers of the tag-resource tests (test_istag.py, test_itag.py,
test_tags_kubectl.py): paths, unique images, and streams put into a given
spec/status through the public API (create, then PUT .../status)."""

import uuid

from e2e_helpers import BASE, GV, assert_ok, img_path, is_path

T0 = "2015-03-24T09:38:00Z"


def istag_path(ns=None, name=None):
    p = f"{BASE}/namespaces/{ns}/imagestreamtags" if ns else f"{BASE}/imagestreamtags"
    return p + (f"/{name}" if name is not None else "")


def itag_path(ns=None, name=None):
    p = f"{BASE}/namespaces/{ns}/imagetags" if ns else f"{BASE}/imagetags"
    return p + (f"/{name}" if name is not None else "")


def digest():
    return "sha256:" + uuid.uuid4().hex + uuid.uuid4().hex


def new_image(http, ref="foo/bar/baz", name=None, **fields):
    """Creates an Image (cluster scope: a unique digest name); returns its name."""
    name = name or digest()
    body = {"apiVersion": GV, "kind": "Image", "metadata": {"name": name},
            "dockerImageReference": ref}
    body.update(fields)
    assert_ok(http.post(img_path(), body), 201)
    return name


def event(image, ref=None, created=T0, generation=1):
    return {"created": created, "dockerImageReference": ref if ref is not None else f"foo/bar@{image}",
            "image": image, "generation": generation}


def make_stream(http, ns, name="test", spec_tags=None, status=None, labels=None,
                annotations=None):
    """A stream with these spec tags (list of TagReference dicts) and status tags
    ({tag: [events]} or {tag: {"items": [...], "conditions": [...]}}). Returns it."""
    meta = {"name": name}
    if labels:
        meta["labels"] = labels
    if annotations:
        meta["annotations"] = annotations
    body = {"apiVersion": GV, "kind": "ImageStream", "metadata": meta,
            "spec": {"tags": spec_tags or []}}
    s = assert_ok(http.post(is_path(ns), body), 201)
    if status:
        s = set_status(http, ns, name, status)
    return s


def set_status(http, ns, name, status):
    s = assert_ok(http.get(is_path(ns, name)), 200)
    tags = []
    for tag, v in status.items():
        t = {"tag": tag}
        if isinstance(v, dict):
            t.update(v)
        else:
            t["items"] = v
        tags.append(t)
    s["status"]["tags"] = tags
    return assert_ok(http.put(is_path(ns, name, "status"), s), 200)


def stream(http, ns, name="test"):
    return assert_ok(http.get(is_path(ns, name)), 200)


def stream_rv(http, ns, name="test"):
    return stream(http, ns, name)["metadata"]["resourceVersion"]


def spec_tag(s, tag):
    return next((t for t in s["spec"].get("tags") or [] if t["name"] == tag), None)


def status_tag(s, tag):
    return next((t for t in s["status"].get("tags") or [] if t["tag"] == tag), None)


def istag_body(name, tag=None, **meta):
    md = {"name": name}
    md.update(meta)
    return {"apiVersion": GV, "kind": "ImageStreamTag", "metadata": md, "tag": tag}


def docker_tag(ref, **more):
    t = {"from": {"kind": "DockerImage", "name": ref}}
    t.update(more)
    return t
