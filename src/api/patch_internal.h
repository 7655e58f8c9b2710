/* Private to the apipatch pieces: schema walking helpers and the field-set tree used by
 * managedFields and server-side apply. Only schema_node_t data is read (no schema/ calls).
 *
 * Field sets are kept as jansson objects in an internal form: children keyed like FieldsV1
 * ("f:name", "k:{\"name\":\"x\"}", "v:\"x\"") and a "." member when the node itself is in
 * the set. A leaf is therefore {".":{}}; fs_to_v1 turns that into FieldsV1's {}. */
#ifndef IAS_API_PATCH_INTERNAL_H
#define IAS_API_PATCH_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>

#include "schema/schema.h"
#include "util/util.h"

/* ---- schema helpers (fieldset.c) ---- */
/* Schema of member `name` of an object/map node; NULL when unknown or free-form. */
const schema_node_t *ps_child(const schema_node_t *n, const char *name);

typedef enum { PS_LIST_ATOMIC, PS_LIST_MAP, PS_LIST_SET } ps_list_kind_t;
/* How a list is merged. smp: strategic merge patch (patchStrategy only); otherwise the
 * server-side-apply view (x-kubernetes-list-type, falling back to patchStrategy). */
ps_list_kind_t ps_list_kind(const schema_node_t *n, bool smp);
/* True when the patch strategy string contains word (e.g. "merge" in "merge,retainKeys"). */
bool ps_strategy_has(const schema_node_t *n, const char *word);

/* ---- field sets (fieldset.c) ---- */
json_t *fs_new(void);
bool fs_empty(const json_t *s);
/* a ∪ b into a. */
void fs_union_into(json_t *a, const json_t *b);
/* New set a − b / a ∩ b. */
json_t *fs_diff(const json_t *a, const json_t *b);
json_t *fs_intersect(const json_t *a, const json_t *b);
/* Internal form <-> FieldsV1 (sorted like structured-merge-diff). New references. */
json_t *fs_to_v1(const json_t *s);
json_t *fs_from_v1(const json_t *v1);
/* Internal-form set of obj (see fieldset_from_object). */
json_t *fs_of_object(const json_t *obj, const schema_node_t *root, bool include_status);
/* Paths of new_set whose value in new_obj differs from old_obj (added or modified);
 * old_obj may be NULL (then everything is added). */
json_t *fs_changed(const json_t *new_set, const json_t *new_obj, const json_t *old_obj);
/* Removes from obj every path in set (an element / member in the set is removed whole). */
void fs_remove_paths(json_t *obj, const json_t *set);
/* Same, but a path of set under which keep has anything is not removed whole: only its
 * own listed descendants not in keep go (server-side apply pruning). keep may be NULL. */
void fs_prune(json_t *obj, const json_t *set, const json_t *keep);
/* Appends each leaf/self path as ".spec.tags[name=\"x\"].from" strings to arr. */
void fs_paths(const json_t *s, json_t *arr);

/* ---- managedFields entries (managed_fields.c) ---- */
/* Entry identity: manager + operation + subresource (NULL/"" = main resource). */
bool mf_entry_is(const json_t *e, const char *manager, const char *operation, const char *subresource);
/* New entry {manager, operation, apiVersion, time, fieldsType, fieldsV1[, subresource]}; set internal form. */
json_t *mf_entry_new(const char *manager, const char *operation, const char *api_version, const char *now,
                     const json_t *set, const char *subresource);
/* Deep copy of the entries to start from (new_obj's list if it has one, else old_obj's). */
json_t *mf_entries(const json_t *new_obj, const json_t *old_obj);
/* Sets obj.metadata.managedFields = entries (stolen); an empty list removes the key. */
void mf_store(json_t *obj, json_t *entries);

/* apply_last_applied.c: the client-side apply bridge */
bool la_manager(const char *manager);   /* only kubectl's own SSA manager name */
const char *la_text(const json_t *obj);  /* the annotation's text; NULL when absent or empty */
/* Fields client-side apply may hand over without a conflict (NULL: no usable annotation). */
json_t *la_allowed(const json_t *live, const char *api_version, const schema_node_t *root);
/* Keeps an existing last-applied annotation of res current with the applied config. */
void la_update(json_t *res, const json_t *applied);

#endif
