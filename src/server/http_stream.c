/* Chunked response streams (watch).
 *
 * Writers on any thread append to `pending` under the stream lock and, when the
 * stream goes from idle to pending, post one wake message to the owning loop.
 * The loop swaps `pending` into `inflight` and hands it to h2o; h2o allows one
 * h2o_send per stream at a time, so the next swap waits for proceed(). The final
 * chunk's buffer must outlive the socket write, so buffers are freed only when
 * h2o disposes the request.
 *
 * References: the application's (dropped after on_close returns), the loop's
 * (dropped when h2o disposes the request, or at once if it never started), and
 * one while a wake message is queued. on_close runs on the loop thread, without
 * the stream lock held, exactly once. */
#include <stdlib.h>
#include <string.h>

#include "server/server_int.h"

struct http_stream {
    h2o_generator_t gen;            /* first: h2o gives it back in proceed/stop */
    http_req_t *r;
    http_loop_t *loop;
    atomic_int refs;
    void (*on_close)(void *arg);
    void *arg;
    size_t max_pending;
    pthread_mutex_t lock;           /* guards the block below */
    buf_t pending;
    size_t inflight_len;
    bool closed;                    /* writes refused */
    bool end_req;                   /* http_stream_end was called */
    bool msg_queued;
    http_msg_t msg;
    /* loop thread only */
    buf_t inflight;
    char chunk_head[24];            /* "<hex size>\r\n" of the chunk in flight */
    bool chunked, head_only;
    bool started, sending, final_sent, close_called;
    struct http_stream *prev, *next;
};

static void stream_unref(http_stream_t *st)
{
    if (atomic_fetch_sub(&st->refs, 1) != 1)
        return;
    buf_free(&st->pending);
    buf_free(&st->inflight);
    pthread_mutex_destroy(&st->lock);
    http_req_unref(st->r);
    free(st);
}

static void stream_link(http_stream_t *st)
{
    http_loop_t *loop = st->loop;
    st->prev = NULL;
    st->next = loop->streams;
    if (loop->streams)
        loop->streams->prev = st;
    loop->streams = st;
}

static void stream_unlink(http_stream_t *st)
{
    if (st->prev)
        st->prev->next = st->next;
    else if (st->loop->streams == st)
        st->loop->streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    st->prev = st->next = NULL;
}

/* Loop thread. */
static void stream_close(http_stream_t *st)
{
    if (st->close_called)
        return;
    st->close_called = true;
    pthread_mutex_lock(&st->lock);
    st->closed = true;
    pthread_mutex_unlock(&st->lock);
    if (st->started)
        stream_unlink(st);
    if (st->on_close)
        st->on_close(st->arg);
    stream_unref(st); /* the application's reference */
}

/* Loop thread: hand what is pending to h2o if nothing is in flight. We frame the
 * chunks ourselves: h2o 2.2.5's chunked filter turns an empty in-progress send
 * into a deferred proceed() without writing, so headers would wait for the first
 * event (and it only frames status 200). */
static void stream_flush(http_stream_t *st)
{
    if (!st->started || st->sending || st->final_sent)
        return;
    pthread_mutex_lock(&st->lock);
    bool end = st->end_req;
    if (st->pending.len == 0 && !end) {
        pthread_mutex_unlock(&st->lock);
        return;
    }
    buf_t t = st->inflight; /* empty: nothing is in flight */
    st->inflight = st->pending;
    st->pending = t;
    buf_reset(&st->pending);
    st->inflight_len = st->inflight.len;
    pthread_mutex_unlock(&st->lock);

    h2o_iovec_t v[3];
    size_t n = 0;
    if (st->inflight.len && !st->head_only) {
        if (st->chunked)
            v[n++] = h2o_iovec_init(st->chunk_head,
                                    (size_t)snprintf(st->chunk_head, sizeof st->chunk_head, "%zx\r\n", st->inflight.len));
        v[n++] = h2o_iovec_init(st->inflight.data, st->inflight.len);
        if (st->chunked)
            v[n++] = end ? h2o_iovec_init(H2O_STRLIT("\r\n0\r\n\r\n")) : h2o_iovec_init(H2O_STRLIT("\r\n"));
    } else if (end && st->chunked && !st->head_only) {
        v[n++] = h2o_iovec_init(H2O_STRLIT("0\r\n\r\n"));
    }
    st->sending = true;
    if (end) {
        st->final_sent = true;
        atomic_fetch_add(&st->refs, 1); /* h2o may dispose the request inside h2o_send */
        h2o_send(st->r->h2o, v, n, H2O_SEND_STATE_FINAL);
        stream_close(st);
        stream_unref(st);
    } else {
        h2o_send(st->r->h2o, v, n, H2O_SEND_STATE_IN_PROGRESS);
    }
}

static void on_proceed(h2o_generator_t *gen, h2o_req_t *req)
{
    http_stream_t *st = (http_stream_t *)gen;
    st->sending = false;
    pthread_mutex_lock(&st->lock);
    st->inflight_len = 0;
    pthread_mutex_unlock(&st->lock);
    buf_reset(&st->inflight);
    stream_flush(st);
}

/* h2o disposes the request before our final chunk: the client is gone. */
static void on_stop(h2o_generator_t *gen, h2o_req_t *req)
{
    http_stream_t *st = (http_stream_t *)gen;
    st->final_sent = true;
    st->sending = false;
    stream_close(st);
}

void http_stream_on_begin_msg(http_stream_t *st)
{
    http_req_t *r = st->r;
    h2o_req_t *req = r->h2o;
    if (!req) { /* the connection died first (only at shutdown) */
        stream_close(st);
        stream_unref(st); /* the loop's reference: h2o will not dispose for us */
        return;
    }
    r->stream = st;
    r->loop_answered = true;
    st->started = true;
    stream_link(st);
    http_res_set_head(r, r->status, r->hdrs, r->nhdrs);
    req->res.content_length = SIZE_MAX;
    st->head_only = strcmp(r->method, "HEAD") == 0;
    st->chunked = req->version == 0x101; /* HTTP/2 frames the body itself */
    if (st->chunked) /* also keeps h2o's own chunked filter out of the way */
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_TRANSFER_ENCODING, NULL, H2O_STRLIT("chunked"));
    else if (req->version < 0x200)
        req->http1_is_persistent = 0; /* HTTP/1.0: the body ends when the connection does */
    h2o_start_response(req, &st->gen);
    st->sending = true;
    h2o_send(req, NULL, 0, H2O_SEND_STATE_IN_PROGRESS); /* headers now */
    if (st->loop->stopping || st->head_only) {
        pthread_mutex_lock(&st->lock);
        st->end_req = true;
        pthread_mutex_unlock(&st->lock);
    }
}

void http_stream_on_wake_msg(http_stream_t *st)
{
    pthread_mutex_lock(&st->lock);
    st->msg_queued = false;
    pthread_mutex_unlock(&st->lock);
    stream_flush(st);
    stream_unref(st); /* the message's reference */
}

void http_stream_req_gone(http_stream_t *st)
{
    stream_close(st); /* normally done already by stop() or the final send */
    stream_unref(st); /* the loop's reference */
}

void http_stream_end_all(http_loop_t *loop)
{
    http_stream_t *st = loop->streams;
    while (st) {
        http_stream_t *next = st->next;
        pthread_mutex_lock(&st->lock);
        st->end_req = true;
        pthread_mutex_unlock(&st->lock);
        stream_flush(st); /* may close and unlink st; next is still linked */
        st = next;
    }
}

http_stream_t *http_stream_begin(http_req_t *r, int status, const http_header_kv_t *headers, size_t nheaders,
                                 void (*on_close)(void *arg), void *arg)
{
    if (r->responded) {
        log_error("http: stream begun on an answered request %s %s", r->method, r->path);
        return NULL;
    }
    r->responded = true;
    http_stream_t *st = xcalloc(1, sizeof *st);
    st->gen.proceed = on_proceed;
    st->gen.stop = on_stop;
    st->r = r; /* takes over the application's reference on r */
    st->loop = r->loop;
    atomic_init(&st->refs, 2);
    st->on_close = on_close;
    st->arg = arg;
    st->max_pending = r->loop->srv->cfg.stream_max_pending;
    pthread_mutex_init(&st->lock, NULL);
    buf_init(&st->pending);
    buf_init(&st->inflight);
    r->status = status;
    r->hdrs = http_headers_copy(headers, nheaders, &r->nhdrs);
    if (http_tls_loop == st->loop) {
        http_stream_on_begin_msg(st);
    } else {
        r->msg.type = HTTP_MSG_STREAM_BEGIN;
        r->msg.obj = st;
        http_loop_post(st->loop, &r->msg);
    }
    return st;
}

/* Under st->lock. */
static void stream_wake_locked(http_stream_t *st)
{
    if (st->msg_queued)
        return;
    st->msg_queued = true;
    atomic_fetch_add(&st->refs, 1);
    st->msg.type = HTTP_MSG_STREAM_WAKE;
    st->msg.obj = st;
    http_loop_post(st->loop, &st->msg);
}

int http_stream_write(http_stream_t *st, const char *data, size_t len)
{
    if (!st)
        return -1;
    int rc = 0;
    pthread_mutex_lock(&st->lock);
    if (st->closed || st->end_req || st->pending.len + st->inflight_len + len > st->max_pending) {
        rc = -1;
    } else if (len) {
        buf_append(&st->pending, data, len);
        stream_wake_locked(st);
    }
    pthread_mutex_unlock(&st->lock);
    return rc;
}

size_t http_stream_pending(http_stream_t *st)
{
    if (!st)
        return 0;
    pthread_mutex_lock(&st->lock);
    size_t n = st->pending.len + st->inflight_len;
    pthread_mutex_unlock(&st->lock);
    return n;
}

void http_stream_end(http_stream_t *st)
{
    if (!st)
        return;
    pthread_mutex_lock(&st->lock);
    if (!st->closed && !st->end_req) {
        st->end_req = true;
        stream_wake_locked(st);
    }
    pthread_mutex_unlock(&st->lock);
}
