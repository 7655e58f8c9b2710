/* See import_controller.h. One queue serves two kinds of jobs: a stream key to look at,
 * and the continuation of an import (isi_run's write step, handed over through the call's
 * executor). Per stream the controller remembers whether an import is out, whether the
 * stream changed meanwhile, and its retry backoff. */
#include "controller/import_controller.h"
#include "controller/ic_decide.h"
#include "util/util.h"

#include <pthread.h>
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
} state_t;

struct import_controller {
    api_t *api;
    const api_kind_t *kind;
    import_controller_opts_t o;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job_t *head, *tail;
    state_t *states;
    cache_watcher_t *watch;
    bool rewatch;              /* the watch ended (fell behind): start it again */
    bool was_leading;
    bool stopping, done;
    int in_flight;
    pthread_t *workers;
    pthread_t timer;
};

typedef struct run {
    import_controller_t *ic;
    state_t *st;
    int planned_backoff;
    char *ns;
} run_t;

/* ---- queue (mu held) ---- */
static state_t *state_of(import_controller_t *ic, const char *key)
{
    for (state_t *s = ic->states; s; s = s->next)
        if (!strcmp(s->key, key))
            return s;
    state_t *s = xcalloc(1, sizeof *s);
    s->key = xstrdup(key);
    s->next = ic->states;
    ic->states = s;
    return s;
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

static void look_at(import_controller_t *ic, const char *key)
{
    const char *slash = strchr(key, '/');
    if (!slash || !leading(ic))
        return;
    char *ns = xstrndup(key, (size_t)(slash - key));
    api_call_t *c = api_call_new(ic->api, &ic_user, "image-import-controller");
    json_t *stream = api_obj_get(c, ic->kind, ns, slash + 1);
    if (!stream) {
        api_call_free(c);
        free(ns);
        return;
    }
    pthread_mutex_lock(&ic->mu);
    state_t *s = state_of(ic, key);
    uint64_t fp = ic_spec_fingerprint(stream);
    if (fp != s->fingerprint) { /* the user changed the spec: failures start over */
        s->fingerprint = fp;
        s->backoff_s = 0;
        s->retry_at = 0;
    }
    bool retry_due = s->retry_at && s->retry_at <= time(NULL);
    bool failures = has_failures(stream);
    if (failures && !s->retry_at && !retry_due) /* a failure we did not plan (a restart, a user's import) */
        s->retry_at = time(NULL) + (s->backoff_s ? s->backoff_s : ic->o.retry_min_s);
    int planned = s->backoff_s ? s->backoff_s * 2 : ic->o.retry_min_s;
    if (planned > ic->o.retry_max_s)
        planned = ic->o.retry_max_s;
    pthread_mutex_unlock(&ic->mu);

    json_t *req;
    if (retry_due && failures) {
        json_t *copy = json_deep_copy(stream);
        json_t *names = ic_failed_tags(stream);
        size_t n = json_array_size(names);
        const char **v = xcalloc(n ? n : 1, sizeof *v);
        for (size_t i = 0; i < n; i++)
            v[i] = json_string_value(json_array_get(names, i));
        ic_force_tags(copy, v, n);
        free(v);
        json_decref(names);
        req = ic_build_request(copy);
        json_decref(copy);
    } else {
        req = ic_build_request(stream);
    }
    json_decref(stream);
    if (!req) {
        api_call_free(c);
        free(ns);
        return;
    }
    char when[32], note[64];
    time_rfc3339(time(NULL) + planned, when);
    snprintf(note, sizeof note, "next attempt at %s", when);
    isi_opts_t opts = {.failure_note = note};
    run_t *r = xcalloc(1, sizeof *r);
    *r = (run_t){ic, NULL, planned, ns};
    pthread_mutex_lock(&ic->mu);
    r->st = state_of(ic, key);
    r->st->in_flight = true;
    r->st->retry_at = 0;
    ic->in_flight++;
    pthread_mutex_unlock(&ic->mu);
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

/* Once a second: due retries, a watch to restart, leadership gained. */
static void *timer(void *arg)
{
    import_controller_t *ic = arg;
    pthread_mutex_lock(&ic->mu);
    while (!ic->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&ic->cv, &ic->mu, &ts);
        if (ic->stopping)
            break;
        time_t now = time(NULL);
        for (state_t *s = ic->states; s; s = s->next)
            if (s->retry_at && s->retry_at <= now)
                enqueue_key(ic, s->key);
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
        free(s->key);
        free(s);
    }
    pthread_mutex_destroy(&ic->mu);
    pthread_cond_destroy(&ic->cv);
    free(ic);
}
