/* HTTP helpers for tests of the API served in-process (test_fixture.h): one request with
 * libcurl (code, body, JSON, Retry-After), and watches read on a thread of their own so that
 * a test can act while it watches (wait for n lines, then write, then wait again). */
#ifndef TEST_HTTP_H
#define TEST_HTTP_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <cmocka.h>
#include <curl/curl.h>

#include "test_fixture.h"
#include "api/api_internal.h"

#define BASE "/apis/image.openshift.io/v1"
#define NS BASE "/namespaces/ns"
#define ACCEPT_TABLE_HDR "application/json;as=Table;v=v1;g=meta.k8s.io"
#define ACCEPT_PARTIAL_HDR "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io"

static fx_t *F;

typedef struct resp {
    long code;
    buf_t body;
    json_t *json;
    char retry_after[16];
} resp_t;

static inline size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
    buf_append(arg, p, sz * n);
    return sz * n;
}

static inline size_t on_header(char *p, size_t sz, size_t n, void *arg)
{
    resp_t *r = arg;
    if (strncasecmp(p, "Retry-After:", 12) == 0)
        snprintf(r->retry_after, sizeof r->retry_after, "%.*s", (int)strcspn(p + 13, "\r\n"), p + 13);
    return sz * n;
}

/* One request; ctype NULL = application/json when there is a body. */
static inline resp_t req(const char *method, const char *path, const char *ctype, const char *body, const char *accept)
{
    resp_t r = {0};
    buf_init(&r.body);
    CURL *c = curl_easy_init();
    char url[2048];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", F->port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    struct curl_slist *h = NULL;
    char hdr[256];
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
        snprintf(hdr, sizeof hdr, "Content-Type: %s", ctype ? ctype : "application/json");
        h = curl_slist_append(h, hdr);
    }
    if (accept) {
        snprintf(hdr, sizeof hdr, "Accept: %s", accept);
        h = curl_slist_append(h, hdr);
    }
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        fail_msg("%s %s: %s", method, path, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.code);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    json_error_t jerr;
    r.json = r.body.len ? json_loadb(r.body.data, r.body.len, 0, &jerr) : NULL;
    return r;
}

static inline void resp_free(resp_t *r)
{
    json_decref(r->json);
    buf_free(&r->body);
}

/* A string at a dotted path ("" if absent), valid for a few calls. */
static inline const char *js(const json_t *o, const char *path)
{
    char *v = kind_field_value(o, path);
    static __thread char out[8][512];
    static __thread int i;
    i = (i + 1) % 8;
    snprintf(out[i], sizeof out[i], "%s", v);
    free(v);
    return out[i];
}

/* A request that must answer code; its JSON is returned (caller frees). */
static inline json_t *expect(int code, const char *method, const char *path, const char *ctype, const char *body)
{
    resp_t r = req(method, path, ctype, body, NULL);
    if (r.code != code)
        fail_msg("%s %s: %ld, want %d: %.*s", method, path, r.code, code, (int)r.body.len,
                 r.body.data ? r.body.data : "");
    json_t *j = json_incref(r.json);
    resp_free(&r);
    return j;
}

/* ---- watches on a thread ---- */

typedef struct watch {
    char url[2048];
    char accept[128];
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    buf_t buf;
    int lines;
    bool done;              /* the server ended the stream (or it failed) */
    bool stop;              /* asked to hang up */
    curl_socket_t fd;       /* the connection, to hang up at once */
    long code;
    double secs;            /* how long the stream lasted */
} watch_t;

static inline size_t watch_on_data(char *p, size_t sz, size_t n, void *arg)
{
    watch_t *w = arg;
    pthread_mutex_lock(&w->mu);
    for (size_t i = 0; i < sz * n; i++) {
        buf_putc(&w->buf, p[i]);
        if (p[i] == '\n')
            w->lines++;
    }
    bool stop = w->stop;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->mu);
    return stop ? 0 : sz * n;
}

static inline int watch_on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    (void)a, (void)b, (void)c, (void)d;
    watch_t *w = arg;
    pthread_mutex_lock(&w->mu);
    bool stop = w->stop;
    pthread_mutex_unlock(&w->mu);
    return stop ? 1 : 0;
}

static inline int watch_on_socket(void *arg, curl_socket_t fd, curlsocktype purpose)
{
    watch_t *w = arg;
    pthread_mutex_lock(&w->mu);
    w->fd = fd;
    pthread_mutex_unlock(&w->mu);
    return CURL_SOCKOPT_OK;
}

/* curl closes the socket: forget it first, so that a hang-up never hits a reused fd */
static inline int watch_on_close(void *arg, curl_socket_t fd)
{
    watch_t *w = arg;
    pthread_mutex_lock(&w->mu);
    if (w->fd == fd)
        w->fd = CURL_SOCKET_BAD;
    pthread_mutex_unlock(&w->mu);
    return close(fd);
}

static inline void *watch_main(void *arg)
{
    watch_t *w = arg;
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, w->url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, watch_on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, w);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, watch_on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, w);
    curl_easy_setopt(c, CURLOPT_SOCKOPTFUNCTION, watch_on_socket);
    curl_easy_setopt(c, CURLOPT_SOCKOPTDATA, w);
    curl_easy_setopt(c, CURLOPT_CLOSESOCKETFUNCTION, watch_on_close);
    curl_easy_setopt(c, CURLOPT_CLOSESOCKETDATA, w);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    struct curl_slist *h = NULL;
    if (*w->accept) {
        char hdr[160];
        snprintf(hdr, sizeof hdr, "Accept: %s", w->accept);
        h = curl_slist_append(h, hdr);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    curl_easy_perform(c);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    pthread_mutex_lock(&w->mu);
    w->code = code;
    w->secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    w->done = true;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static inline watch_t *watch_start(const char *path, const char *accept)
{
    watch_t *w = calloc(1, sizeof *w);
    snprintf(w->url, sizeof w->url, "http://127.0.0.1:%d%s", F->port, path);
    snprintf(w->accept, sizeof w->accept, "%s", accept ? accept : "");
    buf_init(&w->buf);
    w->fd = CURL_SOCKET_BAD;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cond, NULL);
    pthread_create(&w->thread, NULL, watch_main, w);
    return w;
}

/* Waits (at most 5 s) until the stream has n lines or has ended; the lines it has. */
static inline int watch_wait(watch_t *w, int n)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 5;
    pthread_mutex_lock(&w->mu);
    while (w->lines < n && !w->done)
        if (pthread_cond_timedwait(&w->cond, &w->mu, &ts) != 0)
            break;
    int got = w->lines;
    pthread_mutex_unlock(&w->mu);
    return got;
}

static inline json_t *parse_lines(buf_t *b)
{
    json_t *events = json_array();
    buf_putc(b, '\0');
    char *save = NULL;
    for (char *line = strtok_r(b->data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_error_t jerr;
        json_t *ev = json_loads(line, 0, &jerr);
        if (!ev)
            fail_msg("watch line is not JSON: %s", line);
        json_array_append_new(events, ev);
    }
    return events;
}

/* Hangs up unless wait_end (then waits for the server to end the stream), joins, and returns
 * every event read. *secs (if not NULL): how long the stream lasted. */
static inline json_t *watch_finish(watch_t *w, bool wait_end, double *secs)
{
    if (!wait_end) {
        pthread_mutex_lock(&w->mu);
        w->stop = true;
        if (w->fd != CURL_SOCKET_BAD)
            shutdown(w->fd, SHUT_RDWR);   /* curl sees the end now, not at its next progress call */
        pthread_mutex_unlock(&w->mu);
    }
    pthread_join(w->thread, NULL);
    if (w->code != 200)
        fail_msg("watch %s: HTTP %ld: %.*s", w->url, w->code, (int)w->buf.len, w->buf.data ? w->buf.data : "");
    if (secs)
        *secs = w->secs;
    json_t *events = parse_lines(&w->buf);
    buf_free(&w->buf);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cond);
    free(w);
    return events;
}

/* A watch the server ends by itself (timeoutSeconds, or an ERROR event). */
static inline json_t *watch_all(const char *path, const char *accept)
{
    return watch_finish(watch_start(path, accept), true, NULL);
}

/* "TYPE name,TYPE name" of the events. */
static inline const char *event_names(json_t *events)
{
    static __thread char got[4096];
    got[0] = '\0';
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev) {
        const char *name = js(ev, "object.metadata.name");
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s%s%s", i ? "," : "", js(ev, "type"),
                 *name ? " " : "", name);
    }
    return got;
}

static inline void expect_events(json_t *events, const char *want)
{
    const char *got = event_names(events);
    if (strcmp(got, want) != 0)
        fail_msg("events\n  [%s]\nwant\n  [%s]", got, want);
}

#endif
