/* Derived views of cached objects (object_views.c): api_obj_view, api_obj_views over sorted
 * names, api_obj_get_many, the view epoch (created, changed, deleted objects with a view
 * move it; objects without one do not), and the deflated stored form of large objects
 * (stored_value.c) read back through every path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_fixture.h"
#include "api/api_internal.h"

static int setup(void **state)
{
    fx_t *f = fx_up(false);
    az_reset(&f->az, AZ_ALLOW, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_down(*state);
    return 0;
}

static const api_kind_t *gadgets(fx_t *f) { return api_kind_find(f->api, "gadgets"); }

static json_t *gadget(const char *name, const char *view)
{
    json_t *g = json_pack("{s:{s:s}, s:s}", "metadata", "name", name, "dockerImageReference", "a/b");
    if (view)
        json_object_set_new(json_object_get(g, "metadata"), "annotations", json_pack("{s:s}", "view", view));
    return g;
}

static void put_gadget(fx_t *f, const char *name, const char *view)
{
    api_call_t *c = api_call_new(f->api, &api_user_anonymous, "test");
    json_t *g = gadget(name, view), *out = api_obj_create(c, gadgets(f), NULL, g);
    if (!out && api_call_err(c)->kind == APIERR_ALREADY_EXISTS) {
        apierr_clear(api_call_err(c));
        out = api_obj_update(c, gadgets(f), NULL, name, g, NULL);
    }
    if (!out)
        fail_msg("write %s: %s", name, api_call_err(c)->message);
    json_decref(out);
    json_decref(g);
    api_call_free(c);
}

static uint64_t epoch(fx_t *f)
{
    api_call_t *c = api_call_new(f->api, &api_user_anonymous, "test");
    uint64_t e = 0;
    assert_int_equal(api_views_epoch(c, gadgets(f), &e), 0);
    api_call_free(c);
    return e;
}

static void test_view_one(void **state)
{
    fx_t *f = *state;
    put_gadget(f, "g1", "first");
    put_gadget(f, "g2", NULL);
    api_call_t *c = api_call_new(f->api, &api_user_anonymous, "test");
    const void *v;
    api_view_hold_t *h;
    assert_int_equal(api_obj_view(c, gadgets(f), NULL, "g1", &v, &h), 0);
    assert_string_equal(v, "first");
    put_gadget(f, "g1", "second");
    assert_string_equal(v, "first");   /* held: the view of the revision read */
    api_view_release(h);
    assert_int_equal(api_obj_view(c, gadgets(f), NULL, "g1", &v, &h), 0);
    assert_string_equal(v, "second");
    api_view_release(h);
    assert_int_equal(api_obj_view(c, gadgets(f), NULL, "g2", &v, &h), 0);
    assert_null(v);
    assert_non_null(h);
    api_view_release(h);
    assert_int_equal(api_obj_view(c, gadgets(f), NULL, "nope", &v, &h), -1);
    assert_int_equal(api_call_err(c)->kind, APIERR_NOT_FOUND);
    assert_null(h);
    apierr_clear(api_call_err(c));
    /* a virtual kind has no views */
    assert_int_equal(api_obj_view(c, api_kind_find(f->api, "widgettags"), "ns", "a:b", &v, &h), -1);
    assert_int_equal(api_call_err(c)->kind, APIERR_INTERNAL);
    api_call_free(c);
}

typedef struct seen {
    char got[8][16];
    size_t n;
} seen_t;

static void record(void *arg, size_t i, const void *view)
{
    seen_t *s = arg;
    assert_int_equal(i, s->n);
    snprintf(s->got[s->n++], sizeof s->got[0], "%s", view ? (const char *)view : "-");
}

static int record_obj(void *arg, size_t i, const json_t *obj)
{
    seen_t *s = arg;
    assert_int_equal(i, s->n);
    const char *n = obj ? json_string_value(json_object_get(json_object_get(obj, "metadata"), "name")) : "-";
    snprintf(s->got[s->n++], sizeof s->got[0], "%s", n);
    return 0;
}

static void test_views_and_get_many(void **state)
{
    fx_t *f = *state;
    put_gadget(f, "a", "va");
    put_gadget(f, "c", NULL);
    put_gadget(f, "d", "vd");
    api_call_t *c = api_call_new(f->api, &api_user_anonymous, "test");
    const char *names[] = {"a", "b", "c", "d", "e"};
    seen_t s = {0};
    assert_int_equal(api_obj_views(c, gadgets(f), NULL, names, 5, record, &s), 0);
    const char *want[] = {"va", "-", "-", "vd", "-"};
    for (int i = 0; i < 5; i++)
        assert_string_equal(s.got[i], want[i]);
    memset(&s, 0, sizeof s);
    assert_int_equal(api_obj_get_many(c, gadgets(f), NULL, names, 5, record_obj, &s), 0);
    const char *objs[] = {"a", "-", "c", "d", "-"};
    for (int i = 0; i < 5; i++)
        assert_string_equal(s.got[i], objs[i]);
    api_call_free(c);
}

static void test_epoch(void **state)
{
    fx_t *f = *state;
    uint64_t e0 = epoch(f);
    put_gadget(f, "plain", NULL);
    put_gadget(f, "plain", NULL);
    assert_true(epoch(f) == e0);   /* objects without a view: no change */
    put_gadget(f, "list", "x");
    uint64_t e1 = epoch(f);
    assert_true(e1 > e0);
    put_gadget(f, "list", "y");
    uint64_t e2 = epoch(f);
    assert_true(e2 > e1);
    put_gadget(f, "list", NULL);   /* the view goes away: a change too */
    uint64_t e3 = epoch(f);
    assert_true(e3 > e2);
    put_gadget(f, "list", "z");
    uint64_t e4 = epoch(f);
    api_call_t *c = api_call_new(f->api, &api_user_anonymous, "test");
    bool pending;
    json_t *d = api_obj_delete(c, gadgets(f), NULL, "list", NULL, NULL, &pending);
    assert_non_null(d);
    json_decref(d);
    api_call_free(c);
    assert_true(epoch(f) > e4);
}

static void test_large_value_deflated(void **state)
{
    fx_t *f = *state;
    /* ~200 KB of repetitive JSON (annotations may total 256 KiB): stored deflated, read back
     * whole on every path */
    size_t n = 200 * 1024;
    char *big = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        big[i] = "abcdefgh"[i % 8];
    big[n] = '\0';
    put_gadget(f, "big", big);
    store_kv_t kv;
    assert_int_equal(store_get(f->store, "/image.openshift.io/gadgets/big", &kv), STORE_OK);
    assert_true(kv.value_len < n / 10);
    assert_memory_equal(kv.value, "\0IZ1", 4);
    store_kv_free(&kv);
    api_call_t *c = api_call_new(f->api, &api_user_anonymous, "test");
    json_t *got = api_obj_get(c, gadgets(f), NULL, "big");   /* the cache's copy */
    assert_non_null(got);
    const char *v = json_string_value(
        json_object_get(json_object_get(json_object_get(got, "metadata"), "annotations"), "view"));
    assert_string_equal(v, big);
    const void *view;
    api_view_hold_t *h;
    assert_int_equal(api_obj_view(c, gadgets(f), NULL, "big", &view, &h), 0);
    assert_string_equal(view, big);
    api_view_release(h);
    /* an update reads the stored (deflated) value back */
    json_object_set_new(got, "dockerImageReference", json_string("c/d"));
    json_t *upd = api_obj_update(c, gadgets(f), NULL, "big", got, NULL);
    assert_non_null(upd);
    assert_string_equal(json_string_value(json_object_get(upd, "dockerImageReference")), "c/d");
    json_decref(upd);
    json_decref(got);
    /* small objects stay plain JSON */
    put_gadget(f, "small", "s");
    assert_int_equal(store_get(f->store, "/image.openshift.io/gadgets/small", &kv), STORE_OK);
    assert_int_equal(kv.value[0], '{');
    store_kv_free(&kv);
    api_call_free(c);
    free(big);
}

static void test_stored_value_decode_rejects(void **state)
{
    (void)state;
    /* the magic with a bad length, a truncated stream, plain JSON, not JSON */
    static const char bad_len[] = {'\0', 'I', 'Z', '1', 0x7f, 0x7f, 0x7f, 0x7f, 'x'};
    assert_null(stored_value_decode(bad_len, sizeof bad_len));
    static const char zero[] = {'\0', 'I', 'Z', '1', 0, 0, 0, 0};
    assert_null(stored_value_decode(zero, sizeof zero));
    static const char trunc[] = {'\0', 'I', 'Z', '1', 0, 0, 0, 10, 0x78, 0x01};
    assert_null(stored_value_decode(trunc, sizeof trunc));
    json_t *o = stored_value_decode("{\"a\":1}", 7);
    assert_non_null(o);
    json_decref(o);
    assert_null(stored_value_decode("nope", 4));
    /* a round trip of a value just over the threshold */
    size_t n = 70 * 1024;
    char *s = malloc(n + 16);
    int k = snprintf(s, n + 16, "{\"k\":\"");
    memset(s + k, 'q', n);
    strcpy(s + k + n, "\"}");
    size_t len = strlen(s), out_len;
    char *enc = stored_value_encode(s, len, &out_len);   /* takes s */
    assert_true(out_len < len);
    o = stored_value_decode(enc, out_len);
    assert_non_null(o);
    assert_int_equal(strlen(json_string_value(json_object_get(o, "k"))), n);
    json_decref(o);
    free(enc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_view_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_views_and_get_many, setup, teardown),
        cmocka_unit_test_setup_teardown(test_epoch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_value_deflated, setup, teardown),
        cmocka_unit_test(test_stored_value_decode_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
