/* Image strategy: wire shape, §5 worked examples, create/update (§1.4, §1.6), validation (§1.7). */
#include "fixtures.h"

#define NOW "2024-05-06T07:08:09Z"
static const image_config_t cfg = {NULL, NULL, NULL};
static const image_ctx_t ctx = {&cfg, NOW, NULL, NULL};

/* Builds an Image body: name, media type, manifest, config (NULL = absent). */
static json_t *image_body(const char *name, const char *mt, const char *manifest, const char *config)
{
    json_t *o = json_pack("{s:s, s:{s:s}, s:s}", "kind", "Image", "metadata", "name", name, "dockerImageReference",
                          "registry:5000/ns/app:latest");
    if (mt)
        json_object_set_new(o, "dockerImageManifestMediaType", json_string(mt));
    if (manifest)
        json_object_set_new(o, "dockerImageManifest", json_string(manifest));
    if (config)
        json_object_set_new(o, "dockerImageConfig", json_string(config));
    return o;
}

static json_t *create(json_t *o)
{
    image_normalize(o);
    image_prepare_create(&ctx, o);
    return o;
}

static void validate_ok(json_t *o)
{
    ferrs_t errs = FERRS_INIT;
    image_validate(&ctx, o, NULL, &errs);
    assert_errs(&errs, "");
    ferrs_free(&errs);
}

#define S2_META                                                                                                  \
    "{\"kind\":\"DockerImage\",\"apiVersion\":\"image.openshift.io/1.0\",\"Id\":\"" CONFIG_DIGEST "\","          \
    "\"Created\":\"2020-01-02T03:04:05Z\",\"ContainerConfig\":{\"Cmd\":[\"/bin/sh\",\"-c\",\"echo hi\"]},"       \
    "\"DockerVersion\":\"19.03\",\"Author\":\"me\",\"Config\":{\"Env\":[\"A=1\"],\"Cmd\":[\"sh\"],"                \
    "\"Labels\":{\"k\":\"v\"}},\"Architecture\":\"amd64\",\"Size\":644}"
#define S2_LAYERS                                                                                                \
    "[{\"name\":\"sha256:" HEXA "\",\"size\":100,\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\"}," \
    "{\"name\":\"sha256:" HEXB "\",\"size\":250,\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\"}," \
    "{\"name\":\"sha256:" HEXA "\",\"size\":100,\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\"}]"
#define EMPTY_META "{\"kind\":\"DockerImage\",\"apiVersion\":\"image.openshift.io/1.0\",\"Id\":\"\",\"Created\":null,\"ContainerConfig\":{}}"

static void test_i1_minimal(void **state)
{
    json_t *o = create(J("{\"metadata\":{\"name\":\"foo\"},\"dockerImageReference\":\"openshift/ruby-19-centos\"}"));
    validate_ok(o);
    assert_json(o, "{\"metadata\":{\"name\":\"foo\"},\"dockerImageReference\":\"openshift/ruby-19-centos\","
                   "\"dockerImageMetadata\":" EMPTY_META ",\"dockerImageMetadataVersion\":\"1.0\"}");
    json_t *cells = image_table_cells(o);
    assert_json(cells, "[\"foo\",\"openshift/ruby-19-centos\"]");
    json_decref(cells);
    json_decref(o);
}

static void test_i4_i5_reference(void **state)
{
    ferrs_t errs = FERRS_INIT;
    json_t *o = create(J("{\"metadata\":{\"name\":\"foo\"}}"));
    image_validate(&ctx, o, NULL, &errs);
    assert_errs(&errs, "dockerImageReference: Required value");
    ferrs_free(&errs);
    json_decref(o);
    o = create(J("{\"metadata\":{\"name\":\"foo\"},\"dockerImageReference\":\"\\\\\"}"));
    image_validate(&ctx, o, NULL, &errs);
    assert_errs(&errs, "dockerImageReference: Invalid value: \"\\\\\": invalid reference format");
    ferrs_free(&errs);
    json_decref(o);
}

static void test_i3_name(void **state)
{
    ferrs_t errs = FERRS_INIT;
    json_t *o = create(J("{\"metadata\":{\"name\":\"foo/b%r\"},\"dockerImageReference\":\"x\"}"));
    image_validate(&ctx, o, NULL, &errs);
    assert_errs(&errs, "metadata.name: Invalid value: \"foo/b%r\": may not contain '/' | "
                       "metadata.name: Invalid value: \"foo/b%r\": may not contain '%'");
    ferrs_free(&errs);
    json_decref(o);
    o = create(J("{\"metadata\":{\"name\":\"sha256:abc@x\"},\"dockerImageReference\":\"x\"}"));
    validate_ok(o);
    json_decref(o);
}

static void test_i7_schema2(void **state)
{
    json_t *o = create(image_body(S2_DIGEST, MT_S2, S2, CONFIG));
    validate_ok(o);
    assert_json(json_object_get(o, "dockerImageMetadata"), S2_META);
    assert_json(json_object_get(o, "dockerImageLayers"), S2_LAYERS);
    assert_json(json_object_get(json_object_get(o, "metadata"), "annotations"),
                "{\"image.openshift.io/dockerLayersOrder\":\"ascending\"}");
    assert_string_equal(json_string_value(json_object_get(o, "dockerImageManifest")), S2);
    assert_string_equal(json_string_value(json_object_get(o, "dockerImageConfig")), CONFIG);
    assert_string_equal(json_string_value(json_object_get(o, "dockerImageManifestMediaType")), MT_S2);
    /* Normalising again (as on read) is stable. */
    json_t *copy = json_deep_copy(o);
    image_normalize(copy);
    assert_true(json_equal(o, copy));
    json_decref(copy);
    json_decref(o);
}

static void test_i8_blob_stored(void **state)
{
    json_t *o = image_body(S2_DIGEST, MT_S2, S2, CONFIG);
    json_object_set_new(json_object_get(o, "metadata"), "annotations",
                        json_pack("{s:s}", "image.openshift.io/manifestBlobStored", "true"));
    create(o);
    assert_json(json_object_get(o, "dockerImageMetadata"), S2_META);
    assert_json(json_object_get(o, "dockerImageLayers"), S2_LAYERS);
    assert_null(json_object_get(o, "dockerImageManifest"));
    assert_null(json_object_get(o, "dockerImageConfig"));
    json_decref(o);
}

static void test_i9_no_config(void **state)
{
    json_t *o = create(image_body(S2_DIGEST, MT_S2, S2, NULL));
    validate_ok(o);
    assert_json(json_object_get(o, "dockerImageLayers"), S2_LAYERS);
    assert_json(json_object_get(o, "dockerImageMetadata"), EMPTY_META);
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(o, "metadata"), "annotations"),
                                                          "image.openshift.io/dockerLayersOrder")),
                        "ascending");
    json_decref(o);
}

static void test_oci(void **state)
{
    json_t *o = create(image_body(OCI_DIGEST, MT_OCI_, OCI, CONFIG));
    assert_json(json_object_get(o, "dockerImageLayers"),
                "[{\"name\":\"sha256:" HEXB "\",\"size\":250,\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\"}]");
    json_t *m = json_object_get(o, "dockerImageMetadata");
    assert_string_equal(json_string_value(json_object_get(m, "Id")), CONFIG_DIGEST);
    assert_int_equal(json_integer_value(json_object_get(m, "Size")), 544);
    assert_string_equal(json_string_value(json_object_get(o, "dockerImageManifestMediaType")), MT_OCI_);
    json_decref(o);
}

static void test_list(void **state)
{
    json_t *o = create(image_body(LIST_DIGEST, "application/vnd.docker.distribution.manifest.list.v2+json", LIST, NULL));
    validate_ok(o);
    assert_json(json_object_get(o, "dockerImageManifests"),
                "[{\"digest\":\"" S2_DIGEST "\",\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
                "\"manifestSize\":743,\"architecture\":\"amd64\",\"os\":\"linux\"},"
                "{\"digest\":\"" OCI_DIGEST "\",\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                "\"manifestSize\":401,\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\"}]");
    assert_null(json_object_get(o, "dockerImageLayers"));
    assert_null(json_object_get(json_object_get(o, "metadata"), "annotations"));
    assert_json(json_object_get(o, "dockerImageMetadata"),
                "{\"kind\":\"DockerImage\",\"apiVersion\":\"image.openshift.io/1.0\",\"Id\":\"" LIST_DIGEST "\","
                "\"Created\":\"" NOW "\",\"ContainerConfig\":{}}");
    json_decref(o);
}

static void test_schema1(void **state)
{
    json_t *o = create(image_body("anything", NULL, S1, NULL));
    validate_ok(o);
    assert_json(json_object_get(o, "dockerImageLayers"),
                "[{\"name\":\"sha256:" HEXF "\",\"size\":40,\"mediaType\":\"" MT_S1_LAYER "\"},"
                "{\"name\":\"sha256:" HEXE "\",\"size\":7,\"mediaType\":\"" MT_S1_LAYER "\"}]");
    assert_string_equal(json_string_value(json_object_get(o, "dockerImageManifestMediaType")),
                        "application/vnd.docker.distribution.manifest.v1+json");
    assert_json(json_object_get(o, "dockerImageMetadata"),
                "{\"kind\":\"DockerImage\",\"apiVersion\":\"image.openshift.io/1.0\",\"Id\":\"" HEXC "\","
                "\"Parent\":\"" HEXD "\",\"Created\":\"2016-05-06T07:08:09Z\","
                "\"ContainerConfig\":{\"Cmd\":[\"/bin/sh\",\"-c\",\"#(nop) CMD sh\"]},\"Config\":{\"Cmd\":[\"sh\"]},"
                "\"Architecture\":\"amd64\",\"Size\":47}");
    json_decref(o);
}

static void test_i15_layer_order(void **state)
{
    json_t *o = image_body(S2_DIGEST, MT_S2, S2, CONFIG);
    json_object_set_new(o, "dockerImageLayers", J("[{\"name\":\"L1\",\"size\":1},{\"name\":\"L2\",\"size\":2}]"));
    create(o);
    assert_json(json_object_get(o, "dockerImageLayers"),
                "[{\"name\":\"L2\",\"size\":2,\"mediaType\":\"\"},{\"name\":\"L1\",\"size\":1,\"mediaType\":\"\"}]");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "dockerImageMetadata"), "Size")), 297);
    json_decref(o);

    o = image_body(S2_DIGEST, MT_S2, S2, CONFIG);
    json_object_set_new(o, "dockerImageLayers", J("[{\"name\":\"L1\",\"size\":1},{\"name\":\"L2\",\"size\":2}]"));
    json_object_set_new(json_object_get(o, "metadata"), "annotations",
                        json_pack("{s:s}", "image.openshift.io/dockerLayersOrder", "ascending"));
    create(o);
    assert_json(json_object_get(o, "dockerImageLayers"),
                "[{\"name\":\"L1\",\"size\":1,\"mediaType\":\"\"},{\"name\":\"L2\",\"size\":2,\"mediaType\":\"\"}]");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "dockerImageMetadata"), "Size")), 297);
    json_decref(o);
}

static void test_broken_manifest_is_not_an_error(void **state)
{
    json_t *o = create(image_body("x", MT_S2, "{not json", NULL));
    validate_ok(o);
    assert_json(json_object_get(o, "dockerImageMetadata"), EMPTY_META);
    json_decref(o);
    o = create(image_body("x", NULL, "{\"schemaVersion\":3}", NULL));
    assert_null(json_object_get(o, "dockerImageLayers"));
    json_decref(o);
    /* schema1 with mismatched history: nothing derived. */
    o = create(image_body("x", NULL, "{\"schemaVersion\":1,\"fsLayers\":[{\"blobSum\":\"a\"}],\"history\":[]}", NULL));
    assert_null(json_object_get(o, "dockerImageLayers"));
    json_decref(o);
}

static void test_case_insensitive_config(void **state)
{
    /* Go's decoder matches "ID"/"Created"/"CONFIG" case-insensitively for manifests and configs. */
    const char *cfgtxt = "{\"CREATED\":\"2021-01-01T00:00:00Z\",\"Config\":{\"cmd\":[\"x\"],\"Healthcheck\":{}},\"ARCHITECTURE\":\"arm64\"}";
    char dg[80];
    char hex[65];
    sha256_hex(cfgtxt, strlen(cfgtxt), hex);
    snprintf(dg, sizeof dg, "sha256:%s", hex);
    char *man = xasprintf("{\"SchemaVersion\":2,\"MediaType\":\"%s\",\"Config\":{\"Digest\":\"%s\"},"
                          "\"Layers\":[{\"Digest\":\"sha256:%s\",\"Size\":5,\"MediaType\":\"m\"}]}",
                          MT_S2, dg, HEXA);
    json_t *o = create(image_body("x", MT_S2, man, cfgtxt));
    json_t *m = json_object_get(o, "dockerImageMetadata");
    assert_string_equal(json_string_value(json_object_get(m, "Id")), dg);
    assert_string_equal(json_string_value(json_object_get(m, "Created")), "2021-01-01T00:00:00Z");
    assert_string_equal(json_string_value(json_object_get(m, "Architecture")), "arm64");
    assert_json(json_object_get(m, "Config"), "{\"Cmd\":[\"x\"]}");
    assert_int_equal(json_integer_value(json_object_get(m, "Size")), (json_int_t)strlen(cfgtxt) + 5);
    json_decref(o);
    free(man);
}

static void test_metadata_whitelist_and_pre012(void **state)
{
    json_t *o = J("{\"metadata\":{\"name\":\"x\"},\"dockerImageReference\":\"x\",\"dockerImageMetadata\":{"
                  "\"Id\":\"abc\",\"ID\":\"ignored\",\"Created\":\"2020-01-02T03:04:05.999Z\","
                  "\"Config\":{\"Env\":[],\"Tty\":true,\"StopSignal\":\"x\",\"ExposedPorts\":{\"80/tcp\":{\"a\":1}}},"
                  "\"Size\":0,\"Unknown\":1}}");
    image_normalize(o);
    assert_json(json_object_get(o, "dockerImageMetadata"),
                "{\"kind\":\"DockerImage\",\"apiVersion\":\"image.openshift.io/1.0\",\"Id\":\"abc\","
                "\"Created\":\"2020-01-02T03:04:05Z\",\"ContainerConfig\":{},"
                "\"Config\":{\"ExposedPorts\":{\"80/tcp\":{}},\"Tty\":true}}");
    json_decref(o);
    o = J("{\"metadata\":{\"name\":\"x\"},\"dockerImageMetadataVersion\":\"pre012\",\"dockerImageMetadata\":{"
          "\"id\":\"abc\",\"Id\":\"no\",\"docker_version\":\"1.9\",\"size\":12,\"container_config\":{\"User\":\"u\"}}}");
    image_normalize(o);
    assert_json(json_object_get(o, "dockerImageMetadata"),
                "{\"kind\":\"DockerImage\",\"apiVersion\":\"image.openshift.io/pre012\",\"id\":\"abc\",\"created\":null,"
                "\"container_config\":{\"User\":\"u\"},\"docker_version\":\"1.9\",\"size\":12}");
    assert_string_equal(json_string_value(json_object_get(o, "dockerImageMetadataVersion")), "pre012");
    json_decref(o);
}

static void test_i10_manifest_change_ignored(void **state)
{
    json_t *old = create(J("{\"metadata\":{\"name\":\"foo\"},\"dockerImageReference\":\"openshift/ruby-19-centos-2\","
                           "\"dockerImageLayers\":[{\"name\":\"test\",\"size\":10}],\"dockerImageMetadata\":{\"Id\":\"foo\"}}"));
    json_t *o = J("{\"metadata\":{\"name\":\"foo\",\"labels\":{\"a\":\"b\"}},\"dockerImageReference\":\"openshift/ruby-19-centos\"}");
    json_object_set_new(o, "dockerImageManifest", json_string(S1));
    image_normalize(o);
    image_prepare_update(&ctx, o, old);
    validate_ok(o);
    assert_string_equal(json_string_value(json_object_get(o, "dockerImageReference")), "openshift/ruby-19-centos");
    assert_null(json_object_get(o, "dockerImageManifest"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "dockerImageMetadata"), "Id")), "foo");
    assert_null(json_object_get(json_object_get(o, "dockerImageMetadata"), "Size"));
    assert_json(json_object_get(o, "dockerImageLayers"), "[{\"name\":\"test\",\"size\":10,\"mediaType\":\"\"}]");
    json_decref(o);
    json_decref(old);
}

static void test_i11_manifest_removed(void **state)
{
    json_t *old = create(image_body("anything", NULL, S1, NULL));
    json_t *o = J("{\"metadata\":{\"name\":\"anything\"},\"dockerImageReference\":\"x\",\"dockerImageMetadata\":{\"Id\":\"foo\"}}");
    image_normalize(o);
    image_prepare_update(&ctx, o, old);
    assert_null(json_object_get(o, "dockerImageManifest"));
    json_t *m = json_object_get(o, "dockerImageMetadata");
    assert_string_equal(json_string_value(json_object_get(m, "Id")), HEXC);
    assert_int_equal(json_integer_value(json_object_get(m, "Size")), 47);
    json_decref(o);
    json_decref(old);
}

static json_t *i12_old(void)
{
    return create(image_body(S2_DIGEST, MT_S2, NULL, NULL));
}

static void test_i12_manifest_replacement(void **state)
{
    /* Manifest and config together: accepted, and everything is derived. */
    json_t *old = i12_old();
    json_t *o = image_body(S2_DIGEST, MT_S2, S2, CONFIG);
    image_normalize(o);
    image_prepare_update(&ctx, o, old);
    assert_string_equal(json_string_value(json_object_get(o, "dockerImageManifest")), S2);
    assert_string_equal(json_string_value(json_object_get(o, "dockerImageConfig")), CONFIG);
    assert_json(json_object_get(o, "dockerImageMetadata"), S2_META);
    assert_json(json_object_get(o, "dockerImageLayers"), S2_LAYERS);
    json_decref(o);

    /* Manifest only: stored, layers filled, metadata unchanged. */
    o = image_body(S2_DIGEST, MT_S2, S2, NULL);
    image_normalize(o);
    image_prepare_update(&ctx, o, old);
    assert_string_equal(json_string_value(json_object_get(o, "dockerImageManifest")), S2);
    assert_json(json_object_get(o, "dockerImageLayers"), S2_LAYERS);
    assert_json(json_object_get(o, "dockerImageMetadata"), EMPTY_META);
    json_decref(o);

    /* Wrong digest / wrong body type: silently reverted. */
    o = image_body(S2_DIGEST, MT_S2, OCI, NULL);
    image_normalize(o);
    image_prepare_update(&ctx, o, old);
    assert_null(json_object_get(o, "dockerImageManifest"));
    assert_null(json_object_get(o, "dockerImageLayers"));
    json_decref(o);

    /* Config without a stored manifest: reverted. */
    o = image_body(S2_DIGEST, MT_S2, NULL, CONFIG);
    image_normalize(o);
    image_prepare_update(&ctx, o, old);
    assert_null(json_object_get(o, "dockerImageConfig"));
    json_decref(o);
    json_decref(old);
}

static void test_manifest_name_not_digest(void **state)
{
    json_t *old = create(image_body("foo", MT_S2, NULL, NULL));
    json_t *o = image_body("foo", MT_S2, S2, NULL);
    image_normalize(o);
    image_prepare_update(&ctx, o, old);
    assert_null(json_object_get(o, "dockerImageManifest"));
    json_decref(o);
    json_decref(old);
}

static void test_schema1_signed_payload(void **state)
{
    /* A libtrust "pretty signature": payload = raw[:formatLength] + formatTail. */
    const char *body = "{\"schemaVersion\":1,\"name\":\"a\",\"fsLayers\":[],\"history\":[]";
    size_t flen = strlen(body);
    const char *tail = "\n}";
    char *tail64 = base64url_encode(tail, strlen(tail));
    char *prot = xasprintf("{\"formatLength\":%zu,\"formatTail\":\"%s\",\"time\":\"2020-01-01T00:00:00Z\"}", flen, tail64);
    char *prot64 = base64url_encode(prot, strlen(prot));
    char *signed_m = xasprintf("%s,\"signatures\":[{\"header\":{},\"signature\":\"x\",\"protected\":\"%s\"}]}", body, prot64);
    char *payload = xasprintf("%s%s", body, tail);
    char name[80];
    char hex[65];
    sha256_hex(payload, strlen(payload), hex);
    snprintf(name, sizeof name, "sha256:%s", hex);

    json_t *old = create(image_body(name, NULL, NULL, NULL));
    json_t *o = image_body(name, NULL, signed_m, NULL);
    image_normalize(o);
    image_prepare_update(&ctx, o, old);
    assert_string_equal(json_string_value(json_object_get(o, "dockerImageManifest")), signed_m);
    json_decref(o);
    /* Unsigned schema1 has no canonical payload: rejected. */
    o = image_body(name, NULL, payload, NULL);
    image_normalize(o);
    image_prepare_update(&ctx, o, old);
    assert_null(json_object_get(o, "dockerImageManifest"));
    json_decref(o);
    json_decref(old);
    free(tail64);
    free(prot);
    free(prot64);
    free(signed_m);
    free(payload);
}

static void test_i18_protected_fields(void **state)
{
    json_t *old = create(J("{\"metadata\":{\"name\":\"x\"},\"dockerImageReference\":\"x\","
                           "\"dockerImageLayers\":[{\"name\":\"l\",\"size\":1,\"mediaType\":\"m\"}],"
                           "\"dockerImageSignatures\":[\"YQ==\"],\"dockerImageMetadata\":{\"Id\":\"old\"}}"));
    json_t *o = J("{\"metadata\":{\"name\":\"x\"},\"dockerImageReference\":\"x\","
                  "\"dockerImageLayers\":[{\"name\":\"new\",\"size\":9,\"mediaType\":\"m\"}],"
                  "\"dockerImageSignatures\":[\"Yg==\"],\"dockerImageMetadata\":{\"Id\":\"new\"},"
                  "\"dockerImageManifestMediaType\":\"foo/bar\","
                  "\"dockerImageManifests\":[{\"digest\":\"sha256:" HEXA "\",\"mediaType\":\"a/b\",\"architecture\":\"x\",\"os\":\"y\"}]}");
    image_normalize(o);
    image_prepare_update(&ctx, o, old);
    assert_json(json_object_get(o, "dockerImageLayers"), "[{\"name\":\"l\",\"size\":1,\"mediaType\":\"m\"}]");
    assert_json(json_object_get(o, "dockerImageSignatures"), "[\"YQ==\"]");
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "dockerImageMetadata"), "Id")), "old");
    assert_string_equal(json_string_value(json_object_get(o, "dockerImageManifestMediaType")), "foo/bar");
    assert_int_equal(json_array_size(json_object_get(o, "dockerImageManifests")), 1);
    json_decref(o);
    json_decref(old);
}

static void test_i13_i14_manifests_validation(void **state)
{
    static const struct {
        const char *entry, *want;
    } cases[] = {
        {"{\"digest\":\"abc\",\"mediaType\":\"foo/bar\",\"architecture\":\"foo\",\"os\":\"bar\"}",
         "dockerImageManifests[0].digest: Invalid value: \"abc\": digest does not conform with OCI image specification"},
        {"{\"digest\":\"sha256:" HEXA "\",\"mediaType\":\"foobar\",\"architecture\":\"foo\",\"os\":\"bar\"}",
         "dockerImageManifests[0].mediaType: Invalid value: \"foobar\": media type does not conform to RFC6838"},
        {"{\"digest\":\"sha256:" HEXA "\",\"mediaType\":\"foo/bar\",\"os\":\"bar\"}",
         "dockerImageManifests[0].architecture: Required value"},
        {"{\"digest\":\"sha256:" HEXA "\",\"mediaType\":\"foo/bar\",\"architecture\":\"a\"}",
         "dockerImageManifests[0].os: Required value"},
        {"{\"digest\":\"sha256:" HEXA "\",\"mediaType\":\"foo/bar\",\"architecture\":\"a\",\"os\":\"b\",\"manifestSize\":-2}",
         "dockerImageManifests[0].size: Invalid value: -2: manifest size cannot be negative"},
        {"{\"digest\":\"x-sha256:" HEXA "zz\",\"mediaType\":\" a/b+c \",\"architecture\":\"a\",\"os\":\"b\"}", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *o = J("{\"metadata\":{\"name\":\"x\"},\"dockerImageReference\":\"x\"}");
        json_object_set_new(o, "dockerImageManifests", json_pack("[o]", J(cases[i].entry)));
        image_normalize(o);
        ferrs_t errs = FERRS_INIT;
        image_validate(&ctx, o, NULL, &errs);
        assert_errs(&errs, cases[i].want);
        ferrs_free(&errs);
        json_decref(o);
    }
    json_t *o = J("{\"metadata\":{\"name\":\"x\"},\"dockerImageReference\":\"x\","
                  "\"dockerImageManifests\":[{\"digest\":\"sha256:" HEXA "\",\"mediaType\":\"a/b\",\"architecture\":\"a\",\"os\":\"b\"}],"
                  "\"dockerImageLayers\":[{\"name\":\"l\",\"size\":1,\"mediaType\":\"m\"}]}");
    image_normalize(o);
    ferrs_t errs = FERRS_INIT;
    image_validate(&ctx, o, NULL, &errs);
    assert_errs(&errs, "dockerImageLayers: Invalid value: [{\"Name\":\"l\",\"LayerSize\":1,\"MediaType\":\"m\"}]: "
                       "dockerImageLayers should not be set when dockerImageManifests is set");
    ferrs_free(&errs);
    json_decref(o);
}

static void test_i16_managed_signature_annotation(void **state)
{
    json_t *o = create(J("{\"metadata\":{\"name\":\"x\"},\"dockerImageReference\":\"x\",\"signatures\":[{\"metadata\":"
                         "{\"name\":\"sha256:x@s\",\"annotations\":{\"image.openshift.io/managed-signature\":\"x\"}},"
                         "\"type\":\"t\",\"content\":\"YmxvYg==\"}]}"));
    validate_ok(o);
    assert_json(json_object_get(o, "signatures"),
                "[{\"metadata\":{\"name\":\"sha256:x@s\",\"annotations\":{}},\"type\":\"t\",\"content\":\"YmxvYg==\"}]");
    json_decref(o);
    o = create(J("{\"metadata\":{\"name\":\"x\"},\"dockerImageReference\":\"x\",\"signatures\":[{\"metadata\":"
                 "{\"name\":\"sha256:x@s\",\"annotations\":{\"image.openshift.io/managed-signature\":\"x\",\"key\":\"value\"}},"
                 "\"type\":\"t\",\"content\":\"YmxvYg==\"}]}"));
    ferrs_t errs = FERRS_INIT;
    image_validate(&ctx, o, NULL, &errs);
    assert_errs(&errs, "signatures[0].metadata.annotations: Forbidden: signature annotations cannot be set");
    ferrs_free(&errs);
    json_decref(o);
}

int main(void)
{
    log_level = LOG_ERROR;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_i1_minimal),
        cmocka_unit_test(test_i4_i5_reference),
        cmocka_unit_test(test_i3_name),
        cmocka_unit_test(test_i7_schema2),
        cmocka_unit_test(test_i8_blob_stored),
        cmocka_unit_test(test_i9_no_config),
        cmocka_unit_test(test_oci),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_schema1),
        cmocka_unit_test(test_i15_layer_order),
        cmocka_unit_test(test_broken_manifest_is_not_an_error),
        cmocka_unit_test(test_case_insensitive_config),
        cmocka_unit_test(test_metadata_whitelist_and_pre012),
        cmocka_unit_test(test_i10_manifest_change_ignored),
        cmocka_unit_test(test_i11_manifest_removed),
        cmocka_unit_test(test_i12_manifest_replacement),
        cmocka_unit_test(test_manifest_name_not_digest),
        cmocka_unit_test(test_schema1_signed_payload),
        cmocka_unit_test(test_i18_protected_fields),
        cmocka_unit_test(test_i13_i14_manifests_validation),
        cmocka_unit_test(test_i16_managed_signature_annotation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
