/* storage/sqlite: the single writer thread and group commit.
 *
 * Callers enqueue an sq_op_t (on their stack) and sleep on donecond. The writer
 * takes up to batch_max queued ops, applies them in one transaction (each op its
 * own revision; a failed precondition fails that op only), commits (durable:
 * WAL + synchronous=FULL), calls the sink for every successful op in revision
 * order, and only then marks the ops done and wakes the callers. A SQLite error
 * rolls the whole batch back and fails every op in it with STORE_UNAVAILABLE.
 *
 * Compaction is also run by the writer (SQLite has one writer anyway): the
 * compaction revision is recorded first, then superseded rows are deleted in
 * chunks of SQ_COMPACT_CHUNK revisions, one chunk between write batches, so a
 * big compaction never stalls writes for long. */
#include <stdlib.h>
#include <string.h>

#include "storage/sqlite_int.h"
#include "util/util.h"

#define SQ_FATAL 100   /* internal: SQLite failed, abort the batch */

int sq_writer_prepare(sq_store_t *st)
{
    struct { sqlite3_stmt **stmt; const char *sql; } q[] = {
        { &st->w_latest, "SELECT rev, create_rev, deleted, value FROM kv_log WHERE key = ?1"
                         " ORDER BY rev DESC LIMIT 1" },
        { &st->w_insert, "INSERT INTO kv_log(rev, key, value, create_rev, prev_rev, deleted)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6)" },
        { &st->w_begin, "BEGIN IMMEDIATE" },
        { &st->w_commit, "COMMIT" },
        { &st->w_rollback, "ROLLBACK" },
        { &st->w_meta_set, "UPDATE meta SET value = ?1 WHERE name = 'compact_rev'" },
        /* rows at or below the compaction revision that are deletes or have a
         * newer row of the same key at or below it; ?2..?3 is the chunk */
        { &st->w_compact, "DELETE FROM kv_log WHERE rev > ?2 AND rev <= ?3 AND (deleted = 1 OR"
                          " EXISTS (SELECT 1 FROM kv_log k WHERE k.key = kv_log.key"
                          " AND k.rev > kv_log.rev AND k.rev <= ?1))" },
    };
    for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
        if (sqlite3_prepare_v3(st->wdb, q[i].sql, -1, SQLITE_PREPARE_PERSISTENT, q[i].stmt, NULL)) {
            log_error("storage: prepare %s: %s", q[i].sql, sqlite3_errmsg(st->wdb));
            return -1;
        }
    }
    return 0;
}

void sq_writer_finalize(sq_store_t *st)
{
    sqlite3_finalize(st->w_latest);
    sqlite3_finalize(st->w_insert);
    sqlite3_finalize(st->w_begin);
    sqlite3_finalize(st->w_commit);
    sqlite3_finalize(st->w_rollback);
    sqlite3_finalize(st->w_meta_set);
    sqlite3_finalize(st->w_compact);
}

/* Runs a statement without result rows; returns the sqlite code. */
static int step_done(sqlite3_stmt *stmt)
{
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/* Applies one create/update/delete inside the open transaction. Returns a
 * STORE_* result for the op, or SQ_FATAL when SQLite failed. */
static int apply_op(sq_store_t *st, sq_op_t *op)
{
    sqlite3_stmt *q = st->w_latest;
    sqlite3_bind_text(q, 1, op->key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        log_error("storage: read %s: %s", op->key, sqlite3_errmsg(st->wdb));
        sqlite3_reset(q);
        return SQ_FATAL;
    }
    bool found = rc == SQLITE_ROW;
    int64_t lrev = found ? sqlite3_column_int64(q, 0) : 0;
    int64_t lcreate = found ? sqlite3_column_int64(q, 1) : 0;
    bool exists = found && sqlite3_column_int(q, 2) == 0;
    int ret = STORE_OK;

    if (op->type == SQ_CREATE) {
        if (exists)
            ret = STORE_EXISTS;
    } else if (!exists) {
        ret = STORE_NOT_FOUND;
    } else if (op->if_mod_rev && op->if_mod_rev != lrev) {
        ret = STORE_CONFLICT;
    } else {
        /* update/delete: keep the previous value for the event and the caller */
        const char *pv = (const char *)sqlite3_column_text(q, 3);
        op->prev_len = (size_t)sqlite3_column_bytes(q, 3);
        op->prev_value = xmalloc(op->prev_len + 1);
        memcpy(op->prev_value, pv ? pv : "", op->prev_len);
        op->prev_value[op->prev_len] = '\0';
        op->prev_mod_rev = lrev;
        op->prev_create_rev = lcreate;
    }
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    if (ret != STORE_OK)
        return ret;

    int64_t rev = st->next_rev + 1;
    op->create_rev = op->type == SQ_CREATE ? rev : lcreate;
    sqlite3_stmt *ins = st->w_insert;
    sqlite3_bind_int64(ins, 1, rev);
    sqlite3_bind_text(ins, 2, op->key, -1, SQLITE_STATIC);
    if (op->type == SQ_DELETE)
        sqlite3_bind_null(ins, 3);
    else
        sqlite3_bind_blob64(ins, 3, op->value ? op->value : "", op->len, SQLITE_STATIC);
    sqlite3_bind_int64(ins, 4, op->create_rev);
    sqlite3_bind_int64(ins, 5, lrev);
    sqlite3_bind_int(ins, 6, op->type == SQ_DELETE);
    rc = step_done(ins);
    if (rc != SQLITE_OK) {
        log_error("storage: insert %s: %s", op->key, sqlite3_errmsg(st->wdb));
        return SQ_FATAL;
    }
    st->next_rev = rev;
    op->rev = rev;
    return STORE_OK;
}

static void fail_batch(sq_store_t *st, sq_op_t *batch, int64_t saved_rev)
{
    st->next_rev = saved_rev;
    for (sq_op_t *op = batch; op; op = op->next) {
        op->rc = STORE_UNAVAILABLE;
        op->rev = 0;
        free(op->prev_value);
        op->prev_value = NULL;
    }
    atomic_store(&st->healthy, false);
}

static void emit_events(sq_store_t *st, sq_op_t *batch)
{
    pthread_mutex_lock(&st->sinkmu);
    if (st->sink) {
        for (sq_op_t *op = batch; op; op = op->next) {
            if (op->rc != STORE_OK)
                continue;
            store_event_t ev = {
                .type = op->type == SQ_DELETE ? STORE_EV_DELETE : STORE_EV_PUT,
                .rev = op->rev,
                .key = op->key,
                .value = op->type == SQ_DELETE ? NULL : (op->value ? op->value : ""),
                .value_len = op->type == SQ_DELETE ? 0 : op->len,
                .create_rev = op->create_rev,
                .prev_value = op->prev_value,
                .prev_value_len = op->prev_len,
                .prev_mod_rev = op->prev_value ? op->prev_mod_rev : 0,
            };
            st->sink(st->sink_ctx, &ev);
        }
    }
    pthread_mutex_unlock(&st->sinkmu);
}

static void run_batch(sq_store_t *st, sq_op_t *batch, size_t n)
{
    int64_t saved = st->next_rev;
    int rc = step_done(st->w_begin);
    if (rc != SQLITE_OK) {
        log_error("storage: begin: %s", sqlite3_errmsg(st->wdb));
        fail_batch(st, batch, saved);
        return;
    }
    for (sq_op_t *op = batch; op; op = op->next) {
        op->rc = apply_op(st, op);
        if (op->rc == SQ_FATAL) {
            step_done(st->w_rollback);
            fail_batch(st, batch, saved);
            return;
        }
    }
    rc = step_done(st->w_commit);
    if (rc != SQLITE_OK) {
        log_error("storage: commit: %s", sqlite3_errmsg(st->wdb));
        if (!sqlite3_get_autocommit(st->wdb))
            step_done(st->w_rollback);
        fail_batch(st, batch, saved);
        return;
    }
    atomic_fetch_add(&st->n_txns, 1);
    atomic_fetch_add(&st->n_writes, n);
    atomic_store(&st->healthy, true);
    atomic_store(&st->committed_rev, st->next_rev);
    emit_events(st, batch);
}

/* Records the compaction revision (from then on reads below it fail) and sets
 * up the chunked deletion. Returns false when the op is already finished. */
static bool compact_start(sq_store_t *st, sq_op_t *op)
{
    int64_t rev = op->if_mod_rev;
    if (rev > st->next_rev) {
        op->rc = STORE_FUTURE_REV;
        return false;
    }
    if (rev <= atomic_load(&st->compact_rev)) {
        op->rc = STORE_COMPACTED;
        return false;
    }
    sqlite3_bind_int64(st->w_meta_set, 1, rev);
    int rc = step_done(st->w_meta_set);   /* autocommit: its own durable transaction */
    if (rc != SQLITE_OK) {
        log_error("storage: compact %lld: %s", (long long)rev, sqlite3_errmsg(st->wdb));
        op->rc = sq_rc(rc);
        return false;
    }
    atomic_store(&st->compact_rev, rev);
    st->compact_pos = 0;
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(st->wdb, "SELECT ifnull(min(rev), 1) - 1 FROM kv_log", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        st->compact_pos = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    op->rc = STORE_OK;
    return true;
}

/* Deletes superseded rows in the next chunk. Returns true when finished. */
static bool compact_chunk(sq_store_t *st, sq_op_t *op)
{
    int64_t target = op->if_mod_rev;
    int64_t hi = st->compact_pos + SQ_COMPACT_CHUNK;
    if (hi > target)
        hi = target;
    sqlite3_bind_int64(st->w_compact, 1, target);
    sqlite3_bind_int64(st->w_compact, 2, st->compact_pos);
    sqlite3_bind_int64(st->w_compact, 3, hi);
    int rc = step_done(st->w_compact);
    if (rc != SQLITE_OK) {
        /* the revision is recorded; leftover rows are removed by the next compaction */
        log_warn("storage: compaction chunk: %s", sqlite3_errmsg(st->wdb));
        return true;
    }
    st->compact_pos = hi;
    return hi >= target;
}

static void mark_done(sq_store_t *st, sq_op_t *list)
{
    pthread_mutex_lock(&st->qmu);
    while (list) {
        sq_op_t *next = list->next;
        list->next = NULL;
        list->done = true;
        list = next;
    }
    pthread_cond_broadcast(&st->donecond);
    pthread_mutex_unlock(&st->qmu);
}

void *sq_writer_main(void *arg)
{
    sq_store_t *st = arg;
    for (;;) {
        pthread_mutex_lock(&st->qmu);
        while (!st->qhead && !st->stopping && !st->compacting && !st->cqhead)
            pthread_cond_wait(&st->qcond, &st->qmu);
        if (st->stopping && !st->qhead && !st->compacting && !st->cqhead) {
            pthread_mutex_unlock(&st->qmu);
            break;
        }
        sq_op_t *cop = NULL;
        if (!st->compacting && st->cqhead) {
            cop = st->cqhead;
            st->cqhead = cop->next;
            if (!st->cqhead)
                st->cqtail = NULL;
            cop->next = NULL;
        }
        sq_op_t *batch = st->qhead, *last = NULL;
        size_t n = 0;
        for (sq_op_t *op = batch; op && n < (size_t)st->opt.batch_max; op = op->next) {
            last = op;
            n++;
        }
        if (last) {
            st->qhead = last->next;
            if (!st->qhead)
                st->qtail = NULL;
            last->next = NULL;
        }
        pthread_mutex_unlock(&st->qmu);

        if (cop) {
            if (compact_start(st, cop))
                st->compacting = cop;
            else
                mark_done(st, cop);
        }
        if (batch) {
            run_batch(st, batch, n);
            mark_done(st, batch);
        }
        if (st->compacting && compact_chunk(st, st->compacting)) {
            atomic_fetch_add(&st->n_compactions, 1);
            mark_done(st, st->compacting);
            st->compacting = NULL;
        }
    }
    return NULL;
}

int sq_submit(sq_store_t *st, sq_op_t *op)
{
    op->done = false;
    op->next = NULL;
    pthread_mutex_lock(&st->qmu);
    if (st->stopping) {
        pthread_mutex_unlock(&st->qmu);
        return STORE_UNAVAILABLE;
    }
    sq_op_t **head = op->type == SQ_COMPACT ? &st->cqhead : &st->qhead;
    sq_op_t **tail = op->type == SQ_COMPACT ? &st->cqtail : &st->qtail;
    if (*tail)
        (*tail)->next = op;
    else
        *head = op;
    *tail = op;
    pthread_cond_signal(&st->qcond);
    while (!op->done)
        pthread_cond_wait(&st->donecond, &st->qmu);
    pthread_mutex_unlock(&st->qmu);
    return op->rc;
}

int sq_create(store_t *s, const char *key, const char *value, size_t len, int64_t *rev_out)
{
    sq_op_t op = { .type = SQ_CREATE, .key = key, .value = value, .len = len };
    int rc = sq_submit((sq_store_t *)s, &op);
    if (rc == STORE_OK && rev_out)
        *rev_out = op.rev;
    return rc;
}

int sq_update(store_t *s, const char *key, const char *value, size_t len, int64_t if_mod_rev,
              int64_t *rev_out)
{
    sq_op_t op = { .type = SQ_UPDATE, .key = key, .value = value, .len = len, .if_mod_rev = if_mod_rev };
    int rc = sq_submit((sq_store_t *)s, &op);
    free(op.prev_value);
    if (rc == STORE_OK && rev_out)
        *rev_out = op.rev;
    return rc;
}

int sq_delete(store_t *s, const char *key, int64_t if_mod_rev, int64_t *rev_out, store_kv_t *prev)
{
    sq_op_t op = { .type = SQ_DELETE, .key = key, .if_mod_rev = if_mod_rev };
    int rc = sq_submit((sq_store_t *)s, &op);
    if (rc == STORE_OK) {
        if (rev_out)
            *rev_out = op.rev;
        if (prev) {
            prev->key = xstrdup(key);
            prev->value = op.prev_value;
            prev->value_len = op.prev_len;
            prev->create_rev = op.prev_create_rev;
            prev->mod_rev = op.prev_mod_rev;
            op.prev_value = NULL;
        }
    }
    free(op.prev_value);
    return rc;
}

int sq_compact(store_t *s, int64_t rev)
{
    sq_store_t *st = (sq_store_t *)s;
    if (rev > atomic_load(&st->committed_rev))
        return STORE_FUTURE_REV;
    if (rev <= atomic_load(&st->compact_rev))
        return STORE_COMPACTED;
    sq_op_t op = { .type = SQ_COMPACT, .if_mod_rev = rev };
    return sq_submit(st, &op);
}
