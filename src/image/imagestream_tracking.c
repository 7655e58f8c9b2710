/* Tags that follow other tags of the same stream (spec tags `from` ImageStreamTag, as
 * `oc tag --alias` makes them), the cycles such tags may not form, and the history bound
 * of --max-tag-history. */
#include "image/image_int.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

/* The tag of this stream a spec tag follows, or NULL: kind ImageStreamTag, same
 * namespace, name "<tag>" or "<this stream>:<tag>". Returns a pointer into the spec tag
 * or into a static "latest". */
static const char *followed_tag(const json_t *obj, const json_t *spec_tag)
{
    const json_t *from = json_object_get(spec_tag, "from");
    const char *fns = ij_str(from, "namespace"), *fname = ij_str(from, "name");
    if (strcmp(ij_str(from, "kind"), "ImageStreamTag") || (*fns && strcmp(fns, is_ns(obj))))
        return NULL;
    const char *colon = strchr(fname, ':');
    if (!colon)
        return *fname ? fname : NULL;
    size_t n = (size_t)(colon - fname);
    if (strlen(is_name(obj)) != n || strncmp(fname, is_name(obj), n) || strchr(colon + 1, ':'))
        return NULL;
    return colon[1] ? colon + 1 : "latest";
}

static json_t *latest_event(const json_t *obj, const char *tag)
{
    return json_array_get(json_object_get(is_status_tag(obj, tag), "items"), 0);
}

void is_track(json_t *obj, const json_t *old)
{
    /* Work list of tags whose latest event moved, seeded with the changes against the
     * real old object (the reference compares against an alias of the new status on
     * public updates, so its tracking tags miss those). Followers that move are added in
     * turn: a chain a -> b -> c follows c in one write. Each tag is expanded at most once,
     * which also ends legacy cycles stored before cycles were refused. */
    json_t *todo = json_array(), *done = json_object();
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(json_object_get(obj, "status"), "tags"), i, t) {
        const char *tag = ij_str(t, "tag");
        json_t *n = latest_event(obj, tag), *o = old ? latest_event(old, tag) : NULL;
        if (n && (!o || !json_equal(n, o)))
            json_array_append_new(todo, json_string(tag));
    }
    const json_t *spec_tags = json_object_get(json_object_get(obj, "spec"), "tags");
    for (size_t k = 0; k < json_array_size(todo); k++) {
        const char *moved = json_string_value(json_array_get(todo, k));
        if (json_object_get(done, moved))
            continue;
        json_object_set_new(done, moved, json_true());
        json_t *ev = json_deep_copy(latest_event(obj, moved));
        json_t *st;
        json_array_foreach(spec_tags, i, st) {
            const char *follower = ij_str(st, "name"), *src = followed_tag(obj, st);
            if (!ev || !src || strcmp(src, moved) || !strcmp(follower, moved))
                continue;
            if (imagestream_add_tag_event(obj, follower, ev))
                json_array_append_new(todo, json_string(follower));
        }
        json_decref(ev);
    }
    json_decref(todo);
    json_decref(done);
}

/* A spec tag is new or its reference changed against old (all tags on create). */
static bool tag_touched(const json_t *obj, const json_t *old, const json_t *st)
{
    if (!old)
        return true;
    const json_t *o = is_spec_tag(old, ij_str(st, "name"));
    return !o || is_tag_ref_changed(o, st, is_ns(obj));
}

void is_tag_cycles(const json_t *obj, const json_t *old, ferrs_t *errs)
{
    const json_t *spec_tags = json_object_get(json_object_get(obj, "spec"), "tags");
    size_t n = json_array_size(spec_tags), i;
    json_t *st;
    json_array_foreach(spec_tags, i, st) {
        if (!tag_touched(obj, old, st) || !followed_tag(obj, st))
            continue;
        /* Walk the chain from this tag; a cycle through it comes back within n steps.
         * Only cycles that a new or changed tag closes are refused, so a stored legacy
         * cycle does not block unrelated writes. */
        const char *start = ij_str(st, "name"), *cur = start;
        buf_t path;
        buf_init(&path);
        buf_puts(&path, start);
        bool cycle = false;
        for (size_t step = 0; step < n; step++) {
            const json_t *t = is_spec_tag(obj, cur);
            const char *next = t ? followed_tag(obj, t) : NULL;
            if (!next)
                break;
            buf_printf(&path, " -> %s", next);
            if (!strcmp(next, start)) {
                cycle = true;
                break;
            }
            cur = next;
        }
        if (cycle) {
            char *f = xasprintf("spec.tags[%s].from.name", start);
            ferrs_add(errs, FERR_INVALID, f, json_string(ij_str(json_object_get(st, "from"), "name")),
                      "tags may not track each other in a cycle: %s", path.data);
            free(f);
        }
        buf_free(&path);
    }
}

/* The image a spec tag pins by digest in this stream's history: ImageStreamImage of this
 * stream ("<id>" or "<stream>@<id>"), or a DockerImage reference with a digest. */
static bool pinned(const json_t *obj, const char *image)
{
    size_t i;
    json_t *st;
    json_array_foreach(json_object_get(json_object_get(obj, "spec"), "tags"), i, st) {
        const json_t *from = json_object_get(st, "from");
        const char *kind = ij_str(from, "kind"), *fname = ij_str(from, "name"), *fns = ij_str(from, "namespace");
        if (!strcmp(kind, "ImageStreamImage") && (!*fns || !strcmp(fns, is_ns(obj)))) {
            const char *at = strchr(fname, '@'), *id = at ? at + 1 : fname;
            if (at && (strlen(is_name(obj)) != (size_t)(at - fname) || strncmp(fname, is_name(obj), (size_t)(at - fname))))
                continue;
            if (*id && is_image_matches(image, id))
                return true;
        } else if (!strcmp(kind, "DockerImage")) {
            const char *at = strrchr(fname, '@');
            if (at && !strcmp(at + 1, image))
                return true;
        }
    }
    return false;
}

void is_prune_history(const image_ctx_t *ctx, json_t *obj)
{
    int max = ctx && ctx->cfg ? ctx->cfg->max_tag_history : 0;
    if (max <= 0)
        return;
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(json_object_get(obj, "status"), "tags"), i, t) {
        json_t *items = json_object_get(t, "items");
        /* newest first: keep the first max events, and older ones a spec tag pins */
        for (size_t j = json_array_size(items); j > (size_t)max; j--) {
            const char *image = ij_str(json_array_get(items, j - 1), "image");
            if (!*image || !pinned(obj, image))
                json_array_remove(items, j - 1);
        }
    }
}
