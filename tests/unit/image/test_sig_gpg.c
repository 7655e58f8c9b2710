/* Signature contents through gpg (sig_gpg.c), on fixtures made once with a throw-away
 * key (tests/unit/image/sig/: pubkey.gpg; atomic.sig = gpg --sign of an atomic payload
 * for sha256:0…01; plain.sig the same uncompressed, bad.sig it with one signed byte
 * changed; text.sig a signed "hello"; bomb.sig 2 MB of zeros signed (compressed to
 * 3 KB); truncated.sig). Needs gpg installed. */
#include "fixtures.h"

#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/sig_int.h"

#define FPR "5A515A80CE853D4EFD73FF9BEA9876E95EABD2C3"
#define UID "Fixture Signer <fixture@example.com>"
#define DIGEST1 "sha256:0000000000000000000000000000000000000000000000000000000000000001"

static char *fixture(const char *name, size_t *n)
{
    char *path = xasprintf("%s/%s", SIG_FIXTURES, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("missing fixture %s", path);
    char *data = xmalloc(1 << 16);
    *n = fread(data, 1, 1 << 16, f);
    fclose(f);
    free(path);
    return data;
}

static void verify_fixture(const sig_verifier_t *v, const char *name, sig_report_t *r)
{
    size_t n;
    char *data = fixture(name, &n);
    sig_verify(v, data, n, r);
    free(data);
}

static sig_verifier_t *verifier(bool keyring)
{
    char *err = NULL, *path = keyring ? xasprintf("%s/pubkey.gpg", SIG_FIXTURES) : NULL;
    sig_verifier_t *v = sig_verifier_new(path, &err);
    if (!v)
        fail_msg("sig_verifier_new: %s", err);
    free(path);
    return v;
}

static void test_without_keyring(void **state)
{
    sig_verifier_t *v = verifier(false);
    sig_report_t r;
    verify_fixture(v, "atomic.sig", &r);
    assert_int_equal(r.outcome, SIG_SIGNED);
    assert_int_equal(r.verdict, SIGV_NO_KEYRING);
    assert_string_equal(r.key_id, FPR);
    assert_null(r.signer);
    assert_true(r.created > 1700000000);
    sig_payload_t p;
    char *why;
    assert_int_equal(sig_payload_parse(r.plaintext, r.plain_len, &p, &why), 0);
    assert_string_equal(p.manifest_digest, DIGEST1);
    assert_string_equal(p.docker_reference, "registry.example.com/fixture/app:v1");
    sig_payload_free(&p);
    sig_report_free(&r);

    /* changed after signing: without the key nobody can tell */
    verify_fixture(v, "bad.sig", &r);
    assert_int_equal(r.outcome, SIG_SIGNED);
    assert_int_equal(r.verdict, SIGV_NO_KEYRING);
    sig_report_free(&r);
    sig_verifier_free(v);
}

static void test_with_keyring(void **state)
{
    sig_verifier_t *v = verifier(true);
    sig_report_t r;
    verify_fixture(v, "atomic.sig", &r);
    assert_int_equal(r.outcome, SIG_SIGNED);
    assert_int_equal(r.verdict, SIGV_VERIFIED);
    assert_string_equal(r.signer, UID);
    sig_report_free(&r);
    verify_fixture(v, "plain.sig", &r);
    assert_int_equal(r.verdict, SIGV_VERIFIED);
    sig_report_free(&r);
    verify_fixture(v, "bad.sig", &r);
    assert_int_equal(r.outcome, SIG_SIGNED);
    assert_int_equal(r.verdict, SIGV_BAD);
    assert_string_equal(r.signer, UID);
    sig_report_free(&r);
    verify_fixture(v, "text.sig", &r);
    assert_int_equal(r.outcome, SIG_SIGNED);
    assert_int_equal(r.plain_len, 5);
    assert_memory_equal(r.plaintext, "hello", 5);
    sig_report_free(&r);
    sig_verifier_free(v);
}

static void test_not_signatures(void **state)
{
    sig_verifier_t *v = verifier(false);
    sig_report_t r;
    verify_fixture(v, "truncated.sig", &r);
    assert_int_equal(r.outcome, SIG_NOT_SIGNED);
    assert_non_null(r.why);
    sig_report_free(&r);
    verify_fixture(v, "bomb.sig", &r);   /* 2 MB of signed text: refused past the maximum */
    assert_int_equal(r.outcome, SIG_NOT_SIGNED);
    assert_string_equal(r.why, "the signed content is larger than 65536 bytes");
    sig_report_free(&r);
    verify_fixture(v, "pubkey.gpg", &r);   /* OpenPGP, but a key */
    assert_int_equal(r.outcome, SIG_NOT_SIGNED);
    assert_string_equal(r.why, "it is not an OpenPGP message");
    sig_report_free(&r);
    sig_verify(v, "blob", 4, &r);
    assert_int_equal(r.outcome, SIG_NOT_SIGNED);
    sig_report_free(&r);
    const unsigned char junk[] = {0xa3, 0x01, 0xff, 0xfe, 0x00, 0x13};   /* compressed packet of garbage */
    sig_verify(v, junk, sizeof junk, &r);
    assert_int_equal(r.outcome, SIG_NOT_SIGNED);
    sig_report_free(&r);
    char *big = xcalloc(1, SIG_MAX_CONTENT + 1);
    big[0] = (char)0xa3;
    sig_verify(v, big, SIG_MAX_CONTENT + 1, &r);
    assert_int_equal(r.outcome, SIG_NOT_SIGNED);
    assert_non_null(strstr(r.why, "at most 65536 are read"));
    sig_report_free(&r);
    free(big);
    sig_verify(NULL, "x", 1, &r);
    assert_int_equal(r.outcome, SIG_UNREAD);
    sig_report_free(&r);
    sig_verifier_free(v);
}

static void test_bad_keyrings(void **state)
{
    char *err = NULL;
    assert_null(sig_verifier_new("/nonexistent/keys.gpg", &err));
    assert_non_null(strstr(err, "cannot open the signature keyring /nonexistent/keys.gpg"));
    free(err);
    char *path = xasprintf("%s/text.sig", SIG_FIXTURES);   /* OpenPGP, but no key in it */
    assert_null(sig_verifier_new(path, &err));
    assert_non_null(strstr(err, path));
    free(err);
    free(path);
}

static void test_home_removed_and_stale_homes_swept(void **state)
{
    sig_verifier_t *v = verifier(false);
    char *home = xstrdup(sig_verifier_home(v));
    struct stat st;
    assert_int_equal(stat(home, &st), 0);
    sig_verifier_free(v);
    assert_int_not_equal(stat(home, &st), 0);
    free(home);

    /* a home whose owner died (pid 0x7ffffffe does not exist) goes at the next start */
    const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char *stale = xasprintf("%s/image-apiserver-gpg-unit%d", tmp, (int)getpid());
    char *pidf = xasprintf("%s/owner.pid", stale);
    assert_int_equal(mkdir(stale, 0700), 0);
    FILE *f = fopen(pidf, "w");
    fputs("2147483646\n", f);
    fclose(f);
    v = verifier(false);
    assert_int_not_equal(stat(stale, &st), 0);
    sig_verifier_free(v);
    free(pidf);
    free(stale);
}

/* A gpg that hangs is cancelled at the deadline: nothing is known, the call returns. */
static void test_timeout(void **state)
{
    sig_verifier_t *v = verifier(false);
    char *slow = xasprintf("%s/slow-gpg", SIG_FIXTURES);
    sig_verifier_set_engine(v, slow, 300);
    int64_t t0 = time_mono_ms();
    sig_report_t r;
    verify_fixture(v, "atomic.sig", &r);
    int64_t took = time_mono_ms() - t0;
    assert_int_equal(r.outcome, SIG_UNREAD);
    assert_string_equal(r.why, "gpg did not finish within 300 ms");
    assert_true(took >= 300 && took < 3000);
    sig_report_free(&r);
    free(slow);
    sig_verifier_free(v);
}

/* One context per call: concurrent calls do not disturb each other. */
static void *verify_loop(void *arg)
{
    const sig_verifier_t *v = arg;
    for (int i = 0; i < 4; i++) {
        sig_report_t r;
        verify_fixture(v, i % 2 ? "atomic.sig" : "truncated.sig", &r);
        if (r.outcome != (i % 2 ? SIG_SIGNED : SIG_NOT_SIGNED) || (i % 2 && r.verdict != SIGV_VERIFIED))
            return "wrong report";
        sig_report_free(&r);
    }
    return NULL;
}

static void test_concurrent(void **state)
{
    sig_verifier_t *v = verifier(true);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, verify_loop, v);
    for (int i = 0; i < 4; i++) {
        void *res;
        pthread_join(t[i], &res);
        if (res)
            fail_msg("thread %d: %s", i, (char *)res);
    }
    sig_verifier_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_without_keyring),
        cmocka_unit_test(test_with_keyring),
        cmocka_unit_test(test_not_signatures),
        cmocka_unit_test(test_bad_keyrings),
        cmocka_unit_test(test_home_removed_and_stale_homes_swept),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_concurrent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
