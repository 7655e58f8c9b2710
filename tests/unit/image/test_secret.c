/* Secret strategy (secret.c) and protobuf decoding (secret_proto.c): stringData merge,
 * the type rules with redacted values, immutability, and hostile protobuf bodies (every
 * truncation of a valid body is refused or decoded, never read past its end). */
#include "fixtures.h"

#include "image/secret.h"

static json_t *load(const char *s)
{
    json_error_t je;
    json_t *v = json_loads(s, 0, &je);
    assert_non_null(v);
    return v;
}

static char *errs_text(const ferrs_t *e)
{
    char *out = xstrdup("");
    for (size_t i = 0; i < e->n; i++) {
        char *one = ferr_string(&e->items[i]);
        char *n = xasprintf("%s%s;", out, one);
        free(one);
        free(out);
        out = n;
    }
    return out;
}

static void expect(const char *obj, const char *old, const char *want)
{
    json_t *o = load(obj), *ol = old ? load(old) : NULL;
    secret_normalize(o);
    ferrs_t e = FERRS_INIT;
    secret_validate(o, ol, &e);
    char *got = errs_text(&e);
    if (!want)
        assert_string_equal(got, "");
    else
        assert_non_null(strstr(got, want));
    assert_null(strstr(got, "hunter2"));
    free(got);
    ferrs_free(&e);
    json_decref(o);
    json_decref(ol);
}

static void test_validate(void **state)
{
    (void)state;
    expect("{\"data\":{\"a\":\"eA==\"}}", NULL, NULL);
    expect("{\"type\":\"kubernetes.io/dockerconfigjson\"}", NULL, "data[.dockerconfigjson]: Required value");
    /* base64("{\"auths\":hunter2") */
    expect(
        "{\"type\":\"kubernetes.io/dockerconfigjson\",\"data\":{\".dockerconfigjson\":\"eyJhdXRocyI6aHVudGVyMg==\"}}",
        NULL, "data[.dockerconfigjson]: Invalid value: \"<secret contents redacted>\"");
    expect("{\"type\":\"kubernetes.io/dockercfg\",\"stringData\":{\".dockercfg\":\"{}\"}}", NULL, NULL);
    expect("{\"data\":{\"..x\":\"eA==\"}}", NULL, "data[..x]: Invalid value: \"..x\": must not start with '..'");
    expect("{\"data\":{\"a/b\":\"eA==\"}}", NULL, "a valid config key");
    expect("{\"type\":\"kubernetes.io/tls\",\"data\":{\"tls.crt\":\"eA==\"}}", NULL, "data[tls.key]: Required value");
    expect("{\"type\":\"kubernetes.io/service-account-token\"}", NULL,
           "metadata.annotations[kubernetes.io/service-account.name]: Required value");
    expect("{\"type\":\"Opaque\",\"data\":{\"a\":\"eA==\"}}", "{\"type\":\"x\"}", "type: Invalid value: \"Opaque\"");
    expect("{\"immutable\":true,\"data\":{\"a\":\"eQ==\"}}",
           "{\"type\":\"Opaque\",\"immutable\":true,\"data\":{\"a\":\"eA==\"}}",
           "data: Forbidden: field is immutable when `immutable` is set");
    expect("{\"data\":{\"a\":\"eA==\"}}", "{\"type\":\"Opaque\",\"immutable\":true,\"data\":{\"a\":\"eA==\"}}",
           "immutable: Forbidden");
    expect("{\"immutable\":true,\"data\":{\"a\":\"eA==\"},\"metadata\":{\"labels\":{\"l\":\"1\"}}}",
           "{\"type\":\"Opaque\",\"immutable\":true,\"data\":{\"a\":\"eA==\"}}", NULL);
}

static void test_normalize(void **state)
{
    (void)state;
    json_t *o = load("{\"data\":{\"a\":\"b2xk\"},\"stringData\":{\"a\":\"new\",\"b\":\"\"}}");
    secret_normalize(o);
    assert_string_equal(json_string_value(json_object_get(o, "type")), "Opaque");
    assert_null(json_object_get(o, "stringData"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "data"), "a")), "bmV3");
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "data"), "b")), "");
    json_decref(o);
}

/* k8s\0 + Unknown{typeMeta{v1, Secret}, raw Secret{metadata{name "s", labels {l: v}},
 * data {k: "hi"}, type "Opaque", immutable true}} */
static const unsigned char PB[] = {0x6b, 0x38, 0x73, 0x00, 0x0a, 0x0c, 0x0a, 0x02, 0x76, 0x31, 0x12, 0x06, 0x53,
                                   0x65, 0x63, 0x72, 0x65, 0x74, 0x12, 0x20, 0x0a, 0x0b, 0x0a, 0x01, 0x73, 0x5a,
                                   0x06, 0x0a, 0x01, 0x6c, 0x12, 0x01, 0x76, 0x12, 0x07, 0x0a, 0x01, 0x6b, 0x12,
                                   0x02, 0x68, 0x69, 0x1a, 0x06, 0x4f, 0x70, 0x61, 0x71, 0x75, 0x65, 0x28, 0x01};

static void test_protobuf(void **state)
{
    (void)state;
    apierr_t err = APIERR_INIT;
    json_t *o = secret_from_protobuf(PB, sizeof PB, &err);
    assert_non_null(o);
    char *s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
    assert_string_equal(s, "{\"apiVersion\":\"v1\",\"data\":{\"k\":\"aGk=\"},\"immutable\":true,\"kind\":\"Secret\","
                           "\"metadata\":{\"labels\":{\"l\":\"v\"},\"name\":\"s\"},\"type\":\"Opaque\"}");
    free(s);
    json_decref(o);
    /* every truncation and every single-byte corruption: no crash, no over-read (ASan) */
    for (size_t n = 0; n < sizeof PB; n++) {
        unsigned char *cut = xmalloc(n ? n : 1);
        memcpy(cut, PB, n);
        apierr_t e = APIERR_INIT;
        json_t *v = secret_from_protobuf(cut, n, &e);
        assert_true(v != NULL || e.kind == APIERR_BAD_REQUEST);
        json_decref(v);
        apierr_clear(&e);
        free(cut);
    }
    for (size_t i = 4; i < sizeof PB; i++) {
        unsigned char buf[sizeof PB];
        memcpy(buf, PB, sizeof PB);
        buf[i] ^= 0xff;
        apierr_t e = APIERR_INIT;
        json_decref(secret_from_protobuf(buf, sizeof buf, &e));
        apierr_clear(&e);
    }
    /* ownerReferences are refused, not dropped */
    static const unsigned char OWN[] = {0x6b, 0x38, 0x73, 0x00, 0x0a, 0x0c, 0x0a, 0x02, 0x76, 0x31, 0x12, 0x06,
                                        0x53, 0x65, 0x63, 0x72, 0x65, 0x74, 0x12, 0x04, 0x0a, 0x02, 0x6a, 0x00};
    apierr_t e = APIERR_INIT;
    assert_null(secret_from_protobuf(OWN, sizeof OWN, &e));
    assert_int_equal(e.kind, APIERR_BAD_REQUEST);
    apierr_clear(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_protobuf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
