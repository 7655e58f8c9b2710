/* Strategic merge patch (k8s.io/apimachinery strategicpatch semantics) driven by the
 * schema's patchStrategy / patchMergeKey. Members the schema does not describe behave
 * like JSON merge patch. */
#include "api/patch.h"
#include "api/patch_internal.h"

#include <stdlib.h>
#include <string.h>

#define DIR_PATCH "$patch"
#define DIR_RETAIN "$retainKeys"
#define PFX_ORDER "$setElementOrder/"
#define PFX_DELETE "$deleteFromPrimitiveList/"

static json_t *sm_map(const json_t *orig, const json_t *patch, const schema_node_t *n, bool *deleted, apierr_t *err);

static int bad(apierr_t *err, const char *what, const json_t *v)
{
    char *j = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    apierr_set(err, APIERR_BAD_REQUEST, "%s%s%s", what, j ? ": " : "", j ? j : "");
    free(j);
    return -1;
}

/* Position of e in list; keyed lists compare the merge key only. */
static ssize_t index_in(const json_t *list, const json_t *e, const char *mk)
{
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x) {
        if (mk ? (json_is_object(x) && json_is_object(e) && json_equal(json_object_get(x, mk), json_object_get(e, mk)))
               : json_equal(x, e))
            return (ssize_t)i;
    }
    return -1;
}

typedef struct {
    json_t *v;
    ssize_t pos;
    size_t seq;
} ord_item_t;

static int ord_cmp(const void *a, const void *b)
{
    const ord_item_t *x = a, *y = b;
    /* items missing from the order go last, keeping their relative order */
    size_t px = x->pos < 0 ? (size_t)-1 : (size_t)x->pos, py = y->pos < 0 ? (size_t)-1 : (size_t)y->pos;
    if (px != py)
        return px < py ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* $setElementOrder: items named in order are sorted by it; the others (server-only) keep
 * their live order and are interleaved by live position (normalizeElementOrder). */
static json_t *reorder(const json_t *list, const json_t *order, const json_t *server, const char *mk)
{
    size_t n = json_array_size(list), np = 0, ns = 0;
    ord_item_t *pi = xcalloc(n + 1, sizeof(*pi)), *si = xcalloc(n + 1, sizeof(*si));
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e) {
        ssize_t p = index_in(order, e, mk);
        if (p >= 0)
            pi[np++] = (ord_item_t){e, p, i};
        else
            si[ns++] = (ord_item_t){e, server ? index_in(server, e, mk) : -1, i};
    }
    qsort(pi, np, sizeof(*pi), ord_cmp);
    qsort(si, ns, sizeof(*si), ord_cmp);
    json_t *out = json_array();
    size_t a = 0, b = 0;
    while (a < ns || b < np) {
        bool take_left;
        if (a >= ns)
            take_left = false;
        else if (b >= np)
            take_left = true;
        else {
            ssize_t li = si[a].pos, ri = server ? index_in(server, pi[b].v, mk) : -1;
            take_left = li >= 0 && ri >= 0 && li < ri;
        }
        json_array_append(out, take_left ? si[a++].v : pi[b++].v);
    }
    free(pi);
    free(si);
    return out;
}

static const char *directive_of(const json_t *e)
{
    return json_is_object(e) ? json_string_value(json_object_get(e, DIR_PATCH)) : NULL;
}

/* Merges patch list pv into orig (may be NULL) for a list with merge semantics. */
static json_t *sm_list(const json_t *orig, const json_t *pv, const schema_node_t *n, ps_list_kind_t kind,
                       const json_t *order, apierr_t *err)
{
    bool replace = false;
    size_t i;
    json_t *e;
    json_array_foreach(pv, i, e) {
        json_t *d = json_is_object(e) ? json_object_get(e, DIR_PATCH) : NULL;
        if (d && !json_is_string(d)) {
            bad(err, "invalid $patch directive", d);
            return NULL;
        }
        const char *ds = json_string_value(d);
        if (ds && strcmp(ds, "replace") && strcmp(ds, "delete") && strcmp(ds, "merge")) {
            apierr_set(err, APIERR_BAD_REQUEST, "unknown patch type: %s in list", ds);
            return NULL;
        }
        if (ds && !strcmp(ds, "replace"))
            replace = true;
    }
    json_t *res = (!replace && json_is_array(orig)) ? json_deep_copy(orig) : json_array();
    const char *mk = kind == PS_LIST_MAP ? n->merge_key : NULL;
    json_array_foreach(pv, i, e) {
        const char *ds = directive_of(e);
        if (ds && !strcmp(ds, "replace"))
            continue;
        if (kind == PS_LIST_SET) {
            if (json_is_object(e) || json_is_array(e)) {
                bad(err, "invalid element in a primitive list", e);
                goto fail;
            }
            if (index_in(res, e, NULL) < 0)
                json_array_append_new(res, json_deep_copy(e));
            continue;
        }
        if (!json_is_object(e)) {
            bad(err, "list element is not a map", e);
            goto fail;
        }
        json_t *key = json_object_get(e, mk);
        if (!key) {
            char *j = json_dumps(e, JSON_COMPACT);
            apierr_set(err, APIERR_BAD_REQUEST, "map: %s does not contain declared merge key: %s", j, mk);
            free(j);
            goto fail;
        }
        if (ds && !strcmp(ds, "delete")) {
            ssize_t at;
            while ((at = index_in(res, e, mk)) >= 0)
                json_array_remove(res, (size_t)at);
            continue;
        }
        ssize_t at = index_in(res, e, mk);
        bool deleted = false;
        json_t *nv = sm_map(at >= 0 ? json_array_get(res, (size_t)at) : NULL, e, n->items, &deleted, err);
        if (!nv && !deleted)
            goto fail;
        if (at >= 0)
            json_array_set_new(res, (size_t)at, nv);
        else
            json_array_append_new(res, nv);
    }
    if (order) {
        if (!json_is_array(order)) {
            bad(err, "invalid $setElementOrder list", order);
            goto fail;
        }
        json_t *o = reorder(res, order, json_is_array(orig) ? orig : NULL, mk);
        json_decref(res);
        res = o;
    }
    return res;
fail:
    json_decref(res);
    return NULL;
}

/* New value for a member: ov is the current value (or NULL), pv the patch value. */
static json_t *sm_value(const json_t *ov, const json_t *pv, const schema_node_t *n, const json_t *order,
                        bool *deleted, apierr_t *err)
{
    bool repl = ps_strategy_has(n, "replace");
    if (json_is_object(pv))
        return sm_map(repl || !json_is_object(ov) ? NULL : ov, pv, n, deleted, err);
    if (json_is_array(pv)) {
        ps_list_kind_t kind = ps_list_kind(n, true);
        if (!repl && kind != PS_LIST_ATOMIC)
            return sm_list(json_is_array(ov) ? ov : NULL, pv, n, kind, order, err);
    }
    return json_deep_copy(pv);
}

static bool is_directive_key(const char *k)
{
    return !strcmp(k, DIR_PATCH) || !strcmp(k, DIR_RETAIN) || str_has_prefix(k, PFX_ORDER) ||
           str_has_prefix(k, PFX_DELETE);
}

/* Merges patch map into orig (may be NULL). NULL with *deleted for "$patch": "delete". */
static json_t *sm_map(const json_t *orig, const json_t *patch, const schema_node_t *n, bool *deleted, apierr_t *err)
{
    json_t *d = json_object_get(patch, DIR_PATCH);
    *deleted = false;
    if (d) {
        const char *ds = json_string_value(d);
        if (!ds || (strcmp(ds, "replace") && strcmp(ds, "delete") && strcmp(ds, "merge"))) {
            char *j = json_dumps(patch, JSON_COMPACT);
            apierr_set(err, APIERR_BAD_REQUEST, "unknown patch type: %s in map: %s", ds ? ds : "(non-string)", j);
            free(j);
            return NULL;
        }
        if (!strcmp(ds, "delete")) {
            *deleted = true;
            return NULL;
        }
        if (!strcmp(ds, "replace"))
            orig = NULL;
    }
    json_t *res = json_is_object(orig) ? json_deep_copy(orig) : json_object();
    const char *k;
    json_t *pv;
    json_t *rk = json_object_get(patch, DIR_RETAIN);
    if (rk) {
        if (!json_is_array(rk)) {
            bad(err, "invalid $retainKeys list", rk);
            goto fail;
        }
        void *tmp;
        json_object_foreach_safe(res, tmp, k, pv) {
            size_t i;
            json_t *x;
            bool keep = false;
            json_array_foreach(rk, i, x)
                if (json_is_string(x) && !strcmp(json_string_value(x), k))
                    keep = true;
            if (!keep)
                json_object_del(res, k);
        }
    }
    json_object_foreach((json_t *)patch, k, pv) {
        if (!str_has_prefix(k, PFX_DELETE))
            continue;
        json_t *cur = json_object_get(res, k + strlen(PFX_DELETE));
        if (!json_is_array(pv)) {
            bad(err, "invalid $deleteFromPrimitiveList list", pv);
            goto fail;
        }
        if (!json_is_array(cur))
            continue;
        size_t i;
        json_t *x;
        json_array_foreach(pv, i, x) {
            ssize_t at;
            while ((at = index_in(cur, x, NULL)) >= 0)
                json_array_remove(cur, (size_t)at);
        }
    }
    json_object_foreach((json_t *)patch, k, pv) {
        if (k[0] == '$') {
            if (!is_directive_key(k)) {
                apierr_set(err, APIERR_BAD_REQUEST, "unknown directive %s in patch", k);
                goto fail;
            }
            continue;
        }
        if (json_is_null(pv)) {
            json_object_del(res, k);
            continue;
        }
        char *ok = xasprintf(PFX_ORDER "%s", k);
        json_t *order = json_object_get(patch, ok);
        free(ok);
        bool del = false;
        json_t *nv = sm_value(json_object_get(res, k), pv, ps_child(n, k), order, &del, err);
        if (del)
            json_object_del(res, k);
        else if (!nv)
            goto fail;
        else
            json_object_set_new(res, k, nv);
    }
    /* $setElementOrder for lists the patch does not otherwise touch */
    json_object_foreach((json_t *)patch, k, pv) {
        if (!str_has_prefix(k, PFX_ORDER))
            continue;
        const char *field = k + strlen(PFX_ORDER);
        json_t *cur = json_object_get(res, field);
        if (json_object_get(patch, field) || !json_is_array(cur))
            continue;
        const schema_node_t *cn = ps_child(n, field);
        ps_list_kind_t kind = ps_list_kind(cn, true);
        if (kind == PS_LIST_ATOMIC)
            continue;
        json_t *empty = json_array();
        json_t *nv = sm_list(cur, empty, cn, kind, pv, err);
        json_decref(empty);
        if (!nv)
            goto fail;
        json_object_set_new(res, field, nv);
    }
    return res;
fail:
    json_decref(res);
    return NULL;
}

json_t *patch_strategic(const json_t *target, const json_t *patch, const schema_node_t *root, apierr_t *err)
{
    if (!json_is_object(patch)) {
        apierr_set(err, APIERR_BAD_REQUEST, "strategic merge patch must be a JSON object");
        return NULL;
    }
    bool deleted = false;
    json_t *res = sm_map(json_is_object(target) ? target : NULL, patch, root, &deleted, err);
    if (deleted)
        return json_object();
    return res;
}
