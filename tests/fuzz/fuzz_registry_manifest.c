/* fuzz_registry_manifest: reg_manifest_parse on arbitrary bodies. The first input line is
 * the Content-Type, the rest the body. Checks: a parsed manifest has a known kind whose
 * media type is its canonical one, every descriptor has a valid digest and a size >= 0,
 * lists have children and no layers, image manifests the reverse; a failure frees all. */
#include "fuzz_common.h"
#include "importer/importer.h"

static void check_desc(const reg_descriptor_t *d)
{
    FUZZ_CHECK(reg_digest_valid(d->digest) && d->size >= 0);
    FUZZ_CHECK(d->media_type && d->os && d->architecture && d->variant);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    const uint8_t *a, *b;
    size_t alen, blen;
    fuzz_split(data, size, "\n", &a, &alen, &b, &blen);
    char *ct = fuzz_cstr(a, alen);
    reg_manifest_t m;
    char *err = NULL;
    if (reg_manifest_parse(ct, b, blen, &m, &err) == 0) {
        FUZZ_CHECK(!err && m.kind >= REG_KIND_SCHEMA1 && m.kind <= REG_KIND_OCI_INDEX && m.media_type);
        FUZZ_CHECK(m.nlayers <= REG_MAX_DESCRIPTORS && m.nchildren <= REG_MAX_DESCRIPTORS);
        if (reg_manifest_is_list(&m)) {
            FUZZ_CHECK(m.nlayers == 0 && !m.config.digest);
        } else {
            FUZZ_CHECK(m.nchildren == 0);
            if (m.kind != REG_KIND_SCHEMA1)
                check_desc(&m.config);
        }
        for (size_t i = 0; i < m.nlayers; i++)
            FUZZ_CHECK(reg_digest_valid(m.layers[i].digest) && m.layers[i].size >= 0);
        for (size_t i = 0; i < m.nchildren; i++)
            check_desc(&m.children[i]);
        reg_manifest_free(&m);
    } else {
        FUZZ_CHECK(err && *err);
        free(err);
    }
    /* digest verification never crashes, whatever the digest text */
    const char *derr = NULL;
    (void)reg_digest_verify(ct, b, blen, &derr);
    free(ct);
    return 0;
}
