/* importer/challenge.c: WWW-Authenticate parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "importer/importer.h"
#include "util/util.h"

static void test_bearer(void **state)
{
    reg_challenge_t c[REG_MAX_CHALLENGES];
    int n = reg_challenges_parse(
        "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/nginx:pull\"",
        c, REG_MAX_CHALLENGES);
    assert_int_equal(n, 1);
    assert_int_equal(c[0].scheme, REG_AUTH_BEARER);
    assert_string_equal(c[0].realm, "https://auth.docker.io/token");
    assert_string_equal(c[0].service, "registry.docker.io");
    assert_string_equal(c[0].scope, "repository:library/nginx:pull");
    reg_challenges_free(c, n);
}

/* scheme and parameter names are case-insensitive; values need no quotes (even a URL); spaces around "=" */
static void test_case_and_tokens(void **state)
{
    reg_challenge_t c[4];
    int n = reg_challenges_parse("bEaReR  REALM = https://h/t , Service=reg", c, 4);
    assert_int_equal(n, 1);
    assert_int_equal(c[0].scheme, REG_AUTH_BEARER);
    assert_string_equal(c[0].realm, "https://h/t");
    assert_string_equal(c[0].service, "reg");
    assert_string_equal(c[0].scope, "");
    reg_challenges_free(c, n);
}

static void test_basic_and_several(void **state)
{
    reg_challenge_t c[4];
    int n = reg_challenges_parse("Basic realm=\"Registry Realm\", Bearer realm=\"https://a/t\",service=s, Negotiate abc==, Foo",
                                 c, 4);
    assert_int_equal(n, 4);
    assert_int_equal(c[0].scheme, REG_AUTH_BASIC);
    assert_string_equal(c[0].realm, "Registry Realm");
    assert_int_equal(c[1].scheme, REG_AUTH_BEARER);
    assert_string_equal(c[1].realm, "https://a/t");
    assert_string_equal(c[1].service, "s");
    assert_int_equal(c[2].scheme, REG_AUTH_OTHER);
    assert_string_equal(c[2].scheme_name, "Negotiate");
    assert_int_equal(c[3].scheme, REG_AUTH_OTHER);
    /* Bearer is preferred over Basic */
    assert_ptr_equal(reg_challenge_pick(c, (size_t)n), &c[1]);
    assert_ptr_equal(reg_challenge_pick(c, 1), &c[0]);
    reg_challenges_free(c, n);
    n = reg_challenges_parse("Basic", c, 4);
    assert_int_equal(n, 1);
    assert_int_equal(c[0].scheme, REG_AUTH_BASIC);
    reg_challenges_free(c, n);
}

/* quoted-pair escapes; commas and "=" inside quotes do not split */
static void test_quoting(void **state)
{
    reg_challenge_t c[2];
    int n = reg_challenges_parse("Bearer realm=\"a\\\"b,c=d\",scope=\"repository:x/y:pull,push\"", c, 2);
    assert_int_equal(n, 1);
    assert_string_equal(c[0].realm, "a\"b,c=d");
    assert_string_equal(c[0].scope, "repository:x/y:pull,push");
    reg_challenges_free(c, n);
}

/* more challenges than slots: the rest are dropped, not an error */
static void test_max(void **state)
{
    reg_challenge_t c[1];
    int n = reg_challenges_parse("Basic, Bearer realm=x", c, 1);
    assert_int_equal(n, 1);
    assert_int_equal(c[0].scheme, REG_AUTH_BASIC);
    reg_challenges_free(c, n);
    assert_null(reg_challenge_pick(c, 0));
}

static void test_malformed(void **state)
{
    reg_challenge_t c[4];
    const char *bad[] = {"Bearer realm=\"unterminated", "Bearer realm=\"x\" junk", "=x", "Bearer realm=\"a\x01\"",
                         "Bea(rer realm=x", "Bearer realm=x\"y\""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(reg_challenges_parse(bad[i], c, 4), -1);
    assert_int_equal(reg_challenges_parse(NULL, c, 4), -1);
    char *big = xmalloc(REG_MAX_CHALLENGE_HEADER + 2);
    memset(big, 'a', REG_MAX_CHALLENGE_HEADER + 1);
    big[REG_MAX_CHALLENGE_HEADER + 1] = 0;
    assert_int_equal(reg_challenges_parse(big, c, 4), -1);
    free(big);
    assert_int_equal(reg_challenges_parse("", c, 4), 0);
    assert_int_equal(reg_challenges_parse(" , ", c, 4), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bearer),   cmocka_unit_test(test_case_and_tokens), cmocka_unit_test(test_basic_and_several),
        cmocka_unit_test(test_quoting),  cmocka_unit_test(test_max),             cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
