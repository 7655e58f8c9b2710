/* mapping_load: POSTs ImageStreamMappings as an integrated registry does after pushes: each
 * one a new image (a fresh digest) and a tag event in one of S streams (created first), over
 * C keep-alive connections (one thread each; with several servers, connection i goes to
 * server i mod n), for a fixed duration or count. Reports mappings/s and latency
 * percentiles. Mapping n goes to stream n mod S, tag n / S mod T, so with S well above C
 * two connections rarely write one stream at the same moment (the server retries when
 * they do), and each stream's history grows by count / S events.
 *
 *   mapping_load -u http://127.0.0.1:8080[,http://...] [-N namespace] [-c conns] [-s streams]
 *                [-t tags] [-d secs | -n count] [-p stream-prefix]
 *
 * Prints one line of key=value pairs. Anything but 201 counts as an error. */
#include "bench_http.h"

#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct ml_opts {
    bh_base_t base[BH_MAX_BASES];
    int nbase;
    const char *ns;
    const char *prefix;
    int conns, streams, tags;
    double secs;
    long count;
} ml_opts_t;

typedef struct ml_worker {
    pthread_t tid;
    const ml_opts_t *o;
    int idx;
    bh_samples_t s;
    int first_status;
    char first_body[256];
} ml_worker_t;

static atomic_long ml_next;
static double ml_deadline;
static uint64_t ml_salt;

/* splitmix64: distinct, random-looking digests without a hash library */
static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static void digest_of(long i, char out[72])
{
    uint64_t x = ml_salt ^ (uint64_t)i;
    snprintf(out, 72, "sha256:%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "%016" PRIx64, mix(x), mix(x + 1), mix(x + 2),
             mix(x + 3));
}

static int ml_body(const ml_opts_t *o, long i, char *out, size_t sz)
{
    char d[72];
    digest_of(i, d);
    long stream = i % o->streams, tag = (i / o->streams) % o->tags;
    int n = snprintf(out, sz,
                     "{\"apiVersion\":\"image.openshift.io/v1\",\"kind\":\"ImageStreamMapping\","
                     "\"metadata\":{\"name\":\"%s%ld\",\"namespace\":\"%s\"},\"tag\":\"v%ld\","
                     "\"image\":{\"metadata\":{\"name\":\"%s\",\"annotations\":{\"openshift.io/image.managed\":\"true\"}},"
                     "\"dockerImageReference\":\"bench.registry:5000/%s/%s%ld@%s\","
                     "\"dockerImageLayers\":[{\"name\":\"sha256:%064ld\",\"size\":%ld,"
                     "\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\"}]}}",
                     o->prefix, stream, o->ns, tag, d, o->ns, o->prefix, stream, d, i, 1000 + i);
    return n > 0 && (size_t)n < sz ? n : -1;
}

static void *ml_run(void *arg)
{
    ml_worker_t *w = arg;
    const ml_opts_t *o = w->o;
    bh_conn_t c = {.fd = -1};
    char path[512], body[4096];
    const bh_base_t *b = &o->base[w->idx % o->nbase];
    snprintf(c.host, sizeof c.host, "%s", b->host);
    c.port = b->port;
    snprintf(path, sizeof path, "/apis/image.openshift.io/v1/namespaces/%s/imagestreammappings", o->ns);
    for (;;) {
        long i = atomic_fetch_add(&ml_next, 1);
        if ((o->count > 0 && i >= o->count) || (o->secs > 0 && bh_now() >= ml_deadline))
            break;
        int blen = ml_body(o, i, body, sizeof body);
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
                usleep(10000);
        }
        free(r.body);
    }
    bh_close(&c);
    return NULL;
}

/* The streams, before the clock starts (an existing one is fine). */
static int ml_create_streams(const ml_opts_t *o)
{
    bh_conn_t c = {.fd = -1};
    snprintf(c.host, sizeof c.host, "%s", o->base[0].host);
    c.port = o->base[0].port;
    char path[512], body[512];
    snprintf(path, sizeof path, "/apis/image.openshift.io/v1/namespaces/%s/imagestreams", o->ns);
    for (int s = 0; s < o->streams; s++) {
        int n = snprintf(body, sizeof body, "{\"metadata\":{\"name\":\"%s%d\"},\"spec\":{}}", o->prefix, s);
        bh_resp_t r;
        if (bh_request(&c, "POST", path, "application/json", body, (size_t)n, &r) != 0 ||
            (r.status != 201 && r.status != 409)) {
            fprintf(stderr, "mapping_load: creating stream %s%d: status %d\n", o->prefix, s, r.status);
            free(r.body);
            bh_close(&c);
            return -1;
        }
        free(r.body);
    }
    bh_close(&c);
    return 0;
}

static void ml_usage(void)
{
    fprintf(stderr, "usage: mapping_load -u http://127.0.0.1:PORT[,URL...] [-N namespace] [-c conns] [-s streams] "
                    "[-t tags] [-d secs | -n count] [-p stream-prefix]\n");
}

int main(int argc, char **argv)
{
    ml_opts_t o = {.ns = "bench-ism", .prefix = "push-", .conns = 32, .streams = 0, .tags = 4};
    const char *url = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "u:N:c:s:t:d:n:p:h")) != -1) {
        switch (opt) {
        case 'u': url = optarg; break;
        case 'N': o.ns = optarg; break;
        case 'c': o.conns = atoi(optarg); break;
        case 's': o.streams = atoi(optarg); break;
        case 't': o.tags = atoi(optarg); break;
        case 'd': o.secs = atof(optarg); break;
        case 'n': o.count = atol(optarg); break;
        case 'p': o.prefix = optarg; break;
        default: ml_usage(); return 2;
        }
    }
    if (o.streams == 0)
        o.streams = 8 * o.conns;
    if (!url || (o.nbase = bh_parse_bases(url, o.base, BH_MAX_BASES)) < 1 || o.conns < 1 || o.conns > 4096 ||
        o.streams < 1 || o.streams > 100000 || o.tags < 1 || o.tags > 1000 || (o.secs <= 0 && o.count <= 0)) {
        ml_usage();
        return 2;
    }
    ml_salt = mix((uint64_t)getpid() ^ (uint64_t)(bh_now() * 1e6));
    if (ml_create_streams(&o) != 0)
        return 1;
    ml_worker_t *w = calloc((size_t)o.conns, sizeof *w);
    if (!w)
        return 1;
    ml_deadline = bh_now() + o.secs;
    for (int i = 0; i < o.conns; i++) {
        w[i].o = &o;
        w[i].idx = i;
    }
    bh_outcome_t r;
    bh_run_workers(w, sizeof *w, o.conns, offsetof(ml_worker_t, tid), offsetof(ml_worker_t, s), ml_run, &r);
    double *all = r.sorted;
    size_t k = r.total;
    printf("mapping_load servers=%d conns=%d streams=%d tags=%d mapped=%zu errors=%ld secs=%.2f mappings_per_s=%.0f "
           "p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
           o.nbase, r.started, o.streams, o.tags, r.total, r.errors, r.secs, r.secs > 0 ? (double)r.total / r.secs : 0.0,
           all ? bh_pct(all, k, 0.50) * 1e3 : 0, all ? bh_pct(all, k, 0.99) * 1e3 : 0, all && k ? all[k - 1] * 1e3 : 0);
    for (int i = 0; i < r.started; i++)
        if (w[i].s.errors) {
            fprintf(stderr, "mapping_load: first error: status %d: %s\n", w[i].first_status, w[i].first_body);
            break;
        }
    free(all);
    free(w);
    return r.errors && !r.total ? 1 : 0;
}
