/* Docker image references: the docker/distribution "old" grammar as vendored by
 * library-go (image/reference), hand-written instead of a regexp engine so that the
 * exact error precedence of the reference is kept:
 *   empty -> "repository name must have at least one component"
 *   no match, but lower-cased input matches -> "repository name must be lowercase"
 *   no match -> "invalid reference format"
 *   name > 255 -> "repository name must not be more than 255 characters"
 *   digest checks -> "unsupported digest algorithm" / "invalid checksum digest length". */
#include "image/image.h"
#include "util/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define NAME_TOTAL_MAX 255

static bool is_lalnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
static bool is_alnum(char c) { return isascii((unsigned char)c) && isalnum((unsigned char)c); }
static bool is_word(char c) { return is_alnum(c) || c == '_'; }

/* path component: [a-z0-9]+ ( (?:[._]|__|[-]*) [a-z0-9]+ )* */
static bool path_component_ok(const char *s, size_t n)
{
    if (n == 0 || !is_lalnum(s[0]) || !is_lalnum(s[n - 1]))
        return false;
    size_t i = 0;
    while (i < n) {
        if (is_lalnum(s[i])) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && !is_lalnum(s[j]))
            j++;
        size_t len = j - i;
        const char *sep = s + i;
        bool dashes = true;
        for (size_t k = 0; k < len; k++)
            if (sep[k] != '-')
                dashes = false;
        if (!(dashes || (len == 1 && (sep[0] == '.' || sep[0] == '_')) || (len == 2 && sep[0] == '_' && sep[1] == '_')))
            return false;
        i = j;
    }
    return true;
}

/* host: label(.label)*(:[0-9]+)?, label [a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9] */
static bool domain_ok(const char *s, size_t n)
{
    const char *colon = memchr(s, ':', n);
    size_t hn = colon ? (size_t)(colon - s) : n;
    if (colon) {
        size_t pn = n - hn - 1;
        if (pn == 0)
            return false;
        for (size_t i = 0; i < pn; i++)
            if (!isdigit((unsigned char)colon[1 + i]))
                return false;
    }
    if (hn == 0)
        return false;
    size_t start = 0;
    for (size_t i = 0; i <= hn; i++) {
        if (i == hn || s[i] == '.') {
            size_t ln = i - start;
            if (ln == 0 || !is_alnum(s[start]) || !is_alnum(s[i - 1]))
                return false;
            for (size_t k = start; k < i; k++)
                if (!is_alnum(s[k]) && s[k] != '-')
                    return false;
            start = i + 1;
        }
    }
    return true;
}

/* tag: [\w][\w.-]{0,127} */
static bool tag_ok(const char *s, size_t n)
{
    if (n == 0 || n > 128 || !is_word(s[0]))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!is_word(s[i]) && s[i] != '.' && s[i] != '-')
            return false;
    return true;
}

/* digest pattern of the reference grammar:
 * [A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,} */
static bool digest_pattern_ok(const char *s, size_t n)
{
    const char *colon = memchr(s, ':', n);
    if (!colon)
        return false;
    size_t an = colon - s, hn = n - an - 1;
    if (hn < 32)
        return false;
    for (size_t i = 0; i < hn; i++)
        if (!isxdigit((unsigned char)colon[1 + i]))
            return false;
    bool need_alpha = true;
    for (size_t i = 0; i < an; i++) {
        char c = s[i];
        if (need_alpha) {
            if (!isalpha((unsigned char)c) || !isascii((unsigned char)c))
                return false;
            need_alpha = false;
        } else if (c == '-' || c == '_' || c == '+' || c == '.') {
            need_alpha = true;
        } else if (!is_alnum(c)) {
            return false;
        }
    }
    return an > 0 && !need_alpha;
}

/* Matches NAME(:TAG)?(@DIGEST)? exactly; fills the offsets of the three parts. */
typedef struct span {
    size_t name_len, tag_off, tag_len, dig_off, dig_len;
} span_t;

static bool grammar_match(const char *s, span_t *sp)
{
    size_t n = strlen(s);
    memset(sp, 0, sizeof *sp);
    const char *at = strchr(s, '@');
    size_t rest = at ? (size_t)(at - s) : n;
    if (at) {
        sp->dig_off = rest + 1;
        sp->dig_len = n - rest - 1;
        if (!digest_pattern_ok(s + sp->dig_off, sp->dig_len))
            return false;
    }
    /* A tag can only follow the last '/'. */
    const char *slash = NULL;
    for (size_t i = 0; i < rest; i++)
        if (s[i] == '/')
            slash = s + i;
    size_t seg_off = slash ? (size_t)(slash - s) + 1 : 0;
    const char *colon = memchr(s + seg_off, ':', rest - seg_off);
    sp->name_len = colon ? (size_t)(colon - s) : rest;
    if (colon) {
        sp->tag_off = sp->name_len + 1;
        sp->tag_len = rest - sp->tag_off;
        if (!tag_ok(s + sp->tag_off, sp->tag_len))
            return false;
    }
    /* name: (domain/)? component (/component)*; the first component may be a domain only
     * when another component follows. */
    size_t start = 0, idx = 0;
    for (size_t i = 0; i <= sp->name_len; i++) {
        if (i == sp->name_len || s[i] == '/') {
            size_t len = i - start;
            bool ok = path_component_ok(s + start, len);
            if (!ok && idx == 0 && i < sp->name_len)
                ok = domain_ok(s + start, len);
            if (!ok)
                return false;
            idx++;
            start = i + 1;
        }
    }
    return true;
}

static const char *digest_check(const char *d, size_t n)
{
    const char *colon = memchr(d, ':', n);
    if (!colon || colon == d || (size_t)(colon - d) + 1 == n)
        return "invalid checksum digest format";
    size_t an = colon - d, hn = n - an - 1;
    for (size_t i = 0; i < an; i++)
        if (!is_alnum(d[i]) && !strchr("-_+.", d[i]))
            return "invalid checksum digest format";
    for (size_t i = 0; i < hn; i++)
        if (!isxdigit((unsigned char)colon[1 + i]))
            return "invalid checksum digest format";
    size_t want;
    if (an == 6 && !memcmp(d, "sha256", 6))
        want = 64;
    else if (an == 6 && !memcmp(d, "sha384", 6))
        want = 96;
    else if (an == 6 && !memcmp(d, "sha512", 6))
        want = 128;
    else
        return "unsupported digest algorithm";
    if (hn != want)
        return "invalid checksum digest length";
    return NULL;
}

bool digest_valid(const char *s)
{
    return s && digest_check(s, strlen(s)) == NULL;
}

int docker_ref_parse(const char *s, docker_ref_t *out, const char **msg)
{
    memset(out, 0, sizeof *out);
    span_t sp;
    if (!s || !*s) {
        *msg = "repository name must have at least one component";
        return -1;
    }
    if (!grammar_match(s, &sp)) {
        char *low = xstrdup(s);
        for (char *p = low; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        span_t sp2;
        bool lower_ok = grammar_match(low, &sp2);
        free(low);
        *msg = lower_ok ? "repository name must be lowercase" : "invalid reference format";
        return -1;
    }
    if (sp.name_len > NAME_TOTAL_MAX) {
        *msg = "repository name must not be more than 255 characters";
        return -1;
    }
    if (sp.dig_len) {
        const char *e = digest_check(s + sp.dig_off, sp.dig_len);
        if (e) {
            *msg = e;
            return -1;
        }
    }
    const char *name = s;
    size_t nl = sp.name_len;
    const char *slash = memchr(name, '/', nl);
    bool registry_only = !slash && (memchr(name, '.', nl) || str_has_prefix(name, "localhost"));
    bool name_only = !slash && !registry_only;
    if (slash) {
        size_t fl = slash - name;
        bool looks_host = memchr(name, ':', fl) || memchr(name, '.', fl) || (fl == 9 && !memcmp(name, "localhost", 9));
        name_only = !looks_host;
    }
    const char *rest_name;
    size_t rest_len;
    if (registry_only) {
        /* library-go puts the whole reference string (name:tag@digest) in Registry. */
        out->registry = xstrdup(s);
        rest_name = "";
        rest_len = 0;
    } else if (name_only) {
        out->registry = xstrdup("");
        rest_name = name;
        rest_len = nl;
    } else {
        out->registry = xstrndup(name, slash - name);
        rest_name = slash + 1;
        rest_len = nl - (slash - name) - 1;
    }
    const char *ns_slash = memchr(rest_name, '/', rest_len);
    if (ns_slash) {
        out->namespace = xstrndup(rest_name, ns_slash - rest_name);
        out->name = xstrndup(ns_slash + 1, rest_len - (ns_slash - rest_name) - 1);
    } else {
        out->namespace = xstrdup("");
        out->name = xstrndup(rest_name, rest_len);
    }
    out->tag = registry_only ? xstrdup("") : xstrndup(s + sp.tag_off, sp.tag_len);
    out->id = xstrndup(s + sp.dig_off, sp.dig_len);
    return 0;
}

void docker_ref_free(docker_ref_t *r)
{
    if (!r)
        return;
    free(r->registry);
    free(r->namespace);
    free(r->name);
    free(r->tag);
    free(r->id);
    memset(r, 0, sizeof *r);
}

static const char *nz(const char *s) { return s ? s : ""; }

char *docker_ref_exact(const docker_ref_t *r)
{
    buf_t b;
    buf_init(&b);
    buf_puts(&b, "");
    if (*nz(r->registry))
        buf_printf(&b, "%s/", r->registry);
    if (*nz(r->namespace))
        buf_printf(&b, "%s/", r->namespace);
    if (!*nz(r->name)) {
        if (!*nz(r->registry)) {
            buf_free(&b);
            return xstrdup("");
        }
        return buf_steal(&b); /* "registry/" as library-go prints it */
    }
    buf_puts(&b, r->name);
    if (*nz(r->id))
        buf_printf(&b, "%c%s", digest_valid(r->id) ? '@' : ':', r->id);
    else if (*nz(r->tag))
        buf_printf(&b, ":%s", r->tag);
    return buf_steal(&b);
}

char *docker_ref_repository(const docker_ref_t *r)
{
    docker_ref_t c = *r;
    c.tag = "";
    c.id = "";
    return docker_ref_exact(&c);
}
