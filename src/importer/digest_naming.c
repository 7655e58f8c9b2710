/* Digest checks of registry bodies and Docker Hub naming. */
#include "importer/importer.h"
#include "util/util.h"

#include <string.h>

static bool hex_lower(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return s[n] == 0;
}

bool reg_digest_valid(const char *d)
{
    if (!d)
        return false;
    if (str_has_prefix(d, "sha256:"))
        return strlen(d + 7) == 64 && hex_lower(d + 7, 64);
    if (str_has_prefix(d, "sha384:"))
        return strlen(d + 7) == 96 && hex_lower(d + 7, 96);
    if (str_has_prefix(d, "sha512:"))
        return strlen(d + 7) == 128 && hex_lower(d + 7, 128);
    return false;
}

bool reg_digest_verify(const char *digest, const void *body, size_t len, const char **err)
{
    if (!reg_digest_valid(digest)) {
        *err = "invalid digest";
        return false;
    }
    if (!str_has_prefix(digest, "sha256:")) {
        *err = "unsupported digest algorithm";
        return false;
    }
    char hex[65];
    sha256_hex(body, len, hex);
    if (strcmp(hex, digest + 7)) {
        *err = "digest mismatch";
        return false;
    }
    return true;
}

bool reg_is_docker_hub(const char *registry)
{
    return !registry || !*registry || !strcmp(registry, "docker.io") || !strcmp(registry, "index.docker.io") ||
           !strcmp(registry, "registry-1.docker.io");
}

const char *reg_api_host(const char *registry)
{
    return reg_is_docker_hub(registry) ? "registry-1.docker.io" : registry;
}

char *reg_repo_path(const char *registry, const char *namespace, const char *name)
{
    if (namespace && *namespace)
        return xasprintf("%s/%s", namespace, name);
    if (reg_is_docker_hub(registry))
        return xasprintf("library/%s", name);
    return xstrdup(name);
}
