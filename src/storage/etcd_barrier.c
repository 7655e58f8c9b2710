/* storage/etcd: the read barrier — etcd's current revision for a consistent read.
 *
 * Only a revision request that STARTED after a caller arrived reflects every write
 * acknowledged before it; callers that arrive while one is in flight wait for the
 * next. So concurrent readers share requests: at most two per burst, whatever the
 * number of readers. A failed request fails its waiters too (an error cannot break
 * consistency, and a hung etcd then costs one timeout, not two).
 *
 * Lock-free: generations and the result are atomics, waiters sleep on a futex on
 * the finished generation. (A mutex + condition variable here made every GET on
 * etcd wake all waiters into one mutex: 40 % of the server's time under load.) */
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "storage/etcd_int.h"

static void futex_wait(atomic_uint *word, unsigned seen)
{
    syscall(SYS_futex, (unsigned *)word, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
}

static void futex_wake_all(atomic_uint *word)
{
    syscall(SYS_futex, (unsigned *)word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

/* Generations wrap: a is at or after b. */
static bool gen_reached(unsigned a, unsigned b)
{
    return (int)(a - b) >= 0;
}

int etcd_read_barrier(store_t *s, int64_t *rev)
{
    etcd_store_t *es = (etcd_store_t *)s;
    unsigned want = atomic_load(&es->barrier_started) + 1;
    for (;;) {
        unsigned done = atomic_load(&es->barrier_done);
        if (gen_reached(done, want))
            break;
        bool idle = false;
        if (atomic_compare_exchange_strong(&es->barrier_busy, &idle, true)) {
            /* nobody is asking etcd: ask, for everyone waiting */
            unsigned gen = atomic_fetch_add(&es->barrier_started, 1) + 1;
            int64_t seen = atomic_load(&es->feed_rev), got = 0;
            int rc = etcd_read_rev(es, &got);
            if (rc == STORE_OK && atomic_load(&es->rewound)) {
                rc = STORE_UNAVAILABLE;   /* another cluster answered: wait for the reset */
            } else if (rc == STORE_OK && got < seen) {
                /* a linearizable read that started after the feed passed `seen` can only
                 * answer less if etcd lost history: restored from a backup, or another
                 * cluster behind the same address. The cache is ahead of etcd: serve
                 * nothing from it until the feed has reset it. */
                if (!atomic_exchange(&es->rewound, true))
                    log_error("storage/etcd: etcd's revision went back from %lld to %lld (restored from "
                              "a backup?): reloading the cache; watches end with 410",
                              (long long)seen, (long long)got);
                rc = STORE_UNAVAILABLE;
            }
            atomic_store(&es->barrier_result, rc == STORE_OK ? got : (int64_t)rc);
            atomic_store(&es->barrier_done, gen);
            atomic_store(&es->barrier_busy, false);
            futex_wake_all(&es->barrier_done);
            continue;
        }
        futex_wait(&es->barrier_done, done);   /* returns at once if a request finished meanwhile */
        if (atomic_load(&es->barrier_done) != done && atomic_load(&es->barrier_result) < 0)
            break;   /* the request in flight failed: so do we */
    }
    int64_t res = atomic_load(&es->barrier_result);
    if (res < 0)
        return (int)res;
    *rev = res;
    return STORE_OK;
}
