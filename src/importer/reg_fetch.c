/* See reg_fetch.h. A fetch is a small tree of reg_client requests: the manifest, for a
 * list the children by digest, for each image its config blob. Every callback runs on the
 * engine thread, one at a time, so a fetch's state needs no lock; `pending` counts the
 * requests still out, and the result is delivered when it reaches zero. */
#include "importer/reg_fetch.h"
#include "util/util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#define MAX_TAG_PAGES 100

typedef struct item {
    char *digest, *media_type, *manifest, *config;
    size_t manifest_len, config_len;
    reg_manifest_t parsed;
    bool have_parsed;
    int64_t *layer_sizes;
    char *os, *architecture, *variant;
} item_t;

typedef struct fetch {
    reg_client_t *c;
    reg_fetch_req_t req;       /* owned copies */
    reg_fetch_done_fn cb;
    void *ctx;
    int pending;
    bool failed;
    reg_fetch_error_t kind;
    int status;
    char *error;
    bool unchanged;
    char *top_digest;
    item_t top;                /* the image, or the list (PreserveOriginal) */
    item_t *children;          /* PreserveOriginal: every child; Legacy: the chosen one in [0] */
    size_t nchildren;
    bool list;
} fetch_t;

/* ---- small helpers ---- */
static void item_free(item_t *it)
{
    free(it->digest);
    free(it->media_type);
    free(it->manifest);
    free(it->config);
    if (it->have_parsed)
        reg_manifest_free(&it->parsed);
    free(it->layer_sizes);
    free(it->os);
    free(it->architecture);
    free(it->variant);
}

static void fetch_free(fetch_t *f)
{
    free((char *)f->req.registry);
    free((char *)f->req.repository);
    free((char *)f->req.reference);
    free((char *)f->req.known_digest);
    free((char *)f->req.username);
    free((char *)f->req.password);
    free((char *)f->req.prefer_arch);
    free((char *)f->req.prefer_os);
    free(f->error);
    free(f->top_digest);
    item_free(&f->top);
    for (size_t i = 0; i < f->nchildren; i++)
        item_free(&f->children[i]);
    free(f->children);
    free(f);
}

static reg_manifest_req_t manifest_req(const fetch_t *f, const char *reference)
{
    return (reg_manifest_req_t){.registry = reg_api_host(f->req.registry), .repository = f->req.repository,
                                .reference = reference, .username = f->req.username, .password = f->req.password,
                                .insecure = f->req.insecure, .timeout_ms = f->req.timeout_ms};
}

/* The failure kind of a reg_client answer (virtual-resources-and-import.md §4.5). */
static reg_fetch_error_t kind_of(int status, const char *error)
{
    if (error && str_has_prefix(error, "content integrity error"))
        return REG_FETCH_CONTENT;
    if (status == 404)
        return REG_FETCH_NOT_FOUND;
    if (status == 401)
        return error && !strcmp(error, REG_BAD_CREDENTIALS) ? REG_FETCH_BAD_CREDENTIALS : REG_FETCH_UNAUTHORIZED;
    return REG_FETCH_FAILED;
}

/* The first failure wins; later ones are dropped. */
static void set_failure(fetch_t *f, reg_fetch_error_t kind, int status, const char *error)
{
    if (f->failed)
        return;
    f->failed = true;
    f->kind = kind;
    f->status = status;
    f->error = xstrdup(error ? error : "unknown error");
}

static reg_fetched_t fetched_of(const item_t *it)
{
    return (reg_fetched_t){.digest = it->digest, .media_type = it->media_type, .manifest = it->manifest,
                           .manifest_len = it->manifest_len, .parsed = it->have_parsed ? &it->parsed : NULL,
                           .config = it->config, .config_len = it->config_len, .layer_sizes = it->layer_sizes,
                           .os = it->os, .architecture = it->architecture, .variant = it->variant};
}

static void deliver(fetch_t *f)
{
    reg_fetch_result_t r = {.error_kind = f->failed ? f->kind : REG_FETCH_OK, .status = f->status,
                            .error = f->failed ? f->error : NULL, .unchanged = f->unchanged,
                            .digest = f->top_digest};
    reg_fetched_t *kids = NULL;
    if (!f->failed && !f->unchanged) {
        if (f->list && f->req.preserve_original) {
            r.image = fetched_of(&f->top);
            kids = xcalloc(f->nchildren ? f->nchildren : 1, sizeof *kids);
            for (size_t i = 0; i < f->nchildren; i++)
                kids[i] = fetched_of(&f->children[i]);
            r.children = kids;
            r.nchildren = f->nchildren;
        } else {
            r.image = fetched_of(f->list ? &f->children[0] : &f->top);
        }
    }
    f->cb(f->ctx, &r);
    free(kids);
    fetch_free(f);
}

static void done_one(fetch_t *f)
{
    if (--f->pending == 0)
        deliver(f);
}

/* Keeps a fetched manifest in it: bytes, digest, parse (again, from our copy). */
static int item_keep(fetch_t *f, item_t *it, const reg_manifest_result_t *r)
{
    it->digest = xstrdup(r->digest);
    it->manifest = xmalloc(r->body_len + 1);
    memcpy(it->manifest, r->body, r->body_len);
    it->manifest[r->body_len] = '\0';
    it->manifest_len = r->body_len;
    it->media_type = xstrdup(r->manifest->media_type);
    char *err = NULL;
    if (reg_manifest_parse(it->media_type, it->manifest, it->manifest_len, &it->parsed, &err) != 0) {
        set_failure(f, REG_FETCH_FAILED, 200, err);
        free(err);
        return -1;
    }
    it->have_parsed = true;
    if (it->parsed.nlayers) {
        it->layer_sizes = xcalloc(it->parsed.nlayers, sizeof *it->layer_sizes);
        for (size_t i = 0; i < it->parsed.nlayers; i++)
            it->layer_sizes[i] = it->parsed.layers[i].size;
    }
    return 0;
}

/* The callback context of one request of a fetch: the item it fills. */
typedef struct {
    fetch_t *f;
    item_t *it;
} part_ctx_t;

/* ---- config blobs ---- */

static void on_config(void *ctx, const reg_http_resp_t *r)
{
    part_ctx_t *b = ctx;
    fetch_t *f = b->f;
    item_t *it = b->it;
    free(b);
    if (r->error || r->status != 200) {
        char msg[512];
        if (r->error)
            snprintf(msg, sizeof msg, "config %s: %s", it->parsed.config.digest, r->error);
        else if (r->status == 404)
            snprintf(msg, sizeof msg, "blob unknown: the config %s is not in the repository", it->parsed.config.digest);
        else
            snprintf(msg, sizeof msg, "config %s: received unexpected HTTP status: %d", it->parsed.config.digest,
                     r->status);
        set_failure(f, r->status == 401 ? REG_FETCH_UNAUTHORIZED : REG_FETCH_FAILED, r->status, msg);
        return done_one(f);
    }
    const char *why = NULL;
    if (!reg_digest_verify(it->parsed.config.digest, r->body, r->body_len, &why)) {
        char hex[65], msg[512];
        sha256_hex(r->body, r->body_len, hex);
        snprintf(msg, sizeof msg,
                 "content integrity error: the blob retrieved with digest %s does not match the digest calculated "
                 "from the content sha256:%s",
                 it->parsed.config.digest, hex);
        set_failure(f, REG_FETCH_CONTENT, 200, msg);
        return done_one(f);
    }
    it->config = xmalloc(r->body_len + 1);
    memcpy(it->config, r->body, r->body_len);
    it->config[r->body_len] = '\0';
    it->config_len = r->body_len;
    done_one(f);
}

/* The rest an image needs once its manifest is in: its config (schema 2 / OCI). */
static void item_complete(fetch_t *f, item_t *it)
{
    if (it->parsed.kind != REG_KIND_SCHEMA2 && it->parsed.kind != REG_KIND_OCI)
        return;
    part_ctx_t *b = xmalloc(sizeof *b);
    *b = (part_ctx_t){f, it};
    char *path = xasprintf("blobs/%s", it->parsed.config.digest);
    reg_manifest_req_t mr = manifest_req(f, "blob");
    f->pending++;
    if (reg_client_get(f->c, &mr, path, REG_MAX_CONFIG, true, on_config, b) != 0) {
        free(b);
        set_failure(f, REG_FETCH_FAILED, 0, "refused: unsafe config digest");
        f->pending--;
    }
    free(path);
}

/* ---- children of a list ---- */

static void on_child(void *ctx, const reg_manifest_result_t *r)
{
    part_ctx_t *cc = ctx;
    fetch_t *f = cc->f;
    item_t *it = cc->it;
    free(cc);
    if (r->error) {
        set_failure(f, kind_of(r->status, r->error), r->status, r->error);
    } else if (reg_manifest_is_list(r->manifest)) {
        set_failure(f, REG_FETCH_CONTENT, 200, "a manifest list names another manifest list");
    } else if (item_keep(f, it, r) == 0) {
        item_complete(f, it);
    }
    done_one(f);
}

static void fetch_child(fetch_t *f, item_t *it, const reg_descriptor_t *d)
{
    it->os = xstrdup(d->os);
    it->architecture = xstrdup(d->architecture);
    it->variant = xstrdup(d->variant);
    part_ctx_t *cc = xmalloc(sizeof *cc);
    *cc = (part_ctx_t){f, it};
    reg_manifest_req_t mr = manifest_req(f, d->digest);
    f->pending++;
    if (reg_client_get_manifest(f->c, &mr, on_child, cc) != 0) {
        free(cc);
        set_failure(f, REG_FETCH_FAILED, 0, "refused: unsafe child digest");
        f->pending--;
    }
}

/* This host's platform in Go's names (what the reference's server would prefer). */
static const char *host_arch(void)
{
    static char arch[80];
    if (*arch)
        return arch;
    struct utsname u;
    const char *m = uname(&u) == 0 ? u.machine : "x86_64";
    const char *a = !strcmp(m, "x86_64")                          ? "amd64"
                    : !strcmp(m, "aarch64") || !strcmp(m, "arm64") ? "arm64"
                    : str_has_prefix(m, "armv")                    ? "arm"
                    : !strcmp(m, "i686") || !strcmp(m, "i386")     ? "386"
                                                                   : m;
    snprintf(arch, sizeof arch, "%s", a);
    return arch;
}

/* §5.4: the exact preferred platform, then linux/amd64, then the first entry. */
static const reg_descriptor_t *choose_child(const reg_manifest_t *m, const char *arch, const char *os)
{
    if (!arch || !*arch)
        arch = host_arch();
    if (!os || !*os)
        os = "linux";
    for (size_t i = 0; i < m->nchildren; i++)
        if (!strcmp(m->children[i].architecture, arch) && !strcmp(m->children[i].os, os))
            return &m->children[i];
    for (size_t i = 0; i < m->nchildren; i++)
        if (!strcmp(m->children[i].architecture, "amd64") && !strcmp(m->children[i].os, "linux"))
            return &m->children[i];
    return m->nchildren ? &m->children[0] : NULL;
}

/* ---- the top manifest ---- */
static void on_top(void *ctx, const reg_manifest_result_t *r)
{
    fetch_t *f = ctx;
    if (r->error) {
        set_failure(f, kind_of(r->status, r->error), r->status, r->error);
        return done_one(f);
    }
    f->top_digest = xstrdup(r->digest);
    if (r->unchanged) {
        f->unchanged = true;
        return done_one(f);
    }
    if (item_keep(f, &f->top, r) != 0)
        return done_one(f);
    if (!reg_manifest_is_list(&f->top.parsed)) {
        item_complete(f, &f->top);
        return done_one(f);
    }
    f->list = true;
    const reg_manifest_t *m = &f->top.parsed;
    if (!m->nchildren) {
        set_failure(f, REG_FETCH_CONTENT, 200, "no manifests in manifest list");
        return done_one(f);
    }
    if (f->req.preserve_original) {
        f->nchildren = m->nchildren;
        f->children = xcalloc(m->nchildren, sizeof *f->children);
        for (size_t i = 0; i < m->nchildren; i++)
            fetch_child(f, &f->children[i], &m->children[i]);
    } else {
        f->nchildren = 1;
        f->children = xcalloc(1, sizeof *f->children);
        fetch_child(f, &f->children[0], choose_child(m, f->req.prefer_arch, f->req.prefer_os));
    }
    done_one(f);
}

int reg_fetch_image(reg_client_t *c, const reg_fetch_req_t *req, reg_fetch_done_fn cb, void *ctx)
{
    if (!req->repository || !req->reference)
        return -1;
    fetch_t *f = xcalloc(1, sizeof *f);
    f->c = c;
    f->req = *req;
    f->req.registry = xstrdup(req->registry ? req->registry : "");
    f->req.repository = xstrdup(req->repository);
    f->req.reference = xstrdup(req->reference);
    f->req.known_digest = xstrdup(req->known_digest);
    f->req.username = xstrdup(req->username);
    f->req.password = xstrdup(req->password);
    f->req.prefer_arch = xstrdup(req->prefer_arch);
    f->req.prefer_os = xstrdup(req->prefer_os);
    f->cb = cb;
    f->ctx = ctx;
    f->pending = 1;
    reg_manifest_req_t mr = manifest_req(f, f->req.reference);
    mr.known_digest = f->req.known_digest;
    mr.max_age_ms = f->req.max_age_ms;
    if (reg_client_get_manifest(c, &mr, on_top, f) != 0) {
        fetch_free(f);
        return -1;
    }
    return 0;
}

/* ---- tags ---- */
typedef struct tags {
    reg_client_t *c;
    reg_tags_req_t req;        /* owned copies */
    reg_tags_done_fn cb;
    void *ctx;
    char **tags;
    size_t ntags, cap;
    int pages;
} tags_t;

static void tags_finish(tags_t *t, reg_fetch_error_t kind, int status, const char *error)
{
    reg_tags_result_t r = {.error_kind = kind, .status = status, .error = error,
                           .tags = (const char *const *)t->tags, .ntags = error ? 0 : t->ntags};
    t->cb(t->ctx, &r);
    for (size_t i = 0; i < t->ntags; i++)
        free(t->tags[i]);
    free(t->tags);
    free((char *)t->req.registry);
    free((char *)t->req.repository);
    free((char *)t->req.username);
    free((char *)t->req.password);
    free(t);
}

static int tags_next(tags_t *t, const char *path);

/* The URL of a `Link: <url>; rel="next"` header, or NULL. Relative links are resolved
 * against /v2/<repository>/ (anything else outside it is refused by reg_client_get). */
static char *next_link(const tags_t *t, const char *link)
{
    const char *lt = strchr(link, '<'), *gt = lt ? strchr(lt, '>') : NULL;
    if (!gt || !strstr(gt, "next"))
        return NULL;
    char *url = xstrndup(lt + 1, (size_t)(gt - lt - 1));
    for (const char *p = url; *p; p++)
        if (*p <= ' ' || *p >= 127) {
            free(url);
            return NULL;
        }
    char *prefix = xasprintf("/v2/%s/", t->req.repository);
    char *out = NULL;
    if (str_has_prefix(url, prefix))
        out = xstrdup(url + strlen(prefix));
    else if (str_has_prefix(url, "http://") || str_has_prefix(url, "https://"))
        out = xstrdup(url);
    free(prefix);
    free(url);
    return out;
}

static void on_tags(void *ctx, const reg_http_resp_t *r)
{
    tags_t *t = ctx;
    if (r->error)
        return tags_finish(t, REG_FETCH_FAILED, r->status, r->error);
    if (r->status == 404)
        return tags_finish(t, REG_FETCH_NOT_FOUND, 404, "repository name not known to registry");
    if (r->status == 401)
        return tags_finish(t, REG_FETCH_UNAUTHORIZED, 401, "unauthorized: authentication required");
    if (r->status != 200) {
        char msg[96];
        snprintf(msg, sizeof msg, "tags: received unexpected HTTP status: %d", r->status);
        return tags_finish(t, REG_FETCH_FAILED, r->status, msg);
    }
    json_error_t je;
    json_t *doc = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &je);
    json_t *list = json_object_get(doc, "tags");
    if (!json_is_object(doc) || (list && !json_is_array(list) && !json_is_null(list))) {
        json_decref(doc);
        return tags_finish(t, REG_FETCH_FAILED, 200, "tags: the registry's tag list is not {\"tags\":[...]}");
    }
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) {
        if (!json_is_string(v) || json_string_length(v) > 128)
            continue;
        if (t->ntags >= t->req.max_tags) {
            json_decref(doc);
            return tags_finish(t, REG_FETCH_FAILED, 200, "tags: the repository has more tags than this server lists");
        }
        if (t->ntags == t->cap) {
            t->cap = t->cap ? t->cap * 2 : 64;
            t->tags = xrealloc(t->tags, t->cap * sizeof *t->tags);
        }
        t->tags[t->ntags++] = xstrdup(json_string_value(v));
    }
    json_decref(doc);
    char *next = *r->link ? next_link(t, r->link) : NULL;
    if (!next)
        return tags_finish(t, REG_FETCH_OK, 200, NULL);
    if (++t->pages >= MAX_TAG_PAGES) {
        free(next);
        return tags_finish(t, REG_FETCH_FAILED, 200, "tags: more than 100 pages");
    }
    if (tags_next(t, next) != 0)
        tags_finish(t, REG_FETCH_FAILED, 200, "tags: the registry's next page is not on this repository");
    free(next);
}

static int tags_next(tags_t *t, const char *path)
{
    reg_manifest_req_t mr = {.registry = reg_api_host(t->req.registry), .repository = t->req.repository,
                             .reference = "tags", .username = t->req.username, .password = t->req.password,
                             .insecure = t->req.insecure, .timeout_ms = t->req.timeout_ms};
    return reg_client_get(t->c, &mr, path, REG_MAX_MANIFEST, false, on_tags, t);
}

int reg_list_tags(reg_client_t *c, const reg_tags_req_t *req, reg_tags_done_fn cb, void *ctx)
{
    if (!req->repository)
        return -1;
    tags_t *t = xcalloc(1, sizeof *t);
    t->c = c;
    t->req = *req;
    t->req.registry = xstrdup(req->registry ? req->registry : "");
    t->req.repository = xstrdup(req->repository);
    t->req.username = xstrdup(req->username);
    t->req.password = xstrdup(req->password);
    if (!t->req.max_tags)
        t->req.max_tags = 10000;
    t->cb = cb;
    t->ctx = ctx;
    if (tags_next(t, "tags/list") != 0) {
        free((char *)t->req.registry);
        free((char *)t->req.repository);
        free((char *)t->req.username);
        free((char *)t->req.password);
        free(t);
        return -1;
    }
    return 0;
}
