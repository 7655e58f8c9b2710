/* api: consistent reads on a store whose events reach the cache after the write
 * returned (etcd, several replicas). A read without a resourceVersion must show
 * every write acknowledged before it, on whichever replica it lands: fetch the
 * store's current revision, then wait until the cache has applied it. On the
 * embedded store the cache is updated before a write returns: nothing to wait for. */
#include "api/api_internal.h"

/* How long a read waits for the cache to catch up (kube-apiserver waits 3 s too). */
#define CACHE_CATCH_UP_MS 3000

int api_wait_rev(api_req_t *r, cache_t *c, int64_t rev)
{
    if (rev <= cache_rev(c))
        return 0;
    if (store_reads_need_barrier(r->api->store) && cache_wait_rev(c, rev, CACHE_CATCH_UP_MS) == 0)
        return 0;
    apierr_set(&r->err, APIERR_TIMEOUT, "Too large resource version: %lld, current: %lld", (long long)rev,
               (long long)cache_rev(c));
    return -1;
}

int api_consistent_read(api_req_t *r, cache_t *c)
{
    if (!store_reads_need_barrier(r->api->store))
        return 0;
    int64_t rev = 0;
    if (store_read_barrier(r->api->store, &rev) != STORE_OK) {
        r->err.retry_after = 1;
        apierr_set(&r->err, APIERR_UNAVAILABLE, "storage is unavailable (etcd did not answer), please try again");
        return -1;
    }
    if (cache_wait_rev(c, rev, CACHE_CATCH_UP_MS) != 0) {
        apierr_set(&r->err, APIERR_TIMEOUT,
                   "the watch cache did not catch up with etcd revision %lld within %d ms (it is at %lld)",
                   (long long)rev, CACHE_CATCH_UP_MS, (long long)cache_rev(c));
        return -1;
    }
    return 0;
}
