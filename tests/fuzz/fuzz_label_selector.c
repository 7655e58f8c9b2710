/* fuzz_label_selector: label_selector_parse on arbitrary text, then match against a few
 * label sets (none, empty, typical, numeric values for the > / < operators). */
#include "api/selector.h"
#include "fuzz_common.h"

static json_t *label_sets[4];

static void init_sets(void)
{
    if (label_sets[0])
        return;
    fuzz_quiet();
    label_sets[0] = json_object();
    label_sets[1] = json_pack("{s:s, s:s, s:s}", "app", "web", "tier", "frontend",
                              "example.com/owner", "team-a");
    label_sets[2] = json_pack("{s:s, s:s, s:s}", "replicas", "3", "x", "", "n", "-17");
    label_sets[3] = NULL; /* no metadata.labels at all */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_sets();
    char *s = fuzz_cstr(data, size);
    apierr_t err = APIERR_INIT;
    label_selector_t *sel = label_selector_parse(s, &err);
    if (sel) {
        FUZZ_CHECK(!apierr_is_set(&err));
        bool empty = label_selector_empty(sel);
        for (int i = 0; i < 4; i++) {
            bool m = label_selector_match(sel, label_sets[i]);
            if (empty)
                FUZZ_CHECK(m); /* an empty selector matches everything */
        }
        label_selector_free(sel);
    } else {
        FUZZ_CHECK(err.kind == APIERR_BAD_REQUEST && err.message);
    }
    apierr_clear(&err);
    free(s);
    return 0;
}
