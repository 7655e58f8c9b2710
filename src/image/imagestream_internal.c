/* The ImageStream's internal writes (§0.7): the server's own writes of spec and status
 * together (ImageStreamTag, ImageTag, ImageStreamImport). Create: generation 1 and every
 * spec tag generation 1, as a public create, but the status kept. Update: the generation
 * rules of the public update, but the status kept. Materialisation of changed spec tags
 * happens in validate, as for public writes. */
#include "image/image_int.h"
#include "util/util.h"

void imagestream_prepare_internal(const image_ctx_t *ctx, json_t *obj, const json_t *old)
{
    json_t *status = json_incref(json_object_get(obj, "status"));
    if (old)
        imagestream_prepare_update(ctx, obj, old);
    else
        imagestream_prepare_create(ctx, obj);
    if (!json_is_object(status)) {
        json_decref(status);
        status = json_object();
    }
    json_object_set_new(obj, "status", status);
    is_set_status_repos(ctx, obj, status, old != NULL);
}
