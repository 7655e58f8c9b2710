/* storage: periodic compaction of a store shared by several servers. Only the
 * leader compacts (one compaction per period for the whole cluster, not one per
 * replica); the target keeps `retain` revisions of history, so watches and
 * continue tokens younger than that still resume. */
#include <pthread.h>
#include <stdlib.h>

#include "storage/store_int.h"
#include "util/util.h"

struct store_compactor {
    store_t *store;
    store_election_t *election;
    int64_t retain;
    int interval_s;
    pthread_t thr;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool stop;
};

static void compact_once(store_compactor_t *c)
{
    if (c->election && !store_election_leading(c->election))
        return;
    int64_t cur = store_current_rev(c->store);
    int64_t target = cur - c->retain;
    if (target <= 0 || target <= store_compacted_rev(c->store))
        return;
    int rc = store_compact(c->store, target);
    if (rc == STORE_OK)
        log_info("storage: compacted %s to revision %lld", store_backend_name(c->store), (long long)target);
    else if (rc != STORE_COMPACTED)   /* COMPACTED: someone was there first */
        log_warn("storage: compaction to %lld: %s", (long long)target, store_strerror(rc));
}

static void *compactor_main(void *arg)
{
    store_compactor_t *c = arg;
    pthread_mutex_lock(&c->mu);
    while (!c->stop) {
        struct timespec ts = time_deadline((int64_t)c->interval_s * 1000);
        pthread_cond_timedwait(&c->cond, &c->mu, &ts);
        if (c->stop)
            break;
        pthread_mutex_unlock(&c->mu);
        compact_once(c);
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

store_compactor_t *store_compactor_start(store_t *s, store_election_t *e, int64_t retain, int interval_s)
{
    if (interval_s <= 0)
        return NULL;
    store_compactor_t *c = xcalloc(1, sizeof(*c));
    c->store = s;
    c->election = e;
    c->retain = retain > 0 ? retain : 1;
    c->interval_s = interval_s;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cond, NULL);
    if (pthread_create(&c->thr, NULL, compactor_main, c) != 0) {
        log_error("storage: cannot start the compaction thread");
        pthread_mutex_destroy(&c->mu);
        pthread_cond_destroy(&c->cond);
        free(c);
        return NULL;
    }
    return c;
}

void store_compactor_stop(store_compactor_t *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thr, NULL);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cond);
    free(c);
}
