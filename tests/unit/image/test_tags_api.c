/* The tag kinds' handlers over the real resource layer (embedded store in a temp dir, the
 * image domain's kinds): a cross-namespace source the authorizer denies fails the tag write
 * with the stream's Forbidden cause and writes nothing; and when another writer changes the
 * stream between every read and write (here: from inside the authorizer, which the stream's
 * validation asks), create gives up with the reference's 500 ServerTimeout and an update
 * with 409, after the reference's attempts (10 for create, 4 for a blind ISTag PUT, case 18). */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/api.h"
#include "image/tags_int.h"
#include "storage/storage.h"

typedef struct fixture {
    char dir[64];
    store_t *st;
    api_t *api;
    image_config_t icfg;
    int race;      /* the authorizer writes the stream app/s this many more times it is asked (-1: always) */
    int asked;
} fixture_t;

static fixture_t *F;

static int bump(api_call_t *c, json_t **obj, void *arg)
{
    json_t *meta = json_object_get(*obj, "metadata");
    json_t *ann = json_object_get(meta, "annotations");
    if (!json_is_object(ann)) {
        ann = json_object();
        json_object_set_new(meta, "annotations", ann);
    }
    json_object_set_new(ann, "bumped", json_integer(F->asked));
    return 0;
}

static api_authz_decision_t authz(void *ctx, const api_authz_attrs_t *at, char **reason)
{
    if (strcmp(at->resource, "imagestreams") || strcmp(at->subresource, "layers"))
        return API_AUTHZ_ALLOW;
    F->asked++;
    if (F->race) {
        if (F->race > 0)
            F->race--;
        /* another writer of the stream being tagged (a nested write takes no lock) */
        api_call_t *c = api_call_new(F->api, &api_user_anonymous, "racer");
        json_decref(api_obj_mutate(c, api_kind_find(F->api, "imagestreams"), "app", "s", bump, NULL, NULL));
        api_call_free(c);
    }
    if (!strcmp(at->ns, "secret")) {
        *reason = strdup("closed");
        return API_AUTHZ_DENY;
    }
    return API_AUTHZ_ALLOW;
}

static int rm_cb(const char *p, const struct stat *sb, int f, struct FTW *w) { return remove(p); }

static int setup(void **state)
{
    F = calloc(1, sizeof *F);
    snprintf(F->dir, sizeof F->dir, "/tmp/ias-tags-api-XXXXXX");
    if (!mkdtemp(F->dir))
        return -1;
    store_options_t so = {.data_dir = F->dir, .compact_interval_s = 0};
    if (store_open_sqlite(&so, &F->st) != STORE_OK)
        return -1;
    F->icfg.default_import_mode = "Legacy";
    api_config_t cfg = {.authorizer = authz, .domain = &F->icfg};
    cfg.kinds = image_kinds(&cfg.nkinds);
    F->api = api_new(&cfg, F->st);
    if (api_start(F->api) != 0)
        return -1;
    const api_kind_t *is = api_kind_find(F->api, "imagestreams");
    api_call_t *c = api_call_new(F->api, &api_user_anonymous, "test");
    static const char *const streams[][2] = {{"secret", "base"}, {"open", "base"}, {"app", "s"}};
    for (size_t i = 0; i < 3; i++) {
        json_t *o = json_pack("{s:{s:s}}", "metadata", "name", streams[i][1]);
        json_t *made = api_obj_create(c, is, streams[i][0], o);
        json_decref(o);
        if (!made)
            return -1;
        json_decref(made);
    }
    api_call_free(c);
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

static json_t *istag(const char *name, const char *from_ns)
{
    return json_pack("{s:s, s:s, s:{s:s}, s:{s:{s:s, s:s, s:s}}}", "kind", "ImageStreamTag", "apiVersion",
                     "image.openshift.io/v1", "metadata", "name", name, "tag", "from", "kind", "ImageStreamTag", "name",
                     "base:v1", "namespace", from_ns);
}

static const char *stream_rv(void)
{
    static char rv[32];
    api_call_t *c = api_call_new(F->api, &api_user_anonymous, "test");
    json_t *s = api_obj_get(c, api_kind_find(F->api, "imagestreams"), "app", "s");
    snprintf(rv, sizeof rv, "%s", ij_str(json_object_get(s, "metadata"), "resourceVersion"));
    json_decref(s);
    api_call_free(c);
    return rv;
}

static void test_denied_source(void **state)
{
    char before[32];
    snprintf(before, sizeof before, "%s", stream_rv());
    api_call_t *c = api_call_new(F->api, &api_user_anonymous, "test");
    json_t *body = istag("s:v1", "secret");
    assert_null(istag_ops.create(c, "app", body));
    const apierr_t *e = api_call_err(c);
    assert_int_equal(e->kind, APIERR_INVALID);
    assert_non_null(strstr(e->message, "spec.tags[v1].from: Forbidden: secret/base: \"closed\""));
    assert_string_equal(stream_rv(), before);
    json_decref(body);
    api_call_free(c);

    c = api_call_new(F->api, &api_user_anonymous, "test");
    body = istag("s:v1", "open");
    json_t *out = istag_ops.create(c, "app", body);
    assert_non_null(out);
    assert_string_equal(ij_str(json_object_get(json_object_get(out, "tag"), "from"), "namespace"), "open");
    json_decref(out);
    json_decref(body);
    api_call_free(c);
}

static void test_other_writer_exhausts(void **state)
{
    F->race = -1;
    F->asked = 0;
    api_call_t *c = api_call_new(F->api, &api_user_anonymous, "test");
    json_t *body = istag("s:v2", "open");
    assert_null(istag_ops.create(c, "app", body));
    const apierr_t *e = api_call_err(c);
    assert_int_equal(e->kind, APIERR_SERVER_TIMEOUT);
    assert_string_equal(e->message, "The create operation against imagestreamtags.image.openshift.io could not be "
                                    "completed at this time, please try again.");
    assert_int_equal(e->retry_after, 2);
    json_t *st = apierr_status_json(e);
    assert_int_equal(ij_int(st, "code"), 500);
    assert_string_equal(ij_str(st, "reason"), "ServerTimeout");
    json_t *d = json_object_get(st, "details");
    assert_string_equal(ij_str(d, "name"), "create");
    assert_string_equal(ij_str(d, "kind"), "imagestreamtags");
    assert_int_equal(ij_int(d, "retryAfterSeconds"), 2);
    json_decref(st);
    assert_int_equal(F->asked, 10);
    api_call_free(c);

    /* a blind update keeps the reference's 409 (no ServerTimeout for PUT) after 4 attempts */
    F->asked = 0;
    c = api_call_new(F->api, &api_user_anonymous, "test");
    assert_null(istag_ops.update(c, "app", "s:v2", body));
    assert_int_equal(api_call_err(c)->kind, APIERR_CONFLICT);
    assert_int_equal(F->asked, 4);
    api_call_free(c);

    /* case 18: three conflicts, then the fourth attempt lands: 201 (the tag is new) */
    F->race = 3;
    F->asked = 0;
    c = api_call_new(F->api, &api_user_anonymous, "test");
    json_t *body3 = istag("s:v3", "open");
    json_t *put = istag_ops.update(c, "app", "s:v3", body3);
    assert_non_null(put);
    assert_int_equal(F->asked, 4);
    assert_string_equal(ij_str(json_object_get(put, "metadata"), "name"), "s:v3");
    json_decref(put);
    json_decref(body3);
    api_call_free(c);

    /* the other writer gone: the same create succeeds at once */
    F->race = 0;
    c = api_call_new(F->api, &api_user_anonymous, "test");
    json_t *out = istag_ops.create(c, "app", body);
    assert_non_null(out);
    json_decref(out);
    api_call_free(c);
    json_decref(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_denied_source, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_writer_exhausts, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
