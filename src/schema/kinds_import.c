/* ImageStreamImport (image.openshift.io/v1): a request to import images and its result. */
#include "schema/schema_internal.h"

#define D_IMAGE_IMPORT_STATUS "ImageImportStatus describes the result of an image import."
#define D_INCLUDE_MANIFEST "IncludeManifest determines if the manifest for each image is returned in the response"

const schema_node_t schema_image_import_spec_fields[] = {
    {.name = "from", T_OBJECT_REFERENCE, .flags = SF_REQUIRED, .description = "From is the source of an image to import; only kind DockerImage is allowed"},
    {.name = "to", T_LOCAL_OBJECT_REFERENCE, .flags = SF_NULLABLE, .description = "To is a tag in the current image stream to assign the imported image to, if name is not specified the default tag from from.name will be used"},
    {.name = "importPolicy", T_TAG_IMPORT_POLICY, .description = D_TAG_IMPORT_POLICY},
    {.name = "referencePolicy", T_TAG_REFERENCE_POLICY, .description = D_TAG_REFERENCE_POLICY},
    {.name = "includeManifest", .type = ST_BOOL, .description = D_INCLUDE_MANIFEST},
    {0}};
const schema_node_t schema_image_import_spec = {.type = ST_OBJECT, .ref = IMG "ImageImportSpec",
    .fields = schema_image_import_spec_fields, .description = "ImageImportSpec describes a request to import a specific image."};

const schema_node_t schema_repository_import_spec_fields[] = {
    {.name = "from", T_OBJECT_REFERENCE, .flags = SF_REQUIRED, .description = "From is the source for the image repository to import; only kind DockerImage and a name of a container image repository is allowed"},
    {.name = "importPolicy", T_TAG_IMPORT_POLICY, .description = D_TAG_IMPORT_POLICY},
    {.name = "referencePolicy", T_TAG_REFERENCE_POLICY, .description = D_TAG_REFERENCE_POLICY},
    {.name = "includeManifest", .type = ST_BOOL, .description = D_INCLUDE_MANIFEST},
    {0}};
const schema_node_t schema_repository_import_spec = {.type = ST_OBJECT, .ref = IMG "RepositoryImportSpec",
    .fields = schema_repository_import_spec_fields, .description = "RepositoryImportSpec describes a request to import images from a container image repository."};

const schema_node_t schema_image_import_status_fields[] = {
    {.name = "status", T_STATUS, .flags = SF_REQUIRED, .description = "Status is the status of the image import, including errors encountered while retrieving the image"},
    {.name = "image", T_IMAGE, .flags = SF_NULLABLE, .description = D_IMAGE},
    {.name = "tag", .type = ST_STRING, .description = "Tag is the tag this image was located under, if any"},
    {.name = "manifests", .type = ST_ARRAY, .items = &schema_image_node, .description = "Manifests holds sub-manifests metadata when importing a manifest list"},
    {0}};
const schema_node_t schema_image_import_status = {.type = ST_OBJECT, .ref = IMG "ImageImportStatus",
    .fields = schema_image_import_status_fields, .description = D_IMAGE_IMPORT_STATUS};

const schema_node_t schema_repository_import_status_fields[] = {
    {.name = "status", T_STATUS, .description = "Status reflects whether any failure occurred during import"},
    {.name = "images", .type = ST_ARRAY, .items = &schema_image_import_status, .description = "Images is a list of images successfully retrieved by the import of the repository."},
    {.name = "additionalTags", .type = ST_ARRAY, .items = &schema_item_string, .description = "AdditionalTags are tags that exist in the repository but were not imported because a maximum limit of automatic imports was applied."},
    {0}};
const schema_node_t schema_repository_import_status = {.type = ST_OBJECT, .ref = IMG "RepositoryImportStatus",
    .fields = schema_repository_import_status_fields, .description = "RepositoryImportStatus describes the result of an image repository import"};

const schema_node_t schema_image_stream_import_spec_fields[] = {
    {.name = "import", .type = ST_BOOL, .flags = SF_REQUIRED, .description = "Import indicates whether to perform an import - if so, the specified tags are set on the spec and status of the image stream defined by the type meta."},
    {.name = "repository", .type = ST_OBJECT, .ref = IMG "RepositoryImportSpec", .fields = schema_repository_import_spec_fields,
     .flags = SF_NULLABLE, .description = "RepositoryImportSpec describes a request to import images from a container image repository."},
    {.name = "images", .type = ST_ARRAY, .items = &schema_image_import_spec, .description = "Images are a list of individual images to import."},
    {0}};
const schema_node_t schema_image_stream_import_spec = {.type = ST_OBJECT, .ref = IMG "ImageStreamImportSpec",
    .fields = schema_image_stream_import_spec_fields, .description = "ImageStreamImportSpec defines what images should be imported."};

const schema_node_t schema_image_stream_import_status_fields[] = {
    {.name = "import", T_IMAGE_STREAM, .flags = SF_NULLABLE, .description = D_IMAGE_STREAM},
    {.name = "repository", .type = ST_OBJECT, .ref = IMG "RepositoryImportStatus", .fields = schema_repository_import_status_fields,
     .flags = SF_NULLABLE, .description = "RepositoryImportStatus describes the result of an image repository import"},
    {.name = "images", .type = ST_ARRAY, .items = &schema_image_import_status, .description = "Images is set with the result of importing spec.images"},
    {0}};
const schema_node_t schema_image_stream_import_status = {.type = ST_OBJECT, .ref = IMG "ImageStreamImportStatus",
    .fields = schema_image_stream_import_status_fields, .description = "ImageStreamImportStatus contains information about the status of an image stream import."};

const schema_node_t schema_image_stream_import_fields[] = {
    F_TYPE_META,
    F_OBJECT_META,
    {.name = "spec", .type = ST_OBJECT, .ref = IMG "ImageStreamImportSpec", .fields = schema_image_stream_import_spec_fields,
     .flags = SF_REQUIRED, .description = "ImageStreamImportSpec defines what images should be imported."},
    {.name = "status", .type = ST_OBJECT, .ref = IMG "ImageStreamImportStatus", .fields = schema_image_stream_import_status_fields,
     .flags = SF_REQUIRED, .description = "ImageStreamImportStatus contains information about the status of an image stream import."},
    {0}};
const schema_node_t schema_image_stream_import_node = {.type = ST_OBJECT, .ref = IMG "ImageStreamImport",
    .fields = schema_image_stream_import_fields,
    .description = "The image stream import resource provides an easy way for a user to find and import container images from other container image registries into the server. Individual images or an entire image repository may be imported, and users may choose to see the results of the import prior to tagging the resulting images into the specified image stream.\n\nThis API is intended for end-user tools that need to see the metadata of the image prior to import (for instance, to generate an application from it). Clients that know the desired image can continue to create spec.tags directly into their image streams."};

const schema_kind_t schema_image_stream_import = {"image.openshift.io", "v1", "ImageStreamImport", &schema_image_stream_import_node};
