/* The core (v1) kinds this server stores for the image API's sake: Secret (pull secrets
 * of imports, the imagestreams/<name>/secrets subresource). Descriptions as in
 * Kubernetes' OpenAPI (io.k8s.api.core.v1). */
#include "schema/schema_internal.h"

const schema_node_t schema_secret_fields[] = {
    F_TYPE_META,
    F_OBJECT_META,
    {.name = "data", .type = ST_MAP, .items = &schema_item_bytes, .description = "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4"},
    {.name = "immutable", .type = ST_BOOL, .description = "Immutable, if set to true, ensures that data stored in the Secret cannot be updated (only object metadata can be modified). If not set to true, the field can be modified at any time. Defaulted to nil."},
    {.name = "stringData", .type = ST_MAP, .items = &schema_item_string, .description = "stringData allows specifying non-binary secret data in string form. It is provided as a write-only input field for convenience. All keys and values are merged into the data field on write, overwriting any existing values. The stringData field is never output when reading from the API."},
    {.name = "type", .type = ST_STRING, .description = "Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types"},
    {0}};
const schema_node_t schema_secret_node = {.type = ST_OBJECT, .ref = CORE "Secret", .fields = schema_secret_fields,
    .description = "Secret holds secret data of a certain type. The total bytes of the values in the Data field must be less than MaxSecretSize bytes."};

const schema_kind_t schema_secret = {"", "v1", "Secret", &schema_secret_node};

/* The answer of imagestreams/<name>/secrets (its apiVersion is image.openshift.io/v1). */
static const schema_node_t schema_secret_item = {.type = ST_OBJECT, .ref = CORE "Secret",
    .fields = schema_secret_fields};
const schema_node_t schema_secret_list_fields[] = {
    F_TYPE_META,
    {.name = "metadata", T_LIST_META, .description = D_LIST_METADATA},
    {.name = "items", .type = ST_ARRAY, .flags = SF_REQUIRED, .items = &schema_secret_item, .description = "Items is a list of secret objects. More info: https://kubernetes.io/docs/concepts/configuration/secret"},
    {0}};
const schema_node_t schema_secret_list_node = {.type = ST_OBJECT, .ref = CORE "SecretList",
    .fields = schema_secret_list_fields, .description = "SecretList is a list of Secret."};

const schema_kind_t schema_secret_list = {"", "v1", "SecretList", &schema_secret_list_node};
