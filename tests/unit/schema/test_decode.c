/* schema_decode / schema_check: fieldValidation Strict/Warn/Ignore with unknown and
 * duplicate fields at several depths, type errors, nulls. Messages are Kubernetes'. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "schema/schema.h"
#include "util/util.h"

#define PFX "ImageStream in version \"v1\" cannot be handled as a ImageStream: "

typedef struct warns {
    char *msg[16];
    int n;
} warns_t;

static void collect(void *ctx, const char *msg)
{
    warns_t *w = ctx;
    if (w->n < 16)
        w->msg[w->n++] = xstrdup(msg);
}

static void warns_free(warns_t *w)
{
    for (int i = 0; i < w->n; i++)
        free(w->msg[i]);
    w->n = 0;
}

/* Decodes s and expects a 400 with exactly msg. */
static void expect_error(const schema_kind_t *k, const char *s, field_validation_t fv, const char *msg)
{
    apierr_t err = APIERR_INIT;
    warns_t w = {0};
    json_t *o = schema_decode(k, s, strlen(s), fv, collect, &w, &err);
    if (o)
        fail_msg("decoded without error: %s", s);
    assert_int_equal(err.kind, APIERR_BAD_REQUEST);
    assert_string_equal(err.message, msg);
    assert_int_equal(w.n, 0);
    apierr_clear(&err);
}

static json_t *expect_ok(const schema_kind_t *k, const char *s, field_validation_t fv, warns_t *w)
{
    apierr_t err = APIERR_INIT;
    json_t *o = schema_decode(k, s, strlen(s), fv, collect, w, &err);
    if (!o)
        fail_msg("unexpected error: %s", err.message);
    assert_false(apierr_is_set(&err));
    return o;
}

static const char *UNKNOWN =
    "{\"apiVersion\":\"image.openshift.io/v1\",\"kind\":\"ImageStream\",\"top\":1,"
    "\"metadata\":{\"name\":\"foo\",\"bogus\":{\"x\":1},\"labels\":{\"a\":\"b\"}},"
    "\"spec\":{\"foo\":true,\"lookupPolicy\":{\"local\":true},"
    "\"tags\":[{\"name\":\"a\"},{\"name\":\"b\",\"bogus\":1,\"from\":{\"kind\":\"DockerImage\",\"x\":2}}]}}";

static void test_strict_unknown(void **state)
{
    expect_error(&schema_image_stream, "{\"spec\":{\"foo\":1}}", FV_STRICT,
                 PFX "strict decoding error: unknown field \"spec.foo\"");
    expect_error(&schema_image_stream, UNKNOWN, FV_STRICT,
                 PFX "strict decoding error: unknown field \"top\", unknown field \"metadata.bogus\", "
                 "unknown field \"spec.foo\", unknown field \"spec.tags[1].bogus\", "
                 "unknown field \"spec.tags[1].from.x\"");
}

static void test_warn_unknown(void **state)
{
    warns_t w = {0};
    json_t *o = expect_ok(&schema_image_stream, UNKNOWN, FV_WARN, &w);
    assert_int_equal(w.n, 5);
    assert_string_equal(w.msg[0], "unknown field \"top\"");
    assert_string_equal(w.msg[3], "unknown field \"spec.tags[1].bogus\"");
    assert_string_equal(w.msg[4], "unknown field \"spec.tags[1].from.x\"");
    assert_null(json_object_get(o, "top"));
    assert_null(json_object_get(json_object_get(o, "metadata"), "bogus"));
    json_t *tag = json_array_get(json_object_get(json_object_get(o, "spec"), "tags"), 1);
    assert_null(json_object_get(tag, "bogus"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(tag, "from"), "kind")), "DockerImage");
    assert_null(json_object_get(json_object_get(tag, "from"), "x"));
    assert_string_equal(json_string_value(json_object_get(o, "kind")), "ImageStream");
    json_decref(o);
    warns_free(&w);
}

static void test_ignore_unknown(void **state)
{
    warns_t w = {0};
    json_t *o = expect_ok(&schema_image_stream, UNKNOWN, FV_IGNORE, &w);
    assert_int_equal(w.n, 0);
    assert_null(json_object_get(o, "top"));
    assert_null(json_object_get(json_object_get(o, "spec"), "foo"));
    assert_true(json_is_true(json_object_get(json_object_get(json_object_get(o, "spec"), "lookupPolicy"), "local")));
    json_decref(o);
}

static const char *DUPS =
    "{\"metadata\":{\"name\":\"a\",\"name\":\"b\",\"labels\":{\"x\":\"1\",\"x\":\"2\"}},"
    "\"spec\":{\"tags\":[{\"name\":\"t\",\"bogus\":1,\"name\":\"u\"}],\"foo\":1},"
    "\"spec\":{\"tags\":[{\"name\":\"v\"}]}}";

static void test_duplicates(void **state)
{
    expect_error(&schema_image_stream, "{\"metadata\":{\"name\":\"a\",\"name\":\"b\"}}", FV_STRICT,
                 PFX "strict decoding error: duplicate field \"metadata.name\"");
    expect_error(&schema_image_stream, DUPS, FV_STRICT,
                 PFX "strict decoding error: duplicate field \"metadata.name\", "
                 "duplicate field \"metadata.labels.x\", unknown field \"spec.tags[0].bogus\", "
                 "duplicate field \"spec.tags[0].name\", unknown field \"spec.foo\", duplicate field \"spec\"");

    warns_t w = {0};
    json_t *o = expect_ok(&schema_image_stream, DUPS, FV_WARN, &w);
    assert_int_equal(w.n, 6);
    assert_string_equal(w.msg[0], "duplicate field \"metadata.name\"");
    assert_string_equal(w.msg[5], "duplicate field \"spec\"");
    /* the last value wins, as in Go */
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "metadata"), "name")), "b");
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(o, "metadata"), "labels"), "x")), "2");
    json_t *tag = json_array_get(json_object_get(json_object_get(o, "spec"), "tags"), 0);
    assert_string_equal(json_string_value(json_object_get(tag, "name")), "v");
    json_decref(o);
    warns_free(&w);

    o = expect_ok(&schema_image_stream, DUPS, FV_IGNORE, &w);
    assert_int_equal(w.n, 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "metadata"), "name")), "b");
    json_decref(o);

    /* free-form values are not checked, duplicates inside them neither */
    o = expect_ok(&schema_image, "{\"metadata\":{\"name\":\"sha256:1\"},\"dockerImageMetadata\":"
                  "{\"a\":1,\"a\":2,\"Config\":{\"x\":[1,{\"y\":null}]}}}", FV_STRICT, &w);
    assert_int_equal(w.n, 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "dockerImageMetadata"), "a")), 2);
    json_decref(o);
}

static void test_type_errors(void **state)
{
    expect_error(&schema_image_stream, "{\"spec\":{\"tags\":\"x\"}}", FV_STRICT,
                 PFX "json: cannot unmarshal string into Go struct field ImageStreamSpec.spec.tags of type []v1.TagReference");
    expect_error(&schema_image_stream, "{\"spec\":{\"tags\":[{\"name\":\"a\",\"generation\":1.5}]}}", FV_IGNORE,
                 PFX "json: cannot unmarshal number 1.5 into Go struct field TagReference.spec.tags.generation of type int64");
    expect_error(&schema_image_stream, "{\"metadata\":{\"labels\":{\"a\":1}}}", FV_WARN,
                 PFX "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string");
    expect_error(&schema_image_stream, "{\"spec\":\"x\",\"bogus\":1}", FV_STRICT,
                 PFX "json: cannot unmarshal string into Go struct field ImageStream.spec of type v1.ImageStreamSpec");
    expect_error(&schema_image_stream, "{\"spec\":{\"lookupPolicy\":{\"local\":\"yes\"}}}", FV_STRICT,
                 PFX "json: cannot unmarshal string into Go struct field ImageLookupPolicy.spec.lookupPolicy.local of type bool");
    expect_error(&schema_image_stream, "{\"metadata\":{\"creationTimestamp\":\"yesterday\"}}", FV_STRICT,
                 PFX "parsing time \"yesterday\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"yesterday\" as \"2006\"");
    expect_error(&schema_image_stream, "[1]", FV_STRICT,
                 PFX "json: cannot unmarshal array into Go value of type v1.ImageStream");
    expect_error(&schema_image_stream, "{\"spec\":", FV_STRICT,
                 PFX "json parse error: unexpected token near end of file (line 1, column 8)");
    expect_error(&schema_image_signature, "{\"type\":\"atomic\",\"content\":\"a$==\"}", FV_STRICT,
                 "ImageSignature in version \"v1\" cannot be handled as a ImageSignature: illegal base64 data at input byte 1");
    expect_error(&schema_image_stream_import, "{\"status\":{\"images\":[{\"status\":{\"code\":4000000000}}]}}", FV_STRICT,
                 "ImageStreamImport in version \"v1\" cannot be handled as a ImageStreamImport: json: cannot unmarshal "
                 "number 4000000000 into Go struct field Status.status.images.status.code of type int32");
}

static void test_nulls_and_valid(void **state)
{
    warns_t w = {0};
    json_t *o = expect_ok(&schema_image_stream,
        "{\"apiVersion\":\"image.openshift.io/v1\",\"kind\":\"ImageStream\","
        "\"metadata\":{\"name\":\"x\",\"creationTimestamp\":null,\"labels\":{\"a\":null},\"finalizers\":[\"a/b\"]},"
        "\"spec\":{\"tags\":[null,{\"name\":\"v\",\"from\":null,\"generation\":null,\"annotations\":null}]},\"status\":null}",
        FV_STRICT, &w);
    json_t *meta = json_object_get(o, "metadata");
    assert_null(json_object_get(meta, "creationTimestamp"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(meta, "labels"), "a")), "");
    assert_null(json_object_get(o, "status"));
    json_t *tags = json_object_get(json_object_get(o, "spec"), "tags");
    assert_true(json_is_object(json_array_get(tags, 0)));
    assert_int_equal(json_object_size(json_array_get(tags, 1)), 1);
    json_decref(o);

    o = expect_ok(&schema_image_signature,
        "{\"metadata\":{\"name\":\"sha256:1@a\"},\"type\":\"atomic\",\"content\":\"aGVsbG8=\","
        "\"created\":\"2024-01-02T03:04:05Z\",\"conditions\":[{\"type\":\"Trusted\",\"status\":\"True\"}]}",
        FV_STRICT, &w);
    json_decref(o);
    assert_int_equal(w.n, 0);
}

static void test_check(void **state)
{
    apierr_t err = APIERR_INIT;
    warns_t w = {0};
    json_t *o = json_pack("{s:{s:s,s:i},s:{s:[{s:s,s:i}]}}", "metadata", "name", "a", "extra", 1,
                          "spec", "tags", "name", "t", "zz", 2);
    assert_int_equal(schema_check(&schema_image_stream, o, FV_WARN, collect, &w, &err), 0);
    assert_int_equal(w.n, 2);
    assert_string_equal(w.msg[0], "unknown field \"metadata.extra\"");
    assert_string_equal(w.msg[1], "unknown field \"spec.tags[0].zz\"");
    assert_null(json_object_get(json_object_get(o, "metadata"), "extra"));
    warns_free(&w);
    assert_int_equal(schema_check(&schema_image_stream, o, FV_STRICT, collect, &w, &err), 0);
    json_object_set_new(o, "bad", json_true());
    assert_int_equal(schema_check(&schema_image_stream, o, FV_STRICT, collect, &w, &err), -1);
    assert_string_equal(err.message, PFX "strict decoding error: unknown field \"bad\"");
    apierr_clear(&err);
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strict_unknown),
        cmocka_unit_test(test_warn_unknown),
        cmocka_unit_test(test_ignore_unknown),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_type_errors),
        cmocka_unit_test(test_nulls_and_valid),
        cmocka_unit_test(test_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
