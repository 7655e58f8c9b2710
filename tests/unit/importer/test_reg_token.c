/* importer/token.c: token responses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "importer/importer.h"
#include "util/util.h"

#define NOW ((time_t)1767225600) /* 2026-01-01T00:00:00Z */

static void test_token_fields(void **state)
{
    reg_token_t t;
    const char *err = NULL;
    const char *b = "{\"token\":\"abc.def\",\"access_token\":\"other\",\"expires_in\":300,\"issued_at\":\"2026-01-01T00:00:10Z\"}";
    assert_int_equal(reg_token_parse(b, strlen(b), NOW, &t, &err), 0);
    assert_string_equal(t.token, "abc.def");
    assert_int_equal(t.expires_in, 300);
    assert_int_equal(t.issued_at, NOW + 10);
    assert_true(reg_token_expiry(&t) < NOW + 310);
    assert_true(reg_token_expiry(&t) > NOW + 200);
    reg_token_free(&t);
}

/* access_token alone; expires_in absent or short -> 60; implausible issued_at -> now */
static void test_token_defaults(void **state)
{
    reg_token_t t;
    const char *err = NULL;
    const char *b = "{\"access_token\":\"xyz\",\"issued_at\":\"1999-01-01T00:00:00Z\"}";
    assert_int_equal(reg_token_parse(b, strlen(b), NOW, &t, &err), 0);
    assert_string_equal(t.token, "xyz");
    assert_int_equal(t.expires_in, 60);
    assert_int_equal(t.issued_at, NOW);
    reg_token_free(&t);
    b = "{\"token\":\"\",\"access_token\":\"a\",\"expires_in\":5}";
    assert_int_equal(reg_token_parse(b, strlen(b), NOW, &t, &err), 0);
    assert_string_equal(t.token, "a");
    assert_int_equal(t.expires_in, 60);
    reg_token_free(&t);
    b = "{\"token\":\"a\",\"expires_in\":1e300}";
    assert_int_equal(reg_token_parse(b, strlen(b), NOW, &t, &err), 0);
    assert_int_equal(t.expires_in, 86400);
    reg_token_free(&t);
}

static void test_token_bad(void **state)
{
    reg_token_t t;
    const char *err = NULL;
    const char *bad[] = {"", "[]", "{}", "{\"token\":7}", "{\"token\":\"a b\"}", "{\"token\":\"a\\r\\nX-Evil: 1\"}",
                         "{\"token\":\"a\",\"token\":\"b\"}", "{\"token\":\"a\""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err = NULL;
        assert_int_equal(reg_token_parse(bad[i], strlen(bad[i]), NOW, &t, &err), -1);
        assert_non_null(err);
        assert_null(t.token);
    }
    size_t n = REG_MAX_TOKEN + 1;
    char *big = xmalloc(n);
    memset(big, ' ', n);
    memcpy(big, "{\"token\":\"a\"}", 13);
    assert_int_equal(reg_token_parse(big, n, NOW, &t, &err), -1);
    assert_string_equal(err, "token response too large");
    assert_int_equal(reg_token_parse(big, REG_MAX_TOKEN, NOW, &t, &err), 0);
    reg_token_free(&t);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_fields),
        cmocka_unit_test(test_token_defaults),
        cmocka_unit_test(test_token_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
