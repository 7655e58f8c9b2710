/* Contract tests for the store (SQLite backend): CRUD with CAS, range with
 * limit/from_key/at_rev, past-revision reads, compaction, restart, concurrent
 * writers, group commit, durability across kill -9, replay and the sink. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "test_helpers.h"
#include "storage/storage.h"
#include "util/util.h"
#include "store_contract.h"

typedef struct fx {
    char *dir;
    store_t *s;
} fx_t;

static store_t *open_store(const char *dir, int interval, int64_t retain)
{
    store_options_t o = { .data_dir = dir, .compact_retain = retain, .compact_interval_s = interval,
                          .batch_max = 256 };
    store_t *s = NULL;
    assert_int_equal(store_open_sqlite(&o, &s), STORE_OK);
    assert_non_null(s);
    return s;
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    f->dir = th_tmpdir();
    f->s = open_store(f->dir, 0, 10000);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    store_close(f->s);
    th_rmdir(f->dir);
    free(f);
    return 0;
}

static void reopen(fx_t *f)
{
    store_close(f->s);
    f->s = open_store(f->dir, 0, 10000);
}

static void test_crud(void **state)
{
    fx_t *f = *state;
    contract_crud(f->s, 0);   /* SQLite: an empty store is at revision 0 */
}

static void test_too_large(void **state)
{
    fx_t *f = *state;
    size_t n = STORE_MAX_VALUE + 1;
    char *big = calloc(1, n);
    int64_t rev;
    assert_int_equal(store_create(f->s, "/big", big, n, &rev), STORE_TOO_LARGE);
    assert_int_equal(store_create(f->s, "/big", big, n - 1, &rev), STORE_OK);
    free(big);
}

static void test_range(void **state)
{
    fx_t *f = *state;
    contract_range(f->s, 0);
}

static void test_past_revisions(void **state)
{
    fx_t *f = *state;
    contract_past_revisions(f->s);
}

static int64_t count_rows(const char *dir)
{
    char *path = xasprintf("%s/store.db", dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM kv_log", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(path);
    return n;
}

static void test_compaction(void **state)
{
    fx_t *f = *state;
    store_t *s = f->s;
    for (int i = 0; i < 5; i++)
        put(s, "/c/a", "a");              /* revs 1..5 */
    put(s, "/c/b", "b");                  /* 6 */
    int64_t rev;
    assert_int_equal(store_delete(s, "/c/b", 0, &rev, NULL), STORE_OK);   /* 7 */
    put(s, "/c/c", "c");                  /* 8 */
    put(s, "/c/a", "a6");                 /* 9 */
    assert_int_equal(count_rows(f->dir), 9);
    assert_int_equal(store_compact(s, 8), STORE_OK);
    contract_compaction_bounds(s, "/c/", 0, 8);
    /* kept: /c/a@5 (newest as of 8), /c/c@8, /c/a@9 */
    assert_int_equal(count_rows(f->dir), 3);
    store_kv_t *items;
    size_t n;
    bool more;
    assert_int_equal(store_range(s, "/c/", NULL, 8, 0, &items, &n, &rev, &more), STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(items[0].value, "a");
    assert_int_equal(items[0].mod_rev, 5);
    assert_int_equal(items[0].create_rev, 1);
    assert_string_equal(items[1].key, "/c/c");
    store_kvs_free(items, n);

    evlog_t l = {0};
    assert_int_equal(store_replay(s, "/c/", 8, evlog_sink, &l), STORE_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.ev[0].rev, 9);
    assert_string_equal(l.prevs[0], "a");
    assert_int_equal(l.ev[0].prev_mod_rev, 5);
    evlog_free(&l);

    /* compaction survives a restart */
    reopen(f);
    assert_int_equal(store_compacted_rev(f->s), 8);
    assert_int_equal(store_current_rev(f->s), 9);
    assert_int_equal(store_range(f->s, "/c/", NULL, 7, 0, &items, &n, &rev, &more), STORE_COMPACTED);
}

static void test_replay_and_sink(void **state)
{
    fx_t *f = *state;
    store_t *s = f->s;
    evlog_t live = {0};
    store_set_sink(s, evlog_sink, &live);
    int64_t rev;
    put(s, "/r/a", "1");                                                  /* 1 create */
    put(s, "/x/other", "o");                                              /* 2 other prefix */
    put(s, "/r/a", "2");                                                  /* 3 update */
    assert_int_equal(store_delete(s, "/r/a", 0, &rev, NULL), STORE_OK);   /* 4 delete */
    put(s, "/r/a", "3");                                                  /* 5 re-create */
    assert_int_equal(store_create(s, "/r/a", "dup", 3, &rev), STORE_EXISTS); /* no event */
    store_set_sink(s, NULL, NULL);
    put(s, "/r/b", "b");                                                  /* 6, not sunk */

    evlog_t rp = {0};
    assert_int_equal(store_replay(s, "/r/", 0, evlog_sink, &rp), STORE_OK);
    assert_int_equal(live.n, 5);
    assert_int_equal(rp.n, 5);
    int64_t want_rev[] = { 1, 3, 4, 5, 6 };
    int want_type[] = { STORE_EV_PUT, STORE_EV_PUT, STORE_EV_DELETE, STORE_EV_PUT, STORE_EV_PUT };
    const char *want_val[] = { "1", "2", NULL, "3", "b" };
    const char *want_prev[] = { NULL, "1", "2", NULL, NULL };
    int64_t want_prev_rev[] = { 0, 1, 3, 0, 0 };
    int64_t want_create[] = { 1, 1, 1, 5, 6 };
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(rp.ev[i].rev, want_rev[i]);
        assert_int_equal(rp.ev[i].type, want_type[i]);
        assert_int_equal(rp.ev[i].create_rev, want_create[i]);
        assert_int_equal(rp.ev[i].prev_mod_rev, want_prev_rev[i]);
        if (want_val[i])
            assert_string_equal(rp.vals[i], want_val[i]);
        else
            assert_null(rp.vals[i]);
        if (want_prev[i])
            assert_string_equal(rp.prevs[i], want_prev[i]);
        else
            assert_null(rp.prevs[i]);
    }
    /* the live sink saw the same /r/ events (plus /x/other), in order */
    int64_t live_rev[] = { 1, 2, 3, 4, 5 };
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(live.ev[i].rev, live_rev[i]);
    assert_string_equal(live.prevs[2], "1");
    assert_int_equal(live.ev[3].type, STORE_EV_DELETE);
    assert_string_equal(live.prevs[3], "2");
    assert_int_equal(live.ev[3].prev_mod_rev, 3);
    assert_null(live.prevs[4]);
    evlog_free(&live);
    evlog_free(&rp);
    assert_int_equal(store_replay(s, "/r/", 99, evlog_sink, &rp), STORE_FUTURE_REV);
}

static void test_restart_monotonic(void **state)
{
    fx_t *f = *state;
    put(f->s, "/m/a", "1");
    put(f->s, "/m/b", "2");
    int64_t rev;
    assert_int_equal(store_delete(f->s, "/m/a", 0, &rev, NULL), STORE_OK);
    assert_int_equal(store_delete(f->s, "/m/b", 0, &rev, NULL), STORE_OK);
    assert_int_equal(rev, 4);
    reopen(f);
    assert_int_equal(store_current_rev(f->s), 4);
    /* everything deleted and compacted: the log is empty, the counter is not */
    assert_int_equal(store_compact(f->s, 4), STORE_OK);
    assert_int_equal(count_rows(f->dir), 0);
    reopen(f);
    assert_int_equal(store_current_rev(f->s), 4);
    assert_int_equal(store_create(f->s, "/m/a", "x", 1, &rev), STORE_OK);
    assert_int_equal(rev, 5);
    reopen(f);
    assert_int_equal(store_current_rev(f->s), 5);
    store_kv_t kv;
    assert_int_equal(store_get(f->s, "/m/a", &kv), STORE_OK);
    assert_int_equal(kv.mod_rev, 5);
    store_kv_free(&kv);
}

#define NTHREADS 32
#define PER_THREAD 40

typedef struct wctx {
    store_t *s;
    int id;
    int failures;
    int64_t revs[PER_THREAD];
} wctx_t;

static void *writer_thread(void *arg)
{
    wctx_t *w = arg;
    char key[64], val[64];
    for (int i = 0; i < PER_THREAD; i++) {
        snprintf(key, sizeof(key), "/w/%02d/%03d", w->id, i);
        snprintf(val, sizeof(val), "{\"t\":%d,\"i\":%d}", w->id, i);
        if (store_create(w->s, key, val, strlen(val), &w->revs[i]) != STORE_OK)
            w->failures++;
    }
    return NULL;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_concurrent_writers(void **state)
{
    fx_t *f = *state;
    pthread_t th[NTHREADS];
    wctx_t w[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        w[i] = (wctx_t){ .s = f->s, .id = i };
        assert_int_equal(pthread_create(&th[i], NULL, writer_thread, &w[i]), 0);
    }
    int64_t *all = calloc(NTHREADS * PER_THREAD, sizeof(*all));
    size_t k = 0;
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].failures, 0);
        for (int j = 0; j < PER_THREAD; j++)
            all[k++] = w[i].revs[j];
    }
    /* every write got its own revision 1..N */
    qsort(all, k, sizeof(*all), cmp64);
    for (size_t i = 0; i < k; i++)
        assert_int_equal(all[i], (int64_t)i + 1);
    free(all);
    store_stats_t st;
    store_get_stats(f->s, &st);
    assert_int_equal(st.writes, NTHREADS * PER_THREAD);
    /* group commit: 32 concurrent writers share transactions */
    print_message("group commit: %llu writes in %llu transactions\n",
                  (unsigned long long)st.writes, (unsigned long long)st.txns);
    assert_true(st.txns < st.writes / 2);

    reopen(f);
    assert_int_equal(store_current_rev(f->s), NTHREADS * PER_THREAD);
    store_kv_t *items;
    size_t n;
    int64_t rev;
    bool more;
    assert_int_equal(store_range(f->s, "/w/", NULL, 0, 0, &items, &n, &rev, &more), STORE_OK);
    assert_int_equal(n, NTHREADS * PER_THREAD);
    assert_string_equal(items[0].key, "/w/00/000");
    assert_string_equal(items[n - 1].key, "/w/31/039");
    store_kvs_free(items, n);
}

/* A batch with failing and succeeding ops: each op fails alone. */
static void *conflict_thread(void *arg)
{
    store_t *s = arg;
    int64_t rev;
    for (int i = 0; i < 50; i++) {
        int rc = store_create(s, "/same", "x", 1, &rev);
        assert_true(rc == STORE_OK || rc == STORE_EXISTS);
        rc = store_update(s, "/same", "y", 1, 1, &rev);
        assert_true(rc == STORE_CONFLICT || rc == STORE_OK || rc == STORE_NOT_FOUND);
    }
    return NULL;
}

static void test_mixed_batch(void **state)
{
    fx_t *f = *state;
    int64_t rev;
    assert_int_equal(store_create(f->s, "/same", "x", 1, &rev), STORE_OK);
    pthread_t th[8];
    for (int i = 0; i < 8; i++)
        pthread_create(&th[i], NULL, conflict_thread, f->s);
    for (int i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    /* every later create failed alone; at most one update matched rev 1 */
    int64_t cur = store_current_rev(f->s);
    assert_true(cur == 1 || cur == 2);
    store_kv_t kv;
    assert_int_equal(store_get(f->s, "/same", &kv), STORE_OK);
    assert_int_equal(kv.mod_rev, cur);
    store_kv_free(&kv);
}

/* kill -9 while writing: every acknowledged write is there after reopen. */
static void test_kill9(void **state)
{
    fx_t *f = *state;
    store_close(f->s);
    f->s = NULL;
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        store_options_t o = { .data_dir = f->dir, .batch_max = 64 };
        store_t *s = NULL;
        if (store_open_sqlite(&o, &s) != STORE_OK)
            _exit(2);
        for (int i = 0;; i++) {
            char key[32];
            int64_t rev;
            snprintf(key, sizeof(key), "/k9/%06d", i);
            if (store_create(s, key, "v", 1, &rev) != STORE_OK)
                _exit(3);
            int64_t msg[2] = { i, rev };
            if (write(p[1], msg, sizeof(msg)) != sizeof(msg))
                _exit(4);
        }
    }
    close(p[1]);
    int64_t msg[2], acked = -1, last_rev = 0;
    while (acked < 300 && read(p[0], msg, sizeof(msg)) == sizeof(msg)) {
        acked = msg[0];
        last_rev = msg[1];
    }
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    close(p[0]);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(acked, 300);
    f->s = open_store(f->dir, 0, 10000);
    assert_true(store_current_rev(f->s) >= last_rev);
    for (int i = 0; i <= acked; i++) {
        char key[32];
        store_kv_t kv;
        snprintf(key, sizeof(key), "/k9/%06d", i);
        assert_int_equal(store_get(f->s, key, &kv), STORE_OK);
        assert_int_equal(kv.mod_rev, i + 1);
        store_kv_free(&kv);
    }
}

static void test_auto_compaction(void **state)
{
    fx_t *f = *state;
    store_close(f->s);
    f->s = open_store(f->dir, 1, 5);
    for (int i = 0; i < 20; i++)
        put(f->s, "/ac/a", "v");
    store_stats_t st = {0};
    for (int i = 0; i < 40 && st.compactions == 0; i++) {
        usleep(100 * 1000);
        store_get_stats(f->s, &st);   /* counted once the rows are gone */
    }
    assert_int_equal(st.compactions, 1);
    assert_int_equal(store_compacted_rev(f->s), 15);
    assert_true(count_rows(f->dir) <= 6);
}

int main(void)
{
    log_level = LOG_WARN;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_crud, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_past_revisions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_and_sink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_monotonic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_writers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mixed_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill9, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auto_compaction, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
