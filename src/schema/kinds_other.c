/* The virtual kinds that view ImageStreams and Images: ImageStreamTag, ImageTag,
 * ImageStreamImage, ImageStreamMapping, ImageStreamLayers (image.openshift.io/v1). */
#include "schema/schema_internal.h"

#define D_ISTAG "ImageStreamTag represents an Image that is retrieved by tag name from an ImageStream. Use this resource to interact with the tags and images in an image stream by tag, or to see the image details for a particular tag. The image associated with this resource is the most recently successfully tagged, imported, or pushed image (as described in the image stream status.tags.items list for this tag). If an import is in progress or has failed the previous image will be shown. Deleting an image stream tag clears both the status and spec fields of an image stream. If no image can be retrieved for a given tag, a not found error will be returned."

const schema_node_t schema_image_stream_tag_fields[] = {
    F_TYPE_META,
    F_OBJECT_META,
    {.name = "tag", T_TAG_REFERENCE, .flags = SF_REQUIRED | SF_NULLABLE, .description = "tag is the spec tag associated with this image stream tag, and it may be null if only pushes have occurred to this image stream."},
    {.name = "generation", .type = ST_INT, .format = "int64", .flags = SF_REQUIRED, .description = "generation is the current generation of the tagged image - if tag is provided and this value is not equal to the tag generation, a user has requested an import that has not completed, or conditions will be filled out indicating any error."},
    {.name = "lookupPolicy", T_IMAGE_LOOKUP_POLICY, .flags = SF_REQUIRED, .description = "lookupPolicy indicates whether this tag will handle image references in this namespace."},
    {.name = "conditions", .type = ST_ARRAY, .items = &schema_tag_event_condition, .description = "conditions is an array of conditions that apply to the image stream tag."},
    {.name = "image", T_IMAGE, .flags = SF_REQUIRED, .description = "image associated with the ImageStream and tag."},
    {0}};
const schema_node_t schema_image_stream_tag_node = {.type = ST_OBJECT, .ref = IMG "ImageStreamTag",
    .fields = schema_image_stream_tag_fields, .description = D_ISTAG};

const schema_node_t schema_image_tag_fields[] = {
    F_TYPE_META,
    F_OBJECT_META,
    {.name = "spec", T_TAG_REFERENCE, .flags = SF_REQUIRED | SF_NULLABLE, .description = "spec is the spec tag associated with this image stream tag, and it may be null if only pushes have occurred to this image stream."},
    {.name = "status", T_NAMED_TAG_EVENT_LIST, .flags = SF_REQUIRED | SF_NULLABLE, .description = "status is the status tag details associated with this image stream tag, and it may be null if no push or import has been performed."},
    {.name = "image", T_IMAGE, .flags = SF_REQUIRED | SF_NULLABLE, .description = "image is the details of the most recent image stream status tag, and it may be null if import has not completed or an administrator has deleted the image object. To verify this is the most recent image, you must verify the generation of the most recent status.items entry matches the spec tag (if a spec tag is set). This field will not be set when listing image tags."},
    {0}};
const schema_node_t schema_image_tag_node = {.type = ST_OBJECT, .ref = IMG "ImageTag",
    .fields = schema_image_tag_fields,
    .description = "ImageTag represents a single tag within an image stream and includes the spec, the status history, and the currently referenced image (if any) of the provided tag. This type replaces the ImageStreamTag by providing a full view of the tag. ImageTags are returned for every spec or status tag present on the image stream. If no tag exists in either form a not found error will be returned by the API. A create operation will succeed if no spec tag has already been defined and the spec field is set. Delete will remove both spec and status elements from the image stream."};

const schema_node_t schema_image_stream_image_fields[] = {
    F_TYPE_META,
    F_OBJECT_META,
    {.name = "image", T_IMAGE, .flags = SF_REQUIRED, .description = "Image associated with the ImageStream and image name."},
    {0}};
const schema_node_t schema_image_stream_image_node = {.type = ST_OBJECT, .ref = IMG "ImageStreamImage",
    .fields = schema_image_stream_image_fields,
    .description = "ImageStreamImage represents an Image that is retrieved by image name from an ImageStream. User interfaces and regular users can use this resource to access the metadata details of a tagged image in the image stream history for viewing, since Image resources are not directly accessible to end users. A not found error will be returned if no such image is referenced by a tag within the ImageStream. Images are created when spec tags are set on an image stream that represent an image in an external registry, when pushing to the integrated registry, or when tagging an existing image from one image stream to another. The name of an image stream image is in the form \"<STREAM>@<DIGEST>\", where the digest is the content addressible identifier for the image (sha256:xxxxx...). You can use ImageStreamImages as the from.kind of an image stream spec tag to reference an image exactly. The only operations supported on the imagestreamimage endpoint are retrieving the image."};

const schema_node_t schema_image_stream_mapping_fields[] = {
    F_TYPE_META,
    F_OBJECT_META,
    {.name = "image", T_IMAGE, .flags = SF_REQUIRED, .description = "Image is a container image."},
    {.name = "tag", .type = ST_STRING, .flags = SF_REQUIRED, .description = "Tag is a string value this image can be located with inside the stream."},
    {0}};
const schema_node_t schema_image_stream_mapping_node = {.type = ST_OBJECT, .ref = IMG "ImageStreamMapping",
    .fields = schema_image_stream_mapping_fields,
    .description = "ImageStreamMapping represents a mapping from a single image stream tag to a container image as well as the reference to the container image stream the image came from. This resource is used by privileged integrators to create an image resource and to associate it with an image stream in the status tags field. Creating an ImageStreamMapping will allow any user who can view the image stream to tag or pull that image, so only create mappings where the user has proven they have access to the image contents directly. The only operation supported for this resource is create and the metadata name and namespace should be set to the image stream containing the tag that should be updated."};

const schema_node_t schema_image_layer_data_fields[] = {
    {.name = "size", .type = ST_INT, .format = "int64", .flags = SF_REQUIRED | SF_NULLABLE, .description = "Size of the layer in bytes as defined by the underlying store. This field is optional if the necessary information about size is not available."},
    {.name = "mediaType", .type = ST_STRING, .flags = SF_REQUIRED, .description = "MediaType of the referenced object."},
    {0}};
const schema_node_t schema_image_layer_data = {.type = ST_OBJECT, .ref = IMG "ImageLayerData",
    .fields = schema_image_layer_data_fields, .description = "ImageLayerData contains metadata about an image layer."};

const schema_node_t schema_image_blob_references_fields[] = {
    {.name = "imageMissing", .type = ST_BOOL, .description = "imageMissing is true if the image is referenced by the image stream but the image object has been deleted from the API by an administrator. When this field is set, layers and config fields may be empty and callers that depend on the image metadata should consider the image to be unavailable for download or viewing."},
    {.name = "layers", .type = ST_ARRAY, .items = &schema_item_string, .description = "layers is the list of blobs that compose this image, from base layer to top layer. All layers referenced by this array will be defined in the blobs map. Some images may have zero layers."},
    {.name = "config", .type = ST_STRING, .flags = SF_NULLABLE, .description = "config, if set, is the blob that contains the image config. Some images do not have separate config blobs and this field will be set to nil if so."},
    {.name = "manifests", .type = ST_ARRAY, .items = &schema_item_string, .description = "manifests is the list of other image names that this image points to. For a single architecture image, it is empty. For a multi-arch image, it consists of the digests of single architecture images, such images shouldn't have layers nor config."},
    {0}};
const schema_node_t schema_image_blob_references = {.type = ST_OBJECT, .ref = IMG "ImageBlobReferences",
    .fields = schema_image_blob_references_fields, .description = "ImageBlobReferences describes the blob references within an image."};

const schema_node_t schema_image_stream_layers_fields[] = {
    F_TYPE_META,
    F_OBJECT_META,
    {.name = "blobs", .type = ST_MAP, .items = &schema_image_layer_data, .flags = SF_REQUIRED, .description = "blobs is a map of blob name to metadata about the blob."},
    {.name = "images", .type = ST_MAP, .items = &schema_image_blob_references, .flags = SF_REQUIRED, .description = "images is a map between an image name and the names of the blobs and config that comprise the image."},
    {0}};
const schema_node_t schema_image_stream_layers_node = {.type = ST_OBJECT, .ref = IMG "ImageStreamLayers",
    .fields = schema_image_stream_layers_fields,
    .description = "ImageStreamLayers describes information about the layers referenced by images in this image stream."};

const schema_kind_t schema_image_stream_tag = {"image.openshift.io", "v1", "ImageStreamTag", &schema_image_stream_tag_node};
const schema_kind_t schema_image_tag = {"image.openshift.io", "v1", "ImageTag", &schema_image_tag_node};
const schema_kind_t schema_image_stream_image = {"image.openshift.io", "v1", "ImageStreamImage", &schema_image_stream_image_node};
const schema_kind_t schema_image_stream_mapping = {"image.openshift.io", "v1", "ImageStreamMapping", &schema_image_stream_mapping_node};
const schema_kind_t schema_image_stream_layers = {"image.openshift.io", "v1", "ImageStreamLayers", &schema_image_stream_layers_node};
