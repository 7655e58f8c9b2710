/* etcd_raw: etcd's own put/range rates through its v3 JSON gateway (the path
 * src/storage/etcd_*.c uses): N threads, each with one libcurl easy handle
 * (one keep-alive connection), for a duration or a count. The client does
 * what a real one must: builds the JSON with base64 keys/values, parses the
 * answer with jansson and decodes every returned value.
 *
 *   etcd_raw -u http://127.0.0.1:2379 -o put|txn|get|prefix|seed [-c conns]
 *            [-d secs | -n count] [-s value_bytes] [-k keys] [-P key_prefix] [-S] [-R]
 *
 * put     unique keys P/<op>/<pid>/<thread>/<i>, value of -s bytes
 * txn     the same as a create-if-absent txn (compare create_revision = 0), as the server writes
 * seed    puts P/k/0 .. P/k/<keys-1> once (count mode), for get and prefix
 * get     range of the single key P/k/0
 * prefix  range of the prefix P/k/ (expects -k keys)
 * -S      serializable ranges (default linearizable, etcd's default and what a consistent read needs)
 * -R      ranges: check the status only, do not parse the JSON or decode values
 *         (separates the client's decoding cost from etcd's and the gateway's)
 *
 * Prints one line of key=value pairs; bench/etcd_grpc prints the same over gRPC. */
#include "bench_http.h"

#include <curl/curl.h>
#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

enum { OP_PUT, OP_TXN, OP_SEED, OP_GET, OP_PREFIX };

typedef struct er_opts {
    const char *url;
    const char *prefix;
    int op, conns, value_len, keys, serializable, raw;
    double secs;
    long count;
} er_opts_t;

typedef struct er_worker {
    pthread_t tid;
    const er_opts_t *o;
    int idx;
    bh_samples_t s;
    char first_error[256];
} er_worker_t;

typedef struct er_buf {
    char *p;
    size_t len, cap;
} er_buf_t;

static atomic_long er_next;
static double er_deadline;

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard base64 with padding, as the gateway wants; out needs 4*ceil(n/3)+1. */
static void b64_enc(const unsigned char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        out[o++] = B64[v >> 18 & 63];
        out[o++] = B64[v >> 12 & 63];
        out[o++] = i + 1 < n ? B64[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? B64[v & 63] : '=';
    }
    out[o] = '\0';
}

/* Decodes into out (needs 3*len/4 bytes); returns the decoded length or -1. */
static long b64_dec(const char *s, size_t len, unsigned char *out)
{
    static signed char rev[256];
    if (!rev['B']) {
        memset(rev, -1, sizeof rev);
        for (int i = 0; i < 64; i++)
            rev[(unsigned char)B64[i]] = (signed char)i;
    }
    long o = 0;
    unsigned v = 0;
    int bits = 0;
    for (size_t i = 0; i < len && s[i] != '='; i++) {
        int d = rev[(unsigned char)s[i]];
        if (d < 0)
            return -1;
        v = v << 6 | (unsigned)d;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(v >> bits);
        }
    }
    return o;
}

static size_t er_collect(char *p, size_t sz, size_t nm, void *arg)
{
    er_buf_t *b = arg;
    size_t n = sz * nm;
    if (b->len + n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap : 65536;
        while (ncap < b->len + n + 1)
            ncap *= 2;
        char *np = realloc(b->p, ncap);
        if (!np)
            return 0;
        b->p = np;
        b->cap = ncap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
    return n;
}

/* Checks a range answer: wanted kvs, each value decoded. Returns 0 or -1. */
static int er_check_range(const char *body, size_t len, int want, unsigned char *scratch)
{
    json_t *j = json_loadb(body, len, 0, NULL);
    json_t *kvs = json_object_get(j, "kvs");
    int ok = (int)json_array_size(kvs) == want;
    for (size_t i = 0; ok && i < json_array_size(kvs); i++) {
        const char *v = json_string_value(json_object_get(json_array_get(kvs, i), "value"));
        ok = v && b64_dec(v, strlen(v), scratch) >= 0;
    }
    json_decref(j);
    return ok ? 0 : -1;
}

static void er_fail(er_worker_t *w, const char *msg)
{
    if (w->s.errors++ == 0)
        snprintf(w->first_error, sizeof w->first_error, "%s", msg);
}

static void *er_run(void *arg)
{
    er_worker_t *w = arg;
    const er_opts_t *o = w->o;
    CURL *h = curl_easy_init();
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    size_t vb64 = 4 * ((size_t)o->value_len + 2) / 3 + 8;
    char *val = malloc((size_t)o->value_len + 1), *venc = malloc(vb64);
    char *req = malloc(vb64 + 2048);
    unsigned char *scratch = malloc(4u << 20);
    er_buf_t out = { 0 };
    char url[512], key[512], kenc[700], kenc2[700];
    if (!h || !hdrs || !val || !venc || !req || !scratch) {
        er_fail(w, "out of memory");
        goto done;
    }
    memset(val, 'v', (size_t)o->value_len);
    const char *path = o->op == OP_GET || o->op == OP_PREFIX ? "/v3/kv/range"
                       : o->op == OP_TXN                     ? "/v3/kv/txn"
                                                             : "/v3/kv/put";
    snprintf(url, sizeof url, "%s%s", o->url, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, er_collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
    const char *ser = o->serializable ? ",\"serializable\":true" : "";
    if (o->op == OP_GET) {
        int kl = snprintf(key, sizeof key, "%s/k/0", o->prefix);
        b64_enc((unsigned char *)key, (size_t)kl, kenc);
        snprintf(req, vb64 + 2048, "{\"key\":\"%s\"%s}", kenc, ser);
    } else if (o->op == OP_PREFIX) {
        int kl = snprintf(key, sizeof key, "%s/k/", o->prefix);
        b64_enc((unsigned char *)key, (size_t)kl, kenc);
        key[kl - 1]++; /* range end: the prefix with its last byte + 1 */
        b64_enc((unsigned char *)key, (size_t)kl, kenc2);
        snprintf(req, vb64 + 2048, "{\"key\":\"%s\",\"range_end\":\"%s\"%s}", kenc, kenc2, ser);
    }
    for (;;) {
        long i = atomic_fetch_add(&er_next, 1);
        if (o->count > 0 && i >= o->count)
            break;
        if (o->secs > 0 && bh_now() >= er_deadline)
            break;
        double t0 = bh_now();
        if (o->op == OP_PUT || o->op == OP_TXN || o->op == OP_SEED) {
            /* the value differs per write (its first bytes carry i), like real objects */
            int vl = snprintf(val, (size_t)o->value_len + 1, "%ld:", i);
            val[vl < o->value_len ? vl : o->value_len] = 'v';
            int kl = o->op == OP_SEED ? snprintf(key, sizeof key, "%s/k/%ld", o->prefix, i)
                                      : snprintf(key, sizeof key, "%s/%s/%ld/%d/%ld", o->prefix,
                                                 o->op == OP_TXN ? "txn" : "put", (long)getpid(), w->idx, i);
            b64_enc((unsigned char *)key, (size_t)kl, kenc);
            b64_enc((unsigned char *)val, (size_t)o->value_len, venc);
            if (o->op == OP_TXN)
                snprintf(req, vb64 + 2048,
                         "{\"compare\":[{\"key\":\"%s\",\"target\":\"CREATE\",\"result\":\"EQUAL\","
                         "\"create_revision\":\"0\"}],\"success\":[{\"request_put\":{\"key\":\"%s\","
                         "\"value\":\"%s\"}}]}",
                         kenc, kenc, venc);
            else
                snprintf(req, vb64 + 2048, "{\"key\":\"%s\",\"value\":\"%s\"}", kenc, venc);
        }
        out.len = 0;
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req);
        CURLcode cc = curl_easy_perform(h);
        long code = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        int ok = cc == CURLE_OK && code == 200;
        if (ok && o->op == OP_TXN)
            ok = out.p && strstr(out.p, "\"succeeded\":true") != NULL;
        if (ok && (o->op == OP_GET || o->op == OP_PREFIX) && !o->raw)
            ok = er_check_range(out.p, out.len, o->op == OP_GET ? 1 : o->keys, scratch) == 0;
        double dt = bh_now() - t0;
        if (!ok) {
            char msg[256];
            snprintf(msg, sizeof msg, "curl %d http %ld: %.200s", (int)cc, code, out.p ? out.p : "");
            er_fail(w, msg);
            if (cc != CURLE_OK)
                break;
            continue;
        }
        if (bh_sample(&w->s, dt) != 0)
            break;
    }
done:
    free(out.p);
    free(scratch);
    free(req);
    free(venc);
    free(val);
    curl_slist_free_all(hdrs);
    if (h)
        curl_easy_cleanup(h);
    return NULL;
}

static void er_usage(void)
{
    fprintf(stderr, "usage: etcd_raw -u http://127.0.0.1:2379 -o put|txn|get|prefix|seed [-c conns] "
                    "[-d secs | -n count] [-s value_bytes] [-k keys] [-P key_prefix] [-S] [-R]\n");
}

int main(int argc, char **argv)
{
    er_opts_t o = { .prefix = "/bench-raw", .op = -1, .conns = 1, .value_len = 1024, .keys = 1000 };
    static const char *ops[] = { "put", "txn", "seed", "get", "prefix" };
    int opt;
    while ((opt = getopt(argc, argv, "u:o:c:d:n:s:k:P:SRh")) != -1) {
        switch (opt) {
        case 'u': o.url = optarg; break;
        case 'o':
            for (int i = 0; i < 5; i++)
                if (!strcmp(optarg, ops[i]))
                    o.op = i;
            break;
        case 'c': o.conns = atoi(optarg); break;
        case 'd': o.secs = atof(optarg); break;
        case 'n': o.count = atol(optarg); break;
        case 's': o.value_len = atoi(optarg); break;
        case 'k': o.keys = atoi(optarg); break;
        case 'P': o.prefix = optarg; break;
        case 'S': o.serializable = 1; break;
        case 'R': o.raw = 1; break;
        default: er_usage(); return 2;
        }
    }
    if (o.op == OP_SEED && o.count <= 0 && o.secs <= 0)
        o.count = o.keys;
    if (!o.url || o.op < 0 || o.conns < 1 || o.conns > 1024 || o.value_len < 1 || o.value_len > (1 << 20) ||
        o.keys < 1 || (o.secs <= 0 && o.count <= 0) || strlen(o.prefix) > 200) {
        er_usage();
        return 2;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    er_worker_t *w = calloc((size_t)o.conns, sizeof *w);
    if (!w)
        return 1;
    er_deadline = bh_now() + o.secs;
    for (int i = 0; i < o.conns; i++) {
        w[i].o = &o;
        w[i].idx = i;
    }
    bh_outcome_t r;
    bh_run_workers(w, sizeof *w, o.conns, offsetof(er_worker_t, tid), offsetof(er_worker_t, s), er_run, &r);
    double *all = r.sorted;
    size_t k = r.total;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru); /* the client's own CPU: part of a request's cost too */
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
                 (double)ru.ru_stime.tv_usec / 1e6;
    printf("etcd_raw api=%s op=%s conns=%d value_bytes=%d ops=%zu errors=%ld secs=%.2f ops_per_s=%.0f "
           "p50_ms=%.3f p99_ms=%.3f max_ms=%.3f cpu_s=%.2f\n",
           o.raw && o.op >= OP_GET ? "gateway-unparsed" : "gateway", ops[o.op], r.started, o.value_len, r.total,
           r.errors, r.secs, r.secs > 0 ? (double)r.total / r.secs : 0.0,
           all ? bh_pct(all, k, 0.50) * 1e3 : 0, all ? bh_pct(all, k, 0.99) * 1e3 : 0,
           all && k ? all[k - 1] * 1e3 : 0, cpu);
    for (int i = 0; i < r.started; i++)
        if (w[i].s.errors) {
            fprintf(stderr, "etcd_raw: first error: %s\n", w[i].first_error);
            break;
        }
    free(all);
    free(w);
    curl_global_cleanup();
    return r.errors && !r.total ? 1 : 0;
}
