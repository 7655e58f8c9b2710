/* Image and ImageSignature (image.openshift.io/v1) with their parts. Field descriptions are
 * the API's own documentation (OpenShift REST API reference). */
#include "schema/schema_internal.h"

#define D_SIGNATURE "ImageSignature holds a signature of an image. It allows to verify image identity and possibly other claims as long as the signature is trusted. Based on this information it is possible to restrict runnable images to those matching cluster-wide policy. Mandatory fields should be parsed by clients doing image verification. The others are parsed from signature's content by the server. They serve just an informative purpose."

const schema_node_t schema_image_layer_fields[] = {
    {.name = "name", .type = ST_STRING, .flags = SF_REQUIRED, .description = "Name of the layer as defined by the underlying store."},
    {.name = "size", .type = ST_INT, .format = "int64", .flags = SF_REQUIRED, .description = "Size of the layer in bytes as defined by the underlying store."},
    {.name = "mediaType", .type = ST_STRING, .flags = SF_REQUIRED, .description = "MediaType of the referenced object."},
    {0}};
const schema_node_t schema_image_layer = {T_IMAGE_LAYER,
    .description = "ImageLayer represents a single layer of the image. Some images may have multiple layers. Some may have none."};

const schema_node_t schema_image_manifest_fields[] = {
    {.name = "digest", .type = ST_STRING, .flags = SF_REQUIRED, .description = "Digest is the unique identifier for the manifest. It refers to an Image object."},
    {.name = "mediaType", .type = ST_STRING, .flags = SF_REQUIRED, .description = "MediaType defines the type of the manifest, possible values are application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json or application/vnd.docker.distribution.manifest.v1+json."},
    {.name = "manifestSize", .type = ST_INT, .format = "int64", .flags = SF_REQUIRED, .description = "ManifestSize represents the size of the raw object contents, in bytes."},
    {.name = "architecture", .type = ST_STRING, .flags = SF_REQUIRED, .description = "Architecture specifies the supported CPU architecture, for example amd64 or ppc64le."},
    {.name = "os", .type = ST_STRING, .flags = SF_REQUIRED, .description = "OS specifies the operating system, for example linux."},
    {.name = "variant", .type = ST_STRING, .description = "Variant is an optional field repreenting a variant of the CPU, for example v6 to specify a particular CPU variant of the ARM CPU."},
    {0}};
const schema_node_t schema_image_manifest = {T_IMAGE_MANIFEST,
    .description = "ImageManifest represents sub-manifests of a manifest list. The Digest field points to a regular Image object."};

const schema_node_t schema_signature_condition_fields[] = {
    {.name = "type", .type = ST_STRING, .flags = SF_REQUIRED, .description = "Type of signature condition, Complete or Failed."},
    {.name = "status", .type = ST_STRING, .flags = SF_REQUIRED, .description = "Status of the condition, one of True, False, Unknown."},
    {.name = "lastProbeTime", T_TIME, .description = "Last time the condition was checked."},
    {.name = "lastTransitionTime", T_TIME, .description = "Last time the condition transit from one status to another."},
    {.name = "reason", .type = ST_STRING, .description = "(brief) reason for the condition's last transition."},
    {.name = "message", .type = ST_STRING, .description = "Human readable message indicating details about last transition."},
    {0}};
const schema_node_t schema_signature_condition = {T_SIGNATURE_CONDITION,
    .description = "SignatureCondition describes an image signature condition of particular kind at particular probe time."};

const schema_node_t schema_signature_issuer_fields[] = {
    {.name = "organization", .type = ST_STRING, .description = "Organization name."},
    {.name = "commonName", .type = ST_STRING, .description = "Common name (e.g. openshift-signing-service)."},
    {0}};
const schema_node_t schema_signature_issuer = {T_SIGNATURE_ISSUER,
    .description = "SignatureIssuer holds information about an issuer of signing certificate or key."};

const schema_node_t schema_signature_subject_fields[] = {
    {.name = "organization", .type = ST_STRING, .description = "Organization name."},
    {.name = "commonName", .type = ST_STRING, .description = "Common name (e.g. openshift-signing-service)."},
    {.name = "publicKeyID", .type = ST_STRING, .flags = SF_REQUIRED, .description = "If present, it is a human readable key id of public key belonging to the subject used to verify image signature. It should contain at least 64 lowest bits of public key's fingerprint (e.g. 0x685ebe62bf278440)."},
    {0}};
const schema_node_t schema_signature_subject = {T_SIGNATURE_SUBJECT,
    .description = "SignatureSubject holds information about a person or entity who created the signature."};

const schema_node_t schema_image_signature_fields[] = {
    F_TYPE_META,
    F_OBJECT_META,
    {.name = "type", .type = ST_STRING, .flags = SF_REQUIRED, .description = "Required: Describes a type of stored blob."},
    {.name = "content", .type = ST_BYTES, .format = "byte", .flags = SF_REQUIRED, .description = "Required: An opaque binary string which is an image's signature."},
    {.name = "conditions", .type = ST_ARRAY, .items = &schema_signature_condition,
     .patch_strategy = "merge", .merge_key = "type",
     .description = "Conditions represent the latest available observations of a signature's current state."},
    {.name = "imageIdentity", .type = ST_STRING, .description = "A human readable string representing image's identity. It could be a product name and version, or an image pull spec (e.g. \"registry.access.redhat.com/rhel7/rhel:7.2\")."},
    {.name = "signedClaims", .type = ST_MAP, .items = &schema_item_string, .description = "Contains claims from the signature."},
    {.name = "created", T_TIME, .flags = SF_NULLABLE, .description = "If specified, it is the time of signature's creation."},
    {.name = "issuedBy", T_SIGNATURE_ISSUER, .flags = SF_NULLABLE, .description = "SignatureIssuer holds information about an issuer of signing certificate or key."},
    {.name = "issuedTo", T_SIGNATURE_SUBJECT, .flags = SF_NULLABLE, .description = "SignatureSubject holds information about a person or entity who created the signature."},
    {0}};
const schema_node_t schema_image_signature_node = {T_IMAGE_SIGNATURE, .description = D_SIGNATURE};

const schema_node_t schema_image_fields[] = {
    F_TYPE_META,
    F_OBJECT_META,
    {.name = "dockerImageReference", .type = ST_STRING, .description = "DockerImageReference is the string that can be used to pull this image."},
    {.name = "dockerImageMetadata", T_RAW_EXTENSION, .patch_strategy = "replace", .description = "DockerImageMetadata contains metadata about this image"},
    {.name = "dockerImageMetadataVersion", .type = ST_STRING, .description = "DockerImageMetadataVersion conveys the version of the object, which if empty defaults to \"1.0\""},
    {.name = "dockerImageManifest", .type = ST_STRING, .description = "DockerImageManifest is the raw JSON of the manifest"},
    {.name = "dockerImageLayers", .type = ST_ARRAY, .items = &schema_image_layer, .flags = SF_REQUIRED, .description = "DockerImageLayers represents the layers in the image. May not be set if the image does not define that data or if the image represents a manifest list."},
    {.name = "signatures", .type = ST_ARRAY, .items = &schema_image_signature_node,
     .patch_strategy = "merge", .merge_key = "name", .description = "Signatures holds all signatures of the image."},
    {.name = "dockerImageSignatures", .type = ST_ARRAY, .items = &schema_item_bytes, .description = "DockerImageSignatures provides the signatures as opaque blobs. This is a part of manifest schema v1."},
    {.name = "dockerImageManifestMediaType", .type = ST_STRING, .description = "DockerImageManifestMediaType specifies the mediaType of manifest. This is a part of manifest schema v2."},
    {.name = "dockerImageConfig", .type = ST_STRING, .description = "DockerImageConfig is a JSON blob that the runtime uses to set up the container. This is a part of manifest schema v2. Will not be set when the image represents a manifest list."},
    {.name = "dockerImageManifests", .type = ST_ARRAY, .items = &schema_image_manifest, .description = "DockerImageManifests holds information about sub-manifests when the image represents a manifest list. When this field is present, no DockerImageLayers should be specified."},
    {0}};
const schema_node_t schema_image_node = {T_IMAGE, .description = D_IMAGE};

const schema_kind_t schema_image = {"image.openshift.io", "v1", "Image", &schema_image_node};
const schema_kind_t schema_image_signature = {"image.openshift.io", "v1", "ImageSignature", &schema_image_signature_node};
