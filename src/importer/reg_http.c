/* See reg_http.h. One thread owns the multi handle; submitters only touch the job lists
 * under the mutex and wake the thread with curl_multi_wakeup. */
#include "importer/reg_http.h"
#include "util/util.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HDR_MAX 8192
#define MAX_REDIRS 5L
enum { H_CT, H_DIGEST, H_AUTH, H_LINK, H_LOCATION, H_RETRY_AFTER, H_N };

typedef struct waiter {
    reg_http_done_fn cb;
    void *ctx;
    struct waiter *next;
} waiter_t;

typedef struct job {
    struct job *next;
    reg_http_req_t req; /* strings below are owned copies */
    char *key;          /* method, url, accept, authorization: identical requests share a job */
    waiter_t *waiters;
    int attempts;
    int64_t due_ms;
    CURL *easy;
    struct curl_slist *hdrs;
    buf_t body;
    buf_t hdr[H_N];
    bool too_large;
    char errbuf[CURL_ERROR_SIZE];
} job_t;

typedef struct posted {
    struct posted *next;
    void (*fn)(void *ctx);
    void *ctx;
} posted_t;

struct reg_http {
    reg_http_opts_t o;
    posted_t *posted; /* reg_http_post calls to run, newest first */
    pthread_t th;
    pthread_mutex_t mu;
    CURLM *multi;
    job_t *incoming, *delayed, *active;
    bool stop;
    uint64_t transfers;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static void job_free(job_t *j)
{
    if (j->easy)
        curl_easy_cleanup(j->easy);
    curl_slist_free_all(j->hdrs);
    buf_free(&j->body);
    for (int i = 0; i < H_N; i++)
        buf_free(&j->hdr[i]);
    free((char *)j->req.method);
    free((char *)j->req.url);
    free((char *)j->req.accept);
    free((char *)j->req.authorization);
    free(j->key);
    while (j->waiters) {
        waiter_t *w = j->waiters;
        j->waiters = w->next;
        free(w);
    }
    free(j);
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    job_t *j = ud;
    size_t len = sz * n;
    if (j->body.len + len > j->req.max_body) {
        j->too_large = true;
        return 0; /* aborts the transfer: an untrusted peer never makes us buffer more */
    }
    buf_append(&j->body, p, len);
    return len;
}

static void hdr_set(buf_t *b, const char *v, size_t n, bool join)
{
    if (join && b->len)
        buf_puts(b, ", "); /* repeated WWW-Authenticate headers: one comma-separated list */
    else
        buf_reset(b);
    buf_append(b, v, n); /* bounded by the buffer's max; overflow keeps what fit */
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    job_t *j = ud;
    size_t len = sz * n;
    if (len >= 5 && !memcmp(p, "HTTP/", 5)) { /* a new response (after a redirect): forget the last */
        for (int i = 0; i < H_N; i++)
            buf_reset(&j->hdr[i]);
        return len;
    }
    const char *colon = memchr(p, ':', len);
    if (!colon)
        return len;
    size_t nl = (size_t)(colon - p);
    const char *v = colon + 1;
    size_t vl = len - nl - 1;
    while (vl && (*v == ' ' || *v == '\t'))
        v++, vl--;
    while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
        vl--;
    static const char *names[H_N] = {"content-type", "docker-content-digest", "www-authenticate", "link", "location",
                                     "retry-after"};
    for (int i = 0; i < H_N; i++)
        if (strlen(names[i]) == nl && !strncasecmp(p, names[i], nl))
            hdr_set(&j->hdr[i], v, vl, i == H_AUTH || i == H_LINK);
    return len;
}

static const char *hdr_str(job_t *j, int i)
{
    return j->hdr[i].len ? j->hdr[i].data : "";
}

/* Prepares the easy handle for one attempt. */
static void job_setup(reg_http_t *h, job_t *j)
{
    if (j->easy)
        curl_easy_cleanup(j->easy);
    buf_reset(&j->body);
    for (int i = 0; i < H_N; i++)
        buf_reset(&j->hdr[i]);
    j->too_large = false;
    j->errbuf[0] = 0;
    CURL *e = j->easy = curl_easy_init();
    if (!e)
        abort();
    curl_easy_setopt(e, CURLOPT_URL, j->req.url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, j);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, j->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, j);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, j->hdrs);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "image-apiserver/" IAS_VERSION);
    if (!strcmp(j->req.method, "HEAD"))
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, j->req.connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, j->req.timeout_ms);
    const char *protos = j->req.insecure ? "http,https" : "https";
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, protos);
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, protos);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, j->req.follow_redirects ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, MAX_REDIRS);
    /* credentials never travel to another host on a redirect (blob storage is elsewhere) */
    curl_easy_setopt(e, CURLOPT_UNRESTRICTED_AUTH, 0L);
    if (h->o.ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, h->o.ca_file);
    if (j->req.insecure) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    /* CURLOPT_PROXY is left unset: libcurl reads HTTPS_PROXY/NO_PROXY from the environment */
    h->transfers++;
}

/* Delay before the next attempt, or -1 if the outcome is final. */
static int64_t retry_delay(reg_http_t *h, job_t *j, CURLcode rc, long status)
{
    if (j->attempts >= j->req.max_attempts || j->too_large)
        return -1;
    if (rc != CURLE_OK) {
        /* refused, reset, DNS hiccup: transient; timeouts and TLS failures are not retried
         * (a slow registry would multiply the wait, a bad certificate stays bad) */
        if (rc != CURLE_COULDNT_CONNECT && rc != CURLE_RECV_ERROR && rc != CURLE_SEND_ERROR &&
            rc != CURLE_GOT_NOTHING && rc != CURLE_PARTIAL_FILE && rc != CURLE_COULDNT_RESOLVE_HOST)
            return -1;
    } else if (status != 429 && status != 502 && status != 503 && status != 504) {
        return -1;
    }
    int64_t backoff = (int64_t)h->o.retry_base_ms << (j->attempts - 1 < 10 ? j->attempts - 1 : 10);
    const char *ra = hdr_str(j, H_RETRY_AFTER);
    if (rc == CURLE_OK && *ra) {
        int64_t s = -1;
        char *end;
        long v = strtol(ra, &end, 10);
        if (end != ra && !*end && v >= 0)
            s = v;
        else {
            time_t t = curl_getdate(ra, NULL);
            if (t != -1)
                s = (int64_t)(t - time(NULL));
            if (s < 0 && t != -1)
                s = 0;
        }
        if (s >= 0) {
            if (s > h->o.retry_after_max_s)
                s = h->o.retry_after_max_s;
            return s * 1000;
        }
    }
    return backoff;
}

static void job_unlink(job_t **list, job_t *j)
{
    for (job_t **p = list; *p; p = &(*p)->next)
        if (*p == j) {
            *p = j->next;
            j->next = NULL;
            return;
        }
}

static void deliver(job_t *j, const reg_http_resp_t *r)
{
    for (waiter_t *w = j->waiters; w; w = w->next)
        w->cb(w->ctx, r);
}

static void job_done(reg_http_t *h, job_t *j, CURLcode rc)
{
    long status = 0;
    curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(h->multi, j->easy);
    int64_t delay = retry_delay(h, j, rc, status);
    pthread_mutex_lock(&h->mu);
    if (delay >= 0 && !h->stop) {
        job_unlink(&h->active, j);
        j->due_ms = time_mono_ms() + delay;
        j->next = h->delayed; /* stays findable: a new identical request joins the retry */
        h->delayed = j;
        pthread_mutex_unlock(&h->mu);
        return;
    }
    job_unlink(&h->active, j); /* from now on identical requests start a new transfer */
    pthread_mutex_unlock(&h->mu);
    reg_http_resp_t r = {
        .status = rc == CURLE_OK ? (int)status : 0,
        .too_large = j->too_large,
        .body = strcmp(j->req.method, "HEAD") ? (j->body.len ? j->body.data : "") : NULL,
        .body_len = j->body.len,
        .content_type = hdr_str(j, H_CT),
        .docker_digest = hdr_str(j, H_DIGEST),
        .www_authenticate = hdr_str(j, H_AUTH),
        .link = hdr_str(j, H_LINK),
        .location = hdr_str(j, H_LOCATION),
        .attempts = j->attempts,
    };
    char msg[CURL_ERROR_SIZE + 64];
    if (j->too_large) {
        snprintf(msg, sizeof msg, "response body larger than %zu bytes", j->req.max_body);
        r.error = msg;
        r.status = (int)status;
    } else if (rc == CURLE_UNSUPPORTED_PROTOCOL && !j->req.insecure) {
        snprintf(msg, sizeof msg, "plain HTTP refused: the registry is not marked insecure");
        r.error = msg;
    } else if (rc != CURLE_OK) {
        snprintf(msg, sizeof msg, "%s%s%s", curl_easy_strerror(rc), j->errbuf[0] ? ": " : "", j->errbuf);
        r.error = msg;
    }
    deliver(j, &r);
    job_free(j);
}

static void start(reg_http_t *h, job_t *j)
{
    j->attempts++;
    job_setup(h, j);
    j->next = h->active;
    h->active = j;
    curl_multi_add_handle(h->multi, j->easy);
}

static void fail_all(job_t *list)
{
    reg_http_resp_t r = {.error = "client shutting down", .content_type = "", .docker_digest = "",
                         .www_authenticate = "", .link = "", .location = ""};
    while (list) {
        job_t *n = list->next;
        deliver(list, &r);
        job_free(list);
        list = n;
    }
}

/* Runs the posted calls in the order they were posted. */
static void run_posted(posted_t *p)
{
    posted_t *rev = NULL;
    while (p) {
        posted_t *n = p->next;
        p->next = rev;
        rev = p;
        p = n;
    }
    while (rev) {
        posted_t *n = rev->next;
        rev->fn(rev->ctx);
        free(rev);
        rev = n;
    }
}

static void *engine_main(void *arg)
{
    reg_http_t *h = arg;
    for (;;) {
        pthread_mutex_lock(&h->mu);
        if (h->stop) {
            pthread_mutex_unlock(&h->mu);
            break;
        }
        while (h->incoming) {
            job_t *j = h->incoming;
            h->incoming = j->next;
            start(h, j);
        }
        int64_t now = time_mono_ms();
        long wait = 1000;
        for (job_t **p = &h->delayed; *p;) {
            job_t *j = *p;
            if (j->due_ms <= now) {
                *p = j->next;
                start(h, j);
                continue;
            }
            if (j->due_ms - now < wait)
                wait = (long)(j->due_ms - now);
            p = &j->next;
        }
        posted_t *posted = h->posted;
        h->posted = NULL;
        pthread_mutex_unlock(&h->mu);
        run_posted(posted);
        int running = 0;
        curl_multi_perform(h->multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(h->multi, &left)))
            if (m->msg == CURLMSG_DONE) {
                job_t *j = NULL;
                curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&j);
                job_done(h, j, m->data.result);
            }
        curl_multi_poll(h->multi, NULL, 0, (int)wait, NULL);
    }
    /* shutting down: active transfers are dropped, everything pending fails */
    pthread_mutex_lock(&h->mu);
    for (job_t *j = h->active; j; j = j->next)
        curl_multi_remove_handle(h->multi, j->easy);
    job_t *lists[3] = {h->incoming, h->delayed, h->active};
    h->incoming = h->delayed = h->active = NULL;
    posted_t *posted = h->posted;
    h->posted = NULL;
    pthread_mutex_unlock(&h->mu);
    run_posted(posted);
    for (int i = 0; i < 3; i++)
        fail_all(lists[i]);
    return NULL;
}

reg_http_t *reg_http_new(const reg_http_opts_t *o)
{
    pthread_once(&curl_once, curl_init_once);
    reg_http_t *h = xcalloc(1, sizeof *h);
    if (o)
        h->o = *o;
    h->o.ca_file = xstrdup(h->o.ca_file);
    if (h->o.max_host_connections <= 0)
        h->o.max_host_connections = 6;
    if (h->o.retry_base_ms <= 0)
        h->o.retry_base_ms = 500;
    if (h->o.retry_after_max_s <= 0)
        h->o.retry_after_max_s = 60;
    pthread_mutex_init(&h->mu, NULL);
    h->multi = curl_multi_init();
    if (!h->multi)
        abort();
    curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, h->o.max_host_connections);
    if (pthread_create(&h->th, NULL, engine_main, h) != 0)
        abort();
    return h;
}

static job_t *find(job_t *list, const char *key)
{
    for (; list; list = list->next)
        if (!strcmp(list->key, key))
            return list;
    return NULL;
}

int reg_http_submit(reg_http_t *h, const reg_http_req_t *req, reg_http_done_fn cb, void *ctx)
{
    const char *method = req->method && !strcmp(req->method, "HEAD") ? "HEAD" : "GET";
    char *key = xasprintf("%s %s\n%s\n%s\n%zu%d%d", method, req->url, req->accept ? req->accept : "",
                          req->authorization ? req->authorization : "", req->max_body, req->follow_redirects,
                          req->insecure);
    waiter_t *w = xcalloc(1, sizeof *w);
    w->cb = cb;
    w->ctx = ctx;
    pthread_mutex_lock(&h->mu);
    if (h->stop) {
        pthread_mutex_unlock(&h->mu);
        free(w);
        free(key);
        return -1;
    }
    job_t *j = find(h->incoming, key);
    if (!j)
        j = find(h->delayed, key);
    if (!j)
        j = find(h->active, key);
    if (j) {
        w->next = j->waiters;
        j->waiters = w;
        pthread_mutex_unlock(&h->mu);
        free(key);
        return 0;
    }
    j = xcalloc(1, sizeof *j);
    j->req = *req;
    j->req.method = xstrdup(method);
    j->req.url = xstrdup(req->url);
    j->req.accept = xstrdup(req->accept);
    j->req.authorization = xstrdup(req->authorization);
    if (!j->req.connect_timeout_ms)
        j->req.connect_timeout_ms = 10000;
    if (!j->req.timeout_ms)
        j->req.timeout_ms = 60000;
    if (j->req.max_attempts <= 0)
        j->req.max_attempts = 3;
    j->key = key;
    j->waiters = w;
    buf_init(&j->body);
    for (int i = 0; i < H_N; i++)
        buf_init_max(&j->hdr[i], HDR_MAX);
    if (req->accept) {
        char *a = xasprintf("Accept: %s", req->accept);
        j->hdrs = curl_slist_append(j->hdrs, a);
        free(a);
    }
    if (req->authorization) {
        char *a = xasprintf("Authorization: %s", req->authorization);
        j->hdrs = curl_slist_append(j->hdrs, a);
        free(a);
    }
    j->next = h->incoming;
    h->incoming = j;
    pthread_mutex_unlock(&h->mu);
    curl_multi_wakeup(h->multi);
    return 0;
}

int reg_http_post(reg_http_t *h, void (*fn)(void *ctx), void *ctx)
{
    posted_t *p = xcalloc(1, sizeof *p);
    p->fn = fn;
    p->ctx = ctx;
    pthread_mutex_lock(&h->mu);
    if (h->stop) {
        pthread_mutex_unlock(&h->mu);
        free(p);
        return -1;
    }
    p->next = h->posted;
    h->posted = p;
    pthread_mutex_unlock(&h->mu);
    curl_multi_wakeup(h->multi);
    return 0;
}

uint64_t reg_http_transfers(reg_http_t *h)
{
    pthread_mutex_lock(&h->mu);
    uint64_t n = h->transfers;
    pthread_mutex_unlock(&h->mu);
    return n;
}

void reg_http_free(reg_http_t *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    h->stop = true;
    pthread_mutex_unlock(&h->mu);
    curl_multi_wakeup(h->multi);
    pthread_join(h->th, NULL);
    curl_multi_cleanup(h->multi);
    pthread_mutex_destroy(&h->mu);
    free((char *)h->o.ca_file);
    free(h);
}
