/* tag_write: what ImageStreamTag and ImageTag share — name forms, request-body checks,
 * TagReference defaulting and validation, and the writes of their stream: the create
 * loop (§1.3 step 5, §3.4), delete (§1.5, §3.6) and the internal stream write under
 * api_obj_mutate (spec and status together, dry run honoured). */
#include <stdlib.h>
#include <string.h>

#include "api/objectmeta.h"
#include "image/tags_int.h"
#include "util/util.h"

const tw_kind_t tw_istag = {"imagestreamtags", "ImageStreamTag", "imagestreamtag", "ImageStreamTags"};
const tw_kind_t tw_itag = {"imagetags", "ImageTag", "imagetags", "ImageTags"};

const api_kind_t *tw_streams(api_call_t *c) { return api_kind_find(api_call_api(c), "imagestreams"); }

int tw_parse(api_call_t *c, const tw_kind_t *k, const char *name, char **stream, char **tag)
{
    if (vn_istag_parse(name, stream, tag) == 0)
        return 0;
    *stream = *tag = NULL;
    return apierr_set(api_call_err(c), APIERR_BAD_REQUEST, "%s must be retrieved with <name>:<tag>", k->plural_kind);
}

json_t *tw_latest(const json_t *stream, const char *tag)
{
    return json_array_get(json_object_get(is_status_tag(stream, tag), "items"), 0);
}

json_t *tw_bare_stream(const char *ns, const char *name)
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

static void ferr_at(ferrs_t *errs, ferr_type_t type, const char *prefix, const char *sub, json_t *value,
                    const char *detail)
{
    char *f = xasprintf("%s.%s", prefix, sub);
    if (detail)
        ferrs_add(errs, type, f, value, "%s", detail);
    else
        ferrs_add(errs, type, f, value, NULL);
    free(f);
}

void tw_validate_ref(const json_t *ref, const char *prefix, ferrs_t *errs)
{
    const json_t *from = json_object_get(ref, "from");
    const json_t *ip = json_object_get(ref, "importPolicy");
    if (json_is_object(from)) {
        const char *kind = ij_str(from, "kind"), *name = ij_str(from, "name");
        if (!*name)
            ferr_at(errs, FERR_REQUIRED, prefix, "from.name", NULL, NULL);
        if (!strcmp(kind, "DockerImage")) {
            docker_ref_t r = {0};
            const char *msg;
            if (*name && docker_ref_parse(name, &r, &msg) != 0)
                ferr_at(errs, FERR_INVALID, prefix, "from.name", json_string(name), msg);
            else if (*name && *r.id && ij_bool(ip, "scheduled"))
                ferr_at(errs, FERR_INVALID, prefix, "from.name", json_string(name),
                        "only tags can be scheduled for import");
            docker_ref_free(&r);
        } else if (!strcmp(kind, "ImageStreamImage") || !strcmp(kind, "ImageStreamTag")) {
            if (ij_bool(ip, "scheduled"))
                ferr_at(errs, FERR_INVALID, prefix, "importPolicy.scheduled", json_true(),
                        "only tags pointing to Docker repositories may be scheduled for background import");
        } else {
            ferr_at(errs, FERR_REQUIRED, prefix, "from.kind", NULL,
                    "valid values are 'DockerImage', 'ImageStreamImage', 'ImageStreamTag'");
        }
    }
    const char *rp = ij_str(json_object_get(ref, "referencePolicy"), "type");
    if (strcmp(rp, "Source") && strcmp(rp, "Local"))
        ferr_at(errs, FERR_INVALID, prefix, "referencePolicy.type", json_string(rp),
                "valid values are \"Source\", \"Local\"");
    const char *mode = ij_str(ip, "importMode");
    if (*mode && strcmp(mode, "Legacy") && strcmp(mode, "PreserveOriginal"))
        ferr_at(errs, FERR_INVALID, prefix, "importPolicy.importMode", json_string(mode),
                "invalid import mode, valid modes are '', 'Legacy', 'PreserveOriginal'");
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

int tw_body_meta(api_call_t *c, const char *ns, const char *url_name, json_t *obj)
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

int tw_rv_conflict(api_call_t *c, const tw_kind_t *k, const char *name, const char *rv)
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

static json_t *write_steps(api_call_t *c, const tw_kind_t *k, const char *ns, const char *stream,
                           bool create_missing, step_t *s, const char *op)
{
    const api_kind_t *streams = tw_streams(c);
    apierr_t *err = api_call_err(c);
    if (!streams) {
        apierr_set(err, APIERR_INTERNAL, "Internal error occurred: imagestreams are not served");
        return NULL;
    }
    api_write_opts_t o = {.internal = true, .create_missing = create_missing};
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

json_t *tw_write(api_call_t *c, const tw_kind_t *k, const char *ns, const char *stream, bool create_missing,
                 api_mutate_fn fn, void *arg, const char *op)
{
    step_t s = {.fn = fn, .arg = arg};
    return write_steps(c, k, ns, stream, create_missing, &s, op);
}

/* ---- create (both kinds) ---- */

typedef struct create_arg {
    const tw_kind_t *k;
    const char *ns, *name, *stream, *tag;
    const json_t *ref;
} create_arg_t;

static int create_fn(api_call_t *c, json_t **obj, void *arg)
{
    create_arg_t *a = arg;
    bool fresh = *obj == NULL;
    if (fresh)
        *obj = tw_bare_stream(a->ns, a->stream);
    /* an existing status-only tag does not block */
    if (is_spec_tag(*obj, a->tag))
        return apierr_already_exists(api_call_err(c), a->k->exists_resource, TW_GROUP, a->name);
    if (!a->ref)
        return fresh ? 0 : API_MUTATE_UNCHANGED;
    tw_set_spec_tag(*obj, a->tag, a->ref);
    return 0;
}

json_t *tw_create(api_call_t *c, const tw_kind_t *k, const char *ns, const char *name, const json_t *ref)
{
    char *stream = NULL, *tag = NULL;
    json_t *res = NULL;
    if (!vn_istag_split(name, &stream, &tag)) {
        /* a plain error in the reference, which the apiserver answers as 500 Unknown */
        apierr_set(api_call_err(c), APIERR_UNKNOWN, "\"%s\" must be of the form <stream_name>:<tag>", name);
        goto out;
    }
    create_arg_t a = {.k = k, .ns = ns, .name = name, .stream = stream, .tag = tag, .ref = ref};
    res = tw_write(c, k, ns, stream, true, create_fn, &a, "create");
out:
    free(stream);
    free(tag);
    return res;
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
    json_t *res = write_steps(c, k, ns, stream, false, &s, "delete");
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
