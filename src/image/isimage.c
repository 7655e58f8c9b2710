/* isimage: ImageStreamImage (`imagestreamimages`, get only, `<stream>@<id>`;
 * virtual-resources §2.1). The id is searched over every event of every tag's history and,
 * recursively, over the children of the manifest lists among them; an exact name wins,
 * else the single name the prefix matches; several are a 409 Conflict that names them
 * (the reference answers an arbitrary one: docs/image-mapping-isimage-layers.md).
 *
 * The search reads the stream's derived history index (history_index.c) instead of the
 * stream's JSON, and the Images' derived child lists in one snapshot of the image cache:
 * a lookup in a stream with 10,000 history entries decodes nothing but the one Image it
 * answers with (docs/performance.md). */
#include <stdlib.h>
#include <string.h>

#include "image/image_int.h"
#include "util/util.h"

#define GROUP "image.openshift.io"
/* Bounds on the children search: nesting of manifest lists, and names collected. */
#define CHILD_DEPTH_MAX 4
#define CHILD_NAMES_MAX 100000

typedef struct child_acc {
    const img_names_t *history, *seen;   /* names that are candidates already */
    size_t total;                        /* children collected before this round */
    char **v;                            /* this round's new names, owned */
    size_t n, cap;
} child_acc_t;

static void collect_children(void *arg, size_t i, const void *view)
{
    child_acc_t *a = arg;
    const img_children_t *ch = view;
    for (size_t j = 0; ch && j < ch->n && a->total + a->n < CHILD_NAMES_MAX; j++) {
        const char *d = ch->digests[j];
        if (img_names_has(a->history, d) || (a->seen && img_names_has(a->seen, d)))
            continue;
        if (a->n == a->cap) {
            a->cap = a->cap ? a->cap * 2 : 16;
            a->v = xrealloc(a->v, a->cap * sizeof *a->v);
        }
        a->v[a->n++] = xstrdup(d);
    }
}

static void acc_clear(child_acc_t *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    a->v = NULL;
    a->n = a->cap = 0;
}

/* The children of the manifest lists among `history`, and theirs (an index of indexes),
 * as one name set in *out (NULL when there are none). 0, or -1 with the call's error. */
static int children_of(api_call_t *c, const img_names_t *history, img_names_t **out)
{
    *out = NULL;
    const api_kind_t *images = api_kind_find(api_call_api(c), "images");
    if (!images)
        return apierr_set(api_call_err(c), APIERR_INTERNAL, "Internal error occurred: images are not served");
    char **all = NULL;
    size_t nall = 0;
    img_names_t *seen = NULL, *frontier = NULL;
    const char *const *names = history->names;
    size_t nnames = history->n;
    int rc = 0;
    for (int depth = 0; depth < CHILD_DEPTH_MAX && nnames; depth++) {
        child_acc_t acc = {.history = history, .seen = seen, .total = nall};
        if (api_obj_views(c, images, NULL, names, nnames, collect_children, &acc) != 0) {
            acc_clear(&acc);
            rc = -1;
            break;
        }
        img_names_free(frontier);
        frontier = img_names_new((const char *const *)acc.v, acc.n);   /* sorted, each once */
        acc_clear(&acc);
        if (!frontier->n)
            break;
        all = xrealloc(all, (nall + frontier->n) * sizeof *all);
        for (size_t i = 0; i < frontier->n; i++)
            all[nall++] = (char *)frontier->names[i];
        /* a copy: all points into the previous set and into frontier */
        img_names_t *grown = img_names_new((const char *const *)all, nall);
        img_names_free(seen);
        seen = grown;
        for (size_t i = 0; i < nall; i++)
            all[i] = (char *)seen->names[i];
        names = frontier->names;
        nnames = frontier->n;
    }
    img_names_free(frontier);
    free(all);
    if (rc == 0 && seen && seen->n)
        *out = seen;
    else
        img_names_free(seen);
    return rc;
}

/* The result of §2.1 step 8: the request's name and namespace, the image's creation time,
 * the stream's annotations, the image as virtual resources show it. */
static json_t *isimage_object(api_call_t *c, const char *ns, const char *name, const json_t *image,
                              const char *annotations)
{
    json_t *meta = json_pack("{s:s, s:s}", "name", name, "namespace", ns ? ns : "");
    json_t *ct = json_object_get(json_object_get(image, "metadata"), "creationTimestamp");
    json_object_set(meta, "creationTimestamp", ct ? ct : json_null());
    if (annotations) {
        json_error_t jerr;
        json_t *a = json_loads(annotations, 0, &jerr);
        if (a)
            json_object_set_new(meta, "annotations", a);
    }
    json_t *view = img_view(image, api_call_now(c));
    /* nested, as the reference encodes it: no type meta of its own */
    json_object_del(view, "kind");
    json_object_del(view, "apiVersion");
    return json_pack("{s:s, s:s, s:o, s:o}", "kind", "ImageStreamImage", "apiVersion", GROUP "/v1", "metadata", meta,
                     "image", view);
}

json_t *isimage_get(api_call_t *c, const char *ns, const char *name)
{
    apierr_t *err = api_call_err(c);
    char *stream = NULL, *id = NULL, *image_name = NULL, *annotations = NULL, *conflict = NULL;
    img_names_t *children = NULL;
    api_view_hold_t *hold = NULL;
    json_t *out = NULL;
    if (vn_at_parse(name, &stream, &id) != 0) {
        apierr_set(err, APIERR_BAD_REQUEST, "ImageStreamImages must be retrieved with <name>@<id>");
        return NULL;
    }
    api_t *a = api_call_api(c);
    const api_kind_t *isk = api_kind_find(a, "imagestreams"), *imk = api_kind_find(a, "images");
    const void *view = NULL;
    if (!isk || !imk) {
        apierr_set(err, APIERR_INTERNAL, "Internal error occurred: image streams are not served");
        goto out;
    }
    if (api_obj_view(c, isk, ns, stream, &view, &hold) != 0)
        goto out;
    const is_history_index_t *hx = view;
    if (!hx) {
        apierr_set(err, APIERR_INTERNAL, "Internal error occurred: no history index for %s", stream);
        goto out;
    }
    const char *match = NULL;
    int rc = IMG_RESOLVE_FOUND;
    if (img_names_has(hx->images, id)) {
        match = id;   /* exact, in the history: no need to look further */
    } else {
        /* The children depend on the history (fixed for this revision of the stream) and on
         * the images that are manifest lists: computed once per change of the latter, not
         * per request (the computation visits every history image). */
        is_history_index_t *memo = (is_history_index_t *)hx;
        uint64_t epoch;
        if (api_views_epoch(c, imk, &epoch) != 0)
            goto out;
        pthread_mutex_lock(&memo->memo_mu);
        if (!memo->memo_valid || memo->memo_epoch != epoch) {
            pthread_mutex_unlock(&memo->memo_mu);
            if (children_of(c, hx->images, &children) != 0)
                goto out;
            pthread_mutex_lock(&memo->memo_mu);
            /* ours, for the epoch read before computing it (a newer one is recomputed) */
            img_names_free(memo->memo_children);
            memo->memo_children = children;
            memo->memo_epoch = epoch;
            memo->memo_valid = true;
            children = NULL;
        }
        const img_names_t *sets[] = {hx->images, memo->memo_children};
        rc = img_names_resolve(sets, 2, id, &match, &conflict);
        if (rc == IMG_RESOLVE_FOUND)
            image_name = xstrdup(match);   /* match may point into the memo */
        pthread_mutex_unlock(&memo->memo_mu);
    }
    if (rc == IMG_RESOLVE_NONE) {
        apierr_not_found(err, "imagestreamimage", GROUP, name);
        goto out;
    }
    if (rc == IMG_RESOLVE_AMBIGUOUS) {
        apierr_conflict(err, "imagestreamimage", GROUP, name, conflict);
        goto out;
    }
    if (!image_name)
        image_name = xstrdup(match);
    annotations = hx->annotations ? xstrdup(hx->annotations) : NULL;
    api_view_release(hold);   /* before the image read: hold no cache entry longer than needed */
    hold = NULL;
    json_t *image = api_obj_get(c, imk, NULL, image_name);
    if (image) {
        out = isimage_object(c, ns, name, image, annotations);
        json_decref(image);
    }
out:
    api_view_release(hold);
    img_names_free(children);
    free(conflict);
    free(annotations);
    free(image_name);
    free(stream);
    free(id);
    return out;
}

json_t *isimage_table_cells(const json_t *obj)
{
    const json_t *meta = json_object_get(obj, "metadata"), *image = json_object_get(obj, "image");
    int64_t t;
    json_t *updated = ij_time_secs(json_object_get(meta, "creationTimestamp"), &t) ? json_integer(t) : json_null();
    return json_pack("[s, o, s, s]", ij_str(meta, "name"), updated, ij_str(image, "dockerImageReference"),
                     ij_str(json_object_get(image, "metadata"), "name"));
}
