#include "apierr.h"
#include "util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int apierr_http_code(apierr_kind_t k)
{
    switch (k) {
#define APIERR_CODE(n, c, r) case APIERR_##n: return c;
        APIERR_KINDS(APIERR_CODE)
#undef APIERR_CODE
    }
    return 500;
}

const char *apierr_reason(apierr_kind_t k)
{
    switch (k) {
#define APIERR_REASON(n, c, r) case APIERR_##n: return r;
        APIERR_KINDS(APIERR_REASON)
#undef APIERR_REASON
    }
    return "InternalError";
}

static int vset(apierr_t *err, apierr_kind_t kind, json_t *details, const char *fmt, va_list ap)
{
    if (!err || err->kind != APIERR_OK) {
        json_decref(details);
        return -1;
    }
    buf_t b;
    buf_init(&b);
    buf_vprintf(&b, fmt, ap);
    err->kind = kind;
    err->message = buf_steal(&b);
    err->details = details;
    return -1;
}

int apierr_set(apierr_t *err, apierr_kind_t kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(err, kind, NULL, fmt, ap);
    va_end(ap);
    return -1;
}

int apierr_set_details(apierr_t *err, apierr_kind_t kind, json_t *details, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(err, kind, details, fmt, ap);
    va_end(ap);
    return -1;
}

bool apierr_is_set(const apierr_t *err) { return err && err->kind != APIERR_OK; }

void apierr_clear(apierr_t *err)
{
    free(err->message);
    json_decref(err->details);
    err->kind = APIERR_OK;
    err->message = NULL;
    err->details = NULL;
    err->retry_after = 0;
}

/* ---- Status ---- */

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, surrogates or
 * code points above U+10FFFF), 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n = s[0] >= 0xC2 && s[0] <= 0xDF ? 2 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3 : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0; /* also stops at the NUL: s[i] is never read past it */
    if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F) || (s[0] == 0xF0 && s[1] < 0x90) ||
        (s[0] == 0xF4 && s[1] > 0x8F))
        return 0;
    return n;
}

/* A JSON string of msg, invalid UTF-8 replaced by U+FFFD (jansson refuses it). */
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

json_t *apierr_status_json(const apierr_t *err)
{
    apierr_kind_t k = !err || err->kind == APIERR_OK ? APIERR_INTERNAL : err->kind;
    const char *msg = err && err->message ? err->message : "";
    json_t *s = json_pack("{s:s, s:s, s:{}, s:s, s:o, s:s, s:i}", "kind", "Status", "apiVersion", "v1", "metadata",
                          "status", "Failure", "message", message_string(msg), "reason", apierr_reason(k), "code",
                          apierr_http_code(k));
    if (!s)
        return NULL;
    json_t *details = err && err->details ? json_deep_copy(err->details) : NULL;
    if (err && err->retry_after) {
        if (!details)
            details = json_object();
        json_object_set_new(details, "retryAfterSeconds", json_integer(err->retry_after));
    }
    if (details)
        json_object_set_new(s, "details", details);
    return s;
}

char *apierr_status_body(const apierr_t *err, size_t *len)
{
    json_t *s = apierr_status_json(err);
    char *body = s ? json_dumps(s, JSON_COMPACT) : NULL;
    json_decref(s);
    if (!body) /* out of memory only: never answer without a Status */
        body = xstrdup("{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                       "\"message\":\"internal error\",\"reason\":\"InternalError\",\"code\":500}");
    if (len)
        *len = strlen(body);
    return body;
}

static json_t *name_details(const char *resource, const char *group, const char *name)
{
    json_t *d = json_object();
    if (name && *name)
        json_object_set_new(d, "name", json_string(name));
    if (group && *group)
        json_object_set_new(d, "group", json_string(group));
    json_object_set_new(d, "kind", json_string(resource));
    return d;
}

static char *qualified(const char *resource, const char *group)
{
    return group && *group ? xasprintf("%s.%s", resource, group) : xstrdup(resource);
}

int apierr_not_found(apierr_t *err, const char *resource, const char *group, const char *name)
{
    char *q = qualified(resource, group);
    apierr_set_details(err, APIERR_NOT_FOUND, name_details(resource, group, name), "%s \"%s\" not found", q, name);
    free(q);
    return -1;
}

int apierr_already_exists(apierr_t *err, const char *resource, const char *group, const char *name)
{
    char *q = qualified(resource, group);
    apierr_set_details(err, APIERR_ALREADY_EXISTS, name_details(resource, group, name), "%s \"%s\" already exists", q, name);
    free(q);
    return -1;
}

int apierr_conflict(apierr_t *err, const char *resource, const char *group, const char *name, const char *why)
{
    char *q = qualified(resource, group);
    apierr_set_details(err, APIERR_CONFLICT, name_details(resource, group, name),
                       "Operation cannot be fulfilled on %s \"%s\": %s", q, name,
                       why ? why : "the object has been modified; please apply your changes to the latest version and try again");
    free(q);
    return -1;
}

/* ---- field errors ---- */

void ferrs_add(ferrs_t *l, ferr_type_t type, const char *field, json_t *value, const char *fmt, ...)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4;
        l->items = xrealloc(l->items, l->cap * sizeof *l->items);
    }
    ferr_t *e = &l->items[l->n++];
    e->type = type;
    e->field = xstrdup(field ? field : "");
    e->value = value;
    e->detail = NULL;
    if (fmt) {
        buf_t b;
        buf_init(&b);
        va_list ap;
        va_start(ap, fmt);
        buf_vprintf(&b, fmt, ap);
        va_end(ap);
        e->detail = buf_steal(&b);
    }
}

void ferrs_free(ferrs_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].field);
        free(l->items[i].detail);
        json_decref(l->items[i].value);
    }
    free(l->items);
    l->items = NULL;
    l->n = l->cap = 0;
}

const char *ferr_cause_reason(ferr_type_t t)
{
    switch (t) {
    case FERR_REQUIRED: return "FieldValueRequired";
    case FERR_INVALID: return "FieldValueInvalid";
    case FERR_NOT_SUPPORTED: return "FieldValueNotSupported";
    case FERR_FORBIDDEN: return "FieldValueForbidden";
    case FERR_NOT_FOUND: return "FieldValueNotFound";
    case FERR_DUPLICATE: return "FieldValueDuplicate";
    case FERR_TOO_LONG: return "FieldValueTooLong";
    case FERR_INTERNAL: return "InternalError";
    }
    return "FieldValueInvalid";
}

/* Values print like Go's field.Error: strings quoted, numbers/bools bare, others JSON. */
static void put_value(buf_t *b, json_t *v)
{
    if (!v) {
        buf_puts(b, "null");
        return;
    }
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    buf_puts(b, s ? s : "null");
    free(s);
}

char *ferr_cause_message(const ferr_t *e)
{
    buf_t b;
    buf_init(&b);
    switch (e->type) {
    case FERR_REQUIRED: buf_puts(&b, "Required value"); break;
    case FERR_FORBIDDEN: buf_puts(&b, "Forbidden"); break;
    case FERR_INTERNAL: buf_puts(&b, "Internal error"); break;
    case FERR_TOO_LONG: buf_puts(&b, "Too long"); break;
    case FERR_INVALID: buf_puts(&b, "Invalid value: "); put_value(&b, e->value); break;
    case FERR_NOT_SUPPORTED: buf_puts(&b, "Unsupported value: "); put_value(&b, e->value); break;
    case FERR_NOT_FOUND: buf_puts(&b, "Not found: "); put_value(&b, e->value); break;
    case FERR_DUPLICATE: buf_puts(&b, "Duplicate value: "); put_value(&b, e->value); break;
    }
    if (e->detail && *e->detail) {
        buf_puts(&b, ": ");
        buf_puts(&b, e->detail);
    }
    return buf_steal(&b);
}

char *ferr_string(const ferr_t *e)
{
    char *m = ferr_cause_message(e);
    char *s = xasprintf("%s: %s", e->field, m);
    free(m);
    return s;
}

int apierr_invalid(apierr_t *err, const char *kind_for_message, const char *details_kind,
                   const char *group, const char *name, const ferrs_t *l)
{
    buf_t msg;
    buf_init(&msg);
    buf_printf(&msg, "%s \"%s\" is invalid: ", kind_for_message, name ? name : "");
    json_t *causes = json_array();
    if (l->n > 1)
        buf_putc(&msg, '[');
    for (size_t i = 0; i < l->n; i++) {
        char *s = ferr_string(&l->items[i]);
        if (i)
            buf_puts(&msg, ", ");
        buf_puts(&msg, s);
        free(s);
        json_t *c = json_object();
        json_object_set_new(c, "reason", json_string(ferr_cause_reason(l->items[i].type)));
        char *cm = ferr_cause_message(&l->items[i]);
        json_object_set_new(c, "message", json_string(cm));
        free(cm);
        if (l->items[i].field && *l->items[i].field)
            json_object_set_new(c, "field", json_string(l->items[i].field));
        json_array_append_new(causes, c);
    }
    if (l->n > 1)
        buf_putc(&msg, ']');
    json_t *d = json_object();
    if (name && *name)
        json_object_set_new(d, "name", json_string(name));
    if (group && *group)
        json_object_set_new(d, "group", json_string(group));
    json_object_set_new(d, "kind", json_string(details_kind));
    json_object_set_new(d, "causes", causes);
    apierr_set_details(err, APIERR_INVALID, d, "%s", msg.data);
    buf_free(&msg);
    return -1;
}
