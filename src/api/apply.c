/* Server-side apply: merge the applier's intent into the live object, detect conflicts
 * with other managers, prune what the applier dropped, record its Apply entry; and, for
 * the manager "kubectl", kube-apiserver's bridge to client-side apply (the
 * last-applied-configuration annotation). */
#include "api/patch.h"
#include "api/patch_internal.h"

#include <stdlib.h>
#include <string.h>

static bool granular_obj(const schema_node_t *n)
{
    return !n || n->type == ST_OBJECT || n->type == ST_MAP;
}

static ssize_t find_keyed(const json_t *arr, const char *mk, const json_t *key)
{
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
        if (json_is_object(e) && json_equal(json_object_get(e, mk), key))
            return (ssize_t)i;
    return -1;
}

static bool contains(const json_t *arr, const json_t *v)
{
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
        if (json_equal(e, v))
            return true;
    return false;
}

/* dst (live copy) <- src (applied config), in place. */
static void am_merge(json_t *dst, const json_t *src, const schema_node_t *n)
{
    const char *k;
    json_t *sv;
    json_object_foreach((json_t *)src, k, sv) {
        const schema_node_t *cn = ps_child(n, k);
        json_t *dv = json_object_get(dst, k);
        if (json_is_null(sv)) {
            json_object_del(dst, k);
            continue;
        }
        if (json_is_object(sv) && json_is_object(dv) && granular_obj(cn)) {
            am_merge(dv, sv, cn);
            continue;
        }
        ps_list_kind_t kind = ps_list_kind(cn, false);
        if (json_is_array(sv) && json_is_array(dv) && kind != PS_LIST_ATOMIC) {
            size_t i;
            json_t *se;
            json_array_foreach(sv, i, se) {
                if (kind == PS_LIST_SET) {
                    if (!contains(dv, se))
                        json_array_append_new(dv, json_deep_copy(se));
                    continue;
                }
                ssize_t at = json_is_object(se) ? find_keyed(dv, cn->merge_key, json_object_get(se, cn->merge_key)) : -1;
                if (at >= 0)
                    am_merge(json_array_get(dv, (size_t)at), se, cn->items);
                else
                    json_array_append_new(dv, json_deep_copy(se));
            }
            continue;
        }
        json_object_set_new(dst, k, json_deep_copy(sv));
    }
}

/* "\"m\" with subresource \"status\" using v" as kube-apiserver prints managers. */
static char *print_manager(const json_t *e)
{
    buf_t b;
    buf_init(&b);
    const char *m = json_string_value(json_object_get(e, "manager"));
    const char *sub = json_string_value(json_object_get(e, "subresource"));
    const char *op = json_string_value(json_object_get(e, "operation"));
    const char *av = json_string_value(json_object_get(e, "apiVersion"));
    buf_json_str(&b, m ? m : "", m ? strlen(m) : 0);
    if (sub && *sub) {
        buf_puts(&b, " with subresource ");
        buf_json_str(&b, sub, strlen(sub));
    }
    if (op && !strcmp(op, "Update"))
        buf_printf(&b, " using %s", av ? av : "");
    return buf_steal(&b);
}

typedef struct {
    char *manager;  /* printed form */
    char *path;
    size_t ord;     /* discovery order, to keep qsort stable */
} conflict_t;

static int conflict_cmp(const void *a, const void *b)
{
    const conflict_t *x = a, *y = b;
    int c = strcmp(x->manager, y->manager);
    return c ? c : (x->ord > y->ord) - (x->ord < y->ord);
}

static void conflict_error(conflict_t *c, size_t n, apierr_t *err)
{
    json_t *causes = json_array();
    for (size_t i = 0; i < n; i++) {
        char *msg = xasprintf("conflict with %s", c[i].manager);
        json_array_append_new(causes, json_pack("{s:s, s:s, s:s}", "reason", "FieldManagerConflict",
                                                "message", msg, "field", c[i].path));
        free(msg);
    }
    json_t *details = json_pack("{s:o}", "causes", causes);
    if (n == 1) {
        apierr_set_details(err, APIERR_CONFLICT, details, "Apply failed with 1 conflict: conflict with %s: %s",
                           c[0].manager, c[0].path);
        return;
    }
    qsort(c, n, sizeof(*c), conflict_cmp);
    buf_t b;
    buf_init(&b);
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || strcmp(c[i].manager, c[i - 1].manager))
            buf_printf(&b, "%sconflicts with %s:", i ? "\n" : "", c[i].manager);
        buf_printf(&b, "\n- %s", c[i].path);
    }
    apierr_set_details(err, APIERR_CONFLICT, details, "Apply failed with %zu conflicts: %s", n, b.data);
    buf_free(&b);
}

/* The applied config as it takes part in apply: no status, no managedFields. */
static json_t *applied_view(const json_t *applied)
{
    json_t *cfg = json_deep_copy(applied);
    json_object_del(cfg, "status");
    json_t *meta = json_object_get(cfg, "metadata");
    if (json_is_object(meta))
        json_object_del(meta, "managedFields");
    return cfg;
}

json_t *patch_apply(const json_t *live, const json_t *applied, const char *manager, bool force,
                    const char *api_version, const schema_node_t *root, const char *now, apierr_t *err)
{
    if (!json_is_object(applied)) {
        apierr_set(err, APIERR_BAD_REQUEST, "apply patch must be an object");
        return NULL;
    }
    json_t *cfg = applied_view(applied);
    json_t *A = fs_of_object(cfg, root, false);
    json_t *res = NULL, *entries = NULL, *C = NULL, *merged_set = NULL, *others = NULL, *prev = NULL,
           *allowed = NULL;
    conflict_t *conf = NULL;
    size_t nconf = 0, capconf = 0;

    if (!json_is_object(live)) {
        res = json_deep_copy(cfg);
        entries = json_array();
        if (!fs_empty(A))
            json_array_append_new(entries, mf_entry_new(manager, "Apply", api_version, now, A, NULL));
        mf_store(res, entries);
        goto done;
    }

    res = json_deep_copy(live);
    am_merge(res, cfg, root);
    merged_set = fs_of_object(res, root, false);
    C = fs_changed(merged_set, res, live);
    entries = mf_entries(live, NULL);
    /* kubectl switching from client-side apply: what still has the annotation's value is
     * taken over, not a conflict (kube forces the apply when nothing else conflicts) */
    if (!force && la_manager(manager))
        allowed = la_allowed(live, api_version, root);

    /* conflicts: fields this apply changes that another manager owns */
    json_t **inter = xcalloc(json_array_size(entries) + 1, sizeof(json_t *));
    size_t i;
    json_t *e;
    json_array_foreach(entries, i, e) {
        if (mf_entry_is(e, manager, "Apply", NULL))
            continue;
        json_t *set = fs_from_v1(json_object_get(e, "fieldsV1"));
        json_t *x = fs_intersect(set, C);
        json_decref(set);
        if (fs_empty(x)) {
            json_decref(x);
            continue;
        }
        inter[i] = x;
        json_t *report = allowed ? fs_diff(x, allowed) : json_incref(x);
        json_t *paths = json_array();
        fs_paths(report, paths);
        json_decref(report);
        char *pm = print_manager(e);
        size_t j;
        json_t *p;
        json_array_foreach(paths, j, p) {
            if (nconf == capconf) {
                capconf = capconf ? capconf * 2 : 8;
                conf = xrealloc(conf, capconf * sizeof(*conf));
            }
            conf[nconf].manager = xstrdup(pm);
            conf[nconf].path = xstrdup(json_string_value(p));
            conf[nconf].ord = nconf;
            nconf++;
        }
        free(pm);
        json_decref(paths);
    }
    if (nconf && !force) {
        conflict_error(conf, nconf, err);
        for (i = 0; i < json_array_size(entries); i++)
            json_decref(inter[i]);
        free(inter);
        json_decref(res);
        res = NULL;
        goto out;
    }
    /* force (or only allowed conflicts): the applier takes the conflicting fields over */
    others = fs_new();
    size_t n = json_array_size(entries);
    for (size_t k = 0, w = 0; k < n; k++) {
        json_t *x = inter[k];
        e = json_array_get(entries, w);
        if (mf_entry_is(e, manager, "Apply", NULL)) {
            prev = fs_from_v1(json_object_get(e, "fieldsV1"));
            w++;
            continue;
        }
        json_t *set = fs_from_v1(json_object_get(e, "fieldsV1"));
        if (x) {
            json_t *ns = fs_diff(set, x);
            json_decref(set);
            set = ns;
            json_decref(x);
            if (fs_empty(set)) {
                json_decref(set);
                json_array_remove(entries, w);
                continue;
            }
            json_object_set_new(e, "fieldsV1", fs_to_v1(set));
        }
        fs_union_into(others, set);
        json_decref(set);
        w++;
    }
    free(inter);

    /* prune: fields applied before, dropped now, owned by nobody else */
    if (prev) {
        json_t *dropped = fs_diff(prev, A);
        fs_prune(res, dropped, others);
        json_decref(dropped);
    }

    bool found = false;
    for (i = 0; i < json_array_size(entries); i++) {
        e = json_array_get(entries, i);
        if (!mf_entry_is(e, manager, "Apply", NULL))
            continue;
        found = true;
        if (fs_empty(A)) {
            json_array_remove(entries, i);
            break;
        }
        json_array_set_new(entries, i, mf_entry_new(manager, "Apply", api_version, now, A, NULL));
        break;
    }
    if (!found && !fs_empty(A))
        json_array_append_new(entries, mf_entry_new(manager, "Apply", api_version, now, A, NULL));
    mf_store(res, entries);
    entries = NULL;

done:
    if (la_manager(manager) && la_text(res))
        la_update(res, applied);
out:
    for (size_t k = 0; k < nconf; k++) {
        free(conf[k].manager);
        free(conf[k].path);
    }
    free(conf);
    json_decref(cfg);
    json_decref(A);
    json_decref(C);
    json_decref(merged_set);
    json_decref(others);
    json_decref(prev);
    json_decref(allowed);
    if (!res)
        json_decref(entries);
    return res;
}
