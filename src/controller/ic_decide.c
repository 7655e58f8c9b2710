/* ic_decide: the controller's pure decisions (§6.1, §6.2 of
 * virtual-resources-and-import.md) and the reference keys of push-triggered imports. */
#include "controller/ic_decide.h"

#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "util/util.h"

static const char *str_of(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static const json_t *spec_tags(const json_t *stream)
{
    return json_object_get(json_object_get(stream, "spec"), "tags");
}

static const json_t *status_tag(const json_t *stream, const char *tag)
{
    const json_t *tags = json_object_get(json_object_get(stream, "status"), "tags");
    size_t i;
    const json_t *t;
    json_array_foreach(tags, i, t)
        if (json_is_object(t) && !strcmp(str_of(t, "tag"), tag))
            return t;
    return NULL;
}

static int64_t int_of(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

bool ic_tag_importable(const json_t *spec_tag)
{
    const json_t *from = json_object_get(spec_tag, "from");
    return json_is_object(from) && !strcmp(str_of(from, "kind"), "DockerImage") &&
           !json_is_true(json_object_get(spec_tag, "reference"));
}

int64_t ic_observed_generation(const json_t *stream, const char *tag)
{
    const json_t *st = status_tag(stream, tag);
    if (!st)
        return 0;
    int64_t gen = 0;
    const json_t *items = json_object_get(st, "items");
    if (json_array_size(items) > 0)
        gen = int_of(json_array_get(items, 0), "generation");
    size_t i;
    const json_t *cond;
    json_array_foreach(json_object_get(st, "conditions"), i, cond) {
        if (strcmp(str_of(cond, "type"), "ImportSuccess"))
            continue;
        if (int_of(cond, "generation") > gen)
            gen = int_of(cond, "generation");
        break;   /* the first ImportSuccess condition only */
    }
    return gen;
}

/* nil_counts: a tag without a generation needs import (only when building the request). */
static bool needs_import(const json_t *stream, const json_t *tag, bool nil_counts)
{
    if (!ic_tag_importable(tag))
        return false;
    const json_t *g = json_object_get(tag, "generation");
    if (!json_is_integer(g))
        return nil_counts;
    return json_integer_value(g) > ic_observed_generation(stream, str_of(tag, "name"));
}

bool ic_tag_needs_import(const json_t *stream, const json_t *spec_tag)
{
    return needs_import(stream, spec_tag, false);
}

ic_import_t ic_needs_import(const json_t *stream)
{
    const json_t *ann = json_object_get(json_object_get(stream, "metadata"), "annotations");
    const json_t *tags = spec_tags(stream);
    size_t i;
    const json_t *t;
    if (!*str_of(ann, IC_REPO_CHECK_ANNOTATION)) {
        if (*str_of(json_object_get(stream, "spec"), "dockerImageRepository"))
            return IC_IMPORT_FULL;
        json_array_foreach(tags, i, t)
            if (ic_tag_importable(t))
                return IC_IMPORT_PARTIAL;
    }
    json_array_foreach(tags, i, t)
        if (ic_tag_needs_import(stream, t))
            return IC_IMPORT_PARTIAL;
    return IC_IMPORT_NONE;
}

static json_t *copy_or_empty(const json_t *v)
{
    return json_is_object(v) ? json_deep_copy(v) : json_object();
}

json_t *ic_build_request(const json_t *stream)
{
    ic_import_t kind = ic_needs_import(stream);
    if (kind == IC_IMPORT_NONE)
        return NULL;
    const json_t *meta = json_object_get(stream, "metadata");
    const json_t *spec = json_object_get(stream, "spec");
    json_t *images = json_array();
    size_t i;
    const json_t *t;
    json_array_foreach(spec_tags(stream), i, t) {
        if (!(kind == IC_IMPORT_FULL ? ic_tag_importable(t) : needs_import(stream, t, true)))
            continue;
        const json_t *from = json_object_get(t, "from");
        json_array_append_new(
            images, json_pack("{s:{s:s,s:s},s:{s:s},s:o,s:o}", "from", "kind", "DockerImage", "name",
                              str_of(from, "name"), "to", "name", str_of(t, "name"), "importPolicy",
                              copy_or_empty(json_object_get(t, "importPolicy")), "referencePolicy",
                              copy_or_empty(json_object_get(t, "referencePolicy"))));
    }
    const char *repo = str_of(spec, "dockerImageRepository");
    bool with_repo = kind == IC_IMPORT_FULL && *repo;
    if (json_array_size(images) == 0 && !with_repo) {
        json_decref(images);
        return NULL;
    }
    json_t *m = json_pack("{s:s,s:s}", "name", str_of(meta, "name"), "namespace", str_of(meta, "namespace"));
    if (*str_of(meta, "resourceVersion"))
        json_object_set_new(m, "resourceVersion", json_string(str_of(meta, "resourceVersion")));
    if (*str_of(meta, "uid"))
        json_object_set_new(m, "uid", json_string(str_of(meta, "uid")));
    json_t *ispec = json_pack("{s:b}", "import", 1);
    if (json_array_size(images))
        json_object_set_new(ispec, "images", images);
    else
        json_decref(images);
    if (with_repo) {
        const json_t *ann = json_object_get(meta, "annotations");
        bool insecure = !strcmp(str_of(ann, IC_INSECURE_ANNOTATION), "true");
        json_object_set_new(ispec, "repository",
                            json_pack("{s:{s:s,s:s},s:{s:b}}", "from", "kind", "DockerImage", "name", repo,
                                      "importPolicy", "insecure", insecure));
    }
    return json_pack("{s:s,s:s,s:o,s:o}", "kind", "ImageStreamImport", "apiVersion", "image.openshift.io/v1",
                     "metadata", m, "spec", ispec);
}

size_t ic_force_tags(json_t *stream, const char *const *names, size_t n)
{
    int64_t next = int_of(json_object_get(stream, "metadata"), "generation") + 1;
    size_t bumped = 0;
    size_t i;
    json_t *t;
    json_array_foreach(spec_tags(stream), i, t) {
        if (!ic_tag_importable(t))
            continue;
        for (size_t k = 0; k < n; k++)
            if (!strcmp(names[k], str_of(t, "name"))) {
                json_object_set_new(t, "generation", json_integer(next));
                bumped++;
                break;
            }
    }
    return bumped;
}

/* A digest reference whose import already succeeded for its current generation never
 * changes upstream: re-checking it would be a wasted request. */
static bool digest_already_imported(const json_t *stream, const json_t *tag, const docker_ref_t *ref)
{
    if (!*ref->id)
        return false;
    const json_t *st = status_tag(stream, str_of(tag, "name"));
    const json_t *items = json_object_get(st, "items");
    if (json_array_size(items) == 0)
        return false;
    return int_of(json_array_get(items, 0), "generation") == int_of(tag, "generation");
}

json_t *ic_scheduled_tags(const json_t *stream)
{
    json_t *out = json_array();
    size_t i;
    const json_t *t;
    json_array_foreach(spec_tags(stream), i, t) {
        if (!ic_tag_importable(t) || !json_is_true(json_object_get(json_object_get(t, "importPolicy"), "scheduled")))
            continue;
        docker_ref_t ref;
        memset(&ref, 0, sizeof ref);
        const char *msg = NULL;
        if (docker_ref_parse(str_of(json_object_get(t, "from"), "name"), &ref, &msg) == 0 &&
            !digest_already_imported(stream, t, &ref))
            json_array_append_new(out, json_string(str_of(t, "name")));
        docker_ref_free(&ref);
    }
    return out;
}

json_t *ic_failed_tags(const json_t *stream)
{
    json_t *out = json_array();
    size_t i;
    const json_t *t;
    json_array_foreach(spec_tags(stream), i, t) {
        if (!ic_tag_importable(t))
            continue;
        const json_t *st = status_tag(stream, str_of(t, "name"));
        size_t k;
        const json_t *cond;
        json_array_foreach(json_object_get(st, "conditions"), k, cond)
            if (!strcmp(str_of(cond, "type"), "ImportSuccess") && !strcmp(str_of(cond, "status"), "False")) {
                json_array_append_new(out, json_string(str_of(t, "name")));
                break;
            }
    }
    return out;
}

/* FNV-1a over the parts, each followed by a separator byte. */
static uint64_t fnv(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (h ^ 0xff) * 1099511628211ull;
}

uint64_t ic_spec_fingerprint(const json_t *stream)
{
    const json_t *spec = json_object_get(stream, "spec");
    uint64_t h = fnv(14695981039346656037ull, str_of(spec, "dockerImageRepository"));
    size_t i;
    const json_t *t;
    json_array_foreach(spec_tags(stream), i, t) {
        const json_t *from = json_object_get(t, "from");
        const json_t *pol = json_object_get(t, "importPolicy");
        h = fnv(h, str_of(t, "name"));
        h = fnv(h, str_of(from, "kind"));
        h = fnv(h, str_of(from, "name"));
        h = fnv(h, str_of(from, "namespace"));
        h = fnv(h, json_is_true(json_object_get(t, "reference")) ? "r" : "-");
        h = fnv(h, json_is_true(json_object_get(pol, "scheduled")) ? "s" : "-");
        h = fnv(h, json_is_true(json_object_get(pol, "insecure")) ? "i" : "-");
        h = fnv(h, str_of(pol, "importMode"));
    }
    return h;
}

/* Docker Hub's spellings, as its notifications and pull specs may carry them. */
static const char *canonical_host(const char *host)
{
    if (!*host || !strcmp(host, "docker.io") || !strcmp(host, "index.docker.io") ||
        !strcmp(host, "registry-1.docker.io"))
        return "docker.io";
    return host;
}

char *ic_ref_key_parts(const char *host, const char *repository, const char *tag)
{
    if (!host || !repository || !*repository)
        return NULL;
    host = canonical_host(host);
    buf_t b;
    buf_init(&b);
    buf_printf(&b, "%s/", host);
    if (!strcmp(host, "docker.io") && !strchr(repository, '/'))
        buf_puts(&b, "library/");
    buf_puts(&b, repository);
    if (tag && *tag)
        buf_printf(&b, ":%s", tag);
    else
        buf_putc(&b, '@');
    return buf_steal(&b);
}

char *ic_ref_key(const char *pull_spec, bool repo_only)
{
    docker_ref_t ref;
    memset(&ref, 0, sizeof ref);
    const char *msg = NULL;
    char *key = NULL;
    if (docker_ref_parse(pull_spec, &ref, &msg) == 0 && *ref.name && (repo_only || !*ref.id)) {
        char repo[1024];
        snprintf(repo, sizeof repo, "%s%s%s", ref.namespace, *ref.namespace ? "/" : "", ref.name);
        key = ic_ref_key_parts(ref.registry, repo, repo_only ? NULL : (*ref.tag ? ref.tag : "latest"));
    }
    docker_ref_free(&ref);
    return key;
}

static void refs_add(ic_ref_t **refs, size_t *n, char *key, const char *tag)
{
    if (!key)
        return;
    for (size_t i = 0; i < *n; i++)
        if (!strcmp((*refs)[i].key, key) && !strcmp((*refs)[i].tag, tag)) {
            free(key);
            return;
        }
    *refs = xrealloc(*refs, (*n + 1) * sizeof **refs);
    (*refs)[*n].key = key;
    (*refs)[*n].tag = xstrdup(tag);
    (*n)++;
}

size_t ic_stream_refs(const json_t *stream, ic_ref_t **out)
{
    ic_ref_t *refs = NULL;
    size_t n = 0;
    size_t i;
    const json_t *t;
    json_array_foreach(spec_tags(stream), i, t) {
        if (!ic_tag_importable(t))
            continue;
        const char *name = str_of(t, "name");
        refs_add(&refs, &n, ic_ref_key(str_of(json_object_get(t, "from"), "name"), false), name);
        const json_t *items = json_object_get(status_tag(stream, name), "items");
        if (json_array_size(items))
            refs_add(&refs, &n, ic_ref_key(str_of(json_array_get(items, 0), "dockerImageReference"), true), name);
    }
    *out = refs;
    return n;
}

void ic_refs_free(ic_ref_t *refs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(refs[i].key);
        free(refs[i].tag);
    }
    free(refs);
}
