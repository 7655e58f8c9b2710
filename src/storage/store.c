/* storage: backend-independent part of the store contract: dispatch through the
 * ops table, argument checks shared by all backends, result helpers. */
#include <stdlib.h>
#include <string.h>

#include "storage/store_int.h"
#include "util/util.h"

void store_kv_free(store_kv_t *kv)
{
    if (!kv)
        return;
    free(kv->key);
    free(kv->value);
    memset(kv, 0, sizeof(*kv));
}

void store_kvs_free(store_kv_t *items, size_t n)
{
    if (!items)
        return;
    for (size_t i = 0; i < n; i++)
        store_kv_free(&items[i]);
    free(items);
}

char *store_prefix_end(const char *prefix)
{
    size_t n = prefix ? strlen(prefix) : 0;
    while (n > 0 && (unsigned char)prefix[n - 1] == 0xff)
        n--;
    if (n == 0)
        return NULL;
    char *end = xstrndup(prefix, n);
    end[n - 1] = (char)((unsigned char)end[n - 1] + 1);
    return end;
}

const char *store_strerror(int rc)
{
    switch (rc) {
    case STORE_OK: return "ok";
    case STORE_NOT_FOUND: return "not found";
    case STORE_EXISTS: return "already exists";
    case STORE_CONFLICT: return "revision mismatch";
    case STORE_COMPACTED: return "required revision has been compacted";
    case STORE_UNAVAILABLE: return "storage unavailable";
    case STORE_TOO_LARGE: return "value too large";
    case STORE_FUTURE_REV: return "required revision is a future revision";
    }
    return "unknown storage error";
}

static bool key_ok(const char *key)
{
    return key && key[0];
}

void store_close(store_t *s)
{
    if (s)
        s->ops->close(s);
}

void store_set_sink(store_t *s, store_sink_fn fn, void *ctx)
{
    s->ops->set_sink(s, fn, ctx);
}

int store_get(store_t *s, const char *key, store_kv_t *out)
{
    memset(out, 0, sizeof(*out));
    if (!key_ok(key))
        return STORE_NOT_FOUND;
    return s->ops->get(s, key, out);
}

int store_range(store_t *s, const char *prefix, const char *from_key, int64_t at_rev, size_t limit,
                store_kv_t **items, size_t *n, int64_t *rev_out, bool *more)
{
    *items = NULL;
    *n = 0;
    if (rev_out)
        *rev_out = 0;
    if (more)
        *more = false;
    if (at_rev < 0)
        return STORE_FUTURE_REV;
    int64_t rev = 0;
    bool m = false;
    int rc = s->ops->range(s, prefix ? prefix : "", from_key, at_rev, limit, items, n, &rev, &m);
    if (rev_out)
        *rev_out = rev;
    if (more)
        *more = m;
    return rc;
}

int store_create(store_t *s, const char *key, const char *value, size_t len, int64_t *rev_out)
{
    if (rev_out)
        *rev_out = 0;
    if (!key_ok(key))
        return STORE_NOT_FOUND;
    if (len > STORE_MAX_VALUE)
        return STORE_TOO_LARGE;
    return s->ops->create(s, key, value, len, rev_out);
}

int store_update(store_t *s, const char *key, const char *value, size_t len, int64_t if_mod_rev,
                 int64_t *rev_out)
{
    if (rev_out)
        *rev_out = 0;
    if (!key_ok(key))
        return STORE_NOT_FOUND;
    if (len > STORE_MAX_VALUE)
        return STORE_TOO_LARGE;
    return s->ops->update(s, key, value, len, if_mod_rev, rev_out);
}

int store_delete(store_t *s, const char *key, int64_t if_mod_rev, int64_t *rev_out, store_kv_t *prev)
{
    if (rev_out)
        *rev_out = 0;
    if (prev)
        memset(prev, 0, sizeof(*prev));
    if (!key_ok(key))
        return STORE_NOT_FOUND;
    return s->ops->del(s, key, if_mod_rev, rev_out, prev);
}

int64_t store_current_rev(store_t *s)
{
    return s->ops->current_rev(s);
}

int64_t store_compacted_rev(store_t *s)
{
    return s->ops->compacted_rev(s);
}

int store_compact(store_t *s, int64_t rev)
{
    return s->ops->compact(s, rev);
}

int store_replay(store_t *s, const char *prefix, int64_t after_rev, store_sink_fn fn, void *ctx)
{
    return s->ops->replay(s, prefix ? prefix : "", after_rev, fn, ctx);
}

bool store_healthy(store_t *s)
{
    return s->ops->healthy(s);
}

void store_get_stats(store_t *s, store_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    if (s->ops->stats)
        s->ops->stats(s, out);
}

int store_read_barrier(store_t *s, int64_t *rev)
{
    *rev = 0;
    return s->ops->read_barrier ? s->ops->read_barrier(s, rev) : STORE_OK;
}

bool store_reads_need_barrier(store_t *s)
{
    return s->ops->read_barrier != NULL;
}

const char *store_backend_name(store_t *s)
{
    return s->ops->name;
}

store_election_t *store_election_start(store_t *s, const char *name, const char *identity, int ttl_s)
{
    if (s->ops->election_start)
        return s->ops->election_start(s, name, identity, ttl_s);
    store_election_t *e = xcalloc(1, sizeof(*e));
    e->store = s;
    e->identity = xstrdup(identity);
    return e;
}

bool store_election_leading(store_election_t *e)
{
    return e->store->ops->election_leading ? e->store->ops->election_leading(e) : true;
}

char *store_election_holder(store_election_t *e)
{
    return e->store->ops->election_holder ? e->store->ops->election_holder(e) : xstrdup(e->identity);
}

void store_election_stop(store_election_t *e)
{
    if (!e)
        return;
    if (e->store->ops->election_stop) {
        e->store->ops->election_stop(e);
        return;
    }
    free(e->identity);
    free(e);
}
