/* ic_decide: the import controller's decisions, pure functions of an ImageStream (output
 * form, as a GET shows it): which spec tags are importable, what a tag has observed,
 * whether the stream needs an import and the ImageStreamImport request that does it
 * (virtual-resources-and-import.md §6.1), which tags a scheduled re-check covers (§6.2),
 * which tags failed, and the registry references a stream follows (push-triggered imports).
 * Nothing here touches the store, a clock or a thread. */
#ifndef IAS_CONTROLLER_IC_DECIDE_H
#define IAS_CONTROLLER_IC_DECIDE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The annotation a stream gets from its first import (ImageStreamImport §4.7). */
#define IC_REPO_CHECK_ANNOTATION "openshift.io/image.dockerRepositoryCheck"
#define IC_INSECURE_ANNOTATION "openshift.io/image.insecureRepository"

typedef enum { IC_IMPORT_NONE, IC_IMPORT_PARTIAL, IC_IMPORT_FULL } ic_import_t;

/* from.kind DockerImage and reference false. */
bool ic_tag_importable(const json_t *spec_tag);
/* max(latest event generation, generation of the first ImportSuccess condition) of tag
 * name; 0 without a status tag. */
int64_t ic_observed_generation(const json_t *stream, const char *tag);
/* Importable and its generation (set) is newer than what it observed. */
bool ic_tag_needs_import(const json_t *stream, const json_t *spec_tag);
/* The decision of §6.1. */
ic_import_t ic_needs_import(const json_t *stream);
/* The ImageStreamImport the decision calls for (request form, new reference), or NULL
 * when nothing is to be imported. */
json_t *ic_build_request(const json_t *stream);

/* Sets the generation of each named spec tag of stream (a copy the caller owns) to
 * metadata.generation + 1, so that ic_build_request asks for it (a scheduled re-check, a
 * retry after a failure, a push). Names that are no importable tag are skipped. Returns
 * how many tags it bumped. */
size_t ic_force_tags(json_t *stream, const char *const *tags, size_t n);

/* The names of the tags a scheduled re-check imports (new array of strings): importable,
 * importPolicy.scheduled, a from.name that parses, except digest references already
 * imported (latest event generation == spec generation). */
json_t *ic_scheduled_tags(const json_t *stream);
/* The importable tags whose last import failed (an ImportSuccess=False condition), new
 * array of strings. */
json_t *ic_failed_tags(const json_t *stream);

/* A fingerprint of what the user asked for: spec.dockerImageRepository and, per spec
 * tag, its name, from, reference and importPolicy (not the generations imports bump).
 * A change means "the stream was changed": the backoff of its failures starts over. */
uint64_t ic_spec_fingerprint(const json_t *stream);

/* The registry reference key of a pull spec, as the webhook index files it:
 * "<host>/<repository>:<tag>" for a tag reference (docker.io for Docker Hub, library/ for
 * its one-part names, tag latest when none), "<host>/<repository>@" for the repository
 * alone when repo_only (digest pushes). NULL if it does not parse or has a digest and not
 * repo_only. Caller frees. */
char *ic_ref_key(const char *pull_spec, bool repo_only);
/* The same key from the parts of a registry notification (host as the registry saw it,
 * repository, tag; tag NULL or "": the repository key). Caller frees; NULL if empty. */
char *ic_ref_key_parts(const char *host, const char *repository, const char *tag);

/* One entry of a stream's index: the key and the spec tag it triggers. */
typedef struct ic_ref {
    char *key;
    char *tag;
} ic_ref_t;
/* The keys a stream is found by (the caller frees with ic_refs_free): each importable
 * tag's from.name (tag keys), and the repository of each importable tag's latest event
 * (repository keys, for pushes by digest). */
size_t ic_stream_refs(const json_t *stream, ic_ref_t **out);
void ic_refs_free(ic_ref_t *refs, size_t n);

#endif
