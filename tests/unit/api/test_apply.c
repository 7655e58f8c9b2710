#include "patch_test_util.h"

#define T0 "2024-01-01T00:00:00Z"
#define T1 "2024-01-02T00:00:00Z"

#define HDR "'apiVersion':'image.openshift.io/v1','kind':'ImageStream'"

static json_t *mf(json_t *obj) { return json_object_get(json_object_get(obj, "metadata"), "managedFields"); }

static json_t *entry(json_t *obj, const char *manager, const char *op)
{
    size_t i;
    json_t *e;
    json_array_foreach(mf(obj), i, e)
        if (!strcmp(json_string_value(json_object_get(e, "manager")), manager) &&
            !strcmp(json_string_value(json_object_get(e, "operation")), op))
            return e;
    return NULL;
}

static json_t *apply(const json_t *live, const char *cfg, const char *mgr, bool force, apierr_t *err)
{
    json_t *c = J(cfg);
    json_t *res = patch_apply(live, c, mgr, force, GV, &t_is, T1, err);
    json_decref(c);
    return res;
}

/* A live stream created by client-side apply: kubectl-client-side-apply owns everything. */
static json_t *csa_live(void)
{
    json_t *o = J("{" HDR ",'metadata':{'name':'foo','namespace':'ns','uid':'u','resourceVersion':'7'},"
                  "'spec':{'lookupPolicy':{'local':false},'tags':[{'name':'latest','from':{'kind':'DockerImage',"
                  "'name':'quay.io/foo/bar:v1'}}]}}");
    managed_fields_update(o, NULL, "kubectl-client-side-apply", GV, NULL, &t_is, T0);
    return o;
}

static void test_create(void **s)
{
    apierr_t err = APIERR_INIT;
    json_t *res = apply(NULL, "{" HDR ",'metadata':{'name':'foo','namespace':'ns','labels':{'app':'x'}},"
                              "'spec':{'lookupPolicy':{'local':true}},'status':{'dockerImageRepository':'x'}}",
                        "kubectl", false, &err);
    assert_non_null(res);
    assert_json(res, "{" HDR ",'metadata':{'name':'foo','namespace':'ns','labels':{'app':'x'},'managedFields':["
                     "{'manager':'kubectl','operation':'Apply','apiVersion':'image.openshift.io/v1','time':'" T1 "',"
                     "'fieldsType':'FieldsV1','fieldsV1':{'f:metadata':{'f:labels':{'f:app':{}}},"
                     "'f:spec':{'f:lookupPolicy':{'f:local':{}}}}}]},'spec':{'lookupPolicy':{'local':true}}}");
}

static void test_conflict_message(void **s)
{
    json_t *live = csa_live();
    apierr_t err = APIERR_INIT;
    json_t *res = apply(live, "{" HDR ",'metadata':{'name':'foo','namespace':'ns'},'spec':{'lookupPolicy':{'local':true}}}",
                        "kubectl", false, &err);
    assert_null(res);
    assert_int_equal(err.kind, APIERR_CONFLICT);
    assert_string_equal(err.message, "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using "
                                     "image.openshift.io/v1: .spec.lookupPolicy.local");
    assert_json(json_incref(err.details),
                "{'causes':[{'reason':'FieldManagerConflict','message':'conflict with \\'kubectl-client-side-apply\\' "
                "using image.openshift.io/v1','field':'.spec.lookupPolicy.local'}]}");
    apierr_clear(&err);

    /* two conflicts: plural wording, grouped per manager */
    res = apply(live, "{" HDR ",'metadata':{'name':'foo'},'spec':{'lookupPolicy':{'local':true},"
                      "'tags':[{'name':'latest','from':{'kind':'DockerImage','name':'quay.io/foo/bar:v9'}}]}}",
                "kubectl", false, &err);
    assert_null(res);
    assert_string_equal(err.message,
                        "Apply failed with 2 conflicts: conflicts with \"kubectl-client-side-apply\" using image.openshift.io/v1:\n"
                        "- .spec.lookupPolicy.local\n"
                        "- .spec.tags[name=\"latest\"].from.name");
    assert_int_equal(json_array_size(json_object_get(err.details, "causes")), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(err.details, "causes"), 1), "field")),
                        ".spec.tags[name=\"latest\"].from.name");
    apierr_clear(&err);
    json_decref(live);
}

static void test_same_value_shares_ownership(void **s)
{
    json_t *live = csa_live();
    apierr_t err = APIERR_INIT;
    json_t *res = apply(live, "{" HDR ",'metadata':{'name':'foo'},'spec':{'lookupPolicy':{'local':false}}}", "kubectl",
                        false, &err);
    assert_non_null(res);
    json_t *csa = entry(res, "kubectl-client-side-apply", "Update");
    assert_non_null(csa);
    assert_non_null(json_object_get(json_object_get(json_object_get(json_object_get(csa, "fieldsV1"), "f:spec"),
                                                    "f:lookupPolicy"), "f:local"));
    assert_json(json_incref(json_object_get(entry(res, "kubectl", "Apply"), "fieldsV1")),
                "{'f:spec':{'f:lookupPolicy':{'f:local':{}}}}");
    /* tags untouched: apply merges, it does not replace */
    assert_int_equal(json_array_size(json_object_get(json_object_get(res, "spec"), "tags")), 1);
    json_decref(res);
    json_decref(live);
}

static void test_force_moves_ownership(void **s)
{
    json_t *live = csa_live();
    apierr_t err = APIERR_INIT;
    json_t *res = apply(live, "{" HDR ",'metadata':{'name':'foo'},'spec':{'lookupPolicy':{'local':true}}}", "kubectl",
                        true, &err);
    assert_non_null(res);
    assert_true(json_is_true(json_object_get(json_object_get(json_object_get(res, "spec"), "lookupPolicy"), "local")));
    assert_json(json_incref(json_object_get(entry(res, "kubectl-client-side-apply", "Update"), "fieldsV1")),
                "{'f:spec':{'f:tags':{'k:{\\'name\\':\\'latest\\'}':{'.':{},'f:from':{'f:kind':{},'f:name':{}},'f:name':{}}}}}");
    /* server fields untouched */
    assert_string_equal(json_string_value(json_object_get(json_object_get(res, "metadata"), "uid")), "u");
    assert_string_equal(json_string_value(json_object_get(json_object_get(res, "metadata"), "resourceVersion")), "7");
    json_decref(res);
    json_decref(live);
}

static void test_prune_dropped_fields(void **s)
{
    apierr_t err = APIERR_INIT;
    json_t *v1 = apply(NULL, "{" HDR ",'metadata':{'name':'foo','labels':{'a':'1','b':'2'},'finalizers':['x/y','z/w']},"
                             "'spec':{'tags':[{'name':'latest','reference':true},{'name':'v2'}]}}",
                       "kubectl", false, &err);
    assert_non_null(v1);
    /* another manager adds a tag and also sets label b */
    json_t *v2 = json_deep_copy(v1);
    json_array_append_new(json_object_get(json_object_get(v2, "spec"), "tags"), J("{'name':'other'}"));
    json_object_set_new(json_object_get(json_object_get(v2, "metadata"), "labels"), "c", json_string("3"));
    managed_fields_update(v2, v1, "kubectl-edit", GV, NULL, &t_is, T0);
    /* kubectl applies again without v2, without labels a/c and finalizer z/w, and without tag reference */
    json_t *v3 = apply(v2, "{" HDR ",'metadata':{'name':'foo','labels':{'b':'2'},'finalizers':['x/y']},"
                           "'spec':{'tags':[{'name':'latest'},{'name':'v4'}]}}",
                       "kubectl", false, &err);
    assert_non_null(v3);
    json_t *meta = json_object_get(v3, "metadata");
    assert_json(json_incref(json_object_get(meta, "labels")), "{'b':'2','c':'3'}");
    assert_json(json_incref(json_object_get(meta, "finalizers")), "['x/y']");
    assert_json(json_incref(json_object_get(v3, "spec")),
                "{'tags':[{'name':'latest'},{'name':'other'},{'name':'v4'}]}");
    assert_json(json_incref(json_object_get(entry(v3, "kubectl", "Apply"), "fieldsV1")),
                "{'f:metadata':{'f:finalizers':{'v:\\'x/y\\'':{}},'f:labels':{'f:b':{}}},'f:spec':{'f:tags':{"
                "'k:{\\'name\\':\\'latest\\'}':{'.':{},'f:name':{}},'k:{\\'name\\':\\'v4\\'}':{'.':{},'f:name':{}}}}}");
    /* entry order is stable: kubectl first, kubectl-edit second */
    assert_string_equal(json_string_value(json_object_get(json_array_get(mf(v3), 0), "manager")), "kubectl");
    json_decref(v3);
    json_decref(v2);
    json_decref(v1);
}

static void test_field_owned_elsewhere_is_kept(void **s)
{
    apierr_t err = APIERR_INIT;
    json_t *v1 = apply(NULL, "{" HDR ",'metadata':{'name':'foo'},'spec':{'dockerImageRepository':'r'}}", "a", false, &err);
    json_t *v2 = apply(v1, "{" HDR ",'metadata':{'name':'foo'},'spec':{'dockerImageRepository':'r'}}", "b", false, &err);
    assert_non_null(v2);
    json_t *v3 = apply(v2, "{" HDR ",'metadata':{'name':'foo'}}", "a", false, &err);
    assert_non_null(v3);
    assert_json(json_incref(json_object_get(v3, "spec")), "{'dockerImageRepository':'r'}");
    assert_null(entry(v3, "a", "Apply")); /* nothing applied any more */
    json_t *v4 = apply(v3, "{" HDR ",'metadata':{'name':'foo'}}", "b", false, &err);
    assert_json(json_incref(json_object_get(v4, "spec")), "{}");
    /* an Apply manager is printed without "using" */
    json_t *v5 = apply(v2, "{" HDR ",'metadata':{'name':'foo'},'spec':{'dockerImageRepository':'q'}}", "c", false, &err);
    assert_null(v5);
    assert_string_equal(err.message, "Apply failed with 2 conflicts: conflicts with \"a\":\n- .spec.dockerImageRepository\n"
                                     "conflicts with \"b\":\n- .spec.dockerImageRepository");
    apierr_clear(&err);
    json_decref(v4);
    json_decref(v3);
    json_decref(v2);
    json_decref(v1);
}

/* A dropped list element survives while another manager owns a field inside it; the
 * applier's own fields in it still go. */
static void test_prune_keeps_elements_owned_inside(void **s)
{
    apierr_t err = APIERR_INIT;
    json_t *v1 = apply(NULL, "{" HDR ",'metadata':{'name':'foo'},'spec':{'tags':[{'name':'a','reference':true},{'name':'b'}]}}",
                       "kubectl", false, &err);
    json_t *v2 = json_deep_copy(v1);
    json_object_set_new(json_array_get(json_object_get(json_object_get(v2, "spec"), "tags"), 0), "generation",
                        json_integer(5));
    managed_fields_update(v2, v1, "controller", GV, NULL, &t_is, T0);
    json_t *v3 = apply(v2, "{" HDR ",'metadata':{'name':'foo'},'spec':{'tags':[{'name':'b'}]}}", "kubectl", false, &err);
    assert_non_null(v3);
    assert_json(json_incref(json_object_get(v3, "spec")), "{'tags':[{'name':'a','generation':5},{'name':'b'}]}");
    json_decref(v3);
    json_decref(v2);
    json_decref(v1);
}

/* ---- switching between client-side apply and server-side apply by kubectl ---- */

#define LAST "kubectl.kubernetes.io/last-applied-configuration"
/* What `kubectl apply -f` of this manifest stores in the annotation. */
#define CSA_CFG "{\"apiVersion\":\"image.openshift.io/v1\",\"kind\":\"ImageStream\",\"metadata\":{\"annotations\":{}," \
                "\"labels\":{\"app\":\"x\"},\"name\":\"foo\",\"namespace\":\"ns\"},\"spec\":{\"lookupPolicy\":" \
                "{\"local\":false},\"tags\":[{\"from\":{\"kind\":\"DockerImage\",\"name\":\"quay.io/foo/bar:v1\"}," \
                "\"name\":\"latest\"}]}}\n"

static const char *ann(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(json_object_get(json_object_get(obj, "metadata"), "annotations"), key));
}

/* Created by `kubectl apply -f`: the manifest, its annotation, kubectl-client-side-apply owning all. */
static json_t *csa_live_annotated(const char *last_applied)
{
    json_t *o = J("{" HDR ",'metadata':{'name':'foo','namespace':'ns','uid':'u','resourceVersion':'7','labels':{'app':'x'}},"
                  "'spec':{'lookupPolicy':{'local':false},'tags':[{'name':'latest','from':{'kind':'DockerImage',"
                  "'name':'quay.io/foo/bar:v1'}}]}}");
    json_t *a = json_object();
    json_object_set_new(a, LAST, json_string(last_applied));
    json_object_set_new(json_object_get(o, "metadata"), "annotations", a);
    managed_fields_update(o, NULL, "kubectl-client-side-apply", GV, NULL, &t_is, T0);
    return o;
}

/* Another manager changes live, as `kubectl label` or a merge patch would. */
static json_t *changed_by(const json_t *live, const char *manager, const char *merge_patch)
{
    json_t *p = J(merge_patch);
    json_t *o = patch_merge(live, p);
    managed_fields_update(o, live, manager, GV, NULL, &t_is, T0);
    json_decref(p);
    return o;
}

#define SSA_V2 "{" HDR ",'metadata':{'name':'foo','namespace':'ns','labels':{'app':'x'}},'spec':{'lookupPolicy':{'local':true}," \
               "'tags':[{'name':'latest','from':{'kind':'DockerImage','name':'quay.io/foo/bar:v2'}}]}}"

static void test_csa_fields_move_to_kubectl(void **s)
{
    json_t *live = csa_live_annotated(CSA_CFG);
    apierr_t err = APIERR_INIT;
    json_t *res = apply(live, SSA_V2, "kubectl", false, &err);
    assert_non_null(res);
    assert_json(json_incref(json_object_get(res, "spec")),
                "{'lookupPolicy':{'local':true},'tags':[{'name':'latest','from':{'kind':'DockerImage','name':'quay.io/foo/bar:v2'}}]}");
    /* the changed fields are kubectl's alone now; unchanged ones are shared */
    assert_json(json_incref(json_object_get(entry(res, "kubectl-client-side-apply", "Update"), "fieldsV1")),
                "{'f:metadata':{'f:annotations':{'f:" LAST "':{}},'f:labels':{'f:app':{}}},"
                "'f:spec':{'f:tags':{'k:{\\'name\\':\\'latest\\'}':{'.':{},'f:from':{'f:kind':{}},'f:name':{}}}}}");
    assert_json(json_incref(json_object_get(entry(res, "kubectl", "Apply"), "fieldsV1")),
                "{'f:metadata':{'f:labels':{'f:app':{}}},'f:spec':{'f:lookupPolicy':{'f:local':{}},"
                "'f:tags':{'k:{\\'name\\':\\'latest\\'}':{'.':{},'f:from':{'f:kind':{},'f:name':{}},'f:name':{}}}}}");
    /* the annotation is what was applied, encoded as kube does */
    assert_string_equal(ann(res, LAST),
                        "{\"apiVersion\":\"image.openshift.io/v1\",\"kind\":\"ImageStream\",\"metadata\":{\"labels\":"
                        "{\"app\":\"x\"},\"name\":\"foo\",\"namespace\":\"ns\"},\"spec\":{\"lookupPolicy\":{\"local\":true},"
                        "\"tags\":[{\"from\":{\"kind\":\"DockerImage\",\"name\":\"quay.io/foo/bar:v2\"},\"name\":\"latest\"}]}}\n");
    json_decref(res);
    json_decref(live);
}

/* A field changed since the last client-side apply is not the annotation's: it conflicts
 * with whoever owns it, and only it is reported; --force-conflicts takes everything. */
static void test_csa_fields_changed_since_conflict(void **s)
{
    json_t *live = csa_live_annotated(CSA_CFG);
    apierr_t err = APIERR_INIT;

    json_t *lab = changed_by(live, "kubectl-label", "{'metadata':{'labels':{'app':'y'}}}");
    json_t *res = apply(lab, SSA_V2, "kubectl", false, &err);
    assert_null(res);
    assert_int_equal(err.kind, APIERR_CONFLICT);
    assert_string_equal(err.message, "Apply failed with 1 conflict: conflict with \"kubectl-label\" using "
                                     "image.openshift.io/v1: .metadata.labels.app");
    assert_int_equal(json_array_size(json_object_get(err.details, "causes")), 1);
    apierr_clear(&err);
    res = apply(lab, SSA_V2, "kubectl", true, &err);
    assert_non_null(res);
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(res, "metadata"), "labels"), "app")),
                        "x");
    assert_null(entry(res, "kubectl-label", "Update"));
    assert_non_null(strstr(ann(res, LAST), "bar:v2"));
    json_decref(res);

    /* changed under the client-side apply manager itself, annotation left stale */
    json_t *mp = changed_by(live, "kubectl-client-side-apply", "{'spec':{'lookupPolicy':{'local':true}}}");
    const char *v3 = "{" HDR ",'metadata':{'name':'foo','labels':{'app':'x'}},'spec':{'lookupPolicy':{'local':false},"
                     "'tags':[{'name':'latest','from':{'kind':'DockerImage','name':'quay.io/foo/bar:v3'}}]}}";
    assert_null(apply(mp, v3, "kubectl", false, &err));
    assert_string_equal(err.message, "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using "
                                     "image.openshift.io/v1: .spec.lookupPolicy.local");
    apierr_clear(&err);

    /* a tag gone since is no one's: applying it back is no conflict */
    json_t *gone = changed_by(live, "someone", "{'spec':{'tags':null}}");
    res = apply(gone, SSA_V2, "kubectl", false, &err);
    assert_non_null(res);
    json_decref(res);

    json_decref(gone);
    json_decref(mp);
    json_decref(lab);
    json_decref(live);
}

/* Only the manager "kubectl" gets the bridge; a last-applied of another apiVersion (or
 * none, test_conflict_message) gives none either. */
static void test_csa_bridge_limits(void **s)
{
    json_t *live = csa_live_annotated(CSA_CFG);
    apierr_t err = APIERR_INIT;
    assert_null(apply(live, SSA_V2, "other", false, &err));
    assert_non_null(strstr(err.message, "Apply failed with 2 conflicts"));
    apierr_clear(&err);
    json_t *res = apply(live, SSA_V2, "other", true, &err);
    assert_non_null(res);
    assert_string_equal(ann(res, LAST), CSA_CFG); /* not kept up to date for "other" */
    json_decref(res);
    json_decref(live);

    char *old_gv = strdup(CSA_CFG);
    memcpy(strstr(old_gv, "/v1\""), "/v0\"", 4);
    live = csa_live_annotated(old_gv);
    assert_null(apply(live, SSA_V2, "kubectl", false, &err));
    assert_non_null(strstr(err.message, "Apply failed with 2 conflicts"));
    apierr_clear(&err);
    json_decref(live);
    free(old_gv);
}

/* The annotation follows kubectl's applies when it is there, and only then. */
static void test_ssa_keeps_last_applied(void **s)
{
    apierr_t err = APIERR_INIT;
    json_t *plain = apply(NULL, "{" HDR ",'metadata':{'name':'foo'},'spec':{'lookupPolicy':{'local':true}}}", "kubectl",
                          false, &err);
    json_t *res = apply(plain, "{" HDR ",'metadata':{'name':'foo'},'spec':{'lookupPolicy':{'local':false}}}", "kubectl",
                        false, &err);
    assert_null(ann(res, LAST)); /* never added */
    json_decref(res);
    json_decref(plain);

    json_t *live = csa_live_annotated(CSA_CFG);
    /* other annotations stay in it (minus itself, which only a forced apply may set: it is
     * client-side apply's), keys sorted, HTML characters escaped */
    res = apply(live, "{" HDR ",'metadata':{'name':'foo','annotations':{'" LAST "':'stale','z':'<a&b>'}},"
                      "'status':{'dockerImageRepository':'r'}}",
                "kubectl", true, &err);
    assert_non_null(res);
    assert_string_equal(ann(res, LAST), "{\"apiVersion\":\"image.openshift.io/v1\",\"kind\":\"ImageStream\",\"metadata\":"
                                        "{\"annotations\":{\"z\":\"\\u003ca\\u0026b\\u003e\"},\"name\":\"foo\"},"
                                        "\"status\":{\"dockerImageRepository\":\"r\"}}\n");
    json_decref(res);

    /* too big for kube's 256 KiB of annotations: dropped rather than stored */
    size_t n = 300 * 1024;
    char *big = malloc(n + 1);
    memset(big, 'a', n);
    big[n] = 0;
    json_t *cfg = J("{" HDR ",'metadata':{'name':'foo','annotations':{}}}");
    json_object_set_new(json_object_get(json_object_get(cfg, "metadata"), "annotations"), "big", json_string(big));
    free(big);
    res = patch_apply(live, cfg, "kubectl", false, GV, &t_is, T1, &err);
    assert_non_null(res);
    assert_null(ann(res, LAST));
    assert_non_null(ann(res, "big"));
    json_decref(res);
    json_decref(cfg);
    json_decref(live);
}

static void test_bad_input(void **s)
{
    apierr_t err = APIERR_INIT;
    json_t *a = J("[1]");
    assert_null(patch_apply(NULL, a, "m", false, GV, &t_is, T1, &err));
    assert_int_equal(err.kind, APIERR_BAD_REQUEST);
    apierr_clear(&err);
    json_decref(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create),
        cmocka_unit_test(test_conflict_message),
        cmocka_unit_test(test_same_value_shares_ownership),
        cmocka_unit_test(test_force_moves_ownership),
        cmocka_unit_test(test_prune_dropped_fields),
        cmocka_unit_test(test_field_owned_elsewhere_is_kept),
        cmocka_unit_test(test_prune_keeps_elements_owned_inside),
        cmocka_unit_test(test_csa_fields_move_to_kubectl),
        cmocka_unit_test(test_csa_fields_changed_since_conflict),
        cmocka_unit_test(test_csa_bridge_limits),
        cmocka_unit_test(test_ssa_keeps_last_applied),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
