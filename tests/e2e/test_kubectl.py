"""kubectl 1.32 against the real server: every command of the contract's
checklist / §10 table (kubectl-contract.md). Each test uses a fresh namespace."""

import json
import os
import stat
import threading
import time

import pytest

from e2e_helpers import (CONFIG, S2, S2_MT, is_path, make_image, make_is, uniq, wait_for)

KIND = "imagestream.image.openshift.io"


def write(tmp_path, name, obj):
    p = tmp_path / name
    p.write_text(obj if isinstance(obj, str) else json.dumps(obj))
    return str(p)


def yaml_is(name, ns, tags=(), labels=None, extra_spec=""):
    lab = "".join(f"\n    {k}: {v}" for k, v in (labels or {}).items())
    out = (f"apiVersion: image.openshift.io/v1\nkind: ImageStream\nmetadata:\n  name: {name}\n"
           f"  namespace: {ns}\n" + (f"  labels:{lab}\n" if labels else "") + "spec:\n")
    out += extra_spec
    if tags:
        out += "  tags:\n"
        for t, ref in tags:
            out += (f"  - name: {t}\n    from:\n      kind: DockerImage\n"
                    f"      name: {ref}\n")
    return out


def rows(out):
    """Table output → list of token lists (header first)."""
    return [line.split() for line in out.strip().splitlines() if line.strip()]


def jget(kubectl, ns, name, *path):
    _, out, _ = kubectl("get", "is", name, "-n", ns, "-o", "json")
    obj = json.loads(out)
    for p in path:
        obj = obj[p]
    return obj


@pytest.fixture
def seeded(http, ns):
    """Five streams: a1..a3 labelled app=x, b1 app=y, c1 unlabelled."""
    for name, labels in [("a1", {"app": "x"}), ("a2", {"app": "x"}), ("a3", {"app": "x"}),
                         ("b1", {"app": "y"}), ("c1", None)]:
        http.create_is(ns, name, labels=labels, tags={"latest": "quay.io/test/" + name})
    return ns


# ======================================================================= discovery & reads

def test_version(kubectl):
    _, out, _ = kubectl("version")
    assert "Server Version: v1.32" in out


def test_api_resources(kubectl):
    _, out, err = kubectl("api-resources", "--api-group=image.openshift.io")
    assert "unable to retrieve" not in err
    table = rows(out)
    assert table[0] == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    by_name = {r[0]: r for r in table[1:]}
    assert by_name["imagestreams"] == ["imagestreams", "is", "image.openshift.io/v1", "true",
                                       "ImageStream"]
    assert by_name["images"] == ["images", "image.openshift.io/v1", "false", "Image"]


def test_api_resources_wide(kubectl):
    _, out, _ = kubectl("api-resources", "-o", "wide", "--api-group=image.openshift.io")
    line = [x for x in out.splitlines() if x.startswith("imagestreams ")][0].split()
    assert line[-2] == "create,delete,deletecollection,get,list,patch,update,watch"
    assert line[-1] == "all"


def test_get_all_category(kubectl, seeded):
    _, out, err = kubectl("get", "all", "-n", seeded)
    assert "a1" in out and "c1" in out, (out, err)


def test_get_table(kubectl, seeded):
    _, out, _ = kubectl("get", "is", "-n", seeded)
    table = rows(out)
    assert out.splitlines()[0].split() == ["NAME", "IMAGE", "REPOSITORY", "TAGS", "UPDATED"]
    assert sorted(r[0] for r in table[1:]) == ["a1", "a2", "a3", "b1", "c1"]


def test_get_short_name_and_single(kubectl, seeded):
    _, out, _ = kubectl("get", "imagestream", "a1", "-n", seeded)
    assert [r[0] for r in rows(out)] == ["NAME", "a1"]


def test_get_output_formats(kubectl, seeded):
    _, out, _ = kubectl("get", "is", "-n", seeded, "-o", "yaml")
    assert "kind: List" in out and "name: a1" in out and "kind: ImageStream" in out
    _, out, _ = kubectl("get", "is", "-n", seeded, "-o", "json")
    doc = json.loads(out)
    assert sorted(i["metadata"]["name"] for i in doc["items"]) == ["a1", "a2", "a3", "b1", "c1"]
    _, out, _ = kubectl("get", "is", "-n", seeded, "-o", "name")
    assert out.split() == [f"{KIND}/{n}" for n in ["a1", "a2", "a3", "b1", "c1"]]
    _, out, _ = kubectl("get", "is", "-n", seeded, "-o", "jsonpath={.items[*].metadata.name}")
    assert out.split() == ["a1", "a2", "a3", "b1", "c1"]
    _, out, _ = kubectl("get", "is", "a1", "-n", seeded, "-o", "yaml")
    assert "kind: ImageStream" in out and "apiVersion: image.openshift.io/v1" in out
    _, out, _ = kubectl("get", "is", "a1", "-n", seeded, "-o",
                        "jsonpath={.spec.tags[0].from.name}")
    assert out == "quay.io/test/a1"


def test_get_all_namespaces(kubectl, seeded):
    _, out, _ = kubectl("get", "is", "-A")
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["NAMESPACE", "NAME"]
    mine = sorted(line.split()[1] for line in lines[1:] if line.split()[0] == seeded)
    assert mine == ["a1", "a2", "a3", "b1", "c1"]


def test_get_show_labels(kubectl, seeded):
    _, out, _ = kubectl("get", "is", "-n", seeded, "--show-labels")
    lines = out.splitlines()
    assert lines[0].split()[-1] == "LABELS"
    by = {line.split()[0]: line.split()[-1] for line in lines[1:]}
    assert by["a1"] == "app=x" and by["c1"] == "<none>"


def test_get_label_selector(kubectl, seeded):
    _, out, _ = kubectl("get", "is", "-n", seeded, "-l", "app=x", "-o", "name")
    assert out.split() == [f"{KIND}/a1", f"{KIND}/a2", f"{KIND}/a3"]
    _, out, _ = kubectl("get", "is", "-n", seeded, "-l", "app in (x,y),app!=x", "-o", "name")
    assert out.split() == [f"{KIND}/b1"]


def test_get_field_selector(kubectl, seeded):
    _, out, _ = kubectl("get", "is", "-n", seeded, "--field-selector", "metadata.name=b1",
                        "-o", "name")
    assert out.split() == [f"{KIND}/b1"]
    _, out, _ = kubectl("get", "is", "-n", seeded, "--field-selector", "metadata.name!=b1",
                        "-o", "name")
    assert len(out.split()) == 4
    rc, _, err = kubectl("get", "is", "-n", seeded, "--field-selector", "spec.foo=bar",
                         check=False)
    assert rc != 0 and "Error from server (BadRequest)" in err and "spec.foo" in err


def test_get_chunk_size(kubectl, seeded):
    _, out, _ = kubectl("get", "is", "-n", seeded, "--chunk-size=2")
    lines = out.splitlines()
    assert sum(1 for line in lines if line.startswith("NAME")) == 1
    assert [line.split()[0] for line in lines[1:]] == ["a1", "a2", "a3", "b1", "c1"]


def test_get_sort_by(kubectl, http, ns):
    for n in ["c", "a", "b"]:
        http.create_is(ns, n)
    rc, out, err = kubectl("get", "is", "-n", ns, "--sort-by=.metadata.name", check=False)
    assert rc == 0 and "panic" not in err, err
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["a", "b", "c"]


def test_get_wide(kubectl, seeded):
    _, out, _ = kubectl("get", "is", "-n", seeded, "-o", "wide")
    assert out.splitlines()[0].split()[:2] == ["NAME", "IMAGE"]
    assert len(out.splitlines()) == 6


def test_describe_all(kubectl, seeded):
    _, out, _ = kubectl("describe", "is", "-n", seeded)
    assert out.count("Name:") >= 5


def test_get_not_found(kubectl, ns):
    rc, _, err = kubectl("get", "is", "nothere", "-n", ns, check=False)
    assert rc == 1
    assert err.strip() == ('Error from server (NotFound): imagestreams.image.openshift.io '
                           '"nothere" not found')


def test_get_raw(kubectl, seeded):
    _, out, _ = kubectl("get", "--raw", f"/apis/image.openshift.io/v1/namespaces/{seeded}/"
                        "imagestreams/a1")
    assert json.loads(out)["metadata"]["name"] == "a1"


def test_describe(kubectl, seeded):
    _, out, _ = kubectl("describe", "is", "a1", "-n", seeded)
    assert "Name:" in out and "a1" in out
    assert "Events:" in out
    rc, _, err = kubectl("describe", "is", "nothere", "-n", seeded, check=False)
    assert rc != 0 and "NotFound" in err


def test_explain_tags(kubectl):
    _, out, _ = kubectl("explain", "imagestream.spec.tags")
    assert "KIND:" in out and "ImageStream" in out
    assert "FIELD:" in out and "tags" in out
    assert "DESCRIPTION:" in out and "FIELDS:" in out
    assert "name" in out and "from" in out


def test_explain_image(kubectl):
    _, out, _ = kubectl("explain", "image")
    assert "KIND:" in out and "Image" in out
    assert "DESCRIPTION:" in out and "FIELDS:" in out
    assert "dockerImageReference" in out


# ======================================================================= create / apply

def test_create_file(kubectl, ns, tmp_path):
    f = write(tmp_path, "is.yaml", yaml_is("foo", ns, [("latest", "busybox")], {"app": "x"}))
    _, out, err = kubectl("create", "-f", f)
    assert out.strip() == f"{KIND}/foo created"
    assert "Warning" not in err
    assert jget(kubectl, ns, "foo", "metadata", "labels") == {"app": "x"}
    rc, _, err = kubectl("create", "-f", f, check=False)
    assert rc != 0
    assert ('Error from server (AlreadyExists): error when creating "' in err and
            'imagestreams.image.openshift.io "foo" already exists' in err)


def test_create_dry_run_server(kubectl, ns, tmp_path):
    f = write(tmp_path, "is.yaml", yaml_is("foo", ns))
    _, out, _ = kubectl("create", "-f", f, "--dry-run=server")
    assert out.strip() == f"{KIND}/foo created (server dry run)"
    rc, _, err = kubectl("get", "is", "foo", "-n", ns, check=False)
    assert rc != 0 and "NotFound" in err


def test_create_raw_chunked(kubectl, ns, tmp_path):
    f = write(tmp_path, "is.json", make_is("raw", ns=ns))
    _, out, _ = kubectl("create", "--raw", f"/apis/image.openshift.io/v1/namespaces/{ns}/"
                        "imagestreams", "-f", f)
    assert json.loads(out)["metadata"]["name"] == "raw"
    obj = jget(kubectl, ns, "raw")
    obj["metadata"]["labels"] = {"via": "raw"}
    f = write(tmp_path, "is2.json", obj)
    _, out, _ = kubectl("replace", "--raw", f"/apis/image.openshift.io/v1/namespaces/{ns}/"
                        "imagestreams/raw", "-f", f)
    assert json.loads(out)["metadata"]["labels"] == {"via": "raw"}


def test_strict_unknown_field(kubectl, ns, tmp_path):
    f = write(tmp_path, "bad.yaml", yaml_is("bad", ns, extra_spec="  foo: bar\n"))
    rc, _, err = kubectl("create", "-f", f, check=False)
    assert rc != 0
    assert 'strict decoding error: unknown field "spec.foo"' in err
    assert "Error from server (BadRequest)" in err


def test_validate_warn(kubectl, ns, tmp_path):
    f = write(tmp_path, "bad.yaml", yaml_is("bad", ns, extra_spec="  foo: bar\n"))
    _, out, err = kubectl("create", "-f", f, "--validate=warn")
    assert out.strip() == f"{KIND}/bad created"
    assert 'Warning: unknown field "spec.foo"' in err


def test_validate_false(kubectl, ns, tmp_path):
    f = write(tmp_path, "bad.yaml", yaml_is("bad", ns, extra_spec="  foo: bar\n"))
    _, out, err = kubectl("create", "-f", f, "--validate=false")
    assert out.strip() == f"{KIND}/bad created"
    assert "Warning" not in err


def test_apply_twice_strategic(kubectl, ns, tmp_path):
    f = write(tmp_path, "a.yaml", yaml_is("foo", ns, [("latest", "busybox"), ("v2", "busybox:2")]))
    _, out, _ = kubectl("apply", "-f", f)
    assert out.strip() == f"{KIND}/foo created"
    ann = jget(kubectl, ns, "foo", "metadata", "annotations")
    assert "kubectl.kubernetes.io/last-applied-configuration" in ann
    f = write(tmp_path, "a.yaml", yaml_is("foo", ns, [("latest", "busybox:1")]))
    _, out, err = kubectl("apply", "-f", f)
    assert out.strip() == f"{KIND}/foo configured"
    assert "error calculating patch" not in err, err
    tags = jget(kubectl, ns, "foo", "spec", "tags")
    assert [(t["name"], t["from"]["name"]) for t in tags] == [("latest", "busybox:1")]
    _, out, _ = kubectl("apply", "-f", f)
    assert out.strip() == f"{KIND}/foo unchanged"


def test_apply_keeps_fields_set_by_others(kubectl, http, ns, tmp_path):
    """Strategic merge: a tag added by someone else survives an apply."""
    f = write(tmp_path, "a.yaml", yaml_is("foo", ns, [("latest", "busybox")]))
    kubectl("apply", "-f", f)
    http.patch(is_path(ns, "foo"), {"spec": {"tags": [
        {"name": "other", "from": {"kind": "DockerImage", "name": "x"}}]}},
        "application/strategic-merge-patch+json")
    f = write(tmp_path, "a.yaml", yaml_is("foo", ns, [("latest", "busybox:2")]))
    _, out, _ = kubectl("apply", "-f", f)
    assert out.strip() == f"{KIND}/foo configured"
    tags = jget(kubectl, ns, "foo", "spec", "tags")
    assert sorted(t["name"] for t in tags) == ["latest", "other"]


def test_apply_server_side(kubectl, ns, tmp_path):
    f = write(tmp_path, "a.yaml", yaml_is("foo", ns, [("latest", "busybox")]))
    _, out, _ = kubectl("apply", "--server-side", "-f", f)
    assert out.strip() == f"{KIND}/foo serverside-applied"
    _, out, _ = kubectl("apply", "--server-side", "-f", f)
    assert out.strip() == f"{KIND}/foo serverside-applied"
    _, out, _ = kubectl("get", "is", "foo", "-n", ns, "-o", "json", "--show-managed-fields")
    mf = json.loads(out)["metadata"]["managedFields"]
    assert ("kubectl", "Apply") in {(m["manager"], m["operation"]) for m in mf}


def test_apply_server_side_after_client_side(kubectl, ns, tmp_path):
    f = write(tmp_path, "a.yaml", yaml_is("foo", ns, [("latest", "busybox")], {"app": "x"}))
    _, out, _ = kubectl("apply", "-f", f)
    assert out.strip() == f"{KIND}/foo created"
    rc, out, err = kubectl("apply", "--server-side", "-f", f, check=False)
    assert rc == 0, err
    assert out.strip() == f"{KIND}/foo serverside-applied"
    _, out, _ = kubectl("get", "is", "foo", "-n", ns, "-o", "json", "--show-managed-fields")
    mf = json.loads(out)["metadata"]["managedFields"]
    managers = {(m["manager"], m["operation"]) for m in mf}
    assert ("kubectl", "Apply") in managers
    assert ("kubectl-client-side-apply", "Update") not in managers, managers
    # a later SSA that drops the label removes it (the migration transferred ownership)
    f = write(tmp_path, "a.yaml", yaml_is("foo", ns, [("latest", "busybox")]))
    kubectl("apply", "--server-side", "-f", f)
    assert "labels" not in jget(kubectl, ns, "foo", "metadata") or \
        "app" not in jget(kubectl, ns, "foo", "metadata").get("labels", {})


def test_apply_server_side_conflict(kubectl, http, ns, tmp_path):
    f = write(tmp_path, "a.yaml", yaml_is("foo", ns, extra_spec="  lookupPolicy:\n    local: false\n"))
    kubectl("apply", "--server-side", "-f", f)
    http.patch(is_path(ns, "foo") + "?fieldManager=someone",
               {"spec": {"lookupPolicy": {"local": True}}})
    rc, _, err = kubectl("apply", "--server-side", "-f", f, check=False)
    assert rc != 0 and "Apply failed with 1 conflict" in err
    _, out, _ = kubectl("apply", "--server-side", "--force-conflicts", "-f", f)
    assert "serverside-applied" in out
    assert jget(kubectl, ns, "foo", "spec", "lookupPolicy", "local") is False


def test_diff(kubectl, http, ns, tmp_path):
    http.create_is(ns, "foo", labels={"app": "one"})
    f = write(tmp_path, "a.yaml", yaml_is("foo", ns, labels={"app": "two"}))
    rc, out, err = kubectl("diff", "-f", f, check=False)
    assert rc == 1, err  # 1 = differences found
    assert "-    app: one" in out and "+    app: two" in out


# ======================================================================= patch & co

def test_patch_types(kubectl, http, ns):
    http.create_is(ns, "foo", tags={"latest": "busybox"})
    _, out, _ = kubectl("patch", "is", "foo", "-n", ns, "--type", "merge",
                        "-p", '{"metadata":{"labels":{"m":"1"}}}')
    assert out.strip() == f"{KIND}/foo patched"
    _, out, _ = kubectl("patch", "is", "foo", "-n", ns, "--type", "json",
                        "-p", '[{"op":"add","path":"/metadata/labels/j","value":"2"}]')
    assert out.strip() == f"{KIND}/foo patched"
    _, out, _ = kubectl("patch", "is", "foo", "-n", ns, "--type", "strategic", "-p",
                        '{"spec":{"tags":[{"name":"s","from":{"kind":"DockerImage",'
                        '"name":"busybox:s"}}]}}')
    assert out.strip() == f"{KIND}/foo patched"
    _, out, _ = kubectl("patch", "is", "foo", "-n", ns, "-p",
                        '{"spec":{"tags":[{"name":"d","from":{"kind":"DockerImage",'
                        '"name":"busybox:d"}}]}}')
    assert out.strip() == f"{KIND}/foo patched"
    obj = jget(kubectl, ns, "foo")
    assert obj["metadata"]["labels"] == {"m": "1", "j": "2"}
    assert [t["name"] for t in obj["spec"]["tags"]] == ["d", "latest", "s"]
    _, out, _ = kubectl("patch", "is", "foo", "-n", ns, "--type", "merge",
                        "-p", '{"metadata":{"labels":{"m":"1"}}}')
    assert out.strip() == f"{KIND}/foo patched (no change)"
    rc, _, err = kubectl("patch", "is", "foo", "-n", ns, "--type", "json",
                         "-p", '[{"op":"remove","path":"/spec/nothere"}]', check=False)
    assert rc != 0 and "The request is invalid" in err


def test_patch_dry_run_and_status_subresource(kubectl, http, ns):
    http.create_is(ns, "foo")
    _, out, _ = kubectl("patch", "is", "foo", "-n", ns, "--type", "merge", "--dry-run=server",
                        "-p", '{"metadata":{"labels":{"m":"1"}}}')
    assert out.strip().startswith(f"{KIND}/foo patched")  # 1.32 prints no dry-run suffix here
    assert "labels" not in jget(kubectl, ns, "foo", "metadata")
    _, out, _ = kubectl("patch", "is", "foo", "-n", ns, "--type", "merge",
                        "--subresource=status", "-p", '{"spec":{"lookupPolicy":{"local":true}}}')
    assert "patched" in out
    assert jget(kubectl, ns, "foo", "spec", "lookupPolicy", "local") is True


def test_label_annotate(kubectl, http, ns):
    http.create_is(ns, "foo")
    _, out, _ = kubectl("label", "is", "foo", "-n", ns, "color=red")
    assert out.strip() == f"{KIND}/foo labeled"
    _, out, _ = kubectl("annotate", "is", "foo", "-n", ns, "note=hello")
    assert out.strip() == f"{KIND}/foo annotated"
    md = jget(kubectl, ns, "foo", "metadata")
    assert md["labels"] == {"color": "red"} and md["annotations"]["note"] == "hello"
    _, out, _ = kubectl("label", "is", "foo", "-n", ns, "color-")
    assert out.strip() == f"{KIND}/foo unlabeled"
    assert "labels" not in jget(kubectl, ns, "foo", "metadata") or \
        not jget(kubectl, ns, "foo", "metadata")["labels"]
    rc, _, err = kubectl("label", "is", "foo", "-n", ns, "bad label=x", check=False)
    assert rc != 0


def test_edit(kubectl, http, ns, tmp_path):
    http.create_is(ns, "foo")
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nsed -i 's/local: false/local: true/' \"$1\"\n")
    editor.chmod(editor.stat().st_mode | stat.S_IEXEC)
    _, out, err = kubectl("edit", "is", "foo", "-n", ns, env={"KUBE_EDITOR": str(editor)})
    assert out.strip() == f"{KIND}/foo edited", err
    assert jget(kubectl, ns, "foo", "spec", "lookupPolicy", "local") is True
    assert jget(kubectl, ns, "foo", "metadata", "generation") == 2


def test_replace(kubectl, http, ns, tmp_path):
    http.create_is(ns, "foo")
    obj = jget(kubectl, ns, "foo")
    stale = json.loads(json.dumps(obj))
    obj["metadata"]["labels"] = {"r": "1"}
    _, out, _ = kubectl("replace", "-f", write(tmp_path, "r.json", obj))
    assert out.strip() == f"{KIND}/foo replaced"
    assert jget(kubectl, ns, "foo", "metadata", "labels") == {"r": "1"}
    # without a resourceVersion kubectl copies the live one
    del obj["metadata"]["resourceVersion"]
    obj["metadata"]["labels"] = {"r": "2"}
    _, out, _ = kubectl("replace", "-f", write(tmp_path, "r2.json", obj))
    assert out.strip() == f"{KIND}/foo replaced"
    stale["metadata"]["labels"] = {"r": "stale"}
    rc, _, err = kubectl("replace", "-f", write(tmp_path, "r3.json", stale), check=False)
    assert rc != 0
    assert ('Error from server (Conflict): error when replacing' in err and
            'Operation cannot be fulfilled on imagestreams.image.openshift.io "foo": the object '
            'has been modified; please apply your changes to the latest version and try again'
            in err), err


# ======================================================================= delete & wait

def test_delete(kubectl, http, ns):
    http.create_is(ns, "foo")
    _, out, _ = kubectl("delete", "is", "foo", "-n", ns, "--dry-run=server")
    assert out.strip() == f'{KIND} "foo" deleted (server dry run)'
    assert jget(kubectl, ns, "foo", "metadata", "name") == "foo"
    _, out, _ = kubectl("delete", "is", "foo", "-n", ns, "--timeout=20s")
    assert out.strip() == f'{KIND} "foo" deleted'
    rc, _, err = kubectl("get", "is", "foo", "-n", ns, check=False)
    assert rc != 0 and "NotFound" in err
    rc, _, err = kubectl("delete", "is", "foo", "-n", ns, check=False)
    assert rc != 0 and 'imagestreams.image.openshift.io "foo" not found' in err


def test_delete_label_selector(kubectl, seeded):
    _, out, _ = kubectl("delete", "is", "-n", seeded, "-l", "app=x", "--timeout=30s")
    assert sorted(out.strip().splitlines()) == [f'{KIND} "a{i}" deleted' for i in (1, 2, 3)]
    _, out, _ = kubectl("get", "is", "-n", seeded, "-o", "name")
    assert out.split() == [f"{KIND}/b1", f"{KIND}/c1"]


def test_delete_cascade_variants(kubectl, http, ns):
    for n in ("f1", "f2", "f3"):
        http.create_is(ns, n)
    kubectl("delete", "is", "f1", "-n", ns, "--cascade=foreground", "--timeout=20s")
    kubectl("delete", "is", "f2", "-n", ns, "--cascade=orphan", "--grace-period=5",
            "--timeout=20s")
    _, out, err = kubectl("delete", "is", "f3", "-n", ns, "--grace-period=0", "--force",
                          "--timeout=20s")
    assert "force deleted" in out
    _, out, _ = kubectl("get", "is", "-n", ns, "-o", "name")
    assert out.strip() == ""


def _later(delay, fn):
    t = threading.Timer(delay, fn)
    t.start()
    return t


def test_wait_jsonpath(kubectl, http, ns):
    http.create_is(ns, "foo")
    t = _later(1.0, lambda: http.patch(is_path(ns, "foo"),
                                       {"spec": {"lookupPolicy": {"local": True}}}))
    try:
        _, out, _ = kubectl("wait", "is/foo", "-n", ns,
                            "--for=jsonpath={.spec.lookupPolicy.local}=true", "--timeout=20s",
                            timeout=40)
    finally:
        t.join()
    assert out.strip() == f"{KIND}/foo condition met"


def test_wait_label_selector(kubectl, http, ns):
    for n in ("w1", "w2"):
        http.create_is(ns, n, labels={"app": "w"})

    def flip():
        for n in ("w1", "w2"):
            http.patch(is_path(ns, n), {"spec": {"lookupPolicy": {"local": True}}})
    t = _later(1.0, flip)
    try:
        _, out, _ = kubectl("wait", "is", "-l", "app=w", "-n", ns,
                            "--for=jsonpath={.spec.lookupPolicy.local}=true", "--timeout=20s",
                            timeout=40)
    finally:
        t.join()
    assert sorted(out.strip().splitlines()) == [f"{KIND}/w1 condition met",
                                                f"{KIND}/w2 condition met"]


def test_wait_delete(kubectl, http, ns):
    http.create_is(ns, "foo")
    t = _later(1.0, lambda: http.delete(is_path(ns, "foo")))
    try:
        _, out, _ = kubectl("wait", "is/foo", "-n", ns, "--for=delete", "--timeout=20s",
                            timeout=40)
    finally:
        t.join()
    assert out.strip() == f"{KIND}/foo condition met"


def test_wait_create(kubectl, http, ns):
    t = _later(1.0, lambda: http.create_is(ns, "late"))
    try:
        _, out, _ = kubectl("wait", "is/late", "-n", ns, "--for=create", "--timeout=20s",
                            timeout=40)
    finally:
        t.join()
    assert "condition met" in out


def test_wait_condition_times_out(kubectl, http, ns):
    http.create_is(ns, "gamma")
    rc, _, err = kubectl("wait", "is/gamma", "-n", ns, "--for=condition=Ready", "--timeout=2s",
                         check=False, timeout=30)
    assert rc == 1
    assert "timed out waiting for the condition on imagestreams/gamma" in err


def _collect(proc, sink):
    for line in proc.stdout:
        sink.append(line.rstrip("\n"))


def test_get_watch(server, http, ns):
    http.create_is(ns, "first")
    proc = server.kubectl_bg("get", "is", "-n", ns, "-w")
    lines = []
    reader = threading.Thread(target=_collect, args=(proc, lines), daemon=True)
    reader.start()
    try:
        wait_for(lambda: any(line.split()[:1] == ["first"] for line in lines), timeout=15,
                 what="initial row")
        assert lines[0].split()[0] == "NAME"
        http.create_is(ns, "w1")
        wait_for(lambda: any(line.split()[:1] == ["w1"] for line in lines), timeout=10,
                 what="row for a created stream")
        n = len(lines)
        http.patch(is_path(ns, "w1"), {"metadata": {"labels": {"x": "y"}}})
        wait_for(lambda: len(lines) > n, timeout=10, what="row for a modified stream")
        n = len(lines)
        http.delete(is_path(ns, "first"))
        wait_for(lambda: any(line.split()[:1] == ["first"] for line in lines[n:]), timeout=10,
                 what="row for a deleted stream")
        assert proc.poll() is None, "kubectl get -w exited early"
        assert sum(1 for line in lines if line.startswith("NAME")) == 1
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except Exception:
            proc.kill()
            proc.wait()
        reader.join(timeout=5)


def test_get_single_watch(server, http, ns):
    """`get is foo -w`: fieldSelector watch from resourceVersion=0; the initial
    row is printed once, a modification adds a row."""
    http.create_is(ns, "solo")
    http.create_is(ns, "other")
    proc = server.kubectl_bg("get", "is", "solo", "-n", ns, "-w")
    lines = []
    reader = threading.Thread(target=_collect, args=(proc, lines), daemon=True)
    reader.start()
    try:
        wait_for(lambda: any(line.split()[:1] == ["solo"] for line in lines), timeout=15,
                 what="initial row")
        time.sleep(0.5)
        assert [line.split()[0] for line in lines] == ["NAME", "solo"]
        http.patch(is_path(ns, "other"), {"metadata": {"labels": {"x": "y"}}})
        http.patch(is_path(ns, "solo"), {"metadata": {"labels": {"x": "y"}}})
        wait_for(lambda: len(lines) >= 3, timeout=10, what="row for the modification")
        time.sleep(0.3)
        assert [line.split()[0] for line in lines] == ["NAME", "solo", "solo"]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except Exception:
            proc.kill()
            proc.wait()
        reader.join(timeout=5)


# ======================================================================= images

def test_image_from_manifest(kubectl, tmp_path):
    name = uniq("kimg")
    body = make_image(name, ref="quay.io/e2e/app:1", dockerImageManifestMediaType=S2_MT,
                      dockerImageManifest=S2, dockerImageConfig=CONFIG)
    # YAML with the manifest and config as JSON-quoted (exact) strings
    f = tmp_path / "img.yaml"
    f.write_text("apiVersion: image.openshift.io/v1\nkind: Image\nmetadata:\n"
                 f"  name: {name}\ndockerImageReference: {body['dockerImageReference']}\n"
                 f"dockerImageManifestMediaType: {S2_MT}\n"
                 f"dockerImageManifest: {json.dumps(S2)}\n"
                 f"dockerImageConfig: {json.dumps(CONFIG)}\n")
    _, out, _ = kubectl("create", "-f", str(f))
    assert out.strip() == f"image.image.openshift.io/{name} created"
    _, out, _ = kubectl("get", "image", name, "-o", "jsonpath={.dockerImageMetadata.Size}")
    assert out == "644"
    _, out, _ = kubectl("get", "image", name, "-o", "jsonpath={.dockerImageLayers[*].size}")
    assert out.split() == ["100", "250", "100"]
    _, out, _ = kubectl("get", "images", name)
    assert rows(out)[0] == ["NAME", "IMAGE", "REFERENCE"]
    assert rows(out)[1] == [name, "quay.io/e2e/app:1"]
    _, out, _ = kubectl("get", "image", name, "-o", "jsonpath={.dockerImageManifest}")
    assert out == S2
    _, out, _ = kubectl("delete", "image", name, "--timeout=20s")
    assert out.strip() == f'image.image.openshift.io "{name}" deleted'


def test_kubectl_env_isolated(server):
    """The private HOME keeps discovery caches per server."""
    assert os.path.isdir(server.home)
