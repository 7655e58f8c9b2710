#include "patch_test_util.h"

static json_t *smp(const char *target, const char *patch, const schema_node_t *root, apierr_t *err)
{
    json_t *t = J(target), *p = J(patch);
    json_t *t0 = json_deep_copy(t);
    json_t *res = patch_strategic(t, p, root, err);
    assert_true(json_equal(t, t0)); /* target untouched */
    json_decref(t0);
    json_decref(t);
    json_decref(p);
    return res;
}

static void ok(const char *target, const char *patch, const schema_node_t *root, const char *want)
{
    apierr_t err = APIERR_INIT;
    json_t *res = smp(target, patch, root, &err);
    if (!res)
        fail_msg("unexpected error: %s", err.message);
    assert_json(res, want);
    apierr_clear(&err);
}

static void bad(const char *target, const char *patch, const char *msg_prefix)
{
    apierr_t err = APIERR_INIT;
    json_t *res = smp(target, patch, &t_is, &err);
    assert_null(res);
    assert_int_equal(err.kind, APIERR_BAD_REQUEST);
    if (strncmp(err.message, msg_prefix, strlen(msg_prefix)))
        fail_msg("message %s does not start with %s", err.message, msg_prefix);
    apierr_clear(&err);
}

#define STREAM                                                                                       \
    "{'apiVersion':'image.openshift.io/v1','kind':'ImageStream',"                                    \
    "'metadata':{'name':'foo','namespace':'ns','finalizers':['a/b','c/d'],'labels':{'app':'x'}},"   \
    "'spec':{'lookupPolicy':{'local':false},'tags':["                                                \
    "{'name':'latest','from':{'kind':'DockerImage','name':'quay.io/foo/bar:v2'}},"                   \
    "{'name':'v2','from':{'kind':'DockerImage','name':'quay.io/foo/bar:v2'}}]}}"

/* The client-side-apply body from the contract (section 8.4). */
static void test_kubectl_csa_body(void **s)
{
    ok(STREAM,
       "{'metadata':{'$deleteFromPrimitiveList/finalizers':['c/d'],'$setElementOrder/finalizers':['a/b'],"
       "'annotations':{'kubectl.kubernetes.io/last-applied-configuration':'{}\\n'}},"
       "'spec':{'$setElementOrder/tags':[{'name':'v3'},{'name':'latest'}],"
       "'tags':[{'from':{'kind':'DockerImage','name':'quay.io/foo/bar:v3'},'name':'v3'},{'$patch':'delete','name':'v2'}]}}",
       &t_is,
       "{'apiVersion':'image.openshift.io/v1','kind':'ImageStream',"
       "'metadata':{'name':'foo','namespace':'ns','finalizers':['a/b'],'labels':{'app':'x'},"
       "'annotations':{'kubectl.kubernetes.io/last-applied-configuration':'{}\\n'}},"
       "'spec':{'lookupPolicy':{'local':false},'tags':["
       "{'name':'v3','from':{'kind':'DockerImage','name':'quay.io/foo/bar:v3'}},"
       "{'name':'latest','from':{'kind':'DockerImage','name':'quay.io/foo/bar:v2'}}]}}");
}

static void test_keyed_merge(void **s)
{
    /* same key merges into the element, null deletes inside it, new keys append */
    ok("{'spec':{'tags':[{'name':'a','from':{'kind':'DockerImage','name':'x'},'reference':true},{'name':'b'}]}}",
       "{'spec':{'tags':[{'name':'a','from':{'name':'y'},'reference':null},{'name':'c'}]}}", &t_is,
       "{'spec':{'tags':[{'name':'a','from':{'kind':'DockerImage','name':'y'}},{'name':'b'},{'name':'c'}]}}");
    /* status.tags merge on "tag" */
    ok("{'status':{'tags':[{'tag':'a','items':[{'image':'1'}]},{'tag':'b','items':[]}]}}",
       "{'status':{'tags':[{'tag':'b','items':[{'image':'2'}]}]}}", &t_is,
       "{'status':{'tags':[{'tag':'a','items':[{'image':'1'}]},{'tag':'b','items':[{'image':'2'}]}]}}");
    /* ownerReferences merge on uid */
    ok("{'metadata':{'ownerReferences':[{'uid':'1','name':'a'}]}}",
       "{'metadata':{'ownerReferences':[{'uid':'2','name':'b'},{'uid':'1','controller':true}]}}", &t_is,
       "{'metadata':{'ownerReferences':[{'uid':'1','name':'a','controller':true},{'uid':'2','name':'b'}]}}");
    /* list absent in target: directives processed, deletes ignored */
    ok("{'spec':{}}", "{'spec':{'tags':[{'name':'a'},{'$patch':'delete','name':'zz'}]}}", &t_is,
       "{'spec':{'tags':[{'name':'a'}]}}");
}

static void test_primitive_set(void **s)
{
    ok("{'metadata':{'finalizers':['a','b']}}", "{'metadata':{'finalizers':['b','c']}}", &t_is,
       "{'metadata':{'finalizers':['a','b','c']}}");
    ok("{'metadata':{'finalizers':['a','b','c']}}",
       "{'metadata':{'$deleteFromPrimitiveList/finalizers':['b','zz']}}", &t_is,
       "{'metadata':{'finalizers':['a','c']}}");
    /* order directive alone reorders; a server-only item goes before the first ordered
     * item that follows it in live order (apimachinery mergeSortedSlice) */
    ok("{'metadata':{'finalizers':['a','b','c']}}", "{'metadata':{'$setElementOrder/finalizers':['c','a']}}", &t_is,
       "{'metadata':{'finalizers':['b','c','a']}}");
}

static void test_element_order_with_server_only(void **s)
{
    /* server-only "s" (live index 1) is placed before "b" (live index 2) */
    ok("{'spec':{'tags':[{'name':'a'},{'name':'s'},{'name':'b'}]}}",
       "{'spec':{'$setElementOrder/tags':[{'name':'b'},{'name':'a'},{'name':'n'}],'tags':[{'name':'n'}]}}", &t_is,
       "{'spec':{'tags':[{'name':'s'},{'name':'b'},{'name':'a'},{'name':'n'}]}}");
    /* server-only item after all ordered ones in live order stays last */
    ok("{'spec':{'tags':[{'name':'a'},{'name':'b'},{'name':'s'}]}}",
       "{'spec':{'$setElementOrder/tags':[{'name':'b'},{'name':'a'}]}}", &t_is,
       "{'spec':{'tags':[{'name':'b'},{'name':'a'},{'name':'s'}]}}");
}

static void test_replace_and_delete_directives(void **s)
{
    /* $patch: replace as a list element replaces the whole list */
    ok("{'spec':{'tags':[{'name':'a'},{'name':'b'}]}}",
       "{'spec':{'tags':[{'name':'c','reference':true},{'$patch':'replace'}]}}", &t_is,
       "{'spec':{'tags':[{'name':'c','reference':true}]}}");
    /* $patch: replace on a map */
    ok("{'metadata':{'labels':{'a':'1','b':'2'}}}", "{'metadata':{'labels':{'$patch':'replace','c':'3'}}}", &t_is,
       "{'metadata':{'labels':{'c':'3'}}}");
    /* $patch: delete on a map removes it */
    ok("{'metadata':{'name':'x','labels':{'a':'1'}}}", "{'metadata':{'labels':{'$patch':'delete'}}}", &t_is,
       "{'metadata':{'name':'x'}}");
    /* $patch: merge is the default */
    ok("{'metadata':{'labels':{'a':'1'}}}", "{'metadata':{'labels':{'$patch':'merge','b':'2'}}}", &t_is,
       "{'metadata':{'labels':{'a':'1','b':'2'}}}");
    /* $retainKeys drops keys not listed */
    ok("{'spec':{'lookupPolicy':{'local':true},'dockerImageRepository':'r','tags':[]}}",
       "{'spec':{'$retainKeys':['tags','lookupPolicy'],'lookupPolicy':{'local':false}}}", &t_is,
       "{'spec':{'lookupPolicy':{'local':false},'tags':[]}}");
}

static void test_replace_strategy_and_atomic(void **s)
{
    /* dockerImageMetadata has patchStrategy replace: no deep merge */
    ok("{'dockerImageMetadata':{'a':1,'b':{'c':2}}}", "{'dockerImageMetadata':{'b':{'d':3}}}", &t_image,
       "{'dockerImageMetadata':{'b':{'d':3}}}");
    /* lists without merge strategy are replaced */
    ok("{'dockerImageLayers':[{'name':'a'},{'name':'b'}]}", "{'dockerImageLayers':[{'name':'c'}]}", &t_image,
       "{'dockerImageLayers':[{'name':'c'}]}");
    /* signatures merge by name */
    ok("{'signatures':[{'name':'s1','type':'atomic'}]}", "{'signatures':[{'name':'s1','content':'eA=='},{'name':'s2'}]}",
       &t_image, "{'signatures':[{'name':'s1','type':'atomic','content':'eA=='},{'name':'s2'}]}");
}

static void test_unknown_fields_like_merge_patch(void **s)
{
    ok("{'spec':{'extra':{'a':[1,2],'b':1}}}", "{'spec':{'extra':{'a':[3],'b':null,'c':{'d':null}}}}", &t_is,
       "{'spec':{'extra':{'a':[3],'c':{}}}}");
    /* no schema at all */
    ok("{'a':{'b':1},'l':[1]}", "{'a':{'c':2},'l':[2]}", NULL, "{'a':{'b':1,'c':2},'l':[2]}");
    /* top-level null deletes */
    ok("{'a':1,'b':2}", "{'a':null}", &t_is, "{'b':2}");
}

static void test_errors(void **s)
{
    bad("{}", "{'metadata':{'$foo':1}}", "unknown directive $foo");
    bad("{}", "{'metadata':{'labels':{'$patch':'frob'}}}", "unknown patch type: frob in map");
    bad("{'spec':{'tags':[]}}", "{'spec':{'tags':[{'$patch':'frob','name':'a'}]}}", "unknown patch type: frob in list");
    bad("{'spec':{'tags':[]}}", "{'spec':{'tags':[{'from':{}}]}}",
        "map: {\"from\":{}} does not contain declared merge key: name");
    bad("{'spec':{'tags':[]}}", "{'spec':{'tags':['x']}}", "list element is not a map");
    bad("{}", "{'metadata':{'$deleteFromPrimitiveList/finalizers':'x'}}", "invalid $deleteFromPrimitiveList list");
    apierr_t err = APIERR_INIT;
    json_t *t = J("{}"), *p = J("[1]");
    assert_null(patch_strategic(t, p, &t_is, &err));
    assert_int_equal(err.kind, APIERR_BAD_REQUEST);
    apierr_clear(&err);
    json_decref(t);
    json_decref(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kubectl_csa_body),
        cmocka_unit_test(test_keyed_merge),
        cmocka_unit_test(test_primitive_set),
        cmocka_unit_test(test_element_order_with_server_only),
        cmocka_unit_test(test_replace_and_delete_directives),
        cmocka_unit_test(test_replace_strategy_and_atomic),
        cmocka_unit_test(test_unknown_fields_like_merge_patch),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
