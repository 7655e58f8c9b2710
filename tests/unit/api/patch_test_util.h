/* Shared by the apipatch unit tests: JSON helpers and small schema trees mirroring
 * ImageStream and Image (only what patch/apply care about). Header-only on purpose:
 * each test is one executable. */
#ifndef IAS_TEST_PATCH_UTIL_H
#define IAS_TEST_PATCH_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "api/patch.h"
#include "schema/schema.h"

/* JSON from a literal written with single quotes: J("{'a':1}"). */
static inline json_t *J(const char *s)
{
    char *c = strdup(s);
    for (char *p = c; *p; p++)
        if (*p == '\'')
            *p = '"';
    json_error_t e;
    json_t *v = json_loads(c, JSON_DECODE_ANY, &e);
    if (!v)
        fail_msg("bad test JSON %s: %s", c, e.text);
    free(c);
    return v;
}

/* Asserts v equals the JSON literal (single quotes) and releases v. */
#define assert_json(v, lit) assert_json_impl((v), (lit), __FILE__, __LINE__)
static inline void assert_json_impl(json_t *v, const char *lit, const char *file, int line)
{
    json_t *want = J(lit);
    if (!v || !json_equal(v, want)) {
        char *a = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("NULL");
        char *b = json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY);
        fprintf(stderr, "%s:%d:\n  got:  %s\n  want: %s\n", file, line, a, b);
        free(a);
        free(b);
        json_decref(want);
        json_decref(v);
        _fail(file, line);
    }
    json_decref(want);
    json_decref(v);
}

/* Compact dump with sorted keys is not used: order matters for lists only, and
 * json_equal already ignores object key order. */

/* ---- ImageStream ---- */
static const schema_node_t t_str = {.type = ST_STRING};
static const schema_node_t t_any = {.type = ST_ANY};

static const schema_node_t t_owner_ref_fields[] = {
    {.name = "apiVersion", .type = ST_STRING}, {.name = "kind", .type = ST_STRING},
    {.name = "name", .type = ST_STRING},       {.name = "uid", .type = ST_STRING},
    {.name = "controller", .type = ST_BOOL},   {0}};
static const schema_node_t t_owner_ref = {.type = ST_OBJECT, .fields = t_owner_ref_fields};

static const schema_node_t t_meta_fields[] = {
    {.name = "name", .type = ST_STRING},
    {.name = "namespace", .type = ST_STRING},
    {.name = "uid", .type = ST_STRING},
    {.name = "resourceVersion", .type = ST_STRING},
    {.name = "generation", .type = ST_INT},
    {.name = "creationTimestamp", .type = ST_TIME},
    {.name = "labels", .type = ST_MAP, .items = &t_str},
    {.name = "annotations", .type = ST_MAP, .items = &t_str},
    {.name = "ownerReferences", .type = ST_ARRAY, .items = &t_owner_ref, .patch_strategy = "merge",
     .merge_key = "uid", .list_type = "map"},
    {.name = "finalizers", .type = ST_ARRAY, .items = &t_str, .patch_strategy = "merge", .list_type = "set"},
    {.name = "managedFields", .type = ST_ARRAY, .items = &t_any, .list_type = "atomic"},
    {0}};

static const schema_node_t t_objref_fields[] = {
    {.name = "kind", .type = ST_STRING}, {.name = "namespace", .type = ST_STRING},
    {.name = "name", .type = ST_STRING}, {0}};
static const schema_node_t t_import_policy_fields[] = {
    {.name = "insecure", .type = ST_BOOL}, {.name = "scheduled", .type = ST_BOOL}, {0}};
static const schema_node_t t_ref_policy_fields[] = {{.name = "type", .type = ST_STRING}, {0}};
static const schema_node_t t_tagref_fields[] = {
    {.name = "name", .type = ST_STRING},
    {.name = "annotations", .type = ST_MAP, .items = &t_str},
    {.name = "from", .type = ST_OBJECT, .fields = t_objref_fields},
    {.name = "reference", .type = ST_BOOL},
    {.name = "generation", .type = ST_INT},
    {.name = "importPolicy", .type = ST_OBJECT, .fields = t_import_policy_fields},
    {.name = "referencePolicy", .type = ST_OBJECT, .fields = t_ref_policy_fields},
    {0}};
static const schema_node_t t_tagref = {.type = ST_OBJECT, .fields = t_tagref_fields};
static const schema_node_t t_lookup_fields[] = {{.name = "local", .type = ST_BOOL}, {0}};
static const schema_node_t t_spec_fields[] = {
    {.name = "lookupPolicy", .type = ST_OBJECT, .fields = t_lookup_fields},
    {.name = "dockerImageRepository", .type = ST_STRING},
    {.name = "tags", .type = ST_ARRAY, .items = &t_tagref, .patch_strategy = "merge", .merge_key = "name"},
    {0}};
static const schema_node_t t_tag_event_fields[] = {
    {.name = "created", .type = ST_TIME}, {.name = "dockerImageReference", .type = ST_STRING},
    {.name = "image", .type = ST_STRING}, {.name = "generation", .type = ST_INT}, {0}};
static const schema_node_t t_tag_event = {.type = ST_OBJECT, .fields = t_tag_event_fields};
static const schema_node_t t_named_tel_fields[] = {
    {.name = "tag", .type = ST_STRING},
    {.name = "items", .type = ST_ARRAY, .items = &t_tag_event},
    {0}};
static const schema_node_t t_named_tel = {.type = ST_OBJECT, .fields = t_named_tel_fields};
static const schema_node_t t_status_fields[] = {
    {.name = "dockerImageRepository", .type = ST_STRING},
    {.name = "publicDockerImageRepository", .type = ST_STRING},
    {.name = "tags", .type = ST_ARRAY, .items = &t_named_tel, .patch_strategy = "merge", .merge_key = "tag"},
    {0}};
static const schema_node_t t_is_fields[] = {
    {.name = "apiVersion", .type = ST_STRING},
    {.name = "kind", .type = ST_STRING},
    {.name = "metadata", .type = ST_OBJECT, .fields = t_meta_fields},
    {.name = "spec", .type = ST_OBJECT, .fields = t_spec_fields},
    {.name = "status", .type = ST_OBJECT, .fields = t_status_fields},
    {0}};
static const schema_node_t t_is = {.type = ST_OBJECT, .fields = t_is_fields};

/* ---- Image ---- */
static const schema_node_t t_sig_fields[] = {
    {.name = "name", .type = ST_STRING}, {.name = "type", .type = ST_STRING},
    {.name = "content", .type = ST_BYTES}, {0}};
static const schema_node_t t_sig = {.type = ST_OBJECT, .fields = t_sig_fields};
static const schema_node_t t_image_fields[] = {
    {.name = "apiVersion", .type = ST_STRING},
    {.name = "kind", .type = ST_STRING},
    {.name = "metadata", .type = ST_OBJECT, .fields = t_meta_fields},
    {.name = "dockerImageReference", .type = ST_STRING},
    {.name = "dockerImageMetadata", .type = ST_ANY, .patch_strategy = "replace"},
    {.name = "dockerImageLayers", .type = ST_ARRAY, .items = &t_any},
    {.name = "signatures", .type = ST_ARRAY, .items = &t_sig, .patch_strategy = "merge", .merge_key = "name"},
    {0}};
static const schema_node_t t_image = {.type = ST_OBJECT, .fields = t_image_fields};

#define GV "image.openshift.io/v1"

#endif
