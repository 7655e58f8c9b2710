/* YAML <-> JSON with libyaml. Scalars are typed like sigs.k8s.io/yaml (go-yaml v2
 * resolution): plain true/false/yes/no/on/off, null/~, integers, floats; quoted stay
 * strings. Aliases are refused (no expansion bombs). */
#include "api/patch.h"
#include "util/util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define YAML_MAX_DEPTH 200

/* ---- scalar resolution ---- */

static const char *const yaml_true[] = {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", NULL};
static const char *const yaml_false[] = {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", NULL};
static const char *const yaml_null[] = {"", "~", "null", "Null", "NULL", NULL};

static bool in_list(const char *s, const char *const *l)
{
    for (; *l; l++)
        if (!strcmp(s, *l))
            return true;
    return false;
}

/* Copies s without '_' digit separators. */
static char *strip_underscores(const char *s)
{
    char *o = xstrdup(s), *w = o;
    for (const char *c = s; *c; c++)
        if (*c != '_')
            *w++ = *c;
    *w = 0;
    return o;
}

static bool parse_int(const char *s, json_int_t *out)
{
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (!*p || !(isdigit((unsigned char)*p)))
        return false;
    char *t = strip_underscores(s);
    int base = 10;
    const char *q = t + ((*t == '+' || *t == '-') ? 1 : 0);
    char *digits = NULL;
    if (q[0] == '0' && (q[1] == 'x' || q[1] == 'X'))
        base = 16;
    else if (q[0] == '0' && (q[1] == 'b' || q[1] == 'B'))
        base = 2;
    else if (q[0] == '0' && q[1])
        base = 8;
    if (base == 2 || base == 16) {
        digits = xasprintf("%s%s", t[0] == '-' ? "-" : "", q + 2);
    } else {
        digits = xstrdup(t);
    }
    bool ok = false;
    if (*digits && strcmp(digits, "-") != 0) {
        errno = 0;
        char *end;
        long long v = strtoll(digits, &end, base);
        if (!*end && errno == 0) {
            *out = v;
            ok = true;
        }
    }
    free(digits);
    free(t);
    return ok;
}

static bool parse_float(const char *s, double *out)
{
    /* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    bool digits = false;
    while (isdigit((unsigned char)*p) || *p == '_')
        p++, digits = true;
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p) || *p == '_')
            p++, digits = true;
    }
    if (!digits)
        return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p)
        return false;
    char *t = strip_underscores(s);
    *out = strtod(t, NULL);
    free(t);
    return isfinite(*out);
}

static json_t *plain_scalar(const char *s)
{
    if (in_list(s, yaml_null))
        return json_null();
    if (in_list(s, yaml_true))
        return json_true();
    if (in_list(s, yaml_false))
        return json_false();
    json_int_t i;
    if (parse_int(s, &i))
        return json_integer(i);
    double d;
    if (parse_float(s, &d))
        return json_real(d);
    return json_string(s);
}

/* ---- parsing ---- */

typedef struct {
    yaml_parser_t p;
    apierr_t *err;
} yctx_t;

/* Line numbering as go-yaml reports it (what kube-apiserver's messages carry): parser
 * errors use the 0-based problem line, scanner errors the 1-based one, no line when 0. */
static int yerr(yctx_t *c)
{
    const char *problem = c->p.problem ? c->p.problem : "invalid document";
    size_t line = 0;
    if (c->p.problem_mark.line != 0)
        line = c->p.problem_mark.line + (c->p.error == YAML_SCANNER_ERROR ? 1 : 0);
    else if (c->p.context_mark.line != 0)
        line = c->p.context_mark.line;
    if (line)
        return apierr_set(c->err, APIERR_BAD_REQUEST, "error converting YAML to JSON: yaml: line %zu: %s", line,
                          problem);
    return apierr_set(c->err, APIERR_BAD_REQUEST, "error converting YAML to JSON: yaml: %s", problem);
}

static int next(yctx_t *c, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&c->p, ev))
        return yerr(c);
    return 0;
}

static json_t *node(yctx_t *c, yaml_event_t *ev, int depth);

static json_t *scalar(yaml_event_t *ev)
{
    const char *v = (const char *)ev->data.scalar.value;
    const char *tag = (const char *)ev->data.scalar.tag;
    if (tag && !strcmp(tag, YAML_STR_TAG))
        return json_stringn(v, ev->data.scalar.length);
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE && ev->data.scalar.style != YAML_ANY_SCALAR_STYLE)
        return json_stringn(v, ev->data.scalar.length);
    json_t *j = plain_scalar(v);
    return j ? j : json_null(); /* invalid UTF-8 cannot come from libyaml */
}

static json_t *sequence(yctx_t *c, int depth)
{
    json_t *arr = json_array();
    for (;;) {
        yaml_event_t ev;
        if (next(c, &ev) != 0)
            goto fail;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            return arr;
        }
        json_t *v = node(c, &ev, depth + 1);
        yaml_event_delete(&ev);
        if (!v)
            goto fail;
        json_array_append_new(arr, v);
    }
fail:
    json_decref(arr);
    return NULL;
}

static json_t *mapping(yctx_t *c, int depth)
{
    json_t *obj = json_object();
    for (;;) {
        yaml_event_t ev;
        if (next(c, &ev) != 0)
            goto fail;
        if (ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ev);
            return obj;
        }
        json_t *k = node(c, &ev, depth + 1);
        yaml_event_delete(&ev);
        if (!k)
            goto fail;
        char *key;
        if (json_is_string(k))
            key = xstrdup(json_string_value(k));
        else if (json_is_object(k) || json_is_array(k)) {
            json_decref(k);
            apierr_set(c->err, APIERR_BAD_REQUEST,
                       "error converting YAML to JSON: yaml: line %zu: invalid map key: a mapping or sequence",
                       c->p.mark.line + 1);
            goto fail;
        } else {
            key = json_dumps(k, JSON_ENCODE_ANY); /* 1: x -> "1" as sigs.k8s.io/yaml does */
        }
        json_decref(k);
        if (next(c, &ev) != 0) {
            free(key);
            goto fail;
        }
        json_t *v = node(c, &ev, depth + 1);
        yaml_event_delete(&ev);
        if (!v) {
            free(key);
            goto fail;
        }
        json_object_set_new(obj, key, v);
        free(key);
    }
fail:
    json_decref(obj);
    return NULL;
}

static json_t *node(yctx_t *c, yaml_event_t *ev, int depth)
{
    if (depth > YAML_MAX_DEPTH) {
        apierr_set(c->err, APIERR_BAD_REQUEST, "error converting YAML to JSON: yaml: exceeded max depth of %d",
                   YAML_MAX_DEPTH);
        return NULL;
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        return scalar(ev);
    case YAML_SEQUENCE_START_EVENT:
        return sequence(c, depth);
    case YAML_MAPPING_START_EVENT:
        return mapping(c, depth);
    case YAML_ALIAS_EVENT:
        apierr_set(c->err, APIERR_BAD_REQUEST,
                   "error converting YAML to JSON: yaml: line %zu: aliases are not supported",
                   ev->start_mark.line + 1);
        return NULL;
    default:
        apierr_set(c->err, APIERR_BAD_REQUEST, "error converting YAML to JSON: yaml: unexpected event");
        return NULL;
    }
}

json_t *yaml_to_json(const char *text, size_t len, apierr_t *err)
{
    yctx_t c = {.err = err};
    json_t *res = NULL;
    if (!yaml_parser_initialize(&c.p)) {
        apierr_set(err, APIERR_INTERNAL, "cannot initialize YAML parser");
        return NULL;
    }
    yaml_parser_set_input_string(&c.p, (const unsigned char *)text, len);
    yaml_event_t ev;
    bool in_doc = false;
    for (;;) {
        if (next(&c, &ev) != 0) {
            /* a syntax error after the root node (e.g. "a b\nc: d") fails the document */
            json_decref(res);
            res = NULL;
            goto out;
        }
        yaml_event_type_t t = ev.type;
        if (t == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (t == YAML_DOCUMENT_START_EVENT) {
            in_doc = true;
        } else if (t == YAML_DOCUMENT_END_EVENT) {
            yaml_event_delete(&ev);
            if (res)
                break; /* only the first document counts */
            continue;
        } else if (in_doc && t != YAML_STREAM_START_EVENT) {
            res = node(&c, &ev, 0);
            if (!res) {
                yaml_event_delete(&ev);
                goto out;
            }
        }
        yaml_event_delete(&ev);
    }
    if (!res)
        res = json_null();
out:
    yaml_parser_delete(&c.p);
    return res;
}

/* ---- emitting ---- */

static int write_cb(void *data, unsigned char *buffer, size_t size)
{
    buf_append(data, buffer, size);
    return 1;
}

/* Strings that a YAML reader would type as something else must be quoted. */
static bool needs_quotes(const char *s)
{
    json_t *j = plain_scalar(s);
    bool q = !json_is_string(j);
    json_decref(j);
    return q || !*s;
}

static int emit_scalar(yaml_emitter_t *e, const char *v, size_t len, yaml_scalar_style_t style)
{
    yaml_event_t ev;
    /* both implicit flags: never emit a "!" tag, whatever style libyaml settles on */
    yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)v, (int)len, 1, 1, style);
    return yaml_emitter_emit(e, &ev);
}

static int emit_string(yaml_emitter_t *e, const char *s, size_t len)
{
    yaml_scalar_style_t st = YAML_ANY_SCALAR_STYLE;
    if (memchr(s, '\n', len))
        st = YAML_LITERAL_SCALAR_STYLE;
    else if (needs_quotes(s))
        st = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    return emit_scalar(e, s, len, st);
}

static int emit_value(yaml_emitter_t *e, const json_t *v)
{
    yaml_event_t ev;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        int flow = json_object_size(v) == 0;
        yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE);
        if (!yaml_emitter_emit(e, &ev))
            return 0;
        const char *k;
        json_t *cv;
        json_object_foreach((json_t *)v, k, cv) {
            if (!emit_string(e, k, strlen(k)) || !emit_value(e, cv))
                return 0;
        }
        yaml_mapping_end_event_initialize(&ev);
        return yaml_emitter_emit(e, &ev);
    }
    case JSON_ARRAY: {
        int flow = json_array_size(v) == 0;
        yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE);
        if (!yaml_emitter_emit(e, &ev))
            return 0;
        size_t i;
        json_t *cv;
        json_array_foreach(v, i, cv)
            if (!emit_value(e, cv))
                return 0;
        yaml_sequence_end_event_initialize(&ev);
        return yaml_emitter_emit(e, &ev);
    }
    case JSON_STRING:
        return emit_string(e, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
    case JSON_REAL: {
        char *s = json_dumps(v, JSON_ENCODE_ANY);
        int rc = emit_scalar(e, s, strlen(s), YAML_PLAIN_SCALAR_STYLE);
        free(s);
        return rc;
    }
    case JSON_TRUE:
        return emit_scalar(e, "true", 4, YAML_PLAIN_SCALAR_STYLE);
    case JSON_FALSE:
        return emit_scalar(e, "false", 5, YAML_PLAIN_SCALAR_STYLE);
    case JSON_NULL:
    default:
        return emit_scalar(e, "null", 4, YAML_PLAIN_SCALAR_STYLE);
    }
}

char *json_to_yaml(const json_t *v)
{
    yaml_emitter_t e;
    yaml_event_t ev;
    buf_t b;
    buf_init(&b);
    if (!yaml_emitter_initialize(&e))
        return NULL;
    yaml_emitter_set_output(&e, write_cb, &b);
    yaml_emitter_set_unicode(&e, 1);
    yaml_emitter_set_width(&e, -1);
    int ok = 1;
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    ok = ok && yaml_emitter_emit(&e, &ev);
    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
    ok = ok && yaml_emitter_emit(&e, &ev);
    ok = ok && emit_value(&e, v ? v : json_null());
    yaml_document_end_event_initialize(&ev, 1);
    ok = ok && yaml_emitter_emit(&e, &ev);
    yaml_stream_end_event_initialize(&ev);
    ok = ok && yaml_emitter_emit(&e, &ev);
    ok = ok && yaml_emitter_flush(&e);
    yaml_emitter_delete(&e);
    if (!ok) {
        buf_free(&b);
        return NULL;
    }
    if (!b.data)
        buf_puts(&b, "");
    return buf_steal(&b);
}
