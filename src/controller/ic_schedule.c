/* See ic_schedule.h. Buckets are jansson objects (they keep insertion order, so a bucket
 * drains oldest first) and `where` maps a key to its bucket, so add and remove are O(1). */
#include "controller/ic_schedule.h"
#include "util/util.h"

#include <jansson.h>
#include <stdlib.h>

struct ic_schedule {
    int n;          /* buckets + 1 (the current one) */
    int pos;        /* the current bucket */
    json_t **bucket;
    json_t *where;  /* key -> bucket index */
};

int ic_schedule_buckets_for(long interval_ms)
{
    int b = 4;
    if (interval_ms > 3600L * 1000)
        b *= 2;
    else if (interval_ms < 600L * 1000)
        b /= 2;
    return b;
}

ic_schedule_t *ic_schedule_new(int buckets)
{
    ic_schedule_t *s = xcalloc(1, sizeof *s);
    s->n = (buckets > 0 ? buckets : 1) + 1;
    s->bucket = xcalloc((size_t)s->n, sizeof *s->bucket);
    for (int i = 0; i < s->n; i++)
        s->bucket[i] = json_object();
    s->where = json_object();
    return s;
}

void ic_schedule_free(ic_schedule_t *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->n; i++)
        json_decref(s->bucket[i]);
    free(s->bucket);
    json_decref(s->where);
    free(s);
}

static int at(const ic_schedule_t *s, int inc)
{
    return ((s->pos + inc) % s->n + s->n) % s->n;
}

void ic_schedule_remove(ic_schedule_t *s, const char *key)
{
    json_t *w = json_object_get(s->where, key);
    if (!w)
        return;
    json_object_del(s->bucket[json_integer_value(w)], key);
    json_object_del(s->where, key);
}

void ic_schedule_add(ic_schedule_t *s, const char *key)
{
    ic_schedule_remove(s, key);
    /* from the bucket just behind the current one (reached last) towards the next one */
    int target = at(s, -1);
    size_t least = (size_t)-1;
    for (int i = s->n - 1; i > 0; i--) {
        int b = at(s, i);
        size_t size = json_object_size(s->bucket[b]);
        if (size < least) {
            least = size;
            target = b;
            if (size == 0)
                break;
        }
    }
    json_object_set_new(s->bucket[target], key, json_true());
    json_object_set_new(s->where, key, json_integer(target));
}

void ic_schedule_delay(ic_schedule_t *s, const char *key)
{
    if (!json_object_get(s->where, key))
        return;
    ic_schedule_remove(s, key);
    int behind = at(s, -1);
    json_object_set_new(s->bucket[behind], key, json_true());
    json_object_set_new(s->where, key, json_integer(behind));
}

bool ic_schedule_has(const ic_schedule_t *s, const char *key)
{
    return json_object_get(s->where, key) != NULL;
}

size_t ic_schedule_size(const ic_schedule_t *s)
{
    return json_object_size(s->where);
}

char *ic_schedule_next(ic_schedule_t *s)
{
    json_t *cur = s->bucket[s->pos];
    void *it = json_object_iter(cur);
    if (!it) {
        s->pos = at(s, 1);
        return NULL;
    }
    char *key = xstrdup(json_object_iter_key(it));
    json_object_del(cur, key);
    int behind = at(s, -1);
    json_object_set_new(s->bucket[behind], key, json_true());
    json_object_set_new(s->where, key, json_integer(behind));
    return key;
}
