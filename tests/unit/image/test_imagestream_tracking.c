/* Tracking tags (transitive, through every kind of write), cycles of them, cross-namespace
 * authorization of tag sources, and --max-tag-history. */
#include "is_helpers.h"

static const image_config_t cfg_plain = {NULL, NULL, NULL, 0};
static const image_config_t cfg_hist2 = {NULL, NULL, NULL, 2};

static json_t *other_stream;   /* served as ns "src", name "other" */
static json_t *get_stream(void *arg, const char *ns, const char *name)
{
    if (other_stream && !strcmp(ns, "src") && !strcmp(name, "other"))
        return json_incref(other_stream);
    return NULL;
}

static int asked;
static char asked_for[64];
static bool deny_layers(void *arg, const char *ns, const char *name, char **reason)
{
    asked++;
    snprintf(asked_for, sizeof asked_for, "%s/%s", ns, name);
    *reason = xstrdup("no access");
    return false;
}

static bool allow_layers(void *arg, const char *ns, const char *name, char **reason)
{
    asked++;
    return true;
}

static const char *latest_image(const json_t *o, const char *tag)
{
    return json_string_value(json_object_get(json_array_get(status_items(o, tag), 0), "image"));
}

/* A status write that pushes image img to tag: what a registry or a mapping does. */
static char *push(const image_ctx_t *ctx, json_t **cur, const char *tag, const char *img)
{
    json_t *n = json_deep_copy(*cur);
    json_t *e = json_pack("{s:s, s:s, s:s, s:i}", "created", NOW, "dockerImageReference", img, "image", img,
                          "generation", 1);
    imagestream_add_tag_event(n, tag, e);
    json_decref(e);
    char *errs = is_status_update(ctx, n, *cur);
    json_decref(*cur);
    *cur = n;
    return errs;
}

static void test_chain_follows_a_push(void **state)
{
    image_ctx_t ctx = {&cfg_plain, NOW, NULL, NULL, NULL};
    /* c <- b <- a: a tracks b, which tracks c */
    json_t *o = is_obj("s", "{\"tags\":[{\"name\":\"a\",\"from\":{\"kind\":\"ImageStreamTag\",\"name\":\"b\"}},"
                            "{\"name\":\"b\",\"from\":{\"kind\":\"ImageStreamTag\",\"name\":\"s:c\"}}]}");
    assert_str_free(is_create(&ctx, o), "");
    assert_null(status_items(o, "a"));
    assert_str_free(push(&ctx, &o, "c", "sha256:1"), "");
    assert_string_equal(latest_image(o, "b"), "sha256:1");
    assert_string_equal(latest_image(o, "a"), "sha256:1");
    assert_str_free(push(&ctx, &o, "c", "sha256:2"), "");
    assert_string_equal(latest_image(o, "a"), "sha256:2");
    assert_int_equal(json_array_size(status_items(o, "a")), 2);
    json_decref(o);
}

static void test_public_update_moves_followers(void **state)
{
    image_ctx_t ctx = {&cfg_plain, NOW, NULL, NULL, NULL};
    json_t *o = is_obj("s", "{\"tags\":[{\"name\":\"v1\",\"from\":{\"kind\":\"DockerImage\",\"name\":\"a/b:1\"},"
                            "\"reference\":true},"
                            "{\"name\":\"latest\",\"from\":{\"kind\":\"ImageStreamTag\",\"name\":\"v1\"}}]}");
    assert_str_free(is_create(&ctx, o), "");
    assert_string_equal(json_string_value(json_object_get(json_array_get(status_items(o, "latest"), 0),
                                                          "dockerImageReference")), "a/b:1");
    /* v1 now points elsewhere: latest follows it in the same write */
    json_t *n = json_deep_copy(o);
    json_object_set_new(json_object_get(spec_tag(n, "v1"), "from"), "name", json_string("a/b:2"));
    assert_str_free(is_update(&ctx, n, o), "");
    assert_string_equal(json_string_value(json_object_get(json_array_get(status_items(n, "latest"), 0),
                                                          "dockerImageReference")), "a/b:2");
    json_decref(n);
    json_decref(o);
}

static void test_cycles_refused(void **state)
{
    image_ctx_t ctx = {&cfg_plain, NOW, NULL, NULL, NULL};
    json_t *o = is_obj("s", "{\"tags\":[{\"name\":\"a\",\"from\":{\"kind\":\"ImageStreamTag\",\"name\":\"b\"}},"
                            "{\"name\":\"b\",\"from\":{\"kind\":\"ImageStreamTag\",\"name\":\"s:a\"}}]}");
    char *e = is_create(&ctx, o);
    assert_non_null(strstr(e, "spec.tags[a].from.name: Invalid value: \"b\": tags may not track each other in a "
                              "cycle: a -> b -> a"));
    assert_non_null(strstr(e, "spec.tags[b].from.name: Invalid value: \"s:a\": tags may not track each other in a "
                              "cycle: b -> a -> b"));
    free(e);
    json_decref(o);
    o = is_obj("s", "{\"tags\":[{\"name\":\"x\",\"from\":{\"kind\":\"ImageStreamTag\",\"name\":\"x\"}}]}");
    assert_str_free(is_create(&ctx, o),
                    "spec.tags[x].from.name: Invalid value: \"x\": tags may not track each other in a cycle: x -> x");
    json_decref(o);
    /* a tag of another stream with the same tag name is no cycle */
    o = is_obj("s", "{\"tags\":[{\"name\":\"x\",\"from\":{\"kind\":\"ImageStreamTag\",\"name\":\"t:x\"}}]}");
    char *e2 = is_create(&ctx, o);
    assert_null(strstr(e2, "cycle"));
    free(e2);
    json_decref(o);
}

static void test_legacy_cycle_does_not_block_other_writes(void **state)
{
    image_ctx_t ctx = {&cfg_plain, NOW, NULL, NULL, NULL};
    /* stored before cycles were refused */
    json_t *old = is_obj("s", "{\"tags\":[{\"name\":\"a\",\"from\":{\"kind\":\"ImageStreamTag\",\"name\":\"b\"},"
                              "\"generation\":1},"
                              "{\"name\":\"b\",\"from\":{\"kind\":\"ImageStreamTag\",\"name\":\"a\"},\"generation\":1}]}");
    imagestream_normalize(&ctx, old);
    json_object_set_new(json_object_get(old, "metadata"), "generation", json_integer(1));
    json_t *n = json_deep_copy(old);
    json_array_append_new(json_object_get(json_object_get(n, "spec"), "tags"),
                          J("{\"name\":\"c\",\"from\":{\"kind\":\"DockerImage\",\"name\":\"x/y:1\"}}"));
    assert_str_free(is_update(&ctx, n, old), "");
    /* pushing into the cycle ends (each tag moves once) */
    assert_str_free(push(&ctx, &n, "a", "sha256:9"), "");
    assert_string_equal(latest_image(n, "b"), "sha256:9");
    json_decref(n);
    json_decref(old);
}

static void test_cross_namespace_denied(void **state)
{
    other_stream = J("{\"metadata\":{\"name\":\"other\",\"namespace\":\"src\"},\"status\":{\"tags\":[{\"tag\":\"v1\","
                     "\"items\":[{\"created\":\"" NOW "\",\"dockerImageReference\":\"r:5\",\"image\":\"sha256:5\","
                     "\"generation\":1}]}]}}");
    image_ctx_t ctx = {&cfg_plain, NOW, get_stream, deny_layers, NULL};
    json_t *o = is_obj("s", "{\"tags\":[{\"name\":\"a\",\"from\":{\"kind\":\"ImageStreamTag\",\"name\":\"other:v1\","
                            "\"namespace\":\"src\"}},"
                            "{\"name\":\"b\",\"from\":{\"kind\":\"ImageStreamTag\",\"name\":\"other:v1\","
                            "\"namespace\":\"src\"}}]}");
    asked = 0;
    char *e = is_create(&ctx, o);
    assert_non_null(strstr(e, "imagestreams \"s\" is invalid: [spec.tags[a].from: Forbidden: src/other: \"no access\" "
                              "\"\", spec.tags[b].from: Forbidden: src/other: \"no access\" \"\"]"));
    free(e);
    assert_int_equal(asked, 1);   /* once per source stream */
    assert_string_equal(asked_for, "src/other");
    assert_null(status_items(o, "a"));
    json_decref(o);
    /* allowed: the event is copied; same-namespace sources are not asked about */
    ctx.can_read_layers = allow_layers;
    asked = 0;
    o = is_obj("s", "{\"tags\":[{\"name\":\"a\",\"from\":{\"kind\":\"ImageStreamTag\",\"name\":\"other:v1\","
                    "\"namespace\":\"src\"}},{\"name\":\"b\",\"from\":{\"kind\":\"ImageStreamTag\",\"name\":\"a\"}}]}");
    assert_str_free(is_create(&ctx, o), "");
    assert_int_equal(asked, 1);
    assert_string_equal(latest_image(o, "a"), "sha256:5");
    assert_string_equal(latest_image(o, "b"), "sha256:5");
    json_decref(o);
    json_decref(other_stream);
    other_stream = NULL;
}

#define Z60 "000000000000000000000000000000000000000000000000000000000000"
#define DG(n) "sha256:" Z60 "000" n

static void push_n(const image_ctx_t *ctx, json_t **o, int from, int to)
{
    for (int i = from; i <= to; i++) {
        char img[80];
        snprintf(img, sizeof img, "sha256:" Z60 "000%d", i);
        assert_str_free(push(ctx, o, "v", img), "");
    }
}

static const char *item_image(const json_t *items, size_t i)
{
    return json_string_value(json_object_get(json_array_get(items, i), "image"));
}

static void test_max_tag_history(void **state)
{
    image_ctx_t ctx = {&cfg_hist2, NOW, NULL, NULL, NULL};
    json_t *o = is_obj("s", "{}");
    assert_str_free(is_create(&ctx, o), "");
    push_n(&ctx, &o, 1, 5);
    assert_int_equal(json_array_size(status_items(o, "v")), 2);
    assert_string_equal(latest_image(o, "v"), DG("5"));
    json_decref(o);
    /* pins: an event a spec tag names by digest survives the limit */
    image_ctx_t unl = {&cfg_plain, NOW, NULL, NULL, NULL};
    o = is_obj("s", "{}");
    assert_str_free(is_create(&unl, o), "");
    push_n(&unl, &o, 1, 3);
    json_t *n = json_deep_copy(o);
    json_object_set_new(json_object_get(n, "spec"), "tags",
                        J("[{\"name\":\"old\",\"from\":{\"kind\":\"ImageStreamImage\",\"name\":\"" DG("1") "\"}},"
                          "{\"name\":\"d\",\"from\":{\"kind\":\"DockerImage\",\"name\":\"x/y@" DG("2") "\"}}]"));
    assert_str_free(is_update(&unl, n, o), "");
    json_decref(o);
    o = n;
    push_n(&ctx, &o, 4, 4);
    json_t *items = status_items(o, "v");
    assert_int_equal(json_array_size(items), 4);   /* 4, 3 by the limit; 2 and 1 pinned */
    assert_string_equal(item_image(items, 3), DG("1"));
    push_n(&ctx, &o, 5, 5);
    items = status_items(o, "v");
    assert_int_equal(json_array_size(items), 4);   /* 5, 4; 3 dropped; 2, 1 pinned */
    assert_string_equal(item_image(items, 2), DG("2"));
    assert_string_equal(item_image(items, 3), DG("1"));
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_follows_a_push),
        cmocka_unit_test(test_public_update_moves_followers),
        cmocka_unit_test(test_cycles_refused),
        cmocka_unit_test(test_legacy_cycle_does_not_block_other_writes),
        cmocka_unit_test(test_cross_namespace_denied),
        cmocka_unit_test(test_max_tag_history),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
