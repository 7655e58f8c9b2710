/* server internals shared by the transport's files. Not a public header.
 *
 * Ownership in one paragraph: an http_req_t is created by the loop thread when h2o
 * hands us a request and holds two references: one for the h2o side (dropped when
 * h2o clears the request's memory pool) and one for the application side (dropped
 * when the response has been handed to h2o, or by the stream when it is freed).
 * Everything that touches h2o objects runs on the owning loop thread; other
 * threads only post messages to that loop. */
#ifndef IAS_SERVER_INT_H
#define IAS_SERVER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include <h2o.h>

#include "server/http.h"
#include "util/util.h"

typedef struct http_loop http_loop_t;
typedef struct http_pool http_pool_t;
typedef struct http_linger http_linger_t;
typedef struct http_tls http_tls_t;

/* A connection's client certificate, shared by the connection and its requests. */
typedef struct http_peer {
    atomic_int refs;
    http_peer_cert_t cert;           /* strings follow in the same allocation */
} http_peer_t;

/* A message posted to a loop; embedded in the object it acts on. */
enum { HTTP_MSG_RESPOND, HTTP_MSG_STREAM_BEGIN, HTTP_MSG_STREAM_WAKE, HTTP_MSG_STOP_ACCEPT, HTTP_MSG_SHUTDOWN };
typedef struct http_msg {
    h2o_multithread_message_t super;
    int type;
    void *obj;
} http_msg_t;

/* One accepted connection, tracked so shutdown can close idle keep-alive sockets.
 * Its requests hold references: a request answered on the pool after the client
 * went away still finds the connection's counters. */
typedef struct http_conn {
    atomic_int refs;                 /* the socket's, plus one per live request */
    int fd;
    int linger_fd;                   /* >= 0: a dup of fd, drained after h2o closes (413) */
    http_loop_t *loop;
    struct http_conn *prev, *next;
    /* loop-thread only */
    bool closed;                     /* h2o closed the socket: fd may belong to someone else */
    SSL *ssl;                        /* TLS: set when the handshake starts */
    bool peer_read;
    http_peer_t *peer;               /* the client certificate, read at the first request */
    atomic_int live;                 /* requests handed to the application, not yet released */
    int64_t resets_window_ms;        /* start of the current 10 s window */
    int resets;                      /* requests h2o dropped before we answered, in that window */
} http_conn_t;

struct http_loop {
    h2o_context_t ctx;               /* first: h2o hands us &ctx back */
    http_server_t *srv;
    h2o_evloop_t *evloop;
    int listen_fd;
    h2o_socket_t *listener;
    h2o_accept_ctx_t accept_ctx;     /* .ssl_ctx: this loop's reference to the TLS context */
    unsigned tls_generation;
    h2o_multithread_receiver_t receiver;
    http_msg_t stop_accept_msg, shutdown_msg;
    pthread_t thread;
    bool thread_started;
    /* loop-thread only */
    http_conn_t *conns;
    size_t nconns;
    h2o_timeout_t accept_backoff;    /* out of descriptors: pause accepting briefly */
    h2o_timeout_entry_t accept_resume;
    int64_t accept_warned_ms;
    struct http_stream *streams;     /* open streams owned by this loop */
    http_linger_t *lingers;          /* connections draining after a 413 */
    size_t nlingers;
    h2o_timeout_t linger_idle, linger_total;
    bool stopping;
    int64_t stop_deadline_ms;
    int stop_phase;                  /* 0 running, 1 read side shut, 2 both sides shut */
    bool exit;
};

struct http_server {
    http_config_t cfg;
    http_handler_fn handler;
    void *ctx;
    h2o_globalconf_t config;
    h2o_hostconf_t *hostconf;
    char *too_large_json;            /* Status bodies the transport answers itself: 413, */
    size_t too_large_len;
    char *busy_json;                 /* 429 (pool queue full), */
    size_t busy_len;
    char *down_json;                 /* 503 (pool shut down) */
    size_t down_len;
    int port;
    int nloops;
    http_loop_t *loops;
    http_pool_t *pool;
    http_tls_t *tls;                 /* NULL: plain HTTP */
    bool started;
    pthread_mutex_t ready_lock;      /* loops report that their h2o objects exist */
    pthread_cond_t ready_cond;
    int nready;
};

/* A request header copied on the loop thread; name in h2o's lower case. */
typedef struct http_in_hdr {
    const char *name, *value;        /* NUL-terminated, inside http_req_t.strs */
    size_t nlen;
} http_in_hdr_t;

struct http_req {
    http_loop_t *loop;
    http_conn_t *conn;               /* referenced; NULL for a connection that is not ours */
    http_peer_t *client_cert;        /* referenced client certificate, or NULL */
    int version;
    bool tls;
    char *body_copy;                 /* HTTP/2: h2o frees a reset stream's body at once */
    bool loop_answered;              /* loop thread: the response or stream reached h2o */
    h2o_req_t *h2o;                  /* loop thread only; NULL once h2o has disposed the request */
    atomic_int refs;
    /* copied in http_on_req, read-only afterwards: any thread may read them without a lock */
    char *strs;                      /* one allocation: the header array, then every string */
    char *method, *path, *query;     /* NUL-terminated */
    http_in_hdr_t *in_hdrs;          /* request headers in arrival order */
    size_t nin_hdrs;
    const char *body;
    size_t body_len;
    struct sockaddr_storage peer;
    socklen_t peerlen;
    pthread_mutex_t lock;            /* guards remote */
    char *remote;                    /* formatted lazily */
    bool responded;                  /* a response or stream was started (exactly-once check) */
    bool close_conn;                 /* no further requests on this connection (applied on the loop) */
    /* response, written by the responding thread before posting msg */
    http_msg_t msg;
    int status;
    http_header_kv_t *hdrs;          /* one allocation holding the array and strings */
    size_t nhdrs;
    char *resp_body;
    size_t resp_len;
    struct http_stream *stream;
    h2o_generator_t gen;             /* for plain responses */
    /* deferred work */
    void (*defer_fn)(http_req_t *r, void *arg);
    void *defer_arg;
    http_req_t *pool_next;
};

/* ---- http_server.c ---- */
extern __thread http_loop_t *http_tls_loop;
void http_loop_post(http_loop_t *loop, http_msg_t *m);
/* The response on sock's connection is h2o's 413: keep the connection up past h2o's
 * close and drain it (loop thread). No-op for sockets that are not our connections. */
void http_conn_linger(h2o_socket_t *sock);
/* Our connection behind an h2o socket, or NULL. */
http_conn_t *http_conn_of(h2o_socket_t *sock);
void http_conn_unref(http_conn_t *c);
/* A request on c was dropped by h2o before we answered it (a client reset). Closes the
 * connection when there are too many (HTTP/2 rapid reset). Loop thread. */
void http_conn_early_reset(http_conn_t *c);

/* ---- http_tls.c ---- */
http_tls_t *http_tls_new(const http_config_t *cfg);
int http_tls_start(http_tls_t *t);   /* the file watcher */
void http_tls_free(http_tls_t *t);
/* Points *slot at the current context when *gen is stale (loop thread, at accept). */
void http_tls_refresh(http_tls_t *t, SSL_CTX **slot, unsigned *gen);
/* The connection's client certificate with a reference for the caller, or NULL. */
http_peer_t *http_conn_peer(http_conn_t *c);
void http_peer_unref(http_peer_t *p);

/* ---- http_linger.c ---- */
void http_linger_init(http_loop_t *loop);
/* Closes what is still lingering and disposes the timers (loop thread, at exit). */
void http_linger_dispose(http_loop_t *loop);
/* Takes fd (a dup of a connection h2o has closed): FIN, then discard what the client
 * still sends until EOF, cfg.linger_max bytes, an idle second or cfg.linger_ms. */
void http_linger_start(http_loop_t *loop, int fd);
/* Shutdown: close every lingering connection now. */
void http_linger_close_all(http_loop_t *loop);

/* ---- http_request.c ---- */
int http_on_req(h2o_handler_t *self, h2o_req_t *req);
void http_req_unref(http_req_t *r);
/* Copies headers into one malloc'ed block; the transport-owned ones are dropped. */
http_header_kv_t *http_headers_copy(const http_header_kv_t *h, size_t n, size_t *nout);
/* Adds status, reason and headers to the h2o response (loop thread). */
void http_res_set_head(http_req_t *r, int status, const http_header_kv_t *h, size_t n);
void http_req_on_respond_msg(http_req_t *r);

/* ---- http_stream.c ---- */
void http_stream_on_begin_msg(struct http_stream *st);
void http_stream_on_wake_msg(struct http_stream *st);
/* Ends every open stream of the loop (shutdown; loop thread). */
void http_stream_end_all(http_loop_t *loop);
/* The h2o request under the stream is gone (pool dispose; loop thread). */
void http_stream_req_gone(struct http_stream *st);

/* ---- http_pool.c ---- */
http_pool_t *http_pool_new(int nthreads, size_t max_queued);
/* Queues r; -1 once every pool thread has exited (shutdown), -2 when max_queued requests
 * already wait (overload): r was not queued. */
int http_pool_push(http_pool_t *p, http_req_t *r);
/* Runs what is queued, then joins the threads; later pushes are refused. */
void http_pool_stop(http_pool_t *p);
/* Stops (if needed) and frees the pool. Only once no loop can call http_defer. */
void http_pool_free(http_pool_t *p);

/* ---- http_h2o_tls.c ---- */
/* Frees h2o's per-thread recycled memory; call last on a thread that ran a loop. */
void http_h2o_tls_drain(void);

/* ---- http_errors.c ---- */
/* Builds the transport's Status bodies and registers the filter that turns h2o's own
 * text 413 into a Kubernetes Status. */
void http_errors_register(http_server_t *s, h2o_pathconf_t *fallback);
void http_errors_free(http_server_t *s);
const char *http_reason_phrase(int status);

#endif
