/* verbs_virtual: the HTTP verbs of kinds that are not stored (their handlers read and
 * write stored kinds through the object API), and subresources served by a handler.
 * Runs on the pool: handlers may block on the store. */
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"

/* Field selector values of a decoded object, one per kind field label, as the cache
 * keeps them for stored kinds. */
typedef struct json_fields {
    const char *const *labels;
    char **vals;
} json_fields_t;

static const char *json_field_get(void *arg, const char *label)
{
    json_fields_t *f = arg;
    for (size_t i = 0; f->labels && f->labels[i]; i++)
        if (strcmp(f->labels[i], label) == 0)
            return f->vals[i];
    return "";
}

static bool json_matches(const kind_def_t *k, label_selector_t *ls, field_selector_t *fs, const json_t *obj)
{
    if (ls && !label_selector_match(ls, json_object_get(json_object_get(obj, "metadata"), "labels")))
        return false;
    if (!fs)
        return true;
    size_t n = 0;
    while (k->field_labels && k->field_labels[n])
        n++;
    json_fields_t f = {k->field_labels, xcalloc(n + 1, sizeof(char *))};
    for (size_t i = 0; i < n; i++)
        f.vals[i] = kind_field_value(obj, k->field_labels[i]);
    bool ok = field_selector_match(fs, json_field_get, &f);
    for (size_t i = 0; i < n; i++)
        free(f.vals[i]);
    free(f.vals);
    return ok;
}

static void virtual_get(api_req_t *r)
{
    bool memo = get_memo_eligible(r);
    /* on the embedded store the router already tried the memo on the event loop */
    if (memo && r->api->barrier && get_memo_serve(r, true))
        return;
    json_t *obj = r->kind->virt->get(&r->call, r->ns, r->name);
    if (!obj) {
        api_respond_error(r);
    } else if (memo) {
        char *s = json_dumps(obj, JSON_COMPACT);
        size_t len = strlen(s);
        get_memo_keep(r, obj, s, len);
        json_decref(obj);
        api_respond_owned(r, 200, s, len);
    } else {
        respond_obj(r, 200, obj);
    }
}

/* A derived kind's items: every source object of the namespace, expanded. */
typedef struct expand_acc {
    api_call_t *c;
    const api_virtual_ops_t *v;
    json_t *items;
} expand_acc_t;

static int expand_one(void *arg, const json_t *obj)
{
    expand_acc_t *a = arg;
    json_t *more = a->v->expand(a->c, obj);
    if (!json_is_array(more)) {
        /* as the watch does: that source object yields no items (and fails no list) */
        apierr_t *e = api_call_err(a->c);
        log_warn("list: %s/%s yields no items: %s", json_string_value(json_object_get(json_object_get(obj, "metadata"),
                 "namespace")) ?: "", json_string_value(json_object_get(json_object_get(obj, "metadata"), "name")) ?: "",
                 e->message ? e->message : "expand failed");
        apierr_clear(e);
    }
    json_array_extend(a->items, more);
    json_decref(more);
    return 0;
}

static json_t *expanded_list(api_req_t *r, int64_t *rev)
{
    expand_acc_t acc = {&r->call, r->kind->virt, json_array()};
    if (api_obj_list_at(&r->call, kind_source(r->kind), r->ns, expand_one, &acc, rev) != 0) {
        json_decref(acc.items);
        return NULL;
    }
    return acc.items;
}

/* The whole list (virtual kinds do not page: limit is served in full, no continue token,
 * as Kubernetes allows for a server that does not chunk). */
static void virtual_list(api_req_t *r)
{
    label_selector_t *ls = NULL;
    field_selector_t *fs = NULL;
    json_t *all = NULL, *items = json_array();
    if (selectors_parse(r, NULL, &ls, &fs) != 0)
        goto fail;
    int64_t list_rev = 0;
    if (r->kind->virt->list) {
        all = r->kind->virt->list(&r->call, r->ns);
        list_rev = kinds_cache_rev(r->api);
    } else {
        all = expanded_list(r, &list_rev);
    }
    if (!all)
        goto fail;
    size_t i;
    json_t *it;
    json_array_foreach(all, i, it) {
        if (json_matches(r->kind, ls, fs, it))
            json_array_append(items, it);
    }
    char rv[24];
    snprintf(rv, sizeof rv, "%lld", (long long)list_rev);
    json_t *out;
    if (r->accept == ACCEPT_TABLE) {
        json_t *rows = json_array();
        int64_t now = time(NULL);
        json_array_foreach(items, i, it)
            json_array_append_new(rows, table_row_from_json(r->kind, it, r->opt.include_object, now));
        out = json_pack("{s:s, s:s, s:{s:s}, s:o, s:o}", "kind", "Table", "apiVersion", "meta.k8s.io/v1", "metadata",
                        "resourceVersion", rv, "columnDefinitions", table_columns_json(r->kind), "rows", rows);
    } else {
        out = json_pack("{s:s, s:s, s:{s:s}, s:O}", "kind", r->kind->list_kind, "apiVersion", r->kind->api_version, "metadata",
                        "resourceVersion", rv, "items", items);
    }
    api_respond_json(r, 200, out);
    goto out;
fail:
    api_respond_error(r);
out:
    json_decref(all);
    json_decref(items);
    label_selector_free(ls);
    field_selector_free(fs);
}

void verb_virtual(http_req_t *h, void *arg)
{
    api_req_t *r = arg;
    const char *v = r->verb;
    if (r->sub) {
        verb_subresource_get(h, r);
        return;
    }
    if (strcmp(v, "create") == 0) {
        verb_create(h, r);
        return;
    }
    if (strcmp(v, "update") == 0) {
        verb_update(h, r);
        return;
    }
    if (strcmp(v, "patch") == 0) {
        verb_patch(h, r);
        return;
    }
    if (strcmp(v, "delete") == 0) {
        verb_delete(h, r);
        return;
    }
    if (strcmp(v, "get") == 0) {
        virtual_get(r);
    } else if (strcmp(v, "list") == 0) {
        virtual_list(r);
    } else {
        /* the router admits only the kind's verbs; a verb without a handler is not served */
        apierr_set(&r->call.err, APIERR_METHOD_NOT_ALLOWED,
                   "the server does not allow this method on the requested resource");
        api_respond_error(r);
    }
    api_req_free(r);
}

void verb_subresource_get(http_req_t *h, void *arg)
{
    api_req_t *r = arg;
    json_t *obj = r->sub->get(&r->call, r->ns, r->name);
    if (obj)
        api_respond_json(r, 200, obj);
    else
        api_respond_error(r);
    api_req_free(r);
}
