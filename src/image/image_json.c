/* Small jansson helpers for image/: typed getters with Go zero-value defaults,
 * Go-style case-insensitive key lookup (§0.5), canonical times, sorted map-like lists. */
#include "image/image_int.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *ij_str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

bool ij_bool(const json_t *o, const char *key)
{
    return json_is_true(json_object_get(o, key));
}

json_int_t ij_int(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_real(v))
        return (json_int_t)json_real_value(v);
    return 0;
}

json_t *ij_obj(json_t *parent, const char *key)
{
    json_t *v = json_object_get(parent, key);
    if (!json_is_object(v)) {
        v = json_object();
        json_object_set_new(parent, key, v);
    }
    return v;
}

json_t *ij_ci_get(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (v || !json_is_object(o))
        return v;
    const char *k;
    json_t *x, *found = NULL;
    json_object_foreach((json_t *)o, k, x) {
        if (!strcasecmp(k, key))
            found = x;
    }
    return found;
}

const char *ij_ci_str(const json_t *o, const char *key)
{
    const char *s = json_string_value(ij_ci_get(o, key));
    return s ? s : "";
}

bool ij_time_secs(const json_t *v, int64_t *out)
{
    const char *s = json_string_value(v);
    time_t t;
    if (!s || !*s || time_parse_rfc3339(s, &t) != 0)
        return false;
    if (t <= -62135596800LL) /* Go's zero time (0001-01-01T00:00:00Z) */
        return false;
    *out = (int64_t)t;
    return true;
}

json_t *ij_time(const json_t *v)
{
    int64_t t;
    if (!ij_time_secs(v, &t))
        return json_null();
    char buf[21];
    time_rfc3339((time_t)t, buf);
    return json_string(buf);
}

bool ij_nonempty(const json_t *v)
{
    if (!v)
        return false;
    switch (json_typeof(v)) {
    case JSON_STRING: return json_string_length(v) > 0;
    case JSON_INTEGER: return json_integer_value(v) != 0;
    case JSON_REAL: return json_real_value(v) != 0;
    case JSON_TRUE: return true;
    case JSON_ARRAY: return json_array_size(v) > 0;
    case JSON_OBJECT: return json_object_size(v) > 0;
    default: return false;
    }
}

void ij_set_or_del(json_t *o, const char *key, json_t *v)
{
    if (v && ij_nonempty(v))
        json_object_set_new(o, key, v);
    else {
        json_decref(v);
        json_object_del(o, key);
    }
}

static int cmp_by_key(const void *a, const void *b, void *arg)
{
    const char *k = arg;
    return strcmp(ij_str(*(json_t *const *)a, k), ij_str(*(json_t *const *)b, k));
}

/* qsort_r is a GNU extension; the module is built with _GNU_SOURCE. */
json_t *ij_sorted_unique(const json_t *arr, const char *key)
{
    size_t n = json_array_size(arr), m = 0;
    json_t **v = xcalloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(arr, i);
        if (!json_is_object(e))
            continue;
        bool later = false;
        for (size_t j = i + 1; j < n && !later; j++) {
            json_t *f = json_array_get(arr, j);
            later = json_is_object(f) && !strcmp(ij_str(f, key), ij_str(e, key));
        }
        if (!later)
            v[m++] = e;
    }
    qsort_r(v, m, sizeof *v, cmp_by_key, (void *)key);
    json_t *out = json_array();
    for (size_t i = 0; i < m; i++)
        json_array_append(out, v[i]);
    free(v);
    return out;
}

json_t *ij_find(const json_t *arr, const char *key, const char *val)
{
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        if (json_is_object(e) && !strcmp(ij_str(e, key), val))
            return e;
    }
    return NULL;
}

char *ij_media_base(const char *mt)
{
    const char *semi = strchr(mt ? mt : "", ';');
    char *s = semi ? xstrndup(mt, semi - mt) : xstrdup(mt ? mt : "");
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = 0;
    return s;
}

int img_path_segment_errors(const char *name, bool prefix, const char *field, ferrs_t *errs)
{
    int n = 0;
    if (!prefix) {
        if (!strcmp(name, ".") || !strcmp(name, "..")) {
            ferrs_add(errs, FERR_INVALID, field, json_string(name), "may not be '%s'", name);
            n++;
        }
    }
    if (strchr(name, '/')) {
        ferrs_add(errs, FERR_INVALID, field, json_string(name), "may not contain '/'");
        n++;
    }
    if (strchr(name, '%')) {
        ferrs_add(errs, FERR_INVALID, field, json_string(name), "may not contain '%%'");
        n++;
    }
    return n;
}
