/* kinds: the kinds the domain registered (api_config_t.kinds), and how a stored value
 * becomes a cached object (output bytes + precomputed selector values and table cells).
 * api/ knows no kind by name: everything comes from the table. */
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"

/* A virtual kind must have a handler for every verb it lists (a programming error). watch
 * is api/'s own for kinds derived from a stored one (watch.c), and only for those. */
static void check_virtual(const kind_def_t *k)
{
    const api_virtual_ops_t *v = k->virt;
    bool derived = v->source && v->expand;
    struct { const char *verb; bool ok; } need[] = {
        {"get", v->get}, {"list", v->list || derived}, {"create", v->create}, {"update", v->update},
        {"patch", v->patch || (v->get && v->update)}, {"delete", v->del}, {"watch", derived}, {"deletecollection", false},
    };
    for (size_t i = 0; i < sizeof need / sizeof *need; i++) {
        if (schema_verbs_has(k->verbs, need[i].verb) && !need[i].ok) {
            log_error("api: virtual kind %s lists verb %s without a handler", k->resource, need[i].verb);
            abort();
        }
    }
}

/* status is built in for stored kinds; any other subresource is a get handler. */
static void check_subresources(const kind_def_t *k)
{
    for (size_t i = 0; i < k->nsubresources; i++) {
        const api_subresource_t *sr = &k->subresources[i];
        bool ok = sr->is_status ? kind_is_stored(k) && !sr->get
                                : sr->get && strcmp(sr->verbs, "get") == 0;
        if (!ok) {
            log_error("api: subresource %s/%s: status is for stored kinds, others are served by a get handler",
                      k->resource, sr->name);
            abort();
        }
    }
}

void kinds_init(api_t *a)
{
    a->nkinds = a->cfg.nkinds;
    a->kinds = xcalloc(a->nkinds ? a->nkinds : 1, sizeof *a->kinds);
    a->view_epochs = xcalloc(a->nkinds ? a->nkinds : 1, sizeof *a->view_epochs);
    for (size_t i = 0; i < a->nkinds; i++) {
        a->kinds[i] = a->cfg.kinds[i];
        const schema_kind_t *sk = a->kinds[i].schema;
        a->kinds[i].api_version = *sk->group ? xasprintf("%s/%s", sk->group, sk->version) : xstrdup(sk->version);
        a->kinds[i].prefix = !kind_is_stored(&a->kinds[i]) ? NULL
                             : *sk->group              ? xasprintf("/%s/%s/", sk->group, a->kinds[i].resource)
                                                       : xasprintf("/%s/", a->kinds[i].resource);
        a->kinds[i].cache = NULL;
        a->kinds[i].api = a;
        if (!kind_is_stored(&a->kinds[i]))
            check_virtual(&a->kinds[i]);
        check_subresources(&a->kinds[i]);
    }
    for (size_t i = 0; i < a->nkinds; i++) {
        const api_virtual_ops_t *v = a->kinds[i].virt;
        if (v && v->source && !kind_source(&a->kinds[i])) {
            log_error("api: virtual kind %s derives from %s, which is not a stored kind served here",
                      a->kinds[i].resource, v->source);
            abort();
        }
    }
}

const api_kind_t *kind_source(const kind_def_t *k)
{
    if (!k->virt || !k->virt->source)
        return NULL;
    const api_kind_t *s = api_kind_find(k->api, k->virt->source);
    return s && kind_is_stored(s) ? s : NULL;
}

void kinds_free(api_t *a)
{
    for (size_t i = 0; i < a->nkinds; i++) {
        free(a->kinds[i].prefix);
        free(a->kinds[i].api_version);
    }
    free(a->kinds);
    a->kinds = NULL;
    free(a->view_epochs);
    a->view_epochs = NULL;
    a->nkinds = 0;
}

const api_kind_t *api_kind_find(api_t *a, const char *resource) { return kinds_find(a, resource); }

int64_t api_kind_rev(const api_kind_t *k) { return k->cache ? cache_rev(k->cache) : 0; }

const api_subresource_t *api_kind_subresource(const api_kind_t *k, const char *name)
{
    for (size_t i = 0; i < k->nsubresources; i++)
        if (strcmp(k->subresources[i].name, name) == 0)
            return &k->subresources[i];
    return NULL;
}

int64_t kinds_cache_rev(api_t *a)
{
    int64_t rev = 0;
    for (size_t i = 0; i < a->nkinds; i++)
        if (a->kinds[i].cache && cache_rev(a->kinds[i].cache) > rev)
            rev = cache_rev(a->kinds[i].cache);
    return rev;
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
    if (x->view && x->kind->derive_free)
        x->kind->derive_free(x->view);
    free(x);
}

/* Value of a dotted path of plain object keys, as a string ("" if absent). */
char *kind_field_value(const json_t *o, const char *path)
{
    char *dup = xstrdup(path), *save = NULL;
    const json_t *cur = o;
    for (char *tok = strtok_r(dup, ".", &save); tok && cur; tok = strtok_r(NULL, ".", &save))
        cur = json_object_get(cur, tok);
    free(dup);
    const char *s = json_string_value(cur);
    return xstrdup(s ? s : "");
}

void kind_set_rv(json_t *obj, int64_t rev)
{
    json_t *meta = json_object_get(obj, "metadata");
    if (!json_is_object(meta)) {
        meta = json_object();
        json_object_set_new(obj, "metadata", meta);
    }
    char rv[24];
    snprintf(rv, sizeof rv, "%lld", (long long)rev);
    json_object_set_new(meta, "resourceVersion", json_string(rv));
}

json_t *kind_canonical(kind_def_t *k, api_call_t *c, json_t *obj, bool decorate)
{
    json_t *out = json_object();
    static const char *const first[] = {"kind", "apiVersion", "metadata"};
    for (int i = 0; i < 3; i++) {
        json_t *v = json_object_get(obj, first[i]);
        if (v)
            json_object_set(out, first[i], v);
    }
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        if (!json_object_get(out, key))
            json_object_set(out, key, v);
    }
    json_decref(obj);
    json_t *meta = json_object_get(out, "metadata");
    json_t *rv = json_incref(json_object_get(meta, "resourceVersion"));
    if (rv) {
        json_object_del(meta, "resourceVersion");
        json_object_set_new(meta, "resourceVersion", rv);
    }
    if (decorate && k->decorate)
        k->decorate(c, out);
    return out;
}

json_t *kind_output(kind_def_t *k, api_call_t *c, const char *value, size_t len, int64_t mod_rev,
                    bool decorate)
{
    json_t *stored = stored_value_decode(value, len);
    if (!json_is_object(stored)) {
        json_decref(stored);
        return NULL;
    }
    json_object_set_new(stored, "kind", json_string(k->kind));
    json_object_set_new(stored, "apiVersion", json_string(k->api_version));
    kind_set_rv(stored, mod_rev);
    return kind_canonical(k, c, stored, decorate);
}

cache_obj_t *kind_build_obj(void *ctx, const char *key, const char *value, size_t len, int64_t create_rev,
                            int64_t mod_rev)
{
    kind_def_t *k = ctx;
    /* decorate needs only the domain's configuration: a call without time (this runs on
     * the store's writer thread for every event: nothing more than needed) */
    api_call_t c = {.api = k->api, .user = &api_user_anonymous, .err = APIERR_INIT};
    json_t *out = kind_output(k, &c, value, len, mod_rev, true);
    api_call_clear(&c);
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
        x->fields[i] = kind_field_value(out, k->field_labels[i]);
    x->cells = k->table_cells ? k->table_cells(out) : json_array();
    x->meta_json = json_dumps(meta, JSON_COMPACT);
    x->view = k->derive ? k->derive(out) : NULL;
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
