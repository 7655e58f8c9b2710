/* stored_value: the bytes an object is stored as. Canonical JSON, except that a large value
 * (over STORED_DEFLATE_MIN bytes: in practice an ImageStream with a long tag history) is
 * deflated, so that 100 tags x 100 history entries (~2.6 MB of JSON) stay well inside the
 * store's 1.5 MiB value limit (~0.5 MB stored). Encoded form: the magic "\0IZ1" (no JSON
 * value starts with NUL), the JSON length as 4 bytes big-endian, a zlib stream. Every read
 * path decodes through kind_output, so nothing above this file sees the difference; small
 * objects stay plain JSON (readable with etcdctl or sqlite3). */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "api/api_internal.h"

#define STORED_DEFLATE_MIN (64 * 1024)
/* A stored value never inflates past this (a corrupt or hostile length is refused). */
#define STORED_JSON_MAX (64u * 1024 * 1024)
static const char magic[4] = {'\0', 'I', 'Z', '1'};
#define HEADER 8

char *stored_value_encode(char *json, size_t len, size_t *out_len)
{
    *out_len = len;
    if (len < STORED_DEFLATE_MIN || len > STORED_JSON_MAX)
        return json;
    uLongf cap = compressBound((uLong)len);
    char *out = xmalloc(HEADER + cap);
    /* level 1: most of the gain (the digests do not compress anyway) at a fraction of the time */
    if (compress2((Bytef *)out + HEADER, &cap, (const Bytef *)json, (uLong)len, 1) != Z_OK || HEADER + cap >= len) {
        free(out);
        return json;
    }
    memcpy(out, magic, 4);
    for (int i = 0; i < 4; i++)
        out[4 + i] = (char)((len >> (24 - 8 * i)) & 0xff);
    free(json);
    *out_len = HEADER + cap;
    return out;
}

json_t *stored_value_decode(const char *value, size_t len)
{
    json_error_t jerr;
    if (len < HEADER || memcmp(value, magic, 4) != 0)
        return json_loadb(value, len, 0, &jerr);
    uLongf n = 0;
    for (int i = 0; i < 4; i++)
        n = (n << 8) | (unsigned char)value[4 + i];
    if (n == 0 || n > STORED_JSON_MAX)
        return NULL;
    char *json = xmalloc(n);
    uLongf got = n;
    json_t *obj = NULL;
    if (uncompress((Bytef *)json, &got, (const Bytef *)value + HEADER, (uLong)(len - HEADER)) == Z_OK && got == n)
        obj = json_loadb(json, n, 0, &jerr);
    free(json);
    return obj;
}
