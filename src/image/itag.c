/* ImageTag (`imagetags`, `itag`, name "<stream>:<tag>"; reference §3): the whole of one
 * tag — the stream's metadata, the spec tag, the status tag and the image of its latest
 * event. Exists while a spec or a status tag does. Writes change only the spec tag;
 * delete removes both. */
#include <stdlib.h>
#include <string.h>

#include "image/tags_int.h"
#include "util/util.h"

/* The annotation kubectl apply keeps its last configuration in. An ImageTag's metadata is
 * its stream's and cannot change through the tag, so the annotation is never stored;
 * ignoring it in the comparison of §3.5 is what lets `kubectl apply` patch an ImageTag
 * a second time (the reference rejects that patch). */
#define LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"

json_t *itag_view(const json_t *stream, const char *tag, const json_t *image, const char *now)
{
    json_t *meta = json_deep_copy(json_object_get(stream, "metadata"));
    if (!json_is_object(meta)) {
        json_decref(meta);
        meta = json_object();
    }
    json_object_set_new(meta, "name", json_sprintf("%s:%s", is_name(stream), tag));
    /* the stream's field managers are about the stream; every stream write would change
     * every tag's view (a watch would see all its tags MODIFIED on each push) */
    json_object_del(meta, "managedFields");
    json_t *out = json_pack("{s:s, s:s, s:o}", "kind", "ImageTag", "apiVersion", TW_GV, "metadata", meta);
    json_t *spec = is_spec_tag(stream, tag), *status = is_status_tag(stream, tag);
    json_object_set_new(out, "spec", spec ? json_deep_copy(spec) : json_null());
    if (status) {
        json_t *st = json_pack("{s:s, s:O}", "tag", tag, "items",
                               json_object_get(status, "items") ? json_object_get(status, "items") : json_null());
        json_t *conds = json_object_get(status, "conditions");
        if (json_array_size(conds))
            json_object_set(st, "conditions", conds);
        json_object_set_new(out, "status", st);
    } else {
        json_object_set_new(out, "status", json_null());
    }
    json_t *iv = NULL;
    json_t *event = tw_latest(stream, tag);
    if (image && event) {
        iv = img_view(image, now);
        char *ref = is_event_pull_spec(stream, tag, event);
        json_object_set_new(iv, "dockerImageReference", json_string(ref));
        free(ref);
    }
    json_object_set_new(out, "image", iv ? iv : json_null());
    return out;
}

int itag_check_name(api_call_t *c, const char *name) { return tw_check_name(c, &tw_itag, name); }

static bool tag_exists(const json_t *stream, const char *tag)
{
    return is_spec_tag(stream, tag) || is_status_tag(stream, tag);
}

/* The image of the latest event: a missing one is null here (§3.1), other errors fail. */
static int load_image(api_call_t *c, const json_t *stream, const char *tag, json_t **image)
{
    *image = NULL;
    const char *name = ij_str(tw_latest(stream, tag), "image");
    if (!*name)
        return 0;
    *image = tw_image(c, name, true);
    if (*image)
        return 0;
    if (api_call_err(c)->kind != APIERR_NOT_FOUND)
        return -1;
    apierr_clear(api_call_err(c));
    return 0;
}

static json_t *itag_get(api_call_t *c, const char *ns, const char *name)
{
    char *sname, *tag;
    json_t *stream = NULL, *image = NULL, *out = NULL;
    if (tw_parse(c, &tw_itag, name, &sname, &tag) != 0)
        return NULL;
    stream = api_obj_get(c, tw_streams(c), ns, sname);   /* 404 imagestreams */
    if (!stream)
        goto out;
    if (!tag_exists(stream, tag)) {
        apierr_not_found(api_call_err(c), tw_itag.resource, TW_GROUP, name);
        goto out;
    }
    if (load_image(c, stream, tag, &image) == 0)
        out = itag_view(stream, tag, image, api_call_now(c));
out:
    json_decref(stream);
    json_decref(image);
    free(sname);
    free(tag);
    return out;
}

/* LIST form (§3.3): the union of spec and status tag names, by name; image null. Both
 * lists are stored sorted by name: a merge. Pure. */
static json_t *itag_expand(api_call_t *c, const json_t *stream)
{
    json_t *items = json_array();
    json_t *spec = json_object_get(json_object_get(stream, "spec"), "tags");
    json_t *status = json_object_get(json_object_get(stream, "status"), "tags");
    size_t i = 0, j = 0, n = json_array_size(spec), m = json_array_size(status);
    while (i < n || j < m) {
        const char *a = i < n ? ij_str(json_array_get(spec, i), "name") : NULL;
        const char *b = j < m ? ij_str(json_array_get(status, j), "tag") : NULL;
        int cmp = !a ? 1 : !b ? -1 : strcmp(a, b);
        const char *tag = cmp <= 0 ? a : b;
        if (cmp <= 0)
            i++;
        if (cmp >= 0)
            j++;
        json_array_append_new(items, itag_view(stream, tag, NULL, NULL));
    }
    return items;
}

/* ---- create ---- */

/* PrepareForCreate and create validation (§3.4). */
static int prepare_create(api_call_t *c, json_t *obj, const char *tag_part)
{
    json_t *spec = json_object_get(obj, "spec");
    const json_t *meta = json_object_get(obj, "metadata");
    if (json_is_object(spec)) {
        tw_default_ref(c, spec);
        if (!*ij_str(spec, "name"))
            json_object_set_new(spec, "name", json_string(tag_part));
    }
    json_object_set_new(obj, "status", json_null());
    json_object_set_new(obj, "image", json_null());
    ferrs_t errs = FERRS_INIT;
    tw_validate_meta(obj, NULL, &errs);
    if (!json_is_object(spec)) {
        ferrs_add(&errs, FERR_REQUIRED, "spec", NULL, "spec is a required field during creation");
    } else {
        if (strcmp(ij_str(spec, "name"), tag_part))
            ferrs_add(&errs, FERR_INVALID, "spec.name", json_string(ij_str(spec, "name")), "must match image tag name");
        is_tag_ref_validate(spec, "spec", &errs);
    }
    int rc = errs.n ? tw_invalid(c, &tw_itag, ij_str(meta, "name"), &errs) : 0;
    ferrs_free(&errs);
    return rc;
}

/* ---- update and patch ---- */

/* The metadata of §3.5's comparison: what the generic path fills is filled, what the
 * server keeps (managedFields) and the apply annotation are left out. */
static json_t *comparable_meta(const json_t *meta)
{
    json_t *m = json_deep_copy(meta);
    json_object_del(m, "managedFields");
    json_object_del(m, "selfLink");
    json_t *ann = json_object_get(m, "annotations");
    json_object_del(ann, LAST_APPLIED);
    if (!json_object_size(ann))
        json_object_del(m, "annotations");
    if (!json_object_size(json_object_get(m, "labels")))
        json_object_del(m, "labels");
    json_object_set_new(m, "creationTimestamp", ij_time(json_object_get(m, "creationTimestamp")));
    return m;
}

/* A status as compared: times canonical, empty lists as absent. */
static json_t *comparable_status(const json_t *st)
{
    if (!json_is_object(st))
        return json_null();
    json_t *s = json_deep_copy(st), *v;
    size_t i;
    static const char *const lists[] = {"items", "conditions"};
    for (size_t k = 0; k < 2; k++) {
        json_t *arr = json_object_get(s, lists[k]);
        if (!json_array_size(arr)) {
            json_object_del(s, lists[k]);
            continue;
        }
        json_array_foreach(arr, i, v) {
            const char *key = k == 0 ? "created" : "lastTransitionTime";
            if (json_is_object(v))
                json_object_set_new(v, key, ij_time(json_object_get(v, key)));
        }
    }
    return s;
}

static int prepare_update(api_call_t *c, json_t *obj, const json_t *old, const char *tag_part)
{
    json_t *meta = ij_obj(obj, "metadata");
    const json_t *old_meta = json_object_get(old, "metadata");
    if (!*ij_str(meta, "uid"))
        json_object_set(meta, "uid", json_object_get(old_meta, "uid"));
    if (!*ij_str(meta, "resourceVersion"))
        json_object_set(meta, "resourceVersion", json_object_get(old_meta, "resourceVersion"));
    static const char *const kept[] = {"creationTimestamp", "generation"};
    for (size_t i = 0; i < 2; i++) {
        json_t *v = json_object_get(old_meta, kept[i]);
        if (v)
            json_object_set(meta, kept[i], v);
        else
            json_object_del(meta, kept[i]);
    }
    json_t *spec = json_object_get(obj, "spec");
    if (json_is_object(spec)) {
        tw_default_ref(c, spec);
        if (!*ij_str(spec, "name"))
            json_object_set_new(spec, "name", json_string(tag_part));
    }
    ferrs_t errs = FERRS_INIT;
    tw_validate_meta(obj, old, &errs);
    if (json_is_object(spec)) {
        if (strcmp(ij_str(spec, "name"), tag_part))
            ferrs_add(&errs, FERR_INVALID, "spec.name", json_string(ij_str(spec, "name")), "must match image tag name");
        is_tag_ref_validate(spec, "spec", &errs);
    }
    json_t *a = comparable_meta(meta), *b = comparable_meta(old_meta);
    if (!json_equal(a, b))
        ferrs_add(&errs, FERR_INVALID, "metadata", json_string(""), "may not update fields other than spec");
    json_decref(a);
    json_decref(b);
    a = comparable_status(json_object_get(obj, "status"));
    b = comparable_status(json_object_get(old, "status"));
    if (!json_equal(a, b))
        ferrs_add(&errs, FERR_INVALID, "status", json_string(""), "may not update fields other than spec");
    json_decref(a);
    json_decref(b);
    int rc = errs.n ? tw_invalid(c, &tw_itag, ij_str(meta, "name"), &errs) : 0;
    ferrs_free(&errs);
    return rc;
}

/* The update step (§3.5) after the shared checks: spec set replaces the spec tag, spec
 * null removes it (the status stays). */
static int update(api_call_t *c, const tw_target_t *t, json_t *stream, json_t *body, const json_t *old,
                  bool create_mode, bool *created)
{
    if ((create_mode ? prepare_create(c, body, t->tag) : prepare_update(c, body, old, t->tag)) != 0)
        return -1;
    json_t *spec = json_object_get(body, "spec");
    if (!json_is_object(spec) && !tag_exists(stream, t->tag))
        return apierr_not_found(api_call_err(c), tw_itag.resource, TW_GROUP, t->name);
    *created = !is_spec_tag(stream, t->tag) && json_is_object(spec);
    tw_set_spec_tag(stream, t->tag, json_is_object(spec) ? spec : NULL);
    return 0;
}

const tw_kind_t tw_itag = {
    .resource = "imagetags", .kind = "ImageTag", .exists_resource = "imagetags", .plural_kind = "ImageTags",
    .ref_field = "spec", .update_attempts = 1, .view = itag_view, .prepare_create = prepare_create, .update = update,
};

static json_t *itag_create(api_call_t *c, const char *ns, json_t *obj) { return tw_create_req(c, &tw_itag, ns, obj); }

static json_t *itag_update(api_call_t *c, const char *ns, const char *name, json_t *obj)
{
    return tw_update_req(c, &tw_itag, ns, name, obj, NULL, NULL);
}

static json_t *itag_patch(api_call_t *c, const char *ns, const char *name, api_mutate_fn apply, void *arg)
{
    return tw_update_req(c, &tw_itag, ns, name, NULL, apply, arg);
}

static json_t *itag_delete(api_call_t *c, const char *ns, const char *name)
{
    return tw_delete(c, &tw_itag, ns, name);
}

const api_virtual_ops_t itag_ops = {
    .get = itag_get, .create = itag_create, .update = itag_update, .patch = itag_patch, .del = itag_delete,
    .source = "imagestreams", .expand = itag_expand,
};
