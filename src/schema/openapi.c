/* OpenAPI v3 document for image.openshift.io/v1, built from the static schema data:
 * components.schemas for every registered type (plus each listable kind's List), and the
 * paths of the served resources (openapi_paths.c). Shapes follow kube-apiserver's
 * /openapi/v3 output; see docs/schema.md and kubectl-contract.md §5. */
#include <string.h>

#include "schema/schema_internal.h"

json_t *schema_oa_ref(const char *ref)
{
    char *s = xasprintf(SCHEMA_REF_PREFIX "%s", ref);
    json_t *r = json_pack("{s:[{s:s}]}", "allOf", "$ref", s);
    free(s);
    return r;
}

char *schema_oa_list_ref(const schema_kind_t *k)
{
    return xasprintf("%sList", k->root->ref);
}

static json_t *gvk_array(const char *group, const char *version, const char *kind)
{
    return json_pack("[{s:s,s:s,s:s}]", "group", group, "kind", kind, "version", version);
}

static bool has_required(const schema_node_t *fields)
{
    for (const schema_node_t *f = fields; f && f->name; f++)
        if (f->flags & SF_REQUIRED)
            return true;
    return false;
}

/* Schema of a value of node n's type (without field-level facts). */
static json_t *type_schema(const schema_node_t *n, bool element)
{
    json_t *s;
    switch (n->type) {
    case ST_STRING: return json_pack("{s:s}", "type", "string");
    case ST_BYTES: return json_pack("{s:s,s:s}", "type", "string", "format", "byte");
    case ST_BOOL: return json_pack("{s:s}", "type", "boolean");
    case ST_NUMBER: return json_pack("{s:s,s:s}", "type", "number", "format", n->format ? n->format : "double");
    case ST_INT: return json_pack("{s:s,s:s}", "type", "integer", "format", n->format ? n->format : "int64");
    case ST_TIME:
    case ST_ANY:
    case ST_OBJECT:
        if (n->ref) {
            s = schema_oa_ref(n->ref);
            /* Kubernetes marks non-pointer structs with an empty default; left out where
             * {} would not validate against the type (required fields). */
            if (n->type == ST_OBJECT && (element || !(n->flags & SF_NULLABLE)) && !has_required(n->fields))
                json_object_set_new(s, "default", json_object());
            return s;
        }
        return json_pack("{s:s,s:b}", "type", "object", "x-kubernetes-preserve-unknown-fields", 1);
    case ST_ARRAY:
        return json_pack("{s:s,s:o}", "type", "array", "items", type_schema(n->items, true));
    case ST_MAP:
        return json_pack("{s:s,s:o}", "type", "object", "additionalProperties", type_schema(n->items, true));
    }
    return json_object();
}

static json_t *field_schema(const schema_node_t *f)
{
    json_t *s = type_schema(f, false);
    if (f->description)
        json_object_set_new(s, "description", json_string(f->description));
    if (f->patch_strategy)
        json_object_set_new(s, "x-kubernetes-patch-strategy", json_string(f->patch_strategy));
    if (f->merge_key)
        json_object_set_new(s, "x-kubernetes-patch-merge-key", json_string(f->merge_key));
    if (f->list_type) {
        json_object_set_new(s, "x-kubernetes-list-type", json_string(f->list_type));
        if (strcmp(f->list_type, "map") == 0 && f->merge_key)
            json_object_set_new(s, "x-kubernetes-list-map-keys", json_pack("[s]", f->merge_key));
    }
    return s;
}

/* A component: the type node's own description, properties, required. */
static json_t *component(const schema_node_t *t)
{
    json_t *s;
    if (t->type == ST_TIME)
        s = json_pack("{s:s,s:s}", "type", "string", "format", "date-time");
    else
        s = json_pack("{s:s}", "type", "object");
    if (t->description)
        json_object_set_new(s, "description", json_string(t->description));
    if (t->type != ST_OBJECT || !t->fields)
        return s;

    json_t *props = json_object(), *req = json_array();
    for (const schema_node_t *f = t->fields; f->name; f++) {
        json_object_set_new(props, f->name, field_schema(f));
        if (f->flags & SF_REQUIRED)
            json_array_append_new(req, json_string(f->name));
    }
    json_object_set_new(s, "properties", props);
    if (json_array_size(req))
        json_object_set_new(s, "required", req);
    else
        json_decref(req);
    return s;
}

static json_t *list_component(const schema_kind_t *k)
{
    char *desc = xasprintf("%sList is a list of %s objects.", k->kind, k->kind);
    char *idesc = xasprintf("Items is a list of %s objects.", k->kind);
    json_t *items = schema_oa_ref(k->root->ref);
    json_t *meta = schema_oa_ref(META "ListMeta");
    if (!has_required(k->root->fields))
        json_object_set_new(items, "default", json_object());
    json_object_set_new(meta, "default", json_object());
    json_object_set_new(meta, "description", json_string(D_LIST_METADATA));
    json_t *s = json_pack("{s:s,s:s,s:[s],s:{s:{s:s,s:s},s:{s:s,s:s,s:o},s:{s:s,s:s},s:o}}",
        "type", "object", "description", desc, "required", "items", "properties",
        "apiVersion", "type", "string", "description", D_API_VERSION,
        "items", "type", "array", "description", idesc, "items", items,
        "kind", "type", "string", "description", D_KIND,
        "metadata", meta);
    char *kind = xasprintf("%sList", k->kind);
    json_object_set_new(s, "x-kubernetes-group-version-kind", gvk_array(k->group, k->version, kind));
    free(kind);
    free(desc);
    free(idesc);
    return s;
}

bool schema_verbs_has(const char *verbs, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = verbs; p && (p = strstr(p, v)); p += n)
        if ((p == verbs || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return true;
    return false;
}

json_t *schema_openapi_v3(const schema_resource_t *res, size_t n)
{
    json_t *doc = json_pack("{s:s,s:{s:s,s:s}}", "openapi", "3.0.0", "info", "title", "Kubernetes",
                            "version", "v1.32.0");
    json_t *paths = json_object(), *schemas = json_object();

    for (size_t i = 0; i < n; i++)
        schema_oa_add_paths(paths, &res[i]);

    for (size_t i = 0; i < schema_ntypes; i++)
        json_object_set_new(schemas, schema_types[i]->ref, component(schema_types[i]));
    for (size_t i = 0; i < schema_nkinds; i++) {
        const schema_kind_t *k = schema_kinds[i];
        json_t *c = json_object_get(schemas, k->root->ref);
        if (c)
            json_object_set_new(c, "x-kubernetes-group-version-kind", gvk_array(k->group, k->version, k->kind));
    }
    for (size_t i = 0; i < n; i++) {
        if (res[i].subresource || !schema_verbs_has(res[i].verbs, "list"))
            continue;
        char *lref = schema_oa_list_ref(res[i].kind);
        json_object_set_new(schemas, lref, list_component(res[i].kind));
        free(lref);
    }
    json_object_set_new(json_object_get(schemas, META "Status"), "x-kubernetes-group-version-kind",
                        gvk_array("", "v1", "Status"));
    json_t *dgvk = gvk_array("", "v1", "DeleteOptions");
    json_t *dgvk2 = gvk_array("image.openshift.io", "v1", "DeleteOptions");
    json_array_extend(dgvk, dgvk2);
    json_decref(dgvk2);
    json_object_set_new(json_object_get(schemas, META "DeleteOptions"), "x-kubernetes-group-version-kind", dgvk);

    json_object_set_new(doc, "paths", paths);
    json_object_set_new(doc, "components", json_pack("{s:o}", "schemas", schemas));
    return doc;
}
