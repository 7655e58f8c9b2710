/* The import keyring (credentials.c, virtual-resources-and-import.md §5.5): key
 * normalisation (scheme, /v1/ /v2/), host globs by dot component, ports, path
 * prefixes, most specific key first, secrets before node credentials, the
 * Docker Hub fallback, auth over username/password, the secret filter, and
 * malformed configs that add nothing. */
#include "fixtures.h"

#include <stdio.h>
#include <unistd.h>

#include "image/credentials.h"
#include "image/sig_int.h"

/* A Secret of type with data[field] = base64(cfg). */
static json_t *secret(const char *name, const char *type, const char *field, const char *cfg, bool exclude)
{
    char *b64 = sig_b64_encode((const unsigned char *)cfg, strlen(cfg));
    json_t *s = json_pack("{s:s, s:{s:s}, s:{s:s}}", "type", type, "metadata", "name", name, "data", field, b64);
    if (exclude)
        json_object_set_new(json_object_get(s, "metadata"), "annotations",
                            json_pack("{s:s}", "openshift.io/image.excludeSecret", "true"));
    free(b64);
    return s;
}

static void add(cred_keyring_t *kr, cred_source_t from, const char *cfg)
{
    char err[256] = "";
    assert_int_equal(cred_keyring_add_config(kr, from, cfg, strlen(cfg), err, sizeof err), 0);
}

/* The username found for target, or "-" for none. */
static const char *who(const cred_keyring_t *kr, const char *target)
{
    const cred_auth_t *a = cred_keyring_lookup(kr, target);
    return a ? a->username : "-";
}

static void test_keys_and_globs(void **state)
{
    (void)state;
    cred_keyring_t *kr = cred_keyring_new();
    add(kr, CRED_FROM_SECRETS,
        "{\"auths\":{"
        "\"https://index.docker.io/v1/"
        "\":{\"username\":\"hub\",\"password\":\"p\"},"
        "\"*.example.com\":{\"username\":\"glob\"},"
        "\"localhost:5000\":{\"username\":\"port\"},"
        "\"http://quay.io/ns\":{\"username\":\"ns\"},"
        "\"quay.io\":{\"username\":\"quay\"},"
        "\"https://reg.io/v2/team/\":{\"username\":\"team\"}}}");
    assert_int_equal(cred_keyring_size(kr), 6);
    /* Docker Hub: key index.docker.io is the fallback for every Hub spelling */
    assert_string_equal(who(kr, "docker.io/library/busybox:latest"), "hub");
    assert_string_equal(who(kr, "busybox"), "hub");
    assert_string_equal(who(kr, "user/app:1"), "hub");
    assert_string_equal(who(kr, "index.docker.io/library/busybox:latest"), "hub");
    /* globs match one component each: same number of dots */
    assert_string_equal(who(kr, "a.example.com/x/y:1"), "glob");
    assert_string_equal(who(kr, "a.b.example.com/x:1"), "-");
    assert_string_equal(who(kr, "example.com/x:1"), "-");
    /* ports must be equal, absent on both or the same */
    assert_string_equal(who(kr, "localhost:5000/x@sha256:" HEXA), "port");
    /* as the reference: a first component without . or : counts as Docker Hub,
     * even localhost */
    assert_string_equal(who(kr, "localhost/x:1"), "hub");
    assert_string_equal(who(kr, "localhost:5001/x:1"), "-");
    assert_string_equal(who(kr, "a.example.com:443/x:1"), "-");
    /* most specific first; the key path is a STRING prefix (ns matches ns2 too)
     */
    assert_string_equal(who(kr, "quay.io/ns/repo:1"), "ns");
    assert_string_equal(who(kr, "quay.io/ns2/repo:1"), "ns");
    assert_string_equal(who(kr, "quay.io/other/repo:1"), "quay");
    /* /v2/ in the key stands for the host */
    assert_string_equal(who(kr, "reg.io/team/app:1"), "team");
    assert_string_equal(who(kr, "reg.io/v2/team/app:1"), "-");
    assert_string_equal(who(kr, "reg.io/app:1"), "-");
    cred_keyring_free(kr);
}

static void test_hub_key_exact(void **state)
{
    (void)state;
    cred_keyring_t *kr = cred_keyring_new();
    add(kr, CRED_FROM_SECRETS,
        "{\"docker.io\":{\"username\":\"d\"},\"registry.io\":{\"username\":\"r\"}"
        ","
        "\"[::1]:5000\":{\"username\":\"v6\"}}");
    assert_string_equal(who(kr, "[::1]:5000/x:1"), "v6");
    assert_string_equal(who(kr, "[::1]:5001/x:1"), "-");
    assert_string_equal(who(kr, "docker.io/library/busybox:latest"), "d");
    assert_string_equal(who(kr, "registry.io/x:1"), "r");
    assert_string_equal(who(kr, "other.io/x:1"), "-");
    cred_keyring_free(kr);
}

static void test_secrets_before_node(void **state)
{
    (void)state;
    cred_keyring_t *kr = cred_keyring_new();
    add(kr, CRED_FROM_NODE,
        "{\"auths\":{\"quay.io/"
        "ns\":{\"username\":\"node\"},\"node.io\":{\"username\":\"n\"}}}");
    add(kr, CRED_FROM_SECRETS, "{\"auths\":{\"quay.io\":{\"username\":\"secret\"}}}");
    /* a general secret key beats a more specific node key */
    assert_string_equal(who(kr, "quay.io/ns/r:1"), "secret");
    assert_string_equal(who(kr, "node.io/r:1"), "n");
    /* among secrets with the same key the first added wins */
    add(kr, CRED_FROM_SECRETS, "{\"auths\":{\"quay.io\":{\"username\":\"later\"}}}");
    assert_string_equal(who(kr, "quay.io/x/r:1"), "secret");
    cred_keyring_free(kr);
}

static void test_auth_field(void **state)
{
    (void)state;
    cred_keyring_t *kr = cred_keyring_new();
    /* base64("alice:s3cr:et") */
    add(kr, CRED_FROM_SECRETS,
        "{\"auths\":{\"r.io\":{\"auth\":\"YWxpY2U6czNjcjpldA==\",\"username\":"
        "\"x\","
        "\"password\":\"y\"}}}");
    const cred_auth_t *a = cred_keyring_lookup(kr, "r.io/a:1");
    assert_non_null(a);
    assert_string_equal(a->username, "alice");
    assert_string_equal(a->password, "s3cr:et");
    cred_keyring_free(kr);
}

static void test_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{",                                                  /* not JSON */
        "[1]",                                                /* not an object */
        "{\"auths\":{\"r.io\":{\"auth\":\"bm9jb2xvbg==\"}}}", /* base64("nocolon")
                                                               */
        "{\"auths\":{\"r.io\":{\"auth\":\"!!!\"}}}",          /* not base64 */
        "{\"auths\":{\"ok.io\":{\"username\":\"u\"},\"r.io\":\"str\"}}",
        "{\"auths\":{\"r.io\":{\"username\":7}}}",
        "{\"auths\":[]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cred_keyring_t *kr = cred_keyring_new();
        char err[256] = "";
        assert_int_equal(cred_keyring_add_config(kr, CRED_FROM_SECRETS, bad[i], strlen(bad[i]), err, sizeof err), -1);
        assert_true(err[0] != '\0');
        assert_int_equal(cred_keyring_size(kr), 0); /* nothing half added */
        cred_keyring_free(kr);
    }
    /* entries without a host are skipped, not fatal */
    cred_keyring_t *kr = cred_keyring_new();
    add(kr, CRED_FROM_SECRETS,
        "{\"auths\":{\"https:///v2/\":{\"username\":\"u\"},\"a "
        "b\":{},\"r.io\":{}}}");
    assert_int_equal(cred_keyring_size(kr), 1);
    assert_string_equal(who(kr, "r.io/x:1"), "");
    cred_keyring_free(kr);
}

static void test_secrets(void **state)
{
    (void)state;
    json_t *dcj = secret("a", "kubernetes.io/dockerconfigjson", ".dockerconfigjson",
                         "{\"auths\":{\"quay.io\":{\"username\":\"json\",\"password\":\"pw\"}}}", false);
    json_t *dcfg = secret("b", "kubernetes.io/dockercfg", ".dockercfg", "{\"reg.io\":{\"username\":\"cfg\"}}", false);
    json_t *excl = secret("c", "kubernetes.io/dockercfg", ".dockercfg", "{\"ex.io\":{\"username\":\"ex\"}}", true);
    json_t *opaque = secret("d", "Opaque", ".dockercfg", "{\"op.io\":{\"username\":\"op\"}}", false);
    json_t *broken = secret("e", "kubernetes.io/dockerconfigjson", ".dockerconfigjson", "{\"auths\":", false);
    assert_true(cred_is_pull_secret(dcj));
    assert_true(cred_is_pull_secret(dcfg));
    assert_false(cred_is_pull_secret(excl));
    assert_false(cred_is_pull_secret(opaque));
    cred_keyring_t *kr = cred_keyring_new();
    char err[256];
    json_t *all[] = {dcj, dcfg, excl, opaque};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(cred_keyring_add_secret(kr, all[i], err, sizeof err), 0);
    assert_string_equal(who(kr, "quay.io/a/b:1"), "json");
    assert_string_equal(cred_keyring_lookup(kr, "quay.io/a/b:1")->password, "pw");
    assert_string_equal(who(kr, "reg.io/a:1"), "cfg");
    assert_string_equal(who(kr, "ex.io/a:1"), "-");
    assert_string_equal(who(kr, "op.io/a:1"), "-");
    err[0] = '\0';
    assert_int_equal(cred_keyring_add_secret(kr, broken, err, sizeof err), -1);
    assert_non_null(strstr(err, "JSON"));
    /* an error never quotes the config (it may hold a password) */
    const char *leak = "{\"auths\":{\"r.io\":{\"password\":\"hunter2\" x}}}";
    assert_int_equal(cred_keyring_add_config(kr, CRED_FROM_SECRETS, leak, strlen(leak), err, sizeof err), -1);
    assert_null(strstr(err, "hunter2"));
    assert_null(strstr(err, "near"));
    /* a dockerconfigjson secret holding a bare .dockercfg map has no auths:
     * nothing */
    json_t *bare =
        secret("f", "kubernetes.io/dockerconfigjson", ".dockerconfigjson", "{\"b.io\":{\"username\":\"b\"}}", false);
    assert_int_equal(cred_keyring_add_secret(kr, bare, err, sizeof err), 0);
    assert_string_equal(who(kr, "b.io/a:1"), "-");
    cred_keyring_free(kr);
    json_decref(dcj);
    json_decref(dcfg);
    json_decref(excl);
    json_decref(opaque);
    json_decref(broken);
    json_decref(bare);
}

static void test_file(void **state)
{
    (void)state;
    char path[] = "/tmp/test_credentials_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *cfg = "{\"auths\":{\"file.io\":{\"auth\":\"Ym9iOnB3\"}},"
                      "\"credHelpers\":{}}"; /* bob:pw */
    assert_int_equal(write(fd, cfg, strlen(cfg)), (ssize_t)strlen(cfg));
    close(fd);
    cred_keyring_t *kr = cred_keyring_new();
    char err[256] = "";
    assert_int_equal(cred_keyring_add_file(kr, NULL, err, sizeof err), 0);
    assert_int_equal(cred_keyring_add_file(kr, path, err, sizeof err), 0);
    assert_string_equal(who(kr, "file.io/a:1"), "bob");
    unlink(path);
    assert_int_equal(cred_keyring_add_file(kr, path, err, sizeof err), -1);
    assert_non_null(strstr(err, "No such file"));
    cred_keyring_free(kr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_and_globs),
        cmocka_unit_test(test_hub_key_exact),
        cmocka_unit_test(test_secrets_before_node),
        cmocka_unit_test(test_auth_field),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_secrets),
        cmocka_unit_test(test_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
