/* storage/sqlite: shared state of the embedded SQLite backend.
 *
 * Files: sqlite_open.c (open/close, schema, read-connection pool, maintenance
 * thread: WAL checkpoints and automatic compaction), sqlite_read.c (get, range,
 * replay from the log), sqlite_write.c (the single writer thread, group commit,
 * compaction). Schema and design: docs/storage.md. */
#ifndef IAS_SQLITE_INT_H
#define IAS_SQLITE_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>

#include "storage/store_int.h"

typedef enum { SQ_CREATE = 1, SQ_UPDATE, SQ_DELETE, SQ_COMPACT } sq_op_type_t;

/* One queued write. Lives on the calling thread's stack until done is set. */
typedef struct sq_op {
    sq_op_type_t type;
    const char *key;
    const char *value;
    size_t len;
    int64_t if_mod_rev;     /* also the compaction revision for SQ_COMPACT */
    /* results, filled by the writer */
    int rc;
    int64_t rev;
    int64_t create_rev;
    char *prev_value;       /* owned by the op until handed to the caller or freed */
    size_t prev_len;
    int64_t prev_mod_rev;
    int64_t prev_create_rev;
    bool done;
    struct sq_op *next;
} sq_op_t;

/* A read connection with its prepared statements (used by one thread at a time). */
typedef struct sq_reader {
    sqlite3 *db;
    sqlite3_stmt *get, *range, *replay, *meta;
    struct sq_reader *next;
} sq_reader_t;

typedef struct sq_store {
    store_t base;
    char *path;
    store_options_t opt;

    /* writer */
    sqlite3 *wdb;
    sqlite3_stmt *w_latest, *w_insert, *w_begin, *w_commit, *w_rollback, *w_meta_set;
    sqlite3_stmt *w_compact;
    pthread_t writer;
    pthread_mutex_t qmu;
    pthread_cond_t qcond;      /* writer waits for work */
    pthread_cond_t donecond;   /* callers wait for their op */
    sq_op_t *qhead, *qtail;    /* writes */
    sq_op_t *cqhead, *cqtail;  /* compactions (run in chunks between write batches) */
    sq_op_t *compacting;       /* writer-only: compaction in progress */
    int64_t compact_pos;       /* writer-only: rows with rev <= pos are done */
    bool stopping;
    int64_t next_rev;          /* writer-only: last assigned revision */

    pthread_mutex_t sinkmu;    /* held while the writer calls the sink */
    store_sink_fn sink;
    void *sink_ctx;

    atomic_llong committed_rev;  /* newest durable revision */
    atomic_llong compact_rev;    /* newest compaction revision */
    atomic_bool healthy;
    atomic_ullong n_txns, n_writes, n_compactions;

    /* readers */
    pthread_mutex_t rmu;
    pthread_cond_t rcond;
    sq_reader_t *rfree;
    int rcount;

    /* maintenance thread: checkpoints and automatic compaction */
    pthread_t maint;
    pthread_mutex_t mmu;
    pthread_cond_t mcond;
    bool mstop;
    bool checkpoint_wanted;
    bool maint_started, writer_started;
} sq_store_t;

#define SQ_MAX_READERS 16
#define SQ_CHECKPOINT_FRAMES 1000   /* ask for a checkpoint once the WAL holds this many */
#define SQ_COMPACT_CHUNK 5000       /* revisions examined per compaction transaction */

/* sqlite_open.c */
sqlite3 *sq_open_conn(sq_store_t *st);
sq_reader_t *sq_reader_get(sq_store_t *st);
void sq_reader_put(sq_store_t *st, sq_reader_t *r);
int sq_rc(int sqlite_rc);   /* sqlite error -> STORE_* */

/* sqlite_read.c */
int sq_get(store_t *s, const char *key, store_kv_t *out);
int sq_range(store_t *s, const char *prefix, const char *from_key, int64_t at_rev, size_t limit,
             store_kv_t **items, size_t *n, int64_t *rev_out, bool *more);
int sq_replay(store_t *s, const char *prefix, int64_t after_rev, store_sink_fn fn, void *ctx);
int sq_reader_prepare(sq_reader_t *r);

/* sqlite_write.c */
int sq_writer_prepare(sq_store_t *st);
void sq_writer_finalize(sq_store_t *st);
void *sq_writer_main(void *arg);
int sq_submit(sq_store_t *st, sq_op_t *op);
int sq_create(store_t *s, const char *key, const char *value, size_t len, int64_t *rev_out);
int sq_update(store_t *s, const char *key, const char *value, size_t len, int64_t if_mod_rev,
              int64_t *rev_out);
int sq_delete(store_t *s, const char *key, int64_t if_mod_rev, int64_t *rev_out, store_kv_t *prev);
int sq_compact(store_t *s, int64_t rev);

#endif
