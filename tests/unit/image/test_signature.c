/* Signature validation (§2.5): name format, forbidden metadata, condition pairing
 * (intended rule, incl. inputs that crash the reference) and the unknown-state rule. */
#include "fixtures.h"

static char *check(const char *sig, const char *prefix)
{
    json_t *s = J(sig);
    ferrs_t errs = FERRS_INIT;
    image_signature_validate(s, prefix, &errs);
    char *out = errs_str(&errs);
    ferrs_free(&errs);
    json_decref(s);
    return out;
}

#define assert_sig(sig, prefix, want)            \
    do {                                         \
        char *got_ = check(sig, prefix);         \
        assert_string_equal(got_, want);         \
        free(got_);                              \
    } while (0)

#define BASE "\"metadata\":{\"name\":\"img@s\"},\"type\":\"t\",\"content\":\"YmxvYg==\""
#define TRUSTED_TRUE "{\"type\":\"Trusted\",\"status\":\"True\"}"

static void test_s2_s3_s4(void **state)
{
    assert_sig("{\"metadata\":{\"name\":\"notype\"},\"content\":\"YmxvYg==\"}", "",
               "metadata.name: Invalid value: \"notype\": name must be of format <imageName>@<signatureName> | "
               "type: Required value");
    assert_sig("{\"metadata\":{\"name\":\"img@nocontent\"},\"type\":\"invalid\"}", "", "content: Required value");
    assert_sig("{\"metadata\":{\"name\":\"img@s\",\"labels\":{\"a\":\"b\"},\"annotations\":{\"c\":\"d\"}},"
               "\"type\":\"t\",\"content\":\"YQ==\"}", "",
               "metadata.labels: Forbidden: signature labels cannot be set | "
               "metadata.annotations: Forbidden: signature annotations cannot be set");
    assert_sig("{\"metadata\":{\"name\":\"a@b@c\"},\"type\":\"t\",\"content\":\"YQ==\"}", "",
               "metadata.name: Invalid value: \"a@b@c\": name must be of format <imageName>@<signatureName>");
    assert_sig("{\"metadata\":{\"name\":\"@b\"},\"type\":\"t\",\"content\":\"YQ==\"}", "",
               "metadata.name: Invalid value: \"@b\": name must be of format <imageName>@<signatureName>");
    assert_sig("{\"metadata\":{},\"type\":\"t\",\"content\":\"YQ==\"}", "",
               "metadata.name: Required value: name or generateName is required | "
               "metadata.name: Invalid value: \"\": name must be of format <imageName>@<signatureName>");
    assert_sig("{\"metadata\":{\"name\":\"a/b@c\"},\"type\":\"t\",\"content\":\"YQ==\"}", "",
               "metadata.name: Invalid value: \"a/b@c\": may not contain '/'");
}

static void test_s8_missing_for_image(void **state)
{
    assert_sig("{" BASE ",\"conditions\":[" TRUSTED_TRUE "],\"imageIdentity\":\"registry.company.ltd/app/core:v1.2\"}",
               "signatures[0].",
               "signatures[0].conditions: Invalid value: [{\"Type\":\"Trusted\",\"Status\":\"True\",\"LastProbeTime\":null,"
               "\"LastTransitionTime\":null,\"Reason\":\"\",\"Message\":\"\"}]: missing \"ForImage\" condition type");
}

static void test_s9_paired(void **state)
{
    assert_sig("{" BASE ",\"conditions\":[" TRUSTED_TRUE ",{\"type\":\"ForImage\",\"status\":\"True\"}],"
               "\"imageIdentity\":\"x\"}", "signatures[0].", "");
    /* Same probe times: the last Trusted wins; False is a known state, identity allowed. */
    assert_sig("{" BASE ",\"conditions\":[" TRUSTED_TRUE ",{\"type\":\"ForImage\",\"status\":\"False\"},"
               "{\"type\":\"Trusted\",\"status\":\"False\"}],\"imageIdentity\":\"x\"}", "", "");
    /* Latest probe time wins over list order: here the Unknown one is newer. */
    assert_sig("{" BASE ",\"conditions\":[{\"type\":\"Trusted\",\"status\":\"Unknown\",\"lastProbeTime\":\"2021-01-01T00:00:00Z\"},"
               "{\"type\":\"ForImage\",\"status\":\"True\"},"
               "{\"type\":\"Trusted\",\"status\":\"True\",\"lastProbeTime\":\"2020-01-01T00:00:00Z\"}],\"imageIdentity\":\"x\"}",
               "", "imageIdentity: Invalid value: \"x\": must be unset for unknown signature state");
}

static void test_s10_unknown_state(void **state)
{
    assert_sig("{" BASE ",\"conditions\":[{\"type\":\"Trusted\",\"status\":\"Unknown\"},{\"type\":\"ForImage\",\"status\":\"Unknown\"}],"
               "\"imageIdentity\":\"id\",\"signedClaims\":{\"claim\":\"value\"},\"issuedBy\":{\"organization\":\"org\"},"
               "\"issuedTo\":{\"publicKeyID\":\"id\"}}",
               "signatures[0].",
               "signatures[0].imageIdentity: Invalid value: \"id\": must be unset for unknown signature state | "
               "signatures[0].signedClaims: Invalid value: {\"claim\":\"value\"}: must be unset for unknown signature state | "
               "signatures[0].issuedBy: Invalid value: {\"Organization\":\"org\",\"CommonName\":\"\"}: must be unset for unknown signature state | "
               "signatures[0].issuedTo: Invalid value: {\"Organization\":\"\",\"CommonName\":\"\",\"PublicKeyID\":\"id\"}: "
               "must be unset for unknown signature state");
    /* No conditions at all: identity fields must be unset too. */
    assert_sig("{" BASE ",\"imageIdentity\":\"id\"}", "",
               "imageIdentity: Invalid value: \"id\": must be unset for unknown signature state");
}

static void test_s11_pairing_intended_rule(void **state)
{
    assert_sig("{" BASE ",\"conditions\":[{\"type\":\"ForImage\",\"status\":\"True\"},{\"type\":\"Expired\",\"status\":\"True\"}]}",
               "signatures[0].",
               "signatures[0].conditions: Invalid value: [{\"Type\":\"ForImage\",\"Status\":\"True\",\"LastProbeTime\":null,"
               "\"LastTransitionTime\":null,\"Reason\":\"\",\"Message\":\"\"},{\"Type\":\"Expired\",\"Status\":\"True\","
               "\"LastProbeTime\":null,\"LastTransitionTime\":null,\"Reason\":\"\",\"Message\":\"\"}]: missing \"Trusted\" condition type");
    /* Inputs that crash the reference (500) get the intended answers. */
    assert_sig("{" BASE ",\"conditions\":[" TRUSTED_TRUE ",{\"type\":\"Expired\",\"status\":\"True\"}]}", "",
               "conditions: Invalid value: [{\"Type\":\"Trusted\",\"Status\":\"True\",\"LastProbeTime\":null,"
               "\"LastTransitionTime\":null,\"Reason\":\"\",\"Message\":\"\"},{\"Type\":\"Expired\",\"Status\":\"True\","
               "\"LastProbeTime\":null,\"LastTransitionTime\":null,\"Reason\":\"\",\"Message\":\"\"}]: missing \"ForImage\" condition type");
    assert_sig("{" BASE ",\"conditions\":[{\"type\":\"Expired\",\"status\":\"True\"}]}", "", "");
}

static void test_signature_inside_image(void **state)
{
    json_t *img = J("{\"metadata\":{\"name\":\"img\"},\"dockerImageReference\":\"x\",\"signatures\":["
                    "{\"metadata\":{\"name\":\"img@a\"},\"type\":\"t\",\"content\":\"YQ==\"},"
                    "{\"metadata\":{\"name\":\"img@b\"},\"content\":\"YQ==\",\"conditions\":[" TRUSTED_TRUE "]}]}");
    image_normalize(img);
    ferrs_t errs = FERRS_INIT;
    image_validate(NULL, img, NULL, &errs);
    assert_errs(&errs, "signatures[1].type: Required value | signatures[1].conditions: Invalid value: "
                       "[{\"Type\":\"Trusted\",\"Status\":\"True\",\"LastProbeTime\":null,\"LastTransitionTime\":null,"
                       "\"Reason\":\"\",\"Message\":\"\"}]: missing \"ForImage\" condition type");
    ferrs_free(&errs);
    /* Wire shape of a signature with conditions and issuedTo. */
    json_t *s = json_array_get(json_object_get(img, "signatures"), 1);
    assert_json(s, "{\"metadata\":{\"name\":\"img@b\"},\"type\":\"\",\"content\":\"YQ==\",\"conditions\":[{\"type\":\"Trusted\","
                   "\"status\":\"True\",\"lastProbeTime\":null,\"lastTransitionTime\":null}]}");
    json_decref(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_s2_s3_s4),
        cmocka_unit_test(test_s8_missing_for_image),
        cmocka_unit_test(test_s9_paired),
        cmocka_unit_test(test_s10_unknown_state),
        cmocka_unit_test(test_s11_pairing_intended_rule),
        cmocka_unit_test(test_signature_inside_image),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
