/* Image strategy: wire shape (§0.4, §1.3), create (§1.4), update (§1.6), table (§1.8). */
#include "image/image_int.h"
#include "util/util.h"

#include <string.h>

/* ---- wire shape ---- */
static json_t *norm_layer(const json_t *l)
{
    return json_pack("{s:s, s:I, s:s}", "name", ij_str(l, "name"), "size", (json_int_t)ij_int(l, "size"),
                     "mediaType", ij_str(l, "mediaType"));
}

static json_t *norm_manifest(const json_t *m)
{
    json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:s}", "digest", ij_str(m, "digest"), "mediaType",
                          ij_str(m, "mediaType"), "manifestSize", (json_int_t)ij_int(m, "manifestSize"),
                          "architecture", ij_str(m, "architecture"), "os", ij_str(m, "os"));
    if (*ij_str(m, "variant"))
        json_object_set_new(o, "variant", json_string(ij_str(m, "variant")));
    return o;
}

static void copy_str(json_t *dst, const json_t *src, const char *key, bool always)
{
    const char *s = ij_str(src, key);
    if (always || *s)
        json_object_set_new(dst, key, json_string(s));
}

static json_t *norm_condition(const json_t *c)
{
    json_t *o = json_object();
    copy_str(o, c, "type", true);
    copy_str(o, c, "status", true);
    json_object_set_new(o, "lastProbeTime", ij_time(json_object_get(c, "lastProbeTime")));
    json_object_set_new(o, "lastTransitionTime", ij_time(json_object_get(c, "lastTransitionTime")));
    copy_str(o, c, "reason", false);
    copy_str(o, c, "message", false);
    return o;
}

/* ImageSignature wire shape (§0.4); used inside Image.signatures. */
static json_t *norm_signature(const json_t *s)
{
    json_t *o = json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)s, k, v) {
        if (!strcmp(k, "kind") || !strcmp(k, "apiVersion"))
            json_object_set(o, k, v);
    }
    json_t *meta = json_object_get(s, "metadata");
    json_object_set_new(o, "metadata", json_is_object(meta) ? json_deep_copy(meta) : json_object());
    copy_str(o, s, "type", true);
    copy_str(o, s, "content", true);
    json_t *conds = json_array();
    size_t i;
    json_array_foreach(json_object_get(s, "conditions"), i, v) json_array_append_new(conds, norm_condition(v));
    ij_set_or_del(o, "conditions", conds);
    copy_str(o, s, "imageIdentity", false);
    json_t *claims = json_object_get(s, "signedClaims");
    if (json_is_object(claims) && json_object_size(claims))
        json_object_set(o, "signedClaims", claims);
    json_t *created = ij_time(json_object_get(s, "created"));
    if (json_is_null(created))
        json_decref(created);
    else
        json_object_set_new(o, "created", created);
    json_t *by = json_object_get(s, "issuedBy");
    if (json_is_object(by)) {
        json_t *b = json_object();
        copy_str(b, by, "organization", false);
        copy_str(b, by, "commonName", false);
        json_object_set_new(o, "issuedBy", b);
    }
    json_t *to = json_object_get(s, "issuedTo");
    if (json_is_object(to)) {
        json_t *t = json_object();
        copy_str(t, to, "organization", false);
        copy_str(t, to, "commonName", false);
        copy_str(t, to, "publicKeyID", true);
        json_object_set_new(o, "issuedTo", t);
    }
    return o;
}

static void set_list(json_t *out, const json_t *in, const char *key, json_t *(*fn)(const json_t *))
{
    json_t *arr = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(in, key), i, v) json_array_append_new(arr, fn(v));
    ij_set_or_del(out, key, arr);
}

void image_normalize(json_t *obj)
{
    if (!json_is_object(obj))
        return;
    json_t *out = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        if (!strcmp(k, "kind") || !strcmp(k, "apiVersion") || !strcmp(k, "metadata"))
            json_object_set(out, k, v);
    }
    copy_str(out, obj, "dockerImageReference", false);
    const char *version = ij_str(obj, "dockerImageMetadataVersion");
    if (!*version)
        version = "1.0";
    json_t *dm = dmeta_decode(json_object_get(obj, "dockerImageMetadata"), version);
    json_object_set_new(out, "dockerImageMetadata", dmeta_encode(dm, version));
    json_decref(dm);
    json_object_set_new(out, "dockerImageMetadataVersion", json_string(version));
    copy_str(out, obj, "dockerImageManifest", false);
    set_list(out, obj, "dockerImageLayers", norm_layer);
    set_list(out, obj, "signatures", norm_signature);
    json_t *ds = json_object_get(obj, "dockerImageSignatures");
    if (json_is_array(ds) && json_array_size(ds))
        json_object_set(out, "dockerImageSignatures", ds);
    copy_str(out, obj, "dockerImageManifestMediaType", false);
    copy_str(out, obj, "dockerImageConfig", false);
    set_list(out, obj, "dockerImageManifests", norm_manifest);
    json_object_clear(obj);
    json_object_update(obj, out);
    json_decref(out);
}

/* ---- create / update ---- */
static void finish_prepare(json_t *obj)
{
    json_t *ann = json_object_get(json_object_get(obj, "metadata"), "annotations");
    if (!strcmp(ij_str(ann, ANN_BLOB_STORED), "true")) {
        json_object_del(obj, "dockerImageManifest");
        json_object_del(obj, "dockerImageConfig");
    }
    size_t i;
    json_t *sig;
    json_array_foreach(json_object_get(obj, "signatures"), i, sig) {
        json_t *sa = json_object_get(json_object_get(sig, "metadata"), "annotations");
        if (json_is_object(sa))
            json_object_del(sa, ANN_MANAGED_SIG);
    }
    image_normalize(obj);
}

void image_prepare_create(const image_ctx_t *ctx, json_t *obj)
{
    image_fill_metadata(obj, ctx ? ctx->now : NULL);
    img_fill_manifest_list(obj);
    finish_prepare(obj);
}

/* Sets obj[key] to a copy of old[key], or removes it when old has none. */
static void restore(json_t *obj, const json_t *old, const char *key)
{
    json_t *v = json_object_get(old, key);
    if (v)
        json_object_set_new(obj, key, json_deep_copy(v));
    else
        json_object_del(obj, key);
}

static bool config_matches(const json_t *obj, const char *cfg)
{
    const char *mt = ij_str(obj, "dockerImageManifestMediaType");
    if (strcmp(mt, MT_SCHEMA2) && strcmp(mt, MT_OCI))
        return false;
    json_t *m = json_loads(ij_str(obj, "dockerImageManifest"), 0, NULL);
    char dg[72];
    img_sha256_digest(cfg, strlen(cfg), dg);
    bool ok = json_is_object(m) && !strcmp(ij_ci_str(ij_ci_get(m, "config"), "digest"), dg);
    json_decref(m);
    return ok;
}

void image_prepare_update(const image_ctx_t *ctx, json_t *obj, const json_t *old)
{
    restore(obj, old, "dockerImageMetadata");
    restore(obj, old, "dockerImageMetadataVersion");
    restore(obj, old, "dockerImageLayers");
    if (json_object_get(old, "dockerImageSignatures") && !json_is_null(json_object_get(old, "dockerImageSignatures")))
        restore(obj, old, "dockerImageSignatures");

    const char *name = ij_str(json_object_get(obj, "metadata"), "name");
    const char *nm = ij_str(obj, "dockerImageManifest");
    if (strcmp(nm, ij_str(old, "dockerImageManifest")) && *nm &&
        !img_manifest_matches(name, ij_str(old, "dockerImageManifestMediaType"), nm))
        restore(obj, old, "dockerImageManifest");

    const char *nc = ij_str(obj, "dockerImageConfig");
    if (strcmp(nc, ij_str(old, "dockerImageConfig")) && *nc && !config_matches(obj, nc))
        restore(obj, old, "dockerImageConfig");

    image_fill_metadata(obj, ctx ? ctx->now : NULL);
    finish_prepare(obj);
}

json_t *image_table_cells(const json_t *obj)
{
    return json_pack("[s, s]", ij_str(json_object_get(obj, "metadata"), "name"), ij_str(obj, "dockerImageReference"));
}
