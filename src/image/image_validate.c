/* Image validation (§1.7) and signature validation (§2.5). Object-meta rules beyond the
 * name (labels, annotations keys, finalizers, ...) are api/'s; the Image name rule is
 * only the path-segment one. */
#include "image/image_int.h"
#include "util/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* OCI digest, unanchored: some `<alg>:<32+ hex>` occurs in s. A single-component
 * algorithm suffix ([A-Za-z][A-Za-z0-9]*) right before ':' is enough for a match. */
static bool oci_digest_found(const char *s)
{
    for (const char *c = strchr(s, ':'); c; c = strchr(c + 1, ':')) {
        size_t hex = 0;
        while (isxdigit((unsigned char)c[1 + hex]))
            hex++;
        if (hex < 32)
            continue;
        for (const char *p = c; p > s && isascii((unsigned char)p[-1]) && isalnum((unsigned char)p[-1]); p--)
            if (isalpha((unsigned char)p[-1]))
                return true;
    }
    return false;
}

/* ^ *([A-Za-z0-9][A-Za-z0-9!#$&^_-]{0,126})/([A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}) *$ */
static bool media_part_ok(const char *s, size_t n, const char *extra)
{
    if (n == 0 || n > 127 || !isascii((unsigned char)s[0]) || !isalnum((unsigned char)s[0]))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!(isascii((unsigned char)s[i]) && isalnum((unsigned char)s[i])) && !strchr(extra, s[i]))
            return false;
    return true;
}

static bool media_type_ok(const char *s)
{
    while (*s == ' ')
        s++;
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ')
        n--;
    const char *slash = memchr(s, '/', n);
    if (!slash)
        return false;
    size_t a = slash - s;
    return media_part_ok(s, a, "!#$&^_-") && media_part_ok(slash + 1, n - a - 1, "!#$&^_.+-");
}

static void manifest_errors(const json_t *m, size_t i, ferrs_t *errs)
{
    char f[96];
    const char *d = ij_str(m, "digest"), *mt = ij_str(m, "mediaType");
    if (!oci_digest_found(d)) {
        snprintf(f, sizeof f, "dockerImageManifests[%zu].digest", i);
        ferrs_add(errs, FERR_INVALID, f, json_string(d), "digest does not conform with OCI image specification");
    }
    if (!media_type_ok(mt)) {
        snprintf(f, sizeof f, "dockerImageManifests[%zu].mediaType", i);
        ferrs_add(errs, FERR_INVALID, f, json_string(mt), "media type does not conform to RFC6838");
    }
    if (!*ij_str(m, "architecture")) {
        snprintf(f, sizeof f, "dockerImageManifests[%zu].architecture", i);
        ferrs_add(errs, FERR_REQUIRED, f, NULL, NULL);
    }
    if (!*ij_str(m, "os")) {
        snprintf(f, sizeof f, "dockerImageManifests[%zu].os", i);
        ferrs_add(errs, FERR_REQUIRED, f, NULL, NULL);
    }
    if (ij_int(m, "manifestSize") < 0) {
        snprintf(f, sizeof f, "dockerImageManifests[%zu].size", i);
        ferrs_add(errs, FERR_INVALID, f, json_integer(ij_int(m, "manifestSize")), "manifest size cannot be negative");
    }
}

/* The bad value of the layers rule prints with Go field names. */
static json_t *layers_go_value(const json_t *layers)
{
    json_t *a = json_array();
    size_t i;
    json_t *l;
    json_array_foreach(layers, i, l) {
        json_array_append_new(a, json_pack("{s:s, s:I, s:s}", "Name", ij_str(l, "name"), "LayerSize",
                                           (json_int_t)ij_int(l, "size"), "MediaType", ij_str(l, "mediaType")));
    }
    return a;
}

void image_validate(const image_ctx_t *ctx, json_t *obj, const json_t *old, ferrs_t *errs)
{
    const char *name = ij_str(json_object_get(obj, "metadata"), "name");
    if (*name)
        img_path_segment_errors(name, false, "metadata.name", errs);
    const char *ref = ij_str(obj, "dockerImageReference");
    if (!*ref) {
        ferrs_add(errs, FERR_REQUIRED, "dockerImageReference", NULL, NULL);
    } else {
        docker_ref_t r;
        const char *msg;
        if (docker_ref_parse(ref, &r, &msg) != 0)
            ferrs_add(errs, FERR_INVALID, "dockerImageReference", json_string(ref), "%s", msg);
        docker_ref_free(&r);
    }
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(obj, "signatures"), i, v) {
        char prefix[48];
        snprintf(prefix, sizeof prefix, "signatures[%zu].", i);
        image_signature_validate(v, prefix, errs);
    }
    json_t *manifests = json_object_get(obj, "dockerImageManifests");
    json_array_foreach(manifests, i, v) manifest_errors(v, i, errs);
    json_t *layers = json_object_get(obj, "dockerImageLayers");
    if (json_array_size(manifests) && json_array_size(layers))
        ferrs_add(errs, FERR_INVALID, "dockerImageLayers", layers_go_value(layers),
                  "dockerImageLayers should not be set when dockerImageManifests is set");
}

/* ---- signatures ---- */
static char *pf(const char *prefix, const char *field)
{
    return xasprintf("%s%s", prefix, field);
}

static void add(ferrs_t *errs, ferr_type_t t, const char *prefix, const char *field, json_t *v, const char *detail)
{
    char *f = pf(prefix, field);
    if (detail)
        ferrs_add(errs, t, f, v, "%s", detail);
    else
        ferrs_add(errs, t, f, v, NULL);
    free(f);
}

static json_t *conditions_go_value(const json_t *conds)
{
    json_t *a = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c) {
        json_array_append_new(a, json_pack("{s:s, s:s, s:o, s:o, s:s, s:s}", "Type", ij_str(c, "type"), "Status",
                                           ij_str(c, "status"), "LastProbeTime", ij_time(json_object_get(c, "lastProbeTime")),
                                           "LastTransitionTime", ij_time(json_object_get(c, "lastTransitionTime")),
                                           "Reason", ij_str(c, "reason"), "Message", ij_str(c, "message")));
    }
    return a;
}

static int64_t probe_time(const json_t *c)
{
    int64_t t;
    return ij_time_secs(json_object_get(c, "lastProbeTime"), &t) ? t : INT64_MIN;
}

void image_signature_validate(const json_t *sig, const char *prefix, ferrs_t *errs)
{
    prefix = prefix ? prefix : "";
    const json_t *meta = json_object_get(sig, "metadata");
    const char *name = ij_str(meta, "name");
    char *f = pf(prefix, "metadata.name");
    if (!*name)
        ferrs_add(errs, FERR_REQUIRED, f, NULL, "name or generateName is required");
    else
        img_path_segment_errors(name, false, f, errs);
    free(f);
    if (*ij_str(meta, "namespace"))
        add(errs, FERR_FORBIDDEN, prefix, "metadata.namespace", NULL, "not allowed on this type");
    if (json_object_size(json_object_get(meta, "labels")))
        add(errs, FERR_FORBIDDEN, prefix, "metadata.labels", NULL, "signature labels cannot be set");
    if (json_object_size(json_object_get(meta, "annotations")))
        add(errs, FERR_FORBIDDEN, prefix, "metadata.annotations", NULL, "signature annotations cannot be set");
    const char *at = strchr(name, '@');
    if (!at || at == name || !at[1] || strchr(at + 1, '@'))
        add(errs, FERR_INVALID, prefix, "metadata.name", json_string(name),
            "name must be of format <imageName>@<signatureName>");
    if (!*ij_str(sig, "type"))
        add(errs, FERR_REQUIRED, prefix, "type", NULL, NULL);
    if (!*ij_str(sig, "content"))
        add(errs, FERR_REQUIRED, prefix, "content", NULL, NULL);

    /* Intended pairing rule (§2.5): the reference dereferences NULL for some lists. */
    const json_t *trusted = NULL;
    bool for_image = false;
    size_t i;
    json_t *c;
    json_t *conds = json_object_get(sig, "conditions");
    json_array_foreach(conds, i, c) {
        const char *t = ij_str(c, "type");
        if (!strcmp(t, "Trusted") && (!trusted || probe_time(c) >= probe_time(trusted)))
            trusted = c;
        else if (!strcmp(t, "ForImage"))
            for_image = true;
    }
    if (trusted && !for_image)
        add(errs, FERR_INVALID, prefix, "conditions", conditions_go_value(conds), "missing \"ForImage\" condition type");
    else if (for_image && !trusted)
        add(errs, FERR_INVALID, prefix, "conditions", conditions_go_value(conds), "missing \"Trusted\" condition type");
    if (!trusted || !strcmp(ij_str(trusted, "status"), "Unknown")) {
        static const char *detail = "must be unset for unknown signature state";
        const char *ident = ij_str(sig, "imageIdentity");
        if (*ident)
            add(errs, FERR_INVALID, prefix, "imageIdentity", json_string(ident), detail);
        json_t *claims = json_object_get(sig, "signedClaims");
        if (json_object_size(claims))
            add(errs, FERR_INVALID, prefix, "signedClaims", json_deep_copy(claims), detail);
        json_t *by = json_object_get(sig, "issuedBy");
        if (json_is_object(by))
            add(errs, FERR_INVALID, prefix, "issuedBy",
                json_pack("{s:s, s:s}", "Organization", ij_str(by, "organization"), "CommonName", ij_str(by, "commonName")),
                detail);
        json_t *to = json_object_get(sig, "issuedTo");
        if (json_is_object(to))
            add(errs, FERR_INVALID, prefix, "issuedTo",
                json_pack("{s:s, s:s, s:s}", "Organization", ij_str(to, "organization"), "CommonName",
                          ij_str(to, "commonName"), "PublicKeyID", ij_str(to, "publicKeyID")),
                detail);
    }
}
