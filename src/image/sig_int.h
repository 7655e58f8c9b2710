/* sig_int: reading the content of an image signature (docs/signatures.md).
 *
 * An atomic ("simple signing", type AtomicImageV1) signature is an OpenPGP signed
 * message whose literal data is the JSON payload
 *   {"critical":{"identity":{"docker-reference":R},"image":{"docker-manifest-digest":D},
 *                "type":"atomic container signature"},
 *    "optional":{"creator":C,"timestamp":T}}
 * Two layers: sig_gpg.c runs gpg (through gpgme) and reports what it saw in a
 * sig_report_t; sig_parse.c (pure) turns a report into the signature's fields and
 * conditions. Internal to image/. */
#ifndef IAS_IMAGE_SIG_INT_H
#define IAS_IMAGE_SIG_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/image.h"

/* Largest content read (real signatures are < 1 KiB); larger content is "not a signature". */
#define SIG_MAX_CONTENT (64 * 1024)
/* Largest signed payload gpg may hand back (a compressed message can expand a lot). */
#define SIG_MAX_PLAINTEXT (64 * 1024)
/* How long one gpg run may take. */
#define SIG_GPG_TIMEOUT_MS 10000

/* What reading the content gave. */
typedef enum {
    SIG_UNREAD,        /* the server could not run gpg / gpg timed out: nothing is known */
    SIG_NOT_SIGNED,    /* not an OpenPGP message signed by one key */
    SIG_SIGNED,        /* a signed message: key, time, plaintext below */
} sig_outcome_t;

/* What gpg said about the signature of a SIG_SIGNED content. */
typedef enum {
    SIGV_VERIFIED,       /* good signature by a key of --signature-keyring */
    SIGV_NO_KEYRING,     /* not checked: the server has no keyring */
    SIGV_UNKNOWN_KEY,    /* the signing key is not in the keyring */
    SIGV_BAD,            /* the signature does not match the signed content */
    SIGV_KEY_EXPIRED,
    SIGV_KEY_REVOKED,
    SIGV_SIG_EXPIRED,
    SIGV_ERROR,          /* any other failure; text in why */
} sig_verdict_t;

typedef struct sig_report {
    sig_outcome_t outcome;
    char *why;            /* UNREAD / NOT_SIGNED / SIGV_ERROR: the reason, else NULL */
    sig_verdict_t verdict;
    char *key_id;         /* hex as gpg reports it: fingerprint or 16-digit key id */
    char *signer;         /* user id of the key when it is in the keyring, else NULL */
    int64_t created;      /* signature creation (Unix seconds), 0 if unknown */
    char *plaintext;      /* the signed bytes (SIG_SIGNED), plain_len of them */
    size_t plain_len;
} sig_report_t;

void sig_report_free(sig_report_t *r);

/* ---- sig_parse.c (pure) ---- */
/* Cheap first look: binary OpenPGP packets of a signed message (compressed data,
 * one-pass signature, signature, literal data, marker) or ASCII armor. */
bool sig_openpgp_sniff(const unsigned char *p, size_t n);

typedef struct sig_payload {
    char *docker_reference;
    char *manifest_digest;
    char *creator;        /* NULL if absent */
    int64_t timestamp;    /* 0 if absent */
} sig_payload_t;

/* Parses the atomic payload strictly (unknown or duplicate keys in the critical part, a
 * wrong type string or missing fields are errors). 0, or -1 with *why malloc'd. */
int sig_payload_parse(const char *p, size_t n, sig_payload_t *out, char **why);
void sig_payload_free(sig_payload_t *p);

/* Removes the fields verifiers set: conditions, imageIdentity, signedClaims, created,
 * issuedBy, issuedTo (§2.3). */
void sig_clear_server_fields(json_t *sig);
/* Removes the server-derived fields (conditions, imageIdentity, signedClaims, created,
 * issuedBy, issuedTo) and sets them from the report: for a signed atomic payload the
 * fields plus a Trusted and a ForImage condition (signed digest == image_name); else the
 * Trusted/ForImage pair saying why nothing was read. Condition times are now. */
void sig_describe(json_t *sig, const sig_report_t *r, const char *image_name, const char *now);

/* Standard base64 as Go decodes []byte (padding required, CR and LF skipped). Malloc'd
 * bytes (NUL-terminated) and *n, or NULL. */
unsigned char *sig_b64_decode(const char *s, size_t *n);
char *sig_b64_encode(const unsigned char *p, size_t n);

/* ---- sig_gpg.c ---- */
/* Runs gpg on content (blocking, bounded by SIG_GPG_TIMEOUT_MS): never on an event loop.
 * v may be NULL (no gpg available): the report is then SIG_UNREAD. Always fills r. */
void sig_verify(const sig_verifier_t *v, const void *content, size_t n, sig_report_t *r);
/* Tests: gpg's private home; another gpg binary and timeout. */
const char *sig_verifier_home(const sig_verifier_t *v);
void sig_verifier_set_engine(sig_verifier_t *v, const char *gpg, int timeout_ms);

#endif
