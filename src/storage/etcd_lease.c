/* storage/etcd: leader election with a lease. Each candidate keeps one lease of
 * ttl seconds alive and tries, every ttl/4, a txn that writes the key
 * <prefix>/leases/<name> = identity, attached to its lease, only if the key does
 * not exist. The holder leads while its lease lives; when it dies the lease
 * expires, etcd deletes the key, and the next candidate's try takes it.
 *
 * A leader that cannot renew steps down after 3/4 of the ttl without a renewal
 * (counted from when the last successful renewal was sent), a quarter of the ttl
 * before etcd could hand the key to someone else: two servers never both believe
 * they lead. A clean stop revokes the lease, so the key goes at once. */
#include <stdlib.h>
#include <string.h>

#include "storage/etcd_int.h"

typedef struct etcd_election {
    store_election_t base;
    etcd_store_t *es;
    char *key;                 /* without es->prefix */
    int ttl_s;
    pthread_t thr;
    pthread_mutex_t mu;        /* guards stop, holder */
    pthread_cond_t cond;
    bool stop;
    char *holder;
    atomic_bool leading;
    int64_t lease;             /* thread only: current lease ID, 0 = none */
    int64_t renewed_ms;        /* thread only: send time of the last successful grant/renewal */
} etcd_election_t;

static void set_holder(etcd_election_t *e, const char *who)
{
    pthread_mutex_lock(&e->mu);
    free(e->holder);
    e->holder = xstrdup(who);
    pthread_mutex_unlock(&e->mu);
}

/* Grants a new lease or renews the current one. false: no live lease now. */
static bool keep_lease(etcd_election_t *e)
{
    etcd_store_t *es = e->es;
    char body[96];
    json_t *r;
    int64_t sent = time_mono_ms();
    if (e->lease == 0) {
        snprintf(body, sizeof body, "{\"TTL\":\"%d\"}", e->ttl_s);
        if (etcd_post(es, "/v3/lease/grant", body, &r) != STORE_OK)
            return false;
        e->lease = etcd_i64(r, "ID");
        json_decref(r);
        e->renewed_ms = sent;
        return e->lease != 0;
    }
    snprintf(body, sizeof body, "{\"ID\":\"%lld\"}", (long long)e->lease);
    if (etcd_post(es, "/v3/lease/keepalive", body, &r) != STORE_OK)
        return sent - e->renewed_ms < (int64_t)e->ttl_s * 750;   /* still ours for a while */
    /* the gateway streams: {"result":{"ID":..,"TTL":..}}; TTL absent or 0 = the lease expired */
    json_t *res = json_object_get(r, "result");
    int64_t ttl = etcd_i64(res ? res : r, "TTL");
    json_decref(r);
    if (ttl <= 0) {
        log_warn("storage/etcd: election %s: lease %llx expired", e->key, (unsigned long long)e->lease);
        e->lease = 0;
        return false;
    }
    e->renewed_ms = sent;
    return true;
}

/* Takes the key if it is free. Returns true if we hold it. */
static bool try_acquire(etcd_election_t *e)
{
    etcd_store_t *es = e->es;
    buf_t b;
    buf_init(&b);
    etcd_txn_body(es, &b, e->key, ETCD_IF_ABSENT, ETCD_TXN_PUT, e->base.identity, strlen(e->base.identity), e->lease);
    json_t *r;
    int rc = etcd_post(es, "/v3/kv/txn", b.data, &r);
    buf_free(&b);
    if (rc != STORE_OK)
        return false;
    bool mine = json_is_true(json_object_get(r, "succeeded"));
    if (mine) {
        set_holder(e, e->base.identity);
    } else {
        json_t *rr = json_object_get(json_array_get(json_object_get(r, "responses"), 0), "response_range");
        json_t *kv = json_array_get(json_object_get(rr, "kvs"), 0);
        store_kv_t cur;
        if (kv && etcd_decode_kv(es, kv, &cur) == 0) {
            mine = etcd_i64(kv, "lease") == e->lease;   /* ours from an earlier round */
            set_holder(e, cur.value);
            store_kv_free(&cur);
        } else {
            set_holder(e, "");
        }
    }
    json_decref(r);
    return mine;
}

static void *election_main(void *arg)
{
    etcd_election_t *e = arg;
    int64_t period = (int64_t)e->ttl_s * 250;
    if (period < 100)
        period = 100;
    pthread_mutex_lock(&e->mu);
    while (!e->stop) {
        pthread_mutex_unlock(&e->mu);
        bool lead = keep_lease(e) && try_acquire(e);
        if (lead != atomic_load(&e->leading))
            log_info("storage/etcd: election %s: %s", e->key, lead ? "leading" : "not leading");
        atomic_store(&e->leading, lead);
        pthread_mutex_lock(&e->mu);
        if (e->stop)
            break;
        struct timespec ts = time_deadline(period);
        pthread_cond_timedwait(&e->cond, &e->mu, &ts);
    }
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

store_election_t *etcd_election_start(store_t *s, const char *name, const char *identity, int ttl_s)
{
    etcd_election_t *e = xcalloc(1, sizeof(*e));
    e->base.store = s;
    e->base.identity = xstrdup(identity);
    e->es = (etcd_store_t *)s;
    e->key = xasprintf("/leases/%s", name);
    e->ttl_s = ttl_s > 0 ? ttl_s : 15;
    e->holder = xstrdup("");
    pthread_mutex_init(&e->mu, NULL);
    pthread_cond_init(&e->cond, NULL);
    if (pthread_create(&e->thr, NULL, election_main, e) != 0) {
        log_error("storage/etcd: election %s: cannot start its thread", e->key);
        e->stop = true;   /* never leads */
    }
    return &e->base;
}

bool etcd_election_leading(store_election_t *base)
{
    return atomic_load(&((etcd_election_t *)base)->leading);
}

char *etcd_election_holder(store_election_t *base)
{
    etcd_election_t *e = (etcd_election_t *)base;
    pthread_mutex_lock(&e->mu);
    char *h = xstrdup(e->holder);
    pthread_mutex_unlock(&e->mu);
    return h;
}

void etcd_election_stop(store_election_t *base)
{
    etcd_election_t *e = (etcd_election_t *)base;
    pthread_mutex_lock(&e->mu);
    bool running = !e->stop;
    e->stop = true;
    pthread_cond_signal(&e->cond);
    pthread_mutex_unlock(&e->mu);
    if (running)
        pthread_join(e->thr, NULL);
    atomic_store(&e->leading, false);
    if (e->lease) {
        char body[64];
        json_t *r;
        snprintf(body, sizeof body, "{\"ID\":\"%lld\"}", (long long)e->lease);
        if (etcd_post(e->es, "/v3/lease/revoke", body, &r) == STORE_OK)
            json_decref(r);
    }
    pthread_mutex_destroy(&e->mu);
    pthread_cond_destroy(&e->cond);
    free(e->holder);
    free(e->key);
    free(e->base.identity);
    free(e);
}
