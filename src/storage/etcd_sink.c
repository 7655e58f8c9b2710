/* storage/etcd: the live event feed. One thread keeps a /v3/watch stream open on
 * the whole keyspace from the revision current when the sink was installed,
 * passes every event under the store's prefix to the sink in revision order (with
 * prev_kv), and reports revisions that touched only other keys as PROGRESS, so the
 * cache's revision follows etcd's and a consistent read (wait for etcd's current
 * revision) never waits for a change that is not ours. It reconnects from the next
 * revision when the stream drops. If etcd has compacted past that revision the
 * events in between are lost: the sink gets RESET at the current revision (the
 * cache reloads and ends its watchers with 410) and the feed goes on from there.
 * Runs on a curl multi handle so close can wake it at once. Unlike the SQLite
 * backend, events reach the sink after the write returned: callers that must read
 * their own write wait with store_read_barrier + cache_wait_rev. */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "storage/etcd_int.h"

/* Passes one of our events to the sink, noting its revision. */
static void pass_event(void *ctx, const store_event_t *ev)
{
    etcd_store_t *es = ctx;
    es->sink_passed = ev->rev;
    atomic_store(&es->feed_rev, ev->rev);
    es->sink(es->sink_ctx, ev);
}

/* One watch response line. Returns false to drop the stream. */
static bool sink_response(etcd_store_t *es, const char *s, size_t n)
{
    bool go_on = true;
    json_t *j = json_loadb(s, n, 0, NULL);
    json_t *res = json_object_get(j, "result");
    if (!res) {
        log_error("storage/etcd: watch: unexpected answer: %.*s", (int)(n > 200 ? 200 : n), s);
        go_on = false;
        goto out;
    }
    if (json_is_true(json_object_get(res, "canceled"))) {
        int64_t crev = etcd_i64(res, "compact_revision");
        if (crev > 0) {
            etcd_note_compacted(es, crev);
            es->sink_reset = true;   /* sink_main reloads at the current revision */
            log_warn("storage/etcd: watch: revisions %lld..%lld were compacted before the cache "
                     "saw them; the cache reloads and its watchers end with 410",
                     (long long)es->sink_next, (long long)crev - 1);
        }
        go_on = false;
        goto out;
    }
    json_t *evs = json_object_get(res, "events");
    for (size_t i = 0; i < json_array_size(evs); i++) {
        int64_t rev = etcd_event(es, json_array_get(evs, i), "", 0, INT64_MAX, pass_event, es);
        if (rev < 0) {
            log_error("storage/etcd: watch: malformed event");
            go_on = false;
            goto out;
        }
        if (rev >= es->sink_next)
            es->sink_next = rev + 1;
    }
    /* revisions of keys outside our prefix passed no event: say that nothing else of ours
     * changed up to here (the cache ignores a PROGRESS it is already past) */
    if (es->sink_next - 1 > es->sink_passed) {
        es->sink_passed = es->sink_next - 1;
        atomic_store(&es->feed_rev, es->sink_passed);
        store_event_t p = {.type = STORE_EV_PROGRESS, .rev = es->sink_next - 1};
        es->sink(es->sink_ctx, &p);
    }
out:
    json_decref(j);
    return go_on;
}

static size_t sink_write(char *data, size_t sz, size_t nm, void *arg)
{
    etcd_store_t *es = arg;
    buf_t *l = &es->sink_line;
    buf_append(l, data, sz * nm);
    char *nl;
    while ((nl = memchr(l->data, '\n', l->len))) {
        size_t n = (size_t)(nl - l->data);
        bool ok = sink_response(es, l->data, n);
        memmove(l->data, nl + 1, l->len - n - 1);
        l->len -= n + 1;
        if (!ok)
            return 0;   /* makes curl end the transfer */
    }
    return atomic_load(&es->sink_stop) ? 0 : sz * nm;
}

/* After a compaction gap, or when etcd went back in time: the cache reloads as of etcd's
 * current revision and the feed goes on after it. -1 if etcd could not be reached (try
 * again). */
static int sink_reset(etcd_store_t *es)
{
    int64_t rev = 0;
    if (etcd_read_rev(es, &rev) != STORE_OK)
        return -1;
    if (atomic_exchange(&es->rewound, false)) {
        /* what we knew of the old history no longer holds */
        atomic_store(&es->last_rev, rev);
        atomic_store(&es->compact_rev, 0);
    }
    store_event_t r = {.type = STORE_EV_RESET, .rev = rev};
    es->sink(es->sink_ctx, &r);
    es->sink_next = rev + 1;
    es->sink_passed = rev;
    atomic_store(&es->feed_rev, rev);
    es->sink_reset = false;
    return 0;
}

static CURL *sink_handle(etcd_store_t *es, struct curl_slist *hdrs, char *url, size_t urlsz, buf_t *body)
{
    CURL *h = curl_easy_init();
    if (!h)
        return NULL;
    snprintf(url, urlsz, "%s/v3/watch", es->endpoints[atomic_load(&es->cur_ep) % es->n_endpoints]);
    buf_reset(body);
    /* the whole keyspace ("\0" to no end): every revision has an event, see the top */
    buf_printf(body, "{\"create_request\":{\"key\":\"AA==\",\"range_end\":\"AA==\",\"start_revision\":\"%lld\","
               "\"prev_kv\":true}}", (long long)es->sink_next);
    buf_reset(&es->sink_line);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body->data);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)es->timeout_ms);
    etcd_curl_tls(es, h);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, es);
    return h;
}

/* True when the open stream has been behind what etcd answers to requests (last_rev,
 * from any endpoint) for longer than a request may take: its member hangs or was cut off
 * from the cluster while the connection stays open. A healthy stream lags milliseconds.
 * Sink thread only. */
static bool sink_stalled(etcd_store_t *es)
{
    int64_t now = time_mono_ms();
    if (atomic_load(&es->last_rev) < es->sink_next) {
        es->sink_behind_since = 0;
        return false;
    }
    if (!es->sink_behind_since)
        es->sink_behind_since = now;
    int64_t grace = es->timeout_ms > 2000 ? es->timeout_ms : 2000;
    if (now - es->sink_behind_since < grace)
        return false;
    es->sink_behind_since = 0;
    return true;
}

static void *sink_main(void *arg)
{
    etcd_store_t *es = arg;
    CURLM *m = es->sink_multi;
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    buf_t body;
    buf_init(&body);
    char url[512];
    while (!atomic_load(&es->sink_stop)) {
        if (es->sink_reset && sink_reset(es) != 0) {
            curl_multi_poll(m, NULL, 0, 500, NULL);   /* etcd unreachable: retry soon */
            continue;
        }
        size_t ep = atomic_load(&es->cur_ep) % es->n_endpoints;
        CURL *h = sink_handle(es, hdrs, url, sizeof(url), &body);
        bool stalled = false;
        if (h) {
            curl_multi_add_handle(m, h);
            int running = 1;
            while (running && !atomic_load(&es->sink_stop) && !stalled && !atomic_load(&es->rewound)) {
                if (curl_multi_perform(m, &running) != CURLM_OK)
                    break;
                if (running)
                    curl_multi_poll(m, NULL, 0, 1000, NULL);
                stalled = sink_stalled(es);
            }
            curl_multi_remove_handle(m, h);
            curl_easy_cleanup(h);
        }
        if (atomic_load(&es->sink_stop))
            break;
        if (atomic_load(&es->rewound))
            es->sink_reset = true;
        if (es->sink_reset)
            continue;
        /* the stream dropped (etcd restarted, endpoint down) or went silent: reconnect from
         * the next revision, on the endpoint that answered requests last if that is another
         * one, else on the next one */
        log_warn("storage/etcd: watch %s %s; reconnecting from revision %lld", url,
                 stalled ? "is silent while etcd answers elsewhere" : "ended", (long long)es->sink_next);
        size_t cur = atomic_load(&es->cur_ep) % es->n_endpoints;
        if (cur == ep)
            atomic_store(&es->cur_ep, (cur + 1) % es->n_endpoints);
        curl_multi_poll(m, NULL, 0, 500, NULL);   /* woken early by close */
    }
    buf_free(&body);
    curl_slist_free_all(hdrs);
    return NULL;
}

void etcd_set_sink(store_t *s, store_sink_fn fn, void *ctx)
{
    etcd_store_t *es = (etcd_store_t *)s;
    if (!fn) {   /* uninstall: after this no sink call runs or will run */
        etcd_sink_stop(es);
        return;
    }
    if (es->sink_started) {
        log_error("storage/etcd: a sink is already installed; ignored");
        return;
    }
    es->sink = fn;
    es->sink_ctx = ctx;
    /* from the revision after the current one: cache_set_start reads the current revision
     * after installing the sink and skips what it already loaded */
    es->sink_next = etcd_current_rev(s) + 1;
    es->sink_passed = es->sink_next - 1;
    atomic_store(&es->feed_rev, es->sink_passed);
    atomic_store(&es->rewound, false);
    es->sink_reset = false;
    atomic_store(&es->sink_stop, false);
    buf_init(&es->sink_line);
    es->sink_multi = curl_multi_init();
    if (!es->sink_multi || pthread_create(&es->sink_thr, NULL, sink_main, es) != 0) {
        log_error("storage/etcd: cannot start the watch thread; the store reports unhealthy");
        atomic_store(&es->sink_lost, true);
        if (es->sink_multi)
            curl_multi_cleanup(es->sink_multi);
        es->sink_multi = NULL;
        buf_free(&es->sink_line);
        return;
    }
    es->sink_started = true;
}

void etcd_sink_stop(etcd_store_t *es)
{
    if (!es->sink_started)
        return;
    atomic_store(&es->sink_stop, true);
    curl_multi_wakeup(es->sink_multi);
    pthread_join(es->sink_thr, NULL);
    curl_multi_cleanup(es->sink_multi);
    buf_free(&es->sink_line);
    es->sink_started = false;
}
