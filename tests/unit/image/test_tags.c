/* The tag resources without a server: ImageTag and ImageStreamTag table cells (reference
 * §7, case 69), the ImageStreamTag/ImageTag views of a stream (§1.1, §1.2, §3.1), and the
 * ImageStream's internal write rules (§0.7; case 8's generations with legacy nil ones). */
#include "is_helpers.h"
#include "image/tags_int.h"

#include <time.h>

/* "<t> ago" as the table encoder renders an age cell (Unix seconds). */
static char *ago(const json_t *cell)
{
    if (!json_is_integer(cell))
        return xstrdup("");
    char d[64];
    time_human_duration((int64_t)time(NULL) - json_integer_value(cell), d, sizeof d);
    return xasprintf("%s ago", d);
}

static char *rfc3339_ago(int64_t secs)
{
    char out[21];
    time_rfc3339(time(NULL) - secs, out);
    return xstrdup(out);
}

/* One ImageTag row: [name, spec, status, history (-1: null), updated]. */
static void row_is(const char *itag_json, const char *spec, const char *status, int history, const char *updated)
{
    json_t *o = J(itag_json);
    json_t *cells = itag_table_cells(o);
    assert_int_equal(json_array_size(cells), 5);
    assert_string_equal(json_string_value(json_array_get(cells, 0)), ij_str(json_object_get(o, "metadata"), "name"));
    assert_string_equal(json_string_value(json_array_get(cells, 1)), spec);
    assert_string_equal(json_string_value(json_array_get(cells, 2)), status);
    if (history < 0)
        assert_true(json_is_null(json_array_get(cells, 3)));
    else
        assert_int_equal(json_integer_value(json_array_get(cells, 3)), history);
    char *u = ago(json_array_get(cells, 4));
    assert_string_equal(u, updated);
    free(u);
    json_decref(cells);
    json_decref(o);
}

#define ITAG(name, rest) "{\"metadata\":{\"name\":\"" name "\",\"namespace\":\"test\"}" rest "}"

/* Case 69: every row of the reference's printer test. */
static void test_itag_cells(void **state)
{
    char *h2 = rfc3339_ago(2 * 3600), *d2 = rfc3339_ago(2 * 86400), *d3 = rfc3339_ago(3 * 86400);
    char buf[2048];
    row_is(ITAG("foo:0", ""), "", "", -1, "");
    row_is(ITAG("foo:1", ",\"spec\":{\"name\":\"1\"}"), "", "", -1, "");
    row_is(ITAG("foo:2", ",\"spec\":{\"name\":\"2\",\"from\":{}}"), "Tag", "InvalidRefKind", -1, "");
    row_is(ITAG("foo:3", ",\"spec\":{\"name\":\"3\",\"reference\":true,\"from\":{\"kind\":\"DockerImage\",\"name\":\"a/b:c\"}}"),
           "Ref", "a/b:c", -1, "");
    row_is(ITAG("foo:4", ",\"spec\":{\"name\":\"4\",\"from\":{\"kind\":\"ImageStreamTag\",\"name\":\"b:c\"}}"), "Tag",
           "istag/b:c", -1, "");
    row_is(ITAG("foo:4a", ",\"spec\":{\"name\":\"4a\",\"from\":{\"kind\":\"ImageStreamImage\",\"name\":\"sha256:0000000000\","
                          "\"namespace\":\"a\"}}"),
           "Tag", "InvalidRefName", -1, "");
    row_is(ITAG("foo:5", ",\"spec\":{\"name\":\"5\",\"importPolicy\":{\"scheduled\":true},\"from\":{\"kind\":\"ImageStreamTag\","
                         "\"name\":\"b:c\",\"namespace\":\"a\"}}"),
           "Scheduled", "istag a/b:c", -1, "");
#define ISI_FROM "\"from\":{\"kind\":\"ImageStreamImage\",\"name\":\"a@sha256:0000000000\",\"namespace\":\"a\"}"
    row_is(ITAG("foo:6", ",\"spec\":{\"name\":\"6\"," ISI_FROM "}"), "Tag", "image/sha256:0000000000", -1, "");
    snprintf(buf, sizeof buf,
             ITAG("foo:7", ",\"spec\":{\"name\":\"7\"," ISI_FROM "},\"status\":{\"tag\":\"7\",\"items\":null,\"conditions\":"
                           "[{\"type\":\"ImportSuccess\",\"status\":\"False\",\"reason\":\"AbjectFailure\","
                           "\"lastTransitionTime\":\"%s\"}]}"),
             h2);
    row_is(buf, "Tag", "ImportFailed (AbjectFailure)", -1, "2 hours ago");
    row_is(ITAG("foo:8", ",\"spec\":{\"name\":\"8\"," ISI_FROM "},\"status\":{\"tag\":\"8\",\"items\":null,\"conditions\":"
                         "[{\"type\":\"ImportSuccess\",\"reason\":\"WithoutCondition\"}]}"),
           "Tag", "image/sha256:0000000000", -1, "");
    row_is(ITAG("foo:9", ",\"spec\":{\"name\":\"9\"," ISI_FROM ",\"generation\":2},\"status\":{\"tag\":\"9\",\"items\":"
                         "[{\"image\":\"sha256:0000000000\",\"generation\":1}],\"conditions\":[{\"type\":\"ImportSuccess\","
                         "\"reason\":\"AbjectFailure\"}]}"),
           "Tag", "Importing", 1, "");
    snprintf(buf, sizeof buf,
             ITAG("foo:10", ",\"spec\":{\"name\":\"10\"," ISI_FROM ",\"generation\":2},\"status\":{\"tag\":\"10\",\"items\":"
                            "[{\"image\":\"sha256:0000000000\",\"generation\":2,\"created\":\"%s\"},{\"dockerImageReference\":"
                            "\"old/image:nowhere\",\"generation\":1,\"created\":\"%s\"}],\"conditions\":[{\"type\":"
                            "\"ImportSuccess\",\"reason\":\"AbjectFailure\"}]}"),
             d2, d3);
    row_is(buf, "Tag", "image/sha256:0000000000", 2, "2 days ago");
    snprintf(buf, sizeof buf,
             ITAG("foo:11", ",\"status\":{\"tag\":\"11\",\"items\":[{\"image\":\"sha256:0000000000\",\"generation\":2,"
                            "\"created\":\"%s\"}]}"),
             d2);
    row_is(buf, "Push", "image/sha256:0000000000", 1, "2 days ago");
    snprintf(buf, sizeof buf,
             ITAG("foo:12", ",\"spec\":{\"name\":\"12\",\"from\":{\"kind\":\"ImageStreamImage\",\"name\":"
                            "\"a@sha256:0000000001\",\"namespace\":\"a\"},\"generation\":3},\"status\":{\"tag\":\"12\","
                            "\"items\":[{\"image\":\"sha256:0000000002\",\"generation\":4,\"created\":\"%s\"},{\"image\":"
                            "\"sha256:0000000001\",\"generation\":3,\"created\":\"%s\"}]}"),
             d2, d3);
    row_is(buf, "Push", "image/sha256:0000000002", 2, "2 days ago");
    snprintf(buf, sizeof buf,
             ITAG("foo:13", ",\"status\":{\"tag\":\"13\",\"items\":[{\"dockerImageReference\":\"a/b:c\",\"generation\":2,"
                            "\"created\":\"%s\"}]}"),
             d2);
    row_is(buf, "Push", "a/b:c", 1, "2 days ago");
    snprintf(buf, sizeof buf,
             ITAG("foo:14", ",\"spec\":{\"name\":\"14\",\"from\":{\"kind\":\"ImageStreamTag\",\"name\":\"other\"},"
                            "\"generation\":1},\"status\":{\"tag\":\"14\",\"items\":[{\"image\":\"sha256:0000000002\","
                            "\"generation\":2,\"created\":\"%s\"}]}"),
             d2);
    row_is(buf, "Track", "image/sha256:0000000002", 1, "2 days ago");
    free(h2);
    free(d2);
    free(d3);
}

static void test_istag_cells(void **state)
{
    json_t *o = J("{\"metadata\":{\"name\":\"s:t\",\"creationTimestamp\":\"2015-03-24T09:38:00Z\"},"
                  "\"image\":{\"metadata\":{\"name\":\"sha256:abc\"},\"dockerImageReference\":\"r/x@sha256:abc\"}}");
    json_t *cells = istag_table_cells(o);
    assert_json(cells, "[\"s:t\",\"r/x@sha256:abc\",1427189880,\"sha256:abc\"]");
    json_decref(cells);
    json_decref(o);
}

/* ---- views ---- */

#define STREAM                                                                                                  \
    "{\"kind\":\"ImageStream\",\"metadata\":{\"name\":\"test\",\"namespace\":\"ns\",\"uid\":\"u1\","            \
    "\"resourceVersion\":\"7\",\"generation\":3,\"creationTimestamp\":\"2014-01-01T00:00:00Z\",\"labels\":"      \
    "{\"l\":\"1\"},\"annotations\":{\"stream\":\"a\"}},\"spec\":{\"lookupPolicy\":{\"local\":true},\"tags\":["   \
    "{\"name\":\"latest\",\"annotations\":{\"color\":\"blue\"},\"referencePolicy\":{\"type\":\"Local\"},"         \
    "\"generation\":2},{\"name\":\"speconly\",\"annotations\":null,\"generation\":3}]},\"status\":{"              \
    "\"dockerImageRepository\":\"registry.svc:5000/ns/test\",\"tags\":[{\"tag\":\"latest\",\"items\":[{"         \
    "\"created\":\"2015-03-24T09:38:00Z\",\"dockerImageReference\":\"up/x:1\",\"image\":\"sha256:" HEXA "\","          \
    "\"generation\":2}],\"conditions\":[{\"type\":\"ImportSuccess\",\"status\":\"False\",\"generation\":2}]},"    \
    "{\"tag\":\"noimage\",\"items\":[{\"created\":\"2015-03-24T09:38:00Z\",\"dockerImageReference\":\"up/y\","   \
    "\"image\":\"\",\"generation\":1}]}]}}"

static void test_istag_view(void **state)
{
    json_t *s = J(STREAM);
    json_t *img = J("{\"kind\":\"Image\",\"metadata\":{\"name\":\"sha256:" HEXA "\",\"annotations\":{\"color\":\"red\","
                    "\"keep\":\"1\"}},\"dockerImageReference\":\"stored/ref\",\"dockerImageConfig\":\"{}\"}");
    json_t *v = istag_view(s, "latest", img, NOW);
    json_t *m = json_object_get(v, "metadata");
    assert_json(m, "{\"name\":\"test:latest\",\"namespace\":\"ns\",\"uid\":\"u1\",\"resourceVersion\":\"7\","
                   "\"creationTimestamp\":\"2015-03-24T09:38:00Z\",\"labels\":{\"l\":\"1\"},\"annotations\":"
                   "{\"color\":\"blue\"}}");
    assert_int_equal(ij_int(v, "generation"), 2);
    assert_json(json_object_get(v, "lookupPolicy"), "{\"local\":true}");
    assert_int_equal(json_array_size(json_object_get(v, "conditions")), 1);
    json_t *iv = json_object_get(v, "image");
    assert_string_equal(ij_str(iv, "dockerImageReference"), "registry.svc:5000/ns/test@sha256:" HEXA);
    assert_json(json_object_get(json_object_get(iv, "metadata"), "annotations"), "{\"color\":\"blue\",\"keep\":\"1\"}");
    assert_null(json_object_get(iv, "dockerImageConfig"));
    json_decref(v);
    /* tolerant form of a spec-only tag: the stream's creation time, no image */
    v = istag_view(s, "speconly", NULL, NULL);
    assert_string_equal(ij_str(json_object_get(v, "metadata"), "creationTimestamp"), "2014-01-01T00:00:00Z");
    assert_null(json_object_get(json_object_get(v, "metadata"), "annotations"));
    assert_json(json_object_get(v, "image"), "{\"metadata\":{\"name\":\"\"},\"dockerImageReference\":\"\"}");
    assert_int_equal(ij_int(v, "generation"), 0);
    assert_null(json_object_get(v, "conditions"));
    json_decref(v);
    /* a pushed-only tag: tag null */
    v = istag_view(s, "noimage", NULL, NULL);
    assert_true(json_is_null(json_object_get(v, "tag")));
    json_decref(v);
    json_decref(img);
    json_decref(s);
}

static void test_itag_view(void **state)
{
    json_t *s = J(STREAM);
    json_t *v = itag_view(s, "latest", NULL, NULL);
    json_t *m = json_object_get(v, "metadata");
    assert_string_equal(ij_str(m, "name"), "test:latest");
    assert_int_equal(ij_int(m, "generation"), 3);
    assert_json(json_object_get(m, "annotations"), "{\"stream\":\"a\"}");
    assert_string_equal(ij_str(json_object_get(v, "spec"), "name"), "latest");
    assert_string_equal(ij_str(json_object_get(v, "status"), "tag"), "latest");
    assert_int_equal(json_array_size(json_object_get(json_object_get(v, "status"), "conditions")), 1);
    assert_true(json_is_null(json_object_get(v, "image")));
    json_decref(v);
    v = itag_view(s, "speconly", NULL, NULL);
    assert_true(json_is_null(json_object_get(v, "status")));
    json_decref(v);
    v = itag_view(s, "noimage", NULL, NULL);
    assert_true(json_is_null(json_object_get(v, "spec")));
    json_decref(v);
    json_decref(s);
}

/* The list forms (expand): istag skips tags without an image; itag is the union. */
static void test_expand(void **state)
{
    json_t *s = J(STREAM);
    json_t *items = istag_ops.expand(NULL, s);
    assert_int_equal(json_array_size(items), 1);
    json_t *it = json_array_get(items, 0);
    assert_string_equal(ij_str(json_object_get(it, "metadata"), "name"), "test:latest");
    assert_json(json_object_get(it, "image"), "{\"metadata\":{\"name\":\"sha256:" HEXA "\"},\"dockerImageReference\":"
                                              "\"registry.svc:5000/ns/test@sha256:" HEXA "\"}");
    json_decref(items);
    items = itag_ops.expand(NULL, s);
    const char *want[] = {"test:latest", "test:noimage", "test:speconly"};
    assert_int_equal(json_array_size(items), 3);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(ij_str(json_object_get(json_array_get(items, i), "metadata"), "name"), want[i]);
    json_decref(items);
    json_decref(s);
}

/* ---- TagReference rules ---- */

static void test_validate_ref(void **state)
{
    ferrs_t e = FERRS_INIT;
    json_t *t = J("{\"from\":{\"kind\":\"DockerImage\",\"name\":\"a/b@sha256:" HEXA "\"},\"importPolicy\":"
                  "{\"scheduled\":true,\"importMode\":\"X\"},\"referencePolicy\":{\"type\":\"\"}}");
    tw_validate_ref(t, "spec", &e);
    assert_errs(&e, "spec.from.name: Invalid value: \"a/b@sha256:" HEXA "\": only tags can be scheduled for import | "
                    "spec.referencePolicy.type: Invalid value: \"\": valid values are \"Source\", \"Local\" | "
                    "spec.importPolicy.importMode: Invalid value: \"X\": invalid import mode, valid modes are '', "
                    "'Legacy', 'PreserveOriginal'");
    ferrs_free(&e);
    json_decref(t);
    t = J("{\"from\":{},\"referencePolicy\":{\"type\":\"Local\"}}");
    tw_validate_ref(t, "tag", &e);
    assert_errs(&e, "tag.from.name: Required value | tag.from.kind: Required value: valid values are 'DockerImage', "
                    "'ImageStreamImage', 'ImageStreamTag'");
    ferrs_free(&e);
    json_decref(t);
}

/* ---- the ImageStream's internal writes ---- */

static void test_prepare_internal(void **state)
{
    image_ctx_t ctx = {.now = NOW};
    /* create: generations 1, the status kept */
    json_t *o = is_obj("s", "{\"tags\":[{\"name\":\"a\",\"from\":{\"kind\":\"DockerImage\",\"name\":\"x/y\"}}]}");
    json_object_set_new(o, "status", J("{\"tags\":[{\"tag\":\"a\",\"items\":[{\"created\":\"" NOW "\","
                                       "\"dockerImageReference\":\"x/y@sha256:" HEXA "\",\"image\":\"sha256:" HEXA "\","
                                       "\"generation\":1}]}]}"));
    imagestream_normalize(&ctx, o);
    imagestream_prepare_internal(&ctx, o, NULL);
    assert_int_equal(ij_int(json_object_get(o, "metadata"), "generation"), 1);
    assert_int_equal(ij_int(is_spec_tag(o, "a"), "generation"), 1);
    assert_non_null(is_status_tag(o, "a"));
    json_decref(o);
}

/* Case 8 with legacy streams: spec tags without generations, one removed with its
 * status tag; the stream generation moves on and the nil one gets it; the status of
 * other tags is untouched (the remaining tag is not changed: not materialised again). */
static void test_delete_generations(void **state)
{
    image_ctx_t ctx = {.now = NOW};
    const char *spec = "{\"tags\":[{\"name\":\"another\",\"from\":{\"kind\":\"ImageStreamTag\",\"name\":\"test:foo\"}},"
                       "{\"name\":\"latest\",\"from\":{\"kind\":\"ImageStreamTag\",\"name\":\"test:bar\"}}]}";
    json_t *old = is_obj("test", spec);
#define EV(img) "{\"created\":\"2015-03-24T09:38:00Z\",\"dockerImageReference\":\"r/x@" img "\",\"image\":\"" img "\"}"
    json_object_set_new(old, "status", J("{\"tags\":[{\"tag\":\"another\",\"items\":[" EV("sha256:" HEXA) "]},{\"tag\":"
                                         "\"bar\",\"items\":[" EV("sha256:" HEXB) "]},{\"tag\":\"foo\",\"items\":["
                                         EV("sha256:" HEXF) "]},{\"tag\":\"latest\",\"items\":[" EV("sha256:" HEXB) "]}]}"));
    json_object_set_new(json_object_get(old, "metadata"), "generation", json_integer(2));
    imagestream_normalize(&ctx, old);
    json_t *o = json_deep_copy(old);
    assert_true(tw_remove_spec_tag(o, "latest"));
    assert_true(tw_remove_status_tag(o, "latest"));
    assert_false(tw_remove_spec_tag(o, "latest"));
    imagestream_normalize(&ctx, o);
    imagestream_prepare_internal(&ctx, o, old);
    ferrs_t errs = FERRS_INIT;
    imagestream_validate(&ctx, o, old, &errs);
    assert_int_equal(errs.n, 0);
    ferrs_free(&errs);
    assert_int_equal(ij_int(json_object_get(o, "metadata"), "generation"), 3);
    json_t *tags = json_object_get(json_object_get(o, "spec"), "tags");
    assert_int_equal(json_array_size(tags), 1);
    json_t *another = json_array_get(tags, 0);
    assert_string_equal(ij_str(another, "name"), "another");
    assert_int_equal(ij_int(another, "generation"), 3);
    assert_string_equal(ij_str(json_object_get(another, "referencePolicy"), "type"), "Source");
    assert_string_equal(ij_str(json_object_get(another, "importPolicy"), "importMode"), "Legacy");
    json_t *st = json_object_get(json_object_get(o, "status"), "tags");
    assert_int_equal(json_array_size(st), 3);
    for (size_t i = 0; i < 3; i++) {
        const char *tag = ij_str(json_array_get(st, i), "tag");
        assert_true(json_equal(json_array_get(st, i), is_status_tag(old, tag)));
    }
    json_decref(o);
    json_decref(old);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_itag_cells),   cmocka_unit_test(test_istag_cells),
        cmocka_unit_test(test_istag_view),   cmocka_unit_test(test_itag_view),
        cmocka_unit_test(test_expand),       cmocka_unit_test(test_validate_ref),
        cmocka_unit_test(test_prepare_internal), cmocka_unit_test(test_delete_generations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
