/* verbs_delete: delete (with finalizers, preconditions, dry run) and deletecollection.
 * There is no garbage collector in a standalone image server: Foreground and Background
 * propagation both delete at once (no dependents exist); Orphan likewise. */
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"

/* Deletes one object. Returns 0 on success (*resp = the response object, *code = HTTP code). */
static int delete_one(api_req_t *r, const char *name, const char *precond_uid, const char *precond_rv,
                      json_t **resp, int *code)
{
    char *key = kind_key(r->kind, r->ns, name);
    int rc = STORE_OK;
    for (int attempt = 0; attempt < 8; attempt++) {
        store_kv_t kv;
        rc = store_get(r->api->store, key, &kv);
        if (rc != STORE_OK)
            break;
        json_t *obj = kind_output(r->kind, &r->ictx, kv.value, kv.value_len, kv.mod_rev, false);
        int64_t rev = kv.mod_rev;
        store_kv_free(&kv);
        if (!obj) {
            rc = STORE_UNAVAILABLE;
            break;
        }
        json_t *meta = json_object_get(obj, "metadata");
        const char *uid = json_string_value(json_object_get(meta, "uid"));
        if (precond_uid && (!uid || strcmp(precond_uid, uid) != 0)) {
            /* kube's wording: "Operation cannot be fulfilled on <r> "<n>": Precondition failed: ..." */
            char *why = xasprintf("Precondition failed: UID in precondition: %s, UID in object meta: %s",
                                  precond_uid, uid ? uid : "");
            apierr_conflict(&r->err, r->kind->resource, API_GROUP, name, why);
            free(why);
            json_decref(obj);
            free(key);
            return -1;
        }
        if (precond_rv && strtoll(precond_rv, NULL, 10) != rev) {
            char *why = xasprintf("Precondition failed: ResourceVersion in precondition: %s, ResourceVersion in "
                                  "object meta: %lld", precond_rv, (long long)rev);
            apierr_conflict(&r->err, r->kind->resource, API_GROUP, name, why);
            free(why);
            json_decref(obj);
            free(key);
            return -1;
        }
        bool has_finalizers = json_array_size(json_object_get(meta, "finalizers")) > 0;
        if (has_finalizers) {
            /* Graceful: mark for deletion; the object goes when its last finalizer is removed. */
            if (!json_object_get(meta, "deletionTimestamp")) {
                json_object_set_new(meta, "deletionTimestamp", json_string(r->now));
                json_object_set_new(meta, "deletionGracePeriodSeconds", json_integer(0));
                json_int_t gen = json_integer_value(json_object_get(meta, "generation"));
                if (gen > 0)
                    json_object_set_new(meta, "generation", json_integer(gen + 1));
                if (!r->opt.dry_run) {
                    json_object_del(meta, "resourceVersion");
                    char *bytes = json_dumps(obj, JSON_COMPACT);
                    int64_t nrev = 0;
                    rc = store_update(r->api->store, key, bytes, strlen(bytes), rev, &nrev);
                    free(bytes);
                    if (rc == STORE_CONFLICT) {
                        json_decref(obj);
                        continue;
                    }
                    if (rc != STORE_OK) {
                        json_decref(obj);
                        break;
                    }
                    char rv[24];
                    snprintf(rv, sizeof rv, "%lld", (long long)nrev);
                    json_object_set_new(meta, "resourceVersion", json_string(rv));
                }
            }
            if (r->kind->decorate)
                r->kind->decorate(&r->ictx, obj);
            *resp = obj;
            *code = 202;
            free(key);
            return 0;
        }
        if (!r->opt.dry_run) {
            int64_t drev = 0;
            rc = store_delete(r->api->store, key, rev, &drev, NULL);
            if (rc == STORE_CONFLICT) {
                json_decref(obj);
                continue;
            }
            if (rc != STORE_OK) {
                json_decref(obj);
                break;
            }
        }
        *resp = obj;
        *code = 200;
        free(key);
        return 0;
    }
    free(key);
    return api_store_fail(r, rc, name);
}

void verb_delete(http_req_t *h, void *arg)
{
    api_req_t *r = arg;
    size_t len;
    const char *body = http_body(h, &len);
    char *puid = NULL, *prv = NULL;
    json_t *obj = NULL;
    int code = 200;
    if (req_options_delete_body(body, len, &r->opt, &puid, &prv, &r->err) != 0)
        goto fail;
    if (delete_one(r, r->name, puid, prv, &obj, &code) != 0)
        goto fail;
    if (code == 202) {
        api_respond_json(r, 202, obj);
    } else {
        /* OpenShift's image registries answer a completed delete with a Success Status (§0.2). */
        const char *uid = json_string_value(json_object_get(json_object_get(obj, "metadata"), "uid"));
        api_respond_json(r, 200, status_success(r->name, API_GROUP, r->kind->resource, uid));
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
    if (req_options_delete_body(body, len, &r->opt, &puid, &prv, &r->err) != 0)
        goto fail;
    if (selectors_parse(r, NULL, &acc.ls, &acc.fs) != 0)
        goto fail;
    int64_t rev = 0;
    if (api_consistent_read(r, r->kind->cache) != 0)
        goto fail;
    cache_scan(r->kind->cache, prefix, NULL, dc_visit, &acc, &rev);
    for (size_t i = 0; i < acc.n; i++) {
        json_t *obj = NULL;
        int code;
        if (delete_one(r, acc.names[i], puid, prv, &obj, &code) == 0) {
            json_array_append_new(items, obj);
        } else if (r->err.kind == APIERR_NOT_FOUND) {
            apierr_clear(&r->err); /* deleted concurrently */
        } else {
            goto fail;
        }
    }
    char rvs[24];
    snprintf(rvs, sizeof rvs, "%lld", (long long)store_current_rev(r->api->store));
    api_respond_json(r, 200, json_pack("{s:s, s:s, s:{s:s}, s:O}", "kind", r->kind->list_kind, "apiVersion", API_GV,
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
