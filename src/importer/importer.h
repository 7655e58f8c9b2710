/* importer/: the registry client's pure parts (no I/O): WWW-Authenticate challenges,
 * token responses, manifest classification, digest checks and Docker Hub naming. Every
 * input comes from an untrusted registry: all of it is bounded and validated here, so the
 * engine (and ImageStreamImport above it) only sees well-formed values. */
#ifndef IAS_IMPORTER_H
#define IAS_IMPORTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Response body limits per kind (bytes). */
#define REG_MAX_MANIFEST (4u << 20)
#define REG_MAX_TOKEN (64u << 10)
#define REG_MAX_CONFIG (8u << 20)
/* A WWW-Authenticate header longer than this is refused whole. */
#define REG_MAX_CHALLENGE_HEADER 8192
#define REG_MAX_CHALLENGES 8
/* Entries of a manifest list / layers of a manifest beyond this are refused. */
#define REG_MAX_DESCRIPTORS 1024

#define REG_MT_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define REG_MT_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"
#define REG_MT_SCHEMA2 "application/vnd.docker.distribution.manifest.v2+json"
#define REG_MT_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define REG_MT_OCI "application/vnd.oci.image.manifest.v1+json"
#define REG_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
/* The Accept header of a manifest request: every type this client understands. */
#define REG_MANIFEST_ACCEPT                                                                          \
    REG_MT_OCI_INDEX ", " REG_MT_LIST ", " REG_MT_OCI ", " REG_MT_SCHEMA2 ", " REG_MT_SCHEMA1_SIGNED \
                     ", " REG_MT_SCHEMA1

/* ---- WWW-Authenticate (RFC 7235) ---- */
typedef enum { REG_AUTH_OTHER, REG_AUTH_BASIC, REG_AUTH_BEARER } reg_auth_scheme_t;

typedef struct {
    reg_auth_scheme_t scheme;
    char *scheme_name; /* as sent, for messages */
    char *realm;       /* "" if absent */
    char *service;     /* "" if absent */
    char *scope;       /* "" if absent */
} reg_challenge_t;

/* Parses every challenge of one header value (several may be comma-separated; repeated
 * headers are parsed one by one by the caller). Returns the number of challenges stored
 * in out (at most max), or -1 on a malformed or oversized header (nothing to free).
 * Unknown schemes are kept as REG_AUTH_OTHER; unknown parameters are ignored. */
int reg_challenges_parse(const char *header, reg_challenge_t *out, size_t max);
void reg_challenges_free(reg_challenge_t *c, size_t n);
/* The first Bearer challenge (preferred), else the first Basic one, else NULL. */
const reg_challenge_t *reg_challenge_pick(const reg_challenge_t *c, size_t n);

/* ---- token responses (Docker token auth) ---- */
typedef struct {
    char *token;         /* `token`, else `access_token`; printable ASCII only */
    int64_t expires_in;  /* seconds; absent or < 60 -> 60, as docker/distribution */
    time_t issued_at;    /* `issued_at` (RFC 3339), else now */
} reg_token_t;

/* 0, or -1 with *err set to a static message. Bodies over REG_MAX_TOKEN are refused. */
int reg_token_parse(const void *body, size_t len, time_t now, reg_token_t *out, const char **err);
void reg_token_free(reg_token_t *t);
/* Expiry time of a cached token, with a margin so that a token is never sent stale. */
time_t reg_token_expiry(const reg_token_t *t);

/* ---- manifests ---- */
typedef enum {
    REG_KIND_SCHEMA1 = 1,
    REG_KIND_SCHEMA2,
    REG_KIND_OCI,
    REG_KIND_LIST,
    REG_KIND_OCI_INDEX,
} reg_manifest_kind_t;

typedef struct {
    char *media_type; /* "" if absent (schema 1 layers, OCI index without mediaType) */
    char *digest;     /* validated (reg_digest_valid) */
    int64_t size;     /* >= 0; 0 when the format has none (schema 1) */
    /* list entries only ("" otherwise) */
    char *os, *architecture, *variant;
} reg_descriptor_t;

typedef struct {
    reg_manifest_kind_t kind;
    const char *media_type; /* canonical REG_MT_* of the kind */
    reg_descriptor_t config;    /* schema 2 / OCI */
    reg_descriptor_t *layers;   /* schema 2 / OCI: as listed (base first); schema 1: base first */
    size_t nlayers;
    reg_descriptor_t *children; /* lists and indexes */
    size_t nchildren;
    bool signed_schema1; /* schema 1 with signatures */
} reg_manifest_t;

/* Classifies and parses a manifest body. content_type is the response's Content-Type (may
 * be NULL or empty, or a generic JSON type: then the body decides). The Content-Type and
 * the body's mediaType/schemaVersion must agree. 0, or -1 with *err a malloc'ed message. */
int reg_manifest_parse(const char *content_type, const void *body, size_t len, reg_manifest_t *out,
                       char **err);
void reg_manifest_free(reg_manifest_t *m);
bool reg_manifest_is_list(const reg_manifest_t *m);

/* The bytes a signed schema 1 manifest's digest covers (JWS payload: body up to the
 * protected formatLength + formatTail), malloc'ed and NUL-terminated, or NULL (unsigned or
 * malformed: such a manifest has no canonical digest). */
char *reg_schema1_payload(const char *raw, size_t len, size_t *outlen);

/* ---- digests ---- */
/* "sha256:<64 lower hex>", "sha384:<96>" or "sha512:<128>". */
bool reg_digest_valid(const char *d);
/* True if body hashes to digest. Only sha256 is computed (what registries use); any other
 * algorithm is reported as a mismatch (*err says why). */
bool reg_digest_verify(const char *digest, const void *body, size_t len, const char **err);

/* ---- naming (Docker Hub) ---- */
/* True for the names of Docker Hub: "", "docker.io", "index.docker.io", "registry-1.docker.io". */
bool reg_is_docker_hub(const char *registry);
/* The host the API is reached at: Docker Hub -> "registry-1.docker.io", else registry. */
const char *reg_api_host(const char *registry);
/* Repository path on the registry from the parts of a parsed reference (docker_ref_t:
 * namespace may be ""): Docker Hub names without a namespace get "library/". Caller frees. */
char *reg_repo_path(const char *registry, const char *namespace, const char *name);

#endif
