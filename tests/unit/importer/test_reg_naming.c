/* importer/digest_naming.c with image/'s reference parser: Docker Hub naming and digests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "importer/importer.h"
#include "util/util.h"

#include "image/image.h"

static char *path_of(const char *ref, const char **host)
{
    docker_ref_t r;
    const char *msg = NULL;
    assert_int_equal(docker_ref_parse(ref, &r, &msg), 0);
    *host = reg_api_host(r.registry) == r.registry ? "(same)" : reg_api_host(r.registry);
    char *p = reg_repo_path(r.registry, r.namespace, r.name);
    docker_ref_free(&r);
    return p;
}

static void test_naming(void **state)
{
    const char *host;
    struct { const char *ref, *host, *path; } cases[] = {
        {"nginx", "registry-1.docker.io", "library/nginx"},
        {"nginx:1.25", "registry-1.docker.io", "library/nginx"},
        {"docker.io/nginx", "registry-1.docker.io", "library/nginx"},
        {"docker.io/library/nginx", "registry-1.docker.io", "library/nginx"},
        {"index.docker.io/bitnami/redis", "registry-1.docker.io", "bitnami/redis"},
        {"user/app", "registry-1.docker.io", "user/app"},
        {"quay.io/a/b/c@sha256:" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "(same)", "a/b/c"},
        {"localhost:5000/app", "(same)", "app"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *p = path_of(cases[i].ref, &host);
        assert_string_equal(host, cases[i].host);
        assert_string_equal(p, cases[i].path);
        free(p);
    }
    assert_true(reg_is_docker_hub(""));
    assert_false(reg_is_docker_hub("docker.io.evil.com"));
}

static void test_digests(void **state)
{
    const char *err = NULL;
    /* sha256("abc") */
    const char *d = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    assert_true(reg_digest_valid(d));
    assert_true(reg_digest_verify(d, "abc", 3, &err));
    assert_false(reg_digest_verify(d, "abd", 3, &err));
    assert_string_equal(err, "digest mismatch");
    assert_false(reg_digest_verify("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", "abc", 3, &err));
    assert_string_equal(err, "invalid digest");
    char s512[7 + 129];
    memcpy(s512, "sha512:", 7);
    memset(s512 + 7, 'a', 128);
    s512[135] = 0;
    assert_true(reg_digest_valid(s512));
    assert_false(reg_digest_verify(s512, "abc", 3, &err));
    assert_string_equal(err, "unsupported digest algorithm");
    assert_false(reg_digest_valid("sha256:abc"));
    assert_false(reg_digest_valid("md5:ba7816bf8f01cfea414140de5dae2223"));
    assert_false(reg_digest_valid(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_naming), cmocka_unit_test(test_digests)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
