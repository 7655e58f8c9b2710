/* The router (api_route_parse) on the test domain's kind table: pure, no store, no server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "test_kinds.h"

static api_t api;

static int setup_all(void **state)
{
    (void)state;
    memset(&api, 0, sizeof api);
    api.cfg.kinds = test_kinds(&api.cfg.nkinds);
    kinds_init(&api);
    return 0;
}

static int teardown_all(void **state)
{
    (void)state;
    kinds_free(&api);
    return 0;
}

/* One parse; the request stays for inspection. */
static api_req_t *route(const char *method, const char *rest, const char *query, int *rc)
{
    api_req_t *r = api_req_new(&api, NULL);
    *rc = api_route_parse(r, method, rest, query ? query : "");
    return r;
}

static void expect_ok(const char *method, const char *rest, const char *query, const char *kind, const char *ns,
                      const char *name, const char *sub, const char *verb)
{
    int rc;
    api_req_t *r = route(method, rest, query, &rc);
    if (rc != 0)
        fail_msg("%s %s?%s: rc %d (%s)", method, rest, query ? query : "", rc,
                 r->call.err.message ? r->call.err.message : "");
    assert_string_equal(r->kind->resource, kind);
    if (ns)
        assert_string_equal(r->ns, ns);
    else
        assert_null(r->ns);
    if (name)
        assert_string_equal(r->name, name);
    else
        assert_null(r->name);
    if (sub)
        assert_string_equal(r->sub->name, sub);
    else
        assert_null(r->sub);
    assert_string_equal(r->verb, verb);
    assert_false(apierr_is_set(&r->call.err));
    api_req_free(r);
}

static void expect_not_found(const char *method, const char *rest)
{
    int rc;
    api_req_t *r = route(method, rest, NULL, &rc);
    if (rc != ROUTE_NOT_FOUND)
        fail_msg("%s %s: rc %d, want not found", method, rest, rc);
    assert_false(apierr_is_set(&r->call.err));
    api_req_free(r);
}

static void expect_err(const char *method, const char *rest, const char *query, int code, const char *msg_part)
{
    int rc;
    api_req_t *r = route(method, rest, query, &rc);
    if (rc != -1)
        fail_msg("%s %s?%s: rc %d, want -1", method, rest, query ? query : "", rc);
    assert_int_equal(apierr_http_code(r->call.err.kind), code);
    if (msg_part && !strstr(r->call.err.message, msg_part))
        fail_msg("%s %s?%s: message \"%s\" lacks \"%s\"", method, rest, query ? query : "", r->call.err.message,
                 msg_part);
    api_req_free(r);
}

static void test_scopes(void **state)
{
    (void)state;
    expect_ok("GET", "namespaces/ns/widgets", NULL, "widgets", "ns", NULL, NULL, "list");
    expect_ok("GET", "namespaces/ns/widgets/", NULL, "widgets", "ns", NULL, NULL, "list");   /* trailing slash */
    expect_ok("GET", "namespaces/ns/widgets/w1", NULL, "widgets", "ns", "w1", NULL, "get");
    expect_ok("GET", "widgets", NULL, "widgets", NULL, NULL, NULL, "list");   /* all namespaces */
    expect_not_found("GET", "widgets/w1");                                  /* namespaced item without ns */
    expect_ok("GET", "gadgets", NULL, "gadgets", NULL, NULL, NULL, "list");
    expect_ok("GET", "gadgets/g1", NULL, "gadgets", NULL, "g1", NULL, "get");
    expect_not_found("GET", "namespaces/ns/gadgets");      /* cluster kind under a namespace */
    expect_not_found("GET", "namespaces/ns/gadgets/g1");
    expect_not_found("GET", "imagestreams");                /* not this domain's */
    expect_not_found("GET", "wd");                          /* a short name is no path */
    expect_not_found("GET", "namespaces/ns");
    expect_not_found("GET", "namespaces");
    /* %-escapes are decoded */
    expect_ok("GET", "namespaces/n%73/widgets/w%31", NULL, "widgets", "ns", "w1", NULL, "get");
}

static void test_bad_paths(void **state)
{
    (void)state;
    expect_not_found("GET", "");
    expect_not_found("GET", "namespaces//widgets");
    expect_not_found("GET", "namespaces/ns//widgets");
    expect_not_found("GET", "namespaces/ns/widgets//w1");
    expect_not_found("GET", "/namespaces/ns/widgets");
    expect_not_found("GET", "namespaces/ns/widgets/%zz");
    expect_not_found("GET", "namespaces/ns/widgets/w%2");
    expect_not_found("GET", "namespaces/%/widgets");
    expect_not_found("GET", "namespaces/ns/widgets/w1/status/extra");
    expect_not_found("GET", "a/b/c/d/e/f/g/h/i/j");   /* more segments than the router takes */
    expect_not_found("GET", "watch/namespaces/ns/widgets/w1/status/x");
}

static void test_watch_paths(void **state)
{
    (void)state;
    int rc;
    api_req_t *r = route("GET", "watch/namespaces/ns/widgets", NULL, &rc);
    assert_int_equal(rc, 0);
    assert_true(r->watch_path);
    assert_true(r->opt.watch);
    assert_string_equal(r->verb, "watch");
    assert_string_equal(r->ns, "ns");
    api_req_free(r);
    expect_ok("GET", "watch/namespaces/ns/widgets/w1", NULL, "widgets", "ns", "w1", NULL, "watch");
    expect_ok("GET", "watch/widgets", NULL, "widgets", NULL, NULL, NULL, "watch");
    expect_ok("GET", "watch/gadgets", NULL, "gadgets", NULL, NULL, NULL, "watch");
    expect_ok("GET", "namespaces/ns/widgets", "watch=true", "widgets", "ns", NULL, NULL, "watch");
    expect_ok("GET", "namespaces/ns/widgets/w1", "watch=1", "widgets", "ns", "w1", NULL, "watch");
    expect_ok("GET", "namespaces/ns/widgets", "watch=false", "widgets", "ns", NULL, NULL, "list");
    /* a /watch/ path only watches */
    expect_err("POST", "watch/namespaces/ns/widgets", NULL, 405, "does not allow this method");
    expect_err("DELETE", "watch/namespaces/ns/widgets", NULL, 405, NULL);
    /* virtual kinds do not watch */
    expect_err("GET", "watch/namespaces/ns/widgettags", NULL, 405, NULL);
    expect_err("GET", "namespaces/ns/widgettags", "watch=true", 405, NULL);
    /* list options are validated for the watch a /watch/ path implies */
    expect_err("GET", "watch/namespaces/ns/widgets", "sendInitialEvents=true", 422, NULL);
    expect_not_found("GET", "watch");
}

static void test_verbs(void **state)
{
    (void)state;
    expect_ok("POST", "namespaces/ns/widgets", NULL, "widgets", "ns", NULL, NULL, "create");
    expect_ok("PUT", "namespaces/ns/widgets/w1", NULL, "widgets", "ns", "w1", NULL, "update");
    expect_ok("PATCH", "namespaces/ns/widgets/w1", NULL, "widgets", "ns", "w1", NULL, "patch");
    expect_ok("DELETE", "namespaces/ns/widgets/w1", NULL, "widgets", "ns", "w1", NULL, "delete");
    expect_ok("DELETE", "namespaces/ns/widgets", NULL, "widgets", "ns", NULL, NULL, "deletecollection");
    /* methods that name no verb on that path */
    expect_err("POST", "namespaces/ns/widgets/w1", NULL, 405, "the server does not allow this method on the requested resource");
    expect_err("PUT", "namespaces/ns/widgets", NULL, 405, NULL);
    expect_err("PATCH", "namespaces/ns/widgets", NULL, 405, NULL);
    expect_err("HEAD", "namespaces/ns/widgets", NULL, 405, NULL);
    expect_err("OPTIONS", "namespaces/ns/widgets/w1", NULL, 405, NULL);
    /* verbs the kind does not list */
    expect_ok("PUT", "gadgets/g1", NULL, "gadgets", NULL, "g1", NULL, "update");
    expect_err("PATCH", "gadgets/g1", NULL, 405, NULL);
    expect_err("DELETE", "gadgets", NULL, 405, NULL);
    expect_err("DELETE", "namespaces/ns/widgettags", NULL, 405, NULL);
}

static void test_subresources(void **state)
{
    (void)state;
    expect_ok("GET", "namespaces/ns/widgets/w1/status", NULL, "widgets", "ns", "w1", "status", "get");
    expect_ok("PUT", "namespaces/ns/widgets/w1/status", NULL, "widgets", "ns", "w1", "status", "update");
    expect_ok("PATCH", "namespaces/ns/widgets/w1/status", NULL, "widgets", "ns", "w1", "status", "patch");
    expect_err("DELETE", "namespaces/ns/widgets/w1/status", NULL, 405, NULL);   /* not in its verbs */
    expect_ok("GET", "namespaces/ns/widgets/w1/summary", NULL, "widgets", "ns", "w1", "summary", "get");
    expect_err("PUT", "namespaces/ns/widgets/w1/summary", NULL, 405, NULL);
    expect_err("PATCH", "namespaces/ns/widgets/w1/summary", NULL, 405, NULL);
    expect_not_found("GET", "namespaces/ns/widgets/w1/scale");
    expect_not_found("GET", "gadgets/g1/status");
    expect_not_found("GET", "namespaces/ns/widgettags/a:b/status");
    int rc;
    api_req_t *r = route("GET", "namespaces/ns/widgets/w1/summary", NULL, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(r->sub->get);
    assert_false(r->sub->is_status);
    api_req_free(r);
}

static void test_virtual_names(void **state)
{
    (void)state;
    expect_ok("GET", "namespaces/ns/widgettags", NULL, "widgettags", "ns", NULL, NULL, "list");
    expect_ok("GET", "namespaces/ns/widgettags/w1:latest", NULL, "widgettags", "ns", "w1:latest", NULL, "get");
    expect_ok("GET", "namespaces/ns/widgettags/w1%3Alatest", NULL, "widgettags", "ns", "w1:latest", NULL, "get");
    expect_ok("POST", "namespaces/ns/widgettags", NULL, "widgettags", "ns", NULL, NULL, "create");
    expect_ok("PATCH", "namespaces/ns/widgettags/w:t", NULL, "widgettags", "ns", "w:t", NULL, "patch");
    expect_ok("DELETE", "namespaces/ns/widgettags/w:t", NULL, "widgettags", "ns", "w:t", NULL, "delete");
    expect_err("GET", "namespaces/ns/widgettags/w1", NULL, 400, "widgettags must be named <widget>:<tag>, not \"w1\"");
    expect_err("GET", "namespaces/ns/widgettags/:t", NULL, 400, NULL);
    expect_err("GET", "namespaces/ns/widgettags/w:", NULL, 400, NULL);
    expect_err("PUT", "namespaces/ns/widgettags/a:b:c", NULL, 400, NULL);
    expect_err("DELETE", "namespaces/ns/widgettags/nocolon", NULL, 400, NULL);
    /* the verb is checked before the name */
    expect_err("POST", "namespaces/ns/widgettags/nocolon", NULL, 405, NULL);
}

static void test_options(void **state)
{
    (void)state;
    expect_err("GET", "namespaces/ns/widgets", "limit=x", 400, "limit");
    expect_err("GET", "namespaces/ns/widgets", "watch=maybe", 400, "watch");
    expect_err("POST", "namespaces/ns/widgets", "dryRun=Some", 400, "dryRun");
    expect_err("GET", "namespaces/ns/widgets", "resourceVersion=abc", 400, "resourceVersion");
    expect_err("GET", "namespaces/ns/widgets", "resourceVersionMatch=NotOlderThan", 422, NULL);
    expect_err("GET", "namespaces/ns/widgets", "continue=abc&resourceVersion=5", 400, NULL);
    /* option errors come after the path: an unknown path is still not found */
    expect_not_found("GET", "namespaces/ns/nothings");

    int rc;
    api_req_t *r = route("GET", "namespaces/ns/widgets/w1", "resourceVersion=123&pretty=true", &rc);
    assert_int_equal(rc, 0);
    assert_true(r->opt.rv_set);
    assert_int_equal(r->opt.rv, 123);
    assert_true(r->opt.pretty);
    api_req_free(r);
    r = route("GET", "namespaces/ns/widgets", "resourceVersion=0", &rc);
    assert_int_equal(rc, 0);
    assert_true(r->opt.rv_set);
    assert_int_equal(r->opt.rv, 0);
    api_req_free(r);
    r = route("GET", "namespaces/ns/widgets", "resourceVersion=", &rc);
    assert_int_equal(rc, 0);
    assert_false(r->opt.rv_set);
    api_req_free(r);
    r = route("GET", "namespaces/ns/widgets", "", &rc);
    assert_int_equal(rc, 0);
    assert_false(r->opt.rv_set);
    api_req_free(r);
    r = route("POST", "namespaces/ns/widgets", "dryRun=All&fieldManager=me", &rc);
    assert_int_equal(rc, 0);
    assert_true(r->opt.dry_run);
    assert_string_equal(r->opt.field_manager, "me");
    api_req_free(r);
}

static void test_attrs(void **state)
{
    (void)state;
    int rc;
    api_authz_attrs_t at;
    api_req_t *r = route("PUT", "namespaces/ns/widgets/w1/status", NULL, &rc);
    assert_int_equal(rc, 0);
    api_route_attrs(r, &at);
    assert_ptr_equal(at.user, &api_user_anonymous);
    assert_string_equal(at.user->name, "system:anonymous");
    assert_string_equal(at.user->groups[0], "system:unauthenticated");
    assert_null(at.user->groups[1]);
    assert_true(at.resource_request);
    assert_string_equal(at.verb, "update");
    assert_string_equal(at.group, TK_GROUP);
    assert_string_equal(at.resource, "widgets");
    assert_string_equal(at.subresource, "status");
    assert_string_equal(at.ns, "ns");
    assert_string_equal(at.name, "w1");
    api_req_free(r);
    r = route("GET", "watch/gadgets", NULL, &rc);
    api_route_attrs(r, &at);
    assert_string_equal(at.verb, "watch");
    assert_string_equal(at.resource, "gadgets");
    assert_string_equal(at.subresource, "");
    assert_string_equal(at.ns, "");
    assert_string_equal(at.name, "");
    api_req_free(r);
    r = route("GET", "widgets", NULL, &rc);
    api_route_attrs(r, &at);
    assert_string_equal(at.verb, "list");
    assert_string_equal(at.ns, "");   /* all namespaces */
    api_req_free(r);
}

static void test_verbs_has(void **state)
{
    (void)state;
    assert_true(schema_verbs_has("create delete get", "get"));
    assert_true(schema_verbs_has("create delete get", "create"));
    assert_true(schema_verbs_has("create delete deletecollection", "deletecollection"));
    assert_false(schema_verbs_has("create deletecollection get", "delete"));
    assert_false(schema_verbs_has("create get", "ge"));
    assert_false(schema_verbs_has("", "get"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scopes),      cmocka_unit_test(test_bad_paths),    cmocka_unit_test(test_watch_paths),
        cmocka_unit_test(test_verbs),       cmocka_unit_test(test_subresources), cmocka_unit_test(test_virtual_names),
        cmocka_unit_test(test_options),     cmocka_unit_test(test_attrs),        cmocka_unit_test(test_verbs_has),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
