/* The store contract, written once and run against every backend (test_store.c:
 * SQLite, test_etcd.c: etcd). Revisions are relative to a base `b`, the store's
 * current revision before the check's first write (SQLite: 0, etcd: >= 1).
 * Include after <cmocka.h> and storage/storage.h. */
#ifndef TEST_STORE_CONTRACT_H
#define TEST_STORE_CONTRACT_H

#include <string.h>

#define EVLOG_MAX 64

typedef struct evlog {
    store_event_t ev[EVLOG_MAX];
    char *keys[EVLOG_MAX], *vals[EVLOG_MAX], *prevs[EVLOG_MAX];
    size_t n;
} evlog_t;

static void evlog_sink(void *ctx, const store_event_t *ev)
{
    evlog_t *l = ctx;
    assert_true(l->n < EVLOG_MAX);
    l->ev[l->n] = *ev;
    l->keys[l->n] = strdup(ev->key);
    l->vals[l->n] = ev->value ? strndup(ev->value, ev->value_len) : NULL;
    l->prevs[l->n] = ev->prev_value ? strndup(ev->prev_value, ev->prev_value_len) : NULL;
    l->n++;
}

static void evlog_free(evlog_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->keys[i]);
        free(l->vals[i]);
        free(l->prevs[i]);
    }
    l->n = 0;
}

/* create or unconditionally update; returns the write's revision */
static int64_t put(store_t *s, const char *key, const char *val)
{
    int64_t rev = 0;
    store_kv_t kv;
    if (store_get(s, key, &kv) == STORE_OK) {
        assert_int_equal(store_update(s, key, val, strlen(val), 0, &rev), STORE_OK);
        store_kv_free(&kv);
    } else {
        assert_int_equal(store_create(s, key, val, strlen(val), &rev), STORE_OK);
    }
    return rev;
}

/* create/get/update/delete with CAS, re-create; s is empty, at revision b */
static void contract_crud(store_t *s, int64_t b)
{
    int64_t rev = -1;
    store_kv_t kv;
    assert_int_equal(store_current_rev(s), b);
    assert_int_equal(store_get(s, "/a", &kv), STORE_NOT_FOUND);
    assert_int_equal(store_create(s, "/a", "{\"v\":1}", 7, &rev), STORE_OK);
    assert_int_equal(rev, b + 1);
    assert_int_equal(store_create(s, "/a", "x", 1, &rev), STORE_EXISTS);
    assert_int_equal(store_current_rev(s), b + 1);

    assert_int_equal(store_get(s, "/a", &kv), STORE_OK);
    assert_string_equal(kv.key, "/a");
    assert_string_equal(kv.value, "{\"v\":1}");
    assert_int_equal(kv.value_len, 7);
    assert_int_equal(kv.create_rev, b + 1);
    assert_int_equal(kv.mod_rev, b + 1);
    store_kv_free(&kv);

    assert_int_equal(store_update(s, "/a", "{\"v\":2}", 7, b + 1, &rev), STORE_OK);
    assert_int_equal(rev, b + 2);
    assert_int_equal(store_update(s, "/a", "{\"v\":3}", 7, b + 1, &rev), STORE_CONFLICT);
    assert_int_equal(store_update(s, "/missing", "x", 1, 0, &rev), STORE_NOT_FOUND);
    assert_int_equal(store_update(s, "/missing", "x", 1, 5, &rev), STORE_NOT_FOUND);
    assert_int_equal(store_update(s, "/a", "{\"v\":3}", 7, 0, &rev), STORE_OK);
    assert_int_equal(rev, b + 3);
    assert_int_equal(store_get(s, "/a", &kv), STORE_OK);
    assert_string_equal(kv.value, "{\"v\":3}");
    assert_int_equal(kv.create_rev, b + 1);
    assert_int_equal(kv.mod_rev, b + 3);
    store_kv_free(&kv);

    store_kv_t prev;
    assert_int_equal(store_delete(s, "/a", b + 2, &rev, &prev), STORE_CONFLICT);
    assert_null(prev.key);
    assert_int_equal(store_delete(s, "/a", b + 3, &rev, &prev), STORE_OK);
    assert_int_equal(rev, b + 4);
    assert_string_equal(prev.key, "/a");
    assert_string_equal(prev.value, "{\"v\":3}");
    assert_int_equal(prev.mod_rev, b + 3);
    assert_int_equal(prev.create_rev, b + 1);
    store_kv_free(&prev);
    assert_int_equal(store_get(s, "/a", &kv), STORE_NOT_FOUND);
    assert_int_equal(store_delete(s, "/a", 0, &rev, NULL), STORE_NOT_FOUND);
    assert_int_equal(store_update(s, "/a", "x", 1, 0, &rev), STORE_NOT_FOUND);

    /* re-create: a new incarnation; an empty value round-trips */
    assert_int_equal(store_create(s, "/a", "", 0, &rev), STORE_OK);
    assert_int_equal(rev, b + 5);
    assert_int_equal(store_get(s, "/a", &kv), STORE_OK);
    assert_int_equal(kv.create_rev, b + 5);
    assert_string_equal(kv.value, "");
    assert_int_equal(kv.value_len, 0);
    store_kv_free(&kv);
    assert_int_equal(store_current_rev(s), b + 5);
    assert_true(store_healthy(s));
    store_stats_t st;
    store_get_stats(s, &st);
    assert_int_equal(st.writes, 12);
}

/* range: prefix, ordering, limit/from_key paging, past revisions; s empty at b */
static void contract_range(store_t *s, int64_t b)
{
    const char *order[] = { "/p/e", "/p/a", "/p/d", "/q/x", "/p/c", "/p/b", "/o/z", "/pz" };
    for (size_t i = 0; i < 8; i++)
        put(s, order[i], order[i]);
    store_kv_t *items;
    size_t n;
    int64_t rev;
    bool more;
    assert_int_equal(store_range(s, "/p/", NULL, 0, 0, &items, &n, &rev, &more), STORE_OK);
    assert_int_equal(n, 5);
    assert_false(more);
    assert_int_equal(rev, b + 8);
    const char *want[] = { "/p/a", "/p/b", "/p/c", "/p/d", "/p/e" };
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(items[i].key, want[i]);
        assert_string_equal(items[i].value, want[i]);
    }
    store_kvs_free(items, n);

    /* paging: limit 2, continue from the key after the last one */
    assert_int_equal(store_range(s, "/p/", NULL, 0, 2, &items, &n, &rev, &more), STORE_OK);
    assert_int_equal(n, 2);
    assert_true(more);
    assert_string_equal(items[1].key, "/p/b");
    store_kvs_free(items, n);
    assert_int_equal(store_range(s, "/p/", "/p/b\x01", 0, 2, &items, &n, &rev, &more), STORE_OK);
    assert_int_equal(n, 2);
    assert_true(more);
    assert_string_equal(items[0].key, "/p/c");
    assert_string_equal(items[1].key, "/p/d");
    store_kvs_free(items, n);
    assert_int_equal(store_range(s, "/p/", "/p/e", 0, 2, &items, &n, &rev, &more), STORE_OK);
    assert_int_equal(n, 1);
    assert_false(more);
    store_kvs_free(items, n);
    /* from_key before the prefix is clamped to the prefix */
    assert_int_equal(store_range(s, "/p/", "/a", 0, 0, &items, &n, &rev, &more), STORE_OK);
    assert_int_equal(n, 5);
    store_kvs_free(items, n);
    /* empty prefix: everything in this store (etcd: under its key prefix only) */
    assert_int_equal(store_range(s, "", NULL, 0, 0, &items, &n, &rev, &more), STORE_OK);
    assert_int_equal(n, 8);
    assert_string_equal(items[0].key, "/o/z");
    assert_string_equal(items[7].key, "/q/x");
    store_kvs_free(items, n);
    /* at a past revision: only the first 3 writes */
    assert_int_equal(store_range(s, "/p/", NULL, b + 3, 0, &items, &n, &rev, &more), STORE_OK);
    assert_int_equal(rev, b + 3);
    assert_int_equal(n, 3);
    assert_string_equal(items[0].key, "/p/a");
    assert_string_equal(items[1].key, "/p/d");
    assert_string_equal(items[2].key, "/p/e");
    store_kvs_free(items, n);
    /* a past revision shows the value as it was then */
    put(s, "/p/a", "changed");
    assert_int_equal(store_range(s, "/p/a", NULL, b + 8, 0, &items, &n, &rev, &more), STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(items[0].value, "/p/a");
    store_kvs_free(items, n);
    assert_int_equal(store_range(s, "/p/", NULL, b + 99, 0, &items, &n, &rev, &more), STORE_FUTURE_REV);
    assert_null(items);
}

/* a key's history through update, delete and re-create, read at each revision */
static void contract_past_revisions(store_t *s)
{
    int64_t r1 = put(s, "/k/a", "v1");
    int64_t r2 = put(s, "/k/a", "v2");
    int64_t r3 = put(s, "/k/b", "b1");
    int64_t r4;
    assert_int_equal(store_delete(s, "/k/a", 0, &r4, NULL), STORE_OK);
    int64_t r5 = put(s, "/k/a", "v3");
    struct { int64_t rev; const char *a; const char *b; } want[] = {
        { r1, "v1", NULL }, { r2, "v2", NULL }, { r3, "v2", "b1" }, { r4, NULL, "b1" }, { r5, "v3", "b1" },
    };
    for (size_t i = 0; i < 5; i++) {
        store_kv_t *items;
        size_t n;
        int64_t rev;
        bool more;
        assert_int_equal(store_range(s, "/k/", NULL, want[i].rev, 0, &items, &n, &rev, &more), STORE_OK);
        size_t expect = (want[i].a != NULL) + (want[i].b != NULL);
        assert_int_equal(n, expect);
        size_t j = 0;
        if (want[i].a) {
            assert_string_equal(items[j].key, "/k/a");
            assert_string_equal(items[j].value, want[i].a);
            j++;
        }
        if (want[i].b)
            assert_string_equal(items[j].value, want[i].b);
        store_kvs_free(items, n);
    }
}

/* after store_compact(s, c) succeeded (store at base b): c is the floor for
 * compaction, ranges and replays; nothing at or beyond b + 99 exists yet */
static void contract_compaction_bounds(store_t *s, const char *prefix, int64_t b, int64_t c)
{
    store_kv_t *items;
    size_t n;
    int64_t rev;
    bool more;
    evlog_t l = {0};
    assert_int_equal(store_compacted_rev(s), c);
    assert_int_equal(store_compact(s, c), STORE_COMPACTED);
    assert_int_equal(store_compact(s, b + 99), STORE_FUTURE_REV);
    assert_int_equal(store_range(s, prefix, NULL, c - 1, 0, &items, &n, &rev, &more), STORE_COMPACTED);
    assert_int_equal(store_replay(s, prefix, c - 1, evlog_sink, &l), STORE_COMPACTED);
    assert_int_equal(l.n, 0);
}

#endif
