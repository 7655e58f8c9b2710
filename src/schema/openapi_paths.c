/* OpenAPI v3 paths for one served resource: collection, item, status and the
 * all-namespaces list. kubectl reads x-kubernetes-group-version-kind (an OBJECT here),
 * the PATCH operation's own fieldValidation parameter and its requestBody content types. */
#include <ctype.h>
#include <string.h>

#include "schema/schema_internal.h"

/* operationId spelling of the group: "ImageOpenshiftIo", "Core" for the core group */
static const char *group_id(const schema_kind_t *k) { return *k->group ? "ImageOpenshiftIo" : "Core"; }

/* "/apis/<group>/<version>", "/api/v1" for the core group. New string. */
static char *gv_path(const schema_kind_t *k)
{
    return *k->group ? xasprintf("/apis/%s/%s", k->group, k->version) : xasprintf("/api/%s", k->version);
}

static const char *const D_DRY_RUN = "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed";
static const char *const D_FIELD_MANAGER = "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.";
static const char *const D_FIELD_VALIDATION = "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.";
static const char *const D_FORCE = "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.";

typedef struct qparam {
    const char *name, *type, *description;
} qparam_t;

static const qparam_t Q_LIST[] = {
    {"allowWatchBookmarks", "boolean", "allowWatchBookmarks requests watch events with type \"BOOKMARK\". Servers that do not implement bookmarks may ignore this flag and bookmarks are sent at the server's discretion. Clients should not assume bookmarks are returned at any specific interval, nor may they assume the server will send any BOOKMARK event during a session. If this is not a watch, this field is ignored."},
    {"continue", "string", "The continue option should be set when retrieving more results from the server. Since this value is server defined, clients may only use the continue value from a previous query result with identical query parameters (except for the value of continue) and the server may reject a continue value it does not recognize. If the specified continue value is no longer valid whether due to expiration (generally five to fifteen minutes) or a configuration change on the server, the server will respond with a 410 ResourceExpired error together with a continue token."},
    {"fieldSelector", "string", "A selector to restrict the list of returned objects by their fields. Defaults to everything."},
    {"labelSelector", "string", "A selector to restrict the list of returned objects by their labels. Defaults to everything."},
    {"limit", "integer", "limit is a maximum number of responses to return for a list call. If more items exist, the server will set the `continue` field on the list metadata to a value that can be used with the same initial query to retrieve the next set of results."},
    {"resourceVersion", "string", "resourceVersion sets a constraint on what resource versions a request may be served from. See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset"},
    {"resourceVersionMatch", "string", "resourceVersionMatch determines how resourceVersion is applied to list calls. It is highly recommended that resourceVersionMatch be set for list calls where resourceVersion is set See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset"},
    {"sendInitialEvents", "boolean", "`sendInitialEvents=true` may be set together with `watch=true`. In that case, the watch stream will begin with synthetic events to produce the current state of objects in the collection."},
    {"timeoutSeconds", "integer", "Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity."},
    {"watch", "boolean", "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion."},
    {NULL, NULL, NULL}};

static const qparam_t Q_DELETE[] = {
    {"gracePeriodSeconds", "integer", "The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately. If this value is nil, the default grace period for the specified type will be used. Defaults to a per object value if not specified. zero means delete immediately."},
    {"ignoreStoreReadErrorWithClusterBreakingPotential", "boolean", "if set to true, it will trigger an unsafe deletion of the resource in case the normal deletion flow fails with a corrupt object error."},
    {"orphanDependents", "boolean", "Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. Should the dependent objects be orphaned. If true/false, the \"orphan\" finalizer will be added to/removed from the object's finalizers list. Either this field or PropagationPolicy may be set, but not both."},
    {"propagationPolicy", "string", "Whether and how garbage collection will be performed. Either this field or OrphanDependents may be set, but not both. The default policy is decided by the existing finalizer set in the metadata.finalizers and the resource-specific default policy. Acceptable values are: 'Orphan' - orphan the dependents; 'Background' - allow the garbage collector to delete the dependents in the background; 'Foreground' - a cascading policy that deletes all dependents in the foreground."},
    {NULL, NULL, NULL}};

static json_t *qparam(const char *name, const char *type, const char *desc)
{
    json_t *schema = json_pack("{s:s}", "type", type);
    if (strcmp(name, "dryRun") == 0)
        json_object_set_new(schema, "uniqueItems", json_true());
    return json_pack("{s:s,s:s,s:s,s:o}", "name", name, "in", "query", "description", desc, "schema", schema);
}

static void add_qparams(json_t *params, const qparam_t *q)
{
    for (; q->name; q++)
        json_array_append_new(params, qparam(q->name, q->type, q->description));
}

static json_t *write_params(bool patch)
{
    json_t *p = json_array();
    json_array_append_new(p, qparam("dryRun", "string", D_DRY_RUN));
    json_array_append_new(p, qparam("fieldManager", "string", D_FIELD_MANAGER));
    json_array_append_new(p, qparam("fieldValidation", "string", D_FIELD_VALIDATION));
    if (patch)
        json_array_append_new(p, qparam("force", "boolean", D_FORCE));
    return p;
}

static json_t *path_param(const char *name, const char *desc)
{
    return json_pack("{s:s,s:s,s:s,s:b,s:{s:s,s:b}}", "name", name, "in", "path", "description", desc,
                     "required", 1, "schema", "type", "string", "uniqueItems", 1);
}

static json_t *content(const char *ref, bool watch)
{
    char *r = xasprintf(SCHEMA_REF_PREFIX "%s", ref);
    json_t *c = json_object();
    json_object_set_new(c, "application/json", json_pack("{s:{s:s}}", "schema", "$ref", r));
    json_object_set_new(c, "application/yaml", json_pack("{s:{s:s}}", "schema", "$ref", r));
    if (watch) {
        json_object_set_new(c, "application/json;stream=watch", json_pack("{s:{s:s}}", "schema", "$ref", r));
    }
    free(r);
    return c;
}

/* responses: codes is e.g. "200 201 202", all returning ref. */
static json_t *responses(const char *ref, const char *codes, bool watch)
{
    static const struct { const char *code, *desc; } names[] = {
        {"200", "OK"}, {"201", "Created"}, {"202", "Accepted"}};
    json_t *r = json_object();
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strstr(codes, names[i].code))
            json_object_set_new(r, names[i].code, json_pack("{s:s,s:o}", "description", names[i].desc,
                                                            "content", content(ref, watch)));
    json_object_set_new(r, "401", json_pack("{s:s}", "description", "Unauthorized"));
    return r;
}

static json_t *request_body(const char *ref, bool patch)
{
    char *r = xasprintf(SCHEMA_REF_PREFIX "%s", ref);
    json_t *c = json_object();
    if (patch) {
        static const char *const types[] = {"application/apply-patch+yaml", "application/json-patch+json",
                                            "application/merge-patch+json",
                                            "application/strategic-merge-patch+json"};
        for (size_t i = 0; i < 4; i++)
            json_object_set_new(c, types[i], json_pack("{s:{s:s}}", "schema", "$ref", r));
    } else {
        json_object_set_new(c, "*/*", json_pack("{s:{s:s}}", "schema", "$ref", r));
    }
    free(r);
    /* DELETE bodies are optional. */
    return json_pack("{s:o,s:b}", "content", c, "required", strcmp(ref, META "DeleteOptions") != 0);
}

static json_t *operation(const schema_kind_t *k, const char *verb_id, const char *desc,
                         const char *action, json_t *params)
{
    json_t *op = json_pack("{s:s,s:s,s:[s],s:s,s:{s:s,s:s,s:s}}", "description", desc,
                           "operationId", verb_id, "tags", "image_v1", "x-kubernetes-action", action,
                           "x-kubernetes-group-version-kind", "group", k->group, "version", k->version,
                           "kind", k->kind);
    json_object_set_new(op, "parameters", params ? params : json_array());
    return op;
}

static const char *article(const char *kind)
{
    return strchr("AEIOU", toupper((unsigned char)kind[0])) ? "an" : "a";
}

static json_t *path_item(json_t *paths, const char *path, bool ns, bool name)
{
    json_t *item = json_object_get(paths, path);
    if (item)
        return item;
    json_t *params = json_array();
    if (name)
        json_array_append_new(params, path_param("name", "name of the resource"));
    if (ns)
        json_array_append_new(params, path_param("namespace", "object name and auth scope, such as for teams and projects"));
    json_array_append_new(params, qparam("pretty", "string", "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget)."));
    item = json_pack("{s:o}", "parameters", params);
    json_object_set_new(paths, path, item);
    return item;
}

void schema_oa_add_paths(json_t *paths, const schema_resource_t *r)
{
    const schema_kind_t *k = r->kind;
    const char *ref = k->root->ref;
    const char *nsd = r->namespaced ? "Namespaced" : "";
    const char *sub = r->subresource;
    const schema_kind_t *pk = r->path_kind ? r->path_kind : k;   /* the group of the path */
    char *gvp = gv_path(pk);
    char *base = r->namespaced ? xasprintf("%s/namespaces/{namespace}/%s", gvp, r->plural)
                               : xasprintf("%s/%s", gvp, r->plural);
    char *item_path = sub ? xasprintf("%s/{name}/%s", base, sub) : xasprintf("%s/{name}", base);
    char *subcap = sub ? xasprintf("%c%s", toupper((unsigned char)sub[0]), sub + 1) : xstrdup("");
    char *id = NULL, *desc = NULL;
    json_t *item, *op, *params;

    const char *op_kind = sub && r->parent_kind ? r->parent_kind : k->kind;
#define OPID(verb, mid) (free(id), id = xasprintf("%s%sV1%s%s%s", verb, group_id(pk), mid, op_kind, subcap))
#define DESC(...) (free(desc), desc = xasprintf(__VA_ARGS__))

    if (!sub && (schema_verbs_has(r->verbs, "list") || schema_verbs_has(r->verbs, "create") ||
                 schema_verbs_has(r->verbs, "deletecollection"))) {
        item = path_item(paths, base, r->namespaced, false);
        if (schema_verbs_has(r->verbs, "list")) {
            char *lref = schema_oa_list_ref(k);
            params = json_array();
            add_qparams(params, Q_LIST);
            OPID("list", nsd);
            /* as kube's installer: "or watch" only for kinds that serve watch */
            DESC("list %sobjects of kind %s", schema_verbs_has(r->verbs, "watch") ? "or watch " : "", k->kind);
            op = operation(k, id, desc, "list", params);
            json_object_set_new(op, "responses", responses(lref, "200", true));
            json_object_set_new(item, "get", op);
            if (r->namespaced) {   /* cluster-wide list of a namespaced kind (kubectl -A) */
                char *all = xasprintf("%s/%s", gvp, r->plural);
                json_t *allitem = path_item(paths, all, false, false);
                params = json_array();
                add_qparams(params, Q_LIST);
                free(id);
                id = xasprintf("list%sV1%sForAllNamespaces", group_id(pk), k->kind);
                op = operation(k, id, desc, "list", params);
                json_object_set_new(op, "responses", responses(lref, "200", true));
                json_object_set_new(allitem, "get", op);
                free(all);
            }
            free(lref);
        }
        if (schema_verbs_has(r->verbs, "create")) {
            OPID("create", nsd);
            DESC("create %s %s", article(k->kind), k->kind);
            op = operation(k, id, desc, "post", write_params(false));
            json_object_set_new(op, "requestBody", request_body(ref, false));
            json_object_set_new(op, "responses", responses(ref, "200 201 202", false));
            json_object_set_new(item, "post", op);
        }
        if (schema_verbs_has(r->verbs, "deletecollection")) {
            params = json_array();
            json_array_append_new(params, qparam("dryRun", "string", D_DRY_RUN));
            add_qparams(params, Q_DELETE);
            add_qparams(params, Q_LIST);
            OPID("delete", r->namespaced ? "CollectionNamespaced" : "Collection");
            DESC("delete collection of %s", k->kind);
            op = operation(k, id, desc, "deletecollection", params);
            json_object_set_new(op, "requestBody", request_body(META "DeleteOptions", false));
            json_object_set_new(op, "responses", responses(META "Status", "200", false));
            json_object_set_new(item, "delete", op);
        }
    }

    bool get = schema_verbs_has(r->verbs, "get"), put = schema_verbs_has(r->verbs, "update"),
         patch = schema_verbs_has(r->verbs, "patch"), del = !sub && schema_verbs_has(r->verbs, "delete");
    char *of = sub ? xasprintf("%s of ", sub) : xstrdup("");
    if (get || put || patch || del) {
        item = path_item(paths, item_path, r->namespaced, true);
        if (get) {
            OPID("read", nsd);
            DESC("read %sthe specified %s", of, k->kind);
            op = operation(k, id, desc, "get", NULL);
            json_object_set_new(op, "responses", responses(ref, "200", false));
            json_object_set_new(item, "get", op);
        }
        if (put) {
            OPID("replace", nsd);
            DESC("replace %sthe specified %s", of, k->kind);
            op = operation(k, id, desc, "put", write_params(false));
            json_object_set_new(op, "requestBody", request_body(ref, false));
            json_object_set_new(op, "responses", responses(ref, "200 201", false));
            json_object_set_new(item, "put", op);
        }
        if (patch) {
            OPID("patch", nsd);
            DESC("partially update %sthe specified %s", of, k->kind);
            op = operation(k, id, desc, "patch", write_params(true));
            json_object_set_new(op, "requestBody", request_body(META "Patch", true));
            json_object_set_new(op, "responses", responses(ref, "200 201", false));
            json_object_set_new(item, "patch", op);
        }
        if (del) {
            params = json_array();
            json_array_append_new(params, qparam("dryRun", "string", D_DRY_RUN));
            add_qparams(params, Q_DELETE);
            OPID("delete", nsd);
            DESC("delete %s %s", article(k->kind), k->kind);
            op = operation(k, id, desc, "delete", params);
            json_object_set_new(op, "requestBody", request_body(META "DeleteOptions", false));
            json_object_set_new(op, "responses", responses(META "Status", "200 202", false));
            json_object_set_new(item, "delete", op);
        }
    }
#undef OPID
#undef DESC
    free(id);
    free(desc);
    free(of);
    free(subcap);
    free(item_path);
    free(base);
    free(gvp);
}
