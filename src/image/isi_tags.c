/* Which tags of a repository an import takes first (§4.5): `latest`, then minor versions
 * ("5.1", "v5.1", "5.1-beta") newest first, then full semantic versions ("5.1.3",
 * "v5.1.3-rc1") newest first, then the rest in byte order; equal versions put the
 * unprefixed spelling before the "v" one. Semantic versions follow semver 2.0 strictly
 * (three numeric parts without leading zeros, dot-separated pre-release identifiers). */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/isi_int.h"
#include "util/util.h"

enum { PRIO_LATEST, PRIO_MINOR, PRIO_FULL, PRIO_OTHER };

typedef struct {
    const char *tag;
    int prio;
    bool prefixed;
    uint64_t v[3];
    char *pre;      /* pre-release, "" if none */
    size_t index;   /* listing order, for a stable sort */
} ptag_t;

/* A numeric identifier: digits, no leading zero unless "0". */
static bool numeric_id(const char *s, size_t n, uint64_t *out)
{
    if (!n || n > 19 || (n > 1 && s[0] == '0'))
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (out)
        *out = v;
    return true;
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return n > 0;
}

/* Dot-separated identifiers of [0-9A-Za-z-], none empty; numeric ones (pre-release
 * only) without leading zeros. */
static bool ids_ok(const char *s, size_t n, bool pre)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.') {
            if (!isalnum((unsigned char)s[i]) && s[i] != '-')
                return false;
            continue;
        }
        size_t len = i - start;
        if (!len)
            return false;
        if (pre && all_digits(s + start, len) && !numeric_id(s + start, len, NULL))
            return false;
        start = i + 1;
    }
    return true;
}

/* semver.Parse: "X.Y.Z[-pre][+build]". */
static bool semver_parse(const char *s, uint64_t v[3], char **pre)
{
    size_t n = strlen(s);
    const char *plus = memchr(s, '+', n);
    size_t core_end = plus ? (size_t)(plus - s) : n;
    if (plus && !ids_ok(plus + 1, n - core_end - 1, false))
        return false;
    const char *dash = memchr(s, '-', core_end);
    size_t ver_end = dash ? (size_t)(dash - s) : core_end;
    if (dash && !ids_ok(dash + 1, core_end - ver_end - 1, true))
        return false;
    size_t p = 0;
    for (int k = 0; k < 3; k++) {
        size_t q = p;
        while (q < ver_end && s[q] != '.')
            q++;
        if (!numeric_id(s + p, q - p, &v[k]))
            return false;
        if (k < 2 && q >= ver_end)
            return false;
        p = q + 1;
    }
    if (p != ver_end + 1)
        return false;
    *pre = dash ? xstrndup(dash + 1, core_end - ver_end - 1) : xstrdup("");
    return true;
}

/* Pre-release precedence: none > any; identifiers compared pairwise (numeric < alpha). */
static int pre_cmp(const char *a, const char *b)
{
    if (!*a || !*b)
        return !*a && !*b ? 0 : (!*a ? 1 : -1);
    while (*a && *b) {
        size_t na = strcspn(a, "."), nb = strcspn(b, ".");
        bool da = all_digits(a, na), db = all_digits(b, nb);
        int c;
        if (da && db) {
            c = na != nb ? (na < nb ? -1 : 1) : memcmp(a, b, na);
        } else if (da != db) {
            c = da ? -1 : 1;
        } else {
            c = memcmp(a, b, na < nb ? na : nb);
            if (!c && na != nb)
                c = na < nb ? -1 : 1;
        }
        if (c)
            return c < 0 ? -1 : 1;
        a += na + (a[na] == '.');
        b += nb + (b[nb] == '.');
    }
    return !*a && !*b ? 0 : (!*a ? -1 : 1);
}

static int ver_cmp(const ptag_t *a, const ptag_t *b)
{
    for (int k = 0; k < 3; k++)
        if (a->v[k] != b->v[k])
            return a->v[k] < b->v[k] ? -1 : 1;
    return pre_cmp(a->pre, b->pre);
}

static void classify(ptag_t *t)
{
    t->pre = NULL;
    if (!strcmp(t->tag, "latest")) {
        t->prio = PRIO_LATEST;
        return;
    }
    const char *s = t->tag;
    t->prefixed = *s == 'v';
    if (t->prefixed)
        s++;
    if (semver_parse(s, t->v, &t->pre)) {
        t->prio = PRIO_FULL;
        return;
    }
    /* "X.Y" and "X.Y-word" are minor versions X.Y.0[-word] */
    size_t d1 = strspn(s, "0123456789");
    if (d1 && s[d1] == '.') {
        size_t d2 = strspn(s + d1 + 1, "0123456789");
        const char *rest = s + d1 + 1 + d2;
        bool word = *rest == '-' && rest[1];
        for (const char *w = rest + 1; word && *w; w++)
            if (!isalnum((unsigned char)*w) && *w != '_')
                word = false;
        if (d2 && (!*rest || word)) {
            char *full = xasprintf("%.*s.0%s", (int)(d1 + 1 + d2), s, rest);
            bool ok = semver_parse(full, t->v, &t->pre);
            free(full);
            if (ok) {
                t->prio = PRIO_MINOR;
                return;
            }
        }
    }
    t->prio = PRIO_OTHER;
}

static int ptag_cmp(const void *pa, const void *pb)
{
    const ptag_t *a = pa, *b = pb;
    if (a->prio != b->prio)
        return a->prio < b->prio ? -1 : 1;
    int c = 0;
    if (a->prio == PRIO_OTHER) {
        c = strcmp(a->tag, b->tag);
    } else if (a->prio != PRIO_LATEST) {
        c = -ver_cmp(a, b);   /* newer first */
        if (!c && a->prefixed != b->prefixed)
            c = a->prefixed ? 1 : -1;
    }
    if (c)
        return c;
    return a->index < b->index ? -1 : (a->index > b->index);
}

json_t *isi_tags_order(const char *const *tags, size_t n)
{
    ptag_t *v = xmalloc((n ? n : 1) * sizeof *v);
    json_t *seen = json_object();
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const char *t = tags[i] && *tags[i] ? tags[i] : "latest";
        if (json_object_get(seen, t))
            continue;
        json_object_set_new(seen, t, json_true());
        v[m] = (ptag_t){.tag = t, .index = m};
        classify(&v[m]);
        m++;
    }
    qsort(v, m, sizeof *v, ptag_cmp);
    json_t *out = json_array();
    for (size_t i = 0; i < m; i++) {
        json_array_append_new(out, json_string(v[i].tag));
        free(v[i].pre);
    }
    free(v);
    json_decref(seen);
    return out;
}
