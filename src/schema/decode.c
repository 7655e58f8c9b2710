/* Request body decoding against a kind's schema: fieldValidation (Strict/Warn/Ignore) for
 * unknown and duplicate fields, and Go-like type errors, with Kubernetes' wording:
 *   ImageStream in version "v1" cannot be handled as a ImageStream: strict decoding error:
 *   unknown field "spec.foo", duplicate field "metadata.name"
 * Nulls are accepted anywhere: a null field is removed (Go leaves the zero value, which
 * serializes away), a null array/map element becomes its type's zero value. */
#include <inttypes.h>
#include <string.h>

#include "schema/schema_internal.h"

typedef struct walk {
    field_validation_t fv;
    bool report;                      /* report unknown fields (false: drop silently) */
    void (*warn)(void *ctx, const char *msg);
    void *warn_ctx;
    json_t *strict;                   /* Strict: collected messages */
    buf_t path;                       /* "spec.tags[0].from" */
    buf_t gopath;                     /* Go field stack, no indices: "spec.tags.from" */
    char *type_err;                   /* first type error */
} walk_t;

static void walk_type_err(walk_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void walk_type_err(walk_t *w, const char *fmt, ...)
{
    if (w->type_err)
        return;
    buf_t b;
    va_list ap;
    buf_init(&b);
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    w->type_err = buf_steal(&b);
}

/* The Go type the field would have, for error messages. */
static void go_type(const schema_node_t *n, buf_t *b)
{
    switch (n->type) {
    case ST_STRING: buf_puts(b, "string"); break;
    case ST_INT: buf_puts(b, n->format && strcmp(n->format, "int32") == 0 ? "int32" : "int64"); break;
    case ST_NUMBER: buf_puts(b, "float64"); break;
    case ST_BOOL: buf_puts(b, "bool"); break;
    case ST_TIME: buf_puts(b, "v1.Time"); break;
    case ST_BYTES: buf_puts(b, "[]uint8"); break;
    case ST_ANY: buf_puts(b, "runtime.RawExtension"); break;
    case ST_OBJECT: buf_printf(b, "v1.%s", n->ref ? schema_ref_short(n->ref) : "Object"); break;
    case ST_ARRAY: buf_puts(b, "[]"); go_type(n->items, b); break;
    case ST_MAP: buf_puts(b, "map[string]"); go_type(n->items, b); break;
    }
}

/* JSON type as Go's decoder names it ("number 1.5" for non-integers into ints). */
static char *json_type_name(const json_t *v, bool want_int)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return xstrdup("object");
    case JSON_ARRAY: return xstrdup("array");
    case JSON_STRING: return xstrdup("string");
    case JSON_TRUE:
    case JSON_FALSE: return xstrdup("bool");
    case JSON_INTEGER:
        return want_int ? xasprintf("number %" JSON_INTEGER_FORMAT, json_integer_value(v)) : xstrdup("number");
    case JSON_REAL: {
        if (!want_int)
            return xstrdup("number");
        char *num = json_dumps(v, JSON_ENCODE_ANY);
        char *s = xasprintf("number %s", num ? num : "");
        free(num);
        return s;
    }
    default: return xstrdup("null");
    }
}

static void walk_mismatch(walk_t *w, const schema_node_t *n, const json_t *v, const char *parent)
{
    buf_t t;
    char *jt = json_type_name(v, n->type == ST_INT);
    buf_init(&t);
    go_type(n, &t);
    walk_type_err(w, "json: cannot unmarshal %s into Go struct field %s.%s of type %s", jt, parent,
                  w->gopath.data ? w->gopath.data : "", t.data);
    buf_free(&t);
    free(jt);
}

/* Standard base64 as Go's encoding/json decodes []byte (padding required, CR/LF ignored).
 * Returns -1 if valid, else the offending input offset. */
static long base64_bad_at(const char *s)
{
    size_t n = 0, pad = 0, i;
    for (i = 0; s[i]; i++) {
        char c = s[i];
        if (c == '\r' || c == '\n')
            continue;
        if (c == '=') {
            pad++;
        } else if (pad || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '+' || c == '/')) {
            return (long)i;
        }
        n++;
    }
    if (pad > 2 || n % 4 != 0)
        return (long)(i > 0 ? i - 1 : 0);
    return -1;
}

static void path_push_field(walk_t *w, const char *name, size_t *p0, size_t *g0)
{
    *p0 = w->path.len;
    *g0 = w->gopath.len;
    if (w->path.len)
        buf_putc(&w->path, '.');
    buf_puts(&w->path, name);
    if (w->gopath.len)
        buf_putc(&w->gopath, '.');
    buf_puts(&w->gopath, name);
}

static void path_pop(walk_t *w, size_t p0, size_t g0)
{
    w->path.len = p0;
    if (w->path.data)
        w->path.data[p0] = '\0';
    w->gopath.len = g0;
    if (w->gopath.data)
        w->gopath.data[g0] = '\0';
}

static json_t *zero_value(const schema_node_t *n)
{
    switch (n->type) {
    case ST_STRING: return json_string("");
    case ST_INT: return json_integer(0);
    case ST_NUMBER: return json_real(0);
    case ST_BOOL: return json_false();
    case ST_OBJECT:
    case ST_MAP: return json_object();
    default: return json_null();
    }
}

static void walk_unknown(walk_t *w)
{
    if (!w->report || w->fv == FV_IGNORE)
        return;
    char *m = xasprintf("unknown field \"%s\"", w->path.data ? w->path.data : "");
    if (w->fv == FV_STRICT)
        json_array_append_new(w->strict, json_string(m));
    else if (w->warn)
        w->warn(w->warn_ctx, m);
    free(m);
}

static void walk_value(walk_t *w, const schema_node_t *n, json_t *v, const char *parent);

static void walk_object(walk_t *w, const schema_node_t *n, json_t *v)
{
    const char *me = schema_ref_short(n->ref);
    const char *key;
    json_t *child;
    void *tmp;

    json_object_foreach_safe(v, tmp, key, child) {
        size_t p0, g0;
        const schema_node_t *f = schema_field(n, key);
        path_push_field(w, key, &p0, &g0);
        if (!f) {
            walk_unknown(w);
            if (w->fv != FV_STRICT)
                json_object_del(v, key);
        } else if (json_is_null(child)) {
            json_object_del(v, key);
        } else {
            walk_value(w, f, child, me ? me : "Object");
        }
        path_pop(w, p0, g0);
        if (w->type_err)
            return;
    }
}

static void walk_value(walk_t *w, const schema_node_t *n, json_t *v, const char *parent)
{
    switch (n->type) {
    case ST_ANY:
        return;
    case ST_STRING:
        if (!json_is_string(v))
            walk_mismatch(w, n, v, parent);
        return;
    case ST_BOOL:
        if (!json_is_boolean(v))
            walk_mismatch(w, n, v, parent);
        return;
    case ST_NUMBER:
        if (!json_is_number(v))
            walk_mismatch(w, n, v, parent);
        return;
    case ST_INT:
        if (!json_is_integer(v)) {
            walk_mismatch(w, n, v, parent);
        } else if (n->format && strcmp(n->format, "int32") == 0) {
            json_int_t i = json_integer_value(v);
            if (i < INT32_MIN || i > INT32_MAX)
                walk_mismatch(w, n, v, parent);
        }
        return;
    case ST_TIME: {
        time_t t;
        if (!json_is_string(v)) {
            char *jt = json_type_name(v, false);
            walk_type_err(w, "json: cannot unmarshal %s into Go value of type string", jt);
            free(jt);
        } else if (time_parse_rfc3339(json_string_value(v), &t) != 0) {
            walk_type_err(w, "parsing time \"%s\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"%s\" as \"2006\"",
                          json_string_value(v), json_string_value(v));
        }
        return;
    }
    case ST_BYTES: {
        long at;
        if (!json_is_string(v))
            walk_mismatch(w, n, v, parent);
        else if ((at = base64_bad_at(json_string_value(v))) >= 0)
            walk_type_err(w, "illegal base64 data at input byte %ld", at);
        return;
    }
    case ST_OBJECT:
        if (!json_is_object(v))
            walk_mismatch(w, n, v, parent);
        else if (n->fields)
            walk_object(w, n, v);
        return;
    case ST_ARRAY: {
        size_t i;
        json_t *e;
        if (!json_is_array(v)) {
            walk_mismatch(w, n, v, parent);
            return;
        }
        json_array_foreach(v, i, e) {
            size_t p0 = w->path.len;
            if (json_is_null(e)) {
                json_array_set_new(v, i, zero_value(n->items));
                continue;
            }
            buf_printf(&w->path, "[%zu]", i);
            walk_value(w, n->items, e, parent);
            path_pop(w, p0, w->gopath.len);
            if (w->type_err)
                return;
        }
        return;
    }
    case ST_MAP: {
        const char *key;
        json_t *e;
        if (!json_is_object(v)) {
            walk_mismatch(w, n, v, parent);
            return;
        }
        json_object_foreach(v, key, e) {
            size_t p0 = w->path.len;
            if (json_is_null(e)) {
                json_object_set_new(v, key, zero_value(n->items));
                continue;
            }
            buf_putc(&w->path, '.');
            buf_puts(&w->path, key);
            walk_value(w, n->items, e, parent);
            path_pop(w, p0, w->gopath.len);
            if (w->type_err)
                return;
        }
        return;
    }
    }
}

static int fail(const schema_kind_t *k, apierr_t *err, const char *reason)
{
    return apierr_set(err, APIERR_BAD_REQUEST, "%s in version \"%s\" cannot be handled as a %s: %s",
                      k->kind, k->version, k->kind, reason);
}

static int fail_strict(const schema_kind_t *k, apierr_t *err, json_t *msgs)
{
    buf_t b;
    size_t i;
    json_t *m;
    int rc;
    buf_init(&b);
    buf_puts(&b, "strict decoding error: ");
    json_array_foreach(msgs, i, m) {
        if (i)
            buf_puts(&b, ", ");
        buf_puts(&b, json_string_value(m));
    }
    rc = fail(k, err, b.data);
    buf_free(&b);
    return rc;
}

/* Walks obj; report=false drops unknown fields without reporting them. */
static int check(const schema_kind_t *k, json_t *obj, field_validation_t fv, bool report,
                 void (*warn)(void *ctx, const char *msg), void *warn_ctx, apierr_t *err)
{
    walk_t w = {.fv = fv, .report = report, .warn = warn, .warn_ctx = warn_ctx};
    int rc = 0;

    buf_init(&w.path);
    buf_init(&w.gopath);
    w.strict = json_array();
    if (!json_is_object(obj)) {
        char *jt = json_type_name(obj, false);
        w.type_err = xasprintf("json: cannot unmarshal %s into Go value of type v1.%s", jt, k->kind);
        free(jt);
    } else {
        walk_object(&w, k->root, obj);
    }
    if (w.type_err)
        rc = fail(k, err, w.type_err);
    else if (json_array_size(w.strict) > 0)
        rc = fail_strict(k, err, w.strict);
    free(w.type_err);
    json_decref(w.strict);
    buf_free(&w.path);
    buf_free(&w.gopath);
    return rc;
}

int schema_check(const schema_kind_t *k, json_t *obj, field_validation_t fv,
                 void (*warn)(void *ctx, const char *msg), void *warn_ctx, apierr_t *err)
{
    return check(k, obj, fv, true, warn, warn_ctx, err);
}

json_t *schema_decode(const schema_kind_t *k, const char *body, size_t len, field_validation_t fv,
                      void (*warn)(void *ctx, const char *msg), void *warn_ctx, apierr_t *err)
{
    json_error_t je;
    json_t *obj, *msgs = NULL;
    bool dups = false;

    obj = json_loadb(body ? body : "", len,
                     JSON_DECODE_ANY | (fv == FV_IGNORE ? 0 : JSON_REJECT_DUPLICATES), &je);
    if (!obj && json_error_code(&je) == json_error_duplicate_key) {
        dups = true;
        obj = json_loadb(body, len, JSON_DECODE_ANY, &je);
    }
    if (!obj) {
        char *why = xasprintf("json parse error: %s (line %d, column %d)", je.text, je.line, je.column);
        fail(k, err, why);
        free(why);
        return NULL;
    }
    if (!dups || fv == FV_IGNORE || !json_is_object(obj)) {
        if (check(k, obj, fv, true, warn, warn_ctx, err) != 0)
            goto fail;
        return obj;
    }

    /* Duplicates: the text scan names them (and the unknown fields) in document order;
     * the walk then only checks types and drops unknown fields. */
    msgs = json_array();
    schema_scan_text(k->root, body, len, msgs);
    if (check(k, obj, fv == FV_STRICT ? FV_STRICT : FV_WARN, false, NULL, NULL, err) != 0)
        goto fail;
    if (fv == FV_STRICT && json_array_size(msgs) > 0) {
        fail_strict(k, err, msgs);
        goto fail;
    }
    if (fv == FV_WARN && warn) {
        size_t i;
        json_t *m;
        json_array_foreach(msgs, i, m)
            warn(warn_ctx, json_string_value(m));
    }
    json_decref(msgs);
    return obj;
fail:
    json_decref(msgs);
    json_decref(obj);
    return NULL;
}
