/* object_lock: per-object serialisation of the server's own read-modify-writes.
 *
 * Without it, N requests that change one object at once (20 clients tagging one image
 * stream) all read the same resourceVersion, one wins and N-1 retry, and so on: the
 * retry bound of api_obj_mutate is spent on the server's own requests and some fail with
 * 409. With it, writers of one object on this server take turns from the read to the
 * write, and only writers elsewhere (another replica on one etcd) cause conflicts.
 *
 * A fixed set of stripes (kind + namespace + name hashed), not a lock per object: no
 * allocation, no table to clean. Two objects sharing a stripe only wait for each other.
 * A thread holds at most one stripe (a write nested in a mutate function takes none), so
 * there is no lock order to get wrong. */
#include <string.h>

#include "api/api_internal.h"

static _Thread_local bool holding;

static uint32_t fnv1a(uint32_t h, const char *s)
{
    for (; s && *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return (h ^ '/') * 16777619u;   /* a separator, so "a"+"bc" and "ab"+"c" differ */
}

void object_locks_init(api_t *a)
{
    for (size_t i = 0; i < API_OBJECT_LOCKS; i++)
        pthread_mutex_init(&a->object_locks[i], NULL);
}

void object_locks_free(api_t *a)
{
    for (size_t i = 0; i < API_OBJECT_LOCKS; i++)
        pthread_mutex_destroy(&a->object_locks[i]);
}

pthread_mutex_t *object_lock(api_t *a, const kind_def_t *k, const char *ns, const char *name)
{
    if (holding)
        return NULL;
    uint32_t h = fnv1a(fnv1a(fnv1a(2166136261u, k->resource), ns), name);
    pthread_mutex_t *m = &a->object_locks[h % API_OBJECT_LOCKS];
    pthread_mutex_lock(m);
    holding = true;
    return m;
}

void object_unlock(pthread_mutex_t *m)
{
    if (!m)
        return;
    holding = false;
    pthread_mutex_unlock(m);
}
