/* verbs_write: create, update (PUT) and patch for every stored kind. One pipeline:
 * decode -> system metadata -> strategy prepare -> validate -> managedFields ->
 * no-op check / dry run -> store -> respond. */
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "api/objectmeta.h"
#include "api/patch.h"

static const char *content_type(api_req_t *r)
{
    const char *ct = http_header(r->http, "Content-Type");
    return ct && *ct ? ct : "application/json";
}

static bool ct_is(const char *ct, const char *want)
{
    size_t n = strlen(want);
    return strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static char *qualified_kind(const kind_def_t *k) { return xasprintf("%s.%s", k->kind, API_GROUP); }

json_t *decode_body(api_req_t *r, apierr_t *err)
{
    size_t len;
    const char *body = http_body(r->http, &len);
    const char *ct = content_type(r);
    field_validation_t fv = r->opt.field_validation;
    if (ct_is(ct, "application/json"))
        return schema_decode(r->kind->schema, body, len, fv, api_warn_cb, r, err);
    if (ct_is(ct, "application/yaml") || ct_is(ct, "application/apply-patch+yaml")) {
        json_t *v = yaml_to_json(body, len, err);
        if (!v)
            return NULL;
        if (!json_is_object(v)) {
            json_decref(v);
            apierr_set(err, APIERR_BAD_REQUEST, "%s in version \"%s\" cannot be handled as a %s: the body is not an object",
                       r->kind->kind, API_VERSION, r->kind->kind);
            return NULL;
        }
        if (schema_check(r->kind->schema, v, fv, api_warn_cb, r, err) != 0) {
            json_decref(v);
            return NULL;
        }
        return v;
    }
    apierr_set(err, APIERR_UNSUPPORTED_MEDIA,
               "the body of the request was in an unknown format - accepted media types include: application/json, "
               "application/yaml");
    return NULL;
}

/* apiVersion/kind in a body default to the endpoint's; other values are rejected. */
static int check_type_meta(api_req_t *r, json_t *obj)
{
    const char *av = json_string_value(json_object_get(obj, "apiVersion"));
    const char *k = json_string_value(json_object_get(obj, "kind"));
    if (av && *av && strcmp(av, API_GV) != 0)
        return apierr_set(&r->err, APIERR_BAD_REQUEST,
                          "the API version in the data (%s) does not match the expected API version (%s)", av, API_GV);
    if (k && *k && strcmp(k, r->kind->kind) != 0)
        return apierr_set(&r->err, APIERR_BAD_REQUEST, "the kind in the data (%s) does not match the expected kind (%s)",
                          k, r->kind->kind);
    json_object_set_new(obj, "kind", json_string(r->kind->kind));
    json_object_set_new(obj, "apiVersion", json_string(API_GV));
    return 0;
}

static json_t *meta_of(json_t *obj)
{
    json_t *m = json_object_get(obj, "metadata");
    if (!json_is_object(m)) {
        m = json_object();
        json_object_set_new(obj, "metadata", m);
    }
    return m;
}

static const char *meta_str(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(json_object_get(obj, "metadata"), key));
}

/* Namespace of the body against the URL (stored-resources §0.2). */
static int check_namespace(api_req_t *r, json_t *meta)
{
    const char *bns = json_string_value(json_object_get(meta, "namespace"));
    if (!r->kind->namespaced) {
        json_object_del(meta, "namespace");
        return 0;
    }
    if (bns && *bns && strcmp(bns, r->ns) != 0)
        return apierr_set(&r->err, APIERR_BAD_REQUEST,
                          "the namespace of the provided object does not match the namespace sent on the request");
    json_object_set_new(meta, "namespace", json_string(r->ns));
    return 0;
}

static int validate_obj(api_req_t *r, json_t *obj, const json_t *old)
{
    ferrs_t errs = FERRS_INIT;
    bool status = r->subresource != NULL;
    if (status && r->kind->validate_status_update)
        r->kind->validate_status_update(&r->ictx, obj, old, &errs);
    else if (r->kind->validate)
        r->kind->validate(&r->ictx, obj, old, &errs);
    if (errs.n == 0) {
        json_t *meta = json_object_get(obj, "metadata");
        if (old)
            validate_object_meta_update(meta, json_object_get(old, "metadata"), r->kind->namespaced, &errs);
        else
            validate_object_meta(meta, r->kind->namespaced, &errs);
    }
    int rc = 0;
    if (errs.n) {
        char *qk = qualified_kind(r->kind);
        const char *name = meta_str(obj, "name");
        apierr_invalid(&r->err, qk, r->kind->kind, API_GROUP, name ? name : meta_str(obj, "generateName"), &errs);
        free(qk);
        rc = -1;
    }
    ferrs_free(&errs);
    return rc;
}

/* Canonical stored bytes: everything but metadata.resourceVersion. */
static char *stored_bytes(json_t *obj, size_t *len)
{
    json_t *meta = json_object_get(obj, "metadata");
    json_t *rv = json_incref(json_object_get(meta, "resourceVersion"));
    json_object_del(meta, "resourceVersion");
    char *s = json_dumps(obj, JSON_COMPACT);
    if (rv)
        json_object_set_new(meta, "resourceVersion", rv);
    *len = strlen(s);
    return s;
}

static void set_rv(json_t *obj, int64_t rev)
{
    char rv[24];
    snprintf(rv, sizeof rv, "%lld", (long long)rev);
    json_object_set_new(meta_of(obj), "resourceVersion", json_string(rv));
}

/* kind, apiVersion, metadata first, as stored objects are served from the cache. */
static json_t *canonical(json_t *obj)
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
    json_t *meta = json_object_get(out, "metadata");
    json_t *rv = json_incref(json_object_get(meta, "resourceVersion"));
    if (rv) {
        /* resourceVersion where the cache puts it: after the other metadata */
        json_object_del(meta, "resourceVersion");
        json_object_set_new(meta, "resourceVersion", rv);
    }
    json_decref(obj);
    return out;
}

static void respond_obj(api_req_t *r, int code, json_t *obj)
{
    obj = canonical(obj);
    if (!r->subresource && r->kind->decorate)
        r->kind->decorate(&r->ictx, obj);
    if (r->accept == ACCEPT_TABLE) {
        json_t *t = json_pack("{s:s, s:s, s:{}, s:o, s:[o]}", "kind", "Table", "apiVersion", "meta.k8s.io/v1",
                              "metadata", "columnDefinitions", table_columns_json(r->kind), "rows",
                              table_row_from_json(r->kind, obj, r->opt.include_object, time(NULL)));
        json_decref(obj);
        api_respond_json(r, code, t);
        return;
    }
    api_respond_json(r, code, obj);
}

int api_store_fail(api_req_t *r, int rc, const char *name)
{
    switch (rc) {
    case STORE_EXISTS: return apierr_already_exists(&r->err, r->kind->resource, API_GROUP, name);
    case STORE_NOT_FOUND: return apierr_not_found(&r->err, r->kind->resource, API_GROUP, name);
    case STORE_CONFLICT: return apierr_conflict(&r->err, r->kind->resource, API_GROUP, name, NULL);
    case STORE_TOO_LARGE: return apierr_set(&r->err, APIERR_TOO_LARGE, "the object is too large to store");
    default:
        r->err.retry_after = 1;
        return apierr_set(&r->err, APIERR_UNAVAILABLE, "storage is unavailable, please try again");
    }
}

/* ---- create ---- */

/* obj: decoded body with type meta checked; managed: managedFields already computed (apply). */
static void create_obj(api_req_t *r, json_t *obj, bool managed)
{
    json_t *meta = meta_of(obj);
    if (check_namespace(r, meta) != 0)
        goto fail;
    const char *crv = json_string_value(json_object_get(meta, "resourceVersion"));
    if (crv && *crv) {
        /* as kube-apiserver's storage layer: a create cannot carry a version to match */
        apierr_set(&r->err, APIERR_BAD_REQUEST, "resourceVersion should not be set on objects to be created");
        goto fail;
    }
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
    json_object_set_new(meta, "creationTimestamp", json_string(r->now));
    if (r->kind->normalize)
        r->kind->normalize(&r->ictx, obj);
    if (r->kind->prepare_create)
        r->kind->prepare_create(&r->ictx, obj);
    if (validate_obj(r, obj, NULL) != 0)
        goto fail;
    if (!managed)
        managed_fields_update(obj, NULL, api_field_manager(r, "unknown"), API_GV, NULL, r->kind->schema->root, r->now);
    name = meta_str(obj, "name");
    char *key = kind_key(r->kind, r->ns, name);
    int64_t rev = 0;
    int rc;
    if (r->opt.dry_run) {
        /* Everything but the write: an existing name still conflicts (also one just
         * created through another replica). */
        if (api_consistent_read(r, r->kind->cache) != 0) {
            free(key);
            goto fail;
        }
        cache_obj_t *existing = cache_get(r->kind->cache, key);
        free(key);
        if (existing) {
            cache_obj_unref(existing);
            apierr_already_exists(&r->err, r->kind->resource, API_GROUP, name);
            goto fail;
        }
        respond_obj(r, 201, json_incref(obj));
        goto out;
    }
    size_t len;
    char *bytes = stored_bytes(obj, &len);
    rc = store_create(r->api->store, key, bytes, len, &rev);
    free(bytes);
    free(key);
    if (rc != STORE_OK) {
        api_store_fail(r, rc, name);
        goto fail;
    }
    set_rv(obj, rev);
    respond_obj(r, 201, json_incref(obj));
    goto out;
fail:
    api_respond_error(r);
out:
    json_decref(obj);
}

void verb_create(http_req_t *h, void *arg)
{
    api_req_t *r = arg;
    json_t *obj = decode_body(r, &r->err);
    if (!obj || check_type_meta(r, obj) != 0) {
        json_decref(obj);
        api_respond_error(r);
    } else {
        create_obj(r, obj, false);
    }
    api_req_free(r);
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

/* The shared update path. old: stored object in output form (with resourceVersion).
 * Returns 0 and responds, or STORE_CONFLICT (not responded: PATCH may retry), or -1 (responded). */
static int update_obj(api_req_t *r, json_t *obj, const json_t *old, int64_t old_rev, bool rv_required,
                      bool managed, bool may_retry)
{
    json_t *meta = meta_of(obj);
    const json_t *old_meta = json_object_get(old, "metadata");
    const char *bname = json_string_value(json_object_get(meta, "name"));
    if (bname && *bname && strcmp(bname, r->name) != 0) {
        apierr_set(&r->err, APIERR_BAD_REQUEST, "the name of the object (%s) does not match the name on the URL (%s)",
                   bname, r->name);
        goto fail;
    }
    json_object_set_new(meta, "name", json_string(r->name));
    if (check_namespace(r, meta) != 0)
        goto fail;
    const char *brv = json_string_value(json_object_get(meta, "resourceVersion"));
    if (!brv || !*brv) {
        if (rv_required) {
            ferrs_t e = FERRS_INIT;
            ferrs_add(&e, FERR_INVALID, "metadata.resourceVersion", json_integer(0), "must be specified for an update");
            char *qk = xasprintf("%s.%s", r->kind->resource, API_GROUP);
            apierr_invalid(&r->err, qk, r->kind->resource, API_GROUP, r->name, &e);
            free(qk);
            ferrs_free(&e);
            goto fail;
        }
    } else {
        char *end = NULL;
        long long want = strtoll(brv, &end, 10);
        if (!end || *end || want != old_rev) {
            apierr_conflict(&r->err, r->kind->resource, API_GROUP, r->name, NULL);
            goto fail;
        }
    }
    /* System fields come from the stored object. */
    static const char *const kept[] = {"uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                                       "generation"};
    const char *buid = json_string_value(json_object_get(meta, "uid"));
    const char *ouid = json_string_value(json_object_get(old_meta, "uid"));
    if (buid && *buid && ouid && strcmp(buid, ouid) != 0) {
        apierr_conflict(&r->err, r->kind->resource, API_GROUP, r->name,
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
    if (r->kind->normalize)
        r->kind->normalize(&r->ictx, obj);
    if (r->subresource && r->kind->prepare_status_update)
        r->kind->prepare_status_update(&r->ictx, obj, old);
    else if (r->kind->prepare_update)
        r->kind->prepare_update(&r->ictx, obj, old);
    if (validate_obj(r, obj, old) != 0)
        goto fail;
    if (!managed)
        managed_fields_update(obj, old, api_field_manager(r, "unknown"), API_GV, r->subresource,
                              r->kind->schema->root, r->now);
    set_rv(obj, old_rev);
    if (same_object(obj, old)) {
        respond_obj(r, 200, json_deep_copy(old));
        return 0;
    }
    if (r->opt.dry_run) {
        respond_obj(r, 200, json_incref(obj));
        return 0;
    }
    char *key = kind_key(r->kind, r->ns, r->name);
    int64_t rev = 0;
    int rc;
    bool finalize = json_object_get(meta, "deletionTimestamp") &&
                    json_array_size(json_object_get(meta, "finalizers")) == 0;
    if (finalize) {
        /* The last finalizer is gone from an object being deleted: delete it now. */
        rc = store_delete(r->api->store, key, old_rev, &rev, NULL);
    } else {
        size_t len;
        char *bytes = stored_bytes(obj, &len);
        rc = store_update(r->api->store, key, bytes, len, old_rev, &rev);
        free(bytes);
    }
    free(key);
    if (rc == STORE_CONFLICT && may_retry)
        return STORE_CONFLICT;
    if (rc != STORE_OK) {
        api_store_fail(r, rc, r->name);
        goto fail;
    }
    set_rv(obj, rev);
    respond_obj(r, 200, json_incref(obj));
    return 0;
fail:
    api_respond_error(r);
    return -1;
}

/* Reads the stored object in output form (undecorated). */
static json_t *load_current(api_req_t *r, int64_t *rev, int *rc_out)
{
    char *key = kind_key(r->kind, r->ns, r->name);
    store_kv_t kv;
    int rc = store_get(r->api->store, key, &kv);
    free(key);
    *rc_out = rc;
    if (rc != STORE_OK)
        return NULL;
    json_t *old = kind_output(r->kind, &r->ictx, kv.value, kv.value_len, kv.mod_rev, false);
    *rev = kv.mod_rev;
    store_kv_free(&kv);
    if (!old)
        *rc_out = STORE_UNAVAILABLE;
    return old;
}

void verb_update(http_req_t *h, void *arg)
{
    api_req_t *r = arg;
    int64_t rev = 0;
    int rc;
    json_t *old = NULL;
    json_t *obj = decode_body(r, &r->err);
    if (!obj || check_type_meta(r, obj) != 0)
        goto fail;
    old = load_current(r, &rev, &rc);
    if (!old) {
        api_store_fail(r, rc, r->name);
        goto fail;
    }
    update_obj(r, obj, old, rev, true, false, false);
    goto out;
fail:
    api_respond_error(r);
out:
    json_decref(obj);
    json_decref(old);
    api_req_free(r);
}

/* ---- patch ---- */

enum { PT_MERGE, PT_JSON, PT_STRATEGIC, PT_APPLY };

static int patch_type(const char *ct)
{
    if (ct_is(ct, "application/merge-patch+json"))
        return PT_MERGE;
    if (ct_is(ct, "application/json-patch+json"))
        return PT_JSON;
    if (ct_is(ct, "application/strategic-merge-patch+json"))
        return PT_STRATEGIC;
    if (ct_is(ct, "application/apply-patch+yaml") || ct_is(ct, "application/apply-patch+json"))
        return PT_APPLY;
    return -1;
}

void verb_patch(http_req_t *h, void *arg)
{
    api_req_t *r = arg;
    json_t *patch = NULL;
    size_t len;
    const char *body = http_body(h, &len);
    int pt = patch_type(content_type(r));
    if (pt < 0) {
        apierr_set(&r->err, APIERR_UNSUPPORTED_MEDIA,
                   "the body of the request was in an unknown format - accepted media types include: "
                   "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, "
                   "application/strategic-merge-patch+json");
        goto fail;
    }
    if (pt == PT_APPLY) {
        if (!r->opt.field_manager || !*r->opt.field_manager) {
            apierr_set(&r->err, APIERR_BAD_REQUEST,
                       "PATCH, application/apply-patch+yaml requires fieldManager to be specified");
            goto fail;
        }
        patch = yaml_to_json(body, len, &r->err);
        if (!patch)
            goto fail;
        if (!json_is_object(patch)) {
            apierr_set(&r->err, APIERR_BAD_REQUEST, "apply patch must be an object");
            goto fail;
        }
        if (check_type_meta(r, patch) != 0)
            goto fail;
    } else {
        json_error_t jerr;
        patch = json_loadb(body, len, 0, &jerr);
        if (!patch) {
            apierr_set(&r->err, APIERR_BAD_REQUEST, "error decoding patch: %s", jerr.text);
            goto fail;
        }
        if (pt != PT_JSON && !json_is_object(patch)) {
            apierr_set(&r->err, APIERR_BAD_REQUEST, "patch must be a JSON object");
            goto fail;
        }
    }
    for (int attempt = 0; attempt < 8; attempt++) {
        int64_t rev = 0;
        int rc;
        json_t *old = load_current(r, &rev, &rc);
        if (!old && !(rc == STORE_NOT_FOUND && pt == PT_APPLY)) {
            api_store_fail(r, rc, r->name);
            goto fail;
        }
        json_t *res = NULL;
        switch (pt) {
        case PT_MERGE: res = patch_merge(old, patch); break;
        case PT_JSON: res = patch_json(old, patch, &r->err); break;
        case PT_STRATEGIC: res = patch_strategic(old, patch, r->kind->schema->root, &r->err); break;
        case PT_APPLY:
            res = patch_apply(old, patch, r->opt.field_manager, r->opt.force, API_GV, r->kind->schema->root, r->now,
                              &r->err);
            break;
        }
        if (!res || !json_is_object(res) ||
            schema_check(r->kind->schema, res, r->opt.field_validation, api_warn_cb, r, &r->err) != 0 ||
            check_type_meta(r, res) != 0) {
            if (res && !apierr_is_set(&r->err))
                apierr_set(&r->err, APIERR_BAD_REQUEST, "the patch did not produce an object");
            json_decref(res);
            json_decref(old);
            goto fail;
        }
        if (!old) {
            json_object_set_new(meta_of(res), "name", json_string(r->name));
            create_obj(r, res, true);
            goto out;
        }
        /* A resourceVersion set by the patch itself is a precondition; otherwise retry on conflicts. */
        const char *prv = meta_str(res, "resourceVersion");
        bool explicit_rv = prv && strtoll(prv, NULL, 10) != rev;
        if (!prv)
            set_rv(res, rev);
        rc = update_obj(r, res, old, rev, false, pt == PT_APPLY, !explicit_rv);
        json_decref(res);
        json_decref(old);
        if (rc != STORE_CONFLICT)
            goto out;
    }
    apierr_conflict(&r->err, r->kind->resource, API_GROUP, r->name, NULL);
fail:
    api_respond_error(r);
out:
    json_decref(patch);
    api_req_free(r);
}
