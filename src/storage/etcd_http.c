/* storage/etcd: requests to the etcd v3 JSON gateway over libcurl (one easy
 * handle per request, endpoint failover on connection errors), gateway error
 * mapping, and the base64/int64-string conventions of the gateway's JSON. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "storage/etcd_int.h"

static pthread_mutex_t g_curl_mu = PTHREAD_MUTEX_INITIALIZER;
static int g_curl_refs;

int etcd_curl_global_ref(void)
{
    int rc = 0;
    pthread_mutex_lock(&g_curl_mu);
    if (g_curl_refs == 0 && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        rc = -1;
    else
        g_curl_refs++;
    pthread_mutex_unlock(&g_curl_mu);
    return rc;
}

void etcd_curl_global_unref(void)
{
    pthread_mutex_lock(&g_curl_mu);
    if (g_curl_refs > 0 && --g_curl_refs == 0)
        curl_global_cleanup();
    pthread_mutex_unlock(&g_curl_mu);
}

/* The gateway speaks standard base64 with padding; util has the URL alphabet. */
char *etcd_b64(const char *p, size_t n)
{
    char *u = base64url_encode(p, n);
    size_t len = strlen(u);
    char *out = xmalloc(len + 3);
    for (size_t i = 0; i < len; i++)
        out[i] = u[i] == '-' ? '+' : u[i] == '_' ? '/' : u[i];
    while (len % 4)
        out[len++] = '=';
    out[len] = '\0';
    free(u);
    return out;
}

char *etcd_unb64(const char *s, size_t *len)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '=')
        n--;
    char *t = xstrndup(s, n);
    char *out = base64url_decode(t, len);
    free(t);
    return out;
}

int64_t etcd_i64(json_t *obj, const char *name)
{
    json_t *v = json_object_get(obj, name);
    if (json_is_string(v))
        return strtoll(json_string_value(v), NULL, 10);
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    return 0;
}

/* Another cluster behind the same endpoints (a replaced etcd, a new cluster restored from a
 * backup): everything the feed and the cache know is of another history. */
static void check_cluster(etcd_store_t *es, json_t *header)
{
    const char *id = json_string_value(json_object_get(header, "cluster_id"));
    if (!id)
        return;
    unsigned long long cid = strtoull(id, NULL, 10), known = 0;
    if (atomic_compare_exchange_strong(&es->cluster_id, &known, cid) || known == cid)
        return;
    atomic_store(&es->cluster_id, cid);
    log_error("storage/etcd: the etcd cluster changed (id %llx, was %llx): reloading the cache; watches end "
              "with 410", cid, known);
    atomic_store(&es->rewound, true);
}

int64_t etcd_header_rev(etcd_store_t *es, json_t *resp)
{
    json_t *header = json_object_get(resp, "header");
    check_cluster(es, header);
    int64_t rev = etcd_i64(header, "revision");
    int64_t old = atomic_load(&es->last_rev);
    while (rev > old && !atomic_compare_exchange_weak(&es->last_rev, &old, rev))
        ;
    return rev;
}

void etcd_note_compacted(etcd_store_t *es, int64_t rev)
{
    int64_t old = atomic_load(&es->compact_rev);
    while (rev > old && !atomic_compare_exchange_weak(&es->compact_rev, &old, rev))
        ;
}

char *etcd_full_key(etcd_store_t *es, const char *key)
{
    size_t kl = strlen(key);
    char *full = xmalloc(es->prefix_len + kl + 1);
    memcpy(full, es->prefix, es->prefix_len);
    memcpy(full + es->prefix_len, key, kl + 1);
    return full;
}

void etcd_put_key(etcd_store_t *es, buf_t *b, const char *name, const char *key)
{
    char *full = etcd_full_key(es, key);
    char *enc = etcd_b64(full, strlen(full));
    buf_printf(b, "\"%s\":\"%s\"", name, enc);
    free(enc);
    free(full);
}

int etcd_decode_kv(etcd_store_t *es, json_t *kv, store_kv_t *out)
{
    memset(out, 0, sizeof(*out));
    const char *k = json_string_value(json_object_get(kv, "key"));
    const char *v = json_string_value(json_object_get(kv, "value"));   /* absent when empty */
    size_t klen = 0;
    char *key = k ? etcd_unb64(k, &klen) : NULL;
    if (!key || klen < es->prefix_len || memcmp(key, es->prefix, es->prefix_len) != 0) {
        free(key);
        return -1;
    }
    out->value = v ? etcd_unb64(v, &out->value_len) : xstrdup("");
    if (!out->value) {
        free(key);
        return -1;
    }
    out->key = xstrdup(key + es->prefix_len);
    free(key);
    out->create_rev = etcd_i64(kv, "create_revision");
    out->mod_rev = etcd_i64(kv, "mod_revision");
    return 0;
}

/* Past the buffer's maximum the short count makes curl abort the transfer (CURLE_WRITE_ERROR). */
static size_t collect(char *p, size_t sz, size_t nm, void *arg)
{
    return buf_append((buf_t *)arg, p, sz * nm) == 0 ? sz * nm : 0;
}

static int map_error(const char *msg)
{
    if (!msg)
        return STORE_UNAVAILABLE;
    if (strstr(msg, "required revision has been compacted"))
        return STORE_COMPACTED;
    if (strstr(msg, "required revision is a future revision"))
        return STORE_FUTURE_REV;
    if (strstr(msg, "request is too large"))
        return STORE_TOO_LARGE;
    return STORE_UNAVAILABLE;
}

void etcd_curl_tls(etcd_store_t *es, void *curl)
{
    CURL *h = curl;
    if (es->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, es->ca_file);
    if (es->cert_file)
        curl_easy_setopt(h, CURLOPT_SSLCERT, es->cert_file);
    if (es->key_file)
        curl_easy_setopt(h, CURLOPT_SSLKEY, es->key_file);
}

/* An idle handle (its connection to etcd still open) or a new one. */
static CURL *handle_get(etcd_store_t *es)
{
    CURL *h = NULL;
    pthread_mutex_lock(&es->handles_mu);
    if (es->n_handles)
        h = es->handles[--es->n_handles];
    pthread_mutex_unlock(&es->handles_mu);
    return h ? h : curl_easy_init();
}

static void handle_put(etcd_store_t *es, CURL *h)
{
    pthread_mutex_lock(&es->handles_mu);
    if (es->n_handles == es->cap_handles) {
        es->cap_handles = es->cap_handles ? es->cap_handles * 2 : 16;
        es->handles = xrealloc(es->handles, es->cap_handles * sizeof(*es->handles));
    }
    es->handles[es->n_handles++] = h;
    pthread_mutex_unlock(&es->handles_mu);
}

void etcd_handles_free(etcd_store_t *es)
{
    for (size_t i = 0; i < es->n_handles; i++)
        curl_easy_cleanup(es->handles[i]);
    free(es->handles);
    es->handles = NULL;
    es->n_handles = es->cap_handles = 0;
}

/* During an outage every request fails the same way: say so once a second, not per request. */
static bool outage_log_due(etcd_store_t *es)
{
    int64_t now = time_mono_ms(), last = atomic_load(&es->outage_logged_ms);
    return now - last >= 1000 && atomic_compare_exchange_strong(&es->outage_logged_ms, &last, now);
}

int etcd_post(etcd_store_t *es, const char *path, const char *body, json_t **resp)
{
    size_t len;
    int rc = etcd_post_answer(es, path, body, resp, &len);
    return rc == ETCD_OVERFLOW ? STORE_UNAVAILABLE : rc;
}

int etcd_post_answer(etcd_store_t *es, const char *path, const char *body, json_t **resp, size_t *len)
{
    *resp = NULL;
    *len = 0;
    CURL *h = handle_get(es);
    if (!h)
        return STORE_UNAVAILABLE;
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    buf_t out;
    buf_init_max(&out, ETCD_MAX_ANSWER);
    int ret = STORE_UNAVAILABLE;
    size_t start = atomic_load(&es->cur_ep);
    for (size_t i = 0; i < es->n_endpoints; i++) {
        size_t ep = (start + i) % es->n_endpoints;
        char url[512];
        snprintf(url, sizeof(url), "%s%s", es->endpoints[ep], path);
        buf_reset(&out);
        curl_easy_reset(h);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)es->timeout_ms);
        /* a refused or unreachable etcd must fail fast, not after the whole timeout */
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(es->timeout_ms < 2000 ? es->timeout_ms : 2000));
        etcd_curl_tls(es, h);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
        /* refused before reading when the length is announced */
        curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)ETCD_MAX_ANSWER);
        CURLcode cc = curl_easy_perform(h);
        *len = out.len;
        if (out.overflow || cc == CURLE_FILESIZE_EXCEEDED) {
            /* etcd answered, with more than any request of ours can get: a broken or hostile
             * peer, not an outage; the other endpoints are not asked to do the same */
            log_error("storage/etcd: %s: the answer passed the limit of %zu MiB; dropped", url,
                      ETCD_MAX_ANSWER >> 20);
            ret = ETCD_OVERFLOW;
            goto out;
        }
        if (cc != CURLE_OK) {
            if (outage_log_due(es))
                log_warn("storage/etcd: %s: %s", url, curl_easy_strerror(cc));
            continue;   /* try the next endpoint */
        }
        long code = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        json_t *j = json_loadb(out.data ? out.data : "", out.len, 0, NULL);
        if (code == 200 && json_is_object(j)) {
            atomic_store(&es->cur_ep, ep);
            atomic_store(&es->healthy, true);
            *resp = j;
            ret = STORE_OK;
            goto out;
        }
        const char *msg = json_string_value(json_object_get(j, "error"));
        ret = map_error(msg);
        if (ret != STORE_UNAVAILABLE || code < 500) {
            atomic_store(&es->healthy, true);   /* etcd answered: a refusal, not an outage */
            if (ret == STORE_UNAVAILABLE)
                log_error("storage/etcd: %s: HTTP %ld: %s", url, code, msg ? msg : "(no message)");
            json_decref(j);
            goto out;
        }
        if (outage_log_due(es))
            log_warn("storage/etcd: %s: HTTP %ld: %s", url, code, msg ? msg : "(no message)");
        json_decref(j);
    }
    atomic_store(&es->healthy, false);
out:
    buf_free(&out);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs);
    handle_put(es, h);   /* curl_easy_reset on reuse keeps the live connection */
    return ret;
}
