/* importer/reg_http.c against a fault-injecting HTTP server on 127.0.0.1 (fault_server.py):
 * bodies and headers, HEAD, body bounds, timeouts, Retry-After, retries, redirects, resets,
 * plain HTTP refused unless insecure, deduplication of identical requests in flight. */
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
#include "importer/reg_http.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t server_pid;
static int server_stdin = -1;
static int port;

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
    int status;
    char error[256];
    bool too_large, has_body;
    char body[64];
    char ct[64], digest[80], auth[256], link[128];
    int attempts;
} result_t;

static void on_done(void *ctx, const reg_http_resp_t *r)
{
    result_t *res = ctx;
    pthread_mutex_lock(&res->mu);
    res->status = r->status;
    snprintf(res->error, sizeof res->error, "%s", r->error ? r->error : "");
    res->too_large = r->too_large;
    res->has_body = r->body != NULL;
    snprintf(res->body, sizeof res->body, "%s", r->body ? r->body : "");
    snprintf(res->ct, sizeof res->ct, "%s", r->content_type);
    snprintf(res->digest, sizeof res->digest, "%s", r->docker_digest);
    snprintf(res->auth, sizeof res->auth, "%s", r->www_authenticate);
    snprintf(res->link, sizeof res->link, "%s", r->link);
    res->attempts = r->attempts;
    res->done++;
    pthread_cond_signal(&res->cv);
    pthread_mutex_unlock(&res->mu);
}

static void result_init(result_t *r)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
}

static void wait_done(result_t *r, int n)
{
    pthread_mutex_lock(&r->mu);
    while (r->done < n)
        pthread_cond_wait(&r->cv, &r->mu);
    pthread_mutex_unlock(&r->mu);
}

static char *url(const char *path)
{
    return xasprintf("http://127.0.0.1:%d%s", port, path);
}

/* One request to path, waited for; insecure (plain HTTP) unless said otherwise. */
static void fetch(reg_http_t *h, const char *method, const char *path, reg_http_req_t *tmpl, result_t *res)
{
    reg_http_req_t req = {.method = method, .max_body = 1024, .insecure = true, .timeout_ms = 5000};
    if (tmpl)
        req = *tmpl;
    req.method = method;
    char *u = url(path);
    req.url = u;
    result_init(res);
    assert_int_equal(reg_http_submit(h, &req, on_done, res), 0);
    wait_done(res, 1);
    free(u);
}

static int hits(reg_http_t *h, const char *path)
{
    char *p = xasprintf("/hits%s", path);
    result_t r;
    fetch(h, "GET", p, NULL, &r);
    free(p);
    assert_int_equal(r.status, 200);
    return atoi(r.body);
}

static int setup(void **state)
{
    port = fault_spawn("bearer", &server_pid, &server_stdin);
    if (port <= 0)
        return -1;
    reg_http_opts_t o = {.retry_base_ms = 50, .retry_after_max_s = 2};
    *state = reg_http_new(&o);
    return 0;
}

static int teardown(void **state)
{
    reg_http_free(*state);
    close(server_stdin);
    kill(server_pid, SIGTERM);
    waitpid(server_pid, NULL, 0);
    return 0;
}

static void test_get_and_head(void **state)
{
    reg_http_t *h = *state;
    result_t r;
    reg_http_req_t t = {.max_body = 1024, .insecure = true, .accept = "application/vnd.oci.image.index.v1+json"};
    fetch(h, "GET", "/ok", &t, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.error, "");
    assert_string_equal(r.body, "hello");
    assert_string_equal(r.ct, "application/json");
    assert_string_equal(r.digest, "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    assert_int_equal(r.attempts, 1);
    fetch(h, "HEAD", "/ok", &t, &r);
    assert_int_equal(r.status, 200);
    assert_false(r.has_body);
    assert_string_equal(r.digest, "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    fetch(h, "GET", "/nope", NULL, &r);
    assert_int_equal(r.status, 404);
    /* the Authorization header is sent as given */
    t.authorization = "Bearer tok123";
    fetch(h, "GET", "/echo-auth", &t, &r);
    assert_string_equal(r.body, "Bearer tok123");
}

/* repeated WWW-Authenticate headers arrive as one list; Link is kept */
static void test_headers(void **state)
{
    reg_http_t *h = *state;
    result_t r;
    fetch(h, "GET", "/auth", NULL, &r);
    assert_int_equal(r.status, 401);
    assert_string_equal(r.auth, "Basic realm=\"r\", Bearer realm=\"https://t/token\",service=\"s\"");
    fetch(h, "GET", "/link", NULL, &r);
    assert_string_equal(r.link, "</v2/x/tags/list?last=b&n=2>; rel=\"next\"");
}

static void test_body_bound(void **state)
{
    reg_http_t *h = *state;
    result_t r;
    reg_http_req_t t = {.max_body = 1000, .insecure = true};
    fetch(h, "GET", "/big", &t, &r);
    assert_true(r.too_large);
    assert_non_null(strstr(r.error, "larger than 1000 bytes"));
    assert_int_equal(r.attempts, 1); /* not retried */
    t.max_body = 100000;
    fetch(h, "GET", "/big", &t, &r);
    assert_false(r.too_large);
    assert_int_equal(r.status, 200);
}

static void test_timeout(void **state)
{
    reg_http_t *h = *state;
    result_t r;
    reg_http_req_t t = {.max_body = 1000, .insecure = true, .timeout_ms = 300};
    int64_t t0 = time_mono_ms();
    fetch(h, "GET", "/slow", &t, &r);
    assert_true(time_mono_ms() - t0 < 2500);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.error, "imeout"));
    assert_int_equal(r.attempts, 1);
}

static void test_retries(void **state)
{
    reg_http_t *h = *state;
    result_t r;
    int64_t t0 = time_mono_ms();
    fetch(h, "GET", "/flaky429", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "after429");
    assert_int_equal(r.attempts, 2);
    assert_true(time_mono_ms() - t0 >= 900); /* Retry-After: 1 honoured */
    assert_int_equal(hits(h, "/flaky429"), 2);
    reg_http_req_t t = {.max_body = 1000, .insecure = true, .max_attempts = 4};
    fetch(h, "GET", "/always503", &t, &r);
    assert_int_equal(r.status, 503);
    assert_int_equal(r.attempts, 4);
    assert_int_equal(hits(h, "/always503"), 4);
    fetch(h, "GET", "/500", &t, &r); /* a plain 500 is final */
    assert_int_equal(r.status, 500);
    assert_int_equal(r.attempts, 1);
    fetch(h, "GET", "/reset", &t, &r); /* connection reset: transient, retried, then an error */
    assert_int_equal(r.status, 0);
    assert_string_not_equal(r.error, "");
    assert_int_equal(r.attempts, 4);
}

static void test_redirects(void **state)
{
    reg_http_t *h = *state;
    result_t r;
    fetch(h, "GET", "/redirect", NULL, &r); /* manifests: not followed */
    assert_int_equal(r.status, 302);
    reg_http_req_t t = {.max_body = 1000, .insecure = true, .follow_redirects = true};
    fetch(h, "GET", "/redirect", &t, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "hello");
    fetch(h, "GET", "/redirect-loop", &t, &r);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.error, "edirect"));
    assert_true(hits(h, "/redirect-loop") <= 6);
}

static void test_plain_http_refused(void **state)
{
    reg_http_t *h = *state;
    result_t r;
    int before = hits(h, "/ok");
    reg_http_req_t t = {.max_body = 1000, .insecure = false};
    fetch(h, "GET", "/ok", &t, &r);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.error, "plain HTTP refused: the registry is not marked insecure");
    assert_int_equal(hits(h, "/ok"), before);
}

/* identical requests in flight share one transfer; a different Accept does not */
static void test_dedup(void **state)
{
    reg_http_t *h = *state;
    result_t r;
    result_init(&r);
    char *u = url("/shared");
    reg_http_req_t req = {.method = "GET", .url = u, .max_body = 100, .insecure = true};
    for (int i = 0; i < 3; i++)
        assert_int_equal(reg_http_submit(h, &req, on_done, &r), 0);
    req.accept = "application/json";
    assert_int_equal(reg_http_submit(h, &req, on_done, &r), 0);
    wait_done(&r, 4);
    free(u);
    assert_string_equal(r.body, "shared");
    assert_int_equal(hits(h, "/shared"), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_and_head), cmocka_unit_test(test_headers),   cmocka_unit_test(test_body_bound),
        cmocka_unit_test(test_timeout),      cmocka_unit_test(test_retries),   cmocka_unit_test(test_redirects),
        cmocka_unit_test(test_plain_http_refused), cmocka_unit_test(test_dedup),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
