/* credentials: the keyring an import uses to log in to registries
 * (virtual-resources-and- import.md §5.5). Pure: it reads what it is given
 * (pull Secrets of the namespace, a
 * ~/.docker/config.json text) and answers "which username/password for this
 * target"; it does no I/O except cred_keyring_add_file, and never logs a
 * credential.
 *
 * How the registry client (src/importer/) uses it, once per ImageStreamImport
 * request: cred_keyring_t *kr = cred_keyring_new(); for each Secret of the
 * namespace (cred_is_pull_secret filters them, in list order):
 *       cred_keyring_add_secret(kr, secret, err, sizeof err)   -1: the
 * request's every image fails with "Internal error occurred: <ref>: <err>"
 * (§5.5) cred_keyring_add_file(kr, cfg->registry_auth_file, ...)   the node
 * credentials, after const cred_auth_t *a = cred_keyring_lookup(kr,
 * "docker.io/library/busybox:latest"); The target is the defaulted reference of
 * the repository actually contacted: a mirror's own name when pulling from a
 * mirror. A token realm on another host (auth.example.com for quay.io) gets the
 * credentials looked up for the registry that sent the 401 challenge, never a
 * lookup of the realm's host.
 *
 * --registry-auth-file is read per import (cred_keyring_add_file each request):
 * a changed file applies to the next import without a restart or a signal. */
#ifndef IAS_IMAGE_CREDENTIALS_H
#define IAS_IMAGE_CREDENTIALS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Bound of one docker config text (a Secret is at most 1 MiB). */
#define CRED_CONFIG_MAX (1024 * 1024)

typedef struct cred_keyring cred_keyring_t;

typedef struct cred_auth {
    const char *username; /* "" if none */
    const char *password; /* "" if none */
} cred_auth_t;

/* Where a config comes from: secrets are tried before the node's file. */
typedef enum { CRED_FROM_SECRETS = 0, CRED_FROM_NODE = 1 } cred_source_t;

cred_keyring_t *cred_keyring_new(void);
void cred_keyring_free(cred_keyring_t *kr);

/* A Secret (output form) the import may use: type kubernetes.io/dockercfg or
 * kubernetes.io/dockerconfigjson, and not annotated
 * openshift.io/image.excludeSecret: "true". Also the filter of the
 * imagestreams/<name>/secrets subresource (§3.12). */
bool cred_is_pull_secret(const json_t *secret);

/* Adds a pull secret's entries (data[".dockercfg"] or
 * data[".dockerconfigjson"], base64 as stored). A secret that is not a pull
 * secret adds nothing (0). -1 with err filled (no secret value in it) when the
 * data is not base64 or not a docker config. */
int cred_keyring_add_secret(cred_keyring_t *kr, const json_t *secret, char *err, size_t errlen);

/* Adds a docker config text: {"auths":{KEY:ENTRY}} (config.json,
 * .dockerconfigjson) or {KEY:ENTRY} (.dockercfg); ENTRY = {username, password,
 * auth: base64("user:pass")}, auth winning over username/password. -1 with err
 * filled when it does not parse. */
int cred_keyring_add_config(cred_keyring_t *kr, cred_source_t from, const char *text, size_t n, char *err,
                            size_t errlen);

/* Reads a config.json file (at most CRED_CONFIG_MAX bytes) as the node's
 * credentials. path NULL or "" adds nothing. -1 with err filled when it cannot
 * be read or parsed. */
int cred_keyring_add_file(cred_keyring_t *kr, const char *path, char *err, size_t errlen);

/* The credentials for target (a reference without scheme:
 * "quay.io/ns/repo:tag", "localhost:5000/a@sha256:..."), or NULL: anonymous.
 * Rules of §5.5: keys are matched most specific first (reverse lexicographic),
 * equal ports, same number of host components each matching as a glob, key path
 * a string prefix of the target's path; secrets before node credentials; Docker
 * Hub targets fall back to a key "index.docker.io". The pointers live as long
 * as kr. */
const cred_auth_t *cred_keyring_lookup(const cred_keyring_t *kr, const char *target);

/* Number of entries (tests). */
size_t cred_keyring_size(const cred_keyring_t *kr);

#endif
