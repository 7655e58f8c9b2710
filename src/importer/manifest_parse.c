/* Manifests as a registry returns them: the kind is decided from the response's
 * Content-Type and must agree with the body (mediaType, schemaVersion, the fields each
 * format has), as the reference's distribution client checks. A generic or absent
 * Content-Type (some registries send application/json) lets the body decide. Every
 * descriptor's digest is validated; sizes must be non-negative integers. Keys are matched
 * exactly: Go's case-insensitive decoding of stored manifests lives in image/manifest.c. */
#include "importer/importer.h"
#include "util/util.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *str_or_empty(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* "Application/JSON; charset=utf-8" -> "application/json" (lower case, no parameters). */
static char *media_base(const char *ct)
{
    if (!ct)
        return xstrdup("");
    const char *semi = strchr(ct, ';');
    size_t n = semi ? (size_t)(semi - ct) : strlen(ct);
    while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    while (n && (*ct == ' ' || *ct == '\t'))
        ct++, n--;
    char *s = xstrndup(ct, n);
    for (char *p = s; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return s;
}

static bool generic_type(const char *mt)
{
    return !*mt || !strcmp(mt, "application/json") || !strcmp(mt, "text/plain") ||
           !strcmp(mt, "application/octet-stream");
}

static int kind_of_type(const char *mt)
{
    if (!strcmp(mt, REG_MT_SCHEMA2))
        return REG_KIND_SCHEMA2;
    if (!strcmp(mt, REG_MT_OCI))
        return REG_KIND_OCI;
    if (!strcmp(mt, REG_MT_LIST))
        return REG_KIND_LIST;
    if (!strcmp(mt, REG_MT_OCI_INDEX))
        return REG_KIND_OCI_INDEX;
    if (!strcmp(mt, REG_MT_SCHEMA1) || !strcmp(mt, REG_MT_SCHEMA1_SIGNED))
        return REG_KIND_SCHEMA1;
    return 0;
}

static const char *type_of_kind(int k)
{
    switch (k) {
    case REG_KIND_SCHEMA1: return REG_MT_SCHEMA1;
    case REG_KIND_SCHEMA2: return REG_MT_SCHEMA2;
    case REG_KIND_OCI: return REG_MT_OCI;
    case REG_KIND_LIST: return REG_MT_LIST;
    default: return REG_MT_OCI_INDEX;
    }
}

/* The kind a body claims by itself; 0 if it claims none we know. */
static int kind_of_body(const json_t *m, json_int_t sv)
{
    const char *bmt = str_or_empty(m, "mediaType");
    if (*bmt)
        return kind_of_type(bmt);
    if (sv == 1)
        return REG_KIND_SCHEMA1;
    if (sv == 2 && json_object_get(m, "manifests"))
        return REG_KIND_OCI_INDEX;
    if (sv == 2 && json_object_get(m, "config"))
        return REG_KIND_OCI;
    return 0;
}

static void desc_clear(reg_descriptor_t *d)
{
    free(d->media_type);
    free(d->digest);
    free(d->os);
    free(d->architecture);
    free(d->variant);
    memset(d, 0, sizeof *d);
}

/* Fills d from a descriptor object; NULL or a static reason. */
static const char *desc_parse(const json_t *o, bool with_platform, reg_descriptor_t *d)
{
    memset(d, 0, sizeof *d);
    if (!json_is_object(o))
        return "a descriptor is not an object";
    const char *dg = str_or_empty(o, "digest");
    if (!reg_digest_valid(dg))
        return "a descriptor has an invalid digest";
    json_t *sz = json_object_get(o, "size");
    if (!json_is_integer(sz) || json_integer_value(sz) < 0)
        return "a descriptor has an invalid size";
    json_t *mt = json_object_get(o, "mediaType");
    if (mt && !json_is_string(mt))
        return "a descriptor has an invalid mediaType";
    json_t *p = json_object_get(o, "platform");
    if (with_platform && p && !json_is_object(p))
        return "a manifest list entry has an invalid platform";
    d->media_type = xstrdup(str_or_empty(o, "mediaType"));
    d->digest = xstrdup(dg);
    d->size = json_integer_value(sz);
    d->os = xstrdup(with_platform ? str_or_empty(p, "os") : "");
    d->architecture = xstrdup(with_platform ? str_or_empty(p, "architecture") : "");
    d->variant = xstrdup(with_platform ? str_or_empty(p, "variant") : "");
    return NULL;
}

/* Parses an array of descriptors into out and n; NULL or a static reason. */
static const char *desc_array(const json_t *a, bool with_platform, bool required, reg_descriptor_t **out,
                              size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!a)
        return required ? "a required descriptor list is missing" : NULL;
    if (!json_is_array(a))
        return "a descriptor list is not an array";
    size_t len = json_array_size(a);
    if (len > REG_MAX_DESCRIPTORS)
        return "too many descriptors";
    if (!len)
        return NULL;
    *out = xcalloc(len, sizeof **out);
    for (size_t i = 0; i < len; i++) {
        const char *r = desc_parse(json_array_get(a, i), with_platform, &(*out)[i]);
        if (r) {
            desc_clear(&(*out)[i]);
            *n = i;
            return r;
        }
    }
    *n = len;
    return NULL;
}

/* schema 1: fsLayers (newest first) and history of the same length; layers base first */
static const char *parse_schema1(const json_t *m, reg_manifest_t *out)
{
    json_t *fs = json_object_get(m, "fsLayers"), *hist = json_object_get(m, "history");
    if (!json_is_array(fs) || !json_is_array(hist))
        return "schema 1 manifest without fsLayers or history";
    size_t n = json_array_size(fs);
    if (n != json_array_size(hist))
        return "schema 1 manifest has mismatched history and fsLayers";
    if (n > REG_MAX_DESCRIPTORS)
        return "too many descriptors";
    if (!*str_or_empty(m, "name"))
        return "schema 1 manifest without a name";
    out->layers = n ? xcalloc(n, sizeof *out->layers) : NULL;
    for (size_t i = 0; i < n; i++) {
        const char *dg = str_or_empty(json_array_get(fs, n - 1 - i), "blobSum");
        if (!reg_digest_valid(dg)) {
            out->nlayers = i;
            return "a schema 1 layer has an invalid blobSum";
        }
        reg_descriptor_t *d = &out->layers[i];
        d->media_type = xstrdup("");
        d->digest = xstrdup(dg);
        d->os = xstrdup("");
        d->architecture = xstrdup("");
        d->variant = xstrdup("");
        out->nlayers = i + 1;
    }
    json_t *sigs = json_object_get(m, "signatures");
    out->signed_schema1 = json_array_size(sigs) > 0;
    return NULL;
}

int reg_manifest_parse(const char *content_type, const void *body, size_t len, reg_manifest_t *out, char **err)
{
    memset(out, 0, sizeof *out);
    *err = NULL;
    if (len > REG_MAX_MANIFEST) {
        *err = xasprintf("manifest larger than %u bytes", REG_MAX_MANIFEST);
        return -1;
    }
    char *ct = media_base(content_type);
    const char *reason = NULL;
    json_error_t jerr;
    json_t *m = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(m)) {
        *err = xasprintf("unable to parse the manifest: %s", m ? "not a JSON object" : jerr.text);
        goto fail;
    }
    json_t *svj = json_object_get(m, "schemaVersion");
    json_int_t sv = json_is_integer(svj) ? json_integer_value(svj) : 0;
    int body_kind = kind_of_body(m, sv);
    int kind;
    if (generic_type(ct)) {
        kind = body_kind;
        if (!kind) {
            *err = xasprintf("unrecognized manifest (schemaVersion %lld, mediaType \"%s\")", (long long)sv,
                             str_or_empty(m, "mediaType"));
            goto fail;
        }
    } else {
        kind = kind_of_type(ct);
        if (!kind) {
            *err = xasprintf("unsupported manifest media type \"%s\"", ct);
            goto fail;
        }
        const char *bmt = str_or_empty(m, "mediaType");
        /* OCI types may omit mediaType in the body; Docker schema 2 and lists must carry it */
        bool may_omit = kind == REG_KIND_OCI || kind == REG_KIND_OCI_INDEX || kind == REG_KIND_SCHEMA1;
        if ((*bmt && kind_of_type(bmt) != kind) || (!*bmt && !may_omit) || (!*bmt && body_kind && body_kind != kind)) {
            *err = xasprintf("manifest media type \"%s\" does not match the body's mediaType \"%s\"", ct, bmt);
            goto fail;
        }
    }
    if (sv != (kind == REG_KIND_SCHEMA1 ? 1 : 2)) {
        *err = xasprintf("manifest of type %s has schemaVersion %lld", type_of_kind(kind), (long long)sv);
        goto fail;
    }
    out->kind = (reg_manifest_kind_t)kind;
    out->media_type = type_of_kind(kind);
    switch (kind) {
    case REG_KIND_SCHEMA1:
        reason = parse_schema1(m, out);
        break;
    case REG_KIND_SCHEMA2:
    case REG_KIND_OCI:
        if (json_object_get(m, "manifests")) {
            reason = "an image manifest must not have manifests";
            break;
        }
        reason = desc_parse(json_object_get(m, "config"), false, &out->config);
        if (reason)
            desc_clear(&out->config);
        else
            reason = desc_array(json_object_get(m, "layers"), false, true, &out->layers, &out->nlayers);
        break;
    default:
        if (json_object_get(m, "config") || json_object_get(m, "layers")) {
            reason = "a manifest list must not have config or layers";
            break;
        }
        reason = desc_array(json_object_get(m, "manifests"), true, true, &out->children, &out->nchildren);
        break;
    }
    if (reason) {
        *err = xasprintf("invalid %s manifest: %s", out->media_type, reason);
        goto fail;
    }
    json_decref(m);
    free(ct);
    return 0;
fail:
    json_decref(m);
    free(ct);
    reg_manifest_free(out);
    return -1;
}

void reg_manifest_free(reg_manifest_t *m)
{
    desc_clear(&m->config);
    for (size_t i = 0; i < m->nlayers; i++)
        desc_clear(&m->layers[i]);
    for (size_t i = 0; i < m->nchildren; i++)
        desc_clear(&m->children[i]);
    free(m->layers);
    free(m->children);
    memset(m, 0, sizeof *m);
}

bool reg_manifest_is_list(const reg_manifest_t *m)
{
    return m->kind == REG_KIND_LIST || m->kind == REG_KIND_OCI_INDEX;
}
