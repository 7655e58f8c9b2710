/* The canonical payload of a signed schema 1 manifest (libtrust "pretty signature"): the
 * bytes its digest covers. The body up to the protected header's formatLength, followed by
 * the base64url-decoded formatTail. Pure (no I/O): shared by the client, which verifies
 * schema 1 manifests fetched by digest, and image/, which checks stored manifests. */
#include "importer/importer.h"
#include "util/util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char *str_of(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

char *reg_schema1_payload(const char *raw, size_t len, size_t *outlen)
{
    char *res = NULL, *prot = NULL, *tail = NULL;
    json_t *m = json_loadb(raw, len, 0, NULL), *hdr = NULL;
    json_t *sigs = json_object_get(m, "signatures");
    if (!json_array_size(sigs))
        goto out; /* unsigned schema1 has no canonical form: rejected */
    size_t plen = 0;
    prot = base64url_decode(str_of(json_array_get(sigs, 0), "protected"), &plen);
    if (!prot)
        goto out;
    hdr = json_loadb(prot, plen, 0, NULL);
    json_t *fl = json_object_get(hdr, "formatLength");
    if (!json_is_number(fl))
        goto out;
    json_int_t flen = (json_int_t)json_number_value(fl);
    size_t tlen = 0;
    tail = base64url_decode(str_of(hdr, "formatTail"), &tlen);
    if (!tail || flen < 0 || (size_t)flen > len)
        goto out;
    res = xmalloc((size_t)flen + tlen + 1);
    memcpy(res, raw, (size_t)flen);
    memcpy(res + flen, tail, tlen);
    res[flen + tlen] = 0;
    *outlen = (size_t)flen + tlen;
out:
    free(prot);
    free(tail);
    json_decref(hdr);
    json_decref(m);
    return res;
}
