/* api: consistent reads on a store whose events reach the cache after the write
 * returned (etcd, several replicas). A read without a resourceVersion must show
 * every write acknowledged before it, on whichever replica it lands: fetch the
 * store's current revision, then wait until the cache has applied it. On the
 * embedded store the cache is updated before a write returns: nothing to wait for.
 *
 * Gets and watches take the batched path: the loop thread queues the request, one
 * barrier thread asks etcd once for everything queued so far and continues each
 * request itself when the cache is already there (the usual case), else on the
 * pool. That is one thread hand-off per request instead of three (loop -> pool ->
 * barrier wake -> loop), and one etcd request per batch. Lists, deletecollection
 * and dry-run creates are on the pool already and call api_consistent_read. */
#include <stdlib.h>

#include "api/api_internal.h"

/* How long a read waits for the cache to catch up (kube-apiserver waits 3 s too). */
#define CACHE_CATCH_UP_MS 3000

typedef struct barrier_ent {
    api_req_t *r;
    cache_t *cache;
    void (*cont)(api_req_t *r);
    int64_t rev;
    struct barrier_ent *next;
} barrier_ent_t;

struct api_barrier {
    api_t *api;
    pthread_t thr;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    barrier_ent_t *head, *tail;
    bool stop;
};

int api_wait_rev(api_req_t *r, cache_t *c, int64_t rev)
{
    if (rev <= cache_rev(c))
        return 0;
    if (store_reads_need_barrier(r->api->store) && cache_wait_rev(c, rev, CACHE_CATCH_UP_MS) == 0)
        return 0;
    apierr_set(&r->err, APIERR_TIMEOUT, "Too large resource version: %lld, current: %lld", (long long)rev,
               (long long)cache_rev(c));
    return -1;
}

static int catch_up(api_req_t *r, cache_t *c, int64_t rev)
{
    if (cache_wait_rev(c, rev, CACHE_CATCH_UP_MS) == 0)
        return 0;
    apierr_set(&r->err, APIERR_TIMEOUT,
               "the watch cache did not catch up with etcd revision %lld within %d ms (it is at %lld)",
               (long long)rev, CACHE_CATCH_UP_MS, (long long)cache_rev(c));
    return -1;
}

int api_consistent_read(api_req_t *r, cache_t *c)
{
    if (!store_reads_need_barrier(r->api->store))
        return 0;
    int64_t rev = 0;
    if (store_read_barrier(r->api->store, &rev) != STORE_OK) {
        api_store_fail(r, STORE_UNAVAILABLE, NULL);
        return -1;
    }
    return catch_up(r, c, rev);
}

static void fail(api_req_t *r)
{
    api_respond_error(r);
    api_req_free(r);
}

/* Pool side: the cache was behind the barrier's revision. */
static void wait_then_continue(http_req_t *h, void *arg)
{
    (void)h;
    barrier_ent_t *e = arg;
    if (catch_up(e->r, e->cache, e->rev) == 0)
        e->cont(e->r);
    else
        fail(e->r);
    free(e);
}

static void *barrier_main(void *arg)
{
    api_barrier_t *b = arg;
    pthread_mutex_lock(&b->mu);
    for (;;) {
        while (!b->head && !b->stop)
            pthread_cond_wait(&b->cond, &b->mu);
        barrier_ent_t *batch = b->head;
        b->head = b->tail = NULL;
        bool stop = b->stop;
        pthread_mutex_unlock(&b->mu);
        if (!batch && stop)
            return NULL;
        /* everything in the batch arrived before this request starts */
        int64_t rev = 0;
        int rc = store_read_barrier(b->api->store, &rev);
        if (rc != STORE_OK) {
            /* those that came while etcd failed to answer fail with it (an error cannot
             * break consistency): a hung etcd costs each request one timeout, not two */
            pthread_mutex_lock(&b->mu);
            barrier_ent_t *last = batch;
            while (last->next)
                last = last->next;
            last->next = b->head;
            b->head = b->tail = NULL;
            pthread_mutex_unlock(&b->mu);
        }
        while (batch) {
            barrier_ent_t *e = batch;
            batch = e->next;
            if (rc != STORE_OK) {
                api_store_fail(e->r, STORE_UNAVAILABLE, NULL);
                fail(e->r);
            } else if (cache_rev(e->cache) >= rev) {
                e->cont(e->r);
            } else {
                e->rev = rev;
                if (http_defer(e->r->http, wait_then_continue, e) == 0)
                    continue;
                api_req_free(e->r); /* refused and answered (429/503): e and r are still ours */
            }
            free(e);
        }
        pthread_mutex_lock(&b->mu);
    }
}

void api_after_consistent_read(api_req_t *r, cache_t *c, void (*cont)(api_req_t *r))
{
    api_barrier_t *b = r->api->barrier;
    if (!b) {   /* embedded store: the cache is current */
        cont(r);
        return;
    }
    barrier_ent_t *e = xcalloc(1, sizeof *e);
    e->r = r;
    e->cache = c;
    e->cont = cont;
    pthread_mutex_lock(&b->mu);
    bool stopped = b->stop;
    if (!stopped) {
        if (b->tail)
            b->tail->next = e;
        else
            b->head = e;
        b->tail = e;
        pthread_cond_signal(&b->cond);
    }
    pthread_mutex_unlock(&b->mu);
    if (stopped) {
        free(e);
        apierr_set(&r->err, APIERR_UNAVAILABLE, "the server is shutting down");
        fail(r);
    }
}

int api_barrier_start(api_t *a)
{
    if (!store_reads_need_barrier(a->store))
        return 0;
    api_barrier_t *b = xcalloc(1, sizeof *b);
    b->api = a;
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cond, NULL);
    if (pthread_create(&b->thr, NULL, barrier_main, b) != 0) {
        pthread_mutex_destroy(&b->mu);
        pthread_cond_destroy(&b->cond);
        free(b);
        return -1;
    }
    b->started = true;
    a->barrier = b;
    return 0;
}

void api_barrier_stop(api_t *a)
{
    api_barrier_t *b = a->barrier;
    if (!b || b->stop)
        return;
    pthread_mutex_lock(&b->mu);
    b->stop = true;   /* the thread answers what is queued, then exits */
    pthread_cond_signal(&b->cond);
    pthread_mutex_unlock(&b->mu);
    pthread_join(b->thr, NULL);
}

void api_barrier_free(api_t *a)
{
    api_barrier_t *b = a->barrier;
    if (!b)
        return;
    api_barrier_stop(a);
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cond);
    free(b);
    a->barrier = NULL;
}
