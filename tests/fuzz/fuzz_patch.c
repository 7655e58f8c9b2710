/* fuzz_patch: the input is parsed as a JSON patch document and applied with all three
 * patch flavours (merge, JSON patch, strategic merge) to a fixed ImageStream. The target
 * must never be modified; results are always fresh references. */
#include "api/patch.h"
#include "fuzz_common.h"
#include "schema/schema.h"

static const char TARGET[] =
    "{\"apiVersion\":\"image.openshift.io/v1\",\"kind\":\"ImageStream\","
    "\"metadata\":{\"name\":\"ruby\",\"namespace\":\"ns\",\"labels\":{\"app\":\"web\"},"
    "\"annotations\":{\"a\":\"b\"},\"finalizers\":[\"x/y\"],\"ownerReferences\":[{\"apiVersion\":\"v1\","
    "\"kind\":\"ConfigMap\",\"name\":\"o\",\"uid\":\"u1\"}]},"
    "\"spec\":{\"lookupPolicy\":{\"local\":false},\"dockerImageRepository\":\"docker.io/library/ruby\","
    "\"tags\":[{\"name\":\"latest\",\"from\":{\"kind\":\"DockerImage\",\"name\":\"ruby:3\"},"
    "\"annotations\":{\"t\":\"1\"},\"importPolicy\":{\"importMode\":\"Legacy\"},"
    "\"referencePolicy\":{\"type\":\"Source\"}},{\"name\":\"old\",\"from\":{\"kind\":\"ImageStreamTag\","
    "\"name\":\"ruby:latest\"},\"generation\":2}]},"
    "\"status\":{\"dockerImageRepository\":\"\",\"tags\":[{\"tag\":\"latest\",\"items\":[{\"created\":"
    "\"2020-01-02T03:04:05Z\",\"dockerImageReference\":\"ruby@sha256:aa\",\"image\":\"sha256:aa\","
    "\"generation\":1}]}]}}";

static json_t *target, *pristine;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    if (!target) {
        target = json_loads(TARGET, 0, NULL);
        pristine = json_deep_copy(target);
        FUZZ_CHECK(target && pristine);
    }
    json_t *p = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (!p)
        return 0;

    json_t *r = patch_merge(target, p);
    FUZZ_CHECK(r && r != target);
    json_decref(r);

    apierr_t err = APIERR_INIT;
    r = patch_json(target, p, &err);
    FUZZ_CHECK((r != NULL) == !apierr_is_set(&err));
    FUZZ_CHECK(r != target);
    json_decref(r);
    apierr_clear(&err);

    r = patch_strategic(target, p, schema_image_stream.root, &err);
    FUZZ_CHECK((r != NULL) == !apierr_is_set(&err));
    FUZZ_CHECK(r != target);
    json_decref(r);
    apierr_clear(&err);

    FUZZ_CHECK(json_equal(target, pristine));
    json_decref(p);
    return 0;
}
