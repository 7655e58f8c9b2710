/* metadata.managedFields bookkeeping for non-apply writes (operation "Update"). */
#include "api/patch.h"
#include "api/patch_internal.h"

#include <string.h>

static bool str_eq(const char *a, const char *b)
{
    return (!a || !*a) ? (!b || !*b) : (b && !strcmp(a, b));
}

/* Whether entry e belongs to (manager, operation, subresource). */
bool mf_entry_is(const json_t *e, const char *manager, const char *operation, const char *subresource)
{
    return str_eq(json_string_value(json_object_get(e, "manager")), manager) &&
           str_eq(json_string_value(json_object_get(e, "operation")), operation) &&
           str_eq(json_string_value(json_object_get(e, "subresource")), subresource);
}

/* Builds one entry; set is in internal form. */
json_t *mf_entry_new(const char *manager, const char *operation, const char *api_version, const char *now,
                     const json_t *set, const char *subresource)
{
    json_t *e = json_object();
    json_object_set_new(e, "manager", json_string(manager));
    json_object_set_new(e, "operation", json_string(operation));
    json_object_set_new(e, "apiVersion", json_string(api_version));
    json_object_set_new(e, "time", json_string(now));
    json_object_set_new(e, "fieldsType", json_string("FieldsV1"));
    json_object_set_new(e, "fieldsV1", fs_to_v1(set));
    if (subresource && *subresource)
        json_object_set_new(e, "subresource", json_string(subresource));
    return e;
}

/* Entries to start from: new_obj's own list if it carries one, else old_obj's. New ref. */
json_t *mf_entries(const json_t *new_obj, const json_t *old_obj)
{
    json_t *l = json_object_get(json_object_get(new_obj, "metadata"), "managedFields");
    if (!json_is_array(l))
        l = json_object_get(json_object_get(old_obj, "metadata"), "managedFields");
    json_t *out = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(l, i, e)
        if (json_is_object(e))
            json_array_append_new(out, json_deep_copy(e));
    return out;
}

void mf_store(json_t *obj, json_t *entries)
{
    json_t *meta = json_object_get(obj, "metadata");
    if (!json_is_object(meta)) {
        meta = json_object();
        json_object_set_new(obj, "metadata", meta);
    }
    if (json_array_size(entries))
        json_object_set_new(meta, "managedFields", entries);
    else {
        json_decref(entries);
        json_object_del(meta, "managedFields");
    }
}

void managed_fields_update(json_t *new_obj, const json_t *old_obj, const char *manager, const char *api_version,
                           const char *subresource, const schema_node_t *root, const char *now)
{
    bool st = subresource && !strcmp(subresource, "status");
    json_t *new_set = fs_of_object(new_obj, root, st);
    json_t *chg = fs_changed(new_set, new_obj, old_obj);
    json_t *old_set = old_obj ? fs_of_object(old_obj, root, st) : fs_new();
    json_t *removed = fs_diff(old_set, new_set);
    json_t *entries = mf_entries(new_obj, old_obj);
    if (fs_empty(chg) && fs_empty(removed)) {
        /* nothing changed: keep the list (and its timestamps) as it was */
        mf_store(new_obj, entries);
        goto out;
    }
    json_t *touched = json_deep_copy(chg);
    fs_union_into(touched, removed);
    bool found = false;
    for (size_t i = 0; i < json_array_size(entries);) {
        json_t *e = json_array_get(entries, i);
        json_t *set = fs_from_v1(json_object_get(e, "fieldsV1"));
        bool was_empty = fs_empty(set);
        json_t *ns;
        bool mine = mf_entry_is(e, manager, "Update", subresource);
        if (mine) {
            fs_union_into(set, chg);
            ns = fs_diff(set, removed);
            found = true;
            json_object_set_new(e, "apiVersion", json_string(api_version));
            json_object_set_new(e, "time", json_string(now));
        } else {
            ns = fs_diff(set, touched);
        }
        json_decref(set);
        if (fs_empty(ns) && (mine || !was_empty)) {
            json_decref(ns);
            json_array_remove(entries, i);
            continue;
        }
        json_object_set_new(e, "fieldsV1", fs_to_v1(ns));
        json_decref(ns);
        i++;
    }
    if (!found) {
        json_t *mine = fs_diff(chg, removed);
        if (!fs_empty(mine))
            json_array_append_new(entries, mf_entry_new(manager, "Update", api_version, now, mine, subresource));
        json_decref(mine);
    }
    mf_store(new_obj, entries);
    json_decref(touched);
out:
    json_decref(new_set);
    json_decref(chg);
    json_decref(old_set);
    json_decref(removed);
}
