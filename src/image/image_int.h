/* image/ internals shared by the module's files: small jansson helpers, name rules,
 * the docker metadata codec and tag-history helpers. Not part of the public face. */
#ifndef IAS_IMAGE_INT_H
#define IAS_IMAGE_INT_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "image/image.h"
#include "util/apierr.h"

/* ---- media types ---- */
#define MT_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define MT_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"
#define MT_SCHEMA2 "application/vnd.docker.distribution.manifest.v2+json"
#define MT_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_OCI "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_SCHEMA1_LAYER "application/vnd.docker.container.image.rootfs.diff+x-gtar"

#define ANN_LAYERS_ORDER "image.openshift.io/dockerLayersOrder"
#define ANN_BLOB_STORED "image.openshift.io/manifestBlobStored"
#define ANN_MANAGED_SIG "image.openshift.io/managed-signature"

/* ---- jansson helpers (image_json.c) ---- */
const char *ij_str(const json_t *o, const char *key);          /* "" when absent/not a string */
bool ij_bool(const json_t *o, const char *key);
json_int_t ij_int(const json_t *o, const char *key);           /* 0 when absent/not an integer */
json_t *ij_obj(json_t *parent, const char *key);               /* get or create an object member */
/* Go encoding/json key matching: exact key first, else the last case-insensitive match. */
json_t *ij_ci_get(const json_t *o, const char *key);
const char *ij_ci_str(const json_t *o, const char *key);
/* Canonical time: whole-second RFC 3339 string, or null for absent/zero/unparsable. */
json_t *ij_time(const json_t *v);
/* Seconds since the epoch of an RFC 3339 string value; false if absent/unparsable. */
bool ij_time_secs(const json_t *v, int64_t *out);
bool ij_nonempty(const json_t *v);                             /* "", 0, false, null, [], {} -> false */
void ij_set_or_del(json_t *o, const char *key, json_t *v);     /* v stolen; deleted when empty */
/* Sorts an array of objects by string member `key` (byte order) after dropping earlier
 * duplicates (last wins). Returns a new array; non-object entries are dropped. */
json_t *ij_sorted_unique(const json_t *arr, const char *key);
/* Element of array `arr` whose member `key` equals `val`, or NULL. */
json_t *ij_find(const json_t *arr, const char *key, const char *val);
/* Base media type without parameters, lower-case preserved. Caller frees. */
char *ij_media_base(const char *mt);

/* ---- name rules (image_names.c) ---- */
/* Path-segment rules (ValidatePathSegmentName); adds Invalid errors on `field`.
 * Returns the number added. prefix: only the "may not contain" rules. */
/* [a-z0-9]+(?:[._-][a-z0-9]+)* fully matched: a stream name, a repository component. */
bool img_name_component_ok(const char *s);
int img_path_segment_errors(const char *name, bool prefix, const char *field, ferrs_t *errs);

/* ---- docker metadata codec (docker_metadata.c) ---- */
/* Decodes the wire dockerImageMetadata (version "" / "1.0" / "pre012") into the internal
 * form: an object with the 1.0 keys, DockerConfig filtered, times canonical. */
json_t *dmeta_decode(const json_t *wire, const char *version);
/* Encodes the internal form for the wire in the given version. */
json_t *dmeta_encode(const json_t *internal, const char *version);
/* Filters a DockerConfig object to the known keys, dropping empty values.
 * ci: match keys case-insensitively (manifest/config JSON) or exactly (API bodies). */
json_t *dmeta_config(const json_t *src, bool ci);
/* Maps an image config / v1Compatibility object (lower-case keys, case-insensitive) onto
 * internal metadata `m`: Parent, Comment, Created, Container, ContainerConfig,
 * DockerVersion, Author, Config, Architecture; with_id also sets Id from "id". */
void dmeta_from_config(json_t *m, const json_t *cfg, bool with_id);

/* ---- manifests (manifest.c) ---- */
/* sha256 digest "sha256:<hex>" of n bytes into out (72 bytes). */
void img_sha256_digest(const void *p, size_t n, char out[72]);
/* True if the new manifest `raw` hashes to the image name, per the old media type (§1.6). */
bool img_manifest_matches(const char *name, const char *old_media_type, const char *raw);
/* Replaces dockerImageManifests from a manifest list body (§1.4 step 2). */
void img_fill_manifest_list(json_t *img);

/* ---- image streams (imagestream_*.c) ---- */
/* Computed status.dockerImageRepository (§3.7); ns "" -> "default" when default_ns. Frees: caller. */
char *is_internal_repository(const image_ctx_t *ctx, const json_t *obj, bool default_ns);
char *is_public_repository(const image_ctx_t *ctx, const json_t *obj);
void is_set_status_repos(const image_ctx_t *ctx, json_t *obj, json_t *status, bool default_ns);
/* The ImageStreamImage id rule (§3.6): image starts with id, or is a valid digest whose
 * hex part does. */
bool is_image_matches(const char *image, const char *id);
/* The TagReference rules of §3.8 with field paths under prefix ("spec.tags[latest]",
 * "tag", "spec"): from kind/name, scheduling, reference policy, import mode. */
void is_tag_ref_validate(const json_t *ref, const char *prefix, ferrs_t *errs);
/* tagRefChanged of §3.4. */
bool is_tag_ref_changed(const json_t *old_tag, const json_t *new_tag, const char *stream_ns);
/* Materialisation of spec tags into status (§3.6); adds inner field errors to errs. */
void is_materialize(const image_ctx_t *ctx, json_t *obj, const json_t *old, ferrs_t *errs);
/* Tracking tags (imagestream_tracking.c): every spec tag that follows a tag of this
 * stream whose latest event moved against old (all on create) gets that event, chains
 * followed transitively. */
void is_track(json_t *obj, const json_t *old);
/* Refuses cycles of same-stream ImageStreamTag references that a new or changed spec tag
 * closes (field errors on spec.tags[T].from.name). */
void is_tag_cycles(const json_t *obj, const json_t *old, ferrs_t *errs);
/* --max-tag-history: drops events past the limit per tag, oldest first, except events
 * whose image a spec tag of this stream pins by digest. */
void is_prune_history(const image_ctx_t *ctx, json_t *obj);
/* Status tag `tag` object, or NULL. */
json_t *is_status_tag(const json_t *obj, const char *tag);
json_t *is_spec_tag(const json_t *obj, const char *tag);
const char *is_ns(const json_t *obj);
const char *is_name(const json_t *obj);

/* ---- virtual resources (virtual_names.c) ---- */
/* Strict "<stream>:<tag>": no '@', exactly one ':', both sides non-empty. 0 and malloc'd
 * parts, or -1 (nothing allocated). */
int vn_istag_parse(const char *name, char **stream, char **tag);
/* Lenient split on the first ':' (create): an empty or missing tag is "latest"; true
 * when a ':' was present. Always allocates both parts. */
bool vn_istag_split(const char *name, char **stream, char **tag);
/* Strict "<a>@<b>": exactly one '@', both sides non-empty (ImageStreamImage, ImageSignature). */
int vn_at_parse(const char *name, char **left, char **right);
/* An Image as virtual resources return it: metadata filled from a stored manifest,
 * dockerImageManifest and dockerImageConfig removed. New reference. */
json_t *img_view(const json_t *image, const char *now);
/* The pull spec of a tag event: <status.dockerImageRepository>@<image> under a Local
 * reference policy, else the event's dockerImageReference (§0.3). Caller frees. */
char *is_event_pull_spec(const json_t *stream, const char *tag, const json_t *event);

/* ---- image name sets (name_index.c) ---- */
typedef struct img_hex {
    const char *hex;       /* the hex part of a valid digest name (points into the name) */
    size_t name;           /* its index in names */
} img_hex_t;
/* Sorted distinct non-empty names, and the valid digests among them sorted by hex part. */
typedef struct img_names {
    size_t n, nhex;
    const char **names;
    img_hex_t *hex;
    char *buf;             /* the strings */
} img_names_t;
/* Copies the names (NULL and "" skipped, duplicates once). */
img_names_t *img_names_new(const char *const *names, size_t n);
void img_names_free(img_names_t *s);
bool img_names_has(const img_names_t *s, const char *name);
typedef struct img_matches {
    const char **v;        /* names of the sets, not copies */
    size_t n, cap;
} img_matches_t;
/* Appends every name of s that the ImageStreamImage id matches (§2.1 step 4: the name
 * starts with id, or it is a valid digest whose hex part does); may append one twice. */
void img_names_match(const img_names_t *s, const char *id, img_matches_t *m);
void img_matches_free(img_matches_t *m);
/* The one image id names over the sets (NULL entries skipped): an exact name wins; else
 * the single name matched; several distinct ones are ambiguous (*conflict: "multiple
 * images match the prefix \"<id>\": a, b", sorted, at most 20 named; caller frees). */
enum { IMG_RESOLVE_FOUND, IMG_RESOLVE_NONE, IMG_RESOLVE_AMBIGUOUS };
int img_names_resolve(const img_names_t *const *sets, size_t nsets, const char *id, const char **match,
                      char **conflict);

/* ---- derived views kept by the watch cache (history_index.c) ---- */
/* ImageStream: every image of every tag's history, and what ImageStreamImage and
 * ImageStreamMapping need besides (so neither decodes a large stream). */
typedef struct is_history_index {
    img_names_t *images;
    char *annotations;     /* compact JSON of metadata.annotations, or NULL */
    char *status_repo;     /* status.dockerImageRepository as output (decorated), "" if none */
    char *spec_repo;       /* spec.dockerImageRepository, "" if none */
    /* The one mutable part: the children of the manifest lists among images, memoized
     * against the image kind's view epoch (api_views_epoch) they were computed at. */
    pthread_mutex_t memo_mu;
    bool memo_valid;
    uint64_t memo_epoch;
    img_names_t *memo_children;   /* NULL: none */
} is_history_index_t;
void *is_history_index_derive(const json_t *stream);
void is_history_index_free(void *view);
/* Image: the digests of its dockerImageManifests (a manifest list's children); NULL
 * (no view) for an image without any. */
typedef struct img_children {
    size_t n;
    char **digests;
} img_children_t;
void *img_children_derive(const json_t *image);
void img_children_free(void *view);

/* ---- ImageStreamMapping, ImageStreamImage, imagestreams/layers (ism.c, isimage.c,
 * is_layers.c): the handlers image_kinds.c registers ---- */
json_t *ism_create(api_call_t *c, const char *ns, json_t *mapping);
json_t *isimage_get(api_call_t *c, const char *ns, const char *name);
/* Table cells [Name, Updated (Unix seconds or null), Image Reference, Image Name]. */
json_t *isimage_table_cells(const json_t *obj);
json_t *is_layers_get(api_call_t *c, const char *ns, const char *name);
/* Looks up images by sorted names in one snapshot: each(ctx, i, image or NULL if missing);
 * 0, or -1 (the caller's error set). */
typedef int (*is_image_batch_fn)(void *arg, const char *const *names, size_t n,
                                 int (*each)(void *ctx, size_t i, const json_t *image), void *ctx);
/* ImageStreamLayers of a stream (§3.11), images read through lookup; NULL if it failed. */
json_t *is_layers_build(const json_t *stream, is_image_batch_fn lookup, void *arg);
/* Adds one image (NULL: missing) to an ImageStreamLayers object (blobs and images); the
 * digests of its manifests are appended to children (may be NULL). */
void is_layers_add_image(json_t *layers, const char *name, const json_t *image, json_t *children);

#endif
