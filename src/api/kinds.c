/* kinds: the stored kinds served by this build, and how a stored value becomes a
 * cached object (output bytes + precomputed selector values and table cells). */
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "image/image.h"

static const char *const is_fields[] = {"metadata.name", "metadata.namespace", "spec.dockerImageRepository",
                                        "status.dockerImageRepository", NULL};
static const char *const image_fields[] = {"metadata.name", "metadata.namespace", NULL};

static const table_col_t is_columns[] = {
    {"Name", "string", "name",
     "Name must be unique within a namespace. Is required when creating resources, although some resources may "
     "allow a client to request the generation of an appropriate name automatically. Name is primarily intended "
     "for creation idempotence and configuration definition. Cannot be updated.", 0, false},
    {"Image Repository", "string", "", "Address of the image repository that clients pull from.", 0, false},
    {"Tags", "string", "", "Human readable list of tags.", 0, false},
    {"Updated", "string", "", "Last update time.", 0, true},
};

static const table_col_t image_columns[] = {
    {"Name", "string", "name",
     "Name must be unique within a namespace. Is required when creating resources, although some resources may "
     "allow a client to request the generation of an appropriate name automatically. Name is primarily intended "
     "for creation idempotence and configuration definition. Cannot be updated.", 0, false},
    {"Image Reference", "string", "", "The pull spec of the image.", 0, false},
};

/* image/ hooks without a context argument, adapted to the common shape. */
static void image_normalize_hook(const image_ctx_t *c, json_t *o) { image_normalize(o); }

static const kind_def_t kind_table[] = {
    {
        .resource = "images", .singular = "image", .kind = "Image", .list_kind = "ImageList",
        .schema = &schema_image, .namespaced = false,
        .verbs = "create delete deletecollection get list patch update watch",
        .field_labels = image_fields, .columns = image_columns, .ncolumns = 2,
        .normalize = image_normalize_hook, .prepare_create = image_prepare_create,
        .prepare_update = image_prepare_update, .validate = image_validate,
        .table_cells = image_table_cells,
    },
    {
        .resource = "imagestreams", .singular = "imagestream", .kind = "ImageStream",
        .list_kind = "ImageStreamList", .schema = &schema_image_stream, .namespaced = true,
        .verbs = "create delete deletecollection get list patch update watch", .short_name = "is",
        .category = "all", .has_status = true, .manages_generation = true, .field_labels = is_fields,
        .columns = is_columns, .ncolumns = 4, .normalize = imagestream_normalize,
        .prepare_create = imagestream_prepare_create, .prepare_update = imagestream_prepare_update,
        .prepare_status_update = imagestream_prepare_status_update, .validate = imagestream_validate,
        .validate_status_update = imagestream_validate_status_update, .decorate = imagestream_decorate,
        .table_cells = imagestream_table_cells,
    },
};

void kinds_init(api_t *a)
{
    a->nkinds = sizeof kind_table / sizeof kind_table[0];
    a->kinds = xcalloc(a->nkinds, sizeof *a->kinds);
    for (size_t i = 0; i < a->nkinds; i++) {
        a->kinds[i] = kind_table[i];
        a->kinds[i].prefix = xasprintf("/%s/%s/", API_GROUP, kind_table[i].resource);
        a->kinds[i].api = a;
    }
}

kind_def_t *kinds_find(api_t *a, const char *resource)
{
    for (size_t i = 0; i < a->nkinds; i++)
        if (strcmp(a->kinds[i].resource, resource) == 0)
            return &a->kinds[i];
    return NULL;
}

char *kind_key(const kind_def_t *k, const char *ns, const char *name)
{
    if (k->namespaced)
        return xasprintf("%s%s/%s", k->prefix, ns ? ns : "", name ? name : "");
    return xasprintf("%s%s", k->prefix, name ? name : "");
}

const char *extra_field(const obj_extra_t *x, const char *label)
{
    const char *const *f = x->kind->field_labels;
    for (size_t i = 0; f && f[i]; i++)
        if (strcmp(f[i], label) == 0)
            return x->fields[i] ? x->fields[i] : "";
    return "";
}

static void extra_free(void *p)
{
    obj_extra_t *x = p;
    if (!x)
        return;
    free(x->ns);
    free(x->name);
    free(x->uid);
    json_decref(x->labels);
    for (size_t i = 0; i < x->nfields; i++)
        free(x->fields[i]);
    free(x->fields);
    json_decref(x->cells);
    free(x->meta_json);
    free(x);
}

/* Value of a dotted path of plain object keys, as a string ("" if absent). */
static char *path_string(const json_t *o, const char *path)
{
    char *dup = xstrdup(path), *save = NULL;
    const json_t *cur = o;
    for (char *tok = strtok_r(dup, ".", &save); tok && cur; tok = strtok_r(NULL, ".", &save))
        cur = json_object_get(cur, tok);
    free(dup);
    const char *s = json_string_value(cur);
    return xstrdup(s ? s : "");
}

json_t *kind_output(kind_def_t *k, const image_ctx_t *ic, const char *value, size_t len, int64_t mod_rev,
                    bool decorate)
{
    json_error_t jerr;
    json_t *stored = json_loadb(value, len, 0, &jerr);
    if (!json_is_object(stored)) {
        json_decref(stored);
        return NULL;
    }
    /* Canonical key order: kind, apiVersion, metadata, then the rest as stored. */
    json_t *out = json_object();
    json_object_set_new(out, "kind", json_string(k->kind));
    json_object_set_new(out, "apiVersion", json_string(API_GV));
    json_t *meta = json_object_get(stored, "metadata");
    json_object_set(out, "metadata", json_is_object(meta) ? meta : json_object());
    const char *key;
    json_t *v;
    json_object_foreach(stored, key, v) {
        if (strcmp(key, "kind") && strcmp(key, "apiVersion") && strcmp(key, "metadata"))
            json_object_set(out, key, v);
    }
    json_decref(stored);
    meta = json_object_get(out, "metadata");
    char rv[24];
    snprintf(rv, sizeof rv, "%lld", (long long)mod_rev);
    json_object_set_new(meta, "resourceVersion", json_string(rv));
    if (decorate && k->decorate)
        k->decorate(ic, out);
    return out;
}

cache_obj_t *kind_build_obj(void *ctx, const char *key, const char *value, size_t len, int64_t create_rev,
                            int64_t mod_rev)
{
    kind_def_t *k = ctx;
    image_ctx_t ic = {.cfg = &k->api->cfg.image, .now = ""};
    json_t *out = kind_output(k, &ic, value, len, mod_rev, true);
    if (!out) {
        log_warn("cache: cannot decode stored value of %s at revision %lld", key, (long long)mod_rev);
        return NULL;
    }
    cache_obj_t *o = xcalloc(1, sizeof *o);
    obj_extra_t *x = xcalloc(1, sizeof *x);
    json_t *meta = json_object_get(out, "metadata");
    x->kind = k;
    x->ns = xstrdup(json_string_value(json_object_get(meta, "namespace")));
    x->name = xstrdup(json_string_value(json_object_get(meta, "name")));
    x->uid = xstrdup(json_string_value(json_object_get(meta, "uid")));
    json_t *labels = json_object_get(meta, "labels");
    x->labels = json_is_object(labels) ? json_incref(labels) : NULL;
    for (const char *const *f = k->field_labels; f && *f; f++)
        x->nfields++;
    x->fields = xcalloc(x->nfields + 1, sizeof *x->fields);
    for (size_t i = 0; i < x->nfields; i++)
        x->fields[i] = path_string(out, k->field_labels[i]);
    x->cells = k->table_cells ? k->table_cells(out) : json_array();
    x->meta_json = json_dumps(meta, JSON_COMPACT);
    o->key = xstrdup(key);
    o->create_rev = create_rev;
    o->mod_rev = mod_rev;
    o->json = json_dumps(out, JSON_COMPACT);
    o->json_len = strlen(o->json);
    o->extra = x;
    o->extra_free = extra_free;
    json_decref(out);
    return o;
}
