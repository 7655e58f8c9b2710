/* sig_gpg: reads a signature's content with gpg through gpgme (docs/signatures.md).
 *
 * gpgme rules followed here: gpgme_check_version once before threads (sig_verifier_new,
 * at startup); one context per call, never shared; gpg runs in a private home (a
 * temporary directory) that holds only the keys of --signature-keyring, with
 * "trust-model always" (a listed key is trusted by being listed), no dirmngr and no
 * agent (verifying needs neither). gpgme has no timeout of its own, so each call drives
 * its context with its own poll loop (gpgme's user I/O callbacks) and cancels gpg after
 * SIG_GPG_TIMEOUT_MS; the signed text gpg hands back goes to a sink bounded by
 * SIG_MAX_PLAINTEXT (a compressed message may expand without limit). Every call blocks on
 * gpg: only pool threads may make it. */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <gpgme.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "image/sig_int.h"
#include "util/util.h"

/* A key of the keyring: one entry per (sub)key fingerprint. */
typedef struct sig_key {
    char *fpr;
    char *uid;      /* the key's first user id, UTF-8, or NULL */
} sig_key_t;

struct sig_verifier {
    char *home;
    char *engine;           /* gpg binary; NULL: gpgme's default */
    int timeout_ms;
    bool has_keyring;
    sig_key_t *keys;
    size_t nkeys;
};

#define KEYRING_MAX (16 * 1024 * 1024)
#define UID_MAX 256

static pthread_once_t gpgme_once = PTHREAD_ONCE_INIT;
static void gpgme_init(void)
{
    gpgme_check_version(NULL);
}

/* ---- private home ---- */
static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    remove(path);
    return 0;
}

static void home_remove(const char *home)
{
    if (home)
        nftw(home, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#define HOME_PREFIX "image-apiserver-gpg-"

static const char *tmp_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    return tmp && *tmp ? tmp : "/tmp";
}

/* Homes left by servers that were killed (SIGKILL skips sig_verifier_free): each home
 * names its owner in owner.pid; one whose owner is gone is removed. */
static void sweep_stale_homes(void)
{
    DIR *d = opendir(tmp_dir());
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (strncmp(de->d_name, HOME_PREFIX, sizeof HOME_PREFIX - 1) != 0)
            continue;
        char *home = xasprintf("%s/%s", tmp_dir(), de->d_name);
        char *pidf = xasprintf("%s/owner.pid", home);
        struct stat st;
        FILE *f = lstat(home, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == getuid() ? fopen(pidf, "r") : NULL;
        long pid = 0;
        if (f && fscanf(f, "%ld", &pid) == 1 && pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH)
            home_remove(home);
        if (f)
            fclose(f);
        free(pidf);
        free(home);
    }
    if (d)
        closedir(d);
}

static bool write_file(const char *dir, const char *name, const char *text)
{
    char *path = xasprintf("%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    free(path);
    if (!f)
        return false;
    bool ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok;
}

static char *home_create(char **err)
{
    sweep_stale_homes();
    char *home = xasprintf("%s/" HOME_PREFIX "XXXXXX", tmp_dir());
    if (!mkdtemp(home)) {
        *err = xasprintf("cannot create gpg's home %s: %s", home, strerror(errno));
        free(home);
        return NULL;
    }
    char pid[24];
    snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (!write_file(home, "owner.pid", pid) ||
        !write_file(home, "gpg.conf", "trust-model always\nno-autostart\nno-auto-key-retrieve\nno-greeting\n")) {
        *err = xasprintf("cannot write to gpg's home %s", home);
        home_remove(home);
        free(home);
        return NULL;
    }
    return home;
}

static gpgme_error_t ctx_new(const sig_verifier_t *v, gpgme_ctx_t *ctx)
{
    gpgme_error_t e = gpgme_new(ctx);
    if (e)
        return e;
    if ((e = gpgme_set_protocol(*ctx, GPGME_PROTOCOL_OpenPGP)) ||
        (e = gpgme_ctx_set_engine_info(*ctx, GPGME_PROTOCOL_OpenPGP, v->engine, v->home))) {
        gpgme_release(*ctx);
        *ctx = NULL;
        return e;
    }
    gpgme_set_offline(*ctx, 1);   /* gpg --disable-dirmngr: never fetch a key */
    return 0;
}

/* A user id as JSON can carry it: at most UID_MAX bytes cut at a character boundary;
 * invalid UTF-8 bytes become '?'. */
static char *uid_clean(const char *uid)
{
    size_t n = strlen(uid);
    if (n > UID_MAX) {
        n = UID_MAX;
        while (n && ((unsigned char)uid[n] & 0xc0) == 0x80)
            n--;
    }
    char *s = xstrndup(uid, n);
    json_t *probe = json_string(s);
    if (!probe) {
        for (char *c = s; *c; c++)
            if ((unsigned char)*c >= 0x80)
                *c = '?';
    }
    json_decref(probe);
    return s;
}

/* ---- startup: import the keyring, remember its keys ---- */
static char *read_file(const char *path, size_t *n, char **err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *err = xasprintf("cannot open the signature keyring %s: %s", path, strerror(errno));
        return NULL;
    }
    buf_t b;
    buf_init_max(&b, KEYRING_MAX);
    char chunk[8192];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (buf_append(&b, chunk, got) != 0)
            break;
    bool bad = ferror(f) || b.overflow;
    fclose(f);
    if (bad) {
        *err = b.overflow ? xasprintf("the signature keyring %s is larger than %d bytes", path, KEYRING_MAX)
                          : xasprintf("cannot read the signature keyring %s", path);
        buf_free(&b);
        return NULL;
    }
    *n = b.len;
    return b.data ? buf_steal(&b) : xstrdup("");
}

static int import_keys(sig_verifier_t *v, gpgme_ctx_t ctx, const char *path, char **err)
{
    size_t n = 0;
    char *bytes = read_file(path, &n, err);
    if (!bytes)
        return -1;
    gpgme_data_t d = NULL;
    gpgme_error_t e = gpgme_data_new_from_mem(&d, bytes, n, 0);
    if (!e)
        e = gpgme_op_import(ctx, d);
    gpgme_import_result_t res = e ? NULL : gpgme_op_import_result(ctx);
    gpgme_data_release(d);
    free(bytes);
    if (e) {
        *err = xasprintf("cannot import the signature keyring %s: %s", path, gpgme_strerror(e));
        return -1;
    }
    if (!res || res->imported + res->unchanged == 0) {
        *err = xasprintf("the signature keyring %s holds no OpenPGP public key", path);
        return -1;
    }
    v->has_keyring = true;
    return 0;
}

/* Lists the home's keys (also creates its key store before any concurrent use). */
static int list_keys(sig_verifier_t *v, gpgme_ctx_t ctx, char **err)
{
    gpgme_error_t e = gpgme_op_keylist_start(ctx, NULL, 0);
    gpgme_key_t key;
    while (!e && !(e = gpgme_op_keylist_next(ctx, &key))) {
        for (gpgme_subkey_t s = key->subkeys; s; s = s->next) {
            if (!s->fpr)
                continue;
            v->keys = xrealloc(v->keys, (v->nkeys + 1) * sizeof *v->keys);
            v->keys[v->nkeys].fpr = xstrdup(s->fpr);
            v->keys[v->nkeys].uid = key->uids && key->uids->uid ? uid_clean(key->uids->uid) : NULL;
            v->nkeys++;
        }
        gpgme_key_unref(key);
    }
    gpgme_op_keylist_end(ctx);
    if (gpgme_err_code(e) != GPG_ERR_EOF) {
        *err = xasprintf("cannot list the keys in gpg's home: %s", gpgme_strerror(e));
        return -1;
    }
    return 0;
}

sig_verifier_t *sig_verifier_new(const char *keyring_file, char **err)
{
    *err = NULL;
    pthread_once(&gpgme_once, gpgme_init);
    gpgme_error_t e = gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP);
    if (e) {
        *err = xasprintf("gpg (GnuPG, Debian package gpg) is not usable: %s", gpgme_strerror(e));
        return NULL;
    }
    sig_verifier_t *v = xcalloc(1, sizeof *v);
    v->timeout_ms = SIG_GPG_TIMEOUT_MS;
    gpgme_ctx_t ctx = NULL;
    if (!(v->home = home_create(err)))
        goto fail;
    if ((e = ctx_new(v, &ctx))) {
        *err = xasprintf("gpgme: %s", gpgme_strerror(e));
        goto fail;
    }
    if (keyring_file && import_keys(v, ctx, keyring_file, err) != 0)
        goto fail;
    if (list_keys(v, ctx, err) != 0)
        goto fail;
    gpgme_release(ctx);
    if (getpid() == 1)   /* gpgme's detached gpg processes would be ours to reap */
        log_warn("running as PID 1: finished gpg processes are not reaped; run under an init (docker --init, tini)");
    return v;
fail:
    if (ctx)
        gpgme_release(ctx);
    sig_verifier_free(v);
    return NULL;
}

void sig_verifier_free(sig_verifier_t *v)
{
    if (!v)
        return;
    home_remove(v->home);
    free(v->home);
    free(v->engine);
    for (size_t i = 0; i < v->nkeys; i++) {
        free(v->keys[i].fpr);
        free(v->keys[i].uid);
    }
    free(v->keys);
    free(v);
}

const char *sig_verifier_home(const sig_verifier_t *v)
{
    return v->home;
}

void sig_verifier_set_engine(sig_verifier_t *v, const char *gpg, int timeout_ms)
{
    free(v->engine);
    v->engine = xstrdup(gpg);
    v->timeout_ms = timeout_ms;
}

/* The user id of the key gpg names (a fingerprint, or a key id: its low digits). */
static const char *key_uid(const sig_verifier_t *v, const char *id)
{
    size_t n = strlen(id);
    for (size_t i = 0; n && i < v->nkeys; i++) {
        size_t fl = strlen(v->keys[i].fpr);
        if (fl >= n && strcasecmp(v->keys[i].fpr + fl - n, id) == 0)
            return v->keys[i].uid;
    }
    return NULL;
}

/* ---- one call: a poll loop over the context's descriptors ---- */
#define IO_MAX_FDS 16

typedef struct io_slot {
    int fd;                 /* -1: free */
    int dir;                /* 1: gpgme reads from fd, 0: writes to it */
    gpgme_io_cb_t fnc;
    void *fnc_data;
    unsigned gen;           /* tells a reused slot from the one polled */
} io_slot_t;

typedef struct io_loop {
    io_slot_t slots[IO_MAX_FDS];
    unsigned gen;
    bool done;
    gpgme_error_t err;
} io_loop_t;

static gpgme_error_t io_add(void *data, int fd, int dir, gpgme_io_cb_t fnc, void *fnc_data, void **tag)
{
    io_loop_t *l = data;
    for (int i = 0; i < IO_MAX_FDS; i++) {
        if (l->slots[i].fd == -1) {
            l->slots[i] = (io_slot_t){fd, dir, fnc, fnc_data, ++l->gen};
            *tag = &l->slots[i];
            return 0;
        }
    }
    return gpg_error(GPG_ERR_GENERAL);
}

static void io_remove(void *tag)
{
    ((io_slot_t *)tag)->fd = -1;
}

static void io_event(void *data, gpgme_event_io_t type, void *type_data)
{
    io_loop_t *l = data;
    if (type != GPGME_EVENT_DONE)
        return;
    struct gpgme_io_event_done_data *d = type_data;
    l->done = true;
    l->err = d ? (d->err ? d->err : d->op_err) : 0;
}

/* Runs until gpgme signals DONE; false when gpg had to be cancelled (deadline). */
static bool io_run(gpgme_ctx_t ctx, io_loop_t *l, int timeout_ms)
{
    int64_t deadline = time_mono_ms() + timeout_ms;
    while (!l->done) {
        struct pollfd pfd[IO_MAX_FDS];
        int idx[IO_MAX_FDS];
        unsigned gen[IO_MAX_FDS];
        nfds_t n = 0;
        for (int i = 0; i < IO_MAX_FDS; i++) {
            if (l->slots[i].fd < 0)
                continue;
            pfd[n] = (struct pollfd){.fd = l->slots[i].fd, .events = l->slots[i].dir ? POLLIN : POLLOUT};
            idx[n] = i;
            gen[n++] = l->slots[i].gen;
        }
        int64_t left = deadline - time_mono_ms();
        if (n == 0 || left <= 0) {
            gpgme_cancel(ctx);   /* closes the descriptors and signals DONE */
            return false;
        }
        int rc = poll(pfd, n, left > 1000 ? 1000 : (int)left);
        if (rc < 0 && errno != EINTR) {
            gpgme_cancel(ctx);
            return false;
        }
        for (nfds_t k = 0; rc > 0 && k < n && !l->done; k++) {
            io_slot_t *s = &l->slots[idx[k]];
            if (pfd[k].revents && s->fd == pfd[k].fd && s->gen == gen[k])
                s->fnc(s->fnc_data, s->fd);
        }
    }
    return true;
}

/* The signed text: a buffer with a maximum. */
typedef struct sink {
    buf_t b;
} sink_t;

static ssize_t sink_write(void *h, const void *p, size_t n)
{
    sink_t *s = h;
    if (buf_append(&s->b, p, n) != 0) {
        errno = EFBIG;
        return -1;
    }
    return (ssize_t)n;
}

static void set_outcome(sig_report_t *r, sig_outcome_t o, char *why)
{
    r->outcome = o;
    free(r->why);
    r->why = why;
}

static bool all_hex(const char *s)
{
    return *s && strspn(s, "0123456789abcdefABCDEF") == strlen(s);
}

static sig_verdict_t verdict_of(const sig_verifier_t *v, gpgme_error_t status)
{
    switch (gpgme_err_code(status)) {
    case GPG_ERR_NO_ERROR: return SIGV_VERIFIED;
    case GPG_ERR_NO_PUBKEY: return v->has_keyring ? SIGV_UNKNOWN_KEY : SIGV_NO_KEYRING;
    case GPG_ERR_BAD_SIGNATURE: return SIGV_BAD;
    case GPG_ERR_KEY_EXPIRED: return SIGV_KEY_EXPIRED;
    case GPG_ERR_CERT_REVOKED: return SIGV_KEY_REVOKED;
    case GPG_ERR_SIG_EXPIRED: return SIGV_SIG_EXPIRED;
    default: return SIGV_ERROR;
    }
}

/* What gpg's result says; the context finished without error. */
static void read_result(const sig_verifier_t *v, gpgme_ctx_t ctx, sink_t *plain, sig_report_t *r)
{
    gpgme_verify_result_t res = gpgme_op_verify_result(ctx);
    gpgme_signature_t s = res ? res->signatures : NULL;
    if (!s) {
        set_outcome(r, SIG_NOT_SIGNED, xstrdup("the OpenPGP message carries no signature"));
        return;
    }
    if (s->next) {
        set_outcome(r, SIG_NOT_SIGNED, xstrdup("the OpenPGP message carries more than one signature"));
        return;
    }
    if (!s->fpr || !all_hex(s->fpr)) {
        set_outcome(r, SIG_NOT_SIGNED, xstrdup("the signature names no key"));
        return;
    }
    r->outcome = SIG_SIGNED;
    r->key_id = xstrdup(s->fpr);
    r->created = s->timestamp;
    r->verdict = verdict_of(v, s->status);
    if (r->verdict == SIGV_ERROR)
        r->why = xstrdup(gpgme_strerror(s->status));
    const char *uid = key_uid(v, s->fpr);
    r->signer = uid ? xstrdup(uid) : NULL;
    r->plain_len = plain->b.len;
    r->plaintext = plain->b.data ? buf_steal(&plain->b) : xstrdup("");
}

void sig_verify(const sig_verifier_t *v, const void *content, size_t n, sig_report_t *r)
{
    memset(r, 0, sizeof *r);
    if (!v) {
        set_outcome(r, SIG_UNREAD, xstrdup("the server has no OpenPGP engine (gpg) to read it"));
        return;
    }
    if (n > SIG_MAX_CONTENT) {
        set_outcome(r, SIG_NOT_SIGNED, xasprintf("%zu bytes is more than a signature has (at most %d are read)", n,
                                                 SIG_MAX_CONTENT));
        return;
    }
    if (!sig_openpgp_sniff(content, n)) {
        set_outcome(r, SIG_NOT_SIGNED, xstrdup("it is not an OpenPGP message"));
        return;
    }
    gpgme_ctx_t ctx = NULL;
    gpgme_data_t sigd = NULL, plaind = NULL;
    sink_t plain;
    buf_init_max(&plain.b, SIG_MAX_PLAINTEXT);
    io_loop_t loop = {0};
    for (int i = 0; i < IO_MAX_FDS; i++)
        loop.slots[i].fd = -1;
    struct gpgme_io_cbs io = {io_add, &loop, io_remove, io_event, &loop};
    static struct gpgme_data_cbs sink_cbs = {NULL, sink_write, NULL, NULL};
    gpgme_error_t e = ctx_new(v, &ctx);
    if (!e)
        e = gpgme_data_new_from_mem(&sigd, content, n, 0);
    if (!e)
        e = gpgme_data_new_from_cbs(&plaind, &sink_cbs, &plain);
    if (!e) {
        gpgme_set_io_cbs(ctx, &io);
        e = gpgme_op_verify_start(ctx, sigd, NULL, plaind);
    }
    if (e) {
        set_outcome(r, SIG_UNREAD, xasprintf("gpg could not be run: %s", gpgme_strerror(e)));
    } else if (!io_run(ctx, &loop, v->timeout_ms)) {
        set_outcome(r, SIG_UNREAD, xasprintf("gpg did not finish within %d ms", v->timeout_ms));
    } else if (plain.b.overflow) {
        set_outcome(r, SIG_NOT_SIGNED, xasprintf("the signed content is larger than %d bytes", SIG_MAX_PLAINTEXT));
    } else if (loop.err) {
        set_outcome(r, SIG_NOT_SIGNED, xasprintf("gpg: %s", gpgme_strerror(loop.err)));
    } else {
        read_result(v, ctx, &plain, r);
    }
    gpgme_data_release(sigd);
    gpgme_data_release(plaind);
    if (ctx)
        gpgme_release(ctx);
    buf_free(&plain.b);
}
