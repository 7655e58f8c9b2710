/* selector: label and field selectors (k8s.io/apimachinery/pkg/labels and fields). */
#ifndef IAS_API_SELECTOR_H
#define IAS_API_SELECTOR_H

#include <jansson.h>
#include <stdbool.h>

#include "util/apierr.h"

typedef struct label_selector label_selector_t;

/* Grammar: k=v, k==v, k!=v, k in (a,b), k notin (a,b), k, !k, k>n, k<n; comma = AND;
 * whitespace tolerant. Empty/NULL string = match everything (a non-NULL empty selector).
 * Bad syntax or invalid key/value -> NULL with err 400 BadRequest carrying labels.Parse's
 * message ("unable to parse requirement: values[0][app]: Invalid value: ...",
 * "found 'y', expected: ',' or 'end of string'"). */
label_selector_t *label_selector_parse(const char *s, apierr_t *err);
void label_selector_free(label_selector_t *sel);
bool label_selector_empty(const label_selector_t *sel);
/* labels: the object's metadata.labels (object of strings) or NULL. */
bool label_selector_match(const label_selector_t *sel, const json_t *labels);

typedef struct field_selector field_selector_t;

/* Grammar: f=v, f==v, f!=v, comma = AND; backslash escapes (\\ \, \=). allowed: NULL-terminated
 * list of supported field labels ("metadata.name", ...); NULL = metadata.name and
 * metadata.namespace. Unsupported -> NULL with err 400 "field label not supported: <f>";
 * syntax errors -> 400 with fields.ParseSelector's message. Empty/NULL = match everything. */
field_selector_t *field_selector_parse(const char *s, const char *const *allowed, apierr_t *err);
void field_selector_free(field_selector_t *sel);
bool field_selector_empty(const field_selector_t *sel);
/* get(arg, field) returns the object's value for that field label ("" if absent). */
bool field_selector_match(const field_selector_t *sel, const char *(*get)(void *arg, const char *field),
                          void *arg);
/* If the selector pins metadata.name (= or ==), returns that name, else NULL. */
const char *field_selector_name(const field_selector_t *sel);

#endif
