/* discovery: /api, /apis (aggregated v2 and legacy), /apis/<group>, /apis/<group>/<version>,
 * built once from the kind table so that only what is served is advertised. */
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"

static json_t *verbs_array(const char *verbs)
{
    json_t *a = json_array();
    char *dup = xstrdup(verbs), *save = NULL;
    for (char *t = strtok_r(dup, " ", &save); t; t = strtok_r(NULL, " ", &save))
        json_array_append_new(a, json_string(t));
    free(dup);
    return a;
}

static json_t *str_array(const char *const *v)
{
    json_t *a = json_array();
    for (size_t i = 0; v && v[i]; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static void add_names(json_t *r, const kind_def_t *k)
{
    if (k->short_names && k->short_names[0])
        json_object_set_new(r, "shortNames", str_array(k->short_names));
    if (k->categories && k->categories[0])
        json_object_set_new(r, "categories", str_array(k->categories));
}

static bool is_core(const kind_def_t *k) { return k->schema->group[0] == '\0'; }

static json_t *gvk(const kind_def_t *k, const char *kind)
{
    return json_pack("{s:s, s:s, s:s}", "group", k->schema->group, "version", k->schema->version, "kind", kind);
}

static char *dump(json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    return s;
}

/* The kinds of the core group (core) or of API_GROUP. */
static json_t *aggregated_resources(api_t *a, bool core)
{
    json_t *res = json_array();
    for (size_t i = 0; i < a->nkinds; i++) {
        const kind_def_t *k = &a->kinds[i];
        if (is_core(k) != core)
            continue;
        json_t *r = json_pack("{s:s, s:o, s:s, s:s, s:o}", "resource", k->resource, "responseKind", gvk(k, k->kind),
                              "scope", k->namespaced ? "Namespaced" : "Cluster", "singularResource", k->singular,
                              "verbs", verbs_array(k->verbs));
        add_names(r, k);
        if (k->nsubresources) {
            json_t *subs = json_array();
            for (size_t j = 0; j < k->nsubresources; j++) {
                const api_subresource_t *sr = &k->subresources[j];
                json_array_append_new(subs, json_pack("{s:s, s:o, s:o}", "subresource", sr->name, "responseKind",
                                                      gvk(k, sr->schema ? sr->schema->kind : k->kind), "verbs",
                                                      verbs_array(sr->verbs)));
            }
            json_object_set_new(r, "subresources", subs);
        }
        json_array_append_new(res, r);
    }
    return res;
}

static json_t *group_version(void)
{
    return json_pack("{s:s, s:s}", "groupVersion", API_GV, "version", API_VERSION);
}

static char *resource_list(api_t *a, bool core);

void discovery_build(api_t *a)
{
    json_t *agg = json_pack("{s:s, s:s, s:{}, s:[{s:{s:s, s:n}, s:[{s:s, s:s, s:o}]}]}", "kind",
                            "APIGroupDiscoveryList", "apiVersion", "apidiscovery.k8s.io/v2", "metadata", "items",
                            "metadata", "name", API_GROUP, "creationTimestamp", "versions", "version", API_VERSION,
                            "freshness", "Current", "resources", aggregated_resources(a, false));
    a->disc_aggregated = dump(agg);
    json_t *core = aggregated_resources(a, true);
    a->has_core = json_array_size(core) > 0;
    json_t *core_items = json_array();
    if (a->has_core)
        json_array_append_new(core_items, json_pack("{s:{s:s, s:n}, s:[{s:s, s:s, s:O}]}", "metadata", "name", "",
                                                    "creationTimestamp", "versions", "version", "v1", "freshness",
                                                    "Current", "resources", core));
    json_decref(core);
    a->disc_api_aggregated = dump(json_pack("{s:s, s:s, s:{}, s:o}", "kind", "APIGroupDiscoveryList", "apiVersion",
                                            "apidiscovery.k8s.io/v2", "metadata", "items", core_items));
    a->disc_group_list = dump(json_pack("{s:s, s:s, s:[{s:s, s:[o], s:o}]}", "kind", "APIGroupList", "apiVersion",
                                        "v1", "groups", "name", API_GROUP, "versions", group_version(),
                                        "preferredVersion", group_version()));
    a->disc_group = dump(json_pack("{s:s, s:s, s:s, s:[o], s:o}", "kind", "APIGroup", "apiVersion", "v1", "name",
                                   API_GROUP, "versions", group_version(), "preferredVersion", group_version()));
    a->disc_resource_list = resource_list(a, false);
    a->disc_core_resource_list = resource_list(a, true);
    char h[65];
    sha256_hex(a->disc_aggregated, strlen(a->disc_aggregated), h);
    a->disc_etag = xasprintf("\"%s\"", h);
    sha256_hex(a->disc_api_aggregated, strlen(a->disc_api_aggregated), h);
    a->disc_api_etag = xasprintf("\"%s\"", h);
}

/* APIResourceList of /apis/<group>/<version> or (core) /api/v1. */
static char *resource_list(api_t *a, bool core)
{
    json_t *list = json_array();
    for (size_t i = 0; i < a->nkinds; i++) {
        const kind_def_t *k = &a->kinds[i];
        if (is_core(k) != core)
            continue;
        char hash_src[128], hash[65];
        snprintf(hash_src, sizeof hash_src, "%s/%s", k->api_version, k->kind);
        sha256_hex(hash_src, strlen(hash_src), hash);
        hash[11] = '\0';
        json_t *r = json_pack("{s:s, s:s, s:b, s:s, s:o, s:s}", "name", k->resource, "singularName", k->singular,
                              "namespaced", k->namespaced, "kind", k->kind, "verbs", verbs_array(k->verbs),
                              "storageVersionHash", hash);
        add_names(r, k);
        json_array_append_new(list, r);
        for (size_t j = 0; j < k->nsubresources; j++) {
            const api_subresource_t *sr = &k->subresources[j];
            char *name = xasprintf("%s/%s", k->resource, sr->name);
            json_array_append_new(list, json_pack("{s:s, s:s, s:b, s:s, s:o}", "name", name, "singularName", "",
                                                  "namespaced", k->namespaced, "kind",
                                                  sr->schema ? sr->schema->kind : k->kind, "verbs",
                                                  verbs_array(sr->verbs)));
            free(name);
        }
    }
    return dump(json_pack("{s:s, s:s, s:s, s:o}", "kind", "APIResourceList", "apiVersion", "v1", "groupVersion",
                          core ? "v1" : API_GV, "resources", list));
}

void discovery_free(api_t *a)
{
    free(a->disc_aggregated);
    free(a->disc_api_aggregated);
    free(a->disc_group_list);
    free(a->disc_group);
    free(a->disc_resource_list);
    free(a->disc_core_resource_list);
    free(a->disc_etag);
    free(a->disc_api_etag);
    free(a->openapi_v3);
    free(a->openapi_root);
    free(a->openapi_core);
}

static bool wants_aggregated(http_req_t *h)
{
    const char *acc = http_header(h, "Accept");
    return acc && strstr(acc, "as=APIGroupDiscoveryList") && strstr(acc, "g=apidiscovery.k8s.io");
}

static void respond_aggregated(http_req_t *h, const char *body, const char *etag)
{
    static const char ctype[] = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
    const char *inm = http_header(h, "If-None-Match");
    http_header_kv_t hdr[] = {{"Content-Type", ctype}, {"Vary", "Accept"}, {"ETag", etag}};
    if (inm && strcmp(inm, etag) == 0) {
        http_respond(h, 304, hdr, 3, "", 0);
        return;
    }
    http_respond(h, 200, hdr, 3, body, strlen(body));
}

bool discovery_route(api_t *a, http_req_t *h, const char *path)
{
    if (strcmp(path, "/apis") == 0 || strcmp(path, "/apis/") == 0) {
        if (wants_aggregated(h))
            respond_aggregated(h, a->disc_aggregated, a->disc_etag);
        else
            api_respond_raw(h, 200, "application/json", a->disc_group_list, strlen(a->disc_group_list));
        return true;
    }
    if (strcmp(path, "/api") == 0 || strcmp(path, "/api/") == 0) {
        if (wants_aggregated(h)) {
            respond_aggregated(h, a->disc_api_aggregated, a->disc_api_etag);
        } else {
            const char *host = http_header(h, "Host");
            json_t *v = json_pack("{s:s, s:o, s:[{s:s, s:s}]}", "kind", "APIVersions", "versions",
                                  a->has_core ? json_pack("[s]", "v1") : json_array(),
                                  "serverAddressByClientCIDRs", "clientCIDR", "0.0.0.0/0", "serverAddress",
                                  a->cfg.advertise_address ? a->cfg.advertise_address : host ? host : "");
            char *s = dump(v);
            api_respond_raw(h, 200, "application/json", s, strlen(s));
            free(s);
        }
        return true;
    }
    if (strcmp(path, "/api/v1") == 0 || strcmp(path, "/api/v1/") == 0) {
        api_respond_raw(h, 200, "application/json", a->disc_core_resource_list, strlen(a->disc_core_resource_list));
        return true;
    }
    if (strcmp(path, "/apis/" API_GROUP) == 0) {
        api_respond_raw(h, 200, "application/json", a->disc_group, strlen(a->disc_group));
        return true;
    }
    if (strcmp(path, "/apis/" API_GV) == 0 || strcmp(path, "/apis/" API_GV "/") == 0) {
        api_respond_raw(h, 200, "application/json", a->disc_resource_list, strlen(a->disc_resource_list));
        return true;
    }
    return false;
}
