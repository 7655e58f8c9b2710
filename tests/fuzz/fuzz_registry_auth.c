/* fuzz_registry_auth: the registry client's WWW-Authenticate parser and token-response
 * parser on arbitrary bytes. Checks: a parsed challenge always has its strings, Bearer
 * wins over Basic in reg_challenge_pick, a parsed token is printable ASCII without spaces
 * (it goes into an Authorization header) and its lifetime is within [60 s, 1 day]. */
#include "fuzz_common.h"
#include "importer/importer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    char *s = fuzz_cstr(data, size);
    reg_challenge_t c[REG_MAX_CHALLENGES];
    int n = reg_challenges_parse(s, c, REG_MAX_CHALLENGES);
    FUZZ_CHECK(n >= -1 && n <= REG_MAX_CHALLENGES);
    for (int i = 0; i < n; i++)
        FUZZ_CHECK(c[i].scheme_name && *c[i].scheme_name && c[i].realm && c[i].service && c[i].scope);
    if (n > 0) {
        const reg_challenge_t *p = reg_challenge_pick(c, (size_t)n);
        if (p && p->scheme == REG_AUTH_BASIC)
            for (int i = 0; i < n; i++)
                FUZZ_CHECK(!(c[i].scheme == REG_AUTH_BEARER && *c[i].realm));
        reg_challenges_free(c, (size_t)n);
    }
    reg_token_t t;
    const char *err = NULL;
    time_t now = 1767225600;
    if (reg_token_parse(data, size, now, &t, &err) == 0) {
        FUZZ_CHECK(t.token && *t.token);
        for (const char *q = t.token; *q; q++)
            FUZZ_CHECK((unsigned char)*q > 0x20 && (unsigned char)*q < 0x7f);
        FUZZ_CHECK(t.expires_in >= 60 && t.expires_in <= 86400);
        FUZZ_CHECK(reg_token_expiry(&t) > now - 86400);
        reg_token_free(&t);
    } else {
        FUZZ_CHECK(err && *err && !t.token);
    }
    free(s);
    return 0;
}
