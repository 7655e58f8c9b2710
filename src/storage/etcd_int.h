/* storage/etcd: shared state of the etcd v3 backend (JSON gateway over libcurl).
 *
 * Files: etcd_http.c (libcurl requests with endpoint failover, error mapping,
 * base64 and JSON helpers), etcd_kv.c (get, range, create/update/delete as txns,
 * compaction, revisions, health), etcd_barrier.c (the read barrier), etcd_watch.c
 * (a /v3/watch stream), etcd_replay.c (replay through one), etcd_sink.c (the live
 * event feed: a watch thread), etcd_lease.c (leader election), etcd_open.c
 * (open/close, ops table). Mapping: docs/storage.md §1, §5. */
#ifndef IAS_ETCD_INT_H
#define IAS_ETCD_INT_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>

#include "storage/store_int.h"
#include "util/util.h"

typedef struct etcd_store {
    store_t base;
    char **endpoints;          /* "http://host:port", no trailing slash */
    size_t n_endpoints;
    atomic_size_t cur_ep;      /* endpoint that answered last */
    char *prefix;              /* key prefix in etcd ("" = none) */
    size_t prefix_len;
    int timeout_ms;
    char *ca_file, *cert_file, *key_file;   /* TLS options (NULL = not set) */
    /* idle curl easy handles: each keeps its connection to etcd alive between requests */
    pthread_mutex_t handles_mu;
    void **handles;
    size_t n_handles, cap_handles;
    /* read barrier (etcd_barrier.c): concurrent callers share revision requests */
    atomic_uint barrier_started, barrier_done;   /* request generations (barrier_done: a futex) */
    atomic_bool barrier_busy;                     /* a request is in flight */
    atomic_llong barrier_result;                  /* its revision, or a STORE_* error (< 0) */
    _Atomic int64_t last_rev;     /* newest header revision seen */
    _Atomic int64_t compact_rev;  /* newest compaction revision seen (0 = none known) */
    atomic_bool healthy;
    _Atomic int64_t outage_logged_ms; /* last "etcd did not answer" log line (one per second) */
    atomic_ullong n_txns, n_writes, n_compactions;

    /* live event feed (etcd_sink.c): one thread streaming /v3/watch into the sink */
    store_sink_fn sink;
    void *sink_ctx;
    void *sink_multi;          /* CURLM *, woken by close */
    pthread_t sink_thr;
    bool sink_started;
    atomic_bool sink_stop;
    atomic_bool sink_lost;     /* the feed could not start: store unhealthy */
    bool sink_reset;           /* sink thread only: the feed hit a compaction, reload first */
    int64_t sink_behind_since; /* sink thread only: since when etcd is known past the feed (0 = not) */
    atomic_llong feed_rev;     /* newest revision passed to the sink (events or PROGRESS) */
    atomic_bool rewound;       /* etcd answered with a revision below feed_rev, or another cluster
                                  id: restored from a backup or replaced; the feed resets (reload,
                                  410 for watches) */
    atomic_ullong cluster_id;  /* of the first answer (0 = none yet) */
    int64_t sink_next;         /* sink thread only: next revision to receive */
} etcd_store_t;

/* Limits on what etcd sends (docs/storage.md §5, "Limits"): a peer must not make us hold
 * unbounded memory. Past one the read fails (STORE_UNAVAILABLE, 503) with a log line, or the
 * watch stream is dropped and reopened.
 * ETCD_MAX_ANSWER: one answer to a request. A value is at most etcd's --max-request-bytes
 * (1.5 MiB default, 2 MiB in base64), so a get or txn answer (one kv, or a prev_kv) stays
 * under ~4 MiB; a range page holds at most ETCD_RANGE_PAGE keys and is asked again with
 * fewer keys when it passes the limit, down to one key, which always fits. */
#define ETCD_MAX_ANSWER ((size_t)64 << 20)
#define ETCD_RANGE_PAGE 500
/* Pages one range may read in all: a range cannot legitimately return more than etcd holds,
 * and 8 GiB is etcd's largest recommended --quota-backend-bytes. Stops a peer answering
 * more = true forever. */
#define ETCD_MAX_RANGE_TOTAL ((uint64_t)8 << 30)
/* One watch response (one line of the stream). The watch asks etcd to fragment: a response
 * is cut at --max-request-bytes of protobuf (~10 MiB of JSON for the smallest events), or
 * holds one event (two values with prev_kv: ~4 MiB); 64 MiB also covers an etcd run with a
 * larger --max-request-bytes (up to the 10 MiB etcd warns about). */
#define ETCD_MAX_WATCH_LINE ((size_t)64 << 20)
/* etcd_post_answer only: the answer passed ETCD_MAX_ANSWER (never leaves the backend) */
enum { ETCD_OVERFLOW = -100 };

/* etcd_http.c */
int etcd_curl_global_ref(void);      /* curl_global_init on the first open */
void etcd_curl_global_unref(void);   /* curl_global_cleanup after the last close */
/* POSTs body to path on the current endpoint, failing over to the others on a
 * connection error. On STORE_OK *resp is the parsed JSON answer (caller decrefs);
 * a gateway error maps to STORE_COMPACTED/STORE_FUTURE_REV/STORE_TOO_LARGE/STORE_UNAVAILABLE. */
int etcd_post(etcd_store_t *es, const char *path, const char *body, json_t **resp);
/* etcd_post that tells an answer over ETCD_MAX_ANSWER (ETCD_OVERFLOW, logged; not tried on
 * the other endpoints) and returns the answer's size in *len. */
int etcd_post_answer(etcd_store_t *es, const char *path, const char *body, json_t **resp, size_t *len);
/* Applies the TLS options to a handle (streams set up their own handles). */
void etcd_curl_tls(etcd_store_t *es, void *curl);
void etcd_handles_free(etcd_store_t *es);
char *etcd_b64(const char *p, size_t n);                    /* standard base64, padded */
char *etcd_unb64(const char *s, size_t *len);               /* NULL on error; NUL-terminated */
int64_t etcd_i64(json_t *obj, const char *name);            /* int64 as JSON string or number; 0 if absent */
int64_t etcd_header_rev(etcd_store_t *es, json_t *resp);    /* header.revision, also noted in last_rev */
void etcd_note_compacted(etcd_store_t *es, int64_t rev);
/* es->prefix + key, malloc'd. */
char *etcd_full_key(etcd_store_t *es, const char *key);
/* JSON body helper: "key":"<b64(prefix+key)>" into b. */
void etcd_put_key(etcd_store_t *es, buf_t *b, const char *name, const char *key);
/* Decodes an etcd kv object into out (key with the prefix stripped). -1 if malformed. */
int etcd_decode_kv(etcd_store_t *es, json_t *kv, store_kv_t *out);

/* etcd_kv.c */
/* Conditional single-key txns. cond: a mod_revision to match, ETCD_IF_EXISTS or ETCD_IF_ABSENT. */
enum { ETCD_IF_EXISTS = 0, ETCD_IF_ABSENT = -1 };
typedef enum { ETCD_TXN_PUT, ETCD_TXN_DELETE } etcd_txn_op_t;
/* The txn's JSON: if cond holds, put value (with lease if not 0) or delete (prev_kv);
 * else read the key. */
void etcd_txn_body(etcd_store_t *es, buf_t *b, const char *key, int64_t cond, etcd_txn_op_t op,
                   const char *value, size_t len, int64_t lease);
int etcd_get(store_t *s, const char *key, store_kv_t *out);
int etcd_range(store_t *s, const char *prefix, const char *from_key, int64_t at_rev, size_t limit,
               store_kv_t **items, size_t *n, int64_t *rev_out, bool *more);
int etcd_create(store_t *s, const char *key, const char *value, size_t len, int64_t *rev_out);
int etcd_update(store_t *s, const char *key, const char *value, size_t len, int64_t if_mod_rev,
                int64_t *rev_out);
int etcd_delete(store_t *s, const char *key, int64_t if_mod_rev, int64_t *rev_out, store_kv_t *prev);
int64_t etcd_current_rev(store_t *s);
/* etcd's current revision, or STORE_UNAVAILABLE (etcd_current_rev falls back to the last seen). */
int etcd_read_rev(etcd_store_t *es, int64_t *rev);
/* etcd_barrier.c */
int etcd_read_barrier(store_t *s, int64_t *rev);
int64_t etcd_compacted_rev(store_t *s);
int etcd_compact(store_t *s, int64_t rev);
bool etcd_healthy(store_t *s);

/* etcd_sink.c */
void etcd_set_sink(store_t *s, store_sink_fn fn, void *ctx);
void etcd_sink_stop(etcd_store_t *es);

/* etcd_lease.c: leader election */
store_election_t *etcd_election_start(store_t *s, const char *name, const char *identity, int ttl_s);
bool etcd_election_leading(store_election_t *e);
char *etcd_election_holder(store_election_t *e);
void etcd_election_stop(store_election_t *e);

/* etcd_watch.c: a /v3/watch stream on the whole keyspace, shared by the feed and replay */
typedef struct etcd_watch {
    etcd_store_t *es;
    /* false: stop the stream. fragment: more events of the last revision may follow */
    bool (*on_events)(void *arg, json_t *events, bool fragment);
    void *arg;
    int64_t compacted;         /* the stream was cancelled at this compaction revision */
    bool failed;               /* cancelled otherwise, or an unexpected answer */
    bool overflow;             /* a response passed ETCD_MAX_WATCH_LINE: the stream was dropped */
    bool answered;             /* etcd sent a response (the "created" one comes at once) */
    buf_t line;                /* partial line of the newline-delimited stream (max ETCD_MAX_WATCH_LINE) */
    struct curl_slist *hdrs;
    char url[512];
    char body[192];
} etcd_watch_t;
void etcd_watch_init(etcd_watch_t *w, etcd_store_t *es, bool (*on_events)(void *arg, json_t *events, bool fragment),
                     void *arg);
/* A new curl easy handle (CURL *) streaming from from_rev on the current endpoint; resets
 * compacted/failed. The caller performs and cleans it up. */
void *etcd_watch_handle(etcd_watch_t *w, int64_t from_rev);
void etcd_watch_free(etcd_watch_t *w);

/* etcd_replay.c */
/* Decodes one watch event and passes it to fn if its key is under es->prefix + prefix and
 * its revision <= max_rev. Returns the event's revision, -1 if malformed. */
int64_t etcd_event(etcd_store_t *es, json_t *ev, const char *prefix, size_t prefix_len,
                   int64_t max_rev, store_sink_fn fn, void *ctx);
int etcd_replay(store_t *s, const char *prefix, int64_t after_rev, store_sink_fn fn, void *ctx);

#endif
