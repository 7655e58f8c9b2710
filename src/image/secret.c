/* secret: core v1 Secret strategy (secret.h), as Kubernetes' pkg/apis/core/validation. */
#include "image/secret.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "image/sig_int.h"
#include "util/util.h"

#define T_DOCKERCFG "kubernetes.io/dockercfg"
#define T_DOCKERCONFIGJSON "kubernetes.io/dockerconfigjson"
#define REDACTED "<secret contents redacted>"

void secret_normalize(json_t *o)
{
    const char *type = json_string_value(json_object_get(o, "type"));
    if (!type || !*type)
        json_object_set_new(o, "type", json_string("Opaque"));
    json_t *sd = json_object_get(o, "stringData");
    if (json_is_object(sd) && json_object_size(sd)) {
        json_t *data = json_object_get(o, "data");
        if (!json_is_object(data)) {
            data = json_object();
            json_object_set_new(o, "data", data);
        }
        const char *k;
        json_t *v;
        json_object_foreach(sd, k, v) {
            const char *s = json_string_value(v);
            char *b64 = sig_b64_encode((const unsigned char *)(s ? s : ""), s ? strlen(s) : 0);
            json_object_set_new(data, k, json_string(b64));
            free(b64);
        }
    }
    json_object_del(o, "stringData");
    json_t *data = json_object_get(o, "data");
    if (json_is_object(data) && json_object_size(data) == 0)
        json_object_del(o, "data");
}

/* IsConfigMapKey: [-._a-zA-Z0-9]+, at most 253, not "." or "..", not starting "..". */
static void validate_key(const char *key, ferrs_t *e)
{
    char field[300];
    snprintf(field, sizeof field, "data[%.280s]", key);
    size_t n = strlen(key);
    bool ok = n > 0;
    for (size_t i = 0; i < n && ok; i++) {
        char ch = key[i];
        ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
             ch == '_' || ch == '.';
    }
    if (!ok)
        ferrs_add(e, FERR_INVALID, field, json_string(key),
                  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  "
                  "or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')");
    if (n > 253)
        ferrs_add(e, FERR_INVALID, field, json_string(key), "must be no more than 253 characters");
    if (strcmp(key, ".") == 0)
        ferrs_add(e, FERR_INVALID, field, json_string(key), "must not be '.'");
    else if (strcmp(key, "..") == 0)
        ferrs_add(e, FERR_INVALID, field, json_string(key), "must not be '..'");
    else if (strncmp(key, "..", 2) == 0)
        ferrs_add(e, FERR_INVALID, field, json_string(key), "must not start with '..'");
}

static bool has_key(const json_t *data, const char *key) { return json_object_get(data, key) != NULL; }

static void require(const json_t *data, const char *key, ferrs_t *e)
{
    if (!has_key(data, key)) {
        char field[64];
        snprintf(field, sizeof field, "data[%s]", key);
        ferrs_add(e, FERR_REQUIRED, field, NULL, NULL);
    }
}

/* data[key] decodes to a JSON object (the docker config map); errors never show the value. */
static void require_json(const json_t *data, const char *key, bool auths, ferrs_t *e)
{
    char field[64];
    snprintf(field, sizeof field, "data[%s]", key);
    const char *b64 = json_string_value(json_object_get(data, key));
    if (!b64) {
        ferrs_add(e, FERR_REQUIRED, field, NULL, NULL);
        return;
    }
    size_t n;
    unsigned char *raw = sig_b64_decode(b64, &n);
    json_error_t je;
    json_t *v = raw ? json_loadb((const char *)raw, n, 0, &je) : NULL;
    free(raw);
    if (!v) {
        ferrs_add(e, FERR_INVALID, field, json_string(REDACTED), "%s",
                  raw ? "invalid JSON in docker config" : "illegal base64 data");
    } else if (!json_is_object(v) || (auths && json_object_get(v, "auths") && !json_is_object(json_object_get(v, "auths")))) {
        ferrs_add(e, FERR_INVALID, field, json_string(REDACTED),
                  "json: cannot unmarshal %s into Go value of type credentialprovider.DockerConfig%s",
                  json_is_object(v) ? "non-object auths" : "non-object", auths ? "JSON" : "");
    }
    json_decref(v);
}

void secret_validate(const json_t *o, const json_t *old, ferrs_t *e)
{
    const json_t *data = json_object_get(o, "data");
    const char *key;
    json_t *v;
    size_t total = 0;
    json_object_foreach((json_t *)data, key, v) {
        validate_key(key, e);
        const char *s = json_string_value(v);
        size_t len = s ? strlen(s) : 0;
        total += len / 4 * 3;   /* decoded size, padding aside */
    }
    if (total > SECRET_MAX_SIZE)
        ferrs_add(e, FERR_TOO_LONG, "data", NULL, "must have at most %d bytes", SECRET_MAX_SIZE);
    const char *type = json_string_value(json_object_get(o, "type"));
    type = type ? type : "Opaque";
    if (strcmp(type, T_DOCKERCFG) == 0) {
        require_json(data, ".dockercfg", false, e);
    } else if (strcmp(type, T_DOCKERCONFIGJSON) == 0) {
        require_json(data, ".dockerconfigjson", true, e);
    } else if (strcmp(type, "kubernetes.io/basic-auth") == 0) {
        if (!has_key(data, "username") && !has_key(data, "password")) {
            require(data, "username", e);
            require(data, "password", e);
        }
    } else if (strcmp(type, "kubernetes.io/ssh-auth") == 0) {
        require(data, "ssh-privatekey", e);
    } else if (strcmp(type, "kubernetes.io/tls") == 0) {
        require(data, "tls.key", e);
        require(data, "tls.crt", e);
    } else if (strcmp(type, "kubernetes.io/service-account-token") == 0) {
        json_t *ann = json_object_get(json_object_get(o, "metadata"), "annotations");
        const char *sa = json_string_value(json_object_get(ann, "kubernetes.io/service-account.name"));
        if (!sa || !*sa)
            ferrs_add(e, FERR_REQUIRED, "metadata.annotations[kubernetes.io/service-account.name]", NULL, NULL);
    }
    if (!old)
        return;
    const char *otype = json_string_value(json_object_get(old, "type"));
    if (otype && strcmp(otype, type) != 0)
        ferrs_add(e, FERR_INVALID, "type", json_string(type), "field is immutable");
    if (json_is_true(json_object_get(old, "immutable"))) {
        if (!json_is_true(json_object_get(o, "immutable")))
            ferrs_add(e, FERR_FORBIDDEN, "immutable", NULL, "field is immutable when `immutable` is set");
        json_t *od = json_object_get(old, "data");
        bool same = (!data && !od) || (data && od && json_equal((json_t *)data, od)) ||
                    (!data && json_object_size(od) == 0) || (!od && json_object_size(data) == 0);
        if (!same)
            ferrs_add(e, FERR_FORBIDDEN, "data", NULL, "field is immutable when `immutable` is set");
    }
}
