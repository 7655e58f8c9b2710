/* Unit tests for api/ pieces that need no server: content negotiation, discovery
 * documents built from the image domain's kind table, Table cells. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "image/image.h"

static void test_accept(void **state)
{
    assert_int_equal(api_accept_parse(NULL), ACCEPT_JSON);
    assert_int_equal(api_accept_parse("application/json, */*"), ACCEPT_JSON);
    assert_int_equal(api_accept_parse("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;"
                                      "v=v1beta1;g=meta.k8s.io,application/json"),
                     ACCEPT_TABLE);
    assert_int_equal(api_accept_parse("application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"),
                     ACCEPT_PARTIAL_LIST);
    assert_int_equal(api_accept_parse("application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"), ACCEPT_PARTIAL);
    assert_int_equal(api_accept_parse("application/yaml"), ACCEPT_YAML);
    /* protobuf first (kubectl does this for core events): the first range we serve wins */
    assert_int_equal(api_accept_parse("application/vnd.kubernetes.protobuf,application/json"), ACCEPT_JSON);
    /* a Table for another group is not ours to serve */
    assert_int_equal(api_accept_parse("application/json;as=Table;g=other.io,application/yaml"), ACCEPT_YAML);
}

/* Content-Type classification of create/update bodies and of PATCH (verbs_write.c) */
static void test_content_type(void **state)
{
    assert_int_equal(api_content_type_kind(NULL), CT_BODY_JSON);   /* no header: JSON */
    assert_int_equal(api_content_type_kind(""), CT_BODY_JSON);
    assert_int_equal(api_content_type_kind("application/json"), CT_BODY_JSON);
    assert_int_equal(api_content_type_kind("Application/JSON; charset=utf-8"), CT_BODY_JSON);
    assert_int_equal(api_content_type_kind("application/yaml"), CT_BODY_YAML);
    assert_int_equal(api_content_type_kind("application/apply-patch+yaml"), CT_BODY_YAML);
    /* protobuf: decoded by kinds that say how (api_kind_t.decode_protobuf), else 415 */
    assert_int_equal(api_content_type_kind("application/vnd.kubernetes.protobuf"), CT_BODY_PROTOBUF);
    assert_int_equal(api_content_type_kind("application/json-patch+json"), -1);
    assert_int_equal(api_content_type_kind("application/jsonx"), -1);
    assert_int_equal(api_patch_type("application/merge-patch+json"), PT_MERGE);
    assert_int_equal(api_patch_type("application/json-patch+json; charset=utf-8"), PT_JSON);
    assert_int_equal(api_patch_type("application/strategic-merge-patch+json"), PT_STRATEGIC);
    assert_int_equal(api_patch_type("application/apply-patch+yaml"), PT_APPLY);
    assert_int_equal(api_patch_type("application/apply-patch+json"), PT_APPLY);
    assert_int_equal(api_patch_type(NULL), -1);   /* application/json is no patch type */
    assert_int_equal(api_patch_type("application/json"), -1);
    assert_int_equal(api_patch_type("application/merge-patch+jsonx"), -1);
}

static int route(api_t *a, const char *method, const char *rest, const char *query, char **name)
{
    api_req_t *r = api_req_new(a, NULL);
    int rc = api_route_parse(r, method, rest, query);
    *name = rc == 0 && r->name ? xstrdup(r->name) : NULL;
    api_req_free(r);
    return rc;
}

/* Found by fuzz_route: a segment decoding to a NUL (%00) was cut there, so
 * DELETE imagestreams/foo%00bar deleted foo. Such a segment names nothing now. */
static void test_route_nul_segment(void **state)
{
    api_t a;
    memset(&a, 0, sizeof a);
    a.cfg.kinds = image_kinds(&a.cfg.nkinds);
    kinds_init(&a);
    char *name;
    assert_int_equal(route(&a, "DELETE", "namespaces/default/imagestreams/foo", "", &name), 0);
    assert_string_equal(name, "foo");
    free(name);
    assert_int_equal(route(&a, "GET", "namespaces/default/imagestreams/f%6fo", "", &name), 0);
    assert_string_equal(name, "foo");
    free(name);
    assert_int_equal(route(&a, "DELETE", "namespaces/default/imagestreams/foo%00bar", "", &name), ROUTE_NOT_FOUND);
    assert_null(name);
    assert_int_equal(route(&a, "PUT", "namespaces/default/imagestreams/foo%00", "", &name), ROUTE_NOT_FOUND);
    assert_int_equal(route(&a, "GET", "namespaces/default%00x/imagestreams/foo", "", &name), ROUTE_NOT_FOUND);
    assert_int_equal(route(&a, "GET", "imagestreams%00x", "", &name), ROUTE_NOT_FOUND);
    assert_int_equal(route(&a, "GET", "namespaces/default/imagestreams/foo/status%00", "", &name), ROUTE_NOT_FOUND);
    assert_int_equal(route(&a, "GET", "watch%00/imagestreams", "", &name), ROUTE_NOT_FOUND);
    /* %25 is a literal '%', not the start of an escape */
    assert_int_equal(route(&a, "GET", "namespaces/default/imagestreams/a%2500", "", &name), 0);
    assert_string_equal(name, "a%00");
    free(name);
    kinds_free(&a);
}

static json_t *find_resource(json_t *resources, const char *name)
{
    size_t i;
    json_t *r;
    json_array_foreach(resources, i, r) {
        const char *n = json_string_value(json_object_get(r, "resource"));
        if (!n)
            n = json_string_value(json_object_get(r, "name"));
        if (n && strcmp(n, name) == 0)
            return r;
    }
    return NULL;
}

static void test_discovery(void **state)
{
    api_t a;
    memset(&a, 0, sizeof a);
    a.cfg.kinds = image_kinds(&a.cfg.nkinds);
    kinds_init(&a);
    discovery_build(&a);
    json_error_t jerr;
    json_t *agg = json_loads(a.disc_aggregated, 0, &jerr);
    assert_non_null(agg);
    json_t *group = json_array_get(json_object_get(agg, "items"), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(group, "metadata"), "name")),
                        "image.openshift.io");
    json_t *res = json_object_get(json_array_get(json_object_get(group, "versions"), 0), "resources");
    json_t *is = find_resource(res, "imagestreams");
    assert_non_null(is);
    /* the fields kubectl cannot do without (contract §3.2) */
    assert_string_equal(json_string_value(json_object_get(is, "scope")), "Namespaced");
    assert_string_equal(json_string_value(json_object_get(json_object_get(is, "responseKind"), "kind")), "ImageStream");
    assert_string_equal(json_string_value(json_array_get(json_object_get(is, "shortNames"), 0)), "is");
    assert_string_equal(json_string_value(json_array_get(json_object_get(is, "categories"), 0)), "all");
    json_t *img = find_resource(res, "images");
    assert_string_equal(json_string_value(json_object_get(img, "scope")), "Cluster");
    /* only what is served is advertised: the virtual tag kinds, with their verbs */
    json_t *istag = find_resource(res, "imagestreamtags");
    assert_non_null(istag);
    assert_string_equal(json_string_value(json_array_get(json_object_get(istag, "shortNames"), 0)), "istag");
    assert_int_equal(json_array_size(json_object_get(istag, "verbs")), 7);
    json_t *itag = find_resource(res, "imagetags");
    assert_non_null(itag);
    assert_string_equal(json_string_value(json_array_get(json_object_get(itag, "shortNames"), 0)), "itag");
    assert_null(find_resource(res, "imagestreamfoos"));
    json_decref(agg);

    json_t *legacy = json_loads(a.disc_resource_list, 0, &jerr);
    json_t *status = find_resource(json_object_get(legacy, "resources"), "imagestreams/status");
    assert_non_null(status);
    assert_string_equal(json_string_value(json_object_get(status, "kind")), "ImageStream");
    json_decref(legacy);

    /* the Python client compares preferredVersion with versions[0] as a whole */
    json_t *groups = json_loads(a.disc_group_list, 0, &jerr);
    json_t *g0 = json_array_get(json_object_get(groups, "groups"), 0);
    assert_true(json_equal(json_object_get(g0, "preferredVersion"), json_array_get(json_object_get(g0, "versions"), 0)));
    json_decref(groups);
    discovery_free(&a);
    kinds_free(&a);
}

static void test_table_age_cell(void **state)
{
    api_t a;
    memset(&a, 0, sizeof a);
    a.cfg.kinds = image_kinds(&a.cfg.nkinds);
    kinds_init(&a);
    kind_def_t *k = kinds_find(&a, "imagestreams");
    assert_non_null(k);
    json_t *obj = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{}, s:{s:s, s:[{s:s, s:[{s:s, s:s, s:s, s:i}]}]}}",
                            "kind", "ImageStream", "apiVersion", API_GV, "metadata", "name", "foo", "namespace",
                            "ns", "spec", "status", "dockerImageRepository", "reg/ns/foo", "tags", "tag", "latest",
                            "items", "created", "2026-01-01T00:00:00Z", "dockerImageReference", "x/y@sha256:1",
                            "image", "sha256:1", "generation", 1);
    time_t t;
    assert_int_equal(time_parse_rfc3339("2026-01-01T02:00:00Z", &t), 0);
    json_t *row = table_row_from_json(k, obj, INCLUDE_METADATA, (int64_t)t);
    json_t *cells = json_object_get(row, "cells");
    assert_string_equal(json_string_value(json_array_get(cells, 0)), "foo");
    assert_string_equal(json_string_value(json_array_get(cells, 1)), "reg/ns/foo");
    assert_string_equal(json_string_value(json_array_get(cells, 2)), "latest");
    assert_string_equal(json_string_value(json_array_get(cells, 3)), "2 hours ago");
    json_t *po = json_object_get(row, "object");
    assert_string_equal(json_string_value(json_object_get(po, "kind")), "PartialObjectMetadata");
    assert_string_equal(json_string_value(json_object_get(json_object_get(po, "metadata"), "name")), "foo");
    json_decref(row);
    json_decref(obj);
    kinds_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept),
        cmocka_unit_test(test_content_type),
        cmocka_unit_test(test_route_nul_segment),
        cmocka_unit_test(test_discovery),
        cmocka_unit_test(test_table_age_cell),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
