"""ImageSignature (stored-resources.md §2, docs/signatures.md): create and delete by
<image>@<signature>, the fields and conditions the server reads from an atomic
("simple signing") signature made here with a real gpg key, --signature-keyring,
dry run, kubectl, and a restart after SIGKILL on both backends."""

import base64
import hashlib
import json
import os
import shutil
import subprocess
import tempfile

import pytest

from e2e_helpers import BASE, assert_ok, assert_status, img_path, make_image, uniq

SIG_PATH = f"{BASE}/imagesignatures"
GPG = shutil.which("gpg")
pytestmark = pytest.mark.skipif(GPG is None, reason="gpg (Debian package gpg) is not installed")


# ---------------------------------------------------------------- gpg in a private home

class Signer:
    """A throw-away GNUPGHOME with one ed25519 key (short path: gpg-agent's socket
    lives there)."""

    def __init__(self, name):
        self.home = tempfile.mkdtemp(prefix="ias-gpg-")
        self.uid = f"{name} <{name.lower().replace(' ', '.')}@example.com>"
        self.gpg("--quick-gen-key", self.uid, "ed25519", "sign", "never")
        out = self.gpg("--list-keys", "--with-colons").decode()
        self.fpr = [ln.split(":")[9] for ln in out.splitlines() if ln.startswith("fpr:")][0]
        self.key_id = "0x" + self.fpr[-16:].lower()

    def gpg(self, *args, input=None):
        r = subprocess.run([GPG, "--homedir", self.home, "--batch", "--yes", "--pinentry-mode",
                            "loopback", "--passphrase", "", *args], input=input,
                           capture_output=True, timeout=60)
        assert r.returncode == 0, r.stderr.decode(errors="replace")
        return r.stdout

    def sign(self, payload, compress=True):
        """gpg --sign of the bytes: exactly the atomic signature format."""
        extra = [] if compress else ["--compress-algo", "none"]
        return self.gpg(*extra, "--sign", input=payload)

    def export(self, path):
        with open(path, "wb") as f:
            f.write(self.gpg("--export"))
        return path

    def close(self):
        subprocess.run(["gpgconf", "--homedir", self.home, "--kill", "all"],
                       capture_output=True, timeout=30)
        shutil.rmtree(self.home, ignore_errors=True)


@pytest.fixture(scope="module")
def signer():
    s = Signer("Test Signer")
    yield s
    s.close()


@pytest.fixture(scope="module")
def stranger():
    s = Signer("Someone Else")
    yield s
    s.close()


def payload(digest, ref="registry.example.com/ns/app:v1", creator="e2e", timestamp=1700000000):
    return json.dumps({"critical": {"identity": {"docker-reference": ref},
                                    "image": {"docker-manifest-digest": digest},
                                    "type": "atomic container signature"},
                       "optional": {"creator": creator, "timestamp": timestamp}},
                      separators=(",", ":")).encode()


def new_image(http):
    """An Image named by a digest, as real images are."""
    digest = "sha256:" + hashlib.sha256(uniq("img").encode()).hexdigest()
    assert_ok(http.post(img_path(), make_image(digest, ref=f"registry.example.com/ns/app@{digest}")), 201)
    return digest


def sig_body(name, content, type_="AtomicImageV1", **extra):
    body = {"apiVersion": "image.openshift.io/v1", "kind": "ImageSignature",
            "metadata": {"name": name}, "type": type_,
            "content": base64.b64encode(content).decode()}
    body.update(extra)
    return body


def create(http, name, content, code=201, **kw):
    r = http.post(SIG_PATH, sig_body(name, content, **kw))
    return assert_ok(r, code)


def conditions(sig):
    return {c["type"]: c for c in sig.get("conditions", [])}


def image_sigs(http, image):
    return assert_ok(http.get(img_path(image))).get("signatures", [])


# ---------------------------------------------------------------- tests

def test_signed_by_key_not_in_a_keyring(http, signer):
    image = new_image(http)
    sig = create(http, f"{image}@s1", signer.sign(payload(image)))
    assert sig["kind"] == "ImageSignature" and sig["apiVersion"] == "image.openshift.io/v1"
    md = sig["metadata"]
    assert md["name"] == f"{image}@s1" and md["uid"] and md["creationTimestamp"]
    assert sig["imageIdentity"] == "registry.example.com/ns/app:v1"
    assert sig["signedClaims"] == {"docker-manifest-digest": image}
    assert sig["created"].endswith("Z")
    # without the key only its id is known
    assert sig["issuedBy"] == {"commonName": signer.key_id}
    assert sig["issuedTo"] == {"publicKeyID": signer.key_id}
    c = conditions(sig)
    assert set(c) == {"Trusted", "ForImage"}
    assert (c["Trusted"]["status"], c["Trusted"]["reason"]) == ("False", "NoKeyring")
    assert signer.key_id in c["Trusted"]["message"]
    assert (c["ForImage"]["status"], c["ForImage"]["reason"]) == ("True", "DigestMatches")
    for cond in c.values():
        assert cond["lastProbeTime"] and cond["lastTransitionTime"]
    # the image holds it exactly as answered, without type meta
    stored = image_sigs(http, image)
    want = {k: v for k, v in sig.items() if k not in ("kind", "apiVersion")}
    assert stored == [want]


def test_client_set_fields_are_replaced(http, signer):
    """§2.3: what a client sends in the verifier fields is not kept (S-5)."""
    image = new_image(http)
    sig = create(http, f"{image}@s1", b"blob", imageIdentity="x", signedClaims={"a": "b"},
                 issuedBy={"organization": "o"},
                 conditions=[{"type": "Trusted", "status": "True"}])
    assert "imageIdentity" not in sig and "signedClaims" not in sig and "issuedBy" not in sig
    assert [c["reason"] for c in sig["conditions"]] == ["NotASignature", "NotASignature"]


def test_digest_mismatch(http, signer):
    image = new_image(http)
    other = "sha256:" + "e" * 64
    sig = create(http, f"{image}@s1", signer.sign(payload(other)))
    c = conditions(sig)
    assert (c["ForImage"]["status"], c["ForImage"]["reason"]) == ("False", "DigestMismatch")
    assert other in c["ForImage"]["message"]
    assert sig["signedClaims"] == {"docker-manifest-digest": other}


@pytest.mark.parametrize("what", ["text", "truncated", "random", "json", "plain-signed-text",
                                  "not-atomic-json", "huge", "bomb"])
def test_content_that_is_not_a_signature_is_kept(http, signer, what):
    image = new_image(http)
    good = signer.sign(payload(image))
    content = {
        "text": b"blob",
        "truncated": good[:len(good) // 2],
        "random": bytes([0xa3]) + os.urandom(300),
        "json": payload(image),
        "plain-signed-text": signer.sign(b"hello, world"),
        "not-atomic-json": signer.sign(b'{"critical":{"type":"something else"},"optional":{}}'),
        "huge": b"\xa3" + os.urandom(70 * 1024),
        "bomb": signer.sign(b" " * (4 << 20)),   # 4 MiB of signed text in a few KB
    }[what]
    sig = create(http, f"{image}@{what}", content)
    c = conditions(sig)
    assert set(c) == {"Trusted", "ForImage"}
    for cond in c.values():
        assert (cond["status"], cond["reason"]) == ("False", "NotASignature"), cond
        assert cond["message"].startswith("the content is not")
    for f in ("imageIdentity", "signedClaims", "created", "issuedBy", "issuedTo"):
        assert f not in sig
    if what == "bomb":
        assert len(content) < 64 * 1024 and "larger than 65536 bytes" in c["Trusted"]["message"]
    if what in ("plain-signed-text", "not-atomic-json"):
        assert "atomic container signature" in c["Trusted"]["message"]
        assert signer.key_id in c["Trusted"]["message"]
    stored = image_sigs(http, image)[0]
    assert base64.b64decode(stored["content"]) == content


def test_other_types_are_not_read(http, signer):
    image = new_image(http)
    sig = create(http, f"{image}@s1", signer.sign(payload(image)), type_="custom")
    c = conditions(sig)
    for cond in c.values():
        assert (cond["status"], cond["reason"]) == ("Unknown", "NotRead")
    assert "imageIdentity" not in sig


def test_duplicates_missing_image_bad_names(http, signer):
    image = new_image(http)
    content = signer.sign(payload(image))
    create(http, f"{image}@s1", content)
    name = f"{image}@s1"
    assert_status(http.post(SIG_PATH, sig_body(name, content)), 409, "AlreadyExists",
                  f'imageSignatures.image.openshift.io "{name}" already exists')
    # same type and byte-identical content under another name (S-6)
    assert_status(http.post(SIG_PATH, sig_body(f"{image}@s2", content)), 409, "AlreadyExists",
                  f'imageSignatures.image.openshift.io "{image}@s2" already exists')
    # same content, other type: a different signature
    create(http, f"{image}@s3", content, type_="other")
    # S-1
    assert_status(http.post(SIG_PATH, sig_body("sha256:nope@s1", b"blob")), 404, "NotFound",
                  'images.image.openshift.io "sha256:nope" not found')
    # S-2, S-3, S-4
    body = assert_status(http.post(SIG_PATH, {"metadata": {"name": "notype"}, "content": "YmxvYg=="}),
                         422, "Invalid")
    assert body["message"] == ('ImageSignature.image.openshift.io "notype" is invalid: '
                               '[metadata.name: Invalid value: "notype": name must be of format '
                               '<imageName>@<signatureName>, type: Required value]')
    assert body["details"]["kind"] == "ImageSignature"
    assert_status(http.post(SIG_PATH, {"metadata": {"name": "img@nocontent"}, "type": "invalid"}),
                  422, "Invalid", 'ImageSignature.image.openshift.io "img@nocontent" is invalid: '
                  'content: Required value')
    assert_status(http.post(SIG_PATH, sig_body(f"{image}@l", b"x") | {
        "metadata": {"name": f"{image}@l", "labels": {"a": "b"}}}), 422, "Invalid",
        contains="metadata.labels: Forbidden: signature labels cannot be set")
    assert_status(http.post(SIG_PATH, sig_body("a@b@c", b"x")), 422, "Invalid",
                  contains="name must be of format <imageName>@<signatureName>")
    assert_status(http.post(SIG_PATH, {**sig_body("x@y", b"x"), "content": "%%%"}), 400, "BadRequest")
    assert [s["metadata"]["name"] for s in image_sigs(http, image)] == [f"{image}@s1", f"{image}@s3"]


def test_delete(http, signer):
    image = new_image(http)
    for n in ("s1", "s2", "s3"):
        create(http, f"{image}@{n}", n.encode())
    r = http.delete(f"{SIG_PATH}/{image}@s2")
    assert r.status_code == 200, r.text
    assert r.json() == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
    assert [s["metadata"]["name"] for s in image_sigs(http, image)] == [f"{image}@s1", f"{image}@s3"]
    assert_status(http.delete(f"{SIG_PATH}/{image}@s2"), 404, "NotFound",
                  f'imageSignatures.image.openshift.io "{image}@s2" not found')
    assert_status(http.delete(f"{SIG_PATH}/sha256:nope@s1"), 404, "NotFound",
                  'images.image.openshift.io "sha256:nope" not found')
    for bad in ("nosep", "a@b@c", "a@"):
        assert_status(http.delete(f"{SIG_PATH}/{bad}"), 400, "BadRequest",
                      "ImageSignatures must be accessed with <imageName>@<signatureName>")
    # create and delete only
    assert http.get(f"{SIG_PATH}/{image}@s1").status_code == 405
    assert http.get(SIG_PATH).status_code == 405


def test_dry_run_writes_nothing(http, signer):
    image = new_image(http)
    rv = assert_ok(http.get(img_path(image)))["metadata"]["resourceVersion"]
    r = http.post(SIG_PATH, sig_body(f"{image}@s1", signer.sign(payload(image))),
                  params={"dryRun": "All"})
    sig = assert_ok(r, 201)
    assert sig["imageIdentity"] == "registry.example.com/ns/app:v1"
    img = assert_ok(http.get(img_path(image)))
    assert "signatures" not in img and img["metadata"]["resourceVersion"] == rv
    create(http, f"{image}@s1", b"blob")
    rv = assert_ok(http.get(img_path(image)))["metadata"]["resourceVersion"]
    # still conflicts under dry run
    assert_status(http.post(SIG_PATH, sig_body(f"{image}@s1", b"other"), params={"dryRun": "All"}),
                  409, "AlreadyExists")
    r = http.delete(f"{SIG_PATH}/{image}@s1", params={"dryRun": "All"})
    assert r.status_code == 200, r.text
    r = http.delete(f"{SIG_PATH}/{image}@s1", body={"dryRun": ["All"]})
    assert r.status_code == 200, r.text
    img = assert_ok(http.get(img_path(image)))
    assert len(img["signatures"]) == 1 and img["metadata"]["resourceVersion"] == rv


def test_image_updates_keep_signatures(http, signer):
    """What this endpoint stores passes Image validation: PUT and patches of the Image
    keep the signatures, fields and conditions as written."""
    image = new_image(http)
    create(http, f"{image}@s1", signer.sign(payload(image)))
    create(http, f"{image}@s2", b"blob")
    create(http, f"{image}@s3", b"x", type_="custom")
    before = image_sigs(http, image)
    img = assert_ok(http.get(img_path(image)))
    img["metadata"]["labels"] = {"k": "v"}
    assert assert_ok(http.put(img_path(image), img), 200)["signatures"] == before
    out = assert_ok(http.patch(img_path(image), {"metadata": {"annotations": {"a": "b"}}}), 200)
    assert out["signatures"] == before
    assert image_sigs(http, image) == before


def test_keyring_marks_verified(server_factory, signer, stranger, tmp_path):
    srv = server_factory("--signature-keyring", signer.export(str(tmp_path / "keys.gpg")))
    h = srv.http
    image = new_image(h)
    sig = create(h, f"{image}@good", signer.sign(payload(image)))
    c = conditions(sig)
    assert (c["Trusted"]["status"], c["Trusted"]["reason"]) == ("True", "Verified")
    assert signer.uid in c["Trusted"]["message"]
    assert sig["issuedBy"] == {"commonName": signer.uid}
    assert sig["issuedTo"] == {"commonName": signer.uid, "publicKeyID": signer.key_id}
    assert (c["ForImage"]["status"], c["ForImage"]["reason"]) == ("True", "DigestMatches")
    # a key that is not in the keyring
    sig = create(h, f"{image}@stranger", stranger.sign(payload(image)))
    c = conditions(sig)
    assert (c["Trusted"]["status"], c["Trusted"]["reason"]) == ("False", "UnknownKey")
    assert sig["issuedTo"] == {"publicKeyID": stranger.key_id}
    # signed text changed after signing (uncompressed, so the JSON stays readable)
    raw = bytearray(signer.sign(payload(image, creator="abcd"), compress=False))
    at = raw.index(b'"creator":"abcd"') + len('"creator":"')
    raw[at] = ord("x")
    sig = create(h, f"{image}@tampered", bytes(raw))
    c = conditions(sig)
    assert (c["Trusted"]["status"], c["Trusted"]["reason"]) == ("False", "BadSignature")
    assert sig["issuedBy"] == {"commonName": signer.uid}
    # an armored keyring file works too
    armored = tmp_path / "keys.asc"
    armored.write_bytes(signer.gpg("--armor", "--export"))
    srv2 = server_factory("--signature-keyring", str(armored))
    image2 = new_image(srv2.http)
    sig = create(srv2.http, f"{image2}@good", signer.sign(payload(image2)))
    assert conditions(sig)["Trusted"]["reason"] == "Verified"


def test_bad_keyring_stops_the_server(tmp_path):
    from e2e_helpers import Server, ServerError
    bad = tmp_path / "bad.gpg"
    bad.write_bytes(b"not a key")
    for path in (str(bad), str(tmp_path / "missing.gpg")):
        srv = Server(tmp_path / f"s-{os.path.basename(path)}", extra_args=["--signature-keyring", path])
        with pytest.raises(ServerError) as e:
            srv.start(ready_timeout=15)
        assert "--signature-keyring" in str(e.value)


def test_kubectl_create_get_delete(server, signer, tmp_path):
    http = server.http
    image = new_image(http)
    name = f"{image}@kubectl"
    manifest = tmp_path / "sig.json"
    manifest.write_text(json.dumps(sig_body(name, signer.sign(payload(image)))))
    _, out, _ = server.kubectl("create", "-f", str(manifest))
    assert out.strip() == f"imagesignature.image.openshift.io/{name} created"
    _, out, _ = server.kubectl("get", "image", image, "-o", "yaml")
    assert f"name: {name}" in out and "imageIdentity: registry.example.com/ns/app:v1" in out
    assert "reason: DigestMatches" in out
    rc, _, err = server.kubectl("create", "-f", str(manifest), check=False)
    assert rc != 0 and "already exists" in err
    _, out, _ = server.kubectl("delete", "imagesignature", name)
    assert f'imagesignature.image.openshift.io "{name}" deleted' in out
    assert image_sigs(http, image) == []


def test_signatures_survive_kill9_restart(server_factory, signer, tmp_path):
    srv = server_factory("--signature-keyring", signer.export(str(tmp_path / "keys.gpg")))
    h = srv.http
    images = [new_image(h) for _ in range(3)]
    for i, image in enumerate(images):
        create(h, f"{image}@good", signer.sign(payload(image)))
        create(h, f"{image}@junk", f"junk-{i}".encode())
    h.delete(f"{SIG_PATH}/{images[2]}@junk")
    before = {i: assert_ok(h.get(img_path(i))) for i in images}
    assert conditions(before[images[0]]["signatures"][0])["Trusted"]["reason"] == "Verified"
    srv.kill9()
    srv.start()
    after = {i: assert_ok(srv.http.get(img_path(i))) for i in images}
    assert after == before
    assert [s["metadata"]["name"] for s in after[images[2]]["signatures"]] == [f"{images[2]}@good"]
    # still a working endpoint on the restarted server
    create(srv.http, f"{images[2]}@junk", b"junk-again")
    assert_status(srv.http.post(SIG_PATH, sig_body(f"{images[0]}@good", b"x")), 409, "AlreadyExists")
