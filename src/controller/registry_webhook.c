/* See registry_webhook.h. The envelope is parsed on the pool (it may be as large as the
 * body limit); the controller is only asked to queue streams, which never waits on I/O. */
#include "controller/registry_webhook.h"
#include "util/util.h"

#include <jansson.h>
#include <pthread.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct registry_webhook {
    char *token;
    pthread_mutex_t mu;        /* guards ic against registry_webhook_detach */
    import_controller_t *ic;   /* NULL once detached */
};

registry_webhook_t *registry_webhook_new(const char *token_file, import_controller_t *ic, char **err)
{
    FILE *f = fopen(token_file, "r");
    if (!f) {
        *err = xasprintf("cannot read %s", token_file);
        return NULL;
    }
    char line[4096] = "";
    if (!fgets(line, sizeof line, f))
        line[0] = 0;
    fclose(f);
    char *s = line, *e = line + strlen(line);
    while (*s == ' ' || *s == '\t')
        s++;
    while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
        *--e = 0;
    if (!*s) {
        *err = xasprintf("%s holds no token (its first line is empty)", token_file);
        return NULL;
    }
    registry_webhook_t *w = xcalloc(1, sizeof *w);
    w->token = xstrdup(s);
    w->ic = ic;
    pthread_mutex_init(&w->mu, NULL);
    OPENSSL_cleanse(line, sizeof line);
    return w;
}

void registry_webhook_free(registry_webhook_t *w)
{
    if (!w)
        return;
    OPENSSL_cleanse(w->token, strlen(w->token));
    free(w->token);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

void registry_webhook_detach(registry_webhook_t *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->ic = NULL;
    pthread_mutex_unlock(&w->mu);
}

static const char *str_at(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* A manifest (not a blob): by its media type, or by the URL the registry gives for it. */
static bool is_manifest(const json_t *target)
{
    const char *mt = str_at(target, "mediaType");
    if (str_has_prefix(mt, "application/vnd.docker.distribution.manifest.") ||
        str_has_prefix(mt, "application/vnd.oci.image.manifest.") || str_has_prefix(mt, "application/vnd.oci.image.index."))
        return true;
    return !*mt && strstr(str_at(target, "url"), "/manifests/") != NULL;
}

int registry_webhook_dispatch(const char *body, size_t len, registry_push_fn push, void *ctx, size_t *streams,
                              apierr_t *err)
{
    *streams = 0;
    json_error_t je;
    json_t *env = json_loadb(body, len, 0, &je);
    if (!json_is_object(env)) {
        json_decref(env);
        return apierr_set(err, APIERR_BAD_REQUEST,
                          "the body is not a registry notification envelope (a JSON object with \"events\"): %s",
                          env ? "not an object" : je.text);
    }
    json_t *events = json_object_get(env, "events");
    if (!json_is_array(events)) {
        json_decref(env);
        return apierr_set(err, APIERR_BAD_REQUEST, "the notification envelope has no \"events\" array");
    }
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev) {
        if (!json_is_object(ev)) {
            json_decref(env);
            return apierr_set(err, APIERR_BAD_REQUEST, "events[%zu] is not an object", i);
        }
    }
    json_array_foreach(events, i, ev) {
        const json_t *target = json_object_get(ev, "target");
        if (strcmp(str_at(ev, "action"), "push") || !json_is_object(target) || !is_manifest(target))
            continue;
        const char *host = str_at(json_object_get(ev, "request"), "host"), *repo = str_at(target, "repository");
        if (*host && *repo)
            *streams += push(ctx, host, repo, str_at(target, "tag"));
    }
    json_decref(env);
    return 0;
}

static void respond_err(http_req_t *h, const apierr_t *e)
{
    size_t n;
    char *body = apierr_status_body(e, &n);
    http_header_kv_t hd[2] = {{"Content-Type", "application/json"}, {"WWW-Authenticate", "Bearer"}};
    http_respond_owned(h, apierr_http_code(e->kind), hd, e->kind == APIERR_UNAUTHORIZED ? 2 : 1, body, n);
}

static size_t push_to_controller(void *ctx, const char *host, const char *repository, const char *tag)
{
    return import_controller_push(ctx, host, repository, tag);
}

static void handle_on_pool(http_req_t *h, void *arg)
{
    registry_webhook_t *w = arg;
    apierr_t e = APIERR_INIT;
    size_t len, n = 0;
    const char *body = http_body(h, &len);
    pthread_mutex_lock(&w->mu); /* import_controller_push only queues: held briefly */
    int rc = w->ic ? registry_webhook_dispatch(body, len, push_to_controller, w->ic, &n, &e)
                   : apierr_set(&e, APIERR_UNAVAILABLE, "the server is shutting down; send the notification again");
    pthread_mutex_unlock(&w->mu);
    if (rc != 0) {
        respond_err(h, &e);
        apierr_clear(&e);
        return;
    }
    char *out = xasprintf("{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Success\","
                          "\"message\":\"%zu image stream(s) importing\",\"code\":200}", n);
    http_header_kv_t hd[1] = {{"Content-Type", "application/json"}};
    http_respond_owned(h, 200, hd, 1, out, strlen(out));
}

/* "Bearer <token>", compared in constant time */
static bool authorized(const registry_webhook_t *w, const char *auth)
{
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
        return false;
    const char *t = auth + 7;
    size_t n = strlen(w->token);
    return strlen(t) == n && CRYPTO_memcmp(t, w->token, n) == 0;
}

void registry_webhook_handle(http_req_t *h, void *arg)
{
    registry_webhook_t *w = arg;
    apierr_t e = APIERR_INIT;
    if (strcmp(http_method(h), "POST") != 0) {
        apierr_set(&e, APIERR_METHOD_NOT_ALLOWED, "%s takes POST (registry notifications), not %s",
                   REGISTRY_WEBHOOK_PATH, http_method(h));
    } else if (!authorized(w, http_header(h, "Authorization"))) {
        apierr_set(&e, APIERR_UNAUTHORIZED,
                   "registry notifications need 'Authorization: Bearer <token>' with the token of "
                   "--registry-webhook-token-file");
    } else {
        const char *ct = http_header(h, "Content-Type");
        size_t n = strcspn(ct ? ct : "", ";");
        if (ct && *ct && !((n == strlen(REGISTRY_EVENTS_MEDIA_TYPE) && !strncasecmp(ct, REGISTRY_EVENTS_MEDIA_TYPE, n)) ||
                           (n == 16 && !strncasecmp(ct, "application/json", n))))
            apierr_set(&e, APIERR_UNSUPPORTED_MEDIA, "registry notifications are %s (or application/json), not %s",
                       REGISTRY_EVENTS_MEDIA_TYPE, ct);
        else if (http_defer(h, handle_on_pool, w) != 0)
            return; /* the transport answered (busy) */
        else
            return;
    }
    respond_err(h, &e);
    apierr_clear(&e);
}
