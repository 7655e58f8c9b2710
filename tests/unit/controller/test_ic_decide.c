/* The import controller's decisions: virtual-resources-and-import.md cases 61-67. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "controller/ic_decide.h"

static json_t *J(const char *s)
{
    json_error_t e;
    json_t *v = json_loads(s, 0, &e);
    assert_non_null(v);
    return v;
}

#define META "\"metadata\":{\"name\":\"test\",\"namespace\":\"ns\",\"resourceVersion\":\"7\",\"uid\":\"u1\"%s}"
#define CHECKED ",\"annotations\":{\"openshift.io/image.dockerRepositoryCheck\":\"2024-05-01T10:00:00Z\"}"

static json_t *stream(const char *ann, const char *spec, const char *status)
{
    char meta[512], buf[4096];
    snprintf(meta, sizeof meta, META, ann);
    snprintf(buf, sizeof buf, "{%s,\"spec\":%s,\"status\":%s}", meta, spec, status);
    return J(buf);
}

static void test_case61_no_tags(void **state)
{
    (void)state;
    json_t *s = stream(CHECKED, "{}", "{}");
    assert_null(ic_build_request(s));
    json_decref(s);
    s = stream(CHECKED, "{\"dockerImageRepository\":\"a/b\"}", "{}");
    assert_null(ic_build_request(s));
    json_decref(s);
}

static void test_case62_not_importable(void **state)
{
    (void)state;
    json_t *s = stream("", "{\"tags\":[{\"name\":\"a\",\"reference\":true,\"from\":{\"kind\":\"DockerImage\",\"name\":\"x/y\"}},"
                           "{\"name\":\"b\",\"from\":{\"kind\":\"ImageStreamTag\",\"name\":\"test:a\"}}]}",
                       "{}");
    assert_null(ic_build_request(s));
    json_decref(s);
}

static void test_case63_first_import(void **state)
{
    (void)state;
    json_t *s = stream("", "{\"tags\":[{\"name\":\"latest\",\"from\":{\"kind\":\"DockerImage\",\"name\":\"test/other:latest\"},"
                           "\"importPolicy\":{\"importMode\":\"Legacy\"},\"referencePolicy\":{\"type\":\"Source\"}}]}",
                       "{}");
    json_t *r = ic_build_request(s);
    assert_non_null(r);
    json_t *spec = json_object_get(r, "spec");
    assert_true(json_is_true(json_object_get(spec, "import")));
    json_t *img = json_array_get(json_object_get(spec, "images"), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(img, "from"), "name")), "test/other:latest");
    assert_string_equal(json_string_value(json_object_get(json_object_get(img, "to"), "name")), "latest");
    json_t *m = json_object_get(r, "metadata");
    assert_string_equal(json_string_value(json_object_get(m, "resourceVersion")), "7");
    assert_string_equal(json_string_value(json_object_get(m, "uid")), "u1");
    json_decref(r);
    json_decref(s);
}

static void test_case64_only_newer_tags(void **state)
{
    (void)state;
    json_t *s = stream(CHECKED,
                       "{\"tags\":[{\"name\":\"v1\",\"generation\":1,\"from\":{\"kind\":\"DockerImage\",\"name\":\"a/b:v1\"}},"
                       "{\"name\":\"latest\",\"generation\":2,\"from\":{\"kind\":\"DockerImage\",\"name\":\"a/b:latest\"}}]}",
                       "{\"tags\":[{\"tag\":\"v1\",\"items\":[{\"generation\":1,\"image\":\"sha256:1\"}]},"
                       "{\"tag\":\"latest\",\"items\":[{\"generation\":1,\"image\":\"sha256:1\"}]}]}");
    json_t *r = ic_build_request(s);
    json_t *imgs = json_object_get(json_object_get(r, "spec"), "images");
    assert_int_equal(json_array_size(imgs), 1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(imgs, 0), "to"), "name")),
                        "latest");
    json_decref(r);
    json_decref(s);
}

static void test_case65_66_conditions_and_items(void **state)
{
    (void)state;
    const char *spec = "{\"tags\":[{\"name\":\"t\",\"generation\":2,\"from\":{\"kind\":\"DockerImage\",\"name\":\"a/b:t\"}}]}";
    json_t *s = stream(CHECKED, spec,
                       "{\"tags\":[{\"tag\":\"t\",\"conditions\":[{\"type\":\"ImportSuccess\",\"status\":\"False\",\"generation\":2}]}]}");
    assert_null(ic_build_request(s));
    json_t *failed = ic_failed_tags(s);
    assert_int_equal(json_array_size(failed), 1);
    /* a retry forces the failed tag */
    const char *names[] = {"t"};
    json_t *copy = json_deep_copy(s);
    json_object_set_new(json_object_get(copy, "metadata"), "generation", json_integer(2));
    assert_int_equal(ic_force_tags(copy, names, 1), 1);
    json_t *r = ic_build_request(copy);
    assert_non_null(r);
    json_decref(r);
    json_decref(copy);
    json_decref(failed);
    json_decref(s);
    s = stream(CHECKED, spec,
               "{\"tags\":[{\"tag\":\"t\",\"conditions\":[{\"type\":\"ImportSuccess\",\"status\":\"False\",\"generation\":1}]}]}");
    r = ic_build_request(s);
    assert_non_null(r);
    json_decref(r);
    json_decref(s);
    s = stream(CHECKED, spec, "{\"tags\":[{\"tag\":\"t\",\"items\":[{\"generation\":2,\"image\":\"sha256:1\"}]}]}");
    assert_null(ic_build_request(s));
    json_decref(s);
}

static void test_case67_scheduled(void **state)
{
    (void)state;
    json_t *s = stream(CHECKED,
                       "{\"tags\":[{\"name\":\"d\",\"generation\":2,\"importPolicy\":{\"scheduled\":true},"
                       "\"from\":{\"kind\":\"DockerImage\",\"name\":\"mysql@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}},"
                       "{\"name\":\"m\",\"generation\":2,\"importPolicy\":{\"scheduled\":true},\"from\":{\"kind\":\"DockerImage\",\"name\":\"mysql:latest\"}},"
                       "{\"name\":\"u\",\"generation\":2,\"from\":{\"kind\":\"DockerImage\",\"name\":\"mysql:5\"}}]}",
                       "{\"tags\":[{\"tag\":\"d\",\"items\":[{\"generation\":2,\"image\":\"sha256:1\"}]},"
                       "{\"tag\":\"m\",\"items\":[{\"generation\":2,\"image\":\"sha256:1\"}]}]}");
    json_t *t = ic_scheduled_tags(s);
    assert_int_equal(json_array_size(t), 1);
    assert_string_equal(json_string_value(json_array_get(t, 0)), "m");
    json_decref(t);
    json_decref(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_case61_no_tags),      cmocka_unit_test(test_case62_not_importable),
        cmocka_unit_test(test_case63_first_import), cmocka_unit_test(test_case64_only_newer_tags),
        cmocka_unit_test(test_case65_66_conditions_and_items), cmocka_unit_test(test_case67_scheduled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
