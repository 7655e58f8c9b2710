/* storage/etcd: replay of committed changes after a revision. etcd has no
 * history range, so this opens a /v3/watch stream from after_rev+1 (etcd_watch.c)
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
    bool malformed;
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

/* One response's events. false ends the stream: target reached, or a malformed event. */
static bool rp_events(void *arg, json_t *evs, bool fragment)
{
    (void)fragment;   /* the target's events are all in by the time it is reached */
    rp_t *p = arg;
    for (size_t i = 0; i < json_array_size(evs) && !p->done; i++) {
        int64_t rev = etcd_event(p->es, json_array_get(evs, i), p->prefix, p->prefix_len, p->target,
                                 p->fn, p->ctx);
        if (rev < 0) {
            p->malformed = true;
            return false;
        }
        if (rev >= p->target)
            p->done = true;
    }
    return !p->done;
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
               .fn = fn, .ctx = ctx };
    etcd_watch_t w;
    etcd_watch_init(&w, es, rp_events, &p);
    CURL *h = etcd_watch_handle(&w, after_rev + 1);
    if (!h) {
        etcd_watch_free(&w);
        return STORE_UNAVAILABLE;
    }
    /* a stream: no total timeout, but give up when it goes quiet for the request timeout */
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)(es->timeout_ms + 999) / 1000);
    CURLcode cc = curl_easy_perform(h);
    int ret = p.done ? STORE_OK : w.compacted > 0 ? STORE_COMPACTED : STORE_UNAVAILABLE;
    if (ret == STORE_UNAVAILABLE)
        log_error("storage/etcd: replay after %lld: watch ended early: %s", (long long)after_rev,
                  p.malformed ? "malformed event" : w.overflow ? "a response over the limit" : curl_easy_strerror(cc));
    curl_easy_cleanup(h);
    etcd_watch_free(&w);
    return ret;
}
