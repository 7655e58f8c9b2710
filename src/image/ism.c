/* ism: ImageStreamMapping (`imagestreammappings`, create only; stored-resources §4): "this
 * Image exists, and tag T of stream S points at it", as the integrated registry says after
 * a push. Validates (422 ImageStreamMapping), needs the stream (404, nothing written),
 * creates the Image through the object API (an existing one is left untouched), and adds
 * the tag event to the stream's history by §3.9 through the status subresource, retrying
 * conflicts by the reference's rule. Nothing of the mapping itself is stored.
 *
 * Departures from the reference (docs/image-mapping-isimage-layers.md): dryRun is honoured
 * (the reference creates the image and tags it anyway); the image-size LimitRange
 * admission is not run (this server serves no LimitRanges). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/objectmeta.h"
#include "image/image_int.h"
#include "util/util.h"

#define GROUP "image.openshift.io"
#define ANN_MANAGED "openshift.io/image.managed"
/* Rounds of api_obj_mutate's attempts for the stream write (8 x 8 = 64 attempts). */
#define MAPPING_WRITE_ROUNDS 8

/* Appends src's errors to dst with prefix before each field. */
static void ferrs_prefixed(ferrs_t *dst, const ferrs_t *src, const char *prefix)
{
    for (size_t i = 0; i < src->n; i++) {
        const ferr_t *e = &src->items[i];
        char *f = xasprintf("%s%s", prefix, e->field);
        json_t *v = e->value ? json_deep_copy(e->value) : NULL;
        if (e->detail)
            ferrs_add(dst, e->type, f, v, "%s", e->detail);
        else
            ferrs_add(dst, e->type, f, v, NULL);
        free(f);
    }
}

/* PrepareForCreate (§4.2 step 2): the internal registry's reference when none is given;
 * signatures come only through images and imagesignatures. */
static void prepare(const image_config_t *cfg, const char *ns, const char *name, json_t *image)
{
    json_object_del(image, "signatures");
    const char *h = cfg ? cfg->registry_hostname : NULL;
    if (*ij_str(image, "dockerImageReference") || !h || !*h)
        return;
    const char *iname = ij_str(json_object_get(image, "metadata"), "name");
    json_object_set_new(image, "dockerImageReference",
                        json_sprintf("%s/%s/%s%c%s", h, ns, name, digest_valid(iname) ? '@' : ':', iname));
}

/* ValidateImageStreamMapping: the mapping's metadata, its tag, and the image (prefix image.). */
static int validate(api_call_t *c, const json_t *mapping, const json_t *image)
{
    ferrs_t errs = FERRS_INIT, img = FERRS_INIT;
    const json_t *meta = json_object_get(mapping, "metadata");
    const char *name = ij_str(meta, "name");
    if (*name)
        img_path_segment_errors(name, false, "metadata.name", &errs);
    validate_object_meta(meta, true, &errs);
    if (!*name) {
        /* the v1 type has no dockerImageRepository to find the stream by: the name is required */
        ferrs_add(&errs, FERR_REQUIRED, "name", NULL, NULL);
        ferrs_add(&errs, FERR_REQUIRED, "dockerImageRepository", NULL, NULL);
    }
    if (!*ij_str(mapping, "tag"))
        ferrs_add(&errs, FERR_REQUIRED, "tag", NULL, NULL);
    validate_object_meta(json_object_get(image, "metadata"), false, &img);
    image_validate(NULL, (json_t *)image, NULL, &img);
    ferrs_prefixed(&errs, &img, "image.");
    int rc = 0;
    if (errs.n) {
        apierr_invalid(api_call_err(c), "ImageStreamMapping." GROUP, "ImageStreamMapping", GROUP, name, &errs);
        rc = -1;
    }
    ferrs_free(&img);
    ferrs_free(&errs);
    return rc;
}

/* §4.2 step 7: a managed image that already existed is referenced through this stream's
 * repository; otherwise (or when the stream has none that parses) the request's reference. */
static char *event_reference(const is_history_index_t *stream, const json_t *image, bool existed)
{
    const char *req = ij_str(image, "dockerImageReference");
    const json_t *ann = json_object_get(json_object_get(image, "metadata"), "annotations");
    if (!existed || strcmp(ij_str(ann, ANN_MANAGED), "true") != 0)
        return xstrdup(req);
    const char *repo = *stream->status_repo ? stream->status_repo : stream->spec_repo;
    docker_ref_t r = {0};
    const char *msg;
    if (!*repo || docker_ref_parse(repo, &r, &msg) != 0) {
        docker_ref_free(&r);
        return xstrdup(req);
    }
    free(r.tag);
    free(r.id);
    r.tag = xstrdup("");
    r.id = xstrdup(ij_str(json_object_get(image, "metadata"), "name"));
    char *s = docker_ref_exact(&r);
    docker_ref_free(&r);
    return s;
}

/* The stream write of one attempt (api_obj_mutate calls it again after a conflict). */
typedef struct tag_write {
    const char *name, *tag;
    json_t *event;            /* generation set per attempt */
    bool read;                /* the first attempt has seen the tag */
    char *before_ref, *before_image;   /* its latest event then; NULL if it had none */
    bool refused;             /* this function answered 409 itself */
    unsigned seed;            /* retry jitter */
} tag_write_t;

static int add_event(api_call_t *c, json_t **obj, void *arg)
{
    tag_write_t *w = arg;
    json_t *latest = json_array_get(json_object_get(is_status_tag(*obj, w->tag), "items"), 0);
    if (!w->read) {
        w->read = true;
        if (latest) {
            w->before_ref = xstrdup(ij_str(latest, "dockerImageReference"));
            w->before_image = xstrdup(ij_str(latest, "image"));
        }
    } else if (w->before_ref && (!latest || strcmp(ij_str(latest, "dockerImageReference"), w->before_ref) ||
                                 strcmp(ij_str(latest, "image"), w->before_image))) {
        /* §4.2 step 9: someone else moved the tag meanwhile; their event stands */
        w->refused = true;
        return apierr_conflict(api_call_err(c), "imagestreams", GROUP, w->name, NULL);
    }
    json_int_t gen = ij_int(json_object_get(*obj, "metadata"), "generation");
    json_object_set_new(w->event, "generation", json_integer(gen));
    return imagestream_add_tag_event(*obj, w->tag, w->event) ? 0 : API_MUTATE_UNCHANGED;
}

static int write_event(api_call_t *c, const char *ns, const char *name, const char *tag, const char *ref,
                       const char *image_name)
{
    const api_kind_t *isk = api_kind_find(api_call_api(c), "imagestreams");
    json_t *nowj = json_string(api_call_now(c));
    tag_write_t w = {.name = name, .tag = tag,
                     .event = json_pack("{s:o, s:s, s:s, s:I}", "created", ij_time(nowj), "dockerImageReference", ref,
                                        "image", image_name, "generation", (json_int_t)0),
                     .seed = (unsigned)(uintptr_t)&w ^ (unsigned)time(NULL)};
    json_decref(nowj);
    api_write_opts_t o = {.subresource = "status"};
    apierr_t *err = api_call_err(c);
    json_t *res = NULL;
    /* Conflicts with writers of other tags are ours to retry (the reference gives up after
     * 10 attempts with a 500); many clients pushing into one stream at once must all land,
     * so mutate's rounds are repeated, a few jittered milliseconds apart to break lockstep. */
    for (int round = 0; round < MAPPING_WRITE_ROUNDS; round++) {
        res = api_obj_mutate(c, isk, ns, name, add_event, &w, &o);
        if (res || err->kind != APIERR_CONFLICT || w.refused)
            break;
        if (round + 1 < MAPPING_WRITE_ROUNDS) {
            apierr_clear(err);
            struct timespec ts = {0, (long)(1 + rand_r(&w.seed) % 4) * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    if (!res && err->kind == APIERR_CONFLICT && !w.refused) {
        /* every attempt conflicted: the reference's wording when it gives up */
        apierr_clear(err);
        apierr_set(err, APIERR_INTERNAL, "Internal error occurred: timed out waiting for the condition");
    }
    json_decref(res);
    json_decref(w.event);
    free(w.before_ref);
    free(w.before_image);
    return res ? 0 : -1;
}

json_t *ism_create(api_call_t *c, const char *ns, json_t *mapping)
{
    apierr_t *err = api_call_err(c);
    api_t *a = api_call_api(c);
    const api_kind_t *isk = api_kind_find(a, "imagestreams"), *imk = api_kind_find(a, "images");
    if (!isk || !imk) {
        apierr_set(err, APIERR_INTERNAL, "Internal error occurred: image streams are not served");
        return NULL;
    }
    json_t *meta = json_object_get(mapping, "metadata");
    if (!json_is_object(meta)) {
        meta = json_object();
        json_object_set_new(mapping, "metadata", meta);
    }
    const char *bns = ij_str(meta, "namespace");
    if (*bns && strcmp(bns, ns ? ns : "") != 0) {
        apierr_set(err, APIERR_BAD_REQUEST,
                   "the namespace of the provided object does not match the namespace sent on the request");
        return NULL;
    }
    json_object_set_new(meta, "namespace", json_string(ns ? ns : ""));
    const char *name = ij_str(meta, "name"), *tag = ij_str(mapping, "tag");
    json_t *image = json_object_get(mapping, "image");
    image = json_is_object(image) ? json_deep_copy(image) : json_object();
    prepare(api_call_domain(c), ns, name, image);

    json_t *created = NULL, *out = NULL;
    char *ref = NULL;
    api_view_hold_t *hold = NULL;
    const void *view = NULL;
    if (validate(c, mapping, image) != 0)
        goto out;
    /* the stream's derived index, not the stream: it may be megabytes of history */
    if (api_obj_view(c, isk, ns, name, &view, &hold) != 0)   /* 404 imagestreams: nothing written yet */
        goto out;
    if (!view) {
        apierr_set(err, APIERR_INTERNAL, "Internal error occurred: no history index for %s", name);
        goto out;
    }
    /* the Image first, as the reference: its own strategy and validation run (dry run
     * honoured: then nothing is written, yet an existing image is still detected) */
    created = api_obj_create(c, imk, NULL, image);
    bool existed = false;
    if (!created) {
        if (err->kind != APIERR_ALREADY_EXISTS)
            goto out;
        apierr_clear(err);
        existed = true;
    }
    const char *image_name = created ? ij_str(json_object_get(created, "metadata"), "name")
                                     : ij_str(json_object_get(image, "metadata"), "name");
    ref = event_reference(view, image, existed);
    api_view_release(hold);
    hold = NULL;
    if (write_event(c, ns, name, tag, ref, image_name) != 0)
        goto out;
    out = json_pack("{s:s, s:s, s:{}, s:s, s:i}", "kind", "Status", "apiVersion", "v1", "metadata", "status",
                    "Success", "code", 201);
    api_call_set_code(c, 201);
out:
    api_view_release(hold);
    free(ref);
    json_decref(created);
    json_decref(image);
    return out;
}
