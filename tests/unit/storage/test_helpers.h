/* Shared helpers for the storage unit tests: temp dirs under /tmp. */
#ifndef TEST_STORAGE_HELPERS_H
#define TEST_STORAGE_HELPERS_H

#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int th_rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(path);
}

static char *th_tmpdir(void)
{
    char *d = strdup("/tmp/ias-storage-test-XXXXXX");
    if (!d || !mkdtemp(d))
        abort();
    return d;
}

static void th_rmdir(char *d)
{
    if (d)
        nftw(d, th_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    free(d);
}

#endif
