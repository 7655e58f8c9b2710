/* server: the HTTP transport. Accepts connections, parses HTTP/1.1 (h2o evloop
 * underneath, one event loop per worker thread), hands each request to one
 * handler, writes responses and chunked streams. Knows nothing about Kubernetes.
 *
 * Threading contract:
 *  - The handler runs on a loop thread and must not block. It either responds
 *    at once, or calls http_defer() to run blocking work on the pool.
 *  - http_respond(), http_stream_*() may be called from ANY thread, exactly
 *    once per request for http_respond (or http_stream_begin ... _end).
 *  - Request accessors are valid until the request has been responded to
 *    (for streams: until http_stream_end or the close callback). */
#ifndef IAS_HTTP_H
#define IAS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct http_req http_req_t;
typedef struct http_stream http_stream_t;
typedef struct http_server http_server_t;

typedef void (*http_handler_fn)(http_req_t *req, void *ctx);

typedef struct http_config {
    const char *listen;          /* "127.0.0.1:8080" */
    int threads;                 /* event-loop threads, default = number of cores */
    int pool_threads;            /* blocking worker pool, default 64 */
    size_t max_body;             /* request body limit, default 3 MiB -> 413 */
    int header_timeout_ms;       /* default 10000 */
    int idle_timeout_ms;         /* keep-alive idle, default 60000 */
    size_t stream_max_pending;   /* per-stream unsent byte cap, default 8 MiB */
    size_t max_queued;           /* deferred requests waiting for the pool, default 4096; beyond
                                    that http_defer answers 429 TooManyRequests (Retry-After: 1) */
    int linger_ms;               /* after a 413 the rest of the body is read and discarded for at
                                    most this long before closing, default 5000 (an idle second
                                    or EOF ends it sooner) */
    size_t linger_max;           /* ... and at most this many bytes, default 8 * max_body, at most
                                    64 MiB */
    /* TLS: both files set = HTTPS with ALPN h2 and http/1.1; reloaded when they change */
    const char *tls_cert_file, *tls_key_file;
    const char *tls_client_ca_file; /* ask for client certificates and verify them against this CA */
    int tls_min_version;         /* 12 (default) or 13 */
    int h2_max_streams;          /* HTTP/2 requests a connection may have in flight, default 100 */
    int h2_max_early_resets;     /* requests a client may cancel before the answer within 10 s before
                                    its connection is closed (rapid reset), default 200 */
} http_config_t;

/* Binds the listener (SO_REUSEPORT per loop thread) and returns the server, or NULL
 * with a log message. Does not start threads. */
http_server_t *http_server_new(const http_config_t *cfg, http_handler_fn handler, void *ctx);
/* Starts the loop and pool threads; returns immediately. */
int http_server_start(http_server_t *s);
/* Stops accepting, ends streams, joins threads, frees. */
void http_server_free(http_server_t *s);
/* Actual bound port (useful with port 0). */
int http_server_port(http_server_t *s);

/* ---- request accessors ---- */
const char *http_method(http_req_t *r);          /* "GET", ... NUL-terminated */
const char *http_path(http_req_t *r);            /* raw path without query, still %-encoded */
const char *http_query(http_req_t *r);           /* raw query string without '?', "" if none */
/* First header with that name (case-insensitive), NUL-terminated copy owned by req; NULL if
 * absent. Every header was copied when the request arrived: no allocation, any thread.
 * Host is included; the framing headers h2o consumes (Content-Length, Transfer-Encoding,
 * Expect, Upgrade) are not. */
const char *http_header(http_req_t *r, const char *name);
const char *http_body(http_req_t *r, size_t *len); /* de-chunked body; "" and 0 if none */
const char *http_remote_addr(http_req_t *r);     /* "127.0.0.1:54321" */
/* 0x100, 0x101 or 0x200. */
int http_version(http_req_t *r);
bool http_is_tls(http_req_t *r);

/* The client certificate presented on the request's TLS connection. */
typedef struct http_peer_cert {
    bool verified;                    /* the chain verifies against tls_client_ca_file */
    const char *error;                /* OpenSSL's reason when not verified, else "" */
    const char *common_name;          /* "" when the subject has none */
    const char *const *organizations; /* the subject's O values, in order */
    size_t norganizations;
} http_peer_cert_t;
/* NULL when no certificate was presented (or no client CA is configured). Valid as long
 * as the request. */
const http_peer_cert_t *http_peer_cert(http_req_t *r);

/* ---- responses ---- */
typedef struct http_header_kv {
    const char *name;
    const char *value;
} http_header_kv_t;

/* Sends a complete response. headers: array of n entries (copied). body copied.
 * Content-Length is set by the transport. Thread-safe; call exactly once. */
void http_respond(http_req_t *r, int status, const http_header_kv_t *headers, size_t nheaders,
                  const char *body, size_t len);
/* Same, taking ownership of a malloc'ed body (no copy). */
void http_respond_owned(http_req_t *r, int status, const http_header_kv_t *headers, size_t nheaders,
                        char *body, size_t len);

/* Runs fn(req, arg) on a pool thread; fn must eventually respond. May be called from any
 * thread that owns the request (its loop's handler, or a thread continuing it).
 * Returns 0 when fn will run (fn then owns arg). Returns -1 when the transport has
 * already answered the request itself (429 TooManyRequests when max_queued requests
 * already wait, 503 ServiceUnavailable once the pool has shut down, both with
 * Retry-After: 1): fn will NOT run, the caller still owns arg and must free it, and
 * must not touch req again (it may already be gone). */
int http_defer(http_req_t *r, void (*fn)(http_req_t *r, void *arg), void *arg)
    __attribute__((warn_unused_result));

/* ---- chunked streams (watch) ---- */
/* Starts a 200-style chunked response; headers are sent at once. Thread-safe.
 * on_close(arg) is called exactly once, on any thread, when the stream is finished
 * (client gone, write error, or after http_stream_end has flushed); after it
 * returns the stream handle must not be used. */
http_stream_t *http_stream_begin(http_req_t *r, int status, const http_header_kv_t *headers,
                                 size_t nheaders, void (*on_close)(void *arg), void *arg);
/* Queues bytes (copied) as one or more chunks, flushed promptly. Thread-safe.
 * Returns 0, or -1 if the stream is closed or more than stream_max_pending bytes
 * are unsent (slow client): the caller should then end the stream. */
int http_stream_write(http_stream_t *s, const char *data, size_t len);
/* Bytes queued but not yet written to the socket. */
size_t http_stream_pending(http_stream_t *s);
/* Flushes what is queued, writes the terminating chunk, finishes. Thread-safe, idempotent. */
void http_stream_end(http_stream_t *s);

#endif
