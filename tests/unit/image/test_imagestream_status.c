/* Tag history (§3.9), materialisation of spec tags (§3.6) and tracking tags. */
#include "is_helpers.h"

#define E3 "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define A29 "sha256:293a" H8("0") H8("0") H8("0") H8("0") H8("0") H8("0") H8("0") "0000"

static const image_config_t cfg_plain = {NULL, NULL, NULL};
static const image_config_t cfg_reg = {"registry:5000", NULL, NULL};

/* get_stream stub: serves stream "other" in namespace "ns". */
static json_t *other_stream;
static int lookups;
static json_t *get_stream(void *arg, const char *ns, const char *name)
{
    lookups++;
    if (other_stream && !strcmp(ns, "ns") && !strcmp(name, "other"))
        return json_incref(other_stream);
    return NULL;
}

static json_t *event(const char *ref, const char *img, int gen)
{
    return json_pack("{s:s, s:s, s:s, s:i}", "created", "2020-01-01T00:00:00Z", "dockerImageReference", ref, "image", img,
                     "generation", gen);
}

static const char *item_str(const json_t *o, const char *tag, size_t i, const char *key)
{
    return json_string_value(json_object_get(json_array_get(status_items(o, tag), i), key));
}

static void test_is19_add_tag_event(void **state)
{
    json_t *o = is_obj("s", "{}");
    json_t *e = event("R", "I", 1);
    assert_true(imagestream_add_tag_event(o, "latest", e));
    json_decref(e);
    json_object_set_new(json_array_get(json_object_get(json_object_get(o, "status"), "tags"), 0), "conditions",
                        J("[{\"type\":\"ImportSuccess\",\"status\":\"False\"}]"));
    /* Same everything: no change, conditions kept. */
    e = event("R", "I", 1);
    assert_false(imagestream_add_tag_event(o, "latest", e));
    json_decref(e);
    assert_non_null(json_object_get(json_array_get(json_object_get(json_object_get(o, "status"), "tags"), 0), "conditions"));
    /* Same reference, new image: in place, created kept, conditions dropped. */
    e = event("R", "I2", 1);
    json_object_set_new(e, "created", json_string("2021-01-01T00:00:00Z"));
    assert_true(imagestream_add_tag_event(o, "latest", e));
    json_decref(e);
    assert_int_equal(json_array_size(status_items(o, "latest")), 1);
    assert_string_equal(item_str(o, "latest", 0, "image"), "I2");
    assert_string_equal(item_str(o, "latest", 0, "created"), "2020-01-01T00:00:00Z");
    assert_null(json_object_get(json_array_get(json_object_get(json_object_get(o, "status"), "tags"), 0), "conditions"));
    /* Same image, new reference: in place. */
    e = event("R2", "I2", 1);
    assert_true(imagestream_add_tag_event(o, "latest", e));
    json_decref(e);
    assert_int_equal(json_array_size(status_items(o, "latest")), 1);
    assert_string_equal(item_str(o, "latest", 0, "dockerImageReference"), "R2");
    /* Generation only. */
    e = event("R2", "I2", 5);
    assert_true(imagestream_add_tag_event(o, "latest", e));
    json_decref(e);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(status_items(o, "latest"), 0), "generation")), 5);
    /* Both differ: prepended; history may repeat (A, B, A). */
    e = event("R", "I", 5);
    assert_true(imagestream_add_tag_event(o, "latest", e));
    json_decref(e);
    e = event("R2", "I2", 5);
    assert_true(imagestream_add_tag_event(o, "latest", e));
    json_decref(e);
    assert_int_equal(json_array_size(status_items(o, "latest")), 3);
    assert_string_equal(item_str(o, "latest", 0, "image"), "I2");
    assert_string_equal(item_str(o, "latest", 1, "image"), "I");
    assert_string_equal(item_str(o, "latest", 2, "image"), "I2");
    /* New tags are inserted in name order; a conditions-only tag gets items. */
    json_t *tags = json_object_get(json_object_get(o, "status"), "tags");
    json_array_append_new(tags, J("{\"tag\":\"b\",\"items\":null,\"conditions\":[{\"type\":\"ImportSuccess\"}]}"));
    e = event("X", "", 1);
    assert_true(imagestream_add_tag_event(o, "a", e));
    assert_true(imagestream_add_tag_event(o, "b", e));
    json_decref(e);
    assert_string_equal(json_string_value(json_object_get(json_array_get(tags, 0), "tag")), "a");
    assert_string_equal(json_string_value(json_object_get(json_array_get(tags, 1), "tag")), "latest");
    json_t *b = json_array_get(json_object_get(json_object_get(o, "status"), "tags"), 2);
    assert_json(b, "{\"tag\":\"b\",\"items\":[{\"created\":\"2020-01-01T00:00:00Z\",\"dockerImageReference\":\"X\",\"image\":\"\",\"generation\":1}]}");
    json_decref(o);
}

static void test_is12_reference_and_tracking(void **state)
{
    image_ctx_t ctx = {&cfg_plain, NOW, NULL, NULL};
    json_t *o = is_obj("stream", "{\"tags\":[{\"name\":\"t2\",\"from\":{\"kind\":\"ImageStreamTag\",\"name\":\"t1\"}},"
                                 "{\"name\":\"t1\",\"reference\":true,\"from\":{\"kind\":\"DockerImage\",\"name\":\"registry:5000/ns/stream:t1\"}}]}");
    assert_str_free(is_create(&ctx, o), "");
    const char *want = "[{\"created\":\"" NOW "\",\"dockerImageReference\":\"registry:5000/ns/stream:t1\",\"image\":\"\",\"generation\":1}]";
    assert_json(status_items(o, "t1"), want);
    assert_json(status_items(o, "t2"), want);
    json_decref(o);
}

static void test_is13_is14_resolution_errors(void **state)
{
    image_ctx_t ctx = {&cfg_plain, NOW, get_stream, NULL};
    other_stream = NULL;
    json_t *o = is_obj("stream", "{\"tags\":[{\"name\":\"t1\",\"from\":{\"kind\":\"ImageStreamTag\",\"name\":\"missing\"}}]}");
    assert_str_free(is_create(&ctx, o), "");
    assert_null(json_object_get(json_object_get(o, "status"), "tags"));
    json_decref(o);

    o = is_obj("stream", "{\"tags\":[{\"name\":\"t1\",\"from\":{\"kind\":\"ImageStreamImage\",\"name\":\"stream@" E3 "\"}}]}");
    assert_str_free(is_create(&ctx, o),
                    ": Internal error: imagestreams \"stream\" is invalid: spec.tags[t1].from.name: Invalid value: \"stream@" E3
                    "\": error generating tag event: imagestreamimage.image.openshift.io \"" E3 "\" not found");
    json_decref(o);

    o = is_obj("stream", "{\"tags\":[{\"name\":\"t1\",\"from\":{\"kind\":\"ImageStreamTag\",\"name\":\"nosuch:tag\"}}]}");
    assert_str_free(is_create(&ctx, o),
                    ": Internal error: imagestreams \"stream\" is invalid: spec.tags[t1].from.name: Not found: \"nosuch:tag\"");
    json_decref(o);
    /* Without a lookup function only same-stream references resolve. */
    image_ctx_t bare = {&cfg_plain, NOW, NULL, NULL};
    o = is_obj("stream", "{\"tags\":[{\"name\":\"t1\",\"from\":{\"kind\":\"ImageStreamTag\",\"name\":\"x\",\"namespace\":\"other\"}}]}");
    assert_str_free(is_create(&bare, o),
                    ": Internal error: imagestreams \"stream\" is invalid: spec.tags[t1].from.name: Not found: \"x\"");
    json_decref(o);
}

static json_t *make_other(void)
{
    return J("{\"metadata\":{\"name\":\"other\",\"namespace\":\"ns\"},\"spec\":{},\"status\":{\"dockerImageRepository\":\"\","
             "\"tags\":[{\"tag\":\"other\",\"items\":[{\"created\":\"2020-01-01T00:00:00Z\","
             "\"dockerImageReference\":\"registry:5000/ns/other@" E3 "\",\"image\":\"" E3 "\",\"generation\":1}]}]}}");
}

static void test_is15_other_stream(void **state)
{
    other_stream = make_other();
    image_ctx_t ctx = {&cfg_plain, NOW, get_stream, NULL};
    json_t *o = is_obj("stream", "{\"tags\":[{\"name\":\"t1\",\"from\":{\"kind\":\"ImageStreamTag\",\"name\":\"other:other\"}}]}");
    assert_str_free(is_create(&ctx, o), "");
    assert_string_equal(item_str(o, "t1", 0, "dockerImageReference"), "registry:5000/ns/other@" E3);
    assert_string_equal(item_str(o, "t1", 0, "image"), E3);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(status_items(o, "t1"), 0), "generation")), 1);
    json_decref(o);

    image_ctx_t reg = {&cfg_reg, NOW, get_stream, NULL};
    o = is_obj("stream", "{\"tags\":[{\"name\":\"t1\",\"from\":{\"kind\":\"ImageStreamTag\",\"name\":\"other:other\"}}]}");
    assert_str_free(is_create(&reg, o), "");
    assert_string_equal(item_str(o, "t1", 0, "dockerImageReference"), "registry:5000/ns/stream@" E3);
    json_decref(o);

    o = is_obj("stream", "{\"tags\":[{\"name\":\"t1\",\"reference\":true,\"from\":{\"kind\":\"ImageStreamTag\",\"name\":\"other:other\"}}]}");
    assert_str_free(is_create(&reg, o), "");
    assert_string_equal(item_str(o, "t1", 0, "dockerImageReference"), "registry:5000/ns/other@" E3);
    json_decref(o);

    /* ImageStreamImage by prefix in the other stream; created = now. */
    o = is_obj("stream", "{\"tags\":[{\"name\":\"t1\",\"from\":{\"kind\":\"ImageStreamImage\",\"name\":\"other@e3b0c4\"}}]}");
    assert_str_free(is_create(&ctx, o), "");
    assert_string_equal(item_str(o, "t1", 0, "image"), E3);
    assert_string_equal(item_str(o, "t1", 0, "created"), NOW);
    json_decref(o);
    json_decref(other_stream);
    other_stream = NULL;
}

static void test_isimage_ambiguous_and_local(void **state)
{
    other_stream = J("{\"metadata\":{\"name\":\"other\",\"namespace\":\"ns\"},"
                     "\"spec\":{\"tags\":[{\"name\":\"b\",\"referencePolicy\":{\"type\":\"Local\"}}]},"
                     "\"status\":{\"dockerImageRepository\":\"registry:5000/ns/other\",\"tags\":["
                     "{\"tag\":\"a\",\"items\":[{\"dockerImageReference\":\"x/y@sha256:ab" H8("1") H8("1") H8("1") H8("1") H8("1") H8("1") H8("1") "111111\","
                     "\"image\":\"sha256:ab" H8("1") H8("1") H8("1") H8("1") H8("1") H8("1") H8("1") "111111\"}]},"
                     "{\"tag\":\"b\",\"items\":[{\"dockerImageReference\":\"x/y@sha256:ac" H8("2") H8("2") H8("2") H8("2") H8("2") H8("2") H8("2") "222222\","
                     "\"image\":\"sha256:ac" H8("2") H8("2") H8("2") H8("2") H8("2") H8("2") H8("2") "222222\"}]}]}}");
    image_ctx_t ctx = {&cfg_plain, NOW, get_stream, NULL};
    json_t *o = is_obj("stream", "{\"tags\":[{\"name\":\"t\",\"from\":{\"kind\":\"ImageStreamImage\",\"name\":\"other@sha256:a\"}}]}");
    assert_str_free(is_create(&ctx, o),
                    ": Internal error: imagestreams \"stream\" is invalid: spec.tags[t].from.name: Invalid value: \"other@sha256:a\": "
                    "error generating tag event: Operation cannot be fulfilled on imagestreamimage.image.openshift.io \"sha256:a\": "
                    "multiple images match the prefix \"sha256:a\": sha256:ab" H8("1") H8("1") H8("1") H8("1") H8("1") H8("1") H8("1")
                    "111111, sha256:ac" H8("2") H8("2") H8("2") H8("2") H8("2") H8("2") H8("2") "222222");
    json_decref(o);
    /* The Local reference policy of the source tag points the event at the source stream. */
    o = is_obj("stream", "{\"tags\":[{\"name\":\"t\",\"from\":{\"kind\":\"ImageStreamImage\",\"name\":\"other@ac\"}}]}");
    assert_str_free(is_create(&ctx, o), "");
    assert_string_equal(item_str(o, "t", 0, "dockerImageReference"),
                        "registry:5000/ns/other@sha256:ac" H8("2") H8("2") H8("2") H8("2") H8("2") H8("2") H8("2") "222222");
    json_decref(o);
    json_decref(other_stream);
    other_stream = NULL;
}

#define REF(id) "registry:5000/ns/stream@" id
static void test_is18_update_materialises_and_tracks(void **state)
{
    image_ctx_t ctx = {&cfg_reg, NOW, get_stream, NULL};
    json_t *old = J("{\"metadata\":{\"name\":\"stream\",\"namespace\":\"ns\",\"generation\":1},\"spec\":{\"tags\":["
                    "{\"name\":\"t1\",\"generation\":1,\"from\":{\"kind\":\"ImageStreamTag\",\"name\":\"stream:other\"}},"
                    "{\"name\":\"t2\",\"generation\":1,\"from\":{\"kind\":\"ImageStreamTag\",\"name\":\"stream:t1\"}}]},"
                    "\"status\":{\"tags\":["
                    "{\"tag\":\"other\",\"items\":[{\"created\":\"2020-01-02T00:00:00Z\",\"dockerImageReference\":\"" REF(A29) "\",\"image\":\"" A29 "\",\"generation\":1},"
                    "{\"created\":\"2020-01-01T00:00:00Z\",\"dockerImageReference\":\"" REF(E3) "\",\"image\":\"" E3 "\",\"generation\":1}]},"
                    "{\"tag\":\"t1\",\"items\":[{\"created\":\"2020-01-02T00:00:00Z\",\"dockerImageReference\":\"" REF(A29) "\",\"image\":\"" A29 "\",\"generation\":1}]},"
                    "{\"tag\":\"t2\",\"items\":[{\"created\":\"2020-01-02T00:00:00Z\",\"dockerImageReference\":\"" REF(A29) "\",\"image\":\"" A29 "\",\"generation\":1}]}]}}");
    imagestream_normalize(&ctx, old);
    json_t *o = json_deep_copy(old);
    json_object_set_new(spec_tag(o, "t1"), "from", J("{\"kind\":\"ImageStreamImage\",\"name\":\"stream@" E3 "\"}"));
    assert_str_free(is_update(&ctx, o, old), "");
    assert_int_equal(generation(o), 2);
    assert_int_equal(json_array_size(status_items(o, "t1")), 2);
    assert_string_equal(item_str(o, "t1", 0, "image"), E3);
    assert_string_equal(item_str(o, "t1", 0, "dockerImageReference"), REF(E3));
    assert_string_equal(item_str(o, "t1", 1, "image"), A29);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(status_items(o, "t1"), 0), "generation")), 2);
    /* Tracking against the real old status (§7 item 14, fixed): t2 follows t1. */
    assert_int_equal(json_array_size(status_items(o, "t2")), 2);
    assert_string_equal(item_str(o, "t2", 0, "image"), E3);
    /* The source tag "other" is untouched. */
    assert_int_equal(json_integer_value(json_object_get(json_array_get(status_items(o, "other"), 0), "generation")), 1);
    json_decref(o);

    /* An unchanged tag is not re-materialised (and no lookups happen). */
    lookups = 0;
    o = json_deep_copy(old);
    json_object_set_new(json_object_get(o, "metadata"), "labels", json_pack("{s:s}", "a", "b"));
    assert_str_free(is_update(&ctx, o, old), "");
    assert_true(json_equal(json_object_get(o, "status"), json_object_get(old, "status")) ||
                json_equal(json_object_get(json_object_get(o, "status"), "tags"), json_object_get(json_object_get(old, "status"), "tags")));
    assert_int_equal(lookups, 0);
    json_decref(o);
    json_decref(old);
}

int main(void)
{
    log_level = LOG_ERROR;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_is19_add_tag_event),
        cmocka_unit_test(test_is12_reference_and_tracking),
        cmocka_unit_test(test_is13_is14_resolution_errors),
        cmocka_unit_test(test_is15_other_stream),
        cmocka_unit_test(test_isimage_ambiguous_and_local),
        cmocka_unit_test(test_is18_update_materialises_and_tracks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
