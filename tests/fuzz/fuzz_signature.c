/* fuzz_signature: the pure half of reading a signature (sig_parse.c) on any bytes.
 * Input: byte 0 picks the report (outcome, verdict, signer, image name), the rest is the
 * signed text gpg would hand back (also tried as content for the first look and as
 * base64). Checks: sig_payload_parse fails with a reason or yields its fields;
 * sig_describe always gives a Trusted/ForImage pair that passes the signature
 * validation of §2.5 and encodes as JSON; base64 round-trips. */
#include "fuzz_common.h"
#include "image/image.h"
#include "image/sig_int.h"

#define DIGEST "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    unsigned sel = size ? data[0] : 0;
    const uint8_t *text = size ? data + 1 : data;
    size_t n = size ? size - 1 : 0;

    (void)sig_openpgp_sniff(text, n);
    sig_payload_t p;
    char *why = NULL;
    if (sig_payload_parse((const char *)text, n, &p, &why) == 0) {
        FUZZ_CHECK(p.manifest_digest && digest_valid(p.manifest_digest) && p.docker_reference && *p.docker_reference);
        sig_payload_free(&p);
    } else {
        FUZZ_CHECK(why && *why);
        free(why);
    }

    static const char *const images[] = {DIGEST, "img", "", "sha256:bbbb"};
    sig_report_t r = {.outcome = (sig_outcome_t)(sel % 3), .verdict = (sig_verdict_t)((sel >> 2) % 9)};
    if (r.outcome != SIG_SIGNED)
        r.why = (sel & 0x20) ? xstrdup("reason") : NULL;
    else {
        r.key_id = xstrdup((sel & 0x20) ? "5A515A80CE853D4EFD73FF9BEA9876E95EABD2C3" : "xyz");
        r.signer = (sel & 0x40) ? fuzz_cstr(text, n > 64 ? 64 : n) : NULL;   /* any bytes, even not UTF-8 */
        r.created = (sel & 0x80) ? 1700000000 : 0;
        r.plaintext = xmalloc(n + 1);
        memcpy(r.plaintext, text, n);
        r.plaintext[n] = '\0';
        r.plain_len = n;
    }
    json_t *sig = json_pack("{s:{s:s}, s:s, s:s, s:s}", "metadata", "name", "img@s", "type", "AtomicImageV1",
                            "content", "YQ==", "imageIdentity", "client");
    sig_describe(sig, &r, images[(sel >> 5) & 3], "2024-01-01T00:00:00Z");
    json_t *conds = json_object_get(sig, "conditions");
    FUZZ_CHECK(json_array_size(conds) == 2);
    FUZZ_CHECK(!strcmp(json_string_value(json_object_get(json_array_get(conds, 0), "type")), "Trusted"));
    FUZZ_CHECK(!strcmp(json_string_value(json_object_get(json_array_get(conds, 1), "type")), "ForImage"));
    ferrs_t errs = FERRS_INIT;
    image_signature_validate(sig, "", &errs);
    FUZZ_CHECK(errs.n == 0);
    ferrs_free(&errs);
    char *dump = json_dumps(sig, 0);
    FUZZ_CHECK(dump != NULL);
    free(dump);
    json_decref(sig);
    sig_report_free(&r);

    char *s = fuzz_cstr(text, n);
    size_t blen;
    unsigned char *b = sig_b64_decode(s, &blen);
    if (b) {
        char *e = sig_b64_encode(b, blen);
        size_t blen2;
        unsigned char *b2 = sig_b64_decode(e, &blen2);
        FUZZ_CHECK(b2 && blen2 == blen && !memcmp(b, b2, blen));
        free(b2);
        free(e);
        free(b);
    }
    free(s);
    return 0;
}
