/* storage internals: the backend ops table. Every public store_* call is a thin
 * dispatch through store_t.ops so that the SQLite backend and the later etcd v3
 * backend implement exactly the same contract (see docs/storage.md for the
 * etcd v3 mapping of each op). */
#ifndef IAS_STORE_INT_H
#define IAS_STORE_INT_H

#include "storage/storage.h"

typedef struct store_ops {
    const char *name;
    void (*close)(store_t *s);
    void (*set_sink)(store_t *s, store_sink_fn fn, void *ctx);
    int (*get)(store_t *s, const char *key, store_kv_t *out);
    int (*range)(store_t *s, const char *prefix, const char *from_key, int64_t at_rev, size_t limit,
                 store_kv_t **items, size_t *n, int64_t *rev_out, bool *more);
    int (*create)(store_t *s, const char *key, const char *value, size_t len, int64_t *rev_out);
    int (*update)(store_t *s, const char *key, const char *value, size_t len, int64_t if_mod_rev,
                  int64_t *rev_out);
    int (*del)(store_t *s, const char *key, int64_t if_mod_rev, int64_t *rev_out, store_kv_t *prev);
    int64_t (*current_rev)(store_t *s);
    int64_t (*compacted_rev)(store_t *s);
    int (*compact)(store_t *s, int64_t rev);
    int (*replay)(store_t *s, const char *prefix, int64_t after_rev, store_sink_fn fn, void *ctx);
    bool (*healthy)(store_t *s);
    void (*stats)(store_t *s, store_stats_t *out);
    /* NULL: the sink runs before writes return, reads need no barrier */
    int (*read_barrier)(store_t *s, int64_t *rev);
    /* NULL: a single process owns the store and always leads */
    store_election_t *(*election_start)(store_t *s, const char *name, const char *identity, int ttl_s);
    bool (*election_leading)(store_election_t *e);
    char *(*election_holder)(store_election_t *e);
    void (*election_stop)(store_election_t *e);
} store_ops_t;

/* Base of an election handle; a backend's embeds it first. */
struct store_election {
    store_t *store;
    char *identity;
};

/* Base struct; a backend embeds it as its first member. */
struct store {
    const store_ops_t *ops;
};

/* Exclusive upper bound of the keys starting with prefix (etcd's range_end):
 * prefix with its last byte below 0xff incremented and the rest dropped.
 * Returns NULL when there is none (empty prefix or all 0xff): no upper bound. */
char *store_prefix_end(const char *prefix);

#endif
