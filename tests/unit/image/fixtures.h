/* Shared fixtures for the image/ tests: the §5 manifests/config (exact bytes) and helpers. */
#ifndef IMAGE_TEST_FIXTURES_H
#define IMAGE_TEST_FIXTURES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "util/apierr.h"
#include "util/util.h"

#define H8(c) c c c c c c c c
#define H64(c) H8(H8(c))
#define HEXA H64("a")
#define HEXB H64("b")
#define HEXC H64("c")
#define HEXD H64("d")
#define HEXE H64("e")
#define HEXF H64("f")

#define MT_S2 "application/vnd.docker.distribution.manifest.v2+json"
#define MT_OCI_ "application/vnd.oci.image.manifest.v1+json"
#define MT_S1_LAYER "application/vnd.docker.container.image.rootfs.diff+x-gtar"

#define CONFIG_DIGEST "sha256:912e08be26e4b953e91138ebd2c11bd2845b3c86af0208c8004ddf3225f9201b"
#define S2_DIGEST "sha256:2d31f8b32bd1350b6672dc1277018d3c8b108005206a927c7fe40d47389ef6fb"
#define OCI_DIGEST "sha256:0d142a15a9d1b10f876bee1ac2edbb645d0560cab2e6de051431d766643bf00b"
#define LIST_DIGEST "sha256:14a8ac204415a7749491ee81bf3b53ade35c13de5b8010a0a5104665f602d360"

static const char CONFIG[] =
    "{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2020-01-02T03:04:05.123456789Z\",\"author\":\"me\","
    "\"docker_version\":\"19.03\",\"config\":{\"Env\":[\"A=1\"],\"Cmd\":[\"sh\"],\"Labels\":{\"k\":\"v\"},"
    "\"StopSignal\":\"SIGTERM\"},\"container_config\":{\"Cmd\":[\"/bin/sh\",\"-c\",\"echo hi\"]},"
    "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";

static const char S2[] =
    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"config\":{"
    "\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"size\":294,\"digest\":\"" CONFIG_DIGEST "\"},"
    "\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":100,\"digest\":\"sha256:" HEXA "\"},"
    "{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":250,\"digest\":\"sha256:" HEXB "\"},"
    "{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":100,\"digest\":\"sha256:" HEXA "\"}]}";

static const char OCI[] =
    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{"
    "\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"size\":294,\"digest\":\"" CONFIG_DIGEST "\"},"
    "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"size\":250,\"digest\":\"sha256:" HEXB "\"}]}";

static const char LIST[] =
    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.list.v2+json\",\"manifests\":["
    "{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"size\":743,\"digest\":\"" S2_DIGEST "\","
    "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
    "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"size\":401,\"digest\":\"" OCI_DIGEST "\","
    "\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\"}}]}";

static const char S1[] =
    "{\"schemaVersion\":1,\"name\":\"ns/app\",\"tag\":\"latest\",\"architecture\":\"amd64\",\"fsLayers\":["
    "{\"blobSum\":\"sha256:" HEXE "\"},{\"blobSum\":\"sha256:" HEXF "\"}],\"history\":["
    "{\"v1Compatibility\":\"{\\\"id\\\":\\\"" HEXC "\\\",\\\"parent\\\":\\\"" HEXD "\\\",\\\"created\\\":\\\"2016-05-06T07:08:09Z\\\","
    "\\\"container_config\\\":{\\\"Cmd\\\":[\\\"/bin/sh\\\",\\\"-c\\\",\\\"#(nop) CMD sh\\\"]},\\\"config\\\":{\\\"Cmd\\\":[\\\"sh\\\"]},"
    "\\\"architecture\\\":\\\"amd64\\\",\\\"os\\\":\\\"linux\\\",\\\"Size\\\":7}\"},"
    "{\"v1Compatibility\":\"{\\\"id\\\":\\\"" HEXD "\\\",\\\"created\\\":\\\"2016-05-06T07:08:00Z\\\",\\\"Size\\\":40}\"}]}";

static inline json_t *J(const char *s)
{
    json_error_t e;
    json_t *v = json_loads(s, JSON_DECODE_ANY, &e);
    if (!v)
        fail_msg("bad JSON in test: %s: %s", e.text, s);
    return v;
}

/* Asserts that a and the JSON text b are equal; prints both on mismatch. */
#define assert_json(a, b) assert_json_at((a), (b), __FILE__, __LINE__)
static inline void assert_json_at(const json_t *a, const char *b, const char *file, int line)
{
    json_t *want = J(b);
    if (!json_equal((json_t *)a, want)) {
        char *got = json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
        char *exp = json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
        print_error("%s:%d: JSON mismatch\n got: %s\nwant: %s\n", file, line, got, exp);
        free(got);
        free(exp);
        json_decref(want);
        _fail(file, line);
    }
    json_decref(want);
}

/* All field errors as "e1 | e2 | ..." (caller frees). */
static inline char *errs_str(const ferrs_t *l)
{
    buf_t b;
    buf_init(&b);
    buf_puts(&b, "");
    for (size_t i = 0; i < l->n; i++) {
        char *s = ferr_string(&l->items[i]);
        buf_printf(&b, "%s%s", i ? " | " : "", s);
        free(s);
    }
    return buf_steal(&b);
}

#define assert_errs(l, want)                        \
    do {                                            \
        char *got_ = errs_str(l);                   \
        assert_string_equal(got_, want);            \
        free(got_);                                 \
    } while (0)

#endif
