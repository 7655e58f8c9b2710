/* selector: label selectors parsed exactly like k8s.io/apimachinery/pkg/labels.Parse
 * (same lexer, same recursive-descent structure, same error texts) and field selectors
 * like fields.ParseSelector (backslash escapes, =, ==, !=). */
#include <stdlib.h>
#include <string.h>

#include "api/objectmeta.h"
#include "api/selector.h"
#include "util/util.h"

/* ---------------- label selectors ---------------- */

typedef enum { OP_IN, OP_NOTIN, OP_EQ, OP_DEQ, OP_NEQ, OP_GT, OP_LT, OP_EXISTS, OP_NOT_EXISTS, OP_NONE } lop_t;

typedef struct {
    char *key;
    lop_t op;
    char **vals; /* sorted, distinct */
    size_t nvals;
} lreq_t;

struct label_selector {
    lreq_t *reqs;
    size_t n;
};

typedef enum {
    T_END, T_ID, T_IN, T_NOTIN, T_EQ, T_DEQ, T_NEQ, T_NOT, T_GT, T_LT, T_OPEN, T_CLOSE, T_COMMA
} tok_t;

typedef struct {
    tok_t t;
    char *lit;
} item_t;

typedef struct {
    item_t *items;
    size_t n, pos;
    buf_t err; /* first error, Kubernetes wording */
} parser_t;

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static bool is_special(char c)
{
    return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}

static void push_item(parser_t *p, tok_t t, const char *s, size_t n)
{
    p->items = xrealloc(p->items, (p->n + 1) * sizeof *p->items);
    p->items[p->n].t = t;
    p->items[p->n].lit = xstrndup(s, n);
    p->n++;
}

/* The lexer: identifiers run to whitespace or a special symbol; specials are matched
 * greedily against the token table ("==" and "!=" are the only two-byte ones). */
static void lex(parser_t *p, const char *s)
{
    size_t i = 0;
    for (;;) {
        while (is_ws(s[i]))
            i++;
        if (!s[i]) {
            push_item(p, T_END, "", 0);
            return;
        }
        if (is_special(s[i])) {
            char c = s[i], d = s[i + 1];
            if ((c == '=' || c == '!') && d == '=') {
                push_item(p, c == '=' ? T_DEQ : T_NEQ, s + i, 2);
                i += 2;
                continue;
            }
            tok_t t = c == '=' ? T_EQ : c == '!' ? T_NOT : c == '(' ? T_OPEN : c == ')' ? T_CLOSE
                    : c == ',' ? T_COMMA : c == '>' ? T_GT : T_LT;
            push_item(p, t, s + i, 1);
            i++;
            continue;
        }
        size_t start = i;
        while (s[i] && !is_ws(s[i]) && !is_special(s[i]))
            i++;
        size_t n = i - start;
        tok_t t = T_ID;
        if (n == 2 && strncmp(s + start, "in", 2) == 0)
            t = T_IN;
        else if (n == 5 && strncmp(s + start, "notin", 5) == 0)
            t = T_NOTIN;
        push_item(p, t, s + start, n);
    }
}

/* In the "values" context the keywords in/notin are plain identifiers. */
static tok_t look(parser_t *p, bool values, const char **lit)
{
    item_t *it = &p->items[p->pos < p->n ? p->pos : p->n - 1];
    if (lit)
        *lit = it->lit;
    if (values && (it->t == T_IN || it->t == T_NOTIN))
        return T_ID;
    return it->t;
}

static tok_t consume(parser_t *p, bool values, const char **lit)
{
    tok_t t = look(p, values, lit);
    if (p->pos < p->n - 1)
        p->pos++;
    return t;
}

static int fail(parser_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(parser_t *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&p->err, fmt, ap);
    va_end(ap);
    return -1;
}

static void append_msgs(buf_t *b, char **msgs, int n)
{
    for (int i = 0; i < n; i++) {
        if (i)
            buf_puts(b, "; ");
        buf_puts(b, msgs[i]);
    }
    validation_msgs_free(msgs, n);
}

/* A key error is reported against a nil field path, hence Kubernetes' "<nil>:". */
static int validate_key(parser_t *p, const char *key)
{
    char *msgs[VALIDATION_MAX_MSGS];
    int n = validation_is_qualified_name(key, msgs);
    if (!n)
        return 0;
    buf_puts(&p->err, "<nil>: Invalid value: ");
    validation_quote(&p->err, key);
    buf_puts(&p->err, ": ");
    append_msgs(&p->err, msgs, n);
    return -1;
}

typedef struct {
    char **v;
    size_t n;
} strset_t;

static void set_add(strset_t *s, const char *v)
{
    size_t pos = 0;
    while (pos < s->n && strcmp(s->v[pos], v) < 0)
        pos++;
    if (pos < s->n && strcmp(s->v[pos], v) == 0)
        return;
    s->v = xrealloc(s->v, (s->n + 1) * sizeof *s->v);
    memmove(s->v + pos + 1, s->v + pos, (s->n - pos) * sizeof *s->v);
    s->v[pos] = xstrdup(v);
    s->n++;
}

static void set_free(strset_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

static int parse_identifiers(parser_t *p, strset_t *s)
{
    for (;;) {
        const char *lit;
        tok_t t = consume(p, true, &lit);
        if (t == T_ID) {
            set_add(s, lit);
            const char *lit2;
            tok_t t2 = look(p, true, &lit2);
            if (t2 == T_COMMA)
                continue;
            if (t2 == T_CLOSE)
                return 0;
            return fail(p, "found '%s', expected: ',' or ')'", lit2);
        } else if (t == T_COMMA) {
            if (s->n == 0)
                set_add(s, ""); /* "(," */
            tok_t t2 = look(p, true, NULL);
            if (t2 == T_CLOSE) {
                set_add(s, ""); /* ",)" */
                return 0;
            }
            if (t2 == T_COMMA)
                set_add(s, ""); /* ",," */
        } else {
            return fail(p, "found '%s', expected: ',', or identifier", lit);
        }
    }
}

static int parse_values(parser_t *p, strset_t *s)
{
    const char *lit;
    if (consume(p, true, &lit) != T_OPEN)
        return fail(p, "found '%s' expected: '('", lit);
    tok_t t = look(p, true, &lit);
    if (t == T_ID || t == T_COMMA) {
        if (parse_identifiers(p, s) != 0)
            return -1;
        /* Kubernetes reports the literal seen before the list here */
        if (consume(p, true, NULL) != T_CLOSE)
            return fail(p, "found '%s', expected: ')'", lit);
        return 0;
    }
    if (t == T_CLOSE) {
        consume(p, true, NULL);
        set_add(s, ""); /* "()" */
        return 0;
    }
    return fail(p, "found '%s', expected: ',', ')' or identifier", lit);
}

static int parse_exact_value(parser_t *p, strset_t *s)
{
    tok_t t = look(p, true, NULL);
    if (t == T_END || t == T_COMMA) {
        set_add(s, "");
        return 0;
    }
    const char *lit;
    if (consume(p, true, &lit) == T_ID) {
        set_add(s, lit);
        return 0;
    }
    return fail(p, "found '%s', expected: identifier", lit);
}

/* NewRequirement's value checks, aggregated like utilerrors (deduplicated, "[a, b]"). */
static int check_requirement(parser_t *p, const lreq_t *r)
{
    char **errs = xcalloc(2 * r->nvals + 1, sizeof *errs);
    size_t ne = 0;
    buf_t b;
    buf_init(&b);
    for (size_t i = 0; i < r->nvals && (r->op == OP_GT || r->op == OP_LT); i++) {
        int64_t dummy;
        if (validation_parse_int64(r->vals[i], &dummy))
            continue;
        buf_printf(&b, "values[%zu]: Invalid value: ", i);
        validation_quote(&b, r->vals[i]);
        buf_puts(&b, ": for 'Gt', 'Lt' operators, the value must be an integer");
        errs[ne++] = buf_steal(&b);
    }
    for (size_t i = 0; i < r->nvals; i++) {
        char *msgs[VALIDATION_MAX_MSGS];
        int n = validation_is_label_value(r->vals[i], msgs);
        if (!n)
            continue;
        buf_printf(&b, "values[%zu][%s]: Invalid value: ", i, r->key);
        validation_quote(&b, r->vals[i]);
        buf_puts(&b, ": ");
        append_msgs(&b, msgs, n);
        errs[ne++] = buf_steal(&b);
    }
    if (ne > 1)
        buf_putc(&p->err, '[');
    size_t shown = 0;
    for (size_t i = 0; i < ne; i++) {
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            dup = strcmp(errs[i], errs[j]) == 0;
        if (!dup)
            buf_printf(&p->err, "%s%s", shown++ ? ", " : "", errs[i]);
    }
    if (ne > 1)
        buf_putc(&p->err, ']');
    for (size_t i = 0; i < ne; i++)
        free(errs[i]);
    free(errs);
    return ne ? -1 : 0;
}

static int parse_requirement(parser_t *p, lreq_t *r)
{
    const char *lit;
    lop_t op = OP_NONE;
    tok_t t = consume(p, true, &lit);
    if (t == T_NOT) {
        op = OP_NOT_EXISTS;
        t = consume(p, true, &lit);
    }
    if (t != T_ID)
        return fail(p, "found '%s', expected: identifier", lit);
    if (validate_key(p, lit) != 0)
        return -1;
    r->key = xstrdup(lit);
    tok_t nt = look(p, true, NULL);
    if ((nt == T_END || nt == T_COMMA) && op != OP_NOT_EXISTS)
        op = OP_EXISTS;
    if (op == OP_EXISTS || op == OP_NOT_EXISTS) {
        r->op = op;
        return 0;
    }
    switch (consume(p, false, &lit)) {
    case T_IN: op = OP_IN; break;
    case T_NOTIN: op = OP_NOTIN; break;
    case T_EQ: op = OP_EQ; break;
    case T_DEQ: op = OP_DEQ; break;
    case T_NEQ: op = OP_NEQ; break;
    case T_GT: op = OP_GT; break;
    case T_LT: op = OP_LT; break;
    default: return fail(p, "found '%s', expected: in, notin, =, ==, !=, gt, lt", lit);
    }
    r->op = op;
    strset_t s = {NULL, 0};
    int rc = (op == OP_IN || op == OP_NOTIN) ? parse_values(p, &s) : parse_exact_value(p, &s);
    r->vals = s.v;
    r->nvals = s.n;
    if (rc != 0)
        return -1;
    return check_requirement(p, r);
}

static void lreq_free(lreq_t *r)
{
    strset_t s = {r->vals, r->nvals};
    set_free(&s);
    free(r->key);
}

static int parse_all(parser_t *p, label_selector_t *sel)
{
    for (;;) {
        const char *lit;
        tok_t t = look(p, true, &lit);
        if (t == T_END)
            return 0;
        if (t != T_ID && t != T_NOT)
            return fail(p, "found '%s', expected: !, identifier, or 'end of string'", lit);
        lreq_t r = {NULL, OP_NONE, NULL, 0};
        if (parse_requirement(p, &r) != 0) {
            lreq_free(&r);
            buf_t tmp;
            buf_init(&tmp);
            buf_printf(&tmp, "unable to parse requirement: %s", p->err.data);
            buf_free(&p->err);
            p->err = tmp;
            return -1;
        }
        sel->reqs = xrealloc(sel->reqs, (sel->n + 1) * sizeof *sel->reqs);
        sel->reqs[sel->n++] = r;
        t = consume(p, true, &lit);
        if (t == T_END)
            return 0;
        if (t != T_COMMA)
            return fail(p, "found '%s', expected: ',' or 'end of string'", lit);
        tok_t t2 = look(p, true, &lit);
        if (t2 != T_ID && t2 != T_NOT)
            return fail(p, "found '%s', expected: identifier after ','", lit);
    }
}

label_selector_t *label_selector_parse(const char *s, apierr_t *err)
{
    label_selector_t *sel = xcalloc(1, sizeof *sel);
    if (!s || !*s)
        return sel;
    parser_t p = {NULL, 0, 0, {NULL, 0, 0}};
    buf_init(&p.err);
    lex(&p, s);
    if (parse_all(&p, sel) != 0) {
        apierr_set(err, APIERR_BAD_REQUEST, "%s", p.err.data);
        label_selector_free(sel);
        sel = NULL;
    }
    for (size_t i = 0; i < p.n; i++)
        free(p.items[i].lit);
    free(p.items);
    buf_free(&p.err);
    return sel;
}

void label_selector_free(label_selector_t *sel)
{
    if (!sel)
        return;
    for (size_t i = 0; i < sel->n; i++)
        lreq_free(&sel->reqs[i]);
    free(sel->reqs);
    free(sel);
}

bool label_selector_empty(const label_selector_t *sel) { return !sel || sel->n == 0; }

static bool has_value(const lreq_t *r, const char *v)
{
    for (size_t i = 0; i < r->nvals; i++)
        if (strcmp(r->vals[i], v) == 0)
            return true;
    return false;
}

static bool req_match(const lreq_t *r, const json_t *labels)
{
    json_t *jv = json_object_get(labels, r->key);
    const char *v = json_string_value(jv);
    switch (r->op) {
    case OP_IN:
    case OP_EQ:
    case OP_DEQ:
        return v && has_value(r, v);
    case OP_NOTIN:
    case OP_NEQ:
        return !v || !has_value(r, v);
    case OP_EXISTS:
        return jv != NULL;
    case OP_NOT_EXISTS:
        return jv == NULL;
    case OP_GT:
    case OP_LT: {
        int64_t have, want;
        if (!v || r->nvals != 1 || !validation_parse_int64(v, &have) || !validation_parse_int64(r->vals[0], &want))
            return false;
        return r->op == OP_GT ? have > want : have < want;
    }
    case OP_NONE:
        break;
    }
    return false;
}

bool label_selector_match(const label_selector_t *sel, const json_t *labels)
{
    if (!sel)
        return true;
    if (!json_is_object(labels))
        labels = NULL;
    for (size_t i = 0; i < sel->n; i++)
        if (!req_match(&sel->reqs[i], labels))
            return false;
    return true;
}

/* ---------------- field selectors ---------------- */

typedef struct {
    char *field;
    char *value;
    bool neq;
} fterm_t;

struct field_selector {
    fterm_t *terms;
    size_t n;
};

/* Splits on commas not escaped by a backslash; the backslashes stay in the terms. */
static char **split_terms(const char *s, size_t *n)
{
    char **out = NULL;
    size_t k = 0, start = 0;
    bool slash = false;
    for (size_t i = 0;; i++) {
        if (s[i] && slash) {
            slash = false;
            continue;
        }
        if (s[i] == '\\') {
            slash = true;
            continue;
        }
        if (s[i] == ',' || !s[i]) {
            out = xrealloc(out, (k + 1) * sizeof *out);
            out[k++] = xstrndup(s + start, i - start);
            start = i + 1;
        }
        if (!s[i])
            break;
    }
    *n = k;
    return out;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static size_t utf8_len(unsigned char c)
{
    return c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 1;
}

/* fields.UnescapeValue: \\ \, \= are the only escapes; bare ',' and '=' are errors. */
static char *unescape_value(const char *s, buf_t *err)
{
    buf_t v;
    buf_init(&v);
    buf_puts(&v, "");
    for (size_t i = 0; s[i]; i++) {
        if (s[i] == '\\') {
            char c = s[i + 1];
            if (c == '\\' || c == ',' || c == '=') {
                buf_putc(&v, c);
                i++;
                continue;
            }
            buf_puts(err, "invalid field selector: invalid escape sequence: \\");
            if (c) {
                size_t n = utf8_len((unsigned char)c);
                buf_append(err, s + i + 1, strnlen(s + i + 1, n));
            }
            buf_free(&v);
            return NULL;
        }
        if (s[i] == ',' || s[i] == '=') {
            buf_printf(err, "invalid field selector: unescaped character in value: %d", s[i]);
            buf_free(&v);
            return NULL;
        }
        buf_putc(&v, s[i]);
    }
    return buf_steal(&v);
}

static const char *const default_fields[] = {"metadata.name", "metadata.namespace", NULL};

static int parse_field_terms(field_selector_t *sel, const char *s, char **parts, size_t np, buf_t *err)
{
    for (size_t i = 0; i < np; i++) {
        const char *part = parts[i];
        if (!*part)
            continue;
        size_t at = 0, oplen = 0;
        bool neq = false;
        for (; part[at]; at++) {
            if (strncmp(part + at, "!=", 2) == 0 || strncmp(part + at, "==", 2) == 0) {
                neq = part[at] == '!';
                oplen = 2;
                break;
            }
            if (part[at] == '=') {
                oplen = 1;
                break;
            }
        }
        if (!oplen) {
            buf_printf(err, "invalid selector: '%s'; can't understand '%s'", s, part);
            return -1;
        }
        char *value = unescape_value(part + at + oplen, err);
        if (!value)
            return -1;
        sel->terms = xrealloc(sel->terms, (sel->n + 1) * sizeof *sel->terms);
        sel->terms[sel->n].field = xstrndup(part, at);
        sel->terms[sel->n].value = value;
        sel->terms[sel->n].neq = neq;
        sel->n++;
    }
    return 0;
}

field_selector_t *field_selector_parse(const char *s, const char *const *allowed, apierr_t *err)
{
    field_selector_t *sel = xcalloc(1, sizeof *sel);
    if (!s || !*s)
        return sel;
    if (!allowed)
        allowed = default_fields;
    size_t np = 0;
    char **parts = split_terms(s, &np);
    /* sorted like Kubernetes, so the same error wins for the same input */
    qsort(parts, np, sizeof *parts, cmp_str);
    buf_t e;
    buf_init(&e);
    int rc = parse_field_terms(sel, s, parts, np, &e);
    for (size_t i = 0; rc == 0 && i < sel->n; i++) {
        const char *const *a = allowed;
        while (*a && strcmp(*a, sel->terms[i].field) != 0)
            a++;
        if (!*a) {
            buf_printf(&e, "field label not supported: %s", sel->terms[i].field);
            rc = -1;
        }
    }
    if (rc != 0) {
        apierr_set(err, APIERR_BAD_REQUEST, "%s", e.data);
        field_selector_free(sel);
        sel = NULL;
    }
    buf_free(&e);
    for (size_t i = 0; i < np; i++)
        free(parts[i]);
    free(parts);
    return sel;
}

void field_selector_free(field_selector_t *sel)
{
    if (!sel)
        return;
    for (size_t i = 0; i < sel->n; i++) {
        free(sel->terms[i].field);
        free(sel->terms[i].value);
    }
    free(sel->terms);
    free(sel);
}

bool field_selector_empty(const field_selector_t *sel) { return !sel || sel->n == 0; }

bool field_selector_match(const field_selector_t *sel, const char *(*get)(void *arg, const char *field), void *arg)
{
    if (!sel)
        return true;
    for (size_t i = 0; i < sel->n; i++) {
        const char *v = get(arg, sel->terms[i].field);
        bool eq = strcmp(v ? v : "", sel->terms[i].value) == 0;
        if (eq == sel->terms[i].neq)
            return false;
    }
    return true;
}

const char *field_selector_name(const field_selector_t *sel)
{
    for (size_t i = 0; sel && i < sel->n; i++)
        if (!sel->terms[i].neq && strcmp(sel->terms[i].field, "metadata.name") == 0)
            return sel->terms[i].value;
    return NULL;
}
