/* Docker reference parsing (§0.6 / companion §0.2): splitting, printing and exact errors. */
#include "fixtures.h"

typedef struct {
    const char *in;
    const char *registry, *ns, *name, *tag, *id; /* NULL registry = error expected */
    const char *err;
    const char *exact;
} ref_case_t;

static const ref_case_t cases[] = {
    {"busybox", "", "", "busybox", "", "", NULL, "busybox"},
    {"busybox:1.36", "", "", "busybox", "1.36", "", NULL, "busybox:1.36"},
    {"openshift/ruby-19-centos", "", "openshift", "ruby-19-centos", "", "", NULL, "openshift/ruby-19-centos"},
    {"docker.io/library/busybox:latest", "docker.io", "library", "busybox", "latest", "", NULL, NULL},
    {"docker.io/a/b/c", "docker.io", "a", "b/c", "", "", NULL, "docker.io/a/b/c"},
    {"a/b/c", "", "a", "b/c", "", "", NULL, "a/b/c"},
    {"localhost/foo", "localhost", "", "foo", "", "", NULL, "localhost/foo"},
    {"localhost:5000/ns/foo:tag", "localhost:5000", "ns", "foo", "tag", "", NULL, NULL},
    {"registry:5000/ns/stream@sha256:" HEXA, "registry:5000", "ns", "stream", "", "sha256:" HEXA, NULL, NULL},
    {"Registry.Example.COM/ns/foo", "Registry.Example.COM", "ns", "foo", "", "", NULL, NULL},
    {"foo/bar:tag@sha256:" HEXB, "", "foo", "bar", "tag", "sha256:" HEXB, NULL, "foo/bar@sha256:" HEXB},
    {"a_b/c", "", "a_b", "c", "", "", NULL, NULL},
    {"a---b.c__d/e", "a---b.c__d", "", "e", "", "", NULL, NULL}, /* "." makes it a registry */
    {"a---b_c__d/e", "", "a---b_c__d", "e", "", "", NULL, NULL},
    {"localhost:5000", "localhost:5000", "", "", "", "", NULL, "localhost:5000/"},
    {"docker.io", "docker.io", "", "", "", "", NULL, "docker.io/"},
    {"foo:5000", "", "", "foo", "5000", "", NULL, "foo:5000"},
    {"", NULL, NULL, NULL, NULL, NULL, "repository name must have at least one component", NULL},
    {"\\", NULL, NULL, NULL, NULL, NULL, "invalid reference format", NULL},
    {"a-|///bbb", NULL, NULL, NULL, NULL, NULL, "invalid reference format", NULL},
    {"a/b@sha256:something", NULL, NULL, NULL, NULL, NULL, "invalid reference format", NULL},
    {"abc@badid", NULL, NULL, NULL, NULL, NULL, "invalid reference format", NULL},
    {"a:b:c", NULL, NULL, NULL, NULL, NULL, "invalid reference format", NULL},
    {"Foo", NULL, NULL, NULL, NULL, NULL, "repository name must be lowercase", NULL},
    {"foo/Bar:tag", NULL, NULL, NULL, NULL, NULL, "repository name must be lowercase", NULL},
    {"Foo/bar", "", "Foo", "bar", "", "", NULL, NULL}, /* a domain-shaped first component */
    {"busybox:-bad", NULL, NULL, NULL, NULL, NULL, "invalid reference format", NULL},
    {"a//b", NULL, NULL, NULL, NULL, NULL, "invalid reference format", NULL},
    {"-a", NULL, NULL, NULL, NULL, NULL, "invalid reference format", NULL},
    {"a-", NULL, NULL, NULL, NULL, NULL, "invalid reference format", NULL},
    {"foo@sha256:" H8("a") H8("a") H8("a") H8("a"), NULL, NULL, NULL, NULL, NULL, "invalid checksum digest length", NULL},
    {"foo@md5:" H8("a") H8("a") H8("a") H8("a"), NULL, NULL, NULL, NULL, NULL, "unsupported digest algorithm", NULL},
    {"foo@sha512:" HEXA HEXA, "", "", "foo", "", "sha512:" HEXA HEXA, NULL, NULL},
};

static void test_parse_table(void **state)
{
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const ref_case_t *c = &cases[i];
        docker_ref_t r;
        const char *msg = NULL;
        int rc = docker_ref_parse(c->in, &r, &msg);
        if (!c->registry) {
            if (rc == 0)
                fail_msg("case %zu (%s): expected error %s", i, c->in, c->err);
            assert_string_equal(msg, c->err);
            docker_ref_free(&r);
            continue;
        }
        if (rc != 0)
            fail_msg("case %zu (%s): unexpected error %s", i, c->in, msg);
        assert_string_equal(r.registry, c->registry);
        assert_string_equal(r.namespace, c->ns);
        assert_string_equal(r.name, c->name);
        assert_string_equal(r.tag, c->tag);
        assert_string_equal(r.id, c->id);
        char *ex = docker_ref_exact(&r);
        assert_string_equal(ex, c->exact ? c->exact : c->in);
        free(ex);
        docker_ref_free(&r);
    }
}

static void test_name_length(void **state)
{
    char name[300];
    memset(name, 'a', 256);
    name[256] = 0;
    docker_ref_t r;
    const char *msg;
    assert_int_equal(docker_ref_parse(name, &r, &msg), -1);
    assert_string_equal(msg, "repository name must not be more than 255 characters");
    docker_ref_free(&r);
    name[255] = 0;
    assert_int_equal(docker_ref_parse(name, &r, &msg), 0);
    docker_ref_free(&r);
}

static void test_repository_and_exact(void **state)
{
    docker_ref_t r;
    const char *msg;
    assert_int_equal(docker_ref_parse("reg.io/ns/app:v1@sha256:" HEXA, &r, &msg), 0);
    char *repo = docker_ref_repository(&r);
    assert_string_equal(repo, "reg.io/ns/app");
    free(repo);
    docker_ref_free(&r);
    /* An ID that is not a digest prints as a tag. */
    docker_ref_t x = {"", "ns", "app", "", "abc"};
    char *ex = docker_ref_exact(&x);
    assert_string_equal(ex, "ns/app:abc");
    free(ex);
}

static void test_digest_valid(void **state)
{
    assert_true(digest_valid("sha256:" HEXA));
    assert_true(digest_valid("sha384:" HEXA H8("a") H8("a") H8("a") H8("a")));
    assert_false(digest_valid("sha256:" HEXA "a"));
    assert_false(digest_valid("sha256:" H8("g") H8("g") H8("g") H8("g") H8("g") H8("g") H8("g") H8("g")));
    assert_false(digest_valid("foo"));
    assert_false(digest_valid(""));
    assert_false(digest_valid("md5:" HEXA));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_name_length),
        cmocka_unit_test(test_repository_and_exact),
        cmocka_unit_test(test_digest_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
