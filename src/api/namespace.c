/* namespace: the few core (v1) paths clients need from a server without a core API.
 * Namespaces are implicit: every DNS-1123 label names an existing, Active namespace
 * (kubectl checks /api/v1/namespaces/<ns> after a 404; contract §9.2). Events are an
 * empty list (kubectl describe). /api/v1 (the core kinds served, discovery.c) and the
 * core kinds' own paths (api.c) are not here. */
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "api/objectmeta.h"

static void respond_json(http_req_t *h, json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    api_respond_raw(h, 200, "application/json", s, strlen(s));
    free(s);
}

bool namespace_route(api_t *a, http_req_t *h, const char *path)
{
    static const char pfx[] = "/api/v1/namespaces/";
    if (strncmp(path, pfx, sizeof pfx - 1) != 0)
        return false;
    const char *rest = path + sizeof pfx - 1;
    const char *slash = strchr(rest, '/');
    char *ns = url_decode(rest, slash ? (size_t)(slash - rest) : strlen(rest), false);
    ferrs_t errs = FERRS_INIT;
    if (ns)
        validate_dns1123_label(ns, "metadata.name", &errs);
    bool valid = ns && *ns && errs.n == 0;
    ferrs_free(&errs);
    bool events = slash && strcmp(slash, "/events") == 0;
    api_authz_attrs_t at = {.user = api_request_user(a, h), .verb = events ? "list" : "get", .resource_request = true,
                            .group = "", .resource = events ? "events" : "namespaces", .subresource = "",
                            .ns = events && ns ? ns : "", .name = events || !ns ? "" : ns, .path = path};
    apierr_t denied = APIERR_INIT;
    if (valid && authz_check(a, &at, &denied) != 0) {
        api_respond_status_err(h, &denied);
        apierr_clear(&denied);
    } else if (!valid || strcmp(http_method(h), "GET") != 0) {
        apierr_t e = APIERR_INIT;
        if (!valid)
            apierr_not_found(&e, "namespaces", "", ns ? ns : "");
        else
            apierr_set(&e, APIERR_METHOD_NOT_ALLOWED, "namespaces are implicit on this server and cannot be changed");
        api_respond_status_err(h, &e);
        apierr_clear(&e);
    } else if (!slash || !slash[1]) {
        respond_json(h, json_pack("{s:s, s:s, s:{s:s}, s:{}, s:{s:s}}", "kind", "Namespace", "apiVersion", "v1",
                                  "metadata", "name", ns, "spec", "status", "phase", "Active"));
    } else if (events) {
        char rv[24];
        snprintf(rv, sizeof rv, "%lld", (long long)kinds_cache_rev(a));   /* no etcd round trip on the loop */
        respond_json(h, json_pack("{s:s, s:s, s:{s:s}, s:[]}", "kind", "EventList", "apiVersion", "v1", "metadata",
                                  "resourceVersion", rv, "items"));
    } else {
        apierr_t e = APIERR_INIT;
        apierr_set_details(&e, APIERR_NOT_FOUND, json_object(), "the server could not find the requested resource");
        api_respond_status_err(h, &e);
        apierr_clear(&e);
    }
    free(ns);
    return true;
}
