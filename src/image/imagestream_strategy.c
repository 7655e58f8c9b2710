/* ImageStream create/update preparation (§3.3, §3.4, §3.10) and generation rules (§3.5). */
#include "image/image_int.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

void imagestream_prepare_create(const image_ctx_t *ctx, json_t *obj)
{
    json_t *status = json_object();
    json_object_set_new(obj, "status", status);
    is_set_status_repos(ctx, obj, status, false);
    json_object_set_new(ij_obj(obj, "metadata"), "generation", json_integer(1));
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(ij_obj(obj, "spec"), "tags"), i, t) json_object_set_new(t, "generation", json_integer(1));
}

static bool gen_set(const json_t *t) { return json_is_integer(json_object_get(t, "generation")); }

bool is_tag_ref_changed(const json_t *o, const json_t *n, const char *stream_ns)
{
    const json_t *nf = json_object_get(n, "from"), *of = json_object_get(o, "from");
    if (!json_is_object(nf) || (!*ij_str(nf, "kind") && !*ij_str(nf, "name")))
        return false;
    const char *ons = *ij_str(of, "namespace") ? ij_str(of, "namespace") : stream_ns;
    const char *nns = *ij_str(nf, "namespace") ? ij_str(nf, "namespace") : stream_ns;
    if (strcmp(ons, nns) || strcmp(ij_str(of, "name"), ij_str(nf, "name")))
        return true;
    if (ij_bool(o, "reference") != ij_bool(n, "reference"))
        return true;
    if (strcmp(ij_str(json_object_get(o, "importPolicy"), "importMode"),
               ij_str(json_object_get(n, "importPolicy"), "importMode")))
        return true;
    return gen_set(o) && gen_set(n) && ij_int(o, "generation") != ij_int(n, "generation") && ij_int(n, "generation") == 0;
}

/* Semantic spec equality: nil and empty maps compare equal (apimachinery Semantic). */
static json_t *spec_for_compare(const json_t *spec)
{
    json_t *c = json_deep_copy(spec ? spec : json_object());
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(c, "tags"), i, t) {
        json_t *a = json_object_get(t, "annotations");
        if (!json_is_object(a) || !json_object_size(a))
            json_object_del(t, "annotations");
    }
    if (!json_array_size(json_object_get(c, "tags")))
        json_object_del(c, "tags");
    return c;
}

void imagestream_prepare_update(const image_ctx_t *ctx, json_t *obj, const json_t *old)
{
    json_t *meta = ij_obj(obj, "metadata");
    json_int_t old_gen = ij_int(json_object_get(old, "metadata"), "generation");
    json_object_set_new(meta, "generation", json_integer(old_gen));
    /* Steps 1 and 3: the request's status is replaced by the old one. */
    json_t *status = json_deep_copy(json_object_get(old, "status"));
    if (!json_is_object(status)) {
        json_decref(status);
        status = json_object();
    }
    json_object_set_new(obj, "status", status);
    is_set_status_repos(ctx, obj, status, true);

    json_t *spec = ij_obj(obj, "spec");
    const json_t *old_spec = json_object_get(old, "spec");
    json_t *tags = json_object_get(spec, "tags");
    size_t i;
    json_t *t;
    /* Step 4: users cannot pick generations, except 0 (= re-import). */
    json_array_foreach(tags, i, t) {
        json_t *ot = is_spec_tag(old, ij_str(t, "name"));
        if (gen_set(t) && ij_int(t, "generation") == 0)
            continue;
        if (ot)
            json_object_set(t, "generation", gen_set(ot) ? json_object_get(ot, "generation") : json_null());
    }
    /* Step 5. */
    json_t *a = spec_for_compare(spec), *b = spec_for_compare(old_spec);
    json_int_t gen = old_gen;
    if (!json_equal(a, b) || old_gen == 0)
        gen = old_gen + 1;
    json_decref(a);
    json_decref(b);
    json_object_set_new(meta, "generation", json_integer(gen));
    /* Step 6. */
    json_array_foreach(tags, i, t) {
        json_t *ot = is_spec_tag(old, ij_str(t, "name"));
        if (!ot || is_tag_ref_changed(ot, t, is_ns(obj)))
            json_object_set_new(t, "generation", json_null());
        if (!gen_set(t) || ij_int(t, "generation") == 0)
            json_object_set_new(t, "generation", json_integer(gen));
    }
}

void imagestream_prepare_status_update(const image_ctx_t *ctx, json_t *obj, const json_t *old)
{
    json_t *meta = ij_obj(obj, "metadata");
    json_int_t gen = ij_int(json_object_get(old, "metadata"), "generation");
    json_object_set_new(meta, "generation", json_integer(gen));
    json_t *spec = ij_obj(obj, "spec");
    const json_t *old_spec = json_object_get(old, "spec");
    static const char *const keep[] = {"tags", "dockerImageRepository"};
    for (size_t k = 0; k < 2; k++) {
        json_t *v = json_object_get(old_spec, keep[k]);
        if (v)
            json_object_set_new(spec, keep[k], json_deep_copy(v));
        else
            json_object_del(spec, keep[k]);
    }
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(json_object_get(obj, "status"), "tags"), i, t) {
        json_t *e = json_array_get(json_object_get(t, "items"), 0);
        if (!e || ij_int(e, "generation") != 0)
            continue;
        const char *tag = ij_str(t, "tag");
        json_t *oe = json_array_get(json_object_get(is_status_tag(old, tag), "items"), 0);
        json_int_t g = gen;
        bool unchanged = oe && !strcmp(ij_str(oe, "image"), ij_str(e, "image")) &&
                         !strcmp(ij_str(oe, "dockerImageReference"), ij_str(e, "dockerImageReference")) &&
                         ij_int(oe, "generation") == 0;
        if (oe && !unchanged) {
            json_t *st = is_spec_tag(obj, tag);
            if (st && gen_set(st))
                g = ij_int(st, "generation");
        }
        json_object_set_new(e, "generation", json_integer(g));
    }
}
