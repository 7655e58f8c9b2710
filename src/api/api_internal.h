/* Internal types shared by the files of api/. */
#ifndef IAS_API_INTERNAL_H
#define IAS_API_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>

#include "api/api.h"
#include "api/options.h"
#include "api/selector.h"
#include "schema/schema.h"
#include "util/apierr.h"
#include "util/util.h"

#define API_GROUP "image.openshift.io"
#define API_VERSION "v1"
#define API_GV "image.openshift.io/v1"

typedef struct table_col {
    const char *name;
    const char *type;
    const char *format;
    const char *description;
    int priority;
    bool age;            /* cell holds Unix seconds; rendered "<duration> ago" */
} table_col_t;

/* A stored kind: its facts and the strategy hooks from image/. */
typedef struct kind_def {
    const char *resource;          /* "imagestreams" */
    const char *singular;          /* "imagestream" */
    const char *kind;              /* "ImageStream" */
    const char *list_kind;         /* "ImageStreamList" */
    const schema_kind_t *schema;
    bool namespaced;
    const char *verbs;             /* space separated, sorted */
    const char *short_name;        /* NULL or "is" */
    const char *category;          /* NULL or "all" */
    bool has_status;
    bool manages_generation;       /* ImageStream: metadata.generation by the strategy */
    const char *const *field_labels;   /* supported field selectors, NULL-terminated */
    const table_col_t *columns;
    size_t ncolumns;
    void (*normalize)(const image_ctx_t *c, json_t *o);
    void (*prepare_create)(const image_ctx_t *c, json_t *o);
    void (*prepare_update)(const image_ctx_t *c, json_t *o, const json_t *old);
    void (*prepare_status_update)(const image_ctx_t *c, json_t *o, const json_t *old);
    void (*validate)(const image_ctx_t *c, json_t *o, const json_t *old, ferrs_t *e);
    void (*validate_status_update)(const image_ctx_t *c, json_t *o, const json_t *old, ferrs_t *e);
    void (*decorate)(const image_ctx_t *c, json_t *o);
    json_t *(*table_cells)(const json_t *o);
    /* runtime */
    char *prefix;                  /* "/image.openshift.io/imagestreams/" */
    cache_t *cache;
    api_t *api;
} kind_def_t;

/* Precomputed per cached object (cache_obj_t.extra). */
typedef struct obj_extra {
    char *ns;
    char *name;
    char *uid;
    json_t *labels;      /* metadata.labels or NULL */
    char **fields;       /* values for kind->field_labels */
    size_t nfields;
    json_t *cells;       /* table cells */
    char *meta_json;     /* compact JSON of metadata (for PartialObjectMetadata) */
    const kind_def_t *kind;
} obj_extra_t;

typedef struct watch_registry watch_registry_t;
typedef struct api_barrier api_barrier_t;

struct api {
    api_config_t cfg;
    store_t *store;
    cache_set_t *caches;
    kind_def_t *kinds;
    size_t nkinds;
    atomic_bool ready;
    /* prebuilt documents */
    char *disc_aggregated;       /* /apis aggregated */
    char *disc_api_aggregated;   /* /api aggregated */
    char *disc_group_list;       /* /apis legacy */
    char *disc_group;            /* /apis/image.openshift.io */
    char *disc_resource_list;    /* /apis/image.openshift.io/v1 */
    char *disc_etag;
    char *openapi_v3;            /* GV document */
    size_t openapi_v3_len;
    char openapi_hash[129];
    char *openapi_root;
    watch_registry_t *watches;
    api_barrier_t *barrier;      /* read_barrier.c; NULL on the embedded store */
};

enum { ACCEPT_JSON, ACCEPT_TABLE, ACCEPT_PARTIAL, ACCEPT_PARTIAL_LIST, ACCEPT_YAML };

/* One API request, from routing to response. */
typedef struct api_req {
    api_t *api;
    http_req_t *http;
    kind_def_t *kind;
    char *ns;             /* NULL for cluster scope / all namespaces */
    char *name;           /* NULL for collection requests */
    char *subresource;    /* NULL or "status" */
    const char *verb;
    req_options_t opt;
    int accept;
    char **warnings;
    size_t nwarnings;
    char now[21];
    image_ctx_t ictx;
    apierr_t err;
} api_req_t;

/* kinds.c */
void kinds_init(api_t *a);
kind_def_t *kinds_find(api_t *a, const char *resource);
char *kind_key(const kind_def_t *k, const char *ns, const char *name);
cache_obj_t *kind_build_obj(void *ctx, const char *key, const char *value, size_t len,
                            int64_t create_rev, int64_t mod_rev);
/* Output form of a stored object: kind/apiVersion, resourceVersion, decorated. New ref. */
json_t *kind_output(kind_def_t *k, const image_ctx_t *ic, const char *value, size_t len, int64_t mod_rev,
                    bool decorate);
const char *extra_field(const obj_extra_t *x, const char *label);

/* status.c: responses */
void api_respond_error(api_req_t *r);
void api_respond_status_err(http_req_t *h, const apierr_t *err);
void api_respond_bytes(api_req_t *r, int code, const char *json, size_t len);
void api_respond_owned(api_req_t *r, int code, char *json, size_t len); /* takes json */
void api_respond_json(api_req_t *r, int code, json_t *obj); /* steals obj */
void api_respond_raw(http_req_t *h, int code, const char *ctype, const char *body, size_t len);
void api_warn(api_req_t *r, const char *msg);
void api_warn_cb(void *ctx, const char *msg);
json_t *status_success(const char *name, const char *group, const char *kind, const char *uid);

/* request.c */
api_req_t *api_req_new(api_t *a, http_req_t *h);
void api_req_free(api_req_t *r);
int api_accept_parse(const char *accept);
const char *api_field_manager(api_req_t *r, const char *fallback);

/* discovery.c */
void discovery_build(api_t *a);
void discovery_free(api_t *a);
bool discovery_route(api_t *a, http_req_t *h, const char *path);

/* openapi_serve.c */
void openapi_build(api_t *a);
bool openapi_route(api_t *a, http_req_t *h, const char *path);

/* namespace.c: the minimal core API kubectl and the Python client need */
bool namespace_route(api_t *a, http_req_t *h, const char *path);

/* table.c */
json_t *table_columns_json(const kind_def_t *k);
json_t *table_row(const kind_def_t *k, cache_obj_t *o, include_object_t inc, int64_t now);
json_t *table_row_from_json(const kind_def_t *k, const json_t *obj, include_object_t inc, int64_t now);
json_t *partial_object(const obj_extra_t *x);

/* read_barrier.c: consistent reads on etcd (see the file). 0, or -1 with r->err set;
 * blocks (pool threads only). */
int api_consistent_read(api_req_t *r, cache_t *c);
/* Non-blocking form for the loop: cont(r) runs once the cache reflects every write
 * acknowledged before this call (at once on the embedded store; else on the barrier
 * thread or the pool). On failure r is answered with the error and freed. */
void api_after_consistent_read(api_req_t *r, cache_t *c, void (*cont)(api_req_t *r));
int api_barrier_start(api_t *a);
void api_barrier_stop(api_t *a);   /* answers what is queued; later requests get 503 */
void api_barrier_free(api_t *a);
/* Waits for the cache to reach rev where that can happen (etcd), else 504 Too large resource version. */
int api_wait_rev(api_req_t *r, cache_t *c, int64_t rev);

/* verbs_read.c */
void verb_get(api_req_t *r);
void verb_list(http_req_t *h, void *arg);
/* Key prefix of the request's collection: the kind's, or the namespace's within it. */
char *collection_prefix(const api_req_t *r);
/* Parses labelSelector and fieldSelector (field_sel, if not NULL, is used instead of the
 * query's fieldSelector). 0, or -1 with r->err set and both outputs NULL. */
int selectors_parse(api_req_t *r, const char *field_sel, label_selector_t **ls, field_selector_t **fs);
bool obj_matches(api_req_t *r, label_selector_t *ls, field_selector_t *fs, cache_obj_t *o);

/* verbs_write.c */
/* r->err for a failed store call on object `name` (404, 409, 413, or 503 + Retry-After). -1. */
int api_store_fail(api_req_t *r, int rc, const char *name);
void verb_create(http_req_t *h, void *arg);
void verb_update(http_req_t *h, void *arg);
void verb_patch(http_req_t *h, void *arg);
json_t *decode_body(api_req_t *r, apierr_t *err);

/* verbs_delete.c */
void verb_delete(http_req_t *h, void *arg);
void verb_deletecollection(http_req_t *h, void *arg);

/* watch.c */
watch_registry_t *watch_registry_new(api_t *a);
void watch_registry_free(watch_registry_t *w);
void verb_watch(api_req_t *r);

#endif
