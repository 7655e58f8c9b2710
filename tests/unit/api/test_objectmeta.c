/* objectmeta: generic ObjectMeta validation, checked against Kubernetes' exact messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api/objectmeta.h"
#include "util/util.h"

#define QNAME_RE "regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]'"
#define NAME_PART_MSG                                                                                          \
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "      \
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', " QNAME_RE ")"
#define DNS_LABEL_MSG                                                                                          \
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and " \
    "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "          \
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"

/* Renders all errors as "field: message" joined with " | ". */
static char *render(const ferrs_t *e)
{
    buf_t b;
    buf_init(&b);
    buf_puts(&b, "");
    for (size_t i = 0; i < e->n; i++) {
        char *s = ferr_string(&e->items[i]);
        buf_printf(&b, "%s%s", i ? " | " : "", s);
        free(s);
    }
    return buf_steal(&b);
}

static void meta_expect(const char *js, bool namespaced, const char *want)
{
    json_t *m = json_loads(js, 0, NULL);
    assert_non_null(m);
    ferrs_t e = FERRS_INIT;
    validate_object_meta(m, namespaced, &e);
    char *got = render(&e);
    assert_string_equal(got, want);
    free(got);
    ferrs_free(&e);
    json_decref(m);
}

static void update_expect(const char *js, const char *old, const char *want)
{
    json_t *m = json_loads(js, 0, NULL), *o = json_loads(old, 0, NULL);
    assert_non_null(m);
    assert_non_null(o);
    ferrs_t e = FERRS_INIT;
    validate_object_meta_update(m, o, true, &e);
    char *got = render(&e);
    assert_string_equal(got, want);
    free(got);
    ferrs_free(&e);
    json_decref(m);
    json_decref(o);
}

static void test_path_segment(void **state)
{
    ferrs_t e = FERRS_INIT;
    validate_path_segment_name("sha256:abc@x", "metadata.name", &e);
    assert_int_equal(e.n, 0);
    validate_path_segment_name(".", "metadata.name", &e);
    validate_path_segment_name("..", "metadata.name", &e);
    validate_path_segment_name("a/b%c", "metadata.name", &e);
    validate_path_segment_name("...", "metadata.name", &e);
    char *got = render(&e);
    assert_string_equal(got, "metadata.name: Invalid value: \".\": may not be '.' | "
                             "metadata.name: Invalid value: \"..\": may not be '..' | "
                             "metadata.name: Invalid value: \"a/b%c\": may not contain '/' | "
                             "metadata.name: Invalid value: \"a/b%c\": may not contain '%'");
    free(got);
    ferrs_free(&e);
}

static void test_dns1123_label(void **state)
{
    ferrs_t e = FERRS_INIT;
    validate_dns1123_label("my-ns", "metadata.namespace", &e);
    validate_dns1123_label("a", "metadata.namespace", &e);
    assert_int_equal(e.n, 0);
    validate_dns1123_label("Bad_NS", "metadata.namespace", &e);
    validate_dns1123_label("a.b", "metadata.namespace", &e);
    validate_dns1123_label("", "metadata.namespace", &e);
    char long64[65];
    memset(long64, 'a', 64);
    long64[64] = '\0';
    validate_dns1123_label(long64, "x", &e);
    char *got = render(&e);
    char *want = xasprintf("metadata.namespace: Invalid value: \"Bad_NS\": " DNS_LABEL_MSG " | "
                           "metadata.namespace: Invalid value: \"a.b\": must not contain dots | "
                           "metadata.namespace: Invalid value: \"\": " DNS_LABEL_MSG " | "
                           "x: Invalid value: \"%s\": must be no more than 63 characters",
                           long64);
    assert_string_equal(got, want);
    free(want);
    free(got);
    ferrs_free(&e);
}

static void test_name_namespace(void **state)
{
    meta_expect("{\"name\":\"a\",\"namespace\":\"ns\"}", true, "");
    meta_expect("{\"name\":\"a\"}", false, "");
    meta_expect("{}", false, "metadata.name: Required value: name or generateName is required");
    meta_expect("{\"generateName\":\"a-\"}", false, "metadata.name: Required value: name or generateName is required");
    meta_expect("{\"name\":\"a\"}", true, "metadata.namespace: Required value");
    meta_expect("{\"name\":\"a\",\"namespace\":\"ns\"}", false, "metadata.namespace: Forbidden: not allowed on this type");
    meta_expect("{\"name\":\"a\",\"namespace\":\"NS\"}", true, "metadata.namespace: Invalid value: \"NS\": " DNS_LABEL_MSG);
    meta_expect("{\"name\":\"a\",\"generation\":-1}", false,
                "metadata.generation: Invalid value: -1: must be greater than or equal to 0");
    meta_expect("{\"name\":\"a\",\"generation\":0}", false, "");
}

static void test_labels(void **state)
{
    meta_expect("{\"name\":\"a\",\"labels\":{\"app\":\"x\",\"example.com/tier\":\"web\",\"e\":\"\"}}", false, "");
    meta_expect("{\"name\":\"a\",\"labels\":{\"-bad\":\"x\"}}", false,
                "metadata.labels: Invalid value: \"-bad\": " NAME_PART_MSG);
    meta_expect("{\"name\":\"a\",\"labels\":{\"a/b/c\":\"x\"}}", false,
                "metadata.labels: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, "
                "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  "
                "or '123-abc', " QNAME_RE ") with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
    meta_expect("{\"name\":\"a\",\"labels\":{\"app\":\"x y\"}}", false,
                "metadata.labels: Invalid value: \"x y\": a valid label must be an empty string or consist of "
                "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
                "'MyValue',  or 'my_value',  or '12345', regex used for validation is "
                "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
    meta_expect("{\"name\":\"a\",\"labels\":{\"Example.com/x\":\"v\"}}", false,
                "metadata.labels: Invalid value: \"Example.com/x\": prefix part a lowercase RFC 1123 subdomain must "
                "consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric "
                "character (e.g. 'example.com', regex used for validation is "
                "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
    meta_expect("{\"name\":\"a\",\"labels\":{\"x/\":\"v\"}}", false,
                "metadata.labels: Invalid value: \"x/\": name part must be non-empty | "
                "metadata.labels: Invalid value: \"x/\": " NAME_PART_MSG);
    meta_expect("{\"name\":\"a\",\"labels\":{\"k\":\"vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\"}}", false,
                "metadata.labels: Invalid value: \"vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\": "
                "must be no more than 63 characters");
}

static void test_annotations(void **state)
{
    /* case does not matter for annotation keys */
    meta_expect("{\"name\":\"a\",\"annotations\":{\"Example.COM/Thing\":\"anything at all\"}}", false, "");
    meta_expect("{\"name\":\"a\",\"annotations\":{\"bad key\":\"v\"}}", false,
                "metadata.annotations: Invalid value: \"bad key\": " NAME_PART_MSG);
    /* 256 KiB of keys + values is the limit */
    json_t *m = json_pack("{s:s, s:{}}", "name", "a", "annotations");
    size_t vlen = 256 * 1024 - 1;
    char *big = xmalloc(vlen + 2);
    memset(big, 'x', vlen + 1);
    big[vlen] = '\0';
    json_object_set_new(json_object_get(m, "annotations"), "k", json_string(big)); /* 1 + (256Ki-1): at the limit */
    ferrs_t e = FERRS_INIT;
    validate_object_meta(m, false, &e);
    assert_int_equal(e.n, 0);
    big[vlen] = 'x';
    big[vlen + 1] = '\0';
    json_object_set_new(json_object_get(m, "annotations"), "k", json_string(big));
    validate_object_meta(m, false, &e);
    assert_int_equal(e.n, 1);
    char *got = render(&e);
    assert_string_equal(got, "metadata.annotations: Too long: may not be more than 262144 bytes");
    free(got);
    ferrs_free(&e);
    free(big);
    json_decref(m);
}

static void test_finalizers_owners_managed(void **state)
{
    meta_expect("{\"name\":\"a\",\"finalizers\":[\"example.com/f\",\"orphan\"]}", false, "");
    meta_expect("{\"name\":\"a\",\"finalizers\":[\"bad/fin/x\"]}", false,
                "metadata.finalizers: Invalid value: \"bad/fin/x\": a qualified name must consist of alphanumeric "
                "characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or "
                "'my.name',  or '123-abc', " QNAME_RE ") with an optional DNS subdomain prefix and '/' (e.g. "
                "'example.com/MyName')");
    meta_expect("{\"name\":\"a\",\"finalizers\":[\"orphan\",\"foregroundDeletion\"]}", false,
                "metadata.finalizers: Invalid value: [\"orphan\",\"foregroundDeletion\"]: finalizer orphan and "
                "foregroundDeletion cannot be both set");
    meta_expect("{\"name\":\"a\",\"ownerReferences\":[{\"apiVersion\":\"image.openshift.io/v1\",\"kind\":\"ImageStream\","
                "\"name\":\"s\",\"uid\":\"u\"}]}",
                false, "");
    meta_expect("{\"name\":\"a\",\"ownerReferences\":[{}]}", false,
                "metadata.ownerReferences.apiVersion: Invalid value: \"\": version must not be empty | "
                "metadata.ownerReferences.kind: Invalid value: \"\": kind must not be empty | "
                "metadata.ownerReferences.name: Invalid value: \"\": name must not be empty | "
                "metadata.ownerReferences.uid: Invalid value: \"\": uid must not be empty");
    meta_expect("{\"name\":\"a\",\"ownerReferences\":[{\"apiVersion\":\"apps/\",\"kind\":\"D\",\"name\":\"n\",\"uid\":\"u\"}]}",
                false, "metadata.ownerReferences.apiVersion: Invalid value: \"apps/\": version must not be empty");
    meta_expect("{\"name\":\"a\",\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"Event\",\"name\":\"n\",\"uid\":\"u\"}]}",
                false,
                "metadata.ownerReferences: Invalid value: {\"apiVersion\":\"v1\",\"kind\":\"Event\",\"name\":\"n\","
                "\"uid\":\"u\"}: /v1, Kind=Event is disallowed from being an owner");
    json_t *m = json_loads("{\"name\":\"a\",\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"A\",\"name\":\"x\","
                           "\"uid\":\"1\",\"controller\":true},{\"apiVersion\":\"v1\",\"kind\":\"B\",\"name\":\"y\","
                           "\"uid\":\"2\",\"controller\":true}]}",
                           0, NULL);
    ferrs_t e = FERRS_INIT;
    validate_object_meta(m, false, &e);
    assert_int_equal(e.n, 1);
    assert_string_equal(e.items[0].field, "metadata.ownerReferences");
    assert_string_equal(e.items[0].detail,
                        "Only one reference can have Controller set to true. Found \"true\" in references for A/x and B/y");
    ferrs_free(&e);
    json_decref(m);
    meta_expect("{\"name\":\"a\",\"managedFields\":[{\"manager\":\"kubectl\",\"operation\":\"Apply\",\"fieldsType\":\"FieldsV1\"},"
                "{\"manager\":\"m\",\"operation\":\"Patch\",\"fieldsType\":\"FieldsV2\"}]}",
                false,
                "metadata.managedFields[1].operation: Invalid value: \"Patch\": must be `Apply` or `Update` | "
                "metadata.managedFields[1].fieldsType: Invalid value: \"FieldsV2\": must be `FieldsV1`");
    meta_expect("{\"name\":\"a\",\"managedFields\":[{\"manager\":\"a\\u0007\",\"operation\":\"Update\"}]}", false,
                "metadata.managedFields[0].manager: Invalid value: \"a\\u0007\": invalid character U+0007 (at position 1)");
}

static void test_update(void **state)
{
    const char *old = "{\"name\":\"a\",\"namespace\":\"ns\",\"uid\":\"u1\",\"creationTimestamp\":\"2024-01-02T03:04:05Z\","
                      "\"generation\":3,\"resourceVersion\":\"9\"}";
    update_expect("{\"name\":\"a\",\"namespace\":\"ns\",\"uid\":\"u1\",\"creationTimestamp\":\"2024-01-02T03:04:05.000Z\","
                  "\"generation\":4,\"resourceVersion\":\"9\",\"labels\":{\"x\":\"y\"}}",
                  old, "");
    update_expect("{\"name\":\"b\",\"namespace\":\"other\",\"uid\":\"u2\",\"creationTimestamp\":\"2025-01-01T00:00:00Z\","
                  "\"generation\":2}",
                  old,
                  "metadata.generation: Invalid value: 2: must not be decremented | "
                  "metadata.name: Invalid value: \"b\": field is immutable | "
                  "metadata.namespace: Invalid value: \"other\": field is immutable | "
                  "metadata.uid: Invalid value: \"u2\": field is immutable | "
                  "metadata.creationTimestamp: Invalid value: \"2025-01-01T00:00:00Z\": field is immutable");
    /* labels are reported once, by the ObjectMeta part */
    update_expect("{\"name\":\"a\",\"namespace\":\"ns\",\"uid\":\"u1\",\"creationTimestamp\":\"2024-01-02T03:04:05Z\","
                  "\"generation\":3,\"labels\":{\"-x\":\"y\"}}",
                  old, "metadata.labels: Invalid value: \"-x\": " NAME_PART_MSG);
    /* being deleted: no new finalizers; deletion fields immutable */
    const char *dying = "{\"name\":\"a\",\"namespace\":\"ns\",\"uid\":\"u1\",\"deletionTimestamp\":\"2024-05-05T00:00:00Z\","
                        "\"deletionGracePeriodSeconds\":0,\"finalizers\":[\"example.com/a\"]}";
    update_expect("{\"name\":\"a\",\"namespace\":\"ns\",\"uid\":\"u1\",\"deletionTimestamp\":\"2024-05-05T00:00:00Z\","
                  "\"deletionGracePeriodSeconds\":0,\"finalizers\":[\"example.com/c\",\"example.com/a\",\"example.com/b\"]}",
                  dying,
                  "metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found "
                  "new finalizers []string{\"example.com/b\", \"example.com/c\"}");
    update_expect("{\"name\":\"a\",\"namespace\":\"ns\",\"uid\":\"u1\",\"finalizers\":[]}", dying,
                  "metadata.deletionTimestamp: Invalid value: null: field is immutable | "
                  "metadata.deletionGracePeriodSeconds: Invalid value: null: field is immutable");
}

static void test_primitives(void **state)
{
    char *msgs[VALIDATION_MAX_MSGS];
    assert_int_equal(validation_is_qualified_name("a.b-c_D", msgs), 0);
    assert_int_equal(validation_is_label_value("", msgs), 0);
    assert_int_equal(validation_is_dns1123_subdomain("a.b-c", msgs), 0);
    int n = validation_is_qualified_name("/", msgs); /* empty prefix and empty name */
    assert_int_equal(n, 3);
    assert_string_equal(msgs[0], "prefix part must be non-empty");
    assert_string_equal(msgs[1], "name part must be non-empty");
    validation_msgs_free(msgs, n);
    int64_t v;
    assert_true(validation_parse_int64("-9223372036854775808", &v));
    assert_true(v == INT64_MIN);
    assert_true(validation_parse_int64("+12", &v));
    assert_int_equal(v, 12);
    assert_false(validation_parse_int64("9223372036854775808", &v));
    assert_false(validation_parse_int64(" 1", &v));
    assert_false(validation_parse_int64("", &v));
    assert_false(validation_parse_int64("-", &v));
    buf_t b;
    buf_init(&b);
    validation_quote(&b, "a\"b\\c\n\x01");
    assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\x01\"");
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_segment),
        cmocka_unit_test(test_dns1123_label),
        cmocka_unit_test(test_name_namespace),
        cmocka_unit_test(test_labels),
        cmocka_unit_test(test_annotations),
        cmocka_unit_test(test_finalizers_owners_managed),
        cmocka_unit_test(test_update),
        cmocka_unit_test(test_primitives),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
