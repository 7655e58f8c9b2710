/* HTTP library candidate: libmicrohttpd 0.9.75, epoll thread pool, same 2048-byte body.
 * Usage: mhd_hello PORT THREADS */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct MHD_Response *resp;

static enum MHD_Result on_req(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *data, size_t *size, void **state)
{
    if (!*state) { /* queue on the second call so keep-alive is kept */
        *state = (void *)1;
        return MHD_YES;
    }
    return MHD_queue_response(c, 200, resp);
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 18082;
    int threads = argc > 2 ? atoi(argv[2]) : 2;
    static char body[2048];
    memset(body, 'x', sizeof body);
    memcpy(body, "{\"a\":\"", 6);
    body[sizeof body - 2] = '"', body[sizeof body - 1] = '}';
    resp = MHD_create_response_from_buffer(sizeof body, body, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(resp, "Content-Type", "application/json");
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(0x7f000001)};
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD, port, NULL, NULL, on_req, NULL,
                                            MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads, MHD_OPTION_SOCK_ADDR, &a,
                                            MHD_OPTION_CONNECTION_LIMIT, 10000u, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "cannot start\n");
        return 1;
    }
    pause();
    return 0;
}
