/* The internal object API (resource.h) without HTTP, as a controller uses it: calls made
 * from threads that are not request threads, with a field manager of their own; the
 * embedded store's read barrier; the Status shapes of errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <time.h>

#include "test_fixture.h"
#include "api/api_internal.h"

#define MANAGER "image-apiserver-import-controller"

static int setup(void **state)
{
    *state = fx_up(false);
    return 0;
}

static int teardown(void **state)
{
    fx_down(*state);
    return 0;
}

static const api_kind_t *widgets(fx_t *f) { return api_kind_find(f->api, "widgets"); }

static json_t *widget(const char *name, const char *type)
{
    return json_pack("{s:{s:s}, s:s}", "metadata", "name", name, "type", type);
}

static const char *meta_s(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(json_object_get(o, "metadata"), key));
}

static json_t *create(fx_t *f, const char *ns, const char *name, const char *type)
{
    api_call_t *c = api_call_new(f->api, &api_user_anonymous, MANAGER);
    json_t *w = widget(name, type);
    json_t *out = api_obj_create(c, widgets(f), ns, w);
    if (!out)
        fail_msg("create %s: %s", name, api_call_err(c)->message);
    json_decref(w);
    api_call_free(c);
    return out;
}

static void test_crud(void **state)
{
    fx_t *f = *state;
    api_call_t *c = api_call_new(f->api, &api_user_anonymous, MANAGER);
    assert_ptr_equal(api_call_api(c), f->api);
    assert_ptr_equal(api_call_user(c), &api_user_anonymous);
    assert_false(api_call_dry_run(c));
    assert_int_equal(strlen(api_call_now(c)), 20);   /* 2026-01-02T03:04:05Z */
    const api_kind_t *k = widgets(f);

    json_t *w = widget("w1", "round");
    json_t *out = api_obj_create(c, k, "ns", w);
    json_decref(w);
    assert_non_null(out);
    assert_string_equal(json_string_value(json_object_get(out, "kind")), "Widget");
    assert_string_equal(json_string_value(json_object_get(out, "apiVersion")), TK_GROUP "/v1");
    assert_string_equal(meta_s(out, "namespace"), "ns");
    assert_non_null(meta_s(out, "uid"));
    assert_non_null(meta_s(out, "creationTimestamp"));
    assert_string_equal(json_string_value(json_object_get(out, "imageIdentity")), "set-by-prepare-create");
    json_t *mf = json_array_get(json_object_get(json_object_get(out, "metadata"), "managedFields"), 0);
    assert_non_null(mf);
    assert_string_equal(json_string_value(json_object_get(mf, "manager")), MANAGER);
    assert_string_equal(json_string_value(json_object_get(mf, "operation")), "Update");
    char rv1[32];
    snprintf(rv1, sizeof rv1, "%s", meta_s(out, "resourceVersion"));
    assert_int_equal(strtoll(rv1, NULL, 10), store_current_rev(f->store));

    json_t *got = api_obj_get(c, k, "ns", "w1");
    assert_non_null(got);
    assert_true(json_equal(got, out));
    json_decref(got);

    /* an update without a resourceVersion is unconditional */
    json_object_set_new(out, "type", json_string("square"));
    json_object_del(json_object_get(out, "metadata"), "resourceVersion");
    json_t *up = api_obj_update(c, k, "ns", "w1", out, NULL);
    assert_non_null(up);
    assert_string_equal(json_string_value(json_object_get(up, "type")), "square");
    assert_true(strtoll(meta_s(up, "resourceVersion"), NULL, 10) > strtoll(rv1, NULL, 10));
    assert_string_equal(meta_s(up, "uid"), meta_s(out, "uid"));

    /* with a stale one: 409 */
    json_object_set_new(json_object_get(out, "metadata"), "resourceVersion", json_string(rv1));
    assert_null(api_obj_update(c, k, "ns", "w1", out, NULL));
    assert_int_equal(api_call_err(c)->kind, APIERR_CONFLICT);
    assert_string_equal(api_call_err(c)->message,
                        "Operation cannot be fulfilled on widgets.image.openshift.io \"w1\": the object has been "
                        "modified; please apply your changes to the latest version and try again");
    apierr_clear(api_call_err(c));
    /* rv_required without one: 422 */
    json_object_del(json_object_get(out, "metadata"), "resourceVersion");
    api_write_opts_t req = {.rv_required = true};
    assert_null(api_obj_update(c, k, "ns", "w1", out, &req));
    assert_int_equal(api_call_err(c)->kind, APIERR_INVALID);
    apierr_clear(api_call_err(c));
    /* validation: 422 with the kind's wording */
    json_object_set_new(out, "type", json_string("invalid"));
    assert_null(api_obj_update(c, k, "ns", "w1", out, NULL));
    assert_int_equal(api_call_err(c)->kind, APIERR_INVALID);
    assert_string_equal(api_call_err(c)->message,
                        "Widget.image.openshift.io \"w1\" is invalid: type: Invalid value: \"invalid\": must not be "
                        "\"invalid\"");
    apierr_clear(api_call_err(c));
    json_decref(out);

    bool pending = true;
    json_t *del = api_obj_delete(c, k, "ns", "w1", NULL, NULL, &pending);
    assert_non_null(del);
    assert_false(pending);
    assert_string_equal(meta_s(del, "name"), "w1");
    json_decref(del);
    assert_null(api_obj_get(c, k, "ns", "w1"));
    assert_int_equal(api_call_err(c)->kind, APIERR_NOT_FOUND);
    assert_string_equal(api_call_err(c)->message, "widgets.image.openshift.io \"w1\" not found");
    apierr_clear(api_call_err(c));
    assert_null(api_obj_delete(c, k, "ns", "w1", NULL, NULL, &pending));
    assert_int_equal(api_call_err(c)->kind, APIERR_NOT_FOUND);
    apierr_clear(api_call_err(c));
    json_decref(up);
    api_call_free(c);
}

static void test_dry_run(void **state)
{
    fx_t *f = *state;
    json_t *base = create(f, "ns", "w1", "round");
    int64_t rev = store_current_rev(f->store);
    api_call_t *c = api_call_new(f->api, &api_user_anonymous, MANAGER);
    api_call_set_dry_run(c, true);
    assert_true(api_call_dry_run(c));
    const api_kind_t *k = widgets(f);

    json_t *w = widget("w2", "round");
    json_t *out = api_obj_create(c, k, "ns", w);
    assert_non_null(out);
    assert_string_equal(meta_s(out, "name"), "w2");
    json_decref(out);
    /* an existing name conflicts in a dry run too */
    json_object_set_new(json_object_get(w, "metadata"), "name", json_string("w1"));
    assert_null(api_obj_create(c, k, "ns", w));
    assert_int_equal(api_call_err(c)->kind, APIERR_ALREADY_EXISTS);
    apierr_clear(api_call_err(c));
    json_decref(w);

    json_t *chg = json_deep_copy(base);
    json_object_set_new(chg, "type", json_string("square"));
    out = api_obj_update(c, k, "ns", "w1", chg, NULL);
    assert_non_null(out);
    assert_string_equal(json_string_value(json_object_get(out, "type")), "square");
    json_decref(out);
    json_decref(chg);
    bool pending;
    out = api_obj_delete(c, k, "ns", "w1", NULL, NULL, &pending);
    assert_non_null(out);
    json_decref(out);
    assert_int_equal(store_current_rev(f->store), rev);   /* nothing written */

    api_call_set_dry_run(c, false);
    assert_null(api_obj_get(c, k, "ns", "w2"));
    apierr_clear(api_call_err(c));
    out = api_obj_get(c, k, "ns", "w1");
    assert_non_null(out);
    assert_string_equal(json_string_value(json_object_get(out, "type")), "round");
    assert_string_equal(meta_s(out, "resourceVersion"), meta_s(base, "resourceVersion"));
    json_decref(out);
    json_decref(base);
    api_call_free(c);
}

/* ---- mutate ---- */

typedef struct mut_arg {
    fx_t *f;
    int i;
    int calls;
    bool ok;
    const char *rv;
} mut_arg_t;

static int add_annotation(api_call_t *c, json_t **obj, void *arg)
{
    mut_arg_t *m = arg;
    m->calls++;
    json_t *meta = json_object_get(*obj, "metadata");
    json_t *annos = json_object_get(meta, "annotations");
    if (!annos) {
        annos = json_object();
        json_object_set_new(meta, "annotations", annos);
    }
    char key[32];
    snprintf(key, sizeof key, "t%d", m->i);
    json_object_set_new(annos, key, json_string("x"));
    usleep(1000);   /* widen the window between read and write */
    return 0;
}

static void *mutator(void *arg)
{
    mut_arg_t *m = arg;
    api_call_t *c = api_call_new(m->f->api, &api_user_anonymous, MANAGER);
    json_t *out = api_obj_mutate(c, widgets(m->f), "ns", "w1", add_annotation, m, NULL);
    m->ok = out != NULL;
    if (!out)
        fprintf(stderr, "mutator %d: %s\n", m->i, api_call_err(c)->message);
    json_decref(out);
    api_call_free(c);
    return NULL;
}

/* N threads mutate one object at once: the server retries its own conflicts, every change
 * lands. N = API_MUTATE_ATTEMPTS is the most that is guaranteed (each conflict of one
 * thread is another thread's write). */
static void test_mutate_concurrent(void **state)
{
    fx_t *f = *state;
    json_decref(create(f, "ns", "w1", "round"));
    enum { N = API_MUTATE_ATTEMPTS };
    pthread_t th[N];
    mut_arg_t args[N];
    for (int i = 0; i < N; i++) {
        args[i] = (mut_arg_t){.f = f, .i = i};
        pthread_create(&th[i], NULL, mutator, &args[i]);
    }
    int calls = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        assert_true(args[i].ok);
        calls += args[i].calls;
    }
    assert_true(calls >= N);
    api_call_t *c = api_call_new(f->api, &api_user_anonymous, MANAGER);
    json_t *out = api_obj_get(c, widgets(f), "ns", "w1");
    json_t *annos = json_object_get(json_object_get(out, "metadata"), "annotations");
    assert_int_equal(json_object_size(annos), N);
    for (int i = 0; i < N; i++) {
        char key[32];
        snprintf(key, sizeof key, "t%d", i);
        assert_non_null(json_object_get(annos, key));
    }
    json_decref(out);
    api_call_free(c);
}

static int set_stale_rv(api_call_t *c, json_t **obj, void *arg)
{
    mut_arg_t *m = arg;
    m->calls++;
    json_object_set_new(json_object_get(*obj, "metadata"), "resourceVersion", json_string(m->rv));
    json_object_set_new(*obj, "type", json_string("square"));
    return 0;
}

static int unchanged(api_call_t *c, json_t **obj, void *arg)
{
    mut_arg_t *m = arg;
    m->calls++;
    json_object_set_new(*obj, "type", json_string("would-be-ignored"));
    return API_MUTATE_UNCHANGED;
}

static int fail_fn(api_call_t *c, json_t **obj, void *arg)
{
    return apierr_set(api_call_err(c), APIERR_BAD_REQUEST, "no, thanks");
}

static int create_or_change(api_call_t *c, json_t **obj, void *arg)
{
    mut_arg_t *m = arg;
    m->calls++;
    if (!*obj) {
        m->ok = true;   /* saw NULL: absent */
        *obj = json_pack("{s:{s:{s:s}}, s:s}", "metadata", "labels", "made", "missing", "type", "fresh");
        return 0;
    }
    json_object_set_new(*obj, "type", json_string("changed"));
    return 0;
}

static void test_mutate_rules(void **state)
{
    fx_t *f = *state;
    json_t *base = create(f, "ns", "w1", "round");
    const api_kind_t *k = widgets(f);
    api_call_t *c = api_call_new(f->api, &api_user_anonymous, MANAGER);

    /* a resourceVersion set by fn is a precondition: 409, not retried */
    mut_arg_t m = {.i = 1};
    json_t *cur = api_obj_mutate(c, k, "ns", "w1", add_annotation, &m, NULL);   /* base is stale now */
    assert_non_null(cur);
    m = (mut_arg_t){.rv = meta_s(base, "resourceVersion")};
    assert_null(api_obj_mutate(c, k, "ns", "w1", set_stale_rv, &m, NULL));
    assert_int_equal(api_call_err(c)->kind, APIERR_CONFLICT);
    assert_int_equal(m.calls, 1);
    apierr_clear(api_call_err(c));

    /* UNCHANGED writes nothing and returns the current object */
    int64_t rev = store_current_rev(f->store);
    m = (mut_arg_t){0};
    json_t *out = api_obj_mutate(c, k, "ns", "w1", unchanged, &m, NULL);
    assert_non_null(out);
    assert_int_equal(m.calls, 1);
    assert_string_equal(json_string_value(json_object_get(out, "type")), "round");
    assert_string_equal(meta_s(out, "resourceVersion"), meta_s(cur, "resourceVersion"));
    json_decref(cur);
    assert_int_equal(store_current_rev(f->store), rev);
    json_decref(out);

    /* fn's error is the call's */
    assert_null(api_obj_mutate(c, k, "ns", "w1", fail_fn, NULL, NULL));
    assert_int_equal(api_call_err(c)->kind, APIERR_BAD_REQUEST);
    assert_string_equal(api_call_err(c)->message, "no, thanks");
    apierr_clear(api_call_err(c));

    /* absent without create_missing: 404, fn not called */
    m = (mut_arg_t){0};
    assert_null(api_obj_mutate(c, k, "ns", "w9", create_or_change, &m, NULL));
    assert_int_equal(api_call_err(c)->kind, APIERR_NOT_FOUND);
    assert_int_equal(m.calls, 0);
    apierr_clear(api_call_err(c));
    /* with create_missing: fn gets NULL, its result is created under the name */
    api_write_opts_t cm = {.create_missing = true};
    m = (mut_arg_t){0};
    out = api_obj_mutate(c, k, "ns", "w9", create_or_change, &m, &cm);
    assert_non_null(out);
    assert_true(m.ok);
    assert_string_equal(meta_s(out, "name"), "w9");
    assert_string_equal(meta_s(out, "namespace"), "ns");
    assert_string_equal(json_string_value(json_object_get(out, "type")), "fresh");
    assert_string_equal(json_string_value(json_object_get(out, "imageIdentity")), "set-by-prepare-create");
    json_decref(out);
    /* present with create_missing: an ordinary change */
    m = (mut_arg_t){0};
    out = api_obj_mutate(c, k, "ns", "w9", create_or_change, &m, &cm);
    assert_non_null(out);
    assert_false(m.ok);
    assert_string_equal(json_string_value(json_object_get(out, "type")), "changed");
    json_decref(out);
    json_decref(base);
    api_call_free(c);
}

/* ---- per-object serialisation ---- */

/* More writers than API_MUTATE_ATTEMPTS on one object: all succeed, and each function
 * runs exactly once (the object's lock orders them: no conflict among the server's own
 * writers, so none of the retry bound is spent on them). */
static void test_mutate_serialised(void **state)
{
    fx_t *f = *state;
    json_decref(create(f, "ns", "w1", "round"));
    enum { N = 3 * API_MUTATE_ATTEMPTS };
    pthread_t th[N];
    mut_arg_t args[N];
    for (int i = 0; i < N; i++) {
        args[i] = (mut_arg_t){.f = f, .i = i};
        pthread_create(&th[i], NULL, mutator, &args[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        assert_true(args[i].ok);
        assert_int_equal(args[i].calls, 1);
    }
    api_call_t *c = api_call_new(f->api, &api_user_anonymous, MANAGER);
    json_t *out = api_obj_get(c, widgets(f), "ns", "w1");
    assert_int_equal(json_object_size(json_object_get(json_object_get(out, "metadata"), "annotations")), N);
    json_decref(out);
    api_call_free(c);
}

/* A write nested in a mutate function (same object: the same stripe) takes no lock and
 * cannot deadlock; to the outer write it is a writer elsewhere: a conflict, retried. */
static int nested_fn(api_call_t *c, json_t **obj, void *arg)
{
    mut_arg_t *m = arg;
    if (m->calls++ == 0) {
        mut_arg_t inner = {.f = m->f, .i = 100};
        json_t *res = api_obj_mutate(c, widgets(m->f), "ns", "w1", add_annotation, &inner, NULL);
        if (!res)
            return -1;
        json_decref(res);
    }
    json_object_set_new(*obj, "type", json_string("outer"));
    return 0;
}

/* Another writer between every read and write: the bound is API_MUTATE_ATTEMPTS, then 409. */
static int always_beaten(api_call_t *c, json_t **obj, void *arg)
{
    mut_arg_t *m = arg;
    mut_arg_t inner = {.f = m->f, .i = 200 + m->calls++};
    json_t *res = api_obj_mutate(c, widgets(m->f), "ns", "w1", add_annotation, &inner, NULL);
    json_decref(res);
    json_object_set_new(*obj, "type", json_string("never"));
    return res ? 0 : -1;
}

static void test_mutate_bound(void **state)
{
    fx_t *f = *state;
    json_decref(create(f, "ns", "w1", "round"));
    api_call_t *c = api_call_new(f->api, &api_user_anonymous, MANAGER);
    mut_arg_t m = {.f = f};
    assert_null(api_obj_mutate(c, widgets(f), "ns", "w1", always_beaten, &m, NULL));
    assert_int_equal(api_call_err(c)->kind, APIERR_CONFLICT);
    assert_int_equal(m.calls, API_MUTATE_ATTEMPTS);
    apierr_clear(api_call_err(c));
    json_t *out = api_obj_get(c, widgets(f), "ns", "w1");
    assert_string_equal(json_string_value(json_object_get(out, "type")), "round");
    json_decref(out);
    api_call_free(c);
}

static int delete_nested_fn(api_call_t *c, json_t **obj, void *arg)
{
    mut_arg_t *m = arg;
    m->calls++;
    bool pending;
    json_t *res = api_obj_delete(c, widgets(m->f), "ns", "w2", NULL, NULL, &pending);
    m->ok = res != NULL;
    json_decref(res);
    return API_MUTATE_UNCHANGED;
}

static void test_mutate_nested(void **state)
{
    fx_t *f = *state;
    json_decref(create(f, "ns", "w1", "round"));
    json_decref(create(f, "ns", "w2", "round"));
    api_call_t *c = api_call_new(f->api, &api_user_anonymous, MANAGER);
    mut_arg_t m = {.f = f};
    json_t *out = api_obj_mutate(c, widgets(f), "ns", "w1", nested_fn, &m, NULL);
    assert_non_null(out);
    assert_int_equal(m.calls, 2);
    assert_string_equal(json_string_value(json_object_get(out, "type")), "outer");
    assert_non_null(json_object_get(json_object_get(json_object_get(out, "metadata"), "annotations"), "t100"));
    json_decref(out);
    /* a delete inside a mutate function: no lock either */
    m = (mut_arg_t){.f = f};
    out = api_obj_mutate(c, widgets(f), "ns", "w1", delete_nested_fn, &m, NULL);
    assert_non_null(out);
    assert_true(m.ok);
    json_decref(out);
    assert_null(api_obj_get(c, widgets(f), "ns", "w2"));
    assert_int_equal(api_call_err(c)->kind, APIERR_NOT_FOUND);
    apierr_clear(api_call_err(c));
    api_call_free(c);
}

/* ---- internal writes ---- */

static int set_conditions(api_call_t *c, json_t **obj, void *arg)
{
    const char *type = arg;
    if (!*obj)
        *obj = json_pack("{s:{}, s:s}", "metadata", "type", "round");
    json_object_set_new(*obj, "conditions", json_pack("[{s:s, s:s}]", "type", type, "status", "True"));
    if (strcmp(type, "Bad") == 0)
        json_object_set_new(*obj, "type", json_string("invalid"));
    return 0;
}

static const char *cond_type(const json_t *o)
{
    return json_string_value(json_object_get(json_array_get(json_object_get(o, "conditions"), 0), "type"));
}

static void test_internal_write(void **state)
{
    fx_t *f = *state;
    const api_kind_t *k = widgets(f);
    api_call_t *c = api_call_new(f->api, &api_user_anonymous, MANAGER);
    api_write_opts_t in = {.internal = true, .create_missing = true};

    /* create: prepare_internal, not prepare_create; what fn gave is stored */
    json_t *out = api_obj_mutate(c, k, "ns", "w1", set_conditions, "Made", &in);
    assert_non_null(out);
    assert_string_equal(json_string_value(json_object_get(out, "imageIdentity")), "internal-create");
    assert_string_equal(cond_type(out), "Made");
    json_decref(out);

    /* the public update restores conditions (the kind's status rule) ... */
    out = api_obj_mutate(c, k, "ns", "w1", set_conditions, "Public", NULL);
    assert_non_null(out);
    assert_string_equal(cond_type(out), "Made");
    json_decref(out);
    /* ... an internal one writes them as given */
    out = api_obj_mutate(c, k, "ns", "w1", set_conditions, "Internal", &in);
    assert_non_null(out);
    assert_string_equal(cond_type(out), "Internal");
    assert_string_equal(json_string_value(json_object_get(out, "imageIdentity")), "internal-update");
    json_decref(out);

    /* api_obj_update with a resourceVersion takes the flag too */
    json_t *cur = api_obj_get(c, k, "ns", "w1");
    json_object_set_new(cur, "conditions", json_pack("[{s:s, s:s}]", "type", "ByUpdate", "status", "True"));
    api_write_opts_t up = {.internal = true, .rv_required = true};
    out = api_obj_update(c, k, "ns", "w1", cur, &up);
    assert_non_null(out);
    assert_string_equal(cond_type(out), "ByUpdate");
    json_decref(out);
    json_decref(cur);

    /* validation still applies: 422, nothing written */
    int64_t rev = store_current_rev(f->store);
    assert_null(api_obj_mutate(c, k, "ns", "w1", set_conditions, "Bad", &in));
    assert_int_equal(api_call_err(c)->kind, APIERR_INVALID);
    apierr_clear(api_call_err(c));
    /* dry run: the result, nothing written (update and create) */
    api_call_set_dry_run(c, true);
    out = api_obj_mutate(c, k, "ns", "w1", set_conditions, "Dry", &in);
    assert_non_null(out);
    assert_string_equal(cond_type(out), "Dry");
    json_decref(out);
    out = api_obj_mutate(c, k, "ns", "w-new", set_conditions, "DryNew", &in);
    assert_non_null(out);
    assert_string_equal(cond_type(out), "DryNew");
    json_decref(out);
    api_call_set_dry_run(c, false);
    assert_int_equal(store_current_rev(f->store), rev);
    out = api_obj_get(c, k, "ns", "w1");
    assert_string_equal(cond_type(out), "ByUpdate");
    json_decref(out);
    assert_null(api_obj_get(c, k, "ns", "w-new"));
    apierr_clear(api_call_err(c));
    api_call_free(c);
}

static int count_fn(void *arg, const json_t *obj)
{
    int *n = arg;
    (*n)++;
    return *n == 2 ? 1 : 0;   /* stop after two */
}

static int fail_list(void *arg, const json_t *obj) { return -1; }

static void test_list(void **state)
{
    fx_t *f = *state;
    json_decref(create(f, "ns", "a", "round"));
    json_decref(create(f, "ns", "b", "round"));
    json_decref(create(f, "ns", "c", "round"));
    json_decref(create(f, "other", "d", "round"));
    api_call_t *c = api_call_new(f->api, &api_user_anonymous, MANAGER);
    int n = 0;
    assert_int_equal(api_obj_list(c, widgets(f), "ns", count_fn, &n), 0);
    assert_int_equal(n, 2);
    n = -100;
    assert_int_equal(api_obj_list(c, widgets(f), NULL, count_fn, &n), 0);
    assert_int_equal(n, -96);   /* all four */
    assert_int_equal(api_obj_list(c, widgets(f), "ns", fail_list, NULL), -1);
    assert_int_equal(api_call_err(c)->kind, APIERR_INTERNAL);
    api_call_free(c);
}

/* The embedded store updates the cache before a write returns: nothing to wait for. */
static void test_read_barrier(void **state)
{
    fx_t *f = *state;
    assert_false(store_reads_need_barrier(f->store));
    json_decref(create(f, "ns", "w1", "round"));
    api_call_t *c = api_call_new(f->api, &api_user_anonymous, MANAGER);
    cache_t *cache = widgets(f)->cache;
    assert_non_null(cache);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(api_consistent_read(c, cache), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    assert_true(ms < 500);
    assert_int_equal(cache_rev(cache), store_current_rev(f->store));
    /* a revision the cache has: at once; one it will never reach: 504 */
    assert_int_equal(api_wait_rev(c, cache, cache_rev(cache)), 0);
    assert_int_equal(api_wait_rev(c, cache, cache_rev(cache) + 100), -1);
    assert_int_equal(api_call_err(c)->kind, APIERR_TIMEOUT);
    assert_non_null(strstr(api_call_err(c)->message, "Too large resource version"));
    api_call_free(c);
}

/* ---- Status ---- */

static json_t *status_of(apierr_t *e)
{
    json_t *s = apierr_status_json(e);
    assert_string_equal(json_string_value(json_object_get(s, "kind")), "Status");
    assert_string_equal(json_string_value(json_object_get(s, "apiVersion")), "v1");
    assert_true(json_is_object(json_object_get(s, "metadata")));
    assert_string_equal(json_string_value(json_object_get(s, "status")), "Failure");
    return s;
}

static void test_status(void **state)
{
    fx_t *f = *state;
    apierr_t e = APIERR_INIT;
    apierr_not_found(&e, "widgets", TK_GROUP, "w1");
    json_t *s = status_of(&e);
    assert_int_equal(json_integer_value(json_object_get(s, "code")), 404);
    assert_string_equal(json_string_value(json_object_get(s, "reason")), "NotFound");
    assert_string_equal(json_string_value(json_object_get(s, "message")), "widgets.image.openshift.io \"w1\" not found");
    json_t *d = json_object_get(s, "details");
    assert_string_equal(json_string_value(json_object_get(d, "name")), "w1");
    assert_string_equal(json_string_value(json_object_get(d, "group")), TK_GROUP);
    assert_string_equal(json_string_value(json_object_get(d, "kind")), "widgets");
    assert_null(json_object_get(d, "retryAfterSeconds"));
    json_decref(s);
    apierr_clear(&e);

    /* the store's failures: one mapping */
    const kind_def_t *k = widgets(f);
    api_store_err(&e, k, STORE_UNAVAILABLE, "w1");
    s = status_of(&e);
    assert_int_equal(json_integer_value(json_object_get(s, "code")), 503);
    assert_string_equal(json_string_value(json_object_get(s, "reason")), "ServiceUnavailable");
    assert_string_equal(json_string_value(json_object_get(s, "message")), "storage is unavailable, please try again");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(s, "details"), "retryAfterSeconds")), 1);
    json_decref(s);
    apierr_clear(&e);
    static const struct { int rc; int code; const char *reason; } map[] = {
        {STORE_NOT_FOUND, 404, "NotFound"}, {STORE_EXISTS, 409, "AlreadyExists"}, {STORE_CONFLICT, 409, "Conflict"},
        {STORE_COMPACTED, 410, "Expired"}, {STORE_TOO_LARGE, 413, "RequestEntityTooLarge"},
        {STORE_FUTURE_REV, 504, "Timeout"},
    };
    for (size_t i = 0; i < sizeof map / sizeof *map; i++) {
        api_store_err(&e, k, map[i].rc, "w1");
        s = status_of(&e);
        assert_int_equal(json_integer_value(json_object_get(s, "code")), map[i].code);
        assert_string_equal(json_string_value(json_object_get(s, "reason")), map[i].reason);
        json_decref(s);
        apierr_clear(&e);
    }

    /* retryAfterSeconds joins existing details */
    apierr_set_details(&e, APIERR_TOO_MANY_REQUESTS, json_pack("{s:s}", "name", "x"), "slow down");
    e.retry_after = 3;
    s = status_of(&e);
    assert_int_equal(json_integer_value(json_object_get(s, "code")), 429);
    d = json_object_get(s, "details");
    assert_string_equal(json_string_value(json_object_get(d, "name")), "x");
    assert_int_equal(json_integer_value(json_object_get(d, "retryAfterSeconds")), 3);
    json_decref(s);
    apierr_clear(&e);

    /* 422 with causes */
    ferrs_t fe = FERRS_INIT;
    ferrs_add(&fe, FERR_REQUIRED, "type", NULL, NULL);
    apierr_invalid(&e, "Widget.image.openshift.io", "Widget", TK_GROUP, "w1", &fe);
    ferrs_free(&fe);
    s = status_of(&e);
    assert_int_equal(json_integer_value(json_object_get(s, "code")), 422);
    assert_string_equal(json_string_value(json_object_get(s, "reason")), "Invalid");
    assert_string_equal(json_string_value(json_object_get(s, "message")),
                        "Widget.image.openshift.io \"w1\" is invalid: type: Required value");
    d = json_object_get(s, "details");
    assert_string_equal(json_string_value(json_object_get(d, "kind")), "Widget");
    json_t *cause = json_array_get(json_object_get(d, "causes"), 0);
    assert_string_equal(json_string_value(json_object_get(cause, "reason")), "FieldValueRequired");
    assert_string_equal(json_string_value(json_object_get(cause, "field")), "type");
    json_decref(s);
    apierr_clear(&e);

    /* an unset error is still a Status: 500 */
    s = status_of(&e);
    assert_int_equal(json_integer_value(json_object_get(s, "code")), 500);
    assert_string_equal(json_string_value(json_object_get(s, "reason")), "InternalError");
    assert_null(json_object_get(s, "details"));
    json_decref(s);
    /* invalid UTF-8 in a message (a %ff in a path) is replaced, not dropped */
    apierr_set(&e, APIERR_NOT_FOUND, "widgets.image.openshift.io \"a\xff\" not found");
    s = status_of(&e);
    assert_string_equal(json_string_value(json_object_get(s, "message")),
                        "widgets.image.openshift.io \"a\xEF\xBF\xBD\" not found");
    json_decref(s);
    apierr_clear(&e);

    s = status_success("w1", TK_GROUP, "widgets", "u-1");
    assert_string_equal(json_string_value(json_object_get(s, "status")), "Success");
    d = json_object_get(s, "details");
    assert_string_equal(json_string_value(json_object_get(d, "name")), "w1");
    assert_string_equal(json_string_value(json_object_get(d, "kind")), "widgets");
    assert_string_equal(json_string_value(json_object_get(d, "uid")), "u-1");
    json_decref(s);
}

/* Domain code asks the authorizer on behalf of the call's user. */
static void test_authorize(void **state)
{
    fx_t *f = *state;
    static const char *const groups[] = {"system:serviceaccounts", "system:authenticated", NULL};
    static const api_user_t sa = {"system:serviceaccount:ns:builder", "uid-1", groups, NULL};
    api_call_t *c = api_call_new(f->api, &sa, MANAGER);
    az_reset(&f->az, AZ_DENY_WIDGET_UPDATE, NULL);
    assert_int_equal(api_authorize(c, "get", TK_GROUP, "widgets", NULL, "ns", "w1"), 0);
    assert_int_equal(api_authorize(c, "update", TK_GROUP, "widgets", NULL, "ns", "w1"), -1);
    assert_int_equal(api_call_err(c)->kind, APIERR_FORBIDDEN);
    assert_string_equal(api_call_err(c)->message,
                        "widgets.image.openshift.io \"w1\" is forbidden: User \"system:serviceaccount:ns:builder\" "
                        "cannot update resource \"widgets\" in API group \"image.openshift.io\" in the namespace "
                        "\"ns\": widgets are read-only here");
    assert_int_equal(f->az.n, 2);
    az_call_t *z = &f->az.calls[1];
    assert_string_equal(z->user, "system:serviceaccount:ns:builder");
    assert_string_equal(z->groups, "system:serviceaccounts,system:authenticated");
    assert_string_equal(z->verb, "update");
    assert_string_equal(z->sub, "");
    assert_true(z->resource_request);
    api_call_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_crud, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dry_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mutate_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mutate_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mutate_serialised, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mutate_nested, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mutate_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_internal_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_barrier, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_authorize, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
