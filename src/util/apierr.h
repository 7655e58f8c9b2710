/* apierr: the one error type every module returns to the request path.
 * A request carries one apierr_t; the first failure fills it (apierr_set on an
 * already-set error is a no-op). api/ turns it into a Kubernetes Status. */
#ifndef IAS_APIERR_H
#define IAS_APIERR_H

#include <jansson.h>
#include <stdbool.h>

/* X(name, http code, Kubernetes reason) */
#define APIERR_KINDS(X)                                   \
    X(OK, 200, "")                                        \
    X(BAD_REQUEST, 400, "BadRequest")                     \
    X(UNAUTHORIZED, 401, "Unauthorized")                  \
    X(FORBIDDEN, 403, "Forbidden")                        \
    X(NOT_FOUND, 404, "NotFound")                         \
    X(METHOD_NOT_ALLOWED, 405, "MethodNotAllowed")        \
    X(NOT_ACCEPTABLE, 406, "NotAcceptable")               \
    X(ALREADY_EXISTS, 409, "AlreadyExists")               \
    X(CONFLICT, 409, "Conflict")                          \
    X(GONE, 410, "Gone")                                  \
    X(EXPIRED, 410, "Expired")                            \
    X(TOO_LARGE, 413, "RequestEntityTooLarge")            \
    X(UNSUPPORTED_MEDIA, 415, "UnsupportedMediaType")     \
    X(INVALID, 422, "Invalid")                            \
    X(TOO_MANY_REQUESTS, 429, "TooManyRequests")          \
    X(INTERNAL, 500, "InternalError")                     \
    X(SERVER_TIMEOUT, 500, "ServerTimeout")               \
    X(UNKNOWN, 500, "Unknown")                            \
    X(UNAVAILABLE, 503, "ServiceUnavailable")             \
    X(TIMEOUT, 504, "Timeout")

typedef enum {
#define APIERR_ENUM(n, c, r) APIERR_##n,
    APIERR_KINDS(APIERR_ENUM)
#undef APIERR_ENUM
} apierr_kind_t;

int apierr_http_code(apierr_kind_t k);
const char *apierr_reason(apierr_kind_t k);

typedef struct apierr {
    apierr_kind_t kind;  /* APIERR_OK when unset */
    char *message;       /* full human message */
    json_t *details;     /* NULL or the Status "details" object (owned) */
    int retry_after;     /* seconds, for 429/503; 0 = none */
} apierr_t;

#define APIERR_INIT {APIERR_OK, NULL, NULL, 0}

/* Fills err if not yet set. Returns -1 so callers can `return apierr_set(...)`. */
int apierr_set(apierr_t *err, apierr_kind_t kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, with a details object (stolen reference). */
int apierr_set_details(apierr_t *err, apierr_kind_t kind, json_t *details, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
bool apierr_is_set(const apierr_t *err);
void apierr_clear(apierr_t *err);

/* The Kubernetes Status (status "Failure") for err: kind, apiVersion, metadata, message, reason,
 * code, details (a copy) with retryAfterSeconds when retry_after is set. An unset err is an
 * InternalError. Invalid UTF-8 in the message (a %ff from a request path) becomes U+FFFD, as
 * Go's encoding/json does, so the Status is always encodable. New reference. */
json_t *apierr_status_json(const apierr_t *err);
/* The same Status as compact JSON: malloc'ed, NUL-terminated, never NULL; *len its length. */
char *apierr_status_body(const apierr_t *err, size_t *len);

/* Common messages, Kubernetes wording. resource is the plural ("imagestreams"),
 * group "image.openshift.io"; details carry {name, group, kind: resource}. */
int apierr_not_found(apierr_t *err, const char *resource, const char *group, const char *name);
int apierr_already_exists(apierr_t *err, const char *resource, const char *group, const char *name);
int apierr_conflict(apierr_t *err, const char *resource, const char *group, const char *name,
                    const char *why); /* why NULL -> "the object has been modified; please apply ..." */

/* ---- field errors (validation), rendered like k8s.io/apimachinery field.Error ---- */
typedef enum {
    FERR_REQUIRED,       /* "Required value" */
    FERR_INVALID,        /* "Invalid value: <v>" */
    FERR_NOT_SUPPORTED,  /* "Unsupported value: <v>: supported values: ..." */
    FERR_FORBIDDEN,      /* "Forbidden" */
    FERR_NOT_FOUND,      /* "Not found: <v>" */
    FERR_DUPLICATE,      /* "Duplicate value: <v>" */
    FERR_TOO_LONG,       /* "Too long: ..." */
    FERR_INTERNAL,       /* "Internal error" */
} ferr_type_t;

typedef struct ferr {
    ferr_type_t type;
    char *field;   /* "spec.tags[latest].from.name"; "" allowed */
    json_t *value; /* bad value or NULL (owned) */
    char *detail;  /* may be NULL */
} ferr_t;

typedef struct ferrs {
    ferr_t *items;
    size_t n, cap;
} ferrs_t;

#define FERRS_INIT {NULL, 0, 0}

/* value is stolen (may be NULL). detail is printf-style, may be NULL. */
void ferrs_add(ferrs_t *l, ferr_type_t type, const char *field, json_t *value, const char *detail_fmt, ...)
    __attribute__((format(printf, 5, 6)));
void ferrs_free(ferrs_t *l);
/* "spec.tags[0].name: Required value" etc. Caller frees. */
char *ferr_string(const ferr_t *e);
/* The cause message without the field: "Required value", "Invalid value: \"x\": detail". */
char *ferr_cause_message(const ferr_t *e);
const char *ferr_cause_reason(ferr_type_t t); /* "FieldValueRequired", ... */

/* Fills err with a 422 Invalid: message `<Kind> "<name>" is invalid: <e1>` or
 * `... is invalid: [e1, e2]`, details {name, group, kind: Kind, causes}. group may be "" (core).
 * kind_for_message is e.g. "ImageStream.image.openshift.io"; details_kind "ImageStream". */
int apierr_invalid(apierr_t *err, const char *kind_for_message, const char *details_kind,
                   const char *group, const char *name, const ferrs_t *l);

#endif
