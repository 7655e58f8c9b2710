/* fuzz_yaml: yaml_to_json on arbitrary text; every value it accepts must survive
 * json_to_yaml -> yaml_to_json unchanged. The input is also tried as JSON, so arbitrary
 * JSON values (odd strings, keys, numbers) go through the YAML writer. */
#include "api/patch.h"
#include "fuzz_common.h"

static void roundtrip(const json_t *v, const char *what)
{
    char *y = json_to_yaml(v);
    FUZZ_CHECK(y != NULL);
    apierr_t err = APIERR_INIT;
    json_t *back = yaml_to_json(y, strlen(y), &err);
    if (!back || !json_equal(back, (json_t *)v)) {
        char *a = json_dumps(v, JSON_ENCODE_ANY);
        char *b = back ? json_dumps(back, JSON_ENCODE_ANY) : NULL;
        fprintf(stderr, "%s round trip differs:\n value: %s\n yaml: %s\n back: %s\n err: %s\n", what,
                a ? a : "?", y, b ? b : "(null)", err.message ? err.message : "");
        abort();
    }
    json_decref(back);
    apierr_clear(&err);
    free(y);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    apierr_t err = APIERR_INIT;
    json_t *v = yaml_to_json((const char *)data, size, &err);
    if (v) {
        FUZZ_CHECK(!apierr_is_set(&err));
        roundtrip(v, "yaml");
        json_decref(v);
    } else {
        FUZZ_CHECK(err.kind == APIERR_BAD_REQUEST && err.message);
    }
    apierr_clear(&err);

    json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
    if (j) {
        roundtrip(j, "json");
        json_decref(j);
    }
    return 0;
}
