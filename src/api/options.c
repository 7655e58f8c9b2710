/* options: the query parameters of a Kubernetes request (ListOptions, GetOptions,
 * CreateOptions, UpdateOptions, PatchOptions, DeleteOptions, TableOptions), the
 * DeleteOptions body and continue tokens. Messages follow the apiserver where it has
 * one; otherwise they name the parameter and the accepted values. */
#include <stdlib.h>
#include <string.h>

#include "api/objectmeta.h"
#include "api/options.h"
#include "util/util.h"

#define MAX_FIELD_MANAGER 128

static int bad_value(apierr_t *err, const char *param, const char *value, const char *why)
{
    buf_t b;
    buf_init(&b);
    validation_quote(&b, value);
    apierr_set(err, APIERR_BAD_REQUEST, "%s: Invalid value: %s: %s", param, b.data, why);
    buf_free(&b);
    return -1;
}

static int unsupported(apierr_t *err, const char *param, const char *value, const char *supported)
{
    buf_t b;
    buf_init(&b);
    validation_quote(&b, value);
    apierr_set(err, APIERR_BAD_REQUEST, "%s: Unsupported value: %s: supported values: %s", param, b.data, supported);
    buf_free(&b);
    return -1;
}

static int set_bool(const char *param, const char *v, bool *out, apierr_t *err)
{
    int b = parse_bool(v);
    if (b < 0)
        return bad_value(err, param, v, "must be a boolean (true or false)");
    *out = b == 1;
    return 0;
}

static int set_int(const char *param, const char *v, int64_t *out, bool nonneg, apierr_t *err)
{
    int64_t n;
    if (!validation_parse_int64(v, &n))
        return bad_value(err, param, v, "must be an integer");
    if (nonneg && n < 0)
        return bad_value(err, param, v, "must be greater than or equal to 0");
    *out = n;
    return 0;
}

static int set_field_manager(const char *v, req_options_t *o, apierr_t *err)
{
    if (strlen(v) > MAX_FIELD_MANAGER)
        return apierr_set(err, APIERR_BAD_REQUEST, "fieldManager: Too long: may not be more than %d bytes",
                          MAX_FIELD_MANAGER);
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return bad_value(err, "fieldManager", v, "must contain only printable characters");
    o->field_manager = xstrdup(v);
    return 0;
}

/* Resource versions are etcd revisions: decimal uint64 (APIObjectVersioner). */
static int check_rv(const char *v, apierr_t *err)
{
    if (!*v)
        return 0;
    for (const char *p = v; *p; p++)
        if (*p < '0' || *p > '9' || p - v >= 20)
            goto bad;
    if (strlen(v) == 20 && strcmp(v, "18446744073709551615") > 0)
        goto bad;
    return 0;
bad:;
    buf_t b;
    buf_init(&b);
    validation_quote(&b, v);
    apierr_set(err, APIERR_BAD_REQUEST, "invalid resource version: resourceVersion: Invalid value: %s: "
               "strconv.ParseUint: parsing %s: invalid syntax", b.data, b.data);
    buf_free(&b);
    return -1;
}

static const char *const param_names[] = {
    "pretty", "limit", "continue", "labelSelector", "fieldSelector", "resourceVersion",
    "resourceVersionMatch", "watch", "allowWatchBookmarks", "sendInitialEvents", "timeoutSeconds",
    "dryRun", "fieldValidation", "fieldManager", "force", "gracePeriodSeconds", "propagationPolicy",
    "orphanDependents", "includeObject",
};
#define NPARAMS (sizeof param_names / sizeof *param_names)

static unsigned param_index(const char *k)
{
    unsigned i = 0;
    while (i < NPARAMS && strcmp(param_names[i], k) != 0)
        i++;
    return i;
}

/* One decoded, known parameter. seen keeps "the first wins" for repeated names. */
static int apply_param(req_options_t *o, unsigned idx, const char *k, const char *v, unsigned *seen, apierr_t *err)
{
    /* dryRun is a list: every value must be "All" */
    if (strcmp(k, "dryRun") == 0) {
        if (strcmp(v, "All") != 0)
            return unsupported(err, "dryRun", v, "\"All\"");
        o->dry_run = true;
        return 0;
    }
    if (*seen & (1u << idx))
        return 0;
    *seen |= 1u << idx;
    switch (idx) {
    case 0: { /* pretty: like the apiserver, anything unparsable is false */
        int b = parse_bool(v);
        o->pretty = b == 1;
        return 0;
    }
    case 1: return set_int(k, v, &o->limit, true, err);
    case 2: o->continue_token = *v ? xstrdup(v) : NULL; return 0;
    case 3: o->label_selector = *v ? xstrdup(v) : NULL; return 0;
    case 4: o->field_selector = *v ? xstrdup(v) : NULL; return 0;
    case 5:
        if (check_rv(v, err) != 0)
            return -1;
        o->rv_set = *v != '\0';
        if (o->rv_set) {
            unsigned long long n = strtoull(v, NULL, 10);
            o->rv = n > (unsigned long long)INT64_MAX ? INT64_MAX : (int64_t)n;
        }
        return 0;
    case 6:
        if (strcmp(v, "NotOlderThan") == 0)
            o->rv_match = RVM_NOT_OLDER_THAN;
        else if (strcmp(v, "Exact") == 0)
            o->rv_match = RVM_EXACT;
        else if (*v)
            return unsupported(err, k, v, "\"Exact\", \"NotOlderThan\", \"\"");
        return 0;
    case 7: return set_bool(k, v, &o->watch, err);
    case 8: return set_bool(k, v, &o->allow_watch_bookmarks, err);
    case 9:
        o->send_initial_events_set = true;
        return set_bool(k, v, &o->send_initial_events, err);
    case 10:
        if (set_int(k, v, &o->timeout_seconds, false, err) != 0)
            return -1;
        if (o->timeout_seconds < 0)
            o->timeout_seconds = 0;
        return 0;
    case 12:
        o->field_validation_set = *v != 0;
        if (strcmp(v, "Strict") == 0)
            o->field_validation = FV_STRICT;
        else if (strcmp(v, "Warn") == 0 || !*v)
            o->field_validation = FV_WARN;
        else if (strcmp(v, "Ignore") == 0)
            o->field_validation = FV_IGNORE;
        else
            return unsupported(err, k, v, "\"\", \"Ignore\", \"Strict\", \"Warn\"");
        return 0;
    case 13: return *v ? set_field_manager(v, o, err) : 0;
    case 14: return set_bool(k, v, &o->force, err);
    case 15:
        if (set_int(k, v, &o->grace_period_seconds, false, err) != 0)
            return -1;
        /* negative grace periods mean 1s on the delete path (rest.BeforeDelete) */
        if (o->grace_period_seconds < 0)
            o->grace_period_seconds = 1;
        return 0;
    case 16:
        if (strcmp(v, "Orphan") == 0)
            o->propagation = PROP_ORPHAN;
        else if (strcmp(v, "Background") == 0)
            o->propagation = PROP_BACKGROUND;
        else if (strcmp(v, "Foreground") == 0)
            o->propagation = PROP_FOREGROUND;
        else
            return unsupported(err, k, v, "\"Foreground\", \"Background\", \"Orphan\", \"nil\"");
        return 0;
    case 17: {
        bool b;
        if (set_bool(k, v, &b, err) != 0)
            return -1;
        o->orphan_dependents = b;
        return 0;
    }
    case 18:
        if (strcmp(v, "None") == 0)
            o->include_object = INCLUDE_NONE;
        else if (strcmp(v, "Metadata") == 0 || !*v)
            o->include_object = INCLUDE_METADATA;
        else if (strcmp(v, "Object") == 0)
            o->include_object = INCLUDE_OBJECT;
        else
            return unsupported(err, k, v, "\"Metadata\", \"None\", \"Object\"");
        return 0;
    }
    return 0;
}

static void options_init(req_options_t *o)
{
    memset(o, 0, sizeof *o);
    o->rv_match = RVM_UNSET;
    o->field_validation = FV_WARN;
    o->grace_period_seconds = -1;
    o->propagation = PROP_UNSET;
    o->orphan_dependents = -1;
    o->include_object = INCLUDE_METADATA;
}

int req_options_parse(const char *query, req_options_t *o, apierr_t *err)
{
    options_init(o);
    unsigned seen = 0;
    const char *p = query ? query : "";
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        size_t kn = eq ? (size_t)(eq - p) : n;
        char *k = n ? url_decode(p, kn, true) : NULL;
        unsigned idx = k ? param_index(k) : NPARAMS;
        /* unknown parameters (timeout=32s, ...) are ignored, even when oddly encoded */
        if (idx < NPARAMS) {
            char *v = eq ? url_decode(eq + 1, n - kn - 1, true) : xstrdup("");
            int rc;
            if (!v) {
                char *raw = xstrndup(p, n);
                buf_t b;
                buf_init(&b);
                validation_quote(&b, raw);
                rc = apierr_set(err, APIERR_BAD_REQUEST, "invalid query string: malformed percent-encoding in %s", b.data);
                buf_free(&b);
                free(raw);
            } else {
                rc = apply_param(o, idx, k, v, &seen, err);
            }
            free(v);
            if (rc != 0) {
                free(k);
                return -1;
            }
        }
        free(k);
        p += n;
        if (*p == '&')
            p++;
    }
    return req_options_validate_list(o, err);
}

void req_options_free(req_options_t *o)
{
    free(o->continue_token);
    free(o->label_selector);
    free(o->field_selector);
    free(o->field_manager);
    o->continue_token = o->label_selector = o->field_selector = o->field_manager = NULL;
    o->rv_set = false;
    o->rv = 0;
}

static const char *rvm_name(rv_match_t m)
{
    return m == RVM_EXACT ? "Exact" : m == RVM_NOT_OLDER_THAN ? "NotOlderThan" : "";
}

int req_options_validate_list(const req_options_t *o, apierr_t *err)
{
    ferrs_t e = FERRS_INIT;
    bool has_rv = o->rv_set;
    bool has_cont = o->continue_token && *o->continue_token;
    if (o->watch) {
        /* the WatchList feature is treated as enabled (kubectl may opt in, contract §7.6) */
        if (o->send_initial_events_set && o->rv_match != RVM_NOT_OLDER_THAN)
            ferrs_add(&e, FERR_FORBIDDEN, "resourceVersionMatch", NULL,
                      "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan");
        if (o->rv_match != RVM_UNSET) {
            if (!o->send_initial_events_set)
                ferrs_add(&e, FERR_FORBIDDEN, "resourceVersionMatch", NULL,
                          "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided");
            if (o->rv_match != RVM_NOT_OLDER_THAN)
                ferrs_add(&e, FERR_NOT_SUPPORTED, "resourceVersionMatch", json_string(rvm_name(o->rv_match)),
                          "supported values: \"NotOlderThan\"");
            if (has_cont)
                ferrs_add(&e, FERR_FORBIDDEN, "resourceVersionMatch", NULL,
                          "resourceVersionMatch is forbidden when continue is provided");
        }
    } else {
        if (o->rv_match != RVM_UNSET) {
            if (!has_rv)
                ferrs_add(&e, FERR_FORBIDDEN, "resourceVersionMatch", NULL,
                          "resourceVersionMatch is forbidden unless resourceVersion is provided");
            if (has_cont)
                ferrs_add(&e, FERR_FORBIDDEN, "resourceVersionMatch", NULL,
                          "resourceVersionMatch is forbidden when continue is provided");
            if (o->rv_match == RVM_EXACT && has_rv && o->rv == 0)
                ferrs_add(&e, FERR_FORBIDDEN, "resourceVersionMatch", NULL,
                          "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"");
        }
        if (o->send_initial_events_set)
            ferrs_add(&e, FERR_FORBIDDEN, "sendInitialEvents", NULL, "sendInitialEvents is forbidden for list");
    }
    int rc = 0;
    if (e.n) {
        rc = apierr_invalid(err, "ListOptions.meta.k8s.io", "ListOptions", "meta.k8s.io", "", &e);
    } else if (!o->watch && has_cont && has_rv && o->rv != 0) {
        rc = apierr_set(err, APIERR_BAD_REQUEST, "specifying resource version is not allowed when using continue");
    }
    ferrs_free(&e);
    return rc;
}

/* ---- DeleteOptions body ---- */

static int body_type_error(apierr_t *err, const char *field, const char *go_type)
{
    return apierr_set(err, APIERR_BAD_REQUEST,
                      "json: cannot unmarshal value into Go struct field DeleteOptions.%s of type %s", field, go_type);
}

static int opt_string(json_t *obj, const char *key, const char *field, char **out, apierr_t *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return body_type_error(err, field, "string");
    *out = xstrdup(json_string_value(v));
    return 0;
}

static bool is_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return false;
    return true;
}

/* Applies the body's fields to o. Returns -1 with err set; ferrs collects 422 causes. */
static int apply_delete_json(json_t *root, req_options_t *o, char **puid, char **prv, const char **bad_prop,
                             ferrs_t *e, apierr_t *err)
{
    json_t *v = json_object_get(root, "kind");
    if (v && !json_is_null(v) && (!json_is_string(v) || (*json_string_value(v) && strcmp(json_string_value(v), "DeleteOptions"))))
        return apierr_set(err, APIERR_BAD_REQUEST, "decoded object cannot be converted to DeleteOptions");
    v = json_object_get(root, "apiVersion");
    if (v && !json_is_null(v) && !json_is_string(v))
        return body_type_error(err, "apiVersion", "string");

    v = json_object_get(root, "gracePeriodSeconds");
    if (v && !json_is_null(v)) {
        if (!json_is_integer(v))
            return body_type_error(err, "gracePeriodSeconds", "int64");
        o->grace_period_seconds = json_integer_value(v) < 0 ? 1 : json_integer_value(v);
    }

    json_t *pre = json_object_get(root, "preconditions");
    if (pre && !json_is_null(pre)) {
        if (!json_is_object(pre))
            return body_type_error(err, "preconditions", "v1.Preconditions");
        if (opt_string(pre, "uid", "preconditions.uid", puid, err) != 0 ||
            opt_string(pre, "resourceVersion", "preconditions.resourceVersion", prv, err) != 0)
            return -1;
    }

    json_t *orphan = json_object_get(root, "orphanDependents");
    json_t *prop = json_object_get(root, "propagationPolicy");
    bool has_orphan = orphan && !json_is_null(orphan), has_prop = prop && !json_is_null(prop);
    if (has_orphan && !json_is_boolean(orphan))
        return body_type_error(err, "orphanDependents", "bool");
    if (has_prop && !json_is_string(prop))
        return body_type_error(err, "propagationPolicy", "v1.DeletionPropagation");
    if (has_orphan || has_prop) {
        /* the body's choice replaces the query's (the apiserver reads one or the other) */
        o->orphan_dependents = -1;
        o->propagation = PROP_UNSET;
    }
    if (has_orphan)
        o->orphan_dependents = json_is_true(orphan);
    if (has_prop) {
        const char *p = json_string_value(prop);
        if (strcmp(p, "Orphan") == 0)
            o->propagation = PROP_ORPHAN;
        else if (strcmp(p, "Background") == 0)
            o->propagation = PROP_BACKGROUND;
        else if (strcmp(p, "Foreground") == 0)
            o->propagation = PROP_FOREGROUND;
        else {
            *bad_prop = p;
            ferrs_add(e, FERR_NOT_SUPPORTED, "propagationPolicy", json_string(p),
                      "supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\"");
        }
    }

    json_t *dry = json_object_get(root, "dryRun");
    if (dry && !json_is_null(dry)) {
        if (!json_is_array(dry))
            return body_type_error(err, "dryRun", "[]string");
        bool ok = true;
        size_t i;
        json_t *x;
        json_array_foreach(dry, i, x) {
            if (!json_is_string(x))
                return body_type_error(err, "dryRun", "string");
            ok &= strcmp(json_string_value(x), "All") == 0;
        }
        if (!ok)
            ferrs_add(e, FERR_NOT_SUPPORTED, "dryRun", json_deep_copy(dry), "supported values: \"All\"");
        else
            o->dry_run = json_array_size(dry) > 0;
    }
    return 0;
}

static const char *prop_name(propagation_t p)
{
    return p == PROP_ORPHAN ? "Orphan" : p == PROP_BACKGROUND ? "Background" : "Foreground";
}

int req_options_delete_body(const char *body, size_t len, req_options_t *o, char **precond_uid, char **precond_rv,
                            apierr_t *err)
{
    *precond_uid = *precond_rv = NULL;
    ferrs_t e = FERRS_INIT;
    json_t *root = NULL;
    const char *bad_prop = NULL; /* an unsupported body propagationPolicy (points into root) */
    int rc = 0;
    if (body && len && !is_blank(body, len)) {
        json_error_t je;
        root = json_loadb(body, len, JSON_DECODE_ANY, &je);
        if (!root) {
            rc = apierr_set(err, APIERR_BAD_REQUEST, "the DeleteOptions body is not valid JSON: %s (at offset %d)", je.text,
                            je.position);
            goto out;
        }
        if (!json_is_object(root)) {
            rc = apierr_set(err, APIERR_BAD_REQUEST, "the DeleteOptions body must be a JSON object");
            goto out;
        }
        if (apply_delete_json(root, o, precond_uid, precond_rv, &bad_prop, &e, err) != 0) {
            rc = -1;
            goto out;
        }
    }
    if (o->orphan_dependents >= 0 && (o->propagation != PROP_UNSET || bad_prop)) {
        ferrs_add(&e, FERR_INVALID, "propagationPolicy", json_string(bad_prop ? bad_prop : prop_name(o->propagation)),
                  "orphanDependents and deletionPropagation cannot be both set");
        /* ValidateDeleteOptions reports this one first */
        ferr_t last = e.items[e.n - 1];
        memmove(e.items + 1, e.items, (e.n - 1) * sizeof *e.items);
        e.items[0] = last;
    }
    if (e.n)
        rc = apierr_invalid(err, "DeleteOptions.meta.k8s.io", "DeleteOptions", "meta.k8s.io", "", &e);
out:
    if (rc != 0) {
        free(*precond_uid);
        free(*precond_rv);
        *precond_uid = *precond_rv = NULL;
    }
    ferrs_free(&e);
    json_decref(root);
    return rc;
}

/* ---- continue tokens (apiserver storage/continue.go) ---- */

char *continue_token_encode(int64_t rev, const char *start_key)
{
    json_t *tok = json_object();
    json_object_set_new(tok, "v", json_string("meta.k8s.io/v1"));
    json_object_set_new(tok, "rv", json_integer(rev));
    /* the key after the last one returned: last key + "\x00" (the terminator is that NUL) */
    json_object_set_new(tok, "start", json_stringn(start_key, strlen(start_key) + 1));
    char *js = json_dumps(tok, JSON_COMPACT | JSON_PRESERVE_ORDER);
    char *out = base64url_encode(js, strlen(js));
    free(js);
    json_decref(tok);
    return out;
}

/* path.Clean("/" + key) must not change the key: no "//", "/./", "/../", trailing "/". */
static bool key_is_clean(const char *key, size_t n)
{
    size_t off = key[0] == '/' ? 1 : 0;
    if (n == off)
        return true; /* "/" */
    if (key[n - 1] == '/')
        return false;
    size_t seg = off;
    for (size_t i = off; i <= n; i++) {
        if (i == n || key[i] == '/') {
            size_t sl = i - seg;
            if (sl == 0 || (sl == 1 && key[seg] == '.') || (sl == 2 && key[seg] == '.' && key[seg + 1] == '.'))
                return false;
            seg = i + 1;
        }
    }
    return true;
}

int continue_token_decode(const char *tok, int64_t *rev, char **start_key, apierr_t *err)
{
    *start_key = NULL;
    size_t len = 0;
    json_error_t je;
    json_t *root = NULL;
    int rc = -1;
    char *raw = base64url_decode(tok, &len);
    if (!raw || strchr(tok, '=')) {
        apierr_set(err, APIERR_BAD_REQUEST, "invalid continue token: continue key is not valid: illegal base64 data");
        goto out;
    }
    root = json_loadb(raw, len, JSON_ALLOW_NUL, &je);
    json_t *v = json_object_get(root, "v"), *jrv = json_object_get(root, "rv"), *js = json_object_get(root, "start");
    if (!root || (v && !json_is_string(v)) || (jrv && !json_is_integer(jrv)) || (js && !json_is_string(js))) {
        apierr_set(err, APIERR_BAD_REQUEST, "invalid continue token: continue key is not valid: %s",
                   root ? "unexpected field type" : je.text);
        goto out;
    }
    if (!v || strcmp(json_string_value(v), "meta.k8s.io/v1") != 0) {
        buf_t b;
        buf_init(&b);
        buf_puts(&b, v ? json_string_value(v) : "");
        apierr_set(err, APIERR_BAD_REQUEST,
                   "invalid continue token: continue key is not valid: server does not recognize this encoded version %s",
                   b.data);
        buf_free(&b);
        goto out;
    }
    json_int_t r = json_integer_value(jrv);
    if (r == 0) {
        apierr_set(err, APIERR_BAD_REQUEST, "invalid continue token: continue key is not valid: incorrect encoded start "
                                            "resourceVersion (version meta.k8s.io/v1)");
        goto out;
    }
    size_t sn = js ? json_string_length(js) : 0;
    const char *s = js ? json_string_value(js) : "";
    if (sn == 0) {
        apierr_set(err, APIERR_BAD_REQUEST,
                   "invalid continue token: continue key is not valid: encoded start key empty (version meta.k8s.io/v1)");
        goto out;
    }
    if (!key_is_clean(s, sn)) {
        apierr_set(err, APIERR_BAD_REQUEST, "invalid continue token: continue key is not valid");
        goto out;
    }
    /* the start key is last key + "\x00"; hand back the last key itself */
    size_t kn = s[sn - 1] == '\0' ? sn - 1 : sn;
    if (memchr(s, '\0', kn)) {
        apierr_set(err, APIERR_BAD_REQUEST, "invalid continue token: continue key is not valid");
        goto out;
    }
    *start_key = xstrndup(s[0] == '/' ? s + 1 : s, s[0] == '/' ? kn - 1 : kn);
    *rev = r < 0 ? 0 : r;
    rc = 0;
out:
    json_decref(root);
    free(raw);
    return rc;
}
