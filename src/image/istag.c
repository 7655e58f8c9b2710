/* ImageStreamTag (`imagestreamtags`, `istag`, name "<stream>:<tag>"; reference §1): the
 * image a stream's tag points at, with the spec tag. A view of the stream and the image;
 * writes change the stream's spec tag (and, on delete, its status tag). */
#include <stdlib.h>
#include <string.h>

#include "image/tags_int.h"
#include "util/util.h"

static bool nonempty_object(const json_t *v) { return json_is_object(v) && json_object_size(v) > 0; }

/* The resolved image: the stored one viewed (GET), else only its name and reference. */
static json_t *view_image(const json_t *stream, const char *tag, const json_t *event, const json_t *spec,
                          const json_t *image, const char *now)
{
    char *ref = event ? is_event_pull_spec(stream, tag, event) : xstrdup("");
    json_t *v;
    if (image) {
        v = img_view(image, now);
        json_t *ann = json_object_get(spec, "annotations");
        if (nonempty_object(ann)) {
            json_t *ia = ij_obj(ij_obj(v, "metadata"), "annotations");
            json_object_update(ia, ann);   /* the tag's win over the image's */
        }
    } else {
        v = json_pack("{s:{s:s}}", "metadata", "name", ij_str(event, "image"));
    }
    json_object_set_new(v, "dockerImageReference", json_string(ref));
    free(ref);
    return v;
}

json_t *istag_view(const json_t *stream, const char *tag, const json_t *image, const char *now)
{
    const json_t *smeta = json_object_get(stream, "metadata");
    json_t *event = tw_latest(stream, tag), *spec = is_spec_tag(stream, tag);
    json_t *meta = json_object();
    json_object_set_new(meta, "name", json_sprintf("%s:%s", is_name(stream), tag));
    json_object_set_new(meta, "namespace", json_string(is_ns(stream)));
    json_object_set_new(meta, "uid", json_string(ij_str(smeta, "uid")));
    json_object_set_new(meta, "resourceVersion", json_string(ij_str(smeta, "resourceVersion")));
    json_t *created = event ? json_object_get(event, "created") : json_object_get(smeta, "creationTimestamp");
    json_object_set_new(meta, "creationTimestamp", ij_time(created));
    if (nonempty_object(json_object_get(smeta, "labels")))
        json_object_set(meta, "labels", json_object_get(smeta, "labels"));
    if (nonempty_object(json_object_get(spec, "annotations")))
        json_object_set_new(meta, "annotations", json_deep_copy(json_object_get(spec, "annotations")));

    json_t *out = json_pack("{s:s, s:s, s:o}", "kind", "ImageStreamTag", "apiVersion", TW_GV, "metadata", meta);
    json_object_set_new(out, "tag", spec ? json_deep_copy(spec) : json_null());
    json_object_set_new(out, "generation", json_integer(ij_int(event, "generation")));
    json_t *lp = json_object_get(json_object_get(stream, "spec"), "lookupPolicy");
    json_object_set_new(out, "lookupPolicy", json_pack("{s:b}", "local", ij_bool(lp, "local")));
    json_t *conds = json_object_get(is_status_tag(stream, tag), "conditions");
    if (json_array_size(conds))
        json_object_set_new(out, "conditions", json_deep_copy(conds));
    json_object_set_new(out, "image", view_image(stream, tag, event, spec, image, now));
    return out;
}

int istag_check_name(api_call_t *c, const char *name) { return tw_check_name(c, &tw_istag, name); }

/* ---- get, list ---- */

static json_t *istag_get(api_call_t *c, const char *ns, const char *name)
{
    char *sname, *tag;
    json_t *stream = NULL, *image = NULL, *out = NULL;
    if (tw_parse(c, &tw_istag, name, &sname, &tag) != 0)
        return NULL;
    stream = api_obj_get(c, tw_streams(c), ns, sname);   /* 404 imagestreams */
    if (!stream)
        goto out;
    json_t *event = tw_latest(stream, tag);
    if (!event || !*ij_str(event, "image")) {
        apierr_not_found(api_call_err(c), tw_istag.resource, TW_GROUP, name);
        goto out;
    }
    image = tw_image(c, ij_str(event, "image"), true);   /* 404 images */
    if (image)
        out = istag_view(stream, tag, image, api_call_now(c));
out:
    json_decref(stream);
    json_decref(image);
    free(sname);
    free(tag);
    return out;
}

/* An answer is made from its stream and its image at the revisions it shows (the stream's
 * is the tag's resourceVersion): api/ may serve it again while both are unchanged. */
static size_t istag_get_deps(const json_t *answer, api_get_dep_t deps[API_GET_DEPS])
{
    const json_t *meta = json_object_get(answer, "metadata");
    const json_t *imeta = json_object_get(json_object_get(answer, "image"), "metadata");
    const char *name = ij_str(meta, "name"), *colon = strchr(name, ':');
    long long srev = strtoll(ij_str(meta, "resourceVersion"), NULL, 10);
    long long irev = strtoll(ij_str(imeta, "resourceVersion"), NULL, 10);
    if (!colon || srev <= 0 || irev <= 0 || !*ij_str(imeta, "name"))
        return 0;
    deps[0] = (api_get_dep_t){.resource = "imagestreams", .rev = srev};
    snprintf(deps[0].ns, sizeof deps[0].ns, "%s", ij_str(meta, "namespace"));
    snprintf(deps[0].name, sizeof deps[0].name, "%.*s", (int)(colon - name), name);
    deps[1] = (api_get_dep_t){.resource = "images", .rev = irev};
    snprintf(deps[1].name, sizeof deps[1].name, "%s", ij_str(imeta, "name"));
    /* a name cut by the buffers would name another object: do not keep */
    if (strlen(ij_str(meta, "namespace")) >= sizeof deps[0].ns || (size_t)(colon - name) >= sizeof deps[0].name ||
        strlen(ij_str(imeta, "name")) >= sizeof deps[1].name)
        return 0;
    return 2;
}

/* LIST form (§1.2): every status tag whose latest event names an image; the image is not
 * loaded. Pure (runs on the watch dispatcher too). */
static json_t *istag_expand(api_call_t *c, const json_t *stream)
{
    json_t *items = json_array(), *t;
    size_t i;
    json_array_foreach(json_object_get(json_object_get(stream, "status"), "tags"), i, t) {
        const char *tag = ij_str(t, "tag");
        json_t *event = tw_latest(stream, tag);
        if (event && *ij_str(event, "image"))
            json_array_append_new(items, istag_view(stream, tag, NULL, NULL));
    }
    return items;
}

/* ---- create ---- */

static bool annotations_equal(const json_t *a, const json_t *b)
{
    if (!nonempty_object(a) || !nonempty_object(b))
        return nonempty_object(a) == nonempty_object(b);
    return json_equal(a, b);
}

/* PrepareForCreate and create validation (§1.3 steps 1-2): obj is changed. */
static int prepare_create(api_call_t *c, json_t *obj, const char *tag_part)
{
    json_t *tag = json_object_get(obj, "tag");
    const json_t *meta = json_object_get(obj, "metadata");
    if (json_is_object(tag)) {
        tw_default_ref(c, tag);
        if (!*ij_str(tag, "name"))
            json_object_set_new(tag, "name", json_string(tag_part));
    }
    json_object_del(obj, "conditions");
    json_object_del(obj, "image");
    ferrs_t errs = FERRS_INIT;
    tw_validate_meta(obj, NULL, &errs);
    if (json_is_object(tag)) {
        is_tag_ref_validate(tag, "tag", &errs);
        json_t *ta = json_object_get(tag, "annotations");
        if (json_is_object(ta) && !annotations_equal(ta, json_object_get(meta, "annotations")))
            ferrs_add(&errs, FERR_INVALID, "tag.annotations", json_deep_copy(ta),
                      "tag annotations must not be provided or must be equal to the object meta annotations");
    }
    int rc = errs.n ? tw_invalid(c, &tw_istag, ij_str(meta, "name"), &errs) : 0;
    ferrs_free(&errs);
    return rc;
}

/* ---- update and patch ---- */

/* Drops what an update may change or what the generic path fills, for the comparison of
 * §1.4 step 6 (everything else must be unchanged). */
static json_t *comparable(const json_t *o)
{
    json_t *c = json_deep_copy(o);
    static const char *const top[] = {"tag", "lookupPolicy", "generation", "conditions", "image"};
    for (size_t i = 0; i < sizeof top / sizeof *top; i++)
        json_object_del(c, top[i]);
    json_t *m = ij_obj(c, "metadata");
    static const char *const meta[] = {"annotations", "managedFields", "generation", "selfLink", "resourceVersion"};
    for (size_t i = 0; i < sizeof meta / sizeof *meta; i++)
        json_object_del(m, meta[i]);
    if (!nonempty_object(json_object_get(m, "labels")))
        json_object_del(m, "labels");
    json_object_set_new(m, "creationTimestamp", ij_time(json_object_get(m, "creationTimestamp")));
    return c;
}

/* PrepareForUpdate and update validation (§1.4 step 6). */
static int prepare_update(api_call_t *c, json_t *obj, const json_t *old)
{
    json_t *meta = ij_obj(obj, "metadata");
    const json_t *old_meta = json_object_get(old, "metadata");
    /* what the generic update path fills from the stored object when omitted */
    static const char *const fill[] = {"uid", "creationTimestamp", "resourceVersion"};
    for (size_t i = 0; i < sizeof fill / sizeof *fill; i++)
        if (!*ij_str(meta, fill[i]))
            json_object_set(meta, fill[i], json_object_get(old_meta, fill[i]));
    json_t *tag = json_object_get(obj, "tag");
    if (json_is_object(tag)) {
        tw_default_ref(c, tag);
        json_t *ann = json_object_get(meta, "annotations");
        json_object_set_new(tag, "annotations", json_is_object(ann) ? json_deep_copy(ann) : json_null());
    }
    json_object_set(obj, "conditions", json_object_get(old, "conditions") ?: json_null());
    json_object_set(obj, "image", json_object_get(old, "image"));
    ferrs_t errs = FERRS_INIT;
    tw_validate_meta(obj, old, &errs);
    if (json_is_object(tag))
        is_tag_ref_validate(tag, "tag", &errs);
    json_t *a = comparable(obj), *b = comparable(old);
    if (!json_equal(a, b))
        ferrs_add(&errs, FERR_INVALID, "metadata", json_string(""),
                  "may not update fields other than metadata.annotations");
    json_decref(a);
    json_decref(b);
    int rc = errs.n ? tw_invalid(c, &tw_istag, ij_str(meta, "name"), &errs) : 0;
    ferrs_free(&errs);
    return rc;
}

/* The update step (§1.4 steps 5-8) after the shared checks. */
static int update(api_call_t *c, const tw_target_t *t, json_t *stream, json_t *body, const json_t *old,
                  bool create_mode, bool *created)
{
    json_t *meta = json_object_get(body, "metadata");
    /* old clients send no labels: they are the stream's */
    json_t *labels = json_object_get(json_object_get(stream, "metadata"), "labels");
    if (nonempty_object(labels) && !nonempty_object(json_object_get(meta, "labels")))
        json_object_set(meta, "labels", labels);
    if ((create_mode ? prepare_create(c, body, t->tag) : prepare_update(c, body, old)) != 0)
        return -1;
    json_t *existing = is_spec_tag(stream, t->tag), *tag = json_object_get(body, "tag");
    if (!existing && !json_is_object(tag))
        return apierr_set(api_call_err(c), APIERR_BAD_REQUEST,
                          "imagestreamtag %s is not a spec tag in imagestream %s/%s, cannot be updated", t->tag, t->ns,
                          t->stream);
    /* the tag replaces the spec tag; its annotations are always the metadata's */
    json_t *ref = json_deep_copy(json_is_object(tag) ? tag : existing);
    json_t *ann = json_object_get(meta, "annotations");
    json_object_set_new(ref, "annotations", nonempty_object(ann) ? json_deep_copy(ann) : json_null());
    *created = existing == NULL;
    tw_set_spec_tag(stream, t->tag, ref);
    json_decref(ref);
    return 0;
}

const tw_kind_t tw_istag = {
    .resource = "imagestreamtags", .kind = "ImageStreamTag", .exists_resource = "imagestreamtag",
    .plural_kind = "ImageStreamTags", .ref_field = "tag", .update_attempts = 4, .view = istag_view, .prepare_create = prepare_create,
    .update = update,
};

static json_t *istag_create(api_call_t *c, const char *ns, json_t *obj) { return tw_create_req(c, &tw_istag, ns, obj); }

static json_t *istag_update(api_call_t *c, const char *ns, const char *name, json_t *obj)
{
    return tw_update_req(c, &tw_istag, ns, name, obj, NULL, NULL);
}

static json_t *istag_patch(api_call_t *c, const char *ns, const char *name, api_mutate_fn apply, void *arg)
{
    return tw_update_req(c, &tw_istag, ns, name, NULL, apply, arg);
}

static json_t *istag_delete(api_call_t *c, const char *ns, const char *name)
{
    return tw_delete(c, &tw_istag, ns, name);
}

const api_virtual_ops_t istag_ops = {
    .get = istag_get, .create = istag_create, .update = istag_update, .patch = istag_patch, .del = istag_delete,
    .source = "imagestreams", .expand = istag_expand,
    .get_deps = istag_get_deps,
};
