/* credentials: the import keyring of §5.5 (credentials.h). Entries are (key,
 * username, password) in the order they were added; a lookup walks the distinct
 * keys of a source most specific first and takes the first entry of the first
 * key that matches. */
#include "image/credentials.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/sig_int.h"
#include "util/util.h"

#define DOCKER_HUB_KEY "index.docker.io"

typedef struct cred_entry {
    char *key; /* host[:port][/path] */
    cred_source_t from;
    cred_auth_t auth;
} cred_entry_t;

struct cred_keyring {
    cred_entry_t *v;
    size_t n, cap;
};

cred_keyring_t *cred_keyring_new(void) { return xcalloc(1, sizeof(cred_keyring_t)); }

void cred_keyring_free(cred_keyring_t *kr)
{
    if (!kr)
        return;
    for (size_t i = 0; i < kr->n; i++) {
        free(kr->v[i].key);
        free((char *)kr->v[i].auth.username);
        free((char *)kr->v[i].auth.password);
    }
    free(kr->v);
    free(kr);
}

size_t cred_keyring_size(const cred_keyring_t *kr) { return kr ? kr->n : 0; }

bool cred_is_pull_secret(const json_t *secret)
{
    const char *type = json_string_value(json_object_get(secret, "type"));
    if (!type || (strcmp(type, "kubernetes.io/dockercfg") != 0 && strcmp(type, "kubernetes.io/dockerconfigjson") != 0))
        return false;
    json_t *ann = json_object_get(json_object_get(secret, "metadata"), "annotations");
    const char *ex = json_string_value(json_object_get(ann, "openshift.io/image.excludeSecret"));
    return !(ex && strcmp(ex, "true") == 0);
}

/* ---- URLs without scheme, as Go's url.Parse splits "https://" + s ---- */
typedef struct url_parts {
    const char *host; /* host[:port], userinfo removed */
    size_t host_len;
    const char *path; /* "/..." up to ? or #, or "" */
    size_t path_len;
} url_parts_t;

static void url_split(const char *s, url_parts_t *u)
{
    if (strncmp(s, "https://", 8) == 0)
        s += 8;
    else if (strncmp(s, "http://", 7) == 0)
        s += 7;
    size_t auth_end = strcspn(s, "/?#");
    const char *at = memchr(s, '@', auth_end);
    u->host = at ? at + 1 : s;
    u->host_len = (size_t)(s + auth_end - u->host);
    const char *p = s + auth_end;
    if (*p == '/') {
        u->path = p;
        u->path_len = strcspn(p, "?#");
    } else {
        u->path = "";
        u->path_len = 0;
    }
}

/* Splits host[:port] ("[::1]:5000" too): the port is what follows the last
 * colon when it is all digits, as Go's URL.Port(). */
static void host_port(const char *h, size_t n, size_t *host_len, const char **port, size_t *port_len)
{
    *host_len = n;
    *port = "";
    *port_len = 0;
    const char *colon = NULL;
    for (size_t i = n; i-- > 0;) {
        if (h[i] == ':') {
            colon = h + i;
            break;
        }
        if (h[i] < '0' || h[i] > '9')
            break;
    }
    if (!colon)
        return;
    if (h[0] == '[' && (colon == h || colon[-1] != ']'))
        return; /* a colon inside an IPv6 literal */
    *port = colon + 1;
    *port_len = n - (size_t)(colon + 1 - h);
    *host_len = (size_t)(colon - h);
    if (h[0] == '[' && *host_len >= 2) { /* Go's Hostname() drops the brackets */
        *host_len -= 1;
    }
}

static size_t count_dots(const char *s, size_t n)
{
    size_t d = 0;
    for (size_t i = 0; i < n; i++)
        d += s[i] == '.';
    return d;
}

/* Each dot component of the key's host matches the target's as a glob (Go
 * filepath.Match). */
static bool hosts_match(const char *glob, size_t gn, const char *target, size_t tn)
{
    if (count_dots(glob, gn) != count_dots(target, tn))
        return false;
    char gpart[256], tpart[256];
    size_t gi = 0, ti = 0;
    for (;;) {
        size_t gl = 0, tl = 0;
        while (gi + gl < gn && glob[gi + gl] != '.')
            gl++;
        while (ti + tl < tn && target[ti + tl] != '.')
            tl++;
        if (gl >= sizeof gpart || tl >= sizeof tpart)
            return false;
        memcpy(gpart, glob + gi, gl);
        gpart[gl] = '\0';
        memcpy(tpart, target + ti, tl);
        tpart[tl] = '\0';
        if (fnmatch(gpart, tpart, 0) != 0)
            return false;
        gi += gl + 1;
        ti += tl + 1;
        if (gi > gn)
            return true;
    }
}

static bool key_matches(const char *key, const char *target)
{
    url_parts_t k, t;
    url_split(key, &k);
    url_split(target, &t);
    size_t kh, th, kpl, tpl;
    const char *kp, *tp;
    host_port(k.host, k.host_len, &kh, &kp, &kpl);
    host_port(t.host, t.host_len, &th, &tp, &tpl);
    const char *khost = k.host + (k.host[0] == '[');
    const char *thost = t.host + (t.host[0] == '[');
    if (kpl != tpl || memcmp(kp, tp, kpl) != 0)
        return false;
    if (!hosts_match(khost, kh - (k.host[0] == '['), thost, th - (t.host[0] == '[')))
        return false;
    return k.path_len <= t.path_len && memcmp(k.path, t.path, k.path_len) == 0;
}

/* The keyring key of a config entry's name: scheme dropped, a leading /v1/ or
 * /v2/ path counted as the host alone, a bare "/" dropped. NULL: no host, the
 * entry is skipped (Go's url.Parse failing). */
static char *entry_key(const char *name)
{
    url_parts_t u;
    url_split(name, &u);
    if (u.host_len == 0)
        return NULL;
    for (size_t i = 0; i < u.host_len; i++)
        if ((unsigned char)u.host[i] <= ' ' || u.host[i] == '\\' || u.host[i] == '%')
            return NULL;
    const char *p = u.path;
    size_t pl = u.path_len;
    if (pl >= 4 && (strncmp(p, "/v1/", 4) == 0 || strncmp(p, "/v2/", 4) == 0)) {
        p += 3;
        pl -= 3;
    }
    if (pl == 1 && p[0] == '/')
        pl = 0;
    return xasprintf("%.*s%.*s", (int)u.host_len, u.host, (int)pl, p);
}

/* ---- docker config ---- */
static int decode_auth(const char *b64, char **user, char **pass)
{
    size_t n;
    unsigned char *raw = sig_b64_decode(b64, &n);
    if (!raw)
        return -1;
    char *colon = memchr(raw, ':', n);
    if (!colon || memchr(raw, '\0', n)) {
        free(raw);
        return -1;
    }
    *user = xstrndup((char *)raw, (size_t)(colon - (char *)raw));
    *pass = xstrndup(colon + 1, n - (size_t)(colon + 1 - (char *)raw));
    free(raw);
    return 0;
}

static void add_entry(cred_keyring_t *kr, cred_source_t from, char *key, char *user, char *pass)
{
    if (kr->n == kr->cap) {
        kr->cap = kr->cap ? kr->cap * 2 : 8;
        kr->v = xrealloc(kr->v, kr->cap * sizeof *kr->v);
    }
    kr->v[kr->n++] = (cred_entry_t){.key = key, .from = from, .auth = {.username = user, .password = pass}};
}

static int add_entries(cred_keyring_t *kr, cred_source_t from, json_t *auths, char *err, size_t errlen)
{
    if (!json_is_object(auths)) {
        snprintf(err, errlen,
                 "json: cannot unmarshal %s into Go value of type "
                 "credentialprovider.DockerConfig",
                 json_is_array(auths) ? "array" : "non-object");
        return -1;
    }
    /* validate every entry before adding any: a bad config adds nothing */
    const char *name;
    json_t *e;
    json_object_foreach(auths, name, e)
    {
        if (!json_is_object(e)) {
            snprintf(err, errlen,
                     "json: cannot unmarshal a non-object into Go value of type "
                     "credentialprovider.DockerConfigEntry");
            return -1;
        }
        static const char *const fields[] = {"username", "password", "auth", "email"};
        for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
            json_t *v = json_object_get(e, fields[i]);
            if (v && !json_is_string(v) && !json_is_null(v)) {
                snprintf(err, errlen,
                         "json: cannot unmarshal a non-string into Go struct field .%s "
                         "of type string",
                         fields[i]);
                return -1;
            }
        }
        const char *auth = json_string_value(json_object_get(e, "auth"));
        char *u, *p;
        if (auth && *auth) {
            if (decode_auth(auth, &u, &p) != 0) {
                snprintf(err, errlen,
                         "unable to parse auth field, must be formatted as "
                         "base64(username:password)");
                return -1;
            }
            free(u);
            free(p);
        }
    }
    json_object_foreach(auths, name, e)
    {
        char *key = entry_key(name);
        if (!key)
            continue;
        char *u = NULL, *p = NULL;
        const char *auth = json_string_value(json_object_get(e, "auth"));
        if (!(auth && *auth && decode_auth(auth, &u, &p) == 0)) {
            const char *ju = json_string_value(json_object_get(e, "username"));
            const char *jp = json_string_value(json_object_get(e, "password"));
            u = xstrdup(ju ? ju : "");
            p = xstrdup(jp ? jp : "");
        }
        add_entry(kr, from, key, u, p);
    }
    return 0;
}

typedef enum { CFG_AUTHS, CFG_BARE, CFG_EITHER } cfg_form_t;

/* CFG_AUTHS: {"auths":{...}} (.dockerconfigjson); CFG_BARE: {...} (.dockercfg);
 * CFG_EITHER: the first when it has "auths", else the second (config.json). */
static int add_config(cred_keyring_t *kr, cred_source_t from, const char *text, size_t n, cfg_form_t form, char *err,
                      size_t errlen)
{
    if (n > CRED_CONFIG_MAX) {
        snprintf(err, errlen, "docker config larger than %d bytes", CRED_CONFIG_MAX);
        return -1;
    }
    json_error_t je;
    json_t *root = json_loadb(text, n, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        /* jansson's text may quote the input ("near 'pass'"): keep only what is before */
        const char *near = strstr(je.text, " near ");
        int len = near ? (int)(near - je.text) : (int)strlen(je.text);
        snprintf(err, errlen, "invalid docker config JSON at line %d column %d: %.*s", je.line, je.column, len,
                 je.text);
        return -1;
    }
    json_t *auths = json_is_object(root) ? json_object_get(root, "auths") : NULL;
    json_t *entries = root;
    if (form == CFG_AUTHS || (form == CFG_EITHER && auths))
        entries = json_is_object(root) ? auths : root; /* a non-object root fails below */
    int rc = entries ? add_entries(kr, from, entries, err, errlen) : 0;
    json_decref(root);
    return rc;
}

int cred_keyring_add_config(cred_keyring_t *kr, cred_source_t from, const char *text, size_t n, char *err,
                            size_t errlen)
{
    return add_config(kr, from, text, n, CFG_EITHER, err, errlen);
}

int cred_keyring_add_secret(cred_keyring_t *kr, const json_t *secret, char *err, size_t errlen)
{
    if (!cred_is_pull_secret(secret))
        return 0;
    bool dcj = strcmp(json_string_value(json_object_get(secret, "type")), "kubernetes.io/dockerconfigjson") == 0;
    const char *field = dcj ? ".dockerconfigjson" : ".dockercfg";
    const char *b64 = json_string_value(json_object_get(json_object_get(secret, "data"), field));
    if (!b64)
        return 0; /* validation keeps this from being stored; nothing to add */
    size_t n;
    unsigned char *raw = sig_b64_decode(b64, &n);
    if (!raw) {
        snprintf(err, errlen, "illegal base64 data in %s", field);
        return -1;
    }
    int rc = add_config(kr, CRED_FROM_SECRETS, (const char *)raw, n, dcj ? CFG_AUTHS : CFG_BARE, err, errlen);
    free(raw);
    return rc;
}

int cred_keyring_add_file(cred_keyring_t *kr, const char *path, char *err, size_t errlen)
{
    if (!path || !*path)
        return 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "open %s: %s", path, strerror(errno));
        return -1;
    }
    char *buf = xmalloc(CRED_CONFIG_MAX + 1);
    size_t n = fread(buf, 1, CRED_CONFIG_MAX + 1, f);
    bool bad = ferror(f);
    fclose(f);
    int rc;
    if (bad) {
        snprintf(err, errlen, "read %s: I/O error", path);
        rc = -1;
    } else {
        rc = add_config(kr, CRED_FROM_NODE, buf, n, CFG_EITHER, err, errlen);
    }
    free(buf);
    return rc;
}

/* ---- lookup ---- */
/* Most specific key first (reverse lexicographic); on equal keys the first
 * added. */
static int entry_order(const void *a, const void *b)
{
    const cred_entry_t *x = *(const cred_entry_t *const *)a, *y = *(const cred_entry_t *const *)b;
    int c = strcmp(y->key, x->key);
    return c ? c : (x < y ? -1 : x > y);
}

/* Docker Hub targets: "busybox", "docker.io/x", "user/x" (first component
 * without . or :). */
static bool is_docker_hub(const char *target)
{
    size_t first = strcspn(target, "/");
    if (first == 0)
        return false;
    if (target[first] == '\0')
        return true;
    if (first == 9 && strncmp(target, "docker.io", 9) == 0)
        return true;
    return memchr(target, '.', first) == NULL && memchr(target, ':', first) == NULL;
}

static const cred_auth_t *lookup_source(const cred_keyring_t *kr, cred_source_t from, const char *target)
{
    size_t m = 0;
    const cred_entry_t **byk = xmalloc((kr->n ? kr->n : 1) * sizeof *byk);
    for (size_t i = 0; i < kr->n; i++)
        if (kr->v[i].from == from)
            byk[m++] = &kr->v[i];
    qsort(byk, m, sizeof *byk, entry_order);
    const cred_auth_t *found = NULL;
    for (size_t i = 0; i < m && !found; i++)
        if (key_matches(byk[i]->key, target))
            found = &byk[i]->auth;
    if (!found && is_docker_hub(target))
        for (size_t i = 0; i < m && !found; i++)
            if (strcmp(byk[i]->key, DOCKER_HUB_KEY) == 0)
                found = &byk[i]->auth;
    free(byk);
    return found;
}

const cred_auth_t *cred_keyring_lookup(const cred_keyring_t *kr, const char *target)
{
    if (!kr || !target)
        return NULL;
    const cred_auth_t *a = lookup_source(kr, CRED_FROM_SECRETS, target);
    return a ? a : lookup_source(kr, CRED_FROM_NODE, target);
}
