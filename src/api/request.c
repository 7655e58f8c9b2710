/* request: per-request state — options, content negotiation, the call context. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api_internal.h"

api_req_t *api_req_new(api_t *a, http_req_t *h)
{
    api_req_t *r = xcalloc(1, sizeof *r);
    r->api = a;
    r->http = h;
    api_call_init(&r->call, a, h ? api_request_user(a, h) : &api_user_anonymous);
    r->call.req = r;
    return r;   /* r->opt: req_options_parse sets every default */
}

void api_req_free(api_req_t *r)
{
    if (!r)
        return;
    free(r->resource);
    free(r->subresource);
    free(r->ns);
    free(r->name);
    req_options_free(&r->opt);
    api_call_clear(&r->call);
    free(r);
}

void api_defer(api_req_t *r, void (*fn)(http_req_t *h, void *arg))
{
    if (http_defer(r->http, fn, r) != 0)
        api_req_free(r);   /* refused and answered (429/503): fn will not run */
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

/* Media type ct is want (case-insensitive), alone or followed by parameters. */
static bool ct_is(const char *ct, const char *want)
{
    size_t n = strlen(want);
    return strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static const char *ct_or_default(const char *ct)
{
    return ct && *ct ? ct : "application/json";
}

int api_content_type_kind(const char *ct)
{
    ct = ct_or_default(ct);
    if (ct_is(ct, "application/json"))
        return CT_BODY_JSON;
    if (ct_is(ct, "application/yaml") || ct_is(ct, "application/apply-patch+yaml"))
        return CT_BODY_YAML;
    if (ct_is(ct, "application/vnd.kubernetes.protobuf"))
        return CT_BODY_PROTOBUF;
    return -1;
}

int api_patch_type(const char *ct)
{
    ct = ct_or_default(ct);
    if (ct_is(ct, "application/merge-patch+json"))
        return PT_MERGE;
    if (ct_is(ct, "application/json-patch+json"))
        return PT_JSON;
    if (ct_is(ct, "application/strategic-merge-patch+json"))
        return PT_STRATEGIC;
    if (ct_is(ct, "application/apply-patch+yaml") || ct_is(ct, "application/apply-patch+json"))
        return PT_APPLY;
    return -1;
}

/* fieldManager, else the User-Agent's product token, as the apiserver does. */
const char *api_field_manager(api_req_t *r, const char *fallback)
{
    if (r->opt.field_manager && *r->opt.field_manager)
        return r->opt.field_manager;
    const char *ua = r->http ? http_header(r->http, "User-Agent") : NULL;
    if (ua && *ua) {
        size_t n = strcspn(ua, "/");
        if (n > sizeof r->manager - 1)
            n = sizeof r->manager - 1;
        memcpy(r->manager, ua, n);
        r->manager[n] = '\0';
        return r->manager;
    }
    return fallback;
}
