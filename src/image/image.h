/* image: the image.openshift.io domain. Strategies (prepare, validate, decorate,
 * wire-shape normalisation, table cells) for the stored kinds ImageStream and
 * Image, docker reference parsing, tag history, and manifest -> metadata.
 * Works on jansson objects; never touches the store or HTTP. The generic
 * handlers in api/ do the Kubernetes parts (metadata system fields, managedFields,
 * resourceVersion, namespace rules) and call these hooks. */
#ifndef IAS_IMAGE_H
#define IAS_IMAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/resource.h"
#include "util/apierr.h"

/* The OpenPGP engine that reads signature contents (sig_gpg.c). */
typedef struct sig_verifier sig_verifier_t;

/* The registry side of imports (isi.h). */
struct isi_registry_ops;

typedef struct image_config {
    const char *registry_hostname;         /* internal, NULL if unset (--registry-hostname) */
    const char *public_registry_hostname;  /* external, NULL if unset */
    const char *default_import_mode;       /* "Legacy" (default) or "PreserveOriginal" */
    int max_tag_history;                   /* events kept per tag, 0 = unlimited (--max-tag-history) */
    const sig_verifier_t *signatures;      /* NULL: signature contents are not read */
    const char *registry_auth_file;        /* docker config.json read per import, NULL if unset
                                              (--registry-auth-file, credentials.h) */
    /* ImageStreamImport (isi.h, docs/imagestreamimport.md) */
    const struct isi_registry_ops *registry; /* NULL: every fetch fails "no registry client" */
    int max_images_bulk;                   /* tags imported per repository import: 50 by
                                              default, -1 unlimited, 0 no listing
                                              (--max-images-bulk-imported-per-repository) */
    const char *allowed_registries;        /* "host[:port],..." or NULL: any registry
                                              (--allowed-registries-for-import) */
    const char *insecure_registries;       /* "host[:port],...": http / unverified TLS allowed
                                              (--insecure-registries) */
} image_config_t;

/* What a strategy may need from outside during one request. */
typedef struct image_ctx {
    const image_config_t *cfg;
    const char *now;                       /* RFC 3339 time of the request */
    /* Reads another stream (same or other namespace) for ImageStreamTag/ImageStreamImage
     * references; returns a new reference or NULL if it does not exist. May be NULL. */
    json_t *(*get_stream)(void *arg, const char *ns, const char *name);
    /* May the requesting user "get imagestreams/layers" of ns/name (cross-namespace tag
     * references, §3.6)? When denied *reason may receive the authorizer's malloc'ed
     * reason. NULL: allowed. */
    bool (*can_read_layers)(void *arg, const char *ns, const char *name, char **reason);
    void *arg;
} image_ctx_t;

/* ---- docker references (docker/distribution grammar) ---- */
typedef struct docker_ref {
    char *registry;   /* "" if none */
    char *namespace;  /* "" if none ("a/b/c" -> namespace "a/b", name "c") */
    char *name;
    char *tag;        /* "" if none */
    char *id;         /* digest "sha256:..." or "" */
} docker_ref_t;

/* 0 on success; -1 with *msg = static parser message ("invalid reference format",
 * "repository name must be lowercase", ...). */
int docker_ref_parse(const char *s, docker_ref_t *out, const char **msg);
void docker_ref_free(docker_ref_t *r);
/* "Exact" printing: [registry/][namespace/]name + @id | :tag. Caller frees. */
char *docker_ref_exact(const docker_ref_t *r);
/* Repository part only: [registry/][namespace/]name. Caller frees. */
char *docker_ref_repository(const docker_ref_t *r);
/* True if s is a valid digest "algo:hex" with the right length for the algorithm. */
bool digest_valid(const char *s);

/* ---- ImageStream ---- */
/* Wire-shape normalisation applied to every decoded request body and stored object:
 * defaults (importPolicy.importMode, referencePolicy.type, lookupPolicy.local, annotations
 * null), spec.tags / status.tags sorted by name with duplicates resolved (last wins),
 * status.dockerImageRepository always present. */
void imagestream_normalize(const image_ctx_t *ctx, json_t *obj);
/* Create: status reset, generation 1, tag generations. */
void imagestream_prepare_create(const image_ctx_t *ctx, json_t *obj);
/* Update (PUT/PATCH of the main resource): status restored from old, generation rules. */
void imagestream_prepare_update(const image_ctx_t *ctx, json_t *obj, const json_t *old);
/* An internal write (api_write_opts_t.internal; old NULL on create): the public create
 * or update rules for generations, the status as given. */
void imagestream_prepare_internal(const image_ctx_t *ctx, json_t *obj, const json_t *old);
/* Update of the status subresource. */
void imagestream_prepare_status_update(const image_ctx_t *ctx, json_t *obj, const json_t *old);
/* Validation (create: old NULL). Also materialises spec tags into status as OpenShift does.
 * Field errors go to errs (paths as in OpenShift: spec.tags[latest].from.name). */
void imagestream_validate(const image_ctx_t *ctx, json_t *obj, const json_t *old, ferrs_t *errs);
void imagestream_validate_status_update(const image_ctx_t *ctx, json_t *obj, const json_t *old,
                                        ferrs_t *errs);
/* Output decoration of the main resource: recompute status.dockerImageRepository and
 * publicDockerImageRepository; strip tag/id from legacy repository values. */
void imagestream_decorate(const image_ctx_t *ctx, json_t *obj);
/* Table cells [Name, Image Repository, Tags, Updated]; the Updated cell is the newest
 * event time as an integer (Unix seconds) or null: the table encoder renders "<dur> ago". */
json_t *imagestream_table_cells(const json_t *obj);
/* Tag history: adds event to status tag `tag` with OpenShift's rules. Returns true if changed. */
bool imagestream_add_tag_event(json_t *obj, const char *tag, const json_t *event);

/* ---- Image ---- */
void image_normalize(json_t *obj);  /* dockerImageMetadata always present, metadata version */
/* Create: derive metadata from the manifest, manifest lists, manifestBlobStored, signatures. */
void image_prepare_create(const image_ctx_t *ctx, json_t *obj);
void image_prepare_update(const image_ctx_t *ctx, json_t *obj, const json_t *old);
void image_validate(const image_ctx_t *ctx, json_t *obj, const json_t *old, ferrs_t *errs);
/* Validation of one signature (prefix "" or "signatures[0]."). */
void image_signature_validate(const json_t *sig, const char *prefix, ferrs_t *errs);
/* Table cells [Name, Image Reference]. */
json_t *image_table_cells(const json_t *obj);
/* Derives layers/metadata/size from dockerImageManifest (+ dockerImageConfig); §1.5. */
void image_fill_metadata(json_t *obj, const char *now);

/* ---- signature contents (sig_gpg.c, docs/signatures.md) ---- */
/* Starts gpg's private home (a temporary directory, removed by sig_verifier_free) and
 * imports the public keys of keyring_file (NULL: none; signatures are then never
 * "verified"). Call once at startup, before threads. NULL with *err (malloc'd) on failure. */
sig_verifier_t *sig_verifier_new(const char *keyring_file, char **err);
void sig_verifier_free(sig_verifier_t *v);

/* ---- the kinds served (image_kinds.c) ---- */
/* The kind table for api_config_t.kinds; its domain pointer is an image_config_t. */
extern const api_virtual_ops_t image_signature_ops;   /* imagesignatures (image_signature.c) */
const api_kind_t *image_kinds(size_t *n);

#endif
