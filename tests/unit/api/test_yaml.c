#include "patch_test_util.h"

static json_t *y(const char *text, apierr_t *err) { return yaml_to_json(text, strlen(text), err); }

static void ok(const char *text, const char *want)
{
    apierr_t err = APIERR_INIT;
    json_t *v = y(text, &err);
    if (!v)
        fail_msg("unexpected error: %s", err.message);
    assert_json(v, want);
    apierr_clear(&err);
}

static void test_manifest(void **s)
{
    ok("apiVersion: image.openshift.io/v1\n"
       "kind: ImageStream\n"
       "metadata:\n"
       "  name: foo\n"
       "  labels:\n"
       "    app: x\n"
       "    version: \"2\"\n"
       "spec:\n"
       "  lookupPolicy:\n"
       "    local: true\n"
       "  tags:\n"
       "  - name: latest\n"
       "    from:\n"
       "      kind: DockerImage\n"
       "      name: quay.io/foo/bar:v2\n"
       "    generation: 3\n"
       "    importPolicy: {}\n",
       "{'apiVersion':'image.openshift.io/v1','kind':'ImageStream','metadata':{'name':'foo','labels':{'app':'x',"
       "'version':'2'}},'spec':{'lookupPolicy':{'local':true},'tags':[{'name':'latest','from':{'kind':'DockerImage',"
       "'name':'quay.io/foo/bar:v2'},'generation':3,'importPolicy':{}}]}}");
}

static void test_json_is_yaml(void **s)
{
    /* what kubectl apply --server-side sends */
    ok("{\"apiVersion\":\"image.openshift.io/v1\",\"kind\":\"ImageStream\",\"metadata\":{\"name\":\"foo\","
       "\"annotations\":{\"a\":\"{\\\"x\\\":1}\\n\"}},\"spec\":{\"lookupPolicy\":{\"local\":false},\"tags\":[]}}\n",
       "{'apiVersion':'image.openshift.io/v1','kind':'ImageStream','metadata':{'name':'foo','annotations':{'a':"
       "'{\\'x\\':1}\\n'}},'spec':{'lookupPolicy':{'local':false},'tags':[]}}");
}

static void test_scalar_typing(void **s)
{
    ok("a: true\nb: False\nc: yes\nd: off\ne: null\nf: ~\ng:\nh: 42\ni: -7\nj: 0x1F\nk: 1.5\nl: 1e3\n"
       "m: '42'\nnn: \"true\"\no: !!str 12\np: 1_000\nq: 010\nr: hello world\ns: .inf\nt: 12:30\n",
       "{'a':true,'b':false,'c':true,'d':false,'e':null,'f':null,'g':null,'h':42,'i':-7,'j':31,'k':1.5,'l':1000.0,"
       "'m':'42','nn':'true','o':'12','p':1000,'q':8,'r':'hello world','s':'.inf','t':'12:30'}");
    ok("- |\n  line1\n  line2\n- >\n  folded\n  text\n", "['line1\\nline2\\n','folded text\\n']");
    /* non-string keys become strings; YAML 1.1 booleans like n/y apply to keys too, as in go-yaml v2 */
    ok("1: a\ntrue: b\nn: c\n", "{'1':'a','true':'b','false':'c'}");
    ok("", "null");
    ok("# only a comment\n", "null");
    ok("---\na: 1\n---\nb: 2\n", "{'a':1}");
}

static void bad(const char *text, const char *msg)
{
    apierr_t err = APIERR_INIT;
    assert_null(y(text, &err));
    assert_int_equal(err.kind, APIERR_BAD_REQUEST);
    assert_string_equal(err.message, msg);
    apierr_clear(&err);
}

static void test_errors(void **s)
{
    bad("a: b: c\n", "error converting YAML to JSON: yaml: mapping values are not allowed in this context");
    bad("a: 1\nb: c: d\n", "error converting YAML to JSON: yaml: line 2: mapping values are not allowed in this context");
    bad("a:\n  - x\n y: 1\n", "error converting YAML to JSON: yaml: line 2: did not find expected key");
    bad("a: &x 1\nb: *x\n", "error converting YAML to JSON: yaml: line 2: aliases are not supported");
    bad("? [a]\n: 1\n", "error converting YAML to JSON: yaml: line 2: invalid map key: a mapping or sequence");
    bad("{\"a\": 1", "error converting YAML to JSON: yaml: line 1: did not find expected ',' or '}'");
    /* fuzz finding: a syntax error after a complete root scalar used to return the scalar */
    apierr_t err = APIERR_INIT;
    assert_null(y("knul x\neey: y\n", &err));
    assert_int_equal(err.kind, APIERR_BAD_REQUEST);
    apierr_clear(&err);
}

static void round_trip(const char *json)
{
    json_t *v = J(json);
    char *text = json_to_yaml(v);
    assert_non_null(text);
    apierr_t err = APIERR_INIT;
    json_t *back = yaml_to_json(text, strlen(text), &err);
    if (!back || !json_equal(back, v))
        fail_msg("round trip of %s failed; yaml was:\n%s", json, text);
    json_decref(back);
    json_decref(v);
    free(text);
}

static void test_emit(void **s)
{
    json_t *v = J("{'kind':'ImageStream','metadata':{'name':'foo','labels':{}},'spec':{'tags':[{'name':'latest',"
                  "'generation':2}],'list':[]},'flag':true,'n':null}");
    char *text = json_to_yaml(v);
    assert_string_equal(text, "kind: ImageStream\n"
                              "metadata:\n"
                              "  name: foo\n"
                              "  labels: {}\n"
                              "spec:\n"
                              "  tags:\n"
                              "  - name: latest\n"
                              "    generation: 2\n"
                              "  list: []\n"
                              "flag: true\n"
                              "\"n\": null\n");
    free(text);
    json_decref(v);
    /* strings that look like other types are quoted */
    v = J("{'a':'true','b':'42','c':'null','d':'','e':'1.5','f':'yes','g':'plain'}");
    text = json_to_yaml(v);
    assert_string_equal(text, "a: \"true\"\nb: \"42\"\nc: \"null\"\nd: \"\"\ne: \"1.5\"\nf: \"yes\"\ng: plain\n");
    free(text);
    json_decref(v);
    round_trip("{'a':'x: y','b':'- z','c':'line1\\nline2','d':'#c','e':' lead','f':'{}','g':[1,2.5,'3'],"
               "'h':{'i':[{'j':null}]},'k':'\\u00e9t\\u00e9','l':'tab\\there','m':'a\\nb\\n'}");
    round_trip("[]");
    round_trip("'scalar'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_manifest),
        cmocka_unit_test(test_json_is_yaml),
        cmocka_unit_test(test_scalar_typing),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_emit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
