/* verbs_delete: the HTTP delete and deletecollection verbs over api_obj_delete (with
 * finalizers, preconditions, dry run), or a virtual kind's delete handler.
 * There is no garbage collector in a standalone image server: Foreground and Background
 * propagation both delete at once (no dependents exist); Orphan likewise. */
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"

void verb_delete(http_req_t *h, void *arg)
{
    api_req_t *r = arg;
    size_t len;
    const char *body = http_body(h, &len);
    char *puid = NULL, *prv = NULL;
    json_t *obj = NULL;
    bool pending = false;
    if (req_options_delete_body(body, len, &r->opt, &puid, &prv, &r->call.err) != 0)
        goto fail;
    r->call.dry_run = r->opt.dry_run;   /* the DeleteOptions body may set dryRun too */
    if (r->kind->virt) {
        r->call.precond_uid = puid;   /* the handler checks it against what it deletes from */
        obj = r->kind->virt->del(&r->call, r->ns, r->name);
        if (!obj)
            goto fail;
        api_respond_json(r, 200, obj);
        goto out;
    }
    obj = api_obj_delete(&r->call, r->kind, r->ns, r->name, puid, prv, &pending);
    if (!obj)
        goto fail;
    if (pending) {
        api_respond_json(r, 202, obj);
    } else {
        /* OpenShift's image registries answer a completed delete with a Success Status (§0.2). */
        const char *uid = json_string_value(json_object_get(json_object_get(obj, "metadata"), "uid"));
        api_respond_json(r, 200, status_success(r->name, r->kind->schema->group, r->kind->resource, uid));
        json_decref(obj);
    }
    goto out;
fail:
    api_respond_error(r);
out:
    free(puid);
    free(prv);
    api_req_free(r);
}

typedef struct dc_acc {
    api_req_t *r;
    label_selector_t *ls;
    field_selector_t *fs;
    char **names;
    size_t n, cap;
} dc_acc_t;

static int dc_visit(void *arg, cache_obj_t *o)
{
    dc_acc_t *acc = arg;
    if (!obj_matches(acc->r, acc->ls, acc->fs, o))
        return 0;
    if (acc->n == acc->cap) {
        acc->cap = acc->cap ? acc->cap * 2 : 32;
        acc->names = xrealloc(acc->names, acc->cap * sizeof *acc->names);
    }
    obj_extra_t *x = o->extra;
    acc->names[acc->n++] = xstrdup(x->name);
    return 0;
}

void verb_deletecollection(http_req_t *h, void *arg)
{
    api_req_t *r = arg;
    size_t len;
    const char *body = http_body(h, &len);
    char *puid = NULL, *prv = NULL;
    dc_acc_t acc = {.r = r};
    json_t *items = json_array();
    char *prefix = collection_prefix(r);
    if (req_options_delete_body(body, len, &r->opt, &puid, &prv, &r->call.err) != 0)
        goto fail;
    r->call.dry_run = r->opt.dry_run;   /* the DeleteOptions body may set dryRun too */
    if (selectors_parse(r, NULL, &acc.ls, &acc.fs) != 0)
        goto fail;
    int64_t rev = 0;
    if (api_consistent_read(&r->call, r->kind->cache) != 0)
        goto fail;
    cache_scan(r->kind->cache, prefix, NULL, dc_visit, &acc, &rev);
    for (size_t i = 0; i < acc.n; i++) {
        bool pending;
        json_t *obj = api_obj_delete(&r->call, r->kind, r->ns, acc.names[i], puid, prv, &pending);
        if (obj) {
            json_array_append_new(items, obj);
        } else if (r->call.err.kind == APIERR_NOT_FOUND) {
            apierr_clear(&r->call.err); /* deleted concurrently */
        } else {
            goto fail;
        }
    }
    char rvs[24];
    snprintf(rvs, sizeof rvs, "%lld", (long long)store_current_rev(r->api->store));
    api_respond_json(r, 200, json_pack("{s:s, s:s, s:{s:s}, s:O}", "kind", r->kind->list_kind, "apiVersion", r->kind->api_version,
                                       "metadata", "resourceVersion", rvs, "items", items));
    goto out;
fail:
    api_respond_error(r);
out:
    json_decref(items);
    for (size_t i = 0; i < acc.n; i++)
        free(acc.names[i]);
    free(acc.names);
    label_selector_free(acc.ls);
    field_selector_free(acc.fs);
    free(prefix);
    free(puid);
    free(prv);
    api_req_free(r);
}
