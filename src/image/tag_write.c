/* tag_write: what ImageStreamTag and ImageTag share — name forms, request-body checks,
 * TagReference defaulting and validation, and their writes, each one internal write of
 * the stream under api_obj_mutate (spec and status together, dry run honoured): create
 * (§1.3, §3.4), update and patch (§1.4, §3.5; the kind's own rules in its update hook)
 * and delete (§1.5, §3.6). */
#include <stdlib.h>
#include <string.h>

#include "api/objectmeta.h"
#include "image/tags_int.h"
#include "util/util.h"

const api_kind_t *tw_streams(api_call_t *c) { return api_kind_find(api_call_api(c), "imagestreams"); }

int tw_parse(api_call_t *c, const tw_kind_t *k, const char *name, char **stream, char **tag)
{
    if (vn_istag_parse(name, stream, tag) == 0)
        return 0;
    *stream = *tag = NULL;
    return apierr_set(api_call_err(c), APIERR_BAD_REQUEST, "%s must be retrieved with <name>:<tag>", k->plural_kind);
}

int tw_check_name(api_call_t *c, const tw_kind_t *k, const char *name)
{
    char *s, *t;
    if (tw_parse(c, k, name, &s, &t) != 0)
        return -1;
    free(s);
    free(t);
    return 0;
}

json_t *tw_latest(const json_t *stream, const char *tag)
{
    return json_array_get(json_object_get(is_status_tag(stream, tag), "items"), 0);
}

/* A new stream with only a name and namespace (the "missing stream" paths). */
static json_t *bare_stream(const char *ns, const char *name)
{
    return json_pack("{s:s, s:s, s:{s:s, s:s}}", "kind", "ImageStream", "apiVersion", TW_GV, "metadata", "name", name,
                     "namespace", ns);
}

static json_t *tags_array(json_t *stream, const char *part)
{
    json_t *p = ij_obj(stream, part);
    json_t *tags = json_object_get(p, "tags");
    if (!json_is_array(tags)) {
        tags = json_array();
        json_object_set_new(p, "tags", tags);
    }
    return tags;
}

static bool remove_by(json_t *stream, const char *part, const char *key, const char *tag)
{
    json_t *tags = json_object_get(json_object_get(stream, part), "tags");
    bool found = false;
    for (size_t i = json_array_size(tags); i-- > 0;) {
        if (!strcmp(ij_str(json_array_get(tags, i), key), tag)) {
            json_array_remove(tags, i);
            found = true;
        }
    }
    return found;
}

bool tw_remove_spec_tag(json_t *stream, const char *tag) { return remove_by(stream, "spec", "name", tag); }
bool tw_remove_status_tag(json_t *stream, const char *tag) { return remove_by(stream, "status", "tag", tag); }

void tw_set_spec_tag(json_t *stream, const char *tag, const json_t *ref)
{
    tw_remove_spec_tag(stream, tag);
    if (!ref)
        return;
    json_t *t = json_deep_copy(ref);
    json_object_set_new(t, "name", json_string(tag));   /* the key wins over tag.name */
    json_array_append_new(tags_array(stream, "spec"), t);   /* normalize sorts */
}

void tw_default_ref(api_call_t *c, json_t *ref)
{
    if (!json_is_object(ref))
        return;
    const image_config_t *cfg = api_call_domain(c);
    const char *mode = cfg && cfg->default_import_mode && *cfg->default_import_mode ? cfg->default_import_mode
                                                                                    : "Legacy";
    json_t *rp = ij_obj(ref, "referencePolicy");
    if (!*ij_str(rp, "type"))
        json_object_set_new(rp, "type", json_string("Source"));
    json_t *ip = ij_obj(ref, "importPolicy");
    if (!*ij_str(ip, "importMode"))
        json_object_set_new(ip, "importMode", json_string(mode));
}

void tw_validate_meta(const json_t *obj, const json_t *old, ferrs_t *errs)
{
    const json_t *meta = json_object_get(obj, "metadata");
    if (old)
        validate_object_meta_update(meta, json_object_get(old, "metadata"), true, errs);
    else
        validate_object_meta(meta, true, errs);
    const char *name = ij_str(meta, "name");
    if (*name)
        validate_path_segment_name(name, "metadata.name", errs);
}

int tw_invalid(api_call_t *c, const tw_kind_t *k, const char *name, const ferrs_t *errs)
{
    char *qk = xasprintf("%s.%s", k->kind, TW_GROUP);
    apierr_invalid(api_call_err(c), qk, k->kind, TW_GROUP, name, errs);
    free(qk);
    return -1;
}

/* The body's metadata against the request: namespace (400 if another), name (400 if
 * another than the URL's, when url_name is set); both filled in. 0 / -1. */
static int body_meta(api_call_t *c, const char *ns, const char *url_name, json_t *obj)
{
    json_t *meta = ij_obj(obj, "metadata");
    const char *bns = ij_str(meta, "namespace");
    if (*bns && strcmp(bns, ns ? ns : ""))
        return apierr_set(api_call_err(c), APIERR_BAD_REQUEST,
                          "the namespace of the provided object does not match the namespace sent on the request");
    json_object_set_new(meta, "namespace", json_string(ns ? ns : ""));
    if (!url_name)
        return 0;
    const char *bname = ij_str(meta, "name");
    if (*bname && strcmp(bname, url_name))
        return apierr_set(api_call_err(c), APIERR_BAD_REQUEST,
                          "the name of the object (%s) does not match the name on the URL (%s)", bname, url_name);
    json_object_set_new(meta, "name", json_string(url_name));
    return 0;
}

/* 409 "another caller has updated the resource version to <rv>"; -1. */
static int rv_conflict(api_call_t *c, const tw_kind_t *k, const char *name, const char *rv)
{
    char *why = xasprintf("another caller has updated the resource version to %s", rv);
    apierr_conflict(api_call_err(c), k->resource, TW_GROUP, name, why);
    free(why);
    return -1;
}

json_t *tw_image(api_call_t *c, const char *image, bool strict)
{
    const api_kind_t *images = api_kind_find(api_call_api(c), "images");
    if (!image || !*image || !images) {
        if (strict)
            apierr_not_found(api_call_err(c), "images", TW_GROUP, image ? image : "");
        return NULL;
    }
    json_t *img = api_obj_get(c, images, NULL, image);
    if (!img && !strict)
        apierr_clear(api_call_err(c));
    return img;
}

/* ---- the stream write ---- */

typedef struct step {
    api_mutate_fn fn;
    void *arg;
    int calls;
    bool failed;       /* the last call of fn failed: its error is the call's */
} step_t;

static int step_fn(api_call_t *c, json_t **obj, void *arg)
{
    step_t *s = arg;
    s->calls++;
    int rc = s->fn(c, obj, s->arg);
    s->failed = rc < 0;
    return rc;
}

/* The stream write of a tag change: api_obj_mutate of the stream with an internal write
 * (spec and status), creating a missing stream when create_missing. When the attempts
 * are spent on conflicts and op is set: 500 ServerTimeout "The <op> operation against
 * <resource>..." instead of the 409. */
/* The reference's bounds (§1.3, §1.5): conflicts with other writers (another replica; this
 * server's own writers are serialised by the object API) are retried this often. */
#define TW_CREATE_DELETE_ATTEMPTS 10

static json_t *write_steps(api_call_t *c, const tw_kind_t *k, const char *ns, const char *stream,
                           bool create_missing, step_t *s, const char *op, int attempts)
{
    const api_kind_t *streams = tw_streams(c);
    apierr_t *err = api_call_err(c);
    if (!streams) {
        apierr_set(err, APIERR_INTERNAL, "Internal error occurred: imagestreams are not served");
        return NULL;
    }
    api_write_opts_t o = {.internal = true, .create_missing = create_missing, .attempts = attempts};
    json_t *res = api_obj_mutate(c, streams, ns, stream, step_fn, s, &o);
    /* fn never sets a resourceVersion: a conflict after it succeeded is the bound spent */
    if (!res && op && s->calls && !s->failed && err->kind == APIERR_CONFLICT) {
        apierr_clear(err);
        json_t *d = json_pack("{s:s, s:s, s:s}", "name", op, "group", TW_GROUP, "kind", k->resource);
        apierr_set_details(err, APIERR_SERVER_TIMEOUT, d,
                           "The %s operation against %s.%s could not be completed at this time, please try again.", op,
                           k->resource, TW_GROUP);
        err->retry_after = 2;
    }
    return res;
}

static json_t *stream_write(api_call_t *c, const tw_kind_t *k, const char *ns, const char *stream,
                            bool create_missing, api_mutate_fn fn, void *arg, const char *op, int attempts)
{
    step_t s = {.fn = fn, .arg = arg};
    return write_steps(c, k, ns, stream, create_missing, &s, op, attempts);
}

static json_t *answer(api_call_t *c, const tw_kind_t *k, const json_t *stream, const char *tag)
{
    json_t *image = tw_image(c, ij_str(tw_latest(stream, tag), "image"), false);
    json_t *out = k->view(stream, tag, image, api_call_now(c));
    json_decref(image);
    return out;
}

/* ---- create ---- */

typedef struct create_arg {
    const tw_kind_t *k;
    tw_target_t t;
    const json_t *ref;
} create_arg_t;

static int create_fn(api_call_t *c, json_t **obj, void *arg)
{
    create_arg_t *a = arg;
    bool fresh = *obj == NULL;
    if (fresh)
        *obj = bare_stream(a->t.ns, a->t.stream);
    /* an existing status-only tag does not block */
    if (is_spec_tag(*obj, a->t.tag))
        return apierr_already_exists(api_call_err(c), a->k->exists_resource, TW_GROUP, a->t.name);
    if (!a->ref)
        return fresh ? 0 : API_MUTATE_UNCHANGED;
    tw_set_spec_tag(*obj, a->t.tag, a->ref);
    return 0;
}

json_t *tw_create_req(api_call_t *c, const tw_kind_t *k, const char *ns, json_t *obj)
{
    if (!ns || !*ns)
        return apierr_set(api_call_err(c), APIERR_BAD_REQUEST, "a namespace must be specified to import images"), NULL;
    if (body_meta(c, ns, NULL, obj) != 0)
        return NULL;
    char *name = xstrdup(ij_str(json_object_get(obj, "metadata"), "name")), *stream, *tag;
    json_t *written = NULL, *out = NULL;
    bool named = vn_istag_split(name, &stream, &tag);
    if (k->prepare_create(c, obj, tag) != 0)
        goto out;
    if (!named) {
        /* a plain error in the reference, which the apiserver answers as 500 Unknown */
        apierr_set(api_call_err(c), APIERR_UNKNOWN, "\"%s\" must be of the form <stream_name>:<tag>", name);
        goto out;
    }
    /* the spec tag is the body's TagReference verbatim (metadata.annotations are not
     * stored on create) */
    json_t *ref = json_object_get(obj, k->ref_field);
    create_arg_t a = {.k = k, .t = {ns, name, stream, tag}, .ref = json_is_object(ref) ? ref : NULL};
    written = stream_write(c, k, ns, stream, true, create_fn, &a, "create", TW_CREATE_DELETE_ATTEMPTS);
    if (written)
        out = answer(c, k, written, tag);
out:
    json_decref(written);
    free(name);
    free(stream);
    free(tag);
    return out;
}

/* ---- update and patch ---- */

typedef struct update_arg {
    const tw_kind_t *k;
    tw_target_t t;
    const json_t *body;          /* PUT; NULL for a patch */
    api_mutate_fn patch;         /* applied to the view of the stream read */
    void *patch_arg;
    bool created;
} update_arg_t;

static int update_fn(api_call_t *c, json_t **obj, void *arg)
{
    update_arg_t *u = arg;
    bool create_mode = *obj == NULL;
    if (create_mode)
        *obj = bare_stream(u->t.ns, u->t.stream);
    json_t *stream = *obj;
    json_t *old = u->k->view(stream, u->t.tag, NULL, NULL), *body = NULL;
    int rc = -1;
    if (u->body) {
        body = json_deep_copy(u->body);
    } else {
        body = json_deep_copy(old);
        if (u->patch(c, &body, u->patch_arg) != 0)
            goto out;
    }
    if (body_meta(c, u->t.ns, u->t.name, body) != 0)
        goto out;
    /* the body's resourceVersion is compared with the stream's; none: a blind write */
    const char *rv = ij_str(json_object_get(body, "metadata"), "resourceVersion");
    const char *cur = ij_str(json_object_get(stream, "metadata"), "resourceVersion");
    if (*rv && create_mode)
        apierr_not_found(api_call_err(c), u->k->resource, TW_GROUP, u->t.name);
    else if (*rv && strcmp(rv, cur))
        rv_conflict(c, u->k, u->t.name, cur);
    else
        rc = u->k->update(c, &u->t, stream, body, old, create_mode, &u->created);
out:
    json_decref(old);
    json_decref(body);
    return rc < 0 ? -1 : 0;
}

json_t *tw_update_req(api_call_t *c, const tw_kind_t *k, const char *ns, const char *name, const json_t *body,
                      api_mutate_fn patch, void *patch_arg)
{
    char *stream, *tag;
    if (tw_parse(c, k, name, &stream, &tag) != 0)
        return NULL;
    json_t *out = NULL;
    if (!ns || !*ns) {
        apierr_set(api_call_err(c), APIERR_BAD_REQUEST, "namespace is required on %s", k->plural_kind);
        goto out;
    }
    update_arg_t u = {.k = k, .t = {ns, name, stream, tag}, .body = body, .patch = patch, .patch_arg = patch_arg};
    /* no ServerTimeout here: an update that keeps conflicting answers 409 */
    json_t *written = stream_write(c, k, ns, stream, true, update_fn, &u, NULL, k->update_attempts);
    if (written) {
        out = answer(c, k, written, tag);
        if (u.created)
            api_call_set_code(c, 201);
        json_decref(written);
    }
out:
    free(stream);
    free(tag);
    return out;
}

/* ---- delete (both kinds) ---- */

typedef struct delete_arg {
    const tw_kind_t *k;
    const char *name, *tag, *uid;
} delete_arg_t;

static int delete_fn(api_call_t *c, json_t **obj, void *arg)
{
    delete_arg_t *a = arg;
    const char *uid = ij_str(json_object_get(*obj, "metadata"), "uid");
    if (a->uid && strcmp(a->uid, uid))
        return apierr_conflict(api_call_err(c), a->k->resource, TW_GROUP, a->name, "the UID precondition was not met");
    bool st = tw_remove_status_tag(*obj, a->tag);
    bool sp = tw_remove_spec_tag(*obj, a->tag);
    if (!st && !sp)
        return apierr_not_found(api_call_err(c), a->k->resource, TW_GROUP, a->name);
    return 0;
}

json_t *tw_delete(api_call_t *c, const tw_kind_t *k, const char *ns, const char *name)
{
    char *stream, *tag;
    if (tw_parse(c, k, name, &stream, &tag) != 0)
        return NULL;
    delete_arg_t a = {.k = k, .name = name, .tag = tag, .uid = api_call_precondition_uid(c)};
    step_t s = {.fn = delete_fn, .arg = &a};
    json_t *res = write_steps(c, k, ns, stream, false, &s, "delete", TW_CREATE_DELETE_ATTEMPTS);
    apierr_t *err = api_call_err(c);
    /* the stream deleted between our read and our write: its tags are gone too */
    if (!res && s.calls && !s.failed && err->kind == APIERR_NOT_FOUND)
        apierr_clear(err);
    free(stream);
    free(tag);
    if (!res && apierr_is_set(err))
        return NULL;
    json_decref(res);
    return json_pack("{s:s, s:s, s:{}, s:s}", "kind", "Status", "apiVersion", "v1", "metadata", "status", "Success");
}
