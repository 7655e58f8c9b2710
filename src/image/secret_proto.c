/* secret_proto: a Kubernetes protobuf Secret (what kubectl sends for core kinds:
 * Content-Type application/vnd.kubernetes.protobuf) decoded into its JSON form. The
 * envelope is "k8s\0" + runtime.Unknown{typeMeta{apiVersion, kind}, raw}; raw is a
 * k8s.io.api.core.v1.Secret. Bounded by the body; every length is checked. ObjectMeta
 * fields a client does not set on create (uid, resourceVersion, timestamps, managed
 * fields ...) are not decoded: the server sets them anyway; ownerReferences are refused. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/secret.h"
#include "image/sig_int.h"
#include "util/util.h"

typedef struct pb {
    const unsigned char *p, *end;
} pb_t;

typedef struct pb_field {
    uint32_t num;
    int wire;             /* 0 varint, 2 bytes */
    uint64_t v;           /* varint */
    const unsigned char *b;
    size_t n;             /* bytes */
} pb_field_t;

static int varint(pb_t *s, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (s->p >= s->end)
            return -1;
        unsigned char c = *s->p++;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

/* 1: a field, 0: end, -1: malformed or a wire type a Secret does not use. */
static int next(pb_t *s, pb_field_t *f)
{
    if (s->p >= s->end)
        return 0;
    uint64_t key;
    if (varint(s, &key) != 0 || (key >> 3) == 0 || (key >> 3) > UINT32_MAX)
        return -1;
    f->num = (uint32_t)(key >> 3);
    f->wire = (int)(key & 7);
    if (f->wire == 0)
        return varint(s, &f->v) == 0 ? 1 : -1;
    if (f->wire != 2)
        return -1;
    uint64_t n;
    if (varint(s, &n) != 0 || n > (uint64_t)(s->end - s->p))
        return -1;
    f->b = s->p;
    f->n = (size_t)n;
    s->p += n;
    return 1;
}

static json_t *str(const pb_field_t *f) { return json_stringn_nocheck((const char *)f->b, f->n); }

static bool utf8_ok(const pb_field_t *f)
{
    json_t *v = json_stringn((const char *)f->b, f->n);   /* NULL when not UTF-8 */
    bool ok = v != NULL;
    json_decref(v);
    return ok;
}

/* A map entry {1: key, 2: value}: key, and value as a string or (b64) base64. */
static int map_entry(const pb_field_t *f, json_t *into, bool b64)
{
    pb_t s = {f->b, f->b + f->n};
    pb_field_t e, k = {0}, v = {0};
    int rc;
    bool have_k = false;
    while ((rc = next(&s, &e)) == 1) {
        if (e.wire != 2)
            return -1;
        if (e.num == 1) {
            k = e;
            have_k = true;
        } else if (e.num == 2) {
            v = e;
        }
    }
    if (rc < 0 || !have_k || !utf8_ok(&k) || (!b64 && v.n && !utf8_ok(&v)))
        return -1;
    char *key = xstrndup((const char *)k.b, k.n);
    if (memchr(k.b, '\0', k.n)) {
        free(key);
        return -1;
    }
    if (b64) {
        char *enc = sig_b64_encode(v.b ? v.b : (const unsigned char *)"", v.n);
        json_object_set_new(into, key, json_string(enc));
        free(enc);
    } else {
        json_object_set_new(into, key, v.n ? str(&v) : json_string(""));
    }
    free(key);
    return 0;
}

static json_t *meta_of(const unsigned char *b, size_t n)
{
    pb_t s = {b, b + n};
    pb_field_t f;
    json_t *m = json_object();
    int rc;
    while ((rc = next(&s, &f)) == 1) {
        bool bytes = f.wire == 2;
        switch (f.num) {
        case 1: case 2: case 3:
            if (!bytes || !utf8_ok(&f))
                goto bad;
            if (f.n)   /* gogo protobuf writes empty strings too: "" is unset */
                json_object_set_new(m, f.num == 1 ? "name" : f.num == 2 ? "generateName" : "namespace", str(&f));
            break;
        case 11: case 12: {
            const char *key = f.num == 11 ? "labels" : "annotations";
            json_t *map = json_object_get(m, key);
            if (!map)
                json_object_set_new(m, key, map = json_object());
            if (!bytes || map_entry(&f, map, false) != 0)
                goto bad;
            break;
        }
        case 14: {
            json_t *fin = json_object_get(m, "finalizers");
            if (!fin)
                json_object_set_new(m, "finalizers", fin = json_array());
            if (!bytes || !utf8_ok(&f))
                goto bad;
            json_array_append_new(fin, str(&f));
            break;
        }
        case 13:   /* ownerReferences: not decoded, so not silently dropped either */
            goto bad;
        default:
            break;   /* server-set fields (uid, resourceVersion, timestamps, managedFields) */
        }
    }
    if (rc == 0)
        return m;
bad:
    json_decref(m);
    return NULL;
}

static json_t *secret_of(const unsigned char *b, size_t n)
{
    pb_t s = {b, b + n};
    pb_field_t f;
    json_t *o = json_object();
    int rc;
    while ((rc = next(&s, &f)) == 1) {
        if (f.num == 5 && f.wire == 0) {
            json_object_set_new(o, "immutable", json_boolean(f.v != 0));
            continue;
        }
        if (f.wire != 2)
            goto bad;
        if (f.num == 1) {
            json_t *m = meta_of(f.b, f.n);
            if (!m)
                goto bad;
            json_object_set_new(o, "metadata", m);
        } else if (f.num == 2 || f.num == 4) {
            const char *key = f.num == 2 ? "data" : "stringData";
            json_t *map = json_object_get(o, key);
            if (!map)
                json_object_set_new(o, key, map = json_object());
            if (map_entry(&f, map, f.num == 2) != 0)
                goto bad;
        } else if (f.num == 3) {
            if (!utf8_ok(&f))
                goto bad;
            if (f.n)
                json_object_set_new(o, "type", str(&f));
        }
    }
    if (rc == 0)
        return o;
bad:
    json_decref(o);
    return NULL;
}

json_t *secret_from_protobuf(const void *body, size_t len, apierr_t *err)
{
    static const unsigned char magic[4] = {'k', '8', 's', 0};
    const unsigned char *b = body;
    if (len < 4 || memcmp(b, magic, 4) != 0) {
        apierr_set(err, APIERR_BAD_REQUEST, "provided object is not a protobuf message (no k8s envelope)");
        return NULL;
    }
    pb_t s = {b + 4, b + len};
    pb_field_t f, raw = {0};
    char api_version[64] = "", kind[64] = "";
    int rc;
    while ((rc = next(&s, &f)) == 1) {
        if (f.wire != 2)
            break;
        if (f.num == 1) {   /* typeMeta */
            pb_t t = {f.b, f.b + f.n};
            pb_field_t tf;
            int trc;
            while ((trc = next(&t, &tf)) == 1)
                if (tf.wire == 2 && (tf.num == 1 || tf.num == 2) && tf.n < sizeof api_version)
                    memcpy(tf.num == 1 ? api_version : kind, tf.b, tf.n), (tf.num == 1 ? api_version : kind)[tf.n] = 0;
            if (trc < 0)
                rc = -1;
        } else if (f.num == 2) {
            raw = f;
        } else if (f.num == 3 || f.num == 4) {
            if (f.n)   /* contentEncoding / contentType: only plain protobuf is sent by clients */
                rc = -1;
        }
        if (rc < 0)
            break;
    }
    json_t *o = NULL;
    if (rc == 0 && strcmp(kind, "Secret") == 0 && (api_version[0] == 0 || strcmp(api_version, "v1") == 0))
        o = secret_of(raw.b ? raw.b : (const unsigned char *)"", raw.n);
    if (!o) {
        apierr_set(err, APIERR_BAD_REQUEST, "Secret in version \"v1\" cannot be handled as a Secret: %s",
                   rc == 0 && strcmp(kind, "Secret") != 0 ? "the protobuf envelope does not hold a v1 Secret"
                                                          : "malformed protobuf Secret");
        return NULL;
    }
    json_object_set_new(o, "apiVersion", json_string("v1"));
    json_object_set_new(o, "kind", json_string("Secret"));
    return o;
}
