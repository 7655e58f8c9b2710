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


# ---------------------------------------------------------------- against the registry peer
# The peers are plain HTTP: the requests say importPolicy.insecure (or the server has
# --insecure-registries).

INSECURE = {"insecure": True}


def post_isi(http, ns, body, **params):
    r = http.post(isi_path(ns), body, params=params or None, timeout=120)
    return assert_ok(r, 201)


def images_of(res):
    return res["status"]["images"]


def test_import_oci_without_import(http, ns, registry):
    h = registry.host
    res = post_isi(http, ns, isi_body("s", [docker(f"{h}/test/single:v1", importPolicy=INSECURE,
                                                   includeManifest=True)]))
    e = images_of(res)[0]
    assert e["status"]["status"] == "Success", e
    d = registry.content["test/single:v1"]
    assert e["tag"] == "v1"
    assert e["image"]["metadata"]["name"] == d
    assert e["image"]["dockerImageReference"] == f"{h}/test/single@{d}"
    assert e["image"]["dockerImageManifestMediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert e["image"]["dockerImageManifest"]          # includeManifest
    assert e["image"]["dockerImageMetadata"]["Size"] > 0
    assert e["image"]["dockerImageLayers"]
    # import: false writes nothing
    assert_status(http.get(is_path(ns, "s")), 404, "NotFound")
    assert_status(http.get(f"/apis/{GROUP}/v1/images/{d}"), 404, "NotFound")


def test_import_true_kubectl_and_istag(kubectl, http, ns, registry, tmp_path):
    h = registry.host
    f = tmp_path / "isi.yaml"
    f.write_text(json.dumps(isi_body("app", [docker(f"{h}/test/docker:latest", to="prod", importPolicy=INSECURE,
                                                    includeManifest=True)], import_=True)))
    rc, out, err = kubectl("create", "-n", ns, "-f", str(f), "-o", "json")
    assert rc == 0, err
    res = json.loads(out)
    d = registry.content["test/docker:latest"]
    e = images_of(res)[0]
    assert e["status"]["status"] == "Success"
    assert e["image"]["metadata"]["name"] == d
    assert not e["image"].get("dockerImageManifest")     # persisted: stripped
    st = res["status"]["import"]
    assert st["metadata"]["annotations"]["openshift.io/image.dockerRepositoryCheck"]
    assert st["metadata"]["generation"] == 1
    rc, out, err = kubectl("get", "-n", ns, "istag", "app:prod", "-o", "json")
    assert rc == 0, err
    istag = json.loads(out)
    assert istag["image"]["metadata"]["name"] == d
    assert istag["image"]["dockerImageManifestMediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    stored = http.get_is(ns, "app")
    tag = [t for t in stored["spec"]["tags"] if t["name"] == "prod"][0]
    assert tag["from"] == {"kind": "DockerImage", "name": f"{h}/test/docker:latest"}
    ev = [t for t in stored["status"]["tags"] if t["tag"] == "prod"][0]["items"][0]
    assert ev["dockerImageReference"] == f"{h}/test/docker@{d}" and ev["generation"] == 1
    # the same import again: nothing moves
    rv = stored["metadata"]["resourceVersion"]
    post_isi(http, ns, isi_body("app", [docker(f"{h}/test/docker:latest", to="prod", importPolicy=INSECURE)],
                                import_=True))
    assert http.get_is(ns, "app")["metadata"]["resourceVersion"] == rv


def test_manifest_list_legacy_and_preserve(http, ns, registry):
    h = registry.host
    ref = f"{h}/test/multi:latest"
    res = post_isi(http, ns, isi_body("m", [docker(ref, importPolicy=INSECURE),
                                            docker(ref, importPolicy={"insecure": True,
                                                                      "importMode": "PreserveOriginal"})]))
    legacy, preserve = images_of(res)
    assert legacy["status"]["status"] == "Success", legacy
    assert legacy["image"]["metadata"]["name"] != registry.content["test/multi:latest"]
    assert legacy["image"]["dockerImageMetadata"]["Architecture"] == "amd64"
    assert preserve["status"]["status"] == "Success", preserve
    assert preserve["image"]["metadata"]["name"] == registry.content["test/multi:latest"]
    assert len(preserve["image"]["dockerImageManifests"]) == 3
    assert not preserve["image"].get("dockerImageManifest")
    assert len(preserve["manifests"]) == 3
    assert legacy["image"]["metadata"]["name"] in {m["metadata"]["name"] for m in preserve["manifests"]}


def test_docker_list_preserve_import_true(http, ns, registry):
    h = registry.host
    body = isi_body("dl", [docker(f"{h}/test/docker-multi:latest", to="all",
                                  importPolicy={"insecure": True, "importMode": "PreserveOriginal"})], import_=True)
    res = post_isi(http, ns, body)
    e = images_of(res)[0]
    assert e["status"]["status"] == "Success", e
    for m in e["image"]["dockerImageManifests"]:
        assert m["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
        assert_ok(http.get(f"/apis/{GROUP}/v1/images/{m['digest']}"), 200)
    assert_ok(http.get(f"/apis/{GROUP}/v1/images/{e['image']['metadata']['name']}"), 200)


def test_prefer_arch_annotation(http, ns, registry):
    h = registry.host
    http.create_is(ns, "pa", tags=[{"name": "latest", "from": {"kind": "DockerImage",
                                                                "name": f"{h}/test/multi:latest"},
                                    "annotations": {"importer.image.openshift.io/prefer-arch": "arm64",
                                                    "importer.image.openshift.io/prefer-os": "linux"}}])
    res = post_isi(http, ns, isi_body("pa", [docker(f"{h}/test/multi:latest", to="latest",
                                                    importPolicy=INSECURE)]))
    e = images_of(res)[0]
    assert e["status"]["status"] == "Success", e
    assert e["image"]["dockerImageMetadata"]["Architecture"] == "arm64"


def test_repository_import_many(http, ns, registry):
    h = registry.host
    body = isi_body("many", [docker(f"{h}/test/many:tag-64", to="extra", importPolicy=INSECURE)],
                    repository={"from": {"kind": "DockerImage", "name": f"{h}/test/many"},
                                "importPolicy": INSECURE})
    res = post_isi(http, ns, body)
    rs = res["status"]["repository"]
    assert rs["status"]["status"] == "Success", rs["status"]
    tags = [e["tag"] for e in rs["images"]]
    # 50 imported (byte order: tag-00..tag-49), the rest are additionalTags, except
    # tag-64 which spec.images fetched already: appended to images
    assert tags[:50] == [f"tag-{i:02d}" for i in range(50)]
    assert tags[50:] == ["tag-64"]
    assert rs["additionalTags"] == [f"tag-{i:02d}" for i in range(50, 64)]
    for e in rs["images"]:
        assert e["status"]["status"] == "Success"
        assert e["image"]["metadata"]["name"] == registry.content[f"test/many:{e['tag']}"]
        assert e["image"]["dockerImageReference"].startswith(f"{h}/test/many@")


def test_repository_limit_flag(server_factory, registry, ns):
    srv = server_factory("--max-images-bulk-imported-per-repository", "3",
                         "--insecure-registries", registry.host)
    body = isi_body("many", repository={"from": {"kind": "DockerImage", "name": f"{registry.host}/test/many"}})
    res = assert_ok(srv.http.post(isi_path(ns), body, timeout=60), 201)
    rs = res["status"]["repository"]
    assert [e["tag"] for e in rs["images"]] == ["tag-00", "tag-01", "tag-02"]
    assert len(rs["additionalTags"]) == 62
    assert all(e["status"]["status"] == "Success" for e in rs["images"])


def test_allowed_registries_flag(server_factory, registry, ns):
    srv = server_factory("--allowed-registries-for-import", "quay.io")
    r = srv.http.post(isi_path(ns), isi_body("s", [docker(f"{registry.host}/test/single:v1",
                                                          importPolicy=INSECURE)]))
    body = assert_status(r, 422, "Invalid")
    assert (f'spec.images[0].from.name: Forbidden: importing images from registry "{registry.host}" is forbidden: '
            f'registry "{registry.host}" not allowed by whitelist: quay.io') in body["message"]


def test_missing_tag_and_repository(http, ns, registry):
    h = registry.host
    res = post_isi(http, ns, isi_body("s", [docker(f"{h}/test/single:nope", importPolicy=INSECURE),
                                            docker(f"{h}/test/absent:v1", importPolicy=INSECURE)]))
    nope, absent = images_of(res)
    assert nope["status"]["code"] == 404 and nope["status"]["reason"] == "NotFound"
    assert nope["status"]["message"] == f'dockerimage.{GROUP} "{h}/test/single:nope" not found'
    assert absent["status"]["status"] == "Failure"


def test_dry_run_writes_nothing(http, ns, registry):
    h = registry.host
    res = post_isi(http, ns, isi_body("dry", [docker(f"{h}/test/single:v2", to="v2", importPolicy=INSECURE)],
                                      import_=True), dryRun="All")
    e = images_of(res)[0]
    assert e["status"]["status"] == "Success"
    assert res["status"]["import"]["metadata"]["name"] == "dry"
    assert_status(http.get(is_path(ns, "dry")), 404, "NotFound")
    assert_status(http.get(f"/apis/{GROUP}/v1/images/{registry.content['test/single:v2']}"), 404, "NotFound")


# ---------------------------------------------------------------- credentials (§5.5)

def test_basic_auth_with_and_without_pull_secret(kubectl, http, ns, registry_factory, registry_layouts):
    reg = registry_factory(auth=("htpasswd", {"puller": "pw1"}))
    d = reg.push(registry_layouts["single"], "v1", "private/app")
    ref = f"{reg.host}/private/app:v1"
    res = post_isi(http, ns, isi_body("p", [docker(ref, importPolicy=INSECURE)]))
    e = images_of(res)[0]
    assert e["status"]["code"] == 401, e
    assert e["status"]["message"] == f'you may not have access to the container image "{ref}"'
    rc, _, err = kubectl("create", "secret", "docker-registry", "pull", "-n", ns, f"--docker-server={reg.host}",
                         "--docker-username=puller", "--docker-password=pw1")
    assert rc == 0, err
    res = post_isi(http, ns, isi_body("p", [docker(ref, importPolicy=INSECURE)]))
    e = images_of(res)[0]
    assert e["status"]["status"] == "Success", e
    assert e["image"]["metadata"]["name"] == d
    # a wrong password: the status names the credential, not the access
    rc, _, err = kubectl("delete", "secret", "pull", "-n", ns)
    assert rc == 0, err
    rc, _, err = kubectl("create", "secret", "docker-registry", "wrong", "-n", ns, f"--docker-server={reg.host}",
                         "--docker-username=puller", "--docker-password=nope")
    assert rc == 0, err
    e = images_of(post_isi(http, ns, isi_body("p", [docker(ref, importPolicy=INSECURE)])))[0]
    assert e["status"]["code"] == 401 and e["status"]["reason"] == "Unauthorized", e
    assert e["status"]["message"] == f'incorrect username or password for image "{ref}"', e


# ---------------------------------------------------------------- faults

@pytest.mark.parametrize("kind,params,code", [
    ("status", {"code": 500}, 500),
    ("manifest_unknown", {}, 404),
    ("digest_mismatch", {}, 500),
    ("reset", {}, 500),
])
def test_fault_gives_per_image_failure(http, ns, registry, fault_proxy, kind, params, code):
    host = f"127.0.0.1:{fault_proxy.port}"
    pattern = r"/manifests/" if kind != "digest_mismatch" else r"/blobs/"
    fault_proxy.add(kind, pattern, **params)
    d = registry.content["test/single:v1"]
    name = uniq("f")
    res = post_isi(http, ns, isi_body(name, [docker(f"{host}/test/single@{d}", to="t", importPolicy=INSECURE),
                                             docker(f"{registry.host}/test/single:v2", importPolicy=INSECURE)],
                                      import_=True))
    bad, good = images_of(res)
    assert bad["status"]["status"] == "Failure" and bad["status"]["code"] == code, bad
    assert "image" not in bad or not bad["image"]
    assert good["status"]["status"] == "Success"
    # nothing but the failure condition: no image, no event
    assert_status(http.get(f"/apis/{GROUP}/v1/images/{d}"), 404, "NotFound")
    st = http.get_is(ns, name)
    tag = [t for t in st["status"]["tags"] if t["tag"] == "t"][0]
    assert not tag.get("items")
    assert tag["conditions"][0]["type"] == "ImportSuccess" and tag["conditions"][0]["status"] == "False"


# ---------------------------------------------------------------- suspended creates

def test_stalled_registry_holds_no_pool_thread(http, ns, registry, fault_proxy):
    """70 imports wait on a registry that answers manifests after 4 s; the pool has 64
    threads: other requests are answered meanwhile, and every import then completes."""
    host = f"127.0.0.1:{fault_proxy.port}"
    fault_proxy.add("slow", r"/manifests/", delay=4)
    http.create_is(ns, "other")
    body = isi_body("s", [docker(f"{host}/test/single:v1", importPolicy=INSECURE)])
    with cf.ThreadPoolExecutor(max_workers=70) as pool:
        futs = [pool.submit(http.post, isi_path(ns), body, timeout=120) for _ in range(70)]
        time.sleep(1.0)
        t0 = time.monotonic()
        assert_ok(http.get(is_path(ns, "other")), 200)
        assert time.monotonic() - t0 < 2.0
        assert not any(f.done() for f in futs)
        results = [f.result() for f in futs]
    for r in results:
        e = images_of(assert_ok(r, 201))[0]
        assert e["status"]["status"] == "Success", e
