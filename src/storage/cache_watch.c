/* storage/cache: watchers and the dispatcher thread.
 *
 * No gap, no duplicate: a watcher is registered while holding the cache's read
 * lock, which the sink needs (as a write lock) to apply an event. Under that lock
 * the watcher gets a backlog (synthetic ADDED objects for from_rev 0, else the
 * ring suffix with rev > from_rev, preceded by a store replay when the ring no
 * longer reaches back that far) and a threshold = the cache's revision; it is put
 * on the pending list under qmu, the same mutex under which the sink queues
 * events. Every event with rev > threshold is therefore queued after the
 * watcher became pending; the dispatcher takes the queued events first and the
 * pending watchers second, delivers each new watcher's backlog before any live
 * event, and skips live events with rev <= the newest revision the watcher
 * already has. All deliver() calls run on the one dispatcher thread. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "storage/cache_int.h"
#include "util/util.h"

void cache_watcher_unref(cache_watcher_t *w)
{
    if (atomic_fetch_sub(&w->refs, 1) != 1)
        return;
    for (size_t i = 0; i < w->nbacklog; i++)
        cache_event_clear(&w->backlog[i]);
    free(w->backlog);
    pthread_mutex_destroy(&w->mu);
    free(w->prefix);
    free(w);
}

/* Ends the watcher with closed(reason) unless it has ended already. Not while the
 * dispatcher is in deliver() for it (callers check). */
static void watcher_end(cache_watcher_t *w, int reason)
{
    pthread_mutex_lock(&w->mu);
    bool first = !atomic_exchange(&w->ended, true);
    pthread_mutex_unlock(&w->mu);
    if (first && w->ops.closed)
        w->ops.closed(w->arg, reason);
}

void cache_watch_cancel(cache_watcher_t *w)
{
    if (!w)
        return;
    atomic_fetch_add(&w->refs, 1);   /* keeps w alive through closed(), even if it releases */
    pthread_mutex_lock(&w->mu);
    bool call = false;
    if (!atomic_load(&w->ended) && !w->cancel_pending) {
        if (w->delivering)
            w->cancel_pending = true;   /* never wait for deliver(): the dispatcher ends it */
        else
            call = !atomic_exchange(&w->ended, true);
    }
    pthread_mutex_unlock(&w->mu);
    if (call && w->ops.closed)
        w->ops.closed(w->arg, 0);
    cache_watcher_unref(w);
}

void cache_watch_release(cache_watcher_t *w)
{
    if (!w)
        return;
    cache_watch_cancel(w);   /* released while still running: stop it first (closed(0)) */
    cache_watcher_unref(w);  /* the owner's reference */
}

typedef struct backlog {
    cache_event_t *ev;
    size_t n, cap;
} backlog_t;

static void backlog_push(backlog_t *b, const cache_event_t *ev)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        b->ev = xrealloc(b->ev, b->cap * sizeof(*b->ev));
    }
    b->ev[b->n++] = *ev;
}

static void backlog_free(backlog_t *b)
{
    for (size_t i = 0; i < b->n; i++)
        cache_event_clear(&b->ev[i]);
    free(b->ev);
    b->ev = NULL;
    b->n = b->cap = 0;
}

static int64_t backlog_last_rev(const backlog_t *b)
{
    return b->n ? b->ev[b->n - 1].rev : 0;
}

typedef struct replay_ctx {
    cache_t *c;
    backlog_t *b;
} replay_ctx_t;

static void replay_collect(void *arg, const store_event_t *sev)
{
    replay_ctx_t *rc = arg;
    cache_event_t ev;
    if (cache_event_from_store(rc->c, sev, NULL, &ev))
        backlog_push(rc->b, &ev);
}

/* Caller holds c->lock (read). Appends ring events with rev > after under prefix. */
static void ring_suffix(cache_t *c, const char *prefix, size_t plen, int64_t after, backlog_t *b)
{
    for (size_t i = 0; i < c->ring_n; i++) {
        cache_event_t *e = &c->ring[(c->ring_start + i) % c->ring_size];
        if (e->rev <= after || strncmp(e->obj->key, prefix, plen) != 0)
            continue;
        cache_event_t copy = { e->type, e->rev, cache_obj_ref(e->obj), cache_obj_ref(e->prev) };
        backlog_push(b, &copy);
    }
}

/* Caller holds c->lock (read): hands the watcher to the dispatcher. */
static void register_pending(cache_t *c, cache_watcher_t *w, backlog_t *b, int64_t threshold)
{
    w->backlog = b->ev;
    w->nbacklog = b->n;
    w->last_rev = threshold;
    b->ev = NULL;
    b->n = b->cap = 0;
    cache_set_t *cs = c->cs;
    pthread_mutex_lock(&cs->qmu);
    w->next = NULL;
    if (cs->pend_tail)
        cs->pend_tail->next = w;
    else
        cs->pend_head = w;
    cs->pend_tail = w;
    pthread_cond_signal(&cs->qcond);
    pthread_mutex_unlock(&cs->qmu);
}

cache_watcher_t *cache_watch(cache_t *c, const char *prefix, int64_t from_rev,
                             const cache_watch_ops_t *ops, void *arg, int *err)
{
    int dummy;
    if (!err)
        err = &dummy;
    *err = STORE_OK;
    if (!c->cs->disp_started || c->cs->stop || !ops || !ops->deliver) {
        *err = STORE_UNAVAILABLE;
        return NULL;
    }
    if (from_rev < 0) {
        *err = STORE_COMPACTED;
        return NULL;
    }
    if (!prefix)
        prefix = c->prefix;
    cache_watcher_t *w = xcalloc(1, sizeof(*w));
    atomic_init(&w->refs, 2);   /* the owner's (cache_watch_release) and the dispatcher's */
    pthread_mutex_init(&w->mu, NULL);
    w->cache = c;
    w->prefix = xstrdup(prefix);
    w->prefix_len = strlen(prefix);
    w->ops = *ops;
    w->arg = arg;

    backlog_t b = {0};
    int64_t after = from_rev;
    pthread_rwlock_rdlock(&c->lock);
    int64_t cur = atomic_load(&c->rev);
    if (from_rev > cur) {
        pthread_rwlock_unlock(&c->lock);
        *err = STORE_FUTURE_REV;
        goto fail;
    }
    if (from_rev == 0) {
        /* synthetic ADDED for the current objects, in key order */
        for (size_t i = cache_lower_bound(c, prefix); i < c->n; i++) {
            cache_obj_t *o = c->idx[i];
            if (strncmp(o->key, prefix, w->prefix_len) != 0)
                break;
            cache_event_t ev = { CACHE_EV_ADDED, o->mod_rev, cache_obj_ref(o), NULL };
            backlog_push(&b, &ev);
        }
        register_pending(c, w, &b, cur);
        pthread_rwlock_unlock(&c->lock);
        return w;
    }
    /* The ring may not reach back to from_rev: replay the older part from the
     * store without holding the lock, then join it to the ring; repeat if the
     * ring moved past the replayed range meanwhile. */
    while (after < c->ring_base) {
        pthread_rwlock_unlock(&c->lock);
        int64_t upto = store_current_rev(c->cs->store);
        replay_ctx_t rctx = { c, &b };
        int rc = store_replay(c->cs->store, prefix, after, replay_collect, &rctx);
        if (rc != STORE_OK) {
            *err = rc;
            goto fail;
        }
        if (backlog_last_rev(&b) > upto)
            upto = backlog_last_rev(&b);
        after = upto;
        pthread_rwlock_rdlock(&c->lock);
    }
    ring_suffix(c, prefix, w->prefix_len, after, &b);
    cur = atomic_load(&c->rev);
    /* replayed events may be newer than what the cache has applied yet */
    register_pending(c, w, &b, cur > after ? cur : after);
    pthread_rwlock_unlock(&c->lock);
    return w;

fail:
    backlog_free(&b);
    pthread_mutex_destroy(&w->mu);
    free(w->prefix);
    free(w);
    return NULL;
}

/* Delivers one event; ends the watcher if deliver() refuses it or it was cancelled
 * meanwhile. Dispatcher thread only. */
static void deliver_one(cache_watcher_t *w, const cache_event_t *ev)
{
    pthread_mutex_lock(&w->mu);
    if (atomic_load(&w->ended) || w->cancel_pending) {
        pthread_mutex_unlock(&w->mu);
        return;
    }
    w->delivering = true;
    pthread_mutex_unlock(&w->mu);

    int rc = w->ops.deliver(w->arg, ev);

    pthread_mutex_lock(&w->mu);
    w->delivering = false;
    int reason = w->cancel_pending ? 0 : rc != 0 ? STORE_COMPACTED : 1;
    bool call = reason != 1 && !atomic_exchange(&w->ended, true);
    pthread_mutex_unlock(&w->mu);
    if (call && w->ops.closed)
        w->ops.closed(w->arg, reason);
}

static void activate(cache_watcher_t *w)
{
    for (size_t i = 0; i < w->nbacklog && !atomic_load(&w->ended); i++)
        deliver_one(w, &w->backlog[i]);
    for (size_t i = 0; i < w->nbacklog; i++) {
        /* synthetic ADDED carry mod_revs, all <= the threshold */
        if (w->backlog[i].rev > w->last_rev)
            w->last_rev = w->backlog[i].rev;
        cache_event_clear(&w->backlog[i]);
    }
    free(w->backlog);
    w->backlog = NULL;
    w->nbacklog = 0;
    if (atomic_load(&w->ended)) {
        cache_watcher_unref(w);
        return;
    }
    cache_t *c = w->cache;
    if (c->nw == c->capw) {
        c->capw = c->capw ? c->capw * 2 : 16;
        c->w = xrealloc(c->w, c->capw * sizeof(*c->w));
    }
    c->w[c->nw++] = w;
}

static void fan_out(cache_qent_t *e)
{
    cache_t *c = e->c;
    if (!e->ev.obj) {   /* reset marker: the cache was reloaded, watchers may have missed changes */
        for (size_t i = 0; i < c->nw; i++)
            watcher_end(c->w[i], STORE_COMPACTED);
        return;
    }
    const char *key = e->ev.obj->key;
    for (size_t i = 0; i < c->nw; i++) {
        cache_watcher_t *w = c->w[i];
        if (e->ev.rev <= w->last_rev)
            continue;
        w->last_rev = e->ev.rev;
        if (strncmp(key, w->prefix, w->prefix_len) != 0 || atomic_load(&w->ended))
            continue;
        deliver_one(w, &e->ev);
    }
}

static void sweep(cache_set_t *cs)
{
    for (size_t i = 0; i < cs->n; i++) {
        cache_t *c = cs->caches[i];
        size_t k = 0;
        for (size_t j = 0; j < c->nw; j++) {
            if (atomic_load(&c->w[j]->ended))
                cache_watcher_unref(c->w[j]);
            else
                c->w[k++] = c->w[j];
        }
        c->nw = k;
    }
}

void *cache_dispatch_main(void *arg)
{
    cache_set_t *cs = arg;
    cache_qent_t *batch = NULL;
    size_t bcap = 0;
    pthread_mutex_lock(&cs->qmu);
    while (!cs->stop) {
        if (cs->qn == 0 && !cs->pend_head) {
            /* wake now and then to drop cancelled watchers */
            struct timespec ts = time_deadline(1000);
            pthread_cond_timedwait(&cs->qcond, &cs->qmu, &ts);
            if (cs->stop)
                break;
        }
        /* events first, then the watchers registered so far (see top) */
        cache_qent_t *q = cs->q;
        size_t qn = cs->qn, qcap = cs->qcap;
        cs->q = batch;     /* double buffer: the sink fills the other array */
        cs->qcap = bcap;
        cs->qn = 0;
        batch = q;
        bcap = qcap;
        cache_watcher_t *pend = cs->pend_head;
        cs->pend_head = cs->pend_tail = NULL;
        pthread_mutex_unlock(&cs->qmu);

        /* new watchers: their backlog goes before any live event */
        while (pend) {
            cache_watcher_t *next = pend->next;
            pend->next = NULL;
            activate(pend);
            pend = next;
        }
        for (size_t i = 0; i < qn; i++) {
            fan_out(&batch[i]);
            cache_event_clear(&batch[i].ev);
        }
        sweep(cs);
        pthread_mutex_lock(&cs->qmu);
    }
    pthread_mutex_unlock(&cs->qmu);
    free(batch);
    return NULL;
}

void cache_watchers_shutdown(cache_set_t *cs)
{
    if (cs->disp_started) {
        pthread_mutex_lock(&cs->qmu);
        cs->stop = true;
        pthread_cond_signal(&cs->qcond);
        pthread_mutex_unlock(&cs->qmu);
        pthread_join(cs->disp, NULL);
        cs->disp_started = false;
    }
    cache_watcher_t *pend = cs->pend_head;
    cs->pend_head = cs->pend_tail = NULL;
    while (pend) {
        cache_watcher_t *next = pend->next;
        watcher_end(pend, STORE_UNAVAILABLE);
        cache_watcher_unref(pend);
        pend = next;
    }
    for (size_t i = 0; i < cs->n; i++) {
        cache_t *c = cs->caches[i];
        for (size_t j = 0; j < c->nw; j++) {
            watcher_end(c->w[j], STORE_UNAVAILABLE);
            cache_watcher_unref(c->w[j]);
        }
        c->nw = 0;
    }
    for (size_t i = 0; i < cs->qn; i++)
        cache_event_clear(&cs->q[i].ev);
    cs->qn = 0;
}

bool cache_watch_in_memory(cache_t *c, int64_t from_rev)
{
    if (from_rev == 0)
        return true;
    pthread_rwlock_rdlock(&c->lock);
    bool in = from_rev >= c->ring_base;
    pthread_rwlock_unlock(&c->lock);
    return in;
}
