/* call: the context of one call into the API — from an HTTP request or from a thread
 * of the server's own (a controller) — and its accessors for domain code. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_internal.h"

void api_call_init(api_call_t *c, api_t *a, const api_user_t *user)
{
    memset(c, 0, sizeof *c);
    c->api = a;
    c->user = user ? user : &api_user_anonymous;
    c->field_validation = FV_WARN;
    c->err = (apierr_t)APIERR_INIT;
    time_rfc3339(time(NULL), c->now);
}

void api_call_clear(api_call_t *c)
{
    for (size_t i = 0; i < c->nwarnings; i++)
        free(c->warnings[i]);
    free(c->warnings);
    c->warnings = NULL;
    c->nwarnings = 0;
    apierr_clear(&c->err);
}

api_call_t *api_call_new(api_t *a, const api_user_t *user, const char *field_manager)
{
    api_call_t *c = xmalloc(sizeof *c);
    api_call_init(c, a, user);
    c->field_manager = field_manager;
    return c;
}

void api_call_free(api_call_t *c)
{
    if (!c)
        return;
    api_call_clear(c);
    free(c);
}

api_t *api_call_api(api_call_t *c) { return c->api; }
void *api_call_domain(api_call_t *c) { return c->api ? c->api->cfg.domain : NULL; }
const char *api_call_now(api_call_t *c) { return c->now; }
const api_user_t *api_call_user(api_call_t *c) { return c->user; }
bool api_call_dry_run(api_call_t *c) { return c->dry_run; }
void api_call_set_dry_run(api_call_t *c, bool dry_run) { c->dry_run = dry_run; }
apierr_t *api_call_err(api_call_t *c) { return &c->err; }
void api_call_set_code(api_call_t *c, int code) { c->code = code; }
const char *api_call_precondition_uid(api_call_t *c) { return c->precond_uid; }

/* ---- suspended calls ---- */
void api_call_suspend(api_call_t *c)
{
    c->suspended = true;
    if (c->req)
        atomic_store(&c->holds, 2);
}
bool api_call_suspended(const api_call_t *c) { return c->suspended; }

void api_call_set_executor(api_call_t *c, api_executor_fn exec, void *ctx)
{
    c->exec = exec;
    c->exec_ctx = ctx;
}

typedef struct resume {
    api_call_t *c;
    api_resume_fn fn;
    void *arg;
} resume_t;

static void resume_run(http_req_t *h, void *arg)
{
    (void)h;
    resume_t t = *(resume_t *)arg;
    free(arg);
    t.fn(t.c, t.arg);
}

void api_call_resume(api_call_t *c, api_resume_fn fn, void *arg)
{
    if (!c->req || !c->req->http) {
        if (c->exec)
            c->exec(c->exec_ctx, c, fn, arg);
        else
            fn(c, arg);
        return;
    }
    resume_t *t = xmalloc(sizeof *t);
    *t = (resume_t){c, fn, arg};
    if (http_defer(c->req->http, resume_run, t) != 0) {
        /* the transport answered (429 / 503): fn only cleans up */
        free(t);
        c->answered = true;
        if (!apierr_is_set(&c->err))
            apierr_set(&c->err, APIERR_UNAVAILABLE, "the server is shutting down or overloaded");
        fn(c, arg);
    }
}

void api_call_warn(api_call_t *c, const char *msg)
{
    for (size_t i = 0; i < c->nwarnings; i++)
        if (strcmp(c->warnings[i], msg) == 0)
            return;
    c->warnings = xrealloc(c->warnings, (c->nwarnings + 1) * sizeof *c->warnings);
    c->warnings[c->nwarnings++] = xstrdup(msg);
}

void api_warn_cb(void *call, const char *msg) { api_call_warn(call, msg); }

static api_authz_attrs_t call_attrs(api_call_t *c, const char *verb, const char *group, const char *resource,
                                    const char *subresource, const char *ns, const char *name)
{
    return (api_authz_attrs_t){
        .user = c->user, .verb = verb, .resource_request = true, .group = group ? group : "",
        .resource = resource, .subresource = subresource ? subresource : "", .ns = ns ? ns : "",
        .name = name ? name : "", .path = "",
    };
}

bool api_authorize_query(api_call_t *c, const char *verb, const char *group, const char *resource,
                         const char *subresource, const char *ns, const char *name, char **reason)
{
    api_authz_attrs_t at = call_attrs(c, verb, group, resource, subresource, ns, name);
    char *why = NULL;
    bool ok = c->api->cfg.authorizer(c->api->cfg.authorizer_ctx, &at, &why) == API_AUTHZ_ALLOW;
    if (reason && !ok)
        *reason = why;
    else
        free(why);
    return ok;
}

int api_authorize(api_call_t *c, const char *verb, const char *group, const char *resource,
                  const char *subresource, const char *ns, const char *name)
{
    api_authz_attrs_t at = call_attrs(c, verb, group, resource, subresource, ns, name);
    return authz_check(c->api, &at, &c->err);
}
