/* fuzz_image_metadata: image_fill_metadata (and the rest of the Image create path) on an
 * Image whose dockerImageManifest / dockerImageConfig come from the input.
 * Input: <manifest> "\n--\n" <config> ["\n--\n" <mediaType>]; the first byte of the
 * input also picks the image name, client layers and metadata. */
#include "fuzz_common.h"
#include "image/image.h"

static const char *const names[] = {
    "sha256:2d31f8b32bd1350b6672dc1277018d3c8b108005206a927c7fe40d47389ef6fb", "foo",
    "sha256:0d142a15a9d1b10f876bee1ac2edbb645d0560cab2e6de051431d766643bf00b", ""};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    unsigned sel = size ? data[0] : 0;
    const uint8_t *man, *rest, *cfg, *mt;
    size_t manl, restl, cfgl, mtl;
    fuzz_split(data, size, "\n--\n", &man, &manl, &rest, &restl);
    fuzz_split(rest, restl, "\n--\n", &cfg, &cfgl, &mt, &mtl);

    json_t *img = json_pack("{s:s, s:s, s:{s:s}, s:s}", "apiVersion", "image.openshift.io/v1",
                            "kind", "Image", "metadata", "name", names[sel & 3],
                            "dockerImageReference", "registry.example.com/ns/app@sha256:abc");
    /* json_stringn keeps embedded NULs (a JSON body may carry \u0000); invalid UTF-8 -> NULL, not set */
    json_object_set_new(img, "dockerImageManifest", json_stringn((const char *)man, manl));
    if (cfgl)
        json_object_set_new(img, "dockerImageConfig", json_stringn((const char *)cfg, cfgl));
    if (mtl)
        json_object_set_new(img, "dockerImageManifestMediaType", json_stringn((const char *)mt, mtl));
    if (sel & 4)
        json_object_set_new(img, "dockerImageLayers",
                            json_pack("[{s:s, s:i}, {s:s, s:i}]", "name", "L1", "size", 1, "name", "L2", "size", 2));
    if (sel & 8)
        json_object_set_new(img, "dockerImageMetadata", json_pack("{s:s, s:i}", "Id", "foo", "Size", 10));
    if (sel & 16)
        json_object_set_new(json_object_get(img, "metadata"), "annotations",
                            json_pack("{s:s}", "image.openshift.io/dockerLayersOrder", "ascending"));
    if (sel & 32)
        json_object_set_new(img, "dockerImageMetadataVersion", json_string(sel & 64 ? "pre012" : "1.0"));

    json_t *copy = json_deep_copy(img);
    image_fill_metadata(img, "2024-01-01T00:00:00Z");

    image_config_t cfgs = {NULL, NULL, "Legacy"};
    image_ctx_t ctx = {&cfgs, "2024-01-01T00:00:00Z", NULL, NULL};
    image_normalize(copy);
    image_prepare_create(&ctx, copy);
    ferrs_t errs = FERRS_INIT;
    image_validate(&ctx, copy, NULL, &errs);
    for (size_t i = 0; i < errs.n; i++)
        free(ferr_string(&errs.items[i]));
    ferrs_free(&errs);
    json_t *cells = image_table_cells(copy);
    json_decref(cells);

    /* an update with the same body over the created object */
    json_t *upd = json_deep_copy(copy);
    image_prepare_update(&ctx, upd, copy);
    image_validate(&ctx, upd, copy, &errs);
    ferrs_free(&errs);

    json_decref(upd);
    json_decref(copy);
    json_decref(img);
    return 0;
}
