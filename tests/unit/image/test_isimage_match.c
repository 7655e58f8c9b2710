/* ImageStreamImage id resolution over name sets (name_index.c) and the derived views the
 * cache keeps (history_index.c): exact names, name prefixes, digest hex prefixes, names
 * that are not digests, ambiguity (sorted, capped), several sets (history + children). */
#include "fixtures.h"

#include "image/image_int.h"

#define D1 "sha256:ff46b78279f207db3b8e57e20dee7cecef3567d09489369d80591f150f9c8154"
#define D2 "sha256:ff46b7aa79f207db3b8e57e20dee7cecef3567d09489369d80591f150f9c8154"
#define D3 "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define D512 "sha512:ff46b782" H64("0") H8("0") H8("0") H8("0") H8("0") H8("0") H8("0") H8("0")

static img_names_t *set_of(const char *const *v, size_t n) { return img_names_new(v, n); }

static void test_names_sorted_distinct(void **state)
{
    const char *v[] = {D2, "", D1, NULL, D2, "plain", D3};
    img_names_t *s = set_of(v, 7);
    assert_int_equal(s->n, 4);
    assert_string_equal(s->names[0], "plain");
    assert_string_equal(s->names[1], D3);
    assert_string_equal(s->names[2], D1);
    assert_string_equal(s->names[3], D2);
    assert_int_equal(s->nhex, 3);   /* "plain" is not a digest */
    assert_true(img_names_has(s, D1));
    assert_false(img_names_has(s, "sha256:ff46"));
    assert_false(img_names_has(s, ""));
    img_names_free(s);
}

static int resolve1(const img_names_t *s, const char *id, const char **match, char **conflict)
{
    const img_names_t *sets[] = {s};
    return img_names_resolve(sets, 1, id, match, conflict);
}

static void test_resolve_prefixes(void **state)
{
    const char *v[] = {D1, D3, "plain", "plainer"};
    img_names_t *s = set_of(v, 4);
    const char *m;
    char *conflict;
    /* case 27: by name prefix and by hex prefix */
    assert_int_equal(resolve1(s, "sha256:ff46b782", &m, &conflict), IMG_RESOLVE_FOUND);
    assert_string_equal(m, D1);
    assert_int_equal(resolve1(s, "ff46b782", &m, &conflict), IMG_RESOLVE_FOUND);
    assert_string_equal(m, D1);
    assert_int_equal(resolve1(s, "0123", &m, &conflict), IMG_RESOLVE_FOUND);
    assert_string_equal(m, D3);
    /* full digest, and its hex alone */
    assert_int_equal(resolve1(s, D1, &m, &conflict), IMG_RESOLVE_FOUND);
    assert_string_equal(m, D1);
    assert_int_equal(resolve1(s, D1 + 7, &m, &conflict), IMG_RESOLVE_FOUND);
    assert_string_equal(m, D1);
    /* no minimum length: "sha" names every digest */
    assert_int_equal(resolve1(s, "sha", &m, &conflict), IMG_RESOLVE_AMBIGUOUS);
    assert_string_equal(conflict, "multiple images match the prefix \"sha\": " D3 ", " D1);
    free(conflict);
    /* names that are not digests match by name prefix only; an exact name wins */
    assert_int_equal(resolve1(s, "plain", &m, &conflict), IMG_RESOLVE_FOUND);
    assert_string_equal(m, "plain");
    assert_int_equal(resolve1(s, "plai", &m, &conflict), IMG_RESOLVE_AMBIGUOUS);
    assert_string_equal(conflict, "multiple images match the prefix \"plai\": plain, plainer");
    free(conflict);
    assert_int_equal(resolve1(s, "lain", &m, &conflict), IMG_RESOLVE_NONE);
    assert_null(m);
    assert_int_equal(resolve1(s, "ff46b783", &m, &conflict), IMG_RESOLVE_NONE);
    /* a hex prefix is never matched against a name that is not a valid digest */
    const char *bad[] = {"sha256:ff46"};
    img_names_t *b = set_of(bad, 1);
    assert_int_equal(resolve1(b, "ff46", &m, &conflict), IMG_RESOLVE_NONE);
    assert_int_equal(resolve1(b, "sha256:f", &m, &conflict), IMG_RESOLVE_FOUND);
    img_names_free(b);
    img_names_free(s);
}

static void test_resolve_ambiguous_sorted(void **state)
{
    /* the same hex prefix under two digests and two algorithms: sorted by name */
    const char *v[] = {D512, D2, D1};
    img_names_t *s = set_of(v, 3);
    const char *m;
    char *conflict;
    assert_int_equal(resolve1(s, "ff46b7", &m, &conflict), IMG_RESOLVE_AMBIGUOUS);
    assert_string_equal(conflict, "multiple images match the prefix \"ff46b7\": " D1 ", " D2 ", " D512);
    free(conflict);
    assert_int_equal(resolve1(s, "ff46b78", &m, &conflict), IMG_RESOLVE_AMBIGUOUS);
    assert_string_equal(conflict, "multiple images match the prefix \"ff46b78\": " D1 ", " D512);
    free(conflict);
    img_names_free(s);
}

static void test_resolve_capped_message(void **state)
{
    char *v[30];
    for (int i = 0; i < 30; i++)
        v[i] = xasprintf("img-%02d", i);
    img_names_t *s = set_of((const char *const *)v, 30);
    const char *m;
    char *conflict;
    assert_int_equal(resolve1(s, "img", &m, &conflict), IMG_RESOLVE_AMBIGUOUS);
    assert_non_null(strstr(conflict, "img-00, img-01, "));
    assert_non_null(strstr(conflict, "img-19, and 10 more"));
    assert_null(strstr(conflict, "img-20"));
    free(conflict);
    for (int i = 0; i < 30; i++)
        free(v[i]);
    img_names_free(s);
}

static void test_resolve_two_sets(void **state)
{
    const char *h[] = {D3}, *ch[] = {D1, D2};
    img_names_t *hist = set_of(h, 1), *kids = set_of(ch, 2);
    const img_names_t *sets[] = {hist, kids, NULL};
    const char *m;
    char *conflict;
    /* a child found by prefix; an exact child name wins over other children's prefixes */
    assert_int_equal(img_names_resolve(sets, 3, "ff46b782", &m, &conflict), IMG_RESOLVE_FOUND);
    assert_string_equal(m, D1);
    assert_int_equal(img_names_resolve(sets, 3, "ff46b7", &m, &conflict), IMG_RESOLVE_AMBIGUOUS);
    free(conflict);
    assert_int_equal(img_names_resolve(sets, 3, D2, &m, &conflict), IMG_RESOLVE_FOUND);
    assert_string_equal(m, D2);
    /* the same name in both sets is one image */
    const char *dup[] = {D3};
    img_names_t *d = set_of(dup, 1);
    const img_names_t *sets2[] = {hist, d};
    assert_int_equal(img_names_resolve(sets2, 2, "0123", &m, &conflict), IMG_RESOLVE_FOUND);
    img_names_free(d);
    img_names_free(hist);
    img_names_free(kids);
}

static void test_history_index_derive(void **state)
{
    json_t *is = J("{\"metadata\":{\"name\":\"repo\",\"annotations\":{\"test\":\"123\"}},"
                   "\"spec\":{\"dockerImageRepository\":\"a/b\"},"
                   "\"status\":{\"dockerImageRepository\":\"registry:5000/ns/repo\",\"tags\":["
                   "{\"tag\":\"latest\",\"items\":[{\"image\":\"" D1 "\"},{\"image\":\"" D3 "\"},{\"image\":\"\"}]},"
                   "{\"tag\":\"old\",\"items\":null,\"conditions\":[]},"
                   "{\"tag\":\"v1\",\"items\":[{\"image\":\"" D1 "\"},{\"image\":\"plain\"}]}]}}");
    is_history_index_t *x = is_history_index_derive(is);
    assert_int_equal(x->images->n, 3);
    assert_true(img_names_has(x->images, D3));
    assert_true(img_names_has(x->images, "plain"));
    assert_string_equal(x->annotations, "{\"test\":\"123\"}");
    assert_string_equal(x->status_repo, "registry:5000/ns/repo");
    assert_string_equal(x->spec_repo, "a/b");
    is_history_index_free(x);
    json_decref(is);

    is = J("{\"metadata\":{\"name\":\"empty\"}}");
    x = is_history_index_derive(is);
    assert_int_equal(x->images->n, 0);
    assert_null(x->annotations);
    assert_string_equal(x->status_repo, "");
    is_history_index_free(x);
    json_decref(is);
}

static void test_children_derive(void **state)
{
    json_t *list = J("{\"metadata\":{\"name\":\"" LIST_DIGEST "\"},\"dockerImageManifests\":["
                     "{\"digest\":\"" S2_DIGEST "\"},{\"digest\":\"\"},{\"digest\":\"" OCI_DIGEST "\"}]}");
    img_children_t *ch = img_children_derive(list);
    assert_non_null(ch);
    assert_int_equal(ch->n, 2);
    assert_string_equal(ch->digests[0], S2_DIGEST);
    assert_string_equal(ch->digests[1], OCI_DIGEST);
    img_children_free(ch);
    json_decref(list);
    json_t *plain = J("{\"metadata\":{\"name\":\"x\"},\"dockerImageManifests\":[]}");
    assert_null(img_children_derive(plain));
    json_decref(plain);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_sorted_distinct),
        cmocka_unit_test(test_resolve_prefixes),
        cmocka_unit_test(test_resolve_ambiguous_sorted),
        cmocka_unit_test(test_resolve_capped_message),
        cmocka_unit_test(test_resolve_two_sets),
        cmocka_unit_test(test_history_index_derive),
        cmocka_unit_test(test_children_derive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
