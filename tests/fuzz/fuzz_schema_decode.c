/* fuzz_schema_decode: schema_decode of an arbitrary body as ImageStream and as Image, in
 * all three fieldValidation modes. Strict must fail whenever Warn warned; a Strict success
 * must equal the Warn and Ignore results. */
#include "fuzz_common.h"
#include "schema/schema.h"

static void one_kind(const schema_kind_t *k, const char *body, size_t len)
{
    json_t *res[3] = {NULL, NULL, NULL};
    int warns[3] = {0, 0, 0};
    const field_validation_t modes[3] = {FV_STRICT, FV_WARN, FV_IGNORE};
    for (int i = 0; i < 3; i++) {
        apierr_t err = APIERR_INIT;
        res[i] = schema_decode(k, body, len, modes[i], fuzz_warn_sink, &warns[i], &err);
        FUZZ_CHECK((res[i] != NULL) == !apierr_is_set(&err));
        if (!res[i])
            FUZZ_CHECK(err.kind == APIERR_BAD_REQUEST && err.message);
        apierr_clear(&err);
    }
    FUZZ_CHECK(warns[0] == 0 && warns[2] == 0);
    /* Warn and Ignore accept and reject the same bodies, with the same result */
    FUZZ_CHECK((res[1] != NULL) == (res[2] != NULL));
    if (res[1])
        FUZZ_CHECK(json_equal(res[1], res[2]));
    if (res[0]) {
        FUZZ_CHECK(res[1] && warns[1] == 0 && json_equal(res[0], res[1]));
        /* re-checking the decoded value is idempotent */
        apierr_t err = APIERR_INIT;
        FUZZ_CHECK(schema_check(k, res[0], FV_STRICT, NULL, NULL, &err) == 0);
        apierr_clear(&err);
    }
    for (int i = 0; i < 3; i++)
        json_decref(res[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    one_kind(&schema_image_stream, (const char *)data, size);
    one_kind(&schema_image, (const char *)data, size);
    return 0;
}
