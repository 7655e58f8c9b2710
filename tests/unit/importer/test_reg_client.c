/* importer/reg_client.c against the mock registry of fault_server.py (Bearer and Basic modes):
 * ping, challenge, token with scope and its cache, rejected credentials retried anonymously,
 * HEAD then GET, an unchanged digest costing one HEAD, digest mismatch, manifest unknown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "importer/importer.h"
#include "util/util.h"

#include "fault_spawn.h"
#include "importer/reg_client.h"

#include <curl/curl.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t pids[2];
static int stdins[2] = {-1, -1};
static int bearer_port, basic_port;

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done, unchanged, fetched;
    int status;
    char error[512], digest[80];
    int kind;
    size_t nlayers;
} res_t;

static void on_done(void *ctx, const reg_manifest_result_t *r)
{
    res_t *res = ctx;
    pthread_mutex_lock(&res->mu);
    res->status = r->status;
    snprintf(res->error, sizeof res->error, "%s", r->error ? r->error : "");
    snprintf(res->digest, sizeof res->digest, "%s", r->digest ? r->digest : "");
    res->unchanged = r->unchanged;
    res->fetched = r->manifest != NULL;
    res->kind = r->manifest ? (int)r->manifest->kind : 0;
    res->nlayers = r->manifest ? r->manifest->nlayers : 0;
    res->done = true;
    pthread_cond_signal(&res->cv);
    pthread_mutex_unlock(&res->mu);
}

static long max_age_ms; /* reg_manifest_req_t.max_age_ms of the next get() */

static void get(reg_client_t *c, int port, const char *repo, const char *ref, const char *user, const char *pass,
                const char *known, res_t *res)
{
    char reg[32];
    snprintf(reg, sizeof reg, "127.0.0.1:%d", port);
    memset(res, 0, sizeof *res);
    pthread_mutex_init(&res->mu, NULL);
    pthread_cond_init(&res->cv, NULL);
    reg_manifest_req_t rq = {.registry = reg, .repository = repo, .reference = ref, .known_digest = known,
                             .username = user, .password = pass, .insecure = true, .timeout_ms = 5000,
                             .max_age_ms = max_age_ms};
    assert_int_equal(reg_client_get_manifest(c, &rq, on_done, res), 0);
    pthread_mutex_lock(&res->mu);
    while (!res->done)
        pthread_cond_wait(&res->cv, &res->mu);
    pthread_mutex_unlock(&res->mu);
}

/* a plain GET of a counter path on the server (through curl's easy interface) */
static size_t sink(char *p, size_t sz, size_t n, void *ud)
{
    buf_append(ud, p, sz * n);
    return sz * n;
}

static char *server_get(int port, const char *path)
{
    char *u = xasprintf("http://127.0.0.1:%d%s", port, path);
    CURL *e = curl_easy_init();
    buf_t b;
    buf_init(&b);
    curl_easy_setopt(e, CURLOPT_URL, u);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
    assert_int_equal(curl_easy_perform(e), CURLE_OK);
    curl_easy_cleanup(e);
    free(u);
    buf_putc(&b, 0);
    return buf_steal(&b);
}

static int mhits(int port, const char *method, const char *path)
{
    char *p = xasprintf("/mhits/%s%s", method, path);
    char *s = server_get(port, p);
    int n = atoi(s);
    free(s);
    free(p);
    return n;
}

static int setup(void **state)
{
    bearer_port = fault_spawn("bearer", &pids[0], &stdins[0]);
    basic_port = fault_spawn("basic", &pids[1], &stdins[1]);
    if (bearer_port <= 0 || basic_port <= 0)
        return -1;
    reg_http_opts_t o = {.retry_base_ms = 50};
    *state = reg_client_new(&o);
    return 0;
}

static int teardown(void **state)
{
    reg_client_free(*state);
    for (int i = 0; i < 2; i++) {
        close(stdins[i]);
        kill(pids[i], SIGTERM);
        waitpid(pids[i], NULL, 0);
    }
    return 0;
}

/* anonymous Bearer: ping, token with the pull scope and the service, GET (no HEAD without
 * a digest to compare); then the cached challenge and token make the second lookup, with
 * the digest known, one HEAD (unchanged) */
static void test_bearer_anonymous(void **state)
{
    reg_client_t *c = *state;
    res_t r;
    get(c, bearer_port, "pub/app", "v1", NULL, NULL, NULL, &r);
    assert_string_equal(r.error, "");
    assert_true(r.fetched);
    assert_int_equal(r.kind, REG_KIND_SCHEMA2);
    assert_int_equal(r.nlayers, 1);
    assert_true(str_has_prefix(r.digest, "sha256:"));
    char *scopes = server_get(bearer_port, "/scopes");
    assert_string_equal(scopes, "repository:pub/app:pull test-registry");
    free(scopes);
    assert_int_equal(mhits(bearer_port, "GET", "/v2/"), 1);
    assert_int_equal(mhits(bearer_port, "HEAD", "/v2/pub/app/manifests/v1"), 0);
    assert_int_equal(mhits(bearer_port, "GET", "/v2/pub/app/manifests/v1"), 1);
    char digest[80];
    snprintf(digest, sizeof digest, "%s", r.digest);
    get(c, bearer_port, "pub/app", "v1", NULL, NULL, digest, &r);
    assert_string_equal(r.error, "");
    assert_true(r.unchanged);
    assert_false(r.fetched);
    assert_string_equal(r.digest, digest);
    assert_int_equal(mhits(bearer_port, "GET", "/v2/"), 1);          /* challenge cached */
    assert_int_equal(mhits(bearer_port, "GET", "/token"), 1);        /* token cached */
    assert_int_equal(mhits(bearer_port, "HEAD", "/v2/pub/app/manifests/v1"), 1);
    assert_int_equal(mhits(bearer_port, "GET", "/v2/pub/app/manifests/v1"), 1); /* no GET */
    /* by digest */
    get(c, bearer_port, "pub/app", digest, NULL, NULL, NULL, &r);
    assert_string_equal(r.error, "");
    assert_string_equal(r.digest, digest);
}

static void test_bearer_credentials(void **state)
{
    reg_client_t *c = *state;
    res_t r;
    get(c, bearer_port, "private/app", "v1", "user", "pass", NULL, &r);
    assert_string_equal(r.error, "");
    assert_true(r.fetched);
    get(c, bearer_port, "private/app", "v1", NULL, NULL, NULL, &r); /* anonymous token is refused */
    assert_int_equal(r.status, 401);
    assert_string_equal(r.error, "unauthorized: authentication required");
    /* a wrong credential is retried anonymously: public content still imports */
    get(c, bearer_port, "pub/app", "v1", "user", "wrong", NULL, &r);
    assert_string_equal(r.error, "");
    assert_true(r.fetched);
}

static void test_basic(void **state)
{
    reg_client_t *c = *state;
    res_t r;
    get(c, basic_port, "private/app", "v1", "user", "pass", NULL, &r);
    assert_string_equal(r.error, "");
    assert_true(r.fetched);
    get(c, basic_port, "pub/app", "v1", "user", "wrong", NULL, &r);
    assert_string_equal(r.error, "");
    assert_true(r.fetched);
    get(c, basic_port, "private/app", "v1", "user", "wrong", NULL, &r);
    assert_int_equal(r.status, 401);
    assert_string_equal(r.error, REG_BAD_CREDENTIALS); /* the credential, not the access */
    get(c, basic_port, "private/app", "v1", NULL, NULL, NULL, &r);
    assert_string_equal(r.error, "unauthorized: authentication required");
}

static void test_failures(void **state)
{
    reg_client_t *c = *state;
    res_t r;
    get(c, bearer_port, "pub/missing", "v1", NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 404);
    assert_string_equal(r.error, "manifest unknown");
    get(c, bearer_port, "pub/bad", "v1", NULL, NULL, NULL, &r);
    assert_non_null(strstr(r.error, "content integrity error: the manifest retrieved with digest"));
    assert_false(r.fetched);
    /* names that could escape the URL path are refused before any request */
    reg_manifest_req_t rq = {.registry = "127.0.0.1:1", .repository = "a/../b", .reference = "v1"};
    assert_int_equal(reg_client_get_manifest(c, &rq, on_done, &r), -1);
    rq.repository = "a";
    rq.reference = "v1?x=1";
    assert_int_equal(reg_client_get_manifest(c, &rq, on_done, &r), -1);
}

/* signed schema 1: the digest covers the JWS payload, not the body; fetched by digest the
 * payload must hash to it, and a body changed after signing is refused */
static void test_schema1_digest(void **state)
{
    reg_client_t *c = *state;
    res_t r;
    char *want = server_get(bearer_port, "/s1-digest");
    get(c, bearer_port, "pub/s1", want, NULL, NULL, NULL, &r);
    assert_string_equal(r.error, "");
    assert_true(r.fetched);
    assert_int_equal(r.kind, REG_KIND_SCHEMA1);
    assert_string_equal(r.digest, want);
    get(c, bearer_port, "pub/s1", "v1", NULL, NULL, NULL, &r); /* by tag: the payload's digest */
    assert_string_equal(r.error, "");
    assert_string_equal(r.digest, want);
    get(c, bearer_port, "pub/s1-tampered", want, NULL, NULL, NULL, &r);
    assert_non_null(strstr(r.error, "content integrity error"));
    assert_false(r.fetched);
    free(want);
}

/* max_age_ms: a tag that resolved to the known digest within the window answers
 * "unchanged" with no request at all; an older answer, another digest, another credential
 * or no window go to the registry */
static void test_recent_resolution(void **state)
{
    reg_client_t *c = *state;
    res_t r;
    get(c, bearer_port, "pub/app", "v1", NULL, NULL, NULL, &r);
    assert_string_equal(r.error, "");
    char digest[80];
    snprintf(digest, sizeof digest, "%s", r.digest);
    int heads = mhits(bearer_port, "HEAD", "/v2/pub/app/manifests/v1");
    int gets = mhits(bearer_port, "GET", "/v2/pub/app/manifests/v1");
    max_age_ms = 60000;
    for (int i = 0; i < 3; i++) {
        get(c, bearer_port, "pub/app", "v1", NULL, NULL, digest, &r);
        assert_string_equal(r.error, "");
        assert_true(r.unchanged);
        assert_string_equal(r.digest, digest);
    }
    assert_int_equal(mhits(bearer_port, "HEAD", "/v2/pub/app/manifests/v1"), heads);
    assert_int_equal(mhits(bearer_port, "GET", "/v2/pub/app/manifests/v1"), gets);
    /* another known digest: the registry is asked (HEAD differs, then GET) */
    get(c, bearer_port, "pub/app", "v1", NULL, NULL,
        "sha256:0000000000000000000000000000000000000000000000000000000000000000", &r);
    assert_string_equal(r.error, "");
    assert_false(r.unchanged);
    assert_int_equal(mhits(bearer_port, "HEAD", "/v2/pub/app/manifests/v1"), heads + 1);
    /* another credential: its own lookup */
    get(c, bearer_port, "pub/app", "v1", "someone", "pw", digest, &r);
    assert_true(r.unchanged);
    assert_true(mhits(bearer_port, "HEAD", "/v2/pub/app/manifests/v1") >= heads + 2);
    /* the window passed */
    heads = mhits(bearer_port, "HEAD", "/v2/pub/app/manifests/v1");
    max_age_ms = 1;
    usleep(5000);
    get(c, bearer_port, "pub/app", "v1", NULL, NULL, digest, &r);
    assert_true(r.unchanged);
    assert_int_equal(mhits(bearer_port, "HEAD", "/v2/pub/app/manifests/v1"), heads + 1);
    max_age_ms = 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bearer_anonymous),
        cmocka_unit_test(test_bearer_credentials),
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_failures),
        cmocka_unit_test(test_schema1_digest),
        cmocka_unit_test(test_recent_resolution),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
