/* Signature contents, the pure half (sig_parse.c): first look at the bytes, the strict
 * atomic payload parser, base64, and the fields/conditions a report gives a signature —
 * which must always pass the signature validation of §2.5. */
#include "fixtures.h"

#include "image/sig_int.h"

#define DIGEST "sha256:" HEXA
#define NOW "2024-05-06T07:08:09Z"
#define PAYLOAD(digest)                                                                                    \
    "{\"critical\":{\"identity\":{\"docker-reference\":\"registry.example.com/ns/app:v1\"},\"image\":{"    \
    "\"docker-manifest-digest\":\"" digest "\"},\"type\":\"atomic container signature\"},"                  \
    "\"optional\":{\"creator\":\"me\",\"timestamp\":1700000000}}"

static void test_sniff(void **state)
{
    const unsigned char compressed[] = {0xa3, 0x01, 0x9b}, onepass[] = {0x90, 0x0d}, newfmt_sig[] = {0xc2, 0x10},
                        literal[] = {0xcb, 0x10}, pubkey[] = {0x99, 0x01}, text[] = "blob", one[] = {0xa3};
    assert_true(sig_openpgp_sniff(compressed, sizeof compressed));
    assert_true(sig_openpgp_sniff(onepass, sizeof onepass));
    assert_true(sig_openpgp_sniff(newfmt_sig, sizeof newfmt_sig));
    assert_true(sig_openpgp_sniff(literal, sizeof literal));
    assert_false(sig_openpgp_sniff(pubkey, sizeof pubkey));   /* a key is not a signed message */
    assert_false(sig_openpgp_sniff(text, 4));
    assert_false(sig_openpgp_sniff(one, 1));
    assert_false(sig_openpgp_sniff(text, 0));
    const char *armor = "-----BEGIN PGP MESSAGE-----\n";
    assert_true(sig_openpgp_sniff((const unsigned char *)armor, strlen(armor)));
}

static char *parse_err(const char *json)
{
    sig_payload_t p;
    char *why = NULL;
    if (sig_payload_parse(json, strlen(json), &p, &why) == 0) {
        sig_payload_free(&p);
        return xstrdup("ok");
    }
    return why;
}

#define assert_parse(json, want)                 \
    do {                                         \
        char *got_ = parse_err(json);            \
        assert_string_equal(got_, want);         \
        free(got_);                              \
    } while (0)

static void test_payload(void **state)
{
    sig_payload_t p;
    char *why = NULL;
    const char *ok = PAYLOAD(DIGEST);
    assert_int_equal(sig_payload_parse(ok, strlen(ok), &p, &why), 0);
    assert_string_equal(p.docker_reference, "registry.example.com/ns/app:v1");
    assert_string_equal(p.manifest_digest, DIGEST);
    assert_string_equal(p.creator, "me");
    assert_int_equal(p.timestamp, 1700000000);
    sig_payload_free(&p);

    assert_parse("{\"critical\":{\"identity\":{\"docker-reference\":\"r\"},\"image\":{\"docker-manifest-digest\":\""
                 DIGEST "\"},\"type\":\"atomic container signature\"}}", "ok");   /* optional may be absent */
    assert_parse("", "the signed content is not JSON");
    assert_parse("[1]", "the signed JSON is not an atomic container signature (want \"critical\" and \"optional\")");
    assert_parse("{\"critical\":{},\"optional\":{},\"extra\":1}",
                 "the signed JSON is not an atomic container signature (want \"critical\" and \"optional\")");
    assert_parse(PAYLOAD(DIGEST) "x", "the signed content is not JSON");
    assert_parse("{\"critical\":{\"type\":\"atomic container signature\",\"type\":\"x\"}}",
                 "the signed content is not JSON");   /* duplicate keys */
    assert_parse("{\"critical\":{\"type\":\"atomic container signature\",\"new\":1}}",
                 "the signature has an unknown critical field");
    assert_parse("{\"critical\":{\"type\":\"other\"}}", "critical.type is not \"atomic container signature\"");
    assert_parse("{\"critical\":{\"type\":\"atomic container signature\",\"image\":{\"docker-manifest-digest\":1}}}",
                 "critical.image must hold exactly docker-manifest-digest, a string");
    assert_parse("{\"critical\":{\"type\":\"atomic container signature\",\"image\":{\"docker-manifest-digest\":"
                 "\"sha256:abc\"}}}", "critical.image.docker-manifest-digest is not a valid digest");
    assert_parse("{\"critical\":{\"type\":\"atomic container signature\",\"image\":{\"docker-manifest-digest\":\""
                 DIGEST "\"},\"identity\":{\"docker-reference\":\"\"}}}",
                 "critical.identity must hold exactly docker-reference, a string");
    assert_parse("{\"critical\":{\"identity\":{\"docker-reference\":\"r\"},\"image\":{\"docker-manifest-digest\":\""
                 DIGEST "\"},\"type\":\"atomic container signature\"},\"optional\":{\"timestamp\":\"x\"}}",
                 "optional must be an object with a string creator and an integer timestamp");
}

static void test_base64(void **state)
{
    size_t n;
    unsigned char *b = sig_b64_decode("YmxvYg==", &n);
    assert_non_null(b);
    assert_int_equal(n, 4);
    assert_memory_equal(b, "blob", 4);
    free(b);
    b = sig_b64_decode("Ym\r\nxv\nYWI=", &n);   /* line breaks skipped, as Go does */
    assert_non_null(b);
    assert_int_equal(n, 5);
    assert_memory_equal(b, "bloab", 5);
    free(b);
    const char *bad[] = {"YmxvYg=", "Ym=vYg==", "YQ==YQ==", "Y===", "YQ", "@@@@", "YQ=a"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        b = sig_b64_decode(bad[i], &n);
        if (b)
            fail_msg("decoded %s", bad[i]);
    }
    b = sig_b64_decode("", &n);
    assert_non_null(b);
    assert_int_equal(n, 0);
    free(b);
    for (size_t len = 0; len < 8; len++) {
        unsigned char in[8] = {0, 0xff, 0x10, 0x80, 0x7f, 'a', 0xfe, 1};
        char *e = sig_b64_encode(in, len);
        b = sig_b64_decode(e, &n);
        assert_non_null(b);
        assert_int_equal(n, len);
        assert_memory_equal(b, in, len);
        free(b);
        free(e);
    }
    char *e = sig_b64_encode((const unsigned char *)"blob", 4);
    assert_string_equal(e, "YmxvYg==");
    free(e);
}

/* The signature a report gives, checked against §2.5. */
static json_t *described(const sig_report_t *r, const char *image)
{
    json_t *sig = J("{\"metadata\":{\"name\":\"img@s\"},\"type\":\"AtomicImageV1\",\"content\":\"YQ==\","
                    "\"imageIdentity\":\"client\",\"issuedTo\":{\"publicKeyID\":\"client\"},"
                    "\"conditions\":[{\"type\":\"Expired\",\"status\":\"True\"}]}");
    sig_describe(sig, r, image, NOW);
    ferrs_t errs = FERRS_INIT;
    image_signature_validate(sig, "", &errs);
    char *e = errs_str(&errs);
    if (*e)
        fail_msg("described signature does not validate: %s", e);
    free(e);
    ferrs_free(&errs);
    return sig;
}

static char *cond_str(const json_t *sig)
{
    buf_t b;
    buf_init(&b);
    buf_puts(&b, "");
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(sig, "conditions"), i, c) {
        buf_printf(&b, "%s%s=%s/%s", i ? " " : "", json_string_value(json_object_get(c, "type")),
                   json_string_value(json_object_get(c, "status")), json_string_value(json_object_get(c, "reason")));
        assert_string_equal(json_string_value(json_object_get(c, "lastProbeTime")), NOW);
        assert_string_equal(json_string_value(json_object_get(c, "lastTransitionTime")), NOW);
    }
    return buf_steal(&b);
}

#define assert_conds(sig, want)              \
    do {                                     \
        char *got_ = cond_str(sig);          \
        assert_string_equal(got_, want);     \
        free(got_);                          \
    } while (0)

static const char *msg_of(const json_t *sig, size_t i)
{
    return json_string_value(json_object_get(json_array_get(json_object_get(sig, "conditions"), i), "message"));
}

static sig_report_t signed_report(const char *payload, sig_verdict_t v, const char *signer)
{
    sig_report_t r = {.outcome = SIG_SIGNED, .verdict = v, .created = 1714979289};
    r.key_id = xstrdup("5A515A80CE853D4EFD73FF9BEA9876E95EABD2C3");
    r.signer = xstrdup(signer);
    r.plaintext = xstrdup(payload);
    r.plain_len = strlen(payload);
    return r;
}

static void test_describe_signed(void **state)
{
    sig_report_t r = signed_report(PAYLOAD(DIGEST), SIGV_VERIFIED, "Fixture Signer <f@example.com>");
    json_t *sig = described(&r, DIGEST);
    assert_json(sig, "{\"metadata\":{\"name\":\"img@s\"},\"type\":\"AtomicImageV1\",\"content\":\"YQ==\","
                     "\"imageIdentity\":\"registry.example.com/ns/app:v1\","
                     "\"signedClaims\":{\"docker-manifest-digest\":\"" DIGEST "\"},"
                     "\"created\":\"2024-05-06T07:08:09Z\","
                     "\"issuedBy\":{\"commonName\":\"Fixture Signer <f@example.com>\"},"
                     "\"issuedTo\":{\"publicKeyID\":\"0xea9876e95eabd2c3\",\"commonName\":\"Fixture Signer <f@example.com>\"},"
                     "\"conditions\":["
                     "{\"type\":\"Trusted\",\"status\":\"True\",\"lastProbeTime\":\"" NOW "\",\"lastTransitionTime\":\"" NOW
                     "\",\"reason\":\"Verified\",\"message\":\"verified: a good signature by Fixture Signer "
                     "<f@example.com> (key 0xea9876e95eabd2c3) of the server's signature keyring\"},"
                     "{\"type\":\"ForImage\",\"status\":\"True\",\"lastProbeTime\":\"" NOW "\",\"lastTransitionTime\":\"" NOW
                     "\",\"reason\":\"DigestMatches\",\"message\":\"the signed manifest digest " DIGEST
                     " matches the image\"}]}");
    json_decref(sig);
    sig_report_free(&r);

    /* key unknown: issuer named by the key id; payload time when gpg gave none */
    r = signed_report(PAYLOAD(DIGEST), SIGV_NO_KEYRING, NULL);
    r.created = 0;
    sig = described(&r, "sha256:" HEXB);
    assert_conds(sig, "Trusted=False/NoKeyring ForImage=False/DigestMismatch");
    assert_json(json_object_get(sig, "issuedBy"), "{\"commonName\":\"0xea9876e95eabd2c3\"}");
    assert_json(json_object_get(sig, "issuedTo"), "{\"publicKeyID\":\"0xea9876e95eabd2c3\"}");
    assert_string_equal(json_string_value(json_object_get(sig, "created")), "2023-11-14T22:13:20Z");
    assert_string_equal(msg_of(sig, 0), "not verified: the server has no signature keyring (signed by key "
                                        "0xea9876e95eabd2c3)");
    assert_string_equal(msg_of(sig, 1), "the signed manifest digest " DIGEST " does not match the image sha256:" HEXB);
    json_decref(sig);
    sig_report_free(&r);

    static const struct { sig_verdict_t v; const char *conds; } verdicts[] = {
        {SIGV_UNKNOWN_KEY, "Trusted=False/UnknownKey ForImage=True/DigestMatches"},
        {SIGV_BAD, "Trusted=False/BadSignature ForImage=True/DigestMatches"},
        {SIGV_KEY_EXPIRED, "Trusted=False/KeyExpired ForImage=True/DigestMatches"},
        {SIGV_KEY_REVOKED, "Trusted=False/KeyRevoked ForImage=True/DigestMatches"},
        {SIGV_SIG_EXPIRED, "Trusted=False/SignatureExpired ForImage=True/DigestMatches"},
        {SIGV_ERROR, "Trusted=False/VerificationFailed ForImage=True/DigestMatches"},
        {(sig_verdict_t)99, "Trusted=False/VerificationFailed ForImage=True/DigestMatches"},
    };
    for (size_t i = 0; i < sizeof verdicts / sizeof *verdicts; i++) {
        r = signed_report(PAYLOAD(DIGEST), verdicts[i].v, i % 2 ? "Name" : NULL);
        sig = described(&r, DIGEST);
        assert_conds(sig, verdicts[i].conds);
        assert_non_null(strstr(msg_of(sig, 0), "0xea9876e95eabd2c3"));
        json_decref(sig);
        sig_report_free(&r);
    }
}

static void test_describe_not_signatures(void **state)
{
    sig_report_t r = {.outcome = SIG_NOT_SIGNED, .why = xstrdup("it is not an OpenPGP message")};
    json_t *sig = described(&r, DIGEST);
    assert_conds(sig, "Trusted=False/NotASignature ForImage=False/NotASignature");
    assert_string_equal(msg_of(sig, 0), "the content is not a signature: it is not an OpenPGP message");
    assert_null(json_object_get(sig, "imageIdentity"));   /* the client's value is gone */
    assert_null(json_object_get(sig, "issuedTo"));
    json_decref(sig);
    sig_report_free(&r);

    r = (sig_report_t){.outcome = SIG_UNREAD, .why = xstrdup("gpg did not finish within 10000 ms")};
    sig = described(&r, DIGEST);
    assert_conds(sig, "Trusted=Unknown/NotRead ForImage=Unknown/NotRead");
    assert_string_equal(msg_of(sig, 1), "the content was not read: gpg did not finish within 10000 ms");
    json_decref(sig);
    sig_report_free(&r);

    /* signed, but the signed text is not an atomic payload */
    r = signed_report("hello", SIGV_VERIFIED, "Name");
    sig = described(&r, DIGEST);
    assert_conds(sig, "Trusted=False/NotASignature ForImage=False/NotASignature");
    assert_string_equal(msg_of(sig, 0), "the content is not an atomic container signature (an OpenPGP message signed "
                                        "by key 0xea9876e95eabd2c3): the signed content is not JSON");
    assert_null(json_object_get(sig, "issuedBy"));
    json_decref(sig);
    sig_report_free(&r);

    /* a key id that is not hex is shown as reported */
    r = signed_report(PAYLOAD(DIGEST), SIGV_NO_KEYRING, NULL);
    free(r.key_id);
    r.key_id = xstrdup("short");
    sig = described(&r, DIGEST);
    assert_json(json_object_get(sig, "issuedTo"), "{\"publicKeyID\":\"short\"}");
    json_decref(sig);
    sig_report_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sniff),
        cmocka_unit_test(test_payload),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_describe_signed),
        cmocka_unit_test(test_describe_not_signatures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
