/* dockerImageMetadata codec (§1.3). The wire value is a raw embedded object that the
 * reference re-encodes on every output: version "1.0" uses capitalised keys, "pre012" the
 * legacy lower-case keys. Internally we keep one shape (the 1.0 keys, no kind/apiVersion),
 * with DockerConfig reduced to its whitelisted keys and times at whole seconds. */
#include "image/image_int.h"
#include "util/util.h"

#include <string.h>

typedef enum { T_STR, T_INT, T_BOOL, T_STRS, T_SET, T_MAP } ctype_t;

static const struct {
    const char *key;
    ctype_t type;
} config_keys[] = {
    {"Hostname", T_STR}, {"Domainname", T_STR}, {"User", T_STR}, {"Memory", T_INT},
    {"MemorySwap", T_INT}, {"CpuShares", T_INT}, {"Cpuset", T_STR}, {"AttachStdin", T_BOOL},
    {"AttachStdout", T_BOOL}, {"AttachStderr", T_BOOL}, {"PortSpecs", T_STRS}, {"ExposedPorts", T_SET},
    {"Tty", T_BOOL}, {"OpenStdin", T_BOOL}, {"StdinOnce", T_BOOL}, {"Env", T_STRS}, {"Cmd", T_STRS},
    {"Dns", T_STRS}, {"Image", T_STR}, {"Volumes", T_SET}, {"VolumesFrom", T_STR}, {"WorkingDir", T_STR},
    {"Entrypoint", T_STRS}, {"NetworkDisabled", T_BOOL}, {"SecurityOpts", T_STRS}, {"OnBuild", T_STRS},
    {"Labels", T_MAP},
};

/* Converts one value to the Go field type; NULL when of the wrong type or empty (omitempty). */
static json_t *config_value(const json_t *v, ctype_t t)
{
    size_t i;
    const char *k;
    json_t *x, *out = NULL;
    switch (t) {
    case T_STR:
        return json_is_string(v) && json_string_length(v) ? json_incref((json_t *)v) : NULL;
    case T_INT:
        return json_is_integer(v) && json_integer_value(v) ? json_incref((json_t *)v) : NULL;
    case T_BOOL:
        return json_is_true(v) ? json_true() : NULL;
    case T_STRS:
        if (!json_is_array(v) || !json_array_size(v))
            return NULL;
        out = json_array();
        json_array_foreach(v, i, x) json_array_append_new(out, json_string(json_is_string(x) ? json_string_value(x) : ""));
        return out;
    case T_SET:
        if (!json_is_object(v) || !json_object_size(v))
            return NULL;
        out = json_object();
        json_object_foreach((json_t *)v, k, x) json_object_set_new(out, k, json_object());
        return out;
    case T_MAP:
        if (!json_is_object(v) || !json_object_size(v))
            return NULL;
        out = json_object();
        json_object_foreach((json_t *)v, k, x) json_object_set_new(out, k, json_string(json_is_string(x) ? json_string_value(x) : ""));
        return out;
    }
    return NULL;
}

json_t *dmeta_config(const json_t *src, bool ci)
{
    json_t *out = json_object();
    if (!json_is_object(src))
        return out;
    for (size_t i = 0; i < sizeof config_keys / sizeof *config_keys; i++) {
        json_t *v = ci ? ij_ci_get(src, config_keys[i].key) : json_object_get(src, config_keys[i].key);
        json_t *c = v ? config_value(v, config_keys[i].type) : NULL;
        if (c)
            json_object_set_new(out, config_keys[i].key, c);
    }
    return out;
}

/* Key names per version, in wire order. */
static const char *const keys10[] = {"Id", "Parent", "Comment", "Created", "Container", "ContainerConfig",
                                     "DockerVersion", "Author", "Config", "Architecture", "Size"};
static const char *const keys012[] = {"id", "parent", "comment", "created", "container", "container_config",
                                      "docker_version", "author", "config", "architecture", "size"};
enum { K_ID, K_PARENT, K_COMMENT, K_CREATED, K_CONTAINER, K_CCONFIG, K_DVERSION, K_AUTHOR, K_CONFIG, K_ARCH, K_SIZE, K_N };

static bool is_pre012(const char *version) { return version && !strcmp(version, "pre012"); }

/* Shared decoder: exact keys from `names` (ci=false, API bodies) or case-insensitive. */
static json_t *decode_keys(const json_t *src, const char *const *names, bool ci)
{
    json_t *m = json_object();
    for (int k = 0; k < K_N; k++) {
        json_t *v = ci ? ij_ci_get(src, names[k]) : json_object_get(src, names[k]);
        switch (k) {
        case K_CREATED:
            json_object_set_new(m, keys10[k], ij_time(v));
            break;
        case K_CCONFIG:
            json_object_set_new(m, keys10[k], dmeta_config(v, ci));
            break;
        case K_CONFIG:
            if (json_is_object(v))
                json_object_set_new(m, keys10[k], dmeta_config(v, ci));
            break;
        case K_SIZE:
            if (json_is_integer(v) && json_integer_value(v))
                json_object_set(m, keys10[k], v);
            break;
        default:
            json_object_set_new(m, keys10[k], json_string(json_is_string(v) ? json_string_value(v) : ""));
        }
    }
    return m;
}

json_t *dmeta_decode(const json_t *wire, const char *version)
{
    return decode_keys(json_is_object(wire) ? wire : NULL, is_pre012(version) ? keys012 : keys10, false);
}

json_t *dmeta_encode(const json_t *m, const char *version)
{
    bool old = is_pre012(version);
    const char *const *names = old ? keys012 : keys10;
    json_t *out = json_object();
    json_object_set_new(out, "kind", json_string("DockerImage"));
    json_object_set_new(out, "apiVersion", json_string(old ? "image.openshift.io/pre012" : "image.openshift.io/1.0"));
    for (int k = 0; k < K_N; k++) {
        json_t *v = json_object_get(m, keys10[k]);
        switch (k) {
        case K_ID:
            json_object_set_new(out, names[k], json_string(json_is_string(v) ? json_string_value(v) : ""));
            break;
        case K_CREATED:
            json_object_set_new(out, names[k], ij_time(v));
            break;
        case K_CCONFIG:
            json_object_set_new(out, names[k], json_is_object(v) ? json_incref(v) : json_object());
            break;
        case K_CONFIG:
            if (json_is_object(v))
                json_object_set(out, names[k], v);
            break;
        default:
            if (ij_nonempty(v))
                json_object_set(out, names[k], v);
        }
    }
    return out;
}

void dmeta_from_config(json_t *m, const json_t *cfg, bool with_id)
{
    json_t *d = decode_keys(cfg, keys012, true);
    for (int k = with_id ? K_ID : K_PARENT; k < K_N; k++) {
        if (k == K_SIZE)
            continue;
        json_t *v = json_object_get(d, keys10[k]);
        if (v)
            json_object_set(m, keys10[k], v);
        else
            json_object_del(m, keys10[k]);
    }
    json_decref(d);
}
