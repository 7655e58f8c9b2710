/* schema_openapi_v3: the shapes kubectl depends on (kubectl-contract.md §5.3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "schema/schema.h"

#define ALL "create delete deletecollection get list patch update watch"
#define NS "/apis/image.openshift.io/v1/namespaces/{namespace}/"
#define C "com.github.openshift.api.image.v1."
#define M "io.k8s.apimachinery.pkg.apis.meta.v1."

static const schema_resource_t RES[] = {
    {&schema_image, "images", false, ALL, NULL},
    {&schema_image_signature, "imagesignatures", false, "create delete", NULL},
    {&schema_image_stream_image, "imagestreamimages", true, "get", NULL},
    {&schema_image_stream_import, "imagestreamimports", true, "create", NULL},
    {&schema_image_stream_mapping, "imagestreammappings", true, "create", NULL},
    {&schema_image_stream, "imagestreams", true, ALL, NULL},
    {&schema_image_stream, "imagestreams", true, "get patch update", "status"},
    {&schema_image_stream_tag, "imagestreamtags", true, "create delete get list patch update", NULL},
    {&schema_image_tag, "imagetags", true, "create delete get list patch update", NULL},
};

static json_t *doc;

static int setup(void **state)
{
    doc = schema_openapi_v3(RES, sizeof(RES) / sizeof(RES[0]));
    return doc ? 0 : -1;
}

static int teardown(void **state)
{
    json_decref(doc);
    return 0;
}

static json_t *op(const char *path, const char *method)
{
    json_t *o = json_object_get(json_object_get(json_object_get(doc, "paths"), path), method);
    if (!o)
        fail_msg("no %s %s", method, path);
    return o;
}

static json_t *schema(const char *name)
{
    json_t *s = json_object_get(json_object_get(json_object_get(doc, "components"), "schemas"), name);
    if (!s)
        fail_msg("no component %s", name);
    return s;
}

static bool has_param(json_t *o, const char *name)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(o, "parameters"), i, p)
        if (strcmp(json_string_value(json_object_get(p, "name")), name) == 0)
            return strcmp(json_string_value(json_object_get(p, "in")), "query") == 0;
    return false;
}

static void assert_gvk_object(json_t *o, const char *kind)
{
    json_t *g = json_object_get(o, "x-kubernetes-group-version-kind");
    assert_true(json_is_object(g));
    assert_string_equal(json_string_value(json_object_get(g, "group")), "image.openshift.io");
    assert_string_equal(json_string_value(json_object_get(g, "version")), "v1");
    assert_string_equal(json_string_value(json_object_get(g, "kind")), kind);
}

static void test_header(void **state)
{
    assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.0.0");
    json_t *info = json_object_get(doc, "info");
    assert_string_equal(json_string_value(json_object_get(info, "title")), "Kubernetes");
    assert_string_equal(json_string_value(json_object_get(info, "version")), "v1.32.0");
}

static void test_patch_operation(void **state)
{
    json_t *p = op(NS "imagestreams/{name}", "patch");
    assert_gvk_object(p, "ImageStream");
    assert_string_equal(json_string_value(json_object_get(p, "x-kubernetes-action")), "patch");
    assert_string_equal(json_string_value(json_object_get(p, "operationId")),
                        "patchImageOpenshiftIoV1NamespacedImageStream");
    assert_true(has_param(p, "fieldValidation"));
    assert_true(has_param(p, "fieldManager"));
    assert_true(has_param(p, "dryRun"));
    assert_true(has_param(p, "force"));
    json_t *c = json_object_get(json_object_get(p, "requestBody"), "content");
    assert_non_null(json_object_get(c, "application/strategic-merge-patch+json"));
    assert_non_null(json_object_get(c, "application/merge-patch+json"));
    assert_non_null(json_object_get(c, "application/json-patch+json"));
    assert_non_null(json_object_get(c, "application/apply-patch+yaml"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(
        json_object_get(c, "application/merge-patch+json"), "schema"), "$ref")), "#/components/schemas/" M "Patch");
    json_t *r = json_object_get(json_object_get(json_object_get(json_object_get(json_object_get(
        p, "responses"), "200"), "content"), "application/json"), "schema");
    assert_string_equal(json_string_value(json_object_get(r, "$ref")), "#/components/schemas/" C "ImageStream");

    p = op(NS "imagestreams/{name}/status", "patch");
    assert_gvk_object(p, "ImageStream");
    assert_true(has_param(p, "fieldValidation"));
    assert_string_equal(json_string_value(json_object_get(p, "operationId")),
                        "patchImageOpenshiftIoV1NamespacedImageStreamStatus");
    assert_null(json_object_get(json_object_get(json_object_get(doc, "paths"), NS "imagestreams/{name}/status"), "delete"));

    p = op("/apis/image.openshift.io/v1/images/{name}", "patch");
    assert_gvk_object(p, "Image");
    assert_true(has_param(p, "fieldValidation"));
    assert_true(has_param(op(NS "imagestreamtags/{name}", "patch"), "fieldValidation"));
    assert_true(has_param(op(NS "imagestreams", "post"), "fieldValidation"));
    assert_true(has_param(op(NS "imagestreams/{name}", "put"), "fieldValidation"));
    assert_false(has_param(op(NS "imagestreams/{name}", "get"), "fieldValidation"));
}

static void test_paths(void **state)
{
    json_t *l = op(NS "imagestreams", "get");
    assert_gvk_object(l, "ImageStream");   /* list operations carry the item kind */
    assert_string_equal(json_string_value(json_object_get(l, "x-kubernetes-action")), "list");
    assert_true(has_param(l, "watch"));
    assert_true(has_param(l, "labelSelector"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(json_object_get(
        json_object_get(json_object_get(l, "responses"), "200"), "content"), "application/json"), "schema"), "$ref")),
        "#/components/schemas/" C "ImageStreamList");
    assert_gvk_object(op("/apis/image.openshift.io/v1/imagestreams", "get"), "ImageStream");
    assert_string_equal(json_string_value(json_object_get(op("/apis/image.openshift.io/v1/imagestreams", "get"), "operationId")),
                        "listImageOpenshiftIoV1ImageStreamForAllNamespaces");
    assert_string_equal(json_string_value(json_object_get(op(NS "imagestreams", "delete"), "x-kubernetes-action")),
                        "deletecollection");
    assert_string_equal(json_string_value(json_object_get(op(NS "imagestreams/{name}", "delete"), "x-kubernetes-action")),
                        "delete");
    assert_string_equal(json_string_value(json_object_get(op(NS "imagestreams", "post"), "description")),
                        "create an ImageStream");
    op(NS "imagestreams/{name}/status", "get");
    op(NS "imagestreams/{name}/status", "put");
    op("/apis/image.openshift.io/v1/images", "get");
    op("/apis/image.openshift.io/v1/images", "post");
    assert_gvk_object(op("/apis/image.openshift.io/v1/images/{name}", "get"), "Image");
    op(NS "imagestreamimages/{name}", "get");
    assert_gvk_object(op(NS "imagestreamimports", "post"), "ImageStreamImport");
    op("/apis/image.openshift.io/v1/imagesignatures/{name}", "delete");

    json_t *paths = json_object_get(doc, "paths");
    assert_null(json_object_get(paths, NS "imagestreamimports/{name}"));   /* create-only: no PATCH */
    assert_null(json_object_get(paths, "/apis/image.openshift.io/v1/imagestreamimports"));
    assert_null(json_object_get(paths, "/apis/image.openshift.io/v1/namespaces/{namespace}/images"));
    assert_null(json_object_get(json_object_get(paths, NS "imagestreamtags"), "delete"));
    /* path parameters at path level */
    json_t *pp = json_object_get(json_object_get(paths, NS "imagestreams/{name}"), "parameters");
    assert_int_equal(json_array_size(pp), 3);
}

static void test_components(void **state)
{
    json_t *is = schema(C "ImageStream");
    json_t *g = json_object_get(is, "x-kubernetes-group-version-kind");
    assert_true(json_is_array(g));
    assert_int_equal(json_array_size(g), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(g, 0), "kind")), "ImageStream");
    assert_true(json_is_array(json_object_get(schema(C "ImageStreamList"), "x-kubernetes-group-version-kind")));
    assert_true(json_is_array(json_object_get(schema(C "ImageList"), "x-kubernetes-group-version-kind")));
    assert_null(json_object_get(schema(C "ImageStreamSpec"), "x-kubernetes-group-version-kind"));

    json_t *tags = json_object_get(json_object_get(schema(C "ImageStreamSpec"), "properties"), "tags");
    assert_string_equal(json_string_value(json_object_get(tags, "type")), "array");
    assert_string_equal(json_string_value(json_object_get(tags, "x-kubernetes-patch-merge-key")), "name");
    assert_string_equal(json_string_value(json_object_get(tags, "x-kubernetes-patch-strategy")), "merge");
    json_t *ref = json_array_get(json_object_get(json_object_get(tags, "items"), "allOf"), 0);
    assert_string_equal(json_string_value(json_object_get(ref, "$ref")), "#/components/schemas/" C "TagReference");
    json_t *st = json_object_get(json_object_get(schema(C "ImageStreamStatus"), "properties"), "tags");
    assert_string_equal(json_string_value(json_object_get(st, "x-kubernetes-patch-merge-key")), "tag");

    json_t *spec = json_object_get(json_object_get(is, "properties"), "spec");
    assert_non_null(json_object_get(spec, "allOf"));
    assert_true(json_is_object(json_object_get(spec, "default")));
    assert_non_null(json_object_get(spec, "description"));

    json_t *tr = schema(C "TagReference");
    assert_string_equal(json_string_value(json_array_get(json_object_get(tr, "required"), 0)), "name");

    json_t *meta = json_object_get(schema(M "ObjectMeta"), "properties");
    assert_string_equal(json_string_value(json_object_get(json_object_get(meta, "finalizers"), "x-kubernetes-patch-strategy")), "merge");
    json_t *own = json_object_get(meta, "ownerReferences");
    assert_string_equal(json_string_value(json_object_get(own, "x-kubernetes-patch-merge-key")), "uid");
    assert_string_equal(json_string_value(json_object_get(own, "x-kubernetes-list-type")), "map");
    assert_string_equal(json_string_value(json_array_get(json_object_get(own, "x-kubernetes-list-map-keys"), 0)), "uid");
    json_t *gen = json_object_get(meta, "generation");
    assert_string_equal(json_string_value(json_object_get(gen, "type")), "integer");
    assert_string_equal(json_string_value(json_object_get(gen, "format")), "int64");

    json_t *img = json_object_get(schema(C "Image"), "properties");
    json_t *dim = json_object_get(img, "dockerImageMetadata");
    assert_string_equal(json_string_value(json_object_get(dim, "x-kubernetes-patch-strategy")), "replace");
    assert_string_equal(json_string_value(json_object_get(json_object_get(img, "signatures"), "x-kubernetes-patch-merge-key")), "name");
    json_t *dis = json_object_get(json_object_get(img, "dockerImageSignatures"), "items");
    assert_string_equal(json_string_value(json_object_get(dis, "format")), "byte");
    json_t *sc = json_object_get(json_object_get(schema(C "ImageSignature"), "properties"), "conditions");
    assert_string_equal(json_string_value(json_object_get(sc, "x-kubernetes-patch-merge-key")), "type");

    json_t *t = schema(M "Time");
    assert_string_equal(json_string_value(json_object_get(t, "type")), "string");
    assert_string_equal(json_string_value(json_object_get(t, "format")), "date-time");
    schema(M "ManagedFieldsEntry");
    schema(M "ListMeta");
    schema(M "Status");
    schema(M "StatusDetails");
    schema(M "StatusCause");
    schema(M "Patch");
    schema(M "Preconditions");
    schema("io.k8s.api.core.v1.ObjectReference");
    assert_true(json_is_array(json_object_get(schema(M "DeleteOptions"), "x-kubernetes-group-version-kind")));
}

/* Every $ref points at an existing component; GVK objects only on operations. */
static void walk_refs(json_t *v, int depth, bool in_components)
{
    const char *k;
    json_t *c;
    size_t i;
    if (json_is_object(v)) {
        json_object_foreach(v, k, c) {
            if (strcmp(k, "$ref") == 0) {
                const char *r = json_string_value(c);
                assert_true(strncmp(r, "#/components/schemas/", 21) == 0);
                schema(r + 21);
            } else if (strcmp(k, "x-kubernetes-group-version-kind") == 0) {
                assert_true(in_components ? json_is_array(c) : json_is_object(c));
            } else {
                walk_refs(c, depth + 1, in_components || (depth == 0 && strcmp(k, "components") == 0));
            }
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, c)
            walk_refs(c, depth + 1, in_components);
    }
}

static void test_refs(void **state)
{
    walk_refs(doc, 0, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_patch_operation),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_components),
        cmocka_unit_test(test_refs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
