/* fuzz_docker_ref: docker_ref_parse on arbitrary text; a parsed reference printed with
 * docker_ref_exact must parse again to the same parts (tag dropped when an id is present,
 * as exact printing prefers the digest). Also exercises digest_valid and
 * docker_ref_repository. Registry-only references are exempt (see below). */
#include "fuzz_common.h"
#include "image/image.h"

static bool same(const char *a, const char *b)
{
    return !strcmp(a ? a : "", b ? b : "");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    char *s = fuzz_cstr(data, size);
    (void)digest_valid(s);
    docker_ref_t r;
    memset(&r, 0, sizeof r);
    const char *msg = NULL;
    if (docker_ref_parse(s, &r, &msg) == 0) {
        FUZZ_CHECK(r.registry && r.namespace && r.name && r.tag && r.id);
        char *exact = docker_ref_exact(&r);
        char *repo = docker_ref_repository(&r);
        FUZZ_CHECK(exact && repo);
        /* library-go quirk kept on purpose: a registry-only reference ("quay.io:4.16") puts
         * the whole string in registry and prints as "quay.io:4.16/", which does not parse */
        if (!*r.name)
            goto done;
        docker_ref_t r2;
        memset(&r2, 0, sizeof r2);
        const char *msg2 = NULL;
        if (docker_ref_parse(exact, &r2, &msg2) != 0) {
            fprintf(stderr, "exact form %s of %s does not re-parse: %s\n", exact, s, msg2);
            abort();
        }
        if (!same(r.registry, r2.registry) || !same(r.namespace, r2.namespace) ||
            !same(r.name, r2.name) || !same(r.id, r2.id) || (!*r.id && !same(r.tag, r2.tag))) {
            fprintf(stderr, "round trip of %s via %s: [%s|%s|%s|%s|%s] -> [%s|%s|%s|%s|%s]\n", s, exact,
                    r.registry, r.namespace, r.name, r.tag, r.id, r2.registry, r2.namespace, r2.name,
                    r2.tag, r2.id);
            abort();
        }
        docker_ref_free(&r2);
    done:
        free(exact);
        free(repo);
        docker_ref_free(&r);
    } else {
        FUZZ_CHECK(msg && *msg);
        docker_ref_free(&r); /* must be safe on a failed parse */
    }
    free(s);
    return 0;
}
