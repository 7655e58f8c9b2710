/* fuzz_signature_gpg: signature content through the real gpg (sig_gpg.c), as the
 * imagesignatures endpoint reads it, with the fixture key of tests/unit/image/sig/ in
 * the keyring. Every input that passes the first look spawns gpg (a few ms each), so
 * this target runs at hundreds, not millions, of inputs a second: it checks our side of
 * gpgme (the poll loop, the bounded plaintext sink, cancellation, the report) on hostile
 * OpenPGP packets, while fuzz_signature covers the parsing after it at full speed.
 * Checks: a report always comes back; SIG_SIGNED has a hex key id and plaintext within
 * the maximum; the described signature passes §2.5. run.sh runs it from the repository
 * root (the keyring path is relative). */
#include "fuzz_common.h"
#include "image/image.h"
#include "image/sig_int.h"

static sig_verifier_t *verifier;

static void done(void)
{
    sig_verifier_free(verifier);   /* removes gpg's temporary home */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    if (!verifier) {
        char *err = NULL;
        verifier = sig_verifier_new("tests/unit/image/sig/pubkey.gpg", &err);
        if (!verifier) {
            fprintf(stderr, "fuzz_signature_gpg: %s (run from the repository root)\n", err);
            abort();
        }
        sig_verifier_set_engine(verifier, NULL, 5000);   /* below libFuzzer's -timeout=10 */
        atexit(done);
    }
    sig_report_t r;
    sig_verify(verifier, data, size, &r);
    if (r.outcome == SIG_SIGNED) {
        FUZZ_CHECK(r.key_id && *r.key_id && strspn(r.key_id, "0123456789ABCDEFabcdef") == strlen(r.key_id));
        FUZZ_CHECK(r.plaintext && r.plain_len <= SIG_MAX_PLAINTEXT);
    } else {
        FUZZ_CHECK(r.why && *r.why);
    }
    json_t *sig = json_pack("{s:{s:s}, s:s, s:s}", "metadata", "name", "img@s", "type", "AtomicImageV1", "content",
                            "YQ==");
    sig_describe(sig, &r, "sha256:0000000000000000000000000000000000000000000000000000000000000001",
                 "2024-01-01T00:00:00Z");
    ferrs_t errs = FERRS_INIT;
    image_signature_validate(sig, "", &errs);
    FUZZ_CHECK(errs.n == 0);
    ferrs_free(&errs);
    json_decref(sig);
    sig_report_free(&r);
    return 0;
}
