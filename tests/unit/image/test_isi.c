/* ImageStreamImport: the pure parts (validation cases 38-40, repository tag order 44/46,
 * status mapping, the §4.7 stream mutation 55-59) and isi_run over the real resource layer
 * (embedded store in a temp dir) with fake registry operations that answer at once. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <pthread.h>
#include <time.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/api.h"
#include "image/isi_int.h"
#include "storage/storage.h"
#include "util/util.h"

/* ---- registry fixtures ---- */
#define LAYER "sha256:1111111111111111111111111111111111111111111111111111111111111111"
static char cfg_amd[512], cfg_arm[512], man_amd[1024], man_arm[1024], list_body[2048];
static char d_cfg_amd[72], d_cfg_arm[72], d_amd[72], d_arm[72], d_list[72];

static void make_manifest(char *cfg, char *dcfg, char *man, char *dman, const char *arch)
{
    snprintf(cfg, 512, "{\"architecture\":\"%s\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"sh\"]},"
                       "\"created\":\"2024-01-01T00:00:00Z\"}", arch);
    img_sha256_digest(cfg, strlen(cfg), dcfg);
    snprintf(man, 1024, "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":"
                        "\"application/vnd.docker.container.image.v1+json\",\"size\":%zu,\"digest\":\"%s\"},"
                        "\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\","
                        "\"size\":667590,\"digest\":\"%s\"}]}", MT_SCHEMA2, strlen(cfg), dcfg, LAYER);
    img_sha256_digest(man, strlen(man), dman);
}

static void make_fixtures(void)
{
    make_manifest(cfg_amd, d_cfg_amd, man_amd, d_amd, "amd64");
    make_manifest(cfg_arm, d_cfg_arm, man_arm, d_arm, "arm64");
    snprintf(list_body, sizeof list_body,
             "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":["
             "{\"mediaType\":\"%s\",\"size\":%zu,\"digest\":\"%s\",\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
             "{\"mediaType\":\"%s\",\"size\":%zu,\"digest\":\"%s\",\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\"}}]}",
             MT_LIST, MT_SCHEMA2, strlen(man_amd), d_amd, MT_SCHEMA2, strlen(man_arm), d_arm);
    img_sha256_digest(list_body, strlen(list_body), d_list);
}

typedef struct fake {
    int fetches, lists;
    char refs[64][128];          /* references fetched, in order */
    char known[128];             /* the last known_digest seen */
    char arch[32];               /* the last prefer_arch seen */
    char user[64], pass[64];     /* the last credentials seen */
    const char *tags[16];
    size_t ntags;
    bool fail_all;
} fake_t;
static fake_t FK;

static reg_fetched_t fetched(const char *man, const char *dman, const char *cfg, const char *arch)
{
    return (reg_fetched_t){.digest = dman, .media_type = MT_SCHEMA2, .manifest = man, .manifest_len = strlen(man),
                           .config = cfg, .config_len = cfg ? strlen(cfg) : 0, .os = "linux", .architecture = arch};
}

static int fake_fetch(void *ctx, const reg_fetch_req_t *req, reg_fetch_done_fn cb, void *cbctx)
{
    fake_t *f = ctx;
    if (f->fetches < 64)
        snprintf(f->refs[f->fetches], sizeof f->refs[0], "%s/%s:%s", req->registry, req->repository, req->reference);
    f->fetches++;
    snprintf(f->known, sizeof f->known, "%s", req->known_digest ? req->known_digest : "");
    snprintf(f->arch, sizeof f->arch, "%s", req->prefer_arch ? req->prefer_arch : "");
    snprintf(f->user, sizeof f->user, "%s", req->username ? req->username : "");
    snprintf(f->pass, sizeof f->pass, "%s", req->password ? req->password : "");
    reg_fetch_result_t r = {0};
    if (f->fail_all || !strcmp(req->reference, "missing")) {
        r.error_kind = f->fail_all ? REG_FETCH_FAILED : REG_FETCH_NOT_FOUND;
        r.status = f->fail_all ? 500 : 404;
        r.error = f->fail_all ? "received unexpected HTTP status: 500 Internal Server Error" : "manifest unknown";
    } else if (req->known_digest && !strcmp(req->known_digest, d_amd)) {
        r.unchanged = true;
        r.digest = d_amd;
    } else if (!strcmp(req->reference, "list")) {
        if (req->preserve_original) {
            static reg_fetched_t kids[2];
            kids[0] = fetched(man_amd, d_amd, cfg_amd, "amd64");
            kids[1] = fetched(man_arm, d_arm, cfg_arm, "arm64");
            r.digest = d_list;
            r.image = (reg_fetched_t){.digest = d_list, .media_type = MT_LIST, .manifest = list_body,
                                      .manifest_len = strlen(list_body)};
            r.children = kids;
            r.nchildren = 2;
        } else {
            bool arm = req->prefer_arch && !strcmp(req->prefer_arch, "arm64");
            r.digest = d_list;
            r.image = arm ? fetched(man_arm, d_arm, cfg_arm, "arm64") : fetched(man_amd, d_amd, cfg_amd, "amd64");
        }
    } else {
        r.digest = d_amd;
        r.image = fetched(man_amd, d_amd, cfg_amd, "amd64");
    }
    cb(cbctx, &r);
    return 0;
}

static int fake_list(void *ctx, const reg_tags_req_t *req, reg_tags_done_fn cb, void *cbctx)
{
    fake_t *f = ctx;
    f->lists++;
    reg_tags_result_t r = {.tags = f->tags, .ntags = f->ntags};
    cb(cbctx, &r);
    return 0;
}

static const isi_registry_ops_t fake_ops = {.fetch_image = fake_fetch, .list_tags = fake_list, .ctx = &FK};

/* The same answers from threads of their own, as the real client's engine thread does. */
typedef struct deferred {
    reg_fetch_req_t req;
    char reference[128];
    reg_fetch_done_fn cb;
    void *cbctx;
} deferred_t;
static pthread_mutex_t fk_mu = PTHREAD_MUTEX_INITIALIZER;

static void *deferred_main(void *arg)
{
    deferred_t *d = arg;
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
    /* FK's counters are the fake's own: the lock serialises them (and the callback) */
    pthread_mutex_lock(&fk_mu);
    fake_fetch(&FK, &d->req, d->cb, d->cbctx);
    pthread_mutex_unlock(&fk_mu);
    free(d);
    return NULL;
}

static int threaded_fetch(void *ctx, const reg_fetch_req_t *req, reg_fetch_done_fn cb, void *cbctx)
{
    deferred_t *d = calloc(1, sizeof *d);
    d->req = *req;
    snprintf(d->reference, sizeof d->reference, "%s", req->reference);
    d->req.reference = d->reference;
    d->req.known_digest = NULL;
    d->req.registry = "";
    d->req.repository = "r";
    d->req.prefer_arch = d->req.prefer_os = NULL;
    d->req.username = d->req.password = NULL;
    d->cb = cb;
    d->cbctx = cbctx;
    pthread_t t;
    pthread_create(&t, NULL, deferred_main, d);
    pthread_detach(t);
    return 0;
}

static const isi_registry_ops_t threaded_ops = {.fetch_image = threaded_fetch, .list_tags = fake_list, .ctx = &FK};

/* ---- the server side ---- */
typedef struct fixture {
    char dir[64];
    store_t *st;
    api_t *api;
    image_config_t icfg;
} fixture_t;
static fixture_t *F;

static int rm_cb(const char *p, const struct stat *sb, int f, struct FTW *w) { return remove(p); }

static int setup(void **state)
{
    make_fixtures();
    F = calloc(1, sizeof *F);
    snprintf(F->dir, sizeof F->dir, "/tmp/ias-isi-XXXXXX");
    if (!mkdtemp(F->dir))
        return -1;
    store_options_t so = {.data_dir = F->dir, .compact_interval_s = 0};
    if (store_open_sqlite(&so, &F->st) != STORE_OK)
        return -1;
    F->icfg.default_import_mode = "Legacy";
    F->icfg.max_images_bulk = 5;
    F->icfg.registry = &fake_ops;
    api_config_t cfg = {.domain = &F->icfg};
    cfg.kinds = image_kinds(&cfg.nkinds);
    F->api = api_new(&cfg, F->st);
    if (api_start(F->api) != 0)
        return -1;
    memset(&FK, 0, sizeof FK);
    *state = F;
    return 0;
}

static int teardown(void **state)
{
    api_stop(F->api);
    api_free(F->api);
    store_close(F->st);
    nftw(F->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    free(F);
    F = NULL;
    return 0;
}

typedef struct outcome {
    json_t *res;
    int calls;
    int code;
    char msg[1024];
} outcome_t;

static void on_done(api_call_t *c, json_t *result, void *arg)
{
    outcome_t *o = arg;
    o->calls++;
    o->res = result;
    apierr_t *e = api_call_err(c);
    if (!result) {
        o->code = apierr_http_code(e->kind);
        snprintf(o->msg, sizeof o->msg, "%s", e->message ? e->message : "");
    }
}

static outcome_t run_json(const char *text, bool dry_run)
{
    json_t *isi = json_loads(text, 0, NULL);
    assert_non_null(isi);
    api_call_t *c = api_call_new(F->api, &api_user_anonymous, "test");
    api_call_set_dry_run(c, dry_run);
    outcome_t o = {0};
    isi_run(c, "ns", isi, NULL, on_done, &o);
    assert_int_equal(o.calls, 1);
    if (!o.res)
        fprintf(stderr, "isi_run: %d %s\n", o.code, o.msg);
    api_call_free(c);
    json_decref(isi);
    return o;
}

static json_t *get_obj(const char *resource, const char *ns, const char *name)
{
    api_call_t *c = api_call_new(F->api, &api_user_anonymous, "test");
    json_t *o = api_obj_get(c, api_kind_find(F->api, resource), ns, name);
    api_call_free(c);
    return o;
}

static const json_t *img_status(const json_t *res, size_t i)
{
    return json_object_get(json_array_get(json_object_get(json_object_get(res, "status"), "images"), i), "status");
}

/* ---- validation ---- */
static char *invalid_message(const char *text)
{
    json_t *isi = json_loads(text, 0, NULL);
    isi_default(isi, "Legacy");
    apierr_t e = APIERR_INIT;
    int rc = isi_validate(isi, &e);
    json_decref(isi);
    if (rc == 0)
        return NULL;
    char *m = strdup(e.message);
    apierr_clear(&e);
    return m;
}

static void test_validate_cases(void **state)
{
    char *m = invalid_message("{\"metadata\":{\"name\":\"s\",\"namespace\":\"ns\"},\"spec\":{\"import\":false}}");
    assert_string_equal(m, "ImageStreamImport.image.openshift.io \"s\" is invalid: spec.images: Invalid value: "
                           "\"null\": you must specify at least one image or a repository import");
    free(m);
    m = invalid_message("{\"metadata\":{\"name\":\"s\",\"namespace\":\"ns\"},\"spec\":{\"repository\":{\"from\":"
                        "{\"kind\":\"DockerImage\",\"name\":\"a/b:tag\"}}}}");
    assert_non_null(strstr(m, "spec.repository.from.name: Invalid value: \"a/b:tag\": you must specify an image "
                              "repository, not a tag or ID"));
    free(m);
    m = invalid_message("{\"metadata\":{\"name\":\"s\",\"namespace\":\"ns\"},\"spec\":{\"repository\":{\"from\":"
                        "{\"kind\":\"DockerImage\",\"name\":\"a/b@sha256:something\"}}}}");
    assert_non_null(strstr(m, "invalid reference format"));
    free(m);
    m = invalid_message("{\"metadata\":{\"name\":\"s\",\"namespace\":\"ns\"},\"spec\":{\"images\":["
                        "{\"from\":{\"kind\":\"DockerImage\",\"name\":\"abc\"},\"importPolicy\":{\"scheduled\":true}},"
                        "{\"from\":{\"kind\":\"DockerImage\",\"name\":\"abc@badid\"}},"
                        "{\"from\":{\"kind\":\"ImageStreamTag\",\"name\":\"abc:x\"}},"
                        "{\"from\":{\"kind\":\"ImageStreamImage\",\"name\":\"abc@x\"}}]}}");
    assert_string_equal(m, "ImageStreamImport.image.openshift.io \"s\" is invalid: ["
                           "spec.images[1].from.name: Invalid value: \"abc@badid\": invalid reference format, "
                           "spec.images[2].from.kind: Invalid value: \"ImageStreamTag\": only DockerImage is supported, "
                           "spec.images[3].from.kind: Invalid value: \"ImageStreamImage\": only DockerImage is supported]");
    free(m);
    m = invalid_message("{\"metadata\":{\"name\":\"foo bar\",\"namespace\":\"ns\"},\"spec\":{\"images\":["
                        "{\"from\":{\"kind\":\"DockerImage\",\"name\":\"abc\"}}]}}");
    assert_non_null(strstr(m, "metadata.name: Invalid value: \"foo bar\": must match \"[a-z0-9]+(?:[._-][a-z0-9]+)*\""));
    free(m);
    m = invalid_message("{\"metadata\":{\"name\":\"foo/bar\",\"namespace\":\"ns\"},\"spec\":{\"images\":["
                        "{\"from\":{\"kind\":\"DockerImage\",\"name\":\"abc\"}}]}}");
    assert_non_null(strstr(m, "may not contain '/'"));
    assert_null(strstr(m, "must match"));
    free(m);
    m = invalid_message("{\"metadata\":{\"name\":\"s\",\"namespace\":\"ns\"},\"spec\":{\"images\":["
                        "{\"from\":{\"kind\":\"DockerImage\",\"name\":\"abc\"},\"to\":{\"name\":\"\"},"
                        "\"importPolicy\":{\"importMode\":\"Bad\"}}]}}");
    assert_non_null(strstr(m, "spec.images[0].to.name: Invalid value: \"\": the name of the target tag must be specified"));
    assert_non_null(strstr(m, "spec.images[0].importPolicy.importMode: Invalid value: \"Bad\": invalid import mode"));
    free(m);
    assert_null(invalid_message("{\"metadata\":{\"name\":\"s\",\"namespace\":\"ns\"},\"spec\":{\"images\":["
                                "{\"from\":{\"kind\":\"DockerImage\",\"name\":\"*\"}}]}}"));
}

static void test_defaulting(void **state)
{
    json_t *isi = json_loads("{\"spec\":{\"images\":[{\"from\":{\"kind\":\"DockerImage\",\"name\":\"a:v1\"}},"
                             "{\"from\":{\"kind\":\"DockerImage\",\"name\":\"a\"}},{\"from\":{\"kind\":\"DockerImage\","
                             "\"name\":\"a@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}}]},"
                             "\"status\":{\"images\":[]}}", 0, NULL);
    isi_default(isi, "PreserveOriginal");
    json_t *imgs = json_object_get(json_object_get(isi, "spec"), "images");
    assert_string_equal(ij_str(json_object_get(json_array_get(imgs, 0), "to"), "name"), "v1");
    assert_true(json_is_null(json_object_get(json_array_get(imgs, 1), "to")));
    assert_true(json_is_null(json_object_get(json_array_get(imgs, 2), "to")));
    assert_string_equal(ij_str(json_object_get(json_array_get(imgs, 0), "importPolicy"), "importMode"),
                        "PreserveOriginal");
    assert_string_equal(ij_str(json_object_get(json_array_get(imgs, 0), "referencePolicy"), "type"), "Source");
    assert_null(json_object_get(isi, "status"));
    json_decref(isi);
}

static void test_stream_checks(void **state)
{
    json_t *isi = json_loads("{\"metadata\":{\"name\":\"test\",\"resourceVersion\":\"5\"}}", 0, NULL);
    json_t *st = json_loads("{\"metadata\":{\"name\":\"test\",\"resourceVersion\":\"7\",\"uid\":\"u1\"}}", 0, NULL);
    apierr_t e = APIERR_INIT;
    assert_int_equal(isi_check_stream(isi, st, &e), -1);
    assert_string_equal(e.message, "Operation cannot be fulfilled on imagestream.image.openshift.io \"test\": the image "
                                   "stream was updated from \"5\" to \"7\"");
    assert_int_equal(apierr_http_code(e.kind), 409);
    apierr_clear(&e);
    json_decref(isi);
    isi = json_loads("{\"metadata\":{\"name\":\"test\",\"uid\":\"other\"}}", 0, NULL);
    assert_int_equal(isi_check_stream(isi, st, &e), -1);
    assert_string_equal(e.message, "imagestream.image.openshift.io \"test\" not found");
    apierr_clear(&e);
    assert_int_equal(isi_check_stream(isi, NULL, &e), -1);
    assert_string_equal(e.message, "imagestreams.image.openshift.io \"test\" not found");
    apierr_clear(&e);
    json_decref(isi);
    json_decref(st);
}

static void test_allow_list(void **state)
{
    json_t *isi = json_loads("{\"metadata\":{\"name\":\"s\"},\"spec\":{\"images\":[{\"from\":{\"kind\":\"DockerImage\","
                             "\"name\":\"127.0.0.1:5000/a/b:1\"}},{\"from\":{\"kind\":\"DockerImage\",\"name\":"
                             "\"busybox\"}}]}}", 0, NULL);
    apierr_t e = APIERR_INIT;
    assert_int_equal(isi_check_allowed(isi, NULL, &e), 0);
    assert_int_equal(isi_check_allowed(isi, "127.0.0.1:5000,docker.io", &e), 0);
    assert_int_equal(isi_check_allowed(isi, "127.0.0.1:5000", &e), -1);
    assert_non_null(strstr(e.message, "spec.images[1].from.name: Forbidden: importing images from registry "
                                      "\"registry-1.docker.io:443\" is forbidden: registry \"registry-1.docker.io:443\" "
                                      "not allowed by whitelist: 127.0.0.1:5000"));
    apierr_clear(&e);
    json_decref(isi);
}

/* ---- references, status, tags ---- */
static void test_refs(void **state)
{
    isi_ref_t r;
    const char *msg;
    assert_int_equal(isi_ref_parse("busybox", false, &r, &msg), 0);
    assert_string_equal(r.repository, "library/busybox");
    assert_string_equal(r.user_repo, "busybox");
    char *n = isi_ref_normalized(&r);
    assert_string_equal(n, "docker.io/library/busybox:latest");
    free(n);
    assert_string_equal(r.host_port, "registry-1.docker.io:443");
    isi_ref_free(&r);
    assert_int_equal(isi_ref_parse("127.0.0.1:5000/ns/repo@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", true, &r, &msg), 0);
    assert_string_equal(r.registry, "127.0.0.1:5000");
    assert_string_equal(r.repository, "ns/repo");
    n = isi_ref_normalized(&r);
    assert_string_equal(n, "127.0.0.1:5000/ns/repo@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    free(n);
    isi_ref_free(&r);
    assert_int_equal(isi_ref_parse("quay.io/a/b:1", true, &r, &msg), 0);
    assert_string_equal(r.host_port, "quay.io:80");
    isi_ref_free(&r);
}

static void test_status_mapping(void **state)
{
    json_t *s = isi_status_failure(REG_FETCH_NOT_FOUND, "docker.io/library/busybox:nope", "manifest unknown");
    assert_int_equal(ij_int(s, "code"), 404);
    assert_string_equal(ij_str(s, "reason"), "NotFound");
    assert_string_equal(ij_str(s, "message"), "dockerimage.image.openshift.io \"docker.io/library/busybox:nope\" not found");
    assert_string_equal(ij_str(json_object_get(s, "details"), "kind"), "dockerimage");
    assert_null(json_object_get(s, "kind"));
    json_decref(s);
    s = isi_status_failure(REG_FETCH_UNAUTHORIZED, "r:1", "x");
    assert_string_equal(ij_str(s, "message"), "you may not have access to the container image \"r:1\"");
    assert_int_equal(ij_int(s, "code"), 401);
    json_decref(s);
    s = isi_status_failure(REG_FETCH_BAD_CREDENTIALS, "r:1", "x");
    assert_string_equal(ij_str(s, "message"), "incorrect username or password for image \"r:1\"");
    json_decref(s);
    s = isi_status_failure(REG_FETCH_FAILED, "docker.io/library/test:latest", "no such manifest tag");
    assert_string_equal(ij_str(s, "message"), "Internal error occurred: docker.io/library/test:latest: no such manifest tag");
    assert_int_equal(ij_int(s, "code"), 500);
    assert_string_equal(ij_str(s, "status"), "Failure");
    json_decref(s);
    s = isi_status_failure(REG_FETCH_CONTENT, "r:1", "content integrity error");
    assert_string_equal(ij_str(s, "message"), "Internal error occurred: content integrity error");
    json_decref(s);
    s = isi_status_repository(5);
    assert_string_equal(ij_str(s, "message"), "5 of the images from this repository failed to import");
    assert_string_equal(ij_str(s, "reason"), "ImportFailed");
    json_decref(s);
    s = isi_status_repository(1);
    assert_string_equal(ij_str(s, "message"), "one of the images from this repository failed to import");
    json_decref(s);
}

static char *order_of(const char *const *tags, size_t n)
{
    json_t *o = isi_tags_order(tags, n);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static void test_tag_order(void **state)
{
    const char *c44[] = {"v1", "other", "v2", "3", "3.1", "abc"};
    char *s = order_of(c44, 6);
    assert_string_equal(s, "[\"3.1\",\"3\",\"abc\",\"other\",\"v1\",\"v2\"]");
    free(s);
    const char *c46[] = {"", "latest", "x"};
    s = order_of(c46, 3);
    assert_string_equal(s, "[\"latest\",\"x\"]");
    free(s);
    const char *mix[] = {"1.2.3", "v1.2", "1.2", "1.10", "2.0.0-rc1", "2.0.0", "v2.0.0", "1.2-beta", "latest", "01.2.3"};
    s = order_of(mix, 10);
    assert_string_equal(s, "[\"latest\",\"1.10\",\"1.2\",\"v1.2\",\"1.2-beta\",\"2.0.0\",\"v2.0.0\",\"2.0.0-rc1\","
                           "\"1.2.3\",\"01.2.3\"]");
    free(s);
}

/* ---- §4.7 on JSON ---- */
static json_t *success_image(const char *digest, const char *ref)
{
    return json_pack("{s:{s:s}, s:s}", "metadata", "name", digest, "dockerImageReference", ref);
}

static void test_stream_apply(void **state)
{
    const char *dg = "sha256:958608f8ecc1dc62c93b6c610f3a834dae4220c9642e6e8b4e0f2b3ad7cbd238";
    json_t *spec = json_loads("{\"import\":true,\"images\":[{\"from\":{\"kind\":\"DockerImage\",\"name\":\"busybox:1\"},"
                              "\"to\":{\"name\":\"mytag\"},\"importPolicy\":{\"importMode\":\"Legacy\"},"
                              "\"referencePolicy\":{\"type\":\"Local\"}}]}", 0, NULL);
    json_t *status = json_pack("{s:[{s:o, s:o, s:s}]}", "images", "status", isi_status_success(), "image",
                               success_image(dg, "busybox@sha256:958608f8ecc1dc62c93b6c610f3a834dae4220c9642e6e8b4e0f2b3ad7cbd238"),
                               "tag", "1");
    json_t *st = json_loads("{\"metadata\":{\"name\":\"s\"}}", 0, NULL);
    isi_stream_in_t in = {.spec = spec, .status = status, .now = "2024-05-01T10:00:00Z", .next_generation = 1};
    isi_stream_apply(st, &in);
    json_t *sp = is_spec_tag(st, "mytag");
    assert_non_null(sp);
    assert_string_equal(ij_str(json_object_get(sp, "from"), "name"), "busybox:1");
    assert_string_equal(ij_str(json_object_get(sp, "referencePolicy"), "type"), "Local");
    json_t *ev = json_array_get(json_object_get(is_status_tag(st, "mytag"), "items"), 0);
    assert_string_equal(ij_str(ev, "image"), dg);
    assert_string_equal(ij_str(ev, "dockerImageReference"), "busybox@sha256:958608f8ecc1dc62c93b6c610f3a834dae4220c9642e6e8b4e0f2b3ad7cbd238");
    assert_int_equal(ij_int(ev, "generation"), 1);

    /* case 57: the same image again with spec generation 2 > event generation 1: only the
     * event's generation moves, created unchanged; an existing Source policy stays */
    json_object_set_new(sp, "generation", json_integer(2));
    json_object_set_new(sp, "referencePolicy", json_pack("{s:s}", "type", "Source"));
    json_object_set_new(ev, "created", json_string("2020-01-01T00:00:00Z"));
    in.next_generation = 3;
    isi_stream_apply(st, &in);
    sp = is_spec_tag(st, "mytag");
    ev = json_array_get(json_object_get(is_status_tag(st, "mytag"), "items"), 0);
    assert_int_equal(json_array_size(json_object_get(is_status_tag(st, "mytag"), "items")), 1);
    assert_int_equal(ij_int(ev, "generation"), 3);
    assert_string_equal(ij_str(ev, "created"), "2020-01-01T00:00:00Z");
    assert_string_equal(ij_str(json_object_get(sp, "referencePolicy"), "type"), "Source");
    assert_int_equal(ij_int(sp, "generation"), 0);

    /* case 56/59: a failure with an empty message; the same failure twice changes nothing */
    json_t *fail = json_pack("{s:{}, s:s, s:s}", "metadata", "status", "Failure", "reason", "NotFound");
    json_array_set_new(json_object_get(status, "images"), 0, json_pack("{s:o, s:s}", "status", fail, "tag", "1"));
    in.next_generation = 4;
    isi_stream_apply(st, &in);
    json_t *cond = json_array_get(json_object_get(is_status_tag(st, "mytag"), "conditions"), 0);
    assert_string_equal(ij_str(cond, "message"), "unknown error prevented import");
    assert_string_equal(ij_str(cond, "type"), "ImportSuccess");
    assert_string_equal(ij_str(cond, "status"), "False");
    assert_int_equal(ij_int(cond, "generation"), 4);
    json_t *copy = json_deep_copy(st);
    in.next_generation = 5;
    isi_stream_apply(st, &in);
    assert_true(json_equal(copy, st));
    json_decref(copy);

    /* a failure of a tag without a spec tag creates one, generation 0 */
    json_t *imgs = json_object_get(spec, "images");
    json_object_set_new(json_object_get(json_array_get(imgs, 0), "to"), "name", json_string("other"));
    isi_stream_apply(st, &in);
    sp = is_spec_tag(st, "other");
    assert_non_null(sp);
    assert_int_equal(ij_int(sp, "generation"), 0);
    assert_string_equal(ij_str(json_object_get(sp, "from"), "name"), "busybox:1");
    assert_non_null(json_object_get(is_status_tag(st, "other"), "conditions"));
    json_decref(st);
    json_decref(status);
    json_decref(spec);
}

/* ---- isi_run with fake registries ---- */
#define ISI_HEAD "{\"kind\":\"ImageStreamImport\",\"apiVersion\":\"image.openshift.io/v1\",\"metadata\":{\"name\":\"%s\"},"
static char *isi_text(const char *name, bool import, const char *images)
{
    return xasprintf(ISI_HEAD "\"spec\":{\"import\":%s,\"images\":[%s]}}", name, import ? "true" : "false", images);
}

static void test_run_no_import(void **state)
{
    char *t = isi_text("s", false, "{\"from\":{\"kind\":\"DockerImage\",\"name\":\"test:busybox\"},\"includeManifest\":true},"
                                   "{\"from\":{\"kind\":\"DockerImage\",\"name\":\"test:missing\"}}");
    outcome_t o = run_json(t, false);
    free(t);
    assert_non_null(o.res);
    const json_t *e0 = json_array_get(json_object_get(json_object_get(o.res, "status"), "images"), 0);
    assert_string_equal(ij_str(img_status(o.res, 0), "status"), "Success");
    assert_string_equal(ij_str(e0, "tag"), "busybox");
    const json_t *img = json_object_get(e0, "image");
    assert_string_equal(ij_str(json_object_get(img, "metadata"), "name"), d_amd);
    char *want = xasprintf("test@%s", d_amd);
    assert_string_equal(ij_str(img, "dockerImageReference"), want);
    free(want);
    assert_int_equal(ij_int(json_object_get(img, "dockerImageMetadata"), "Size"), (json_int_t)(strlen(cfg_amd) + 667590));
    assert_string_equal(ij_str(json_object_get(img, "dockerImageMetadata"), "Architecture"), "amd64");
    assert_string_equal(ij_str(img, "dockerImageManifest"), man_amd);   /* includeManifest */
    assert_int_equal(ij_int(img_status(o.res, 1), "code"), 404);
    assert_string_equal(ij_str(img_status(o.res, 1), "message"),
                        "dockerimage.image.openshift.io \"docker.io/library/test:missing\" not found");
    assert_string_equal(FK.refs[0], "/library/test:busybox");
    json_decref(o.res);
    /* nothing written */
    json_t *s = get_obj("imagestreams", "ns", "s");
    assert_null(s);
    json_t *im = get_obj("images", NULL, d_amd);
    assert_null(im);
}

static void test_run_import_new_stream(void **state)
{
    char *t = isi_text("s", true, "{\"from\":{\"kind\":\"DockerImage\",\"name\":\"127.0.0.1:5000/a/b:v1\"},"
                                  "\"to\":{\"name\":\"mytag\"},\"includeManifest\":true}");
    outcome_t o = run_json(t, false);
    assert_non_null(o.res);
    const json_t *e0 = json_array_get(json_object_get(json_object_get(o.res, "status"), "images"), 0);
    assert_null(json_object_get(json_object_get(e0, "image"), "dockerImageManifest"));
    json_t *s = get_obj("imagestreams", "ns", "s");
    assert_non_null(s);
    const json_t *ann = json_object_get(json_object_get(s, "metadata"), "annotations");
    assert_true(json_is_string(json_object_get(ann, ISI_ANN_REPO_CHECK)));
    assert_int_equal(ij_int(json_object_get(s, "metadata"), "generation"), 1);
    json_t *sp = is_spec_tag(s, "mytag");
    assert_int_equal(ij_int(sp, "generation"), 1);
    json_t *ev = json_array_get(json_object_get(is_status_tag(s, "mytag"), "items"), 0);
    char *want = xasprintf("127.0.0.1:5000/a/b@%s", d_amd);
    assert_string_equal(ij_str(ev, "dockerImageReference"), want);
    free(want);
    assert_int_equal(ij_int(ev, "generation"), 1);
    json_t *imp = json_object_get(json_object_get(o.res, "status"), "import");
    assert_string_equal(ij_str(json_object_get(imp, "metadata"), "resourceVersion"),
                        ij_str(json_object_get(s, "metadata"), "resourceVersion"));
    json_t *im = get_obj("images", NULL, d_amd);
    assert_non_null(im);
    json_decref(im);
    json_decref(o.res);

    /* again: the tag's known digest is asked (one HEAD in the real client), nothing moves */
    const char *rv = ij_str(json_object_get(s, "metadata"), "resourceVersion");
    o = run_json(t, false);
    assert_non_null(o.res);
    assert_string_equal(FK.known, d_amd);
    assert_string_equal(ij_str(img_status(o.res, 0), "status"), "Success");
    json_t *s2 = get_obj("imagestreams", "ns", "s");
    assert_string_equal(ij_str(json_object_get(s2, "metadata"), "resourceVersion"), rv);
    json_decref(s2);
    json_decref(o.res);

    /* case 60: a stale resourceVersion */
    char *t2 = xasprintf(ISI_HEAD "\"spec\":{\"import\":true,\"images\":[{\"from\":{\"kind\":\"DockerImage\",\"name\":"
                                  "\"a:b\"}}]}}", "s\",\"resourceVersion\":\"1");
    o = run_json(t2, false);
    assert_null(o.res);
    assert_int_equal(o.code, 409);
    assert_non_null(strstr(o.msg, "Operation cannot be fulfilled on imagestream.image.openshift.io \"s\": the image stream was updated from \"1\" to"));
    free(t2);
    json_decref(s);
    free(t);
}

static void test_run_failure_twice(void **state)
{
    char *t = isi_text("f", true, "{\"from\":{\"kind\":\"DockerImage\",\"name\":\"busybox:missing\"},\"to\":{\"name\":\"x\"}}");
    outcome_t o = run_json(t, false);
    assert_non_null(o.res);
    json_decref(o.res);
    json_t *s = get_obj("imagestreams", "ns", "f");
    assert_non_null(s);
    json_t *cond = json_array_get(json_object_get(is_status_tag(s, "x"), "conditions"), 0);
    assert_string_equal(ij_str(cond, "reason"), "NotFound");
    assert_non_null(is_spec_tag(s, "x"));
    o = run_json(t, false);
    json_decref(o.res);
    json_t *s2 = get_obj("imagestreams", "ns", "f");
    assert_string_equal(ij_str(json_object_get(s2, "metadata"), "resourceVersion"),
                        ij_str(json_object_get(s, "metadata"), "resourceVersion"));
    json_decref(s);
    json_decref(s2);
    free(t);
}

static void test_run_dry_run(void **state)
{
    char *t = isi_text("d", true, "{\"from\":{\"kind\":\"DockerImage\",\"name\":\"busybox:1\"},\"to\":{\"name\":\"x\"}}");
    outcome_t o = run_json(t, true);
    assert_non_null(o.res);
    assert_string_equal(ij_str(img_status(o.res, 0), "status"), "Success");
    assert_non_null(json_object_get(json_object_get(o.res, "status"), "import"));
    json_decref(o.res);
    assert_int_equal(FK.fetches, 1);
    json_t *s = get_obj("imagestreams", "ns", "d");
    assert_null(s);
    json_t *im = get_obj("images", NULL, d_amd);
    assert_null(im);
    free(t);
}

static void test_run_preserve_and_prefer(void **state)
{
    char *t = isi_text("p", true, "{\"from\":{\"kind\":\"DockerImage\",\"name\":\"x:list\"},\"to\":{\"name\":\"l\"},"
                                  "\"importPolicy\":{\"importMode\":\"PreserveOriginal\"}}");
    outcome_t o = run_json(t, false);
    free(t);
    assert_non_null(o.res);
    const json_t *e0 = json_array_get(json_object_get(json_object_get(o.res, "status"), "images"), 0);
    assert_int_equal(json_array_size(json_object_get(e0, "manifests")), 2);
    const json_t *img = json_object_get(e0, "image");
    assert_string_equal(ij_str(json_object_get(img, "metadata"), "name"), d_list);
    assert_int_equal(json_array_size(json_object_get(img, "dockerImageManifests")), 2);
    json_decref(o.res);
    json_t *a = get_obj("images", NULL, d_amd), *b = get_obj("images", NULL, d_arm), *l = get_obj("images", NULL, d_list);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(l);
    json_decref(a);
    json_decref(b);
    json_decref(l);

    /* case 51: the target spec tag's prefer-arch picks the child */
    api_call_t *c = api_call_new(F->api, &api_user_anonymous, "test");
    json_t *st = json_loads("{\"metadata\":{\"name\":\"q\"},\"spec\":{\"tags\":[{\"name\":\"latest\",\"annotations\":"
                            "{\"importer.image.openshift.io/prefer-arch\":\"arm64\",\"importer.image.openshift.io/prefer-os\":"
                            "\"linux\"}}]}}", 0, NULL);
    json_decref(api_obj_create(c, api_kind_find(F->api, "imagestreams"), "ns", st));
    json_decref(st);
    api_call_free(c);
    t = isi_text("q", false, "{\"from\":{\"kind\":\"DockerImage\",\"name\":\"x:list\"},\"to\":{\"name\":\"latest\"}}");
    o = run_json(t, false);
    free(t);
    assert_string_equal(FK.arch, "arm64");
    e0 = json_array_get(json_object_get(json_object_get(o.res, "status"), "images"), 0);
    assert_string_equal(ij_str(json_object_get(json_object_get(e0, "image"), "metadata"), "name"), d_arm);
    json_decref(o.res);
}

static void test_run_repository(void **state)
{
    static const char *tags[] = {"v1", "other", "v2", "3", "3.1", "abc"};
    memcpy(FK.tags, tags, sizeof tags);
    FK.ntags = 6;
    FK.fail_all = true;
    char *t = xasprintf(ISI_HEAD "\"spec\":{\"import\":false,\"repository\":{\"from\":{\"kind\":\"DockerImage\","
                                 "\"name\":\"test\"}}}}", "r");
    outcome_t o = run_json(t, false);
    free(t);
    assert_non_null(o.res);
    const json_t *rs = json_object_get(json_object_get(o.res, "status"), "repository");
    const json_t *imgs = json_object_get(rs, "images");
    assert_int_equal(json_array_size(imgs), 5);
    const char *want[] = {"3.1", "3", "abc", "other", "v1"};
    for (size_t i = 0; i < 5; i++) {
        const json_t *e = json_array_get(imgs, i);
        assert_string_equal(ij_str(e, "tag"), want[i]);
        char *m = xasprintf("Internal error occurred: docker.io/library/test:%s: received unexpected HTTP status: 500 "
                            "Internal Server Error", want[i]);
        assert_string_equal(ij_str(json_object_get(e, "status"), "message"), m);
        free(m);
    }
    char *add = json_dumps(json_object_get(rs, "additionalTags"), JSON_COMPACT);
    assert_string_equal(add, "[\"v2\"]");
    free(add);
    assert_string_equal(ij_str(json_object_get(rs, "status"), "message"),
                        "5 of the images from this repository failed to import");
    assert_int_equal(FK.lists, 1);
    assert_int_equal(FK.fetches, 5);
    json_decref(o.res);
}

/* §5.5: the namespace's pull secret is found for the defaulted repository */
static void test_run_pull_secret(void **state)
{
    api_call_t *c = api_call_new(F->api, &api_user_anonymous, "test");
    /* {"auths":{"127.0.0.1:5000":{"username":"u","password":"p"}}} */
    const char *cfgb64 = "eyJhdXRocyI6eyIxMjcuMC4wLjE6NTAwMCI6eyJ1c2VybmFtZSI6InUiLCJwYXNzd29yZCI6InAifX19";
    json_t *sec = json_pack("{s:{s:s}, s:s, s:{s:s}}", "metadata", "name", "pull", "type",
                            "kubernetes.io/dockerconfigjson", "data", ".dockerconfigjson", cfgb64);
    json_t *made = api_obj_create(c, api_kind_find(F->api, "secrets"), "ns", sec);
    assert_non_null(made);
    json_decref(made);
    json_decref(sec);
    api_call_free(c);
    char *t = isi_text("b", false, "{\"from\":{\"kind\":\"DockerImage\",\"name\":\"127.0.0.1:5000/a/b:1\"}},"
                                   "{\"from\":{\"kind\":\"DockerImage\",\"name\":\"busybox:1\"}}");
    outcome_t o = run_json(t, false);
    free(t);
    assert_non_null(o.res);
    assert_int_equal(FK.fetches, 2);
    assert_string_equal(FK.user, "");   /* the second, Docker Hub: anonymous */
    json_decref(o.res);
    t = isi_text("b", false, "{\"from\":{\"kind\":\"DockerImage\",\"name\":\"127.0.0.1:5000/a/b:1\"}}");
    o = run_json(t, false);
    free(t);
    assert_string_equal(FK.user, "u");
    assert_string_equal(FK.pass, "p");
    json_decref(o.res);
}

/* case 49: one digest in two modes is fetched twice; case 42/58: the same image under two
 * references is reported by both and created once; §4.6: a digest entry (no `to`) is not
 * persisted and keeps its manifest only when asked */
static void test_run_dedup_and_manifests(void **state)
{
    char *imgs = xasprintf("{\"from\":{\"kind\":\"DockerImage\",\"name\":\"x@%s\"},\"importPolicy\":{\"importMode\":"
                           "\"PreserveOriginal\"}},{\"from\":{\"kind\":\"DockerImage\",\"name\":\"x@%s\"}},"
                           "{\"from\":{\"kind\":\"DockerImage\",\"name\":\"x@%s\"},\"includeManifest\":true},"
                           "{\"from\":{\"kind\":\"DockerImage\",\"name\":\"x:a\"},\"to\":{\"name\":\"a\"}},"
                           "{\"from\":{\"kind\":\"DockerImage\",\"name\":\"x:b\"},\"to\":{\"name\":\"b\"}},"
                           "{\"from\":{\"kind\":\"DockerImage\",\"name\":\"x:c\"},\"to\":null,\"includeManifest\":true}",
                           d_amd, d_amd, d_amd);
    char *t = isi_text("dd", true, imgs);
    free(imgs);
    outcome_t o = run_json(t, false);
    free(t);
    assert_non_null(o.res);
    assert_int_equal(FK.fetches, 5);   /* the second Legacy digest entry shares the first's fetch */
    json_t *st = json_object_get(json_object_get(o.res, "status"), "images");
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(ij_str(json_object_get(json_array_get(st, i), "status"), "status"), "Success");
    assert_string_equal(ij_str(json_array_get(st, 1), "tag"), "");
    assert_string_equal(ij_str(json_object_get(json_array_get(st, 2), "image"), "dockerImageManifest"), man_amd);
    assert_null(json_object_get(json_object_get(json_array_get(st, 1), "image"), "dockerImageManifest"));
    assert_null(json_object_get(json_object_get(json_array_get(st, 3), "image"), "dockerImageManifest"));
    json_t *s = get_obj("imagestreams", "ns", "dd");
    assert_non_null(is_spec_tag(s, "a"));
    assert_non_null(is_spec_tag(s, "b"));
    assert_non_null(is_spec_tag(s, "c"));   /* to: null is defaulted from the tag (§0.6) */
    json_decref(s);
    json_decref(o.res);
}

typedef struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    json_t *res;
} waiter_t;

static void on_done_async(api_call_t *c, json_t *result, void *arg)
{
    waiter_t *w = arg;
    pthread_mutex_lock(&w->mu);
    w->res = result;
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* 40 images answered from 40 threads: the run collects them all (ASan/TSan-clean refcount
 * and job list), at most ISI_MAX_INFLIGHT at once, and completes once. */
static void test_run_threaded(void **state)
{
    F->icfg.registry = &threaded_ops;
    buf_t b;
    buf_init(&b);
    for (int i = 0; i < 40; i++)
        buf_printf(&b, "%s{\"from\":{\"kind\":\"DockerImage\",\"name\":\"a:t%d\"},\"to\":{\"name\":\"t%d\"}}",
                   i ? "," : "", i, i);
    char *images = buf_steal(&b);
    char *t = isi_text("th", true, images);
    free(images);
    json_t *isi = json_loads(t, 0, NULL);
    free(t);
    api_call_t *c = api_call_new(F->api, &api_user_anonymous, "test");
    waiter_t w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, NULL};
    isi_run(c, "ns", isi, NULL, on_done_async, &w);
    json_decref(isi);
    pthread_mutex_lock(&w.mu);
    while (!w.done)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    api_call_free(c);
    assert_non_null(w.res);
    json_t *imgs = json_object_get(json_object_get(w.res, "status"), "images");
    assert_int_equal(json_array_size(imgs), 40);
    for (size_t i = 0; i < 40; i++)
        assert_string_equal(ij_str(json_object_get(json_array_get(imgs, i), "status"), "status"), "Success");
    assert_int_equal(FK.fetches, 40);
    json_decref(w.res);
    json_t *s = get_obj("imagestreams", "ns", "th");
    assert_int_equal(json_array_size(json_object_get(json_object_get(s, "spec"), "tags")), 40);
    json_decref(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validate_cases),
        cmocka_unit_test(test_defaulting),
        cmocka_unit_test(test_stream_checks),
        cmocka_unit_test(test_allow_list),
        cmocka_unit_test(test_refs),
        cmocka_unit_test(test_status_mapping),
        cmocka_unit_test(test_tag_order),
        cmocka_unit_test(test_stream_apply),
        cmocka_unit_test_setup_teardown(test_run_no_import, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_import_new_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_failure_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_dry_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_preserve_and_prefer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_repository, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_pull_secret, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_threaded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_dedup_and_manifests, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
