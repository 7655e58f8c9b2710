/* api: construction, and the router that turns a request path into a verb on a kind. */
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"

api_t *api_new(const api_config_t *cfg, store_t *store)
{
    api_t *a = xcalloc(1, sizeof *a);
    a->cfg = *cfg;
    if (!a->cfg.watch_bookmark_interval_s)
        a->cfg.watch_bookmark_interval_s = 60;
    if (!a->cfg.watch_max_timeout_s)
        a->cfg.watch_max_timeout_s = 1800;
    a->store = store;
    kinds_init(a);
    a->caches = cache_set_new(store);
    for (size_t i = 0; i < a->nkinds; i++)
        a->kinds[i].cache = cache_set_add(a->caches, a->kinds[i].prefix, kind_build_obj, &a->kinds[i], 16384);
    discovery_build(a);
    openapi_build(a);
    a->watches = watch_registry_new(a);
    return a;
}

int api_start(api_t *a)
{
    if (cache_set_start(a->caches) != 0 || api_barrier_start(a) != 0)
        return -1;
    atomic_store(&a->ready, true);
    return 0;
}

void api_stop(api_t *a)
{
    if (a)
        api_barrier_stop(a);
}

void api_free(api_t *a)
{
    if (!a)
        return;
    api_barrier_free(a);
    watch_registry_free(a->watches);
    cache_set_free(a->caches);
    discovery_free(a);
    for (size_t i = 0; i < a->nkinds; i++)
        free(a->kinds[i].prefix);
    free(a->kinds);
    free(a);
}

static void respond_text(http_req_t *h, int code, const char *text)
{
    api_respond_raw(h, code, "text/plain; charset=utf-8", text, strlen(text));
}

static void respond_not_found(http_req_t *h)
{
    apierr_t e = APIERR_INIT;
    apierr_set_details(&e, APIERR_NOT_FOUND, json_object(), "the server could not find the requested resource");
    api_respond_status_err(h, &e);
    apierr_clear(&e);
}

/* kube-apiserver's form: "ok", or with ?verbose one "[+]name ok" / "[-]name failed" line per
 * check and a verdict line. The store check is named after the backend ("etcd", "sqlite"). */
static void readyz(http_req_t *h, void *arg)
{
    api_t *a = arg;
    bool cache_ok = atomic_load(&a->ready);
    bool store_ok = cache_ok && store_healthy(a->store);
    bool ok = cache_ok && store_ok;
    const char *q = http_query(h);
    if (!strstr(q, "verbose")) {
        respond_text(h, ok ? 200 : 503, ok ? "ok" : cache_ok ? "not ready: the store is unavailable"
                                                           : "not ready: loading the cache");
        return;
    }
    char body[512];
    snprintf(body, sizeof body, "[+]ping ok\n[%c]watch-cache %s\n[%c]%s %s\nreadyz check %s\n",
             cache_ok ? '+' : '-', cache_ok ? "ok" : "failed: still loading", store_ok ? '+' : '-',
             store_backend_name(a->store), store_ok ? "ok" : "failed: not answering", ok ? "passed" : "failed");
    respond_text(h, ok ? 200 : 503, body);
}

/* A get or watch with a resourceVersion newer than the cache waits for it (etcd): off the loop. */
static void get_deferred(http_req_t *h, void *arg)
{
    (void)h;
    verb_get(arg);
}

static void watch_deferred(http_req_t *h, void *arg)
{
    (void)h;
    verb_watch(arg);
}

/* Runs fn(r) on the pool. A refusal (429/503) has been answered by the transport, and r
 * is still ours to free. */
static void defer_req(api_req_t *r, void (*fn)(http_req_t *h, void *arg))
{
    if (http_defer(r->http, fn, r) != 0)
        api_req_free(r);
}

/* After the barrier, a watch from "now" first sends every current object (synthetic
 * ADDED): on the pool, not on the one barrier thread that gets are waiting behind. */
static void watch_on_pool(api_req_t *r)
{
    defer_req(r, watch_deferred);
}

static bool simple_route(api_t *a, http_req_t *h, const char *path)
{
    if (strcmp(path, "/version") == 0) {
        static const char v[] =
            "{\"major\":\"1\",\"minor\":\"32\",\"gitVersion\":\"v1.32.0-image-apiserver-" IAS_VERSION "\","
            "\"gitCommit\":\"0000000000000000000000000000000000000000\",\"gitTreeState\":\"clean\","
            "\"buildDate\":\"2026-11-23T00:00:00Z\",\"goVersion\":\"n/a (C)\",\"compiler\":\"gcc\","
            "\"platform\":\"linux/amd64\"}";
        api_respond_raw(h, 200, "application/json", v, sizeof v - 1);
        return true;
    }
    if (strcmp(path, "/healthz") == 0 || strcmp(path, "/livez") == 0) {
        respond_text(h, 200, "ok");
        return true;
    }
    if (strcmp(path, "/readyz") == 0) {
        if (store_reads_need_barrier(a->store))
            (void)!http_defer(h, readyz, a);   /* asks etcd: may block; a refusal is answered */
        else
            readyz(h, a);
        return true;
    }
    return false;
}

/* Splits the path after /apis/image.openshift.io/v1/ into decoded segments. On failure
 * (-1: empty segment, bad %-escape, too many segments) nothing stays allocated. */
static int split_segments(const char *rest, char **seg, int max)
{
    int n = 0;
    const char *p = rest;
    while (*p && n < max) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == 0)
            goto fail;
        seg[n] = url_decode(p, len, false);
        if (!seg[n])
            goto fail;
        n++;
        if (!e)
            return n;
        p = e + 1;
        if (!*p)
            return n; /* trailing slash */
    }
    if (!*p)
        return n;
fail:
    while (n > 0)
        free(seg[--n]);
    seg[0] = NULL;
    return -1;
}

static bool verb_allowed(const kind_def_t *k, const char *verb)
{
    const char *v = strstr(k->verbs, verb);
    size_t n = strlen(verb);
    while (v) {
        if ((v == k->verbs || v[-1] == ' ') && (v[n] == ' ' || v[n] == '\0'))
            return true;
        v = strstr(v + 1, verb);
    }
    return false;
}

static void route_resource(api_t *a, http_req_t *h, const char *rest)
{
    char *seg[8] = {0};
    int n = split_segments(rest, seg, 8);
    api_req_t *r = NULL;
    bool watch_path = false;
    int i = 0;
    if (n <= 0)
        goto notfound;
    if (strcmp(seg[0], "watch") == 0) {
        watch_path = true;
        i = 1;
    }
    r = api_req_new(a, h);
    if (n - i >= 2 && strcmp(seg[i], "namespaces") == 0) {
        r->ns = xstrdup(seg[i + 1]);
        i += 2;
    }
    if (n - i < 1 || n - i > 3)
        goto notfound;
    r->kind = kinds_find(a, seg[i]);
    if (!r->kind)
        goto notfound;
    if (r->ns && !r->kind->namespaced)
        goto notfound;
    if (n - i >= 2)
        r->name = xstrdup(seg[i + 1]);
    if (n - i == 3) {
        if (strcmp(seg[i + 2], "status") || !r->kind->has_status)
            goto notfound;
        r->subresource = xstrdup("status");
    }
    if (r->kind->namespaced && r->name && !r->ns)
        goto notfound;
    for (int j = 0; j < n; j++)
        free(seg[j]);
    n = 0;

    if (req_options_parse(http_query(h), &r->opt, &r->err) != 0)
        goto fail;
    if (watch_path) {
        r->opt.watch = true;
        if (req_options_validate_list(&r->opt, &r->err) != 0)
            goto fail;
    }
    r->accept = api_accept_parse(http_header(h, "Accept"));

    const char *m = http_method(h);
    if (watch_path && strcmp(m, "GET") != 0) {
        /* /watch/ paths only watch: any other method there must not act on the collection */
        apierr_set(&r->err, APIERR_METHOD_NOT_ALLOWED, "the server does not allow this method on the requested resource");
        goto fail;
    }
    if (strcmp(m, "GET") == 0) {
        if (r->name && !r->opt.watch)
            r->verb = "get";
        else if (r->name) {
            /* watch on an item path: a watch with fieldSelector metadata.name */
            r->verb = "watch";
        } else
            r->verb = r->opt.watch ? "watch" : "list";
    } else if (strcmp(m, "POST") == 0 && !r->name) {
        r->verb = "create";
    } else if (strcmp(m, "PUT") == 0 && r->name) {
        r->verb = "update";
    } else if (strcmp(m, "PATCH") == 0 && r->name) {
        r->verb = "patch";
    } else if (strcmp(m, "DELETE") == 0) {
        r->verb = r->name ? "delete" : "deletecollection";
    } else {
        apierr_set(&r->err, APIERR_METHOD_NOT_ALLOWED, "the server does not allow this method on the requested resource");
        goto fail;
    }
    if (r->subresource && strcmp(r->verb, "get") && strcmp(r->verb, "update") && strcmp(r->verb, "patch")) {
        apierr_set(&r->err, APIERR_METHOD_NOT_ALLOWED, "the server does not allow this method on the requested resource");
        goto fail;
    }
    if (!r->subresource && !verb_allowed(r->kind, r->verb)) {
        apierr_set(&r->err, APIERR_METHOD_NOT_ALLOWED, "the server does not allow this method on the requested resource");
        goto fail;
    }
    if (!atomic_load(&a->ready)) {
        apierr_set(&r->err, APIERR_UNAVAILABLE, "the server is currently unable to handle the request");
        r->err.retry_after = 1;
        goto fail;
    }
    bool barrier = store_reads_need_barrier(a->store);
    bool any_rv = r->opt.resource_version && *r->opt.resource_version;   /* no barrier needed */
    bool rv_n = any_rv && strcmp(r->opt.resource_version, "0") != 0;     /* may wait for N */
    if (strcmp(r->verb, "get") == 0) {
        if (!any_rv)
            api_after_consistent_read(r, r->kind->cache, verb_get);
        else if (barrier && rv_n)
            defer_req(r, get_deferred);
        else
            verb_get(r);
    } else if (strcmp(r->verb, "watch") == 0) {
        if (!any_rv)
            api_after_consistent_read(r, r->kind->cache, barrier ? watch_on_pool : verb_watch);
        else if (barrier && rv_n)
            defer_req(r, watch_deferred);
        else
            verb_watch(r);
    } else if (strcmp(r->verb, "list") == 0) {
        defer_req(r, verb_list);
    } else if (strcmp(r->verb, "create") == 0) {
        defer_req(r, verb_create);
    } else if (strcmp(r->verb, "update") == 0) {
        defer_req(r, verb_update);
    } else if (strcmp(r->verb, "patch") == 0) {
        defer_req(r, verb_patch);
    } else if (strcmp(r->verb, "delete") == 0) {
        defer_req(r, verb_delete);
    } else {
        defer_req(r, verb_deletecollection);
    }
    return;

notfound:
    for (int j = 0; j < n; j++)
        free(seg[j]);
    api_req_free(r);
    respond_not_found(h);
    return;
fail:
    api_respond_error(r);
    api_req_free(r);
}

void api_handle(http_req_t *h, void *ctx)
{
    api_t *a = ctx;
    const char *path = http_path(h);
    static const char prefix[] = "/apis/" API_GROUP "/" API_VERSION "/";
    if (strncmp(path, prefix, sizeof prefix - 1) == 0 && path[sizeof prefix - 1]) {
        route_resource(a, h, path + sizeof prefix - 1);
        return;
    }
    if (simple_route(a, h, path) || discovery_route(a, h, path) || openapi_route(a, h, path) ||
        namespace_route(a, h, path))
        return;
    respond_not_found(h);
}
