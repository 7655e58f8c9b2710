/* list_latency: times N sequential GETs of one path over one keep-alive
 * connection (a full LIST, or any GET) and reports p50/p99/max and body size.
 * With several servers it keeps one connection to each and takes them in turn.
 *
 *   list_latency -u http://127.0.0.1:8080[,URL...] -P /apis/.../imagestreams [-n 20] [-w warmup] */
#include "bench_http.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    const char *url = NULL, *path = NULL;
    int n = 20, warm = 2, opt;
    while ((opt = getopt(argc, argv, "u:P:n:w:h")) != -1) {
        switch (opt) {
        case 'u': url = optarg; break;
        case 'P': path = optarg; break;
        case 'n': n = atoi(optarg); break;
        case 'w': warm = atoi(optarg); break;
        default: goto usage;
        }
    }
    bh_base_t base[BH_MAX_BASES];
    bh_conn_t conns[BH_MAX_BASES];
    int nbase;
    if (!url || !path || n < 1 || warm < 0 || (nbase = bh_parse_bases(url, base, BH_MAX_BASES)) < 1)
        goto usage;
    for (int i = 0; i < nbase; i++) {
        conns[i] = (bh_conn_t){ .fd = -1, .port = base[i].port };
        memcpy(conns[i].host, base[i].host, sizeof conns[i].host); /* same size */
    }
    double *lat = calloc((size_t)n, sizeof *lat);
    if (!lat)
        return 1;
    size_t bytes = 0;
    int rc = 0;
    /* every server gets its warm-up lists */
    for (int i = -warm * nbase; i < n; i++) {
        bh_conn_t *c = &conns[(i + warm * nbase) % nbase];
        bh_resp_t r;
        double t0 = bh_now();
        if (bh_request(c, "GET", path, NULL, NULL, 0, &r) != 0) {
            fprintf(stderr, "list_latency: transport error\n");
            rc = 1;
            goto out;
        }
        double dt = bh_now() - t0;
        if (r.status != 200) {
            fprintf(stderr, "list_latency: status %d: %.200s\n", r.status, r.body);
            free(r.body);
            rc = 1;
            goto out;
        }
        bytes = r.len;
        free(r.body);
        if (i >= 0)
            lat[i] = dt;
    }
    bh_sort(lat, (size_t)n);
    printf("list_latency servers=%d n=%d bytes=%zu p50_ms=%.2f p99_ms=%.2f max_ms=%.2f path=%s\n", nbase, n, bytes,
           bh_pct(lat, (size_t)n, 0.5) * 1e3, bh_pct(lat, (size_t)n, 0.99) * 1e3, lat[n - 1] * 1e3, path);
out:
    for (int i = 0; i < nbase; i++)
        bh_close(&conns[i]);
    free(lat);
    return rc;
usage:
    fprintf(stderr, "usage: list_latency -u http://127.0.0.1:PORT[,URL...] -P PATH [-n count] [-w warmup]\n");
    return 2;
}
