/* request: per-request state — options, content negotiation, time, strategy context. */
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"

/* Reads another ImageStream for tag references (ImageStreamTag/ImageStreamImage). */
static json_t *get_stream(void *arg, const char *ns, const char *name)
{
    api_t *a = arg;
    kind_def_t *k = kinds_find(a, "imagestreams");
    char *key = kind_key(k, ns, name);
    store_kv_t kv;
    json_t *out = NULL;
    if (store_get(a->store, key, &kv) == STORE_OK) {
        image_ctx_t ic = {.cfg = &a->cfg.image, .now = ""};
        out = kind_output(k, &ic, kv.value, kv.value_len, kv.mod_rev, false);
        store_kv_free(&kv);
    }
    free(key);
    return out;
}

api_req_t *api_req_new(api_t *a, http_req_t *h)
{
    api_req_t *r = xcalloc(1, sizeof *r);
    r->api = a;
    r->http = h;
    r->err = (apierr_t)APIERR_INIT;
    time_rfc3339(time(NULL), r->now);
    r->ictx.cfg = &a->cfg.image;
    r->ictx.now = r->now;
    r->ictx.get_stream = get_stream;
    r->ictx.arg = a; /* r->opt: req_options_parse sets every default */
    return r;
}

void api_req_free(api_req_t *r)
{
    if (!r)
        return;
    free(r->ns);
    free(r->name);
    free(r->subresource);
    req_options_free(&r->opt);
    for (size_t i = 0; i < r->nwarnings; i++)
        free(r->warnings[i]);
    free(r->warnings);
    apierr_clear(&r->err);
    free(r);
}

/* The first media range we can serve decides, as in the apiserver's negotiation. */
int api_accept_parse(const char *accept)
{
    if (!accept)
        return ACCEPT_JSON;
    const char *p = accept;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char *item = xstrndup(p, n);
        int res = -1;
        if (strstr(item, "as=Table"))
            res = strstr(item, "g=meta.k8s.io") ? ACCEPT_TABLE : -1;
        else if (strstr(item, "as=PartialObjectMetadataList"))
            res = ACCEPT_PARTIAL_LIST;
        else if (strstr(item, "as=PartialObjectMetadata"))
            res = ACCEPT_PARTIAL;
        else if (strstr(item, "application/yaml"))
            res = ACCEPT_YAML;
        else if (strstr(item, "application/json") || strstr(item, "*/*"))
            res = ACCEPT_JSON;
        free(item);
        if (res >= 0)
            return res;
        if (!end)
            break;
        p = end + 1;
        while (*p == ' ')
            p++;
    }
    return ACCEPT_JSON;
}

/* fieldManager, else the User-Agent's product token, as the apiserver does. */
const char *api_field_manager(api_req_t *r, const char *fallback)
{
    if (r->opt.field_manager && *r->opt.field_manager)
        return r->opt.field_manager;
    const char *ua = http_header(r->http, "User-Agent");
    if (ua && *ua) {
        static __thread char m[129];
        size_t n = strcspn(ua, "/");
        if (n > 128)
            n = 128;
        memcpy(m, ua, n);
        m[n] = '\0';
        return m;
    }
    return fallback;
}
