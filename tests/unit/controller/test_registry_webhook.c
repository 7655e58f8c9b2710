/* registry_webhook_dispatch: which events of a registry notification envelope become
 * pushes, and the 400s of bodies that are no envelope. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/ic_decide.h"
#include "controller/registry_webhook.h"

static char seen[8][256];
static int nseen;

static size_t record(void *ctx, const char *host, const char *repo, const char *tag)
{
    (void)ctx;
    if (nseen < 8)
        snprintf(seen[nseen++], sizeof seen[0], "%s %s %s", host, repo, tag);
    return 2;
}

static int run(const char *body, size_t *streams, apierr_t *e)
{
    nseen = 0;
    return registry_webhook_dispatch(body, strlen(body), record, NULL, streams, e);
}

#define EV(action, mt, tag, host)                                                                              \
    "{\"action\":\"" action "\",\"target\":{\"mediaType\":\"" mt "\",\"repository\":\"team/app\","          \
    "\"digest\":\"sha256:aa\",\"tag\":\"" tag "\",\"url\":\"http://h/v2/team/app/manifests/x\"},"             \
    "\"request\":{\"host\":\"" host "\"}}"

static void test_pushes_of_manifests(void **state)
{
    (void)state;
    apierr_t e = APIERR_INIT;
    size_t n;
    const char *body = "{\"events\":[" EV("push", "application/vnd.oci.image.manifest.v1+json", "v1", "127.0.0.1:5000") ","
                       EV("pull", "application/vnd.oci.image.manifest.v1+json", "v1", "127.0.0.1:5000") ","
                       EV("push", "application/octet-stream", "", "127.0.0.1:5000") ","
                       EV("push", "application/vnd.oci.image.index.v1+json", "", "reg.example:443") ","
                       EV("push", "application/vnd.docker.distribution.manifest.v2+json", "v2", "") "]}";
    assert_int_equal(run(body, &n, &e), 0);
    assert_int_equal(nseen, 2);
    assert_string_equal(seen[0], "127.0.0.1:5000 team/app v1");
    assert_string_equal(seen[1], "reg.example:443 team/app ");
    assert_int_equal(n, 4);
    assert_int_equal(run("{\"events\":[]}", &n, &e), 0);
    assert_int_equal(n, 0);
}

static void test_bad_bodies(void **state)
{
    (void)state;
    const char *bad[] = {"", "not json", "[]", "{}", "{\"events\":{}}", "{\"events\":[1]}", "{\"events\":[{}, \"x\"]}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        apierr_t e = APIERR_INIT;
        size_t n = 9;
        assert_int_equal(run(bad[i], &n, &e), -1);
        assert_int_equal(e.kind, APIERR_BAD_REQUEST);
        assert_non_null(e.message);
        assert_int_equal(nseen, 0);
        apierr_clear(&e);
    }
}

/* the keys pushes and streams meet on: Docker Hub naming, default tag, repository keys */
static void test_ref_keys(void **state)
{
    (void)state;
    char *k = ic_ref_key("busybox", false);
    char *p = ic_ref_key_parts("docker.io", "library/busybox", "latest");
    assert_non_null(k);
    assert_non_null(p);
    assert_string_equal(k, p);
    free(k);
    free(p);
    k = ic_ref_key("127.0.0.1:5000/team/app:v1", false);
    p = ic_ref_key_parts("127.0.0.1:5000", "team/app", "v1");
    assert_string_equal(k, p);
    free(k);
    free(p);
    k = ic_ref_key("127.0.0.1:5000/team/app@sha256:0000000000000000000000000000000000000000000000000000000000000000", true);
    p = ic_ref_key_parts("127.0.0.1:5000", "team/app", "");
    assert_string_equal(k, p);
    free(k);
    free(p);
    assert_null(ic_ref_key("127.0.0.1:5000/team/app@sha256:0000000000000000000000000000000000000000000000000000000000000000", false));
    assert_null(ic_ref_key("Bad Ref", false));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pushes_of_manifests),
        cmocka_unit_test(test_bad_bodies),
        cmocka_unit_test(test_ref_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
