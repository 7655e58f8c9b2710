"""Push-triggered imports: POST /webhooks/registry (src/controller/registry_webhook.c).
Debian's docker-registry sends its real notifications (`notifications: endpoints:` with
the Authorization header) to the server; a push of a tag re-imports the spec tags that
follow it, with no scheduled import configured. The endpoint's own answers (401, 400,
405, 415, 200 for unknown repositories) at the HTTP level."""

import json
import time

import pytest

from e2e_helpers import assert_ok, assert_status, is_path, uniq
from registry_images import OciLayout

GROUP = "image.openshift.io"
TOKEN = "push-hook-token-1234"
EVENTS = "application/vnd.docker.distribution.events.v1+json"


@pytest.fixture
def hook_server(server_factory, tmp_path):
    tok = tmp_path / "webhook-token"
    tok.write_text(TOKEN + "\n")
    return server_factory("--registry-webhook-token-file", str(tok))


def envelope(host, repo, tag, digest="sha256:" + "a" * 64):
    return {"events": [{"id": "1", "action": "push",
                        "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "repository": repo,
                                   "digest": digest, "tag": tag,
                                   "url": f"http://{host}/v2/{repo}/manifests/{digest}"},
                        "request": {"host": host, "method": "PUT"}}]}


def post(srv, body, token=TOKEN, ctype=EVENTS):
    h = {"Content-Type": ctype}
    if token is not None:
        h["Authorization"] = f"Bearer {token}"
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return srv.http.req("POST", "/webhooks/registry", data=data, headers=h)


def stream_image(srv, ns, name):
    st = assert_ok(srv.http.get(is_path(ns, name)), 200)
    tags = (st.get("status") or {}).get("tags") or []
    return tags[0]["items"][0]["image"] if tags and tags[0].get("items") else None


def wait_image(srv, ns, name, want, timeout):
    deadline = time.monotonic() + timeout
    while stream_image(srv, ns, name) != want:
        assert time.monotonic() < deadline, (stream_image(srv, ns, name), want)
        time.sleep(0.05)


def push(reg, directory, repo, tag, seed):
    layout = OciLayout(directory)
    layout.add_image(tag, seed=seed)
    layout.write()
    return reg.push_http(layout, tag, repo)


def track(srv, ref, digest):
    """A new stream with tag t following ref (not scheduled), once imported as digest."""
    ns, name = uniq("hook"), uniq("is")
    body = {"kind": "ImageStream", "apiVersion": f"{GROUP}/v1", "metadata": {"name": name},
            "spec": {"tags": [{"name": "t", "from": {"kind": "DockerImage", "name": ref},
                               "importPolicy": {"insecure": True}}]}}
    assert_ok(srv.http.post(is_path(ns), body), 201)
    wait_image(srv, ns, name, digest, 30)
    return ns, name


def test_endpoint_answers(hook_server):
    srv = hook_server
    assert_status(post(srv, envelope("127.0.0.1:1", "nobody/here", "v1"), token=None), 401, "Unauthorized")
    assert_status(post(srv, envelope("127.0.0.1:1", "nobody/here", "v1"), token="wrong"), 401, "Unauthorized")
    assert_status(post(srv, b"{not json"), 400, "BadRequest")
    assert_status(post(srv, {"events": "no"}), 400, "BadRequest", contains="events")
    assert_status(post(srv, b"x", ctype="text/plain"), 415, "UnsupportedMediaType")
    r = srv.http.get("/webhooks/registry", headers={"Authorization": f"Bearer {TOKEN}"})
    assert_status(r, 405, "MethodNotAllowed")
    # unknown repositories: 200, so the registry does not retry
    r = post(srv, envelope("127.0.0.1:1", "nobody/here", "v1"))
    assert r.status_code == 200 and r.json()["status"] == "Success", r.text
    r = post(srv, {"events": []}, ctype="application/json")
    assert r.status_code == 200, r.text


def test_without_the_flag_there_is_no_endpoint(http):
    r = http.post("/webhooks/registry", envelope("127.0.0.1:1", "a/b", "v1"))
    assert_status(r, 404, "NotFound")


def test_registry_push_reimports(hook_server, registry_factory, tmp_path):
    srv = hook_server
    reg = registry_factory(notify={"url": f"http://127.0.0.1:{srv.port}/webhooks/registry",
                                   "headers": {"Authorization": f"Bearer {TOKEN}"}})
    repo = f"hook/{uniq('app')}"
    d1 = push(reg, tmp_path / "a", repo, "v1", f"{repo}-a")
    ns, name = track(srv, f"{reg.host}/{repo}:v1", d1)
    # a new push of the same tag: the registry notifies, the server re-imports
    t0 = time.monotonic()
    d2 = push(reg, tmp_path / "b", repo, "v1", f"{repo}-b")
    wait_image(srv, ns, name, d2, 15)
    took = time.monotonic() - t0
    print(f"push to re-import: {took:.2f} s")
    st = assert_ok(srv.http.get(is_path(ns, name)), 200)
    assert [i["image"] for i in st["status"]["tags"][0]["items"]][:2] == [d2, d1]
    # a push to another tag of the repository changes nothing
    push(reg, tmp_path / "c", repo, "v9", f"{repo}-c")
    time.sleep(1.5)
    assert stream_image(srv, ns, name) == d2


def test_push_by_digest_reimports_tags_from_that_repository(hook_server, registry, tmp_path):
    """A push by digest only (no tag) re-checks the tags whose last import came from that
    repository: the server's own envelope, as the registry sends it for `PUT
    /manifests/<digest>`."""
    srv = hook_server
    repo = f"hook/{uniq('dg')}"
    d1 = push(registry, tmp_path / "a", repo, "v1", f"{repo}-a")
    ns, name = track(srv, f"{registry.host}/{repo}:v1", d1)
    d2 = push(registry, tmp_path / "b", repo, "v1", f"{repo}-b")
    time.sleep(0.5)
    ev = envelope(registry.host, repo, "", digest=d2)
    r = post(srv, ev)
    assert r.status_code == 200 and "1 image stream" in r.json()["message"], r.text
    wait_image(srv, ns, name, d2, 15)
