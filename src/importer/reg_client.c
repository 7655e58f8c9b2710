/* See reg_client.h. Each manifest request is a small state machine advanced by reg_http's
 * completion callbacks: ping -> (token) -> HEAD -> (GET). Challenges per registry and
 * tokens per (registry, scope, user) are cached, bounded. Credentials are never logged. */
#include "importer/reg_client.h"
#include "util/util.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_MAX 1024
#define CHALLENGE_TTL 3600 /* a registry's auth setup rarely changes; re-ping hourly */

typedef struct entry {
    struct entry *next;
    char *key;
    char *value;      /* challenge: "scheme\nrealm\nservice"; token: the token */
    time_t expires;
} entry_t;

struct reg_client {
    reg_http_t *http;
    uint64_t gets, heads;     /* requests submitted by method */
    pthread_mutex_t mu;
    entry_t *challenges, *tokens, *resolved;
    size_t nchallenges, ntokens, nresolved;
};

#define RESOLVED_TTL 3600 /* the longest max_age_ms a caller may use */

typedef struct {
    reg_client_t *c;
    reg_manifest_req_t req;   /* owned copies */
    reg_manifest_done_fn cb;
    void *ctx;
    char *base;               /* scheme://registry */
    char *auth;               /* Authorization value or NULL */
    reg_auth_scheme_t scheme;
    char *realm, *service;
    bool creds_dropped;       /* the credential was rejected: anonymous from now on */
    char *head_digest;
    /* a raw GET (reg_client_get): the path after /v2/<repo>/ or an absolute URL on the
       same registry, its bound and whether redirects are followed */
    char *raw_path;
    size_t raw_max;
    bool raw_redirects;
    reg_raw_done_fn raw_cb;
} op_t;

/* ---- caches ---- */
static char *cache_get(reg_client_t *c, entry_t **list, const char *key)
{
    char *v = NULL;
    time_t now = time(NULL);
    pthread_mutex_lock(&c->mu);
    for (entry_t *e = *list; e; e = e->next)
        if (!strcmp(e->key, key) && e->expires > now) {
            v = xstrdup(e->value);
            break;
        }
    pthread_mutex_unlock(&c->mu);
    return v;
}

static void entry_free(entry_t *e)
{
    free(e->key);
    free(e->value);
    free(e);
}

static void cache_put(reg_client_t *c, entry_t **list, size_t *n, const char *key, const char *value, time_t expires)
{
    pthread_mutex_lock(&c->mu);
    for (entry_t **p = list; *p;) { /* drop the old entry for key, and any expired ones */
        entry_t *e = *p;
        if (!strcmp(e->key, key) || e->expires <= time(NULL)) {
            *p = e->next;
            entry_free(e);
            (*n)--;
            continue;
        }
        p = &e->next;
    }
    if (*n >= CACHE_MAX) { /* full of live entries: drop the oldest (the tail) */
        entry_t **p = list;
        while ((*p)->next)
            p = &(*p)->next;
        entry_free(*p);
        *p = NULL;
        (*n)--;
    }
    entry_t *e = xcalloc(1, sizeof *e);
    e->key = xstrdup(key);
    e->value = xstrdup(value);
    e->expires = expires;
    e->next = *list;
    *list = e;
    (*n)++;
    pthread_mutex_unlock(&c->mu);
}

/* ---- op lifecycle ---- */
static bool has_creds(const op_t *op)
{
    return !op->creds_dropped && op->req.username && *op->req.username;
}

/* ---- recent tag resolutions (max_age_ms) ---- */
/* registry, repository, tag and a hash of the credential: another user's answer is never
 * reused (their access may differ) */
static char *resolved_key(const op_t *op)
{
    char *cred = xasprintf("%s:%s", op->req.username ? op->req.username : "", op->req.password ? op->req.password : "");
    char hex[65];
    sha256_hex(cred, strlen(cred), hex);
    OPENSSL_cleanse(cred, strlen(cred));
    free(cred);
    hex[16] = 0;
    return xasprintf("%s\n%s\n%s\n%s", op->req.registry, op->req.repository, op->req.reference, hex);
}

static bool by_tag(const op_t *op)
{
    return !strchr(op->req.reference, ':');
}

/* value: "<digest> <time_mono_ms>" */
static void resolved_put(op_t *op, const char *digest)
{
    if (!by_tag(op) || !reg_digest_valid(digest))
        return;
    char *key = resolved_key(op), *v = xasprintf("%s %lld", digest, (long long)time_mono_ms());
    cache_put(op->c, &op->c->resolved, &op->c->nresolved, key, v, time(NULL) + RESOLVED_TTL);
    free(v);
    free(key);
}

static bool resolved_recently(op_t *op)
{
    if (op->req.max_age_ms <= 0 || !op->req.known_digest || !*op->req.known_digest || !by_tag(op))
        return false;
    char *key = resolved_key(op), *v = cache_get(op->c, &op->c->resolved, key);
    free(key);
    bool hit = false;
    char *sp = v ? strchr(v, ' ') : NULL;
    if (sp) {
        *sp = 0;
        hit = !strcmp(v, op->req.known_digest) && time_mono_ms() - atoll(sp + 1) <= op->req.max_age_ms;
    }
    free(v);
    return hit;
}

static void finish_unchanged(void *ctx);

static void op_free(op_t *op)
{
    free((char *)op->req.registry);
    free((char *)op->req.repository);
    free((char *)op->req.reference);
    free((char *)op->req.known_digest);
    free((char *)op->req.username);
    free((char *)op->req.password);
    free(op->base);
    free(op->auth);
    free(op->realm);
    free(op->service);
    free(op->head_digest);
    free(op->raw_path);
    free(op);
}

static void finish(op_t *op, reg_manifest_result_t *r)
{
    op->cb(op->ctx, r);
    op_free(op);
}

static void fail(op_t *op, int status, const char *fmt, const char *arg)
{
    char msg[512];
    snprintf(msg, sizeof msg, fmt, arg);
    if (op->raw_cb) {
        reg_http_resp_t r = {.status = status, .error = msg, .content_type = "", .docker_digest = "",
                             .www_authenticate = "", .link = "", .location = ""};
        op->raw_cb(op->ctx, &r);
        op_free(op);
        return;
    }
    reg_manifest_result_t r = {.status = status, .error = msg};
    finish(op, &r);
}

static void submit_ex(op_t *op, const char *method, const char *url, const char *accept, const char *auth,
                      size_t max, bool redirects, reg_http_done_fn fn)
{
    reg_http_req_t rq = {.method = method, .url = url, .accept = accept, .authorization = auth, .max_body = max,
                         .follow_redirects = redirects, .insecure = op->req.insecure,
                         .timeout_ms = op->req.timeout_ms};
    __atomic_add_fetch(!strcmp(method, "HEAD") ? &op->c->heads : &op->c->gets, 1, __ATOMIC_RELAXED);
    if (reg_http_submit(op->c->http, &rq, fn, op) != 0)
        fail(op, 0, "%s", "client shutting down");
}

static void submit(op_t *op, const char *method, const char *url, const char *accept, const char *auth,
                   size_t max, reg_http_done_fn fn)
{
    submit_ex(op, method, url, accept, auth, max, false, fn);
}

static char *basic_auth(const char *user, const char *pass)
{
    char *raw = xasprintf("%s:%s", user, pass ? pass : "");
    size_t n = strlen(raw);
    char *out = xmalloc(4 * ((n + 2) / 3) + 1 + 6);
    memcpy(out, "Basic ", 6);
    EVP_EncodeBlock((unsigned char *)out + 6, (const unsigned char *)raw, (int)n);
    OPENSSL_cleanse(raw, n);
    free(raw);
    return out;
}

static void do_ping(op_t *op);
static void do_token(op_t *op);
static void do_head(op_t *op);
static void do_get(op_t *op);
static void do_raw(op_t *op);
/* The step after authentication. */
static void do_fetch(op_t *op)
{
    if (op->raw_cb)
        return do_raw(op);
    /* HEAD first only when it can save the GET: a digest to compare, and not by digest */
    if (op->req.known_digest && *op->req.known_digest && !str_has_prefix(op->req.reference, "sha256:"))
        return do_head(op);
    do_get(op);
}

static const char *status_error(int status)
{
    switch (status) {
    case 401: return "unauthorized: authentication required";
    case 403: return "denied: access forbidden";
    case 404: return "manifest unknown";
    case 429: return "too many requests";
    default: return NULL;
    }
}

static void fail_status(op_t *op, const reg_http_resp_t *r, const char *what)
{
    if (r->error)
        return fail(op, r->status, "%s", r->error);
    /* the registry refused the credential and the content is not public either: say
     * that the credential is the problem, not the access */
    const char *e = r->status == 401 && op->creds_dropped ? REG_BAD_CREDENTIALS : status_error(r->status);
    char msg[128];
    if (!e) {
        snprintf(msg, sizeof msg, "%s: received unexpected HTTP status: %d", what, r->status);
        e = msg;
    }
    fail(op, r->status, "%s", e);
}

/* ---- ping ---- */
/* cached: "<base>\n<scheme>\n<realm>\n<service>" */
static void use_challenge(op_t *op, const char *cached)
{
    const char *nl0 = strchr(cached, '\n');
    if (!nl0)
        return;
    free(op->base);
    op->base = xstrndup(cached, (size_t)(nl0 - cached));
    cached = nl0 + 1;
    const char *nl1 = strchr(cached, '\n'), *nl2 = nl1 ? strchr(nl1 + 1, '\n') : NULL;
    op->scheme = (reg_auth_scheme_t)atoi(cached);
    op->realm = nl1 && nl2 ? xstrndup(nl1 + 1, (size_t)(nl2 - nl1 - 1)) : xstrdup("");
    op->service = xstrdup(nl2 ? nl2 + 1 : "");
}

static void on_ping(void *ctx, const reg_http_resp_t *r)
{
    op_t *op = ctx;
    int scheme = 0;
    const char *realm = "", *service = "";
    reg_challenge_t ch[REG_MAX_CHALLENGES];
    int n = 0;
    if (r->error && r->status == 0 && op->req.insecure && str_has_prefix(op->base, "https://")) {
        /* an insecure registry that does not speak TLS: plain HTTP from now on (§5.2) */
        char *plain = xasprintf("http://%s", op->req.registry);
        free(op->base);
        op->base = plain;
        return do_ping(op);
    }
    if (r->error)
        return fail(op, r->status, "ping: %s", r->error);
    if (r->status == 401) {
        n = reg_challenges_parse(r->www_authenticate, ch, REG_MAX_CHALLENGES);
        const reg_challenge_t *p = n > 0 ? reg_challenge_pick(ch, (size_t)n) : NULL;
        if (!p) {
            if (n > 0)
                reg_challenges_free(ch, (size_t)n);
            return fail(op, 401, "%s", "unsupported or malformed authentication challenge");
        }
        scheme = p->scheme;
        realm = p->realm;
        service = p->service;
    } else if (r->status != 200) {
        return fail_status(op, r, "ping");
    }
    char *v = xasprintf("%s\n%d\n%s\n%s", op->base, scheme, realm, service);
    if (n > 0)
        reg_challenges_free(ch, (size_t)n);
    cache_put(op->c, &op->c->challenges, &op->c->nchallenges, op->req.registry, v, time(NULL) + CHALLENGE_TTL);
    use_challenge(op, v);
    free(v);
    do_token(op);
}

static void do_ping(op_t *op)
{
    char *cached = cache_get(op->c, &op->c->challenges, op->req.registry);
    if (cached) {
        use_challenge(op, cached);
        free(cached);
        return do_token(op);
    }
    char *url = xasprintf("%s/v2/", op->base);
    submit(op, "GET", url, NULL, NULL, 64 << 10, on_ping);
    free(url);
}

/* ---- token ---- */
static char *token_key(op_t *op)
{
    return xasprintf("%s\nrepository:%s:pull\n%s", op->req.registry, op->req.repository,
                     has_creds(op) ? op->req.username : "");
}

static void on_token(void *ctx, const reg_http_resp_t *r)
{
    op_t *op = ctx;
    if (!r->error && (r->status == 401 || r->status == 403) && has_creds(op)) {
        op->creds_dropped = true; /* rejected credential: public content may still be pulled */
        return do_token(op);
    }
    if (r->error || r->status != 200)
        return fail_status(op, r, "token");
    reg_token_t t;
    const char *err = NULL;
    if (reg_token_parse(r->body, r->body_len, time(NULL), &t, &err) != 0)
        return fail(op, r->status, "token: %s", err);
    char *key = token_key(op);
    cache_put(op->c, &op->c->tokens, &op->c->ntokens, key, t.token, reg_token_expiry(&t));
    free(key);
    free(op->auth);
    op->auth = xasprintf("Bearer %s", t.token);
    reg_token_free(&t);
    do_fetch(op);
}

static void do_token(op_t *op)
{
    free(op->auth);
    op->auth = NULL;
    if (op->scheme == REG_AUTH_BASIC) {
        if (has_creds(op))
            op->auth = basic_auth(op->req.username, op->req.password);
        return do_fetch(op);
    }
    if (op->scheme != REG_AUTH_BEARER)
        return do_fetch(op);
    char *key = token_key(op);
    char *tok = cache_get(op->c, &op->c->tokens, key);
    free(key);
    if (tok) {
        op->auth = xasprintf("Bearer %s", tok);
        free(tok);
        return do_fetch(op);
    }
    char *scope = xasprintf("repository:%s:pull", op->req.repository);
    char *es = curl_easy_escape(NULL, scope, 0), *esv = curl_easy_escape(NULL, op->service, 0);
    char *url = xasprintf("%s%sscope=%s%s%s", op->realm, strchr(op->realm, '?') ? "&" : "?", es,
                          *op->service ? "&service=" : "", *op->service ? esv : "");
    curl_free(es);
    curl_free(esv);
    free(scope);
    char *auth = has_creds(op) ? basic_auth(op->req.username, op->req.password) : NULL;
    submit(op, "GET", url, "application/json", auth, REG_MAX_TOKEN, on_token);
    free(auth);
    free(url);
}

/* ---- manifest ---- */
static bool retry_anonymously(op_t *op, const reg_http_resp_t *r)
{
    if (r->error || (r->status != 401 && r->status != 403) || !has_creds(op))
        return false;
    op->creds_dropped = true;
    do_token(op);
    return true;
}

/* ---- raw GET ---- */
static void on_raw(void *ctx, const reg_http_resp_t *r)
{
    op_t *op = ctx;
    if (retry_anonymously(op, r))
        return;
    op->raw_cb(op->ctx, r);
    op_free(op);
}

static void do_raw(op_t *op)
{
    char *url = str_has_prefix(op->raw_path, "http://") || str_has_prefix(op->raw_path, "https://")
                    ? xstrdup(op->raw_path)
                    : xasprintf("%s/v2/%s/%s", op->base, op->req.repository, op->raw_path);
    submit_ex(op, "GET", url, "application/json", op->auth, op->raw_max, op->raw_redirects, on_raw);
    free(url);
}

static void on_head(void *ctx, const reg_http_resp_t *r)
{
    op_t *op = ctx;
    if (retry_anonymously(op, r))
        return;
    if (r->error || r->status == 404 || r->status == 401 || r->status == 403)
        return fail_status(op, r, "manifest");
    if (r->status == 200 && reg_digest_valid(r->docker_digest)) {
        op->head_digest = xstrdup(r->docker_digest);
        resolved_put(op, r->docker_digest);
        if (op->req.known_digest && !strcmp(op->req.known_digest, r->docker_digest)) {
            reg_manifest_result_t res = {.status = 200, .unchanged = true, .digest = r->docker_digest};
            return finish(op, &res);
        }
    }
    do_get(op); /* other statuses (405 from registries without HEAD): the GET decides */
}

static void on_get(void *ctx, const reg_http_resp_t *r)
{
    op_t *op = ctx;
    if (retry_anonymously(op, r))
        return;
    if (r->error || r->status != 200)
        return fail_status(op, r, "manifest");
    reg_manifest_t m;
    char *err = NULL;
    if (reg_manifest_parse(r->content_type, r->body, r->body_len, &m, &err) != 0) {
        fail(op, 200, "%s", err);
        free(err);
        return;
    }
    char dg[72], hex[65];
    /* a signed schema 1 digest covers its JWS payload, not the body */
    size_t plen = 0;
    char *payload = m.kind == REG_KIND_SCHEMA1 && m.signed_schema1 ? reg_schema1_payload(r->body, r->body_len, &plen)
                                                                    : NULL;
    if (m.kind == REG_KIND_SCHEMA1 && m.signed_schema1 && !payload) {
        reg_manifest_free(&m);
        return fail(op, 200, "%s", "schema 1 manifest: the signature's protected header has no valid payload");
    }
    sha256_hex(payload ? payload : r->body, payload ? plen : r->body_len, hex);
    free(payload);
    snprintf(dg, sizeof dg, "sha256:%s", hex);
    /* by digest: what was asked; by tag: what the registry said (schema 1 registries may
     * name the body's digest there, so a tag's schema 1 is not held to it) */
    const char *want = str_has_prefix(op->req.reference, "sha256:")                              ? op->req.reference
                       : m.kind != REG_KIND_SCHEMA1 && str_has_prefix(r->docker_digest, "sha256:") ? r->docker_digest
                                                                                                  : NULL;
    if (want && strcmp(want, dg)) {
        reg_manifest_free(&m);
        char msg[256];
        snprintf(msg, sizeof msg,
                 "content integrity error: the manifest retrieved with digest %s does not match the digest "
                 "calculated from the content %s", want, dg);
        return fail(op, 200, "%s", msg);
    }
    resolved_put(op, dg);
    reg_manifest_result_t res = {.status = 200,
                                 .digest = dg,
                                 .manifest = &m,
                                 .body = r->body,
                                 .body_len = r->body_len};
    op->cb(op->ctx, &res);
    reg_manifest_free(&m);
    op_free(op);
}

static char *manifest_url(op_t *op)
{
    return xasprintf("%s/v2/%s/manifests/%s", op->base, op->req.repository, op->req.reference);
}

static void do_head(op_t *op)
{
    free(op->head_digest);
    op->head_digest = NULL;
    char *url = manifest_url(op);
    submit(op, "HEAD", url, REG_MANIFEST_ACCEPT, op->auth, 0, on_head);
    free(url);
}

static void do_get(op_t *op)
{
    char *url = manifest_url(op);
    submit(op, "GET", url, REG_MANIFEST_ACCEPT, op->auth, REG_MAX_MANIFEST, on_get);
    free(url);
}

/* repository path components and the reference are restricted to URL-safe characters:
 * they come from validated references, but this client does not rely on it */
static bool path_safe(const char *s)
{
    if (!s || !*s || strstr(s, ".."))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || strchr("._-/:", *s)))
            return false;
    return true;
}

static op_t *op_new(reg_client_t *c, const reg_manifest_req_t *req, void *ctx)
{
    if (!path_safe(req->registry) || !path_safe(req->repository) || !path_safe(req->reference) ||
        strchr(req->registry, '/'))
        return NULL;
    op_t *op = xcalloc(1, sizeof *op);
    op->c = c;
    op->req = *req;
    op->req.registry = xstrdup(req->registry);
    op->req.repository = xstrdup(req->repository);
    op->req.reference = xstrdup(req->reference);
    op->req.known_digest = xstrdup(req->known_digest);
    op->req.username = xstrdup(req->username);
    op->req.password = xstrdup(req->password);
    op->ctx = ctx;
    /* insecure: TLS without verification first, plain HTTP when the ping finds no TLS */
    op->base = xasprintf("https://%s", req->registry);
    return op;
}

/* A recent resolution answered: "unchanged", on the engine thread like any answer. */
static void finish_unchanged(void *ctx)
{
    op_t *op = ctx;
    reg_manifest_result_t res = {.status = 200, .unchanged = true, .digest = op->req.known_digest};
    finish(op, &res);
}

int reg_client_get_manifest(reg_client_t *c, const reg_manifest_req_t *req, reg_manifest_done_fn cb, void *ctx)
{
    op_t *op = op_new(c, req, ctx);
    if (!op)
        return -1;
    op->cb = cb;
    if (resolved_recently(op)) {
        if (reg_http_post(c->http, finish_unchanged, op) != 0) {
            op_free(op);
            return -1;
        }
        return 0;
    }
    do_ping(op);
    return 0;
}

int reg_client_get(reg_client_t *c, const reg_manifest_req_t *req, const char *path, size_t max_body,
                   bool follow_redirects, reg_raw_done_fn cb, void *ctx)
{
    reg_manifest_req_t r = *req;
    if (!r.reference)
        r.reference = "raw";
    /* a relative path stays under /v2/<repo>/; an absolute URL must be on this registry */
    bool abs = str_has_prefix(path, "http://") || str_has_prefix(path, "https://");
    if (!abs && (!*path || strstr(path, "..") || path[0] == '/'))
        return -1;
    op_t *op = op_new(c, &r, ctx);
    if (!op)
        return -1;
    char *https = xasprintf("https://%s/", op->req.registry), *http = xasprintf("http://%s/", op->req.registry);
    bool same = str_has_prefix(path, https) || (op->req.insecure && str_has_prefix(path, http));
    free(https);
    free(http);
    if (abs && !same) {
        op_free(op);
        return -1;
    }
    op->raw_path = xstrdup(path);
    op->raw_max = max_body;
    op->raw_redirects = follow_redirects;
    op->raw_cb = cb;
    do_ping(op);
    return 0;
}

uint64_t reg_client_requests(reg_client_t *c, const char *method)
{
    return __atomic_load_n(!strcmp(method, "HEAD") ? &c->heads : &c->gets, __ATOMIC_RELAXED);
}

reg_client_t *reg_client_new(const reg_http_opts_t *o)
{
    reg_client_t *c = xcalloc(1, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    c->http = reg_http_new(o);
    return c;
}

reg_http_t *reg_client_http(reg_client_t *c)
{
    return c->http;
}

static void list_free(entry_t *e)
{
    while (e) {
        entry_t *n = e->next;
        entry_free(e);
        e = n;
    }
}

void reg_client_free(reg_client_t *c)
{
    if (!c)
        return;
    reg_http_free(c->http); /* pending ops complete (with an error) before the caches go */
    list_free(c->challenges);
    list_free(c->tokens);
    list_free(c->resolved);
    pthread_mutex_destroy(&c->mu);
    free(c);
}
