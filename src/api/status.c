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

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, surrogates or
 * code points above U+10FFFF), 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n = s[0] >= 0xC2 && s[0] <= 0xDF ? 2 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3 : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F) || (s[0] == 0xF0 && s[1] < 0x90) ||
        (s[0] == 0xF4 && s[1] > 0x8F))
        return 0;
    return n;
}

/* A JSON string of msg; invalid UTF-8 (a %ff in a request path ends up in messages) is
 * replaced by U+FFFD, as Go's encoding/json does, instead of making the Status unencodable. */
static json_t *message_string(const char *msg)
{
    json_t *j = json_string(msg);
    if (j)
        return j;
    buf_t b;
    buf_init(&b);
    buf_puts(&b, "");
    for (const unsigned char *p = (const unsigned char *)msg; *p;) {
        size_t n = utf8_seq_len(p);
        if (n) {
            buf_append(&b, p, n);
            p += n;
        } else {
            buf_puts(&b, "\xEF\xBF\xBD");
            p++;
        }
    }
    j = json_string(b.data);
    buf_free(&b);
    return j ? j : json_string("");
}

json_t *status_failure_json(const apierr_t *err)
{
    apierr_kind_t k = err->kind == APIERR_OK ? APIERR_INTERNAL : err->kind;
    json_t *s = json_pack("{s:s, s:s, s:{}, s:s, s:o, s:s, s:i}", "kind", "Status", "apiVersion", "v1", "metadata",
                          "status", "Failure", "message", message_string(err->message ? err->message : ""), "reason",
                          apierr_reason(k), "code", apierr_http_code(k));
    json_t *details = err->details ? json_deep_copy(err->details) : NULL;
    if (err->retry_after) {
        if (!details)
            details = json_object();
        json_object_set_new(details, "retryAfterSeconds", json_integer(err->retry_after));
    }
    if (details)
        json_object_set_new(s, "details", details);
    return s;
}

void api_respond_raw(http_req_t *h, int code, const char *ctype, const char *body, size_t len)
{
    http_header_kv_t hdr[] = {{"Content-Type", ctype}, {"Cache-Control", "no-cache, private"}};
    http_respond(h, code, hdr, 2, body, len);
}

void api_respond_status_err(http_req_t *h, const apierr_t *err)
{
    json_t *s = status_failure_json(err);
    char *body = s ? json_dumps(s, JSON_COMPACT) : NULL;
    json_decref(s);
    if (!body) /* cannot happen with message_string(); never answer without a Status */
        body = xstrdup("{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                       "\"message\":\"internal error\",\"reason\":\"InternalError\",\"code\":500}");
    char ra[16];
    snprintf(ra, sizeof ra, "%d", err->retry_after);
    http_header_kv_t hdr[] = {{"Content-Type", "application/json"}, {"Cache-Control", "no-cache, private"},
                              {"Retry-After", ra}};
    http_respond_owned(h, apierr_http_code(err->kind == APIERR_OK ? APIERR_INTERNAL : err->kind), hdr,
                       err->retry_after ? 3 : 2, body, strlen(body));
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
