/* fuzz_field_selector: field_selector_parse with the default and an explicit allow-list,
 * match against a fixed object, field_selector_name. */
#include "api/selector.h"
#include "fuzz_common.h"

static const char *get_field(void *arg, const char *field)
{
    (void)arg;
    if (!strcmp(field, "metadata.name"))
        return "ruby";
    if (!strcmp(field, "metadata.namespace"))
        return "my-ns";
    if (!strcmp(field, "spec.dockerImageRepository"))
        return "docker.io/a=b,c\\d";
    return "";
}

static const char *const allowed[] = {"metadata.name", "metadata.namespace",
                                      "spec.dockerImageRepository", NULL};

static void run(const char *s, const char *const *allow)
{
    apierr_t err = APIERR_INIT;
    field_selector_t *sel = field_selector_parse(s, allow, &err);
    if (sel) {
        FUZZ_CHECK(!apierr_is_set(&err));
        bool m = field_selector_match(sel, get_field, NULL);
        if (field_selector_empty(sel))
            FUZZ_CHECK(m);
        const char *name = field_selector_name(sel);
        if (name)
            (void)strlen(name);
        field_selector_free(sel);
    } else {
        FUZZ_CHECK(err.kind == APIERR_BAD_REQUEST && err.message);
    }
    apierr_clear(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    char *s = fuzz_cstr(data, size);
    run(s, NULL);
    run(s, allowed);
    free(s);
    return 0;
}
