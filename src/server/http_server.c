/* The server: configuration, listeners, one h2o event loop per thread, the
 * cross-thread message queue of each loop, and shutdown.
 *
 * Each loop has its own SO_REUSEPORT listener and h2o_context_t, so the kernel
 * spreads connections and a connection lives on one thread for its life. We
 * accept() ourselves (rather than h2o_evloop_socket_accept) to keep each fd:
 * shutdown closes idle keep-alive connections with shutdown(2) on it. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/server_int.h"

#define HTTP_STOP_GRACE_MS 1000      /* in-flight responses may finish */
#define HTTP_STOP_FORCE_MS 1000      /* after shutdown(SHUT_RDWR) */

/* ---- listen address ---- */

static int parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *sslen)
{
    const char *colon = strrchr(listen, ':');
    if (!colon || !colon[1]) {
        log_error("http: listen address %s is not HOST:PORT", listen);
        return -1;
    }
    char *host = xstrndup(listen, (size_t)(colon - listen));
    char *h = host;
    size_t hl = strlen(h);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h[hl - 1] = '\0';
        h++;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(*h ? h : NULL, colon + 1, &hints, &res);
    free(host);
    if (rc != 0 || !res) {
        log_error("http: cannot resolve listen address %s: %s", listen, gai_strerror(rc));
        return -1;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *sslen = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static int open_listener(const struct sockaddr_storage *ss, socklen_t len, const char *addr)
{
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0)
        goto fail;
    if (bind(fd, (const struct sockaddr *)ss, len) != 0 || listen(fd, SOMAXCONN) != 0)
        goto fail;
    return fd;
fail:
    log_error("http: cannot listen on %s: %s", addr, strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

static int sockaddr_port(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)ss)->sin_port);
    if (ss->ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    return -1;
}

static void sockaddr_set_port(struct sockaddr_storage *ss, int port)
{
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
    else if (ss->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
}

/* ---- connections ---- */

#define H2_RESET_WINDOW_MS 10000

void http_conn_unref(http_conn_t *c)
{
    if (c && atomic_fetch_sub(&c->refs, 1) == 1)
        free(c);
}

/* h2o has closed the connection (and its fd). */
static void on_conn_close(void *data)
{
    http_conn_t *c = data;
    http_loop_t *loop = c->loop;
    if (c->linger_fd >= 0)
        http_linger_start(loop, c->linger_fd);
    if (c->prev)
        c->prev->next = c->next;
    else
        loop->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    loop->nconns--;
    c->closed = true;
    c->ssl = NULL;
    http_peer_unref(c->peer);
    c->peer = NULL;
    http_conn_unref(c); /* requests still on the pool keep it */
}

http_conn_t *http_conn_of(h2o_socket_t *sock)
{
    return sock && sock->on_close.cb == on_conn_close ? sock->on_close.data : NULL;
}

/* CVE-2023-44487: h2o 2.2.5 frees a reset stream's slot at once, so a client that
 * opens and cancels streams in a loop has our pool work for nothing while h2o's own
 * concurrency limit never trips. Too many cancellations in a window end the
 * connection (shutdown(2) makes h2o see EOF and close it). */
void http_conn_early_reset(http_conn_t *c)
{
    if (c->closed)
        return;
    int64_t now = time_mono_ms();
    if (now - c->resets_window_ms >= H2_RESET_WINDOW_MS) {
        c->resets_window_ms = now;
        c->resets = 0;
    }
    if (++c->resets == c->loop->srv->cfg.h2_max_early_resets + 1) {
        log_warn("http: closing a connection that cancelled %d requests before their answer within %d s",
                 c->resets - 1, H2_RESET_WINDOW_MS / 1000);
        shutdown(c->fd, SHUT_RDWR);
    }
}

void http_conn_linger(h2o_socket_t *sock)
{
    http_conn_t *c = http_conn_of(sock);
    if (!c)
        return;
    /* h2o closes its fd before calling on_close: the dup has to exist already. If it
     * cannot be made, h2o's plain close is what the client gets. */
    if (c->linger_fd < 0)
        c->linger_fd = fcntl(c->fd, F_DUPFD_CLOEXEC, 0);
}

static void on_accept(h2o_socket_t *listener, const char *err);

static void on_accept_resume(h2o_timeout_entry_t *entry)
{
    http_loop_t *loop = H2O_STRUCT_FROM_MEMBER(http_loop_t, accept_resume, entry);
    if (loop->listener)
        h2o_socket_read_start(loop->listener, on_accept);
}

/* Out of descriptors (or memory): the pending connection would wake us again at
 * once, so stop reading the listener for a moment and warn at most every 5 s. */
static void accept_back_off(http_loop_t *loop, int err)
{
    int64_t now = time_mono_ms();
    if (now - loop->accept_warned_ms >= 5000) {
        log_warn("http: accept: %s; pausing new connections for %d ms", strerror(err), 100);
        loop->accept_warned_ms = now;
    }
    h2o_socket_read_stop(loop->listener);
    if (!h2o_timeout_is_linked(&loop->accept_resume))
        h2o_timeout_link(loop->evloop, &loop->accept_backoff, &loop->accept_resume);
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    http_loop_t *loop = listener->data;
    if (err)
        return;
    for (int i = 0; i < 32; i++) {
        int fd = accept4(loop->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                accept_back_off(loop, errno);
            else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
                log_warn("http: accept: %s", strerror(errno));
            return;
        }
        int on = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
        h2o_socket_t *sock = h2o_evloop_socket_create(loop->evloop, fd, H2O_SOCKET_FLAG_IS_ACCEPTED_CONNECTION);
        http_conn_t *c = xcalloc(1, sizeof *c);
        atomic_init(&c->refs, 1);
        atomic_init(&c->live, 0);
        c->fd = fd;
        c->linger_fd = -1;
        c->loop = loop;
        c->next = loop->conns;
        if (loop->conns)
            loop->conns->prev = c;
        loop->conns = c;
        loop->nconns++;
        sock->on_close.cb = on_conn_close;
        sock->on_close.data = c;
        if (loop->srv->tls)
            http_tls_refresh(loop->srv->tls, &loop->accept_ctx.ssl_ctx, &loop->tls_generation);
        h2o_accept(&loop->accept_ctx, sock);
    }
}

static void stop_accepting(http_loop_t *loop)
{
    if (h2o_timeout_is_linked(&loop->accept_resume))
        h2o_timeout_unlink(&loop->accept_resume);
    if (!loop->listener)
        return;
    h2o_socket_read_stop(loop->listener);
    h2o_socket_close(loop->listener); /* closes listen_fd */
    loop->listener = NULL;
    loop->listen_fd = -1;
}

static void shutdown_conns(http_loop_t *loop, int how)
{
    for (http_conn_t *c = loop->conns; c; c = c->next)
        shutdown(c->fd, how);
}

/* ---- messages ---- */

void http_loop_post(http_loop_t *loop, http_msg_t *m)
{
    m->super.link = (h2o_linklist_t){NULL, NULL};
    h2o_multithread_send_message(&loop->receiver, &m->super);
}

static void on_messages(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    http_loop_t *loop = H2O_STRUCT_FROM_MEMBER(http_loop_t, receiver, receiver);
    while (!h2o_linklist_is_empty(messages)) {
        http_msg_t *m = H2O_STRUCT_FROM_MEMBER(http_msg_t, super.link, messages->next);
        h2o_linklist_unlink(&m->super.link);
        switch (m->type) {
        case HTTP_MSG_RESPOND:
            http_req_on_respond_msg(m->obj);
            break;
        case HTTP_MSG_STREAM_BEGIN:
            http_stream_on_begin_msg(m->obj);
            break;
        case HTTP_MSG_STREAM_WAKE:
            http_stream_on_wake_msg(m->obj);
            break;
        case HTTP_MSG_STOP_ACCEPT:
            stop_accepting(loop);
            break;
        case HTTP_MSG_SHUTDOWN:
            stop_accepting(loop);
            loop->stopping = true;
            http_stream_end_all(loop);
            http_linger_close_all(loop); /* they have their 413 and our FIN already */
            /* idle keep-alive connections see EOF; responses being written still finish */
            shutdown_conns(loop, SHUT_RD);
            loop->stop_phase = 1;
            loop->stop_deadline_ms = time_mono_ms() + HTTP_STOP_GRACE_MS;
            break;
        }
    }
}

/* ---- loop threads ---- */

static void shutdown_step(http_loop_t *loop)
{
    if (loop->nconns == 0) {
        loop->exit = true;
        return;
    }
    int64_t now = time_mono_ms();
    if (now < loop->stop_deadline_ms)
        return;
    if (loop->stop_phase == 1) {
        shutdown_conns(loop, SHUT_RDWR); /* clients that stopped reading */
        loop->stop_phase = 2;
        loop->stop_deadline_ms = now + HTTP_STOP_FORCE_MS;
    } else {
        log_warn("http: %zu connection(s) still busy at shutdown (a request was never answered)", loop->nconns);
        loop->exit = true;
    }
}

static void loop_dispose(http_loop_t *loop)
{
    if (!loop->evloop) {
        if (loop->listen_fd >= 0)
            close(loop->listen_fd);
        return;
    }
    stop_accepting(loop);
    h2o_multithread_unregister_receiver(loop->ctx.queue, &loop->receiver);
    h2o_multithread_queue_t *queue = loop->ctx.queue;
    h2o_timeout_dispose(loop->evloop, &loop->accept_backoff);
    http_linger_dispose(loop);
    h2o_context_dispose(&loop->ctx);
    free(queue); /* h2o 2.2.5's evloop destroy_queue closes the pipe but never frees the struct */
    h2o_evloop_destroy(loop->evloop);
    loop->evloop = NULL;
    SSL_CTX_free(loop->accept_ctx.ssl_ctx);
    loop->accept_ctx.ssl_ctx = NULL;
}

/* Everything h2o allocates for a loop must be created ON that loop's thread.
 * h2o 2.2.5 binds a socket's input buffer to the creating thread's __thread
 * h2o_socket_buffer_prototype (the buffer keeps that pointer and is recycled
 * through that thread's free list). h2o_context_init creates the queue's pipe
 * socket, so a context built on the main thread would make every loop thread
 * push and pop the main thread's free list without a lock: a buffer handed to
 * two sockets, use-after-free, lost buffers. */
static int loop_init(http_server_t *s, http_loop_t *loop)
{
    loop->evloop = h2o_evloop_create();
    h2o_context_init(&loop->ctx, loop->evloop, &s->config);
    h2o_timeout_init(loop->evloop, &loop->accept_backoff, 100);
    http_linger_init(loop);
    loop->accept_resume.cb = on_accept_resume;
    loop->accept_ctx.ctx = &loop->ctx;
    loop->accept_ctx.hosts = s->config.hosts;
    /* the context's own queue carries our messages too: one pipe per loop */
    h2o_multithread_register_receiver(loop->ctx.queue, &loop->receiver, on_messages);
    loop->listener = h2o_evloop_socket_create(loop->evloop, loop->listen_fd, H2O_SOCKET_FLAG_DONT_READ);
    loop->listener->data = loop;
    h2o_socket_read_start(loop->listener, on_accept);
    return 0;
}

static void loop_set_ready(http_loop_t *loop)
{
    http_server_t *s = loop->srv;
    pthread_mutex_lock(&s->ready_lock);
    s->nready++;
    pthread_cond_broadcast(&s->ready_cond);
    pthread_mutex_unlock(&s->ready_lock);
}

static void *loop_main(void *arg)
{
    http_loop_t *loop = arg;
    http_tls_loop = loop;
    loop_init(loop->srv, loop);
    loop_set_ready(loop); /* messages may be posted from now on */
    while (!loop->exit) {
        h2o_evloop_run(loop->evloop, loop->stopping ? 50 : INT32_MAX);
        if (loop->stopping)
            shutdown_step(loop);
    }
    /* deliver messages posted while we were leaving, and let closed sockets be reaped */
    h2o_evloop_run(loop->evloop, 0);
    http_tls_loop = NULL;
    loop_dispose(loop);
    http_h2o_tls_drain();
    return NULL;
}

/* ---- public ---- */

static int online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

http_server_t *http_server_new(const http_config_t *cfg, http_handler_fn handler, void *ctx)
{
    if (!cfg || !cfg->listen || !handler) {
        log_error("http: a listen address and a handler are required");
        return NULL;
    }
    /* h2o writes with writev(2): a peer that vanished must not kill the process */
    signal(SIGPIPE, SIG_IGN);
    http_server_t *s = xcalloc(1, sizeof *s);
    s->cfg = *cfg;
    s->cfg.listen = xstrdup(cfg->listen);
    if (s->cfg.threads <= 0)
        s->cfg.threads = online_cpus();
    if (s->cfg.pool_threads <= 0)
        s->cfg.pool_threads = 64;
    if (s->cfg.max_body == 0)
        s->cfg.max_body = 3 * 1024 * 1024;
    if (s->cfg.header_timeout_ms <= 0)
        s->cfg.header_timeout_ms = 10000;
    if (s->cfg.idle_timeout_ms <= 0)
        s->cfg.idle_timeout_ms = 60000;
    if (s->cfg.stream_max_pending == 0)
        s->cfg.stream_max_pending = 8 * 1024 * 1024;
    if (s->cfg.max_queued == 0)
        s->cfg.max_queued = 4096;
    if (s->cfg.linger_ms <= 0)
        s->cfg.linger_ms = 5000;
    if (s->cfg.h2_max_streams <= 0)
        s->cfg.h2_max_streams = 100;
    if (s->cfg.h2_max_early_resets <= 0)
        s->cfg.h2_max_early_resets = 200;
    if (s->cfg.linger_max == 0) {
        size_t cap = 64u * 1024 * 1024;
        s->cfg.linger_max = s->cfg.max_body <= cap / 8 ? 8 * s->cfg.max_body : cap;
    }
    s->handler = handler;
    s->ctx = ctx;
    pthread_mutex_init(&s->ready_lock, NULL);
    pthread_cond_init(&s->ready_cond, NULL);

    h2o_config_init(&s->config);
    s->config.server_name = h2o_iovec_init(H2O_STRLIT("")); /* no Server header */
    s->config.max_request_entity_size = s->cfg.max_body;
    /* HTTP/1.1 in h2o 2.2.5 has one timer for "waiting for a complete request",
     * which covers both slow headers and keep-alive idle; see docs/http-transport.md */
    s->config.http1.req_timeout = (uint64_t)s->cfg.header_timeout_ms;
    /* HTTP/2 only through ALPN on TLS, as kube-apiserver: no h2c upgrade */
    s->config.http1.upgrade_to_http2 = 0;
    s->config.http2.idle_timeout = (uint64_t)s->cfg.idle_timeout_ms;
    s->config.http2.max_concurrent_requests_per_connection = (size_t)s->cfg.h2_max_streams;
    s->config.handshake_timeout = (uint64_t)s->cfg.header_timeout_ms; /* slow TLS handshakes */
    s->hostconf = h2o_config_register_host(&s->config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *pathconf = h2o_config_register_path(s->hostconf, "/", 0);
    h2o_handler_t *h = h2o_create_handler(pathconf, sizeof *h);
    h->on_req = http_on_req;
    http_errors_register(s, &s->hostconf->fallback_path);

    if (s->cfg.tls_cert_file || s->cfg.tls_key_file) {
        s->tls = http_tls_new(&s->cfg);
        if (!s->tls)
            goto fail;
    }
    s->nloops = s->cfg.threads;
    s->loops = xcalloc((size_t)s->nloops, sizeof *s->loops);
    for (int i = 0; i < s->nloops; i++)
        s->loops[i].listen_fd = -1;
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    if (parse_listen(s->cfg.listen, &ss, &sslen) != 0)
        goto fail;
    for (int i = 0; i < s->nloops; i++) {
        http_loop_t *loop = &s->loops[i];
        loop->srv = s;
        loop->listen_fd = open_listener(&ss, sslen, s->cfg.listen);
        if (loop->listen_fd < 0)
            goto fail;
        if (i == 0) { /* port 0: every other listener joins the port the kernel picked */
            struct sockaddr_storage bound;
            socklen_t bl = sizeof bound;
            if (getsockname(loop->listen_fd, (struct sockaddr *)&bound, &bl) != 0)
                goto fail;
            s->port = sockaddr_port(&bound);
            sockaddr_set_port(&ss, s->port);
        }
    }
    return s;
fail:
    http_server_free(s);
    return NULL;
}

int http_server_port(http_server_t *s) { return s ? s->port : -1; }

int http_server_start(http_server_t *s)
{
    if (!s || s->started)
        return -1;
    s->pool = http_pool_new(s->cfg.pool_threads, s->cfg.max_queued);
    if (!s->pool) {
        log_error("http: cannot start the worker pool");
        return -1;
    }
    s->started = true;
    if (s->tls && http_tls_start(s->tls) != 0)
        log_warn("http: cannot start the certificate watcher; certificate files are not reloaded");
    int rc = 0, nstarted = 0;
    for (int i = 0; i < s->nloops; i++) {
        http_loop_t *loop = &s->loops[i];
        if (pthread_create(&loop->thread, NULL, loop_main, loop) != 0) {
            log_error("http: cannot start event loop thread %d", i);
            rc = -1;
            break;
        }
        loop->thread_started = true;
        nstarted++;
    }
    /* each loop builds its h2o objects on its own thread; wait until all can take messages */
    pthread_mutex_lock(&s->ready_lock);
    while (s->nready < nstarted)
        pthread_cond_wait(&s->ready_cond, &s->ready_lock);
    pthread_mutex_unlock(&s->ready_lock);
    return rc;
}

void http_server_free(http_server_t *s)
{
    if (!s)
        return;
    if (s->started) {
        /* 1. no new connections; 2. deferred work finishes and answers;
         * 3. streams end, connections close; 4. threads exit */
        for (int i = 0; i < s->nloops; i++) {
            s->loops[i].stop_accept_msg.type = HTTP_MSG_STOP_ACCEPT;
            if (s->loops[i].thread_started)
                http_loop_post(&s->loops[i], &s->loops[i].stop_accept_msg);
        }
        http_pool_stop(s->pool); /* the pool stays allocated: loops may still call http_defer */
        for (int i = 0; i < s->nloops; i++) {
            http_loop_t *loop = &s->loops[i];
            if (!loop->thread_started)
                continue;
            loop->shutdown_msg.type = HTTP_MSG_SHUTDOWN;
            http_loop_post(loop, &loop->shutdown_msg);
        }
        for (int i = 0; i < s->nloops; i++)
            if (s->loops[i].thread_started)
                pthread_join(s->loops[i].thread, NULL);
        http_pool_free(s->pool);
        s->pool = NULL;
    }
    for (int i = 0; s->loops && i < s->nloops; i++)
        loop_dispose(&s->loops[i]);
    free(s->loops);
    http_tls_free(s->tls);
    h2o_config_dispose(&s->config);
    http_errors_free(s);
    free((char *)s->cfg.listen);
    pthread_cond_destroy(&s->ready_cond);
    pthread_mutex_destroy(&s->ready_lock);
    free(s);
}
