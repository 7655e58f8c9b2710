"""The registry client (src/importer/reg_fetch.c) through ImageStreamImport against real
peers: token auth and its cache, TLS trusted through --registry-ca-file and refused
without it, 429 with Retry-After retried, oversized manifests and config digest mismatches
refused, Link-paginated tag lists, and the unchanged tag that costs one HEAD and no GET."""

from e2e_helpers import assert_ok
from test_isi import INSECURE, docker, images_of, isi_body, isi_path, post_isi
from e2e_helpers import uniq


def test_token_auth_and_token_cache(server_factory, registry_factory, registry_layouts, ns):
    reg = registry_factory(auth="token")
    d = reg.push(registry_layouts["single"], "v1", "tok/app")
    srv = server_factory("--insecure-registries", reg.host)
    ts = reg.token_server
    ts.reset()
    ref = f"{reg.host}/tok/app:v1"
    # anonymous: the token server grants nothing to nobody -> 401 status
    res = assert_ok(srv.http.post(isi_path(ns), isi_body("t", [docker(ref)]), timeout=60), 201)
    e = images_of(res)[0]
    assert e["status"]["code"] == 401, e
    # with a pull secret: token fetched with the credentials and the pull scope
    user, pw = reg.creds.split(":", 1)
    sec = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "pull"},
           "type": "kubernetes.io/dockerconfigjson",
           "stringData": {".dockerconfigjson":
                          '{"auths":{"%s":{"username":"%s","password":"%s"}}}' % (reg.host, user, pw)}}
    assert_ok(srv.http.post(f"/api/v1/namespaces/{ns}/secrets", sec), 201)
    ts.reset()
    for _ in range(3):
        res = assert_ok(srv.http.post(isi_path(ns), isi_body("t", [docker(ref)]), timeout=60), 201)
        e = images_of(res)[0]
        assert e["status"]["status"] == "Success", e
        assert e["image"]["metadata"]["name"] == d
    # one token for three imports (cached until expires_in)
    granted = [r for r in ts.requests if r.get("authorized")]
    assert len(granted) == 1, ts.requests
    assert "repository:tok/app:pull" in granted[0]["scopes"]


def test_tls_trusted_with_ca_file_refused_without(server_factory, registry_factory, registry_ca,
                                                  registry_layouts, ns):
    reg = registry_factory(tls=registry_ca)
    d = reg.push(registry_layouts["single"], "v1", "tls/app")
    ref = f"{reg.host}/tls/app:v1"
    plain = server_factory()
    e = images_of(assert_ok(plain.http.post(isi_path(ns), isi_body("t", [docker(ref)]), timeout=60), 201))[0]
    assert e["status"]["status"] == "Failure" and e["status"]["code"] == 500, e
    assert "certificate" in e["status"]["message"].lower() or "ssl" in e["status"]["message"].lower(), e
    trusted = server_factory("--registry-ca-file", registry_ca.cert)
    e = images_of(assert_ok(trusted.http.post(isi_path(ns), isi_body("t", [docker(ref)]), timeout=60), 201))[0]
    assert e["status"]["status"] == "Success", e
    assert e["image"]["metadata"]["name"] == d


def test_insecure_tls_registry_without_ca(server_factory, registry_factory, registry_ca, registry_layouts, ns):
    """insecure on a TLS registry: TLS without verification (not plain HTTP); on a plain
    HTTP registry (every other test here) the ping falls back to http://"""
    reg = registry_factory(tls=registry_ca)
    d = reg.push(registry_layouts["single"], "v1", "tlsi/app")
    ref = f"{reg.host}/tlsi/app:v1"
    srv = server_factory()
    e = images_of(assert_ok(srv.http.post(isi_path(ns), isi_body("t", [docker(ref, importPolicy=INSECURE)]),
                                          timeout=60), 201))[0]
    assert e["status"]["status"] == "Success", e
    assert e["image"]["metadata"]["name"] == d
    flagged = server_factory("--insecure-registries", reg.host)
    e = images_of(assert_ok(flagged.http.post(isi_path(ns), isi_body("t", [docker(ref)]), timeout=60), 201))[0]
    assert e["status"]["status"] == "Success", e


def test_429_retry_after_is_retried(http, ns, registry, fault_proxy):
    host = f"127.0.0.1:{fault_proxy.port}"
    fault_proxy.add("retry_after", r"/manifests/", times=1, seconds=1)
    e = images_of(post_isi(http, ns, isi_body("r", [docker(f"{host}/test/single:v1", importPolicy=INSECURE)])))[0]
    assert e["status"]["status"] == "Success", e
    assert fault_proxy.count(method="GET", pattern="/manifests/") == 2


def test_oversized_manifest_refused(http, ns, registry, fault_proxy):
    host = f"127.0.0.1:{fault_proxy.port}"
    fault_proxy.add("oversize", r"/manifests/", size=5 << 20)
    e = images_of(post_isi(http, ns, isi_body("o", [docker(f"{host}/test/single:v1", importPolicy=INSECURE)])))[0]
    assert e["status"]["status"] == "Failure" and e["status"]["code"] == 500, e


def test_config_digest_mismatch(http, ns, registry, fault_proxy):
    host = f"127.0.0.1:{fault_proxy.port}"
    fault_proxy.add("digest_mismatch", r"/blobs/")
    e = images_of(post_isi(http, ns, isi_body("c", [docker(f"{host}/test/single:v1", importPolicy=INSECURE)])))[0]
    assert e["status"]["status"] == "Failure", e
    assert e["status"]["message"].startswith(
        "Internal error occurred: content integrity error: the blob retrieved with digest sha256:"), e


def test_paginated_tag_list(http, ns, registry, fault_proxy):
    host = f"127.0.0.1:{fault_proxy.port}"
    fault_proxy.add("paginate", r"/tags/list", page_size=10)
    res = post_isi(http, ns, isi_body("p", repository={"from": {"kind": "DockerImage", "name": f"{host}/test/many"},
                                                       "importPolicy": INSECURE}))
    rs = res["status"]["repository"]
    assert rs["status"]["status"] == "Success", rs["status"]
    assert len(rs["images"]) == 50 and len(rs["additionalTags"]) == 15
    assert fault_proxy.count(method="GET", pattern="/tags/list") == 7


def test_unchanged_tag_costs_one_head(http, ns, registry, fault_proxy):
    host = f"127.0.0.1:{fault_proxy.port}"
    ref = f"{host}/test/single:v1"
    name = uniq("u")
    e = images_of(post_isi(http, ns, isi_body(name, [docker(ref, to="v1", importPolicy=INSECURE)], import_=True)))[0]
    assert e["status"]["status"] == "Success", e
    fault_proxy.reset_counts()
    e = images_of(post_isi(http, ns, isi_body(name, [docker(ref, to="v1", importPolicy=INSECURE)], import_=True)))[0]
    assert e["status"]["status"] == "Success", e
    assert e["image"]["metadata"]["name"] == registry.content["test/single:v1"]
    assert fault_proxy.count(method="HEAD", pattern="/manifests/") == 1
    assert fault_proxy.count(method="GET", pattern="/manifests/") == 0
    assert fault_proxy.count(method="GET", pattern="/blobs/") == 0


def test_https_proxy_and_no_proxy(server_factory, registry_factory, registry_ca, registry_layouts, ns):
    """Imports go through the proxy HTTPS_PROXY names (a CONNECT tunnel to the registry;
    TLS is still verified end to end against --registry-ca-file), and straight to the
    registry when NO_PROXY names it."""
    from registry_peers import ConnectProxy
    reg = registry_factory(tls=registry_ca)
    d = reg.push(registry_layouts["single"], "v1", "proxy/app")
    ref = f"{reg.host}/proxy/app:v1"
    proxy = ConnectProxy().start()
    try:
        env = {"HTTPS_PROXY": proxy.url, "NO_PROXY": "", "no_proxy": ""}
        via = server_factory("--registry-ca-file", registry_ca.cert, env=env)
        e = images_of(assert_ok(via.http.post(isi_path(ns), isi_body("t", [docker(ref)]), timeout=60), 201))[0]
        assert e["status"]["status"] == "Success", e
        assert e["image"]["metadata"]["name"] == d
        with proxy.lock:
            assert reg.host in proxy.targets, proxy.targets
            seen = len(proxy.targets)
        direct = server_factory("--registry-ca-file", registry_ca.cert, env={**env, "NO_PROXY": "127.0.0.1"})
        e = images_of(assert_ok(direct.http.post(isi_path(ns), isi_body("t", [docker(ref)]), timeout=60), 201))[0]
        assert e["status"]["status"] == "Success", e
        with proxy.lock:
            assert len(proxy.targets) == seen, proxy.targets
    finally:
        proxy.stop()
