/* sig_parse: the pure half of reading a signature's content: a first look at the bytes,
 * the strict parser of the atomic payload, and the fields and conditions a gpg report
 * gives the signature (docs/signatures.md lists the conditions). No I/O. */
#include <stdlib.h>
#include <string.h>

#include "image/image_int.h"
#include "image/sig_int.h"
#include "util/util.h"

void sig_report_free(sig_report_t *r)
{
    if (!r)
        return;
    free(r->why);
    free(r->key_id);
    free(r->signer);
    free(r->plaintext);
    memset(r, 0, sizeof *r);
}

/* ---- first look ---- */
bool sig_openpgp_sniff(const unsigned char *p, size_t n)
{
    static const char armor[] = "-----BEGIN PGP ";
    if (n >= sizeof armor - 1 && memcmp(p, armor, sizeof armor - 1) == 0)
        return true;
    if (n < 2 || !(p[0] & 0x80))
        return false;
    /* RFC 4880 §4.2: new format (bit 6) has a 6-bit tag, old format a 4-bit one */
    unsigned tag = (p[0] & 0x40) ? (p[0] & 0x3f) : ((p[0] >> 2) & 0x0f);
    return tag == 2 || tag == 4 || tag == 8 || tag == 10 || tag == 11;
}

/* ---- the atomic payload ---- */
static int fail(char **why, const char *msg)
{
    *why = xstrdup(msg);
    return -1;
}

/* Every key of o is one of the NULL-terminated allowed list. */
static bool only_keys(const json_t *o, const char *const *allowed)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v) {
        bool ok = false;
        for (size_t i = 0; allowed[i] && !ok; i++)
            ok = strcmp(k, allowed[i]) == 0;
        if (!ok)
            return false;
    }
    return true;
}

/* A non-empty string member of an object that has exactly that one key. */
static const char *single_string(const json_t *o, const char *key)
{
    if (!json_is_object(o) || json_object_size(o) != 1)
        return NULL;
    const char *s = json_string_value(json_object_get(o, key));
    return s && *s ? s : NULL;
}

int sig_payload_parse(const char *p, size_t n, sig_payload_t *out, char **why)
{
    memset(out, 0, sizeof *out);
    *why = NULL;
    json_error_t jerr;
    json_t *doc = json_loadb(p, n, JSON_REJECT_DUPLICATES, &jerr);
    int rc = -1;
    if (!doc) {
        fail(why, "the signed content is not JSON");
        goto out;
    }
    static const char *const top_keys[] = {"critical", "optional", NULL};
    static const char *const critical_keys[] = {"type", "image", "identity", NULL};
    json_t *critical = json_object_get(doc, "critical"), *optional = json_object_get(doc, "optional");
    if (!json_is_object(doc) || !only_keys(doc, top_keys) || !json_is_object(critical)) {
        fail(why, "the signed JSON is not an atomic container signature (want \"critical\" and \"optional\")");
        goto out;
    }
    if (!only_keys(critical, critical_keys)) {
        fail(why, "the signature has an unknown critical field");
        goto out;
    }
    const char *type = json_string_value(json_object_get(critical, "type"));
    if (!type || strcmp(type, "atomic container signature") != 0) {
        fail(why, "critical.type is not \"atomic container signature\"");
        goto out;
    }
    const char *digest = single_string(json_object_get(critical, "image"), "docker-manifest-digest");
    if (!digest) {
        fail(why, "critical.image must hold exactly docker-manifest-digest, a string");
        goto out;
    }
    if (!digest_valid(digest)) {
        fail(why, "critical.image.docker-manifest-digest is not a valid digest");
        goto out;
    }
    const char *ref = single_string(json_object_get(critical, "identity"), "docker-reference");
    if (!ref) {
        fail(why, "critical.identity must hold exactly docker-reference, a string");
        goto out;
    }
    if (optional && !json_is_null(optional)) {
        json_t *creator = json_object_get(optional, "creator"), *ts = json_object_get(optional, "timestamp");
        if (!json_is_object(optional) || (creator && !json_is_string(creator)) || (ts && !json_is_integer(ts))) {
            fail(why, "optional must be an object with a string creator and an integer timestamp");
            goto out;
        }
        out->creator = xstrdup(json_string_value(creator));
        out->timestamp = ts ? json_integer_value(ts) : 0;
    }
    out->manifest_digest = xstrdup(digest);
    out->docker_reference = xstrdup(ref);
    rc = 0;
out:
    json_decref(doc);
    return rc;
}

void sig_payload_free(sig_payload_t *p)
{
    free(p->docker_reference);
    free(p->manifest_digest);
    free(p->creator);
    memset(p, 0, sizeof *p);
}

/* ---- fields and conditions ---- */
/* A JSON string that is never NULL: text that is not UTF-8 (it cannot come from the
 * server's own sources, which are checked, but a report is data) is replaced. */
static json_t *jstr(const char *s)
{
    json_t *v = json_string(s ? s : "");
    return v ? v : json_string("(not UTF-8)");
}

static void add_condition(json_t *sig, const char *type, const char *status, const char *reason, const char *msg,
                          const char *now)
{
    json_t *conds = json_object_get(sig, "conditions");
    if (!json_is_array(conds)) {
        conds = json_array();
        json_object_set_new(sig, "conditions", conds);
    }
    json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", type, "status", status, "lastProbeTime", now,
                          "lastTransitionTime", now, "reason", reason);
    json_object_set_new(c, "message", jstr(msg));
    json_array_append_new(conds, c);
}

static void pair(json_t *sig, const char *status, const char *reason, const char *msg, const char *now)
{
    add_condition(sig, "Trusted", status, reason, msg, now);
    add_condition(sig, "ForImage", status, reason, msg, now);
}

/* The 64 low bits of the key's fingerprint as the API documents publicKeyID
 * ("0x685ebe62bf278440"); the id as reported when it is not hex. */
static char *public_key_id(const char *key_id)
{
    size_t n = strlen(key_id);
    if (n < 16 || strspn(key_id, "0123456789abcdefABCDEF") != n)
        return xstrdup(key_id);
    char *s = xasprintf("0x%s", key_id + n - 16);
    for (char *c = s + 2; *c; c++)
        if (*c >= 'A' && *c <= 'F')
            *c = (char)(*c - 'A' + 'a');
    return s;
}

static const char *const trust_reasons[] = {
    [SIGV_VERIFIED] = "Verified", [SIGV_NO_KEYRING] = "NoKeyring", [SIGV_UNKNOWN_KEY] = "UnknownKey",
    [SIGV_BAD] = "BadSignature", [SIGV_KEY_EXPIRED] = "KeyExpired", [SIGV_KEY_REVOKED] = "KeyRevoked",
    [SIGV_SIG_EXPIRED] = "SignatureExpired", [SIGV_ERROR] = "VerificationFailed",
};

static char *trust_message(const sig_report_t *r, const char *key)
{
    /* "Name <mail> (key 0x...)" when the key is in the keyring, else "key 0x..." */
    char *by = r->signer ? xasprintf("%s (key %s)", r->signer, key) : xasprintf("key %s", key), *m;
    switch (r->verdict) {
    case SIGV_VERIFIED: m = xasprintf("verified: a good signature by %s of the server's signature keyring", by); break;
    case SIGV_NO_KEYRING: m = xasprintf("not verified: the server has no signature keyring (signed by %s)", by); break;
    case SIGV_UNKNOWN_KEY: m = xasprintf("not verified: %s is not in the server's signature keyring", by); break;
    case SIGV_BAD: m = xasprintf("not verified: the signature by %s does not match the signed content", by); break;
    case SIGV_KEY_EXPIRED: m = xasprintf("not verified: %s has expired", by); break;
    case SIGV_KEY_REVOKED: m = xasprintf("not verified: %s has been revoked", by); break;
    case SIGV_SIG_EXPIRED: m = xasprintf("not verified: the signature by %s has expired", by); break;
    default: m = xasprintf("not verified: %s (signed by %s)", r->why ? r->why : "unknown error", by); break;
    }
    free(by);
    return m;
}

void sig_clear_server_fields(json_t *sig)
{
    static const char *const fields[] = {"conditions", "imageIdentity", "signedClaims", "created", "issuedBy", "issuedTo"};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        json_object_del(sig, fields[i]);
}

static void describe_signed(json_t *sig, const sig_report_t *r, const sig_payload_t *pl, const char *image_name,
                            const char *now)
{
    char *key = public_key_id(r->key_id ? r->key_id : "");
    json_object_set_new(sig, "imageIdentity", jstr(pl->docker_reference));
    json_t *claims = json_object();
    json_object_set_new(claims, "docker-manifest-digest", jstr(pl->manifest_digest));
    json_object_set_new(sig, "signedClaims", claims);
    int64_t created = r->created > 0 ? r->created : pl->timestamp;
    if (created > 0) {
        char t[21];
        time_rfc3339((time_t)created, t);
        json_object_set_new(sig, "created", json_string(t));
    }
    json_t *by = json_object(), *to = json_object();
    json_object_set_new(by, "commonName", jstr(r->signer ? r->signer : key));
    json_object_set_new(sig, "issuedBy", by);
    json_object_set_new(to, "publicKeyID", jstr(key));
    if (r->signer)
        json_object_set_new(to, "commonName", jstr(r->signer));
    json_object_set_new(sig, "issuedTo", to);

    sig_verdict_t v = r->verdict <= SIGV_ERROR ? r->verdict : SIGV_ERROR;
    char *tmsg = trust_message(r, key);
    add_condition(sig, "Trusted", v == SIGV_VERIFIED ? "True" : "False", trust_reasons[v], tmsg, now);
    free(tmsg);
    bool match = strcmp(pl->manifest_digest, image_name) == 0;
    char *fmsg = match ? xasprintf("the signed manifest digest %s matches the image", pl->manifest_digest)
                       : xasprintf("the signed manifest digest %s does not match the image %s", pl->manifest_digest,
                                   image_name);
    add_condition(sig, "ForImage", match ? "True" : "False", match ? "DigestMatches" : "DigestMismatch", fmsg, now);
    free(fmsg);
    free(key);
}

void sig_describe(json_t *sig, const sig_report_t *r, const char *image_name, const char *now)
{
    sig_clear_server_fields(sig);
    const char *why = r->why ? r->why : "unknown reason";
    if (r->outcome == SIG_UNREAD) {
        char *msg = xasprintf("the content was not read: %s", why);
        pair(sig, "Unknown", "NotRead", msg, now);
        free(msg);
        return;
    }
    if (r->outcome == SIG_NOT_SIGNED) {
        char *msg = xasprintf("the content is not a signature: %s", why);
        pair(sig, "False", "NotASignature", msg, now);
        free(msg);
        return;
    }
    sig_payload_t pl;
    char *perr = NULL;
    if (sig_payload_parse(r->plaintext ? r->plaintext : "", r->plaintext ? r->plain_len : 0, &pl, &perr) != 0) {
        char *key = public_key_id(r->key_id ? r->key_id : "");
        char *msg = xasprintf("the content is not an atomic container signature (an OpenPGP message signed by key "
                              "%s): %s", key, perr);
        pair(sig, "False", "NotASignature", msg, now);
        free(msg);
        free(key);
        free(perr);
        return;
    }
    describe_signed(sig, r, &pl, image_name ? image_name : "", now);
    sig_payload_free(&pl);
}

/* ---- base64 ---- */
static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

unsigned char *sig_b64_decode(const char *s, size_t *n)
{
    size_t len = strlen(s);
    unsigned char *out = xmalloc(len / 4 * 3 + 4);
    size_t o = 0;
    int quad[4], q = 0, pad = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\r' || c == '\n')
            continue;
        int v;
        if (c == '=') {
            if (q < 2)
                goto bad;
            v = 0;
            pad++;
        } else {
            if (pad || (v = b64_value(c)) < 0)
                goto bad;
        }
        quad[q++] = v;
        if (q == 4) {
            out[o++] = (unsigned char)(quad[0] << 2 | quad[1] >> 4);
            if (pad < 2)
                out[o++] = (unsigned char)(quad[1] << 4 | quad[2] >> 2);
            if (pad < 1)
                out[o++] = (unsigned char)(quad[2] << 6 | quad[3]);
            q = 0;
            if (pad)
                pad = 3;   /* nothing may follow a padded group */
        }
    }
    if (q != 0)
        goto bad;
    out[o] = '\0';
    *n = o;
    return out;
bad:
    free(out);
    return NULL;
}

char *sig_b64_encode(const unsigned char *p, size_t n)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = xmalloc((n + 2) / 3 * 4 + 1), *w = out;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        *w++ = al[v >> 18 & 63];
        *w++ = al[v >> 12 & 63];
        *w++ = i + 1 < n ? al[v >> 6 & 63] : '=';
        *w++ = i + 2 < n ? al[v & 63] : '=';
    }
    *w = '\0';
    return out;
}
