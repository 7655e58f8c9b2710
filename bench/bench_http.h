/* bench_http: a minimal blocking HTTP/1.1 keep-alive client and latency
 * statistics for the load generators in bench/. Loopback only, no TLS.
 * Kept separate from src/ on purpose: the benchmarks must not share code paths
 * with the server they measure. */
#ifndef BENCH_HTTP_H
#define BENCH_HTTP_H

#include <stddef.h>

typedef struct bh_conn {
    int fd;                 /* -1 when not connected */
    char host[64];
    int port;
    char *buf;              /* bytes read but not yet consumed */
    size_t len, cap;
} bh_conn_t;

typedef struct bh_resp {
    int status;
    char *body;             /* malloc'ed, NUL-terminated; caller frees */
    size_t len;
} bh_resp_t;

/* Parses "http://host:port" (a trailing path is ignored). Returns 0 or -1. */
int bh_parse_base(const char *url, char *host, size_t hostsz, int *port);

/* Several servers (replicas of one API): "http://h:p,http://h:p,...". */
#define BH_MAX_BASES 16
typedef struct bh_base {
    char host[64];
    int port;
} bh_base_t;
/* Parses a comma-separated list into out[0..max). Returns the count (>= 1) or -1. */
int bh_parse_bases(const char *list, bh_base_t *out, int max);

/* Connects (TCP_NODELAY). Returns 0 or -1 with errno set. */
int bh_connect(bh_conn_t *c, const char *host, int port);
void bh_close(bh_conn_t *c);

/* Sends one request and reads the whole response (Content-Length or chunked).
 * Reconnects first if the previous response closed the connection.
 * content_type may be NULL when body is NULL. Returns 0, or -1 on a transport
 * error (the connection is then closed; the next call reconnects). */
int bh_request(bh_conn_t *c, const char *method, const char *path, const char *content_type,
               const char *body, size_t body_len, bh_resp_t *resp);

/* Raw send of a prepared request, for streaming readers. Returns 0 or -1. */
int bh_send_all(int fd, const char *data, size_t len);

/* Monotonic clock in seconds. */
double bh_now(void);
/* Sleeps until the monotonic time t (seconds, bh_now() scale). */
void bh_sleep_until(double t);

/* Sorts v ascending. */
void bh_sort(double *v, size_t n);
/* q-quantile (0..1, nearest rank) of an already sorted array; 0 if n == 0. */
double bh_pct(const double *sorted, size_t n, double q);

/* ---- the worker threads of a load generator ---- */
/* What one worker thread measured. */
typedef struct bh_samples {
    double *lat;          /* seconds per successful operation */
    size_t n, cap;
    long errors;
} bh_samples_t;
/* Appends one latency; -1 when out of memory (the worker should stop). */
int bh_sample(bh_samples_t *s, double secs);

/* All workers together. */
typedef struct bh_outcome {
    int started;          /* threads that ran */
    size_t total;         /* successful operations */
    long errors;
    double secs;          /* wall time from the first start to the last join */
    double *sorted;       /* every latency, ascending (free it); NULL if out of memory */
} bh_outcome_t;
/* Runs fn on n workers laid out `size` bytes apart from `workers`, each holding its
 * pthread_t at tid_off and its bh_samples_t at samples_off; joins them, merges and
 * sorts their samples and frees each worker's own array. */
void bh_run_workers(void *workers, size_t size, int n, size_t tid_off, size_t samples_off,
                    void *(*fn)(void *), bh_outcome_t *out);

#endif
