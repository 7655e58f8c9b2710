/* fuzz_common: helpers shared by the libFuzzer targets (header-only: each target is one
 * translation unit linked against the module sources, see run.sh). */
#ifndef IAS_FUZZ_COMMON_H
#define IAS_FUZZ_COMMON_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/apierr.h"
#include "util/util.h"

/* Silences log_warn noise from the modules (once per process). */
static inline void fuzz_quiet(void)
{
    log_level = LOG_ERROR + 1;
}

/* NUL-terminated copy of data (embedded NULs end the C string early, as in the server). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* Splits [data, data+size) at the first occurrence of sep: *a gets the part before
 * (length *alen), *b the rest. Without sep, *b is empty. */
static inline void fuzz_split(const uint8_t *data, size_t size, const char *sep, const uint8_t **a,
                              size_t *alen, const uint8_t **b, size_t *blen)
{
    size_t sl = strlen(sep);
    *a = data;
    *alen = size;
    *b = data + size;
    *blen = 0;
    for (size_t i = 0; sl && i + sl <= size; i++) {
        if (!memcmp(data + i, sep, sl)) {
            *alen = i;
            *b = data + i + sl;
            *blen = size - i - sl;
            return;
        }
    }
}

static inline void fuzz_warn_sink(void *ctx, const char *msg)
{
    (void)msg;
    if (ctx)
        (*(int *)ctx)++;
}

#define FUZZ_CHECK(cond)                                                                       \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "fuzz check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);     \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

#endif
