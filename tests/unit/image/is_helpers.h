/* ImageStream test helpers: run the hooks in the order api/ calls them. */
#ifndef IMAGE_TEST_IS_HELPERS_H
#define IMAGE_TEST_IS_HELPERS_H

#include "fixtures.h"

#define NOW "2024-05-06T07:08:09Z"

static inline json_t *is_obj(const char *name, const char *spec)
{
    char *s = xasprintf("{\"kind\":\"ImageStream\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"ns\"},\"spec\":%s}", name, spec);
    json_t *o = J(s);
    free(s);
    return o;
}

/* Create: normalize, prepare, validate. Returns the errors as a string (caller frees). */
static inline char *is_create(const image_ctx_t *ctx, json_t *o)
{
    ferrs_t errs = FERRS_INIT;
    imagestream_normalize(ctx, o);
    imagestream_prepare_create(ctx, o);
    imagestream_validate(ctx, o, NULL, &errs);
    char *s = errs_str(&errs);
    ferrs_free(&errs);
    return s;
}

static inline char *is_update(const image_ctx_t *ctx, json_t *o, const json_t *old)
{
    ferrs_t errs = FERRS_INIT;
    imagestream_normalize(ctx, o);
    imagestream_prepare_update(ctx, o, old);
    imagestream_validate(ctx, o, old, &errs);
    char *s = errs_str(&errs);
    ferrs_free(&errs);
    return s;
}

static inline char *is_status_update(const image_ctx_t *ctx, json_t *o, const json_t *old)
{
    ferrs_t errs = FERRS_INIT;
    imagestream_normalize(ctx, o);
    imagestream_prepare_status_update(ctx, o, old);
    imagestream_validate_status_update(ctx, o, old, &errs);
    char *s = errs_str(&errs);
    ferrs_free(&errs);
    return s;
}

#define assert_str_free(expr, want)          \
    do {                                     \
        char *got_ = (expr);                 \
        assert_string_equal(got_, want);     \
        free(got_);                          \
    } while (0)

static inline json_t *status_items(const json_t *o, const char *tag)
{
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(json_object_get(o, "status"), "tags"), i, t) {
        if (!strcmp(json_string_value(json_object_get(t, "tag")), tag))
            return json_object_get(t, "items");
    }
    return NULL;
}

static inline json_t *spec_tag(const json_t *o, const char *tag)
{
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(json_object_get(o, "spec"), "tags"), i, t) {
        if (!strcmp(json_string_value(json_object_get(t, "name")), tag))
            return t;
    }
    return NULL;
}

static inline json_int_t generation(const json_t *o)
{
    return json_integer_value(json_object_get(json_object_get(o, "metadata"), "generation"));
}

#endif
