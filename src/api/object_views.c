/* object_views: the derived views of stored objects (api_kind_t.derive), read straight
 * from the watch cache without decoding the object — for read paths whose cost would
 * otherwise be dominated by decoding a large object (an ImageStreamImage lookup in a
 * stream with 10,000 history entries). The view lives as long as the cached object
 * (one stored revision); a hold keeps that object alive. */
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"

static int stored_kind(api_call_t *c, const kind_def_t *k)
{
    if (kind_is_stored(k) && k->cache)
        return 0;
    return apierr_set(&c->err, APIERR_INTERNAL, "Internal error occurred: %s is not a stored kind", k->resource);
}

int api_obj_view(api_call_t *c, const api_kind_t *kc, const char *ns, const char *name, const void **view,
                 api_view_hold_t **held)
{
    kind_def_t *k = (kind_def_t *)kc;
    *view = NULL;
    *held = NULL;
    if (stored_kind(c, k) != 0 || api_consistent_read(c, k->cache) != 0)
        return -1;
    char *key = kind_key(k, ns, name);
    cache_obj_t *o = cache_get(k->cache, key);
    free(key);
    if (!o)
        return apierr_not_found(&c->err, k->resource, k->schema->group, name);
    *view = ((obj_extra_t *)o->extra)->view;
    *held = (api_view_hold_t *)o;
    return 0;
}

void api_view_release(api_view_hold_t *held)
{
    cache_obj_unref((cache_obj_t *)held);
}

typedef struct views_arg {
    void (*fn)(void *arg, size_t i, const void *view);
    void *arg;
} views_arg_t;

static void view_of(void *arg, size_t i, cache_obj_t *o)
{
    views_arg_t *va = arg;
    va->fn(va->arg, i, o ? ((obj_extra_t *)o->extra)->view : NULL);
}

int api_obj_views(api_call_t *c, const api_kind_t *kc, const char *ns, const char *const *names, size_t n,
                  void (*fn)(void *arg, size_t i, const void *view), void *arg)
{
    kind_def_t *k = (kind_def_t *)kc;
    if (stored_kind(c, k) != 0 || api_consistent_read(c, k->cache) != 0)
        return -1;
    char *prefix = k->namespaced ? xasprintf("%s%s/", k->prefix, ns ? ns : "") : xstrdup(k->prefix);
    views_arg_t va = {fn, arg};
    cache_get_sorted(k->cache, prefix, names, n, view_of, &va);
    free(prefix);
    return 0;
}

typedef struct refs_arg {
    cache_obj_t **refs;
} refs_arg_t;

static void take_ref(void *arg, size_t i, cache_obj_t *o)
{
    ((refs_arg_t *)arg)->refs[i] = cache_obj_ref(o);
}

int api_obj_get_many(api_call_t *c, const api_kind_t *kc, const char *ns, const char *const *names, size_t n,
                     int (*fn)(void *arg, size_t i, const json_t *obj), void *arg)
{
    kind_def_t *k = (kind_def_t *)kc;
    if (stored_kind(c, k) != 0 || api_consistent_read(c, k->cache) != 0)
        return -1;
    char *prefix = k->namespaced ? xasprintf("%s%s/", k->prefix, ns ? ns : "") : xstrdup(k->prefix);
    refs_arg_t ra = {xcalloc(n ? n : 1, sizeof *ra.refs)};
    /* references under the lock, decoding after it (as api_obj_list) */
    cache_get_sorted(k->cache, prefix, names, n, take_ref, &ra);
    free(prefix);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *obj = NULL;
        if (rc == 0 && ra.refs[i]) {
            json_error_t jerr;
            obj = json_loadb(ra.refs[i]->json, ra.refs[i]->json_len, 0, &jerr);
            if (!obj) {
                api_store_err(&c->err, k, STORE_UNAVAILABLE, names[i]);
                rc = -1;
            }
        }
        if (rc == 0 && fn(arg, i, obj) != 0)
            rc = -1;
        json_decref(obj);
        cache_obj_unref(ra.refs[i]);
    }
    free(ra.refs);
    if (rc < 0 && !apierr_is_set(&c->err))
        apierr_set(&c->err, APIERR_INTERNAL, "Internal error occurred: reading %s failed", k->resource);
    return rc;
}

/* ---- the epoch of a kind's views ---- */

static bool has_view(const cache_obj_t *o)
{
    return o && o->extra && ((const obj_extra_t *)o->extra)->view;
}

static void view_changes(void *ctx, const cache_obj_t *old, const cache_obj_t *obj)
{
    kind_def_t *k = ctx;
    if (has_view(old) || has_view(obj) || (!old && !obj))
        atomic_fetch_add(&k->api->view_epochs[k - k->api->kinds], 1);
}

void views_watch(api_t *a, kind_def_t *k)
{
    if (k->derive && k->cache)
        cache_set_apply_hook(k->cache, view_changes, k);
    (void)a;
}

int api_views_epoch(api_call_t *c, const api_kind_t *kc, uint64_t *epoch)
{
    kind_def_t *k = (kind_def_t *)kc;
    *epoch = 0;
    if (stored_kind(c, k) != 0 || api_consistent_read(c, k->cache) != 0)
        return -1;
    *epoch = atomic_load(&k->api->view_epochs[k - k->api->kinds]);
    return 0;
}
