"""The registry peers themselves (registry_fixtures.py): each fixture does what
the importer tests will rely on. No image-apiserver is started here."""

import base64
import hashlib
import http.client
import json
import socket
import ssl
import subprocess
import time

import pytest

from registry_images import (DOCKER_LIST, DOCKER_MANIFEST, MANY_TAGS, OCI_INDEX, OCI_MANIFEST,
                             standard_layouts)
from registry_peers import SKOPEO_BIN, PeerError

ACCEPT = ", ".join([OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST])


def basic(user, pw):
    return "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()


def get(host, port, path, method="GET", headers=None, timeout=10):
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request(method, path, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


# --------------------------------------------------------------------------- images

def test_layouts_are_deterministic_and_readable_by_skopeo(tmp_path, registry_layouts):
    again = standard_layouts(str(tmp_path))
    for name, lay in registry_layouts.items():
        assert {t: i.digest for t, i in lay.tags.items()} == \
               {t: i.digest for t, i in again[name].tags.items()}, name
    single = registry_layouts["single"]
    raw = subprocess.run([SKOPEO_BIN, "--insecure-policy", "inspect", "--raw", single.ref("v2")],
                         capture_output=True, timeout=30, check=True).stdout
    assert raw == single.tags["v2"].manifest_bytes
    assert len(json.loads(raw)["layers"]) == 2
    assert len(registry_layouts["many"].tags) == MANY_TAGS >= 60


def test_session_registry_serves_every_shape(registry):
    st, h, body = registry.request("GET", "/v2/test/single/manifests/v1", headers={"Accept": ACCEPT})
    assert st == 200 and h["content-type"] == OCI_MANIFEST
    assert h["docker-content-digest"] == registry.content["test/single:v1"]

    st, h, body = registry.request("GET", "/v2/test/docker/manifests/latest", headers={"Accept": ACCEPT})
    assert st == 200 and h["content-type"] == DOCKER_MANIFEST
    assert json.loads(body)["config"]["mediaType"] == "application/vnd.docker.container.image.v1+json"

    st, h, body = registry.request("GET", "/v2/test/multi/manifests/latest", headers={"Accept": ACCEPT})
    assert st == 200 and h["content-type"] == OCI_INDEX
    plats = {(m["platform"]["architecture"], m["platform"].get("variant"))
             for m in json.loads(body)["manifests"]}
    assert plats == {("amd64", None), ("arm64", "v8"), ("arm", "v7")}
    for m in json.loads(body)["manifests"]:  # children pushed too (--all)
        assert registry.request("HEAD", f"/v2/test/multi/manifests/{m['digest']}",
                                headers={"Accept": ACCEPT})[0] == 200

    st, h, body = registry.request("GET", "/v2/test/docker-multi/manifests/latest", headers={"Accept": ACCEPT})
    assert st == 200 and h["content-type"] == DOCKER_LIST
    assert {m["mediaType"] for m in json.loads(body)["manifests"]} == {DOCKER_MANIFEST}
    assert h["docker-content-digest"] == registry.content["test/docker-multi:latest"]

    st, h, body = registry.request("GET", "/v2/test/many/tags/list")
    tags = json.loads(body)["tags"]
    assert len(tags) == MANY_TAGS and len(set(registry.content[f"test/many:{t}"] for t in tags)) == MANY_TAGS
    # distribution 2.8 does not paginate tags/list (fault_proxy's "paginate" does)
    st, h, body = registry.request("GET", "/v2/test/many/tags/list?n=10")
    assert len(json.loads(body)["tags"]) == MANY_TAGS and "link" not in h


def test_registry_factory_deletes_and_stops(registry_factory, registry_layouts):
    reg = registry_factory()
    d = reg.push(registry_layouts["single"], "v1", "del/me")
    assert reg.request("DELETE", f"/v2/del/me/manifests/{d}")[0] == 202
    assert reg.request("HEAD", f"/v2/del/me/manifests/{d}", headers={"Accept": ACCEPT})[0] == 404
    reg.stop()
    assert not reg.alive()
    with pytest.raises(OSError):
        get("127.0.0.1", reg.port, "/v2/", timeout=2)


# --------------------------------------------------------------------------- auth

def test_basic_auth(registry_factory, registry_layouts):
    reg = registry_factory(auth=("htpasswd", {"puller": "pw1"}))
    st, h, _ = get("127.0.0.1", reg.port, "/v2/")
    assert st == 401 and h["www-authenticate"].startswith("Basic realm=")
    assert get("127.0.0.1", reg.port, "/v2/", headers={"Authorization": basic("puller", "bad")})[0] == 401
    assert get("127.0.0.1", reg.port, "/v2/", headers={"Authorization": basic("puller", "pw1")})[0] == 200
    d = reg.push(registry_layouts["single"], "v1", "private/app")  # skopeo --dest-creds
    assert d == registry_layouts["single"].tags["v1"].digest


def test_token_auth(registry_factory, token_server, registry_layouts):
    reg = registry_factory(auth=token_server)
    st, h, _ = get("127.0.0.1", reg.port, "/v2/private/app/manifests/v1")
    assert st == 401
    challenge = h["www-authenticate"]
    assert challenge.startswith("Bearer ") and f'realm="{token_server.realm}"' in challenge
    assert 'scope="repository:private/app:pull"' in challenge

    d = reg.push(registry_layouts["single"], "v1", "private/app")  # skopeo gets its tokens
    pushes = token_server.request_count()
    assert pushes >= 1 and all(r["account"] == "importer" for r in token_server.requests)

    q = f"/token?service={token_server.SERVICE}&scope=repository:private/app:pull"
    assert get("127.0.0.1", token_server.port, q, headers={"Authorization": basic("importer", "no")})[0] == 401
    token_server.expires_in = 120
    st, _, body = get("127.0.0.1", token_server.port, q, headers={"Authorization": basic("importer", "s3cret")})
    assert st == 200 and json.loads(body)["expires_in"] == 120
    assert token_server.request_count() == pushes + 2
    tok = json.loads(body)["token"]
    auth = {"Authorization": f"Bearer {tok}", "Accept": ACCEPT}
    st, h, _ = get("127.0.0.1", reg.port, "/v2/private/app/manifests/v1", "HEAD", auth)
    assert st == 200 and h["docker-content-digest"] == d
    # the token's scope is enforced: another repository is refused
    assert get("127.0.0.1", reg.port, "/v2/other/app/manifests/v1", "HEAD", auth)[0] == 401
    # an expired token (beyond the registry's leeway) is refused
    old = token_server.make_token("importer", ["repository:private/app:pull"], -300)
    assert get("127.0.0.1", reg.port, "/v2/private/app/manifests/v1", "HEAD",
               {"Authorization": f"Bearer {old}", "Accept": ACCEPT})[0] == 401
    token_server.expires_in = None  # field omitted
    st, _, body = get("127.0.0.1", token_server.port, q, headers={"Authorization": basic("importer", "s3cret")})
    assert st == 200 and "expires_in" not in json.loads(body)
    token_server.fail_with = 503
    assert get("127.0.0.1", token_server.port, q, headers={"Authorization": basic("importer", "s3cret")})[0] == 503


# --------------------------------------------------------------------------- TLS

def test_tls(registry_factory, registry_ca, registry_layouts):
    reg = registry_factory(tls=registry_ca)
    ctx = ssl.create_default_context(cafile=registry_ca.cert)
    for host in ("127.0.0.1", "localhost"):
        c = http.client.HTTPSConnection(host, reg.port, timeout=10, context=ctx)
        c.request("GET", "/v2/")
        assert c.getresponse().status == 200
        c.close()
    with pytest.raises(ssl.SSLCertVerificationError):
        c = http.client.HTTPSConnection("127.0.0.1", reg.port, timeout=10,
                                        context=ssl.create_default_context())
        c.request("GET", "/v2/")
    assert reg.push(registry_layouts["single"], "v1", "tls/app")  # skopeo --dest-cert-dir


# --------------------------------------------------------------------------- fault proxy

def test_fault_proxy_passes_through_and_counts(fault_proxy, registry):
    p = fault_proxy.port
    path = "/v2/test/single/manifests/v1"
    for _ in range(5):
        st, h, _ = get("127.0.0.1", p, path, "HEAD", {"Accept": ACCEPT})
        assert st == 200 and h["docker-content-digest"] == registry.content["test/single:v1"]
        assert int(h["content-length"]) == len(registry.request("GET", path, headers={"Accept": ACCEPT})[2])
    st, _, body = get("127.0.0.1", p, path, headers={"Accept": ACCEPT})
    assert st == 200 and json.loads(body)["schemaVersion"] == 2
    assert fault_proxy.counts[("HEAD", path)] == 5
    assert fault_proxy.count("GET") == 1 and fault_proxy.count("HEAD", r"/manifests/") == 5
    # skopeo through the proxy (uploads: Location headers point at the proxy)
    st, _, _ = get("127.0.0.1", p, "/v2/")
    assert st == 200


def test_fault_proxy_faults(fault_proxy, registry):
    p = fault_proxy.port
    m = "/v2/test/single/manifests/v1"
    hdr = {"Accept": ACCEPT}
    fault_proxy.add("status", r"/manifests/v1$", times=1)
    assert get("127.0.0.1", p, m, headers=hdr)[0] == 500
    assert get("127.0.0.1", p, m, headers=hdr)[0] == 200  # times=1 used up

    fault_proxy.add("retry_after", r"/manifests/v1$", times=1, seconds=7)
    st, h, _ = get("127.0.0.1", p, m, headers=hdr)
    assert st == 429 and h["retry-after"] == "7"

    fault_proxy.add("manifest_unknown", r"/manifests/v1$", times=1)
    st, _, body = get("127.0.0.1", p, m, headers=hdr)
    assert st == 404 and json.loads(body)["errors"][0]["code"] == "MANIFEST_UNKNOWN"

    fault_proxy.add("digest_mismatch", r"/manifests/v1$", times=1)
    st, h, body = get("127.0.0.1", p, m, headers=hdr)
    assert st == 200 and "sha256:" + hashlib.sha256(body).hexdigest() != h["docker-content-digest"]

    fault_proxy.add("oversize", r"/manifests/v1$", times=1, size=5 << 20)
    st, h, body = get("127.0.0.1", p, m, headers=hdr)
    assert st == 200 and len(body) == 5 << 20 == int(h["content-length"])

    fault_proxy.add("oversize", r"/manifests/v1$", times=1, size=1 << 20, declare_length=False)
    st, h, body = get("127.0.0.1", p, m, headers=hdr)
    assert st == 200 and "content-length" not in h and len(body) == 1 << 20

    fault_proxy.add("slow", r"/manifests/v1$", times=1, delay=1.5)
    with pytest.raises(socket.timeout):
        get("127.0.0.1", p, m, headers=hdr, timeout=0.5)
    fault_proxy.add("slow", r"/manifests/v1$", times=1, delay=1.5, after_bytes=10)
    t0 = time.monotonic()
    assert get("127.0.0.1", p, m, headers=hdr, timeout=5)[0] == 200
    assert time.monotonic() - t0 >= 1.4

    fault_proxy.add("reset", r"/manifests/v1$", times=1)
    with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected)):
        get("127.0.0.1", p, m, headers=hdr)

    fault_proxy.add("reset", r"/manifests/v1$", times=1, after_bytes=20)
    c = http.client.HTTPConnection("127.0.0.1", p, timeout=10)
    c.request("GET", m, headers=hdr)
    r = c.getresponse()
    assert r.status == 200
    with pytest.raises((ConnectionResetError, http.client.IncompleteRead)):
        r.read()
    c.close()

    fault_proxy.add("status", r"/blobs/", method="GET", code=503)  # method-specific, unlimited
    digest = json.loads(registry.request("GET", m, headers=hdr)[2])["config"]["digest"]
    assert get("127.0.0.1", p, f"/v2/test/single/blobs/{digest}")[0] == 503
    assert get("127.0.0.1", p, f"/v2/test/single/blobs/{digest}", "HEAD")[0] == 200
    fault_proxy.clear()
    assert get("127.0.0.1", p, f"/v2/test/single/blobs/{digest}")[0] == 200
    with pytest.raises(ValueError):
        fault_proxy.add("no-such-fault", "x")


def test_fault_proxy_paginates_tags(fault_proxy):
    fault_proxy.add("paginate", r"/tags/list$", page_size=20)
    seen, path, pages = [], "/v2/test/many/tags/list", 0
    while path:
        st, h, body = get("127.0.0.1", fault_proxy.port, path)
        assert st == 200
        seen += json.loads(body)["tags"]
        pages += 1
        link = h.get("link")
        path = link[1:link.index(">")] if link else None
    assert pages == 4 and seen == sorted(seen) and len(set(seen)) == MANY_TAGS
    st, h, body = get("127.0.0.1", fault_proxy.port, "/v2/test/many/tags/list?n=64")
    assert len(json.loads(body)["tags"]) == 64 and "last=tag-63" in h["link"]


def test_skopeo_through_fault_proxy(fault_proxy, registry_layouts, tmp_path):
    """A whole client (skopeo) works through the proxy, and sees injected faults."""
    dest = f"docker://127.0.0.1:{fault_proxy.port}/via/proxy:v1"
    cmd = [SKOPEO_BIN, "--insecure-policy", "copy", "--quiet", "--retry-times", "0",
           "--dest-tls-verify=false", registry_layouts["single"].ref("v1"), dest]
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    assert fault_proxy.count("PUT", r"^/v2/via/proxy/manifests/v1$") == 1
    fault_proxy.add("manifest_unknown", r"/manifests/", method="GET")
    p = subprocess.run([SKOPEO_BIN, "inspect", "--raw", "--tls-verify=false", dest],
                       capture_output=True, timeout=60)
    assert p.returncode != 0 and b"manifest unknown" in p.stderr.lower()


# --------------------------------------------------------------------------- notifications

def test_registry_notifications(registry_factory, notification_receiver, registry_layouts):
    reg = registry_factory(notify={"url": notification_receiver.endpoint,
                                   "headers": {"Authorization": "Bearer hook-secret"}})
    d = reg.push(registry_layouts["single"], "v1", "notify/app")
    ev = notification_receiver.wait_for_event(
        lambda e: e["action"] == "push" and e["target"].get("tag") == "v1"
        and e["target"]["repository"] == "notify/app")
    assert ev["target"]["digest"] == d and ev["target"]["mediaType"] == OCI_MANIFEST
    with notification_receiver.lock:
        headers, _ = notification_receiver.posts[0]
    assert headers.get("Authorization") == "Bearer hook-secret"
    assert headers.get("Content-Type", "").startswith("application/vnd.docker.distribution.events.v1+json")


def test_wait_has_a_timeout(notification_receiver):
    t0 = time.monotonic()
    with pytest.raises(PeerError):
        notification_receiver.wait_for_event(lambda e: True, timeout=0.3)
    assert time.monotonic() - t0 < 2


def test_session_factory_token_registry_with_content(registry_session_factory):
    """A session-scoped token-auth registry holding the standard images."""
    reg = registry_session_factory(auth="token", content=True, name="token-content")
    ts = reg.token_server
    assert len(reg.content) == 5 + MANY_TAGS
    assert reg.manifest_digest("test/many", "tag-64") == reg.content["test/many:tag-64"]
    st, h, _ = get("127.0.0.1", reg.port, "/v2/test/single/manifests/v1", "HEAD")
    assert st == 401 and ts.realm in h["www-authenticate"]
    assert any(r["account"] == "importer" for r in ts.requests)  # skopeo pushes asked it


def test_fault_proxy_in_front_of_tls_basic_auth_registry(registry_factory, registry_ca, fault_proxy_factory,
                                                         registry_layouts):
    reg = registry_factory(auth=("htpasswd", {"u": "p"}), tls=registry_ca, content=False)
    d = reg.push(registry_layouts["single"], "v1", "tls/auth")
    fp = fault_proxy_factory(reg)
    path = "/v2/tls/auth/manifests/v1"
    assert get("127.0.0.1", fp.port, path, "HEAD", {"Accept": ACCEPT})[0] == 401
    st, h, _ = get("127.0.0.1", fp.port, path, "HEAD", {"Accept": ACCEPT, "Authorization": basic("u", "p")})
    assert st == 200 and h["docker-content-digest"] == d and fp.count("HEAD") == 2
