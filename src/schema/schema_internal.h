/* Private to schema/: the macros the kinds_*.c files use to describe types once, and the
 * registry of named types the OpenAPI builder emits as components.
 *
 * A named object type T has a field list (schema_<t>_fields) and a macro T_<T> that expands
 * to ".type = ST_OBJECT, .ref = <component name>, .fields = <field list>". A field of that
 * type is { .name = "x", T_<T>, .description = "..." }; the type node itself (registered
 * below, carrying the type's own description) is { T_<T>, .description = "..." }. Array and
 * map elements point at the type node through .items. SF_NULLABLE marks Go pointer fields:
 * they get no "default": {} in OpenAPI. */
#ifndef IAS_SCHEMA_INTERNAL_H
#define IAS_SCHEMA_INTERNAL_H

#include "schema/schema.h"
#include "util/util.h"

#define IMG "com.github.openshift.api.image.v1."
#define META "io.k8s.apimachinery.pkg.apis.meta.v1."
#define CORE "io.k8s.api.core.v1."

/* ---- shared descriptions ---- */
#define D_API_VERSION "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources"
#define D_KIND "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"
#define D_METADATA "metadata is the standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
#define D_LIST_METADATA "metadata is the standard list's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"

/* apiVersion, kind, metadata: the first three fields of every top-level kind. */
#define F_TYPE_META \
    {.name = "apiVersion", .type = ST_STRING, .description = D_API_VERSION}, \
    {.name = "kind", .type = ST_STRING, .description = D_KIND}
#define F_OBJECT_META {.name = "metadata", T_OBJECT_META, .description = D_METADATA}

/* Element nodes for arrays / maps of primitives. */
extern const schema_node_t schema_item_string;
extern const schema_node_t schema_item_bytes;

/* ---- meta.v1 / core.v1 types (kinds_meta.c) ---- */
extern const schema_node_t schema_object_meta_fields[];
extern const schema_node_t schema_list_meta_fields[];
extern const schema_node_t schema_owner_reference_fields[];
extern const schema_node_t schema_managed_fields_entry_fields[];
extern const schema_node_t schema_delete_options_fields[];
extern const schema_node_t schema_preconditions_fields[];
extern const schema_node_t schema_status_fields[];
extern const schema_node_t schema_status_details_fields[];
extern const schema_node_t schema_status_cause_fields[];
extern const schema_node_t schema_object_reference_fields[];
extern const schema_node_t schema_local_object_reference_fields[];
extern const schema_node_t schema_list_meta, schema_owner_reference, schema_managed_fields_entry,
    schema_preconditions, schema_status, schema_status_details, schema_status_cause,
    schema_object_reference, schema_local_object_reference, schema_time, schema_fields_v1,
    schema_raw_extension, schema_patch;

#define T_OBJECT_META .type = ST_OBJECT, .ref = META "ObjectMeta", .fields = schema_object_meta_fields
#define T_LIST_META .type = ST_OBJECT, .ref = META "ListMeta", .fields = schema_list_meta_fields
#define T_OWNER_REFERENCE .type = ST_OBJECT, .ref = META "OwnerReference", .fields = schema_owner_reference_fields
#define T_MANAGED_FIELDS_ENTRY .type = ST_OBJECT, .ref = META "ManagedFieldsEntry", .fields = schema_managed_fields_entry_fields
#define T_DELETE_OPTIONS .type = ST_OBJECT, .ref = META "DeleteOptions", .fields = schema_delete_options_fields
#define T_PRECONDITIONS .type = ST_OBJECT, .ref = META "Preconditions", .fields = schema_preconditions_fields
#define T_STATUS .type = ST_OBJECT, .ref = META "Status", .fields = schema_status_fields
#define T_STATUS_DETAILS .type = ST_OBJECT, .ref = META "StatusDetails", .fields = schema_status_details_fields
#define T_STATUS_CAUSE .type = ST_OBJECT, .ref = META "StatusCause", .fields = schema_status_cause_fields
#define T_OBJECT_REFERENCE .type = ST_OBJECT, .ref = CORE "ObjectReference", .fields = schema_object_reference_fields
#define T_LOCAL_OBJECT_REFERENCE .type = ST_OBJECT, .ref = CORE "LocalObjectReference", .fields = schema_local_object_reference_fields
/* Leaf types that are components of their own in Kubernetes' OpenAPI. */
#define T_TIME .type = ST_TIME, .ref = META "Time", .format = "date-time"
#define T_FIELDS_V1 .type = ST_ANY, .ref = META "FieldsV1"
#define T_RAW_EXTENSION .type = ST_ANY, .ref = "io.k8s.apimachinery.pkg.runtime.RawExtension"

/* ---- image.openshift.io/v1 types ---- */
extern const schema_node_t schema_image_fields[], schema_image_layer_fields[],
    schema_image_manifest_fields[], schema_image_signature_fields[],
    schema_signature_condition_fields[], schema_signature_issuer_fields[],
    schema_signature_subject_fields[];
extern const schema_node_t schema_image_node, schema_image_layer, schema_image_manifest,
    schema_image_signature_node, schema_signature_condition, schema_signature_issuer,
    schema_signature_subject;
#define T_IMAGE .type = ST_OBJECT, .ref = IMG "Image", .fields = schema_image_fields
#define T_IMAGE_LAYER .type = ST_OBJECT, .ref = IMG "ImageLayer", .fields = schema_image_layer_fields
#define T_IMAGE_MANIFEST .type = ST_OBJECT, .ref = IMG "ImageManifest", .fields = schema_image_manifest_fields
#define T_IMAGE_SIGNATURE .type = ST_OBJECT, .ref = IMG "ImageSignature", .fields = schema_image_signature_fields
#define T_SIGNATURE_CONDITION .type = ST_OBJECT, .ref = IMG "SignatureCondition", .fields = schema_signature_condition_fields
#define T_SIGNATURE_ISSUER .type = ST_OBJECT, .ref = IMG "SignatureIssuer", .fields = schema_signature_issuer_fields
#define T_SIGNATURE_SUBJECT .type = ST_OBJECT, .ref = IMG "SignatureSubject", .fields = schema_signature_subject_fields

extern const schema_node_t schema_image_stream_fields[], schema_image_stream_spec_fields[],
    schema_image_stream_status_fields[], schema_tag_reference_fields[],
    schema_tag_import_policy_fields[], schema_tag_reference_policy_fields[],
    schema_image_lookup_policy_fields[], schema_named_tag_event_list_fields[],
    schema_tag_event_fields[], schema_tag_event_condition_fields[];
extern const schema_node_t schema_image_stream_node, schema_image_stream_spec,
    schema_image_stream_status, schema_tag_reference, schema_tag_import_policy,
    schema_tag_reference_policy, schema_image_lookup_policy, schema_named_tag_event_list,
    schema_tag_event, schema_tag_event_condition;
#define T_IMAGE_STREAM .type = ST_OBJECT, .ref = IMG "ImageStream", .fields = schema_image_stream_fields
#define T_IMAGE_STREAM_SPEC .type = ST_OBJECT, .ref = IMG "ImageStreamSpec", .fields = schema_image_stream_spec_fields
#define T_IMAGE_STREAM_STATUS .type = ST_OBJECT, .ref = IMG "ImageStreamStatus", .fields = schema_image_stream_status_fields
#define T_TAG_REFERENCE .type = ST_OBJECT, .ref = IMG "TagReference", .fields = schema_tag_reference_fields
#define T_TAG_IMPORT_POLICY .type = ST_OBJECT, .ref = IMG "TagImportPolicy", .fields = schema_tag_import_policy_fields
#define T_TAG_REFERENCE_POLICY .type = ST_OBJECT, .ref = IMG "TagReferencePolicy", .fields = schema_tag_reference_policy_fields
#define T_IMAGE_LOOKUP_POLICY .type = ST_OBJECT, .ref = IMG "ImageLookupPolicy", .fields = schema_image_lookup_policy_fields
#define T_NAMED_TAG_EVENT_LIST .type = ST_OBJECT, .ref = IMG "NamedTagEventList", .fields = schema_named_tag_event_list_fields
#define T_TAG_EVENT .type = ST_OBJECT, .ref = IMG "TagEvent", .fields = schema_tag_event_fields
#define T_TAG_EVENT_CONDITION .type = ST_OBJECT, .ref = IMG "TagEventCondition", .fields = schema_tag_event_condition_fields

/* Shared descriptions of the types above, used where a field has no comment of its own. */
#define D_IMAGE "Image is an immutable representation of a container image and metadata at a point in time. Images are named by taking a hash of their contents (metadata and content) and any change in format, content, or metadata results in a new name. The images resource is primarily for use by cluster administrators and integrations like the cluster image registry - end users instead access images via the imagestreamtags or imagestreamimages resources. While image metadata is stored in the API, any integration that implements the container image registry API must provide its own storage for the raw manifest data, image config, and layer contents."
#define D_IMAGE_STREAM "An ImageStream stores a mapping of tags to images, metadata overrides that are applied when images are tagged in a stream, and an optional reference to a container image repository on a registry. Users typically update the spec.tags field to point to external images which are imported from container registries using credentials in your namespace with the pull secret type, or to existing image stream tags and images which are immediately accessible for tagging or pulling. The history of images applied to a tag is visible in the status.tags field and any user who can view an image stream is allowed to tag that image into their own image streams. Access to pull images from the integrated registry is granted by having the \"get imagestreams/layers\" permission on a given image stream. Users may remove a tag by deleting the imagestreamtag resource, which causes both spec and status for that tag to be removed. Image stream history is retained until an administrator runs the prune operation, which removes references that are no longer in use. To preserve a historical image, ensure there is a tag in spec pointing to that image by its digest."
#define D_TAG_REFERENCE "TagReference specifies optional annotations for images using this tag and an optional reference to an ImageStreamTag, ImageStreamImage, or DockerImage this tag should track."
#define D_TAG_IMPORT_POLICY "TagImportPolicy controls how images related to this tag will be imported."
#define D_TAG_REFERENCE_POLICY "TagReferencePolicy describes how pull-specs for images in this image stream tag are generated when image change triggers in deployment configs or builds are resolved. This allows the image stream author to control how images are accessed."
#define D_IMAGE_LOOKUP_POLICY "ImageLookupPolicy describes how an image stream can be used to override the image references used by pods, builds, and other resources in a namespace."
#define D_NAMED_TAG_EVENT_LIST "NamedTagEventList relates a tag to its image history."
#define D_TAG_EVENT_CONDITION "TagEventCondition contains condition information for a tag event."

/* ---- registry (registry.c) ---- */
/* Every named type node (kinds' roots included), for OpenAPI components. */
extern const schema_node_t *const schema_types[];
extern const size_t schema_ntypes;
/* Every top-level kind, for x-kubernetes-group-version-kind on component schemas. */
extern const schema_kind_t *const schema_kinds[];
extern const size_t schema_nkinds;
const schema_node_t *schema_type_by_ref(const char *ref);

/* "ImageStreamSpec" from "com.github.openshift.api.image.v1.ImageStreamSpec". */
const char *schema_ref_short(const char *ref);

/* ---- decode helpers (dupscan.c) ---- */
/* Scans well-formed JSON text along the kind's schema and appends, in document order,
 * `duplicate field "p"` and `unknown field "p"` messages (as JSON strings) to out. */
void schema_scan_text(const schema_node_t *root, const char *text, size_t len, json_t *out);

/* ---- OpenAPI (openapi.c, openapi_paths.c) ---- */
#define SCHEMA_REF_PREFIX "#/components/schemas/"
/* {"allOf":[{"$ref":"#/components/schemas/<ref>"}]} */
json_t *schema_oa_ref(const char *ref);
/* Adds the paths of one served resource to paths. */
void schema_oa_add_paths(json_t *paths, const schema_resource_t *r);
/* Component name of a kind's list type: "...image.v1.ImageStreamList". Caller frees. */
char *schema_oa_list_ref(const schema_kind_t *k);

#endif
