/* The registry client's HTTP engine: libcurl's multi interface driven by one thread of its
 * own. Callers submit requests and get a completion callback on that thread; nothing ever
 * waits on a registry. Per request: connect and total timeouts, a body bound, redirects
 * only when asked (blobs), plain HTTP and unverified TLS only when the caller says so,
 * retries with backoff on transport errors, 429 and 503 (honouring Retry-After).
 * Identical requests in flight share one transfer; connections per host are limited.
 * Proxies come from the environment (HTTPS_PROXY/NO_PROXY: libcurl's default, kept). */
#ifndef IAS_REG_HTTP_H
#define IAS_REG_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct reg_http reg_http_t;

typedef struct {
    const char *ca_file;        /* extra trust: NULL = system store only */
    long max_host_connections;  /* per registry host; 0 -> 6 */
    long retry_base_ms;         /* first backoff; 0 -> 500, doubled per attempt */
    long retry_after_max_s;     /* Retry-After longer than this is capped; 0 -> 60 */
} reg_http_opts_t;

typedef struct {
    const char *method;        /* "GET" or "HEAD" */
    const char *url;           /* https://...; http:// only with insecure */
    const char *accept;        /* NULL: none */
    const char *authorization; /* full header value, NULL: none (never logged) */
    size_t max_body;           /* bytes; a larger body fails the request (too_large) */
    bool follow_redirects;     /* blobs only; at most 5, https only unless insecure */
    bool insecure;             /* allow http:// and skip TLS verification */
    long connect_timeout_ms;   /* 0 -> 10 s */
    long timeout_ms;           /* whole request, each attempt; 0 -> 60 s */
    int max_attempts;          /* 0 -> 3 */
} reg_http_req_t;

typedef struct {
    int status;               /* HTTP status of the last attempt; 0 on a transport failure */
    const char *error;        /* NULL, or why the request failed without a usable status */
    bool too_large;           /* the body passed max_body */
    const char *body;         /* NUL-terminated, body_len bytes (NULL for HEAD) */
    size_t body_len;
    /* response headers ("" if absent; each bounded to 8 KiB) */
    const char *content_type, *docker_digest, *www_authenticate, *link, *location;
    int attempts;
} reg_http_resp_t;

/* Called once per submitted request, on the engine thread; r is valid during the call. */
typedef void (*reg_http_done_fn)(void *ctx, const reg_http_resp_t *r);

reg_http_t *reg_http_new(const reg_http_opts_t *o);
/* Queues a request (copied). 0, or -1 if the engine is stopping (cb is not called). */
int reg_http_submit(reg_http_t *h, const reg_http_req_t *req, reg_http_done_fn cb, void *ctx);
/* Runs fn(ctx) on the engine thread soon (an answer known without a request still
 * arrives the way every answer does: never on the caller's stack). 0, or -1 if stopping.
 * A posted call still pending at shutdown runs during reg_http_free. */
int reg_http_post(reg_http_t *h, void (*fn)(void *ctx), void *ctx);
/* Stops the thread; requests still pending complete with error "client shutting down". */
void reg_http_free(reg_http_t *h);
/* Transfers started so far (retries included, shared requests once): for tests. */
uint64_t reg_http_transfers(reg_http_t *h);

#endif
