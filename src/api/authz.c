/* authz: identity defaults, the authorizer seam, and kube-apiserver's Forbidden Status
 * (k8s.io/apiserver responsewriters.forbiddenMessage + errors.NewForbidden). */
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"

static const char *const unauthenticated_groups[] = {"system:unauthenticated", NULL};
const api_user_t api_user_anonymous = {"system:anonymous", "", unauthenticated_groups, NULL};

const api_user_t *api_request_user(api_t *a, http_req_t *h)
{
    (void)a;
    (void)h;
    return &api_user_anonymous;
}

api_authz_decision_t api_authorize_all(void *ctx, const api_authz_attrs_t *attrs, char **reason)
{
    (void)ctx;
    (void)attrs;
    (void)reason;
    return API_AUTHZ_ALLOW;
}

int api_forbidden(apierr_t *err, const api_authz_attrs_t *at, const char *reason)
{
    const char *user = at->user && at->user->name ? at->user->name : "";
    buf_t why;
    buf_init(&why);
    if (!at->resource_request) {
        buf_printf(&why, "User \"%s\" cannot %s path \"%s\"", user, at->verb, at->path ? at->path : "");
    } else {
        buf_printf(&why, "User \"%s\" cannot %s resource \"%s%s%s\" in API group \"%s\"", user, at->verb,
                   at->resource, at->subresource && *at->subresource ? "/" : "",
                   at->subresource ? at->subresource : "", at->group);
        if (at->ns && *at->ns)
            buf_printf(&why, " in the namespace \"%s\"", at->ns);
        else
            buf_puts(&why, " at the cluster scope");
    }
    if (reason && *reason)
        buf_printf(&why, ": %s", reason);
    json_t *details = json_object();
    int rc;
    if (!at->resource_request) {
        rc = apierr_set_details(err, APIERR_FORBIDDEN, details, "forbidden: %s", why.data);
    } else {
        /* qualified resource: "imagestreams.image.openshift.io" (core: "namespaces") */
        char *qr = *at->group ? xasprintf("%s.%s", at->resource, at->group) : xstrdup(at->resource);
        const char *name = at->name ? at->name : "";
        if (*name)
            json_object_set_new(details, "name", json_string(name));
        if (*at->group)
            json_object_set_new(details, "group", json_string(at->group));
        json_object_set_new(details, "kind", json_string(at->resource));
        if (*name)
            rc = apierr_set_details(err, APIERR_FORBIDDEN, details, "%s \"%s\" is forbidden: %s", qr, name, why.data);
        else
            rc = apierr_set_details(err, APIERR_FORBIDDEN, details, "%s is forbidden: %s", qr, why.data);
        free(qr);
    }
    buf_free(&why);
    return rc;
}

int authz_check(api_t *a, const api_authz_attrs_t *attrs, apierr_t *err)
{
    char *reason = NULL;
    api_authz_decision_t d = a->cfg.authorizer(a->cfg.authorizer_ctx, attrs, &reason);
    int rc = 0;
    if (d != API_AUTHZ_ALLOW)
        rc = api_forbidden(err, attrs, reason);
    free(reason);
    return rc;
}
