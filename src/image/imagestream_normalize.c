/* ImageStream wire shape (§0.4), computed repositories and output decoration (§3.7). */
#include "image/image_int.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

const char *is_ns(const json_t *obj) { return ij_str(json_object_get(obj, "metadata"), "namespace"); }
const char *is_name(const json_t *obj) { return ij_str(json_object_get(obj, "metadata"), "name"); }

json_t *is_spec_tag(const json_t *obj, const char *tag)
{
    return ij_find(json_object_get(json_object_get(obj, "spec"), "tags"), "name", tag);
}

json_t *is_status_tag(const json_t *obj, const char *tag)
{
    return ij_find(json_object_get(json_object_get(obj, "status"), "tags"), "tag", tag);
}

static void put_str(json_t *dst, const json_t *src, const char *key, bool always)
{
    const char *s = ij_str(src, key);
    if (always || *s)
        json_object_set_new(dst, key, json_string(s));
}

static const char *default_mode(const image_ctx_t *ctx)
{
    const char *m = ctx && ctx->cfg ? ctx->cfg->default_import_mode : NULL;
    return m && *m ? m : "Legacy";
}

static json_t *norm_spec_tag(const image_ctx_t *ctx, const json_t *t)
{
    json_t *o = json_object();
    put_str(o, t, "name", true);
    json_t *ann = json_object_get(t, "annotations");
    json_object_set_new(o, "annotations", json_is_object(ann) ? json_deep_copy(ann) : json_null());
    json_t *from = json_object_get(t, "from");
    if (json_is_object(from)) {
        static const char *const keys[] = {"kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"};
        json_t *f = json_object();
        for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
            put_str(f, from, keys[i], false);
        json_object_set_new(o, "from", f);
    }
    if (ij_bool(t, "reference"))
        json_object_set_new(o, "reference", json_true());
    json_t *gen = json_object_get(t, "generation");
    json_object_set_new(o, "generation", json_is_integer(gen) ? json_incref(gen) : json_null());
    json_t *ip = json_object_get(t, "importPolicy"), *p = json_object();
    if (ij_bool(ip, "insecure"))
        json_object_set_new(p, "insecure", json_true());
    if (ij_bool(ip, "scheduled"))
        json_object_set_new(p, "scheduled", json_true());
    const char *mode = ij_str(ip, "importMode");
    json_object_set_new(p, "importMode", json_string(*mode ? mode : default_mode(ctx)));
    json_object_set_new(o, "importPolicy", p);
    const char *rp = ij_str(json_object_get(t, "referencePolicy"), "type");
    json_object_set_new(o, "referencePolicy", json_pack("{s:s}", "type", *rp ? rp : "Source"));
    return o;
}

static json_t *norm_item(const json_t *e)
{
    json_t *o = json_object();
    json_object_set_new(o, "created", ij_time(json_object_get(e, "created")));
    put_str(o, e, "dockerImageReference", true);
    put_str(o, e, "image", true);
    json_object_set_new(o, "generation", json_integer(ij_int(e, "generation")));
    return o;
}

static json_t *norm_condition(const json_t *c)
{
    json_t *o = json_object();
    put_str(o, c, "type", true);
    put_str(o, c, "status", true);
    json_object_set_new(o, "lastTransitionTime", ij_time(json_object_get(c, "lastTransitionTime")));
    put_str(o, c, "reason", false);
    put_str(o, c, "message", false);
    json_object_set_new(o, "generation", json_integer(ij_int(c, "generation")));
    return o;
}

static json_t *norm_status_tag(const json_t *t)
{
    json_t *o = json_object();
    put_str(o, t, "tag", true);
    json_t *items = json_array(), *conds = json_array(), *v;
    size_t i;
    json_array_foreach(json_object_get(t, "items"), i, v) json_array_append_new(items, norm_item(v));
    json_array_foreach(json_object_get(t, "conditions"), i, v) json_array_append_new(conds, norm_condition(v));
    if (json_array_size(items))
        json_object_set_new(o, "items", items);
    else {
        json_decref(items);
        json_object_set_new(o, "items", json_null());
    }
    ij_set_or_del(o, "conditions", conds);
    return o;
}

static json_t *norm_list(const image_ctx_t *ctx, const json_t *arr, const char *key, bool spec)
{
    json_t *sorted = ij_sorted_unique(arr, key), *out = json_array(), *v;
    size_t i;
    json_array_foreach(sorted, i, v) json_array_append_new(out, spec ? norm_spec_tag(ctx, v) : norm_status_tag(v));
    json_decref(sorted);
    return out;
}

void imagestream_normalize(const image_ctx_t *ctx, json_t *obj)
{
    if (!json_is_object(obj))
        return;
    json_t *spec_in = json_object_get(obj, "spec"), *status_in = json_object_get(obj, "status");
    json_t *spec = json_object(), *status = json_object();
    json_object_set_new(spec, "lookupPolicy",
                        json_pack("{s:b}", "local", ij_bool(json_object_get(spec_in, "lookupPolicy"), "local")));
    put_str(spec, spec_in, "dockerImageRepository", false);
    ij_set_or_del(spec, "tags", norm_list(ctx, json_object_get(spec_in, "tags"), "name", true));
    put_str(status, status_in, "dockerImageRepository", true);
    put_str(status, status_in, "publicDockerImageRepository", false);
    ij_set_or_del(status, "tags", norm_list(ctx, json_object_get(status_in, "tags"), "tag", false));
    json_object_set_new(obj, "spec", spec);
    json_object_set_new(obj, "status", status); /* after spec: Go field order */
}

/* ---- computed repositories (§3.7) ---- */
static char *repo_string(const char *registry, const char *ns, const char *name)
{
    bool hub = !strcmp(registry, "docker.io") || !strcmp(registry, "index.docker.io") ||
               !strcmp(registry, "registry-1.docker.io");
    docker_ref_t r = {(char *)registry, (char *)(*ns || !hub ? ns : "library"), (char *)name, "", ""};
    return docker_ref_exact(&r);
}

char *is_internal_repository(const image_ctx_t *ctx, const json_t *obj, bool default_ns)
{
    const char *h = ctx && ctx->cfg ? ctx->cfg->registry_hostname : NULL;
    if (!h || !*h)
        return xstrdup(ij_str(json_object_get(obj, "spec"), "dockerImageRepository"));
    const char *ns = is_ns(obj);
    return repo_string(h, *ns || !default_ns ? ns : "default", is_name(obj));
}

char *is_public_repository(const image_ctx_t *ctx, const json_t *obj)
{
    const char *h = ctx && ctx->cfg ? ctx->cfg->public_registry_hostname : NULL;
    if (!h || !*h)
        return xstrdup("");
    return repo_string(h, is_ns(obj), is_name(obj));
}

/* Legacy values with a tag or ID are printed without them. */
static void strip_tag_id(json_t *o, const char *key)
{
    const char *v = ij_str(o, key);
    docker_ref_t r;
    const char *msg;
    if (*v && docker_ref_parse(v, &r, &msg) == 0) {
        if (*r.tag || *r.id) {
            char *repo = docker_ref_repository(&r);
            json_object_set_new(o, key, json_string(repo));
            free(repo);
        }
        docker_ref_free(&r);
    }
}

/* status.dockerImageRepository / publicDockerImageRepository as computed (§3.7). */
void is_set_status_repos(const image_ctx_t *ctx, json_t *obj, json_t *status, bool default_ns)
{
    char *repo = is_internal_repository(ctx, obj, default_ns), *pub = is_public_repository(ctx, obj);
    json_object_set_new(status, "dockerImageRepository", json_string(repo));
    if (*pub)
        json_object_set_new(status, "publicDockerImageRepository", json_string(pub));
    else
        json_object_del(status, "publicDockerImageRepository");
    free(repo);
    free(pub);
}

void imagestream_decorate(const image_ctx_t *ctx, json_t *obj)
{
    if (!json_is_object(obj))
        return;
    json_t *status = ij_obj(obj, "status");
    is_set_status_repos(ctx, obj, status, false);
    strip_tag_id(ij_obj(obj, "spec"), "dockerImageRepository");
    strip_tag_id(status, "dockerImageRepository");
}
