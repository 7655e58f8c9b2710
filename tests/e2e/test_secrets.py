"""core v1 Secrets (issue 9, credentials): served under /api/v1 for the pull secrets of
imports; kubectl create secret docker-registry/generic (protobuf bodies), get, describe,
delete; validation of the well-known types (422 naming the field, values redacted); the
imagestreams/<name>/secrets subresource (stored-resources.md §3.12); discovery and OpenAPI
of the core group; and no secret value ever written to the server log."""

import base64
import json

from e2e_helpers import assert_ok, assert_status, is_path, uniq

PASSWORD = "Hunter2-Sekr1t-Pw"


def sec_path(ns, name=None):
    return f"/api/v1/namespaces/{ns}/secrets" + (f"/{name}" if name else "")


def b64(s):
    return base64.b64encode(s.encode()).decode()


def dockercfgjson(server="quay.io", user="alice", password=PASSWORD):
    return b64(json.dumps({"auths": {server: {"username": user, "password": password}}}))


def secret(name, type_=None, data=None, **kw):
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, **kw}
    if type_:
        body["type"] = type_
    if data is not None:
        body["data"] = data
    return body


def test_kubectl_docker_registry(server, ns):
    k = server.kubectl
    _, out, _ = k("create", "secret", "docker-registry", "pull", "-n", ns, "--docker-server=quay.io",
                  "--docker-username=alice", f"--docker-password={PASSWORD}")
    assert "secret/pull created" in out
    _, out, _ = k("get", "secret", "pull", "-n", ns, "-o", "json")
    obj = json.loads(out)
    assert obj["kind"] == "Secret" and obj["apiVersion"] == "v1"
    assert obj["type"] == "kubernetes.io/dockerconfigjson"
    assert "generateName" not in obj["metadata"] and "stringData" not in obj
    cfg = json.loads(base64.b64decode(obj["data"][".dockerconfigjson"]))
    entry = cfg["auths"]["quay.io"]
    assert entry["username"] == "alice" and entry["password"] == PASSWORD
    assert base64.b64decode(entry["auth"]).decode() == f"alice:{PASSWORD}"
    _, out, _ = k("get", "secret", "pull", "-n", ns, "-o", "yaml")
    assert "type: kubernetes.io/dockerconfigjson" in out
    _, out, _ = k("get", "secrets", "-n", ns)
    head, row = out.splitlines()[:2]
    assert head.split() == ["NAME", "TYPE", "DATA", "AGE"]
    assert row.split()[:3] == ["pull", "kubernetes.io/dockerconfigjson", "1"]
    _, out, _ = k("describe", "secret", "pull", "-n", ns)
    assert "Type:  kubernetes.io/dockerconfigjson" in out and ".dockerconfigjson:" in out
    assert PASSWORD not in out
    _, out, _ = k("create", "secret", "generic", "gen", "-n", ns, "--from-literal=user=bob",
                  "--from-literal=token=t0k")
    _, out, _ = k("get", "secret", "gen", "-n", ns, "-o", "json")
    obj = json.loads(out)
    assert obj["type"] == "Opaque" and obj["data"] == {"user": b64("bob"), "token": b64("t0k")}
    _, out, _ = k("delete", "secret", "gen", "pull", "-n", ns)
    assert 'secret "gen" deleted' in out and 'secret "pull" deleted' in out
    rc, _, err = k("get", "secret", "pull", "-n", ns, check=False)
    assert rc != 0 and 'secrets "pull" not found' in err


def test_string_data_update_patch_and_list(http, ns):
    body = assert_ok(http.post(sec_path(ns), secret("s", stringData={"a": "x", "b": "y"},
                                                     data={"a": b64("old")})), 201)
    assert body["type"] == "Opaque" and "stringData" not in body
    assert body["data"] == {"a": b64("x"), "b": b64("y")}   # stringData wins
    got = assert_ok(http.get(sec_path(ns, "s")), 200)
    assert got["data"] == body["data"]
    got["stringData"] = {"c": "z"}
    upd = assert_ok(http.put(sec_path(ns, "s"), got), 200)
    assert upd["data"]["c"] == b64("z") and "stringData" not in upd
    p = assert_ok(http.patch(sec_path(ns, "s"), {"metadata": {"labels": {"l": "1"}}}), 200)
    assert p["metadata"]["labels"] == {"l": "1"}
    lst = assert_ok(http.get(sec_path(ns), params={"labelSelector": "l=1"}), 200)
    assert lst["kind"] == "SecretList" and lst["apiVersion"] == "v1"
    assert [i["metadata"]["name"] for i in lst["items"]] == ["s"]
    assert_ok(http.delete(sec_path(ns), params={"labelSelector": "l=1"}), 200)
    assert http.get(sec_path(ns, "s")).status_code == 404


def test_bad_bodies(http, ns):
    r = http.post(sec_path(ns), secret("a", "kubernetes.io/dockerconfigjson", {}))
    assert_status(r, 422, "Invalid", 'Secret "a" is invalid: data[.dockerconfigjson]: Required value')
    r = http.post(sec_path(ns), secret("b", "kubernetes.io/dockerconfigjson",
                                        {".dockerconfigjson": b64('{"auths":' + PASSWORD)}))
    assert_status(r, 422, "Invalid", contains='data[.dockerconfigjson]: Invalid value: "<secret contents redacted>"')
    assert PASSWORD not in r.text
    r = http.post(sec_path(ns), secret("c", "kubernetes.io/dockercfg", {".dockercfg": b64("[1]")}))
    assert_status(r, 422, "Invalid", contains="data[.dockercfg]: Invalid value")
    r = http.post(sec_path(ns), secret("d", data={"bad key": b64("v")}))
    assert_status(r, 422, "Invalid", contains='data[bad key]: Invalid value: "bad key": a valid config key')
    r = http.post(sec_path(ns), secret("e", data={"k": "not base64!"}))
    assert_status(r, 400, "BadRequest", contains="illegal base64 data")
    r = http.post(sec_path(ns), secret("f", "kubernetes.io/basic-auth", {}))
    assert_status(r, 422, "Invalid", contains="data[username]: Required value")
    r = http.post(sec_path(ns), secret("g", data={"k": b64("v")}, bogus=1), params={"fieldValidation": "Strict"})
    assert_status(r, 400, "BadRequest", contains='unknown field "bogus"')
    # type is immutable; so is the data of an immutable secret
    assert_ok(http.post(sec_path(ns), secret("h", data={"k": b64("v")}, immutable=True)), 201)
    got = assert_ok(http.get(sec_path(ns, "h")), 200)
    r = http.put(sec_path(ns, "h"), {**got, "type": "kubernetes.io/tls"})
    assert_status(r, 422, "Invalid", contains='type: Invalid value: "kubernetes.io/tls": field is immutable')
    r = http.put(sec_path(ns, "h"), {**got, "data": {"k": b64("w")}})
    assert_status(r, 422, "Invalid", contains="data: Forbidden: field is immutable when `immutable` is set")
    r = http.post(sec_path(ns), data=b"k8s\x00\x0a\x02garbage",
                  headers={"Content-Type": "application/vnd.kubernetes.protobuf"})
    assert_status(r, 400, "BadRequest", contains="Secret")
    assert http.get(sec_path(ns)).json()["items"][0]["metadata"]["name"] == "h"   # nothing else written
    # kinds without a protobuf decoder still refuse protobuf bodies
    r = http.post(is_path(ns), data=b"k8s\x00", headers={"Content-Type": "application/vnd.kubernetes.protobuf"})
    assert_status(r, 415, "UnsupportedMediaType")


def test_imagestream_secrets_subresource(http, ns):
    assert_ok(http.post(sec_path(ns), secret("json", "kubernetes.io/dockerconfigjson",
                                              {".dockerconfigjson": dockercfgjson()})), 201)
    assert_ok(http.post(sec_path(ns), secret("cfg", "kubernetes.io/dockercfg",
                                              {".dockercfg": b64('{"r.io":{"auth":"' + b64("u:p") + '"}}')})), 201)
    assert_ok(http.post(sec_path(ns), secret("opaque", data={"k": b64("v")})), 201)
    excl = secret("excluded", "kubernetes.io/dockercfg", {".dockercfg": b64("{}")})
    excl["metadata"]["annotations"] = {"openshift.io/image.excludeSecret": "true"}
    assert_ok(http.post(sec_path(ns), excl), 201)
    other = f"o{uniq()}"
    assert_ok(http.post(sec_path(other), secret("elsewhere", "kubernetes.io/dockercfg",
                                                 {".dockercfg": b64("{}")})), 201)
    body = assert_ok(http.get(is_path(ns, "no-such-stream", "secrets")), 200)
    assert body["kind"] == "SecretList" and body["apiVersion"] == "image.openshift.io/v1"
    assert int(body["metadata"]["resourceVersion"]) > 0
    assert sorted(i["metadata"]["name"] for i in body["items"]) == ["cfg", "json"]
    full = next(i for i in body["items"] if i["metadata"]["name"] == "json")
    assert full["data"][".dockerconfigjson"] == dockercfgjson() and full["kind"] == "Secret"
    assert http.post(is_path(ns, "x", "secrets"), {}).status_code == 405


def test_discovery_and_openapi(server, http):
    v1 = assert_ok(http.get("/api/v1"), 200)
    sec = next(r for r in v1["resources"] if r["name"] == "secrets")
    assert sec["kind"] == "Secret" and sec["namespaced"] and "deletecollection" in sec["verbs"]
    assert assert_ok(http.get("/api"), 200)["versions"] == ["v1"]
    agg = http.get("/api", headers={"Accept": "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"})
    res = assert_ok(agg, 200)["items"][0]["versions"][0]["resources"]
    assert [r["resource"] for r in res] == ["secrets"]
    img = assert_ok(http.get("/apis/image.openshift.io/v1"), 200)
    names = [r["name"] for r in img["resources"]]
    assert "secrets" not in names and "imagestreams/secrets" in names
    root = assert_ok(http.get("/openapi/v3"), 200)["paths"]
    doc = assert_ok(http.get(root["api/v1"]["serverRelativeURL"]), 200)
    assert "/api/v1/namespaces/{namespace}/secrets/{name}" in doc["paths"]
    assert doc["paths"]["/api/v1/namespaces/{namespace}/secrets"]["post"]["operationId"] == "createCoreV1NamespacedSecret"
    gvk = doc["components"]["schemas"]["io.k8s.api.core.v1.Secret"]["x-kubernetes-group-version-kind"]
    assert gvk == [{"group": "", "version": "v1", "kind": "Secret"}]
    _, out, _ = server.kubectl("api-resources", "--api-group=")
    assert any(line.split()[:1] == ["secrets"] for line in out.splitlines())
    _, out, _ = server.kubectl("explain", "secret.type")
    assert "FIELD: type <string>" in out or "type" in out
    # /api/v1/namespaces/<ns> is still the implicit namespace
    assert assert_ok(http.get("/api/v1/namespaces/demo"), 200)["kind"] == "Namespace"


def test_nothing_secret_in_the_log(server_factory, ns):
    srv = server_factory("--log-level", "debug")
    k, http = srv.kubectl, srv.http
    k("create", "secret", "docker-registry", "pull", "-n", ns, "--docker-server=r.example.com",
      "--docker-username=alice", f"--docker-password={PASSWORD}")
    k("create", "secret", "generic", "gen", "-n", ns, f"--from-literal=pw={PASSWORD}")
    k("get", "secret", "pull", "-n", ns, "-o", "yaml")
    assert_ok(http.post(sec_path(ns), secret("s", stringData={"pw": PASSWORD})), 201)
    http.post(sec_path(ns), secret("bad", "kubernetes.io/dockerconfigjson",
                                   {".dockerconfigjson": b64('{"auths":"' + PASSWORD)}))
    http.post(sec_path(ns), secret("bad2", data={"k": PASSWORD + "!"}))
    http.post(sec_path(ns), data=b'{"kind":"Secret","stringData":{"pw":"' + PASSWORD.encode() + b'"',
              headers={"Content-Type": "application/json"})
    http.get(is_path(ns, "x", "secrets"))
    k("delete", "secret", "pull", "gen", "s", "-n", ns)
    log = srv.log_text(srv.runs[-1])
    assert "serving on" in log   # the log of this server, at debug level
    for needle in (PASSWORD, b64(PASSWORD), b64(f"alice:{PASSWORD}"), PASSWORD[:10]):
        assert needle not in log, f"{needle!r} in the server log"
