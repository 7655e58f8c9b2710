/* isi internals: the pieces of an ImageStreamImport run (isi.c) that are pure enough to
 * unit-test on JSON — validation and defaulting, the plan of fetches, the per-image status,
 * the Image built from a fetch, repository tag order, the stream mutation of §4.7. */
#ifndef IAS_IMAGE_ISI_INT_H
#define IAS_IMAGE_ISI_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "image/image_int.h"
#include "image/isi.h"

#define ISI_GROUP "image.openshift.io"
#define ISI_ANN_REPO_CHECK "openshift.io/image.dockerRepositoryCheck"
#define ISI_ANN_PREFER_ARCH "importer.image.openshift.io/prefer-arch"
#define ISI_ANN_PREFER_OS "importer.image.openshift.io/prefer-os"
/* Fetches of one import in flight at once (the reference runs them one by one). */
#define ISI_MAX_INFLIGHT 8
/* Bound of the tags one repository listing may return. */
#define ISI_MAX_LISTED_TAGS 10000

/* ---- validation and defaulting (isi_validate.c) ---- */
/* v1 defaulting of a request (§0.6): importMode (default_mode), referencePolicy Source,
 * spec.images[i].to from the tag of from.name; status dropped. In place. */
void isi_default(json_t *isi, const char *default_mode);
/* §4.1 on a defaulted request: 0, or -1 with the 422 in err. */
int isi_validate(const json_t *isi, apierr_t *err);
/* §4.2 allow-list (allowed: "host[:port],..." or NULL = everything): 0, or -1 with the 422. */
int isi_check_allowed(const json_t *isi, const char *allowed, apierr_t *err);
/* §4.3: stream as read (NULL when absent) against the request's resourceVersion and uid:
 * 0, or -1 with the 404/409 in err. */
int isi_check_stream(const json_t *isi, const json_t *stream, apierr_t *err);

/* ---- references (isi_plan.c) ---- */
/* What an import needs of one from.name. */
typedef struct isi_ref {
    char *registry;      /* as written ("" for Docker Hub without a host) */
    char *repository;    /* path on the registry: "library/busybox", "ns/repo" */
    char *tag;           /* "" for digest references */
    char *digest;        /* "" for tag references */
    char *user_repo;     /* the user's spelling without tag/digest: "busybox" */
    char *norm_repo;     /* defaulted: "docker.io/library/busybox", "127.0.0.1:5000/ns/repo" */
    char *host_port;     /* RegistryHostPort: "registry-1.docker.io:443", "127.0.0.1:5000" */
} isi_ref_t;
/* Parses name (a repository when repo: tag defaulted only for images). 0 or -1 (*msg). */
int isi_ref_parse(const char *name, bool insecure, isi_ref_t *out, const char **msg);
void isi_ref_free(isi_ref_t *r);
/* "<norm_repo>:<tag>" or "<norm_repo>@<digest>" (messages, keyring lookups). Caller frees. */
char *isi_ref_normalized(const isi_ref_t *r);
/* True if host_port (or the bare host) is in the comma-separated list. */
bool isi_host_listed(const char *list, const isi_ref_t *r);

/* ---- status entries (isi_status.c) ---- */
json_t *isi_status_success(void);
/* The Status of a failed fetch (§4.5); ref = the normalized reference tried. */
json_t *isi_status_failure(reg_fetch_error_t kind, const char *ref, const char *error);
/* A Status from an apierr (then kind and apiVersion dropped). */
json_t *isi_status_from_err(const apierr_t *err);
/* The Status of a failed tag listing (repository as written). */
json_t *isi_status_list_failure(reg_fetch_error_t kind, const char *repo, const char *error);
/* The repository's overall status: Success, or ImportFailed for failed of them. */
json_t *isi_status_repository(size_t failed);
bool isi_status_ok(const json_t *status);

/* ---- images (isi_image.c) ---- */
/* The Image of one fetched manifest (§4.5): name = f->digest, dockerImageReference =
 * user_repo@digest, manifest, config, media type, metadata, layers and size. New. */
json_t *isi_image_from_fetched(const reg_fetched_t *f, const char *user_repo, const char *now);
/* A PreserveOriginal list: its Image with dockerImageManifests and no manifest. */
json_t *isi_image_from_list(const reg_fetched_t *f, const reg_fetched_t *children, size_t n,
                            const char *user_repo, const char *now);
/* Removes dockerImageManifest and dockerImageConfig (includeManifest false, persisted). */
void isi_image_strip(json_t *image);

/* ---- repository tags (isi_tags.c) ---- */
/* Tags of a listing in import order (§4.5): "" as latest, deduplicated, latest first,
 * minor versions, full versions (newest first), the rest lexicographically. New array. */
json_t *isi_tags_order(const char *const *tags, size_t n);

/* ---- the stream (isi_stream.c) ---- */
typedef struct isi_stream_in {
    const json_t *spec;          /* the defaulted request's spec */
    const json_t *status;        /* the completed status: images[], repository */
    const char *now;
    json_int_t next_generation;  /* stream generation + 1 (1 for a new stream) */
    const char *failure_note;    /* appended to failure messages, or NULL */
} isi_stream_in_t;
/* §4.7 on stream (in place; a new stream is an object with metadata.name). */
void isi_stream_apply(json_t *stream, const isi_stream_in_t *in);

/* ---- the HTTP create (isi.c) ---- */
json_t *isi_create(api_call_t *c, const char *ns, json_t *obj);

#endif
