/* schema: every kind described once, as static C data, and the walkers that use
 * that description: strict/warn/ignore decoding, OpenAPI v3 documents,
 * patch-strategy lookups for strategic merge patch and server-side apply. */
#ifndef IAS_SCHEMA_H
#define IAS_SCHEMA_H

#include <jansson.h>
#include <stdbool.h>

#include "util/apierr.h"

typedef enum {
    ST_STRING,
    ST_INT,       /* int64 */
    ST_NUMBER,
    ST_BOOL,
    ST_OBJECT,    /* fixed fields: schema_node_t.fields */
    ST_ARRAY,     /* elements: schema_node_t.items */
    ST_MAP,       /* string keys, values: schema_node_t.items */
    ST_TIME,      /* RFC 3339 string (or null) */
    ST_BYTES,     /* base64 string */
    ST_ANY,       /* free-form JSON (e.g. RawExtension, fieldsV1); not walked */
} schema_type_t;

enum {
    SF_REQUIRED = 1 << 0,   /* listed in OpenAPI "required" */
    SF_NULLABLE = 1 << 1,
};

typedef struct schema_node schema_node_t;

struct schema_node {
    const char *name;                 /* JSON field name; NULL ends a field list */
    schema_type_t type;
    unsigned flags;
    const char *description;
    const char *format;               /* OpenAPI format ("int64", "date-time", "byte"), or NULL */
    const char *patch_strategy;       /* "merge", "replace", "retainKeys", "merge,retainKeys" or NULL */
    const char *merge_key;            /* for lists of objects merged by key ("name", "tag") */
    const char *list_type;            /* x-kubernetes-list-type: "atomic", "map", "set" or NULL */
    const char *ref;                  /* OpenAPI component name of this object type, e.g.
                                         "com.github.openshift.api.image.v1.ImageStream" */
    const schema_node_t *fields;      /* ST_OBJECT: NULL-name-terminated array */
    const schema_node_t *items;       /* ST_ARRAY / ST_MAP element */
};

/* A kind at the top level of the API. */
typedef struct schema_kind {
    const char *group;                /* "image.openshift.io" */
    const char *version;              /* "v1" */
    const char *kind;                 /* "ImageStream" */
    const schema_node_t *root;        /* ST_OBJECT with apiVersion, kind, metadata, ... */
} schema_kind_t;

/* Known kinds (defined in schema/kinds_*.c). */
extern const schema_kind_t schema_image_stream;
extern const schema_kind_t schema_image;
extern const schema_kind_t schema_image_signature;
extern const schema_kind_t schema_image_stream_tag;
extern const schema_kind_t schema_image_stream_image;
extern const schema_kind_t schema_image_tag;
extern const schema_kind_t schema_image_stream_import;
extern const schema_kind_t schema_image_stream_mapping;
extern const schema_kind_t schema_image_stream_layers;
extern const schema_kind_t schema_secret;                 /* core v1 (kinds_core.c) */
extern const schema_kind_t schema_secret_list;            /* imagestreams/<name>/secrets */
extern const schema_node_t schema_object_meta;    /* io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta */
extern const schema_node_t schema_delete_options; /* ...meta.v1.DeleteOptions */

/* Child field of an object node, NULL if unknown. */
const schema_node_t *schema_field(const schema_node_t *obj, const char *name);
/* Resolves a path like "spec.tags" from a kind's root, NULL if unknown. */
const schema_node_t *schema_lookup(const schema_node_t *root, const char *dotted_path);

typedef enum { FV_STRICT, FV_WARN, FV_IGNORE } field_validation_t;

/* Decodes a request body (JSON) for a kind.
 *  - malformed JSON / wrong JSON type for a field -> 400 BadRequest
 *    "<Kind> in version \"v1\" cannot be handled as a <Kind>: <reason>";
 *  - unknown fields (at any depth, not inside ST_ANY, not in metadata.labels/annotations
 *    maps) and duplicate fields: Strict -> 400 with
 *    "... strict decoding error: unknown field \"spec.foo\", duplicate field \"x\"";
 *    Warn -> dropped, each reported through warn(ctx, "unknown field \"spec.foo\"");
 *    Ignore -> dropped silently.
 * Returns the decoded object (new reference) or NULL with err set. */
json_t *schema_decode(const schema_kind_t *k, const char *body, size_t len, field_validation_t fv,
                      void (*warn)(void *ctx, const char *msg), void *warn_ctx, apierr_t *err);
/* Same checks on an already parsed value (used after YAML -> JSON and after patches). */
int schema_check(const schema_kind_t *k, json_t *obj, field_validation_t fv,
                 void (*warn)(void *ctx, const char *msg), void *warn_ctx, apierr_t *err);

/* ---- OpenAPI ---- */
/* Description of one served resource, to build paths. */
typedef struct schema_resource {
    const schema_kind_t *kind;
    const char *plural;               /* "imagestreams" */
    bool namespaced;
    const char *verbs;                /* space separated: "create delete deletecollection get list patch update watch" */
    const char *subresource;          /* NULL, or "status" (then plural is the parent) */
    const char *parent_kind;          /* subresource: the parent's kind ("ImageStream"), which names
                                         the operations as Kubernetes does (readNamespacedImageStreamLayers);
                                         NULL = kind->kind */
    const schema_kind_t *path_kind;   /* whose group/version the paths are under (a subresource:
                                         its parent's); NULL = kind */
} schema_resource_t;

/* verb is one of the space separated words of verbs ("create delete get" has "get"). */
bool schema_verbs_has(const char *verbs, const char *verb);

/* Builds the OpenAPI v3 document for image.openshift.io/v1 (paths for every resource,
 * components.schemas for every kind and the meta.v1 types). New reference. */
json_t *schema_openapi_v3(const schema_resource_t *res, size_t n);

#endif
