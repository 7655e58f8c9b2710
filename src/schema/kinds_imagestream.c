/* ImageStream (image.openshift.io/v1) and the tag types it is made of. Field descriptions
 * are the API's own documentation (OpenShift REST API reference). */
#include "schema/schema_internal.h"

const schema_node_t schema_image_lookup_policy_fields[] = {
    {.name = "local", .type = ST_BOOL, .flags = SF_REQUIRED, .description = "local will change the docker short image references (like \"mysql\" or \"php:latest\") on objects in this namespace to the image ID whenever they match this image stream, instead of reaching out to a remote registry. The name will be fully qualified to an image ID if found. The tag's referencePolicy is taken into account on the replaced value. Only works within the current namespace."},
    {0}};
const schema_node_t schema_image_lookup_policy = {T_IMAGE_LOOKUP_POLICY, .description = D_IMAGE_LOOKUP_POLICY};

const schema_node_t schema_tag_import_policy_fields[] = {
    {.name = "insecure", .type = ST_BOOL, .description = "Insecure is true if the server may bypass certificate verification or connect directly over HTTP during image import."},
    {.name = "scheduled", .type = ST_BOOL, .description = "Scheduled indicates to the server that this tag should be periodically checked to ensure it is up to date, and imported"},
    {.name = "importMode", .type = ST_STRING, .description = "ImportMode describes how to import an image manifest."},
    {0}};
const schema_node_t schema_tag_import_policy = {T_TAG_IMPORT_POLICY, .description = D_TAG_IMPORT_POLICY};

const schema_node_t schema_tag_reference_policy_fields[] = {
    {.name = "type", .type = ST_STRING, .flags = SF_REQUIRED, .description = "Type determines how the image pull spec should be transformed when the image stream tag is used in deployment config triggers or new builds. The default value is Source, indicating the original location of the image should be used (if imported). The user may also specify Local, indicating that the pull spec should point to the integrated container image registry and leverage the registry's ability to proxy the pull to an upstream registry. Local allows the credentials used to pull this image to be managed from the image stream's namespace, so others on the platform can access a remote image but have no access to the remote secret. It also allows the image layers to be mirrored into the local registry which the images can still be pulled even if the upstream registry is unavailable."},
    {0}};
const schema_node_t schema_tag_reference_policy = {T_TAG_REFERENCE_POLICY, .description = D_TAG_REFERENCE_POLICY};

const schema_node_t schema_tag_reference_fields[] = {
    {.name = "name", .type = ST_STRING, .flags = SF_REQUIRED, .description = "Name of the tag"},
    {.name = "annotations", .type = ST_MAP, .items = &schema_item_string, .description = "Optional; if specified, annotations that are applied to images retrieved via ImageStreamTags."},
    {.name = "from", T_OBJECT_REFERENCE, .flags = SF_NULLABLE, .description = "Optional; if specified, a reference to another image that this tag should point to. Valid values are ImageStreamTag, ImageStreamImage, and DockerImage. ImageStreamTag references can only reference a tag within this same ImageStream."},
    {.name = "reference", .type = ST_BOOL, .description = "Reference states if the tag will be imported. Default value is false, which means the tag will be imported."},
    {.name = "generation", .type = ST_INT, .format = "int64", .flags = SF_NULLABLE, .description = "Generation is a counter that tracks mutations to the spec tag (user intent). When a tag reference is changed the generation is set to match the current stream generation (which is incremented every time spec is changed). Other processes in the system like the image importer observe that the generation of spec tag is newer than the generation recorded in the status and use that as a trigger to import the newest remote tag. To trigger a new import, clients may set this value to zero which will reset the generation to the latest stream generation. Legacy clients will send this value as nil which will be merged with the current tag generation."},
    {.name = "importPolicy", T_TAG_IMPORT_POLICY, .description = D_TAG_IMPORT_POLICY},
    {.name = "referencePolicy", T_TAG_REFERENCE_POLICY, .description = D_TAG_REFERENCE_POLICY},
    {0}};
const schema_node_t schema_tag_reference = {T_TAG_REFERENCE, .description = D_TAG_REFERENCE};

const schema_node_t schema_tag_event_fields[] = {
    {.name = "created", T_TIME, .flags = SF_REQUIRED, .description = "Created holds the time the TagEvent was created"},
    {.name = "dockerImageReference", .type = ST_STRING, .flags = SF_REQUIRED, .description = "DockerImageReference is the string that can be used to pull this image"},
    {.name = "image", .type = ST_STRING, .flags = SF_REQUIRED, .description = "Image is the image"},
    {.name = "generation", .type = ST_INT, .format = "int64", .flags = SF_REQUIRED, .description = "Generation is the spec tag generation that resulted in this tag being updated"},
    {0}};
const schema_node_t schema_tag_event = {T_TAG_EVENT,
    .description = "TagEvent is used by ImageStreamStatus to keep a historical record of images associated with a tag."};

const schema_node_t schema_tag_event_condition_fields[] = {
    {.name = "type", .type = ST_STRING, .flags = SF_REQUIRED, .description = "Type of tag event condition, currently only ImportSuccess"},
    {.name = "status", .type = ST_STRING, .flags = SF_REQUIRED, .description = "Status of the condition, one of True, False, Unknown."},
    {.name = "lastTransitionTime", T_TIME, .description = "LastTransitionTIme is the time the condition transitioned from one status to another."},
    {.name = "reason", .type = ST_STRING, .description = "Reason is a brief machine readable explanation for the condition's last transition."},
    {.name = "message", .type = ST_STRING, .description = "Message is a human readable description of the details about last transition, complementing reason."},
    {.name = "generation", .type = ST_INT, .format = "int64", .flags = SF_REQUIRED, .description = "Generation is the spec tag generation that this status corresponds to"},
    {0}};
const schema_node_t schema_tag_event_condition = {T_TAG_EVENT_CONDITION, .description = D_TAG_EVENT_CONDITION};

const schema_node_t schema_named_tag_event_list_fields[] = {
    {.name = "tag", .type = ST_STRING, .flags = SF_REQUIRED, .description = "Tag is the tag for which the history is recorded"},
    {.name = "items", .type = ST_ARRAY, .items = &schema_tag_event, .flags = SF_REQUIRED, .description = "Standard object's metadata."},
    {.name = "conditions", .type = ST_ARRAY, .items = &schema_tag_event_condition, .description = "Conditions is an array of conditions that apply to the tag event list."},
    {0}};
const schema_node_t schema_named_tag_event_list = {T_NAMED_TAG_EVENT_LIST, .description = D_NAMED_TAG_EVENT_LIST};

const schema_node_t schema_image_stream_spec_fields[] = {
    {.name = "lookupPolicy", T_IMAGE_LOOKUP_POLICY, .description = D_IMAGE_LOOKUP_POLICY},
    {.name = "dockerImageRepository", .type = ST_STRING, .description = "dockerImageRepository is optional, if specified this stream is backed by a container repository on this server Deprecated: This field is deprecated as of v3.7 and will be removed in a future release. Specify the source for the tags to be imported in each tag via the spec.tags.from reference instead."},
    {.name = "tags", .type = ST_ARRAY, .items = &schema_tag_reference, .patch_strategy = "merge", .merge_key = "name",
     .description = "tags map arbitrary string values to specific image locators"},
    {0}};
const schema_node_t schema_image_stream_spec = {T_IMAGE_STREAM_SPEC,
    .description = "ImageStreamSpec represents options for ImageStreams."};

const schema_node_t schema_image_stream_status_fields[] = {
    {.name = "dockerImageRepository", .type = ST_STRING, .flags = SF_REQUIRED, .description = "DockerImageRepository represents the effective location this stream may be accessed at. May be empty until the server determines where the repository is located"},
    {.name = "publicDockerImageRepository", .type = ST_STRING, .description = "PublicDockerImageRepository represents the public location from where the image can be pulled outside the cluster. This field may be empty if the administrator has not exposed the integrated registry externally."},
    {.name = "tags", .type = ST_ARRAY, .items = &schema_named_tag_event_list, .patch_strategy = "merge", .merge_key = "tag",
     .description = "Tags are a historical record of images associated with each tag. The first entry in the TagEvent array is the currently tagged image."},
    {0}};
const schema_node_t schema_image_stream_status = {T_IMAGE_STREAM_STATUS,
    .description = "ImageStreamStatus contains information about the state of this image stream."};

const schema_node_t schema_image_stream_fields[] = {
    F_TYPE_META,
    F_OBJECT_META,
    {.name = "spec", T_IMAGE_STREAM_SPEC, .description = "Spec describes the desired state of this stream"},
    {.name = "status", T_IMAGE_STREAM_STATUS, .description = "Status describes the current state of this stream"},
    {0}};
const schema_node_t schema_image_stream_node = {T_IMAGE_STREAM, .description = D_IMAGE_STREAM};

const schema_kind_t schema_image_stream = {"image.openshift.io", "v1", "ImageStream", &schema_image_stream_node};
