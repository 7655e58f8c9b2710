/* The watch of a kind derived from a stored one (widgetconditions from widgets, see
 * test_kinds.h), served by api/ over HTTP in-process: the source kind's events turned
 * into events of the items they add, change and remove. */
#include "test_http.h"

#define WC NS "/widgetconditions"

static const char *cond(const char *type, const char *status, const char *reason)
{
    static __thread char out[8][160];
    static __thread int i;
    i = (i + 1) % 8;
    snprintf(out[i], sizeof out[i], "{\"type\":\"%s\",\"status\":\"%s\",\"reason\":\"%s\"}", type, status, reason);
    return out[i];
}

/* Creates a widget with conditions (a JSON array's inside); its resourceVersion. */
static int64_t create_widget(const char *ns, const char *name, const char *type, const char *conds)
{
    char path[256], body[1024];
    snprintf(path, sizeof path, BASE "/namespaces/%s/widgets", ns);
    snprintf(body, sizeof body, "{\"metadata\":{\"name\":\"%s\"},\"type\":\"%s\",\"conditions\":[%s]}", name, type,
             conds);
    json_t *o = expect(201, "POST", path, NULL, body);
    int64_t rv = atoll(js(o, "metadata.resourceVersion"));
    json_decref(o);
    return rv;
}

/* Replaces a widget's conditions through its status; the new resourceVersion. */
static int64_t set_conds(const char *name, const char *conds)
{
    char path[256], body[1024];
    snprintf(path, sizeof path, NS "/widgets/%s/status", name);
    snprintf(body, sizeof body, "{\"conditions\":[%s]}", conds);
    json_t *o = expect(200, "PATCH", path, "application/merge-patch+json", body);
    int64_t rv = atoll(js(o, "metadata.resourceVersion"));
    json_decref(o);
    return rv;
}

static int64_t patch_widget(const char *name, const char *patch)
{
    char path[256];
    snprintf(path, sizeof path, NS "/widgets/%s", name);
    json_t *o = expect(200, "PATCH", path, "application/merge-patch+json", patch);
    int64_t rv = atoll(js(o, "metadata.resourceVersion"));
    json_decref(o);
    return rv;
}

static int64_t list_rv(const char *path)
{
    json_t *l = expect(200, "GET", path, NULL, NULL);
    int64_t rv = atoll(js(l, "metadata.resourceVersion"));
    json_decref(l);
    return rv;
}

static int64_t ev_rv(json_t *events, size_t i)
{
    return atoll(js(json_array_get(events, i), "object.metadata.resourceVersion"));
}

static json_t *ev_obj(json_t *events, size_t i) { return json_object_get(json_array_get(events, i), "object"); }

static int setup(void **state)
{
    F = fx_up(true);
    *state = F;
    return 0;
}

static int teardown(void **state)
{
    fx_down(*state);
    F = NULL;
    return 0;
}

/* w1 [A, B], w2 [C], w0 without conditions, w3 in another namespace. */
static int64_t seed(void)
{
    create_widget("ns", "w0", "round", "");
    create_widget("ns", "w1", "round", "{\"type\":\"A\",\"status\":\"True\",\"reason\":\"r1\"},"
                                       "{\"type\":\"B\",\"status\":\"True\",\"reason\":\"r1\"}");
    create_widget("ns", "w2", "round", cond("C", "False", "r1"));
    return create_widget("other", "w3", "round", cond("D", "True", "r1"));
}

/* Initial ADDED for every item; an update that adds, changes and removes items at once;
 * an update that changes no item; the source deleted; then resumption from each event. */
static void test_changes_and_resume(void **state)
{
    (void)state;
    seed();
    int64_t rv0 = list_rv(WC);
    watch_t *w = watch_start(WC "?watch=true&timeoutSeconds=10", NULL);
    assert_int_equal(watch_wait(w, 3), 3);
    char abc[512];
    snprintf(abc, sizeof abc, "%s,%s", cond("A", "False", "r2"), cond("C", "True", "r1"));
    int64_t rv_mod = set_conds("w1", abc);
    int64_t rv_noop = patch_widget("w1", "{\"type\":\"square\"}");   /* no item changes */
    int64_t rv_w2 = set_conds("w2", cond("C", "True", "r2"));
    json_t *del = expect(200, "DELETE", NS "/widgets/w1", NULL, NULL);
    json_decref(del);
    int64_t rv_del = list_rv(WC);
    assert_int_equal(watch_wait(w, 9), 9);
    json_t *ev = watch_finish(w, false, NULL);
    expect_events(ev, "ADDED w1:A,ADDED w1:B,ADDED w2:C,"
                      "MODIFIED w1:A,DELETED w1:B,ADDED w1:C,"
                      "MODIFIED w2:C,"
                      "DELETED w1:A,DELETED w1:C");
    /* items in output form: the derived kind, its group, the source's labels and revisions */
    json_t *o = ev_obj(ev, 0);
    assert_string_equal(js(o, "kind"), "WidgetCondition");
    assert_string_equal(js(o, "apiVersion"), "image.openshift.io/v1");
    assert_string_equal(js(o, "metadata.namespace"), "ns");
    assert_string_equal(js(o, "metadata.labels.widget"), "w1");
    assert_int_equal(ev_rv(ev, 0), ev_rv(ev, 1));   /* both of w1 at its revision */
    assert_true(ev_rv(ev, 0) <= rv0 && ev_rv(ev, 2) <= rv0);
    /* one source update: three events, all at its revision */
    for (size_t i = 3; i < 6; i++)
        assert_int_equal(ev_rv(ev, i), rv_mod);
    assert_string_equal(js(json_array_get(json_object_get(json_object_get(ev_obj(ev, 3), "status"), "conditions"), 0),
                           "status"),
                        "False");
    /* DELETED carries the item's last state */
    assert_string_equal(js(json_array_get(json_object_get(json_object_get(ev_obj(ev, 4), "status"), "conditions"), 0),
                           "reason"),
                        "r1");
    assert_int_equal(ev_rv(ev, 6), rv_w2);
    assert_true(rv_w2 > rv_noop && rv_noop > rv_mod);
    assert_int_equal(ev_rv(ev, 7), rv_del);
    assert_int_equal(ev_rv(ev, 8), rv_del);
    assert_string_equal(js(json_array_get(json_object_get(json_object_get(ev_obj(ev, 8), "status"), "conditions"), 0),
                           "type"),
                        "C");

    /* resumed from any event's resourceVersion: exactly the events after it, as sent live */
    static const size_t from[] = {5, 6, 8};
    for (size_t k = 0; k < sizeof from / sizeof *from; k++) {
        char path[256];
        snprintf(path, sizeof path, WC "?watch=1&timeoutSeconds=1&resourceVersion=%lld", (long long)ev_rv(ev, from[k]));
        json_t *again = watch_all(path, NULL);
        size_t first = from[k] + 1;
        while (first < json_array_size(ev) && ev_rv(ev, first) == ev_rv(ev, from[k]))
            first++;
        assert_int_equal(json_array_size(again), json_array_size(ev) - first);
        for (size_t i = 0; i < json_array_size(again); i++)
            assert_true(json_equal(json_array_get(again, i), json_array_get(ev, first + i)));
        json_decref(again);
    }
    /* from the list's resourceVersion: every change after it */
    char path[256];
    snprintf(path, sizeof path, BASE "/watch/namespaces/ns/widgetconditions?timeoutSeconds=1&resourceVersion=%lld",
             (long long)rv0);
    json_t *again = watch_all(path, NULL);
    assert_int_equal(json_array_size(again), 6);
    for (size_t i = 0; i < 6; i++)
        assert_true(json_equal(json_array_get(again, i), json_array_get(ev, 3 + i)));
    json_decref(again);
    json_decref(ev);

    /* resourceVersion=0: the current items first; across namespaces */
    again = watch_all(BASE "/widgetconditions?watch=1&timeoutSeconds=1&resourceVersion=0", NULL);
    expect_events(again, "ADDED w2:C,ADDED w3:D");
    json_decref(again);
}

static void test_selectors(void **state)
{
    (void)state;
    seed();
    int64_t rv0 = list_rv(WC);
    set_conds("w1", cond("A", "False", "r2"));   /* A leaves status=True, B goes */
    set_conds("w1", cond("A", "True", "r3"));    /* A comes back */
    set_conds("w2", cond("C", "True", "r2"));    /* C joins */
    char path[512];
    /* a label selector: items that start to match are ADDED, those that stop are DELETED */
    snprintf(path, sizeof path, WC "?watch=1&timeoutSeconds=1&labelSelector=status%%3DTrue&resourceVersion=%lld",
             (long long)rv0);
    json_t *ev = watch_all(path, NULL);
    expect_events(ev, "DELETED w1:A,DELETED w1:B,ADDED w1:A,ADDED w2:C");
    assert_string_equal(js(ev_obj(ev, 0), "metadata.labels.status"), "True");   /* its last matching state */
    json_decref(ev);
    /* a field selector on the item's name matches no widget: it is not pushed down */
    snprintf(path, sizeof path, WC "?watch=1&timeoutSeconds=1&fieldSelector=metadata.name%%3Dw1%%3AA");
    ev = watch_all(path, NULL);
    expect_events(ev, "ADDED w1:A");
    json_decref(ev);
    snprintf(path, sizeof path, WC "?watch=1&timeoutSeconds=1&fieldSelector=status.tag%%3DC&resourceVersion=%lld",
             (long long)rv0);
    ev = watch_all(path, NULL);
    expect_events(ev, "MODIFIED w2:C");
    json_decref(ev);
    snprintf(path, sizeof path,
             BASE "/widgetconditions?watch=1&timeoutSeconds=1&fieldSelector=metadata.namespace%%3Dother");
    ev = watch_all(path, NULL);
    expect_events(ev, "ADDED w3:D");
    json_decref(ev);
    /* one item: its path, and its /watch/ path */
    snprintf(path, sizeof path, WC "/w1:A?watch=1&timeoutSeconds=1&resourceVersion=%lld", (long long)rv0);
    ev = watch_all(path, NULL);
    expect_events(ev, "MODIFIED w1:A,MODIFIED w1:A");
    json_decref(ev);
    ev = watch_all(BASE "/watch/namespaces/ns/widgetconditions/w1:B?timeoutSeconds=1&resourceVersion=0", NULL);
    expect_events(ev, "");   /* gone */
    json_decref(ev);
    snprintf(path, sizeof path, WC "/w1:A?watch=1&timeoutSeconds=1&labelSelector=status%%3DFalse&resourceVersion=%lld",
             (long long)rv0);
    ev = watch_all(path, NULL);
    expect_events(ev, "ADDED w1:A,DELETED w1:A");
    json_decref(ev);
    /* what the kind refuses, before any stream */
    json_decref(expect(400, "GET", WC "/w1?watch=1", NULL, NULL));   /* not <widget>:<type> */
    json_decref(expect(400, "GET", WC "?watch=1&fieldSelector=type%3Dx", NULL, NULL));
    json_decref(expect(400, "GET", WC "?watch=1&labelSelector=%3D%3D", NULL, NULL));
}

static void test_table_and_metadata(void **state)
{
    (void)state;
    seed();
    watch_t *w = watch_start(WC "?watch=1&timeoutSeconds=10", ACCEPT_TABLE_HDR);
    assert_int_equal(watch_wait(w, 3), 3);
    int64_t rv = set_conds("w2", cond("C", "True", "r9"));
    assert_int_equal(watch_wait(w, 4), 4);
    json_t *ev = watch_finish(w, false, NULL);
    assert_int_equal(json_array_size(ev), 4);
    json_t *t = ev_obj(ev, 0);
    assert_string_equal(js(t, "kind"), "Table");
    json_t *cols = json_object_get(t, "columnDefinitions");
    assert_int_equal(json_array_size(cols), 3);
    assert_string_equal(js(json_array_get(cols, 2), "name"), "Reason");
    json_t *row = json_array_get(json_object_get(t, "rows"), 0);
    json_t *cells = json_object_get(row, "cells");
    assert_string_equal(json_string_value(json_array_get(cells, 0)), "w1:A");
    assert_string_equal(json_string_value(json_array_get(cells, 1)), "True");
    assert_string_equal(js(row, "object.kind"), "PartialObjectMetadata");
    assert_string_equal(js(row, "object.metadata.name"), "w1:A");
    /* columns once per stream */
    assert_true(json_is_null(json_object_get(ev_obj(ev, 1), "columnDefinitions")));
    json_t *last = json_array_get(ev, 3);
    assert_string_equal(js(last, "type"), "MODIFIED");
    assert_int_equal(atoll(js(json_object_get(last, "object"), "metadata.resourceVersion")), rv);
    cells = json_object_get(json_array_get(json_object_get(json_object_get(last, "object"), "rows"), 0), "cells");
    assert_string_equal(json_string_value(json_array_get(cells, 0)), "w2:C");
    assert_string_equal(json_string_value(json_array_get(cells, 2)), "r9");
    json_decref(ev);
    /* includeObject=Object: the whole item in the row */
    ev = watch_all(WC "/w2:C?watch=1&timeoutSeconds=1&includeObject=Object", ACCEPT_TABLE_HDR);
    assert_int_equal(json_array_size(ev), 1);
    row = json_array_get(json_object_get(ev_obj(ev, 0), "rows"), 0);
    assert_string_equal(js(row, "object.kind"), "WidgetCondition");
    assert_string_equal(js(row, "object.status.tag"), "C");
    json_decref(ev);
    /* PartialObjectMetadata */
    ev = watch_all(WC "?watch=1&timeoutSeconds=1", ACCEPT_PARTIAL_HDR);
    expect_events(ev, "ADDED w1:A,ADDED w1:B,ADDED w2:C");
    assert_string_equal(js(ev_obj(ev, 0), "kind"), "PartialObjectMetadata");
    assert_string_equal(js(ev_obj(ev, 0), "metadata.labels.widget"), "w1");
    assert_null(json_object_get(ev_obj(ev, 0), "status"));
    json_decref(ev);
}

/* Several watchers of one event share its expansion; each still gets its own view. A source
 * object that cannot be expanded yields nothing, and the watch goes on. */
static void test_concurrent_watchers(void **state)
{
    (void)state;
    seed();
    int64_t rv0 = list_rv(WC);
    char p_all[256], p_false[256], p_table[256];
    snprintf(p_all, sizeof p_all, WC "?watch=1&timeoutSeconds=10&resourceVersion=%lld", (long long)rv0);
    snprintf(p_false, sizeof p_false,
             WC "?watch=1&timeoutSeconds=10&labelSelector=status%%3DFalse&resourceVersion=%lld", (long long)rv0);
    snprintf(p_table, sizeof p_table, WC "?watch=1&timeoutSeconds=10&resourceVersion=%lld", (long long)rv0);
    watch_t *all = watch_start(p_all, NULL), *fls = watch_start(p_false, NULL),
            *tab = watch_start(p_table, ACCEPT_TABLE_HDR);
    create_widget("ns", "wx", "unexpandable", cond("X", "False", "r1"));
    set_conds("w2", cond("C", "True", "r2"));
    patch_widget("wx", "{\"type\":\"round\"}");   /* expandable now: its item appears */
    assert_int_equal(watch_wait(all, 2), 2);
    assert_int_equal(watch_wait(fls, 2), 2);
    assert_int_equal(watch_wait(tab, 2), 2);
    json_t *ev = watch_finish(all, false, NULL);
    expect_events(ev, "MODIFIED w2:C,ADDED wx:X");
    json_decref(ev);
    ev = watch_finish(fls, false, NULL);
    expect_events(ev, "DELETED w2:C,ADDED wx:X");
    json_decref(ev);
    ev = watch_finish(tab, false, NULL);
    assert_int_equal(json_array_size(ev), 2);
    assert_string_equal(js(json_array_get(ev, 1), "type"), "ADDED");
    assert_string_equal(js(ev_obj(ev, 1), "kind"), "Table");
    json_decref(ev);
}

/* timeoutSeconds ends the stream cleanly; bookmarks name the derived kind. */
static void test_timeout(void **state)
{
    (void)state;
    seed();
    double secs = 0;
    json_t *ev = watch_finish(watch_start(WC "?watch=1&timeoutSeconds=1", NULL), true, &secs);
    expect_events(ev, "ADDED w1:A,ADDED w1:B,ADDED w2:C");
    assert_true(secs >= 0.9 && secs < 3.0);
    json_decref(ev);
}

static void test_bookmarks(void **state)
{
    (void)state;
    fx_t *f = fx_open_store();
    api_config_t cfg = {.authorizer = az_fn, .authorizer_ctx = &f->az, .watch_bookmark_interval_s = 1};
    cfg.kinds = test_kinds(&cfg.nkinds);
    f->api = api_new(&cfg, f->store);
    fx_start_api(f);
    fx_start_http(f);
    F = f;
    seed();
    int64_t rv0 = list_rv(WC);
    char path[256];
    snprintf(path, sizeof path, WC "?watch=1&timeoutSeconds=10&allowWatchBookmarks=true&resourceVersion=%lld",
             (long long)rv0);
    watch_t *w = watch_start(path, NULL);
    int64_t rv = set_conds("w2", cond("C", "True", "r2"));
    int64_t rv_other = create_widget("other", "w4", "round", "");   /* not in the namespace */
    assert_int_equal(watch_wait(w, 2), 2);
    json_t *ev = watch_finish(w, false, NULL);
    expect_events(ev, "MODIFIED w2:C,BOOKMARK");
    json_t *bm = ev_obj(ev, 1);
    assert_string_equal(js(bm, "kind"), "WidgetCondition");
    assert_string_equal(js(bm, "apiVersion"), "image.openshift.io/v1");
    int64_t bm_rv = atoll(js(bm, "metadata.resourceVersion"));
    assert_true(bm_rv >= rv && bm_rv <= rv_other);
    json_decref(ev);
    F = NULL;
    fx_down(f);
}

/* A resourceVersion older than the compaction: 410 Expired as the ERROR event; newer than
 * the store: 504 before the stream. */
static void test_expired(void **state)
{
    (void)state;
    fx_t *f = fx_open_store();
    int64_t rev = 0;
    for (int i = 0; i < 3; i++) {
        char key[128], val[256];
        snprintf(key, sizeof key, "/image.openshift.io/widgets/ns/old%d", i);
        snprintf(val, sizeof val, "{\"metadata\":{\"name\":\"old%d\",\"namespace\":\"ns\",\"uid\":\"u%d\"},"
                 "\"type\":\"t\",\"conditions\":[{\"type\":\"A\",\"status\":\"True\"}]}", i, i);
        assert_int_equal(store_create(f->store, key, val, strlen(val), &rev), STORE_OK);
    }
    assert_int_equal(store_compact(f->store, rev), STORE_OK);
    fx_new_api(f);
    fx_start_api(f);
    fx_start_http(f);
    F = f;
    char path[256];
    snprintf(path, sizeof path, WC "?watch=true&resourceVersion=%lld", (long long)(rev - 2));
    json_t *ev = watch_all(path, NULL);
    assert_int_equal(json_array_size(ev), 1);
    json_t *e = json_array_get(ev, 0);
    assert_string_equal(js(e, "type"), "ERROR");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(e, "object"), "code")), 410);
    assert_string_equal(js(e, "object.reason"), "Expired");
    char want[128];
    snprintf(want, sizeof want, "too old resource version: %lld (%lld)", (long long)(rev - 2), (long long)rev);
    assert_string_equal(js(e, "object.message"), want);
    json_decref(ev);
    snprintf(path, sizeof path, WC "?watch=true&timeoutSeconds=1&resourceVersion=%lld", (long long)rev);
    ev = watch_all(path, NULL);
    assert_int_equal(json_array_size(ev), 0);
    json_decref(ev);
    ev = watch_all(WC "?watch=true&timeoutSeconds=1", NULL);
    expect_events(ev, "ADDED old0:A,ADDED old1:A,ADDED old2:A");
    json_decref(ev);
    snprintf(path, sizeof path, WC "?watch=true&resourceVersion=%lld", (long long)(rev + 100));
    json_decref(expect(504, "GET", path, NULL, NULL));
    F = NULL;
    fx_down(f);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_changes_and_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_selectors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_table_and_metadata, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_watchers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test(test_bookmarks),
        cmocka_unit_test(test_expired),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
