/* history_index: the derived views the watch cache keeps for image kinds (api_kind_t.derive):
 * per ImageStream revision, the sorted set of every image its tag history names (what an
 * ImageStreamImage lookup searches), and per Image revision, the children a manifest list
 * names. Built once when the cache builds the object, so a lookup in a stream with 10,000
 * history entries never decodes the stream's JSON (docs/performance.md). */
#include <stdlib.h>
#include <string.h>

#include "image/image_int.h"
#include "util/util.h"

void *is_history_index_derive(const json_t *stream)
{
    const json_t *tags = json_object_get(json_object_get(stream, "status"), "tags");
    size_t total = 0, i, j, k = 0;
    json_t *t, *e;
    json_array_foreach(tags, i, t) total += json_array_size(json_object_get(t, "items"));
    const char **names = xcalloc(total ? total : 1, sizeof *names);
    json_array_foreach(tags, i, t) {
        json_array_foreach(json_object_get(t, "items"), j, e) names[k++] = ij_str(e, "image");
    }
    is_history_index_t *x = xcalloc(1, sizeof *x);
    pthread_mutex_init(&x->memo_mu, NULL);
    x->images = img_names_new(names, k);
    free(names);
    json_t *ann = json_object_get(json_object_get(stream, "metadata"), "annotations");
    x->annotations = json_is_object(ann) ? json_dumps(ann, JSON_COMPACT) : NULL;
    x->status_repo = xstrdup(ij_str(json_object_get(stream, "status"), "dockerImageRepository"));
    x->spec_repo = xstrdup(ij_str(json_object_get(stream, "spec"), "dockerImageRepository"));
    return x;
}

void is_history_index_free(void *view)
{
    is_history_index_t *x = view;
    if (!x)
        return;
    img_names_free(x->images);
    img_names_free(x->memo_children);
    pthread_mutex_destroy(&x->memo_mu);
    free(x->annotations);
    free(x->status_repo);
    free(x->spec_repo);
    free(x);
}

void *img_children_derive(const json_t *image)
{
    const json_t *m = json_object_get(image, "dockerImageManifests");
    size_t n = 0, i;
    json_t *d;
    json_array_foreach(m, i, d) n += *ij_str(d, "digest") != '\0';
    if (!n)
        return NULL;
    img_children_t *x = xcalloc(1, sizeof *x);
    x->digests = xcalloc(n, sizeof *x->digests);
    json_array_foreach(m, i, d) {
        if (*ij_str(d, "digest"))
            x->digests[x->n++] = xstrdup(ij_str(d, "digest"));
    }
    return x;
}

void img_children_free(void *view)
{
    img_children_t *x = view;
    if (!x)
        return;
    for (size_t i = 0; i < x->n; i++)
        free(x->digests[i]);
    free(x->digests);
    free(x);
}
