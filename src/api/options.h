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
    bool rv_set;                   /* resourceVersion given (and not empty) */
    int64_t rv;                    /* its value: 0 = any ("0"); N = not older than / exactly N
                                      (above INT64_MAX: INT64_MAX, newer than any store) */
    rv_match_t rv_match;
    bool watch;
    bool allow_watch_bookmarks;
    bool send_initial_events;
    int64_t timeout_seconds;       /* 0 = none */
    bool dry_run;                  /* dryRun=All */
    field_validation_t field_validation; /* default Warn, as Kubernetes (kubectl sends Strict) */
    bool field_validation_set;
    char *field_manager;           /* NULL if absent */
    bool force;
    int64_t grace_period_seconds;  /* -1 = unset */
    propagation_t propagation;
    int orphan_dependents;         /* -1 unset, 0 false, 1 true */
    include_object_t include_object;
    bool send_initial_events_set;  /* sendInitialEvents present (ListOptions validation) */
} req_options_t;

/* Parses a raw query string ("a=b&c=d", %-encoded, '+' = space) into o, which is overwritten
 * (defaults: fieldValidation Warn, gracePeriodSeconds -1, orphanDependents -1, includeObject
 * Metadata). Unknown parameters are ignored (timeout=32s included). Invalid values -> 400
 * BadRequest naming the parameter ("limit: Invalid value: \"x\": must be an integer"):
 * limit (not an integer >= 0), watch/allowWatchBookmarks/sendInitialEvents/force/
 * orphanDependents (Go ParseBool), dryRun (only "All"; may repeat), fieldValidation
 * (Ignore|Warn|Strict, case-sensitive), resourceVersionMatch (NotOlderThan|Exact),
 * resourceVersion (decimal), propagationPolicy, includeObject, timeoutSeconds,
 * gracePeriodSeconds (negative -> 1, as on the apiserver's delete path), fieldManager
 * (<= 128 printable bytes), a malformed %-escape in a known parameter. pretty is lenient like
 * the apiserver (unparsable = false). Repeated parameters: the first wins. Then runs
 * req_options_validate_list. */
int req_options_parse(const char *query, req_options_t *o, apierr_t *err);
/* Kubernetes' ValidateListOptions (watch-list enabled) plus the storage rule "specifying
 * resource version is not allowed when using continue"; 422 ListOptions.meta.k8s.io / 400.
 * req_options_parse already calls it with o->watch as parsed; call again after setting
 * o->watch from a /watch/ path. */
int req_options_validate_list(const req_options_t *o, apierr_t *err);
void req_options_free(req_options_t *o);

/* Applies a DeleteOptions body (JSON; may be empty/blank, "{}", may carry kind/apiVersion):
 * dryRun ["All"], gracePeriodSeconds, propagationPolicy, orphanDependents, preconditions
 * {uid, resourceVersion}. Body values override query values (a body that sets either
 * propagationPolicy or orphanDependents replaces both). Non-JSON, non-object, wrong field
 * types, kind other than DeleteOptions -> 400. ValidateDeleteOptions -> 422
 * DeleteOptions.meta.k8s.io: both orphanDependents and propagationPolicy ("propagationPolicy:
 * Invalid value: \"Orphan\": orphanDependents and deletionPropagation cannot be both set"),
 * unsupported propagationPolicy, dryRun other than "All". Also checks the query-only case.
 * precond_uid / precond_rv receive malloc'ed strings or NULL (NULL on failure). */
int req_options_delete_body(const char *body, size_t len, req_options_t *o, char **precond_uid,
                            char **precond_rv, apierr_t *err);

/* Continue tokens: unpadded base64url of {"v":"meta.k8s.io/v1","rv":<rev>,"start":"<key suffix>\u0000"}.
 * encode appends the NUL; decode strips it, so *start_key is the last key suffix of the
 * previous page (an exclusive start). decode: 400 BadRequest "invalid continue token: ..."
 * for a malformed token; a token with rv < 0 ("latest", as the apiserver allows) gives *rev 0. */
char *continue_token_encode(int64_t rev, const char *start_key);
int continue_token_decode(const char *tok, int64_t *rev, char **start_key, apierr_t *err);

#endif
