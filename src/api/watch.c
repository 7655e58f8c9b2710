/* watch: a chunked stream of watch events per request, fed by the cache's dispatcher.
 * Each watcher is owned by two parties — the HTTP stream and the cache watcher — and is
 * freed when both have let go. A registry thread ends streams at their timeout and sends
 * BOOKMARKs to clients that asked for them (also how dead HTTP/1.1 clients get noticed).
 * A kind derived from a stored one watches its source kind's cache; each source event
 * becomes events of the items it yields (watch_derived.c), written in one piece. */
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"

typedef struct watcher {
    api_req_t *r;                  /* kind, options, selectors context */
    label_selector_t *ls;
    field_selector_t *fs;
    http_stream_t *stream;
    cache_watcher_t *cw;
    pthread_mutex_t lock;          /* recursive: guards stream calls and the flags below */
    bool stream_closed;            /* on_close has run: stream handle is gone */
    bool ended;                    /* we asked the stream to end */
    bool columns_sent;
    int64_t last_rev;
    int64_t deadline_ms;
    int64_t next_bookmark_ms;
    atomic_int refs;
    struct watcher *prev, *next;
} watcher_t;

struct watch_registry {
    api_t *api;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    bool stop;
    watcher_t *head;
};

static void watcher_unref(watcher_t *w)
{
    if (atomic_fetch_sub(&w->refs, 1) != 1)
        return;
    watch_registry_t *reg = w->r->api->watches;
    pthread_mutex_lock(&reg->lock);
    if (w->prev)
        w->prev->next = w->next;
    else
        reg->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    pthread_mutex_unlock(&reg->lock);
    if (w->cw)
        cache_watch_release(w->cw);
    label_selector_free(w->ls);
    field_selector_free(w->fs);
    pthread_mutex_destroy(&w->lock);
    api_req_free(w->r);
    free(w);
}

/* Under w->lock. */
static int write_locked(watcher_t *w, const char *data, size_t len)
{
    if (w->stream_closed || w->ended)
        return -1;
    return http_stream_write(w->stream, data, len);
}

static void end_locked(watcher_t *w)
{
    if (w->stream_closed || w->ended)
        return;
    w->ended = true;
    http_stream_end(w->stream);
}

/* The last event of a stream that fails: an ERROR event carrying the Status. */
static void write_error_event(watcher_t *w, const apierr_t *err)
{
    json_t *ev = json_pack("{s:s, s:o}", "type", "ERROR", "object", apierr_status_json(err));
    char *line = json_dumps(ev, JSON_COMPACT);
    json_decref(ev);
    pthread_mutex_lock(&w->lock);
    write_locked(w, line, strlen(line));
    write_locked(w, "\n", 1);
    end_locked(w);
    pthread_mutex_unlock(&w->lock);
    free(line);
}

/* Why a watch from rev cannot go on: 410 "too old resource version" when the history is
 * compacted, else the store's Status (503 unavailable, 504 too new). */
static void write_store_error(watcher_t *w, int rc, int64_t rev)
{
    apierr_t e = APIERR_INIT;
    if (rc == STORE_COMPACTED)
        apierr_set(&e, APIERR_EXPIRED, "too old resource version: %lld (%lld)", (long long)rev,
                   (long long)store_compacted_rev(w->r->api->store));
    else
        api_store_err(&e, w->r->kind, rc, NULL);
    write_error_event(w, &e);
    apierr_clear(&e);
}

static void encode_event(watcher_t *w, buf_t *b, const char *type, cache_obj_t *o)
{
    api_req_t *r = w->r;
    buf_printf(b, "{\"type\":\"%s\",\"object\":", type);
    if (r->accept == ACCEPT_TABLE) {
        char rv[24];
        snprintf(rv, sizeof rv, "%lld", (long long)o->mod_rev);
        json_t *t = json_pack("{s:s, s:s, s:{s:s}, s:o, s:[o]}", "kind", "Table", "apiVersion", "meta.k8s.io/v1",
                              "metadata", "resourceVersion", rv, "columnDefinitions",
                              w->columns_sent ? json_null() : table_columns_json(r->kind), "rows",
                              table_row(r->kind, o, r->opt.include_object, time(NULL)));
        w->columns_sent = true;
        char *s = json_dumps(t, JSON_COMPACT);
        buf_puts(b, s);
        free(s);
        json_decref(t);
    } else if (r->accept == ACCEPT_PARTIAL || r->accept == ACCEPT_PARTIAL_LIST) {
        json_t *p = partial_object(o->extra);
        char *s = json_dumps(p, JSON_COMPACT);
        buf_puts(b, s);
        free(s);
        json_decref(p);
    } else {
        buf_append(b, o->json, o->json_len);
    }
    buf_puts(b, "}\n");
}

/* One item event of a derived kind: the item's JSON, a one-row Table, or its metadata. */
static void encode_item(watcher_t *w, buf_t *b, const char *type, derived_item_t *it)
{
    api_req_t *r = w->r;
    buf_printf(b, "{\"type\":\"%s\",\"object\":", type);
    if (r->accept != ACCEPT_TABLE && r->accept != ACCEPT_PARTIAL && r->accept != ACCEPT_PARTIAL_LIST) {
        buf_append(b, it->json, it->len);   /* watch streams are JSON (YAML asked: JSON too) */
        buf_puts(b, "}\n");
        return;
    }
    json_t *meta = json_object_get(it->obj, "metadata");
    json_t *o;
    if (r->accept == ACCEPT_TABLE) {
        o = json_pack("{s:s, s:s, s:{s:O}, s:o, s:[o]}", "kind", "Table", "apiVersion", "meta.k8s.io/v1",
                      "metadata", "resourceVersion", json_object_get(meta, "resourceVersion"), "columnDefinitions",
                      w->columns_sent ? json_null() : table_columns_json(r->kind), "rows",
                      table_row_cells(r->kind, derived_item_cells(it), it->obj, r->opt.include_object, time(NULL)));
        w->columns_sent = true;
    } else {
        o = json_pack("{s:s, s:s, s:O}", "kind", "PartialObjectMetadata", "apiVersion", "meta.k8s.io/v1", "metadata",
                      meta);
    }
    char *s = json_dumps(o, JSON_COMPACT);
    buf_puts(b, s);
    buf_puts(b, "}\n");
    free(s);
    json_decref(o);
}

/* As for stored kinds, an item that starts to match the selectors is ADDED, one that stops
 * matching (or goes) is DELETED with its last state. All of one source event go in one
 * write, so a client never sees part of a revision. */
static int deliver_derived(watcher_t *w, const cache_event_t *ev)
{
    api_req_t *r = w->r;
    derived_event_t *de = derived_event(r->kind, &r->call, ev);
    buf_t b;
    buf_init(&b);
    int rc = 0;
    pthread_mutex_lock(&w->lock);
    if (ev->rev > w->last_rev)
        w->last_rev = ev->rev;
    for (size_t i = 0; i < de->n; i++) {
        derived_change_t *ch = &de->ch[i];
        bool cur = ch->cur && derived_item_matches(w->ls, w->fs, ch->cur);
        bool old = ch->old && derived_item_matches(w->ls, w->fs, ch->old);
        if (cur && (!old || ch->changed))
            encode_item(w, &b, old ? "MODIFIED" : "ADDED", ch->cur);
        else if (!cur && old)
            encode_item(w, &b, "DELETED", ch->old);
    }
    if (b.len)
        rc = write_locked(w, b.data, b.len);
    pthread_mutex_unlock(&w->lock);
    buf_free(&b);
    return rc;
}

/* The dispatcher calls deliver for every watcher of one event in turn: plain JSON
 * watchers share one encoded line per (event, type), built once. */
typedef struct event_line {
    const cache_obj_t *obj;
    int64_t rev;
    const char *type;
    buf_t line;
} event_line_t;

static pthread_key_t memo_key;
static pthread_once_t memo_once = PTHREAD_ONCE_INIT;

static void memo_free(void *p)
{
    event_line_t *m = p;
    buf_free(&m->line);
    free(m);
}

static void memo_key_init(void) { pthread_key_create(&memo_key, memo_free); }

static const buf_t *json_event_line(const char *type, const cache_event_t *ev)
{
    pthread_once(&memo_once, memo_key_init);
    event_line_t *m = pthread_getspecific(memo_key);
    if (!m) {
        m = xcalloc(1, sizeof *m);
        pthread_setspecific(memo_key, m);
    }
    if (m->obj != ev->obj || m->rev != ev->rev || m->type != type || !m->line.data) {
        buf_reset(&m->line);
        buf_printf(&m->line, "{\"type\":\"%s\",\"object\":", type);
        buf_append(&m->line, ev->obj->json, ev->obj->json_len);
        buf_puts(&m->line, "}\n");
        m->obj = ev->obj;
        m->rev = ev->rev;
        m->type = type;
    }
    return &m->line;
}

static int deliver(void *arg, const cache_event_t *ev)
{
    watcher_t *w = arg;
    api_req_t *r = w->r;
    if (!kind_is_stored(r->kind))
        return deliver_derived(w, ev);
    const char *type = NULL;
    bool cur = ev->obj && obj_matches(r, w->ls, w->fs, ev->obj);
    bool old = ev->prev && obj_matches(r, w->ls, w->fs, ev->prev);
    switch (ev->type) {
    case CACHE_EV_ADDED: type = cur ? "ADDED" : NULL; break;
    case CACHE_EV_MODIFIED: type = cur ? (old ? "MODIFIED" : "ADDED") : (old ? "DELETED" : NULL); break;
    case CACHE_EV_DELETED: type = cur ? "DELETED" : NULL; break;
    }
    int rc = 0;
    pthread_mutex_lock(&w->lock);
    if (ev->rev > w->last_rev)
        w->last_rev = ev->rev;
    if (type && r->accept == ACCEPT_JSON) {
        const buf_t *line = json_event_line(type, ev);
        rc = write_locked(w, line->data, line->len);
    } else if (type) {
        buf_t b;
        buf_init(&b);
        encode_event(w, &b, type, ev->obj);
        rc = write_locked(w, b.data, b.len);
        buf_free(&b);
    }
    pthread_mutex_unlock(&w->lock);
    return rc;
}

static void cache_closed(void *arg, int reason)
{
    watcher_t *w = arg;
    if (reason == STORE_COMPACTED) {
        write_store_error(w, STORE_COMPACTED, w->last_rev);
    } else {
        pthread_mutex_lock(&w->lock);
        end_locked(w);
        pthread_mutex_unlock(&w->lock);
    }
    watcher_unref(w);
}

static void stream_closed(void *arg)
{
    watcher_t *w = arg;
    pthread_mutex_lock(&w->lock);
    w->stream_closed = true;
    cache_watcher_t *cw = w->cw;
    pthread_mutex_unlock(&w->lock);
    if (cw)
        cache_watch_cancel(cw);
    watcher_unref(w);
}

static const cache_watch_ops_t watch_ops = {deliver, cache_closed};

cache_t *kind_watch_cache(const kind_def_t *k)
{
    if (kind_is_stored(k))
        return k->cache;
    const api_kind_t *src = k->virt->expand ? kind_source(k) : NULL;
    return src ? src->cache : NULL;
}

/* Keys the watch follows: the kind's (a derived kind: its source kind's), in the namespace. */
static char *watch_prefix(const api_req_t *r)
{
    const kind_def_t *k = kind_is_stored(r->kind) ? r->kind : kind_source(r->kind);
    return r->ns ? xasprintf("%s%s/", k->prefix, r->ns) : xstrdup(k->prefix);
}

/* metadata.name=<name> with the field selector's escapes (\\ \, \=). */
static char *name_selector(const char *name)
{
    buf_t b;
    buf_init(&b);
    buf_puts(&b, "metadata.name=");
    for (const char *p = name; *p; p++) {
        if (*p == '\\' || *p == ',' || *p == '=')
            buf_putc(&b, '\\');
        buf_putc(&b, *p);
    }
    return buf_steal(&b);
}

void verb_watch(api_req_t *r)
{
    watcher_t *w = xcalloc(1, sizeof *w);
    w->r = r;
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&w->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    char *fsel = NULL;
    if (r->name) { /* a watch on an item path watches that one object (a derived kind: item) */
        char *ns = name_selector(r->name);
        fsel = r->opt.field_selector && *r->opt.field_selector ? xasprintf("%s,%s", r->opt.field_selector, ns)
                                                               : xstrdup(ns);
        free(ns);
    }
    selectors_parse(r, fsel, &w->ls, &w->fs);
    free(fsel);
    cache_t *cache = kind_watch_cache(r->kind);
    int64_t from = r->opt.rv_set ? r->opt.rv : 0;
    /* no resourceVersion: the most recent state (the router ran api_after_consistent_read);
     * one newer than the cache: wait for it (etcd; on the pool) */
    if (!apierr_is_set(&r->call.err) && from > 0)
        api_wait_rev(&r->call, cache, from);
    if (!w->ls || !w->fs || apierr_is_set(&r->call.err)) {
        api_respond_error(r);
        label_selector_free(w->ls);
        field_selector_free(w->fs);
        pthread_mutex_destroy(&w->lock);
        free(w);
        api_req_free(r);
        return;
    }
    w->last_rev = from;
    int64_t now = time_mono_ms();
    int64_t timeout = r->opt.timeout_seconds > 0 ? r->opt.timeout_seconds : r->api->cfg.watch_max_timeout_s;
    w->deadline_ms = now + timeout * 1000;
    w->next_bookmark_ms = now + (int64_t)r->api->cfg.watch_bookmark_interval_s * 1000;
    atomic_init(&w->refs, 2);
    watch_registry_t *reg = r->api->watches;
    pthread_mutex_lock(&reg->lock);
    w->next = reg->head;
    if (reg->head)
        reg->head->prev = w;
    reg->head = w;
    pthread_mutex_unlock(&reg->lock);

    http_header_kv_t hdr[] = {{"Content-Type", "application/json"}, {"Cache-Control", "no-cache, private"}};
    w->stream = http_stream_begin(r->http, 200, hdr, 2, stream_closed, w);
    char *prefix = watch_prefix(r);
    int err = 0;
    cache_watcher_t *cw = cache_watch(cache, prefix, from, &watch_ops, w, &err);
    free(prefix);
    if (!cw) {
        write_store_error(w, err, from);
        watcher_unref(w); /* the cache reference that will never be released by closed() */
        return;
    }
    pthread_mutex_lock(&w->lock);
    w->cw = cw;
    bool gone = w->stream_closed;
    pthread_mutex_unlock(&w->lock);
    if (gone)
        cache_watch_cancel(cw);
}

/* ---- registry: timeouts and bookmarks ---- */

static void bookmark_locked(watcher_t *w)
{
    char buf[256];
    int n = snprintf(buf, sizeof buf,
                     "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"%s\",\"apiVersion\":\"%s\",\"metadata\":"
                     "{\"resourceVersion\":\"%lld\",\"creationTimestamp\":null}}}\n",
                     w->r->kind->kind, w->r->kind->api_version, (long long)w->last_rev);
    write_locked(w, buf, (size_t)n);
}

/* Takes a reference unless the watcher is already being freed. */
static bool watcher_tryref(watcher_t *w)
{
    int n = atomic_load(&w->refs);
    while (n > 0)
        if (atomic_compare_exchange_weak(&w->refs, &n, n + 1))
            return true;
    return false;
}

static void *registry_main(void *arg)
{
    watch_registry_t *reg = arg;
    watcher_t **due = NULL;
    size_t cap = 0;
    pthread_mutex_lock(&reg->lock);
    while (!reg->stop) {
        struct timespec ts = time_deadline(200);
        pthread_cond_timedwait(&reg->cond, &reg->lock, &ts);
        int64_t now = time_mono_ms();
        size_t n = 0;
        for (watcher_t *w = reg->head; w; w = w->next) {
            bool bookmark = w->r->opt.allow_watch_bookmarks && now >= w->next_bookmark_ms;
            if ((now >= w->deadline_ms || bookmark) && watcher_tryref(w)) {
                if (n == cap) {
                    cap = cap ? cap * 2 : 64;
                    due = xrealloc(due, cap * sizeof *due);
                }
                due[n++] = w;
            }
        }
        /* Act outside the registry lock: ending a stream may free other watchers. */
        pthread_mutex_unlock(&reg->lock);
        for (size_t i = 0; i < n; i++) {
            watcher_t *w = due[i];
            pthread_mutex_lock(&w->lock);
            if (now >= w->deadline_ms) {
                end_locked(w);
            } else {
                w->next_bookmark_ms = now + (int64_t)reg->api->cfg.watch_bookmark_interval_s * 1000;
                bookmark_locked(w);
            }
            pthread_mutex_unlock(&w->lock);
            watcher_unref(w);
        }
        pthread_mutex_lock(&reg->lock);
    }
    pthread_mutex_unlock(&reg->lock);
    free(due);
    return NULL;
}

watch_registry_t *watch_registry_new(api_t *a)
{
    watch_registry_t *reg = xcalloc(1, sizeof *reg);
    reg->api = a;
    pthread_mutex_init(&reg->lock, NULL);
    pthread_cond_init(&reg->cond, NULL);
    pthread_create(&reg->thread, NULL, registry_main, reg);
    return reg;
}

void watch_registry_free(watch_registry_t *reg)
{
    if (!reg)
        return;
    pthread_mutex_lock(&reg->lock);
    reg->stop = true;
    pthread_cond_signal(&reg->cond);
    pthread_mutex_unlock(&reg->lock);
    pthread_join(reg->thread, NULL);
    pthread_cond_destroy(&reg->cond);
    pthread_mutex_destroy(&reg->lock);
    free(reg);
}
