/* watch_derived: what one event of a source kind means to the watchers of a kind derived
 * from it (virt->source + expand, as ImageStreamTag from ImageStream). The source object
 * before and after the event is expanded, the items are matched by metadata.name, and
 * each item that appears, changes or goes is one change, in name order. Every item
 * carries the event's revision as its resourceVersion, so a watch resumed from it gets
 * each later change exactly once.
 *
 * Runs on the cache's dispatcher thread, for every watcher of the kind in turn: the
 * expansion of an event is built once and shared (a per-thread memo, one slot per derived
 * kind), and what a watcher needs per item — encoded JSON, selector values, table cells —
 * is computed once in it. */
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"

/* Output form: kind and apiVersion of the derived kind, metadata (a copy) with the
 * event's resourceVersion last, then the rest as expand gave it. NULL without a name. */
static json_t *item_output(const kind_def_t *k, const json_t *it, int64_t rev)
{
    const json_t *meta = json_object_get(it, "metadata");
    const char *name = json_string_value(json_object_get(meta, "name"));
    if (!name || !*name)
        return NULL;
    json_t *out = json_object();
    json_object_set_new(out, "kind", json_string(k->kind));
    json_object_set_new(out, "apiVersion", json_string(k->api_version));
    json_t *m = json_copy((json_t *)meta);
    json_object_del(m, "resourceVersion");
    json_object_set_new(out, "metadata", m);
    kind_set_rv(out, rev);
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)it, key, v) {
        if (strcmp(key, "kind") != 0 && strcmp(key, "apiVersion") != 0 && strcmp(key, "metadata") != 0)
            json_object_set(out, key, v);
    }
    return out;
}

static void item_clear(derived_item_t *it)
{
    json_decref(it->obj);
    free(it->json);
    for (size_t i = 0; i < it->nfields; i++)
        free(it->fields[i]);
    free(it->fields);
    json_decref(it->cells);
}

static int item_cmp(const void *a, const void *b)
{
    return strcmp(((const derived_item_t *)a)->name, ((const derived_item_t *)b)->name);
}

/* Appends the items src yields to *items (n, cap), sorted by name, duplicates dropped;
 * returns how many. */
static size_t expand_source(const kind_def_t *k, api_call_t *c, const cache_obj_t *src, int64_t rev,
                            derived_item_t **items, size_t *n, size_t *cap)
{
    json_error_t jerr;
    json_t *obj = json_loadb(src->json, src->json_len, 0, &jerr);
    json_t *arr = obj ? k->virt->expand(c, obj) : NULL;
    if (!obj) {
        log_warn("watch: %s is not JSON: it yields no %s", src->key, k->resource);
    } else if (!json_is_array(arr)) {   /* list would show none of its items either */
        log_warn("watch: %s yields no %s: %s", src->key, k->resource,
                 apierr_is_set(api_call_err(c)) ? api_call_err(c)->message : "expand failed");
        apierr_clear(api_call_err(c));
    }
    size_t first = *n, nfields = 0;
    while (k->field_labels && k->field_labels[nfields])
        nfields++;
    size_t i;
    json_t *raw;
    json_array_foreach(arr, i, raw) {
        json_t *out = item_output(k, raw, rev);
        if (!out)
            continue;
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 16;
            *items = xrealloc(*items, *cap * sizeof **items);
        }
        derived_item_t *it = &(*items)[(*n)++];
        *it = (derived_item_t){.kind = k, .obj = out, .nfields = nfields};
        it->name = json_string_value(json_object_get(json_object_get(out, "metadata"), "name"));
        it->json = json_dumps(out, JSON_COMPACT);
        it->len = strlen(it->json);
        it->fields = xcalloc(nfields + 1, sizeof *it->fields);
        for (size_t f = 0; f < nfields; f++)
            it->fields[f] = kind_field_value(out, k->field_labels[f]);
    }
    json_decref(arr);
    json_decref(obj);
    if (*n > first)
        qsort(*items + first, *n - first, sizeof **items, item_cmp);
    size_t w = first;
    for (size_t r = first; r < *n; r++) {
        if (w > first && strcmp((*items)[w - 1].name, (*items)[r].name) == 0) {
            log_warn("watch: %s yields two %s named %s; the second is ignored", src->key, k->resource,
                     (*items)[r].name);
            item_clear(&(*items)[r]);
            continue;
        }
        (*items)[w++] = (*items)[r];
    }
    *n = w;
    return w - first;
}

static void event_clear(derived_event_t *de)
{
    for (size_t i = 0; i < de->nitems; i++)
        item_clear(&de->items[i]);
    free(de->items);
    free(de->ch);
    cache_obj_unref(de->obj);
    cache_obj_unref(de->prev);
    de->items = NULL;
    de->ch = NULL;
    de->obj = de->prev = NULL;
    de->nitems = de->n = 0;
}

/* Merges the sorted items before (old) and after (cur) the event into changes. */
static void event_build(derived_event_t *de, const kind_def_t *k, api_call_t *c, const cache_event_t *ev)
{
    size_t cap = 0, ncur = 0, nold = 0;
    /* a deletion's object is the last state at the deletion's revision: everything goes */
    if (ev->type != CACHE_EV_DELETED)
        ncur = expand_source(k, c, ev->obj, ev->rev, &de->items, &de->nitems, &cap);
    const cache_obj_t *before = ev->type == CACHE_EV_DELETED    ? ev->obj
                                : ev->type == CACHE_EV_MODIFIED ? ev->prev
                                                                : NULL;
    if (before)
        nold = expand_source(k, c, before, ev->rev, &de->items, &de->nitems, &cap);
    derived_item_t *cur = de->items, *old = de->items + ncur;
    de->ch = xcalloc(ncur + nold + 1, sizeof *de->ch);
    size_t i = 0, j = 0;
    while (i < ncur || j < nold) {
        int cmp = i == ncur ? 1 : j == nold ? -1 : strcmp(cur[i].name, old[j].name);
        derived_change_t *ch = &de->ch[de->n++];
        if (cmp < 0) {
            ch->cur = &cur[i++];
        } else if (cmp > 0) {
            ch->old = &old[j++];
        } else {
            ch->cur = &cur[i++];
            ch->old = &old[j++];
            /* both carry the event's revision: equal unless the item changed */
            ch->changed = ch->cur->len != ch->old->len || memcmp(ch->cur->json, ch->old->json, ch->cur->len) != 0;
            if (ch->changed)
                ch->changed = !json_equal(ch->cur->obj, ch->old->obj);
        }
    }
}

/* One slot per derived kind: the last event expanded for it. */
typedef struct memo {
    derived_event_t ev;
    const kind_def_t *kind;
    struct memo *next;
} memo_t;

static pthread_key_t memo_key;
static pthread_once_t memo_once = PTHREAD_ONCE_INIT;

static void memo_free(void *p)
{
    for (memo_t *m = p, *next; m; m = next) {
        next = m->next;
        event_clear(&m->ev);
        free(m);
    }
}

static void memo_key_init(void) { pthread_key_create(&memo_key, memo_free); }

derived_event_t *derived_event(const kind_def_t *k, api_call_t *c, const cache_event_t *ev)
{
    pthread_once(&memo_once, memo_key_init);
    memo_t *head = pthread_getspecific(memo_key), *m = head;
    while (m && m->kind != k)
        m = m->next;
    if (!m) {
        m = xcalloc(1, sizeof *m);
        m->kind = k;
        m->next = head;
        pthread_setspecific(memo_key, m);
    }
    derived_event_t *de = &m->ev;
    /* the slot holds references to obj and prev: no other object can have their address */
    if (de->obj == ev->obj && de->prev == ev->prev && de->rev == ev->rev && de->type == ev->type)
        return de;
    event_clear(de);
    de->obj = cache_obj_ref(ev->obj);
    de->prev = ev->prev ? cache_obj_ref(ev->prev) : NULL;
    de->rev = ev->rev;
    de->type = ev->type;
    event_build(de, k, c, ev);
    return de;
}

static const char *item_field(void *arg, const char *label)
{
    const derived_item_t *it = arg;
    for (size_t i = 0; i < it->nfields; i++)
        if (strcmp(it->kind->field_labels[i], label) == 0)
            return it->fields[i];
    return "";
}

bool derived_item_matches(label_selector_t *ls, field_selector_t *fs, const derived_item_t *it)
{
    const json_t *labels = json_object_get(json_object_get(it->obj, "metadata"), "labels");
    if (ls && !label_selector_match(ls, json_is_object(labels) ? labels : NULL))
        return false;
    return !fs || field_selector_match(fs, item_field, (void *)it);
}

const json_t *derived_item_cells(derived_item_t *it)
{
    if (!it->cells)
        it->cells = it->kind->table_cells ? it->kind->table_cells(it->obj) : json_array();
    return it->cells;
}
