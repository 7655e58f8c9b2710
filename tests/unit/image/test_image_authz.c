/* Cross-namespace tag sources through the real resource layer (embedded store in a temp
 * dir, the image domain's kinds) with an authorizer that denies "get imagestreams/layers"
 * in one namespace: the write fails with the reference's Forbidden cause and nothing is
 * written; the other namespace is allowed. */
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
#include "image/image.h"
#include "storage/storage.h"

static int asked_layers;

static api_authz_decision_t deny_secret_layers(void *ctx, const api_authz_attrs_t *at, char **reason)
{
    if (strcmp(at->resource, "imagestreams") || strcmp(at->subresource, "layers"))
        return API_AUTHZ_ALLOW;
    asked_layers++;
    if (strcmp(at->verb, "get") || strcmp(at->ns, "secret"))
        return API_AUTHZ_ALLOW;
    *reason = strdup("the secret namespace is closed");
    return API_AUTHZ_DENY;
}

static int rm_cb(const char *p, const struct stat *sb, int f, struct FTW *w) { return remove(p); }

static json_t *stream(const char *ns, const char *name, const char *from_ns, const char *from)
{
    return json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:[{s:s, s:{s:s, s:s, s:s}}]}}", "kind", "ImageStream", "apiVersion",
                     "image.openshift.io/v1", "metadata", "name", name, "namespace", ns, "spec", "tags", "name", "v1",
                     "from", "kind", "ImageStreamTag", "name", from, "namespace", from_ns);
}

static void test_cross_namespace_source_denied(void **state)
{
    char dir[] = "/tmp/ias-image-authz-XXXXXX";
    assert_non_null(mkdtemp(dir));
    store_options_t so = {.data_dir = dir, .compact_interval_s = 0};
    store_t *st = NULL;
    assert_int_equal(store_open_sqlite(&so, &st), STORE_OK);
    image_config_t icfg = {.default_import_mode = "Legacy"};
    api_config_t cfg = {.authorizer = deny_secret_layers, .domain = &icfg};
    cfg.kinds = image_kinds(&cfg.nkinds);
    api_t *a = api_new(&cfg, st);
    assert_int_equal(api_start(a), 0);
    const api_kind_t *is = api_kind_find(a, "imagestreams");

    api_call_t *c = api_call_new(a, &api_user_anonymous, "test");
    json_t *src = json_pack("{s:s, s:s, s:{s:s}}", "kind", "ImageStream", "apiVersion", "image.openshift.io/v1",
                            "metadata", "name", "base");
    json_t *made = api_obj_create(c, is, "secret", src);
    assert_non_null(made);
    json_decref(made);
    made = api_obj_create(c, is, "open", src);
    assert_non_null(made);
    json_decref(made);
    json_decref(src);

    json_t *o = stream("app", "s", "secret", "base:v1");
    asked_layers = 0;
    assert_null(api_obj_create(c, is, "app", o));
    const apierr_t *e = api_call_err(c);
    assert_int_equal(e->kind, APIERR_INVALID);
    assert_string_equal(e->message, "ImageStream.image.openshift.io \"s\" is invalid: : Internal error: imagestreams "
                                    "\"s\" is invalid: spec.tags[v1].from: Forbidden: secret/base: \"the secret "
                                    "namespace is closed\" \"\"");
    assert_int_equal(asked_layers, 1);
    json_decref(o);
    api_call_free(c);

    c = api_call_new(a, &api_user_anonymous, "test");
    assert_null(api_obj_get(c, is, "app", "s"));   /* nothing written */
    assert_int_equal(api_call_err(c)->kind, APIERR_NOT_FOUND);
    api_call_free(c);

    c = api_call_new(a, &api_user_anonymous, "test");
    o = stream("app", "s", "open", "base:v1");
    made = api_obj_create(c, is, "app", o);
    assert_non_null(made);
    json_decref(made);
    json_decref(o);
    api_call_free(c);

    api_stop(a);
    api_free(a);
    store_close(st);
    nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_cross_namespace_source_denied)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
