/* route: a resource request path -> kind, namespace, name, subresource, verb, options.
 * Everything it knows comes from the kind table; it does no I/O (fuzzed, unit-tested). */
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"

#define MAX_SEGMENTS 8

/* Splits the path after /apis/<group>/<version>/ into decoded segments. On failure
 * (-1: empty segment, bad %-escape, %00, too many segments) nothing stays allocated.
 * A segment with %00 names nothing (url_decode refuses it). */
static int split_segments(const char *rest, char **seg, int max)
{
    int n = 0;
    const char *p = rest;
    while (*p && n < max) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == 0)
            goto fail;
        seg[n] = url_decode(p, len, false);   /* NULL for %00 too */
        if (!seg[n++])
            goto fail;
        if (!e)
            return n;
        p = e + 1;
        if (!*p)
            return n; /* trailing slash */
    }
    if (!*p)
        return n;
fail:
    while (n > 0)
        free(seg[--n]);
    seg[0] = NULL;
    return -1;
}

/* The verb of a method on the path, as the authorizer sees it (kube's RequestInfo: any
 * other method is its lower-case name; the route then answers 405). */
static const char *authz_verb(api_req_t *r, const char *m, bool watch)
{
    if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
        return watch ? "watch" : r->name ? "get" : "list";
    if (strcmp(m, "POST") == 0)
        return "create";
    if (strcmp(m, "PUT") == 0)
        return "update";
    if (strcmp(m, "PATCH") == 0)
        return "patch";
    if (strcmp(m, "DELETE") == 0)
        return r->name ? "delete" : "deletecollection";
    return api_method_verb(m, r->verb_buf, sizeof r->verb_buf);
}

const char *api_method_verb(const char *method, char *buf, size_t size)
{
    size_t i = 0;
    for (; method[i] && i < size - 1; i++)
        buf[i] = (char)(method[i] >= 'A' && method[i] <= 'Z' ? method[i] - 'A' + 'a' : method[i]);
    buf[i] = '\0';
    return buf;
}

/* The verb the route serves: GET only as get/list/watch, create on collections, update and
 * patch on items. NULL: the method is not served there (405). */
static const char *verb_of(const api_req_t *r, const char *m)
{
    if (strcmp(m, "GET") == 0)
        /* a watch on an item path is a watch with fieldSelector metadata.name */
        return r->opt.watch ? "watch" : r->name ? "get" : "list";
    if (strcmp(m, "POST") == 0 && !r->name)
        return "create";
    if ((strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0) && r->name)
        return m[1] == 'U' ? "update" : "patch";
    if (strcmp(m, "DELETE") == 0)
        return r->name ? "delete" : "deletecollection";
    return NULL;
}

/* watch=<true> in the raw query (kube decides the verb before parsing the options). */
static bool query_watch(const char *query)
{
    for (const char *p = query ? query : ""; *p;) {
        size_t n = strcspn(p, "&");
        if (n > 6 && strncmp(p, "watch=", 6) == 0) {
            char *v = url_decode(p + 6, n - 6, true);
            bool on = v && parse_bool(v) == 1;
            free(v);
            return on;
        }
        p += n;
        if (*p)
            p++;
    }
    return false;
}

static const char *route_group(const api_req_t *r) { return r->group ? r->group : API_GROUP; }

static int not_allowed(api_req_t *r)
{
    return apierr_set(&r->call.err, APIERR_METHOD_NOT_ALLOWED,
                      "the server does not allow this method on the requested resource");
}

int api_route_info(api_req_t *r, const char *method, const char *rest, const char *query)
{
    char *seg[MAX_SEGMENTS] = {0};
    int n = split_segments(rest, seg, MAX_SEGMENTS);
    int rc = ROUTE_NOT_FOUND, i = 0;
    if (n <= 0)
        return ROUTE_NOT_FOUND;
    if (strcmp(seg[0], "watch") == 0) {
        r->watch_path = true;
        i = 1;
    }
    if (n - i >= 2 && strcmp(seg[i], "namespaces") == 0) {
        r->ns = xstrdup(seg[i + 1]);
        i += 2;
    }
    if (n - i < 1 || n - i > 3)
        goto out;
    r->resource = xstrdup(seg[i]);
    if (n - i >= 2)
        r->name = xstrdup(seg[i + 1]);
    if (n - i == 3)
        r->subresource = xstrdup(seg[i + 2]);
    r->verb = authz_verb(r, method, r->watch_path || query_watch(query));
    rc = 0;
out:
    for (int j = 0; j < n; j++)
        free(seg[j]);
    return rc;
}

int api_route_resolve(api_req_t *r, const char *method, const char *query)
{
    r->kind = kinds_find(r->api, r->resource);
    if (r->kind && strcmp(r->kind->schema->group, route_group(r)) != 0)
        r->kind = NULL;   /* served, but under the other prefix */
    if (!r->kind || (r->ns && !r->kind->namespaced))
        return ROUTE_NOT_FOUND;
    if (r->subresource && !(r->sub = api_kind_subresource(r->kind, r->subresource)))
        return ROUTE_NOT_FOUND;
    if (r->kind->namespaced && r->name && !r->ns)
        return ROUTE_NOT_FOUND;
    if (req_options_parse(query, &r->opt, &r->call.err) != 0)
        return -1;
    /* what the options say about the call: every verb runs with it */
    r->call.dry_run = r->opt.dry_run;
    r->call.field_validation = r->opt.field_validation;
    r->call.field_manager = api_field_manager(r, "unknown");
    if (r->watch_path) {
        r->opt.watch = true;
        if (req_options_validate_list(&r->opt, &r->call.err) != 0)
            return -1;
        if (strcmp(method, "GET") != 0)   /* /watch/ paths only watch: nothing else acts there */
            return not_allowed(r);
    }
    r->verb = verb_of(r, method);
    if (!r->verb || !schema_verbs_has(r->sub ? r->sub->verbs : r->kind->verbs, r->verb))
        return not_allowed(r);
    if (r->name && r->kind->check_name && r->kind->check_name(&r->call, r->name) != 0)
        return -1;
    return 0;
}

int api_route_parse(api_req_t *r, const char *method, const char *rest, const char *query)
{
    int rc = api_route_info(r, method, rest, query);
    return rc == 0 ? api_route_resolve(r, method, query) : rc;
}

void api_route_attrs(const api_req_t *r, api_authz_attrs_t *at)
{
    *at = (api_authz_attrs_t){
        .user = r->call.user, .verb = r->verb, .resource_request = true, .group = route_group(r),
        .resource = r->resource, .subresource = r->subresource ? r->subresource : "", .ns = r->ns ? r->ns : "",
        .name = r->name ? r->name : "", .path = r->http ? http_path(r->http) : "",
    };
}
