/* object: the internal object API (resource.h) for stored kinds — get, list, create,
 * update, delete and mutate-with-retry. One write pipeline: system metadata -> strategy
 * prepare -> validate -> managedFields -> no-op check / dry run -> store. The HTTP verbs
 * are thin wrappers over it; so are virtual resources and controllers. */
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "api/objectmeta.h"
#include "api/patch.h"

static json_t *meta_of(json_t *obj)
{
    json_t *m = json_object_get(obj, "metadata");
    if (!json_is_object(m)) {
        m = json_object();
        json_object_set_new(obj, "metadata", m);
    }
    return m;
}

static const char *meta_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(json_object_get(obj, "metadata"), key));
}

/* Namespace of the object against the call's (stored-resources §0.2). */
static int check_namespace(api_call_t *c, const kind_def_t *k, const char *ns, json_t *meta)
{
    const char *bns = json_string_value(json_object_get(meta, "namespace"));
    if (!k->namespaced) {
        json_object_del(meta, "namespace");
        return 0;
    }
    if (bns && *bns && strcmp(bns, ns ? ns : "") != 0)
        return apierr_set(&c->err, APIERR_BAD_REQUEST,
                          "the namespace of the provided object does not match the namespace sent on the request");
    json_object_set_new(meta, "namespace", json_string(ns ? ns : ""));
    return 0;
}

static int validate_obj(api_call_t *c, const kind_def_t *k, json_t *obj, const json_t *old, bool status)
{
    ferrs_t errs = FERRS_INIT;
    if (status && k->validate_status_update)
        k->validate_status_update(c, obj, old, &errs);
    else if (k->validate)
        k->validate(c, obj, old, &errs);
    if (errs.n == 0) {
        json_t *meta = json_object_get(obj, "metadata");
        if (old)
            validate_object_meta_update(meta, json_object_get(old, "metadata"), k->namespaced, &errs);
        else
            validate_object_meta(meta, k->namespaced, &errs);
    }
    int rc = 0;
    if (errs.n) {
        char *qk = *k->schema->group ? xasprintf("%s.%s", k->kind, k->schema->group) : xstrdup(k->kind);
        const char *name = meta_str(obj, "name");
        apierr_invalid(&c->err, qk, k->kind, k->schema->group, name ? name : meta_str(obj, "generateName"), &errs);
        free(qk);
        rc = -1;
    }
    ferrs_free(&errs);
    return rc;
}

/* Stored bytes: the canonical JSON of everything but metadata.resourceVersion (deflated
 * when large: stored_value.c). */
static char *stored_bytes(json_t *obj, size_t *len)
{
    json_t *meta = json_object_get(obj, "metadata");
    json_t *rv = json_incref(json_object_get(meta, "resourceVersion"));
    json_object_del(meta, "resourceVersion");
    char *s = json_dumps(obj, JSON_COMPACT);
    if (rv)
        json_object_set_new(meta, "resourceVersion", rv);
    return stored_value_encode(s, strlen(s), len);
}

/* The result as a GET shows it; a status write shows the stored object. Steals obj. */
static json_t *output_form(api_call_t *c, kind_def_t *k, json_t *obj, bool status)
{
    return kind_canonical(k, c, obj, !status);
}

static const char *manager_of(api_call_t *c) { return c->field_manager ? c->field_manager : "unknown"; }

json_t *object_load(api_call_t *c, kind_def_t *k, const char *ns, const char *name, int64_t *rev)
{
    char *key = kind_key(k, ns, name);
    store_kv_t kv;
    int rc = store_get(k->api->store, key, &kv);
    free(key);
    if (rc != STORE_OK) {
        api_store_err(&c->err, k, rc, name);
        return NULL;
    }
    json_t *old = kind_output(k, c, kv.value, kv.value_len, kv.mod_rev, false);
    *rev = kv.mod_rev;
    store_kv_free(&kv);
    if (!old)
        api_store_err(&c->err, k, STORE_UNAVAILABLE, name);
    return old;
}

/* ---- get, list ---- */

json_t *api_obj_get(api_call_t *c, const api_kind_t *kc, const char *ns, const char *name)
{
    kind_def_t *k = (kind_def_t *)kc;
    if (api_consistent_read(c, k->cache) != 0)
        return NULL;
    char *key = kind_key(k, ns, name);
    cache_obj_t *o = cache_get(k->cache, key);
    free(key);
    if (!o) {
        apierr_not_found(&c->err, k->resource, k->schema->group, name);
        return NULL;
    }
    json_error_t jerr;
    json_t *out = json_loadb(o->json, o->json_len, 0, &jerr);
    cache_obj_unref(o);
    if (!out)
        api_store_err(&c->err, k, STORE_UNAVAILABLE, name);
    return out;
}

typedef struct refs_acc {
    cache_obj_t **items;
    size_t n, cap;
} refs_acc_t;

static int collect_ref(void *arg, cache_obj_t *o)
{
    refs_acc_t *acc = arg;
    if (acc->n == acc->cap) {
        acc->cap = acc->cap ? acc->cap * 2 : 64;
        acc->items = xrealloc(acc->items, acc->cap * sizeof *acc->items);
    }
    acc->items[acc->n++] = cache_obj_ref(o);
    return 0;
}

int api_obj_list(api_call_t *c, const api_kind_t *kc, const char *ns, int (*fn)(void *arg, const json_t *obj),
                 void *arg)
{
    return api_obj_list_at(c, kc, ns, fn, arg, NULL);
}

int api_obj_list_at(api_call_t *c, const api_kind_t *kc, const char *ns, int (*fn)(void *arg, const json_t *obj),
                    void *arg, int64_t *rev_out)
{
    kind_def_t *k = (kind_def_t *)kc;
    if (api_consistent_read(c, k->cache) != 0)
        return -1;
    char *prefix = ns ? xasprintf("%s%s/", k->prefix, ns) : xstrdup(k->prefix);
    refs_acc_t acc = {0};
    int64_t rev = 0;
    /* references first, decoding after: fn may call back into the cache */
    cache_scan(k->cache, prefix, NULL, collect_ref, &acc, &rev);
    free(prefix);
    if (rev_out)
        *rev_out = rev;
    int rc = 0;
    size_t i = 0;
    for (; i < acc.n && rc == 0; i++) {
        json_error_t jerr;
        json_t *obj = json_loadb(acc.items[i]->json, acc.items[i]->json_len, 0, &jerr);
        if (obj)
            rc = fn(arg, obj);
        json_decref(obj);
        cache_obj_unref(acc.items[i]);
    }
    for (; i < acc.n; i++)
        cache_obj_unref(acc.items[i]);
    free(acc.items);
    if (rc < 0 && !apierr_is_set(&c->err))
        apierr_set(&c->err, APIERR_INTERNAL, "Internal error occurred: listing %s failed", k->resource);
    return rc < 0 ? -1 : 0;
}

/* ---- create ---- */

void api_meta_prepare_create(api_call_t *c, json_t *meta)
{
    static const char *const wiped[] = {"uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                                        "selfLink", "resourceVersion"};
    for (size_t i = 0; i < sizeof wiped / sizeof *wiped; i++)
        json_object_del(meta, wiped[i]);
    const char *name = json_string_value(json_object_get(meta, "name"));
    const char *gen = json_string_value(json_object_get(meta, "generateName"));
    if ((!name || !*name) && gen && *gen) {
        char suffix[6];
        random_suffix(suffix, 5);
        json_object_set_new(meta, "name", json_sprintf("%.58s%s", gen, suffix));
    }
    char uid[37];
    uuid_new(uid);
    json_object_set_new(meta, "uid", json_string(uid));
    json_object_set_new(meta, "creationTimestamp", json_string(c->now));
}

/* obj is owned and changed. */
static json_t *create_core(api_call_t *c, kind_def_t *k, const char *ns, json_t *obj, const api_write_opts_t *o)
{
    json_t *meta = meta_of(obj);
    json_object_set_new(obj, "kind", json_string(k->kind));
    json_object_set_new(obj, "apiVersion", json_string(k->api_version));
    if (check_namespace(c, k, ns, meta) != 0)
        goto fail;
    const char *crv = json_string_value(json_object_get(meta, "resourceVersion"));
    if (crv && *crv) {
        /* as kube-apiserver's storage layer: a create cannot carry a version to match */
        apierr_set(&c->err, APIERR_BAD_REQUEST, "resourceVersion should not be set on objects to be created");
        goto fail;
    }
    api_meta_prepare_create(c, meta);
    if (k->normalize)
        k->normalize(c, obj);
    if (o && o->internal) {
        if (k->prepare_internal)
            k->prepare_internal(c, obj, NULL);
    } else if (k->prepare_create) {
        k->prepare_create(c, obj);
    }
    if (validate_obj(c, k, obj, NULL, false) != 0)
        goto fail;
    if (!(o && o->fields_managed))
        managed_fields_update(obj, NULL, manager_of(c), k->api_version, NULL, k->schema->root, c->now);
    const char *name = meta_str(obj, "name");
    char *key = kind_key(k, ns, name);
    if (c->dry_run) {
        /* Everything but the write: an existing name still conflicts (also one just
         * created through another replica). */
        cache_obj_t *existing = NULL;
        if (api_consistent_read(c, k->cache) == 0)
            existing = cache_get(k->cache, key);
        free(key);
        if (apierr_is_set(&c->err))
            goto fail;
        if (existing) {
            cache_obj_unref(existing);
            apierr_already_exists(&c->err, k->resource, k->schema->group, name);
            goto fail;
        }
        return output_form(c, k, obj, false);
    }
    size_t len;
    char *bytes = stored_bytes(obj, &len);
    int64_t rev = 0;
    int rc = store_create(k->api->store, key, bytes, len, &rev);
    free(bytes);
    free(key);
    if (rc != STORE_OK) {
        api_store_err(&c->err, k, rc, name);
        goto fail;
    }
    kind_set_rv(obj, rev);
    return output_form(c, k, obj, false);
fail:
    json_decref(obj);
    return NULL;
}

json_t *api_obj_create(api_call_t *c, const api_kind_t *k, const char *ns, const json_t *obj)
{
    if (!json_is_object(obj)) {
        apierr_set(&c->err, APIERR_BAD_REQUEST, "the object to create is not a JSON object");
        return NULL;
    }
    return create_core(c, (kind_def_t *)k, ns, json_deep_copy(obj), NULL);
}

/* ---- update ---- */

/* Equal apart from managedFields timestamps: such a write would change nothing. */
static bool same_object(const json_t *a, const json_t *b)
{
    json_t *ca = json_deep_copy(a), *cb = json_deep_copy(b);
    json_t *ma = json_object_get(ca, "metadata"), *mb = json_object_get(cb, "metadata");
    json_t *lists[2] = {json_object_get(ma, "managedFields"), json_object_get(mb, "managedFields")};
    for (int i = 0; i < 2; i++)
        for (size_t j = 0; j < json_array_size(lists[i]); j++)
            json_object_del(json_array_get(lists[i], j), "time");
    json_object_del(ma, "resourceVersion");
    json_object_del(mb, "resourceVersion");
    bool eq = json_equal(ca, cb);
    json_decref(ca);
    json_decref(cb);
    return eq;
}

/* The shared update path. obj is owned and changed; old is the stored object in output
 * form (undecorated, with resourceVersion old_rev). On a store conflict that may be
 * retried, returns NULL with *conflict set and the call's error untouched. */
static json_t *update_core(api_call_t *c, kind_def_t *k, const char *ns, const char *name, json_t *obj,
                           const json_t *old, int64_t old_rev, const api_write_opts_t *o, bool *conflict)
{
    bool internal = o && o->internal;
    bool status = o && o->subresource && !internal;
    json_t *meta = meta_of(obj);
    const json_t *old_meta = json_object_get(old, "metadata");
    json_object_set_new(obj, "kind", json_string(k->kind));
    json_object_set_new(obj, "apiVersion", json_string(k->api_version));
    const char *bname = json_string_value(json_object_get(meta, "name"));
    if (bname && *bname && strcmp(bname, name) != 0) {
        apierr_set(&c->err, APIERR_BAD_REQUEST, "the name of the object (%s) does not match the name on the URL (%s)",
                   bname, name);
        goto fail;
    }
    json_object_set_new(meta, "name", json_string(name));
    if (check_namespace(c, k, ns, meta) != 0)
        goto fail;
    const char *brv = json_string_value(json_object_get(meta, "resourceVersion"));
    if (!brv || !*brv) {
        if (o && o->rv_required) {
            ferrs_t e = FERRS_INIT;
            ferrs_add(&e, FERR_INVALID, "metadata.resourceVersion", json_integer(0), "must be specified for an update");
            char *qk = *k->schema->group ? xasprintf("%s.%s", k->resource, k->schema->group) : xstrdup(k->resource);
            apierr_invalid(&c->err, qk, k->resource, k->schema->group, name, &e);
            free(qk);
            ferrs_free(&e);
            goto fail;
        }
    } else {
        char *end = NULL;
        long long want = strtoll(brv, &end, 10);
        if (!end || *end || want != old_rev) {
            apierr_conflict(&c->err, k->resource, k->schema->group, name, NULL);
            goto fail;
        }
    }
    /* System fields come from the stored object. */
    static const char *const kept[] = {"uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                                       "generation"};
    const char *buid = json_string_value(json_object_get(meta, "uid"));
    const char *ouid = json_string_value(json_object_get(old_meta, "uid"));
    if (buid && *buid && ouid && strcmp(buid, ouid) != 0) {
        apierr_conflict(&c->err, k->resource, k->schema->group, name,
                        "Precondition failed: UID in precondition does not match the UID of the stored object");
        goto fail;
    }
    for (size_t i = 0; i < sizeof kept / sizeof *kept; i++) {
        json_t *v = json_object_get(old_meta, kept[i]);
        if (v)
            json_object_set(meta, kept[i], v);
        else
            json_object_del(meta, kept[i]);
    }
    json_object_del(meta, "selfLink");
    if (!json_object_get(meta, "managedFields") && json_object_get(old_meta, "managedFields"))
        json_object_set(meta, "managedFields", json_object_get(old_meta, "managedFields"));
    if (k->normalize)
        k->normalize(c, obj);
    if (internal) {
        if (k->prepare_internal)
            k->prepare_internal(c, obj, old);
    } else if (status && k->prepare_status_update) {
        k->prepare_status_update(c, obj, old);
    } else if (k->prepare_update) {
        k->prepare_update(c, obj, old);
    }
    if (validate_obj(c, k, obj, old, status) != 0)
        goto fail;
    if (!(o && o->fields_managed))
        managed_fields_update(obj, old, manager_of(c), k->api_version, status ? o->subresource : NULL, k->schema->root,
                              c->now);
    kind_set_rv(obj, old_rev);
    if (same_object(obj, old)) {
        json_decref(obj);
        return output_form(c, k, json_deep_copy(old), status);
    }
    if (c->dry_run)
        return output_form(c, k, obj, status);
    char *key = kind_key(k, ns, name);
    int64_t rev = 0;
    int rc;
    bool finalize = json_object_get(meta, "deletionTimestamp") &&
                    json_array_size(json_object_get(meta, "finalizers")) == 0;
    if (finalize) {
        /* The last finalizer is gone from an object being deleted: delete it now. */
        rc = store_delete(k->api->store, key, old_rev, &rev, NULL);
    } else {
        size_t len;
        char *bytes = stored_bytes(obj, &len);
        rc = store_update(k->api->store, key, bytes, len, old_rev, &rev);
        free(bytes);
    }
    free(key);
    if (rc == STORE_CONFLICT && conflict) {
        *conflict = true;
        goto fail;
    }
    if (rc != STORE_OK) {
        api_store_err(&c->err, k, rc, name);
        goto fail;
    }
    kind_set_rv(obj, rev);
    return output_form(c, k, obj, status);
fail:
    json_decref(obj);
    return NULL;
}

/* One write of mutate: the function's result against what was read. */
typedef struct replace_arg {
    const json_t *obj;
} replace_arg_t;

static int replace_fn(api_call_t *c, json_t **obj, void *arg)
{
    replace_arg_t *ra = arg;
    json_decref(*obj);
    *obj = json_deep_copy(ra->obj);
    return 0;
}

json_t *api_obj_update(api_call_t *c, const api_kind_t *k, const char *ns, const char *name, const json_t *obj,
                       const api_write_opts_t *opts)
{
    if (!json_is_object(obj)) {
        apierr_set(&c->err, APIERR_BAD_REQUEST, "the object to update is not a JSON object");
        return NULL;
    }
    api_write_opts_t o = opts ? *opts : (api_write_opts_t){0};
    o.create_missing = false;
    /* without a resourceVersion an update is unconditional: retried on conflicts as
     * kube's GuaranteedUpdate does; with one, mutate's precondition rule applies */
    replace_arg_t ra = {obj};
    const char *brv = meta_str(obj, "resourceVersion");
    if ((!brv || !*brv) && !o.rv_required)
        return api_obj_mutate(c, k, ns, name, replace_fn, &ra, &o);
    int64_t rev = 0;
    json_t *old = object_load(c, (kind_def_t *)k, ns, name, &rev);
    if (!old)
        return NULL;
    json_t *res = update_core(c, (kind_def_t *)k, ns, name, json_deep_copy(obj), old, rev, &o, NULL);
    json_decref(old);
    return res;
}

/* The retry loop of mutate; the caller holds the object's lock (or a nested one). */
static json_t *mutate_locked(api_call_t *c, kind_def_t *k, const char *ns, const char *name, api_mutate_fn fn,
                             void *arg, const api_write_opts_t *o)
{
    int attempts = o->attempts > 0 ? o->attempts : API_MUTATE_ATTEMPTS;
    for (int attempt = 0; attempt < attempts; attempt++) {
        int64_t rev = 0;
        json_t *old = object_load(c, k, ns, name, &rev);
        if (!old) {
            if (c->err.kind != APIERR_NOT_FOUND || !o->create_missing)
                return NULL;
            apierr_clear(&c->err);
            json_t *fresh = NULL;
            if (fn(c, &fresh, arg) < 0 || !fresh) {
                json_decref(fresh);
                if (!apierr_is_set(&c->err))
                    apierr_set(&c->err, APIERR_INTERNAL, "Internal error occurred: nothing to create");
                return NULL;
            }
            json_object_set_new(meta_of(fresh), "name", json_string(name));
            json_t *res = create_core(c, k, ns, fresh, o);
            if (res || c->err.kind != APIERR_ALREADY_EXISTS)
                return res;
            apierr_clear(&c->err);   /* created meanwhile (another replica): change that one */
            continue;
        }
        json_t *obj = json_deep_copy(old);
        int rc = fn(c, &obj, arg);
        if (rc < 0 || !json_is_object(obj)) {
            json_decref(obj);
            json_decref(old);
            if (!apierr_is_set(&c->err))
                apierr_set(&c->err, APIERR_INTERNAL, "Internal error occurred: the change produced no object");
            return NULL;
        }
        if (rc == API_MUTATE_UNCHANGED) {
            json_decref(obj);
            return output_form(c, k, old, o->subresource != NULL && !o->internal);
        }
        /* a resourceVersion the function set to something else is a precondition */
        const char *prv = meta_str(obj, "resourceVersion");
        bool explicit_rv = prv && *prv && strtoll(prv, NULL, 10) != rev;
        if (!prv || !*prv)
            kind_set_rv(obj, rev);
        bool conflict = false;
        json_t *res = update_core(c, k, ns, name, obj, old, rev, o, explicit_rv ? NULL : &conflict);
        json_decref(old);
        if (res || !conflict)
            return res;
    }
    apierr_conflict(&c->err, k->resource, k->schema->group, name, NULL);
    return NULL;
}

json_t *api_obj_mutate(api_call_t *c, const api_kind_t *kc, const char *ns, const char *name, api_mutate_fn fn,
                       void *arg, const api_write_opts_t *opts)
{
    kind_def_t *k = (kind_def_t *)kc;
    api_write_opts_t o = opts ? *opts : (api_write_opts_t){0};
    o.rv_required = false;
    pthread_mutex_t *lock = object_lock(k->api, k, ns, name);
    json_t *res = mutate_locked(c, k, ns, name, fn, arg, &o);
    object_unlock(lock);
    return res;
}

/* ---- delete ---- */

/* The retry loop of delete; the caller holds the object's lock (or a nested one). */
static json_t *delete_locked(api_call_t *c, kind_def_t *k, const char *ns, const char *name,
                             const char *precond_uid, const char *precond_rv, bool *pending)
{
    const char *group = k->schema->group;
    char *key = kind_key(k, ns, name);
    int rc = STORE_CONFLICT;
    *pending = false;
    for (int attempt = 0; attempt < API_MUTATE_ATTEMPTS; attempt++) {
        int64_t rev = 0;
        json_t *obj = object_load(c, k, ns, name, &rev);
        if (!obj) {
            free(key);
            return NULL;
        }
        json_t *meta = json_object_get(obj, "metadata");
        const char *uid = json_string_value(json_object_get(meta, "uid"));
        if (precond_uid && (!uid || strcmp(precond_uid, uid) != 0)) {
            /* kube's wording: "Operation cannot be fulfilled on <r> "<n>": Precondition failed: ..." */
            char *why = xasprintf("Precondition failed: UID in precondition: %s, UID in object meta: %s",
                                  precond_uid, uid ? uid : "");
            apierr_conflict(&c->err, k->resource, group, name, why);
            free(why);
            goto fail;
        }
        if (precond_rv && strtoll(precond_rv, NULL, 10) != rev) {
            char *why = xasprintf("Precondition failed: ResourceVersion in precondition: %s, ResourceVersion in "
                                  "object meta: %lld", precond_rv, (long long)rev);
            apierr_conflict(&c->err, k->resource, group, name, why);
            free(why);
            goto fail;
        }
        if (json_array_size(json_object_get(meta, "finalizers")) > 0) {
            /* Graceful: mark for deletion; the object goes when its last finalizer is removed. */
            if (!json_object_get(meta, "deletionTimestamp")) {
                json_object_set_new(meta, "deletionTimestamp", json_string(c->now));
                json_object_set_new(meta, "deletionGracePeriodSeconds", json_integer(0));
                json_int_t gen = json_integer_value(json_object_get(meta, "generation"));
                if (gen > 0)
                    json_object_set_new(meta, "generation", json_integer(gen + 1));
                if (!c->dry_run) {
                    size_t len;
                    char *bytes = stored_bytes(obj, &len);
                    int64_t nrev = 0;
                    rc = store_update(k->api->store, key, bytes, len, rev, &nrev);
                    free(bytes);
                    if (rc == STORE_CONFLICT) {
                        json_decref(obj);
                        continue;
                    }
                    if (rc != STORE_OK)
                        goto store_fail;
                    kind_set_rv(obj, nrev);
                }
            }
            free(key);
            *pending = true;
            return output_form(c, k, obj, false);
        }
        if (!c->dry_run) {
            int64_t drev = 0;
            rc = store_delete(k->api->store, key, rev, &drev, NULL);
            if (rc == STORE_CONFLICT) {
                json_decref(obj);
                continue;
            }
            if (rc != STORE_OK)
                goto store_fail;
        }
        free(key);
        return obj;
    store_fail:
        api_store_err(&c->err, k, rc, name);
    fail:
        json_decref(obj);
        free(key);
        return NULL;
    }
    free(key);
    api_store_err(&c->err, k, rc, name);
    return NULL;
}

json_t *api_obj_delete(api_call_t *c, const api_kind_t *kc, const char *ns, const char *name,
                       const char *precond_uid, const char *precond_rv, bool *pending)
{
    kind_def_t *k = (kind_def_t *)kc;
    pthread_mutex_t *lock = object_lock(k->api, k, ns, name);
    json_t *res = delete_locked(c, k, ns, name, precond_uid, precond_rv, pending);
    object_unlock(lock);
    return res;
}
