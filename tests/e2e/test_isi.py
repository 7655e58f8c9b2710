"""ImageStreamImport (virtual-resources-and-import.md §4-5, cases 38-60) over HTTP and
kubectl: validation with the reference's messages, the target stream's consistency checks,
imports from the real `registry` peer (OCI, Docker schema 2, lists in Legacy and
PreserveOriginal, prefer-arch, a repository of 65 tags), pull secrets against a basic-auth
registry, registry faults (each a per-image Failure, nothing else written), dryRun, and the
suspended create (a stalled registry holds no pool thread)."""

import concurrent.futures as cf
import json
import time

import pytest

from e2e_helpers import assert_ok, assert_status, is_path, uniq

GROUP = "image.openshift.io"


def isi_path(ns):
    return f"/apis/{GROUP}/v1/namespaces/{ns}/imagestreamimports"


def isi_body(name, images=None, repository=None, import_=False, **meta):
    spec = {"import": import_}
    if images is not None:
        spec["images"] = images
    if repository is not None:
        spec["repository"] = repository
    return {"kind": "ImageStreamImport", "apiVersion": f"{GROUP}/v1",
            "metadata": {"name": name, **meta}, "spec": spec, "status": {}}


def docker(name, to=None, **kw):
    e = {"from": {"kind": "DockerImage", "name": name}, **kw}
    if to:
        e["to"] = {"name": to}
    return e


# ---------------------------------------------------------------- validation (38-40)

def test_case38_nothing_to_import(http, ns):
    r = http.post(isi_path(ns), isi_body("s"))
    body = assert_status(r, 422, "Invalid")
    assert body["message"] == (f'ImageStreamImport.{GROUP} "s" is invalid: spec.images: Invalid value: '
                               '"null": you must specify at least one image or a repository import')
    assert body["details"]["kind"] == "ImageStreamImport"


def test_case39_repository_and_images(http, ns):
    r = http.post(isi_path(ns), isi_body("s", repository=docker("a/b:tag")))
    assert "you must specify an image repository, not a tag or ID" in assert_status(r, 422, "Invalid")["message"]
    r = http.post(isi_path(ns), isi_body("s", repository=docker("a/b@sha256:something")))
    assert "invalid reference format" in assert_status(r, 422, "Invalid")["message"]
    images = [docker("abc", importPolicy={"scheduled": True}), docker("abc@badid"),
              {"from": {"kind": "ImageStreamTag", "name": "abc:x"}},
              {"from": {"kind": "ImageStreamImage", "name": "abc@x"}}]
    body = assert_status(http.post(isi_path(ns), isi_body("s", images)), 422, "Invalid")
    fields = [c["field"] for c in body["details"]["causes"]]
    assert fields == ["spec.images[1].from.name", "spec.images[2].from.kind", "spec.images[3].from.kind"]
    assert "only DockerImage is supported" in body["message"]


def test_case40_names(http, ns):
    body = assert_status(http.post(isi_path(ns), isi_body("foo bar", [docker("abc")])), 422, "Invalid")
    assert 'metadata.name: Invalid value: "foo bar": must match "[a-z0-9]+(?:[._-][a-z0-9]+)*"' in body["message"]


def test_kubectl_create_invalid(kubectl, ns, tmp_path):
    f = tmp_path / "isi.yaml"
    f.write_text(json.dumps(isi_body("s", [docker("abc@badid")])))
    rc, _, err = kubectl("create", "-n", ns, "-f", str(f), check=False)
    assert rc != 0
    assert "invalid reference format" in err


def test_discovery_lists_imagestreamimports(http):
    res = assert_ok(http.get(f"/apis/{GROUP}/v1"))
    isi = [r for r in res["resources"] if r["name"] == "imagestreamimports"]
    assert isi and isi[0]["verbs"] == ["create"] and isi[0]["namespaced"]


# ---------------------------------------------------------------- stream checks (60)

def test_case60_resource_version_and_uid(http, ns):
    st = http.create_is(ns, "test")
    rv = st["metadata"]["resourceVersion"]
    r = http.post(isi_path(ns), isi_body("test", [docker("busybox")], resourceVersion="999999999"))
    assert_status(r, 409, "Conflict",
                  message=f'Operation cannot be fulfilled on imagestream.{GROUP} "test": the image stream '
                          f'was updated from "999999999" to "{rv}"')
    r = http.post(isi_path(ns), isi_body("test", [docker("busybox")], uid="not-the-uid"))
    assert_status(r, 404, "NotFound", message=f'imagestream.{GROUP} "test" not found')
    r = http.post(isi_path(ns), isi_body("missing", [docker("busybox")], uid="u"))
    assert_status(r, 404, "NotFound", message=f'imagestreams.{GROUP} "missing" not found')
