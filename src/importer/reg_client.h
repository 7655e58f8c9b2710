/* The registry client proper, on top of reg_http: ping /v2/, follow the auth challenge
 * (anonymous, Basic, Bearer token from the realm with scope repository:<name>:pull, cached
 * until expires_in), retry anonymously when a credential is rejected, then HEAD the
 * manifest and GET it only when its digest is not the known one. Asynchronous: the
 * callback runs on the engine thread. */
#ifndef IAS_REG_CLIENT_H
#define IAS_REG_CLIENT_H

#include "importer/importer.h"
#include "importer/reg_http.h"

typedef struct reg_client reg_client_t;

typedef struct {
    const char *registry;     /* API host[:port] (reg_api_host applied by the caller) */
    const char *repository;   /* path on the registry (reg_repo_path) */
    const char *reference;    /* tag or digest */
    const char *known_digest; /* digest of the last import, or NULL: unchanged costs one HEAD */
    const char *username, *password; /* NULL: anonymous */
    bool insecure;            /* TLS without verification, or plain http:// when the registry has no TLS */
    long timeout_ms;          /* per request; 0 -> engine default */
    /* > 0 with known_digest and a tag: when the same tag, by the same credential, resolved
     * to known_digest at most this long ago, the answer is "unchanged" without a request
     * (many streams tracking one upstream tag cost one lookup per window) */
    long max_age_ms;
} reg_manifest_req_t;

typedef struct {
    int status;          /* final HTTP status (0 on a transport failure) */
    const char *error;   /* NULL on success, else a message for the image's status */
    bool unchanged;      /* HEAD digest == known_digest: no GET was made */
    const char *digest;  /* the manifest's digest (from HEAD, or computed from the body) */
    const reg_manifest_t *manifest; /* parsed, when fetched */
    const char *body;    /* raw manifest, when fetched */
    size_t body_len;
} reg_manifest_result_t;

/* The error of a 401 after the registry refused the credential and anonymous access was
 * refused too (reg_fetch reports it as REG_FETCH_BAD_CREDENTIALS). */
#define REG_BAD_CREDENTIALS "incorrect username or password"

typedef void (*reg_manifest_done_fn)(void *ctx, const reg_manifest_result_t *r);

reg_client_t *reg_client_new(const reg_http_opts_t *o);
void reg_client_free(reg_client_t *c);
int reg_client_get_manifest(reg_client_t *c, const reg_manifest_req_t *req, reg_manifest_done_fn cb, void *ctx);
/* A GET of path under /v2/<repository>/ ("blobs/sha256:...", "tags/list"), or of an
 * absolute URL on the same registry (a Link rel="next"), with the same ping and auth as a
 * manifest (req's reference is ignored). The callback gets the raw response. -1 when the
 * names or the path are unsafe (cb not called). */
typedef void (*reg_raw_done_fn)(void *ctx, const reg_http_resp_t *r);
int reg_client_get(reg_client_t *c, const reg_manifest_req_t *req, const char *path, size_t max_body,
                   bool follow_redirects, reg_raw_done_fn cb, void *ctx);
/* The engine, for counters in tests. */
reg_http_t *reg_client_http(reg_client_t *c);

#endif
