/* objectmeta: generic ObjectMeta validation (apimachinery's ValidateObjectMeta and
 * ValidateObjectMetaUpdate) with Kubernetes' exact messages. */
#ifndef IAS_API_OBJECTMETA_H
#define IAS_API_OBJECTMETA_H

#include <jansson.h>
#include <stdbool.h>

#include "util/apierr.h"

/* Path-segment name rules: not "." or "..", no '/' or '%'. Appends errors for field. */
void validate_path_segment_name(const char *name, const char *field, ferrs_t *errs);
/* DNS-1123 label (namespace names). */
void validate_dns1123_label(const char *value, const char *field, ferrs_t *errs);
/* metadata of obj: name/generateName required, namespace required iff namespaced
 * (cluster-scoped: must be empty), labels (qualified keys, label values),
 * annotations (qualified keys, total size <= 256 KiB), finalizers (qualified names),
 * ownerReferences, managedFields, generation >= 0. Name content rules are the kind's. */
void validate_object_meta(const json_t *meta, bool namespaced, ferrs_t *errs);
/* Update rules: name, namespace, uid, creationTimestamp immutable ("field is immutable");
 * plus validate_object_meta on the new one. */
void validate_object_meta_update(const json_t *meta, const json_t *old_meta, bool namespaced,
                                 ferrs_t *errs);

#endif
