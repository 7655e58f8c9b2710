/* Token responses of Docker token auth (distribution's token spec): {"token": ...} or the
 * OAuth2 {"access_token": ...}, "expires_in" seconds (default and minimum 60, as
 * docker/distribution), "issued_at" RFC 3339. The token goes into an Authorization header,
 * so it must be printable ASCII without spaces (no header injection). */
#include "importer/importer.h"
#include "util/util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_MIN_EXPIRY 60
/* a registry may ask for longer; the cache never keeps a token beyond a day */
#define TOKEN_MAX_EXPIRY 86400
/* renew this long before expiry so a request never carries a token that expires in flight */
#define TOKEN_MARGIN 10

static bool token_chars_ok(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
            return false;
    return true;
}

int reg_token_parse(const void *body, size_t len, time_t now, reg_token_t *out, const char **err)
{
    memset(out, 0, sizeof *out);
    if (len > REG_MAX_TOKEN) {
        *err = "token response too large";
        return -1;
    }
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(j)) {
        *err = "token response is not a JSON object";
        json_decref(j);
        return -1;
    }
    const char *tok = json_string_value(json_object_get(j, "token"));
    if (!tok || !*tok)
        tok = json_string_value(json_object_get(j, "access_token"));
    if (!tok || !*tok) {
        *err = "token response has no token";
        json_decref(j);
        return -1;
    }
    if (!token_chars_ok(tok)) {
        *err = "token response has a token with invalid characters";
        json_decref(j);
        return -1;
    }
    json_t *ei = json_object_get(j, "expires_in");
    int64_t exp = TOKEN_MIN_EXPIRY;
    if (json_is_integer(ei))
        exp = json_integer_value(ei);
    else if (json_is_real(ei)) /* clamped before the cast: a huge double would overflow */
        exp = json_real_value(ei) > TOKEN_MAX_EXPIRY ? TOKEN_MAX_EXPIRY : (int64_t)(json_real_value(ei) > 0 ? json_real_value(ei) : 0);
    if (exp < TOKEN_MIN_EXPIRY)
        exp = TOKEN_MIN_EXPIRY;
    if (exp > TOKEN_MAX_EXPIRY)
        exp = TOKEN_MAX_EXPIRY;
    time_t iat = now;
    const char *ia = json_string_value(json_object_get(j, "issued_at"));
    time_t t;
    /* a registry clock far off ours would make the token look expired or eternal: only a
     * plausible issued_at (within a day of now) is believed */
    if (ia && time_parse_rfc3339(ia, &t) == 0 && t <= now + 86400 && t >= now - 86400)
        iat = t;
    out->token = xstrdup(tok);
    out->expires_in = exp;
    out->issued_at = iat;
    json_decref(j);
    return 0;
}

void reg_token_free(reg_token_t *t)
{
    free(t->token);
    t->token = NULL;
}

time_t reg_token_expiry(const reg_token_t *t)
{
    return t->issued_at + (time_t)t->expires_in - TOKEN_MARGIN;
}
