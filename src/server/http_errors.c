/* Errors h2o answers by itself, and reason phrases.
 * h2o 2.2.5 rejects an oversized body before any handler runs, with a text/plain
 * 413 built by h2o_send_error_generic on the host's fallback path. Kubernetes
 * clients expect a Status object, so a filter on that fallback path swaps the
 * body and content type of exactly those responses. */
#include <stdarg.h>
#include <stdlib.h>

#include "server/server_int.h"
#include "util/apierr.h"

typedef struct json413_filter {
    h2o_filter_t super;
    http_server_t *srv;
} json413_filter_t;

typedef struct json413_ostream {
    h2o_ostream_t super;
    h2o_iovec_t body;
    bool sent;
} json413_ostream_t;

static void json413_send(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *bufs, size_t n, h2o_send_state_t state)
{
    json413_ostream_t *o = (json413_ostream_t *)self;
    bool head = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
    h2o_iovec_t out = o->body;
    size_t cnt = (!o->sent && !head) ? 1 : 0;
    o->sent = true;
    h2o_ostream_send_next(&o->super, req, &out, cnt, state);
}

static void json413_setup(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    json413_filter_t *f = (json413_filter_t *)self;
    if (req->res.status == 413) {
        /* the client may still be sending the body: drain it after h2o closes (HTTP/1;
         * HTTP/2 refuses the stream and keeps the connection) */
        if (req->version < 0x200)
            http_conn_linger(req->conn->callbacks->get_socket ? req->conn->callbacks->get_socket(req->conn) : NULL);
        ssize_t i = h2o_find_header(&req->res.headers, H2O_TOKEN_CONTENT_TYPE, -1);
        if (i != -1)
            req->res.headers.entries[i].value = h2o_iovec_init(H2O_STRLIT("application/json"));
        else
            h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/json"));
        req->res.content_length = f->srv->too_large_len;
        json413_ostream_t *o = (json413_ostream_t *)h2o_add_ostream(req, sizeof(*o), slot);
        o->super.do_send = json413_send;
        o->body = h2o_iovec_init(f->srv->too_large_json, f->srv->too_large_len);
        o->sent = false;
        slot = &o->super.next;
    }
    h2o_setup_next_ostream(req, slot);
}

/* A Status body built once by the one builder (util/apierr). */
static char *status_body(apierr_kind_t kind, int retry_after, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static char *status_body(apierr_kind_t kind, int retry_after, size_t *len, const char *fmt, ...)
{
    apierr_t e = APIERR_INIT;
    buf_t b;
    buf_init(&b);
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    e.kind = kind;
    e.message = buf_steal(&b);
    e.retry_after = retry_after;
    char *body = apierr_status_body(&e, len);
    apierr_clear(&e);
    return body;
}

void http_errors_register(http_server_t *s, h2o_pathconf_t *fallback)
{
    /* kube-apiserver's wording (apimachinery NewRequestEntityTooLargeError) */
    s->too_large_json = status_body(APIERR_TOO_LARGE, 0, &s->too_large_len, "Request entity too large: limit is %zu",
                                    s->cfg.max_body);
    s->busy_json = status_body(APIERR_TOO_MANY_REQUESTS, 1, &s->busy_len,
                               "too many requests are waiting, please try again later");
    s->down_json = status_body(APIERR_UNAVAILABLE, 1, &s->down_len, "the server is shutting down");
    json413_filter_t *f = (json413_filter_t *)h2o_create_filter(fallback, sizeof(*f));
    f->super.on_setup_ostream = json413_setup;
    f->srv = s;
}

void http_errors_free(http_server_t *s)
{
    free(s->too_large_json);
    free(s->busy_json);
    free(s->down_json);
}

const char *http_reason_phrase(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Request Entity Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return status < 300 ? "OK" : status < 400 ? "Redirect" : status < 500 ? "Client Error" : "Server Error";
    }
}
