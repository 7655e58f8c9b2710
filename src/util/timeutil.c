#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int64_t time_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t time_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct timespec time_deadline(int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

int64_t time_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void time_rfc3339(time_t t, char out[21])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void time_http_date(time_t t, char out[30])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 30, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

int time_parse_rfc3339(const char *s, time_t *t)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p)
        return -1;
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    long off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int hh, mm;
        if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2)
            return -1;
        off = (hh * 60 + mm) * 60L * (*p == '+' ? 1 : -1);
        p += 6;
    } else {
        return -1;
    }
    if (*p)
        return -1;
    *t = timegm(&tm) - off;
    return 0;
}

/* Mirrors k8s.io/apimachinery duration.HumanDuration as printed by `oc get is`. */
void time_human_duration(int64_t s, char *out, size_t n)
{
    if (s < 0)
        s = 0;
    if (s == 0)
        snprintf(out, n, "Less than a second");
    else if (s == 1)
        snprintf(out, n, "1 second");
    else if (s < 60)
        snprintf(out, n, "%lld seconds", (long long)s);
    else if (s < 120)
        snprintf(out, n, "About a minute");
    else if (s < 3600)
        snprintf(out, n, "%lld minutes", (long long)(s / 60));
    else if (s < 7200 - 30 * 60 + 3600 && (s + 1800) / 3600 == 1)
        snprintf(out, n, "About an hour");
    else if (s < 48 * 3600)
        snprintf(out, n, "%lld hours", (long long)((s + 1800) / 3600));
    else if (s < 14 * 86400)
        snprintf(out, n, "%lld days", (long long)(s / 86400));
    else if (s < 60 * 86400)
        snprintf(out, n, "%lld weeks", (long long)(s / (7 * 86400)));
    else if (s < 730 * 86400)
        snprintf(out, n, "%lld months", (long long)(s / (30 * 86400)));
    else
        snprintf(out, n, "%lld years", (long long)(s / (365 * 86400)));
}

int64_t time_parse_duration_ms(const char *s)
{
    static const struct {
        const char *unit;
        double ms;
    } units[] = {{"ns", 1e-6}, {"us", 1e-3}, {"µs", 1e-3}, {"ms", 1}, {"s", 1e3}, {"m", 60e3}, {"h", 3600e3}};
    if (!s || !*s)
        return -1;
    if (!strcmp(s, "0"))
        return 0;
    double total = 0;
    while (*s) {
        char *end;
        if (!((*s >= '0' && *s <= '9') || *s == '.'))
            return -1;
        double v = strtod(s, &end);
        if (end == s)
            return -1;
        s = end;
        size_t best = 0;
        double mul = 0;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
            size_t n = strlen(units[i].unit);
            /* longest match: "ms" before "m" */
            if (n > best && !strncmp(s, units[i].unit, n)) {
                best = n;
                mul = units[i].ms;
            }
        }
        if (!best)
            return -1;
        s += best;
        total += v * mul;
        if (total > 9e15)
            return -1;
    }
    return (int64_t)total;
}
