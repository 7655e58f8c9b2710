/* storage/etcd: opening and closing the etcd v3 backend, its ops table. */
#include <stdlib.h>
#include <string.h>

#include "storage/etcd_int.h"

static void etcd_close(store_t *s)
{
    etcd_store_t *es = (etcd_store_t *)s;
    etcd_sink_stop(es);
    etcd_handles_free(es);
    for (size_t i = 0; i < es->n_endpoints; i++)
        free(es->endpoints[i]);
    free(es->endpoints);
    free(es->prefix);
    free(es->ca_file);
    free(es->cert_file);
    free(es->key_file);
    pthread_mutex_destroy(&es->handles_mu);
    free(es);
    etcd_curl_global_unref();
}

static void etcd_stats(store_t *s, store_stats_t *out)
{
    etcd_store_t *es = (etcd_store_t *)s;
    out->txns = atomic_load(&es->n_txns);
    out->writes = atomic_load(&es->n_writes);
    out->compactions = atomic_load(&es->n_compactions);
}

static const store_ops_t etcd_ops = {
    .name = "etcd",
    .close = etcd_close,
    .set_sink = etcd_set_sink,
    .get = etcd_get,
    .range = etcd_range,
    .create = etcd_create,
    .update = etcd_update,
    .del = etcd_delete,
    .current_rev = etcd_current_rev,
    .compacted_rev = etcd_compacted_rev,
    .compact = etcd_compact,
    .replay = etcd_replay,
    .healthy = etcd_healthy,
    .stats = etcd_stats,
    .read_barrier = etcd_read_barrier,
    .election_start = etcd_election_start,
    .election_leading = etcd_election_leading,
    .election_holder = etcd_election_holder,
    .election_stop = etcd_election_stop,
};

/* Splits "http://a:2379, http://b:2379/" into endpoints without trailing slashes. */
static int parse_endpoints(etcd_store_t *es, const char *list)
{
    char *copy = xstrdup(list), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ')
            t++;
        size_t n = strlen(t);
        while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '/'))
            n--;
        if (n == 0)
            continue;
        if (strncmp(t, "http://", 7) != 0 && strncmp(t, "https://", 8) != 0) {
            log_error("storage/etcd: endpoint '%.*s' is not an http(s) URL", (int)n, t);
            free(copy);
            return -1;
        }
        es->endpoints = xrealloc(es->endpoints, (es->n_endpoints + 1) * sizeof(char *));
        es->endpoints[es->n_endpoints++] = xstrndup(t, n);
    }
    free(copy);
    return es->n_endpoints ? 0 : -1;
}

int store_open_etcd(const store_etcd_options_t *opt, store_t **out)
{
    *out = NULL;
    if (etcd_curl_global_ref() != 0)
        return STORE_UNAVAILABLE;
    etcd_store_t *es = xcalloc(1, sizeof(*es));
    es->base.ops = &etcd_ops;
    es->prefix = xstrdup(opt->key_prefix ? opt->key_prefix : "");
    es->prefix_len = strlen(es->prefix);
    es->timeout_ms = opt->timeout_ms > 0 ? opt->timeout_ms : 5000;
    es->ca_file = opt->ca_file && *opt->ca_file ? xstrdup(opt->ca_file) : NULL;
    es->cert_file = opt->cert_file && *opt->cert_file ? xstrdup(opt->cert_file) : NULL;
    es->key_file = opt->key_file && *opt->key_file ? xstrdup(opt->key_file) : NULL;
    pthread_mutex_init(&es->handles_mu, NULL);
    if (parse_endpoints(es, opt->endpoints ? opt->endpoints : "http://127.0.0.1:2379") != 0) {
        etcd_close(&es->base);
        return STORE_UNAVAILABLE;
    }
    /* first contact: learns the revision and whether any endpoint answers */
    int64_t rev;
    if (etcd_read_rev(es, &rev) != STORE_OK) {
        log_error("storage/etcd: no endpoint of '%s' answered", opt->endpoints);
        etcd_close(&es->base);
        return STORE_UNAVAILABLE;
    }
    *out = &es->base;
    return STORE_OK;
}
