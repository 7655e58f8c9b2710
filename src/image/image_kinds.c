/* image_kinds: the kinds of image.openshift.io this server serves, as data for api/
 * (resource.h): names, verbs, subresources, field selectors, table columns, and the
 * strategy hooks, adapted from the call context to image_ctx_t. */
#include <stdlib.h>
#include <string.h>

#include "api/resource.h"
#include "image/image.h"
#include "image/image_int.h"
#include "image/isi_int.h"
#include "image/secret.h"
#include "image/tags_int.h"

/* Reads another ImageStream for tag references (ImageStreamTag/ImageStreamImage). */
static json_t *get_stream(void *arg, const char *ns, const char *name)
{
    api_call_t *c = arg;
    const api_kind_t *k = api_kind_find(api_call_api(c), "imagestreams");
    if (!k)
        return NULL;
    /* a missing stream is an answer, not the call's failure */
    apierr_t saved = *api_call_err(c);
    *api_call_err(c) = (apierr_t)APIERR_INIT;
    json_t *out = api_obj_get(c, k, ns, name);
    apierr_clear(api_call_err(c));
    *api_call_err(c) = saved;
    return out;
}

static bool can_read_layers(void *arg, const char *ns, const char *name, char **reason)
{
    return api_authorize_query(arg, "get", "image.openshift.io", "imagestreams", "layers", ns, name, reason);
}

static image_ctx_t ctx_of(api_call_t *c)
{
    return (image_ctx_t){.cfg = api_call_domain(c), .now = api_call_now(c), .get_stream = get_stream,
                         .can_read_layers = can_read_layers, .arg = c};
}

#define ADAPT1(name, fn) \
    static void name(api_call_t *c, json_t *o) { image_ctx_t ic = ctx_of(c); fn(&ic, o); }
#define ADAPT2(name, fn) \
    static void name(api_call_t *c, json_t *o, const json_t *old) { image_ctx_t ic = ctx_of(c); fn(&ic, o, old); }
#define ADAPTV(name, fn)                                                      \
    static void name(api_call_t *c, json_t *o, const json_t *old, ferrs_t *e) \
    {                                                                         \
        image_ctx_t ic = ctx_of(c);                                           \
        fn(&ic, o, old, e);                                                   \
    }

static void image_normalize_hook(api_call_t *c, json_t *o) { image_normalize(o); }
ADAPT1(image_prepare_create_hook, image_prepare_create)
ADAPT2(image_prepare_update_hook, image_prepare_update)
ADAPTV(image_validate_hook, image_validate)
ADAPT1(is_normalize_hook, imagestream_normalize)
ADAPT1(is_prepare_create_hook, imagestream_prepare_create)
ADAPT2(is_prepare_update_hook, imagestream_prepare_update)
ADAPT2(is_prepare_status_update_hook, imagestream_prepare_status_update)
ADAPTV(is_validate_hook, imagestream_validate)
ADAPTV(is_validate_status_update_hook, imagestream_validate_status_update)
ADAPT1(is_decorate_hook, imagestream_decorate)
ADAPT2(is_prepare_internal_hook, imagestream_prepare_internal)

static const char *const is_fields[] = {"metadata.name", "metadata.namespace", "spec.dockerImageRepository",
                                        "status.dockerImageRepository", NULL};
static const char *const image_fields[] = {"metadata.name", "metadata.namespace", NULL};
static const char *const is_short[] = {"is", NULL};
static const char *const all_category[] = {"all", NULL};

#define NAME_COLUMN                                                                                               \
    {"Name", "string", "name",                                                                                    \
     "Name must be unique within a namespace. Is required when creating resources, although some resources may " \
     "allow a client to request the generation of an appropriate name automatically. Name is primarily intended " \
     "for creation idempotence and configuration definition. Cannot be updated.", 0, false}

static const api_table_col_t is_columns[] = {
    NAME_COLUMN,
    {"Image Repository", "string", "", "Address of the image repository that clients pull from.", 0, false},
    {"Tags", "string", "", "Human readable list of tags.", 0, false},
    {"Updated", "string", "", "Last update time.", 0, true},
};

static const api_table_col_t image_columns[] = {
    NAME_COLUMN,
    {"Image Reference", "string", "", "The pull spec of the image.", 0, false},
};

/* ---- ImageStreamTag, ImageTag (istag.c, itag.c) ---- */
static const char *const tag_fields[] = {"metadata.name", "metadata.namespace", NULL};
static const char *const istag_short[] = {"istag", NULL};
static const char *const itag_short[] = {"itag", NULL};
#define IMAGE_REF_COLUMN                                                                                         \
    {"Image Reference", "string", "", "DockerImageReference is the string that can be used to pull this image.", 0, \
     false}

static const api_table_col_t istag_columns[] = {
    NAME_COLUMN,
    IMAGE_REF_COLUMN,
    {"Updated", "string", "", "Last update time.", 0, true},
    {"Image Name", "string", "", "image associated with the ImageStream and tag.", 1, false},
};

static const api_table_col_t itag_columns[] = {
    NAME_COLUMN,
    {"Spec", "string", "",
     "spec is the spec tag associated with this image stream tag, and it may be null if only pushes have occurred to "
     "this image stream.", 0, false},
    {"Status", "string", "",
     "status is the status tag details associated with this image stream tag, and it may be null if no push or import "
     "has been performed.", 0, false},
    {"History", "number", "", "Number of history entries", 0, false},
    {"Updated", "string", "", "Last updated at", 0, true},
};

static const api_subresource_t is_subresources[] = {
    {.name = "status", .verbs = "get patch update", .is_status = true},
    {.name = "layers", .verbs = "get", .schema = &schema_image_stream_layers, .get = is_layers_get},
    {.name = "secrets", .verbs = "get", .schema = &schema_secret_list, .get = is_secrets_get},   /* secret_kind.c */
};

/* ImageStreamMapping (ism.c) */
static const api_virtual_ops_t ism_ops = {.create = ism_create};

/* ImageStreamImage (isimage.c) */
static const api_virtual_ops_t isimage_ops = {.get = isimage_get};
static const char *const isimage_short[] = {"isimage", NULL};
static const api_table_col_t isimage_columns[] = {
    NAME_COLUMN,
    {"Updated", "string", "", "Last update time.", 0, true},
    {"Image Reference", "string", "", "The pull spec of the image.", 1, false},
    {"Image Name", "string", "", "Name of the image.", 1, false},
};

/* ImageStreamImport (isi.c) */
static const api_virtual_ops_t isi_ops = {.create = isi_create};

static const api_kind_t kind_table[] = {
    {
        .resource = "images", .singular = "image", .kind = "Image", .list_kind = "ImageList",
        .schema = &schema_image, .namespaced = false,
        .verbs = "create delete deletecollection get list patch update watch",
        .field_labels = image_fields, .columns = image_columns, .ncolumns = 2,
        .normalize = image_normalize_hook, .prepare_create = image_prepare_create_hook,
        .prepare_update = image_prepare_update_hook, .validate = image_validate_hook,
        .table_cells = image_table_cells, .derive = img_children_derive, .derive_free = img_children_free,
    },
    {
        .resource = "imagestreams", .singular = "imagestream", .kind = "ImageStream",
        .list_kind = "ImageStreamList", .schema = &schema_image_stream, .namespaced = true,
        .verbs = "create delete deletecollection get list patch update watch", .short_names = is_short,
        .categories = all_category, .subresources = is_subresources, .nsubresources = 3,
        .manages_generation = true, .field_labels = is_fields, .columns = is_columns, .ncolumns = 4,
        .normalize = is_normalize_hook, .prepare_create = is_prepare_create_hook,
        .prepare_update = is_prepare_update_hook, .prepare_status_update = is_prepare_status_update_hook,
        .validate = is_validate_hook, .validate_status_update = is_validate_status_update_hook,
        .decorate = is_decorate_hook, .table_cells = imagestream_table_cells,
        .prepare_internal = is_prepare_internal_hook,
        .derive = is_history_index_derive, .derive_free = is_history_index_free,
    },
    {
        .resource = "imagestreamtags", .singular = "imagestreamtag", .kind = "ImageStreamTag",
        .list_kind = "ImageStreamTagList", .schema = &schema_image_stream_tag, .namespaced = true,
        .verbs = "create delete get list patch update watch", .short_names = istag_short, .field_labels = tag_fields,
        .columns = istag_columns, .ncolumns = 4, .table_cells = istag_table_cells, .virt = &istag_ops,
        .check_name = istag_check_name,
    },
    {
        .resource = "imagetags", .singular = "imagetag", .kind = "ImageTag", .list_kind = "ImageTagList",
        .schema = &schema_image_tag, .namespaced = true, .verbs = "create delete get list patch update watch",
        .short_names = itag_short, .field_labels = tag_fields, .columns = itag_columns, .ncolumns = 5,
        .table_cells = itag_table_cells, .virt = &itag_ops, .check_name = itag_check_name,
    },
    {
        .resource = "imagesignatures", .singular = "imagesignature", .kind = "ImageSignature",
        .list_kind = "ImageSignatureList", .schema = &schema_image_signature, .namespaced = false,
        .verbs = "create delete", .virt = &image_signature_ops,
    },
    {
        .resource = "imagestreammappings", .singular = "imagestreammapping", .kind = "ImageStreamMapping",
        .schema = &schema_image_stream_mapping, .namespaced = true, .verbs = "create", .virt = &ism_ops,
    },
    {
        .resource = "imagestreamimages", .singular = "imagestreamimage", .kind = "ImageStreamImage",
        .schema = &schema_image_stream_image, .namespaced = true, .verbs = "get", .short_names = isimage_short,
        .columns = isimage_columns, .ncolumns = 4, .table_cells = isimage_table_cells, .virt = &isimage_ops,
    },
    {
        .resource = "imagestreamimports", .singular = "imagestreamimport", .kind = "ImageStreamImport",
        .schema = &schema_image_stream_import, .namespaced = true, .verbs = "create", .virt = &isi_ops,
    },
    SECRET_KIND_ENTRY,   /* core v1 Secret (secret_kind.c) */
};

const api_kind_t *image_kinds(size_t *n)
{
    *n = sizeof kind_table / sizeof kind_table[0];
    return kind_table;
}
