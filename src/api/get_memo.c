/* get_memo: the encoded answers of virtual GETs (an ImageStreamTag), kept with the stored
 * objects they were made from (the stream and the image, at their revisions), so that the
 * same GET is answered again from memory while every one of those objects is unchanged:
 * the check is a cache lookup per object, nothing is decoded, and on the embedded store it
 * runs on the event loop (the cache is current there; on etcd it runs on the pool after
 * the read barrier). A slot table, replaced on collision: a miss only costs the slow path.
 * Entries are immutable and reference-counted, so a reader never holds the table's lock
 * while it checks or answers. */
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"

#define MEMO_SLOTS 4096   /* answers kept; ~1.5-4 KB each for an ImageStreamTag */

typedef struct memo_ent {
    atomic_int refs;
    char *key;                            /* resource, namespace, name */
    size_t ndeps;
    const kind_def_t *dep_kind[API_GET_DEPS];
    char *dep_key[API_GET_DEPS];          /* cache key of the object */
    int64_t dep_rev[API_GET_DEPS];        /* its revision when the answer was made */
    char *json;
    size_t len;
} memo_ent_t;

struct get_memo {
    pthread_mutex_t mu;
    memo_ent_t *slot[MEMO_SLOTS];
};

static void ent_unref(memo_ent_t *e)
{
    if (!e || atomic_fetch_sub(&e->refs, 1) != 1)
        return;
    for (size_t i = 0; i < e->ndeps; i++)
        free(e->dep_key[i]);
    free(e->key);
    free(e->json);
    free(e);
}

get_memo_t *get_memo_new(void)
{
    get_memo_t *m = xcalloc(1, sizeof *m);
    pthread_mutex_init(&m->mu, NULL);
    return m;
}

void get_memo_free(get_memo_t *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < MEMO_SLOTS; i++)
        ent_unref(m->slot[i]);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

bool get_memo_eligible(const api_req_t *r)
{
    return r->kind->virt && r->kind->virt->get_deps && !r->sub && r->name && !r->opt.rv_set &&
           strcmp(r->verb, "get") == 0 && (r->accept == ACCEPT_JSON || r->accept == ACCEPT_YAML);
}

static char *memo_key(const api_req_t *r)
{
    return xasprintf("%s\n%s\n%s", r->kind->resource, r->ns ? r->ns : "", r->name);
}

static size_t slot_of(const char *key)
{
    uint64_t h = 1469598103934665603ull;   /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return (size_t)(h % MEMO_SLOTS);
}

bool get_memo_serve(api_req_t *r, bool consistent)
{
    get_memo_t *m = r->api->get_memo;
    char *key = memo_key(r);
    size_t s = slot_of(key);
    pthread_mutex_lock(&m->mu);
    memo_ent_t *e = m->slot[s];
    if (e && strcmp(e->key, key) == 0)
        atomic_fetch_add(&e->refs, 1);
    else
        e = NULL;
    pthread_mutex_unlock(&m->mu);
    free(key);
    if (!e)
        return false;
    bool current = true;
    /* etcd: each cache the answer depends on must have caught up with the store first (a
     * consistent read, on the pool); the embedded store's caches are always current */
    for (size_t i = 0; i < e->ndeps && current && consistent; i++)
        if (api_consistent_read(&r->call, e->dep_kind[i]->cache) != 0) {
            apierr_clear(&r->call.err);   /* the slow path meets and reports the same */
            current = false;
        }
    for (size_t i = 0; i < e->ndeps && current; i++) {
        cache_obj_t *o = cache_get(e->dep_kind[i]->cache, e->dep_key[i]);
        current = o && o->mod_rev == e->dep_rev[i];
        cache_obj_unref(o);
    }
    if (current)
        api_respond_bytes(r, 200, e->json, e->len);
    ent_unref(e);
    return current;
}

void get_memo_keep(api_req_t *r, const json_t *answer, const char *json, size_t len)
{
    api_get_dep_t deps[API_GET_DEPS];
    size_t n = r->kind->virt->get_deps(answer, deps);
    if (n == 0 || n > API_GET_DEPS)
        return;
    memo_ent_t *e = xcalloc(1, sizeof *e);
    for (size_t i = 0; i < n; i++) {
        const api_kind_t *k = api_kind_find(r->api, deps[i].resource);
        if (!k || !kind_is_stored(k) || deps[i].rev <= 0) {
            e->ndeps = i;
            atomic_init(&e->refs, 1);
            ent_unref(e);
            return;
        }
        e->dep_kind[i] = k;
        e->dep_key[i] = kind_key(k, k->namespaced ? deps[i].ns : NULL, deps[i].name);
        e->dep_rev[i] = deps[i].rev;
    }
    e->ndeps = n;
    e->key = memo_key(r);
    e->json = xmalloc(len + 1);
    memcpy(e->json, json, len);
    e->json[len] = '\0';
    e->len = len;
    atomic_init(&e->refs, 1);
    get_memo_t *m = r->api->get_memo;
    size_t s = slot_of(e->key);
    pthread_mutex_lock(&m->mu);
    memo_ent_t *old = m->slot[s];
    m->slot[s] = e;
    pthread_mutex_unlock(&m->mu);
    ent_unref(old);
}
