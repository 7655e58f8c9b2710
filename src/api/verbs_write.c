/* verbs_write: the HTTP create, update (PUT) and patch verbs: decode the body, call the
 * internal object API (object.c, or a virtual kind's handlers), respond. */
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "api/objectmeta.h"
#include "api/patch.h"

static const char *content_type(api_req_t *r)
{
    return http_header(r->http, "Content-Type");   /* NULL or "": application/json */
}

json_t *decode_body(api_req_t *r, apierr_t *err)
{
    size_t len;
    const char *body = http_body(r->http, &len);
    int ct = api_content_type_kind(content_type(r));
    field_validation_t fv = r->opt.field_validation;
    if (ct == CT_BODY_JSON)
        return schema_decode(r->kind->schema, body, len, fv, api_warn_cb, &r->call, err);
    if (ct == CT_BODY_PROTOBUF && r->kind->decode_protobuf) {
        json_t *v = r->kind->decode_protobuf(body, len, err);
        if (v && schema_check(r->kind->schema, v, fv, api_warn_cb, &r->call, err) != 0) {
            json_decref(v);
            return NULL;
        }
        return v;
    }
    if (ct == CT_BODY_YAML) {
        json_t *v = yaml_to_json(body, len, err);
        if (!v)
            return NULL;
        if (!json_is_object(v)) {
            json_decref(v);
            apierr_set(err, APIERR_BAD_REQUEST, "%s in version \"%s\" cannot be handled as a %s: the body is not an object",
                       r->kind->kind, API_VERSION, r->kind->kind);
            return NULL;
        }
        if (schema_check(r->kind->schema, v, fv, api_warn_cb, &r->call, err) != 0) {
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
    if (av && *av && strcmp(av, r->kind->api_version) != 0)
        return apierr_set(&r->call.err, APIERR_BAD_REQUEST,
                          "the API version in the data (%s) does not match the expected API version (%s)", av, r->kind->api_version);
    if (k && *k && strcmp(k, r->kind->kind) != 0)
        return apierr_set(&r->call.err, APIERR_BAD_REQUEST,
                          "the kind in the data (%s) does not match the expected kind (%s)", k, r->kind->kind);
    json_object_set_new(obj, "kind", json_string(r->kind->kind));
    json_object_set_new(obj, "apiVersion", json_string(r->kind->api_version));
    return 0;
}

void respond_obj(api_req_t *r, int code, json_t *obj)
{
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

/* The request's body, decoded for the kind, with its type meta checked. NULL: r->call.err. */
static json_t *body_object(api_req_t *r)
{
    json_t *obj = decode_body(r, &r->call.err);
    if (obj && check_type_meta(r, obj) != 0) {
        json_decref(obj);
        obj = NULL;
    }
    return obj;
}

/* A suspended request is freed by the last of its handler's return and api_call_finish. */
static void release_suspended(api_req_t *r)
{
    if (atomic_fetch_sub(&r->call.holds, 1) == 1)
        api_req_free(r);
}

static void respond_result(api_req_t *r, int code, json_t *res)
{
    if (r->call.code)
        code = r->call.code;
    if (res)
        respond_obj(r, code, res);
    else
        api_respond_error(r);
}

static void finish(api_req_t *r, int code, json_t *res)
{
    if (atomic_load(&r->call.holds) > 0) { /* suspended: api_call_finish answers */
        json_decref(res);
        release_suspended(r);
        return;
    }
    if (r->call.code)
        code = r->call.code;
    if (res)
        respond_obj(r, code, res);
    else
        api_respond_error(r);
    api_req_free(r);
}

void verb_create(http_req_t *h, void *arg)
{
    api_req_t *r = arg;
    json_t *obj = body_object(r), *res = NULL;
    if (obj && r->kind->virt)
        res = r->kind->virt->create(&r->call, r->ns, obj);
    else if (obj)
        res = api_obj_create(&r->call, r->kind, r->ns, obj);
    json_decref(obj);
    finish(r, 201, res);
}

void api_call_finish(api_call_t *c, json_t *res)
{
    api_req_t *r = c->req;
    if (!r) {
        json_decref(res);
        return;
    }
    if (c->answered)
        json_decref(res);
    else
        respond_result(r, 201, res);
    release_suspended(r);
}

void verb_update(http_req_t *h, void *arg)
{
    api_req_t *r = arg;
    json_t *obj = body_object(r), *res = NULL;
    if (obj && r->kind->virt) {
        res = r->kind->virt->update(&r->call, r->ns, r->name, obj);
    } else if (obj) {
        api_write_opts_t o = {.subresource = r->sub ? r->sub->name : NULL, .rv_required = true};
        res = api_obj_update(&r->call, r->kind, r->ns, r->name, obj, &o);
    }
    json_decref(obj);
    finish(r, 200, res);
}

/* ---- patch ---- */

typedef struct patch_ctx {
    api_req_t *r;
    int type;
    json_t *patch;
    bool created;          /* an apply found nothing: the result was created */
} patch_ctx_t;

/* The mutate function of PATCH: the patch applied to the object read (NULL: an apply
 * that creates). */
static int apply_patch(api_call_t *c, json_t **obj, void *arg)
{
    patch_ctx_t *p = arg;
    api_req_t *r = p->r;
    json_t *old = *obj, *res = NULL;
    p->created = old == NULL;
    switch (p->type) {
    case PT_MERGE: res = patch_merge(old, p->patch); break;
    case PT_JSON: res = patch_json(old, p->patch, &c->err); break;
    case PT_STRATEGIC: res = patch_strategic(old, p->patch, r->kind->schema->root, &c->err); break;
    case PT_APPLY:
        res = patch_apply(old, p->patch, r->opt.field_manager, r->opt.force, r->kind->api_version, r->kind->schema->root, c->now,
                          &c->err);
        break;
    }
    json_decref(old);
    *obj = NULL;
    if (!res || !json_is_object(res) ||
        schema_check(r->kind->schema, res, r->opt.field_validation, api_warn_cb, c, &c->err) != 0 ||
        check_type_meta(r, res) != 0) {
        if (res && !apierr_is_set(&c->err))
            apierr_set(&c->err, APIERR_BAD_REQUEST, "the patch did not produce an object");
        json_decref(res);
        return -1;
    }
    *obj = res;
    return 0;
}

/* A virtual kind without a patch handler: get, the patch, update. */
static json_t *patch_virtual(api_req_t *r, patch_ctx_t *p)
{
    json_t *cur = r->kind->virt->get(&r->call, r->ns, r->name);
    if (!cur || apply_patch(&r->call, &cur, p) != 0) {
        json_decref(cur);
        return NULL;
    }
    json_t *res = r->kind->virt->update(&r->call, r->ns, r->name, cur);
    json_decref(cur);
    return res;
}

void verb_patch(http_req_t *h, void *arg)
{
    api_req_t *r = arg;
    patch_ctx_t p = {.r = r, .type = api_patch_type(content_type(r))};
    json_t *res = NULL;
    size_t len;
    const char *body = http_body(h, &len);
    apierr_t *err = &r->call.err;
    if (p.type < 0) {
        apierr_set(err, APIERR_UNSUPPORTED_MEDIA,
                   "the body of the request was in an unknown format - accepted media types include: "
                   "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, "
                   "application/strategic-merge-patch+json");
        goto out;
    }
    if (p.type == PT_APPLY) {
        if (r->kind->virt) {
            apierr_set(err, APIERR_UNSUPPORTED_MEDIA, "server-side apply is not supported for %s; use a merge, "
                       "JSON or strategic merge patch", r->kind->resource);
            goto out;
        }
        if (!r->opt.field_manager || !*r->opt.field_manager) {
            apierr_set(err, APIERR_BAD_REQUEST, "PATCH, application/apply-patch+yaml requires fieldManager to be specified");
            goto out;
        }
        p.patch = yaml_to_json(body, len, err);
        if (!p.patch)
            goto out;
        if (!json_is_object(p.patch)) {
            apierr_set(err, APIERR_BAD_REQUEST, "apply patch must be an object");
            goto out;
        }
        if (check_type_meta(r, p.patch) != 0)
            goto out;
    } else {
        json_error_t jerr;
        p.patch = json_loadb(body, len, 0, &jerr);
        if (!p.patch) {
            apierr_set(err, APIERR_BAD_REQUEST, "error decoding patch: %s", jerr.text);
            goto out;
        }
        if (p.type != PT_JSON && !json_is_object(p.patch)) {
            apierr_set(err, APIERR_BAD_REQUEST, "patch must be a JSON object");
            goto out;
        }
    }
    if (r->kind->virt && r->kind->virt->patch) {
        res = r->kind->virt->patch(&r->call, r->ns, r->name, apply_patch, &p);
    } else if (r->kind->virt) {
        res = patch_virtual(r, &p);
    } else {
        api_write_opts_t o = {.subresource = r->sub ? r->sub->name : NULL, .fields_managed = p.type == PT_APPLY,
                              .create_missing = p.type == PT_APPLY};
        res = api_obj_mutate(&r->call, r->kind, r->ns, r->name, apply_patch, &p, &o);
    }
out:
    json_decref(p.patch);
    finish(r, p.created ? 201 : 200, res);
}
