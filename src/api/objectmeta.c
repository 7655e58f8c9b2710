/* objectmeta: generic ObjectMeta validation, worded exactly like apimachinery 1.32
 * (api/validation/objectmeta.go, util/validation/validation.go, api/validation/path). */
#include <stdlib.h>
#include <string.h>

#include "api/objectmeta.h"

/* ---- util/validation primitives ---- */

#define QNAME_FMT "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
#define QNAME_MSG "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
#define QNAME_EXAMPLES "(e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '" QNAME_FMT "')"
#define LVALUE_MSG "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
#define LVALUE_RE "(e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(" QNAME_FMT ")?')"
#define DNS_LABEL_FMT "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
#define DNS_LABEL_MSG "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '" DNS_LABEL_FMT "')"
#define DNS_SUB_MSG "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '" DNS_LABEL_FMT "(\\." DNS_LABEL_FMT ")*')"

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

/* ^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$ over s[0..n) */
static bool match_qname(const char *s, size_t n)
{
    if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
        return false;
    for (size_t i = 1; i + 1 < n; i++)
        if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return false;
    return true;
}

/* ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ over s[0..n) */
static bool match_dns_label(const char *s, size_t n)
{
    if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
        return false;
    for (size_t i = 1; i + 1 < n; i++)
        if (!is_lower_alnum(s[i]) && s[i] != '-')
            return false;
    return true;
}

static bool match_dns_subdomain(const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (!match_dns_label(s + start, i - start))
                return false;
            start = i + 1;
        }
    }
    return true;
}

static int push(char **msgs, int n, char *m)
{
    if (n < VALIDATION_MAX_MSGS)
        msgs[n++] = m;
    else
        free(m);
    return n;
}

static int subdomain_msgs(const char *v, size_t n, const char *prefix, char **msgs, int k)
{
    if (n > 253)
        k = push(msgs, k, xasprintf("%smust be no more than 253 characters", prefix));
    if (!match_dns_subdomain(v, n))
        k = push(msgs, k, xasprintf("%s%s", prefix, DNS_SUB_MSG));
    return k;
}

int validation_is_dns1123_subdomain(const char *v, char *msgs[VALIDATION_MAX_MSGS])
{
    return subdomain_msgs(v, strlen(v), "", msgs, 0);
}

int validation_is_dns1123_label(const char *v, char *msgs[VALIDATION_MAX_MSGS])
{
    size_t n = strlen(v);
    int k = 0;
    if (n > 63)
        k = push(msgs, k, xstrdup("must be no more than 63 characters"));
    if (!match_dns_label(v, n)) {
        /* a valid subdomain that is not a label can only be wrong by its dots */
        if (match_dns_subdomain(v, n))
            k = push(msgs, k, xstrdup("must not contain dots"));
        else
            k = push(msgs, k, xstrdup(DNS_LABEL_MSG));
    }
    return k;
}

int validation_is_qualified_name(const char *v, char *msgs[VALIDATION_MAX_MSGS])
{
    int k = 0;
    const char *slash = strchr(v, '/');
    const char *name = v;
    if (slash && strchr(slash + 1, '/'))
        return push(msgs, 0, xstrdup("a qualified name " QNAME_MSG " " QNAME_EXAMPLES
                                     " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"));
    if (slash) {
        size_t plen = (size_t)(slash - v);
        if (plen == 0)
            k = push(msgs, k, xstrdup("prefix part must be non-empty"));
        else
            k = subdomain_msgs(v, plen, "prefix part ", msgs, k);
        name = slash + 1;
    }
    size_t n = strlen(name);
    if (n == 0)
        k = push(msgs, k, xstrdup("name part must be non-empty"));
    else if (n > 63)
        k = push(msgs, k, xstrdup("name part must be no more than 63 characters"));
    if (!match_qname(name, n))
        k = push(msgs, k, xstrdup("name part " QNAME_MSG " " QNAME_EXAMPLES));
    return k;
}

int validation_is_label_value(const char *v, char *msgs[VALIDATION_MAX_MSGS])
{
    size_t n = strlen(v);
    int k = 0;
    if (n > 63)
        k = push(msgs, k, xstrdup("must be no more than 63 characters"));
    if (n > 0 && !match_qname(v, n))
        k = push(msgs, k, xstrdup(LVALUE_MSG " " LVALUE_RE));
    return k;
}

void validation_msgs_free(char **msgs, int n)
{
    for (int i = 0; i < n; i++)
        free(msgs[i]);
}

void validation_quote(buf_t *b, const char *s)
{
    buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': buf_puts(b, "\\\""); break;
        case '\\': buf_puts(b, "\\\\"); break;
        case '\n': buf_puts(b, "\\n"); break;
        case '\t': buf_puts(b, "\\t"); break;
        case '\r': buf_puts(b, "\\r"); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                buf_printf(b, "\\x%02x", *p);
            else
                buf_putc(b, (char)*p);
        }
    }
    buf_putc(b, '"');
}

/* ---- field-level checks ---- */

static void add_invalid_msgs(ferrs_t *errs, const char *field, const char *value, char **msgs, int n)
{
    for (int i = 0; i < n; i++)
        ferrs_add(errs, FERR_INVALID, field, json_string(value), "%s", msgs[i]);
    validation_msgs_free(msgs, n);
}

void validate_path_segment_name(const char *name, const char *field, ferrs_t *errs)
{
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
        ferrs_add(errs, FERR_INVALID, field, json_string(name), "may not be '%s'", name);
        return;
    }
    if (strchr(name, '/'))
        ferrs_add(errs, FERR_INVALID, field, json_string(name), "may not contain '/'");
    if (strchr(name, '%'))
        ferrs_add(errs, FERR_INVALID, field, json_string(name), "may not contain '%%'");
}

void validate_dns1123_label(const char *value, const char *field, ferrs_t *errs)
{
    char *msgs[VALIDATION_MAX_MSGS];
    int n = validation_is_dns1123_label(value, msgs);
    add_invalid_msgs(errs, field, value, msgs, n);
}

static const char *str_field(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

static void validate_labels(const json_t *labels, ferrs_t *errs)
{
    const char *k;
    json_t *v;
    char *msgs[VALIDATION_MAX_MSGS];
    json_object_foreach((json_t *)labels, k, v) {
        int n = validation_is_qualified_name(k, msgs);
        add_invalid_msgs(errs, "metadata.labels", k, msgs, n);
        const char *s = json_string_value(v);
        if (!s)
            continue; /* type errors are the decoder's */
        n = validation_is_label_value(s, msgs);
        add_invalid_msgs(errs, "metadata.labels", s, msgs, n);
    }
}

static void validate_annotations(const json_t *ann, ferrs_t *errs)
{
    const char *k;
    json_t *v;
    char *msgs[VALIDATION_MAX_MSGS];
    size_t total = 0;
    json_object_foreach((json_t *)ann, k, v) {
        /* QualifiedName, except that case does not matter */
        char *lower = xstrdup(k);
        for (char *p = lower; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        int n = validation_is_qualified_name(lower, msgs);
        free(lower);
        add_invalid_msgs(errs, "metadata.annotations", k, msgs, n);
        total += strlen(k) + json_string_length(v);
    }
    if (total > 256 * 1024)
        ferrs_add(errs, FERR_TOO_LONG, "metadata.annotations", NULL, "may not be more than %d bytes", 256 * 1024);
}

/* schema.FromAPIVersionAndKind: "" -> no version; "v" -> version; "g/v"; more slashes -> unparsable. */
static void split_api_version(const char *av, char **group, char **version)
{
    const char *slash = strchr(av, '/');
    if (!*av || strcmp(av, "/") == 0) {
        *group = xstrdup("");
        *version = xstrdup("");
    } else if (!slash) {
        *group = xstrdup("");
        *version = xstrdup(av);
    } else if (strchr(slash + 1, '/')) {
        *group = xstrdup("");
        *version = xstrdup("");
    } else {
        *group = xstrndup(av, (size_t)(slash - av));
        *version = xstrdup(slash + 1);
    }
}

static void validate_owner_references(const json_t *refs, ferrs_t *errs)
{
    const char *f = "metadata.ownerReferences";
    char *first_controller = NULL;
    size_t i;
    json_t *ref;
    json_array_foreach(refs, i, ref) {
        const char *kind = str_field(ref, "kind");
        const char *name = str_field(ref, "name");
        char *group, *version;
        split_api_version(str_field(ref, "apiVersion"), &group, &version);
        if (!*version)
            ferrs_add(errs, FERR_INVALID, "metadata.ownerReferences.apiVersion", json_string(str_field(ref, "apiVersion")),
                      "version must not be empty");
        if (!*kind)
            ferrs_add(errs, FERR_INVALID, "metadata.ownerReferences.kind", json_string(kind), "kind must not be empty");
        if (!*name)
            ferrs_add(errs, FERR_INVALID, "metadata.ownerReferences.name", json_string(name), "name must not be empty");
        if (!*str_field(ref, "uid"))
            ferrs_add(errs, FERR_INVALID, "metadata.ownerReferences.uid", json_string(str_field(ref, "uid")),
                      "uid must not be empty");
        if (!*group && strcmp(version, "v1") == 0 && strcmp(kind, "Event") == 0)
            ferrs_add(errs, FERR_INVALID, f, json_deep_copy(ref), "/v1, Kind=Event is disallowed from being an owner");
        free(group);
        free(version);
        if (json_is_true(json_object_get(ref, "controller"))) {
            char *cur = xasprintf("%s/%s", kind, name);
            if (first_controller) {
                ferrs_add(errs, FERR_INVALID, f, json_deep_copy(refs),
                          "Only one reference can have Controller set to true. Found \"true\" in references for %s and %s",
                          first_controller, cur);
                free(cur);
            } else {
                first_controller = cur;
            }
        }
    }
    free(first_controller);
}

static void validate_finalizers(const json_t *fins, ferrs_t *errs)
{
    bool orphan = false, foreground = false;
    size_t i;
    json_t *v;
    char *msgs[VALIDATION_MAX_MSGS];
    json_array_foreach(fins, i, v) {
        const char *s = json_string_value(v);
        if (!s)
            continue;
        int n = validation_is_qualified_name(s, msgs);
        add_invalid_msgs(errs, "metadata.finalizers", s, msgs, n);
        orphan |= strcmp(s, "orphan") == 0;
        foreground |= strcmp(s, "foregroundDeletion") == 0;
    }
    if (orphan && foreground)
        ferrs_add(errs, FERR_INVALID, "metadata.finalizers", json_deep_copy(fins),
                  "finalizer orphan and foregroundDeletion cannot be both set");
}

/* Go unicode.IsPrint, for the code points a field manager plausibly contains. */
static bool rune_printable(unsigned cp)
{
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0xa0) || cp == 0xad)
        return false;
    if ((cp >= 0x2000 && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202f) || (cp >= 0x205f && cp <= 0x206f))
        return false;
    return cp != 0x3000 && cp != 0xfeff && !(cp >= 0xfff9 && cp <= 0xfffb) && !(cp >= 0xd800 && cp <= 0xdfff);
}

/* Decodes one UTF-8 sequence; invalid bytes decode as U+FFFD (printable), like Go. */
static size_t utf8_next(const unsigned char *p, unsigned *cp)
{
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    int len = (p[0] & 0xe0) == 0xc0 ? 2 : (p[0] & 0xf0) == 0xe0 ? 3 : (p[0] & 0xf8) == 0xf0 ? 4 : 0;
    unsigned v = len == 2 ? p[0] & 0x1fu : len == 3 ? p[0] & 0x0fu : p[0] & 0x07u;
    for (int i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            len = 0;
            break;
        }
        v = (v << 6) | (p[i] & 0x3fu);
    }
    if (len == 0) {
        *cp = 0xfffd;
        return 1;
    }
    *cp = v;
    return (size_t)len;
}

static void validate_field_manager(const char *m, const char *field, ferrs_t *errs)
{
    if (strlen(m) > 128)
        ferrs_add(errs, FERR_TOO_LONG, field, NULL, "may not be more than 128 bytes");
    const unsigned char *p = (const unsigned char *)m;
    for (size_t i = 0; p[i];) {
        unsigned cp;
        size_t n = utf8_next(p + i, &cp);
        if (!rune_printable(cp))
            ferrs_add(errs, FERR_INVALID, field, json_string(m), "invalid character U+%04X (at position %zu)", cp, i);
        i += n;
    }
}

static void validate_managed_fields(const json_t *mf, ferrs_t *errs)
{
    size_t i;
    json_t *e;
    json_array_foreach(mf, i, e) {
        char *f = xasprintf("metadata.managedFields[%zu].operation", i);
        const char *op = str_field(e, "operation");
        if (strcmp(op, "Apply") != 0 && strcmp(op, "Update") != 0)
            ferrs_add(errs, FERR_INVALID, f, json_string(op), "must be `Apply` or `Update`");
        free(f);
        const char *ft = str_field(e, "fieldsType");
        if (*ft && strcmp(ft, "FieldsV1") != 0) {
            f = xasprintf("metadata.managedFields[%zu].fieldsType", i);
            ferrs_add(errs, FERR_INVALID, f, json_string(ft), "must be `FieldsV1`");
            free(f);
        }
        f = xasprintf("metadata.managedFields[%zu].manager", i);
        validate_field_manager(str_field(e, "manager"), f, errs);
        free(f);
        if (strlen(str_field(e, "subresource")) > 256) {
            f = xasprintf("metadata.managedFields[%zu].subresource", i);
            ferrs_add(errs, FERR_TOO_LONG, f, NULL, "may not be more than 256 bytes");
            free(f);
        }
    }
}

void validate_object_meta(const json_t *meta, bool namespaced, ferrs_t *errs)
{
    if (!*str_field(meta, "name"))
        ferrs_add(errs, FERR_REQUIRED, "metadata.name", NULL, "name or generateName is required");
    const char *ns = str_field(meta, "namespace");
    if (namespaced) {
        if (!*ns)
            ferrs_add(errs, FERR_REQUIRED, "metadata.namespace", NULL, NULL);
        else
            validate_dns1123_label(ns, "metadata.namespace", errs);
    } else if (*ns) {
        ferrs_add(errs, FERR_FORBIDDEN, "metadata.namespace", NULL, "not allowed on this type");
    }
    json_t *gen = json_object_get(meta, "generation");
    if (json_is_integer(gen) && json_integer_value(gen) < 0)
        ferrs_add(errs, FERR_INVALID, "metadata.generation", json_integer(json_integer_value(gen)),
                  "must be greater than or equal to 0");
    validate_labels(json_object_get(meta, "labels"), errs);
    validate_annotations(json_object_get(meta, "annotations"), errs);
    validate_owner_references(json_object_get(meta, "ownerReferences"), errs);
    validate_finalizers(json_object_get(meta, "finalizers"), errs);
    validate_managed_fields(json_object_get(meta, "managedFields"), errs);
}

/* ---- update ---- */

/* metav1.Time equality is to the second; unparsable values compare as text. */
static bool times_equal(const json_t *a, const json_t *b)
{
    const char *sa = json_string_value(a), *sb = json_string_value(b);
    if (!sa || !*sa || !sb || !*sb)
        return (!sa || !*sa) == (!sb || !*sb);
    time_t ta, tb;
    if (time_parse_rfc3339(sa, &ta) == 0 && time_parse_rfc3339(sb, &tb) == 0)
        return ta == tb;
    return strcmp(sa, sb) == 0;
}

static void immutable_str(const json_t *meta, const json_t *old, const char *key, ferrs_t *errs)
{
    const char *a = str_field(meta, key), *b = str_field(old, key);
    if (strcmp(a, b) != 0) {
        char *f = xasprintf("metadata.%s", key);
        ferrs_add(errs, FERR_INVALID, f, json_string(a), "field is immutable");
        free(f);
    }
}

static json_t *value_or_null(const json_t *v)
{
    return v ? json_deep_copy(v) : json_null();
}

static void new_finalizers(const json_t *meta, const json_t *old, ferrs_t *errs)
{
    json_t *nf = json_object_get(meta, "finalizers"), *of = json_object_get(old, "finalizers");
    /* sorted, distinct list of finalizers not present before, printed like Go's %#v */
    size_t n = json_array_size(nf), k = 0;
    const char **extra = xcalloc(n ? n : 1, sizeof *extra);
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(nf, i));
        if (!s)
            continue;
        bool found = false;
        for (size_t j = 0; j < json_array_size(of) && !found; j++)
            found = json_is_string(json_array_get(of, j)) && strcmp(json_string_value(json_array_get(of, j)), s) == 0;
        for (size_t j = 0; j < k && !found; j++)
            found = strcmp(extra[j], s) == 0;
        if (!found) {
            size_t pos = k++;
            while (pos > 0 && strcmp(extra[pos - 1], s) > 0) {
                extra[pos] = extra[pos - 1];
                pos--;
            }
            extra[pos] = s;
        }
    }
    if (k) {
        buf_t b;
        buf_init(&b);
        buf_puts(&b, "[]string{");
        for (size_t j = 0; j < k; j++) {
            if (j)
                buf_puts(&b, ", ");
            validation_quote(&b, extra[j]);
        }
        buf_putc(&b, '}');
        ferrs_add(errs, FERR_FORBIDDEN, "metadata.finalizers", NULL,
                  "no new finalizers can be added if the object is being deleted, found new finalizers %s", b.data);
        buf_free(&b);
    }
    free(extra);
}

void validate_object_meta_update(const json_t *meta, const json_t *old_meta, bool namespaced, ferrs_t *errs)
{
    const char *dts = json_string_value(json_object_get(old_meta, "deletionTimestamp"));
    if (dts && *dts)
        new_finalizers(meta, old_meta, errs);
    json_int_t ng = json_integer_value(json_object_get(meta, "generation"));
    json_int_t og = json_integer_value(json_object_get(old_meta, "generation"));
    if (ng < og)
        ferrs_add(errs, FERR_INVALID, "metadata.generation", json_integer(ng), "must not be decremented");
    immutable_str(meta, old_meta, "name", errs);
    immutable_str(meta, old_meta, "namespace", errs);
    immutable_str(meta, old_meta, "uid", errs);
    static const char *const times[] = {"creationTimestamp", "deletionTimestamp"};
    for (size_t i = 0; i < 2; i++) {
        json_t *a = json_object_get(meta, times[i]), *b = json_object_get(old_meta, times[i]);
        if (!times_equal(a, b)) {
            char *f = xasprintf("metadata.%s", times[i]);
            ferrs_add(errs, FERR_INVALID, f, value_or_null(a), "field is immutable");
            free(f);
        }
    }
    json_t *a = json_object_get(meta, "deletionGracePeriodSeconds");
    json_t *b = json_object_get(old_meta, "deletionGracePeriodSeconds");
    bool an = !a || json_is_null(a), bn = !b || json_is_null(b);
    if (an != bn || (!an && json_integer_value(a) != json_integer_value(b)))
        ferrs_add(errs, FERR_INVALID, "metadata.deletionGracePeriodSeconds", value_or_null(a), "field is immutable");
    validate_object_meta(meta, namespaced, errs);
}

bool validation_parse_int64(const char *s, int64_t *out)
{
    const char *p = s;
    bool neg = false;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    if (!*p)
        return false;
    uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        unsigned d = (unsigned)(*p - '0');
        if (v > (lim - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}
