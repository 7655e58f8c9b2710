/* storage/etcd: one /v3/watch stream on the whole keyspace ("\0" to no end, with
 * prev_kv), shared by the live feed (etcd_sink.c) and replay (etcd_replay.c).
 * Watching everything gives every revision an event, so a reader always learns how
 * far etcd is, whatever keys changed. The gateway streams one JSON response per
 * line; this splits and parses them, notes a cancellation (and its compaction
 * revision), and hands each batch of events to the owner. It asks etcd to fragment
 * (a catch-up batch of up to 1000 revisions would otherwise come as one line), so
 * every line fits ETCD_MAX_WATCH_LINE; a longer one drops the stream (overflow). */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "storage/etcd_int.h"

void etcd_watch_init(etcd_watch_t *w, etcd_store_t *es, bool (*on_events)(void *arg, json_t *events, bool fragment),
                     void *arg)
{
    memset(w, 0, sizeof *w);
    w->es = es;
    w->on_events = on_events;
    w->arg = arg;
    buf_init_max(&w->line, ETCD_MAX_WATCH_LINE);
    w->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
}

void etcd_watch_free(etcd_watch_t *w)
{
    buf_free(&w->line);
    curl_slist_free_all(w->hdrs);
    w->hdrs = NULL;
}

/* One response: {"result":{"header":..,"created"|"canceled"|"events":[..]}}. false: stop. */
static bool watch_response(etcd_watch_t *w, const char *s, size_t n)
{
    json_t *j = json_loadb(s, n, 0, NULL);
    json_t *res = json_object_get(j, "result");
    bool go_on = false;
    if (!res) {
        log_error("storage/etcd: watch: unexpected answer: %.*s", (int)(n > 200 ? 200 : n), s);
        w->failed = true;
    } else if (json_is_true(json_object_get(res, "canceled"))) {
        w->compacted = etcd_i64(res, "compact_revision");
        if (w->compacted > 0)
            etcd_note_compacted(w->es, w->compacted);
        else
            w->failed = true;
    } else {
        w->answered = true;
        go_on = w->on_events(w->arg, json_object_get(res, "events"),
                             json_is_true(json_object_get(res, "fragment")));
    }
    json_decref(j);
    return go_on;
}

/* Splits the stream into lines as it comes, each line bounded by the buffer's maximum. */
static size_t watch_write(char *data, size_t sz, size_t nm, void *arg)
{
    etcd_watch_t *w = arg;
    buf_t *l = &w->line;
    size_t total = sz * nm, left = total;
    while (left > 0) {
        char *nl = memchr(data, '\n', left);
        size_t take = nl ? (size_t)(nl - data) : left;
        if (buf_append(l, data, take) != 0) {
            log_error("storage/etcd: %s: a watch response passed the limit of %zu MiB; dropping the stream",
                      w->url, ETCD_MAX_WATCH_LINE >> 20);
            w->overflow = true;
            return 0;   /* a short count makes curl end the transfer */
        }
        if (!nl)
            break;
        bool ok = watch_response(w, l->data, l->len);
        buf_reset(l);
        data = nl + 1;
        left -= take + 1;
        if (!ok)
            return 0;
    }
    return total;
}

void *etcd_watch_handle(etcd_watch_t *w, int64_t from_rev)
{
    etcd_store_t *es = w->es;
    CURL *h = curl_easy_init();
    if (!h)
        return NULL;
    snprintf(w->url, sizeof w->url, "%s/v3/watch", es->endpoints[atomic_load(&es->cur_ep) % es->n_endpoints]);
    snprintf(w->body, sizeof w->body,
             "{\"create_request\":{\"key\":\"AA==\",\"range_end\":\"AA==\",\"start_revision\":\"%lld\","
             "\"prev_kv\":true,\"fragment\":true}}", (long long)from_rev);
    buf_reset(&w->line);
    w->failed = w->overflow = w->answered = false;
    w->compacted = 0;
    curl_easy_setopt(h, CURLOPT_URL, w->url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, w->hdrs);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, w->body);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)es->timeout_ms);
    /* a stream has no total timeout: keepalive probes find a peer that vanished (host down,
     * link cut) on an otherwise quiet stream */
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 10L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 5L);
    etcd_curl_tls(es, h);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, watch_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, w);
    return h;
}
