/* watch_fanout: opens W watch streams on one namespace's ImageStreams (epoll,
 * one reader thread), then creates N ImageStreams through a separate connection,
 * spaced by an interval. For every (watcher, event) delivery it records the time
 * from just before the write was sent until the reader parsed the event line,
 * and reports p50/p99/max over all deliveries.
 *
 *   watch_fanout -u http://127.0.0.1:8080[,URL...] [-N namespace] [-w watchers] [-n updates]
 *                [-i interval_ms] [-T wait_secs_after_last_write] [-S settle_secs]
 *
 * With several servers (replicas sharing one store) watch i goes to server
 * i mod n and every write to the first: deliveries on the other servers are
 * also reported apart (remote_*), as they cross the shared store.
 *
 * Events are matched by object name (<unique prefix><index>) so other traffic in
 * the namespace is ignored. The reader shares the machine with the server: on a
 * small box its own parsing cost is part of the figure. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem, strcasestr, pthread_tryjoin_np */
#endif
#include "bench_http.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

enum { WF_HEADERS, WF_CHUNK_SIZE, WF_CHUNK_DATA, WF_CHUNK_CRLF, WF_RAW, WF_DONE };

typedef struct wf_watcher {
    int fd;
    int state;
    int status;
    size_t chunk_left;
    char *in;          /* unparsed transport bytes */
    size_t in_len, in_cap;
    char *line;        /* de-chunked bytes of the current event line */
    size_t line_len, line_cap;
    int received;
    int remote;        /* on another server than the writes */
} wf_watcher_t;

static char wf_prefix[64];
static int wf_updates;
static _Atomic long long *wf_sent_ns;   /* send time per update, ns; 0 = not yet sent */
static double *wf_lat;                  /* all delivery latencies, seconds */
static int *wf_idx;                     /* the update each delivery belongs to */
static char *wf_remote;                 /* the delivery was to a watch on another server */
static size_t wf_nlat, wf_cap_lat;
static long wf_unmatched;               /* event lines naming no update of ours */

static int wf_grow(char **p, size_t *cap, size_t want)
{
    if (want <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 8192;
    while (ncap < want)
        ncap *= 2;
    char *np = realloc(*p, ncap);
    if (!np)
        return -1;
    *p = np;
    *cap = ncap;
    return 0;
}

/* One complete event line: find our object name, record the delivery. */
static void wf_event(wf_watcher_t *w, const char *line, size_t len, double now)
{
    char pat[96];
    /* the name as a JSON string value; the prefix is unique to this run */
    int pl = snprintf(pat, sizeof pat, "\"%s", wf_prefix);
    const char *p = memmem(line, len, pat, (size_t)pl);
    if (!p) {
        if (!memmem(line, len, "\"BOOKMARK\"", 10))
            wf_unmatched++;
        return;
    }
    long idx = strtol(p + pl, NULL, 10);
    if (idx < 0 || idx >= wf_updates)
        return;
    long long sent = atomic_load(&wf_sent_ns[idx]);
    if (sent == 0)
        return;
    if (wf_nlat == wf_cap_lat) {
        size_t ncap = wf_cap_lat ? wf_cap_lat * 2 : 65536;
        double *nl = realloc(wf_lat, ncap * sizeof *nl);
        if (!nl)
            return;
        wf_lat = nl;
        int *ni = realloc(wf_idx, ncap * sizeof *ni);
        if (!ni)
            return;
        wf_idx = ni;
        char *nr = realloc(wf_remote, ncap);
        if (!nr)
            return;
        wf_remote = nr;
        wf_cap_lat = ncap;
    }
    wf_idx[wf_nlat] = (int)idx;
    wf_remote[wf_nlat] = (char)w->remote;
    wf_lat[wf_nlat++] = now - (double)sent / 1e9;
    w->received++;
}

/* De-chunked payload bytes: split into newline-terminated event lines. */
static int wf_payload(wf_watcher_t *w, const char *p, size_t n, double now)
{
    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        size_t take = nl ? (size_t)(nl - p) : n;
        if (w->line_len + take > (64u << 20) || wf_grow(&w->line, &w->line_cap, w->line_len + take + 1) != 0)
            return -1;
        memcpy(w->line + w->line_len, p, take);
        w->line_len += take;
        p += take;
        n -= take;
        if (nl) {
            wf_event(w, w->line, w->line_len, now);
            w->line_len = 0;
            p++;
            n--;
        }
    }
    return 0;
}

/* Parses buffered transport bytes. Returns -1 when the stream is unusable. */
static int wf_parse(wf_watcher_t *w, double now)
{
    size_t off = 0;
    int rc = 0;
    if (!w->in)
        return 0;
    while (off < w->in_len && rc == 0) {
        char *b = w->in + off;
        size_t avail = w->in_len - off;
        if (w->state == WF_HEADERS) {
            char *e = memmem(b, avail, "\r\n\r\n", 4);
            if (!e)
                break;
            *e = '\0';
            if (sscanf(b, "HTTP/1.%*d %d", &w->status) != 1 || w->status != 200) {
                fprintf(stderr, "watch_fanout: watch answered: %.200s\n", b);
                return -1;
            }
            w->state = strcasestr(b, "transfer-encoding: chunked") ? WF_CHUNK_SIZE : WF_RAW;
            off += (size_t)(e - b) + 4;
        } else if (w->state == WF_CHUNK_SIZE) {
            size_t eol = 0;
            while (eol + 1 < avail && !(b[eol] == '\r' && b[eol + 1] == '\n'))
                eol++;
            if (eol + 1 >= avail)
                break;
            w->chunk_left = strtoul(b, NULL, 16);
            off += eol + 2;
            w->state = w->chunk_left ? WF_CHUNK_DATA : WF_DONE;
        } else if (w->state == WF_CHUNK_DATA) {
            size_t take = avail < w->chunk_left ? avail : w->chunk_left;
            rc = wf_payload(w, b, take, now);
            off += take;
            w->chunk_left -= take;
            if (w->chunk_left == 0)
                w->state = WF_CHUNK_CRLF;
        } else if (w->state == WF_CHUNK_CRLF) {
            if (avail < 2)
                break;
            off += 2;
            w->state = WF_CHUNK_SIZE;
        } else if (w->state == WF_RAW) {
            rc = wf_payload(w, b, avail, now);
            off += avail;
        } else {
            off = w->in_len; /* stream ended; ignore the rest */
        }
    }
    if (off > 0) {
        memmove(w->in, w->in + off, w->in_len - off);
        w->in_len -= off;
    }
    return rc;
}

static int wf_raise_nofile(int want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    if (rl.rlim_cur >= (rlim_t)want)
        return 0;
    if (rl.rlim_max < (rlim_t)want)
        rl.rlim_max = (rlim_t)want; /* works as root */
    rl.rlim_cur = (rlim_t)want;
    return setrlimit(RLIMIT_NOFILE, &rl);
}

/* Current resourceVersion of the collection, from a list with limit=1. */
static int wf_current_rv(bh_conn_t *c, const char *path, char *rv, size_t rvsz)
{
    char p[600];
    bh_resp_t r;
    snprintf(p, sizeof p, "%s?limit=1", path);
    if (bh_request(c, "GET", p, NULL, NULL, 0, &r) != 0) {
        fprintf(stderr, "watch_fanout: list failed: transport error\n");
        return -1;
    }
    int rc = -1;
    json_t *root = r.status == 200 ? json_loadb(r.body, r.len, 0, NULL) : NULL;
    const char *v = json_string_value(json_object_get(json_object_get(root, "metadata"), "resourceVersion"));
    if (v && *v) {
        snprintf(rv, rvsz, "%s", v);
        rc = 0;
    } else {
        fprintf(stderr, "watch_fanout: list answered %d: %.200s\n", r.status, r.body);
    }
    json_decref(root);
    free(r.body);
    return rc;
}

typedef struct wf_sender {
    bh_conn_t conn;
    const char *path;
    const char *ns;
    double interval;
    int ok, errors;
    double *wlat; /* write latency per update */
} wf_sender_t;

static void *wf_send(void *arg)
{
    wf_sender_t *s = arg;
    char body[1024];
    double start = bh_now();
    for (int i = 0; i < wf_updates; i++) {
        bh_sleep_until(start + i * s->interval);
        int n = snprintf(body, sizeof body,
                         "{\"apiVersion\":\"image.openshift.io/v1\",\"kind\":\"ImageStream\","
                         "\"metadata\":{\"name\":\"%s%d\",\"namespace\":\"%s\",\"labels\":{\"app\":\"fanout\"}},"
                         "\"spec\":{\"lookupPolicy\":{\"local\":false}}}",
                         wf_prefix, i, s->ns);
        double t0 = bh_now();
        atomic_store(&wf_sent_ns[i], (long long)(t0 * 1e9));
        bh_resp_t r;
        int rc = bh_request(&s->conn, "POST", s->path, "application/json", body, (size_t)n, &r);
        s->wlat[i] = bh_now() - t0;
        if (rc == 0 && r.status == 201) {
            s->ok++;
        } else {
            if (s->errors++ == 0)
                fprintf(stderr, "watch_fanout: write %d failed: %d %.200s\n", i, rc == 0 ? r.status : -1,
                        rc == 0 ? r.body : "transport error");
            atomic_store(&wf_sent_ns[i], 0); /* not a delivery to wait for */
        }
        free(r.body);
    }
    return NULL;
}

static void wf_usage(void)
{
    fprintf(stderr, "usage: watch_fanout -u http://127.0.0.1:PORT[,URL...] [-N namespace] [-w watchers] "
                    "[-n updates] [-i interval_ms] [-T wait_secs] [-S settle_secs]\n");
}

int main(int argc, char **argv)
{
    const char *url = NULL, *ns = "bench";
    int nw = 1000, interval_ms = 20, opt, rc = 1, sender_started = 0, ep = -1;
    double wait_secs = 10, settle_secs = 2, sender_done_at = 0;
    pthread_t tid;
    wf_sender_t s = { .conn = { .fd = -1 } };
    wf_watcher_t *ws = NULL;
    wf_updates = 200;
    while ((opt = getopt(argc, argv, "u:N:w:n:i:T:S:h")) != -1) {
        switch (opt) {
        case 'u': url = optarg; break;
        case 'N': ns = optarg; break;
        case 'w': nw = atoi(optarg); break;
        case 'n': wf_updates = atoi(optarg); break;
        case 'i': interval_ms = atoi(optarg); break;
        case 'T': wait_secs = atof(optarg); break;
        case 'S': settle_secs = atof(optarg); break;
        default: wf_usage(); return 2;
        }
    }
    bh_base_t base[BH_MAX_BASES];
    int nbase;
    if (!url || (nbase = bh_parse_bases(url, base, BH_MAX_BASES)) < 1 || nw < 1 || nw > 100000 ||
        wf_updates < 1 || wf_updates > 1000000 || interval_ms < 0) {
        wf_usage();
        return 2;
    }
    if (wf_raise_nofile(nw + 64) != 0) {
        perror("watch_fanout: cannot raise RLIMIT_NOFILE");
        return 1;
    }
    snprintf(wf_prefix, sizeof wf_prefix, "fan%ld-", (long)getpid());
    char path[512], rv[64], req[BH_MAX_BASES][1024];
    int rl[BH_MAX_BASES];
    snprintf(path, sizeof path, "/apis/image.openshift.io/v1/namespaces/%s/imagestreams", ns);

    s.path = path;
    s.ns = ns;
    s.interval = interval_ms / 1e3;
    snprintf(s.conn.host, sizeof s.conn.host, "%s", base[0].host);
    s.conn.port = base[0].port;
    ws = calloc((size_t)nw, sizeof *ws);
    wf_sent_ns = calloc((size_t)wf_updates, sizeof *wf_sent_ns);
    s.wlat = calloc((size_t)wf_updates, sizeof *s.wlat);
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (!ws || !wf_sent_ns || !s.wlat || ep < 0)
        goto out;
    for (int i = 0; i < nw; i++)
        ws[i].fd = -1;
    if (wf_current_rv(&s.conn, path, rv, sizeof rv) != 0)
        goto out;
    for (int b = 0; b < nbase; b++)
        rl[b] = snprintf(req[b], sizeof req[b],
                         "GET %s?watch=1&resourceVersion=%s HTTP/1.1\r\nHost: %s:%d\r\nAccept: application/json\r\n\r\n",
                         path, rv, base[b].host, base[b].port);

    /* Open all watches (blocking connect + send, then non-blocking reads). */
    double t_open = bh_now();
    for (int i = 0; i < nw; i++) {
        bh_conn_t c = { .fd = -1 };
        int b = i % nbase;
        if (bh_connect(&c, base[b].host, base[b].port) != 0 || bh_send_all(c.fd, req[b], (size_t)rl[b]) != 0) {
            fprintf(stderr, "watch_fanout: watcher %d: %s\n", i, strerror(errno));
            if (c.fd >= 0)
                close(c.fd);
            goto out;
        }
        fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) | O_NONBLOCK);
        ws[i].fd = c.fd;
        ws[i].remote = b != 0;
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &ws[i] };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev) != 0)
            goto out;
    }

    struct epoll_event evs[256];
    static char rbuf[65536];
    int established = 0, dead = 0;
    /* Writes start once every watch has its response headers, or after a settle
     * time: a server may hold the headers back until the first event. Events
     * after resourceVersion are delivered either way. */
    double t_opened = bh_now(), settle_deadline = t_opened + settle_secs;
    for (;;) {
        double now = bh_now();
        if (!sender_started && (established + dead == nw || now > settle_deadline)) {
            if (dead == nw) {
                fprintf(stderr, "watch_fanout: every watch failed\n");
                goto out;
            }
            if (pthread_create(&tid, NULL, wf_send, &s) != 0)
                goto out;
            sender_started = 1;
            printf("watch_fanout: %d watches opened in %.2f s at resourceVersion %s; %d had response "
                   "headers, %d failed before the first write\n",
                   nw, t_opened - t_open, rv, established, dead);
            fflush(stdout);
        }
        if (sender_started && !sender_done_at) {
            /* the sender thread ends after its last write; poll for that cheaply */
            if (pthread_tryjoin_np(tid, NULL) == 0)
                sender_done_at = bh_now();
        }
        if (sender_done_at) {
            if (wf_nlat >= (size_t)s.ok * (size_t)(nw - dead) || now > sender_done_at + wait_secs)
                break;
        }
        int n = epoll_wait(ep, evs, 256, 50);
        if (n < 0 && errno != EINTR)
            goto out;
        now = bh_now();
        for (int k = 0; k < n; k++) {
            wf_watcher_t *w = evs[k].data.ptr;
            if (w->fd < 0)
                continue;
            int was_headers = w->state == WF_HEADERS, bad = 0;
            for (;;) {
                ssize_t r = read(w->fd, rbuf, sizeof rbuf);
                if (r > 0) {
                    if (wf_grow(&w->in, &w->in_cap, w->in_len + (size_t)r) != 0) {
                        bad = 1;
                        break;
                    }
                    memcpy(w->in + w->in_len, rbuf, (size_t)r);
                    w->in_len += (size_t)r;
                    continue;
                }
                if (r < 0 && (errno == EAGAIN || errno == EINTR))
                    break;
                bad = 1; /* EOF or error: stream ended */
                break;
            }
            if (wf_parse(w, now) != 0)
                bad = 1;
            if (was_headers && w->state != WF_HEADERS)
                established++;
            if (bad || w->state == WF_DONE) {
                if (w->state == WF_HEADERS || w->received < wf_updates)
                    dead++;
                epoll_ctl(ep, EPOLL_CTL_DEL, w->fd, NULL);
                close(w->fd);
                w->fd = -1;
            }
        }
    }

    /* Delivery after the write was acknowledged: isolates the fan-out from the durable
     * write itself (an event may reach a watcher before the writer has its answer: 0). */
    double *after_ack = calloc(wf_nlat ? wf_nlat : 1, sizeof *after_ack);
    for (size_t i = 0; after_ack && i < wf_nlat; i++) {
        double d = wf_lat[i] - s.wlat[wf_idx[i]];
        after_ack[i] = d > 0 ? d : 0;
    }
    if (after_ack)
        bh_sort(after_ack, wf_nlat);
    double *remote = calloc(wf_nlat ? wf_nlat : 1, sizeof *remote);
    size_t nremote = 0;
    for (size_t i = 0; remote && i < wf_nlat; i++)
        if (wf_remote[i])
            remote[nremote++] = wf_lat[i];
    if (remote)
        bh_sort(remote, nremote);
    bh_sort(wf_lat, wf_nlat);
    bh_sort(s.wlat, (size_t)wf_updates);
    established = 0;
    for (int i = 0; i < nw; i++)
        established += ws[i].status == 200;
    size_t expected = (size_t)s.ok * (size_t)established;
    printf("watch_fanout watchers=%d established=%d closed_early=%d writes_ok=%d write_errors=%d "
           "deliveries=%zu expected=%zu unmatched_lines=%ld p50_ms=%.2f p99_ms=%.2f max_ms=%.2f "
           "write_p50_ms=%.2f write_p99_ms=%.2f after_ack_p50_ms=%.2f after_ack_p99_ms=%.2f",
           nw, established, dead, s.ok, s.errors, wf_nlat, expected, wf_unmatched,
           bh_pct(wf_lat, wf_nlat, 0.50) * 1e3, bh_pct(wf_lat, wf_nlat, 0.99) * 1e3,
           wf_nlat ? wf_lat[wf_nlat - 1] * 1e3 : 0, bh_pct(s.wlat, (size_t)wf_updates, 0.50) * 1e3,
           bh_pct(s.wlat, (size_t)wf_updates, 0.99) * 1e3,
           after_ack ? bh_pct(after_ack, wf_nlat, 0.50) * 1e3 : 0, after_ack ? bh_pct(after_ack, wf_nlat, 0.99) * 1e3 : 0);
    if (nbase > 1) /* on the same line: callers take the last line */
        printf(" servers=%d remote_deliveries=%zu remote_p50_ms=%.2f remote_p99_ms=%.2f remote_max_ms=%.2f",
               nbase, nremote, remote ? bh_pct(remote, nremote, 0.50) * 1e3 : 0,
               remote ? bh_pct(remote, nremote, 0.99) * 1e3 : 0, remote && nremote ? remote[nremote - 1] * 1e3 : 0);
    printf("\n");
    free(after_ack);
    free(remote);
    rc = wf_nlat == expected && expected > 0 ? 0 : 3;
out:
    if (sender_started && !sender_done_at)
        pthread_join(tid, NULL);
    for (int i = 0; ws && i < nw; i++) {
        if (ws[i].fd >= 0)
            close(ws[i].fd);
        free(ws[i].in);
        free(ws[i].line);
    }
    if (ep >= 0)
        close(ep);
    bh_close(&s.conn);
    free(ws);
    free(wf_sent_ns);
    free(s.wlat);
    free(wf_lat);
    free(wf_idx);
    free(wf_remote);
    return rc;
}
