/* Duplicate and unknown fields in document order, from the JSON text itself. jansson keeps
 * only the last of duplicate keys, so when it reports one (JSON_REJECT_DUPLICATES) we scan
 * the (already validated) text once more, following the schema, to name every duplicate
 * with its full path the way Kubernetes' strict decoder does. Only runs on that rare path. */
#include <string.h>

#include "schema/schema_internal.h"

typedef struct scan {
    const char *p, *end;
    json_t *out;
    buf_t path;
} scan_t;

static void scan_ws(scan_t *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

/* s->p at the opening quote; leaves s->p after the closing quote. */
static void scan_skip_string(scan_t *s)
{
    s->p++;
    while (s->p < s->end && *s->p != '"')
        s->p += (*s->p == '\\') ? 2 : 1;
    if (s->p < s->end)
        s->p++;
}

static void scan_skip_value(scan_t *s)
{
    int depth = 0;
    scan_ws(s);
    do {
        if (s->p >= s->end)
            return;
        char c = *s->p;
        if (c == '"') {
            scan_skip_string(s);
        } else if (c == '{' || c == '[') {
            depth++;
            s->p++;
        } else if (c == '}' || c == ']') {
            depth--;
            s->p++;
        } else if (depth > 0) {
            s->p++;   /* ':' ',' whitespace and scalars inside a container */
        } else {
            while (s->p < s->end && !strchr(",}] \t\r\n", *s->p))
                s->p++;
        }
    } while (depth > 0);
}

/* Reads the string token at s->p; returns it decoded (caller frees). */
static char *scan_key(scan_t *s)
{
    const char *start = s->p;
    bool escaped = false;
    scan_skip_string(s);
    for (const char *q = start; q < s->p; q++)
        if (*q == '\\')
            escaped = true;
    if (!escaped)
        return xstrndup(start + 1, (size_t)(s->p - start) - 2);
    json_t *v = json_loadb(start, (size_t)(s->p - start), JSON_DECODE_ANY, NULL);
    char *key = xstrdup(json_is_string(v) ? json_string_value(v) : "");
    json_decref(v);
    return key;
}

static void scan_msg(scan_t *s, const char *what)
{
    char *m = xasprintf("%s field \"%s\"", what, s->path.data ? s->path.data : "");
    json_array_append_new(s->out, json_string(m));
    free(m);
}

static void scan_value(scan_t *s, const schema_node_t *n);

static void scan_object(scan_t *s, const schema_node_t *n)
{
    json_t *seen = json_object();
    size_t base = s->path.len;

    s->p++;   /* '{' */
    for (;;) {
        scan_ws(s);
        if (s->p >= s->end || *s->p == '}')
            break;
        char *key = scan_key(s);
        scan_ws(s);
        if (s->p < s->end && *s->p == ':')
            s->p++;
        if (base)
            buf_putc(&s->path, '.');
        buf_puts(&s->path, key);

        bool dup = json_object_get(seen, key) != NULL;
        const schema_node_t *child = NULL;
        if (n->type == ST_MAP) {
            child = n->items;
            if (dup)
                scan_msg(s, "duplicate");
        } else {
            child = schema_field(n, key);
            if (!child && !dup)
                scan_msg(s, "unknown");
            else if (child && dup)
                scan_msg(s, "duplicate");
        }
        json_object_set_new(seen, key, json_true());
        if (child)
            scan_value(s, child);
        else
            scan_skip_value(s);

        free(key);
        s->path.len = base;
        if (s->path.data)
            s->path.data[base] = '\0';
        scan_ws(s);
        if (s->p < s->end && *s->p == ',')
            s->p++;
    }
    if (s->p < s->end)
        s->p++;   /* '}' */
    json_decref(seen);
}

static void scan_array(scan_t *s, const schema_node_t *n)
{
    size_t base = s->path.len;
    s->p++;   /* '[' */
    for (size_t i = 0;; i++) {
        scan_ws(s);
        if (s->p >= s->end || *s->p == ']')
            break;
        buf_printf(&s->path, "[%zu]", i);
        scan_value(s, n->items);
        s->path.len = base;
        s->path.data[base] = '\0';
        scan_ws(s);
        if (s->p < s->end && *s->p == ',')
            s->p++;
    }
    if (s->p < s->end)
        s->p++;   /* ']' */
}

static void scan_value(scan_t *s, const schema_node_t *n)
{
    scan_ws(s);
    if (s->p >= s->end)
        return;
    if (n && *s->p == '{' && (n->type == ST_OBJECT || n->type == ST_MAP) && (n->fields || n->items))
        scan_object(s, n);
    else if (n && *s->p == '[' && n->type == ST_ARRAY && n->items)
        scan_array(s, n);
    else
        scan_skip_value(s);   /* scalars, ST_ANY, and type mismatches (reported by the walk) */
}

void schema_scan_text(const schema_node_t *root, const char *text, size_t len, json_t *out)
{
    scan_t s = {.p = text, .end = text + len, .out = out};
    buf_init(&s.path);
    scan_value(&s, root);
    buf_free(&s.path);
}
