/* virtual_names: the name forms of the virtual resources (§0.1 of the reference):
 * "<stream>:<tag>" (ImageStreamTag, ImageTag), "<stream>@<id>" (ImageStreamImage) and
 * "<image>@<signature>" (ImageSignature); the shared views they return: an Image as
 * virtual resources show it (§0.4) and the pull spec of a tag event (§0.3). */
#include <stdlib.h>
#include <string.h>

#include "image/image_int.h"
#include "util/util.h"

/* Exactly one sep, both sides non-empty. */
static int split_one(const char *name, char sep, char **left, char **right)
{
    const char *p = name ? strchr(name, sep) : NULL;
    if (!p || p == name || !p[1] || strchr(p + 1, sep))
        return -1;
    *left = xstrndup(name, (size_t)(p - name));
    *right = xstrdup(p + 1);
    return 0;
}

int vn_istag_parse(const char *name, char **stream, char **tag)
{
    if (!name || strchr(name, '@'))
        return -1;
    return split_one(name, ':', stream, tag);
}

bool vn_istag_split(const char *name, char **stream, char **tag)
{
    const char *p = name ? strchr(name, ':') : NULL;
    if (!p) {
        *stream = xstrdup(name ? name : "");
        *tag = xstrdup("latest");
        return false;
    }
    *stream = xstrndup(name, (size_t)(p - name));
    *tag = xstrdup(p[1] ? p + 1 : "latest");
    return true;
}

int vn_at_parse(const char *name, char **left, char **right)
{
    return split_one(name, '@', left, right);
}

json_t *img_view(const json_t *image, const char *now)
{
    json_t *v = json_deep_copy(image);
    if (!v)
        return NULL;
    image_fill_metadata(v, now);
    json_object_del(v, "dockerImageManifest");
    json_object_del(v, "dockerImageConfig");
    return v;
}

char *is_event_pull_spec(const json_t *stream, const char *tag, const json_t *event)
{
    const char *ref = ij_str(event, "dockerImageReference"), *image = ij_str(event, "image");
    json_t *spec = is_spec_tag(stream, tag && *tag ? tag : "latest");
    const char *repo = ij_str(json_object_get(stream, "status"), "dockerImageRepository");
    if (!spec || strcmp(ij_str(json_object_get(spec, "referencePolicy"), "type"), "Local") || !*repo || !*image)
        return xstrdup(ref);
    docker_ref_t r;
    const char *msg;
    if (docker_ref_parse(repo, &r, &msg) != 0) {
        docker_ref_free(&r);
        return xstrdup(ref);
    }
    free(r.tag);
    free(r.id);
    r.tag = xstrdup("");
    r.id = xstrdup(image);
    char *s = docker_ref_exact(&r);
    docker_ref_free(&r);
    return s;
}
