/* watch: a chunked stream of watch events per request, fed by the cache's dispatcher.
 * Each watcher is owned by two parties — the HTTP stream and the cache watcher — and is
 * freed when both have let go. A registry thread ends streams at their timeout and sends
 * BOOKMARKs to clients that asked for them (also how dead HTTP/1.1 clients get noticed). */
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
    if (r->name) /* a watch on an item path watches that one object */
        fsel = r->opt.field_selector && *r->opt.field_selector
                   ? xasprintf("%s,metadata.name=%s", r->opt.field_selector, r->name)
                   : xasprintf("metadata.name=%s", r->name);
    selectors_parse(r, fsel, &w->ls, &w->fs);
    free(fsel);
    int64_t from = r->opt.rv_set ? r->opt.rv : 0;
    /* no resourceVersion: the most recent state (the router ran api_after_consistent_read);
     * one newer than the cache: wait for it (etcd; on the pool) */
    if (!apierr_is_set(&r->call.err) && from > 0)
        api_wait_rev(&r->call, r->kind->cache, from);
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
    char *prefix = collection_prefix(r);
    int err = 0;
    cache_watcher_t *cw = cache_watch(r->kind->cache, prefix, from, &watch_ops, w, &err);
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
                     w->r->kind->kind, API_GV, (long long)w->last_rev);
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
