/* The etcd backend against a hostile peer: a fake etcd (a thread serving HTTP/1.1 on a free
 * 127.0.0.1 port) that answers ranges with an endless body, announces a huge length, sends
 * a watch response without end or nothing at all. Every store call must fail with
 * STORE_UNAVAILABLE after reading at most its limit (etcd_int.h: 64 MiB), in bounded
 * time, and the event feed must drop such a stream and reconnect. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage/storage.h"
#include "util/util.h"

#define LIMIT ((long long)64 << 20)          /* ETCD_MAX_ANSWER = ETCD_MAX_WATCH_LINE */
#define SLACK ((long long)16 << 20)          /* socket buffers between the fake and curl */
#define FAKE_CAP ((long long)1 << 30)        /* the fake gives up here: a client that never stops fails */
#define HDR "{\"header\":{\"cluster_id\":\"1\",\"revision\":\"5\"}"
#define KV "{\"key\":\"L2xpbS9r\",\"create_revision\":\"4\",\"mod_revision\":\"4\",\"value\":\"dg==\"}"   /* /lim/k = v */

typedef enum { FK_OK, FK_ENDLESS, FK_HUGE_LENGTH, FK_BIG_PAGES, FK_MUTE } fk_mode_t;

#define MAX_CONNS 64
static struct {
    int lfd, port;
    pthread_t thr, conns[MAX_CONNS];
    atomic_int n_conns;
    atomic_bool stop;
    atomic_int range_mode;      /* answers to ranges other than the count-only one */
    atomic_int watch_mode;      /* the first watch connection; later ones are FK_OK */
    atomic_int n_watches;
    atomic_llong sent_max;      /* most bytes of one oversize answer */
    atomic_int limits[16];      /* the "limit" of each paged range request */
    atomic_int n_limits;
} fk;

static void note_sent(long long n)
{
    long long old = atomic_load(&fk.sent_max);
    while (n > old && !atomic_compare_exchange_weak(&fk.sent_max, &old, n))
        ;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void answer(int fd, const char *body)
{
    char h[128];
    snprintf(h, sizeof h, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
             strlen(body));
    send_all(fd, h, strlen(h));
    send_all(fd, body, strlen(body));
}

/* Sends head, then chunk until the peer hangs up (or FAKE_CAP). */
static void endless(int fd, const char *head, const char *chunk)
{
    long long sent = 0;
    size_t n = strlen(chunk);
    if (send_all(fd, head, strlen(head)) != 0)
        return;
    while (sent < FAKE_CAP && !atomic_load(&fk.stop) && send_all(fd, chunk, n) == 0)
        sent += (long long)n;
    note_sent(sent);
}

/* Waits until the client closes the connection (or the fake stops). */
static void hold(int fd)
{
    char c[256];
    while (!atomic_load(&fk.stop)) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) > 0 && recv(fd, c, sizeof c, 0) <= 0)
            return;
    }
}

static char *big_chunk(void)
{
    static char chunk[70000];
    if (!chunk[0]) {
        strcpy(chunk, "{\"key\":\"L2xpbS9r\",\"value\":\"");
        size_t l = strlen(chunk);
        memset(chunk + l, 'A', 65536);
        strcpy(chunk + l + 65536, "\"},");
    }
    return chunk;
}

static const char *const stream_head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n";

static void serve_watch(int fd)
{
    int n = atomic_fetch_add(&fk.n_watches, 1) + 1;
    int mode = n == 1 ? atomic_load(&fk.watch_mode) : FK_OK;
    if (mode == FK_MUTE) {
        hold(fd);
        return;
    }
    if (send_all(fd, stream_head, strlen(stream_head)) != 0 ||
        send_all(fd, "{\"result\":" HDR ",\"created\":true}}\n", strlen("{\"result\":" HDR ",\"created\":true}}\n")) != 0)
        return;
    if (mode == FK_ENDLESS) {
        endless(fd, "{\"result\":" HDR ",\"events\":[", big_chunk());
        return;
    }
    const char *ev = "{\"result\":{\"header\":{\"cluster_id\":\"1\",\"revision\":\"6\"},\"events\":[{\"kv\":"
                     "{\"key\":\"L2xpbS9r\",\"create_revision\":\"6\",\"mod_revision\":\"6\",\"version\":\"1\","
                     "\"value\":\"dg==\"}}]}}\n";
    if (send_all(fd, ev, strlen(ev)) == 0)
        hold(fd);
}

/* A paged range: true if the answer was sent and the connection stays usable. */
static bool serve_range(int fd, const char *body)
{
    const char *l = strstr(body, "\"limit\":\"");
    int limit = l ? atoi(l + 9) : 0;
    int i = atomic_fetch_add(&fk.n_limits, 1);
    if (i < 16)
        atomic_store(&fk.limits[i], limit);
    int mode = atomic_load(&fk.range_mode);
    if (mode == FK_OK || (mode == FK_BIG_PAGES && limit == 1)) {
        answer(fd, HDR ",\"kvs\":[" KV "],\"count\":\"1\"}");
        return true;
    }
    if (mode == FK_HUGE_LENGTH) {
        const char *h = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000000000\r\n\r\n";
        send_all(fd, h, strlen(h));
        endless(fd, HDR ",\"kvs\":[", big_chunk());
        return false;
    }
    if (send_all(fd, stream_head, strlen(stream_head)) == 0)
        endless(fd, HDR ",\"kvs\":[", big_chunk());   /* kvs without end */
    return false;
}

/* One connection: HTTP/1.1 requests with a Content-Length body, kept alive. */
static void *conn_main(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char req[8192];
    size_t have = 0;
    while (!atomic_load(&fk.stop)) {
        char *end = memmem(req, have, "\r\n\r\n", 4);
        if (!end) {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            if (have == sizeof req - 1)
                break;
            if (poll(&p, 1, 100) <= 0)
                continue;
            ssize_t r = recv(fd, req + have, sizeof req - 1 - have, 0);
            if (r <= 0)
                break;
            have += (size_t)r;
            continue;
        }
        req[have] = '\0';
        const char *cl = strcasestr(req, "Content-Length:");
        size_t hlen = (size_t)(end + 4 - req), blen = cl ? (size_t)atol(cl + 15) : 0;
        while (have < hlen + blen && have < sizeof req - 1) {
            ssize_t r = recv(fd, req + have, sizeof req - 1 - have, 0);
            if (r <= 0)
                goto out;
            have += (size_t)r;
        }
        req[have] = '\0';
        char body[4096];
        snprintf(body, sizeof body, "%.*s", (int)blen, req + hlen);
        bool keep = true;
        if (strncmp(req, "POST /v3/watch ", 15) == 0) {
            serve_watch(fd);
            keep = false;
        } else if (strncmp(req, "POST /v3/kv/range ", 18) == 0 && !strstr(body, "count_only")) {
            keep = serve_range(fd, body);
        } else {
            answer(fd, HDR ",\"count\":\"0\"}");   /* count-only range, status, ... */
        }
        if (!keep)
            break;
        memmove(req, req + hlen + blen, have - hlen - blen);
        have -= hlen + blen;
    }
out:
    close(fd);
    return NULL;
}

static void *accept_main(void *arg)
{
    (void)arg;
    while (!atomic_load(&fk.stop)) {
        struct pollfd p = {.fd = fk.lfd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        int fd = accept(fk.lfd, NULL, NULL);
        int i = atomic_load(&fk.n_conns);
        if (fd < 0)
            continue;
        if (i >= MAX_CONNS || pthread_create(&fk.conns[i], NULL, conn_main, (void *)(intptr_t)fd) != 0) {
            close(fd);
            continue;
        }
        atomic_store(&fk.n_conns, i + 1);
    }
    return NULL;
}

static void fake_start(int range_mode, int watch_mode)
{
    memset(&fk, 0, sizeof fk);
    atomic_store(&fk.range_mode, range_mode);
    atomic_store(&fk.watch_mode, watch_mode);
    fk.lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_true(fk.lfd >= 0);
    assert_int_equal(bind(fk.lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fk.lfd, 16), 0);
    assert_int_equal(getsockname(fk.lfd, (struct sockaddr *)&a, &len), 0);
    fk.port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&fk.thr, NULL, accept_main, NULL), 0);
}

static void fake_stop(void)
{
    atomic_store(&fk.stop, true);
    pthread_join(fk.thr, NULL);
    for (int i = 0; i < atomic_load(&fk.n_conns); i++)
        pthread_join(fk.conns[i], NULL);
    close(fk.lfd);
}

static store_t *open_fake(int timeout_ms)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", fk.port);
    store_etcd_options_t o = {.endpoints = url, .key_prefix = "/lim", .timeout_ms = timeout_ms};
    store_t *s = NULL;
    assert_int_equal(store_open_etcd(&o, &s), STORE_OK);
    return s;
}

/* A range answered with a body without end: each page asked with fewer keys (500, 31, 1)
 * is cut at the limit; the call fails, in bounded time. A get likewise. */
static void test_range_endless(void **state)
{
    (void)state;
    fake_start(FK_ENDLESS, FK_OK);
    store_t *s = open_fake(20000);
    store_kv_t *items = NULL;
    size_t n = 9;
    int64_t rev = 0, t0 = time_now_ms();
    bool more = true;
    assert_int_equal(store_range(s, "/", NULL, 0, 0, &items, &n, &rev, &more), STORE_UNAVAILABLE);
    assert_null(items);
    assert_int_equal(n, 0);
    assert_int_equal(atomic_load(&fk.n_limits), 3);
    assert_int_equal(atomic_load(&fk.limits[0]), 500);
    assert_int_equal(atomic_load(&fk.limits[1]), 31);
    assert_int_equal(atomic_load(&fk.limits[2]), 1);
    store_kv_t kv;
    assert_int_equal(store_get(s, "/k", &kv), STORE_UNAVAILABLE);
    assert_true(time_now_ms() - t0 < 20000);
    long long sent = atomic_load(&fk.sent_max);
    assert_true(sent >= LIMIT - SLACK && sent < LIMIT + SLACK);   /* read up to the limit, no further */
    store_close(s);
    fake_stop();
}

/* Pages over the limit are asked again with fewer keys until one fits. */
static void test_range_shrinks_pages(void **state)
{
    (void)state;
    fake_start(FK_BIG_PAGES, FK_OK);
    store_t *s = open_fake(20000);
    store_kv_t *items = NULL;
    size_t n = 0;
    int64_t rev = 0;
    bool more = true;
    assert_int_equal(store_range(s, "/", NULL, 0, 0, &items, &n, &rev, &more), STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(items[0].key, "/k");
    assert_string_equal(items[0].value, "v");
    assert_int_equal(rev, 5);
    assert_false(more);
    assert_int_equal(atomic_load(&fk.n_limits), 3);
    assert_int_equal(atomic_load(&fk.limits[2]), 1);
    store_kvs_free(items, n);
    store_close(s);
    fake_stop();
}

/* An announced length past the limit is refused before the body is read. */
static void test_huge_length(void **state)
{
    (void)state;
    fake_start(FK_HUGE_LENGTH, FK_OK);
    store_t *s = open_fake(20000);
    store_kv_t kv;
    int64_t t0 = time_now_ms();
    assert_int_equal(store_get(s, "/k", &kv), STORE_UNAVAILABLE);
    assert_true(time_now_ms() - t0 < 5000);
    store_close(s);
    fake_stop();
    assert_true(atomic_load(&fk.sent_max) < SLACK);
}

typedef struct feed {
    pthread_mutex_t mu;
    int64_t put_rev;      /* revision of the PUT of /k, 0 = none yet */
} feed_t;

static void feed_sink(void *ctx, const store_event_t *ev)
{
    feed_t *f = ctx;
    if (ev->type != STORE_EV_PUT || strcmp(ev->key, "/k") != 0 || ev->value_len != 1 || ev->value[0] != 'v')
        return;
    pthread_mutex_lock(&f->mu);
    f->put_rev = ev->rev;
    pthread_mutex_unlock(&f->mu);
}

static int64_t feed_wait(feed_t *f)
{
    int64_t got = 0;
    for (int i = 0; i < 1500 && !got; i++) {
        pthread_mutex_lock(&f->mu);
        got = f->put_rev;
        pthread_mutex_unlock(&f->mu);
        usleep(10000);
    }
    return got;
}

/* A watch response without end is cut at the limit; the feed reconnects from its revision
 * and gets the event the second stream carries. */
static void test_watch_overflow_reconnects(void **state)
{
    (void)state;
    fake_start(FK_OK, FK_ENDLESS);
    store_t *s = open_fake(20000);
    feed_t f = {.mu = PTHREAD_MUTEX_INITIALIZER};
    store_set_sink(s, feed_sink, &f);
    assert_int_equal(feed_wait(&f), 6);
    assert_int_equal(atomic_load(&fk.n_watches), 2);
    long long sent = atomic_load(&fk.sent_max);
    assert_true(sent >= LIMIT - SLACK && sent < LIMIT + SLACK);
    store_close(s);
    fake_stop();
}

/* A watch that is accepted but never answered is given up after the request timeout. */
static void test_watch_mute_reconnects(void **state)
{
    (void)state;
    fake_start(FK_OK, FK_MUTE);
    store_t *s = open_fake(500);
    feed_t f = {.mu = PTHREAD_MUTEX_INITIALIZER};
    int64_t t0 = time_now_ms();
    store_set_sink(s, feed_sink, &f);
    assert_int_equal(feed_wait(&f), 6);
    assert_true(time_now_ms() - t0 >= 500);
    assert_int_equal(atomic_load(&fk.n_watches), 2);
    store_close(s);
    fake_stop();
}

/* Replay reads through a watch too: an endless response fails it. */
static void test_replay_overflow(void **state)
{
    (void)state;
    fake_start(FK_OK, FK_ENDLESS);
    store_t *s = open_fake(20000);
    feed_t f = {.mu = PTHREAD_MUTEX_INITIALIZER};
    assert_int_equal(store_replay(s, "/", 3, feed_sink, &f), STORE_UNAVAILABLE);
    long long sent = atomic_load(&fk.sent_max);
    assert_true(sent >= LIMIT - SLACK && sent < LIMIT + SLACK);
    store_close(s);
    fake_stop();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_range_endless),
        cmocka_unit_test(test_range_shrinks_pages),
        cmocka_unit_test(test_huge_length),
        cmocka_unit_test(test_watch_overflow_reconnects),
        cmocka_unit_test(test_watch_mute_reconnects),
        cmocka_unit_test(test_replay_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
