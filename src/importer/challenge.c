/* WWW-Authenticate parsing (RFC 7235 §2.1, §4.1):
 *   challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 *   auth-param = token BWS "=" BWS ( token / quoted-string )
 * Several challenges may share one header, separated by commas; a token that is not
 * followed by "=" after a comma starts the next challenge. */
#include "importer/importer.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static const char *skip_token(const char *p)
{
    while (is_tchar(*p))
        p++;
    return p;
}

/* token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
static const char *skip_token68(const char *p)
{
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
           (*p && strchr("-._~+/", *p)))
        p++;
    while (*p == '=')
        p++;
    return p;
}

/* Reads a quoted-string, or an unquoted value, at p; *end past it. NULL if malformed.
 * Unquoted values are read up to a comma or space rather than as strict tokens: some
 * registries send realm=https://host/token unquoted. */
static char *read_value(const char *p, const char **end)
{
    if (*p != '"') {
        const char *e = p;
        while ((unsigned char)*e > 0x20 && *e != ',' && *e != '"' && *e != 0x7f)
            e++;
        *end = e;
        return xstrndup(p, (size_t)(e - p));
    }
    buf_t b;
    buf_init(&b);
    for (p++; *p && *p != '"'; p++) {
        if (*p == '\\') {
            p++;
            if (!*p)
                break;
        }
        /* qdtext / quoted-pair: HTAB, SP, VCHAR, obs-text; control characters are refused */
        if ((unsigned char)*p < 0x20 && *p != '\t') {
            buf_free(&b);
            return NULL;
        }
        buf_putc(&b, *p);
    }
    if (*p != '"') {
        buf_free(&b);
        return NULL;
    }
    *end = p + 1;
    buf_putc(&b, 0);
    return buf_steal(&b);
}

static void set_param(reg_challenge_t *c, const char *name, size_t nlen, char *val)
{
    char **slot = NULL;
    if (nlen == 5 && !strncasecmp(name, "realm", 5))
        slot = &c->realm;
    else if (nlen == 7 && !strncasecmp(name, "service", 7))
        slot = &c->service;
    else if (nlen == 5 && !strncasecmp(name, "scope", 5))
        slot = &c->scope;
    if (slot && !**slot) { /* the first occurrence wins */
        free(*slot);
        *slot = val;
    } else {
        free(val);
    }
}

static void challenge_init(reg_challenge_t *c, const char *scheme, size_t n)
{
    c->scheme_name = xstrndup(scheme, n);
    c->scheme = !strcasecmp(c->scheme_name, "bearer")  ? REG_AUTH_BEARER
                : !strcasecmp(c->scheme_name, "basic") ? REG_AUTH_BASIC
                                                       : REG_AUTH_OTHER;
    c->realm = xstrdup("");
    c->service = xstrdup("");
    c->scope = xstrdup("");
}

static void challenge_free(reg_challenge_t *c)
{
    free(c->scheme_name);
    free(c->realm);
    free(c->service);
    free(c->scope);
}

/* Parses the parameters of one challenge from p; returns the position of the next
 * challenge's scheme (or the end), NULL if malformed. */
static const char *parse_params(const char *p, reg_challenge_t *c)
{
    p = skip_ws(p);
    /* token68 form ("Negotiate abc==") or no parameters at all: the run ends the challenge */
    const char *e68 = skip_ws(skip_token68(p));
    if (!*e68 || *e68 == ',')
        return e68;
    for (;;) {
        const char *name = p;
        const char *ne = skip_token(p);
        if (ne == name)
            return NULL;
        const char *eq = skip_ws(ne);
        if (*eq != '=')
            return name; /* the next challenge's scheme */
        const char *v = skip_ws(eq + 1);
        const char *ve;
        char *val = read_value(v, &ve);
        if (!val)
            return NULL;
        set_param(c, name, (size_t)(ne - name), val);
        p = skip_ws(ve);
        if (!*p)
            return p;
        if (*p != ',')
            return NULL;
        while (*p == ',' || *p == ' ' || *p == '\t') /* empty list elements are allowed */
            p++;
        if (!*p)
            return p;
    }
}

int reg_challenges_parse(const char *header, reg_challenge_t *out, size_t max)
{
    if (!header || strlen(header) > REG_MAX_CHALLENGE_HEADER)
        return -1;
    size_t n = 0;
    const char *p = header;
    for (;;) {
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        const char *s = p, *e = skip_token(p);
        if (e == s || (*e && *e != ' ' && *e != '\t' && *e != ','))
            goto bad;
        reg_challenge_t c;
        challenge_init(&c, s, (size_t)(e - s));
        const char *next = (*e == ',') ? e : parse_params(e, &c);
        if (!next) {
            challenge_free(&c);
            goto bad;
        }
        if (n < max)
            out[n++] = c;
        else
            challenge_free(&c);
        p = next;
    }
    return (int)n;
bad:
    reg_challenges_free(out, n);
    return -1;
}

void reg_challenges_free(reg_challenge_t *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        challenge_free(&c[i]);
}

const reg_challenge_t *reg_challenge_pick(const reg_challenge_t *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (c[i].scheme == REG_AUTH_BEARER && *c[i].realm)
            return &c[i];
    for (size_t i = 0; i < n; i++)
        if (c[i].scheme == REG_AUTH_BASIC)
            return &c[i];
    return NULL;
}
