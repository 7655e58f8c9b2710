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
    atomic_store(&es->feed_rev, ev->rev);
    es->sink(es->sink_ctx, ev);
}

/* One response's events, in revision order. false drops the stream. A fragment's last
 * revision may go on in the next response: no PROGRESS for it yet. (Only other clients'
 * multi-key txns are split: ours write one key per revision.) */
static bool sink_events(void *arg, json_t *evs, bool fragment)
{
    etcd_store_t *es = arg;
    for (size_t i = 0; i < json_array_size(evs); i++) {
        int64_t rev = etcd_event(es, json_array_get(evs, i), "", 0, INT64_MAX, pass_event, es);
        if (rev < 0) {
            log_error("storage/etcd: watch: malformed event");
            return false;
        }
        if (rev >= es->sink_next)
            es->sink_next = rev + 1;
    }
    /* revisions of keys outside our prefix passed no event: say that nothing else of ours
     * changed up to here (the cache ignores a PROGRESS it is already past) */
    if (!fragment && es->sink_next - 1 > atomic_load(&es->feed_rev)) {
        atomic_store(&es->feed_rev, es->sink_next - 1);
        store_event_t p = {.type = STORE_EV_PROGRESS, .rev = es->sink_next - 1};
        es->sink(es->sink_ctx, &p);
    }
    return !atomic_load(&es->sink_stop);
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
    atomic_store(&es->feed_rev, rev);
    es->sink_reset = false;
    return 0;
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
    etcd_watch_t w;
    etcd_watch_init(&w, es, sink_events, es);
    while (!atomic_load(&es->sink_stop)) {
        if (es->sink_reset && sink_reset(es) != 0) {
            curl_multi_poll(m, NULL, 0, 500, NULL);   /* etcd unreachable: retry soon */
            continue;
        }
        size_t ep = atomic_load(&es->cur_ep) % es->n_endpoints;
        CURL *h = etcd_watch_handle(&w, es->sink_next);
        bool stalled = false, mute = false;
        if (h) {
            curl_multi_add_handle(m, h);
            int running = 1;
            int64_t opened = time_mono_ms();
            while (running && !atomic_load(&es->sink_stop) && !stalled && !mute && !atomic_load(&es->rewound)) {
                if (curl_multi_perform(m, &running) != CURLM_OK)
                    break;
                if (running)
                    curl_multi_poll(m, NULL, 0, 1000, NULL);
                stalled = sink_stalled(es);
                /* etcd sends "created" at once: a peer that accepts and says nothing is hung */
                mute = !w.answered && time_mono_ms() - opened > es->timeout_ms;
            }
            curl_multi_remove_handle(m, h);
            curl_easy_cleanup(h);
        }
        if (atomic_load(&es->sink_stop))
            break;
        if (w.compacted > 0) {
            log_warn("storage/etcd: watch: revisions %lld..%lld were compacted before the cache "
                     "saw them; the cache reloads and its watchers end with 410",
                     (long long)es->sink_next, (long long)w.compacted - 1);
            es->sink_reset = true;
        }
        if (atomic_load(&es->rewound))
            es->sink_reset = true;
        if (es->sink_reset)
            continue;
        /* the stream dropped (etcd restarted, endpoint down) or went silent: reconnect from
         * the next revision, on the endpoint that answered requests last if that is another
         * one, else on the next one */
        log_warn("storage/etcd: watch %s %s; reconnecting from revision %lld", w.url,
                 w.overflow ? "sent a response over the limit" : stalled ? "is silent while etcd answers elsewhere"
                 : mute ? "did not answer within the request timeout" : "ended", (long long)es->sink_next);
        size_t cur = atomic_load(&es->cur_ep) % es->n_endpoints;
        if (cur == ep)
            atomic_store(&es->cur_ep, (cur + 1) % es->n_endpoints);
        curl_multi_poll(m, NULL, 0, 500, NULL);   /* woken early by close */
    }
    etcd_watch_free(&w);
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
    atomic_store(&es->feed_rev, es->sink_next - 1);
    atomic_store(&es->rewound, false);
    es->sink_reset = false;
    atomic_store(&es->sink_stop, false);
    es->sink_multi = curl_multi_init();
    if (!es->sink_multi || pthread_create(&es->sink_thr, NULL, sink_main, es) != 0) {
        log_error("storage/etcd: cannot start the watch thread; the store reports unhealthy");
        atomic_store(&es->sink_lost, true);
        if (es->sink_multi)
            curl_multi_cleanup(es->sink_multi);
        es->sink_multi = NULL;
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
    es->sink_started = false;
}
