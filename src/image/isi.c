/* ImageStreamImport runs (§4-5): on the calling thread the request is defaulted and
 * validated, the target stream read and checked, the namespace's pull secrets put in a
 * keyring, and the fetches planned (deduplicated by the §5.1 keys); then every fetch is
 * submitted at once (at most ISI_MAX_INFLIGHT in flight) and nothing waits: the results
 * are collected in the registry callbacks, and when the last one is in, api_call_resume
 * runs the write step (images, then the stream: §4.7) on a thread that may block.
 *
 * Lifetime: a run is reference-counted — the planning thread holds one reference while it
 * submits, and every fetch in flight one; the last release resumes the call. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "image/credentials.h"
#include "image/isi_int.h"
#include "util/util.h"

typedef struct run run_t;

typedef struct job {
    run_t *run;
    bool tags;                   /* a repository listing, else one image */
    isi_ref_t ref;
    char *reference;             /* tag or digest */
    char *norm;                  /* normalized reference for messages and credentials */
    char *user_repo;             /* the spelling kept in dockerImageReference */
    bool insecure, preserve;
    char *prefer_arch, *prefer_os;
    char *known_digest;
    json_t *known_image;         /* the stored Image of known_digest */
    const cred_auth_t *auth;
    /* results */
    json_t *status, *image, *manifests;
} job_t;

struct run {
    api_call_t *c;
    const image_config_t *cfg;
    char *ns, *name, *now;
    json_t *isi;                 /* the defaulted request */
    json_t *stream;              /* as read, NULL when absent */
    char *note;
    long max_age_ms;             /* isi_opts_t.max_age_ms */
    isi_done_fn done;
    void *arg;
    const isi_registry_ops_t *ops;
    cred_keyring_t *kr;
    char *cred_err;              /* a pull secret that cannot be read fails every image */
    pthread_mutex_t mu;
    job_t **jobs;
    size_t njobs, cap, next, inflight;
    atomic_int refs;
    json_t *keys;                /* dedup key -> job index */
    json_t *spellings;           /* norm_repo -> the first user spelling */
    size_t *image_job;           /* spec.images[i] -> its job */
    /* repository import */
    job_t *list_job;
    json_t *repo_status;         /* the listing's failure, or NULL */
    size_t *repo_jobs, nrepo;
    json_t *additional;          /* additionalTags */
    json_t *extra;               /* job indexes of additional tags fetched by spec.images */
};

static const char *mode_of(const json_t *entry)
{
    return ij_str(json_object_get(entry, "importPolicy"), "importMode");
}

static void job_free(job_t *j)
{
    if (!j)
        return;
    isi_ref_free(&j->ref);
    free(j->reference);
    free(j->norm);
    free(j->user_repo);
    free(j->prefer_arch);
    free(j->prefer_os);
    free(j->known_digest);
    json_decref(j->known_image);
    json_decref(j->status);
    json_decref(j->image);
    json_decref(j->manifests);
    free(j);
}

static void run_free(run_t *r)
{
    for (size_t i = 0; i < r->njobs; i++)
        job_free(r->jobs[i]);
    free(r->jobs);
    job_free(r->list_job);
    free(r->ns);
    free(r->name);
    free(r->now);
    free(r->note);
    free(r->cred_err);
    free(r->image_job);
    free(r->repo_jobs);
    json_decref(r->isi);
    json_decref(r->stream);
    json_decref(r->keys);
    json_decref(r->spellings);
    json_decref(r->repo_status);
    json_decref(r->additional);
    json_decref(r->extra);
    cred_keyring_free(r->kr);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* ---- planning (calling thread, or a listing's callback under mu) ---- */

static size_t job_add(run_t *r, job_t *j)
{
    if (r->njobs == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 8;
        r->jobs = xrealloc(r->jobs, r->cap * sizeof *r->jobs);
    }
    r->jobs[r->njobs] = j;
    return r->njobs++;
}

static char *job_key(const isi_ref_t *ref, const char *mode, const char *arch, const char *os)
{
    if (*ref->digest)
        return xasprintf("%s@%s|%s", ref->norm_repo, ref->digest, mode);
    return xasprintf("%s:%s|%s|%s|%s", ref->norm_repo, *ref->tag ? ref->tag : "latest", arch, os, mode);
}

/* The stored Image of the tag's latest event when it came from this repository: the
 * fetch then only asks whether the tag still names it (one HEAD). */
static void known_image(run_t *r, job_t *j, const char *tag)
{
    if (!r->stream || *j->ref.digest || !tag || !*tag)
        return;
    const json_t *ev = json_array_get(json_object_get(is_status_tag(r->stream, tag), "items"), 0);
    const char *image = ij_str(ev, "image");
    if (!digest_valid(image))
        return;
    isi_ref_t er;
    const char *msg;
    if (isi_ref_parse(ij_str(ev, "dockerImageReference"), false, &er, &msg) != 0)
        return;
    bool same = !strcmp(er.norm_repo, j->ref.norm_repo);
    isi_ref_free(&er);
    const api_kind_t *imk = api_kind_find(api_call_api(r->c), "images");
    if (!same || !imk)
        return;
    apierr_t *err = api_call_err(r->c);
    json_t *img = api_obj_get(r->c, imk, NULL, image);
    if (!img) {
        apierr_clear(err);   /* deleted meanwhile: fetch it again */
        return;
    }
    j->known_digest = xstrdup(image);
    j->known_image = img;
}

/* A job for one reference (dedup by the §5.1 key); returns its index. */
static size_t plan_fetch(run_t *r, const char *from, const json_t *entry, const char *target_tag, bool prefer,
                         const char *spelling)
{
    bool insecure = ij_bool(json_object_get(entry, "importPolicy"), "insecure");
    job_t *j = xcalloc(1, sizeof *j);
    j->run = r;
    const char *msg;
    if (isi_ref_parse(from, insecure, &j->ref, &msg) != 0) {   /* validation let it through */
        j->ref.tag = xstrdup("");
        j->ref.digest = xstrdup("");
        apierr_t e = APIERR_INIT;
        apierr_set(&e, APIERR_INTERNAL, "Internal error occurred: invalid name: %s", msg);
        j->status = isi_status_from_err(&e);
        apierr_clear(&e);
        return job_add(r, j);
    }
    if (r->cfg && isi_host_listed(r->cfg->insecure_registries, &j->ref))
        insecure = true;
    const char *arch = "", *os = "";
    if (prefer && !*j->ref.digest) {
        const json_t *ann = json_object_get(is_spec_tag(r->stream, target_tag), "annotations");
        arch = ij_str(ann, ISI_ANN_PREFER_ARCH);
        os = ij_str(ann, ISI_ANN_PREFER_OS);
    }
    const char *mode = mode_of(entry);
    char *key = job_key(&j->ref, mode, arch, os);
    json_t *have = json_object_get(r->keys, key);
    if (have) {
        free(key);
        job_free(j);
        return (size_t)json_integer_value(have);
    }
    j->reference = xstrdup(*j->ref.digest ? j->ref.digest : (*j->ref.tag ? j->ref.tag : "latest"));
    j->norm = isi_ref_normalized(&j->ref);
    const char *first = json_string_value(json_object_get(r->spellings, j->ref.norm_repo));
    if (!first) {
        json_object_set_new(r->spellings, j->ref.norm_repo, json_string(spelling ? spelling : j->ref.user_repo));
        first = json_string_value(json_object_get(r->spellings, j->ref.norm_repo));
    }
    j->user_repo = xstrdup(spelling ? spelling : first);
    j->insecure = insecure;
    j->preserve = !strcmp(mode, "PreserveOriginal");
    j->prefer_arch = xstrdup(arch);
    j->prefer_os = xstrdup(os);
    j->auth = r->kr ? cred_keyring_lookup(r->kr, j->norm) : NULL;
    if (r->cred_err) {
        j->status = isi_status_failure(REG_FETCH_FAILED, j->norm, r->cred_err);
    } else if (!j->preserve) {
        known_image(r, j, target_tag);
    }
    size_t idx = job_add(r, j);
    json_object_set_new(r->keys, key, json_integer((json_int_t)idx));
    free(key);
    return idx;
}

/* ---- fetching (any thread) ---- */

static void write_step(api_call_t *c, void *arg);

static void release(run_t *r)
{
    if (atomic_fetch_sub(&r->refs, 1) == 1)
        api_call_resume(r->c, write_step, r);
}

static void pump(run_t *r);

static void job_done(job_t *j)
{
    run_t *r = j->run;
    pthread_mutex_lock(&r->mu);
    r->inflight--;
    pthread_mutex_unlock(&r->mu);
    pump(r);
    release(r);
}

static void fetch_done(void *ctx, const reg_fetch_result_t *res)
{
    job_t *j = ctx;
    const char *now = j->run->now;
    if (res->error_kind != REG_FETCH_OK || res->error) {
        j->status = isi_status_failure(res->error_kind, j->norm, res->error);
    } else if (res->unchanged && j->known_image) {
        j->image = json_incref(j->known_image);
        j->status = isi_status_success();
    } else if (j->preserve && res->nchildren) {
        j->image = isi_image_from_list(&res->image, res->children, res->nchildren, j->user_repo, now);
        j->manifests = json_array();
        for (size_t i = 0; i < res->nchildren; i++)
            json_array_append_new(j->manifests, isi_image_from_fetched(&res->children[i], j->user_repo, now));
        j->status = isi_status_success();
    } else {
        reg_fetched_t f = res->image;
        if (!f.digest)
            f.digest = res->digest;
        j->image = isi_image_from_fetched(&f, j->user_repo, now);
        j->status = isi_status_success();
    }
    job_done(j);
}

static void plan_repository_tags(run_t *r, const char *const *tags, size_t n);

static void tags_done(void *ctx, const reg_tags_result_t *res)
{
    job_t *j = ctx;
    run_t *r = j->run;
    pthread_mutex_lock(&r->mu);
    if (res->error_kind != REG_FETCH_OK || res->error)
        r->repo_status = isi_status_list_failure(res->error_kind, j->ref.user_repo, res->error);
    else
        plan_repository_tags(r, res->tags, res->ntags);
    pthread_mutex_unlock(&r->mu);
    pump(r);
    release(r);
}

static void submit(run_t *r, job_t *j)
{
    if (j->status) {   /* failed while planning */
        job_done(j);
        return;
    }
    int rc = -1;
    const char *why = "no registry client is configured";
    const char *user = j->auth && *j->auth->username ? j->auth->username : NULL;
    const char *pass = j->auth && *j->auth->password ? j->auth->password : NULL;
    if (r->ops && r->ops->fetch_image) {
        reg_fetch_req_t req = {.registry = j->ref.registry, .repository = j->ref.repository,
                               .reference = j->reference, .known_digest = j->known_digest, .username = user,
                               .password = pass, .insecure = j->insecure, .preserve_original = j->preserve,
                               .prefer_arch = j->prefer_arch, .prefer_os = j->prefer_os,
                               .max_age_ms = r->max_age_ms};
        rc = r->ops->fetch_image(r->ops->ctx, &req, fetch_done, j);
        why = "the registry client refused the request";
    }
    if (rc != 0) {
        j->status = isi_status_failure(REG_FETCH_FAILED, j->norm, why);
        job_done(j);
    }
}

static void pump(run_t *r)
{
    pthread_mutex_lock(&r->mu);
    while (r->inflight < ISI_MAX_INFLIGHT && r->next < r->njobs) {
        job_t *j = r->jobs[r->next++];
        r->inflight++;
        atomic_fetch_add(&r->refs, 1);
        pthread_mutex_unlock(&r->mu);
        submit(r, j);
        pthread_mutex_lock(&r->mu);
    }
    pthread_mutex_unlock(&r->mu);
}

/* Called with mu held: the tags to import (first max, §4.5) become jobs; the rest are
 * additionalTags, or extra images when spec.images fetched them already. */
static void plan_repository_tags(run_t *r, const char *const *tags, size_t n)
{
    const json_t *repo = json_object_get(json_object_get(r->isi, "spec"), "repository");
    const char *name = ij_str(json_object_get(repo, "from"), "name");
    json_t *order = isi_tags_order(tags, n);
    int max = r->cfg ? r->cfg->max_images_bulk : 50;
    size_t take = max < 0 ? json_array_size(order) : (size_t)max;
    if (take > json_array_size(order))
        take = json_array_size(order);
    r->repo_jobs = xcalloc(take ? take : 1, sizeof *r->repo_jobs);
    for (size_t i = 0; i < take; i++) {
        char *from = xasprintf("%s:%s", name, json_string_value(json_array_get(order, i)));
        r->repo_jobs[r->nrepo++] = plan_fetch(r, from, repo, NULL, false, r->list_job->ref.user_repo);
        free(from);
    }
    for (size_t i = take; i < json_array_size(order); i++) {
        const char *tag = json_string_value(json_array_get(order, i));
        isi_ref_t probe = r->list_job->ref;
        probe.tag = (char *)tag;
        char *key = job_key(&probe, mode_of(repo), "", "");
        json_t *have = json_object_get(r->keys, key);
        free(key);
        if (have)
            json_array_append(r->extra, have);
        else
            json_array_append_new(r->additional, json_string(tag));
    }
    json_decref(order);
}

/* ---- the write step (a thread that may block) ---- */

static json_t *entry_of(const job_t *j)
{
    json_t *e = json_object();
    json_object_set(e, "status", j->status ? j->status : json_null());
    if (j->image)
        json_object_set_new(e, "image", json_deep_copy(j->image));
    json_object_set_new(e, "tag", json_string(*j->ref.digest ? "" : (*j->ref.tag ? j->ref.tag : "latest")));
    if (j->manifests)
        json_object_set_new(e, "manifests", json_deep_copy(j->manifests));
    return e;
}

static json_t *build_status(run_t *r)
{
    json_t *st = json_object(), *images = json_array();
    const json_t *spec = json_object_get(r->isi, "spec");
    size_t n = json_array_size(json_object_get(spec, "images"));
    for (size_t i = 0; i < n; i++)
        json_array_append_new(images, entry_of(r->jobs[r->image_job[i]]));
    json_object_set_new(st, "images", images);
    if (json_is_object(json_object_get(spec, "repository"))) {
        json_t *rs = json_object(), *ri = json_array();
        size_t failed = 0;
        for (size_t i = 0; i < r->nrepo; i++) {
            const job_t *j = r->jobs[r->repo_jobs[i]];
            failed += !isi_status_ok(j->status);
            json_array_append_new(ri, entry_of(j));
        }
        size_t k;
        json_t *v;
        json_array_foreach(r->extra, k, v) json_array_append_new(ri, entry_of(r->jobs[json_integer_value(v)]));
        json_object_set_new(rs, "status", r->repo_status ? json_incref(r->repo_status) : isi_status_repository(failed));
        json_object_set_new(rs, "images", ri);
        if (json_array_size(r->additional))
            json_object_set(rs, "additionalTags", r->additional);
        json_object_set_new(st, "repository", rs);
    }
    return st;
}

/* Strips manifests of the entries includeManifest does not ask for (§4.6). */
static void strip_unasked(json_t *status, const json_t *spec)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(status, "images"), i, e) {
        if (!ij_bool(json_array_get(json_object_get(spec, "images"), i), "includeManifest"))
            isi_image_strip(json_object_get(e, "image"));
    }
    if (!ij_bool(json_object_get(spec, "repository"), "includeManifest"))
        json_array_foreach(json_object_get(json_object_get(status, "repository"), "images"), i, e)
            isi_image_strip(json_object_get(e, "image"));
}

/* Creates one image (signatures, manifest and config stripped), at most once per digest
 * per request; an existing one is fine. The stored image, or NULL with the error set. */
static json_t *create_image(run_t *r, json_t *made, const json_t *image)
{
    const char *name = ij_str(json_object_get(image, "metadata"), "name");
    json_t *have = json_object_get(made, name);
    if (have)
        return json_incref(have);
    json_t *img = json_deep_copy(image);
    json_object_del(img, "signatures");
    isi_image_strip(img);
    json_t *meta = json_object_get(img, "metadata");   /* an unchanged tag's image is a stored one */
    if (json_is_object(meta)) {
        static const char *const sys[] = {"resourceVersion", "uid", "creationTimestamp", "managedFields", "generation"};
        for (size_t i = 0; i < sizeof sys / sizeof sys[0]; i++)
            json_object_del(meta, sys[i]);
    }
    apierr_t *err = api_call_err(r->c);
    json_t *out = api_obj_create(r->c, api_kind_find(api_call_api(r->c), "images"), NULL, img);
    if (!out && err->kind == APIERR_ALREADY_EXISTS) {
        apierr_clear(err);
        out = json_incref(img);
    }
    json_decref(img);
    if (out)
        json_object_set(made, name, out);
    return out;
}

static int persist_entry(run_t *r, json_t *made, json_t *e)
{
    if (!isi_status_ok(json_object_get(e, "status")) || !json_is_object(json_object_get(e, "image")))
        return 0;
    json_t *ms = json_object_get(e, "manifests");
    size_t i;
    json_t *m;
    json_array_foreach(ms, i, m) {
        json_t *s = create_image(r, made, m);
        if (!s)
            return -1;
        json_array_set_new(ms, i, s);
    }
    json_t *s = create_image(r, made, json_object_get(e, "image"));
    if (!s)
        return -1;
    json_object_set_new(e, "image", s);
    return 0;
}

typedef struct stream_write {
    run_t *r;
    const json_t *status;
} stream_write_t;

static int mutate_stream(api_call_t *c, json_t **obj, void *arg)
{
    stream_write_t *w = arg;
    run_t *r = w->r;
    const char *read_rv = ij_str(json_object_get(r->stream, "metadata"), "resourceVersion");
    if ((*obj == NULL) != (r->stream == NULL) ||
        (*obj && strcmp(ij_str(json_object_get(*obj, "metadata"), "resourceVersion"), read_rv)))
        return apierr_conflict(api_call_err(c), "imagestreams", ISI_GROUP, r->name, NULL);
    json_t *s = *obj ? *obj
                     : json_pack("{s:s, s:s, s:{s:s, s:s}, s:{}, s:{}}", "kind", "ImageStream", "apiVersion",
                                 "image.openshift.io/v1", "metadata", "name", r->name, "namespace", r->ns, "spec",
                                 "status");
    json_t *before = json_deep_copy(s);
    json_int_t gen = r->stream ? ij_int(json_object_get(r->stream, "metadata"), "generation") : 0;
    isi_stream_in_t in = {.spec = json_object_get(r->isi, "spec"), .status = w->status, .now = r->now,
                          .next_generation = gen + 1, .failure_note = r->note};
    isi_stream_apply(s, &in);
    json_t *meta = ij_obj(s, "metadata");
    json_t *ann = json_object_get(meta, "annotations");
    bool had = json_is_string(json_object_get(ann, ISI_ANN_REPO_CHECK));
    bool same = json_equal(before, s);
    json_decref(before);
    if (*obj && had && same)
        return API_MUTATE_UNCHANGED;
    if (!json_is_object(ann)) {
        ann = json_object();
        json_object_set_new(meta, "annotations", ann);
    }
    json_t *nowj = json_string(r->now);
    json_object_set_new(ann, ISI_ANN_REPO_CHECK, ij_time(nowj));
    json_decref(nowj);
    *obj = s;
    return 0;
}

static json_t *persist(run_t *r, json_t *status)
{
    api_call_t *c = r->c;
    apierr_t *err = api_call_err(c);
    const json_t *spec = json_object_get(r->isi, "spec");
    json_t *made = json_object();
    size_t i;
    json_t *e;
    int rc = 0;
    json_array_foreach(json_object_get(json_object_get(status, "repository"), "images"), i, e) {
        if (rc == 0)
            rc = persist_entry(r, made, e);
    }
    json_array_foreach(json_object_get(status, "images"), i, e) {
        const json_t *se = json_array_get(json_object_get(spec, "images"), i);
        if (!*ij_str(json_object_get(se, "to"), "name")) {
            if (!ij_bool(se, "includeManifest"))
                isi_image_strip(json_object_get(e, "image"));
            continue;
        }
        if (rc == 0)
            rc = persist_entry(r, made, e);
    }
    json_decref(made);
    if (rc != 0)
        return NULL;
    const api_kind_t *isk = api_kind_find(api_call_api(c), "imagestreams");
    stream_write_t w = {.r = r, .status = status};
    api_write_opts_t o = {.internal = true, .create_missing = true, .attempts = 1};
    json_t *stored = api_obj_mutate(c, isk, r->ns, r->name, mutate_stream, &w, &o);
    if (!stored && err->kind == APIERR_CONFLICT) {
        apierr_clear(err);
        apierr_conflict(err, "imagestreams", ISI_GROUP, r->name, NULL);
    }
    return stored;
}

static void finish(run_t *r, json_t *res)
{
    isi_done_fn done = r->done;
    void *arg = r->arg;
    api_call_t *c = r->c;
    run_free(r);
    done(c, res, arg);
}

static void write_step(api_call_t *c, void *arg)
{
    run_t *r = arg;
    if (apierr_is_set(api_call_err(c))) {   /* the pool refused: only clean up */
        finish(r, NULL);
        return;
    }
    const json_t *spec = json_object_get(r->isi, "spec");
    json_t *status = build_status(r);
    if (ij_bool(spec, "import")) {
        json_t *stored = persist(r, status);
        if (!stored) {
            json_decref(status);
            finish(r, NULL);
            return;
        }
        json_object_set_new(status, "import", stored);
    } else {
        strip_unasked(status, spec);
    }
    json_t *out = json_deep_copy(r->isi);
    json_object_set_new(out, "kind", json_string("ImageStreamImport"));
    json_object_set_new(out, "apiVersion", json_string("image.openshift.io/v1"));
    json_object_set_new(out, "status", status);
    finish(r, out);
}

/* ---- the run ---- */

static int read_stream(run_t *r)
{
    const api_kind_t *isk = api_kind_find(api_call_api(r->c), "imagestreams");
    apierr_t *err = api_call_err(r->c);
    if (!isk)
        return apierr_set(err, APIERR_INTERNAL, "Internal error occurred: image streams are not served");
    r->stream = api_obj_get(r->c, isk, r->ns, r->name);
    if (!r->stream) {
        if (err->kind != APIERR_NOT_FOUND)
            return -1;
        apierr_clear(err);
    }
    return isi_check_stream(r->isi, r->stream, err);
}

static int add_secret(void *arg, const json_t *secret)
{
    run_t *r = arg;
    if (!cred_is_pull_secret(secret) || r->cred_err)
        return 0;
    char e[512] = "";
    if (cred_keyring_add_secret(r->kr, secret, e, sizeof e) != 0)
        r->cred_err = xstrdup(e);
    return 0;
}

static int load_credentials(run_t *r)
{
    r->kr = cred_keyring_new();
    const api_kind_t *sk = api_kind_find(api_call_api(r->c), "secrets");
    if (sk && api_obj_list(r->c, sk, r->ns, add_secret, r) != 0)
        return -1;
    if (r->cfg && r->cfg->registry_auth_file) {
        char e[512] = "";
        if (cred_keyring_add_file(r->kr, r->cfg->registry_auth_file, e, sizeof e) != 0)
            log_warn("imagestreamimport %s/%s: --registry-auth-file: %s", r->ns, r->name, e);
    }
    return 0;
}

static void plan(run_t *r)
{
    const json_t *spec = json_object_get(r->isi, "spec");
    const json_t *images = json_object_get(spec, "images");
    size_t n = json_array_size(images);
    r->image_job = xcalloc(n ? n : 1, sizeof *r->image_job);
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(images, i);
        const char *from = ij_str(json_object_get(e, "from"), "name");
        const char *to = ij_str(json_object_get(e, "to"), "name");
        char *src_tag = NULL;
        if (!*to) {   /* prefer-arch/os of the source tag's spec tag when there is no `to` */
            isi_ref_t probe;
            const char *msg;
            if (isi_ref_parse(from, false, &probe, &msg) == 0) {
                src_tag = xstrdup(*probe.tag ? probe.tag : "latest");
                isi_ref_free(&probe);
            }
        }
        r->image_job[i] = plan_fetch(r, from, e, *to ? to : src_tag, true, NULL);
        free(src_tag);
    }
    const json_t *repo = json_object_get(spec, "repository");
    if (!json_is_object(repo))
        return;
    job_t *j = xcalloc(1, sizeof *j);
    j->run = r;
    j->tags = true;
    const char *msg;
    const char *name = ij_str(json_object_get(repo, "from"), "name");
    bool insecure = ij_bool(json_object_get(repo, "importPolicy"), "insecure");
    if (isi_ref_parse(name, insecure, &j->ref, &msg) != 0) {
        r->repo_status = isi_status_list_failure(REG_FETCH_FAILED, name, msg);
        job_free(j);
        return;
    }
    if (r->cfg && isi_host_listed(r->cfg->insecure_registries, &j->ref))
        j->insecure = true;
    else
        j->insecure = insecure;
    j->norm = xstrdup(j->ref.norm_repo);
    j->auth = cred_keyring_lookup(r->kr, j->ref.norm_repo);
    r->list_job = j;
}

/* Starts the listing of the repository (or skips it: no repository, --max-images... 0,
 * an unreadable secret). Takes a reference for its callback. */
static void start_listing(run_t *r)
{
    job_t *j = r->list_job;
    if (!j || r->repo_status)
        return;
    int max = r->cfg ? r->cfg->max_images_bulk : 50;
    if (max == 0)
        return;
    if (r->cred_err) {
        r->repo_status = isi_status_list_failure(REG_FETCH_FAILED, j->ref.user_repo, r->cred_err);
        return;
    }
    const char *user = j->auth && *j->auth->username ? j->auth->username : NULL;
    const char *pass = j->auth && *j->auth->password ? j->auth->password : NULL;
    reg_tags_req_t req = {.registry = j->ref.registry, .repository = j->ref.repository, .username = user,
                          .password = pass, .insecure = j->insecure, .max_tags = ISI_MAX_LISTED_TAGS};
    atomic_fetch_add(&r->refs, 1);
    if (!r->ops || !r->ops->list_tags || r->ops->list_tags(r->ops->ctx, &req, tags_done, j) != 0) {
        r->repo_status = isi_status_list_failure(REG_FETCH_FAILED, j->ref.user_repo,
                                                 r->ops ? "the registry client refused the request"
                                                        : "no registry client is configured");
        atomic_fetch_sub(&r->refs, 1);
    }
}

void isi_run(api_call_t *c, const char *ns, const json_t *isi, const isi_opts_t *opts, isi_done_fn done, void *arg)
{
    apierr_t *err = api_call_err(c);
    run_t *r = xcalloc(1, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    r->c = c;
    r->cfg = api_call_domain(c);
    r->done = done;
    r->arg = arg;
    r->ns = xstrdup(ns ? ns : "");
    r->now = xstrdup(api_call_now(c));
    r->note = opts && opts->failure_note ? xstrdup(opts->failure_note) : NULL;
    r->max_age_ms = opts ? opts->max_age_ms : 0;
    r->ops = r->cfg ? r->cfg->registry : NULL;
    r->keys = json_object();
    r->spellings = json_object();
    r->additional = json_array();
    r->extra = json_array();
    r->isi = json_is_object(isi) ? json_deep_copy(isi) : json_object();
    isi_default(r->isi, r->cfg && r->cfg->default_import_mode ? r->cfg->default_import_mode : "Legacy");
    json_t *meta = ij_obj(r->isi, "metadata");
    const char *bns = ij_str(meta, "namespace");
    if (*bns && strcmp(bns, r->ns)) {
        apierr_set(err, APIERR_BAD_REQUEST,
                   "the namespace of the provided object does not match the namespace sent on the request");
        finish(r, NULL);
        return;
    }
    json_object_set_new(meta, "namespace", json_string(r->ns));
    r->name = xstrdup(ij_str(meta, "name"));
    if (isi_validate(r->isi, err) != 0 ||
        isi_check_allowed(r->isi, r->cfg ? r->cfg->allowed_registries : NULL, err) != 0 || read_stream(r) != 0 ||
        load_credentials(r) != 0) {
        finish(r, NULL);
        return;
    }
    plan(r);
    atomic_store(&r->refs, 1);
    start_listing(r);
    pump(r);
    release(r);
}

static void http_done(api_call_t *c, json_t *result, void *arg)
{
    (void)arg;
    api_call_finish(c, result);
}

json_t *isi_create(api_call_t *c, const char *ns, json_t *obj)
{
    api_call_suspend(c);
    isi_run(c, ns, obj, NULL, http_done, NULL);
    return NULL;
}
