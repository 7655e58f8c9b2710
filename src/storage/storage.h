/* storage: the revisioned key-value store contract (etcd v3 semantics), its
 * backends, and the watch cache that serves get/list/watch.
 *
 * Keys: "/image.openshift.io/imagestreams/<ns>/<name>", "/image.openshift.io/images/<name>".
 * Values: the object's canonical JSON as written by the caller (api/ strips
 * metadata.resourceVersion before writing; the revision is the resourceVersion).
 * One global strictly increasing revision counter, starting at 1 on an empty store. */
#ifndef IAS_STORAGE_H
#define IAS_STORAGE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Results. Every function returns one of these. */
enum {
    STORE_OK = 0,
    STORE_NOT_FOUND = -1,    /* key absent (get/update/delete) */
    STORE_EXISTS = -2,       /* create of an existing key */
    STORE_CONFLICT = -3,     /* if_mod_rev did not match */
    STORE_COMPACTED = -4,    /* requested revision is older than the compaction point -> 410 */
    STORE_UNAVAILABLE = -5,  /* backend down / I/O error -> 503 */
    STORE_TOO_LARGE = -6,    /* value over the backend's limit */
    STORE_FUTURE_REV = -7,   /* requested revision is newer than current -> 504 "Too large resource version" */
};

typedef struct store store_t;

typedef struct store_kv {
    char *key;
    char *value;
    size_t value_len;
    int64_t create_rev;
    int64_t mod_rev;
} store_kv_t;

void store_kv_free(store_kv_t *kv);             /* frees fields, not kv itself */

/* PUT/DELETE: a change of key. PROGRESS: no change under the store's keys up to rev (the
 * backend saw a revision that touched none of them). RESET: the backend lost part of the
 * history before rev (its event feed fell behind a compaction): the receiver must reload
 * everything as of rev (store_range at rev) and end watchers that could have missed changes.
 * PROGRESS and RESET carry only type and rev. */
typedef enum { STORE_EV_PUT = 1, STORE_EV_DELETE = 2, STORE_EV_PROGRESS = 3, STORE_EV_RESET = 4 } store_ev_type_t;

typedef struct store_event {
    store_ev_type_t type;
    int64_t rev;            /* revision of this change */
    const char *key;
    const char *value;      /* new value (PUT, value_len bytes) or NULL (DELETE) */
    size_t value_len;
    int64_t create_rev;     /* of the key's current incarnation */
    const char *prev_value; /* value before this change, NULL on a create */
    size_t prev_value_len;
    int64_t prev_mod_rev;   /* 0 on a create */
} store_event_t;

/* Called for every committed change, in revision order, from the backend's
 * writer/watch thread. Embedded store: BEFORE the writing call returns to its caller (so a
 * client that got its write acknowledged reads it back from the cache). etcd: after, from
 * a watch thread; a consistent read first waits for store_read_barrier's revision. */
typedef void (*store_sink_fn)(void *ctx, const store_event_t *ev);

typedef struct store_options {
    const char *data_dir;        /* embedded: directory of the SQLite file */
    int64_t compact_retain;      /* keep at least this many revisions of history (default 10000) */
    int compact_interval_s;      /* automatic compaction period (default 60; 0 = off) */
    int batch_max;               /* group commit: max writes per transaction (default 256) */
} store_options_t;

/* Embedded SQLite backend: WAL, synchronous=FULL, one writer thread with group commit. */
int store_open_sqlite(const store_options_t *opt, store_t **out);
void store_close(store_t *s);

/* etcd v3 backend, through the JSON gateway (/v3/...) over libcurl (issue #3, in progress;
 * docs/storage.md §5). Revisions are etcd's: an empty etcd is at revision 1, not 0. The sink
 * is fed by a watch thread, so events arrive AFTER the write returned (use cache_wait_rev).
 * A store's key_prefix must not be a prefix of another store's key_prefix on the same etcd. */
typedef struct store_etcd_options {
    const char *endpoints;   /* "http://127.0.0.1:2379[,https://...]"; NULL = that default */
    const char *key_prefix;  /* prepended to every key in etcd; NULL/"" = keys as given */
    int timeout_ms;          /* per request (default 5000) */
    const char *ca_file;     /* TLS: CA bundle that signs etcd's server certificate (NULL = system) */
    const char *cert_file;   /* TLS client certificate (PEM) for etcd's client-cert auth, or NULL */
    const char *key_file;    /* its private key (PEM) */
} store_etcd_options_t;
int store_open_etcd(const store_etcd_options_t *opt, store_t **out);

/* Register the event sink (one per store; the cache set installs it). */
void store_set_sink(store_t *s, store_sink_fn fn, void *ctx);

int store_get(store_t *s, const char *key, store_kv_t *out);
/* Items with key >= from_key (or >= prefix when from_key NULL) and key starting with prefix,
 * as of revision at_rev (0 = current), sorted by key, at most limit (0 = all).
 * *rev_out = the revision the read was served at; *more = items remain. */
int store_range(store_t *s, const char *prefix, const char *from_key, int64_t at_rev, size_t limit,
                store_kv_t **items, size_t *n, int64_t *rev_out, bool *more);
void store_kvs_free(store_kv_t *items, size_t n);
int store_create(store_t *s, const char *key, const char *value, size_t len, int64_t *rev_out);
/* if_mod_rev 0 = unconditional. */
int store_update(store_t *s, const char *key, const char *value, size_t len, int64_t if_mod_rev,
                 int64_t *rev_out);
/* On success *prev receives the deleted value (may be NULL if not wanted). */
int store_delete(store_t *s, const char *key, int64_t if_mod_rev, int64_t *rev_out, store_kv_t *prev);
int64_t store_current_rev(store_t *s);
int64_t store_compacted_rev(store_t *s);
int store_compact(store_t *s, int64_t rev);
/* Replays committed changes with rev > after_rev and key under prefix, in order.
 * STORE_COMPACTED if after_rev < compacted revision. */
int store_replay(store_t *s, const char *prefix, int64_t after_rev, store_sink_fn fn, void *ctx);
bool store_healthy(store_t *s);

/* Consistent reads. *rev = the revision a reader's cache must have applied to reflect every
 * write acknowledged before this call (etcd: its current revision, one request; concurrent
 * callers share one request that started after they called). 0 when the sink runs before
 * writes return (embedded): the cache is always current. STORE_UNAVAILABLE if unreachable. */
int store_read_barrier(store_t *s, int64_t *rev);
/* True when store_read_barrier must be called (and may block on the network). */
bool store_reads_need_barrier(store_t *s);
/* Short name of the backend: "sqlite" or "etcd". */
const char *store_backend_name(store_t *s);

/* Leader election among the servers sharing a store, for work that must run once (compaction,
 * controllers). Embedded store: the process always leads. etcd: the holder of the key
 * <prefix>/leases/<name>, attached to a lease of ttl_s seconds kept alive by a thread; when the
 * leader dies another server takes over within ttl_s plus one retry period (ttl_s/4). */
typedef struct store_election store_election_t;
store_election_t *store_election_start(store_t *s, const char *name, const char *identity, int ttl_s);
bool store_election_leading(store_election_t *e);
/* Current holder's identity ("" if none known); caller frees. */
char *store_election_holder(store_election_t *e);
/* Resigns (deletes the key by revoking the lease) and frees. */
void store_election_stop(store_election_t *e);

/* Periodic compaction for a store shared by replicas: every interval_s, while e leads (or e is
 * NULL), compacts to current revision - retain. The embedded store compacts on its own. */
typedef struct store_compactor store_compactor_t;
store_compactor_t *store_compactor_start(store_t *s, store_election_t *e, int64_t retain, int interval_s);
void store_compactor_stop(store_compactor_t *c);

/* ---- additions (storage engineer) ---- */
/* Largest value a backend accepts (etcd's default --max-request-bytes, 1.5 MiB). */
#define STORE_MAX_VALUE ((size_t)1572864)
/* Short English text for a STORE_* result (for logs and Status messages). */
const char *store_strerror(int rc);
/* Write-path counters since open (group commit: writes / txns = mean batch size). */
typedef struct store_stats {
    uint64_t txns;        /* committed write transactions */
    uint64_t writes;      /* write ops processed (incl. ones that failed with EXISTS/CONFLICT/...) */
    uint64_t compactions; /* compactions run */
} store_stats_t;
void store_get_stats(store_t *s, store_stats_t *out);

/* ------------------------------------------------------------------------ */
/* The watch cache.                                                          */

/* An immutable cached object, shared by reference count. Built by the
 * owner's build function from a stored value; readers hold a reference while
 * they send it. */
typedef struct cache_obj {
    atomic_int refs;
    char *key;
    int64_t create_rev;
    int64_t mod_rev;
    char *json;          /* bytes sent to clients (built by the owner) */
    size_t json_len;
    void *extra;         /* owner's precomputed data (labels, fields, table cells) */
    void (*extra_free)(void *extra);
} cache_obj_t;

cache_obj_t *cache_obj_ref(cache_obj_t *o);
void cache_obj_unref(cache_obj_t *o);

/* Builds a cache_obj from a stored value at revision mod_rev. Returns NULL if the value
 * cannot be decoded (logged, skipped). Must set key, revs, json; refs is set by the cache.
 * The object, key and json must be malloc'd (cache_obj_unref frees them with free(), and
 * extra with extra_free if set). value has len bytes and is not always NUL-terminated.
 * Runs on the store writer thread (live events) or on the cache_watch caller (replay). */
typedef cache_obj_t *(*cache_build_fn)(void *ctx, const char *key, const char *value, size_t len,
                                       int64_t create_rev, int64_t mod_rev);

typedef struct cache cache_t;

/* One cache per resource prefix ("/image.openshift.io/imagestreams/"). Loads the current
 * contents from the store. Several caches share one store: cache_set_attach() installs
 * the store sink that routes events to each cache by prefix. */
typedef struct cache_set cache_set_t;
cache_set_t *cache_set_new(store_t *s);
void cache_set_free(cache_set_t *cs);
cache_t *cache_set_add(cache_set_t *cs, const char *prefix, cache_build_fn build, void *ctx,
                       size_t ring_size /* events kept for watch resumption, e.g. 16384 */);
/* Called under the cache's write lock for every change applied from the store: old is the
 * object replaced or deleted, obj the object now stored (either may be NULL); both NULL
 * when the whole cache was reloaded. For owners that keep something derived from many
 * objects (api/: a counter of changes to objects with a derived view). Must be cheap and
 * must not call back into the cache. Set before cache_set_start. */
typedef void (*cache_apply_hook_fn)(void *ctx, const cache_obj_t *old, const cache_obj_t *obj);
void cache_set_apply_hook(cache_t *c, cache_apply_hook_fn fn, void *ctx);
/* Loads all caches from the store and starts routing events. */
int cache_set_start(cache_set_t *cs);

/* Waits until the cache has applied revision rev (embedded store: immediate).
 * Returns 0 or STORE_UNAVAILABLE on timeout. */
int cache_wait_rev(cache_t *c, int64_t rev, int timeout_ms);
int64_t cache_rev(cache_t *c);  /* newest revision applied (global store revision) */

/* Returns a new reference or NULL. */
cache_obj_t *cache_get(cache_t *c, const char *key);

/* Calls fn for each object whose key starts with prefix and is >= from_key (NULL = prefix),
 * in key order, at the cache's current revision (*rev_out), holding a consistent snapshot.
 * fn returns 0 to go on, 1 to stop. The obj pointer is only valid during the callback
 * (take a ref to keep it). Returns the number of objects visited. The scan holds the
 * cache's read lock: fn must not call back into the same cache (cache_get etc.). */
size_t cache_scan(cache_t *c, const char *prefix, const char *from_key,
                  int (*fn)(void *arg, cache_obj_t *obj), void *arg, int64_t *rev_out);
size_t cache_count(cache_t *c);
/* Looks up key_prefix + names[i] for each of n names sorted in byte order (strcmp, so the
 * keys are in index order too), under one read lock: one snapshot. fn(arg, i, obj) gets
 * the object or NULL when absent; obj is only valid during the call and fn must not call
 * back into the cache. Gallops from the previous position: O(n log(N/n)) for n names
 * among N objects, and no key strings built. */
void cache_get_sorted(cache_t *c, const char *key_prefix, const char *const *names, size_t n,
                      void (*fn)(void *arg, size_t i, cache_obj_t *obj), void *arg);

typedef enum { CACHE_EV_ADDED = 1, CACHE_EV_MODIFIED, CACHE_EV_DELETED } cache_ev_type_t;

typedef struct cache_event {
    cache_ev_type_t type;
    int64_t rev;
    cache_obj_t *obj;    /* new object; for DELETED the last state re-built at the deletion rev */
    cache_obj_t *prev;   /* previous object or NULL */
} cache_event_t;

/* A watcher. deliver() runs on the cache's dispatcher thread, never concurrently for one
 * watcher, events in revision order. It must be cheap (encode and queue): all watchers
 * share one dispatcher thread. It returns 0 to go on, -1 to stop (the watcher is
 * then removed; closed(arg, STORE_COMPACTED) follows: "could not keep up", send 410).
 * closed(arg, reason) is called exactly once when the
 * watcher ends: reason 0 = cancelled by cache_watch_cancel, STORE_COMPACTED = the
 * watcher fell behind / from_rev too old (send 410), STORE_UNAVAILABLE = shutdown. */
typedef struct cache_watch_ops {
    int (*deliver)(void *arg, const cache_event_t *ev);
    void (*closed)(void *arg, int reason);
} cache_watch_ops_t;

typedef struct cache_watcher cache_watcher_t;

/* Starts a watch on keys under prefix (NULL = the cache's prefix). from_rev 0: deliver an
 * ADDED event for every current object first (synthetic, rev = that object's mod_rev), then
 * changes. from_rev N: deliver every change with rev > N (from the ring, else replayed from
 * the store); if that history is gone returns NULL with *err = STORE_COMPACTED; N newer than
 * the cache: NULL with *err = STORE_FUTURE_REV (wait with cache_wait_rev first if needed).
 * deliver() may run (and closed() may be called) before cache_watch returns. */
cache_watcher_t *cache_watch(cache_t *c, const char *prefix, int64_t from_rev,
                             const cache_watch_ops_t *ops, void *arg, int *err);
/* True when cache_watch(c, ., from_rev, ...) is served from memory alone (from_rev 0, or
 * within the event ring); false when it would replay the store first (blocking I/O: keep
 * it off event loops). */
bool cache_watch_in_memory(cache_t *c, int64_t from_rev);
/* Stops a watcher (thread-safe, idempotent); closed(arg, 0) is called unless it already was.
 * closed() may run on the dispatcher thread concurrently with, or before, this call, and may
 * also be called synchronously from inside it; cancel never blocks on deliver(). */
void cache_watch_cancel(cache_watcher_t *w);
/* The owner's last call on a watcher handle (exactly once, after or without cancel): the cache
 * frees the watcher once the owner has released it AND closed() has returned. Until release the
 * handle stays valid even after closed(). (Releasing a watcher that is still running cancels
 * it first, so closed(arg, 0) is still called exactly once.) */
void cache_watch_release(cache_watcher_t *w);
/* Current revision to report in a BOOKMARK for this cache. */
int64_t cache_bookmark_rev(cache_t *c);

#endif
