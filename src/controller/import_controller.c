/* See import_controller.h. One queue serves two kinds of jobs: a stream key to look at,
 * and the continuation of an import (isi_run's write step, handed over through the call's
 * executor). Per stream the controller remembers whether an import is out, whether the
 * stream changed meanwhile, and its retry backoff. */
#include "controller/import_controller.h"
#include "controller/ic_decide.h"
#include "controller/ic_schedule.h"
#include "util/util.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define IC_USER "system:serviceaccount:openshift-infra:image-import-controller"

static const char *const ic_groups[] = {"system:serviceaccounts", "system:serviceaccounts:openshift-infra",
                                        "system:authenticated", NULL};
static const api_user_t ic_user = {.name = IC_USER, .uid = "", .groups = ic_groups};

typedef struct job {
    struct job *next;
    char *key;                 /* "ns/name", or NULL for a continuation */
    api_resume_fn fn;
    api_call_t *c;
    void *arg;
} job_t;

typedef struct state {
    struct state *next;
    char *key;
    bool queued, in_flight, dirty;
    int backoff_s;             /* current retry delay, 0 when the last import succeeded */
    time_t retry_at;           /* 0: none */
    uint64_t fingerprint;      /* of the spec: a change resets the backoff */
    bool sched_due;            /* the scheduler came round: re-check the scheduled tags */
    json_t *push_tags;         /* tags a registry push asked for (object name -> true), or NULL */
    json_t *refs;              /* the reference keys it is filed under in ic->refs (array) */
} state_t;

struct import_controller {
    api_t *api;
    const api_kind_t *kind;
    import_controller_opts_t o;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job_t *head, *tail;
    state_t *states;
    json_t *by_key;            /* "ns/name" -> state_t * (as an integer) */
    json_t *refs;              /* reference key -> {"ns/name": [tag, ...]} (push-triggered imports) */
    ic_schedule_t *sched;      /* NULL: scheduled imports are off */
    long step_ms;              /* interval / buckets: the scheduler advances this often */
    int64_t next_advance_ms;
    double tokens;             /* the global limit on scheduled imports */
    int64_t tokens_at_ms;
    cache_watcher_t *watch;
    bool rewatch;              /* the watch ended (fell behind): start it again */
    bool was_leading;
    bool stopping, done;
    int in_flight;
    uint64_t sched_skipped;    /* scheduled re-checks the global limit put off */
    pthread_t *workers;
    pthread_t timer;
};

typedef struct run {
    import_controller_t *ic;
    state_t *st;
    int planned_backoff;
    char *ns;
    bool scheduled;            /* a scheduled re-check (already moved behind by the scheduler) */
} run_t;

/* ---- queue (mu held) ---- */
static state_t *state_of(import_controller_t *ic, const char *key)
{
    json_t *p = json_object_get(ic->by_key, key);
    if (p)
        return (state_t *)(intptr_t)json_integer_value(p);
    state_t *s = xcalloc(1, sizeof *s);
    s->key = xstrdup(key);
    s->next = ic->states;
    ic->states = s;
    json_object_set_new(ic->by_key, key, json_integer((json_int_t)(intptr_t)s));
    return s;
}

/* ---- the reference index (mu held) ---- */
static void refs_drop(import_controller_t *ic, state_t *s)
{
    size_t i;
    json_t *k;
    json_array_foreach(s->refs, i, k) {
        json_t *streams = json_object_get(ic->refs, json_string_value(k));
        json_object_del(streams, s->key);
        if (streams && json_object_size(streams) == 0)
            json_object_del(ic->refs, json_string_value(k));
    }
    json_decref(s->refs);
    s->refs = NULL;
}

/* Files the stream under the references its importable tags follow. */
static void refs_update(import_controller_t *ic, state_t *s, const json_t *stream)
{
    refs_drop(ic, s);
    if (!stream)
        return;
    ic_ref_t *refs;
    size_t n = ic_stream_refs(stream, &refs);
    s->refs = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *streams = json_object_get(ic->refs, refs[i].key);
        if (!streams) {
            streams = json_object();
            json_object_set_new(ic->refs, refs[i].key, streams);
            json_array_append_new(s->refs, json_string(refs[i].key));
        } else if (!json_object_get(streams, s->key)) {
            json_array_append_new(s->refs, json_string(refs[i].key));
        }
        json_t *tags = json_object_get(streams, s->key);
        if (!tags) {
            tags = json_array();
            json_object_set_new(streams, s->key, tags);
        }
        json_array_append_new(tags, json_string(refs[i].tag));
    }
    ic_refs_free(refs, n);
}

static void push_job(import_controller_t *ic, job_t *j)
{
    if (ic->tail)
        ic->tail->next = j;
    else
        ic->head = j;
    ic->tail = j;
    pthread_cond_broadcast(&ic->cv); /* the timer waits on cv too */
}

static void enqueue_key(import_controller_t *ic, const char *key)
{
    state_t *s = state_of(ic, key);
    if (s->in_flight) {
        s->dirty = true;
        return;
    }
    if (s->queued)
        return;
    s->queued = true;
    job_t *j = xcalloc(1, sizeof *j);
    j->key = xstrdup(key);
    push_job(ic, j);
}

/* ---- the watch ---- */
static int on_event(void *arg, const cache_event_t *ev)
{
    import_controller_t *ic = arg;
    const char *key = ev->obj ? ev->obj->key : NULL;
    size_t np = strlen(ic->kind->prefix);
    if (!key || strncmp(key, ic->kind->prefix, np) != 0)
        return 0;
    pthread_mutex_lock(&ic->mu);
    if (!ic->stopping)
        enqueue_key(ic, key + np);
    pthread_mutex_unlock(&ic->mu);
    return 0;
}

static void on_closed(void *arg, int reason)
{
    import_controller_t *ic = arg;
    pthread_mutex_lock(&ic->mu);
    if (!ic->stopping && reason != 0)
        ic->rewatch = true; /* fell behind: a new watch lists everything again */
    pthread_mutex_unlock(&ic->mu);
}

static const cache_watch_ops_t watch_ops = {.deliver = on_event, .closed = on_closed};

/* Starts (or restarts) the watch from the current state: every stream is queued once. */
static void start_watch(import_controller_t *ic)
{
    if (ic->watch) {
        cache_watch_cancel(ic->watch);
        cache_watch_release(ic->watch);
    }
    int err = 0;
    ic->watch = cache_watch(ic->kind->cache, NULL, 0, &watch_ops, ic, &err);
    if (!ic->watch)
        log_warn("import controller: cannot watch image streams (%d); retrying", err);
}

/* ---- an import ---- */
static void executor(void *ctx, api_call_t *c, api_resume_fn fn, void *arg)
{
    import_controller_t *ic = ctx;
    job_t *j = xcalloc(1, sizeof *j);
    j->fn = fn;
    j->c = c;
    j->arg = arg;
    pthread_mutex_lock(&ic->mu);
    push_job(ic, j);
    pthread_mutex_unlock(&ic->mu);
}

static bool has_failures(const json_t *stream)
{
    json_t *f = ic_failed_tags(stream);
    bool any = json_array_size(f) > 0;
    json_decref(f);
    return any;
}

static void import_done(api_call_t *c, json_t *result, void *arg)
{
    run_t *r = arg;
    import_controller_t *ic = r->ic;
    const json_t *stream = json_object_get(json_object_get(result, "status"), "import");
    bool failed = !result || (stream && has_failures(stream));
    if (!result)
        log_warn("import controller: %s: %s", r->st->key, api_call_err(c)->message ? api_call_err(c)->message : "failed");
    pthread_mutex_lock(&ic->mu);
    state_t *s = r->st;
    s->in_flight = false;
    ic->in_flight--;
    if (failed) {
        s->backoff_s = r->planned_backoff;
        s->retry_at = time(NULL) + s->backoff_s;
    } else {
        s->backoff_s = 0;
        s->retry_at = 0;
        if (ic->sched && !r->scheduled)
            ic_schedule_delay(ic->sched, s->key); /* just imported: to the back of the schedule */
    }
    if (s->dirty && !ic->stopping) {
        s->dirty = false;
        enqueue_key(ic, s->key);
    }
    pthread_cond_broadcast(&ic->cv);
    pthread_mutex_unlock(&ic->mu);
    json_decref(result);
    api_call_free(c);
    free(r->ns);
    free(r);
}

static bool leading(import_controller_t *ic)
{
    return !ic->o.leader || store_election_leading(ic->o.leader);
}

/* Appends the strings of names (an array, or an object's keys) to v. */
static void add_names(json_t *v, const json_t *names)
{
    size_t i;
    const json_t *x;
    const char *k;
    if (json_is_array(names))
        json_array_foreach(names, i, x) json_array_append(v, (json_t *)x);
    else if (json_is_object(names))
        json_object_foreach((json_t *)names, k, x) json_array_append_new(v, json_string(k));
}

/* The request for stream with the named tags forced to import (ic_force_tags). */
static json_t *request_forcing(const json_t *stream, const json_t *names)
{
    if (!json_array_size(names))
        return ic_build_request(stream);
    json_t *copy = json_deep_copy(stream);
    size_t n = json_array_size(names);
    const char **v = xcalloc(n, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = json_string_value(json_array_get(names, i));
    ic_force_tags(copy, v, n);
    free(v);
    json_t *req = ic_build_request(copy);
    json_decref(copy);
    return req;
}

static void look_at(import_controller_t *ic, const char *key)
{
    const char *slash = strchr(key, '/');
    if (!slash)
        return;
    char *ns = xstrndup(key, (size_t)(slash - key));
    api_call_t *c = api_call_new(ic->api, &ic_user, "image-import-controller");
    json_t *stream = api_obj_get(c, ic->kind, ns, slash + 1);
    bool lead = leading(ic);
    pthread_mutex_lock(&ic->mu);
    state_t *s = state_of(ic, key);
    refs_update(ic, s, stream); /* every replica: a push may reach any of them */
    json_t *pushed = s->push_tags;
    bool has_push = pushed != NULL;
    s->push_tags = NULL;
    if (ic->sched && lead) {
        json_t *sched_tags = stream ? ic_scheduled_tags(stream) : NULL;
        if (!json_array_size(sched_tags))
            ic_schedule_remove(ic->sched, key);
        else if (!ic_schedule_has(ic->sched, key))
            ic_schedule_add(ic->sched, key);
        json_decref(sched_tags);
    }
    /* not leading: only what a push asked for (a request-driven import, like a user's) */
    if (!stream || (!lead && !pushed)) {
        s->sched_due = false;
        pthread_mutex_unlock(&ic->mu);
        json_decref(pushed);
        json_decref(stream);
        api_call_free(c);
        free(ns);
        return;
    }
    uint64_t fp = ic_spec_fingerprint(stream);
    if (fp != s->fingerprint) { /* the user changed the spec: failures start over */
        s->fingerprint = fp;
        s->backoff_s = 0;
        s->retry_at = 0;
    }
    bool retry_due = lead && s->retry_at && s->retry_at <= time(NULL);
    bool failures = has_failures(stream);
    if (lead && failures && !s->retry_at) /* a failure we did not plan (a restart, a user's import) */
        s->retry_at = time(NULL) + (s->backoff_s ? s->backoff_s : ic->o.retry_min_s);
    int planned = s->backoff_s ? s->backoff_s * 2 : ic->o.retry_min_s;
    if (planned > ic->o.retry_max_s)
        planned = ic->o.retry_max_s;
    bool sched_due = lead && s->sched_due;
    s->sched_due = false;
    pthread_mutex_unlock(&ic->mu);

    json_t *names = json_array();
    if (retry_due && failures) {
        json_t *failed = ic_failed_tags(stream);
        add_names(names, failed);
        json_decref(failed);
    }
    /* a scheduled re-check alone may take another stream's recent answer for the same tag */
    bool only_scheduled = sched_due && !json_array_size(names) && !has_push && ic_needs_import(stream) == IC_IMPORT_NONE;
    if (sched_due) {
        json_t *st = ic_scheduled_tags(stream);
        add_names(names, st);
        json_decref(st);
    }
    add_names(names, pushed);
    json_decref(pushed);
    json_t *req = request_forcing(stream, names);
    json_decref(names);
    json_decref(stream);
    if (!req) {
        api_call_free(c);
        free(ns);
        return;
    }
    char when[32], note[64];
    time_rfc3339(time(NULL) + planned, when);
    snprintf(note, sizeof note, "next attempt at %s", when);
    isi_opts_t opts = {.failure_note = note, .max_age_ms = only_scheduled ? ic->o.schedule_interval_ms : 0};
    run_t *r = xcalloc(1, sizeof *r);
    *r = (run_t){ic, NULL, planned, ns, sched_due};
    pthread_mutex_lock(&ic->mu);
    r->st = state_of(ic, key);
    r->st->in_flight = true;
    r->st->retry_at = 0;
    ic->in_flight++;
    pthread_mutex_unlock(&ic->mu);
    log_debug("import controller: importing %s (%s)", key,
              has_push ? "registry push" : retry_due && failures ? "retry" : only_scheduled ? "scheduled" : "spec");
    api_call_set_executor(c, executor, ic);
    ic->o.import(c, ns, req, &opts, import_done, r);
    json_decref(req);
}

/* ---- threads ---- */
static void *worker(void *arg)
{
    import_controller_t *ic = arg;
    pthread_mutex_lock(&ic->mu);
    for (;;) {
        while (!ic->head && !(ic->done && ic->in_flight == 0))
            pthread_cond_wait(&ic->cv, &ic->mu);
        if (!ic->head)
            break;
        job_t *j = ic->head;
        ic->head = j->next;
        if (!ic->head)
            ic->tail = NULL;
        if (j->key)
            state_of(ic, j->key)->queued = false;
        bool skip = j->key && ic->stopping;
        pthread_mutex_unlock(&ic->mu);
        if (j->key) {
            if (!skip)
                look_at(ic, j->key);
            free(j->key);
        } else {
            j->fn(j->c, j->arg);
        }
        free(j);
        pthread_mutex_lock(&ic->mu);
    }
    pthread_cond_broadcast(&ic->cv);
    pthread_mutex_unlock(&ic->mu);
    return NULL;
}

/* The scheduler's turn (mu held): when an advance is due, every stream of the current
 * bucket is marked for its scheduled re-check, as far as the global limit allows (a stream
 * over the limit waits for the next round, §6.2), and the scheduler moves on. */
static void schedule_tick(import_controller_t *ic, int64_t now)
{
    if (!ic->sched || now < ic->next_advance_ms || !leading(ic))
        return;
    double per_ms = ic->o.max_scheduled_per_minute / 60000.0, burst = 2.0 * ic->o.max_scheduled_per_minute;
    ic->tokens += (double)(now - ic->tokens_at_ms) * per_ms;
    if (ic->tokens > burst)
        ic->tokens = burst;
    ic->tokens_at_ms = now;
    char *k;
    while ((k = ic_schedule_next(ic->sched))) {
        if (ic->tokens >= 1) {
            ic->tokens -= 1;
            state_of(ic, k)->sched_due = true;
            enqueue_key(ic, k);
        } else {
            ic->sched_skipped++;
        }
        free(k);
    }
    ic->next_advance_ms = now + ic->step_ms;
}

/* Due retries and scheduled re-checks, a watch to restart, leadership gained: at least once
 * a second, and when the scheduler's next advance is due. */
static void *timer(void *arg)
{
    import_controller_t *ic = arg;
    pthread_mutex_lock(&ic->mu);
    while (!ic->stopping) {
        int64_t wait = 1000;
        if (ic->sched) {
            int64_t until = ic->next_advance_ms - time_mono_ms();
            if (until < wait)
                wait = until < 10 ? 10 : until;
        }
        struct timespec ts = time_deadline(wait);
        pthread_cond_timedwait(&ic->cv, &ic->mu, &ts);
        if (ic->stopping)
            break;
        time_t now = time(NULL);
        for (state_t *s = ic->states; s; s = s->next)
            if (s->retry_at && s->retry_at <= now)
                enqueue_key(ic, s->key);
        schedule_tick(ic, time_mono_ms());
        bool lead = leading(ic);
        bool again = ic->rewatch || !ic->watch || (lead && !ic->was_leading);
        ic->was_leading = lead;
        ic->rewatch = false;
        if (again) {
            pthread_mutex_unlock(&ic->mu);
            start_watch(ic);
            pthread_mutex_lock(&ic->mu);
        }
    }
    pthread_mutex_unlock(&ic->mu);
    return NULL;
}

/* ---- push-triggered imports ---- */
size_t import_controller_push(import_controller_t *ic, const char *host, const char *repository, const char *tag)
{
    char *key = ic_ref_key_parts(host, repository, tag);
    if (!ic || !key) {
        free(key);
        return 0;
    }
    size_t n = 0;
    pthread_mutex_lock(&ic->mu);
    json_t *streams = json_object_get(ic->refs, key);
    const char *sk;
    json_t *tags;
    json_object_foreach(streams, sk, tags) {
        state_t *s = state_of(ic, sk);
        if (!s->push_tags)
            s->push_tags = json_object();
        size_t i;
        json_t *t;
        json_array_foreach(tags, i, t) json_object_set_new(s->push_tags, json_string_value(t), json_true());
        if (!ic->stopping)
            enqueue_key(ic, sk);
        n++;
    }
    pthread_mutex_unlock(&ic->mu);
    free(key);
    return n;
}

import_controller_t *import_controller_start(api_t *api, const import_controller_opts_t *o)
{
    const api_kind_t *k = api_kind_find(api, "imagestreams");
    if (!k || !k->cache) {
        log_error("import controller: no image stream cache");
        return NULL;
    }
    import_controller_t *ic = xcalloc(1, sizeof *ic);
    ic->api = api;
    ic->kind = k;
    ic->o = *o;
    if (ic->o.workers <= 0)
        ic->o.workers = 2;
    if (ic->o.retry_min_s <= 0)
        ic->o.retry_min_s = 10;
    if (ic->o.retry_max_s <= 0)
        ic->o.retry_max_s = 900;
    if (!ic->o.import)
        ic->o.import = isi_run;
    if (ic->o.max_scheduled_per_minute <= 0)
        ic->o.max_scheduled_per_minute = 60;
    ic->by_key = json_object();
    ic->refs = json_object();
    if (ic->o.schedule_interval_ms > 0) {
        int b = ic_schedule_buckets_for(ic->o.schedule_interval_ms);
        ic->sched = ic_schedule_new(b);
        ic->step_ms = ic->o.schedule_interval_ms / b;
        if (ic->step_ms < 1)
            ic->step_ms = 1;
        ic->tokens = 2.0 * ic->o.max_scheduled_per_minute;
        ic->tokens_at_ms = ic->next_advance_ms = time_mono_ms();
    }
    pthread_mutex_init(&ic->mu, NULL);
    pthread_cond_init(&ic->cv, NULL);
    ic->was_leading = leading(ic);
    start_watch(ic);
    ic->workers = xcalloc((size_t)ic->o.workers, sizeof *ic->workers);
    for (int i = 0; i < ic->o.workers; i++)
        pthread_create(&ic->workers[i], NULL, worker, ic);
    pthread_create(&ic->timer, NULL, timer, ic);
    return ic;
}

void import_controller_stop(import_controller_t *ic)
{
    if (!ic)
        return;
    pthread_mutex_lock(&ic->mu);
    ic->stopping = true;
    pthread_cond_broadcast(&ic->cv);
    pthread_mutex_unlock(&ic->mu);
    pthread_join(ic->timer, NULL);
    if (ic->watch) {
        cache_watch_cancel(ic->watch);
        cache_watch_release(ic->watch);
        ic->watch = NULL;
    }
}

void import_controller_free(import_controller_t *ic)
{
    if (!ic)
        return;
    pthread_mutex_lock(&ic->mu);
    ic->done = true; /* workers leave once the imports still out have finished */
    pthread_cond_broadcast(&ic->cv);
    pthread_mutex_unlock(&ic->mu);
    for (int i = 0; i < ic->o.workers; i++)
        pthread_join(ic->workers[i], NULL);
    free(ic->workers);
    while (ic->head) {
        job_t *j = ic->head;
        ic->head = j->next;
        free(j->key);
        free(j);
    }
    while (ic->states) {
        state_t *s = ic->states;
        ic->states = s->next;
        json_decref(s->push_tags);
        json_decref(s->refs);
        free(s->key);
        free(s);
    }
    json_decref(ic->by_key);
    json_decref(ic->refs);
    ic_schedule_free(ic->sched);
    pthread_mutex_destroy(&ic->mu);
    pthread_cond_destroy(&ic->cv);
    free(ic);
}
