/* Tag history (§3.9) and materialisation of spec tags into status (§3.6); tracking
 * tags follow in imagestream_tracking.c. */
#include "image/image_int.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

static json_t *event_copy(const json_t *e)
{
    return json_pack("{s:o, s:s, s:s, s:I}", "created", ij_time(json_object_get(e, "created")), "dockerImageReference",
                     ij_str(e, "dockerImageReference"), "image", ij_str(e, "image"), "generation",
                     (json_int_t)ij_int(e, "generation"));
}

bool imagestream_add_tag_event(json_t *obj, const char *tag, const json_t *event)
{
    json_t *status = ij_obj(obj, "status");
    json_t *tags = json_object_get(status, "tags");
    if (!json_is_array(tags)) {
        tags = json_array();
        json_object_set_new(status, "tags", tags);
    }
    json_t *t = ij_find(tags, "tag", tag);
    json_t *items = json_object_get(t, "items");
    if (t && !json_array_size(items)) {
        /* An item-less tag (conditions only) gets the event; conditions are dropped. */
        json_object_set_new(t, "items", json_pack("[o]", event_copy(event)));
        json_object_del(t, "conditions");
        return true;
    }
    if (!t) {
        /* Insert in name order, in place (callers may hold the array). */
        size_t pos = 0;
        while (pos < json_array_size(tags) && strcmp(ij_str(json_array_get(tags, pos), "tag"), tag) < 0)
            pos++;
        json_array_insert_new(tags, pos, json_pack("{s:s, s:[o]}", "tag", tag, "items", event_copy(event)));
        return true;
    }
    json_t *p = json_array_get(items, 0);
    const char *eref = ij_str(event, "dockerImageReference"), *eimg = ij_str(event, "image");
    json_int_t egen = ij_int(event, "generation");
    bool same_ref = !strcmp(ij_str(p, "dockerImageReference"), eref);
    bool same_img = !strcmp(ij_str(p, "image"), eimg);
    bool same_gen = ij_int(p, "generation") == egen;
    if (same_ref && same_img && same_gen)
        return false;
    if (same_ref && same_img) {
        json_object_set_new(p, "generation", json_integer(egen));
    } else if (same_ref) {
        json_object_set_new(p, "image", json_string(eimg));
        json_object_set_new(p, "generation", json_integer(egen));
    } else if (same_img) {
        json_object_set_new(p, "dockerImageReference", json_string(eref));
        json_object_set_new(p, "generation", json_integer(egen));
    } else {
        json_array_insert_new(items, 0, event_copy(event));
    }
    json_object_del(t, "conditions");
    return true;
}

/* ---- ImageStreamImage resolution ---- */
bool is_image_matches(const char *image, const char *id)
{
    if (str_has_prefix(image, id))
        return true;
    const char *colon = strchr(image, ':');
    return digest_valid(image) && colon && str_has_prefix(colon + 1, id);
}

/* DockerImageReferenceForImage: the newest event of `image` and its tag's reference policy. */
static char *reference_for_image(const json_t *src, const char *image)
{
    const json_t *best = NULL;
    const char *best_tag = NULL;
    int64_t best_t = INT64_MIN;
    size_t i, j;
    json_t *t, *e;
    json_array_foreach(json_object_get(json_object_get(src, "status"), "tags"), i, t) {
        json_array_foreach(json_object_get(t, "items"), j, e) {
            int64_t ct;
            if (strcmp(ij_str(e, "image"), image))
                continue;
            if (!ij_time_secs(json_object_get(e, "created"), &ct))
                ct = INT64_MIN + 1;
            if (!best || ct > best_t) {
                best = e;
                best_t = ct;
                best_tag = ij_str(t, "tag");
            }
        }
    }
    if (!best)
        return xstrdup("");
    return is_event_pull_spec(src, best_tag, best);
}

/* Returns the event (new ref) or NULL; on failure sets *err (malloc'd detail). */
static json_t *image_event(const json_t *src, const char *id, const char *now, json_int_t gen, char **err)
{
    json_t *found = json_object();
    size_t i, j;
    json_t *t, *e;
    json_array_foreach(json_object_get(json_object_get(src, "status"), "tags"), i, t) {
        json_array_foreach(json_object_get(t, "items"), j, e) {
            const char *img = ij_str(e, "image");
            if (is_image_matches(img, id))
                json_object_set_new(found, img, json_true());
        }
    }
    json_t *ev = NULL;
    size_t n = json_object_size(found);
    if (n == 0) {
        *err = xasprintf("error generating tag event: imagestreamimage.image.openshift.io \"%s\" not found", id);
    } else if (n > 1) {
        json_t *names = json_array();
        const char *k;
        json_t *v;
        json_object_foreach(found, k, v) json_array_append_new(names, json_pack("{s:s}", "n", k));
        json_t *sorted = ij_sorted_unique(names, "n");
        buf_t b;
        buf_init(&b);
        json_array_foreach(sorted, i, v) buf_printf(&b, "%s%s", i ? ", " : "", ij_str(v, "n"));
        *err = xasprintf("error generating tag event: Operation cannot be fulfilled on imagestreamimage.image.openshift.io "
                         "\"%s\": multiple images match the prefix \"%s\": %s", id, id, b.data);
        buf_free(&b);
        json_decref(sorted);
        json_decref(names);
    } else {
        void *it = json_object_iter(found);
        const char *img = json_object_iter_key(it);
        char *ref = reference_for_image(src, img);
        json_t *nowj = json_string(now ? now : "");
        ev = json_pack("{s:o, s:s, s:s, s:I}", "created", ij_time(nowj), "dockerImageReference", ref, "image", img,
                       "generation", gen);
        json_decref(nowj);
        free(ref);
    }
    json_decref(found);
    return ev;
}

/* ---- materialisation ---- */
static void add_err(ferrs_t *errs, ferr_type_t type, const char *tag, const char *sub, const char *value, const char *detail)
{
    char *f = xasprintf("spec.tags[%s].%s", tag, sub);
    if (detail)
        ferrs_add(errs, type, f, json_string(value), "%s", detail);
    else
        ferrs_add(errs, type, f, json_string(value), NULL);
    free(f);
}

/* Rewrites a reference into the source stream's internal repository to this stream. */
static void rewrite_internal(const image_ctx_t *ctx, const json_t *obj, json_t *ev, const char *src_ns, const char *src_name)
{
    const char *h = ctx && ctx->cfg ? ctx->cfg->registry_hostname : NULL;
    docker_ref_t r;
    const char *msg;
    if (!h || !*h || docker_ref_parse(ij_str(ev, "dockerImageReference"), &r, &msg) != 0)
        return;
    if (!strcmp(r.registry, h) && !strcmp(r.namespace, src_ns) && !strcmp(r.name, src_name)) {
        free(r.namespace);
        free(r.name);
        r.namespace = xstrdup(is_ns(obj));
        r.name = xstrdup(is_name(obj));
        char *s = docker_ref_exact(&r);
        json_object_set_new(ev, "dockerImageReference", json_string(s));
        free(s);
    }
    docker_ref_free(&r);
}

static void materialize_tag(const image_ctx_t *ctx, json_t *obj, const json_t *tag, json_int_t stream_gen, ferrs_t *errs)
{
    const char *tname = ij_str(tag, "name");
    const json_t *from = json_object_get(tag, "from");
    const char *kind = ij_str(from, "kind"), *fname = ij_str(from, "name");
    json_t *gj = json_object_get(tag, "generation");
    json_int_t gen = json_is_integer(gj) ? json_integer_value(gj) : stream_gen;
    const char *now = ctx && ctx->now ? ctx->now : "";
    bool reference = ij_bool(tag, "reference");

    if (!strcmp(kind, "DockerImage") && *fname) {
        if (reference) {
            json_t *nowj = json_string(now);
            json_t *ev = json_pack("{s:o, s:s, s:s, s:I}", "created", ij_time(nowj), "dockerImageReference", fname,
                                   "image", "", "generation", gen);
            imagestream_add_tag_event(obj, tname, ev);
            json_decref(ev);
            json_decref(nowj);
        }
        return;
    }
    char sep = !strcmp(kind, "ImageStreamTag") ? ':' : !strcmp(kind, "ImageStreamImage") ? '@' : 0;
    const char *p = sep ? strchr(fname, sep) : NULL;
    if (!sep || (p && strchr(p + 1, sep))) {
        add_err(errs, FERR_INVALID, tname, "from.name", fname,
                "must be of the form <tag>, <repo>:<tag>, <id>, or <repo>@<id>");
        return;
    }
    char *sname = p ? xstrndup(fname, p - fname) : xstrdup(is_name(obj));
    const char *ref_part = p ? p + 1 : fname;
    const char *src_ns = *ij_str(from, "namespace") ? ij_str(from, "namespace") : is_ns(obj);
    json_t *other = NULL, *ev = NULL;
    const json_t *src = obj;
    if (strcmp(src_ns, is_ns(obj)) || strcmp(sname, is_name(obj))) {
        other = ctx && ctx->get_stream ? ctx->get_stream(ctx->arg, src_ns, sname) : NULL;
        if (!other) {
            add_err(errs, FERR_NOT_FOUND, tname, "from.name", fname, NULL);
            goto out;
        }
        src = other;
    }
    if (sep == ':') {
        /* Copy, not alias: the reference edits the source tag's latest event in place. */
        json_t *st = is_status_tag(src, *ref_part ? ref_part : "latest");
        json_t *latest = json_array_get(json_object_get(st, "items"), 0);
        if (!latest)
            goto out; /* no events: nothing recorded, no error */
        ev = event_copy(latest);
        json_object_set_new(ev, "generation", json_integer(gen));
    } else {
        char *err = NULL;
        ev = image_event(src, ref_part, now, gen, &err);
        if (!ev) {
            add_err(errs, FERR_INVALID, tname, "from.name", fname, err);
            free(err);
            goto out;
        }
    }
    if (!reference)
        rewrite_internal(ctx, obj, ev, src_ns, sname);
    imagestream_add_tag_event(obj, tname, ev);
out:
    json_decref(ev);
    json_decref(other);
    free(sname);
}

/* §3.6 cross-namespace authorization: a tag taken from a stream of another namespace
 * needs "get imagestreams/layers" there. Decisions are asked once per source stream
 * (memo: "ns/stream" -> null when allowed, the error detail when denied). Returns true
 * when the tag may be materialised. */
static bool source_allowed(const image_ctx_t *ctx, const json_t *obj, const json_t *tag, json_t *memo, ferrs_t *errs)
{
    const json_t *from = json_object_get(tag, "from");
    const char *kind = ij_str(from, "kind"), *fns = ij_str(from, "namespace"), *fname = ij_str(from, "name");
    char sep = !strcmp(kind, "ImageStreamTag") ? ':' : !strcmp(kind, "ImageStreamImage") ? '@' : 0;
    if (!sep || !*fns || !strcmp(fns, is_ns(obj)) || !ctx || !ctx->can_read_layers)
        return true;
    const char *p = strchr(fname, sep);
    if (p && strchr(p + 1, sep))
        return true; /* materialize_tag reports the malformed name */
    char *sname = p ? xstrndup(fname, (size_t)(p - fname)) : xstrdup(is_name(obj));
    char *key = xasprintf("%s/%s", fns, sname);
    json_t *seen = json_object_get(memo, key);
    if (!seen) {
        char *reason = NULL;
        if (ctx->can_read_layers(ctx->arg, fns, sname, &reason))
            seen = json_null();
        else
            seen = json_sprintf("%s: \"%s\" \"\"", key, reason ? reason : "");
        free(reason);
        json_object_set_new(memo, key, seen);
    }
    bool ok = json_is_null(seen);
    if (!ok) {
        char *f = xasprintf("spec.tags[%s].from", ij_str(tag, "name"));
        ferrs_add(errs, FERR_FORBIDDEN, f, NULL, "%s", json_string_value(seen));
        free(f);
    }
    free(key);
    free(sname);
    return ok;
}

void is_materialize(const image_ctx_t *ctx, json_t *obj, const json_t *old, ferrs_t *errs)
{
    json_t *memo = json_object();
    json_int_t gen = ij_int(json_object_get(obj, "metadata"), "generation");
    /* Iterate a snapshot: adding events does not touch spec, but keep ownership simple. */
    json_t *tags = json_deep_copy(json_object_get(json_object_get(obj, "spec"), "tags"));
    size_t i;
    json_t *tag;
    json_array_foreach(tags, i, tag) {
        if (old) {
            json_t *o = is_spec_tag(old, ij_str(tag, "name"));
            if (o && !is_tag_ref_changed(o, tag, is_ns(obj)))
                continue;
        }
        if (!json_is_object(json_object_get(tag, "from")) || !source_allowed(ctx, obj, tag, memo, errs))
            continue;
        materialize_tag(ctx, obj, tag, gen, errs);
    }
    json_decref(tags);
    json_decref(memo);
    is_track(obj, old);
}
