/* storage/etcd: the key-value calls of the contract on etcd v3. Conditional
 * writes are single txns comparing create_revision / mod_revision; a failed
 * one reads the key in the same txn to tell NOT_FOUND from CONFLICT. */
#include <stdlib.h>
#include <string.h>

#include "storage/etcd_int.h"

/* "key":.., "range_end":.. for keys starting with prefix and >= lo, or > lo if after (both
 * without es->prefix). */
static void put_range(etcd_store_t *es, buf_t *b, const char *prefix, const char *lo, bool after)
{
    char *full = etcd_full_key(es, lo);
    /* the key right after lo is lo + "\0": its NUL terminator is part of the key */
    char *enc = etcd_b64(full, strlen(full) + (after ? 1 : 0));
    buf_printf(b, "\"key\":\"%s\"", enc);
    free(enc);
    free(full);
    full = etcd_full_key(es, prefix);
    char *end = store_prefix_end(full);
    enc = end ? etcd_b64(end, strlen(end)) : xstrdup("AA==");   /* "\0": no upper bound */
    buf_printf(b, ",\"range_end\":\"%s\"", enc);
    free(enc);
    free(end);
    free(full);
}

int etcd_get(store_t *s, const char *key, store_kv_t *out)
{
    etcd_store_t *es = (etcd_store_t *)s;
    buf_t b;
    buf_init(&b);
    buf_putc(&b, '{');
    etcd_put_key(es, &b, "key", key);
    buf_putc(&b, '}');
    json_t *r;
    int rc = etcd_post(es, "/v3/kv/range", b.data, &r);
    buf_free(&b);
    if (rc != STORE_OK)
        return rc;
    etcd_header_rev(es, r);
    json_t *kv = json_array_get(json_object_get(r, "kvs"), 0);
    if (!kv)
        rc = STORE_NOT_FOUND;
    else if (etcd_decode_kv(es, kv, out) != 0)
        rc = STORE_UNAVAILABLE;
    json_decref(r);
    return rc;
}

/* The items read so far by one etcd_range. */
typedef struct range_acc {
    store_kv_t *v;
    size_t n, cap;
} range_acc_t;

/* Appends one page's kvs, each after the last one (a page that does not advance would make
 * the next one ask the same again). -1 if malformed. */
static int range_take(etcd_store_t *es, range_acc_t *acc, json_t *kvs)
{
    for (size_t i = 0; i < json_array_size(kvs); i++) {
        if (acc->n == acc->cap) {
            acc->cap = acc->cap ? acc->cap * 2 : json_array_size(kvs);
            acc->v = xrealloc(acc->v, acc->cap * sizeof(*acc->v));
        }
        store_kv_t *kv = &acc->v[acc->n];
        if (etcd_decode_kv(es, json_array_get(kvs, i), kv) != 0)
            return -1;
        acc->n++;
        if (acc->n > 1 && strcmp(kv[-1].key, kv->key) >= 0)
            return -1;
    }
    return 0;
}

/* One page: at most want keys from lo (after it if after) at rev (0 = current). */
static int range_page(etcd_store_t *es, const char *prefix, const char *lo, bool after, int64_t rev,
                      size_t want, json_t **r, size_t *len)
{
    buf_t b;
    buf_init(&b);
    buf_putc(&b, '{');
    put_range(es, &b, prefix, lo, after);
    if (rev > 0)
        buf_printf(&b, ",\"revision\":\"%lld\"", (long long)rev);
    buf_printf(&b, ",\"limit\":\"%zu\"}", want);
    int rc = etcd_post_answer(es, "/v3/kv/range", b.data, r, len);
    buf_free(&b);
    return rc;
}

/* Reads in pages of at most ETCD_RANGE_PAGE keys, so no answer has to hold the whole range
 * (ETCD_MAX_ANSWER); a page over the limit is asked again with a sixteenth of the keys, down
 * to one. Pages after the first read at the first one's revision: one consistent snapshot. */
int etcd_range(store_t *s, const char *prefix, const char *from_key, int64_t at_rev, size_t limit,
               store_kv_t **items, size_t *n, int64_t *rev_out, bool *more)
{
    etcd_store_t *es = (etcd_store_t *)s;
    const char *lo = from_key && strcmp(from_key, prefix) > 0 ? from_key : prefix;
    range_acc_t acc = {0};
    char *cursor = xstrdup(lo);
    bool after = false, page_more = false;
    size_t page = ETCD_RANGE_PAGE;
    uint64_t total = 0;
    int64_t rev = at_rev;
    int rc;
    for (;;) {
        size_t want = limit && limit - acc.n < page ? limit - acc.n : page;
        json_t *r = NULL;
        size_t len = 0;
        rc = range_page(es, prefix, cursor, after, rev, want, &r, &len);
        if (rc == ETCD_OVERFLOW && want > 1) {
            page = want > 16 ? want / 16 : 1;
            log_warn("storage/etcd: range %s: a page of %zu keys passed %zu MiB; asking again with %zu per page",
                     prefix, want, ETCD_MAX_ANSWER >> 20, page);
            continue;
        }
        if (rc == ETCD_OVERFLOW) {
            log_error("storage/etcd: range %s: even one key's answer passed %zu MiB", prefix,
                      ETCD_MAX_ANSWER >> 20);
            rc = STORE_UNAVAILABLE;
        }
        if (rc != STORE_OK)
            break;
        /* etcd's header carries the current revision even for a read in the past */
        int64_t cur = etcd_header_rev(es, r);
        if (rev == 0)
            rev = cur;
        json_t *kvs = json_object_get(r, "kvs");
        size_t got = json_array_size(kvs);
        page_more = json_is_true(json_object_get(r, "more"));
        total += len;
        if (range_take(es, &acc, kvs) != 0 || got > want || (page_more && got == 0)) {
            log_error("storage/etcd: range %s: malformed answer", prefix);
            rc = STORE_UNAVAILABLE;
        } else if (total > ETCD_MAX_RANGE_TOTAL) {
            log_error("storage/etcd: range %s: the answers passed %llu GiB in all; dropped", prefix,
                      (unsigned long long)(ETCD_MAX_RANGE_TOTAL >> 30));
            rc = STORE_UNAVAILABLE;
        }
        json_decref(r);
        if (rc != STORE_OK || !page_more || (limit && acc.n == limit))
            break;
        free(cursor);
        cursor = xstrdup(acc.v[acc.n - 1].key);
        after = true;
    }
    free(cursor);
    if (rc != STORE_OK) {
        store_kvs_free(acc.v, acc.n);
        return rc;
    }
    *rev_out = rev;
    *more = page_more;
    *items = acc.v;
    *n = acc.n;
    return STORE_OK;
}

void etcd_txn_body(etcd_store_t *es, buf_t *b, const char *key, int64_t cond, etcd_txn_op_t op,
                   const char *value, size_t len, int64_t lease)
{
    buf_puts(b, "{\"compare\":[{");
    etcd_put_key(es, b, "key", key);
    if (cond > 0)
        buf_printf(b, ",\"result\":\"EQUAL\",\"target\":\"MOD\",\"mod_revision\":\"%lld\"}]", (long long)cond);
    else if (cond == ETCD_IF_EXISTS)
        buf_puts(b, ",\"result\":\"GREATER\",\"target\":\"CREATE\",\"create_revision\":\"0\"}]");
    else
        buf_puts(b, ",\"result\":\"EQUAL\",\"target\":\"CREATE\",\"create_revision\":\"0\"}]");
    buf_puts(b, op == ETCD_TXN_DELETE ? ",\"success\":[{\"request_delete_range\":{" : ",\"success\":[{\"request_put\":{");
    etcd_put_key(es, b, "key", key);
    if (op == ETCD_TXN_DELETE) {
        buf_puts(b, ",\"prev_kv\":true");
    } else {
        char *enc = etcd_b64(value, len);
        buf_printf(b, ",\"value\":\"%s\"", enc);
        free(enc);
        if (lease)
            buf_printf(b, ",\"lease\":\"%lld\"", (long long)lease);
    }
    /* the failure branch reads the key: its absence or presence tells NOT_FOUND/EXISTS from CONFLICT */
    buf_puts(b, "}}],\"failure\":[{\"request_range\":{");
    etcd_put_key(es, b, "key", key);
    buf_puts(b, "}}]}");
}

/* Runs a txn; on a failed compare tells NOT_FOUND, EXISTS and CONFLICT apart by the failure
 * branch's read of the key. */
static int run_txn(etcd_store_t *es, const char *body, int64_t cond, int64_t *rev_out, json_t **resp)
{
    json_t *r;
    atomic_fetch_add(&es->n_writes, 1);
    int rc = etcd_post(es, "/v3/kv/txn", body, &r);
    if (rc != STORE_OK)
        return rc;
    atomic_fetch_add(&es->n_txns, 1);
    int64_t rev = etcd_header_rev(es, r);
    if (json_is_true(json_object_get(r, "succeeded"))) {
        if (rev_out)
            *rev_out = rev;
        *resp = r;
        return STORE_OK;
    }
    json_t *rr = json_object_get(json_array_get(json_object_get(r, "responses"), 0), "response_range");
    bool exists = json_array_size(json_object_get(rr, "kvs")) > 0;
    rc = cond == ETCD_IF_ABSENT ? STORE_EXISTS : exists ? STORE_CONFLICT : STORE_NOT_FOUND;
    json_decref(r);
    return rc;
}

static int write_txn(etcd_store_t *es, const char *key, int64_t cond, etcd_txn_op_t op, const char *value,
                     size_t len, int64_t *rev_out, json_t **resp)
{
    buf_t b;
    buf_init(&b);
    etcd_txn_body(es, &b, key, cond, op, value, len, 0);
    int rc = run_txn(es, b.data, cond, rev_out, resp);
    buf_free(&b);
    return rc;
}

int etcd_create(store_t *s, const char *key, const char *value, size_t len, int64_t *rev_out)
{
    json_t *r = NULL;
    int rc = write_txn((etcd_store_t *)s, key, ETCD_IF_ABSENT, ETCD_TXN_PUT, value, len, rev_out, &r);
    json_decref(r);
    return rc;
}

int etcd_update(store_t *s, const char *key, const char *value, size_t len, int64_t if_mod_rev,
                int64_t *rev_out)
{
    json_t *r = NULL;
    int rc = write_txn((etcd_store_t *)s, key, if_mod_rev ? if_mod_rev : ETCD_IF_EXISTS, ETCD_TXN_PUT, value, len,
                       rev_out, &r);
    json_decref(r);
    return rc;
}

int etcd_delete(store_t *s, const char *key, int64_t if_mod_rev, int64_t *rev_out, store_kv_t *prev)
{
    etcd_store_t *es = (etcd_store_t *)s;
    json_t *r = NULL;
    int rc = write_txn(es, key, if_mod_rev ? if_mod_rev : ETCD_IF_EXISTS, ETCD_TXN_DELETE, NULL, 0, rev_out, &r);
    if (rc == STORE_OK && prev) {
        json_t *dr = json_object_get(json_array_get(json_object_get(r, "responses"), 0),
                                     "response_delete_range");
        json_t *kv = json_array_get(json_object_get(dr, "prev_kvs"), 0);
        if (!kv || etcd_decode_kv(es, kv, prev) != 0)
            log_error("storage/etcd: delete %s: no previous value in the answer", key);
    }
    json_decref(r);
    return rc;
}

int etcd_read_rev(etcd_store_t *es, int64_t *rev)
{
    json_t *r;
    /* a count-only read of the single key "\0": cheap, linearizable, and its header carries
     * the revision */
    int rc = etcd_post(es, "/v3/kv/range", "{\"key\":\"AA==\",\"count_only\":true}", &r);
    if (rc != STORE_OK)
        return rc;
    *rev = etcd_header_rev(es, r);
    json_decref(r);
    return STORE_OK;
}

int64_t etcd_current_rev(store_t *s)
{
    etcd_store_t *es = (etcd_store_t *)s;
    int64_t rev;
    return etcd_read_rev(es, &rev) == STORE_OK ? rev : atomic_load(&es->last_rev);
}

int64_t etcd_compacted_rev(store_t *s)
{
    return atomic_load(&((etcd_store_t *)s)->compact_rev);
}

int etcd_compact(store_t *s, int64_t rev)
{
    etcd_store_t *es = (etcd_store_t *)s;
    if (rev <= atomic_load(&es->compact_rev))
        return STORE_COMPACTED;
    char body[96];
    snprintf(body, sizeof(body), "{\"revision\":\"%lld\",\"physical\":true}", (long long)rev);
    json_t *r;
    int rc = etcd_post(es, "/v3/kv/compaction", body, &r);
    if (rc == STORE_COMPACTED)
        etcd_note_compacted(es, rev);   /* someone compacted at or past rev already */
    if (rc != STORE_OK)
        return rc;
    etcd_header_rev(es, r);
    etcd_note_compacted(es, rev);
    atomic_fetch_add(&es->n_compactions, 1);
    json_decref(r);
    return STORE_OK;
}

bool etcd_healthy(store_t *s)
{
    etcd_store_t *es = (etcd_store_t *)s;
    if (atomic_load(&es->sink_lost))
        return false;
    json_t *r;
    if (etcd_post(es, "/v3/maintenance/status", "{}", &r) != STORE_OK)
        return false;
    json_t *errs = json_object_get(r, "errors");
    bool ok = json_array_size(errs) == 0;
    etcd_header_rev(es, r);
    json_decref(r);
    return ok;
}
