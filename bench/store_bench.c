/* store_bench: durable creates/s of the embedded SQLite store with 1, 8 and 32
 * writer threads (group commit), and watch fan-out latency to 1,000 watchers.
 *
 *   store_bench [seconds-per-run (default 3)] [data-dir-parent (default /tmp)]
 *   STORE_BENCH_WATCH_ONLY=1 store_bench     (only the watch fan-out part)
 * Built by src/storage/meson.build (target store_bench, not installed).
 *
 * Each run uses a fresh store in a new temp dir, removed afterwards. Values are
 * 1 KiB JSON documents. Watch latency = time from just before store_create to
 * deliver() on the dispatcher thread, for every watcher and event. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage/storage.h"
#include "util/util.h"

static int rm_cb(const char *p, const struct stat *sb, int f, struct FTW *w)
{
    (void)sb; (void)f; (void)w;
    return remove(p);
}

static char *mkdir_tmp(const char *parent)
{
    char *d = xasprintf("%s/store-bench-XXXXXX", parent);
    if (!mkdtemp(d)) {
        perror("mkdtemp");
        exit(1);
    }
    return d;
}

static store_t *open_store(const char *dir)
{
    store_options_t o = { .data_dir = dir, .compact_retain = 10000, .compact_interval_s = 0,
                          .batch_max = 256 };
    store_t *s;
    if (store_open_sqlite(&o, &s) != STORE_OK) {
        fprintf(stderr, "cannot open store in %s\n", dir);
        exit(1);
    }
    return s;
}

static char value[1024];

typedef struct wctx {
    store_t *s;
    int id;
    int64_t deadline_us;
    long n;
    int64_t *lat;       /* per-op latency samples (us) */
    long cap;
} wctx_t;

static void *writer(void *arg)
{
    wctx_t *w = arg;
    char key[64];
    while (time_mono_us() < w->deadline_us) {
        snprintf(key, sizeof(key), "/image.openshift.io/images/t%02d-%08ld", w->id, w->n);
        int64_t t0 = time_mono_us(), rev;
        if (store_create(w->s, key, value, sizeof(value), &rev) != STORE_OK) {
            fprintf(stderr, "create failed\n");
            exit(1);
        }
        if (w->n < w->cap)
            w->lat[w->n] = time_mono_us() - t0;
        w->n++;
    }
    return NULL;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int64_t pct(int64_t *v, long n, double p)
{
    if (n == 0)
        return 0;
    long i = (long)(p * (double)(n - 1));
    return v[i];
}

static void bench_creates(const char *parent, int threads, int secs)
{
    char *dir = mkdir_tmp(parent);
    store_t *s = open_store(dir);
    pthread_t th[64];
    wctx_t w[64];
    int64_t start = time_mono_us();
    for (int i = 0; i < threads; i++) {
        w[i] = (wctx_t){ .s = s, .id = i, .deadline_us = start + secs * 1000000LL, .cap = 1 << 20 };
        w[i].lat = xmalloc(sizeof(int64_t) * (size_t)w[i].cap);
        pthread_create(&th[i], NULL, writer, &w[i]);
    }
    long total = 0, nl = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        total += w[i].n;
    }
    double el = (double)(time_mono_us() - start) / 1e6;
    int64_t *all = xmalloc(sizeof(int64_t) * (size_t)total);
    for (int i = 0; i < threads; i++) {
        long k = w[i].n < w[i].cap ? w[i].n : w[i].cap;
        memcpy(all + nl, w[i].lat, sizeof(int64_t) * (size_t)k);
        nl += k;
        free(w[i].lat);
    }
    qsort(all, (size_t)nl, sizeof(*all), cmp64);
    store_stats_t st;
    store_get_stats(s, &st);
    printf("creates  threads=%-2d  %8.0f creates/s  p50 %5.2f ms  p99 %6.2f ms  (%ld creates, %.1f per txn)\n",
           threads, (double)total / el, pct(all, nl, 0.5) / 1000.0, pct(all, nl, 0.99) / 1000.0, total,
           st.txns ? (double)st.writes / (double)st.txns : 0.0);
    free(all);
    store_close(s);
    nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

/* ---- watch fan-out ---- */
#define NWATCH 1000
#define NEVENTS 300

static int64_t *lat;
static long nlat, caplat;
static atomic_long delivered;

static cache_obj_t *build(void *ctx, const char *key, const char *v, size_t len, int64_t c, int64_t m)
{
    cache_obj_t *o = xcalloc(1, sizeof(*o));
    o->key = xstrdup(key);
    o->json = xstrndup(v, len);
    o->json_len = len;
    o->create_rev = c;
    o->mod_rev = m;
    return o;
}

static int deliver(void *arg, const cache_event_t *ev)
{
    /* the value starts with {"t":<mono us at write start>, */
    int64_t t0 = strtoll(ev->obj->json + 5, NULL, 10);
    if (nlat < caplat)
        lat[nlat++] = time_mono_us() - t0;   /* dispatcher thread only */
    atomic_fetch_add(&delivered, 1);
    return 0;
}

static void closed(void *arg, int reason) { (void)arg; (void)reason; }

static void bench_watch(const char *parent)
{
    char *dir = mkdir_tmp(parent);
    store_t *s = open_store(dir);
    cache_set_t *cs = cache_set_new(s);
    cache_t *c = cache_set_add(cs, "/image.openshift.io/images/", build, NULL, 4096);
    cache_set_start(cs);
    static const cache_watch_ops_t ops = { deliver, closed };
    cache_watcher_t **w = xcalloc(NWATCH, sizeof(*w));
    for (int i = 0; i < NWATCH; i++) {
        int err;
        w[i] = cache_watch(c, NULL, cache_rev(c), &ops, NULL, &err);
    }
    caplat = (long)NWATCH * NEVENTS;
    lat = xmalloc(sizeof(int64_t) * (size_t)caplat);
    char key[64], val[128];
    int64_t wl[NEVENTS];
    int64_t start = time_mono_us();
    for (int i = 0; i < NEVENTS; i++) {
        snprintf(key, sizeof(key), "/image.openshift.io/images/w%06d", i);
        int64_t t0 = time_mono_us(), rev;
        int n = snprintf(val, sizeof(val), "{\"t\":%lld,\"i\":%d}", (long long)t0, i);
        store_create(s, key, val, (size_t)n, &rev);
        wl[i] = time_mono_us() - t0;
        usleep(2000);   /* ~300 writes/s: latency, not throughput */
    }
    while (atomic_load(&delivered) < (long)NWATCH * NEVENTS && time_mono_us() - start < 30000000LL)
        usleep(1000);
    for (int i = 0; i < NWATCH; i++)
        cache_watch_release(w[i]);
    qsort(lat, (size_t)nlat, sizeof(*lat), cmp64);
    qsort(wl, NEVENTS, sizeof(*wl), cmp64);
    printf("watch    watchers=%d  events=%d  deliveries=%ld  write start->deliver p50 %.2f ms  p99 %.2f ms  max %.2f ms\n"
           "         (the durable write alone: p50 %.2f ms  p99 %.2f ms)\n",
           NWATCH, NEVENTS, nlat, pct(lat, nlat, 0.5) / 1000.0, pct(lat, nlat, 0.99) / 1000.0,
           nlat ? lat[nlat - 1] / 1000.0 : 0.0, pct(wl, NEVENTS, 0.5) / 1000.0, pct(wl, NEVENTS, 0.99) / 1000.0);
    free(lat);
    free(w);
    cache_set_free(cs);
    store_close(s);
    nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

int main(int argc, char **argv)
{
    int secs = argc > 1 ? atoi(argv[1]) : 3;
    const char *parent = argc > 2 ? argv[2] : "/tmp";
    if (secs <= 0)
        secs = 3;
    log_level = LOG_WARN;
    memset(value, 'x', sizeof(value));
    memcpy(value, "{\"pad\":\"", 8);
    memcpy(value + sizeof(value) - 2, "\"}", 2);
    int threads[] = { 1, 8, 32 };
    for (size_t i = 0; i < 3 && !getenv("STORE_BENCH_WATCH_ONLY"); i++)
        bench_creates(parent, threads[i], secs);
    bench_watch(parent);
    return 0;
}
