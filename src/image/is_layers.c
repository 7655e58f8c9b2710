/* is_layers: the `imagestreams/<name>/layers` subresource (stored-resources §3.11):
 * ImageStreamLayers, the layers, configs and manifests of every image the stream's
 * history references, and of the children of the manifest lists among them. Images are
 * read in batches (one per level of manifest-list nesting), each from one consistent
 * snapshot, through the object API. */
#include <stdlib.h>
#include <string.h>

#include "image/image_int.h"
#include "util/util.h"

#define GROUP "image.openshift.io"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
/* Nesting of manifest lists followed (an index of indexes is already rare). */
#define LAYERS_DEPTH_MAX 4

static void add_blob(json_t *blobs, const char *name, json_t *size, const char *media_type)
{
    if (!json_object_get(blobs, name))
        json_object_set_new(blobs, name, json_pack("{s:o, s:s}", "size", size, "mediaType", media_type));
    else
        json_decref(size);
}

void is_layers_add_image(json_t *layers, const char *name, const json_t *image, json_t *children)
{
    json_t *blobs = json_object_get(layers, "blobs"), *images = json_object_get(layers, "images");
    if (json_object_get(images, name))
        return;
    if (!image) {
        json_object_set_new(images, name, json_pack("{s:b, s:n, s:n}", "imageMissing", 1, "layers", "config"));
        return;
    }
    json_t *ref = json_pack("{s:b}", "imageMissing", 0);
    json_t *ls = json_object_get(image, "dockerImageLayers");
    if (json_array_size(ls)) {
        json_t *names = json_array();
        size_t i;
        json_t *l;
        json_array_foreach(ls, i, l) {
            const char *ln = ij_str(l, "name");
            json_array_append_new(names, json_string(ln));
            add_blob(blobs, ln, json_integer(ij_int(l, "size")), ij_str(l, "mediaType"));
        }
        json_object_set_new(ref, "layers", names);
    } else {
        json_object_set_new(ref, "layers", json_null());
    }
    char *mt = ij_media_base(ij_str(image, "dockerImageManifestMediaType"));
    const char *config_mt = !strcmp(mt, MT_SCHEMA2) ? MT_DOCKER_CONFIG : !strcmp(mt, MT_OCI) ? MT_OCI_CONFIG : NULL;
    json_t *meta = dmeta_decode(json_object_get(image, "dockerImageMetadata"), ij_str(image, "dockerImageMetadataVersion"));
    const char *id = ij_str(meta, "Id");
    if (config_mt && *id) {
        json_object_set_new(ref, "config", json_string(id));
        add_blob(blobs, id, json_null(), config_mt);
    } else {
        json_object_set_new(ref, "config", json_null());
    }
    json_decref(meta);
    const char *own_mt = ij_str(image, "dockerImageManifestMediaType");
    add_blob(blobs, name, json_null(), *own_mt ? own_mt : MT_SCHEMA2);
    free(mt);
    json_t *ms = json_object_get(image, "dockerImageManifests");
    if (json_array_size(ms)) {
        json_t *digests = json_array();
        size_t i;
        json_t *m;
        json_array_foreach(ms, i, m) {
            const char *d = ij_str(m, "digest");
            json_array_append_new(digests, json_string(d));
            if (children && *d)
                json_array_append_new(children, json_string(d));
        }
        json_object_set_new(ref, "manifests", digests);
    }
    json_object_set_new(images, name, ref);
}

/* Sorted distinct names of a JSON array of strings, minus those already in `images`. */
static img_names_t *pending_names(const json_t *arr, const json_t *images)
{
    size_t n = json_array_size(arr), k = 0;
    const char **v = xcalloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(arr, i));
        if (s && !json_object_get(images, s))
            v[k++] = s;
    }
    img_names_t *set = img_names_new(v, k);
    free(v);
    return set;
}

typedef struct round_arg {
    json_t *layers;
    const img_names_t *names;
    json_t *children;
} round_arg_t;

static int add_found(void *arg, size_t i, const json_t *image)
{
    round_arg_t *r = arg;
    is_layers_add_image(r->layers, r->names->names[i], image, r->children);
    return 0;
}

json_t *is_layers_build(const json_t *stream, is_image_batch_fn lookup, void *arg)
{
    json_t *meta = json_object_get(stream, "metadata");
    json_t *layers = json_pack("{s:s, s:s, s:O, s:{}, s:{}}", "kind", "ImageStreamLayers", "apiVersion", GROUP "/v1",
                               "metadata", meta ? meta : json_object(), "blobs", "images");
    json_t *wanted = json_array();
    size_t i, j;
    json_t *t, *e;
    json_array_foreach(json_object_get(json_object_get(stream, "status"), "tags"), i, t) {
        json_array_foreach(json_object_get(t, "items"), j, e) {
            if (*ij_str(e, "image"))
                json_array_append_new(wanted, json_string(ij_str(e, "image")));
        }
    }
    for (int depth = 0; depth <= LAYERS_DEPTH_MAX && json_array_size(wanted); depth++) {
        img_names_t *names = pending_names(wanted, json_object_get(layers, "images"));
        json_array_clear(wanted);
        round_arg_t r = {layers, names, depth < LAYERS_DEPTH_MAX ? wanted : NULL};
        int rc = names->n ? lookup(arg, names->names, names->n, add_found, &r) : 0;
        img_names_free(names);
        if (rc != 0) {
            json_decref(layers);
            layers = NULL;
            break;
        }
    }
    json_decref(wanted);
    return layers;
}

/* ---- the subresource ---- */

static int lookup_images(void *arg, const char *const *names, size_t n,
                         int (*each)(void *ctx, size_t i, const json_t *image), void *ctx)
{
    api_call_t *c = arg;
    const api_kind_t *k = api_kind_find(api_call_api(c), "images");
    if (!k)
        return apierr_set(api_call_err(c), APIERR_INTERNAL, "Internal error occurred: images are not served");
    return api_obj_get_many(c, k, NULL, names, n, each, ctx);
}

json_t *is_layers_get(api_call_t *c, const char *ns, const char *name)
{
    const api_kind_t *k = api_kind_find(api_call_api(c), "imagestreams");
    json_t *stream = k ? api_obj_get(c, k, ns, name) : NULL;
    if (!stream)
        return NULL;
    json_t *out = is_layers_build(stream, lookup_images, c);
    json_decref(stream);
    return out;
}
