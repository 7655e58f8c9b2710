/* ImageStreamImport requests: v1 defaulting (§0.6), validation (§4.1), the import
 * allow-list (§4.2) and the target stream's consistency checks (§4.3). */
#include <stdlib.h>
#include <string.h>

#include "api/objectmeta.h"
#include "image/isi_int.h"
#include "util/util.h"

#define NAME_RE "[a-z0-9]+(?:[._-][a-z0-9]+)*"

static void default_policies(json_t *entry, const char *default_mode)
{
    if (!json_is_object(entry))
        return;
    json_t *ip = json_object_get(entry, "importPolicy");
    if (!json_is_object(ip)) {
        ip = json_object();
        json_object_set_new(entry, "importPolicy", ip);
    }
    if (!*ij_str(ip, "importMode"))
        json_object_set_new(ip, "importMode", json_string(default_mode ? default_mode : "Legacy"));
    json_t *rp = json_object_get(entry, "referencePolicy");
    if (!json_is_object(rp)) {
        rp = json_object();
        json_object_set_new(entry, "referencePolicy", rp);
    }
    if (!*ij_str(rp, "type"))
        json_object_set_new(rp, "type", json_string("Source"));
}

void isi_default(json_t *isi, const char *default_mode)
{
    json_object_del(isi, "status");
    json_t *spec = json_object_get(isi, "spec");
    if (!json_is_object(spec))
        return;
    size_t i;
    json_t *img;
    json_array_foreach(json_object_get(spec, "images"), i, img) {
        default_policies(img, default_mode);
        json_t *to = json_object_get(img, "to");
        if (json_is_object(to))
            continue;
        docker_ref_t r;
        const char *msg;
        const char *name = ij_str(json_object_get(img, "from"), "name");
        if (*name && docker_ref_parse(name, &r, &msg) == 0 && *r.tag)
            json_object_set_new(img, "to", json_pack("{s:s}", "name", r.tag));
        else
            json_object_set_new(img, "to", json_null());
        docker_ref_free(&r);
    }
    json_t *repo = json_object_get(spec, "repository");
    if (json_is_object(repo))
        default_policies(repo, default_mode);
}

static void mode_rule(const json_t *entry, const char *prefix, ferrs_t *errs)
{
    const char *m = ij_str(json_object_get(entry, "importPolicy"), "importMode");
    if (*m && strcmp(m, "Legacy") && strcmp(m, "PreserveOriginal")) {
        char *f = xasprintf("%s.importPolicy.importMode", prefix);
        ferrs_add(errs, FERR_INVALID, f, json_string(m),
                  "invalid import mode, valid modes are '', 'Legacy', 'PreserveOriginal'");
        free(f);
    }
}

static void image_rules(const json_t *img, size_t i, ferrs_t *errs)
{
    char prefix[64], f[96];
    snprintf(prefix, sizeof prefix, "spec.images[%zu]", i);
    const json_t *from = json_object_get(img, "from");
    const char *kind = ij_str(from, "kind"), *name = ij_str(from, "name");
    if (strcmp(kind, "DockerImage")) {
        snprintf(f, sizeof f, "%s.from.kind", prefix);
        ferrs_add(errs, FERR_INVALID, f, json_string(kind), "only DockerImage is supported");
        return;
    }
    const json_t *to = json_object_get(img, "to");
    if (json_is_object(to) && !*ij_str(to, "name")) {
        snprintf(f, sizeof f, "%s.to.name", prefix);
        ferrs_add(errs, FERR_INVALID, f, json_string(""), "the name of the target tag must be specified");
    }
    snprintf(f, sizeof f, "%s.from.name", prefix);
    if (!*name) {
        ferrs_add(errs, FERR_REQUIRED, f, NULL, NULL);
    } else if (strcmp(name, "*")) {
        docker_ref_t r;
        const char *msg;
        if (docker_ref_parse(name, &r, &msg) != 0)
            ferrs_add(errs, FERR_INVALID, f, json_string(name), "%s", msg);
        docker_ref_free(&r);
    }
    mode_rule(img, prefix, errs);
}

static void repository_rules(const json_t *repo, ferrs_t *errs)
{
    const json_t *from = json_object_get(repo, "from");
    const char *kind = ij_str(from, "kind"), *name = ij_str(from, "name");
    if (strcmp(kind, "DockerImage")) {
        ferrs_add(errs, FERR_INVALID, "spec.repository.from.kind", json_string(kind), "only DockerImage is supported");
    } else if (!*name) {
        ferrs_add(errs, FERR_REQUIRED, "spec.repository.from.name", NULL, "container image references require a name");
    } else {
        docker_ref_t r;
        const char *msg;
        if (docker_ref_parse(name, &r, &msg) != 0)
            ferrs_add(errs, FERR_INVALID, "spec.repository.from.name", json_string(name), "%s", msg);
        else if (*r.tag || *r.id)
            ferrs_add(errs, FERR_INVALID, "spec.repository.from.name", json_string(name),
                      "you must specify an image repository, not a tag or ID");
        docker_ref_free(&r);
    }
    mode_rule(repo, "spec.repository", errs);
}

int isi_validate(const json_t *isi, apierr_t *err)
{
    ferrs_t errs = FERRS_INIT;
    const json_t *spec = json_object_get(isi, "spec");
    const json_t *images = json_object_get(spec, "images"), *repo = json_object_get(spec, "repository");
    size_t i;
    json_t *img;
    json_array_foreach(images, i, img) image_rules(img, i, &errs);
    if (json_is_object(repo))
        repository_rules(repo, &errs);
    if (!json_array_size(images) && !json_is_object(repo))
        ferrs_add(&errs, FERR_INVALID, "spec.images", json_string("null"),
                  "you must specify at least one image or a repository import");
    const json_t *meta = json_object_get(isi, "metadata");
    const char *name = ij_str(meta, "name");
    if (*name && !img_path_segment_errors(name, false, "metadata.name", &errs) && !img_name_component_ok(name))
        ferrs_add(&errs, FERR_INVALID, "metadata.name", json_string(name), "must match \"%s\"", NAME_RE);
    validate_object_meta(meta, true, &errs);
    int rc = 0;
    if (errs.n) {
        apierr_invalid(err, "ImageStreamImport." ISI_GROUP, "ImageStreamImport", ISI_GROUP, name, &errs);
        rc = -1;
    }
    ferrs_free(&errs);
    return rc;
}

int isi_check_allowed(const json_t *isi, const char *allowed, apierr_t *err)
{
    if (!allowed)
        return 0;
    ferrs_t errs = FERRS_INIT;
    const json_t *spec = json_object_get(isi, "spec");
    size_t i;
    json_t *img;
    json_array_foreach(json_object_get(spec, "images"), i, img) {
        const char *name = ij_str(json_object_get(img, "from"), "name");
        bool insecure = ij_bool(json_object_get(img, "importPolicy"), "insecure");
        isi_ref_t r;
        const char *msg;
        if (!strcmp(name, "*") || isi_ref_parse(name, insecure, &r, &msg) != 0)
            continue;
        if (!isi_host_listed(allowed, &r)) {
            char f[64];
            snprintf(f, sizeof f, "spec.images[%zu].from.name", i);
            ferrs_add(&errs, FERR_FORBIDDEN, f, NULL,
                      "importing images from registry \"%s\" is forbidden: registry \"%s\" not allowed by %s%s",
                      r.host_port, r.host_port, *allowed ? "whitelist: " : "empty whitelist", allowed);
        }
        isi_ref_free(&r);
    }
    const json_t *repo = json_object_get(spec, "repository");
    if (json_is_object(repo)) {
        isi_ref_t r;
        const char *msg;
        const char *name = ij_str(json_object_get(repo, "from"), "name");
        bool insecure = ij_bool(json_object_get(repo, "importPolicy"), "insecure");
        if (isi_ref_parse(name, insecure, &r, &msg) == 0) {
            if (!isi_host_listed(allowed, &r))
                ferrs_add(&errs, FERR_FORBIDDEN, "spec.repository.from.name", NULL,
                          "importing images from registry \"%s\" is forbidden: registry \"%s\" not allowed by %s%s",
                          r.host_port, r.host_port, *allowed ? "whitelist: " : "empty whitelist", allowed);
            isi_ref_free(&r);
        }
    }
    int rc = 0;
    if (errs.n) {
        const char *name = ij_str(json_object_get(isi, "metadata"), "name");
        apierr_invalid(err, "ImageStreamImport." ISI_GROUP, "ImageStreamImport", ISI_GROUP, name, &errs);
        rc = -1;
    }
    ferrs_free(&errs);
    return rc;
}

int isi_check_stream(const json_t *isi, const json_t *stream, apierr_t *err)
{
    const json_t *meta = json_object_get(isi, "metadata");
    const char *name = ij_str(meta, "name"), *rv = ij_str(meta, "resourceVersion"), *uid = ij_str(meta, "uid");
    if (!stream) {
        if (*rv || *uid)
            return apierr_not_found(err, "imagestreams", ISI_GROUP, name);
        return 0;
    }
    const json_t *smeta = json_object_get(stream, "metadata");
    if (*rv && strcmp(rv, ij_str(smeta, "resourceVersion"))) {
        char *why = xasprintf("the image stream was updated from \"%s\" to \"%s\"", rv, ij_str(smeta, "resourceVersion"));
        apierr_conflict(err, "imagestream", ISI_GROUP, name, why);
        free(why);
        return -1;
    }
    if (*uid && strcmp(uid, ij_str(smeta, "uid")))
        return apierr_not_found(err, "imagestream", ISI_GROUP, name);
    return 0;
}
