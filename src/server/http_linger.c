/* Lingering close after h2o's own 413.
 *
 * h2o 2.2.5 answers an oversized body with a 413 before reading it (Content-Length
 * over the limit: right after the head; chunked: once the decoded body reaches the
 * limit), stops reading, and closes the socket as soon as the 413 is written. The
 * client is often still sending (Go, Python requests, anything without
 * Expect: 100-continue). Closing a socket with unread data makes the kernel send
 * RST instead of FIN, and the RST makes the client's kernel throw away the 413 it
 * has not read yet: the client sees "connection reset by peer".
 *
 * So, like nginx, we linger: the 413 filter dup()s the connection's fd before h2o
 * closes it (h2o's close then drops only its own descriptor, the TCP connection
 * stays up). When h2o has closed the connection we shut our write side (FIN after
 * the 413) and read and discard what the client still sends until EOF, a byte cap,
 * an idle second or an overall deadline, then close. Everything runs on the loop
 * thread that owned the connection. */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/server_int.h"

#define HTTP_LINGER_IDLE_MS 1000     /* the client stopped sending */
#define HTTP_LINGER_READS 64         /* recv calls per wake-up: other sockets get their turn */

struct http_linger {
    http_loop_t *loop;
    h2o_socket_t *sock;
    size_t left;                     /* bytes we still discard before giving up */
    h2o_timeout_entry_t idle, deadline;
    struct http_linger *prev, *next;
};

static void linger_close(http_linger_t *l)
{
    http_loop_t *loop = l->loop;
    if (h2o_timeout_is_linked(&l->idle))
        h2o_timeout_unlink(&l->idle);
    if (h2o_timeout_is_linked(&l->deadline))
        h2o_timeout_unlink(&l->deadline);
    h2o_socket_read_stop(l->sock);
    h2o_socket_close(l->sock); /* closes the dup'ed fd: the last one, so the connection ends */
    if (l->prev)
        l->prev->next = l->next;
    else
        loop->lingers = l->next;
    if (l->next)
        l->next->prev = l->prev;
    loop->nlingers--;
    free(l);
}

static void on_idle(h2o_timeout_entry_t *e)
{
    linger_close(H2O_STRUCT_FROM_MEMBER(http_linger_t, idle, e));
}

static void on_deadline(h2o_timeout_entry_t *e)
{
    linger_close(H2O_STRUCT_FROM_MEMBER(http_linger_t, deadline, e));
}

/* The socket is created with H2O_SOCKET_FLAG_DONT_READ: h2o only tells us it is
 * readable and we recv() into a stack buffer, so nothing grows with the client's data. */
static void on_readable(h2o_socket_t *sock, const char *err)
{
    http_linger_t *l = sock->data;
    if (err) {
        linger_close(l);
        return;
    }
    int fd = h2o_socket_get_fd(sock);
    char buf[16384];
    bool got = false;
    for (int i = 0; i < HTTP_LINGER_READS; i++) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n > 0) {
            got = true;
            if ((size_t)n >= l->left) {
                linger_close(l); /* byte cap reached */
                return;
            }
            l->left -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        linger_close(l); /* EOF: the client has read the 413 and hung up; or an error */
        return;
    }
    if (got) {
        h2o_timeout_unlink(&l->idle);
        h2o_timeout_link(l->loop->evloop, &l->loop->linger_idle, &l->idle);
    }
}

void http_linger_init(http_loop_t *loop)
{
    int total = loop->srv->cfg.linger_ms;
    h2o_timeout_init(loop->evloop, &loop->linger_idle, total < HTTP_LINGER_IDLE_MS ? total : HTTP_LINGER_IDLE_MS);
    h2o_timeout_init(loop->evloop, &loop->linger_total, total);
}

void http_linger_dispose(http_loop_t *loop)
{
    http_linger_close_all(loop);
    h2o_timeout_dispose(loop->evloop, &loop->linger_idle);
    h2o_timeout_dispose(loop->evloop, &loop->linger_total);
}

void http_linger_start(http_loop_t *loop, int fd)
{
    if (loop->stopping || shutdown(fd, SHUT_WR) != 0) {
        close(fd); /* shutting down, or the connection is gone already */
        return;
    }
    http_linger_t *l = xcalloc(1, sizeof *l);
    l->loop = loop;
    l->left = loop->srv->cfg.linger_max;
    l->sock = h2o_evloop_socket_create(loop->evloop, fd, H2O_SOCKET_FLAG_DONT_READ);
    l->sock->data = l;
    l->idle.cb = on_idle;
    l->deadline.cb = on_deadline;
    h2o_timeout_link(loop->evloop, &loop->linger_idle, &l->idle);
    h2o_timeout_link(loop->evloop, &loop->linger_total, &l->deadline);
    l->next = loop->lingers;
    if (loop->lingers)
        loop->lingers->prev = l;
    loop->lingers = l;
    loop->nlingers++;
    h2o_socket_read_start(l->sock, on_readable);
}

void http_linger_close_all(http_loop_t *loop)
{
    while (loop->lingers)
        linger_close(loop->lingers);
}
