/* storage/sqlite: opening and closing the embedded store, the schema, the
 * read-connection pool, and the maintenance thread (WAL checkpoints off the
 * write path, automatic compaction). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "storage/sqlite_int.h"
#include "util/util.h"

#define SQ_FILE "store.db"

/* The append-only revision log (kine style) and a tiny meta table.
 * meta.compact_rev also keeps the revision counter from going backwards when
 * compaction removed the newest rows (current = max(max(rev), compact_rev)). */
static const char *sq_schema =
    "CREATE TABLE IF NOT EXISTS kv_log ("
    " rev INTEGER PRIMARY KEY,"        /* one global revision per change */
    " key TEXT NOT NULL,"
    " value BLOB,"                     /* NULL for a delete row */
    " create_rev INTEGER NOT NULL,"    /* revision that created this incarnation */
    " prev_rev INTEGER NOT NULL,"      /* previous row of this key, 0 if none */
    " deleted INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS kv_log_key_rev ON kv_log(key, rev);"
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO meta(name, value) VALUES ('schema', 1), ('compact_rev', 0);";

int sq_rc(int rc)
{
    switch (rc) {
    case SQLITE_OK: case SQLITE_DONE: case SQLITE_ROW: return STORE_OK;
    case SQLITE_TOOBIG: return STORE_TOO_LARGE;
    default: return STORE_UNAVAILABLE;
    }
}

static int mkdir_p(const char *dir)
{
    char *p = xstrdup(dir);
    int rc = 0;
    for (char *c = p + 1; ; c++) {
        if (*c == '/' || *c == '\0') {
            char save = *c;
            *c = '\0';
            if (mkdir(p, 0700) != 0 && errno != EEXIST) {
                rc = -1;
                break;
            }
            *c = save;
            if (!save)
                break;
        }
    }
    free(p);
    return rc;
}

sqlite3 *sq_open_conn(sq_store_t *st)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(st->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                             SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        log_error("storage: open %s: %s", st->path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    sqlite3_extended_result_codes(db, 0);
    return db;
}

static int sq_exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK) {
        log_error("storage: %s: %s", sql, err ? err : sqlite3_errstr(rc));
        sqlite3_free(err);
    }
    return rc;
}

static int64_t sq_query_int(sqlite3 *db, const char *sql, int *rcp)
{
    sqlite3_stmt *stmt = NULL;
    int64_t v = 0;
    int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW) {
            v = sqlite3_column_int64(stmt, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(stmt);
    *rcp = rc;
    return v;
}

sq_reader_t *sq_reader_get(sq_store_t *st)
{
    pthread_mutex_lock(&st->rmu);
    while (!st->rfree && st->rcount >= SQ_MAX_READERS)
        pthread_cond_wait(&st->rcond, &st->rmu);
    sq_reader_t *r = st->rfree;
    if (r) {
        st->rfree = r->next;
        pthread_mutex_unlock(&st->rmu);
        return r;
    }
    st->rcount++;
    pthread_mutex_unlock(&st->rmu);

    r = xcalloc(1, sizeof(*r));
    r->db = sq_open_conn(st);
    if (!r->db || sq_exec(r->db, "PRAGMA query_only=1") != SQLITE_OK || sq_reader_prepare(r) != 0) {
        sq_reader_t *dead = r;
        r = NULL;
        sqlite3_finalize(dead->get);
        sqlite3_finalize(dead->range);
        sqlite3_finalize(dead->replay);
        sqlite3_finalize(dead->meta);
        sqlite3_close(dead->db);
        free(dead);
        pthread_mutex_lock(&st->rmu);
        st->rcount--;
        pthread_cond_signal(&st->rcond);
        pthread_mutex_unlock(&st->rmu);
    }
    return r;
}

void sq_reader_put(sq_store_t *st, sq_reader_t *r)
{
    if (!sqlite3_get_autocommit(r->db))
        sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
    pthread_mutex_lock(&st->rmu);
    r->next = st->rfree;
    st->rfree = r;
    pthread_cond_signal(&st->rcond);
    pthread_mutex_unlock(&st->rmu);
}

static void sq_readers_close(sq_store_t *st)
{
    sq_reader_t *r = st->rfree;
    while (r) {
        sq_reader_t *next = r->next;
        sqlite3_finalize(r->get);
        sqlite3_finalize(r->range);
        sqlite3_finalize(r->replay);
        sqlite3_finalize(r->meta);
        sqlite3_close(r->db);
        free(r);
        r = next;
    }
    st->rfree = NULL;
    st->rcount = 0;
}

/* Runs on the writer thread after each commit: instead of SQLite's
 * auto-checkpoint inside the committing call (the p99 stalls in
 * perf-baselines.md), ask the maintenance thread to checkpoint. */
static int sq_wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
    sq_store_t *st = arg;
    if (frames >= 50 * SQ_CHECKPOINT_FRAMES) {
        /* the background checkpoints cannot keep up: do one here */
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    } else if (frames >= SQ_CHECKPOINT_FRAMES) {
        pthread_mutex_lock(&st->mmu);
        if (!st->checkpoint_wanted) {
            st->checkpoint_wanted = true;
            pthread_cond_signal(&st->mcond);
        }
        pthread_mutex_unlock(&st->mmu);
    }
    return SQLITE_OK;
}

static void *sq_maint_main(void *arg)
{
    sq_store_t *st = arg;
    sqlite3 *db = sq_open_conn(st);
    int64_t last_compact = time_mono_ms();

    pthread_mutex_lock(&st->mmu);
    while (!st->mstop) {
        struct timespec ts = time_deadline(1000);
        if (!st->checkpoint_wanted)
            pthread_cond_timedwait(&st->mcond, &st->mmu, &ts);
        if (st->mstop)
            break;
        bool ck = st->checkpoint_wanted;
        st->checkpoint_wanted = false;
        pthread_mutex_unlock(&st->mmu);

        if (ck && db) {
            int rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
            if (rc != SQLITE_OK && rc != SQLITE_BUSY)
                log_warn("storage: wal checkpoint: %s", sqlite3_errmsg(db));
        }
        int64_t now = time_mono_ms();
        if (st->opt.compact_interval_s > 0 && now - last_compact >= st->opt.compact_interval_s * 1000LL) {
            last_compact = now;
            int64_t target = atomic_load(&st->committed_rev) - st->opt.compact_retain;
            if (target > atomic_load(&st->compact_rev)) {
                int rc = sq_compact(&st->base, target);
                if (rc != STORE_OK && rc != STORE_COMPACTED)
                    log_warn("storage: automatic compaction at %lld: %s", (long long)target,
                             store_strerror(rc));
            }
        }
        pthread_mutex_lock(&st->mmu);
    }
    pthread_mutex_unlock(&st->mmu);
    sqlite3_close(db);
    return NULL;
}

static void sq_set_sink(store_t *s, store_sink_fn fn, void *ctx)
{
    sq_store_t *st = (sq_store_t *)s;
    pthread_mutex_lock(&st->sinkmu);   /* waits for a sink call in progress */
    st->sink = fn;
    st->sink_ctx = ctx;
    pthread_mutex_unlock(&st->sinkmu);
}

static int64_t sq_current_rev(store_t *s)
{
    return atomic_load(&((sq_store_t *)s)->committed_rev);
}

static int64_t sq_compacted_rev(store_t *s)
{
    return atomic_load(&((sq_store_t *)s)->compact_rev);
}

static bool sq_healthy(store_t *s)
{
    return atomic_load(&((sq_store_t *)s)->healthy);
}

static void sq_stats(store_t *s, store_stats_t *out)
{
    sq_store_t *st = (sq_store_t *)s;
    out->txns = atomic_load(&st->n_txns);
    out->writes = atomic_load(&st->n_writes);
    out->compactions = atomic_load(&st->n_compactions);
}

static void sq_free(sq_store_t *st)
{
    if (st->maint_started) {
        pthread_mutex_lock(&st->mmu);
        st->mstop = true;
        pthread_cond_signal(&st->mcond);
        pthread_mutex_unlock(&st->mmu);
        pthread_join(st->maint, NULL);
    }
    if (st->writer_started) {
        pthread_mutex_lock(&st->qmu);
        st->stopping = true;
        pthread_cond_signal(&st->qcond);
        pthread_mutex_unlock(&st->qmu);
        pthread_join(st->writer, NULL);
    }
    sq_writer_finalize(st);
    if (st->wdb) {
        sqlite3_wal_hook(st->wdb, NULL, NULL);
        sqlite3_close(st->wdb);
    }
    sq_readers_close(st);
    pthread_mutex_destroy(&st->qmu);
    pthread_cond_destroy(&st->qcond);
    pthread_cond_destroy(&st->donecond);
    pthread_mutex_destroy(&st->sinkmu);
    pthread_mutex_destroy(&st->rmu);
    pthread_cond_destroy(&st->rcond);
    pthread_mutex_destroy(&st->mmu);
    pthread_cond_destroy(&st->mcond);
    free(st->path);
    free(st);
}

static void sq_close(store_t *s)
{
    sq_free((sq_store_t *)s);
}

static const store_ops_t sq_ops = {
    .name = "sqlite",
    .close = sq_close,
    .set_sink = sq_set_sink,
    .get = sq_get,
    .range = sq_range,
    .create = sq_create,
    .update = sq_update,
    .del = sq_delete,
    .current_rev = sq_current_rev,
    .compacted_rev = sq_compacted_rev,
    .compact = sq_compact,
    .replay = sq_replay,
    .healthy = sq_healthy,
    .stats = sq_stats,
};

int store_open_sqlite(const store_options_t *opt, store_t **out)
{
    *out = NULL;
    if (!opt || !opt->data_dir || !opt->data_dir[0])
        return STORE_UNAVAILABLE;
    if (mkdir_p(opt->data_dir) != 0) {
        log_error("storage: cannot create %s: %s", opt->data_dir, strerror(errno));
        return STORE_UNAVAILABLE;
    }
    sq_store_t *st = xcalloc(1, sizeof(*st));
    st->base.ops = &sq_ops;
    st->opt = *opt;
    st->opt.data_dir = NULL;   /* not owned; only the path is kept */
    if (st->opt.compact_retain <= 0)
        st->opt.compact_retain = 10000;
    if (st->opt.compact_interval_s < 0)
        st->opt.compact_interval_s = 0;
    if (st->opt.batch_max <= 0)
        st->opt.batch_max = 256;
    st->path = xasprintf("%s/%s", opt->data_dir, SQ_FILE);
    pthread_mutex_init(&st->qmu, NULL);
    pthread_cond_init(&st->qcond, NULL);
    pthread_cond_init(&st->donecond, NULL);
    pthread_mutex_init(&st->sinkmu, NULL);
    pthread_mutex_init(&st->rmu, NULL);
    pthread_cond_init(&st->rcond, NULL);
    pthread_mutex_init(&st->mmu, NULL);
    pthread_cond_init(&st->mcond, NULL);
    atomic_store(&st->healthy, true);

    int rc = STORE_UNAVAILABLE;
    st->wdb = sq_open_conn(st);
    if (!st->wdb)
        goto out;
    if (sq_exec(st->wdb, "PRAGMA journal_mode=WAL") != SQLITE_OK ||
        sq_exec(st->wdb, "PRAGMA synchronous=FULL") != SQLITE_OK ||
        sq_exec(st->wdb, sq_schema) != SQLITE_OK)
        goto out;
    int qrc;
    int64_t maxrev = sq_query_int(st->wdb, "SELECT ifnull(max(rev), 0) FROM kv_log", &qrc);
    if (qrc != SQLITE_OK)
        goto out;
    int64_t crev = sq_query_int(st->wdb, "SELECT value FROM meta WHERE name = 'compact_rev'", &qrc);
    if (qrc != SQLITE_OK)
        goto out;
    st->next_rev = maxrev > crev ? maxrev : crev;
    atomic_store(&st->committed_rev, st->next_rev);
    atomic_store(&st->compact_rev, crev);
    if (sq_writer_prepare(st) != 0)
        goto out;
    sqlite3_wal_hook(st->wdb, sq_wal_hook, st);

    if (pthread_create(&st->writer, NULL, sq_writer_main, st) != 0)
        goto out;
    st->writer_started = true;
    if (pthread_create(&st->maint, NULL, sq_maint_main, st) != 0)
        goto out;
    st->maint_started = true;
    log_info("storage: sqlite %s at revision %lld (compacted %lld)", st->path,
             (long long)st->next_rev, (long long)crev);
    *out = &st->base;
    rc = STORE_OK;
out:
    if (rc != STORE_OK)
        sq_free(st);
    return rc;
}
