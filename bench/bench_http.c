/* bench_http: blocking HTTP/1.1 keep-alive client for the load generators. */
#include "bench_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BH_MAX_HEADER (64 * 1024)
#define BH_MAX_BODY (512u * 1024 * 1024)

double bh_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void bh_sleep_until(double t)
{
    double d = t - bh_now();
    if (d <= 0)
        return;
    struct timespec ts = { .tv_sec = (time_t)d, .tv_nsec = (long)((d - (double)(time_t)d) * 1e9) };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void bh_sort(double *v, size_t n)
{
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_double);
}

double bh_pct(const double *sorted, size_t n, double q)
{
    if (n == 0)
        return 0;
    size_t i = (size_t)(q * (double)n);
    if (i >= n)
        i = n - 1;
    return sorted[i];
}

int bh_parse_base(const char *url, char *host, size_t hostsz, int *port)
{
    const char *p = url;
    if (strncmp(p, "http://", 7) == 0)
        p += 7;
    const char *colon = strchr(p, ':');
    if (!colon || (size_t)(colon - p) >= hostsz || colon == p)
        return -1;
    memcpy(host, p, (size_t)(colon - p));
    host[colon - p] = '\0';
    char *end;
    long v = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || v <= 0 || v > 65535 || (*end && *end != '/'))
        return -1;
    *port = (int)v;
    return 0;
}

int bh_parse_bases(const char *list, bh_base_t *out, int max)
{
    int n = 0;
    const char *p = list;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char one[256];
        if (n == max || len == 0 || len >= sizeof one)
            return -1;
        memcpy(one, p, len);
        one[len] = '\0';
        if (bh_parse_base(one, out[n].host, sizeof out[n].host, &out[n].port) != 0)
            return -1;
        n++;
        if (!comma)
            return n;
        p = comma + 1;
    }
}

int bh_connect(bh_conn_t *c, const char *host, int port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        errno = EINVAL;
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    if (c->host != host)
        snprintf(c->host, sizeof c->host, "%s", host);
    c->port = port;
    c->fd = fd;
    c->len = 0;
    return 0;
}

void bh_close(bh_conn_t *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->buf);
    c->buf = NULL;
    c->len = c->cap = 0;
}

int bh_send_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads more bytes into c->buf. Returns bytes read, 0 on EOF, -1 on error. */
static ssize_t fill(bh_conn_t *c)
{
    if (c->cap - c->len < 16384) {
        size_t ncap = c->cap ? c->cap * 2 : 65536;
        char *nb = realloc(c->buf, ncap + 1);
        if (!nb)
            return -1;
        c->buf = nb;
        c->cap = ncap;
    }
    for (;;) {
        ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n > 0)
            c->len += (size_t)n;
        return n;
    }
}

/* Ensures at least want bytes are buffered. Returns 0 or -1. */
static int need(bh_conn_t *c, size_t want)
{
    while (c->len < want)
        if (fill(c) <= 0)
            return -1;
    return 0;
}

static void consume(bh_conn_t *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

/* Finds CRLF at or after off; waits for more data as needed. Returns its index or -1. */
static long find_crlf(bh_conn_t *c, size_t off)
{
    for (;;) {
        for (size_t i = off; i + 1 < c->len; i++)
            if (c->buf[i] == '\r' && c->buf[i + 1] == '\n')
                return (long)i;
        if (c->len > BH_MAX_HEADER + off || fill(c) <= 0)
            return -1;
    }
}

static int append(char **body, size_t *len, size_t *cap, const char *p, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t ncap = *cap ? *cap : 4096;
        while (ncap < *len + n + 1)
            ncap *= 2;
        if (ncap > BH_MAX_BODY)
            return -1;
        char *nb = realloc(*body, ncap);
        if (!nb)
            return -1;
        *body = nb;
        *cap = ncap;
    }
    memcpy(*body + *len, p, n);
    *len += n;
    (*body)[*len] = '\0';
    return 0;
}

/* Reads one response off c. Sets *close_after when the server will close. */
static int read_response(bh_conn_t *c, bh_resp_t *r, int *close_after)
{
    char *body = NULL;
    size_t blen = 0, bcap = 0;
    long hdr_end = -1;
    for (;;) {
        for (size_t i = 0; c->len >= 4 && i <= c->len - 4; i++)
            if (memcmp(c->buf + i, "\r\n\r\n", 4) == 0) {
                hdr_end = (long)i;
                break;
            }
        if (hdr_end >= 0)
            break;
        if (c->len > BH_MAX_HEADER || fill(c) <= 0)
            return -1;
    }
    c->buf[hdr_end] = '\0';
    if (sscanf(c->buf, "HTTP/1.%*d %d", &r->status) != 1)
        return -1;
    long clen = -1;
    int chunked = 0;
    *close_after = 0;
    for (char *line = strstr(c->buf, "\r\n"); line && line < c->buf + hdr_end; line = strstr(line, "\r\n")) {
        line += 2;
        if (strncasecmp(line, "content-length:", 15) == 0)
            clen = strtol(line + 15, NULL, 10);
        else if (strncasecmp(line, "transfer-encoding:", 18) == 0 && strstr(line, "chunked"))
            chunked = 1;
        else if (strncasecmp(line, "connection:", 11) == 0 && strncasecmp(line + 11, " close", 6) == 0)
            *close_after = 1;
    }
    consume(c, (size_t)hdr_end + 4);
    if (chunked) {
        for (;;) {
            long eol = find_crlf(c, 0);
            if (eol < 0)
                goto fail;
            unsigned long n = strtoul(c->buf, NULL, 16);
            consume(c, (size_t)eol + 2);
            if (n == 0) { /* trailers end with an empty line */
                long t;
                while ((t = find_crlf(c, 0)) > 0)
                    consume(c, (size_t)t + 2);
                if (t < 0)
                    goto fail;
                consume(c, 2);
                break;
            }
            if (need(c, n + 2) != 0 || append(&body, &blen, &bcap, c->buf, n) != 0)
                goto fail;
            consume(c, n + 2);
        }
    } else if (clen >= 0) {
        if (need(c, (size_t)clen) != 0 || append(&body, &blen, &bcap, c->buf, (size_t)clen) != 0)
            goto fail;
        consume(c, (size_t)clen);
    } else { /* body until close */
        ssize_t n;
        while ((n = fill(c)) > 0)
            ;
        if (n < 0 || append(&body, &blen, &bcap, c->buf, c->len) != 0)
            goto fail;
        c->len = 0;
        *close_after = 1;
    }
    if (!body && append(&body, &blen, &bcap, "", 0) != 0)
        goto fail;
    r->body = body;
    r->len = blen;
    return 0;
fail:
    free(body);
    return -1;
}

int bh_request(bh_conn_t *c, const char *method, const char *path, const char *content_type,
               const char *body, size_t body_len, bh_resp_t *resp)
{
    char head[2048];
    memset(resp, 0, sizeof *resp);
    if (c->fd < 0 && bh_connect(c, c->host, c->port) != 0)
        return -1;
    int n;
    if (body)
        n = snprintf(head, sizeof head,
                     "%s %s HTTP/1.1\r\nHost: %s:%d\r\nAccept: application/json\r\n"
                     "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n",
                     method, path, c->host, c->port, content_type, body_len);
    else
        n = snprintf(head, sizeof head,
                     "%s %s HTTP/1.1\r\nHost: %s:%d\r\nAccept: application/json\r\n\r\n",
                     method, path, c->host, c->port);
    if (n < 0 || (size_t)n >= sizeof head)
        return -1;
    int close_after = 0;
    if (bh_send_all(c->fd, head, (size_t)n) != 0 || (body && bh_send_all(c->fd, body, body_len) != 0) ||
        read_response(c, resp, &close_after) != 0) {
        close(c->fd);
        c->fd = -1;
        c->len = 0;
        return -1;
    }
    if (close_after) {
        close(c->fd);
        c->fd = -1;
        c->len = 0;
    }
    return 0;
}

int bh_sample(bh_samples_t *s, double secs)
{
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 4096;
        double *nl = realloc(s->lat, ncap * sizeof *nl);
        if (!nl)
            return -1;
        s->lat = nl;
        s->cap = ncap;
    }
    s->lat[s->n++] = secs;
    return 0;
}

void bh_run_workers(void *workers, size_t size, int n, size_t tid_off, size_t samples_off,
                    void *(*fn)(void *), bh_outcome_t *out)
{
    char *base = workers;
    memset(out, 0, sizeof *out);
    double t0 = bh_now();
    for (; out->started < n; out->started++) {
        char *w = base + (size_t)out->started * size;
        if (pthread_create((pthread_t *)(void *)(w + tid_off), NULL, fn, w) != 0)
            break;
    }
    for (int i = 0; i < out->started; i++) {
        char *w = base + (size_t)i * size;
        pthread_join(*(pthread_t *)(void *)(w + tid_off), NULL);
        bh_samples_t *s = (bh_samples_t *)(void *)(w + samples_off);
        out->total += s->n;
        out->errors += s->errors;
    }
    out->secs = bh_now() - t0;
    out->sorted = malloc((out->total ? out->total : 1) * sizeof *out->sorted);
    size_t k = 0;
    for (int i = 0; i < out->started; i++) {
        bh_samples_t *s = (bh_samples_t *)(void *)(base + (size_t)i * size + samples_off);
        if (out->sorted && s->n)
            memcpy(out->sorted + k, s->lat, s->n * sizeof *s->lat);
        k += s->n;
        free(s->lat);
        s->lat = NULL;
    }
    if (out->sorted)
        bh_sort(out->sorted, out->total);
}
