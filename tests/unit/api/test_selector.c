/* selector: label selectors (labels.Parse grammar and messages) and field selectors
 * (fields.ParseSelector), including what kubectl actually sends after form decoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api/selector.h"
#include "util/util.h"

static json_t *labels(const char *js)
{
    json_t *j = json_loads(js, 0, NULL);
    assert_non_null(j);
    return j;
}

/* Parses sel and returns whether it matches the labels given as JSON. */
static bool lmatch(const char *sel, const char *js)
{
    apierr_t err = APIERR_INIT;
    label_selector_t *s = label_selector_parse(sel, &err);
    if (!s)
        fail_msg("parse %s: %s", sel, err.message);
    json_t *l = js ? labels(js) : NULL;
    bool m = label_selector_match(s, l);
    json_decref(l);
    label_selector_free(s);
    return m;
}

/* Parses sel expecting a 400 and compares the message. */
static void lerr(const char *sel, const char *msg)
{
    apierr_t err = APIERR_INIT;
    label_selector_t *s = label_selector_parse(sel, &err);
    if (s)
        fail_msg("expected error for %s", sel);
    assert_int_equal(err.kind, APIERR_BAD_REQUEST);
    assert_int_equal(apierr_http_code(err.kind), 400);
    assert_string_equal(err.message, msg);
    apierr_clear(&err);
}

static void test_label_empty(void **state)
{
    apierr_t err = APIERR_INIT;
    label_selector_t *s = label_selector_parse(NULL, &err);
    assert_non_null(s);
    assert_true(label_selector_empty(s));
    assert_true(label_selector_match(s, NULL));
    label_selector_free(s);
    s = label_selector_parse("", &err);
    assert_true(label_selector_empty(s));
    label_selector_free(s);
    s = label_selector_parse("   ", &err);
    assert_non_null(s);
    assert_true(label_selector_empty(s));
    label_selector_free(s);
    s = label_selector_parse("a=b", &err);
    assert_false(label_selector_empty(s));
    label_selector_free(s);
    assert_false(apierr_is_set(&err));
}

static void test_label_operators(void **state)
{
    const char *l = "{\"app\":\"x\",\"tier\":\"web\",\"n\":\"5\",\"empty\":\"\"}";
    assert_true(lmatch("app=x", l));
    assert_false(lmatch("app=y", l));
    assert_true(lmatch("app==x", l));
    assert_false(lmatch("app==y", l));
    assert_true(lmatch("app!=y", l));
    assert_false(lmatch("app!=x", l));
    assert_true(lmatch("missing!=x", l)); /* != matches absent keys */
    assert_false(lmatch("missing=x", l));
    assert_true(lmatch("app in (x,y)", l));
    assert_false(lmatch("app in (y,z)", l));
    assert_false(lmatch("missing in (x)", l));
    assert_true(lmatch("app notin (y,z)", l));
    assert_false(lmatch("app notin (x)", l));
    assert_true(lmatch("missing notin (x)", l));
    assert_true(lmatch("app", l));
    assert_false(lmatch("missing", l));
    assert_true(lmatch("!missing", l));
    assert_false(lmatch("!app", l));
    assert_true(lmatch("empty=", l));    /* empty value */
    assert_true(lmatch("empty in ()", l)); /* "()" is the set {""} */
    assert_true(lmatch("n>4", l));
    assert_false(lmatch("n>5", l));
    assert_true(lmatch("n<6", l));
    assert_false(lmatch("app>1", l)); /* not an integer label */
    assert_false(lmatch("missing<9", l));
    assert_true(lmatch("in=x", "{\"in\":\"x\"}")); /* keywords are identifiers as keys */
    assert_true(lmatch("a in (in,notin)", "{\"a\":\"notin\"}"));
    assert_false(lmatch("app", NULL));
    assert_true(lmatch("!app", NULL));
}

static void test_label_combinations(void **state)
{
    const char *l = "{\"app\":\"x\",\"tier\":\"web\"}";
    assert_true(lmatch("app=x,tier=web", l));
    assert_false(lmatch("app=x,tier=db", l));
    assert_true(lmatch("  app = x ,  tier in ( web , db ) , !foo ", l));
    assert_true(lmatch("app\t==\tx", l));
    assert_true(lmatch("example.com/role=db", "{\"example.com/role\":\"db\"}"));
    assert_true(lmatch("a in (,x)", "{\"a\":\"\"}"));
    assert_true(lmatch("a in (x,)", "{\"a\":\"\"}"));
    assert_true(lmatch("a in (x,,y)", "{\"a\":\"\"}"));
}

static void test_label_kubectl_example(void **state)
{
    /* ?fieldSelector=metadata.name%21%3Dbeta&labelSelector=app+in+%28x%2Cy%29%2C%21foo&limit=2 */
    const char *raw = "app+in+%28x%2Cy%29%2C%21foo";
    char *dec = url_decode(raw, strlen(raw), true);
    assert_string_equal(dec, "app in (x,y),!foo");
    assert_true(lmatch(dec, "{\"app\":\"y\"}"));
    assert_false(lmatch(dec, "{\"app\":\"y\",\"foo\":\"\"}"));
    assert_false(lmatch(dec, "{\"app\":\"z\"}"));
    free(dec);
}

static void test_label_syntax_errors(void **state)
{
    lerr("app=x y", "found 'y', expected: ',' or 'end of string'");
    lerr("app in x", "unable to parse requirement: found 'x' expected: '('");
    lerr("app in (x", "unable to parse requirement: found '', expected: ',' or ')'");
    lerr("app in (x y)", "unable to parse requirement: found 'y', expected: ',' or ')'");
    lerr("app=x,", "found '', expected: identifier after ','");
    lerr(",app", "found ',', expected: !, identifier, or 'end of string'");
    lerr("=x", "found '=', expected: !, identifier, or 'end of string'");
    lerr("app x", "unable to parse requirement: found 'x', expected: in, notin, =, ==, !=, gt, lt");
    lerr("!", "unable to parse requirement: found '', expected: identifier");
    lerr("!app=x", "found '=', expected: ',' or 'end of string'");
    lerr("app=(x)", "unable to parse requirement: found '(', expected: identifier");
    lerr("app in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier");
    lerr("app>x", "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the value must be an integer");
}

static void test_label_invalid_keys_values(void **state)
{
    lerr("a/b/c=x",
         "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric "
         "characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or "
         "'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an "
         "optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
    lerr("-app=x",
         "unable to parse requirement: <nil>: Invalid value: \"-app\": name part must consist of alphanumeric "
         "characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or "
         "'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
    lerr("Bad_Prefix/app",
         "unable to parse requirement: <nil>: Invalid value: \"Bad_Prefix/app\": prefix part a lowercase RFC 1123 "
         "subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an "
         "alphanumeric character (e.g. 'example.com', regex used for validation is "
         "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
    lerr("/app=x", "unable to parse requirement: <nil>: Invalid value: \"/app\": prefix part must be non-empty");
    lerr("app=x@y",
         "unable to parse requirement: values[0][app]: Invalid value: \"x@y\": a valid label must be an empty string or "
         "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character "
         "(e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is "
         "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
    /* values are checked in sorted order, several errors are aggregated */
    apierr_t err = APIERR_INIT;
    assert_null(label_selector_parse("k in (ok,z-,-a)", &err));
    assert_true(str_has_prefix(err.message, "unable to parse requirement: [values[0][k]: Invalid value: \"-a\": "));
    assert_non_null(strstr(err.message, ", values[2][k]: Invalid value: \"z-\": "));
    assert_true(str_has_suffix(err.message, "]"));
    apierr_clear(&err);
    char longv[80];
    memset(longv, 'v', 64);
    strcpy(longv + 64, "");
    char *sel = xasprintf("k=%s", longv);
    assert_null(label_selector_parse(sel, &err));
    assert_non_null(strstr(err.message, "must be no more than 63 characters"));
    apierr_clear(&err);
    free(sel);
    longv[63] = '\0';
    sel = xasprintf("k=%s", longv);
    assert_true(lmatch(sel, "{}") == false);
    free(sel);
}

static const char *getf(void *arg, const char *field)
{
    json_t *o = arg;
    return json_string_value(json_object_get(o, field));
}

static const char *const allowed[] = {"metadata.name", "metadata.namespace", "spec.dockerImageRepository", NULL};

static bool fmatch(const char *sel, const char *js)
{
    apierr_t err = APIERR_INIT;
    field_selector_t *s = field_selector_parse(sel, allowed, &err);
    if (!s)
        fail_msg("parse %s: %s", sel, err.message);
    json_t *o = labels(js);
    bool m = field_selector_match(s, getf, o);
    json_decref(o);
    field_selector_free(s);
    return m;
}

static void ferr(const char *sel, const char *msg)
{
    apierr_t err = APIERR_INIT;
    field_selector_t *s = field_selector_parse(sel, allowed, &err);
    if (s)
        fail_msg("expected error for %s", sel);
    assert_int_equal(err.kind, APIERR_BAD_REQUEST);
    assert_string_equal(err.message, msg);
    apierr_clear(&err);
}

static void test_field_operators(void **state)
{
    const char *o = "{\"metadata.name\":\"alpha\",\"metadata.namespace\":\"ns\"}";
    assert_true(fmatch("metadata.name=alpha", o));
    assert_false(fmatch("metadata.name=beta", o));
    assert_true(fmatch("metadata.name==alpha", o));
    assert_true(fmatch("metadata.name!=beta", o));
    assert_false(fmatch("metadata.name!=alpha", o));
    assert_true(fmatch("metadata.name=alpha,metadata.namespace=ns", o));
    assert_false(fmatch("metadata.name=alpha,metadata.namespace!=ns", o));
    assert_true(fmatch("spec.dockerImageRepository=", o)); /* absent field is "" */
    assert_true(fmatch("metadata.name=alpha,,", o));        /* empty terms are skipped */
    /* the kubectl example, decoded */
    const char *raw = "metadata.name%21%3Dbeta";
    char *dec = url_decode(raw, strlen(raw), true);
    assert_true(fmatch(dec, o));
    free(dec);
}

static void test_field_escapes(void **state)
{
    assert_true(fmatch("metadata.name=a\\,b", "{\"metadata.name\":\"a,b\"}"));
    assert_true(fmatch("metadata.name=a\\=b\\\\c", "{\"metadata.name\":\"a=b\\\\c\"}"));
    assert_false(fmatch("metadata.name=a\\,b", "{\"metadata.name\":\"a\"}"));
    ferr("metadata.name=a\\x", "invalid field selector: invalid escape sequence: \\x");
    ferr("metadata.name=a\\", "invalid field selector: invalid escape sequence: \\");
    ferr("metadata.name=a=b", "invalid field selector: unescaped character in value: 61");
    ferr("metadata.name", "invalid selector: 'metadata.name'; can't understand 'metadata.name'");
}

static void test_field_unsupported(void **state)
{
    ferr("spec.foo=bar", "field label not supported: spec.foo");
    ferr("metadata.name=a,status.x!=b", "field label not supported: status.x");
    ferr(" metadata.name=a", "field label not supported:  metadata.name");
    /* NULL allowed list = Kubernetes' defaults */
    apierr_t err = APIERR_INIT;
    field_selector_t *s = field_selector_parse("metadata.namespace=x", NULL, &err);
    assert_non_null(s);
    field_selector_free(s);
    assert_null(field_selector_parse("spec.dockerImageRepository=x", NULL, &err));
    assert_string_equal(err.message, "field label not supported: spec.dockerImageRepository");
    apierr_clear(&err);
}

static void test_field_name(void **state)
{
    apierr_t err = APIERR_INIT;
    field_selector_t *s = field_selector_parse("metadata.namespace=ns,metadata.name=foo", allowed, &err);
    assert_string_equal(field_selector_name(s), "foo");
    assert_false(field_selector_empty(s));
    field_selector_free(s);
    s = field_selector_parse("metadata.name==bar", allowed, &err);
    assert_string_equal(field_selector_name(s), "bar");
    field_selector_free(s);
    s = field_selector_parse("metadata.name!=foo", allowed, &err);
    assert_null(field_selector_name(s));
    field_selector_free(s);
    s = field_selector_parse(NULL, allowed, &err);
    assert_non_null(s);
    assert_true(field_selector_empty(s));
    assert_null(field_selector_name(s));
    assert_true(field_selector_match(s, getf, NULL));
    field_selector_free(s);
    assert_false(apierr_is_set(&err));
}

/* Deterministic garbage through both parsers: no crash, no leak, and either a selector or a
 * 400 with a message. */
static void test_garbage(void **state)
{
    static const char *const atoms[] = {"a", "b", "=", "==", "!=", "!", "(", ")", ",", " ", "in", "notin",
                                        "<", ">", "1", "x/y", ".", "-", "\\", "\\,", "metadata.name", "\t"};
    uint32_t seed = 12345;
    for (int i = 0; i < 20000; i++) {
        char buf[128] = "";
        size_t len = 0;
        seed = seed * 1103515245u + 12345u;
        int n = (int)(seed >> 16) % 9;
        for (int j = 0; j < n; j++) {
            seed = seed * 1103515245u + 12345u;
            const char *a = atoms[(seed >> 16) % (sizeof atoms / sizeof *atoms)];
            size_t al = strlen(a);
            if (len + al >= sizeof buf)
                break;
            memcpy(buf + len, a, al + 1);
            len += al;
        }
        apierr_t err = APIERR_INIT;
        label_selector_t *ls = label_selector_parse(buf, &err);
        if (!ls) {
            assert_int_equal(err.kind, APIERR_BAD_REQUEST);
            assert_non_null(err.message);
            apierr_clear(&err);
        } else {
            json_t *l = json_pack("{s:s, s:s}", "a", "1", "b", "x");
            (void)label_selector_match(ls, l);
            json_decref(l);
            label_selector_free(ls);
        }
        field_selector_t *fs = field_selector_parse(buf, allowed, &err);
        if (!fs) {
            assert_int_equal(err.kind, APIERR_BAD_REQUEST);
            apierr_clear(&err);
        } else {
            (void)field_selector_name(fs);
            field_selector_free(fs);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_label_empty),
        cmocka_unit_test(test_label_operators),
        cmocka_unit_test(test_label_combinations),
        cmocka_unit_test(test_label_kubectl_example),
        cmocka_unit_test(test_label_syntax_errors),
        cmocka_unit_test(test_label_invalid_keys_values),
        cmocka_unit_test(test_field_operators),
        cmocka_unit_test(test_field_escapes),
        cmocka_unit_test(test_field_unsupported),
        cmocka_unit_test(test_field_name),
        cmocka_unit_test(test_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
