/* Field sets in the structured-merge-diff FieldsV1 shape, computed from objects by
 * walking the kind's schema (keyed lists "k:", sets "v:", atomic values as leaves). */
#include "api/patch.h"
#include "api/patch_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- schema helpers ---- */

const schema_node_t *ps_child(const schema_node_t *n, const char *name)
{
    if (!n)
        return NULL;
    if (n->type == ST_MAP)
        return n->items;
    if (n->type != ST_OBJECT)
        return NULL;
    for (const schema_node_t *f = n->fields; f && f->name; f++)
        if (!strcmp(f->name, name))
            return f;
    return NULL;
}

bool ps_strategy_has(const schema_node_t *n, const char *word)
{
    if (!n || !n->patch_strategy)
        return false;
    size_t wl = strlen(word);
    for (const char *s = n->patch_strategy; *s;) {
        const char *e = strchr(s, ',');
        size_t l = e ? (size_t)(e - s) : strlen(s);
        if (l == wl && !strncmp(s, word, wl))
            return true;
        if (!e)
            break;
        s = e + 1;
    }
    return false;
}

static bool is_primitive(const schema_node_t *n)
{
    return n && n->type != ST_OBJECT && n->type != ST_MAP && n->type != ST_ARRAY && n->type != ST_ANY;
}

ps_list_kind_t ps_list_kind(const schema_node_t *n, bool smp)
{
    if (!n || n->type != ST_ARRAY)
        return PS_LIST_ATOMIC;
    bool merge = ps_strategy_has(n, "merge");
    if (!smp && n->list_type) {
        if (!strcmp(n->list_type, "map") && n->merge_key)
            return PS_LIST_MAP;
        if (!strcmp(n->list_type, "set"))
            return PS_LIST_SET;
        if (!strcmp(n->list_type, "atomic"))
            return PS_LIST_ATOMIC;
    }
    if (merge && n->merge_key)
        return PS_LIST_MAP;
    if (merge && is_primitive(n->items))
        return PS_LIST_SET;
    return PS_LIST_ATOMIC;
}

/* ---- set algebra on the internal form ---- */

json_t *fs_new(void) { return json_object(); }

bool fs_empty(const json_t *s) { return !s || json_object_size(s) == 0; }

static bool fs_self(const json_t *s) { return json_object_get(s, ".") != NULL; }

static void fs_mark(json_t *s) { json_object_set_new(s, ".", json_object()); }

void fs_union_into(json_t *a, const json_t *b)
{
    const char *k;
    json_t *bv;
    json_object_foreach((json_t *)b, k, bv) {
        json_t *av = json_object_get(a, k);
        if (!strcmp(k, "."))
            fs_mark(a);
        else if (av)
            fs_union_into(av, bv);
        else
            json_object_set_new(a, k, json_deep_copy(bv));
    }
}

json_t *fs_diff(const json_t *a, const json_t *b)
{
    json_t *r = fs_new();
    if (fs_self(a) && !(b && fs_self(b)))
        fs_mark(r);
    const char *k;
    json_t *av;
    json_object_foreach((json_t *)a, k, av) {
        if (!strcmp(k, "."))
            continue;
        json_t *bv = b ? json_object_get(b, k) : NULL;
        json_t *d = bv ? fs_diff(av, bv) : json_deep_copy(av);
        if (fs_empty(d))
            json_decref(d);
        else
            json_object_set_new(r, k, d);
    }
    return r;
}

json_t *fs_intersect(const json_t *a, const json_t *b)
{
    json_t *r = fs_new();
    if (fs_self(a) && fs_self(b))
        fs_mark(r);
    const char *k;
    json_t *av;
    json_object_foreach((json_t *)a, k, av) {
        json_t *bv = json_object_get(b, k);
        if (!strcmp(k, ".") || !bv)
            continue;
        json_t *d = fs_intersect(av, bv);
        if (fs_empty(d))
            json_decref(d);
        else
            json_object_set_new(r, k, d);
    }
    return r;
}

/* structured-merge-diff order: field names, then keys, then values, then indexes. */
static int key_rank(const char *k)
{
    switch (k[0]) {
    case 'f': return 0;
    case 'k': return 1;
    case 'v': return 2;
    case 'i': return 3;
    default: return 4;
    }
}

static int key_cmp(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    int rx = key_rank(x), ry = key_rank(y);
    if (rx != ry)
        return rx - ry;
    if (rx == 3)
        return atoi(x + 2) - atoi(y + 2);
    return strcmp(x, y);
}

/* Child keys except ".", sorted. Caller frees the array (not the strings). */
static const char **sorted_keys(const json_t *s, size_t *n)
{
    const char **keys = xcalloc(json_object_size(s) + 1, sizeof(char *));
    size_t c = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)s, k, v)
        if (strcmp(k, "."))
            keys[c++] = k;
    qsort(keys, c, sizeof(char *), key_cmp);
    *n = c;
    return keys;
}

json_t *fs_to_v1(const json_t *s)
{
    json_t *out = json_object();
    size_t n;
    const char **keys = sorted_keys(s, &n);
    if (n && fs_self(s))
        json_object_set_new(out, ".", json_object());
    for (size_t i = 0; i < n; i++)
        json_object_set_new(out, keys[i], fs_to_v1(json_object_get(s, keys[i])));
    free(keys);
    return out;
}

json_t *fs_from_v1(const json_t *v1)
{
    json_t *out = fs_new();
    if (!json_is_object(v1))
        return out;
    if (json_object_size(v1) == 0)
        fs_mark(out);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)v1, k, v) {
        if (!strcmp(k, "."))
            fs_mark(out);
        else
            json_object_set_new(out, k, fs_from_v1(v));
    }
    return out;
}

/* ---- object -> set ---- */

static bool granular_obj(const schema_node_t *n)
{
    return !n || n->type == ST_OBJECT || n->type == ST_MAP;
}

static char *item_key(const json_t *e, const schema_node_t *n, ps_list_kind_t kind)
{
    if (kind == PS_LIST_SET) {
        char *j = json_dumps(e, JSON_COMPACT | JSON_ENCODE_ANY);
        char *k = xasprintf("v:%s", j);
        free(j);
        return k;
    }
    json_t *kv = json_object_get(e, n->merge_key);
    if (!kv)
        return NULL;
    json_t *ko = json_pack("{sO}", n->merge_key, kv);
    char *j = json_dumps(ko, JSON_COMPACT);
    char *k = xasprintf("k:%s", j);
    free(j);
    json_decref(ko);
    return k;
}

/* Granular arrays contribute per-element paths; a keyed list with an element lacking its
 * key is treated as atomic. */
static bool granular_array(const json_t *v, const schema_node_t *n)
{
    ps_list_kind_t kind = ps_list_kind(n, false);
    if (kind == PS_LIST_ATOMIC)
        return false;
    if (kind == PS_LIST_MAP) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
            if (!json_is_object(e) || !json_object_get(e, n->merge_key))
                return false;
    }
    return true;
}

static bool granular(const json_t *v, const schema_node_t *n)
{
    if (json_is_object(v))
        return granular_obj(n);
    if (json_is_array(v))
        return granular_array(v, n);
    return false;
}

static void walk(json_t *set, const json_t *v, const schema_node_t *n);

static void add_child(json_t *set, const char *key, const json_t *cv, const schema_node_t *cn, bool self)
{
    json_t *child = fs_new();
    if (granular(cv, cn))
        walk(child, cv, cn);
    else
        self = true;
    if (json_is_object(cv) && json_object_size(cv) == 0)
        self = true;
    if (self)
        fs_mark(child);
    json_t *cur = json_object_get(set, key);
    if (fs_empty(child))
        json_decref(child);
    else if (cur) {
        fs_union_into(cur, child);
        json_decref(child);
    } else
        json_object_set_new(set, key, child);
}

/* Adds the paths below value v (whose own path is `set`). */
static void walk(json_t *set, const json_t *v, const schema_node_t *n)
{
    if (json_is_object(v)) {
        bool strct = n && n->type == ST_OBJECT;
        const char *k;
        json_t *cv;
        json_object_foreach((json_t *)v, k, cv) {
            const schema_node_t *cn = ps_child(n, k);
            char *key = xasprintf("f:%s", k);
            /* struct fields are in the set through their leaves; map entries and
             * unknown members are in it themselves */
            add_child(set, key, cv, cn, json_is_null(cv) || !strct || !cn);
            free(key);
        }
    } else if (json_is_array(v)) {
        ps_list_kind_t kind = ps_list_kind(n, false);
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            char *key = item_key(e, n, kind);
            if (key)
                add_child(set, key, e, kind == PS_LIST_MAP ? n->items : NULL, true);
            free(key);
        }
    }
}

static const char *const meta_skip[] = {"name", "namespace", "uid", "resourceVersion", "generation",
                                        "creationTimestamp", "managedFields", "selfLink",
                                        "deletionTimestamp", "deletionGracePeriodSeconds", NULL};

json_t *fs_of_object(const json_t *obj, const schema_node_t *root, bool include_status)
{
    json_t *set = fs_new();
    if (!json_is_object(obj))
        return set;
    json_t *view = json_copy((json_t *)obj);
    json_object_del(view, "apiVersion");
    json_object_del(view, "kind");
    if (!include_status)
        json_object_del(view, "status");
    json_t *meta = json_object_get(view, "metadata");
    if (json_is_object(meta)) {
        meta = json_copy(meta);
        for (int i = 0; meta_skip[i]; i++)
            json_object_del(meta, meta_skip[i]);
        if (json_object_size(meta))
            json_object_set_new(view, "metadata", meta);
        else {
            json_decref(meta);
            json_object_del(view, "metadata");
        }
    }
    walk(set, view, root);
    json_decref(view);
    return set;
}

json_t *fieldset_from_object(const json_t *obj, const schema_node_t *root, bool include_status)
{
    json_t *s = fs_of_object(obj, root, include_status);
    json_t *v1 = fs_to_v1(s);
    json_decref(s);
    return v1;
}

/* ---- resolving set keys against values ---- */

static json_t *resolve(const json_t *v, const char *key)
{
    if (!strncmp(key, "f:", 2))
        return json_is_object(v) ? json_object_get(v, key + 2) : NULL;
    if (!json_is_array(v))
        return NULL;
    if (!strncmp(key, "i:", 2))
        return json_array_get(v, (size_t)strtoul(key + 2, NULL, 10));
    json_t *want = json_loads(key + 2, JSON_DECODE_ANY, NULL);
    if (!want)
        return NULL;
    json_t *found = NULL;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        bool match;
        if (key[0] == 'v') {
            match = json_equal(e, want);
        } else {
            match = json_is_object(e) && json_is_object(want);
            const char *wk;
            json_t *wv;
            json_object_foreach(want, wk, wv)
                if (match && !json_equal(json_object_get(e, wk), wv))
                    match = false;
        }
        if (match) {
            found = e;
            break;
        }
    }
    json_decref(want);
    return found;
}

static size_t index_of(const json_t *arr, const json_t *e)
{
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x)
        if (x == e)
            return i;
    return (size_t)-1;
}

static json_t *changed(const json_t *set, const json_t *nv, const json_t *ov)
{
    json_t *out = fs_new();
    size_t n;
    const char **keys = sorted_keys(set, &n);
    if (fs_self(set) && (!ov || (n == 0 && !json_equal(nv, ov))))
        fs_mark(out);
    for (size_t i = 0; i < n; i++) {
        json_t *cnv = resolve(nv, keys[i]);
        if (!cnv)
            continue;
        json_t *c = changed(json_object_get(set, keys[i]), cnv, ov ? resolve(ov, keys[i]) : NULL);
        if (fs_empty(c))
            json_decref(c);
        else
            json_object_set_new(out, keys[i], c);
    }
    free(keys);
    return out;
}

json_t *fs_changed(const json_t *new_set, const json_t *new_obj, const json_t *old_obj)
{
    json_t *c = fs_new();
    size_t n;
    const char **keys = sorted_keys(new_set, &n);
    for (size_t i = 0; i < n; i++) {
        json_t *cnv = resolve(new_obj, keys[i]);
        if (!cnv)
            continue;
        json_t *d = changed(json_object_get(new_set, keys[i]), cnv, old_obj ? resolve(old_obj, keys[i]) : NULL);
        if (fs_empty(d))
            json_decref(d);
        else
            json_object_set_new(c, keys[i], d);
    }
    free(keys);
    return c;
}

void fs_prune(json_t *obj, const json_t *set, const json_t *keep)
{
    size_t n;
    const char **keys = sorted_keys(set, &n);
    for (size_t i = 0; i < n; i++) {
        json_t *child = json_object_get(set, keys[i]);
        json_t *kept = keep ? json_object_get(keep, keys[i]) : NULL;
        json_t *v = resolve(obj, keys[i]);
        if (!v)
            continue;
        if (!fs_self(child) || !fs_empty(kept)) {
            /* only parts of it go, or someone still owns something inside it */
            fs_prune(v, child, kept);
            if (keys[i][0] == 'k' && json_is_object(v)) {
                /* a kept list element keeps its key fields */
                json_t *kv = json_loads(keys[i] + 2, 0, NULL);
                json_object_update(v, kv);
                json_decref(kv);
            }
            continue;
        }
        if (json_is_object(obj))
            json_object_del(obj, keys[i] + 2);
        else
            json_array_remove(obj, index_of(obj, v));
    }
    free(keys);
}

void fs_remove_paths(json_t *obj, const json_t *set) { fs_prune(obj, set, NULL); }

static void key_to_path(buf_t *b, const char *key)
{
    if (!strncmp(key, "f:", 2)) {
        buf_printf(b, ".%s", key + 2);
    } else if (!strncmp(key, "v:", 2)) {
        buf_printf(b, "[=%s]", key + 2);
    } else if (!strncmp(key, "i:", 2)) {
        buf_printf(b, "[%s]", key + 2);
    } else {
        json_t *k = json_loads(key + 2, 0, NULL);
        buf_putc(b, '[');
        const char *kk;
        json_t *kv;
        bool first = true;
        json_object_foreach(k, kk, kv) {
            char *j = json_dumps(kv, JSON_COMPACT | JSON_ENCODE_ANY);
            buf_printf(b, "%s%s=%s", first ? "" : ",", kk, j);
            free(j);
            first = false;
        }
        buf_putc(b, ']');
        json_decref(k);
    }
}

static void paths_rec(const json_t *s, buf_t *prefix, json_t *arr)
{
    if (fs_self(s) && prefix->len)
        json_array_append_new(arr, json_string(prefix->data));
    size_t n;
    const char **keys = sorted_keys(s, &n);
    for (size_t i = 0; i < n; i++) {
        size_t keep = prefix->len;
        key_to_path(prefix, keys[i]);
        paths_rec(json_object_get(s, keys[i]), prefix, arr);
        prefix->len = keep;
        prefix->data[keep] = 0;
    }
    free(keys);
}

void fs_paths(const json_t *s, json_t *arr)
{
    buf_t b;
    buf_init(&b);
    buf_puts(&b, "");
    paths_rec(s, &b, arr);
    buf_free(&b);
}
