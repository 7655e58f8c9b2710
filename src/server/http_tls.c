/* TLS for the listener: the SSL_CTX (certificate, key, minimum version, cipher
 * list, ALPN h2 and http/1.1, optional client CA), its reload when the files
 * change, and the client certificate of each connection.
 *
 * Reload: a watcher thread stats the files every second; when one changed it
 * builds a new SSL_CTX (a broken pair is logged and the old one kept) and bumps
 * the generation. Each loop picks the new context up at its next accept, so no
 * loop ever waits for the watcher; open connections keep the context their SSL
 * holds a reference to.
 *
 * Client certificates: h2o 2.2.5 has no accessor for a socket's SSL*, but it
 * sets the h2o_socket_t as the data of the SSL's BIO before the handshake. An
 * info callback at the start of the handshake follows that pointer to our
 * http_conn_t and keeps the SSL* there. Verification never fails the handshake
 * (as in kube-apiserver, a bad client certificate is a 401, not a TLS alert): the
 * verify callback accepts, and the result is read when the first request comes. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "server/server_int.h"

/* Modern TLS 1.2 suites (forward secrecy, AEAD); TLS 1.3 uses OpenSSL's defaults. */
#define TLS12_CIPHERS                                                                                              \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"                     \
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

typedef struct file_stamp {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    bool ok;
} file_stamp_t;

struct http_tls {
    char *cert_file, *key_file, *ca_file;
    int min_version;                 /* TLS1_2_VERSION or TLS1_3_VERSION */
    pthread_mutex_t lock;            /* guards ctx; held only to swap or take a reference */
    SSL_CTX *ctx;
    atomic_uint generation;
    file_stamp_t stamps[3];
    pthread_t watcher;
    bool watching;
    pthread_mutex_t stop_lock;
    pthread_cond_t stop_cond;
    bool stop;
};

static void stamp_file(const char *path, file_stamp_t *st)
{
    struct stat sb;
    *st = (file_stamp_t){0};
    if (!path || stat(path, &sb) != 0)
        return;
    *st = (file_stamp_t){sb.st_dev, sb.st_ino, sb.st_size, sb.st_mtim, true};
}

static bool stamp_changed(const file_stamp_t *a, const file_stamp_t *b)
{
    return a->ok != b->ok || a->dev != b->dev || a->ino != b->ino || a->size != b->size ||
           a->mtime.tv_sec != b->mtime.tv_sec || a->mtime.tv_nsec != b->mtime.tv_nsec;
}

static void log_ssl_error(const char *what, const char *path)
{
    unsigned long e = ERR_get_error();
    char buf[256] = "unknown error";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    log_error("tls: %s %s: %s", what, path ? path : "", buf);
}

/* Accept every chain here; the request layer reads SSL_get_verify_result. */
static int verify_accept(int ok, X509_STORE_CTX *x)
{
    (void)ok;
    (void)x;
    return 1;
}

static void on_ssl_info(const SSL *ssl, int where, int ret)
{
    (void)ret;
    if (!(where & SSL_CB_HANDSHAKE_START))
        return;
    BIO *bio = SSL_get_rbio(ssl);
    http_conn_t *c = bio ? http_conn_of(BIO_get_data(bio)) : NULL;
    if (c)
        c->ssl = (SSL *)ssl;
}

static SSL_CTX *build_ctx(const http_tls_t *t)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        log_ssl_error("cannot create a context", NULL);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, t->min_version);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1) {
        log_ssl_error("cannot set the cipher list", NULL);
        goto fail;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, t->cert_file) != 1) {
        log_ssl_error("cannot load --tls-cert-file", t->cert_file);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, t->key_file, SSL_FILETYPE_PEM) != 1) {
        log_ssl_error("cannot load --tls-private-key-file", t->key_file);
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        log_ssl_error("the private key does not match the certificate", t->key_file);
        goto fail;
    }
    if (t->ca_file) {
        if (SSL_CTX_load_verify_locations(ctx, t->ca_file, NULL) != 1) {
            log_ssl_error("cannot load --client-ca-file", t->ca_file);
            goto fail;
        }
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(t->ca_file);
        if (!names) {
            log_ssl_error("no certificate in --client-ca-file", t->ca_file);
            goto fail;
        }
        SSL_CTX_set_client_CA_list(ctx, names);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_accept); /* ask, never require */
        SSL_CTX_set_verify_depth(ctx, 8);
    }
    SSL_CTX_set_info_callback(ctx, on_ssl_info);
    h2o_ssl_register_alpn_protocols(ctx, h2o_http2_alpn_protocols);
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

static void take_stamps(http_tls_t *t, file_stamp_t out[3])
{
    stamp_file(t->cert_file, &out[0]);
    stamp_file(t->key_file, &out[1]);
    stamp_file(t->ca_file, &out[2]);
}

static void *watch_main(void *arg)
{
    http_tls_t *t = arg;
    pthread_mutex_lock(&t->stop_lock);
    while (!t->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        pthread_cond_timedwait(&t->stop_cond, &t->stop_lock, &until);
        if (t->stop)
            break;
        pthread_mutex_unlock(&t->stop_lock);
        file_stamp_t now[3];
        take_stamps(t, now);
        bool changed = false;
        for (int i = 0; i < 3; i++)
            changed |= stamp_changed(&now[i], &t->stamps[i]);
        if (changed) {
            /* a certificate and key written one after the other may not match for a
             * moment: keep the old context and try again at the next change */
            memcpy(t->stamps, now, sizeof now);
            SSL_CTX *ctx = build_ctx(t);
            if (ctx) {
                pthread_mutex_lock(&t->lock);
                SSL_CTX *old = t->ctx;
                t->ctx = ctx;
                pthread_mutex_unlock(&t->lock);
                SSL_CTX_free(old);
                atomic_fetch_add(&t->generation, 1);
                log_info("tls: reloaded the serving certificate from %s", t->cert_file);
            } else {
                log_warn("tls: keeping the previous certificate; fix the files and they are read again");
            }
        }
        pthread_mutex_lock(&t->stop_lock);
    }
    pthread_mutex_unlock(&t->stop_lock);
    return NULL;
}

http_tls_t *http_tls_new(const http_config_t *cfg)
{
    if (!cfg->tls_cert_file || !cfg->tls_key_file) {
        log_error("tls: --tls-cert-file and --tls-private-key-file go together");
        return NULL;
    }
    http_tls_t *t = xcalloc(1, sizeof *t);
    t->cert_file = xstrdup(cfg->tls_cert_file);
    t->key_file = xstrdup(cfg->tls_key_file);
    t->ca_file = cfg->tls_client_ca_file ? xstrdup(cfg->tls_client_ca_file) : NULL;
    t->min_version = cfg->tls_min_version == 13 ? TLS1_3_VERSION : TLS1_2_VERSION;
    pthread_mutex_init(&t->lock, NULL);
    pthread_mutex_init(&t->stop_lock, NULL);
    pthread_cond_init(&t->stop_cond, NULL);
    atomic_init(&t->generation, 1);
    take_stamps(t, t->stamps);
    t->ctx = build_ctx(t);
    if (!t->ctx) {
        http_tls_free(t);
        return NULL;
    }
    return t;
}

int http_tls_start(http_tls_t *t)
{
    if (pthread_create(&t->watcher, NULL, watch_main, t) != 0)
        return -1;
    t->watching = true;
    return 0;
}

void http_tls_free(http_tls_t *t)
{
    if (!t)
        return;
    if (t->watching) {
        pthread_mutex_lock(&t->stop_lock);
        t->stop = true;
        pthread_cond_signal(&t->stop_cond);
        pthread_mutex_unlock(&t->stop_lock);
        pthread_join(t->watcher, NULL);
    }
    SSL_CTX_free(t->ctx);
    pthread_cond_destroy(&t->stop_cond);
    pthread_mutex_destroy(&t->stop_lock);
    pthread_mutex_destroy(&t->lock);
    free(t->cert_file);
    free(t->key_file);
    free(t->ca_file);
    free(t);
}

void http_tls_refresh(http_tls_t *t, SSL_CTX **slot, unsigned *gen)
{
    unsigned g = atomic_load(&t->generation);
    if (g == *gen && *slot)
        return;
    pthread_mutex_lock(&t->lock);
    SSL_CTX *ctx = t->ctx;
    SSL_CTX_up_ref(ctx);
    pthread_mutex_unlock(&t->lock);
    SSL_CTX_free(*slot);
    *slot = ctx;
    *gen = g;
}

/* ---- the client certificate of a connection ---- */

void http_peer_unref(http_peer_t *p)
{
    if (p && atomic_fetch_sub(&p->refs, 1) == 1)
        free(p);
}

/* The value of each entry of `nid` in the subject, appended to *out as strings. */
static size_t subject_values(X509_NAME *name, int nid, char **vals, size_t max)
{
    size_t n = 0;
    for (int i = -1; n < max && (i = X509_NAME_get_index_by_NID(name, nid, i)) >= 0;) {
        ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
        unsigned char *utf8 = NULL;
        int len = ASN1_STRING_to_UTF8(&utf8, s);
        if (len < 0)
            continue;
        vals[n++] = xstrndup((const char *)utf8, (size_t)len);
        OPENSSL_free(utf8);
    }
    return n;
}

#define PEER_MAX_ORGS 64

static http_peer_t *peer_from_ssl(SSL *ssl)
{
    X509 *cert = SSL_get1_peer_certificate(ssl);
    if (!cert)
        return NULL;
    char *cn[1] = {NULL}, *orgs[PEER_MAX_ORGS];
    X509_NAME *subj = X509_get_subject_name(cert);
    size_t ncn = subject_values(subj, NID_commonName, cn, 1);
    size_t norgs = subject_values(subj, NID_organizationName, orgs, PEER_MAX_ORGS);
    long vr = SSL_get_verify_result(ssl);
    X509_free(cert);
    const char *verr = vr == X509_V_OK ? "" : X509_verify_cert_error_string(vr);
    size_t total = sizeof(http_peer_t) + norgs * sizeof(char *) + strlen(verr) + 1 + (ncn ? strlen(cn[0]) : 0) + 1;
    for (size_t i = 0; i < norgs; i++)
        total += strlen(orgs[i]) + 1;
    http_peer_t *p = xcalloc(1, total);
    atomic_init(&p->refs, 1);
    char **arr = (char **)(p + 1);
    char *s = (char *)(arr + norgs);
    p->cert.verified = vr == X509_V_OK;
    p->cert.error = strcpy(s, verr);
    s += strlen(s) + 1;
    p->cert.common_name = strcpy(s, ncn ? cn[0] : "");
    s += strlen(s) + 1;
    for (size_t i = 0; i < norgs; i++) {
        arr[i] = strcpy(s, orgs[i]);
        s += strlen(s) + 1;
        free(orgs[i]);
    }
    if (ncn)
        free(cn[0]);
    p->cert.organizations = (const char *const *)arr;
    p->cert.norganizations = norgs;
    return p;
}

http_peer_t *http_conn_peer(http_conn_t *c)
{
    if (!c->peer_read && c->ssl) {
        c->peer_read = true;
        c->peer = peer_from_ssl(c->ssl);
    }
    if (c->peer)
        atomic_fetch_add(&c->peer->refs, 1);
    return c->peer;
}
