/* fuzz_imagestream: decode an ImageStream body (Warn mode, as kubectl-less clients get), then
 * the whole create path: normalize, prepare_create, validate, decorate, table cells; then an
 * update of the created object with the same body, and a status update. */
#include "fuzz_common.h"
#include "image/image.h"
#include "schema/schema.h"

static json_t *get_stream(void *arg, const char *ns, const char *name)
{
    (void)arg;
    if (strcmp(name, "other"))
        return NULL;
    return json_pack("{s:s, s:s, s:{s:s, s:s}, s:{}, s:{s:[{s:s, s:[{s:s, s:s, s:s, s:i}]}]}}",
                     "apiVersion", "image.openshift.io/v1", "kind", "ImageStream", "metadata",
                     "name", name, "namespace", ns, "spec", "status", "tags", "tag", "latest",
                     "items", "created", "2020-01-02T03:04:05Z", "dockerImageReference",
                     "docker.io/library/ruby@sha256:aaaa", "image", "sha256:aaaa", "generation", 1);
}

static void drain(ferrs_t *errs)
{
    for (size_t i = 0; i < errs->n; i++) {
        free(ferr_string(&errs->items[i]));
        free(ferr_cause_message(&errs->items[i]));
    }
    ferrs_free(errs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    apierr_t err = APIERR_INIT;
    json_t *obj = schema_decode(&schema_image_stream, (const char *)data, size, FV_WARN, NULL, NULL, &err);
    apierr_clear(&err);
    if (!obj)
        return 0;
    image_config_t cfg = {"image-registry.svc:5000", size & 1 ? "registry.example.com" : NULL,
                          size & 2 ? "PreserveOriginal" : "Legacy"};
    image_ctx_t ctx = {&cfg, "2024-01-01T00:00:00Z", get_stream, NULL};

    json_t *orig = json_deep_copy(obj);
    ferrs_t errs = FERRS_INIT;
    imagestream_normalize(&ctx, obj);
    imagestream_prepare_create(&ctx, obj);
    imagestream_validate(&ctx, obj, NULL, &errs);
    bool valid = errs.n == 0;
    drain(&errs);
    json_t *out = json_deep_copy(obj);
    imagestream_decorate(&ctx, out);
    json_decref(imagestream_table_cells(out));

    if (valid) {
        json_t *upd = json_deep_copy(orig);
        imagestream_normalize(&ctx, upd);
        imagestream_prepare_update(&ctx, upd, obj);
        imagestream_validate(&ctx, upd, obj, &errs);
        drain(&errs);
        json_t *st = json_deep_copy(orig);
        imagestream_normalize(&ctx, st);
        imagestream_prepare_status_update(&ctx, st, obj);
        imagestream_validate_status_update(&ctx, st, obj, &errs);
        drain(&errs);
        json_t *ev = json_pack("{s:s, s:s, s:s, s:i}", "created", "2024-01-01T00:00:00Z",
                               "dockerImageReference", "docker.io/library/ruby@sha256:bbbb", "image",
                               "sha256:bbbb", "generation", 2);
        (void)imagestream_add_tag_event(st, "latest", ev);
        json_decref(ev);
        json_decref(imagestream_table_cells(st));
        json_decref(st);
        json_decref(upd);
    }
    json_decref(out);
    json_decref(orig);
    json_decref(obj);
    return 0;
}
