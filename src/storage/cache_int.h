/* storage/cache internals shared by cache.c (objects, index, ring, sink) and
 * cache_watch.c (watchers and the dispatcher thread). Design: docs/storage.md.
 *
 * Lock order: cache_set.applymu -> cache.lock -> cache_set.qmu. watcher.mu is a leaf
 * lock held only to flip flags. deliver()/closed() run under none of these locks;
 * cache_scan's fn runs under the cache's read lock. */
#ifndef IAS_CACHE_INT_H
#define IAS_CACHE_INT_H

#include <pthread.h>

#include "storage/storage.h"

/* An event queued for the dispatcher; holds its own references. An event without an
 * object is a reset marker: the dispatcher ends every watcher of c with 410. */
typedef struct cache_qent {
    cache_t *c;
    cache_event_t ev;
} cache_qent_t;

struct cache_watcher {
    atomic_int refs;              /* owner's handle (release) + dispatcher's + transient */
    pthread_mutex_t mu;           /* guards the three flags; never held across a callback */
    bool delivering;              /* deliver() is running on the dispatcher */
    bool cancel_pending;          /* cancelled during deliver(): dispatcher calls closed(0) */
    atomic_bool ended;            /* closed() has been (or is being) called */
    cache_t *cache;
    char *prefix;
    size_t prefix_len;
    int64_t last_rev;             /* dispatcher-only: live events <= this are skipped */
    cache_watch_ops_t ops;
    void *arg;
    cache_event_t *backlog;       /* delivered first, in order, then live events */
    size_t nbacklog;
    struct cache_watcher *next;   /* pending list */
};

struct cache {
    cache_set_t *cs;
    char *prefix;
    size_t prefix_len;
    cache_build_fn build;
    void *ctx;
    cache_apply_hook_fn hook;     /* may be NULL */
    void *hook_ctx;
    pthread_rwlock_t lock;        /* guards idx and ring */
    cache_obj_t **idx;            /* sorted by key (strcmp = etcd byte order) */
    size_t n, cap;
    cache_event_t *ring;          /* recent events, oldest at ring_start */
    size_t ring_size, ring_start, ring_n;
    int64_t ring_base;            /* every event of this cache with rev > ring_base is in the ring */
    atomic_llong rev;             /* newest store revision applied */
    cache_watcher_t **w;          /* active watchers: dispatcher thread only */
    size_t nw, capw;
};

struct cache_set {
    store_t *store;
    cache_t **caches;
    size_t n;
    pthread_mutex_t applymu;      /* sink vs initial load */
    bool started;

    pthread_t disp;
    bool disp_started;
    pthread_mutex_t qmu;
    pthread_cond_t qcond;
    cache_qent_t *q;
    size_t qn, qcap;
    cache_watcher_t *pend_head, *pend_tail;
    bool stop;

    pthread_mutex_t revmu;
    pthread_cond_t revcond;
    atomic_int rev_waiters;
    atomic_bool closing;          /* cache_set_free has begun */
};

/* cache.c */
void cache_event_clear(cache_event_t *ev);     /* drops the event's references */
size_t cache_lower_bound(cache_t *c, const char *key);
/* Turns a store event into a cache event (builds the objects). prev_cached is the
 * cached previous object if known (a new reference is taken). Returns false if
 * nothing could be built. */
bool cache_event_from_store(cache_t *c, const store_event_t *sev, cache_obj_t *prev_cached,
                            cache_event_t *out);

/* cache_watch.c */
void *cache_dispatch_main(void *arg);
void cache_watchers_shutdown(cache_set_t *cs);
void cache_watcher_unref(cache_watcher_t *w);

#endif
