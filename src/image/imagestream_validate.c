/* ImageStream validation (§3.1, §3.8), materialisation with the §0.3 double wrapping,
 * and status-subresource validation (§3.10 step 5), which also moves tracking tags and
 * applies --max-tag-history (they change status at write time). Not here: LimitRanges
 * and the registry allow-list (§3.13). */
#include "image/image_int.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

#define NAME_RE "[a-z0-9]+(?:[._-][a-z0-9]+)*"

/* [a-z0-9]+(?:[._-][a-z0-9]+)* fully matched */
bool img_name_component_ok(const char *s)
{
    bool need = true;
    for (; *s; s++) {
        if ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9'))
            need = false;
        else if ((*s == '.' || *s == '_' || *s == '-') && !need)
            need = true;
        else
            return false;
    }
    return !need;
}

static void name_rule(const char *v, bool prefix, const char *field, ferrs_t *errs)
{
    if (img_path_segment_errors(v, prefix, field, errs))
        return;
    if (!img_name_component_ok(v))
        ferrs_add(errs, FERR_INVALID, field, json_string(v), "must match \"%s\"", NAME_RE);
}

static void ref_error(ferrs_t *errs, const char *field, const char *v)
{
    docker_ref_t r;
    const char *msg;
    if (docker_ref_parse(v, &r, &msg) != 0)
        ferrs_add(errs, FERR_INVALID, field, json_string(v), "%s", msg);
    docker_ref_free(&r);
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

void is_tag_ref_validate(const json_t *ref, const char *prefix, ferrs_t *errs)
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

/* The ordinary validation of §3.8. */
static void ordinary(const json_t *obj, ferrs_t *errs)
{
    const json_t *meta = json_object_get(obj, "metadata");
    const char *name = ij_str(meta, "name"), *gen_name = ij_str(meta, "generateName"), *ns = ij_str(meta, "namespace");
    if (*gen_name)
        name_rule(gen_name, true, "metadata.generateName", errs);
    if (*name)
        name_rule(name, false, "metadata.name", errs);
    if (strlen(ns) + 1 + strlen(name) > 255)
        ferrs_add(errs, FERR_INVALID, "metadata.name", json_string(name),
                  "'namespace/name' cannot be longer than 255 characters");
    const json_t *spec = json_object_get(obj, "spec");
    const char *dir = ij_str(spec, "dockerImageRepository");
    if (*dir) {
        docker_ref_t r;
        const char *msg;
        const char *f = "spec.dockerImageRepository";
        if (docker_ref_parse(dir, &r, &msg) != 0) {
            ferrs_add(errs, FERR_INVALID, f, json_string(dir), "%s", msg);
        } else {
            if (*r.tag)
                ferrs_add(errs, FERR_INVALID, f, json_string(dir), "the repository name may not contain a tag");
            if (*r.id)
                ferrs_add(errs, FERR_INVALID, f, json_string(dir), "the repository name may not contain an ID");
        }
        docker_ref_free(&r);
    }
    size_t i, j;
    json_t *t, *e;
    json_array_foreach(json_object_get(spec, "tags"), i, t) {
        char *p = xasprintf("spec.tags[%s]", ij_str(t, "name"));
        is_tag_ref_validate(t, p, errs);
        free(p);
    }
    json_array_foreach(json_object_get(json_object_get(obj, "status"), "tags"), i, t) {
        json_array_foreach(json_object_get(t, "items"), j, e) {
            char *f = xasprintf("status.tags[%s].items[%zu].dockerImageReference", ij_str(t, "tag"), j);
            const char *ref = ij_str(e, "dockerImageReference");
            if (!*ref)
                ferrs_add(errs, FERR_REQUIRED, f, NULL, NULL);
            else
                ref_error(errs, f, ref);
            free(f);
        }
    }
}

void imagestream_validate(const image_ctx_t *ctx, json_t *obj, const json_t *old, ferrs_t *errs)
{
    ferrs_t inner = FERRS_INIT;
    is_materialize(ctx, obj, old, &inner);
    if (inner.n) {
        /* §0.3: wrapped into an inner Invalid for group-less "imagestreams", reported as
         * one InternalError with an empty field. */
        apierr_t e = APIERR_INIT;
        apierr_invalid(&e, "imagestreams", "imagestreams", "", is_name(obj), &inner);
        ferrs_add(errs, FERR_INTERNAL, "", NULL, "%s", e.message);
        apierr_clear(&e);
    }
    ferrs_free(&inner);
    ordinary(obj, errs);
    is_tag_cycles(obj, old, errs);
    is_prune_history(ctx, obj);
}

void imagestream_validate_status_update(const image_ctx_t *ctx, json_t *obj, const json_t *old, ferrs_t *errs)
{
    /* A tag pushed through status (a registry, a mapping) moves the tags that follow it. */
    is_track(obj, old);
    is_prune_history(ctx, obj);
    json_t *known = json_object();
    size_t i, j;
    json_t *t, *e;
    json_array_foreach(json_object_get(json_object_get(old, "status"), "tags"), i, t) {
        json_array_foreach(json_object_get(t, "items"), j, e) json_object_set_new(known, ij_str(e, "dockerImageReference"), json_true());
    }
    json_array_foreach(json_object_get(json_object_get(obj, "status"), "tags"), i, t) {
        json_array_foreach(json_object_get(t, "items"), j, e) {
            const char *ref = ij_str(e, "dockerImageReference");
            if (json_object_get(known, ref))
                continue;
            char *f = xasprintf("status.tags[%s].items[%zu].dockerImageReference", ij_str(t, "tag"), j);
            ref_error(errs, f, ref);
            free(f);
        }
    }
    json_decref(known);
}
