"""Deterministic test images written as OCI image layouts (index.json + blobs).

Every byte is a function of the arguments (tar and gzip mtimes are 0, owners
0, file contents derived from a seed), so digests are stable across runs and
machines. Layers are tiny (a few hundred bytes) to keep pushes fast.

    lay = OciLayout(dir)
    img = lay.add_image("v1", seed="a")                  # single-platform OCI image
    idx = lay.add_index("multi", [lay.image(seed="x", arch="amd64"), ...])
    lay.write()

skopeo reads the result as `oci:DIR:TAG`; `--format v2s2` converts to Docker
schema 2 on push (the digest then changes: ask the registry for it)."""

import gzip
import hashlib
import io
import json
import os
import tarfile

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
REF_NAME = "org.opencontainers.image.ref.name"
CREATED = "2020-01-01T00:00:00Z"


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def make_layer(seed, size=64):
    """(gzipped tar, uncompressed tar) holding one file whose content derives from seed."""
    content = (hashlib.sha256(seed.encode()).hexdigest() * (size // 64 + 1))[:size].encode()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo(f"layer-{hashlib.sha256(seed.encode()).hexdigest()[:12]}.txt")
        info.size, info.mtime, info.mode = len(content), 0, 0o644
        tar.addfile(info, io.BytesIO(content))
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0, filename="") as g:
        g.write(raw.getvalue())
    return gz.getvalue(), raw.getvalue()


class Image:
    """One platform's image as written into a layout: digests and raw bytes."""

    def __init__(self, manifest, config, layers, platform):
        self.manifest_bytes = canonical(manifest)
        self.digest = sha256(self.manifest_bytes)
        self.config_bytes = canonical(config)
        self.config_digest = sha256(self.config_bytes)
        self.layers = layers  # [(digest, gz bytes)]
        self.platform = platform
        self.media_type = OCI_MANIFEST

    def descriptor(self):
        d = {"mediaType": OCI_MANIFEST, "digest": self.digest, "size": len(self.manifest_bytes)}
        if self.platform:
            d["platform"] = dict(self.platform)
        return d

    def blobs(self):
        yield self.digest, self.manifest_bytes
        yield self.config_digest, self.config_bytes
        yield from self.layers


class Index:
    def __init__(self, images):
        self.images = images
        self.manifest_bytes = canonical({"schemaVersion": 2, "mediaType": OCI_INDEX,
                                         "manifests": [i.descriptor() for i in images]})
        self.digest = sha256(self.manifest_bytes)
        self.media_type = OCI_INDEX

    def descriptor(self):
        return {"mediaType": OCI_INDEX, "digest": self.digest, "size": len(self.manifest_bytes)}

    def blobs(self):
        yield self.digest, self.manifest_bytes
        for i in self.images:
            yield from i.blobs()


def build_image(seed, arch="amd64", os_="linux", variant=None, layers=1, labels=None,
                layer_seeds=None):
    """An Image: `layers` layers from seed (or the given layer_seeds, to share layers)."""
    layer_seeds = layer_seeds or [f"{seed}/layer{n}" for n in range(layers)]
    blobs, diff_ids, descs = [], [], []
    for ls in layer_seeds:
        gz, raw = make_layer(ls)
        blobs.append((sha256(gz), gz))
        diff_ids.append(sha256(raw))
        descs.append({"mediaType": OCI_LAYER, "digest": sha256(gz), "size": len(gz)})
    platform = {"architecture": arch, "os": os_}
    if variant:
        platform["variant"] = variant
    config = {"created": CREATED, "architecture": arch, "os": os_,
              "config": {"Labels": dict(labels or {}, seed=seed), "Env": ["PATH=/bin"]},
              "rootfs": {"type": "layers", "diff_ids": diff_ids},
              "history": [{"created": CREATED, "created_by": f"layer {ls}"} for ls in layer_seeds]}
    if variant:
        config["variant"] = variant
    cfg = canonical(config)
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "digest": sha256(cfg), "size": len(cfg)},
                "layers": descs}
    return Image(manifest, config, blobs, platform)


class OciLayout:
    """An OCI image layout directory; tags are index.json ref.name annotations."""

    def __init__(self, path):
        self.path = str(path)
        self.tags = {}  # tag -> Image | Index

    def add_image(self, tag, seed=None, **kw):
        img = build_image(seed or tag, **kw)
        self.tags[tag] = img
        return img

    def add_index(self, tag, images):
        idx = Index(images)
        self.tags[tag] = idx
        return idx

    def write(self):
        blob_dir = os.path.join(self.path, "blobs", "sha256")
        os.makedirs(blob_dir, exist_ok=True)
        with open(os.path.join(self.path, "oci-layout"), "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)
        for item in self.tags.values():
            for digest, data in item.blobs():
                p = os.path.join(blob_dir, digest.split(":", 1)[1])
                if not os.path.exists(p):
                    with open(p, "wb") as f:
                        f.write(data)
        manifests = []
        for tag, item in sorted(self.tags.items()):
            d = item.descriptor()
            d.pop("platform", None)
            d["annotations"] = {REF_NAME: tag}
            manifests.append(d)
        with open(os.path.join(self.path, "index.json"), "wb") as f:
            f.write(canonical({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}))
        return self

    def ref(self, tag):
        return f"oci:{self.path}:{tag}"


MANY_TAGS = 65


def standard_layouts(root):
    """The suite's standard images, one layout per repository shape.

    single:  tags v1, v2 (distinct single-platform OCI images; v2 has 2 layers)
    docker:  tag latest (pushed with --format v2s2: Docker schema 2)
    multi:   tag latest (OCI index: linux/amd64, linux/arm64/v8, linux/arm/v7; also pushed
             with --format v2s2 --all as a Docker manifest list)
    many:    tags tag-00 .. tag-64 (distinct images sharing one base layer)"""
    out = {}
    single = OciLayout(os.path.join(root, "single"))
    single.add_image("v1", seed="single-v1")
    single.add_image("v2", seed="single-v2", layers=2)
    out["single"] = single.write()
    docker = OciLayout(os.path.join(root, "docker"))
    docker.add_image("latest", seed="docker-latest")
    out["docker"] = docker.write()
    multi = OciLayout(os.path.join(root, "multi"))
    multi.add_index("latest", [build_image("multi-amd64", arch="amd64"),
                               build_image("multi-arm64", arch="arm64", variant="v8"),
                               build_image("multi-armv7", arch="arm", variant="v7")])
    out["multi"] = multi.write()
    many = OciLayout(os.path.join(root, "many"))
    for n in range(MANY_TAGS):
        many.add_image(f"tag-{n:02d}", seed=f"many-{n}",
                       layer_seeds=["many-base", f"many-{n}"], labels={"n": str(n)})
    out["many"] = many.write()
    return out
