/* Unit tests for util/: buffers, url decoding, booleans, base64url, field errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "util/apierr.h"
#include "util/util.h"

static void test_buf(void **state)
{
    buf_t b;
    buf_init(&b);
    buf_printf(&b, "%d-%s", 42, "x");
    buf_json_str(&b, "a\"b\n", 4);
    assert_string_equal(b.data, "42-x\"a\\\"b\\n\"");
    buf_free(&b);
}

/* A buffer with a maximum: appends up to it succeed, the one past it writes nothing, fails
 * and sets overflow, which sticks (even a byte that would fit is refused) until a reset. */
static void test_buf_max(void **state)
{
    buf_t b;
    buf_init_max(&b, 10);
    assert_int_equal(buf_append(&b, "0123456", 7), 0);
    assert_int_equal(buf_puts(&b, "789"), 0);          /* exactly at the maximum */
    assert_int_equal(b.len, 10);
    assert_false(b.overflow);
    assert_int_equal(buf_putc(&b, 'x'), -1);
    assert_true(b.overflow);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "0123456789");
    assert_true(b.cap <= 11);                           /* never allocated past the maximum */
    buf_reset(&b);
    assert_false(b.overflow);
    assert_int_equal(buf_append(&b, "abc", 3), 0);
    assert_int_equal(buf_append(&b, "0123456789", 10), -1);   /* past it: nothing written */
    assert_string_equal(b.data, "abc");
    assert_int_equal(buf_putc(&b, 'd'), -1);            /* sticky */
    assert_int_equal(buf_printf(&b, "%d", 1), -1);
    assert_string_equal(b.data, "abc");
    buf_reset(&b);
    assert_int_equal(buf_printf(&b, "%s", "01234567890"), -1);
    assert_int_equal(b.len, 0);
    buf_reset(&b);
    /* a JSON string literal is written whole or not at all */
    assert_int_equal(buf_puts(&b, "ab"), 0);
    assert_int_equal(buf_json_str(&b, "x\ny\nz", 5), -1);   /* 2 + 9 escaped bytes > 10 */
    assert_string_equal(b.data, "ab");
    assert_true(b.overflow);
    buf_reset(&b);
    assert_int_equal(buf_json_str(&b, "x\n", 2), 0);
    assert_string_equal(b.data, "\"x\\n\"");
    /* SIZE_MAX-sized appends do not wrap the check */
    assert_int_equal(buf_reserve(&b, (size_t)-1), -1);
    /* free and steal keep the maximum */
    buf_free(&b);
    assert_int_equal(b.max, 10);
    assert_false(b.overflow);
    assert_int_equal(buf_puts(&b, "0123456789A"), -1);
    buf_reset(&b);
    assert_int_equal(buf_puts(&b, "hi"), 0);
    char *d = buf_steal(&b);
    assert_string_equal(d, "hi");
    free(d);
    assert_int_equal(b.max, 10);
    assert_int_equal(buf_puts(&b, "0123456789A"), -1);
    buf_free(&b);
    /* no maximum: never fails */
    buf_init(&b);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(buf_puts(&b, "0123456789"), 0);
    assert_int_equal(b.len, 10000);
    assert_false(b.overflow);
    buf_free(&b);
    (void)state;
}

static void test_url_decode(void **state)
{
    char *s = url_decode("app+in+%28x%2Cy%29%2C%21foo", 27, true);
    assert_string_equal(s, "app in (x,y),!foo");
    free(s);
    assert_null(url_decode("%zz", 3, false));
    assert_null(url_decode("%2", 2, false));
    assert_null(url_decode("foo%00bar", 9, false));   /* would end the C string early */
}

static void test_parse_bool(void **state)
{
    assert_int_equal(parse_bool("True"), 1);
    assert_int_equal(parse_bool("0"), 0);
    assert_int_equal(parse_bool("yes"), -1);
}

static void test_base64url(void **state)
{
    const char *in = "{\"rv\":12,\"start\":\"a/b\\u0000\"}";
    char *enc = base64url_encode(in, strlen(in));
    assert_null(strchr(enc, '='));
    size_t n;
    char *dec = base64url_decode(enc, &n);
    assert_non_null(dec);
    assert_int_equal(n, strlen(in));
    assert_memory_equal(dec, in, n);
    free(enc);
    free(dec);
    assert_null(base64url_decode("a*b", &n));
}

static void test_invalid_message(void **state)
{
    ferrs_t l = FERRS_INIT;
    apierr_t err = APIERR_INIT;
    ferrs_add(&l, FERR_REQUIRED, "spec.tags[0].name", NULL, NULL);
    ferrs_add(&l, FERR_INVALID, "metadata.name", json_string("Foo_Bad"), "must match \"x\"");
    apierr_invalid(&err, "ImageStream.image.openshift.io", "ImageStream", "image.openshift.io", "foo", &l);
    assert_int_equal(apierr_http_code(err.kind), 422);
    assert_string_equal(err.message,
        "ImageStream.image.openshift.io \"foo\" is invalid: [spec.tags[0].name: Required value, "
        "metadata.name: Invalid value: \"Foo_Bad\": must match \"x\"]");
    json_t *causes = json_object_get(err.details, "causes");
    assert_int_equal(json_array_size(causes), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(causes, 0), "reason")), "FieldValueRequired");
    ferrs_free(&l);
    apierr_clear(&err);
}

/* The one Status builder: transport (413/429/503) and api errors all come from here. */
static void test_status_json(void **state)
{
    apierr_t err = APIERR_INIT;
    size_t len = 0;
    char *body = apierr_status_body(&err, &len); /* unset: an internal error, never an empty answer */
    assert_string_equal(body, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                              "\"message\":\"\",\"reason\":\"InternalError\",\"code\":500}");
    assert_int_equal(len, strlen(body));
    free(body);

    apierr_set(&err, APIERR_TOO_LARGE, "Request entity too large: limit is %d", 3145728);
    body = apierr_status_body(&err, &len);
    assert_string_equal(body, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                              "\"message\":\"Request entity too large: limit is 3145728\","
                              "\"reason\":\"RequestEntityTooLarge\",\"code\":413}");
    free(body);
    apierr_clear(&err);

    /* details are copied; retryAfterSeconds is added to them (or to a new object) */
    apierr_not_found(&err, "imagestreams", "image.openshift.io", "foo");
    err.retry_after = 3;
    json_t *s = apierr_status_json(&err);
    assert_string_equal(json_string_value(json_object_get(s, "reason")), "NotFound");
    assert_int_equal(json_integer_value(json_object_get(s, "code")), 404);
    assert_string_equal(json_string_value(json_object_get(s, "message")),
                        "imagestreams.image.openshift.io \"foo\" not found");
    json_t *d = json_object_get(s, "details");
    assert_string_equal(json_string_value(json_object_get(d, "name")), "foo");
    assert_string_equal(json_string_value(json_object_get(d, "kind")), "imagestreams");
    assert_int_equal(json_integer_value(json_object_get(d, "retryAfterSeconds")), 3);
    assert_null(json_object_get(err.details, "retryAfterSeconds")); /* err itself is untouched */
    json_decref(s);
    apierr_clear(&err);

    apierr_set(&err, APIERR_TOO_MANY_REQUESTS, "too many requests");
    err.retry_after = 1;
    s = apierr_status_json(&err);
    assert_int_equal(json_integer_value(json_object_get(s, "code")), 429);
    assert_string_equal(json_string_value(json_object_get(s, "reason")), "TooManyRequests");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(s, "details"), "retryAfterSeconds")), 1);
    json_decref(s);
    apierr_clear(&err);

    apierr_set(&err, APIERR_UNAVAILABLE, "down");
    s = apierr_status_json(&err);
    assert_int_equal(json_integer_value(json_object_get(s, "code")), 503);
    assert_string_equal(json_string_value(json_object_get(s, "reason")), "ServiceUnavailable");
    assert_null(json_object_get(s, "details"));
    json_decref(s);
    apierr_clear(&err);

    /* invalid UTF-8 (a lone byte, a truncated sequence, an overlong, a surrogate) -> U+FFFD each;
     * valid multi-byte characters are kept */
    apierr_set(&err, APIERR_NOT_FOUND, "a\xff b\xc3 c\xc0\xaf d\xed\xa0\x80 \xc3\xa9\xe2\x82\xac");
    s = apierr_status_json(&err);
    assert_string_equal(json_string_value(json_object_get(s, "message")),
                        "a\xEF\xBF\xBD b\xEF\xBF\xBD c\xEF\xBF\xBD\xEF\xBF\xBD d\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD "
                        "\xc3\xa9\xe2\x82\xac");
    json_decref(s);
    body = apierr_status_body(&err, &len);
    assert_non_null(strstr(body, "a\xEF\xBF\xBD b"));
    free(body);
    apierr_clear(&err);
}

static void test_time(void **state)
{
    time_t t;
    assert_int_equal(time_parse_rfc3339("2020-01-02T03:04:05.123456789Z", &t), 0);
    char out[21];
    time_rfc3339(t, out);
    assert_string_equal(out, "2020-01-02T03:04:05Z");
    char d[32];
    time_human_duration(7200, d, sizeof d);
    assert_string_equal(d, "2 hours");
    time_human_duration(3 * 86400, d, sizeof d);
    assert_string_equal(d, "3 days");
    /* Go durations (the scheduled import interval flag) */
    assert_int_equal(time_parse_duration_ms("15m"), 900000);
    assert_int_equal(time_parse_duration_ms("1h30m"), 5400000);
    assert_int_equal(time_parse_duration_ms("500ms"), 500);
    assert_int_equal(time_parse_duration_ms("1.5s"), 1500);
    assert_int_equal(time_parse_duration_ms("0"), 0);
    assert_int_equal(time_parse_duration_ms("0s"), 0);
    assert_int_equal(time_parse_duration_ms("15"), -1);
    assert_int_equal(time_parse_duration_ms("-1m"), -1);
    assert_int_equal(time_parse_duration_ms("5x"), -1);
    assert_int_equal(time_parse_duration_ms(""), -1);
    assert_int_equal(time_parse_duration_ms("99999999999h"), -1);
    /* deadlines: normalised nanoseconds, the right distance from now */
    for (int64_t ms = 0; ms < 3000; ms += 999) {
        int64_t before = time_now_ms();
        struct timespec ts = time_deadline(ms);
        int64_t at = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        assert_true(ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000L);
        assert_true(at >= before + ms && at <= time_now_ms() + ms);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf),           cmocka_unit_test(test_buf_max),
        cmocka_unit_test(test_url_decode),
        cmocka_unit_test(test_parse_bool),    cmocka_unit_test(test_base64url),
        cmocka_unit_test(test_invalid_message), cmocka_unit_test(test_time),
        cmocka_unit_test(test_status_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
