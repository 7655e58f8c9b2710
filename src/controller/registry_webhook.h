/* registry_webhook: POST /webhooks/registry, push-triggered imports. A CNCF distribution
 * registry's notification endpoint (its `notifications: endpoints:` configuration) posts
 * envelopes of events (application/vnd.docker.distribution.events.v1+json); every
 * `push` of a manifest re-imports, through the import controller, the spec tags that
 * follow the pushed repository and tag (import_controller_push). Enabled by
 * --registry-webhook-token-file: every request must carry `Authorization: Bearer <token>`
 * with the file's token (401 otherwise). Unknown repositories are answered 200 (the
 * registry would retry anything else); a body that is no envelope gets a 400 Status. */
#ifndef IAS_CONTROLLER_REGISTRY_WEBHOOK_H
#define IAS_CONTROLLER_REGISTRY_WEBHOOK_H

#include <stddef.h>

#include "controller/import_controller.h"
#include "server/http.h"
#include "util/apierr.h"

#define REGISTRY_WEBHOOK_PATH "/webhooks/registry"
#define REGISTRY_EVENTS_MEDIA_TYPE "application/vnd.docker.distribution.events.v1+json"

typedef struct registry_webhook registry_webhook_t;

/* One push: the registry host as it saw it, the repository, the tag ("" for a push by
 * digest). Returns how many streams it triggered. */
typedef size_t (*registry_push_fn)(void *ctx, const char *host, const char *repository, const char *tag);

/* Reads the token (the file's first line, surrounding white space dropped). NULL with *err
 * (malloc'ed) when the file cannot be read or holds no token. */
registry_webhook_t *registry_webhook_new(const char *token_file, import_controller_t *ic, char **err);
void registry_webhook_free(registry_webhook_t *w);
/* From now on notifications are answered 503 (before the controller is freed). */
void registry_webhook_detach(registry_webhook_t *w);
/* The handler to register with api_add_path(REGISTRY_WEBHOOK_PATH) (arg: the webhook). */
void registry_webhook_handle(http_req_t *req, void *arg);

/* The envelope's pushes of manifests, each handed to push (pulls, blob pushes and other
 * actions are skipped). 0 with *streams the streams triggered, or -1 with err (BadRequest)
 * when body is no envelope. */
int registry_webhook_dispatch(const char *body, size_t len, registry_push_fn push, void *ctx, size_t *streams,
                              apierr_t *err);

#endif
