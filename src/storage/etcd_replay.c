/* storage/etcd: replay of committed changes after a revision. etcd has no
 * history range, so this opens a /v3/watch stream from after_rev+1 with prev_kv
 * and reads it until the revision that was current when the replay began, then
 * hangs up. The watch covers the whole keyspace (filtered here by prefix): every
 * revision then has an event, so the stream is sure to reach the target even
 * when no change under prefix happened. */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "storage/etcd_int.h"

typedef struct rp {
    etcd_store_t *es;
    const char *prefix;     /* without es->prefix */
    size_t prefix_len;
    int64_t target;
    store_sink_fn fn;
    void *ctx;
    buf_t line;             /* partial line of the newline-delimited stream */
    int rc;                 /* STORE_OK while going on */
    bool done;
} rp_t;

int64_t etcd_event(etcd_store_t *es, json_t *ev, const char *prefix, size_t prefix_len,
                   int64_t max_rev, store_sink_fn fn, void *ctx)
{
    bool del = json_is_string(json_object_get(ev, "type")) &&
               strcmp(json_string_value(json_object_get(ev, "type")), "DELETE") == 0;
    json_t *jkv = json_object_get(ev, "kv"), *jprev = json_object_get(ev, "prev_kv");
    int64_t rev = etcd_i64(jkv, "mod_revision");
    const char *k = json_string_value(json_object_get(jkv, "key"));
    size_t klen = 0;
    char *key = k ? etcd_unb64(k, &klen) : NULL;
    if (!key)
        return -1;
    /* outside our key prefix or the wanted prefix: only counts for the revision */
    if (klen < es->prefix_len + prefix_len || memcmp(key, es->prefix, es->prefix_len) != 0 ||
        memcmp(key + es->prefix_len, prefix, prefix_len) != 0 || rev > max_rev) {
        free(key);
        return rev;
    }
    free(key);
    store_kv_t cur = {0}, prev = {0};
    bool has_prev = jprev != NULL;
    if (del) {
        /* a delete's kv carries only key and mod_revision; the rest comes from prev_kv */
        if (!has_prev || etcd_decode_kv(es, jprev, &prev) != 0)
            return -1;
        cur.key = xstrdup(prev.key);
    } else if (etcd_decode_kv(es, jkv, &cur) != 0 || (has_prev && etcd_decode_kv(es, jprev, &prev) != 0)) {
        store_kv_free(&cur);
        store_kv_free(&prev);
        return -1;
    }
    store_event_t e = {
        .type = del ? STORE_EV_DELETE : STORE_EV_PUT,
        .rev = rev,
        .key = cur.key,
        .value = del ? NULL : cur.value,
        .value_len = del ? 0 : cur.value_len,
        .create_rev = del ? prev.create_rev : cur.create_rev,
        .prev_value = has_prev ? prev.value : NULL,
        .prev_value_len = has_prev ? prev.value_len : 0,
        .prev_mod_rev = has_prev ? prev.mod_rev : 0,
    };
    fn(ctx, &e);
    store_kv_free(&cur);
    store_kv_free(&prev);
    return rev;
}

/* One watch response: {"result":{"header":..,"created"|"canceled"|"events":[..]}}. */
static void rp_response(rp_t *p, const char *s, size_t n)
{
    json_t *j = json_loadb(s, n, 0, NULL);
    json_t *res = json_object_get(j, "result");
    if (!res) {
        log_error("storage/etcd: replay: unexpected watch answer: %.*s", (int)(n > 200 ? 200 : n), s);
        p->rc = STORE_UNAVAILABLE;
        goto out;
    }
    if (json_is_true(json_object_get(res, "canceled"))) {
        int64_t crev = etcd_i64(res, "compact_revision");
        if (crev > 0) {
            etcd_note_compacted(p->es, crev);
            p->rc = STORE_COMPACTED;
        } else {
            p->rc = STORE_UNAVAILABLE;
        }
        goto out;
    }
    json_t *evs = json_object_get(res, "events");
    for (size_t i = 0; i < json_array_size(evs); i++) {
        int64_t rev = etcd_event(p->es, json_array_get(evs, i), p->prefix, p->prefix_len, p->target,
                                 p->fn, p->ctx);
        if (rev < 0) {
            p->rc = STORE_UNAVAILABLE;
            goto out;
        }
        if (rev >= p->target)
            p->done = true;
    }
out:
    json_decref(j);
}

static size_t rp_write(char *data, size_t sz, size_t nm, void *arg)
{
    rp_t *p = arg;
    buf_append(&p->line, data, sz * nm);
    char *nl;
    while (p->rc == STORE_OK && !p->done && (nl = memchr(p->line.data, '\n', p->line.len))) {
        size_t n = (size_t)(nl - p->line.data);
        rp_response(p, p->line.data, n);
        memmove(p->line.data, nl + 1, p->line.len - n - 1);
        p->line.len -= n + 1;
    }
    /* returning less than given makes curl stop: done, or an error to report */
    return p->rc == STORE_OK && !p->done ? sz * nm : 0;
}

int etcd_replay(store_t *s, const char *prefix, int64_t after_rev, store_sink_fn fn, void *ctx)
{
    etcd_store_t *es = (etcd_store_t *)s;
    if (after_rev < atomic_load(&es->compact_rev))
        return STORE_COMPACTED;
    int64_t target = etcd_current_rev(s);
    if (after_rev > target)
        return STORE_FUTURE_REV;
    if (!atomic_load(&es->healthy))
        return STORE_UNAVAILABLE;
    if (after_rev == target)
        return STORE_OK;
    rp_t p = { .es = es, .prefix = prefix, .prefix_len = strlen(prefix), .target = target,
               .fn = fn, .ctx = ctx, .rc = STORE_OK };
    buf_init(&p.line);
    char body[160];
    snprintf(body, sizeof(body),
             "{\"create_request\":{\"key\":\"AA==\",\"range_end\":\"AA==\",\"start_revision\":\"%lld\","
             "\"prev_kv\":true}}", (long long)after_rev + 1);
    char url[512];
    snprintf(url, sizeof(url), "%s/v3/watch", es->endpoints[atomic_load(&es->cur_ep)]);
    CURL *h = curl_easy_init();
    if (!h) {
        buf_free(&p.line);
        return STORE_UNAVAILABLE;
    }
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)es->timeout_ms);
    etcd_curl_tls(es, h);
    /* a stream: no total timeout, but give up when it goes quiet for the request timeout */
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)(es->timeout_ms + 999) / 1000);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, rp_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &p);
    CURLcode cc = curl_easy_perform(h);
    int ret = p.rc;
    if (ret == STORE_OK && !p.done) {
        log_error("storage/etcd: replay after %lld: watch ended early: %s", (long long)after_rev,
                  curl_easy_strerror(cc));
        ret = STORE_UNAVAILABLE;
    }
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    buf_free(&p.line);
    return ret;
}
