/* Contract tests for the etcd v3 backend against a private etcd (started here on
 * free 127.0.0.1 ports with a temp data dir, killed at the end). Skipped when
 * /usr/bin/etcd is not installed (or IAS_TEST_ETCD names a missing file).
 * Revisions are relative: an empty etcd is at 1, and the tests share one etcd, each under its own key prefix (none a prefix of another). */
#include <arpa/inet.h>
#include <fcntl.h>
#include <pthread.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <cmocka.h>

#include "test_helpers.h"
#include "storage/storage.h"
#include "util/util.h"
#include "store_contract.h"

#define ETCD_BIN "/usr/bin/etcd"

static struct {
    bool present;
    const char *bin;
    pid_t pid;
    char *dir;
    char url[64];
    int peer_port;
    int dead_port;   /* a port nobody listens on */
} g;

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        abort();
    close(fd);
    return ntohs(a.sin_port);
}

static store_t *open_prefix(const char *prefix)
{
    store_etcd_options_t o = { .endpoints = g.url, .key_prefix = prefix, .timeout_ms = 5000 };
    store_t *s = NULL;
    assert_int_equal(store_open_etcd(&o, &s), STORE_OK);
    assert_non_null(s);
    return s;
}

static int start_etcd(void)
{
    char data[512], purl[64], cluster[96], logp[512];
    snprintf(data, sizeof(data), "%s/data", g.dir);
    snprintf(logp, sizeof(logp), "%s/etcd.log", g.dir);
    snprintf(purl, sizeof(purl), "http://127.0.0.1:%d", g.peer_port);
    snprintf(cluster, sizeof(cluster), "default=%s", purl);
    g.pid = fork();
    if (g.pid == 0) {
        /* a test that aborts (assertion, sanitizer) must not leave its etcd running */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(logp, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execl(g.bin, "etcd", "--data-dir", data, "--listen-client-urls", g.url,
              "--advertise-client-urls", g.url, "--listen-peer-urls", purl,
              "--initial-advertise-peer-urls", purl, "--initial-cluster", cluster, (char *)NULL);
        _exit(127);
    }
    if (g.pid < 0)
        return -1;
    /* wait for it to answer (up to 20 s) */
    store_etcd_options_t o = { .endpoints = g.url, .timeout_ms = 1000 };
    int saved = log_level;
    log_level = 99;   /* connection refused while it starts: not worth logging */
    for (int i = 0; i < 200; i++) {
        store_t *s = NULL;
        if (store_open_etcd(&o, &s) == STORE_OK) {
            bool ok = store_healthy(s);
            store_close(s);
            if (ok) {
                log_level = saved;
                return 0;
            }
        }
        struct timespec ts = { 0, 100 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    log_level = saved;
    return -1;
}

static void stop_etcd(void)
{
    if (g.pid > 0) {
        kill(g.pid, SIGTERM);
        waitpid(g.pid, NULL, 0);
    }
    g.pid = 0;
}

static int group_setup(void **state)
{
    (void)state;
    /* IAS_TEST_ETCD overrides the binary (set it to a missing path to check the skip) */
    const char *bin = getenv("IAS_TEST_ETCD") ? getenv("IAS_TEST_ETCD") : ETCD_BIN;
    if (access(bin, X_OK) != 0)
        return 0;
    g.bin = bin;
    g.present = true;
    g.dir = th_tmpdir();
    int cport = free_port();
    g.peer_port = free_port();
    g.dead_port = free_port();
    snprintf(g.url, sizeof(g.url), "http://127.0.0.1:%d", cport);
    return start_etcd();
}

static int group_teardown(void **state)
{
    (void)state;
    stop_etcd();
    th_rmdir(g.dir);
    return 0;
}

#define NEED_ETCD() do { if (!g.present) skip(); } while (0)

static void test_crud(void **state)
{
    (void)state;
    NEED_ETCD();
    store_t *s = open_prefix("/t-crud");
    int64_t b = store_current_rev(s);
    assert_true(b >= 1);
    contract_crud(s, b);

    /* the key prefix isolates stores: another prefix does not see /a */
    store_kv_t kv;
    store_t *o = open_prefix("/u-other");
    assert_int_equal(store_get(o, "/a", &kv), STORE_NOT_FOUND);
    store_close(o);
    store_close(s);
}

static void test_large_value(void **state)
{
    (void)state;
    NEED_ETCD();
    store_t *s = open_prefix("/t-large");
    size_t n = 1024 * 1024;
    char *big = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)(' ' + i % 95);   /* includes quotes and backslashes */
    big[n] = '\0';
    int64_t rev;
    assert_int_equal(store_create(s, "/big", big, n, &rev), STORE_OK);
    store_kv_t kv;
    assert_int_equal(store_get(s, "/big", &kv), STORE_OK);
    assert_int_equal(kv.value_len, n);
    assert_memory_equal(kv.value, big, n);
    store_kv_free(&kv);
    /* just under STORE_MAX_VALUE passes store.c, but with the key and request framing
     * it is over etcd's default --max-request-bytes: etcd's refusal maps to TOO_LARGE */
    big = realloc(big, STORE_MAX_VALUE);
    memset(big, 'x', STORE_MAX_VALUE);
    assert_int_equal(store_create(s, "/big2", big, STORE_MAX_VALUE, &rev), STORE_TOO_LARGE);
    assert_int_equal(store_get(s, "/big2", &kv), STORE_NOT_FOUND);
    free(big);
    store_close(s);
}

static void test_range(void **state)
{
    (void)state;
    NEED_ETCD();
    store_t *s = open_prefix("/t-range");
    contract_range(s, store_current_rev(s));
    store_close(s);
}

/* Ranges are read in pages of 500 keys (etcd_int.h ETCD_RANGE_PAGE): across a page boundary
 * the result is one snapshot, in order, with limit/more/from_key/at_rev as for one request. */
static void check_pages(store_t *s, const char *from, int64_t at, size_t limit, size_t first, size_t want,
                        bool want_more)
{
    store_kv_t *items = NULL;
    size_t n = 0;
    int64_t rev = 0;
    bool more = !want_more;
    assert_int_equal(store_range(s, "/p/", from, at, limit, &items, &n, &rev, &more), STORE_OK);
    assert_int_equal(n, want);
    assert_int_equal(more, want_more);
    if (at)
        assert_int_equal(rev, at);
    for (size_t i = 0; i < n; i++) {
        char k[16];
        snprintf(k, sizeof k, "/p/%04zu", first + i);
        assert_string_equal(items[i].key, k);
    }
    store_kvs_free(items, n);
}

static void test_range_pages(void **state)
{
    (void)state;
    NEED_ETCD();
    store_t *s = open_prefix("/t-pages");
    int64_t mid = 0;
    for (int i = 0; i < 1020; i++) {
        char k[16];
        snprintf(k, sizeof k, "/p/%04d", i);
        assert_int_equal(store_create(s, k, "v", 1, i == 599 ? &mid : NULL), STORE_OK);
    }
    assert_int_equal(store_create(s, "/q", "v", 1, NULL), STORE_OK);   /* past the prefix */
    check_pages(s, NULL, 0, 0, 0, 1020, false);
    check_pages(s, NULL, 0, 500, 0, 500, true);
    check_pages(s, NULL, 0, 1001, 0, 1001, true);
    check_pages(s, NULL, 0, 1020, 0, 1020, false);
    check_pages(s, "/p/0005", 0, 0, 5, 1015, false);
    check_pages(s, "/p/0005", 0, 700, 5, 700, true);
    check_pages(s, NULL, mid, 0, 0, 600, false);     /* every page at that revision */
    check_pages(s, "/p/0100", mid, 450, 100, 450, true);
    store_close(s);
}

static void test_past_revisions(void **state)
{
    (void)state;
    NEED_ETCD();
    store_t *s = open_prefix("/t-past");
    contract_past_revisions(s);
    store_close(s);
}

static void test_replay(void **state)
{
    (void)state;
    NEED_ETCD();
    store_t *s = open_prefix("/t-replay");
    store_t *o = open_prefix("/u-replay");
    int64_t b = store_current_rev(s), rev;
    assert_int_equal(store_create(s, "/r/a", "a1", 2, &rev), STORE_OK);     /* b+1 */
    assert_int_equal(store_create(s, "/x/1", "x", 1, &rev), STORE_OK);      /* b+2, other prefix */
    assert_int_equal(store_update(s, "/r/a", "a2", 2, b + 1, &rev), STORE_OK); /* b+3 */
    assert_int_equal(store_create(o, "/r/z", "z", 1, &rev), STORE_OK);      /* b+4, other store */
    assert_int_equal(store_delete(s, "/r/a", 0, &rev, NULL), STORE_OK);     /* b+5 */
    assert_int_equal(store_create(o, "/r/y", "y", 1, &rev), STORE_OK);      /* b+6, other store: ends the replay */

    evlog_t l = {0};
    assert_int_equal(store_replay(s, "/r/", b, evlog_sink, &l), STORE_OK);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.ev[0].type, STORE_EV_PUT);
    assert_int_equal(l.ev[0].rev, b + 1);
    assert_string_equal(l.keys[0], "/r/a");
    assert_string_equal(l.vals[0], "a1");
    assert_null(l.prevs[0]);
    assert_int_equal(l.ev[0].prev_mod_rev, 0);
    assert_int_equal(l.ev[0].create_rev, b + 1);
    assert_int_equal(l.ev[1].type, STORE_EV_PUT);
    assert_int_equal(l.ev[1].rev, b + 3);
    assert_string_equal(l.vals[1], "a2");
    assert_string_equal(l.prevs[1], "a1");
    assert_int_equal(l.ev[1].prev_mod_rev, b + 1);
    assert_int_equal(l.ev[2].type, STORE_EV_DELETE);
    assert_int_equal(l.ev[2].rev, b + 5);
    assert_string_equal(l.keys[2], "/r/a");
    assert_null(l.vals[2]);
    assert_string_equal(l.prevs[2], "a2");
    assert_int_equal(l.ev[2].prev_mod_rev, b + 3);
    assert_int_equal(l.ev[2].create_rev, b + 1);
    evlog_free(&l);

    /* from the middle, all prefixes of this store */
    assert_int_equal(store_replay(s, "", b + 2, evlog_sink, &l), STORE_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.ev[0].rev, b + 3);
    assert_int_equal(l.ev[1].rev, b + 5);
    evlog_free(&l);
    /* nothing after the current revision; a future one is refused */
    assert_int_equal(store_replay(s, "", b + 6, evlog_sink, &l), STORE_OK);
    assert_int_equal(l.n, 0);
    assert_int_equal(store_replay(s, "", b + 7, evlog_sink, &l), STORE_FUTURE_REV);
    store_close(o);
    store_close(s);
}

/* The live feed: a thread-safe event collector (the sink runs on the watch thread). */
typedef struct feed {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    evlog_t log;          /* PUT and DELETE events */
    int64_t progress;     /* newest PROGRESS revision */
    int64_t reset;        /* newest RESET revision */
    bool gate;            /* while set, the sink blocks (the test holds the feed thread) */
} feed_t;

static void feed_sink(void *ctx, const store_event_t *ev)
{
    feed_t *f = ctx;
    pthread_mutex_lock(&f->mu);
    while (f->gate)
        pthread_cond_wait(&f->cond, &f->mu);
    if (ev->type == STORE_EV_PROGRESS || ev->type == STORE_EV_RESET) {
        if (ev->type == STORE_EV_PROGRESS && ev->rev > f->progress)
            f->progress = ev->rev;
        if (ev->type == STORE_EV_RESET)
            f->reset = ev->rev;
    } else if (f->log.n < EVLOG_MAX) {
        evlog_t *l = &f->log;
        l->ev[l->n] = *ev;
        l->keys[l->n] = strdup(ev->key);
        l->vals[l->n] = ev->value ? strndup(ev->value, ev->value_len) : NULL;
        l->prevs[l->n] = ev->prev_value ? strndup(ev->prev_value, ev->prev_value_len) : NULL;
        l->ev[l->n].key = l->ev[l->n].value = l->ev[l->n].prev_value = NULL;
        l->n++;
    }
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->mu);
}

/* Polls *v (guarded by mu) until it is at least min, for up to 10 s; returns the last value. */
static int64_t wait_locked(pthread_mutex_t *mu, const int64_t *v, int64_t min)
{
    int64_t got = 0;
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(mu);
        got = *v;
        pthread_mutex_unlock(mu);
        if (got >= min)
            break;
        usleep(10000);
    }
    return got;
}

static size_t feed_wait(feed_t *f, size_t n)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 10;
    pthread_mutex_lock(&f->mu);
    while (f->log.n < n && pthread_cond_timedwait(&f->cond, &f->mu, &dl) == 0)
        ;
    size_t got = f->log.n;
    pthread_mutex_unlock(&f->mu);
    return got;
}

static void test_sink(void **state)
{
    (void)state;
    NEED_ETCD();
    feed_t f = { .mu = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
    store_t *s = open_prefix("/t-sink");
    store_t *o = open_prefix("/u-sink");
    assert_int_equal(store_create(s, "/before", "b", 1, NULL), STORE_OK);   /* not delivered */
    store_set_sink(s, feed_sink, &f);
    int64_t b = store_current_rev(s), rev;
    assert_int_equal(store_create(s, "/k", "v1", 2, &rev), STORE_OK);       /* b+1 */
    assert_int_equal(store_create(o, "/k", "other", 5, &rev), STORE_OK);    /* b+2: other prefix */
    assert_int_equal(store_update(s, "/k", "v2", 2, b + 1, &rev), STORE_OK); /* b+3 */
    assert_int_equal(store_delete(s, "/k", b + 3, &rev, NULL), STORE_OK);   /* b+4 */
    assert_int_equal(feed_wait(&f, 3), 3);
    evlog_t *l = &f.log;
    assert_int_equal(l->ev[0].type, STORE_EV_PUT);
    assert_int_equal(l->ev[0].rev, b + 1);
    assert_string_equal(l->keys[0], "/k");
    assert_string_equal(l->vals[0], "v1");
    assert_null(l->prevs[0]);
    assert_int_equal(l->ev[0].create_rev, b + 1);
    assert_int_equal(l->ev[1].rev, b + 3);
    assert_string_equal(l->vals[1], "v2");
    assert_string_equal(l->prevs[1], "v1");
    assert_int_equal(l->ev[1].prev_mod_rev, b + 1);
    assert_int_equal(l->ev[2].type, STORE_EV_DELETE);
    assert_int_equal(l->ev[2].rev, b + 4);
    assert_null(l->vals[2]);
    assert_string_equal(l->prevs[2], "v2");
    assert_int_equal(l->ev[2].create_rev, b + 1);
    assert_true(store_healthy(s));
    /* close stops the watch thread promptly (no 1 s poll wait) */
    int64_t t0 = time_now_ms();
    store_close(s);
    assert_true(time_now_ms() - t0 < 500);
    assert_int_equal(l->n, 3);
    evlog_free(l);
    store_close(o);
}

/* The feed survives an etcd restart: it reconnects from the revision after its last event. */
static void test_sink_reconnect(void **state)
{
    (void)state;
    NEED_ETCD();
    feed_t f = { .mu = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
    store_t *s = open_prefix("/t-reconnect");
    store_set_sink(s, feed_sink, &f);
    int64_t r1, r2, r3;
    assert_int_equal(store_create(s, "/a", "1", 1, &r1), STORE_OK);
    assert_int_equal(feed_wait(&f, 1), 1);
    stop_etcd();
    assert_int_equal(store_create(s, "/b", "2", 1, &r2), STORE_UNAVAILABLE);
    assert_false(store_healthy(s));
    assert_int_equal(start_etcd(), 0);
    assert_int_equal(store_create(s, "/b", "2", 1, &r2), STORE_OK);
    assert_int_equal(store_create(s, "/c", "3", 1, &r3), STORE_OK);
    assert_int_equal(feed_wait(&f, 3), 3);
    assert_int_equal(f.log.ev[0].rev, r1);
    assert_int_equal(f.log.ev[1].rev, r2);
    assert_string_equal(f.log.keys[1], "/b");
    assert_int_equal(f.log.ev[2].rev, r3);
    assert_true(store_healthy(s));
    store_close(s);
    evlog_free(&f.log);
}

static void test_unavailable_and_failover(void **state)
{
    (void)state;
    NEED_ETCD();
    char eps[160];
    snprintf(eps, sizeof(eps), "http://127.0.0.1:%d", g.dead_port);
    store_etcd_options_t o = { .endpoints = eps, .timeout_ms = 1000 };
    store_t *s = NULL;
    assert_int_equal(store_open_etcd(&o, &s), STORE_UNAVAILABLE);
    assert_null(s);
    o.endpoints = "not-a-url";
    assert_int_equal(store_open_etcd(&o, &s), STORE_UNAVAILABLE);
    /* a dead first endpoint: the second one serves */
    snprintf(eps, sizeof(eps), "http://127.0.0.1:%d, %s/", g.dead_port, g.url);
    o.endpoints = eps;
    o.key_prefix = "/t-failover";
    assert_int_equal(store_open_etcd(&o, &s), STORE_OK);
    int64_t rev;
    assert_int_equal(store_create(s, "/k", "v", 1, &rev), STORE_OK);
    assert_true(store_healthy(s));
    store_close(s);
}

/* The watch cache on the etcd backend: loads, follows writes through the feed
 * (cache_wait_rev: events arrive after the write returned), and a watcher resumes
 * from an older revision through store_replay. */
static cache_obj_t *cbuild(void *ctx, const char *key, const char *value, size_t len,
                           int64_t create_rev, int64_t mod_rev)
{
    (void)ctx;
    cache_obj_t *o = calloc(1, sizeof(*o));
    o->key = strdup(key);
    o->json = strndup(value, len);
    o->json_len = len;
    o->create_rev = create_rev;
    o->mod_rev = mod_rev;
    return o;
}

typedef struct cw {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int64_t revs[16];
    int types[16];
    size_t n;
    int64_t closed;
} cw_t;

static int cw_deliver(void *arg, const cache_event_t *ev)
{
    cw_t *w = arg;
    pthread_mutex_lock(&w->mu);
    if (w->n < 16) {
        w->revs[w->n] = ev->rev;
        w->types[w->n++] = ev->type;
    }
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->mu);
    return 0;
}

static void cw_closed(void *arg, int reason)
{
    cw_t *w = arg;
    pthread_mutex_lock(&w->mu);
    w->closed = reason + 100;
    pthread_mutex_unlock(&w->mu);
}

static size_t cw_wait(cw_t *w, size_t n)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 10;
    pthread_mutex_lock(&w->mu);
    while (w->n < n && pthread_cond_timedwait(&w->cond, &w->mu, &dl) == 0)
        ;
    size_t got = w->n;
    pthread_mutex_unlock(&w->mu);
    return got;
}

static void test_cache_on_etcd(void **state)
{
    (void)state;
    NEED_ETCD();
    store_t *s = open_prefix("/t-cache");
    int64_t r0, r1, r2;
    assert_int_equal(store_create(s, "/c/a", "a0", 2, &r0), STORE_OK);
    cache_set_t *cs = cache_set_new(s);
    cache_t *c = cache_set_add(cs, "/c/", cbuild, NULL, 64);
    assert_int_equal(cache_set_start(cs), 0);
    assert_int_equal(cache_count(c), 1);
    assert_int_equal(store_update(s, "/c/a", "a1", 2, r0, &r1), STORE_OK);
    assert_int_equal(store_create(s, "/c/b", "b1", 2, &r2), STORE_OK);
    assert_int_equal(cache_wait_rev(c, r2, 10000), 0);
    assert_true(cache_rev(c) >= r2);
    cache_obj_t *o = cache_get(c, "/c/a");
    assert_non_null(o);
    assert_string_equal(o->json, "a1");
    assert_int_equal(o->mod_rev, r1);
    cache_obj_unref(o);
    assert_int_equal(cache_count(c), 2);

    /* a watcher from r0: r1 and r2 (from the ring or replayed), then a live delete */
    cw_t w = { .mu = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
    cache_watch_ops_t ops = { cw_deliver, cw_closed };
    int err = 0;
    cache_watcher_t *cw = cache_watch(c, NULL, r0, &ops, &w, &err);
    assert_non_null(cw);
    int64_t r3;
    assert_int_equal(store_delete(s, "/c/b", r2, &r3, NULL), STORE_OK);
    assert_int_equal(cw_wait(&w, 3), 3);
    assert_int_equal(w.revs[0], r1);
    assert_int_equal(w.types[0], CACHE_EV_MODIFIED);
    assert_int_equal(w.revs[1], r2);
    assert_int_equal(w.types[1], CACHE_EV_ADDED);
    assert_int_equal(w.revs[2], r3);
    assert_int_equal(w.types[2], CACHE_EV_DELETED);
    cache_watch_cancel(cw);
    cache_watch_release(cw);
    /* closed() runs now, or on the dispatcher if it was still inside deliver() */
    assert_int_equal(wait_locked(&w.mu, &w.closed, 1), 100);
    cache_set_free(cs);
    store_close(s);
}

/* Last: compaction is global to the etcd. */
static void test_compaction(void **state)
{
    (void)state;
    NEED_ETCD();
    store_t *s = open_prefix("/t-compact");
    int64_t b = store_current_rev(s), rev;
    for (int i = 0; i < 5; i++)
        put(s, "/c/k", i % 2 ? "odd" : "even");     /* b+1 .. b+5 */
    assert_int_equal(store_compacted_rev(s), 0);
    assert_int_equal(store_compact(s, b + 3), STORE_OK);
    contract_compaction_bounds(s, "/c/", b, b + 3);
    store_kv_t *items;
    size_t n;
    bool more;
    assert_int_equal(store_range(s, "/c/", NULL, b + 3, 0, &items, &n, &rev, &more), STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(items[0].value, "even");
    store_kvs_free(items, n);
    evlog_t l = {0};
    assert_int_equal(store_replay(s, "/c/", b + 1, evlog_sink, &l), STORE_COMPACTED);
    assert_int_equal(l.n, 0);
    assert_int_equal(store_replay(s, "/c/", b + 3, evlog_sink, &l), STORE_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.ev[0].rev, b + 4);
    assert_string_equal(l.prevs[0], "even");
    evlog_free(&l);
    store_stats_t st;
    store_get_stats(s, &st);
    assert_int_equal(st.compactions, 1);

    /* a second client learns of the compaction from etcd's answer */
    store_t *o = open_prefix("/t-compact");
    assert_int_equal(store_compacted_rev(o), 0);
    assert_int_equal(store_replay(o, "/c/", b, evlog_sink, &l), STORE_COMPACTED);
    assert_int_equal(store_compacted_rev(o), b + 3);
    store_close(o);
    store_close(s);
}

typedef struct barrier_arg {
    store_t *s;
    int64_t min_rev;
    int rc;
    int64_t rev;
} barrier_arg_t;

static void *barrier_thread(void *p)
{
    barrier_arg_t *a = p;
    a->rc = store_read_barrier(a->s, &a->rev);
    return NULL;
}

/* Writes outside the store's prefix reach the sink as PROGRESS (the cache's revision follows
 * etcd's); the read barrier returns etcd's current revision, also to concurrent callers. */
static void test_progress_and_barrier(void **state)
{
    (void)state;
    NEED_ETCD();
    feed_t f = { .mu = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
    store_t *s = open_prefix("/t-progress");
    store_t *o = open_prefix("/u-progress");
    assert_true(store_reads_need_barrier(s));
    assert_string_equal(store_backend_name(s), "etcd");
    store_set_sink(s, feed_sink, &f);
    int64_t rev;
    assert_int_equal(store_create(o, "/k", "other", 5, &rev), STORE_OK);
    assert_int_equal(wait_locked(&f.mu, &f.progress, rev), rev);
    assert_int_equal(feed_wait(&f, 0), 0);                 /* no PUT event for it */
    assert_int_equal(store_create(s, "/k", "mine", 4, &rev), STORE_OK);
    assert_int_equal(feed_wait(&f, 1), 1);
    int64_t b;
    assert_int_equal(store_read_barrier(s, &b), STORE_OK);
    assert_int_equal(b, rev);
    barrier_arg_t a[8];
    pthread_t t[8];
    for (int i = 0; i < 8; i++) {
        a[i] = (barrier_arg_t){ .s = s, .min_rev = rev };
        pthread_create(&t[i], NULL, barrier_thread, &a[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(a[i].rc, STORE_OK);
        assert_true(a[i].rev >= a[i].min_rev);
    }
    store_close(s);
    store_close(o);
    evlog_free(&f.log);
}

static bool wait_leading(store_election_t *e, bool want, int ms)
{
    for (int i = 0; i < ms / 10; i++) {
        if (store_election_leading(e) == want)
            return true;
        usleep(10000);
    }
    return store_election_leading(e) == want;
}

/* One of two candidates leads; both know who; when it resigns the other takes over. */
static void test_election(void **state)
{
    (void)state;
    NEED_ETCD();
    store_t *s = open_prefix("/t-elect");
    store_election_t *a = store_election_start(s, "ctl", "alpha", 2);
    assert_true(wait_leading(a, true, 5000));
    store_election_t *b = store_election_start(s, "ctl", "beta", 2);
    usleep(700 * 1000);                                   /* > one retry period of b */
    assert_false(store_election_leading(b));
    char *h = store_election_holder(b);
    assert_string_equal(h, "alpha");
    free(h);
    int64_t t0 = time_now_ms();
    store_election_stop(a);                               /* revokes: b need not wait for expiry */
    assert_true(wait_leading(b, true, 3000));
    assert_true(time_now_ms() - t0 < 1500);
    h = store_election_holder(b);
    assert_string_equal(h, "beta");
    free(h);
    store_election_stop(b);
    /* the embedded store: the process always leads */
    char *dir = th_tmpdir();
    store_options_t so = { .data_dir = dir, .compact_retain = 10 };
    store_t *q = NULL;
    assert_int_equal(store_open_sqlite(&so, &q), STORE_OK);
    assert_false(store_reads_need_barrier(q));
    store_election_t *e = store_election_start(q, "ctl", "solo", 2);
    assert_true(store_election_leading(e));
    store_election_stop(e);
    store_close(q);
    th_rmdir(dir);
    store_close(s);
}

/* The compactor keeps `retain` revisions (after test_compaction: compaction is global). */
static void test_compactor(void **state)
{
    (void)state;
    NEED_ETCD();
    store_t *s = open_prefix("/t-compactor");
    for (int i = 0; i < 6; i++)
        put(s, "/k", "v");
    int64_t cur = store_current_rev(s);
    store_compactor_t *c = store_compactor_start(s, NULL, 2, 1);
    assert_non_null(c);
    for (int i = 0; i < 300 && store_compacted_rev(s) < cur - 2; i++)
        usleep(10000);
    assert_int_equal(store_compacted_rev(s), cur - 2);
    store_compactor_stop(c);
    assert_null(store_compactor_start(s, NULL, 2, 0));    /* interval 0: off */
    store_close(s);
}

/* The feed falls behind a compaction (held in the sink while etcd restarts and another
 * client writes and compacts): it passes RESET at a current revision and goes on. */
static void test_sink_reset(void **state)
{
    (void)state;
    NEED_ETCD();
    feed_t f = { .mu = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
    store_t *s = open_prefix("/t-reset");
    store_set_sink(s, feed_sink, &f);
    int64_t r1, r2;
    assert_int_equal(store_create(s, "/a", "1", 1, &r1), STORE_OK);
    assert_int_equal(feed_wait(&f, 1), 1);
    pthread_mutex_lock(&f.mu);
    f.gate = true;                                        /* the next sink call blocks */
    pthread_mutex_unlock(&f.mu);
    assert_int_equal(store_create(s, "/b", "2", 1, &r2), STORE_OK);
    usleep(200 * 1000);                                   /* let the feed take /b and block */
    stop_etcd();                                          /* its stream dies meanwhile */
    assert_int_equal(start_etcd(), 0);
    store_t *o = open_prefix("/t-reset");
    put(o, "/c", "3");
    int64_t cur = put(o, "/d", "4");
    assert_int_equal(store_compact(o, cur), STORE_OK);
    pthread_mutex_lock(&f.mu);
    f.gate = false;
    pthread_cond_broadcast(&f.cond);
    pthread_mutex_unlock(&f.mu);
    assert_true(wait_locked(&f.mu, &f.reset, cur) >= cur);
    int64_t r5;
    assert_int_equal(store_create(s, "/e", "5", 1, &r5), STORE_OK);
    assert_int_equal(feed_wait(&f, 3), 3);                /* /a, /b, then /e: /c and /d were lost */
    assert_string_equal(f.log.keys[1], "/b");
    assert_string_equal(f.log.keys[2], "/e");
    assert_int_equal(f.log.ev[2].rev, r5);
    assert_true(store_healthy(s));
    store_close(o);
    store_close(s);
    evlog_free(&f.log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crud),
        cmocka_unit_test(test_large_value),
        cmocka_unit_test(test_range),
        cmocka_unit_test(test_range_pages),
        cmocka_unit_test(test_past_revisions),
        cmocka_unit_test(test_replay),
        cmocka_unit_test(test_sink),
        cmocka_unit_test(test_sink_reconnect),
        cmocka_unit_test(test_unavailable_and_failover),
        cmocka_unit_test(test_cache_on_etcd),
        cmocka_unit_test(test_progress_and_barrier),
        cmocka_unit_test(test_election),
        cmocka_unit_test(test_compaction),
        cmocka_unit_test(test_compactor),
        cmocka_unit_test(test_sink_reset),
    };
    return cmocka_run_group_tests_name("storage_etcd", tests, group_setup, group_teardown);
}
