/* name_index: sorted sets of image names and the ImageStreamImage id rule over them
 * (virtual-resources §2.1 steps 4-5): a name matches an id when it starts with the id, or
 * when it is a valid digest whose hex part starts with it. Two sorted arrays — the names,
 * and the digests by hex part — make an exact or prefix lookup two binary searches,
 * whatever the number of names. Pure: no store, no HTTP. */
#include <stdlib.h>
#include <string.h>

#include "image/image_int.h"
#include "util/util.h"

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char *hex_of(const char *digest)
{
    return strchr(digest, ':') + 1;
}

/* By hex part; ties (the same hex under two algorithms) by name, i.e. by index. */
static int hex_cmp(const void *a, const void *b)
{
    const img_hex_t *x = a, *y = b;
    int d = strcmp(x->hex, y->hex);
    return d ? d : (x->name > y->name) - (x->name < y->name);
}

img_names_t *img_names_new(const char *const *names, size_t n)
{
    img_names_t *s = xcalloc(1, sizeof *s);
    const char **tmp = xcalloc(n ? n : 1, sizeof *tmp);
    size_t k = 0, bytes = 0;
    for (size_t i = 0; i < n; i++)
        if (names[i] && *names[i])
            tmp[k++] = names[i];
    qsort(tmp, k, sizeof *tmp, str_cmp);
    size_t m = 0;
    for (size_t i = 0; i < k; i++)
        if (m == 0 || strcmp(tmp[m - 1], tmp[i]) != 0) {
            tmp[m++] = tmp[i];
            bytes += strlen(tmp[i]) + 1;
        }
    /* one block for the strings: a 10,000-name set is two allocations, not 10,000 */
    s->buf = xmalloc(bytes ? bytes : 1);
    s->names = xcalloc(m ? m : 1, sizeof *s->names);
    s->hex = xcalloc(m ? m : 1, sizeof *s->hex);
    char *p = s->buf;
    for (size_t i = 0; i < m; i++) {
        size_t len = strlen(tmp[i]) + 1;
        memcpy(p, tmp[i], len);
        s->names[i] = p;
        p += len;
        if (digest_valid(s->names[i]))
            s->hex[s->nhex++] = (img_hex_t){hex_of(s->names[i]), i};
    }
    s->n = m;
    free(tmp);
    qsort(s->hex, s->nhex, sizeof *s->hex, hex_cmp);
    return s;
}

void img_names_free(img_names_t *s)
{
    if (!s)
        return;
    free(s->names);
    free(s->hex);
    free(s->buf);
    free(s);
}

/* First index whose name is >= key. */
static size_t lower_name(const img_names_t *s, const char *key)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(s->names[mid], key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* First index into s->hex whose hex part is >= key. */
static size_t lower_hex(const img_names_t *s, const char *key)
{
    size_t lo = 0, hi = s->nhex;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(s->hex[mid].hex, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool img_names_has(const img_names_t *s, const char *name)
{
    size_t i = lower_name(s, name);
    return i < s->n && strcmp(s->names[i], name) == 0;
}

static void add_match(img_matches_t *m, const char *name)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 8;
        m->v = xrealloc(m->v, m->cap * sizeof *m->v);
    }
    m->v[m->n++] = name;
}

void img_names_match(const img_names_t *s, const char *id, img_matches_t *m)
{
    size_t idlen = strlen(id);
    for (size_t i = lower_name(s, id); i < s->n && strncmp(s->names[i], id, idlen) == 0; i++)
        add_match(m, s->names[i]);
    for (size_t i = lower_hex(s, id); i < s->nhex && strncmp(s->hex[i].hex, id, idlen) == 0; i++)
        add_match(m, s->names[s->hex[i].name]);
}

void img_matches_free(img_matches_t *m)
{
    free(m->v);
    m->v = NULL;
    m->n = m->cap = 0;
}

/* At most this many names in the ambiguity message (a one-letter prefix may match all). */
#define CONFLICT_NAMES_MAX 20

int img_names_resolve(const img_names_t *const *sets, size_t nsets, const char *id, const char **match,
                      char **conflict)
{
    *match = NULL;
    *conflict = NULL;
    for (size_t i = 0; i < nsets; i++)
        if (sets[i] && img_names_has(sets[i], id)) {
            *match = id;   /* an exact name wins over prefixes */
            return IMG_RESOLVE_FOUND;
        }
    img_matches_t m = {0};
    for (size_t i = 0; i < nsets; i++)
        if (sets[i])
            img_names_match(sets[i], id, &m);
    if (m.n)
        qsort(m.v, m.n, sizeof *m.v, str_cmp);
    size_t k = 0;
    for (size_t i = 0; i < m.n; i++)
        if (k == 0 || strcmp(m.v[k - 1], m.v[i]) != 0)
            m.v[k++] = m.v[i];
    int rc = IMG_RESOLVE_NONE;
    if (k == 1) {
        *match = m.v[0];
        rc = IMG_RESOLVE_FOUND;
    } else if (k > 1) {
        buf_t b;
        buf_init(&b);
        buf_printf(&b, "multiple images match the prefix \"%s\": ", id);
        for (size_t i = 0; i < k && i < CONFLICT_NAMES_MAX; i++)
            buf_printf(&b, "%s%s", i ? ", " : "", m.v[i]);
        if (k > CONFLICT_NAMES_MAX)
            buf_printf(&b, ", and %zu more", k - CONFLICT_NAMES_MAX);
        *conflict = buf_steal(&b);
        rc = IMG_RESOLVE_AMBIGUOUS;
    }
    img_matches_free(&m);
    return rc;
}
