/* secret: the strategy of core v1 Secrets (Kubernetes' defaulting, stringData merge and
 * validation), pure functions over the JSON object; no secret value ever reaches an error
 * message (Kubernetes prints "<secret contents redacted>"). */
#ifndef IAS_IMAGE_SECRET_H
#define IAS_IMAGE_SECRET_H

#include <jansson.h>

#include "util/apierr.h"

/* Kubernetes' MaxSecretSize: the bytes of all data values together. */
#define SECRET_MAX_SIZE (1024 * 1024)

/* Write form: type defaults to Opaque; every stringData entry is written into data
 * (base64, overwriting) and stringData removed. */
void secret_normalize(json_t *o);

/* ValidateSecret (old NULL) / ValidateSecretUpdate: data keys, total size, the rules of
 * the well-known types (dockercfg, dockerconfigjson, basic-auth, ssh-auth, tls,
 * service-account-token), type and immutable data unchanged on update. */
void secret_validate(const json_t *o, const json_t *old, ferrs_t *e);


/* ---- the kind (secret_kind.c): hooks and data for the kind table (image_kinds.c) ---- */
#include "api/resource.h"

extern const char *const secret_field_labels[];
extern const api_table_col_t secret_columns[];
#define SECRET_NCOLUMNS 4
void secret_normalize_hook(api_call_t *c, json_t *o);
void secret_validate_hook(api_call_t *c, json_t *o, const json_t *old, ferrs_t *e);
json_t *secret_table_cells(const json_t *o);
/* GET imagestreams/<name>/secrets (stored-resources §3.12): the pull secrets of the
 * namespace as a SecretList; the stream need not exist. */
json_t *is_secrets_get(api_call_t *c, const char *ns, const char *name);
/* A protobuf body (secret_proto.c): the Secret as JSON, or NULL with a 400 in err. */
json_t *secret_from_protobuf(const void *body, size_t len, apierr_t *err);

#define SECRET_KIND_ENTRY                                                                                         \
    {                                                                                                             \
        .resource = "secrets", .singular = "secret", .kind = "Secret", .list_kind = "SecretList",               \
        .schema = &schema_secret, .namespaced = true,                                                             \
        .verbs = "create delete deletecollection get list patch update watch", .field_labels = secret_field_labels, \
        .columns = secret_columns, .ncolumns = SECRET_NCOLUMNS, .table_cells = secret_table_cells,               \
        .normalize = secret_normalize_hook, .validate = secret_validate_hook,                                    \
        .decode_protobuf = secret_from_protobuf,                                                                  \
    }

#endif
