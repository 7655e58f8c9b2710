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
    if (!a->cfg.authorizer)
        a->cfg.authorizer = api_authorize_all;
    a->store = store;
    object_locks_init(a);
    a->get_memo = get_memo_new();
    kinds_init(a);
    a->caches = cache_set_new(store);
    for (size_t i = 0; i < a->nkinds; i++)
        if (kind_is_stored(&a->kinds[i]))
        {
            a->kinds[i].cache = cache_set_add(a->caches, a->kinds[i].prefix, kind_build_obj, &a->kinds[i], 16384);
            views_watch(a, &a->kinds[i]);
        }
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
    kinds_free(a);
    object_locks_free(a);
    get_memo_free(a->get_memo);
    for (size_t i = 0; i < a->npaths; i++)
        free(a->paths[i].path);
    free(a->paths);
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

/* Continuations on the pool of what the loop must not wait for. */
static void get_deferred(http_req_t *h, void *arg) { verb_get(arg); }
static void watch_deferred(http_req_t *h, void *arg) { verb_watch(arg); }

/* After the barrier, a watch from "now" first sends every current object (synthetic
 * ADDED): on the pool, not on the one barrier thread that gets are waiting behind. */
static void watch_on_pool(api_req_t *r) { api_defer(r, watch_deferred); }

void api_add_path(api_t *a, const char *path, http_handler_fn fn, void *arg)
{
    a->paths = xrealloc(a->paths, (a->npaths + 1) * sizeof *a->paths);
    a->paths[a->npaths++] = (struct api_path){xstrdup(path), fn, arg};
}

static bool simple_route(api_t *a, http_req_t *h, const char *path)
{
    for (size_t i = 0; i < a->npaths; i++)
        if (strcmp(path, a->paths[i].path) == 0) {
            a->paths[i].fn(h, a->paths[i].arg);
            return true;
        }
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
        if (!store_reads_need_barrier(a->store))
            readyz(h, a);
        else   /* asks etcd, may block: on the pool (a refusal is answered; a is not ours to free) */
            (void)!http_defer(h, readyz, a);
        return true;
    }
    return false;
}

/* A watch stays on the loop when it can be answered from memory; one that may wait (etcd,
 * a replay of the revision log) goes to the pool. Stored kinds, and derived ones (which
 * follow their source kind's cache). */
static void dispatch_watch(api_req_t *r)
{
    bool barrier = store_reads_need_barrier(r->api->store);
    bool rv_n = r->opt.rv_set && r->opt.rv != 0;   /* may wait for N */
    cache_t *cache = kind_watch_cache(r->kind);
    if (!r->opt.rv_set)
        api_after_consistent_read(r, cache, barrier ? watch_on_pool : verb_watch);
    else if ((barrier && rv_n) || !cache_watch_in_memory(cache, r->opt.rv))
        api_defer(r, watch_deferred);
    else
        verb_watch(r);
}

/* Stored kinds: gets and watches stay on the loop when they can be answered from memory;
 * anything that may wait (the store, etcd, a replay of the revision log) goes to the pool. */
static void dispatch_stored(api_req_t *r)
{
    bool barrier = store_reads_need_barrier(r->api->store);
    bool rv_n = r->opt.rv_set && r->opt.rv != 0;   /* may wait for N */
    const char *v = r->verb;
    if (r->sub && r->sub->get && strcmp(v, "get") == 0) {
        api_defer(r, verb_subresource_get);
    } else if (r->sub && strcmp(v, "get") == 0) {
        api_defer(r, get_deferred);   /* status: the stored object, read from the store */
    } else if (strcmp(v, "get") == 0) {
        if (!r->opt.rv_set)
            api_after_consistent_read(r, r->kind->cache, verb_get);
        else if (barrier && rv_n)
            api_defer(r, get_deferred);
        else
            verb_get(r);
    } else if (strcmp(v, "watch") == 0) {
        dispatch_watch(r);
    } else if (strcmp(v, "list") == 0) {
        api_defer(r, verb_list);
    } else if (strcmp(v, "create") == 0) {
        api_defer(r, verb_create);
    } else if (strcmp(v, "update") == 0) {
        api_defer(r, verb_update);
    } else if (strcmp(v, "patch") == 0) {
        api_defer(r, verb_patch);
    } else if (strcmp(v, "delete") == 0) {
        api_defer(r, verb_delete);
    } else {
        api_defer(r, verb_deletecollection);
    }
}

static void route_resource(api_t *a, http_req_t *h, const char *rest, const char *group)
{
    api_req_t *r = api_req_new(a, h);
    r->group = group;
    /* as kube-apiserver: authorize what the path names before finding out whether it is
     * served (a denied user gets 403, not 404/405/400) */
    int rc = api_route_info(r, http_method(h), rest, http_query(h));
    if (rc == 0) {
        api_authz_attrs_t at;
        api_route_attrs(r, &at);
        if (authz_check(a, &at, &r->call.err) != 0)
            goto fail;
        rc = api_route_resolve(r, http_method(h), http_query(h));
    }
    if (rc == ROUTE_NOT_FOUND) {
        api_req_free(r);
        respond_not_found(h);
        return;
    }
    if (rc != 0)
        goto fail;
    r->accept = api_accept_parse(http_header(h, "Accept"));
    if (!atomic_load(&a->ready)) {
        apierr_set(&r->call.err, APIERR_UNAVAILABLE, "the server is currently unable to handle the request");
        r->call.err.retry_after = 1;
        goto fail;
    }
    if (kind_is_stored(r->kind))
        dispatch_stored(r);
    else if (strcmp(r->verb, "watch") == 0 && !r->sub)   /* kinds.c: only derived kinds list it */
        dispatch_watch(r);
    else if (!r->api->barrier && get_memo_eligible(r) && get_memo_serve(r, false))
        api_req_free(r);   /* answered from memory: the embedded store's cache is current */
    else
        api_defer(r, verb_virtual);
    return;
fail:
    api_respond_error(r);
    api_req_free(r);
}

/* Does a path after /api/v1/ name a core kind served here ([watch/][namespaces/<ns>/]<resource>...)?
 * The other core paths (namespaces, events) are namespace.c's. */
static bool core_resource_path(api_t *a, const char *rest)
{
    if (strncmp(rest, "watch/", 6) == 0)
        rest += 6;
    if (strncmp(rest, "namespaces/", 11) == 0) {
        const char *slash = strchr(rest + 11, '/');
        if (!slash)
            return false;
        rest = slash + 1;
    }
    char res[64];
    size_t n = strcspn(rest, "/");
    if (n == 0 || n >= sizeof res)
        return false;
    memcpy(res, rest, n);
    res[n] = '\0';
    const kind_def_t *k = kinds_find(a, res);
    return k && *k->schema->group == '\0';
}

/* Requests outside the resource paths are non-resource requests to the authorizer (path
 * and lower-case method), except the namespace paths (namespace.c asks itself). */
static bool nonresource_allowed(api_t *a, http_req_t *h, const char *path)
{
    if (strncmp(path, "/api/v1/namespaces/", 19) == 0)
        return true;
    char verb[16];
    api_authz_attrs_t at = {.user = api_request_user(a, h), .verb = api_method_verb(http_method(h), verb, sizeof verb), .resource_request = false,
                            .group = "", .resource = "", .subresource = "", .ns = "", .name = "", .path = path};
    apierr_t e = APIERR_INIT;
    if (authz_check(a, &at, &e) == 0)
        return true;
    api_respond_status_err(h, &e);
    apierr_clear(&e);
    return false;
}

void api_handle(http_req_t *h, void *ctx)
{
    api_t *a = ctx;
    const char *path = http_path(h);
    static const char prefix[] = "/apis/" API_GROUP "/" API_VERSION "/";
    if (strncmp(path, prefix, sizeof prefix - 1) == 0 && path[sizeof prefix - 1]) {
        route_resource(a, h, path + sizeof prefix - 1, API_GROUP);
        return;
    }
    if (strncmp(path, "/api/v1/", 8) == 0 && core_resource_path(a, path + 8)) {
        route_resource(a, h, path + 8, "");
        return;
    }
    if (!nonresource_allowed(a, h, path))
        return;
    if (simple_route(a, h, path) || discovery_route(a, h, path) || openapi_route(a, h, path) ||
        namespace_route(a, h, path))
        return;
    respond_not_found(h);
}
