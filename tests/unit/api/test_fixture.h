/* A real api over the embedded store in a temp dir, with the test domain's kinds, an
 * authorizer that records what it is asked, and (optionally) the HTTP server on
 * 127.0.0.1:0 driven with libcurl. */
#ifndef TEST_FIXTURE_H
#define TEST_FIXTURE_H

#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "test_kinds.h"

/* ---- the authorizer ---- */
enum { AZ_ALLOW, AZ_DENY_ALL, AZ_DENY_NS, AZ_DENY_WIDGET_UPDATE };

typedef struct az_call {
    char verb[32], group[64], resource[64], sub[32], ns[64], name[128], user[64], groups[128], path[256];
    bool resource_request;
} az_call_t;

#define AZ_MAX 64
typedef struct az {
    pthread_mutex_t mu;
    int mode;
    const char *deny_ns;
    int n;                      /* calls so far */
    az_call_t calls[AZ_MAX];    /* the first AZ_MAX */
} az_t;

static api_authz_decision_t az_fn(void *ctx, const api_authz_attrs_t *at, char **reason)
{
    az_t *z = ctx;
    pthread_mutex_lock(&z->mu);
    if (z->n < AZ_MAX) {
        az_call_t *c = &z->calls[z->n];
        memset(c, 0, sizeof *c);
        snprintf(c->verb, sizeof c->verb, "%s", at->verb ? at->verb : "(null)");
        snprintf(c->group, sizeof c->group, "%s", at->group ? at->group : "(null)");
        snprintf(c->resource, sizeof c->resource, "%s", at->resource ? at->resource : "(null)");
        snprintf(c->sub, sizeof c->sub, "%s", at->subresource ? at->subresource : "(null)");
        snprintf(c->ns, sizeof c->ns, "%s", at->ns ? at->ns : "(null)");
        snprintf(c->name, sizeof c->name, "%s", at->name ? at->name : "(null)");
        snprintf(c->path, sizeof c->path, "%s", at->path ? at->path : "(null)");
        snprintf(c->user, sizeof c->user, "%s", at->user && at->user->name ? at->user->name : "(null)");
        for (const char *const *g = at->user ? at->user->groups : NULL; g && *g; g++)
            snprintf(c->groups + strlen(c->groups), sizeof c->groups - strlen(c->groups), "%s%s",
                     g == at->user->groups ? "" : ",", *g);
        c->resource_request = at->resource_request;
    }
    z->n++;
    int mode = z->mode;
    pthread_mutex_unlock(&z->mu);
    switch (mode) {
    case AZ_DENY_ALL: return API_AUTHZ_DENY;
    case AZ_DENY_NS: return at->ns && strcmp(at->ns, z->deny_ns) == 0 ? API_AUTHZ_DENY : API_AUTHZ_ALLOW;
    case AZ_DENY_WIDGET_UPDATE:
        if (at->resource_request && strcmp(at->verb, "update") == 0 && strcmp(at->resource, "widgets") == 0) {
            *reason = strdup("widgets are read-only here");
            return API_AUTHZ_DENY;
        }
        return API_AUTHZ_ALLOW;
    default: return API_AUTHZ_ALLOW;
    }
}

__attribute__((unused)) static void az_reset(az_t *z, int mode, const char *deny_ns)
{
    pthread_mutex_lock(&z->mu);
    z->mode = mode;
    z->deny_ns = deny_ns;
    z->n = 0;
    pthread_mutex_unlock(&z->mu);
}

/* ---- the fixture ---- */
typedef struct fx {
    char *dir;
    store_t *store;
    api_t *api;
    http_server_t *srv;
    int port;
    az_t az;
} fx_t;

static int fx_rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static fx_t *fx_open_store(void)
{
    fx_t *f = calloc(1, sizeof *f);
    f->dir = strdup("/tmp/ias-api-test-XXXXXX");
    if (!mkdtemp(f->dir))
        abort();
    store_options_t o = {.data_dir = f->dir, .compact_interval_s = 0};
    if (store_open_sqlite(&o, &f->store) != STORE_OK)
        abort();
    pthread_mutex_init(&f->az.mu, NULL);
    return f;
}

static void fx_new_api(fx_t *f)
{
    api_config_t cfg = {.authorizer = az_fn, .authorizer_ctx = &f->az};
    cfg.kinds = test_kinds(&cfg.nkinds);
    f->api = api_new(&cfg, f->store);
}

static void fx_start_http(fx_t *f)
{
    http_config_t h = {.listen = "127.0.0.1:0", .threads = 1, .pool_threads = 8};
    f->srv = http_server_new(&h, api_handle, f->api);
    if (!f->srv || http_server_start(f->srv) != 0)
        abort();
    f->port = http_server_port(f->srv);
}

static void fx_start_api(fx_t *f)
{
    if (api_start(f->api) != 0)
        abort();
}

/* store + api started (+ HTTP server) */
static fx_t *fx_up(bool http)
{
    fx_t *f = fx_open_store();
    fx_new_api(f);
    fx_start_api(f);
    if (http)
        fx_start_http(f);
    return f;
}

static void fx_down(fx_t *f)
{
    if (!f)
        return;
    api_stop(f->api);
    http_server_free(f->srv);
    api_free(f->api);
    store_close(f->store);
    nftw(f->dir, fx_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    free(f->dir);
    pthread_mutex_destroy(&f->az.mu);
    free(f);
}

#endif
