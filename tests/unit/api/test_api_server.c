/* The generic verbs, virtual kinds, subresources, authorization and watch end to end on
 * the test domain's kinds: api_new over the embedded store in a temp dir, the HTTP server
 * on 127.0.0.1:0 in this process, libcurl as the client. */
#include "test_http.h"

/* A Status with code, reason and exact message. */
static void expect_status(int code, const char *reason, const char *msg, const char *method, const char *path,
                          const char *ctype, const char *body)
{
    json_t *s = expect(code, method, path, ctype, body);
    assert_non_null(s);
    assert_string_equal(js(s, "kind"), "Status");
    assert_string_equal(js(s, "status"), "Failure");
    assert_int_equal(json_integer_value(json_object_get(s, "code")), code);
    assert_string_equal(js(s, "reason"), reason);
    if (msg && strcmp(js(s, "message"), msg) != 0)
        fail_msg("%s %s: message\n  %s\nwant\n  %s", method, path, js(s, "message"), msg);
    json_decref(s);
}

static void create_widget(const char *ns, const char *name, const char *labels, const char *type)
{
    char path[256], body[512];
    snprintf(path, sizeof path, BASE "/namespaces/%s/widgets", ns);
    snprintf(body, sizeof body, "{\"metadata\":{\"name\":\"%s\",\"labels\":{%s}},\"type\":\"%s\"}", name,
             labels ? labels : "", type);
    json_decref(expect(201, "POST", path, NULL, body));
}

static int setup(void **state)
{
    F = fx_up(true);
    *state = F;
    return 0;
}

static int teardown(void **state)
{
    fx_down(*state);
    F = NULL;
    return 0;
}

/* ---- the generic verbs ---- */

static void test_create_get(void **state)
{
    json_t *o = expect(201, "POST", NS "/widgets?fieldManager=tester", NULL,
                       "{\"kind\":\"Widget\",\"apiVersion\":\"image.openshift.io/v1\","
                       "\"metadata\":{\"name\":\"w1\",\"labels\":{\"app\":\"a\"}},\"type\":\"round\"}");
    assert_string_equal(js(o, "kind"), "Widget");
    assert_string_equal(js(o, "metadata.name"), "w1");
    assert_string_equal(js(o, "metadata.namespace"), "ns");
    assert_string_equal(js(o, "imageIdentity"), "set-by-prepare-create");   /* prepare_create ran */
    assert_string_equal(js(json_array_get(json_object_get(json_object_get(o, "metadata"), "managedFields"), 0),
                           "manager"),
                        "tester");
    char rv[32];
    snprintf(rv, sizeof rv, "%s", js(o, "metadata.resourceVersion"));
    json_t *g = expect(200, "GET", NS "/widgets/w1", NULL, NULL);
    assert_true(json_equal(g, o));
    json_decref(g);
    json_decref(o);

    /* generateName */
    o = expect(201, "POST", NS "/widgets", NULL, "{\"metadata\":{\"generateName\":\"gen-\"},\"type\":\"x\"}");
    assert_int_equal(strlen(js(o, "metadata.name")), 9);
    assert_memory_equal(js(o, "metadata.name"), "gen-", 4);
    json_decref(o);

    /* dry run: answered as if created, nothing stored */
    int64_t rev = store_current_rev(F->store);
    o = expect(201, "POST", NS "/widgets?dryRun=All", NULL, "{\"metadata\":{\"name\":\"dry\"},\"type\":\"x\"}");
    assert_string_equal(js(o, "metadata.name"), "dry");
    json_decref(o);
    assert_int_equal(store_current_rev(F->store), rev);
    expect_status(404, "NotFound", "widgets.image.openshift.io \"dry\" not found", "GET", NS "/widgets/dry", NULL,
                  NULL);
    json_t *s = expect(404, "GET", NS "/widgets/dry", NULL, NULL);
    assert_string_equal(js(s, "details.name"), "dry");
    assert_string_equal(js(s, "details.group"), "image.openshift.io");
    assert_string_equal(js(s, "details.kind"), "widgets");
    json_decref(s);

    /* the kind's validation, duplicate names, type meta */
    expect_status(422, "Invalid", "Widget.image.openshift.io \"bad\" is invalid: type: Required value", "POST",
                  NS "/widgets", NULL, "{\"metadata\":{\"name\":\"bad\"}}");
    expect_status(422, "Invalid",
                  "Widget.image.openshift.io \"bad\" is invalid: type: Invalid value: \"invalid\": must not be "
                  "\"invalid\"",
                  "POST", NS "/widgets", NULL, "{\"metadata\":{\"name\":\"bad\"},\"type\":\"invalid\"}");
    expect_status(409, "AlreadyExists", "widgets.image.openshift.io \"w1\" already exists", "POST", NS "/widgets",
                  NULL, "{\"metadata\":{\"name\":\"w1\"},\"type\":\"x\"}");
    expect_status(400, "BadRequest", "the kind in the data (Gadget) does not match the expected kind (Widget)", "POST",
                  NS "/widgets", NULL, "{\"kind\":\"Gadget\",\"metadata\":{\"name\":\"w2\"},\"type\":\"x\"}");
    /* unserved paths and methods */
    expect_status(404, "NotFound", "the server could not find the requested resource", "GET", NS "/nothings", NULL,
                  NULL);
    expect_status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource",
                  "PATCH", BASE "/gadgets/g1", "application/merge-patch+json", "{}");
    /* a cluster-scoped kind */
    o = expect(201, "POST", BASE "/gadgets", NULL, "{\"metadata\":{\"name\":\"g1\"}}");
    assert_null(json_object_get(json_object_get(o, "metadata"), "namespace"));
    json_decref(o);
    json_decref(expect(200, "GET", BASE "/gadgets/g1", NULL, NULL));
}

static size_t names(json_t *list, char *out, size_t n)
{
    out[0] = '\0';
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(list, "items"), i, it)
        snprintf(out + strlen(out), n - strlen(out), "%s%s", i ? "," : "", js(it, "metadata.name"));
    return json_array_size(json_object_get(list, "items"));
}

static void expect_names(const char *path, const char *want)
{
    json_t *l = expect(200, "GET", path, NULL, NULL);
    char got[512];
    names(l, got, sizeof got);
    if (strcmp(got, want) != 0)
        fail_msg("GET %s: [%s], want [%s]", path, got, want);
    json_decref(l);
}

static void test_list(void **state)
{
    create_widget("ns", "w1", "\"app\":\"a\"", "round");
    create_widget("ns", "w2", "\"app\":\"b\"", "square");
    create_widget("ns2", "w3", "\"app\":\"a\"", "square");
    json_t *l = expect(200, "GET", NS "/widgets", NULL, NULL);
    assert_string_equal(js(l, "kind"), "WidgetList");
    assert_string_equal(js(l, "apiVersion"), "image.openshift.io/v1");
    assert_true(strtoll(js(l, "metadata.resourceVersion"), NULL, 10) >= 3);
    json_decref(l);
    expect_names(NS "/widgets", "w1,w2");
    expect_names(BASE "/widgets", "w1,w2,w3");
    expect_names(NS "/widgets?labelSelector=app%3Da", "w1");
    expect_names(BASE "/widgets?labelSelector=app%3Da", "w1,w3");
    expect_names(BASE "/widgets?labelSelector=app+in+(a,b),app!%3Db", "w1,w3");
    expect_names(NS "/widgets?fieldSelector=type%3Dsquare", "w2");
    expect_names(BASE "/widgets?fieldSelector=type%3Dsquare", "w2,w3");
    expect_names(BASE "/widgets?fieldSelector=metadata.namespace%3Dns2", "w3");
    expect_names(NS "/widgets?fieldSelector=metadata.name%3Dw2&labelSelector=app%3Db", "w2");
    expect_names(NS "/widgets?fieldSelector=type!%3Dsquare", "w1");
    json_decref(expect(400, "GET", NS "/widgets?fieldSelector=spec.nothing%3Dx", NULL, NULL));
    json_decref(expect(400, "GET", NS "/widgets?labelSelector=%3D%3D", NULL, NULL));
    /* pages */
    l = expect(200, "GET", BASE "/widgets?limit=2", NULL, NULL);
    assert_int_equal(json_array_size(json_object_get(l, "items")), 2);
    char path[1024];
    snprintf(path, sizeof path, BASE "/widgets?limit=2&continue=%s", js(l, "metadata.continue"));
    json_decref(l);
    expect_names(path, "w3");

    /* Table: the kind's columns and cells */
    resp_t r = req("GET", NS "/widgets", NULL, NULL, ACCEPT_TABLE_HDR);
    assert_int_equal(r.code, 200);
    assert_string_equal(js(r.json, "kind"), "Table");
    json_t *cols = json_object_get(r.json, "columnDefinitions");
    assert_int_equal(json_array_size(cols), 2);
    assert_string_equal(js(json_array_get(cols, 0), "name"), "Name");
    assert_string_equal(js(json_array_get(cols, 1), "name"), "Type");
    json_t *rows = json_object_get(r.json, "rows");
    assert_int_equal(json_array_size(rows), 2);
    json_t *cells = json_object_get(json_array_get(rows, 1), "cells");
    assert_string_equal(json_string_value(json_array_get(cells, 0)), "w2");
    assert_string_equal(json_string_value(json_array_get(cells, 1)), "square");
    assert_string_equal(js(json_object_get(json_array_get(rows, 1), "object"), "kind"), "PartialObjectMetadata");
    resp_free(&r);
    r = req("GET", NS "/widgets/w1", NULL, NULL, ACCEPT_TABLE_HDR);
    assert_int_equal(r.code, 200);
    rows = json_object_get(r.json, "rows");
    assert_int_equal(json_array_size(rows), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(json_array_get(rows, 0), "cells"), 1)),
                        "round");
    resp_free(&r);
}

static void test_update(void **state)
{
    create_widget("ns", "w1", NULL, "round");
    json_t *o = expect(200, "GET", NS "/widgets/w1", NULL, NULL);
    char rv[32];
    snprintf(rv, sizeof rv, "%s", js(o, "metadata.resourceVersion"));
    json_object_set_new(o, "type", json_string("square"));
    char *body = json_dumps(o, JSON_COMPACT);
    json_t *u = expect(200, "PUT", NS "/widgets/w1", NULL, body);
    free(body);
    assert_string_equal(js(u, "type"), "square");
    assert_true(strtoll(js(u, "metadata.resourceVersion"), NULL, 10) > strtoll(rv, NULL, 10));
    json_decref(u);
    /* the same body again: its resourceVersion is stale now */
    body = json_dumps(o, JSON_COMPACT);
    expect_status(409, "Conflict",
                  "Operation cannot be fulfilled on widgets.image.openshift.io \"w1\": the object has been modified; "
                  "please apply your changes to the latest version and try again",
                  "PUT", NS "/widgets/w1", NULL, body);
    free(body);
    /* PUT requires one */
    json_object_del(json_object_get(o, "metadata"), "resourceVersion");
    body = json_dumps(o, JSON_COMPACT);
    expect_status(422, "Invalid",
                  "widgets.image.openshift.io \"w1\" is invalid: metadata.resourceVersion: Invalid value: 0: must be "
                  "specified for an update",
                  "PUT", NS "/widgets/w1", NULL, body);
    free(body);
    expect_status(404, "NotFound", "widgets.image.openshift.io \"nope\" not found", "PUT", NS "/widgets/nope", NULL,
                  "{\"metadata\":{\"name\":\"nope\",\"resourceVersion\":\"2\"},\"type\":\"x\"}");
    expect_status(400, "BadRequest", "the name of the object (other) does not match the name on the URL (w1)", "PUT",
                  NS "/widgets/w1", NULL, "{\"metadata\":{\"name\":\"other\",\"resourceVersion\":\"2\"},\"type\":\"x\"}");
    json_decref(o);
}

static void test_patch(void **state)
{
    create_widget("ns", "w1", NULL, "round");
    json_t *o = expect(200, "PATCH", NS "/widgets/w1", "application/merge-patch+json",
                       "{\"signedClaims\":{\"a\":\"1\"},\"metadata\":{\"labels\":{\"x\":\"y\"}}}");
    assert_string_equal(js(o, "signedClaims.a"), "1");
    assert_string_equal(js(o, "metadata.labels.x"), "y");
    json_decref(o);
    o = expect(200, "PATCH", NS "/widgets/w1", "application/json-patch+json",
               "[{\"op\":\"test\",\"path\":\"/type\",\"value\":\"round\"},{\"op\":\"replace\",\"path\":\"/type\","
               "\"value\":\"hex\"}]");
    assert_string_equal(js(o, "type"), "hex");
    json_decref(o);
    json_decref(expect(422, "PATCH", NS "/widgets/w1", "application/json-patch+json",
                       "[{\"op\":\"test\",\"path\":\"/type\",\"value\":\"round\"}]"));
    /* status: conditions merge by type with a strategic patch, are replaced by a merge patch,
     * and nothing else changes through it */
    o = expect(200, "PATCH", NS "/widgets/w1/status", "application/strategic-merge-patch+json",
               "{\"conditions\":[{\"type\":\"A\",\"status\":\"True\"}]}");
    assert_int_equal(json_array_size(json_object_get(o, "conditions")), 1);
    json_decref(o);
    o = expect(200, "PATCH", NS "/widgets/w1/status", "application/strategic-merge-patch+json",
               "{\"type\":\"ignored\",\"conditions\":[{\"type\":\"B\",\"status\":\"False\"}]}");
    json_t *conds = json_object_get(o, "conditions");
    assert_int_equal(json_array_size(conds), 2);
    assert_string_equal(js(json_array_get(conds, 0), "type"), "A");
    assert_string_equal(js(json_array_get(conds, 1), "type"), "B");
    assert_string_equal(js(o, "type"), "hex");
    json_decref(o);
    o = expect(200, "PATCH", NS "/widgets/w1/status", "application/merge-patch+json",
               "{\"conditions\":[{\"type\":\"C\",\"status\":\"True\"}]}");
    assert_int_equal(json_array_size(json_object_get(o, "conditions")), 1);
    json_decref(o);
    /* ... and a main-resource write keeps them */
    o = expect(200, "PATCH", NS "/widgets/w1", "application/merge-patch+json", "{\"conditions\":null}");
    assert_int_equal(json_array_size(json_object_get(o, "conditions")), 1);
    json_decref(o);
    o = expect(200, "GET", NS "/widgets/w1/status", NULL, NULL);
    assert_string_equal(js(o, "kind"), "Widget");
    assert_string_equal(js(json_array_get(json_object_get(o, "conditions"), 0), "type"), "C");
    json_decref(o);
    expect_status(404, "NotFound", "widgets.image.openshift.io \"nope\" not found", "PATCH", NS "/widgets/nope",
                  "application/merge-patch+json", "{}");
    json_decref(expect(415, "PATCH", NS "/widgets/w1", "text/plain", "{}"));
    json_decref(expect(422, "PATCH", NS "/widgets/w1", "application/merge-patch+json", "{\"type\":\"invalid\"}"));
}

static void test_delete(void **state)
{
    create_widget("ns", "w1", NULL, "round");
    json_t *o = expect(200, "GET", NS "/widgets/w1", NULL, NULL);
    char uid[64];
    snprintf(uid, sizeof uid, "%s", js(o, "metadata.uid"));
    json_decref(o);
    expect_status(409, "Conflict", NULL, "DELETE", NS "/widgets/w1", NULL,
                  "{\"preconditions\":{\"uid\":\"not-the-uid\"}}");
    json_decref(expect(200, "DELETE", NS "/widgets/w1?dryRun=All", NULL, NULL));
    json_decref(expect(200, "GET", NS "/widgets/w1", NULL, NULL));
    json_t *s = expect(200, "DELETE", NS "/widgets/w1", NULL, NULL);
    assert_string_equal(js(s, "kind"), "Status");
    assert_string_equal(js(s, "status"), "Success");
    assert_string_equal(js(s, "details.name"), "w1");
    assert_string_equal(js(s, "details.group"), "image.openshift.io");
    assert_string_equal(js(s, "details.kind"), "widgets");
    assert_string_equal(js(s, "details.uid"), uid);
    json_decref(s);
    expect_status(404, "NotFound", "widgets.image.openshift.io \"w1\" not found", "GET", NS "/widgets/w1", NULL, NULL);
    expect_status(404, "NotFound", "widgets.image.openshift.io \"w1\" not found", "DELETE", NS "/widgets/w1", NULL,
                  NULL);
    /* deletecollection with a selector */
    create_widget("ns", "a", "\"k\":\"1\"", "x");
    create_widget("ns", "b", "\"k\":\"2\"", "x");
    json_t *l = expect(200, "DELETE", NS "/widgets?labelSelector=k%3D1", NULL, NULL);
    assert_string_equal(js(l, "kind"), "WidgetList");
    json_decref(l);
    expect_names(NS "/widgets", "b");
}

/* ---- a virtual kind and a handler subresource ---- */

static void test_virtual(void **state)
{
    create_widget("ns", "w1", NULL, "round");
    json_t *t = expect(201, "POST", NS "/widgettags", NULL,
                       "{\"kind\":\"WidgetTag\",\"metadata\":{\"name\":\"w1:t1\",\"annotations\":{\"value\":\"v1\"}}}");
    assert_string_equal(js(t, "kind"), "WidgetTag");
    assert_string_equal(js(t, "metadata.name"), "w1:t1");
    assert_string_equal(js(t, "metadata.annotations.value"), "v1");
    json_decref(t);
    /* it lives in the stored kind */
    json_t *w = expect(200, "GET", NS "/widgets/w1", NULL, NULL);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(w, "metadata"), "annotations"), TK_TAG_PREFIX "t1")),
                        "v1");
    json_decref(w);
    json_decref(expect(201, "POST", NS "/widgettags", NULL,
                       "{\"metadata\":{\"name\":\"w1:t2\",\"annotations\":{\"value\":\"v2\"}}}"));
    expect_status(409, "AlreadyExists", "widgettags.image.openshift.io \"w1:t1\" already exists", "POST",
                  NS "/widgettags", NULL, "{\"metadata\":{\"name\":\"w1:t1\"}}");
    expect_status(404, "NotFound", "widgettags.image.openshift.io \"nope:t\" not found", "POST", NS "/widgettags",
                  NULL, "{\"metadata\":{\"name\":\"nope:t\"}}");
    expect_status(400, "BadRequest", "widgettags must be named <widget>:<tag>, not \"bad\"", "POST", NS "/widgettags",
                  NULL, "{\"metadata\":{\"name\":\"bad\"}}");

    t = expect(200, "GET", NS "/widgettags/w1:t1", NULL, NULL);
    assert_string_equal(js(t, "metadata.annotations.value"), "v1");
    json_decref(t);
    expect_status(400, "BadRequest", "widgettags must be named <widget>:<tag>, not \"w1\"", "GET",
                  NS "/widgettags/w1", NULL, NULL);
    expect_status(404, "NotFound", "widgettags.image.openshift.io \"w1:none\" not found", "GET",
                  NS "/widgettags/w1:none", NULL, NULL);
    expect_status(404, "NotFound", "widgettags.image.openshift.io \"w9:t\" not found", "GET", NS "/widgettags/w9:t",
                  NULL, NULL);

    json_t *l = expect(200, "GET", NS "/widgettags", NULL, NULL);
    assert_string_equal(js(l, "kind"), "WidgetTagList");
    assert_int_equal(json_array_size(json_object_get(l, "items")), 2);
    json_decref(l);
    expect_names(NS "/widgettags?labelSelector=tag%3Dt2", "w1:t2");
    expect_names(NS "/widgettags?fieldSelector=metadata.name%3Dw1:t1", "w1:t1");
    expect_names(BASE "/namespaces/other/widgettags", "");
    resp_t r = req("GET", NS "/widgettags", NULL, NULL, ACCEPT_TABLE_HDR);
    assert_int_equal(r.code, 200);
    assert_string_equal(js(json_array_get(json_object_get(r.json, "columnDefinitions"), 1), "name"), "Value");
    json_t *cells = json_object_get(json_array_get(json_object_get(r.json, "rows"), 0), "cells");
    assert_string_equal(json_string_value(json_array_get(cells, 0)), "w1:t1");
    assert_string_equal(json_string_value(json_array_get(cells, 1)), "v1");
    resp_free(&r);

    /* update through the handler; its resourceVersion is a precondition */
    t = expect(200, "GET", NS "/widgettags/w1:t1", NULL, NULL);
    json_object_set_new(json_object_get(json_object_get(t, "metadata"), "annotations"), "value", json_string("v1b"));
    char *body = json_dumps(t, JSON_COMPACT);
    json_t *u = expect(200, "PUT", NS "/widgettags/w1:t1", NULL, body);
    assert_string_equal(js(u, "metadata.annotations.value"), "v1b");
    json_decref(u);
    expect_status(409, "Conflict", NULL, "PUT", NS "/widgettags/w1:t1", NULL, body);   /* stale now */
    free(body);
    json_decref(t);
    /* patch = get + patch + update */
    u = expect(200, "PATCH", NS "/widgettags/w1:t1", "application/merge-patch+json",
               "{\"metadata\":{\"annotations\":{\"value\":\"v1c\"}}}");
    assert_string_equal(js(u, "metadata.annotations.value"), "v1c");
    json_decref(u);
    u = expect(200, "PATCH", NS "/widgettags/w1:t2", "application/json-patch+json",
               "[{\"op\":\"replace\",\"path\":\"/metadata/annotations/value\",\"value\":\"v2b\"}]");
    assert_string_equal(js(u, "metadata.annotations.value"), "v2b");
    json_decref(u);
    json_decref(expect(415, "PATCH", NS "/widgettags/w1:t2", "application/apply-patch+yaml", "{}"));
    expect_status(404, "NotFound", "widgettags.image.openshift.io \"w1:none\" not found", "PATCH",
                  NS "/widgettags/w1:none", "application/merge-patch+json", "{}");

    json_t *s = expect(200, "DELETE", NS "/widgettags/w1:t1", NULL, NULL);
    assert_string_equal(js(s, "status"), "Success");
    assert_string_equal(js(s, "details.name"), "w1:t1");
    json_decref(s);
    expect_status(404, "NotFound", "widgettags.image.openshift.io \"w1:t1\" not found", "GET",
                  NS "/widgettags/w1:t1", NULL, NULL);
    expect_names(NS "/widgettags", "w1:t2");
    expect_status(405, "MethodNotAllowed", NULL, "DELETE", NS "/widgettags", NULL, NULL);

    /* a subresource served by its get handler */
    json_t *sum = expect(200, "GET", NS "/widgets/w1/summary", NULL, NULL);
    assert_string_equal(js(sum, "kind"), "ImageTag");
    assert_string_equal(js(sum, "metadata.name"), "w1");
    assert_string_equal(js(sum, "spec.name"), "round");
    assert_string_equal(js(sum, "spec.generation"), "1");   /* one tag left */
    json_decref(sum);
    expect_status(404, "NotFound", "widgets.image.openshift.io \"w9\" not found", "GET", NS "/widgets/w9/summary",
                  NULL, NULL);
    expect_status(405, "MethodNotAllowed", NULL, "PUT", NS "/widgets/w1/summary", NULL, "{}");
}

/* ---- authorization ---- */

typedef struct forbidden_case {
    const char *method, *path, *ctype, *body, *msg;
} forbidden_case_t;

#define U "User \"system:anonymous\" cannot "
#define G " in API group \"image.openshift.io\""
static const forbidden_case_t forbidden[] = {
    {"GET", NS "/widgets/x", NULL, NULL,
     "widgets.image.openshift.io \"x\" is forbidden: " U "get resource \"widgets\"" G " in the namespace \"ns\""},
    {"GET", NS "/widgets", NULL, NULL,
     "widgets.image.openshift.io is forbidden: " U "list resource \"widgets\"" G " in the namespace \"ns\""},
    {"GET", BASE "/widgets", NULL, NULL,
     "widgets.image.openshift.io is forbidden: " U "list resource \"widgets\"" G " at the cluster scope"},
    {"GET", BASE "/watch/namespaces/ns/widgets", NULL, NULL,
     "widgets.image.openshift.io is forbidden: " U "watch resource \"widgets\"" G " in the namespace \"ns\""},
    {"GET", NS "/widgets/x?watch=true", NULL, NULL,
     "widgets.image.openshift.io \"x\" is forbidden: " U "watch resource \"widgets\"" G " in the namespace \"ns\""},
    {"POST", NS "/widgets", NULL, "{\"metadata\":{\"name\":\"x\"},\"type\":\"t\"}",
     "widgets.image.openshift.io is forbidden: " U "create resource \"widgets\"" G " in the namespace \"ns\""},
    {"PUT", NS "/widgets/x", NULL, "{}",
     "widgets.image.openshift.io \"x\" is forbidden: " U "update resource \"widgets\"" G " in the namespace \"ns\""},
    {"PATCH", NS "/widgets/x", "application/merge-patch+json", "{}",
     "widgets.image.openshift.io \"x\" is forbidden: " U "patch resource \"widgets\"" G " in the namespace \"ns\""},
    {"DELETE", NS "/widgets/x", NULL, NULL,
     "widgets.image.openshift.io \"x\" is forbidden: " U "delete resource \"widgets\"" G " in the namespace \"ns\""},
    {"DELETE", NS "/widgets", NULL, NULL,
     "widgets.image.openshift.io is forbidden: " U "deletecollection resource \"widgets\"" G
     " in the namespace \"ns\""},
    {"GET", NS "/widgets/x/status", NULL, NULL,
     "widgets.image.openshift.io \"x\" is forbidden: " U "get resource \"widgets/status\"" G
     " in the namespace \"ns\""},
    {"PUT", NS "/widgets/x/status", NULL, "{}",
     "widgets.image.openshift.io \"x\" is forbidden: " U "update resource \"widgets/status\"" G
     " in the namespace \"ns\""},
    {"GET", NS "/widgets/x/summary", NULL, NULL,
     "widgets.image.openshift.io \"x\" is forbidden: " U "get resource \"widgets/summary\"" G
     " in the namespace \"ns\""},
    {"GET", NS "/widgettags/a:b", NULL, NULL,
     "widgettags.image.openshift.io \"a:b\" is forbidden: " U "get resource \"widgettags\"" G
     " in the namespace \"ns\""},
    {"POST", NS "/widgettags", NULL, "{}",
     "widgettags.image.openshift.io is forbidden: " U "create resource \"widgettags\"" G " in the namespace \"ns\""},
    {"GET", BASE "/gadgets", NULL, NULL,
     "gadgets.image.openshift.io is forbidden: " U "list resource \"gadgets\"" G " at the cluster scope"},
    {"DELETE", BASE "/gadgets/g", NULL, NULL,
     "gadgets.image.openshift.io \"g\" is forbidden: " U "delete resource \"gadgets\"" G " at the cluster scope"},
    /* authorized before routing, as kube-apiserver: a denied user learns nothing about what
     * is served (no 404 for an unknown resource, 405 for a verb, 400 for a name or option) */
    {"GET", NS "/nothings/x", NULL, NULL,
     "nothings.image.openshift.io \"x\" is forbidden: " U "get resource \"nothings\"" G " in the namespace \"ns\""},
    {"PATCH", BASE "/gadgets/g", "application/merge-patch+json", "{}",
     "gadgets.image.openshift.io \"g\" is forbidden: " U "patch resource \"gadgets\"" G " at the cluster scope"},
    {"GET", NS "/widgettags/notag", NULL, NULL,
     "widgettags.image.openshift.io \"notag\" is forbidden: " U "get resource \"widgettags\"" G
     " in the namespace \"ns\""},
    {"GET", NS "/widgets?limit=x", NULL, NULL,
     "widgets.image.openshift.io is forbidden: " U "list resource \"widgets\"" G " in the namespace \"ns\""},
    {"GET", NS "/widgets/x/nosub", NULL, NULL,
     "widgets.image.openshift.io \"x\" is forbidden: " U "get resource \"widgets/nosub\"" G
     " in the namespace \"ns\""},
    {"GET", "/apis", NULL, NULL, "forbidden: " U "get path \"/apis\""},
    {"GET", "/api", NULL, NULL, "forbidden: " U "get path \"/api\""},
    {"GET", "/apis/image.openshift.io/v1", NULL, NULL, "forbidden: " U "get path \"/apis/image.openshift.io/v1\""},
    {"GET", "/openapi/v3", NULL, NULL, "forbidden: " U "get path \"/openapi/v3\""},
    {"GET", "/openapi/v3/apis/image.openshift.io/v1", NULL, NULL,
     "forbidden: " U "get path \"/openapi/v3/apis/image.openshift.io/v1\""},
    {"GET", "/version", NULL, NULL, "forbidden: " U "get path \"/version\""},
    {"GET", "/readyz", NULL, NULL, "forbidden: " U "get path \"/readyz\""},
    {"POST", "/version", NULL, "{}", "forbidden: " U "post path \"/version\""},
};

/* A create that waits on something else (api_call_suspend) holds no pool thread: with
 * more such creates waiting than the pool has threads (8), a request that needs the pool
 * is still answered; once released, every create answers 201. */
#define ASYNC_N 12
static void *async_post(void *arg)
{
    int i = (int)(intptr_t)arg;
    char body[256];
    snprintf(body, sizeof body, "{\"metadata\":{\"name\":\"w1:a%d\",\"annotations\":{\"async\":\"1\",\"value\":\"v%d\"}}}",
             i, i);
    resp_t r = req("POST", NS "/widgettags", NULL, body, NULL);
    intptr_t code = r.code;
    resp_free(&r);
    return (void *)code;
}

static void test_virtual_suspended(void **state)
{
    (void)state;
    create_widget("ns", "w1", NULL, "round");
    json_decref(expect(201, "POST", NS "/widgettags", NULL, "{\"metadata\":{\"name\":\"w1:t1\"}}"));
    tk_async_release(false);
    pthread_t t[ASYNC_N];
    for (int i = 0; i < ASYNC_N; i++)
        assert_int_equal(pthread_create(&t[i], NULL, async_post, (void *)(intptr_t)i), 0);
    for (int i = 0; i < 1000 && tk_async_waiting() < ASYNC_N; i++)
        usleep(10000);
    assert_int_equal(tk_async_waiting(), ASYNC_N);
    /* a virtual GET runs on the pool: it is answered while the creates wait */
    json_decref(expect(200, "GET", NS "/widgettags/w1:t1", NULL, NULL));
    tk_async_release(true);
    for (int i = 0; i < ASYNC_N; i++) {
        void *code;
        pthread_join(t[i], &code);
        assert_int_equal((int)(intptr_t)code, 201);
    }
    json_t *w = expect(200, "GET", NS "/widgettags/w1:a7", NULL, NULL);
    assert_string_equal(js(w, "metadata.annotations.value"), "v7");
    json_decref(w);
}

static void test_forbidden(void **state)
{
    create_widget("ns", "x", NULL, "round");
    int64_t rev = store_current_rev(F->store);
    az_reset(&F->az, AZ_DENY_ALL, NULL);
    for (size_t i = 0; i < sizeof forbidden / sizeof *forbidden; i++) {
        const forbidden_case_t *c = &forbidden[i];
        expect_status(403, "Forbidden", c->msg, c->method, c->path, c->ctype, c->body);
    }
    assert_int_equal(F->az.n, (int)(sizeof forbidden / sizeof *forbidden) * 1);
    assert_int_equal(store_current_rev(F->store), rev);   /* nothing was written */
    /* details: name, group, kind (the resource) */
    json_t *s = expect(403, "GET", NS "/widgets/x/status", NULL, NULL);
    assert_string_equal(js(s, "details.name"), "x");
    assert_string_equal(js(s, "details.group"), "image.openshift.io");
    assert_string_equal(js(s, "details.kind"), "widgets");
    json_decref(s);
    s = expect(403, "GET", "/apis", NULL, NULL);
    assert_null(json_object_get(json_object_get(s, "details"), "name"));
    json_decref(s);
}

static void assert_call(const az_call_t *z, const char *verb, const char *group, const char *res, const char *sub,
                        const char *ns, const char *name)
{
    assert_string_equal(z->verb, verb);
    assert_string_equal(z->group, group);
    assert_string_equal(z->resource, res);
    assert_string_equal(z->sub, sub);
    assert_string_equal(z->ns, ns);
    assert_string_equal(z->name, name);
    assert_string_equal(z->user, "system:anonymous");
    assert_string_equal(z->groups, "system:unauthenticated");
}

static void test_authz_attrs(void **state)
{
    az_reset(&F->az, AZ_ALLOW, NULL);
    create_widget("ns", "w1", NULL, "round");
    json_decref(expect(200, "PATCH", NS "/widgets/w1/status", "application/merge-patch+json", "{}"));
    json_decref(expect(200, "GET", BASE "/widgets", NULL, NULL));
    json_decref(expect(404, "GET", BASE "/gadgets/g9", NULL, NULL));
    json_decref(expect(200, "GET", "/version", NULL, NULL));
    json_decref(expect(404, "DELETE", NS "/widgettags/w1:t", NULL, NULL));
    assert_int_equal(F->az.n, 7);   /* the last: the handler's own check */
    az_call_t *z = F->az.calls;
    assert_call(&z[0], "create", "image.openshift.io", "widgets", "", "ns", "");
    assert_true(z[0].resource_request);
    assert_call(&z[1], "patch", "image.openshift.io", "widgets", "status", "ns", "w1");
    assert_call(&z[2], "list", "image.openshift.io", "widgets", "", "", "");
    assert_call(&z[3], "get", "image.openshift.io", "gadgets", "", "", "g9");
    assert_call(&z[4], "get", "", "", "", "", "");
    assert_false(z[4].resource_request);
    assert_string_equal(z[4].path, "/version");
    assert_call(&z[5], "delete", "image.openshift.io", "widgettags", "", "ns", "w1:t");
    assert_call(&z[6], "update", "image.openshift.io", "widgets", "", "ns", "w1");   /* from the handler */
}

static void test_forbidden_namespace(void **state)
{
    create_widget("ns", "w1", NULL, "round");
    create_widget("secret", "s1", NULL, "round");
    az_reset(&F->az, AZ_DENY_NS, "secret");
    expect_status(403, "Forbidden",
                  "widgets.image.openshift.io \"s1\" is forbidden: " U "get resource \"widgets\"" G
                  " in the namespace \"secret\"",
                  "GET", BASE "/namespaces/secret/widgets/s1", NULL, NULL);
    expect_status(403, "Forbidden", NULL, "GET", BASE "/namespaces/secret/widgets", NULL, NULL);
    expect_status(403, "Forbidden", NULL, "GET", BASE "/namespaces/secret/widgettags", NULL, NULL);
    json_decref(expect(200, "GET", NS "/widgets/w1", NULL, NULL));
    expect_names(NS "/widgets", "w1");
    expect_names(BASE "/widgets", "w1,s1");   /* all namespaces is another question (key order) */
    json_decref(expect(200, "GET", "/apis", NULL, NULL));
}

/* The handler asks on behalf of the request's user: widgettags may be created, but the
 * widget they live in may not be updated. */
static void test_domain_authorize(void **state)
{
    create_widget("ns", "w1", NULL, "round");
    az_reset(&F->az, AZ_DENY_WIDGET_UPDATE, NULL);
    int64_t rev = store_current_rev(F->store);
    expect_status(403, "Forbidden",
                  "widgets.image.openshift.io \"w1\" is forbidden: " U "update resource \"widgets\"" G
                  " in the namespace \"ns\": widgets are read-only here",
                  "POST", NS "/widgettags", NULL, "{\"metadata\":{\"name\":\"w1:t\"}}");
    assert_int_equal(store_current_rev(F->store), rev);
    assert_int_equal(F->az.n, 2);
    assert_call(&F->az.calls[0], "create", "image.openshift.io", "widgettags", "", "ns", "");
    assert_call(&F->az.calls[1], "update", "image.openshift.io", "widgets", "", "ns", "w1");
    /* the same rule on the stored kind's own route */
    expect_status(403, "Forbidden", NULL, "PUT", NS "/widgets/w1", NULL, "{}");
    json_decref(expect(200, "PATCH", NS "/widgets/w1", "application/merge-patch+json", "{}"));
}

/* ---- not ready ---- */

static void test_not_ready(void **state)
{
    (void)state;
    fx_t *f = fx_open_store();
    fx_new_api(f);
    fx_start_http(f);   /* serving before api_start: the caches are not loaded */
    fx_t *saved = F;
    F = f;
    resp_t r = req("GET", NS "/widgets", NULL, NULL, NULL);
    assert_int_equal(r.code, 503);
    assert_string_equal(js(r.json, "reason"), "ServiceUnavailable");
    assert_string_equal(js(r.json, "message"), "the server is currently unable to handle the request");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r.json, "details"), "retryAfterSeconds")), 1);
    assert_string_equal(r.retry_after, "1");
    resp_free(&r);
    fx_start_api(f);
    json_decref(expect(200, "GET", NS "/widgets", NULL, NULL));
    F = saved;
    fx_down(f);
}

/* ---- watch ---- */

typedef struct watch_rd {
    buf_t buf;
    int want;               /* lines to read, then stop */
    int lines;
    void (*on_first)(void);  /* after the first line */
} watch_rd_t;

static size_t on_watch(char *p, size_t sz, size_t n, void *arg)
{
    watch_rd_t *w = arg;
    for (size_t i = 0; i < sz * n; i++) {
        buf_putc(&w->buf, p[i]);
        if (p[i] == '\n') {
            w->lines++;
            if (w->lines == 1 && w->on_first)
                w->on_first();
        }
    }
    return w->lines >= w->want ? 0 : sz * n;   /* 0: enough, hang up */
}

/* Reads want lines of a watch (or until the server ends it); "TYPE name" per line in out. */
static json_t *watch(const char *path, int want, void (*on_first)(void))
{
    watch_rd_t w = {.want = want, .on_first = on_first};
    buf_init(&w.buf);
    CURL *c = curl_easy_init();
    char url[2048];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", F->port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_watch);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &w);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
    curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    assert_int_equal(code, 200);
    json_t *events = json_array();
    buf_putc(&w.buf, '\0');
    char *save = NULL;
    for (char *line = strtok_r(w.buf.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_error_t jerr;
        json_t *ev = json_loads(line, 0, &jerr);
        if (!ev)
            fail_msg("watch line is not JSON: %s", line);
        json_array_append_new(events, ev);
    }
    buf_free(&w.buf);
    return events;
}

static void create_w9(void)
{
    api_call_t *c = api_call_new(F->api, &api_user_anonymous, "test");
    json_t *o = json_pack("{s:{s:s}, s:s}", "metadata", "name", "w9", "type", "late");
    json_t *out = api_obj_create(c, api_kind_find(F->api, "widgets"), "ns", o);
    assert_non_null(out);
    json_decref(out);
    json_decref(o);
    api_call_free(c);
}

static void test_watch(void **state)
{
    /* an empty store is at revision 0, and resourceVersion=0 means "any": start after a write */
    create_widget("seed", "s", NULL, "round");
    json_t *l = expect(200, "GET", NS "/widgets", NULL, NULL);
    char rv0[32], path[512];
    snprintf(rv0, sizeof rv0, "%s", js(l, "metadata.resourceVersion"));
    json_decref(l);
    create_widget("ns", "w1", "\"app\":\"a\"", "round");
    json_t *m = expect(200, "PATCH", NS "/widgets/w1", "application/merge-patch+json", "{\"type\":\"square\"}");
    char rv_mod[32];
    snprintf(rv_mod, sizeof rv_mod, "%s", js(m, "metadata.resourceVersion"));
    json_decref(m);
    create_widget("ns", "w2", "\"app\":\"b\"", "round");
    create_widget("other", "w3", "\"app\":\"a\"", "round");
    json_decref(expect(200, "DELETE", NS "/widgets/w1", NULL, NULL));

    snprintf(path, sizeof path, NS "/widgets?watch=true&timeoutSeconds=3&resourceVersion=%s", rv0);
    json_t *ev = watch(path, 4, NULL);
    expect_events(ev, "ADDED w1,MODIFIED w1,ADDED w2,DELETED w1");
    assert_string_equal(js(json_array_get(ev, 0), "object.kind"), "Widget");
    assert_string_equal(js(json_array_get(ev, 1), "object.type"), "square");
    assert_string_equal(js(json_array_get(ev, 1), "object.metadata.resourceVersion"), rv_mod);
    json_decref(ev);
    /* resume after the MODIFIED */
    snprintf(path, sizeof path, BASE "/watch/namespaces/ns/widgets?timeoutSeconds=3&resourceVersion=%s", rv_mod);
    ev = watch(path, 2, NULL);
    expect_events(ev, "ADDED w2,DELETED w1");
    json_decref(ev);
    /* a label selector, across namespaces; the server ends the watch at timeoutSeconds */
    snprintf(path, sizeof path, BASE "/watch/widgets?labelSelector=app%%3Da&timeoutSeconds=1&resourceVersion=%s", rv0);
    ev = watch(path, 100, NULL);
    expect_events(ev, "ADDED w1,MODIFIED w1,ADDED w3,DELETED w1");
    json_decref(ev);
    /* one item */
    snprintf(path, sizeof path, NS "/widgets/w2?watch=1&timeoutSeconds=3&resourceVersion=%s", rv0);
    ev = watch(path, 1, NULL);
    expect_events(ev, "ADDED w2");
    json_decref(ev);
    /* from now: the current objects, then what happens */
    ev = watch(NS "/widgets?watch=true&timeoutSeconds=3", 2, create_w9);
    expect_events(ev, "ADDED w2,ADDED w9");
    json_decref(ev);
    /* a watch of a Table */
    resp_t r = req("GET", NS "/widgets?watch=true&timeoutSeconds=1", NULL, NULL, ACCEPT_TABLE_HDR);
    assert_int_equal(r.code, 200);
    assert_non_null(strstr(r.body.data, "\"columnDefinitions\":[{\"name\":\"Name\""));
    resp_free(&r);
}

/* A resourceVersion older than the store's compaction: 410 Expired as the ERROR event. */
static void test_watch_expired(void **state)
{
    (void)state;
    fx_t *f = fx_open_store();
    int64_t rev = 0;
    for (int i = 0; i < 3; i++) {
        char key[128], val[256];
        snprintf(key, sizeof key, "/image.openshift.io/widgets/ns/old%d", i);
        snprintf(val, sizeof val, "{\"metadata\":{\"name\":\"old%d\",\"namespace\":\"ns\",\"uid\":\"u%d\"},"
                 "\"type\":\"t\"}", i, i);
        assert_int_equal(store_create(f->store, key, val, strlen(val), &rev), STORE_OK);
    }
    assert_int_equal(store_compact(f->store, rev), STORE_OK);
    fx_new_api(f);
    fx_start_api(f);
    fx_start_http(f);
    fx_t *saved = F;
    F = f;
    expect_names(NS "/widgets", "old0,old1,old2");
    char path[256];
    snprintf(path, sizeof path, NS "/widgets?watch=true&resourceVersion=%lld", (long long)(rev - 2));
    json_t *ev = watch(path, 100, NULL);
    assert_int_equal(json_array_size(ev), 1);
    json_t *e = json_array_get(ev, 0);
    assert_string_equal(js(e, "type"), "ERROR");
    assert_string_equal(js(e, "object.kind"), "Status");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(e, "object"), "code")), 410);
    assert_string_equal(js(e, "object.reason"), "Expired");
    char want[128];
    snprintf(want, sizeof want, "too old resource version: %lld (%lld)", (long long)(rev - 2), (long long)rev);
    assert_string_equal(js(e, "object.message"), want);
    json_decref(ev);
    /* from the compaction point on it is fine */
    snprintf(path, sizeof path, NS "/widgets?watch=true&timeoutSeconds=1&resourceVersion=%lld", (long long)rev);
    ev = watch(path, 100, NULL);
    assert_int_equal(json_array_size(ev), 0);
    json_decref(ev);
    F = saved;
    fx_down(f);
}

static void test_discovery_served(void **state)
{
    json_t *d = expect(200, "GET", BASE, NULL, NULL);
    char got[1024] = "";
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(d, "resources"), i, r)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", i ? "," : "", js(r, "name"));
    assert_string_equal(got, "widgets,widgets/status,widgets/summary,widgettags,widgetconditions,gadgets");
    json_decref(d);
    json_t *o = expect(200, "GET", "/openapi/v3/apis/image.openshift.io/v1", NULL, NULL);
    assert_non_null(json_object_get(json_object_get(o, "paths"), BASE "/namespaces/{namespace}/widgettags/{name}"));
    json_decref(o);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_patch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_virtual, setup, teardown),
        cmocka_unit_test_setup_teardown(test_virtual_suspended, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forbidden, setup, teardown),
        cmocka_unit_test_setup_teardown(test_authz_attrs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forbidden_namespace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_domain_authorize, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_discovery_served, setup, teardown),
        cmocka_unit_test(test_not_ready),
        cmocka_unit_test(test_watch_expired),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
