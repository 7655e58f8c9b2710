/* options: query parameters of Kubernetes requests, parsed once per request. */
#ifndef IAS_API_OPTIONS_H
#define IAS_API_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "schema/schema.h"
#include "util/apierr.h"

typedef enum { RVM_UNSET, RVM_NOT_OLDER_THAN, RVM_EXACT } rv_match_t;
typedef enum { INCLUDE_METADATA, INCLUDE_OBJECT, INCLUDE_NONE } include_object_t;
typedef enum { PROP_UNSET, PROP_BACKGROUND, PROP_FOREGROUND, PROP_ORPHAN } propagation_t;

typedef struct req_options {
    bool pretty;
    int64_t limit;                 /* 0 = no limit */
    char *continue_token;          /* NULL if absent */
    char *label_selector;          /* NULL if absent */
    char *field_selector;          /* NULL if absent */
    char *resource_version;        /* NULL if absent */
    rv_match_t rv_match;
    bool watch;
    bool allow_watch_bookmarks;
    bool send_initial_events;
    int64_t timeout_seconds;       /* 0 = none */
    bool dry_run;                  /* dryRun=All */
    field_validation_t field_validation; /* default Strict?? see options.c: default Warn per k8s (kubectl sends Strict) */
    bool field_validation_set;
    char *field_manager;           /* NULL if absent */
    bool force;
    int64_t grace_period_seconds;  /* -1 = unset */
    propagation_t propagation;
    int orphan_dependents;         /* -1 unset, 0 false, 1 true */
    include_object_t include_object;
} req_options_t;

/* Parses a raw query string ("a=b&c=d", %-encoded, '+' = space). Unknown parameters are
 * ignored (timeout=32s included). Invalid values -> 400 BadRequest naming the parameter:
 * limit (not an integer >= 0), watch/pretty/... booleans (Go ParseBool), dryRun (only "All"),
 * fieldValidation (Ignore|Warn|Strict), resourceVersionMatch (NotOlderThan|Exact),
 * propagationPolicy, includeObject, timeoutSeconds, gracePeriodSeconds. Repeated parameters:
 * the first wins. */
int req_options_parse(const char *query, req_options_t *o, apierr_t *err);
void req_options_free(req_options_t *o);

/* Applies a DeleteOptions body (JSON; may be empty): dryRun ["All"], gracePeriodSeconds,
 * propagationPolicy, orphanDependents, preconditions {uid, resourceVersion}.
 * Body values override query values. Both orphanDependents and propagationPolicy ->
 * 422 Invalid ("Using both orphanDependents and propagationPolicy is not supported").
 * precond_uid / precond_rv receive malloc'ed strings or NULL. */
int req_options_delete_body(const char *body, size_t len, req_options_t *o, char **precond_uid,
                            char **precond_rv, apierr_t *err);

/* Continue tokens: unpadded base64url of {"v":"meta.k8s.io/v1","rv":<rev>,"start":"<key suffix>\u0000"}.
 * decode: 400 BadRequest for a malformed token. */
char *continue_token_encode(int64_t rev, const char *start_key);
int continue_token_decode(const char *tok, int64_t *rev, char **start_key, apierr_t *err);

#endif
