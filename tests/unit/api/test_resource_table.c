/* Discovery (aggregated and legacy), /openapi/v3 paths and Table output derive from the
 * kind table a domain registers: here the test domain's (test_kinds.c), not the image
 * domain's. No store, no server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "test_kinds.h"

static int setup(void **state)
{
    api_t *a = calloc(1, sizeof *a);
    a->cfg.kinds = test_kinds_many(&a->cfg.nkinds);
    kinds_init(a);
    discovery_build(a);
    openapi_build(a);
    *state = a;
    return 0;
}

static int teardown(void **state)
{
    api_t *a = *state;
    discovery_free(a);
    kinds_free(a);
    free(a);
    return 0;
}

static json_t *load(const char *s)
{
    json_error_t jerr;
    json_t *v = json_loads(s, 0, &jerr);
    assert_non_null(v);
    return v;
}

static json_t *find_by(json_t *arr, const char *field, const char *value)
{
    size_t i;
    json_t *r;
    json_array_foreach(arr, i, r) {
        const char *n = json_string_value(json_object_get(r, field));
        if (n && strcmp(n, value) == 0)
            return r;
    }
    return NULL;
}

static void assert_strs(json_t *arr, const char *const *want)
{
    size_t n = 0;
    for (; want[n]; n++) {
        assert_non_null(json_array_get(arr, n));
        assert_string_equal(json_string_value(json_array_get(arr, n)), want[n]);
    }
    assert_int_equal(json_array_size(arr), n);
}

static const char *str_at(json_t *o, const char *a, const char *b)
{
    json_t *v = json_object_get(o, a);
    if (b)
        v = json_object_get(v, b);
    return json_string_value(v);
}

static void test_aggregated_discovery(void **state)
{
    api_t *a = *state;
    json_t *agg = load(a->disc_aggregated);
    json_t *group = json_array_get(json_object_get(agg, "items"), 0);
    json_t *res = json_object_get(json_array_get(json_object_get(group, "versions"), 0), "resources");
    /* exactly the registered kinds, in table order */
    assert_int_equal(json_array_size(res), 18);
    assert_string_equal(str_at(json_array_get(res, 0), "resource", NULL), "widgets");
    assert_string_equal(str_at(json_array_get(res, 17), "resource", NULL), "fillers14");
    assert_null(find_by(res, "resource", "imagestreams"));

    json_t *w = find_by(res, "resource", "widgets");
    assert_non_null(w);
    assert_string_equal(str_at(w, "scope", NULL), "Namespaced");
    assert_string_equal(str_at(w, "singularResource", NULL), "widget");
    assert_string_equal(str_at(w, "responseKind", "kind"), "Widget");
    assert_string_equal(str_at(w, "responseKind", "group"), TK_GROUP);
    assert_string_equal(str_at(w, "responseKind", "version"), "v1");
    assert_strs(json_object_get(w, "verbs"),
                (const char *const[]){"create", "delete", "deletecollection", "get", "list", "patch", "update",
                                      "watch", NULL});
    assert_strs(json_object_get(w, "shortNames"), (const char *const[]){"wd", NULL});
    assert_strs(json_object_get(w, "categories"), (const char *const[]){"testing", "all", NULL});
    json_t *subs = json_object_get(w, "subresources");
    assert_int_equal(json_array_size(subs), 2);
    json_t *st = find_by(subs, "subresource", "status");
    assert_string_equal(str_at(st, "responseKind", "kind"), "Widget");
    assert_strs(json_object_get(st, "verbs"), (const char *const[]){"get", "patch", "update", NULL});
    json_t *sum = find_by(subs, "subresource", "summary");
    assert_string_equal(str_at(sum, "responseKind", "kind"), "ImageTag");   /* its own schema */
    assert_strs(json_object_get(sum, "verbs"), (const char *const[]){"get", NULL});

    json_t *wt = find_by(res, "resource", "widgettags");
    assert_string_equal(str_at(wt, "responseKind", "kind"), "WidgetTag");
    assert_strs(json_object_get(wt, "verbs"),
                (const char *const[]){"create", "delete", "get", "list", "patch", "update", NULL});
    assert_strs(json_object_get(wt, "shortNames"), (const char *const[]){"wdt", NULL});
    assert_null(json_object_get(wt, "categories"));
    assert_null(json_object_get(wt, "subresources"));
    /* a derived kind lists watch: api/ serves it from its source kind's watch */
    json_t *wc = find_by(res, "resource", "widgetconditions");
    assert_strs(json_object_get(wc, "verbs"), (const char *const[]){"get", "list", "watch", NULL});

    json_t *g = find_by(res, "resource", "gadgets");
    assert_string_equal(str_at(g, "scope", NULL), "Cluster");
    assert_null(json_object_get(g, "shortNames"));
    json_decref(agg);
}

static void test_legacy_discovery(void **state)
{
    api_t *a = *state;
    json_t *list = load(a->disc_resource_list);
    assert_string_equal(str_at(list, "groupVersion", NULL), TK_GROUP "/v1");
    json_t *res = json_object_get(list, "resources");
    /* 18 kinds + widgets/status + widgets/summary */
    assert_int_equal(json_array_size(res), 20);
    json_t *w = find_by(res, "name", "widgets");
    assert_true(json_is_true(json_object_get(w, "namespaced")));
    assert_string_equal(str_at(w, "kind", NULL), "Widget");
    assert_string_equal(str_at(w, "singularName", NULL), "widget");
    assert_strs(json_object_get(w, "shortNames"), (const char *const[]){"wd", NULL});
    assert_strs(json_object_get(w, "categories"), (const char *const[]){"testing", "all", NULL});
    assert_non_null(str_at(w, "storageVersionHash", NULL));
    json_t *st = find_by(res, "name", "widgets/status");
    assert_non_null(st);
    assert_string_equal(str_at(st, "kind", NULL), "Widget");
    json_t *sum = find_by(res, "name", "widgets/summary");
    assert_non_null(sum);
    assert_string_equal(str_at(sum, "kind", NULL), "ImageTag");
    assert_strs(json_object_get(sum, "verbs"), (const char *const[]){"get", NULL});
    json_t *g = find_by(res, "name", "gadgets");
    assert_true(json_is_false(json_object_get(g, "namespaced")));
    assert_strs(json_object_get(g, "verbs"),
                (const char *const[]){"create", "delete", "get", "list", "update", "watch", NULL});
    assert_non_null(find_by(res, "name", "fillers14"));
    json_decref(list);
}

static void test_openapi_paths(void **state)
{
    api_t *a = *state;
    json_t *doc = load(a->openapi_v3);
    json_t *paths = json_object_get(doc, "paths");
    static const char *const want[] = {
        "/apis/image.openshift.io/v1/namespaces/{namespace}/widgets",
        "/apis/image.openshift.io/v1/namespaces/{namespace}/widgets/{name}",
        "/apis/image.openshift.io/v1/namespaces/{namespace}/widgets/{name}/status",
        "/apis/image.openshift.io/v1/namespaces/{namespace}/widgets/{name}/summary",
        "/apis/image.openshift.io/v1/widgets",   /* list across namespaces */
        "/apis/image.openshift.io/v1/namespaces/{namespace}/widgettags",
        "/apis/image.openshift.io/v1/namespaces/{namespace}/widgettags/{name}",
        "/apis/image.openshift.io/v1/gadgets",
        "/apis/image.openshift.io/v1/gadgets/{name}",
        "/apis/image.openshift.io/v1/fillers01/{name}",
        "/apis/image.openshift.io/v1/fillers14/{name}",   /* the 18th kind, 20th resource */
        "/apis/image.openshift.io/v1/namespaces/{namespace}/widgetconditions/{name}",
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        if (!json_object_get(paths, want[i]))
            fail_msg("openapi has no path %s", want[i]);
    }
    assert_null(json_object_get(paths, "/apis/image.openshift.io/v1/namespaces/{namespace}/imagestreams"));
    /* the verbs of each resource decide its operations */
    json_t *item = json_object_get(paths, "/apis/image.openshift.io/v1/gadgets/{name}");
    assert_non_null(json_object_get(item, "get"));
    assert_non_null(json_object_get(item, "put"));
    assert_null(json_object_get(item, "patch"));   /* gadgets do not patch */
    /* "or watch" only where watch is served (kube's installer; openshift's istag lists say "list");
     * both reuse the ImageTag schema */
    const char *d = str_at(json_object_get(json_object_get(paths, "/apis/image.openshift.io/v1/namespaces/{namespace}/widgetconditions"), "get"),
                           "description", NULL);
    assert_string_equal(d, "list or watch objects of kind ImageTag");
    d = str_at(json_object_get(json_object_get(paths, "/apis/image.openshift.io/v1/namespaces/{namespace}/widgettags"), "get"),
               "description", NULL);
    assert_string_equal(d, "list objects of kind ImageTag");
    json_t *sum = json_object_get(paths, "/apis/image.openshift.io/v1/namespaces/{namespace}/widgets/{name}/summary");
    assert_non_null(json_object_get(sum, "get"));
    assert_null(json_object_get(sum, "put"));
    /* the root points at the content-hashed document */
    json_t *root = load(a->openapi_root);
    const char *url = str_at(json_object_get(root, "paths"), "apis/image.openshift.io/v1", "serverRelativeURL");
    assert_non_null(url);
    assert_non_null(strstr(url, a->openapi_hash));
    json_decref(root);
    json_decref(doc);
}

static void test_table(void **state)
{
    api_t *a = *state;
    const kind_def_t *w = kinds_find(a, "widgets");
    json_t *cols = table_columns_json(w);
    assert_int_equal(json_array_size(cols), 2);
    assert_string_equal(str_at(json_array_get(cols, 0), "name", NULL), "Name");
    assert_string_equal(str_at(json_array_get(cols, 0), "format", NULL), "name");
    assert_string_equal(str_at(json_array_get(cols, 1), "name", NULL), "Type");
    assert_string_equal(str_at(json_array_get(cols, 1), "description", NULL), "What the widget is.");
    json_decref(cols);

    json_t *obj = json_pack("{s:s, s:{s:s, s:s}, s:s}", "kind", "Widget", "metadata", "name", "w1", "namespace", "ns",
                            "type", "round");
    json_t *row = table_row_from_json(w, obj, INCLUDE_METADATA, 0);
    json_t *cells = json_object_get(row, "cells");
    assert_int_equal(json_array_size(cells), 2);
    assert_string_equal(json_string_value(json_array_get(cells, 0)), "w1");
    assert_string_equal(json_string_value(json_array_get(cells, 1)), "round");
    assert_string_equal(str_at(json_object_get(row, "object"), "kind", NULL), "PartialObjectMetadata");
    assert_string_equal(str_at(json_object_get(json_object_get(row, "object"), "metadata"), "name", NULL), "w1");
    json_decref(row);
    row = table_row_from_json(w, obj, INCLUDE_NONE, 0);
    assert_null(json_object_get(row, "object"));
    json_decref(row);

    const kind_def_t *wt = kinds_find(a, "widgettags");
    cols = table_columns_json(wt);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(cols, 1), "priority")), 1);
    json_decref(cols);
    json_decref(obj);
}

static void test_kind_lookup(void **state)
{
    api_t *a = *state;
    const api_kind_t *w = api_kind_find(a, "widgets");
    assert_non_null(w);
    assert_string_equal(w->prefix, "/image.openshift.io/widgets/");
    assert_ptr_equal(w->api, a);
    assert_null(api_kind_find(a, "wd"));   /* short names are for clients, not paths */
    assert_null(api_kind_find(a, "imagestreams"));
    const api_kind_t *wt = api_kind_find(a, "widgettags");
    assert_null(wt->prefix);   /* virtual: no key */
    assert_non_null(api_kind_subresource(w, "summary"));
    assert_true(api_kind_subresource(w, "status")->is_status);
    assert_null(api_kind_subresource(w, "scale"));
    assert_null(api_kind_subresource(wt, "status"));
    char *key = kind_key(w, "ns", "w1");
    assert_string_equal(key, "/image.openshift.io/widgets/ns/w1");
    free(key);
    key = kind_key(api_kind_find(a, "gadgets"), NULL, "g1");
    assert_string_equal(key, "/image.openshift.io/gadgets/g1");
    free(key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_aggregated_discovery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_legacy_discovery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_openapi_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kind_lookup, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
