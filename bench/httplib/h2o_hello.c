/* HTTP library candidate: h2o 2.2.5 evloop, one loop + SO_REUSEPORT listener per thread,
 * answering every request with the same 2048-byte JSON body. Usage: h2o_hello PORT THREADS */
#include <h2o.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static h2o_globalconf_t config;
static char body[2048];
static int port;

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    req->res.status = 200;
    req->res.reason = "OK";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/json"));
    h2o_send_inline(req, body, sizeof body);
    return 0;
}

typedef struct {
    h2o_context_t ctx;
    h2o_accept_ctx_t accept;
} worker_t;

static void on_accept(h2o_socket_t *listener, const char *err)
{
    worker_t *w = listener->data;
    h2o_socket_t *sock;
    if (err)
        return;
    if ((sock = h2o_evloop_socket_accept(listener)) == NULL)
        return;
    h2o_accept(&w->accept, sock);
}

static void *run(void *arg)
{
    worker_t *w = calloc(1, sizeof *w);
    h2o_context_init(&w->ctx, h2o_evloop_create(), &config);
    w->accept.ctx = &w->ctx;
    w->accept.hosts = config.hosts;
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(0x7f000001)};
    if (bind(fd, (void *)&a, sizeof a) || listen(fd, 1024)) {
        perror("bind");
        exit(1);
    }
    h2o_socket_t *ls = h2o_evloop_socket_create(w->ctx.loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    ls->data = w;
    h2o_socket_read_start(ls, on_accept);
    while (h2o_evloop_run(w->ctx.loop, INT32_MAX) == 0)
        ;
    return NULL;
}

int main(int argc, char **argv)
{
    port = argc > 1 ? atoi(argv[1]) : 18081;
    int threads = argc > 2 ? atoi(argv[2]) : 2;
    memset(body, 'x', sizeof body);
    body[0] = '{', body[1] = '"', body[2] = 'a', body[3] = '"', body[4] = ':', body[5] = '"';
    body[sizeof body - 2] = '"', body[sizeof body - 1] = '}';
    h2o_config_init(&config);
    h2o_hostconf_t *host = h2o_config_register_host(&config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *h = h2o_create_handler(path, sizeof *h);
    h->on_req = on_req;
    pthread_t t[64];
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, run, NULL);
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    return 0;
}
