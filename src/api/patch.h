/* patch: the four PATCH flavours Kubernetes clients send, and managedFields.
 * All functions work on jansson values; none touches the store. */
#ifndef IAS_API_PATCH_H
#define IAS_API_PATCH_H

#include <jansson.h>
#include <stdbool.h>

#include "schema/schema.h"
#include "util/apierr.h"

/* RFC 7386 JSON merge patch. Returns the patched document (new reference);
 * target is not modified. */
json_t *patch_merge(const json_t *target, const json_t *patch);

/* RFC 6902 JSON patch (add remove replace move copy test). Returns the patched
 * document (new reference), or NULL with err = 422 Invalid (no details.kind/name), e.g.
 * "remove operation does not apply: doc is missing path: \"/spec/nothere\"". A non-array
 * patch -> 400 BadRequest. */
json_t *patch_json(const json_t *target, const json_t *ops, apierr_t *err);

/* Strategic merge patch using the kind's schema: lists with patch_strategy "merge" and a
 * merge_key merge element-wise; primitive lists with strategy "merge" union; directives
 * $patch (replace/delete/merge), $setElementOrder/<field>, $deleteFromPrimitiveList/<field>,
 * $retainKeys. Unknown directives / malformed -> 400 BadRequest. New reference or NULL. */
json_t *patch_strategic(const json_t *target, const json_t *patch, const schema_node_t *root,
                        apierr_t *err);

/* ---- managedFields (FieldsV1) ---- */
/* The FieldsV1 set of every leaf field present in obj (excluding apiVersion, kind,
 * metadata.name/namespace/uid/resourceVersion/generation/creationTimestamp/managedFields,
 * and status unless include_status), keyed lists as k:{"name":"x"}, sets as v:"x". */
json_t *fieldset_from_object(const json_t *obj, const schema_node_t *root, bool include_status);

/* Records an Update by manager: the fields that changed between old (NULL on create) and
 * new_obj are added to manager's Update entry and removed from other managers' entries;
 * empty entries are dropped. Writes new_obj.metadata.managedFields. subresource is
 * NULL or "status". now is RFC 3339. */
void managed_fields_update(json_t *new_obj, const json_t *old_obj, const char *manager,
                           const char *api_version, const char *subresource,
                           const schema_node_t *root, const char *now);

/* Server-side apply: merges `applied` (the manager's full intent) into live (NULL if the
 * object does not exist yet): fields in applied are set; fields the same manager applied
 * before but omits now are removed (unless another manager also owns them); conflicts with
 * other managers' fields whose values differ -> 409 Conflict with
 * "Apply failed with N conflict(s): conflict with \"m\" using image.openshift.io/v1: .spec.x"
 * and causes (reason FieldManagerConflict), unless force (then ownership moves).
 * For manager "kubectl" on an object with the last-applied-configuration annotation
 * (client-side apply), conflicts on fields whose live value still equals that config are
 * no conflicts: when only such fields conflict, the apply goes through as if forced; and
 * an apply by "kubectl" rewrites an existing annotation to the applied config, so a later
 * client-side apply diffs against it.
 * Returns the new object with metadata.managedFields updated (operation "Apply"),
 * or NULL with err set. */
json_t *patch_apply(const json_t *live, const json_t *applied, const char *manager, bool force,
                    const char *api_version, const schema_node_t *root, const char *now,
                    apierr_t *err);

/* YAML (or JSON, which is YAML) document -> JSON value. 400 BadRequest on syntax errors.
 * Integers, floats, booleans and null are typed like Kubernetes' YAML decoder (YAML 1.1-ish:
 * true/false, null/~, numbers; quoted scalars stay strings). */
json_t *yaml_to_json(const char *text, size_t len, apierr_t *err);
/* JSON value -> YAML text (for Accept: application/yaml). Caller frees. */
char *json_to_yaml(const json_t *v);

#endif
