/* Watch cache tests: scan order and from_key, get, watch from 0 / from N / from a
 * revision older than the ring (store replay) / from a compacted revision,
 * registration racing with writes (no gap, no duplicate), cancel, deleted
 * objects at the deletion's revision, two caches on one store, shutdown, and the
 * PROGRESS/RESET events of a feed that arrives after the writes (etcd). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_helpers.h"
#include "storage/storage.h"
#include "storage/store_int.h"
#include "util/util.h"

static atomic_int n_extra_freed;

static void extra_free(void *p)
{
    atomic_fetch_add(&n_extra_freed, 1);
    free(p);
}

/* json = the stored value; extra = a heap copy of the key (to check extra_free). */
static cache_obj_t *build(void *ctx, const char *key, const char *value, size_t len,
                          int64_t create_rev, int64_t mod_rev)
{
    (void)ctx;
    if (len >= 3 && memcmp(value, "bad", 3) == 0)
        return NULL;
    cache_obj_t *o = calloc(1, sizeof(*o));
    o->key = strdup(key);
    o->json = strndup(value, len);
    o->json_len = len;
    o->create_rev = create_rev;
    o->mod_rev = mod_rev;
    o->extra = strdup(key);
    o->extra_free = extra_free;
    return o;
}

typedef struct fx {
    char *dir;
    store_t *s;
    cache_set_t *cs;
    cache_t *c;
} fx_t;

static store_t *open_store(const char *dir)
{
    store_options_t o = { .data_dir = dir, .compact_retain = 10000, .batch_max = 256 };
    store_t *s = NULL;
    assert_int_equal(store_open_sqlite(&o, &s), STORE_OK);
    return s;
}

static void start_cache(fx_t *f, size_t ring)
{
    f->cs = cache_set_new(f->s);
    f->c = cache_set_add(f->cs, "/t/", build, NULL, ring);
    assert_non_null(f->c);
    assert_int_equal(cache_set_start(f->cs), STORE_OK);
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    f->dir = th_tmpdir();
    f->s = open_store(f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    cache_set_free(f->cs);
    store_close(f->s);
    th_rmdir(f->dir);
    free(f);
    return 0;
}

static int64_t put(store_t *s, const char *key, const char *val)
{
    int64_t rev = 0;
    int rc = store_create(s, key, val, strlen(val), &rev);
    if (rc == STORE_EXISTS)
        rc = store_update(s, key, val, strlen(val), 0, &rev);
    assert_int_equal(rc, STORE_OK);
    return rev;
}

static int64_t del(store_t *s, const char *key)
{
    int64_t rev = 0;
    assert_int_equal(store_delete(s, key, 0, &rev, NULL), STORE_OK);
    return rev;
}

/* ---- a recording watcher ---- */
typedef struct rec_ev {
    int type;
    int64_t rev;
    char *key;
    char *json;
    int64_t obj_mod_rev;
    int64_t prev_mod_rev;   /* -1: no prev */
} rec_ev_t;

typedef struct rec {
    pthread_mutex_t mu;
    rec_ev_t *ev;
    size_t n, cap;
    int closed_calls;
    int closed_reason;
    int stop_after;         /* deliver returns -1 on this event number (1-based); 0 = never */
    bool deliver_after_close;
} rec_t;

static int rec_deliver(void *arg, const cache_event_t *ev)
{
    rec_t *r = arg;
    pthread_mutex_lock(&r->mu);
    if (r->closed_calls)
        r->deliver_after_close = true;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->ev = realloc(r->ev, r->cap * sizeof(*r->ev));
    }
    rec_ev_t *e = &r->ev[r->n++];
    e->type = ev->type;
    e->rev = ev->rev;
    e->key = strdup(ev->obj->key);
    e->json = strdup(ev->obj->json);
    e->obj_mod_rev = ev->obj->mod_rev;
    e->prev_mod_rev = ev->prev ? ev->prev->mod_rev : -1;
    int ret = r->stop_after && (int)r->n == r->stop_after ? -1 : 0;
    pthread_mutex_unlock(&r->mu);
    return ret;
}

static void rec_closed(void *arg, int reason)
{
    rec_t *r = arg;
    pthread_mutex_lock(&r->mu);
    r->closed_calls++;
    r->closed_reason = reason;
    pthread_mutex_unlock(&r->mu);
}

static const cache_watch_ops_t rec_ops = { rec_deliver, rec_closed };

static rec_t *rec_new(void)
{
    rec_t *r = calloc(1, sizeof(*r));
    pthread_mutex_init(&r->mu, NULL);
    return r;
}

static void rec_free(rec_t *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->ev[i].key);
        free(r->ev[i].json);
    }
    free(r->ev);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

static size_t rec_count(rec_t *r)
{
    pthread_mutex_lock(&r->mu);
    size_t n = r->n;
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* Waits (up to 5 s) until r has at least n events. */
static void rec_wait(rec_t *r, size_t n)
{
    for (int i = 0; i < 5000 && rec_count(r) < n; i++)
        usleep(1000);
    assert_true(rec_count(r) >= n);
}

static int rec_closed_calls(rec_t *r)
{
    pthread_mutex_lock(&r->mu);
    int n = r->closed_calls;
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* ---- scan / get ---- */
typedef struct scan_acc {
    const char *keys[32];
    size_t n;
    size_t stop_at;
} scan_acc_t;

static int scan_cb(void *arg, cache_obj_t *o)
{
    scan_acc_t *a = arg;
    a->keys[a->n++] = o->key;
    return a->stop_at && a->n == a->stop_at;
}

static void test_scan_get(void **state)
{
    fx_t *f = *state;
    put(f->s, "/t/ns1/b", "{\"b\":1}");      /* loaded at start */
    put(f->s, "/other/x", "x");
    start_cache(f, 16);
    assert_int_equal(cache_count(f->c), 1);
    const char *order[] = { "/t/ns2/a", "/t/ns1/c", "/t/ns1/a", "/t/ns0/z" };
    for (size_t i = 0; i < 4; i++)
        put(f->s, order[i], order[i]);
    put(f->s, "/t/bad", "bad value");       /* cannot be built: skipped */
    assert_int_equal(cache_count(f->c), 5);

    scan_acc_t a = {0};
    int64_t rev = 0;
    assert_int_equal(cache_scan(f->c, NULL, NULL, scan_cb, &a, &rev), 5);
    assert_int_equal(rev, store_current_rev(f->s));
    assert_int_equal(rev, cache_rev(f->c));
    const char *want[] = { "/t/ns0/z", "/t/ns1/a", "/t/ns1/b", "/t/ns1/c", "/t/ns2/a" };
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(a.keys[i], want[i]);
    /* sub-prefix, from_key and early stop */
    a = (scan_acc_t){0};
    assert_int_equal(cache_scan(f->c, "/t/ns1/", NULL, scan_cb, &a, &rev), 3);
    assert_string_equal(a.keys[0], "/t/ns1/a");
    a = (scan_acc_t){ .stop_at = 2 };
    assert_int_equal(cache_scan(f->c, "/t/", "/t/ns1/a\x01", scan_cb, &a, &rev), 2);
    assert_string_equal(a.keys[0], "/t/ns1/b");
    assert_string_equal(a.keys[1], "/t/ns1/c");

    cache_obj_t *o = cache_get(f->c, "/t/ns1/b");
    assert_non_null(o);
    assert_string_equal(o->json, "{\"b\":1}");
    assert_int_equal(o->mod_rev, 1);
    int64_t r = put(f->s, "/t/ns1/b", "{\"b\":2}");
    /* the old reference stays valid and unchanged */
    assert_string_equal(o->json, "{\"b\":1}");
    cache_obj_unref(o);
    o = cache_get(f->c, "/t/ns1/b");
    assert_string_equal(o->json, "{\"b\":2}");
    assert_int_equal(o->mod_rev, r);
    assert_int_equal(o->create_rev, 1);
    cache_obj_unref(o);
    del(f->s, "/t/ns1/b");
    assert_null(cache_get(f->c, "/t/ns1/b"));
    assert_null(cache_get(f->c, "/t/missing"));
    assert_null(cache_get(f->c, "/t/bad"));
    assert_int_equal(cache_wait_rev(f->c, store_current_rev(f->s), 10), 0);
    assert_int_equal(cache_wait_rev(f->c, store_current_rev(f->s) + 1, 50), STORE_UNAVAILABLE);
}

typedef struct count_acc {
    size_t n, stop_at;
    char first[64];
} count_acc_t;

static int count_cb(void *arg, cache_obj_t *o)
{
    count_acc_t *a = arg;
    if (a->n++ == 0)
        snprintf(a->first, sizeof(a->first), "%s", o->key);
    return a->stop_at && a->n == a->stop_at;
}

static void test_scan_10k(void **state)
{
    fx_t *f = *state;
    start_cache(f, 1024);
    /* 10k objects in reverse key order (worst case for the sorted array) */
    char key[64];
    for (int i = 9999; i >= 0; i--) {
        snprintf(key, sizeof(key), "/t/ns%02d/obj-%05d", i % 10, i);
        int64_t rev;
        assert_int_equal(store_create(f->s, key, "{}", 2, &rev), STORE_OK);
    }
    assert_int_equal(cache_count(f->c), 10000);
    int64_t t0 = time_mono_us();
    count_acc_t a = { .stop_at = 500 };
    for (int i = 0; i < 100; i++) {
        a.n = 0;
        assert_int_equal(cache_scan(f->c, "/t/ns05/", "/t/ns05/obj-05000", count_cb, &a, NULL), 500);
    }
    int64_t dt = time_mono_us() - t0;
    print_message("100 scans of 500 from a from_key in 10k objects: %lld us\n", (long long)dt);
    assert_string_equal(a.first, "/t/ns05/obj-05005");
    t0 = time_mono_us();
    a = (count_acc_t){0};
    assert_int_equal(cache_scan(f->c, NULL, NULL, count_cb, &a, NULL), 10000);
    print_message("full scan of 10k objects: %lld us\n", (long long)(time_mono_us() - t0));
    assert_true(dt < 2000000);
}

/* ---- watches ---- */
static void test_watch_from_zero(void **state)
{
    fx_t *f = *state;
    int64_t r1 = put(f->s, "/t/b", "b1");
    int64_t r2 = put(f->s, "/t/a", "a1");
    start_cache(f, 16);
    rec_t *r = rec_new();
    int err = -99;
    cache_watcher_t *w = cache_watch(f->c, NULL, 0, &rec_ops, r, &err);
    assert_non_null(w);
    assert_int_equal(err, STORE_OK);
    int64_t r3 = put(f->s, "/t/a", "a2");
    int64_t r4 = del(f->s, "/t/b");
    rec_wait(r, 4);
    usleep(20000);
    assert_int_equal(rec_count(r), 4);
    /* synthetic ADDED in key order with their own mod_revs, then live events */
    assert_int_equal(r->ev[0].type, CACHE_EV_ADDED);
    assert_string_equal(r->ev[0].key, "/t/a");
    assert_int_equal(r->ev[0].rev, r2);
    assert_int_equal(r->ev[1].type, CACHE_EV_ADDED);
    assert_string_equal(r->ev[1].key, "/t/b");
    assert_int_equal(r->ev[1].rev, r1);
    assert_int_equal(r->ev[2].type, CACHE_EV_MODIFIED);
    assert_int_equal(r->ev[2].rev, r3);
    assert_string_equal(r->ev[2].json, "a2");
    assert_int_equal(r->ev[2].prev_mod_rev, r2);
    /* DELETED carries the last state at the deletion's revision */
    assert_int_equal(r->ev[3].type, CACHE_EV_DELETED);
    assert_int_equal(r->ev[3].rev, r4);
    assert_int_equal(r->ev[3].obj_mod_rev, r4);
    assert_string_equal(r->ev[3].json, "b1");
    assert_int_equal(r->ev[3].prev_mod_rev, r1);
    cache_watch_cancel(w);
    cache_watch_release(w);
    assert_int_equal(rec_closed_calls(r), 1);
    assert_int_equal(r->closed_reason, 0);
    /* no delivery after cancel */
    put(f->s, "/t/c", "c");
    usleep(20000);
    assert_int_equal(rec_count(r), 4);
    assert_false(r->deliver_after_close);
    rec_free(r);
}

static void test_watch_from_rev(void **state)
{
    fx_t *f = *state;
    start_cache(f, 16);
    int64_t revs[6];
    revs[0] = put(f->s, "/t/a", "1");
    revs[1] = put(f->s, "/t/b", "1");
    revs[2] = put(f->s, "/other/z", "z");   /* another prefix: not delivered */
    revs[3] = put(f->s, "/t/a", "2");
    rec_t *r = rec_new();
    int err;
    cache_watcher_t *w = cache_watch(f->c, NULL, revs[1], &rec_ops, r, &err);
    assert_non_null(w);
    revs[4] = del(f->s, "/t/a");
    rec_wait(r, 2);
    usleep(20000);
    assert_int_equal(rec_count(r), 2);
    assert_int_equal(r->ev[0].rev, revs[3]);
    assert_int_equal(r->ev[0].type, CACHE_EV_MODIFIED);
    assert_int_equal(r->ev[1].rev, revs[4]);
    assert_int_equal(r->ev[1].type, CACHE_EV_DELETED);
    assert_int_equal(r->ev[1].obj_mod_rev, revs[4]);
    cache_watch_cancel(w);
    cache_watch_release(w);
    rec_free(r);

    /* a sub-prefix watch at the current revision; future revision refused */
    r = rec_new();
    w = cache_watch(f->c, "/t/b", cache_rev(f->c), &rec_ops, r, &err);
    assert_non_null(w);
    put(f->s, "/t/a", "3");
    int64_t rb = put(f->s, "/t/b", "2");
    rec_wait(r, 1);
    usleep(20000);
    assert_int_equal(rec_count(r), 1);
    assert_int_equal(r->ev[0].rev, rb);
    cache_watch_cancel(w);
    cache_watch_release(w);
    rec_free(r);
    assert_null(cache_watch(f->c, NULL, cache_rev(f->c) + 5, &rec_ops, NULL, &err));
    assert_int_equal(err, STORE_FUTURE_REV);
}

static void test_watch_older_than_ring(void **state)
{
    fx_t *f = *state;
    put(f->s, "/t/pre", "x");                /* before the cache was loaded */
    put(f->s, "/t/pre2", "x");
    start_cache(f, 4);
    for (int i = 0; i < 20; i++) {
        char key[32];
        snprintf(key, sizeof(key), "/t/k%02d", i % 7);
        put(f->s, key, key);
    }
    int64_t cur = cache_rev(f->c);
    assert_int_equal(cur, 22);
    /* the router keeps watches off the loop that would replay the store: ring 19..22 */
    assert_true(cache_watch_in_memory(f->c, 0));
    assert_true(cache_watch_in_memory(f->c, 22));
    assert_true(cache_watch_in_memory(f->c, 18));
    assert_false(cache_watch_in_memory(f->c, 17));
    assert_false(cache_watch_in_memory(f->c, 1));
    /* from 1 (before the load): all from the store log */
    rec_t *r = rec_new();
    int err;
    cache_watcher_t *w = cache_watch(f->c, NULL, 1, &rec_ops, r, &err);
    assert_non_null(w);
    rec_wait(r, 21);
    for (size_t i = 0; i < 21; i++)
        assert_int_equal(r->ev[i].rev, (int64_t)i + 2);
    assert_int_equal(r->ev[0].type, CACHE_EV_ADDED);
    assert_int_equal(r->ev[8].type, CACHE_EV_MODIFIED);   /* /t/k00 again at rev 10 */
    assert_int_equal(r->ev[8].prev_mod_rev, 3);
    cache_watch_cancel(w);
    cache_watch_release(w);
    rec_free(r);
    /* from 10: ring holds 19..22, 11..18 come from the store */
    r = rec_new();
    w = cache_watch(f->c, NULL, 10, &rec_ops, r, &err);
    assert_non_null(w);
    int64_t more = put(f->s, "/t/new", "n");
    rec_wait(r, 13);
    usleep(20000);
    assert_int_equal(rec_count(r), 13);
    for (size_t i = 0; i < 12; i++)
        assert_int_equal(r->ev[i].rev, (int64_t)i + 11);
    assert_int_equal(r->ev[12].rev, more);
    cache_watch_cancel(w);
    cache_watch_release(w);
    rec_free(r);
}

static void test_watch_compacted(void **state)
{
    fx_t *f = *state;
    start_cache(f, 2);
    for (int i = 0; i < 10; i++)
        put(f->s, "/t/a", "v");
    assert_int_equal(store_compact(f->s, 8), STORE_OK);
    int err = 0;
    rec_t *r = rec_new();
    assert_null(cache_watch(f->c, NULL, 5, &rec_ops, r, &err));
    assert_int_equal(err, STORE_COMPACTED);
    /* 8 is the compaction point itself: still served (9, 10) */
    cache_watcher_t *w = cache_watch(f->c, NULL, 8, &rec_ops, r, &err);
    assert_non_null(w);
    rec_wait(r, 2);
    assert_int_equal(r->ev[0].rev, 9);
    assert_int_equal(r->ev[1].rev, 10);
    cache_watch_cancel(w);
    cache_watch_release(w);
    rec_free(r);
}

static void test_deliver_stop_and_shutdown(void **state)
{
    fx_t *f = *state;
    start_cache(f, 16);
    rec_t *r1 = rec_new(), *r2 = rec_new();
    r1->stop_after = 2;
    int err;
    cache_watcher_t *w1 = cache_watch(f->c, NULL, cache_rev(f->c), &rec_ops, r1, &err);
    cache_watcher_t *w2 = cache_watch(f->c, NULL, cache_rev(f->c), &rec_ops, r2, &err);
    for (int i = 0; i < 4; i++)
        put(f->s, "/t/a", "v");
    rec_wait(r2, 4);
    usleep(20000);
    /* deliver -1: removed, closed(STORE_COMPACTED) once, nothing more */
    assert_int_equal(rec_count(r1), 2);
    assert_int_equal(rec_closed_calls(r1), 1);
    assert_int_equal(r1->closed_reason, STORE_COMPACTED);
    cache_watch_cancel(w1);   /* after closed: idempotent, no second closed() */
    assert_int_equal(rec_closed_calls(r1), 1);
    cache_watch_release(w1);
    /* shutdown closes the rest with STORE_UNAVAILABLE */
    cache_set_free(f->cs);
    f->cs = NULL;
    assert_int_equal(rec_closed_calls(r2), 1);
    assert_int_equal(r2->closed_reason, STORE_UNAVAILABLE);
    cache_watch_cancel(w2);
    cache_watch_release(w2);
    assert_int_equal(rec_closed_calls(r2), 1);
    rec_free(r1);
    rec_free(r2);
}

/* ---- cancel/release from awkward places ---- */
typedef struct slow {
    rec_t *r;
    cache_watcher_t *w;
    atomic_int in_deliver;
    atomic_int go;
    int mode;   /* 0: block until go; 1: cancel from inside deliver; 2: release inside closed */
} slow_t;

static int slow_deliver(void *arg, const cache_event_t *ev)
{
    slow_t *s = arg;
    int rc = rec_deliver(s->r, ev);
    if (s->mode == 0) {
        atomic_store(&s->in_deliver, 1);
        while (!atomic_load(&s->go))
            usleep(1000);
    } else if (s->mode == 1) {
        cache_watch_cancel(s->w);   /* on the dispatcher thread, inside deliver */
    }
    return rc;
}

static void slow_closed(void *arg, int reason)
{
    slow_t *s = arg;
    rec_closed(s->r, reason);
    if (s->mode == 2)
        cache_watch_release(s->w);   /* the owner's last call, from inside closed() */
}

static const cache_watch_ops_t slow_ops = { slow_deliver, slow_closed };

static void test_cancel_nonblocking(void **state)
{
    fx_t *f = *state;
    start_cache(f, 16);
    /* cancel while deliver() is blocked: returns at once, closed(0) after deliver */
    slow_t s = { .r = rec_new(), .mode = 0 };
    int err;
    s.w = cache_watch(f->c, NULL, cache_rev(f->c), &slow_ops, &s, &err);
    put(f->s, "/t/a", "1");
    for (int i = 0; i < 5000 && !atomic_load(&s.in_deliver); i++)
        usleep(1000);
    assert_true(atomic_load(&s.in_deliver));
    cache_watch_cancel(s.w);
    cache_watch_cancel(s.w);   /* idempotent */
    assert_int_equal(rec_closed_calls(s.r), 0);
    put(f->s, "/t/a", "2");
    atomic_store(&s.go, 1);
    for (int i = 0; i < 5000 && rec_closed_calls(s.r) == 0; i++)
        usleep(1000);
    usleep(20000);
    assert_int_equal(rec_closed_calls(s.r), 1);
    assert_int_equal(s.r->closed_reason, 0);
    assert_int_equal(rec_count(s.r), 1);   /* nothing after the cancel */
    cache_watch_release(s.w);
    rec_free(s.r);

    /* cancel from inside deliver() */
    slow_t s1 = { .r = rec_new(), .mode = 1 };
    s1.w = cache_watch(f->c, NULL, cache_rev(f->c), &slow_ops, &s1, &err);
    put(f->s, "/t/a", "3");
    put(f->s, "/t/a", "4");
    for (int i = 0; i < 5000 && rec_closed_calls(s1.r) == 0; i++)
        usleep(1000);
    usleep(20000);
    assert_int_equal(rec_closed_calls(s1.r), 1);
    assert_int_equal(s1.r->closed_reason, 0);
    assert_int_equal(rec_count(s1.r), 1);
    cache_watch_release(s1.w);
    rec_free(s1.r);

    /* release from inside closed() (dispatcher thread: deliver -1) */
    slow_t s2 = { .r = rec_new(), .mode = 2 };
    s2.r->stop_after = 1;
    s2.w = cache_watch(f->c, NULL, cache_rev(f->c), &slow_ops, &s2, &err);
    put(f->s, "/t/a", "5");
    for (int i = 0; i < 5000 && rec_closed_calls(s2.r) == 0; i++)
        usleep(1000);
    assert_int_equal(s2.r->closed_reason, STORE_COMPACTED);
    put(f->s, "/t/a", "6");   /* the dispatcher sweeps the released watcher */
    usleep(20000);
    rec_free(s2.r);

    /* release of a running watcher without cancel: closed(0) once */
    rec_t *r = rec_new();
    cache_watcher_t *w = cache_watch(f->c, NULL, 0, &rec_ops, r, &err);
    cache_watch_release(w);
    assert_int_equal(rec_closed_calls(r), 1);
    assert_int_equal(r->closed_reason, 0);
    usleep(20000);
    rec_free(r);
}

static void test_two_caches(void **state)
{
    fx_t *f = *state;
    f->cs = cache_set_new(f->s);
    cache_t *a = cache_set_add(f->cs, "/a/", build, NULL, 8);
    cache_t *b = cache_set_add(f->cs, "/b/", build, NULL, 8);
    assert_int_equal(cache_set_start(f->cs), STORE_OK);
    rec_t *r = rec_new();
    int err;
    cache_watcher_t *w = cache_watch(a, NULL, 0, &rec_ops, r, &err);
    put(f->s, "/a/1", "a");
    int64_t rb = put(f->s, "/b/1", "b");
    /* b's write advances a's revision too (one global revision) */
    assert_int_equal(cache_rev(a), rb);
    assert_int_equal(cache_bookmark_rev(a), rb);
    assert_int_equal(cache_count(a), 1);
    assert_int_equal(cache_count(b), 1);
    rec_wait(r, 1);
    usleep(20000);
    assert_int_equal(rec_count(r), 1);
    assert_string_equal(r->ev[0].key, "/a/1");
    cache_watch_cancel(w);
    cache_watch_release(w);
    rec_free(r);
}

/* Watchers registered at random revisions while 4 threads write: each must
 * see exactly the revisions after its from_rev, in order, once. */
typedef struct wr_ctx {
    store_t *s;
    int id;
    int n;
} wr_ctx_t;

static void *race_writer(void *arg)
{
    wr_ctx_t *c = arg;
    for (int i = 0; i < c->n; i++) {
        char key[32];
        snprintf(key, sizeof(key), "/t/w%d/%d", c->id, i % 13);
        put(c->s, key, "v");
    }
    return NULL;
}

#define RACE_WATCHERS 60
#define RACE_WRITERS 4
#define RACE_WRITES 150

static void test_watch_race(void **state)
{
    fx_t *f = *state;
    start_cache(f, 32);   /* small ring: some registrations take the replay path */
    pthread_t th[RACE_WRITERS];
    wr_ctx_t ctx[RACE_WRITERS];
    for (int i = 0; i < RACE_WRITERS; i++) {
        ctx[i] = (wr_ctx_t){ f->s, i, RACE_WRITES };
        pthread_create(&th[i], NULL, race_writer, &ctx[i]);
    }
    rec_t *r[RACE_WATCHERS];
    cache_watcher_t *w[RACE_WATCHERS];
    int64_t from[RACE_WATCHERS];
    for (int i = 0; i < RACE_WATCHERS; i++) {
        int64_t cur = cache_rev(f->c);
        from[i] = i % 3 == 0 ? cur : cur > 50 ? cur - 50 + i % 40 : cur / 2;
        r[i] = rec_new();
        int err;
        w[i] = cache_watch(f->c, NULL, from[i], &rec_ops, r[i], &err);
        assert_non_null(w[i]);
        usleep(1000);
    }
    for (int i = 0; i < RACE_WRITERS; i++)
        pthread_join(th[i], NULL);
    int64_t last = store_current_rev(f->s);
    assert_int_equal(last, RACE_WRITERS * RACE_WRITES);
    for (int i = 0; i < RACE_WATCHERS; i++) {
        size_t want = (size_t)(last - from[i]);
        rec_wait(r[i], want);
        usleep(i == 0 ? 50000 : 0);
        assert_int_equal(rec_count(r[i]), want);
        for (size_t j = 0; j < want; j++)
            assert_int_equal(r[i]->ev[j].rev, from[i] + 1 + (int64_t)j);
        cache_watch_cancel(w[i]);
        cache_watch_release(w[i]);
        rec_free(r[i]);
    }
}

/* ---- PROGRESS and RESET: a store whose feed the test drives by hand ---- */
/* Wraps the SQLite store but keeps the sink for itself: writes through `inner` reach the
 * cache only when the test passes an event (as etcd's feed does, later and by its choice). */
typedef struct manual {
    store_t base;
    store_t *inner;
    store_sink_fn fn;
    void *ctx;
} manual_t;

static store_t *inner_of(store_t *s) { return ((manual_t *)s)->inner; }
static void m_close(store_t *s) { free(s); }
static void m_set_sink(store_t *s, store_sink_fn fn, void *ctx)
{
    ((manual_t *)s)->fn = fn;
    ((manual_t *)s)->ctx = ctx;
}
static int m_get(store_t *s, const char *key, store_kv_t *out) { return store_get(inner_of(s), key, out); }
static int m_range(store_t *s, const char *prefix, const char *from_key, int64_t at_rev, size_t limit,
                   store_kv_t **items, size_t *n, int64_t *rev_out, bool *more)
{
    return store_range(inner_of(s), prefix, from_key, at_rev, limit, items, n, rev_out, more);
}
static int64_t m_current_rev(store_t *s) { return store_current_rev(inner_of(s)); }
static int64_t m_compacted_rev(store_t *s) { return store_compacted_rev(inner_of(s)); }
static int m_replay(store_t *s, const char *prefix, int64_t after, store_sink_fn fn, void *ctx)
{
    return store_replay(inner_of(s), prefix, after, fn, ctx);
}
static bool m_healthy(store_t *s) { return store_healthy(inner_of(s)); }

static const store_ops_t manual_ops = {
    .name = "manual", .close = m_close, .set_sink = m_set_sink, .get = m_get, .range = m_range,
    .current_rev = m_current_rev, .compacted_rev = m_compacted_rev, .replay = m_replay, .healthy = m_healthy,
};

static void emit(manual_t *m, store_ev_type_t type, int64_t rev, const char *key, const char *val)
{
    store_event_t ev = {.type = type, .rev = rev, .key = key, .value = val, .value_len = val ? strlen(val) : 0,
                        .create_rev = rev};
    m->fn(m->ctx, &ev);
}

static void test_progress_and_reset(void **state)
{
    fx_t *f = *state;
    manual_t *m = calloc(1, sizeof(*m));
    m->base.ops = &manual_ops;
    m->inner = f->s;
    put(f->s, "/t/a", "1");                                   /* rev 1, loaded */
    cache_set_t *cs = cache_set_new(&m->base);
    cache_t *c = cache_set_add(cs, "/t/", build, NULL, 16);
    assert_int_equal(cache_set_start(cs), STORE_OK);
    assert_int_equal(cache_rev(c), 1);
    rec_t *r = rec_new();
    int err = 0;
    cache_watcher_t *w = cache_watch(c, NULL, 0, &rec_ops, r, &err);
    rec_wait(r, 1);

    /* PROGRESS: a revision that touched none of the cache's keys moves its revision */
    put(f->s, "/other/x", "x");                               /* rev 2 */
    assert_int_equal(cache_wait_rev(c, 2, 50), STORE_UNAVAILABLE);
    emit(m, STORE_EV_PROGRESS, 2, NULL, NULL);
    assert_int_equal(cache_rev(c), 2);
    assert_int_equal(cache_wait_rev(c, 2, 0), 0);
    emit(m, STORE_EV_PROGRESS, 1, NULL, NULL);                 /* an old one changes nothing */
    assert_int_equal(cache_rev(c), 2);

    /* RESET: changes the feed never passed (lost history): reload, end the watchers with 410 */
    put(f->s, "/t/b", "2");                                   /* rev 3 */
    del(f->s, "/t/a");                                        /* rev 4 */
    emit(m, STORE_EV_RESET, 3, NULL, NULL);
    assert_int_equal(cache_rev(c), 4);                        /* reloaded at the current revision */
    cache_obj_t *o = cache_get(c, "/t/a");
    assert_null(o);
    o = cache_get(c, "/t/b");
    assert_non_null(o);
    cache_obj_unref(o);
    for (int i = 0; i < 5000 && rec_closed_calls(r) == 0; i++)
        usleep(1000);
    assert_int_equal(rec_closed_calls(r), 1);
    assert_int_equal(r->closed_reason, STORE_COMPACTED);
    assert_int_equal(rec_count(r), 1);                        /* nothing delivered after the reset */
    /* the history before the reload is gone from the ring: an old resume goes to the store */
    rec_t *r2 = rec_new();
    cache_watcher_t *w2 = cache_watch(c, NULL, 4, &rec_ops, r2, &err);
    assert_non_null(w2);
    /* the feed goes on after the reset: events already loaded are skipped, newer applied */
    emit(m, STORE_EV_DELETE, 4, "/t/a", NULL);
    int64_t rev5 = put(f->s, "/t/c", "3");
    emit(m, STORE_EV_PUT, rev5, "/t/c", "3");
    rec_wait(r2, 1);
    assert_int_equal(rec_count(r2), 1);
    assert_string_equal(r2->ev[0].key, "/t/c");
    assert_int_equal(r2->ev[0].rev, rev5);
    size_t n = 0;
    scan_acc_t acc = {0};
    n = cache_scan(c, "/t/", NULL, scan_cb, &acc, NULL);
    assert_int_equal(n, 2);                                   /* b, c */
    cache_watch_release(w);
    cache_watch_release(w2);
    cache_set_free(cs);
    store_close(&m->base);
    rec_free(r);
    rec_free(r2);
}

static void test_extra_freed(void **state)
{
    fx_t *f = *state;
    start_cache(f, 4);
    int before = atomic_load(&n_extra_freed);
    for (int i = 0; i < 10; i++)
        put(f->s, "/t/x", "v");
    cache_set_free(f->cs);
    f->cs = NULL;
    /* 10 objects built, each freed once via extra_free */
    assert_int_equal(atomic_load(&n_extra_freed) - before, 10);
}

/* cache_get_sorted: hits and misses of sorted names under one prefix, never a key of a
 * neighbouring prefix ("/t/n/" vs "/t/n2/" and "/t/n"), one call per name in order. */
typedef struct sorted_rec {
    size_t calls;
    char got[16][32];
} sorted_rec_t;

static void sorted_cb(void *arg, size_t i, cache_obj_t *o)
{
    sorted_rec_t *r = arg;
    assert_int_equal(i, r->calls);
    snprintf(r->got[r->calls++], sizeof r->got[0], "%s", o ? o->json : "-");
}

static void test_get_sorted(void **state)
{
    fx_t *f = *state;
    put(f->s, "/t/n", "bare");
    put(f->s, "/t/n/a", "A");
    put(f->s, "/t/n/c", "C");
    for (int i = 0; i < 10; i++) {
        char k[32], v[8];
        snprintf(k, sizeof k, "/t/n/d%d", i);
        snprintf(v, sizeof v, "D%d", i);
        put(f->s, k, v);
    }
    put(f->s, "/t/n2/b", "other");
    put(f->s, "/t/o/a", "other");
    start_cache(f, 64);
    const char *names[] = {"", "a", "b", "c", "d0", "d5", "d5", "d9", "e", "zz"};
    sorted_rec_t r = {0};
    cache_get_sorted(f->c, "/t/n/", names, 10, sorted_cb, &r);
    assert_int_equal(r.calls, 10);
    const char *want[] = {"-", "A", "-", "C", "D0", "D5", "D5", "D9", "-", "-"};
    for (int i = 0; i < 10; i++)
        assert_string_equal(r.got[i], want[i]);
    /* a prefix with nothing under it, and no names */
    memset(&r, 0, sizeof r);
    const char *b[] = {"b"};
    cache_get_sorted(f->c, "/t/n3/", b, 1, sorted_cb, &r);
    assert_string_equal(r.got[0], "-");
    cache_get_sorted(f->c, "/t/n/", NULL, 0, sorted_cb, &r);
    assert_int_equal(r.calls, 1);
}

/* The apply hook sees every change the cache applies: (NULL, new) on a create, (old, new) on
 * an update, (old, NULL) on a delete, with the objects still readable. */
typedef struct hook_rec {
    int n;
    char log[8][48];
} hook_rec_t;

static void hook_cb(void *ctx, const cache_obj_t *old, const cache_obj_t *obj)
{
    hook_rec_t *r = ctx;
    if (r->n < 8)
        snprintf(r->log[r->n], sizeof r->log[0], "%s>%s", old ? old->json : "-", obj ? obj->json : "-");
    r->n++;
}

static void test_apply_hook(void **state)
{
    fx_t *f = *state;
    put(f->s, "/t/before", "b0");   /* loaded at start: not a change */
    f->cs = cache_set_new(f->s);
    f->c = cache_set_add(f->cs, "/t/", build, NULL, 64);
    hook_rec_t r = {0};
    cache_set_apply_hook(f->c, hook_cb, &r);
    assert_int_equal(cache_set_start(f->cs), STORE_OK);
    put(f->s, "/t/k", "v1");
    put(f->s, "/t/k", "v2");
    del(f->s, "/t/k");
    put(f->s, "/u/other", "x");      /* another prefix */
    assert_int_equal(r.n, 3);
    assert_string_equal(r.log[0], "->v1");
    assert_string_equal(r.log[1], "v1>v2");
    assert_string_equal(r.log[2], "v2>-");
}

int main(void)
{
    log_level = LOG_ERROR;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_scan_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_10k, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_from_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_from_rev, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_older_than_ring, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_compacted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deliver_stop_and_shutdown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_nonblocking, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_caches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_race, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extra_freed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_progress_and_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_sorted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_hook, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
