/* schema data and lookups: merge keys and strategies the patch engine relies on, and the
 * integrity of the static data (every object type named and registered once). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "schema/schema.h"
#include "schema/schema_internal.h"

static void test_imagestream_keys(void **state)
{
    const schema_node_t *root = schema_image_stream.root;
    const schema_node_t *n = schema_lookup(root, "spec.tags");
    assert_non_null(n);
    assert_int_equal(n->type, ST_ARRAY);
    assert_string_equal(n->merge_key, "name");
    assert_string_equal(n->patch_strategy, "merge");
    assert_string_equal(n->items->ref, "com.github.openshift.api.image.v1.TagReference");

    n = schema_lookup(root, "status.tags");
    assert_non_null(n);
    assert_string_equal(n->merge_key, "tag");
    assert_string_equal(n->patch_strategy, "merge");

    n = schema_lookup(root, ".spec.tags[0].from.name");
    assert_non_null(n);
    assert_int_equal(n->type, ST_STRING);
    assert_ptr_equal(schema_lookup(root, "spec.tags.from"), schema_lookup(root, "spec.tags[3].from"));
    assert_int_equal(schema_lookup(root, "spec.tags.generation")->type, ST_INT);
    assert_int_equal(schema_lookup(root, "status.tags.items.created")->type, ST_TIME);
    assert_int_equal(schema_lookup(root, "metadata.labels.app")->type, ST_STRING);
    assert_null(schema_lookup(root, "spec.nope"));
    assert_null(schema_lookup(root, "spec.tags.name.deeper"));
    assert_ptr_equal(schema_lookup(root, ""), root);
}

static void test_image_keys(void **state)
{
    const schema_node_t *root = schema_image.root;
    const schema_node_t *n = schema_field(root, "signatures");
    assert_non_null(n);
    assert_string_equal(n->merge_key, "name");
    assert_string_equal(n->patch_strategy, "merge");
    n = schema_field(root, "dockerImageMetadata");
    assert_int_equal(n->type, ST_ANY);
    assert_string_equal(n->patch_strategy, "replace");
    n = schema_field(root, "dockerImageSignatures");
    assert_int_equal(n->type, ST_ARRAY);
    assert_int_equal(n->items->type, ST_BYTES);
    assert_true(schema_field(root, "dockerImageLayers")->flags & SF_REQUIRED);
    assert_non_null(schema_lookup(root, "dockerImageManifests.architecture"));
    n = schema_field(schema_image_signature.root, "conditions");
    assert_string_equal(n->merge_key, "type");
    assert_string_equal(n->patch_strategy, "merge");
    assert_int_equal(schema_field(schema_image_signature.root, "content")->type, ST_BYTES);
    assert_null(schema_field(root, "nope"));
    assert_null(schema_field(NULL, "nope"));
    assert_null(schema_field(n, "type"));   /* an array node has no fields */
}

static void test_meta(void **state)
{
    const schema_node_t *n = schema_field(&schema_object_meta, "finalizers");
    assert_string_equal(n->patch_strategy, "merge");
    assert_null(n->merge_key);
    assert_int_equal(n->items->type, ST_STRING);
    n = schema_field(&schema_object_meta, "ownerReferences");
    assert_string_equal(n->merge_key, "uid");
    assert_string_equal(n->patch_strategy, "merge");
    n = schema_lookup(&schema_object_meta, "managedFields.fieldsV1");
    assert_int_equal(n->type, ST_ANY);
    assert_int_equal(schema_field(&schema_object_meta, "creationTimestamp")->type, ST_TIME);
    assert_int_equal(schema_field(&schema_object_meta, "generation")->type, ST_INT);
    assert_string_equal(schema_object_meta.ref, "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
    assert_ptr_equal(schema_field(schema_image_stream.root, "metadata")->fields, schema_object_meta.fields);
    assert_int_equal(schema_lookup(&schema_delete_options, "preconditions.uid")->type, ST_STRING);
    assert_int_equal(schema_field(&schema_delete_options, "dryRun")->type, ST_ARRAY);
    assert_int_equal(schema_lookup(schema_image_stream_import.root, "spec.images.from.kind")->type, ST_STRING);
    assert_int_equal(schema_lookup(schema_image_stream_import.root, "status.repository.status.code")->type, ST_INT);
    assert_int_equal(schema_lookup(schema_image_stream_layers.root, "blobs.sha256:x.size")->type, ST_INT);
    assert_int_equal(schema_lookup(schema_image_tag.root, "status.items.image")->type, ST_STRING);
}

/* Every object node names its type, the type is registered, and the field list is the
 * registered one (so a type is described exactly once). */
static int check_node(const schema_node_t *n, int depth)
{
    if (depth > 40)
        return 0;
    if (n->type == ST_OBJECT) {
        assert_non_null(n->ref);
        assert_non_null(n->fields);
        const schema_node_t *t = schema_type_by_ref(n->ref);
        if (!t)
            fail_msg("type %s not registered", n->ref);
        assert_ptr_equal(t->fields, n->fields);
        for (const schema_node_t *f = n->fields; f->name; f++) {
            assert_non_null(f->description);
            check_node(f, depth + 1);
        }
    }
    if (n->type == ST_ARRAY || n->type == ST_MAP) {
        assert_non_null(n->items);
        check_node(n->items, depth + 1);
    }
    /* A merge key is a field of the element (ImageSignature's "name" is metadata.name). */
    if (n->merge_key)
        assert_true(schema_field(n->items, n->merge_key) != NULL ||
                    (strcmp(n->merge_key, "name") == 0 && schema_field(n->items, "metadata")));
    return 0;
}

static void test_integrity(void **state)
{
    for (size_t i = 0; i < schema_nkinds; i++) {
        const schema_kind_t *k = schema_kinds[i];
        /* the image group, or core v1 for the Secrets imports read */
        assert_true(strcmp(k->group, "image.openshift.io") == 0 || (!*k->group && !strcmp(k->kind, "Secret")));
        assert_non_null(schema_field(k->root, "apiVersion"));
        assert_non_null(schema_field(k->root, "kind"));
        assert_non_null(schema_field(k->root, "metadata"));
        check_node(k->root, 0);
    }
    for (size_t i = 0; i < schema_ntypes; i++) {
        assert_non_null(schema_types[i]->description);
        for (size_t j = i + 1; j < schema_ntypes; j++)
            assert_true(strcmp(schema_types[i]->ref, schema_types[j]->ref) != 0);
    }
    check_node(&schema_delete_options, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_imagestream_keys),
        cmocka_unit_test(test_image_keys),
        cmocka_unit_test(test_meta),
        cmocka_unit_test(test_integrity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
