/* fuzz_content_negotiation: api_accept_parse (Accept), api_content_type_kind and
 * api_patch_type (Content-Type of a create/update and of a PATCH) on arbitrary header
 * values. Input: the header value (both headers get the same bytes; a NUL ends it, as
 * h2o's headers are C strings here).
 * Checks: results are in range; the first range we can serve decides, so appending
 * ",application/json" or ",application/yaml" never changes the answer and prepending a
 * servable range always wins; the Content-Type classification ignores case and
 * parameters (";charset=utf-8" appended to a recognised type keeps it recognised, and
 * the same); the apply patch type is the only one a create body shares with PATCH. */
#include <ctype.h>

#include "api/api_internal.h"
#include "fuzz_common.h"

static char *cat(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    if (!s)
        abort();
    memcpy(s, a, la);
    memcpy(s + la, b, lb + 1);
    return s;
}

static void check_accept(const char *h)
{
    int a = api_accept_parse(h);
    FUZZ_CHECK(a == ACCEPT_JSON || a == ACCEPT_TABLE || a == ACCEPT_PARTIAL || a == ACCEPT_PARTIAL_LIST ||
               a == ACCEPT_YAML);
    char *s = cat(h, ",application/json");
    FUZZ_CHECK(api_accept_parse(s) == a);
    free(s);
    s = cat(h, ", application/yaml");
    int y = api_accept_parse(s);
    free(s);
    /* yaml appended: the same, unless nothing in h was servable (then JSON became YAML) */
    FUZZ_CHECK(y == a || (a == ACCEPT_JSON && y == ACCEPT_YAML));
    s = cat("application/yaml,", h);
    FUZZ_CHECK(api_accept_parse(s) == ACCEPT_YAML);
    free(s);
    s = cat("application/json;as=Table;v=v1;g=meta.k8s.io,", h);
    FUZZ_CHECK(api_accept_parse(s) == ACCEPT_TABLE);
    free(s);
}

static void check_content_type(const char *h)
{
    int b = api_content_type_kind(h), p = api_patch_type(h);
    FUZZ_CHECK(b == -1 || b == CT_BODY_JSON || b == CT_BODY_YAML || b == CT_BODY_PROTOBUF);
    FUZZ_CHECK(p == -1 || p == PT_MERGE || p == PT_JSON || p == PT_STRATEGIC || p == PT_APPLY);
    /* a body type that is also a patch type: only application/apply-patch+yaml */
    if (b >= 0 && p >= 0)
        FUZZ_CHECK(b == CT_BODY_YAML && p == PT_APPLY);
    if (!*h)
        FUZZ_CHECK(b == CT_BODY_JSON && p == -1 && api_content_type_kind(NULL) == b && api_patch_type(NULL) == p);

    /* case does not matter */
    char *up = strdup(h);
    for (char *c = up; *c; c++)
        *c = (char)toupper((unsigned char)*c);
    FUZZ_CHECK(api_content_type_kind(up) == b && api_patch_type(up) == p);
    free(up);

    /* parameters do not matter: the media type is what precedes ';' or ' ' */
    size_t mt = strcspn(h, "; ");
    if (mt > 0) {
        char *base = strndup(h, mt);
        FUZZ_CHECK(api_content_type_kind(base) == b && api_patch_type(base) == p);
        char *cs = cat(base, "; charset=utf-8");
        FUZZ_CHECK(api_content_type_kind(cs) == b && api_patch_type(cs) == p);
        free(cs);
        free(base);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    char *h = fuzz_cstr(data, size);
    check_accept(h);
    check_content_type(h);
    free(h);
    return 0;
}
