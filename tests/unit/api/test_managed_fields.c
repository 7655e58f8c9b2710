#include "patch_test_util.h"

#define T0 "2024-01-01T00:00:00Z"
#define T1 "2024-01-02T00:00:00Z"

static void test_fieldset_from_object(void **s)
{
    json_t *o = J("{'apiVersion':'image.openshift.io/v1','kind':'ImageStream',"
                  "'metadata':{'name':'foo','namespace':'ns','uid':'u','resourceVersion':'5','generation':1,"
                  "'creationTimestamp':'" T0 "','managedFields':[],'labels':{'app':'x'},'finalizers':['a/b'],"
                  "'ownerReferences':[{'uid':'1','name':'o'}]},"
                  "'spec':{'lookupPolicy':{'local':false},'tags':[{'name':'latest','from':{'kind':'DockerImage',"
                  "'name':'quay.io/foo/bar:v2'},'importPolicy':{}}]},"
                  "'status':{'dockerImageRepository':'r'}}");
    json_t *fs = fieldset_from_object(o, &t_is, false);
    assert_json(fs, "{'f:metadata':{'f:finalizers':{'v:\\'a/b\\'':{}},'f:labels':{'f:app':{}},"
                    "'f:ownerReferences':{'k:{\\'uid\\':\\'1\\'}':{'.':{},'f:name':{},'f:uid':{}}}},"
                    "'f:spec':{'f:lookupPolicy':{'f:local':{}},'f:tags':{'k:{\\'name\\':\\'latest\\'}':"
                    "{'.':{},'f:from':{'f:kind':{},'f:name':{}},'f:importPolicy':{},'f:name':{}}}}}");
    fs = fieldset_from_object(o, &t_is, true);
    json_t *st = json_incref(json_object_get(fs, "f:status"));
    json_decref(fs);
    assert_json(st, "{'f:dockerImageRepository':{}}");
    json_decref(o);
}

static void test_fieldset_encoding_order(void **s)
{
    /* "." first, then f: sorted, then k:, as structured-merge-diff serialises */
    json_t *o = J("{'spec':{'tags':[{'name':'b','reference':true},{'name':'a'}]},'metadata':{'labels':{'z':'1','a':'2'}}}");
    json_t *fs = fieldset_from_object(o, &t_is, false);
    char *d = json_dumps(fs, JSON_COMPACT);
    assert_string_equal(d, "{\"f:metadata\":{\"f:labels\":{\"f:a\":{},\"f:z\":{}}},\"f:spec\":{\"f:tags\":{"
                           "\"k:{\\\"name\\\":\\\"a\\\"}\":{\".\":{},\"f:name\":{}},"
                           "\"k:{\\\"name\\\":\\\"b\\\"}\":{\".\":{},\"f:name\":{},\"f:reference\":{}}}}}");
    free(d);
    json_decref(fs);
    json_decref(o);
}

static void test_atomic_and_unknown(void **s)
{
    /* atomic list and free-form values are leaves; unknown maps are walked */
    json_t *o = J("{'dockerImageMetadata':{'a':{'b':1}},'dockerImageLayers':[{'name':'l'}],'extra':{'x':{'y':1}}}");
    assert_json(fieldset_from_object(o, &t_image, false),
                "{'f:dockerImageMetadata':{},'f:dockerImageLayers':{},'f:extra':{'.':{},'f:x':{'.':{},'f:y':{}}}}");
    json_decref(o);
}

static json_t *mf(json_t *obj) { return json_object_get(json_object_get(obj, "metadata"), "managedFields"); }

#define BASE                                                                                         \
    "{'apiVersion':'image.openshift.io/v1','kind':'ImageStream','metadata':{'name':'foo','labels':{'app':'x'}}," \
    "'spec':{'lookupPolicy':{'local':false},'tags':[{'name':'latest','from':{'kind':'DockerImage','name':'i'}}]}}"

static void test_create_and_update(void **s)
{
    json_t *created = J(BASE);
    managed_fields_update(created, NULL, "kubectl-create", GV, NULL, &t_is, T0);
    assert_json(json_incref(mf(created)),
                "[{'manager':'kubectl-create','operation':'Update','apiVersion':'image.openshift.io/v1','time':'" T0 "',"
                "'fieldsType':'FieldsV1','fieldsV1':{'f:metadata':{'f:labels':{'f:app':{}}},'f:spec':{"
                "'f:lookupPolicy':{'f:local':{}},'f:tags':{'k:{\\'name\\':\\'latest\\'}':{'.':{},"
                "'f:from':{'f:kind':{},'f:name':{}},'f:name':{}}}}}}]");

    /* kubectl-edit flips local and adds a label: those fields move to it */
    json_t *edited = json_deep_copy(created);
    json_object_set_new(json_object_get(json_object_get(edited, "spec"), "lookupPolicy"), "local", json_true());
    json_object_set_new(json_object_get(json_object_get(edited, "metadata"), "labels"), "edited", json_string("yes"));
    managed_fields_update(edited, created, "kubectl-edit", GV, NULL, &t_is, T1);
    assert_json(json_incref(mf(edited)),
                "[{'manager':'kubectl-create','operation':'Update','apiVersion':'image.openshift.io/v1','time':'" T0 "',"
                "'fieldsType':'FieldsV1','fieldsV1':{'f:metadata':{'f:labels':{'f:app':{}}},'f:spec':{"
                "'f:tags':{'k:{\\'name\\':\\'latest\\'}':{'.':{},'f:from':{'f:kind':{},'f:name':{}},'f:name':{}}}}}},"
                "{'manager':'kubectl-edit','operation':'Update','apiVersion':'image.openshift.io/v1','time':'" T1 "',"
                "'fieldsType':'FieldsV1','fieldsV1':{'f:metadata':{'f:labels':{'f:edited':{}}},"
                "'f:spec':{'f:lookupPolicy':{'f:local':{}}}}}]");

    /* a no-op update changes nothing (no new timestamp, no new entry) */
    json_t *same = json_deep_copy(edited);
    json_t *before = json_deep_copy(mf(edited));
    managed_fields_update(same, edited, "kubectl-replace", GV, NULL, &t_is, "2030-01-01T00:00:00Z");
    assert_true(json_equal(mf(same), before));
    json_decref(before);
    json_decref(same);

    /* removing the tag takes it out of everybody's set (an empty list is not a field);
     * kubectl-create's entry remains for app */
    json_t *removed = json_deep_copy(edited);
    json_object_set_new(json_object_get(removed, "spec"), "tags", json_array());
    managed_fields_update(removed, edited, "kubectl-edit", GV, NULL, &t_is, T1);
    json_t *l = mf(removed);
    assert_int_equal(json_array_size(l), 2);
    assert_json(json_incref(json_object_get(json_array_get(l, 0), "fieldsV1")), "{'f:metadata':{'f:labels':{'f:app':{}}}}");
    assert_json(json_incref(json_object_get(json_array_get(l, 1), "fieldsV1")),
                "{'f:metadata':{'f:labels':{'f:edited':{}}},'f:spec':{'f:lookupPolicy':{'f:local':{}}}}");

    /* a manager taking over every field of another drops that entry */
    json_t *takeover = json_deep_copy(removed);
    json_object_set_new(json_object_get(json_object_get(takeover, "metadata"), "labels"), "app", json_string("y"));
    managed_fields_update(takeover, removed, "kubectl-label", GV, NULL, &t_is, T1);
    l = mf(takeover);
    assert_int_equal(json_array_size(l), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(l, 0), "manager")), "kubectl-edit");
    assert_string_equal(json_string_value(json_object_get(json_array_get(l, 1), "manager")), "kubectl-label");

    json_decref(takeover);
    json_decref(removed);
    json_decref(edited);
    json_decref(created);
}

static void test_status_subresource(void **s)
{
    json_t *old = J(BASE);
    managed_fields_update(old, NULL, "kubectl-create", GV, NULL, &t_is, T0);
    json_t *nw = json_deep_copy(old);
    json_object_set_new(nw, "status", J("{'dockerImageRepository':'r','tags':[{'tag':'latest','items':[]}]}"));
    managed_fields_update(nw, old, "image-controller", GV, "status", &t_is, T1);
    json_t *l = mf(nw);
    assert_int_equal(json_array_size(l), 2);
    assert_json(json_incref(json_array_get(l, 1)),
                "{'manager':'image-controller','operation':'Update','apiVersion':'image.openshift.io/v1','time':'" T1 "',"
                "'fieldsType':'FieldsV1','fieldsV1':{'f:status':{'f:dockerImageRepository':{},'f:tags':{"
                "'k:{\\'tag\\':\\'latest\\'}':{'.':{},'f:items':{},'f:tag':{}}}}},'subresource':'status'}");
    /* same manager on the main resource is a separate entry */
    json_t *nw2 = json_deep_copy(nw);
    json_object_set_new(json_object_get(nw2, "spec"), "dockerImageRepository", json_string("d"));
    managed_fields_update(nw2, nw, "image-controller", GV, NULL, &t_is, T1);
    l = mf(nw2);
    assert_int_equal(json_array_size(l), 3);
    assert_null(json_object_get(json_array_get(l, 2), "subresource"));
    json_decref(nw2);
    json_decref(nw);
    json_decref(old);
}

static void test_client_supplied_managed_fields(void **s)
{
    /* kubectl's migration replaces managedFields; with no field change the list is kept as sent */
    json_t *old = J(BASE);
    managed_fields_update(old, NULL, "kubectl-client-side-apply", GV, NULL, &t_is, T0);
    json_t *nw = json_deep_copy(old);
    json_object_set_new(json_object_get(nw, "metadata"), "managedFields",
                        J("[{'manager':'kubectl','operation':'Apply','apiVersion':'image.openshift.io/v1','time':'" T0
                          "','fieldsType':'FieldsV1','fieldsV1':{'f:spec':{'f:lookupPolicy':{'f:local':{}}}}}]"));
    managed_fields_update(nw, old, "kubectl", GV, NULL, &t_is, T1);
    assert_json(json_incref(mf(nw)),
                "[{'manager':'kubectl','operation':'Apply','apiVersion':'image.openshift.io/v1','time':'" T0
                "','fieldsType':'FieldsV1','fieldsV1':{'f:spec':{'f:lookupPolicy':{'f:local':{}}}}}]");
    json_decref(nw);
    json_decref(old);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fieldset_from_object),
        cmocka_unit_test(test_fieldset_encoding_order),
        cmocka_unit_test(test_atomic_and_unknown),
        cmocka_unit_test(test_create_and_update),
        cmocka_unit_test(test_status_subresource),
        cmocka_unit_test(test_client_supplied_managed_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
