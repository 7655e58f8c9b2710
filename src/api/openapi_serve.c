/* openapi_serve: /openapi/v3 (root + the group-version document generated from the
 * schema, content-hashed and cacheable) and /openapi/v2 (the minimal protobuf document
 * kubectl accepts; see reference/kubectl-contract.md §5.4). */
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"

/* The OpenAPI v3 document of the core kinds (core) or of API_GROUP's, as compact JSON. */
static char *build_doc(api_t *a, bool core)
{
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < a->nkinds; i++)
        cap += 1 + a->kinds[i].nsubresources;
    schema_resource_t *res = xcalloc(cap ? cap : 1, sizeof *res);
    for (size_t i = 0; i < a->nkinds; i++) {
        const kind_def_t *k = &a->kinds[i];
        if ((k->schema->group[0] == '\0') != core)
            continue;
        res[n++] = (schema_resource_t){k->schema, k->resource, k->namespaced, k->verbs, NULL};
        for (size_t j = 0; j < k->nsubresources; j++) {
            const api_subresource_t *sr = &k->subresources[j];
            res[n++] = (schema_resource_t){sr->schema ? sr->schema : k->schema, k->resource, k->namespaced, sr->verbs,
                                           sr->name, k->kind, k->schema};
        }
    }
    json_t *doc = schema_openapi_v3(res, n);
    free(res);
    char *s = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return s;
}

void openapi_build(api_t *a)
{
    a->openapi_v3 = build_doc(a, false);
    a->openapi_v3_len = strlen(a->openapi_v3);
    sha512_hex_upper(a->openapi_v3, a->openapi_v3_len, a->openapi_hash);
    json_t *paths = json_pack("{s:{s:s+}}", "apis/" API_GV, "serverRelativeURL", "/openapi/v3/apis/" API_GV "?hash=",
                              a->openapi_hash);
    if (a->has_core) {
        a->openapi_core = build_doc(a, true);
        a->openapi_core_len = strlen(a->openapi_core);
        sha512_hex_upper(a->openapi_core, a->openapi_core_len, a->openapi_core_hash);
        json_object_set_new(paths, "api/v1", json_pack("{s:s+}", "serverRelativeURL", "/openapi/v3/api/v1?hash=",
                                                       a->openapi_core_hash));
    }
    json_t *root = json_pack("{s:o}", "paths", paths);
    a->openapi_root = json_dumps(root, JSON_COMPACT);
    json_decref(root);
}

/* A group-version document: content-hashed, immutable when asked for by its hash. */
static void respond_doc(http_req_t *h, const char *doc, size_t len, const char *hash)
{
    char etag[140];
    snprintf(etag, sizeof etag, "\"%s\"", hash);
    const char *q = http_query(h);
    const char *hp = strstr(q, "hash=");
    bool pinned = hp && strncmp(hp + 5, hash, 128) == 0;
    http_header_kv_t hdr[] = {
        {"Content-Type", "application/json"},
        {"ETag", etag},
        {"Cache-Control", pinned ? "public, immutable" : "no-cache, private"},
        {"Expires", pinned ? "Fri, 01 Jan 2100 00:00:00 GMT" : "Thu, 01 Jan 1970 00:00:00 GMT"},
    };
    const char *inm = http_header(h, "If-None-Match");
    if (inm && strcmp(inm, etag) == 0)
        http_respond(h, 304, hdr, 4, "", 0);
    else
        http_respond(h, 200, hdr, 4, doc, len);
}

bool openapi_route(api_t *a, http_req_t *h, const char *path)
{
    if (strcmp(path, "/openapi/v3") == 0 || strcmp(path, "/openapi/v3/") == 0) {
        api_respond_raw(h, 200, "application/json", a->openapi_root, strlen(a->openapi_root));
        return true;
    }
    if (strcmp(path, "/openapi/v3/apis/" API_GV) == 0) {
        respond_doc(h, a->openapi_v3, a->openapi_v3_len, a->openapi_hash);
        return true;
    }
    if (a->openapi_core && strcmp(path, "/openapi/v3/api/v1") == 0) {
        respond_doc(h, a->openapi_core, a->openapi_core_len, a->openapi_core_hash);
        return true;
    }
    if (strcmp(path, "/openapi/v2") == 0) {
        /* protobuf openapi.v2.Document{swagger: "2.0"}: kubectl skips client-side validation for
         * kinds it does not find and relies on the server's fieldValidation (contract §5.4). */
        static const char doc[] = {0x0a, 0x03, '2', '.', '0'};
        http_header_kv_t hdr[] = {{"Content-Type", "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"},
                                  {"Vary", "Accept"},
                                  {"ETag", "\"openapi-v2-minimal\""}};
        http_respond(h, 200, hdr, 3, doc, sizeof doc);
        return true;
    }
    return false;
}
