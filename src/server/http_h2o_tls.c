/* Returns h2o's per-thread free lists to malloc before a loop thread exits.
 * h2o 2.2.5 keeps up to 16 recycled memory-pool chunks and 16 socket input
 * buffers in __thread lists and has no call to release them, so every exited
 * loop thread would leave them behind (LeakSanitizer reports them). The socket
 * buffer list is public. The pool-chunk list is static in memory.c: we empty it
 * by making a pool take more chunks than the list can hold, then free those
 * chunks ourselves; this relies on 2.2.5's layout (a chunk is one malloc block
 * whose first field is `next`), so it is compiled for 2.2.x only. */
#include <stdlib.h>
#include <string.h>

#include <h2o/version.h>

#include "server/server_int.h"

struct tls_chunk { /* the prefix of st_h2o_mem_pool_chunk_t in h2o 2.2.5 */
    struct tls_chunk *next;
};

void http_h2o_tls_drain(void)
{
    h2o_mem_recycle_t *a = &h2o_socket_buffer_prototype.allocator;
    while (a->cnt > 0)
        free(h2o_mem_alloc_recycle(a, 1));
#if H2O_VERSION_MAJOR == 2 && H2O_VERSION_MINOR == 2
    /* 4 allocations of 1008 bytes fill one 4 KiB chunk; 17 chunks empty a list of 16 */
    h2o_mem_pool_t pool;
    h2o_mem_init_pool(&pool);
    for (int i = 0; i < 17 * 4; i++)
        h2o_mem_alloc_pool(&pool, 1008);
    struct tls_chunk *c = (struct tls_chunk *)pool.chunks;
    while (c) {
        struct tls_chunk *next = c->next;
        free(c);
        c = next;
    }
#endif
}
