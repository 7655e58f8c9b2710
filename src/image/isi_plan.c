/* The references of an import (§0.2 defaults, §5.1, §5.8): from a user's from.name to
 * what a fetch needs (registry, path on it), what messages and credential lookups name
 * (docker.io/library/busybox:latest) and what the status keeps (the user's spelling). */
#include <stdlib.h>
#include <string.h>

#include "image/isi_int.h"
#include "importer/importer.h"
#include "util/util.h"

int isi_ref_parse(const char *name, bool insecure, isi_ref_t *out, const char **msg)
{
    memset(out, 0, sizeof *out);
    docker_ref_t r;
    if (docker_ref_parse(name, &r, msg) != 0) {
        docker_ref_free(&r);
        return -1;
    }
    if (!*r.name) {   /* a registry alone ("quay.io"): nothing to import */
        docker_ref_free(&r);
        *msg = "invalid reference format";
        return -1;
    }
    out->registry = xstrdup(r.registry);
    out->repository = reg_repo_path(r.registry, r.namespace, r.name);
    out->tag = xstrdup(r.tag);
    out->digest = xstrdup(r.id);
    out->user_repo = docker_ref_repository(&r);
    out->norm_repo = xasprintf("%s/%s", *r.registry ? r.registry : "docker.io", out->repository);
    const char *host = reg_api_host(r.registry);
    if (!*host)
        host = "registry-1.docker.io";
    out->host_port = strchr(host, ':') ? xstrdup(host) : xasprintf("%s:%s", host, insecure ? "80" : "443");
    docker_ref_free(&r);
    return 0;
}

void isi_ref_free(isi_ref_t *r)
{
    free(r->registry);
    free(r->repository);
    free(r->tag);
    free(r->digest);
    free(r->user_repo);
    free(r->norm_repo);
    free(r->host_port);
    memset(r, 0, sizeof *r);
}

char *isi_ref_normalized(const isi_ref_t *r)
{
    if (*r->digest)
        return xasprintf("%s@%s", r->norm_repo, r->digest);
    return xasprintf("%s:%s", r->norm_repo, *r->tag ? r->tag : "latest");
}

/* One list entry against the registry: "host:port" exactly, or a bare host matching the
 * registry's host on any port, or the registry as written ("docker.io"). */
static bool entry_matches(const char *e, size_t n, const isi_ref_t *r)
{
    if (!n)
        return false;
    if (strlen(r->host_port) == n && !memcmp(e, r->host_port, n))
        return true;
    const char *colon = strrchr(r->host_port, ':');
    size_t hn = colon ? (size_t)(colon - r->host_port) : strlen(r->host_port);
    if (!memchr(e, ':', n) && hn == n && !memcmp(e, r->host_port, n))
        return true;
    const char *reg = *r->registry ? r->registry : "docker.io";
    if (strlen(reg) == n && !memcmp(e, reg, n))
        return true;
    return reg_is_docker_hub(r->registry) && n == 9 && !memcmp(e, "docker.io", 9);
}

bool isi_host_listed(const char *list, const isi_ref_t *r)
{
    if (!list)
        return false;
    const char *p = list;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n && *p == ' ') {
            p++;
            n--;
        }
        while (n && p[n - 1] == ' ')
            n--;
        if (entry_matches(p, n, r))
            return true;
        if (!end)
            break;
        p = end + 1;
    }
    return false;
}
