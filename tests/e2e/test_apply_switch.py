"""Switching one object between client-side `kubectl apply` and `kubectl apply --server-side`
(issue 7), with real kubectl, as kube-apiserver allows it: fields whose live value still
equals the last-applied-configuration annotation move to the server-side applier without a
conflict, and a server-side apply by kubectl keeps that annotation current so a later
client-side apply computes its diff from what was applied last."""

import json

from e2e_helpers import is_path

KIND = "imagestream.image.openshift.io"
LAST = "kubectl.kubernetes.io/last-applied-configuration"


def manifest(ns, tags, labels=None, local=False):
    meta = {"name": "foo", "namespace": ns}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "image.openshift.io/v1", "kind": "ImageStream", "metadata": meta,
            "spec": {"lookupPolicy": {"local": local},
                     "tags": [{"name": t, "from": {"kind": "DockerImage", "name": ref}}
                              for t, ref in tags]}}


def write(tmp_path, obj):
    p = tmp_path / "is.yaml"
    p.write_text(json.dumps(obj))
    return str(p)


def live(kubectl, ns):
    _, out, _ = kubectl("get", "is", "foo", "-n", ns, "-o", "json", "--show-managed-fields")
    return json.loads(out)


def tags_of(obj):
    return {t["name"]: t["from"]["name"] for t in obj["spec"].get("tags", [])}


def last_applied(obj):
    """The annotation as a manifest (client-side apply writes an empty annotations map
    into it; the server-side one has what the file has)."""
    la = json.loads(obj["metadata"]["annotations"][LAST])
    if la["metadata"].get("annotations") == {}:
        del la["metadata"]["annotations"]
    return la


def managers(obj):
    return {(m["manager"], m["operation"]) for m in obj["metadata"].get("managedFields", [])}


def ssa(kubectl, f, *extra, check=True):
    return kubectl("apply", "--server-side", *extra, "-f", f, check=check)


def test_switch_both_ways(kubectl, ns, tmp_path):
    m1 = manifest(ns, [("latest", "busybox:1"), ("v1", "busybox:1")], {"app": "x"})
    f = write(tmp_path, m1)
    _, out, _ = kubectl("apply", "-f", f)
    assert out.strip() == f"{KIND}/foo created"

    # the first server-side apply changes fields client-side apply set: no conflict, since
    # their live values are still those of the annotation
    m2 = manifest(ns, [("latest", "busybox:2"), ("v1", "busybox:1")], {"app": "x"}, local=True)
    rc, out, err = ssa(kubectl, write(tmp_path, m2), check=False)
    assert rc == 0, err
    assert out.strip() == f"{KIND}/foo serverside-applied"
    o = live(kubectl, ns)
    assert tags_of(o) == {"latest": "busybox:2", "v1": "busybox:1"}
    assert o["spec"]["lookupPolicy"]["local"] is True
    assert ("kubectl", "Apply") in managers(o)
    assert ("kubectl-client-side-apply", "Update") not in managers(o)
    # the annotation now says what was applied
    assert last_applied(o) == m2

    # a second server-side apply adds a tag; the annotation follows again
    m3 = manifest(ns, [("latest", "busybox:2"), ("v1", "busybox:1"), ("v3", "busybox:3")],
                  {"app": "x"}, local=True)
    f = write(tmp_path, m3)
    ssa(kubectl, f)
    o = live(kubectl, ns)
    assert tags_of(o) == {"latest": "busybox:2", "v1": "busybox:1", "v3": "busybox:3"}
    assert last_applied(o) == m3
    # so client-side kubectl sees no change for the same file; its first apply only
    # rewrites the annotation in its own form (with "annotations":{}), as against kube
    rc, out, err = kubectl("diff", "-f", f, check=False)
    assert rc == 0, out + err
    kubectl("apply", "-f", f)
    o2 = live(kubectl, ns)
    assert o2["spec"] == o["spec"] and o2["metadata"]["labels"] == o["metadata"]["labels"]
    assert last_applied(o2) == m3
    _, out, _ = kubectl("apply", "-f", f)
    assert out.strip() == f"{KIND}/foo unchanged"

    # back to client-side apply with v1, v3 and the label dropped from the file: kubectl's
    # three-way diff (from the annotation) removes exactly those
    m4 = manifest(ns, [("latest", "busybox:4")], local=True)
    f = write(tmp_path, m4)
    _, out, _ = kubectl("apply", "-f", f)
    assert out.strip() == f"{KIND}/foo configured"
    o = live(kubectl, ns)
    assert tags_of(o) == {"latest": "busybox:4"}
    assert "app" not in o["metadata"].get("labels", {})
    assert o["spec"]["lookupPolicy"]["local"] is True
    assert last_applied(o) == m4
    _, out, _ = kubectl("apply", "-f", f)
    assert out.strip() == f"{KIND}/foo unchanged"

    # and server-side once more, from an object client-side apply touched last
    m5 = manifest(ns, [("latest", "busybox:5")], {"app": "z"}, local=False)
    rc, out, err = ssa(kubectl, write(tmp_path, m5), check=False)
    assert rc == 0, err
    o = live(kubectl, ns)
    assert tags_of(o) == {"latest": "busybox:5"}
    assert o["metadata"]["labels"]["app"] == "z"
    assert o["spec"]["lookupPolicy"]["local"] is False
    assert last_applied(o) == m5


def test_changed_by_someone_else_conflicts(kubectl, ns, tmp_path):
    """A field client-side apply set that another manager changed since is not the
    annotation's any more: server-side apply conflicts on it, as kube does."""
    m1 = manifest(ns, [("latest", "busybox:1")], {"app": "x"})
    f = write(tmp_path, m1)
    kubectl("apply", "-f", f)
    kubectl("label", "is", "foo", "-n", ns, "app=y", "--overwrite")

    # the file still says app=x and also changes a tag: only the label conflicts
    m2 = manifest(ns, [("latest", "busybox:2")], {"app": "x"})
    f = write(tmp_path, m2)
    rc, _, err = ssa(kubectl, f, check=False)
    assert rc != 0
    assert ('Apply failed with 1 conflict: conflict with "kubectl-label" using '
            'image.openshift.io/v1: .metadata.labels.app') in err, err
    o = live(kubectl, ns)
    assert o["metadata"]["labels"]["app"] == "y" and tags_of(o) == {"latest": "busybox:1"}
    assert last_applied(o) == m1

    # --force-conflicts takes the label over too
    _, out, _ = ssa(kubectl, f, "--force-conflicts")
    assert out.strip() == f"{KIND}/foo serverside-applied"
    o = live(kubectl, ns)
    assert o["metadata"]["labels"]["app"] == "x" and tags_of(o) == {"latest": "busybox:2"}
    assert ("kubectl-label", "Update") not in managers(o)
    assert last_applied(o) == m2


def test_changed_under_csa_manager_conflicts(kubectl, http, ns, tmp_path):
    """A merge patch under the client-side-apply manager that leaves the annotation stale:
    that field conflicts with "kubectl-client-side-apply"; the others still move."""
    m1 = manifest(ns, [("latest", "busybox:1")])
    kubectl("apply", "-f", write(tmp_path, m1))
    r = http.patch(is_path(ns, "foo") + "?fieldManager=kubectl-client-side-apply",
                   {"spec": {"lookupPolicy": {"local": True}}})
    assert r.status_code == 200, r.text
    f = write(tmp_path, manifest(ns, [("latest", "busybox:2")]))
    rc, _, err = ssa(kubectl, f, check=False)
    assert rc != 0
    assert ('Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using '
            'image.openshift.io/v1: .spec.lookupPolicy.local') in err, err


def test_other_field_manager_gets_no_upgrade(kubectl, ns, tmp_path):
    """Only the manager "kubectl" takes client-side-applied fields over and keeps the
    annotation; with --field-manager=other the usual conflicts stay."""
    m1 = manifest(ns, [("latest", "busybox:1")])
    kubectl("apply", "-f", write(tmp_path, m1))
    f = write(tmp_path, manifest(ns, [("latest", "busybox:2")]))
    rc, _, err = ssa(kubectl, f, "--field-manager=other", check=False)
    assert rc != 0
    assert 'conflict with "kubectl-client-side-apply"' in err, err
    # forced: kubectl moves client-side apply's fields (the annotation among them) to
    # "other" and re-applies, which prunes the annotation, as against kube
    ssa(kubectl, f, "--field-manager=other", "--force-conflicts")
    o = live(kubectl, ns)
    assert tags_of(o) == {"latest": "busybox:2"}
    assert LAST not in o["metadata"].get("annotations", {})
