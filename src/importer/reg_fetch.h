/* The import of one image and the listing of a repository's tags, on top of reg_client:
 * what ImageStreamImport and the import controller ask of a registry. Asynchronous like
 * reg_client: submit, and the callback runs once on the engine thread; nothing waits.
 *
 * fetch_image, for one (registry, repository, tag-or-digest):
 *   ping and auth as reg_client (credentials given by the caller, who looked them up in
 *   the keyring for this repository: a token realm on another host gets the same ones);
 *   HEAD then GET of the manifest (an unchanged digest costs one HEAD: `unchanged`);
 *   by digest the body must hash to the digest (schema 1: its canonical payload);
 *   a manifest list / OCI index: PreserveOriginal keeps the list and fetches every child
 *   by digest (any child failing fails the whole image); otherwise one child is chosen
 *   (exact prefer_arch/prefer_os, empty values meaning this host's; then linux/amd64;
 *   then the first; variant ignored) and fetched by digest;
 *   schema 2 / OCI: the config blob (redirects followed) verified against its digest;
 *   schema 1 without layer sizes: each unique layer HEADed for its size.
 * list_tags: GET /v2/<repo>/tags/list following Link rel="next" (bounded pages and tags).
 *
 * Insecure: https first, plain http when that fails at the transport level, and TLS
 * without verification; never without `insecure`. */
#ifndef IAS_REG_FETCH_H
#define IAS_REG_FETCH_H

#include "importer/reg_client.h"

/* How a failure maps onto an image's status (virtual-resources-and-import.md §4.5). */
typedef enum {
    REG_FETCH_OK = 0,
    REG_FETCH_NOT_FOUND,        /* MANIFEST_UNKNOWN / NAME_UNKNOWN: 404 NotFound */
    REG_FETCH_UNAUTHORIZED,     /* 401 / UNAUTHORIZED / Basic without credentials */
    REG_FETCH_BAD_CREDENTIALS,  /* the token endpoint refused the username or password */
    REG_FETCH_FAILED,           /* anything else while talking to the registry: 500,
                                   "Internal error occurred: <ref>: <error>" */
    REG_FETCH_CONTENT,          /* what was fetched is wrong (digest mismatch, bad config,
                                   empty schema 1 history): 500 without the ref prefix */
} reg_fetch_error_t;

typedef struct {
    const char *registry;       /* as the user wrote it ("" / "docker.io" -> Docker Hub) */
    const char *repository;     /* path on the registry (reg_repo_path: "library/busybox") */
    const char *reference;      /* tag or digest */
    const char *known_digest;   /* manifest digest of the last import, or NULL */
    const char *username, *password; /* NULL: anonymous */
    bool insecure;
    bool preserve_original;     /* importMode PreserveOriginal */
    const char *prefer_arch, *prefer_os; /* NULL or "": this host's */
    long timeout_ms;            /* per HTTP request; 0 -> engine default */
    long max_age_ms;            /* reg_manifest_req_t.max_age_ms: a recent identical
                                   resolution to known_digest answers unchanged */
} reg_fetch_req_t;

typedef struct {
    const char *digest;         /* "sha256:..." of the manifest bytes (schema 1: payload) */
    const char *media_type;     /* REG_MT_* of the manifest */
    const char *manifest;       /* raw bytes as received (NUL-terminated) */
    size_t manifest_len;
    const reg_manifest_t *parsed;
    const char *config;         /* schema 2 / OCI config blob, verified; NULL otherwise */
    size_t config_len;
    const int64_t *layer_sizes; /* per parsed->layers entry: the size from the manifest, or
                                   from a HEAD for schema 1 (NULL when no layers) */
    /* list children (a PreserveOriginal list only): platform of each child */
    const char *os, *architecture, *variant;
} reg_fetched_t;

typedef struct {
    reg_fetch_error_t error_kind;
    int status;                 /* HTTP status of the failing request, 0 on transport errors */
    const char *error;          /* NULL on success, else what went wrong (no credential) */
    bool unchanged;             /* HEAD said known_digest: nothing else was fetched */
    const char *digest;         /* the manifest's digest (the list's when a list was met) */
    reg_fetched_t image;        /* the image: Legacy -> the chosen child; PreserveOriginal
                                   list -> the list itself (config NULL) */
    const reg_fetched_t *children; /* PreserveOriginal list: every child, in list order */
    size_t nchildren;
} reg_fetch_result_t;

typedef void (*reg_fetch_done_fn)(void *ctx, const reg_fetch_result_t *r);

/* 0, or -1 when the request is refused before any I/O (unsafe names; cb not called). */
int reg_fetch_image(reg_client_t *c, const reg_fetch_req_t *req, reg_fetch_done_fn cb, void *ctx);

typedef struct {
    const char *registry, *repository;
    const char *username, *password;
    bool insecure;
    long timeout_ms;
    size_t max_tags;            /* 0 -> 10000; more is a failure, never a partial list */
} reg_tags_req_t;

typedef struct {
    reg_fetch_error_t error_kind;
    int status;
    const char *error;
    const char *const *tags;    /* as listed, across pages */
    size_t ntags;
} reg_tags_result_t;

typedef void (*reg_tags_done_fn)(void *ctx, const reg_tags_result_t *r);

int reg_list_tags(reg_client_t *c, const reg_tags_req_t *req, reg_tags_done_fn cb, void *ctx);

/* Registry requests so far by method ("GET", "HEAD"), retries included: for the
 * benchmark and tests. */
uint64_t reg_client_requests(reg_client_t *c, const char *method);

#endif
