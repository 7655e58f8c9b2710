#include "patch_test_util.h"

static json_t *run(const char *doc, const char *ops, apierr_t *err)
{
    json_t *d = J(doc), *o = J(ops);
    json_t *res = patch_json(d, o, err);
    json_decref(d);
    json_decref(o);
    return res;
}

static void ok(const char *doc, const char *ops, const char *want)
{
    apierr_t err = APIERR_INIT;
    json_t *res = run(doc, ops, &err);
    if (!res)
        fail_msg("unexpected error: %s", err.message);
    assert_json(res, want);
    apierr_clear(&err);
}

static void bad(const char *doc, const char *ops, apierr_kind_t kind, const char *msg)
{
    apierr_t err = APIERR_INIT;
    json_t *res = run(doc, ops, &err);
    assert_null(res);
    assert_int_equal(err.kind, kind);
    assert_string_equal(err.message, msg);
    assert_null(err.details);
    apierr_clear(&err);
}

static void test_ops(void **s)
{
    ok("{'a':1}", "[{'op':'add','path':'/b','value':{'c':[1]}}]", "{'a':1,'b':{'c':[1]}}");
    ok("{'a':[1,2]}", "[{'op':'add','path':'/a/1','value':9}]", "{'a':[1,9,2]}");
    ok("{'a':[1,2]}", "[{'op':'add','path':'/a/-','value':3}]", "{'a':[1,2,3]}");
    ok("{'a':[1,2]}", "[{'op':'add','path':'/a/2','value':3}]", "{'a':[1,2,3]}");
    ok("{'a':[1,2,3]}", "[{'op':'remove','path':'/a/0'}]", "{'a':[2,3]}");
    ok("{'a':{'b':1}}", "[{'op':'replace','path':'/a/b','value':null}]", "{'a':{'b':null}}");
    ok("{'a':{'b':1},'c':{}}", "[{'op':'move','from':'/a/b','path':'/c/d'}]", "{'a':{},'c':{'d':1}}");
    ok("{'a':[{'x':1}]}", "[{'op':'copy','from':'/a/0','path':'/b'}]", "{'a':[{'x':1}],'b':{'x':1}}");
    ok("{'a':{'b':[1,'x']}}", "[{'op':'test','path':'/a/b','value':[1,'x']}]", "{'a':{'b':[1,'x']}}");
    ok("{}", "[{'op':'test','path':'/missing','value':null}]", "{}");
    ok("{'a':1}", "[{'op':'replace','path':'','value':[1]}]", "[1]");
    ok("{'a':1}", "[]", "{'a':1}");
}

static void test_pointer_escapes(void **s)
{
    ok("{'metadata':{'labels':{'a/b':'x','m~n':'y'}}}",
       "[{'op':'replace','path':'/metadata/labels/a~1b','value':'z'},{'op':'remove','path':'/metadata/labels/m~0n'}]",
       "{'metadata':{'labels':{'a/b':'z'}}}");
    ok("{'':{'':1}}", "[{'op':'replace','path':'//','value':2}]", "{'':{'':2}}");
    bad("{'a':1}", "[{'op':'remove','path':'/a~2'}]", APIERR_INVALID, "remove operation failed to decode path");
    bad("{'a':1}", "[{'op':'remove','path':'a'}]", APIERR_INVALID, "remove operation failed to decode path");
}

static void test_errors(void **s)
{
    bad("{'spec':{}}", "[{'op':'remove','path':'/spec/nothere'}]", APIERR_INVALID,
        "remove operation does not apply: doc is missing path: \"/spec/nothere\"");
    bad("{'spec':{}}", "[{'op':'remove','path':'/nope/x'}]", APIERR_INVALID,
        "remove operation does not apply: doc is missing path: \"/nope/x\"");
    bad("{'x':1}", "[{'op':'test','path':'/x','value':2}]", APIERR_INVALID, "testing value /x failed: test failed");
    bad("{'spec':{}}", "[{'op':'replace','path':'/spec/x','value':1}]", APIERR_INVALID,
        "replace operation does not apply: doc is missing key: /spec/x");
    bad("{}", "[{'op':'replace','path':'/spec/x','value':1}]", APIERR_INVALID,
        "replace operation does not apply: doc is missing path: /spec/x");
    bad("{}", "[{'op':'add','path':'/a/b','value':1}]", APIERR_INVALID,
        "add operation does not apply: doc is missing path: \"/a/b\"");
    bad("{'a':[1]}", "[{'op':'add','path':'/a/5','value':1}]", APIERR_INVALID,
        "Unable to access invalid index: 5: invalid index referenced");
    bad("{}", "[{'op':'move','from':'/x','path':'/y'}]", APIERR_INVALID,
        "move operation does not apply: doc is missing from path: /x");
    bad("{}", "[{'op':'copy','from':'/x','path':'/y'}]", APIERR_INVALID,
        "copy operation does not apply: doc is missing from path: /x");
    bad("{}", "[{'op':'frob','path':'/y'}]", APIERR_INVALID, "Unexpected kind: frob");
    bad("{}", "{'op':'add'}", APIERR_BAD_REQUEST, "json: cannot unmarshal object into Go value of type jsonpatch.Patch");
    bad("{}", "[1]", APIERR_BAD_REQUEST, "json: cannot unmarshal value into Go value of type jsonpatch.Operation");
    /* the failing op leaves no partial result behind; the target is never modified */
    json_t *d = J("{'a':1}"), *o = J("[{'op':'add','path':'/b','value':2},{'op':'remove','path':'/zz'}]");
    apierr_t err = APIERR_INIT;
    assert_null(patch_json(d, o, &err));
    assert_json(d, "{'a':1}");
    json_decref(o);
    apierr_clear(&err);
}

/* kubectl's CSA -> SSA migration patch. */
static void test_managed_fields_migration(void **s)
{
    ok("{'metadata':{'name':'foo','resourceVersion':'1008','managedFields':[{'manager':'kubectl-client-side-apply',"
       "'operation':'Update'}]}}",
       "[{'op':'replace','path':'/metadata/managedFields','value':[{'manager':'kubectl','operation':'Apply'},"
       "{'manager':'kubectl-last-applied','operation':'Apply'}]},"
       "{'op':'replace','path':'/metadata/resourceVersion','value':'1008'}]",
       "{'metadata':{'name':'foo','resourceVersion':'1008','managedFields':[{'manager':'kubectl','operation':'Apply'},"
       "{'manager':'kubectl-last-applied','operation':'Apply'}]}}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ops),
        cmocka_unit_test(test_pointer_escapes),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_managed_fields_migration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
