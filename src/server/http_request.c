/* Requests: the h2o handler entry, the accessors, plain responses and http_defer.
 * Everything a request needs from h2o (method, path, query, headers) is copied on
 * the loop thread when it arrives, so the accessors never touch h2o objects and
 * may run on any thread, whatever the loop is doing meanwhile. The body is the
 * exception: it points into h2o's input buffer, which HTTP/1.1 in h2o 2.2.5 leaves
 * alone until the response has been sent. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/server_int.h"

__thread http_loop_t *http_tls_loop;

void http_req_unref(http_req_t *r)
{
    if (atomic_fetch_sub(&r->refs, 1) != 1)
        return;
    if (r->conn) {
        atomic_fetch_sub(&r->conn->live, 1);
        http_conn_unref(r->conn);
    }
    http_peer_unref(r->client_cert);
    free(r->body_copy);
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
    if (!r->loop_answered && r->conn)
        http_conn_early_reset(r->conn);
    http_req_unref(r);
    if (st)
        http_stream_req_gone(st);
}

/* Copies n bytes to *p as a NUL-terminated string and moves *p past it. */
static char *copy_str(char **p, const char *src, size_t n)
{
    char *d = *p;
    if (n)
        memcpy(d, src, n);
    d[n] = '\0';
    *p = d + n + 1;
    return d;
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
    h2o_socket_t *sock = req->conn->callbacks->get_socket ? req->conn->callbacks->get_socket(req->conn) : NULL;
    r->conn = http_conn_of(sock);
    r->version = req->version;
    r->tls = sock && sock->ssl;
    if (r->conn) {
        atomic_fetch_add(&r->conn->refs, 1);
        atomic_fetch_add(&r->conn->live, 1);
        r->client_cert = http_conn_peer(r->conn);
    }

    size_t plen = req->path.len, qlen = 0;
    const char *q = NULL;
    if (req->query_at != SIZE_MAX && req->query_at < req->path.len) {
        plen = req->query_at;
        q = req->path.base + req->query_at + 1;
        qlen = req->path.len - req->query_at - 1;
    }
    /* One block for the header array and every string. Its size is bounded by what
     * h2o accepted: a request head of at most H2O_MAX_REQLEN bytes. h2o keeps Host
     * as the authority, outside req->headers: it is added back as "host" (without a
     * Host header h2o points the authority at our hostconf's name). */
    bool host = req->input.authority.base != NULL && req->input.authority.base != s->hostconf->authority.hostport.base;
    size_t nh = req->headers.size + (host ? 1 : 0);
    size_t total = nh * sizeof(http_in_hdr_t) + req->method.len + plen + qlen + 3;
    for (size_t i = 0; i < req->headers.size; i++)
        total += req->headers.entries[i].name->len + req->headers.entries[i].value.len + 2;
    if (host)
        total += sizeof "host" + req->input.authority.len + 1;
    r->strs = xmalloc(total);
    r->in_hdrs = (http_in_hdr_t *)r->strs;
    r->nin_hdrs = nh;
    char *p = r->strs + nh * sizeof(http_in_hdr_t);
    r->method = copy_str(&p, req->method.base, req->method.len);
    r->path = copy_str(&p, req->path.base, plen);
    r->query = copy_str(&p, q, qlen);
    size_t j = 0;
    if (host) {
        r->in_hdrs[j].nlen = 4;
        r->in_hdrs[j].name = copy_str(&p, "host", 4);
        r->in_hdrs[j++].value = copy_str(&p, req->input.authority.base, req->input.authority.len);
    }
    for (size_t i = 0; i < req->headers.size; i++, j++) {
        const h2o_header_t *h = &req->headers.entries[i];
        r->in_hdrs[j].nlen = h->name->len;
        r->in_hdrs[j].name = copy_str(&p, h->name->base, h->name->len);
        r->in_hdrs[j].value = copy_str(&p, h->value.base, h->value.len);
    }
    r->body = req->entity.base ? req->entity.base : "";
    r->body_len = req->entity.base ? req->entity.len : 0;
    if (r->version >= 0x200 && r->body_len) {
        /* an HTTP/2 stream's body buffer goes with the stream, and a reset closes the
         * stream while the pool may still be reading the body */
        r->body_copy = xmalloc(r->body_len);
        memcpy(r->body_copy, r->body, r->body_len);
        r->body = r->body_copy;
    }
    r->peerlen = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&r->peer);

    http_req_t **slot = h2o_mem_alloc_shared(&req->pool, sizeof *slot, on_pool_dispose);
    *slot = r;
    if (r->conn && atomic_load(&r->conn->live) > 2 * s->cfg.h2_max_streams) {
        /* requests h2o forgot (reset streams) still hold pool work: take no more */
        http_header_kv_t h[] = {{"Content-Type", "application/json"}, {"Retry-After", "1"}};
        http_respond(r, 429, h, 2, s->busy_json, s->busy_len);
        return 0;
    }
    s->handler(r, s->ctx);
    return 0;
}

int http_version(http_req_t *r) { return r->version; }
bool http_is_tls(http_req_t *r) { return r->tls; }
const http_peer_cert_t *http_peer_cert(http_req_t *r) { return r->client_cert ? &r->client_cert->cert : NULL; }

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
    if (!name)
        return NULL;
    size_t nl = strlen(name);
    for (size_t i = 0; i < r->nin_hdrs; i++) {
        const http_in_hdr_t *h = &r->in_hdrs[i];
        if (h->nlen == nl && strncasecmp(h->name, name, nl) == 0)
            return h->value;
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
    if (r->close_conn)
        req->http1_is_persistent = 0; /* decided on another thread, applied here on the loop */
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
        r->loop_answered = true;
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
    http_server_t *s = r->loop->srv;
    int rc = http_pool_push(s->pool, r);
    if (rc == 0)
        return 0;
    http_header_kv_t h[] = {{"Content-Type", "application/json"}, {"Retry-After", "1"}};
    if (rc == -2) {
        /* overloaded: clients (client-go) back off and retry on 429 + Retry-After */
        http_respond(r, 429, h, 2, s->busy_json, s->busy_len);
    } else {
        /* the pool has shut down: this request arrived during shutdown */
        r->close_conn = true;
        http_respond(r, 503, h, 2, s->down_json, s->down_len);
    }
    return -1; /* answered; fn will not run, the caller still owns arg */
}
