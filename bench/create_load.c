/* create_load: POSTs ImageStreams with unique names over C keep-alive
 * connections (one thread each; with several servers, connection i goes to
 * server i mod n) for a fixed duration or a fixed count, and
 * reports creates/s and latency percentiles. Also used to seed data.
 *
 *   create_load -u http://127.0.0.1:8080[,http://...] [-N namespace] [-c conns] [-d secs | -n count]
 *               [-p name-prefix] [-t tags-per-stream]
 *
 * Prints one line of key=value pairs. Anything but 201 counts as an error. */
#include "bench_http.h"

#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct cl_opts {
    bh_base_t base[BH_MAX_BASES];
    int nbase;
    const char *ns;
    const char *prefix;
    int conns;
    double secs;   /* duration mode when > 0 */
    long count;    /* count mode when > 0 */
    int tags;
} cl_opts_t;

typedef struct cl_worker {
    pthread_t tid;
    const cl_opts_t *o;
    int idx;          /* connection number: picks the server */
    bh_samples_t s;   /* seconds per successful create */
    int first_status; /* first unexpected status, for the error message */
    char first_body[256];
} cl_worker_t;

static atomic_long cl_next;
static double cl_deadline;

/* Builds an ImageStream like a small real one: labels, an annotation and
 * reference tags (reference tags are never imported, so no registry traffic). */
static int cl_body(const cl_opts_t *o, long i, char *out, size_t sz)
{
    int n = snprintf(out, sz,
                     "{\"apiVersion\":\"image.openshift.io/v1\",\"kind\":\"ImageStream\","
                     "\"metadata\":{\"name\":\"%s%ld\",\"namespace\":\"%s\","
                     "\"labels\":{\"app\":\"bench\",\"tier\":\"backend\"},"
                     "\"annotations\":{\"description\":\"benchmark image stream %ld\"}},"
                     "\"spec\":{\"lookupPolicy\":{\"local\":false},\"tags\":[",
                     o->prefix, i, o->ns, i);
    for (int t = 0; t < o->tags && n > 0 && (size_t)n < sz; t++)
        n += snprintf(out + n, sz - (size_t)n,
                      "%s{\"name\":\"v%d\",\"annotations\":{\"version\":\"%d\"},"
                      "\"from\":{\"kind\":\"DockerImage\",\"name\":\"registry.example.com/bench/app:v%d\"},"
                      "\"reference\":true,\"referencePolicy\":{\"type\":\"Source\"}}",
                      t ? "," : "", t, t, t);
    if (n > 0 && (size_t)n < sz)
        n += snprintf(out + n, sz - (size_t)n, "]}}");
    return n > 0 && (size_t)n < sz ? n : -1;
}

static void *cl_run(void *arg)
{
    cl_worker_t *w = arg;
    const cl_opts_t *o = w->o;
    bh_conn_t c = { .fd = -1 };
    char path[512], body[16384];
    const bh_base_t *b = &o->base[w->idx % o->nbase];
    snprintf(c.host, sizeof c.host, "%s", b->host);
    c.port = b->port;
    snprintf(path, sizeof path, "/apis/image.openshift.io/v1/namespaces/%s/imagestreams", o->ns);
    for (;;) {
        long i = atomic_fetch_add(&cl_next, 1);
        if (o->count > 0 && i >= o->count)
            break;
        if (o->secs > 0 && bh_now() >= cl_deadline)
            break;
        int blen = cl_body(o, i, body, sizeof body);
        if (blen < 0) {
            w->s.errors++;
            break;
        }
        bh_resp_t r;
        double t0 = bh_now();
        int rc = bh_request(&c, "POST", path, "application/json", body, (size_t)blen, &r);
        double dt = bh_now() - t0;
        if (rc == 0 && r.status == 201) {
            if (bh_sample(&w->s, dt) != 0) {
                free(r.body);
                break;
            }
        } else {
            if (w->s.errors++ == 0) {
                w->first_status = rc == 0 ? r.status : -1;
                snprintf(w->first_body, sizeof w->first_body, "%s", rc == 0 ? r.body : "transport error");
            }
            if (rc != 0)
                usleep(10000); /* server gone or refusing: do not spin */
        }
        free(r.body);
    }
    bh_close(&c);
    return NULL;
}

static void cl_usage(void)
{
    fprintf(stderr, "usage: create_load -u http://127.0.0.1:PORT[,URL...] [-N namespace] [-c conns] "
                    "[-d secs | -n count] [-p prefix] [-t tags]\n");
}

int main(int argc, char **argv)
{
    cl_opts_t o = { .ns = "bench", .conns = 32, .secs = 0, .count = 0, .tags = 2 };
    const char *url = NULL;
    char defprefix[64];
    snprintf(defprefix, sizeof defprefix, "c%ld-", (long)getpid());
    o.prefix = defprefix;
    int opt;
    while ((opt = getopt(argc, argv, "u:N:c:d:n:p:t:h")) != -1) {
        switch (opt) {
        case 'u': url = optarg; break;
        case 'N': o.ns = optarg; break;
        case 'c': o.conns = atoi(optarg); break;
        case 'd': o.secs = atof(optarg); break;
        case 'n': o.count = atol(optarg); break;
        case 'p': o.prefix = optarg; break;
        case 't': o.tags = atoi(optarg); break;
        default: cl_usage(); return 2;
        }
    }
    if (!url || (o.nbase = bh_parse_bases(url, o.base, BH_MAX_BASES)) < 1 || o.conns < 1 ||
        o.conns > 4096 || o.tags < 0 || o.tags > 50 || (o.secs <= 0 && o.count <= 0)) {
        cl_usage();
        return 2;
    }
    cl_worker_t *w = calloc((size_t)o.conns, sizeof *w);
    if (!w)
        return 1;
    cl_deadline = bh_now() + o.secs;
    for (int i = 0; i < o.conns; i++) {
        w[i].o = &o;
        w[i].idx = i;
    }
    bh_outcome_t r;
    bh_run_workers(w, sizeof *w, o.conns, offsetof(cl_worker_t, tid), offsetof(cl_worker_t, s), cl_run, &r);
    double *all = r.sorted;
    size_t k = r.total;
    printf("create_load servers=%d conns=%d created=%zu errors=%ld secs=%.2f creates_per_s=%.0f "
           "p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
           o.nbase, r.started, r.total, r.errors, r.secs, r.secs > 0 ? (double)r.total / r.secs : 0.0,
           all ? bh_pct(all, k, 0.50) * 1e3 : 0, all ? bh_pct(all, k, 0.99) * 1e3 : 0,
           all && k ? all[k - 1] * 1e3 : 0);
    for (int i = 0; i < r.started; i++)
        if (w[i].s.errors) {
            fprintf(stderr, "create_load: first error: status %d: %s\n", w[i].first_status, w[i].first_body);
            break;
        }
    free(all);
    free(w);
    return r.errors && !r.total ? 1 : 0;
}
