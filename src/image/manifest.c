/* Manifest -> image metadata (§1.5), manifest lists (§1.4 step 2) and manifest digest
 * verification for updates (§1.6). Manifests and configs are read with Go's
 * case-insensitive key matching (§0.5). Failures are logged, never returned: the
 * reference lets an Image create succeed with whatever was filled before the failure. */
#include "image/image_int.h"
#include "importer/importer.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

void img_sha256_digest(const void *p, size_t n, char out[72])
{
    char hex[65];
    sha256_hex(p, n, hex);
    snprintf(out, 72, "sha256:%s", hex);
}

static const char *img_name(const json_t *img)
{
    return ij_str(json_object_get(img, "metadata"), "name");
}

/* ---- step 1: layer order ---- */
static void reorder_layers(json_t *img)
{
    json_t *layers = json_object_get(img, "dockerImageLayers");
    if (!json_array_size(layers))
        return;
    json_t *meta = ij_obj(img, "metadata");
    json_t *ann = json_object_get(meta, "annotations");
    const char *order = json_string_value(json_object_get(ann, ANN_LAYERS_ORDER));
    if (!order) {
        char *mt = ij_media_base(ij_str(img, "dockerImageManifestMediaType"));
        if (!strcmp(mt, MT_SCHEMA1) || !strcmp(mt, MT_SCHEMA1_SIGNED))
            order = "ascending";
        else if (!strcmp(mt, MT_SCHEMA2) || !strcmp(mt, MT_OCI))
            order = "descending";
        free(mt);
        if (!order)
            return;
    }
    if (!strcmp(order, "descending")) {
        size_t n = json_array_size(layers);
        json_t *rev = json_array();
        for (size_t i = n; i-- > 0;)
            json_array_append(rev, json_array_get(layers, i));
        json_object_set_new(img, "dockerImageLayers", rev);
    }
    json_object_set_new(ij_obj(meta, "annotations"), ANN_LAYERS_ORDER, json_string("ascending"));
}

static json_t *layer_new(const char *name, json_int_t size, const char *mt)
{
    return json_pack("{s:s, s:I, s:s}", "name", name, "size", (json_int_t)size, "mediaType", mt);
}

/* ---- step 5: layers from the manifest; 0 or -1 (logged) ---- */
static int layers_from_manifest(json_t *img, const json_t *m, json_int_t sv)
{
    json_t *layers = json_array();
    if (sv == 1) {
        json_t *fs = ij_ci_get(m, "fsLayers"), *hist = ij_ci_get(m, "history");
        size_t nf = json_array_size(fs), nh = json_array_size(hist);
        if (nf != nh) {
            log_warn("image: the image %s (%s) has mismatched history and fslayer cardinality (%zu != %zu)",
                     img_name(img), ij_str(img, "dockerImageReference"), nh, nf);
            json_decref(layers);
            return -1;
        }
        for (size_t i = 0; i < nf; i++) {
            const json_t *l = json_array_get(fs, nf - 1 - i);
            const char *compat = ij_ci_str(json_array_get(hist, nf - 1 - i), "v1Compatibility");
            json_t *c = json_loads(compat, JSON_DECODE_ANY, NULL);
            json_int_t size = json_is_object(c) ? json_integer_value(ij_ci_get(c, "size")) : 0;
            json_decref(c);
            json_array_append_new(layers, layer_new(ij_ci_str(l, "blobSum"), size, MT_SCHEMA1_LAYER));
        }
    } else if (sv == 2) {
        size_t i;
        json_t *l;
        json_array_foreach(ij_ci_get(m, "layers"), i, l) {
            json_array_append_new(layers, layer_new(ij_ci_str(l, "digest"), json_integer_value(ij_ci_get(l, "size")),
                                                    ij_ci_str(l, "mediaType")));
        }
    } else {
        log_warn("image: unrecognized container image manifest schema %lld for \"%s\" (%s)", (long long)sv,
                 img_name(img), ij_str(img, "dockerImageReference"));
        json_decref(layers);
        return -1;
    }
    json_object_set_new(img, "dockerImageLayers", layers);
    json_object_set_new(ij_obj(ij_obj(img, "metadata"), "annotations"), ANN_LAYERS_ORDER, json_string("ascending"));
    return 0;
}

/* ---- step 6: metadata; 0 or -1 (logged) ---- */
static int metadata_from_manifest(json_t *img, json_t *dm, const json_t *m, json_int_t sv)
{
    if (sv == 1) {
        json_object_set_new(img, "dockerImageManifestMediaType", json_string(MT_SCHEMA1));
        json_t *hist = ij_ci_get(m, "history");
        if (!json_array_size(hist)) {
            log_warn("image: the image %s (%s) has a schema 1 manifest, but it doesn't have history", img_name(img),
                     ij_str(img, "dockerImageReference"));
            return -1;
        }
        json_error_t jerr;
        json_t *c = json_loads(ij_ci_str(json_array_get(hist, 0), "v1Compatibility"), JSON_DECODE_ANY, &jerr);
        if (!json_is_object(c)) {
            log_warn("image: %s: cannot parse v1Compatibility: %s", img_name(img), jerr.text);
            json_decref(c);
            return -1;
        }
        dmeta_from_config(dm, c, true);
        json_decref(c);
        return 0;
    }
    const char *mt = ij_ci_str(m, "mediaType");
    if (!*mt)
        mt = ij_str(img, "dockerImageManifestMediaType");
    if (!*mt)
        mt = MT_SCHEMA2;
    json_object_set_new(img, "dockerImageManifestMediaType", json_string(mt));
    const char *cfg = ij_str(img, "dockerImageConfig");
    if (!*cfg) {
        log_warn("image: %s: dockerImageConfig must not be empty for manifest type \"%s\"", img_name(img), mt);
        return -1;
    }
    json_error_t jerr;
    json_t *c = json_loads(cfg, JSON_DECODE_ANY, &jerr);
    if (!json_is_object(c)) {
        log_warn("image: %s: failed to parse dockerImageConfig: %s", img_name(img), jerr.text);
        json_decref(c);
        return -1;
    }
    dmeta_from_config(dm, c, false);
    json_decref(c);
    json_object_set_new(dm, "Id", json_string(ij_ci_str(ij_ci_get(m, "config"), "digest")));
    return 0;
}

/* ---- step 7: size ---- */
static void compute_size(json_t *img, json_t *dm, const json_t *m, json_int_t sv)
{
    json_int_t size = 0;
    json_t *seen = json_object();
    if (sv == 2) {
        json_object_set_new(seen, ij_ci_str(ij_ci_get(m, "config"), "digest"), json_true());
        size = (json_int_t)strlen(ij_str(img, "dockerImageConfig"));
    }
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(img, "dockerImageLayers"), i, l) {
        const char *n = ij_str(l, "name");
        if (json_object_get(seen, n))
            continue;
        json_object_set_new(seen, n, json_true());
        size += ij_int(l, "size");
    }
    json_decref(seen);
    if (size)
        json_object_set_new(dm, "Size", json_integer(size));
    else
        json_object_del(dm, "Size");
}

static bool is_list_type(const char *mt)
{
    return !strcmp(mt, MT_LIST) || !strcmp(mt, MT_OCI_INDEX);
}

void image_fill_metadata(json_t *img, const char *now)
{
    const char *raw = ij_str(img, "dockerImageManifest");
    if (!*raw)
        return;
    reorder_layers(img);
    const char *version = ij_str(img, "dockerImageMetadataVersion");
    json_t *dm = dmeta_decode(json_object_get(img, "dockerImageMetadata"), version);
    json_t *m = NULL;
    if (json_array_size(json_object_get(img, "dockerImageLayers")) && ij_int(dm, "Size") > 0 &&
        *ij_str(img, "dockerImageManifestMediaType"))
        goto out; /* already filled */
    json_error_t jerr;
    m = json_loads(raw, 0, &jerr);
    if (!json_is_object(m)) {
        log_warn("image: %s: unable to parse the manifest: %s", img_name(img), jerr.text);
        goto out;
    }
    if (is_list_type(ij_ci_str(m, "mediaType"))) {
        json_object_set_new(dm, "Id", json_string(img_name(img)));
        json_t *nowj = json_string(now ? now : "");
        json_object_set_new(dm, "Created", ij_time(nowj));
        json_decref(nowj);
        goto store;
    }
    json_int_t sv = json_integer_value(ij_ci_get(m, "schemaVersion"));
    if (!json_array_size(json_object_get(img, "dockerImageLayers")) && layers_from_manifest(img, m, sv) != 0)
        goto store;
    if (sv != 1 && sv != 2) {
        log_warn("image: unrecognized container image manifest schema %lld for \"%s\"", (long long)sv, img_name(img));
        goto store;
    }
    if (metadata_from_manifest(img, dm, m, sv) != 0)
        goto store;
    compute_size(img, dm, m, sv);
store:
    json_object_set_new(img, "dockerImageMetadata", dmeta_encode(dm, version));
out:
    json_decref(m);
    json_decref(dm);
}

/* ---- manifest lists (§1.4 step 2) ---- */
void img_fill_manifest_list(json_t *img)
{
    const char *raw = ij_str(img, "dockerImageManifest");
    if (!*raw)
        return;
    char *mt = ij_media_base(ij_str(img, "dockerImageManifestMediaType"));
    json_t *m = NULL;
    if (!is_list_type(mt))
        goto out;
    m = json_loads(raw, 0, NULL);
    if (!json_is_object(m))
        goto out;
    const char *bmt = ij_ci_str(m, "mediaType");
    if (!strcmp(mt, MT_LIST) && strcmp(bmt, MT_LIST))
        goto out;
    if (!strcmp(mt, MT_OCI_INDEX) &&
        ((*bmt && strcmp(bmt, MT_OCI_INDEX)) || ij_ci_get(m, "config") || ij_ci_get(m, "layers")))
        goto out;
    json_t *list = json_array();
    size_t i;
    json_t *d;
    json_array_foreach(ij_ci_get(m, "manifests"), i, d) {
        json_t *p = ij_ci_get(d, "platform");
        json_t *e = json_pack("{s:s, s:s, s:I, s:s, s:s}", "digest", ij_ci_str(d, "digest"), "mediaType",
                              ij_ci_str(d, "mediaType"), "manifestSize", (json_int_t)json_integer_value(ij_ci_get(d, "size")),
                              "architecture", ij_ci_str(p, "architecture"), "os", ij_ci_str(p, "os"));
        if (*ij_ci_str(p, "variant"))
            json_object_set_new(e, "variant", json_string(ij_ci_str(p, "variant")));
        json_array_append_new(list, e);
    }
    ij_set_or_del(img, "dockerImageManifests", list);
out:
    json_decref(m);
    free(mt);
}

bool img_manifest_matches(const char *name, const char *old_mt, const char *raw)
{
    if (!digest_valid(name) || !str_has_prefix(name, "sha256:"))
        return false;
    json_t *m = json_loads(raw, 0, NULL);
    bool ok = false;
    char dg[72];
    if (!json_is_object(m))
        goto out;
    const char *bmt = ij_ci_str(m, "mediaType");
    if (!strcmp(old_mt, MT_SCHEMA2)) {
        if (strcmp(bmt, MT_SCHEMA2))
            goto out;
        img_sha256_digest(raw, strlen(raw), dg);
        ok = !strcmp(dg, name);
    } else if (!strcmp(old_mt, MT_OCI)) {
        if (*bmt && strcmp(bmt, MT_OCI))
            goto out;
        img_sha256_digest(raw, strlen(raw), dg);
        ok = !strcmp(dg, name);
    } else if (!strcmp(old_mt, MT_SCHEMA1) || !*old_mt) {
        size_t plen = 0;
        char *p = reg_schema1_payload(raw, strlen(raw), &plen);
        if (p) {
            img_sha256_digest(p, plen, dg);
            ok = !strcmp(dg, name);
            free(p);
        }
    }
out:
    json_decref(m);
    return ok;
}
