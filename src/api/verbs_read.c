/* verbs_read: get and list, served from the watch cache (continue pages and exact
 * past revisions from the store's revision log). */
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"

static const char *field_get(void *arg, const char *label) { return extra_field(arg, label); }

char *collection_prefix(const api_req_t *r)
{
    return r->ns ? xasprintf("%s%s/", r->kind->prefix, r->ns) : xstrdup(r->kind->prefix);
}

int selectors_parse(api_req_t *r, const char *field_sel, label_selector_t **ls, field_selector_t **fs)
{
    *fs = NULL;
    *ls = label_selector_parse(r->opt.label_selector, &r->call.err);
    if (*ls)
        *fs = field_selector_parse(field_sel ? field_sel : r->opt.field_selector, r->kind->field_labels, &r->call.err);
    if (*ls && *fs)
        return 0;
    label_selector_free(*ls);
    *ls = NULL;
    return -1;
}

bool obj_matches(api_req_t *r, label_selector_t *ls, field_selector_t *fs, cache_obj_t *o)
{
    obj_extra_t *x = o->extra;
    if (ls && !label_selector_match(ls, x->labels))
        return false;
    if (fs && !field_selector_match(fs, field_get, x))
        return false;
    return true;
}

static void respond_one(api_req_t *r, cache_obj_t *o)
{
    obj_extra_t *x = o->extra;
    if (r->accept == ACCEPT_TABLE) {
        char rv[24];
        snprintf(rv, sizeof rv, "%lld", (long long)o->mod_rev);
        json_t *t = json_pack("{s:s, s:s, s:{s:s}, s:o, s:[o]}", "kind", "Table", "apiVersion", "meta.k8s.io/v1",
                              "metadata", "resourceVersion", rv, "columnDefinitions", table_columns_json(r->kind),
                              "rows", table_row(r->kind, o, r->opt.include_object, time(NULL)));
        api_respond_json(r, 200, t);
    } else if (r->accept == ACCEPT_PARTIAL || r->accept == ACCEPT_PARTIAL_LIST) {
        api_respond_json(r, 200, partial_object(x));
    } else {
        api_respond_bytes(r, 200, o->json, o->json_len);
    }
}

void verb_get(api_req_t *r)
{
    char *key = kind_key(r->kind, r->ns, r->name);
    if (r->sub) {
        /* The status subresource shows the stored object, not the decorated one (§3.7):
         * read from the store, on the pool (the router deferred it). */
        int64_t rev = 0;
        json_t *out = object_load(&r->call, r->kind, r->ns, r->name, &rev);
        if (out)
            api_respond_json(r, 200, out);
        else
            api_respond_error(r);
        goto out;
    }
    /* without a resourceVersion the router ran api_after_consistent_read first; "0" (any)
     * is served from the cache as it is; N (not older than N) waits for the cache to reach
     * N (etcd: on the pool) */
    if (r->opt.rv_set && r->opt.rv != 0) {
        if (api_wait_rev(&r->call, r->kind->cache, r->opt.rv) != 0) {
            api_respond_error(r);
            goto out;
        }
    }
    cache_obj_t *o = cache_get(r->kind->cache, key);
    if (!o) {
        apierr_not_found(&r->call.err, r->kind->resource, r->kind->schema->group, r->name);
        api_respond_error(r);
        goto out;
    }
    respond_one(r, o);
    cache_obj_unref(o);
out:
    free(key);
    api_req_free(r);
}

/* ---- list ---- */

typedef struct list_acc {
    api_req_t *r;
    label_selector_t *ls;
    field_selector_t *fs;
    cache_obj_t **items;
    size_t n, cap;
    size_t limit;          /* 0 = all */
    bool more;
} list_acc_t;

static void acc_push(list_acc_t *acc, cache_obj_t *o)
{
    if (acc->n == acc->cap) {
        acc->cap = acc->cap ? acc->cap * 2 : 64;
        acc->items = xrealloc(acc->items, acc->cap * sizeof *acc->items);
    }
    acc->items[acc->n++] = o;
}

static int acc_visit(void *arg, cache_obj_t *o)
{
    list_acc_t *acc = arg;
    if (!obj_matches(acc->r, acc->ls, acc->fs, o))
        return 0;
    if (acc->limit && acc->n >= acc->limit) {
        acc->more = true;
        return 1;
    }
    acc_push(acc, cache_obj_ref(o));
    return 0;
}

static cache_obj_t *build_owned(kind_def_t *k, const store_kv_t *kv)
{
    cache_obj_t *o = kind_build_obj(k, kv->key, kv->value, kv->value_len, kv->create_rev, kv->mod_rev);
    if (o)
        atomic_store(&o->refs, 1);
    return o;
}

/* Reads a page at a past revision from the store, filtering as it goes. from_key is where
 * reading starts; if exclusive, that key itself (the last one of the previous page) is skipped. */
static int list_from_store(list_acc_t *acc, const char *prefix, const char *from_key, bool exclusive, int64_t rev)
{
    api_req_t *r = acc->r;
    char *cursor = xstrdup(from_key);
    char *skip = exclusive ? xstrdup(from_key) : NULL;
    int rc;
    for (;;) {
        store_kv_t *kvs = NULL;
        size_t n = 0;
        bool more = false, stop = false;
        int64_t at = 0;
        rc = store_range(r->api->store, prefix, cursor, rev, acc->limit ? acc->limit + 2 : 0, &kvs, &n, &at, &more);
        if (rc != STORE_OK)
            break;
        for (size_t i = 0; i < n && !stop; i++) {
            if (skip && strcmp(kvs[i].key, skip) == 0)
                continue;
            cache_obj_t *o = build_owned(r->kind, &kvs[i]);
            if (o) {
                stop = acc_visit(acc, o) == 1;
                cache_obj_unref(o);
            }
        }
        if (stop || !more || n == 0) {
            store_kvs_free(kvs, n);
            break;
        }
        free(cursor);
        free(skip);
        cursor = xstrdup(kvs[n - 1].key);
        skip = xstrdup(cursor);
        store_kvs_free(kvs, n);
    }
    free(cursor);
    free(skip);
    return rc;
}

static void list_fail_store(api_req_t *r, int rc)
{
    if (rc == STORE_COMPACTED && !r->opt.continue_token)
        apierr_set(&r->call.err, APIERR_EXPIRED, "The resourceVersion for the provided list is too old.");
    else if (rc == STORE_COMPACTED)
        apierr_set(&r->call.err, APIERR_EXPIRED,
                   "The provided continue parameter is too old to display a consistent list result. You can start a "
                   "new list without the continue parameter, or use the continue token in this response to retrieve "
                   "the remainder of the results. Continuing with the provided token results in an inconsistent list "
                   "- objects that were created, modified, or deleted between the time the first chunk was returned "
                   "and now may show up in the list.");
    else
        api_store_err(&r->call.err, r->kind, rc, NULL);
}

static void write_list(api_req_t *r, list_acc_t *acc, int64_t rev, const char *cont)
{
    char rv[24];
    snprintf(rv, sizeof rv, "%lld", (long long)rev);
    if (r->accept == ACCEPT_TABLE) {
        json_t *rows = json_array();
        int64_t now = time(NULL);
        for (size_t i = 0; i < acc->n; i++)
            json_array_append_new(rows, table_row(r->kind, acc->items[i], r->opt.include_object, now));
        json_t *t = json_pack("{s:s, s:s, s:{s:s}, s:o, s:o}", "kind", "Table", "apiVersion", "meta.k8s.io/v1",
                              "metadata", "resourceVersion", rv, "columnDefinitions", table_columns_json(r->kind),
                              "rows", rows);
        if (cont)
            json_object_set_new(json_object_get(t, "metadata"), "continue", json_string(cont));
        api_respond_json(r, 200, t);
        return;
    }
    if (r->accept == ACCEPT_PARTIAL || r->accept == ACCEPT_PARTIAL_LIST) {
        json_t *items = json_array();
        for (size_t i = 0; i < acc->n; i++)
            json_array_append_new(items, partial_object(acc->items[i]->extra));
        json_t *l = json_pack("{s:s, s:s, s:{s:s}, s:o}", "kind", "PartialObjectMetadataList", "apiVersion",
                              "meta.k8s.io/v1", "metadata", "resourceVersion", rv, "items", items);
        if (cont)
            json_object_set_new(json_object_get(l, "metadata"), "continue", json_string(cont));
        api_respond_json(r, 200, l);
        return;
    }
    /* JSON: envelope + cached item bytes, no re-encoding. */
    buf_t b;
    buf_init(&b);
    size_t total = 128;
    for (size_t i = 0; i < acc->n; i++)
        total += acc->items[i]->json_len + 1;
    buf_reserve(&b, total);
    buf_printf(&b, "{\"kind\":\"%s\",\"apiVersion\":\"%s\",\"metadata\":{\"resourceVersion\":\"%s\"", r->kind->list_kind,
               r->kind->api_version, rv);
    if (cont) {
        buf_puts(&b, ",\"continue\":");
        buf_json_str(&b, cont, strlen(cont));
    }
    buf_puts(&b, "},\"items\":[");
    for (size_t i = 0; i < acc->n; i++) {
        if (i)
            buf_putc(&b, ',');
        buf_append(&b, acc->items[i]->json, acc->items[i]->json_len);
    }
    buf_puts(&b, "]}");
    size_t n = b.len;
    api_respond_owned(r, 200, buf_steal(&b), n);
}

void verb_list(http_req_t *h, void *arg)
{
    api_req_t *r = arg;
    list_acc_t acc = {.r = r};
    char *prefix = collection_prefix(r);
    char *start = NULL, *from_key = NULL, *cont = NULL;
    if (selectors_parse(r, NULL, &acc.ls, &acc.fs) != 0)
        goto fail;
    acc.limit = r->opt.limit > 0 ? (size_t)r->opt.limit : 0;
    int64_t rev = 0;
    if (r->opt.continue_token) {
        if (continue_token_decode(r->opt.continue_token, &rev, &start, &r->call.err) != 0)
            goto fail;
        from_key = xasprintf("%s%s", r->kind->prefix, start);
        if (strncmp(from_key, prefix, strlen(prefix)) != 0) {
            apierr_set(&r->call.err, APIERR_BAD_REQUEST, "continue key is not valid for this list");
            goto fail;
        }
        int rc = list_from_store(&acc, prefix, from_key, true, rev);
        if (rc != STORE_OK) {
            list_fail_store(r, rc);
            goto fail;
        }
    } else if (r->opt.rv_set && r->opt.rv_match == RVM_EXACT && r->opt.rv != 0) {
        rev = r->opt.rv;
        int rc = list_from_store(&acc, prefix, prefix, false, rev);
        if (rc != STORE_OK) {
            list_fail_store(r, rc);
            goto fail;
        }
    } else {
        if (!r->opt.rv_set) {
            if (api_consistent_read(&r->call, r->kind->cache) != 0)
                goto fail;
        } else if (r->opt.rv != 0) {
            /* NotOlderThan: wait until the cache is there */
            if (api_wait_rev(&r->call, r->kind->cache, r->opt.rv) != 0)
                goto fail;
        }
        cache_scan(r->kind->cache, prefix, NULL, acc_visit, &acc, &rev);
    }
    if (acc.more && acc.n) {
        const char *last = acc.items[acc.n - 1]->key + strlen(r->kind->prefix);
        cont = continue_token_encode(rev, last);
    }
    write_list(r, &acc, rev, cont);
    goto out;
fail:
    api_respond_error(r);
out:
    for (size_t i = 0; i < acc.n; i++)
        cache_obj_unref(acc.items[i]);
    free(acc.items);
    label_selector_free(acc.ls);
    field_selector_free(acc.fs);
    free(prefix);
    free(start);
    free(from_key);
    free(cont);
    api_req_free(r);
}
