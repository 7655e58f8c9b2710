"""HTTP-level end-to-end tests: discovery, OpenAPI, query parameters, watch,
write options, errors, Table/PartialObjectMetadata, and the ImageStream /
Image acceptance cases of stored-resources.md §6.

Wire contract: /work/shared/reference/kubectl-contract.md;
behaviour: /work/shared/reference/stored-resources.md."""

import copy
import json
import time

import pytest

from e2e_helpers import (AGG_ACCEPT, APPLY, BASE, CONFIG, CONFIG_DIGEST, GV, JSONPATCH,
                         LAYER_MT, MERGE, S2, S2_DIGEST, S2_MT, SMP, TABLE_ACCEPT, A64, B64, Watch,
                         assert_ok, assert_status, img_path, is_path,
                         make_image, make_is, names, new_ns, uniq, wait_for)


def seed(http, ns, *specs):
    """Create ImageStreams: each spec is a name or (name, labels)."""
    out = {}
    for s in specs:
        name, labels = (s, None) if isinstance(s, str) else s
        out[name] = http.create_is(ns, name, labels=labels)
    return out


def stream_names(events):
    return [e["object"]["metadata"]["name"] for e in events]


# ======================================================================= discovery

class TestDiscovery:
    def test_version(self, http):
        r = http.get("/version?timeout=5s", headers={"Accept": "application/json, */*"})
        body = assert_ok(r, 200)
        assert r.headers["Content-Type"].startswith("application/json")
        assert body["major"] == "1" and body["minor"] == "32"
        assert body["gitVersion"]

    @pytest.mark.parametrize("path", ["/healthz", "/livez", "/readyz"])
    def test_health(self, http, path):
        assert http.get(path).status_code == 200

    def test_readyz_verbose(self, server, http):
        r = http.get("/readyz?verbose")
        assert r.status_code == 200
        store = "etcd" if server.backend == "etcd" else "sqlite"
        assert r.text == f"[+]ping ok\n[+]watch-cache ok\n[+]{store} ok\nreadyz check passed\n"

    def test_api_aggregated(self, http):
        r = http.get("/api?timeout=32s", headers={"Accept": AGG_ACCEPT})
        assert r.status_code == 200
        assert "as=APIGroupDiscoveryList" in r.headers["Content-Type"]
        body = r.json()
        assert body["kind"] == "APIGroupDiscoveryList"
        # the core group holds only the kinds served here: Secrets (pull secrets of imports)
        [core] = body["items"]
        assert core["metadata"]["name"] == "" and [v["version"] for v in core["versions"]] == ["v1"]
        assert [x["resource"] for x in core["versions"][0]["resources"]] == ["secrets"]

    def test_apis_aggregated(self, http):
        r = http.get("/apis?timeout=32s", headers={"Accept": AGG_ACCEPT})
        assert r.status_code == 200
        ct = r.headers["Content-Type"]
        assert ct.startswith("application/json") and "as=APIGroupDiscoveryList" in ct
        assert "g=apidiscovery.k8s.io" in ct
        body = r.json()
        assert body["kind"] == "APIGroupDiscoveryList"
        assert body["apiVersion"].startswith("apidiscovery.k8s.io/")
        groups = {g["metadata"]["name"]: g for g in body["items"]}
        v1 = [v for v in groups[G_NAME]["versions"] if v["version"] == "v1"][0]
        res = {x["resource"]: x for x in v1["resources"]}
        isr = res["imagestreams"]
        assert isr["responseKind"] == {"group": G_NAME, "version": "v1", "kind": "ImageStream"}
        assert isr["scope"] == "Namespaced"
        assert isr["shortNames"] == ["is"]
        assert "all" in isr.get("categories", [])
        assert set(isr["verbs"]) == {"create", "delete", "deletecollection", "get", "list",
                                     "patch", "update", "watch"}
        subs = {s["subresource"]: s for s in isr.get("subresources", [])}
        assert subs["status"]["responseKind"]["kind"] == "ImageStream"
        assert set(subs["status"]["verbs"]) == {"get", "patch", "update"}
        img = res["images"]
        assert img["scope"] == "Cluster"
        assert img["responseKind"]["kind"] == "Image"
        for x in v1["resources"]:
            assert "responseKind" in x and x["scope"] in ("Namespaced", "Cluster"), x
        etag = r.headers.get("ETag")
        if etag:  # SHOULD: revalidation answers 304
            r2 = http.get("/apis", headers={"Accept": AGG_ACCEPT, "If-None-Match": etag})
            assert r2.status_code == 304
            assert r2.content == b""

    def test_api_legacy(self, http):
        body = assert_ok(http.get("/api", headers={"Accept": "application/json, */*"}), 200)
        assert body["kind"] == "APIVersions"
        assert body["versions"] == ["v1"]   # core v1 serves Secrets

    def test_apis_legacy(self, http):
        r = http.get("/apis", headers={"Accept": "application/json, */*"})
        body = assert_ok(r, 200)
        assert "as=" not in r.headers["Content-Type"]
        assert body["kind"] == "APIGroupList"
        g = [x for x in body["groups"] if x["name"] == G_NAME][0]
        assert g["preferredVersion"] == {"groupVersion": GV, "version": "v1"}
        assert g["preferredVersion"] in g["versions"]

    def test_api_group(self, http):
        body = assert_ok(http.get("/apis/image.openshift.io"), 200)
        assert body["kind"] == "APIGroup" and body["name"] == G_NAME
        assert body["preferredVersion"]["groupVersion"] == GV

    def test_api_resource_list(self, http):
        body = assert_ok(http.get(BASE, headers={"Accept": "application/json, */*"}), 200)
        assert body["kind"] == "APIResourceList" and body["groupVersion"] == GV
        res = {x["name"]: x for x in body["resources"]}
        assert res["imagestreams"]["namespaced"] is True
        assert res["imagestreams"]["kind"] == "ImageStream"
        assert res["imagestreams"]["shortNames"] == ["is"]
        assert res["imagestreams"]["singularName"] == "imagestream"
        assert res["imagestreams/status"]["kind"] == "ImageStream"
        assert set(res["imagestreams/status"]["verbs"]) == {"get", "patch", "update"}
        assert res["images"]["namespaced"] is False and res["images"]["kind"] == "Image"

    def test_api_v1_secrets_only(self, http):
        body = assert_ok(http.get("/api/v1"), 200)
        assert body["kind"] == "APIResourceList"
        assert body["groupVersion"] == "v1"
        assert [x["name"] for x in body["resources"]] == ["secrets"]

    def test_namespace_object(self, http, ns):
        body = assert_ok(http.get(f"/api/v1/namespaces/{ns}"), 200)
        assert body["kind"] == "Namespace" and body["metadata"]["name"] == ns
        assert body["status"]["phase"] == "Active"

    def test_core_events_stub(self, http, ns):
        q = "fieldSelector=involvedObject.name%3Da%2CinvolvedObject.kind%3DImageStream&limit=500"
        r = http.get(f"/api/v1/namespaces/{ns}/events?{q}",
                     headers={"Accept": "application/vnd.kubernetes.protobuf,application/json"})
        body = assert_ok(r, 200)
        assert body["kind"] == "EventList" and body["items"] == []

    def test_openapi_v3(self, http):
        root = assert_ok(http.get("/openapi/v3?timeout=32s"), 200)
        entry = root["paths"]["apis/image.openshift.io/v1"]
        url = entry["serverRelativeURL"]
        assert url.startswith("/openapi/v3/apis/image.openshift.io/v1?hash=")
        r = http.get(url, headers={"Accept": "application/json"})
        doc = assert_ok(r, 200)
        etag = r.headers.get("ETag")
        assert etag
        r304 = http.get(url, headers={"Accept": "application/json", "If-None-Match": etag})
        assert r304.status_code == 304
        # the PATCH op for ImageStream: GVK object, fieldValidation param, SMP content
        found = False
        for path, item in doc["paths"].items():
            op = item.get("patch")
            if not op or op.get("x-kubernetes-group-version-kind") != {
                    "group": G_NAME, "version": "v1", "kind": "ImageStream"}:
                continue
            found = True
            assert "fieldValidation" in [p.get("name") for p in op.get("parameters", [])]
            assert SMP in op["requestBody"]["content"]
            break
        assert found, "no PATCH operation for ImageStream"
        gvks = [s.get("x-kubernetes-group-version-kind") for s in
                doc["components"]["schemas"].values()]
        assert [{"group": G_NAME, "kind": "ImageStream", "version": "v1"}] in gvks

    def test_openapi_v3_caching_headers(self, http):
        url = assert_ok(http.get("/openapi/v3"))["paths"]["apis/image.openshift.io/v1"][
            "serverRelativeURL"]
        r = http.get(url)
        assert "immutable" in r.headers.get("Cache-Control", "")
        r = http.get("/openapi/v3/apis/image.openshift.io/v1?hash=0000")
        assert r.status_code == 200
        assert "immutable" not in r.headers.get("Cache-Control", "")
        assert http.get("/openapi/v3/apis/nothere/v1").status_code == 404

    def test_openapi_v2_protobuf(self, http):
        r = http.get("/openapi/v2?timeout=32s", headers={
            "Accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"})
        assert r.status_code == 200
        assert r.headers["Content-Type"] == \
            "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"


G_NAME = "image.openshift.io"


# ======================================================================= list options

class TestListOptions:
    def test_yaml_output(self, http, ns):
        seed(http, ns, "a")
        r = http.get(is_path(ns, "a"), headers={"Accept": "application/yaml"})
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("application/yaml")
        assert "kind: ImageStream\n" in r.text and "name: a\n" in r.text

    def test_timeout_and_rv_params_accepted(self, http, ns):
        seed(http, ns, "a")
        assert names(assert_ok(http.get(is_path(ns) + "?limit=500&timeout=32s"))) == ["a"]
        assert assert_ok(http.get(is_path(ns, "a") + "?resourceVersion=0&timeout=5s"))[
            "metadata"]["name"] == "a"

    def test_get_resource_version_not_older_than(self, http, ns):
        obj = seed(http, ns, "a")["a"]
        rv = int(obj["metadata"]["resourceVersion"])
        for q in (rv, rv - 1, 1):  # at or before the current state: served at once
            got = assert_ok(http.get(is_path(ns, "a") + f"?resourceVersion={q}"))
            assert int(got["metadata"]["resourceVersion"]) == rv
        # newer than anything written: kube's 504 after its wait (3 s here on etcd)
        future = rv + 100000
        assert_status(http.get(is_path(ns, "a") + f"?resourceVersion={future}"), 504, "Timeout",
                      contains=f"Too large resource version: {future}")
        assert_status(http.get(is_path(ns, "a") + "?resourceVersion=abc"), 400, "BadRequest",
                      contains='invalid resource version: resourceVersion: Invalid value: "abc"')

    def test_pretty(self, http, ns):
        seed(http, ns, "a")
        plain = http.get(is_path(ns, "a"))
        pretty = http.get(is_path(ns, "a") + "?pretty=true")
        assert pretty.status_code == 200
        assert "\n  " in pretty.text
        assert pretty.json() == plain.json()

    def test_limit_continue_consistent(self, http, ns):
        seed(http, ns, "a1", "a2", "a3", "a4", "a5")
        p1 = assert_ok(http.get(is_path(ns) + "?limit=2"), 200)
        rv = p1["metadata"]["resourceVersion"]
        assert len(p1["items"]) == 2 and p1["metadata"].get("continue")
        seen = names(p1)
        http.create_is(ns, "a9")  # after the snapshot: must not appear
        http.patch(is_path(ns, "a5"), {"metadata": {"labels": {"late": "1"}}})
        tok = p1["metadata"]["continue"]
        pages = 1
        while tok:
            pg = assert_ok(http.get(is_path(ns), params={"limit": 2, "continue": tok}), 200)
            assert pg["metadata"]["resourceVersion"] == rv
            assert len(pg["items"]) <= 2
            seen += names(pg)
            for item in pg["items"]:
                assert "late" not in item["metadata"].get("labels", {}), "not a snapshot"
            tok = pg["metadata"].get("continue")
            pages += 1
        assert pages == 3
        assert seen == ["a1", "a2", "a3", "a4", "a5"]

    def test_continue_garbage(self, http, ns):
        r = http.get(is_path(ns), params={"limit": 2, "continue": "not-a-token!!"})
        assert_status(r, 400, "BadRequest")

    def test_list_resource_version(self, http, ns):
        first = http.create_is(ns, "a")
        r1 = first["metadata"]["resourceVersion"]
        http.create_is(ns, "b")
        # on etcd the cache applies writes after they return: "0" (any) and "not older
        # than r1" may be served before "b" arrives; a consistent list waits for it
        assert names(assert_ok(http.get(is_path(ns)), 200)) == ["a", "b"]
        for q in ("resourceVersion=0", f"resourceVersion={r1}",
                  f"resourceVersion={r1}&resourceVersionMatch=NotOlderThan"):
            body = assert_ok(http.get(is_path(ns) + "?" + q), 200)
            assert names(body) == ["a", "b"], q
            assert int(body["metadata"]["resourceVersion"]) > int(r1)
        exact = assert_ok(http.get(
            is_path(ns) + f"?resourceVersion={r1}&resourceVersionMatch=Exact"), 200)
        assert names(exact) == ["a"]
        assert exact["metadata"]["resourceVersion"] == r1

    def test_resource_version_match_without_rv(self, http, ns):
        r = http.get(is_path(ns) + "?resourceVersionMatch=Exact")
        assert r.status_code in (400, 422), r.text
        assert r.json()["kind"] == "Status"


@pytest.fixture(scope="module")
def labelled(server):
    ns = new_ns()
    seed(server.http, ns, ("a", {"app": "x", "tier": "fe"}), ("b", {"app": "y"}),
         ("c", {"app": "z", "tier": "be"}), "d")
    return ns


class TestSelectors:
    @pytest.mark.parametrize("sel,expect", [
        ("app=x", ["a"]), ("app==x", ["a"]), ("app!=x", ["b", "c", "d"]),
        ("app in (x,y)", ["a", "b"]), ("app notin (x,y)", ["c", "d"]),
        ("tier", ["a", "c"]), ("!tier", ["b", "d"]), ("app,tier=be", ["c"]),
        ("app in (x,y),!tier", ["b"]), ("", ["a", "b", "c", "d"]),
    ])
    def test_label_selector(self, http, labelled, sel, expect):
        body = assert_ok(http.get(is_path(labelled), params={"labelSelector": sel}), 200)
        assert names(body) == expect

    def test_label_selector_encoded_like_kubectl(self, http, labelled):
        q = "labelSelector=app+in+%28x%2Cy%29%2C%21tier&limit=500"
        assert names(assert_ok(http.get(is_path(labelled) + "?" + q), 200)) == ["b"]

    def test_label_selector_invalid(self, http, labelled):
        assert_status(http.get(is_path(labelled), params={"labelSelector": "app in (x"}),
                      400, "BadRequest")

    @pytest.mark.parametrize("sel,expect", [
        ("metadata.name=a", ["a"]), ("metadata.name==a", ["a"]),
        ("metadata.name!=a", ["b", "c", "d"]),
        ("metadata.name!=a,metadata.name!=b", ["c", "d"]),
        ("metadata.namespace={ns}", ["a", "b", "c", "d"]),
        ("metadata.namespace!={ns}", []),
    ])
    def test_field_selector(self, http, labelled, sel, expect):
        body = assert_ok(http.get(is_path(labelled),
                                  params={"fieldSelector": sel.format(ns=labelled)}), 200)
        assert names(body) == expect

    def test_field_selector_all_namespaces(self, http, labelled):
        body = assert_ok(http.get(f"{BASE}/imagestreams",
                                  params={"fieldSelector": f"metadata.namespace={labelled}"}), 200)
        assert names(body) == ["a", "b", "c", "d"]
        for item in body["items"]:
            assert item["metadata"]["namespace"] == labelled

    def test_field_selector_unsupported(self, http, labelled):
        r = http.get(is_path(labelled), params={"fieldSelector": "spec.foo=bar"})
        assert_status(r, 400, "BadRequest", contains="spec.foo")

    def test_field_selector_image_stream_fields(self, http, ns):
        http.create_is(ns, "r1", dockerImageRepository="a/b")
        http.create_is(ns, "r2")
        body = assert_ok(http.get(is_path(ns),
                                  params={"fieldSelector": "spec.dockerImageRepository=a/b"}), 200)
        assert names(body) == ["r1"]

    def test_limit_with_selector(self, http, labelled):
        p1 = assert_ok(http.get(is_path(labelled), params={"labelSelector": "app",
                                                          "limit": 2}), 200)
        got = names(p1)
        tok = p1["metadata"].get("continue")
        assert tok
        p2 = assert_ok(http.get(is_path(labelled), params={"labelSelector": "app", "limit": 2,
                                                          "continue": tok}), 200)
        assert got + names(p2) == ["a", "b", "c"]
        assert not p2["metadata"].get("continue")


# ======================================================================= watch

class TestWatch:
    def test_synthetic_added_then_changes(self, server, http, ns):
        seed(http, ns, "a", "b")
        w = Watch(server, is_path(ns) + "?watch=true&timeoutSeconds=20")
        try:
            assert w.status == 200
            assert w.headers.get("Content-Type", "").startswith("application/json")
            first = w.take(2)
            assert sorted(stream_names(first)) == ["a", "b"]
            for ev in first:
                assert ev["type"] == "ADDED"
                assert ev["object"]["kind"] == "ImageStream"
                assert ev["object"]["apiVersion"] == GV
            c = http.create_is(ns, "c")
            ev = w.next()
            assert (ev["type"], ev["object"]["metadata"]["name"]) == ("ADDED", "c")
            assert ev["object"]["metadata"]["resourceVersion"] == c["metadata"]["resourceVersion"]
            m = assert_ok(http.patch(is_path(ns, "c"), {"metadata": {"labels": {"k": "v"}}}))
            ev = w.next()
            assert ev["type"] == "MODIFIED"
            assert ev["object"]["metadata"]["resourceVersion"] == m["metadata"]["resourceVersion"]
            assert ev["object"]["metadata"]["labels"] == {"k": "v"}
            assert http.delete(is_path(ns, "c")).status_code == 200
            ev = w.next()
            assert ev["type"] == "DELETED" and ev["object"]["metadata"]["name"] == "c"
            assert int(ev["object"]["metadata"]["resourceVersion"]) > \
                int(m["metadata"]["resourceVersion"])
            assert ev["object"]["kind"] == "ImageStream"
        finally:
            w.close()

    def test_from_resource_version_only_later_events(self, server, http, ns):
        seed(http, ns, "old1", "old2")
        rv = assert_ok(http.get(is_path(ns)))["metadata"]["resourceVersion"]
        http.create_is(ns, "new")
        w = Watch(server, is_path(ns) + f"?watch=true&resourceVersion={rv}&timeoutSeconds=10")
        try:
            ev = w.next()
            assert (ev["type"], ev["object"]["metadata"]["name"]) == ("ADDED", "new")
            w.quiet(0.5)
        finally:
            w.close()

    @pytest.mark.parametrize("val", ["true", "True", "1", "t"])
    def test_watch_bool_forms(self, server, http, ns, val):
        seed(http, ns, "a")
        w = Watch(server, is_path(ns) + f"?watch={val}&timeoutSeconds=1")
        try:
            ev = w.next()
            assert ev["type"] == "ADDED" and ev["object"]["metadata"]["name"] == "a"
            assert w.next(timeout=5) is None  # closed by timeoutSeconds
        finally:
            w.close()

    def test_head_flushed_before_first_event(self, server, http, ns):
        """kube-apiserver writes the 200 head at once; clients block on it."""
        rv = assert_ok(http.get(is_path(ns)))["metadata"]["resourceVersion"]
        w = Watch(server, is_path(ns) + f"?watch=true&resourceVersion={rv}&timeoutSeconds=10")
        try:
            t0 = time.time()
            w.wait_head(timeout=5)
            assert w.status == 200
            assert time.time() - t0 < 3, "head only sent when the stream ended"
        finally:
            w.close()

    def test_timeout_seconds_closes(self, server, ns):
        w = Watch(server, is_path(ns) + "?watch=true&timeoutSeconds=1")
        try:
            t0 = time.time()
            assert w.wait_closed(6), "stream not closed after timeoutSeconds=1"
            assert time.time() - t0 < 5
        finally:
            w.close()

    def test_field_selector_on_watch(self, server, http, ns):
        seed(http, ns, "a", "b")
        w = Watch(server, is_path(ns) + "?watch=true&fieldSelector=metadata.name%3Da"
                  "&timeoutSeconds=15")
        try:
            assert stream_names(w.take(1)) == ["a"]
            http.patch(is_path(ns, "b"), {"metadata": {"labels": {"x": "1"}}})
            http.patch(is_path(ns, "a"), {"metadata": {"labels": {"x": "1"}}})
            ev = w.next()
            assert (ev["type"], ev["object"]["metadata"]["name"]) == ("MODIFIED", "a")
        finally:
            w.close()

    def test_label_selector_transitions(self, server, http, ns):
        seed(http, ns, ("a", {"app": "x"}))
        rv = assert_ok(http.get(is_path(ns)))["metadata"]["resourceVersion"]
        w = Watch(server, is_path(ns) + f"?watch=1&labelSelector=app%3Dx&resourceVersion={rv}"
                  "&timeoutSeconds=15")
        try:
            http.patch(is_path(ns, "a"), {"metadata": {"labels": {"app": "y"}}})
            ev = w.next()
            assert (ev["type"], ev["object"]["metadata"]["name"]) == ("DELETED", "a")
            http.patch(is_path(ns, "a"), {"metadata": {"labels": {"app": "x"}}})
            ev = w.next()
            assert (ev["type"], ev["object"]["metadata"]["name"]) == ("ADDED", "a")
        finally:
            w.close()

    def test_deprecated_watch_path(self, server, http, ns):
        seed(http, ns, "a")
        w = Watch(server, f"{BASE}/watch/namespaces/{ns}/imagestreams?timeoutSeconds=10")
        try:
            assert w.status == 200
            assert stream_names(w.take(1)) == ["a"]
            http.create_is(ns, "b")
            ev = w.next()
            assert (ev["type"], ev["object"]["metadata"]["name"]) == ("ADDED", "b")
        finally:
            w.close()

    @pytest.mark.parametrize("method", ["DELETE", "POST", "PUT", "PATCH"])
    def test_watch_path_only_watches(self, server, http, ns, method):
        """A /watch/ path with another method must not act on the collection (it once
        turned DELETE into a deletecollection)."""
        seed(http, ns, "a")
        r = http.req(method, f"{BASE}/watch/namespaces/{ns}/imagestreams/", data=b"{}",
                         headers={"Content-Type": "application/json"})
        assert r.status_code == 405
        assert r.json()["reason"] == "MethodNotAllowed"
        assert http.get(f"{BASE}/namespaces/{ns}/imagestreams/a").status_code == 200

    def test_watch_all_namespaces(self, server, http):
        ns1, ns2 = new_ns(), new_ns()
        rv = assert_ok(http.get(f"{BASE}/imagestreams?limit=1"))["metadata"]["resourceVersion"]
        w = Watch(server, f"{BASE}/imagestreams?watch=true&resourceVersion={rv}&timeoutSeconds=10")
        try:
            http.create_is(ns1, "a")
            http.create_is(ns2, "b")
            evs = w.until(lambda e: e["object"]["metadata"].get("namespace") == ns2)
            assert (ns1, "a") in [(e["object"]["metadata"].get("namespace"),
                                   e["object"]["metadata"]["name"]) for e in evs]
        finally:
            w.close()

    def test_table_watch(self, server, http, ns):
        seed(http, ns, "a")
        w = Watch(server, is_path(ns) + "?watch=true&timeoutSeconds=10",
                  headers={"Accept": TABLE_ACCEPT})
        try:
            ev = w.next()
            assert ev["type"] == "ADDED"
            t = ev["object"]
            assert t["kind"] == "Table" and t["columnDefinitions"]
            assert t["rows"][0]["cells"][0] == "a"
            assert t["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
            http.create_is(ns, "b")
            ev = w.next()
            assert ev["object"]["kind"] == "Table"
            assert not ev["object"].get("columnDefinitions")
            assert ev["object"]["rows"][0]["cells"][0] == "b"
        finally:
            w.close()

    def test_watch_image_cluster_scoped(self, server, http):
        name = uniq("wimg")
        rv = assert_ok(http.get(img_path() + "?limit=1"))["metadata"]["resourceVersion"]
        w = Watch(server, img_path() + f"?watch=true&resourceVersion={rv}&timeoutSeconds=10")
        try:
            assert_ok(http.post(img_path(), make_image(name)), 201)
            evs = w.until(lambda e: e["object"]["metadata"]["name"] == name)
            assert evs[-1]["type"] == "ADDED" and evs[-1]["object"]["kind"] == "Image"
        finally:
            w.close()


def _bookmark_flag(server):
    return "--watch-bookmark-interval" in server.help_text()


def _bookmark_check(srv, ns, wait):
    created = srv.http.create_is(ns, "a")
    rv = created["metadata"]["resourceVersion"]
    w = Watch(srv, is_path(ns) + f"?watch=true&allowWatchBookmarks=true&resourceVersion={rv}"
              f"&timeoutSeconds={wait + 5}", timeout=wait + 15)
    try:
        ev = w.until(lambda e: e["type"] == "BOOKMARK", timeout=wait)[-1]
        assert ev["object"]["kind"] == "ImageStream"
        assert ev["object"]["apiVersion"] == GV
        assert int(ev["object"]["metadata"]["resourceVersion"]) >= int(rv)
    finally:
        w.close()
    return rv


def test_watch_bookmark(server, server_factory, ns):
    """allowWatchBookmarks → a BOOKMARK with the current RV (second server with
    a 1 s bookmark period); none without allowWatchBookmarks."""
    if not _bookmark_flag(server):
        pytest.skip("no --watch-bookmark-interval flag (see test_watch_bookmark_default)")
    srv = server_factory("--watch-bookmark-interval", "1")
    rv = _bookmark_check(srv, ns, wait=10)
    w = Watch(srv, is_path(ns) + f"?watch=true&resourceVersion={rv}&timeoutSeconds=3")
    try:
        w.quiet(2.5)
    finally:
        w.close()


@pytest.mark.slow
def test_watch_bookmark_default(server, ns):
    """Only when the period cannot be configured: wait for the default
    (about once a minute) periodic BOOKMARK, up to 75 s."""
    if _bookmark_flag(server):
        pytest.skip("covered quickly by test_watch_bookmark")
    _bookmark_check(server, ns, wait=75)


# ------------------------------------------------------------- compaction (410)

@pytest.fixture
def compacting(server_factory):
    return server_factory("--compact-retain", "1", "--compact-interval", "1")


def _churn(srv, ns, n=30):
    for i in range(n):
        srv.http.patch(is_path(ns, "c0"), {"metadata": {"labels": {"i": str(i)}}})


def test_continue_after_compaction_expired(compacting, ns):
    h = compacting.http
    for i in range(3):
        h.create_is(ns, f"c{i}")
    p1 = assert_ok(h.get(is_path(ns) + "?limit=1"))
    tok = p1["metadata"]["continue"]
    _churn(compacting, ns)

    def expired():
        r = h.get(is_path(ns), params={"limit": 1, "continue": tok})
        return r if r.status_code == 410 else None
    r = wait_for(expired, timeout=10, interval=0.5, what="410 for a compacted continue token")
    assert_status(r, 410, "Expired")


def test_watch_too_old_resource_version(compacting, ns):
    h = compacting.http
    first = h.create_is(ns, "c0")
    old_rv = first["metadata"]["resourceVersion"]
    _churn(compacting, ns)
    # A running server may still serve old events from its in-memory window;
    # after a restart only the (compacted) store can replay them.
    time.sleep(2.5)
    compacting.restart()

    def error_event():
        w = Watch(compacting, is_path(ns) + f"?watch=true&resourceVersion={old_rv}"
                  "&timeoutSeconds=3")
        try:
            assert w.status == 200
            ev = w.next(timeout=5)
            return ev if ev and ev.get("type") == "ERROR" else None
        finally:
            w.close()
    ev = wait_for(error_event, timeout=10, interval=0.5, what="ERROR event for an old RV")
    st = ev["object"]
    assert st["kind"] == "Status" and st["code"] == 410 and st["reason"] == "Expired"
    assert st["status"] == "Failure"


# ======================================================================= writes

class TestDryRun:
    def test_post(self, http, ns):
        r = http.post(is_path(ns) + "?dryRun=All", make_is("d"))
        body = assert_ok(r, 201)
        assert body["metadata"]["name"] == "d"
        assert_status(http.get(is_path(ns, "d")), 404, "NotFound")

    def test_put(self, http, ns):
        obj = http.create_is(ns, "d")
        obj["metadata"]["labels"] = {"dry": "run"}
        body = assert_ok(http.put(is_path(ns, "d") + "?dryRun=All", obj), 200)
        assert body["metadata"]["labels"] == {"dry": "run"}
        live = http.get_is(ns, "d")
        assert "labels" not in live["metadata"]
        assert live["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"]

    def test_patch(self, http, ns):
        obj = http.create_is(ns, "d")
        body = assert_ok(http.patch(is_path(ns, "d") + "?dryRun=All",
                                    {"metadata": {"labels": {"dry": "run"}}}), 200)
        assert body["metadata"]["labels"] == {"dry": "run"}
        live = http.get_is(ns, "d")
        assert live["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"]

    def test_delete_body(self, http, ns):
        http.create_is(ns, "d")
        r = http.delete(is_path(ns, "d"), {"propagationPolicy": "Background", "dryRun": ["All"]})
        assert r.status_code == 200, r.text
        http.get_is(ns, "d")

    def test_invalid_value(self, http, ns):
        r = http.post(is_path(ns) + "?dryRun=Bogus", make_is("d"))
        assert r.status_code in (400, 422) and r.json()["kind"] == "Status"
        assert_status(http.get(is_path(ns, "d")), 404, "NotFound")


UNKNOWN = {"apiVersion": GV, "kind": "ImageStream", "metadata": {"name": "u"},
           "spec": {"foo": "bar", "lookupPolicy": {"local": False}}}
STRICT_MSG = ('ImageStream in version "v1" cannot be handled as a ImageStream: '
              'strict decoding error: unknown field "spec.foo"')


class TestFieldValidation:
    def test_strict(self, http, ns):
        r = http.post(is_path(ns) + "?fieldValidation=Strict", UNKNOWN)
        assert_status(r, 400, "BadRequest", message=STRICT_MSG)
        assert_status(http.get(is_path(ns, "u")), 404, "NotFound")

    def test_warn(self, http, ns):
        r = http.post(is_path(ns) + "?fieldValidation=Warn", UNKNOWN)
        body = assert_ok(r, 201)
        assert r.headers.get("Warning") == '299 - "unknown field \\"spec.foo\\""'
        assert "foo" not in body["spec"]
        assert "foo" not in http.get_is(ns, "u")["spec"]

    def test_default_is_warn(self, http, ns):
        r = http.post(is_path(ns), UNKNOWN)
        assert_ok(r, 201)
        assert 'unknown field \\"spec.foo\\"' in r.headers.get("Warning", "")

    def test_ignore(self, http, ns):
        r = http.post(is_path(ns) + "?fieldValidation=Ignore", UNKNOWN)
        body = assert_ok(r, 201)
        assert "Warning" not in r.headers
        assert "foo" not in body["spec"]

    def test_strict_on_put_and_patch(self, http, ns):
        obj = http.create_is(ns, "u")
        obj["spec"]["foo"] = 1
        r = http.put(is_path(ns, "u") + "?fieldValidation=Strict", obj)
        assert_status(r, 400, "BadRequest", contains='unknown field "spec.foo"')
        r = http.patch(is_path(ns, "u") + "?fieldValidation=Strict", {"spec": {"foo": 1}})
        assert_status(r, 400, "BadRequest", contains='unknown field "spec.foo"')

    def test_duplicate_field(self, http, ns):
        raw = ('{"apiVersion":"image.openshift.io/v1","kind":"ImageStream",'
               '"metadata":{"name":"dup","name":"dup"},"spec":{}}')
        h = {"Content-Type": "application/json"}
        r = http.req("POST", is_path(ns) + "?fieldValidation=Strict", data=raw, headers=h)
        assert_status(r, 400, "BadRequest", contains='duplicate field "metadata.name"')
        r = http.req("POST", is_path(ns) + "?fieldValidation=Warn", data=raw, headers=h)
        assert_ok(r, 201)
        assert 'duplicate field \\"metadata.name\\"' in r.headers.get("Warning", "")

    def test_invalid_value(self, http, ns):
        r = http.post(is_path(ns) + "?fieldValidation=Bogus", make_is("u"))
        assert r.status_code == 400 and r.json()["kind"] == "Status"


class TestWriteOptions:
    def test_field_manager_recorded(self, http, ns):
        body = assert_ok(http.post(is_path(ns) + "?fieldManager=e2e-mgr", make_is("f")), 201)
        mgrs = {(m["manager"], m["operation"]) for m in body["metadata"]["managedFields"]}
        assert ("e2e-mgr", "Update") in mgrs
        body = assert_ok(http.patch(is_path(ns, "f") + "?fieldManager=other",
                                    {"metadata": {"labels": {"a": "b"}}}))
        entries = {m["manager"]: m for m in body["metadata"]["managedFields"]}
        assert "other" in entries and entries["other"]["fieldsType"] == "FieldsV1"
        assert "f:labels" in json.dumps(entries["other"]["fieldsV1"])

    @pytest.mark.parametrize("how", ["query", "body"])
    def test_grace_period_accepted(self, http, ns, how):
        http.create_is(ns, "g")
        if how == "query":
            r = http.delete(is_path(ns, "g") + "?gracePeriodSeconds=0")
        else:
            r = http.delete(is_path(ns, "g"), {"gracePeriodSeconds": 5,
                                               "propagationPolicy": "Orphan"})
        assert r.status_code == 200, r.text
        assert_status(http.get(is_path(ns, "g")), 404, "NotFound")

    @pytest.mark.parametrize("policy", ["Background", "Foreground", "Orphan"])
    def test_propagation_policies_delete(self, http, ns, policy):
        http.create_is(ns, "p")
        r = http.delete(is_path(ns, "p"), {"propagationPolicy": policy})
        assert r.status_code == 200, r.text
        assert_status(http.get(is_path(ns, "p")), 404, "NotFound")

    def test_propagation_and_orphan_together(self, http, ns):
        http.create_is(ns, "p")
        r = http.delete(is_path(ns, "p"), {"propagationPolicy": "Background",
                                           "orphanDependents": False})
        assert_status(r, 422, "Invalid")
        http.get_is(ns, "p")

    def test_delete_response(self, http, ns):
        created = http.create_is(ns, "del")
        r = http.delete(is_path(ns, "del"))  # no body, like the Python client
        body = assert_ok(r, 200)
        if body["kind"] == "Status":
            assert body["status"] == "Success"
            assert body["details"]["name"] == "del"
            assert body["details"]["kind"] == "imagestreams"
            assert body["details"]["uid"] == created["metadata"]["uid"]
        else:
            assert body["kind"] == "ImageStream"
        assert_status(http.delete(is_path(ns, "del")), 404, "NotFound",
                      message='imagestreams.image.openshift.io "del" not found')

    def test_delete_preconditions(self, http, ns):
        obj = http.create_is(ns, "pc")
        r = http.delete(is_path(ns, "pc"), {"preconditions": {"uid": "wrong-uid"}})
        assert_status(r, 409, "Conflict", message=(
            'Operation cannot be fulfilled on imagestreams.image.openshift.io "pc": Precondition failed: '
            f'UID in precondition: wrong-uid, UID in object meta: {obj["metadata"]["uid"]}'))
        rv = obj["metadata"]["resourceVersion"]
        stale = str(int(rv) + 1)  # any other version (on a fresh store rv itself may be "1")
        r = http.delete(is_path(ns, "pc"), {"preconditions": {"resourceVersion": stale}})
        assert_status(r, 409, "Conflict", message=(
            'Operation cannot be fulfilled on imagestreams.image.openshift.io "pc": Precondition failed: '
            f'ResourceVersion in precondition: {stale}, ResourceVersion in object meta: {rv}'))
        http.get_is(ns, "pc")
        r = http.delete(is_path(ns, "pc"), {"preconditions": {
            "uid": obj["metadata"]["uid"], "resourceVersion": obj["metadata"]["resourceVersion"]}})
        assert r.status_code == 200, r.text

    def test_generate_name(self, http, ns):
        body = {"apiVersion": GV, "kind": "ImageStream", "metadata": {"generateName": "gen"},
                "spec": {}}
        a = assert_ok(http.post(is_path(ns), body), 201)["metadata"]["name"]
        b = assert_ok(http.post(is_path(ns), body), 201)["metadata"]["name"]
        assert a != b
        for n in (a, b):
            assert n.startswith("gen") and len(n) == 8
            assert all(ch in "bcdfghjklmnpqrstvwxz2456789" for ch in n[3:])
            http.get_is(ns, n)

    def test_finalizers_and_deletion_timestamp(self, http, ns):
        body = make_is("fin")
        body["metadata"]["finalizers"] = ["example.com/hold"]
        assert_ok(http.post(is_path(ns), body), 201)
        r = http.delete(is_path(ns, "fin"))
        assert r.status_code in (200, 202), r.text
        got = r.json()
        assert got["kind"] == "ImageStream"
        assert got["metadata"].get("deletionTimestamp")
        live = http.get_is(ns, "fin")
        assert live["metadata"]["deletionTimestamp"]
        assert live["metadata"]["finalizers"] == ["example.com/hold"]
        # a second delete keeps it pending
        assert http.delete(is_path(ns, "fin")).status_code in (200, 202)
        http.get_is(ns, "fin")
        assert_ok(http.patch(is_path(ns, "fin"), {"metadata": {"finalizers": None}}))
        wait_for(lambda: http.get(is_path(ns, "fin")).status_code == 404, timeout=5,
                 what="object gone after finalizer removal")

    def test_patch_content_types(self, http, ns):
        http.create_is(ns, "p", tags={"a": "busybox"})
        r = http.patch(is_path(ns, "p"), {"metadata": {"labels": {"m": "1"}}}, MERGE)
        assert assert_ok(r)["metadata"]["labels"] == {"m": "1"}
        r = http.patch(is_path(ns, "p"), [{"op": "add", "path": "/metadata/labels/j",
                                           "value": "2"}], JSONPATCH)
        assert assert_ok(r)["metadata"]["labels"] == {"m": "1", "j": "2"}
        r = http.patch(is_path(ns, "p"), {"spec": {"tags": [
            {"name": "b", "from": {"kind": "DockerImage", "name": "busybox:1"}}]}}, SMP)
        assert [t["name"] for t in assert_ok(r)["spec"]["tags"]] == ["a", "b"]
        # merge patch replaces the list wholesale
        r = http.patch(is_path(ns, "p"), {"spec": {"tags": [
            {"name": "c", "from": {"kind": "DockerImage", "name": "busybox:2"}}]}}, MERGE)
        assert [t["name"] for t in assert_ok(r)["spec"]["tags"]] == ["c"]
        yaml_body = ("apiVersion: image.openshift.io/v1\nkind: ImageStream\n"
                     f"metadata:\n  name: p\n  namespace: {ns}\n  labels:\n    s: \"3\"\n")
        r = http.patch(is_path(ns, "p") + "?fieldManager=e2e-apply", yaml_body, APPLY)
        body = assert_ok(r, 200)
        assert body["metadata"]["labels"]["s"] == "3"
        mgrs = {(m["manager"], m["operation"]) for m in body["metadata"]["managedFields"]}
        assert ("e2e-apply", "Apply") in mgrs

    def test_smp_directives(self, http, ns):
        http.create_is(ns, "p", tags={"a": "busybox", "b": "busybox:1"})
        body = {"spec": {"$setElementOrder/tags": [{"name": "c"}, {"name": "a"}],
                         "tags": [{"name": "c", "from": {"kind": "DockerImage",
                                                         "name": "busybox:3"}},
                                  {"$patch": "delete", "name": "b"}]}}
        r = http.patch(is_path(ns, "p"), body, SMP)
        assert sorted(t["name"] for t in assert_ok(r)["spec"]["tags"]) == ["a", "c"]

    def test_apply_creates_and_requires_field_manager(self, http, ns):
        doc = json.dumps(make_is("ap", ns=ns))
        assert_status(http.patch(is_path(ns, "ap"), doc, APPLY), 400, "BadRequest",
                      contains="fieldManager")
        r = http.patch(is_path(ns, "ap") + "?fieldManager=e2e&force=false", doc, APPLY)
        assert r.status_code == 201, r.text
        r = http.patch(is_path(ns, "ap") + "?fieldManager=e2e&force=false", doc, APPLY)
        assert r.status_code == 200, r.text

    def test_apply_conflict(self, http, ns):
        http.create_is(ns, "ac")
        http.patch(is_path(ns, "ac") + "?fieldManager=one",
                   {"spec": {"lookupPolicy": {"local": True}}})
        doc = json.dumps({"apiVersion": GV, "kind": "ImageStream",
                          "metadata": {"name": "ac", "namespace": ns},
                          "spec": {"lookupPolicy": {"local": False}}})
        r = http.patch(is_path(ns, "ac") + "?fieldManager=two&force=false", doc, APPLY)
        body = assert_status(r, 409, "Conflict", contains="Apply failed with 1 conflict")
        assert body["details"]["causes"][0]["reason"] == "FieldManagerConflict"
        assert body["details"]["causes"][0]["field"] == ".spec.lookupPolicy.local"
        r = http.patch(is_path(ns, "ac") + "?fieldManager=two&force=true", doc, APPLY)
        assert assert_ok(r)["spec"]["lookupPolicy"]["local"] is False

    def test_patch_unsupported_content_type(self, http, ns):
        http.create_is(ns, "p")
        r = http.patch(is_path(ns, "p"), '{"metadata":{}}', "text/plain")
        assert_status(r, 415, "UnsupportedMediaType")

    def test_json_patch_failures(self, http, ns):
        obj = http.create_is(ns, "p")
        r = http.patch(is_path(ns, "p"), [{"op": "remove", "path": "/spec/nothere"}], JSONPATCH)
        assert_status(r, 422, "Invalid")
        r = http.patch(is_path(ns, "p"), [{"op": "test", "path": "/metadata/name",
                                           "value": "other"}], JSONPATCH)
        assert r.status_code == 422 and r.json()["kind"] == "Status"
        r = http.patch(is_path(ns, "p"), [{"op": "replace", "path": "/metadata/resourceVersion",
                                           "value": "1"}], JSONPATCH)
        assert_status(r, 409, "Conflict")
        live = http.get_is(ns, "p")
        assert live["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"]

    def test_noop_patch_keeps_resource_version(self, http, ns):
        obj = http.create_is(ns, "p", labels={"a": "b"})
        r = assert_ok(http.patch(is_path(ns, "p"), {"metadata": {"labels": {"a": "b"}}}))
        assert r["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"]
        assert r["metadata"]["generation"] == obj["metadata"]["generation"]

    def test_put_stale_resource_version(self, http, ns):
        obj = http.create_is(ns, "foo")
        http.patch(is_path(ns, "foo"), {"metadata": {"labels": {"x": "1"}}})
        obj["metadata"]["labels"] = {"y": "2"}
        r = http.put(is_path(ns, "foo"), obj)
        assert_status(r, 409, "Conflict", message=(
            'Operation cannot be fulfilled on imagestreams.image.openshift.io "foo": the object '
            'has been modified; please apply your changes to the latest version and try again'))

    def test_put_without_resource_version(self, http, ns):
        obj = http.create_is(ns, "foo")
        del obj["metadata"]["resourceVersion"]
        body = assert_status(http.put(is_path(ns, "foo"), obj), 422, "Invalid", message=(
            'imagestreams.image.openshift.io "foo" is invalid: metadata.resourceVersion: '
            'Invalid value: 0: must be specified for an update'))
        assert body["details"]["kind"] == "imagestreams"
        assert body["details"]["name"] == "foo"

    def test_put_missing_object(self, http, ns):
        obj = make_is("ghost")
        obj["metadata"]["resourceVersion"] = "5"
        assert_status(http.put(is_path(ns, "ghost"), obj), 404, "NotFound")

    def test_create_existing(self, http, ns):
        http.create_is(ns, "foo")
        body = assert_status(http.post(is_path(ns), make_is("foo")), 409, "AlreadyExists",
                             message='imagestreams.image.openshift.io "foo" already exists')
        assert body["details"] == {"name": "foo", "group": G_NAME, "kind": "imagestreams"}

    def test_get_missing(self, http, ns):
        body = assert_status(http.get(is_path(ns, "nothere")), 404, "NotFound",
                             message='imagestreams.image.openshift.io "nothere" not found')
        assert body["details"] == {"name": "nothere", "group": G_NAME, "kind": "imagestreams"}

    def test_create_with_resource_version(self, http, ns):
        body = make_is("withrv")
        body["metadata"]["resourceVersion"] = "5"
        assert_status(http.post(is_path(ns), body), 400, "BadRequest",
                      message="resourceVersion should not be set on objects to be created")
        assert_status(http.get(is_path(ns, "withrv")), 404, "NotFound")

    def test_namespace_mismatch(self, http, ns):
        r = http.post(is_path(ns), make_is("foo", ns="someother"))
        assert_status(r, 400, "BadRequest", message=(
            "the namespace of the provided object does not match the namespace sent on the request"))

    @pytest.mark.parametrize("field,value", [("kind", "Image"), ("kind", "Nope"),
                                             ("apiVersion", "v1"),
                                             ("apiVersion", "image.openshift.io/v2")])
    def test_wrong_type_meta(self, http, ns, field, value):
        body = make_is("foo")
        body[field] = value
        assert_status(http.post(is_path(ns), body), 400, "BadRequest")

    def test_missing_name(self, http, ns):
        body = make_is("x")
        del body["metadata"]["name"]
        b = assert_status(http.post(is_path(ns), body), 422, "Invalid",
                          contains="metadata.name: Required value: name or generateName is required")
        assert b["details"]["kind"] == "ImageStream"

    def test_type_meta_on_every_single_object_response(self, http, ns):
        def tm(r, code=200):
            b = assert_ok(r, code)
            assert (b["kind"], b["apiVersion"]) == ("ImageStream", GV), b
            return b
        body = make_is("tm")
        body["metadata"]["finalizers"] = ["example.com/x"]
        cur = tm(http.post(is_path(ns), body), 201)
        tm(http.get(is_path(ns, "tm")))
        tm(http.get(is_path(ns, "tm", "status")))
        cur = tm(http.put(is_path(ns, "tm"), cur))
        tm(http.patch(is_path(ns, "tm"), {"metadata": {"labels": {"a": "b"}}}))
        tm(http.patch(is_path(ns, "tm", "status"), {"metadata": {"labels": {"c": "d"}}}))
        r = http.delete(is_path(ns, "tm"))
        tm(r, r.status_code if r.status_code in (200, 202) else 202)
        http.patch(is_path(ns, "tm"), {"metadata": {"finalizers": None}})

    def test_keep_alive_after_chunked_body(self, server, ns):
        """The server consumes chunked bodies completely: the next request on the
        same connection is answered correctly."""
        import http.client as hc
        conn = hc.HTTPConnection("127.0.0.1", server.port, timeout=10)
        try:
            body = json.dumps(make_is("ka1")).encode()
            conn.request("POST", is_path(ns), body=iter([body[:10], body[10:]]),
                         headers={"Content-Type": "application/json"}, encode_chunked=True)
            r = conn.getresponse()
            assert r.status == 201, r.read()
            r.read()
            conn.request("POST", is_path(ns), body=b"{bad json",
                         headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            assert r.status == 400
            r.read()
            conn.request("GET", is_path(ns, "ka1"))
            r = conn.getresponse()
            assert r.status == 200 and json.loads(r.read())["metadata"]["name"] == "ka1"
        finally:
            conn.close()

    def test_delete_collection(self, http, ns):
        seed(http, ns, ("a", {"app": "x"}), ("b", {"app": "x"}), "c")
        r = http.delete(is_path(ns) + "?labelSelector=app%3Dx")
        assert r.status_code == 200, r.text
        assert names(assert_ok(http.get(is_path(ns)))) == ["c"]

    def test_chunked_body_without_content_type(self, http, ns):
        body = json.dumps(make_is("chunky", ns=ns)).encode()
        st, hdrs, data = http.raw("POST", is_path(ns), body,
                                  headers={"Accept": "application/json, */*"}, chunked=True)
        assert st == 201, data
        assert json.loads(data)["metadata"]["name"] == "chunky"
        http.get_is(ns, "chunky")

    def test_no_body_delete_with_content_type(self, http, ns):
        http.create_is(ns, "nb")
        st, _, data = http.raw("DELETE", is_path(ns, "nb"),
                               headers={"Content-Type": "application/json",
                                        "Accept": "application/json"})
        assert st == 200, data

    @pytest.mark.parametrize("chunked", [False, True])
    def test_body_too_large(self, http, ns, chunked):
        big = b'{"a":"' + b"x" * (3 * 1024 * 1024 + 1 - 8) + b'"}'
        assert len(big) == 3 * 1024 * 1024 + 1
        try:
            st, hdrs, data = http.raw("POST", is_path(ns), big, chunked=chunked,
                                      headers={"Content-Type": "application/json"})
        except (BrokenPipeError, ConnectionResetError) as e:
            pytest.fail(f"server dropped the connection instead of answering 413: {e!r}")
        assert st == 413, data[:300]
        body = json.loads(data)
        assert body["kind"] == "Status" and body["code"] == 413
        assert body["reason"] == "RequestEntityTooLarge"
        assert http.get("/readyz").status_code == 200

    def test_large_body_below_limit(self, http):
        """A 1 MiB body is read completely and accepted (an Image whose
        unparsable manifest is only logged)."""
        name = uniq("big")
        body = make_image(name, dockerImageManifest="x" * (1024 * 1024))
        r = http.post(img_path(), body)
        assert r.status_code == 201, r.text[:300]
        assert len(assert_ok(http.get(img_path(name)))["dockerImageManifest"]) == 1024 * 1024
        assert http.delete(img_path(name)).status_code == 200

    @pytest.mark.parametrize("raw", [b'{"apiVersion": "image.openshift.io/v1", "kind":',
                                     b"not json", b"[1,2,3]"])
    def test_malformed_json(self, http, ns, raw):
        r = http.req("POST", is_path(ns), data=raw, headers={"Content-Type": "application/json"})
        assert_status(r, 400, "BadRequest")
        assert http.get("/readyz").status_code == 200
        http.create_is(ns, "after")

    def test_unknown_resource_and_method(self, http, ns):
        r = http.get(f"{BASE}/namespaces/{ns}/nosuchthings")
        assert r.status_code == 404
        r = http.req("POST", is_path(ns, "x"), json=make_is("x"))
        assert r.status_code == 405 and r.json()["reason"] == "MethodNotAllowed"


# ======================================================================= Table & metadata

class TestTable:
    def test_list_table(self, http, ns):
        seed(http, ns, ("a", {"app": "x"}), "b")
        r = http.get(is_path(ns) + "?limit=500", headers={"Accept": TABLE_ACCEPT})
        t = assert_ok(r)
        assert t["kind"] == "Table" and t["apiVersion"] == "meta.k8s.io/v1"
        assert [c["name"] for c in t["columnDefinitions"]] == \
            ["Name", "Image Repository", "Tags", "Updated"]
        assert t["columnDefinitions"][0]["format"] == "name"
        assert t["metadata"]["resourceVersion"]
        rows = {row["cells"][0]: row for row in t["rows"]}
        assert sorted(rows) == ["a", "b"]
        obj = rows["a"]["object"]
        assert obj["kind"] == "PartialObjectMetadata"
        assert obj["apiVersion"] == "meta.k8s.io/v1"
        assert obj["metadata"]["namespace"] == ns
        assert obj["metadata"]["labels"] == {"app": "x"}
        assert "spec" not in obj

    def test_include_object(self, http, ns):
        seed(http, ns, "a")
        t = assert_ok(http.get(is_path(ns) + "?includeObject=Object",
                               headers={"Accept": TABLE_ACCEPT}))
        assert t["rows"][0]["object"]["kind"] == "ImageStream"
        assert "spec" in t["rows"][0]["object"]
        t = assert_ok(http.get(is_path(ns) + "?includeObject=None",
                               headers={"Accept": TABLE_ACCEPT}))
        assert t["rows"][0].get("object") is None

    def test_single_object_table(self, http, ns):
        seed(http, ns, "a")
        t = assert_ok(http.get(is_path(ns, "a"), headers={"Accept": TABLE_ACCEPT}))
        assert t["kind"] == "Table" and len(t["rows"]) == 1
        assert t["rows"][0]["cells"][0] == "a"

    def test_table_pagination(self, http, ns):
        seed(http, ns, "a", "b", "c")
        t = assert_ok(http.get(is_path(ns) + "?limit=2", headers={"Accept": TABLE_ACCEPT}))
        assert len(t["rows"]) == 2 and t["metadata"]["continue"]

    def test_cells_tags_and_updated(self, http, ns):
        http.create_is(ns, "ref", tags=[is_tag("v1", ref="a/b:1", reference=True),
                                        is_tag("latest", ref="a/b:2", reference=True),
                                        is_tag("noevent", ref="a/b:3")])
        t = assert_ok(http.get(is_path(ns, "ref"), headers={"Accept": TABLE_ACCEPT}))
        name, repo, tags, updated = t["rows"][0]["cells"]
        assert (name, repo) == ("ref", "")
        assert tags == "latest,v1"  # same second: by name; tags without events are absent
        assert updated.endswith(" ago") or updated == "Less than a second ago", updated

    def test_is26_tags_cell_truncated(self, http, ns):
        tags = [is_tag(f"tag{i:02d}", ref=f"a/b:{i}", reference=True) for i in range(12)]
        http.create_is(ns, "many", tags=tags)
        t = assert_ok(http.get(is_path(ns, "many"), headers={"Accept": TABLE_ACCEPT}))
        assert t["rows"][0]["cells"][2] == \
            "tag00,tag01,tag02,tag03,tag04,tag05 + 6 more..."

    def test_image_table(self, http):
        name = uniq("timg")
        assert_ok(http.post(img_path(), make_image(name, ref="quay.io/x/y:1")), 201)
        t = assert_ok(http.get(img_path(name), headers={"Accept": TABLE_ACCEPT}))
        assert [c["name"] for c in t["columnDefinitions"]] == ["Name", "Image Reference"]
        assert t["rows"][0]["cells"] == [name, "quay.io/x/y:1"]

    def test_partial_object_metadata(self, http, ns):
        seed(http, ns, ("a", {"app": "x"}), "b")
        acc = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"
        body = assert_ok(http.get(is_path(ns, "a"), headers={"Accept": acc}))
        assert body["kind"] == "PartialObjectMetadata"
        assert body["apiVersion"] == "meta.k8s.io/v1"
        assert body["metadata"]["labels"] == {"app": "x"} and "spec" not in body
        acc = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
        body = assert_ok(http.get(is_path(ns), headers={"Accept": acc}))
        assert body["kind"] == "PartialObjectMetadataList"
        assert body["metadata"]["resourceVersion"]
        assert sorted(i["metadata"]["name"] for i in body["items"]) == ["a", "b"]
        assert body["items"][0]["kind"] == "PartialObjectMetadata"


# ======================================================================= ImageStream cases

def is_tag(name, kind="DockerImage", ref="busybox", **kw):
    t = {"name": name, "from": {"kind": kind, "name": ref}}
    t.update(kw)
    return t


def invalid(http, ns, body, contains, kind="ImageStream"):
    r = http.post(is_path(ns), body)
    b = assert_status(r, 422, "Invalid", contains=contains)
    assert b["details"]["kind"] == kind
    return b


class TestImageStream:
    def test_is1_create_defaults(self, http, ns):
        body = make_is("foo", tags=[is_tag("latest")])
        body["status"] = {"tags": [{"tag": "x", "items": [
            {"created": "2020-01-01T00:00:00Z", "dockerImageReference": "a/b:c",
             "image": "sha256:" + A64, "generation": 1}]}]}
        got = assert_ok(http.post(is_path(ns), body), 201)
        assert got["kind"] == "ImageStream" and got["apiVersion"] == GV
        md = got["metadata"]
        assert md["generation"] == 1 and md["uid"] and md["resourceVersion"]
        assert md["creationTimestamp"].endswith("Z") and md["namespace"] == ns
        assert got["spec"]["tags"][0] == {
            "name": "latest", "annotations": None,
            "from": {"kind": "DockerImage", "name": "busybox"}, "generation": 1,
            "importPolicy": {"importMode": "Legacy"}, "referencePolicy": {"type": "Source"}}
        assert got["spec"]["lookupPolicy"] == {"local": False}
        assert got["status"] == {"dockerImageRepository": ""}
        assert http.get_is(ns, "foo") == got

    def test_is2_repository_without_hostname(self, http, ns):
        got = http.create_is(ns, "foo", dockerImageRepository="a/b")
        assert got["status"]["dockerImageRepository"] == "a/b"
        assert "publicDockerImageRepository" not in got["status"]

    def test_is2_is22_with_hostnames(self, server_factory):
        srv = server_factory("--registry-hostname", "registry:5000",
                             "--public-registry-hostname", "pub.example")
        h, ns = srv.http, "ns"
        got = h.create_is(ns, "foo", dockerImageRepository="a/b")
        assert got["status"]["dockerImageRepository"] == "registry:5000/ns/foo"
        assert got["status"]["publicDockerImageRepository"] == "pub.example/ns/foo"
        assert h.get_is(ns, "foo")["status"]["dockerImageRepository"] == "registry:5000/ns/foo"
        listed = assert_ok(h.get(is_path(ns)))["items"][0]
        assert listed["status"]["dockerImageRepository"] == "registry:5000/ns/foo"
        t = assert_ok(h.get(is_path(ns), headers={"Accept": TABLE_ACCEPT}))
        assert t["rows"][0]["cells"][1] == "pub.example/ns/foo"
        # IS-22: /status stores the value verbatim; the main resource recomputes it
        cur = h.get_is(ns, "foo")
        cur["status"]["dockerImageRepository"] = "junk"
        st = assert_ok(h.put(is_path(ns, "foo", "status"), cur), 200)
        assert st["status"]["dockerImageRepository"] == "junk"
        assert assert_ok(h.get(is_path(ns, "foo", "status")))["status"][
            "dockerImageRepository"] == "junk"
        assert h.get_is(ns, "foo")["status"]["dockerImageRepository"] == "registry:5000/ns/foo"

    @pytest.mark.parametrize("name,msg", [
        ("foo bar", 'metadata.name: Invalid value: "foo bar": must match '
                    '"[a-z0-9]+(?:[._-][a-z0-9]+)*"'),
        ("Foo", 'metadata.name: Invalid value: "Foo"'),
        ("a--b", 'metadata.name: Invalid value: "a--b"'),
    ])
    def test_is3_bad_names(self, http, ns, name, msg):
        invalid(http, ns, make_is(name), msg)

    def test_is3_slash_name(self, http, ns):
        b = invalid(http, ns, make_is("foo/bar"), "may not contain '/'")
        assert "must match" not in b["message"]

    def test_is3_good_names(self, http):
        assert_ok(http.post(is_path("f"), make_is("g")), 201)
        http.delete(is_path("f", "g"))
        ns = new_ns()
        http.create_is(ns, "abcdefghijklmnopqrstuvwxyz-1234567890.dot_underscore-dash")

    def test_is3_generate_name_prefix(self, http, ns):
        body = {"apiVersion": GV, "kind": "ImageStream", "metadata": {"generateName": "foo-"}}
        invalid(http, ns, body, 'metadata.generateName: Invalid value: "foo-": must match')

    def test_is4_name_length(self, http):
        ns = "a" * 63
        assert_ok(http.post(is_path(ns), make_is("b" * 191)), 201)
        http.delete(is_path(ns, "b" * 191))
        long = "b" * 192
        invalid(http, ns, make_is(long), f'metadata.name: Invalid value: "{long}": '
                "'namespace/name' cannot be longer than 255 characters")

    def test_bad_namespace(self, http):
        r = http.post(is_path("Bad_NS"), make_is("x"))
        assert r.status_code in (400, 404, 422), r.text
        assert r.json()["kind"] == "Status"

    @pytest.mark.parametrize("repo,msg", [
        ("a-|///bbb", 'spec.dockerImageRepository: Invalid value: "a-|///bbb": '
                      "invalid reference format"),
        ("a/b:tag", 'spec.dockerImageRepository: Invalid value: "a/b:tag": '
                    "the repository name may not contain a tag"),
        ("a/b@sha256:something", 'spec.dockerImageRepository: Invalid value: '
                                 '"a/b@sha256:something": invalid reference format'),
    ])
    def test_is5_docker_image_repository(self, http, ns, repo, msg):
        invalid(http, ns, make_is("foo", dockerImageRepository=repo), msg)

    def test_is6_reference_policy(self, http, ns):
        invalid(http, ns, make_is("foo", tags=[is_tag("tag", referencePolicy={"type": "Other"})]),
                'spec.tags[tag].referencePolicy.type: Invalid value: "Other": '
                'valid values are "Source", "Local"')

    def test_is7_scheduled_only_docker(self, http, ns):
        invalid(http, ns, make_is("foo", tags=[is_tag("other", "ImageStreamTag", "other:latest",
                                                      importPolicy={"scheduled": True})]),
                "spec.tags[other].importPolicy.scheduled: Invalid value: true: only tags "
                "pointing to Docker repositories may be scheduled for background import")
        http.create_is(ns, "ok", tags=[is_tag("other", importPolicy={"scheduled": True})])

    def test_is8_bad_reference(self, http, ns):
        invalid(http, ns, make_is("foo", tags=[is_tag("badid", ref="abc@badid")]),
                'spec.tags[badid].from.name: Invalid value: "abc@badid": invalid reference format')

    def test_is9_import_mode(self, http, ns):
        invalid(http, ns, make_is("foo", tags=[is_tag("tag", importPolicy={
            "importMode": "Invalid"})]),
            'spec.tags[tag].importPolicy.importMode: Invalid value: "Invalid": invalid import '
            "mode, valid modes are '', 'Legacy', 'PreserveOriginal'")
        got = http.create_is(ns, "foo", tags=[is_tag("tag", importPolicy={
            "importMode": "PreserveOriginal"})])
        assert got["spec"]["tags"][0]["importPolicy"]["importMode"] == "PreserveOriginal"

    def test_is10_empty_kind(self, http, ns):
        b = invalid(http, ns, make_is("foo", tags=[is_tag("t", kind="", ref="foo/bar:biz")]),
                    "spec.tags[t].from.kind: Required value: valid values are 'DockerImage', "
                    "'ImageStreamImage', 'ImageStreamTag'")
        assert ('spec.tags[t].from.name: Invalid value: "foo/bar:biz": must be of the form '
                "<tag>, <repo>:<tag>, <id>, or <repo>@<id>") in b["message"]
        assert len(b["details"]["causes"]) == 2

    def test_is11_wrapped_internal_error(self, http, ns):
        b = invalid(http, ns, make_is("foo", tags=[is_tag("latest", "ImageStreamTag", "a:b:c")]),
                    'is invalid: : Internal error: imagestreams "foo" is invalid: '
                    'spec.tags[latest].from.name: Invalid value: "a:b:c": must be of the form '
                    "<tag>, <repo>:<tag>, <id>, or <repo>@<id>")
        cause = b["details"]["causes"][0]
        assert cause["reason"] == "InternalError" and "field" not in cause

    def test_is12_reference_and_tracking(self, http, ns):
        got = http.create_is(ns, "stream", tags=[
            is_tag("t1", ref="registry:5000/ns/stream:t1", reference=True),
            is_tag("t2", "ImageStreamTag", "t1")])
        st = {t["tag"]: t["items"] for t in got["status"]["tags"]}
        for tag in ("t1", "t2"):
            assert len(st[tag]) == 1
            item = st[tag][0]
            assert item["dockerImageReference"] == "registry:5000/ns/stream:t1"
            assert item["image"] == "" and item["generation"] == 1

    def test_is13_is14_unresolved_references(self, http, ns):
        got = http.create_is(ns, "stream", tags=[is_tag("t1", "ImageStreamTag", "missing")])
        assert "tags" not in got["status"]
        zero = "sha256:" + "0" * 64
        invalid(http, ns, make_is("stream2", tags=[is_tag("t1", "ImageStreamImage",
                                                          f"stream2@{zero}")]),
                f'spec.tags[t1].from.name: Invalid value: "stream2@{zero}": error generating '
                f'tag event: imagestreamimage.image.openshift.io "{zero}" not found')
        invalid(http, ns, make_is("stream3", tags=[is_tag("t1", "ImageStreamTag", "nosuch:tag")]),
                'spec.tags[t1].from.name: Not found: "nosuch:tag"')

    def test_is16_generation_rules(self, http, ns):
        def gens(o):
            return o["metadata"]["generation"], {t["name"]: t["generation"]
                                                 for t in o["spec"]["tags"]}

        def put(o):
            return assert_ok(http.put(is_path(ns, "gen"), o), 200)

        cur = http.create_is(ns, "gen", tags=[is_tag("a", ref="x"), is_tag("b", ref="y")])
        assert gens(cur) == (1, {"a": 1, "b": 1})
        cur["metadata"]["annotations"] = {"note": "1"}
        cur = put(cur)
        assert gens(cur) == (1, {"a": 1, "b": 1})
        cur["spec"]["tags"][0]["from"]["name"] = "x2"
        cur = put(cur)
        assert gens(cur) == (2, {"a": 2, "b": 1})
        cur["spec"]["tags"][1]["generation"] = 9
        cur = put(cur)
        assert gens(cur) == (2, {"a": 2, "b": 1})
        cur["spec"]["tags"][1]["generation"] = 0
        cur = put(cur)
        assert gens(cur) == (3, {"a": 2, "b": 3})
        cur["spec"]["tags"][0]["referencePolicy"] = {"type": "Local"}
        cur = put(cur)
        assert gens(cur) == (4, {"a": 2, "b": 3})
        cur["spec"]["tags"].append(is_tag("c", ref="z", generation=7))
        cur = put(cur)
        assert gens(cur) == (5, {"a": 2, "b": 3, "c": 5})
        # a metadata-only patch keeps the generation; a spec patch bumps it
        cur = assert_ok(http.patch(is_path(ns, "gen"), {"metadata": {"labels": {"l": "1"}}}))
        assert cur["metadata"]["generation"] == 5
        cur = assert_ok(http.patch(is_path(ns, "gen"), {"spec": {"lookupPolicy": {"local": True}}}))
        assert cur["metadata"]["generation"] == 6

    def test_is17_main_resource_ignores_status(self, http, ns):
        cur = http.create_is(ns, "foo", tags=[is_tag("t1", ref="a/b:1", reference=True)])
        old_status = copy.deepcopy(cur["status"])
        cur["status"]["tags"].append({"tag": "extra", "items": [{
            "created": "2020-01-01T00:00:00Z", "dockerImageReference": "a/b:2",
            "image": "", "generation": 1}]})
        got = assert_ok(http.put(is_path(ns, "foo"), cur), 200)
        assert got["status"] == old_status
        got = assert_ok(http.patch(is_path(ns, "foo"), {"status": {"dockerImageRepository": "x"}}))
        assert got["status"] == old_status

    def test_is20_status_subresource(self, http, ns):
        cur = http.create_is(ns, "foo", tags=[is_tag("t1", ref="a/b:1")])
        st = assert_ok(http.get(is_path(ns, "foo", "status")))
        assert st["kind"] == "ImageStream" and st["metadata"]["name"] == "foo"
        st["spec"]["tags"] = [is_tag("changed", ref="c/d:1")]
        st["spec"]["lookupPolicy"] = {"local": True}
        st["status"]["tags"] = [{"tag": "x", "items": [{
            "created": "2020-01-01T00:00:00Z", "dockerImageReference": "foo/bar:latest",
            "image": "sha256:" + B64, "generation": 0}]}]
        got = assert_ok(http.put(is_path(ns, "foo", "status"), st), 200)
        assert [t["name"] for t in got["spec"]["tags"]] == ["t1"]
        assert got["spec"]["lookupPolicy"] == {"local": True}  # quirk: writable via /status
        assert got["metadata"]["generation"] == cur["metadata"]["generation"]
        x = [t for t in got["status"]["tags"] if t["tag"] == "x"][0]
        assert x["items"][0]["generation"] == cur["metadata"]["generation"]
        live = http.get_is(ns, "foo")
        assert [t["name"] for t in live["spec"]["tags"]] == ["t1"]
        assert [t["tag"] for t in live["status"]["tags"]] == ["x"]
        # PATCH on /status
        got = assert_ok(http.patch(is_path(ns, "foo", "status"),
                                   {"spec": {"tags": None}, "metadata": {"labels": {"s": "1"}}}))
        assert [t["name"] for t in got["spec"]["tags"]] == ["t1"]
        assert got["metadata"]["labels"] == {"s": "1"}

    def test_is21_status_reference_validation(self, http, ns):
        http.create_is(ns, "foo")
        for ref, msg in [("", 'status.tags[x].items[0].dockerImageReference: Invalid value: "": '
                              "repository name must have at least one component"),
                         ("abc@badid", 'status.tags[x].items[0].dockerImageReference: '
                                       'Invalid value: "abc@badid": invalid reference format')]:
            st = assert_ok(http.get(is_path(ns, "foo", "status")))
            st["status"]["tags"] = [{"tag": "x", "items": [{
                "created": "2020-01-01T00:00:00Z", "dockerImageReference": ref,
                "image": "", "generation": 1}]}]
            assert_status(http.put(is_path(ns, "foo", "status"), st), 422, "Invalid", contains=msg)

    def test_is23_tag_order_and_duplicates(self, http, ns):
        got = http.create_is(ns, "foo", tags=[{"name": "b"}, {"name": "a"},
                                              is_tag("a", ref="busybox:last")])
        tags = got["spec"]["tags"]
        assert [t["name"] for t in tags] == ["a", "b"]
        assert tags[0]["from"]["name"] == "busybox:last"
        assert http.get_is(ns, "foo")["spec"]["tags"] == tags

    def test_status_subresource_missing(self, http, ns):
        assert_status(http.get(is_path(ns, "nope", "status")), 404, "NotFound")


# ======================================================================= Image cases

def post_image(http, body, code=201):
    return assert_ok(http.post(img_path(), body), code)


def s2_image(name, **extra):
    return make_image(name, ref="quay.io/e2e/app@" + S2_DIGEST,
                      dockerImageManifestMediaType=S2_MT, dockerImageManifest=S2,
                      dockerImageConfig=CONFIG, **extra)


class TestImage:
    def test_i1_minimal(self, http):
        name = uniq("i1")
        post_image(http, make_image(name))
        got = assert_ok(http.get(img_path(name)))
        assert got["kind"] == "Image" and got["apiVersion"] == GV
        assert got["dockerImageMetadata"] == {"kind": "DockerImage",
                                              "apiVersion": "image.openshift.io/1.0",
                                              "Id": "", "Created": None, "ContainerConfig": {}}
        assert got["dockerImageMetadataVersion"] == "1.0"
        assert "generation" not in got["metadata"]
        assert "namespace" not in got["metadata"]

    def test_i2_no_name(self, http):
        body = make_image("x")
        del body["metadata"]["name"]
        b = assert_status(http.post(img_path(), body), 422, "Invalid",
                          contains="metadata.name: Required value: name or generateName is required")
        assert b["details"]["kind"] == "Image"

    @pytest.mark.parametrize("name,msg", [
        ("foo/bar", "metadata.name: Invalid value: \"foo/bar\": may not contain '/'"),
        ("foo%%bar", "may not contain '%'")])
    def test_i3_bad_names(self, http, name, msg):
        assert_status(http.post(img_path(), make_image(name)), 422, "Invalid", contains=msg)

    def test_i4_no_reference(self, http):
        assert_status(http.post(img_path(), make_image(uniq("i4"), ref=None)), 422, "Invalid",
                      contains="dockerImageReference: Required value")

    def test_i5_bad_reference(self, http):
        assert_status(http.post(img_path(), make_image(uniq("i5"), ref="\\")), 422, "Invalid",
                      contains='dockerImageReference: Invalid value: "\\\\": invalid reference format')

    def test_i6_namespace_cleared(self, http):
        name = uniq("i6")
        body = make_image(name)
        body["metadata"]["namespace"] = "x"
        got = post_image(http, body)
        assert "namespace" not in got["metadata"]
        assert "namespace" not in assert_ok(http.get(img_path(name)))["metadata"]

    def _check_s2(self, got):
        assert got["dockerImageLayers"] == [
            {"name": "sha256:" + A64, "size": 100, "mediaType": LAYER_MT},
            {"name": "sha256:" + B64, "size": 250, "mediaType": LAYER_MT},
            {"name": "sha256:" + A64, "size": 100, "mediaType": LAYER_MT}]
        assert got["metadata"]["annotations"]["image.openshift.io/dockerLayersOrder"] == \
            "ascending"
        assert got["dockerImageMetadata"] == {
            "kind": "DockerImage", "apiVersion": "image.openshift.io/1.0",
            "Id": CONFIG_DIGEST, "Created": "2020-01-02T03:04:05Z",
            "ContainerConfig": {"Cmd": ["/bin/sh", "-c", "echo hi"]},
            "DockerVersion": "19.03", "Author": "me",
            "Config": {"Env": ["A=1"], "Cmd": ["sh"], "Labels": {"k": "v"}},
            "Architecture": "amd64", "Size": 644}
        assert got["dockerImageManifestMediaType"] == S2_MT

    def test_i7_schema2_metadata(self, http):
        name = uniq("i7")
        got = post_image(http, s2_image(name))
        self._check_s2(got)
        live = assert_ok(http.get(img_path(name)))
        self._check_s2(live)
        assert live["dockerImageManifest"] == S2
        assert live["dockerImageConfig"] == CONFIG

    def test_i8_manifest_blob_stored(self, http):
        name = uniq("i8")
        body = s2_image(name)
        body["metadata"]["annotations"] = {"image.openshift.io/manifestBlobStored": "true"}
        got = post_image(http, body)
        self._check_s2(got)
        live = assert_ok(http.get(img_path(name)))
        assert "dockerImageManifest" not in live and "dockerImageConfig" not in live

    def test_i9_no_config(self, http):
        name = uniq("i9")
        body = s2_image(name)
        del body["dockerImageConfig"]
        got = post_image(http, body)
        assert len(got["dockerImageLayers"]) == 3
        assert got["metadata"]["annotations"]["image.openshift.io/dockerLayersOrder"] == \
            "ascending"
        assert got["dockerImageMetadata"]["Id"] == ""
        assert "Size" not in got["dockerImageMetadata"]

    @pytest.mark.parametrize("entry,msg", [
        ({"digest": "abc", "mediaType": "foo/bar", "architecture": "foo", "os": "bar"},
         'dockerImageManifests[0].digest: Invalid value: "abc": digest does not conform with '
         "OCI image specification"),
        ({"digest": S2_DIGEST, "mediaType": "foobar", "architecture": "foo", "os": "bar"},
         'dockerImageManifests[0].mediaType: Invalid value: "foobar": media type does not '
         "conform to RFC6838"),
        ({"digest": S2_DIGEST, "mediaType": "foo/bar", "os": "bar"},
         "dockerImageManifests[0].architecture: Required value"),
        ({"digest": S2_DIGEST, "mediaType": "foo/bar", "architecture": "foo", "os": "bar",
          "manifestSize": -2},
         "dockerImageManifests[0].size: Invalid value: -2: manifest size cannot be negative"),
    ])
    def test_i13_manifests_validation(self, http, entry, msg):
        body = make_image(uniq("i13"), dockerImageManifests=[entry])
        assert_status(http.post(img_path(), body), 422, "Invalid", contains=msg)

    def test_i14_manifests_and_layers(self, http):
        body = make_image(uniq("i14"), dockerImageManifests=[
            {"digest": S2_DIGEST, "mediaType": "foo/bar", "architecture": "amd64", "os": "linux"}],
            dockerImageLayers=[{"name": "l", "size": 1, "mediaType": "m"}])
        assert_status(http.post(img_path(), body), 422, "Invalid", contains=(
            'dockerImageLayers: Invalid value: [{"Name":"l","LayerSize":1,"MediaType":"m"}]: '
            "dockerImageLayers should not be set when dockerImageManifests is set"))

    def test_i17_put_without_resource_version(self, http):
        name = uniq("i17")
        obj = post_image(http, make_image(name))
        del obj["metadata"]["resourceVersion"]
        b = assert_status(http.put(img_path(name), obj), 422, "Invalid", message=(
            f'images.image.openshift.io "{name}" is invalid: metadata.resourceVersion: '
            "Invalid value: 0: must be specified for an update"))
        assert b["details"]["kind"] == "images"

    def test_image_update_and_delete(self, http):
        name = uniq("iu")
        obj = post_image(http, make_image(name))
        obj["dockerImageReference"] = "openshift/ruby-19-centos-2"
        obj["metadata"]["labels"] = {"a": "b"}
        got = assert_ok(http.put(img_path(name), obj), 200)
        assert got["dockerImageReference"] == "openshift/ruby-19-centos-2"
        assert int(got["metadata"]["resourceVersion"]) > int(obj["metadata"]["resourceVersion"])
        body = assert_ok(http.delete(img_path(name)), 200)
        if body["kind"] == "Status":
            assert body["details"]["kind"] == "images"
        assert_status(http.get(img_path(name)), 404, "NotFound",
                      message=f'images.image.openshift.io "{name}" not found')

    def test_image_names_with_colon(self, http):
        name = "sha256:" + uniq("c").replace("-", "") + "0" * 40
        post_image(http, make_image(name))
        assert assert_ok(http.get(img_path(name)))["metadata"]["name"] == name
        assert assert_ok(http.get(img_path(name.replace(":", "%3A"))))["metadata"]["name"] == name
        got = assert_ok(http.get(img_path(), params={"fieldSelector": f"metadata.name={name}"}))
        assert names(got) == [name]
