#include "patch_test_util.h"

static void merge(const char *target, const char *patch, const char *want)
{
    json_t *t = J(target), *p = J(patch);
    json_t *res = patch_merge(t, p);
    json_t *t0 = J(target);
    assert_true(json_equal(t, t0)); /* target untouched */
    json_decref(t0);
    assert_json(res, want);
    json_decref(t);
    json_decref(p);
}

/* RFC 7386 appendix A examples. */
static void test_rfc_examples(void **s)
{
    merge("{'a':'b'}", "{'a':'c'}", "{'a':'c'}");
    merge("{'a':'b'}", "{'b':'c'}", "{'a':'b','b':'c'}");
    merge("{'a':'b'}", "{'a':null}", "{}");
    merge("{'a':'b','b':'c'}", "{'a':null}", "{'b':'c'}");
    merge("{'a':['b']}", "{'a':'c'}", "{'a':'c'}");
    merge("{'a':'c'}", "{'a':['b']}", "{'a':['b']}");
    merge("{'a':{'b':'c'}}", "{'a':{'b':'d','c':null}}", "{'a':{'b':'d'}}");
    merge("{'a':[{'b':'c'}]}", "{'a':[1]}", "{'a':[1]}");
    merge("['a','b']", "['c','d']", "['c','d']");
    merge("{'a':'b'}", "['c']", "['c']");
    merge("{'a':'foo'}", "null", "null");
    merge("{'a':'foo'}", "'bar'", "'bar'");
    merge("{'e':null}", "{'a':1}", "{'e':null,'a':1}");
    merge("[1,2]", "{'a':'b','c':null}", "{'a':'b'}");
    merge("{}", "{'a':{'bb':{'ccc':null}}}", "{'a':{'bb':{}}}");
}

/* kubectl label / edit bodies from the contract. */
static void test_kubectl_bodies(void **s)
{
    merge("{'metadata':{'name':'foo','labels':{'app':'x','color':'red'}},'spec':{'lookupPolicy':{'local':false}}}",
          "{'metadata':{'labels':{'color':null,'edited':'yes'}},'spec':{'lookupPolicy':{'local':true}}}",
          "{'metadata':{'name':'foo','labels':{'app':'x','edited':'yes'}},'spec':{'lookupPolicy':{'local':true}}}");
    /* lists are replaced wholesale */
    merge("{'spec':{'tags':[{'name':'a'},{'name':'b'}]}}", "{'spec':{'tags':[{'name':'c'}]}}",
          "{'spec':{'tags':[{'name':'c'}]}}");
}

static void test_null_target(void **s)
{
    json_t *p = J("{'a':{'b':null,'c':1}}");
    assert_json(patch_merge(NULL, p), "{'a':{'c':1}}");
    json_decref(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_examples),
        cmocka_unit_test(test_kubectl_bodies),
        cmocka_unit_test(test_null_target),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
