/* status: every response leaves through here — Status errors, JSON objects with
 * ?pretty and Accept: application/yaml, Warning headers. */
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "api/patch.h"

json_t *status_success(const char *name, const char *group, const char *kind, const char *uid)
{
    json_t *s = json_pack("{s:s, s:s, s:{}, s:s}", "kind", "Status", "apiVersion", "v1", "metadata", "status",
                          "Success");
    if (name) {
        json_t *d = json_object();
        json_object_set_new(d, "name", json_string(name));
        if (group)
            json_object_set_new(d, "group", json_string(group));
        if (kind)
            json_object_set_new(d, "kind", json_string(kind));
        if (uid)
            json_object_set_new(d, "uid", json_string(uid));
        json_object_set_new(s, "details", d);
    }
    return s;
}

void api_respond_raw(http_req_t *h, int code, const char *ctype, const char *body, size_t len)
{
    http_header_kv_t hdr[] = {{"Content-Type", ctype}, {"Cache-Control", "no-cache, private"}};
    http_respond(h, code, hdr, 2, body, len);
}

void api_respond_status_err(http_req_t *h, const apierr_t *err)
{
    size_t len;
    char *body = apierr_status_body(err, &len);
    char ra[16];
    snprintf(ra, sizeof ra, "%d", err->retry_after);
    http_header_kv_t hdr[] = {{"Content-Type", "application/json"}, {"Cache-Control", "no-cache, private"},
                              {"Retry-After", ra}};
    http_respond_owned(h, apierr_http_code(err->kind == APIERR_OK ? APIERR_INTERNAL : err->kind), hdr,
                       err->retry_after ? 3 : 2, body, len);
}

/* Warning: 299 - "<text>" with " and \ escaped. */
static char *warning_value(const char *msg)
{
    buf_t b;
    buf_init(&b);
    buf_puts(&b, "299 - \"");
    for (const char *p = msg; *p; p++) {
        if (*p == '"' || *p == '\\')
            buf_putc(&b, '\\');
        buf_putc(&b, *p == '\n' ? ' ' : *p);
    }
    buf_putc(&b, '"');
    return buf_steal(&b);
}

/* Takes ownership of json (malloc'ed, len bytes): no copy on the common path. */
void api_respond_owned(api_req_t *r, int code, char *json, size_t len)
{
    char *body = NULL;
    size_t blen = len;
    const char *ctype = "application/json";
    if (r->opt.pretty || r->accept == ACCEPT_YAML) {
        json_error_t jerr;
        json_t *v = json_loadb(json, len, 0, &jerr);
        if (v && r->accept == ACCEPT_YAML) {
            body = json_to_yaml(v);
            ctype = "application/yaml";
        } else if (v) {
            body = json_dumps(v, JSON_INDENT(2));
        }
        json_decref(v);
        if (body)
            blen = strlen(body);
    }
    if (!body)
        body = json;
    else
        free(json);
    size_t nh = 2 + r->call.nwarnings;
    http_header_kv_t *hdr = xcalloc(nh, sizeof *hdr);
    char **vals = xcalloc(r->call.nwarnings + 1, sizeof *vals);
    hdr[0] = (http_header_kv_t){"Content-Type", ctype};
    hdr[1] = (http_header_kv_t){"Cache-Control", "no-cache, private"};
    for (size_t i = 0; i < r->call.nwarnings; i++) {
        vals[i] = warning_value(r->call.warnings[i]);
        hdr[2 + i] = (http_header_kv_t){"Warning", vals[i]};
    }
    http_respond_owned(r->http, code, hdr, nh, body, blen);
    for (size_t i = 0; i < r->call.nwarnings; i++)
        free(vals[i]);
    free(vals);
    free(hdr);
}

void api_respond_bytes(api_req_t *r, int code, const char *json, size_t len)
{
    char *copy = xmalloc(len + 1);
    memcpy(copy, json, len);
    copy[len] = '\0';
    api_respond_owned(r, code, copy, len);
}

void api_respond_json(api_req_t *r, int code, json_t *obj)
{
    char *s = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    api_respond_owned(r, code, s, strlen(s));
}

void api_respond_error(api_req_t *r)
{
    if (!apierr_is_set(&r->call.err))
        apierr_set(&r->call.err, APIERR_INTERNAL, "Internal error occurred: unknown error");
    api_respond_status_err(r->http, &r->call.err);
}
