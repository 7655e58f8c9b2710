/* Unit tests for server/: a real server on 127.0.0.1:0 inside the test process,
 * driven with plain sockets so the bytes on the wire are what we check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "server/http.h"
#include "util/util.h"

/* ---- test handler ---- */

static atomic_int closes;          /* on_close calls */
static atomic_int writer_failed;   /* a stream writer saw -1 */
static atomic_size_t writer_pending_max;
static pthread_t writers[16];
static atomic_int nwriters;

typedef struct stream_job {
    http_stream_t *st;
    int mode; /* 0: three events then end; 1: write until -1; 2: write big until -1 */
    pthread_mutex_t lock; /* like api/watch.c: stream calls and on_close are serialised */
    bool closed;
} stream_job_t;

/* Stream calls under the job lock, skipped once on_close has run. */
static int job_write(stream_job_t *j, const char *p, size_t n)
{
    pthread_mutex_lock(&j->lock);
    int rc = j->closed ? -1 : http_stream_write(j->st, p, n);
    if (rc == 0 && j->mode != 0) {
        size_t pend = http_stream_pending(j->st);
        if (pend > atomic_load(&writer_pending_max))
            atomic_store(&writer_pending_max, pend);
    }
    pthread_mutex_unlock(&j->lock);
    return rc;
}

static void job_end(stream_job_t *j)
{
    pthread_mutex_lock(&j->lock);
    if (!j->closed)
        http_stream_end(j->st);
    pthread_mutex_unlock(&j->lock);
}

static void stream_closed(void *arg)
{
    stream_job_t *j = arg;
    atomic_fetch_add(&closes, 1);
    if (j->mode < 0) { /* no writer thread owns it */
        pthread_mutex_destroy(&j->lock);
        free(j);
        return;
    }
    pthread_mutex_lock(&j->lock);
    j->closed = true;
    pthread_mutex_unlock(&j->lock);
}

static void *writer_main(void *arg)
{
    stream_job_t *j = arg;
    if (j->mode == 0) {
        const char *ev[] = {"{\"type\":\"ADDED\"}\n", "{\"type\":\"MODIFIED\"}\n", "{\"type\":\"DELETED\"}\n"};
        for (int i = 0; i < 3; i++) {
            usleep(20000);
            assert_int_equal(job_write(j, ev[i], strlen(ev[i])), 0);
        }
        job_end(j);
        job_end(j); /* idempotent */
    } else {
        char big[16384];
        memset(big, 'x', sizeof big);
        size_t n = j->mode == 2 ? sizeof big : 10;
        for (int i = 0; i < 100000; i++) {
            if (job_write(j, big, n) != 0) {
                atomic_store(&writer_failed, 1);
                break;
            }
            if (j->mode == 1)
                usleep(10000);
        }
        job_end(j);
    }
    for (;;) { /* the job is ours to free once on_close has run */
        pthread_mutex_lock(&j->lock);
        bool done = j->closed;
        pthread_mutex_unlock(&j->lock);
        if (done)
            break;
        usleep(1000);
    }
    pthread_mutex_destroy(&j->lock);
    free(j);
    return NULL;
}

static void start_stream(http_req_t *r, int mode)
{
    stream_job_t *j = calloc(1, sizeof *j);
    j->mode = mode;
    pthread_mutex_init(&j->lock, NULL);
    http_header_kv_t h[] = {{"Content-Type", "application/json"}, {"Cache-Control", "no-cache"}};
    j->st = http_stream_begin(r, 200, h, 2, stream_closed, j);
    assert_non_null(j->st);
    if (mode < 0) { /* left open: the server ends it at shutdown */
        return;
    }
    int i = atomic_fetch_add(&nwriters, 1);
    assert_true(i < 16);
    assert_int_equal(pthread_create(&writers[i], NULL, writer_main, j), 0);
}

static void deferred(http_req_t *r, void *arg)
{
    usleep(20000); /* blocking work is fine here */
    http_header_kv_t h[] = {{"Content-Type", "text/plain"}};
    http_respond(r, 201, h, 1, (const char *)arg, strlen(arg));
}

/* Pool thread: reads the body and a header long after the loop handed the request over. */
static void deferred_echo(http_req_t *r, void *arg)
{
    (void)arg;
    size_t len;
    const char *body = http_body(r, &len);
    const char *seq = http_header(r, "X-Seq");
    usleep((useconds_t)(rand() % 2000));
    http_header_kv_t h[] = {{"Content-Type", "application/octet-stream"}, {"X-Seq", seq ? seq : "none"}};
    http_respond(r, 200, h, 2, body, len);
}

/* Holds its pool thread until released, so the queue behind it fills up. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static bool gate_open;

static void deferred_gate(http_req_t *r, void *arg)
{
    pthread_mutex_lock(&gate_lock);
    while (!gate_open)
        pthread_cond_wait(&gate_cond, &gate_lock);
    pthread_mutex_unlock(&gate_lock);
    http_respond(r, 200, NULL, 0, "done", 4);
}

/* Pool thread: every header lookup reads the copy made on the loop thread. */
static void deferred_headers(http_req_t *r, void *arg)
{
    (void)arg;
    usleep(20000); /* the loop has long gone back to its other connections */
    const char *names[] = {"x-dup", "X-MIXED-case", "HOST", "x-empty", "X-Absent", "Content-Length"};
    buf_t b;
    buf_init(&b);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = http_header(r, names[i]);
        buf_printf(&b, "%s%s", i ? "|" : "", v ? v : "(null)");
    }
    const char *again = http_header(r, "x-dup");
    buf_printf(&b, "|%s", again == http_header(r, "X-Dup") ? "same" : "differs");
    size_t len = b.len;
    http_respond_owned(r, 200, NULL, 0, buf_steal(&b), len);
}

/* A heap argument for http_defer, counted so a test sees every one freed: by the pool
 * function when it runs, by the handler when http_defer refused (429/503). */
static atomic_int owned_allocs, owned_frees, owned_refused;

static void deferred_owned(http_req_t *r, void *arg)
{
    pthread_mutex_lock(&gate_lock);
    while (!gate_open)
        pthread_cond_wait(&gate_cond, &gate_lock);
    pthread_mutex_unlock(&gate_lock);
    http_respond(r, 200, NULL, 0, arg, strlen(arg));
    free(arg);
    atomic_fetch_add(&owned_frees, 1);
}

/* A request that a hung-up client sent may be parsed after the test returned, while the
 * server shuts down: http_defer then refuses it (503), so handlers must not assert it ran. */
static void handler(http_req_t *r, void *ctx)
{
    const char *path = http_path(r);
    if (strcmp(path, "/defer-owned") == 0) {
        char *arg = xstrdup("owned");
        atomic_fetch_add(&owned_allocs, 1);
        if (http_defer(r, deferred_owned, arg) != 0) { /* answered already; arg is still ours */
            free(arg);
            atomic_fetch_add(&owned_frees, 1);
            atomic_fetch_add(&owned_refused, 1);
        }
    } else if (strcmp(path, "/defer-headers") == 0) {
        (void)!http_defer(r, deferred_headers, NULL); /* refused (at teardown): answered, nothing to free */
    } else if (strcmp(path, "/defer-echo") == 0) {
        (void)!http_defer(r, deferred_echo, NULL); /* refused (at teardown): answered, nothing to free */
    } else if (strcmp(path, "/echo") == 0) {
        size_t len;
        const char *body = http_body(r, &len);
        const char *ct = http_header(r, "content-type");
        http_header_kv_t h[] = {{"Content-Type", "application/octet-stream"},
                                {"X-Req-Type", ct ? ct : "none"},
                                {"Content-Length", "999"} /* ignored: the transport sets it */};
        http_respond(r, 200, h, 3, body, len);
    } else if (strcmp(path, "/info") == 0) {
        const char *x = http_header(r, "X-TEST");
        char *body = xasprintf("%s|%s|%s|%s|%s", http_method(r), http_path(r), http_query(r), x ? x : "(null)",
                               http_remote_addr(r));
        http_header_kv_t h[] = {{"Content-Type", "text/plain"}, {"X-Custom", "yes"}};
        http_respond_owned(r, 200, h, 2, body, strlen(body));
    } else if (strcmp(path, "/gate") == 0) {
        (void)!http_defer(r, deferred_gate, NULL); /* a refusal is answered by the transport */
    } else if (strcmp(path, "/defer") == 0) {
        (void)!http_defer(r, deferred, "from the pool"); /* refused (at teardown): answered, nothing to free */
    } else if (strcmp(path, "/stream") == 0) {
        start_stream(r, 0);
    } else if (strcmp(path, "/stream-forever") == 0) {
        start_stream(r, 1);
    } else if (strcmp(path, "/stream-big") == 0) {
        start_stream(r, 2);
    } else if (strcmp(path, "/stream-open") == 0) {
        start_stream(r, -1);
    } else if (strcmp(path, "/nocontent") == 0) {
        http_respond(r, 204, NULL, 0, NULL, 0);
    } else {
        http_respond(r, 404, NULL, 0, "not found", 9);
    }
}

static void join_writers(void)
{
    int n = atomic_exchange(&nwriters, 0);
    for (int i = 0; i < n; i++)
        pthread_join(writers[i], NULL);
}

/* ---- client ---- */

typedef struct conn {
    int fd;
    char buf[1 << 16];
    size_t len;
} conn_t;

typedef struct resp {
    int status;
    char head[8192];
    buf_t body;
    int nchunks;
    size_t chunk_sizes[64];
    bool chunked, closed;
} resp_t;

static conn_t *conn_open(int port)
{
    conn_t *c = calloc(1, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    assert_int_equal(connect(c->fd, (struct sockaddr *)&a, sizeof a), 0);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return c;
}

static void conn_close(conn_t *c)
{
    close(c->fd);
    free(c);
}

static void conn_send(conn_t *c, const char *s, size_t n)
{
    while (n) {
        ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL);
        assert_true(w > 0);
        s += w;
        n -= (size_t)w;
    }
}

static void conn_sends(conn_t *c, const char *s) { conn_send(c, s, strlen(s)); }

/* Ensures at least n buffered bytes; false at EOF. */
static bool conn_fill(conn_t *c, size_t n)
{
    while (c->len < n) {
        assert_true(c->len < sizeof c->buf);
        ssize_t r = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
        if (r <= 0)
            return false;
        c->len += (size_t)r;
    }
    return true;
}

static void conn_consume(conn_t *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

/* Returns the offset just past the next CRLF (reading more as needed), or 0 at EOF. */
static size_t conn_line(conn_t *c)
{
    for (;;) {
        char *p = memmem(c->buf, c->len, "\r\n", 2);
        if (p)
            return (size_t)(p - c->buf) + 2;
        if (!conn_fill(c, c->len + 1))
            return 0;
    }
}

static const char *resp_header(resp_t *r, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    for (char *l = strstr(r->head, "\r\n"); l && l[2]; l = strstr(l + 2, "\r\n")) {
        char *h = l + 2;
        if (strncasecmp(h, name, nl) == 0 && h[nl] == ':') {
            char *v = h + nl + 1;
            while (*v == ' ')
                v++;
            char *e = strstr(v, "\r\n");
            size_t vl = e ? (size_t)(e - v) : strlen(v);
            if (vl >= outlen)
                vl = outlen - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return out;
        }
    }
    return NULL;
}

static int read_response(conn_t *c, resp_t *r)
{
    memset(r, 0, sizeof *r);
    buf_init(&r->body);
    char *end;
    for (;;) {
        end = memmem(c->buf, c->len, "\r\n\r\n", 4);
        if (end)
            break;
        if (!conn_fill(c, c->len + 1))
            return -1;
    }
    size_t hl = (size_t)(end - c->buf) + 4;
    assert_true(hl < sizeof r->head);
    memcpy(r->head, c->buf, hl);
    r->head[hl] = '\0';
    conn_consume(c, hl);
    assert_int_equal(sscanf(r->head, "HTTP/1.1 %d", &r->status), 1);
    char v[128];
    if (resp_header(r, "Transfer-Encoding", v, sizeof v)) {
        r->chunked = true;
        for (;;) {
            size_t ll = conn_line(c);
            assert_true(ll > 0);
            size_t n = strtoul(c->buf, NULL, 16);
            conn_consume(c, ll);
            assert_true(conn_fill(c, n + 2));
            assert_memory_equal(c->buf + n, "\r\n", 2);
            if (n == 0) {
                conn_consume(c, 2);
                break;
            }
            if (r->nchunks < 64)
                r->chunk_sizes[r->nchunks++] = n;
            buf_append(&r->body, c->buf, n);
            conn_consume(c, n + 2);
        }
    } else if (resp_header(r, "Content-Length", v, sizeof v)) {
        size_t n = strtoul(v, NULL, 10);
        assert_true(conn_fill(c, n));
        buf_append(&r->body, c->buf, n);
        conn_consume(c, n);
    } else if (r->status != 204 && r->status != 304) {
        while (conn_fill(c, c->len + 1))
            ;
        buf_append(&r->body, c->buf, c->len);
        conn_consume(c, c->len);
        r->closed = true;
    }
    if (!r->body.data)
        buf_append(&r->body, "", 0);
    return 0;
}

static bool conn_eof(conn_t *c)
{
    return !conn_fill(c, c->len + 1);
}

static bool wait_for(atomic_int *v, int want, int ms)
{
    for (int i = 0; i < ms; i++) {
        if (atomic_load(v) >= want)
            return true;
        usleep(1000);
    }
    return atomic_load(v) >= want;
}

/* ---- fixtures ---- */

typedef struct fixture {
    http_server_t *srv;
    int port;
} fixture_t;

static http_server_t *start_server(http_config_t *cfg)
{
    http_server_t *s = http_server_new(cfg, handler, NULL);
    assert_non_null(s);
    assert_true(http_server_port(s) > 0);
    assert_int_equal(http_server_start(s), 0);
    return s;
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    http_config_t cfg = {.listen = "127.0.0.1:0", .threads = 2, .pool_threads = 4};
    f->srv = start_server(&cfg);
    f->port = http_server_port(f->srv);
    atomic_store(&closes, 0);
    atomic_store(&writer_failed, 0);
    atomic_store(&writer_pending_max, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    http_server_free(f->srv);
    join_writers();
    free(f);
    return 0;
}

/* ---- tests ---- */

static void test_keepalive(void **state)
{
    fixture_t *f = *state;
    conn_t *c = conn_open(f->port);
    resp_t r;
    char v[128];
    conn_sends(c, "GET /info?a=1&b=%2F HTTP/1.1\r\nHost: x\r\nX-Test: hello\r\n\r\n");
    assert_int_equal(read_response(c, &r), 0);
    assert_int_equal(r.status, 200);
    assert_true(str_has_prefix(r.body.data, "GET|/info|a=1&b=%2F|hello|127.0.0.1:"));
    assert_non_null(resp_header(&r, "Date", v, sizeof v));
    assert_non_null(resp_header(&r, "Content-Length", v, sizeof v));
    assert_int_equal(strtoul(v, NULL, 10), r.body.len);
    assert_string_equal(resp_header(&r, "X-Custom", v, sizeof v), "yes");
    assert_string_equal(resp_header(&r, "Content-Type", v, sizeof v), "text/plain");
    assert_null(resp_header(&r, "Server", v, sizeof v));
    buf_free(&r.body);
    /* same connection, second request */
    conn_sends(c, "GET /info HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(read_response(c, &r), 0);
    assert_int_equal(r.status, 200);
    assert_true(str_has_prefix(r.body.data, "GET|/info||(null)|127.0.0.1:"));
    buf_free(&r.body);
    conn_sends(c, "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(read_response(c, &r), 0);
    assert_int_equal(r.status, 404);
    assert_string_equal(r.body.data, "not found");
    buf_free(&r.body);
    conn_sends(c, "DELETE /nocontent HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(read_response(c, &r), 0);
    assert_int_equal(r.status, 204);
    assert_null(resp_header(&r, "Content-Length", v, sizeof v));
    buf_free(&r.body);
    conn_close(c);
}

static void test_post_chunked(void **state)
{
    fixture_t *f = *state;
    conn_t *c = conn_open(f->port);
    resp_t r;
    char v[128];
    conn_sends(c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n6\r\n{\"a\":1\r\n");
    usleep(20000);
    conn_sends(c, "1\r\n}\r\n0\r\n\r\n");
    assert_int_equal(read_response(c, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body.data, "{\"a\":1}");
    assert_string_equal(resp_header(&r, "X-Req-Type", v, sizeof v), "application/json");
    assert_string_equal(resp_header(&r, "Content-Length", v, sizeof v), "7");
    buf_free(&r.body);
    conn_close(c);
}

static void test_post_no_content_type(void **state)
{
    fixture_t *f = *state;
    conn_t *c = conn_open(f->port);
    resp_t r;
    char v[128];
    conn_sends(c, "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    assert_int_equal(read_response(c, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body.data, "hello");
    assert_string_equal(resp_header(&r, "X-Req-Type", v, sizeof v), "none");
    buf_free(&r.body);
    /* neither Content-Length nor Transfer-Encoding: an empty body, at once */
    conn_sends(c, "POST /echo HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(read_response(c, &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body.len, 0);
    buf_free(&r.body);
    conn_close(c);
}

static const char *status_413 =
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
    "\"message\":\"Request entity too large: limit is %d\",\"reason\":\"RequestEntityTooLarge\",\"code\":413}";

static void test_body_too_large(void **state)
{
    fixture_t *f = *state;
    conn_t *c = conn_open(f->port);
    resp_t r;
    char v[128], want[512];
    conn_sends(c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 3145729\r\n\r\n");
    assert_int_equal(read_response(c, &r), 0);
    assert_int_equal(r.status, 413);
    snprintf(want, sizeof want, status_413, 3145728);
    assert_string_equal(r.body.data, want);
    assert_string_equal(resp_header(&r, "Content-Type", v, sizeof v), "application/json");
    buf_free(&r.body);
    conn_close(c);

    /* exactly at the limit is fine */
    c = conn_open(f->port);
    size_t n = 3145728;
    char *big = malloc(n);
    memset(big, 'b', n);
    conn_sends(c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3145728\r\n\r\n");
    conn_send(c, big, n);
    free(big);
    memset(&r, 0, sizeof r);
    /* the response is larger than the client buffer: read the head, then drain */
    char *end;
    while (!(end = memmem(c->buf, c->len, "\r\n\r\n", 4)))
        assert_true(conn_fill(c, c->len + 1));
    assert_true(str_has_prefix(c->buf, "HTTP/1.1 200"));
    conn_close(c);

    /* a chunked body over a small limit */
    http_config_t cfg = {.listen = "127.0.0.1:0", .threads = 1, .pool_threads = 1, .max_body = 1024};
    http_server_t *s = start_server(&cfg);
    c = conn_open(http_server_port(s));
    buf_t b;
    buf_init(&b);
    buf_puts(&b, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n");
    for (int i = 0; i < 0x800; i++)
        buf_putc(&b, 'c');
    buf_puts(&b, "\r\n0\r\n\r\n");
    conn_send(c, b.data, b.len);
    buf_free(&b);
    assert_int_equal(read_response(c, &r), 0);
    assert_int_equal(r.status, 413);
    snprintf(want, sizeof want, status_413, 1024);
    assert_string_equal(r.body.data, want);
    buf_free(&r.body);
    assert_true(conn_eof(c)); /* h2o closes after a 413 */
    conn_close(c);
    http_server_free(s);
}

/* Sends everything, blocking, before reading anything (as Python's http.client does). */
static bool send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Regression: h2o answered 413 and closed while the body was still arriving; the unread
 * data made the kernel reset the connection and the client lost the 413. Now the server
 * drains the body (lingering close): a client that writes 5 MiB first still reads it. */
static void test_body_too_large_linger(void **state)
{
    fixture_t *f = *state;
    size_t n = 5 * 1024 * 1024;
    char *big = malloc(n);
    memset(big, 'z', n);
    char want[512];
    snprintf(want, sizeof want, status_413, 3145728);
    for (int chunked = 0; chunked < 2; chunked++) {
        conn_t *c = conn_open(f->port);
        if (chunked)
            conn_sends(c, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n500000\r\n");
        else
            conn_sends(c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5242880\r\n\r\n");
        assert_true(send_all(c->fd, big, n)); /* no EPIPE/ECONNRESET while writing */
        if (chunked)
            conn_sends(c, "\r\n0\r\n\r\n");
        resp_t r;
        assert_int_equal(read_response(c, &r), 0);
        assert_int_equal(r.status, 413);
        assert_string_equal(r.body.data, want);
        buf_free(&r.body);
        assert_true(conn_eof(c)); /* then FIN, not RST */
        conn_close(c);
    }
    free(big);
}

/* A client that keeps sending slowly is cut off at the linger deadline; one that stops
 * sending is closed after an idle second; other clients are served meanwhile, and
 * shutdown does not wait for lingering connections. */
static void test_linger_deadline(void **state)
{
    http_config_t cfg = {.listen = "127.0.0.1:0", .threads = 1, .pool_threads = 1, .max_body = 1024,
                         .linger_ms = 800};
    http_server_t *s = start_server(&cfg);
    int port = http_server_port(s);
    char chunk[512];
    memset(chunk, 's', sizeof chunk);

    conn_t *slow = conn_open(port);
    conn_sends(slow, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n");
    resp_t r;
    assert_int_equal(read_response(slow, &r), 0);
    assert_int_equal(r.status, 413);
    buf_free(&r.body);
    int64_t t0 = time_mono_ms(), failed_at = -1;
    for (int i = 0; i < 100; i++) {
        if (!send_all(slow->fd, chunk, sizeof chunk)) {
            failed_at = time_mono_ms() - t0;
            break;
        }
        if (i == 3) { /* meanwhile the loop serves others */
            conn_t *other = conn_open(port);
            conn_sends(other, "GET /info HTTP/1.1\r\nHost: x\r\n\r\n");
            assert_int_equal(read_response(other, &r), 0);
            assert_int_equal(r.status, 200);
            buf_free(&r.body);
            conn_close(other);
        }
        usleep(50000);
    }
    assert_true(failed_at >= 500 && failed_at < 3000); /* the server closed at its deadline */
    conn_close(slow);

    /* stops sending: closed after the idle time, well before anything else */
    conn_t *idle = conn_open(port);
    conn_sends(idle, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n");
    assert_int_equal(read_response(idle, &r), 0);
    assert_int_equal(r.status, 413);
    buf_free(&r.body);
    usleep(1200000);
    bool closed = false;
    for (int i = 0; i < 5 && !closed; i++) { /* the first send after a close draws the RST */
        closed = !send_all(idle->fd, chunk, sizeof chunk);
        usleep(20000);
    }
    assert_true(closed);
    conn_close(idle);

    /* shutdown with a connection still lingering is prompt */
    conn_t *last = conn_open(port);
    conn_sends(last, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n");
    assert_int_equal(read_response(last, &r), 0);
    assert_int_equal(r.status, 413);
    buf_free(&r.body);
    assert_true(send_all(last->fd, chunk, sizeof chunk));
    int64_t t1 = time_mono_ms();
    http_server_free(s);
    assert_true(time_mono_ms() - t1 < 700);
    conn_close(last);
}

static void test_defer(void **state)
{
    fixture_t *f = *state;
    conn_t *c = conn_open(f->port);
    resp_t r;
    for (int i = 0; i < 3; i++) {
        conn_sends(c, "GET /defer HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_int_equal(read_response(c, &r), 0);
        assert_int_equal(r.status, 201);
        assert_string_equal(r.body.data, "from the pool");
        buf_free(&r.body);
    }
    conn_close(c);
}

/* Many clients, both loops, deferred POSTs whose answers come back through the
 * loops' message queues from pool threads, some clients hanging up before the
 * answer. Regression for h2o objects built on the main thread: the queue's pipe
 * socket then recycled its buffers through the main thread's free list from
 * both loop threads at once (ASan: use-after-free in the loop's read, or
 * LeakSanitizer: 8228-byte socket buffers). Also checks that bodies read on the
 * pool thread are intact. */
#define HAMMER_CLIENTS 6
#define HAMMER_REQS 60

typedef struct hammer {
    int port, id;
    int ok, dropped;
} hammer_t;

static void *hammer_main(void *arg)
{
    hammer_t *h = arg;
    char *body = malloc(40000);
    conn_t *c = conn_open(h->port);
    for (int i = 0; i < HAMMER_REQS; i++) {
        size_t n = (size_t)((i * 7919 + h->id * 131) % 40000);
        for (size_t k = 0; k < n; k++)
            body[k] = (char)('a' + (k + (size_t)i) % 26);
        char head[256];
        bool chunked = i % 4 == 1;
        if (chunked)
            snprintf(head, sizeof head,
                     "POST /defer-echo HTTP/1.1\r\nHost: x\r\nX-Seq: %d-%d\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "%zx\r\n", h->id, i, n);
        else
            snprintf(head, sizeof head, "POST /defer-echo HTTP/1.1\r\nHost: x\r\nX-Seq: %d-%d\r\nContent-Length: %zu\r\n\r\n",
                     h->id, i, n);
        conn_sends(c, head);
        if (n)
            conn_send(c, body, n);
        if (chunked)
            conn_sends(c, n ? "\r\n0\r\n\r\n" : "\r\n");
        if (i % 5 == 4) { /* hang up before the answer; the pool still runs it */
            conn_close(c);
            c = conn_open(h->port);
            h->dropped++;
            continue;
        }
        resp_t r;
        assert_int_equal(read_response(c, &r), 0);
        assert_int_equal(r.status, 200);
        char want[32], got[32];
        snprintf(want, sizeof want, "%d-%d", h->id, i);
        assert_non_null(resp_header(&r, "X-Seq", got, sizeof got));
        assert_string_equal(got, want);
        assert_int_equal(r.body.len, n);
        if (n)
            assert_memory_equal(r.body.data, body, n);
        buf_free(&r.body);
        h->ok++;
    }
    conn_close(c);
    free(body);
    return NULL;
}

static void test_defer_concurrent(void **state)
{
    fixture_t *f = *state;
    pthread_t t[HAMMER_CLIENTS];
    hammer_t h[HAMMER_CLIENTS];
    for (int i = 0; i < HAMMER_CLIENTS; i++) {
        h[i] = (hammer_t){.port = f->port, .id = i};
        assert_int_equal(pthread_create(&t[i], NULL, hammer_main, &h[i]), 0);
    }
    int ok = 0, dropped = 0;
    for (int i = 0; i < HAMMER_CLIENTS; i++) {
        pthread_join(t[i], NULL);
        ok += h[i].ok;
        dropped += h[i].dropped;
    }
    assert_int_equal(ok, HAMMER_CLIENTS * HAMMER_REQS * 4 / 5);
    assert_int_equal(dropped, HAMMER_CLIENTS * HAMMER_REQS / 5);
}

/* One pool thread busy, one request queued, max_queued 1: the third deferred request
 * is refused at once with 429 + Retry-After and a TooManyRequests Status. */
static void test_defer_overload(void **state)
{
    http_config_t cfg = {.listen = "127.0.0.1:0", .threads = 1, .pool_threads = 1, .max_queued = 1};
    http_server_t *s = start_server(&cfg);
    int port = http_server_port(s);
    gate_open = false;
    conn_t *busy = conn_open(port), *queued = conn_open(port), *refused = conn_open(port);
    conn_sends(busy, "GET /gate HTTP/1.1\r\nHost: x\r\n\r\n");
    usleep(100000); /* the pool thread has taken it */
    conn_sends(queued, "GET /gate HTTP/1.1\r\nHost: x\r\n\r\n");
    usleep(100000);
    conn_sends(refused, "GET /gate HTTP/1.1\r\nHost: x\r\n\r\n");
    resp_t r;
    assert_int_equal(read_response(refused, &r), 0);
    assert_int_equal(r.status, 429);
    char v[64];
    assert_non_null(resp_header(&r, "Retry-After", v, sizeof v));
    assert_string_equal(v, "1");
    assert_non_null(strstr(r.body.data, "\"reason\":\"TooManyRequests\""));
    buf_free(&r.body);
    pthread_mutex_lock(&gate_lock);
    gate_open = true;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_lock);
    conn_t *both[] = {busy, queued};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(read_response(both[i], &r), 0);
        assert_int_equal(r.status, 200);
        buf_free(&r.body);
    }
    conn_close(busy);
    conn_close(queued);
    conn_close(refused);
    http_server_free(s);
}

/* Regression: http_defer answered a refusal itself but never ran nor freed the caller's
 * argument (one leak per 429). Now it returns -1 and the caller frees. One pool thread
 * held by the gate, one request queued: every other concurrent request is refused. */
#define OWNED_CLIENTS 24

static void test_defer_refused_frees(void **state)
{
    http_config_t cfg = {.listen = "127.0.0.1:0", .threads = 1, .pool_threads = 1, .max_queued = 1};
    http_server_t *s = start_server(&cfg);
    int port = http_server_port(s);
    atomic_store(&owned_allocs, 0);
    atomic_store(&owned_frees, 0);
    atomic_store(&owned_refused, 0);
    gate_open = false;
    conn_t *c[OWNED_CLIENTS];
    for (int i = 0; i < OWNED_CLIENTS; i++) {
        c[i] = conn_open(port);
        conn_sends(c[i], "POST /defer-owned HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
    }
    /* at most two are held (one on the pool thread behind the gate, one queued): the
     * others are refused, and answered while the gate is still shut */
    assert_true(wait_for(&owned_refused, OWNED_CLIENTS - 2, 5000));
    pthread_mutex_lock(&gate_lock);
    gate_open = true;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_lock);
    int n429 = 0, n200 = 0;
    for (int i = 0; i < OWNED_CLIENTS; i++) {
        struct timeval tv = {.tv_sec = 10};
        setsockopt(c[i]->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        resp_t r;
        assert_int_equal(read_response(c[i], &r), 0);
        if (r.status == 429) {
            char v[64];
            assert_string_equal(resp_header(&r, "Retry-After", v, sizeof v), "1");
            assert_non_null(strstr(r.body.data, "\"reason\":\"TooManyRequests\""));
            assert_non_null(strstr(r.body.data, "\"retryAfterSeconds\":1"));
            n429++;
        } else {
            assert_int_equal(r.status, 200);
            assert_string_equal(r.body.data, "owned");
            n200++;
        }
        buf_free(&r.body);
        conn_close(c[i]);
    }
    /* how many the pool took depends on when its thread woke; each refusal was answered */
    assert_int_equal(n429, atomic_load(&owned_refused));
    assert_int_equal(n429 + n200, OWNED_CLIENTS);
    assert_true(n200 >= 1 && n200 <= 2);
    http_server_free(s);
    assert_int_equal(atomic_load(&owned_allocs), OWNED_CLIENTS);
    assert_int_equal(atomic_load(&owned_frees), OWNED_CLIENTS); /* and LeakSanitizer agrees */
}

/* http_header on a pool thread reads the copy made on the loop thread: first of a
 * repeated name, case-insensitive, Host included (h2o keeps it outside its header list). */
static void test_header_copy(void **state)
{
    fixture_t *f = *state;
    conn_t *c = conn_open(f->port);
    for (int i = 0; i < 3; i++) {
        conn_sends(c, "GET /defer-headers HTTP/1.1\r\nHost: example.test:8443\r\nX-Dup: first\r\n"
                      "x-mixed-CASE: MiXeD vAlUe\r\nX-Dup: second\r\nX-Empty:\r\n\r\n");
        resp_t r;
        assert_int_equal(read_response(c, &r), 0);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body.data, "first|MiXeD vAlUe|example.test:8443||(null)|(null)|same");
        buf_free(&r.body);
    }
    /* no Host header: none is made up */
    conn_sends(c, "GET /defer-headers HTTP/1.0\r\nX-Dup: only\r\n\r\n");
    resp_t r;
    assert_int_equal(read_response(c, &r), 0);
    assert_string_equal(r.body.data, "only|(null)|(null)|(null)|(null)|(null)|same");
    buf_free(&r.body);
    conn_close(c);
}

static void test_stream(void **state)
{
    fixture_t *f = *state;
    conn_t *c = conn_open(f->port);
    resp_t r;
    char v[128];
    conn_sends(c, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(read_response(c, &r), 0);
    assert_int_equal(r.status, 200);
    assert_true(r.chunked);
    assert_string_equal(resp_header(&r, "Content-Type", v, sizeof v), "application/json");
    assert_string_equal(r.body.data, "{\"type\":\"ADDED\"}\n{\"type\":\"MODIFIED\"}\n{\"type\":\"DELETED\"}\n");
    /* writes 20 ms apart arrive as separate chunks */
    assert_true(r.nchunks >= 2);
    assert_int_equal(r.chunk_sizes[0], strlen("{\"type\":\"ADDED\"}\n"));
    buf_free(&r.body);
    assert_true(wait_for(&closes, 1, 2000));
    /* the connection is still usable after the stream */
    conn_sends(c, "GET /info HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(read_response(c, &r), 0);
    assert_int_equal(r.status, 200);
    buf_free(&r.body);
    conn_close(c);
    join_writers();
    assert_int_equal(atomic_load(&closes), 1);
}

static void test_stream_client_gone(void **state)
{
    fixture_t *f = *state;
    conn_t *c = conn_open(f->port);
    conn_sends(c, "GET /stream-forever HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_true(conn_fill(c, 10));
    assert_true(str_has_prefix(c->buf, "HTTP/1.1 200"));
    conn_close(c);
    /* the next write fails and the stream closes */
    assert_true(wait_for(&closes, 1, 5000));
    join_writers();
    assert_int_equal(atomic_load(&writer_failed), 1);
    assert_int_equal(atomic_load(&closes), 1);
}

static void test_stream_slow_client(void **state)
{
    http_config_t cfg = {.listen = "127.0.0.1:0", .threads = 1, .pool_threads = 1,
                         .stream_max_pending = 256 * 1024};
    http_server_t *s = start_server(&cfg);
    conn_t *c = conn_open(http_server_port(s));
    int small = 4096;
    setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    conn_sends(c, "GET /stream-big HTTP/1.1\r\nHost: x\r\n\r\n");
    /* never read: the writer must hit the cap and get -1 */
    for (int i = 0; i < 5000 && !atomic_load(&writer_failed); i++)
        usleep(1000);
    assert_int_equal(atomic_load(&writer_failed), 1);
    assert_true(atomic_load(&writer_pending_max) > 0);
    assert_true(atomic_load(&writer_pending_max) <= 256 * 1024);
    conn_close(c);
    assert_true(wait_for(&closes, 1, 5000));
    http_server_free(s);
    join_writers();
}

static void test_free_with_open_stream(void **state)
{
    http_config_t cfg = {.listen = "127.0.0.1:0", .threads = 2, .pool_threads = 2};
    http_server_t *s = start_server(&cfg);
    int port = http_server_port(s);
    conn_t *c = conn_open(port), *idle = conn_open(port);
    resp_t r;
    conn_sends(idle, "GET /info HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(read_response(idle, &r), 0);
    buf_free(&r.body);
    conn_sends(c, "GET /stream-open HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_true(conn_fill(c, 10));
    int64_t t0 = time_mono_ms();
    http_server_free(s);
    int64_t took = time_mono_ms() - t0;
    assert_int_equal(atomic_load(&closes), 1);
    assert_true(took < 1500); /* the idle keep-alive connection did not hold shutdown up */
    /* the stream was ended properly: terminating chunk, then EOF */
    while (!memmem(c->buf, c->len, "0\r\n\r\n", 5))
        assert_true(conn_fill(c, c->len + 1));
    assert_true(conn_eof(c));
    assert_true(conn_eof(idle));
    conn_close(c);
    conn_close(idle);
}

static void test_garbage_and_timeout(void **state)
{
    http_config_t cfg = {.listen = "127.0.0.1:0", .threads = 1, .pool_threads = 1, .header_timeout_ms = 300};
    http_server_t *s = start_server(&cfg);
    conn_t *c = conn_open(http_server_port(s));
    resp_t r;
    conn_sends(c, "THIS IS NOT HTTP\0\r\n\r\n");
    conn_send(c, "\x01\x02\r\n\r\n", 6);
    assert_int_equal(read_response(c, &r), 0);
    assert_int_equal(r.status, 400);
    buf_free(&r.body);
    conn_close(c);
    /* a slow request head is cut off by the header timeout */
    c = conn_open(http_server_port(s));
    conn_sends(c, "GET /info HTTP/1.1\r\nHost:");
    int64_t t0 = time_mono_ms();
    assert_true(conn_eof(c));
    int64_t took = time_mono_ms() - t0;
    assert_true(took >= 200 && took < 3000);
    conn_close(c);
    http_server_free(s);
}

static void test_bad_listen(void **state)
{
    http_config_t cfg = {.listen = "nonsense"};
    assert_null(http_server_new(&cfg, handler, NULL));
    http_config_t cfg6 = {.listen = "[::1]:0", .threads = 1, .pool_threads = 1};
    http_server_t *s = http_server_new(&cfg6, handler, NULL); /* IPv6 may be absent in a sandbox */
    if (s) {
        assert_true(http_server_port(s) > 0);
        http_server_free(s); /* never started */
    }
}

int main(void)
{
    log_level = LOG_WARN;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keepalive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_post_chunked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_post_no_content_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_too_large_linger, setup, teardown),
        cmocka_unit_test(test_linger_deadline),
        cmocka_unit_test_setup_teardown(test_defer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_defer_concurrent, setup, teardown),
        cmocka_unit_test(test_defer_overload),
        cmocka_unit_test(test_defer_refused_frees),
        cmocka_unit_test_setup_teardown(test_header_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_client_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_slow_client, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_with_open_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_and_timeout, setup, teardown),
        cmocka_unit_test(test_bad_listen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
