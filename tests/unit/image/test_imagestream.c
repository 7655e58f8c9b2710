/* ImageStream strategy: wire shape, create/update/status rules, validation, decoration, table. */
#include "is_helpers.h"

static const image_config_t cfg_plain = {NULL, NULL, NULL};
static const image_ctx_t ctx = {&cfg_plain, NOW, NULL, NULL};
static const image_config_t cfg_reg = {"registry:5000", "pub.example", NULL};
static const image_ctx_t ctx_reg = {&cfg_reg, NOW, NULL, NULL};

static void test_is1_create_shape(void **state)
{
    json_t *o = is_obj("foo", "{\"tags\":[{\"name\":\"latest\",\"from\":{\"kind\":\"DockerImage\",\"name\":\"busybox\"}}]}");
    json_object_set_new(o, "status", J("{\"tags\":[{\"tag\":\"x\",\"items\":[{\"dockerImageReference\":\"a\"}]}]}"));
    assert_str_free(is_create(&ctx, o), "");
    assert_json(o, "{\"kind\":\"ImageStream\",\"metadata\":{\"name\":\"foo\",\"namespace\":\"ns\",\"generation\":1},"
                   "\"spec\":{\"lookupPolicy\":{\"local\":false},\"tags\":[{\"name\":\"latest\",\"annotations\":null,"
                   "\"from\":{\"kind\":\"DockerImage\",\"name\":\"busybox\"},\"generation\":1,"
                   "\"importPolicy\":{\"importMode\":\"Legacy\"},\"referencePolicy\":{\"type\":\"Source\"}}]},"
                   "\"status\":{\"dockerImageRepository\":\"\"}}");
    json_decref(o);
}

static void test_normalize_defaults(void **state)
{
    static const image_config_t c = {NULL, NULL, "PreserveOriginal"};
    static const image_ctx_t x = {&c, NOW, NULL, NULL};
    json_t *o = J("{\"metadata\":{\"name\":\"s\"},\"spec\":{\"dockerImageRepository\":\"\",\"tags\":[{\"name\":\"b\","
                  "\"annotations\":{},\"reference\":false,\"importPolicy\":{\"insecure\":true},"
                  "\"from\":{\"kind\":\"DockerImage\",\"name\":\"x\",\"namespace\":\"\"}},{\"name\":\"a\",\"generation\":3}]},"
                  "\"status\":{\"tags\":[{\"tag\":\"z\",\"items\":[],\"conditions\":[{\"type\":\"ImportSuccess\","
                  "\"status\":\"False\",\"message\":\"m\"}]},{\"tag\":\"y\",\"items\":[{\"created\":\"2020-01-01T00:00:00.5Z\","
                  "\"dockerImageReference\":\"r\"}]}]}}");
    imagestream_normalize(&x, o);
    assert_json(o, "{\"metadata\":{\"name\":\"s\"},\"spec\":{\"lookupPolicy\":{\"local\":false},\"tags\":["
                   "{\"name\":\"a\",\"annotations\":null,\"generation\":3,\"importPolicy\":{\"importMode\":\"PreserveOriginal\"},"
                   "\"referencePolicy\":{\"type\":\"Source\"}},"
                   "{\"name\":\"b\",\"annotations\":{},\"from\":{\"kind\":\"DockerImage\",\"name\":\"x\"},\"generation\":null,"
                   "\"importPolicy\":{\"insecure\":true,\"importMode\":\"PreserveOriginal\"},\"referencePolicy\":{\"type\":\"Source\"}}]},"
                   "\"status\":{\"dockerImageRepository\":\"\",\"tags\":["
                   "{\"tag\":\"y\",\"items\":[{\"created\":\"2020-01-01T00:00:00Z\",\"dockerImageReference\":\"r\",\"image\":\"\",\"generation\":0}]},"
                   "{\"tag\":\"z\",\"items\":null,\"conditions\":[{\"type\":\"ImportSuccess\",\"status\":\"False\","
                   "\"lastTransitionTime\":null,\"message\":\"m\",\"generation\":0}]}]}}");
    json_decref(o);
}

static void test_is23_duplicates_last_wins(void **state)
{
    json_t *o = is_obj("s", "{\"tags\":[{\"name\":\"b\"},{\"name\":\"a\"},{\"name\":\"a\",\"from\":{\"kind\":\"DockerImage\",\"name\":\"x\"}}]}");
    assert_str_free(is_create(&ctx, o), "");
    json_t *tags = json_object_get(json_object_get(o, "spec"), "tags");
    assert_int_equal(json_array_size(tags), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(tags, 0), "name")), "a");
    assert_non_null(json_object_get(json_array_get(tags, 0), "from"));
    assert_string_equal(json_string_value(json_object_get(json_array_get(tags, 1), "name")), "b");
    json_decref(o);
}

static void test_is2_repositories(void **state)
{
    json_t *o = is_obj("foo", "{\"dockerImageRepository\":\"a/b\"}");
    assert_str_free(is_create(&ctx_reg, o), "");
    assert_json(json_object_get(o, "status"),
                "{\"dockerImageRepository\":\"registry:5000/ns/foo\",\"publicDockerImageRepository\":\"pub.example/ns/foo\"}");
    json_decref(o);
    o = is_obj("foo", "{\"dockerImageRepository\":\"a/b\"}");
    assert_str_free(is_create(&ctx, o), "");
    assert_json(json_object_get(o, "status"), "{\"dockerImageRepository\":\"a/b\"}");
    /* Decoration recomputes; legacy values lose their tag/ID. */
    json_object_set_new(json_object_get(o, "spec"), "dockerImageRepository", json_string("a/b:old"));
    json_object_set_new(json_object_get(o, "status"), "dockerImageRepository", json_string("junk"));
    imagestream_decorate(&ctx, o);
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "spec"), "dockerImageRepository")), "a/b");
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "status"), "dockerImageRepository")), "a/b");
    imagestream_decorate(&ctx_reg, o);
    assert_json(json_object_get(o, "status"),
                "{\"dockerImageRepository\":\"registry:5000/ns/foo\",\"publicDockerImageRepository\":\"pub.example/ns/foo\"}");
    json_decref(o);
}

static void check_name(const char *ns, const char *name, const char *gen_name, const char *want)
{
    json_t *o = J("{\"spec\":{}}");
    json_t *meta = json_object();
    if (name)
        json_object_set_new(meta, "name", json_string(name));
    if (gen_name)
        json_object_set_new(meta, "generateName", json_string(gen_name));
    json_object_set_new(meta, "namespace", json_string(ns));
    json_object_set_new(o, "metadata", meta);
    assert_str_free(is_create(&ctx, o), want);
    json_decref(o);
}

static void test_is3_is4_names(void **state)
{
    check_name("ns", "foo bar", NULL,
               "metadata.name: Invalid value: \"foo bar\": must match \"[a-z0-9]+(?:[._-][a-z0-9]+)*\"");
    check_name("ns", "foo/bar", NULL, "metadata.name: Invalid value: \"foo/bar\": may not contain '/'");
    check_name("f", "g", NULL, "");
    check_name("ns", "abcdefghijklmnopqrstuvwxyz-1234567890.dot_underscore-dash", NULL, "");
    check_name("ns", NULL, "foo-",
               "metadata.generateName: Invalid value: \"foo-\": must match \"[a-z0-9]+(?:[._-][a-z0-9]+)*\"");
    check_name("ns", NULL, "foo", "");
    static const char *bad[] = {"Foo", "a--b", "a__b", "-a", "a-", ".."};
    for (size_t i = 0; i < 5; i++) {
        char *want = xasprintf("metadata.name: Invalid value: \"%s\": must match \"[a-z0-9]+(?:[._-][a-z0-9]+)*\"", bad[i]);
        check_name("ns", bad[i], NULL, want);
        free(want);
    }
    check_name("ns", "..", NULL, "metadata.name: Invalid value: \"..\": may not be '..'");
    char ns[64], name[200];
    memset(ns, 'a', 63);
    ns[63] = 0;
    memset(name, 'b', 191);
    name[191] = 0;
    check_name(ns, name, NULL, "");
    name[191] = 'b';
    name[192] = 0;
    char *want = xasprintf("metadata.name: Invalid value: \"%s\": 'namespace/name' cannot be longer than 255 characters", name);
    check_name(ns, name, NULL, want);
    free(want);
}

static void check_spec(const char *spec, const char *want)
{
    json_t *o = is_obj("foo", spec);
    assert_str_free(is_create(&ctx, o), want);
    json_decref(o);
}

static void test_is5_to_is11_validation(void **state)
{
    check_spec("{\"dockerImageRepository\":\"a-|///bbb\"}",
               "spec.dockerImageRepository: Invalid value: \"a-|///bbb\": invalid reference format");
    check_spec("{\"dockerImageRepository\":\"a/b:tag\"}",
               "spec.dockerImageRepository: Invalid value: \"a/b:tag\": the repository name may not contain a tag");
    check_spec("{\"dockerImageRepository\":\"a/b@sha256:something\"}",
               "spec.dockerImageRepository: Invalid value: \"a/b@sha256:something\": invalid reference format");
    check_spec("{\"dockerImageRepository\":\"a/b@sha256:" HEXA "\"}",
               "spec.dockerImageRepository: Invalid value: \"a/b@sha256:" HEXA "\": the repository name may not contain an ID");
    check_spec("{\"tags\":[{\"name\":\"tag\",\"referencePolicy\":{\"type\":\"Other\"}}]}",
               "spec.tags[tag].referencePolicy.type: Invalid value: \"Other\": valid values are \"Source\", \"Local\"");
    check_spec("{\"tags\":[{\"name\":\"other\",\"from\":{\"kind\":\"ImageStreamTag\",\"name\":\"foo:latest\"},"
               "\"importPolicy\":{\"scheduled\":true}}]}",
               "spec.tags[other].importPolicy.scheduled: Invalid value: true: only tags pointing to Docker repositories "
               "may be scheduled for background import");
    check_spec("{\"tags\":[{\"name\":\"other\",\"from\":{\"kind\":\"DockerImage\",\"name\":\"other:latest\"},"
               "\"importPolicy\":{\"scheduled\":true}}]}", "");
    check_spec("{\"tags\":[{\"name\":\"badid\",\"from\":{\"kind\":\"DockerImage\",\"name\":\"abc@badid\"}}]}",
               "spec.tags[badid].from.name: Invalid value: \"abc@badid\": invalid reference format");
    check_spec("{\"tags\":[{\"name\":\"tag\",\"importPolicy\":{\"importMode\":\"Invalid\"}}]}",
               "spec.tags[tag].importPolicy.importMode: Invalid value: \"Invalid\": invalid import mode, valid modes are "
               "'', 'Legacy', 'PreserveOriginal'");
    check_spec("{\"tags\":[{\"name\":\"tag\",\"importPolicy\":{\"importMode\":\"PreserveOriginal\"}}]}", "");
    /* IS-10: the wrapped internal error first, then the ordinary one. */
    check_spec("{\"tags\":[{\"name\":\"t\",\"from\":{\"kind\":\"\",\"name\":\"foo/bar:biz\"}}]}",
               ": Internal error: imagestreams \"foo\" is invalid: spec.tags[t].from.name: Invalid value: \"foo/bar:biz\": "
               "must be of the form <tag>, <repo>:<tag>, <id>, or <repo>@<id> | "
               "spec.tags[t].from.kind: Required value: valid values are 'DockerImage', 'ImageStreamImage', 'ImageStreamTag'");
    check_spec("{\"tags\":[{\"name\":\"t\",\"from\":{\"kind\":\"DockerImage\"}}]}",
               ": Internal error: imagestreams \"foo\" is invalid: spec.tags[t].from.name: Invalid value: \"\": "
               "must be of the form <tag>, <repo>:<tag>, <id>, or <repo>@<id> | spec.tags[t].from.name: Required value");
}

static void test_is11_wrapped_message(void **state)
{
    json_t *o = is_obj("foo", "{\"tags\":[{\"name\":\"latest\",\"from\":{\"kind\":\"ImageStreamTag\",\"name\":\"a:b:c\"}}]}");
    ferrs_t errs = FERRS_INIT;
    imagestream_normalize(&ctx, o);
    imagestream_prepare_create(&ctx, o);
    imagestream_validate(&ctx, o, NULL, &errs);
    assert_int_equal(errs.n, 1);
    assert_int_equal(errs.items[0].type, FERR_INTERNAL);
    assert_string_equal(errs.items[0].field, "");
    apierr_t e = APIERR_INIT;
    apierr_invalid(&e, "ImageStream.image.openshift.io", "ImageStream", "image.openshift.io", "foo", &errs);
    assert_string_equal(e.message,
                        "ImageStream.image.openshift.io \"foo\" is invalid: : Internal error: imagestreams \"foo\" is invalid: "
                        "spec.tags[latest].from.name: Invalid value: \"a:b:c\": must be of the form <tag>, <repo>:<tag>, "
                        "<id>, or <repo>@<id>");
    assert_json(json_object_get(e.details, "causes"),
                "[{\"reason\":\"InternalError\",\"message\":\"Internal error: imagestreams \\\"foo\\\" is invalid: "
                "spec.tags[latest].from.name: Invalid value: \\\"a:b:c\\\": must be of the form <tag>, <repo>:<tag>, "
                "<id>, or <repo>@<id>\"}]");
    apierr_clear(&e);
    ferrs_free(&errs);
    json_decref(o);
}

/* IS-16: spec tag generation rules on update. */
static void test_is16_generations(void **state)
{
    json_t *cur = is_obj("s", "{\"tags\":[{\"name\":\"a\",\"from\":{\"kind\":\"DockerImage\",\"name\":\"x\"}},"
                              "{\"name\":\"b\",\"from\":{\"kind\":\"DockerImage\",\"name\":\"y\"}}]}");
    assert_str_free(is_create(&ctx, cur), "");
    assert_int_equal(generation(cur), 1);

    /* Annotation only: metadata is not spec. */
    json_t *o = json_deep_copy(cur);
    json_object_set_new(json_object_get(o, "metadata"), "annotations", json_pack("{s:s}", "k", "v"));
    assert_str_free(is_update(&ctx, o, cur), "");
    assert_int_equal(generation(o), 1);
    json_decref(o);

    /* Changing a.from.name: stream and a move to 2, b stays. */
    o = json_deep_copy(cur);
    json_object_set_new(json_object_get(spec_tag(o, "a"), "from"), "name", json_string("x2"));
    assert_str_free(is_update(&ctx, o, cur), "");
    assert_int_equal(generation(o), 2);
    assert_int_equal(json_integer_value(json_object_get(spec_tag(o, "a"), "generation")), 2);
    assert_int_equal(json_integer_value(json_object_get(spec_tag(o, "b"), "generation")), 1);
    json_decref(cur);
    cur = o;

    /* b.generation: 9 is silently restored; nothing else changed. */
    o = json_deep_copy(cur);
    json_object_set_new(spec_tag(o, "b"), "generation", json_integer(9));
    assert_str_free(is_update(&ctx, o, cur), "");
    assert_int_equal(generation(o), 2);
    assert_int_equal(json_integer_value(json_object_get(spec_tag(o, "b"), "generation")), 1);
    json_decref(o);

    /* b.generation: 0 requests a re-import. */
    o = json_deep_copy(cur);
    json_object_set_new(spec_tag(o, "b"), "generation", json_integer(0));
    assert_str_free(is_update(&ctx, o, cur), "");
    assert_int_equal(generation(o), 3);
    assert_int_equal(json_integer_value(json_object_get(spec_tag(o, "b"), "generation")), 3);
    json_decref(cur);
    cur = o;

    /* Only the reference policy: stream +1, tag keeps its generation. */
    o = json_deep_copy(cur);
    json_object_set_new(json_object_get(spec_tag(o, "a"), "referencePolicy"), "type", json_string("Local"));
    assert_str_free(is_update(&ctx, o, cur), "");
    assert_int_equal(generation(o), 4);
    assert_int_equal(json_integer_value(json_object_get(spec_tag(o, "a"), "generation")), 2);
    json_decref(cur);
    cur = o;

    /* A new tag with generation 7 gets the new stream generation. */
    o = json_deep_copy(cur);
    json_array_append_new(json_object_get(json_object_get(o, "spec"), "tags"),
                          J("{\"name\":\"c\",\"generation\":7,\"from\":{\"kind\":\"DockerImage\",\"name\":\"z\"}}"));
    assert_str_free(is_update(&ctx, o, cur), "");
    assert_int_equal(generation(o), 5);
    assert_int_equal(json_integer_value(json_object_get(spec_tag(o, "c"), "generation")), 5);
    json_decref(o);
    json_decref(cur);
}

static void test_is17_status_ignored_on_update(void **state)
{
    json_t *cur = is_obj("s", "{\"tags\":[{\"name\":\"a\",\"reference\":true,\"from\":{\"kind\":\"DockerImage\",\"name\":\"x\"}}]}");
    assert_str_free(is_create(&ctx, cur), "");
    json_t *o = json_deep_copy(cur);
    json_object_set_new(o, "status", J("{\"dockerImageRepository\":\"junk\",\"tags\":[{\"tag\":\"extra\",\"items\":[]}]}"));
    assert_str_free(is_update(&ctx, o, cur), "");
    assert_true(json_equal(json_object_get(o, "status"), json_object_get(cur, "status")));
    /* Removing the spec tag keeps its history. */
    json_object_set_new(json_object_get(o, "spec"), "tags", json_array());
    json_t *o2 = json_deep_copy(o);
    assert_str_free(is_update(&ctx, o2, cur), "");
    assert_int_equal(json_array_size(status_items(o2, "a")), 1);
    assert_int_equal(generation(o2), 2);
    json_decref(o2);
    json_decref(o);
    json_decref(cur);
}

static void test_is20_status_update(void **state)
{
    json_t *cur = is_obj("s", "{\"tags\":[{\"name\":\"a\",\"from\":{\"kind\":\"DockerImage\",\"name\":\"x\"}}]}");
    assert_str_free(is_create(&ctx, cur), "");
    json_t *o = json_deep_copy(cur);
    json_object_set_new(json_object_get(o, "spec"), "tags", J("[{\"name\":\"zzz\"}]"));
    json_object_set_new(json_object_get(json_object_get(o, "spec"), "lookupPolicy"), "local", json_true());
    json_object_set_new(o, "status", J("{\"dockerImageRepository\":\"junk\",\"tags\":[{\"tag\":\"x\",\"items\":[{\"created\":\"" NOW "\","
                                      "\"dockerImageReference\":\"foo/bar:latest\",\"image\":\"sha256:" HEXA "\",\"generation\":0}]},"
                                      "{\"tag\":\"empty\",\"items\":[]}]}"));
    assert_str_free(is_status_update(&ctx, o, cur), "");
    assert_true(json_equal(json_object_get(json_object_get(o, "spec"), "tags"), json_object_get(json_object_get(cur, "spec"), "tags")));
    assert_true(json_is_true(json_object_get(json_object_get(json_object_get(o, "spec"), "lookupPolicy"), "local")));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(status_items(o, "x"), 0), "generation")), 1);
    assert_int_equal(generation(o), 1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "status"), "dockerImageRepository")), "junk");
    json_decref(o);
    json_decref(cur);
}

static void test_is21_status_validation(void **state)
{
    json_t *cur = is_obj("s", "{}");
    assert_str_free(is_create(&ctx, cur), "");
    json_t *o = json_deep_copy(cur);
    json_object_set_new(o, "status", J("{\"tags\":[{\"tag\":\"x\",\"items\":[{\"dockerImageReference\":\"\"},"
                                      "{\"dockerImageReference\":\"abc@badid\"},{\"dockerImageReference\":\"ok/ref\"}]}]}"));
    assert_str_free(is_status_update(&ctx, o, cur),
                    "status.tags[x].items[0].dockerImageReference: Invalid value: \"\": repository name must have at least one component | "
                    "status.tags[x].items[1].dockerImageReference: Invalid value: \"abc@badid\": invalid reference format");
    json_decref(o);
    json_decref(cur);
}

/* IS-26: tags ordered by latest event time, cut to about 40 characters. */
static void test_is26_table(void **state)
{
    time_t now = 1700000000;
    char t1[21], t2[21];
    time_rfc3339(now - 7200, t1);
    time_rfc3339(now - 3 * 86400, t2);
    char *st = xasprintf("{\"dockerImageRepository\":\"reg/ns/foo\",\"tags\":["
                         "{\"tag\":\"old\",\"items\":null},{\"tag\":\"v1\",\"items\":[{\"created\":\"%s\",\"dockerImageReference\":\"a\"}]},"
                         "{\"tag\":\"latest\",\"items\":[{\"created\":\"%s\",\"dockerImageReference\":\"b\"}]}]}", t2, t1);
    json_t *o = is_obj("foo", "{}");
    json_object_set_new(o, "status", J(st));
    free(st);
    json_t *cells = imagestream_table_cells(o);
    char *want = xasprintf("[\"foo\",\"reg/ns/foo\",\"latest,v1,old\",%lld]", (long long)(now - 7200));
    assert_json(cells, want);
    free(want);
    json_decref(cells);
    /* Image Repository preference: public, then spec, then status. */
    json_object_set_new(json_object_get(o, "spec"), "dockerImageRepository", json_string("spec/repo"));
    cells = imagestream_table_cells(o);
    assert_string_equal(json_string_value(json_array_get(cells, 1)), "spec/repo");
    json_decref(cells);
    json_object_set_new(json_object_get(o, "status"), "publicDockerImageRepository", json_string("pub/ns/foo"));
    cells = imagestream_table_cells(o);
    assert_string_equal(json_string_value(json_array_get(cells, 1)), "pub/ns/foo");
    json_decref(cells);
    json_decref(o);

    json_t *tags = json_array();
    for (int i = 11; i >= 0; i--) {
        char name[8];
        snprintf(name, sizeof name, "tag%02d", i);
        json_array_append_new(tags, json_pack("{s:s, s:[{s:s, s:s}]}", "tag", name, "items", "created", t1,
                                              "dockerImageReference", "r"));
    }
    o = is_obj("foo", "{}");
    json_object_set_new(o, "status", json_pack("{s:o}", "tags", tags));
    cells = imagestream_table_cells(o);
    assert_string_equal(json_string_value(json_array_get(cells, 2)), "tag00,tag01,tag02,tag03,tag04,tag05 + 6 more...");
    json_decref(cells);
    json_decref(o);

    /* Empty stream: no tags, Updated null. A single overlong tag is kept alone. */
    o = is_obj("foo", "{}");
    json_object_set_new(o, "status", J("{\"tags\":[{\"tag\":\"" H8("a") H8("a") H8("a") H8("a") H8("a") H8("a") "\",\"items\":null},"
                                      "{\"tag\":\"b\",\"items\":null}]}"));
    cells = imagestream_table_cells(o);
    assert_json(cells, "[\"foo\",\"\",\"" H8("a") H8("a") H8("a") H8("a") H8("a") H8("a") " + 1 more...\",null]");
    json_decref(cells);
    json_decref(o);
    /* The W/4 grace: 26 chars used, a 20-char tag overflows by 7 and is still shown. */
    o = is_obj("foo", "{}");
    json_object_set_new(o, "status", J("{\"tags\":[{\"tag\":\"a" H8("a") H8("a") H8("a") "\",\"items\":null},"
                                      "{\"tag\":\"b" H8("b") H8("b") "cde\",\"items\":null},{\"tag\":\"c\",\"items\":null}]}"));
    cells = imagestream_table_cells(o);
    assert_string_equal(json_string_value(json_array_get(cells, 2)),
                        "a" H8("a") H8("a") H8("a") ",b" H8("b") H8("b") "cde + 1 more...");
    json_decref(cells);
    json_decref(o);
}

/* Wrongly typed members never crash the hooks (the schema decoder should reject them first). */
static void test_garbage_shapes(void **state)
{
    static const char *bodies[] = {
        "{\"metadata\":{\"name\":1},\"spec\":[],\"status\":\"x\"}",
        "{\"metadata\":{\"name\":\"a\"},\"spec\":{\"tags\":\"x\",\"lookupPolicy\":1},\"status\":{\"tags\":[1,null,{\"tag\":2,\"items\":{}}]}}",
        "{\"metadata\":{\"name\":\"a\"},\"spec\":{\"tags\":[{\"name\":\"t\",\"from\":\"x\",\"importPolicy\":[],\"generation\":\"1\"}]}}",
        "{\"metadata\":{\"name\":\"a\"},\"spec\":{\"tags\":[{\"name\":\"t\",\"from\":{\"kind\":\"ImageStreamImage\",\"name\":\"@\"}}]}}",
        "{\"metadata\":{\"name\":\"a\",\"annotations\":[]},\"dockerImageManifest\":\"{\\\"schemaVersion\\\":1,\\\"fsLayers\\\":[1,{}],"
        "\\\"history\\\":[{\\\"v1Compatibility\\\":5},{}]}\",\"dockerImageLayers\":[1,\"x\"],\"signatures\":[1,{\"conditions\":\"x\"}],"
        "\"dockerImageManifests\":{},\"dockerImageMetadata\":[],\"dockerImageMetadataVersion\":5}",
        "{\"metadata\":{\"name\":\"a\"},\"dockerImageManifestMediaType\":\"application/vnd.oci.image.index.v1+json\","
        "\"dockerImageManifest\":\"{\\\"manifests\\\":[1,{\\\"platform\\\":7}]}\"}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
        json_t *o = J(bodies[i]);
        char *e = is_create(&ctx, o);
        free(e);
        json_t *old = json_deep_copy(o);
        e = is_update(&ctx, o, old);
        free(e);
        e = is_status_update(&ctx, o, old);
        free(e);
        imagestream_decorate(&ctx, o);
        json_t *cells = imagestream_table_cells(o);
        assert_int_equal(json_array_size(cells), 4);
        json_decref(cells);
        json_decref(old);
        json_decref(o);
        o = J(bodies[i]);
        image_normalize(o);
        image_prepare_create(&ctx, o);
        ferrs_t errs = FERRS_INIT;
        image_validate(&ctx, o, NULL, &errs);
        ferrs_free(&errs);
        json_decref(o);
    }
}

int main(void)
{
    log_level = LOG_ERROR;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_is1_create_shape),
        cmocka_unit_test(test_normalize_defaults),
        cmocka_unit_test(test_is23_duplicates_last_wins),
        cmocka_unit_test(test_is2_repositories),
        cmocka_unit_test(test_is3_is4_names),
        cmocka_unit_test(test_is5_to_is11_validation),
        cmocka_unit_test(test_is11_wrapped_message),
        cmocka_unit_test(test_is16_generations),
        cmocka_unit_test(test_is17_status_ignored_on_update),
        cmocka_unit_test(test_is20_status_update),
        cmocka_unit_test(test_is21_status_validation),
        cmocka_unit_test(test_is26_table),
        cmocka_unit_test(test_garbage_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
