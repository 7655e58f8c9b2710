/* options: query parameters, ListOptions validation, DeleteOptions bodies, continue tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api/options.h"
#include "util/util.h"

static void parse_ok(const char *q, req_options_t *o)
{
    apierr_t err = APIERR_INIT;
    if (req_options_parse(q, o, &err) != 0)
        fail_msg("parse %s: %s", q, err.message);
    assert_false(apierr_is_set(&err));
}

/* Expects a failure with the given code; returns the message (caller frees). */
static char *parse_err(const char *q, int code)
{
    apierr_t err = APIERR_INIT;
    req_options_t o;
    int rc = req_options_parse(q, &o, &err);
    req_options_free(&o);
    if (rc == 0)
        fail_msg("expected an error for %s", q);
    assert_int_equal(apierr_http_code(err.kind), code);
    char *m = xstrdup(err.message);
    apierr_clear(&err);
    return m;
}

static void expect_err(const char *q, int code, const char *msg)
{
    char *m = parse_err(q, code);
    assert_string_equal(m, msg);
    free(m);
}

static void test_defaults(void **state)
{
    req_options_t o;
    parse_ok(NULL, &o);
    assert_false(o.pretty);
    assert_int_equal(o.limit, 0);
    assert_null(o.continue_token);
    assert_null(o.label_selector);
    assert_null(o.field_selector);
    assert_false(o.rv_set);
    assert_int_equal(o.rv_match, RVM_UNSET);
    assert_false(o.watch);
    assert_int_equal(o.timeout_seconds, 0);
    assert_false(o.dry_run);
    assert_int_equal(o.field_validation, FV_WARN);
    assert_false(o.field_validation_set);
    assert_null(o.field_manager);
    assert_int_equal(o.grace_period_seconds, -1);
    assert_int_equal(o.propagation, PROP_UNSET);
    assert_int_equal(o.orphan_dependents, -1);
    assert_int_equal(o.include_object, INCLUDE_METADATA);
    req_options_free(&o);
    parse_ok("", &o);
    assert_int_equal(o.field_validation, FV_WARN);
    req_options_free(&o);
}

static void test_list_params(void **state)
{
    req_options_t o;
    parse_ok("fieldSelector=metadata.name%21%3Dbeta&labelSelector=app+in+%28x%2Cy%29%2C%21foo&limit=2", &o);
    assert_string_equal(o.field_selector, "metadata.name!=beta");
    assert_string_equal(o.label_selector, "app in (x,y),!foo");
    assert_int_equal(o.limit, 2);
    req_options_free(&o);

    parse_ok("continue=eyJ2Ijo&limit=500&pretty=true&includeObject=Object", &o);
    assert_string_equal(o.continue_token, "eyJ2Ijo");
    assert_int_equal(o.limit, 500);
    assert_true(o.pretty);
    assert_int_equal(o.include_object, INCLUDE_OBJECT);
    req_options_free(&o);

    parse_ok("includeObject=None&pretty=nonsense", &o);
    assert_int_equal(o.include_object, INCLUDE_NONE);
    assert_false(o.pretty); /* the apiserver treats an unparsable pretty as false */
    req_options_free(&o);

    parse_ok("resourceVersion=0&resourceVersionMatch=NotOlderThan", &o);
    assert_true(o.rv_set);
    assert_int_equal(o.rv, 0);
    assert_int_equal(o.rv_match, RVM_NOT_OLDER_THAN);
    req_options_free(&o);
    parse_ok("resourceVersion=17&resourceVersionMatch=Exact", &o);
    assert_int_equal(o.rv_match, RVM_EXACT);
    req_options_free(&o);
    parse_ok("labelSelector=&fieldSelector=&resourceVersion=", &o); /* empty = absent */
    assert_null(o.label_selector);
    assert_null(o.field_selector);
    assert_false(o.rv_set);
    req_options_free(&o);
    parse_ok("watch%00x=true", &o);   /* not "watch": an unknown key, ignored as kube does */
    assert_false(o.watch);
    req_options_free(&o);
}

static void test_watch_params(void **state)
{
    req_options_t o;
    parse_ok("timeoutSeconds=3&watch=True", &o); /* the Python client */
    assert_true(o.watch);
    assert_int_equal(o.timeout_seconds, 3);
    req_options_free(&o);
    parse_ok("allowWatchBookmarks=true&fieldSelector=metadata.name%3Dfoo&resourceVersion=1005&timeoutSeconds=412&watch=true",
             &o);
    assert_true(o.allow_watch_bookmarks);
    assert_string_equal(o.field_selector, "metadata.name=foo");
    assert_true(o.rv_set);
    assert_int_equal(o.rv, 1005);
    assert_int_equal(o.timeout_seconds, 412);
    req_options_free(&o);
    /* watch-list (KUBE_FEATURE_WatchListClient) */
    parse_ok("allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&sendInitialEvents=true&watch=1", &o);
    assert_true(o.send_initial_events);
    assert_true(o.send_initial_events_set);
    assert_int_equal(o.rv_match, RVM_NOT_OLDER_THAN);
    req_options_free(&o);
    parse_ok("watch=0&watch=1", &o); /* repeated: the first wins */
    assert_false(o.watch);
    req_options_free(&o);
    parse_ok("timeout=32s", &o); /* the request timeout parameter is ignored */
    assert_int_equal(o.timeout_seconds, 0);
    req_options_free(&o);
    parse_ok("unknown=%zz&%zz=1&&=x&timeout", &o); /* unknown or odd parameters are ignored */
    req_options_free(&o);
}

static void test_write_params(void **state)
{
    req_options_t o;
    parse_ok("dryRun=All&fieldManager=kubectl-create&fieldValidation=Strict", &o);
    assert_true(o.dry_run);
    assert_string_equal(o.field_manager, "kubectl-create");
    assert_int_equal(o.field_validation, FV_STRICT);
    assert_true(o.field_validation_set);
    req_options_free(&o);
    parse_ok("dryRun=All&dryRun=All&fieldManager=kubectl&fieldValidation=Ignore&force=false", &o);
    assert_true(o.dry_run);
    assert_int_equal(o.field_validation, FV_IGNORE);
    assert_false(o.force);
    req_options_free(&o);
    parse_ok("fieldValidation=Warn&force=true", &o);
    assert_int_equal(o.field_validation, FV_WARN);
    assert_true(o.field_validation_set);
    assert_true(o.force);
    req_options_free(&o);
    parse_ok("gracePeriodSeconds=5&propagationPolicy=Foreground&orphanDependents=false", &o);
    assert_int_equal(o.grace_period_seconds, 5);
    assert_int_equal(o.propagation, PROP_FOREGROUND);
    assert_int_equal(o.orphan_dependents, 0);
    req_options_free(&o);
    parse_ok("gracePeriodSeconds=-3&propagationPolicy=Orphan", &o);
    assert_int_equal(o.grace_period_seconds, 1); /* negative means 1s */
    assert_int_equal(o.propagation, PROP_ORPHAN);
    req_options_free(&o);
    parse_ok("propagationPolicy=Background&orphanDependents=T", &o);
    assert_int_equal(o.propagation, PROP_BACKGROUND);
    assert_int_equal(o.orphan_dependents, 1);
    req_options_free(&o);
}

static void test_bad_values(void **state)
{
    expect_err("limit=abc", 400, "limit: Invalid value: \"abc\": must be an integer");
    expect_err("limit=-1", 400, "limit: Invalid value: \"-1\": must be greater than or equal to 0");
    expect_err("limit=99999999999999999999", 400, "limit: Invalid value: \"99999999999999999999\": must be an integer");
    expect_err("watch=yes", 400, "watch: Invalid value: \"yes\": must be a boolean (true or false)");
    expect_err("allowWatchBookmarks=", 400, "allowWatchBookmarks: Invalid value: \"\": must be a boolean (true or false)");
    expect_err("force=2", 400, "force: Invalid value: \"2\": must be a boolean (true or false)");
    expect_err("orphanDependents=x", 400, "orphanDependents: Invalid value: \"x\": must be a boolean (true or false)");
    expect_err("timeoutSeconds=32s", 400, "timeoutSeconds: Invalid value: \"32s\": must be an integer");
    expect_err("gracePeriodSeconds=soon", 400, "gracePeriodSeconds: Invalid value: \"soon\": must be an integer");
    expect_err("dryRun=all", 400, "dryRun: Unsupported value: \"all\": supported values: \"All\"");
    expect_err("dryRun=All&dryRun=x", 400, "dryRun: Unsupported value: \"x\": supported values: \"All\"");
    expect_err("fieldValidation=strict", 400,
               "fieldValidation: Unsupported value: \"strict\": supported values: \"\", \"Ignore\", \"Strict\", \"Warn\"");
    expect_err("propagationPolicy=Later", 400,
               "propagationPolicy: Unsupported value: \"Later\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\"");
    expect_err("includeObject=All", 400,
               "includeObject: Unsupported value: \"All\": supported values: \"Metadata\", \"None\", \"Object\"");
    expect_err("resourceVersionMatch=Newest&resourceVersion=1", 400,
               "resourceVersionMatch: Unsupported value: \"Newest\": supported values: \"Exact\", \"NotOlderThan\", \"\"");
    expect_err("resourceVersion=abc", 400,
               "invalid resource version: resourceVersion: Invalid value: \"abc\": strconv.ParseUint: parsing \"abc\": invalid syntax");
    expect_err("limit=%zz", 400, "invalid query string: malformed percent-encoding in \"limit=%zz\"");
    /* %00 would cut the value short: resourceVersion=5%00x must not read as 5 */
    expect_err("resourceVersion=5%00x", 400,
               "invalid query string: malformed percent-encoding in \"resourceVersion=5%00x\"");
    expect_err("fieldManager=a%00b", 400, "invalid query string: malformed percent-encoding in \"fieldManager=a%00b\"");
    char *m = parse_err("fieldManager=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 400);
    assert_string_equal(m, "fieldManager: Too long: may not be more than 128 bytes");
    free(m);
    expect_err("fieldManager=a%07b", 400, "fieldManager: Invalid value: \"a\\x07b\": must contain only printable characters");
}

static void test_list_validation(void **state)
{
    expect_err("resourceVersionMatch=NotOlderThan", 422,
               "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is "
               "forbidden unless resourceVersion is provided");
    expect_err("resourceVersion=0&resourceVersionMatch=Exact", 422,
               "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch "
               "\"exact\" is forbidden for resourceVersion \"0\"");
    expect_err("continue=abc&resourceVersion=5&resourceVersionMatch=Exact", 422,
               "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is "
               "forbidden when continue is provided");
    expect_err("continue=abc&resourceVersion=5", 400, "specifying resource version is not allowed when using continue");
    expect_err("sendInitialEvents=true", 422,
               "ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list");
    expect_err("watch=true&resourceVersionMatch=NotOlderThan", 422,
               "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is "
               "forbidden for watch unless sendInitialEvents is provided");
    expect_err("watch=true&sendInitialEvents=true", 422,
               "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: sendInitialEvents requires "
               "setting resourceVersionMatch to NotOlderThan");
    expect_err("watch=true&sendInitialEvents=true&resourceVersionMatch=Exact&resourceVersion=3", 422,
               "ListOptions.meta.k8s.io \"\" is invalid: [resourceVersionMatch: Forbidden: sendInitialEvents requires "
               "setting resourceVersionMatch to NotOlderThan, resourceVersionMatch: Unsupported value: \"Exact\": "
               "supported values: \"NotOlderThan\"]");
    req_options_t o;
    parse_ok("continue=abc&resourceVersion=0", &o); /* rv "0" is allowed with continue */
    req_options_free(&o);
    parse_ok("watch=true&continue=abc&resourceVersion=7", &o); /* watches ignore continue */
    req_options_free(&o);

    /* the details carry the causes */
    apierr_t err = APIERR_INIT;
    assert_int_equal(req_options_parse("resourceVersionMatch=Exact", &o, &err), -1);
    req_options_free(&o);
    assert_int_equal(err.kind, APIERR_INVALID);
    assert_string_equal(json_string_value(json_object_get(err.details, "kind")), "ListOptions");
    assert_string_equal(json_string_value(json_object_get(err.details, "group")), "meta.k8s.io");
    json_t *c = json_array_get(json_object_get(err.details, "causes"), 0);
    assert_string_equal(json_string_value(json_object_get(c, "field")), "resourceVersionMatch");
    assert_string_equal(json_string_value(json_object_get(c, "reason")), "FieldValueForbidden");
    apierr_clear(&err);

    /* re-validation after the router sets watch from a /watch/ path */
    parse_ok("resourceVersion=3&resourceVersionMatch=Exact", &o);
    o.watch = true;
    assert_int_equal(req_options_validate_list(&o, &err), -1);
    assert_int_equal(err.kind, APIERR_INVALID);
    apierr_clear(&err);
    req_options_free(&o);
}

/* ---- DeleteOptions bodies ---- */

typedef struct {
    req_options_t o;
    char *uid, *rv;
    apierr_t err;
    int rc;
} del_t;

static void del(del_t *d, const char *query, const char *body)
{
    memset(d, 0, sizeof *d);
    d->err = (apierr_t)APIERR_INIT;
    parse_ok(query, &d->o);
    d->rc = req_options_delete_body(body, body ? strlen(body) : 0, &d->o, &d->uid, &d->rv, &d->err);
}

static void del_free(del_t *d)
{
    req_options_free(&d->o);
    free(d->uid);
    free(d->rv);
    apierr_clear(&d->err);
}

static void test_delete_body(void **state)
{
    del_t d;
    del(&d, "", NULL);
    assert_int_equal(d.rc, 0);
    assert_null(d.uid);
    assert_null(d.rv);
    assert_int_equal(d.o.propagation, PROP_UNSET);
    del_free(&d);

    del(&d, "", " {} \n");
    assert_int_equal(d.rc, 0);
    assert_false(d.o.dry_run);
    del_free(&d);

    del(&d, "", "{\"propagationPolicy\":\"Background\",\"dryRun\":[\"All\"]}");
    assert_int_equal(d.rc, 0);
    assert_true(d.o.dry_run);
    assert_int_equal(d.o.propagation, PROP_BACKGROUND);
    del_free(&d);

    del(&d, "", "{\"gracePeriodSeconds\":5,\"propagationPolicy\":\"Orphan\"}");
    assert_int_equal(d.rc, 0);
    assert_int_equal(d.o.grace_period_seconds, 5);
    assert_int_equal(d.o.propagation, PROP_ORPHAN);
    del_free(&d);

    del(&d, "gracePeriodSeconds=30&propagationPolicy=Foreground",
        "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"gracePeriodSeconds\":0,"
        "\"preconditions\":{\"uid\":\"u-1\",\"resourceVersion\":\"42\"}}");
    assert_int_equal(d.rc, 0);
    assert_int_equal(d.o.grace_period_seconds, 0);              /* body overrides */
    assert_int_equal(d.o.propagation, PROP_FOREGROUND);         /* query kept when the body is silent */
    assert_string_equal(d.uid, "u-1");
    assert_string_equal(d.rv, "42");
    del_free(&d);

    del(&d, "", "{\"preconditions\":{\"uid\":null},\"orphanDependents\":true,\"gracePeriodSeconds\":-5}");
    assert_int_equal(d.rc, 0);
    assert_null(d.uid);
    assert_int_equal(d.o.orphan_dependents, 1);
    assert_int_equal(d.o.grace_period_seconds, 1);
    del_free(&d);

    del(&d, "dryRun=All", "{\"dryRun\":[]}");
    assert_int_equal(d.rc, 0);
    assert_false(d.o.dry_run);
    del_free(&d);

    /* the body's cascade choice replaces the query's */
    del(&d, "orphanDependents=true", "{\"propagationPolicy\":\"Foreground\"}");
    assert_int_equal(d.rc, 0);
    assert_int_equal(d.o.orphan_dependents, -1);
    assert_int_equal(d.o.propagation, PROP_FOREGROUND);
    del_free(&d);
}

static void test_delete_body_errors(void **state)
{
    del_t d;
    del(&d, "", "{\"orphanDependents\":false,\"propagationPolicy\":\"Orphan\"}");
    assert_int_equal(d.rc, -1);
    assert_int_equal(apierr_http_code(d.err.kind), 422);
    assert_string_equal(d.err.message, "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Invalid value: "
                                       "\"Orphan\": orphanDependents and deletionPropagation cannot be both set");
    del_free(&d);

    del(&d, "orphanDependents=true&propagationPolicy=Background", NULL); /* query only */
    assert_int_equal(d.rc, -1);
    assert_int_equal(d.err.kind, APIERR_INVALID);
    del_free(&d);

    del(&d, "", "{\"dryRun\":[\"x\"],\"propagationPolicy\":\"Now\",\"orphanDependents\":true}");
    assert_int_equal(d.rc, -1);
    assert_string_equal(d.err.message,
                        "DeleteOptions.meta.k8s.io \"\" is invalid: [propagationPolicy: Invalid value: \"Now\": "
                        "orphanDependents and deletionPropagation cannot be both set, propagationPolicy: Unsupported "
                        "value: \"Now\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\", dryRun: "
                        "Unsupported value: [\"x\"]: supported values: \"All\"]");
    del_free(&d);

    del(&d, "", "not json");
    assert_int_equal(d.rc, -1);
    assert_int_equal(d.err.kind, APIERR_BAD_REQUEST);
    assert_true(str_has_prefix(d.err.message, "the DeleteOptions body is not valid JSON: "));
    del_free(&d);

    del(&d, "", "[1]");
    assert_int_equal(d.err.kind, APIERR_BAD_REQUEST);
    del_free(&d);

    del(&d, "", "{\"gracePeriodSeconds\":\"5\"}");
    assert_int_equal(d.err.kind, APIERR_BAD_REQUEST);
    assert_string_equal(d.err.message,
                        "json: cannot unmarshal value into Go struct field DeleteOptions.gracePeriodSeconds of type int64");
    del_free(&d);

    del(&d, "", "{\"kind\":\"Pod\"}");
    assert_int_equal(d.err.kind, APIERR_BAD_REQUEST);
    assert_string_equal(d.err.message, "decoded object cannot be converted to DeleteOptions");
    del_free(&d);

    del(&d, "", "{\"preconditions\":{\"uid\":\"a\",\"resourceVersion\":7}}");
    assert_int_equal(d.rc, -1);
    assert_null(d.uid); /* nothing leaks out on failure */
    assert_null(d.rv);
    del_free(&d);
}

/* ---- continue tokens ---- */

static void test_continue_roundtrip(void **state)
{
    char *tok = continue_token_encode(1005, "ns/alpha");
    assert_null(strpbrk(tok, "=+/"));
    size_t n;
    char *raw = base64url_decode(tok, &n);
    /* the real apiserver's format, byte for byte */
    assert_string_equal(raw, "{\"v\":\"meta.k8s.io/v1\",\"rv\":1005,\"start\":\"ns/alpha\\u0000\"}");
    free(raw);
    int64_t rev = 0;
    char *start = NULL;
    apierr_t err = APIERR_INIT;
    assert_int_equal(continue_token_decode(tok, &rev, &start, &err), 0);
    assert_int_equal(rev, 1005);
    assert_string_equal(start, "ns/alpha");
    free(start);
    free(tok);

    /* a token minted by a real apiserver (leading-slash keys are cleaned the same way) */
    const char *real = "{\"v\":\"meta.k8s.io/v1\",\"rv\":7,\"start\":\"/img\\u0000\"}";
    tok = base64url_encode(real, strlen(real));
    assert_int_equal(continue_token_decode(tok, &rev, &start, &err), 0);
    assert_int_equal(rev, 7);
    assert_string_equal(start, "img");
    free(start);
    free(tok);

    /* rv < 0 means "latest" */
    const char *js = "{\"v\":\"meta.k8s.io/v1\",\"rv\":-1,\"start\":\"a\\u0000\"}";
    tok = base64url_encode(js, strlen(js));
    assert_int_equal(continue_token_decode(tok, &rev, &start, &err), 0);
    assert_int_equal(rev, 0);
    free(start);
    free(tok);
    assert_false(apierr_is_set(&err));
}

static void bad_token(const char *tok, const char *msg)
{
    int64_t rev = 0;
    char *start = (char *)"sentinel";
    apierr_t err = APIERR_INIT;
    assert_int_equal(continue_token_decode(tok, &rev, &start, &err), -1);
    assert_null(start);
    assert_int_equal(err.kind, APIERR_BAD_REQUEST);
    if (msg)
        assert_string_equal(err.message, msg);
    else
        assert_true(str_has_prefix(err.message, "invalid continue token: continue key is not valid"));
    apierr_clear(&err);
}

static void bad_json_token(const char *js, const char *msg)
{
    char *tok = base64url_encode(js, strlen(js));
    bad_token(tok, msg);
    free(tok);
}

static void test_continue_garbage(void **state)
{
    bad_token("!!!", "invalid continue token: continue key is not valid: illegal base64 data");
    bad_token("eyJ2Ijo=", NULL);
    bad_token("", NULL);
    bad_json_token("not json", NULL);
    bad_json_token("{\"v\":\"meta.k8s.io/v2\",\"rv\":1,\"start\":\"a\"}",
                   "invalid continue token: continue key is not valid: server does not recognize this encoded version meta.k8s.io/v2");
    bad_json_token("{\"v\":\"meta.k8s.io/v1\",\"rv\":0,\"start\":\"a\"}",
                   "invalid continue token: continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
    bad_json_token("{\"v\":\"meta.k8s.io/v1\",\"rv\":3,\"start\":\"\"}",
                   "invalid continue token: continue key is not valid: encoded start key empty (version meta.k8s.io/v1)");
    bad_json_token("{\"v\":\"meta.k8s.io/v1\",\"rv\":3,\"start\":\"../other/x\"}", "invalid continue token: continue key is not valid");
    bad_json_token("{\"v\":\"meta.k8s.io/v1\",\"rv\":3,\"start\":\"ns//x\"}", "invalid continue token: continue key is not valid");
    bad_json_token("{\"v\":\"meta.k8s.io/v1\",\"rv\":3,\"start\":\"ns/./x\"}", "invalid continue token: continue key is not valid");
    bad_json_token("{\"v\":\"meta.k8s.io/v1\",\"rv\":\"3\",\"start\":\"a\"}", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_list_params),
        cmocka_unit_test(test_watch_params),
        cmocka_unit_test(test_write_params),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_list_validation),
        cmocka_unit_test(test_delete_body),
        cmocka_unit_test(test_delete_body_errors),
        cmocka_unit_test(test_continue_roundtrip),
        cmocka_unit_test(test_continue_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
