/* fuzz_route: api_route_parse (the resource path after /apis/image.openshift.io/v1/, the
 * method and the raw query -> kind, namespace, name, subresource, verb, options) with the
 * image domain's kind table, and api_route_attrs of what it accepts.
 * Input: byte 0 picks the method (low 4 bits; see methods[]), the rest is the request
 * target "path[?query]" split at the first '?', as h2o does.
 * Checks: the result is 0, ROUTE_NOT_FOUND or -1, with the call's error set iff -1; an
 * accepted route has a kind whose scope its namespace matches, a verb the kind (or the
 * subresource) serves and that the method means, a name and namespace equal byte for byte
 * (length included) to the path's %-decoded segments, and a watch path only for GET
 * watches. Everything is freed with api_req_free (LeakSanitizer). */
#include "api/api_internal.h"
#include "image/image.h"
#include "fuzz_common.h"

static const char *const methods[16] = {
    "GET", "GET", "GET", "POST", "PUT", "PATCH", "DELETE", "GET",
    "HEAD", "OPTIONS", "CONNECT", "get", "", "PROPFIND", "DELETE", "PATCH",
};

static api_t *fuzz_api(void)
{
    static api_t a;
    static bool done;
    if (!done) {
        memset(&a, 0, sizeof a);
        a.cfg.kinds = image_kinds(&a.cfg.nkinds);
        kinds_init(&a);
        done = true;
    }
    return &a;
}

/* An independent decoder of one segment: its length, or -1 on a bad escape. */
static int hexv(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static long decode_seg(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            if (i + 2 >= n)
                return -1;
            int h = hexv(s[i + 1]), l = hexv(s[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            out[o++] = (char)(h * 16 + l);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    return (long)o;
}

#define MAXSEG 16

typedef struct {
    int n;
    char *seg[MAXSEG];
    long len[MAXSEG];
} segs_t;

/* The path's segments, decoded, for the checks (n = -1 when the router must refuse it). */
static void split(const char *path, segs_t *s)
{
    s->n = 0;
    const char *p = path;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == 0 || s->n == MAXSEG) {
            s->n = -1;
            return;
        }
        s->seg[s->n] = malloc(len + 1);
        s->len[s->n] = decode_seg(p, len, s->seg[s->n]);
        if (s->len[s->n] < 0) {
            free(s->seg[s->n]);
            s->n = -1;
            return;
        }
        s->n++;
        if (!e)
            break;
        p = e + 1;
    }
}

static void segs_free(segs_t *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->seg[i]);
}

static bool same(const char *got, const char *seg, long len)
{
    return got && (long)strlen(got) == len && memcmp(got, seg, (size_t)len) == 0;
}

static void check_accepted(const api_req_t *r, const char *method, const segs_t *s)
{
    FUZZ_CHECK(r->kind && r->verb);
    FUZZ_CHECK(s->n >= 1);
    FUZZ_CHECK(schema_verbs_has(r->sub ? r->sub->verbs : r->kind->verbs, r->verb));
    FUZZ_CHECK(r->kind->namespaced || !r->ns);
    if (r->kind->namespaced && r->name)
        FUZZ_CHECK(r->ns);
    if (r->watch_path)
        FUZZ_CHECK(!strcmp(method, "GET") && !strcmp(r->verb, "watch") && r->opt.watch);
    if (!strcmp(r->verb, "watch"))
        FUZZ_CHECK(!strcmp(method, "GET") && r->opt.watch);
    if (r->sub)
        FUZZ_CHECK(r->name);
    const char *m = method, *v = r->verb;
    bool item = r->name != NULL;
    FUZZ_CHECK((!strcmp(m, "GET") && (!strcmp(v, "watch") || !strcmp(v, item ? "get" : "list"))) ||
               (!strcmp(m, "POST") && !item && !strcmp(v, "create")) ||
               (!strcmp(m, "PUT") && item && !strcmp(v, "update")) ||
               (!strcmp(m, "PATCH") && item && !strcmp(v, "patch")) ||
               (!strcmp(m, "DELETE") && !strcmp(v, item ? "delete" : "deletecollection")));

    /* the segments, from the checker's own decoding: [watch/][namespaces/NS/]RESOURCE[/NAME[/SUB]] */
    int i = 0;
    if (r->watch_path) {
        FUZZ_CHECK(same("watch", s->seg[0], s->len[0]));
        i = 1;
    }
    if (r->ns) {
        FUZZ_CHECK(s->n - i >= 3 && same("namespaces", s->seg[i], s->len[i]));
        FUZZ_CHECK(same(r->ns, s->seg[i + 1], s->len[i + 1]));
        i += 2;
    }
    int rest = s->n - i;
    FUZZ_CHECK(rest >= 1 && rest <= 3);
    FUZZ_CHECK(same(r->kind->resource, s->seg[i], s->len[i]));
    FUZZ_CHECK((rest >= 2) == (r->name != NULL));
    if (r->name)
        FUZZ_CHECK(same(r->name, s->seg[i + 1], s->len[i + 1]));
    FUZZ_CHECK((rest == 3) == (r->sub != NULL));
    if (r->sub)
        FUZZ_CHECK(same(r->sub->name, s->seg[i + 2], s->len[i + 2]));

    api_authz_attrs_t at;
    api_route_attrs(r, &at);
    FUZZ_CHECK(at.user && at.verb && at.group && at.resource && at.subresource && at.ns && at.name && at.path);
    FUZZ_CHECK(at.resource_request && !strcmp(at.verb, r->verb) && !strcmp(at.resource, r->kind->resource));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    if (size < 1)
        return 0;
    const char *method = methods[data[0] & 15];
    const uint8_t *p, *q;
    size_t pl, ql;
    fuzz_split(data + 1, size - 1, "?", &p, &pl, &q, &ql);
    char *path = fuzz_cstr(p, pl), *query = fuzz_cstr(q, ql);

    api_req_t *r = api_req_new(fuzz_api(), NULL);
    int rc = api_route_parse(r, method, path, query);
    FUZZ_CHECK(rc == 0 || rc == ROUTE_NOT_FOUND || rc == -1);
    FUZZ_CHECK((rc == -1) == apierr_is_set(&r->call.err));
    if (rc == -1)
        FUZZ_CHECK(apierr_http_code(r->call.err.kind) >= 400 && apierr_http_code(r->call.err.kind) < 500 &&
                   r->call.err.message);
    if (rc == 0) {
        segs_t s;
        split(path, &s);
        check_accepted(r, method, &s);
        segs_free(&s);
    }
    api_req_free(r);
    free(path);
    free(query);
    return 0;
}
