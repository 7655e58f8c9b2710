/* api: the Kubernetes machinery — routing, identity and authorization, discovery,
 * OpenAPI, generic verb handlers, Table output, watch — for the kinds a domain registers
 * (resource.h). Public face used by main.c. */
#ifndef IAS_API_H
#define IAS_API_H

#include <stdbool.h>
#include <stdint.h>

#include "api/resource.h"
#include "server/http.h"
#include "storage/storage.h"

typedef struct api_config {
    const api_kind_t *kinds;         /* the domain's kind table (copied) */
    size_t nkinds;
    void *domain;                    /* handed to hooks: api_call_domain() */
    api_authorizer_fn authorizer;    /* NULL: api_authorize_all */
    void *authorizer_ctx;
    const char *advertise_address;   /* for /api serverAddressByClientCIDRs */
    int watch_bookmark_interval_s;   /* default 60 */
    int watch_max_timeout_s;         /* default 1800: server-side cap on a watch */
} api_config_t;

/* Builds the kind table, the caches over the store, discovery and OpenAPI documents. */
api_t *api_new(const api_config_t *cfg, store_t *store);
/* Loads caches and marks the server ready. */
int api_start(api_t *a);
/* Before stopping the HTTP server: answers the reads still waiting for etcd. */
void api_stop(api_t *a);
void api_free(api_t *a);
/* Serves path (exact match, any method) outside the API, e.g. a webhook: fn runs on the
 * event loop, so it must not wait (http_defer what may) and answers by itself (no
 * authorization: it does its own). Call before the HTTP server starts. */
void api_add_path(api_t *a, const char *path, http_handler_fn fn, void *arg);
/* The HTTP handler (pass a as ctx to http_server_new). */
void api_handle(http_req_t *req, void *ctx);

#endif
