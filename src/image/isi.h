/* isi: ImageStreamImport, the import of images from registries into a stream
 * (virtual-resources-and-import.md §4-5). The HTTP create of imagestreamimports and the
 * import controller both run an import through isi_run. The registry side is asynchronous
 * (importer/reg_fetch.h, on the registry client's thread): no request or pool thread waits
 * on a registry; the store reads before and the writes after run on threads that may block
 * (api_call_resume). */
#ifndef IAS_IMAGE_ISI_H
#define IAS_IMAGE_ISI_H

#include <jansson.h>

#include "api/resource.h"
#include "importer/reg_fetch.h"

/* The registry operations an import uses (the real client: reg_fetch_image/reg_list_tags
 * on a reg_client_t; unit tests put fakes here). Callbacks may run on any thread. */
typedef struct isi_registry_ops {
    int (*fetch_image)(void *ctx, const reg_fetch_req_t *req, reg_fetch_done_fn cb, void *cbctx);
    int (*list_tags)(void *ctx, const reg_tags_req_t *req, reg_tags_done_fn cb, void *cbctx);
    void *ctx;
} isi_registry_ops_t;

/* Per-run options of the caller (the HTTP create passes NULL). */
typedef struct isi_opts {
    /* Appended to the message of every ImportSuccess=False condition written (the import
     * controller's "next attempt at <time>"). NULL: none. */
    const char *failure_note;
    /* > 0: a tag that resolved to the digest the stream already has at most this long ago
     * (another stream's check of the same upstream tag) is taken as unchanged without asking
     * the registry again (reg_manifest_req_t.max_age_ms). The controller's scheduled
     * re-checks set it; an import a user asked for always asks the registry. */
    long max_age_ms;
} isi_opts_t;

/* The completed ImageStreamImport (new reference, output form) or NULL with the call's
 * error set. Runs once, on a thread that may block (the pool, or the call's executor). */
typedef void (*isi_done_fn)(api_call_t *c, json_t *result, void *arg);

/* Runs the import isi (request form, borrowed) in namespace ns on behalf of c's user,
 * honouring c's dry run. Call it from a thread that may block (it reads the stream and the
 * namespace's pull secrets first). done is always called exactly once. */
void isi_run(api_call_t *c, const char *ns, const json_t *isi, const isi_opts_t *opts, isi_done_fn done,
             void *arg);

#endif
