/* The blocking worker pool behind http_defer: a fixed set of threads taking
 * requests from one FIFO. The job fields live in the request, so queueing
 * allocates nothing. Shutdown drains the queue first: every deferred request
 * still gets its response. Once the last thread has left, pushes are refused
 * (the caller answers 503): a request parsed by a loop during shutdown would
 * otherwise sit in a queue nobody reads, and its connection would never close. */
#include <stdlib.h>

#include "server/server_int.h"

struct http_pool {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    http_req_t *head, *tail;
    bool stop;
    int running;                     /* threads that have not yet left pool_main */
    size_t queued;                   /* requests waiting for a thread */
    size_t max_queued;               /* beyond this, pushes are refused (overload) */
    int nthreads;
    pthread_t *threads;
};

static void *pool_main(void *arg)
{
    http_pool_t *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->head && !p->stop)
            pthread_cond_wait(&p->cond, &p->lock);
        http_req_t *r = p->head;
        if (!r) {
            p->running--; /* under the lock that saw the queue empty: no push can slip in */
            break; /* stop requested and nothing left */
        }
        p->head = r->pool_next;
        p->queued--;
        if (!p->head)
            p->tail = NULL;
        r->pool_next = NULL;
        pthread_mutex_unlock(&p->lock);
        /* fn may defer again, which rewrites defer_fn: read both first */
        void (*fn)(http_req_t *, void *) = r->defer_fn;
        void *farg = r->defer_arg;
        fn(r, farg);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

http_pool_t *http_pool_new(int nthreads, size_t max_queued)
{
    http_pool_t *p = xcalloc(1, sizeof *p);
    p->max_queued = max_queued;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    p->threads = xcalloc((size_t)nthreads, sizeof *p->threads);
    for (int i = 0; i < nthreads; i++) {
        if (pthread_create(&p->threads[i], NULL, pool_main, p) != 0) {
            log_error("http: cannot start pool thread %d", i);
            break;
        }
        p->nthreads++;
        pthread_mutex_lock(&p->lock);
        p->running++;
        pthread_mutex_unlock(&p->lock);
    }
    if (p->nthreads == 0) {
        http_pool_free(p);
        return NULL;
    }
    return p;
}

int http_pool_push(http_pool_t *p, http_req_t *r)
{
    pthread_mutex_lock(&p->lock);
    if (p->running == 0) {
        pthread_mutex_unlock(&p->lock);
        return -1;
    }
    if (p->queued >= p->max_queued) {
        pthread_mutex_unlock(&p->lock);
        return -2;
    }
    p->queued++;
    r->pool_next = NULL;
    if (p->tail)
        p->tail->pool_next = r;
    else
        p->head = r;
    p->tail = r;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    return 0;
}

void http_pool_stop(http_pool_t *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    bool joined = p->stop && p->running == 0;
    p->stop = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    if (joined)
        return;
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    p->nthreads = 0;
}

void http_pool_free(http_pool_t *p)
{
    if (!p)
        return;
    http_pool_stop(p);
    free(p->threads);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
