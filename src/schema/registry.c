/* The registry of named types (OpenAPI components) and top-level kinds. A new type is
 * added here once; the OpenAPI builder emits every entry. */
#include <string.h>

#include "schema/schema_internal.h"

/* Types local to one kinds_*.c file. */
extern const schema_node_t schema_image_stream_tag_node, schema_image_tag_node,
    schema_image_stream_image_node, schema_image_stream_mapping_node,
    schema_image_stream_layers_node, schema_image_layer_data, schema_image_blob_references,
    schema_image_import_spec, schema_repository_import_spec, schema_image_import_status,
    schema_repository_import_status, schema_image_stream_import_spec,
    schema_image_stream_import_status, schema_image_stream_import_node, schema_secret_node,
    schema_secret_list_node;

const schema_node_t *const schema_types[] = {
    /* meta.v1, runtime, core.v1 */
    &schema_object_meta, &schema_list_meta, &schema_owner_reference, &schema_managed_fields_entry,
    &schema_delete_options, &schema_preconditions, &schema_status, &schema_status_details,
    &schema_status_cause, &schema_time, &schema_fields_v1, &schema_raw_extension, &schema_patch,
    &schema_object_reference, &schema_local_object_reference, &schema_secret_node,
    &schema_secret_list_node,
    /* image.openshift.io/v1 */
    &schema_image_node, &schema_image_layer, &schema_image_manifest, &schema_image_signature_node,
    &schema_signature_condition, &schema_signature_issuer, &schema_signature_subject,
    &schema_image_stream_node, &schema_image_stream_spec, &schema_image_stream_status,
    &schema_tag_reference, &schema_tag_import_policy, &schema_tag_reference_policy,
    &schema_image_lookup_policy, &schema_named_tag_event_list, &schema_tag_event,
    &schema_tag_event_condition,
    &schema_image_stream_tag_node, &schema_image_tag_node, &schema_image_stream_image_node,
    &schema_image_stream_mapping_node, &schema_image_stream_layers_node, &schema_image_layer_data,
    &schema_image_blob_references,
    &schema_image_stream_import_node, &schema_image_stream_import_spec,
    &schema_image_stream_import_status, &schema_image_import_spec, &schema_repository_import_spec,
    &schema_image_import_status, &schema_repository_import_status,
};
const size_t schema_ntypes = sizeof(schema_types) / sizeof(schema_types[0]);

const schema_kind_t *const schema_kinds[] = {
    &schema_image_stream, &schema_image, &schema_image_signature, &schema_image_stream_tag,
    &schema_image_stream_image, &schema_image_tag, &schema_image_stream_import,
    &schema_image_stream_mapping, &schema_image_stream_layers, &schema_secret,
};
const size_t schema_nkinds = sizeof(schema_kinds) / sizeof(schema_kinds[0]);

const schema_node_t *schema_type_by_ref(const char *ref)
{
    if (!ref)
        return NULL;
    for (size_t i = 0; i < schema_ntypes; i++)
        if (strcmp(schema_types[i]->ref, ref) == 0)
            return schema_types[i];
    return NULL;
}

const char *schema_ref_short(const char *ref)
{
    const char *dot = ref ? strrchr(ref, '.') : NULL;
    return dot ? dot + 1 : ref;
}
