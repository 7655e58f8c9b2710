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

typedef api_kind_t kind_def_t;      /* the runtime copy of a domain kind (api_new) */
typedef api_table_col_t table_col_t;

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
    void *view;          /* kind->derive's view, or NULL */
    const kind_def_t *kind;
} obj_extra_t;

typedef struct watch_registry watch_registry_t;
typedef struct api_barrier api_barrier_t;

/* Stripes of the per-object write locks (object_lock.c). */
#define API_OBJECT_LOCKS 64

struct api_path {                /* api_add_path */
    char *path;
    http_handler_fn fn;
    void *arg;
};

struct api {
    api_config_t cfg;                /* authorizer always set */
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
    char *disc_core_resource_list;   /* /api/v1: the core kinds (Secret) */
    bool has_core;               /* some kind of the core group is served */
    char *disc_etag;
    char *disc_api_etag;         /* of disc_api_aggregated */
    char *openapi_v3;            /* GV document */
    size_t openapi_v3_len;
    char openapi_hash[129];
    char *openapi_core;          /* the core kinds' document (/openapi/v3/api/v1), NULL if none */
    size_t openapi_core_len;
    char openapi_core_hash[129];
    char *openapi_root;
    watch_registry_t *watches;
    api_barrier_t *barrier;      /* read_barrier.c; NULL on the embedded store */
    struct get_memo *get_memo;   /* get_memo.c */
    pthread_mutex_t object_locks[API_OBJECT_LOCKS];   /* object_lock.c */
    atomic_ullong *view_epochs;  /* per kind (index in kinds): object_views.c */
    struct api_path *paths;      /* api_add_path: served outside the API */
    size_t npaths;
};

struct api_call {
    api_t *api;
    const api_user_t *user;
    const char *field_manager;       /* NULL: the verb's fallback */
    field_validation_t field_validation;
    bool dry_run;
    int code;                        /* success code set by a handler, 0: the verb's */
    const char *precond_uid;         /* delete: DeleteOptions.preconditions.uid, or NULL */
    char now[21];
    char **warnings;
    size_t nwarnings;
    apierr_t err;
    /* suspended calls (api_call_suspend) */
    bool suspended;
    atomic_int holds;                /* suspended: the handler's return and api_call_finish;
                                        the last of the two frees the request */
    bool answered;                   /* the transport answered already (pool full / down) */
    struct api_req *req;             /* the request the call belongs to, NULL for api_call_new */
    api_executor_fn exec;
    void *exec_ctx;
};

/* api_obj_list that also reports the revision of the snapshot it listed. */
int api_obj_list_at(api_call_t *c, const api_kind_t *k, const char *ns, int (*fn)(void *arg, const json_t *obj),
                    void *arg, int64_t *rev_out);
/* The stored kind a derived virtual kind expands (virt->source), or NULL. */
const api_kind_t *kind_source(const kind_def_t *k);

void api_call_init(api_call_t *c, api_t *a, const api_user_t *user);
void api_call_clear(api_call_t *c);

enum { ACCEPT_JSON, ACCEPT_TABLE, ACCEPT_PARTIAL, ACCEPT_PARTIAL_LIST, ACCEPT_YAML };

/* One API request, from routing to response. */
typedef struct api_req {
    api_t *api;
    http_req_t *http;     /* NULL in unit tests of the router */
    kind_def_t *kind;
    char *resource;       /* the path's resource and subresource (before the kind is known) */
    char *subresource;
    char *ns;             /* NULL for cluster scope / all namespaces */
    char *name;           /* NULL for collection requests */
    const api_subresource_t *sub;   /* NULL, or the kind's subresource */
    const char *verb;
    char verb_buf[16];    /* the authorizer's verb for another method ("options") */
    bool watch_path;      /* /watch/... */
    const char *group;    /* the path's API group: NULL = API_GROUP (/apis/...), "" = core (/api/v1/...) */
    req_options_t opt;
    char manager[129];    /* the User-Agent's product token, when it names the field manager */
    int accept;
    api_call_t call;      /* user, time, dry run, field manager, warnings, the error */
} api_req_t;

/* kinds.c */
void kinds_init(api_t *a);
void kinds_free(api_t *a);
kind_def_t *kinds_find(api_t *a, const char *resource);
static inline bool kind_is_stored(const kind_def_t *k) { return k->virt == NULL; }
char *kind_key(const kind_def_t *k, const char *ns, const char *name);
cache_obj_t *kind_build_obj(void *ctx, const char *key, const char *value, size_t len,
                            int64_t create_rev, int64_t mod_rev);
/* obj (stolen) in output form: kind, apiVersion, metadata first, resourceVersion last in
 * metadata (where the cache puts it), decorated if asked. New ref. */
json_t *kind_canonical(kind_def_t *k, api_call_t *c, json_t *obj, bool decorate);
/* Sets metadata.resourceVersion (creating metadata if needed). */
void kind_set_rv(json_t *obj, int64_t rev);
/* Output form of a stored object: kind/apiVersion, resourceVersion, decorated. New ref. */
json_t *kind_output(kind_def_t *k, api_call_t *c, const char *value, size_t len, int64_t mod_rev,
                    bool decorate);
const char *extra_field(const obj_extra_t *x, const char *label);
/* Value of a field selector label of a decoded object ("" if absent); caller frees. */
char *kind_field_value(const json_t *obj, const char *label);
/* Newest revision any stored kind's cache has applied (no store round trip). */
int64_t kinds_cache_rev(api_t *a);

/* object_views.c: counts, per kind, the changes of objects that have or had a derived
 * view (the cache's apply hook of kinds with derive). */
void views_watch(api_t *a, kind_def_t *k);

/* stored_value.c: the stored bytes of an object's canonical JSON (json, len; malloc'ed and
 * taken) — the same buffer, or a deflated copy when large — and back. decode: NULL when
 * the value is not an object's JSON in either form. */
char *stored_value_encode(char *json, size_t len, size_t *out_len);
json_t *stored_value_decode(const char *value, size_t len);

/* authz.c: the Forbidden Status for attrs (kube-apiserver's wording). -1. */
int api_forbidden(apierr_t *err, const api_authz_attrs_t *attrs, const char *reason);
/* The user a request acts as: system:anonymous until authentication exists (issue 10). */
const api_user_t *api_request_user(api_t *a, http_req_t *h);
/* Runs the configured authorizer; 0 if allowed, else -1 with the 403 in err. */
int authz_check(api_t *a, const api_authz_attrs_t *attrs, apierr_t *err);

/* store_errors.c: the one mapping from a STORE_* result on object `name` of kind k to a
 * Status (404, 409, 410, 413, 503 + Retry-After, 504). -1. */
int api_store_err(apierr_t *err, const kind_def_t *k, int rc, const char *name);

/* object_lock.c: the lock of one stored object for a read-modify-write (mutate, delete),
 * one of API_OBJECT_LOCKS stripes by kind, namespace and name. Blocks (pool threads and
 * the server's own threads only, never an event loop). NULL when this thread holds an
 * object lock already (a write nested in a mutate function): nothing is taken, so nested
 * writes cannot deadlock on a shared stripe. */
pthread_mutex_t *object_lock(api_t *a, const kind_def_t *k, const char *ns, const char *name);
void object_unlock(pthread_mutex_t *m);   /* NULL: nothing */
/* get_memo.c: answers of virtual GETs kept while the objects they were made from are
 * unchanged (api_virtual_ops_t.get_deps). serve answers r and returns true on a hit. */
typedef struct get_memo get_memo_t;
get_memo_t *get_memo_new(void);
void get_memo_free(get_memo_t *m);
bool get_memo_eligible(const api_req_t *r);
/* consistent: first a consistent read of each cache the kept answer depends on (etcd, pool
 * threads only); false: the caches are known current (embedded store, event loop). */
bool get_memo_serve(api_req_t *r, bool consistent);
void get_memo_keep(api_req_t *r, const json_t *answer, const char *json, size_t len);

void object_locks_init(api_t *a);
void object_locks_free(api_t *a);

/* object.c: the stored object in output form, read from the store (not the cache), as
 * writes start from it. NULL with the call's error set (404, 503). */
json_t *object_load(api_call_t *c, kind_def_t *k, const char *ns, const char *name, int64_t *rev);

/* status.c: responses */
void api_respond_error(api_req_t *r);
void api_respond_status_err(http_req_t *h, const apierr_t *err);
void api_respond_bytes(api_req_t *r, int code, const char *json, size_t len);
void api_respond_owned(api_req_t *r, int code, char *json, size_t len); /* takes json */
void api_respond_json(api_req_t *r, int code, json_t *obj); /* steals obj */
void api_respond_raw(http_req_t *h, int code, const char *ctype, const char *body, size_t len);
void api_warn_cb(void *call, const char *msg);   /* schema decoders' warn callback */
json_t *status_success(const char *name, const char *group, const char *kind, const char *uid);

/* request.c */
api_req_t *api_req_new(api_t *a, http_req_t *h);
void api_req_free(api_req_t *r);
int api_accept_parse(const char *accept);
/* The Content-Type of a request body, classified (a missing or empty header counts as
 * application/json). Pure (fuzzed, unit-tested). */
enum { CT_BODY_JSON, CT_BODY_YAML, CT_BODY_PROTOBUF };
int api_content_type_kind(const char *ct);   /* create/update body: CT_BODY_*, or -1 (415) */
enum { PT_MERGE, PT_JSON, PT_STRATEGIC, PT_APPLY };
int api_patch_type(const char *ct);          /* PATCH body: PT_*, or -1 (415) */
/* fieldManager, else the User-Agent's product token (kept in r), else fallback. */
const char *api_field_manager(api_req_t *r, const char *fallback);
/* http_defer for an api request: if the transport refuses (it answered 429/503), r is
 * freed here. */
void api_defer(api_req_t *r, void (*fn)(http_req_t *h, void *arg));

/* route.c: no I/O (fuzzed and unit-tested). Two steps, as kube-apiserver: first what the
 * authorizer needs, from the raw path alone — resource, subresource, namespace, name, verb
 * (api_route_info); then the kind, subresource, options and verb checks from the kind
 * table (api_route_resolve). rest: the path after /apis/<group>/<version>/, %-encoded.
 * 0; ROUTE_NOT_FOUND (nothing is served there); -1 with r->call.err set. */
#define ROUTE_NOT_FOUND 1
int api_route_info(api_req_t *r, const char *method, const char *rest, const char *query);
int api_route_resolve(api_req_t *r, const char *method, const char *query);
int api_route_parse(api_req_t *r, const char *method, const char *rest, const char *query);   /* both */
/* The authorizer's verb for a method without one of its own: its lower-case name in buf. */
const char *api_method_verb(const char *method, char *buf, size_t size);
/* The authorization attributes of a request after api_route_info. */
void api_route_attrs(const api_req_t *r, api_authz_attrs_t *attrs);

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
/* The same with the object's cells computed already (k->table_cells). */
json_t *table_row_cells(const kind_def_t *k, const json_t *cells, const json_t *obj, include_object_t inc,
                        int64_t now);
json_t *partial_object(const obj_extra_t *x);

/* read_barrier.c: consistent reads on etcd (see the file). 0, or -1 with the call's error
 * set; blocks (pool threads only). */
int api_consistent_read(api_call_t *c, cache_t *cache);
/* Non-blocking form for the loop: cont(r) runs once the cache reflects every write
 * acknowledged before this call (at once on the embedded store; else on the barrier
 * thread or the pool). On failure r is answered with the error and freed. */
void api_after_consistent_read(api_req_t *r, cache_t *c, void (*cont)(api_req_t *r));
int api_barrier_start(api_t *a);
void api_barrier_stop(api_t *a);   /* answers what is queued; later requests get 503 */
void api_barrier_free(api_t *a);
/* Waits for the cache to reach rev where that can happen (etcd), else 504 Too large resource version. */
int api_wait_rev(api_call_t *c, cache_t *cache, int64_t rev);

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
void verb_create(http_req_t *h, void *arg);
void verb_update(http_req_t *h, void *arg);
void verb_patch(http_req_t *h, void *arg);
json_t *decode_body(api_req_t *r, apierr_t *err);
/* Sends an object (output form) as JSON or a one-row Table. Steals obj. */
void respond_obj(api_req_t *r, int code, json_t *obj);

/* verbs_virtual.c: the verbs of a virtual kind, through its handlers (pool threads) */
void verb_virtual(http_req_t *h, void *arg);
/* get of a subresource served by a handler (pool thread) */
void verb_subresource_get(http_req_t *h, void *arg);

/* verbs_delete.c */
void verb_delete(http_req_t *h, void *arg);
void verb_deletecollection(http_req_t *h, void *arg);

/* watch.c */
watch_registry_t *watch_registry_new(api_t *a);
void watch_registry_free(watch_registry_t *w);
/* Stored kinds, and kinds derived from one (their source kind's watch, expanded). */
void verb_watch(api_req_t *r);
/* The cache a watch of k follows: its own, or its source kind's. NULL if k has none. */
cache_t *kind_watch_cache(const kind_def_t *k);

/* watch_derived.c: one source event as changes of the items a derived kind expands it
 * into (dispatcher thread only; see the file). */
typedef struct derived_item {
    const kind_def_t *kind;
    const char *name;              /* metadata.name (in obj) */
    json_t *obj;                   /* output form, resourceVersion = the event's revision */
    char *json;                    /* obj, compact */
    size_t len;
    char **fields;                 /* values of kind->field_labels */
    size_t nfields;
    json_t *cells;                 /* table cells, built on first use */
} derived_item_t;

typedef struct derived_change {
    derived_item_t *cur;           /* the item after the event; NULL: it is gone */
    derived_item_t *old;           /* before; NULL: it is new */
    bool changed;                  /* both there, and different */
} derived_change_t;

typedef struct derived_event {
    cache_obj_t *obj, *prev;       /* held: with rev and type, what the memo is keyed on */
    int64_t rev;
    cache_ev_type_t type;
    derived_item_t *items;
    size_t nitems;
    derived_change_t *ch;          /* in name order */
    size_t n;
} derived_event_t;

/* The changes ev makes to kind k's items, shared by every watcher of k for ev (valid until
 * the dispatcher asks for another event of k). c is the call expand gets: expand must
 * depend on the source object alone. Never NULL (no items: no changes). */
derived_event_t *derived_event(const kind_def_t *k, api_call_t *c, const cache_event_t *ev);
bool derived_item_matches(label_selector_t *ls, field_selector_t *fs, const derived_item_t *it);
const json_t *derived_item_cells(derived_item_t *it);

#endif
