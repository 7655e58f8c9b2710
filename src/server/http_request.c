/* Requests: the h2o handler entry, the accessors, plain responses and http_defer.
 * Accessors read the h2o request from whichever thread owns the request at the
 * time; that is safe because HTTP/1.1 in h2o 2.2.5 stops reading the socket while
 * a request is being handled, so h2o leaves the request alone until we respond. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/server_int.h"

typedef struct http_copy {
    struct http_copy *next;
    char s[];
} http_copy_t;

__thread http_loop_t *http_tls_loop;

void http_req_unref(http_req_t *r)
{
    if (atomic_fetch_sub(&r->refs, 1) != 1)
        return;
    http_copy_t *c = r->copies;
    while (c) {
        http_copy_t *n = c->next;
        free(c);
        c = n;
    }
    pthread_mutex_destroy(&r->lock);
    free(r->strs);
    free(r->remote);
    free(r->hdrs);
    free(r->resp_body);
    free(r);
}

/* h2o clears the request's pool: the h2o side lets go (loop thread). */
static void on_pool_dispose(void *p)
{
    http_req_t *r = *(http_req_t **)p;
    struct http_stream *st = r->stream;
    r->h2o = NULL;
    http_req_unref(r);
    if (st)
        http_stream_req_gone(st);
}

int http_on_req(h2o_handler_t *self, h2o_req_t *req)
{
    http_loop_t *loop = (http_loop_t *)req->conn->ctx;
    http_server_t *s = loop->srv;
    http_req_t *r = xcalloc(1, sizeof *r);
    r->loop = loop;
    r->h2o = req;
    atomic_init(&r->refs, 2);
    pthread_mutex_init(&r->lock, NULL);

    size_t plen = req->path.len, qlen = 0;
    const char *q = NULL;
    if (req->query_at != SIZE_MAX && req->query_at < req->path.len) {
        plen = req->query_at;
        q = req->path.base + req->query_at + 1;
        qlen = req->path.len - req->query_at - 1;
    }
    r->strs = xmalloc(req->method.len + plen + qlen + 3);
    r->method = r->strs;
    memcpy(r->method, req->method.base, req->method.len);
    r->method[req->method.len] = '\0';
    r->path = r->method + req->method.len + 1;
    memcpy(r->path, req->path.base, plen);
    r->path[plen] = '\0';
    r->query = r->path + plen + 1;
    if (qlen)
        memcpy(r->query, q, qlen);
    r->query[qlen] = '\0';
    r->body = req->entity.base ? req->entity.base : "";
    r->body_len = req->entity.base ? req->entity.len : 0;
    r->peerlen = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&r->peer);

    http_req_t **slot = h2o_mem_alloc_shared(&req->pool, sizeof *slot, on_pool_dispose);
    *slot = r;
    s->handler(r, s->ctx);
    return 0;
}

const char *http_method(http_req_t *r) { return r->method; }
const char *http_path(http_req_t *r) { return r->path; }
const char *http_query(http_req_t *r) { return r->query; }

const char *http_body(http_req_t *r, size_t *len)
{
    if (len)
        *len = r->body_len;
    return r->body;
}

const char *http_header(http_req_t *r, const char *name)
{
    h2o_req_t *req = r->h2o;
    if (!req || !name)
        return NULL;
    size_t nl = strlen(name);
    for (size_t i = 0; i < req->headers.size; i++) {
        const h2o_header_t *h = &req->headers.entries[i];
        if (h->name->len != nl || strncasecmp(h->name->base, name, nl) != 0)
            continue;
        /* copies come from malloc, not the h2o pool: the pool is not thread-safe */
        http_copy_t *c = xmalloc(sizeof *c + h->value.len + 1);
        memcpy(c->s, h->value.base, h->value.len);
        c->s[h->value.len] = '\0';
        pthread_mutex_lock(&r->lock);
        c->next = r->copies;
        r->copies = c;
        pthread_mutex_unlock(&r->lock);
        return c->s;
    }
    return NULL;
}

const char *http_remote_addr(http_req_t *r)
{
    pthread_mutex_lock(&r->lock);
    if (!r->remote) {
        char host[INET6_ADDRSTRLEN] = "";
        int port = 0;
        if (r->peer.ss_family == AF_INET) {
            struct sockaddr_in *a = (struct sockaddr_in *)&r->peer;
            inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
            port = ntohs(a->sin_port);
            r->remote = xasprintf("%s:%d", host, port);
        } else if (r->peer.ss_family == AF_INET6) {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&r->peer;
            inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
            port = ntohs(a->sin6_port);
            r->remote = xasprintf("[%s]:%d", host, port);
        } else {
            r->remote = xstrdup("");
        }
    }
    pthread_mutex_unlock(&r->lock);
    return r->remote;
}

/* Header names the transport owns: the caller's copies would duplicate or contradict ours. */
static bool header_reserved(const char *name)
{
    return strcasecmp(name, "Content-Length") == 0 || strcasecmp(name, "Transfer-Encoding") == 0 ||
           strcasecmp(name, "Connection") == 0 || strcasecmp(name, "Date") == 0;
}

http_header_kv_t *http_headers_copy(const http_header_kv_t *h, size_t n, size_t *nout)
{
    size_t total = 0, kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (!h[i].name || !h[i].value || header_reserved(h[i].name))
            continue;
        total += strlen(h[i].name) + strlen(h[i].value) + 2;
        kept++;
    }
    *nout = kept;
    if (!kept)
        return NULL;
    http_header_kv_t *out = xmalloc(kept * sizeof *out + total);
    char *p = (char *)(out + kept);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (!h[i].name || !h[i].value || header_reserved(h[i].name))
            continue;
        size_t nl = strlen(h[i].name) + 1, vl = strlen(h[i].value) + 1;
        out[j].name = memcpy(p, h[i].name, nl);
        p += nl;
        out[j].value = memcpy(p, h[i].value, vl);
        p += vl;
        j++;
    }
    return out;
}

void http_res_set_head(http_req_t *r, int status, const http_header_kv_t *h, size_t n)
{
    h2o_req_t *req = r->h2o;
    req->res.status = status;
    req->res.reason = http_reason_phrase(status);
    for (size_t i = 0; i < n; i++) {
        size_t nl = strlen(h[i].name);
        /* h2o recognises its tokens (content-type, ...) only in lower case; orig_name keeps the caller's spelling */
        h2o_iovec_t lname = h2o_strdup(&req->pool, h[i].name, nl);
        h2o_strtolower(lname.base, lname.len);
        h2o_add_header_by_str(&req->pool, &req->res.headers, lname.base, lname.len, 1, h[i].name, h[i].value,
                              strlen(h[i].value));
    }
}

/* Loop thread: hand the response to h2o, then drop the application's reference. */
void http_req_on_respond_msg(http_req_t *r)
{
    h2o_req_t *req = r->h2o;
    if (req) {
        http_res_set_head(r, r->status, r->hdrs, r->nhdrs);
        bool nobody = (r->status >= 100 && r->status < 200) || r->status == 204 || r->status == 304;
        req->res.content_length = nobody ? SIZE_MAX : r->resp_len;
        r->gen = (h2o_generator_t){NULL, NULL};
        h2o_start_response(req, &r->gen);
        h2o_iovec_t b = h2o_iovec_init(r->resp_body, r->resp_len);
        bool head = strcmp(r->method, "HEAD") == 0;
        /* the body stays alive in r until h2o disposes the request */
        h2o_send(req, &b, (nobody || head || r->resp_len == 0) ? 0 : 1, H2O_SEND_STATE_FINAL);
    }
    http_req_unref(r);
}

static void respond(http_req_t *r, int status, const http_header_kv_t *headers, size_t nheaders, char *body,
                    size_t len)
{
    if (r->responded) {
        log_error("http: second response to %s %s ignored", r->method, r->path);
        free(body);
        return;
    }
    r->responded = true;
    r->status = status;
    r->hdrs = http_headers_copy(headers, nheaders, &r->nhdrs);
    r->resp_body = body;
    r->resp_len = body ? len : 0;
    if (http_tls_loop == r->loop) {
        http_req_on_respond_msg(r);
        return;
    }
    r->msg.type = HTTP_MSG_RESPOND;
    r->msg.obj = r;
    http_loop_post(r->loop, &r->msg);
}

void http_respond(http_req_t *r, int status, const http_header_kv_t *headers, size_t nheaders, const char *body,
                  size_t len)
{
    char *copy = NULL;
    if (body && len) {
        copy = xmalloc(len);
        memcpy(copy, body, len);
    }
    respond(r, status, headers, nheaders, copy, copy ? len : 0);
}

void http_respond_owned(http_req_t *r, int status, const http_header_kv_t *headers, size_t nheaders, char *body,
                        size_t len)
{
    respond(r, status, headers, nheaders, body, len);
}

int http_defer(http_req_t *r, void (*fn)(http_req_t *r, void *arg), void *arg)
{
    r->defer_fn = fn;
    r->defer_arg = arg;
    int rc = http_pool_push(r->loop->srv->pool, r);
    if (rc == 0)
        return 0;
    http_header_kv_t h[] = {{"Content-Type", "application/json"}, {"Retry-After", "1"}};
    if (rc == -2) {
        /* overloaded: clients (client-go) back off and retry on 429 + Retry-After */
        static const char busy[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                                   "\"message\":\"too many requests are waiting, please try again later\","
                                   "\"reason\":\"TooManyRequests\",\"details\":{\"retryAfterSeconds\":1},\"code\":429}";
        http_respond(r, 429, h, 2, busy, sizeof busy - 1);
        return -1;
    }
    /* the pool has shut down: this request arrived during shutdown */
    static const char body[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                               "\"message\":\"the server is shutting down\",\"reason\":\"ServiceUnavailable\","
                               "\"code\":503}";
    if (r->h2o && http_tls_loop == r->loop)
        r->h2o->http1_is_persistent = 0; /* no further requests on this connection */
    http_respond(r, 503, h, 2, body, sizeof body - 1);
    return -1;
}
