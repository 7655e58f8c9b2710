/* RFC 6902 JSON patch over jansson values, with error wording modelled on
 * evanphx/json-patch (what kube-apiserver returns as 422). */
#include "api/patch.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

/* Pointer split into unescaped tokens. */
typedef struct {
    char **tok;
    size_t n;
} jptr_t;

static void jptr_free(jptr_t *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->tok[i]);
    free(p->tok);
    p->tok = NULL;
    p->n = 0;
}

/* RFC 6901: "" is the whole document, otherwise "/a/b~1c". Returns -1 on a bad pointer. */
static int jptr_parse(const char *s, jptr_t *p)
{
    p->tok = NULL;
    p->n = 0;
    if (!*s)
        return 0;
    if (*s != '/')
        return -1;
    size_t cap = 0;
    const char *c = s + 1;
    for (;;) {
        const char *end = strchr(c, '/');
        size_t len = end ? (size_t)(end - c) : strlen(c);
        char *t = xmalloc(len + 1), *o = t;
        for (size_t i = 0; i < len; i++) {
            if (c[i] == '~') {
                if (i + 1 < len && c[i + 1] == '0')
                    *o++ = '~';
                else if (i + 1 < len && c[i + 1] == '1')
                    *o++ = '/';
                else {
                    free(t);
                    jptr_free(p);
                    return -1;
                }
                i++;
            } else {
                *o++ = c[i];
            }
        }
        *o = 0;
        if (p->n == cap) {
            cap = cap ? cap * 2 : 8;
            p->tok = xrealloc(p->tok, cap * sizeof(char *));
        }
        p->tok[p->n++] = t;
        if (!end)
            break;
        c = end + 1;
    }
    return 0;
}

/* Array index token: digits without leading zeros. -1 if not an index. */
static long parse_index(const char *t)
{
    if (!*t || (t[0] == '0' && t[1]) || strlen(t) > 9)
        return -1;
    for (const char *c = t; *c; c++)
        if (*c < '0' || *c > '9')
            return -1;
    return strtol(t, NULL, 10);
}

static json_t *child(json_t *v, const char *tok)
{
    if (json_is_object(v))
        return json_object_get(v, tok);
    if (json_is_array(v)) {
        long i = parse_index(tok);
        return i < 0 ? NULL : json_array_get(v, (size_t)i);
    }
    return NULL;
}

/* Container holding the last token (NULL when a parent is missing). */
static json_t *find_parent(json_t *doc, const jptr_t *p)
{
    json_t *v = doc;
    for (size_t i = 0; v && i + 1 < p->n; i++)
        v = child(v, p->tok[i]);
    return (json_is_object(v) || json_is_array(v)) ? v : NULL;
}

static json_t *get_at(json_t *doc, const jptr_t *p)
{
    if (p->n == 0)
        return doc;
    json_t *con = find_parent(doc, p);
    return con ? child(con, p->tok[p->n - 1]) : NULL;
}

typedef struct {
    json_t *doc;
    apierr_t *err;
    const char *path;  /* as written in the op, for messages */
} jctx_t;

static int fail(jctx_t *c, const char *fmt, const char *arg)
{
    char *m = xasprintf(fmt, arg);
    apierr_set(c->err, APIERR_INVALID, "%s", m);
    free(m);
    return -1;
}

/* Adds value (stolen) at p. */
static int do_add(jctx_t *c, const jptr_t *p, json_t *value, const char *op)
{
    if (p->n == 0) {
        json_decref(c->doc);
        c->doc = value;
        return 0;
    }
    json_t *con = find_parent(c->doc, p);
    const char *key = p->tok[p->n - 1];
    if (!con) {
        json_decref(value);
        return apierr_set(c->err, APIERR_INVALID, "%s operation does not apply: doc is missing path: \"%s\"",
                          op, c->path);
    }
    if (json_is_object(con)) {
        json_object_set_new(con, key, value);
        return 0;
    }
    long idx = strcmp(key, "-") == 0 ? (long)json_array_size(con) : parse_index(key);
    if (idx < 0 || (size_t)idx > json_array_size(con)) {
        json_decref(value);
        return apierr_set(c->err, APIERR_INVALID, "Unable to access invalid index: %s: invalid index referenced", key);
    }
    json_array_insert_new(con, (size_t)idx, value);
    return 0;
}

/* Removes the value at p; returns it (new reference) or NULL if missing. */
static json_t *take(jctx_t *c, const jptr_t *p)
{
    if (p->n == 0)
        return NULL;
    json_t *con = find_parent(c->doc, p);
    const char *key = p->tok[p->n - 1];
    json_t *v = con ? child(con, key) : NULL;
    if (!v)
        return NULL;
    json_incref(v);
    if (json_is_object(con))
        json_object_del(con, key);
    else
        json_array_remove(con, (size_t)parse_index(key));
    return v;
}

static int apply_op(jctx_t *c, json_t *op)
{
    const char *kind = json_string_value(json_object_get(op, "op"));
    const char *path = json_string_value(json_object_get(op, "path"));
    const char *from = json_string_value(json_object_get(op, "from"));
    json_t *value = json_object_get(op, "value");
    jptr_t p = {0}, f = {0};
    int rc = -1;
    if (!kind)
        kind = "unknown";
    bool known = !strcmp(kind, "add") || !strcmp(kind, "remove") || !strcmp(kind, "replace") ||
                 !strcmp(kind, "move") || !strcmp(kind, "copy") || !strcmp(kind, "test");
    if (!known)
        return fail(c, "Unexpected kind: %s", kind);
    c->path = path ? path : "";
    if (!path || jptr_parse(path, &p) != 0) {
        return apierr_set(c->err, APIERR_INVALID, "%s operation failed to decode path", kind);
    }
    if (!value)
        value = json_null();
    if (!strcmp(kind, "add")) {
        rc = do_add(c, &p, json_deep_copy(value), "add");
    } else if (!strcmp(kind, "remove")) {
        json_t *v = take(c, &p);
        if (!v) {
            fail(c, "remove operation does not apply: doc is missing path: \"%s\"", path);
            goto out;
        }
        json_decref(v);
        rc = 0;
    } else if (!strcmp(kind, "replace")) {
        if (p.n == 0) {
            json_decref(c->doc);
            c->doc = json_deep_copy(value);
            rc = 0;
            goto out;
        }
        json_t *con = find_parent(c->doc, &p);
        if (!con) {
            fail(c, "replace operation does not apply: doc is missing path: %s", path);
            goto out;
        }
        if (!child(con, p.tok[p.n - 1])) {
            fail(c, "replace operation does not apply: doc is missing key: %s", path);
            goto out;
        }
        if (json_is_object(con))
            json_object_set_new(con, p.tok[p.n - 1], json_deep_copy(value));
        else
            json_array_set_new(con, (size_t)parse_index(p.tok[p.n - 1]), json_deep_copy(value));
        rc = 0;
    } else if (!strcmp(kind, "move") || !strcmp(kind, "copy")) {
        if (!from || jptr_parse(from, &f) != 0) {
            apierr_set(c->err, APIERR_INVALID, "%s operation failed to decode from", kind);
            goto out;
        }
        bool move = !strcmp(kind, "move");
        if (move && str_has_prefix(path, from) && path[strlen(from)] == '/') {
            fail(c, "move operation does not apply: cannot move %s into its own child", from);
            goto out;
        }
        json_t *v = move ? take(c, &f) : json_deep_copy(get_at(c->doc, &f));
        if (!v) {
            apierr_set(c->err, APIERR_INVALID, "%s operation does not apply: doc is missing from path: %s", kind,
                       from);
            goto out;
        }
        rc = do_add(c, &p, v, kind);
    } else { /* test */
        json_t *con = p.n ? find_parent(c->doc, &p) : NULL;
        if (p.n && !con) {
            fail(c, "test operation does not apply: is missing path: %s", path);
            goto out;
        }
        json_t *cur = p.n ? child(con, p.tok[p.n - 1]) : c->doc;
        if ((!cur && json_is_null(value)) || (cur && json_equal(cur, value)))
            rc = 0;
        else
            fail(c, "testing value %s failed: test failed", path);
    }
out:
    jptr_free(&p);
    jptr_free(&f);
    return rc;
}

json_t *patch_json(const json_t *target, const json_t *ops, apierr_t *err)
{
    if (!json_is_array(ops)) {
        apierr_set(err, APIERR_BAD_REQUEST,
                   "json: cannot unmarshal %s into Go value of type jsonpatch.Patch",
                   json_is_object(ops) ? "object" : "value");
        return NULL;
    }
    size_t i;
    json_t *op;
    json_array_foreach(ops, i, op) {
        if (!json_is_object(op)) {
            apierr_set(err, APIERR_BAD_REQUEST,
                       "json: cannot unmarshal value into Go value of type jsonpatch.Operation");
            return NULL;
        }
    }
    jctx_t c = {.doc = target ? json_deep_copy(target) : json_null(), .err = err};
    json_array_foreach(ops, i, op) {
        if (apply_op(&c, op) != 0) {
            json_decref(c.doc);
            return NULL;
        }
    }
    return c.doc;
}
