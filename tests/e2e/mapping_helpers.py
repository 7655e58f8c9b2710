"""Helpers for the ImageStreamMapping, ImageStreamImage and imagestreams/layers tests
(test_mapping.py, test_isimage.py, test_layers.py): paths, bodies, digests, status
writes, and the stored size of a stream on either backend."""

import hashlib
import json
import sqlite3

from e2e_helpers import BASE, GV, assert_ok, is_path

# stored-resources.md §5 fixtures not in e2e_helpers (exact bytes)
OCI = ('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":'
       '{"mediaType":"application/vnd.oci.image.config.v1+json","size":294,"digest":'
       '"sha256:912e08be26e4b953e91138ebd2c11bd2845b3c86af0208c8004ddf3225f9201b"},"layers":'
       '[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","size":250,"digest":"sha256:'
       + "b" * 64 + '"}]}')
OCI_DIGEST = "sha256:0d142a15a9d1b10f876bee1ac2edbb645d0560cab2e6de051431d766643bf00b"
OCI_MT = "application/vnd.oci.image.manifest.v1+json"
S2_DIGEST = "sha256:2d31f8b32bd1350b6672dc1277018d3c8b108005206a927c7fe40d47389ef6fb"
LIST = ('{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json",'
        '"manifests":[{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":743,'
        '"digest":"' + S2_DIGEST + '","platform":{"architecture":"amd64","os":"linux"}},'
        '{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":401,"digest":"'
        + OCI_DIGEST + '","platform":{"architecture":"arm","os":"linux","variant":"v7"}}]}')
LIST_DIGEST = "sha256:14a8ac204415a7749491ee81bf3b53ade35c13de5b8010a0a5104665f602d360"
LIST_MT = "application/vnd.docker.distribution.manifest.list.v2+json"

def make_list(*children):
    """A Docker manifest list naming the given child digests (amd64, arm64, ...)."""
    arches = ["amd64", "arm64", "ppc64le", "s390x"]
    return json.dumps({"schemaVersion": 2, "mediaType": LIST_MT, "manifests": [
        {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 743, "digest": c,
         "platform": {"architecture": arches[i % 4], "os": "linux"}} for i, c in enumerate(children)]},
        separators=(",", ":"))


# virtual-resources §8 case 25: a schema 1 image whose metadata comes from history[0]
S1_ID = "2d24f826cb16146e2016ff349a8a33ed5830f3b938d45c0f82943f4ab8c097e7"
S1_HOSTNAME = "43bd710ec89a"
S1 = ('{"schemaVersion":1,"name":"ns/repo","tag":"latest","architecture":"amd64","fsLayers":'
      '[{"blobSum":"sha256:' + "e" * 64 + '"}],"history":[{"v1Compatibility":"{\\"id\\":\\"' + S1_ID
      + '\\",\\"created\\":\\"2016-05-06T07:08:09Z\\",\\"container_config\\":{\\"Hostname\\":\\"'
      + S1_HOSTNAME + '\\",\\"Cmd\\":[\\"sh\\"]},\\"architecture\\":\\"amd64\\",\\"Size\\":7}"}]}')


def ism_path(ns):
    return f"{BASE}/namespaces/{ns}/imagestreammappings"


def isimage_path(ns, name):
    return f"{BASE}/namespaces/{ns}/imagestreamimages/{name}"


def digest(seed):
    """A valid sha256 digest derived from any value."""
    return "sha256:" + hashlib.sha256(str(seed).encode()).hexdigest()


def make_mapping(stream, tag, image_name, ref=None, **image_fields):
    image = {"metadata": {"name": image_name}}
    if ref is not None:
        image["dockerImageReference"] = ref
    image.update(image_fields)
    body = {"apiVersion": GV, "kind": "ImageStreamMapping", "metadata": {"name": stream},
            "image": image}
    if tag is not None:
        body["tag"] = tag
    return body


def map_image(http, ns, stream, tag, image_name, ref=None, params=None, timeout=20, **image_fields):
    """POST a mapping; returns the response."""
    return http.post(ism_path(ns), make_mapping(stream, tag, image_name, ref, **image_fields),
                     params=params, timeout=timeout)


def event(image, ref, created="2024-01-01T00:00:00Z", generation=0):
    return {"created": created, "dockerImageReference": ref, "image": image,
            "generation": generation}


def put_status(http, ns, name, tags):
    """Replace status.tags through the status subresource; tags: {tag: [events]}."""
    st = assert_ok(http.get(is_path(ns, name, "status")), 200)
    st["status"]["tags"] = [{"tag": t, "items": items} for t, items in tags.items()]
    return assert_ok(http.put(is_path(ns, name, "status"), st), 200)


def history(stream, tag):
    for t in (stream.get("status") or {}).get("tags") or []:
        if t["tag"] == tag:
            return t.get("items") or []
    return []


def stored_size(server, ns, name):
    """Bytes of the stream's current stored value, read from the backend itself."""
    key = f"/image.openshift.io/imagestreams/{ns}/{name}"
    if server.backend == "etcd":
        keys = [k for k in server.etcd.keys(server.etcd_prefix) if k.endswith(key)]
        assert len(keys) == 1, keys
        return len(server.etcd.get(keys[0]))
    db = sqlite3.connect(f"file:{server.data_dir / 'store.db'}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT length(value) FROM kv_log WHERE key = ? ORDER BY rev DESC LIMIT 1",
                         (key,)).fetchone()
    finally:
        db.close()
    assert row, key
    return row[0]
