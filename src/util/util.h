/* util: small shared pieces used by every module: growable buffers, logging,
 * time formatting, string helpers, random names. No dependency on other modules. */
#ifndef IAS_UTIL_H
#define IAS_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* ---- growable byte buffer (always NUL-terminated when data != NULL) ----
 * A buffer a peer fills gets a maximum (buf_init_max): an append that would take len past
 * it writes nothing, fails (-1) and sets the sticky overflow flag, after which every append
 * fails until buf_reset/buf_free. Without a maximum appends never fail (OOM aborts). */
typedef struct buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max;        /* largest len allowed; 0 = no limit */
    bool overflow;     /* an append was refused: the content is incomplete */
} buf_t;

void buf_init(buf_t *b);
void buf_init_max(buf_t *b, size_t max);
void buf_free(buf_t *b);                       /* keeps max, clears overflow */
void buf_reset(buf_t *b);                      /* len = 0, keeps memory and max, clears overflow */
int buf_reserve(buf_t *b, size_t extra);       /* aborts on OOM; -1 past max */
int buf_append(buf_t *b, const void *p, size_t n);
int buf_puts(buf_t *b, const char *s);
int buf_putc(buf_t *b, char c);
int buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(buf_t *b, const char *fmt, va_list ap);
/* Appends s as a JSON string literal, quotes included (all or nothing under a maximum). */
int buf_json_str(buf_t *b, const char *s, size_t n);
char *buf_steal(buf_t *b);                     /* returns data (caller frees), empties b (keeps max) */

/* ---- logging (stderr, one line each, thread-safe) ---- */
enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
extern int log_level;
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_debug(...) do { if (log_level <= LOG_DEBUG) log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

/* ---- time ---- */
int64_t time_now_ms(void);                     /* CLOCK_REALTIME in ms */
int64_t time_mono_ms(void);                    /* CLOCK_MONOTONIC in ms */
int64_t time_mono_us(void);
/* The CLOCK_REALTIME instant ms from now, as pthread_cond_timedwait wants it. */
struct timespec time_deadline(int64_t ms);
/* RFC 3339 UTC with whole seconds: 2020-01-02T03:04:05Z. out must hold 21 bytes. */
void time_rfc3339(time_t t, char out[21]);
/* Parses RFC 3339 (fractions and offsets accepted). Returns 0 and sets *t, or -1. */
int time_parse_rfc3339(const char *s, time_t *t);
/* Kubernetes "human duration" (e.g. "2 hours", "About a minute"). */
void time_human_duration(int64_t seconds, char *out, size_t outlen);
/* RFC 7231 date for HTTP headers. out must hold 30 bytes. */
void time_http_date(time_t t, char out[30]);
/* A Go duration ("15m", "1h30m", "90s", "500ms", "0") in ms; -1 if it does not parse or is
 * negative. Units ns, us, ms, s, m, h; fractions ("1.5h") too; below 1 ms rounds down. */
int64_t time_parse_duration_ms(const char *s);

/* ---- strings ---- */
char *xstrdup(const char *s);                  /* aborts on OOM; NULL -> NULL */
char *xstrndup(const char *s, size_t n);
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t sz);
void *xrealloc(void *p, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool str_has_prefix(const char *s, const char *prefix);
bool str_has_suffix(const char *s, const char *suffix);
/* Percent-decodes n bytes of s into a new string; plus_as_space for query strings.
 * Returns NULL on a malformed escape. */
/* Percent-decodes n bytes; NULL for a malformed escape or one that decodes to NUL (%00). */
char *url_decode(const char *s, size_t n, bool plus_as_space);
/* Go strconv.ParseBool: 1 t T TRUE true True / 0 f F FALSE false False. -1 if neither. */
int parse_bool(const char *s);

/* ---- encodings and hashes ---- */
char *base64url_encode(const void *p, size_t n);           /* unpadded */
void *base64url_decode(const char *s, size_t *outlen);     /* NULL on error; NUL-terminated */
void sha256_hex(const void *p, size_t n, char out[65]);
void sha512_hex_upper(const void *p, size_t n, char out[129]);
/* Random lowercase uuid v4 string, out must hold 37 bytes. */
void uuid_new(char out[37]);
/* n random chars from Kubernetes' generateName alphabet "bcdfghjklmnpqrstvwxz2456789". */
void random_suffix(char *out, size_t n);

#endif
