/* storage/cache: the watch cache. Per prefix: the current objects (immutable,
 * reference counted), a sorted array index (binary search; O(n) memmove on insert,
 * fine for the 10k-object target), and a ring of recent events. The store sink
 * applies each committed change synchronously on the writer thread (so a read
 * after an acknowledged write sees it) and queues the event for the dispatcher
 * thread (cache_watch.c), which fans it out to watchers. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "storage/cache_int.h"
#include "util/util.h"

cache_obj_t *cache_obj_ref(cache_obj_t *o)
{
    if (o)
        atomic_fetch_add_explicit(&o->refs, 1, memory_order_relaxed);
    return o;
}

void cache_obj_unref(cache_obj_t *o)
{
    if (!o || atomic_fetch_sub_explicit(&o->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (o->extra_free)
        o->extra_free(o->extra);
    free(o->key);
    free(o->json);
    free(o);
}

void cache_event_clear(cache_event_t *ev)
{
    cache_obj_unref(ev->obj);
    cache_obj_unref(ev->prev);
    ev->obj = ev->prev = NULL;
}

static cache_obj_t *build(cache_t *c, const char *key, const char *value, size_t len,
                          int64_t create_rev, int64_t mod_rev)
{
    cache_obj_t *o = c->build(c->ctx, key, value, len, create_rev, mod_rev);
    if (!o) {
        log_warn("cache: cannot decode %s at revision %lld; skipped", key, (long long)mod_rev);
        return NULL;
    }
    atomic_init(&o->refs, 1);
    return o;
}

bool cache_event_from_store(cache_t *c, const store_event_t *sev, cache_obj_t *prev_cached,
                            cache_event_t *out)
{
    memset(out, 0, sizeof(*out));
    out->rev = sev->rev;
    if (sev->type == STORE_EV_PUT) {
        out->type = sev->prev_value ? CACHE_EV_MODIFIED : CACHE_EV_ADDED;
        out->obj = build(c, sev->key, sev->value, sev->value_len, sev->create_rev, sev->rev);
    } else {
        out->type = CACHE_EV_DELETED;
        /* the last state, re-built at the deletion's revision (its resourceVersion) */
        if (sev->prev_value)
            out->obj = build(c, sev->key, sev->prev_value, sev->prev_value_len, sev->create_rev, sev->rev);
    }
    if (prev_cached)
        out->prev = cache_obj_ref(prev_cached);
    else if (sev->prev_value)
        out->prev = build(c, sev->key, sev->prev_value, sev->prev_value_len, sev->create_rev,
                          sev->prev_mod_rev);
    if (!out->obj && sev->type == STORE_EV_DELETE && out->prev)
        out->obj = cache_obj_ref(out->prev);
    if (!out->obj) {
        cache_event_clear(out);
        return false;
    }
    return true;
}

size_t cache_lower_bound(cache_t *c, const char *key)
{
    size_t lo = 0, hi = c->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(c->idx[mid]->key, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void idx_insert(cache_t *c, size_t pos, cache_obj_t *o)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->idx = xrealloc(c->idx, c->cap * sizeof(*c->idx));
    }
    memmove(&c->idx[pos + 1], &c->idx[pos], (c->n - pos) * sizeof(*c->idx));
    c->idx[pos] = o;
    c->n++;
}

static void idx_remove(cache_t *c, size_t pos)
{
    memmove(&c->idx[pos], &c->idx[pos + 1], (c->n - pos - 1) * sizeof(*c->idx));
    c->n--;
}

/* Takes over the event's references. Caller holds the write lock. */
static void ring_push(cache_t *c, cache_event_t *ev)
{
    if (c->ring_n == c->ring_size) {
        cache_event_t *old = &c->ring[c->ring_start];
        c->ring_base = old->rev;
        cache_event_clear(old);
        c->ring_start = (c->ring_start + 1) % c->ring_size;
        c->ring_n--;
    }
    c->ring[(c->ring_start + c->ring_n) % c->ring_size] = *ev;
    c->ring_n++;
}

/* Caller holds c->lock (write); takes the cache's qmu. */
static void dispatch_push(cache_t *c, const cache_event_t *ev)
{
    cache_set_t *cs = c->cs;
    pthread_mutex_lock(&cs->qmu);
    if (cs->qn == cs->qcap) {
        cs->qcap = cs->qcap ? cs->qcap * 2 : 256;
        cs->q = xrealloc(cs->q, cs->qcap * sizeof(*cs->q));
    }
    cache_qent_t *e = &cs->q[cs->qn++];
    e->c = c;
    e->ev = *ev;
    cache_obj_ref(ev->obj);
    cache_obj_ref(ev->prev);
    if (cs->qn == 1)
        pthread_cond_signal(&cs->qcond);
    pthread_mutex_unlock(&cs->qmu);
}

static void cache_apply(cache_t *c, const store_event_t *sev)
{
    cache_event_t ev;
    /* builds run without the lock; only this (writer) thread mutates the cache */
    pthread_rwlock_rdlock(&c->lock);
    size_t pos = cache_lower_bound(c, sev->key);
    cache_obj_t *old = pos < c->n && strcmp(c->idx[pos]->key, sev->key) == 0 ? c->idx[pos] : NULL;
    cache_obj_ref(old);
    pthread_rwlock_unlock(&c->lock);

    bool ok = cache_event_from_store(c, sev, old, &ev);
    cache_obj_unref(old);

    pthread_rwlock_wrlock(&c->lock);
    if (sev->type == STORE_EV_PUT) {
        if (ok) {
            if (old) {
                c->idx[pos] = cache_obj_ref(ev.obj);
                cache_obj_unref(old);   /* the index's reference; ev.prev has its own */
            } else {
                idx_insert(c, pos, cache_obj_ref(ev.obj));
            }
        }
    } else if (old) {
        idx_remove(c, pos);
    }
    /* old is still alive here: ev.prev holds it after a PUT, the index until below after a delete */
    bool changed = sev->type == STORE_EV_PUT ? ok : old != NULL;
    if (c->hook && changed)
        c->hook(c->hook_ctx, old, sev->type == STORE_EV_PUT ? ev.obj : NULL);
    if (sev->type != STORE_EV_PUT && old)
        cache_obj_unref(old);   /* the index's reference, after the hook saw it */
    if (ok) {
        dispatch_push(c, &ev);
        ring_push(c, &ev);
    }
    atomic_store(&c->rev, sev->rev);
    pthread_rwlock_unlock(&c->lock);
}

static int cache_load(cache_t *c, int64_t rev);

/* RESET: the store lost history before sev->rev. Reloads c as of the current revision (at
 * least sev->rev; later sink events up to it are then skipped as already loaded) and ends
 * every watcher with 410: it may have missed changes. Retries while the store is down.
 * Caller holds applymu. */
static void cache_reload(cache_t *c)
{
    cache_t fresh = {.cs = c->cs, .prefix = c->prefix, .prefix_len = c->prefix_len,
                     .build = c->build, .ctx = c->ctx};
    while (cache_load(&fresh, 0) != STORE_OK) {
        if (atomic_load(&c->cs->closing))
            return;
        log_warn("cache: reloading %s failed; retrying", c->prefix);
        struct timespec ts = {0, 500 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    pthread_rwlock_wrlock(&c->lock);
    cache_obj_t **old = c->idx;
    size_t n_old = c->n;
    c->idx = fresh.idx;
    c->n = fresh.n;
    c->cap = fresh.cap;
    for (size_t j = 0; j < c->ring_n; j++)
        cache_event_clear(&c->ring[(c->ring_start + j) % c->ring_size]);
    c->ring_start = c->ring_n = 0;
    c->ring_base = fresh.ring_base;
    atomic_store(&c->rev, atomic_load(&fresh.rev));
    cache_event_t marker = {0};   /* no object: the dispatcher ends c's watchers */
    dispatch_push(c, &marker);
    if (c->hook)
        c->hook(c->hook_ctx, NULL, NULL);
    pthread_rwlock_unlock(&c->lock);
    for (size_t j = 0; j < n_old; j++)
        cache_obj_unref(old[j]);
    free(old);
    log_warn("cache: %s reloaded at revision %lld (%zu objects); its watches end with 410",
             c->prefix, (long long)atomic_load(&c->rev), c->n);
}

/* The store sink: runs on the store's writer thread, in revision order. */
static void cache_sink(void *ctx, const store_event_t *sev)
{
    cache_set_t *cs = ctx;
    pthread_mutex_lock(&cs->applymu);
    for (size_t i = 0; i < cs->n; i++) {
        cache_t *c = cs->caches[i];
        if (sev->type == STORE_EV_RESET) {
            cache_reload(c);
            continue;
        }
        if (sev->rev <= atomic_load(&c->rev))
            continue;   /* already part of the initial load */
        if (sev->type != STORE_EV_PROGRESS && strncmp(sev->key, c->prefix, c->prefix_len) == 0)
            cache_apply(c, sev);
        else
            atomic_store(&c->rev, sev->rev);
    }
    pthread_mutex_unlock(&cs->applymu);
    if (atomic_load(&cs->rev_waiters) > 0) {
        pthread_mutex_lock(&cs->revmu);
        pthread_cond_broadcast(&cs->revcond);
        pthread_mutex_unlock(&cs->revmu);
    }
}

cache_set_t *cache_set_new(store_t *s)
{
    cache_set_t *cs = xcalloc(1, sizeof(*cs));
    cs->store = s;
    pthread_mutex_init(&cs->applymu, NULL);
    pthread_mutex_init(&cs->qmu, NULL);
    pthread_cond_init(&cs->qcond, NULL);
    pthread_mutex_init(&cs->revmu, NULL);
    pthread_cond_init(&cs->revcond, NULL);
    return cs;
}

cache_t *cache_set_add(cache_set_t *cs, const char *prefix, cache_build_fn build, void *ctx,
                       size_t ring_size)
{
    if (cs->started || !prefix || !build)
        return NULL;
    cache_t *c = xcalloc(1, sizeof(*c));
    c->cs = cs;
    c->prefix = xstrdup(prefix);
    c->prefix_len = strlen(prefix);
    c->build = build;
    c->ctx = ctx;
    c->ring_size = ring_size ? ring_size : 1;
    c->ring = xcalloc(c->ring_size, sizeof(*c->ring));
    /* writers must not starve behind a stream of scans */
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&c->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    cs->caches = xrealloc(cs->caches, (cs->n + 1) * sizeof(*cs->caches));
    cs->caches[cs->n++] = c;
    return c;
}

void cache_set_apply_hook(cache_t *c, cache_apply_hook_fn fn, void *ctx)
{
    c->hook = fn;
    c->hook_ctx = ctx;
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp((*(cache_obj_t *const *)a)->key, (*(cache_obj_t *const *)b)->key);
}

/* Loads one cache at revision rev (0 = current). Caller holds applymu. */
static int cache_load(cache_t *c, int64_t rev)
{
    store_kv_t *items = NULL;
    size_t n = 0;
    int64_t got = 0;
    bool more = false;
    int rc = store_range(c->cs->store, c->prefix, NULL, rev, 0, &items, &n, &got, &more);
    if (rc != STORE_OK)
        return rc;
    bool sorted = true;
    for (size_t i = 0; i < n; i++) {
        cache_obj_t *o = build(c, items[i].key, items[i].value, items[i].value_len,
                               items[i].create_rev, items[i].mod_rev);
        if (!o)
            continue;
        if (c->n && strcmp(c->idx[c->n - 1]->key, o->key) >= 0)
            sorted = false;
        idx_insert(c, c->n, o);
    }
    if (!sorted)
        qsort(c->idx, c->n, sizeof(*c->idx), key_cmp);
    store_kvs_free(items, n);
    c->ring_base = got;   /* = rev, or the current revision when rev is 0 */
    atomic_store(&c->rev, got);
    return STORE_OK;
}

int cache_set_start(cache_set_t *cs)
{
    if (cs->started)
        return STORE_OK;
    int rc = STORE_OK;
    pthread_mutex_lock(&cs->applymu);
    /* Sink first, then the revision: every change after rev reaches the sink,
     * which blocks on applymu until the load is done and skips revs <= rev. */
    store_set_sink(cs->store, cache_sink, cs);
    int64_t rev = store_current_rev(cs->store);
    for (size_t i = 0; i < cs->n && rc == STORE_OK; i++)
        rc = cache_load(cs->caches[i], rev);
    if (rc == STORE_OK)
        cs->started = true;
    pthread_mutex_unlock(&cs->applymu);
    if (rc != STORE_OK) {
        store_set_sink(cs->store, NULL, NULL);
        return rc;
    }
    if (pthread_create(&cs->disp, NULL, cache_dispatch_main, cs) != 0) {
        store_set_sink(cs->store, NULL, NULL);
        return STORE_UNAVAILABLE;
    }
    cs->disp_started = true;
    return STORE_OK;
}

void cache_set_free(cache_set_t *cs)
{
    if (!cs)
        return;
    atomic_store(&cs->closing, true);   /* a reload retrying in the sink gives up */
    if (cs->started)
        store_set_sink(cs->store, NULL, NULL);   /* waits for a sink call in progress */
    cache_watchers_shutdown(cs);
    for (size_t i = 0; i < cs->n; i++) {
        cache_t *c = cs->caches[i];
        for (size_t j = 0; j < c->n; j++)
            cache_obj_unref(c->idx[j]);
        for (size_t j = 0; j < c->ring_n; j++)
            cache_event_clear(&c->ring[(c->ring_start + j) % c->ring_size]);
        free(c->idx);
        free(c->ring);
        free(c->w);
        free(c->prefix);
        pthread_rwlock_destroy(&c->lock);
        free(c);
    }
    free(cs->caches);
    free(cs->q);
    pthread_mutex_destroy(&cs->applymu);
    pthread_mutex_destroy(&cs->qmu);
    pthread_cond_destroy(&cs->qcond);
    pthread_mutex_destroy(&cs->revmu);
    pthread_cond_destroy(&cs->revcond);
    free(cs);
}

int64_t cache_rev(cache_t *c)
{
    return atomic_load(&c->rev);
}

int64_t cache_bookmark_rev(cache_t *c)
{
    return atomic_load(&c->rev);
}

int cache_wait_rev(cache_t *c, int64_t rev, int timeout_ms)
{
    if (atomic_load(&c->rev) >= rev)
        return 0;
    cache_set_t *cs = c->cs;
    struct timespec ts = time_deadline(timeout_ms);
    int ret = 0;
    pthread_mutex_lock(&cs->revmu);
    atomic_fetch_add(&cs->rev_waiters, 1);
    while (atomic_load(&c->rev) < rev) {
        if (pthread_cond_timedwait(&cs->revcond, &cs->revmu, &ts) != 0 && atomic_load(&c->rev) < rev) {
            ret = STORE_UNAVAILABLE;
            break;
        }
    }
    atomic_fetch_sub(&cs->rev_waiters, 1);
    pthread_mutex_unlock(&cs->revmu);
    return ret;
}

cache_obj_t *cache_get(cache_t *c, const char *key)
{
    cache_obj_t *o = NULL;
    pthread_rwlock_rdlock(&c->lock);
    size_t pos = cache_lower_bound(c, key);
    if (pos < c->n && strcmp(c->idx[pos]->key, key) == 0)
        o = cache_obj_ref(c->idx[pos]);
    pthread_rwlock_unlock(&c->lock);
    return o;
}

size_t cache_scan(cache_t *c, const char *prefix, const char *from_key,
                  int (*fn)(void *arg, cache_obj_t *obj), void *arg, int64_t *rev_out)
{
    if (!prefix)
        prefix = c->prefix;
    size_t plen = strlen(prefix), visited = 0;
    const char *start = from_key && strcmp(from_key, prefix) > 0 ? from_key : prefix;
    pthread_rwlock_rdlock(&c->lock);
    if (rev_out)
        *rev_out = atomic_load(&c->rev);
    for (size_t i = cache_lower_bound(c, start); i < c->n; i++) {
        cache_obj_t *o = c->idx[i];
        if (strncmp(o->key, prefix, plen) != 0)
            break;
        visited++;
        if (fn(arg, o) != 0)
            break;
    }
    pthread_rwlock_unlock(&c->lock);
    return visited;
}

size_t cache_count(cache_t *c)
{
    pthread_rwlock_rdlock(&c->lock);
    size_t n = c->n;
    pthread_rwlock_unlock(&c->lock);
    return n;
}

/* strcmp of key (which starts with the prefix of plen bytes) and prefix+name. */
static int suffix_cmp(const cache_obj_t *o, size_t plen, const char *name)
{
    return strcmp(o->key + plen, name);
}

void cache_get_sorted(cache_t *c, const char *key_prefix, const char *const *names, size_t n,
                      void (*fn)(void *arg, size_t i, cache_obj_t *obj), void *arg)
{
    size_t plen = strlen(key_prefix);
    pthread_rwlock_rdlock(&c->lock);
    /* [pos, end): the objects under the prefix (contiguous in key order) */
    size_t pos = cache_lower_bound(c, key_prefix), lo = pos, hi = c->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strncmp(c->idx[mid]->key, key_prefix, plen) == 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t end = lo;
    for (size_t i = 0; i < n; i++) {
        /* first position >= names[i]: gallop forward, then bisect the last step */
        size_t step = 1, base = pos;
        while (base + step - 1 < end && suffix_cmp(c->idx[base + step - 1], plen, names[i]) < 0) {
            base += step;
            step *= 2;
        }
        lo = base;
        hi = base + step - 1 < end ? base + step - 1 : end;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (suffix_cmp(c->idx[mid], plen, names[i]) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        pos = lo;
        cache_obj_t *o = pos < end && suffix_cmp(c->idx[pos], plen, names[i]) == 0 ? c->idx[pos] : NULL;
        fn(arg, i, o);
    }
    pthread_rwlock_unlock(&c->lock);
}
