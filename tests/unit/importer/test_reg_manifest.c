/* importer/manifest_parse.c: classification, Content-Type/body consistency, descriptors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "importer/importer.h"
#include "util/util.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"

static const char *S2 = "{\"schemaVersion\":2,\"mediaType\":\"" REG_MT_SCHEMA2 "\","
                        "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"size\":7,\"digest\":\"" D1 "\"},"
                        "\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":100,\"digest\":\"" D2 "\"},"
                        "{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":200,\"digest\":\"" D3 "\"}]}";
static const char *OCI = "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"size\":7,\"digest\":\"" D1 "\"},"
                         "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"size\":10,\"digest\":\"" D2 "\"}]}";
static const char *LIST = "{\"schemaVersion\":2,\"mediaType\":\"" REG_MT_LIST "\",\"manifests\":["
                          "{\"mediaType\":\"" REG_MT_SCHEMA2 "\",\"size\":528,\"digest\":\"" D1 "\",\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
                          "{\"mediaType\":\"" REG_MT_SCHEMA2 "\",\"size\":529,\"digest\":\"" D2 "\",\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\"}}]}";
static const char *INDEX = "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" REG_MT_OCI "\",\"size\":400,\"digest\":\"" D3 "\","
                           "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\"}}]}";
static const char *S1 = "{\"schemaVersion\":1,\"name\":\"lib/app\",\"tag\":\"v1\",\"architecture\":\"amd64\","
                        "\"fsLayers\":[{\"blobSum\":\"" D3 "\"},{\"blobSum\":\"" D2 "\"}],"
                        "\"history\":[{\"v1Compatibility\":\"{}\"},{\"v1Compatibility\":\"{}\"}],"
                        "\"signatures\":[{\"protected\":\"e30\",\"signature\":\"x\"}]}";

static void parse_ok(const char *ct, const char *body, reg_manifest_t *m)
{
    char *err = NULL;
    int rc = reg_manifest_parse(ct, body, strlen(body), m, &err);
    if (rc)
        fail_msg("%s: %s", ct ? ct : "(null)", err);
}

static void parse_bad(const char *ct, const char *body, const char *want)
{
    reg_manifest_t m;
    char *err = NULL;
    assert_int_equal(reg_manifest_parse(ct, body, strlen(body), &m, &err), -1);
    assert_non_null(err);
    if (!strstr(err, want))
        fail_msg("error \"%s\" does not contain \"%s\"", err, want);
    free(err);
    assert_int_equal(m.nlayers + m.nchildren, 0);
    assert_null(m.layers);
}

static void test_schema2(void **state)
{
    reg_manifest_t m;
    parse_ok(REG_MT_SCHEMA2, S2, &m);
    assert_int_equal(m.kind, REG_KIND_SCHEMA2);
    assert_string_equal(m.media_type, REG_MT_SCHEMA2);
    assert_string_equal(m.config.digest, D1);
    assert_int_equal(m.config.size, 7);
    assert_int_equal(m.nlayers, 2);
    assert_string_equal(m.layers[0].digest, D2);
    assert_int_equal(m.layers[1].size, 200);
    assert_false(reg_manifest_is_list(&m));
    reg_manifest_free(&m);
    /* parameters and case of the Content-Type are ignored; a generic type lets the body decide */
    parse_ok("Application/Vnd.Docker.Distribution.Manifest.V2+JSON; charset=utf-8", S2, &m);
    assert_int_equal(m.kind, REG_KIND_SCHEMA2);
    reg_manifest_free(&m);
    parse_ok("application/json", S2, &m);
    assert_int_equal(m.kind, REG_KIND_SCHEMA2);
    reg_manifest_free(&m);
}

static void test_oci_and_index(void **state)
{
    reg_manifest_t m;
    parse_ok(REG_MT_OCI, OCI, &m);
    assert_int_equal(m.kind, REG_KIND_OCI);
    assert_int_equal(m.nlayers, 1);
    reg_manifest_free(&m);
    parse_ok(NULL, OCI, &m); /* no mediaType, config -> OCI manifest */
    assert_int_equal(m.kind, REG_KIND_OCI);
    reg_manifest_free(&m);
    parse_ok(REG_MT_OCI_INDEX, INDEX, &m);
    assert_int_equal(m.kind, REG_KIND_OCI_INDEX);
    assert_true(reg_manifest_is_list(&m));
    assert_int_equal(m.nchildren, 1);
    assert_string_equal(m.children[0].architecture, "arm64");
    assert_string_equal(m.children[0].variant, "");
    reg_manifest_free(&m);
    parse_ok("", INDEX, &m);
    assert_int_equal(m.kind, REG_KIND_OCI_INDEX);
    reg_manifest_free(&m);
}

static void test_list(void **state)
{
    reg_manifest_t m;
    parse_ok(REG_MT_LIST, LIST, &m);
    assert_int_equal(m.kind, REG_KIND_LIST);
    assert_int_equal(m.nchildren, 2);
    assert_string_equal(m.children[0].digest, D1);
    assert_int_equal(m.children[0].size, 528);
    assert_string_equal(m.children[0].os, "linux");
    assert_string_equal(m.children[0].architecture, "amd64");
    assert_string_equal(m.children[1].variant, "v7");
    assert_string_equal(m.children[1].media_type, REG_MT_SCHEMA2);
    reg_manifest_free(&m);
}

static void test_schema1(void **state)
{
    reg_manifest_t m;
    parse_ok(REG_MT_SCHEMA1_SIGNED, S1, &m);
    assert_int_equal(m.kind, REG_KIND_SCHEMA1);
    assert_true(m.signed_schema1);
    assert_int_equal(m.nlayers, 2);
    assert_string_equal(m.layers[0].digest, D2); /* base first: fsLayers are newest first */
    assert_string_equal(m.layers[1].digest, D3);
    reg_manifest_free(&m);
    parse_ok("application/json", S1, &m);
    assert_int_equal(m.kind, REG_KIND_SCHEMA1);
    reg_manifest_free(&m);
}

/* the Content-Type and the body must agree */
static void test_mismatch(void **state)
{
    parse_bad(REG_MT_OCI, S2, "does not match");
    parse_bad(REG_MT_SCHEMA2, OCI, "does not match");  /* schema 2 must name itself */
    parse_bad(REG_MT_LIST, INDEX, "does not match");
    parse_bad(REG_MT_OCI, INDEX, "does not match");     /* an index served as an image manifest */
    parse_bad(REG_MT_SCHEMA2, S1, "does not match");
    parse_bad(REG_MT_OCI_INDEX, LIST, "does not match");
    parse_bad(REG_MT_SCHEMA1, S2, "does not match");
    parse_bad("text/html", S2, "unsupported manifest media type \"text/html\"");
    parse_bad("application/json", "{\"schemaVersion\":3}", "unrecognized manifest");
}

static void test_invalid(void **state)
{
    parse_bad(REG_MT_SCHEMA2, "not json", "unable to parse the manifest");
    parse_bad(REG_MT_SCHEMA2, "[1]", "not a JSON object");
    parse_bad(REG_MT_SCHEMA2, "{\"schemaVersion\":1,\"mediaType\":\"" REG_MT_SCHEMA2 "\"}", "schemaVersion 1");
    parse_bad(REG_MT_SCHEMA2, "{\"schemaVersion\":2,\"mediaType\":\"" REG_MT_SCHEMA2 "\",\"layers\":[]}", "invalid");
    parse_bad(REG_MT_OCI,
              "{\"schemaVersion\":2,\"config\":{\"size\":1,\"digest\":\"sha256:xyz\"},\"layers\":[]}",
              "invalid digest");
    parse_bad(REG_MT_OCI,
              "{\"schemaVersion\":2,\"config\":{\"size\":-1,\"digest\":\"" D1 "\"},\"layers\":[]}",
              "invalid size");
    parse_bad(REG_MT_OCI,
              "{\"schemaVersion\":2,\"config\":{\"size\":1,\"digest\":\"" D1 "\"},\"layers\":[{\"size\":1,\"digest\":\"" D2
              "\"},{\"size\":1}]}",
              "invalid digest");
    parse_bad(REG_MT_OCI_INDEX, "{\"schemaVersion\":2,\"manifests\":[],\"layers\":[]}", "must not have");
    parse_bad(REG_MT_LIST, "{\"schemaVersion\":2,\"mediaType\":\"" REG_MT_LIST "\"}", "missing");
    parse_bad(REG_MT_LIST,
              "{\"schemaVersion\":2,\"mediaType\":\"" REG_MT_LIST "\",\"manifests\":[{\"size\":1,\"digest\":\"" D1
              "\",\"platform\":\"linux\"}]}",
              "invalid platform");
    parse_bad(REG_MT_SCHEMA1, "{\"schemaVersion\":1,\"name\":\"a\",\"fsLayers\":[{\"blobSum\":\"" D1 "\"}],\"history\":[]}",
              "mismatched");
    parse_bad(REG_MT_SCHEMA1,
              "{\"schemaVersion\":1,\"name\":\"a\",\"fsLayers\":[{\"blobSum\":\"" D1 "\"},{\"blobSum\":\"x\"}],\"history\":[{},{}]}",
              "blobSum");
    parse_bad(REG_MT_SCHEMA2, "{\"schemaVersion\":2,\"schemaVersion\":2}", "unable to parse"); /* duplicate keys */
}

static void test_bounds(void **state)
{
    /* a body over the limit is refused before it is parsed */
    size_t n = REG_MAX_MANIFEST + 1;
    char *big = xmalloc(n);
    memset(big, ' ', n);
    memcpy(big, OCI, strlen(OCI));
    reg_manifest_t m;
    char *err = NULL;
    assert_int_equal(reg_manifest_parse(REG_MT_OCI, big, n, &m, &err), -1);
    assert_non_null(strstr(err, "larger than"));
    free(err);
    assert_int_equal(reg_manifest_parse(REG_MT_OCI, big, n - 1, &m, &err), 0);
    reg_manifest_free(&m);
    free(big);
    /* more descriptors than REG_MAX_DESCRIPTORS */
    buf_t b;
    buf_init(&b);
    buf_puts(&b, "{\"schemaVersion\":2,\"manifests\":[");
    for (int i = 0; i <= REG_MAX_DESCRIPTORS; i++)
        buf_printf(&b, "%s{\"size\":1,\"digest\":\"" D1 "\"}", i ? "," : "");
    buf_puts(&b, "]}");
    assert_int_equal(reg_manifest_parse(REG_MT_OCI_INDEX, b.data, b.len, &m, &err), -1);
    assert_non_null(strstr(err, "too many"));
    free(err);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema2),   cmocka_unit_test(test_oci_and_index), cmocka_unit_test(test_list),
        cmocka_unit_test(test_schema1),   cmocka_unit_test(test_mismatch),      cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
