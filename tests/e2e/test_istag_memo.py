"""An ImageStreamTag GET is answered from memory while its stream and its image are
unchanged (api/get_memo.c): every change of either shows at once, on both backends, and
what memory answers is byte for byte what the slow path made."""

from e2e_helpers import MERGE, assert_ok, img_path, is_path
from tag_helpers import event, istag_path, make_stream, new_image, set_status


def get_raw(http, path):
    r = http.get(path)
    return r.status_code, r.content


def test_answer_follows_stream_and_image(http, ns):
    a, b = new_image(http), new_image(http)
    make_stream(http, ns, status={"latest": [event(a)]})
    p = istag_path(ns, "test:latest")
    code, first = get_raw(http, p)
    assert code == 200
    for _ in range(5):   # served again: identical bytes
        assert get_raw(http, p) == (200, first)
    # the stream moves the tag: the next GET shows the new image
    set_status(http, ns, "test", {"latest": [event(b), event(a)]})
    assert assert_ok(http.get(p))["image"]["metadata"]["name"] == b
    # the image changes (a label through a patch): shown at once
    assert_ok(http.patch(img_path(b), {"metadata": {"labels": {"seen": "yes"}}}, MERGE))
    assert assert_ok(http.get(p))["image"]["metadata"]["labels"] == {"seen": "yes"}
    # a spec tag's annotations (a stream change) reach the tag and its image
    s = assert_ok(http.get(is_path(ns, "test")))
    s["spec"]["tags"] = [{"name": "latest", "annotations": {"color": "blue"}}]
    assert_ok(http.put(is_path(ns, "test"), s))
    got = assert_ok(http.get(p))
    assert got["metadata"]["annotations"] == {"color": "blue"}
    assert got["image"]["metadata"]["annotations"]["color"] == "blue"
    # the image goes: 404 images, not the kept answer
    assert http.delete(img_path(b)).status_code == 200
    r = http.get(p)
    assert r.status_code == 404 and r.json()["details"]["kind"] == "images"
    # the stream goes and comes back with the same tag and image: a new answer
    new_b = new_image(http, name=b)
    assert http.delete(is_path(ns, "test")).status_code == 200
    assert http.get(p).status_code == 404
    make_stream(http, ns, status={"latest": [event(new_b)]})
    again = assert_ok(http.get(p))
    assert again["image"]["metadata"]["name"] == b
    assert "labels" not in again["image"]["metadata"]


def test_kept_answer_in_yaml_and_pretty(http, ns):
    """YAML and pretty output are made from the kept bytes too."""
    a = new_image(http)
    make_stream(http, ns, status={"v1": [event(a)]})
    p = istag_path(ns, "test:v1")
    code, warm = get_raw(http, p)
    code2, warm2 = get_raw(http, p)
    assert code == code2 == 200 and warm == warm2
    y = http.get(p, headers={"Accept": "application/yaml"})
    assert y.status_code == 200 and y.headers["Content-Type"].startswith("application/yaml")
    assert b"name: test:v1" in y.content
    pretty = http.get(p, params={"pretty": "true"})
    assert pretty.status_code == 200 and pretty.content.startswith(b"{\n")
