/* imagestreams/<name>/layers (is_layers.c, stored-resources §3.11): schema 2, OCI and
 * schema 1 images, a missing image, a manifest list with its children (IS-25), an image in
 * several tags listed once, lookups in sorted batches, a failing lookup. */
#include "fixtures.h"

#include "image/image_int.h"

#define L_DIGEST "sha256:ad9b" H8("1") H8("1") H8("1") H8("1") H8("1") H8("1") H8("1") "1111111111111111111111111111111111111111111111111111111111111111111111"
#define CHILD "sha256:bbb2" H8("2") H8("2") H8("2") H8("2") H8("2") H8("2") H8("2") "2222"
#define LAYER "sha256:729c" H8("3") H8("3") H8("3") H8("3") H8("3") H8("3") H8("3") "3333"
#define CFG "sha256:2bd2" H8("4") H8("4") H8("4") H8("4") H8("4") H8("4") H8("4") "4444"
#define GONE "sha256:" HEXF

typedef struct fake {
    json_t *images;    /* name -> Image */
    int calls;
    bool fail;
} fake_t;

static int fake_lookup(void *arg, const char *const *names, size_t n,
                       int (*each)(void *ctx, size_t i, const json_t *image), void *ctx)
{
    fake_t *f = arg;
    f->calls++;
    if (f->fail)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (i)
            assert_true(strcmp(names[i - 1], names[i]) < 0);   /* sorted, each once */
        if (each(ctx, i, json_object_get(f->images, names[i])) != 0)
            return -1;
    }
    return 0;
}

static json_t *stream_with(const char *items_latest, const char *items_other)
{
    char *s = xasprintf("{\"metadata\":{\"name\":\"is\",\"namespace\":\"ns\"},\"status\":{\"tags\":["
                        "{\"tag\":\"latest\",\"items\":%s},{\"tag\":\"other\",\"items\":%s}]}}",
                        items_latest, items_other);
    json_t *o = J(s);
    free(s);
    return o;
}

static void test_manifest_list(void **state)
{
    /* IS-25 */
    fake_t f = {J("{\"" L_DIGEST "\":{\"metadata\":{\"name\":\"" L_DIGEST "\"},"
                  "\"dockerImageManifestMediaType\":\"application/vnd.docker.distribution.manifest.list.v2+json\","
                  "\"dockerImageMetadata\":{\"Id\":\"" L_DIGEST "\"},"
                  "\"dockerImageManifests\":[{\"digest\":\"" CHILD "\",\"mediaType\":\"" MT_S2 "\"}]},"
                  "\"" CHILD "\":{\"metadata\":{\"name\":\"" CHILD "\"},\"dockerImageManifestMediaType\":\"" MT_S2 "\","
                  "\"dockerImageMetadata\":{\"Id\":\"" CFG "\"},"
                  "\"dockerImageLayers\":[{\"name\":\"" LAYER "\",\"size\":772986,"
                  "\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\"}]}}")};
    json_t *is = stream_with("[{\"image\":\"" L_DIGEST "\"}]", "[{\"image\":\"" GONE "\"}]");
    json_t *l = is_layers_build(is, fake_lookup, &f);
    assert_int_equal(f.calls, 2);   /* the history, then the children */
    assert_json(json_object_get(l, "images"),
                "{\"" L_DIGEST "\":{\"imageMissing\":false,\"layers\":null,\"config\":null,\"manifests\":[\"" CHILD "\"]},"
                "\"" CHILD "\":{\"imageMissing\":false,\"layers\":[\"" LAYER "\"],\"config\":\"" CFG "\"},"
                "\"" GONE "\":{\"imageMissing\":true,\"layers\":null,\"config\":null}}");
    assert_json(json_object_get(l, "blobs"),
                "{\"" LAYER "\":{\"size\":772986,\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\"},"
                "\"" CFG "\":{\"size\":null,\"mediaType\":\"application/vnd.docker.container.image.v1+json\"},"
                "\"" CHILD "\":{\"size\":null,\"mediaType\":\"" MT_S2 "\"},"
                "\"" L_DIGEST "\":{\"size\":null,\"mediaType\":\"application/vnd.docker.distribution.manifest.list.v2+json\"}}");
    assert_string_equal(ij_str(l, "kind"), "ImageStreamLayers");
    assert_string_equal(ij_str(l, "apiVersion"), "image.openshift.io/v1");
    assert_json(json_object_get(l, "metadata"), "{\"name\":\"is\",\"namespace\":\"ns\"}");
    json_decref(l);
    json_decref(is);
    json_decref(f.images);
}

static void test_oci_schema1_shared(void **state)
{
    /* OCI: config with the OCI media type; schema 1 and no media type: no config; an image
     * in two tags and twice in one history is listed once; a layer in two images once */
    fake_t f = {J("{\"sha256:" HEXA "\":{\"dockerImageManifestMediaType\":\"" MT_OCI_ "\","
                  "\"dockerImageMetadata\":{\"Id\":\"" CONFIG_DIGEST "\"},"
                  "\"dockerImageLayers\":[{\"name\":\"sha256:" HEXB "\",\"size\":250,\"mediaType\":\"m\"}]},"
                  "\"sha256:" HEXC "\":{\"dockerImageManifestMediaType\":\"application/vnd.docker.distribution.manifest.v1+json\","
                  "\"dockerImageMetadata\":{\"Id\":\"cccc\"},"
                  "\"dockerImageLayers\":[{\"name\":\"sha256:" HEXB "\",\"size\":250,\"mediaType\":\"m\"},"
                  "{\"name\":\"sha256:" HEXD "\",\"size\":7,\"mediaType\":\"m\"}]},"
                  "\"plain\":{\"dockerImageMetadata\":{\"Id\":\"x\"}}}")};
    json_t *is = stream_with("[{\"image\":\"sha256:" HEXA "\"},{\"image\":\"plain\"},{\"image\":\"sha256:" HEXA "\"}]",
                             "[{\"image\":\"sha256:" HEXC "\"},{\"image\":\"\"},{\"image\":\"sha256:" HEXA "\"}]");
    json_t *l = is_layers_build(is, fake_lookup, &f);
    assert_int_equal(f.calls, 1);
    json_t *images = json_object_get(l, "images");
    assert_int_equal(json_object_size(images), 3);
    assert_json(json_object_get(images, "sha256:" HEXA),
                "{\"imageMissing\":false,\"layers\":[\"sha256:" HEXB "\"],\"config\":\"" CONFIG_DIGEST "\"}");
    assert_json(json_object_get(images, "sha256:" HEXC),
                "{\"imageMissing\":false,\"layers\":[\"sha256:" HEXB "\",\"sha256:" HEXD "\"],\"config\":null}");
    assert_json(json_object_get(images, "plain"), "{\"imageMissing\":false,\"layers\":null,\"config\":null}");
    json_t *blobs = json_object_get(l, "blobs");
    assert_json(json_object_get(blobs, CONFIG_DIGEST), "{\"size\":null,\"mediaType\":\"application/vnd.oci.image.config.v1+json\"}");
    assert_json(json_object_get(blobs, "plain"), "{\"size\":null,\"mediaType\":\"" MT_S2 "\"}");
    assert_json(json_object_get(blobs, "sha256:" HEXC),
                "{\"size\":null,\"mediaType\":\"application/vnd.docker.distribution.manifest.v1+json\"}");
    assert_null(json_object_get(blobs, "cccc"));
    assert_int_equal(json_object_size(blobs), 6);   /* 2 layers, 1 config, 3 images */
    json_decref(l);
    json_decref(is);
    json_decref(f.images);
}

static void test_empty_and_failing(void **state)
{
    fake_t f = {json_object()};
    json_t *is = J("{\"metadata\":{\"name\":\"is\"},\"status\":{}}");
    json_t *l = is_layers_build(is, fake_lookup, &f);
    assert_int_equal(f.calls, 0);
    assert_json(json_object_get(l, "images"), "{}");
    assert_json(json_object_get(l, "blobs"), "{}");
    json_decref(l);
    json_decref(is);
    is = stream_with("[{\"image\":\"x\"}]", "null");
    f.fail = true;
    assert_null(is_layers_build(is, fake_lookup, &f));
    json_decref(is);
    json_decref(f.images);
}

static void test_list_cycle_bounded(void **state)
{
    /* a list naming itself and a list naming the first: each image once, no endless rounds */
    fake_t f = {J("{\"a\":{\"dockerImageManifests\":[{\"digest\":\"a\"},{\"digest\":\"b\"}]},"
                  "\"b\":{\"dockerImageManifests\":[{\"digest\":\"a\"}]}}")};
    json_t *is = stream_with("[{\"image\":\"a\"}]", "null");
    json_t *l = is_layers_build(is, fake_lookup, &f);
    assert_int_equal(f.calls, 2);
    assert_int_equal(json_object_size(json_object_get(l, "images")), 2);
    json_decref(l);
    json_decref(is);
    json_decref(f.images);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_manifest_list),
        cmocka_unit_test(test_oci_schema1_shared),
        cmocka_unit_test(test_empty_and_failing),
        cmocka_unit_test(test_list_cycle_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
