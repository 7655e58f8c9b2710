/* resource: how a domain (image/) plugs kinds into the generic API machinery, and the
 * internal object API that everything which changes a stored object goes through —
 * the HTTP verbs, virtual resources, controllers. Nothing here writes an HTTP response.
 *
 * A kind is described once, as data (api_kind_t): names, scope, verbs, subresources,
 * field selectors, table columns, and either strategy hooks (a stored kind: kept in the
 * store and the watch cache) or per-verb handlers (a virtual kind: no cache, no key; its
 * handlers read and write stored kinds through the object API). Discovery, OpenAPI,
 * Table output and routing all derive from that table. */
#ifndef IAS_API_RESOURCE_H
#define IAS_API_RESOURCE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schema/schema.h"
#include "util/apierr.h"

typedef struct api api_t;
/* One call's context: who asks (user), the time, dry run, the field manager, warnings,
 * and one error slot that the first failure fills. Hooks and handlers get it opaquely. */
typedef struct api_call api_call_t;

/* ---- identity ---- */
typedef struct api_user {
    const char *name;              /* "system:anonymous" */
    const char *uid;               /* "" if none */
    const char *const *groups;     /* NULL-terminated */
    const json_t *extra;           /* object of string arrays, or NULL */
} api_user_t;

/* The user of every request until authentication exists: system:anonymous in
 * system:unauthenticated. */
extern const api_user_t api_user_anonymous;

/* ---- authorization (Kubernetes' attributes) ---- */
typedef struct api_authz_attrs {
    const api_user_t *user;
    const char *verb;              /* get list watch create update patch delete deletecollection;
                                      for non-resource paths the lower-case HTTP method */
    bool resource_request;
    const char *group;             /* "image.openshift.io", "" for core */
    const char *resource;          /* "imagestreams" */
    const char *subresource;       /* "" or "status" */
    const char *ns;                /* "" for cluster scope or all namespaces */
    const char *name;              /* "" for collections */
    const char *path;              /* the request path (non-resource requests) */
} api_authz_attrs_t;

typedef enum { API_AUTHZ_ALLOW, API_AUTHZ_DENY } api_authz_decision_t;

/* Decides one request. Runs on an event-loop thread: must not block (no I/O). *reason may
 * receive a malloc'ed text appended to the Forbidden message. */
typedef api_authz_decision_t (*api_authorizer_fn)(void *ctx, const api_authz_attrs_t *attrs, char **reason);

/* The default: everything is allowed. */
api_authz_decision_t api_authorize_all(void *ctx, const api_authz_attrs_t *attrs, char **reason);

/* ---- kinds ---- */
typedef struct api_table_col {
    const char *name;
    const char *type;
    const char *format;
    const char *description;
    int priority;
    bool age;                      /* cell holds Unix seconds; rendered "<duration> ago" */
    bool age_plain;                /* with age: rendered "<duration>" (kube's Age column) */
} api_table_col_t;

/* A subresource of a kind. status of a stored kind is built in (is_status): get shows the
 * stored object, writes change only what prepare/validate_status_update allow. Any other
 * subresource is served by its get handler. */
typedef struct api_subresource {
    const char *name;              /* "status", "layers" */
    const char *verbs;             /* space separated, sorted */
    const schema_kind_t *schema;   /* response kind; NULL = the parent's */
    bool is_status;
    json_t *(*get)(api_call_t *c, const char *ns, const char *name);
} api_subresource_t;

/* A read-modify-write step (api_obj_mutate, a virtual kind's patch): changes *obj in place
 * or replaces it; 0, API_MUTATE_UNCHANGED (mutate: nothing to write), or -1 with the
 * call's error set. */
typedef int (*api_mutate_fn)(api_call_t *c, json_t **obj, void *arg);

/* Handlers of a virtual kind, one per verb it serves (NULL = not served; patch is get +
 * update). Each returns a new object in output form, or NULL with the call's error set.
 * list returns a JSON array of items. delete returns what the response carries (a Status
 * or the object). Handlers run on pool threads and may block on the store. */
/* A stored object a virtual GET's answer was made from. */
#define API_GET_DEPS 4
typedef struct api_get_dep {
    const char *resource;          /* a stored kind: "imagestreams" (static) */
    char ns[64];                   /* "" for cluster scope */
    char name[256];
    int64_t rev;                   /* its resourceVersion in the answer */
} api_get_dep_t;

typedef struct api_virtual_ops {
    json_t *(*get)(api_call_t *c, const char *ns, const char *name);
    json_t *(*list)(api_call_t *c, const char *ns);
    json_t *(*create)(api_call_t *c, const char *ns, json_t *obj);
    json_t *(*update)(api_call_t *c, const char *ns, const char *name, json_t *obj);
    json_t *(*del)(api_call_t *c, const char *ns, const char *name);
    /* Optional: patch as one read-modify-write of the handler's own (the reference's
     * ImageStreamTag: the patch applies to the object synthesised from the stream read
     * inside the write's retry loop, under the stream's lock). apply replaces *obj with
     * the patched object (0) or fails (-1, the call's error set). Without it patch is
     * get + update. */
    json_t *(*patch)(api_call_t *c, const char *ns, const char *name, api_mutate_fn apply, void *arg);
    /* A kind derived from a stored one (ImageStreamTag from ImageStream): the stored
     * kind's resource and the items one source object yields, in list form, as a new
     * array (each with a metadata.name unique within the source object; kind and
     * apiVersion may be left out). With these api/ serves list (when list is NULL: a
     * consistent snapshot of the source kind, expanded; the list's resourceVersion is the
     * snapshot's) and, if the kind lists the verb, watch: the source kind's watch, each
     * source event turned into ADDED/MODIFIED/DELETED events of the items it adds,
     * changes or removes (matched by name, compared as JSON), whose resourceVersion is
     * the event's revision; selectors apply to the items.
     * expand must be a pure function of the source object (output form, as a GET shows
     * it) and the domain's configuration (api_call_domain): it runs on the watch
     * dispatcher thread, once per source event for all watchers of the kind, with the call
     * of one of the watching requests. It must not touch the store (no api_obj_*, no
     * api_authorize), block, or depend on the call's user; an error it sets is logged and
     * the object then yields no items. */
    const char *source;
    json_t *(*expand)(api_call_t *c, const json_t *source_obj);
    /* Optional: the stored objects (at most API_GET_DEPS) a get's answer was made from,
     * read off the answer; 0 = do not keep it. api/ then keeps the encoded answer and
     * serves the same GET again from memory, without calling get, while each of them is
     * at the same revision (get must depend on nothing else: not on the time, nor on who
     * asks beyond the authorization api/ does first). */
    size_t (*get_deps)(const json_t *answer, api_get_dep_t deps[API_GET_DEPS]);
} api_virtual_ops_t;

typedef struct cache cache_t;

typedef struct api_kind {
    const char *resource;          /* "imagestreams" */
    const char *singular;          /* "imagestream" */
    const char *kind;              /* "ImageStream" */
    const char *list_kind;         /* "ImageStreamList" */
    const schema_kind_t *schema;
    bool namespaced;
    const char *verbs;             /* space separated, sorted */
    const char *const *short_names;   /* NULL-terminated, or NULL */
    const char *const *categories;    /* NULL-terminated, or NULL */
    const api_subresource_t *subresources;
    size_t nsubresources;
    const char *const *field_labels;  /* field selectors, NULL-terminated */
    const api_table_col_t *columns;
    size_t ncolumns;
    json_t *(*table_cells)(const json_t *o);
    /* stored kinds: strategy hooks (any may be NULL) */
    bool manages_generation;
    void (*normalize)(api_call_t *c, json_t *o);
    void (*prepare_create)(api_call_t *c, json_t *o);
    void (*prepare_update)(api_call_t *c, json_t *o, const json_t *old);
    void (*prepare_status_update)(api_call_t *c, json_t *o, const json_t *old);
    void (*validate)(api_call_t *c, json_t *o, const json_t *old, ferrs_t *e);
    void (*validate_status_update)(api_call_t *c, json_t *o, const json_t *old, ferrs_t *e);
    /* The prepare step of an internal write (api_write_opts_t.internal; old NULL on
     * create): the server's own writes of spec and status together (ImageStreamTag,
     * ImageStreamImport). NULL: the object is written as given. */
    void (*prepare_internal)(api_call_t *c, json_t *o, const json_t *old);
    void (*decorate)(api_call_t *c, json_t *o);   /* output form; c has no user at cache build */
    /* Optional: a create/update body in application/vnd.kubernetes.protobuf (kubectl sends
     * core kinds so) as the JSON object, or NULL with a 400 in err. The schema's checks then
     * run on it as on a JSON body. NULL: protobuf bodies are refused (415). */
    json_t *(*decode_protobuf)(const void *body, size_t len, apierr_t *err);
    /* A view of the object that read paths need often and that is costly to compute from
     * its JSON (the index of a stream's tag history). Built once per stored revision, from
     * the output form, when the watch cache builds the object, and kept next to it like its
     * table cells; read with api_obj_view / api_obj_views. Runs on the thread applying
     * store events: keep it cheap. May return NULL (no view for this object). */
    void *(*derive)(const json_t *obj);
    void (*derive_free)(void *view);
    /* virtual kinds: handlers, and the rule for names on item paths ("<stream>:<tag>"):
     * 0, or -1 with the call's error set */
    const api_virtual_ops_t *virt;
    int (*check_name)(api_call_t *c, const char *name);
    /* runtime, set by api_new */
    char *api_version;             /* from the schema's group/version: "image.openshift.io/v1",
                                      "v1" for the core group (served under /api/v1) */
    char *prefix;                  /* stored: "/image.openshift.io/imagestreams/", core "/secrets/" */
    cache_t *cache;                /* stored: its watch cache */
    api_t *api;
} api_kind_t;

/* The revision a stored kind's watch cache has reached (a list's resourceVersion after
 * api_obj_list's consistent read). */
int64_t api_kind_rev(const api_kind_t *k);

/* The served kind for a plural resource name, or NULL. */
const api_kind_t *api_kind_find(api_t *a, const char *resource);
const api_subresource_t *api_kind_subresource(const api_kind_t *k, const char *name);

/* ---- calls ---- */
/* A context for a caller that is not an HTTP request (a controller): user and field
 * manager are kept by pointer and must outlive the call. */
api_call_t *api_call_new(api_t *a, const api_user_t *user, const char *field_manager);
void api_call_free(api_call_t *c);
api_t *api_call_api(api_call_t *c);
void *api_call_domain(api_call_t *c);          /* api_config_t.domain */
const char *api_call_now(api_call_t *c);       /* RFC 3339 time of the call */
const api_user_t *api_call_user(api_call_t *c);
bool api_call_dry_run(api_call_t *c);
void api_call_set_dry_run(api_call_t *c, bool dry_run);
apierr_t *api_call_err(api_call_t *c);
/* The HTTP code of a handler's success when it is not the verb's usual one (an update
 * of a virtual kind that created what it names answers 201). */
void api_call_set_code(api_call_t *c, int code);
/* The uid precondition of a delete (DeleteOptions.preconditions.uid), or NULL. */
const char *api_call_precondition_uid(api_call_t *c);
void api_call_warn(api_call_t *c, const char *msg);

/* ---- calls that wait on something other than the store ----
 * A virtual create that waits on a remote peer (an ImageStreamImport waits on registries)
 * must not hold a pool thread meanwhile. Its handler calls api_call_suspend(c), starts the
 * work and returns NULL; api/ then keeps the request open. Later, from any thread (the
 * registry client's), the domain calls api_call_resume(c, fn, arg): fn(c, arg) runs
 * exactly once on a thread that may block on the store — the pool for a request; for a
 * call of api_call_new, the executor set with api_call_set_executor, else the calling
 * thread. When the pool cannot take it (full, or shutting down) fn still runs, on the
 * calling thread, with the call's error already set (429/503, answered to the client):
 * it must then only clean up. A suspended request ends with api_call_finish(c, res): res
 * (stolen) is what create would have returned (NULL: the call's error is answered). For a
 * call of api_call_new, api_call_finish only drops res: its owner handles completion. */
typedef void (*api_resume_fn)(api_call_t *c, void *arg);
typedef void (*api_executor_fn)(void *ctx, api_call_t *c, api_resume_fn fn, void *arg);
void api_call_suspend(api_call_t *c);
bool api_call_suspended(const api_call_t *c);
void api_call_resume(api_call_t *c, api_resume_fn fn, void *arg);
void api_call_finish(api_call_t *c, json_t *res);
void api_call_set_executor(api_call_t *c, api_executor_fn exec, void *ctx);

/* Asks the authorizer on behalf of the call's user; 0 if allowed, else -1 with a 403
 * Forbidden in the call's error (kube-apiserver's message). */
int api_authorize(api_call_t *c, const char *verb, const char *group, const char *resource,
                  const char *subresource, const char *ns, const char *name);

/* The same question without touching the call's error: true if allowed; when denied,
 * *reason (if not NULL) receives the authorizer's malloc'ed reason or NULL. */
bool api_authorize_query(api_call_t *c, const char *verb, const char *group, const char *resource,
                         const char *subresource, const char *ns, const char *name, char **reason);

/* ---- the internal object API (stored kinds) ----
 * Objects are in output form: kind, apiVersion, metadata (with resourceVersion) first,
 * decorated as a GET shows them (writes to status: as stored). Every function returns a
 * new reference, or NULL with the call's error set (404, 409, 422, 503 ...). Writes run
 * the kind's strategy, validation, generation rules and managedFields (manager: the
 * call's), honour the call's dry run, and may block: call them from pool threads or
 * threads of your own, never from an event loop. */
typedef struct api_write_opts {
    const char *subresource;       /* NULL, or "status" */
    bool rv_required;              /* update: metadata.resourceVersion must be set (PUT) */
    bool fields_managed;           /* managedFields already computed (server-side apply) */
    bool create_missing;           /* mutate: fn gets NULL when absent; its result is created */
    int attempts;                  /* mutate: attempts before a conflict is returned; 0 =
                                      API_MUTATE_ATTEMPTS (the server's own writers are
                                      serialised: only other writers spend them) */
    /* An internal write: the whole object as given, spec and status, on create and
     * update, through the kind's prepare_internal instead of its public prepare hooks
     * (validation, generation rules, managedFields and dry run as usual). For the
     * server's own writes on a user's behalf, never for a request body as such. */
    bool internal;
} api_write_opts_t;

/* The system fields of a new object's metadata, as a create sets them: server-owned fields
 * wiped, generateName resolved, uid and creationTimestamp (the call's time) set. For
 * objects kept inside another (an Image's signatures) as well as by api_obj_create. */
void api_meta_prepare_create(api_call_t *c, json_t *meta);

/* Consistent read (every write acknowledged before the call is visible). */
json_t *api_obj_get(api_call_t *c, const api_kind_t *k, const char *ns, const char *name);
/* Calls fn for every object of the namespace (NULL: all), in key order, from one consistent
 * snapshot; fn returns 0 to go on, 1 to stop, -1 to fail (set the call's error). 0 / -1. */
int api_obj_list(api_call_t *c, const api_kind_t *k, const char *ns,
                 int (*fn)(void *arg, const json_t *obj), void *arg);
/* obj is the object to create (borrowed; namespace from ns, name or generateName). */
json_t *api_obj_create(api_call_t *c, const api_kind_t *k, const char *ns, const json_t *obj);
/* Replaces name with obj (borrowed). A resourceVersion in obj must match the stored one
 * (409 otherwise); without one the update is unconditional unless opts->rv_required. */
json_t *api_obj_update(api_call_t *c, const api_kind_t *k, const char *ns, const char *name,
                       const json_t *obj, const api_write_opts_t *opts);
/* Deletes name (preconditions may be NULL). Objects with finalizers are only marked
 * (deletionTimestamp): *pending is then true. Returns the object as deleted / marked. */
json_t *api_obj_delete(api_call_t *c, const api_kind_t *k, const char *ns, const char *name,
                       const char *precond_uid, const char *precond_rv, bool *pending);

/* The kind's derived view (api_kind_t.derive) of one object as the watch cache holds it,
 * after a consistent read: 0 with *view (NULL when the kind derived nothing for it) and
 * *held, which keeps the view alive until api_view_release(*held); or -1 with the call's
 * error set (404). Never decodes the object: the point is to skip that. */
typedef struct api_view_hold api_view_hold_t;
int api_obj_view(api_call_t *c, const api_kind_t *k, const char *ns, const char *name, const void **view,
                 api_view_hold_t **held);
void api_view_release(api_view_hold_t *held);
/* The views of many objects of one namespace (NULL: cluster scope) from one snapshot:
 * fn(arg, i, view) for each names[i], view NULL when the object is absent or has none.
 * names must be sorted in byte order (strcmp) for the lookups to be found. fn runs under
 * the cache's read lock: it must not call the object API. 0, or -1 with the error set. */
int api_obj_views(api_call_t *c, const api_kind_t *k, const char *ns, const char *const *names, size_t n,
                  void (*fn)(void *arg, size_t i, const void *view), void *arg);

/* A number that changes whenever an object of k that has, or had, a derived view is created,
 * changed or deleted (and when the cache reloads), read after a consistent read: what
 * depends only on the views of k can be memoized against it — a stream's manifest-list
 * children, while image writes that make no list leave it alone. 0, or -1 with the error. */
int api_views_epoch(api_call_t *c, const api_kind_t *k, uint64_t *epoch);

/* Many objects of one namespace (NULL: cluster scope) from one consistent snapshot, with
 * one read barrier: fn(arg, i, obj) for each names[i], obj NULL when absent (borrowed for
 * the call; in output form). names must be sorted in byte order. Objects are decoded
 * outside the cache's lock: fn may call the object API. fn returns 0 to go on, -1 to
 * stop with the call's error set. 0, or -1. */
int api_obj_get_many(api_call_t *c, const api_kind_t *k, const char *ns, const char *const *names, size_t n,
                     int (*fn)(void *arg, size_t i, const json_t *obj), void *arg);

/* Mutate with retry: reads name, calls fn with *obj = a copy of it (fn may change it in
 * place or replace it; NULL when absent and opts->create_missing), writes the result with
 * the resourceVersion read, and on a conflict reads again and calls fn again, at most
 * API_MUTATE_ATTEMPTS times (a create that meets one made meanwhile counts as a conflict).
 * A resourceVersion that fn sets to another value is a precondition (409, no retry). fn
 * returns 0, API_MUTATE_UNCHANGED (nothing to write: the current object is returned), or
 * -1 with the call's error set. Exhausted attempts: 409 Conflict on the kind.
 *
 * Writes of one object by this server are serialised: mutate and delete hold a lock of
 * the object (striped by kind, namespace and name) from the read to the write, so the
 * server's own concurrent requests never conflict with each other and only writers
 * elsewhere (another replica on etcd) count against the bound. A mutate inside fn (of
 * any object) does not take a lock again (the thread holds one already). */
#define API_MUTATE_ATTEMPTS 8
#define API_MUTATE_UNCHANGED 1
json_t *api_obj_mutate(api_call_t *c, const api_kind_t *k, const char *ns, const char *name,
                       api_mutate_fn fn, void *arg, const api_write_opts_t *opts);

#endif
