/* storage/sqlite: reads from the revision log on pooled read connections (never
 * the writer's), so reads never wait for a commit. A read at revision R sees, for
 * each key, its newest row with rev <= R (absent if that row is a delete); the
 * compaction check and the query run in one read transaction (one snapshot). */
#include <stdlib.h>
#include <string.h>

#include "storage/sqlite_int.h"
#include "util/util.h"

int sq_reader_prepare(sq_reader_t *r)
{
    static const char *get_sql =
        "SELECT value, create_rev, rev, deleted FROM kv_log WHERE key = ?1 ORDER BY rev DESC LIMIT 1";
    static const char *range_sql =
        "SELECT l.key, l.value, l.create_rev, l.rev FROM kv_log l"
        " WHERE l.key >= ?1 AND l.key < ?2 AND l.rev <= ?3"
        " AND l.rev = (SELECT max(k.rev) FROM kv_log k WHERE k.key = l.key AND k.rev <= ?3)"
        " AND l.deleted = 0 ORDER BY l.key LIMIT ?4";
    static const char *replay_sql =
        "SELECT l.rev, l.key, l.value, l.create_rev, l.deleted, p.rev, p.value, p.deleted"
        " FROM kv_log l LEFT JOIN kv_log p ON p.rev = l.prev_rev"
        " WHERE l.rev > ?1 AND l.rev <= ?2 AND l.key >= ?3 AND l.key < ?4 ORDER BY l.rev";
    static const char *meta_sql = "SELECT value FROM meta WHERE name = 'compact_rev'";
    if (sqlite3_prepare_v3(r->db, get_sql, -1, SQLITE_PREPARE_PERSISTENT, &r->get, NULL) ||
        sqlite3_prepare_v3(r->db, range_sql, -1, SQLITE_PREPARE_PERSISTENT, &r->range, NULL) ||
        sqlite3_prepare_v3(r->db, replay_sql, -1, SQLITE_PREPARE_PERSISTENT, &r->replay, NULL) ||
        sqlite3_prepare_v3(r->db, meta_sql, -1, SQLITE_PREPARE_PERSISTENT, &r->meta, NULL)) {
        log_error("storage: prepare: %s", sqlite3_errmsg(r->db));
        return -1;
    }
    return 0;
}

/* Binds [lo, end) of a key range. Without an upper bound a one-byte BLOB is
 * bound: in SQLite every TEXT value sorts before every BLOB. */
static void bind_key_range(sqlite3_stmt *st, int ilo, int ihi, const char *lo, const char *end)
{
    static const unsigned char ff = 0xff;
    sqlite3_bind_text(st, ilo, lo, -1, SQLITE_TRANSIENT);
    if (end)
        sqlite3_bind_text(st, ihi, end, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_blob(st, ihi, &ff, 1, SQLITE_STATIC);
}

/* Copies a column into a NUL-terminated heap string (values are JSON text). */
static char *col_dup(sqlite3_stmt *st, int i, size_t *len)
{
    const void *p = sqlite3_column_text(st, i);
    size_t n = (size_t)sqlite3_column_bytes(st, i);
    char *v = xmalloc(n + 1);
    if (n)
        memcpy(v, p, n);
    v[n] = '\0';
    if (len)
        *len = n;
    return v;
}

/* Starts a read transaction and returns the compaction revision of its snapshot. */
/* Starts the read transaction (one snapshot for the compaction check and the data) and
 * refuses a revision older than the compaction point. */
static int begin_snapshot(sq_reader_t *r, int64_t rev)
{
    int rc = sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return sq_rc(rc);
    rc = sqlite3_step(r->meta);
    int64_t compact_rev = rc == SQLITE_ROW ? sqlite3_column_int64(r->meta, 0) : 0;
    sqlite3_reset(r->meta);
    if (rc != SQLITE_ROW)
        return sq_rc(rc);
    return rev < compact_rev ? STORE_COMPACTED : STORE_OK;
}

int sq_get(store_t *s, const char *key, store_kv_t *out)
{
    sq_store_t *st = (sq_store_t *)s;
    sq_reader_t *r = sq_reader_get(st);
    if (!r)
        return STORE_UNAVAILABLE;
    int ret;
    sqlite3_bind_text(r->get, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(r->get);
    if (rc == SQLITE_ROW && sqlite3_column_int(r->get, 3) == 0) {
        out->key = xstrdup(key);
        out->value = col_dup(r->get, 0, &out->value_len);
        out->create_rev = sqlite3_column_int64(r->get, 1);
        out->mod_rev = sqlite3_column_int64(r->get, 2);
        ret = STORE_OK;
    } else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
        ret = STORE_NOT_FOUND;
    } else {
        log_error("storage: get %s: %s", key, sqlite3_errmsg(r->db));
        ret = sq_rc(rc);
    }
    sqlite3_reset(r->get);
    sqlite3_clear_bindings(r->get);
    sq_reader_put(st, r);
    return ret;
}

int sq_range(store_t *s, const char *prefix, const char *from_key, int64_t at_rev, size_t limit,
             store_kv_t **items, size_t *n, int64_t *rev_out, bool *more)
{
    sq_store_t *st = (sq_store_t *)s;
    int64_t cur = atomic_load(&st->committed_rev);
    if (at_rev > cur)
        return STORE_FUTURE_REV;
    int64_t rev = at_rev ? at_rev : cur;
    const char *lo = from_key && strcmp(from_key, prefix) > 0 ? from_key : prefix;
    char *end = store_prefix_end(prefix);
    store_kv_t *v = NULL;
    size_t cnt = 0, cap = 0;
    int ret;

    sq_reader_t *r = sq_reader_get(st);
    if (!r) {
        free(end);
        return STORE_UNAVAILABLE;
    }
    ret = begin_snapshot(r, rev);
    if (ret != STORE_OK)
        goto out;
    bind_key_range(r->range, 1, 2, lo, end);
    sqlite3_bind_int64(r->range, 3, rev);
    sqlite3_bind_int64(r->range, 4, limit ? (int64_t)limit + 1 : -1);
    int rc;
    while ((rc = sqlite3_step(r->range)) == SQLITE_ROW) {
        if (limit && cnt == limit) {
            *more = true;
            break;
        }
        if (cnt == cap) {
            cap = cap ? cap * 2 : 64;
            v = xrealloc(v, cap * sizeof(*v));
        }
        store_kv_t *kv = &v[cnt++];
        kv->key = xstrdup((const char *)sqlite3_column_text(r->range, 0));
        kv->value = col_dup(r->range, 1, &kv->value_len);
        kv->create_rev = sqlite3_column_int64(r->range, 2);
        kv->mod_rev = sqlite3_column_int64(r->range, 3);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        log_error("storage: range %s: %s", prefix, sqlite3_errmsg(r->db));
        ret = sq_rc(rc);
        goto out;
    }
    ret = STORE_OK;
out:
    sqlite3_reset(r->range);
    sqlite3_clear_bindings(r->range);
    sq_reader_put(st, r);   /* ends the read transaction */
    free(end);
    if (ret == STORE_OK) {
        *items = v;
        *n = cnt;
        *rev_out = rev;
    } else {
        store_kvs_free(v, cnt);
        *more = false;
    }
    return ret;
}

int sq_replay(store_t *s, const char *prefix, int64_t after_rev, store_sink_fn fn, void *ctx)
{
    sq_store_t *st = (sq_store_t *)s;
    int64_t hi = atomic_load(&st->committed_rev);
    if (after_rev > hi)
        return STORE_FUTURE_REV;
    char *end = store_prefix_end(prefix);
    int ret;
    sq_reader_t *r = sq_reader_get(st);
    if (!r) {
        free(end);
        return STORE_UNAVAILABLE;
    }
    ret = begin_snapshot(r, after_rev);
    if (ret != STORE_OK)
        goto out;
    sqlite3_stmt *q = r->replay;
    sqlite3_bind_int64(q, 1, after_rev);
    sqlite3_bind_int64(q, 2, hi);
    bind_key_range(q, 3, 4, prefix, end);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        store_event_t ev = {0};
        bool has_prev = sqlite3_column_type(q, 5) != SQLITE_NULL && sqlite3_column_int(q, 7) == 0;
        ev.rev = sqlite3_column_int64(q, 0);
        ev.key = (const char *)sqlite3_column_text(q, 1);
        ev.create_rev = sqlite3_column_int64(q, 3);
        ev.type = sqlite3_column_int(q, 4) ? STORE_EV_DELETE : STORE_EV_PUT;
        if (ev.type == STORE_EV_PUT) {
            ev.value = (const char *)sqlite3_column_text(q, 2);   /* NUL-terminated */
            ev.value_len = (size_t)sqlite3_column_bytes(q, 2);
            if (!ev.value)
                ev.value = "";
        }
        if (has_prev) {
            ev.prev_value = (const char *)sqlite3_column_text(q, 6);
            ev.prev_value_len = (size_t)sqlite3_column_bytes(q, 6);
            if (!ev.prev_value)
                ev.prev_value = "";
            ev.prev_mod_rev = sqlite3_column_int64(q, 5);
        }
        fn(ctx, &ev);
    }
    if (rc != SQLITE_DONE) {
        log_error("storage: replay %s: %s", prefix, sqlite3_errmsg(r->db));
        ret = sq_rc(rc);
        goto out;
    }
    ret = STORE_OK;
out:
    sqlite3_reset(r->replay);
    sqlite3_clear_bindings(r->replay);
    sq_reader_put(st, r);
    free(end);
    return ret;
}
