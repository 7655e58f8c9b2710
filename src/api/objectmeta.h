/* objectmeta: generic ObjectMeta validation (apimachinery's ValidateObjectMeta and
 * ValidateObjectMetaUpdate) with Kubernetes' exact messages. */
#ifndef IAS_API_OBJECTMETA_H
#define IAS_API_OBJECTMETA_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/apierr.h"
#include "util/util.h"

/* Path-segment name rules: not "." or "..", no '/' or '%'. Appends errors for field. */
void validate_path_segment_name(const char *name, const char *field, ferrs_t *errs);
/* DNS-1123 label (namespace names). */
void validate_dns1123_label(const char *value, const char *field, ferrs_t *errs);
/* metadata of obj: name/generateName required, namespace required iff namespaced
 * (cluster-scoped: must be empty), labels (qualified keys, label values),
 * annotations (qualified keys, total size <= 256 KiB), finalizers (qualified names),
 * ownerReferences, managedFields, generation >= 0. Name content rules are the kind's. */
void validate_object_meta(const json_t *meta, bool namespaced, ferrs_t *errs);
/* Update rules (ValidateObjectMetaUpdate): no new finalizers once deletionTimestamp is set,
 * generation not decremented, name, namespace, uid, creationTimestamp, deletionTimestamp,
 * deletionGracePeriodSeconds immutable ("field is immutable"); plus validate_object_meta on
 * the new one (OpenShift's kinds run both; labels etc. are reported once, not twice).
 * A missing resourceVersion is the verb's check (422 "must be specified for an update"). */
void validate_object_meta_update(const json_t *meta, const json_t *old_meta, bool namespaced,
                                 ferrs_t *errs);

/* ---- k8s.io/apimachinery/pkg/util/validation primitives, shared with selector.c ----
 * Each writes up to VALIDATION_MAX_MSGS malloc'ed messages (Kubernetes wording) to msgs and
 * returns how many; 0 = valid. Free them with validation_msgs_free. */
#define VALIDATION_MAX_MSGS 4
int validation_is_qualified_name(const char *v, char *msgs[VALIDATION_MAX_MSGS]);
int validation_is_label_value(const char *v, char *msgs[VALIDATION_MAX_MSGS]);
int validation_is_dns1123_label(const char *v, char *msgs[VALIDATION_MAX_MSGS]);
int validation_is_dns1123_subdomain(const char *v, char *msgs[VALIDATION_MAX_MSGS]);
void validation_msgs_free(char **msgs, int n);
/* Go strconv.ParseInt(s, 10, 64): optional sign, decimal digits only, no overflow. */
bool validation_parse_int64(const char *s, int64_t *out);
/* Appends s quoted like Go's %q for the ASCII range (\" \\ \n \t \r \xNN). */
void validation_quote(buf_t *b, const char *s);

#endif
