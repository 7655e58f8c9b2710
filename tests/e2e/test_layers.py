"""imagestreams/<name>/layers (stored-resources.md §3.11, IS-25): ImageStreamLayers for schema 2
and OCI images, missing images, manifest lists and their children; the 404; discovery,
OpenAPI (operation ids from the parent kind, as Kubernetes names subresources) and
`kubectl get --raw`."""

import json

from e2e_helpers import (CONFIG, CONFIG_DIGEST, LAYER_MT, S2, S2_MT, assert_ok, assert_status, img_path,
                         is_path, make_image, uniq)
from mapping_helpers import LIST_MT, OCI, OCI_MT, digest, event, make_list, map_image, put_status

A, B = "sha256:" + "a" * 64, "sha256:" + "b" * 64


def test_schema2_oci_and_missing(http, ns):
    http.create_is(ns, "app")
    s2, oci, gone = digest(uniq()), digest(uniq()), digest(uniq())
    assert map_image(http, ns, "app", "latest", s2, f"r/app@{s2}", dockerImageManifest=S2,
                     dockerImageConfig=CONFIG, dockerImageManifestMediaType=S2_MT).status_code == 201
    assert map_image(http, ns, "app", "oci", oci, f"r/app@{oci}", dockerImageManifest=OCI,
                     dockerImageConfig=CONFIG, dockerImageManifestMediaType=OCI_MT).status_code == 201
    # the same image again in an older event and in another tag; an event whose image is gone
    assert map_image(http, ns, "app", "latest", oci, f"r/app@{oci}").status_code == 201
    assert map_image(http, ns, "app", "gone", gone, f"r/app@{gone}").status_code == 201
    assert http.delete(img_path(gone)).status_code == 200
    body = assert_ok(http.get(is_path(ns, "app", "layers")), 200)
    stream = http.get_is(ns, "app")
    assert body["kind"] == "ImageStreamLayers" and body["apiVersion"] == "image.openshift.io/v1"
    assert body["metadata"]["name"] == "app" and body["metadata"]["uid"] == stream["metadata"]["uid"]
    assert body["images"] == {
        s2: {"imageMissing": False, "layers": [A, B, A], "config": CONFIG_DIGEST},
        oci: {"imageMissing": False, "layers": [B], "config": CONFIG_DIGEST},
        gone: {"imageMissing": True, "layers": None, "config": None},
    }
    blobs = body["blobs"]
    assert blobs[A] == {"size": 100, "mediaType": LAYER_MT}
    assert blobs[B]["size"] == 250
    # the config blob: the first image that names it gives its media type
    assert blobs[CONFIG_DIGEST]["size"] is None
    assert blobs[CONFIG_DIGEST]["mediaType"] in ("application/vnd.docker.container.image.v1+json",
                                                 "application/vnd.oci.image.config.v1+json")
    assert blobs[s2] == {"size": None, "mediaType": S2_MT}
    assert blobs[oci] == {"size": None, "mediaType": OCI_MT}
    assert gone not in blobs


def test_manifest_list(http, ns):
    http.create_is(ns, "multi")
    lst, c1, c2 = digest(uniq()), digest(uniq()), digest(uniq())
    assert map_image(http, ns, "multi", "latest", lst, f"r/m@{lst}", dockerImageManifest=make_list(c1, c2),
                     dockerImageManifestMediaType=LIST_MT).status_code == 201
    # one child stored (its layers as the client gave them), one not
    assert_ok(http.post(img_path(), make_image(c1, ref=f"r/m@{c1}", dockerImageLayers=[
        {"name": A, "size": 5, "mediaType": LAYER_MT}])), 201)
    body = assert_ok(http.get(is_path(ns, "multi", "layers")), 200)
    images = body["images"]
    assert images == {
        lst: {"imageMissing": False, "layers": None, "config": None, "manifests": [c1, c2]},
        c1: {"imageMissing": False, "layers": [A], "config": None},
        c2: {"imageMissing": True, "layers": None, "config": None},
    }
    assert body["blobs"][lst] == {"size": None, "mediaType": LIST_MT}
    assert body["blobs"][c1] == {"size": None, "mediaType": S2_MT}
    assert body["blobs"][A] == {"size": 5, "mediaType": LAYER_MT}
    # IS-25's shape with the catalogue's list: the list's own metadata Id is its name
    assert assert_ok(http.get(img_path(lst)), 200)["dockerImageMetadata"]["Id"] == lst


def test_empty_and_missing_stream(http, ns):
    http.create_is(ns, "empty")
    body = assert_ok(http.get(is_path(ns, "empty", "layers")), 200)
    assert body["images"] == {} and body["blobs"] == {}
    assert_status(http.get(is_path(ns, "nosuch", "layers")), 404, "NotFound",
                  message='imagestreams.image.openshift.io "nosuch" not found')
    # events without an image (reference tags) name nothing
    put_status(http, ns, "empty", {"ref": [event("", "docker.io/library/busybox:latest")]})
    assert assert_ok(http.get(is_path(ns, "empty", "layers")), 200)["images"] == {}
    # only get is served
    assert http.put(is_path(ns, "empty", "layers"), {}).status_code == 405


def test_discovery_openapi_kubectl(http, ns, kubectl):
    res = {r["name"]: r for r in assert_ok(http.get("/apis/image.openshift.io/v1"), 200)["resources"]}
    assert res["imagestreams/layers"]["kind"] == "ImageStreamLayers"
    assert res["imagestreams/layers"]["verbs"] == ["get"]
    assert res["imagestreammappings"]["verbs"] == ["create"]
    assert res["imagestreamimages"]["verbs"] == ["get"]
    assert res["imagestreamimages"]["shortNames"] == ["isimage"]
    doc = assert_ok(http.get("/openapi/v3/apis/image.openshift.io/v1"), 200)
    paths = doc["paths"]
    op = paths["/apis/image.openshift.io/v1/namespaces/{namespace}/imagestreams/{name}/layers"]["get"]
    assert op["operationId"] == "readImageOpenshiftIoV1NamespacedImageStreamLayers"
    assert op["x-kubernetes-group-version-kind"]["kind"] == "ImageStreamLayers"
    ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith(".ImageStreamLayers")
    assert paths["/apis/image.openshift.io/v1/namespaces/{namespace}/imagestreams/{name}/status"]["get"][
        "operationId"] == "readImageOpenshiftIoV1NamespacedImageStreamStatus"
    assert paths["/apis/image.openshift.io/v1/namespaces/{namespace}/imagestreammappings"]["post"][
        "operationId"] == "createImageOpenshiftIoV1NamespacedImageStreamMapping"
    assert paths["/apis/image.openshift.io/v1/namespaces/{namespace}/imagestreamimages/{name}"]["get"][
        "operationId"] == "readImageOpenshiftIoV1NamespacedImageStreamImage"
    ids = [o["operationId"] for p in paths.values() for m, o in p.items() if isinstance(o, dict) and "operationId" in o]
    assert len(ids) == len(set(ids)), "operation ids must be unique"
    http.create_is(ns, "app")
    d = digest(uniq())
    assert map_image(http, ns, "app", "latest", d, f"r/app@{d}").status_code == 201
    _, out, _ = kubectl("get", "--raw", f"/apis/image.openshift.io/v1/namespaces/{ns}/imagestreams/app/layers")
    assert json.loads(out)["images"][d]["imageMissing"] is False
